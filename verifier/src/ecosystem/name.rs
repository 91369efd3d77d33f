//! Package names: validity and the one canonical spelling per ecosystem.

use packageurl::PackageUrl;

use super::{Ecosystem, EcosystemError};
use crate::model::dsse::truncate;

/// The longest registry name accepted, in bytes (npm's limit, the largest of the three).
pub const MAX_NAME_LEN: usize = 214;

/// crates.io's limit on a crate name.
const MAX_CARGO_NAME_LEN: usize = 64;

impl Ecosystem {
    /// The canonical spelling of a package name as its package manager writes it (npm:
    /// `@scope/name` or `name`), after checking that it is a valid name there.
    ///
    /// * Cargo: ASCII letters, digits, `-`, `_` (and `.`), at most 64 bytes; lowercased, `_` → `-`
    ///   (crates.io refuses a crate whose name differs from an existing one only in case or
    ///   in `-` versus `_`, so the folded name still names exactly one crate).
    /// * npm: `name` or `@scope/name`, each part non-empty and made of URL-safe characters
    ///   (`A-Z a-z 0-9 - . _ ~ ! * ' ( )`), at most 214 bytes; lowercased (the purl spec; npm
    ///   forbids upper case in new names).
    /// * PyPI: a PEP 508 name (letters, digits, `-`, `_`, `.`, starting and ending with a
    ///   letter or digit); PEP 503 normalized: lowercase, each run of `-`, `_`, `.` → `-`.
    pub fn canonical_name(self, name: &str) -> Result<String, EcosystemError> {
        let bad = |reason: &'static str| EcosystemError::BadName {
            ecosystem: self,
            name: truncate(name, 256),
            reason,
        };
        if name.is_empty() {
            return Err(bad("empty"));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(bad("too long"));
        }
        match self {
            Ecosystem::Cargo => {
                if name.len() > MAX_CARGO_NAME_LEN {
                    return Err(bad("longer than 64 bytes"));
                }
                // crates.io allows letters, digits, `-` and `_`; `.` is accepted too because
                // real audit sets name such crates (Google's audits one called `0.7.11`), and a
                // name no registry holds only ever matches itself.
                if !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                {
                    return Err(bad(
                        "only ASCII letters, digits, `-`, `_` and `.` are allowed",
                    ));
                }
                Ok(self.fold(name))
            }
            Ecosystem::Npm => {
                let (scope, bare) = match name.strip_prefix('@') {
                    Some(rest) => {
                        let (scope, bare) = rest
                            .split_once('/')
                            .ok_or_else(|| bad("a scoped name is `@scope/name`"))?;
                        (Some(scope), bare)
                    }
                    None => (None, name),
                };
                let url_safe = |part: &str| {
                    !part.is_empty()
                        && part.bytes().all(|b| {
                            b.is_ascii_alphanumeric()
                                || matches!(
                                    b,
                                    b'-' | b'.' | b'_' | b'~' | b'!' | b'*' | b'\'' | b'(' | b')'
                                )
                        })
                };
                if !url_safe(bare) || scope.is_some_and(|s| !url_safe(s)) {
                    return Err(bad(
                        "the scope and the name must be non-empty and URL-safe (no `/` inside)",
                    ));
                }
                Ok(self.fold(name))
            }
            Ecosystem::PyPi => {
                let bytes = name.as_bytes();
                let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
                if !edge_ok(bytes.first()) || !edge_ok(bytes.last()) {
                    return Err(bad("must start and end with a letter or digit (PEP 508)"));
                }
                if !bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                {
                    return Err(bad("only letters, digits, `-`, `_` and `.` (PEP 508)"));
                }
                Ok(self.fold(name))
            }
        }
    }

    /// The ecosystem's folding of a name's spelling, without validation: ASCII lowercase;
    /// Cargo: `_` → `-`; PyPI: each run of `-`, `_`, `.` → one `-`. Other characters (a
    /// pattern's `*`) are kept.
    fn fold(self, name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        match self {
            Ecosystem::Cargo => lower.replace('_', "-"),
            Ecosystem::Npm => lower,
            Ecosystem::PyPi => {
                let mut out = String::with_capacity(lower.len());
                let mut in_separator_run = false;
                for c in lower.chars() {
                    let separator = matches!(c, '-' | '_' | '.');
                    if !(separator && in_separator_run) {
                        out.push(if separator { '-' } else { c });
                    }
                    in_separator_run = separator;
                }
                out
            }
        }
    }

    /// The canonical purl without version of a package named as its package manager writes
    /// it, e.g. `@types/node` → `pkg:npm/%40types/node`, `Zope.Interface` →
    /// `pkg:pypi/zope-interface`, `serde_json` → `pkg:cargo/serde-json`.
    pub fn package_purl(self, name: &str) -> Result<String, EcosystemError> {
        let canonical = self.canonical_name(name)?;
        let (namespace, bare) = self.split_registry_name(&canonical);
        self.render_purl(namespace, bare)
    }

    /// The purl's namespace and name for a canonical registry name (npm scopes become the
    /// namespace, `@` included, as the purl spec writes them).
    fn split_registry_name(self, canonical: &str) -> (Option<&str>, &str) {
        match self {
            Ecosystem::Npm if canonical.starts_with('@') => match canonical.split_once('/') {
                Some((scope, bare)) => (Some(scope), bare),
                None => (None, canonical),
            },
            _ => (None, canonical),
        }
    }

    /// Writes a purl without version through `packageurl`, the one purl encoder.
    fn render_purl(self, namespace: Option<&str>, name: &str) -> Result<String, EcosystemError> {
        let bad = |_| EcosystemError::BadName {
            ecosystem: self,
            name: truncate(name, 256),
            reason: "not representable as a purl",
        };
        let mut purl = PackageUrl::new(self.purl_type(), name).map_err(bad)?;
        if let Some(ns) = namespace {
            purl.with_namespace(ns).map_err(bad)?;
        }
        Ok(purl.to_string())
    }

    /// The package manager's spelling of a purl's namespace and name (npm: `@scope/name`),
    /// canonicalized; fails for a namespace where the ecosystem has none.
    pub(crate) fn canonical_purl_parts(
        self,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Option<String>, String), EcosystemError> {
        let registry_name = match (self, namespace) {
            (_, None) => name.to_owned(),
            (Ecosystem::Npm, Some(scope)) => {
                let scope = scope.strip_prefix('@').unwrap_or(scope);
                format!("@{scope}/{name}")
            }
            (_, Some(_)) => {
                return Err(EcosystemError::BadName {
                    ecosystem: self,
                    name: truncate(name, 256),
                    reason: "this purl type has no namespace",
                });
            }
        };
        let canonical = self.canonical_name(&registry_name)?;
        let (ns, bare) = self.split_registry_name(&canonical);
        Ok((ns.map(str::to_owned), bare.to_owned()))
    }
}

/// The canonical spelling of a policy's `packages` pattern: a purl without version in which
/// `*` matches any run of characters. The name part is folded as [`Ecosystem::canonical_name`]
/// folds names (case; Cargo's `_`; PyPI's separator runs; npm's `@` scope written `%40`, as
/// the purl is), keeping every `*`, so a pattern spelled as the package manager spells a name
/// matches the canonical purls decisions see: `pkg:cargo/serde_json` → `pkg:cargo/serde-json`,
/// `pkg:pypi/Zope.*` → `pkg:pypi/zope-*`, `pkg:npm/@Types/*` → `pkg:npm/%40types/*`. A pattern
/// that is not a purl, or whose type is `*` or not one Quorum knows, is returned as written.
pub fn canonical_package_pattern(pattern: &str) -> String {
    let Some((purl_type, name)) = pattern
        .strip_prefix("pkg:")
        .and_then(|rest| rest.split_once('/'))
    else {
        return pattern.to_owned();
    };
    let Some(ecosystem) = Ecosystem::from_purl_type(purl_type) else {
        return pattern.to_owned();
    };
    let folded = ecosystem.fold(name);
    // npm's scope is the purl's namespace, written `%40scope`.
    let folded = match folded.strip_prefix('@') {
        Some(scoped) if ecosystem == Ecosystem::Npm => format!("%40{scoped}"),
        _ => folded,
    };
    format!("pkg:{}/{folded}", ecosystem.purl_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_patterns_fold_like_names() {
        for (given, want) in [
            ("pkg:cargo/Serde_JSON", "pkg:cargo/serde-json"),
            ("pkg:cargo/tokio_*", "pkg:cargo/tokio-*"),
            ("pkg:PyPI/Zope.Interface", "pkg:pypi/zope-interface"),
            ("pkg:pypi/zope._*", "pkg:pypi/zope-*"),
            ("pkg:npm/@Types/*", "pkg:npm/%40types/*"),
            ("pkg:npm/%40myorg/*", "pkg:npm/%40myorg/*"),
            ("pkg:npm/JSONStream", "pkg:npm/jsonstream"),
            ("pkg:*/Serde_JSON", "pkg:*/Serde_JSON"),
            ("pkg:golang/Foo_Bar", "pkg:golang/Foo_Bar"),
            ("*", "*"),
        ] {
            assert_eq!(canonical_package_pattern(given), want, "{given}");
        }
        // A folded exact pattern is the canonical purl of every spelling of the name.
        for (ecosystem, name) in [
            (Ecosystem::Cargo, "Serde_JSON"),
            (Ecosystem::PyPi, "Zope.Interface"),
            (Ecosystem::Npm, "@Types/Node"),
        ] {
            let purl = ecosystem.package_purl(name).unwrap();
            let pattern = match name.strip_prefix('@') {
                Some(scoped) => format!("pkg:{}/@{scoped}", ecosystem.purl_type()),
                None => format!("pkg:{}/{name}", ecosystem.purl_type()),
            };
            assert_eq!(canonical_package_pattern(&pattern), purl, "{name}");
        }
    }

    #[test]
    fn pypi_pep503() {
        let p = Ecosystem::PyPi;
        for (given, want) in [
            ("zope.interface", "zope-interface"),
            ("Zope_Interface", "zope-interface"),
            ("zope-interface", "zope-interface"),
            ("Django", "django"),
            ("ruamel.yaml.clib", "ruamel-yaml-clib"),
            ("a__-._b", "a-b"),
            ("A1", "a1"),
            ("x", "x"),
        ] {
            assert_eq!(p.canonical_name(given).as_deref(), Ok(want), "{given}");
        }
        assert_eq!(
            p.package_purl("Zope.Interface").as_deref(),
            Ok("pkg:pypi/zope-interface")
        );
        for bad in ["", "-x", "x-", ".x", "x y", "zope/interface", "café", "x@1"] {
            assert!(p.canonical_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn npm_scopes_and_case() {
        let n = Ecosystem::Npm;
        assert_eq!(
            n.package_purl("@types/node").as_deref(),
            Ok("pkg:npm/%40types/node")
        );
        assert_eq!(
            n.package_purl("@Babel/Core").as_deref(),
            Ok("pkg:npm/%40babel/core")
        );
        assert_eq!(
            n.package_purl("JSONStream").as_deref(),
            Ok("pkg:npm/jsonstream")
        );
        assert_eq!(
            n.package_purl("lodash.merge").as_deref(),
            Ok("pkg:npm/lodash.merge")
        );
        for bad in [
            "", "@", "@/x", "@scope/", "@scope", "a/b", "a b", "@s/a/b", "é",
        ] {
            assert!(n.canonical_name(bad).is_err(), "{bad:?}");
        }
        assert!(n.canonical_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn cargo_folds_case_and_underscore() {
        let c = Ecosystem::Cargo;
        assert_eq!(
            c.package_purl("serde_json").as_deref(),
            Ok("pkg:cargo/serde-json")
        );
        assert_eq!(
            c.package_purl("Inflector").as_deref(),
            Ok("pkg:cargo/inflector")
        );
        assert_eq!(
            c.package_purl("left-pad-rs").as_deref(),
            Ok("pkg:cargo/left-pad-rs")
        );
        assert_eq!(c.package_purl("0.7.11").as_deref(), Ok("pkg:cargo/0.7.11"));
        for bad in ["", "a~b", "a/b", "é", &"a".repeat(65)] {
            assert!(c.canonical_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn namespaces() {
        assert_eq!(
            Ecosystem::Npm.canonical_purl_parts(Some("@Types"), "Node"),
            Ok((Some("@types".into()), "node".into()))
        );
        assert_eq!(
            Ecosystem::Npm.canonical_purl_parts(Some("types"), "node"),
            Ok((Some("@types".into()), "node".into()))
        );
        assert!(
            Ecosystem::Cargo
                .canonical_purl_parts(Some("x"), "y")
                .is_err()
        );
        assert!(
            Ecosystem::PyPi
                .canonical_purl_parts(Some("x"), "y")
                .is_err()
        );
    }
}
