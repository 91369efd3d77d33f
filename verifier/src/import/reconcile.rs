//! What an import changes in the log, and what `--check` finds.
//!
//! Each imported statement has an **identity** that does not depend on its position in the
//! file: for a cargo-vet entry its import, kind, crate and the fields that tell entries apart
//! (version, delta, requirement, criteria, auditors, publisher and start date, criterion
//! name); for an advisory its `id`. An identity may occur more than once (an audit set can
//! list the same audit twice), so statements are matched as multisets: per identity, a
//! derived statement and a logged one with equal **content** (subjects and predicate without
//! provenance, see [`super::content_of`]) pair up.
//!
//! The importer's **live** statements for a source are its imported statements whose
//! provenance names that source, minus those it revoked. A re-import ([`plan`]) logs every
//! derived statement that pairs with no live one, and revokes every live statement that pairs
//! with no derived one, naming the revision where it disappeared (or changed, or was
//! withdrawn). [`check`] reports the same unpaired statements as differences.

use std::collections::{BTreeMap, BTreeSet};

use super::{Derivation, Origin, content_of, provenance_of};
use crate::model::predicates::{
    CargoVetKind, Predicate, Provenance, Revocation, ValidatedStatement,
};
use crate::model::statement::{Statement, Subject, SubjectKind};

/// A statement read from the log under the importer's key.
#[derive(Debug, Clone)]
pub struct LoggedStatement {
    /// Its index in the log.
    pub index: u64,
    /// Its envelope digest.
    pub envelope_digest: [u8; 32],
    /// The statement.
    pub statement: ValidatedStatement,
}

/// The identity of an advisory: its `id`.
pub fn advisory_identity(id: &str) -> String {
    serde_json::json!(["advisory", id]).to_string()
}

/// The identity of an imported statement (see the module documentation); `None` for other
/// statements.
pub fn identity(v: &ValidatedStatement) -> Option<String> {
    match &v.predicate {
        Predicate::AdvisoryRecord(a) => Some(advisory_identity(&a.id)),
        Predicate::CargoVet(e) => {
            let package = v
                .subjects
                .first()
                .and_then(|s| match s {
                    SubjectKind::Package(p) => Some(p.package.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            let sorted = |list: &[String]| {
                let set: BTreeSet<&String> = list.iter().collect();
                set.into_iter().cloned().collect::<Vec<_>>()
            };
            let publisher = match (&e.user_id, &e.trusted_publisher) {
                (Some(id), _) => format!("user-id {id}"),
                (_, Some(p)) => format!("trusted-publisher {p}"),
                _ => String::new(),
            };
            let details = match e.kind {
                CargoVetKind::Audit => {
                    serde_json::json!([e.version, sorted(&e.criteria), sorted(&e.who)])
                }
                CargoVetKind::Delta => {
                    serde_json::json!([e.from, e.to, sorted(&e.criteria), sorted(&e.who)])
                }
                CargoVetKind::Violation => {
                    serde_json::json!([e.violation, sorted(&e.criteria), sorted(&e.who)])
                }
                CargoVetKind::Wildcard => {
                    serde_json::json!([publisher, e.start, sorted(&e.criteria), sorted(&e.who)])
                }
                CargoVetKind::Trusted => {
                    serde_json::json!([publisher, e.start, sorted(&e.criteria)])
                }
                CargoVetKind::Criteria => serde_json::json!([e.name]),
                CargoVetKind::Publisher => serde_json::json!([e.version]),
            };
            Some(
                serde_json::json!(["cargo-vet", e.import, e.kind.as_str(), package, details])
                    .to_string(),
            )
        }
        _ => None,
    }
}

/// The importer's live imported statements of `predicate_type` from `source`: not revoked
/// by a revocation among `logged` (which are all by the importer's key).
pub fn live<'a>(
    logged: &'a [LoggedStatement],
    source: &str,
    predicate_type: &str,
) -> Vec<&'a LoggedStatement> {
    let revoked: BTreeSet<[u8; 32]> = logged
        .iter()
        .filter_map(|l| match &l.statement.predicate {
            Predicate::Revocation(r) => r.digest().ok(),
            _ => None,
        })
        .collect();
    logged
        .iter()
        .filter(|l| l.statement.statement.predicate_type == predicate_type)
        .filter(|l| provenance_of(&l.statement.predicate).is_some_and(|p| p.source == source))
        .filter(|l| !revoked.contains(&l.envelope_digest))
        .collect()
}

/// How derived and live statements pair up.
struct Matching {
    /// (derived entry, live statement) pairs with equal content.
    pairs: Vec<(usize, usize)>,
    /// Per identity: derived entries that pair with nothing.
    derived: BTreeMap<String, Vec<usize>>,
    /// Per identity: live statements that pair with nothing.
    live: BTreeMap<String, Vec<usize>>,
}

fn match_up(derivation: &Derivation, live: &[&LoggedStatement]) -> Matching {
    // Per identity and content: the live statements, in log order.
    let mut by_content: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    let mut live_identity = Vec::with_capacity(live.len());
    for (i, l) in live.iter().enumerate() {
        let id = identity(&l.statement).unwrap_or_default();
        let content = content_of(&l.statement.statement);
        by_content.entry((id.clone(), content)).or_default().push(i);
        live_identity.push(id);
    }
    for list in by_content.values_mut() {
        list.reverse(); // pop() takes the earliest
    }
    let mut pairs = Vec::new();
    let mut derived: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut used = vec![false; live.len()];
    for (d, entry) in derivation.entries.iter().enumerate() {
        let key = (entry.identity.clone(), content_of(&entry.statement));
        match by_content.get_mut(&key).and_then(Vec::pop) {
            Some(l) => {
                used[l] = true;
                pairs.push((d, l));
            }
            None => derived.entry(entry.identity.clone()).or_default().push(d),
        }
    }
    let mut unpaired_live: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (l, was_used) in used.iter().enumerate() {
        if !was_used {
            unpaired_live
                .entry(live_identity[l].clone())
                .or_default()
                .push(l);
        }
    }
    Matching {
        pairs,
        derived,
        live: unpaired_live,
    }
}

/// A revocation a re-import logs.
#[derive(Debug, Clone)]
pub struct PlannedRevocation {
    /// The identity of the revoked statement.
    pub identity: String,
    /// The revoked statement's log index.
    pub index: u64,
    /// Why: removed, changed or withdrawn upstream, with the revision.
    pub reason: String,
    /// The revocation statement to sign.
    pub statement: Statement,
}

/// What a re-import logs.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Derived statements already live in the log.
    pub unchanged: usize,
    /// Indices into the derivation's entries of the statements to log.
    pub new: Vec<usize>,
    /// Of those, how many replace a live statement of the same identity (changed upstream).
    pub changed: usize,
    /// The revocations to log.
    pub revocations: Vec<PlannedRevocation>,
}

/// The revocation statement of a live imported statement.
fn revocation(
    origin: &Origin,
    revoked: &LoggedStatement,
    reason: String,
    file_sha256: Option<String>,
    position: Option<String>,
) -> Statement {
    Predicate::Revocation(Revocation {
        envelope_digest: hex::encode(revoked.envelope_digest),
        reason: Some(crate::model::dsse::truncate(
            &reason,
            crate::model::predicates::MAX_TEXT_SIZE / 2,
        )),
        provenance: Some(Provenance {
            source: origin.source.clone(),
            revision: origin.revision.clone(),
            file_sha256,
            position,
            tool: origin.tool.clone(),
        }),
    })
    .into_statement(vec![Subject::envelope(&revoked.envelope_digest)])
}

/// What a re-import of `derivation` logs, given the importer's `live` statements for the
/// source (see [`live`]).
pub fn plan(origin: &Origin, derivation: &Derivation, live: &[&LoggedStatement]) -> Plan {
    let m = match_up(derivation, live);
    let withdrawn: BTreeMap<&str, &super::Withdrawn> = derivation
        .withdrawn
        .iter()
        .map(|w| (w.identity.as_str(), w))
        .collect();
    let mut plan = Plan {
        unchanged: m.pairs.len(),
        ..Plan::default()
    };
    for (id, entries) in &m.derived {
        if m.live.contains_key(id) {
            plan.changed += entries.len();
        }
        plan.new.extend(entries);
    }
    plan.new.sort_unstable();
    for (id, lives) in &m.live {
        for &l in lives {
            let logged = live[l];
            let (reason, file_sha256, position) = match withdrawn.get(id.as_str()) {
                Some(w) => (
                    format!(
                        "withdrawn upstream on {}: {} at revision {} ({})",
                        w.date, origin.source, origin.revision, w.file
                    ),
                    Some(w.file_sha256.clone()),
                    Some(w.file.clone()),
                ),
                None if m.derived.contains_key(id) => (
                    format!(
                        "changed upstream: {} at revision {} has a new version of this entry, logged beside this revocation",
                        origin.source, origin.revision
                    ),
                    derivation.file_sha256.clone(),
                    None,
                ),
                None => (
                    format!(
                        "removed upstream: {} at revision {} no longer has this entry",
                        origin.source, origin.revision
                    ),
                    derivation.file_sha256.clone(),
                    None,
                ),
            };
            plan.revocations.push(PlannedRevocation {
                identity: id.clone(),
                index: logged.index,
                statement: revocation(origin, logged, reason.clone(), file_sha256, position),
                reason,
            });
        }
    }
    plan.revocations.sort_by_key(|r| r.index);
    plan
}

/// One difference between the public file and what the log holds under the importer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// An upstream entry with no live statement: the importer dropped (or never imported)
    /// it.
    Missing {
        /// Its identity.
        identity: String,
        /// Where it is in the source.
        position: String,
    },
    /// A live statement no upstream entry derives: invented, or removed (withdrawn)
    /// upstream without a revocation.
    Extra {
        /// Its identity.
        identity: String,
        /// Its log index.
        index: u64,
        /// Why it has no upstream entry, when known (withdrawn).
        note: String,
    },
    /// A live statement whose identity matches an upstream entry but whose content differs.
    Differs {
        /// The identity.
        identity: String,
        /// Its log index.
        index: u64,
        /// Where the upstream entry is.
        position: String,
        /// The fields that differ.
        fields: Vec<String>,
    },
    /// A live statement that says it was read from this revision but names another file
    /// digest or position than the file has.
    Provenance {
        /// The identity.
        identity: String,
        /// Its log index.
        index: u64,
        /// What is wrong.
        detail: String,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing { identity, position } => {
                write!(
                    f,
                    "missing: {position} {identity} has no statement in the log"
                )
            }
            Difference::Extra {
                identity,
                index,
                note,
            } => write!(
                f,
                "extra: entry {index} {identity} is not in the source{}",
                if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                }
            ),
            Difference::Differs {
                identity,
                index,
                position,
                fields,
            } => write!(
                f,
                "differs: entry {index} {identity} does not say what {position} says ({})",
                fields.join(", ")
            ),
            Difference::Provenance {
                identity,
                index,
                detail,
            } => write!(f, "provenance: entry {index} {identity}: {detail}"),
        }
    }
}

/// The top-level predicate fields (and `subject`) whose values differ.
fn differing_fields(a: &Statement, b: &Statement) -> Vec<String> {
    let mut out = Vec::new();
    if a.subject != b.subject {
        out.push("subject".to_owned());
    }
    let empty = serde_json::Map::new();
    let pa = a.predicate.as_object().unwrap_or(&empty);
    let pb = b.predicate.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
    for k in keys {
        if k != "provenance" && pa.get(k) != pb.get(k) {
            out.push(k.clone());
        }
    }
    out
}

/// Every difference between what `derivation` (the public file) says and the importer's
/// `live` statements for the source.
pub fn check(
    origin: &Origin,
    derivation: &Derivation,
    live: &[&LoggedStatement],
) -> Vec<Difference> {
    let m = match_up(derivation, live);
    let withdrawn: BTreeSet<&str> = derivation
        .withdrawn
        .iter()
        .map(|w| w.identity.as_str())
        .collect();
    let mut out = Vec::new();
    // Paired statements read from this very revision must name this file and position.
    for &(d, l) in &m.pairs {
        let entry = &derivation.entries[d];
        let logged = live[l];
        let (Some(want), Some(got)) = (
            entry.statement.predicate.get("provenance"),
            provenance_of(&logged.statement.predicate),
        ) else {
            continue;
        };
        if got.revision != origin.revision {
            continue;
        }
        let want_sha = want.get("fileSha256").and_then(|v| v.as_str());
        let want_pos = want.get("position").and_then(|v| v.as_str());
        if got.file_sha256.as_deref() != want_sha || got.position.as_deref() != want_pos {
            out.push(Difference::Provenance {
                identity: entry.identity.clone(),
                index: logged.index,
                detail: format!(
                    "says revision {} file {} position {}, but there it is file {} position {}",
                    got.revision,
                    got.file_sha256.as_deref().unwrap_or("-"),
                    got.position.as_deref().unwrap_or("-"),
                    want_sha.unwrap_or("-"),
                    want_pos.unwrap_or("-"),
                ),
            });
        }
    }
    let ids: BTreeSet<&String> = m.derived.keys().chain(m.live.keys()).collect();
    for id in ids {
        let ds = m.derived.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let ls = m.live.get(id).map(Vec::as_slice).unwrap_or(&[]);
        for (i, &d) in ds.iter().enumerate() {
            let entry = &derivation.entries[d];
            match ls.get(i) {
                Some(&l) => out.push(Difference::Differs {
                    identity: id.clone(),
                    index: live[l].index,
                    position: entry.position.clone(),
                    fields: differing_fields(&entry.statement, &live[l].statement.statement),
                }),
                None => out.push(Difference::Missing {
                    identity: id.clone(),
                    position: entry.position.clone(),
                }),
            }
        }
        for &l in ls.iter().skip(ds.len()) {
            out.push(Difference::Extra {
                identity: id.clone(),
                index: live[l].index,
                note: if withdrawn.contains(id.as_str()) {
                    "withdrawn upstream".to_owned()
                } else {
                    String::new()
                },
            });
        }
    }
    out
}
