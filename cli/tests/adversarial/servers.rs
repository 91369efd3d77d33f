//! Attacks on the servers' side of the guarantees, through the real `quorum-log`,
//! `quorum-witness` and `quorum` binaries:
//!
//! - a witness that lies about time (cosignatures dated far in the past, or far in the
//!   future once it has cosigned honestly) beside an honest one, both required: a rule with
//!   `min_age_seconds` must not be met early;
//! - a compromised principal key that signs a statement carrying a backdated date field: it
//!   gains no provable age;
//! - an honest log that stops growing keeps earning fresh witness cosignatures, so it never
//!   looks frozen, and its entries keep their first dates;
//! - the log's global rate limit refuses a flood from many keys with 429 and refills;
//! - accepted submissions write no error lines to the log server's log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use quorum_c2sp::cosignature::{CosignatureSigner, split_cosignature};
use quorum_c2sp::note::Note;
use quorum_c2sp::witness_request::parse_add_checkpoint;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::predicates::{
    Adoption, AdoptionStatus, Audit, OPENVEX_V0_2_0, OpenVex, Predicate, Verdict, VexProduct,
    VexStatement, VexStatus, VexVulnerability,
};
use quorum_verifier::model::statement::Subject;
use serde_json::{Value, json};

use crate::harness::{
    ExternalWitness, Options, Person, Signed, World, expect_exit, json as stdout_json, submission,
    text,
};

const DAY: i64 = 86_400;

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn adoption() -> Predicate {
    Predicate::Adoption(Adoption {
        status: AdoptionStatus::Adopted,
        comment: None,
    })
}

fn passing_audit() -> Predicate {
    Predicate::Audit(Audit {
        verdict: Verdict::Pass,
        criteria: vec!["safe-to-deploy".into()],
        capabilities: None,
        notes: None,
    })
}

fn version_subject(purl: &str) -> Vec<Subject> {
    vec![Subject::package_version(purl, [0x5a; 32])]
}

/// `quorum --json verify <purl>` as `who`: the first decision.
fn decide(world: &World, who: &Person, policy: &std::path::Path, purl: &str) -> Value {
    decide_from(world, who, policy, purl, &[])
}

/// `quorum --json verify <purl> <source…>` as `who`: the first decision.
fn decide_from(
    world: &World,
    who: &Person,
    policy: &std::path::Path,
    purl: &str,
    source: &[&str],
) -> Value {
    let mut args = vec!["--json", "verify", purl];
    args.extend_from_slice(source);
    let out = world.quorum(who, Some(policy), &args);
    let v = stdout_json(&out);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "verify failed: {:?}",
        text(&out)
    );
    v["decisions"][0].clone()
}

/// Each witness's cosignature timestamp on a checkpoint note, by witness name.
fn cosignature_times(note: &str, witnesses: &[&str]) -> Vec<(String, u64)> {
    let parsed = Note::parse(note.as_bytes()).expect("a signed note");
    witnesses
        .iter()
        .map(|name| {
            let sig = parsed
                .signatures
                .iter()
                .find(|s| s.name == *name)
                .unwrap_or_else(|| panic!("no cosignature by {name} in:\n{note}"));
            let (timestamp, _) = split_cosignature(&sig.signature).expect("a cosignature");
            (name.to_string(), timestamp)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A witness that lies about time
// ---------------------------------------------------------------------------------------

/// A tlog-witness that cosigns whatever the log sends with its real key and the real
/// cosignature code, dated `offset` seconds away from now. It runs on a thread of its own
/// (its own runtime) until dropped.
struct LyingWitness {
    external: ExternalWitness,
    offset: Arc<AtomicI64>,
    requests: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct LiarState {
    signer: Arc<CosignatureSigner>,
    offset: Arc<AtomicI64>,
    requests: Arc<AtomicU64>,
}

async fn lying_add_checkpoint(
    axum::extract::State(liar): axum::extract::State<LiarState>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, String) {
    liar.requests.fetch_add(1, Ordering::SeqCst);
    let Ok(request) = parse_add_checkpoint(&body) else {
        return (axum::http::StatusCode::BAD_REQUEST, "bad request\n".into());
    };
    let when = now_unix().saturating_add(liar.offset.load(Ordering::SeqCst));
    match liar
        .signer
        .cosign_note(request.note.as_bytes(), u64::try_from(when).unwrap_or(0))
    {
        Ok(line) => (axum::http::StatusCode::OK, line),
        Err(e) => (axum::http::StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

impl LyingWitness {
    fn start(name: &str) -> LyingWitness {
        let signer = CosignatureSigner::generate(name).expect("witness key");
        let vkey = signer.vkey();
        let offset = Arc::new(AtomicI64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let state = LiarState {
            signer: Arc::new(signer),
            offset: offset.clone(),
            requests: requests.clone(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/add-checkpoint", axum::routing::post(lying_add_checkpoint))
                    .with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        LyingWitness {
            external: ExternalWitness {
                name: name.to_string(),
                vkey,
                url: format!("http://{addr}"),
            },
            offset,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// From now on, date cosignatures `seconds` away from the true time.
    fn lie_by(&self, seconds: i64) {
        self.offset.store(seconds, Ordering::SeqCst);
    }
}

impl Drop for LyingWitness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One honest `quorum-witness` and one that lies about time, both required by the log and
/// by the policy. A version adopted and audited by a trusted key, under a rule demanding a
/// day of provable age, must not be allowed: not while the liar dates every cosignature a
/// month back (the entry would look a month old if its dates came from the earliest
/// cosignature), and not after the liar, having cosigned the entry's checkpoint honestly,
/// dates every later one a month ahead (the decision time would be a month ahead if it came
/// from the latest cosignature).
#[test]
fn a_witness_lying_about_time_cannot_make_a_version_old_enough() {
    let liar = LyingWitness::start("liar.adversarial.test");
    let world = World::start_with_external(
        Options {
            witnesses: 1,
            ..Options::default()
        },
        std::slice::from_ref(&liar.external),
    );
    let me = world.person("me");
    let alice = world.person("alice");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &alice],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\nmin_audits = 1\nmin_age_seconds = 86400\n",
    );
    let purl = "pkg:cargo/young@1.0.0";

    // A month in the past, from the start.
    liar.lie_by(-30 * DAY);
    world.vouch(&me, &policy, &alice);
    let indices = world.submit(&[
        alice.sign(adoption(), version_subject(purl)),
        alice.sign(passing_audit(), version_subject(purl)),
    ]);
    world.wait_for_size(indices[1] + 1);
    let names: Vec<&str> = world.witnesses.iter().map(|w| w.name.as_str()).collect();
    let times = cosignature_times(&world.checkpoint_note(), &names);
    assert!(
        times[1].1 + 29 * DAY as u64 <= times[0].1,
        "the liar's cosignature is not in the past: {times:?}"
    );
    let d = decide(&world, &me, &policy, purl);
    assert_eq!(d["signals"]["adopters"], 1, "{d}");
    assert_eq!(d["signals"]["passing_audits"], 1, "{d}");
    assert_eq!(d["verdict"], "insufficient-evidence", "{d}");
    let age = d["signals"]["provable_age_seconds"].as_u64().unwrap_or(0);
    assert!(
        age < 3600,
        "a cosignature dated a month back aged the version {age}s: {d}"
    );
    assert!(
        d["reasons"].to_string().contains("provable age"),
        "the reason must name the age: {d}"
    );
    // The same from a full mirror (complete mode), which dates entries by the checkpoints
    // it synced.
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    let d = decide_from(&world, &me, &policy, purl, &["--mirror"]);
    assert_eq!(d["completeness"], "complete", "{d}");
    assert_eq!(d["verdict"], "insufficient-evidence", "mirror: {d}");

    // The entry's checkpoint was cosigned; now the liar dates everything a month ahead,
    // and the tree grows so that the decision rests on a checkpoint it dated.
    liar.lie_by(30 * DAY);
    let before = liar.requests.load(Ordering::SeqCst);
    let grow = world.submit(&[alice.sign(adoption(), version_subject("pkg:cargo/other@1.0.0"))]);
    world.wait_for_size(grow[0] + 1);
    assert!(liar.requests.load(Ordering::SeqCst) > before);
    let times = cosignature_times(&world.checkpoint_note(), &names);
    assert!(
        times[1].1 >= times[0].1 + 29 * DAY as u64,
        "the liar's cosignature is not in the future: {times:?}"
    );
    let d = decide(&world, &me, &policy, purl);
    assert_eq!(
        d["verdict"], "insufficient-evidence",
        "a witness dating the decision's checkpoint a month ahead met a one-day age rule: {d}"
    );
    let age = d["signals"]["provable_age_seconds"].as_u64().unwrap_or(0);
    assert!(
        age < 3600,
        "a cosignature dated a month ahead aged the version {age}s: {d}"
    );
    // The honest witness alone bounds the decision time: the checkpoint time reported is
    // not in the future.
    let time = d["checkpoint"]["time"].as_i64().unwrap_or(i64::MAX);
    assert!(
        time <= now_unix() + 60,
        "the decision is dated in the future ({time}): {d}"
    );
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    let d = decide_from(&world, &me, &policy, purl, &["--mirror"]);
    assert_eq!(d["completeness"], "complete", "{d}");
    assert_eq!(
        d["verdict"], "insufficient-evidence",
        "mirror: a witness dating the decision's checkpoint a month ahead met a one-day age rule: {d}"
    );
}

// ---------------------------------------------------------------------------------------
// A compromised key rewriting history
// ---------------------------------------------------------------------------------------

/// A trusted auditor's key is stolen. The thief signs, for a version published today, a
/// passing audit and an OpenVEX document dated 2015 (a signer-chosen date field), and
/// pushes them straight to the log. A rule demanding a day of provable age is not met:
/// age comes from witness cosignatures, never from a date the signer wrote.
#[test]
fn a_compromised_key_cannot_backdate_a_statement() {
    let world = World::start();
    let me = world.person("me");
    let auditor = world.person("auditor");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &auditor],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_audits = 1\nmin_age_seconds = 86400\n",
    );
    world.vouch(&me, &policy, &auditor);
    let purl = "pkg:cargo/trojan@6.6.6";
    let backdated = OpenVex {
        context: OPENVEX_V0_2_0.into(),
        id: "https://openvex.dev/docs/backdated-2015".into(),
        author: "auditor".into(),
        role: None,
        timestamp: "2015-01-01T00:00:00Z".into(),
        version: 1,
        statements: vec![VexStatement {
            vulnerability: VexVulnerability {
                id: None,
                name: "CVE-2015-0001".into(),
                description: None,
                aliases: Vec::new(),
            },
            products: vec![VexProduct {
                id: purl.into(),
                identifiers: None,
            }],
            status: VexStatus::NotAffected,
            justification: Some("vulnerable_code_not_present".into()),
            impact_statement: None,
            action_statement: None,
            status_notes: None,
        }],
    };
    let indices = world.submit(&[
        auditor.sign(passing_audit(), version_subject(purl)),
        auditor.sign(Predicate::Advisory(backdated), version_subject(purl)),
    ]);
    world.wait_for_size(indices[1] + 1);
    let d = decide(&world, &me, &policy, purl);
    assert_eq!(d["signals"]["passing_audits"], 1, "the audit counts: {d}");
    // The advisory is proven, valid and about the version (not rejected): its date is
    // simply not a time Quorum reads.
    assert_eq!(d["rejected"], json!([]), "{d}");
    assert_eq!(
        d["verdict"], "insufficient-evidence",
        "a statement dated 2015 by its signer met a one-day age rule: {d}"
    );
    let age = d["signals"]["provable_age_seconds"]
        .as_u64()
        .unwrap_or(u64::MAX);
    assert!(age < 3600, "the signer's date gave {age}s of age: {d}");
}

// ---------------------------------------------------------------------------------------
// An idle honest log never looks frozen
// ---------------------------------------------------------------------------------------

/// A log that stops growing signs no new checkpoint, but asks its witnesses every second
/// (in this test) to cosign the current one again: `/checkpoint` keeps the same tree and
/// log signature with ever fresher cosignatures from both real witnesses, and because the
/// evidence still dates the entry by its first cosignatures, a rule demanding a few seconds
/// of provable age is met on the idle log once (and only once) that much time has passed.
#[test]
fn an_idle_log_keeps_earning_fresh_cosignatures() {
    let world = World::start_with(Options {
        log_config: "witness_refresh_interval_ms = 1000".into(),
        ..Options::default()
    });
    let me = world.person("me");
    let alice = world.person("alice");
    let min_age = 4u64;
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &alice],
        "",
        &format!(
            "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\nmin_age_seconds = {min_age}\n"
        ),
    );
    world.vouch(&me, &policy, &alice);
    let purl = "pkg:cargo/quiet@1.0.0";
    let logged = Instant::now();
    let index = world.submit(&[alice.sign(adoption(), version_subject(purl))])[0];
    world.wait_for_size(index + 1);
    let names: Vec<&str> = world.witnesses.iter().map(|w| w.name.as_str()).collect();
    let first_note = world.checkpoint_note();
    let first = cosignature_times(&first_note, &names);
    let signed_part = |note: &str| note.split("\n\n").next().unwrap_or_default().to_string();

    // Right away the version is too young (checked only while it truly is).
    let d = decide(&world, &me, &policy, purl);
    if logged.elapsed() < Duration::from_secs(min_age - 1) {
        assert_eq!(d["verdict"], "insufficient-evidence", "{d}");
    }

    // Idle: the same checkpoint, cosigned again and again with newer timestamps.
    let deadline = Instant::now() + Duration::from_secs(60);
    let fresh = loop {
        let note = world.checkpoint_note();
        assert_eq!(
            signed_part(&note),
            signed_part(&first_note),
            "an idle log signed another checkpoint"
        );
        let times = cosignature_times(&note, &names);
        if times
            .iter()
            .zip(&first)
            .all(|((_, now), (_, then))| *now >= then + min_age)
        {
            break note;
        }
        assert!(
            Instant::now() < deadline,
            "after a minute the idle log still serves cosignatures from {first:?}: {times:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(Note::parse(fresh.as_bytes()).is_ok());
    let m = world.metrics();
    for name in &names {
        assert!(
            m.contains(&format!(
                "quorum_witness_cosignature_timestamp_seconds{{witness=\"{name}\"}}"
            )),
            "{m}"
        );
    }

    // The fresh cosignatures move the decision time; the first ones still date the entry.
    let d = decide(&world, &me, &policy, purl);
    assert_eq!(d["verdict"], "allow", "{d}");
    let age = d["signals"]["provable_age_seconds"].as_u64().unwrap_or(0);
    assert!(age >= min_age, "{d}");
    assert!(
        logged.elapsed() >= Duration::from_secs(age.saturating_sub(1)),
        "a provable age of {age}s after {:?}",
        logged.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// The global rate limit
// ---------------------------------------------------------------------------------------

/// A signer key made by the attacker, one per statement (per-key limits are off here, so
/// only the global bucket can refuse).
fn throwaway(seed: u32) -> Signed {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&seed.to_be_bytes());
    bytes[4] = 0xf1;
    let key = SigningKey::from_bytes(&bytes);
    let statement =
        adoption().into_statement(version_subject(&format!("pkg:cargo/flood@{seed}.0.0")));
    Signed {
        envelope: Envelope::sign(IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &key),
        public: hex::encode(key.verifying_key().to_bytes()),
    }
}

/// The log's global bucket (20 envelopes, refilled at one every four seconds; per-key
/// limits off) against a flood from 30 distinct keys: the first 20 are logged, every later
/// one (single or batch) is refused with 429, `ERROR_CODE_RATE_LIMITED` and `Retry-After`,
/// the `quorum` CLI fails with exit 69 and says the log is busy, and once the bucket refills
/// submissions are accepted again.
#[test]
fn the_global_rate_limit_refuses_a_flood_from_many_keys() {
    let world = World::start_with(Options {
        log_config:
            "[rate_limit]\nglobal_per_sec = 0.25\nglobal_burst = 20.0\nper_key_per_sec = 0.0\n"
                .into(),
        ..Options::default()
    });
    let flood: Vec<Signed> = (0..30).map(throwaway).collect();
    let mut statuses = Vec::new();
    for signed in &flood {
        let (status, retry_after, body) = world.post_statements(&submission(signed));
        if status == 429 {
            assert_eq!(body["code"], "ERROR_CODE_RATE_LIMITED", "{body}");
            assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
        } else {
            assert_eq!(status, 200, "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        20,
        "the burst admits exactly 20: {statuses:?}"
    );
    assert!(
        statuses[20..].iter().all(|s| *s == 429),
        "every envelope past the burst is refused: {statuses:?}"
    );
    // A batch is refused as a whole.
    let batch: Vec<Value> = (100..105).map(|i| submission(&throwaway(i))).collect();
    let (status, _, body) = world.post_statements(&json!({ "envelopes": batch }));
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "ERROR_CODE_RATE_LIMITED", "{body}");
    // The CLI reports it and fails closed.
    let alice = world.person("alice");
    let policy = world.policy("policy.toml", &[&alice], &[&alice], "", "");
    let out = world.quorum(
        &alice,
        Some(&policy),
        &[
            "adopt",
            "pkg:cargo/flood@9.9.9",
            "--digest",
            &"cd".repeat(32),
        ],
    );
    expect_exit(&out, 69);
    assert!(text(&out).1.contains("429"), "{:?}", text(&out));
    let m = world.metrics();
    let limited: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("quorum_rate_limited_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(limited >= 12, "{m}");
    // What was admitted is logged, and the bucket refills.
    world.wait_for_size(20);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = world.post_statements(&submission(&flood[29]));
        if status == 200 {
            break;
        }
        assert_eq!(status, 429, "{body}");
        assert!(
            Instant::now() < deadline,
            "the global bucket never refilled"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

// ---------------------------------------------------------------------------------------
// The log server's own log
// ---------------------------------------------------------------------------------------

/// Hundreds of accepted submissions (bulk and through `quorum`), duplicates and refused
/// items leave no ERROR line in the log server's log: error lines are for errors.
#[test]
fn accepted_submissions_write_no_error_lines() {
    let world = World::start();
    let me = world.person("me");
    let policy = world.policy("policy.toml", &[&me], &[&me], "", "");
    let signed: Vec<Signed> = (0..300)
        .map(|i| {
            me.sign(
                adoption(),
                version_subject(&format!("pkg:cargo/quiet-log@1.0.{i}")),
            )
        })
        .collect();
    let indices = world.submit(&signed);
    // Duplicates are accepted too.
    let again = world.submit(&signed[..10]);
    assert_eq!(again, indices[..10]);
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "adopt",
            "pkg:cargo/quiet-log@2.0.0",
            "--digest",
            &"ab".repeat(32),
        ],
    );
    expect_exit(&out, 0);
    world.wait_for_size(301);
    // An item with a wrong key is refused (422), which is the client's error, not the log's.
    let mut forged = submission(&signed[0]);
    forged["publicKey"] = json!(format!("ed25519:{}", "11".repeat(32)));
    let (status, _, _) = world.post_statements(&forged);
    assert!(status == 400 || status == 422, "{status}");
    let log = world.log_output();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "{} error lines for {} accepted entries, e.g. {:?}",
        errors.len(),
        indices.len() + 1,
        errors.first()
    );
}
