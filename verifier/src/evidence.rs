//! Evidence: from an evidence bundle served by a log to the statements a decision may count.
//!
//! This is `spec/verifier-semantics.md` §1 in code. Failures of the checkpoint itself (log
//! signature, witness quorum, rollback, fork) are errors: nothing in such a bundle can be
//! trusted. Failures of one entry (no valid inclusion proof, bad envelope signature, invalid
//! statement) only reject that entry, with its reason, so one bad entry cannot hide the rest.

use std::collections::BTreeSet;

use quorum_proto::v1::EvidenceBundle;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::decision::{ProvenStatement, Rejected, claims_from_statement};
use crate::model::log_entry::verify_log_entry;
use crate::policy::Policy;
use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle::{self, Hash};
use quorum_c2sp::witness_policy::{PolicyCheckError, PolicyVerifiedCheckpoint, WitnessPolicy};

/// The most entries one bundle may carry.
pub const MAX_BUNDLE_ENTRIES: usize = 100_000;

/// Why a bundle as a whole was rejected.
#[derive(Debug, Error)]
pub enum EvidenceError {
    /// The policy names no log, or its log and witness lines do not form a valid tlog-policy.
    #[error("policy: {0}")]
    Policy(String),
    /// The bundle is for another log.
    #[error("the bundle is for log {got:?}, the policy trusts {expected:?}")]
    WrongLog {
        /// The bundle's origin.
        got: String,
        /// The policy's origin.
        expected: String,
    },
    /// The checkpoint is not signed by the log or lacks the witness quorum.
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] Box<PolicyCheckError>),
    /// The log served a smaller tree than one this client already saw.
    #[error(
        "rollback: the log served checkpoint {served} but this client already saw {seen}; refusing to go back"
    )]
    Rollback {
        /// The checkpoint served now.
        served: Box<CheckpointRef>,
        /// The checkpoint seen before.
        seen: Box<CheckpointRef>,
    },
    /// The served checkpoint cannot be an extension of the one seen before: a split view.
    #[error("fork: checkpoint {served} is not consistent with {seen} seen before: {reason}")]
    Fork {
        /// The checkpoint served now.
        served: Box<CheckpointRef>,
        /// The checkpoint seen before.
        seen: Box<CheckpointRef>,
        /// What failed.
        reason: String,
    },
    /// The bundle is larger than this verifier accepts.
    #[error("the bundle has {0} entries; the limit is {MAX_BUNDLE_ENTRIES}")]
    TooManyEntries(usize),
}

/// A checkpoint's identity: what a client stores to detect rollbacks and forks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRef {
    /// The log's origin.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash, lowercase hex.
    pub root_hash: String,
}

impl CheckpointRef {
    /// The reference of a parsed checkpoint.
    pub fn of(checkpoint: &Checkpoint) -> CheckpointRef {
        CheckpointRef {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root_hash: hex::encode(checkpoint.root_hash),
        }
    }

    fn root(&self) -> Option<Hash> {
        let mut root = [0u8; 32];
        hex::decode_to_slice(&self.root_hash, &mut root).ok()?;
        Some(root)
    }
}

impl std::fmt::Display for CheckpointRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} size {} root {}",
            self.origin, self.size, self.root_hash
        )
    }
}

/// The log and witnesses a client trusts, from its policy.
#[derive(Debug)]
pub struct LogTrust {
    origin: String,
    witness_policy: WitnessPolicy,
}

impl LogTrust {
    /// Builds the trust from the policy's `[log]` and `[witnesses]` sections. The witness
    /// policy is C2SP tlog-policy text; the `[log]` key is added as its `log` line.
    pub fn from_policy(policy: &Policy) -> Result<LogTrust, EvidenceError> {
        let log = policy.log.as_ref().ok_or_else(|| {
            EvidenceError::Policy("the policy has no [log] section naming the log to trust".into())
        })?;
        let mut text = format!("log {}\n", log.key);
        if let Some(witnesses) = &policy.witnesses.policy {
            text.push_str(witnesses);
            text.push('\n');
        }
        let witness_policy = WitnessPolicy::parse(text.as_bytes())
            .map_err(|e| EvidenceError::Policy(format!("[witnesses] policy: {e}")))?;
        Ok(LogTrust {
            origin: log.origin.clone(),
            witness_policy,
        })
    }

    /// The trusted log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Verifies a signed checkpoint: log signature and witness quorum.
    pub fn verify_checkpoint(
        &self,
        note: &[u8],
    ) -> Result<PolicyVerifiedCheckpoint, EvidenceError> {
        let verified = self
            .witness_policy
            .verify_checkpoint(note)
            .map_err(Box::new)?;
        if verified.checkpoint.origin != self.origin {
            return Err(EvidenceError::WrongLog {
                got: verified.checkpoint.origin,
                expected: self.origin.clone(),
            });
        }
        Ok(verified)
    }
}

/// The latest cosignature time among a checkpoint's verified witness cosignatures: by then
/// the quorum had seen the tree. Using the latest makes provable ages conservative.
pub fn witnessed_at(checkpoint: &PolicyVerifiedCheckpoint) -> u64 {
    checkpoint
        .cosignatures
        .iter()
        .map(|(_, c)| c.timestamp)
        .max()
        .unwrap_or(0)
}

/// Checks that `served` may follow `seen` (the last checkpoint this client stored): same or
/// larger size, and for a larger size a valid consistency proof among `proofs`.
pub fn check_consistency(
    seen: &CheckpointRef,
    served: &Checkpoint,
    proofs: &[(u64, Vec<Hash>)],
) -> Result<(), EvidenceError> {
    let served_ref = CheckpointRef::of(served);
    let fork = |reason: String| EvidenceError::Fork {
        served: Box::new(served_ref.clone()),
        seen: Box::new(seen.clone()),
        reason,
    };
    if seen.origin != served.origin {
        return Err(EvidenceError::WrongLog {
            got: served.origin.clone(),
            expected: seen.origin.clone(),
        });
    }
    let seen_root = seen
        .root()
        .ok_or_else(|| fork("the stored checkpoint's root hash is not 32 hex bytes".into()))?;
    if served.size < seen.size {
        return Err(EvidenceError::Rollback {
            served: Box::new(served_ref),
            seen: Box::new(seen.clone()),
        });
    }
    if served.size == seen.size {
        return if served.root_hash == seen_root {
            Ok(())
        } else {
            Err(fork("same size, different root hash".into()))
        };
    }
    let Some((_, proof)) = proofs.iter().find(|(old, _)| *old == seen.size) else {
        return Err(fork(format!(
            "the log sent no consistency proof from size {}",
            seen.size
        )));
    };
    merkle::verify_consistency(seen.size, served.size, &seen_root, &served.root_hash, proof)
        .map_err(|e| fork(format!("consistency proof: {e}")))
}

/// What a bundle proved.
#[derive(Debug, Clone)]
pub struct VerifiedEvidence {
    /// The checkpoint everything was proven under.
    pub checkpoint: Checkpoint,
    /// Its reference, to store as the last checkpoint seen.
    pub checkpoint_ref: CheckpointRef,
    /// Policy names of the witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// The decision time: see [`witnessed_at`].
    pub witnessed_at: u64,
    /// Statements proven logged, one per claim.
    pub statements: Vec<ProvenStatement>,
    /// Entries that were not counted, and why.
    pub rejected: Vec<Rejected>,
    /// Problems that cost nothing but precision, such as an earlier checkpoint that did not
    /// verify (its entries are then dated by later checkpoints only).
    pub warnings: Vec<String>,
}

fn hashes(raw: &[Vec<u8>]) -> Option<Vec<Hash>> {
    raw.iter()
        .map(|h| Hash::try_from(h.as_slice()).ok())
        .collect()
}

/// Verifies a bundle against the client's trust and the last checkpoint it saw.
pub fn verify_bundle(
    bundle: &EvidenceBundle,
    trust: &LogTrust,
    last_seen: Option<&CheckpointRef>,
) -> Result<VerifiedEvidence, EvidenceError> {
    if bundle.log_origin != trust.origin {
        return Err(EvidenceError::WrongLog {
            got: bundle.log_origin.clone(),
            expected: trust.origin.clone(),
        });
    }
    if bundle.entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(EvidenceError::TooManyEntries(bundle.entries.len()));
    }
    let main = trust.verify_checkpoint(&bundle.checkpoint)?;
    let checkpoint = main.checkpoint.clone();
    if let Some(seen) = last_seen {
        let proofs: Vec<(u64, Vec<Hash>)> = bundle
            .consistency_proofs
            .iter()
            .filter(|p| p.new_size == checkpoint.size)
            .filter_map(|p| Some((p.old_size, hashes(&p.hashes)?)))
            .collect();
        check_consistency(seen, &checkpoint, &proofs)?;
    }

    // Earlier checkpoints date entries; each must verify and be consistent with the main one.
    let mut warnings = Vec::new();
    let mut dated: Vec<(u64, u64)> = vec![(checkpoint.size, witnessed_at(&main))];
    for (i, historical) in bundle.history.iter().enumerate() {
        let outcome = trust
            .verify_checkpoint(&historical.checkpoint)
            .and_then(|old| {
                let proof = hashes(&historical.consistency_proof)
                    .ok_or_else(|| EvidenceError::Policy("a proof hash is not 32 bytes".into()))?;
                let proofs = [(old.checkpoint.size, proof)];
                check_consistency(&CheckpointRef::of(&old.checkpoint), &checkpoint, &proofs)?;
                Ok((old.checkpoint.size, witnessed_at(&old)))
            });
        match outcome {
            Ok(point) => dated.push(point),
            Err(e) => warnings.push(format!("earlier checkpoint {i} ignored: {e}")),
        }
    }
    let first_cosigned = |index: u64| {
        dated
            .iter()
            .filter(|(size, _)| *size > index)
            .map(|(_, time)| *time)
            .min()
    };

    let mut statements = Vec::new();
    let mut rejected = Vec::new();
    let mut seen_indices = BTreeSet::new();
    for entry in &bundle.entries {
        let index = entry.index;
        let mut reject = |reason: String| rejected.push(Rejected { index, reason });
        if !seen_indices.insert(index) {
            reject("the bundle lists this entry twice; counted once".into());
            continue;
        }
        let Some(proof) = hashes(&entry.inclusion_proof) else {
            reject("inclusion proof hash is not 32 bytes".into());
            continue;
        };
        let leaf = merkle::leaf_hash(&entry.log_entry);
        if let Err(e) =
            merkle::verify_inclusion(&leaf, index, checkpoint.size, &proof, &checkpoint.root_hash)
        {
            reject(format!(
                "not proven included under checkpoint size {}: {e}",
                checkpoint.size
            ));
            continue;
        }
        let verified = match verify_log_entry(&entry.log_entry) {
            Ok(v) => v,
            Err(e) => {
                reject(format!("entry does not verify: {e}"));
                continue;
            }
        };
        let first_cosigned_at = first_cosigned(index);
        for claim in claims_from_statement(&verified.statement) {
            statements.push(ProvenStatement {
                index,
                signer: verified.signer,
                envelope_digest: verified.envelope_digest,
                first_cosigned_at,
                claim,
            });
        }
    }
    Ok(VerifiedEvidence {
        checkpoint_ref: CheckpointRef::of(&checkpoint),
        witnesses: main.cosignatures.iter().map(|(n, _)| n.clone()).collect(),
        witnessed_at: witnessed_at(&main),
        checkpoint,
        statements,
        rejected,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Claim, Evaluation, Verdict};
    use crate::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use crate::model::log_entry::LogEntry;
    use crate::model::predicates::{Adoption, AdoptionStatus, Predicate};
    use crate::model::statement::Subject;
    use quorum_c2sp::cosignature::CosignatureSigner;
    use quorum_c2sp::merkle::MemoryTree;
    use quorum_c2sp::note::{self, Ed25519Signer};
    use quorum_proto::v1::{BundleEntry, ConsistencyProof, HistoricalCheckpoint};

    const ORIGIN: &str = "example.test/log";

    struct TestLog {
        tree: MemoryTree,
        entries: Vec<Vec<u8>>,
        log: Ed25519Signer,
        witnesses: Vec<CosignatureSigner>,
    }

    impl TestLog {
        fn new() -> TestLog {
            TestLog {
                tree: MemoryTree::new(),
                entries: Vec::new(),
                log: Ed25519Signer::from_seed(ORIGIN, &[1; 32]).unwrap(),
                witnesses: vec![
                    CosignatureSigner::from_seed("w1.test", &[2; 32]).unwrap(),
                    CosignatureSigner::from_seed("w2.test", &[3; 32]).unwrap(),
                ],
            }
        }

        fn policy(&self, quorum: &str) -> Policy {
            let me = SigningKey::from_bytes(&[9; 32]);
            Policy::parse(&format!(
                "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w1 {}\nwitness w2 {}\ngroup both all w1 w2\nquorum {quorum}\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n",
                self.log.vkey(),
                self.witnesses[0].vkey(),
                self.witnesses[1].vkey(),
                hex::encode(me.verifying_key().to_bytes()),
            ))
            .unwrap()
        }

        fn adopt(&mut self, seed: u8, version: &str) -> u64 {
            let key = SigningKey::from_bytes(&[seed; 32]);
            let statement = Predicate::Adoption(Adoption {
                status: AdoptionStatus::Adopted,
                comment: None,
            })
            .into_statement(vec![Subject::package_version(
                &format!("pkg:cargo/demo@{version}"),
                [5; 32],
            )]);
            let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &key);
            let entry = LogEntry {
                receipt_time_millis: 0,
                envelope,
                public_key: key.verifying_key().to_bytes(),
            }
            .encode()
            .unwrap();
            self.entries.push(entry.clone());
            self.tree.append(&entry)
        }

        /// A checkpoint of the current tree, cosigned by the witnesses at `time`.
        fn checkpoint(&self, time: u64, cosigners: usize) -> Vec<u8> {
            let checkpoint = Checkpoint {
                origin: ORIGIN.into(),
                size: self.tree.size(),
                root_hash: self.tree.root(),
                extensions: vec![],
            };
            let mut signed = checkpoint.sign(&[&self.log]).unwrap();
            for w in self.witnesses.iter().take(cosigners) {
                signed = note::add_signatures(&signed, &[&w.at(time)]).unwrap();
            }
            signed
        }

        fn bundle(&self, checkpoint: Vec<u8>, indices: &[u64]) -> EvidenceBundle {
            let size = self.tree.size();
            EvidenceBundle {
                log_origin: ORIGIN.into(),
                checkpoint,
                entries: indices
                    .iter()
                    .map(|&i| BundleEntry {
                        index: i,
                        log_entry: self.entries[i as usize].clone(),
                        inclusion_proof: self
                            .tree
                            .prove_inclusion(i, size)
                            .unwrap()
                            .into_iter()
                            .map(|h| h.to_vec())
                            .collect(),
                    })
                    .collect(),
                consistency_proofs: vec![],
                history: vec![],
            }
        }
    }

    #[test]
    fn verified_bundle_yields_statements_dated_by_history() {
        let mut log = TestLog::new();
        log.adopt(10, "1.0.0");
        log.adopt(11, "1.0.0");
        let early = log.checkpoint(1_000, 2);
        let early_size = log.tree.size();
        log.adopt(12, "1.0.0");
        let mut bundle = log.bundle(log.checkpoint(5_000, 2), &[0, 1, 2]);
        bundle.history.push(HistoricalCheckpoint {
            checkpoint: early,
            consistency_proof: log
                .tree
                .prove_consistency(early_size, log.tree.size())
                .unwrap()
                .into_iter()
                .map(|h| h.to_vec())
                .collect(),
        });
        let policy = log.policy("both");
        let trust = LogTrust::from_policy(&policy).unwrap();
        let evidence = verify_bundle(&bundle, &trust, None).unwrap();
        assert!(evidence.rejected.is_empty(), "{:?}", evidence.rejected);
        assert!(evidence.warnings.is_empty(), "{:?}", evidence.warnings);
        assert_eq!(evidence.witnessed_at, 5_000);
        assert_eq!(evidence.witnesses.len(), 2);
        let dates: Vec<Option<u64>> = evidence
            .statements
            .iter()
            .map(|s| s.first_cosigned_at)
            .collect();
        assert_eq!(dates, [Some(1_000), Some(1_000), Some(5_000)]);
        assert!(matches!(
            evidence.statements[0].claim,
            Claim::Adoption { .. }
        ));
        // The statements feed a decision (signers unreached by the root: none counted; the
        // policy has no rule, so its default fallback leaves the version undecided).
        let d = Evaluation::new(&policy, &evidence.statements, evidence.witnessed_at)
            .unwrap()
            .decide("pkg:cargo/demo", "1.0.0");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
        assert_eq!(d.rejected.len(), 3);
    }

    #[test]
    fn missing_quorum_and_wrong_log_are_errors() {
        let mut log = TestLog::new();
        log.adopt(10, "1.0.0");
        let trust = LogTrust::from_policy(&log.policy("both")).unwrap();
        let one_witness = log.bundle(log.checkpoint(1, 1), &[0]);
        assert!(matches!(
            verify_bundle(&one_witness, &trust, None),
            Err(EvidenceError::Checkpoint(e)) if matches!(*e, PolicyCheckError::QuorumNotSatisfied { .. })
        ));
        let mut other = log.bundle(log.checkpoint(1, 2), &[0]);
        other.log_origin = "other.test/log".into();
        assert!(matches!(
            verify_bundle(&other, &trust, None),
            Err(EvidenceError::WrongLog { .. })
        ));
        // A checkpoint signed by another key under the same name is rejected.
        let mut forged = TestLog::new();
        forged.log = Ed25519Signer::from_seed(ORIGIN, &[7; 32]).unwrap();
        forged.adopt(10, "1.0.0");
        let bundle = forged.bundle(forged.checkpoint(1, 2), &[0]);
        assert!(verify_bundle(&bundle, &trust, None).is_err());
    }

    #[test]
    fn unproven_and_forged_entries_are_rejected_not_fatal() {
        let mut log = TestLog::new();
        log.adopt(10, "1.0.0");
        log.adopt(11, "1.0.0");
        let trust = LogTrust::from_policy(&log.policy("both")).unwrap();
        let mut bundle = log.bundle(log.checkpoint(1, 2), &[0, 1]);
        // Entry 1 claims a leaf that is not in the tree.
        bundle.entries[1].log_entry[5] ^= 1;
        // Entry 0 listed twice.
        bundle.entries.push(bundle.entries[0].clone());
        // An entry whose proof has a short hash.
        let mut short = bundle.entries[0].clone();
        short.index = 7;
        short.inclusion_proof = vec![vec![0; 3]];
        bundle.entries.push(short);
        let evidence = verify_bundle(&bundle, &trust, None).unwrap();
        assert_eq!(evidence.statements.len(), 1);
        let reasons: Vec<&str> = evidence
            .rejected
            .iter()
            .map(|r| r.reason.as_str())
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("not proven included"));
        assert!(reasons[1].contains("twice"));
        assert!(reasons[2].contains("32 bytes"));
    }

    #[test]
    fn rollback_and_fork_are_caught() {
        let mut log = TestLog::new();
        log.adopt(10, "1.0.0");
        log.adopt(11, "1.0.0");
        let trust = LogTrust::from_policy(&log.policy("both")).unwrap();
        let old = log.bundle(log.checkpoint(1, 2), &[0]);
        let seen_old = verify_bundle(&old, &trust, None).unwrap().checkpoint_ref;
        log.adopt(12, "1.0.0");
        let mut new = log.bundle(log.checkpoint(2, 2), &[0]);
        // Without a consistency proof from the size seen, the client cannot accept it.
        assert!(matches!(
            verify_bundle(&new, &trust, Some(&seen_old)),
            Err(EvidenceError::Fork { .. })
        ));
        new.consistency_proofs.push(ConsistencyProof {
            old_size: seen_old.size,
            new_size: log.tree.size(),
            hashes: log
                .tree
                .prove_consistency(seen_old.size, log.tree.size())
                .unwrap()
                .into_iter()
                .map(|h| h.to_vec())
                .collect(),
        });
        let seen_new = verify_bundle(&new, &trust, Some(&seen_old))
            .unwrap()
            .checkpoint_ref;
        // Going back to the old checkpoint is a rollback.
        match verify_bundle(&old, &trust, Some(&seen_new)) {
            Err(e @ EvidenceError::Rollback { .. }) => {
                let text = e.to_string();
                assert!(text.contains("size 2") && text.contains("size 3"), "{text}");
            }
            other => panic!("expected rollback, got {other:?}"),
        }
        // A split view: another tree of the same size, validly signed by the log.
        let mut split = TestLog::new();
        split.adopt(10, "1.0.0");
        split.adopt(11, "1.0.0");
        split.adopt(13, "6.6.6");
        let forked = split.bundle(split.checkpoint(3, 2), &[0]);
        assert!(matches!(
            verify_bundle(&forked, &trust, Some(&seen_new)),
            Err(EvidenceError::Fork { .. })
        ));
    }
}
