//! Entry bundles and hash tiles as served by a log. The first three bytes pick the tile.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::tiles::{
    EntryBundle, Tile, decode_entry_bundle, decode_entry_bundle_for, encode_entry_bundle,
    hash_from_tile, tile_hashes,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_entry_bundle(data) {
        // Decoding is exact: encoding the entries gives back the bundle.
        assert_eq!(
            encode_entry_bundle(&entries).expect("decoded entries encode"),
            data
        );
    }
    let Some((header, body)) = data.split_first_chunk::<3>() else {
        return;
    };
    let width = u16::from(header[0]) + 1;
    let level = header[1] % 64;
    if let Ok(bundle) = EntryBundle::new(u64::from(header[2]), width)
        && let Ok(entries) = decode_entry_bundle_for(&bundle, body)
    {
        assert_eq!(entries.len(), usize::from(width));
    }
    if let Ok(tile) = Tile::new(level, u64::from(header[2]), width)
        && let Ok(hashes) = tile_hashes(&tile, body)
    {
        assert_eq!(hashes.len(), usize::from(width));
    }
    if let Ok(tile) = Tile::new(0, 0, width) {
        // Stored-hash indexes of level-0 tile 0 are 0..=510; go past both ends.
        for index in [0, 1, 2, 509, 510, 511, u64::MAX] {
            let _ = hash_from_tile(&tile, body, index);
        }
    }
});
