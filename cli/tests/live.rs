//! The `quorum` CLI against a live log: the real `quorum-log` and `quorum-witness` binaries
//! as child processes on loopback ports, SQLite data in temporary directories.
//!
//! Covers publishing with verified receipts (and a tampered receipt failing), `quorum
//! mirror` with resumption (after new entries, and after a crash left a partial append),
//! and `verify --mirror` giving the same decisions as the served evidence, with
//! completeness `complete` instead of `served`.
//!
//! Needs the other binaries built: `cargo build -p quorum-log -p quorum-witness` (a
//! workspace test run builds them).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{ChildGuard, free_port, wait_http, workspace_binary};

const ORIGIN: &str = "live.test/log";

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env_remove("QUORUM_HOME")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn first_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A log with one witness whose cosignature it requires before publishing a checkpoint.
struct LiveLog {
    _witness: ChildGuard,
    _log: ChildGuard,
    url: String,
    log_vkey: String,
    witness_vkey: String,
}

fn start_log(dir: &Path) -> LiveLog {
    let witness_bin = workspace_binary("quorum-witness");
    let log_bin = workspace_binary("quorum-log");
    let wdir = dir.join("witness");
    let wkey = dir.join("witness.key");
    let witness_vkey = first_line(&run(
        &witness_bin,
        &[
            "keygen",
            "--name",
            "w1.live.test",
            "--out",
            &wkey.display().to_string(),
            "--data-dir",
            &wdir.display().to_string(),
        ],
    ));
    let log_key = dir.join("log.key");
    let log_vkey = first_line(&run(
        &log_bin,
        &[
            "keygen",
            "--origin",
            ORIGIN,
            "--out",
            &log_key.display().to_string(),
        ],
    ));
    first_line(&run(
        &witness_bin,
        &[
            "add-log",
            "--data-dir",
            &wdir.display().to_string(),
            "--origin",
            ORIGIN,
            "--key",
            &log_vkey,
        ],
    ));
    let wport = free_port();
    let witness = ChildGuard::spawn(
        "quorum-witness",
        &witness_bin,
        &[
            "serve",
            "--data-dir",
            &wdir.display().to_string(),
            "--key-file",
            &wkey.display().to_string(),
            "--listen",
            &format!("127.0.0.1:{wport}"),
        ],
        &dir.join("witness.log"),
    );
    wait_http(&format!("http://127.0.0.1:{wport}/healthz"));
    let port = free_port();
    let config = dir.join("log.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\nkey_file = \"{}\"\ncheckpoint_interval_ms = 100\nrequired_cosignatures = 1\n\n[[witnesses]]\nurl = \"http://127.0.0.1:{wport}\"\nvkey = \"{witness_vkey}\"\n",
            dir.join("log").display(),
            log_key.display()
        ),
    )
    .expect("write log config");
    let log = ChildGuard::spawn(
        "quorum-log",
        &log_bin,
        &["serve", "--config", &config.display().to_string()],
        &dir.join("log.log"),
    );
    let url = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{url}/healthz"));
    LiveLog {
        _witness: witness,
        _log: log,
        url,
        log_vkey,
        witness_vkey,
    }
}

/// A person with a state directory and a key, sharing one policy file.
struct Person {
    state: PathBuf,
    public: String,
}

struct World {
    dir: tempfile::TempDir,
    _live: LiveLog,
    policy: PathBuf,
    me: Person,
    alice: Person,
    mallory: Person,
}

fn quorum(who: &Person, policy: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(&who.state)
        .arg("--policy")
        .arg(policy)
        .args(args)
        .env_remove("QUORUM_HOME")
        .output()
        .unwrap_or_else(|e| panic!("running quorum: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "quorum panicked: {stderr}");
    out
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn person(dir: &Path, name: &str) -> Person {
    let state = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(&state)
        .args(["--json", "keygen", "--name", name])
        .env_remove("QUORUM_HOME")
        .output()
        .expect("keygen");
    let v = json(&out);
    Person {
        state,
        public: v["public_key"].as_str().unwrap_or_default().to_string(),
    }
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = start_log(dir.path());
    let me = person(dir.path(), "me");
    let alice = person(dir.path(), "alice");
    let mallory = person(dir.path(), "mallory");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\nurl = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w1 {}\nquorum w1\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n\n[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 2\n",
            live.log_vkey, live.url, live.witness_vkey, me.public
        ),
    )
    .expect("write policy");
    World {
        dir,
        _live: live,
        policy,
        me,
        alice,
        mallory,
    }
}

const DIGEST: &str = "abababababababababababababababababababababababababababababababab";

fn receipts(who: &Person) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(who.state.join("receipts"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn decisions(v: &Value) -> Vec<(String, String)> {
    v["decisions"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        d["purl"].as_str().unwrap_or_default().to_string(),
                        d["verdict"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn publish_receipts_mirror_and_verify_against_a_live_log() {
    let w = world();
    let p = &w.policy;

    // Publishing: every command verifies its receipt before saving it.
    let out = quorum(
        &w.me,
        p,
        &["--json", "trust", &w.alice.public, "--level", "high"],
    );
    let v = json(&out);
    assert_eq!(v["verified"]["origin"], ORIGIN, "{v}");
    assert!(
        v["verified"]["witnessed_at"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    for (who, version) in [
        (&w.me, "1.0.0"),
        (&w.alice, "1.0.0"),
        (&w.alice, "2.0.0"),
        (&w.mallory, "2.0.0"),
        (&w.me, "2.0.0"),
    ] {
        ok(&quorum(
            who,
            p,
            &[
                "adopt",
                &format!("pkg:cargo/serde@{version}"),
                "--digest",
                DIGEST,
            ],
        ));
    }
    let out = ok(&quorum(
        &w.alice,
        p,
        &[
            "advise",
            "pkg:cargo/serde",
            "MAL-2025-0001",
            "--malicious",
            "--affected",
            "3.0.0",
        ],
    ));
    assert!(out.contains("receipt verified"), "{out}");

    // A saved receipt verifies offline; a tampered one does not (exit 3).
    let saved = receipts(&w.alice);
    assert_eq!(saved.len(), 3, "{saved:?}");
    let receipt_path = saved[0].display().to_string();
    let out = ok(&quorum(&w.alice, p, &["receipt", "verify", &receipt_path]));
    assert!(out.contains("receipt valid"), "{out}");
    let original: Value =
        serde_json::from_slice(&std::fs::read(&saved[0]).expect("read receipt")).expect("json");
    let tampered_path = w.dir.path().join("tampered.json");
    let mut tampered = original.clone();
    tampered["index"] = Value::from(original["index"].as_u64().unwrap_or(0) + 1);
    std::fs::write(&tampered_path, tampered.to_string()).expect("write");
    let t = tampered_path.display().to_string();
    assert_eq!(
        quorum(&w.alice, p, &["receipt", "verify", &t])
            .status
            .code(),
        Some(3)
    );
    // Another entry's bytes in place of this one's.
    let other: Value =
        serde_json::from_slice(&std::fs::read(&saved[1]).expect("read receipt")).expect("json");
    let mut swapped = original.clone();
    swapped["entry"] = other["entry"].clone();
    std::fs::write(&tampered_path, swapped.to_string()).expect("write");
    assert_eq!(
        quorum(&w.alice, p, &["receipt", "verify", &t])
            .status
            .code(),
        Some(3)
    );
    // A proof whose checkpoint lost its witness cosignature fails the witness quorum.
    let proof = original["tlog_proof"].as_str().unwrap_or_default();
    let stripped: String = proof
        .lines()
        .filter(|l| !l.contains("w1.live.test"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut unwitnessed = original.clone();
    unwitnessed["tlog_proof"] = Value::from(stripped);
    std::fs::write(&tampered_path, unwitnessed.to_string()).expect("write");
    assert_eq!(
        quorum(&w.alice, p, &["receipt", "verify", &t])
            .status
            .code(),
        Some(3)
    );
    // Not a receipt at all: input error.
    std::fs::write(&tampered_path, "{}").expect("write");
    assert_eq!(
        quorum(&w.alice, p, &["receipt", "verify", &t])
            .status
            .code(),
        Some(64)
    );

    // Mirror the log.
    let out = quorum(&w.me, p, &["--json", "mirror"]);
    let first = json(&out);
    let size = first["size"].as_u64().unwrap_or(0);
    assert_eq!(size, 7, "{first}");
    assert_eq!(first["fetched"], 7);

    // Served evidence and the mirror give the same decisions; only completeness differs.
    let lock = w.dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        format!(
            "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{DIGEST}\"\n\n[[package]]\nname = \"serde\"\nversion = \"2.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{DIGEST}\"\n\n[[package]]\nname = \"serde\"\nversion = \"3.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{DIGEST}\"\n"
        ),
    )
    .expect("write lockfile");
    let lock_arg = lock.display().to_string();
    let served = quorum(&w.me, p, &["--json", "verify", "--lockfile", &lock_arg]);
    let mirrored = quorum(
        &w.me,
        p,
        &["--json", "verify", "--mirror", "--lockfile", &lock_arg],
    );
    assert_eq!(
        served.status.code(),
        Some(1),
        "the malicious 3.0.0 is denied"
    );
    assert_eq!(served.status.code(), mirrored.status.code());
    let (sv, mv) = (json(&served), json(&mirrored));
    assert_eq!(decisions(&sv), decisions(&mv));
    assert_eq!(
        decisions(&sv),
        vec![
            ("pkg:cargo/serde@1.0.0".to_string(), "allow".to_string()),
            // mallory is not trusted: me and alice are the two adopters that count.
            ("pkg:cargo/serde@2.0.0".to_string(), "allow".to_string()),
            ("pkg:cargo/serde@3.0.0".to_string(), "deny".to_string()),
        ]
    );
    let rechecked = quorum(
        &w.me,
        p,
        &[
            "--json",
            "verify",
            "--mirror",
            "--recheck-signatures",
            "--lockfile",
            &lock_arg,
        ],
    );
    assert_eq!(decisions(&json(&rechecked)), decisions(&mv));
    assert_eq!(sv["completeness"], "served");
    assert_eq!(mv["completeness"], "complete");
    assert_eq!(mv["decisions"][0]["completeness"], "complete");
    assert_eq!(mv["decisions"][0]["checkpoint"]["size"], 7);
    assert_eq!(
        sv["decisions"][1]["counted"], mv["decisions"][1]["counted"],
        "the same entries count"
    );

    // More entries, then mirror again: only the new ones are fetched.
    ok(&quorum(
        &w.alice,
        p,
        &[
            "attest",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            DIGEST,
            "--verdict",
            "fail",
            "--criteria",
            "safe-to-deploy",
        ],
    ));
    let second = json(&quorum(&w.me, p, &["--json", "mirror"]));
    assert_eq!(second["size"], 8, "{second}");
    assert_eq!(second["fetched"], 1, "resumed where it stopped: {second}");
    let out = quorum(
        &w.me,
        p,
        &["--json", "verify", "--mirror", "pkg:cargo/serde@1.0.0"],
    );
    assert_eq!(out.status.code(), Some(1), "alice's failed audit vetoes");

    // A crash mid-append leaves bytes past the progress record: the next run drops them
    // and resumes.
    ok(&quorum(
        &w.mallory,
        p,
        &["adopt", "pkg:cargo/rand@0.9.0", "--digest", DIGEST],
    ));
    let mirror_dir = std::fs::read_dir(w.me.state.join("mirror"))
        .expect("mirror dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .next()
        .expect("one mirrored log");
    for file in ["entries.bin", "leaves.bin", "index.bin"] {
        let path = mirror_dir.join(file);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend_from_slice(&[0x55; 37]);
        std::fs::write(&path, bytes).expect("write");
    }
    let third = json(&quorum(&w.me, p, &["--json", "mirror"]));
    assert_eq!(third["size"], 9, "{third}");
    assert_eq!(third["fetched"], 1, "{third}");
    let out = quorum(
        &w.me,
        p,
        &["--json", "verify", "--mirror", "pkg:cargo/rand@0.9.0"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "only an untrusted adopter: insufficient"
    );
    let v = json(&out);
    assert_eq!(v["decisions"][0]["rejected"][0]["index"], 8, "{v}");

    // A damaged mirror is refused, not believed.
    let leaves = mirror_dir.join("leaves.bin");
    let mut bytes = std::fs::read(&leaves).expect("read");
    bytes[0] ^= 1;
    std::fs::write(&leaves, bytes).expect("write");
    let out = quorum(&w.me, p, &["verify", "--mirror", "pkg:cargo/serde@1.0.0"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Without a policy the receipt is kept unverified, with a warning; it verifies later.
    let nowhere = w.dir.path().join("no-policy.toml").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(&w.mallory.state)
        .args(["--policy", &nowhere, "--log", &w._live.url, "--json"])
        .args(["adopt", "pkg:cargo/rand@0.8.0", "--digest", DIGEST])
        .env_remove("QUORUM_HOME")
        .output()
        .expect("run quorum");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unverified"));
    let v = json(&out);
    assert!(v["verified"].is_null(), "{v}");
    let saved = receipts(&w.mallory);
    let unverified = saved
        .iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| !t.contains("\"verified\"")))
        .expect("the unverified receipt")
        .display()
        .to_string();
    // Not knowing the witnesses, the client waited only for the log's own signature: the
    // receipt's checkpoint lacks the cosignature the policy requires.
    let out = quorum(&w.mallory, p, &["receipt", "verify", &unverified]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("witness quorum"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Submits `count` adoptions by fresh keys straight to the log's batch API, then waits until
/// the published (cosigned) checkpoint covers them.
fn fill_log(url: &str, count: usize) -> u64 {
    use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
    use quorum_verifier::model::predicates::{Adoption, AdoptionStatus, Predicate};
    use quorum_verifier::model::statement::Subject;
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client");
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let items: Vec<Value> = chunk
            .iter()
            .map(|&i| {
                let mut seed = [9u8; 32];
                seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
                let key = SigningKey::from_bytes(&seed);
                let statement = Predicate::Adoption(Adoption {
                    status: AdoptionStatus::Adopted,
                    comment: None,
                })
                .into_statement(vec![Subject::package_version(
                    &format!("pkg:cargo/filler-{}@1.0.0", i % 100),
                    [1; 32],
                )]);
                let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &key);
                serde_json::json!({
                    "envelope": serde_json::from_str::<Value>(&envelope.to_json()).expect("json"),
                    "publicKey": format!("ed25519:{}", hex::encode(key.verifying_key().to_bytes())),
                })
            })
            .collect();
        let resp = client
            .post(format!("{url}/v1/statements"))
            .json(&serde_json::json!({ "envelopes": items }))
            .send()
            .expect("submit batch");
        assert!(resp.status().is_success(), "{:?}", resp.text());
    }
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{url}/checkpoint")).send()
            && let Ok(text) = r.text()
            && let Some(size) = text.lines().nth(1).and_then(|l| l.parse::<u64>().ok())
            && size >= count as u64
        {
            return size;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the log did not publish a cosigned checkpoint of size {count}");
}

fn downloaded_size(mirror_root: &Path) -> Option<u64> {
    let dir = std::fs::read_dir(mirror_root)
        .ok()?
        .filter_map(|e| e.ok())
        .next()?;
    let bytes = std::fs::read(dir.path().join("progress.json")).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v["downloaded"]["size"].as_u64()
}

#[test]
fn mirror_killed_mid_sync_resumes() {
    let w = world();
    let total = fill_log(&w._live.url, 12_000);
    let mirror_root = w.me.state.join("mirror");
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(&w.me.state)
        .arg("--policy")
        .arg(&w.policy)
        .args(["mirror", "--quiet"])
        .env_remove("QUORUM_HOME")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start quorum mirror");
    // Kill it as soon as a first batch is on disk.
    let started = std::time::Instant::now();
    while downloaded_size(&mirror_root).unwrap_or(0) == 0
        && started.elapsed() < std::time::Duration::from_secs(30)
    {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    let recorded = downloaded_size(&mirror_root).expect("progress after the kill");
    eprintln!("killed quorum mirror with {recorded} of {total} entries recorded");
    assert!(recorded > 0);
    let v = json(&quorum(&w.me, &w.policy, &["--json", "mirror"]));
    assert_eq!(v["size"], total, "{v}");
    assert_eq!(
        v["fetched"].as_u64(),
        Some(total - recorded),
        "resumed after the {recorded} entries recorded before the kill: {v}"
    );
    // The resumed mirror answers like the log.
    let out = quorum(
        &w.me,
        &w.policy,
        &["--json", "verify", "--mirror", "pkg:cargo/filler-7@1.0.0"],
    );
    let v = json(&out);
    assert_eq!(v["decisions"][0]["completeness"], "complete");
    assert_eq!(
        v["decisions"][0]["rejected"].as_array().map(Vec::len),
        Some(120),
        "every filler adoption is found and none counts (untrusted keys)"
    );
}
