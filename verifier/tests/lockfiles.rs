//! The lockfile readers on the real lockfiles of public projects: counts, sources, digests
//! and canonical names, each checked against what the file itself says (counted here with
//! plain text or JSON/TOML tools, independently of the readers).
//!
//! The files are read-only real data in `../shared/realdata/lockfiles/` (repository, path,
//! commit and license of each in its `SOURCES.md`); `QUORUM_LOCKFILE_DATA` points elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine as _;
use quorum_verifier::lockfile::{
    LockedPackage, Lockfile, LockfileKind, PinMatch, PinnedDigest, Source, parse_lockfile,
    read_lockfile,
};
use quorum_verifier::model::statement::{Subject, parse_purl};

fn data_dir() -> PathBuf {
    std::env::var_os("QUORUM_LOCKFILE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata/lockfiles")
        })
}

/// Whether the real lockfiles are on this machine. They are fetched public data, kept beside
/// the repository in `../shared/realdata/lockfiles` and never committed here; without them a
/// test says so on stderr and returns.
fn present(test: &str) -> bool {
    let present = data_dir().join("SOURCES.md").is_file();
    if !present {
        eprintln!(
            "{test}: SKIPPED: the real lockfiles are not at {} (set QUORUM_LOCKFILE_DATA)",
            data_dir().display()
        );
    }
    present
}

fn text(relative: &str) -> String {
    let path = data_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a real lockfile under a name that says nothing, so the format must be told by the
/// content, and checks it against the reader given its usual name.
fn read(relative: &str, kind: LockfileKind) -> Lockfile {
    let content = text(relative);
    let lock = read_lockfile("lockfile", &content).unwrap_or_else(|e| panic!("{relative}: {e}"));
    assert_eq!(lock.kind, kind, "{relative}");
    assert_eq!(
        read_lockfile(kind.file_name(), &content).ok(),
        Some(lock.clone())
    );
    for p in &lock.packages {
        // Every name is already canonical: parsing the purl gives it back unchanged.
        let (package, version) = parse_purl(&format!("{}@{}", p.package, p.version))
            .or_else(|_| parse_purl(&p.package).map(|(pkg, _)| (pkg, Some(String::new()))))
            .unwrap_or_else(|e| panic!("{relative}: {}: {e}", p.purl()));
        assert_eq!(package, p.package, "{relative}");
        if p.source.is_registry() {
            assert_eq!(version.as_deref(), Some(p.version.as_str()), "{relative}");
        }
    }
    lock
}

fn registry(lock: &Lockfile) -> Vec<&LockedPackage> {
    lock.registry_packages().collect()
}

fn count_lines(content: &str, prefix: &str) -> usize {
    content.lines().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn cargo_locks_of_ripgrep_axum_pnpm_and_wasmtime() {
    if !present("cargo_locks_of_ripgrep_axum_pnpm_and_wasmtime") {
        return;
    }
    for (file, packages, registry_count) in [
        ("ripgrep/Cargo.lock", 63, 52),
        ("axum/Cargo.lock", 238, 234),
        ("pnpm/Cargo.lock", 799, 721),
        ("wasmtime/Cargo.lock", 0, 0),
    ] {
        let (content, lock) = if file.starts_with("wasmtime/") {
            // The wasmtime lockfile that cargo-vet/wasmtime in ../shared/realdata vets.
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/realdata/cargo-vet/wasmtime/Cargo.lock");
            let content = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let lock = read_lockfile("Cargo.lock", &content).unwrap();
            (content, lock)
        } else {
            (text(file), read(file, LockfileKind::Cargo))
        };
        // Independent counts from the text: one `[[package]]` per entry, one registry
        // `source` and one `checksum` per crates.io package.
        let (packages, registry_count) = if packages == 0 {
            (
                count_lines(&content, "[[package]]"),
                count_lines(&content, "source = \"registry+"),
            )
        } else {
            (packages, registry_count)
        };
        assert_eq!(count_lines(&content, "[[package]]"), packages, "{file}");
        assert_eq!(lock.packages.len(), packages, "{file}");
        let reg = registry(&lock);
        assert_eq!(reg.len(), registry_count, "{file}");
        assert_eq!(
            count_lines(&content, "checksum = "),
            registry_count,
            "{file}"
        );
        for p in &reg {
            assert!(p.is_verifiable(), "{file}: {}", p.purl());
            assert!(matches!(&p.digests[..], [PinnedDigest::Sha256(h)] if h.len() == 64));
            assert!(content.contains(&format!("checksum = \"{}\"", p.digests[0].hex())));
        }
        // Workspace members and path dependencies: reported as paths, never as registry.
        for p in lock.other_packages() {
            assert!(matches!(p.source, Source::Path { .. }), "{file}: {p:?}");
        }
    }
    // One canonical name: crates.io folds `_` into `-` and case.
    let lock = read("pnpm/Cargo.lock", LockfileKind::Cargo);
    let content = text("pnpm/Cargo.lock");
    assert!(content.contains("name = \"serde_json\""));
    assert!(
        lock.packages
            .iter()
            .any(|p| p.package == "pkg:cargo/serde-json")
    );
    assert!(lock.packages.iter().all(|p| !p.package.contains('_')));
}

#[test]
fn npm_cli_package_lock_v3() {
    if !present("npm_cli_package_lock_v3") {
        return;
    }
    let file = "npm-cli/package-lock.json";
    let content = text(file);
    let lock = read(file, LockfileKind::Npm);
    let json: serde_json::Value = serde_json::from_str(&content).unwrap();
    let entries = json["packages"].as_object().unwrap();
    // Independently: distinct (name, version) of the non-link entries under node_modules.
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    let mut sha512: BTreeMap<(String, String), String> = BTreeMap::new();
    for (path, e) in entries {
        let Some(pos) = path.rfind("node_modules/") else {
            continue;
        };
        if e.get("link").is_some() {
            continue;
        }
        let name = e["name"]
            .as_str()
            .unwrap_or(&path[pos + 13..])
            .to_lowercase();
        let version = e["version"].as_str().unwrap().to_owned();
        if let Some(b64) = e["integrity"]
            .as_str()
            .and_then(|i| i.strip_prefix("sha512-"))
        {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            sha512.insert((name.clone(), version.clone()), hex::encode(bytes));
        }
        expected.insert((name, version));
    }
    assert_eq!(expected.len(), 1020, "the issue's 1,020 packages");
    let reg = registry(&lock);
    assert_eq!(reg.len(), 1020);
    let verifiable: Vec<_> = reg.iter().filter(|p| p.is_verifiable()).collect();
    assert_eq!(verifiable.len(), sha512.len());
    for p in &reg {
        let name = quorum_verifier::ecosystem::Ecosystem::Npm
            .package_purl(&registry_name(&p.package))
            .unwrap();
        assert_eq!(name, p.package);
        if let Some(hex) = sha512.get(&(registry_name(&p.package), p.version.clone())) {
            assert!(
                p.digests.contains(&PinnedDigest::Sha512(hex.clone())),
                "{}",
                p.purl()
            );
        }
    }
    // A known entry, decoded by hand from the file: @npmcli/agent 3.0.0.
    let agent = reg
        .iter()
        .find(|p| p.purl() == "pkg:npm/%40npmcli/agent@3.0.0")
        .unwrap();
    assert_eq!(
        agent.artifact_digests().get("sha512").map(|s| s.len()),
        Some(1)
    );
    assert!(agent.digests.contains(&PinnedDigest::Sha512(
        "4bbf4d74480341dfcd1826b2e930a85735d28fbe2c9116482897292630b994eab7e12673c88e8caad8a25a88955a856b4dc1a335e0b88a96e1d552079697c5e5".into()
    )));
    // The 16 workspaces are paths, not registry packages.
    let paths = lock
        .other_packages()
        .filter(|p| matches!(p.source, Source::Path { .. }))
        .count();
    assert_eq!(paths, 16);
}

/// `pkg:npm/%40scope/name` → `@scope/name`.
fn registry_name(package: &str) -> String {
    package.trim_start_matches("pkg:npm/").replace("%40", "@")
}

#[test]
fn pnpm_lock_v9_and_v6() {
    if !present("pnpm_lock_v9_and_v6") {
        return;
    }
    for (file, documents_packages, runtimes) in [
        ("pnpm/pnpm-lock.yaml", 9 + 1678, 1),
        ("pnpm-v6/pnpm-lock.yaml", 1635, 0),
    ] {
        let content = text(file);
        let lock = read(file, LockfileKind::Pnpm);
        // Distinct sha512 values pinned (v6 repeats one version's for each peer set).
        let integrity = content
            .split("resolution: {integrity: sha512-")
            .skip(1)
            .filter_map(|rest| rest.split(['}', ',']).next())
            .collect::<BTreeSet<_>>()
            .len();
        assert!(integrity <= documents_packages, "{file}");
        // Entries of one version with other peers are one package version.
        let reg = registry(&lock);
        let pinned: usize = reg.iter().map(|p| p.digests.len()).sum();
        assert_eq!(pinned, integrity, "{file}: one sha512 per registry entry");
        assert!(
            reg.len() <= documents_packages && reg.len() > 1500,
            "{file}: {}",
            reg.len()
        );
        assert!(reg.iter().all(|p| p.is_verifiable()), "{file}");
        // pnpm 11 pins Node.js itself (`node@runtime:26.7.0`): archives from nodejs.org, not
        // an npm registry package.
        let others: Vec<_> = lock.other_packages().collect();
        assert_eq!(others.len(), runtimes, "{file}");
        for p in others {
            assert_eq!(p.package, "pkg:npm/node");
            assert!(
                matches!(&p.source, Source::Url { url } if url.starts_with("https://nodejs.org/")),
                "{p:?}"
            );
        }
        for p in &reg {
            let hex = &p.artifact_digests()["sha512"];
            let b64: Vec<String> = hex
                .iter()
                .map(|h| base64::engine::general_purpose::STANDARD.encode(hex::decode(h).unwrap()))
                .collect();
            assert!(
                b64.iter()
                    .all(|b| content.contains(&format!("integrity: sha512-{b}"))),
                "{file}: {}",
                p.purl()
            );
        }
    }
    // pnpm 11's first document (the package manager's own lock) is read too.
    let lock = read("pnpm/pnpm-lock.yaml", LockfileKind::Pnpm);
    assert!(
        lock.packages
            .iter()
            .any(|p| p.package == "pkg:npm/%40pnpm/exe.linux-x64")
    );
}

#[test]
fn yarn_v1_of_yarn_itself() {
    if !present("yarn_v1_of_yarn_itself") {
        return;
    }
    let file = "yarn-v1/yarn.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Yarn);
    // One entry per block header (a line that is neither indented nor a comment).
    let headers = content
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        .count();
    assert_eq!(headers, 1062);
    let reg = registry(&lock);
    assert_eq!(
        reg.len() + lock.other_packages().count(),
        lock.packages.len()
    );
    let sha512 = count_lines(&content, "  integrity sha512-");
    let sha1 = count_lines(&content, "  integrity sha1-");
    assert_eq!((sha512, sha1), (381, 680));
    let verifiable = reg.iter().filter(|p| p.is_verifiable()).count();
    let sha1_only = reg
        .iter()
        .filter(|p| {
            !p.is_verifiable() && p.digests.iter().all(|d| matches!(d, PinnedDigest::Sha1(_)))
        })
        .count();
    // yarn writes no `resolved` for a `file:` dependency: such an entry is a local path,
    // never a registry package.
    let file_deps = content
        .lines()
        .filter(|l| !l.starts_with([' ', '#']) && l.contains("@file:"))
        .count();
    assert_eq!(file_deps, 1);
    let others: Vec<_> = lock.other_packages().collect();
    assert_eq!(others.len(), file_deps);
    assert!(
        matches!(&others[0].source, Source::Path { path } if path == "scripts/eslint-rules"),
        "{:?}",
        others[0]
    );
    // Every other entry is one resolved version: the sha512 ones are verifiable, all others
    // are pinned by SHA-1 alone (in `integrity`, or only in the `#<sha1>` of `resolved`).
    assert_eq!(reg.len(), headers - file_deps);
    assert_eq!(verifiable, sha512);
    // Old entries pin only SHA-1: reported as unverifiable, never matched.
    assert_eq!(sha1_only, headers - file_deps - sha512);
    assert!(sha1_only >= sha1);
    let sample = reg.iter().find(|p| !p.is_verifiable()).unwrap();
    let sha1_hex = sample.digests[0].hex().to_owned();
    let subject: BTreeMap<String, String> = BTreeMap::from([("sha1".into(), sha1_hex)]);
    assert_eq!(sample.match_digests(&subject), PinMatch::Unverifiable);
}

#[test]
fn yarn_berry_of_prettier() {
    if !present("yarn_berry_of_prettier") {
        return;
    }
    let file = "prettier/yarn.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Yarn);
    assert_eq!(lock.packages.len(), 1052);
    let resolutions = |protocol: &str| content.matches(&format!("@{protocol}:")).count();
    assert!(resolutions("npm") > 0);
    let patched = lock
        .packages
        .iter()
        .filter(|p| matches!(p.source, Source::Patched { .. }))
        .count();
    let workspaces = lock
        .packages
        .iter()
        .filter(|p| matches!(p.source, Source::Path { .. }))
        .count();
    assert_eq!((patched, workspaces), (2, 1));
    // Berry's checksum is the SHA-512 of Yarn's cache zip: recorded, never verifiable.
    let checksums = count_lines(&content, "  checksum: ");
    assert!(content.contains("\n  cacheKey: 10\n"));
    let cache: usize = lock
        .packages
        .iter()
        .filter(|p| {
            p.digests.iter().any(
                |d| matches!(d, PinnedDigest::YarnCache { cache_key: Some(k), .. } if k == "10"),
            )
        })
        .count();
    assert_eq!(cache, checksums);
    assert!(lock.packages.iter().all(|p| !p.is_verifiable()));
}

#[test]
fn poetry_lock_of_poetry() {
    if !present("poetry_lock_of_poetry") {
        return;
    }
    let file = "poetry/poetry.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Poetry);
    assert_eq!(count_lines(&content, "[[package]]"), 78);
    assert_eq!(lock.packages.len(), 78);
    // The git dependency: reported as git with its commit, never as pkg:pypi registry.
    let git: Vec<_> = lock.other_packages().collect();
    assert_eq!(git.len(), 1);
    assert_eq!(git[0].package, "pkg:pypi/poetry-core");
    assert_eq!(
        git[0].source,
        Source::Git {
            url: "https://github.com/python-poetry/poetry-core.git".into(),
            rev: Some("e3998b0e111dc03e4aa721fd054c48e5c7de6fc5".into())
        }
    );
    assert_eq!(parse_lockfile("poetry.lock", &content).unwrap().len(), 77);
    // Every file of every registry version: dulwich pins 42.
    let dulwich = registry(&lock)
        .into_iter()
        .find(|p| p.package == "pkg:pypi/dulwich")
        .unwrap();
    assert_eq!(dulwich.digests.len(), 42);
    assert!(registry(&lock).iter().all(|p| p.is_verifiable()));
}

#[test]
fn uv_lock_of_uv() {
    if !present("uv_lock_of_uv") {
        return;
    }
    let file = "uv/uv.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Uv);
    assert_eq!(count_lines(&content, "[[package]]"), 89);
    assert_eq!(lock.packages.len(), 89);
    assert_eq!(registry(&lock).len(), 88);
    let own: Vec<_> = lock.other_packages().collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].purl(), "pkg:pypi/uv@0.12.5");
    assert_eq!(own[0].source, Source::Path { path: ".".into() });
    // ruff 0.16.2: the sdist and 17 wheels, each its own sha256.
    let ruff = registry(&lock)
        .into_iter()
        .find(|p| p.purl() == "pkg:pypi/ruff@0.16.2")
        .unwrap();
    assert_eq!(ruff.digests.len(), 18);
    assert!(
        ruff.digests
            .iter()
            .all(|d| matches!(d, PinnedDigest::Sha256(_)))
    );
    // A subject naming any one of those files matches; another digest does not.
    let one = ruff.digests[7].hex().to_owned();
    let subject = BTreeMap::from([("sha256".to_owned(), one)]);
    assert_eq!(ruff.match_digests(&subject), PinMatch::Matches);
    let other = BTreeMap::from([("sha256".to_owned(), "00".repeat(32))]);
    assert_eq!(ruff.match_digests(&other), PinMatch::Differs);
}

#[test]
fn requirements_with_and_without_hashes() {
    if !present("requirements_with_and_without_hashes") {
        return;
    }
    let file = "warehouse/requirements-main.txt";
    let content = text(file);
    let lock = read(file, LockfileKind::Requirements);
    let pins = content
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
        .count();
    assert_eq!(pins, 122);
    assert_eq!(lock.packages.len(), 122);
    let hashes = content.matches("--hash=sha256:").count();
    let pinned: usize = lock.packages.iter().map(|p| p.digests.len()).sum();
    assert_eq!(pinned, hashes);
    assert!(lock.packages.iter().all(|p| p.is_verifiable()));
    // One name per package: `zope.interface==5.1.0` is the `pkg:pypi/zope.interface` of an
    // advisory, and the `Zope_Interface` of anyone else.
    assert!(content.contains("\nzope.interface==5.1.0 "));
    let zope = lock
        .packages
        .iter()
        .find(|p| p.version == "5.1.0" && p.package.contains("zope"))
        .unwrap();
    for spelling in [
        "pkg:pypi/zope.interface@5.1.0",
        "pkg:pypi/Zope_Interface@5.1.0",
        "pkg:pypi/zope-interface@5.1.0",
    ] {
        let subject = Subject::package_version(spelling, [0; 32]);
        let parts = subject.package_version_parts().unwrap();
        assert_eq!(
            parts,
            (zope.package.clone(), zope.version.clone()),
            "{spelling}"
        );
    }

    let file = "flask-celery/requirements.txt";
    let lock = read(file, LockfileKind::Requirements);
    assert_eq!(lock.packages.len(), 21);
    assert!(
        lock.packages
            .iter()
            .all(|p| p.digests.is_empty() && !p.is_verifiable())
    );
    assert!(
        lock.packages
            .iter()
            .any(|p| p.purl() == "pkg:pypi/celery@5.2.7")
    );
}
