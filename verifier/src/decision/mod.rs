//! Decisions: from proven statements and a policy to `allow`, `deny` or
//! `insufficient-evidence` for one package version.
//!
//! The input is the set of statements that already passed every evidence check of
//! `spec/verifier-semantics.md` §1 (checkpoint, witness quorum, consistency, inclusion,
//! envelope signature, well-formed statement), reduced to [`Claim`]s. This module applies the
//! rest: revocations, trust propagation from the policy's roots, and the rule's thresholds.
//! It reads no clock: "now" is the cosignature time of the checkpoint the decision rests on,
//! so the same log prefix and the same policy always give the same decision.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use thiserror::Error;

use crate::model::predicates::{
    self, AdoptionStatus, AdvisoryKind, Predicate, ValidatedStatement, VexStatus,
};
use crate::policy::{
    CompiledExpression, ExpressionInput, OwnershipChangeRule, Policy, PolicyError, RankingMode,
    Rule,
};
use crate::trust::{
    PrincipalId, PrincipalIndex, TrustError, TrustGraphBuilder, TrustLevel, TrustParams,
    TrustScores, TrustStance,
};

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
        // Imported cargo-vet entries and advisory records count in decisions from round 2
        // of issue 15 (criteria implications, delta chains, ranges); until then they are
        // logged and checked (`quorum import --check`) but decide nothing.
        Predicate::CargoVet(_) | Predicate::AdvisoryRecord(_) => Vec::new(),
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

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Install or update.
    Allow,
    /// Do not: a veto applies.
    Deny,
    /// Not yet: thresholds are unmet, but nothing vetoes.
    InsufficientEvidence,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::InsufficientEvidence => "insufficient-evidence",
        })
    }
}

/// The signals computed for one version, each only from counted statements.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Signals {
    /// Weighted fraction of trusted users of the package who adopted this version.
    pub adoption_fraction: f64,
    /// Trusted principals who adopted this version.
    pub adopters: u32,
    /// Trusted principals with any adoption statement about the package.
    pub users: u32,
    /// Passing audits by trusted auditors that meet the rule's criteria.
    pub passing_audits: u32,
    /// Failing audits by trusted auditors.
    pub failed_audits: u32,
    /// Keys (hex) of trusted auditors who passed this version.
    pub auditors: Vec<String>,
    /// Trusted advisories naming this version as affected.
    pub advisories: u32,
    /// Whether a trusted advisory names this version as a fix.
    pub named_fix: bool,
    /// Whether a trusted principal reported an ownership change that covers this version.
    pub ownership_changed: bool,
    /// Capabilities reported by passing trusted audits of this version.
    pub capabilities: Vec<String>,
    /// Seconds between the first cosigned statement about this version and the decision time.
    pub provable_age_seconds: Option<u64>,
}

/// A statement that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Its log index.
    pub index: u64,
    /// Why it does not count.
    pub reason: String,
}

/// The decision for one package version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Package purl without version.
    pub package: String,
    /// The version decided on.
    pub version: String,
    /// The outcome.
    pub verdict: Verdict,
    /// Why, one line per rule checked.
    pub reasons: Vec<String>,
    /// Indices of the statements that counted towards this decision, ascending.
    pub counted: Vec<u64>,
    /// Statements about this package that did not count, and why.
    pub rejected: Vec<Rejected>,
    /// The computed signals.
    pub signals: Signals,
    /// Each counted signer's weight (hex key → weight), for `quorum explain`.
    pub weights: BTreeMap<String, f64>,
}

/// Errors while evaluating.
#[derive(Debug, Error)]
pub enum DecisionError {
    /// The policy could not be applied.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Trust propagation failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// Trust weights and the statements that count, computed once per (log prefix, policy) and
/// then asked for any number of package versions.
#[derive(Debug)]
pub struct Evaluation<'a> {
    policy: &'a Policy,
    now: u64,
    statements: Vec<&'a ProvenStatement>,
    /// Positions in `statements` of the claims about each package, ascending, so deciding
    /// one package reads only its own statements.
    by_package: BTreeMap<&'a str, Vec<usize>>,
    revoked: BTreeMap<u64, u64>,
    principals: PrincipalIndex,
    scores: TrustScores,
    adopter_weights: Option<Vec<f64>>,
}

impl<'a> Evaluation<'a> {
    /// Applies revocations and computes trust weights. `now` is the unix time the decision
    /// is made at: the cosignature time of the checkpoint the statements were proven under.
    pub fn new(
        policy: &'a Policy,
        statements: &'a [ProvenStatement],
        now: u64,
    ) -> Result<Self, DecisionError> {
        let mut statements: Vec<&ProvenStatement> = statements.iter().collect();
        // One entry can carry several claims (one per subject), so entries are not unique by
        // index; identical claims of one entry (a bundle listing it twice) count once.
        statements.sort_by_key(|s| s.index);
        statements.dedup_by(|a, b| a.index == b.index && a.claim == b.claim);

        // A revocation counts only for the signer's own statements.
        let by_digest: BTreeMap<([u8; 32], [u8; 32]), u64> = statements
            .iter()
            .map(|s| ((s.signer, s.envelope_digest), s.index))
            .collect();
        let mut revoked = BTreeMap::new();
        for s in &statements {
            if let Claim::Revocation { revoked: digest } = &s.claim
                && let Some(&target) = by_digest.get(&(s.signer, *digest))
            {
                revoked.entry(target).or_insert(s.index);
            }
        }

        let mut principals = PrincipalIndex::new();
        let roots: Vec<PrincipalId> = policy
            .root_keys()?
            .iter()
            .map(|k| principals.intern(k))
            .collect::<Result<_, _>>()?;
        let mut trust_edges = Vec::new();
        for s in &statements {
            let signer = principals.intern(&s.signer)?;
            if let Claim::Trust { subject, level } = &s.claim
                && !revoked.contains_key(&s.index)
            {
                trust_edges.push((signer, principals.intern(subject)?, *level));
            }
        }
        let mut builder = TrustGraphBuilder::new(principals.len());
        builder.reserve(trust_edges.len());
        for (from, to, level) in trust_edges {
            builder.add(from, to, level)?;
        }
        let graph = builder.build()?;
        let params = TrustParams {
            mode: policy.trust.mode.propagation(),
            damping: policy.trust.damping,
            max_depth: policy.trust.max_depth,
        };
        let scores = graph.compute(&roots, &params)?;
        let mut by_package: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (position, s) in statements.iter().enumerate() {
            if let Some(package) = s.claim.package() {
                by_package.entry(package).or_default().push(position);
            }
        }
        let mut evaluation = Evaluation {
            policy,
            now,
            statements,
            by_package,
            revoked,
            principals,
            scores,
            adopter_weights: None,
        };
        if policy.trust.mode == RankingMode::Hits {
            evaluation.adopter_weights = Some(evaluation.hits_hub_weights());
        }
        Ok(evaluation)
    }

    /// The trust weight of a key (zero for keys no root reaches).
    pub fn weight_of(&self, key: &[u8; 32]) -> f64 {
        self.principals
            .get(key)
            .map_or(0.0, |id| self.scores.weight(id))
    }

    fn trusted(&self, key: &[u8; 32]) -> bool {
        let w = self.weight_of(key);
        w > 0.0 && w >= self.policy.trust.min_weight
    }

    /// Weight used for counting adoption: trust, or the HITS hub score in `hits` mode.
    fn adopter_weight(&self, key: &[u8; 32]) -> f64 {
        match (&self.adopter_weights, self.principals.get(key)) {
            (Some(hubs), Some(id)) => hubs.get(id as usize).copied().unwrap_or(0.0),
            (None, _) => self.weight_of(key),
            (Some(_), None) => 0.0,
        }
    }

    /// HITS over the adoption graph, restricted to trusted principals and seeded with their
    /// trust: a principal's hub score mixes its trust with the authority of the versions it
    /// adopted, so the ranking can only redistribute weight the roots handed out.
    fn hits_hub_weights(&self) -> Vec<f64> {
        let n = self.principals.len();
        let trust: Vec<f64> = (0..n)
            .map(|id| {
                let w = self.scores.weight(id as PrincipalId);
                if w >= self.policy.trust.min_weight {
                    w
                } else {
                    0.0
                }
            })
            .collect();
        let total_trust: f64 = trust.iter().sum();
        if total_trust == 0.0 {
            return trust;
        }
        let mut adoptions: BTreeSet<(PrincipalId, &str, &str)> = BTreeSet::new();
        for s in &self.statements {
            if let Claim::Adoption {
                package,
                version,
                adopted: true,
            } = &s.claim
                && !self.revoked.contains_key(&s.index)
                && let Some(id) = self.principals.get(&s.signer)
                && trust[id as usize] > 0.0
            {
                adoptions.insert((id, package, version));
            }
        }
        let mut hub: Vec<f64> = trust.iter().map(|t| t / total_trust).collect();
        for _ in 0..20 {
            let mut authority: BTreeMap<(&str, &str), f64> = BTreeMap::new();
            for &(id, package, version) in &adoptions {
                *authority.entry((package, version)).or_default() += hub[id as usize];
            }
            let total_authority: f64 = authority.values().sum();
            if total_authority == 0.0 {
                break;
            }
            let mut next = vec![0.0f64; n];
            for &(id, package, version) in &adoptions {
                next[id as usize] += authority[&(package, version)] / total_authority;
            }
            let total_next: f64 = next.iter().sum();
            for id in 0..n {
                let seeded = trust[id] / total_trust;
                let refined = if total_next > 0.0 {
                    next[id] / total_next
                } else {
                    0.0
                };
                hub[id] = 0.5 * seeded + 0.5 * refined;
            }
        }
        hub
    }

    /// Decides on one version of `package` (a purl without version).
    pub fn decide(&self, package: &str, version: &str) -> Decision {
        let rule = self.policy.rule_for(package);
        let mut tally = Tally::new(self, &rule, package, version);
        for &position in self.by_package.get(package).into_iter().flatten() {
            tally.count(self.statements[position]);
        }
        tally.finish()
    }
}

/// Compiles and evaluates a rule expression (already checked when the policy was loaded).
fn evaluate(expression: &str, input: &ExpressionInput) -> Result<bool, String> {
    CompiledExpression::compile(expression)?.evaluate(input)
}

/// The running count for one decision.
struct Tally<'e, 'a> {
    evaluation: &'e Evaluation<'a>,
    rule: &'e Rule,
    package: &'e str,
    version: &'e str,
    counted: BTreeSet<u64>,
    rejected: Vec<Rejected>,
    weights: BTreeMap<String, f64>,
    /// Latest adoption statement per (signer, version) of this package: (adopted, index).
    adoption: BTreeMap<([u8; 32], String), (bool, u64)>,
    signals: Signals,
    auditors: BTreeSet<[u8; 32]>,
    capabilities: BTreeSet<String>,
    vetoes: Vec<String>,
    first_seen: Option<u64>,
    ownership_change_at: Option<u64>,
    first_index_of_version: Option<u64>,
}

impl<'e, 'a> Tally<'e, 'a> {
    fn new(
        evaluation: &'e Evaluation<'a>,
        rule: &'e Rule,
        package: &'e str,
        version: &'e str,
    ) -> Self {
        Tally {
            evaluation,
            rule,
            package,
            version,
            counted: BTreeSet::new(),
            rejected: Vec::new(),
            weights: BTreeMap::new(),
            adoption: BTreeMap::new(),
            signals: Signals::default(),
            auditors: BTreeSet::new(),
            capabilities: BTreeSet::new(),
            vetoes: Vec::new(),
            first_seen: None,
            ownership_change_at: None,
            first_index_of_version: None,
        }
    }

    fn about_this_package(&self, claim: &Claim) -> bool {
        claim.package() == Some(self.package)
    }

    fn reject(&mut self, index: u64, reason: String) {
        self.rejected.push(Rejected { index, reason });
    }

    fn note_version_seen(&mut self, s: &ProvenStatement) {
        self.first_index_of_version.get_or_insert(s.index);
        if let Some(t) = s.first_cosigned_at {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
        }
    }

    fn count(&mut self, s: &ProvenStatement) {
        if !self.about_this_package(&s.claim) {
            return;
        }
        if let Some(by) = self.evaluation.revoked.get(&s.index) {
            self.reject(s.index, format!("revoked by its signer in entry {by}"));
            return;
        }
        let signer_hex = hex::encode(s.signer);
        if !self.evaluation.trusted(&s.signer) {
            self.reject(
                s.index,
                format!("signer {signer_hex} is not reached by the policy's trust roots"),
            );
            return;
        }
        let counts = match &s.claim {
            Claim::Adoption {
                version, adopted, ..
            } => {
                if version == self.version {
                    self.note_version_seen(s);
                }
                self.adoption
                    .insert((s.signer, version.clone()), (*adopted, s.index));
                false // counted below, once the latest statement per signer is known
            }
            Claim::Audit {
                version,
                passed,
                criteria,
                capabilities,
                ..
            } if version == self.version => {
                self.note_version_seen(s);
                if !*passed {
                    self.signals.failed_audits += 1;
                    if self.rule.failed_audits_veto {
                        self.vetoes.push(format!(
                            "failed audit by {} (entry {})",
                            self.evaluation.policy.describe_key(&s.signer),
                            s.index
                        ));
                    }
                    true
                } else if self
                    .rule
                    .required_criteria
                    .iter()
                    .all(|c| criteria.contains(c))
                {
                    self.auditors.insert(s.signer);
                    self.capabilities.extend(capabilities.iter().cloned());
                    true
                } else {
                    self.reject(
                        s.index,
                        format!(
                            "audit lacks required criteria {:?}",
                            self.rule.required_criteria
                        ),
                    );
                    false
                }
            }
            Claim::Advisory {
                affected,
                fixed,
                malicious,
                ..
            } => {
                if fixed.iter().any(|f| f == self.version) {
                    self.signals.named_fix = true;
                    true
                } else if affected.iter().any(|a| a == self.version)
                    || (affected.is_empty() && fixed.is_empty())
                {
                    // No versions at all means the whole package; a claim that only names
                    // fixes (OpenVEX `fixed`) says nothing against other versions.
                    self.signals.advisories += 1;
                    if self.rule.advisories_veto {
                        let kind = if *malicious {
                            "malicious"
                        } else {
                            "vulnerable"
                        };
                        self.vetoes.push(format!(
                            "advisory by {} reports this version {kind} (entry {})",
                            self.evaluation.policy.describe_key(&s.signer),
                            s.index
                        ));
                    }
                    true
                } else {
                    false
                }
            }
            Claim::OwnershipChange { first_version, .. } => {
                if first_version.as_deref() == Some(self.version) {
                    self.signals.ownership_changed = true;
                }
                self.ownership_change_at.get_or_insert(s.index);
                true
            }
            Claim::Audit { .. } | Claim::Trust { .. } | Claim::Revocation { .. } => false,
        };
        if counts {
            self.counted.insert(s.index);
            self.weights
                .insert(signer_hex, self.evaluation.weight_of(&s.signer));
        }
    }

    fn finish(mut self) -> Decision {
        let ev = self.evaluation;
        // Adoption: latest statement per (signer, version); users are trusted signers with any.
        let mut users: BTreeMap<[u8; 32], f64> = BTreeMap::new();
        let mut adopters: BTreeMap<[u8; 32], u64> = BTreeMap::new();
        for ((signer, version), (adopted, index)) in &self.adoption {
            users.insert(*signer, ev.adopter_weight(signer));
            if version == self.version && *adopted {
                adopters.insert(*signer, *index);
            }
        }
        // Folded from +0.0: an empty f64 `sum()` is -0.0, which would print as "-0%".
        let user_weight = users.values().fold(0.0, |acc, w| acc + w);
        let adopter_weight = adopters
            .keys()
            .fold(0.0, |acc, k| acc + ev.adopter_weight(k));
        self.signals.users = users.len() as u32;
        self.signals.adopters = adopters.len() as u32;
        self.signals.adoption_fraction = if user_weight > 0.0 {
            adopter_weight / user_weight
        } else {
            0.0
        };
        for (signer, index) in &adopters {
            self.counted.insert(*index);
            self.weights
                .insert(hex::encode(signer), ev.weight_of(signer));
        }
        // An ownership change covers the version it names and every version first logged
        // after the change.
        if let (Some(change), Some(first)) = (self.ownership_change_at, self.first_index_of_version)
            && first > change
        {
            self.signals.ownership_changed = true;
        }
        // Audits count per auditor: one auditor attesting twice is still one audit.
        self.signals.passing_audits = self.auditors.len() as u32;
        self.signals.auditors = self.auditors.iter().map(hex::encode).collect();
        self.signals.capabilities = self.capabilities.iter().cloned().collect();
        self.signals.provable_age_seconds = self.first_seen.map(|t| ev.now.saturating_sub(t));

        let rule = self.rule;
        let mut reasons = Vec::new();
        let mut unmet = Vec::new();
        let mut vetoes = std::mem::take(&mut self.vetoes);
        // One advisory can name a version in several VEX statements; say each reason once.
        let mut said = BTreeSet::new();
        vetoes.retain(|v| said.insert(v.clone()));

        if let Some(allowed) = &rule.allowed_capabilities {
            let grown: Vec<&String> = self
                .capabilities
                .iter()
                .filter(|c| !allowed.contains(c))
                .collect();
            if !grown.is_empty() {
                vetoes.push(format!(
                    "audited capabilities {grown:?} are outside the allowed set {allowed:?}"
                ));
            }
        }
        if self.signals.ownership_changed {
            match rule.ownership_change {
                OwnershipChangeRule::Deny => {
                    vetoes.push("the package changed owner and the rule denies that".into())
                }
                OwnershipChangeRule::RequireAudit if self.signals.passing_audits == 0 => unmet
                    .push("the package changed owner: a passing trusted audit is required".into()),
                OwnershipChangeRule::RequireAudit | OwnershipChangeRule::Ignore => {}
            }
        }

        let bypass = rule.fix_bypass && self.signals.named_fix;
        // The rule's thresholds, checked even under a bypass so that expressions can read
        // whether they are met.
        let mut thresholds = Vec::new();
        if self.signals.adoption_fraction < rule.min_adoption {
            thresholds.push(format!(
                "adoption {:.0}% of trusted users is below the required {:.0}%",
                self.signals.adoption_fraction * 100.0,
                rule.min_adoption * 100.0
            ));
        }
        if self.signals.adopters < rule.min_adopters {
            thresholds.push(format!(
                "{} trusted adopters, {} required",
                self.signals.adopters, rule.min_adopters
            ));
        }
        if self.signals.passing_audits < rule.min_audits {
            thresholds.push(format!(
                "{} passing audits, {} required",
                self.signals.passing_audits, rule.min_audits
            ));
        }
        let mut required_auditors_met = true;
        for auditor in &rule.required_auditors {
            match ev.policy.resolve(auditor) {
                Ok(key) if self.auditors.contains(&key) => {}
                _ => {
                    required_auditors_met = false;
                    thresholds.push(format!("no passing audit by required auditor {auditor}"));
                }
            }
        }
        if rule.min_age_seconds > 0 {
            match self.signals.provable_age_seconds {
                Some(age) if age >= rule.min_age_seconds => {}
                Some(age) => thresholds.push(format!(
                    "provable age {age}s is below the required {}s",
                    rule.min_age_seconds
                )),
                None => {
                    thresholds.push("no witness-cosigned statement proves the version's age".into())
                }
            }
        }

        let input = || ExpressionInput {
            package: self.package.to_string(),
            version: self.version.to_string(),
            adoption_fraction: self.signals.adoption_fraction,
            adopters: self.signals.adopters,
            users: self.signals.users,
            passing_audits: self.signals.passing_audits,
            failed_audits: self.signals.failed_audits,
            auditors: self.signals.auditors.clone(),
            required_auditors_met,
            advisories: self.signals.advisories,
            named_fix: self.signals.named_fix,
            ownership_changed: self.signals.ownership_changed,
            capabilities: self.signals.capabilities.clone(),
            provable_age_seconds: self.signals.provable_age_seconds,
            thresholds_met: thresholds.is_empty(),
        };
        if let Some(deny_if) = &rule.deny_if {
            // Fails closed: an expression that cannot be evaluated denies.
            match evaluate(deny_if.get_ref(), &input()) {
                Ok(false) => {}
                Ok(true) => vetoes.push(format!("deny_if `{}` is true", deny_if.get_ref())),
                Err(e) => vetoes.push(format!("deny_if `{}`: {e}", deny_if.get_ref())),
            }
        }
        let mut allowed_by_expression = None;
        if !bypass {
            match &rule.allow_if {
                None => unmet.extend(thresholds),
                Some(allow_if) => match evaluate(allow_if.get_ref(), &input()) {
                    Ok(true) => {
                        allowed_by_expression = Some(format!(
                            "allow_if `{}` is true (adoption {:.0}% by {} trusted adopters, {} passing audits)",
                            allow_if.get_ref(),
                            self.signals.adoption_fraction * 100.0,
                            self.signals.adopters,
                            self.signals.passing_audits
                        ))
                    }
                    Ok(false) => unmet.push(format!(
                        "allow_if `{}` is false (adoption {:.0}% by {} trusted adopters, {} passing audits)",
                        allow_if.get_ref(),
                        self.signals.adoption_fraction * 100.0,
                        self.signals.adopters,
                        self.signals.passing_audits
                    )),
                    Err(e) => unmet.push(format!("allow_if `{}`: {e}", allow_if.get_ref())),
                },
            }
        }

        let verdict = if !vetoes.is_empty() {
            reasons.extend(vetoes);
            Verdict::Deny
        } else if !unmet.is_empty() {
            reasons.extend(unmet);
            Verdict::InsufficientEvidence
        } else {
            if bypass {
                reasons.push("a trusted advisory names this version as the fix".into());
            } else if let Some(reason) = allowed_by_expression {
                reasons.push(reason);
            } else {
                reasons.push(format!(
                    "adoption {:.0}% by {} trusted adopters, {} passing audits: every rule is met",
                    self.signals.adoption_fraction * 100.0,
                    self.signals.adopters,
                    self.signals.passing_audits
                ));
            }
            Verdict::Allow
        };
        Decision {
            package: self.package.to_string(),
            version: self.version.to_string(),
            verdict,
            reasons,
            counted: self.counted.into_iter().collect(),
            rejected: self.rejected,
            signals: self.signals,
            weights: self.weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKG: &str = "pkg:cargo/demo";

    fn key(n: u32) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(&n.to_be_bytes());
        k[31] = 1;
        k
    }

    fn policy(rule: &str) -> Policy {
        Policy::parse(&format!(
            "[trust]\nroots = [\"{}\"]\nmax_depth = 3\n\n[aliases]\nauditor = \"{}\"\n\n[[rule]]\npackages = \"pkg:cargo/*\"\n{rule}\n",
            hex::encode(key(0)),
            hex::encode(key(1)),
        ))
        .unwrap()
    }

    struct Log(Vec<ProvenStatement>);

    impl Log {
        fn add(&mut self, signer: u32, claim: Claim) -> u64 {
            let index = self.0.len() as u64;
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&index.to_be_bytes());
            self.0.push(ProvenStatement {
                index,
                signer: key(signer),
                envelope_digest: digest,
                first_cosigned_at: Some(1_000 + index),
                claim,
            });
            index
        }
        fn trust(&mut self, from: u32, to: u32) {
            self.add(
                from,
                Claim::Trust {
                    subject: key(to),
                    level: TrustStance::Vouch(TrustLevel::High),
                },
            );
        }
        fn adopt(&mut self, who: u32, version: &str) -> u64 {
            self.add(
                who,
                Claim::Adoption {
                    package: PKG.into(),
                    version: version.into(),
                    adopted: true,
                },
            )
        }
        fn audit(&mut self, who: u32, version: &str, passed: bool, caps: &[&str]) -> u64 {
            self.add(
                who,
                Claim::Audit {
                    package: PKG.into(),
                    version: version.into(),
                    passed,
                    criteria: vec!["safe-to-deploy".into()],
                    capabilities: caps.iter().map(|c| c.to_string()).collect(),
                },
            )
        }
    }

    /// Root 0 trusts users 1..=5; all run 1.0.0.
    fn community() -> Log {
        let mut log = Log(Vec::new());
        for user in 1..=5 {
            log.trust(0, user);
            log.adopt(user, "1.0.0");
        }
        log
    }

    fn decide(policy: &Policy, log: &Log, version: &str) -> Decision {
        Evaluation::new(policy, &log.0, 10_000)
            .unwrap()
            .decide(PKG, version)
    }

    #[test]
    fn adoption_threshold_counts_trusted_users() {
        let policy = policy("min_adoption = 0.6\nmin_adopters = 2");
        let mut log = community();
        log.adopt(1, "2.0.0");
        log.adopt(2, "2.0.0");
        let d = decide(&policy, &log, "2.0.0");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
        assert_eq!(d.signals.adopters, 2);
        assert_eq!(d.signals.users, 5);
        let third = log.adopt(3, "2.0.0");
        let d = decide(&policy, &log, "2.0.0");
        assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
        assert!((d.signals.adoption_fraction - 0.6).abs() < 1e-9);
        assert!(d.counted.contains(&third));
    }

    #[test]
    fn expressions_allow_and_deny_and_say_so() {
        // Two passing audits stand in for adoption; the built-in threshold alone would not allow.
        let policy = policy(
            "min_adoption = 0.9\nallow_if = \"thresholds_met || passing_audits >= 2\"\ndeny_if = \"'network' in capabilities\"",
        );
        let mut log = community();
        log.adopt(1, "2.0.0");
        let d = decide(&policy, &log, "2.0.0");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
        assert!(d.reasons[0].starts_with("allow_if `"), "{:?}", d.reasons);
        assert!(d.reasons[0].contains("is false"), "{:?}", d.reasons);
        log.audit(1, "2.0.0", true, &[]);
        log.audit(2, "2.0.0", true, &["filesystem"]);
        let d = decide(&policy, &log, "2.0.0");
        assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
        assert!(
            d.reasons[0].starts_with("allow_if `thresholds_met || passing_audits >= 2` is true"),
            "{:?}",
            d.reasons
        );
        // The built-in thresholds still allow 1.0.0 through `thresholds_met`.
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
        // deny_if vetoes, whatever allow_if says.
        log.audit(3, "2.0.0", true, &["network"]);
        let d = decide(&policy, &log, "2.0.0");
        assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
        assert_eq!(
            d.reasons,
            vec!["deny_if `'network' in capabilities` is true"]
        );
        // An expression that fails at run time fails closed.
        let policy = policy_with_rule("deny_if = \"adopters / (users - users) > 1\"");
        let d = decide(&policy, &community(), "1.0.0");
        assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
        assert!(
            d.reasons[0].contains("evaluation failed"),
            "{:?}",
            d.reasons
        );
    }

    /// Like `policy`, for rules whose expressions cannot be evaluated over the load-time
    /// samples either (built without the load-time check, to test the run-time path).
    fn policy_with_rule(rule: &str) -> Policy {
        let mut p = policy("");
        let text = format!("[[rule]]\n{rule}\n");
        #[derive(serde::Deserialize)]
        struct Rules {
            rule: Vec<Rule>,
        }
        let rules: Rules = toml::from_str(&text).unwrap();
        p.rules = rules.rule;
        p
    }

    #[test]
    fn sybil_farm_moves_no_threshold() {
        let policy = policy("min_adoption = 0.6\nmin_adopters = 2");
        let mut log = community();
        for sybil in 100..3100 {
            // Fresh keys vouch for each other and adopt the malicious version.
            log.trust(sybil, sybil + 1);
            log.adopt(sybil, "6.6.6");
        }
        let d = decide(&policy, &log, "6.6.6");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
        assert_eq!(d.signals.adopters, 0);
        assert_eq!(d.signals.adoption_fraction, 0.0);
        assert!(d.signals.adoption_fraction.is_sign_positive());
        assert!(d.reasons[0].starts_with("adoption 0%"), "{:?}", d.reasons);
        assert_eq!(d.rejected.len(), 3000);
    }

    #[test]
    fn trusted_advisory_vetoes_and_names_the_fix() {
        let policy = policy("min_adoption = 0.6");
        let mut log = community();
        for user in 1..=5 {
            log.adopt(user, "1.0.1");
        }
        log.add(
            2,
            Claim::Advisory {
                package: PKG.into(),
                affected: vec!["1.0.1".into()],
                fixed: vec!["1.0.2".into()],
                malicious: true,
            },
        );
        let d = decide(&policy, &log, "1.0.1");
        assert_eq!(d.verdict, Verdict::Deny);
        assert!(d.reasons[0].contains("malicious"), "{:?}", d.reasons);
        let fix = decide(&policy, &log, "1.0.2");
        assert_eq!(fix.verdict, Verdict::Allow, "{:?}", fix.reasons);
        assert!(fix.signals.named_fix);
        // An untrusted advisory vetoes nothing.
        let mut log = community();
        log.add(
            999,
            Claim::Advisory {
                package: PKG.into(),
                affected: vec!["1.0.0".into()],
                fixed: vec![],
                malicious: true,
            },
        );
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    }

    #[test]
    fn an_advisory_as_openvex_claims_vetoes_only_the_affected_version() {
        // claims_from_statement turns one OpenVEX advisory into an `affected` claim and a
        // separate `fixed` claim; the fix claim must not count against other versions.
        let policy = policy("min_adoption = 0.6");
        let mut log = community();
        for user in 1..=5 {
            log.adopt(user, "1.0.0");
            log.adopt(user, "1.0.1");
        }
        for (affected, fixed) in [
            (vec!["1.0.1".to_string()], vec![]),
            (vec![], vec!["1.0.2".to_string()]),
        ] {
            log.add(
                2,
                Claim::Advisory {
                    package: PKG.into(),
                    affected,
                    fixed,
                    malicious: true,
                },
            );
        }
        let bad = decide(&policy, &log, "1.0.1");
        assert_eq!(bad.verdict, Verdict::Deny);
        assert_eq!(bad.signals.advisories, 1, "{:?}", bad.reasons);
        assert_eq!(bad.reasons.len(), 1, "{:?}", bad.reasons);
        let older = decide(&policy, &log, "1.0.0");
        assert_eq!(older.verdict, Verdict::Allow, "{:?}", older.reasons);
        assert_eq!(older.signals.advisories, 0);
        assert_eq!(decide(&policy, &log, "1.0.2").verdict, Verdict::Allow);
        // An advisory naming no versions at all covers the whole package.
        log.add(
            2,
            Claim::Advisory {
                package: PKG.into(),
                affected: vec![],
                fixed: vec![],
                malicious: false,
            },
        );
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Deny);
    }

    #[test]
    fn revoked_audit_stops_counting() {
        let policy = policy("required_auditors = [\"auditor\"]");
        let mut log = community();
        log.trust(0, 1);
        let audit = log.audit(1, "1.0.0", true, &[]);
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
        let digest = log.0[audit as usize].envelope_digest;
        // Someone else's revocation has no effect.
        log.add(3, Claim::Revocation { revoked: digest });
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
        log.add(1, Claim::Revocation { revoked: digest });
        let d = decide(&policy, &log, "1.0.0");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
        assert!(
            d.rejected
                .iter()
                .any(|r| r.index == audit && r.reason.contains("revoked"))
        );
    }

    #[test]
    fn audits_count_per_auditor_and_multi_subject_entries_keep_every_claim() {
        let policy = policy("min_audits = 2");
        let mut log = community();
        log.audit(1, "1.0.0", true, &[]);
        log.audit(1, "1.0.0", true, &[]);
        let d = decide(&policy, &log, "1.0.0");
        assert_eq!(d.signals.passing_audits, 1);
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
        // One entry (one index) adopting two versions of the package.
        let index = log.adopt(2, "2.0.0");
        let mut second = log.0[index as usize].clone();
        second.claim = Claim::Adoption {
            package: PKG.into(),
            version: "2.0.1".into(),
            adopted: true,
        };
        log.0.push(second);
        assert_eq!(decide(&policy, &log, "2.0.1").signals.adopters, 1);
        assert_eq!(decide(&policy, &log, "2.0.0").signals.adopters, 1);
    }

    #[test]
    fn failed_audit_and_capability_growth_deny() {
        let policy = policy("allowed_capabilities = [\"filesystem\"]");
        let mut log = community();
        log.audit(1, "1.0.0", true, &["filesystem"]);
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
        log.audit(2, "1.0.0", true, &["network"]);
        let d = decide(&policy, &log, "1.0.0");
        assert_eq!(d.verdict, Verdict::Deny);
        assert!(d.reasons[0].contains("network"));
        let mut log = community();
        log.audit(2, "1.0.0", false, &[]);
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Deny);
    }

    #[test]
    fn ownership_change_requires_an_audit() {
        let policy = policy("");
        let mut log = community();
        log.add(
            4,
            Claim::OwnershipChange {
                package: PKG.into(),
                first_version: Some("3.0.0".into()),
            },
        );
        log.adopt(1, "3.0.0");
        log.adopt(1, "3.1.0");
        // Versions logged before the change are unaffected.
        assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
        for v in ["3.0.0", "3.1.0"] {
            let d = decide(&policy, &log, v);
            assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{v}");
            assert!(d.signals.ownership_changed);
        }
        log.audit(2, "3.1.0", true, &[]);
        assert_eq!(decide(&policy, &log, "3.1.0").verdict, Verdict::Allow);
    }

    #[test]
    fn provable_age_uses_cosignature_times() {
        let policy = policy("min_age_seconds = 5000");
        let log = community();
        // First statement about 1.0.0 was cosigned at 1_001; now is 10_000.
        let d = decide(&policy, &log, "1.0.0");
        assert_eq!(d.signals.provable_age_seconds, Some(10_000 - 1_001));
        assert_eq!(d.verdict, Verdict::Allow);
        let d = decide(&policy, &log, "9.9.9");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    }

    #[test]
    fn hits_mode_stays_inside_the_trusted_set() {
        let mut policy = policy("min_adoption = 0.5");
        policy.trust.mode = RankingMode::Hits;
        let mut log = community();
        for sybil in 100..200 {
            log.adopt(sybil, "6.6.6");
        }
        log.adopt(1, "2.0.0");
        let d = decide(&policy, &log, "6.6.6");
        assert_eq!(d.signals.adopters, 0);
        assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    }

    #[test]
    fn same_input_same_decision() {
        let policy = policy("min_adoption = 0.4");
        let mut log = community();
        log.adopt(1, "2.0.0");
        log.adopt(2, "2.0.0");
        let a = decide(&policy, &log, "2.0.0");
        let mut shuffled = Log(log.0.clone());
        shuffled.0.reverse();
        let b = decide(&policy, &shuffled, "2.0.0");
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn statements_reduce_to_claims() {
        use crate::model::predicates::{Audit, Trust, validate_statement};
        use crate::model::statement::Subject;
        let audit = Predicate::Audit(Audit {
            verdict: predicates::Verdict::Pass,
            criteria: vec!["safe-to-deploy".into()],
            capabilities: Some(vec!["network".into()]),
            notes: None,
        })
        .into_statement(vec![Subject::package_version(
            "pkg:cargo/demo@1.2.3",
            [7; 32],
        )]);
        let validated = validate_statement(&audit).unwrap();
        assert_eq!(
            claims_from_statement(&validated),
            vec![Claim::Audit {
                package: "pkg:cargo/demo".into(),
                version: "1.2.3".into(),
                passed: true,
                criteria: vec!["safe-to-deploy".into()],
                capabilities: vec!["network".into()],
            }]
        );
        for (level, stance) in [
            (
                predicates::TrustLevel::High,
                TrustStance::Vouch(TrustLevel::High),
            ),
            (predicates::TrustLevel::None, TrustStance::Withdrawn),
            (predicates::TrustLevel::Distrust, TrustStance::Distrust),
        ] {
            let trust = Predicate::Trust(Trust {
                key: hex::encode(key(9)),
                level,
                scope: None,
                comment: None,
            })
            .into_statement(vec![Subject::key(&key(9))]);
            let validated = validate_statement(&trust).unwrap();
            assert_eq!(
                claims_from_statement(&validated),
                vec![Claim::Trust {
                    subject: key(9),
                    level: stance
                }]
            );
        }
    }
}
