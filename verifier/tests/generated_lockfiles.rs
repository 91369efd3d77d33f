//! The lockfile readers on lockfiles written by the real package managers, checked against
//! each package manager's own listing of what it locked. The files are in the repository
//! (`tests/data/lockfiles/generated/`, made by `scripts/generate-lockfiles.sh`; the tools'
//! versions are in its `TOOLS.txt`), so every format is read on every machine the test
//! command runs on; the real lockfiles of public projects (`tests/lockfiles.rs`) are fetched
//! data that only some machines hold.
//!
//! The oracles: `npm ls --all --json --package-lock-only`, `pnpm list --depth Infinity
//! --json`, `yarn list --json`, `uv export` (for `uv.lock` and for the hashed
//! `requirements.txt` that `uv pip compile --generate-hashes` wrote from the same manifest)
//! and `poetry show`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine as _;
use quorum_verifier::ecosystem::Ecosystem;
use quorum_verifier::lockfile::{Lockfile, LockfileKind, PinnedDigest, read_lockfile};

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/lockfiles/generated")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a lockfile under a name that says nothing, so the format is told by its content.
fn read(name: &str, kind: LockfileKind) -> Lockfile {
    let lock = read_lockfile("lockfile", &data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(lock.kind, kind, "{name}");
    lock
}

/// The registry packages Quorum read, as (canonical purl without version, version).
fn quorum_view(lock: &Lockfile) -> BTreeSet<(String, String)> {
    lock.registry_packages()
        .map(|p| (p.package.clone(), p.version.clone()))
        .collect()
}

/// A package manager's (name, version) pairs, under Quorum's canonical names.
fn canonical(
    ecosystem: Ecosystem,
    pairs: BTreeSet<(String, String)>,
) -> BTreeSet<(String, String)> {
    pairs
        .into_iter()
        .map(|(name, version)| {
            let purl = ecosystem
                .package_purl(&name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (purl, version)
        })
        .collect()
}

/// Collects `name → {version, dependencies}` trees as npm ls and pnpm list print them.
fn walk_tree(deps: &serde_json::Value, out: &mut BTreeSet<(String, String)>) {
    let Some(map) = deps.as_object() else { return };
    for (name, node) in map {
        if let Some(version) = node["version"].as_str() {
            out.insert((name.clone(), version.to_owned()));
        }
        walk_tree(&node["dependencies"], out);
    }
}

/// Every digest the lockfile states in SRI form (`integrity` / `resolution.integrity`),
/// decoded independently: each must be among the pinned digests of some package.
fn sri_sha512s(text: &str) -> BTreeSet<String> {
    text.split("sha512-")
        .skip(1)
        .map(|rest| {
            let b64: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
                .collect();
            hex::encode(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_else(|e| panic!("SRI: {e}")),
            )
        })
        .collect()
}

fn pinned_sha512s(lock: &Lockfile) -> BTreeSet<String> {
    lock.registry_packages()
        .flat_map(|p| p.digests.iter())
        .filter_map(|d| match d {
            PinnedDigest::Sha512(hex) => Some(hex.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn npm_package_lock_agrees_with_npm_ls() {
    let lock = read("package-lock.json", LockfileKind::Npm);
    let ls: serde_json::Value = serde_json::from_str(&data("npm-ls.json")).unwrap();
    let mut npm = BTreeSet::new();
    walk_tree(&ls["dependencies"], &mut npm);
    assert!(npm.len() >= 10, "{npm:?}");
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::Npm, npm));
    // Scoped names keep their scope, percent-encoded.
    assert!(quorum_view(&lock).contains(&("pkg:npm/%40babel/code-frame".into(), "7.24.7".into())));
    // Every package is pinned by the sha512 the file states, and nothing else is invented.
    assert!(lock.registry_packages().all(|p| p.is_verifiable()));
    assert_eq!(
        pinned_sha512s(&lock),
        sri_sha512s(&data("package-lock.json"))
    );
}

#[test]
fn pnpm_lock_agrees_with_pnpm_list() {
    let lock = read("pnpm-lock.yaml", LockfileKind::Pnpm);
    let list: serde_json::Value = serde_json::from_str(&data("pnpm-list.json")).unwrap();
    let mut pnpm = BTreeSet::new();
    for project in list.as_array().unwrap() {
        walk_tree(&project["dependencies"], &mut pnpm);
    }
    assert!(pnpm.len() >= 10, "{pnpm:?}");
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::Npm, pnpm));
    assert!(lock.registry_packages().all(|p| p.is_verifiable()));
    assert_eq!(pinned_sha512s(&lock), sri_sha512s(&data("pnpm-lock.yaml")));
}

#[test]
fn yarn_v1_lock_agrees_with_yarn_list() {
    let lock = read("yarn.lock", LockfileKind::Yarn);
    let list: serde_json::Value = serde_json::from_str(&data("yarn-list.json")).unwrap();
    // `yarn list` prints every installed package as a tree node `name@version`; a child
    // marked `shadow` is only a reference by range to a node printed elsewhere.
    fn walk(nodes: &serde_json::Value, out: &mut BTreeSet<(String, String)>) {
        for node in nodes.as_array().into_iter().flatten() {
            if node["shadow"].as_bool() != Some(true) {
                let spec = node["name"].as_str().unwrap();
                let at = spec.rfind('@').unwrap();
                out.insert((spec[..at].to_owned(), spec[at + 1..].to_owned()));
            }
            walk(&node["children"], out);
        }
    }
    let mut yarn = BTreeSet::new();
    walk(&list["data"]["trees"], &mut yarn);
    assert!(yarn.len() >= 10, "{yarn:?}");
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::Npm, yarn));
    assert!(lock.registry_packages().all(|p| p.is_verifiable()));
    assert_eq!(pinned_sha512s(&lock), sri_sha512s(&data("yarn.lock")));
}

/// `name==version` lines of a requirements file (uv export's oracle).
fn requirement_pins(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once("=="))
        .map(|(name, rest)| {
            let version = rest.split([' ', '\\', ';']).next().unwrap_or_default();
            (name.trim().to_owned(), version.to_owned())
        })
        .collect()
}

#[test]
fn uv_lock_agrees_with_uv_export() {
    let lock = read("uv.lock", LockfileKind::Uv);
    let uv = requirement_pins(&data("uv-export.txt"));
    assert!(uv.len() >= 5, "{uv:?}");
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::PyPi, uv));
    // PEP 503: the project asked for `zope.interface`; one name, `zope-interface`.
    assert!(quorum_view(&lock).contains(&("pkg:pypi/zope-interface".into(), "7.0.3".into())));
    // Every file of a release (sdist and each wheel) is one of its pinned digests.
    let charset = lock
        .registry_packages()
        .find(|p| p.package == "pkg:pypi/charset-normalizer")
        .unwrap();
    let files = data("uv.lock")
        .split("[[package]]")
        .find(|block| block.contains("name = \"charset-normalizer\""))
        .unwrap()
        .matches("hash = \"sha256:")
        .count();
    assert!(files > 10, "{files}");
    assert_eq!(charset.digests.len(), files);
}

#[test]
fn hashed_requirements_agree_with_uv_export() {
    let lock = read("requirements.txt", LockfileKind::Requirements);
    let pins = requirement_pins(&data("uv-export.txt"));
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::PyPi, pins));
    // Each package carries exactly the hashes written under its line.
    let text = data("requirements.txt");
    for p in lock.registry_packages() {
        let name = p.package.trim_start_matches("pkg:pypi/");
        let block: String = text
            .split("\n")
            .skip_while(|l| !l.starts_with(&format!("{name}==")))
            .take_while(|l| l.starts_with(&format!("{name}==")) || l.starts_with("    "))
            .collect();
        let hashes = block.matches("--hash=sha256:").count();
        assert!(hashes >= 1, "{name}");
        assert_eq!(p.digests.len(), hashes, "{name}");
    }
}

#[test]
fn poetry_lock_agrees_with_poetry_show() {
    let lock = read("poetry.lock", LockfileKind::Poetry);
    let poetry: BTreeSet<(String, String)> = data("poetry-show.txt")
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace().filter(|w| *w != "(!)");
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect();
    assert!(poetry.len() >= 5, "{poetry:?}");
    assert_eq!(quorum_view(&lock), canonical(Ecosystem::PyPi, poetry));
    assert!(lock.registry_packages().all(|p| p.is_verifiable()));
}
