//! Tallying: the statements about one package, counted into [`Signals`] for one version.
//!
//! A statement counts only if it is not revoked and its signer may do what it does: weighed
//! as an adopter (trusted: weight above zero and `min_weight`), or exercise a power
//! ([`crate::policy::Power`]). Everything set aside is listed with its reason.

use std::collections::{BTreeMap, BTreeSet};

use super::assembly::Evaluation;
use super::cargo_vet::{self, VetInput};
use super::claims::{Affected, Artifact, Claim, ProvenStatement};
use super::signals::Signals;
use super::{ArtifactBinding, Exercise, Rejected};
use crate::ecosystem::{self, OsvEvent};
use crate::lockfile::{LockedPackage, PinMatch};
use crate::model::predicates::{AdvisoryRecordKind, RangeEvent};
use crate::policy::{AdoptionScope, Grant, Power, Rule};
use crate::trust::Weight;

/// The artifact a tally is bound to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pin<'e> {
    /// None: a bare `purl@version`.
    Unbound,
    /// A registry entry of a lockfile.
    Locked(&'e LockedPackage),
}

/// How a statement about the decided version relates to the pinned artifact.
enum Bound {
    /// It speaks of the pinned artifact (or nothing is pinned).
    Counts,
    /// It names another artifact: its digests, described.
    OtherArtifact(String),
    /// Its digests cannot be compared with the pin (SHA-1-only pin, other algorithms).
    Incomparable,
}

/// `sha256 b5c1fb2d…` for each digest, for reasons people read.
fn describe_digests<'d>(digests: impl IntoIterator<Item = (&'d str, &'d str)>) -> String {
    let parts: Vec<String> = digests
        .into_iter()
        .map(|(algorithm, hex)| format!("{algorithm} {}…", &hex[..hex.len().min(16)]))
        .collect();
    if parts.is_empty() {
        "no comparable digest".into()
    } else {
        parts.join(", ")
    }
}

/// Whether an advisory reports `version` of `package` affected: `None` when not, else the
/// note to add when it is counted as affected only because a version could not be ordered
/// (fail closed), or an empty note.
fn advisory_covers(
    package: &str,
    version: &str,
    affected: &Affected,
    fixed: &[String],
) -> Option<String> {
    let ecosystem = ecosystem::for_purl(package).ok();
    let fail_closed = |why: String| Some(format!(" (counted as affected: {why})"));
    let equal = |listed: &str| {
        listed == version
            || ecosystem.is_some_and(|e| {
                e.compare_versions(listed, version)
                    .is_ok_and(|o| o == std::cmp::Ordering::Equal)
            })
    };
    match affected {
        Affected::Nothing => None,
        Affected::Versions(list) => list.iter().any(|v| equal(v)).then(String::new),
        Affected::AllNotFixed if fixed.is_empty() => Some(String::new()),
        Affected::AllNotFixed => match ecosystem {
            None if fixed.iter().any(|f| f == version) => None,
            None => fail_closed(format!("{package} has no version order in Quorum")),
            Some(e) => {
                let fixes: Vec<&str> = fixed.iter().map(String::as_str).collect();
                match e.is_fixed_by(version, &fixes) {
                    Ok(true) => None,
                    Ok(false) => Some(String::new()),
                    Err(err) => fail_closed(err.to_string()),
                }
            }
        },
        Affected::Osv { ranges, versions } => {
            if versions.iter().any(|v| equal(v)) {
                return Some(String::new());
            }
            let mut note = None;
            for events in ranges {
                let Some(e) = ecosystem else {
                    return fail_closed(format!("{package} has no version order in Quorum"));
                };
                let events: Vec<OsvEvent<'_>> = events.iter().filter_map(osv_event).collect();
                match e.version_in_osv_events(version, &events) {
                    Ok(true) => return Some(String::new()),
                    Ok(false) => {}
                    Err(err) => note = fail_closed(err.to_string()),
                }
            }
            note
        }
    }
}

/// Whether an ownership change naming `first` as the first version under the new owner
/// covers `version`: that version and every later one in the ecosystem's version order.
/// `None` when not, else a note, non-empty when `version` counts as covered only because the
/// two could not be ordered (fail closed: the change demands more, never less).
fn ownership_change_covers(package: &str, version: &str, first: &str) -> Option<String> {
    if first == version {
        return Some(String::new());
    }
    match ecosystem::for_purl(package).and_then(|e| e.compare_versions(version, first)) {
        Ok(std::cmp::Ordering::Less) => None,
        Ok(_) => Some(String::new()),
        Err(err) => Some(format!(
            " counts for this version: it cannot be ordered against {first} ({err})"
        )),
    }
}

fn osv_event(event: &RangeEvent) -> Option<OsvEvent<'_>> {
    let RangeEvent {
        introduced,
        fixed,
        last_affected,
        limit,
    } = event;
    introduced
        .as_deref()
        .map(OsvEvent::Introduced)
        .or(fixed.as_deref().map(OsvEvent::Fixed))
        .or(last_affected.as_deref().map(OsvEvent::LastAffected))
        .or(limit.as_deref().map(OsvEvent::Limit))
}

/// Whether an advisory of this kind vetoes (by default) or only warns.
fn kind_vetoes(kind: AdvisoryRecordKind) -> bool {
    matches!(
        kind,
        AdvisoryRecordKind::Vulnerability
            | AdvisoryRecordKind::Malicious
            | AdvisoryRecordKind::Unsound
    )
}

/// What a tally found, ready for the rules.
#[derive(Debug)]
pub(super) struct Counted<'e> {
    pub package: &'e str,
    pub version: &'e str,
    pub signals: Signals,
    /// Keys of the auditors behind `signals.passing_audits`.
    pub auditors: BTreeSet<[u8; 32]>,
    /// Vetoes found while counting (failed audits, advisories), each with who and why.
    pub vetoes: Vec<String>,
    /// Advisories naming this version as the fix, each with who and why it counts.
    pub fixes: Vec<String>,
    /// What does not change the verdict but a person should know.
    pub warnings: Vec<String>,
    /// The artifact decided on.
    pub artifact: ArtifactBinding,
    pub counted: BTreeSet<u64>,
    pub rejected: Vec<Rejected>,
    pub weights: BTreeMap<String, f64>,
    pub exercised: Vec<Exercise>,
}

/// The running count for one decision.
pub(super) struct Tally<'e, 'a> {
    ev: &'e Evaluation<'a>,
    rule: &'e Rule,
    pin: Pin<'e>,
    out: Counted<'e>,
    advisory_ids: BTreeSet<String>,
    advisory_kinds: BTreeSet<&'static str>,
    /// Latest adoption statement per (signer, version) of this package: (adopted, index).
    adoption: BTreeMap<([u8; 32], String), (bool, u64)>,
    capabilities: BTreeSet<String>,
    first_seen: Option<u64>,
    ownership_change_at: Option<u64>,
    first_index_of_version: Option<u64>,
    /// cargo-vet hook: the package's unrevoked cargo-vet statements, resolved in `finish`.
    vet: Vec<&'e ProvenStatement>,
}

impl<'e, 'a> Tally<'e, 'a> {
    pub fn new(
        ev: &'e Evaluation<'a>,
        rule: &'e Rule,
        package: &'e str,
        version: &'e str,
        pin: Pin<'e>,
    ) -> Self {
        let (artifact, warnings) = match pin {
            Pin::Unbound => (
                ArtifactBinding::Unbound,
                vec![format!(
                    "not bound to an artifact: statements about any artifact of {package}@{version} count (decide a lockfile to bind the decision to the artifact it pins)"
                )],
            ),
            Pin::Locked(locked) if locked.is_verifiable() => (
                ArtifactBinding::Pinned {
                    digests: locked
                        .artifact_digests()
                        .into_iter()
                        .map(|(a, values)| {
                            (a.to_string(), values.into_iter().map(str::to_string).collect())
                        })
                        .collect(),
                },
                Vec::new(),
            ),
            Pin::Locked(_) => (
                ArtifactBinding::Unverifiable,
                vec![
                    "the lockfile pins no SHA-256, SHA-384 or SHA-512 digest for this entry (SHA-1 or a cache checksum at most): no statement about an artifact can be bound to it".to_string(),
                ],
            ),
        };
        Tally {
            ev,
            rule,
            pin,
            advisory_ids: BTreeSet::new(),
            advisory_kinds: BTreeSet::new(),
            out: Counted {
                warnings,
                artifact,
                package,
                version,
                signals: Signals::default(),
                auditors: BTreeSet::new(),
                vetoes: Vec::new(),
                fixes: Vec::new(),
                counted: BTreeSet::new(),
                rejected: Vec::new(),
                weights: BTreeMap::new(),
                exercised: Vec::new(),
            },
            adoption: BTreeMap::new(),
            capabilities: BTreeSet::new(),
            first_seen: None,
            ownership_change_at: None,
            first_index_of_version: None,
            vet: Vec::new(),
        }
    }

    fn reject(&mut self, index: u64, reason: String) {
        self.out.rejected.push(Rejected { index, reason });
    }

    fn note_version_seen(&mut self, s: &ProvenStatement) {
        self.first_index_of_version.get_or_insert(s.index);
        if let Some(t) = s.first_cosigned_at {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
        }
    }

    fn count_entry(&mut self, s: &ProvenStatement) {
        self.out.counted.insert(s.index);
        self.out
            .weights
            .insert(hex::encode(s.signer), self.ev.weight_of(&s.signer).as_f64());
    }

    /// Checks that the signer of `s` holds `power`; records the exercise and returns the
    /// reason text, or rejects the statement and returns `None`.
    fn exercise(
        &mut self,
        s: &ProvenStatement,
        power: Power,
        what: &str,
        named: Option<(&str, usize)>,
    ) -> Option<Grant> {
        match self.ev.grant(power, &s.signer, named) {
            Ok(grant) => {
                self.out.exercised.push(Exercise {
                    power,
                    signer: hex::encode(s.signer),
                    entry: s.index,
                    grant: grant.to_string(),
                });
                Some(grant)
            }
            Err(refusal) => {
                let who = self.ev.policy.describe_key(&s.signer);
                self.reject(
                    s.index,
                    format!("{what} by {who} does not count: {refusal}"),
                );
                None
            }
        }
    }

    /// How a statement about the decided version relates to the pinned artifact.
    fn bind(&self, artifact: &Artifact) -> Bound {
        let Pin::Locked(locked) = self.pin else {
            return Bound::Counts;
        };
        if !locked.is_verifiable() {
            return Bound::Incomparable;
        }
        match artifact {
            // An imported statement names the registry's version; a registry entry pinned by
            // a comparable digest is that version's artifact (the registry never re-publishes
            // a version, and the package manager checks the pin).
            Artifact::RegistryVersion => Bound::Counts,
            Artifact::Digests(digests) => match locked.match_digests(digests) {
                PinMatch::Matches => Bound::Counts,
                PinMatch::Differs => Bound::OtherArtifact(describe_digests(
                    digests.iter().map(|(a, h)| (a.as_str(), h.as_str())),
                )),
                PinMatch::Unverifiable => Bound::Incomparable,
            },
        }
    }

    /// A statement that would count names another artifact of the version than the pinned
    /// one: the registry may be serving something other than what the signer saw.
    fn other_artifact(&mut self, s: &ProvenStatement, what: &str, theirs: &str) {
        let Pin::Locked(locked) = self.pin else {
            return;
        };
        let pinned = describe_digests(
            locked
                .artifact_digests()
                .into_iter()
                .flat_map(|(a, values)| values.into_iter().map(move |v| (a, v))),
        );
        let who = self.ev.policy.describe_key(&s.signer);
        let text = format!(
            "{what} by {who} (entry {}) is of another artifact of {}@{} ({theirs}) than the lockfile pins ({pinned}): the registry may be serving something other than what was {}",
            s.index,
            self.out.package,
            self.out.version,
            if what == "adoption" {
                "adopted"
            } else {
                "audited"
            }
        );
        self.out.signals.other_artifacts += 1;
        if self.rule.other_artifact_veto {
            self.out.vetoes.push(text);
            self.count_entry(s);
        } else {
            self.out
                .warnings
                .push(format!("{text} (not a veto: other_artifact_veto = false)"));
            self.reject(s.index, format!("{what} is of another artifact ({theirs})"));
        }
    }

    fn incomparable(&mut self, s: &ProvenStatement, what: &str) {
        self.reject(
            s.index,
            format!(
                "{what} cannot be bound to the pinned artifact: the lockfile pins no digest of the statement's algorithms (SHA-1 never counts)"
            ),
        );
    }

    /// Counts one statement about the package.
    pub fn count(&mut self, s: &'e ProvenStatement) {
        if s.claim.package() != Some(self.out.package) {
            return;
        }
        if let Some(by) = self.ev.revoked.get(&s.index) {
            self.reject(s.index, format!("revoked by its signer in entry {by}"));
            return;
        }
        let version = self.out.version;
        let who = self.ev.policy.describe_key(&s.signer);
        match &s.claim {
            Claim::Adoption {
                version: v,
                adopted,
                artifact,
                ..
            } => {
                if !self.ev.trusted(&s.signer) {
                    let weight = self.ev.weight_of(&s.signer);
                    let reason = if weight.is_zero() {
                        format!(
                            "signer {} is not reached by the policy's trust roots",
                            hex::encode(s.signer)
                        )
                    } else {
                        format!(
                            "signer {} weighs {:.6}, below [trust] min_weight = {}",
                            hex::encode(s.signer),
                            weight.as_f64(),
                            self.ev.policy.trust.min_weight
                        )
                    };
                    self.reject(s.index, reason);
                    return;
                }
                if v == version {
                    match self.bind(artifact) {
                        Bound::Counts => self.note_version_seen(s),
                        // Only an adoption says the adopter saw the artifact; a rejection of
                        // another artifact says nothing about the pinned one.
                        Bound::OtherArtifact(theirs) if *adopted => {
                            return self.other_artifact(s, "adoption", &theirs);
                        }
                        Bound::OtherArtifact(theirs) => {
                            return self.reject(
                                s.index,
                                format!("rejection of another artifact ({theirs})"),
                            );
                        }
                        Bound::Incomparable => return self.incomparable(s, "adoption"),
                    }
                }
                // Counted when the adoption is tallied: the latest statement per signer.
                self.adoption
                    .insert((s.signer, v.clone()), (*adopted, s.index));
            }
            Claim::Audit {
                version: v,
                passed: false,
                ..
            } if v == version => {
                if let Some(grant) = self.exercise(s, Power::FailedAuditVeto, "failed audit", None)
                {
                    self.note_version_seen(s);
                    self.out.signals.failed_audits += 1;
                    if self.rule.failed_audits_veto {
                        self.out.vetoes.push(format!(
                            "failed audit by {who} (entry {}); {} held: {grant}",
                            s.index,
                            Power::FailedAuditVeto
                        ));
                    }
                    self.count_entry(s);
                }
            }
            Claim::Audit {
                version: v,
                criteria,
                capabilities,
                artifact,
                ..
            } if v == version => {
                match self.bind(artifact) {
                    Bound::Counts => {}
                    Bound::OtherArtifact(theirs) => {
                        let named = self
                            .rule
                            .required_auditor_keys
                            .get(&s.signer)
                            .map(|name| (name.as_str(), self.rule.line));
                        match self.ev.grant(Power::Auditor, &s.signer, named) {
                            Ok(_) => self.other_artifact(s, "passing audit", &theirs),
                            Err(refusal) => self.reject(
                                s.index,
                                format!(
                                    "passing audit of another artifact ({theirs}) by {who} does not count: {refusal}"
                                ),
                            ),
                        }
                        return;
                    }
                    Bound::Incomparable => return self.incomparable(s, "passing audit"),
                }
                if !self
                    .rule
                    .required_criteria
                    .iter()
                    .all(|c| criteria.contains(c))
                {
                    self.reject(
                        s.index,
                        format!(
                            "audit lacks required criteria {:?}",
                            self.rule.required_criteria
                        ),
                    );
                    return;
                }
                let named = self
                    .rule
                    .required_auditor_keys
                    .get(&s.signer)
                    .map(|name| (name.as_str(), self.rule.line));
                if self
                    .exercise(s, Power::Auditor, "passing audit", named)
                    .is_some()
                {
                    self.note_version_seen(s);
                    self.out.auditors.insert(s.signer);
                    self.capabilities.extend(capabilities.iter().cloned());
                    self.count_entry(s);
                }
            }
            Claim::Advisory {
                ids,
                kind,
                affected,
                fixed,
                functions,
                ..
            } => {
                let id = ids.first().map_or("", String::as_str);
                if fixed.iter().any(|f| f == version) {
                    if let Some(grant) =
                        self.exercise(s, Power::FixBypass, "advisory naming the fix", None)
                    {
                        self.out.signals.named_fix = true;
                        self.out.fixes.push(format!(
                            "advisory {id} by {who} names this version as the fix (entry {}); {} held: {grant}",
                            s.index,
                            Power::FixBypass
                        ));
                        self.count_entry(s);
                    }
                } else if let Some(note) =
                    advisory_covers(self.out.package, version, affected, fixed)
                    && let Some(grant) = self.exercise(s, Power::AdvisoryVeto, "advisory", None)
                {
                    self.advisory_ids.extend(ids.iter().cloned());
                    self.advisory_kinds.insert(kind.as_str());
                    let functions = if functions.is_empty() {
                        String::new()
                    } else {
                        format!("; affected functions: {}", functions.join(", "))
                    };
                    let held = format!("{} held: {grant}", Power::AdvisoryVeto);
                    if kind_vetoes(*kind) {
                        self.out.signals.advisories += 1;
                        if self.rule.advisories_veto {
                            let adjective = match kind {
                                AdvisoryRecordKind::Malicious => "malicious",
                                AdvisoryRecordKind::Unsound => "unsound",
                                _ => "vulnerable",
                            };
                            self.out.vetoes.push(format!(
                                "advisory {id} by {who} reports this version {adjective}{note} (entry {}){functions}; {held}",
                                s.index
                            ));
                        }
                    } else {
                        let what = match kind {
                            AdvisoryRecordKind::Unmaintained => "the package unmaintained",
                            _ => "a notice about this version",
                        };
                        self.out.warnings.push(format!(
                            "advisory {id} by {who} reports {what}{note} (entry {}){functions}; it does not veto",
                            s.index
                        ));
                    }
                    self.count_entry(s);
                }
            }
            Claim::OwnershipChange {
                package,
                first_version,
            } => {
                if self
                    .exercise(s, Power::OwnershipChange, "ownership-change report", None)
                    .is_some()
                {
                    let covered = first_version
                        .as_deref()
                        .and_then(|first| ownership_change_covers(package, version, first));
                    if let Some(note) = covered {
                        self.out.signals.ownership_changed = true;
                        if !note.is_empty() {
                            self.out.warnings.push(format!(
                                "ownership-change report by {who} (entry {}){note}",
                                s.index
                            ));
                        }
                    }
                    self.ownership_change_at.get_or_insert(s.index);
                    self.count_entry(s);
                }
            }
            // cargo-vet hook: resolved as a whole in `finish` (chains span versions).
            Claim::CargoVet { .. } => self.vet.push(s),
            Claim::Audit { .. } | Claim::Trust { .. } | Claim::Revocation { .. } => {}
        }
    }

    /// cargo-vet hook: resolves the package's cargo-vet entries for this version
    /// (`cargo_vet.rs`). Each signer finishing a chain for the rule's `required_criteria`
    /// counts as one passing audit (an `auditor` power holder, like native audits; only
    /// holders' entries and publisher records form chains); each matching violation counts
    /// as a failed audit (a `failed_audit_veto` power holder).
    fn count_cargo_vet(&mut self) {
        let (ev, rule) = (self.ev, self.rule);
        let named = |signer: &[u8; 32]| {
            rule.required_auditor_keys
                .get(signer)
                .map(|name| (name.as_str(), rule.line))
        };
        let vet = std::mem::take(&mut self.vet);
        let inputs: Vec<VetInput<'_>> = vet
            .iter()
            .filter_map(|s| match &s.claim {
                Claim::CargoVet { claim, .. } => Some(VetInput {
                    index: s.index,
                    signer: s.signer,
                    claim,
                }),
                _ => None,
            })
            .collect();
        let resolution = cargo_vet::resolve(
            &inputs,
            self.out.version,
            &rule.required_criteria,
            &ev.vet_vocabularies,
            |signer| ev.grant(Power::Auditor, signer, named(signer)).is_ok(),
        );
        let by_index: BTreeMap<u64, &ProvenStatement> = vet.iter().map(|s| (s.index, *s)).collect();
        // Imported audits name the registry's version: they count for a lockfile entry only
        // when it pins a digest the binding can compare (artifact binding, as for every
        // imported statement); violations are vetoes and are not bound.
        let bound = matches!(self.bind(&Artifact::RegistryVersion), Bound::Counts);
        for found in resolution.certified {
            if !bound {
                for s in found.entries.iter().filter_map(|i| by_index.get(i)) {
                    self.incomparable(s, "cargo-vet audit");
                }
                continue;
            }
            let last = found.last.iter().filter_map(|i| by_index.get(i).copied());
            let Some(first) = last.clone().next() else {
                continue;
            };
            if self
                .exercise(
                    first,
                    Power::Auditor,
                    "cargo-vet audit chain",
                    named(&found.signer),
                )
                .is_some()
            {
                last.for_each(|s| self.note_version_seen(s));
                self.out.auditors.insert(found.signer);
                for s in found.entries.iter().filter_map(|i| by_index.get(i)) {
                    self.count_entry(s);
                }
            }
        }
        for violation in resolution.violations {
            let Some(s) = by_index.get(&violation.index).copied() else {
                continue;
            };
            if let Some(grant) =
                self.exercise(s, Power::FailedAuditVeto, "cargo-vet violation", None)
            {
                self.out.signals.failed_audits += 1;
                if rule.failed_audits_veto {
                    let who = ev.policy.describe_key(&s.signer);
                    self.out.vetoes.push(format!(
                        "{} by {who} (entry {}); {} held: {grant}",
                        violation.what,
                        s.index,
                        Power::FailedAuditVeto
                    ));
                }
                self.count_entry(s);
            }
        }
    }

    /// The decided version's release line when the rule counts adoption per line; `None`
    /// (with a warning when the rule asked for lines) counts over the whole package.
    fn release_line(&mut self) -> Option<(ecosystem::Ecosystem, String)> {
        if self.rule.adoption_scope != AdoptionScope::ReleaseLine {
            return None;
        }
        let (package, version) = (self.out.package, self.out.version);
        let line = ecosystem::for_purl(package)
            .and_then(|e| e.release_line(version).map(|line| (e, line)));
        match line {
            Ok(line) => Some(line),
            Err(err) => {
                self.out.warnings.push(format!(
                    "adoption counted among all users of {package}, not per release line: {err}"
                ));
                None
            }
        }
    }

    /// The adoption counts, the ownership change's reach, audits per auditor, age.
    pub fn finish(mut self) -> Counted<'e> {
        self.count_cargo_vet();
        let ev = self.ev;
        let version = self.out.version;
        let line = self.release_line();
        // Adoption: latest statement per (signer, version); users are trusted signers with any
        // (of the release line, when the rule counts per line).
        let mut users: BTreeMap<[u8; 32], Weight> = BTreeMap::new();
        let mut adopters: BTreeMap<[u8; 32], u64> = BTreeMap::new();
        for ((signer, v), (adopted, index)) in &self.adoption {
            // A version whose line cannot be told stays among the users: it can only make the
            // fraction smaller (fail closed).
            if let Some((e, line)) = &line
                && e.release_line(v).is_ok_and(|l| l != *line)
            {
                continue;
            }
            users.insert(*signer, ev.adoption_weight(signer));
            if v == version && *adopted {
                adopters.insert(*signer, *index);
            }
        }
        let signals = &mut self.out.signals;
        signals.user_weight = Weight::sum(users.values().copied());
        signals.adopted_weight = Weight::sum(adopters.keys().map(|k| ev.adoption_weight(k)));
        signals.users = users.len() as u32;
        signals.trusted_adopters = adopters.len() as u32;
        signals.adopters = adopters
            .keys()
            .filter(|k| ev.grant(Power::Adopter, k, None).is_ok())
            .count() as u32;
        signals.adoption_fraction = if signals.user_weight.is_zero() {
            0.0
        } else {
            signals.adopted_weight.units() as f64 / signals.user_weight.units() as f64
        };
        for (signer, index) in &adopters {
            self.out.counted.insert(*index);
            self.out
                .weights
                .insert(hex::encode(signer), ev.weight_of(signer).as_f64());
        }
        // An ownership change also covers every version first logged after the report,
        // whatever its number: a new owner can publish a lower version too (a backport).
        if let (Some(change), Some(first)) = (self.ownership_change_at, self.first_index_of_version)
            && first > change
        {
            signals.ownership_changed = true;
        }
        // Audits count per auditor: one auditor attesting twice is still one audit.
        signals.passing_audits = self.out.auditors.len() as u32;
        signals.auditors = self.out.auditors.iter().map(hex::encode).collect();
        signals.capabilities = self.capabilities.iter().cloned().collect();
        signals.advisory_ids = self.advisory_ids.iter().cloned().collect();
        signals.advisory_kinds = self.advisory_kinds.iter().map(|k| k.to_string()).collect();
        signals.age_known = self.first_seen.is_some();
        signals.provable_age_seconds = self.first_seen.map(|t| ev.now.saturating_sub(t));
        self.out
    }
}
