//! The seam between the CLI and the library's evidence verification
//! (`quorum_verifier::evidence`): checkpoint, witness quorum, consistency with the last
//! checkpoint seen, inclusion, entries. Everything the CLI decides on passes through here.

use quorum_proto::v1;
use quorum_verifier::decision::ProvenStatement;
use quorum_verifier::policy::Policy;

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
    /// The decision time: the witness quorum's cosignature time (Unix seconds).
    pub time: u64,
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

/// Verifies a bundle against the policy and the last checkpoint seen for the log.
pub fn verify_bundle(
    policy: &Policy,
    bundle: &v1::EvidenceBundle,
    last_seen: Option<&[u8]>,
) -> anyhow::Result<VerifiedEvidence> {
    let _ = (policy, bundle, last_seen);
    Err(crate::error::evidence(
        "this build of quorum cannot verify evidence yet (quorum_verifier::evidence is missing)",
    ))
}

/// Verifies a checkpoint note against the policy's log key and witness quorum, and its
/// consistency with the last checkpoint seen (`proof` from `last_seen`'s size to its size).
pub fn verify_checkpoint(
    policy: &Policy,
    note: &[u8],
    last_seen: Option<&[u8]>,
    proof: Option<&[[u8; 32]]>,
) -> anyhow::Result<VerifiedCheckpoint> {
    let _ = (policy, note, last_seen, proof);
    Err(crate::error::evidence(
        "this build of quorum cannot verify checkpoints yet (quorum_verifier::evidence is missing)",
    ))
}
