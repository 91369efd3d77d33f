//! Versions, their order and ranges, per ecosystem.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::{Ecosystem, EcosystemError};
use crate::model::dsse::truncate;

/// The longest version string accepted, in bytes (node-semver's own limit).
pub const MAX_VERSION_LEN: usize = 256;

/// The longest range string accepted, in bytes.
pub const MAX_RANGE_LEN: usize = 4096;

/// A version parsed by its ecosystem's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// SemVer 2.0, as Cargo reads it.
    Cargo(semver::Version),
    /// node-semver, as npm reads it.
    Npm(nodejs_semver::Version),
    /// PEP 440.
    PyPi(pep440_rs::Version),
}

impl Version {
    /// The ecosystem this version belongs to.
    pub fn ecosystem(&self) -> Ecosystem {
        match self {
            Version::Cargo(_) => Ecosystem::Cargo,
            Version::Npm(_) => Ecosystem::Npm,
            Version::PyPi(_) => Ecosystem::PyPi,
        }
    }

    /// Orders two versions of one ecosystem by precedence (SemVer build metadata is ignored,
    /// as SemVer requires; PEP 440 local versions order as PEP 440 says). Fails for versions
    /// of two ecosystems.
    pub fn compare(&self, other: &Version) -> Result<Ordering, EcosystemError> {
        match (self, other) {
            (Version::Cargo(a), Version::Cargo(b)) => Ok(a.cmp_precedence(b)),
            (Version::Npm(a), Version::Npm(b)) => Ok(a.cmp(b)),
            (Version::PyPi(a), Version::PyPi(b)) => Ok(a.cmp(b)),
            _ => Err(EcosystemError::WrongEcosystem {
                expected: self.ecosystem(),
                found: other.ecosystem(),
            }),
        }
    }
}

impl fmt::Display for Version {
    /// The ecosystem's normalized spelling (PEP 440's normal form for PyPI).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Cargo(v) => v.fmt(f),
            Version::Npm(v) => v.fmt(f),
            Version::PyPi(v) => v.fmt(f),
        }
    }
}

/// A set of versions of one ecosystem.
#[derive(Debug, Clone)]
pub enum VersionRange {
    /// A Cargo version requirement (`^1.2`, `>=1.0, <1.5`, `=1.2.3`, `*`), matched as Cargo
    /// matches it.
    Cargo(semver::VersionReq),
    /// An npm range (`^1.2.3`, `1.x || >=2.0.0 <3`, `1.2.3 - 1.4`), matched as npm matches it.
    Npm(nodejs_semver::Range),
    /// A PEP 440 specifier set (`>=1.0,!=1.3.*,<2`).
    PyPi(pep440_rs::VersionSpecifiers),
    /// An interval in the ecosystem's total order (the OSV model), pre-releases included.
    Span(Span),
}

impl VersionRange {
    /// The ecosystem of the range.
    pub fn ecosystem(&self) -> Ecosystem {
        match self {
            VersionRange::Cargo(_) => Ecosystem::Cargo,
            VersionRange::Npm(_) => Ecosystem::Npm,
            VersionRange::PyPi(_) => Ecosystem::PyPi,
            VersionRange::Span(s) => s.ecosystem,
        }
    }

    /// Whether `version` is in the range; fails when the two belong to different ecosystems.
    pub fn contains(&self, version: &Version) -> Result<bool, EcosystemError> {
        match (self, version) {
            (VersionRange::Cargo(r), Version::Cargo(v)) => Ok(r.matches(v)),
            (VersionRange::Npm(r), Version::Npm(v)) => Ok(r.satisfies(v)),
            (VersionRange::PyPi(r), Version::PyPi(v)) => Ok(r.contains(v)),
            (VersionRange::Span(s), v) => s.contains(v),
            _ => Err(EcosystemError::WrongEcosystem {
                expected: self.ecosystem(),
                found: version.ecosystem(),
            }),
        }
    }
}

/// An interval of versions in an ecosystem's order, as OSV describes affected versions:
/// from `introduced` (inclusive; absent = from the first version) up to `fixed` (exclusive)
/// and `last_affected` (inclusive); an absent upper bound means every later version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    ecosystem: Ecosystem,
    introduced: Option<Version>,
    fixed: Option<Version>,
    last_affected: Option<Version>,
}

impl Span {
    /// A span from version strings. `introduced` of `"0"` means "from the first version"
    /// (OSV's convention); with both `fixed` and `last_affected`, a version must be below
    /// the one and at most the other.
    pub fn new(
        ecosystem: Ecosystem,
        introduced: Option<&str>,
        fixed: Option<&str>,
        last_affected: Option<&str>,
    ) -> Result<Span, EcosystemError> {
        let parse = |v: Option<&str>| v.map(|v| ecosystem.parse_version(v)).transpose();
        Ok(Span {
            ecosystem,
            introduced: parse(introduced.filter(|v| *v != "0"))?,
            fixed: parse(fixed)?,
            last_affected: parse(last_affected)?,
        })
    }

    /// This version and every later one (an ownership change "from this release on").
    pub fn from_version(ecosystem: Ecosystem, version: &str) -> Result<Span, EcosystemError> {
        Span::new(ecosystem, Some(version), None, None)
    }

    /// Every version before `fixed` (an advisory whose fix is `fixed`).
    pub fn before(ecosystem: Ecosystem, fixed: &str) -> Result<Span, EcosystemError> {
        Span::new(ecosystem, None, Some(fixed), None)
    }

    /// The ecosystem.
    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Whether `version` lies in the span.
    pub fn contains(&self, version: &Version) -> Result<bool, EcosystemError> {
        if version.ecosystem() != self.ecosystem {
            return Err(EcosystemError::WrongEcosystem {
                expected: self.ecosystem,
                found: version.ecosystem(),
            });
        }
        if let Some(low) = &self.introduced
            && version.compare(low)? == Ordering::Less
        {
            return Ok(false);
        }
        if let Some(fixed) = &self.fixed
            && version.compare(fixed)? != Ordering::Less
        {
            return Ok(false);
        }
        if let Some(last) = &self.last_affected
            && version.compare(last)? == Ordering::Greater
        {
            return Ok(false);
        }
        Ok(true)
    }
}

impl Ecosystem {
    fn bad_version(self, version: &str, detail: String) -> EcosystemError {
        EcosystemError::BadVersion {
            ecosystem: self,
            version: truncate(version, 256),
            detail,
        }
    }

    /// Parses a version by the ecosystem's rules (at most [`MAX_VERSION_LEN`] bytes).
    pub fn parse_version(self, version: &str) -> Result<Version, EcosystemError> {
        if version.len() > MAX_VERSION_LEN {
            return Err(self.bad_version(version, ": too long".into()));
        }
        if version.trim() != version || version.is_empty() {
            return Err(self.bad_version(version, ": empty or padded with spaces".into()));
        }
        match self {
            Ecosystem::Cargo => semver::Version::parse(version)
                .map(Version::Cargo)
                .map_err(|e| self.bad_version(version, format!(": {e}"))),
            Ecosystem::Npm => {
                let parsed = nodejs_semver::Version::parse(version)
                    .map_err(|e| self.bad_version(version, format!(": {e}")))?;
                // node-semver's parser is loose (it reads `1.2.3.4` as 1.2.3); the registry
                // holds strict SemVer, so anything but a leading `v` or `=` must survive.
                if parsed.to_string() != version.trim_start_matches(['v', '=']) {
                    return Err(self.bad_version(version, ": not a strict SemVer version".into()));
                }
                Ok(Version::Npm(parsed))
            }
            Ecosystem::PyPi => pep440_rs::Version::from_str(version)
                .map(Version::PyPi)
                .map_err(|e| self.bad_version(version, format!(": {e}"))),
        }
    }

    /// The spelling of `version` that Quorum uses as a key: the ecosystem's normal form when
    /// it parses (`1.0RC1` → `1.0rc1` for PyPI, `v1.2.3` → `1.2.3` for npm), otherwise the
    /// text as given (it can then only ever equal itself).
    pub fn canonical_version(self, version: &str) -> String {
        match self.parse_version(version) {
            Ok(v) => v.to_string(),
            Err(_) => version.to_owned(),
        }
    }

    /// Orders two version strings of this ecosystem.
    pub fn compare_versions(self, a: &str, b: &str) -> Result<Ordering, EcosystemError> {
        self.parse_version(a)?.compare(&self.parse_version(b)?)
    }

    /// Parses a range in the ecosystem's own grammar: a Cargo requirement, an npm range or
    /// a PEP 440 specifier set (at most [`MAX_RANGE_LEN`] bytes).
    pub fn parse_range(self, range: &str) -> Result<VersionRange, EcosystemError> {
        let bad = |detail: String| EcosystemError::BadRange {
            ecosystem: self,
            range: truncate(range, 256),
            detail,
        };
        if range.len() > MAX_RANGE_LEN {
            return Err(bad(": too long".into()));
        }
        match self {
            Ecosystem::Cargo => semver::VersionReq::parse(range)
                .map(VersionRange::Cargo)
                .map_err(|e| bad(format!(": {e}"))),
            Ecosystem::Npm => nodejs_semver::Range::parse(range)
                .map(VersionRange::Npm)
                .map_err(|e| bad(format!(": {e}"))),
            Ecosystem::PyPi => pep440_rs::VersionSpecifiers::from_str(range)
                .map(VersionRange::PyPi)
                .map_err(|e| bad(format!(": {e}"))),
        }
    }

    /// Whether `version` lies in any of `ranges` (false for no ranges). Fails if the version
    /// does not parse or a range belongs to another ecosystem; see the module documentation
    /// for which way a caller must fail.
    pub fn version_in_ranges(
        self,
        version: &str,
        ranges: &[VersionRange],
    ) -> Result<bool, EcosystemError> {
        let version = self.parse_version(version)?;
        for range in ranges {
            if range.ecosystem() != self {
                return Err(EcosystemError::WrongEcosystem {
                    expected: self,
                    found: range.ecosystem(),
                });
            }
            if range.contains(&version)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The release line of a version, for counting adoption per line: versions of one line
    /// are meant to be drop-in replacements of each other.
    ///
    /// * Cargo and npm: the caret-compatible line, as `^` reads it: `1.4.2` → `1`,
    ///   `0.3.7` → `0.3`, `0.0.5` → `0.0.5`.
    /// * PyPI: the epoch and first release number (`2.31.0` → `2`, `1!2.0` → `1!2`). PEP 440
    ///   has no compatibility rule of its own; this is the line `~=2.0` selects.
    pub fn release_line(self, version: &str) -> Result<String, EcosystemError> {
        let caret = |major: u64, minor: u64, patch: u64| match (major, minor) {
            (0, 0) => format!("0.0.{patch}"),
            (0, minor) => format!("0.{minor}"),
            (major, _) => major.to_string(),
        };
        Ok(match self.parse_version(version)? {
            Version::Cargo(v) => caret(v.major, v.minor, v.patch),
            Version::Npm(v) => caret(v.major(), v.minor(), v.patch()),
            Version::PyPi(v) => {
                let first = v.release().first().copied().unwrap_or(0);
                match v.epoch() {
                    0 => first.to_string(),
                    epoch => format!("{epoch}!{first}"),
                }
            }
        })
    }
}

/// One event of an OSV range, as OSV writes it (`"0"` as `introduced` means the first
/// version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsvEvent<'a> {
    /// Versions from this one on are affected.
    Introduced(&'a str),
    /// Versions from this one on are not affected.
    Fixed(&'a str),
    /// Versions after this one are not affected.
    LastAffected(&'a str),
    /// An upper limit on where to look; ignored here, which can only widen the range (an
    /// advisory covers at least what it says).
    Limit(&'a str),
}

impl Ecosystem {
    /// Whether `version` lies in the OSV range given by `events`, evaluated as OSV's schema
    /// describes: the events sorted in the ecosystem's version order (`introduced: "0"`
    /// first), then walked, each `introduced` at or below the version marking it affected and
    /// each `fixed` at or below it (or `last_affected` below it) marking it unaffected.
    ///
    /// Fails when the version or an event's version does not parse: a caller deciding a veto
    /// treats that as affected (fail closed).
    pub fn version_in_osv_events(
        self,
        version: &str,
        events: &[OsvEvent<'_>],
    ) -> Result<bool, EcosystemError> {
        let version = self.parse_version(version)?;
        // (bound, kind): kind 0 introduced, 1 fixed, 2 last_affected; `None` bound = "0".
        let mut parsed: Vec<(Option<Version>, u8)> = Vec::with_capacity(events.len());
        for event in events {
            match *event {
                OsvEvent::Introduced("0") => parsed.push((None, 0)),
                OsvEvent::Introduced(v) => parsed.push((Some(self.parse_version(v)?), 0)),
                OsvEvent::Fixed(v) => parsed.push((Some(self.parse_version(v)?), 1)),
                OsvEvent::LastAffected(v) => parsed.push((Some(self.parse_version(v)?), 2)),
                OsvEvent::Limit(_) => {}
            }
        }
        // Versions of one ecosystem always compare; `Equal` on the impossible error keeps
        // the sort total.
        parsed.sort_by(|(a, _), (b, _)| match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.compare(b).unwrap_or(Ordering::Equal),
        });
        let mut affected = false;
        for (bound, kind) in &parsed {
            let order = match bound {
                None => Ordering::Greater,
                Some(b) => version.compare(b)?,
            };
            match kind {
                0 if order != Ordering::Less => affected = true,
                1 if order != Ordering::Less => affected = false,
                2 if order == Ordering::Greater => affected = false,
                _ => {}
            }
        }
        Ok(affected)
    }

    /// Whether `version` is fixed by one of `fixes`, the fix versions an advisory names
    /// without ranges (OpenVEX `fixed`): it is at or above the highest fix, or at or above a
    /// fix of its own patch series (same major and minor for SemVer; same release numbers
    /// but the last, with at least three, for PEP 440), so that a fix back-ported to 1.38.2
    /// fixes 1.38.5 but not 1.39.0 when 1.39.1 is the later fix. No fixes: never fixed.
    ///
    /// Fails when a version does not parse; a caller deciding a veto treats that as not
    /// fixed (fail closed).
    pub fn is_fixed_by(self, version: &str, fixes: &[&str]) -> Result<bool, EcosystemError> {
        let version = self.parse_version(version)?;
        let fixes: Vec<Version> = fixes
            .iter()
            .map(|f| self.parse_version(f))
            .collect::<Result<_, _>>()?;
        let mut highest: Option<&Version> = None;
        for fix in &fixes {
            if highest.is_none_or(|h| fix.compare(h).is_ok_and(|o| o == Ordering::Greater)) {
                highest = Some(fix);
            }
        }
        let Some(highest) = highest else {
            return Ok(false);
        };
        if version.compare(highest)? != Ordering::Less {
            return Ok(true);
        }
        for fix in &fixes {
            if version.compare(fix)? != Ordering::Less
                && patch_series(&version) == patch_series(fix)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The series of releases that differ only in their last number: (major, minor) for SemVer,
/// the epoch and release numbers but the last (padded to three) for PEP 440.
fn patch_series(version: &Version) -> (u64, Vec<u64>) {
    match version {
        Version::Cargo(v) => (0, vec![v.major, v.minor]),
        Version::Npm(v) => (0, vec![v.major(), v.minor()]),
        Version::PyPi(v) => {
            let mut release = v.release().to_vec();
            if release.len() < 3 {
                release.resize(3, 0);
            }
            release.pop();
            (v.epoch(), release)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(e: Ecosystem, v: &str, ranges: &[&str]) -> bool {
        let ranges: Vec<VersionRange> = ranges
            .iter()
            .map(|r| e.parse_range(r).unwrap_or_else(|err| panic!("{r}: {err}")))
            .collect();
        e.version_in_ranges(v, &ranges)
            .unwrap_or_else(|err| panic!("{v}: {err}"))
    }

    #[test]
    fn cargo_semver_order_and_requirements() {
        let c = Ecosystem::Cargo;
        assert_eq!(c.compare_versions("1.39.0", "2.0.0"), Ok(Ordering::Less));
        assert_eq!(c.compare_versions("1.10.0", "1.9.0"), Ok(Ordering::Greater));
        assert_eq!(
            c.compare_versions("1.0.0-alpha", "1.0.0-alpha.1"),
            Ok(Ordering::Less)
        );
        assert_eq!(
            c.compare_versions("1.0.0-alpha.beta", "1.0.0-beta"),
            Ok(Ordering::Less)
        );
        assert_eq!(
            c.compare_versions("1.0.0-rc.1", "1.0.0"),
            Ok(Ordering::Less)
        );
        // Build metadata does not order.
        assert_eq!(
            c.compare_versions("1.0.0+a", "1.0.0+b"),
            Ok(Ordering::Equal)
        );
        assert!(in_ranges(c, "1.5.2", &["^1.2"]));
        assert!(!in_ranges(c, "2.0.0", &["^1.2"]));
        assert!(in_ranges(c, "0.3.9", &["^0.3.1"]));
        assert!(!in_ranges(c, "0.4.0", &["^0.3.1"]));
        assert!(in_ranges(c, "1.4.0", &[">=1.0, <1.5"]));
        assert!(!in_ranges(c, "1.5.0", &[">=1.0, <1.5"]));
        assert!(in_ranges(c, "3.0.0", &["<1", ">=3"]));
        // Cargo's pre-release rule: a requirement selects a pre-release only if it names one.
        assert!(!in_ranges(c, "1.5.0-beta.1", &[">=1.0"]));
        assert!(in_ranges(c, "1.5.0-beta.2", &[">=1.5.0-beta.1"]));
        assert!(c.parse_version("1.0").is_err());
        assert!(c.parse_version("01.0.0").is_err());
        assert!(c.parse_range(">>1").is_err());
        assert_eq!(c.canonical_version("1.0.0"), "1.0.0");
        assert_eq!(c.canonical_version("not a version"), "not a version");
    }

    #[test]
    fn npm_ranges() {
        let n = Ecosystem::Npm;
        assert!(in_ranges(n, "1.3.0", &["^1.2.0 || >=3.0.0"]));
        assert!(in_ranges(n, "3.1.0", &["^1.2.0 || >=3.0.0"]));
        assert!(!in_ranges(n, "2.0.0", &["^1.2.0 || >=3.0.0"]));
        assert!(in_ranges(n, "1.2.9", &["~1.2.3"]));
        assert!(!in_ranges(n, "1.3.0", &["~1.2.3"]));
        assert!(in_ranges(n, "1.4.0", &["1.2.3 - 1.4"]));
        assert!(!in_ranges(n, "1.5.0", &["1.2.3 - 1.4"]));
        assert!(in_ranges(n, "1.9.9", &["1.x"]));
        assert!(in_ranges(n, "0.2.5", &["^0.2.3"]));
        assert!(!in_ranges(n, "0.3.0", &["^0.2.3"]));
        // npm's pre-release rule.
        assert!(!in_ranges(n, "2.0.0-rc.1", &[">=1.0.0"]));
        assert!(in_ranges(n, "2.0.0-rc.2", &[">=2.0.0-rc.1"]));
        assert_eq!(n.canonical_version("v1.2.3"), "1.2.3");
        assert_eq!(
            n.compare_versions("1.0.0-2", "1.0.0-10"),
            Ok(Ordering::Less)
        );
        assert_eq!(
            n.compare_versions("1.0.0-alpha.9", "1.0.0-alpha.10"),
            Ok(Ordering::Less)
        );
        assert!(n.parse_version("1.2.3.4").is_err());
        assert!(n.parse_range("^^^").is_err());
    }

    #[test]
    fn pypi_pep440() {
        let p = Ecosystem::PyPi;
        assert_eq!(p.compare_versions("1.0", "1.0.0"), Ok(Ordering::Equal));
        assert_eq!(p.compare_versions("1.0rc1", "1.0"), Ok(Ordering::Less));
        assert_eq!(p.compare_versions("1.0.dev1", "1.0a1"), Ok(Ordering::Less));
        assert_eq!(
            p.compare_versions("1.0.post1", "1.0"),
            Ok(Ordering::Greater)
        );
        assert_eq!(p.compare_versions("1!0.1", "2.0"), Ok(Ordering::Greater));
        assert_eq!(p.compare_versions("1.10", "1.9"), Ok(Ordering::Greater));
        assert_eq!(p.canonical_version("1.0RC1"), "1.0rc1");
        assert_eq!(p.canonical_version("v1.0-post2"), "1.0.post2");
        assert!(in_ranges(p, "1.4", &[">=1.0,!=1.3.*,<2"]));
        assert!(!in_ranges(p, "1.3.5", &[">=1.0,!=1.3.*,<2"]));
        assert!(in_ranges(p, "2.31.0", &["~=2.28"]));
        assert!(!in_ranges(p, "3.0", &["~=2.28"]));
        assert!(in_ranges(p, "6.0", &["==6.0.0"]));
        assert!(p.parse_version("1.0-foo-bar").is_err());
        assert!(p.parse_range(">=>1").is_err());
    }

    #[test]
    fn spans_follow_the_total_order() {
        let c = Ecosystem::Cargo;
        // The reported defect: a fix at 1.39.0 must leave 2.0.0 unaffected.
        let before_fix = [VersionRange::Span(Span::before(c, "1.39.0").unwrap())];
        assert_eq!(c.version_in_ranges("2.0.0", &before_fix), Ok(false));
        assert_eq!(c.version_in_ranges("1.39.0", &before_fix), Ok(false));
        assert_eq!(c.version_in_ranges("1.38.9", &before_fix), Ok(true));
        // Unlike a requirement, a span orders pre-releases like every other version.
        assert_eq!(c.version_in_ranges("1.39.0-rc.1", &before_fix), Ok(true));
        let from = [VersionRange::Span(Span::from_version(c, "1.40.0").unwrap())];
        assert_eq!(c.version_in_ranges("1.40.0", &from), Ok(true));
        assert_eq!(c.version_in_ranges("3.0.0", &from), Ok(true));
        assert_eq!(c.version_in_ranges("1.39.9", &from), Ok(false));
        // OSV: introduced 0 and a last_affected bound; two ranges for two release lines.
        let p = Ecosystem::PyPi;
        let ranges = [
            VersionRange::Span(Span::new(p, Some("0"), Some("1.2.5"), None).unwrap()),
            VersionRange::Span(Span::new(p, Some("2.0"), None, Some("2.0.3")).unwrap()),
        ];
        for (v, affected) in [
            ("0.1", true),
            ("1.2.4", true),
            ("1.2.5", false),
            ("1.9", false),
            ("2.0.0", true),
            ("2.0.3", true),
            ("2.0.3.post1", false),
            ("2.1", false),
        ] {
            assert_eq!(p.version_in_ranges(v, &ranges), Ok(affected), "{v}");
        }
        assert_eq!(p.version_in_ranges("1.0", &[]), Ok(false));
    }

    #[test]
    fn errors_never_match_silently() {
        let c = Ecosystem::Cargo;
        let npm_range = Ecosystem::Npm.parse_range("^1").unwrap();
        assert!(matches!(
            c.version_in_ranges("1.0.0", &[npm_range]),
            Err(EcosystemError::WrongEcosystem { .. })
        ));
        let span = [VersionRange::Span(Span::before(c, "1.0.0").unwrap())];
        assert!(matches!(
            c.version_in_ranges("one", &span),
            Err(EcosystemError::BadVersion { .. })
        ));
        assert!(Span::before(c, "x").is_err());
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        for e in super::super::ALL {
            assert!(e.parse_version(&long).is_err());
            assert!(e.parse_version(" 1.0.0").is_err());
            assert!(e.parse_version("").is_err());
            assert!(e.parse_range(&"1".repeat(MAX_RANGE_LEN + 1)).is_err());
        }
        let mixed = Version::Cargo(semver::Version::new(1, 0, 0));
        assert!(
            Ecosystem::Npm
                .parse_version("1.0.0")
                .unwrap()
                .compare(&mixed)
                .is_err()
        );
    }

    #[test]
    fn osv_events_in_version_order() {
        use OsvEvent::*;
        let c = Ecosystem::Cargo;
        // RUSTSEC-2021-0135's shape: two affected spans, events written out of order here.
        let events = [
            Fixed("0.2.1"),
            Introduced("0"),
            Introduced("0.2.0"),
            Fixed("0.1.3"),
        ];
        for (v, affected) in [
            ("0.1.0", true),
            ("0.1.3", false),
            ("0.1.9", false),
            ("0.2.0", true),
            ("0.2.1", false),
            ("2.0.0", false),
        ] {
            assert_eq!(c.version_in_osv_events(v, &events), Ok(affected), "{v}");
        }
        let last = [Introduced("1.0.0"), LastAffected("1.2.0"), Limit("1.1.0")];
        assert_eq!(c.version_in_osv_events("1.2.0", &last), Ok(true));
        assert_eq!(c.version_in_osv_events("1.2.1", &last), Ok(false));
        assert_eq!(c.version_in_osv_events("0.9.0", &last), Ok(false));
        assert!(c.version_in_osv_events("x", &last).is_err());
        assert!(c.version_in_osv_events("1.0.0", &[Fixed("nope")]).is_err());
        let p = Ecosystem::PyPi;
        let events = [Introduced("0"), Fixed("2.0")];
        assert_eq!(p.version_in_osv_events("1.10", &events), Ok(true));
        assert_eq!(p.version_in_osv_events("2.0.0", &events), Ok(false));
    }

    #[test]
    fn fixes_by_version_order_and_series() {
        let c = Ecosystem::Cargo;
        // The reported defect: `--fixed 1.39.0` must leave 2.0.0 alone.
        for (v, fixed) in [
            ("2.0.0", true),
            ("1.39.0", true),
            ("1.40.3", true),
            ("1.38.9", false),
            ("1.39.0-rc.1", false),
        ] {
            assert_eq!(c.is_fixed_by(v, &["1.39.0"]), Ok(fixed), "{v}");
        }
        // A back-port: 1.38.2 fixes its own series only.
        let fixes = ["1.38.2", "1.39.1"];
        for (v, fixed) in [
            ("1.38.5", true),
            ("1.38.1", false),
            ("1.39.0", false),
            ("1.39.1", true),
        ] {
            assert_eq!(c.is_fixed_by(v, &fixes), Ok(fixed), "{v}");
        }
        assert_eq!(c.is_fixed_by("1.0.0", &[]), Ok(false));
        assert!(c.is_fixed_by("1.0.0", &["bad"]).is_err());
        let p = Ecosystem::PyPi;
        assert_eq!(p.is_fixed_by("2.31", &["2.31.0"]), Ok(true));
        assert_eq!(p.is_fixed_by("2.30.5", &["2.30.2", "2.31.0"]), Ok(true));
        assert_eq!(p.is_fixed_by("2.29.9", &["2.30.2", "2.31.0"]), Ok(false));
    }

    #[test]
    fn release_lines() {
        let c = Ecosystem::Cargo;
        assert_eq!(c.release_line("1.4.2").as_deref(), Ok("1"));
        assert_eq!(c.release_line("0.3.7").as_deref(), Ok("0.3"));
        assert_eq!(c.release_line("0.0.5").as_deref(), Ok("0.0.5"));
        assert_eq!(
            Ecosystem::Npm.release_line("2.0.0-rc.1").as_deref(),
            Ok("2")
        );
        let p = Ecosystem::PyPi;
        assert_eq!(p.release_line("2.31.0").as_deref(), Ok("2"));
        assert_eq!(p.release_line("1!2.0").as_deref(), Ok("1!2"));
        assert_eq!(p.release_line("2024.1.post1").as_deref(), Ok("2024"));
        assert!(c.release_line("x").is_err());
    }
}
