//! End-to-end tests of the log server over real HTTP on loopback, against real SQLite and
//! a real PostgreSQL server.

mod common;

use common::*;
use quorum_c2sp::checkpoint::open_checkpoint;
use quorum_c2sp::merkle::{self, MemoryTree, verify_inclusion};
use quorum_c2sp::tiles::{TileHashReader, decode_entry_bundle};
use quorum_verifier::model::log_entry::verify_log_entry;
use serde_json::{Value, json};

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let r = client.post(url).json(body).send().await.expect("request");
    let status = r.status().as_u16();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

async fn end_to_end(backend: Backend) {
    let db = fresh_db(backend).await;
    let srv = start(&db).await;
    let url = base(&srv);
    let client = reqwest::Client::new();
    let alice = user_key(1);

    // One statement, waiting for a checkpoint.
    let env = envelope(&alice, "pkg:cargo/serde", "1.0.0");
    let (st, v) = post(
        &client,
        &format!("{url}/v1/statements?wait=integrated"),
        &submission(&alice, &env),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "SUBMIT_STATUS_SEQUENCED", "{v}");
    let proof = v["tlogProof"].as_str().unwrap_or_default();
    assert!(
        proof.starts_with("c2sp.org/tlog-proof@v1\nindex 0\n"),
        "{proof}"
    );

    // The same envelope again: the existing index.
    let (st, v) = post(
        &client,
        &format!("{url}/v1/statements"),
        &submission(&alice, &env),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "SUBMIT_STATUS_DUPLICATE", "{v}");
    // proto3 JSON omits default values: index 0 is absent.
    assert!(v.get("index").is_none(), "{v}");
    // A checkpoint already covers it, so even without `wait` the answer carries a
    // tlog-proof (spec/log-server.md), and the proof verifies.
    let proof = quorum_c2sp::tlog_proof::TlogProof::parse(
        v["tlogProof"].as_str().unwrap_or_default().as_bytes(),
    )
    .unwrap_or_else(|e| panic!("a covered duplicate has no tlog-proof ({e}): {v}"));
    assert_eq!(proof.index, 0);
    let signed =
        open_checkpoint(&proof.checkpoint, &log_signer().verifier()).expect("log signature");
    let first = srv.log.storage.entries_range(0, 1).await.expect("entry 0");
    verify_inclusion(
        &merkle::leaf_hash(&first[0]),
        0,
        signed.checkpoint.size,
        &proof.hashes,
        &signed.checkpoint.root_hash,
    )
    .expect("the duplicate's proof verifies");

    // A batch of 300 (crosses a full tile), one of them a duplicate, one invalid.
    let mut items = Vec::new();
    for i in 0..300 {
        let k = user_key((i % 5 + 2) as u8);
        items.push(submission(
            &k,
            &envelope(&k, "pkg:cargo/tokio", &format!("1.{i}.0")),
        ));
    }
    items.push(submission(&alice, &env));
    items.push(json!({"envelope": serde_json::from_str::<Value>(&env.to_json()).unwrap_or_default(), "publicKey": key_text(&user_key(9))}));
    let (st, v) = post(
        &client,
        &format!("{url}/v1/statements?wait=integrated"),
        &json!({"envelopes": items}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let results = v["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 302);
    assert_eq!(results[300]["status"], "SUBMIT_STATUS_DUPLICATE");
    assert_eq!(results[301]["status"], 422, "{}", results[301]);
    assert_eq!(results[301]["error"]["code"], "ERROR_CODE_BAD_SIGNATURE");

    // Errors.
    let r = client
        .post(format!("{url}/v1/statements"))
        .body("{not json")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status().as_u16(), 400);
    let e: Value = r.json().await.unwrap_or_default();
    assert_eq!(e["code"], "ERROR_CODE_MALFORMED");
    let wrong_key = json!({"envelope": serde_json::from_str::<Value>(&env.to_json()).unwrap_or_default(), "publicKey": key_text(&user_key(9))});
    let (st, _) = post(&client, &format!("{url}/v1/statements"), &wrong_key).await;
    assert_eq!(st, 422);
    let bad_statement = quorum_verifier::model::dsse::Envelope::sign(
        quorum_verifier::model::dsse::IN_TOTO_PAYLOAD_TYPE,
        b"{\"_type\":\"nope\"}".to_vec(),
        &alice,
    );
    let (st, v) = post(
        &client,
        &format!("{url}/v1/statements"),
        &submission(&alice, &bad_statement),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["code"], "ERROR_CODE_INVALID_STATEMENT");
    // Just over the limit (512 KiB in tests), small enough that the server's early 413
    // cannot race the upload.
    let huge = vec![b'a'; 600 << 10];
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/statements"))
        .body(huge)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status().as_u16(), 413);
    let (st, _) = post(
        &reqwest::Client::new(),
        &format!("{url}/v1/statements?wait=forever"),
        &submission(&alice, &env),
    )
    .await;
    assert_eq!(st, 400);

    // An independent tlog-tiles client: checkpoint, tiles, entry bundles.
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("cp")
        .text()
        .await
        .expect("text");
    let verifier = log_signer().verifier();
    let cp = open_checkpoint(note.as_bytes(), &verifier)
        .expect("checkpoint verifies")
        .checkpoint;
    assert_eq!(cp.size, 301);
    assert_eq!(cp.origin, "quorum.test/log");
    let rt = tokio::runtime::Handle::current();
    let fetch = |path: String| {
        let client = client.clone();
        let url = url.clone();
        tokio::task::block_in_place(|| {
            rt.block_on(async move {
                let r = client
                    .get(format!("{url}/{path}"))
                    .send()
                    .await
                    .map_err(|e| merkle::HashReadError::Corrupt {
                        reason: e.to_string(),
                    })?;
                if !r.status().is_success() {
                    return Err(merkle::HashReadError::Corrupt {
                        reason: format!("{path}: {}", r.status()),
                    });
                }
                Ok(r.bytes()
                    .await
                    .map_err(|e| merkle::HashReadError::Corrupt {
                        reason: e.to_string(),
                    })?
                    .to_vec())
            })
        })
    };
    let reader = TileHashReader::new(cp.size, |t: &quorum_c2sp::tiles::Tile| fetch(t.path()));
    assert_eq!(
        merkle::tree_hash(cp.size, &reader).expect("root from tiles"),
        cp.root_hash
    );
    let mut tree = MemoryTree::new();
    for (n, w) in [(0u64, None), (1, Some(45u16))] {
        let path = match w {
            None => format!("tile/entries/{n:03}"),
            Some(w) => format!("tile/entries/{n:03}.p/{w}"),
        };
        let data = fetch(path).expect("bundle");
        for e in decode_entry_bundle(&data).expect("bundle decodes") {
            verify_log_entry(e).expect("entry verifies from log data alone");
            tree.append(e);
        }
    }
    assert_eq!(tree.root(), cp.root_hash);
    // Cache headers and 404 beyond the tree.
    let r = client
        .get(format!("{url}/tile/0/000"))
        .send()
        .await
        .expect("tile");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let r = client
        .get(format!("{url}/tile/0/001.p/45"))
        .send()
        .await
        .expect("tile");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=1");
    for p in [
        "tile/0/002",
        "tile/0/001",
        "tile/0/001.p/46",
        "tile/entries/001",
        "tile/1/000",
        "tile/0/x000/001",
    ] {
        let r = client.get(format!("{url}/{p}")).send().await.expect("tile");
        assert_eq!(r.status().as_u16(), 404, "{p}");
    }

    // Lookups and evidence.
    let v: Value = client
        .get(format!("{url}/v1/statements?purl=pkg:cargo/tokio"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(300));
    let v: Value = client
        .get(format!("{url}/v1/statements?purl=pkg:cargo/tokio@1.7.0"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(1));
    let v: Value = client
        .get(format!("{url}/v1/statements?signer={}", key_text(&alice)))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(1));
    let page: quorum_proto::v1::EvidencePage = client
        .get(format!("{url}/v1/evidence?purl=pkg:cargo/serde"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("page json");
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.ranges.len(), 1);
    assert_eq!(
        (page.ranges[0].start, page.ranges[0].end),
        (0, page.tree_size)
    );
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("cp")
        .text()
        .await
        .expect("text");
    let pcp = open_checkpoint(note.as_bytes(), &verifier)
        .expect("page checkpoint")
        .checkpoint;
    assert_eq!(pcp.size, page.tree_size);
    let leaves: Vec<(u64, [u8; 32])> = page
        .entries
        .iter()
        .map(|e| (e.index, merkle::leaf_hash(&e.log_entry)))
        .collect();
    let proof: Vec<[u8; 32]> = page
        .inclusion_proof
        .iter()
        .map(|h| h.as_slice().try_into().expect("32"))
        .collect();
    merkle::verify_batch_inclusion(pcp.size, &leaves, &proof, &pcp.root_hash).expect("inclusion");

    // Ops endpoints.
    let m = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("m")
        .text()
        .await
        .expect("t");
    assert!(m.contains("quorum_tree_size 301"), "{m}");
    assert_eq!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .expect("h")
            .status()
            .as_u16(),
        200
    );

    // Restart: state survives and new checkpoints stay consistent.
    srv.shutdown().await.expect("clean shutdown");
    let srv = start(&db).await;
    let url = base(&srv);
    let k = user_key(30);
    let (st, v) = post(
        &client,
        &format!("{url}/v1/statements?wait=integrated"),
        &submission(&k, &envelope(&k, "pkg:cargo/rand", "0.9.0")),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["index"], "301");
    let note2 = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("cp")
        .text()
        .await
        .expect("text");
    let cp2 = open_checkpoint(note2.as_bytes(), &verifier)
        .expect("cp2")
        .checkpoint;
    assert_eq!(cp2.size, 302);
    let proof = srv
        .log
        .tree
        .prove_consistency(cp.size, cp2.size)
        .expect("consistency");
    merkle::verify_consistency(cp.size, cp2.size, &cp.root_hash, &cp2.root_hash, &proof)
        .expect("consistent");
    srv.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_sqlite() {
    end_to_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_postgres() {
    end_to_end(Backend::Postgres).await;
}

async fn rate_limited(backend: Backend) {
    let db = fresh_db(backend).await;
    let mut cfg = test_config(&db);
    cfg.rate_limit.per_key_per_sec = 0.001;
    cfg.rate_limit.per_key_burst = 2.0;
    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let client = reqwest::Client::new();
    let k = user_key(4);
    let mut statuses = Vec::new();
    for i in 0..4 {
        let (st, _) = post(
            &client,
            &format!("{url}/v1/statements"),
            &submission(&k, &envelope(&k, "pkg:cargo/a", &format!("{i}.0.0"))),
        )
        .await;
        statuses.push(st);
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    let k2 = user_key(5);
    let (st, _) = post(
        &client,
        &format!("{url}/v1/statements"),
        &submission(&k2, &envelope(&k2, "pkg:cargo/a", "1.0.0")),
    )
    .await;
    assert_eq!(st, 200);
    srv.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_sqlite() {
    rate_limited(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_postgres() {
    rate_limited(Backend::Postgres).await;
}
