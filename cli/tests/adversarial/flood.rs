//! Withholding by flood (issue 12 item 1): a log answer that stops at its first thousand
//! entries hid every advisory, revocation and distrust logged after a flood of cheap
//! statements. A verdict must rest on evidence complete for its question: every entry about
//! the package and the trust graph as far as the roots reach, under one checkpoint, paged to
//! the end; and what keys no root reaches have said is never downloaded at all.

use quorum_verifier::model::dsse::SigningKey;
use quorum_verifier::model::predicates::TrustLevel;

use crate::harness::{ONE_ADOPTER_RULE, World, cargo_lock, expect_exit, json, say, verdicts};

/// The flood: 10,000 adoptions of other versions of the package and 10,000 vouches, all by
/// one key no root reaches, logged before the advisory, the revocation and the distrust.
const FLOOD: usize = 10_000;

#[test]
fn a_flood_before_an_advisory_a_revocation_and_a_distrust_never_yields_allow() {
    let world = World::start();
    let me = world.person("me");
    let secteam = world.person("secteam");
    let alice = world.person("alice");
    let mallory = world.person("mallory");
    let attacker = world.person("attacker");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &secteam, &alice, &mallory],
        "",
        ONE_ADOPTER_RULE,
    );
    let (pad, serde, evil) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let lock = world.path("Cargo.lock");
    std::fs::write(
        &lock,
        cargo_lock(&[
            ("left-pad-rs", "2.0.0", pad),
            ("serde", "1.0.0", serde),
            ("evil", "1.0.0", evil),
        ]),
    )
    .expect("write lockfile");
    let lock = lock.display().to_string();

    // Before the flood: I trust the security team, alice and mallory; alice runs
    // left-pad-rs 2.0.0 and serde 1.0.0, mallory runs evil 1.0.0. All three allowed.
    let serde_adoption = alice.says(say::adopt("pkg:cargo/serde@1.0.0", serde));
    let before = vec![
        me.says(say::trust(&secteam.key_bytes(), TrustLevel::High)),
        me.says(say::trust(&alice.key_bytes(), TrustLevel::High)),
        me.says(say::trust(&mallory.key_bytes(), TrustLevel::High)),
        alice.says(say::adopt("pkg:cargo/left-pad-rs@2.0.0", pad)),
        serde_adoption.clone(),
        mallory.says(say::adopt("pkg:cargo/evil@1.0.0", evil)),
    ];
    let indices = world.submit(&before);
    world.wait_for_size(indices[indices.len() - 1] + 1);
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--lockfile", &lock],
    );
    expect_exit(&out, 0);

    // The flood, from one key nobody trusts.
    let mut flood = Vec::with_capacity(2 * FLOOD);
    for i in 0..FLOOD {
        flood.push(attacker.says(say::adopt(
            &format!("pkg:cargo/left-pad-rs@0.0.{i}"),
            [9; 32],
        )));
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let sybil = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        flood.push(attacker.says(say::trust(&sybil, TrustLevel::High)));
    }
    world.submit(&flood);

    // After it: the security team reports left-pad-rs 2.0.0 malicious, alice withdraws her
    // serde adoption, and alice distrusts mallory.
    let after = vec![
        secteam.says(say::malicious("pkg:cargo/left-pad-rs", "2.0.0")),
        alice.says(say::revoke(serde_adoption.envelope.digest())),
        alice.says(say::trust(&mallory.key_bytes(), TrustLevel::Distrust)),
    ];
    let indices = world.submit(&after);
    let size = indices[indices.len() - 1] + 1;
    assert!(
        size as usize > 2 * FLOOD + 6,
        "the flood landed: size {size}"
    );
    world.wait_for_size(size);

    let expected = [
        ("pkg:cargo/evil@1.0.0", "insufficient-evidence"),
        ("pkg:cargo/left-pad-rs@2.0.0", "deny"),
        ("pkg:cargo/serde@1.0.0", "insufficient-evidence"),
    ];
    let check = |out: &std::process::Output, how: &str| {
        expect_exit(out, 1);
        let v = json(out);
        let got = verdicts(&v);
        for (purl, verdict) in expected {
            assert_eq!(
                got.get(purl).map(String::as_str),
                Some(verdict),
                "{how}: {v}"
            );
        }
        assert!(
            v["checkpoint"]["size"].as_u64() >= Some(size),
            "{how} rests on a checkpoint that holds everything: {v}"
        );
    };
    // Online, from the log's paged answer (more than a page of trust graph and of the
    // package): never allow.
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--lockfile", &lock],
    );
    check(&out, "online");
    // Again, with the trust graph from the cache: the same.
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--lockfile", &lock],
    );
    check(&out, "online, cached trust graph");
    // The mirror agrees.
    let out = world.quorum(&me, Some(&policy), &["--json", "mirror", "--quiet"]);
    expect_exit(&out, 0);
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--mirror", "--lockfile", &lock],
    );
    check(&out, "mirror");
    // Saved evidence (several pages of the trust graph and of left-pad-rs) decides the same
    // offline.
    let saved = world.path("saved.pb").display().to_string();
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "--json",
            "fetch",
            "pkg:cargo/left-pad-rs",
            "pkg:cargo/serde",
            "pkg:cargo/evil",
            "--out",
            &saved,
        ],
    );
    expect_exit(&out, 0);
    assert!(
        json(&out)["pages"].as_u64() > Some(2),
        "paged: {}",
        json(&out)
    );
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--bundle", &saved, "--lockfile", &lock],
    );
    check(&out, "saved evidence");
    // A newcomer with no state and no cache decides the same, and downloads none of the
    // attacker's 10,000 vouches: the trust graph is fetched outward from the roots, signer
    // by signer, and no root reaches the attacker. (The 10,000 adoptions of left-pad-rs are
    // about a package of the lockfile, so they are served.)
    let served_before = evidence_entries_served(&world);
    let newcomer = world.person("newcomer");
    let out = world.quorum(
        &newcomer,
        Some(&policy),
        &["--json", "verify", "--lockfile", &lock],
    );
    check(&out, "newcomer");
    let served = evidence_entries_served(&world) - served_before;
    assert!(
        (FLOOD as u64..FLOOD as u64 + 20).contains(&served),
        "the newcomer's run was served {served} entries: the flood's adoptions and the few honest statements, not its vouches"
    );
}

/// The log's count of entries served in evidence pages.
fn evidence_entries_served(world: &World) -> u64 {
    let metrics = world.metrics();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("quorum_evidence_entries_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no quorum_evidence_entries_total in {metrics}"))
}
