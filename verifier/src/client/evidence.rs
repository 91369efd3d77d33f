//! Evidence that is complete for a question, or none: pages of a log's answer verified
//! against one pinned checkpoint, the index ranges they cover per key, the checkpoints that
//! date entries, and the statements a decision may count (`spec/verifier-semantics.md`
//! §1–2).
//!
//! A page is checked as a whole before anything in it is used: its tree size is the pinned
//! one; each range it states answers a cursor that was asked (same key, same start, an end
//! past the start and within the cursor); each range's indices lie in it, ascending; the
//! page's entries are exactly the indices its ranges list, ascending, each at most 65,535
//! bytes; and one batch inclusion proof puts all of them under the pinned root. After the
//! entries are verified, their content is held against what the log said about them: an
//! entry listed under a key must be found under that key, and a verified entry found under a
//! key must be listed in every covered range of that key that contains it. Any failure is an
//! error (no verdict); nothing is silently dropped.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use quorum_c2sp::merkle::{self, Hash};
use quorum_proto::prost::Message;
use quorum_proto::v1;

use super::ClientError;
use super::checkpoint::{LogTrust, VerifiedCheckpoint};
use super::memory::verify_proof;
use super::online::Progress;
use super::trust_graph::{Reach, Seeds, TrustGraph};
use super::verified_entries::VerifiedEntries;
use crate::decision::{ProvenStatement, Rejected, claims_from_statement};
use crate::model::index::{TRUST_GRAPH_KEY, index_keys, is_trust_graph_key, trust_graph_signer};
use crate::model::log_entry::{DecodedEntry, MAX_ENTRY_SIZE, claimed_signer};
use crate::policy::Policy;

/// The most pages one run reads before giving up (a log that never finishes).
pub const MAX_PAGES: usize = 1_000_000;

/// How a decision's evidence is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// The log stated, page by page, that it served every entry about the packages and the
    /// whole trust graph under the checkpoint, and each entry is proven included. A log could
    /// still withhold an entry and lie about it; a client cannot audit that from the answer.
    Served,
    /// The client mirrored every entry of the log up to the checkpoint and recomputed the
    /// root: nothing under the checkpoint can be missing.
    Complete,
}

impl Completeness {
    /// `served` or `complete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Completeness::Served => "served",
            Completeness::Complete => "complete",
        }
    }
}

/// What a decision rests on.
#[derive(Debug, Clone)]
pub struct VerifiedEvidence {
    /// The checkpoint everything is proven under.
    pub checkpoint: VerifiedCheckpoint,
    /// How the evidence is complete.
    pub completeness: Completeness,
    /// Statements proven logged and verified, one per claim.
    pub statements: Vec<ProvenStatement>,
    /// Entries that were served but do not count, with the reason.
    pub rejected: Vec<Rejected>,
    /// For rejected package entries, the packages they were served as being about (so a
    /// decision about a package can list every entry about it that did not count).
    pub rejected_about: BTreeMap<u64, Vec<String>>,
    /// Problems that cost nothing but precision (an earlier checkpoint that did not verify
    /// dates entries later, never earlier).
    pub warnings: Vec<String>,
}

impl VerifiedEvidence {
    /// The rejected package entries grouped by the package they were served as being about,
    /// in index order: built once per run, so listing what did not count for each of a
    /// lockfile's packages costs one lookup per package, not a pass over every rejection.
    pub fn rejected_by_package(&self) -> BTreeMap<&str, Vec<&Rejected>> {
        let mut by_package: BTreeMap<&str, Vec<&Rejected>> = BTreeMap::new();
        for r in &self.rejected {
            for package in self.rejected_about.get(&r.index).into_iter().flatten() {
                by_package.entry(package.as_str()).or_default().push(r);
            }
        }
        by_package
    }
}

/// What is still wanted for one key: entries with index in `[start, until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// A package purl without version, [`TRUST_GRAPH_KEY`] or one signer's trust-graph key.
    pub key: String,
    /// The first index wanted.
    pub start: u64,
    /// One past the last index wanted.
    pub until: u64,
}

impl Cursor {
    /// Every entry under `key` from index 0 up to `size`.
    pub fn whole(key: &str, size: u64) -> Self {
        Cursor {
            key: key.to_string(),
            start: 0,
            until: size,
        }
    }

    /// Whether nothing is wanted any more.
    pub fn is_done(&self) -> bool {
        self.start >= self.until
    }
}

/// A request for the unfinished `cursors` at `tree_size`, encoded.
pub fn encode_request(tree_size: u64, cursors: &[Cursor]) -> Vec<u8> {
    v1::EvidenceRequest {
        tree_size,
        cursors: cursors
            .iter()
            .filter(|c| !c.is_done())
            .map(|c| v1::KeyCursor {
                key: c.key.clone(),
                start: c.start,
                until: if c.until == tree_size { 0 } else { c.until },
            })
            .collect(),
    }
    .encode_to_vec()
}

/// One range a page covers for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    /// The key.
    pub key: String,
    /// First index covered.
    pub start: u64,
    /// One past the last index covered.
    pub end: u64,
    /// The indices the log listed under the key in the range.
    pub indices: Vec<u64>,
}

/// A page that passed the structural and inclusion checks.
#[derive(Debug, Clone, Default)]
pub struct PageContent {
    /// The ranges covered.
    pub covered: Vec<Covered>,
    /// The entries, ascending by index, proven included under the pinned root.
    pub entries: Vec<(u64, Vec<u8>)>,
    /// Checkpoints that date the entries (not yet verified).
    pub history: Vec<v1::HistoricalCheckpoint>,
}

fn contradiction(message: String) -> ClientError {
    ClientError::evidence(format!("the log's evidence answer is wrong: {message}"))
}

/// Decodes and checks a page answering `cursors` (only the unfinished ones were asked) at
/// the pinned `size` and `root`, and advances the cursors it covers. A page must cover at
/// least one cursor.
pub fn verify_page(
    bytes: &[u8],
    size: u64,
    root: &Hash,
    cursors: &mut [Cursor],
) -> Result<PageContent, ClientError> {
    check_page(decode_page(bytes)?, size, root, cursors)
}

/// Decodes a page (protobuf).
pub fn decode_page(bytes: &[u8]) -> Result<v1::EvidencePage, ClientError> {
    v1::EvidencePage::decode(bytes)
        .map_err(|e| contradiction(format!("the page is not an EvidencePage: {e}")))
}

/// [`verify_page`] on a decoded page.
pub fn check_page(
    page: v1::EvidencePage,
    size: u64,
    root: &Hash,
    cursors: &mut [Cursor],
) -> Result<PageContent, ClientError> {
    if page.tree_size != size {
        return Err(contradiction(format!(
            "a page is proven against size {} but size {size} was asked",
            page.tree_size
        )));
    }
    if page.ranges.is_empty() {
        return Err(contradiction("a page covers nothing (no progress)".into()));
    }
    let mut covered = Vec::with_capacity(page.ranges.len());
    let mut listed: BTreeSet<u64> = BTreeSet::new();
    let mut seen_keys: BTreeSet<&str> = BTreeSet::new();
    for range in &page.ranges {
        if !seen_keys.insert(range.key.as_str()) {
            return Err(contradiction(format!("a page covers {} twice", range.key)));
        }
        let Some(cursor) = cursors
            .iter_mut()
            .find(|c| c.key == range.key && !c.is_done())
        else {
            return Err(contradiction(format!(
                "a page covers {}, which was not asked for",
                range.key
            )));
        };
        if range.start != cursor.start || range.end <= range.start || range.end > cursor.until {
            return Err(contradiction(format!(
                "a page covers {} over [{}, {}) but [{}, {}) was asked",
                range.key, range.start, range.end, cursor.start, cursor.until
            )));
        }
        let mut previous: Option<u64> = None;
        for &index in &range.indices {
            if index < range.start || index >= range.end || previous.is_some_and(|p| index <= p) {
                return Err(contradiction(format!(
                    "the indices listed for {} over [{}, {}) are not ascending inside it",
                    range.key, range.start, range.end
                )));
            }
            previous = Some(index);
            listed.insert(index);
        }
        cursor.start = range.end;
        covered.push(Covered {
            key: range.key.clone(),
            start: range.start,
            end: range.end,
            indices: range.indices.clone(),
        });
    }
    let entry_indices: Vec<u64> = page.entries.iter().map(|e| e.index).collect();
    if !entry_indices.iter().copied().eq(listed.iter().copied()) {
        return Err(contradiction(
            "a page's entries are not exactly the indices its ranges list, ascending".into(),
        ));
    }
    let mut leaves = Vec::with_capacity(page.entries.len());
    for e in &page.entries {
        if e.log_entry.len() > MAX_ENTRY_SIZE {
            return Err(contradiction(format!(
                "entry {} is {} bytes, more than an entry can be",
                e.index,
                e.log_entry.len()
            )));
        }
        leaves.push((e.index, merkle::leaf_hash(&e.log_entry)));
    }
    if !leaves.is_empty() {
        let proof: Vec<Hash> = page
            .inclusion_proof
            .iter()
            .map(|h| Hash::try_from(h.as_slice()))
            .collect::<Result<_, _>>()
            .map_err(|_| contradiction("an inclusion proof hash is not 32 bytes".into()))?;
        merkle::verify_batch_inclusion(size, &leaves, &proof, root).map_err(|e| {
            contradiction(format!(
                "the page's entries are not proven included under the checkpoint of size {size}: {e}"
            ))
        })?;
    } else if !page.inclusion_proof.is_empty() {
        return Err(contradiction(
            "a page without entries carries a proof".into(),
        ));
    }
    Ok(PageContent {
        covered,
        entries: page
            .entries
            .into_iter()
            .map(|e| (e.index, e.log_entry))
            .collect(),
        history: page.history,
    })
}

/// Everything the pages of one pinned checkpoint delivered.
#[derive(Debug, Default)]
pub struct Collected {
    /// Entries by index, each proven included.
    pub entries: BTreeMap<u64, Vec<u8>>,
    /// Covered ranges, per key.
    pub covered: BTreeMap<String, Vec<Covered>>,
    /// Dating checkpoints, not yet verified, by note bytes.
    pub history: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
}

impl Collected {
    /// Adds a verified page.
    pub fn absorb(&mut self, page: PageContent) {
        for range in page.covered {
            self.covered
                .entry(range.key.clone())
                .or_default()
                .push(range);
        }
        for (index, bytes) in page.entries {
            self.entries.entry(index).or_insert(bytes);
        }
        for h in page.history {
            self.history
                .entry(h.checkpoint)
                .or_insert(h.consistency_proof);
        }
    }

    /// Adds another collection of the same checkpoint.
    pub fn merge(&mut self, other: Collected) {
        for (key, ranges) in other.covered {
            self.covered.entry(key).or_default().extend(ranges);
        }
        for (index, bytes) in other.entries {
            self.entries.entry(index).or_insert(bytes);
        }
        for (note, proof) in other.history {
            self.history.entry(note).or_insert(proof);
        }
    }

    /// How far, from `from`, the ranges of `key` cover `[from, ..)` without a gap.
    pub fn covered_until(&self, key: &str, from: u64) -> u64 {
        let mut ranges: Vec<(u64, u64)> = self
            .covered
            .get(key)
            .map(|r| r.iter().map(|c| (c.start, c.end)).collect())
            .unwrap_or_default();
        ranges.sort_unstable();
        let mut end = from;
        for (start, stop) in ranges {
            if start > end {
                break;
            }
            end = end.max(stop);
        }
        end
    }

    /// The indices listed under package keys (every key but the trust graph's).
    pub fn package_listed(&self) -> HashSet<u64> {
        self.covered
            .iter()
            .filter(|(key, _)| !is_trust_graph_key(key))
            .flat_map(|(_, ranges)| ranges.iter().flat_map(|r| r.indices.iter().copied()))
            .collect()
    }

    /// The entries listed under the trust-graph key `key`, ascending. They move out of the
    /// collection, except those also listed under a package key (`package_listed`), which
    /// their content will contradict: those are copied, so both checks see them.
    pub fn take_listed(&mut self, key: &str, package_listed: &HashSet<u64>) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        for index in self.listed(key) {
            let bytes = if package_listed.contains(&index) {
                self.entries.get(&index).cloned()
            } else {
                self.entries.remove(&index)
            };
            out.extend(bytes.map(|b| (index, b)));
        }
        out
    }

    /// The indices listed under `key`, ascending, without repeats.
    pub fn listed(&self, key: &str) -> BTreeSet<u64> {
        self.covered
            .get(key)
            .map(|ranges| {
                ranges
                    .iter()
                    .flat_map(|r| r.indices.iter().copied())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks the log's statements against the verified content of entries: each entry
    /// listed under a key is found under it, and each verified entry found under a covered
    /// key is listed in every range of that key that contains it.
    pub fn check_listing(&self, keys_of: &BTreeMap<u64, Vec<String>>) -> Result<(), ClientError> {
        // Listed under a key: the entry must be about it.
        for (key, ranges) in &self.covered {
            for range in ranges {
                for index in &range.indices {
                    if let Some(keys) = keys_of.get(index)
                        && !keys.iter().any(|k| k == key)
                    {
                        return Err(contradiction(format!(
                            "entry {index} is listed under {key} but is not about it"
                        )));
                    }
                }
            }
        }
        // About a covered key: every range of that key that contains the entry lists it.
        // (Per entry and key, so the work grows with the entries, not entries × ranges.)
        for (index, keys) in keys_of {
            for key in keys {
                let Some(ranges) = self.covered.get(key) else {
                    continue;
                };
                for range in ranges {
                    if (range.start..range.end).contains(index)
                        && range.indices.binary_search(index).is_err()
                    {
                        return Err(contradiction(format!(
                            "entry {index} is about {key} but the log left it out of its answer for {key} over [{}, {})",
                            range.start, range.end
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Verified dating checkpoints: `(size, cosignature time)` ascending, and warnings for those
/// that did not verify.
pub fn verify_history(
    history: &BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    trust: &LogTrust,
    checkpoint: &VerifiedCheckpoint,
) -> (Vec<(u64, u64)>, Vec<String>) {
    let mut dates = vec![(checkpoint.size(), checkpoint.witnessed_at)];
    let mut warnings = Vec::new();
    for (note, proof) in history {
        let outcome = trust
            .verify_checkpoint(note)
            .map_err(|e| e.to_string())
            .and_then(|old| {
                let proof: Vec<Hash> = proof
                    .iter()
                    .map(|h| Hash::try_from(h.as_slice()))
                    .collect::<Result<_, _>>()
                    .map_err(|_| "a proof hash is not 32 bytes".to_string())?;
                if old.size() > checkpoint.size() {
                    return Err("it is larger than the checkpoint".to_string());
                }
                // The same size (the checkpoint's own first cosignatures, when it is served
                // with refreshed ones) needs the same root and an empty proof.
                if old.size() == checkpoint.size() {
                    if !proof.is_empty() || old.root() != checkpoint.root() {
                        return Err("same size, another root or a proof".to_string());
                    }
                } else {
                    verify_proof(&old.checkpoint, &checkpoint.checkpoint, &proof)
                        .map_err(|e| format!("{e:?}"))?;
                }
                Ok((old.size(), old.witnessed_at))
            });
        match outcome {
            Ok(point) => dates.push(point),
            Err(e) => warnings.push(format!("an earlier checkpoint was ignored: {e}")),
        }
    }
    dates.sort_unstable();
    dates.dedup_by_key(|d| d.0);
    (dates, warnings)
}

/// The date of entry `index`: the earliest cosignature time of a verified checkpoint that
/// includes it.
pub fn date_of(dates: &[(u64, u64)], index: u64) -> Option<u64> {
    dates
        .iter()
        .filter(|(size, _)| *size > index)
        .map(|(_, time)| *time)
        .min()
}

/// Verifies the entries listed under package keys (every key but the trust graph's; its
/// entries are verified by [`super::trust_graph`]) whose signer is in `reached`, on every
/// core, checks every package key's listing against their content, and returns their
/// statements dated by `dates`, and the entries that do not count (those of unreached
/// signers among them, unverified: they could not count anyway).
pub fn package_statements(
    collected: &Collected,
    dates: &[(u64, u64)],
    reached: &HashSet<[u8; 32]>,
    verified: &mut VerifiedEntries,
) -> Result<PackageStatements, ClientError> {
    let mut listed_under: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (key, ranges) in &collected.covered {
        if is_trust_graph_key(key) {
            continue;
        }
        for index in ranges.iter().flat_map(|r| r.indices.iter()) {
            listed_under.entry(*index).or_default().push(key.clone());
        }
    }
    let indices: Vec<u64> = listed_under.keys().copied().collect();
    let mut rejected = Vec::new();
    let mut items: Vec<(u64, &[u8])> = Vec::with_capacity(indices.len());
    for index in indices {
        let Some(bytes) = collected.entries.get(&index) else {
            continue;
        };
        // A statement of a key no root reaches has no weight and counts for nothing, so
        // its signature is not worth checking (`trust_graph` says why that is safe).
        match claimed_signer(bytes) {
            Some(signer) if !reached.contains(&signer) => rejected.push(Rejected {
                index,
                reason: format!(
                    "signer {} is not reached by the policy's trust roots (its signature was not checked)",
                    hex::encode(signer)
                ),
            }),
            _ => items.push((index, bytes.as_slice())),
        }
    }
    let bytes: Vec<&[u8]> = items.iter().map(|(_, b)| *b).collect();
    let results = verified.verify(&bytes);
    let mut statements = Vec::new();
    let mut keys_of = BTreeMap::new();
    for ((index, _), result) in items.iter().zip(results) {
        match result {
            Ok(entry) => {
                keys_of.insert(*index, index_keys(&entry.statement));
                push_statements(&mut statements, *index, &entry, date_of(dates, *index));
            }
            Err(e) => rejected.push(Rejected {
                index: *index,
                reason: format!("entry does not verify: {e}"),
            }),
        }
    }
    let mut view = Collected::default();
    for (key, ranges) in &collected.covered {
        if !is_trust_graph_key(key) {
            view.covered.insert(key.clone(), ranges.clone());
        }
    }
    view.check_listing(&keys_of)?;
    let about = rejected
        .iter()
        .filter_map(|r| Some((r.index, listed_under.remove(&r.index)?)))
        .collect();
    Ok(PackageStatements {
        statements,
        rejected,
        about,
    })
}

/// What [`package_statements`] gives.
#[derive(Debug, Default)]
pub struct PackageStatements {
    /// Statements of verified entries, dated.
    pub statements: Vec<ProvenStatement>,
    /// Entries that do not count, and why.
    pub rejected: Vec<Rejected>,
    /// The packages each rejected entry was listed under.
    pub about: BTreeMap<u64, Vec<String>>,
}

/// Adds one statement per claim of a verified entry.
pub fn push_statements(
    out: &mut Vec<ProvenStatement>,
    index: u64,
    entry: &DecodedEntry,
    first_cosigned_at: Option<u64>,
) {
    for claim in claims_from_statement(&entry.statement) {
        out.push(ProvenStatement {
            index,
            signer: entry.signer,
            envelope_digest: entry.envelope_digest,
            first_cosigned_at,
            claim,
        });
    }
}

/// No verdict unless every key in `wanted` (each from its start) is covered up to `size`:
/// the error names what is missing, and its cause is `failure` (why the answer stopped) or,
/// when nothing failed, `short` (what else was wrong).
pub fn require_complete(
    collected: &Collected,
    wanted: &[(String, u64)],
    size: u64,
    failure: Option<ClientError>,
    short: &str,
) -> Result<(), ClientError> {
    let gap = missing(collected, wanted, size);
    let cause = match (failure, &gap) {
        (Some(cause), _) => cause,
        (None, Some(_)) => ClientError::evidence(short),
        (None, None) => return Ok(()),
    };
    Err(ClientError::Incomplete {
        missing: gap.unwrap_or_else(|| "the log's answer was cut short".to_string()),
        cause: Box::new(cause),
    })
}

/// Verifies what complete pages delivered and assembles the evidence: the trust-graph
/// entries extend `graph` (which moves to the checkpoint) and are verified outward from the
/// policy's roots; the package entries are verified, checked against their listings and
/// dated by the verified history.
pub fn assemble(
    mut collected: Collected,
    graph: &mut TrustGraph,
    checkpoint: VerifiedCheckpoint,
    trust: &LogTrust,
    policy: &Policy,
    verified: &mut VerifiedEntries,
    progress: &dyn Progress,
) -> Result<VerifiedEvidence, ClientError> {
    progress.update("verifying the trust graph", 0, None);
    let package_listed = collected.package_listed();
    let trust_entries = collected.take_listed(TRUST_GRAPH_KEY, &package_listed);
    graph.extend(checkpoint.size(), *checkpoint.root(), trust_entries)?;
    let seeds = Seeds::of(policy)?;
    let reach = graph.reach(&seeds.keys, seeds.hops)?;
    finish(collected, reach, checkpoint, trust, verified, progress)
}

/// The rest of [`assemble`], once the trust graph is reached in full (`reach.missing` is
/// empty): the package entries of `collected` verified, dated and checked against their
/// listings, beside the trust graph's statements.
pub fn finish(
    collected: Collected,
    reach: Reach,
    checkpoint: VerifiedCheckpoint,
    trust: &LogTrust,
    verified: &mut VerifiedEntries,
    progress: &dyn Progress,
) -> Result<VerifiedEvidence, ClientError> {
    if !reach.missing.is_empty() {
        return Err(ClientError::Local(format!(
            "the trust graph lacks the entries of {} reached keys",
            reach.missing.len()
        )));
    }
    let (mut statements, mut rejected) = (reach.statements, reach.rejected);
    progress.update("verifying package entries", 0, None);
    let (dates, warnings) = verify_history(&collected.history, trust, &checkpoint);
    let package = package_statements(&collected, &dates, &reach.reached, verified)?;
    statements.extend(package.statements);
    rejected.extend(package.rejected);
    Ok(VerifiedEvidence {
        checkpoint,
        completeness: Completeness::Served,
        statements,
        rejected,
        rejected_about: package.about,
        warnings,
    })
}

/// Says what is missing for `keys`, each wanted over `[from, size)`: `None` when all are
/// covered.
pub fn missing(collected: &Collected, wanted: &[(String, u64)], size: u64) -> Option<String> {
    let gaps: Vec<String> = wanted
        .iter()
        .filter_map(|(key, from)| {
            let reached = collected.covered_until(key, *from);
            (reached < size).then(|| {
                let what = if key == TRUST_GRAPH_KEY {
                    "the trust graph".to_string()
                } else if let Some(signer) = trust_graph_signer(key) {
                    format!("the trust graph of {}", hex::encode(signer))
                } else {
                    key.clone()
                };
                format!("{what} is covered up to index {reached} of {size}")
            })
        })
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let shown: Vec<&String> = gaps.iter().take(5).collect();
    let more = gaps.len().saturating_sub(shown.len());
    Some(format!(
        "{}{}",
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        if more > 0 {
            format!("; and {more} more keys")
        } else {
            String::new()
        }
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use quorum_c2sp::merkle::MemoryTree;

    /// A page over `tree` at `size` for the given ranges (key, start, end, indices).
    pub fn page(
        tree: &MemoryTree,
        entries: &[Vec<u8>],
        size: u64,
        ranges: &[(&str, u64, u64, &[u64])],
    ) -> v1::EvidencePage {
        let mut all: BTreeSet<u64> = BTreeSet::new();
        for (_, _, _, idx) in ranges {
            all.extend(idx.iter().copied());
        }
        let indices: Vec<u64> = all.into_iter().collect();
        v1::EvidencePage {
            tree_size: size,
            ranges: ranges
                .iter()
                .map(|(key, start, end, idx)| v1::KeyRange {
                    key: key.to_string(),
                    start: *start,
                    end: *end,
                    indices: idx.to_vec(),
                })
                .collect(),
            entries: indices
                .iter()
                .map(|&i| v1::PageEntry {
                    index: i,
                    log_entry: entries[i as usize].clone(),
                })
                .collect(),
            inclusion_proof: merkle::prove_batch_inclusion(size, &indices, tree)
                .expect("proof")
                .iter()
                .map(|h| h.to_vec())
                .collect(),
            history: vec![],
        }
    }

    fn setup() -> (MemoryTree, Vec<Vec<u8>>) {
        let mut tree = MemoryTree::new();
        let entries: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 10]).collect();
        for e in &entries {
            tree.append(e);
        }
        (tree, entries)
    }

    fn cursors(keys: &[&str], size: u64) -> Vec<Cursor> {
        keys.iter()
            .map(|k| Cursor {
                key: k.to_string(),
                start: 0,
                until: size,
            })
            .collect()
    }

    #[test]
    fn pages_advance_cursors_and_prove_entries() {
        let (tree, entries) = setup();
        let root = tree.root();
        let mut c = cursors(&["pkg:a/x", TRUST_GRAPH_KEY], 20);
        let p = page(
            &tree,
            &entries,
            20,
            &[
                ("pkg:a/x", 0, 20, &[1, 7]),
                (TRUST_GRAPH_KEY, 0, 10, &[2, 7]),
            ],
        );
        let content = check_page(p, 20, &root, &mut c).expect("page");
        assert_eq!(c[0].start, 20);
        assert!(c[0].is_done());
        assert_eq!(c[1].start, 10);
        let mut collected = Collected::default();
        collected.absorb(content);
        let p = page(&tree, &entries, 20, &[(TRUST_GRAPH_KEY, 10, 20, &[19])]);
        collected.absorb(check_page(p, 20, &root, &mut c).expect("second page"));
        assert!(c[1].is_done());
        assert_eq!(collected.covered_until(TRUST_GRAPH_KEY, 0), 20);
        assert_eq!(collected.covered_until("pkg:a/x", 0), 20);
        assert_eq!(collected.covered_until("pkg:b/y", 0), 0);
        assert_eq!(collected.entries.len(), 4);
        assert_eq!(
            missing(
                &collected,
                &[(TRUST_GRAPH_KEY.into(), 0), ("pkg:b/y".into(), 0)],
                20
            )
            .as_deref(),
            Some("pkg:b/y is covered up to index 0 of 20")
        );
    }

    #[test]
    fn wrong_pages_are_contradictions() {
        let (tree, entries) = setup();
        let root = tree.root();
        let fresh = || cursors(&["pkg:a/x"], 20);
        let good = page(&tree, &entries, 20, &[("pkg:a/x", 0, 20, &[1, 7])]);
        let cases: Vec<(&str, v1::EvidencePage)> = vec![
            ("another size", {
                let mut p = good.clone();
                p.tree_size = 19;
                p
            }),
            ("no range", {
                let mut p = good.clone();
                p.ranges.clear();
                p
            }),
            (
                "unasked key",
                page(&tree, &entries, 20, &[("pkg:b/y", 0, 20, &[1])]),
            ),
            (
                "wrong start",
                page(&tree, &entries, 20, &[("pkg:a/x", 1, 20, &[1])]),
            ),
            (
                "empty range",
                page(&tree, &entries, 20, &[("pkg:a/x", 0, 0, &[])]),
            ),
            (
                "beyond until",
                page(&tree, &entries, 20, &[("pkg:a/x", 0, 21, &[1])]),
            ),
            ("index outside", {
                let mut p = good.clone();
                p.ranges[0].end = 5;
                p
            }),
            ("descending", {
                let mut p = good.clone();
                p.ranges[0].indices = vec![7, 1];
                p
            }),
            ("entry not listed", {
                let mut p = good.clone();
                p.ranges[0].indices = vec![1];
                p
            }),
            ("entry changed", {
                let mut p = good.clone();
                p.entries[0].log_entry[0] ^= 1;
                p
            }),
            ("proof changed", {
                let mut p = good.clone();
                p.inclusion_proof[0][0] ^= 1;
                p
            }),
            ("short hash", {
                let mut p = good.clone();
                p.inclusion_proof[0].pop();
                p
            }),
            (
                "twice",
                page(
                    &tree,
                    &entries,
                    20,
                    &[("pkg:a/x", 0, 5, &[1]), ("pkg:a/x", 5, 20, &[7])],
                ),
            ),
        ];
        for (name, p) in cases {
            let mut c = fresh();
            assert!(check_page(p, 20, &root, &mut c).is_err(), "{name}");
        }
        let mut c = fresh();
        check_page(good, 20, &root, &mut c).expect("the good page");
    }

    #[test]
    fn listings_are_held_against_content() {
        let mut collected = Collected::default();
        collected.covered.insert(
            "pkg:a/x".into(),
            vec![Covered {
                key: "pkg:a/x".into(),
                start: 0,
                end: 10,
                indices: vec![1, 3],
            }],
        );
        let about = |k: &str| vec![k.to_string()];
        let ok: BTreeMap<u64, Vec<String>> = [
            (1, about("pkg:a/x")),
            (3, about("pkg:a/x")),
            (4, about("pkg:b/y")),
            (12, about("pkg:a/x")),
        ]
        .into();
        collected.check_listing(&ok).expect("consistent");
        // Listed but about something else.
        let wrong: BTreeMap<u64, Vec<String>> = [(1, about("pkg:b/y"))].into();
        assert!(collected.check_listing(&wrong).is_err());
        // About the key, inside a covered range, but left out.
        let hidden: BTreeMap<u64, Vec<String>> = [(5, about("pkg:a/x"))].into();
        assert!(collected.check_listing(&hidden).is_err());
    }
}
