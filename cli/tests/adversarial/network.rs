//! The network drops or delays the log's answers (issue 12 item 8): the client fails closed,
//! exit 69 with a message that says what is missing, never a verdict.

use quorum_verifier::model::predicates::TrustLevel;

use crate::harness::{Meddle, Proxy, World, expect_exit, say, text};

#[test]
fn dropped_or_stalled_answers_give_no_verdict() {
    let world = World::start();
    let (me, alice, policy) = world.me_and_alice();
    // Carol, whom only alice vouches for, is not one of the policy's keys: her part of the
    // trust graph is asked for in a second request, once alice's vouch is verified.
    let carol = world.person("carol");
    let demo = "pkg:cargo/demo@1.0.0";
    let indices = world.submit(&[
        me.says(say::trust(&alice.key_bytes(), TrustLevel::High)),
        alice.says(say::adopt(demo, [1; 32])),
        alice.says(say::trust(&carol.key_bytes(), TrustLevel::High)),
    ]);
    world.wait_for_size(indices[2] + 1);
    let lock = world.path("Cargo.lock");
    std::fs::write(
        &lock,
        crate::harness::cargo_lock(&[("demo", "1.0.0", [1; 32]), ("other", "2.0.0", [2; 32])]),
    )
    .expect("lockfile");
    let lock = lock.display().to_string();

    // (what, path prefix, requests let through first, what the proxy does, the command,
    // what its error must say)
    type Case<'a> = (&'a str, &'a str, usize, Meddle, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "evidence dropped",
            "/v1/evidence",
            0,
            Meddle::Drop,
            vec!["verify", demo],
            "no verdict",
        ),
        (
            "evidence dropped after the first page",
            "/v1/evidence",
            1,
            Meddle::Drop,
            vec!["verify", "--lockfile", &lock],
            "no verdict",
        ),
        (
            "evidence stalled",
            "/v1/evidence",
            0,
            Meddle::Stall(std::time::Duration::from_secs(30)),
            vec!["--timeout", "2", "verify", demo],
            "no verdict",
        ),
        (
            "checkpoint dropped",
            "/checkpoint",
            0,
            Meddle::Drop,
            vec!["verify", demo],
            "reach",
        ),
        (
            "checkpoint stalled",
            "/checkpoint",
            0,
            Meddle::Stall(std::time::Duration::from_secs(30)),
            vec!["--timeout", "2", "verify", demo],
            "reach",
        ),
        (
            "entry bundles dropped",
            "/tile/entries/",
            0,
            Meddle::Drop,
            vec!["mirror", "--quiet"],
            "reach",
        ),
        (
            "evidence for a fetch dropped",
            "/v1/evidence",
            0,
            Meddle::Drop,
            vec!["fetch", "pkg:cargo/demo", "--out", "saved.pb"],
            "no verdict",
        ),
    ];
    for (what, prefix, after, meddle, args, says) in cases {
        let proxy = Proxy::start(&world.url, prefix, after, meddle);
        let mut all = vec!["--log", proxy.url.as_str()];
        all.extend_from_slice(&args);
        let started = std::time::Instant::now();
        let out = world.quorum(&me, Some(&policy), &all);
        expect_exit(&out, 69);
        assert!(proxy.matched() > after, "{what}: the proxy saw the request");
        assert!(
            started.elapsed().as_secs() < 25,
            "{what}: the timeout holds"
        );
        let err = text(&out).1;
        assert!(err.contains(says), "{what}: {err}");
        if says == "no verdict" {
            assert!(
                err.contains("covered up to index"),
                "{what} names what is missing: {err}"
            );
        }
    }
    // The same commands straight to the log decide.
    expect_exit(&world.quorum(&me, Some(&policy), &["verify", demo]), 0);
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
}
