//! The TOML lockfiles: Cargo.lock, uv.lock and poetry.lock, read with serde over `toml`
//! (only the fields Quorum needs; the three share the `[[package]] name/version` shape).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{LockedPackage, LockfileError, LockfileKind, PinnedDigest, Source, locked};

fn from_toml<T: for<'de> Deserialize<'de>>(
    kind: LockfileKind,
    content: &str,
) -> Result<T, LockfileError> {
    toml::from_str(content).map_err(|e| LockfileError::syntax(kind, e.to_string()))
}

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: String,
    version: String,
    /// `registry+<index>`, `sparse+<index>`, `git+<url>?<ref>#<commit>`; absent for
    /// workspace members and path dependencies.
    source: Option<String>,
    /// SHA-256 of the `.crate` (v3 and later; v1 kept it in `[metadata]`).
    checksum: Option<String>,
}

pub(super) fn parse_cargo(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Cargo;
    let lock: CargoLock = from_toml(kind, content)?;
    lock.package
        .into_iter()
        .map(|p| {
            let source = match p.source.as_deref() {
                None => Source::Path {
                    path: String::new(),
                },
                Some(s) if s.starts_with("registry+") || s.starts_with("sparse+") => {
                    Source::Registry
                }
                Some(s) => match s.strip_prefix("git+") {
                    Some(git) => {
                        let (url, rev) = match git.rsplit_once('#') {
                            Some((url, rev)) => (url, Some(rev.to_owned())),
                            None => (git, None),
                        };
                        Source::Git {
                            url: url.to_owned(),
                            rev,
                        }
                    }
                    None => Source::Url { url: s.to_owned() },
                },
            };
            let digests = p
                .checksum
                .as_deref()
                .and_then(PinnedDigest::from_prefixed_hex)
                .into_iter()
                .collect();
            locked(kind, &p.name, &p.version, source, digests)
        })
        .collect()
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    version: Option<String>,
    source: Option<BTreeMap<String, toml::Value>>,
    sdist: Option<UvFile>,
    #[serde(default)]
    wheels: Vec<UvFile>,
}

#[derive(Deserialize)]
struct UvFile {
    hash: Option<String>,
}

pub(super) fn parse_uv(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Uv;
    let lock: UvLock = from_toml(kind, content)?;
    lock.package
        .into_iter()
        .map(|p| {
            let text = |key: &str| {
                p.source
                    .as_ref()
                    .and_then(|s| s.get(key))
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned)
            };
            let source = if text("registry").is_some() {
                Source::Registry
            } else if let Some(git) = text("git") {
                // `https://host/repo?rev=x#<commit>`
                let (url, rev) = match git.rsplit_once('#') {
                    Some((url, rev)) => (url.to_owned(), Some(rev.to_owned())),
                    None => (git, None),
                };
                Source::Git { url, rev }
            } else if let Some(url) = text("url") {
                Source::Url { url }
            } else {
                let path = ["editable", "virtual", "directory", "path"]
                    .iter()
                    .find_map(|k| text(k))
                    .unwrap_or_default();
                Source::Path { path }
            };
            let digests = p
                .sdist
                .iter()
                .chain(&p.wheels)
                .filter_map(|f| f.hash.as_deref().and_then(PinnedDigest::from_prefixed_hex))
                .collect();
            locked(
                kind,
                &p.name,
                p.version.as_deref().unwrap_or_default(),
                source,
                digests,
            )
        })
        .collect()
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    metadata: Option<PoetryMetadata>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    /// Poetry 1.5 and later list the files here.
    #[serde(default)]
    files: Vec<PoetryFile>,
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    /// `git`, `directory`, `file`, `url`, or `legacy` (another package index).
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    resolved_reference: Option<String>,
    reference: Option<String>,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    /// Poetry before 1.5: files per package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<PoetryFile>>,
}

#[derive(Deserialize)]
struct PoetryFile {
    hash: Option<String>,
}

pub(super) fn parse_poetry(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Poetry;
    let lock: PoetryLock = from_toml(kind, content)?;
    let old_files = lock.metadata.map(|m| m.files).unwrap_or_default();
    lock.package
        .into_iter()
        .map(|p| {
            let source = match p.source {
                None => Source::Registry,
                Some(s) => match s.kind.as_str() {
                    "legacy" | "pypi" => Source::Registry,
                    "git" => Source::Git {
                        url: s.url,
                        rev: s.resolved_reference.or(s.reference),
                    },
                    "url" => Source::Url { url: s.url },
                    _ => Source::Path { path: s.url },
                },
            };
            let digests = p
                .files
                .iter()
                .chain(old_files.get(&p.name).into_iter().flatten())
                .filter_map(|f| f.hash.as_deref().and_then(PinnedDigest::from_prefixed_hex))
                .collect();
            locked(kind, &p.name, &p.version, source, digests)
        })
        .collect()
}
