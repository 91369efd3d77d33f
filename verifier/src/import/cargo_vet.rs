//! cargo-vet audit sets into `cargo-vet/v1` statements.
//!
//! An `audits.toml` holds `[criteria.<name>]` tables and arrays of `[[audits.<crate>]]`,
//! `[[wildcard-audits.<crate>]]` and `[[trusted.<crate>]]` entries. An `imports.lock` holds,
//! per import, the same tables as the imported `audits.toml` had when the importing project
//! last locked it (`[[audits.<import>.audits.<crate>]]`, …), plus `[[publisher.<crate>]]`
//! records of who published a version, and `[[unpublished.<crate>]]` records about the
//! project's own unpublished versions (left out: they are not about a published crate).
//!
//! Entries are read one by one, as cargo-vet reads a foreign audit set: a malformed entry is
//! [`Skipped`](super::Skipped) with its position and the reason, the rest is imported. The
//! rules follow cargo-vet's `format.rs`: `criteria` and `who` are a string or a list; an
//! audit has exactly one of `version`, `delta = "from -> to"` and `violation` (a Cargo
//! version requirement); `importable = false` keeps an audit out of imports; versions that
//! name a git revision (`1.0.0@git:<hash>`) are not crates.io versions and are left out.

use std::collections::BTreeSet;

use toml::Value as Toml;

use super::{Derivation, ImportError, Origin, SourceFile, package_purl};
use crate::model::predicates::{CargoVetEntry, CargoVetKind, Predicate};
use crate::model::statement::Subject;

/// Which cargo-vet file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An `audits.toml`.
    Audits,
    /// An `imports.lock`.
    ImportsLock,
}

impl FileKind {
    /// `imports.lock` by its name or its content (top-level `publisher` or `unpublished`
    /// tables, or `audits.<import>.audits` tables), `audits.toml` otherwise.
    pub fn detect(name: &str, table: &toml::Table) -> FileKind {
        let nested_audits = table
            .get("audits")
            .and_then(Toml::as_table)
            .is_some_and(|t| {
                t.values().any(|v| {
                    v.as_table().is_some_and(|imported| {
                        ["audits", "wildcard-audits", "trusted", "criteria"]
                            .iter()
                            .any(|k| imported.contains_key(*k))
                    })
                })
            });
        if name.ends_with("imports.lock")
            || table.contains_key("publisher")
            || table.contains_key("unpublished")
            || nested_audits
        {
            FileKind::ImportsLock
        } else {
            FileKind::Audits
        }
    }
}

/// Parses a cargo-vet file and derives one statement per entry. The signer's key is the
/// subject of criteria statements (a criterion is the signer's vocabulary).
pub fn derive(
    file: &SourceFile,
    kind: Option<FileKind>,
    origin: &Origin,
    signer: &[u8; 32],
) -> Result<Derivation, ImportError> {
    let table: toml::Table = toml::from_str(file.text()?).map_err(|e| ImportError::Format {
        path: file.path.clone(),
        reason: format!("not a cargo-vet TOML file: {e}"),
    })?;
    let kind = kind.unwrap_or_else(|| FileKind::detect(&file.path, &table));
    let mut reader = Reader {
        file: &file.path,
        file_sha256: file.sha256(),
        origin,
        signer,
        out: Derivation::default(),
    };
    reader.out.file_sha256 = Some(reader.file_sha256.clone());
    match kind {
        FileKind::Audits => reader.audit_set(&table, None, ""),
        FileKind::ImportsLock => {
            for (key, value) in &table {
                match key.as_str() {
                    "audits" => match value.as_table() {
                        Some(imports) => {
                            for (import, set) in imports {
                                let prefix = format!("audits.{}.", toml_key(import));
                                match set.as_table() {
                                    Some(set) => reader.audit_set(set, Some(import), &prefix),
                                    None => reader.out.skip(
                                        &file.path,
                                        prefix.trim_end_matches('.'),
                                        "an import's audits must be a table",
                                    ),
                                }
                            }
                        }
                        None => reader.out.skip(&file.path, "audits", "must be a table"),
                    },
                    "publisher" => reader.per_crate(value, "publisher", |r, krate, t, pos| {
                        r.publisher(krate, t, pos);
                    }),
                    "unpublished" => reader.per_crate(value, "unpublished", |r, _, _, pos| {
                        r.out.skip(
                            r.file,
                            pos,
                            "a version of the importing project's own that is not published on crates.io",
                        );
                    }),
                    other => reader.out.skip(
                        &file.path,
                        &toml_key(other),
                        "not a table cargo-vet writes in imports.lock",
                    ),
                }
            }
        }
    }
    Ok(reader.out)
}

/// A TOML key as written in a table path: bare if it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        key.to_owned()
    } else {
        Toml::String(key.to_owned()).to_string()
    }
}

struct Reader<'a> {
    file: &'a str,
    file_sha256: String,
    origin: &'a Origin,
    signer: &'a [u8; 32],
    out: Derivation,
}

/// The fields each table's entries may have; anything else makes the entry skipped (an
/// unknown field might change its meaning).
const AUDIT_FIELDS: &[&str] = &[
    "who",
    "criteria",
    "version",
    "delta",
    "violation",
    "importable",
    "notes",
    "aggregated-from",
];
const WILDCARD_FIELDS: &[&str] = &[
    "who",
    "criteria",
    "user-id",
    "trusted-publisher",
    "start",
    "end",
    "renew",
    "notes",
    "aggregated-from",
];
const TRUSTED_FIELDS: &[&str] = &[
    "criteria",
    "user-id",
    "trusted-publisher",
    "start",
    "end",
    "notes",
    "aggregated-from",
];
const CRITERIA_FIELDS: &[&str] = &[
    "description",
    "description-url",
    "implies",
    "aggregated-from",
];
const PUBLISHER_FIELDS: &[&str] = &[
    "version",
    "when",
    "user-id",
    "user-login",
    "user-name",
    "trusted-publisher",
];

impl Reader<'_> {
    /// The tables of one audit set (a whole `audits.toml`, or one import of an
    /// `imports.lock`).
    fn audit_set(&mut self, table: &toml::Table, import: Option<&str>, prefix: &str) {
        for (key, value) in table {
            let at = format!("{prefix}{}", toml_key(key));
            match key.as_str() {
                "criteria" => match value.as_table() {
                    Some(criteria) => {
                        for (name, entry) in criteria {
                            let pos = format!("{at}.{}", toml_key(name));
                            match entry.as_table() {
                                Some(t) => self.criterion(import, name, t, &pos),
                                None => self.out.skip(self.file, &pos, "must be a table"),
                            }
                        }
                    }
                    None => self.out.skip(self.file, &at, "must be a table"),
                },
                "audits" => self.per_crate_in(value, &at, import, Reader::audit),
                "wildcard-audits" => self.per_crate_in(value, &at, import, Reader::wildcard),
                "trusted" => self.per_crate_in(value, &at, import, Reader::trusted),
                _ => self
                    .out
                    .skip(self.file, &at, "not a table of a cargo-vet audit set"),
            }
        }
    }

    fn per_crate(
        &mut self,
        value: &Toml,
        at: &str,
        f: impl Fn(&mut Self, &str, &toml::Table, &str),
    ) {
        self.per_crate_in(value, at, None, move |r, _, krate, t, pos| {
            f(r, krate, t, pos)
        });
    }

    /// Calls `f` for each `[[<at>.<crate>]]` entry.
    fn per_crate_in(
        &mut self,
        value: &Toml,
        at: &str,
        import: Option<&str>,
        f: impl Fn(&mut Self, Option<&str>, &str, &toml::Table, &str),
    ) {
        let Some(crates) = value.as_table() else {
            return self.out.skip(self.file, at, "must be a table of crates");
        };
        for (krate, entries) in crates {
            let base = format!("{at}.{}", toml_key(krate));
            let Some(entries) = entries.as_array() else {
                self.out
                    .skip(self.file, &base, "must be an array of tables");
                continue;
            };
            for (i, entry) in entries.iter().enumerate() {
                let pos = format!("{base}[{i}]");
                match entry.as_table() {
                    Some(t) => f(self, import, krate, t, &pos),
                    None => self.out.skip(self.file, &pos, "must be a table"),
                }
            }
        }
    }

    fn emit(&mut self, pos: &str, subject: Subject, mut entry: CargoVetEntry) {
        entry.provenance = self.origin.provenance(&self.file_sha256, pos);
        let kind = entry.kind.as_str();
        let statement = Predicate::CargoVet(Box::new(entry)).into_statement(vec![subject]);
        self.out.push(self.file, pos, kind, statement);
    }

    fn blank(&self, kind: CargoVetKind, import: Option<&str>) -> CargoVetEntry {
        CargoVetEntry {
            kind,
            import: import.map(str::to_owned),
            criteria: Vec::new(),
            who: Vec::new(),
            notes: None,
            version: None,
            from: None,
            to: None,
            violation: None,
            user_id: None,
            trusted_publisher: None,
            user_login: None,
            user_name: None,
            start: None,
            end: None,
            renew: None,
            when: None,
            name: None,
            description: None,
            description_url: None,
            implies: Vec::new(),
            aggregated_from: Vec::new(),
            provenance: self.origin.provenance(&self.file_sha256, ""),
        }
    }

    fn audit(&mut self, import: Option<&str>, krate: &str, t: &toml::Table, pos: &str) {
        let fields = || -> Result<Option<(Subject, CargoVetEntry)>, String> {
            known(t, AUDIT_FIELDS)?;
            let importable = match t.get("importable") {
                None => true,
                Some(Toml::Boolean(b)) => *b,
                Some(_) => return Err("`importable` must be a boolean".into()),
            };
            if !importable {
                return Ok(None);
            }
            let (kind, version, from, to, violation) = match (
                str_field(t, "version")?,
                str_field(t, "delta")?,
                str_field(t, "violation")?,
            ) {
                (Some(v), None, None) => (
                    CargoVetKind::Audit,
                    Some(crates_version(&v)?),
                    None,
                    None,
                    None,
                ),
                (None, Some(d), None) => {
                    let (from, to) = d
                        .split_once("->")
                        .ok_or("`delta` must be `VERSION -> VERSION`")?;
                    (
                        CargoVetKind::Delta,
                        None,
                        Some(crates_version(from)?),
                        Some(crates_version(to)?),
                        None,
                    )
                }
                (None, None, Some(req)) => {
                    let req = req.trim().to_owned();
                    semver::VersionReq::parse(&req)
                        .map_err(|e| format!("`violation` is not a version requirement: {e}"))?;
                    (CargoVetKind::Violation, None, None, None, Some(req))
                }
                _ => {
                    return Err(
                        "an audit has exactly one of `version`, `delta` and `violation`".into(),
                    );
                }
            };
            let subject_version = version.as_deref().or(to.as_deref());
            let subject = crate_subject(krate, subject_version)?;
            let mut e = self.blank(kind, import);
            e.criteria = criteria(t)?;
            e.who = string_or_list(t, "who")?;
            e.notes = str_field(t, "notes")?;
            e.version = version;
            e.from = from;
            e.to = to;
            e.violation = violation;
            e.aggregated_from = string_or_list(t, "aggregated-from")?;
            Ok(Some((subject, e)))
        };
        match fields() {
            Ok(Some((subject, e))) => self.emit(pos, subject, e),
            Ok(None) => self.out.skip(
                self.file,
                pos,
                "`importable = false`: the source keeps this audit out of imports",
            ),
            Err(reason) => self.out.skip(self.file, pos, reason),
        }
    }

    fn wildcard(&mut self, import: Option<&str>, krate: &str, t: &toml::Table, pos: &str) {
        self.publisher_window(
            import,
            krate,
            t,
            pos,
            CargoVetKind::Wildcard,
            WILDCARD_FIELDS,
        );
    }

    fn trusted(&mut self, import: Option<&str>, krate: &str, t: &toml::Table, pos: &str) {
        self.publisher_window(import, krate, t, pos, CargoVetKind::Trusted, TRUSTED_FIELDS);
    }

    /// Wildcard audits and trusted entries: an account or trusted publisher and dates.
    fn publisher_window(
        &mut self,
        import: Option<&str>,
        krate: &str,
        t: &toml::Table,
        pos: &str,
        kind: CargoVetKind,
        fields: &[&str],
    ) {
        let build = || -> Result<(Subject, CargoVetEntry), String> {
            known(t, fields)?;
            let subject = crate_subject(krate, None)?;
            let mut e = self.blank(kind, import);
            e.criteria = criteria(t)?;
            e.who = string_or_list(t, "who")?;
            (e.user_id, e.trusted_publisher) = publishing_source(t)?;
            e.start = Some(date_field(t, "start")?.ok_or("`start` is required")?);
            e.end = Some(date_field(t, "end")?.ok_or("`end` is required")?);
            e.renew = match t.get("renew") {
                None => None,
                Some(Toml::Boolean(b)) => Some(*b),
                Some(_) => return Err("`renew` must be a boolean".into()),
            };
            e.notes = str_field(t, "notes")?;
            e.aggregated_from = string_or_list(t, "aggregated-from")?;
            Ok((subject, e))
        };
        match build() {
            Ok((subject, e)) => self.emit(pos, subject, e),
            Err(reason) => self.out.skip(self.file, pos, reason),
        }
    }

    fn criterion(&mut self, import: Option<&str>, name: &str, t: &toml::Table, pos: &str) {
        let build = || -> Result<CargoVetEntry, String> {
            known(t, CRITERIA_FIELDS)?;
            let mut e = self.blank(CargoVetKind::Criteria, import);
            e.name = Some(name.to_owned());
            e.description = str_field(t, "description")?;
            e.description_url = str_field(t, "description-url")?;
            e.implies = string_or_list(t, "implies")?;
            e.aggregated_from = string_or_list(t, "aggregated-from")?;
            Ok(e)
        };
        match build() {
            Ok(e) => self.emit(pos, Subject::key(self.signer), e),
            Err(reason) => self.out.skip(self.file, pos, reason),
        }
    }

    fn publisher(&mut self, krate: &str, t: &toml::Table, pos: &str) {
        let build = || -> Result<(Subject, CargoVetEntry), String> {
            known(t, PUBLISHER_FIELDS)?;
            let version =
                crates_version(&str_field(t, "version")?.ok_or("`version` is required")?)?;
            let subject = crate_subject(krate, Some(&version))?;
            let mut e = self.blank(CargoVetKind::Publisher, None);
            e.version = Some(version);
            e.when = Some(date_field(t, "when")?.ok_or("`when` is required")?);
            (e.user_id, e.trusted_publisher) = publishing_source(t)?;
            e.user_login = str_field(t, "user-login")?;
            e.user_name = str_field(t, "user-name")?;
            Ok((subject, e))
        };
        match build() {
            Ok((subject, e)) => self.emit(pos, subject, e),
            Err(reason) => self.out.skip(self.file, pos, reason),
        }
    }
}

fn known(t: &toml::Table, fields: &[&str]) -> Result<(), String> {
    match t.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown field `{k}`")),
        None => Ok(()),
    }
}

fn str_field(t: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

/// A date written as a string (`"2024-01-31"`, as cargo-vet writes) or a TOML date.
fn date_field(t: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s.clone())),
        Some(Toml::Datetime(d)) if d.time.is_none() && d.offset.is_none() => {
            Ok(Some(d.to_string()))
        }
        Some(_) => Err(format!("`{key}` must be a date YYYY-MM-DD")),
    }
}

/// cargo-vet's `string_or_vec`: one string or a list of strings.
fn string_or_list(t: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    match t.get(key) {
        None => Ok(Vec::new()),
        Some(Toml::String(s)) => Ok(vec![s.clone()]),
        Some(Toml::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{key}` must be a string or a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be a string or a list of strings")),
    }
}

/// The criteria of an entry: at least one, each listed once (in the source's order).
fn criteria(t: &toml::Table) -> Result<Vec<String>, String> {
    let list = string_or_list(t, "criteria")?;
    if list.is_empty() {
        return Err("`criteria` is required".into());
    }
    let mut seen = BTreeSet::new();
    Ok(list
        .into_iter()
        .filter(|c| seen.insert(c.clone()))
        .collect())
}

fn publishing_source(t: &toml::Table) -> Result<(Option<u64>, Option<String>), String> {
    let user = match t.get("user-id") {
        None => None,
        Some(Toml::Integer(i)) => {
            Some(u64::try_from(*i).map_err(|_| "`user-id` must not be negative")?)
        }
        Some(_) => return Err("`user-id` must be an integer".into()),
    };
    let publisher = str_field(t, "trusted-publisher")?;
    match (&user, &publisher) {
        (Some(_), None) | (None, Some(_)) => Ok((user, publisher)),
        _ => Err("exactly one of `user-id` and `trusted-publisher` is required".into()),
    }
}

/// A crates.io version as the source writes it (trimmed); a git revision or anything that is
/// not semver is refused.
fn crates_version(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.contains('@') {
        return Err(format!(
            "`{text}` names a git revision, not a crates.io version"
        ));
    }
    semver::Version::parse(text).map_err(|e| format!("`{text}` is not a semver version: {e}"))?;
    Ok(text.to_owned())
}

/// The subject: `pkg:cargo/<crate>@<version>` or `pkg:cargo/<crate>`, with the name digest.
fn crate_subject(krate: &str, version: Option<&str>) -> Result<Subject, String> {
    let valid = !krate.is_empty()
        && krate.len() <= 64
        && krate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !valid {
        return Err(format!("`{krate}` is not a crate name"));
    }
    let purl = package_purl("cargo", None, krate, version)?;
    Ok(Subject::package(&purl))
}
