//! The cache of verified entries (`verified-entries.bin`, `spec/verifier-semantics.md` §2)
//! attacked through the real binaries: a log operator who writes an entry into its own tree
//! behind the submission checks, after the client has cached its earlier runs.
//!
//! The forged entry carries a real envelope a trusted key signed (alice's adoption) under
//! another trusted key (bob's). Its envelope, statement and envelope digest are exactly those
//! of an entry the client verified and remembered; only the key differs. A cache keyed by
//! anything less than the whole entry (the envelope, its digest, the statement) would count
//! it as bob's adoption without checking the signature; a cache that remembered failures
//! would stop reporting it.

use quorum_c2sp::merkle::MemoryTree;
use quorum_log::storage::{NewEntry, Storage};
use quorum_verifier::model::index::log_index_subjects;
use quorum_verifier::model::log_entry::LogEntry;
use quorum_verifier::model::predicates::{Adoption, AdoptionStatus, Predicate, validate_statement};
use quorum_verifier::model::statement::{Statement, Subject};
use serde_json::Value;

use crate::harness::{Person, World, expect_exit, json};

const APP: &str = "pkg:cargo/app@1.0.0";

/// Appends `entry` to the stopped log's database, with the stored tree hashes and the index
/// rows the log itself would write: what an operator with write access to its own storage
/// can do. Returns its index.
fn append_behind_the_log(world: &World, entry: LogEntry) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let storage = Storage::open_dir(&world.dir.path().join("log"))
            .await
            .expect("open the log's database");
        let size = storage.entry_count().await.expect("entry count");
        let mut tree = MemoryTree::new();
        for bytes in storage.entries_range(0, size).await.expect("entries") {
            tree.append(&bytes);
        }
        let first_hash = tree.stored_hashes().len();
        let statement = Statement::from_json(&entry.envelope.payload).expect("the statement");
        let validated = validate_statement(&statement).expect("a valid statement");
        let new = NewEntry {
            index: size,
            envelope_digest: entry.envelope_digest(),
            signer: entry.public_key,
            received_ms: entry.receipt_time_millis,
            subjects: log_index_subjects(&validated, &entry.public_key),
            entry: entry.encode().expect("encodes"),
        };
        tree.append(&new.entry);
        storage
            .append(
                std::slice::from_ref(&new),
                first_hash as u64,
                &tree.stored_hashes()[first_hash..],
            )
            .await
            .expect("append");
        storage.close().await;
        size
    })
}

fn verify(world: &World, me: &Person, policy: &std::path::Path) -> Value {
    let out = world.quorum(me, Some(policy), &["--json", "verify", APP]);
    // 2: not enough trusted adopters (alice alone; the rule wants two).
    expect_exit(&out, 2);
    json(&out)
}

/// Indices that counted for the decision, and the reasons the rejected ones did not.
fn counted_and_rejected(v: &Value) -> (Vec<u64>, Vec<(u64, String)>) {
    let d = &v["decisions"][0];
    let counted = d["counted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let rejected = d["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["index"].as_u64().unwrap_or(u64::MAX),
                r["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (counted, rejected)
}

#[test]
fn an_envelope_replayed_under_another_trusted_key_after_a_cached_run_is_checked_and_rejected() {
    let mut world = World::start();
    let me = world.person("me");
    let (alice, bob) = (Person::key_only("alice"), Person::key_only("bob"));
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 2\n",
    );
    world.vouch(&me, &policy, &alice);
    world.vouch(&me, &policy, &bob);
    let adoption = alice.sign(
        Predicate::Adoption(Adoption {
            status: AdoptionStatus::Adopted,
            comment: None,
        }),
        vec![Subject::package_version(APP, [7; 32])],
    );
    let indices = world.submit(std::slice::from_ref(&adoption));
    world.wait_for_size(indices[0] + 1);

    // A first run verifies alice's adoption (and the vouches) and remembers them.
    let first = verify(&world, &me, &policy);
    assert_eq!(counted_and_rejected(&first).0, vec![indices[0]], "{first}");
    let cache = me.state.join("verified-entries.bin");
    let cached = std::fs::read(&cache).expect("the first run wrote verified-entries.bin");

    // The operator logs alice's envelope again, now as bob's.
    world.stop_log();
    let forged = append_behind_the_log(
        &world,
        LogEntry {
            receipt_time_millis: 1_800_000_000_000,
            envelope: adoption.envelope.clone(),
            public_key: bob.key_bytes(),
        },
    );
    world.start_log();
    world.wait_for_size(forged + 1);

    // Twice, so the second run reads whatever the first one left in the cache.
    for run in ["first after the forgery", "second after the forgery"] {
        let v = verify(&world, &me, &policy);
        let (counted, rejected) = counted_and_rejected(&v);
        assert_eq!(counted, vec![indices[0]], "{run}: only alice counts: {v}");
        let reason = rejected
            .iter()
            .find(|(index, _)| *index == forged)
            .map(|(_, reason)| reason.as_str())
            .unwrap_or_else(|| panic!("{run}: the forged entry is listed as rejected: {v}"));
        assert!(
            reason.contains("does not verify"),
            "{run}: rejected for its signature, not for anything else: {reason}"
        );
        assert_eq!(
            std::fs::read(&cache).expect("the cache is still there"),
            cached,
            "{run}: nothing new verified, so nothing new remembered (a failure is never cached)"
        );
    }

    // A client with no cache at all reaches the same decision.
    let fresh = world.person("fresh-me");
    let fresh_policy = world.policy(
        "fresh.toml",
        &[&me],
        &[&me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 2\n",
    );
    let v = verify(&world, &fresh, &fresh_policy);
    assert_eq!(counted_and_rejected(&v).0, vec![indices[0]], "{v}");
}
