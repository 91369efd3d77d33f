//! Quorum's own known-answer vectors: DSSE PAE, signed envelopes, statements of every
//! predicate type (valid and invalid), and log entries.
//!
//! [`generate`] builds every vector file deterministically (fixed seed keys, Ed25519 is
//! deterministic, JSON with sorted keys); the `gen-vectors` binary writes them into
//! `test-vectors/quorum/`, and `tests/statement_vectors.rs` checks that the committed files
//! equal what the code produces and that each case passes or fails as recorded.
//!
//! Every file is a JSON object with a `description`, the `procedure` a second
//! implementation follows, and lists of `valid` and `invalid` cases; an invalid case names
//! the expected error class in `error` (the `kind()` strings of the verifier's error types,
//! listed in `spec/statements.md` and `spec/log-entry.md`).

use std::path::PathBuf;

use base64::Engine as _;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey, key_id, pae};
use quorum_verifier::model::log_entry::{LogEntry, leaf_hash};
use quorum_verifier::model::predicates::{
    ADOPTION_V1, ADVISORY_V1, AUDIT_V1, CARGO_VET_V1, OPENVEX_V0_2_0, OWNERSHIP_CHANGE_V1,
    REVOCATION_V1, TRUST_V1,
};
use quorum_verifier::model::statement::{
    STATEMENT_TYPE_V1, Statement, Subject, SubjectKind, sha256_hex, sort_keys,
};
use serde_json::{Value, json};

/// The directory of the committed vectors: `test-vectors/quorum/`.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("quorum")
}

/// One generated vector file.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorFile {
    /// The file name inside [`vectors_dir`].
    pub name: &'static str,
    /// The file's JSON content.
    pub content: Value,
}

impl VectorFile {
    /// The exact bytes written to disk: pretty JSON with sorted keys and a final newline.
    pub fn render(&self) -> String {
        let text =
            serde_json::to_string_pretty(&sort_keys(self.content.clone())).unwrap_or_default();
        format!("{text}\n")
    }
}

/// The fixed receipt time of every generated log entry (2025-01-01T00:00:00Z).
pub const RECEIPT_TIME_MILLIS: i64 = 1_735_689_600_000;

/// The names of the fixed test keys.
pub const KEY_NAMES: &[&str] = &["alice", "bob", "carol"];

/// The seed of test key `name`: SHA-256 of `"quorum test-vectors key " || name`.
pub fn key_seed(name: &str) -> [u8; 32] {
    let hex_digest = sha256_hex(format!("quorum test-vectors key {name}").as_bytes());
    let mut seed = [0u8; 32];
    // sha256_hex always returns 64 hex digits.
    let _ = hex::decode_to_slice(hex_digest, &mut seed);
    seed
}

/// The fixed test key `name`.
pub fn test_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&key_seed(name))
}

fn pk(name: &str) -> [u8; 32] {
    test_key(name).verifying_key().to_bytes()
}

fn pk_hex(name: &str) -> String {
    hex::encode(pk(name))
}

/// A signed-note verifier key string for an Ed25519 key.
fn verifier_key(name: &str, key: &[u8; 32]) -> String {
    let mut raw = vec![0x01u8];
    raw.extend_from_slice(key);
    let mut hashed = name.as_bytes().to_vec();
    hashed.push(b'\n');
    hashed.extend_from_slice(&raw);
    let hash = sha256_hex(&hashed);
    format!(
        "{name}+{}+{}",
        &hash[..8],
        base64::engine::general_purpose::STANDARD.encode(&raw)
    )
}

/// A fake artifact digest: SHA-256 of `"artifact " || purl`.
fn artifact(purl: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let _ = hex::decode_to_slice(sha256_hex(format!("artifact {purl}").as_bytes()), &mut out);
    out
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

fn keys_file() -> VectorFile {
    let keys: Vec<Value> = KEY_NAMES
        .iter()
        .map(|n| {
            let k = test_key(n);
            json!({
                "name": n,
                "seed": hex::encode(key_seed(n)),
                "publicKey": pk_hex(n),
                "keyId": key_id(&k.verifying_key()),
                "verifierKey": verifier_key(&format!("{n}.test"), &pk(n)),
            })
        })
        .collect();
    VectorFile {
        name: "keys.json",
        content: json!({
            "description": "The fixed Ed25519 test keys used by the other files. seed = SHA-256(\"quorum test-vectors key \" || name); keyId = hex(SHA-256(publicKey)); verifierKey is the C2SP signed-note form for the name `<name>.test`.",
            "keys": keys,
        }),
    }
}

fn pae_file() -> VectorFile {
    let cases: &[(&str, &[u8])] = &[
        ("http://example.com/HelloWorld", b"hello world"),
        ("", b""),
        (IN_TOTO_PAYLOAD_TYPE, b"{}"),
        ("application/vnd.in-toto+json", "héllo ✓".as_bytes()),
        ("t", &[0u8, 1, 2, 0xff, b' ', b'\n']),
        ("type with spaces", &[b'x'; 100]),
    ];
    let valid: Vec<Value> = cases
        .iter()
        .map(|(t, p)| {
            json!({
                "payloadType": t,
                "payloadHex": hex::encode(p),
                "paeHex": hex::encode(pae(t, p)),
            })
        })
        .collect();
    VectorFile {
        name: "pae.json",
        content: json!({
            "description": "DSSE pre-authentication encoding: \"DSSEv1\" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal.",
            "procedure": "paeHex == hex(PAE(payloadType, unhex(payloadHex)))",
            "valid": valid,
            "invalid": [],
        }),
    }
}

fn adoption_statement(purl: &str, status: &str) -> Statement {
    Statement::new(
        vec![Subject::package_version(purl, artifact(purl))],
        ADOPTION_V1,
        json!({"status": status}),
    )
}

fn envelopes_file() -> VectorFile {
    let alice = test_key("alice");
    let bob = test_key("bob");
    let payload = adoption_statement("pkg:cargo/serde@1.0.210", "adopted").to_json();
    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &alice);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let sig_b64 = b64(&env.signatures[0].sig);
    let payload_b64 = b64(&payload);

    let mut valid = Vec::new();
    let mut push_valid =
        |description: &str, key: &str, envelope_json: String, env: &Envelope, index: usize| {
            valid.push(json!({
                "description": description,
                "key": key,
                "envelope": envelope_json,
                "payloadType": env.payload_type,
                "payloadHex": hex::encode(&env.payload),
                "paeHex": hex::encode(env.pae()),
                "envelopeDigest": hex::encode(env.digest()),
                "signatureIndex": index,
            }));
        };
    push_valid("one signature by alice", "alice", env.to_json(), &env, 0);
    let mut multi = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &bob);
    multi.add_signature(&alice);
    push_valid(
        "signed by bob then alice; alice's is the second",
        "alice",
        multi.to_json(),
        &multi,
        1,
    );
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    push_valid(
        "URL-safe base64 without padding is accepted (DSSE allows both alphabets)",
        "alice",
        json!({
            "payload": url_safe.encode(&payload),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"keyid": key_id(&alice.verifying_key()), "sig": url_safe.encode(&env.signatures[0].sig)}],
        })
        .to_string(),
        &env,
        0,
    );
    push_valid(
        "keyid absent and an unknown field: both ignored",
        "alice",
        json!({
            "payload": payload_b64,
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": sig_b64}],
            "x-extension": true,
        })
        .to_string(),
        &Envelope {
            signatures: vec![quorum_verifier::model::dsse::EnvelopeSignature {
                keyid: String::new(),
                sig: env.signatures[0].sig.clone(),
            }],
            ..env.clone()
        },
        0,
    );
    push_valid(
        "a wrong keyid does not matter: it is only a hint",
        "alice",
        json!({
            "payload": payload_b64,
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"keyid": key_id(&bob.verifying_key()), "sig": sig_b64}],
        })
        .to_string(),
        &Envelope {
            signatures: vec![quorum_verifier::model::dsse::EnvelopeSignature {
                keyid: key_id(&bob.verifying_key()),
                sig: env.signatures[0].sig.clone(),
            }],
            ..env.clone()
        },
        0,
    );

    let raw = |payload: &str, payload_type: &str, sigs: Value| -> String {
        json!({"payload": payload, "payloadType": payload_type, "signatures": sigs}).to_string()
    };
    let one_sig = json!([{"keyid": "", "sig": sig_b64}]);
    let mut tampered_sig = env.signatures[0].sig.clone();
    tampered_sig[0] ^= 1;
    let json_type = Envelope::sign("application/json", payload.clone(), &alice);
    let mut too_many = env.clone();
    for _ in 0..16 {
        too_many.add_signature(&alice);
    }
    let big = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, vec![b' '; 50_000], &alice).to_json();
    let invalid: Vec<Value> = vec![
        ("verified with bob's key", "bob", env.to_json(), "no-valid-signature"),
        (
            "payload changed after signing",
            "alice",
            raw(&b64(b"{}"), IN_TOTO_PAYLOAD_TYPE, one_sig.clone()),
            "no-valid-signature",
        ),
        (
            "payloadType changed after signing (the signature covers it)",
            "alice",
            raw(&payload_b64, "application/vnd.in-toto+jsoN", one_sig.clone()),
            "wrong-payload-type",
        ),
        (
            "signature bit flipped",
            "alice",
            raw(&payload_b64, IN_TOTO_PAYLOAD_TYPE, json!([{"sig": b64(&tampered_sig)}])),
            "no-valid-signature",
        ),
        (
            "signature truncated to 63 bytes",
            "alice",
            raw(
                &payload_b64,
                IN_TOTO_PAYLOAD_TYPE,
                json!([{"sig": b64(&env.signatures[0].sig[..63])}]),
            ),
            "no-valid-signature",
        ),
        (
            "validly signed, but not an in-toto payload type",
            "alice",
            json_type.to_json(),
            "wrong-payload-type",
        ),
        (
            "payload is not base64",
            "alice",
            raw("not base64!", IN_TOTO_PAYLOAD_TYPE, one_sig.clone()),
            "bad-base64",
        ),
        (
            "sig is not base64",
            "alice",
            raw(&payload_b64, IN_TOTO_PAYLOAD_TYPE, json!([{"sig": "@@@@"}])),
            "bad-base64",
        ),
        (
            "base64 with non-zero trailing bits (AB== instead of AA==)",
            "alice",
            raw("AB==", IN_TOTO_PAYLOAD_TYPE, one_sig.clone()),
            "bad-base64",
        ),
        (
            "mixed base64 alphabets",
            "alice",
            raw("ab+_", IN_TOTO_PAYLOAD_TYPE, one_sig.clone()),
            "bad-base64",
        ),
        (
            "empty signature list",
            "alice",
            raw(&payload_b64, IN_TOTO_PAYLOAD_TYPE, json!([])),
            "no-signatures",
        ),
        (
            "signatures field missing",
            "alice",
            json!({"payload": payload_b64, "payloadType": IN_TOTO_PAYLOAD_TYPE}).to_string(),
            "malformed-json",
        ),
        (
            "empty payloadType",
            "alice",
            raw(&payload_b64, "", one_sig.clone()),
            "bad-payload-type",
        ),
        (
            "empty sig",
            "alice",
            raw(&payload_b64, IN_TOTO_PAYLOAD_TYPE, json!([{"sig": ""}])),
            "bad-signature-length",
        ),
        ("17 signatures", "alice", too_many.to_json(), "too-many-signatures"),
        (
            "duplicate field",
            "alice",
            format!(
                r#"{{"payload":"{payload_b64}","payload":"{payload_b64}","payloadType":"{IN_TOTO_PAYLOAD_TYPE}","signatures":[{{"sig":"{sig_b64}"}}]}}"#
            ),
            "malformed-json",
        ),
        ("not JSON", "alice", "DSSEv1".to_owned(), "malformed-json"),
        (
            "envelope JSON larger than 64 KiB",
            "alice",
            big,
            "too-large",
        ),
    ]
    .into_iter()
    .map(|(d, k, e, err)| json!({"description": d, "key": k, "envelope": e, "error": err}))
    .collect();

    VectorFile {
        name: "envelopes.json",
        content: json!({
            "description": "DSSE JSON envelopes signed with the Ed25519 keys of keys.json.",
            "procedure": "Parse `envelope` (at most 65536 bytes; payload and sig in standard or URL-safe base64, padding optional, trailing bits zero; at most 16 signatures; unknown fields ignored), require payloadType == \"application/vnd.in-toto+json\", then require a valid Ed25519 (strict) signature over PAE by the public key of `key`. Valid cases give payloadHex, paeHex, envelopeDigest = hex(SHA-256(PAE)) and the index of the verifying signature; invalid cases give the error class.",
            "valid": valid,
            "invalid": invalid,
        }),
    }
}

fn subject_summary(kind: &SubjectKind) -> Value {
    match kind {
        SubjectKind::Package(p) => json!({
            "kind": "package",
            "package": p.package,
            "version": p.version,
            "digests": p.digests,
        }),
        SubjectKind::Key(k) => json!({"kind": "key", "key": hex::encode(k)}),
        SubjectKind::Envelope(d) => json!({"kind": "envelope", "digest": hex::encode(d)}),
    }
}

fn vex_doc(status: &str, vuln: &str, products: &[&str], extra: Value) -> Value {
    let mut st = json!({
        "vulnerability": {"name": vuln},
        "products": products.iter().map(|p| json!({"@id": p})).collect::<Vec<_>>(),
        "status": status,
    });
    if let (Some(o), Value::Object(e)) = (st.as_object_mut(), extra) {
        o.extend(e);
    }
    json!({
        "@context": OPENVEX_V0_2_0,
        "@id": "https://advisories.example/vex/2025-0001",
        "author": "security@advisories.example",
        "timestamp": "2025-01-01T00:00:00Z",
        "version": 1,
        "statements": [st],
    })
}

/// The valid statements, as (description, statement).
fn valid_statements() -> Vec<(&'static str, Statement)> {
    let serde = "pkg:cargo/serde@1.0.210";
    let v = |p: &str| Subject::package_version(p, artifact(p));
    let revoked = Envelope::sign(
        IN_TOTO_PAYLOAD_TYPE,
        adoption_statement(serde, "adopted").to_json(),
        &test_key("alice"),
    )
    .digest();
    vec![
        ("adoption: adopted", adoption_statement(serde, "adopted")),
        (
            "adoption: rejected, with a comment",
            Statement::new(
                vec![v(serde)],
                ADOPTION_V1,
                json!({"status": "rejected", "comment": "breaks our build"}),
            ),
        ),
        (
            "adoption of several versions and ecosystems at once",
            Statement::new(
                vec![
                    v("pkg:npm/%40angular/core@17.0.0"),
                    v("pkg:pypi/requests@2.32.3"),
                    v("pkg:cargo/tokio@1.40.0"),
                ],
                ADOPTION_V1,
                json!({"status": "adopted"}),
            ),
        ),
        (
            "adoption of an npm version named by its sha512 (SRI) digest alone",
            Statement::new(
                vec![Subject::package_version_digests(
                    "pkg:npm/left-pad@1.3.0",
                    std::collections::BTreeMap::from([("sha512".to_owned(), "5e".repeat(64))]),
                )],
                ADOPTION_V1,
                json!({"status": "adopted"}),
            ),
        ),
        (
            "adoption with non-canonical names: the package is PEP 503 / crates.io canonical",
            Statement::new(
                vec![
                    v("pkg:pypi/Zope.Interface@6.0"),
                    v("pkg:cargo/Serde_JSON@1.0.128"),
                ],
                ADOPTION_V1,
                json!({"status": "adopted"}),
            ),
        ),
        (
            "audit: pass with criteria and capabilities",
            Statement::new(
                vec![v(serde)],
                AUDIT_V1,
                json!({"verdict": "pass", "criteria": ["safe-to-deploy", "safe-to-run"], "capabilities": ["build-script", "unsafe-code"], "notes": "reviewed the full diff from 1.0.209"}),
            ),
        ),
        (
            "audit: fail, capabilities not assessed",
            Statement::new(
                vec![v("pkg:cargo/evil-crate@0.1.1")],
                AUDIT_V1,
                json!({"verdict": "fail", "criteria": ["safe-to-run"]}),
            ),
        ),
        (
            "audit: pass, uses no listed capability",
            Statement::new(
                vec![v("pkg:cargo/itoa@1.0.11")],
                AUDIT_V1,
                json!({"verdict": "pass", "criteria": ["safe-to-deploy"], "capabilities": []}),
            ),
        ),
        (
            "trust: high, key as hex",
            Statement::new(
                vec![Subject::key(&pk("bob"))],
                TRUST_V1,
                json!({"key": pk_hex("bob"), "level": "high"}),
            ),
        ),
        (
            "trust: medium, key as signed-note verifier key, scoped to one package",
            Statement::new(
                vec![Subject::key(&pk("carol"))],
                TRUST_V1,
                json!({"key": verifier_key("carol.test", &pk("carol")), "level": "medium", "scope": "pkg:cargo/serde"}),
            ),
        ),
        (
            "trust: distrust, key as ed25519:<hex>",
            Statement::new(
                vec![Subject::key(&pk("carol"))],
                TRUST_V1,
                json!({"key": format!("ed25519:{}", pk_hex("carol")), "level": "distrust", "comment": "published malware"}),
            ),
        ),
        (
            "revocation of alice's adoption of serde 1.0.210",
            Statement::new(
                vec![Subject::envelope(&revoked)],
                REVOCATION_V1,
                json!({"envelopeDigest": hex::encode(revoked), "reason": "rolled back"}),
            ),
        ),
        (
            "ownership change of a package (unversioned subject, name digest)",
            Statement::new(
                vec![Subject::package("pkg:cargo/left-pad")],
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [{"name": "github:alice"}], "new": [{"name": "github:mallory", "key": pk_hex("carol")}]}),
            ),
        ),
        (
            "ownership change first visible in a version",
            Statement::new(
                vec![v("pkg:npm/event-stream@3.3.6")],
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [], "new": [{"name": "right9ctrl"}], "comment": "new maintainer published this version"}),
            ),
        ),
        (
            "OpenVEX: malicious package, every version affected",
            Statement::new(
                vec![Subject::package("pkg:cargo/evil-crate")],
                OPENVEX_V0_2_0,
                vex_doc(
                    "affected",
                    "MAL-2025-0001",
                    &["pkg:cargo/evil-crate"],
                    json!({"action_statement": "remove the crate"}),
                ),
            ),
        ),
        (
            "OpenVEX: vulnerable versions and the fix version",
            Statement::new(
                vec![Subject::package("pkg:cargo/openssl")],
                OPENVEX_V0_2_0,
                json!({
                    "@context": OPENVEX_V0_2_0,
                    "@id": "https://advisories.example/vex/2025-0002",
                    "author": "security@advisories.example",
                    "timestamp": "2025-01-02T00:00:00Z",
                    "version": 2,
                    "statements": [
                        {"vulnerability": {"name": "RUSTSEC-2025-0002", "aliases": ["CVE-2025-0002"]},
                         "products": [{"@id": "pkg:cargo/openssl@0.10.65"}, {"@id": "pkg:cargo/openssl@0.10.66"}],
                         "status": "affected", "action_statement": "upgrade to 0.10.67"},
                        {"vulnerability": {"name": "RUSTSEC-2025-0002"},
                         "products": [{"@id": "https://crates.io/crates/openssl/0.10.67", "identifiers": {"purl": "pkg:cargo/openssl@0.10.67"}}],
                         "status": "fixed"},
                    ],
                }),
            ),
        ),
        (
            "OpenVEX: not affected, with justification, versioned subject",
            Statement::new(
                vec![v("pkg:cargo/hyper@1.4.1")],
                OPENVEX_V0_2_0,
                vex_doc(
                    "not_affected",
                    "CVE-2025-0003",
                    &["pkg:cargo/hyper@1.4.1"],
                    json!({"justification": "vulnerable_code_not_in_execute_path"}),
                ),
            ),
        ),
        (
            "cargo-vet: imported full audit (versioned subject with the name digest)",
            Statement::new(
                vec![Subject::package("pkg:cargo/adler2@2.0.0")],
                CARGO_VET_V1,
                cargo_vet_audit(),
            ),
        ),
        (
            "cargo-vet: imported criterion, about the signer's vocabulary (key subject)",
            Statement::new(
                vec![Subject::key(&pk("alice"))],
                CARGO_VET_V1,
                json!({"kind": "criteria", "name": "ub-risk-0", "description": "No unsafe code.",
                       "implies": ["ub-risk-1"], "provenance": import_provenance("criteria.ub-risk-0")}),
            ),
        ),
        (
            "cargo-vet: imported wildcard audit of a crate (unversioned subject)",
            Statement::new(
                vec![Subject::package("pkg:cargo/bumpalo")],
                CARGO_VET_V1,
                json!({"kind": "wildcard", "criteria": ["safe-to-deploy"], "who": ["Nick Fitzgerald <fitzgen@gmail.com>"],
                       "userId": 696, "start": "2019-03-16", "end": "2026-08-21",
                       "provenance": import_provenance("wildcard-audits.bumpalo[0]")}),
            ),
        ),
        (
            "advisory: imported RustSec advisory with an OSV SEMVER range",
            Statement::new(
                vec![Subject::package("pkg:cargo/tower-http")],
                ADVISORY_V1,
                imported_advisory(),
            ),
        ),
        (
            "revocation by an importer, naming the upstream revision",
            Statement::new(
                vec![Subject::envelope(&revoked)],
                REVOCATION_V1,
                json!({"envelopeDigest": hex::encode(revoked),
                       "reason": "removed upstream: https://example.test/audits.toml at revision r2 no longer has this entry",
                       "provenance": {"source": "https://example.test/audits.toml", "revision": "r2",
                                      "fileSha256": sha256_hex(b"audits.toml at r2"), "tool": "quorum 0.1.0"}}),
            ),
        ),
    ]
}

/// The provenance of an imported test statement.
fn import_provenance(position: &str) -> Value {
    json!({"source": "https://example.test/audits.toml", "revision": "r1",
           "fileSha256": sha256_hex(b"audits.toml at r1"), "position": position, "tool": "quorum 0.1.0"})
}

fn cargo_vet_audit() -> Value {
    json!({"kind": "audit", "criteria": ["safe-to-deploy", "ub-risk-0"],
           "who": ["Lukasz Anforowicz <lukasza@chromium.org>"], "version": "2.0.0",
           "provenance": import_provenance("audits.adler2[1]")})
}

fn imported_advisory() -> Value {
    json!({"id": "RUSTSEC-2021-0135", "aliases": ["GHSA-wwh2-r387-g5rm"], "kind": "vulnerability",
           "categories": ["file-disclosure"],
           "affected": [{"package": "pkg:cargo/tower-http", "ecosystem": "crates.io", "os": ["windows"],
                         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.1.3"},
                                                                  {"introduced": "0.2.0"}, {"fixed": "0.2.1"}]}]}],
           "provenance": {"source": "https://github.com/rustsec/advisory-db", "revision": "r1",
                          "fileSha256": sha256_hex(b"RUSTSEC-2021-0135.md"),
                          "position": "crates/tower-http/RUSTSEC-2021-0135.md", "tool": "quorum 0.1.0"}})
}

fn base_statement_value() -> Value {
    adoption_statement("pkg:cargo/serde@1.0.210", "adopted").to_value()
}

fn with(mut v: Value, path: &[&str], new: Value) -> Value {
    let mut cur = &mut v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    *cur = new;
    v
}

fn stmt_json(subject: Value, predicate_type: &str, predicate: Value) -> String {
    text(
        serde_json::to_vec(&sort_keys(json!({
            "_type": STATEMENT_TYPE_V1,
            "subject": subject,
            "predicateType": predicate_type,
            "predicate": predicate,
        })))
        .unwrap_or_default(),
    )
}

fn pkg_subject(purl: &str) -> Value {
    json!([{"name": purl, "digest": {"sha256": hex::encode(artifact(purl))}}])
}

/// The invalid statements, as (description, statement JSON text, expected error).
fn invalid_statements() -> Vec<(String, String, &'static str)> {
    let base = base_statement_value();
    let s = |v: Value| text(serde_json::to_vec(&sort_keys(v)).unwrap_or_default());
    let serde_subject = pkg_subject("pkg:cargo/serde@1.0.210");
    let d = hex::encode(artifact("pkg:cargo/serde@1.0.210"));
    let bob = pk_hex("bob");
    let key_subject =
        json!([{"name": format!("ed25519:{bob}"), "digest": {"sha256": sha256_hex(&pk("bob"))}}]);
    let audit = |p: Value| stmt_json(serde_subject.clone(), AUDIT_V1, p);
    let vex = |p: Value| {
        stmt_json(
            json!([{"name": "pkg:cargo/evil-crate", "digest": {"sha256": sha256_hex(b"pkg:cargo/evil-crate")}}]),
            OPENVEX_V0_2_0,
            p,
        )
    };
    let deep = format!(
        r#"{{"_type":"{STATEMENT_TYPE_V1}","predicate":{{"status":"adopted","x":{}{}}},"predicateType":"{ADOPTION_V1}","subject":{}}}"#,
        "[".repeat(40),
        "]".repeat(40),
        serde_subject
    );
    let padded = format!(
        r#"{{"_type":"{STATEMENT_TYPE_V1}","pad":"{}","predicate":{{"status":"adopted"}},"predicateType":"{ADOPTION_V1}","subject":{}}}"#,
        "x".repeat(65_536),
        serde_subject
    );
    let cases: Vec<(&str, String, &'static str)> = vec![
        ("not JSON", "{\"_type\":".into(), "malformed-json"),
        ("a JSON array", "[]".into(), "malformed-json"),
        (
            "trailing data after the object",
            format!("{} {{}}", s(base.clone())),
            "malformed-json",
        ),
        ("nested 42 levels deep (limit 32)", deep, "json-too-deep"),
        ("larger than 64 KiB", padded, "json-too-large"),
        (
            "duplicate key inside the predicate",
            format!(
                r#"{{"_type":"{STATEMENT_TYPE_V1}","predicate":{{"status":"adopted","status":"rejected"}},"predicateType":"{ADOPTION_V1}","subject":{serde_subject}}}"#
            ),
            "json-duplicate-key",
        ),
        (
            "in-toto Statement v0.1",
            s(with(
                base.clone(),
                &["_type"],
                json!("https://in-toto.io/Statement/v0.1"),
            )),
            "wrong-statement-type",
        ),
        (
            "_type missing",
            s({
                let mut b = base.clone();
                b.as_object_mut().map(|o| o.remove("_type"));
                b
            }),
            "malformed-json",
        ),
        (
            "empty subject list",
            s(with(base.clone(), &["subject"], json!([]))),
            "no-subject",
        ),
        (
            "subject without digest",
            s(with(
                base.clone(),
                &["subject"],
                json!([{"name": "pkg:cargo/serde@1.0.210"}]),
            )),
            "malformed-json",
        ),
        (
            "the same subject twice",
            s(with(
                base.clone(),
                &["subject"],
                json!([serde_subject[0], serde_subject[0]]),
            )),
            "duplicate-subject",
        ),
        (
            "empty subject name",
            s(with(base.clone(), &["subject", "0", "name"], json!(""))),
            "bad-subject-name",
        ),
        (
            "a package subject without version (name digest) with only a sha512 digest",
            s(with(
                with(
                    base.clone(),
                    &["subject", "0", "name"],
                    json!("pkg:cargo/serde"),
                ),
                &["subject", "0", "digest"],
                json!({"sha512": "ab".repeat(64)}),
            )),
            "missing-sha256",
        ),
        (
            "an empty digest object",
            s(with(base.clone(), &["subject", "0", "digest"], json!({}))),
            "missing-digest",
        ),
        (
            "a sha1 digest alone (collisions can be made: never an artifact identity)",
            s(with(
                base.clone(),
                &["subject", "0", "digest"],
                json!({"sha1": "ab".repeat(20)}),
            )),
            "unsupported-digest",
        ),
        (
            "uppercase hex digest",
            s(with(
                base.clone(),
                &["subject", "0", "digest", "sha256"],
                json!(d.to_uppercase()),
            )),
            "bad-digest",
        ),
        (
            "digest one hex digit short",
            s(with(
                base.clone(),
                &["subject", "0", "digest", "sha256"],
                json!(&d[1..]),
            )),
            "bad-digest",
        ),
        (
            "an md5 digest besides sha256",
            s(with(
                base.clone(),
                &["subject", "0", "digest", "md5"],
                json!("00".repeat(16)),
            )),
            "unsupported-digest",
        ),
        (
            "subject is not a purl",
            s(with(
                base.clone(),
                &["subject", "0", "name"],
                json!("serde-1.0.210.crate"),
            )),
            "bad-purl",
        ),
        (
            "purl with a subpath",
            s(with(
                base.clone(),
                &["subject", "0", "name"],
                json!("pkg:cargo/serde@1.0.210#src/lib.rs"),
            )),
            "bad-purl",
        ),
        (
            "purl type starts with a digit",
            s(with(
                base.clone(),
                &["subject", "0", "name"],
                json!("pkg:9cargo/serde@1.0.210"),
            )),
            "bad-purl",
        ),
        (
            "purl without a name",
            s(with(
                base.clone(),
                &["subject", "0", "name"],
                json!("pkg:cargo/@1.0.210"),
            )),
            "bad-purl",
        ),
        (
            "adoption of an unversioned package",
            stmt_json(
                json!([{"name": "pkg:cargo/serde", "digest": {"sha256": sha256_hex(b"pkg:cargo/serde")}}]),
                ADOPTION_V1,
                json!({"status": "adopted"}),
            ),
            "version-required",
        ),
        (
            "unversioned purl with an artifact digest instead of the name digest",
            s(with(
                base.clone(),
                &["subject", "0", "name"],
                json!("pkg:cargo/serde"),
            )),
            "digest-mismatch",
        ),
        (
            "adoption of a key",
            stmt_json(
                key_subject.clone(),
                ADOPTION_V1,
                json!({"status": "adopted"}),
            ),
            "wrong-subject-kind",
        ),
        (
            "key subject with uppercase hex",
            stmt_json(
                json!([{"name": format!("ed25519:{}", bob.to_uppercase()), "digest": {"sha256": sha256_hex(&pk("bob"))}}]),
                TRUST_V1,
                json!({"key": bob, "level": "low"}),
            ),
            "bad-key-name",
        ),
        (
            "key subject with a wrong digest",
            stmt_json(
                json!([{"name": format!("ed25519:{bob}"), "digest": {"sha256": d}}]),
                TRUST_V1,
                json!({"key": bob, "level": "low"}),
            ),
            "digest-mismatch",
        ),
        (
            "empty predicateType",
            s(with(base.clone(), &["predicateType"], json!(""))),
            "no-predicate-type",
        ),
        (
            "predicate is a string",
            s(with(base.clone(), &["predicate"], json!("adopted"))),
            "predicate-not-object",
        ),
        (
            "predicate missing",
            s({
                let mut b = base.clone();
                b.as_object_mut().map(|o| o.remove("predicate"));
                b
            }),
            "predicate-not-object",
        ),
        (
            "unknown predicate type",
            s(with(
                base.clone(),
                &["predicateType"],
                json!("https://slsa.dev/provenance/v1"),
            )),
            "unknown-predicate-type",
        ),
        (
            "adoption: status missing",
            s(with(base.clone(), &["predicate"], json!({}))),
            "invalid-predicate",
        ),
        (
            "adoption: unknown status",
            s(with(
                base.clone(),
                &["predicate", "status"],
                json!("trialled"),
            )),
            "invalid-predicate",
        ),
        (
            "adoption: a timestamp field (time comes from the log)",
            s(with(
                base.clone(),
                &["predicate", "timestamp"],
                json!("2025-01-01T00:00:00Z"),
            )),
            "invalid-predicate",
        ),
        (
            "adoption: comment over 8 KiB",
            s(with(
                base.clone(),
                &["predicate", "comment"],
                json!("x".repeat(8193)),
            )),
            "invalid-field",
        ),
        (
            "audit: no criteria",
            audit(json!({"verdict": "pass", "criteria": []})),
            "invalid-field",
        ),
        (
            "audit: criterion with uppercase letters",
            audit(json!({"verdict": "pass", "criteria": ["Safe-To-Deploy"]})),
            "invalid-field",
        ),
        (
            "audit: the same criterion twice",
            audit(json!({"verdict": "pass", "criteria": ["safe-to-run", "safe-to-run"]})),
            "duplicate-value",
        ),
        (
            "audit: capability outside the vocabulary",
            audit(
                json!({"verdict": "pass", "criteria": ["safe-to-run"], "capabilities": ["telepathy"]}),
            ),
            "unknown-capability",
        ),
        (
            "audit: the same capability twice",
            audit(
                json!({"verdict": "pass", "criteria": ["safe-to-run"], "capabilities": ["network", "network"]}),
            ),
            "duplicate-value",
        ),
        (
            "audit: verdict neither pass nor fail",
            audit(json!({"verdict": "ok", "criteria": ["safe-to-run"]})),
            "invalid-predicate",
        ),
        (
            "audit: criteria is a string",
            audit(json!({"verdict": "pass", "criteria": "safe-to-run"})),
            "invalid-predicate",
        ),
        (
            "trust: key is not a key",
            stmt_json(
                key_subject.clone(),
                TRUST_V1,
                json!({"key": "bob", "level": "low"}),
            ),
            "bad-key",
        ),
        (
            "trust: verifier key with a wrong key hash",
            stmt_json(
                key_subject.clone(),
                TRUST_V1,
                json!({"key": verifier_key("bob.test", &pk("bob")).replacen("bob.test", "bob.tesT", 1), "level": "low"}),
            ),
            "bad-key",
        ),
        (
            "trust: unknown level",
            stmt_json(
                key_subject.clone(),
                TRUST_V1,
                json!({"key": bob, "level": "absolute"}),
            ),
            "invalid-predicate",
        ),
        (
            "trust: versioned scope",
            stmt_json(
                key_subject.clone(),
                TRUST_V1,
                json!({"key": bob, "level": "low", "scope": "pkg:cargo/serde@1.0.0"}),
            ),
            "invalid-field",
        ),
        (
            "trust: subject is another key",
            stmt_json(
                key_subject.clone(),
                TRUST_V1,
                json!({"key": pk_hex("carol"), "level": "low"}),
            ),
            "subject-rule",
        ),
        (
            "trust: subject is a package",
            stmt_json(
                serde_subject.clone(),
                TRUST_V1,
                json!({"key": bob, "level": "low"}),
            ),
            "subject-rule",
        ),
        (
            "revocation: digest too short",
            stmt_json(
                json!([{"name": "dsse-envelope", "digest": {"sha256": d}}]),
                REVOCATION_V1,
                json!({"envelopeDigest": &d[2..]}),
            ),
            "invalid-field",
        ),
        (
            "revocation: subject digest differs from envelopeDigest",
            stmt_json(
                json!([{"name": "dsse-envelope", "digest": {"sha256": d}}]),
                REVOCATION_V1,
                json!({"envelopeDigest": sha256_hex(b"other")}),
            ),
            "subject-rule",
        ),
        (
            "revocation: subject is a package",
            stmt_json(
                serde_subject.clone(),
                REVOCATION_V1,
                json!({"envelopeDigest": d}),
            ),
            "subject-rule",
        ),
        (
            "ownership change: no new owner",
            stmt_json(
                serde_subject.clone(),
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [{"name": "a"}], "new": []}),
            ),
            "invalid-field",
        ),
        (
            "ownership change: owner with neither name nor key",
            stmt_json(
                serde_subject.clone(),
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [], "new": [{}]}),
            ),
            "invalid-field",
        ),
        (
            "ownership change: nothing changed",
            stmt_json(
                serde_subject.clone(),
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [{"name": "a"}], "new": [{"name": "a"}]}),
            ),
            "invalid-field",
        ),
        (
            "ownership change: bad owner key",
            stmt_json(
                serde_subject.clone(),
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [], "new": [{"key": "zz"}]}),
            ),
            "bad-key",
        ),
        (
            "OpenVEX: wrong @context version",
            vex(with(
                vex_doc("fixed", "CVE-1", &["pkg:cargo/evil-crate@1.0.1"], json!({})),
                &["@context"],
                json!("https://openvex.dev/ns/v0.0.1"),
            )),
            "invalid-field",
        ),
        (
            "OpenVEX: affected without action_statement",
            vex(vex_doc(
                "affected",
                "MAL-1",
                &["pkg:cargo/evil-crate"],
                json!({}),
            )),
            "invalid-field",
        ),
        (
            "OpenVEX: not_affected without justification",
            vex(vex_doc(
                "not_affected",
                "CVE-1",
                &["pkg:cargo/evil-crate"],
                json!({}),
            )),
            "invalid-field",
        ),
        (
            "OpenVEX: unknown justification",
            vex(vex_doc(
                "not_affected",
                "CVE-1",
                &["pkg:cargo/evil-crate"],
                json!({"justification": "trust_me"}),
            )),
            "invalid-field",
        ),
        (
            "OpenVEX: unknown status",
            vex(vex_doc(
                "exploited",
                "CVE-1",
                &["pkg:cargo/evil-crate"],
                json!({}),
            )),
            "invalid-predicate",
        ),
        (
            "OpenVEX: no statements",
            vex(with(
                vex_doc("fixed", "CVE-1", &["pkg:cargo/evil-crate@1"], json!({})),
                &["statements"],
                json!([]),
            )),
            "invalid-field",
        ),
        (
            "OpenVEX: product is not a purl",
            vex(vex_doc(
                "fixed",
                "CVE-1",
                &["https://example.com/evil"],
                json!({}),
            )),
            "vex-product-not-purl",
        ),
        (
            "cargo-vet: versioned subject with an artifact digest (imports name versions)",
            stmt_json(
                json!([{"name": "pkg:cargo/adler2@2.0.0", "digest": {"sha256": hex::encode(artifact("pkg:cargo/adler2@2.0.0"))}}]),
                CARGO_VET_V1,
                cargo_vet_audit(),
            ),
            "digest-mismatch",
        ),
        (
            "cargo-vet: subject version differs from the audited version",
            stmt_json(
                json!([{"name": "pkg:cargo/adler2@2.0.1", "digest": {"sha256": sha256_hex(b"pkg:cargo/adler2@2.0.1")}}]),
                CARGO_VET_V1,
                cargo_vet_audit(),
            ),
            "subject-rule",
        ),
        (
            "cargo-vet: a delta without its start version",
            stmt_json(
                json!([{"name": "pkg:cargo/adler2@2.0.0", "digest": {"sha256": sha256_hex(b"pkg:cargo/adler2@2.0.0")}}]),
                CARGO_VET_V1,
                json!({"kind": "delta", "criteria": ["safe-to-run"], "to": "2.0.0",
                       "provenance": import_provenance("audits.adler2[2]")}),
            ),
            "invalid-field",
        ),
        (
            "cargo-vet: an imported entry without provenance",
            stmt_json(
                json!([{"name": "pkg:cargo/adler2@2.0.0", "digest": {"sha256": sha256_hex(b"pkg:cargo/adler2@2.0.0")}}]),
                CARGO_VET_V1,
                with(cargo_vet_audit(), &["provenance"], json!(null)),
            ),
            "invalid-predicate",
        ),
        (
            "advisory: a subject that is not an affected package",
            stmt_json(
                json!([{"name": "pkg:cargo/tower-http", "digest": {"sha256": sha256_hex(b"pkg:cargo/tower-http")}},
                       {"name": "pkg:cargo/serde", "digest": {"sha256": sha256_hex(b"pkg:cargo/serde")}}]),
                ADVISORY_V1,
                imported_advisory(),
            ),
            "subject-rule",
        ),
        (
            "advisory: a range event with two bounds",
            stmt_json(
                json!([{"name": "pkg:cargo/tower-http", "digest": {"sha256": sha256_hex(b"pkg:cargo/tower-http")}}]),
                ADVISORY_V1,
                with(
                    imported_advisory(),
                    &["affected", "0", "ranges", "0", "events", "0"],
                    json!({"introduced": "0", "fixed": "1.0.0"}),
                ),
            ),
            "invalid-field",
        ),
        (
            "OpenVEX: product not covered by a subject",
            vex(vex_doc(
                "fixed",
                "CVE-1",
                &["pkg:cargo/serde@1.0.210"],
                json!({}),
            )),
            "vex-product-not-in-subject",
        ),
    ];
    cases
        .into_iter()
        .map(|(d, j, e)| (d.to_owned(), j, e))
        .collect()
}

fn statements_file() -> VectorFile {
    let valid: Vec<Value> = valid_statements()
        .into_iter()
        .map(|(d, st)| {
            let checked = quorum_verifier::model::predicates::validate_statement(&st);
            let subjects: Vec<Value> = match &checked {
                Ok(c) => c.subjects.iter().map(subject_summary).collect(),
                Err(e) => vec![json!({"generatorError": e.to_string()})],
            };
            json!({
                "description": d,
                "statement": text(st.to_json()),
                "predicateType": st.predicate_type,
                "subjects": subjects,
            })
        })
        .collect();
    let invalid: Vec<Value> = invalid_statements()
        .into_iter()
        .map(|(d, j, e)| json!({"description": d, "statement": j, "error": e}))
        .collect();
    VectorFile {
        name: "statements.json",
        content: json!({
            "description": "in-toto Statement v1 payloads with every Quorum predicate type and OpenVEX, valid and invalid (spec/statements.md).",
            "procedure": "Parse `statement` (UTF-8 JSON text, at most 65536 bytes, nesting at most 32, no duplicate keys), check the statement shape, every subject, the predicate for its predicateType, and the subject rules of that type. Valid cases list each subject's kind: package (canonical purl without version, version or null, sha256), key (hex) or envelope (digest). Invalid cases give the error class.",
            "valid": valid,
            "invalid": invalid,
        }),
    }
}

fn entry_bytes(signer: &str, statement_json: Vec<u8>, payload_type: &str) -> Vec<u8> {
    let k = test_key(signer);
    LogEntry {
        receipt_time_millis: RECEIPT_TIME_MILLIS,
        envelope: Envelope::sign(payload_type, statement_json, &k),
        public_key: pk(signer),
    }
    .encode()
    .unwrap_or_default()
}

fn log_entries_file() -> VectorFile {
    let statements = valid_statements();
    let pick = |i: usize| {
        statements
            .get(i)
            .map(|(_, s)| s.to_json())
            .unwrap_or_default()
    };
    let valid_cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("alice adopts serde 1.0.210", "alice", pick(0)),
        ("bob audits serde 1.0.210", "bob", pick(3)),
        ("alice trusts bob", "alice", pick(6)),
        (
            "alice revokes her adoption of serde 1.0.210",
            "alice",
            pick(9),
        ),
        ("carol publishes an OpenVEX advisory", "carol", pick(12)),
    ];
    let valid: Vec<Value> = valid_cases
        .into_iter()
        .map(|(d, signer, st)| {
            let bytes = entry_bytes(signer, st, IN_TOTO_PAYLOAD_TYPE);
            let (digest, ptype) = match quorum_verifier::model::log_entry::verify_log_entry(&bytes)
            {
                Ok(v) => (
                    hex::encode(v.envelope_digest),
                    v.statement.statement.predicate_type.clone(),
                ),
                Err(e) => (format!("generator error: {e}"), String::new()),
            };
            json!({
                "description": d,
                "entry": hex::encode(&bytes),
                "leafHash": hex::encode(leaf_hash(&bytes)),
                "signer": pk_hex(signer),
                "receiptTimeMillis": RECEIPT_TIME_MILLIS.to_string(),
                "envelopeDigest": digest,
                "predicateType": ptype,
            })
        })
        .collect();

    let good = entry_bytes("alice", pick(0), IN_TOTO_PAYLOAD_TYPE);
    let alice_env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, pick(0), &test_key("alice"));
    let proto = |time: i64, env: Option<&Envelope>, key: Vec<u8>| -> Vec<u8> {
        use quorum_proto::prost::Message as _;
        quorum_proto::v1::LogEntry {
            receipt_time_millis: time,
            envelope: env.map(Envelope::to_proto),
            public_key: key,
        }
        .encode_to_vec()
    };
    let mut unknown_field = good.clone();
    unknown_field.extend_from_slice(&[0x20, 0x01]);
    let mut reordered = proto(0, Some(&alice_env), pk("alice").to_vec());
    reordered.extend_from_slice(&[0x08, 0x01]);
    let mut small_order = [0u8; 32];
    small_order[0] = 1;
    let bad_purl = {
        let mut v = adoption_statement("pkg:cargo/serde@1.0.210", "adopted").to_value();
        v["subject"][0]["name"] = json!("serde@1.0.210");
        serde_json::to_vec(&sort_keys(v)).unwrap_or_default()
    };
    let oversize = {
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, vec![b' '; 65_500], &test_key("alice"));
        proto(RECEIPT_TIME_MILLIS, Some(&env), pk("alice").to_vec())
    };
    let invalid_cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "the embedded key is bob's, the signature alice's",
            proto(RECEIPT_TIME_MILLIS, Some(&alice_env), pk("bob").to_vec()),
            "no-valid-signature",
        ),
        (
            "unknown protobuf field appended (not canonical)",
            unknown_field,
            "entry-non-canonical",
        ),
        (
            "receipt time written after the envelope (not canonical)",
            reordered,
            "entry-non-canonical",
        ),
        ("not protobuf", b"\xff\xff\xff\xff".to_vec(), "entry-decode"),
        (
            "truncated in the middle of the envelope",
            good[..good.len() / 2].to_vec(),
            "entry-decode",
        ),
        (
            "no envelope",
            proto(RECEIPT_TIME_MILLIS, None, pk("alice").to_vec()),
            "entry-missing-envelope",
        ),
        (
            "31-byte public key",
            proto(
                RECEIPT_TIME_MILLIS,
                Some(&alice_env),
                pk("alice")[..31].to_vec(),
            ),
            "entry-bad-public-key",
        ),
        (
            "small-order public key",
            proto(RECEIPT_TIME_MILLIS, Some(&alice_env), small_order.to_vec()),
            "entry-bad-public-key",
        ),
        (
            "negative receipt time",
            proto(-1, Some(&alice_env), pk("alice").to_vec()),
            "entry-bad-receipt-time",
        ),
        (
            "validly signed, payload type application/json",
            entry_bytes("alice", pick(0), "application/json"),
            "wrong-payload-type",
        ),
        (
            "validly signed statement with a malformed purl",
            entry_bytes("alice", bad_purl, IN_TOTO_PAYLOAD_TYPE),
            "bad-purl",
        ),
        (
            "validly signed payload that is not JSON",
            entry_bytes("alice", b"adopted".to_vec(), IN_TOTO_PAYLOAD_TYPE),
            "malformed-json",
        ),
        ("larger than 65535 bytes", oversize, "entry-too-large"),
    ];
    let invalid: Vec<Value> = invalid_cases
        .into_iter()
        .map(|(d, b, e)| json!({"description": d, "entry": hex::encode(b), "error": e}))
        .collect();

    VectorFile {
        name: "log-entries.json",
        content: json!({
            "description": "Log entries (leaf data): canonical protobuf quorum.v1.LogEntry bytes, hex (spec/log-entry.md).",
            "procedure": "Verify `entry` from its bytes alone: at most 65535 bytes, decodes as quorum.v1.LogEntry, re-encodes to the same bytes, receipt time >= 0, 32-byte Ed25519 key that is a valid point not of small order, envelope within DSSE limits with payloadType application/vnd.in-toto+json and a valid signature by that key, statement valid as in statements.json. Valid cases give leafHash = hex(SHA-256(0x00 || entry)), the signer key, the receipt time, envelopeDigest = hex(SHA-256(PAE)) and the predicate type; invalid cases give the error class.",
            "valid": valid,
            "invalid": invalid,
        }),
    }
}

/// Builds every vector file.
pub fn generate() -> Vec<VectorFile> {
    vec![
        keys_file(),
        pae_file(),
        envelopes_file(),
        statements_file(),
        log_entries_file(),
    ]
}
