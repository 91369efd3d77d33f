//! The seam between the CLI and the library's evidence verification
//! (`quorum_verifier::evidence`): checkpoint, witness quorum, consistency with the last
//! checkpoint seen, inclusion, entries. Everything the CLI decides on passes through here.

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_proto::v1;
use quorum_verifier::decision::ProvenStatement;
use quorum_verifier::evidence::{self, CheckpointRef, EvidenceError, LogTrust};
use quorum_verifier::policy::Policy;

use crate::error::{evidence, usage};

/// A checkpoint that verified against the policy (log key and witness quorum).
#[derive(Debug, Clone)]
pub struct VerifiedCheckpoint {
    /// The full signed note.
    pub note: Vec<u8>,
    /// Origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The decision time: the earliest cosignature time of the witness quorum (Unix
    /// seconds; `quorum_verifier::evidence::decision_time`).
    pub time: u64,
    /// The time that dates the entries this checkpoint is the first to cover: the latest
    /// cosignature time of the quorum (`quorum_verifier::evidence::witnessed_at`).
    pub dated_at: u64,
}

/// Verified evidence: the checkpoint, the statements that count, and the entries that did
/// not verify (index, reason).
#[derive(Debug, Clone)]
pub struct VerifiedEvidence {
    /// The checkpoint the statements are proven under.
    pub checkpoint: VerifiedCheckpoint,
    /// Statements proven included and well formed.
    pub statements: Vec<ProvenStatement>,
    /// Entries that were served but do not count, with the reason.
    pub rejected: Vec<(u64, String)>,
}

/// Verifies a bundle against the policy and the last checkpoint seen for the log
/// (`quorum_verifier::evidence`): log signature, witness quorum, consistency (rollback and
/// fork are errors naming both checkpoints), inclusion and validity of every entry.
pub fn verify_bundle(
    policy: &Policy,
    bundle: &v1::EvidenceBundle,
    last_seen: Option<&[u8]>,
) -> anyhow::Result<VerifiedEvidence> {
    let trust = log_trust(policy)?;
    let seen = last_seen.and_then(checkpoint_ref);
    let ev = evidence::verify_bundle(bundle, &trust, seen.as_ref()).map_err(classify)?;
    for w in &ev.warnings {
        eprintln!("warning: {w}");
    }
    Ok(VerifiedEvidence {
        checkpoint: VerifiedCheckpoint {
            note: bundle.checkpoint.clone(),
            origin: ev.checkpoint.origin.clone(),
            size: ev.checkpoint.size,
            root: ev.checkpoint.root_hash,
            time: ev.witnessed_at,
            dated_at: ev.dated_at,
        },
        statements: ev.statements,
        rejected: ev
            .rejected
            .into_iter()
            .map(|r| (r.index, r.reason))
            .collect(),
    })
}

fn log_trust(policy: &Policy) -> anyhow::Result<LogTrust> {
    LogTrust::from_policy(policy).map_err(|e| usage(format!("{e}")))
}

fn classify(e: EvidenceError) -> anyhow::Error {
    match e {
        EvidenceError::Policy(_) => usage(e.to_string()),
        other => evidence(other.to_string()),
    }
}

/// The reference (origin, size, root) of a stored checkpoint note.
fn checkpoint_ref(note: &[u8]) -> Option<CheckpointRef> {
    let parsed = quorum_c2sp::note::Note::parse(note).ok()?;
    let cp = Checkpoint::parse(&parsed.text).ok()?;
    Some(CheckpointRef::of(&cp))
}

/// Verifies a checkpoint note against the policy's log key and witness quorum, and its
/// consistency with the last checkpoint seen (`proof` from `last_seen`'s size to its size).
pub fn verify_checkpoint(
    policy: &Policy,
    note: &[u8],
    last_seen: Option<&[u8]>,
    proof: Option<&[[u8; 32]]>,
) -> anyhow::Result<VerifiedCheckpoint> {
    let trust = log_trust(policy)?;
    let verified = trust.verify_checkpoint(note).map_err(classify)?;
    if let Some(seen) = last_seen.and_then(checkpoint_ref) {
        let proofs: Vec<(u64, Vec<[u8; 32]>)> = proof
            .map(|p| vec![(seen.size, p.to_vec())])
            .unwrap_or_default();
        evidence::check_consistency(&seen, &verified.checkpoint, &proofs).map_err(classify)?;
    }
    Ok(VerifiedCheckpoint {
        note: note.to_vec(),
        origin: verified.checkpoint.origin.clone(),
        size: verified.checkpoint.size,
        root: verified.checkpoint.root_hash,
        time: evidence::decision_time(&verified),
        dated_at: evidence::witnessed_at(&verified),
    })
}
