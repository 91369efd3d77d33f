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
//! | [`CARGO_VET_V1`] | [`CargoVetEntry`] | one crate version, one crate, or the signer's key (criteria) |
//! | [`ADVISORY_V1`] | [`AdvisoryRecord`] | the affected packages (without version) |
//!
//! Quorum's predicates are strict: unknown fields are errors (a new field means a new
//! version of the predicate type). OpenVEX documents follow the OpenVEX rule and may carry
//! fields Quorum does not read. No predicate carries a time of its own that Quorum uses:
//! time comes from the log.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::model::dsse::truncate;
use crate::model::statement::{
    PackageRef, Statement, StatementError, SubjectKind, parse_hex32, parse_json, parse_purl,
    sha256_hex,
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
/// cargo-vet: one entry of a public cargo-vet audit set, restated by an importer.
pub const CARGO_VET_V1: &str = "https://quorum.dev/attestation/cargo-vet/v1";
/// Advisory: one advisory of a public database (RustSec, OSV), restated by an importer.
pub const ADVISORY_V1: &str = "https://quorum.dev/attestation/advisory/v1";

/// Every predicate type Quorum accepts.
pub const PREDICATE_TYPES: &[&str] = &[
    ADOPTION_V1,
    AUDIT_V1,
    TRUST_V1,
    REVOCATION_V1,
    OWNERSHIP_CHANGE_V1,
    OPENVEX_V0_2_0,
    CARGO_VET_V1,
    ADVISORY_V1,
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

/// Parses a principal's key in the one key grammar ([`crate::model::principal`]).
pub fn parse_public_key(text: &str) -> Result<[u8; 32], PredicateError> {
    crate::model::principal::parse_key(text).map_err(|e| PredicateError::BadKey {
        key: e.key,
        reason: e.reason,
    })
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
    /// Optional: the upstream source and revision that made an importer withdraw one of its
    /// imported statements (the entry disappeared, changed, or was withdrawn there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
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
        if let Some(p) = &self.provenance {
            p.validate()?;
        }
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
// Imported statements: provenance, cargo-vet entries, advisory records
// ---------------------------------------------------------------------------------------

/// The longest URL a predicate carries (sources, `aggregated-from`), in bytes.
pub const MAX_URL_SIZE: usize = 2048;
/// The most versions an advisory's affected package lists explicitly (OSV `versions`;
/// PyPI records enumerate up to about 1,100).
pub const MAX_ADVISORY_VERSIONS: usize = 4096;
/// The most events in one advisory range.
pub const MAX_RANGE_EVENTS: usize = 1024;

/// Where an imported statement comes from, so that anyone can re-derive it from the public
/// file: the source URL, the revision (a commit), the SHA-256 of the file at that revision,
/// the entry's position in it, and the tool that made the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Provenance {
    /// The source: the URL of the file or repository the entry was read from.
    pub source: String,
    /// The source's revision (a commit hash, a tag).
    pub revision: String,
    /// SHA-256 of the file the entry was read from, at that revision (64 lowercase hex).
    /// Required in imported statements; a revocation of an entry whose file is gone has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// The entry's position: a TOML table path with index (`audits.serde[2]`) or a file
    /// path inside the source (`crates/serde/RUSTSEC-2020-0001.md`). Required in imported
    /// statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The importing tool and its version, e.g. `quorum 0.1.0`.
    pub tool: String,
}

impl Provenance {
    fn validate(&self) -> Result<(), PredicateError> {
        check_url("provenance.source", &self.source)?;
        check_ident("provenance.revision", &self.revision)?;
        if let Some(h) = &self.file_sha256
            && parse_hex32(h).is_none()
        {
            return Err(invalid(
                "provenance.fileSha256",
                "must be 64 lowercase hex digits",
            ));
        }
        if let Some(p) = &self.position {
            check_url("provenance.position", p)?;
        }
        check_ident("provenance.tool", &self.tool)
    }

    /// Checks the fields an imported statement (not a revocation) must have.
    fn validate_imported(&self) -> Result<(), PredicateError> {
        self.validate()?;
        if self.file_sha256.is_none() {
            return Err(invalid(
                "provenance.fileSha256",
                "an imported statement names the SHA-256 of its file",
            ));
        }
        if self.position.is_none() {
            return Err(invalid(
                "provenance.position",
                "an imported statement names its entry's position",
            ));
        }
        Ok(())
    }
}

fn check_url(field: &'static str, text: &str) -> Result<(), PredicateError> {
    if text.is_empty() || text.len() > MAX_URL_SIZE {
        return Err(invalid(field, format!("must be 1 to {MAX_URL_SIZE} bytes")));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn check_idents(field: &'static str, list: &[String]) -> Result<(), PredicateError> {
    check_list_len(field, list)?;
    for item in list {
        check_ident(field, item)?;
    }
    check_set(field, list)
}

fn check_criteria_names(field: &'static str, list: &[String]) -> Result<(), PredicateError> {
    check_list_len(field, list)?;
    for c in list {
        if !is_criterion(c) {
            return Err(invalid(
                field,
                format!(
                    "`{}` is not 1 to 64 lowercase letters, digits and `-`",
                    truncate(c, 64)
                ),
            ));
        }
    }
    check_set(field, list)
}

/// A calendar date `YYYY-MM-DD` (cargo-vet's dates); ordering the strings orders the dates.
fn check_date(field: &'static str, text: &str) -> Result<(), PredicateError> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let month = text.get(5..7).and_then(|m| m.parse::<u8>().ok());
    let day = text.get(8..10).and_then(|d| d.parse::<u8>().ok());
    if !shape || !matches!(month, Some(1..=12)) || !matches!(day, Some(1..=31)) {
        return Err(invalid(field, "must be a date YYYY-MM-DD"));
    }
    Ok(())
}

/// `cargo-vet/v1`: one entry of a public cargo-vet audit set (an `audits.toml`, or the
/// audits of one import recorded in an `imports.lock`), restated and signed by an importer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CargoVetKind {
    /// `[[audits.<crate>]]` with `version`: the whole version meets the criteria.
    Audit,
    /// `[[audits.<crate>]]` with `delta = "from -> to"`: the change from `from` to `to`
    /// preserves the criteria.
    Delta,
    /// `[[audits.<crate>]]` with `violation = "<version requirement>"`: the versions it
    /// matches fail the criteria (a veto).
    Violation,
    /// `[[wildcard-audits.<crate>]]`: every version published by an account or a trusted
    /// publisher between two dates meets the criteria.
    Wildcard,
    /// `[[trusted.<crate>]]`: versions published by an account or a trusted publisher
    /// between two dates are trusted to meet the criteria without audit.
    Trusted,
    /// `[criteria.<name>]`: a custom criterion, its description and what it implies.
    Criteria,
    /// `[[publisher.<crate>]]` of an `imports.lock`: who published a version on crates.io
    /// and when, as cargo-vet recorded it to apply wildcard audits and trusted entries.
    Publisher,
}

impl CargoVetKind {
    /// The kind's name as written in the predicate.
    pub fn as_str(self) -> &'static str {
        match self {
            CargoVetKind::Audit => "audit",
            CargoVetKind::Delta => "delta",
            CargoVetKind::Violation => "violation",
            CargoVetKind::Wildcard => "wildcard",
            CargoVetKind::Trusted => "trusted",
            CargoVetKind::Criteria => "criteria",
            CargoVetKind::Publisher => "publisher",
        }
    }
}

/// `cargo-vet/v1`: one cargo-vet entry. Which fields are required, allowed or forbidden
/// depends on `kind` (see `spec/statements.md` §3.7); the crate is the statement's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CargoVetEntry {
    /// What the entry is.
    pub kind: CargoVetKind,
    /// For entries of an `imports.lock`: the import's name in the importing project's
    /// `config.toml` (`google`, `mozilla`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<String>,
    /// The criteria certified (audit, delta, wildcard, trusted) or violated (violation),
    /// as the source names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<String>,
    /// Who performed the audit, as written (`Name <email>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub who: Vec<String>,
    /// Free-text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The audited (audit) or published (publisher) version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Delta: the version the change starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Delta: the version the change ends at (the subject's version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Violation: the version requirement (Cargo syntax) of the versions that fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<String>,
    /// Wildcard, trusted, publisher: the crates.io user id of the publishing account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    /// Wildcard, trusted, publisher: the crates.io trusted publisher (`github:org/repo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_publisher: Option<String>,
    /// Publisher: the account's login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login: Option<String>,
    /// Publisher: the account's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Wildcard, trusted: the first publication date covered (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Wildcard, trusted: the end date of the entry (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Wildcard: whether `cargo vet renew` may extend `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew: Option<bool>,
    /// Publisher: the publication date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Criteria: the criterion's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Criteria: its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Criteria: where its description is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_url: Option<String>,
    /// Criteria: the criteria it implies (an audit for it also certifies these).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implies: Vec<String>,
    /// The chain of audit files the entry was aggregated from (`aggregated-from`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregated_from: Vec<String>,
    /// Where the entry was read.
    pub provenance: Provenance,
}

/// Which kinds may carry a field.
fn only_for(
    kind: CargoVetKind,
    present: bool,
    field: &'static str,
    kinds: &[CargoVetKind],
) -> Result<(), PredicateError> {
    if present && !kinds.contains(&kind) {
        return Err(invalid(
            field,
            format!("not allowed in a `{}` entry", kind.as_str()),
        ));
    }
    Ok(())
}

/// Which kinds must carry a field.
fn required_for(
    kind: CargoVetKind,
    present: bool,
    field: &'static str,
    kinds: &[CargoVetKind],
) -> Result<(), PredicateError> {
    if !present && kinds.contains(&kind) {
        return Err(invalid(
            field,
            format!("required in a `{}` entry", kind.as_str()),
        ));
    }
    Ok(())
}

impl CargoVetEntry {
    fn validate(&self) -> Result<(), PredicateError> {
        use CargoVetKind::*;
        let k = self.kind;
        let certifying = [Audit, Delta, Violation, Wildcard, Trusted];
        only_for(k, !self.criteria.is_empty(), "criteria", &certifying)?;
        required_for(k, !self.criteria.is_empty(), "criteria", &certifying)?;
        check_criteria_names("criteria", &self.criteria)?;
        only_for(
            k,
            !self.who.is_empty(),
            "who",
            &[Audit, Delta, Violation, Wildcard],
        )?;
        check_list_len("who", &self.who)?;
        for w in &self.who {
            check_ident("who", w)?;
        }
        only_for(k, self.notes.is_some(), "notes", &certifying)?;
        check_text("notes", &self.notes)?;
        for (field, value, kinds) in [
            ("version", &self.version, &[Audit, Publisher][..]),
            ("from", &self.from, &[Delta][..]),
            ("to", &self.to, &[Delta][..]),
            ("violation", &self.violation, &[Violation][..]),
            ("start", &self.start, &[Wildcard, Trusted][..]),
            ("end", &self.end, &[Wildcard, Trusted][..]),
            ("when", &self.when, &[Publisher][..]),
            ("name", &self.name, &[Criteria][..]),
        ] {
            only_for(k, value.is_some(), field, kinds)?;
            required_for(k, value.is_some(), field, kinds)?;
            if let Some(v) = value {
                check_ident(field, v)?;
            }
        }
        for (field, value) in [
            ("start", &self.start),
            ("end", &self.end),
            ("when", &self.when),
        ] {
            if let Some(v) = value {
                check_date(field, v)?;
            }
        }
        if let (Some(start), Some(end)) = (&self.start, &self.end)
            && start > end
        {
            return Err(invalid("end", "ends before it starts"));
        }
        let publishing = [Wildcard, Trusted, Publisher];
        let has_user = self.user_id.is_some();
        let has_publisher = self.trusted_publisher.is_some();
        only_for(k, has_user, "userId", &publishing)?;
        only_for(k, has_publisher, "trustedPublisher", &publishing)?;
        if publishing.contains(&k) && has_user == has_publisher {
            return Err(invalid(
                "userId",
                "exactly one of userId and trustedPublisher is required",
            ));
        }
        if let Some(p) = &self.trusted_publisher {
            check_ident("trustedPublisher", p)?;
        }
        for (field, value) in [
            ("userLogin", &self.user_login),
            ("userName", &self.user_name),
        ] {
            only_for(k, value.is_some(), field, &[Publisher])?;
            if let Some(v) = value {
                check_ident(field, v)?;
            }
        }
        only_for(k, self.renew.is_some(), "renew", &[Wildcard])?;
        if let Some(name) = &self.name
            && !is_criterion(name)
        {
            return Err(invalid(
                "name",
                "a criterion is 1 to 64 lowercase letters, digits and `-`",
            ));
        }
        only_for(k, self.description.is_some(), "description", &[Criteria])?;
        only_for(
            k,
            self.description_url.is_some(),
            "descriptionUrl",
            &[Criteria],
        )?;
        if k == Criteria && self.description.is_none() && self.description_url.is_none() {
            return Err(invalid(
                "description",
                "a criterion needs a description or a descriptionUrl",
            ));
        }
        check_text("description", &self.description)?;
        if let Some(u) = &self.description_url {
            check_url("descriptionUrl", u)?;
        }
        only_for(k, !self.implies.is_empty(), "implies", &[Criteria])?;
        check_criteria_names("implies", &self.implies)?;
        check_list_len("aggregatedFrom", &self.aggregated_from)?;
        for u in &self.aggregated_from {
            check_url("aggregatedFrom", u)?;
        }
        if let Some(i) = &self.import {
            check_ident("import", i)?;
        }
        self.provenance.validate_imported()
    }

    /// The version named by the statement's subject: `version` (audit, publisher) or the
    /// delta's end; `None` for the kinds whose subject is the unversioned crate.
    pub fn subject_version(&self) -> Option<&str> {
        match self.kind {
            CargoVetKind::Audit | CargoVetKind::Publisher => self.version.as_deref(),
            CargoVetKind::Delta => self.to.as_deref(),
            _ => None,
        }
    }
}

/// What an imported advisory reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdvisoryRecordKind {
    /// A security vulnerability.
    Vulnerability,
    /// Malicious code (RustSec category `malicious`, an OSV `MAL-` identifier).
    Malicious,
    /// A soundness bug (RustSec `informational = "unsound"`).
    Unsound,
    /// The package is no longer maintained (RustSec `informational = "unmaintained"`).
    Unmaintained,
    /// Another notice (RustSec `informational = "notice"`).
    Notice,
}

/// A severity score, as OSV writes it (`CVSS_V3` and a vector).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorySeverity {
    /// The scoring system: `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The score or vector.
    pub score: String,
}

/// One OSV range event: exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeEvent {
    /// Versions from this one on are affected (`0` means from the first version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Versions from this one on are not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// An upper limit to the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeType {
    /// Semantic Versioning 2.0 precedence (crates.io, npm).
    #[serde(rename = "SEMVER")]
    Semver,
    /// The ecosystem's own version order (PEP 440 for PyPI).
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
}

/// An OSV version range: events in the order of `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryRange {
    /// The version order.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// The events, 1 to [`MAX_RANGE_EVENTS`].
    pub events: Vec<RangeEvent>,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AffectedPackage {
    /// The package: a purl without version; it is one of the statement's subjects.
    pub package: String,
    /// The ecosystem as OSV names it (`crates.io`, `PyPI`, `npm`).
    pub ecosystem: String,
    /// The affected version ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<AdvisoryRange>,
    /// Affected versions listed one by one (OSV `versions`); the affected set is the union
    /// of these and the ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The affected functions, as paths (`crate::module::function`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
    /// Only these operating systems are affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// Only these CPU architectures are affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch: Vec<String>,
}

/// `advisory/v1`: an advisory of a public database (RustSec, an OSV database) restated
/// by an importer: its identifiers, kind, the affected packages and version ranges in each
/// ecosystem's own order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdvisoryRecord {
    /// The advisory's identifier (`RUSTSEC-2021-0135`, `PYSEC-2020-342`, `GHSA-…`).
    pub id: String,
    /// Other identifiers of the same issue (CVE, GHSA, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Identifiers of related but different issues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// What it reports.
    pub kind: AdvisoryRecordKind,
    /// The source's categories (RustSec: `memory-corruption`, `denial-of-service`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// A one-line summary (the title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<AdvisorySeverity>,
    /// The affected packages, 1 to [`MAX_LIST_LEN`].
    pub affected: Vec<AffectedPackage>,
    /// Where the advisory was read.
    pub provenance: Provenance,
}

impl RangeEvent {
    fn validate(&self) -> Result<(), PredicateError> {
        let set: Vec<&String> = [
            &self.introduced,
            &self.fixed,
            &self.last_affected,
            &self.limit,
        ]
        .into_iter()
        .flatten()
        .collect();
        match set.as_slice() {
            [one] => check_ident("events", one),
            _ => Err(invalid(
                "events",
                "an event has exactly one of introduced, fixed, last_affected, limit",
            )),
        }
    }
}

impl AffectedPackage {
    fn validate(&self) -> Result<(), PredicateError> {
        let (_, version) =
            parse_purl(&self.package).map_err(|e| invalid("affected.package", e.to_string()))?;
        if version.is_some() {
            return Err(invalid(
                "affected.package",
                "names a package, without version",
            ));
        }
        check_ident("affected.ecosystem", &self.ecosystem)?;
        if self.ranges.is_empty() && self.versions.is_empty() {
            return Err(invalid(
                "affected",
                "an affected package needs ranges or versions",
            ));
        }
        check_list_len("affected.ranges", &self.ranges)?;
        for r in &self.ranges {
            if r.events.is_empty() || r.events.len() > MAX_RANGE_EVENTS {
                return Err(invalid(
                    "affected.ranges.events",
                    format!("must have 1 to {MAX_RANGE_EVENTS} events"),
                ));
            }
            for e in &r.events {
                e.validate()?;
            }
        }
        if self.versions.len() > MAX_ADVISORY_VERSIONS {
            return Err(invalid(
                "affected.versions",
                format!("more than {MAX_ADVISORY_VERSIONS} entries"),
            ));
        }
        for v in &self.versions {
            check_ident("affected.versions", v)?;
        }
        check_set("affected.versions", &self.versions)?;
        for (field, list) in [
            ("affected.functions", &self.functions),
            ("affected.os", &self.os),
            ("affected.arch", &self.arch),
        ] {
            check_list_len(field, list)?;
            for f in list {
                check_url(field, f)?;
            }
            check_set(field, list)?;
        }
        Ok(())
    }
}

impl AdvisoryRecord {
    fn validate(&self) -> Result<(), PredicateError> {
        check_ident("id", &self.id)?;
        check_idents("aliases", &self.aliases)?;
        check_idents("related", &self.related)?;
        check_idents("categories", &self.categories)?;
        check_text("summary", &self.summary)?;
        check_list_len("severity", &self.severity)?;
        for s in &self.severity {
            check_ident("severity.type", &s.kind)?;
            check_ident("severity.score", &s.score)?;
        }
        if self.affected.is_empty() {
            return Err(invalid("affected", "at least one affected package"));
        }
        check_list_len("affected", &self.affected)?;
        for a in &self.affected {
            a.validate()?;
        }
        self.provenance.validate_imported()
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
    /// [`CARGO_VET_V1`] (boxed: the entry is much larger than the other predicates).
    CargoVet(Box<CargoVetEntry>),
    /// [`ADVISORY_V1`].
    AdvisoryRecord(AdvisoryRecord),
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
            CARGO_VET_V1 => Predicate::CargoVet(Box::new(decode(predicate_type, value)?)),
            ADVISORY_V1 => Predicate::AdvisoryRecord(decode(predicate_type, value)?),
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
            Predicate::CargoVet(p) => p.validate(),
            Predicate::AdvisoryRecord(p) => p.validate(),
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
            Predicate::CargoVet(_) => CARGO_VET_V1,
            Predicate::AdvisoryRecord(_) => ADVISORY_V1,
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
            Predicate::CargoVet(p) => serde_json::to_value(p),
            Predicate::AdvisoryRecord(p) => serde_json::to_value(p),
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

/// An imported statement names versions, not artifacts: every package subject carries the
/// name digest.
fn check_name_digests(statement: &Statement) -> Result<(), PredicateError> {
    for s in &statement.subject {
        if s.name.starts_with("pkg:") && s.sha256() != sha256_hex(s.name.as_bytes()) {
            return Err(StatementError::DigestMismatch(truncate(&s.name, 256)).into());
        }
    }
    Ok(())
}

fn check_cargo_vet_subject(
    statement: &Statement,
    subjects: &[SubjectKind],
    entry: &CargoVetEntry,
) -> Result<(), PredicateError> {
    check_name_digests(statement)?;
    let [subject] = subjects else {
        return Err(rule("a cargo-vet statement has exactly one subject"));
    };
    match (entry.kind, subject) {
        (CargoVetKind::Criteria, SubjectKind::Key(_)) => Ok(()),
        (CargoVetKind::Criteria, _) => Err(rule(
            "a cargo-vet criteria statement's subject is a key (the signer's)",
        )),
        (_, SubjectKind::Package(p)) => {
            if !p.package.starts_with("pkg:cargo/") {
                return Err(rule("a cargo-vet statement is about a `pkg:cargo` crate"));
            }
            match (entry.subject_version(), p.version.as_deref()) {
                (Some(want), Some(got)) if want == got => Ok(()),
                (None, None) => Ok(()),
                (Some(_), Some(_)) => Err(rule(
                    "the subject's version differs from the entry's version",
                )),
                (Some(_), None) => Err(StatementError::VersionRequired(truncate(
                    &statement.subject[0].name,
                    256,
                ))
                .into()),
                (None, Some(_)) => Err(rule(format!(
                    "a cargo-vet `{}` entry is about the crate, without version",
                    entry.kind.as_str()
                ))),
            }
        }
        _ => Err(StatementError::WrongSubjectKind {
            name: truncate(&statement.subject[0].name, 256),
            expected: "package",
        }
        .into()),
    }
}

fn check_advisory_subjects(
    statement: &Statement,
    subjects: &[SubjectKind],
    record: &AdvisoryRecord,
) -> Result<(), PredicateError> {
    let mut packages = BTreeSet::new();
    for (s, k) in statement.subject.iter().zip(subjects) {
        match k {
            SubjectKind::Package(p) if p.version.is_none() => {
                packages.insert(p.package.as_str());
            }
            SubjectKind::Package(_) => {
                return Err(rule(format!(
                    "an advisory's subjects are packages without version, not `{}`",
                    truncate(&s.name, 256)
                )));
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
    let mut covered = BTreeSet::new();
    for a in &record.affected {
        let (package, _) = parse_purl(&a.package)?;
        if !packages.contains(package.as_str()) {
            return Err(rule(format!(
                "affected package `{}` is not a subject",
                truncate(&a.package, 256)
            )));
        }
        covered.insert(package);
    }
    if covered.len() != packages.len() {
        return Err(rule("every subject is an affected package"));
    }
    Ok(())
}

/// Checks a statement as a whole: each subject's kind and digest, the predicate's own rules,
/// and the rules that tie them together:
///
/// * adoption, audit: every subject is a package **version** (a purl with a version);
/// * trust: exactly one subject, the key subject of the predicate's key;
/// * revocation: exactly one subject, the envelope subject of the predicate's digest;
/// * ownership change: every subject is a package or package version;
/// * OpenVEX: every subject is a package or package version, and every product's package
///   (purl without version) is the package of some subject;
/// * cargo-vet: exactly one subject: the crate version (`pkg:cargo/<crate>@<version>`) of an
///   audit, a delta (its end) or a publisher entry, the crate (`pkg:cargo/<crate>`) of a
///   violation, wildcard or trusted entry, the signer's vocabulary (a key) for criteria;
/// * advisory: the affected packages, without version, each named once and each covered by
///   an `affected` entry.
///
/// Imported statements name versions, not artifacts: their versioned subjects carry the
/// *name digest* (SHA-256 of the subject name) like unversioned ones (`digest-mismatch`
/// otherwise), so no verifier mistakes them for an artifact digest.
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
        Predicate::CargoVet(entry) => check_cargo_vet_subject(statement, &subjects, entry)?,
        Predicate::AdvisoryRecord(record) => {
            check_advisory_subjects(statement, &subjects, record)?;
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
    use base64::Engine as _;
    use serde_json::json;
    use sha2::{Digest as _, Sha256};

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
