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
        &mut super::verified_entries::VerifiedEntries::empty(),
        &super::online::Silent,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::checkpoint::tests::{ORIGIN, log_signer, note_for, witnesses};
    use crate::client::evidence::tests::page;
    use crate::client::memory::{CheckpointMemory, DirStore};
    use crate::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use crate::model::log_entry::LogEntry;
    use crate::model::predicates::{Adoption, AdoptionStatus, Predicate};
    use crate::model::statement::Subject;
    use quorum_c2sp::checkpoint::Checkpoint;
    use quorum_c2sp::merkle::MemoryTree;

    fn adoption(key: &SigningKey, version: &str) -> Vec<u8> {
        let statement = Predicate::Adoption(Adoption {
            status: AdoptionStatus::Adopted,
            comment: None,
        })
        .into_statement(vec![Subject::package_version(
            &format!("pkg:cargo/demo@{version}"),
            [5; 32],
        )]);
        LogEntry {
            receipt_time_millis: 0,
            envelope: Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), key),
            public_key: key.verifying_key().to_bytes(),
        }
        .encode()
        .expect("entry")
    }

    /// A witness that dates its cosignatures in the past (to make entries look older) or in
    /// the future (to move "now" ahead) cannot lengthen a provable age beyond what an honest
    /// witness among the cosigners saw: entries are dated by the latest cosignature of the
    /// first checkpoint that covers them, decisions made as of the earliest of theirs.
    #[test]
    fn a_witness_lying_about_time_cannot_lengthen_a_provable_age() {
        let key = SigningKey::from_bytes(&[10; 32]);
        let w = witnesses();
        let policy = Policy::parse(&format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w0 {}\nwitness w1 {}\ngroup both all w0 w1\nquorum both\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n",
            log_signer().vkey(),
            w[0].vkey(),
            w[1].vkey(),
            hex::encode(key.verifying_key().to_bytes()),
        ))
        .expect("policy");
        let trust = LogTrust::from_policy(&policy).expect("trust");
        let mut tree = MemoryTree::new();
        let entries = vec![adoption(&key, "1.0.0"), adoption(&key, "1.0.1")];
        let checkpoint_at = |tree: &MemoryTree| Checkpoint {
            origin: ORIGIN.into(),
            size: tree.size(),
            root_hash: tree.root(),
            extensions: vec![],
        };
        // The first entry's first checkpoint: w0 honest at 1,000, w1 dates it at 100.
        tree.append(&entries[0]);
        let early = note_for(&checkpoint_at(&tree), &[Some(1_000), Some(100)]);
        // The decision's checkpoint: w0 honest at 2,000, w1 dates it 1,000,000 ahead.
        tree.append(&entries[1]);
        let late = note_for(&checkpoint_at(&tree), &[Some(2_000), Some(1_002_000)]);
        let mut p = page(&tree, &entries, 2, &[("pkg:cargo/demo", 0, 2, &[0, 1])]);
        p.history.push(v1::HistoricalCheckpoint {
            checkpoint: early,
            consistency_proof: tree
                .prove_consistency(1, 2)
                .expect("proof")
                .iter()
                .map(|h| h.to_vec())
                .collect(),
        });
        let mut trust_page = page(&tree, &entries, 2, &[(TRUST_GRAPH_KEY, 0, 2, &[])]);
        trust_page.inclusion_proof.clear();
        let set = v1::EvidenceSet {
            log_origin: ORIGIN.into(),
            checkpoint: late,
            consistency_proofs: vec![],
            pages: vec![p, trust_page],
        };
        let dir = tempfile::tempdir().expect("dir");
        let memory = CheckpointMemory::new(DirStore::new(dir.path()));
        let evidence = verify_set(
            &set,
            &trust,
            &memory,
            &policy,
            &["pkg:cargo/demo".to_string()],
            0,
            "test",
        )
        .expect("verifies");
        // "Now" is the honest 2,000, not 1,002,000; the first entry is dated 1,000, not 100.
        // The second, first covered by the late checkpoint, is dated by its latest time: the
        // lie only makes it younger.
        assert_eq!(evidence.checkpoint.decision_time, 2_000);
        let dates: Vec<Option<u64>> = evidence
            .statements
            .iter()
            .map(|s| s.first_cosigned_at)
            .collect();
        assert_eq!(dates, vec![Some(1_000), Some(1_002_000)]);
    }
}
