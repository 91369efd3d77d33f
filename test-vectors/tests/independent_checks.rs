//! Quorum's own vectors (`test-vectors/quorum/`) checked by a second implementation.
//!
//! `statement_vectors.rs` reads every case back through `quorum-verifier`, the code that
//! generated the files, so a mistake shared by the generator and the verifier (a wrong PAE,
//! a digest over the wrong bytes, a lenient signature check) would pass unnoticed. This file
//! re-derives what the vectors claim from the raw bytes with the primitives alone
//! (`ed25519-dalek`, `sha2`, `base64`, `serde_json`) and its own small readers written from
//! `spec/statements.md` and `spec/log-entry.md`, without calling `quorum-verifier` or
//! `quorum-c2sp` anywhere:
//!
//! - keys: seeds, public keys, key IDs and signed-note verifier keys;
//! - PAE by hand; every envelope (valid and invalid) through an envelope checker of its own,
//!   which must reach the recorded error class, and for valid ones the PAE, digest and index
//!   of the signature that verifies (strict Ed25519);
//! - statements: the statement layer (§2 and §2.1 of `spec/statements.md`: strict JSON,
//!   shape, subjects, digests, kinds, the purl's structure) for every case, and the
//!   predicate type and the subject kinds it allows; the predicates' own fields and the full
//!   purl grammar are not re-implemented here (cases failing only there are checked to pass
//!   every layer this file does implement);
//! - log entries: protobuf decoded and re-encoded by hand (canonical form), key and
//!   receipt-time rules, the envelope's signature, leaf hash and envelope digest.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("quorum")
}

fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing string `{name}` in {v}"))
}

fn unhex(v: &Value, name: &str) -> Vec<u8> {
    hex::decode(field(v, name)).unwrap_or_else(|e| panic!("bad hex in `{name}`: {e}"))
}

fn list<'a>(file: &'a Value, name: &str) -> &'a [Value] {
    file[name]
        .as_array()
        .unwrap_or_else(|| panic!("missing array `{name}`"))
}

/// The one name of a package, written from the rules rather than from the library's code:
/// PyPI folds case and every run of `-`, `_` and `.` into `-` (PEP 503); crates.io folds
/// case and treats `_` as `-`; npm names are lowercase. Other types are left as written.
fn canonical_package(package: &str) -> String {
    let Some((purl_type, path)) = package
        .strip_prefix("pkg:")
        .and_then(|rest| rest.split_once('/'))
    else {
        return package.to_owned();
    };
    let folded = match purl_type {
        "pypi" => {
            let mut out = String::new();
            for c in path.to_lowercase().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !out.ends_with('-') {
                        out.push('-');
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        "cargo" => path.to_lowercase().replace('_', "-"),
        "npm" => path.to_lowercase(),
        _ => path.to_owned(),
    };
    format!("pkg:{purl_type}/{folded}")
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// DSSE PAE, written from the DSSE specification.
fn pae(payload_type: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = b"DSSEv1 ".to_vec();
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type);
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Strict Ed25519 (RFC 8032 with canonical encodings, small-order keys refused), as
/// `spec/statements.md` §1 requires; a signature that is not 64 bytes never verifies.
fn verifies(key: &VerifyingKey, message: &[u8], sig: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(sig) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&bytes))
        .is_ok()
}

// ---------------------------------------------------------------------------------------
// Keys and PAE
// ---------------------------------------------------------------------------------------

#[test]
fn keys_are_rederived_from_their_names() {
    let file = load("keys.json");
    let keys = list(&file, "keys");
    assert!(keys.len() >= 3);
    for k in keys {
        let name = field(k, "name");
        let seed = sha256(&[b"quorum test-vectors key ", name.as_bytes()]);
        assert_eq!(hex::encode(seed), field(k, "seed"), "{name}");
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        assert_eq!(hex::encode(public), field(k, "publicKey"), "{name}");
        assert_eq!(hex::encode(sha256(&[&public])), field(k, "keyId"), "{name}");
        // C2SP signed-note: name + hex8(SHA-256(name || "\n" || 0x01 || key)[..4]) +
        // base64(0x01 || key).
        let note_name = format!("{name}.test");
        let id = sha256(&[note_name.as_bytes(), b"\n", &[0x01], &public]);
        let mut typed = vec![0x01];
        typed.extend_from_slice(&public);
        let vkey = format!(
            "{note_name}+{}+{}",
            hex::encode(&id[..4]),
            base64::engine::general_purpose::STANDARD.encode(&typed)
        );
        assert_eq!(vkey, field(k, "verifierKey"), "{name}");
    }
}

fn public_keys() -> Vec<(String, VerifyingKey)> {
    let file = load("keys.json");
    list(&file, "keys")
        .iter()
        .map(|k| {
            let bytes: [u8; 32] = unhex(k, "publicKey").try_into().expect("32 bytes");
            (
                field(k, "name").to_owned(),
                VerifyingKey::from_bytes(&bytes).expect("a valid point"),
            )
        })
        .collect()
}

fn key_named(keys: &[(String, VerifyingKey)], name: &str) -> VerifyingKey {
    keys.iter()
        .find(|(n, _)| n == name)
        .map(|(_, k)| *k)
        .unwrap_or_else(|| panic!("no key {name}"))
}

#[test]
fn pae_is_recomputed_by_hand() {
    let file = load("pae.json");
    let valid = list(&file, "valid");
    assert!(valid.len() >= 3);
    for c in valid {
        let got = pae(field(c, "payloadType").as_bytes(), &unhex(c, "payloadHex"));
        assert_eq!(hex::encode(got), field(c, "paeHex"));
    }
    // The example of spec/statements.md, as text.
    assert_eq!(
        pae(b"http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

// ---------------------------------------------------------------------------------------
// Strict JSON (no duplicate keys, bounded depth)
// ---------------------------------------------------------------------------------------

const DUPLICATE: &str = "duplicate key";
const TOO_DEEP: &str = "too deep";

/// Walks a JSON value, refusing a repeated object key and nesting deeper than `limit`
/// (the top-level value is level 1).
struct StrictJson {
    depth: usize,
    limit: usize,
}

impl<'de> DeserializeSeed<'de> for StrictJson {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictJson {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth > self.limit {
            return Err(de::Error::custom(TOO_DEEP));
        }
        while seq
            .next_element_seed(StrictJson {
                depth: self.depth + 1,
                limit: self.limit,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth > self.limit {
            return Err(de::Error::custom(TOO_DEEP));
        }
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            map.next_value_seed(StrictJson {
                depth: self.depth + 1,
                limit: self.limit,
            })?;
        }
        Ok(())
    }
}

/// Why strict parsing failed: a duplicate key, nesting too deep, or anything else.
#[derive(Debug, PartialEq, Eq)]
enum JsonProblem {
    Duplicate,
    TooDeep,
    Malformed,
}

fn strict_json(bytes: &[u8], depth_limit: usize) -> Result<Value, JsonProblem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let checked = StrictJson {
        depth: 1,
        limit: depth_limit,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Err(e) = checked {
        let text = e.to_string();
        return Err(if text.contains(DUPLICATE) {
            JsonProblem::Duplicate
        } else if text.contains(TOO_DEEP) {
            JsonProblem::TooDeep
        } else {
            JsonProblem::Malformed
        });
    }
    serde_json::from_slice(bytes).map_err(|_| JsonProblem::Malformed)
}

// ---------------------------------------------------------------------------------------
// Envelopes (spec/statements.md §1)
// ---------------------------------------------------------------------------------------

const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Standard or URL-safe alphabet (one per string), padding optional, trailing bits zero.
fn dsse_base64(text: &str) -> Option<Vec<u8>> {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    standard
        .decode(text)
        .ok()
        .or_else(|| url_safe.decode(text).ok())
}

/// What a valid envelope gives.
struct CheckedEnvelope {
    payload_type: String,
    payload: Vec<u8>,
    pae: Vec<u8>,
    signature_index: usize,
}

/// The envelope procedure of `envelopes.json`, from the spec: the error class or the result.
fn check_envelope(json: &str, key: &VerifyingKey) -> Result<CheckedEnvelope, &'static str> {
    if json.len() > 65536 {
        return Err("too-large");
    }
    let v = strict_json(json.as_bytes(), 32).map_err(|_| "malformed-json")?;
    let text = |name: &str| v.get(name).and_then(Value::as_str).ok_or("malformed-json");
    let payload_type = text("payloadType")?;
    let payload_b64 = text("payload")?;
    let signatures = v
        .get("signatures")
        .and_then(Value::as_array)
        .ok_or("malformed-json")?;
    let payload = dsse_base64(payload_b64).ok_or("bad-base64")?;
    let mut sigs = Vec::with_capacity(signatures.len());
    for s in signatures {
        let sig = s
            .get("sig")
            .and_then(Value::as_str)
            .ok_or("malformed-json")?;
        if s.get("keyid").is_some_and(|k| !k.is_string()) {
            return Err("malformed-json");
        }
        sigs.push(dsse_base64(sig).ok_or("bad-base64")?);
    }
    if payload.len() > 65536 {
        return Err("too-large");
    }
    match sigs.len() {
        0 => return Err("no-signatures"),
        n if n > 16 => return Err("too-many-signatures"),
        _ => {}
    }
    if payload_type.is_empty() || payload_type.len() > 256 {
        return Err("bad-payload-type");
    }
    if sigs.iter().any(|s| s.is_empty() || s.len() > 1024) {
        return Err("bad-signature-length");
    }
    if payload_type != IN_TOTO {
        return Err("wrong-payload-type");
    }
    let pae = pae(payload_type.as_bytes(), &payload);
    let signature_index = sigs
        .iter()
        .position(|s| verifies(key, &pae, s))
        .ok_or("no-valid-signature")?;
    Ok(CheckedEnvelope {
        payload_type: payload_type.to_owned(),
        payload,
        pae,
        signature_index,
    })
}

#[test]
fn envelopes_are_checked_by_a_second_implementation() {
    let keys = public_keys();
    let file = load("envelopes.json");
    let valid = list(&file, "valid");
    assert!(valid.len() >= 5);
    for c in valid {
        let what = field(c, "description");
        let key = key_named(&keys, field(c, "key"));
        let env = check_envelope(field(c, "envelope"), &key)
            .unwrap_or_else(|e| panic!("{what}: the second implementation says {e}"));
        assert_eq!(env.payload_type, field(c, "payloadType"), "{what}");
        assert_eq!(hex::encode(&env.payload), field(c, "payloadHex"), "{what}");
        assert_eq!(hex::encode(&env.pae), field(c, "paeHex"), "{what}");
        assert_eq!(
            hex::encode(sha256(&[&env.pae])),
            field(c, "envelopeDigest"),
            "{what}"
        );
        assert_eq!(
            Some(env.signature_index as u64),
            c["signatureIndex"].as_u64(),
            "{what}"
        );
    }
    let invalid = list(&file, "invalid");
    assert!(invalid.len() >= 10);
    for c in invalid {
        let what = field(c, "description");
        let got = check_envelope(field(c, "envelope"), &key_named(&keys, field(c, "key")));
        assert_eq!(got.err(), Some(field(c, "error")), "{what}");
    }
}

// ---------------------------------------------------------------------------------------
// Statements (spec/statements.md §2, §2.1, and the subject table of §4)
// ---------------------------------------------------------------------------------------

const ADOPTION: &str = "https://quorum.dev/attestation/adoption/v1";
const AUDIT: &str = "https://quorum.dev/attestation/audit/v1";
const TRUST: &str = "https://quorum.dev/attestation/trust/v1";
const REVOCATION: &str = "https://quorum.dev/attestation/revocation/v1";
const OWNERSHIP: &str = "https://quorum.dev/attestation/ownership-change/v1";
const OPENVEX: &str = "https://openvex.dev/ns/v0.2.0";
const CARGO_VET: &str = "https://quorum.dev/attestation/cargo-vet/v1";
const ADVISORY: &str = "https://quorum.dev/attestation/advisory/v1";

/// A subject as the vectors summarize it.
fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The statement layer: strict JSON, shape, subjects and their kinds, a known predicate
/// type whose subject kinds fit. Returns the subjects as `statements.json` summarizes them.
fn check_statement(bytes: &[u8]) -> Result<Vec<Value>, &'static str> {
    if bytes.len() > 65536 {
        return Err("json-too-large");
    }
    let v = strict_json(bytes, 32).map_err(|p| match p {
        JsonProblem::Duplicate => "json-duplicate-key",
        JsonProblem::TooDeep => "json-too-deep",
        JsonProblem::Malformed => "malformed-json",
    })?;
    let top = v.as_object().ok_or("malformed-json")?;
    let statement_type = top
        .get("_type")
        .and_then(Value::as_str)
        .ok_or("malformed-json")?;
    if statement_type != "https://in-toto.io/Statement/v1" {
        return Err("wrong-statement-type");
    }
    let subjects = top
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("malformed-json")?;
    match subjects.len() {
        0 => return Err("no-subject"),
        n if n > 256 => return Err("too-many-subjects"),
        _ => {}
    }
    let mut names = BTreeSet::new();
    let mut summaries = Vec::new();
    for s in subjects {
        let name = s
            .get("name")
            .and_then(Value::as_str)
            .ok_or("malformed-json")?;
        let digest = s
            .get("digest")
            .and_then(Value::as_object)
            .ok_or("malformed-json")?;
        if digest.values().any(|d| !d.is_string()) {
            return Err("malformed-json");
        }
        if name.is_empty() || name.len() > 1024 {
            return Err("bad-subject-name");
        }
        if digest.is_empty() {
            return Err("missing-digest");
        }
        for (alg, value) in digest {
            let len = match alg.as_str() {
                "sha256" => 64,
                "sha384" => 96,
                "sha512" => 128,
                _ => return Err("unsupported-digest"),
            };
            if !is_lower_hex(value.as_str().unwrap_or_default(), len) {
                return Err("bad-digest");
            }
        }
        // Name digests are SHA-256; a package version may be named by any accepted digest.
        let sha = digest.get("sha256").and_then(Value::as_str).unwrap_or("");
        let names_by_itself = name == "dsse-envelope" || name.starts_with("ed25519:");
        if sha.is_empty() && names_by_itself {
            return Err("missing-sha256");
        }
        let summary = if let Some(key) = name.strip_prefix("ed25519:") {
            if !is_lower_hex(key, 64) {
                return Err("bad-key-name");
            }
            let bytes = hex::decode(key).map_err(|_| "bad-key-name")?;
            if hex::encode(sha256(&[&bytes])) != sha {
                return Err("digest-mismatch");
            }
            serde_json::json!({"kind": "key", "key": key})
        } else if name == "dsse-envelope" {
            serde_json::json!({"kind": "envelope", "digest": sha})
        } else {
            // The purl's structure, not its full grammar: `pkg:`, a type starting with a
            // letter, a name, a non-empty version after `@`, no subpath. The vectors' valid
            // purls are canonical, so the package is the name up to the version's `@`.
            let path = name.split('?').next().unwrap_or(name);
            let (package, version) = match path.rsplit_once('@') {
                Some((p, v)) => (p, Some(v)),
                None => (path, None),
            };
            let rest = package.strip_prefix("pkg:").ok_or("bad-purl")?;
            let (purl_type, name_part) = rest.split_once('/').ok_or("bad-purl")?;
            let bare_name = name_part.rsplit('/').next().unwrap_or_default();
            if !purl_type.starts_with(|c: char| c.is_ascii_alphabetic())
                || bare_name.is_empty()
                || version.is_some_and(str::is_empty)
                || name.contains('#')
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err("bad-purl");
            }
            if version.is_none() && sha.is_empty() {
                return Err("missing-sha256");
            }
            if version.is_none() && hex::encode(sha256(&[name.as_bytes()])) != sha {
                return Err("digest-mismatch");
            }
            serde_json::json!({"kind": "package", "package": canonical_package(package), "version": version, "digests": digest})
        };
        if !names.insert(name) {
            return Err("duplicate-subject");
        }
        summaries.push(summary);
    }
    let predicate_type = top
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("malformed-json")?;
    if predicate_type.is_empty() {
        return Err("no-predicate-type");
    }
    if !top.get("predicate").is_some_and(Value::is_object) {
        return Err("predicate-not-object");
    }
    let kind = |s: &Value| s["kind"].as_str().unwrap_or_default().to_owned();
    let versioned = |s: &Value| s["kind"] == "package" && !s["version"].is_null();
    match predicate_type {
        ADOPTION | AUDIT => {
            for s in &summaries {
                if kind(s) != "package" {
                    return Err("wrong-subject-kind");
                }
                if !versioned(s) {
                    return Err("version-required");
                }
            }
        }
        OWNERSHIP | OPENVEX => {
            if summaries.iter().any(|s| kind(s) != "package") {
                return Err("wrong-subject-kind");
            }
        }
        TRUST => {
            if summaries.len() != 1 || kind(&summaries[0]) != "key" {
                return Err("subject-rule");
            }
        }
        REVOCATION => {
            if summaries.len() != 1 || kind(&summaries[0]) != "envelope" {
                return Err("subject-rule");
            }
        }
        CARGO_VET => {
            // Exactly one subject; imports name versions, not artifacts, so every package
            // subject carries the name digest, versioned or not (spec/statements.md §3.7).
            let [only] = summaries.as_slice() else {
                return Err("subject-rule");
            };
            match kind(only).as_str() {
                "key" => {}
                "package" => {
                    let name = subjects[0]["name"].as_str().unwrap_or_default();
                    if only["digests"]["sha256"] != hex::encode(sha256(&[name.as_bytes()])) {
                        return Err("digest-mismatch");
                    }
                }
                _ => return Err("subject-rule"),
            }
        }
        ADVISORY => {
            // Affected packages without version (§3.8).
            if summaries
                .iter()
                .any(|s| kind(s) != "package" || versioned(s))
            {
                return Err("subject-rule");
            }
        }
        _ => return Err("unknown-predicate-type"),
    }
    Ok(summaries)
}

/// Error classes of checks this file does not re-implement (the predicates' fields and the
/// rules that compare a predicate's fields with its subject).
const BEYOND_THE_STATEMENT_LAYER: &[&str] = &[
    "invalid-predicate",
    "invalid-field",
    "duplicate-value",
    "unknown-capability",
    "bad-key",
    "subject-rule",
    "vex-product-not-purl",
    "vex-product-not-in-subject",
];

#[test]
fn statements_are_checked_by_a_second_implementation() {
    let file = load("statements.json");
    let valid = list(&file, "valid");
    let mut types = BTreeSet::new();
    for c in valid {
        let what = field(c, "description");
        let subjects = check_statement(field(c, "statement").as_bytes())
            .unwrap_or_else(|e| panic!("{what}: the second implementation says {e}"));
        assert_eq!(Value::Array(subjects), c["subjects"], "{what}");
        let v: Value = serde_json::from_str(field(c, "statement")).expect("JSON");
        assert_eq!(v["predicateType"], c["predicateType"], "{what}");
        types.insert(field(c, "predicateType").to_owned());
    }
    assert_eq!(types.len(), 8, "every predicate type: {types:?}");
    let mut reproduced = BTreeSet::new();
    for c in list(&file, "invalid") {
        let what = field(c, "description");
        let expected = field(c, "error");
        match check_statement(field(c, "statement").as_bytes()) {
            Err(got) => {
                assert_eq!(got, expected, "{what}");
                reproduced.insert(got);
            }
            Ok(_) => assert!(
                BEYOND_THE_STATEMENT_LAYER.contains(&expected),
                "{what}: the second implementation accepts it, but `{expected}` is a class it checks"
            ),
        }
    }
    assert!(
        reproduced.len() >= 18,
        "error classes reproduced independently: {reproduced:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Log entries (spec/log-entry.md)
// ---------------------------------------------------------------------------------------

/// A minimal protobuf reader: (field number, wire type, value).
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn read_fields(buf: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let tag = read_varint(buf, &mut pos)?;
        let (number, wire) = (tag >> 3, tag & 7);
        match wire {
            0 => out.push((number, Wire::Varint(read_varint(buf, &mut pos)?))),
            2 => {
                let len = usize::try_from(read_varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((number, Wire::Bytes(buf.get(pos..end)?)));
                pos = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn write_bytes(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    if !bytes.is_empty() {
        write_varint(out, number << 3 | 2);
        write_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}

struct DecodedEntry<'a> {
    receipt_time: i64,
    payload: &'a [u8],
    payload_type: &'a [u8],
    signatures: Vec<(&'a [u8], &'a [u8])>,
    public_key: &'a [u8],
}

/// Decodes `quorum.v1.LogEntry` (field numbers of spec/log-entry.md §1): `None` if the bytes
/// are not protobuf of that shape, `Some(None)` if the envelope is missing.
fn decode_entry(bytes: &[u8]) -> Option<Option<DecodedEntry<'_>>> {
    let mut receipt_time = 0i64;
    let mut envelope = None;
    let mut public_key: &[u8] = &[];
    for (number, value) in read_fields(bytes)? {
        match (number, value) {
            // int64: two's complement in a 64-bit varint.
            (1, Wire::Varint(v)) => receipt_time = v as i64,
            (2, Wire::Bytes(b)) => envelope = Some(b),
            (3, Wire::Bytes(b)) => public_key = b,
            // An unknown field decodes (and makes the entry non-canonical).
            (n, _) if n > 3 => {}
            _ => return None,
        }
    }
    let Some(envelope) = envelope else {
        return Some(None);
    };
    let (mut payload, mut payload_type): (&[u8], &[u8]) = (&[], &[]);
    let mut signatures = Vec::new();
    for (number, value) in read_fields(envelope)? {
        match (number, value) {
            (1, Wire::Bytes(b)) => payload = b,
            (2, Wire::Bytes(b)) => payload_type = b,
            (3, Wire::Bytes(b)) => {
                let (mut sig, mut keyid): (&[u8], &[u8]) = (&[], &[]);
                for (n, v) in read_fields(b)? {
                    match (n, v) {
                        (1, Wire::Bytes(s)) => sig = s,
                        (2, Wire::Bytes(k)) => keyid = k,
                        _ => return None,
                    }
                }
                signatures.push((sig, keyid));
            }
            _ => return None,
        }
    }
    Some(Some(DecodedEntry {
        receipt_time,
        payload,
        payload_type,
        signatures,
        public_key,
    }))
}

/// The canonical encoding of a decoded entry: fields in order, defaults left out.
fn encode_entry(e: &DecodedEntry<'_>) -> Vec<u8> {
    let mut envelope = Vec::new();
    write_bytes(&mut envelope, 1, e.payload);
    write_bytes(&mut envelope, 2, e.payload_type);
    for (sig, keyid) in &e.signatures {
        let mut s = Vec::new();
        write_bytes(&mut s, 1, sig);
        write_bytes(&mut s, 2, keyid);
        write_varint(&mut envelope, 3 << 3 | 2);
        write_varint(&mut envelope, s.len() as u64);
        envelope.extend_from_slice(&s);
    }
    let mut out = Vec::new();
    if e.receipt_time != 0 {
        write_varint(&mut out, 1 << 3);
        write_varint(&mut out, e.receipt_time as u64);
    }
    // The envelope is always written, even empty.
    write_varint(&mut out, 2 << 3 | 2);
    write_varint(&mut out, envelope.len() as u64);
    out.extend_from_slice(&envelope);
    write_bytes(&mut out, 3, e.public_key);
    out
}

/// What a valid entry gives.
struct CheckedEntry {
    leaf_hash: [u8; 32],
    signer: Vec<u8>,
    receipt_time: i64,
    envelope_digest: [u8; 32],
    statement: Result<Vec<Value>, &'static str>,
    predicate_type: String,
}

/// spec/log-entry.md §3, steps 1–5 by hand; step 6 (the statement) through
/// [`check_statement`], whose result is returned for the caller to judge.
fn check_entry(bytes: &[u8]) -> Result<CheckedEntry, &'static str> {
    if bytes.len() > 65535 {
        return Err("entry-too-large");
    }
    let decoded = decode_entry(bytes).ok_or("entry-decode")?;
    let Some(e) = decoded else {
        // Canonical or not, an entry without envelope is refused as such.
        return Err("entry-missing-envelope");
    };
    if encode_entry(&e) != bytes {
        return Err("entry-non-canonical");
    }
    if e.receipt_time < 0 {
        return Err("entry-bad-receipt-time");
    }
    let key = <[u8; 32]>::try_from(e.public_key)
        .ok()
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .filter(|k| !k.is_weak())
        .ok_or("entry-bad-public-key")?;
    if e.payload_type != IN_TOTO.as_bytes() {
        return Err("wrong-payload-type");
    }
    let pae = pae(e.payload_type, e.payload);
    if !e
        .signatures
        .iter()
        .any(|(sig, _)| verifies(&key, &pae, sig))
    {
        return Err("no-valid-signature");
    }
    let predicate_type = serde_json::from_slice::<Value>(e.payload)
        .ok()
        .and_then(|v| v["predicateType"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(CheckedEntry {
        leaf_hash: sha256(&[&[0x00], bytes]),
        signer: e.public_key.to_vec(),
        receipt_time: e.receipt_time,
        envelope_digest: sha256(&[&pae]),
        statement: check_statement(e.payload),
        predicate_type,
    })
}

#[test]
fn log_entries_are_checked_by_a_second_implementation() {
    let file = load("log-entries.json");
    let valid = list(&file, "valid");
    assert!(!valid.is_empty());
    for c in valid {
        let what = field(c, "description");
        let e = check_entry(&unhex(c, "entry"))
            .unwrap_or_else(|err| panic!("{what}: the second implementation says {err}"));
        assert!(e.statement.is_ok(), "{what}: {:?}", e.statement.err());
        assert_eq!(hex::encode(e.leaf_hash), field(c, "leafHash"), "{what}");
        assert_eq!(hex::encode(&e.signer), field(c, "signer"), "{what}");
        assert_eq!(
            e.receipt_time.to_string(),
            field(c, "receiptTimeMillis"),
            "{what}"
        );
        assert_eq!(
            hex::encode(e.envelope_digest),
            field(c, "envelopeDigest"),
            "{what}"
        );
        assert_eq!(e.predicate_type, field(c, "predicateType"), "{what}");
    }
    let invalid = list(&file, "invalid");
    assert!(invalid.len() >= 10);
    for c in invalid {
        let what = field(c, "description");
        let expected = field(c, "error");
        match check_entry(&unhex(c, "entry")) {
            Err(got) => assert_eq!(got, expected, "{what}"),
            Ok(e) => match e.statement {
                Err(got) => assert_eq!(got, expected, "{what}"),
                Ok(_) => assert!(
                    BEYOND_THE_STATEMENT_LAYER.contains(&expected),
                    "{what}: the second implementation accepts it, but `{expected}` is a class it checks"
                ),
            },
        }
    }
}
