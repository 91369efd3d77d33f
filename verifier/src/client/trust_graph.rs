//! The trust graph a client holds: every trust and revocation entry of the log up to a
//! checkpoint, verified as far as the client's roots can reach, and kept in the state
//! directory so that the next run fetches only what is new.
//!
//! # Verifying what can matter
//!
//! Weight enters the trust graph only at the policy's roots and flows along trust edges
//! (`spec/verifier-semantics.md` §3), so a statement by a key that no chain of verified
//! vouches leads to from a root can neither give nor take weight. Verifying it would cost
//! a strict Ed25519 verification and buy nothing. So the graph is verified outward from
//! the roots: every entry of a reached signer is verified in full (signature and
//! statement, exactly as every other entry); the keys its verified vouches name are reached
//! in turn; and only statements of reached signers go to the decision. The signer of an
//! entry not yet reached is read from the entry's protobuf (no signature check); a wrong one
//! only makes the entry unreached, and an entry is verified in full before it counts.
//! Entries stay in the graph unverified until some policy's roots reach them. The seeds are
//! the roots, plus every key the policy names (aliases), a superset that is always safe.
//!
//! # The cache
//!
//! `trust-graph/<log>.bin` holds the graph as of one checkpoint (size and root), for one
//! log key: per entry its index and either the entry (not yet reached), its verified claim,
//! or why it failed, with a SHA-256 over the file to catch damage. A run that finds a cache
//! for a smaller checkpoint proves the new checkpoint extends it (a consistency proof) and
//! asks the log only for trust-graph entries from the cached size on.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use quorum_c2sp::merkle::Hash;
use sha2::{Digest, Sha256};

use super::ClientError;
use super::memory::{read_limited, write_replacing};
use crate::decision::{Claim, ProvenStatement, Rejected, claims_from_statement};
use crate::model::index::is_trust_graph;
use crate::model::log_entry::{
    DecodedEntry, LogEntryError, claimed_signer, decode_verified_before, map_in_parallel,
    verify_log_entries_batch,
};
use crate::policy::Policy;
use crate::trust::{TrustLevel, TrustStance};

/// Where trust-graph verification starts and how far it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds {
    /// The keys verification starts from: the keys the policy names (its roots and
    /// aliases), a superset of where weight enters that is always safe.
    pub keys: Vec<[u8; 32]>,
    /// How many verified vouches away from them it goes: the policy's `max_depth`. Weight
    /// flows at most that many hops from a root (`trust::propagate`), so the statements of a
    /// key farther from every seed can neither give nor take weight.
    pub hops: u32,
}

impl Seeds {
    /// A policy's seeds.
    pub fn of(policy: &Policy) -> Result<Seeds, ClientError> {
        let mut keys: BTreeSet<[u8; 32]> = policy
            .root_keys()
            .map_err(|e| ClientError::Local(format!("policy: {e}")))?
            .into_iter()
            .collect();
        keys.extend(policy.aliases.values().copied());
        Ok(Seeds {
            keys: keys.into_iter().collect(),
            hops: policy.trust.max_depth,
        })
    }
}

const MAGIC: &[u8; 8] = b"QTGRAPH2";
/// The largest cache file read (100 million entries would not fit; 4 GiB is far beyond any
/// trust graph a client fetches).
const MAX_CACHE_BYTES: u64 = 4 << 30;

/// What the client knows about one trust-graph entry.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    /// Not verified yet: no root reached its signer (as its protobuf names it).
    Unchecked { signer: [u8; 32], bytes: Vec<u8> },
    /// Verified in full: its signer, envelope digest and claim (none for a scoped trust
    /// statement, which is not an edge of the global graph).
    Verified {
        signer: [u8; 32],
        digest: [u8; 32],
        claim: Option<Claim>,
    },
    /// Failed verification.
    Failed { signer: [u8; 32], reason: String },
}

/// How reached entries are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// In full: signature and statement (entries from a log's answer).
    Signatures,
    /// The statement only, for bytes verified in full before and proven to be those very
    /// bytes (a mirror's, by their leaf hashes; see
    /// [`crate::model::log_entry::decode_verified_before`]).
    VerifiedBefore,
}

/// Which trust-graph entries a graph holds, for its size.
#[derive(Debug, Clone, PartialEq)]
enum Scope {
    /// Every trust-graph entry of the log (a mirror's, saved evidence's).
    Whole,
    /// Every trust-graph entry of these signers (fetched signer by signer, as the seeds
    /// reach them).
    Signers(BTreeSet<[u8; 32]>),
}

/// What the roots reach in a trust graph.
#[derive(Debug, Clone)]
pub struct Reach {
    /// The statements of reached signers, one per claim.
    pub statements: Vec<ProvenStatement>,
    /// Entries of reached signers that failed verification.
    pub rejected: Vec<Rejected>,
    /// Every key reached: the seeds and every key a verified vouch of a reached key names,
    /// within the hops asked. It holds every key that can have trust weight.
    pub reached: HashSet<[u8; 32]>,
    /// Reached keys whose entries a graph held signer by signer does not hold: they must be
    /// fetched and the reach run again before anything rests on it (always empty for a
    /// whole graph).
    pub missing: Vec<[u8; 32]>,
}

/// The trust graph of one log as of one checkpoint.
#[derive(Debug, Clone)]
pub struct TrustGraph {
    origin: String,
    log_key: String,
    size: u64,
    root: Hash,
    scope: Scope,
    entries: BTreeMap<u64, Status>,
    /// Whether anything changed since it was loaded (or made).
    changed: bool,
}

impl TrustGraph {
    /// An empty graph (size 0) of the log `origin` with key `log_key`, that will hold every
    /// trust-graph entry.
    pub fn empty(origin: &str, log_key: &str) -> TrustGraph {
        TrustGraph {
            origin: origin.to_owned(),
            log_key: log_key.to_owned(),
            size: 0,
            root: quorum_c2sp::merkle::empty_root(),
            scope: Scope::Whole,
            entries: BTreeMap::new(),
            changed: true,
        }
    }

    /// An empty graph that will hold the trust-graph entries of the signers added with
    /// [`TrustGraph::add_signers`] only.
    pub fn by_signer(origin: &str, log_key: &str) -> TrustGraph {
        TrustGraph {
            scope: Scope::Signers(BTreeSet::new()),
            ..TrustGraph::empty(origin, log_key)
        }
    }

    /// The signers whose entries a graph held signer by signer holds; `None` for a whole
    /// graph.
    pub fn held_signers(&self) -> Option<&BTreeSet<[u8; 32]>> {
        match &self.scope {
            Scope::Whole => None,
            Scope::Signers(held) => Some(held),
        }
    }

    /// Adds every trust-graph entry of `signers` in `[0, self.size())` (all of them, proven
    /// under the graph's checkpoint) to a graph held signer by signer. Each entry must name
    /// one of `signers` (the caller checks which of them it was listed under).
    pub fn add_signers(
        &mut self,
        signers: &[[u8; 32]],
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<(), ClientError> {
        let Scope::Signers(held) = &mut self.scope else {
            return Err(ClientError::Local(
                "signers cannot be added to a graph that holds every entry".into(),
            ));
        };
        held.extend(signers.iter().copied());
        for (index, bytes) in entries {
            if index >= self.size {
                return Err(ClientError::Local(format!(
                    "trust-graph entry {index} is beyond the graph's size {}",
                    self.size
                )));
            }
            let status = match claimed_signer(&bytes) {
                Some(signer) if signers.contains(&signer) => Status::Unchecked { signer, bytes },
                _ => {
                    return Err(ClientError::evidence(format!(
                        "the log's evidence answer is wrong: entry {index} is listed under a signer's trust graph but names another signer"
                    )));
                }
            };
            self.entries.insert(index, status);
        }
        self.changed = true;
        Ok(())
    }

    /// Whether the graph changed since it was loaded: moved to another checkpoint or
    /// verified more entries (saving an unchanged graph is wasted work).
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// The tree size the graph is complete for.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of that tree.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds the trust-graph entries of `[self.size(), new_size)` (all of them, proven under
    /// the checkpoint of `new_size` and `new_root`) and moves the graph to that checkpoint.
    pub fn extend(
        &mut self,
        new_size: u64,
        new_root: Hash,
        entries: impl IntoIterator<Item = (u64, Vec<u8>)>,
    ) -> Result<(), ClientError> {
        if new_size < self.size {
            return Err(ClientError::Local(format!(
                "the trust graph is at size {} and cannot go back to {new_size}",
                self.size
            )));
        }
        for (index, bytes) in entries {
            if index < self.size || index >= new_size {
                return Err(ClientError::Local(format!(
                    "trust-graph entry {index} is outside [{}, {new_size})",
                    self.size
                )));
            }
            let status = match claimed_signer(&bytes) {
                Some(signer) => Status::Unchecked { signer, bytes },
                None => Status::Failed {
                    signer: [0; 32],
                    reason: "the entry is not a log entry with a 32-byte key".into(),
                },
            };
            self.entries.insert(index, status);
            self.changed = true;
        }
        if (new_size, new_root) != (self.size, self.root) {
            self.changed = true;
        }
        self.size = new_size;
        self.root = new_root;
        Ok(())
    }

    /// Verifies every entry the `seeds` can reach (at any distance) and returns the
    /// statements of reached signers (one per claim, undated: trust does not age) and their
    /// entries that failed. An entry that verifies but is not a trust or revocation
    /// statement was listed under the trust graph wrongly: an error.
    pub fn statements(
        &mut self,
        seeds: &[[u8; 32]],
    ) -> Result<(Vec<ProvenStatement>, Vec<Rejected>), ClientError> {
        self.reach(seeds, u32::MAX)
            .map(|r| (r.statements, r.rejected))
    }

    /// Verifies the entries of every key within `hops` verified vouches of the `seeds` and
    /// returns their statements, their failed entries and the keys reached.
    pub fn reach(&mut self, seeds: &[[u8; 32]], hops: u32) -> Result<Reach, ClientError> {
        self.reach_with(seeds, hops, Check::Signatures)
    }

    /// [`TrustGraph::reach`], checking reached entries as `check` says.
    pub fn reach_with(
        &mut self,
        seeds: &[[u8; 32]],
        hops: u32,
        check: Check,
    ) -> Result<Reach, ClientError> {
        let mut by_signer: HashMap<[u8; 32], Vec<u64>> = HashMap::new();
        for (index, status) in &self.entries {
            let signer = match status {
                Status::Unchecked { signer, .. }
                | Status::Verified { signer, .. }
                | Status::Failed { signer, .. } => *signer,
            };
            by_signer.entry(signer).or_default().push(*index);
        }
        let mut reached: HashSet<[u8; 32]> = seeds.iter().copied().collect();
        let mut frontier: Vec<[u8; 32]> = reached.iter().copied().collect();
        frontier.sort_unstable();
        let mut missing = Vec::new();
        let mut distance = 0u32;
        while !frontier.is_empty() {
            if let Scope::Signers(held) = &self.scope {
                missing.extend(frontier.iter().filter(|s| !held.contains(*s)));
            }
            let layer: Vec<u64> = frontier
                .iter()
                .filter_map(|s| by_signer.get(s))
                .flatten()
                .copied()
                .collect();
            self.verify_unchecked(&layer, check)?;
            if distance >= hops {
                // The keys this layer vouches for are farther than weight flows.
                break;
            }
            distance += 1;
            let mut next = Vec::new();
            for index in &layer {
                if let Some(Status::Verified {
                    claim:
                        Some(Claim::Trust {
                            subject,
                            level: TrustStance::Vouch(_),
                        }),
                    ..
                }) = self.entries.get(index)
                    && reached.insert(*subject)
                {
                    next.push(*subject);
                }
            }
            next.sort_unstable();
            frontier = next;
        }
        let mut statements = Vec::new();
        let mut rejected = Vec::new();
        for (index, status) in &self.entries {
            match status {
                Status::Verified {
                    signer,
                    digest,
                    claim: Some(claim),
                } if reached.contains(signer) => statements.push(ProvenStatement {
                    index: *index,
                    signer: *signer,
                    envelope_digest: *digest,
                    first_cosigned_at: None,
                    claim: claim.clone(),
                }),
                Status::Failed { signer, reason } if reached.contains(signer) => {
                    rejected.push(Rejected {
                        index: *index,
                        reason: format!("entry does not verify: {reason}"),
                    })
                }
                _ => {}
            }
        }
        Ok(Reach {
            statements,
            rejected,
            reached,
            missing,
        })
    }

    /// Verifies the unchecked entries among `indices`, on every core.
    fn verify_unchecked(&mut self, indices: &[u64], check: Check) -> Result<(), ClientError> {
        let todo: Vec<(u64, [u8; 32], &[u8])> = indices
            .iter()
            .filter_map(|i| match self.entries.get(i) {
                Some(Status::Unchecked { signer, bytes }) => Some((*i, *signer, bytes.as_slice())),
                _ => None,
            })
            .collect();
        if todo.is_empty() {
            return Ok(());
        }
        let bytes: Vec<&[u8]> = todo.iter().map(|(_, _, b)| *b).collect();
        let results: Vec<Result<DecodedEntry, LogEntryError>> = match check {
            Check::Signatures => verify_log_entries_batch(&bytes)
                .into_iter()
                .map(|r| {
                    r.map(|v| DecodedEntry {
                        signer: v.signer,
                        envelope_digest: v.envelope_digest,
                        statement: v.statement,
                    })
                })
                .collect(),
            Check::VerifiedBefore => map_in_parallel(&bytes, |b| decode_verified_before(b)),
        };
        let mut updates = Vec::with_capacity(todo.len());
        for ((index, signer, _), result) in todo.iter().zip(results) {
            let status = match result {
                Ok(entry) => {
                    if !is_trust_graph(&entry.statement) {
                        return Err(ClientError::evidence(format!(
                            "the log's evidence answer is wrong: entry {index} is listed under the trust graph but is not a trust or revocation statement"
                        )));
                    }
                    let mut claims = claims_from_statement(&entry.statement);
                    Status::Verified {
                        signer: entry.signer,
                        digest: entry.envelope_digest,
                        claim: claims.pop(),
                    }
                }
                Err(e) => Status::Failed {
                    signer: *signer,
                    reason: e.to_string(),
                },
            };
            updates.push((*index, status));
        }
        self.changed = true;
        self.entries.extend(updates);
        Ok(())
    }

    /// Reads a cached graph for `origin` and `log_key`; `Ok(None)` when there is none or it
    /// is for another log or key, `Err` (a message) when it is damaged.
    pub fn load(path: &Path, origin: &str, log_key: &str) -> Result<Option<TrustGraph>, String> {
        let data = match read_limited(path, MAX_CACHE_BYTES) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        TrustGraph::decode(&data, origin, log_key)
            .map_err(|what| format!("{} is damaged ({what})", path.display()))
    }

    /// Decodes a cache file's bytes (see [`TrustGraph::load`]); `Err` says what is damaged.
    pub fn decode(data: &[u8], origin: &str, log_key: &str) -> Result<Option<TrustGraph>, String> {
        let damaged = |what: &str| what.to_string();
        let Some((body, digest)) = data.split_at_checked(data.len().saturating_sub(32)) else {
            return Err(damaged("too short"));
        };
        if Sha256::digest(body).as_slice() != digest {
            return Err(damaged("checksum"));
        }
        let mut r = Reader { rest: body };
        if r.take(8).ok_or_else(|| damaged("header"))? != MAGIC {
            return Ok(None);
        }
        let file_origin = r.text().ok_or_else(|| damaged("origin"))?;
        let file_key = r.text().ok_or_else(|| damaged("log key"))?;
        if file_origin != origin || file_key != log_key {
            return Ok(None);
        }
        let size = r.u64().ok_or_else(|| damaged("size"))?;
        let root: Hash = r.array().ok_or_else(|| damaged("root"))?;
        let scope = match r.u8().ok_or_else(|| damaged("scope"))? {
            0 => Scope::Whole,
            1 => {
                let n = r.u64().ok_or_else(|| damaged("signers"))?;
                let mut held = BTreeSet::new();
                for _ in 0..n {
                    held.insert(r.array().ok_or_else(|| damaged("signers"))?);
                }
                Scope::Signers(held)
            }
            _ => return Err(damaged("scope")),
        };
        let count = r.u64().ok_or_else(|| damaged("count"))?;
        let mut entries = BTreeMap::new();
        for _ in 0..count {
            let index = r.u64().ok_or_else(|| damaged("entry"))?;
            let status = r.status().ok_or_else(|| damaged("entry"))?;
            if index >= size {
                return Err(damaged("entry beyond its size"));
            }
            entries.insert(index, status);
        }
        if !r.rest.is_empty() {
            return Err(damaged("trailing data"));
        }
        Ok(Some(TrustGraph {
            origin: origin.to_owned(),
            log_key: log_key.to_owned(),
            size,
            root,
            scope,
            entries,
            changed: false,
        }))
    }

    /// Writes the graph to `path` (atomically).
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 120);
        out.extend_from_slice(MAGIC);
        put_text(&mut out, &self.origin);
        put_text(&mut out, &self.log_key);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.root);
        match &self.scope {
            Scope::Whole => out.push(0),
            Scope::Signers(held) => {
                out.push(1);
                out.extend_from_slice(&(held.len() as u64).to_be_bytes());
                for signer in held {
                    out.extend_from_slice(signer);
                }
            }
        }
        out.extend_from_slice(&(self.entries.len() as u64).to_be_bytes());
        for (index, status) in &self.entries {
            out.extend_from_slice(&index.to_be_bytes());
            put_status(&mut out, status);
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        // A cache: not synced (a crash leaves a file whose digest fails, and the next run
        // fetches the graph again).
        write_replacing(path, &out, false)
            .map_err(|e| ClientError::Local(format!("writing {}: {e}", path.display())))
    }
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    // Origins and keys are far below 64 KiB; longer text is cut, which only makes the
    // cache miss next time.
    let bytes = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn stance_byte(stance: &TrustStance) -> u8 {
    match stance {
        TrustStance::Withdrawn => 0,
        TrustStance::Distrust => 1,
        TrustStance::Vouch(TrustLevel::Low) => 2,
        TrustStance::Vouch(TrustLevel::Medium) => 3,
        TrustStance::Vouch(TrustLevel::High) => 4,
    }
}

fn stance_of(byte: u8) -> Option<TrustStance> {
    Some(match byte {
        0 => TrustStance::Withdrawn,
        1 => TrustStance::Distrust,
        2 => TrustStance::Vouch(TrustLevel::Low),
        3 => TrustStance::Vouch(TrustLevel::Medium),
        4 => TrustStance::Vouch(TrustLevel::High),
        _ => return None,
    })
}

fn put_status(out: &mut Vec<u8>, status: &Status) {
    match status {
        Status::Unchecked { signer, bytes } => {
            out.push(0);
            out.extend_from_slice(signer);
            // Entries are at most 65,535 bytes (checked when the graph was extended).
            out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        Status::Verified {
            signer,
            digest,
            claim,
        } => {
            out.push(1);
            out.extend_from_slice(signer);
            out.extend_from_slice(digest);
            match claim {
                Some(Claim::Trust { subject, level }) => {
                    out.push(1);
                    out.push(stance_byte(level));
                    out.extend_from_slice(subject);
                }
                Some(Claim::Revocation { revoked }) => {
                    out.push(2);
                    out.extend_from_slice(revoked);
                }
                // Trust-graph entries carry no other claims (checked when verified).
                _ => out.push(0),
            }
        }
        Status::Failed { signer, reason } => {
            out.push(2);
            out.extend_from_slice(signer);
            put_text(out, reason);
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn text(&mut self) -> Option<String> {
        let len = usize::from(self.u16()?);
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
    fn status(&mut self) -> Option<Status> {
        match self.u8()? {
            0 => {
                let signer = self.array()?;
                let len = usize::from(self.u16()?);
                Some(Status::Unchecked {
                    signer,
                    bytes: self.take(len)?.to_vec(),
                })
            }
            1 => {
                let signer = self.array()?;
                let digest = self.array()?;
                let claim = match self.u8()? {
                    0 => None,
                    1 => {
                        let level = stance_of(self.u8()?)?;
                        Some(Claim::Trust {
                            subject: self.array()?,
                            level,
                        })
                    }
                    2 => Some(Claim::Revocation {
                        revoked: self.array()?,
                    }),
                    _ => return None,
                };
                Some(Status::Verified {
                    signer,
                    digest,
                    claim,
                })
            }
            2 => {
                let signer = self.array()?;
                Some(Status::Failed {
                    signer,
                    reason: self.text()?,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use crate::model::log_entry::LogEntry;
    use crate::model::predicates::{self, Predicate, Revocation, Trust};
    use crate::model::statement::Subject;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn public(n: u8) -> [u8; 32] {
        key(n).verifying_key().to_bytes()
    }

    fn entry(by: u8, envelope_key: u8, predicate: Predicate, subject: Subject) -> Vec<u8> {
        let statement = predicate.into_statement(vec![subject]);
        LogEntry {
            receipt_time_millis: 1,
            envelope: Envelope::sign(
                IN_TOTO_PAYLOAD_TYPE,
                statement.to_json(),
                &key(envelope_key),
            ),
            public_key: public(by),
        }
        .encode()
        .expect("entry")
    }

    fn vouch(by: u8, for_: u8) -> Vec<u8> {
        entry(
            by,
            by,
            Predicate::Trust(Trust {
                key: hex::encode(public(for_)),
                level: predicates::TrustLevel::High,
                scope: None,
                comment: None,
            }),
            Subject::key(&public(for_)),
        )
    }

    /// Root 1 vouches for 2, 2 for 3; 7 and 8 (unreached) vouch for each other; 3's second
    /// statement is forged (signed by 9); 2 revokes something.
    fn graph() -> TrustGraph {
        let mut g = TrustGraph::empty("o", "k");
        g.extend(
            7,
            [1; 32],
            entries()
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i as u64, e)),
        )
        .expect("extend");
        g
    }

    /// The entries of [`graph`], by index.
    fn entries() -> Vec<Vec<u8>> {
        vec![
            vouch(1, 2),
            vouch(2, 3),
            vouch(7, 8),
            vouch(8, 7),
            entry(
                3,
                9,
                Predicate::Trust(Trust {
                    key: hex::encode(public(4)),
                    level: predicates::TrustLevel::High,
                    scope: None,
                    comment: None,
                }),
                Subject::key(&public(4)),
            ),
            entry(
                2,
                2,
                Predicate::Revocation(Revocation {
                    envelope_digest: hex::encode([5u8; 32]),
                    reason: None,
                    provenance: None,
                }),
                Subject::envelope(&[5; 32]),
            ),
            b"not an entry".to_vec(),
        ]
    }

    #[test]
    fn held_signer_by_signer_it_names_what_is_missing_and_stops_at_the_hops() {
        let all = entries();
        let of = |indices: &[usize]| -> Vec<(u64, Vec<u8>)> {
            indices
                .iter()
                .map(|&i| (i as u64, all[i].clone()))
                .collect()
        };
        let mut g = TrustGraph::by_signer("o", "k");
        g.extend(7, [1; 32], []).expect("extend");
        g.add_signers(&[public(1)], of(&[0])).expect("root");
        let r = g.reach(&[public(1)], 6).expect("reach");
        assert_eq!(
            r.missing,
            vec![public(2)],
            "1 vouches for 2, whose entries are not held"
        );
        g.add_signers(&[public(2)], of(&[1, 5])).expect("2");
        assert_eq!(
            g.reach(&[public(1)], 6).expect("reach").missing,
            vec![public(3)]
        );
        g.add_signers(&[public(3)], of(&[4])).expect("3");
        let r = g.reach(&[public(1)], 6).expect("reach");
        assert!(r.missing.is_empty());
        let indices: Vec<u64> = r.statements.iter().map(|s| s.index).collect();
        assert_eq!(
            indices,
            vec![0, 1, 5],
            "the unreached ring was never fetched"
        );
        assert_eq!(r.rejected.len(), 1, "3's forged statement");

        // One hop: 2 is reached, its vouch for 3 is farther than weight flows.
        let r = g.reach(&[public(1)], 1).expect("reach");
        assert!(r.reached.contains(&public(2)) && !r.reached.contains(&public(3)));
        let indices: Vec<u64> = r.statements.iter().map(|s| s.index).collect();
        assert_eq!(indices, vec![0, 1, 5]);

        // An entry listed under a signer it does not name is a contradiction.
        assert!(matches!(
            g.add_signers(&[public(9)], of(&[2])),
            Err(ClientError::Evidence(_))
        ));
        // A whole graph takes no signers.
        assert!(graph().add_signers(&[public(1)], []).is_err());

        // The cache keeps which signers are held.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("graph.bin");
        g.save(&path).expect("save");
        let loaded = TrustGraph::load(&path, "o", "k")
            .expect("load")
            .expect("some");
        assert_eq!(loaded.held_signers(), g.held_signers());
        assert_eq!(loaded.entries, g.entries);
        let whole = graph();
        whole.save(&path).expect("save");
        let loaded = TrustGraph::load(&path, "o", "k")
            .expect("load")
            .expect("some");
        assert_eq!(loaded.held_signers(), None);
    }

    #[test]
    fn verifies_outward_from_the_roots_only() {
        let mut g = graph();
        let (statements, rejected) = g.statements(&[public(1)]).expect("statements");
        let indices: Vec<u64> = statements.iter().map(|s| s.index).collect();
        assert_eq!(indices, vec![0, 1, 5], "1→2, 2→3 and 2's revocation");
        assert_eq!(rejected.len(), 1, "3's forged statement: {rejected:?}");
        assert_eq!(rejected[0].index, 4);
        // The unreached ring was never verified.
        assert!(matches!(g.entries.get(&2), Some(Status::Unchecked { .. })));
        assert!(matches!(g.entries.get(&3), Some(Status::Unchecked { .. })));
        // Another root reaches the ring; its statements are verified then.
        let (statements, _) = g.statements(&[public(7)]).expect("statements");
        let indices: Vec<u64> = statements.iter().map(|s| s.index).collect();
        assert_eq!(indices, vec![2, 3]);
    }

    #[test]
    fn a_non_trust_entry_under_the_trust_graph_is_a_contradiction() {
        let mut g = TrustGraph::empty("o", "k");
        let adoption = entry(
            1,
            1,
            Predicate::Adoption(predicates::Adoption {
                status: predicates::AdoptionStatus::Adopted,
                comment: None,
            }),
            Subject::package_version("pkg:cargo/x@1.0.0", [1; 32]),
        );
        g.extend(1, [0; 32], [(0, adoption)]).expect("extend");
        assert!(matches!(
            g.statements(&[public(1)]),
            Err(ClientError::Evidence(_))
        ));
    }

    #[test]
    fn the_cache_round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("graph.bin");
        let mut g = graph();
        let expected = g.statements(&[public(1)]).expect("statements");
        g.save(&path).expect("save");
        let mut loaded = TrustGraph::load(&path, "o", "k")
            .expect("load")
            .expect("some");
        assert_eq!(loaded.size(), 7);
        assert_eq!(loaded.entries, g.entries);
        assert!(!loaded.is_changed());
        assert_eq!(
            loaded.statements(&[public(1)]).expect("statements"),
            expected
        );
        assert!(!loaded.is_changed(), "nothing new was verified");
        loaded.statements(&[public(7)]).expect("statements");
        assert!(loaded.is_changed(), "the ring was verified");
        assert!(
            TrustGraph::load(&path, "o", "other key")
                .expect("load")
                .is_none()
        );
        assert!(
            TrustGraph::load(&path, "other", "k")
                .expect("load")
                .is_none()
        );
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[40] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        assert!(TrustGraph::load(&path, "o", "k").is_err());
        assert!(
            TrustGraph::load(&dir.path().join("none"), "o", "k")
                .expect("load")
                .is_none()
        );
        // Extending refuses entries outside the new range.
        let mut g = graph();
        assert!(g.extend(8, [0; 32], [(3, vouch(1, 2))]).is_err());
        assert!(g.extend(6, [0; 32], []).is_err());
    }
}
