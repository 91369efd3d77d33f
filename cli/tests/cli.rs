//! End-to-end tests of the `quorum` binary: keys, offline publishing, offline verification
//! from bundles built here with real signatures and real Merkle proofs, exit codes, JSON,
//! lockfiles, and malformed input.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quorum_c2sp::checkpoint::Checkpoint;
use quorum_c2sp::cosignature::CosignatureSigner;
use quorum_c2sp::merkle::{MemoryTree, prove_batch_inclusion};
use quorum_c2sp::note::Ed25519Signer;
use quorum_proto::prost::Message;
use quorum_proto::v1;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::index::{TRUST_GRAPH_KEY, index_keys};
use quorum_verifier::model::log_entry::{LogEntry, verify_log_entry};
use quorum_verifier::model::predicates::{Adoption, AdoptionStatus, Predicate};
use quorum_verifier::model::statement::Subject;
use serde_json::Value;

const ORIGIN: &str = "quorum.test/log";
const WITNESSED_AT: u64 = 1_750_000_000;

fn witness() -> CosignatureSigner {
    CosignatureSigner::from_seed("witness.test", &[5; 32]).unwrap_or_else(|e| panic!("{e}"))
}

fn quorum(state: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .env_remove("QUORUM_HOME")
        .output()
        .unwrap_or_else(|e| panic!("running quorum: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "quorum panicked: {stderr}");
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn write(path: &Path, text: &[u8]) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// A toy log: entries, a Merkle tree and a checkpoint signer.
struct TestLog {
    signer: Ed25519Signer,
    tree: MemoryTree,
    entries: Vec<Vec<u8>>,
}

impl TestLog {
    fn new() -> TestLog {
        TestLog {
            signer: Ed25519Signer::from_seed(ORIGIN, &[7; 32]).unwrap_or_else(|e| panic!("{e}")),
            tree: MemoryTree::new(),
            entries: Vec::new(),
        }
    }

    fn add(&mut self, key: &SigningKey, predicate: Predicate, subjects: Vec<Subject>) -> u64 {
        let statement = predicate.into_statement(subjects);
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), key);
        let bytes = LogEntry {
            receipt_time_millis: 1_700_000_000_000,
            envelope,
            public_key: key.verifying_key().to_bytes(),
        }
        .encode()
        .unwrap_or_else(|e| panic!("{e}"));
        self.entries.push(bytes.clone());
        self.tree.append(&bytes)
    }

    fn checkpoint_note(&self, size: u64, signer: &Ed25519Signer) -> Vec<u8> {
        let root = self.tree.root_at(size).unwrap_or_else(|e| panic!("{e}"));
        let root = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root_hash: root,
            extensions: vec![],
        }
        .sign(&[signer])
        .unwrap_or_else(|e| panic!("{e}"));
        quorum_c2sp::note::add_signatures(&root, &[&witness().at(WITNESSED_AT)])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Saved evidence (an `EvidenceSet`, as `quorum fetch` writes it) under the checkpoint of
    /// `size`: one page covering, from index 0 to `size`, the trust graph and every package
    /// of the log, and consistency proofs from each smaller size given.
    fn bundle(&self, size: u64, consistency_from: &[u64]) -> v1::EvidenceSet {
        let mut by_key: std::collections::BTreeMap<String, Vec<u64>> =
            std::collections::BTreeMap::new();
        by_key.insert(TRUST_GRAPH_KEY.to_string(), Vec::new());
        for i in 0..size {
            let entry =
                verify_log_entry(&self.entries[i as usize]).unwrap_or_else(|e| panic!("{e}"));
            for key in index_keys(&entry.statement) {
                by_key.entry(key).or_default().push(i);
            }
        }
        let indices: Vec<u64> = (0..size)
            .filter(|i| by_key.values().any(|v| v.contains(i)))
            .collect();
        let page = v1::EvidencePage {
            tree_size: size,
            ranges: by_key
                .into_iter()
                .map(|(key, indices)| v1::KeyRange {
                    key,
                    start: 0,
                    end: size,
                    indices,
                })
                .collect(),
            entries: indices
                .iter()
                .map(|&i| v1::PageEntry {
                    index: i,
                    log_entry: self.entries[i as usize].clone(),
                })
                .collect(),
            inclusion_proof: prove_batch_inclusion(size, &indices, &self.tree)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|h| h.to_vec())
                .collect(),
            history: vec![],
        };
        v1::EvidenceSet {
            log_origin: ORIGIN.into(),
            checkpoint: self.checkpoint_note(size, &self.signer),
            consistency_proofs: consistency_from
                .iter()
                .map(|&old| v1::ConsistencyProof {
                    old_size: old,
                    new_size: size,
                    hashes: self
                        .tree
                        .prove_consistency(old, size)
                        .unwrap_or_else(|e| panic!("{e}"))
                        .iter()
                        .map(|h| h.to_vec())
                        .collect(),
                })
                .collect(),
            pages: vec![page],
        }
    }
}

fn adoption(status: AdoptionStatus) -> Predicate {
    Predicate::Adoption(Adoption {
        status,
        comment: None,
    })
}

/// The root key of the test policy, and one it trusts through nothing (a stranger).
fn root_key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn stranger_key() -> SigningKey {
    SigningKey::from_bytes(&[2; 32])
}

const SERDE_DIGEST: [u8; 32] = [0xab; 32];

/// A log where the root adopted serde 1.0.0 and reported serde 3.0.0 malicious, a stranger
/// adopted serde 2.0.0, and the root adopted left-pad 1.3.0.
fn standard_log() -> TestLog {
    let mut log = TestLog::new();
    log.add(
        &root_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:cargo/serde@1.0.0",
            SERDE_DIGEST,
        )],
    );
    log.add(
        &stranger_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:cargo/serde@2.0.0",
            SERDE_DIGEST,
        )],
    );
    log.add(
        &root_key(),
        support::malicious_advisory("pkg:cargo/serde", "3.0.0"),
        vec![Subject::package("pkg:cargo/serde")],
    );
    log.add(
        &root_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:npm/left-pad@1.3.0",
            [0xcd; 32],
        )],
    );
    log
}

fn policy_text(log: &TestLog) -> String {
    format!(
        "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\n\n[witnesses]\npolicy = \"\"\"\nwitness w1 {}\nquorum w1\n\"\"\"\n\n[trust]\nroots = [\"{}\"]\n\n[[rule]]\npackages = \"*\"\nmin_adopters = 1\n",
        log.signer.vkey(),
        witness().vkey(),
        hex::encode(root_key().verifying_key().as_bytes())
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    state: PathBuf,
    policy: String,
    bundle: String,
}

fn setup(log: &TestLog, size: u64) -> Setup {
    let dir = tempdir();
    let state = dir.path().join("state");
    let policy = dir.path().join("policy.toml");
    write(&policy, policy_text(log).as_bytes());
    let bundle = dir.path().join("bundle.pb");
    write(&bundle, &log.bundle(size, &[]).encode_to_vec());
    Setup {
        state,
        policy: policy.display().to_string(),
        bundle: bundle.display().to_string(),
        _dir: dir,
    }
}

fn verify(s: &Setup, extra: &[&str]) -> Output {
    let mut args = vec!["--policy", &s.policy, "verify", "--bundle", &s.bundle];
    args.extend_from_slice(extra);
    quorum(&s.state, &args)
}

#[test]
fn keygen_writes_a_private_key_and_prints_the_public_one() {
    let dir = tempdir();
    let out = quorum(dir.path(), &["--json", "keygen", "--name", "alice"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    let public = v["public_key"].as_str().unwrap_or_default();
    assert_eq!(public.len(), 64);
    assert!(
        v["verifier_key"]
            .as_str()
            .unwrap_or_default()
            .starts_with("alice+")
    );
    let key_text = std::fs::read_to_string(dir.path().join("key")).unwrap_or_default();
    assert!(key_text.starts_with("PRIVATE+KEY+alice+"));
    assert!(
        !stdout(&out).contains("PRIVATE"),
        "the private key is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("key"))
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600);
    }
    // No silent overwrite.
    let again = quorum(dir.path(), &["keygen"]);
    assert_eq!(code(&again), 64);
    assert!(stderr(&again).contains("--force"));
}

#[test]
fn attest_to_file_writes_a_verifiable_envelope() {
    let dir = tempdir();
    let out = quorum(dir.path(), &["--json", "keygen"]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    let public = hex::decode(v["public_key"].as_str().unwrap_or_default()).unwrap_or_default();
    let key = quorum_verifier::model::log_entry::parse_verifying_key(&public)
        .unwrap_or_else(|e| panic!("{e}"));
    let env_path = dir.path().join("audit.json");
    let digest = "ab".repeat(32);
    let out = quorum(
        dir.path(),
        &[
            "attest",
            "pkg:cargo/serde@1.0.210",
            "--digest",
            &digest,
            "--verdict",
            "pass",
            "--criteria",
            "safe-to-deploy,safe-to-run",
            "--capabilities",
            "network,unsafe-code",
            "--notes",
            "read it all",
            "--out",
            &env_path.display().to_string(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let bytes = std::fs::read(&env_path).unwrap_or_default();
    let envelope = Envelope::from_json(bytes.trim_ascii()).unwrap_or_else(|e| panic!("{e}"));
    let validated = quorum_verifier::model::log_entry::verify_envelope(&envelope, &key)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        validated.statement.predicate_type,
        quorum_verifier::model::predicates::AUDIT_V1
    );

    // Bad input: no digest, bad purl, unknown capability: usage errors.
    for args in [
        vec![
            "attest",
            "pkg:cargo/serde@1",
            "--verdict",
            "pass",
            "--criteria",
            "x",
            "--dry-run",
        ],
        vec![
            "attest",
            "not a purl",
            "--digest",
            &digest,
            "--verdict",
            "pass",
            "--criteria",
            "x",
            "--dry-run",
        ],
        vec![
            "attest",
            "pkg:cargo/serde@1",
            "--digest",
            &digest,
            "--verdict",
            "pass",
            "--criteria",
            "x",
            "--capabilities",
            "teleport",
            "--dry-run",
        ],
    ] {
        let out = quorum(dir.path(), &args);
        assert_eq!(code(&out), 64, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn publishing_commands_sign_valid_statements() {
    let dir = tempdir();
    assert_eq!(code(&quorum(dir.path(), &["keygen"])), 0);
    let other = hex::encode(stranger_key().verifying_key().as_bytes());
    let lock = dir.path().join("Cargo.lock");
    write(&lock, cargo_lock().as_bytes());
    let lock = lock.display().to_string();
    let digest = "cd".repeat(32);
    let cases: Vec<Vec<&str>> = vec![
        vec!["adopt", "pkg:cargo/serde@1.0.0", "--digest", &digest],
        vec![
            "adopt",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            &digest,
            "--reject",
        ],
        vec!["adopt", "--lockfile", &lock],
        vec!["trust", &other, "--level", "high"],
        vec!["trust", &other, "--distrust"],
        vec![
            "advise",
            "pkg:cargo/openssl",
            "RUSTSEC-2025-0002",
            "--affected",
            "0.10.65",
            "--fixed",
            "0.10.67",
        ],
        vec!["advise", "pkg:npm/evil@1.0.0", "MAL-2025-1", "--malicious"],
        vec!["revoke", &digest, "--reason", "oops"],
        vec![
            "ownership-change",
            "pkg:npm/left-pad",
            "--previous",
            "github:alice",
            "--new",
            "github:mallory",
        ],
    ];
    for args in cases {
        let mut full = args.clone();
        full.push("--dry-run");
        let out = quorum(dir.path(), &full);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        for line in stdout(&out).lines() {
            let env = Envelope::from_json(line.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let statement = quorum_verifier::model::statement::Statement::from_json(&env.payload)
                .unwrap_or_else(|e| panic!("{e}"));
            quorum_verifier::model::predicates::validate_statement(&statement)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }
    // --malicious needs a MAL- id.
    let out = quorum(
        dir.path(),
        &[
            "advise",
            "pkg:npm/evil",
            "CVE-1",
            "--malicious",
            "--dry-run",
        ],
    );
    assert_eq!(code(&out), 64);
    // Submitting with no log anywhere says what to do.
    let out = quorum(
        dir.path(),
        &["adopt", "pkg:cargo/serde@1.0.0", "--digest", &digest],
    );
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("--log"));
}

#[test]
fn verify_bundle_exit_codes_and_json() {
    let log = standard_log();
    let s = setup(&log, 4);

    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("allow"));

    let out = verify(&s, &["pkg:cargo/serde@2.0.0"]);
    assert_eq!(
        code(&out),
        2,
        "a stranger's adoption moves nothing: {}",
        stdout(&out)
    );

    let out = verify(&s, &["pkg:cargo/serde@3.0.0"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));

    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &s.bundle,
            "pkg:cargo/serde@1.0.0",
        ],
    );
    assert_eq!(code(&out), 0);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["completeness"], "served");
    assert_eq!(v["policy_sha256"].as_str().map(str::len), Some(64));
    let d = &v["decisions"][0];
    assert_eq!(d["purl"], "pkg:cargo/serde@1.0.0");
    assert_eq!(d["verdict"], "allow");
    assert_eq!(d["checkpoint"]["origin"], ORIGIN);
    assert_eq!(d["checkpoint"]["size"], 4);
    assert!(d["checkpoint"]["root_hash"].is_string());
    assert_eq!(d["checkpoint"]["time"], WITNESSED_AT);
    assert_eq!(d["entries_counted"], 1);
    assert_eq!(d["counted"][0], 0);

    // explain names the signer's weight and the stranger's rejection.
    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "explain",
            "--bundle",
            &s.bundle,
            "pkg:cargo/serde@2.0.0",
        ],
    );
    assert_eq!(code(&out), 2);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    let rejected = v["rejected"].as_array().cloned().unwrap_or_default();
    assert!(
        rejected
            .iter()
            .any(|r| r["index"] == 1 && r["reason"].as_str().unwrap_or("").contains("not reached")),
        "{v}"
    );
    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "explain",
            "--bundle",
            &s.bundle,
            "pkg:cargo/serde@1.0.0",
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    assert!(
        v["counted"][0]["weight"].as_f64().unwrap_or(0.0) > 0.0,
        "{v}"
    );
}

fn cargo_lock() -> String {
    format!(
        "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
        hex::encode(SERDE_DIGEST)
    )
}

#[test]
fn verify_lockfiles() {
    let log = standard_log();
    let s = setup(&log, 4);
    let dir = tempdir();
    let cargo = dir.path().join("Cargo.lock");
    write(&cargo, cargo_lock().as_bytes());
    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &s.bundle,
            "--lockfile",
            &cargo.display().to_string(),
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    let decisions = v["decisions"].as_array().cloned().unwrap_or_default();
    assert!(
        decisions
            .iter()
            .any(|d| d["purl"] == "pkg:cargo/serde@1.0.0" && d["verdict"] == "allow"),
        "{v}"
    );
    // The local crate `app` (no registry source) is not a dependency to decide on.
    assert_eq!(code(&out), 0, "{v}");
    assert_eq!(decisions.len(), 1, "{v}");

    // The lockfile pins the artifact the root adopted (SRI sha256 of [0xcd; 32]): the
    // adoption is bound to it and counts.
    let npm = dir.path().join("package-lock.json");
    write(
        &npm,
        br#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,
            "packages":{"":{"name":"app","version":"1.0.0"},
              "node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha256-zc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc0="}}}"#,
    );
    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &s.bundle,
            "--lockfile",
            &npm.display().to_string(),
        ],
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    assert_eq!(v["decisions"][0]["purl"], "pkg:npm/left-pad@1.3.0");
    assert_eq!(v["decisions"][0]["verdict"], "allow", "{v}");

    // A broken lockfile is an input error.
    let bad = dir.path().join("package-lock.json");
    write(&bad, b"{\"lockfileVersion\": 3, \"packages\": [");
    let out = quorum(
        &s.state,
        &[
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &s.bundle,
            "--lockfile",
            &bad.display().to_string(),
        ],
    );
    assert_eq!(code(&out), 64, "{}", stderr(&out));
}

#[test]
fn evidence_that_fails_verification_exits_3() {
    let log = standard_log();
    let s = setup(&log, 4);

    // A checkpoint signed by another key.
    let forger = Ed25519Signer::from_seed(ORIGIN, &[9; 32]).unwrap_or_else(|e| panic!("{e}"));
    let mut bundle = log.bundle(4, &[]);
    bundle.checkpoint = log.checkpoint_note(4, &forger);
    write(Path::new(&s.bundle), &bundle.encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));

    // A checkpoint without the witness's cosignature: no quorum.
    let mut bundle = log.bundle(4, &[]);
    bundle.checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 4,
        root_hash: log.tree.root_at(4).unwrap_or_else(|e| panic!("{e}")),
        extensions: vec![],
    }
    .sign(&[&log.signer])
    .unwrap_or_else(|e| panic!("{e}"));
    write(Path::new(&s.bundle), &bundle.encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));

    // A tampered entry (the page holds the whole tree, so its batch proof is empty): the
    // page does not verify, so nothing in it counts and there is no verdict.
    let mut bundle = log.bundle(4, &[]);
    if let Some(b) = bundle.pages[0].entries[0].log_entry.last_mut() {
        *b ^= 1;
    }
    write(Path::new(&s.bundle), &bundle.encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("not proven included"),
        "{}",
        stderr(&out)
    );

    // Evidence that leaves out an entry about the package while saying it covers it: the
    // entry (index 0, the root's adoption of serde 1.0.0) is served under another key, so
    // the omission shows.
    let mut bundle = log.bundle(4, &[]);
    for range in &mut bundle.pages[0].ranges {
        if range.key == "pkg:cargo/serde" {
            range.indices.retain(|&i| i != 0);
        }
    }
    bundle.pages[0].ranges.push(v1::KeyRange {
        key: "pkg:npm/other".into(),
        start: 0,
        end: 4,
        indices: vec![0],
    });
    bundle.pages[0].ranges.sort_by(|a, b| a.key.cmp(&b.key));
    write(Path::new(&s.bundle), &bundle.encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));

    // Evidence that does not cover the package asked about: no verdict.
    let mut bundle = log.bundle(4, &[]);
    for range in &mut bundle.pages[0].ranges {
        if range.key == "pkg:cargo/serde" {
            range.end = 2;
            range.indices.retain(|&i| i < 2);
        }
    }
    let keep: Vec<u64> = bundle.pages[0]
        .ranges
        .iter()
        .flat_map(|r| r.indices.clone())
        .collect();
    bundle.pages[0].entries.retain(|e| keep.contains(&e.index));
    let indices: Vec<u64> = bundle.pages[0].entries.iter().map(|e| e.index).collect();
    bundle.pages[0].inclusion_proof = prove_batch_inclusion(4, &indices, &log.tree)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|h| h.to_vec())
        .collect();
    write(Path::new(&s.bundle), &bundle.encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("pkg:cargo/serde is covered up to index 2 of 4"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rollback_and_fork_are_refused() {
    let mut log = standard_log();
    log.add(
        &root_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:cargo/serde@1.0.1",
            SERDE_DIGEST,
        )],
    );
    let s = setup(&log, 5);
    assert_eq!(code(&verify(&s, &["pkg:cargo/serde@1.0.0"])), 0);
    // The log now serves an older checkpoint.
    write(Path::new(&s.bundle), &log.bundle(3, &[]).encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3);
    let err = stderr(&out);
    assert!(
        err.contains("rollback") && err.contains("size 3") && err.contains("size 5"),
        "{err}"
    );

    // A different tree of the same size: a fork.
    let mut other = standard_log();
    other.add(
        &stranger_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:cargo/serde@9.0.0",
            SERDE_DIGEST,
        )],
    );
    write(Path::new(&s.bundle), &other.bundle(5, &[]).encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
}

#[test]
fn growth_needs_a_consistency_proof() {
    let mut log = standard_log();
    let s = setup(&log, 4);
    assert_eq!(code(&verify(&s, &["pkg:cargo/serde@1.0.0"])), 0);
    log.add(
        &root_key(),
        adoption(AdoptionStatus::Adopted),
        vec![Subject::package_version(
            "pkg:cargo/serde@1.0.1",
            SERDE_DIGEST,
        )],
    );
    write(Path::new(&s.bundle), &log.bundle(5, &[4]).encode_to_vec());
    let out = verify(&s, &["pkg:cargo/serde@1.0.1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let log = standard_log();
    let s = setup(&log, 4);
    let dir = tempdir();

    let bad_policy = dir.path().join("bad.toml");
    write(&bad_policy, b"[trust]\nroots = [\n\"x\"\nmode = 3\n");
    let out = quorum(
        &s.state,
        &[
            "--policy",
            &bad_policy.display().to_string(),
            "verify",
            "--bundle",
            &s.bundle,
            "pkg:cargo/serde@1.0.0",
        ],
    );
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("line"), "{}", stderr(&out));

    let garbage = dir.path().join("garbage.pb");
    write(&garbage, b"\xff\xff\xff\x01garbage");
    let out = quorum(
        &s.state,
        &[
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &garbage.display().to_string(),
            "pkg:cargo/serde@1.0.0",
        ],
    );
    assert_eq!(code(&out), 64, "{}", stderr(&out));

    let json_garbage = dir.path().join("garbage.json");
    write(&json_garbage, b"{\"entries\": 5}");
    let out = quorum(
        &s.state,
        &[
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &json_garbage.display().to_string(),
            "pkg:cargo/serde@1.0.0",
        ],
    );
    assert_eq!(code(&out), 64, "{}", stderr(&out));

    // Usage errors are 64, never clap's 2.
    assert_eq!(code(&quorum(&s.state, &["verify"])), 64);
    assert_eq!(code(&quorum(&s.state, &["frobnicate"])), 64);
    let out = verify(&s, &["pkg:cargo/serde"]);
    assert_eq!(code(&out), 64, "a purl without version");
    assert_eq!(code(&quorum(&s.state, &["--help"])), 0);
}

#[test]
fn policy_expressions_decide_and_bad_ones_name_the_line() {
    let log = standard_log();
    let s = setup(&log, 4);
    let base = policy_text(&log);

    // allow_if replaces the thresholds: serde 2.0.0 has only a stranger's adoption.
    let lenient = base.replace(
        "min_adopters = 1\n",
        "min_adopters = 1\nallow_if = \"thresholds_met || purl == 'pkg:cargo/serde' && version == '2.0.0'\"\n",
    );
    write(Path::new(&s.policy), lenient.as_bytes());
    let out = quorum(
        &s.state,
        &[
            "--json",
            "--policy",
            &s.policy,
            "verify",
            "--bundle",
            &s.bundle,
            "pkg:cargo/serde@2.0.0",
        ],
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    let reason = v["decisions"][0]["reasons"][0].as_str().unwrap_or_default();
    assert!(reason.starts_with("allow_if `"), "{reason}");

    // deny_if vetoes what the thresholds allow.
    let strict = base.replace(
        "min_adopters = 1\n",
        "min_adopters = 1\ndeny_if = \"version == '1.0.0'\"\n",
    );
    write(Path::new(&s.policy), strict.as_bytes());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("deny_if"), "{}", stdout(&out));

    // A bad expression is an input error naming its line.
    let bad = base.replace(
        "min_adopters = 1\n",
        "min_adopters = 1\nallow_if = \"adopters >= 'two'\"\n",
    );
    let line = bad
        .lines()
        .position(|l| l.starts_with("allow_if"))
        .map_or(0, |i| i + 1);
    write(Path::new(&s.policy), bad.as_bytes());
    let out = verify(&s, &["pkg:cargo/serde@1.0.0"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("line {line}")),
        "{}",
        stderr(&out)
    );
}

/// A publishing command checks that the policy can verify the receipt before it submits
/// anything (issue 12 item 7: it used to log the statement first and only then fail): with
/// a policy that has a `[log]` but no witness quorum, it stops with exit 64 without
/// contacting the log (here a port nothing listens on, which would give 69).
#[test]
fn publishing_checks_the_policy_before_submitting() {
    let log = standard_log();
    let dir = tempdir();
    let state = dir.path().join("state");
    let out = quorum(&state, &["keygen"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let policy = dir.path().join("policy.toml");
    write(
        &policy,
        format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\nurl = \"http://127.0.0.1:9\"\n\n[trust]\nroots = [\"{}\"]\n",
            log.signer.vkey(),
            hex::encode(root_key().verifying_key().as_bytes())
        )
        .as_bytes(),
    );
    let out = quorum(
        &state,
        &[
            "--policy",
            &policy.display().to_string(),
            "adopt",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            &hex::encode(SERDE_DIGEST),
        ],
    );
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was submitted"),
        "{}",
        stderr(&out)
    );
}
