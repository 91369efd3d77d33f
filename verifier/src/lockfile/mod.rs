//! Lockfiles: the exact package versions a project pins, where each comes from, and the
//! digests the lockfile pins for it.
//!
//! Supported, each recognized by its content whatever the file is called (the file name is
//! only a fallback):
//!
//! | format | ecosystem | digests returned |
//! |---|---|---|
//! | `Cargo.lock` (v1 to v4) | Cargo | `checksum`: SHA-256 of the `.crate` |
//! | `package-lock.json`, `npm-shrinkwrap.json` (lockfile v1 to v3) | npm | `integrity` (SRI: `sha512-`, `sha1-`, …) |
//! | `pnpm-lock.yaml` (v5.4, v6, v9; several YAML documents) | npm | `resolution.integrity` (SRI) |
//! | `yarn.lock` v1 | npm | `integrity` (SRI), and the `#<sha1>` of `resolved` |
//! | `yarn.lock` Berry (Yarn 2 to 4) | npm | `checksum`: SHA-512 of Yarn's cache zip, not of the registry tarball ([`PinnedDigest::YarnCache`]) |
//! | `poetry.lock` | PyPI | every file's `sha256` (`files`, or `[metadata.files]` of Poetry < 1.5) |
//! | `uv.lock` | PyPI | every file's hash: the sdist and each wheel |
//! | pip requirements (`name==version`) | PyPI | every `--hash=` option |
//!
//! Names and versions go through [`crate::ecosystem`], so a lockfile entry and a statement
//! about the same package meet under one canonical purl. Each entry says where it comes from
//! ([`Source`]): only a [`Source::Registry`] entry is the registry's artifact that statements
//! about `pkg:<type>/<name>@<version>` speak of; git, path, URL and patched entries are
//! reported as such.
//!
//! How a statement's subject is matched against a pin: [`LockedPackage::match_digests`] (and
//! `spec/statements.md`, "Artifact identity"). PyPI pins many files per version (an sdist and
//! wheels): a subject matches if its digest is any one of them.
//!
//! # Adding a lockfile format
//!
//! 1. a [`LockfileKind`] variant: the compiler then points to [`LockfileKind::file_name`],
//!    [`LockfileKind::ecosystem`], the parser dispatch in [`read_lockfile`] and the CLI's
//!    adoption of a lockfile (`cli/src/publish.rs`, which digests it records);
//! 2. a parser in this folder returning [`LockedPackage`]s, names and versions through
//!    [`crate::ecosystem`] and digests as [`PinnedDigest`]s;
//! 3. recognition: a mark its writer always leaves in `detect_by_content`, the usual file
//!    name in [`LockfileKind::detect`], and the list of supported formats that
//!    [`LockfileError::UnknownFormat`] names ([`SUPPORTED_FORMATS`]);
//! 4. tests in `tests.rs` and, on a file the real tool wrote, in
//!    `verifier/tests/generated_lockfiles.rs` (`scripts/generate-lockfiles.sh`).

mod js;
mod python;
mod toml_locks;

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use thiserror::Error;

use crate::ecosystem::{Ecosystem, EcosystemError};

/// The largest lockfile accepted, in bytes.
pub const MAX_LOCKFILE_BYTES: usize = 32 << 20;

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The ecosystem's registry (crates.io, the npm registry, PyPI) or a registry mirror:
    /// the artifact statements about the purl speak of.
    Registry,
    /// A git repository at a revision (commit, when the lockfile records one).
    Git {
        /// The repository URL as the lockfile writes it.
        url: String,
        /// The resolved commit or reference, if recorded.
        rev: Option<String>,
    },
    /// A local path: a workspace member, a path dependency, an editable install.
    Path {
        /// The path as the lockfile writes it (may be empty when the lockfile omits it).
        path: String,
    },
    /// An archive downloaded from a URL that is not a registry's.
    Url {
        /// The URL.
        url: String,
    },
    /// A registry package changed by a local patch (Yarn Berry's `patch:` protocol): not
    /// the registry's artifact.
    Patched {
        /// The patch locator as the lockfile writes it.
        locator: String,
    },
}

impl Source {
    /// Whether this is the registry's artifact.
    pub fn is_registry(&self) -> bool {
        matches!(self, Source::Registry)
    }

    /// A short description for people: `registry`, `git <url>#<rev>`, `path <p>`, ….
    pub fn describe(&self) -> String {
        match self {
            Source::Registry => "registry".into(),
            Source::Git {
                url,
                rev: Some(rev),
            } => format!("git {url}#{rev}"),
            Source::Git { url, rev: None } => format!("git {url}"),
            // A Cargo workspace member has no `source` at all: it is the project itself.
            Source::Path { path } if path.is_empty() => "local".into(),
            Source::Path { path } => format!("path {path}"),
            Source::Url { url } => format!("url {url}"),
            Source::Patched { locator } => format!("patched {locator}"),
        }
    }
}

/// A digest a lockfile pins for a package, decoded to lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PinnedDigest {
    /// SHA-256 of an artifact the registry serves (Cargo's `checksum`, PyPI file hashes,
    /// `sha256-` SRI).
    Sha256(String),
    /// SHA-384 of the artifact (`sha384-` SRI, pip `--hash=sha384:`).
    Sha384(String),
    /// SHA-512 of the artifact (npm, pnpm and yarn v1 `sha512-` SRI, pip `--hash=sha512:`).
    Sha512(String),
    /// SHA-1 of the artifact (old npm and yarn lockfiles): collisions can be made, so it is
    /// never matched; a package pinned only by SHA-1 is unverifiable.
    Sha1(String),
    /// Yarn Berry's `checksum`: the SHA-512 of the zip archive Yarn builds from the tarball
    /// for its cache (with the lockfile's cache key, e.g. `10c0`), not of the registry's
    /// tarball. It identifies the content for another Berry lockfile with the same cache key
    /// but can never be matched with a registry artifact digest.
    YarnCache {
        /// The cache key prefix (`10c0` in `10c0/<hex>`), if given.
        cache_key: Option<String>,
        /// The hex digest.
        hex: String,
    },
}

impl PinnedDigest {
    /// The algorithm name as statements spell it (`sha256`, `sha384`, `sha512`) for the
    /// digests a subject can be matched with; `None` for SHA-1 and Yarn's cache checksum.
    pub fn artifact_algorithm(&self) -> Option<&'static str> {
        match self {
            PinnedDigest::Sha256(_) => Some("sha256"),
            PinnedDigest::Sha384(_) => Some("sha384"),
            PinnedDigest::Sha512(_) => Some("sha512"),
            PinnedDigest::Sha1(_) | PinnedDigest::YarnCache { .. } => None,
        }
    }

    /// The hex value.
    pub fn hex(&self) -> &str {
        match self {
            PinnedDigest::Sha256(h)
            | PinnedDigest::Sha384(h)
            | PinnedDigest::Sha512(h)
            | PinnedDigest::Sha1(h)
            | PinnedDigest::YarnCache { hex: h, .. } => h,
        }
    }

    /// Reads one SRI token (`sha512-<base64>`); `None` for other algorithms or bad base64.
    pub fn from_sri(token: &str) -> Option<PinnedDigest> {
        let (algorithm, b64) = token.trim().split_once('-')?;
        // SRI allows `?options` after the digest.
        let b64 = b64.split('?').next().unwrap_or(b64);
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        let hex = hex::encode(&bytes);
        match (algorithm, bytes.len()) {
            ("sha512", 64) => Some(PinnedDigest::Sha512(hex)),
            ("sha384", 48) => Some(PinnedDigest::Sha384(hex)),
            ("sha256", 32) => Some(PinnedDigest::Sha256(hex)),
            ("sha1", 20) => Some(PinnedDigest::Sha1(hex)),
            _ => None,
        }
    }

    /// Reads `<algorithm>:<hex>` (pip's `--hash=`, uv and Poetry file hashes) or bare hex of
    /// SHA-256's length.
    pub fn from_prefixed_hex(text: &str) -> Option<PinnedDigest> {
        let (algorithm, hex) = text.split_once(':').unwrap_or(("sha256", text));
        let valid = |len: usize| hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let hex_lower = hex.to_ascii_lowercase();
        match algorithm {
            "sha256" if valid(64) => Some(PinnedDigest::Sha256(hex_lower)),
            "sha384" if valid(96) => Some(PinnedDigest::Sha384(hex_lower)),
            "sha512" if valid(128) => Some(PinnedDigest::Sha512(hex_lower)),
            "sha1" if valid(40) => Some(PinnedDigest::Sha1(hex_lower)),
            _ => None,
        }
    }
}

/// How a statement's subject digests compare with a lockfile pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMatch {
    /// For every algorithm both sides have, the subject's digest is one of the pinned ones
    /// (and there is at least one such algorithm).
    Matches,
    /// Some algorithm both sides have disagrees: the statement speaks of another artifact.
    Differs,
    /// Nothing to compare: the pin has no artifact digest (none, SHA-1 only, Yarn Berry's
    /// cache checksum only), or none of the subject's algorithm.
    Unverifiable,
}

/// One pinned package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockedPackage {
    /// The package's canonical purl without version, e.g. `pkg:cargo/serde`,
    /// `pkg:npm/%40types/node`, `pkg:pypi/zope-interface`.
    pub package: String,
    /// The pinned version, in its ecosystem's normal form (empty when a non-registry entry
    /// has none).
    pub version: String,
    /// Where it comes from.
    pub source: Source,
    /// Every digest the lockfile pins for it, sorted, without duplicates.
    pub digests: Vec<PinnedDigest>,
}

impl LockedPackage {
    /// The full purl with version, e.g. `pkg:cargo/serde@1.0.200` (without `@` when there is
    /// no version).
    pub fn purl(&self) -> String {
        if self.version.is_empty() {
            self.package.clone()
        } else {
            format!("{}@{}", self.package, self.version)
        }
    }

    /// The pinned artifact digests by algorithm (`sha256`, `sha384`, `sha512`).
    pub fn artifact_digests(&self) -> BTreeMap<&'static str, BTreeSet<&str>> {
        let mut out: BTreeMap<&'static str, BTreeSet<&str>> = BTreeMap::new();
        for d in &self.digests {
            if let Some(algorithm) = d.artifact_algorithm() {
                out.entry(algorithm).or_default().insert(d.hex());
            }
        }
        out
    }

    /// Whether a statement about this package can be bound to what is installed: a registry
    /// entry with at least one SHA-256/384/512 pin.
    pub fn is_verifiable(&self) -> bool {
        self.source.is_registry()
            && self
                .digests
                .iter()
                .any(|d| d.artifact_algorithm().is_some())
    }

    /// Compares a subject's digests (algorithm → lowercase hex, as in a statement) with this
    /// pin; see [`PinMatch`].
    pub fn match_digests(&self, subject: &BTreeMap<String, String>) -> PinMatch {
        let pinned = self.artifact_digests();
        let mut compared = false;
        for (algorithm, value) in subject {
            let Some(values) = pinned.get(algorithm.as_str()) else {
                continue;
            };
            if !values.contains(value.as_str()) {
                return PinMatch::Differs;
            }
            compared = true;
        }
        if compared {
            PinMatch::Matches
        } else {
            PinMatch::Unverifiable
        }
    }
}

/// Which lockfile format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockfileKind {
    /// Cargo.lock.
    Cargo,
    /// package-lock.json / npm-shrinkwrap.json.
    Npm,
    /// pnpm-lock.yaml.
    Pnpm,
    /// yarn.lock, v1 or Berry.
    Yarn,
    /// pip requirements file pinned with `==`.
    Requirements,
    /// uv.lock.
    Uv,
    /// poetry.lock.
    Poetry,
}

impl LockfileKind {
    /// The format's usual file name.
    pub fn file_name(self) -> &'static str {
        match self {
            LockfileKind::Cargo => "Cargo.lock",
            LockfileKind::Npm => "package-lock.json",
            LockfileKind::Pnpm => "pnpm-lock.yaml",
            LockfileKind::Yarn => "yarn.lock",
            LockfileKind::Requirements => "requirements.txt",
            LockfileKind::Uv => "uv.lock",
            LockfileKind::Poetry => "poetry.lock",
        }
    }

    /// The ecosystem whose packages the format pins.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            LockfileKind::Cargo => Ecosystem::Cargo,
            LockfileKind::Npm | LockfileKind::Pnpm | LockfileKind::Yarn => Ecosystem::Npm,
            LockfileKind::Requirements | LockfileKind::Uv | LockfileKind::Poetry => Ecosystem::PyPi,
        }
    }
}

/// The formats named in errors, so that a person knows what is supported.
pub const SUPPORTED_FORMATS: &str = "Cargo.lock, package-lock.json or npm-shrinkwrap.json (v1 to v3), pnpm-lock.yaml (v5.4 to v9), yarn.lock (v1 and Berry), poetry.lock, uv.lock, and pip requirements files pinned with ==";

/// Errors reading a lockfile.
#[derive(Debug, Error)]
pub enum LockfileError {
    /// Larger than [`MAX_LOCKFILE_BYTES`].
    #[error("lockfile is {0} bytes; the limit is {MAX_LOCKFILE_BYTES}")]
    TooLarge(usize),
    /// The format could not be told from the content or the name.
    #[error("{0:?} is not a lockfile Quorum can read; supported: {SUPPORTED_FORMATS}")]
    UnknownFormat(String),
    /// The file does not parse as its format.
    #[error("{kind:?} lockfile: {message}")]
    Syntax {
        /// Which format.
        kind: LockfileKind,
        /// The parser's message, with the line where it has one.
        message: String,
    },
    /// A line of a requirements file is not a pinned requirement.
    #[error("requirements file line {line}: {message}")]
    Requirement {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A package name that is not valid in the lockfile's ecosystem.
    #[error("{kind:?} lockfile: {source}")]
    Name {
        /// Which format.
        kind: LockfileKind,
        /// The name error.
        source: EcosystemError,
    },
}

impl LockfileError {
    fn syntax(kind: LockfileKind, message: impl Into<String>) -> LockfileError {
        LockfileError::Syntax {
            kind,
            message: crate::model::dsse::truncate(&message.into(), 512),
        }
    }
}

/// A lockfile read whole: its format and every package it pins, sorted, one entry per
/// (package, version, source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// The format.
    pub kind: LockfileKind,
    /// Every pinned package, registry or not.
    pub packages: Vec<LockedPackage>,
}

impl Lockfile {
    /// The registry packages (the ones statements about a purl speak of).
    pub fn registry_packages(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages.iter().filter(|p| p.source.is_registry())
    }

    /// The packages from git, paths, URLs or patches.
    pub fn other_packages(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages.iter().filter(|p| !p.source.is_registry())
    }
}

impl LockfileKind {
    /// Tells the format from the content, then from the file name.
    pub fn detect(file_name: &str, content: &str) -> Result<LockfileKind, LockfileError> {
        if let Some(kind) = detect_by_content(content) {
            return Ok(kind);
        }
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        match base {
            "Cargo.lock" => Ok(LockfileKind::Cargo),
            "package-lock.json" | "npm-shrinkwrap.json" => Ok(LockfileKind::Npm),
            "pnpm-lock.yaml" => Ok(LockfileKind::Pnpm),
            "yarn.lock" => Ok(LockfileKind::Yarn),
            "uv.lock" => Ok(LockfileKind::Uv),
            "poetry.lock" => Ok(LockfileKind::Poetry),
            _ if base.ends_with(".txt") || base.ends_with(".in") => Ok(LockfileKind::Requirements),
            _ => Err(LockfileError::UnknownFormat(crate::model::dsse::truncate(
                file_name, 256,
            ))),
        }
    }
}

/// Recognizes a format from marks its writers always leave.
fn detect_by_content(content: &str) -> Option<LockfileKind> {
    let head: String = content.chars().take(4096).collect();
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    let has_line = |prefix: &str| head.lines().any(|l| l.starts_with(prefix));
    if trimmed.starts_with('{') {
        return content
            .contains("\"lockfileVersion\"")
            .then_some(LockfileKind::Npm);
    }
    if head.contains("# yarn lockfile v1") || has_line("__metadata:") {
        return Some(LockfileKind::Yarn);
    }
    if has_line("lockfileVersion:") {
        return Some(LockfileKind::Pnpm);
    }
    if head.contains("@generated by Cargo") {
        return Some(LockfileKind::Cargo);
    }
    if head.contains("@generated by Poetry") {
        return Some(LockfileKind::Poetry);
    }
    if has_line("[[package]]") || content.contains("\n[[package]]") {
        // uv writes `requires-python` at the top; Poetry (without its comment) a
        // `[metadata]` table with `content-hash`; Cargo a `checksum` or `source`.
        if has_line("requires-python") {
            return Some(LockfileKind::Uv);
        }
        if content.contains("content-hash") {
            return Some(LockfileKind::Poetry);
        }
        return Some(LockfileKind::Cargo);
    }
    python::looks_like_requirements(&head).then_some(LockfileKind::Requirements)
}

/// Reads a lockfile: every package it pins, with source and digests.
pub fn read_lockfile(file_name: &str, content: &str) -> Result<Lockfile, LockfileError> {
    if content.len() > MAX_LOCKFILE_BYTES {
        return Err(LockfileError::TooLarge(content.len()));
    }
    let kind = LockfileKind::detect(file_name, content)?;
    let packages = match kind {
        LockfileKind::Cargo => toml_locks::parse_cargo(content)?,
        LockfileKind::Uv => toml_locks::parse_uv(content)?,
        LockfileKind::Poetry => toml_locks::parse_poetry(content)?,
        LockfileKind::Npm => js::parse_npm(content)?,
        LockfileKind::Pnpm => js::parse_pnpm(content)?,
        LockfileKind::Yarn => js::parse_yarn(content)?,
        LockfileKind::Requirements => python::parse_requirements(content)?,
    };
    Ok(Lockfile {
        kind,
        packages: merge_duplicates(packages),
    })
}

/// Sorts and merges entries of one package version from one source (npm installs a version
/// at several paths, some of them bundled without digests; pnpm lists one per peer set):
/// one entry each, with the union of their digests.
fn merge_duplicates(mut packages: Vec<LockedPackage>) -> Vec<LockedPackage> {
    packages.sort();
    let mut out: Vec<LockedPackage> = Vec::with_capacity(packages.len());
    for p in packages {
        match out.last_mut() {
            Some(last)
                if last.package == p.package
                    && last.version == p.version
                    && last.source == p.source =>
            {
                last.digests.extend(p.digests);
                last.digests.sort();
                last.digests.dedup();
            }
            _ => out.push(p),
        }
    }
    out
}

/// Reads the registry packages of a lockfile, sorted and without duplicates (git, path, URL
/// and patched entries are left out: see [`read_lockfile`] for them).
pub fn parse_lockfile(file_name: &str, content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let lockfile = read_lockfile(file_name, content)?;
    Ok(lockfile
        .packages
        .into_iter()
        .filter(|p| p.source.is_registry())
        .collect())
}

/// The distinct packages (purls without version) in a list.
pub fn distinct_packages(locked: &[LockedPackage]) -> BTreeSet<&str> {
    locked.iter().map(|p| p.package.as_str()).collect()
}

/// Builds a [`LockedPackage`] in `kind`'s ecosystem: canonical name and, for registry
/// entries, canonical version; digests sorted without duplicates.
fn locked(
    kind: LockfileKind,
    name: &str,
    version: &str,
    source: Source,
    mut digests: Vec<PinnedDigest>,
) -> Result<LockedPackage, LockfileError> {
    let ecosystem = kind.ecosystem();
    let package = ecosystem
        .package_purl(name)
        .map_err(|source| LockfileError::Name { kind, source })?;
    let version = if source.is_registry() {
        ecosystem.canonical_version(version)
    } else {
        version.to_owned()
    };
    digests.sort();
    digests.dedup();
    Ok(LockedPackage {
        package,
        version,
        source,
        digests,
    })
}

/// Tells a registry tarball URL (`<registry>/<name>/-/<file>.tgz`, the npm registry's layout,
/// which mirrors keep) from any other URL.
fn npm_source_of_url(url: &str) -> Source {
    let url = url.trim();
    if url.starts_with("git+")
        || url.starts_with("git:")
        || url.starts_with("github:")
        || url.contains("codeload.github.com")
    {
        let (repo, rev) = match url.rsplit_once('#') {
            Some((repo, rev)) => (repo, Some(rev.to_owned())),
            None => (url, None),
        };
        return Source::Git {
            url: repo.to_owned(),
            rev,
        };
    }
    if let Some(path) = url
        .strip_prefix("file:")
        .or_else(|| url.strip_prefix("link:"))
    {
        return Source::Path {
            path: path.to_owned(),
        };
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        if url.contains("/-/") {
            return Source::Registry;
        }
        return Source::Url {
            url: url.to_owned(),
        };
    }
    Source::Path {
        path: url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
