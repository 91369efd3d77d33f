//! Fault injection (issue #8): the real `quorum-witness` binary is SIGKILLed at seeded
//! random points while four clients push checkpoints to it concurrently (honest ones, and
//! validly signed forks), and restarted on the same database. Every cosignature it ever
//! returned is collected: it must never have cosigned two different roots for one size,
//! never a fork, and its stored state after the last restart must be the honest checkpoint
//! of a size at least as large as every cosignature it returned.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestLog, body};
use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::merkle::MemoryTree;
use quorum_c2sp::note::Note;
use quorum_witness::storage::origin_hash;

/// SplitMix64: a small seeded generator, so that the kill points are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A database URL for the witness: a SQLite file in `dir`, or a fresh PostgreSQL database.
async fn database_url(postgres: bool, dir: &std::path::Path) -> String {
    if !postgres {
        return format!("sqlite:{}?mode=rwc", dir.join("witness.db").display());
    }
    let base = std::env::var("QUORUM_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "QUORUM_TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. Start a \
             throw-away one with `export QUORUM_TEST_DATABASE_URL=$(scripts/pg-start.sh)`."
        )
    });
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to QUORUM_TEST_DATABASE_URL");
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).expect("random");
    let name = format!("witness_faults_{}", hex::encode(rnd));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let _ = admin.close().await;
    let (prefix, _) = base.rsplit_once('/').expect("URL ends in /<database>");
    format!("{prefix}/{name}")
}

struct Witness {
    config: std::path::PathBuf,
    db_url: String,
    port: u16,
}

impl Witness {
    fn spawn(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_quorum-witness"))
            .arg("--config")
            .arg(&self.config)
            .args(["--database-url", &self.db_url])
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn quorum-witness")
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn wait_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the witness did not become healthy");
}

/// One 200 answer: what was sent and the cosignature line returned.
#[derive(Clone, Debug)]
struct Cosigned {
    size: u64,
    root: [u8; 32],
    note: String,
    line: String,
    honest: bool,
}

const LEAVES: u64 = 10_000;

async fn kill_under_load(postgres: bool, seed: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = TestLog::new("example.com/faulty-log");
    let signer = CosignatureSigner::generate("example.com/killed-witness").expect("witness key");
    let verifier = signer.verifier();
    let key_file = dir.path().join("witness.key");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&key_file)
            .expect("key file");
        writeln!(f, "{}", signer.skey()).expect("write key");
    }
    let config = dir.path().join("witness.toml");
    std::fs::write(
        &config,
        format!(
            "key_file = {key_file:?}\n\n[limits]\nrequests_per_minute_per_log = 0\n\n[[log]]\n\
             origin = {:?}\nkeys = [{:?}]\n",
            log.origin,
            log.vkey()
        ),
    )
    .expect("config");
    let w = Arc::new(Witness {
        config,
        db_url: database_url(postgres, dir.path()).await,
        port: free_port(),
    });
    let mut main = MemoryTree::new();
    let mut fork = MemoryTree::new();
    for i in 0..LEAVES {
        main.append(format!("main-{i}").as_bytes());
        fork.append(format!("fork-{i}").as_bytes());
    }
    let main = Arc::new(main);
    let fork = Arc::new(fork);
    let log = Arc::new(log);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut child = w.spawn();
    wait_healthy(&client, &w.url("/healthz")).await;
    // Size 1 first, so that no fork can start from the empty state.
    let cp1 = log.checkpoint(1, main.root_at(1).expect("root"));
    let r = client
        .post(w.url("/add-checkpoint"))
        .body(body(0, &[], &cp1))
        .send()
        .await
        .expect("first push");
    assert_eq!(r.status(), 200);

    let cosigned: Arc<Mutex<Vec<Cosigned>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let requests = Arc::new(AtomicU64::new(0));
    let forks_refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..4u64 {
        let (w, log, main, fork, client) = (
            w.clone(),
            log.clone(),
            main.clone(),
            fork.clone(),
            client.clone(),
        );
        let (cosigned, unexpected, requests, forks_refused, stop) = (
            cosigned.clone(),
            unexpected.clone(),
            requests.clone(),
            forks_refused.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut rng = Rng(seed ^ (worker + 1).wrapping_mul(0x1234_5678_9abc));
            let mut old = 1u64;
            while !stop.load(Ordering::Relaxed) {
                let honest = rng.below(100) >= 15;
                let (size, root, proof) = if honest {
                    let size = (old + 1 + rng.below(8)).min(LEAVES);
                    let proof = main.prove_consistency(old, size).expect("proof");
                    (size, main.root_at(size).expect("root"), proof)
                } else {
                    // A validly signed fork: same size as the witness's state with another
                    // root, or a larger one with the honest proof.
                    let size = (old + rng.below(3)).min(LEAVES);
                    let proof = if size == old {
                        Vec::new()
                    } else {
                        main.prove_consistency(old, size).expect("proof")
                    };
                    (size, fork.root_at(size).expect("root"), proof)
                };
                let note = log.checkpoint(size, root);
                requests.fetch_add(1, Ordering::Relaxed);
                let Ok(r) = client
                    .post(w.url("/add-checkpoint"))
                    .body(body(old, &proof, &note))
                    .send()
                    .await
                else {
                    // Killed or restarting.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let status = r.status().as_u16();
                let Ok(text) = r.text().await else {
                    continue;
                };
                match status {
                    200 => {
                        cosigned
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(Cosigned {
                                size,
                                root,
                                note,
                                line: text,
                                honest,
                            });
                        if honest {
                            old = size;
                        }
                    }
                    409 => {
                        if let Ok(n) = text.trim().parse() {
                            old = n;
                        }
                    }
                    422 if !honest => {
                        forks_refused.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => unexpected
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!(
                            "honest={honest} old={old} size={size}: {status} {text}"
                        )),
                }
                if old >= LEAVES {
                    break;
                }
            }
        }));
    }

    // Kill at seeded random points, restart on the same database.
    let mut rng = Rng(seed);
    let kills = 4;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(150 + rng.below(550))).await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        tokio::time::sleep(Duration::from_millis(rng.below(100))).await;
        child = w.spawn();
        wait_healthy(&client, &w.url("/healthz")).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for t in workers {
        t.await.expect("worker");
    }

    let cosigned = cosigned.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let unexpected = unexpected.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        unexpected.is_empty(),
        "unexpected answers:\n{}",
        unexpected.join("\n")
    );
    // Every cosignature is valid, only honest checkpoints were cosigned, one root per size.
    let mut roots: BTreeMap<u64, BTreeSet<[u8; 32]>> = BTreeMap::new();
    for c in &cosigned {
        assert!(c.honest, "the witness cosigned a fork at size {}", c.size);
        let mut full = c.note.clone().into_bytes();
        full.extend_from_slice(c.line.as_bytes());
        let parsed = Note::parse(&full).expect("cosigned note parses");
        let sig = parsed
            .signatures
            .iter()
            .find(|s| s.name == "example.com/killed-witness")
            .expect("the witness's cosignature line");
        verifier
            .verify_cosignature(parsed.text.as_bytes(), &sig.signature)
            .expect("cosignature verifies");
        roots.entry(c.size).or_default().insert(c.root);
    }
    for (size, set) in &roots {
        assert_eq!(set.len(), 1, "two different roots cosigned for size {size}");
    }
    let max_cosigned = roots.keys().max().copied().unwrap_or(1);
    assert!(
        forks_refused.load(Ordering::Relaxed) > 0,
        "no fork reached the witness's checks"
    );
    assert!(
        cosigned.len() >= 20,
        "too little load survived: {} cosignatures",
        cosigned.len()
    );

    // The state after the last restart: an honest checkpoint, not older than any
    // cosignature returned, itself cosigned by the witness.
    let h = origin_hash(&log.origin);
    let r = client
        .get(w.url(&format!("/{h}/checkpoint")))
        .send()
        .await
        .expect("state");
    assert_eq!(r.status(), 200);
    let state_note = r.text().await.expect("note");
    let parsed = Note::parse(state_note.as_bytes()).expect("stored note");
    let cp = Checkpoint::parse(&parsed.text).expect("stored checkpoint");
    assert!(
        cp.size >= max_cosigned,
        "state {} is older than a returned cosignature {max_cosigned}",
        cp.size
    );
    assert_eq!(cp.root_hash, main.root_at(cp.size).expect("root"));
    let own = parsed
        .signatures
        .iter()
        .find(|s| s.name == "example.com/killed-witness")
        .expect("own cosignature on the state");
    verifier
        .verify_cosignature(parsed.text.as_bytes(), &own.signature)
        .expect("state cosignature verifies");
    // And it goes on: the next honest checkpoint from its state is cosigned.
    if cp.size < LEAVES {
        let next = cp.size + 1;
        let r = client
            .post(w.url("/add-checkpoint"))
            .body(body(
                cp.size,
                &main.prove_consistency(cp.size, next).expect("proof"),
                &log.checkpoint(next, main.root_at(next).expect("root")),
            ))
            .send()
            .await
            .expect("push after the faults");
        assert_eq!(r.status(), 200);
    }
    child.kill().expect("kill");
    let _ = child.wait();
    println!(
        "witness SIGKILL ({}): {kills} kills survived, {} requests, {} cosignatures over {} sizes, \
         {} forks refused with 422, final size {}, no conflicting cosignature",
        if postgres { "PostgreSQL" } else { "SQLite" },
        requests.load(Ordering::Relaxed),
        cosigned.len(),
        roots.len(),
        forks_refused.load(Ordering::Relaxed),
        cp.size
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_concurrent_pushes_sqlite() {
    kill_under_load(false, 0x5eed_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_concurrent_pushes_postgres() {
    kill_under_load(true, 0x5eed_0002).await;
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
        let out = Command::new("mount")
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
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the filesystem is full.
fn fill(path: &std::path::Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0x5au8; 16 << 10];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

/// The witness's cosigned size for `origin` as a connection of its own to the SQLite file
/// sees it (what a restart would find).
async fn durable_size(dir: &std::path::Path, origin: &str) -> u64 {
    use sqlx::Connection;
    let mut c =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("witness.db").display()))
            .await
            .expect("independent connection");
    let size: i64 = sqlx::query_scalar("SELECT size FROM checkpoints WHERE origin = $1")
        .bind(origin)
        .fetch_one(&mut c)
        .await
        .expect("size");
    let _ = c.close().await;
    u64::try_from(size).expect("size")
}

/// The witness's data directory on a small tmpfs that fills up, three times: while full,
/// add-checkpoint fails with 500; every cosignature it returned is durable (a connection of
/// its own and a restart see a state at least that large); it cosigns again when space
/// returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_then_space_returns() {
    let fs = Tmpfs::mount("3m");
    let data = fs.dir.path().join("data");
    let log = TestLog::new("example.com/disk-log");
    let mut main = MemoryTree::new();
    for i in 0..5000u64 {
        main.append(format!("main-{i}").as_bytes());
    }
    let limits = quorum_witness::config::Limits {
        requests_per_minute_per_log: 0,
        ..quorum_witness::config::Limits::default()
    };
    let open = || async {
        let store = quorum_witness::storage::Store::open_data_dir(&data)
            .await
            .expect("open store");
        common::TestStore::from_store(store)
    };
    let tw = common::TestWitness::start_on(open().await, limits.clone()).await;
    tw.witness
        .add_log(&log.origin, &log.vkey(), None)
        .await
        .expect("add log");
    let mut cosigned = 0u64;
    let push = |tw_url: String, client: reqwest::Client, old: u64, new: u64| {
        let note = log.checkpoint(new, main.root_at(new).expect("root"));
        let b = body(
            old,
            &main.prove_consistency(old, new).expect("proof"),
            &note,
        );
        async move {
            let r = client
                .post(format!("{tw_url}/add-checkpoint"))
                .body(b)
                .send()
                .await
                .expect("answer");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    let url = format!("http://{}", tw.addr);
    for n in 1..=20 {
        let (s, m) = push(url.clone(), tw.client.clone(), cosigned, n).await;
        assert_eq!(s, 200, "{m}");
        cosigned = n;
    }
    let filler = fs.dir.path().join("filler");
    let mut refused = 0;
    for round in 0..3 {
        fill(&filler);
        let mut refused_here = 0;
        for _ in 0..300 {
            let next = cosigned + 1;
            let (s, m) = push(url.clone(), tw.client.clone(), cosigned, next).await;
            match s {
                200 => cosigned = next,
                500 => {
                    refused_here += 1;
                    if refused_here == 3 {
                        break;
                    }
                }
                409 => panic!(
                    "round {round}: 409 {m}: the witness's state moved without a cosignature"
                ),
                other => panic!("round {round}: {other} {m}"),
            }
        }
        assert!(
            refused_here > 0,
            "round {round}: a full disk refused nothing"
        );
        refused += refused_here;
        std::fs::remove_file(&filler).expect("remove filler");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let next = cosigned + 1;
            let (s, m) = push(url.clone(), tw.client.clone(), cosigned, next).await;
            if s == 200 {
                cosigned = next;
                break;
            }
            assert!(
                s == 500 || s == 409,
                "round {round}: after space returned: {s} {m}"
            );
            if s == 409 {
                panic!("round {round}: 409 {m}: state and cosignatures disagree");
            }
            assert!(Instant::now() < deadline, "round {round}: no recovery");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let durable = durable_size(&data, &log.origin).await;
        assert!(
            durable >= cosigned,
            "round {round}: cosigned up to {cosigned} but the database file holds {durable}"
        );
    }
    tw.store.store.close().await;
    tw.stop().await;
    // A restart on the same directory continues from the last cosigned size.
    let tw = common::TestWitness::start_on(open().await, limits).await;
    let state = tw
        .store
        .store
        .state(&log.origin)
        .await
        .expect("state")
        .expect("known log");
    assert!(
        state.size >= cosigned,
        "restart lost cosigned state: {} < {cosigned}",
        state.size
    );
    println!(
        "witness full disk (3 MiB tmpfs, 3 rounds): {refused} add-checkpoints refused with 500, \
         {cosigned} cosigned sizes all durable across recovery and restart"
    );
    tw.stop().await;
}
