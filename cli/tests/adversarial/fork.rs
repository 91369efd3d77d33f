//! A forked log (issue 12 item 4): the same key and origin, other contents, cosigned by
//! witnesses that collude (the same witness keys on fresh state). Every command that reads a
//! checkpoint goes through the one checkpoint memory: the fork is refused by `verify` and by
//! `mirror`, both signed checkpoints are kept and printed by `quorum checkpoint conflicts`,
//! the stored checkpoint is never replaced, and the honest log is still accepted afterwards.

use quorum_verifier::model::predicates::TrustLevel;

use crate::harness::{World, expect_exit, json, say, text};

/// The root hash line of a signed checkpoint note.
fn root_line(note: &str) -> String {
    note.lines().nth(2).unwrap_or_default().to_string()
}

#[test]
fn a_forked_log_is_refused_kept_as_evidence_and_the_honest_log_still_accepted() {
    let world = World::start();
    let (me, alice, policy) = world.me_and_alice();
    let mallory = world.person("mallory");
    let demo = "pkg:cargo/demo@1.0.0";
    let honest = world.submit(&[
        me.says(say::trust(&alice.key_bytes(), TrustLevel::High)),
        alice.says(say::adopt(demo, [1; 32])),
    ]);
    world.wait_for_size(honest[1] + 1);
    expect_exit(&world.quorum(&me, Some(&policy), &["verify", demo]), 0);
    let honest_note = world.checkpoint_note();
    assert!(honest_note.lines().nth(1) == Some("2"), "{honest_note}");

    // The fork: same log key and witness keys, fresh state, other contents of the same size.
    let fork = world.fork();
    let forked = fork.submit(&[
        mallory.says(say::adopt("pkg:cargo/demo@6.6.6", [6; 32])),
        mallory.says(say::adopt("pkg:cargo/other@1.0.0", [6; 32])),
    ]);
    fork.wait_for_size(forked[1] + 1);
    let on_fork = |args: &[&str]| {
        let mut all = vec!["--log", fork.url.as_str()];
        all.extend_from_slice(args);
        world.quorum(&me, Some(&policy), &all)
    };
    let out = on_fork(&["verify", demo]);
    expect_exit(&out, 3);
    assert!(text(&out).1.contains("fork"), "{}", text(&out).1);
    let out = on_fork(&["mirror", "--quiet"]);
    expect_exit(&out, 3);
    assert!(text(&out).1.contains("fork"), "{}", text(&out).1);
    // Grown past the honest size, the fork cannot prove it extends the honest tree.
    let grown = fork.submit(&[mallory.says(say::adopt("pkg:cargo/third@1.0.0", [6; 32]))]);
    fork.wait_for_size(grown[0] + 1);
    let out = on_fork(&["mirror", "--quiet"]);
    expect_exit(&out, 3);
    assert!(text(&out).1.contains("not consistent"), "{}", text(&out).1);
    let out = on_fork(&["verify", demo]);
    expect_exit(&out, 3);

    // What was stored is still the honest checkpoint; both views are kept as evidence.
    let out = world.quorum(&me, Some(&policy), &["checkpoint", "show"]);
    expect_exit(&out, 0);
    assert_eq!(text(&out).0, honest_note, "never replaced by the fork");
    let out = world.quorum(&me, Some(&policy), &["--json", "checkpoint", "conflicts"]);
    expect_exit(&out, 0);
    let conflicts = json(&out);
    let conflicts = conflicts.as_array().expect("a list");
    assert!(conflicts.len() >= 2, "{conflicts:?}");
    let same_size: Vec<_> = conflicts
        .iter()
        .filter(|c| c["proves_fork"] == true)
        .collect();
    assert_eq!(same_size.len(), 1, "{conflicts:?}");
    let stored = same_size[0]["stored_note"].as_str().unwrap_or_default();
    let served = same_size[0]["served_note"].as_str().unwrap_or_default();
    assert_eq!(stored, honest_note);
    assert_eq!(served.lines().nth(1), Some("2"));
    assert_ne!(root_line(served), root_line(stored));
    assert!(
        served.contains("— adversarial.test/log ") && served.contains("— w1.adversarial.test "),
        "the refused note keeps the log's signature and the cosignatures: {served}"
    );
    assert!(
        conflicts
            .iter()
            .any(|c| c["served_note"].as_str().unwrap_or_default().lines().nth(1) == Some("3")),
        "{conflicts:?}"
    );
    // People read them too.
    let out = world.quorum(&me, Some(&policy), &["checkpoint", "conflicts"]);
    expect_exit(&out, 0);
    let printed = text(&out).0;
    assert!(
        printed.contains(&honest_note) && printed.contains(served),
        "{printed}"
    );
    assert!(printed.contains("prove a fork"), "{printed}");

    // The honest log, grown meanwhile, is still accepted: online, mirrored and decided.
    let more = world.submit(&[alice.says(say::adopt("pkg:cargo/demo@1.0.1", [2; 32]))]);
    world.wait_for_size(more[0] + 1);
    expect_exit(&world.quorum(&me, Some(&policy), &["verify", demo]), 0);
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    expect_exit(
        &world.quorum(&me, Some(&policy), &["verify", "--mirror", demo]),
        0,
    );
}

/// A log that serves an older checkpoint than one the client accepted: refused, nothing
/// replaced, and the newer one still accepted.
#[test]
fn a_rollback_is_refused_by_verify_and_mirror() {
    let world = World::start();
    let (me, alice, policy) = world.me_and_alice();
    let first = world.submit(&[me.says(say::trust(&alice.key_bytes(), TrustLevel::High))]);
    world.wait_for_size(first[0] + 1);
    // A proxy that keeps serving the first checkpoint it saw: a replay of an old view.
    let replay =
        crate::harness::Proxy::start(&world.url, "/checkpoint", 0, crate::harness::Meddle::Replay);
    let other = world.person("other");
    expect_exit(
        &world.quorum(
            &other,
            Some(&policy),
            &["--log", &replay.url, "verify", "pkg:cargo/demo@1.0.0"],
        ),
        2,
    );
    let later = world.submit(&[alice.says(say::adopt("pkg:cargo/demo@1.0.0", [1; 32]))]);
    world.wait_for_size(later[0] + 1);
    expect_exit(
        &world.quorum(&other, Some(&policy), &["verify", "pkg:cargo/demo@1.0.0"]),
        0,
    );
    for args in [
        vec![
            "--log",
            replay.url.as_str(),
            "verify",
            "pkg:cargo/demo@1.0.0",
        ],
        vec!["--log", replay.url.as_str(), "mirror", "--quiet"],
    ] {
        let out = world.quorum(&other, Some(&policy), &args);
        expect_exit(&out, 3);
        assert!(text(&out).1.contains("rollback"), "{}", text(&out).1);
    }
    expect_exit(
        &world.quorum(&other, Some(&policy), &["verify", "pkg:cargo/demo@1.0.0"]),
        0,
    );
}
