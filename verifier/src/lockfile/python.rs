//! pip requirements files pinned with `==` (as `pip-compile` and `uv pip compile` write them).

use super::{LockedPackage, LockfileError, LockfileKind, PinnedDigest, Source, locked};

/// Whether the first requirement-looking line of `head` pins with `==` or names a direct
/// reference (`name @ url`): how a requirements file is told by its content.
pub(super) fn looks_like_requirements(head: &str) -> bool {
    head.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
        .is_some_and(|line| {
            let spec = line.split([';', ' ', '\\']).next().unwrap_or(line);
            let name_end = spec
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']' | ','))
                })
                .unwrap_or(spec.len());
            name_end > 0 && (spec[name_end..].starts_with("==") || line.contains(" @ "))
        })
}

/// Joins continuation lines (ending in a backslash) and drops comments; yields
/// (first line number, logical line).
fn logical_lines(content: &str) -> Vec<(usize, String)> {
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in content.lines().enumerate() {
        // A comment starts at `#` at the line start or after whitespace (a `#` inside a URL
        // fragment such as `#egg=` or `#sha256=` is not one).
        let without_comment = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(pos) => &raw[..pos],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        };
        let (text, continues) = match without_comment.trim_end().strip_suffix('\\') {
            Some(t) => (t, true),
            None => (without_comment, false),
        };
        let entry = pending.get_or_insert_with(|| (i + 1, String::new()));
        entry.1.push(' ');
        entry.1.push_str(text);
        if !continues && let Some(done) = pending.take() {
            logical.push(done);
        }
    }
    logical.extend(pending);
    logical
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(super) fn parse_requirements(content: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let kind = LockfileKind::Requirements;
    let mut out = Vec::new();
    for (line, text) in logical_lines(content) {
        let text = text.trim();
        if text.is_empty() || text.starts_with('-') {
            // Options such as --index-url, -r other.txt or -e ./local: nothing pinned by name.
            continue;
        }
        let requirement = |message: String| LockfileError::Requirement { line, message };
        let before_marker = text.split(';').next().unwrap_or(text).trim();
        let digests: Vec<PinnedDigest> = text
            .split_whitespace()
            .filter_map(|p| p.strip_prefix("--hash="))
            .filter_map(PinnedDigest::from_prefixed_hex)
            .collect();
        let spec = before_marker
            .split(" --")
            .next()
            .unwrap_or(before_marker)
            .trim();
        // PEP 508 direct reference: `name[extras] @ url`.
        if let Some((name, url)) = spec.split_once('@').filter(|(_, url)| {
            let url = url.trim_start();
            url.contains("://") || url.starts_with("file:")
        }) {
            let name = name.split('[').next().unwrap_or(name).trim();
            if !valid_name(name) {
                return Err(requirement(format!(
                    "{spec:?} does not start with a valid name"
                )));
            }
            let url = url.trim();
            let source = if let Some(git) = url.strip_prefix("git+") {
                let (repo, rev) = match git.rsplit_once('@').filter(|(r, _)| r.contains("://")) {
                    Some((repo, rev)) => (repo, Some(rev.to_owned())),
                    None => (git, None),
                };
                Source::Git {
                    url: repo.to_owned(),
                    rev,
                }
            } else if let Some(path) = url.strip_prefix("file:") {
                Source::Path {
                    path: path.trim_start_matches("//").to_owned(),
                }
            } else {
                Source::Url {
                    url: url.to_owned(),
                }
            };
            out.push(locked(kind, name, "", source, digests)?);
            continue;
        }
        let spec = spec.split_whitespace().next().unwrap_or(spec);
        let Some((name, version)) = spec.split_once("==") else {
            return Err(requirement(format!(
                "{spec:?} is not pinned with ==; a lockfile must name exact versions"
            )));
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.trim().trim_start_matches('=');
        if !valid_name(name) || version.is_empty() {
            return Err(requirement(format!(
                "{spec:?} is not a valid name==version requirement"
            )));
        }
        out.push(locked(kind, name, version, Source::Registry, digests)?);
    }
    Ok(out)
}
