//! OSV records (JSON or YAML) into `advisory/v1` statements.
//!
//! The OSV schema (ossf.github.io/osv-schema) is what the PyPA, RustSec (its `osv` export)
//! and GitHub advisory databases publish. An importer keeps what a decision can use: the
//! identifiers (`id`, `aliases`, `related`), the kind (malicious for `MAL-` identifiers; the
//! RustSec export's `informational`), `summary`, `severity`, and per affected package its
//! purl, ecosystem, the `SEMVER` and `ECOSYSTEM` ranges and the listed `versions`, and the
//! affected functions, operating systems and architectures of RustSec's
//! `ecosystem_specific.affects`. Left out: `details` and `references` (the record's
//! provenance points to them), timestamps (`published`, `modified`: time comes from the log),
//! and `GIT` ranges (they name commits of a source repository, not published versions).
//! A withdrawn record (`withdrawn` set) revokes the earlier statement of the same `id`.

use std::path::Path;

use serde::Deserialize;

use super::{
    Derivation, ImportError, MAX_ADVISORY_FILE, Origin, SourceFile, Withdrawn, package_purl,
    read_file, read_tree,
};
use crate::model::predicates::{
    AdvisoryRange, AdvisoryRecord, AdvisoryRecordKind, AdvisorySeverity, AffectedPackage,
    Predicate, RangeEvent, RangeType,
};
use crate::model::statement::{Subject, parse_purl};

/// The file names read: OSV JSON and YAML records.
pub const EXTENSIONS: &[&str] = &[".json", ".yaml", ".yml"];

/// Reads one OSV file, or every OSV file under a folder (in path order).
pub fn derive(path: &Path, origin: &Origin) -> Result<Derivation, ImportError> {
    let mut out = Derivation::default();
    if path.is_dir() {
        for file in read_tree(path, EXTENSIONS)? {
            match file {
                Ok(file) => derive_file(&file, origin, &mut out),
                Err(e) => out.skip(&e.to_string(), "", "could not be read"),
            }
        }
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = read_file(path, &name, MAX_ADVISORY_FILE)?;
        derive_file(&file, origin, &mut out);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    related: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    severity: Option<Vec<Severity>>,
    #[serde(default)]
    affected: Option<Vec<Affected>>,
    #[serde(default)]
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Deserialize)]
struct Severity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize, Default)]
struct DatabaseSpecific {
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    categories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Affected {
    package: Option<Package>,
    #[serde(default)]
    ranges: Option<Vec<Range>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<EcosystemSpecific>,
    #[serde(default)]
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

#[derive(Deserialize, Default)]
struct EcosystemSpecific {
    #[serde(default)]
    affects: Option<Affects>,
}

#[derive(Deserialize, Default)]
struct Affects {
    #[serde(default)]
    functions: Option<Vec<String>>,
    #[serde(default)]
    os: Option<Vec<String>>,
    #[serde(default)]
    arch: Option<Vec<String>>,
}

/// Parses one OSV record file (`.json`, or YAML) and adds its statement, its withdrawal or
/// the reason it was skipped.
pub fn derive_file(file: &SourceFile, origin: &Origin, out: &mut Derivation) {
    let record = match parse_record(file) {
        Ok(r) => r,
        Err(reason) => return out.skip(&file.path, "", reason),
    };
    if let Some(date) = &record.withdrawn {
        out.withdrawn.push(Withdrawn {
            identity: super::reconcile::advisory_identity(&record.id),
            file: file.path.clone(),
            file_sha256: file.sha256(),
            date: date.clone(),
        });
        return;
    }
    match convert(record, file, origin) {
        Ok((subjects, record)) => {
            let kind = super::rustsec::kind_name(record.kind);
            let statement = Predicate::AdvisoryRecord(record).into_statement(subjects);
            out.push(&file.path, "", kind, statement);
        }
        Err(reason) => out.skip(&file.path, "", reason),
    }
}

fn parse_record(file: &SourceFile) -> Result<Record, String> {
    let text = file.text().map_err(|e| e.to_string())?;
    if file.path.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| format!("not an OSV JSON record: {e}"))
    } else {
        // serde-saphyr's default budget bounds depth, nodes, aliases and anchors, so a
        // hostile file cannot expand without limit.
        serde_saphyr::from_str(text).map_err(|e| format!("not an OSV YAML record: {e}"))
    }
}

/// The purl of an affected package: the record's `purl` without version (and qualifiers),
/// else one made from the ecosystem and name.
fn affected_purl(p: &Package) -> Result<String, String> {
    if let Some(purl) = &p.purl {
        let (package, _) = parse_purl(purl).map_err(|e| format!("package purl `{purl}`: {e}"))?;
        return Ok(package);
    }
    let name = p.name.as_str();
    match p.ecosystem.split(':').next().unwrap_or_default() {
        "crates.io" => package_purl("cargo", None, name, None),
        "PyPI" => package_purl("pypi", None, name, None),
        "RubyGems" => package_purl("gem", None, name, None),
        "NuGet" => package_purl("nuget", None, name, None),
        "Hex" => package_purl("hex", None, name, None),
        "Pub" => package_purl("pub", None, name, None),
        "npm" => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => package_purl("npm", Some(&format!("@{scope}")), n, None),
            None => package_purl("npm", None, name, None),
        },
        "Go" => match name.rsplit_once('/') {
            Some((ns, n)) => package_purl("golang", Some(ns), n, None),
            None => package_purl("golang", None, name, None),
        },
        "Maven" => match name.split_once(':') {
            Some((group, artifact)) => package_purl("maven", Some(group), artifact, None),
            None => Err(format!("Maven package `{name}` is not group:artifact")),
        },
        "Packagist" => match name.split_once('/') {
            Some((vendor, n)) => package_purl("composer", Some(vendor), n, None),
            None => package_purl("composer", None, name, None),
        },
        other => Err(format!(
            "ecosystem `{other}` has no purl type here and the record gives no purl"
        )),
    }
}

/// The list without repeats, in first-seen order.
fn distinct(list: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    list.into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

fn convert(
    record: Record,
    file: &SourceFile,
    origin: &Origin,
) -> Result<(Vec<Subject>, AdvisoryRecord), String> {
    let aliases = distinct(record.aliases.unwrap_or_default());
    let db = record.database_specific.unwrap_or_default();
    let mut informational = db.informational;
    let mut categories = db.categories.unwrap_or_default();
    let mut affected: Vec<AffectedPackage> = Vec::new();
    for (i, a) in record.affected.unwrap_or_default().into_iter().enumerate() {
        let package = a
            .package
            .ok_or_else(|| format!("affected[{i}] names no package"))?;
        let purl = affected_purl(&package).map_err(|e| format!("affected[{i}]: {e}"))?;
        if let Some(d) = a.database_specific {
            informational = informational.or(d.informational);
            categories.extend(d.categories.unwrap_or_default());
        }
        let mut ranges = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            let kind = match r.kind.as_str() {
                "SEMVER" => RangeType::Semver,
                "ECOSYSTEM" => RangeType::Ecosystem,
                // Commit ranges say nothing about published versions.
                "GIT" => continue,
                other => return Err(format!("affected[{i}]: unknown range type `{other}`")),
            };
            let events = r
                .events
                .into_iter()
                .map(|e| RangeEvent {
                    introduced: e.introduced,
                    fixed: e.fixed,
                    last_affected: e.last_affected,
                    limit: e.limit,
                })
                .collect();
            ranges.push(AdvisoryRange { kind, events });
        }
        let affects = a
            .ecosystem_specific
            .and_then(|e| e.affects)
            .unwrap_or_default();
        // OSV lists are sets; a version listed twice (python-jwt's PYSEC-2022-259 lists
        // 3.3.0 twice) is listed once.
        let versions = distinct(a.versions.unwrap_or_default());
        if ranges.is_empty() && versions.is_empty() {
            // Only commit ranges: nothing about versions to restate.
            continue;
        }
        affected.push(AffectedPackage {
            package: purl,
            ecosystem: package.ecosystem,
            ranges,
            versions,
            functions: affects.functions.unwrap_or_default(),
            os: affects.os.unwrap_or_default(),
            arch: affects.arch.unwrap_or_default(),
        });
    }
    if affected.is_empty() {
        return Err("no affected package with version ranges or versions".into());
    }
    let malicious = std::iter::once(&record.id)
        .chain(&aliases)
        .any(|id| id.starts_with("MAL-"))
        || categories.iter().any(|c| c == "malicious");
    let kind = match informational.as_deref() {
        Some("unsound") => AdvisoryRecordKind::Unsound,
        Some("unmaintained") => AdvisoryRecordKind::Unmaintained,
        Some("notice") => AdvisoryRecordKind::Notice,
        Some(other) => return Err(format!("unknown informational kind `{other}`")),
        None if malicious => AdvisoryRecordKind::Malicious,
        None => AdvisoryRecordKind::Vulnerability,
    };
    categories.sort();
    categories.dedup();
    let mut subjects: Vec<Subject> = Vec::new();
    for a in &affected {
        if !subjects.iter().any(|s| s.name == a.package) {
            subjects.push(Subject::package(&a.package));
        }
    }
    let record = AdvisoryRecord {
        id: record.id,
        aliases,
        related: distinct(record.related.unwrap_or_default()),
        kind,
        categories,
        summary: record.summary.filter(|s| !s.trim().is_empty()),
        severity: record
            .severity
            .unwrap_or_default()
            .into_iter()
            .map(|s| AdvisorySeverity {
                kind: s.kind,
                score: s.score,
            })
            .collect(),
        affected,
        provenance: origin.provenance(&file.sha256(), &file.path),
    };
    Ok((subjects, record))
}
