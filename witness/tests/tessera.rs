//! The witness cosigns the Tessera test log (another implementation's log): pushed in
//! order with consistency proofs computed from its tiles, and pulled over HTTP.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use common::{Backend, TestWitness, body, check_cosignature};
use quorum_c2sp::merkle::{HashReadError, prove_consistency};
use quorum_c2sp::tiles::{Tile, TileHashReader};
use quorum_witness::config::LogConfig;
use quorum_witness::pull::{PollOutcome, http_client, poll_once};

const ORIGIN: &str = "example.com/log/testdata";
const VKEY: &str = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

fn log_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/transparency-dev-tessera/testdata/log"
    ))
}

fn checkpoint(n: u64) -> String {
    std::fs::read_to_string(log_dir().join(format!("checkpoint.{n}"))).expect("checkpoint")
}

fn proof_from_tiles(old: u64, new: u64) -> Vec<[u8; 32]> {
    let reader = TileHashReader::new(new, |tile: &Tile| {
        std::fs::read(log_dir().join(tile.path())).map_err(|e| HashReadError::Backend(Box::new(e)))
    });
    prove_consistency(old, new, &reader).expect("proof from tiles")
}

async fn push_all(backend: Backend) {
    let tw = TestWitness::start(backend).await;
    tw.witness
        .add_log(ORIGIN, VKEY, None)
        .await
        .expect("add log");
    let mut old = 0;
    for n in 0..=15u64 {
        let note = checkpoint(n);
        let proof = proof_from_tiles(old, n);
        let (status, _, text) = tw.add(body(old, &proof, &note)).await;
        assert_eq!(status, 200, "size {n}: {text}");
        check_cosignature(&tw, &note, &text);
        old = n;
    }
    // Skipping sizes works too: a fresh witness goes 0 -> 1 -> 7 -> 15.
    let tw2 = TestWitness::start(backend).await;
    tw2.witness
        .add_log(ORIGIN, VKEY, None)
        .await
        .expect("add log");
    let mut old = 0;
    for n in [1u64, 7, 15] {
        let (status, _, text) = tw2
            .add(body(old, &proof_from_tiles(old, n), &checkpoint(n)))
            .await;
        assert_eq!(status, 200, "size {n}: {text}");
        old = n;
    }
    // A proof for the wrong pair of sizes fails.
    let (status, _, _) = tw2
        .add(body(15, &proof_from_tiles(3, 15), &checkpoint(15)))
        .await;
    assert_eq!(status, 422);
    tw.stop().await;
    tw2.stop().await;
}

#[tokio::test]
async fn tessera_push_sqlite() {
    push_all(Backend::Sqlite).await;
}

#[tokio::test]
async fn tessera_push_postgres() {
    push_all(Backend::Postgres).await;
}

/// A static tlog-tiles server over the Tessera directory whose `/checkpoint` is the
/// checkpoint of a size the test chooses.
async fn serve_log(size: Arc<AtomicU64>) -> String {
    async fn handler(State(size): State<Arc<AtomicU64>>, uri: Uri) -> (StatusCode, Vec<u8>) {
        let path = uri.path().trim_start_matches('/');
        let file = if path == "checkpoint" {
            format!("checkpoint.{}", size.load(Ordering::SeqCst))
        } else if path.starts_with("tile/") && !path.contains("..") {
            path.to_string()
        } else {
            return (StatusCode::NOT_FOUND, b"not found".to_vec());
        };
        match std::fs::read(log_dir().join(file)) {
            Ok(b) => (StatusCode::OK, b),
            Err(_) => (StatusCode::NOT_FOUND, b"not found".to_vec()),
        }
    }
    let app = axum::Router::new().fallback(handler).with_state(size);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/")
}

async fn pull(backend: Backend) {
    let size = Arc::new(AtomicU64::new(1));
    let url = serve_log(size.clone()).await;
    let tw = TestWitness::start(backend).await;
    tw.witness
        .add_log(ORIGIN, VKEY, Some(&url))
        .await
        .expect("add log");
    let log = LogConfig {
        origin: ORIGIN.into(),
        keys: vec![VKEY.into()],
        url: Some(url),
        poll_interval_secs: 1,
    };
    let client = http_client();
    let poll = || poll_once(&tw.witness, &client, &log);
    assert_eq!(poll().await.expect("poll"), PollOutcome::Cosigned(1));
    assert_eq!(poll().await.expect("poll"), PollOutcome::UpToDate(1));
    for n in [2u64, 3, 8, 15] {
        size.store(n, Ordering::SeqCst);
        assert_eq!(poll().await.expect("poll"), PollOutcome::Cosigned(n));
    }
    size.store(9, Ordering::SeqCst);
    assert_eq!(
        poll().await.expect("poll"),
        PollOutcome::Behind {
            log_size: 9,
            witness_size: 15
        }
    );
    // The cosigned checkpoint is served with the log's signature and the witness's.
    let hash = quorum_witness::storage::origin_hash(ORIGIN);
    let (status, note) = tw.get(&format!("/{hash}/checkpoint")).await;
    assert_eq!(status, 200);
    assert!(note.starts_with(&checkpoint(15)), "{note}");
    let cosig = note.strip_prefix(&checkpoint(15)).expect("prefix");
    check_cosignature(&tw, &checkpoint(15), cosig);
    tw.stop().await;
}

#[tokio::test]
async fn tessera_pull_sqlite() {
    pull(Backend::Sqlite).await;
}

#[tokio::test]
async fn tessera_pull_postgres() {
    pull(Backend::Postgres).await;
}

#[tokio::test]
async fn background_poller_cosigns_and_stops() {
    let size = Arc::new(AtomicU64::new(15));
    let url = serve_log(size).await;
    let tw = TestWitness::start(Backend::Sqlite).await;
    tw.witness
        .add_log(ORIGIN, VKEY, Some(&url))
        .await
        .expect("add log");
    let log = LogConfig {
        origin: ORIGIN.into(),
        keys: vec![VKEY.into()],
        url: Some(url),
        poll_interval_secs: 1,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let poller = quorum_witness::pull::spawn_poller(tw.witness.clone(), log, stop_rx);
    let mut cosigned = false;
    for _ in 0..50 {
        let st = tw
            .store
            .store
            .state(ORIGIN)
            .await
            .expect("state")
            .expect("log");
        if st.size == 15 {
            cosigned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(cosigned, "the poller cosigned size 15");
    stop_tx.send(true).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(5), poller)
        .await
        .expect("poller stops")
        .expect("join");
    let (_, metrics) = tw.get("/metrics").await;
    assert!(
        metrics.contains("witness_pull_cosigned_total 1"),
        "{metrics}"
    );
    tw.stop().await;
}
