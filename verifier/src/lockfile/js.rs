//! The npm ecosystem's lockfiles: package-lock.json (serde_json), pnpm-lock.yaml
//! (serde-saphyr, with its alias and depth budgets) and yarn.lock v1 and Berry
//! (yarn-lock-parser).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    LockedPackage, LockfileError, LockfileKind, PinnedDigest, Source, locked, npm_source_of_url,
};

/// Every SRI token of an `integrity` string (space-separated, any algorithm).
fn sri_digests(integrity: Option<&str>) -> Vec<PinnedDigest> {
    integrity
        .map(|text| {
            text.split_whitespace()
                .filter_map(PinnedDigest::from_sri)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn parse_npm(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Npm;
    let root: serde_json::Value =
        serde_json::from_str(content).map_err(|e| LockfileError::syntax(kind, e.to_string()))?;
    let mut out = Vec::new();
    let text = |entry: &serde_json::Value, key: &str| {
        entry
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if let Some(packages) = root.get("packages").and_then(|p| p.as_object()) {
        // Lockfile v2/v3: keys are install paths; "" is the project itself, paths outside
        // node_modules are workspace members.
        for (path, entry) in packages {
            if path.is_empty() {
                continue;
            }
            let from_path = match path.rfind("node_modules/") {
                Some(pos) => &path[pos + "node_modules/".len()..],
                None => path.rsplit('/').next().unwrap_or(path),
            };
            let name = text(entry, "name").unwrap_or_else(|| from_path.to_owned());
            let resolved = text(entry, "resolved");
            let is_link = entry.get("link").and_then(serde_json::Value::as_bool) == Some(true);
            let source = if is_link || !path.contains("node_modules/") {
                Source::Path {
                    path: resolved.clone().unwrap_or_else(|| path.clone()),
                }
            } else {
                resolved
                    .as_deref()
                    .map(npm_source_of_url)
                    .unwrap_or(Source::Registry)
            };
            // A link's version lives on its target entry.
            let version = text(entry, "version").unwrap_or_default();
            if is_link && version.is_empty() {
                continue;
            }
            let digests = sri_digests(entry.get("integrity").and_then(|v| v.as_str()));
            out.push(locked(kind, &name, &version, source, digests)?);
        }
    } else if let Some(deps) = root.get("dependencies").and_then(|d| d.as_object()) {
        // Lockfile v1: a nested tree of dependencies; `version` is a URL for non-registry
        // entries.
        let mut stack: Vec<&serde_json::Map<String, serde_json::Value>> = vec![deps];
        while let Some(map) = stack.pop() {
            for (name, entry) in map {
                if let Some(version) = text(entry, "version") {
                    let source = match text(entry, "resolved") {
                        _ if version.contains(':') => npm_source_of_url(&version),
                        Some(resolved) => npm_source_of_url(&resolved),
                        None => Source::Registry,
                    };
                    let version = if source.is_registry() {
                        version
                    } else {
                        String::new()
                    };
                    let digests = sri_digests(entry.get("integrity").and_then(|v| v.as_str()));
                    out.push(locked(kind, name, &version, source, digests)?);
                }
                if let Some(nested) = entry.get("dependencies").and_then(|d| d.as_object()) {
                    stack.push(nested);
                }
            }
        }
    } else {
        return Err(LockfileError::syntax(
            kind,
            "neither \"packages\" nor \"dependencies\" found: is this a package-lock.json?",
        ));
    }
    Ok(out)
}

/// One YAML document of a pnpm lockfile (only what Quorum reads).
#[derive(Deserialize)]
struct PnpmDocument {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<YamlScalar>,
    #[serde(default)]
    packages: BTreeMap<String, PnpmPackage>,
}

/// `lockfileVersion` is a string (`'9.0'`) or a number (`5.4`).
#[derive(Deserialize)]
#[serde(untagged)]
enum YamlScalar {
    Text(String),
    Number(f64),
}

#[derive(Deserialize)]
struct PnpmPackage {
    /// Given for non-registry packages (and in v5/v6 when the key does not say).
    name: Option<String>,
    version: Option<String>,
    resolution: Option<PnpmResolution>,
}

#[derive(Deserialize)]
struct PnpmResolution {
    integrity: Option<String>,
    tarball: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    repo: Option<String>,
    commit: Option<String>,
    directory: Option<String>,
    /// `type: binary`: an archive at a URL (pnpm 11's runtimes, e.g. Node.js itself).
    url: Option<String>,
    /// `type: variations`: one resolution per platform.
    #[serde(default)]
    variants: Vec<PnpmVariant>,
}

#[derive(Deserialize)]
struct PnpmVariant {
    resolution: Option<PnpmResolution>,
}

/// Splits a pnpm package key into (name, version): v9 `name@1.0.0`, v6 `/name@1.0.0(peer@2)`,
/// v5 `/name/1.0.0_peer@2.0.0`; scoped names start with `@`.
fn pnpm_key(key: &str, v5: bool) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next().unwrap_or(key);
    let search_from = usize::from(key.starts_with('@'));
    if v5 {
        // The name may contain one `/` (the scope); the version follows the last `/`.
        let (name, version) = key.rsplit_once('/')?;
        let version = version.split('_').next().unwrap_or(version);
        return (!name.is_empty() && !version.is_empty()).then_some((name, version));
    }
    let at = key.get(search_from..)?.find('@')? + search_from;
    let (name, version) = (&key[..at], &key[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

pub(super) fn parse_pnpm(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Pnpm;
    // pnpm 11 writes two documents: the package manager's own lock, then the project's.
    let documents: Vec<Option<PnpmDocument>> = serde_saphyr::from_multiple(content)
        .map_err(|e| LockfileError::syntax(kind, e.to_string()))?;
    let documents: Vec<PnpmDocument> = documents.into_iter().flatten().collect();
    if documents.is_empty() || documents.iter().all(|d| d.lockfile_version.is_none()) {
        return Err(LockfileError::syntax(
            kind,
            "no `lockfileVersion`: is this a pnpm-lock.yaml?",
        ));
    }
    let mut out = Vec::new();
    for doc in documents {
        let major = match &doc.lockfile_version {
            Some(YamlScalar::Text(t)) => t
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(0),
            // Whole versions of a float: 5.4 → 5.
            Some(YamlScalar::Number(n)) if n.is_finite() && *n >= 0.0 && *n < 1000.0 => {
                format!("{n}")
                    .split('.')
                    .next()
                    .and_then(|m| m.parse::<u32>().ok())
                    .unwrap_or(0)
            }
            _ => 0,
        };
        if major != 0 && !(5..=9).contains(&major) {
            return Err(LockfileError::syntax(
                kind,
                format!("lockfileVersion {major} is not supported (5.4 to 9 are)"),
            ));
        }
        for (key, entry) in doc.packages {
            let from_key = pnpm_key(&key, major == 5);
            let resolution = entry.resolution.as_ref();
            let integrity = resolution.and_then(|r| r.integrity.as_deref());
            // Platform variants (a runtime such as `node@runtime:26.7.0`): archives from a
            // URL, one digest per platform.
            let variants: Vec<&PnpmResolution> = resolution
                .map(|r| {
                    r.variants
                        .iter()
                        .filter_map(|v| v.resolution.as_ref())
                        .collect()
                })
                .unwrap_or_default();
            let mut digests = sri_digests(integrity);
            for v in &variants {
                digests.extend(sri_digests(v.integrity.as_deref()));
            }
            let source = match resolution {
                Some(r)
                    if r.kind.as_deref() == Some("variations")
                        || r.kind.as_deref() == Some("binary") =>
                {
                    Source::Url {
                        url: r
                            .url
                            .clone()
                            .or_else(|| variants.iter().find_map(|v| v.url.clone()))
                            .unwrap_or_else(|| key.clone()),
                    }
                }
                Some(r) if r.kind.as_deref() == Some("git") => Source::Git {
                    url: r.repo.clone().unwrap_or_default(),
                    rev: r.commit.clone(),
                },
                Some(r) if r.kind.as_deref() == Some("directory") => Source::Path {
                    path: r.directory.clone().unwrap_or_default(),
                },
                Some(PnpmResolution {
                    tarball: Some(url), ..
                }) => npm_source_of_url(url),
                _ if integrity.is_some() => Source::Registry,
                // A key that is itself a location (v6: `github.com/x/y/<commit>`, `file:…`).
                _ => npm_source_of_url(&key),
            };
            let name = entry
                .name
                .as_deref()
                .or(from_key.map(|(n, _)| n))
                .ok_or_else(|| {
                    LockfileError::syntax(kind, format!("cannot read a package name from {key:?}"))
                })?;
            // A non-registry key ends in a location, not a version: only `version` counts.
            let version = match (&entry.version, from_key) {
                (Some(v), _) => v.as_str(),
                (None, Some((_, v))) if source.is_registry() => v,
                _ => "",
            };
            out.push(locked(kind, name, version, source, digests)?);
        }
    }
    Ok(out)
}

/// Yarn Berry's protocol of a resolution `name@protocol:rest` (the `@` after the name).
fn berry_source(resolution: &str) -> Source {
    let after_name = usize::from(resolution.starts_with('@'));
    let Some(at) = resolution
        .get(after_name..)
        .and_then(|r| r.find('@'))
        .map(|i| i + after_name)
    else {
        return Source::Path {
            path: resolution.to_owned(),
        };
    };
    let locator = &resolution[at + 1..];
    let protocol = locator.split(':').next().unwrap_or("");
    match protocol {
        "npm" => Source::Registry,
        "patch" => Source::Patched {
            locator: locator.to_owned(),
        },
        "workspace" | "file" | "portal" | "link" | "exec" => Source::Path {
            path: locator
                .split_once(':')
                .map(|(_, p)| p)
                .unwrap_or(locator)
                .to_owned(),
        },
        _ if locator.contains("#commit=") || locator.starts_with("git") => {
            let (url, rev) = match locator.split_once("#commit=") {
                Some((url, rev)) => (url, Some(rev.to_owned())),
                None => (locator, None),
            };
            Source::Git {
                url: url.to_owned(),
                rev,
            }
        }
        _ => npm_source_of_url(locator),
    }
}

pub(super) fn parse_yarn(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Yarn;
    let lock = yarn_lock_parser::parse_str(content)
        .map_err(|e| LockfileError::syntax(kind, first_line(&e.to_string())))?;
    let berry = lock.version > 1;
    lock.entries
        .iter()
        .map(|e| {
            let (source, digests) = if berry {
                let digest = match e.integrity.split_once('/') {
                    Some((key, hex)) => (key, hex),
                    None => ("", e.integrity),
                };
                let digests = (digest.1.len() == 128
                    && digest.1.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| PinnedDigest::YarnCache {
                    cache_key: (!digest.0.is_empty()).then(|| digest.0.to_owned()),
                    hex: digest.1.to_ascii_lowercase(),
                })
                .into_iter()
                .collect();
                (berry_source(e.resolved), digests)
            } else {
                let mut digests = sri_digests(Some(e.integrity));
                // v1's `resolved` URL ends in `#<sha1 of the tarball>`.
                if let Some(sha1) = e.resolved.rsplit_once('#').map(|(_, h)| h)
                    && let Some(d) = PinnedDigest::from_prefixed_hex(&format!("sha1:{sha1}"))
                {
                    digests.push(d);
                }
                let source = if e.resolved.is_empty() {
                    yarn_v1_source_without_resolved(&e.descriptors)
                } else {
                    npm_source_of_url(e.resolved)
                };
                (source, digests)
            };
            // An aliased entry (`alias@npm:real@^1`) is installed under the alias but is the
            // real package: Berry's resolution names the real one, v1's ranges do.
            let name = if berry {
                berry_name(e.resolved).unwrap_or(e.name)
            } else {
                yarn_v1_alias_target(&e.descriptors).unwrap_or(e.name)
            };
            locked(kind, name, e.version, source, digests)
        })
        .collect()
}

/// Where a yarn v1 entry without `resolved` comes from: yarn writes no `resolved` for a
/// `file:` or `link:` dependency (yarn's own lockfile has
/// `"eslint-plugin-yarn-internal@file:scripts/eslint-rules"`), so the ranges it was asked
/// for say; an entry asked for only by version ranges is the registry's, with no digest.
fn yarn_v1_source_without_resolved(descriptors: &[(&str, &str)]) -> Source {
    const NOT_REGISTRY: [&str; 7] = [
        "file:", "link:", "git+", "git:", "github:", "http://", "https://",
    ];
    descriptors
        .iter()
        .map(|(_, range)| range.trim())
        .find(|range| NOT_REGISTRY.iter().any(|p| range.starts_with(p)))
        .map_or(Source::Registry, npm_source_of_url)
}

/// The real package of a yarn v1 alias entry, whose every range is `npm:real@range` (the
/// Salesforce CLI's yarn.lock has `"string-width-cjs@npm:string-width@^4.2.0"`, resolved to
/// string-width's tarball): installed under the alias, it is the real package's artifact.
fn yarn_v1_alias_target<'a>(descriptors: &[(&'a str, &'a str)]) -> Option<&'a str> {
    let mut target = None;
    for (_, range) in descriptors {
        let real = range.trim().strip_prefix("npm:")?;
        let real = berry_name(real).unwrap_or(real);
        if real.is_empty() || target.is_some_and(|t| t != real) {
            return None;
        }
        target = Some(real);
    }
    target
}

/// The package name of a Berry resolution `name@protocol:…`.
fn berry_name(resolution: &str) -> Option<&str> {
    let after_name = usize::from(resolution.starts_with('@'));
    let at = resolution.get(after_name..)?.find('@')? + after_name;
    Some(&resolution[..at]).filter(|n| !n.is_empty())
}

/// [`pnpm_key`] for the unit tests.
#[cfg(test)]
pub(super) fn pnpm_key_for_tests(key: &str, v5: bool) -> Option<(&str, &str)> {
    pnpm_key(key, v5)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}
