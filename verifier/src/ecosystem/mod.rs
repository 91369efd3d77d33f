//! Package ecosystems: one canonical name per package and each ecosystem's version order.
//!
//! Every place where a package name or version enters Quorum goes through here: the statement
//! validator ([`crate::model::statement::parse_purl`], which the log server's index and
//! lookups, the mirror and the decisions all use for a subject's package), and the lockfile
//! readers ([`crate::lockfile`]). Two spellings of one package therefore meet under one key:
//! `pkg:pypi/zope.interface`, `pkg:pypi/Zope_Interface` and the `zope-interface` of a
//! requirements file are all `pkg:pypi/zope-interface`.
//!
//! | ecosystem | purl type | canonical name | versions and ranges |
//! |---|---|---|---|
//! | [`Ecosystem::Cargo`] | `cargo` | ASCII-lowercase, `_` → `-` (crates.io treats names that differ only so as one crate) | SemVer 2.0 ([`semver`]); ranges are Cargo requirements (`^1.2`, `>=1, <1.5`) |
//! | [`Ecosystem::Npm`] | `npm` | lowercase scope and name (the purl spec; npm forbids upper case in new names); the scope is the purl namespace (`pkg:npm/%40types/node`) | node-semver ([`nodejs_semver`]); ranges are npm's grammar (`^1.2.3 \|\| >=2.0.0-0`) |
//! | [`Ecosystem::PyPi`] | `pypi` | PEP 503: lowercase, runs of `-`, `_`, `.` → one `-` | PEP 440 ([`pep440_rs`]); ranges are PEP 440 specifier sets (`>=1.0,!=1.3.*`) |
//!
//! Other purl types keep the purl specification's canonical form (as the `packageurl` crate
//! writes it) and have no version order here.
//!
//! # How decisions call it
//!
//! ```
//! use quorum_verifier::ecosystem::{self, Span, VersionRange};
//!
//! // An advisory that names 1.39.0 as the fix of tokio affects the versions before it.
//! let tokio = ecosystem::for_purl("pkg:cargo/tokio@2.0.0")?;
//! let affected = [VersionRange::Span(Span::before(tokio, "1.39.0")?)];
//! assert!(!tokio.version_in_ranges("2.0.0", &affected)?);
//! assert!(tokio.version_in_ranges("1.38.1", &affected)?);
//!
//! // An ownership change with 1.40.0: that version and every later one.
//! let changed = [VersionRange::Span(Span::from_version(tokio, "1.40.0")?)];
//! assert!(tokio.version_in_ranges("1.41.0", &changed)?);
//!
//! // The ecosystem's own range syntax, as its package manager reads it.
//! let npm = ecosystem::for_purl("pkg:npm/left-pad")?;
//! let range = npm.parse_range("^1.2.0 || >=3.0.0")?;
//! assert!(npm.version_in_ranges("1.3.0", &[range])?);
//!
//! // Adoption counted per release line: 1.4.2 and 1.9.0 are one line, 2.0.0 another.
//! assert_eq!(tokio.release_line("1.4.2")?, tokio.release_line("1.9.0")?);
//! # Ok::<(), quorum_verifier::ecosystem::EcosystemError>(())
//! ```
//!
//! A version that does not parse in its ecosystem is an [`EcosystemError`]: a caller that
//! decides a veto (an advisory's affected range) must treat the error as "affected" (fail
//! closed), a caller that grants (a fix bypass, adoption counted for a line) as "not met".
//!
//! Two kinds of range, because they answer two questions:
//!
//! * [`VersionRange::Span`]: an interval in the ecosystem's total version order, with an
//!   inclusive `introduced`, an exclusive `fixed` and an inclusive `last_affected` bound (the
//!   OSV model). Pre-releases are ordered like every other version: `1.39.0-rc.1` is before
//!   the fix `1.39.0`, so it is affected. Advisories and ownership changes use spans.
//! * the native ranges ([`VersionRange::Cargo`], [`VersionRange::Npm`],
//!   [`VersionRange::PyPi`]): what the package manager would select for that requirement,
//!   pre-release rules included (Cargo and npm select a pre-release only when a comparator
//!   names one of the same version; PEP 440 specifier sets are evaluated as written).

mod name;
mod version;

pub use name::{MAX_NAME_LEN, canonical_package_pattern};
pub use version::{MAX_RANGE_LEN, MAX_VERSION_LEN, OsvEvent, Span, Version, VersionRange};

use thiserror::Error;

/// A package ecosystem Quorum knows the names and version order of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    /// Rust crates (crates.io), purl type `cargo`.
    Cargo,
    /// npm packages (the npm registry; also read from pnpm and yarn lockfiles), purl type `npm`.
    Npm,
    /// Python packages (PyPI), purl type `pypi`.
    PyPi,
}

/// Errors about names, versions and ranges.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EcosystemError {
    /// The purl's type is not one Quorum knows the version order of.
    #[error("no version order for purl type `{0}` (known: cargo, npm, pypi)")]
    UnknownType(String),
    /// The text is not a purl (`pkg:<type>/...`).
    #[error("`{0}` is not a package URL")]
    NotPurl(String),
    /// A package name that is not valid in its ecosystem.
    #[error("`{name}` is not a valid {ecosystem} package name: {reason}")]
    BadName {
        /// The ecosystem.
        ecosystem: Ecosystem,
        /// The name, shortened.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A version that does not parse in its ecosystem.
    #[error("`{version}` is not a valid {ecosystem} version{detail}")]
    BadVersion {
        /// The ecosystem.
        ecosystem: Ecosystem,
        /// The version, shortened.
        version: String,
        /// The parser's words, if any (starting with `: `).
        detail: String,
    },
    /// A range that does not parse in its ecosystem's grammar.
    #[error("`{range}` is not a valid {ecosystem} version range{detail}")]
    BadRange {
        /// The ecosystem.
        ecosystem: Ecosystem,
        /// The range, shortened.
        range: String,
        /// The parser's words, if any (starting with `: `).
        detail: String,
    },
    /// A range or version of one ecosystem used with another.
    #[error("a {found} version or range cannot be compared with {expected} versions")]
    WrongEcosystem {
        /// The ecosystem asked.
        expected: Ecosystem,
        /// The ecosystem of the value given.
        found: Ecosystem,
    },
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ecosystem::Cargo => "Cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPi => "PyPI",
        })
    }
}

/// Every ecosystem, in a fixed order.
pub const ALL: [Ecosystem; 3] = [Ecosystem::Cargo, Ecosystem::Npm, Ecosystem::PyPi];

impl Ecosystem {
    /// The ecosystem of a purl type (`cargo`, `npm`, `pypi`; ASCII case ignored, as purl
    /// types are case-insensitive).
    pub fn from_purl_type(purl_type: &str) -> Option<Ecosystem> {
        ALL.into_iter()
            .find(|e| e.purl_type().eq_ignore_ascii_case(purl_type))
    }

    /// The purl type, lowercase.
    pub const fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPi => "pypi",
        }
    }
}

/// The ecosystem of a purl (with or without version), from its type: the entry point for
/// decisions, e.g. `ecosystem::for_purl(purl)?.version_in_ranges(version, &ranges)`.
pub fn for_purl(purl: &str) -> Result<Ecosystem, EcosystemError> {
    let shorten = |s: &str| crate::model::dsse::truncate(s, 256);
    let rest = purl
        .strip_prefix("pkg:")
        .ok_or_else(|| EcosystemError::NotPurl(shorten(purl)))?;
    // The purl spec tolerates slashes after `pkg:`.
    let rest = rest.trim_start_matches('/');
    let purl_type = rest
        .split_once('/')
        .map(|(t, _)| t)
        .ok_or_else(|| EcosystemError::NotPurl(shorten(purl)))?;
    Ecosystem::from_purl_type(purl_type)
        .ok_or_else(|| EcosystemError::UnknownType(shorten(purl_type)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_types() {
        assert_eq!(for_purl("pkg:cargo/serde@1.0.0"), Ok(Ecosystem::Cargo));
        assert_eq!(for_purl("pkg:NPM/%40types/node"), Ok(Ecosystem::Npm));
        assert_eq!(for_purl("pkg://pypi/requests"), Ok(Ecosystem::PyPi));
        assert_eq!(
            for_purl("pkg:golang/x"),
            Err(EcosystemError::UnknownType("golang".into()))
        );
        assert!(matches!(
            for_purl("cargo/x"),
            Err(EcosystemError::NotPurl(_))
        ));
        assert!(matches!(
            for_purl("pkg:cargo"),
            Err(EcosystemError::NotPurl(_))
        ));
        for e in ALL {
            assert_eq!(Ecosystem::from_purl_type(e.purl_type()), Some(e));
        }
    }
}
