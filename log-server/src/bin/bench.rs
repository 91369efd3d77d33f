//! `quorum-log-bench`: sustained-ingest and read benchmark of the log server over loopback
//! HTTP with real SQLite (or `--database-url`). Every statement is fully verified and
//! durably committed before it is acknowledged.
//!
//! Usage: `cargo run --release -p quorum-log --bin quorum-log-bench -- [--statements N]
//! [--batch B] [--clients C] [--tile-gets N] [--database-url URL]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quorum_log::config::Config;
use quorum_verifier::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::note::Ed25519Signer;
use quorum_verifier::predicates::ADOPTION_V1;
use quorum_verifier::statement::{Statement, Subject};
use serde_json::{Value, json};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let total = arg(&args, "--statements", 100_000) as usize;
    let batch = arg(&args, "--batch", 500) as usize;
    let clients = arg(&args, "--clients", 4) as usize;
    let tile_gets = arg(&args, "--tile-gets", 200_000) as usize;
    let db_url = args
        .iter()
        .position(|a| a == "--database-url")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(total, batch, clients, tile_gets, db_url))
}

async fn run(
    total: usize,
    batch: usize,
    clients: usize,
    tile_gets: usize,
    db_url: Option<String>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cfg = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_owned(),
        database_url: db_url,
        checkpoint_interval_ms: 1000,
        max_batch_envelopes: batch.max(1),
        ..Config::default()
    };
    let signer = Ed25519Signer::generate("bench.quorum/log").context("key")?;
    let srv = quorum_log::server::start(cfg, signer).await?;
    let url = format!("http://{}", srv.addr);

    // Pre-sign every statement (client-side work is not measured).
    eprintln!("signing {total} statements...");
    let keys: Vec<SigningKey> = (0..64u8)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    let bodies: Vec<String> = (0..total.div_ceil(batch))
        .map(|b| {
            let items: Vec<Value> = (b * batch..((b + 1) * batch).min(total))
                .map(|i| {
                    let k = &keys[i % keys.len()];
                    let st = Statement::new(
                        vec![Subject::package_version(
                            &format!("pkg:cargo/bench{}@1.0.{}", i % 1000, i),
                            [7; 32],
                        )],
                        ADOPTION_V1,
                        json!({"status": "adopted"}),
                    );
                    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_json(), k);
                    json!({
                        "envelope": serde_json::from_str::<Value>(&env.to_json()).unwrap_or_default(),
                        "publicKey": format!("ed25519:{}", hex::encode(k.verifying_key().to_bytes())),
                    })
                })
                .collect();
            json!({ "envelopes": items }).to_string()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::new();

    // Ingest.
    eprintln!("ingesting with {clients} clients, batches of {batch}...");
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (bodies, next, client, url) =
            (bodies.clone(), next.clone(), client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let r = client
                    .post(format!("{url}/v1/statements"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                let v: Value = r.json().await?;
                acked += v["results"]
                    .as_array()
                    .map(|a| a.iter().filter(|r| r.get("error").is_none()).count())
                    .unwrap_or(0);
            }
            Ok::<usize, anyhow::Error>(acked)
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await??;
    }
    let ingest = t0.elapsed();
    let rate = acked as f64 / ingest.as_secs_f64();

    // Submit-to-checkpoint latency: single submissions at a steady rate with
    // ?wait=integrated, while a background load keeps the sequencer busy.
    eprintln!("measuring submit-to-checkpoint latency...");
    let mut lat = Vec::new();
    let mut waits = Vec::new();
    let k = &keys[0];
    for i in 0..200 {
        let st = Statement::new(
            vec![Subject::package_version(
                &format!("pkg:cargo/lat@0.0.{i}"),
                [9; 32],
            )],
            ADOPTION_V1,
            json!({"status": "adopted"}),
        );
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_json(), k);
        let body = json!({
            "envelope": serde_json::from_str::<Value>(&env.to_json()).unwrap_or_default(),
            "publicKey": format!("ed25519:{}", hex::encode(k.verifying_key().to_bytes())),
        })
        .to_string();
        let (client, url) = (client.clone(), url.clone());
        waits.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client
                .post(format!("{url}/v1/statements?wait=integrated"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let v: Value = r.json().await?;
            anyhow::ensure!(v["status"] == "SUBMIT_STATUS_SEQUENCED", "{v}");
            Ok(t.elapsed())
        }));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    for w in waits {
        lat.push(w.await??);
    }
    lat.sort();

    // Tile reads.
    eprintln!("tile GETs...");
    let size = srv.log.tree.size();
    let full_tiles = (size / 256).max(1);
    let t1 = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (next, client, url) = (next.clone(), client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= tile_gets {
                    break;
                }
                let n = (i as u64 * 7919) % full_tiles;
                let path = format!(
                    "{url}/tile/0/{}",
                    quorum_verifier::tiles::encode_tile_index(n)
                );
                let r = client.get(path).send().await?;
                anyhow::ensure!(r.status().is_success());
                let _ = r.bytes().await?;
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let tiles_rate = tile_gets as f64 / t1.elapsed().as_secs_f64();

    srv.shutdown().await?;
    let db_bytes: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "statements acknowledged: {acked} in {:.2} s",
        ingest.as_secs_f64()
    );
    println!("ingest: {rate:.0} statements/s (full verification, durable commit)");
    println!(
        "submit->checkpoint (1 s interval): p50 {:.0} ms, p99 {:.0} ms",
        pct(&lat, 0.5).as_secs_f64() * 1000.0,
        pct(&lat, 0.99).as_secs_f64() * 1000.0
    );
    println!("tile GETs: {tiles_rate:.0}/s (full level-0 tiles, 16 connections)");
    if db_bytes > 0 {
        println!(
            "storage: {db_bytes} bytes, {:.0} bytes/entry (SQLite file + WAL)",
            db_bytes as f64 / size.max(1) as f64
        );
    }
    Ok(())
}
