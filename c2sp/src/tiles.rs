//! C2SP `tlog-tiles`: tile coordinates and paths, which tiles a tree of a
//! given size consists of, hashes read out of tiles, tiles computed from
//! stored hashes, and entry bundles.
//!
//! Normative description: `spec/merkle-and-tiles.md`.
//!
//! Tiles have height 8: a tile at level `L` holds up to 256 consecutive
//! Merkle tree hashes at tree level `8·L`, each the hash of a complete
//! subtree of `256^L` leaves. Level 0 tiles hold leaf hashes. A full tile holds
//! 256 hashes (8192 bytes); the rightmost tiles of a tree are usually partial
//! (1 to 255 hashes).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::merkle::{
    HASH_SIZE, Hash, HashReadError, HashReader, TreeError, checked_stored_hash_index, node_hash,
    split_stored_hash_index,
};

/// Tree levels covered by one tile.
pub const TILE_HEIGHT: u8 = 8;

/// Hashes in a full tile, and entries in a full entry bundle.
pub const FULL_TILE_WIDTH: u16 = 256;

/// The highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;

/// The largest entry an entry bundle can hold (its length is a uint16).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Why a tile path, a tile or an entry bundle was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path is not a canonical C2SP tile or entry bundle path.
    #[error("malformed tile path {path:?}: {reason}")]
    MalformedPath {
        /// The path as given (truncated to 200 bytes).
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The tile level is above 63.
    #[error("tile level {level} is above the maximum {MAX_TILE_LEVEL}")]
    LevelTooHigh {
        /// The level given.
        level: u64,
    },
    /// The width is 0 or above 256.
    #[error("tile width {width} is not between 1 and 256")]
    InvalidWidth {
        /// The width given.
        width: u64,
    },
    /// Tile data is not `width × 32` bytes.
    #[error("tile {path} must be {expected} bytes, got {actual}")]
    WrongTileDataLength {
        /// The tile's path.
        path: String,
        /// The length its width requires.
        expected: usize,
        /// The length of the data given.
        actual: usize,
    },
    /// The tile does not contain (enough of) the subtree asked for.
    #[error("tile {path} does not hold stored hash {index}")]
    HashNotInTile {
        /// The tile's path.
        path: String,
        /// The stored hash index asked for.
        index: u64,
    },
    /// A tile coordinate that no tree of `u64` leaves has.
    #[error("tile level {level} index {index} lies beyond any tree of u64 size")]
    BeyondAnyTree {
        /// The tile level.
        level: u8,
        /// The tile index.
        index: u64,
    },
    /// An entry is longer than the 65535 bytes a bundle can hold.
    #[error(
        "entry {position} is {len} bytes, more than the {MAX_ENTRY_SIZE} an entry bundle can hold"
    )]
    EntryTooLarge {
        /// Its position in the bundle.
        position: usize,
        /// Its length.
        len: usize,
    },
    /// A bundle with no entries, or more than 256.
    #[error("an entry bundle holds 1 to 256 entries, got {count}")]
    WrongEntryCount {
        /// The number of entries found or given.
        count: usize,
    },
    /// The bundle ends inside a length prefix or inside an entry.
    #[error("entry bundle is truncated at byte {offset} (entry {position})")]
    TruncatedBundle {
        /// Where the bundle ended early.
        offset: usize,
        /// The entry being read.
        position: usize,
    },
    /// The bundle does not hold the number of entries its path says.
    #[error("entry bundle should hold {expected} entries, holds {actual}")]
    BundleWidthMismatch {
        /// The width from the bundle's path.
        expected: u16,
        /// The number of entries decoded.
        actual: usize,
    },
}

/// A Merkle tree hash tile, `tile/<level>/<index>[.p/<width>]`.
///
/// Valid tiles have `level <= 63` and `1 <= width <= 256`; build them with
/// [`Tile::new`] to have that checked. Width 256 is a full tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// The tile level: the tile holds hashes at tree level `8·level`.
    pub level: u8,
    /// The tile's index within its level.
    pub index: u64,
    /// How many hashes it holds, 1 to 256.
    pub width: u16,
}

/// An entry bundle, `tile/entries/<index>[.p/<width>]`: the entries whose
/// leaf hashes are in the level 0 tile with the same index and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundle {
    /// The bundle's index: it holds entries `256·index ..`.
    pub index: u64,
    /// How many entries it holds, 1 to 256.
    pub width: u16,
}

/// Anything a `tile/...` path can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileRef {
    /// A Merkle tree hash tile.
    Hashes(Tile),
    /// An entry bundle.
    Entries(EntryBundle),
}

fn check_width(width: u16) -> Result<(), TileError> {
    if width == 0 || width > FULL_TILE_WIDTH {
        return Err(TileError::InvalidWidth {
            width: u64::from(width),
        });
    }
    Ok(())
}

impl Tile {
    /// A tile, checking `level <= 63` and `1 <= width <= 256`.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, TileError> {
        let tile = Tile {
            level,
            index,
            width,
        };
        tile.validate()?;
        Ok(tile)
    }

    /// Checks `level <= 63` and `1 <= width <= 256`.
    pub fn validate(&self) -> Result<(), TileError> {
        if self.level > MAX_TILE_LEVEL {
            return Err(TileError::LevelTooHigh {
                level: u64::from(self.level),
            });
        }
        check_width(self.width)
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width == FULL_TILE_WIDTH
    }

    /// The C2SP path: `tile/<L>/<N>` for a full tile, `tile/<L>/<N>.p/<W>`
    /// for a partial one.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}",
            self.level,
            index_and_width_path(self.index, self.width)
        )
    }

    /// The length of this tile's data, `32 × width`.
    pub fn data_len(&self) -> usize {
        usize::from(self.width) * HASH_SIZE
    }

    /// The tree level of the hashes in the tile, `8·level`, if below 64.
    fn tree_level(&self) -> Option<u8> {
        let level = u32::from(self.level) * u32::from(TILE_HEIGHT);
        u8::try_from(level).ok().filter(|level| *level < 64)
    }

    /// The stored hash index of the `i`-th hash in this tile.
    fn stored_hash_index_of(&self, i: u64) -> Result<u64, TileError> {
        let beyond = TileError::BeyondAnyTree {
            level: self.level,
            index: self.index,
        };
        let tree_level = self.tree_level().ok_or(beyond.clone())?;
        let n = self
            .index
            .checked_mul(u64::from(FULL_TILE_WIDTH))
            .and_then(|start| start.checked_add(i))
            .ok_or(beyond.clone())?;
        checked_stored_hash_index(tree_level, n).ok_or(beyond)
    }
}

impl EntryBundle {
    /// An entry bundle, checking `1 <= width <= 256`.
    pub fn new(index: u64, width: u16) -> Result<Self, TileError> {
        check_width(width)?;
        Ok(EntryBundle { index, width })
    }

    /// Whether the bundle holds all 256 entries.
    pub fn is_full(&self) -> bool {
        self.width == FULL_TILE_WIDTH
    }

    /// The C2SP path: `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/entries/{}",
            index_and_width_path(self.index, self.width)
        )
    }

    /// The level 0 tile holding the leaf hashes of these entries.
    pub fn level0_tile(&self) -> Tile {
        Tile {
            level: 0,
            index: self.index,
            width: self.width,
        }
    }

    /// The index of the first entry in the bundle, if it fits in a `u64`.
    pub fn first_entry(&self) -> Option<u64> {
        self.index.checked_mul(u64::from(FULL_TILE_WIDTH))
    }

    /// The bundle that holds entry `index` in a tree of `tree_size` entries, at the width
    /// that size gives it; `None` if the entry is not in the tree.
    pub fn containing(index: u64, tree_size: u64) -> Option<EntryBundle> {
        if index >= tree_size {
            return None;
        }
        let bundle = index / u64::from(FULL_TILE_WIDTH);
        let start = bundle * u64::from(FULL_TILE_WIDTH);
        let width = (tree_size - start).min(u64::from(FULL_TILE_WIDTH)) as u16;
        Some(EntryBundle {
            index: bundle,
            width,
        })
    }
}

impl TileRef {
    /// Whether a tree of `tree_size` entries has this tile or bundle at this width: a full
    /// one once the tree holds all of it, a partial one once it holds at least `width` of it
    /// (the tiles a log serving that tree can serve, as they only ever grow).
    pub fn within(&self, tree_size: u64) -> bool {
        let (level, index, width) = match self {
            TileRef::Hashes(t) => (
                u32::from(t.level) * u32::from(TILE_HEIGHT),
                t.index,
                t.width,
            ),
            TileRef::Entries(b) => (0, b.index, b.width),
        };
        // The number of hashes the tree has at this tile's level.
        let hashes = tree_size.checked_shr(level).unwrap_or(0);
        u128::from(index) * u128::from(FULL_TILE_WIDTH) + u128::from(width) <= u128::from(hashes)
    }

    /// The C2SP path of the tile or bundle.
    pub fn path(&self) -> String {
        match self {
            TileRef::Hashes(tile) => tile.path(),
            TileRef::Entries(bundle) => bundle.path(),
        }
    }
}

/// Encodes a tile index as C2SP path elements: zero-padded 3-digit groups,
/// every group but the last prefixed with `x` (`1234067` → `x001/x234/067`).
pub fn encode_tile_index(index: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = index;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut path = String::new();
    for (position, group) in groups.iter().rev().enumerate() {
        if position + 1 < groups.len() {
            path.push_str(&format!("x{group:03}/"));
        } else {
            path.push_str(&format!("{group:03}"));
        }
    }
    path
}

fn index_and_width_path(index: u64, width: u16) -> String {
    let index = encode_tile_index(index);
    if width == FULL_TILE_WIDTH {
        index
    } else {
        format!("{index}.p/{width}")
    }
}

fn malformed(path: &str, reason: &'static str) -> TileError {
    let mut shown = path.to_owned();
    if shown.len() > 200 {
        let mut cut = 200;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
    }
    TileError::MalformedPath {
        path: shown,
        reason,
    }
}

/// Parses a canonical decimal number: ASCII digits only, no sign, no leading
/// zeros (except "0" itself), no overflow.
fn parse_canonical_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

fn parse_three_digits(text: &str) -> Option<u64> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Parses a C2SP tile path, `tile/<L>/<N>[.p/<W>]` or
/// `tile/entries/<N>[.p/<W>]` (no leading slash, no URL prefix).
///
/// Only canonical paths are accepted: `L` from 0 to 63 and `W` from 1 to 255,
/// both without leading zeros; `N` in 3-digit groups, all but the last
/// prefixed with `x`, no leading `x000` group, no overflow.
pub fn parse_path(path: &str) -> Result<TileRef, TileError> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 3 || parts[0] != "tile" {
        return Err(malformed(
            path,
            "must start with tile/<L>/ or tile/entries/",
        ));
    }
    // A partial tile ends in `<last group>.p/<W>`.
    let mut width = FULL_TILE_WIDTH;
    if let Some(last_group) = parts[parts.len() - 2].strip_suffix(".p") {
        let width_text = parts[parts.len() - 1];
        let parsed = parse_canonical_decimal(width_text)
            .ok_or_else(|| malformed(path, "partial width must be a canonical decimal"))?;
        if parsed == 0 || parsed >= u64::from(FULL_TILE_WIDTH) {
            return Err(TileError::InvalidWidth { width: parsed });
        }
        width = parsed as u16;
        parts.pop();
        let last = parts.len() - 1;
        parts[last] = last_group;
    }
    let (kind, groups) = (parts[1], &parts[2..]);
    if groups.is_empty() {
        return Err(malformed(path, "missing tile index"));
    }
    let index = parse_index_groups(path, groups)?;
    if kind == "entries" {
        return Ok(TileRef::Entries(EntryBundle { index, width }));
    }
    let level = parse_canonical_decimal(kind)
        .ok_or_else(|| malformed(path, "level must be \"entries\" or a canonical decimal"))?;
    if level > u64::from(MAX_TILE_LEVEL) {
        return Err(TileError::LevelTooHigh { level });
    }
    Ok(TileRef::Hashes(Tile {
        level: level as u8,
        index,
        width,
    }))
}

fn parse_index_groups(path: &str, groups: &[&str]) -> Result<u64, TileError> {
    let mut index: u64 = 0;
    for (position, group) in groups.iter().enumerate() {
        let is_last = position + 1 == groups.len();
        let digits = if is_last {
            *group
        } else {
            group
                .strip_prefix('x')
                .ok_or_else(|| malformed(path, "index groups before the last must start with x"))?
        };
        let value = parse_three_digits(digits)
            .ok_or_else(|| malformed(path, "index groups must be exactly 3 digits"))?;
        if position == 0 && value == 0 && !is_last {
            return Err(malformed(path, "index has a leading x000 group"));
        }
        index = index
            .checked_mul(1000)
            .and_then(|shifted| shifted.checked_add(value))
            .ok_or_else(|| malformed(path, "index does not fit in 64 bits"))?;
    }
    Ok(index)
}

// ---------------------------------------------------------------------------
// Which tiles a tree consists of.
// ---------------------------------------------------------------------------

/// Iterator over the tiles that are new or grew when a tree grows from
/// `old_size` to `new_size` leaves; see [`changed_tiles`].
#[derive(Debug, Clone)]
pub struct ChangedTiles {
    old_size: u64,
    new_size: u64,
    level: u8,
    /// The next tile index to yield at `level`.
    next_index: u64,
    /// One past the last tile index at `level`.
    end_index: u64,
    /// Number of hashes at `level`'s tree level in the new tree.
    hashes_at_level: u64,
    finished: bool,
}

impl ChangedTiles {
    /// Positions the iterator at the first changed tile of `level`; finishes
    /// if that level (and so every higher one) is unchanged.
    fn enter_level(&mut self, level: u8) {
        self.level = level;
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let (Some(new_hashes), Some(old_hashes)) = (
            self.new_size.checked_shr(shift),
            self.old_size.checked_shr(shift),
        ) else {
            self.finished = true;
            return;
        };
        if new_hashes <= old_hashes {
            self.finished = true;
            return;
        }
        let width = u64::from(FULL_TILE_WIDTH);
        self.hashes_at_level = new_hashes;
        self.next_index = old_hashes / width;
        self.end_index = new_hashes.div_ceil(width);
    }
}

impl Iterator for ChangedTiles {
    type Item = Tile;

    fn next(&mut self) -> Option<Tile> {
        loop {
            if self.finished {
                return None;
            }
            if self.next_index < self.end_index {
                break;
            }
            match self.level.checked_add(1) {
                Some(level) => self.enter_level(level),
                None => self.finished = true,
            }
        }
        let width = u64::from(FULL_TILE_WIDTH);
        let index = self.next_index;
        self.next_index += 1;
        // index < end_index = ceil(hashes / 256), so this does not underflow.
        let remaining = self.hashes_at_level - index * width;
        Some(Tile {
            level: self.level,
            index,
            width: remaining.min(width) as u16,
        })
    }
}

/// The tiles that are new or grew when a tree grows from `old_size` to
/// `new_size` leaves, lowest level first, each with its width at `new_size`.
/// With `old_size == 0` these are all the tiles of the tree. Empty when
/// `new_size <= old_size`.
///
/// A lazy iterator: growing by `k` leaves touches about `k / 256` tiles.
pub fn changed_tiles(old_size: u64, new_size: u64) -> ChangedTiles {
    let mut tiles = ChangedTiles {
        old_size,
        new_size,
        level: 0,
        next_index: 0,
        end_index: 0,
        hashes_at_level: 0,
        finished: false,
    };
    tiles.enter_level(0);
    tiles
}

/// [`changed_tiles`] collected into a vector. Only for sizes that are known
/// to be close together or small: the vector has about
/// `(new_size - old_size) / 256` tiles.
pub fn tiles_for_size(old_size: u64, new_size: u64) -> Vec<Tile> {
    changed_tiles(old_size, new_size).collect()
}

/// The entry bundles that are new or grew when a tree grows from `old_size`
/// to `new_size` leaves, each with its width at `new_size`.
pub fn entry_bundles_for_size(old_size: u64, new_size: u64) -> impl Iterator<Item = EntryBundle> {
    changed_tiles(old_size, new_size)
        .take_while(|tile| tile.level == 0)
        .map(|tile| EntryBundle {
            index: tile.index,
            width: tile.width,
        })
}

// ---------------------------------------------------------------------------
// Hashes in tiles.
// ---------------------------------------------------------------------------

/// The smallest tile from which the stored hash at `index` can be computed:
/// the tile at level `level / 8` whose width just reaches the subtree's last
/// hash at the tile's tree level.
pub fn tile_for_stored_hash_index(index: u64) -> Tile {
    let (level, n) = split_stored_hash_index(index);
    let tile_level = level / TILE_HEIGHT;
    let level_in_tile = level % TILE_HEIGHT;
    // The subtree covers hashes [first, end) at the tile's tree level. Every
    // stored hash index belongs to a tree of fewer than 2^64 leaves, so `end`
    // is at most 2^64 and the tile index fits in a u64.
    let first = u128::from(n) << level_in_tile;
    let end = (u128::from(n) + 1) << level_in_tile;
    let width = u128::from(FULL_TILE_WIDTH);
    let tile_index = first / width;
    Tile {
        level: tile_level,
        index: tile_index as u64,
        width: (end - tile_index * width) as u16,
    }
}

fn check_tile_data(tile: &Tile, data: &[u8]) -> Result<(), TileError> {
    tile.validate()?;
    if data.len() != tile.data_len() {
        return Err(TileError::WrongTileDataLength {
            path: tile.path(),
            expected: tile.data_len(),
            actual: data.len(),
        });
    }
    Ok(())
}

/// The hashes in tile data, after checking its length against the tile's
/// width.
pub fn tile_hashes(tile: &Tile, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    check_tile_data(tile, data)?;
    Ok(data
        .chunks_exact(HASH_SIZE)
        .map(|chunk| {
            let mut hash = [0u8; HASH_SIZE];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// The hash of a complete subtree whose bottom hashes are `hashes` (a power
/// of two of them).
fn complete_subtree_hash(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level
        .first()
        .copied()
        .unwrap_or_else(crate::merkle::empty_root)
}

/// Computes the stored hash at `index` from the data of `tile`, which must
/// contain the whole subtree (see [`tile_for_stored_hash_index`]; a wider
/// tile of the same level and index works too).
pub fn hash_from_tile(tile: &Tile, data: &[u8], index: u64) -> Result<Hash, TileError> {
    let hashes = tile_hashes(tile, data)?;
    let not_in_tile = || TileError::HashNotInTile {
        path: tile.path(),
        index,
    };
    let (level, n) = split_stored_hash_index(index);
    if level / TILE_HEIGHT != tile.level {
        return Err(not_in_tile());
    }
    let level_in_tile = level % TILE_HEIGHT;
    let first = u128::from(n) << level_in_tile;
    let end = (u128::from(n) + 1) << level_in_tile;
    let tile_start = u128::from(tile.index) * u128::from(FULL_TILE_WIDTH);
    let tile_end = tile_start + u128::from(tile.width);
    if first < tile_start || end > tile_end {
        return Err(not_in_tile());
    }
    let from = (first - tile_start) as usize;
    let to = (end - tile_start) as usize;
    Ok(complete_subtree_hash(&hashes[from..to]))
}

/// Computes the data of `tile` (its hashes concatenated) from stored hashes.
pub fn tile_data_from_hashes(tile: &Tile, reader: &impl HashReader) -> Result<Vec<u8>, TreeError> {
    tile.validate().map_err(backend)?;
    let width = u64::from(tile.width);
    // Stored hash indexes grow with `n` at a fixed level, so checking the tile's last index
    // checks every index of the tile; the others are then computed without overflow checks.
    tile.stored_hash_index_of(width - 1).map_err(backend)?;
    let beyond = || {
        backend(TileError::BeyondAnyTree {
            level: tile.level,
            index: tile.index,
        })
    };
    let level = tile.tree_level().ok_or_else(beyond)?;
    let start = tile
        .index
        .checked_mul(u64::from(FULL_TILE_WIDTH))
        .ok_or_else(beyond)?;
    let indexes: Vec<u64> = (start..start + width)
        .map(|n| stored_hash_index_in_range(level, n))
        .collect();
    let hashes = reader.read_hashes(&indexes)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::WrongHashCount {
            requested: indexes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes.as_flattened().to_vec())
}

/// [`crate::merkle::stored_hash_index`] without overflow checks, for a `(level, n)` whose
/// index is known to fit in a `u64` (for instance because a larger `n` at the same level
/// fits): `stored_hash_count((n+1)·2^level - 1) + level`.
fn stored_hash_index_in_range(level: u8, n: u64) -> u64 {
    let last_leaf = ((n + 1) << level) - 1;
    let index = 2 * last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level);
    debug_assert_eq!(Some(index), checked_stored_hash_index(level, n));
    index
}

fn backend(error: TileError) -> HashReadError {
    HashReadError::Backend(Box::new(error))
}

/// A [`HashReader`] over the tiles of a tree of a known size, fetched by a
/// closure (from disk, a database, HTTP, ...).
///
/// Every hash is read from the tile that the tree of `tree_size` leaves has at
/// that position (full, or partial with the width that size gives it), so
/// only tiles that a log serving that checkpoint must serve are fetched; each
/// tile is fetched at most once per [`HashReader::read_hashes`] call.
///
/// This reader does **not** authenticate tiles. Verify what is computed from
/// them: compare [`crate::merkle::tree_hash`] with the checkpoint's root, or
/// verify the proofs computed through it against a verified checkpoint.
pub struct TileHashReader<F> {
    tree_size: u64,
    fetch_tile: F,
}

impl<F> TileHashReader<F>
where
    F: Fn(&Tile) -> Result<Vec<u8>, HashReadError>,
{
    /// A reader for the tree of `tree_size` leaves, fetching tile data with
    /// `fetch_tile`.
    pub fn new(tree_size: u64, fetch_tile: F) -> Self {
        TileHashReader {
            tree_size,
            fetch_tile,
        }
    }

    /// The tile, at the width the tree has, that holds stored hash `index`;
    /// an error if the tree of this size has no such complete subtree.
    fn tile_at_tree_size(&self, index: u64) -> Result<Tile, HashReadError> {
        let (level, n) = split_stored_hash_index(index);
        // The subtree must be complete within the tree.
        let subtree_end = (u128::from(n) + 1) << level;
        if subtree_end > u128::from(self.tree_size) {
            return Err(HashReadError::NotFound { index });
        }
        let mut tile = tile_for_stored_hash_index(index);
        let shift = u32::from(tile.level) * u32::from(TILE_HEIGHT);
        let hashes_at_level = u128::from(self.tree_size.checked_shr(shift).unwrap_or(0));
        let tile_start = u128::from(tile.index) * u128::from(FULL_TILE_WIDTH);
        let available = hashes_at_level.saturating_sub(tile_start);
        tile.width = available.min(u128::from(FULL_TILE_WIDTH)) as u16;
        Ok(tile)
    }
}

impl<F> HashReader for TileHashReader<F>
where
    F: Fn(&Tile) -> Result<Vec<u8>, HashReadError>,
{
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReadError> {
        let mut fetched: HashMap<Tile, Vec<u8>> = HashMap::new();
        let mut hashes = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let tile = self.tile_at_tree_size(index)?;
            let data = match fetched.entry(tile) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry.insert((self.fetch_tile)(&tile)?),
            };
            hashes.push(hash_from_tile(&tile, data, index).map_err(|error| {
                HashReadError::Corrupt {
                    reason: error.to_string(),
                }
            })?);
        }
        Ok(hashes)
    }
}

// ---------------------------------------------------------------------------
// Entry bundles.
// ---------------------------------------------------------------------------

/// Encodes an entry bundle: each entry as a big-endian uint16 length followed
/// by its bytes. A bundle holds 1 to 256 entries of at most 65535 bytes.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() || entries.len() > usize::from(FULL_TILE_WIDTH) {
        return Err(TileError::WrongEntryCount {
            count: entries.len(),
        });
    }
    let total: usize = entries.iter().map(|entry| 2 + entry.as_ref().len()).sum();
    let mut bundle = Vec::with_capacity(total);
    for (position, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge {
            position,
            len: entry.len(),
        })?;
        bundle.extend_from_slice(&len.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// Decodes an entry bundle into its entries (borrowed from `data`).
///
/// Rejects an empty bundle, a bundle cut inside a length prefix or an entry,
/// and a bundle of more than 256 entries.
pub fn decode_entry_bundle(data: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let position = entries.len();
        if position >= usize::from(FULL_TILE_WIDTH) {
            return Err(TileError::WrongEntryCount {
                count: position + 1,
            });
        }
        let truncated = TileError::TruncatedBundle { offset, position };
        let prefix = data.get(offset..offset + 2).ok_or(truncated.clone())?;
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let start = offset + 2;
        let entry = data.get(start..start + len).ok_or(truncated)?;
        entries.push(entry);
        offset = start + len;
    }
    if entries.is_empty() {
        return Err(TileError::WrongEntryCount { count: 0 });
    }
    Ok(entries)
}

/// Decodes the data of `bundle`, checking it holds exactly `bundle.width`
/// entries.
pub fn decode_entry_bundle_for<'a>(
    bundle: &EntryBundle,
    data: &'a [u8],
) -> Result<Vec<&'a [u8]>, TileError> {
    check_width(bundle.width)?;
    let entries = decode_entry_bundle(data)?;
    if entries.len() != usize::from(bundle.width) {
        return Err(TileError::BundleWidthMismatch {
            expected: bundle.width,
            actual: entries.len(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{
        MemoryTree, prove_consistency, prove_inclusion, stored_hash_count, tree_hash,
        verify_consistency, verify_inclusion,
    };

    fn tile(level: u8, index: u64, width: u16) -> Tile {
        Tile::new(level, index, width).unwrap()
    }

    #[test]
    fn paths_are_c2sp_paths() {
        assert_eq!(tile(0, 0, 256).path(), "tile/0/000");
        assert_eq!(tile(1, 1234067, 256).path(), "tile/1/x001/x234/067");
        assert_eq!(tile(2, 1000, 7).path(), "tile/2/x001/000.p/7");
        assert_eq!(
            EntryBundle::new(5, 255).unwrap().path(),
            "tile/entries/005.p/255"
        );
        assert_eq!(EntryBundle::new(5, 256).unwrap().path(), "tile/entries/005");
        assert_eq!(
            encode_tile_index(u64::MAX),
            "x018/x446/x744/x073/x709/x551/615"
        );
    }

    #[test]
    fn parse_round_trips() {
        for index in [0, 1, 999, 1000, 1234067, u64::MAX] {
            for width in [1, 44, 255, 256] {
                for level in [0, 7, 63] {
                    let t = tile(level, index, width);
                    assert_eq!(parse_path(&t.path()).unwrap(), TileRef::Hashes(t));
                }
                let bundle = EntryBundle::new(index, width).unwrap();
                assert_eq!(
                    parse_path(&bundle.path()).unwrap(),
                    TileRef::Entries(bundle)
                );
            }
        }
    }

    #[test]
    fn parse_rejects_malformed_paths() {
        let bad = [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "/tile/0/000",
            "tiles/0/000",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/1",
            "tile/0/abc",
            "tile/0/+01",
            "tile/0/-01",
            "tile/0/000/",
            "tile/0//000",
            "tile/0/x000/001",
            "tile/0/x001",
            "tile/0/001/002",
            "tile/0/y001/002",
            "tile/0/X001/002",
            "tile/0/x1/002",
            "tile/0/x019/x446/x744/x073/x709/x551/615",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x001/x001/x001/x001/x001/x001/001",
            "tile/00/000",
            "tile/01/000",
            "tile/64/000",
            "tile/255/000",
            "tile/99999999999999999999999/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/ 1/000",
            "tile/Entries/000",
            "tile/entry/000",
            "tile/0/000.p",
            "tile/0/000.p/",
            "tile/0/000.p/0",
            "tile/0/000.p/00",
            "tile/0/000.p/05",
            "tile/0/000.p/256",
            "tile/0/000.p/1000",
            "tile/0/000.p/+5",
            "tile/0/000.p/5/6",
            "tile/0/000.p/5/",
            "tile/0/000.q/5",
            "tile/0/000.P/5",
            "tile/0/x001.p/5",
            "tile/0/x001.p/5/000",
            "tile/0.p/5",
            "tile/entries.p/5",
            "tile/entries/000.p/0",
            "tile/entries/000.p/256",
            "tile/entries/00",
            "tile/entries",
            "tile/entries/",
            "tile/0/\u{0660}\u{0661}\u{0662}",
            "tile/0/٠٠٠",
        ];
        for path in bad {
            assert!(parse_path(path).is_err(), "{path:?} was accepted");
        }
        assert!(matches!(
            parse_path("tile/64/000"),
            Err(TileError::LevelTooHigh { level: 64 })
        ));
        assert!(matches!(
            parse_path("tile/0/000.p/256"),
            Err(TileError::InvalidWidth { width: 256 })
        ));
        let long = format!("tile/0/{}", "x001/".repeat(10_000));
        assert!(parse_path(&long).is_err());
    }

    #[test]
    fn tile_constructor_checks_bounds() {
        assert!(Tile::new(64, 0, 1).is_err());
        assert!(Tile::new(0, 0, 0).is_err());
        assert!(Tile::new(0, 0, 257).is_err());
        assert!(EntryBundle::new(0, 0).is_err());
        assert!(EntryBundle::new(0, 300).is_err());
    }

    fn paths(tiles: impl IntoIterator<Item = Tile>) -> Vec<String> {
        tiles.into_iter().map(|t| t.path()).collect()
    }

    #[test]
    fn tiles_for_sizes_match_the_spec_prose() {
        assert_eq!(
            paths(tiles_for_size(0, 256)),
            ["tile/0/000", "tile/1/000.p/1"]
        );
        assert_eq!(
            paths(tiles_for_size(0, 300)),
            ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]
        );
        let tiles = tiles_for_size(0, 70_000);
        assert_eq!(
            tiles.iter().filter(|t| t.level == 0 && t.is_full()).count(),
            273
        );
        assert_eq!(
            paths(tiles.into_iter().filter(|t| t.level > 0 || !t.is_full())),
            [
                "tile/0/273.p/112",
                "tile/1/000",
                "tile/1/001.p/17",
                "tile/2/000.p/1"
            ]
        );
        assert!(tiles_for_size(0, 0).is_empty());
        assert!(tiles_for_size(5, 5).is_empty());
        assert!(tiles_for_size(6, 5).is_empty());
        assert_eq!(paths(tiles_for_size(300, 301)), ["tile/0/001.p/45"]);
        assert_eq!(
            paths(tiles_for_size(511, 512)),
            ["tile/0/001", "tile/1/000.p/2"]
        );
        let bundles: Vec<String> = entry_bundles_for_size(200, 600).map(|b| b.path()).collect();
        assert_eq!(
            bundles,
            [
                "tile/entries/000",
                "tile/entries/001",
                "tile/entries/002.p/88"
            ]
        );
    }

    #[test]
    fn changed_tiles_handles_huge_sizes_lazily() {
        let top: Vec<Tile> = changed_tiles(u64::MAX - 1, u64::MAX).collect();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].width, 255);
        let mut all = changed_tiles(0, u64::MAX);
        assert_eq!(all.next(), Some(tile(0, 0, 256)));
        // Crossing 2^56 completes one tile at every level and opens level 7.
        let crossing: Vec<Tile> = changed_tiles((1 << 56) - 1, 1 << 56).collect();
        assert_eq!(crossing.len(), 8);
        for (level, t) in crossing.iter().enumerate() {
            assert_eq!(t.level as usize, level);
            assert_eq!(t.width, if level == 7 { 1 } else { 256 });
        }
        assert_eq!(crossing[0].index, (1 << 48) - 1);
        assert_eq!(crossing[7].path(), "tile/7/000.p/1");
    }

    /// Serves the tiles of a memory tree, computing each from stored hashes.
    fn serve(tree: &MemoryTree) -> impl Fn(&Tile) -> Result<Vec<u8>, HashReadError> + '_ {
        move |t: &Tile| {
            tile_data_from_hashes(t, tree).map_err(|e| HashReadError::Backend(Box::new(e)))
        }
    }

    #[test]
    fn hashes_from_tiles_match_stored_hashes() {
        let mut tree = MemoryTree::new();
        for i in 0..70_000u32 {
            tree.append(&i.to_be_bytes());
        }
        let fetch = serve(&tree);
        for index in (0..stored_hash_count(70_000)).step_by(97) {
            let t = tile_for_stored_hash_index(index);
            let data = fetch(&t).unwrap();
            assert_eq!(
                hash_from_tile(&t, &data, index).unwrap(),
                tree.stored_hashes()[index as usize],
                "index {index} tile {}",
                t.path()
            );
        }
        // Every tile of the tree, read through the tile reader: roots and proofs.
        for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            let reader = TileHashReader::new(size, serve(&tree));
            let root = tree.root_at(size).unwrap();
            assert_eq!(tree_hash(size, &reader).unwrap(), root);
            for index in [0, size / 3, size - 1] {
                let proof = prove_inclusion(size, index, &reader).unwrap();
                let leaf = tree.leaf_hash(index).unwrap();
                verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
            }
            for old in [1, size / 2, size - 1] {
                let proof = prove_consistency(old, size, &reader).unwrap();
                let old_root = tree.root_at(old).unwrap();
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn tile_reader_only_fetches_tiles_the_tree_size_has() {
        let mut tree = MemoryTree::new();
        for i in 0..300u32 {
            tree.append(&i.to_be_bytes());
        }
        let fetched = std::cell::RefCell::new(Vec::new());
        let reader = TileHashReader::new(300, |t: &Tile| {
            fetched.borrow_mut().push(t.path());
            tile_data_from_hashes(t, &tree).map_err(|e| HashReadError::Backend(Box::new(e)))
        });
        tree_hash(300, &reader).unwrap();
        prove_inclusion(300, 17, &reader).unwrap();
        let mut seen = fetched.borrow().clone();
        seen.sort();
        seen.dedup();
        assert!(
            seen.iter()
                .all(|p| ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"].contains(&p.as_str()))
        );
        // Hashes beyond the tree are not found rather than fetched.
        assert!(matches!(
            reader.read_hashes(&[stored_hash_count(300)]),
            Err(HashReadError::NotFound { .. })
        ));
        assert!(reader.read_hashes(&[u64::MAX]).is_err());
    }

    #[test]
    fn bad_tile_data_is_rejected() {
        let t = tile(0, 0, 2);
        assert!(matches!(
            hash_from_tile(&t, &[0; 63], 0),
            Err(TileError::WrongTileDataLength {
                expected: 64,
                actual: 63,
                ..
            })
        ));
        // Index 2 is the node over leaves 0 and 1: in the tile. Index 3 (leaf 2) is not.
        assert!(hash_from_tile(&t, &[0; 64], 2).is_ok());
        assert!(matches!(
            hash_from_tile(&t, &[0; 64], 3),
            Err(TileError::HashNotInTile { .. })
        ));
        assert!(hash_from_tile(&tile(1, 0, 1), &[0; 32], 0).is_err());
        let invalid = Tile {
            level: 0,
            index: 0,
            width: 0,
        };
        assert!(hash_from_tile(&invalid, &[], 0).is_err());
        assert!(
            tile_hashes(
                &Tile {
                    level: 99,
                    index: 0,
                    width: 1
                },
                &[0; 32]
            )
            .is_err()
        );
        let tree = MemoryTree::new();
        assert!(tile_data_from_hashes(&tile(8, 0, 1), &tree).is_err());
        assert!(tile_data_from_hashes(&tile(0, u64::MAX, 256), &tree).is_err());
        let reader = TileHashReader::new(2, |_: &Tile| Ok(vec![0u8; 5]));
        assert!(matches!(
            reader.read_hashes(&[0]),
            Err(HashReadError::Corrupt { .. })
        ));
    }

    #[test]
    fn entry_bundles_round_trip() {
        let entries: Vec<Vec<u8>> = vec![b"one".to_vec(), Vec::new(), vec![7; 65_535]];
        let data = encode_entry_bundle(&entries).unwrap();
        assert_eq!(&data[..5], b"\x00\x03one");
        let decoded = decode_entry_bundle(&data).unwrap();
        assert_eq!(
            decoded,
            entries.iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
        let bundle = EntryBundle::new(0, 3).unwrap();
        assert_eq!(decode_entry_bundle_for(&bundle, &data).unwrap().len(), 3);
        let wrong = EntryBundle::new(0, 4).unwrap();
        assert!(matches!(
            decode_entry_bundle_for(&wrong, &data),
            Err(TileError::BundleWidthMismatch {
                expected: 4,
                actual: 3
            })
        ));
        let full: Vec<&[u8]> = vec![b"x"; 256];
        assert_eq!(
            decode_entry_bundle(&encode_entry_bundle(&full).unwrap())
                .unwrap()
                .len(),
            256
        );
    }

    #[test]
    fn malformed_entry_bundles_are_rejected() {
        assert!(encode_entry_bundle::<&[u8]>(&[]).is_err());
        assert!(matches!(
            encode_entry_bundle(&[vec![0u8; 65_536]]),
            Err(TileError::EntryTooLarge {
                position: 0,
                len: 65_536
            })
        ));
        assert!(encode_entry_bundle(&vec![b"x"; 257]).is_err());
        assert!(matches!(
            decode_entry_bundle(&[]),
            Err(TileError::WrongEntryCount { count: 0 })
        ));
        for truncated in [
            &b"\x00"[..],
            b"\x00\x03on",
            b"\x00\x01a\x00",
            b"\xff\xff",
            b"\x00\x02a",
        ] {
            assert!(
                matches!(
                    decode_entry_bundle(truncated),
                    Err(TileError::TruncatedBundle { .. })
                ),
                "{truncated:?}"
            );
        }
        let too_many = [0u8; 2 * 257];
        assert!(matches!(
            decode_entry_bundle(&too_many),
            Err(TileError::WrongEntryCount { count: 257 })
        ));
        assert!(decode_entry_bundle(&[0u8; 2 * 256]).is_ok());
    }

    #[test]
    fn bundles_containing_entries_and_tiles_within_a_tree() {
        assert_eq!(EntryBundle::containing(0, 0), None);
        assert_eq!(
            EntryBundle::containing(0, 1),
            Some(EntryBundle { index: 0, width: 1 })
        );
        assert_eq!(
            EntryBundle::containing(255, 1000),
            Some(EntryBundle {
                index: 0,
                width: 256
            })
        );
        assert_eq!(
            EntryBundle::containing(999, 1000),
            Some(EntryBundle {
                index: 3,
                width: 232
            })
        );
        assert_eq!(EntryBundle::containing(1000, 1000), None);
        let entries = |index, width| TileRef::Entries(EntryBundle { index, width });
        let hashes = |level, index, width| {
            TileRef::Hashes(Tile {
                level,
                index,
                width,
            })
        };
        assert!(entries(3, 232).within(1000));
        assert!(entries(3, 200).within(1000));
        assert!(!entries(3, 233).within(1000));
        assert!(!entries(4, 1).within(1000));
        assert!(hashes(0, 3, 232).within(1000));
        assert!(hashes(1, 0, 3).within(1000));
        assert!(!hashes(1, 0, 4).within(1000));
        assert!(hashes(1, 0, 256).within(65_536));
        assert!(!hashes(2, 0, 1).within(65_535));
        assert!(!hashes(63, u64::MAX, 256).within(u64::MAX));
    }
}
