//! `quorum-log-bench`: sustained-ingest and read benchmark of the log server over loopback
//! HTTP with real SQLite (or `--database-url`). Every statement is fully verified and
//! durably committed before it is acknowledged.
//!
//! Usage: `cargo run --release -p quorum-log --bin quorum-log-bench -- [--statements N]
//! [--batch B] [--clients C] [--tile-gets N] [--database-url URL]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use quorum_c2sp::note::Ed25519Signer;
use quorum_log::config::Config;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::predicates::ADOPTION_V1;
use quorum_verifier::model::statement::{Statement, Subject};
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

/// CPU time (user + system) this process has used, from `/proc/self/stat` (Linux; `None`
/// elsewhere). Clock ticks are 1/100 s on Linux.
fn process_cpu_seconds() -> Option<f64> {
    cpu_seconds("/proc/self/stat")
}

/// CPU time the calling thread has used (see [`process_cpu_seconds`]).
fn thread_cpu_seconds() -> Option<f64> {
    cpu_seconds("/proc/thread-self/stat")
}

fn cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Ed25519 verifications per CPU-second of one core (thread CPU time, so that other load on
/// the machine does not count): strict single verification (what the log runs) and
/// ed25519-dalek batch verification in batches of 500 (which the log cannot use to accept
/// entries: see `quorum_verifier::model::log_entry::verify_envelopes_batch`).
fn ed25519_rates() -> (f64, f64) {
    use ed25519_dalek::Signer as _;
    let n = 4000usize;
    let keys: Vec<SigningKey> = (0..64u8)
        .map(|i| SigningKey::from_bytes(&[i + 100; 32]))
        .collect();
    let messages: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("DSSEv1 28 application/vnd.in-toto+json 400 message {i}").into_bytes())
        .collect();
    let signatures: Vec<ed25519_dalek::Signature> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| keys[i % keys.len()].sign(m))
        .collect();
    let public: Vec<ed25519_dalek::VerifyingKey> = (0..n)
        .map(|i| keys[i % keys.len()].verifying_key())
        .collect();
    // Thread CPU time when available, wall-clock time otherwise.
    let started = Instant::now();
    let clock = || thread_cpu_seconds().unwrap_or_else(|| started.elapsed().as_secs_f64());
    let rounds = 5;
    let t = clock();
    let mut single_ok = 0;
    for _ in 0..rounds {
        single_ok += (0..n)
            .filter(|&i| {
                public[i]
                    .verify_strict(&messages[i], &signatures[i])
                    .is_ok()
            })
            .count();
    }
    let single = single_ok as f64 / (clock() - t).max(0.01);
    let t = clock();
    let mut batch_ok = 0;
    for _ in 0..rounds {
        for first in (0..n).step_by(500) {
            let end = (first + 500).min(n);
            let m: Vec<&[u8]> = messages[first..end].iter().map(Vec::as_slice).collect();
            if ed25519_dalek::verify_batch(&m, &signatures[first..end], &public[first..end]).is_ok()
            {
                batch_ok += end - first;
            }
        }
    }
    let batch = batch_ok as f64 / (clock() - t).max(0.01);
    (single, batch)
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
    let cpu0 = process_cpu_seconds();
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
    let ingest_cpu = process_cpu_seconds()
        .zip(cpu0)
        .map(|(end, start)| end - start);
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
    let tiles_cpu0 = process_cpu_seconds();
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
                let path = format!("{url}/tile/0/{}", quorum_c2sp::tiles::encode_tile_index(n));
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
    let tiles_cpu = process_cpu_seconds()
        .zip(tiles_cpu0)
        .map(|(end, start)| end - start);
    eprintln!("measuring Ed25519 verification...");
    let (ed_single, ed_batch) = ed25519_rates();

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
    if let Some(cpu) = ingest_cpu.filter(|c| *c > 0.0) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "ingest CPU (server and client together): {:.0} µs/statement, {:.0} statements/s per core; {cores} cores busy with nothing else would give ≈ {:.0}/s",
            cpu * 1e6 / acked.max(1) as f64,
            acked as f64 / cpu,
            cores as f64 * acked as f64 / cpu
        );
    }
    println!(
        "Ed25519 per CPU-second of one core: {ed_single:.0} strict verifications (the log's ceiling is this × cores), {ed_batch:.0} with batch verification (not used: it cannot be made to agree with strict verification)"
    );
    println!(
        "submit->checkpoint (1 s interval): p50 {:.0} ms, p99 {:.0} ms",
        pct(&lat, 0.5).as_secs_f64() * 1000.0,
        pct(&lat, 0.99).as_secs_f64() * 1000.0
    );
    println!("tile GETs: {tiles_rate:.0}/s (full level-0 tiles, 16 connections)");
    if let Some(cpu) = tiles_cpu.filter(|c| *c > 0.0) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "tile GET CPU (server and client together): {:.1} µs/GET; {cores} idle cores would give ≈ {:.0}/s",
            cpu * 1e6 / tile_gets.max(1) as f64,
            cores as f64 * tile_gets as f64 / cpu
        );
    }
    if db_bytes > 0 {
        println!(
            "storage: {db_bytes} bytes, {:.0} bytes/entry (SQLite file + WAL)",
            db_bytes as f64 / size.max(1) as f64
        );
    }
    Ok(())
}
