//! Evidence bundles carry the history a client needs for "minimum provable age": for each
//! entry, the first cosigned checkpoint that covered it, with a consistency proof to the
//! checkpoint served. Checked end to end with the verifier's `verify_bundle`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_log::config::WitnessConfig;
use quorum_proto::v1::EvidenceBundle;
use quorum_verifier::evidence::{LogTrust, verify_bundle};
use quorum_verifier::policy::Policy;
use serde_json::{Value, json};

/// A witness that cosigns every checkpoint it is sent, with timestamps 1000, 2000, 3000, …
/// so that each cosigned checkpoint has a distinct, known time, and records (size, time).
#[derive(Clone)]
struct CountingWitness {
    signer: Arc<CosignatureSigner>,
    cosigned: Arc<AtomicU64>,
    log: Arc<Mutex<Vec<(u64, u64)>>>,
}

async fn add_checkpoint(State(w): State<CountingWitness>, body: String) -> (StatusCode, String) {
    let Some((_, note)) = body.split_once("\n\n") else {
        return (StatusCode::BAD_REQUEST, "bad body".into());
    };
    let Some(size) = note.lines().nth(1).and_then(|l| l.parse::<u64>().ok()) else {
        return (StatusCode::BAD_REQUEST, "no size".into());
    };
    let time = 1000 * (w.cosigned.fetch_add(1, Ordering::SeqCst) + 1);
    match w.signer.cosign_note(note.as_bytes(), time) {
        Ok(line) => {
            w.log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((size, time));
            (StatusCode::OK, line)
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn submit_cosigned(client: &reqwest::Client, url: &str, seeds: &[u8]) {
    let items: Vec<Value> = seeds
        .iter()
        .map(|&seed| {
            let key = user_key(seed);
            submission(&key, &envelope(&key, "pkg:cargo/aged", "1.0.0"))
        })
        .collect();
    let r = client
        .post(format!("{url}/v1/statements?wait=cosigned"))
        .json(&json!({ "envelopes": items }))
        .send()
        .await
        .expect("submit");
    let v: Value = r.json().await.expect("json");
    for result in v["results"].as_array().into_iter().flatten() {
        assert_eq!(result["status"], "SUBMIT_STATUS_SEQUENCED", "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_entry_is_dated_by_the_first_cosigned_checkpoint_that_covers_it_sqlite() {
    dated_by_first_cosigned_checkpoint(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_entry_is_dated_by_the_first_cosigned_checkpoint_that_covers_it_postgres() {
    dated_by_first_cosigned_checkpoint(Backend::Postgres).await;
}

async fn dated_by_first_cosigned_checkpoint(backend: Backend) {
    let signer = CosignatureSigner::from_seed("witness.test/aging", &[21; 32]).expect("signer");
    let witness_vkey = signer.vkey();
    let witness = CountingWitness {
        signer: Arc::new(signer),
        cosigned: Arc::default(),
        log: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let witness_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let db = fresh_db(backend).await;
    let mut cfg = test_config(&db);
    cfg.witnesses = vec![WitnessConfig {
        url: format!("http://{witness_addr}"),
        vkey: witness_vkey.clone(),
    }];
    cfg.required_cosignatures = 1;
    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let client = reqwest::Client::new();

    // Entry 0 in one cosigned checkpoint, entries 1 to 10 in one or a few later ones (one
    // request), entry 11 in the checkpoint the bundle is served under.
    submit_cosigned(&client, &url, &[50]).await;
    submit_cosigned(&client, &url, &(51..61).collect::<Vec<u8>>()).await;
    submit_cosigned(&client, &url, &[61]).await;
    let cosignatures = witness
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // The definition, from what the witness saw: an entry's date is the time of the first
    // cosigned checkpoint larger than its index.
    let first_cosigned = |index: u64| {
        cosignatures
            .iter()
            .filter(|(size, _)| *size > index)
            .min_by_key(|(size, time)| (*size, *time))
            .copied()
    };
    let expected: Vec<(u64, Option<u64>)> = (0..12)
        .map(|i| (i, first_cosigned(i).map(|(_, time)| time)))
        .collect();
    let (main_size, main_time) = first_cosigned(11).expect("the last entry is cosigned");
    assert_eq!(main_size, 12);
    let earlier: std::collections::BTreeSet<u64> = (0..12)
        .filter_map(first_cosigned)
        .map(|(size, _)| size)
        .filter(|size| *size < main_size)
        .collect();
    assert!(earlier.len() >= 2 && earlier.len() < 11, "{cosignatures:?}");

    let bundle: EvidenceBundle = client
        .get(format!("{url}/v1/evidence?purl=pkg:cargo/aged@1.0.0"))
        .send()
        .await
        .expect("evidence")
        .json()
        .await
        .expect("bundle JSON");
    assert_eq!(bundle.entries.len(), 12);
    // One historical checkpoint per distinct first checkpoint, not one per entry.
    assert_eq!(bundle.history.len(), earlier.len());

    let policy = Policy::parse(&format!(
        "[log]\norigin = \"quorum.test/log\"\nkey = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w {witness_vkey}\nquorum w\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n",
        log_signer().vkey(),
        hex::encode(user_key(1).verifying_key().to_bytes()),
    ))
    .expect("policy");
    let trust = LogTrust::from_policy(&policy).expect("trust");
    let evidence = verify_bundle(&bundle, &trust, None).expect("the bundle verifies");
    assert!(evidence.rejected.is_empty(), "{:?}", evidence.rejected);
    assert!(evidence.warnings.is_empty(), "{:?}", evidence.warnings);
    assert_eq!(evidence.witnessed_at, main_time);
    let dated: Vec<(u64, Option<u64>)> = evidence
        .statements
        .iter()
        .map(|s| (s.index, s.first_cosigned_at))
        .collect();
    assert_eq!(dated, expected);
    assert!(
        dated[0].1.is_some_and(|t| t < main_time),
        "entry 0 is older than the checkpoint served: {dated:?}"
    );

    // Without the history every entry is only as old as the checkpoint served.
    let mut no_history = bundle.clone();
    no_history.history.clear();
    let evidence = verify_bundle(&no_history, &trust, None).expect("verifies");
    assert!(
        evidence
            .statements
            .iter()
            .all(|s| s.first_cosigned_at == Some(main_time))
    );
    // A tampered consistency proof costs the history, with a warning, never the bundle.
    let mut tampered = bundle.clone();
    if let Some(hash) = tampered.history[0].consistency_proof.first_mut() {
        hash[0] ^= 1;
    }
    let evidence = verify_bundle(&tampered, &trust, None).expect("verifies");
    assert_eq!(evidence.warnings.len(), 1, "{:?}", evidence.warnings);
    // Entry 0 is then dated by a later checkpoint only.
    assert!(evidence.statements[0].first_cosigned_at > expected[0].1);
    srv.shutdown().await.expect("shutdown");
}
