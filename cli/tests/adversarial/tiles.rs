//! Tampered tiles (issue 12 item 8): entry bundles altered on the way to `quorum mirror`, and
//! hash tiles altered on the way to the consistency proof a client builds from them. Nothing
//! unverified is kept, no verdict rests on it, and the honest log still works afterwards.

use quorum_verifier::model::predicates::TrustLevel;

use crate::harness::{Meddle, Proxy, World, expect_exit, say, text};

#[test]
fn a_tampered_entry_bundle_never_enters_the_mirror() {
    let world = World::start();
    let (me, alice, policy) = world.me_and_alice();
    let mut statements = vec![me.says(say::trust(&alice.key_bytes(), TrustLevel::High))];
    for i in 0..600 {
        statements.push(alice.says(say::adopt(&format!("pkg:cargo/demo@1.0.{i}"), [1; 32])));
    }
    let indices = world.submit(&statements);
    world.wait_for_size(indices[indices.len() - 1] + 1);
    let demo = "pkg:cargo/demo@1.0.7";

    // One byte of an entry, in the second bundle on: the recomputed root gives it away.
    for (what, meddle) in [
        ("an entry's byte", Meddle::FlipByteFromEnd(3)),
        (
            "a byte deep inside the bundle",
            Meddle::FlipByteFromEnd(10_000),
        ),
    ] {
        let proxy = Proxy::start(&world.url, "/tile/entries/", 1, meddle);
        let out = world.quorum(
            &me,
            Some(&policy),
            &["--log", &proxy.url, "mirror", "--quiet"],
        );
        expect_exit(&out, 3);
        assert!(proxy.matched() >= 2, "{what}: the proxy saw the bundles");
        let err = text(&out).1;
        assert!(
            err.contains("do not hash to") || err.contains("entry bundle"),
            "{what}: {err}"
        );
        // No verdict rests on the refused download.
        let out = world.quorum(&me, Some(&policy), &["verify", "--mirror", demo]);
        assert!(
            ![0, 1, 2].contains(&out.status.code().unwrap_or(0)),
            "{what}: {}",
            text(&out).1
        );
    }
    // The honest tiles: mirrored and decided.
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    expect_exit(
        &world.quorum(&me, Some(&policy), &["verify", "--mirror", demo]),
        0,
    );

    // The log grows; a hash tile altered on the way breaks the consistency proof built
    // from the tiles: the new checkpoint is refused, the stored one kept.
    let more = world.submit(&[alice.says(say::adopt("pkg:cargo/demo@2.0.0", [2; 32]))]);
    world.wait_for_size(more[0] + 1);
    let before = text(&world.quorum(&me, Some(&policy), &["checkpoint", "show"])).0;
    let proxy = Proxy::start(&world.url, "/tile/0/", 0, Meddle::FlipByteFromEnd(0));
    for args in [
        vec!["--log", proxy.url.as_str(), "mirror", "--quiet"],
        vec!["--log", proxy.url.as_str(), "verify", demo],
    ] {
        let out = world.quorum(&me, Some(&policy), &args);
        expect_exit(&out, 3);
        assert!(text(&out).1.contains("not consistent"), "{}", text(&out).1);
    }
    assert!(proxy.matched() >= 1);
    assert_eq!(
        text(&world.quorum(&me, Some(&policy), &["checkpoint", "show"])).0,
        before
    );
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    expect_exit(
        &world.quorum(
            &me,
            Some(&policy),
            &["verify", "--mirror", "pkg:cargo/demo@2.0.0"],
        ),
        0,
    );
}
