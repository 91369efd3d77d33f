//! The adversarial suite's world: a real `quorum-log` and real `quorum-witness` processes on
//! loopback (SQLite in a temporary directory), people with their own `quorum` state
//! directories and keys, policies written for them, and an attacker who may also sign
//! statements directly and push them through the log's HTTP API in bulk (a flood of 10,000
//! statements through 10,000 `quorum` processes would only measure process start-up).
//!
//! Everything an attack goes through is the real thing: the binaries, the sockets, the
//! database, Ed25519 signatures, Merkle proofs and witness cosignatures.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use quorum_c2sp::note::Ed25519Signer;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use quorum_verifier::model::predicates::Predicate;
use quorum_verifier::model::statement::Subject;
use serde_json::Value;

use crate::support::{ChildGuard, free_port, wait_http, workspace_binary};

/// The directory of other builds of the binaries to attack instead of this one's, to show
/// that a test fails on an earlier build: `QUORUM_ADVERSARIAL_BIN_DIR=/path/to/old/debug`.
const BIN_DIR_VAR: &str = "QUORUM_ADVERSARIAL_BIN_DIR";

/// Path of a binary under attack: `quorum`, `quorum-log` or `quorum-witness`, from this
/// build or from [`BIN_DIR_VAR`].
pub fn binary(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_VAR) {
        return PathBuf::from(dir).join(name);
    }
    if name == "quorum" {
        return PathBuf::from(env!("CARGO_BIN_EXE_quorum"));
    }
    workspace_binary(name)
}

/// The log's origin in every adversarial world.
pub const ORIGIN: &str = "adversarial.test/log";

/// A policy rule: a `pkg:cargo/*` version needs one trusted adopter.
pub const ONE_ADOPTER_RULE: &str = "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\n";

/// How a world's log is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many witnesses run; the log requires all of their cosignatures, and the policies
    /// written by [`World::policy`] require a quorum of all of them.
    pub witnesses: usize,
    /// Extra lines for the log's TOML configuration (rate limits, say).
    pub log_config: String,
    /// Checkpoint interval of the log, in milliseconds.
    pub checkpoint_interval_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            witnesses: 2,
            log_config: String::new(),
            checkpoint_interval_ms: 100,
        }
    }
}

/// One running witness.
pub struct Witness {
    /// Its name in cosignatures and policies.
    pub name: String,
    /// Its cosignature verifier key (`name+id+base64`).
    pub vkey: String,
    /// Its base URL.
    pub url: String,
    /// The `quorum-witness` process; `None` for a witness the test runs itself.
    guard: Option<ChildGuard>,
}

/// A witness the test runs itself (a hostile one, say): the log asks it for cosignatures
/// beside the real witnesses, and policies require it like them.
#[derive(Debug, Clone)]
pub struct ExternalWitness {
    /// Its name in cosignatures and policies.
    pub name: String,
    /// Its cosignature verifier key.
    pub vkey: String,
    /// Its base URL (the log POSTs to `<url>/add-checkpoint`).
    pub url: String,
}

/// A person: a `quorum` state directory with a key, and the same key loaded for signing
/// statements directly.
pub struct Person {
    /// Their name (also the key name).
    pub name: String,
    /// Their state directory (`--state-dir`).
    pub state: PathBuf,
    /// Their Ed25519 public key, 64 lowercase hex digits.
    pub public: String,
    signer: Ed25519Signer,
}

/// A signed envelope with its signer's public key, ready to submit.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The DSSE envelope.
    pub envelope: Envelope,
    /// The signer's Ed25519 public key, hex.
    pub public: String,
}

impl Person {
    /// A key made in this process, without a `quorum` state directory: for farms, rings and
    /// chains of hundreds of keys, which only ever sign directly.
    pub fn key_only(name: &str) -> Person {
        let signer = Ed25519Signer::generate(name).expect("generate a key");
        Person {
            name: name.to_string(),
            state: PathBuf::new(),
            public: hex::encode(signer.signing_key().verifying_key().to_bytes()),
            signer,
        }
    }

    /// Signs a statement with this person's key, as `quorum` would.
    pub fn sign(&self, predicate: Predicate, subjects: Vec<Subject>) -> Signed {
        let statement = predicate.into_statement(subjects);
        Signed {
            envelope: Envelope::sign(
                IN_TOTO_PAYLOAD_TYPE,
                statement.to_json(),
                self.signer.signing_key(),
            ),
            public: self.public.clone(),
        }
    }

    /// The public key as 32 bytes.
    pub fn key_bytes(&self) -> [u8; 32] {
        self.signer.signing_key().verifying_key().to_bytes()
    }
}

/// A log, its witnesses and a directory for everyone's files.
pub struct World {
    /// Everything lives here and is deleted with the world.
    pub dir: tempfile::TempDir,
    /// The log's base URL.
    pub url: String,
    /// The log's signed-note verifier key.
    pub log_vkey: String,
    /// The witnesses.
    pub witnesses: Vec<Witness>,
    log: Option<ChildGuard>,
    log_config: PathBuf,
    http: reqwest::blocking::Client,
}

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

impl World {
    /// Starts a log and two witnesses.
    pub fn start() -> World {
        World::start_with(Options::default())
    }

    /// Starts a log and `options.witnesses` witnesses.
    pub fn start_with(options: Options) -> World {
        World::start_keyed(options, &[], None)
    }

    /// Starts a log, `options.witnesses` real witnesses and, after them, the `external`
    /// witnesses the test runs; the log requires every one's cosignature.
    pub fn start_with_external(options: Options, external: &[ExternalWitness]) -> World {
        World::start_keyed(options, external, None)
    }

    /// A fork of this world: a second log with the same key and origin and witnesses with
    /// the same keys (colluding: they cosign whatever this log shows them), each on a fresh
    /// database, so the same signed names vouch for other contents.
    pub fn fork(&self) -> World {
        World::start_keyed(
            Options {
                witnesses: self.witnesses.len(),
                ..Options::default()
            },
            &[],
            Some(self),
        )
    }

    fn start_keyed(
        options: Options,
        external: &[ExternalWitness],
        keys_of: Option<&World>,
    ) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let witness_bin = binary("quorum-witness");
        let log_bin = binary("quorum-log");
        let log_key = dir.path().join("log.key");
        let log_vkey = match keys_of {
            Some(other) => {
                std::fs::copy(other.dir.path().join("log.key"), &log_key).expect("copy log key");
                other.log_vkey.clone()
            }
            None => first_line(&run(
                &log_bin,
                &[
                    "keygen",
                    "--origin",
                    ORIGIN,
                    "--out",
                    &log_key.display().to_string(),
                ],
            )),
        };
        let mut witnesses = Vec::new();
        let mut witness_config = String::new();
        for i in 1..=options.witnesses {
            let name = format!("w{i}.adversarial.test");
            let wdir = dir.path().join(format!("witness{i}"));
            let wkey = dir.path().join(format!("witness{i}.key"));
            let vkey = match keys_of {
                Some(other) => {
                    std::fs::copy(other.dir.path().join(format!("witness{i}.key")), &wkey)
                        .expect("copy witness key");
                    other.witnesses[i - 1].vkey.clone()
                }
                None => first_line(&run(
                    &witness_bin,
                    &[
                        "keygen",
                        "--name",
                        &name,
                        "--out",
                        &wkey.display().to_string(),
                        "--data-dir",
                        &wdir.display().to_string(),
                    ],
                )),
            };
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
            let port = free_port();
            let guard = ChildGuard::spawn(
                &name,
                &witness_bin,
                &[
                    "serve",
                    "--data-dir",
                    &wdir.display().to_string(),
                    "--key-file",
                    &wkey.display().to_string(),
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ],
                &dir.path().join(format!("witness{i}.log")),
            );
            let url = format!("http://127.0.0.1:{port}");
            wait_http(&format!("{url}/healthz"));
            witness_config.push_str(&format!(
                "\n[[witnesses]]\nurl = \"{url}\"\nvkey = \"{vkey}\"\n"
            ));
            witnesses.push(Witness {
                name,
                vkey,
                url,
                guard: Some(guard),
            });
        }
        for w in external {
            witness_config.push_str(&format!(
                "\n[[witnesses]]\nurl = \"{}\"\nvkey = \"{}\"\n",
                w.url, w.vkey
            ));
            witnesses.push(Witness {
                name: w.name.clone(),
                vkey: w.vkey.clone(),
                url: w.url.clone(),
                guard: None,
            });
        }
        let port = free_port();
        let log_config = dir.path().join("log.toml");
        std::fs::write(
            &log_config,
            format!(
                "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\nkey_file = \"{}\"\ncheckpoint_interval_ms = {}\nrequired_cosignatures = {}\n{}\n{witness_config}",
                dir.path().join("log").display(),
                log_key.display(),
                options.checkpoint_interval_ms,
                witnesses.len(),
                options.log_config,
            ),
        )
        .expect("write log config");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        let mut world = World {
            dir,
            url: format!("http://127.0.0.1:{port}"),
            log_vkey,
            witnesses,
            log: None,
            log_config,
            http,
        };
        world.start_log();
        world
    }

    /// Starts (or restarts) the log process on its configuration and data.
    pub fn start_log(&mut self) {
        self.log = None;
        let guard = ChildGuard::spawn(
            "quorum-log",
            &binary("quorum-log"),
            &["serve", "--config", &self.log_config.display().to_string()],
            &self.dir.path().join("log.log"),
        );
        self.log = Some(guard);
        wait_http(&format!("{}/healthz", self.url));
    }

    /// Stops the log process (SIGKILL).
    pub fn stop_log(&mut self) {
        self.log = None;
    }

    /// The log server's own output so far (its tracing lines).
    pub fn log_output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log.log")).unwrap_or_default()
    }

    /// A C2SP tlog-policy naming every witness and requiring all of them.
    pub fn witness_policy(&self) -> String {
        let mut text = String::new();
        for w in &self.witnesses {
            text.push_str(&format!("witness {} {}\n", w.name, w.vkey));
        }
        let names: Vec<&str> = self.witnesses.iter().map(|w| w.name.as_str()).collect();
        match names.len() {
            0 => {}
            1 => text.push_str(&format!("quorum {}\n", names[0])),
            n => text.push_str(&format!("group all {n} {}\nquorum all\n", names.join(" "))),
        }
        text
    }

    /// Writes a policy file named `name` in the world's directory: this log and its
    /// witnesses, `roots` as the trust roots, every person in `aliases` under their name,
    /// then `rest` (more `[trust]` keys go in `trust_extra`; rules and other sections in
    /// `rest`). Returns its path.
    pub fn policy(
        &self,
        name: &str,
        roots: &[&Person],
        aliases: &[&Person],
        trust_extra: &str,
        rest: &str,
    ) -> PathBuf {
        self.policy_with_log(name, roots, aliases, "", trust_extra, rest)
    }

    /// [`World::policy`] with more keys in its `[log]` section (`log_extra`, e.g.
    /// `max_checkpoint_age_seconds = 60`).
    pub fn policy_with_log(
        &self,
        name: &str,
        roots: &[&Person],
        aliases: &[&Person],
        log_extra: &str,
        trust_extra: &str,
        rest: &str,
    ) -> PathBuf {
        let roots: Vec<String> = roots.iter().map(|p| format!("\"{}\"", p.name)).collect();
        let mut alias_lines = String::new();
        let mut named: Vec<&Person> = aliases.to_vec();
        named.sort_by(|a, b| a.name.cmp(&b.name));
        named.dedup_by(|a, b| a.name == b.name);
        for p in named {
            alias_lines.push_str(&format!("{} = \"{}\"\n", p.name, p.public));
        }
        let text = format!(
            "[log]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\nurl = \"{}\"\n{log_extra}\n\n[witnesses]\npolicy = \"\"\"\n{}\"\"\"\n\n[trust]\nroots = [{}]\n{trust_extra}\n\n[aliases]\n{alias_lines}\n{rest}\n",
            self.log_vkey,
            self.url,
            self.witness_policy(),
            roots.join(", "),
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write policy");
        path
    }

    /// The usual cast: `me` (the root of `policy.toml`) and `alice`, both named in it, with
    /// one rule: a `pkg:cargo/*` version needs one trusted adopter.
    pub fn me_and_alice(&self) -> (Person, Person, PathBuf) {
        let me = self.person("me");
        let alice = self.person("alice");
        let policy = self.policy("policy.toml", &[&me], &[&me, &alice], "", ONE_ADOPTER_RULE);
        (me, alice, policy)
    }

    /// A new person: `quorum keygen` in their own state directory.
    pub fn person(&self, name: &str) -> Person {
        let state = self.dir.path().join("people").join(name);
        let out = Command::new(binary("quorum"))
            .arg("--state-dir")
            .arg(&state)
            .args(["--json", "keygen", "--name", name])
            .env_remove("QUORUM_HOME")
            .output()
            .expect("keygen");
        let v = json(&out);
        let key_file = v["key_file"].as_str().expect("key_file").to_string();
        let skey = std::fs::read_to_string(&key_file).expect("read key file");
        let signer = Ed25519Signer::from_skey(skey.trim()).expect("a quorum key file");
        Person {
            name: name.to_string(),
            state,
            public: v["public_key"].as_str().expect("public_key").to_string(),
            signer,
        }
    }

    /// The `quorum` command as `who` with the policy at `policy` (if any), to add arguments
    /// and pipes to (for tests that need the running process, not only its output).
    pub fn quorum_command(&self, who: &Person, policy: Option<&Path>) -> Command {
        let mut command = Command::new(binary("quorum"));
        command.arg("--state-dir").arg(&who.state);
        if let Some(policy) = policy {
            command.arg("--policy").arg(policy);
        }
        command.env_remove("QUORUM_HOME");
        command
    }

    /// Runs `quorum` as `who` with the policy at `policy` (if any) and the arguments.
    /// Fails the test if the process panicked.
    /// `from` vouches for `to` with `quorum trust --level high` under `policy`, which must
    /// succeed.
    pub fn vouch(&self, from: &Person, policy: &Path, to: &Person) {
        expect_exit(
            &self.quorum(
                from,
                Some(policy),
                &["trust", &to.public, "--level", "high"],
            ),
            0,
        );
    }

    pub fn quorum(&self, who: &Person, policy: Option<&Path>, args: &[&str]) -> Output {
        let out = self
            .quorum_command(who, policy)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running quorum: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "quorum {args:?} panicked: {stderr}"
        );
        out
    }

    /// Submits envelopes through `POST /v1/statements` in batches of at most 1,000 (the
    /// log's default limit per request) and returns their indices in order.
    pub fn submit(&self, signed: &[Signed]) -> Vec<u64> {
        let mut indices = Vec::with_capacity(signed.len());
        for chunk in signed.chunks(1000) {
            let items: Vec<Value> = chunk.iter().map(submission).collect();
            let body = serde_json::json!({ "envelopes": items }).to_string();
            let resp = self
                .http
                .post(format!("{}/v1/statements", self.url))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .expect("submit");
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            assert!(status == 200 || status == 202, "submit: {status} {text}");
            let v: Value = serde_json::from_str(&text).expect("submit response JSON");
            for result in v["results"].as_array().expect("results") {
                assert!(result.get("error").is_none(), "refused: {result}");
                // proto3 JSON writes 64-bit integers as strings and leaves out zeros.
                let index = match &result["index"] {
                    Value::Null => 0,
                    Value::String(s) => s.parse().expect("decimal index"),
                    other => other.as_u64().expect("integer index"),
                };
                indices.push(index);
            }
        }
        indices
    }

    /// Posts `body` to `POST /v1/statements` as it is and returns the status, the
    /// `Retry-After` header (if any) and the body, whatever the answer.
    pub fn post_statements(&self, body: &Value) -> (u16, Option<String>, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/statements", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("the log answers");
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = resp.text().unwrap_or_default();
        (
            status,
            retry_after,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// The log's current `/checkpoint` note (empty before the first).
    pub fn checkpoint_note(&self) -> String {
        match self.http.get(format!("{}/checkpoint", self.url)).send() {
            Ok(resp) if resp.status().is_success() => resp.text().unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The log's `/metrics` text.
    pub fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    }

    /// The tree size of the log's current checkpoint (0 before the first).
    pub fn checkpoint_size(&self) -> u64 {
        let Ok(resp) = self.http.get(format!("{}/checkpoint", self.url)).send() else {
            return 0;
        };
        if !resp.status().is_success() {
            return 0;
        }
        let text = resp.text().unwrap_or_default();
        text.lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0)
    }

    /// Waits until the log serves a checkpoint (cosigned by every witness, since the log
    /// publishes nothing less) of at least `size` entries; fails after a minute.
    pub fn wait_for_size(&self, size: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.checkpoint_size() >= size {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the log did not publish a checkpoint of size {size} within a minute (it serves {})",
            self.checkpoint_size()
        );
    }

    /// Every statement the log lists under a signer (`GET /v1/statements?signer=`, paged):
    /// the listed entries as JSON (`index`, `envelope`, …), in log order.
    pub fn statements_by(&self, public_hex: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let url = format!(
                "{}/v1/statements?signer=ed25519:{public_hex}&limit=1000{after}",
                self.url
            );
            let v: Value = self
                .http
                .get(url)
                .send()
                .and_then(|r| r.json())
                .expect("statement list");
            let entries = v["entries"].as_array().cloned().unwrap_or_default();
            let Some(last) = entries.last().and_then(|e| e["index"].as_u64()) else {
                return out;
            };
            after = format!("&after={last}");
            out.extend(entries);
        }
    }

    /// Path of a file in the world's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A submission item for `POST /v1/statements`: the envelope and its signer's key.
pub fn submission(signed: &Signed) -> Value {
    let envelope: Value = serde_json::from_str(&signed.envelope.to_json()).expect("envelope JSON");
    serde_json::json!({
        "envelope": envelope,
        "publicKey": format!("ed25519:{}", signed.public),
    })
}

/// The process's stdout as JSON; fails the test with both outputs otherwise.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The exit code, with both outputs in the message when `expected` differs.
pub fn expect_exit(out: &Output, expected: i32) {
    assert_eq!(
        out.status.code(),
        Some(expected),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a [`Proxy`] does to a request whose path starts with its prefix.
#[derive(Debug, Clone)]
pub enum Meddle {
    /// Pass it on unchanged.
    Pass,
    /// Close the connection without answering.
    Drop,
    /// Read the request and then answer nothing for this long.
    Stall(Duration),
    /// Pass it on, then flip one byte of the answer's body at this offset from its end.
    FlipByteFromEnd(usize),
    /// Answer this request with the body of the first answer it got (a frozen view).
    Replay,
}

/// A man in the middle between a client and a log: an HTTP/1.1 proxy on loopback that
/// forwards every request, and meddles with those whose path starts with a prefix, after
/// letting `after` of them through untouched.
pub struct Proxy {
    /// The proxy's base URL: give it to the client as the log's.
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// How many requests matched the prefix so far.
    pub matched: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    /// Starts a proxy to `upstream` that applies `meddle` to requests whose path starts
    /// with `prefix`, from the `after`-th such request on (0: every one).
    pub fn start(upstream: &str, prefix: &str, after: usize, meddle: Meddle) -> Proxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let matched = Arc::new(AtomicUsize::new(0));
        let replayed: Arc<std::sync::Mutex<Option<Vec<u8>>>> = Arc::default();
        let (upstream, prefix) = (upstream.to_string(), prefix.to_string());
        let (stop2, matched2) = (stop.clone(), matched.clone());
        std::thread::spawn(move || {
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("proxy client");
            while !stop2.load(Ordering::Relaxed) {
                let stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => continue,
                };
                let _ = stream.set_nonblocking(false);
                let (http, upstream, prefix, meddle, matched, replayed) = (
                    http.clone(),
                    upstream.clone(),
                    prefix.clone(),
                    meddle.clone(),
                    matched2.clone(),
                    replayed.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve_one(
                        stream, &http, &upstream, &prefix, after, &meddle, &matched, &replayed,
                    );
                });
            }
        });
        Proxy { url, stop, matched }
    }

    /// How many requests matched the prefix so far.
    pub fn matched(&self) -> usize {
        self.matched.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Reads one request, forwards or meddles, answers with `Connection: close`.
#[allow(clippy::too_many_arguments)]
fn serve_one(
    mut stream: std::net::TcpStream,
    http: &reqwest::blocking::Client,
    upstream: &str,
    prefix: &str,
    after: usize,
    meddle: &Meddle,
    matched: &std::sync::atomic::AtomicUsize,
    replayed: &std::sync::Mutex<Option<Vec<u8>>>,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("GET").to_string(),
        parts.next().unwrap_or("/").to_string(),
    );
    let mut length = 0usize;
    let mut headers = Vec::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            if name == "content-type" || name == "accept" {
                headers.push((name, value));
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    let meddling = path.starts_with(prefix)
        && matched.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= after;
    let meddle = if meddling { meddle } else { &Meddle::Pass };
    match meddle {
        Meddle::Drop => return Ok(()),
        Meddle::Stall(d) => {
            std::thread::sleep(*d);
            return Ok(());
        }
        _ => {}
    }
    let mut request = match method.as_str() {
        "POST" => http.post(format!("{upstream}{path}")).body(body),
        _ => http.get(format!("{upstream}{path}")),
    };
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let (status, content_type, mut answer) = match request.send() {
        Ok(r) => {
            let status = r.status().as_u16();
            let content_type = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            (
                status,
                content_type,
                r.bytes().map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(_) => return Ok(()),
    };
    match meddle {
        Meddle::FlipByteFromEnd(offset) if status == 200 && answer.len() > *offset => {
            let at = answer.len() - 1 - offset;
            answer[at] ^= 0x01;
        }
        Meddle::Replay if status == 200 => {
            let mut first = replayed.lock().unwrap_or_else(|e| e.into_inner());
            match first.as_ref() {
                Some(body) => answer = body.clone(),
                None => *first = Some(answer.clone()),
            }
        }
        _ => {}
    }
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer.len()
    )?;
    stream.write_all(&answer)?;
    stream.flush()
}

/// Statement builders for attacks signed directly.
pub mod say {
    use quorum_verifier::model::predicates::{
        Adoption, AdoptionStatus, Predicate, Revocation, Trust, TrustLevel,
    };
    use quorum_verifier::model::statement::Subject;

    /// `who` adopts `purl@version` with artifact digest `digest`.
    pub fn adopt(purl_version: &str, digest: [u8; 32]) -> (Predicate, Vec<Subject>) {
        (
            Predicate::Adoption(Adoption {
                status: AdoptionStatus::Adopted,
                comment: None,
            }),
            vec![Subject::package_version(purl_version, digest)],
        )
    }

    /// A trust statement about `key` at `level`.
    pub fn trust(key: &[u8; 32], level: TrustLevel) -> (Predicate, Vec<Subject>) {
        (
            Predicate::Trust(Trust {
                key: hex::encode(key),
                level,
                scope: None,
                comment: None,
            }),
            vec![Subject::key(key)],
        )
    }

    /// A revocation of the signer's own statement with envelope digest `digest`.
    pub fn revoke(digest: [u8; 32]) -> (Predicate, Vec<Subject>) {
        (
            Predicate::Revocation(Revocation {
                envelope_digest: hex::encode(digest),
                reason: Some("withdrawn".into()),
                provenance: None,
            }),
            vec![Subject::envelope(&digest)],
        )
    }

    /// An OpenVEX advisory: `package` (no version) at `version` is malicious.
    pub fn malicious(package: &str, version: &str) -> (Predicate, Vec<Subject>) {
        (
            crate::support::malicious_advisory(package, version),
            vec![Subject::package(package)],
        )
    }
}

impl Person {
    /// Signs a statement built by one of the [`say`] builders.
    pub fn says(&self, statement: (Predicate, Vec<Subject>)) -> Signed {
        self.sign(statement.0, statement.1)
    }
}

/// A `Cargo.lock` pinning `(name, version, sha256)` from crates.io.
pub fn cargo_lock(packages: &[(&str, &str, [u8; 32])]) -> String {
    let mut text = String::from("version = 4\n");
    for (name, version, digest) in packages {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            hex::encode(digest)
        ));
    }
    text
}

/// The verdict of each decision of a `--json verify` output, by purl.
pub fn verdicts(v: &Value) -> std::collections::BTreeMap<String, String> {
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
