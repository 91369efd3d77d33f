//! A bounded load test (issue #8) against the real `quorum-log` binary on loopback: for
//! about 10 s, 16 clients submit valid statements from 128 keys, two clients hammer one key
//! with batches, two send oversized bodies, and one reads checkpoints and tiles. Only the
//! intended answers may occur (200, 413, 429; 200/404 for reads), the per-key and global
//! token buckets must hold (accepted ≤ burst + rate × elapsed, for the whole run and for
//! every one-second window), and the server's resident memory must stay under a bound.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const GLOBAL_PER_SEC: f64 = 300.0;
const GLOBAL_BURST: f64 = 150.0;
const PER_KEY_PER_SEC: f64 = 10.0;
const PER_KEY_BURST: f64 = 5.0;
const MAX_BODY: usize = 256 << 10;
const RUN: Duration = Duration::from_secs(10);
/// The server's resident set must stay below this (it holds 64 bytes of stored hashes per
/// entry in memory; a few thousand entries here).
const RSS_BOUND_KB: u64 = 128 * 1024;

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    /// HTTP status → count, per kind of client.
    statuses: BTreeMap<(&'static str, u16), u64>,
    /// Batch items refused inside a 200, by item status.
    item_statuses: BTreeMap<u16, u64>,
    /// Accepted envelopes: (key seed, seconds since start when the answer arrived).
    accepted: Vec<(u16, f64)>,
    /// Anything that is not an intended answer.
    unexpected: Vec<String>,
    latencies_ms: Vec<f64>,
}

impl Tally {
    fn status(&mut self, kind: &'static str, s: u16) {
        *self.statuses.entry((kind, s)).or_default() += 1;
    }
}

fn seeded_key(seed: u16) -> quorum_verifier::model::dsse::SigningKey {
    let mut bytes = [0u8; 32];
    bytes[..2].copy_from_slice(&seed.to_be_bytes());
    bytes[2] = 0x10;
    quorum_verifier::model::dsse::SigningKey::from_bytes(&bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_load_holds_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("log.key");
    let out = Command::new(env!("CARGO_BIN_EXE_quorum-log"))
        .args(["keygen", "--origin", "quorum.test/load", "--out"])
        .arg(&key)
        .output()
        .expect("keygen");
    assert!(out.status.success());
    let port = free_port();
    let config = dir.path().join("log.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = {:?}\nkey_file = {key:?}\n\
             checkpoint_interval_ms = 200\nmax_body_bytes = {MAX_BODY}\n\n[rate_limit]\n\
             global_per_sec = {GLOBAL_PER_SEC:.1}\nglobal_burst = {GLOBAL_BURST:.1}\n\
             per_key_per_sec = {PER_KEY_PER_SEC:.1}\nper_key_burst = {PER_KEY_BURST:.1}\n",
            dir.path().join("data")
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum-log"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn quorum-log");
    let pid = child.id();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_start = rss_kb(pid).unwrap_or(0);

    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut tasks = Vec::new();

    // 16 clients, 8 keys each, one statement per request.
    for c in 0..16u16 {
        let (client, url, tally, stop) = (client.clone(), url.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let keys: Vec<_> = (0..8).map(|i| (c * 8 + i, seeded_key(c * 8 + i))).collect();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let (seed, k) = &keys[n as usize % keys.len()];
                let env = envelope(k, "pkg:cargo/load", &format!("{c}.{n}.0"));
                n += 1;
                let sent = Instant::now();
                let r = client
                    .post(format!("{url}/v1/statements"))
                    .json(&submission(k, &env))
                    .send()
                    .await;
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        t.status("single", s);
                        t.latencies_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                        match s {
                            200 => t.accepted.push((*seed, t0.elapsed().as_secs_f64())),
                            429 => {}
                            other => t.unexpected.push(format!("single: {other}")),
                        }
                    }
                    Err(e) => t.unexpected.push(format!("single: {e}")),
                }
            }
        }));
    }
    // Two clients bursting one key with batches of 5.
    for c in 0..2u16 {
        let (client, url, tally, stop) = (client.clone(), url.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let seed = 4000u16;
            let k = seeded_key(seed);
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let envs: Vec<_> = (0..5)
                    .map(|i| envelope(&k, "pkg:cargo/burst", &format!("{c}.{n}.{i}")))
                    .collect();
                n += 1;
                let body = json!({"envelopes": envs.iter().map(|e| submission(&k, e)).collect::<Vec<_>>()});
                let r = client
                    .post(format!("{url}/v1/statements"))
                    .json(&body)
                    .send()
                    .await;
                let v = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        tally
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .status("burst", s);
                        if s != 200 {
                            if s != 429 {
                                tally
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .unexpected
                                    .push(format!("burst: {s} {v}"));
                            }
                            continue;
                        }
                        v
                    }
                    Err(e) => {
                        tally
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .unexpected
                            .push(format!("burst: {e}"));
                        continue;
                    }
                };
                let now = t0.elapsed().as_secs_f64();
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                for item in v["results"].as_array().cloned().unwrap_or_default() {
                    match item["status"].as_u64() {
                        Some(429) => *t.item_statuses.entry(429).or_default() += 1,
                        Some(other) => t.unexpected.push(format!("burst item: {other} {item}")),
                        None if item.get("error").is_none() => t.accepted.push((seed, now)),
                        None => t.unexpected.push(format!("burst item: {item}")),
                    }
                }
            }
        }));
    }
    // Two clients sending bodies over the limit (just over it, so the server's early 413
    // cannot race the upload).
    for _ in 0..2 {
        let (client, url, tally, stop) = (client.clone(), url.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let big = vec![b' '; MAX_BODY + 4096];
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(format!("{url}/v1/statements"))
                    .header("content-type", "application/json")
                    .body(big.clone())
                    .send()
                    .await;
                {
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match r {
                        Ok(r) if r.status() == 413 => t.status("oversized", 413),
                        Ok(r) => t.unexpected.push(format!("oversized: {}", r.status())),
                        Err(e) => t.unexpected.push(format!("oversized: {e}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    // One reader: the checkpoint and the first tiles.
    {
        let (client, url, tally, stop) = (client.clone(), url.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for path in ["checkpoint", "tile/0/000.p/1", "tile/entries/000.p/1"] {
                    let r = client.get(format!("{url}/{path}")).send().await;
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match r {
                        Ok(r) if r.status() == 200 || r.status() == 404 => {
                            t.status("read", r.status().as_u16())
                        }
                        Ok(r) => t.unexpected.push(format!("read {path}: {}", r.status())),
                        Err(e) => t.unexpected.push(format!("read {path}: {e}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    // Sample the server's memory while the load runs.
    let mut rss_max = rss_start;
    while t0.elapsed() < RUN {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(kb) = rss_kb(pid) {
            rss_max = rss_max.max(kb);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("client task");
    }
    let elapsed = t0.elapsed().as_secs_f64();
    if let Some(kb) = rss_kb(pid) {
        rss_max = rss_max.max(kb);
    }
    let still_alive = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_alive, "the server died under load");

    let mut t = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    assert!(
        t.unexpected.is_empty(),
        "{} unintended answers, e.g. {:?}",
        t.unexpected.len(),
        &t.unexpected[..t.unexpected.len().min(10)]
    );
    // Global bucket: never more than burst + rate × elapsed, and it binds.
    let accepted = t.accepted.len() as f64;
    assert!(
        accepted <= GLOBAL_BURST + GLOBAL_PER_SEC * elapsed,
        "global limit broken: {accepted} accepted in {elapsed:.1} s"
    );
    // Per key, over the run and in every one-second window (with half a second of slack
    // for the time between the server's decision and the client seeing the answer).
    let mut per_key: HashMap<u16, Vec<f64>> = HashMap::new();
    for (k, at) in &t.accepted {
        per_key.entry(*k).or_default().push(*at);
    }
    let mut busiest_window = 0usize;
    for (k, times) in &mut per_key {
        times.sort_by(f64::total_cmp);
        assert!(
            times.len() as f64 <= PER_KEY_BURST + PER_KEY_PER_SEC * elapsed,
            "key {k}: {} accepted in {elapsed:.1} s",
            times.len()
        );
        for (i, start) in times.iter().enumerate() {
            let in_window = times[i..].iter().take_while(|t| **t < start + 1.0).count();
            busiest_window = busiest_window.max(in_window);
            assert!(
                in_window as f64 <= PER_KEY_BURST + PER_KEY_PER_SEC * 1.5,
                "key {k}: {in_window} accepted within one second"
            );
        }
    }
    let burst_accepted = per_key.get(&4000).map(Vec::len).unwrap_or(0);
    let rate_limited_requests: u64 = t
        .statuses
        .iter()
        .filter(|((_, s), _)| *s == 429)
        .map(|(_, n)| *n)
        .sum::<u64>()
        + t.item_statuses.get(&429).copied().unwrap_or(0);
    assert!(rate_limited_requests > 0, "the limits never bound");
    assert!(
        t.item_statuses.get(&429).copied().unwrap_or(0) > 0,
        "the bursting key was never limited"
    );
    assert!(
        t.statuses.get(&("oversized", 413)).copied().unwrap_or(0) > 0,
        "no 413"
    );
    assert!(
        accepted >= GLOBAL_PER_SEC * elapsed * 0.25,
        "the server accepted only {accepted} in {elapsed:.1} s (limit {GLOBAL_PER_SEC}/s)"
    );
    assert!(
        rss_max < RSS_BOUND_KB,
        "server RSS {rss_max} kB over the bound {RSS_BOUND_KB} kB"
    );
    t.latencies_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        t.latencies_ms
            .get(
                ((t.latencies_ms.len() as f64 * p) as usize)
                    .min(t.latencies_ms.len().saturating_sub(1)),
            )
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "load ({elapsed:.1} s, debug build, loaded 2-core machine): answers {:?}, batch items \
         refused {:?}; {accepted} envelopes accepted ({:.0}/s, global limit {GLOBAL_PER_SEC}/s + \
         {GLOBAL_BURST} burst) from {} keys; bursting key accepted {burst_accepted} (limit \
         {PER_KEY_PER_SEC}/s + {PER_KEY_BURST}); busiest one-second window for any key \
         {busiest_window}; single-submission latency p50 {:.1} ms p99 {:.1} ms; server RSS \
         {rss_start} kB at start, max {rss_max} kB (bound {RSS_BOUND_KB} kB); no unintended \
         answer",
        t.statuses,
        t.item_statuses,
        accepted / elapsed,
        per_key.len(),
        pct(0.5),
        pct(0.99),
    );
}
