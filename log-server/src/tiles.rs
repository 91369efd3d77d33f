//! Serving tiles: a byte-bounded in-memory cache of full tiles and entry bundles. A full
//! tile never changes once the tree has grown past it, so a cached copy is served for as
//! long as it stays in the cache. Request paths are parsed by `quorum_c2sp::tiles`, the
//! one tile-path parser of the project; entry bundles and tlog-proof text are formatted
//! there too.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use quorum_c2sp::tiles::TileRef;

/// A bounded cache of immutable tile data, keyed by the parsed tile. Eviction is first in,
/// first out: tiles are written once and read by many clients roughly in tree order, and
/// FIFO keeps the bookkeeping to one queue.
#[derive(Debug)]
pub struct TileCache {
    max_bytes: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    tiles: HashMap<TileRef, Bytes>,
    order: VecDeque<TileRef>,
    bytes: usize,
}

impl TileCache {
    /// A cache holding at most `max_bytes` of tile data (0 disables it).
    pub fn new(max_bytes: usize) -> TileCache {
        TileCache {
            max_bytes,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // The cache holds no invariant a panicking holder could break halfway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached data of `tile`, if any.
    pub fn get(&self, tile: &TileRef) -> Option<Bytes> {
        self.lock().tiles.get(tile).cloned()
    }

    /// Caches the data of a full tile, evicting the oldest entries to stay within the bound.
    /// Only full tiles may be cached: a partial one is replaced by a wider one as the tree
    /// grows.
    pub fn insert(&self, tile: TileRef, data: Bytes) {
        if data.len() > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if inner.tiles.contains_key(&tile) {
            return;
        }
        while inner.bytes + data.len() > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(evicted) = inner.tiles.remove(&oldest) {
                inner.bytes -= evicted.len();
            }
        }
        inner.bytes += data.len();
        inner.order.push_back(tile);
        inner.tiles.insert(tile, data);
    }

    /// Bytes of tile data held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Tiles held.
    pub fn len(&self) -> usize {
        self.lock().tiles.len()
    }

    /// Whether the cache holds no tile.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_c2sp::tiles::{EntryBundle, Tile};

    fn tile(index: u64) -> TileRef {
        TileRef::Hashes(Tile {
            level: 0,
            index,
            width: 256,
        })
    }

    #[test]
    fn stays_within_its_byte_bound_and_evicts_the_oldest() {
        let cache = TileCache::new(3 * 8192);
        for i in 0..3 {
            cache.insert(tile(i), Bytes::from(vec![i as u8; 8192]));
        }
        assert_eq!((cache.len(), cache.bytes()), (3, 3 * 8192));
        cache.insert(tile(3), Bytes::from(vec![3; 8192]));
        assert_eq!((cache.len(), cache.bytes()), (3, 3 * 8192));
        assert!(cache.get(&tile(0)).is_none(), "the oldest tile is evicted");
        assert_eq!(cache.get(&tile(3)).as_deref(), Some(&[3u8; 8192][..]));
        // A bundle and a hash tile with the same index are different keys.
        let bundle = TileRef::Entries(EntryBundle {
            index: 3,
            width: 256,
        });
        assert!(cache.get(&bundle).is_none());
        cache.insert(bundle, Bytes::from(vec![9; 100]));
        assert_eq!(cache.get(&bundle).as_deref(), Some(&[9u8; 100][..]));
        assert!(cache.bytes() <= 3 * 8192);
        // Larger than the whole bound: not cached. Zero bound: nothing cached.
        cache.insert(tile(9), Bytes::from(vec![0; 4 * 8192]));
        assert!(cache.get(&tile(9)).is_none());
        let off = TileCache::new(0);
        off.insert(tile(1), Bytes::from(vec![1; 10]));
        assert!(off.is_empty());
    }
}
