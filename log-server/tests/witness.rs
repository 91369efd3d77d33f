//! Witnessing against a fake C2SP tlog-witness (real HTTP on loopback): the log pushes
//! checkpoints, handles 409 with the witness's size, and publishes cosigned checkpoints.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use quorum_c2sp::cosignature::{CosignatureSigner, verify_cosignatures};
use quorum_c2sp::note::Note;
use quorum_log::config::WitnessConfig;
use serde_json::Value;

#[derive(Clone)]
struct Fake {
    signer: Arc<CosignatureSigner>,
    size: Arc<Mutex<u64>>,
    conflicts: Arc<Mutex<u32>>,
}

async fn add_checkpoint(State(f): State<Fake>, body: String) -> (StatusCode, String) {
    let Some((head, note)) = body.split_once("\n\n") else {
        return (StatusCode::BAD_REQUEST, "bad body".into());
    };
    let old: u64 = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let mut size = f.size.lock().unwrap_or_else(|e| e.into_inner());
    if old != *size {
        *f.conflicts.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        return (StatusCode::CONFLICT, format!("{}\n", *size));
    }
    let Ok(n) = Note::parse(note.as_bytes()) else {
        return (StatusCode::BAD_REQUEST, "bad note".into());
    };
    let new: u64 = n
        .text
        .lines()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    *size = new;
    match f.signer.cosign_note(note.as_bytes(), 1_700_000_000) {
        Ok(line) => (StatusCode::OK, line),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosigned_checkpoints() {
    let signer = CosignatureSigner::from_seed("witness.test/w1", &[9; 32]).expect("signer");
    let vkey = signer.vkey();
    let verifier = signer.verifier();
    // The witness pretends it already saw a size of 0 → first push is `old 0`; make the
    // log hit a 409 by having it believe the witness is at 0 while the fake says 0 too,
    // then later force a conflict by resetting the fake's size.
    let fake = Fake {
        signer: Arc::new(signer),
        size: Arc::new(Mutex::new(0)),
        conflicts: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let waddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let db = fresh_db(Backend::Sqlite).await;
    let mut cfg = test_config(&db);
    cfg.witnesses = vec![WitnessConfig {
        url: format!("http://{waddr}"),
        vkey,
    }];
    cfg.required_cosignatures = 1;
    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let client = reqwest::Client::new();
    for i in 0..3 {
        if i == 2 {
            // The witness claims a different size: the log must follow the 409.
            *fake.size.lock().unwrap_or_else(|e| e.into_inner()) = 1;
        }
        let k = user_key(40 + i);
        let r = client
            .post(format!("{url}/v1/statements?wait=cosigned"))
            .json(&submission(
                &k,
                &envelope(&k, "pkg:cargo/w", &format!("{i}.0.0")),
            ))
            .send()
            .await
            .expect("submit");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["status"], "SUBMIT_STATUS_SEQUENCED", "{v}");
        let proof = v["tlogProof"].as_str().unwrap_or_default();
        assert!(proof.contains("— witness.test/w1 "), "{proof}");
    }
    assert!(*fake.conflicts.lock().unwrap_or_else(|e| e.into_inner()) >= 1);
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("cp")
        .text()
        .await
        .expect("text");
    let parsed = Note::parse(note.as_bytes()).expect("note");
    let cos = verify_cosignatures(&parsed, &[verifier]).expect("cosignature verifies");
    assert_eq!(cos.len(), 1);
    assert!(parsed.text.contains("\n3\n"), "{}", parsed.text);
    srv.shutdown().await.expect("shutdown");
}
