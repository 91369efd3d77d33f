//! Shared test harness: a witness served over a real loopback socket, on a real SQLite
//! file or a fresh PostgreSQL database.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::note::Ed25519Signer;
use quorum_witness::config::Limits;
use quorum_witness::ratelimit::RateLimiter;
use quorum_witness::storage::Store;
use quorum_witness::witness::Witness;

pub const WITNESS_NAME: &str = "example.com/witness";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store plus whatever keeps it alive (the temp dir).
pub struct TestStore {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    /// Wraps a store the test opened itself (its directory is the test's to keep).
    pub fn from_store(store: Store) -> TestStore {
        TestStore { store, _dir: None }
    }
}

/// A fresh SQLite file in a temp dir.
pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_data_dir(dir.path()).await.expect("open sqlite");
    TestStore {
        store,
        _dir: Some(dir),
    }
}

/// A fresh database with a random name on the PostgreSQL server named by
/// QUORUM_TEST_DATABASE_URL. Fails (never skips) when the variable is unset.
pub async fn postgres_store() -> TestStore {
    let url = std::env::var("QUORUM_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "QUORUM_TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. Start a \
             throw-away one with `export QUORUM_TEST_DATABASE_URL=$(scripts/pg-start.sh)` \
             (from the workspace root) and run the tests again."
        )
    });
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to QUORUM_TEST_DATABASE_URL {url}: {e}"));
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).expect("random");
    let name = format!("witness_test_{}", hex::encode(rnd));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let _ = admin.close().await;
    let db_url = match url.rfind('/') {
        Some(i) if url[..i].contains("://") && url[i..].find('?').is_none() => {
            format!("{}/{name}", &url[..i])
        }
        _ => panic!("QUORUM_TEST_DATABASE_URL must end in /<database>: {url}"),
    };
    let store = Store::connect(&db_url).await.expect("connect postgres");
    TestStore { store, _dir: None }
}

pub async fn store(backend: Backend) -> TestStore {
    match backend {
        Backend::Sqlite => sqlite_store().await,
        Backend::Postgres => postgres_store().await,
    }
}

/// A witness serving HTTP on 127.0.0.1 with a random port.
pub struct TestWitness {
    pub addr: SocketAddr,
    pub witness: Arc<Witness>,
    pub signer: CosignatureSigner,
    pub client: reqwest::Client,
    pub store: TestStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestWitness {
    pub async fn start(backend: Backend) -> TestWitness {
        Self::start_with(
            backend,
            Limits {
                requests_per_minute_per_log: 0,
                ..Limits::default()
            },
        )
        .await
    }

    pub async fn start_with(backend: Backend, limits: Limits) -> TestWitness {
        let store = store(backend).await;
        Self::start_on(store, limits).await
    }

    pub async fn start_on(store: TestStore, limits: Limits) -> TestWitness {
        Self::start_as(WITNESS_NAME, store, limits).await
    }

    /// Starts a witness with its own name (a log counts cosignatures per witness name).
    pub async fn start_named(name: &str, backend: Backend) -> TestWitness {
        let limits = Limits {
            requests_per_minute_per_log: 0,
            ..Limits::default()
        };
        Self::start_as(name, store(backend).await, limits).await
    }

    pub async fn start_as(name: &str, store: TestStore, limits: Limits) -> TestWitness {
        let signer = CosignatureSigner::generate(name).expect("witness key");
        let limiter = RateLimiter::new(limits.requests_per_minute_per_log, limits.burst_per_log);
        let witness = Arc::new(Witness::new(store.store.clone(), signer.clone(), limiter));
        let router = quorum_witness::server::router(witness.clone(), &limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            quorum_witness::server::serve(listener, router, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestWitness {
            addr,
            witness,
            signer,
            client: reqwest::Client::new(),
            store,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs an add-checkpoint body; returns status, content type and body.
    pub async fn add(&self, body: impl Into<Vec<u8>>) -> (u16, String, String) {
        let r = self
            .client
            .post(self.url("/add-checkpoint"))
            .body(body.into())
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, r.text().await.expect("body"))
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task");
        }
    }
}

/// A test log: an Ed25519 note signer plus helpers to sign checkpoints.
pub struct TestLog {
    pub origin: String,
    pub signer: Ed25519Signer,
}

impl TestLog {
    pub fn new(origin: &str) -> TestLog {
        TestLog {
            origin: origin.to_string(),
            signer: Ed25519Signer::generate(origin).expect("log key"),
        }
    }

    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    pub fn checkpoint(&self, size: u64, root: [u8; 32]) -> String {
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size,
            root_hash: root,
            extensions: vec![],
        };
        String::from_utf8(cp.sign(&[&self.signer]).expect("sign")).expect("utf8")
    }
}

pub fn b64(h: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

/// An add-checkpoint body.
pub fn body(old: u64, proof: &[[u8; 32]], note: &str) -> String {
    let mut s = format!("old {old}\n");
    for h in proof {
        s.push_str(&b64(h));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(note);
    s
}

/// Checks that a 200 body is one cosignature line from the witness that verifies over the
/// checkpoint text.
pub fn check_cosignature(tw: &TestWitness, note: &str, resp: &str) {
    let line = resp.strip_suffix('\n').expect("line ends in newline");
    assert!(!line.contains('\n'), "one line: {resp:?}");
    let mut cosigned = note.as_bytes().to_vec();
    cosigned.extend_from_slice(resp.as_bytes());
    let verifier = tw.signer.verifier();
    let parsed = quorum_c2sp::note::Note::parse(&cosigned).expect("note");
    let sig = parsed
        .signatures
        .iter()
        .find(|s| s.name == WITNESS_NAME)
        .expect("witness signature");
    assert_eq!(sig.key_id, tw.signer.key_id(), "0x04 key ID");
    let ts = verifier
        .verify_cosignature(parsed.text.as_bytes(), &sig.signature)
        .expect("cosignature verifies");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(ts <= now && ts + 600 > now, "timestamp {ts} near now {now}");
}
