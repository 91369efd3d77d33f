//! Deciding online: one verified checkpoint, pinned; the trust graph fetched signer by signer
//! outward from the policy's seeds (only what is new since the cached graph) and the
//! packages' entries batched, in pages over a few parallel streams; complete for every key
//! asked, or no evidence at all.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_proto::v1;

use super::ClientError;
use super::checkpoint::{LogTrust, VerifiedCheckpoint};
use super::evidence::{
    Collected, Cursor, MAX_PAGES, VerifiedEvidence, check_page, decode_page, encode_request,
    finish, require_complete,
};
use super::fetch::LogFetcher;
use super::memory::{Advance, CheckpointMemory, CheckpointStore, ConsistencySource};
use super::tiles::TileProofs;
use super::trust_graph::{Reach, Seeds, TrustGraph};
use super::verified_entries::VerifiedEntries;
use crate::model::index::{TRUST_GRAPH_KEY, trust_graph_key_of};
use crate::model::log_entry::claimed_signer;
use crate::policy::Policy;

/// Reports progress to a front end (which decides whether and how to show it).
pub trait Progress: Sync {
    /// `done` entries of the current phase so far, out of `total` if known.
    fn update(&self, phase: &str, done: u64, total: Option<u64>);
}

/// No progress reports.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _phase: &str, _done: u64, _total: Option<u64>) {}
}

/// How the work is split.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Requests in flight at once.
    pub workers: usize,
    /// Package keys per stream at most.
    pub packages_per_stream: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            workers: 4,
            packages_per_stream: 500,
        }
    }
}

/// The log key string the policy names (the trust-graph cache is valid for it only).
pub(crate) fn policy_log_key(policy: &Policy) -> String {
    policy
        .log
        .as_ref()
        .map(|l| l.key.clone())
        .unwrap_or_default()
}

/// Everything an online run needs.
pub struct Online<'a, S> {
    /// The log.
    pub fetcher: &'a dyn LogFetcher,
    /// Which checkpoints to believe.
    pub trust: &'a LogTrust,
    /// The client's checkpoint memory.
    pub memory: &'a CheckpointMemory<S>,
    /// The policy (its roots seed the trust graph).
    pub policy: &'a Policy,
    /// The trust-graph cache file, if one is kept.
    pub cache: Option<&'a Path>,
    /// The file of entries verified before ([`VerifiedEntries`]), if one is kept.
    pub verified_cache: Option<&'a Path>,
    /// Now, by the client's clock (Unix seconds), for the maximum checkpoint age.
    pub now: u64,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
    /// How the work is split.
    pub tuning: Tuning,
}

impl<S: CheckpointStore + Sync> Online<'_, S> {
    /// Fetches, verifies and records the log's checkpoint: policy, age, and the memory
    /// (consistency with the stored checkpoint, from the log's tiles).
    pub fn checkpoint(&self) -> Result<(VerifiedCheckpoint, Advance), ClientError> {
        let note = self.fetcher.checkpoint()?;
        let checkpoint = self.trust.verify_checkpoint(&note)?;
        self.trust.check_age(&checkpoint, self.now)?;
        let advance = self.memory.advance(
            &checkpoint,
            &self.fetcher.describe(),
            &TileProofs::new(self.fetcher),
        )?;
        Ok((checkpoint, advance))
    }

    /// The evidence for `packages` (purls without version) and the trust graph as far as the
    /// policy's seeds reach under the log's current checkpoint, complete, or an error that
    /// says what is missing.
    ///
    /// The trust graph is asked for signer by signer ([`trust_graph_key_of`]): first what is
    /// new for the signers the cache holds and everything of the seeds it does not, with the
    /// packages, in parallel streams; then, as long as verified vouches reach keys whose
    /// entries are not held, everything of those keys (one round per hop at most). Entries of
    /// keys no seed reaches are never fetched, so a flood of statements by unreached keys
    /// costs a client nothing.
    pub fn evidence(&self, packages: &[String]) -> Result<VerifiedEvidence, ClientError> {
        self.progress.update("checkpoint", 0, None);
        let (checkpoint, _) = self.checkpoint()?;
        let size = checkpoint.size();
        let mut warnings = Vec::new();
        self.progress.update("trust-graph cache", 0, None);
        let mut graph = self.cached_graph(&checkpoint, &mut warnings);
        let seeds = Seeds::of(self.policy)?;
        let packages: Vec<Cursor> = packages
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|p| Cursor::whole(p, size))
            .collect();
        self.progress.update("fetching evidence", 0, None);
        // The packages' entries stream in while the trust graph is reached round by round:
        // nothing joins them before the package entries are verified.
        let (collected, reach) = std::thread::scope(|scope| {
            let fetching = scope.spawn(|| self.fetch_all(&packages, &checkpoint));
            let reach = self.reach_graph(&mut graph, &seeds, &checkpoint);
            let collected = fetching.join().unwrap_or_else(|_| {
                Err(ClientError::Local(
                    "fetching the packages' evidence stopped unexpectedly".into(),
                ))
            });
            (collected, reach)
        });
        let reach = reach?;
        let collected = collected?;
        let mut verified = match self.verified_cache.map(VerifiedEntries::load) {
            None => VerifiedEntries::empty(),
            Some(Ok(set)) => set,
            Some(Err(e)) => {
                warnings.push(format!("the cache of verified entries is ignored: {e}"));
                VerifiedEntries::empty()
            }
        };
        let mut evidence = finish(
            collected,
            reach,
            checkpoint,
            self.trust,
            &mut verified,
            self.progress,
        )?;
        warnings.append(&mut evidence.warnings);
        if let Some(path) = self.verified_cache
            && verified.is_changed()
            && let Err(e) = verified.save(path)
        {
            warnings.push(format!("the cache of verified entries was not saved: {e}"));
        }
        self.progress.update("saving the trust graph", 0, None);
        if let Some(path) = self.cache
            && graph.is_changed()
            && let Err(e) = graph.save(path)
        {
            warnings.push(format!("the trust-graph cache was not saved: {e}"));
        }
        evidence.warnings = warnings;
        Ok(evidence)
    }

    /// Brings `graph` to `checkpoint` and reaches it from `seeds`: what is new for the
    /// signers it holds and everything of the seeds it does not hold, then, round by round,
    /// everything of each reached key it does not hold yet.
    fn reach_graph(
        &self,
        graph: &mut TrustGraph,
        seeds: &Seeds,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<Reach, ClientError> {
        let size = checkpoint.size();
        let from = graph.size();
        let held: Vec<[u8; 32]> = graph
            .held_signers()
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default();
        let fresh: Vec<[u8; 32]> = seeds
            .keys
            .iter()
            .filter(|s| held.binary_search(s).is_err())
            .copied()
            .collect();
        let mut cursors: Vec<Cursor> = Vec::new();
        if from < size {
            cursors.extend(held.iter().map(|s| Cursor {
                key: trust_graph_key_of(s),
                start: from,
                until: size,
            }));
        }
        cursors.extend(
            fresh
                .iter()
                .map(|s| Cursor::whole(&trust_graph_key_of(s), size)),
        );
        let mut collected = self.fetch_all(&cursors, checkpoint)?;
        let grown = take_signer_entries(&mut collected, &held)?;
        graph.extend(size, *checkpoint.root(), grown)?;
        let first = take_signer_entries(&mut collected, &fresh)?;
        graph.add_signers(&fresh, first)?;

        self.progress.update("verifying the trust graph", 0, None);
        let mut rounds = 0u32;
        loop {
            let reach = graph.reach(&seeds.keys, seeds.hops)?;
            if reach.missing.is_empty() {
                return Ok(reach);
            }
            // Each round holds every key found missing, so the next can only miss keys
            // farther out: at most one round per hop.
            rounds += 1;
            if rounds > seeds.hops.saturating_add(1) {
                return Err(ClientError::Local(format!(
                    "the trust graph was still growing after {rounds} rounds"
                )));
            }
            let cursors: Vec<Cursor> = reach
                .missing
                .iter()
                .map(|s| Cursor::whole(&trust_graph_key_of(s), size))
                .collect();
            let mut more = self.fetch_all(&cursors, checkpoint)?;
            let entries = take_signer_entries(&mut more, &reach.missing)?;
            graph.add_signers(&reach.missing, entries)?;
        }
    }

    /// Every entry under `cursors`, in parallel streams, complete to each cursor's end or an
    /// error that says what is missing.
    fn fetch_all(
        &self,
        cursors: &[Cursor],
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<Collected, ClientError> {
        let streams: Vec<Vec<Cursor>> = cursors
            .chunks(self.tuning.packages_per_stream.max(1))
            .map(|chunk| chunk.to_vec())
            .collect();
        let (collected, _, failure) = self.fetch_streams(streams, checkpoint, false);
        let wanted: Vec<(String, u64)> = cursors.iter().map(|c| (c.key.clone(), c.start)).collect();
        require_complete(
            &collected,
            &wanted,
            checkpoint.size(),
            failure,
            "the log stopped answering early",
        )?;
        Ok(collected)
    }

    /// An offline evidence set for `packages`: the log's checkpoint, a consistency proof
    /// from the checkpoint this client held before (if smaller), and every page covering the
    /// packages and the whole trust graph from index 0, each verified as it arrived.
    pub fn evidence_set(
        &self,
        packages: &[String],
    ) -> Result<(VerifiedCheckpoint, v1::EvidenceSet), ClientError> {
        let (checkpoint, advance) = self.checkpoint()?;
        let size = checkpoint.size();
        let mut consistency_proofs = Vec::new();
        if let Advance::Extended { from } = advance {
            let reader =
                quorum_c2sp::tiles::TileHashReader::new(size, |tile: &quorum_c2sp::tiles::Tile| {
                    self.fetcher
                        .tile(&quorum_c2sp::tiles::TileRef::Hashes(*tile))
                        .map_err(|e| quorum_c2sp::merkle::HashReadError::Backend(Box::new(e)))
                });
            // The memory verified this proof a moment ago; a failure now only leaves it out.
            if let Ok(hashes) = quorum_c2sp::merkle::prove_consistency(from, size, &reader) {
                consistency_proofs.push(v1::ConsistencyProof {
                    old_size: from,
                    new_size: size,
                    hashes: hashes.iter().map(|h| h.to_vec()).collect(),
                });
            }
        }
        let mut keys: Vec<String> = vec![TRUST_GRAPH_KEY.to_string()];
        keys.extend(packages.iter().cloned());
        let streams = vec![keys.iter().map(|k| Cursor::whole(k, size)).collect()];
        let (collected, pages, failure) = self.fetch_streams(streams, &checkpoint, true);
        let wanted: Vec<(String, u64)> = keys.iter().map(|k| (k.clone(), 0)).collect();
        require_complete(
            &collected,
            &wanted,
            size,
            failure,
            "the log stopped answering early",
        )?;
        Ok((
            checkpoint.clone(),
            v1::EvidenceSet {
                log_origin: self.trust.origin().to_owned(),
                checkpoint: checkpoint.note.clone(),
                consistency_proofs,
                pages,
            },
        ))
    }

    /// The cached trust graph if it is for this log and key and the checkpoint extends it;
    /// else an empty one (with a warning when a cache was there but unusable).
    fn cached_graph(
        &self,
        checkpoint: &VerifiedCheckpoint,
        warnings: &mut Vec<String>,
    ) -> TrustGraph {
        let origin = self.trust.origin();
        let log_key = policy_log_key(self.policy);
        let empty = || TrustGraph::by_signer(origin, &log_key);
        let Some(path) = self.cache else {
            return empty();
        };
        let graph = match TrustGraph::load(path, origin, &log_key) {
            // A graph held signer by signer: what this client writes.
            Ok(Some(graph)) if graph.held_signers().is_some() => graph,
            Ok(_) => return empty(),
            Err(e) => {
                warnings.push(format!("the trust-graph cache is ignored: {e}"));
                return empty();
            }
        };
        let cached = Checkpoint {
            origin: origin.to_owned(),
            size: graph.size(),
            root_hash: *graph.root(),
            extensions: vec![],
        };
        let consistent = if graph.size() > checkpoint.size() {
            false
        } else if graph.size() == checkpoint.size() {
            graph.root() == checkpoint.root()
        } else {
            TileProofs::new(self.fetcher)
                .check(&cached, &checkpoint.checkpoint)
                .is_ok()
        };
        if consistent {
            graph
        } else {
            warnings.push(format!(
                "the trust-graph cache (size {}) does not lead to the log's checkpoint; fetching the whole graph again",
                graph.size()
            ));
            empty()
        }
    }

    /// Runs the streams on a few workers; each stream pages until its cursors are done.
    /// Returns what arrived and the first failure, if any (the others stop then).
    /// With `keep`, the pages themselves are returned too.
    fn fetch_streams(
        &self,
        streams: Vec<Vec<Cursor>>,
        checkpoint: &VerifiedCheckpoint,
        keep: bool,
    ) -> (Collected, Vec<v1::EvidencePage>, Option<ClientError>) {
        let size = checkpoint.size();
        let root = *checkpoint.root();
        let queue = Mutex::new(streams);
        let failure: Mutex<Option<ClientError>> = Mutex::new(None);
        let stop = AtomicBool::new(false);
        let pages = AtomicUsize::new(0);
        let entries = AtomicU64::new(0);
        let results: Mutex<Vec<Collected>> = Mutex::new(Vec::new());
        let kept: Mutex<Vec<v1::EvidencePage>> = Mutex::new(Vec::new());
        let worker = || {
            let mut collected = Collected::default();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(mut cursors) = next else { break };
                while !stop.load(Ordering::Relaxed) && cursors.iter().any(|c| !c.is_done()) {
                    let outcome = (|| {
                        if pages.fetch_add(1, Ordering::Relaxed) >= MAX_PAGES {
                            return Err(ClientError::evidence(format!(
                                "the log's answer did not end within {MAX_PAGES} pages"
                            )));
                        }
                        let request = encode_request(size, &cursors);
                        let bytes = self.fetcher.evidence(&request)?;
                        let page = decode_page(&bytes)?;
                        if keep && let Ok(mut k) = kept.lock() {
                            k.push(page.clone());
                        }
                        check_page(page, size, &root, &mut cursors)
                    })();
                    match outcome {
                        Ok(page) => {
                            let n = page.entries.len() as u64;
                            collected.absorb(page);
                            let done = entries.fetch_add(n, Ordering::Relaxed) + n;
                            self.progress.update("fetching evidence", done, None);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            break;
                        }
                    }
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            if let Ok(mut r) = results.lock() {
                r.push(collected);
            }
        };
        let workers = self.tuning.workers.max(1);
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(worker);
            }
            worker();
        });
        let mut merged = Collected::default();
        for c in results.into_inner().unwrap_or_default() {
            merged.merge(c);
        }
        let failure = failure.into_inner().unwrap_or(None);
        (merged, kept.into_inner().unwrap_or_default(), failure)
    }
}

/// The entries listed under the trust-graph keys of `signers` (moved out of `collected`, which
/// holds trust-graph keys only), each checked to name the signer it was listed under.
fn take_signer_entries(
    collected: &mut Collected,
    signers: &[[u8; 32]],
) -> Result<Vec<(u64, Vec<u8>)>, ClientError> {
    let mut out = Vec::new();
    let no_package_keys = HashSet::new();
    for signer in signers {
        for (index, bytes) in collected.take_listed(&trust_graph_key_of(signer), &no_package_keys) {
            if claimed_signer(&bytes) != Some(*signer) {
                return Err(ClientError::evidence(format!(
                    "the log's evidence answer is wrong: entry {index} is listed under the trust graph of {} but names another signer",
                    hex::encode(signer)
                )));
            }
            out.push((index, bytes));
        }
    }
    Ok(out)
}
