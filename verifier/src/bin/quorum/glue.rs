//! The seam between the CLI and the library's evidence verification
//! (`quorum_verifier::evidence`): checkpoint, witness quorum, consistency with the last
//! checkpoint seen, inclusion, entries. Everything the CLI decides on passes through here.

use quorum_proto::v1;
use quorum_verifier::checkpoint::{Checkpoint, open_checkpoint_for_origin};
use quorum_verifier::decision::{ProvenStatement, claims_from_statement};
use quorum_verifier::log_entry::verify_log_entry;
use quorum_verifier::merkle;
use quorum_verifier::note::Ed25519Verifier;

use crate::error::{evidence, usage};
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
///
/// Interim implementation until `quorum_verifier::evidence` lands: log signature, origin,
/// consistency with the last checkpoint seen, inclusion of every entry, entry verification.
/// Witness policies are refused rather than ignored.
pub fn verify_bundle(
    policy: &Policy,
    bundle: &v1::EvidenceBundle,
    last_seen: Option<&[u8]>,
) -> anyhow::Result<VerifiedEvidence> {
    let proof_for = |old: u64| {
        bundle
            .consistency_proofs
            .iter()
            .find(|p| p.old_size == old)
            .map(|p| p.hashes.clone())
    };
    let last_size = last_seen.and_then(summary).map(|(s, _)| s);
    let proof: Option<Vec<[u8; 32]>> = match last_size.and_then(proof_for) {
        Some(hashes) => Some(
            hashes
                .iter()
                .map(|h| <[u8; 32]>::try_from(h.as_slice()))
                .collect::<Result<_, _>>()
                .map_err(|_| evidence("a consistency proof hash is not 32 bytes"))?,
        ),
        None => None,
    };
    let checkpoint = verify_checkpoint(policy, &bundle.checkpoint, last_seen, proof.as_deref())?;
    if bundle.log_origin != checkpoint.origin {
        return Err(evidence(format!(
            "the bundle names log {:?} but its checkpoint is for {:?}",
            bundle.log_origin, checkpoint.origin
        )));
    }
    let mut statements = Vec::new();
    let mut rejected = Vec::new();
    for e in &bundle.entries {
        let hashes: Result<Vec<[u8; 32]>, _> = e
            .inclusion_proof
            .iter()
            .map(|h| <[u8; 32]>::try_from(h.as_slice()))
            .collect();
        let Ok(hashes) = hashes else {
            rejected.push((e.index, "inclusion proof hash is not 32 bytes".to_string()));
            continue;
        };
        let leaf = merkle::leaf_hash(&e.log_entry);
        if let Err(err) =
            merkle::verify_inclusion(&leaf, e.index, checkpoint.size, &hashes, &checkpoint.root)
        {
            rejected.push((e.index, format!("not proven included: {err}")));
            continue;
        }
        match verify_log_entry(&e.log_entry) {
            Ok(v) => {
                for claim in claims_from_statement(&v.statement) {
                    statements.push(ProvenStatement {
                        index: e.index,
                        signer: v.signer,
                        envelope_digest: v.envelope_digest,
                        first_cosigned_at: (checkpoint.time > 0).then_some(checkpoint.time),
                        claim,
                    });
                }
            }
            Err(err) => rejected.push((e.index, err.to_string())),
        }
    }
    Ok(VerifiedEvidence {
        checkpoint,
        statements,
        rejected,
    })
}

fn summary(note: &[u8]) -> Option<(u64, [u8; 32])> {
    let parsed = quorum_verifier::note::Note::parse(note).ok()?;
    let cp = Checkpoint::parse(&parsed.text).ok()?;
    Some((cp.size, cp.root_hash))
}

/// Verifies a checkpoint note against the policy's log key and witness quorum, and its
/// consistency with the last checkpoint seen (`proof` from `last_seen`'s size to its size).
pub fn verify_checkpoint(
    policy: &Policy,
    note: &[u8],
    last_seen: Option<&[u8]>,
    proof: Option<&[[u8; 32]]>,
) -> anyhow::Result<VerifiedCheckpoint> {
    let log = policy
        .log
        .as_ref()
        .ok_or_else(|| usage("the policy has no [log] section (origin, key, url)"))?;
    let verifier = Ed25519Verifier::from_vkey(&log.key)
        .map_err(|e| usage(format!("policy [log] key {:?}: {e}", log.key)))?;
    let signed = open_checkpoint_for_origin(note, &log.origin, &verifier)
        .map_err(|e| evidence(format!("checkpoint rejected: {e}")))?;
    if policy.witnesses.policy.is_some() {
        return Err(evidence(
            "this build cannot check witness cosignatures yet (quorum_verifier::evidence is missing); remove [witnesses] to accept checkpoints on the log's signature alone",
        ));
    }
    let cp = signed.checkpoint;
    if let Some((old_size, old_root)) = last_seen.and_then(summary)
        && old_size < cp.size
    {
        let Some(proof) = proof else {
            return Err(evidence(format!(
                "no consistency proof from the checkpoint seen before (size {old_size}) to size {}; cannot rule out a fork",
                cp.size
            )));
        };
        merkle::verify_consistency(old_size, cp.size, &old_root, &cp.root_hash, proof).map_err(
            |e| {
                evidence(format!(
                    "fork: checkpoint size {} is not consistent with the one seen before (size {old_size}): {e}",
                    cp.size
                ))
            },
        )?;
    }
    Ok(VerifiedCheckpoint {
        note: note.to_vec(),
        origin: cp.origin,
        size: cp.size,
        root: cp.root_hash,
        time: 0,
    })
}
