//! Claims: what a proven statement says, reduced to what decisions count. This is the one
//! place that knows every predicate type's meaning for decisions.

use std::collections::BTreeMap;

use super::cargo_vet::VetClaim;
use crate::model::predicates::{
    self, AdoptionStatus, AdvisoryKind, AdvisoryRecordKind, AffectedPackage, Predicate, RangeEvent,
    ValidatedStatement, VexStatus,
};
use crate::trust::{TrustLevel, TrustStance};

/// Which artifact a statement about a version speaks of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// The artifact with these digests (algorithm → lowercase hex): a Quorum statement's
    /// package-version subject.
    Digests(BTreeMap<String, String>),
    /// The registry's artifact of the version, whatever its digest: an imported statement,
    /// whose subject carries only the name digest (`spec/statements.md` §3.7). It is bound
    /// to a lockfile entry through the entry's own checksum and the registry's immutability.
    RegistryVersion,
}

/// Which versions an advisory reports affected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affected {
    /// None: an OpenVEX document that only names fixes.
    Nothing,
    /// Exactly these versions (OpenVEX `affected` products with versions).
    Versions(Vec<String>),
    /// Every version not fixed by one of the claim's `fixed` versions, in the ecosystem's
    /// order (an OpenVEX `affected` product without version; every version when no fix is
    /// named). See [`crate::ecosystem::Ecosystem::is_fixed_by`].
    AllNotFixed,
    /// OSV ranges and listed versions (`advisory/v1`): the union of both.
    Osv {
        /// Each range's events, in the order written.
        ranges: Vec<Vec<RangeEvent>>,
        /// Versions listed one by one.
        versions: Vec<String>,
    },
}

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
        /// The artifact adopted.
        artifact: Artifact,
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
        /// The artifact audited.
        artifact: Artifact,
    },
    /// The signer reports versions of a package as vulnerable, malicious, unsound,
    /// unmaintained or worth a notice.
    Advisory {
        /// Package purl without version.
        package: String,
        /// The advisory's identifiers: its own first, then its aliases (CVE, GHSA, …).
        ids: Vec<String>,
        /// What it reports; `vulnerability`, `malicious` and `unsound` veto, the others warn.
        kind: AdvisoryRecordKind,
        /// The affected versions.
        affected: Affected,
        /// Versions named as fixing it (OpenVEX `fixed`): a holder of `fix_bypass` naming a
        /// version here lets it skip the thresholds.
        fixed: Vec<String>,
        /// Affected functions, where the advisory names them.
        functions: Vec<String>,
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
                    artifact: Artifact::Digests(p.digests.clone()),
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
                    artifact: Artifact::Digests(p.digests.clone()),
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
        Predicate::AdvisoryRecord(record) => record
            .affected
            .iter()
            .map(|a| osv_claim(record, a))
            .collect(),
        Predicate::Advisory(vex) => openvex_claims(vex),
    }
}

/// One claim per affected package of an imported advisory.
fn osv_claim(record: &predicates::AdvisoryRecord, affected: &AffectedPackage) -> Claim {
    // The subject check guarantees the package parses; its canonical form is the key.
    let package = crate::model::statement::parse_purl(&affected.package)
        .map(|(p, _)| p)
        .unwrap_or_else(|_| affected.package.clone());
    Claim::Advisory {
        package,
        ids: std::iter::once(&record.id)
            .chain(&record.aliases)
            .cloned()
            .collect(),
        kind: record.kind,
        affected: Affected::Osv {
            ranges: affected.ranges.iter().map(|r| r.events.clone()).collect(),
            versions: affected.versions.clone(),
        },
        fixed: Vec::new(),
        functions: affected.functions.clone(),
    }
}

/// An OpenVEX document's claims: one per (vulnerability, package), its `affected` and
/// `fixed` products merged, so that `affected pkg:cargo/tokio` with `fixed
/// pkg:cargo/tokio@1.39.0` reads as "every version before the fix".
fn openvex_claims(vex: &predicates::OpenVex) -> Vec<Claim> {
    let mut merged: BTreeMap<(String, String), Claim> = BTreeMap::new();
    for c in vex.claims() {
        let entry = merged
            .entry((c.vulnerability.clone(), c.package.clone()))
            .or_insert_with(|| Claim::Advisory {
                package: c.package.clone(),
                ids: std::iter::once(&c.vulnerability)
                    .chain(&c.aliases)
                    .cloned()
                    .collect(),
                kind: match c.kind {
                    AdvisoryKind::Malicious => AdvisoryRecordKind::Malicious,
                    AdvisoryKind::Vulnerable => AdvisoryRecordKind::Vulnerability,
                },
                affected: Affected::Nothing,
                fixed: Vec::new(),
                functions: Vec::new(),
            });
        let Claim::Advisory {
            affected, fixed, ..
        } = entry
        else {
            continue;
        };
        match (c.status, c.version) {
            (VexStatus::Affected, None) => *affected = Affected::AllNotFixed,
            (VexStatus::Affected, Some(v)) => match affected {
                Affected::Nothing => *affected = Affected::Versions(vec![v]),
                Affected::Versions(list) if !list.contains(&v) => list.push(v),
                _ => {}
            },
            (VexStatus::Fixed, Some(v)) if !fixed.contains(&v) => fixed.push(v),
            _ => {}
        }
    }
    merged
        .into_values()
        .filter(|claim| {
            !matches!(claim, Claim::Advisory { affected: Affected::Nothing, fixed, .. } if fixed.is_empty())
        })
        .collect()
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
