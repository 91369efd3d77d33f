//! Lockfiles of real projects through the real binaries: `quorum adopt --lockfile` records
//! every format's registry versions by the ecosystem's own digest (npm's SRI sha512 included),
//! non-registry dependencies are never recorded as registry packages, and one package has
//! one name (an advisory written `zope.interface` reaches the `zope-interface` a
//! requirements file pins).

use std::process::Stdio;

use quorum_verifier::lockfile::read_lockfile;

use crate::harness::{World, expect_exit, json, text};
use crate::support::real_lockfile;

/// How many registry versions of `relative` carry an artifact digest (the subjects `adopt`
/// must record), by the library's reader.
fn verifiable(relative: &str) -> usize {
    let path = real_lockfile(relative);
    let content = std::fs::read_to_string(&path).expect("read lockfile");
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
    let cases = [
        ("ripgrep/Cargo.lock", "pkg:cargo/memchr@2.8.3", None),
        (
            "npm-cli/package-lock.json",
            "pkg:npm/%40npmcli/agent@3.0.0",
            Some("pkg:npm/%40npmcli/arborist@8.0.0 (path workspaces/arborist)"),
        ),
        (
            "pnpm/pnpm-lock.yaml",
            "pkg:npm/%40pnpm/exe.linux-x64@12.0.0-rc.8",
            Some("pkg:npm/node@26.7.0 (url https://nodejs.org/"),
        ),
        (
            "pnpm-v6/pnpm-lock.yaml",
            "pkg:npm/%40babel/core@7.23.9",
            None,
        ),
        (
            "yarn-v1/yarn.lock",
            "pkg:npm/%40zkochan/cmd-shim@3.1.0",
            None,
        ),
        (
            "poetry/poetry.lock",
            "pkg:pypi/dulwich@1.2.1",
            Some(
                "pkg:pypi/poetry-core@2.4.1 (git https://github.com/python-poetry/poetry-core.git#e3998b0e111dc03e4aa721fd054c48e5c7de6fc5)",
            ),
        ),
        (
            "uv/uv.lock",
            "pkg:pypi/ruff@0.16.2",
            Some("pkg:pypi/uv@0.12.5 (path .)"),
        ),
        (
            "warehouse/requirements-main.txt",
            "pkg:pypi/zope-interface@5.1.0",
            None,
        ),
    ];
    for (file, sample, not_registry) in cases {
        let path = real_lockfile(file);
        let expected = verifiable(file);
        assert!(expected > 40, "{file}: {expected}");
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
        world.wait_for_size(before + receipts.len() as u64);
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
        ("prettier/yarn.lock", "Yarn Berry's checksum"),
        // No hashes at all.
        ("flask-celery/requirements.txt", "--generate-hashes"),
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
    // The advisory spells the project as PyPI displays it; the requirements file as
    // pip-compile writes it (`zope.interface==5.1.0`), the lockfile reader as PEP 503 does.
    let out = world.quorum(
        &secteam,
        Some(&policy),
        &[
            "advise",
            "pkg:pypi/zope.interface",
            "MAL-2026-0042",
            "--malicious",
            "--affected",
            "5.1.0",
        ],
    );
    expect_exit(&out, 0);
    let lockfile = real_lockfile("warehouse/requirements-main.txt");
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
    let zope: Vec<_> = decisions
        .iter()
        .filter(|d| d["purl"].as_str().is_some_and(|p| p.contains("zope")))
        .map(|d| {
            (
                d["purl"].as_str().unwrap_or(""),
                d["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        zope.contains(&("pkg:pypi/zope-interface@5.1.0", "deny")),
        "{zope:?}"
    );
    let denied = decisions.iter().filter(|d| d["verdict"] == "deny").count();
    assert_eq!(denied, 1, "only the advised version: {v}");
    // And asking for it under any spelling gives the same answer.
    for spelling in [
        "pkg:pypi/Zope_Interface@5.1.0",
        "pkg:pypi/zope.interface@5.1.0",
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
