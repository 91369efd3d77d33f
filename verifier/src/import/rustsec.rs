//! The RustSec advisory database into `advisory/v1` statements.
//!
//! An advisory is a Markdown file whose TOML front matter (between "```toml" and "```")
//! has `[advisory]` (id, package, aliases, related, categories, informational, cvss,
//! withdrawn, …), optional `[affected]` (arch, os, functions) and `[versions]` (`patched`
//! and `unaffected` Cargo version requirements); the first `# ` heading is its title. Files
//! under `crates/` are about crates.io crates (`pkg:cargo/<crate>`), files under `rust/` about
//! the Rust toolchain (`pkg:generic/rust-lang/<component>`).
//!
//! The affected versions are the versions matched by neither a `patched` nor an
//! `unaffected` requirement; they become one OSV `SEMVER` range (see [`affected_events`]).

use std::path::Path;

use semver::{Comparator, Op, Prerelease, Version, VersionReq};
use toml::Value as Toml;

use super::{Derivation, ImportError, Origin, SourceFile, Withdrawn, package_purl, read_tree};
use crate::model::predicates::{
    AdvisoryRange, AdvisoryRecord, AdvisoryRecordKind, AdvisorySeverity, AffectedPackage,
    Predicate, RangeEvent, RangeType,
};
use crate::model::statement::Subject;

/// The database's collections: folder, purl type and namespace, OSV ecosystem name.
const COLLECTIONS: &[(&str, &str, Option<&str>, &str)] = &[
    ("crates", "cargo", None, "crates.io"),
    ("rust", "generic", Some("rust-lang"), "Rust"),
];

/// Reads every advisory under `root`'s `crates/` and `rust/` folders.
pub fn derive(root: &Path, origin: &Origin) -> Result<Derivation, ImportError> {
    let mut out = Derivation::default();
    let mut found = false;
    for (folder, ..) in COLLECTIONS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        found = true;
        for file in read_tree(&dir, &[".md"])? {
            match file {
                Ok(mut file) => {
                    file.path = format!("{folder}/{}", file.path);
                    derive_file(&file, origin, &mut out);
                }
                Err(e) => out.skip(&e.to_string(), "", "could not be read"),
            }
        }
    }
    if !found {
        return Err(ImportError::Format {
            path: root.display().to_string(),
            reason: "not a RustSec advisory database: no crates/ or rust/ folder".into(),
        });
    }
    Ok(out)
}

/// Derives the statement of one advisory file (its path starts with its collection).
pub fn derive_file(file: &SourceFile, origin: &Origin, out: &mut Derivation) {
    match parse(file, origin) {
        Ok(Parsed::Advisory(subject, record)) => {
            let kind = kind_name(record.kind);
            let statement = Predicate::AdvisoryRecord(*record).into_statement(vec![subject]);
            out.push(&file.path, "[advisory]", kind, statement);
        }
        Ok(Parsed::Withdrawn(w)) => out.withdrawn.push(w),
        Err(reason) => out.skip(&file.path, "", reason),
    }
}

/// The kind as a report label.
pub fn kind_name(kind: AdvisoryRecordKind) -> &'static str {
    kind.as_str()
}

enum Parsed {
    Advisory(Subject, Box<AdvisoryRecord>),
    Withdrawn(Withdrawn),
}

const ADVISORY_FIELDS: &[&str] = &[
    "id",
    "package",
    "date",
    "withdrawn",
    "url",
    "references",
    "informational",
    "categories",
    "cvss",
    "keywords",
    "aliases",
    "related",
    "license",
    "expect-deleted",
];

fn parse(file: &SourceFile, origin: &Origin) -> Result<Parsed, String> {
    let text = file.text().map_err(|e| e.to_string())?;
    let (front, body) = front_matter(text)?;
    let doc: toml::Table =
        toml::from_str(front).map_err(|e| format!("the front matter is not TOML: {e}"))?;
    if let Some(k) = doc
        .keys()
        .find(|k| !["advisory", "affected", "versions"].contains(&k.as_str()))
    {
        return Err(format!("unknown table `{k}`"));
    }
    let adv = table(&doc, "advisory")?.ok_or("no [advisory] table")?;
    if let Some(k) = adv.keys().find(|k| !ADVISORY_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown field `advisory.{k}`"));
    }
    let id = string(adv, "id")?.ok_or("no advisory.id")?;
    let package = string(adv, "package")?.ok_or("no advisory.package")?;
    if let Some(date) = date(adv, "withdrawn")? {
        return Ok(Parsed::Withdrawn(Withdrawn {
            identity: super::reconcile::advisory_identity(&id),
            file: file.path.clone(),
            file_sha256: file.sha256(),
            date,
        }));
    }
    let categories = strings(adv, "categories")?;
    let kind = match string(adv, "informational")?.as_deref() {
        Some("unsound") => AdvisoryRecordKind::Unsound,
        Some("unmaintained") => AdvisoryRecordKind::Unmaintained,
        Some("notice") => AdvisoryRecordKind::Notice,
        Some(other) => return Err(format!("unknown informational kind `{other}`")),
        None if categories.iter().any(|c| c == "malicious") => AdvisoryRecordKind::Malicious,
        None => AdvisoryRecordKind::Vulnerability,
    };
    let severity = match string(adv, "cvss")? {
        Some(vector) => vec![AdvisorySeverity {
            kind: cvss_type(&vector).to_owned(),
            score: vector,
        }],
        None => Vec::new(),
    };
    let collection = file.path.split('/').next().unwrap_or_default();
    let (_, ty, namespace, ecosystem) = COLLECTIONS
        .iter()
        .find(|(folder, ..)| *folder == collection)
        .ok_or("not under crates/ or rust/")?;
    let purl = package_purl(ty, *namespace, &package, None)?;

    let affected_table = table(&doc, "affected")?;
    let mut functions = Vec::new();
    let (mut os, mut arch) = (Vec::new(), Vec::new());
    if let Some(a) = affected_table {
        if let Some(k) = a
            .keys()
            .find(|k| !["arch", "os", "functions"].contains(&k.as_str()))
        {
            return Err(format!("unknown field `affected.{k}`"));
        }
        os = strings(a, "os")?;
        arch = strings(a, "arch")?;
        if let Some(f) = table(a, "functions")? {
            for (path, reqs) in f {
                // The version requirements of each path must parse, though only the path is
                // carried (as OSV's `affects.functions` does).
                let reqs = reqs
                    .as_array()
                    .ok_or_else(|| format!("affected.functions.`{path}` must be a list"))?;
                for r in reqs {
                    let r = r
                        .as_str()
                        .ok_or("function version requirements are strings")?;
                    VersionReq::parse(r).map_err(|e| {
                        format!("affected.functions.`{path}`: `{r}` is not a requirement: {e}")
                    })?;
                }
                functions.push(path.clone());
            }
        }
    }
    let versions = table(&doc, "versions")?.ok_or("no [versions] table")?;
    if let Some(k) = versions
        .keys()
        .find(|k| !["patched", "unaffected"].contains(&k.as_str()))
    {
        return Err(format!("unknown field `versions.{k}`"));
    }
    let patched = requirements(versions, "patched")?;
    let unaffected = requirements(versions, "unaffected")?;
    let events = affected_events(patched.iter().chain(&unaffected));
    let summary = body
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let record = AdvisoryRecord {
        id,
        aliases: strings(adv, "aliases")?,
        related: strings(adv, "related")?,
        kind,
        categories,
        summary,
        severity,
        affected: vec![AffectedPackage {
            package: purl.clone(),
            ecosystem: (*ecosystem).to_owned(),
            ranges: vec![AdvisoryRange {
                kind: RangeType::Semver,
                events,
            }],
            versions: Vec::new(),
            functions,
            os,
            arch,
        }],
        provenance: origin.provenance(&file.sha256(), &file.path),
    };
    Ok(Parsed::Advisory(Subject::package(&purl), Box::new(record)))
}

/// Splits "```toml\n<front matter>\n```\n<body>".
fn front_matter(text: &str) -> Result<(&str, &str), String> {
    let rest = text
        .trim_start_matches('\u{feff}')
        .strip_prefix("```toml")
        .ok_or("does not start with a ```toml front matter block")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
        .ok_or("the ```toml line has trailing text")?;
    let end = rest
        .find("\n```")
        .ok_or("the front matter block is not closed")?;
    Ok((&rest[..end], &rest[end + 4..]))
}

fn table<'a>(t: &'a toml::Table, key: &str) -> Result<Option<&'a toml::Table>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Toml::Table(inner)) => Ok(Some(inner)),
        Some(_) => Err(format!("`{key}` must be a table")),
    }
}

fn string(t: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn date(t: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(Toml::Datetime(d)) => Ok(Some(d.to_string())),
        Some(_) => Err(format!("`{key}` must be a date")),
    }
}

fn strings(t: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    match t.get(key) {
        None => Ok(Vec::new()),
        Some(Toml::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{key}` must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be a list of strings")),
    }
}

fn requirements(t: &toml::Table, key: &str) -> Result<Vec<VersionReq>, String> {
    strings(t, key)?
        .iter()
        .map(|r| {
            VersionReq::parse(r)
                .map_err(|e| format!("versions.{key}: `{r}` is not a version requirement: {e}"))
        })
        .collect()
}

/// OSV's severity type of a CVSS vector.
fn cvss_type(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4") {
        "CVSS_V4"
    } else if vector.starts_with("CVSS:3") {
        "CVSS_V3"
    } else {
        "CVSS_V2"
    }
}

// ---------------------------------------------------------------------------------------
// Cargo version requirements to OSV SEMVER events
// ---------------------------------------------------------------------------------------

/// A half-open interval `[lo, hi)` of versions in SemVer precedence; `None` is minus
/// infinity for `lo` and plus infinity for `hi`.
type Interval = (Option<Version>, Option<Version>);

fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

/// The lowest pre-release of a version (`x.y.z-0`): the first version that is not below any
/// release of `x.y.z`'s predecessors.
fn lowest(mut version: Version) -> Version {
    version.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    version
}

/// The next version in SemVer precedence: `1.2.3` → `1.2.4-0`, `1.2.3-rc.1` →
/// `1.2.3-rc.1.0`. (Numbers saturate: a requirement naming `u64::MAX` cannot overflow.)
fn successor(version: &Version) -> Version {
    let mut next = version.clone();
    next.build = semver::BuildMetadata::EMPTY;
    if next.pre.is_empty() {
        next.patch = next.patch.saturating_add(1);
        lowest(next)
    } else {
        let pre = format!("{}.0", next.pre);
        next.pre = Prerelease::new(&pre).unwrap_or(Prerelease::EMPTY);
        next
    }
}

/// The versions a comparator admits, by precedence. Cargo additionally refuses pre-releases
/// of other versions than the comparator's own; like RustSec's OSV export, the ranges place
/// pre-releases by precedence only.
fn comparator_interval(c: &Comparator) -> Interval {
    let full = Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    // The first version above everything the comparator's (partial) version covers.
    let above = || match (c.minor, c.patch) {
        (Some(_), Some(_)) => successor(&full),
        (Some(minor), None) => lowest(v(c.major, minor.saturating_add(1), 0)),
        (None, _) => lowest(v(c.major.saturating_add(1), 0, 0)),
    };
    match c.op {
        Op::Exact | Op::Wildcard => (Some(full.clone()), Some(above())),
        Op::Greater => (Some(above()), None),
        Op::GreaterEq => (Some(full), None),
        Op::Less => match (c.minor, c.patch) {
            (Some(_), Some(_)) => (None, Some(full)),
            _ => (None, Some(lowest(full))),
        },
        Op::LessEq => (None, Some(above())),
        Op::Tilde => {
            let hi = match c.minor {
                Some(minor) => lowest(v(c.major, minor.saturating_add(1), 0)),
                None => lowest(v(c.major.saturating_add(1), 0, 0)),
            };
            (Some(full), Some(hi))
        }
        // Caret, and any operator semver may add later, read as Cargo's default (caret).
        _ => {
            let hi = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(patch)) => lowest(v(0, 0, patch.saturating_add(1))),
                (0, Some(minor), _) => lowest(v(0, minor.saturating_add(1), 0)),
                (0, None, _) => lowest(v(1, 0, 0)),
                (major, ..) => lowest(v(major.saturating_add(1), 0, 0)),
            };
            (Some(full), Some(hi))
        }
    }
}

/// The versions a requirement admits: the intersection of its comparators (`*`, with no
/// comparator, admits every version).
fn requirement_interval(req: &VersionReq) -> Interval {
    let mut lo: Option<Version> = None;
    let mut hi: Option<Version> = None;
    for c in &req.comparators {
        let (l, h) = comparator_interval(c);
        if let Some(l) = l {
            lo = Some(lo.map_or(l.clone(), |cur| cur.max(l)));
        }
        if let Some(h) = h {
            hi = Some(hi.map_or(h.clone(), |cur| cur.min(h)));
        }
    }
    (lo, hi)
}

/// The OSV `SEMVER` events of the versions that no requirement in `unaffected` (RustSec's
/// `patched` and `unaffected` together) admits: the complement of their union, as
/// `introduced`/`fixed` pairs in ascending order (`introduced: "0"` from the first version;
/// no final `fixed` when the last range is open).
pub fn affected_events<'a>(
    unaffected: impl IntoIterator<Item = &'a VersionReq>,
) -> Vec<RangeEvent> {
    let mut intervals: Vec<Interval> = unaffected
        .into_iter()
        .map(requirement_interval)
        .filter(|(lo, hi)| match (lo, hi) {
            (Some(l), Some(h)) => l < h,
            _ => true,
        })
        .collect();
    // Minus infinity first, then ascending lower bounds.
    intervals.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    });
    let mut events = Vec::new();
    // The start of the affected region not yet covered: `Some(None)` is minus infinity,
    // `None` means an unaffected interval reaches plus infinity.
    let mut cursor: Option<Option<Version>> = Some(None);
    for (lo, hi) in intervals {
        let Some(start) = cursor.clone() else { break };
        if let Some(lo) = &lo {
            let gap = match &start {
                None => true,
                Some(s) => s < lo,
            };
            if gap {
                events.push(RangeEvent {
                    introduced: Some(start.as_ref().map_or("0".to_owned(), Version::to_string)),
                    ..RangeEvent::default()
                });
                events.push(RangeEvent {
                    fixed: Some(lo.to_string()),
                    ..RangeEvent::default()
                });
            }
        }
        // Move the cursor past this interval (never backwards: intervals may overlap).
        cursor = match (hi, start) {
            (None, _) => None,
            (Some(h), None) => Some(Some(h)),
            (Some(h), Some(s)) => Some(Some(h.max(s))),
        };
    }
    if let Some(start) = cursor {
        events.push(RangeEvent {
            introduced: Some(start.as_ref().map_or("0".to_owned(), Version::to_string)),
            ..RangeEvent::default()
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(reqs: &[&str]) -> Vec<(String, String)> {
        let reqs: Vec<VersionReq> = reqs
            .iter()
            .map(|r| VersionReq::parse(r).expect("requirement"))
            .collect();
        affected_events(&reqs)
            .into_iter()
            .map(|e| match (e.introduced, e.fixed) {
                (Some(i), None) => ("introduced".to_owned(), i),
                (None, Some(f)) => ("fixed".to_owned(), f),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn ev(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn requirement_edge_cases() {
        // Nothing patched: every version is affected.
        assert_eq!(events(&[]), ev(&[("introduced", "0")]));
        // Everything unaffected: no range at all (such an advisory is skipped).
        assert_eq!(events(&["*"]), ev(&[]));
        // A partial upper bound admits the whole minor: `<= 0.6` leaves 0.7.0 affected.
        assert_eq!(events(&["<= 0.6"]), ev(&[("introduced", "0.7.0-0")]));
        // Cargo's caret on 0.x and two disjoint patched lines.
        assert_eq!(
            events(&["^0.2.1", ">= 1.0.0"]),
            ev(&[
                ("introduced", "0"),
                ("fixed", "0.2.1"),
                ("introduced", "0.3.0-0"),
                ("fixed", "1.0.0")
            ])
        );
        // Overlapping requirements merge.
        assert_eq!(
            events(&[">= 1.2.0, < 2.0.0", ">= 1.5.0"]),
            ev(&[("introduced", "0"), ("fixed", "1.2.0")])
        );
        // Exclusive bounds become successors; pre-releases get a `.0` component.
        assert_eq!(
            events(&["> 1.2.3", "< 1.0.0-rc.1"]),
            ev(&[("introduced", "1.0.0-rc.1"), ("fixed", "1.2.4-0")])
        );
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let max = u64::MAX;
        for r in [
            format!("<= {max}"),
            format!("> {max}.{max}.{max}"),
            format!("^{max}"),
            format!("~{max}.{max}"),
            format!("= {max}.{max}"),
        ] {
            let _ = events(&[r.as_str()]);
        }
    }
}
