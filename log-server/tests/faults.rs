//! Fault injection (issue #8) against a real log server over loopback HTTP:
//!
//! - a witness that is down (connection refused), slow (beyond the timeout) or lying (a
//!   cosignature by another key, garbage, a cosignature over another checkpoint): the log
//!   keeps accepting and serving, never publishes a checkpoint counting a bad cosignature,
//!   and publishes again once the witness is honest;
//! - the database becoming unavailable and coming back (PostgreSQL: connections refused
//!   and every backend terminated; SQLite: an exclusive transaction held by another
//!   connection): submissions fail with 503, nothing acknowledged is lost, and submissions
//!   succeed again afterwards;
//! - a full disk (the SQLite data directory on a small tmpfs, filled up): 503, nothing
//!   acknowledged lost, recovery when space returns, and a clean restart.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use quorum_c2sp::checkpoint::open_checkpoint;
use quorum_c2sp::cosignature::{CosignatureSigner, CosignatureVerifier};
use quorum_c2sp::note::Note;
use quorum_log::config::{Config, WitnessConfig};
use quorum_log::server::RunningServer;
use quorum_verifier::model::log_entry::LogEntry;
use serde_json::{Value, json};

async fn submit(client: &reqwest::Client, url: &str, key_seed: u8, version: &str) -> (u16, Value) {
    let k = user_key(key_seed);
    let r = client
        .post(format!("{url}/v1/statements"))
        .json(&submission(&k, &envelope(&k, "pkg:cargo/faults", version)))
        .send()
        .await
        .expect("the server answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Every acknowledged (index, envelope digest) must be in storage with that envelope.
async fn assert_acknowledged_present(srv: &RunningServer, acked: &[(u64, [u8; 32])]) {
    let indices: Vec<u64> = acked.iter().map(|(i, _)| *i).collect();
    let stored: HashMap<u64, Vec<u8>> = srv
        .log
        .storage
        .entries_by_index(&indices)
        .await
        .expect("read entries")
        .into_iter()
        .collect();
    for (i, digest) in acked {
        let bytes = stored
            .get(i)
            .unwrap_or_else(|| panic!("acknowledged entry {i} lost"));
        let e = LogEntry::decode(bytes).expect("entry decodes");
        assert_eq!(
            &e.envelope_digest(),
            digest,
            "entry {i} holds another envelope"
        );
    }
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn metrics(client: &reqwest::Client, url: &str) -> String {
    client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

// ---------------------------------------------------------------------------------------
// A witness that is slow, down or lying
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Honest,
    /// Answers honestly, but only after longer than the log's witness timeout.
    Slow,
    /// A cosignature line with the witness's name by another key.
    WrongKey,
    /// 200 with garbage.
    Garbage,
    /// A valid cosignature by the right key, over a checkpoint with another root.
    OtherCheckpoint,
}

#[derive(Clone)]
struct FakeWitness {
    mode: Arc<Mutex<Mode>>,
    honest: Arc<CosignatureSigner>,
    impostor: Arc<CosignatureSigner>,
    requests: Arc<Mutex<HashMap<String, u64>>>,
}

async fn add_checkpoint(
    State((f, alive)): State<(FakeWitness, Arc<AtomicBool>)>,
    body: String,
) -> Response {
    if !alive.load(Ordering::SeqCst) {
        // A connection kept alive across a stop: refuse and close it, so that the next
        // request meets the closed port.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONNECTION, "close")],
            "stopped\n",
        )
            .into_response();
    }
    let mode = *f.mode.lock().unwrap_or_else(|e| e.into_inner());
    *f.requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(format!("{mode:?}"))
        .or_default() += 1;
    // No keep-alive: every request the log makes meets the server of the current mode (a
    // connection kept from an earlier mode would answer for that mode).
    let mut response = answer(&f, mode, &body).await.into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Waits until the log has pushed the checkpoint of at least `size` entries to the witness
/// and failed, as it must while the witness is down, slow or lying; fails the test after
/// 20 s. This, not a fixed sleep, is what makes "nothing was published" mean something:
/// the log has seen the witness's answer for the newest checkpoint.
async fn wait_for_failed_push(srv: &RunningServer, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let g = srv.log.metrics.witness("witness.test/faulty");
        if g.failed_size >= size {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the log never pushed the checkpoint of size {size} and failed: {g:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn answer(f: &FakeWitness, mode: Mode, body: &str) -> (StatusCode, String) {
    let Some((_, note)) = body.split_once("\n\n") else {
        return (StatusCode::BAD_REQUEST, "bad body\n".into());
    };
    let cosign = |signer: &CosignatureSigner, note: &str| {
        signer
            .cosign_note(note.as_bytes(), 1_700_000_000)
            .unwrap_or_default()
    };
    match mode {
        Mode::Honest => (StatusCode::OK, cosign(&f.honest, note)),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            (StatusCode::OK, cosign(&f.honest, note))
        }
        Mode::WrongKey => (StatusCode::OK, cosign(&f.impostor, note)),
        Mode::Garbage => (
            StatusCode::OK,
            "— witness.test/faulty AAAAgarbage!!\n\u{0}\u{1}not a line\n".into(),
        ),
        Mode::OtherCheckpoint => {
            // Same origin and size, another root: the log must not accept this.
            let Ok(n) = Note::parse(note.as_bytes()) else {
                return (StatusCode::BAD_REQUEST, "bad note\n".into());
            };
            let mut lines: Vec<&str> = n.text.lines().collect();
            let other_root = "Ym9ndXMgcm9vdCBoYXNoIGZvciB0aGUgdGVzdHMhISE=";
            if lines.len() >= 3 {
                lines[2] = other_root;
            }
            let text = lines.join("\n") + "\n";
            let line = f
                .honest
                .sign_at(&text, 1_700_000_000)
                .map(|s| s.to_line())
                .unwrap_or_default();
            (StatusCode::OK, line)
        }
    }
}

/// A socket bound to `port` (0: any) with SO_REUSEADDR and SO_REUSEPORT, not listening.
fn reusable_socket(port: u16) -> tokio::net::TcpSocket {
    let s = tokio::net::TcpSocket::new_v4().expect("socket");
    s.set_reuseaddr(true).expect("SO_REUSEADDR");
    s.set_reuseport(true).expect("SO_REUSEPORT");
    s.bind(([127, 0, 0, 1], port).into()).expect("bind");
    s
}

/// The fake witness's HTTP server; stopping it leaves the port refusing connections.
struct FakeServer {
    alive: Arc<AtomicBool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeServer {
    async fn start(fake: &FakeWitness, port: u16) -> FakeServer {
        let alive = Arc::new(AtomicBool::new(true));
        let app = axum::Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .with_state((fake.clone(), alive.clone()));
        let listener = reusable_socket(port).listen(1024).expect("listen");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeServer {
            alive,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops at once: the listener is dropped, and connections the log's client keeps
    /// alive answer 503 and close (a graceful shutdown would wait for them).
    async fn stop(mut self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Fetches `/checkpoint`; `None` on 404. Every checkpoint served must carry the log's
/// signature and only valid cosignatures from the witness.
async fn published(
    client: &reqwest::Client,
    url: &str,
    witness: &CosignatureVerifier,
) -> Option<(u64, usize)> {
    let r = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .expect("GET /checkpoint");
    if r.status() == 404 {
        return None;
    }
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("note");
    let cp = open_checkpoint(text.as_bytes(), &log_signer().verifier())
        .expect("log signature")
        .checkpoint;
    let note = Note::parse(text.as_bytes()).expect("note");
    let mut cosigs = 0;
    for s in note
        .signatures
        .iter()
        .filter(|s| s.name == "witness.test/faulty")
    {
        assert_eq!(
            s.key_id,
            quorum_c2sp::note::NoteVerifier::key_id(witness),
            "published a cosignature by another key:\n{text}"
        );
        witness
            .verify_cosignature(note.text.as_bytes(), &s.signature)
            .unwrap_or_else(|e| panic!("published a bad cosignature ({e}):\n{text}"));
        cosigs += 1;
    }
    assert!(
        cosigs >= 1,
        "published without the required cosignature:\n{text}"
    );
    Some((cp.size, cosigs))
}

/// A log on SQLite whose one required witness is the fake one, not yet started.
struct WitnessedLog {
    fake: FakeWitness,
    verifier: CosignatureVerifier,
    /// A bound socket that never listens keeps the witness's port ours while the witness is
    /// "down": connections to it are refused, and nobody else can take it.
    reservation: tokio::net::TcpSocket,
    wport: u16,
    db: TestDb,
    cfg: Config,
}

/// The fake witness's honest key comes from `seed`, its impostor's from `seed + 1`.
async fn witnessed_log(seed: u8) -> WitnessedLog {
    let key = |s: u8| CosignatureSigner::from_seed("witness.test/faulty", &[s; 32]).expect("key");
    let honest = key(seed);
    let verifier = honest.verifier();
    let fake = FakeWitness {
        mode: Arc::new(Mutex::new(Mode::Honest)),
        honest: Arc::new(honest),
        impostor: Arc::new(key(seed + 1)),
        requests: Arc::default(),
    };
    let reservation = reusable_socket(0);
    let wport = reservation.local_addr().expect("addr").port();
    let db = fresh_db(Backend::Sqlite).await;
    let cfg = Config {
        witnesses: vec![WitnessConfig {
            url: format!("http://127.0.0.1:{wport}"),
            vkey: verifier.vkey(),
        }],
        required_cosignatures: 1,
        witness_timeout_ms: 300,
        ..test_config(&db)
    };
    WitnessedLog {
        fake,
        verifier,
        reservation,
        wport,
        db,
        cfg,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witness_down_slow_lying_then_back() {
    let WitnessedLog {
        fake,
        verifier,
        reservation,
        wport,
        db: _db,
        cfg,
    } = witnessed_log(21).await;
    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let client = reqwest::Client::new();
    let mut version = 0u32;
    let mut acked = Vec::new();
    let mut next = |client: reqwest::Client, url: String| {
        version += 1;
        let v = format!("1.0.{version}");
        async move {
            let k = user_key(3);
            let env = envelope(&k, "pkg:cargo/faults", &v);
            let r = client
                .post(format!("{url}/v1/statements"))
                .json(&submission(&k, &env))
                .send()
                .await
                .expect("submit");
            assert_eq!(r.status(), 200, "the log keeps accepting");
            let v: Value = r.json().await.expect("json");
            let index: u64 = v["index"].as_str().unwrap_or("0").parse().expect("index");
            (index, env.digest())
        }
    };
    let mut faults = 0;

    // Down (nothing listens), then slow, then each lie: never a published checkpoint.
    for mode in [
        None,
        Some(Mode::Slow),
        Some(Mode::WrongKey),
        Some(Mode::Garbage),
        Some(Mode::OtherCheckpoint),
    ] {
        let server = match mode {
            Some(m) => {
                *fake.mode.lock().unwrap_or_else(|e| e.into_inner()) = m;
                Some(FakeServer::start(&fake, wport).await)
            }
            None => None,
        };
        for _ in 0..2 {
            acked.push(next(client.clone(), url.clone()).await);
        }
        wait_for_failed_push(&srv, acked.len() as u64).await;
        assert_eq!(
            published(&client, &url, &verifier).await,
            None,
            "{mode:?}: published a checkpoint without a valid cosignature"
        );
        // The read API keeps serving what is sequenced.
        let r = client
            .get(format!("{url}/tile/entries/000.p/{}", acked.len()))
            .send()
            .await
            .expect("tile");
        assert_eq!(r.status(), 200, "{mode:?}");
        if let Some(s) = server {
            s.stop().await;
        }
        faults += 1;
    }
    let m = metrics(&client, &url).await;
    assert!(metric(&m, "quorum_witness_errors_total") >= 5, "{m}");

    // Honest: the checkpoint covering everything is published with its cosignature.
    *fake.mode.lock().unwrap_or_else(|e| e.into_inner()) = Mode::Honest;
    let server = FakeServer::start(&fake, wport).await;
    acked.push(next(client.clone(), url.clone()).await);
    let want = acked.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        if let Some((size, _)) = published(&client, &url, &verifier).await
            && size >= want
        {
            break size;
        }
        assert!(
            Instant::now() < deadline,
            "no cosigned checkpoint after recovery"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.stop().await;

    // Lying and down again while the tree grows: the published checkpoint stays.
    for mode in [Some(Mode::WrongKey), Some(Mode::OtherCheckpoint), None] {
        *fake.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode.unwrap_or(Mode::Honest);
        let server = match mode {
            Some(_) => Some(FakeServer::start(&fake, wport).await),
            None => None,
        };
        acked.push(next(client.clone(), url.clone()).await);
        wait_for_failed_push(&srv, acked.len() as u64).await;
        assert_eq!(
            published(&client, &url, &verifier).await.map(|p| p.0),
            Some(first),
            "{mode:?}: the published checkpoint moved without a valid cosignature"
        );
        if let Some(s) = server {
            s.stop().await;
        }
        faults += 1;
    }
    // Back again: the newest checkpoint is published.
    *fake.mode.lock().unwrap_or_else(|e| e.into_inner()) = Mode::Honest;
    let server = FakeServer::start(&fake, wport).await;
    acked.push(next(client.clone(), url.clone()).await);
    let want = acked.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((size, _)) = published(&client, &url, &verifier).await
            && size >= want
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no cosigned checkpoint after the second recovery"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_acknowledged_present(&srv, &acked).await;
    let requests = fake
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for m in ["Slow", "WrongKey", "Garbage", "OtherCheckpoint", "Honest"] {
        assert!(
            requests.get(m).is_some_and(|n| *n > 0),
            "{m} never exercised: {requests:?}"
        );
    }
    println!(
        "witness faults: {faults} phases (down twice, slow, wrong key twice, garbage, other checkpoint twice) \
         survived; witness requests {requests:?}; {} entries acknowledged, none lost; no bad cosignature published",
        acked.len()
    );
    server.stop().await;
    srv.shutdown().await.expect("shutdown");
    drop(reservation);
}

/// A restart while the latest checkpoint lacks its cosignature (the witness went down after
/// cosigning an earlier one): `/checkpoint` serves the latest checkpoint that has the
/// required cosignature, never one below the quorum, and publishes the newer one once the
/// witness is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_never_publishes_a_checkpoint_below_the_quorum() {
    let WitnessedLog {
        fake,
        verifier,
        reservation,
        wport,
        db: _db,
        cfg,
    } = witnessed_log(23).await;
    let client = reqwest::Client::new();
    let wait_published = |url: String, size: u64| {
        let (client, verifier) = (client.clone(), verifier.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if published(&client, &url, &verifier)
                    .await
                    .is_some_and(|(s, _)| s >= size)
                {
                    return;
                }
                assert!(Instant::now() < deadline, "size {size} never published");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // Cosigned: size 1 is published.
    let witness = FakeServer::start(&fake, wport).await;
    let srv = quorum_log::server::start(cfg.clone(), log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let (status, _) = submit(&client, &url, 5, "1.0.0").await;
    assert_eq!(status, 200);
    wait_published(url.clone(), 1).await;
    // The witness goes down; size 2 is signed (at the latest by the shutdown) but never
    // cosigned.
    witness.stop().await;
    let (status, _) = submit(&client, &url, 5, "2.0.0").await;
    assert_eq!(status, 200);
    srv.shutdown().await.expect("shutdown");

    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("restart");
    let url = base(&srv);
    assert_eq!(
        srv.log.signed.borrow().as_ref().map(|p| p.size),
        Some(2),
        "the latest signed checkpoint is 2"
    );
    // `published` fails the test on any checkpoint without the witness's cosignature.
    assert_eq!(
        published(&client, &url, &verifier).await.map(|p| p.0),
        Some(1),
        "after the restart the checkpoint cosigned before it is served"
    );
    // The witness is back: size 2 gets its cosignature and is published.
    let witness = FakeServer::start(&fake, wport).await;
    wait_published(url.clone(), 2).await;
    witness.stop().await;
    srv.shutdown().await.expect("shutdown");
    drop(reservation);
}

// ---------------------------------------------------------------------------------------
// The database becomes unavailable and comes back
// ---------------------------------------------------------------------------------------

/// Submissions sent while the database is away: each is acknowledged (then it must be
/// there later) or refused with 503; nothing else.
async fn submit_during_outage(
    client: &reqwest::Client,
    url: &str,
    n: u32,
    tag: &str,
    answered: Arc<std::sync::atomic::AtomicUsize>,
) -> (Vec<(u64, [u8; 32])>, usize) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (client, url, answered) = (client.clone(), url.to_owned(), answered.clone());
        let version = format!("2.{i}.0-{tag}");
        tasks.push(tokio::spawn(async move {
            let k = user_key(40 + (i % 8) as u8);
            let env = envelope(&k, "pkg:cargo/outage", &version);
            let r = client
                .post(format!("{url}/v1/statements"))
                .json(&submission(&k, &env))
                .send()
                .await
                .expect("the server answers during the outage");
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            answered.fetch_add(1, Ordering::SeqCst);
            (status, v, env.digest())
        }));
    }
    let mut acked = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (status, v, digest) = t.await.expect("task");
        match status {
            200 => acked.push((
                v["index"].as_str().unwrap_or("0").parse().expect("index"),
                digest,
            )),
            503 => {
                assert_eq!(v["code"], "ERROR_CODE_UNAVAILABLE", "{v}");
                refused += 1;
            }
            other => panic!("during the outage: {other} {v}"),
        }
    }
    (acked, refused)
}

/// After the outage: a new submission succeeds within a few retries.
async fn recovers(client: &reqwest::Client, url: &str, tag: &str) -> (u64, [u8; 32]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let k = user_key(60);
    let env = envelope(&k, "pkg:cargo/outage", &format!("3.0.0-{tag}"));
    loop {
        let r = client
            .post(format!("{url}/v1/statements"))
            .json(&submission(&k, &env))
            .send()
            .await
            .expect("answer");
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if status == 200 {
            return (
                v["index"].as_str().unwrap_or("0").parse().expect("index"),
                env.digest(),
            );
        }
        assert_eq!(status, 503, "{v}");
        assert!(
            Instant::now() < deadline,
            "no recovery after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unavailable_then_back() {
    use sqlx::Connection as _;
    let db = fresh_db(Backend::Postgres).await;
    let name = db.url.rsplit('/').next().expect("database name").to_owned();
    let srv = start(&db).await;
    let url = base(&srv);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut acked = Vec::new();
    for i in 0..5 {
        let (s, v) = submit(&client, &url, 30, &format!("0.{i}.0")).await;
        assert_eq!(s, 200, "{v}");
    }
    let mut admin = sqlx::PgConnection::connect(&pg_base_url())
        .await
        .expect("admin connection");
    // Outage: refuse new connections to the database and terminate every backend on it,
    // repeatedly, while submissions arrive.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
    )))
    .execute(&mut admin)
    .await
    .expect("refuse connections");
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(terminate.clone()))
        .execute(&mut admin)
        .await
        .expect("terminate");
    let t0 = Instant::now();
    let outage = submit_during_outage(&client, &url, 8, "pg", Arc::default());
    let killer = async {
        for _ in 0..10 {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(terminate.clone()))
                .execute(&mut admin)
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let ((ok, refused), ()) = tokio::join!(outage, killer);
    let outage_answers = t0.elapsed();
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 503, "healthz reports the outage");
    acked.extend(ok);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .expect("allow connections");
    let t1 = Instant::now();
    acked.push(recovers(&client, &url, "pg").await);
    let recovery = t1.elapsed();
    assert!(refused > 0, "the outage refused nothing");
    assert_acknowledged_present(&srv, &acked).await;
    let m = metrics(&client, &url).await;
    assert!(
        metric(&m, "quorum_sequencer_commit_errors_total") > 0,
        "{m}"
    );
    println!(
        "PostgreSQL outage: {refused} submissions refused with 503 (answered within {outage_answers:?}), \
         {} acknowledged and present, recovered {recovery:?} after connections were allowed again",
        acked.len()
    );
    srv.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_then_released() {
    use sqlx::Connection as _;
    let db = fresh_db(Backend::Sqlite).await;
    let srv = start(&db).await;
    let url = base(&srv);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    for i in 0..5 {
        let (s, v) = submit(&client, &url, 31, &format!("0.{i}.0")).await;
        assert_eq!(s, 200, "{v}");
    }
    // Another connection takes the write lock and holds it past the server's busy timeout.
    let mut locker = sqlx::SqliteConnection::connect(&db.url)
        .await
        .expect("second connection");
    sqlx::raw_sql("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .expect("exclusive lock");
    let t0 = Instant::now();
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let outage = submit_during_outage(&client, &url, 6, "sqlite", answered.clone());
    // Hold the lock until the server gives up on it (its busy timeout, 10 s today) and
    // answers, at most 40 s.
    let release = async {
        let deadline = Instant::now() + Duration::from_secs(40);
        while answered.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut locker)
            .await
            .expect("release");
    };
    let ((mut acked, refused), ()) = tokio::join!(outage, release);
    let outage_answers = t0.elapsed();
    acked.push(recovers(&client, &url, "sqlite").await);
    assert!(refused > 0, "the lock refused nothing");
    assert_acknowledged_present(&srv, &acked).await;
    println!(
        "SQLite locked: {refused} submissions refused with 503 (answered within {outage_answers:?}), \
         {} acknowledged and present, recovered after the lock was released",
        acked.len()
    );
    srv.shutdown().await.expect("shutdown");
}

// ---------------------------------------------------------------------------------------
// Full disk
// ---------------------------------------------------------------------------------------

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("mount point");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the full-disk test mounts a small tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the filesystem is full.
fn fill(path: &std::path::Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0xa5u8; 16 << 10];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

/// Every acknowledged entry as seen by a connection of its own to the SQLite file (not
/// the server's pool): what a restart would find.
async fn assert_durable(dir: &std::path::Path, acked: &[(u64, [u8; 32])]) -> i64 {
    use sqlx::Connection as _;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}/quorum.db", dir.display()))
        .await
        .expect("independent connection");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries")
        .fetch_one(&mut c)
        .await
        .expect("count");
    let mut missing = Vec::new();
    for (i, digest) in acked {
        let row: Option<Vec<u8>> = sqlx::query_scalar("SELECT entry FROM entries WHERE idx = $1")
            .bind(i64::try_from(*i).expect("index"))
            .fetch_optional(&mut c)
            .await
            .expect("select");
        match row {
            Some(bytes) => assert_eq!(
                &LogEntry::decode(&bytes).expect("entry").envelope_digest(),
                digest,
                "entry {i} holds another envelope"
            ),
            None => missing.push(*i),
        }
    }
    let _ = c.close().await;
    assert!(
        missing.is_empty(),
        "{} acknowledged entries are not committed to the database file ({count} rows there): {:?}…",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    count
}

/// A full disk: submissions get a clear 503 while SQLite answers SQLITE_FULL, nothing that
/// was acknowledged is lost, and the log recovers when space returns. (It once found that
/// after SQLITE_FULL the writer connection stayed inside a transaction SQLite had already
/// rolled back, so later "commits" were savepoints that never reached the file; the
/// storage layer now closes a connection whose transaction failed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_then_space_returns() {
    let fs = Tmpfs::mount("6m");
    let data = fs.dir.path().join("data");
    let cfg = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data.clone(),
        database_url: None,
        checkpoint_interval_ms: 100,
        max_body_bytes: 4 << 20,
        ..Config::default()
    };
    let srv = quorum_log::server::start(cfg.clone(), log_signer())
        .await
        .expect("start");
    let url = base(&srv);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut acked = Vec::new();
    let k = user_key(33);
    let mut batch_no = 0u32;
    let mut send_batch = |n: u32| {
        batch_no += 1;
        let envs: Vec<_> = (0..n)
            .map(|i| envelope(&k, "pkg:cargo/disk", &format!("{batch_no}.{i}.0")))
            .collect();
        let body = json!({"envelopes": envs.iter().map(|e| submission(&k, e)).collect::<Vec<_>>()});
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client
                .post(format!("{url}/v1/statements"))
                .json(&body)
                .send()
                .await
                .expect("answer");
            assert_eq!(r.status(), 200, "a batch answers 200 with per-item results");
            let v: Value = r.json().await.expect("json");
            let mut ok = Vec::new();
            let mut refused = 0;
            for (e, r) in envs
                .iter()
                .zip(v["results"].as_array().cloned().unwrap_or_default())
            {
                match r.get("error") {
                    None => ok.push((
                        r["index"]
                            .as_str()
                            .unwrap_or("0")
                            .parse::<u64>()
                            .expect("index"),
                        e.digest(),
                    )),
                    Some(err) => {
                        assert_eq!(r["status"], 503, "{r}");
                        assert_eq!(err["code"], "ERROR_CODE_UNAVAILABLE", "{r}");
                        refused += 1;
                    }
                }
            }
            (ok, refused)
        }
    };
    let (ok, refused) = send_batch(50).await;
    assert_eq!(refused, 0);
    acked.extend(ok);

    // Three rounds: fill the disk, submit until three batches are refused, free the space,
    // submit until accepted again; every acknowledged entry must be in the file.
    let filler = fs.dir.path().join("filler");
    let mut refused_total = 0;
    let rounds = 3;
    for round in 0..rounds {
        fill(&filler);
        let mut refused_batches = 0;
        for _ in 0..40 {
            let (ok, refused) = send_batch(100).await;
            acked.extend(ok);
            refused_total += refused;
            if refused > 0 {
                refused_batches += 1;
                if refused_batches == 3 {
                    break;
                }
            }
        }
        assert!(
            refused_batches > 0,
            "round {round}: a full disk refused nothing"
        );
        // The log still serves reads.
        let r = client
            .get(format!("{url}/v1/statements?purl=pkg:cargo/disk&limit=5"))
            .send()
            .await
            .expect("lookup");
        assert_eq!(r.status(), 200);
        std::fs::remove_file(&filler).expect("remove filler");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (ok, refused) = send_batch(20).await;
            acked.extend(ok);
            if refused == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: no recovery after space returned"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_durable(&data, &acked).await;
    }
    assert_acknowledged_present(&srv, &acked).await;
    let size = srv.log.tree.size();
    srv.shutdown()
        .await
        .expect("clean shutdown after a full disk");

    // A restart on the same directory: same tree, every acknowledged entry present.
    let srv = quorum_log::server::start(cfg, log_signer())
        .await
        .expect("restart after a full disk");
    assert_eq!(
        srv.log.tree.size(),
        size,
        "the tree shrank across the restart"
    );
    assert_acknowledged_present(&srv, &acked).await;
    println!(
        "full disk (6 MiB tmpfs, {rounds} rounds): {refused_total} submissions refused with 503, {} \
         acknowledged and present after recovery and restart",
        acked.len()
    );
    srv.shutdown().await.expect("shutdown");
}

// ---------------------------------------------------------------------------------------
// SIGKILL of the log server at seeded random points, several times
// ---------------------------------------------------------------------------------------

/// Acknowledged (index, envelope digest) pairs.
type Acked = Vec<(u64, [u8; 32])>;
/// Every root seen in a checkpoint, by tree size.
type RootsBySize = HashMap<u64, std::collections::BTreeSet<[u8; 32]>>;

/// SplitMix64: a small seeded generator, so that the kill points are reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// Three SIGKILLs at seeded points under three concurrent writers and a checkpoint
/// watcher. Afterwards: every acknowledged entry is stored with its envelope, no two
/// checkpoints seen (across every restart) have one size and different roots, and every
/// checkpoint seen is a prefix of the final tree.
async fn kill_log_repeatedly(backend: Backend, seed: u64) {
    let db = fresh_db(backend).await;
    let key = db.dir.path().join("log.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quorum-log"))
        .args(["keygen", "--origin", "quorum.test/log", "--out"])
        .arg(&key)
        .output()
        .expect("keygen");
    assert!(out.status.success());
    let signer = quorum_log::server::load_key(&key).expect("key");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut child = spawn_log_process(&db, &key, port);
    wait_healthy(&client, &url).await;

    let acked: Arc<Mutex<Acked>> = Arc::default();
    let seen: Arc<Mutex<RootsBySize>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..3u8 {
        let (client, url, acked, stop) = (client.clone(), url.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let k = user_key(70 + w);
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let envs: Vec<_> = (0..10)
                    .map(|i| envelope(&k, "pkg:cargo/killed", &format!("{w}.{n}.{i}")))
                    .collect();
                n += 1;
                let body = json!({"envelopes": envs.iter().map(|e| submission(&k, e)).collect::<Vec<_>>()});
                let Ok(r) = client.post(format!("{url}/v1/statements")).json(&body).send().await
                else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let Ok(v) = r.json::<Value>().await else {
                    continue;
                };
                let mut a = acked.lock().unwrap_or_else(|e| e.into_inner());
                for (e, r) in envs
                    .iter()
                    .zip(v["results"].as_array().cloned().unwrap_or_default())
                {
                    if r.get("error").is_none() {
                        let i = r["index"].as_str().unwrap_or("0").parse().expect("index");
                        a.push((i, e.digest()));
                    }
                }
            }
        }));
    }
    {
        let (client, url, seen, stop) = (client.clone(), url.clone(), seen.clone(), stop.clone());
        let verifier = signer.verifier();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = client.get(format!("{url}/checkpoint")).send().await
                    && r.status() == 200
                    && let Ok(text) = r.text().await
                {
                    let cp = open_checkpoint(text.as_bytes(), &verifier)
                        .expect("every checkpoint served verifies")
                        .checkpoint;
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(cp.size)
                        .or_default()
                        .insert(cp.root_hash);
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }));
    }
    let mut rng = Rng(seed);
    let kills = 3;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(700))).await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        child = spawn_log_process(&db, &key, port);
        wait_healthy(&client, &url).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let max = acked.iter().map(|(i, _)| *i).max().unwrap_or(0);
    assert!(acked.len() >= 100, "too little load: {}", acked.len());
    // A checkpoint covering everything acknowledged. Generous: on a loaded CI machine with
    // the other fault tests running beside it, one run needed more than 10 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let final_cp = loop {
        if let Ok(r) = client.get(format!("{url}/checkpoint")).send().await
            && r.status() == 200
        {
            let text = r.text().await.expect("text");
            let cp = open_checkpoint(text.as_bytes(), &signer.verifier())
                .expect("verifies")
                .checkpoint;
            if cp.size > max {
                break cp;
            }
        }
        if Instant::now() >= deadline {
            // Tell a lost entry (tree smaller than acknowledged) from a stalled signer.
            let health = match client.get(format!("{url}/healthz")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            panic!("no checkpoint covers {max} after 30 s; /healthz: {health}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().expect("kill");
    let _ = child.wait();

    // Read the stored log directly: every entry it holds, not only those under the final
    // checkpoint.
    let storage = quorum_log::storage::Storage::open(&db.url)
        .await
        .expect("open storage");
    let stored = storage.entry_count().await.expect("entry count");
    assert!(stored >= final_cp.size);
    let entries = storage
        .entries_range(0, stored)
        .await
        .expect("every stored entry");
    let mut tree = quorum_c2sp::merkle::MemoryTree::new();
    for e in &entries {
        tree.append(e);
    }
    assert_eq!(
        tree.root_at(final_cp.size).expect("root"),
        final_cp.root_hash
    );
    for (i, digest) in &acked {
        let e = entries
            .get(usize::try_from(*i).expect("index"))
            .unwrap_or_else(|| panic!("acknowledged entry {i} lost"));
        assert_eq!(
            &LogEntry::decode(e).expect("entry").envelope_digest(),
            digest,
            "entry {i} holds another envelope"
        );
    }
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // Every checkpoint served before, between and after the kills is a prefix of the tree
    // that survived them. One larger than that tree is what a rollback after a crash looks
    // like (a checkpoint served, then entries it covers lost), so it fails the test.
    for (size, roots) in &seen {
        assert_eq!(
            roots.len(),
            1,
            "two checkpoints of size {size} with different roots"
        );
        assert!(
            *size <= stored,
            "checkpoint {size} was served, but only {stored} entries survived the kills: a rollback"
        );
        assert!(
            roots.contains(&tree.root_at(*size).expect("root")),
            "checkpoint {size} is not a prefix of the final tree"
        );
    }
    storage.close().await;
    println!(
        "log SIGKILL ({backend:?}): {kills} kills survived, {} entries acknowledged, none lost; \
         {} distinct checkpoint sizes seen, one root each, all prefixes of the final tree (size {})",
        acked.len(),
        seen.len(),
        final_cp.size
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_sigkill_repeatedly_sqlite() {
    kill_log_repeatedly(Backend::Sqlite, 0x10c_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_sigkill_repeatedly_postgres() {
    kill_log_repeatedly(Backend::Postgres, 0x10c_0002).await;
}
