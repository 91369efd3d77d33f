//! Evidence assembly: from the proven statements of one log prefix and a policy to what every
//! decision at that prefix shares: which statements are revoked, the trust graph and its
//! weights, who holds which power, and (mode `hits`) the adoption weights.

use std::collections::BTreeMap;

use super::cargo_vet::{VetKind, Vocabularies};
use super::claims::{Claim, ProvenStatement};
use super::tally::{Pin, Tally};
use super::{ArtifactBinding, Decision, DecisionError, Verdict, rules};
use crate::lockfile::LockedPackage;
use crate::policy::{Grant, Policy, Power, RankingMode, Refusal};
use crate::trust::{
    PrincipalId, PrincipalIndex, Standing, TrustGraphBuilder, TrustParams, TrustScores, Weight,
    hits,
};

/// Trust weights and the statements that count, computed once per (log prefix, policy) and
/// then asked for any number of package versions.
#[derive(Debug)]
pub struct Evaluation<'a> {
    pub(super) policy: &'a Policy,
    pub(super) now: u64,
    statements: Vec<&'a ProvenStatement>,
    /// Positions in `statements` of the claims about each package, ascending, so deciding
    /// one package reads only its own statements.
    by_package: BTreeMap<&'a str, Vec<usize>>,
    /// Revoked entry → the entry that revoked it.
    pub(super) revoked: BTreeMap<u64, u64>,
    principals: PrincipalIndex,
    roots: Vec<PrincipalId>,
    scores: TrustScores,
    /// Mode `hits`: each principal's hub score, used for adoption fractions.
    adoption_weights: Option<Vec<Weight>>,
    /// cargo-vet hook: every signer's custom criteria (unrevoked definitions).
    pub(super) vet_vocabularies: Vocabularies,
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
        let revoked = revocations(&statements);

        let mut principals = PrincipalIndex::new();
        let mut roots: Vec<PrincipalId> = policy
            .root_keys()?
            .iter()
            .map(|k| principals.intern(k))
            .collect::<Result<_, _>>()?;
        roots.sort_unstable();
        roots.dedup();
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
        // Whose distrust cuts is a power like any other.
        let distrust = policy.powers.grant(Power::Distrust);
        let scores = graph.compute_gated(&roots, &params, |id, standing| {
            principals.key(id).is_some_and(|key| {
                distrust
                    .check(key, roots.binary_search(&id).is_ok(), false, standing)
                    .is_ok()
            })
        })?;
        let mut by_package: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (position, s) in statements.iter().enumerate() {
            if let Some(package) = s.claim.package() {
                by_package.entry(package).or_default().push(position);
            }
        }
        // cargo-vet hook: criteria definitions are about the signer, not a package.
        let mut vet_vocabularies = Vocabularies::default();
        for s in &statements {
            if let Claim::CargoVet { claim, .. } = &s.claim
                && let VetKind::Criterion { name, implies } = &claim.kind
                && !revoked.contains_key(&s.index)
            {
                vet_vocabularies.define(s.signer, name, implies);
            }
        }
        let mut evaluation = Evaluation {
            policy,
            now,
            statements,
            by_package,
            revoked,
            principals,
            roots,
            scores,
            adoption_weights: None,
            vet_vocabularies,
        };
        if policy.trust.mode == RankingMode::Hits {
            evaluation.adoption_weights = Some(evaluation.hub_weights());
        }
        Ok(evaluation)
    }

    /// Decides on one version of `package` (a purl without version), bound to no artifact:
    /// statements about any artifact of the version count, and the decision's warnings say
    /// so. Use [`Evaluation::decide_locked`] for what a lockfile pins.
    pub fn decide(&self, package: &str, version: &str) -> Decision {
        self.decide_pinned(package, version, Pin::Unbound)
    }

    /// Decides on a lockfile entry: a registry entry by the statements about the artifact
    /// it pins (a statement naming another digest counts only against it, an imported
    /// statement naming the version counts when the entry pins a comparable digest); any
    /// other entry (git, path, URL, patched) gets `insufficient-evidence`, since statements
    /// about the registry's version do not speak of it.
    pub fn decide_locked(&self, locked: &LockedPackage) -> Decision {
        if !locked.source.is_registry() {
            let source = locked.source.describe();
            let rule_match = self.policy.rule_for(&locked.package);
            return Decision {
                package: locked.package.clone(),
                version: locked.version.clone(),
                verdict: Verdict::InsufficientEvidence,
                reasons: vec![format!(
                    "not the registry's artifact ({source}): statements about {} speak of the registry's, so none decides this entry",
                    locked.purl()
                )],
                warnings: Vec::new(),
                artifact: ArtifactBinding::NotRegistry { source },
                rule: rules::describe(&rule_match),
                counted: Vec::new(),
                rejected: Vec::new(),
                signals: Default::default(),
                weights: BTreeMap::new(),
                powers: Vec::new(),
            };
        }
        self.decide_pinned(&locked.package, &locked.version, Pin::Locked(locked))
    }

    fn decide_pinned(&self, package: &str, version: &str, pin: Pin<'_>) -> Decision {
        let rule_match = self.policy.rule_for(package);
        let mut tally = Tally::new(self, rule_match.rule(), package, version, pin);
        for &position in self.by_package.get(package).into_iter().flatten() {
            tally.count(self.statements[position]);
        }
        rules::judge(rule_match, tally.finish())
    }

    /// The trust weight of a key (zero for keys no root reaches).
    pub fn weight_of(&self, key: &[u8; 32]) -> Weight {
        self.principals
            .get(key)
            .map_or(Weight::ZERO, |id| self.scores.weight(id))
    }

    /// Whether the key counts as trusted: weight above zero and at least `[trust]
    /// min_weight`, and not cut.
    pub(super) fn trusted(&self, key: &[u8; 32]) -> bool {
        self.policy.is_trusted_weight(self.weight_of(key))
    }

    /// Whether `key` holds `power`, and why (or why not). `named` adds a holder by name for
    /// this decision only (a rule's required auditors hold `auditor` for that rule).
    pub(super) fn grant(
        &self,
        power: Power,
        key: &[u8; 32],
        named: Option<(&str, usize)>,
    ) -> Result<Grant, Refusal> {
        let (is_root, cut, standing) = match self.principals.get(key) {
            Some(id) => (
                self.roots.binary_search(&id).is_ok(),
                self.scores.is_cut(id),
                self.scores.standing(id),
            ),
            None => (
                false,
                false,
                Standing {
                    weight: Weight::ZERO,
                    hops: None,
                },
            ),
        };
        if let Some((name, rule_line)) = named
            && !cut
            && !is_root
        {
            return Ok(Grant::Holder {
                power,
                name: name.to_string(),
                source: format!("required_auditors of the rule at policy line {rule_line}"),
            });
        }
        self.policy
            .powers
            .grant(power)
            .check(key, is_root, cut, standing)
    }

    /// Weight used for counting adoption: trust, or the hub score in mode `hits`.
    pub(super) fn adoption_weight(&self, key: &[u8; 32]) -> Weight {
        match (&self.adoption_weights, self.principals.get(key)) {
            (Some(hubs), Some(id)) => hubs.get(id as usize).copied().unwrap_or_default(),
            (None, _) => self.weight_of(key),
            (Some(_), None) => Weight::ZERO,
        }
    }

    /// Hub scores over the adoption graph of trusted principals (see [`hits`]).
    fn hub_weights(&self) -> Vec<Weight> {
        let trust: Vec<Weight> = self
            .scores
            .weights()
            .iter()
            .map(|w| {
                if self.policy.is_trusted_weight(*w) {
                    *w
                } else {
                    Weight::ZERO
                }
            })
            .collect();
        let mut items: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        let mut adoptions: Vec<(PrincipalId, u32)> = Vec::new();
        for s in &self.statements {
            if let Claim::Adoption {
                package,
                version,
                adopted: true,
                ..
            } = &s.claim
                && !self.revoked.contains_key(&s.index)
                && let Some(id) = self.principals.get(&s.signer)
            {
                let next = items.len() as u32;
                let item = *items.entry((package, version)).or_insert(next);
                adoptions.push((id, item));
            }
        }
        adoptions.sort_unstable();
        adoptions.dedup();
        hits::hub_weights(&trust, &adoptions)
    }
}

/// Revoked entry → the entry that revoked it. A revocation counts only for the signer's own
/// statements.
fn revocations(statements: &[&ProvenStatement]) -> BTreeMap<u64, u64> {
    let by_digest: BTreeMap<([u8; 32], [u8; 32]), u64> = statements
        .iter()
        .map(|s| ((s.signer, s.envelope_digest), s.index))
        .collect();
    let mut revoked = BTreeMap::new();
    for s in statements {
        if let Claim::Revocation { revoked: digest } = &s.claim
            && let Some(&target) = by_digest.get(&(s.signer, *digest))
        {
            revoked.entry(target).or_insert(s.index);
        }
    }
    revoked
}
