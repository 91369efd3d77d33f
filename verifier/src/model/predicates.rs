//! Quorum's predicate types and OpenVEX advisories, with the rules that tie a statement's
//! subjects to its predicate.
//!
//! Quorum's own predicates live under [`QUORUM_PREDICATE_NAMESPACE`]:
//!
//! | predicate type | struct | subjects |
//! |---|---|---|
//! | [`ADOPTION_V1`] | [`Adoption`] | package versions |
//! | [`AUDIT_V1`] | [`Audit`] | package versions |
//! | [`TRUST_V1`] | [`Trust`] | exactly one key, the one in the predicate |
//! | [`REVOCATION_V1`] | [`Revocation`] | exactly one envelope, the one in the predicate |
//! | [`OWNERSHIP_CHANGE_V1`] | [`OwnershipChange`] | packages or package versions |
//! | [`OPENVEX_V0_2_0`] | [`OpenVex`] | packages or package versions, covering every product |
//!
//! Quorum's predicates are strict: unknown fields are errors (a new field means a new
//! version of the predicate type). OpenVEX documents follow the OpenVEX rule and may carry
//! fields Quorum does not read. No predicate carries a time of its own that Quorum uses:
//! time comes from the log.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::model::dsse::truncate;
use crate::model::statement::{
    PackageRef, Statement, StatementError, SubjectKind, parse_hex32, parse_json, parse_purl,
};

/// The URI prefix of every Quorum predicate type.
pub const QUORUM_PREDICATE_NAMESPACE: &str = "https://quorum.dev/attestation/";
/// Adoption: the signer runs (or refuses to run) a package version.
pub const ADOPTION_V1: &str = "https://quorum.dev/attestation/adoption/v1";
/// Audit: the signer reviewed a package version against criteria.
pub const AUDIT_V1: &str = "https://quorum.dev/attestation/audit/v1";
/// Trust: the signer vouches for (or distrusts) another key.
pub const TRUST_V1: &str = "https://quorum.dev/attestation/trust/v1";
/// Revocation: the signer withdraws one of its own earlier statements.
pub const REVOCATION_V1: &str = "https://quorum.dev/attestation/revocation/v1";
/// Ownership change: a package's owner or publisher changed.
pub const OWNERSHIP_CHANGE_V1: &str = "https://quorum.dev/attestation/ownership-change/v1";
/// OpenVEX v0.2.0, accepted for advisories (vulnerable or malicious versions, fixes).
pub const OPENVEX_V0_2_0: &str = "https://openvex.dev/ns/v0.2.0";

/// Every predicate type Quorum accepts.
pub const PREDICATE_TYPES: &[&str] = &[
    ADOPTION_V1,
    AUDIT_V1,
    TRUST_V1,
    REVOCATION_V1,
    OWNERSHIP_CHANGE_V1,
    OPENVEX_V0_2_0,
];

/// The longest free-text field (notes, comments, reasons, statements), in bytes.
pub const MAX_TEXT_SIZE: usize = 8 * 1024;
/// The longest identifier (criteria, names, vulnerability IDs), in bytes.
pub const MAX_IDENT_SIZE: usize = 256;
/// The most entries in any list of a predicate.
pub const MAX_LIST_LEN: usize = 256;

/// The closed vocabulary of audited capabilities.
pub const CAPABILITIES: &[&str] = &[
    "build-script",
    "crypto",
    "environment",
    "filesystem",
    "native-code",
    "network",
    "proc-macro",
    "process",
    "unsafe-code",
];

/// Errors from parsing or validating a predicate, or from tying it to its subjects.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PredicateError {
    /// The statement itself (JSON limits, shape, subjects) is invalid.
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// The predicate type is not one Quorum accepts.
    #[error("unknown predicate type `{0}`")]
    UnknownType(String),
    /// The predicate does not have the type's shape (missing or unknown field, wrong JSON
    /// type, value outside an enumeration).
    #[error("invalid {predicate_type} predicate: {reason}")]
    Schema {
        /// The predicate type.
        predicate_type: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// A field's value breaks a rule of its predicate type.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field (JSON path).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A capability outside [`CAPABILITIES`].
    #[error("unknown capability `{0}`")]
    UnknownCapability(String),
    /// A list that is a set has the same value twice.
    #[error("`{field}` lists `{value}` twice")]
    DuplicateValue {
        /// The field.
        field: &'static str,
        /// The repeated value.
        value: String,
    },
    /// A key that is neither 64 lowercase hex digits, `ed25519:<hex>`, nor a valid
    /// signed-note Ed25519 verifier key.
    #[error("invalid key `{key}`: {reason}")]
    BadKey {
        /// The key text (truncated).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The subjects do not fit the predicate type.
    #[error("subjects do not fit the predicate: {0}")]
    SubjectRule(String),
    /// An OpenVEX product that is not named by a purl.
    #[error("OpenVEX product `{0}` is not a package URL")]
    ProductNotPurl(String),
    /// An OpenVEX product whose package is not among the statement's subjects.
    #[error("OpenVEX product `{0}` is not covered by any subject of the statement")]
    ProductNotInSubject(String),
}

impl PredicateError {
    /// A stable, short name of the error class, used in test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            PredicateError::Statement(e) => e.kind(),
            PredicateError::UnknownType(_) => "unknown-predicate-type",
            PredicateError::Schema { .. } => "invalid-predicate",
            PredicateError::InvalidField { .. } => "invalid-field",
            PredicateError::UnknownCapability(_) => "unknown-capability",
            PredicateError::DuplicateValue { .. } => "duplicate-value",
            PredicateError::BadKey { .. } => "bad-key",
            PredicateError::SubjectRule(_) => "subject-rule",
            PredicateError::ProductNotPurl(_) => "vex-product-not-purl",
            PredicateError::ProductNotInSubject(_) => "vex-product-not-in-subject",
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> PredicateError {
    PredicateError::InvalidField {
        field,
        reason: reason.into(),
    }
}

fn check_text(field: &'static str, text: &Option<String>) -> Result<(), PredicateError> {
    if let Some(t) = text
        && t.len() > MAX_TEXT_SIZE
    {
        return Err(invalid(field, format!("longer than {MAX_TEXT_SIZE} bytes")));
    }
    Ok(())
}

fn check_ident(field: &'static str, text: &str) -> Result<(), PredicateError> {
    if text.is_empty() || text.len() > MAX_IDENT_SIZE {
        return Err(invalid(
            field,
            format!("must be 1 to {MAX_IDENT_SIZE} bytes"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn check_list_len<T>(field: &'static str, list: &[T]) -> Result<(), PredicateError> {
    if list.len() > MAX_LIST_LEN {
        return Err(invalid(field, format!("more than {MAX_LIST_LEN} entries")));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

/// Parses a public key in one of the accepted forms:
///
/// * 64 lowercase hex digits (the raw 32-byte Ed25519 key);
/// * `ed25519:` followed by 64 lowercase hex digits (the key-subject name);
/// * a C2SP signed-note verifier key `<name>+<8 hex key hash>+<base64(0x01 || key)>`, whose
///   key hash (the first 4 bytes of SHA-256(name || "\n" || 0x01 || key)) must match.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], PredicateError> {
    let bad = |reason: &str| PredicateError::BadKey {
        key: truncate(text, 128),
        reason: reason.to_owned(),
    };
    if let Some(k) = parse_hex32(text) {
        return Ok(k);
    }
    if let Some(rest) = text.strip_prefix("ed25519:") {
        return parse_hex32(rest).ok_or_else(|| bad("expected 64 lowercase hex digits"));
    }
    // The name and the hash contain no `+`; the base64 key may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad(
            "expected 64 hex digits, ed25519:<hex> or a signed-note verifier key",
        ));
    };
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("verifier key name is empty or has spaces"));
    }
    if !crate::model::statement::is_lower_hex(hash, 8) {
        return Err(bad("verifier key hash must be 8 lowercase hex digits"));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad("verifier key is not valid base64"))?;
    let (Some(&0x01), Ok(key)) = (raw.first(), <[u8; 32]>::try_from(&raw[1.min(raw.len())..]))
    else {
        return Err(bad(
            "verifier key must be 0x01 followed by a 32-byte Ed25519 key",
        ));
    };
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&raw);
    let digest = h.finalize();
    if hex::encode(&digest[..4]) != hash {
        return Err(bad("verifier key hash does not match name and key"));
    }
    Ok(key)
}

// ---------------------------------------------------------------------------------------
// Predicate structs
// ---------------------------------------------------------------------------------------

/// Whether the signer adopted a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdoptionStatus {
    /// The signer runs this version.
    Adopted,
    /// The signer tried or considered this version and will not run it.
    Rejected,
}

/// `adoption/v1`: the signer runs (or rejects) the subject package versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Adoption {
    /// Adopted or rejected.
    pub status: AdoptionStatus,
    /// Optional free text (at most [`MAX_TEXT_SIZE`] bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An audit's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The version meets the criteria.
    Pass,
    /// The version fails the criteria (a veto signal).
    Fail,
}

/// `audit/v1`: the signer reviewed the subject package versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Audit {
    /// Pass or fail.
    pub verdict: Verdict,
    /// The criteria audited against, e.g. `safe-to-deploy`, `safe-to-run`: 1 to
    /// [`MAX_LIST_LEN`] distinct identifiers of lowercase letters, digits and `-`.
    pub criteria: Vec<String>,
    /// The capabilities the audited code uses, from [`CAPABILITIES`], distinct. Absent means
    /// "not assessed"; an empty list means "uses none of them".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    /// Optional free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// How much the signer trusts a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustLevel {
    /// Actively distrusted: cut the edges through this key.
    Distrust,
    /// No trust (withdraws an earlier trust statement).
    None,
    /// Low trust.
    Low,
    /// Medium trust.
    Medium,
    /// High trust.
    High,
}

/// `trust/v1`: the signer vouches for (or distrusts) a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Trust {
    /// The trusted key, in a form [`parse_public_key`] accepts.
    pub key: String,
    /// The level.
    pub level: TrustLevel,
    /// Optional scope: an unversioned purl; the trust then applies to that package only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Optional free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Trust {
    /// The trusted key's 32 bytes.
    pub fn public_key(&self) -> Result<[u8; 32], PredicateError> {
        parse_public_key(&self.key)
    }
}

/// `revocation/v1`: the signer withdraws one of its own earlier statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Revocation {
    /// The revoked statement's envelope digest (SHA-256 of its PAE), 64 lowercase hex.
    pub envelope_digest: String,
    /// Optional free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Revocation {
    /// The revoked envelope digest's 32 bytes.
    pub fn digest(&self) -> Result<[u8; 32], PredicateError> {
        parse_hex32(&self.envelope_digest)
            .ok_or_else(|| invalid("envelopeDigest", "must be 64 lowercase hex digits"))
    }
}

/// An owner or publisher of a package: a name (an account at the registry), a key, or
/// both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Owner {
    /// A registry account or team name, e.g. `github:serde-rs` or `dtolnay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A publishing key, in a form [`parse_public_key`] accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `ownership-change/v1`: the subject package's owners or publishers changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OwnershipChange {
    /// The owners before the change (may be empty when unknown).
    pub previous: Vec<Owner>,
    /// The owners after the change (at least one).
    pub new: Vec<Owner>,
    /// Optional free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An OpenVEX v0.2.0 document (the predicate of an OpenVEX attestation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenVex {
    /// Must be [`OPENVEX_V0_2_0`].
    #[serde(rename = "@context")]
    pub context: String,
    /// The document's IRI.
    #[serde(rename = "@id")]
    pub id: String,
    /// The author.
    pub author: String,
    /// The author's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The document's own timestamp (informational: Quorum's time comes from the log).
    pub timestamp: String,
    /// The document's version, at least 1.
    pub version: u64,
    /// The statements, at least one.
    pub statements: Vec<VexStatement>,
}

/// The VEX status of a product for a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// Not affected (needs a justification or an impact statement).
    NotAffected,
    /// Affected (needs an action statement).
    Affected,
    /// Fixed in this product version.
    Fixed,
    /// Under investigation.
    UnderInvestigation,
}

/// The vulnerability a VEX statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexVulnerability {
    /// The vulnerability's IRI.
    #[serde(rename = "@id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its identifier, e.g. `CVE-2024-1234`, `GHSA-…`, `RUSTSEC-…` or `MAL-…`.
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other identifiers of the same vulnerability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A product of a VEX statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexProduct {
    /// The product's IRI; for Quorum a purl unless `identifiers.purl` is given.
    #[serde(rename = "@id")]
    pub id: String,
    /// Identifiers by scheme (`purl`, `cpe22`, `cpe23`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<std::collections::BTreeMap<String, String>>,
}

impl VexProduct {
    /// The product's purl: `identifiers.purl` if present, else `@id`.
    pub fn purl(&self) -> &str {
        self.identifiers
            .as_ref()
            .and_then(|m| m.get("purl"))
            .map(String::as_str)
            .unwrap_or(&self.id)
    }
}

/// One VEX statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexStatement {
    /// The vulnerability.
    pub vulnerability: VexVulnerability,
    /// The products, at least one, each a purl.
    pub products: Vec<VexProduct>,
    /// The status.
    pub status: VexStatus,
    /// Why a product is not affected (OpenVEX's justification labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// How a product is not affected, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// What to do when affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    /// Notes on the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_notes: Option<String>,
}

/// OpenVEX's justification labels for `not_affected`.
pub const VEX_JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// Whether an advisory concerns malicious code or a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryKind {
    /// Malicious code: the vulnerability name or an alias starts with `MAL-` (the OSV
    /// malicious-packages convention).
    Malicious,
    /// Any other vulnerability.
    Vulnerable,
}

/// One (vulnerability, product) pair of an OpenVEX document, read as Quorum uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryClaim {
    /// The vulnerability identifier.
    pub vulnerability: String,
    /// Malicious or vulnerable.
    pub kind: AdvisoryKind,
    /// The canonical purl of the package without version.
    pub package: String,
    /// The version the claim is about; `None` means every version.
    pub version: Option<String>,
    /// `Affected` marks an affected version, `Fixed` names a fix version.
    pub status: VexStatus,
}

impl OpenVex {
    /// Every (vulnerability, product) claim of the document, in document order. Products
    /// whose purl does not parse are skipped (validation rejects them).
    pub fn claims(&self) -> Vec<AdvisoryClaim> {
        let mut out = Vec::new();
        for st in &self.statements {
            let malicious = std::iter::once(&st.vulnerability.name)
                .chain(&st.vulnerability.aliases)
                .any(|n| n.starts_with("MAL-"));
            for p in &st.products {
                if let Ok((package, version)) = parse_purl(p.purl()) {
                    out.push(AdvisoryClaim {
                        vulnerability: st.vulnerability.name.clone(),
                        kind: if malicious {
                            AdvisoryKind::Malicious
                        } else {
                            AdvisoryKind::Vulnerable
                        },
                        package,
                        version,
                        status: st.status,
                    });
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

fn is_criterion(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

fn check_set<'a>(
    field: &'static str,
    items: impl IntoIterator<Item = &'a String>,
) -> Result<(), PredicateError> {
    let mut seen = BTreeSet::new();
    for i in items {
        if !seen.insert(i.as_str()) {
            return Err(PredicateError::DuplicateValue {
                field,
                value: truncate(i, 64),
            });
        }
    }
    Ok(())
}

impl Adoption {
    fn validate(&self) -> Result<(), PredicateError> {
        check_text("comment", &self.comment)
    }
}

impl Audit {
    fn validate(&self) -> Result<(), PredicateError> {
        if self.criteria.is_empty() {
            return Err(invalid("criteria", "at least one criterion is required"));
        }
        check_list_len("criteria", &self.criteria)?;
        for c in &self.criteria {
            if !is_criterion(c) {
                return Err(invalid(
                    "criteria",
                    format!(
                        "`{}` is not 1 to 64 lowercase letters, digits and `-`",
                        truncate(c, 64)
                    ),
                ));
            }
        }
        check_set("criteria", &self.criteria)?;
        if let Some(caps) = &self.capabilities {
            check_list_len("capabilities", caps)?;
            for c in caps {
                if !CAPABILITIES.contains(&c.as_str()) {
                    return Err(PredicateError::UnknownCapability(truncate(c, 64)));
                }
            }
            check_set("capabilities", caps)?;
        }
        check_text("notes", &self.notes)
    }

    /// The audited capabilities as a set (`None` when not assessed).
    pub fn capability_set(&self) -> Option<BTreeSet<&str>> {
        self.capabilities
            .as_ref()
            .map(|c| c.iter().map(String::as_str).collect())
    }
}

impl Trust {
    /// The canonical purl of the package the statement is scoped to, if any (the same key as
    /// every subject's package, whatever spelling the signer used; see
    /// `spec/packages-and-lockfiles.md` §1).
    pub fn scope_package(&self) -> Option<String> {
        self.scope
            .as_deref()
            .and_then(|scope| parse_purl(scope).ok())
            .map(|(package, _)| package)
    }

    fn validate(&self) -> Result<(), PredicateError> {
        self.public_key()?;
        if let Some(scope) = &self.scope {
            let (_, version) = parse_purl(scope).map_err(|e| invalid("scope", e.to_string()))?;
            if version.is_some() {
                return Err(invalid("scope", "a scope names a package, without version"));
            }
        }
        check_text("comment", &self.comment)
    }
}

impl Revocation {
    fn validate(&self) -> Result<(), PredicateError> {
        self.digest()?;
        check_text("reason", &self.reason)
    }
}

impl Owner {
    fn validate(&self) -> Result<(), PredicateError> {
        if self.name.is_none() && self.key.is_none() {
            return Err(invalid("owner", "an owner needs a name, a key or both"));
        }
        if let Some(n) = &self.name {
            check_ident("owner.name", n)?;
        }
        if let Some(k) = &self.key {
            parse_public_key(k)?;
        }
        Ok(())
    }
}

impl OwnershipChange {
    fn validate(&self) -> Result<(), PredicateError> {
        if self.new.is_empty() {
            return Err(invalid("new", "at least one new owner is required"));
        }
        check_list_len("previous", &self.previous)?;
        check_list_len("new", &self.new)?;
        for o in self.previous.iter().chain(&self.new) {
            o.validate()?;
        }
        if self.previous == self.new {
            return Err(invalid("new", "the new owners equal the previous ones"));
        }
        check_text("comment", &self.comment)
    }
}

impl OpenVex {
    fn validate(&self) -> Result<(), PredicateError> {
        if self.context != OPENVEX_V0_2_0 {
            return Err(invalid("@context", format!("must be `{OPENVEX_V0_2_0}`")));
        }
        check_ident("@id", &self.id)?;
        check_ident("author", &self.author)?;
        check_ident("timestamp", &self.timestamp)?;
        if self.version == 0 {
            return Err(invalid("version", "must be at least 1"));
        }
        if self.statements.is_empty() {
            return Err(invalid("statements", "at least one statement is required"));
        }
        check_list_len("statements", &self.statements)?;
        for st in &self.statements {
            check_ident("vulnerability.name", &st.vulnerability.name)?;
            check_list_len("vulnerability.aliases", &st.vulnerability.aliases)?;
            for a in &st.vulnerability.aliases {
                check_ident("vulnerability.aliases", a)?;
            }
            check_text("vulnerability.description", &st.vulnerability.description)?;
            if st.products.is_empty() {
                return Err(invalid("products", "at least one product is required"));
            }
            check_list_len("products", &st.products)?;
            for p in &st.products {
                parse_purl(p.purl())
                    .map_err(|_| PredicateError::ProductNotPurl(truncate(p.purl(), 256)))?;
            }
            for (field, t) in [
                ("impact_statement", &st.impact_statement),
                ("action_statement", &st.action_statement),
                ("status_notes", &st.status_notes),
            ] {
                check_text(field, t)?;
            }
            if let Some(j) = &st.justification
                && !VEX_JUSTIFICATIONS.contains(&j.as_str())
            {
                return Err(invalid(
                    "justification",
                    format!("`{}` is not an OpenVEX justification", truncate(j, 64)),
                ));
            }
            match st.status {
                VexStatus::NotAffected
                    if st.justification.is_none() && st.impact_statement.is_none() =>
                {
                    return Err(invalid(
                        "justification",
                        "not_affected needs a justification or an impact_statement",
                    ));
                }
                VexStatus::Affected if st.action_statement.is_none() => {
                    return Err(invalid(
                        "action_statement",
                        "affected needs an action_statement",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The Predicate enum
// ---------------------------------------------------------------------------------------

/// A parsed and validated predicate of any accepted type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// [`ADOPTION_V1`].
    Adoption(Adoption),
    /// [`AUDIT_V1`].
    Audit(Audit),
    /// [`TRUST_V1`].
    Trust(Trust),
    /// [`REVOCATION_V1`].
    Revocation(Revocation),
    /// [`OWNERSHIP_CHANGE_V1`].
    OwnershipChange(OwnershipChange),
    /// [`OPENVEX_V0_2_0`].
    Advisory(OpenVex),
}

fn decode<T: DeserializeOwned>(predicate_type: &str, value: &Value) -> Result<T, PredicateError> {
    T::deserialize(value).map_err(|e| PredicateError::Schema {
        predicate_type: predicate_type.to_owned(),
        reason: e.to_string(),
    })
}

impl Predicate {
    /// Parses and validates a predicate from JSON bytes (at most 64 KiB, at most 32 levels
    /// deep, no duplicate keys).
    pub fn parse(predicate_type: &str, json: &[u8]) -> Result<Predicate, PredicateError> {
        if !PREDICATE_TYPES.contains(&predicate_type) {
            return Err(PredicateError::UnknownType(truncate(predicate_type, 256)));
        }
        let value = parse_json(json)?;
        Predicate::from_value(predicate_type, &value)
    }

    /// Parses and validates a predicate from an already (strictly) parsed JSON value.
    pub fn from_value(predicate_type: &str, value: &Value) -> Result<Predicate, PredicateError> {
        let p = match predicate_type {
            ADOPTION_V1 => Predicate::Adoption(decode(predicate_type, value)?),
            AUDIT_V1 => Predicate::Audit(decode(predicate_type, value)?),
            TRUST_V1 => Predicate::Trust(decode(predicate_type, value)?),
            REVOCATION_V1 => Predicate::Revocation(decode(predicate_type, value)?),
            OWNERSHIP_CHANGE_V1 => Predicate::OwnershipChange(decode(predicate_type, value)?),
            OPENVEX_V0_2_0 => Predicate::Advisory(decode(predicate_type, value)?),
            other => return Err(PredicateError::UnknownType(truncate(other, 256))),
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the predicate's own rules (the struct may have been built by hand).
    pub fn validate(&self) -> Result<(), PredicateError> {
        match self {
            Predicate::Adoption(p) => p.validate(),
            Predicate::Audit(p) => p.validate(),
            Predicate::Trust(p) => p.validate(),
            Predicate::Revocation(p) => p.validate(),
            Predicate::OwnershipChange(p) => p.validate(),
            Predicate::Advisory(p) => p.validate(),
        }
    }

    /// The predicate type URI.
    pub fn predicate_type(&self) -> &'static str {
        match self {
            Predicate::Adoption(_) => ADOPTION_V1,
            Predicate::Audit(_) => AUDIT_V1,
            Predicate::Trust(_) => TRUST_V1,
            Predicate::Revocation(_) => REVOCATION_V1,
            Predicate::OwnershipChange(_) => OWNERSHIP_CHANGE_V1,
            Predicate::Advisory(_) => OPENVEX_V0_2_0,
        }
    }

    /// The predicate as a JSON value (for building statements).
    pub fn to_value(&self) -> Value {
        let v = match self {
            Predicate::Adoption(p) => serde_json::to_value(p),
            Predicate::Audit(p) => serde_json::to_value(p),
            Predicate::Trust(p) => serde_json::to_value(p),
            Predicate::Revocation(p) => serde_json::to_value(p),
            Predicate::OwnershipChange(p) => serde_json::to_value(p),
            Predicate::Advisory(p) => serde_json::to_value(p),
        };
        // These structs hold only strings, numbers and lists: serialization cannot fail.
        v.unwrap_or(Value::Null)
    }

    /// Builds a statement carrying this predicate about `subject`.
    pub fn into_statement(self, subject: Vec<crate::model::statement::Subject>) -> Statement {
        Statement::new(subject, self.predicate_type(), self.to_value())
    }
}

/// A statement whose subjects and predicate were checked together.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedStatement {
    /// The statement as parsed.
    pub statement: Statement,
    /// Each subject's kind, in subject order.
    pub subjects: Vec<SubjectKind>,
    /// The validated predicate.
    pub predicate: Predicate,
}

impl ValidatedStatement {
    /// The package subjects, in subject order.
    pub fn packages(&self) -> impl Iterator<Item = &PackageRef> {
        self.subjects.iter().filter_map(|s| match s {
            SubjectKind::Package(p) => Some(p),
            _ => None,
        })
    }
}

fn rule(reason: impl Into<String>) -> PredicateError {
    PredicateError::SubjectRule(reason.into())
}

/// Checks a statement as a whole: each subject's kind and digest, the predicate's own rules,
/// and the rules that tie them together:
///
/// * adoption, audit: every subject is a package **version** (a purl with a version);
/// * trust: exactly one subject, the key subject of the predicate's key;
/// * revocation: exactly one subject, the envelope subject of the predicate's digest;
/// * ownership change: every subject is a package or package version;
/// * OpenVEX: every subject is a package or package version, and every product's package
///   (purl without version) is the package of some subject.
pub fn validate_statement(statement: &Statement) -> Result<ValidatedStatement, PredicateError> {
    if !PREDICATE_TYPES.contains(&statement.predicate_type.as_str()) {
        return Err(PredicateError::UnknownType(truncate(
            &statement.predicate_type,
            256,
        )));
    }
    let subjects = statement
        .subject
        .iter()
        .map(|s| s.kind())
        .collect::<Result<Vec<_>, _>>()?;
    let predicate = Predicate::from_value(&statement.predicate_type, &statement.predicate)?;

    let all_packages = |need_version: bool| -> Result<(), PredicateError> {
        for (s, k) in statement.subject.iter().zip(&subjects) {
            match k {
                SubjectKind::Package(p) => {
                    if need_version && p.version.is_none() {
                        return Err(StatementError::VersionRequired(truncate(&s.name, 256)).into());
                    }
                }
                _ => {
                    return Err(StatementError::WrongSubjectKind {
                        name: truncate(&s.name, 256),
                        expected: "package",
                    }
                    .into());
                }
            }
        }
        Ok(())
    };

    match &predicate {
        Predicate::Adoption(_) | Predicate::Audit(_) => all_packages(true)?,
        Predicate::OwnershipChange(_) => all_packages(false)?,
        Predicate::Advisory(vex) => {
            all_packages(false)?;
            let packages: BTreeSet<&str> = subjects
                .iter()
                .filter_map(|k| match k {
                    SubjectKind::Package(p) => Some(p.package.as_str()),
                    _ => None,
                })
                .collect();
            for st in &vex.statements {
                for p in &st.products {
                    let (package, _) = parse_purl(p.purl())
                        .map_err(|_| PredicateError::ProductNotPurl(truncate(p.purl(), 256)))?;
                    if !packages.contains(package.as_str()) {
                        return Err(PredicateError::ProductNotInSubject(truncate(p.purl(), 256)));
                    }
                }
            }
        }
        Predicate::Trust(t) => {
            let key = t.public_key()?;
            match subjects.as_slice() {
                [SubjectKind::Key(k)] if *k == key => {}
                [SubjectKind::Key(_)] => {
                    return Err(rule("the subject key differs from the predicate's key"));
                }
                _ => return Err(rule("a trust statement has exactly one key subject")),
            }
        }
        Predicate::Revocation(r) => {
            let digest = r.digest()?;
            match subjects.as_slice() {
                [SubjectKind::Envelope(d)] if *d == digest => {}
                [SubjectKind::Envelope(_)] => {
                    return Err(rule(
                        "the subject digest differs from the predicate's envelopeDigest",
                    ));
                }
                _ => {
                    return Err(rule(
                        "a revocation statement has exactly one envelope subject",
                    ));
                }
            }
        }
    }
    Ok(ValidatedStatement {
        statement: statement.clone(),
        subjects,
        predicate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::statement::Subject;
    use serde_json::json;

    fn kind(r: Result<Predicate, PredicateError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        }
    }

    fn parse(t: &str, v: Value) -> &'static str {
        kind(Predicate::parse(
            t,
            &serde_json::to_vec(&v).unwrap_or_default(),
        ))
    }

    fn vkey(name: &str, key: &[u8; 32]) -> String {
        let mut raw = vec![1u8];
        raw.extend_from_slice(key);
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update(b"\n");
        h.update(&raw);
        let d = h.finalize();
        format!(
            "{name}+{}+{}",
            hex::encode(&d[..4]),
            base64::engine::general_purpose::STANDARD.encode(&raw)
        )
    }

    #[test]
    fn keys() {
        let k = [5u8; 32];
        assert_eq!(parse_public_key(&hex::encode(k)), Ok(k));
        assert_eq!(
            parse_public_key(&format!("ed25519:{}", hex::encode(k))),
            Ok(k)
        );
        let v = vkey("alice.example", &k);
        assert_eq!(parse_public_key(&v), Ok(k));
        let tampered = v.replacen("alice", "alicf", 1);
        assert!(parse_public_key(&tampered).is_err());
        for bad in [
            "",
            "+",
            "a+b+c",
            "a+00000000+!!!",
            "a+00000000+AQ==",
            &hex::encode([0xab; 32]).to_uppercase(),
            "ed25519:zz",
            "a+b+c+d",
            "a+00000000+AQ==+",
        ] {
            assert_eq!(
                parse_public_key(bad).map_err(|e| e.kind()),
                Err("bad-key"),
                "{bad}"
            );
        }
    }

    #[test]
    fn adoption() {
        assert_eq!(parse(ADOPTION_V1, json!({"status": "adopted"})), "ok");
        assert_eq!(
            parse(ADOPTION_V1, json!({"status": "rejected", "comment": "x"})),
            "ok"
        );
        assert_eq!(
            parse(ADOPTION_V1, json!({"status": "maybe"})),
            "invalid-predicate"
        );
        assert_eq!(parse(ADOPTION_V1, json!({})), "invalid-predicate");
        assert_eq!(
            parse(
                ADOPTION_V1,
                json!({"status": "adopted", "timestamp": "2024"})
            ),
            "invalid-predicate"
        );
        assert_eq!(
            parse(
                ADOPTION_V1,
                json!({"status": "adopted", "comment": "x".repeat(MAX_TEXT_SIZE + 1)})
            ),
            "invalid-field"
        );
    }

    #[test]
    fn audit() {
        let ok = json!({"verdict": "pass", "criteria": ["safe-to-deploy"], "capabilities": ["network", "filesystem"]});
        assert_eq!(parse(AUDIT_V1, ok), "ok");
        assert_eq!(
            parse(
                AUDIT_V1,
                json!({"verdict": "fail", "criteria": ["safe-to-run"], "capabilities": []})
            ),
            "ok"
        );
        assert_eq!(
            parse(AUDIT_V1, json!({"verdict": "pass", "criteria": []})),
            "invalid-field"
        );
        assert_eq!(
            parse(AUDIT_V1, json!({"verdict": "pass", "criteria": ["Safe"]})),
            "invalid-field"
        );
        assert_eq!(
            parse(AUDIT_V1, json!({"verdict": "pass", "criteria": ["a", "a"]})),
            "duplicate-value"
        );
        assert_eq!(
            parse(
                AUDIT_V1,
                json!({"verdict": "pass", "criteria": ["a"], "capabilities": ["teleport"]})
            ),
            "unknown-capability"
        );
        assert_eq!(
            parse(
                AUDIT_V1,
                json!({"verdict": "pass", "criteria": ["a"], "capabilities": ["network", "network"]})
            ),
            "duplicate-value"
        );
        assert_eq!(
            parse(AUDIT_V1, json!({"verdict": "meh", "criteria": ["a"]})),
            "invalid-predicate"
        );
    }

    #[test]
    fn trust_revocation_ownership() {
        let k = hex::encode([3u8; 32]);
        assert_eq!(parse(TRUST_V1, json!({"key": k, "level": "high"})), "ok");
        assert_eq!(
            parse(
                TRUST_V1,
                json!({"key": k, "level": "distrust", "scope": "pkg:cargo/serde"})
            ),
            "ok"
        );
        assert_eq!(
            parse(
                TRUST_V1,
                json!({"key": k, "level": "high", "scope": "pkg:cargo/serde@1"})
            ),
            "invalid-field"
        );
        assert_eq!(
            parse(TRUST_V1, json!({"key": k, "level": "total"})),
            "invalid-predicate"
        );
        assert_eq!(
            parse(TRUST_V1, json!({"key": "nope", "level": "low"})),
            "bad-key"
        );
        assert_eq!(parse(REVOCATION_V1, json!({"envelopeDigest": k})), "ok");
        assert_eq!(
            parse(REVOCATION_V1, json!({"envelopeDigest": "00"})),
            "invalid-field"
        );
        assert_eq!(
            parse(
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [{"name": "a"}], "new": [{"name": "b", "key": k}]})
            ),
            "ok"
        );
        assert_eq!(
            parse(OWNERSHIP_CHANGE_V1, json!({"previous": [], "new": [{}]})),
            "invalid-field"
        );
        assert_eq!(
            parse(
                OWNERSHIP_CHANGE_V1,
                json!({"previous": [{"name": "a"}], "new": [{"name": "a"}]})
            ),
            "invalid-field"
        );
        assert_eq!(
            parse("https://example.com/x/v1", json!({})),
            "unknown-predicate-type"
        );
    }

    fn vex(status: &str, product: &str) -> Value {
        json!({
            "@context": OPENVEX_V0_2_0,
            "@id": "https://example.com/vex/1",
            "author": "sec@example.com",
            "timestamp": "2024-01-01T00:00:00Z",
            "version": 1,
            "statements": [{
                "vulnerability": {"name": "MAL-2024-1", "aliases": ["GHSA-xxxx"]},
                "products": [{"@id": product}],
                "status": status,
                "action_statement": "remove it"
            }]
        })
    }

    #[test]
    fn openvex() {
        assert_eq!(
            parse(OPENVEX_V0_2_0, vex("affected", "pkg:cargo/evil@1.0.0")),
            "ok"
        );
        assert_eq!(
            parse(OPENVEX_V0_2_0, vex("broken", "pkg:cargo/evil@1.0.0")),
            "invalid-predicate"
        );
        assert_eq!(
            parse(OPENVEX_V0_2_0, vex("not_affected", "pkg:cargo/evil@1.0.0")),
            "invalid-field"
        );
        assert_eq!(
            parse(OPENVEX_V0_2_0, vex("fixed", "https://example.com/p")),
            "vex-product-not-purl"
        );
        let mut v = vex("affected", "pkg:cargo/evil@1.0.0");
        v["@context"] = json!("https://openvex.dev/ns/v0.0.1");
        assert_eq!(parse(OPENVEX_V0_2_0, v), "invalid-field");
        let mut v = vex("affected", "pkg:cargo/evil@1.0.0");
        v["statements"][0]
            .as_object_mut()
            .map(|o| o.remove("action_statement"));
        assert_eq!(parse(OPENVEX_V0_2_0, v), "invalid-field");
        let p = Predicate::parse(
            OPENVEX_V0_2_0,
            &serde_json::to_vec(&vex("affected", "pkg:cargo/evil@1.0.0")).unwrap_or_default(),
        );
        let Ok(Predicate::Advisory(doc)) = p else {
            panic!("{p:?}")
        };
        assert_eq!(
            doc.claims(),
            vec![AdvisoryClaim {
                vulnerability: "MAL-2024-1".into(),
                kind: AdvisoryKind::Malicious,
                package: "pkg:cargo/evil".into(),
                version: Some("1.0.0".into()),
                status: VexStatus::Affected,
            }]
        );
    }

    #[test]
    fn limits() {
        let deep = format!("{}{}", "{\"a\":".repeat(40), "}".repeat(40));
        assert_eq!(
            kind(Predicate::parse(ADOPTION_V1, deep.as_bytes())),
            "json-too-deep"
        );
        let big = vec![b' '; 70_000];
        assert_eq!(kind(Predicate::parse(ADOPTION_V1, &big)), "json-too-large");
        assert_eq!(
            kind(Predicate::parse(ADOPTION_V1, b"{\"status\":")),
            "malformed-json"
        );
        assert_eq!(
            kind(Predicate::parse(
                ADOPTION_V1,
                br#"{"status":"adopted","status":"rejected"}"#
            )),
            "json-duplicate-key"
        );
    }

    fn check(st: Statement) -> &'static str {
        match validate_statement(&st) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn subject_rules() {
        let adopted = json!({"status": "adopted"});
        let v = Subject::package_version("pkg:cargo/serde@1.0.0", [1; 32]);
        let unv = Subject::package("pkg:cargo/serde");
        let key = [9u8; 32];
        assert_eq!(
            check(Statement::new(
                vec![v.clone()],
                ADOPTION_V1,
                adopted.clone()
            )),
            "ok"
        );
        assert_eq!(
            check(Statement::new(
                vec![unv.clone()],
                ADOPTION_V1,
                adopted.clone()
            )),
            "version-required"
        );
        assert_eq!(
            check(Statement::new(
                vec![Subject::key(&key)],
                ADOPTION_V1,
                adopted.clone()
            )),
            "wrong-subject-kind"
        );
        let trust = json!({"key": hex::encode(key), "level": "low"});
        assert_eq!(
            check(Statement::new(
                vec![Subject::key(&key)],
                TRUST_V1,
                trust.clone()
            )),
            "ok"
        );
        assert_eq!(
            check(Statement::new(
                vec![Subject::key(&[8; 32])],
                TRUST_V1,
                trust.clone()
            )),
            "subject-rule"
        );
        assert_eq!(
            check(Statement::new(vec![v.clone()], TRUST_V1, trust)),
            "subject-rule"
        );
        let rev = json!({"envelopeDigest": hex::encode(key)});
        assert_eq!(
            check(Statement::new(
                vec![Subject::envelope(&key)],
                REVOCATION_V1,
                rev.clone()
            )),
            "ok"
        );
        assert_eq!(
            check(Statement::new(
                vec![Subject::envelope(&[0; 32])],
                REVOCATION_V1,
                rev
            )),
            "subject-rule"
        );
        let adv = vex("affected", "pkg:cargo/serde@1.0.0");
        assert_eq!(
            check(Statement::new(
                vec![unv.clone()],
                OPENVEX_V0_2_0,
                adv.clone()
            )),
            "ok"
        );
        assert_eq!(
            check(Statement::new(vec![v.clone()], OPENVEX_V0_2_0, adv)),
            "ok"
        );
        assert_eq!(
            check(Statement::new(
                vec![unv],
                OPENVEX_V0_2_0,
                vex("affected", "pkg:cargo/other@1")
            )),
            "vex-product-not-in-subject"
        );
        assert_eq!(
            check(Statement::new(vec![v], "https://example.com/p", json!({}))),
            "unknown-predicate-type"
        );
    }

    #[test]
    fn trust_scope_is_the_canonical_package() {
        let trust = Trust {
            key: "ab".repeat(32),
            level: TrustLevel::High,
            scope: Some("pkg:pypi/Zope.Interface".into()),
            comment: None,
        };
        assert_eq!(
            trust.scope_package().as_deref(),
            Some("pkg:pypi/zope-interface")
        );
        let unscoped = Trust {
            scope: None,
            ..trust
        };
        assert_eq!(unscoped.scope_package(), None);
    }
}
