//! Evidence pages carry the history a client needs for "minimum provable age": for each
//! entry, the first cosigned checkpoint that covered it, with a consistency proof to the
//! tree size asked for. Checked end to end with the verifier's client layer (`verify_set`),
//! and the evidence API's refusals of malformed requests.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_log::config::WitnessConfig;
use quorum_proto::v1;
use quorum_verifier::client::bundle::verify_set;
use quorum_verifier::client::evidence::VerifiedEvidence;
use quorum_verifier::client::{CheckpointMemory, DirStore, LogTrust};
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

    // One page for the package and the trust graph, as JSON (the GET form serves one
    // package, the POST form any keys).
    let page: v1::EvidencePage = client
        .post(format!("{url}/v1/evidence"))
        .json(&json!({"cursors": [{"key": "pkg:cargo/aged"}, {"key": "quorum:trust-graph"}]}))
        .send()
        .await
        .expect("evidence")
        .json()
        .await
        .expect("page JSON");
    assert_eq!(page.tree_size, 12);
    assert_eq!(page.entries.len(), 12);
    assert_eq!(page.ranges.len(), 2);
    assert_eq!((page.ranges[0].start, page.ranges[0].end), (0, 12));
    // One historical checkpoint per distinct first checkpoint, not one per entry; the last
    // entry's first checkpoint is the page's own size, with its first cosignatures and an
    // empty consistency proof (a client may hold it with fresher ones).
    assert_eq!(page.history.len(), earlier.len() + 1);
    let own = page.history.last().expect("the page's own checkpoint");
    assert!(own.consistency_proof.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&own.checkpoint).lines().nth(1),
        Some("12")
    );
    // The GET form gives the same package range.
    let single: v1::EvidencePage = client
        .get(format!("{url}/v1/evidence?purl=pkg:cargo/aged@1.0.0"))
        .send()
        .await
        .expect("evidence")
        .json()
        .await
        .expect("page JSON");
    assert_eq!(single.ranges.len(), 1);
    assert_eq!(single.ranges[0].indices, page.ranges[0].indices);
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("checkpoint")
        .bytes()
        .await
        .expect("note")
        .to_vec();

    // The signers are the roots: statements of keys no root reaches are not verified.
    let roots: Vec<String> = (50..62u8)
        .map(|seed| {
            format!(
                "\"{}\"",
                hex::encode(user_key(seed).verifying_key().to_bytes())
            )
        })
        .collect();
    let policy = Policy::parse(&format!(
        "[log]\norigin = \"quorum.test/log\"\nkey = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w {witness_vkey}\nquorum w\n\"\"\"\n\n[trust]\nroots = [{}]\n",
        log_signer().vkey(),
        roots.join(", "),
    ))
    .expect("policy");
    let trust = LogTrust::from_policy(&policy).expect("trust");
    let state = tempfile::tempdir().expect("state");
    let memory = CheckpointMemory::new(DirStore::new(state.path()));
    let verify = |page: &v1::EvidencePage| -> VerifiedEvidence {
        let set = v1::EvidenceSet {
            log_origin: "quorum.test/log".into(),
            checkpoint: note.clone(),
            consistency_proofs: vec![],
            pages: vec![page.clone()],
        };
        verify_set(
            &set,
            &trust,
            &memory,
            &policy,
            &["pkg:cargo/aged".to_string()],
            0,
            "test",
        )
        .expect("the evidence verifies")
    };
    let evidence = verify(&page);
    assert!(evidence.rejected.is_empty(), "{:?}", evidence.rejected);
    assert!(evidence.warnings.is_empty(), "{:?}", evidence.warnings);
    assert_eq!(evidence.checkpoint.witnessed_at, main_time);
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
    let mut no_history = page.clone();
    no_history.history.clear();
    let evidence = verify(&no_history);
    assert!(
        evidence
            .statements
            .iter()
            .all(|s| s.first_cosigned_at == Some(main_time))
    );
    // A tampered consistency proof costs the history, with a warning, never the evidence.
    let mut tampered = page.clone();
    if let Some(hash) = tampered.history[0].consistency_proof.first_mut() {
        hash[0] ^= 1;
    }
    let evidence = verify(&tampered);
    assert_eq!(evidence.warnings.len(), 1, "{:?}", evidence.warnings);
    // Entry 0 is then dated by a later checkpoint only.
    assert!(evidence.statements[0].first_cosigned_at > expected[0].1);

    // Pinned: a page proven against an earlier tree size, while the log has grown.
    let pinned: v1::EvidencePage = client
        .post(format!("{url}/v1/evidence"))
        .json(&json!({"treeSize": "5", "cursors": [{"key": "pkg:cargo/aged"}]}))
        .send()
        .await
        .expect("evidence")
        .json()
        .await
        .expect("page JSON");
    assert_eq!(pinned.tree_size, 5);
    assert_eq!(pinned.ranges[0].indices, vec![0, 1, 2, 3, 4]);

    // Malformed requests are refused with 400.
    for bad in [
        json!({"cursors": []}),
        json!({"treeSize": "13", "cursors": [{"key": "pkg:cargo/aged"}]}),
        json!({"cursors": [{"key": "pkg:cargo/aged@1.0.0"}]}),
        json!({"cursors": [{"key": "quorum:other"}]}),
        json!({"cursors": [{"key": "pkg:cargo/aged"}, {"key": "pkg:cargo/aged"}]}),
        json!({"cursors": [{"key": "pkg:cargo/aged", "start": "12"}]}),
        json!({"cursors": [{"key": "pkg:cargo/aged", "start": "3", "until": "2"}]}),
    ] {
        let r = client
            .post(format!("{url}/v1/evidence"))
            .json(&bad)
            .send()
            .await
            .expect("evidence");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    srv.shutdown().await.expect("shutdown");
}
