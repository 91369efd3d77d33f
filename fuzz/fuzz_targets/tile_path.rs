//! C2SP tlog-tiles paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::tiles::{TileRef, parse_path};

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tile) = parse_path(path) else {
        return;
    };
    // Only canonical paths parse, so the path of what was parsed is the input.
    assert_eq!(tile.path(), path);
    if let TileRef::Hashes(tile) = tile {
        tile.validate().expect("a parsed tile is valid");
        let _ = tile.data_len();
    }
});
