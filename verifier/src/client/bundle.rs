//! Offline evidence: an [`v1::EvidenceSet`] saved by `quorum fetch`, verified without the
//! network exactly as the online pages are, plus the checks that make it complete: every
//! key it is asked about is covered from index 0 to its checkpoint's size.

use quorum_c2sp::merkle::Hash;
use quorum_proto::v1;

use super::ClientError;
use super::checkpoint::LogTrust;
use super::evidence::{
    Collected, Cursor, VerifiedEvidence, assemble, check_page, require_complete,
};
use super::memory::{CheckpointMemory, CheckpointStore, GivenProofs};
use super::online::policy_log_key;
use super::trust_graph::TrustGraph;
use crate::model::index::TRUST_GRAPH_KEY;
use crate::policy::Policy;

/// Verifies an evidence set for `packages` (purls without version): the checkpoint (policy,
/// age against `now`, the memory with the set's consistency proofs), every page, and that
/// the set covers the packages and the trust graph completely. `source` names the file.
#[allow(clippy::too_many_arguments)]
pub fn verify_set<S: CheckpointStore>(
    set: &v1::EvidenceSet,
    trust: &LogTrust,
    memory: &CheckpointMemory<S>,
    policy: &Policy,
    packages: &[String],
    now: u64,
    source: &str,
) -> Result<VerifiedEvidence, ClientError> {
    if set.log_origin != trust.origin() {
        return Err(ClientError::evidence(format!(
            "the evidence is for log {:?}, the policy trusts {:?}",
            set.log_origin,
            trust.origin()
        )));
    }
    let checkpoint = trust.verify_checkpoint(&set.checkpoint)?;
    trust.check_age(&checkpoint, now)?;
    let size = checkpoint.size();
    let proofs: Vec<(u64, Vec<Hash>)> = set
        .consistency_proofs
        .iter()
        .filter(|p| p.new_size == size)
        .filter_map(|p| {
            let hashes: Option<Vec<Hash>> = p
                .hashes
                .iter()
                .map(|h| Hash::try_from(h.as_slice()).ok())
                .collect();
            Some((p.old_size, hashes?))
        })
        .collect();
    memory.advance(&checkpoint, source, &GivenProofs(&proofs))?;

    let root = *checkpoint.root();
    let mut collected = Collected::default();
    for page in &set.pages {
        // Pages of a set may come from parallel streams: each range is checked as the answer
        // to a cursor from its own start; coverage is then read from the ranges together.
        let mut cursors: Vec<Cursor> = page
            .ranges
            .iter()
            .map(|r| Cursor {
                key: r.key.clone(),
                start: r.start,
                until: size,
            })
            .collect();
        collected.absorb(check_page(page.clone(), size, &root, &mut cursors)?);
    }
    let mut wanted: Vec<(String, u64)> = vec![(TRUST_GRAPH_KEY.to_string(), 0)];
    wanted.extend(packages.iter().map(|p| (p.clone(), 0)));
    require_complete(
        &collected,
        &wanted,
        size,
        None,
        "the saved evidence does not cover it; save it again with `quorum fetch`",
    )?;
    let mut graph = TrustGraph::empty(trust.origin(), &policy_log_key(policy));
    assemble(
        collected,
        &mut graph,
        checkpoint,
        trust,
        policy,
        &super::online::Silent,
    )
}
