//! Storage on both backends: logs, compare-and-swap, evidence, persistence.

mod common;

use std::sync::Arc;

use common::{Backend, store};
use quorum_witness::storage::{AddLogOutcome, Evidence, LogState, Store, empty_root, origin_hash};

const K1: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
const K2: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

async fn logs_and_cas(backend: Backend) {
    let ts = store(backend).await;
    let s = &ts.store;
    assert_eq!(
        s.add_log("a", K1, None).await.expect("add"),
        AddLogOutcome::Created
    );
    assert_eq!(
        s.add_log("a", K1, None).await.expect("add"),
        AddLogOutcome::Unchanged
    );
    assert_eq!(
        s.add_log("a", K2, Some("http://x/")).await.expect("add"),
        AddLogOutcome::KeyAdded
    );
    assert_eq!(
        s.add_log("b", K2, None).await.expect("add"),
        AddLogOutcome::Created
    );
    let logs = s.logs().await.expect("logs");
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].origin, "a");
    assert_eq!(logs[0].keys, vec![K1.to_string(), K2.to_string()]);
    assert_eq!(logs[0].url.as_deref(), Some("http://x/"));
    assert_eq!(
        s.log("b").await.expect("log").expect("b").keys,
        vec![K2.to_string()]
    );
    assert!(s.log("c").await.expect("log").is_none());
    assert_eq!(
        s.origin_by_hash(&origin_hash("a"))
            .await
            .expect("q")
            .as_deref(),
        Some("a")
    );

    let st = s.state("a").await.expect("state").expect("a");
    assert_eq!(
        st,
        LogState {
            size: 0,
            root: empty_root(),
            note: String::new()
        }
    );
    assert!(
        s.checkpoint_by_origin_hash(&origin_hash("a"))
            .await
            .expect("q")
            .is_none()
    );
    assert!(s.state("zzz").await.expect("state").is_none());

    let r1 = [1u8; 32];
    assert!(
        s.compare_and_swap("a", &st, 5, &r1, "note5")
            .await
            .expect("cas")
    );
    // Stale size, and right size with the wrong root: both refused.
    assert!(
        !s.compare_and_swap("a", &st, 6, &r1, "x")
            .await
            .expect("cas")
    );
    let wrong_root = LogState {
        size: 5,
        root: [9; 32],
        note: String::new(),
    };
    assert!(
        !s.compare_and_swap("a", &wrong_root, 6, &r1, "x")
            .await
            .expect("cas")
    );
    let now = s.state("a").await.expect("state").expect("a");
    assert_eq!((now.size, now.root, now.note.as_str()), (5, r1, "note5"));
    assert_eq!(
        s.checkpoint_by_origin_hash(&origin_hash("a"))
            .await
            .expect("q")
            .as_deref(),
        Some("note5")
    );
    // The other log is untouched.
    assert_eq!(s.state("b").await.expect("state").expect("b").size, 0);
    // Sizes above i64::MAX are refused, not wrapped.
    assert!(
        s.compare_and_swap("a", &now, u64::MAX, &r1, "x")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn logs_and_cas_sqlite() {
    logs_and_cas(Backend::Sqlite).await;
}

#[tokio::test]
async fn logs_and_cas_postgres() {
    logs_and_cas(Backend::Postgres).await;
}

async fn concurrent_cas(backend: Backend) {
    let ts = store(backend).await;
    let s = Arc::new(ts.store.clone());
    s.add_log("race", K1, None).await.expect("add");
    let st = s.state("race").await.expect("state").expect("log");
    let mut tasks = Vec::new();
    for i in 1..=50u64 {
        let (s, st) = (s.clone(), st.clone());
        tasks.push(tokio::spawn(async move {
            s.compare_and_swap("race", &st, i, &[i as u8; 32], &format!("n{i}"))
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.expect("task").expect("cas") {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cas_sqlite() {
    concurrent_cas(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cas_postgres() {
    concurrent_cas(Backend::Postgres).await;
}

async fn evidence(backend: Backend) {
    let ts = store(backend).await;
    let s = &ts.store;
    s.add_log("a", K1, None).await.expect("add");
    s.add_log("b", K1, None).await.expect("add");
    let ev = |origin: &str, conflicting: &str| Evidence {
        id: 0,
        origin: origin.into(),
        kind: "same-size-different-root".into(),
        cosigned_note: "cosigned".into(),
        conflicting_note: conflicting.into(),
        proof: "old 1\n".into(),
        observed_at: 42,
    };
    assert!(s.add_evidence(&ev("a", "x")).await.expect("add"));
    assert!(!s.add_evidence(&ev("a", "x")).await.expect("dedup"));
    assert!(s.add_evidence(&ev("a", "y")).await.expect("add"));
    assert!(s.add_evidence(&ev("b", "z")).await.expect("add"));
    let all = s.evidence(None).await.expect("all");
    assert_eq!(all.len(), 3);
    let a = s.evidence(Some("a")).await.expect("a");
    assert_eq!(
        a.iter()
            .map(|e| e.conflicting_note.as_str())
            .collect::<Vec<_>>(),
        ["x", "y"]
    );
    assert_eq!(a[0].observed_at, 42);
    assert!(a[0].id < a[1].id);
}

#[tokio::test]
async fn evidence_sqlite() {
    evidence(Backend::Sqlite).await;
}

#[tokio::test]
async fn evidence_postgres() {
    evidence(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_state_survives_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let s = Store::open_data_dir(dir.path()).await.expect("open");
        s.add_log("a", K1, None).await.expect("add");
        let st = s.state("a").await.expect("state").expect("a");
        assert!(
            s.compare_and_swap("a", &st, 3, &[3; 32], "n3")
                .await
                .expect("cas")
        );
        s.close().await;
    }
    let s = Store::open_data_dir(dir.path()).await.expect("reopen");
    assert_eq!(s.state("a").await.expect("state").expect("a").size, 3);
    // Through a sqlite: URL too.
    let url = format!("sqlite:{}", dir.path().join("witness.db").display());
    let s2 = Store::connect(&url).await.expect("url");
    assert_eq!(s2.backend(), "sqlite");
    assert_eq!(s2.logs().await.expect("logs").len(), 1);
    assert!(Store::connect("mysql://x").await.is_err());
}
