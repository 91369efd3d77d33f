//! Verdicts bound to the artifact the lockfile pins (issue 14, items 1, 5 and 7), attacked
//! through the real binaries: a registry that serves another artifact than the one a trusted
//! auditor saw, advisories whose fixed version must be read in the ecosystem's order, and the
//! summary a script reads.

use std::path::PathBuf;

use quorum_verifier::lockfile::{LockedPackage, PinnedDigest, read_lockfile};
use serde_json::Value;

use crate::harness::{Person, World, expect_exit, json, text};

/// wasmtime's real `Cargo.lock` (kept in `../shared/realdata`, present in CI).
fn wasmtime_lock() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata/cargo-vet/wasmtime/Cargo.lock")
}

/// The registry entry of `name` (canonical: crates.io folds `_` to `-`) in wasmtime's lockfile,
/// read by the library's reader.
fn pinned(name: &str) -> LockedPackage {
    let content = std::fs::read_to_string(wasmtime_lock()).expect("wasmtime's Cargo.lock");
    read_lockfile("Cargo.lock", &content)
        .expect("it parses")
        .packages
        .into_iter()
        .find(|p| p.package == format!("pkg:cargo/{name}") && p.source.is_registry())
        .unwrap_or_else(|| panic!("{name} is in wasmtime's Cargo.lock"))
}

fn sha256_of(p: &LockedPackage) -> String {
    p.digests
        .iter()
        .find_map(|d| match d {
            PinnedDigest::Sha256(hex) => Some(hex.clone()),
            _ => None,
        })
        .expect("Cargo.lock pins a sha256 checksum")
}

/// `quorum attest <purl> --digest <digest> --verdict pass` as `who`.
fn attest(world: &World, who: &Person, policy: &std::path::Path, purl: &str, digest: &str) {
    let out = world.quorum(
        who,
        Some(policy),
        &[
            "attest",
            purl,
            "--digest",
            digest,
            "--verdict",
            "pass",
            "--criteria",
            "safe-to-deploy",
        ],
    );
    expect_exit(&out, 0);
}

/// The decision for `purl` in a `verify --json` answer.
fn decision<'v>(v: &'v Value, purl: &str) -> &'v Value {
    v["decisions"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["purl"] == purl))
        .unwrap_or_else(|| panic!("no decision for {purl} in {v}"))
}

/// Issue 14, item 1: wasmtime's `Cargo.lock` pins serde 1.0.228 by its crates.io checksum;
/// a trusted auditor's passing audit names another digest for that version (what a registry
/// serving a substituted `.crate` looks like). The lockfile's serde is denied with a plain
/// reason, while serde_derive, audited under the very checksum the lockfile pins, is allowed.
/// Before the binding, the audit of the other artifact made serde `allow`.
#[test]
fn an_audit_of_another_artifact_denies_the_pinned_version() {
    let world = World::start();
    let me = world.person("me");
    let auditor = world.person("auditor");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &auditor],
        "",
        "[[rule]]\npackages = \"pkg:cargo/serde*\"\nrequired_auditors = [\"auditor\"]\n\n[[rule]]\npackages = \"pkg:cargo/*\"\n",
    );
    expect_exit(
        &world.quorum(
            &me,
            Some(&policy),
            &["trust", &auditor.public, "--level", "high"],
        ),
        0,
    );
    let serde = pinned("serde");
    let serde_derive = pinned("serde-derive");
    let serde_purl = serde.purl();
    let derive_purl = serde_derive.purl();
    // Another artifact: any digest but the pinned one (here serde_derive's real checksum).
    let other = sha256_of(&serde_derive);
    assert_ne!(other, sha256_of(&serde));
    attest(&world, &auditor, &policy, &serde_purl, &other);
    attest(
        &world,
        &auditor,
        &policy,
        &derive_purl,
        &sha256_of(&serde_derive),
    );
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);

    let lock = wasmtime_lock();
    let lock = lock.to_str().expect("utf-8 path");
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--lockfile", lock, "--mirror"],
    );
    expect_exit(&out, 1);
    let v = json(&out);
    let d = decision(&v, &serde_purl);
    assert_eq!(d["verdict"], "deny", "{d}");
    let reasons = d["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "passing audit by auditor ({}…)",
            &auditor.public[..16]
        )) && reasons.contains(&format!(
            "is of another artifact of {serde_purl} (sha256 {}…) than the lockfile pins (sha256 {}…): the registry may be serving something other than what was audited",
            &other[..16],
            &sha256_of(&serde)[..16]
        )),
        "{reasons}"
    );
    assert_eq!(d["signals"]["other_artifacts"], 1, "{d}");
    assert_eq!(d["artifact"]["binding"], "pinned", "{d}");
    assert_eq!(
        d["artifact"]["digests"]["sha256"][0],
        sha256_of(&serde),
        "{d}"
    );
    let d = decision(&v, &derive_purl);
    assert_eq!(d["verdict"], "allow", "{d}");
    assert_eq!(d["signals"]["passing_audits"], 1, "{d}");
    // The summary counts every decision; wasmtime's own crates (path entries) are listed,
    // not decided.
    let decisions = v["decisions"].as_array().expect("decisions");
    let count = |verdict: &str| decisions.iter().filter(|d| d["verdict"] == verdict).count();
    let summary = &v["summary"];
    assert_eq!(summary["allow"], count("allow"), "{summary}");
    assert_eq!(summary["deny"], 1, "{summary}");
    assert_eq!(
        summary["insufficient-evidence"],
        count("insufficient-evidence"),
        "{summary}"
    );
    let local = v["local"].as_array().expect("local entries");
    assert_eq!(summary["local"], local.len(), "{summary}");
    assert!(
        local.iter().any(|l| l["purl"] == "pkg:cargo/wasmtime"
            || l["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:cargo/wasmtime@"))),
        "{summary}"
    );
    assert!(count("allow") > 100, "{summary}");

    // --only-failing: what is not allowed, in JSON and in text, with the same summary.
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "--json",
            "verify",
            "--lockfile",
            lock,
            "--mirror",
            "--only-failing",
        ],
    );
    expect_exit(&out, 1);
    let failing = json(&out);
    assert_eq!(failing["summary"], v["summary"]);
    let shown = failing["decisions"].as_array().expect("decisions");
    assert_eq!(shown.len(), decisions.len() - count("allow"));
    assert!(shown.iter().all(|d| d["verdict"] != "allow"));
    assert_eq!(decision(&failing, &serde_purl)["verdict"], "deny");
    let out = world.quorum(
        &me,
        Some(&policy),
        &["verify", "--lockfile", lock, "--mirror", "--only-failing"],
    );
    expect_exit(&out, 1);
    let (stdout, _) = text(&out);
    assert!(stdout.contains(&format!("{serde_purl} ")), "{stdout}");
    assert!(!stdout.contains(&format!("{derive_purl} ")), "{stdout}");
    assert!(
        stdout.lines().any(|l| l
            == format!(
                "summary: {} allow, 1 deny, {} insufficient-evidence, {} local (path) entries not decided",
                count("allow"),
                count("insufficient-evidence"),
                local.len()
            )),
        "{stdout}"
    );

    // The same audit, asked about without a lockfile, is not bound to any artifact and
    // says so rather than pretending.
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", &serde_purl, "--mirror"],
    );
    expect_exit(&out, 0);
    let v = json(&out);
    let d = &v["decisions"][0];
    assert_eq!(d["artifact"]["binding"], "unbound", "{d}");
    assert!(
        d["warnings"][0]
            .as_str()
            .is_some_and(|w| w.starts_with("not bound to an artifact")),
        "{d}"
    );
}

/// Issue 14, item 5: `quorum advise pkg:cargo/tokio … --fixed 1.39.0` reports every version
/// before the fix, in SemVer order: 1.38.1 is denied, the fix and every later version (2.0.0,
/// 1.100.0, which sorts before 1.39.0 as a string) are left alone. Before, the advisory's
/// unversioned `affected` product vetoed every version, 2.0.0 included.
#[test]
fn a_fixed_version_leaves_later_versions_alone() {
    let world = World::start();
    let me = world.person("me");
    let secteam = world.person("secteam");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &secteam],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\n",
    );
    expect_exit(
        &world.quorum(
            &me,
            Some(&policy),
            &["trust", &secteam.public, "--level", "high"],
        ),
        0,
    );
    let out = world.quorum(
        &secteam,
        Some(&policy),
        &[
            "advise",
            "pkg:cargo/tokio",
            "RUSTSEC-2099-0001",
            "--fixed",
            "1.39.0",
        ],
    );
    expect_exit(&out, 0);
    for (version, code, verdict) in [
        ("2.0.0", 0, "allow"),
        ("1.100.0", 0, "allow"),
        ("1.39.0", 0, "allow"),
        ("1.38.1", 1, "deny"),
        ("0.2.25", 1, "deny"),
        ("1.39.0-rc.1", 1, "deny"),
    ] {
        let purl = format!("pkg:cargo/tokio@{version}");
        let out = world.quorum(&me, Some(&policy), &["--json", "verify", &purl]);
        expect_exit(&out, code);
        let v = json(&out);
        let d = &v["decisions"][0];
        assert_eq!(d["verdict"], verdict, "{purl}: {d}");
        if verdict == "deny" {
            assert!(
                d["reasons"][0]
                    .as_str()
                    .is_some_and(|r| {
                        r.starts_with(&format!(
                    "advisory RUSTSEC-2099-0001 by secteam ({}…) reports this version vulnerable",
                    &secteam.public[..16]
                ))
                    }),
                "{purl}: {d}"
            );
            assert_eq!(d["signals"]["advisory_ids"][0], "RUSTSEC-2099-0001", "{d}");
        }
    }
}
