//! A frozen view (issue 12 item 8): a checkpoint the witness quorum last cosigned longer ago
//! than the policy's `[log] max_checkpoint_age_seconds` gives no verdict (exit 3) with a
//! message saying how old it is, while a log that keeps earning fresh cosignatures passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use quorum_verifier::model::predicates::TrustLevel;

use crate::harness::{Meddle, ONE_ADOPTER_RULE, Proxy, World, expect_exit, say, text};

const MAX_AGE: u64 = 3;

#[test]
fn a_checkpoint_older_than_the_policy_allows_gives_no_verdict() {
    let world = Arc::new(World::start());
    let me = world.person("me");
    let alice = world.person("alice");
    let policy = world.policy_with_log(
        "policy.toml",
        &[&me],
        &[&me, &alice],
        &format!("max_checkpoint_age_seconds = {MAX_AGE}"),
        "",
        ONE_ADOPTER_RULE,
    );
    let demo = "pkg:cargo/demo@1.0.0";
    let indices = world.submit(&[
        me.says(say::trust(&alice.key_bytes(), TrustLevel::High)),
        alice.says(say::adopt(demo, [1; 32])),
    ]);
    world.wait_for_size(indices[1] + 1);

    // A view frozen in the network: the first checkpoint served, served forever.
    let frozen = Proxy::start(&world.url, "/checkpoint", 0, Meddle::Replay);
    let first = world.person("first");
    expect_exit(
        &world.quorum(
            &first,
            Some(&policy),
            &["--log", &frozen.url, "verify", demo],
        ),
        0,
    );

    // The log stays active, so its checkpoints keep fresh cosignatures (an idle log that
    // re-earns cosignatures passes the same way).
    let active = Arc::new(AtomicBool::new(true));
    let activity = {
        let (world, active) = (world.clone(), active.clone());
        let bob = world.person("bob");
        std::thread::spawn(move || {
            let mut i = 0u32;
            while active.load(Ordering::Relaxed) {
                world.submit(&[bob.says(say::adopt(&format!("pkg:cargo/noise@1.0.{i}"), [3; 32]))]);
                i += 1;
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(MAX_AGE + 2));
    // Fresh: straight to the log.
    let out = world.quorum(&me, Some(&policy), &["verify", demo]);
    expect_exit(&out, 0);
    // Frozen: a client without state shown the old checkpoint.
    let newcomer = world.person("newcomer");
    for args in [
        vec!["--log", frozen.url.as_str(), "verify", demo],
        vec!["--log", frozen.url.as_str(), "mirror", "--quiet"],
    ] {
        let out = world.quorum(&newcomer, Some(&policy), &args);
        expect_exit(&out, 3);
        let err = text(&out).1;
        assert!(err.contains("stale") && err.contains(" s "), "{err}");
        assert!(err.contains(&format!("allows {MAX_AGE} s")), "{err}");
    }
    active.store(false, Ordering::Relaxed);
    let _ = activity.join();
    assert!(started.elapsed() >= Duration::from_secs(MAX_AGE + 1));
}
