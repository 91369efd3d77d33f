//! Shared test helpers: backends (real SQLite, real PostgreSQL), keys, statements, a client.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use quorum_c2sp::note::Ed25519Signer;
use quorum_log::config::Config;
use quorum_log::server::{self, RunningServer};
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::predicates::ADOPTION_V1;
use quorum_verifier::model::statement::{Statement, Subject};
use serde_json::{Value, json};
use sqlx::Connection as _;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty database for one test; holds the temp dir alive.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
}

/// The PostgreSQL base URL; fails loudly when unset.
pub fn pg_base_url() -> String {
    match std::env::var("QUORUM_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "QUORUM_TEST_DATABASE_URL is not set: PostgreSQL tests need a server. Start one with \
             `export QUORUM_TEST_DATABASE_URL=$(scripts/pg-start.sh)` (it prints the URL of a \
             throw-away server) and run the tests again."
        ),
    }
}

pub async fn fresh_db(backend: Backend) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/quorum.db?mode=rwc", dir.path().display()),
        Backend::Postgres => {
            let base = pg_base_url();
            let name = format!(
                "qtest_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            );
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("connect to QUORUM_TEST_DATABASE_URL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create database");
            let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
            format!("{prefix}/{name}")
        }
    };
    TestDb { url, dir }
}

pub fn log_signer() -> Ed25519Signer {
    Ed25519Signer::from_seed("quorum.test/log", &[7; 32]).expect("signer")
}

pub fn test_config(db: &TestDb) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(db.url.clone()),
        data_dir: db.dir.path().to_owned(),
        checkpoint_interval_ms: 100,
        max_body_bytes: 512 << 10,
        ..Config::default()
    }
}

pub async fn start(db: &TestDb) -> RunningServer {
    server::start(test_config(db), log_signer())
        .await
        .expect("server starts")
}

pub fn user_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn envelope(key: &SigningKey, package: &str, version: &str) -> Envelope {
    let st = Statement::new(
        vec![Subject::package_version(
            &format!("{package}@{version}"),
            [3; 32],
        )],
        ADOPTION_V1,
        json!({"status": "adopted"}),
    );
    Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_json(), key)
}

pub fn key_text(key: &SigningKey) -> String {
    format!("ed25519:{}", hex::encode(key.verifying_key().to_bytes()))
}

pub fn submission(key: &SigningKey, env: &Envelope) -> Value {
    json!({
        "envelope": serde_json::from_str::<Value>(&env.to_json()).expect("json"),
        "publicKey": key_text(key),
    })
}

pub fn base(s: &RunningServer) -> String {
    format!("http://{}", s.addr)
}

/// A free TCP port on loopback, chosen by the kernel.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts the real `quorum-log` binary (a child process the tests can SIGKILL) on `port`.
pub fn spawn_log_process(db: &TestDb, key: &std::path::Path, port: u16) -> std::process::Child {
    // `option_env!`: this module is also compiled into the witness's tests (by path), where
    // Cargo defines no quorum-log binary; only quorum-log's own tests call this.
    let Some(binary) = option_env!("CARGO_BIN_EXE_quorum-log") else {
        panic!("only quorum-log's own tests spawn its binary");
    };
    std::process::Command::new(binary)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &db.url])
        .arg("--key-file")
        .arg(key)
        .args(["--checkpoint-interval-ms", "100"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn quorum-log")
}

/// Waits up to 30 s for `/healthz` to answer 2xx.
pub async fn wait_healthy(client: &reqwest::Client, url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the log server did not become healthy");
}
