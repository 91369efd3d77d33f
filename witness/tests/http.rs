//! Every status-code path of the HTTP API, malformed bodies, limits, equivocation
//! evidence and the compare-and-swap race, over loopback on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use common::{Backend, TestLog, TestWitness, body, check_cosignature};
use quorum_c2sp::merkle::MemoryTree;
use quorum_witness::config::Limits;
use quorum_witness::storage::origin_hash;

fn tree(n: u64, salt: &str) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.append(format!("{salt}-{i}").as_bytes());
    }
    t
}

async fn setup(backend: Backend) -> (TestWitness, TestLog, MemoryTree) {
    let tw = TestWitness::start(backend).await;
    let log = TestLog::new("example.com/test-log");
    tw.witness
        .add_log(&log.origin, &log.vkey(), None)
        .await
        .expect("add log");
    (tw, log, tree(64, "main"))
}

fn root(t: &MemoryTree, n: u64) -> [u8; 32] {
    t.root_at(n).expect("root")
}

fn proof(t: &MemoryTree, old: u64, new: u64) -> Vec<[u8; 32]> {
    t.prove_consistency(old, new).expect("proof")
}

async fn status_codes(backend: Backend) {
    let (tw, log, t) = setup(backend).await;
    let cp4 = log.checkpoint(4, root(&t, 4));

    // 404 before anything: no cosigned checkpoint yet, unknown origin.
    let h = origin_hash(&log.origin);
    assert_eq!(tw.get(&format!("/{h}/checkpoint")).await.0, 404);
    let other = TestLog::new("example.com/unknown");
    let (s, _, m) = tw
        .add(body(0, &[], &other.checkpoint(1, root(&t, 1))))
        .await;
    assert_eq!(s, 404, "{m}");
    assert!(m.contains("unknown log origin"), "{m}");

    // 403: signed by a key the witness does not trust for this origin.
    let impostor = quorum_c2sp::note::Ed25519Signer::generate(&log.origin).expect("key");
    let forged = quorum_c2sp::checkpoint::Checkpoint {
        origin: log.origin.clone(),
        size: 4,
        root_hash: root(&t, 4),
        extensions: vec![],
    }
    .sign(&[&impostor])
    .expect("sign");
    let forged = String::from_utf8(forged).expect("utf8");
    let (s, _, m) = tw.add(body(0, &[], &forged)).await;
    assert_eq!(s, 403, "{m}");
    // 403: the trusted key's signature is corrupted.
    let sig_at = cp4.rfind(' ').expect("sig") + 1;
    let mut bad = cp4.clone().into_bytes();
    bad[sig_at + 10] = if bad[sig_at + 10] == b'A' { b'B' } else { b'A' };
    let (s, _, m) = tw
        .add(body(0, &[], std::str::from_utf8(&bad).expect("utf8")))
        .await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("invalid signature"), "{m}");

    // 400: malformed bodies.
    for b in [
        String::new(),
        "old 0\n".to_string(),
        "old x\n\n".to_string() + &cp4,
        "old 00\n\n".to_string() + &cp4,
        "old 0\nnot base64!\n\n".to_string() + &cp4,
        "old 0\n\nnot a note\n".to_string(),
        "old 0\n\nno\nsignatures\n\n".to_string(),
        format!("old 0\n\n{}", cp4.replacen("\n4\n", "\nfour\n", 1)),
    ] {
        let (s, ct, m) = tw.add(b.clone()).await;
        assert_eq!(s, 400, "{b:?}: {m}");
        assert!(ct.starts_with("text/plain"), "{ct}");
        assert!(!m.is_empty());
    }
    let (s, _, _) = tw.add(vec![0xff, 0xfe, b'\n']).await;
    assert_eq!(s, 400);
    // 400: old size above the checkpoint's size.
    let (s, _, m) = tw.add(body(5, &[], &cp4)).await;
    assert_eq!(s, 400, "{m}");
    assert!(m.contains("larger than the checkpoint size"), "{m}");

    // 422: non-empty proof with old size 0.
    let (s, _, m) = tw.add(body(0, &proof(&t, 2, 4), &cp4)).await;
    assert_eq!(s, 422, "{m}");
    // 422: a size-0 checkpoint whose root is not the empty tree's.
    let (s, _, m) = tw.add(body(0, &[], &log.checkpoint(0, root(&t, 4)))).await;
    assert_eq!(s, 422, "{m}");

    // 200: first checkpoint.
    let (s, _, m) = tw.add(body(0, &[], &cp4)).await;
    assert_eq!(s, 200, "{m}");
    check_cosignature(&tw, &cp4, &m);
    // 200 again for the same checkpoint (old = size, empty proof); the state stays.
    let (s, _, m) = tw.add(body(4, &[], &cp4)).await;
    assert_eq!(s, 200, "{m}");
    // 422: same size with a non-empty proof.
    let (s, _, _) = tw.add(body(4, &proof(&t, 2, 4), &cp4)).await;
    assert_eq!(s, 422);

    // 409 with the current size.
    let cp9 = log.checkpoint(9, root(&t, 9));
    let (s, ct, m) = tw.add(body(3, &proof(&t, 3, 9), &cp9)).await;
    assert_eq!(
        (s, ct.as_str(), m.as_str()),
        (409, "text/x.tlog.size", "4\n")
    );
    let (s, _, m) = tw.add(body(0, &[], &cp9)).await;
    assert_eq!((s, m.as_str()), (409, "4\n"));

    // 422: bad proofs (wrong hashes, too short, too long).
    let mut wrong = proof(&t, 4, 9);
    wrong[0][0] ^= 1;
    for p in [wrong, proof(&t, 4, 9)[1..].to_vec(), {
        let mut l = proof(&t, 4, 9);
        l.push([0; 32]);
        l
    }] {
        let (s, _, m) = tw.add(body(4, &p, &cp9)).await;
        assert_eq!(s, 422, "{m}");
        assert!(m.contains("consistency proof"), "{m}");
    }
    // 200 with the right proof.
    let (s, _, m) = tw.add(body(4, &proof(&t, 4, 9), &cp9)).await;
    assert_eq!(s, 200, "{m}");
    check_cosignature(&tw, &cp9, &m);

    // GET the latest cosigned checkpoint.
    let (s, note) = tw.get(&format!("/{h}/checkpoint")).await;
    assert_eq!(s, 200);
    assert!(note.starts_with(&cp9), "{note}");
    check_cosignature(&tw, &cp9, note.strip_prefix(cp9.as_str()).expect("prefix"));
    assert_eq!(tw.get("/nothex/checkpoint").await.0, 404);
    assert_eq!(
        tw.get(&format!("/{}/checkpoint", "0".repeat(64))).await.0,
        404
    );

    // Health, metrics, witness key.
    assert_eq!(tw.get("/healthz").await, (200, "ok\n".into()));
    let (s, metrics) = tw.get("/metrics").await;
    assert_eq!(s, 200);
    assert!(
        metrics.contains("witness_add_checkpoint_total{code=\"200\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("witness_add_checkpoint_total{code=\"409\"} 2"),
        "{metrics}"
    );
    assert_eq!(
        tw.get("/witness-key").await.1,
        format!("{}\n", tw.signer.vkey())
    );
    tw.stop().await;
}

#[tokio::test]
async fn status_codes_sqlite() {
    status_codes(Backend::Sqlite).await;
}

#[tokio::test]
async fn status_codes_postgres() {
    status_codes(Backend::Postgres).await;
}

async fn equivocation(backend: Backend) {
    let (tw, log, t) = setup(backend).await;
    let fork = {
        let mut f = tree(2, "main");
        for i in 0..62 {
            f.append(format!("fork-{i}").as_bytes());
        }
        f
    };
    let cp3 = log.checkpoint(3, root(&t, 3));
    assert_eq!(tw.add(body(0, &[], &cp3)).await.0, 200);
    // Same size, other root: refused, kept.
    let fork3 = log.checkpoint(3, root(&fork, 3));
    let (s, _, m) = tw.add(body(3, &[], &fork3)).await;
    assert_eq!(s, 422, "{m}");
    assert!(m.contains("same size"), "{m}");
    // Shown again (even with a stale old size): still refused, stored once.
    let (s, _, _) = tw.add(body(1, &[], &fork3)).await;
    assert_eq!(s, 422);
    // A larger checkpoint of the fork has no valid proof from what was cosigned.
    let fork8 = log.checkpoint(8, root(&fork, 8));
    let (s, _, _) = tw.add(body(3, &proof(&fork, 3, 8), &fork8)).await;
    assert_eq!(s, 422);
    // The honest history still advances, the fork is never cosigned.
    let cp8 = log.checkpoint(8, root(&t, 8));
    assert_eq!(tw.add(body(3, &proof(&t, 3, 8), &cp8)).await.0, 200);

    let (s, json) = tw.get("/evidence").await;
    assert_eq!(s, 200);
    let ev: serde_json::Value = serde_json::from_str(&json).expect("json");
    let ev = ev.as_array().expect("array");
    assert_eq!(ev.len(), 2, "{json}");
    assert_eq!(ev[0]["kind"], "same-size-different-root");
    assert_eq!(ev[0]["conflicting_note"], fork3.as_str());
    assert!(
        ev[0]["cosigned_note"]
            .as_str()
            .expect("note")
            .starts_with(&cp3)
    );
    assert_eq!(ev[1]["kind"], "inconsistent");
    assert_eq!(ev[1]["conflicting_note"], fork8.as_str());
    assert!(
        ev[1]["proof"]
            .as_str()
            .expect("proof")
            .starts_with("old 3\n")
    );
    let h = origin_hash(&log.origin);
    let (s, per) = tw.get(&format!("/evidence/{h}")).await;
    assert_eq!(s, 200);
    assert_eq!(per, json);
    assert_eq!(
        tw.get(&format!("/evidence/{}", "a".repeat(64))).await.0,
        404
    );
    let (_, metrics) = tw.get("/metrics").await;
    assert!(
        metrics.contains("witness_evidence_stored_total 2"),
        "{metrics}"
    );
    tw.stop().await;
}

#[tokio::test]
async fn equivocation_sqlite() {
    equivocation(Backend::Sqlite).await;
}

#[tokio::test]
async fn equivocation_postgres() {
    equivocation(Backend::Postgres).await;
}

async fn cas_race(backend: Backend) {
    let (tw, log, t) = setup(backend).await;
    assert_eq!(
        tw.add(body(0, &[], &log.checkpoint(1, root(&t, 1))))
            .await
            .0,
        200
    );
    let tw = Arc::new(tw);
    let mut tasks = Vec::new();
    for n in 2..=41u64 {
        let b = body(1, &proof(&t, 1, n), &log.checkpoint(n, root(&t, n)));
        let tw = tw.clone();
        tasks.push(tokio::spawn(async move { (n, tw.add(b).await) }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (n, (s, _, m)) = task.await.expect("task");
        match s {
            200 => winners.push(n),
            409 => assert_ne!(m, "1\n", "a loser saw the old state"),
            other => panic!("size {n}: unexpected {other}: {m}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one request advances from size 1: {winners:?}"
    );
    let state = tw
        .store
        .store
        .state(&log.origin)
        .await
        .expect("state")
        .expect("log");
    assert_eq!(state.size, winners[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cas_race_sqlite() {
    cas_race(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cas_race_postgres() {
    cas_race(Backend::Postgres).await;
}

#[tokio::test]
async fn body_limit_and_rate_limit() {
    let limits = Limits {
        max_body_bytes: 1024,
        requests_per_minute_per_log: 60,
        burst_per_log: 3,
        ..Limits::default()
    };
    let tw = TestWitness::start_with(Backend::Sqlite, limits).await;
    let log = TestLog::new("example.com/limited");
    tw.witness
        .add_log(&log.origin, &log.vkey(), None)
        .await
        .expect("add");
    let t = tree(4, "x");
    // 413 for a body over the limit.
    let (s, _, m) = tw.add(vec![b'a'; 4096]).await;
    assert_eq!(s, 413, "{m}");
    // 429 once the log's budget is spent; other logs are unaffected.
    let cp = log.checkpoint(2, root(&t, 2));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(tw.add(body(0, &[], &cp)).await.0);
    }
    assert_eq!(statuses[..3], [200, 409, 409]);
    assert_eq!(statuses[3..], [429, 429]);
    let r = tw
        .client
        .post(tw.url("/add-checkpoint"))
        .body(body(0, &[], &cp))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let other = TestLog::new("example.com/other");
    tw.witness
        .add_log(&other.origin, &other.vkey(), None)
        .await
        .expect("add");
    assert_eq!(
        tw.add(body(0, &[], &other.checkpoint(1, root(&t, 1))))
            .await
            .0,
        200
    );
    let (_, metrics) = tw.get("/metrics").await;
    assert!(
        metrics.contains("witness_add_checkpoint_total{code=\"413\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("witness_add_checkpoint_total{code=\"429\"} 3"),
        "{metrics}"
    );
    tw.stop().await;
}
