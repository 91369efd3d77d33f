//! The litewitness add-checkpoint conformance sequence (FiloSottile/torchwood) and a real
//! sum.golang.org checkpoint, over HTTP, on SQLite and PostgreSQL.

mod common;

use common::{Backend, TestWitness, check_cosignature};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/FiloSottile-torchwood/litewitness-add-checkpoint-sequence.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("json")
}

fn note_of(body: &str) -> &str {
    body.split_once("\n\n").expect("separator").1
}

async fn run_sequence(backend: Backend) {
    let v = vectors();
    let tw = TestWitness::start(backend).await;
    let origin = v["log"]["origin"].as_str().expect("origin");
    let vkey = v["log"]["vkey"].as_str().expect("vkey");
    tw.witness
        .add_log(origin, vkey, None)
        .await
        .expect("add log");
    let steps = v["sequence_single_witness_state"]
        .as_array()
        .expect("steps");
    assert_eq!(steps.len(), 9);
    for step in steps {
        let n = &step["step"];
        let body = step["request_body"].as_str().expect("body");
        let want = step["expect"]["status"].as_u64().expect("status") as u16;
        let (status, ct, text) = tw.add(body).await;
        assert_eq!(status, want, "step {n}: {text}");
        if let Some(c) = step["expect"]["body_contains"].as_str() {
            assert!(text.contains(c), "step {n}: {text:?} lacks {c:?}");
        }
        if let Some(e) = step["expect"]["body_equals"].as_str() {
            assert_eq!(text, e, "step {n}");
        }
        if status == 409 {
            assert_eq!(ct, "text/x.tlog.size", "step {n}");
        }
        if status == 200 {
            check_cosignature(&tw, note_of(body), &text);
        }
    }
    // The latest cosigned checkpoint is served under the origin's hash.
    let hash = quorum_witness::storage::origin_hash(origin);
    let (status, note) = tw.get(&format!("/{hash}/checkpoint")).await;
    assert_eq!(status, 200);
    assert!(note.starts_with(&format!("{origin}\n5\n")), "{note}");
    assert!(note.contains("— example.com/witness "), "{note}");
    tw.stop().await;
}

async fn run_sumdb(backend: Backend) {
    let v = vectors();
    let case = &v["sumdb_case"];
    let tw = TestWitness::start(backend).await;
    let origin = case["witness_config"]["origin"].as_str().expect("origin");
    let vkey = case["witness_config"]["vkey"].as_str().expect("vkey");
    tw.witness
        .add_log(origin, vkey, None)
        .await
        .expect("add log");
    let body = case["request_body"].as_str().expect("body");
    let (status, _, text) = tw.add(body).await;
    assert_eq!(status, 200, "{text}");
    check_cosignature(&tw, note_of(body), &text);
    let state = tw
        .store
        .store
        .state(origin)
        .await
        .expect("state")
        .expect("log");
    assert_eq!(state.size, 35225469);
    // The same checkpoint again is cosigned again; a stale old size gets 409.
    let again = body.replacen("old 0", "old 35225469", 1);
    let (status, _, text) = tw.add(again).await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = tw.add(body).await;
    assert_eq!((status, text.as_str()), (409, "35225469\n"));
    tw.stop().await;
}

#[tokio::test]
async fn litewitness_sequence_sqlite() {
    run_sequence(Backend::Sqlite).await;
}

#[tokio::test]
async fn litewitness_sequence_postgres() {
    run_sequence(Backend::Postgres).await;
}

#[tokio::test]
async fn sumdb_checkpoint_sqlite() {
    run_sumdb(Backend::Sqlite).await;
}

#[tokio::test]
async fn sumdb_checkpoint_postgres() {
    run_sumdb(Backend::Postgres).await;
}
