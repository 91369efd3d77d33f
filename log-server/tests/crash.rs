//! Crash test: the real binary under load is SIGKILLed and restarted; every acknowledged
//! entry must be present and every new checkpoint consistent with all earlier ones.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use quorum_c2sp::checkpoint::{Checkpoint, open_checkpoint};
use quorum_c2sp::merkle::{self, HashReadError};
use quorum_c2sp::note::Ed25519Signer;
use quorum_c2sp::tiles::{Tile, TileHashReader, decode_entry_bundle};
use quorum_verifier::model::log_entry::LogEntry;
use serde_json::{Value, json};

async fn get_checkpoint(
    client: &reqwest::Client,
    url: &str,
    signer: &Ed25519Signer,
) -> Option<Checkpoint> {
    let r = client.get(format!("{url}/checkpoint")).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let text = r.text().await.ok()?;
    Some(
        open_checkpoint(text.as_bytes(), &signer.verifier())
            .expect("checkpoint verifies")
            .checkpoint,
    )
}

async fn crash(backend: Backend) {
    let db = fresh_db(backend).await;
    let key = db.dir.path().join("log.key");
    let out = Command::new(env!("CARGO_BIN_EXE_quorum-log"))
        .args(["keygen", "--origin", "quorum.test/crash", "--out"])
        .arg(&key)
        .output()
        .expect("keygen");
    assert!(out.status.success());
    let vkey = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(vkey.starts_with("quorum.test/crash+"), "{vkey}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let signer = quorum_log::server::load_key(&key).expect("key loads");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = spawn_log_process(&db, &key, port);
    wait_healthy(&client, &url).await;

    // Load: 4 writers submitting batches until the kill.
    type Acked = Arc<Mutex<Vec<(u64, [u8; 32])>>>;
    let acked: Acked = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4u8 {
        let (client, url, acked, stop) = (client.clone(), url.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let k = user_key(10 + w);
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let envs: Vec<_> = (0..20).map(|i| envelope(&k, "pkg:cargo/crash", &format!("{w}.{n}.{i}"))).collect();
                n += 1;
                let body = json!({"envelopes": envs.iter().map(|e| submission(&k, e)).collect::<Vec<_>>()});
                let Ok(r) = client.post(format!("{url}/v1/statements")).json(&body).send().await else { break };
                let Ok(v) = r.json::<Value>().await else { break };
                let results = v["results"].as_array().cloned().unwrap_or_default();
                let mut a = acked.lock().unwrap_or_else(|e| e.into_inner());
                for (e, r) in envs.iter().zip(results) {
                    if r.get("error").is_none() {
                        let idx = r.get("index").and_then(Value::as_str).unwrap_or("0").parse::<u64>().expect("index");
                        a.push((idx, e.digest()));
                    }
                }
            }
        }));
    }
    let mut checkpoints = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(1500) {
        if let Some(cp) = get_checkpoint(&client, &url, &signer).await {
            checkpoints.push(cp);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(acked.len() > 100, "too little load: {}", acked.len());
    assert!(!checkpoints.is_empty());
    let max_acked = acked.iter().map(|(i, _)| *i).max().unwrap_or(0);

    // Restart and wait for a checkpoint covering every acknowledged entry.
    let mut child = spawn_log_process(&db, &key, port);
    wait_healthy(&client, &url).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let cp = loop {
        if let Some(cp) = get_checkpoint(&client, &url, &signer).await
            && cp.size > max_acked
        {
            break cp;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint covers index {max_acked}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Every acknowledged entry is there, with its envelope.
    let rt = tokio::runtime::Handle::current();
    let fetch = |path: String| -> Result<Vec<u8>, HashReadError> {
        tokio::task::block_in_place(|| {
            rt.block_on(async {
                let r = client
                    .get(format!("{url}/{path}"))
                    .send()
                    .await
                    .map_err(|e| HashReadError::Corrupt {
                        reason: e.to_string(),
                    })?;
                if !r.status().is_success() {
                    return Err(HashReadError::Corrupt {
                        reason: format!("{path}: {}", r.status()),
                    });
                }
                Ok(r.bytes()
                    .await
                    .map_err(|e| HashReadError::Corrupt {
                        reason: e.to_string(),
                    })?
                    .to_vec())
            })
        })
    };
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut n = 0u64;
    while (entries.len() as u64) < cp.size {
        let left = cp.size - entries.len() as u64;
        let path = if left >= 256 {
            format!("tile/entries/{}", quorum_c2sp::tiles::encode_tile_index(n))
        } else {
            format!(
                "tile/entries/{}.p/{left}",
                quorum_c2sp::tiles::encode_tile_index(n)
            )
        };
        let data = fetch(path).expect("bundle");
        entries.extend(
            decode_entry_bundle(&data)
                .expect("decodes")
                .into_iter()
                .map(<[u8]>::to_vec),
        );
        n += 1;
    }
    for (idx, digest) in &acked {
        let e = entries
            .get(*idx as usize)
            .unwrap_or_else(|| panic!("acknowledged entry {idx} lost"));
        let e = LogEntry::decode(e).expect("entry decodes");
        assert_eq!(
            &e.envelope_digest(),
            digest,
            "entry {idx} holds another envelope"
        );
    }
    // The tiles give the checkpoint's root, and the new checkpoint is consistent with
    // every checkpoint seen before the crash.
    let reader = TileHashReader::new(cp.size, |t: &Tile| fetch(t.path()));
    assert_eq!(
        merkle::tree_hash(cp.size, &reader).expect("root"),
        cp.root_hash
    );
    for old in &checkpoints {
        let proof = merkle::prove_consistency(old.size, cp.size, &reader).expect("proof");
        merkle::verify_consistency(old.size, cp.size, &old.root_hash, &cp.root_hash, &proof)
            .unwrap_or_else(|e| panic!("checkpoint {} inconsistent: {e}", old.size));
    }
    child.kill().expect("kill");
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sqlite() {
    crash(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_postgres() {
    crash(Backend::Postgres).await;
}
