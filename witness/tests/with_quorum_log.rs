//! quorum-log's witness client and this witness, together, over real HTTP on loopback:
//! the log pushes every checkpoint to two witnesses, publishes only with both
//! cosignatures, hands out receipts that verify against a tlog-policy naming both
//! witnesses, keeps working across a restart, and a fork of the log signed with the same key
//! (which learns the witnesses' sizes through 409) is refused and kept as evidence.
//!
//! Run on SQLite, and on PostgreSQL for both the log and the witnesses.

mod common;
#[path = "../../log-server/tests/common/mod.rs"]
mod log_common;

use std::time::Duration;

use common::{Backend as WitnessBackend, TestWitness};
use log_common::{Backend as LogBackend, TestDb};
use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::merkle;
use quorum_c2sp::note::{Note, NoteSigner as _};
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_c2sp::witness_policy::WitnessPolicy;
use quorum_log::config::WitnessConfig;
use quorum_log::server::RunningServer;
use quorum_proto::v1::{EvidencePage, SubmitResponse, SubmitStatus};
use quorum_witness::storage::origin_hash;
use serde_json::Value;

async fn start_log(db: &TestDb, witnesses: &[&TestWitness]) -> RunningServer {
    let mut cfg = log_common::test_config(db);
    cfg.witnesses = witnesses
        .iter()
        .map(|w| WitnessConfig {
            url: format!("http://{}", w.addr),
            vkey: w.signer.vkey(),
        })
        .collect();
    cfg.required_cosignatures = witnesses.len();
    cfg.witness_timeout_ms = 5_000;
    quorum_log::server::start(cfg, log_common::log_signer())
        .await
        .expect("log starts")
}

/// Submits one adoption and waits until it is covered by a checkpoint carrying every
/// required cosignature; returns the submission response.
async fn submit_cosigned(
    client: &reqwest::Client,
    log: &RunningServer,
    seed: u8,
) -> SubmitResponse {
    let key = log_common::user_key(seed);
    let env = log_common::envelope(&key, "pkg:cargo/witnessed", &format!("1.0.{seed}"));
    let resp = client
        .post(format!(
            "{}/v1/statements?wait=cosigned",
            log_common::base(log)
        ))
        .json(&log_common::submission(&key, &env))
        .send()
        .await
        .expect("submit");
    assert!(resp.status().is_success(), "status {}", resp.status());
    let v: SubmitResponse = resp.json().await.expect("submit response JSON");
    assert_eq!(v.status(), SubmitStatus::Sequenced, "{v:?}");
    v
}

fn policy_for(witnesses: &[&TestWitness]) -> WitnessPolicy {
    let mut text = format!("log {}\n", log_common::log_signer().vkey());
    let mut names = Vec::new();
    for (i, w) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{i} {}\n", w.signer.vkey()));
        names.push(format!("w{i}"));
    }
    text.push_str(&format!(
        "group everyone all {}\nquorum everyone\n",
        names.join(" ")
    ));
    WitnessPolicy::parse(text.as_bytes()).expect("policy")
}

/// The first evidence page about the test package (all four entries fit in one page).
async fn evidence(client: &reqwest::Client, log: &RunningServer) -> EvidencePage {
    client
        .get(format!(
            "{}/v1/evidence?purl=pkg:cargo/witnessed",
            log_common::base(log)
        ))
        .send()
        .await
        .expect("evidence")
        .json()
        .await
        .expect("bundle json")
}

/// The checkpoint a witness serves for the log, parsed.
async fn witness_view(w: &TestWitness) -> Checkpoint {
    let origin = log_common::log_signer().name().to_string();
    let (status, body) = w
        .get(&format!("/{}/checkpoint", origin_hash(&origin)))
        .await;
    assert_eq!(status, 200, "{body}");
    let note = Note::parse(body.as_bytes()).expect("note");
    Checkpoint::parse(&note.text).expect("checkpoint")
}

async fn log_and_witnesses_together(log_backend: LogBackend, witness_backend: WitnessBackend) {
    let w1 = TestWitness::start_named("witness-one.test/w", witness_backend).await;
    let w2 = TestWitness::start_named("witness-two.test/w", witness_backend).await;
    let signer = log_common::log_signer();
    for w in [&w1, &w2] {
        w.witness
            .add_log(signer.name(), &signer.vkey(), None)
            .await
            .expect("witness knows the log");
    }
    let policy = policy_for(&[&w1, &w2]);
    let client = reqwest::Client::new();

    let db = log_common::fresh_db(log_backend).await;
    let log = start_log(&db, &[&w1, &w2]).await;
    let mut receipts = Vec::new();
    for seed in 1..=4u8 {
        receipts.push(submit_cosigned(&client, &log, seed).await);
    }

    // Every receipt verifies offline against a policy that needs both witnesses.
    let bundle = evidence(&client, &log).await;
    assert_eq!(bundle.entries.len(), 4);
    for r in &receipts {
        let index = r.index;
        let entry = bundle
            .entries
            .iter()
            .find(|e| e.index == index)
            .expect("entry in bundle");
        let proof = TlogProof::parse(r.tlog_proof.as_bytes()).expect("tlog-proof parses");
        let ok = proof
            .verify_with_policy(&merkle::leaf_hash(&entry.log_entry), &policy)
            .expect("receipt verifies with both cosignatures");
        assert_eq!(ok.cosignatures.len(), 2);
        assert!(ok.checkpoint.size > index);
    }
    // The published checkpoint carries both cosignatures and both witnesses hold it.
    let published = client
        .get(format!("{}/checkpoint", log_common::base(&log)))
        .send()
        .await
        .expect("checkpoint")
        .bytes()
        .await
        .expect("body");
    let verified = policy
        .verify_checkpoint(&published)
        .expect("published checkpoint meets the witness quorum");
    assert_eq!(verified.checkpoint.size, 4);
    for w in [&w1, &w2] {
        assert_eq!(witness_view(w).await, verified.checkpoint);
    }

    // A restarted log carries on with the same witnesses (their sizes are in its database).
    log.shutdown().await.expect("graceful shutdown");
    let log = start_log(&db, &[&w1, &w2]).await;
    submit_cosigned(&client, &log, 5).await;
    for w in [&w1, &w2] {
        assert_eq!(witness_view(w).await.size, 5);
    }
    log.shutdown().await.expect("graceful shutdown");

    // A fork: the same key and origin over a different history (a fresh database). It
    // believes its witnesses are at 0, so its first push gets 409 with their real size; its
    // retry from that size carries a proof that cannot hold. The witnesses must refuse it
    // and keep it as evidence; it is never published cosigned.
    let fork_db = log_common::fresh_db(log_backend).await;
    let fork = start_log(&fork_db, &[&w1, &w2]).await;
    // One batch, so the fork's first checkpoint is already beyond the witnesses' size and
    // is pushed with a consistency proof that cannot hold.
    let batch: Vec<Value> = (100..107u8)
        .map(|seed| {
            let key = log_common::user_key(seed);
            let env = log_common::envelope(&key, "pkg:cargo/forked", "6.6.6");
            log_common::submission(&key, &env)
        })
        .collect();
    let resp = client
        .post(format!(
            "{}/v1/statements?wait=integrated",
            log_common::base(&fork)
        ))
        .json(&serde_json::json!({ "envelopes": batch }))
        .send()
        .await
        .expect("submit to fork");
    assert!(resp.status().is_success(), "status {}", resp.status());
    let origin = signer.name().to_string();
    let honest = witness_view(&w1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for w in [&w1, &w2] {
        let evidence = loop {
            let (status, body) = w.get(&format!("/evidence/{}", origin_hash(&origin))).await;
            assert_eq!(status, 200, "{body}");
            let list: Vec<Value> = serde_json::from_str(&body).expect("evidence JSON");
            if !list.is_empty() {
                break list;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "witness kept no evidence of the fork"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        for ev in &evidence {
            let conflicting = ev["conflicting_note"].as_str().expect("conflicting note");
            let conflicting =
                Checkpoint::parse(&Note::parse(conflicting.as_bytes()).expect("note").text)
                    .expect("checkpoint");
            assert_eq!(conflicting.origin, origin);
            assert_ne!(conflicting.root_hash, honest.root_hash);
            assert!(conflicting.size >= honest.size, "{conflicting:?}");
        }
        // It still holds the honest log's checkpoint.
        assert_eq!(witness_view(w).await, honest);
    }
    let fork_checkpoint = client
        .get(format!("{}/checkpoint", log_common::base(&fork)))
        .send()
        .await
        .expect("fork checkpoint")
        .bytes()
        .await
        .expect("body");
    assert!(
        policy.verify_checkpoint(&fork_checkpoint).is_err(),
        "a fork must never carry the witness quorum"
    );
    fork.shutdown().await.expect("graceful shutdown");
    w1.stop().await;
    w2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_log_and_witnesses_on_sqlite() {
    log_and_witnesses_together(LogBackend::Sqlite, WitnessBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_log_and_witnesses_on_postgres() {
    log_and_witnesses_together(LogBackend::Postgres, WitnessBackend::Postgres).await;
}
