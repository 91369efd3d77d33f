//! cargo-vet's semantics through the real binaries, on wasmtime's real `supply-chain/`
//! (`../shared/realdata/cargo-vet/wasmtime/`), compared package by package with cargo-vet's
//! own conclusion (`verifier/tests/data/cargo-vet/`, written by `scripts/cargo-vet-oracle.sh`
//! with cargo-vet 0.10.3).
//!
//! Keys: wasmtime's own `audits.toml` is imported under one importer key (`wasmtime`), its
//! `imports.lock` (the audits of google, mozilla, embark-studios, isrg and spinframework as
//! wasmtime locked them, and the crates.io publisher records) under another
//! (`wasmtime-imports`): an `imports.lock` is one project's record of what it imported, so
//! one key restates it; each entry keeps its `import` name. The policy requires
//! `safe-to-deploy` with one passing audit and lets only those two keys audit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Person, World, expect_exit, text};

const REVISION: &str = "e6b33de5139d915a48127fc78b790e2d306cf896";

fn wasmtime(file: &str) -> PathBuf {
    crate::support::realdata(&format!("cargo-vet/wasmtime/{file}"))
}

fn oracle(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../verifier/tests/data/cargo-vet")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("oracle file")).expect("JSON")
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `quorum import cargo-vet <file>` as `who`; returns the number of new statements.
fn import(world: &World, who: &Person, policy: &Path, file: &str) -> u64 {
    let path = wasmtime(file);
    let url = format!(
        "https://raw.githubusercontent.com/bytecodealliance/wasmtime/{REVISION}/supply-chain/{file}"
    );
    let out = world.quorum(
        who,
        Some(policy),
        &[
            "--json",
            "import",
            "cargo-vet",
            arg(&path),
            "--source",
            &url,
            "--revision",
            REVISION,
        ],
    );
    expect_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    summary["new"].as_u64().expect("new")
}

/// How cargo-vet's data could certify a version, the strongest first: for the table.
fn category(
    audits: &toml::Table,
    imports: &toml::Table,
    config: &toml::Table,
    name: &str,
    version: &str,
) -> &'static str {
    let mut sets: Vec<&toml::Table> = vec![audits];
    if let Some(toml::Value::Table(by_import)) = imports.get("audits") {
        sets.extend(by_import.values().filter_map(|v| v.as_table()));
    }
    let entries = |section: &str| -> Vec<&toml::Table> {
        sets.iter()
            .filter_map(|s| s.get(section)?.as_table()?.get(name)?.as_array())
            .flatten()
            .filter_map(|e| e.as_table())
            .collect()
    };
    let published = imports
        .get("publisher")
        .and_then(|p| p.get(name))
        .and_then(|v| v.as_array())
        .is_some_and(|records| {
            records
                .iter()
                .any(|r| r.get("version").and_then(|v| v.as_str()) == Some(version))
        });
    let first_party = imports
        .get("unpublished")
        .and_then(|p| p.get(name))
        .is_some();
    let exempted = config
        .get("exemptions")
        .and_then(|e| e.get(name))
        .and_then(|v| v.as_array())
        .is_some_and(|list| {
            list.iter()
                .any(|x| x.get("version").and_then(|v| v.as_str()) == Some(version))
        });
    let audits = entries("audits");
    if first_party {
        "first-party (audit-as-crates-io, unpublished)"
    } else if audits
        .iter()
        .any(|a| a.get("version").and_then(|v| v.as_str()) == Some(version))
    {
        "full audit of the version"
    } else if published && !entries("wildcard-audits").is_empty() {
        "wildcard audit"
    } else if published && !entries("trusted").is_empty() {
        "trusted entry"
    } else if audits.iter().any(|a| {
        a.get("delta")
            .and_then(|v| v.as_str())
            .and_then(|d| d.split_once("->"))
            .is_some_and(|(_, to)| to.trim() == version)
    }) {
        "delta chain"
    } else if exempted {
        "exemption only"
    } else {
        "no audit, no exemption"
    }
}

/// Every package of wasmtime's `Cargo.lock` that cargo-vet vets (542 third-party packages):
/// Quorum allows it under a policy requiring `safe-to-deploy` by wasmtime's importer keys
/// exactly when cargo-vet finds a `safe-to-deploy` audit chain with every exemption removed.
/// The one category where they differ by design is asserted and explained: wasmtime's own
/// unpublished `-dev` crates, which cargo-vet vets through `[[unpublished]]` records that
/// Quorum does not import. Exemptions never allow.
#[test]
fn wasmtime_safe_to_deploy_agrees_with_cargo_vet() {
    let world = World::start();
    let me = world.person("me");
    let own = world.person("wasmtime");
    let imports_key = world.person("wasmtime-imports");
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me, &own, &imports_key],
        "",
        "[powers.auditor]\nholders = [\"wasmtime\", \"wasmtime-imports\"]\nmax_hops = 0\n\n\
         [[rule]]\npackages = \"pkg:cargo/*\"\nmin_audits = 1\nrequired_criteria = [\"safe-to-deploy\"]\n",
    );
    let own_entries = import(&world, &own, &policy, "audits.toml");
    let imported_entries = import(&world, &imports_key, &policy, "imports.lock");
    assert!(own_entries > 0 && imported_entries > 0);
    // A bulk import returns once its entries are durable; verify reads a cosigned
    // checkpoint, so wait for one that covers both imports (the log held nothing before).
    world.wait_for_size(own_entries + imported_entries);

    let lockfile = wasmtime("Cargo.lock");
    let out = world.quorum(
        &me,
        Some(&policy),
        &["--json", "verify", "--lockfile", arg(&lockfile)],
    );
    let (stdout, stderr) = text(&out);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let mut quorum: BTreeMap<(String, String), String> = BTreeMap::new();
    for d in report["decisions"].as_array().expect("decisions") {
        let name = d["package"]
            .as_str()
            .and_then(|p| p.strip_prefix("pkg:cargo/"))
            .expect("a cargo purl")
            .to_owned();
        let version = d["version"].as_str().expect("version").to_owned();
        quorum.insert(
            (name, version),
            d["verdict"].as_str().expect("verdict").into(),
        );
    }

    let configured = oracle("wasmtime-as-configured.json");
    let strict = oracle("wasmtime-safe-to-deploy-no-exemptions.json");
    let pairs = |v: &Value| -> BTreeSet<(String, String)> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().expect("name").to_owned(),
                    p["version"].as_str().expect("version").to_owned(),
                )
            })
            .collect()
    };
    let third_party: BTreeSet<_> = ["vetted_fully", "vetted_partially", "vetted_with_exemptions"]
        .iter()
        .flat_map(|k| pairs(&configured[*k]))
        .collect();
    let failing = pairs(&strict["failures"]);
    assert_eq!((third_party.len(), failing.len()), (542, 140));

    let read = |f: &str| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(wasmtime(f)).expect("read")).expect("TOML")
    };
    let (audits, imports, config) = (
        read("audits.toml"),
        read("imports.lock"),
        read("config.toml"),
    );
    // category → (both vetted, both not, disagree, an example), and every disagreement.
    let mut table: BTreeMap<&str, (u32, u32, u32, String)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut exempted_allowed = Vec::new();
    for (name, version) in &third_party {
        let vetted = !failing.contains(&(name.clone(), version.clone()));
        // `verify --lockfile` decides registry packages only: wasmtime's own crates are
        // workspace members (no `source` in Cargo.lock). Quorum names crates by their one
        // canonical spelling (crates.io folds `_` and `-`).
        let verdict = quorum
            .get(&(name.replace('_', "-").to_lowercase(), version.clone()))
            .map_or("not decided (workspace member)", String::as_str);
        let allowed = verdict == "allow";
        let category = category(&audits, &imports, &config, name, version);
        let row = table.entry(category).or_default();
        if row.3.is_empty() {
            row.3 = format!("{name} {version}: {verdict}");
        }
        match (allowed, vetted) {
            (true, true) => row.0 += 1,
            (false, false) => row.1 += 1,
            _ => {
                row.2 += 1;
                disagreements.push(format!(
                    "{name} {version}: cargo-vet {}, quorum {verdict} ({category})",
                    if vetted { "vetted" } else { "fails" }
                ));
            }
        }
        if allowed && category == "exemption only" {
            exempted_allowed.push(format!("{name} {version}"));
        }
    }
    let mut printed = String::from(
        "| category | agree: both vetted | agree: both not | disagree | example |\n|---|---|---|---|---|\n",
    );
    for (category, (both, neither, disagree, example)) in &table {
        printed.push_str(&format!(
            "| {category} | {both} | {neither} | {disagree} | {example} |\n"
        ));
    }
    eprintln!("{printed}");
    for d in &disagreements {
        eprintln!("disagreement: {d}");
    }
    assert!(
        exempted_allowed.is_empty(),
        "exemptions allowed: {exempted_allowed:?}"
    );
    // The only disagreements: wasmtime's unpublished first-party crates (cargo-vet vets
    // `0.136.0-dev` as the published version it was `audited_as`; Quorum does not import
    // `[[unpublished]]` records, so nothing certifies a version never published).
    let first_party = "first-party (audit-as-crates-io, unpublished)";
    assert!(
        disagreements
            .iter()
            .all(|d| d.ends_with(&format!("({first_party})"))),
        "{disagreements:#?}"
    );
    assert_eq!(
        table.get(first_party).map(|r| (r.0, r.1, r.2)),
        Some((0, 0, 57)),
        "{printed}"
    );
    assert!(
        disagreements
            .iter()
            .all(|d| d.contains("quorum not decided (workspace member)")),
        "{disagreements:#?}"
    );
    // Every one of the 485 registry packages agrees, and the audited ones are allowed
    // through each way cargo-vet certifies.
    let agree: u32 = table.values().map(|r| r.0 + r.1).sum();
    assert_eq!(agree, 485, "{printed}");
    for way in [
        "full audit of the version",
        "delta chain",
        "wildcard audit",
        "trusted entry",
    ] {
        assert!(table.get(way).is_some_and(|r| r.0 > 0), "{way}: {printed}");
    }
    assert_eq!(
        table.get("exemption only").map(|r| r.0),
        Some(0),
        "{printed}"
    );
}

/// `quorum init --from-cargo-vet` on wasmtime's real `supply-chain/` folder, from a state
/// directory with no key: it creates the user's key and two importer keys, writes a policy
/// trusting them, imports both files into the real log, and reports what `verify
/// --lockfile` now allows: exactly the registry packages cargo-vet vets without exemptions;
/// the 46 versions wasmtime exempts are listed as exempted, never allowed.
#[test]
fn init_from_cargo_vet_starts_wasmtime_where_it_stood() {
    let world = World::start();
    let state = world.dir.path().join("people").join("newcomer");
    let policy_path = state.join("policy.toml");
    let supply_chain = wasmtime("audits.toml")
        .parent()
        .expect("the folder")
        .to_path_buf();
    let quorum = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quorum"))
            .arg("--state-dir")
            .arg(&state)
            .args(args)
            .env_remove("QUORUM_HOME")
            .output()
            .expect("quorum runs");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{out:?}"
        );
        out
    };
    let mut args = vec![
        "--json".to_string(),
        "--log".into(),
        world.url.clone(),
        "init".into(),
        "--origin".into(),
        crate::harness::ORIGIN.into(),
        "--log-key".into(),
        world.log_vkey.clone(),
    ];
    for w in &world.witnesses {
        args.extend(["--witness".into(), w.vkey.clone()]);
    }
    args.extend([
        "--from-cargo-vet".into(),
        arg(&supply_chain).into(),
        "--cargo-vet-source".into(),
        format!(
            "https://raw.githubusercontent.com/bytecodealliance/wasmtime/{REVISION}/supply-chain"
        ),
        "--revision".into(),
        REVISION.into(),
        "--project".into(),
        "wasmtime".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = quorum(&args);
    expect_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));

    // The keys: the user's and one per file, and the policy naming the importers.
    assert!(state.join("key").is_file());
    for alias in ["wasmtime", "wasmtime-imports"] {
        assert!(
            state
                .join("importers")
                .join(format!("{alias}.key"))
                .is_file()
        );
    }
    let policy = std::fs::read_to_string(&policy_path).expect("policy written");
    assert!(
        policy.contains("holders = [\"wasmtime\", \"wasmtime-imports\"]"),
        "{policy}"
    );

    // What verify now allows: cargo-vet's answer without exemptions, registry packages.
    let strict = oracle("wasmtime-safe-to-deploy-no-exemptions.json");
    let configured = oracle("wasmtime-as-configured.json");
    let purl = |p: &Value| {
        format!(
            "pkg:cargo/{}@{}",
            p["name"]
                .as_str()
                .expect("name")
                .replace('_', "-")
                .to_lowercase(),
            p["version"].as_str().expect("version")
        )
    };
    let failing: BTreeSet<String> = strict["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(purl)
        .collect();
    let exempted_by_wasmtime: BTreeSet<String> = configured["vetted_with_exemptions"]
        .as_array()
        .expect("list")
        .iter()
        .map(purl)
        .collect();
    assert_eq!(
        (
            report["packages"].as_u64(),
            report["allow"].as_u64(),
            report["deny"].as_u64(),
            report["insufficient_evidence"].as_u64()
        ),
        (Some(485), Some(345), Some(0), Some(140)),
        "{report}"
    );
    let not_allowed = report["not_allowed"].as_array().expect("not_allowed");
    let listed: BTreeSet<String> = not_allowed
        .iter()
        .map(|n| n["purl"].as_str().expect("purl").to_owned())
        .collect();
    assert_eq!(listed, failing, "not allowed = cargo-vet's failures");
    let exempted: BTreeSet<String> = not_allowed
        .iter()
        .filter(|n| n["exempted_by_config"].is_string())
        .map(|n| n["purl"].as_str().expect("purl").to_owned())
        .collect();
    assert_eq!(report["exempted_not_audited"].as_u64(), Some(46));
    assert!(
        exempted_by_wasmtime.is_subset(&exempted),
        "every version wasmtime vets by exemption alone is listed as exempted: {:?}",
        exempted_by_wasmtime
            .difference(&exempted)
            .collect::<Vec<_>>()
    );
    let aes = not_allowed
        .iter()
        .find(|n| n["purl"] == "pkg:cargo/aes@0.8.4")
        .expect("aes is exempted, not audited");
    assert_eq!(aes["verdict"], "insufficient-evidence");
    assert_eq!(aes["exempted_by_config"], "safe-to-deploy");

    // The written policy decides the same from the log in a plain verify.
    let lockfile = wasmtime("Cargo.lock");
    let out = quorum(&["--json", "verify", "--lockfile", arg(&lockfile)]);
    let (stdout, _) = text(&out);
    let v: Value = serde_json::from_str(&stdout).expect("verify JSON");
    let allowed = v["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .filter(|d| d["verdict"] == "allow")
        .count();
    assert_eq!(allowed, 345);
}
