//! cargo-vet's audit resolution over imported `cargo-vet/v1` statements
//! (`spec/verifier-semantics.md` §5a).
//!
//! cargo-vet decides that a crate version meets a criterion when a chain of audits leads to
//! it from nothing: a full audit of the version (`None -> v`), or a full audit of some
//! version followed by delta audits (`from -> to`, followed in their direction only), where
//! a wildcard audit or a trusted entry acts as a full audit of each version its publisher
//! records place in its window (`start <= when < end`). Every link must certify the
//! criterion, criteria implications included (built in: `safe-to-deploy` implies
//! `safe-to-run`; custom criteria imply what their `[criteria]` entry says, transitively).
//! A violation marks the versions its requirement matches as failing its criteria.
//!
//! What Quorum adds is whose entries count. cargo-vet pools the project's own audits with
//! every import; Quorum pools the entries of every signer the decision lets audit (holders
//! of the `auditor` power, and a rule's `required_auditors`), publisher records included,
//! so that a key nobody trusts can neither certify a link nor place a version in a wildcard
//! audit's window. A version then counts as audited by the signer of a chain's **last** link
//! (the full audit of the version itself, the delta that ends at it, or the wildcard audit or
//! trusted entry that covers it): the one who vouches for this version, given a predecessor
//! the pool already certified. One signer finishing chains for several criteria is one
//! audit, as for native audits.
//!
//! Built-in criteria are shared by every signer, as cargo-vet shares them across imports.
//! A custom criterion belongs to the signer whose `criteria` entry defines it: a chain for it
//! uses that signer's entries only (cargo-vet drops an import's custom criteria unless the
//! project's `criteria-map` maps them; an imported criterion that implies a built-in one
//! certifies the built-in one, as cargo-vet's import mapping does).
//!
//! This module only resolves; `tally.rs` asks the powers and counts what it returns.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use semver::{Version, VersionReq};

use crate::model::predicates::{CargoVetEntry, CargoVetKind};

/// cargo-vet's built-in criteria and what each implies directly.
const BUILT_IN: &[(&str, &[&str])] = &[("safe-to-deploy", &["safe-to-run"]), ("safe-to-run", &[])];

/// Whether `name` is one of cargo-vet's built-in criteria.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// Who published a crate version on crates.io.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PublishedBy {
    /// A crates.io account, by its numeric id.
    User(u64),
    /// A crates.io trusted publisher (`github:org/repo`).
    TrustedPublisher(String),
}

impl std::fmt::Display for PublishedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishedBy::User(id) => write!(f, "crates.io user {id}"),
            PublishedBy::TrustedPublisher(p) => write!(f, "trusted publisher {p}"),
        }
    }
}

/// A wildcard audit's or trusted entry's publisher and dates (`YYYY-MM-DD`, validated by
/// the predicate, so they compare as strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Whose publications it covers.
    pub publisher: PublishedBy,
    /// The first publication date covered.
    pub start: String,
    /// The first publication date no longer covered (cargo-vet: `when < end`).
    pub end: String,
}

impl Window {
    fn covers(&self, publisher: &PublishedBy, when: &str) -> bool {
        self.publisher == *publisher && self.start.as_str() <= when && when < self.end.as_str()
    }
}

/// What one imported cargo-vet entry says, reduced to what resolution needs.
#[derive(Debug, Clone, PartialEq)]
pub enum VetKind {
    /// The whole version meets the criteria.
    Audit {
        /// The version.
        version: Version,
    },
    /// The change `from -> to` preserves the criteria.
    Delta {
        /// Where the change starts.
        from: Version,
        /// Where it ends (the statement's subject).
        to: Version,
    },
    /// The versions the requirement matches fail the criteria.
    Violation {
        /// The Cargo version requirement.
        requirement: VersionReq,
    },
    /// Every version published in the window meets the criteria.
    Wildcard(Window),
    /// Every version published in the window is trusted to meet the criteria.
    Trusted(Window),
    /// Who published a version, and when.
    Publisher {
        /// The version.
        version: Version,
        /// Who published it.
        by: PublishedBy,
        /// When (`YYYY-MM-DD`).
        when: String,
    },
    /// A custom criterion of the signer's vocabulary and what it implies.
    Criterion {
        /// Its name.
        name: String,
        /// The criteria it implies directly.
        implies: Vec<String>,
    },
}

/// An imported cargo-vet entry as decisions count it.
#[derive(Debug, Clone, PartialEq)]
pub struct VetClaim {
    /// What it says.
    pub kind: VetKind,
    /// The criteria it certifies (or, for a violation, fails); empty for publisher records
    /// and criteria definitions.
    pub criteria: Vec<String>,
}

impl VetClaim {
    /// The claim of a validated entry; `None` when a version or requirement is not one Cargo
    /// could resolve (nothing can then be decided from it), and for a trusted entry a
    /// project imported from another (`import` set): cargo-vet applies only the project's
    /// own trusted entries, never imported ones, so neither does Quorum.
    pub fn from_entry(entry: &CargoVetEntry) -> Option<VetClaim> {
        if entry.kind == CargoVetKind::Trusted && entry.import.is_some() {
            return None;
        }
        let version = |v: &Option<String>| v.as_deref().and_then(|v| Version::parse(v).ok());
        let by = || match (&entry.user_id, &entry.trusted_publisher) {
            (Some(id), None) => Some(PublishedBy::User(*id)),
            (None, Some(p)) => Some(PublishedBy::TrustedPublisher(p.clone())),
            _ => None,
        };
        let window = || {
            Some(Window {
                publisher: by()?,
                start: entry.start.clone()?,
                end: entry.end.clone()?,
            })
        };
        let kind = match entry.kind {
            CargoVetKind::Audit => VetKind::Audit {
                version: version(&entry.version)?,
            },
            CargoVetKind::Delta => VetKind::Delta {
                from: version(&entry.from)?,
                to: version(&entry.to)?,
            },
            CargoVetKind::Violation => VetKind::Violation {
                requirement: VersionReq::parse(entry.violation.as_deref()?).ok()?,
            },
            CargoVetKind::Wildcard => VetKind::Wildcard(window()?),
            CargoVetKind::Trusted => VetKind::Trusted(window()?),
            CargoVetKind::Publisher => VetKind::Publisher {
                version: version(&entry.version)?,
                by: by()?,
                when: entry.when.clone()?,
            },
            CargoVetKind::Criteria => VetKind::Criterion {
                name: entry.name.clone()?,
                implies: entry.implies.clone(),
            },
        };
        Some(VetClaim {
            kind,
            criteria: entry.criteria.clone(),
        })
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let criteria = self.criteria.join(", ");
        match &self.kind {
            VetKind::Audit { version } => format!("cargo-vet audit of {version} ({criteria})"),
            VetKind::Delta { from, to } => {
                format!("cargo-vet delta audit {from} -> {to} ({criteria})")
            }
            VetKind::Violation { requirement } => {
                format!("cargo-vet violation: {requirement} fails {criteria}")
            }
            VetKind::Wildcard(w) => format!(
                "cargo-vet wildcard audit of versions published by {} from {} to {} ({criteria})",
                w.publisher, w.start, w.end
            ),
            VetKind::Trusted(w) => format!(
                "cargo-vet trusted entry for versions published by {} from {} to {} ({criteria})",
                w.publisher, w.start, w.end
            ),
            VetKind::Publisher { version, by, when } => {
                format!("crates.io publisher record: {version} published by {by} on {when}")
            }
            VetKind::Criterion { name, implies } => {
                format!(
                    "cargo-vet criterion {name} (implies [{}])",
                    implies.join(", ")
                )
            }
        }
    }
}

/// Every signer's custom criteria: signer → criterion → what it implies directly.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Vocabularies(BTreeMap<[u8; 32], BTreeMap<String, Vec<String>>>);

impl Vocabularies {
    /// Adds a criterion definition. Two definitions of one name by one signer both count
    /// (their implications are joined).
    pub fn define(&mut self, signer: [u8; 32], name: &str, implies: &[String]) {
        self.0
            .entry(signer)
            .or_default()
            .entry(name.to_owned())
            .or_default()
            .extend(implies.iter().cloned());
    }

    /// Whether `signer` defines the custom criterion `name`.
    pub fn defines(&self, signer: &[u8; 32], name: &str) -> bool {
        self.0.get(signer).is_some_and(|v| v.contains_key(name))
    }

    /// `criteria` with everything they imply, transitively, in `signer`'s vocabulary (the
    /// built-in criteria are everyone's).
    pub fn closure(&self, signer: &[u8; 32], criteria: &[String]) -> BTreeSet<String> {
        let own = self.0.get(signer);
        let mut out = BTreeSet::new();
        let mut todo: Vec<String> = criteria.to_vec();
        while let Some(c) = todo.pop() {
            if !out.insert(c.clone()) {
                continue;
            }
            if let Some((_, implied)) = BUILT_IN.iter().find(|(n, _)| *n == c) {
                todo.extend(implied.iter().map(|s| s.to_string()));
            } else if let Some(implied) = own.and_then(|v| v.get(&c)) {
                todo.extend(implied.iter().cloned());
            }
        }
        out
    }
}

/// One cargo-vet statement about the package being decided.
#[derive(Debug, Clone, Copy)]
pub struct VetInput<'c> {
    /// Its log index.
    pub index: u64,
    /// Its signer.
    pub signer: [u8; 32],
    /// What it says.
    pub claim: &'c VetClaim,
}

/// One link of an audit chain: a full audit (`from = None`), a delta, or a wildcard audit or
/// trusted entry reified by a publisher record.
#[derive(Debug, Clone)]
struct Link {
    from: Option<Version>,
    to: Version,
    signer: [u8; 32],
    /// The entries behind it: the audit, or the wildcard/trusted entry and the publisher
    /// record.
    entries: Vec<u64>,
    criteria: BTreeSet<String>,
    what: String,
}

/// A signer whose entry finishes a chain to the version, for every criterion asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Certification {
    /// The signer of the last link(s).
    pub signer: [u8; 32],
    /// The entries of the last link(s) (what the signer signed about this version).
    pub last: Vec<u64>,
    /// Every entry of the chains found, ascending.
    pub entries: Vec<u64>,
    /// Each chain for people, one per criterion: `safe-to-deploy: audit 1.0.0 (entry 3) ->
    /// delta 1.0.0 -> 1.1.0 (entry 9)`.
    pub chains: Vec<String>,
}

/// A violation entry whose requirement matches the version and whose criteria the rule
/// needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolationFound {
    /// Its log index.
    pub index: u64,
    /// Its signer.
    pub signer: [u8; 32],
    /// For people: the requirement and the criteria failed.
    pub what: String,
}

/// What resolution found for one version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    /// The signers that certify the version, each with its chains.
    pub certified: Vec<Certification>,
    /// Violations that match the version.
    pub violations: Vec<ViolationFound>,
}

/// Resolves `version` of one crate from its cargo-vet statements.
///
/// `required` are the criteria the rule asks for (empty: any one criterion). `in_pool`
/// says whose certifying entries and publisher records count (the caller asks the
/// `auditor` power); violations are returned whoever signed them (the caller asks the
/// `failed_audit_veto` power).
pub fn resolve(
    inputs: &[VetInput<'_>],
    version: &str,
    required: &[String],
    vocabularies: &Vocabularies,
    in_pool: impl Fn(&[u8; 32]) -> bool,
) -> Resolution {
    let mut out = Resolution::default();
    let Ok(version) = Version::parse(version) else {
        return out;
    };
    out.violations = violations(inputs, &version, required, vocabularies);

    let links = links(inputs, vocabularies, &in_pool);
    // The criteria to resolve: those required, or (none required) every criterion any link
    // certifies, of which one suffices.
    let targets: Vec<String> = if required.is_empty() {
        links
            .iter()
            .flat_map(|l| l.criteria.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        required.to_vec()
    };
    // Per criterion: signer → the chains it finishes.
    let mut per_criterion: Vec<Finished> = Vec::new();
    for criterion in &targets {
        let mut found = BTreeMap::new();
        if is_built_in(criterion) {
            finish_chains(&links, &version, criterion, |_| true, &mut found);
        } else {
            // A custom criterion: each defining signer's own chains.
            let definers: BTreeSet<[u8; 32]> = links
                .iter()
                .map(|l| l.signer)
                .filter(|s| vocabularies.defines(s, criterion))
                .collect();
            for definer in definers {
                finish_chains(&links, &version, criterion, |s| *s == definer, &mut found);
            }
        }
        per_criterion.push(found);
    }
    let signers: BTreeSet<[u8; 32]> = per_criterion
        .iter()
        .flat_map(|m| m.keys().copied())
        .collect();
    for signer in signers {
        let mut last = BTreeSet::new();
        let mut entries = BTreeSet::new();
        let mut chains = Vec::new();
        let mut everywhere = true;
        let mut anywhere = false;
        for (criterion, found) in targets.iter().zip(&per_criterion) {
            match found.get(&signer) {
                Some(f) => {
                    anywhere = true;
                    last.extend(&f.last);
                    entries.extend(&f.entries);
                    chains.push(format!("{criterion}: {}", f.chain));
                }
                None => everywhere = false,
            }
        }
        let certifies = if required.is_empty() {
            anywhere
        } else {
            everywhere
        };
        if certifies {
            out.certified.push(Certification {
                signer,
                last: last.into_iter().collect(),
                entries: entries.into_iter().collect(),
                chains,
            });
        }
    }
    out
}

/// The links of the audit graph from the pool's entries: audits, deltas, and wildcard audits
/// and trusted entries reified for every publisher record in their window.
fn links(
    inputs: &[VetInput<'_>],
    vocabularies: &Vocabularies,
    in_pool: &impl Fn(&[u8; 32]) -> bool,
) -> Vec<Link> {
    let pool: Vec<&VetInput<'_>> = inputs.iter().filter(|i| in_pool(&i.signer)).collect();
    let publishers: Vec<(&VetInput<'_>, &Version, &PublishedBy, &str)> = pool
        .iter()
        .filter_map(|i| match &i.claim.kind {
            VetKind::Publisher { version, by, when } => Some((*i, version, by, when.as_str())),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for i in &pool {
        let criteria = || vocabularies.closure(&i.signer, &i.claim.criteria);
        match &i.claim.kind {
            VetKind::Audit { version } => out.push(Link {
                from: None,
                to: version.clone(),
                signer: i.signer,
                entries: vec![i.index],
                criteria: criteria(),
                what: format!("audit {version} (entry {})", i.index),
            }),
            VetKind::Delta { from, to } => out.push(Link {
                from: Some(from.clone()),
                to: to.clone(),
                signer: i.signer,
                entries: vec![i.index],
                criteria: criteria(),
                what: format!("delta {from} -> {to} (entry {})", i.index),
            }),
            VetKind::Wildcard(window) | VetKind::Trusted(window) => {
                let kind = if matches!(i.claim.kind, VetKind::Wildcard(_)) {
                    "wildcard audit"
                } else {
                    "trusted entry"
                };
                for (record, version, by, when) in &publishers {
                    if window.covers(by, when) {
                        out.push(Link {
                            from: None,
                            to: (*version).clone(),
                            signer: i.signer,
                            entries: vec![i.index, record.index],
                            criteria: criteria(),
                            what: format!(
                                "{kind} of {} (entry {}) covering {version} published {when} (entry {})",
                                window.publisher, i.index, record.index
                            ),
                        });
                    }
                }
            }
            VetKind::Violation { .. } | VetKind::Publisher { .. } | VetKind::Criterion { .. } => {}
        }
    }
    out
}

/// What one signer's entries finish for one criterion.
#[derive(Debug, Default)]
struct FinishedBy {
    /// The entries of the last links.
    last: BTreeSet<u64>,
    /// Every entry of the chains.
    entries: BTreeSet<u64>,
    /// The first chain found, for people.
    chain: String,
}

/// Per signer, what its entries finish for one criterion.
type Finished = BTreeMap<[u8; 32], FinishedBy>;

/// Finds, for `criterion`, which signers' links finish a chain at `version` using the links
/// `usable` admits, and records each with the chain behind it.
fn finish_chains(
    links: &[Link],
    version: &Version,
    criterion: &str,
    usable: impl Fn(&[u8; 32]) -> bool,
    found: &mut Finished,
) {
    let usable: Vec<&Link> = links
        .iter()
        .filter(|l| usable(&l.signer) && l.criteria.contains(criterion))
        .collect();
    // Breadth-first from "nothing": `reached[v]` is the link that first reached `v`, so
    // each chain found is a shortest one.
    let mut from: BTreeMap<Option<&Version>, Vec<&Link>> = BTreeMap::new();
    for l in &usable {
        from.entry(l.from.as_ref()).or_default().push(l);
    }
    let mut reached: BTreeMap<&Version, &Link> = BTreeMap::new();
    let mut queue: VecDeque<Option<&Version>> = VecDeque::from([None]);
    while let Some(at) = queue.pop_front() {
        for l in from.get(&at).into_iter().flatten() {
            if !reached.contains_key(&l.to) {
                reached.insert(&l.to, l);
                queue.push_back(Some(&l.to));
            }
        }
    }
    // The last links: those ending at `version` whose start is reached (or nothing).
    for last in usable.iter().filter(|l| l.to == *version) {
        let start_reached = match &last.from {
            None => true,
            Some(f) => reached.contains_key(f),
        };
        if !start_reached {
            continue;
        }
        let mut chain = vec![*last];
        let mut at = last.from.as_ref();
        while let Some(v) = at {
            match reached.get(v) {
                // A chain never revisits a version (the breadth-first tree has no cycle), but
                // stop on one rather than loop.
                Some(l) if chain.len() <= reached.len() => {
                    chain.push(l);
                    at = l.from.as_ref();
                }
                _ => break,
            }
        }
        chain.reverse();
        let entry = found.entry(last.signer).or_default();
        entry.last.extend(&last.entries);
        for l in &chain {
            entry.entries.extend(&l.entries);
        }
        if entry.chain.is_empty() {
            entry.chain = chain
                .iter()
                .map(|l| l.what.as_str())
                .collect::<Vec<_>>()
                .join(" -> ");
        }
    }
}

/// Violations matching `version` whose failed criteria a required criterion implies (any
/// violation when nothing is required): cargo-vet's conflict test, entry by entry.
fn violations(
    inputs: &[VetInput<'_>],
    version: &Version,
    required: &[String],
    vocabularies: &Vocabularies,
) -> Vec<ViolationFound> {
    let mut out = Vec::new();
    for i in inputs {
        let VetKind::Violation { requirement } = &i.claim.kind else {
            continue;
        };
        if !requirement.matches(version) {
            continue;
        }
        let relevant = required.is_empty()
            || required.iter().any(|r| {
                let implied = vocabularies.closure(&i.signer, std::slice::from_ref(r));
                i.claim.criteria.iter().any(|c| implied.contains(c))
            });
        if relevant {
            out.push(ViolationFound {
                index: i.index,
                signer: i.signer,
                what: format!(
                    "cargo-vet violation {requirement} ({})",
                    i.claim.criteria.join(", ")
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];
    const STRANGER: [u8; 32] = [9; 32];

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }
    fn c(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }
    fn audit(version: &str, criteria: &[&str]) -> VetClaim {
        VetClaim {
            kind: VetKind::Audit {
                version: v(version),
            },
            criteria: c(criteria),
        }
    }
    fn delta(from: &str, to: &str, criteria: &[&str]) -> VetClaim {
        VetClaim {
            kind: VetKind::Delta {
                from: v(from),
                to: v(to),
            },
            criteria: c(criteria),
        }
    }
    fn window(user: u64, start: &str, end: &str) -> Window {
        Window {
            publisher: PublishedBy::User(user),
            start: start.into(),
            end: end.into(),
        }
    }
    fn published(version: &str, user: u64, when: &str) -> VetClaim {
        VetClaim {
            kind: VetKind::Publisher {
                version: v(version),
                by: PublishedBy::User(user),
                when: when.into(),
            },
            criteria: Vec::new(),
        }
    }

    struct Set(Vec<([u8; 32], VetClaim)>);
    impl Set {
        fn resolve(&self, version: &str, required: &[&str], vocab: &Vocabularies) -> Resolution {
            let inputs: Vec<VetInput<'_>> = self
                .0
                .iter()
                .enumerate()
                .map(|(i, (signer, claim))| VetInput {
                    index: i as u64,
                    signer: *signer,
                    claim,
                })
                .collect();
            resolve(&inputs, version, &c(required), vocab, |s| *s != STRANGER)
        }
        fn certifiers(&self, version: &str, required: &[&str]) -> Vec<[u8; 32]> {
            self.resolve(version, required, &Vocabularies::default())
                .certified
                .iter()
                .map(|c| c.signer)
                .collect()
        }
    }

    #[test]
    fn a_delta_chain_from_a_full_audit_certifies_and_the_last_link_signs() {
        let set = Set(vec![
            (A, audit("1.0.0", &["safe-to-deploy"])),
            (B, delta("1.0.0", "1.1.0", &["safe-to-deploy"])),
            (A, delta("1.1.0", "1.2.0", &["safe-to-deploy"])),
        ]);
        assert_eq!(set.certifiers("1.2.0", &["safe-to-deploy"]), [A]);
        assert_eq!(set.certifiers("1.1.0", &["safe-to-deploy"]), [B]);
        let r = set.resolve("1.2.0", &["safe-to-deploy"], &Vocabularies::default());
        assert_eq!(r.certified[0].entries, [0, 1, 2]);
        assert_eq!(r.certified[0].last, [2]);
        // safe-to-deploy implies safe-to-run.
        assert_eq!(set.certifiers("1.2.0", &["safe-to-run"]), [A]);
        // Deltas are followed in their direction only: nothing reaches 0.9.0 from 1.0.0.
        let backwards = Set(vec![
            (A, audit("1.0.0", &["safe-to-deploy"])),
            (A, delta("0.9.0", "1.0.0", &["safe-to-deploy"])),
        ]);
        assert!(
            backwards
                .certifiers("0.9.0", &["safe-to-deploy"])
                .is_empty()
        );
        // A chain with no full audit at its start certifies nothing.
        let floating = Set(vec![(A, delta("1.0.0", "1.1.0", &["safe-to-deploy"]))]);
        assert!(floating.certifiers("1.1.0", &["safe-to-deploy"]).is_empty());
    }

    #[test]
    fn every_link_must_certify_the_criterion() {
        let set = Set(vec![
            (A, audit("1.0.0", &["safe-to-run"])),
            (A, delta("1.0.0", "1.1.0", &["safe-to-deploy"])),
        ]);
        assert!(set.certifiers("1.1.0", &["safe-to-deploy"]).is_empty());
        assert_eq!(set.certifiers("1.1.0", &["safe-to-run"]), [A]);
        // Nothing required: one criterion suffices.
        assert_eq!(set.certifiers("1.1.0", &[]), [A]);
    }

    #[test]
    fn strangers_neither_link_nor_publish() {
        let set = Set(vec![
            (STRANGER, audit("1.0.0", &["safe-to-deploy"])),
            (A, delta("1.0.0", "1.1.0", &["safe-to-deploy"])),
        ]);
        assert!(set.certifiers("1.1.0", &["safe-to-deploy"]).is_empty());
        let wildcard = Set(vec![
            (
                A,
                VetClaim {
                    kind: VetKind::Wildcard(window(7, "2024-01-01", "2025-01-01")),
                    criteria: c(&["safe-to-deploy"]),
                },
            ),
            (STRANGER, published("2.0.0", 7, "2024-06-01")),
            (B, published("2.1.0", 7, "2024-12-31")),
            (B, published("2.2.0", 7, "2025-01-01")),
            (B, published("2.3.0", 8, "2024-06-01")),
        ]);
        assert!(wildcard.certifiers("2.0.0", &["safe-to-deploy"]).is_empty());
        assert_eq!(wildcard.certifiers("2.1.0", &["safe-to-deploy"]), [A]);
        // `end` is the first date not covered; another account is not covered.
        assert!(wildcard.certifiers("2.2.0", &["safe-to-deploy"]).is_empty());
        assert!(wildcard.certifiers("2.3.0", &["safe-to-deploy"]).is_empty());
    }

    #[test]
    fn custom_criteria_imply_within_their_signers_vocabulary() {
        let mut vocab = Vocabularies::default();
        vocab.define(A, "reviewed", &c(&["safe-to-deploy"]));
        let set = Set(vec![
            (A, audit("1.0.0", &["reviewed"])),
            (B, audit("1.0.0", &["reviewed"])),
        ]);
        let r = set.resolve("1.0.0", &["safe-to-run"], &vocab);
        let signers: Vec<_> = r.certified.iter().map(|c| c.signer).collect();
        assert_eq!(signers, [A], "B's `reviewed` is not A's");
        let r = set.resolve("1.0.0", &["reviewed"], &vocab);
        let signers: Vec<_> = r.certified.iter().map(|c| c.signer).collect();
        assert_eq!(signers, [A]);
    }

    #[test]
    fn imported_trusted_entries_are_not_applied_but_a_projects_own_are() {
        let entry = |import: Option<&str>| CargoVetEntry {
            kind: CargoVetKind::Trusted,
            import: import.map(str::to_owned),
            criteria: c(&["safe-to-deploy"]),
            who: Vec::new(),
            notes: None,
            version: None,
            from: None,
            to: None,
            violation: None,
            user_id: Some(7),
            trusted_publisher: None,
            user_login: None,
            user_name: None,
            start: Some("2024-01-01".into()),
            end: Some("2025-01-01".into()),
            renew: None,
            when: None,
            name: None,
            description: None,
            description_url: None,
            implies: Vec::new(),
            aggregated_from: Vec::new(),
            provenance: crate::model::predicates::Provenance {
                source: "https://example.com/audits.toml".into(),
                revision: "0".repeat(40),
                file_sha256: None,
                position: None,
                tool: "test".into(),
            },
        };
        let own = VetClaim::from_entry(&entry(None)).expect("the project's own");
        assert_eq!(
            own.kind,
            VetKind::Trusted(window(7, "2024-01-01", "2025-01-01"))
        );
        assert_eq!(VetClaim::from_entry(&entry(Some("google"))), None);
    }

    #[test]
    fn violations_match_the_requirement_and_the_criteria() {
        let set = Set(vec![(
            A,
            VetClaim {
                kind: VetKind::Violation {
                    requirement: VersionReq::parse(">=1.2, <1.4").unwrap(),
                },
                criteria: c(&["safe-to-run"]),
            },
        )]);
        let vocab = Vocabularies::default();
        assert_eq!(
            set.resolve("1.3.0", &["safe-to-deploy"], &vocab)
                .violations
                .len(),
            1
        );
        assert!(
            set.resolve("1.4.0", &["safe-to-deploy"], &vocab)
                .violations
                .is_empty()
        );
        // Failing safe-to-deploy says nothing about safe-to-run.
        let deploy = Set(vec![(
            A,
            VetClaim {
                kind: VetKind::Violation {
                    requirement: VersionReq::parse("*").unwrap(),
                },
                criteria: c(&["safe-to-deploy"]),
            },
        )]);
        assert!(
            deploy
                .resolve("1.0.0", &["safe-to-run"], &vocab)
                .violations
                .is_empty()
        );
        assert_eq!(
            deploy
                .resolve("1.0.0", &["safe-to-deploy"], &vocab)
                .violations
                .len(),
            1
        );
    }
}

/// The hooks end to end: imported entries decide through `Evaluation` under a policy that
/// names the importers whose `safe-to-deploy` counts.
#[cfg(test)]
mod decision_tests {
    use super::*;
    use crate::decision::{Claim, Evaluation, ProvenStatement, Verdict};
    use crate::policy::Policy;

    const PKG: &str = "pkg:cargo/demo";
    const ME: u8 = 0;
    const GOOGLE: u8 = 1;
    const MOZILLA: u8 = 2;
    const STRANGER: u8 = 9;

    fn key(n: u8) -> [u8; 32] {
        [n + 1; 32]
    }

    /// "safe-to-deploy by google or mozilla": only they hold `auditor` (roots aside), one
    /// passing audit needed.
    fn policy(extra_rule_lines: &str) -> Policy {
        Policy::parse(&format!(
            "[trust]\nroots = [\"me\"]\n\n[aliases]\nme = \"{}\"\ngoogle = \"{}\"\nmozilla = \"{}\"\n\n\
             [powers.auditor]\nholders = [\"google\", \"mozilla\"]\nmax_hops = 0\n\n\
             [powers.failed_audit_veto]\nholders = [\"google\", \"mozilla\"]\nmax_hops = 0\n\n\
             [[rule]]\npackages = \"pkg:cargo/*\"\nmin_audits = 1\nrequired_criteria = [\"safe-to-deploy\"]\n{extra_rule_lines}\n",
            hex::encode(key(ME)),
            hex::encode(key(GOOGLE)),
            hex::encode(key(MOZILLA)),
        ))
        .unwrap()
    }

    #[derive(Default)]
    struct Log(Vec<ProvenStatement>);

    impl Log {
        fn add(&mut self, signer: u8, claim: VetClaim, package: Option<&str>) -> u64 {
            let index = self.0.len() as u64;
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&index.to_be_bytes());
            self.0.push(ProvenStatement {
                index,
                signer: key(signer),
                envelope_digest: digest,
                first_cosigned_at: Some(1_000 + index),
                claim: Claim::CargoVet {
                    package: package.map(str::to_owned),
                    claim: Box::new(claim),
                },
            });
            index
        }
        fn vet(&mut self, signer: u8, kind: VetKind, criteria: &[&str]) -> u64 {
            let claim = VetClaim {
                kind,
                criteria: criteria.iter().map(|c| c.to_string()).collect(),
            };
            self.add(signer, claim, Some(PKG))
        }
        fn decide(&self, policy: &Policy, version: &str) -> crate::decision::Decision {
            Evaluation::new(policy, &self.0, 10_000)
                .unwrap()
                .decide(PKG, version)
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn safe_to_deploy_by_named_importers_through_a_delta_chain() {
        let policy = policy("");
        let mut log = Log::default();
        let full = log.vet(
            GOOGLE,
            VetKind::Audit {
                version: v("1.0.0"),
            },
            &["safe-to-deploy"],
        );
        let delta = log.vet(
            MOZILLA,
            VetKind::Delta {
                from: v("1.0.0"),
                to: v("1.1.0"),
            },
            &["safe-to-deploy"],
        );
        // A stranger's full audit of 2.0.0 and delta to 2.1.0 count for nothing.
        log.vet(
            STRANGER,
            VetKind::Audit {
                version: v("2.0.0"),
            },
            &["safe-to-deploy"],
        );
        log.vet(
            MOZILLA,
            VetKind::Delta {
                from: v("2.0.0"),
                to: v("2.1.0"),
            },
            &["safe-to-deploy"],
        );
        // safe-to-run only: does not meet safe-to-deploy.
        log.vet(
            GOOGLE,
            VetKind::Audit {
                version: v("3.0.0"),
            },
            &["safe-to-run"],
        );

        let d = log.decide(&policy, "1.1.0");
        assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
        assert_eq!(d.signals.passing_audits, 1);
        assert_eq!(d.signals.auditors, [hex::encode(key(MOZILLA))]);
        assert!(d.counted.contains(&full) && d.counted.contains(&delta));
        assert_eq!(log.decide(&policy, "1.0.0").verdict, Verdict::Allow);
        for unaudited in ["2.0.0", "2.1.0", "3.0.0", "0.9.0"] {
            let d = log.decide(&policy, unaudited);
            assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{unaudited}");
            assert_eq!(d.signals.passing_audits, 0, "{unaudited}");
        }
    }

    #[test]
    fn a_custom_criterion_implying_safe_to_deploy_counts_and_a_violation_vetoes() {
        let policy = policy("");
        let mut log = Log::default();
        let mut definition = VetClaim {
            kind: VetKind::Criterion {
                name: "crypto-reviewed".into(),
                implies: vec!["safe-to-deploy".into()],
            },
            criteria: Vec::new(),
        };
        log.add(GOOGLE, definition.clone(), None);
        log.vet(
            GOOGLE,
            VetKind::Audit {
                version: v("1.0.0"),
            },
            &["crypto-reviewed"],
        );
        // Mozilla's audit under the same name certifies nothing built in: the name is not in
        // mozilla's vocabulary.
        log.vet(
            MOZILLA,
            VetKind::Audit {
                version: v("2.0.0"),
            },
            &["crypto-reviewed"],
        );
        assert_eq!(log.decide(&policy, "1.0.0").verdict, Verdict::Allow);
        assert_eq!(
            log.decide(&policy, "2.0.0").verdict,
            Verdict::InsufficientEvidence
        );
        // Defined by mozilla too: now it does.
        if let VetKind::Criterion { implies, .. } = &mut definition.kind {
            implies.push("safe-to-run".into());
        }
        log.add(MOZILLA, definition, None);
        assert_eq!(log.decide(&policy, "2.0.0").verdict, Verdict::Allow);
        // A violation of safe-to-run by a holder of failed_audit_veto denies 1.0.0 (what
        // safe-to-deploy implies is failed), whatever audits say.
        let violation = log.vet(
            MOZILLA,
            VetKind::Violation {
                requirement: VersionReq::parse("=1.0.0").unwrap(),
            },
            &["safe-to-run"],
        );
        let d = log.decide(&policy, "1.0.0");
        assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
        assert!(
            d.reasons.iter().any(|r| r.contains("cargo-vet violation")),
            "{:?}",
            d.reasons
        );
        assert!(d.counted.contains(&violation));
        // A stranger's violation vetoes nothing.
        log.vet(
            STRANGER,
            VetKind::Violation {
                requirement: VersionReq::parse("*").unwrap(),
            },
            &["safe-to-deploy"],
        );
        assert_eq!(log.decide(&policy, "2.0.0").verdict, Verdict::Allow);
    }

    #[test]
    fn wildcard_audits_need_a_publisher_record_from_the_pool() {
        let policy = policy("");
        let mut log = Log::default();
        log.vet(
            GOOGLE,
            VetKind::Wildcard(Window {
                publisher: PublishedBy::User(42),
                start: "2024-01-01".into(),
                end: "2025-01-01".into(),
            }),
            &["safe-to-deploy"],
        );
        let record = |version: &str, when: &str| VetKind::Publisher {
            version: v(version),
            by: PublishedBy::User(42),
            when: when.into(),
        };
        log.vet(STRANGER, record("1.0.0", "2024-03-01"), &[]);
        assert_eq!(
            log.decide(&policy, "1.0.0").verdict,
            Verdict::InsufficientEvidence,
            "a stranger's publisher record places nothing in the window"
        );
        log.vet(MOZILLA, record("1.0.0", "2024-03-01"), &[]);
        log.vet(MOZILLA, record("2.0.0", "2025-01-01"), &[]);
        let d = log.decide(&policy, "1.0.0");
        assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
        assert_eq!(d.signals.auditors, [hex::encode(key(GOOGLE))]);
        assert_eq!(
            log.decide(&policy, "2.0.0").verdict,
            Verdict::InsufficientEvidence,
            "published on the end date"
        );
    }

    #[test]
    fn required_auditors_name_the_importer_that_finishes_the_chain() {
        let policy = policy("required_auditors = [\"google\"]");
        let mut log = Log::default();
        log.vet(
            GOOGLE,
            VetKind::Audit {
                version: v("1.0.0"),
            },
            &["safe-to-deploy"],
        );
        log.vet(
            MOZILLA,
            VetKind::Delta {
                from: v("1.0.0"),
                to: v("1.1.0"),
            },
            &["safe-to-deploy"],
        );
        assert_eq!(log.decide(&policy, "1.0.0").verdict, Verdict::Allow);
        let d = log.decide(&policy, "1.1.0");
        assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
        assert!(!d.signals.required_auditors_met);
    }
}
