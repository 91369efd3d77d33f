//! in-toto Statement v1 with Quorum's subject rules.
//!
//! A statement is the JSON payload of a DSSE envelope:
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "pkg:cargo/serde@1.0.210", "digest": {"sha256": "…"}}],
//!  "predicateType": "https://quorum.dev/attestation/adoption/v1",
//!  "predicate": {"status": "adopted"}}
//! ```
//!
//! Quorum knows three kinds of subject (see `spec/statements.md`):
//!
//! * a **package** or **package version**, named by a Package URL (`pkg:…`). A versioned
//!   purl's digests are those of the artifact, in any of [`ARTIFACT_DIGEST_ALGORITHMS`]
//!   (`sha256` for Cargo and PyPI, `sha512` for npm, whose lockfiles pin SRI `sha512`); an
//!   unversioned purl's digest is the SHA-256 of the subject name's UTF-8 bytes (the *name
//!   digest*), since there is no single artifact;
//! * a **key**, named `ed25519:<64 lowercase hex>`, whose digest is the SHA-256 of the 32 key
//!   bytes;
//! * an **envelope**, named [`ENVELOPE_SUBJECT_NAME`], whose digest is an envelope digest.
//!
//! JSON input is parsed strictly ([`parse_json`]): at most [`MAX_JSON_SIZE`] bytes, at most
//! [`MAX_JSON_DEPTH`] levels of nesting, and no duplicate object keys anywhere.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use packageurl::PackageUrl;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::ecosystem::Ecosystem;
use crate::model::dsse::truncate;

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE_V1: &str = "https://in-toto.io/Statement/v1";

/// The largest JSON document accepted (statement or predicate), in bytes.
pub const MAX_JSON_SIZE: usize = 64 * 1024;

/// The deepest nesting of arrays and objects accepted (the top-level value is depth 1).
pub const MAX_JSON_DEPTH: usize = 32;

/// The most subjects one statement may name.
pub const MAX_SUBJECTS: usize = 256;

/// The name of a subject that denotes a DSSE envelope by its envelope digest.
pub const ENVELOPE_SUBJECT_NAME: &str = "dsse-envelope";

/// The prefix of a subject name that denotes an Ed25519 key.
pub const KEY_SUBJECT_PREFIX: &str = "ed25519:";

/// The longest subject name accepted, in bytes.
pub const MAX_SUBJECT_NAME_SIZE: usize = 1024;

/// Errors from parsing or checking a statement and its subjects.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StatementError {
    /// The JSON is larger than [`MAX_JSON_SIZE`].
    #[error("JSON too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// The size found.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The JSON nests deeper than [`MAX_JSON_DEPTH`].
    #[error("JSON nests deeper than {MAX_JSON_DEPTH} levels")]
    TooDeep,
    /// An object has the same key twice.
    #[error("duplicate JSON object key `{0}`")]
    DuplicateKey(String),
    /// The JSON is malformed or does not have the statement's shape.
    #[error("malformed statement JSON: {0}")]
    Json(String),
    /// `_type` is not [`STATEMENT_TYPE_V1`].
    #[error("unsupported statement type `{0}`, expected `{STATEMENT_TYPE_V1}`")]
    WrongType(String),
    /// The subject list is empty.
    #[error("the statement has no subject")]
    NoSubject,
    /// The subject list is longer than [`MAX_SUBJECTS`].
    #[error("the statement has {0} subjects, at most {MAX_SUBJECTS} are allowed")]
    TooManySubjects(usize),
    /// Two subjects have the same name.
    #[error("subject `{0}` appears twice")]
    DuplicateSubject(String),
    /// A subject name is empty or too long.
    #[error("subject name must be 1 to {MAX_SUBJECT_NAME_SIZE} bytes")]
    BadSubjectName,
    /// A key, envelope or unversioned package subject has no `sha256` digest.
    #[error("subject `{0}` has no sha256 digest")]
    MissingSha256(String),
    /// A subject's `digest` object is empty.
    #[error("subject `{0}` has no digest")]
    MissingDigest(String),
    /// A digest algorithm Quorum does not know.
    #[error("subject `{subject}` has unsupported digest algorithm `{algorithm}`")]
    UnsupportedDigest {
        /// The subject's name.
        subject: String,
        /// The algorithm.
        algorithm: String,
    },
    /// A digest value is not lowercase hex of the algorithm's length.
    #[error("subject `{subject}`: {algorithm} digest must be {len} lowercase hex digits")]
    BadDigest {
        /// The subject's name.
        subject: String,
        /// The algorithm.
        algorithm: String,
        /// The required number of hex digits.
        len: usize,
    },
    /// The digest of an unversioned purl, a key or an envelope subject is not the one its
    /// name determines.
    #[error("subject `{0}`: the sha256 digest does not match the subject name")]
    DigestMismatch(String),
    /// `predicateType` is empty.
    #[error("predicateType is empty")]
    NoPredicateType,
    /// `predicate` is missing or not a JSON object.
    #[error("predicate must be a JSON object")]
    PredicateNotObject,
    /// A subject name that is not a valid purl, key or envelope name.
    #[error("subject `{name}` is not a valid package URL: {reason}")]
    BadPurl {
        /// The subject's name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A purl where a version is required has none.
    #[error("subject `{0}` must name a version (pkg:type/name@version)")]
    VersionRequired(String),
    /// A subject of the wrong kind for where it is used.
    #[error("subject `{name}` is not a {expected} subject")]
    WrongSubjectKind {
        /// The subject's name.
        name: String,
        /// The kind required.
        expected: &'static str,
    },
    /// A key subject whose name is not `ed25519:` followed by 64 lowercase hex digits.
    #[error("subject `{0}` is not a valid key name (ed25519:<64 lowercase hex digits>)")]
    BadKeyName(String),
}

impl StatementError {
    /// A stable, short name of the error class, used in test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            StatementError::TooLarge { .. } => "json-too-large",
            StatementError::TooDeep => "json-too-deep",
            StatementError::DuplicateKey(_) => "json-duplicate-key",
            StatementError::Json(_) => "malformed-json",
            StatementError::WrongType(_) => "wrong-statement-type",
            StatementError::NoSubject => "no-subject",
            StatementError::TooManySubjects(_) => "too-many-subjects",
            StatementError::DuplicateSubject(_) => "duplicate-subject",
            StatementError::BadSubjectName => "bad-subject-name",
            StatementError::MissingSha256(_) => "missing-sha256",
            StatementError::MissingDigest(_) => "missing-digest",
            StatementError::UnsupportedDigest { .. } => "unsupported-digest",
            StatementError::BadDigest { .. } => "bad-digest",
            StatementError::DigestMismatch(_) => "digest-mismatch",
            StatementError::NoPredicateType => "no-predicate-type",
            StatementError::PredicateNotObject => "predicate-not-object",
            StatementError::BadPurl { .. } => "bad-purl",
            StatementError::VersionRequired(_) => "version-required",
            StatementError::WrongSubjectKind { .. } => "wrong-subject-kind",
            StatementError::BadKeyName(_) => "bad-key-name",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Strict JSON
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Violation {
    TooDeep,
}

struct StrictSeed<'a> {
    /// Depth of the value this seed reads (the top-level value is 1).
    depth: usize,
    violation: &'a Cell<Option<Violation>>,
    duplicate: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.depth > MAX_JSON_DEPTH {
            self.violation.set(Some(Violation::TooDeep));
            return Err(serde::de::Error::custom("too deep"));
        }
        d.deserialize_any(self)
    }
}

impl StrictSeed<'_> {
    fn child(&self) -> Self {
        StrictSeed {
            depth: self.depth + 1,
            violation: self.violation,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                self.duplicate.set(Some(truncate(&key, 64)));
                return Err(serde::de::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(self.child())?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses JSON strictly: at most [`MAX_JSON_SIZE`] bytes, at most [`MAX_JSON_DEPTH`] levels
/// of nesting, no duplicate keys in any object, nothing after the value but whitespace.
pub fn parse_json(bytes: &[u8]) -> Result<Value, StatementError> {
    if bytes.len() > MAX_JSON_SIZE {
        return Err(StatementError::TooLarge {
            size: bytes.len(),
            limit: MAX_JSON_SIZE,
        });
    }
    let violation = Cell::new(None);
    let duplicate = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = StrictSeed {
        depth: 1,
        violation: &violation,
        duplicate: &duplicate,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(v) => Ok(v),
        Err(e) => {
            if let Some(key) = duplicate.take() {
                return Err(StatementError::DuplicateKey(key));
            }
            match violation.get() {
                Some(Violation::TooDeep) => Err(StatementError::TooDeep),
                // serde_json's own recursion limit (128) is above ours, so this is syntax.
                None => Err(StatementError::Json(e.to_string())),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Statement
// ---------------------------------------------------------------------------------------

/// One subject of a statement (an in-toto ResourceDescriptor reduced to what Quorum reads:
/// other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject's name: a purl, `ed25519:<hex>` or [`ENVELOPE_SUBJECT_NAME`].
    pub name: String,
    /// Digests by algorithm; always includes `sha256`. Values are lowercase hex.
    pub digest: BTreeMap<String, String>,
}

/// A package subject broken into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// The canonical purl without version (qualifiers kept), e.g. `pkg:cargo/serde`.
    pub package: String,
    /// The version, if the purl names one (in its ecosystem's normal form).
    pub version: Option<String>,
    /// The subject's digests by algorithm (lowercase hex): for a version, the artifact's
    /// (one or more of [`ARTIFACT_DIGEST_ALGORITHMS`]); for a package, the name digest.
    pub digests: BTreeMap<String, String>,
}

impl PackageRef {
    /// The `sha256` digest, if the subject has one.
    pub fn sha256(&self) -> Option<&str> {
        self.digests.get("sha256").map(String::as_str)
    }
}

/// What a subject denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKind {
    /// A package or package version.
    Package(PackageRef),
    /// An Ed25519 key.
    Key([u8; 32]),
    /// A DSSE envelope, by its envelope digest.
    Envelope([u8; 32]),
}

/// A parsed and shape-checked in-toto Statement v1.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The subjects, in document order.
    pub subject: Vec<Subject>,
    /// The predicate type URI.
    pub predicate_type: String,
    /// The predicate, a JSON object; its meaning depends on `predicate_type` (see
    /// [`crate::model::predicates`]).
    pub predicate: Value,
}

/// Rebuilds a JSON value with every object's keys inserted in sorted order.
pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// The digest algorithms a subject may carry, strongest last. A package version's subject
/// names its artifact by one or more of them; key, envelope and unversioned package subjects
/// always carry `sha256`. SHA-1 and MD5 are refused (`unsupported-digest`): a collision can
/// be made, so they cannot identify an artifact.
pub const ARTIFACT_DIGEST_ALGORITHMS: [&str; 3] = ["sha256", "sha384", "sha512"];

/// Hex digits required per known digest algorithm.
pub fn digest_hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    }
}

/// True when `s` is exactly `len` lowercase hex digits.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses exactly 64 lowercase hex digits into 32 bytes.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if !is_lower_hex(s, 64) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses a purl and splits it into canonical package (without version) and version.
/// Subpaths are rejected: a Quorum subject is a package, not a file inside one.
///
/// For the ecosystems of [`crate::ecosystem`] (cargo, npm, pypi) the name must be valid
/// there and comes out in its one canonical spelling (`pkg:pypi/Zope.Interface@6.0` →
/// `pkg:pypi/zope-interface`, version `6.0`), the version in the ecosystem's normal form
/// when it parses; every statement, lookup, index key and lockfile entry goes through this,
/// so two spellings of one package are one package everywhere.
pub fn parse_purl(name: &str) -> Result<(String, Option<String>), StatementError> {
    let bad = |reason: String| StatementError::BadPurl {
        name: truncate(name, 256),
        reason,
    };
    if !name.starts_with("pkg:") {
        return Err(bad("must start with `pkg:`".into()));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or control characters".into()));
    }
    check_percent_encoding(name).map_err(bad)?;
    let mut purl = PackageUrl::from_str(name).map_err(|e| bad(e.to_string()))?;
    if purl.subpath().is_some() {
        return Err(bad("subpaths are not allowed".into()));
    }
    let version = purl.version().map(str::to_owned);
    if version.as_deref() == Some("") {
        return Err(bad("empty version".into()));
    }
    purl.without_version();
    let Some(ecosystem) = Ecosystem::from_purl_type(purl.ty()) else {
        return Ok((purl.to_string(), version));
    };
    // One name per package: the ecosystem's canonical spelling, whatever the signer wrote.
    let (namespace, canonical_name) = ecosystem
        .canonical_purl_parts(purl.namespace(), purl.name())
        .map_err(|e| bad(e.to_string()))?;
    let mut canonical =
        PackageUrl::new(purl.ty(), canonical_name.as_str()).map_err(|e| bad(e.to_string()))?;
    if let Some(ns) = namespace.as_deref() {
        canonical
            .with_namespace(ns)
            .map_err(|e| bad(e.to_string()))?;
    }
    for (key, value) in purl.qualifiers() {
        canonical
            .add_qualifier(key.as_ref(), value.as_ref())
            .map_err(|e| bad(e.to_string()))?;
    }
    let version = version.map(|v| ecosystem.canonical_version(&v));
    Ok((canonical.to_string(), version))
}

/// Checks a purl's percent-encoding, which the purl parser decodes leniently: every `%` must
/// start a two-hex-digit escape, the decoded text must be UTF-8, and no escape may hide a
/// control character (a newline in a version would forge lines wherever it is shown).
fn check_percent_encoding(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            decoded.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex_digit = |j: usize| {
            bytes
                .get(j)
                .and_then(|b| char::from(*b).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        let (Some(high), Some(low)) = (hex_digit(i + 1), hex_digit(i + 2)) else {
            return Err(format!(
                "`%` at byte {i} does not start a two-hex-digit escape"
            ));
        };
        let byte = high * 16 + low;
        if byte < 0x20 || byte == 0x7f {
            return Err(format!("escape at byte {i} encodes a control character"));
        }
        decoded.push(byte);
        i += 3;
    }
    String::from_utf8(decoded)
        .map(|_| ())
        .map_err(|_| "percent-escapes do not decode to UTF-8".to_string())
}

impl Subject {
    /// Builds a package-version subject: `purl` must carry a version, `sha256` is the
    /// artifact's digest.
    pub fn package_version(purl: &str, sha256: [u8; 32]) -> Subject {
        Subject {
            name: purl.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex::encode(sha256))]),
        }
    }

    /// Builds a package-version subject named by any of the artifact's digests (algorithm →
    /// lowercase hex, from [`ARTIFACT_DIGEST_ALGORITHMS`]), e.g. only `sha512` for npm.
    pub fn package_version_digests(purl: &str, digests: BTreeMap<String, String>) -> Subject {
        Subject {
            name: purl.to_owned(),
            digest: digests,
        }
    }

    /// Builds a package subject (an unversioned purl) with its name digest.
    pub fn package(purl: &str) -> Subject {
        Subject {
            name: purl.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), sha256_hex(purl.as_bytes()))]),
        }
    }

    /// Builds a key subject for an Ed25519 public key.
    pub fn key(key: &[u8; 32]) -> Subject {
        Subject {
            name: format!("{KEY_SUBJECT_PREFIX}{}", hex::encode(key)),
            digest: BTreeMap::from([("sha256".to_owned(), sha256_hex(key))]),
        }
    }

    /// Builds an envelope subject naming an envelope digest.
    pub fn envelope(digest: &[u8; 32]) -> Subject {
        Subject {
            name: ENVELOPE_SUBJECT_NAME.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex::encode(digest))]),
        }
    }

    /// The `sha256` digest, or an empty string if the subject has none (a package version
    /// may be named by `sha384` or `sha512` alone).
    pub fn sha256(&self) -> &str {
        self.digest.get("sha256").map(String::as_str).unwrap_or("")
    }

    /// Checks the digests: at least one, every algorithm known, every value lowercase hex of
    /// the right length. Which algorithm is required depends on the kind ([`Subject::kind`]).
    fn check_digests(&self) -> Result<(), StatementError> {
        if self.digest.is_empty() {
            return Err(StatementError::MissingDigest(truncate(&self.name, 256)));
        }
        for (algorithm, value) in &self.digest {
            let Some(len) = digest_hex_len(algorithm) else {
                return Err(StatementError::UnsupportedDigest {
                    subject: truncate(&self.name, 256),
                    algorithm: truncate(algorithm, 64),
                });
            };
            if !is_lower_hex(value, len) {
                return Err(StatementError::BadDigest {
                    subject: truncate(&self.name, 256),
                    algorithm: algorithm.clone(),
                    len,
                });
            }
        }
        Ok(())
    }

    /// Classifies and checks the subject by its name (see the module documentation).
    pub fn kind(&self) -> Result<SubjectKind, StatementError> {
        self.check_digests()?;
        let sha = self.sha256();
        // Name digests are SHA-256: envelope, key and unversioned package subjects need one.
        let missing_sha256 = || StatementError::MissingSha256(truncate(&self.name, 256));
        if sha.is_empty()
            && (self.name == ENVELOPE_SUBJECT_NAME || self.name.starts_with(KEY_SUBJECT_PREFIX))
        {
            return Err(missing_sha256());
        }
        if self.name == ENVELOPE_SUBJECT_NAME {
            let digest = parse_hex32(sha).ok_or_else(|| StatementError::BadDigest {
                subject: self.name.clone(),
                algorithm: "sha256".into(),
                len: 64,
            })?;
            return Ok(SubjectKind::Envelope(digest));
        }
        if self.name.starts_with(KEY_SUBJECT_PREFIX) {
            let key = crate::model::principal::parse_key_name(&self.name)
                .ok_or_else(|| StatementError::BadKeyName(truncate(&self.name, 256)))?;
            if sha != sha256_hex(&key) {
                return Err(StatementError::DigestMismatch(self.name.clone()));
            }
            return Ok(SubjectKind::Key(key));
        }
        let (package, version) = parse_purl(&self.name)?;
        if version.is_none() && sha.is_empty() {
            return Err(missing_sha256());
        }
        if version.is_none() && sha != sha256_hex(self.name.as_bytes()) {
            return Err(StatementError::DigestMismatch(truncate(&self.name, 256)));
        }
        Ok(SubjectKind::Package(PackageRef {
            package,
            version,
            digests: self.digest.clone(),
        }))
    }

    /// The subject as a package: (purl without version, version, sha256). Fails for key and
    /// envelope subjects and for malformed purls.
    pub fn package_ref(&self) -> Result<PackageRef, StatementError> {
        match self.kind()? {
            SubjectKind::Package(p) => Ok(p),
            _ => Err(StatementError::WrongSubjectKind {
                name: truncate(&self.name, 256),
                expected: "package",
            }),
        }
    }

    /// The subject as a package version: like [`Subject::package_ref`] but the purl must
    /// carry a version. Returns (canonical purl without version, version).
    pub fn package_version_parts(&self) -> Result<(String, String), StatementError> {
        let p = self.package_ref()?;
        match p.version {
            Some(v) => Ok((p.package, v)),
            None => Err(StatementError::VersionRequired(truncate(&self.name, 256))),
        }
    }
}

fn subject_from_value(v: &Value) -> Result<Subject, StatementError> {
    let obj = v
        .as_object()
        .ok_or_else(|| StatementError::Json("a subject must be an object".into()))?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| StatementError::Json("a subject needs a string `name`".into()))?;
    if name.is_empty() || name.len() > MAX_SUBJECT_NAME_SIZE {
        return Err(StatementError::BadSubjectName);
    }
    let digest_obj = obj
        .get("digest")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            StatementError::Json(format!(
                "subject `{}` needs a `digest` object",
                truncate(name, 256)
            ))
        })?;
    let mut digest = BTreeMap::new();
    for (algorithm, value) in digest_obj {
        let value = value.as_str().ok_or_else(|| {
            StatementError::Json(format!(
                "digest `{}` must be a string",
                truncate(algorithm, 64)
            ))
        })?;
        digest.insert(algorithm.clone(), value.to_owned());
    }
    let subject = Subject {
        name: name.to_owned(),
        digest,
    };
    subject.check_digests()?;
    Ok(subject)
}

impl Statement {
    /// Builds a statement.
    pub fn new(subject: Vec<Subject>, predicate_type: &str, predicate: Value) -> Statement {
        Statement {
            subject,
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }

    /// Parses a statement from JSON bytes (strictly, see [`parse_json`]) and checks its
    /// shape: `_type`, 1 to [`MAX_SUBJECTS`] subjects with distinct names and valid digests,
    /// a non-empty `predicateType` and an object `predicate`. Unknown top-level fields are
    /// ignored, as in-toto requires. Subject *kinds* are checked per predicate by
    /// [`crate::model::predicates::validate_statement`].
    pub fn from_json(bytes: &[u8]) -> Result<Statement, StatementError> {
        let value = parse_json(bytes)?;
        Statement::from_value(&value)
    }

    /// Like [`Statement::from_json`], from an already parsed value.
    pub fn from_value(value: &Value) -> Result<Statement, StatementError> {
        let obj = value
            .as_object()
            .ok_or_else(|| StatementError::Json("a statement must be a JSON object".into()))?;
        let ty = obj
            .get("_type")
            .and_then(Value::as_str)
            .ok_or_else(|| StatementError::Json("missing string `_type`".into()))?;
        if ty != STATEMENT_TYPE_V1 {
            return Err(StatementError::WrongType(truncate(ty, 256)));
        }
        let subjects = obj
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| StatementError::Json("missing array `subject`".into()))?;
        if subjects.is_empty() {
            return Err(StatementError::NoSubject);
        }
        if subjects.len() > MAX_SUBJECTS {
            return Err(StatementError::TooManySubjects(subjects.len()));
        }
        let mut names = BTreeSet::new();
        let mut subject = Vec::with_capacity(subjects.len());
        for v in subjects {
            let s = subject_from_value(v)?;
            if !names.insert(s.name.clone()) {
                return Err(StatementError::DuplicateSubject(truncate(&s.name, 256)));
            }
            subject.push(s);
        }
        let predicate_type = obj
            .get("predicateType")
            .and_then(Value::as_str)
            .ok_or_else(|| StatementError::Json("missing string `predicateType`".into()))?;
        if predicate_type.is_empty() {
            return Err(StatementError::NoPredicateType);
        }
        let predicate = match obj.get("predicate") {
            Some(p @ Value::Object(_)) => p.clone(),
            _ => return Err(StatementError::PredicateNotObject),
        };
        Ok(Statement {
            subject,
            predicate_type: predicate_type.to_owned(),
            predicate,
        })
    }

    /// The statement as a JSON value (`_type`, `subject`, `predicateType`, `predicate`).
    pub fn to_value(&self) -> Value {
        let subjects = self
            .subject
            .iter()
            .map(|s| {
                let digest: Map<String, Value> = s
                    .digest
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                let mut m = Map::new();
                m.insert("name".into(), Value::String(s.name.clone()));
                m.insert("digest".into(), Value::Object(digest));
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert("_type".into(), Value::String(STATEMENT_TYPE_V1.into()));
        m.insert("subject".into(), Value::Array(subjects));
        m.insert(
            "predicateType".into(),
            Value::String(self.predicate_type.clone()),
        );
        m.insert("predicate".into(), self.predicate.clone());
        Value::Object(m)
    }

    /// Serializes to compact JSON with object keys sorted by their UTF-8 bytes at every
    /// level (deterministic bytes, whatever serde_json's map features).
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing a Value into a Vec cannot fail.
        serde_json::to_vec(&sort_keys(self.to_value())).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const D: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn stmt(subject: Value) -> Value {
        json!({
            "_type": STATEMENT_TYPE_V1,
            "subject": subject,
            "predicateType": "https://quorum.dev/attestation/adoption/v1",
            "predicate": {"status": "adopted"}
        })
    }

    fn parse(v: &Value) -> Result<Statement, StatementError> {
        Statement::from_json(&serde_json::to_vec(v).unwrap_or_default())
    }

    #[test]
    fn round_trip() {
        let s = Statement::new(
            vec![Subject::package_version(
                "pkg:cargo/serde@1.0.0",
                [0xaa; 32],
            )],
            "https://quorum.dev/attestation/adoption/v1",
            json!({"status": "adopted"}),
        );
        let bytes = s.to_json();
        assert_eq!(Statement::from_json(&bytes), Ok(s.clone()));
        let parts = s.subject[0].package_version_parts();
        assert_eq!(parts, Ok(("pkg:cargo/serde".into(), "1.0.0".into())));
    }

    #[test]
    fn purl_helpers() {
        assert_eq!(
            parse_purl("pkg:npm/%40angular/core@16.0.0?repository_url=x"),
            Ok((
                "pkg:npm/%40angular/core?repository_url=x".into(),
                Some("16.0.0".into())
            ))
        );
        // Well-formed escapes of printable UTF-8 stay accepted.
        assert!(parse_purl("pkg:generic/caf%C3%A9@1.0%2B1").is_ok());
        for bad in [
            "serde",
            "pkg:",
            "pkg:cargo",
            "pkg:cargo/",
            "pkg:1bad/x@1",
            "pkg:cargo/serde@1.0#src/lib.rs",
            "pkg:cargo/ser de@1",
            "pkg:cargo/serde@",
            // Percent-escapes: malformed, hiding control characters, or not UTF-8.
            "pkg:cargo/%zz@1.0.0",
            "pkg:cargo/%@1.0.0",
            "pkg:cargo/x%4@1.0.0",
            "pkg:cargo/a%00b@1.0.0",
            "pkg:cargo/x@1%0A",
            "pkg:cargo/x@1%7f",
            "pkg:cargo/x@%zz",
            "pkg:cargo/x%ff@1",
        ] {
            assert_eq!(
                parse_purl(bad).map_err(|e| e.kind()),
                Err("bad-purl"),
                "{bad}"
            );
        }
    }

    #[test]
    fn odd_purls_never_panic() {
        let odd = [
            "pkg:a/b@%",
            "pkg:a/%zz",
            "pkg:a/%",
            "pkg:a/b?=",
            "pkg:a/b?k",
            "pkg:a/b?k=",
            "pkg:a/b?=v",
            "pkg:a/b#",
            "pkg:a/b#/",
            "pkg:/",
            "pkg:a//b",
            "pkg:a/b/",
            "pkg://a/b",
            "pkg:a/b@1?",
            "pkg:a/✓@✓",
            "pkg:a/b@1#..",
            "pkg:a/b?a=1&a=2",
            "pkg:a/b?%=1",
            "pkg:a/\u{0}",
            "pkg:@",
            "pkg:a/@",
            "pkg:a/b@@",
            "pkg:a/b@1@2",
            "pkg:swift/x@1",
            "pkg:a/%2F@1",
            "pkg:a/b@%2F",
            "pkg:A/B@1",
            "pkg:pypi/Foo_Bar@1",
            "pkg:npm/%40/x@1",
            "pkg:a/b?k=%",
            "pkg:a/b?K=v",
        ];
        for name in odd {
            let _ = parse_purl(name);
            let _ = Subject::package(name).kind();
        }
        assert_eq!(
            parse_purl("pkg:pypi/Foo_Bar@1").map(|p| p.0),
            Ok("pkg:pypi/foo-bar".to_owned())
        );
    }

    #[test]
    fn artifact_digests() {
        let sha512 = "ab".repeat(64);
        // An npm version named by its SRI sha512 alone.
        let npm = Subject::package_version_digests(
            "pkg:npm/%40types/node@20.1.0",
            BTreeMap::from([("sha512".to_owned(), sha512.clone())]),
        );
        let p = npm.package_ref().unwrap();
        assert_eq!(p.sha256(), None);
        assert_eq!(p.digests.get("sha512"), Some(&sha512));
        let parsed = parse(&stmt(json!([{"name": npm.name, "digest": npm.digest}])));
        assert!(parsed.is_ok(), "{parsed:?}");
        // Name digests stay SHA-256: an unversioned package, a key, an envelope.
        let mut package = Subject::package("pkg:cargo/serde");
        package.digest = BTreeMap::from([("sha512".to_owned(), sha512.clone())]);
        assert_eq!(package.kind().map_err(|e| e.kind()), Err("missing-sha256"));
        let mut key = Subject::key(&[7; 32]);
        key.digest = BTreeMap::from([("sha512".to_owned(), sha512.clone())]);
        assert_eq!(key.kind().map_err(|e| e.kind()), Err("missing-sha256"));
        let mut envelope = Subject::envelope(&[7; 32]);
        envelope.digest = BTreeMap::from([("sha384".to_owned(), "cd".repeat(48))]);
        assert_eq!(envelope.kind().map_err(|e| e.kind()), Err("missing-sha256"));
        // SHA-1 never identifies an artifact, beside a strong digest or alone.
        for digests in [
            json!({"sha1": "ab".repeat(20)}),
            json!({"sha256": D, "sha1": "ab".repeat(20)}),
        ] {
            let v = stmt(json!([{"name": "pkg:npm/left-pad@1.3.0", "digest": digests}]));
            assert_eq!(parse(&v).map_err(|e| e.kind()), Err("unsupported-digest"));
        }
    }

    #[test]
    fn one_name_per_package() {
        for (given, package, version) in [
            (
                "pkg:pypi/zope.interface@6.0",
                "pkg:pypi/zope-interface",
                "6.0",
            ),
            (
                "pkg:pypi/Zope_Interface@6.0",
                "pkg:pypi/zope-interface",
                "6.0",
            ),
            (
                "pkg:pypi/zope-interface@6.0",
                "pkg:pypi/zope-interface",
                "6.0",
            ),
            ("pkg:pypi/Django@4.2RC1", "pkg:pypi/django", "4.2rc1"),
            (
                "pkg:npm/%40Babel/Core@7.0.0",
                "pkg:npm/%40babel/core",
                "7.0.0",
            ),
            ("pkg:npm/JSONStream@1.3.5", "pkg:npm/jsonstream", "1.3.5"),
            (
                "pkg:cargo/serde_json@1.0.0",
                "pkg:cargo/serde-json",
                "1.0.0",
            ),
            (
                "pkg:cargo/Inflector@0.11.4",
                "pkg:cargo/inflector",
                "0.11.4",
            ),
            // Qualifiers are kept: another repository is another package.
            (
                "pkg:pypi/Zope.Interface@6.0?repository_url=https://mirror.invalid",
                "pkg:pypi/zope-interface?repository_url=https:%2F%2Fmirror.invalid",
                "6.0",
            ),
            // Types without a known ecosystem keep the purl spec's canonical form.
            (
                "pkg:golang/github.com/x/y@v1.0.0",
                "pkg:golang/github.com/x/y",
                "v1.0.0",
            ),
        ] {
            assert_eq!(
                parse_purl(given),
                Ok((package.to_owned(), Some(version.to_owned()))),
                "{given}"
            );
        }
        for bad in [
            "pkg:pypi/zope..@1",
            "pkg:pypi/-x@1",
            "pkg:cargo/a~b@1.0.0",
            "pkg:cargo/ns/serde@1.0.0",
            "pkg:npm/%40/x@1.0.0",
        ] {
            assert_eq!(
                parse_purl(bad).map_err(|e| e.kind()),
                Err("bad-purl"),
                "{bad}"
            );
        }
    }

    #[test]
    fn subject_kinds() {
        let key = [7u8; 32];
        assert_eq!(Subject::key(&key).kind(), Ok(SubjectKind::Key(key)));
        assert_eq!(
            Subject::envelope(&key).kind(),
            Ok(SubjectKind::Envelope(key))
        );
        let p = Subject::package("pkg:cargo/serde").package_ref();
        assert_eq!(p.map(|p| p.version), Ok(None));
        let mut wrong = Subject::package("pkg:cargo/serde");
        wrong.digest.insert("sha256".into(), D.into());
        assert_eq!(wrong.kind().map_err(|e| e.kind()), Err("digest-mismatch"));
        let unversioned = Subject::package("pkg:cargo/serde");
        assert_eq!(
            unversioned.package_version_parts().map_err(|e| e.kind()),
            Err("version-required")
        );
        let mut k = Subject::key(&key);
        k.name = "ed25519:ABC".into();
        assert_eq!(k.kind().map_err(|e| e.kind()), Err("bad-key-name"));
    }

    #[test]
    fn malformed_statements_are_errors() {
        let good_subject = json!([{"name": "pkg:cargo/serde@1.0.0", "digest": {"sha256": D}}]);
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "malformed-json"),
            (
                {
                    let mut v = stmt(good_subject.clone());
                    v["_type"] = json!("https://in-toto.io/Statement/v0.1");
                    v
                },
                "wrong-statement-type",
            ),
            (stmt(json!([])), "no-subject"),
            (
                stmt(json!([{"name": "pkg:cargo/serde@1.0.0"}])),
                "malformed-json",
            ),
            (
                stmt(json!([{"name": "pkg:cargo/serde@1.0.0", "digest": {"sha1": D}}])),
                "unsupported-digest",
            ),
            (
                stmt(json!([{"name": "pkg:cargo/serde@1.0.0", "digest": {}}])),
                "missing-digest",
            ),
            (
                stmt(
                    json!([{"name": "pkg:cargo/serde@1.0.0", "digest": {"sha256": D.to_uppercase()}}]),
                ),
                "bad-digest",
            ),
            (
                stmt(
                    json!([{"name": "pkg:cargo/serde@1.0.0", "digest": {"sha256": D, "md5": "00"}}]),
                ),
                "unsupported-digest",
            ),
            (
                stmt(json!([{"name": "", "digest": {"sha256": D}}])),
                "bad-subject-name",
            ),
            (
                stmt(json!([
                    {"name": "pkg:cargo/serde@1.0.0", "digest": {"sha256": D}},
                    {"name": "pkg:cargo/serde@1.0.0", "digest": {"sha256": D}}
                ])),
                "duplicate-subject",
            ),
            (
                {
                    let mut v = stmt(good_subject.clone());
                    v["predicate"] = json!("adopted");
                    v
                },
                "predicate-not-object",
            ),
            (
                {
                    let mut v = stmt(good_subject.clone());
                    v["predicateType"] = json!("");
                    v
                },
                "no-predicate-type",
            ),
        ];
        for (v, kind) in cases {
            assert_eq!(parse(&v).map_err(|e| e.kind()), Err(kind), "{v}");
        }
    }

    #[test]
    fn strict_json() {
        assert_eq!(
            parse_json(br#"{"a":1,"a":2}"#).map_err(|e| e.kind()),
            Err("json-duplicate-key")
        );
        assert_eq!(
            parse_json(br#"{"a":{"b":1,"b":2}}"#).map_err(|e| e.kind()),
            Err("json-duplicate-key")
        );
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert_eq!(
            parse_json(deep.as_bytes()).map_err(|e| e.kind()),
            Err("json-too-deep")
        );
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(parse_json(ok.as_bytes()).is_ok());
        let very_deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
        assert!(parse_json(very_deep.as_bytes()).is_err());
        let big = vec![b' '; MAX_JSON_SIZE + 1];
        assert_eq!(
            parse_json(&big).map_err(|e| e.kind()),
            Err("json-too-large")
        );
        assert_eq!(
            parse_json(b"{} x").map_err(|e| e.kind()),
            Err("malformed-json")
        );
        assert_eq!(
            parse_json(b"\xff").map_err(|e| e.kind()),
            Err("malformed-json")
        );
        assert_eq!(
            parse_json(b"1e999").map_err(|e| e.kind()),
            Err("malformed-json")
        );
    }
}
