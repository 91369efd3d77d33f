//! Reading a log through its C2SP tlog-tiles: consistency proofs built from hash tiles (as
//! Tessera's clients do) and single entries from entry bundles. Tiles are not authenticated
//! by themselves: everything computed from them is verified against a signed checkpoint.

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle::{self, HashReadError};
use quorum_c2sp::tiles::{EntryBundle, TileHashReader, TileRef, decode_entry_bundle_for};

use super::ClientError;
use super::fetch::{FetchError, LogFetcher};
use super::memory::{ConsistencyFailure, ConsistencySource, verify_proof};

/// Shows consistency with a proof built from the log's hash tiles at the new size.
pub struct TileProofs<'a> {
    fetcher: &'a dyn LogFetcher,
}

impl<'a> TileProofs<'a> {
    /// Consistency through `fetcher`'s tiles.
    pub fn new(fetcher: &'a dyn LogFetcher) -> Self {
        TileProofs { fetcher }
    }
}

impl ConsistencySource for TileProofs<'_> {
    fn check(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ConsistencyFailure> {
        let reader = TileHashReader::new(new.size, |tile: &quorum_c2sp::tiles::Tile| {
            self.fetcher
                .tile(&TileRef::Hashes(*tile))
                .map_err(|e| HashReadError::Backend(Box::new(e)))
        });
        let proof =
            merkle::prove_consistency(old.size, new.size, &reader).map_err(
                |e| match fetch_error(&e) {
                    Some(fetch) => ConsistencyFailure::Unavailable(fetch),
                    None => ConsistencyFailure::Malformed(format!(
                        "the log's hash tiles do not give a consistency proof: {e}"
                    )),
                },
            )?;
        verify_proof(old, new, &proof)
    }
}

/// The fetch failure inside a tree error, if that is what it is.
fn fetch_error(e: &merkle::TreeError) -> Option<FetchError> {
    match e {
        merkle::TreeError::Read(HashReadError::Backend(inner)) => {
            inner.downcast_ref::<FetchError>().cloned()
        }
        _ => None,
    }
}

/// Reads entry `index` of the tree of `tree_size` entries from its entry bundle. The bytes
/// are not verified here: the caller proves them against a checkpoint.
pub fn fetch_entry(
    fetcher: &dyn LogFetcher,
    index: u64,
    tree_size: u64,
) -> Result<Vec<u8>, ClientError> {
    let bundle = EntryBundle::containing(index, tree_size).ok_or_else(|| {
        ClientError::evidence(format!(
            "entry {index} is outside the tree of size {tree_size}"
        ))
    })?;
    let data = fetcher.tile(&TileRef::Entries(bundle))?;
    let entries = decode_entry_bundle_for(&bundle, &data)
        .map_err(|e| ClientError::evidence(format!("entry bundle {}: {e}", bundle.path())))?;
    let first = bundle.first_entry().unwrap_or(0);
    entries
        .get((index - first) as usize)
        .map(|e| e.to_vec())
        .ok_or_else(|| {
            ClientError::evidence(format!(
                "entry bundle {} has no entry {index}",
                bundle.path()
            ))
        })
}
