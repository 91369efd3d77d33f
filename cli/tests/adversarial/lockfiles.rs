//! Lockfiles of real projects through the real binaries: `quorum adopt --lockfile` records
//! every format's registry versions by the ecosystem's own digest (npm's SRI sha512 included),
//! non-registry dependencies are never recorded as registry packages, and one package has
//! one name (an advisory written `Charset_Normalizer` reaches the `charset-normalizer` a
//! requirements file pins).
//!
//! The lockfiles are those public projects ship in their registry packages, fetched by
//! `scripts/real-lockfiles.sh` (`crate::support::real_lockfile`).

use std::path::PathBuf;
use std::process::Stdio;

use quorum_verifier::lockfile::read_lockfile;

use crate::harness::{World, expect_exit, json, text};
use crate::support::{poetry_lockfile, real_lockfile};

/// How many registry versions of the lockfile at `path` carry an artifact digest (the
/// subjects `adopt` must record), by the library's reader.
fn verifiable(path: &std::path::Path) -> usize {
    let content = std::fs::read_to_string(path).expect("read lockfile");
    read_lockfile("lockfile", &content)
        .expect("lockfile parses")
        .packages
        .iter()
        .filter(|p| p.is_verifiable())
        .count()
}

#[test]
fn adopt_lockfile_records_every_format_by_its_own_digest() {
    if !crate::support::real_lockfiles_present(
        "adopt_lockfile_records_every_format_by_its_own_digest",
    ) {
        return;
    }
    let world = World::start();
    let me = world.person("me");
    let alice = world.person("alice");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &alice],
        "",
        "[[rule]]\npackages = \"pkg:*\"\nmin_adopters = 1\n",
    );
    world.vouch(&me, &policy, &alice);
    // (lockfile, a version it pins by its own digest, a dependency that must not be
    // recorded as a registry package).
    let mut cases: Vec<(PathBuf, &str, Option<&str>)> = [
        (
            "ripgrep-14.1.1/Cargo.lock",
            "pkg:cargo/memchr@2.7.4",
            Some("pkg:cargo/ripgrep@14.1.1 (local)"),
        ),
        (
            "sqlx-0.9.0/Cargo.lock",
            "pkg:cargo/serde-json@1.0.149",
            Some("pkg:cargo/sqlx@0.9.0 (local)"),
        ),
        (
            "salesforce-cli-2.150.6/npm-shrinkwrap.json",
            "pkg:npm/%40oclif/core@4.14.0",
            None,
        ),
        // yarn v1; string-width 4.2.3 is also pinned under the alias string-width-cjs.
        (
            "salesforce-cli-2.150.6/oclif.lock",
            "pkg:npm/string-width@4.2.3",
            None,
        ),
        (
            "anywidget-0.11.0/pnpm-lock.yaml",
            "pkg:npm/vite@7.3.2",
            None,
        ),
        (
            "anywidget-0.9.0/pnpm-lock.yaml",
            "pkg:npm/typescript@5.3.3",
            None,
        ),
        (
            "flask-3.1.1/uv.lock",
            "pkg:pypi/markupsafe@3.0.2",
            Some("pkg:pypi/flask@3.1.1 (path .)"),
        ),
        (
            "mozilla-version-4.1.0/requirements/docs.txt",
            "pkg:pypi/charset-normalizer@3.3.2",
            None,
        ),
    ]
    .into_iter()
    .map(|(file, sample, not_registry)| (real_lockfile(file), sample, not_registry))
    .collect();
    // Poetry's, where it is on this machine (no registry package ships one).
    if let Some(poetry) = poetry_lockfile() {
        cases.push((
            poetry,
            "pkg:pypi/dulwich@1.2.1",
            Some(
                "pkg:pypi/poetry-core@2.4.1 (git https://github.com/python-poetry/poetry-core.git#e3998b0e111dc03e4aa721fd054c48e5c7de6fc5)",
            ),
        ));
    } else {
        eprintln!(
            "adopt_lockfile_records_every_format_by_its_own_digest: no poetry.lock here (set QUORUM_POETRY_LOCKFILE): Poetry's case SKIPPED"
        );
    }
    for (path, sample, not_registry) in cases {
        let file = path.display();
        let expected = verifiable(&path);
        assert!(expected > 20, "{file}: {expected}");
        let before = world.checkpoint_size();
        let out = world.quorum(
            &alice,
            Some(&policy),
            &[
                "--json",
                "adopt",
                "--lockfile",
                path.to_str().expect("utf-8 path"),
            ],
        );
        expect_exit(&out, 0);
        let (stdout, stderr) = text(&out);
        // At most 256 subjects per statement, each envelope within the log's 64 KiB (npm's
        // SHA-512 subjects fit fewer), each logged with a receipt.
        let receipts: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON receipt per line"))
            .collect();
        assert!(receipts.len() >= expected.div_ceil(256), "{file}: {stdout}");
        assert!(receipts.len() <= expected.div_ceil(150), "{file}: {stdout}");
        assert!(
            receipts.iter().all(|r| r["verified"].is_object()),
            "{stdout}"
        );
        // The same versions by the same digests are the same statements (an adoption carries
        // no time, and the signature is deterministic): the log answers a duplicate with the
        // earlier entry. The Salesforce CLI's yarn.lock pins exactly what its
        // npm-shrinkwrap.json pins, so its adoptions are all duplicates.
        let indices: Vec<u64> = receipts
            .iter()
            .map(|r| r["index"].as_u64().expect("receipt index"))
            .collect();
        let new = receipts
            .iter()
            .filter(|r| r["status"] != "duplicate")
            .count() as u64;
        assert!(
            receipts
                .iter()
                .zip(&indices)
                .all(|(r, &i)| r["status"] == "duplicate" || i >= before),
            "{file}: {stdout}"
        );
        world.wait_for_size(before + new);
        if let Some(last) = indices.iter().max() {
            world.wait_for_size(last + 1);
        }
        if let Some(dependency) = not_registry {
            assert!(
                stderr.contains("do not come from the registry") && stderr.contains(dependency),
                "{file}: {stderr}"
            );
        }
        // The version is counted for the person who trusts alice: adopted by its digest.
        let out = world.quorum(&me, Some(&policy), &["--json", "verify", sample]);
        let v = json(&out);
        assert_eq!(
            v["decisions"][0]["verdict"], "allow",
            "{file}: {sample}: {v}"
        );
    }
}

#[test]
fn adopt_lockfile_refuses_what_cannot_be_bound_to_an_artifact() {
    if !crate::support::real_lockfiles_present(
        "adopt_lockfile_refuses_what_cannot_be_bound_to_an_artifact",
    ) {
        return;
    }
    let world = World::start();
    let alice = world.person("alice");
    let policy = world.policy("policy.toml", &[&alice], &[&alice], "", "");
    let size = world.checkpoint_size();
    for (file, why) in [
        // Berry pins the SHA-512 of Yarn's cache zip, not of the npm tarball.
        (
            "create-redwood-app-8.9.0/templates/ts/yarn.lock",
            "Yarn Berry's checksum",
        ),
        // No hashes at all.
        (
            "flask-3.1.1/examples/celery/requirements.txt",
            "--generate-hashes",
        ),
    ] {
        let path = real_lockfile(file);
        let out = world.quorum(
            &alice,
            Some(&policy),
            &["adopt", "--lockfile", path.to_str().expect("utf-8 path")],
        );
        expect_exit(&out, 64);
        let (_, stderr) = text(&out);
        assert!(stderr.contains(why), "{file}: {stderr}");
        assert!(
            stderr.contains("no adoption can be bound"),
            "{file}: {stderr}"
        );
    }
    assert_eq!(world.checkpoint_size(), size, "nothing was logged");
}

#[test]
fn an_advisory_reaches_every_spelling_of_a_pypi_name() {
    if !crate::support::real_lockfiles_present("an_advisory_reaches_every_spelling_of_a_pypi_name")
    {
        return;
    }
    let world = World::start();
    let me = world.person("me");
    let secteam = world.person("secteam");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &secteam],
        "",
        "[[rule]]\npackages = \"pkg:pypi/*\"\nmin_adopters = 1\n",
    );
    world.vouch(&me, &policy, &secteam);
    // The advisory spells the project as its wheels' file names do; the requirements file
    // as pip-compile writes it (`charset-normalizer==3.3.2`), the lockfile reader as PEP 503
    // does.
    let out = world.quorum(
        &secteam,
        Some(&policy),
        &[
            "advise",
            "pkg:pypi/Charset_Normalizer",
            "MAL-2026-0042",
            "--malicious",
            "--affected",
            "3.3.2",
        ],
    );
    expect_exit(&out, 0);
    let lockfile = real_lockfile("mozilla-version-4.1.0/requirements/docs.txt");
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "--json",
            "verify",
            "--lockfile",
            lockfile.to_str().expect("utf-8 path"),
        ],
    );
    expect_exit(&out, 1);
    let v = json(&out);
    let decisions = v["decisions"].as_array().expect("decisions");
    let charset: Vec<_> = decisions
        .iter()
        .filter(|d| d["purl"].as_str().is_some_and(|p| p.contains("charset")))
        .map(|d| {
            (
                d["purl"].as_str().unwrap_or(""),
                d["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        charset.contains(&("pkg:pypi/charset-normalizer@3.3.2", "deny")),
        "{charset:?}"
    );
    let denied = decisions.iter().filter(|d| d["verdict"] == "deny").count();
    assert_eq!(denied, 1, "only the advised version: {v}");
    // And asking for it under any spelling gives the same answer.
    for spelling in [
        "pkg:pypi/charset.normalizer@3.3.2",
        "pkg:pypi/CHARSET-normalizer@3.3.2",
    ] {
        let out = world.quorum(&me, Some(&policy), &["--json", "verify", spelling]);
        expect_exit(&out, 1);
        assert_eq!(json(&out)["decisions"][0]["verdict"], "deny", "{spelling}");
    }
}

#[test]
fn verify_piped_into_head_exits_quietly() {
    let world = World::start();
    let me = world.person("me");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me],
        "",
        "[[rule]]\npackages = \"pkg:*\"\nmin_adopters = 1\n",
    );
    // A logged, cosigned statement, so that there is a checkpoint to verify against.
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "adopt",
            "pkg:npm/left-pad@1.3.0",
            "--digest",
            &"ab".repeat(32),
        ],
    );
    expect_exit(&out, 0);
    // `quorum --json verify --lockfile Cargo.lock | head -1` on wasmtime's 583 packages (the
    // JSON report, with every decision's reasons, is larger than the table).
    let lockfile = crate::support::wasmtime_cargo_lock();
    // The whole table must be more than a pipe holds (64 KiB), or closing the pipe early
    // would test nothing: measured here, with the same policy and log.
    let whole = world.quorum(
        &me,
        Some(&policy),
        &[
            "--json",
            "verify",
            "--lockfile",
            &lockfile.display().to_string(),
        ],
    );
    assert!(
        whole.stdout.len() > 65_536,
        "the report is only {} bytes: it fits in a pipe",
        whole.stdout.len()
    );
    let mut child = world
        .quorum_command(&me, Some(&policy))
        .args(["--json", "verify", "--lockfile"])
        .arg(&lockfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn quorum");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).expect("first line");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        first.starts_with('{'),
        "{first:?} {:?} {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}
