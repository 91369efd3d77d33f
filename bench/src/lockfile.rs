//! `quorum-bench lockfile`: a lockfile decided online and from a mirror, end to end.
//!
//! A log of `--entries` entries (default 1,000,000) holding `--trust` trust statements
//! (default 100,000) is generated once into a data directory: every entry distinct and signed
//! (`--keys` signers), a checkpoint every 100,000 entries cosigned by a bench witness, written
//! with the log server's own storage and tree code. The trust graph: the bench user's root
//! vouches for 100 keys, each of those for 100 more (10,100 edges the root reaches), and the
//! rest are vouches among keys no root reaches, spread through the log (every
//! `entries/trust`-th entry). The other entries are adoptions (90%), passing audits (9%) and
//! rejections (1%) of `--packages` packages × 3 versions by random signers.
//!
//! The real `quorum-log` server (its library, in this process) serves the data over
//! loopback, and the real `quorum` binary decides a `Cargo.lock` of `--lockfile` packages:
//!
//! - **online, cold**: a fresh state directory each time (no stored checkpoint, no
//!   trust-graph cache, no verified entries): the trust graph as far as the root reaches,
//!   signer by signer, and the packages' entries are fetched in pages and verified (after
//!   one untimed run that warms the just-started server);
//! - **online, warm**: the same state directory again: the trust graph comes from the cache
//!   (extended by what is new), the packages' entries are fetched and proven again, and
//!   only the signatures not verified before are checked;
//! - **mirror**: `quorum mirror` once (its rate is reported), `sync`, then `verify --mirror`.
//!
//! Times are wall-clock medians over `--reps` runs of the whole process. Run with
//! `cargo build --release -p quorum-cli -p quorum-bench && target/release/quorum-bench
//! lockfile` (the first run generates the log: minutes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::merkle::MemoryTree;
use quorum_c2sp::note::Ed25519Signer;
use quorum_log::storage::{NewEntry, Storage, StoredCheckpoint};
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::index::log_index_subjects;
use quorum_verifier::model::log_entry::LogEntry;
use quorum_verifier::model::predicates::{
    Adoption, AdoptionStatus, Audit, Predicate, Trust, TrustLevel, Verdict, validate_statement,
};
use quorum_verifier::model::statement::Subject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "bench.quorum/log";
const CHECKPOINT_EVERY: u64 = 100_000;
const BATCH: u64 = 20_000;
/// Keys the root reaches: 1 + 100 + 100 × 100.
const FIRST_UNREACHED: u64 = 10_101;

/// What to generate and run.
#[derive(Debug, Clone)]
pub struct LockfilePlan {
    /// Log entries.
    pub entries: u64,
    /// Trust statements among them.
    pub trust: u64,
    /// Signing keys.
    pub keys: u64,
    /// Packages in the log (3 versions each).
    pub packages: u64,
    /// Packages in the lockfile.
    pub lockfile: u64,
    /// Timed runs per mode.
    pub reps: usize,
    /// Where the generated log lives (reused when it matches the plan).
    pub data: PathBuf,
    /// Serve the log and write the policy and lockfile, then wait, instead of timing runs
    /// (to look into a run by hand).
    pub serve: bool,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key(n: u64) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&n.to_be_bytes());
    seed[31] = 0xb7;
    SigningKey::from_bytes(&seed)
}

fn package(n: u64) -> String {
    format!("pkg:cargo/crate-{n:06}")
}

fn digest(package: u64, version: u64) -> [u8; 32] {
    Sha256::digest(format!("{package}/{version}").as_bytes()).into()
}

fn log_signer() -> anyhow::Result<Ed25519Signer> {
    Ed25519Signer::from_seed(ORIGIN, &[0x42; 32]).context("log key")
}

fn witness() -> anyhow::Result<CosignatureSigner> {
    CosignatureSigner::from_seed("bench-witness", &[0x43; 32]).context("witness key")
}

impl LockfilePlan {
    /// The spacing of trust statements.
    fn trust_every(&self) -> u64 {
        (self.entries / self.trust.max(1)).max(1)
    }

    /// What entry `index` says: (signer, predicate, subjects).
    fn plan(&self, index: u64, publics: &[[u8; 32]]) -> (u64, Predicate, Vec<Subject>) {
        let mut rng = index ^ 0x5eed;
        let every = self.trust_every();
        if index % every == every / 2 && index / every < self.trust {
            let t = index / every;
            let (from, to, level) = if t < 100 {
                (0, 1 + t, TrustLevel::High)
            } else if t < FIRST_UNREACHED - 1 {
                (1 + (t - 100) / 100, 101 + (t - 100), TrustLevel::Medium)
            } else {
                let span = self.keys - FIRST_UNREACHED;
                (
                    FIRST_UNREACHED + splitmix(&mut rng) % span,
                    FIRST_UNREACHED + splitmix(&mut rng) % span,
                    TrustLevel::High,
                )
            };
            let subject = publics[to as usize];
            return (
                from,
                Predicate::Trust(Trust {
                    key: hex::encode(subject),
                    level,
                    scope: None,
                    comment: Some(format!("bench {index}")),
                }),
                vec![Subject::key(&subject)],
            );
        }
        let pkg = splitmix(&mut rng) % self.packages;
        let version = splitmix(&mut rng) % 3;
        let signer = splitmix(&mut rng) % self.keys;
        let purl = format!("{}@1.0.{version}", package(pkg));
        let subjects = vec![Subject::package_version(&purl, digest(pkg, version))];
        let comment = Some(format!("bench {index}"));
        let predicate = match splitmix(&mut rng) % 100 {
            0..=89 => Predicate::Adoption(Adoption {
                status: AdoptionStatus::Adopted,
                comment,
            }),
            90..=98 => Predicate::Audit(Audit {
                verdict: Verdict::Pass,
                criteria: vec!["safe-to-deploy".into()],
                capabilities: Some(vec![]),
                notes: comment,
            }),
            _ => Predicate::Adoption(Adoption {
                status: AdoptionStatus::Rejected,
                comment,
            }),
        };
        (signer, predicate, subjects)
    }

    fn marker(&self) -> String {
        format!(
            "entries={} trust={} keys={} packages={} format=1",
            self.entries, self.trust, self.keys, self.packages
        )
    }
}

/// Signs entries `range` on every core.
fn sign_range(
    plan: &LockfilePlan,
    range: std::ops::Range<u64>,
    keys: &[SigningKey],
    publics: &[[u8; 32]],
) -> anyhow::Result<Vec<NewEntry>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let indices: Vec<u64> = range.collect();
    let chunk = indices.len().div_ceil(threads).max(1);
    let results: Vec<anyhow::Result<Vec<NewEntry>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = indices
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> anyhow::Result<Vec<NewEntry>> {
                    let mut out = Vec::with_capacity(part.len());
                    for &index in part {
                        let (signer, predicate, subjects) = plan.plan(index, publics);
                        let statement = predicate.into_statement(subjects);
                        let validated = validate_statement(&statement)
                            .map_err(|e| anyhow::anyhow!("entry {index}: {e}"))?;
                        let key = &keys[signer as usize];
                        let envelope =
                            Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), key);
                        let envelope_digest = envelope.digest();
                        let public = publics[signer as usize];
                        let entry = LogEntry {
                            receipt_time_millis: 1_700_000_000_000 + index as i64,
                            envelope,
                            public_key: public,
                        }
                        .into_bytes()
                        .map_err(|e| anyhow::anyhow!("entry {index}: {e}"))?;
                        out.push(NewEntry {
                            index,
                            entry,
                            envelope_digest,
                            signer: public,
                            received_ms: 1_700_000_000_000 + index as i64,
                            subjects: log_index_subjects(&validated, &public),
                        });
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a signing thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(indices.len());
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

/// Generates the log into `plan.data` unless it is already there.
async fn generate(plan: &LockfilePlan) -> anyhow::Result<()> {
    let marker = plan.data.join("plan.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(plan.marker().as_str()) {
        eprintln!("reusing the log in {}", plan.data.display());
        return Ok(());
    }
    if plan.data.exists() {
        std::fs::remove_dir_all(&plan.data)
            .with_context(|| format!("clearing {}", plan.data.display()))?;
    }
    let started = Instant::now();
    eprintln!(
        "generating a log of {} entries in {} (once)",
        plan.entries,
        plan.data.display()
    );
    let keys: Vec<SigningKey> = (0..plan.keys).map(key).collect();
    let publics: Vec<[u8; 32]> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
    let storage = Storage::open_dir(&plan.data).await?;
    let signer = log_signer()?;
    let witness = witness()?;
    let mut tree = MemoryTree::new();
    let mut previous: Option<u64> = None;
    let mut start = 0;
    while start < plan.entries {
        let end = (start + BATCH).min(plan.entries);
        let entries = sign_range(plan, start..end, &keys, &publics)?;
        let first_hash = tree.stored_hashes().len();
        for e in &entries {
            tree.append(&e.entry);
        }
        let hashes = tree.stored_hashes()[first_hash..].to_vec();
        storage.append(&entries, first_hash as u64, &hashes).await?;
        if end.is_multiple_of(CHECKPOINT_EVERY) || end == plan.entries {
            let root = tree.root();
            let note = Checkpoint {
                origin: ORIGIN.into(),
                size: end,
                root_hash: root,
                extensions: vec![],
            }
            .sign(&[&signer])?;
            let note = String::from_utf8(note)?;
            let stored = StoredCheckpoint {
                size: end,
                root,
                note: note.clone(),
            };
            ensure!(
                storage.store_checkpoint_cas(previous, &stored, 0).await?,
                "storing checkpoint {end}"
            );
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let line = witness.cosign_note(note.as_bytes(), now)?;
            storage
                .record_cosignature(end, "bench-witness", &line, now, 0)
                .await?;
            previous = Some(end);
        }
        eprintln!("  {end} entries ({:.0} s)", started.elapsed().as_secs_f64());
        start = end;
    }
    storage.close().await;
    std::fs::write(&marker, plan.marker())?;
    eprintln!("generated in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Runs `quorum` and returns its time and JSON output.
fn quorum(
    bin: &Path,
    state: &Path,
    policy: &Path,
    args: &[&str],
) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("--state-dir")
        .arg(state)
        .arg("--policy")
        .arg(policy)
        .arg("--json")
        .args(args)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let elapsed = started.elapsed();
    if !matches!(out.status.code(), Some(0..=2)) {
        bail!(
            "quorum {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("quorum's JSON")?;
    Ok((elapsed, v))
}

fn verdicts(v: &Value) -> Vec<(String, String)> {
    v["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["purl"].as_str().unwrap_or_default().to_string(),
                d["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Runs the benchmark and returns its results as JSON.
pub fn run(plan: &LockfilePlan) -> anyhow::Result<Value> {
    ensure!(
        plan.trust >= FIRST_UNREACHED,
        "--trust must be at least {FIRST_UNREACHED}"
    );
    ensure!(
        plan.keys > FIRST_UNREACHED,
        "--keys must be more than {FIRST_UNREACHED}"
    );
    ensure!(
        plan.lockfile <= plan.packages,
        "--lockfile must be at most --packages"
    );
    let quorum_bin = std::env::current_exe()?
        .parent()
        .map(|d| d.join("quorum"))
        .context("the directory of quorum-bench")?;
    ensure!(
        quorum_bin.is_file(),
        "{} is not built: cargo build --release -p quorum-cli",
        quorum_bin.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(generate(plan))?;
    let cfg = quorum_log::config::Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: plan.data.clone(),
        checkpoint_interval_ms: 3_600_000,
        ..quorum_log::config::Config::default()
    };
    let server = runtime.block_on(quorum_log::server::start(cfg, log_signer()?))?;
    let url = format!("http://{}", server.addr);

    let work = tempfile::tempdir()?;
    let policy = work.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\nurl = \"{url}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness bench {}\nquorum bench\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n\n[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 2\n",
            log_signer()?.vkey(),
            witness()?.vkey(),
            hex::encode(key(0).verifying_key().to_bytes()),
        ),
    )?;
    let lock = work.path().join("Cargo.lock");
    let mut text = String::from("version = 4\n");
    for p in 0..plan.lockfile {
        text.push_str(&format!(
            "\n[[package]]\nname = \"crate-{p:06}\"\nversion = \"1.0.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            hex::encode(digest(p, 1))
        ));
    }
    std::fs::write(&lock, text)?;
    let lock = lock.display().to_string();
    if plan.serve {
        let keep = work.keep();
        eprintln!(
            "serving {url}; policy {}, lockfile {lock}; stop with Ctrl-C",
            keep.join("policy.toml").display()
        );
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let verify = ["verify", "--lockfile", lock.as_str()];

    // One untimed cold run first, as any benchmark warms up: the log server was just started
    // on a database of about a gigabyte, and a server that has answered once is what a client
    // meets in practice. The client's side stays cold in every timed run (a fresh state).
    let (t, _) = quorum(&quorum_bin, &work.path().join("warm-up"), &policy, &verify)?;
    eprintln!(
        "online cold, warm-up (not counted): {:.3} s",
        t.as_secs_f64()
    );
    let mut cold = Vec::new();
    let mut reference = None;
    for rep in 0..plan.reps {
        let state = work.path().join(format!("cold-{rep}"));
        let (t, v) = quorum(&quorum_bin, &state, &policy, &verify)?;
        eprintln!("online cold: {:.3} s", t.as_secs_f64());
        reference.get_or_insert_with(|| verdicts(&v));
        cold.push(t);
    }
    let warm_state = work.path().join("warm");
    quorum(&quorum_bin, &warm_state, &policy, &verify)?;
    let mut warm = Vec::new();
    for _ in 0..plan.reps {
        let (t, v) = quorum(&quorum_bin, &warm_state, &policy, &verify)?;
        eprintln!("online warm: {:.3} s", t.as_secs_f64());
        ensure!(
            Some(verdicts(&v)) == reference,
            "warm and cold runs disagree"
        );
        warm.push(t);
    }
    let mirror_state = work.path().join("mirror");
    let (sync, sync_out) = quorum(&quorum_bin, &mirror_state, &policy, &["mirror", "--quiet"])?;
    eprintln!("mirror sync: {:.1} s", sync.as_secs_f64());
    // The sync just wrote about a gigabyte: let the kernel write it back before timing reads.
    let synced = std::process::Command::new("sync").status();
    if !synced.is_ok_and(|s| s.success()) {
        eprintln!("warning: `sync` did not run; the first mirror runs may include write-back");
    }
    let mut mirrored = Vec::new();
    for _ in 0..plan.reps {
        let (t, v) = quorum(
            &quorum_bin,
            &mirror_state,
            &policy,
            &["verify", "--mirror", "--lockfile", &lock],
        )?;
        eprintln!("mirror: {:.3} s", t.as_secs_f64());
        ensure!(
            Some(verdicts(&v)) == reference,
            "the mirror and the online runs disagree"
        );
        mirrored.push(t);
    }
    let counts = reference.unwrap_or_default().iter().fold(
        std::collections::BTreeMap::<String, usize>::new(),
        |mut m, (_, verdict)| {
            *m.entry(verdict.clone()).or_default() += 1;
            m
        },
    );
    let out = json!({
        "entries": plan.entries,
        "trust_statements": plan.trust,
        "lockfile_packages": plan.lockfile,
        "reps": plan.reps,
        "online_cold_median_s": median(&mut cold).as_secs_f64(),
        "online_warm_median_s": median(&mut warm).as_secs_f64(),
        "mirror_median_s": median(&mut mirrored).as_secs_f64(),
        "mirror_sync_s": sync.as_secs_f64(),
        "mirror_sync_entries_per_s": sync_out["entries_per_second"],
        "verdicts": counts,
    });
    runtime.block_on(server.shutdown())?;
    Ok(out)
}
