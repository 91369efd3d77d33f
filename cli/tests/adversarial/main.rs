//! The adversarial suite: every guarantee of `spec/verifier-semantics.md` and
//! `spec/threat-model.md`, attacked through the real binaries (`quorum`, `quorum-log`,
//! `quorum-witness`), real sockets, real SQLite and real signatures and proofs.
//!
//! Each module is one family of attacks; `spec/threat-model.md` names the test that checks
//! each guarantee. The world they share (a log, its witnesses, people and their policies) is
//! in `harness.rs`.
//!
//! Needs the servers built beside `quorum`: `cargo test --workspace` builds them
//! (`cargo build -p quorum-log -p quorum-witness` before a narrower run).

#[path = "../support/mod.rs"]
mod support;

mod artifacts;
mod cargo_vet;
mod harness;
mod import;
mod lockfiles;
mod servers;
mod trust_and_powers;
mod verified_cache;

mod flood;
mod fork;
mod freeze;
mod network;
mod tiles;

use harness::{World, expect_exit, json};

/// The world works end to end: a statement published with `quorum` is cosigned by both
/// witnesses and decides a version; so a failing attack test fails because of the attack,
/// not because of the harness.
#[test]
fn harness_publishes_and_decides() {
    let world = World::start();
    let me = world.person("me");
    let alice = world.person("alice");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &alice],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\n",
    );
    let digest = "ab".repeat(32);
    world.vouch(&me, &policy, &alice);
    let out = world.quorum(
        &alice,
        Some(&policy),
        &["adopt", "pkg:cargo/demo@1.0.0", "--digest", &digest],
    );
    expect_exit(&out, 0);
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "pkg:cargo/demo@1.0.0"],
    );
    expect_exit(&out, 0);
    let v = json(&out);
    assert_eq!(v["decisions"][0]["verdict"], "allow", "{v}");
    // Statements signed directly and pushed in bulk land too.
    let envelopes: Vec<_> = (0..3)
        .map(|i| {
            alice.sign(
                quorum_verifier::model::predicates::Predicate::Adoption(
                    quorum_verifier::model::predicates::Adoption {
                        status: quorum_verifier::model::predicates::AdoptionStatus::Adopted,
                        comment: None,
                    },
                ),
                vec![quorum_verifier::model::statement::Subject::package_version(
                    &format!("pkg:cargo/bulk@1.0.{i}"),
                    [7; 32],
                )],
            )
        })
        .collect();
    let indices = world.submit(&envelopes);
    assert_eq!(indices.len(), 3);
    world.wait_for_size(indices[2] + 1);
}
