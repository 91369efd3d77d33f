//! The log a client trusts (its key, its origin, the witness quorum and the maximum age of a
//! checkpoint, from the policy) and the checkpoints that satisfy it.

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::VerifiedCosignature;
use quorum_c2sp::merkle::Hash;
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_c2sp::witness_policy::{PolicyCheckError, WitnessPolicy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::policy::Policy;

/// Why a checkpoint does not satisfy the client's trust in its log.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The policy names no log, or its log and witness lines do not form a valid tlog-policy.
    #[error("policy: {0}")]
    Policy(String),
    /// The checkpoint is for another log.
    #[error("the checkpoint is for log {got:?}, the policy trusts {expected:?}")]
    WrongLog {
        /// The checkpoint's origin.
        got: String,
        /// The policy's origin.
        expected: String,
    },
    /// The checkpoint is not signed by the log or lacks the witness quorum.
    #[error("checkpoint rejected: {0}")]
    Rejected(#[from] Box<PolicyCheckError>),
    /// A tlog-proof does not verify (checkpoint, quorum or inclusion).
    #[error("the tlog-proof does not verify: {0}")]
    Proof(String),
    /// The witness quorum last cosigned the checkpoint longer ago than the policy allows: the
    /// log may be frozen, hiding everything logged since.
    #[error(
        "the log's checkpoint (size {size}) is stale: {age} old{}, the policy's [log] max_checkpoint_age_seconds allows {max} s; the log may be frozen, hiding newer statements",
        match .fresh_at { Some(t) => format!(" (the witness quorum last cosigned it at {t}, Unix time)"), None => " (no witness quorum cosignature dates it)".to_string() },
        age = describe_age(*.age)
    )]
    Stale {
        /// Its tree size.
        size: u64,
        /// Seconds since the witness quorum last cosigned it, by the client's clock
        /// (`u64::MAX` when nothing dates it).
        age: u64,
        /// When the quorum last cosigned it.
        fresh_at: Option<u64>,
        /// The policy's limit.
        max: u64,
    },
}

fn describe_age(seconds: u64) -> String {
    if seconds == u64::MAX {
        return "of unknown age".to_string();
    }
    if seconds >= 86_400 {
        format!("{seconds} s ({:.1} days)", seconds as f64 / 86_400.0)
    } else if seconds >= 3_600 {
        format!("{seconds} s ({:.1} hours)", seconds as f64 / 3_600.0)
    } else {
        format!("{seconds} s")
    }
}

/// A checkpoint's identity: origin, size and root hash.
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

/// A checkpoint that satisfies the client's policy: signed by the log's key, for its origin,
/// with cosignatures that meet the witness quorum.
#[derive(Debug, Clone)]
pub struct VerifiedCheckpoint {
    /// The signed note exactly as served (text, log signature, cosignatures).
    pub note: Vec<u8>,
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// Policy names of the witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// The latest verified cosignature time (Unix seconds; 0 without cosignatures): by then
    /// the quorum had seen the tree. It dates the entries this checkpoint is the first to
    /// cover: one honest witness's time is at most the latest, so a witness dating its
    /// cosignature in the past cannot make an entry look older.
    pub witnessed_at: u64,
    /// The earliest verified cosignature time (0 without cosignatures): the decision time
    /// ("now") of a decision resting on this checkpoint. One honest witness's time is at
    /// least the earliest, so a witness dating its cosignature in the future cannot move
    /// "now" ahead; with entries dated by [`VerifiedCheckpoint::witnessed_at`], a provable
    /// age is never longer than an honest witness among the cosigners saw.
    pub decision_time: u64,
    /// The latest time at which a set of witnesses meeting the quorum had all cosigned it:
    /// how fresh the quorum's view is. `None` when the quorum needs no witness.
    pub fresh_at: Option<u64>,
}

impl VerifiedCheckpoint {
    /// Its tree size.
    pub fn size(&self) -> u64 {
        self.checkpoint.size
    }

    /// Its root hash.
    pub fn root(&self) -> &Hash {
        &self.checkpoint.root_hash
    }

    /// Its reference.
    pub fn reference(&self) -> CheckpointRef {
        CheckpointRef::of(&self.checkpoint)
    }
}

/// The log and witnesses a client trusts, from its policy.
#[derive(Debug, Clone)]
pub struct LogTrust {
    origin: String,
    witness_policy: WitnessPolicy,
    max_age_seconds: Option<u64>,
}

impl LogTrust {
    /// Builds the trust from the policy's `[log]` and `[witnesses]` sections. The witness
    /// policy is C2SP tlog-policy text; the `[log]` key is added as its `log` line.
    pub fn from_policy(policy: &Policy) -> Result<LogTrust, CheckpointError> {
        let log = policy.log.as_ref().ok_or_else(|| {
            CheckpointError::Policy(
                "the policy has no [log] section naming the log to trust (origin, key, url)".into(),
            )
        })?;
        let mut text = format!("log {}\n", log.key);
        if let Some(witnesses) = &policy.witnesses.policy {
            text.push_str(witnesses);
            text.push('\n');
        }
        let witness_policy = WitnessPolicy::parse(text.as_bytes())
            .map_err(|e| CheckpointError::Policy(format!("[witnesses] policy: {e}")))?;
        Ok(LogTrust {
            origin: log.origin.clone(),
            witness_policy,
            max_age_seconds: log.max_checkpoint_age_seconds,
        })
    }

    /// The trusted log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether the policy names any witness: publishing then waits for a cosigned
    /// checkpoint, since one the log only signed would not meet the quorum.
    pub fn requires_witnesses(&self) -> bool {
        !self.witness_policy.witnesses().is_empty()
            && !self.witness_policy.is_satisfied_by_names::<&str>(&[])
    }

    /// The policy's maximum checkpoint age, if any.
    pub fn max_age_seconds(&self) -> Option<u64> {
        self.max_age_seconds
    }

    /// Verifies a signed checkpoint: log signature, origin and witness quorum. The age is
    /// checked separately ([`LogTrust::check_age`]), against the caller's clock.
    pub fn verify_checkpoint(&self, note: &[u8]) -> Result<VerifiedCheckpoint, CheckpointError> {
        let verified = self
            .witness_policy
            .verify_checkpoint(note)
            .map_err(Box::new)?;
        if verified.checkpoint.origin != self.origin {
            return Err(CheckpointError::WrongLog {
                got: verified.checkpoint.origin,
                expected: self.origin.clone(),
            });
        }
        Ok(self.verified(note, verified.checkpoint, &verified.cosignatures))
    }

    fn verified(
        &self,
        note: &[u8],
        checkpoint: Checkpoint,
        cosignatures: &[(String, VerifiedCosignature)],
    ) -> VerifiedCheckpoint {
        VerifiedCheckpoint {
            note: note.to_vec(),
            witnesses: cosignatures.iter().map(|(n, _)| n.clone()).collect(),
            witnessed_at: cosignatures
                .iter()
                .map(|(_, c)| c.timestamp)
                .max()
                .unwrap_or(0),
            decision_time: cosignatures
                .iter()
                .map(|(_, c)| c.timestamp)
                .min()
                .unwrap_or(0),
            fresh_at: self.quorum_fresh_at(cosignatures),
            checkpoint,
        }
    }

    /// Verifies a C2SP tlog-proof for the leaf with hash `leaf_hash` through
    /// [`TlogProof::verify_with_policy`] (log signature, witness quorum, inclusion), and that
    /// its checkpoint is this log's.
    pub fn verify_tlog_proof(
        &self,
        proof: &TlogProof,
        leaf_hash: &Hash,
    ) -> Result<VerifiedCheckpoint, CheckpointError> {
        let verified = proof
            .verify_with_policy(leaf_hash, &self.witness_policy)
            .map_err(|e| CheckpointError::Proof(e.to_string()))?;
        if verified.checkpoint.origin != self.origin {
            return Err(CheckpointError::WrongLog {
                got: verified.checkpoint.origin,
                expected: self.origin.clone(),
            });
        }
        Ok(self.verified(
            &proof.checkpoint,
            verified.checkpoint,
            &verified.cosignatures,
        ))
    }

    /// The latest time `t` such that the witnesses whose cosignatures are dated `t` or later
    /// meet the quorum; `None` if the empty set already meets it.
    fn quorum_fresh_at(&self, cosignatures: &[(String, VerifiedCosignature)]) -> Option<u64> {
        if self.witness_policy.is_satisfied_by_names::<&str>(&[]) {
            return None;
        }
        let mut by_time: Vec<(&str, u64)> = cosignatures
            .iter()
            .map(|(name, c)| (name.as_str(), c.timestamp))
            .collect();
        by_time.sort_by_key(|c| std::cmp::Reverse(c.1));
        let mut names: Vec<&str> = Vec::new();
        for (name, time) in by_time {
            names.push(name);
            if self.witness_policy.is_satisfied_by_names(&names) {
                return Some(time);
            }
        }
        None
    }

    /// Checks the policy's maximum checkpoint age (`[log] max_checkpoint_age_seconds`)
    /// against `now` (Unix seconds, the client's clock): the witness quorum must have
    /// cosigned the checkpoint no longer ago than that. Without the setting, any age passes.
    pub fn check_age(
        &self,
        checkpoint: &VerifiedCheckpoint,
        now: u64,
    ) -> Result<(), CheckpointError> {
        let Some(max) = self.max_age_seconds else {
            return Ok(());
        };
        let age = checkpoint
            .fresh_at
            .map_or(u64::MAX, |t| now.saturating_sub(t));
        if age > max {
            return Err(CheckpointError::Stale {
                size: checkpoint.size(),
                age,
                fresh_at: checkpoint.fresh_at,
                max,
            });
        }
        Ok(())
    }
}

/// The current Unix time in seconds, by this machine's clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a signed checkpoint note without verifying it (to read a stored one).
pub fn parse_unverified(note: &[u8]) -> Option<Checkpoint> {
    let parsed = quorum_c2sp::note::Note::parse(note).ok()?;
    Checkpoint::parse(&parsed.text).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use quorum_c2sp::cosignature::CosignatureSigner;
    use quorum_c2sp::note::{self, Ed25519Signer};

    pub const ORIGIN: &str = "example.test/log";

    pub fn log_signer() -> Ed25519Signer {
        Ed25519Signer::from_seed(ORIGIN, &[1; 32]).expect("key")
    }

    pub fn witnesses() -> Vec<CosignatureSigner> {
        (0..3u8)
            .map(|i| {
                CosignatureSigner::from_seed(&format!("w{i}.test"), &[2 + i; 32]).expect("key")
            })
            .collect()
    }

    /// A policy trusting the test log, with `quorum` over witnesses w0, w1, w2 and `extra`
    /// lines in `[log]`.
    pub fn policy(quorum: &str, extra: &str) -> Policy {
        let w = witnesses();
        Policy::parse(&format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\n{extra}\n\n[witnesses]\npolicy = \"\"\"\nwitness w0 {}\nwitness w1 {}\nwitness w2 {}\ngroup two 2 w0 w1 w2\n{quorum}\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n",
            log_signer().vkey(),
            w[0].vkey(),
            w[1].vkey(),
            w[2].vkey(),
            "09".repeat(32),
        ))
        .expect("policy")
    }

    /// A note for `checkpoint` signed by the log and cosigned by witness `i` at `times[i]`.
    pub fn note_for(checkpoint: &Checkpoint, times: &[Option<u64>]) -> Vec<u8> {
        let mut signed = checkpoint.sign(&[&log_signer()]).expect("sign");
        for (w, time) in witnesses().iter().zip(times) {
            if let Some(t) = time {
                signed = note::add_signatures(&signed, &[&w.at(*t)]).expect("cosign");
            }
        }
        signed
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size: 5,
            root_hash: [7; 32],
            extensions: vec![],
        }
    }

    #[test]
    fn freshness_is_the_newest_time_a_quorum_had_cosigned() {
        let trust = LogTrust::from_policy(&policy("quorum two", "")).expect("trust");
        // w0 fresh, w1 old, w2 older: two of three were all there by w1's time.
        let v = trust
            .verify_checkpoint(&note_for(
                &checkpoint(),
                &[Some(1_000), Some(500), Some(100)],
            ))
            .expect("verify");
        assert_eq!(v.fresh_at, Some(500));
        assert_eq!(v.witnessed_at, 1_000);
        assert!(trust.requires_witnesses());
        // Without a limit every age passes.
        trust.check_age(&v, 10_000_000).expect("no limit");
        let strict =
            LogTrust::from_policy(&policy("quorum two", "max_checkpoint_age_seconds = 60"))
                .expect("trust");
        strict.check_age(&v, 560).expect("60 s old");
        match strict.check_age(&v, 561) {
            Err(e @ CheckpointError::Stale { age: 61, .. }) => {
                let text = e.to_string();
                assert!(text.contains("61 s") && text.contains("size 5"), "{text}");
            }
            other => panic!("expected stale, got {other:?}"),
        }
    }

    #[test]
    fn wrong_log_and_missing_quorum_are_rejected() {
        let trust = LogTrust::from_policy(&policy("quorum two", "")).expect("trust");
        assert!(matches!(
            trust.verify_checkpoint(&note_for(&checkpoint(), &[Some(1), None, None])),
            Err(CheckpointError::Rejected(_))
        ));
        let other = Ed25519Signer::from_seed(ORIGIN, &[9; 32]).expect("key");
        let forged = checkpoint().sign(&[&other]).expect("sign");
        assert!(trust.verify_checkpoint(&forged).is_err());
        let no_log = Policy::parse(&format!("[trust]\nroots = [\"{}\"]\n", "09".repeat(32)))
            .expect("policy");
        assert!(matches!(
            LogTrust::from_policy(&no_log),
            Err(CheckpointError::Policy(_))
        ));
    }
}
