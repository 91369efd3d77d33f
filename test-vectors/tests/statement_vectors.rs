//! Checks Quorum's own vectors (`test-vectors/quorum/`): the committed files equal what the
//! code generates, and every case, read from the files alone, passes or fails as recorded.

use std::collections::HashMap;

use quorum_test_vectors::quorum_vectors::{generate, vectors_dir};
use quorum_verifier::model::dsse::{
    Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey, VerifyingKey, key_id, pae,
};
use quorum_verifier::model::log_entry::verify_log_entry;
use quorum_verifier::model::predicates::validate_statement;
use quorum_verifier::model::statement::{Statement, SubjectKind};
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing string `{field}` in {v}"))
}

fn unhex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(s(v, field)).unwrap_or_else(|e| panic!("bad hex in `{field}`: {e}"))
}

fn cases<'a>(file: &'a Value, list: &str) -> &'a Vec<Value> {
    file[list]
        .as_array()
        .unwrap_or_else(|| panic!("missing array `{list}`"))
}

fn keys() -> HashMap<String, VerifyingKey> {
    let file = load("keys.json");
    let mut out = HashMap::new();
    for k in cases(&file, "keys") {
        let seed: [u8; 32] = unhex(k, "seed").try_into().expect("32-byte seed");
        let sk = SigningKey::from_bytes(&seed);
        let vk = sk.verifying_key();
        assert_eq!(hex::encode(vk.as_bytes()), s(k, "publicKey"));
        assert_eq!(key_id(&vk), s(k, "keyId"));
        out.insert(s(k, "name").to_owned(), vk);
    }
    out
}

#[test]
fn committed_files_match_the_generator() {
    for file in generate() {
        let path = vectors_dir().join(file.name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == file.render(),
            "{} is out of date: run `cargo run -p quorum-test-vectors --bin gen-vectors`",
            path.display()
        );
    }
}

#[test]
fn pae_vectors() {
    let file = load("pae.json");
    let valid = cases(&file, "valid");
    assert!(!valid.is_empty());
    for c in valid {
        assert_eq!(
            hex::encode(pae(s(c, "payloadType"), &unhex(c, "payloadHex"))),
            s(c, "paeHex")
        );
    }
}

fn check_envelope(json: &str, key: &VerifyingKey) -> Result<(Envelope, usize), &'static str> {
    let env = Envelope::from_json(json.as_bytes()).map_err(|e| e.kind())?;
    env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)
        .map_err(|e| e.kind())?;
    let index = env.verify(key).map_err(|e| e.kind())?;
    Ok((env, index))
}

#[test]
fn envelope_vectors() {
    let keys = keys();
    let file = load("envelopes.json");
    for c in cases(&file, "valid") {
        let key = &keys[s(c, "key")];
        let (env, index) = check_envelope(s(c, "envelope"), key)
            .unwrap_or_else(|e| panic!("{}: rejected with {e}", s(c, "description")));
        assert_eq!(env.payload_type, s(c, "payloadType"));
        assert_eq!(hex::encode(&env.payload), s(c, "payloadHex"));
        assert_eq!(hex::encode(env.pae()), s(c, "paeHex"));
        assert_eq!(hex::encode(env.digest()), s(c, "envelopeDigest"));
        assert_eq!(Some(index as u64), c["signatureIndex"].as_u64());
    }
    let invalid = cases(&file, "invalid");
    assert!(invalid.len() >= 10);
    for c in invalid {
        let got = check_envelope(s(c, "envelope"), &keys[s(c, "key")]).map(|_| ());
        assert_eq!(got, Err(s(c, "error")), "{}", s(c, "description"));
    }
}

fn summary(kind: &SubjectKind) -> Value {
    match kind {
        SubjectKind::Package(p) => json!({
            "kind": "package", "package": p.package, "version": p.version, "digests": p.digests,
        }),
        SubjectKind::Key(k) => json!({"kind": "key", "key": hex::encode(k)}),
        SubjectKind::Envelope(d) => json!({"kind": "envelope", "digest": hex::encode(d)}),
    }
}

#[test]
fn statement_vectors() {
    let file = load("statements.json");
    let mut types = std::collections::BTreeSet::new();
    for c in cases(&file, "valid") {
        let st = Statement::from_json(s(c, "statement").as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", s(c, "description")));
        let v = validate_statement(&st).unwrap_or_else(|e| panic!("{}: {e}", s(c, "description")));
        assert_eq!(st.predicate_type, s(c, "predicateType"));
        let subjects: Vec<Value> = v.subjects.iter().map(summary).collect();
        assert_eq!(
            Value::Array(subjects),
            c["subjects"],
            "{}",
            s(c, "description")
        );
        types.insert(st.predicate_type.clone());
    }
    assert_eq!(
        types.len(),
        quorum_verifier::model::predicates::PREDICATE_TYPES.len(),
        "every predicate type has a valid vector"
    );
    let mut kinds = std::collections::BTreeSet::new();
    for c in cases(&file, "invalid") {
        let got = Statement::from_json(s(c, "statement").as_bytes())
            .map_err(|e| e.kind())
            .and_then(|st| validate_statement(&st).map(|_| ()).map_err(|e| e.kind()));
        assert_eq!(got, Err(s(c, "error")), "{}", s(c, "description"));
        kinds.insert(s(c, "error").to_owned());
    }
    assert!(
        kinds.len() >= 25,
        "invalid cases cover many error kinds: {kinds:?}"
    );
}

#[test]
fn log_entry_vectors() {
    let file = load("log-entries.json");
    for c in cases(&file, "valid") {
        let bytes = unhex(c, "entry");
        let v = verify_log_entry(&bytes).unwrap_or_else(|e| panic!("{}: {e}", s(c, "description")));
        assert_eq!(hex::encode(v.leaf_hash), s(c, "leafHash"));
        assert_eq!(hex::encode(v.signer), s(c, "signer"));
        assert_eq!(v.receipt_time_millis.to_string(), s(c, "receiptTimeMillis"));
        assert_eq!(hex::encode(v.envelope_digest), s(c, "envelopeDigest"));
        assert_eq!(v.statement.statement.predicate_type, s(c, "predicateType"));
    }
    for c in cases(&file, "invalid") {
        let got = verify_log_entry(&unhex(c, "entry"))
            .map(|_| ())
            .map_err(|e| e.kind());
        assert_eq!(got, Err(s(c, "error")), "{}", s(c, "description"));
    }
}
