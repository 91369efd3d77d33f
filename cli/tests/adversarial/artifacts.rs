//! Verdicts bound to the artifact the lockfile pins (issue 14, items 1, 5 and 7), attacked
//! through the real binaries: a registry that serves another artifact than the one a trusted
//! auditor saw, advisories whose fixed version must be read in the ecosystem's order, and the
//! summary a script reads.

use std::path::PathBuf;

use quorum_verifier::lockfile::{LockedPackage, PinnedDigest, read_lockfile};
use serde_json::Value;

use crate::harness::{Person, World, expect_exit, json, text};
use crate::support::{realdata, wasmtime_cargo_lock};

/// The registry entry of `name` (canonical: crates.io folds `_` to `-`) in wasmtime's lockfile,
/// read by the library's reader.
fn pinned(name: &str) -> LockedPackage {
    let content = std::fs::read_to_string(wasmtime_cargo_lock()).expect("wasmtime's Cargo.lock");
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
    world.vouch(&me, &policy, &auditor);
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

    let lock = wasmtime_cargo_lock();
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

/// `me` (the root) with a policy of one rule for `packages` that demands nothing, and a
/// security team `me` vouches for directly (so it holds every power by default).
fn me_trusting_secteam(world: &World, packages: &str) -> (Person, Person, PathBuf) {
    let me = world.person("me");
    let secteam = world.person("secteam");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &secteam],
        "",
        &format!("[[rule]]\npackages = \"{packages}\"\n"),
    );
    world.vouch(&me, &policy, &secteam);
    (me, secteam, policy)
}

/// Issue 14, item 5: `quorum advise pkg:cargo/tokio … --fixed 1.39.0` reports every version
/// before the fix, in SemVer order: 1.38.1 is denied, the fix and every later version (2.0.0,
/// 1.100.0, which sorts before 1.39.0 as a string) are left alone. Before, the advisory's
/// unversioned `affected` product vetoed every version, 2.0.0 included.
#[test]
fn a_fixed_version_leaves_later_versions_alone() {
    let world = World::start();
    let (me, secteam, policy) = me_trusting_secteam(&world, "pkg:cargo/*");
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
                d["reasons"][0].as_str().is_some_and(|r| {
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

/// Issue 14, items 3 and 5, through the real binaries: an ownership change reaches "this
/// version and every later one" in version order, not log order (before: 3.2.0, whose
/// first statement predates the report, stayed `allow`), and a policy rule written with the
/// package manager's spelling (`My_Crate`) applies to the canonical purl (before: the rule
/// matched nothing and every version fell to the fallback).
#[test]
fn an_ownership_change_covers_later_versions_in_version_order() {
    let world = World::start();
    let (me, secteam, policy) = me_trusting_secteam(&world, "pkg:cargo/My_Crate");
    // An adoption of 3.2.0 is logged before the report.
    let digest = "cd".repeat(32);
    expect_exit(
        &world.quorum(
            &me,
            Some(&policy),
            &["adopt", "pkg:cargo/my_crate@3.2.0", "--digest", &digest],
        ),
        0,
    );
    expect_exit(
        &world.quorum(
            &secteam,
            Some(&policy),
            &[
                "ownership-change",
                "pkg:cargo/my_crate@3.0.0",
                "--digest",
                &"ab".repeat(32),
                "--new",
                "mallory",
            ],
        ),
        0,
    );
    for (version, code, verdict, changed) in [
        ("2.9.0", 0, "allow", false),
        ("3.0.0", 2, "insufficient-evidence", true),
        ("3.2.0", 2, "insufficient-evidence", true),
        ("10.0.0", 2, "insufficient-evidence", true),
    ] {
        let purl = format!("pkg:cargo/my-crate@{version}");
        let out = world.quorum(&me, Some(&policy), &["--json", "verify", &purl]);
        expect_exit(&out, code);
        let v = json(&out);
        let d = &v["decisions"][0];
        assert_eq!(d["verdict"], verdict, "{purl}: {d}");
        assert_eq!(d["signals"]["ownership_changed"], changed, "{purl}: {d}");
        assert!(
            d["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("rule 1 (pkg:cargo/my-crate,")),
            "the rule written as My_Crate applies to {purl}: {d}"
        );
    }
}

/// Issue 15, item 4 (the decision side): the real RustSec database imported with `quorum
/// import rustsec` decides wasmtime's real lockfile. The importer vetoes only because the
/// policy names it in `[powers.advisory_veto]` (it is no root and nobody vouches for it);
/// affected versions are denied with the advisory's ids, patched ones are not, and an
/// `unmaintained` advisory only warns.
#[test]
fn imported_rustsec_advisories_decide_a_real_lockfile() {
    let world = World::start();
    let me = world.person("me");
    let rustsec = world.person("rustsec");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &rustsec],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\n\n[powers.advisory_veto]\nholders = [\"rustsec\"]\n",
    );
    let db = realdata("rustsec-advisory-db");
    let out = world.quorum(
        &rustsec,
        Some(&policy),
        &[
            "--json",
            "import",
            "rustsec",
            db.to_str().expect("utf-8 path"),
            "--source",
            "https://github.com/rustsec/advisory-db",
            "--revision",
            "bf5c0d245a92671908518d7e765914d437954ed6",
        ],
    );
    expect_exit(&out, 0);
    // The import's summary is its last line; wait until the log has published every
    // statement it logged before mirroring.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("summary");
    let logged = summary["new"].as_u64().expect("new statements");
    assert!(logged > 1000, "{summary}");
    world.wait_for_size(logged);
    expect_exit(&world.quorum(&me, Some(&policy), &["mirror", "--quiet"]), 0);
    let lock = wasmtime_cargo_lock();
    let out = world.quorum(
        &me,
        Some(&policy),
        &[
            "--json",
            "verify",
            "--lockfile",
            lock.to_str().expect("utf-8 path"),
            "--mirror",
        ],
    );
    // wasmtime keeps its lockfile clean of vetoing advisories: nothing is denied, zip 0.6.6
    // lies below RUSTSEC-2025-0168's range (unaffected < 1.3.0), and the two unmaintained
    // crates it pins only warn.
    expect_exit(&out, 0);
    let v = json(&out);
    assert_eq!(v["summary"]["deny"], 0, "{}", v["summary"]);
    let zip = decision(&v, "pkg:cargo/zip@0.6.6");
    assert_eq!(zip["verdict"], "allow", "{zip}");
    assert_eq!(zip["signals"]["advisories"], 0, "{zip}");
    for (purl, id) in [
        ("pkg:cargo/paste@1.0.7", "RUSTSEC-2024-0436"),
        ("pkg:cargo/instant@0.1.13", "RUSTSEC-2024-0384"),
    ] {
        let d = decision(&v, purl);
        assert_eq!(d["verdict"], "allow", "{d}");
        assert_eq!(
            d["signals"]["advisory_kinds"],
            serde_json::json!(["unmaintained"])
        );
        assert!(
            d["warnings"][0]
                .as_str()
                .is_some_and(|w| w.starts_with(&format!(
                    "advisory {id} by rustsec ({}…) reports the package unmaintained",
                    &rustsec.public[..16]
                )) && w.ends_with("it does not veto")),
            "{d}"
        );
    }
    let tokio = decision(&v, "pkg:cargo/tokio@1.51.1");
    assert_eq!(tokio["verdict"], "allow", "{tokio}");

    // Versions inside the real ranges, in SemVer order: tokio 1.44.1 is before the 1.44.2
    // fix of RUSTSEC-2025-0023 (unsound), zip 2.2.0 inside RUSTSEC-2025-0168's
    // [1.3.0, 2.3.0) (a vulnerability, with the affected functions named).
    let decide = |policy: &std::path::Path, purl: &str| {
        let out = world.quorum(&me, Some(policy), &["--json", "verify", purl, "--mirror"]);
        (out.status.code(), json(&out)["decisions"][0].clone())
    };
    for (purl, id, adjective) in [
        ("pkg:cargo/tokio@1.44.1", "RUSTSEC-2025-0023", "unsound"),
        ("pkg:cargo/tokio@1.39.0", "RUSTSEC-2025-0023", "unsound"),
        ("pkg:cargo/zip@2.2.0", "RUSTSEC-2025-0168", "vulnerable"),
    ] {
        let (code, d) = decide(&policy, purl);
        assert_eq!(
            (code, d["verdict"].as_str()),
            (Some(1), Some("deny")),
            "{d}"
        );
        assert!(
            d["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .any(|r| r.as_str().is_some_and(|r| r.starts_with(&format!(
                    "advisory {id} by rustsec ({}…) reports this version {adjective}",
                    &rustsec.public[..16]
                )) && r
                    .contains("advisory_veto held: named as rustsec in [powers.advisory_veto]"))),
            "{d}"
        );
        assert!(
            d["signals"]["advisory_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i == id)),
            "{d}"
        );
    }
    let (_, zip) = decide(&policy, "pkg:cargo/zip@2.2.0");
    assert!(
        zip["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("affected functions: zip::")),
        "{zip}"
    );
    for purl in [
        "pkg:cargo/tokio@1.44.2",
        "pkg:cargo/tokio@1.38.2",
        "pkg:cargo/zip@2.3.0",
    ] {
        let (code, d) = decide(&policy, purl);
        assert_eq!(
            (code, d["verdict"].as_str()),
            (Some(0), Some("allow")),
            "{d}"
        );
    }

    // Without the grant the importer is just a key nobody vouches for: no veto.
    let ungranted = world.policy(
        "ungranted.toml",
        &[&me],
        &[&me, &rustsec],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\n",
    );
    let (code, d) = decide(&ungranted, "pkg:cargo/tokio@1.44.1");
    assert_eq!(
        (code, d["verdict"].as_str()),
        (Some(0), Some("allow")),
        "{d}"
    );
    assert!(
        d["rejected"].as_array().is_some_and(|r| !r.is_empty()
            && r.iter().all(|r| r["reason"]
                .as_str()
                .is_some_and(|t| t.starts_with("advisory by rustsec")))),
        "{d}"
    );
}
