//! Claims: what a proven statement says, reduced to what decisions count. This is the one
//! place that knows every predicate type's meaning for decisions.

use super::cargo_vet::VetClaim;
use crate::model::predicates::{
    self, AdoptionStatus, AdvisoryKind, Predicate, ValidatedStatement, VexStatus,
};
use crate::trust::{TrustLevel, TrustStance};

/// What a statement claims, reduced to what decisions need.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The signer runs (`adopted`) or tried and turned down (`!adopted`) a version.
    Adoption {
        /// Package purl without version.
        package: String,
        /// The version.
        version: String,
        /// Adopted, or rejected.
        adopted: bool,
    },
    /// The signer audited a version.
    Audit {
        /// Package purl without version.
        package: String,
        /// The version.
        version: String,
        /// Whether the audit passed.
        passed: bool,
        /// Criteria the audit claims, such as `safe-to-deploy`.
        criteria: Vec<String>,
        /// Capabilities the auditor saw the version use, such as `network`.
        capabilities: Vec<String>,
    },
    /// The signer reports versions of a package as malicious or vulnerable.
    Advisory {
        /// Package purl without version.
        package: String,
        /// Affected versions; empty means every version not named in `fixed`.
        affected: Vec<String>,
        /// Versions that fix the problem.
        fixed: Vec<String>,
        /// Malicious rather than merely vulnerable.
        malicious: bool,
    },
    /// The signer reports that a package changed owner or publisher.
    OwnershipChange {
        /// Package purl without version.
        package: String,
        /// The first version published by the new owner, if known.
        first_version: Option<String>,
    },
    /// The signer vouches for, withdraws trust in, or distrusts another key.
    Trust {
        /// The other principal's Ed25519 public key.
        subject: [u8; 32],
        /// What the signer now thinks of it.
        level: TrustStance,
    },
    /// The signer retracts an earlier statement of its own.
    Revocation {
        /// Envelope digest of the retracted statement.
        revoked: [u8; 32],
    },
    /// cargo-vet hook: an imported cargo-vet entry, resolved by `cargo_vet.rs` (audit
    /// chains, wildcard audits, violations); `package` is `None` for a criterion definition
    /// (its subject is the signer's key).
    CargoVet {
        /// Package purl without version, or `None` for a criterion definition.
        package: Option<String>,
        /// What the entry says.
        claim: Box<VetClaim>,
    },
}

impl Claim {
    /// The package (purl without version) the claim is about; `None` for trust and
    /// revocation claims, which are about keys and statements.
    pub fn package(&self) -> Option<&str> {
        match self {
            Claim::Adoption { package, .. }
            | Claim::Audit { package, .. }
            | Claim::Advisory { package, .. }
            | Claim::OwnershipChange { package, .. } => Some(package),
            Claim::CargoVet { package, .. } => package.as_deref(),
            Claim::Trust { .. } | Claim::Revocation { .. } => None,
        }
    }
}

/// Reduces a validated statement to the claims decisions count, one per package subject (or
/// one for a trust or revocation statement).
///
/// Trust statements scoped to one package are not edges of the global trust graph: they are
/// left out here, so a scoped vouch never widens trust beyond what its author meant.
pub fn claims_from_statement(validated: &ValidatedStatement) -> Vec<Claim> {
    let packages = || validated.packages();
    match &validated.predicate {
        Predicate::Adoption(a) => packages()
            .filter_map(|p| {
                Some(Claim::Adoption {
                    package: p.package.clone(),
                    version: p.version.clone()?,
                    adopted: a.status == AdoptionStatus::Adopted,
                })
            })
            .collect(),
        Predicate::Audit(a) => packages()
            .filter_map(|p| {
                Some(Claim::Audit {
                    package: p.package.clone(),
                    version: p.version.clone()?,
                    passed: a.verdict == predicates::Verdict::Pass,
                    criteria: a.criteria.clone(),
                    capabilities: a.capabilities.clone().unwrap_or_default(),
                })
            })
            .collect(),
        Predicate::Trust(t) if t.scope.is_none() => {
            let Ok(subject) = t.public_key() else {
                return Vec::new();
            };
            let level = match t.level {
                predicates::TrustLevel::Distrust => TrustStance::Distrust,
                predicates::TrustLevel::None => TrustStance::Withdrawn,
                predicates::TrustLevel::Low => TrustStance::Vouch(TrustLevel::Low),
                predicates::TrustLevel::Medium => TrustStance::Vouch(TrustLevel::Medium),
                predicates::TrustLevel::High => TrustStance::Vouch(TrustLevel::High),
            };
            vec![Claim::Trust { subject, level }]
        }
        Predicate::Trust(_) => Vec::new(),
        Predicate::Revocation(r) => r
            .digest()
            .map(|revoked| vec![Claim::Revocation { revoked }])
            .unwrap_or_default(),
        Predicate::OwnershipChange(_) => packages()
            .map(|p| Claim::OwnershipChange {
                package: p.package.clone(),
                first_version: p.version.clone(),
            })
            .collect(),
        // cargo-vet hook: one claim per entry (its one subject), resolved in `cargo_vet.rs`.
        Predicate::CargoVet(entry) => VetClaim::from_entry(entry)
            .map(|claim| Claim::CargoVet {
                package: packages().next().map(|p| p.package.clone()),
                claim: Box::new(claim),
            })
            .into_iter()
            .collect(),
        // Imported advisory records count in decisions from round 2 of issue 15 (ranges);
        // until then they are logged and checked (`quorum import --check`) but decide
        // nothing.
        Predicate::AdvisoryRecord(_) => Vec::new(),
        Predicate::Advisory(vex) => vex
            .claims()
            .into_iter()
            .filter_map(|c| {
                let versions: Vec<String> = c.version.into_iter().collect();
                let (affected, fixed) = match c.status {
                    VexStatus::Affected => (versions, Vec::new()),
                    VexStatus::Fixed if !versions.is_empty() => (Vec::new(), versions),
                    _ => return None,
                };
                Some(Claim::Advisory {
                    package: c.package,
                    affected,
                    fixed,
                    malicious: c.kind == AdvisoryKind::Malicious,
                })
            })
            .collect(),
    }
}

/// A statement that passed the evidence checks, ready to be counted.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenStatement {
    /// Its index in the log.
    pub index: u64,
    /// The signer's Ed25519 public key.
    pub signer: [u8; 32],
    /// The envelope digest, which revocations name.
    pub envelope_digest: [u8; 32],
    /// Unix time of the earliest witness cosignature on a checkpoint that includes it, if known.
    pub first_cosigned_at: Option<u64>,
    /// What it claims.
    pub claim: Claim,
}
