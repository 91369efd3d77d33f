//! The importers on the real public data sets in `../shared/realdata` (see its
//! `SOURCES.md`): counts per kind per source, determinism, RustSec's version requirements
//! against the OSV ranges derived from them, and re-import planning and `--check` on a
//! modified copy of a real file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quorum_verifier::import::reconcile::{self, Difference, LoggedStatement};
use quorum_verifier::import::{Derivation, Origin, SourceFile, cargo_vet, osv, read_file, rustsec};
use quorum_verifier::model::predicates::{Predicate, RangeEvent, validate_statement};
use quorum_verifier::model::statement::sha256_hex;

const SIGNER: [u8; 32] = [7; 32];

fn realdata() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata");
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the real data sets are expected at {}",
        dir.display()
    );
    dir
}

fn origin(source: &str, revision: &str) -> Origin {
    Origin {
        source: source.to_owned(),
        revision: revision.to_owned(),
        tool: "quorum-test".to_owned(),
    }
}

fn load(rel: &str) -> SourceFile {
    let path = realdata().join(rel);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    read_file(&path, &name, quorum_verifier::import::MAX_SOURCE_FILE).expect("readable")
}

fn vet(rel: &str) -> Derivation {
    cargo_vet::derive(
        &load(rel),
        None,
        &origin("https://example.test/audits.toml", "r1"),
        &SIGNER,
    )
    .expect("parses")
}

fn counts(d: &Derivation) -> BTreeMap<String, usize> {
    d.counts()
}

fn map(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn google_audit_set() {
    let d = vet("cargo-vet/google-rust-crate-audits.audits.toml");
    // 2,173 audits: 1,437 full audits and 736 deltas; 10 custom criteria.
    assert_eq!(
        counts(&d),
        map(&[("audit", 1437), ("delta", 736), ("criteria", 10)])
    );
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    let implies: Vec<(String, Vec<String>)> = d
        .entries
        .iter()
        .filter_map(|e| {
            match Predicate::from_value(&e.statement.predicate_type, &e.statement.predicate) {
                Ok(Predicate::CargoVet(c)) if !c.implies.is_empty() => {
                    Some((c.name.unwrap_or_default(), c.implies))
                }
                _ => None,
            }
        })
        .collect();
    assert!(
        implies.contains(&(
            "rule-of-two-safe-to-deploy".to_owned(),
            vec!["safe-to-deploy".to_owned()]
        )),
        "{implies:?}"
    );
}

#[test]
fn mozilla_audit_set() {
    let d = vet("cargo-vet/mozilla-supply-chain.audits.toml");
    // 1,515 audits (351 full, 1,164 deltas), 120 wildcard audits, 228 trusted entries; 24
    // of the audits certify a git revision (`0.1.9 -> 0.1.9@git:<hash>`), not a crates.io
    // version, and are left out with that reason.
    assert_eq!(
        counts(&d),
        map(&[
            ("audit", 347),
            ("delta", 1144),
            ("wildcard", 120),
            ("trusted", 228)
        ])
    );
    assert_eq!(d.skipped.len(), 24, "{:?}", d.skipped);
    assert!(
        d.skipped
            .iter()
            .all(|s| s.reason.contains("names a git revision")),
        "{:?}",
        d.skipped
    );
}

#[test]
fn wasmtime_audits_and_imports_lock() {
    let d = vet("cargo-vet/wasmtime/audits.toml");
    // 771 own audits (300 full, 471 deltas), 227 wildcard audits (81 by trusted publisher),
    // 165 trusted entries.
    assert_eq!(
        counts(&d),
        map(&[
            ("audit", 300),
            ("delta", 471),
            ("wildcard", 227),
            ("trusted", 165)
        ])
    );
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    let lock = vet("cargo-vet/wasmtime/imports.lock");
    // 253 imported audits (83 full, 170 deltas) and 5 wildcard audits from five imports,
    // 228 publisher records;
    // the 57 `unpublished` records are about wasmtime's own unpublished versions.
    assert_eq!(
        counts(&lock),
        map(&[
            ("audit", 83),
            ("delta", 170),
            ("wildcard", 5),
            ("publisher", 228)
        ])
    );
    assert_eq!(lock.skipped.len(), 57, "{:?}", lock.skipped.first());
    assert!(
        lock.skipped
            .iter()
            .all(|s| s.position.starts_with("unpublished."))
    );
    let mut per_import: BTreeMap<String, usize> = BTreeMap::new();
    for e in &lock.entries {
        if let Some(i) = e.statement.predicate.get("import").and_then(|v| v.as_str()) {
            *per_import.entry(i.to_owned()).or_insert(0) += 1;
        }
    }
    assert_eq!(
        per_import,
        map(&[
            ("embark-studios", 6),
            ("google", 22),
            ("isrg", 47),
            ("mozilla", 182),
            ("spinframework", 1)
        ])
    );
}

#[test]
fn every_statement_validates_and_names_its_entry() {
    for rel in [
        "cargo-vet/google-rust-crate-audits.audits.toml",
        "cargo-vet/mozilla-supply-chain.audits.toml",
    ] {
        let file = load(rel);
        let d = vet(rel);
        for e in &d.entries {
            let v = validate_statement(&e.statement).expect("valid");
            let p = quorum_verifier::import::provenance_of(&v.predicate).expect("provenance");
            assert_eq!(p.file_sha256.as_deref(), Some(file.sha256().as_str()));
            assert!(e.position.ends_with(p.position.as_deref().unwrap_or("?")));
        }
        // Deterministic: the same file gives the same statements.
        let again = vet(rel);
        let bytes = |d: &Derivation| {
            d.entries
                .iter()
                .map(|e| e.statement.to_json())
                .collect::<Vec<_>>()
        };
        assert_eq!(bytes(&d), bytes(&again));
    }
    // A crate named like a version is still a crate: google audits one named "0.7.11".
    let d = vet("cargo-vet/google-rust-crate-audits.audits.toml");
    assert!(
        d.entries
            .iter()
            .any(|e| e.statement.subject[0].name == "pkg:cargo/0.7.11@0.7.15")
    );
}

fn rustsec_db() -> Derivation {
    rustsec::derive(
        &realdata().join("rustsec-advisory-db"),
        &origin("https://github.com/rustsec/advisory-db", "bf5c0d2"),
    )
    .expect("reads")
}

#[test]
fn rustsec_counts_by_kind() {
    let d = rustsec_db();
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    // 1,225 advisories: 1,212 live, 13 withdrawn.
    assert_eq!(
        counts(&d),
        map(&[
            ("malicious", 73),
            ("notice", 6),
            ("unmaintained", 258),
            ("unsound", 202),
            ("vulnerability", 673)
        ])
    );
    assert_eq!(d.withdrawn.len(), 13);
    let tower = d
        .withdrawn
        .iter()
        .find(|w| w.file.ends_with("RUSTSEC-2021-0135.md"))
        .expect("the withdrawn tower-http advisory");
    assert_eq!(tower.date, "2022-08-14");
    let toolchain = d
        .entries
        .iter()
        .filter(|e| {
            e.statement.subject[0]
                .name
                .starts_with("pkg:generic/rust-lang/")
        })
        .count();
    assert_eq!(toolchain, 20);
    // Functions and ids travel.
    let jit = d
        .entries
        .iter()
        .find(|e| e.statement.predicate["id"] == "RUSTSEC-2024-0442")
        .expect("RUSTSEC-2024-0442");
    assert_eq!(
        jit.statement.predicate["affected"][0]["functions"][0],
        "wasmtime_jit_debug::perf_jitdump::JitDumpFile::dump_code_load_record"
    );
    assert_eq!(jit.statement.predicate["aliases"][0], "GHSA-9ghp-w2hm-vfpf");
    assert_eq!(jit.statement.predicate["kind"], "unsound");
}

/// Whether OSV events (ascending) cover `v`.
fn covered(events: &[RangeEvent], v: &semver::Version) -> bool {
    let mut affected = false;
    for e in events {
        let at = |s: &String| s == "0" || semver::Version::parse(s).is_ok_and(|x| *v >= x);
        if e.introduced.as_ref().is_some_and(at) {
            affected = true;
        }
        if e.fixed.as_ref().is_some_and(at) {
            affected = false;
        }
    }
    affected
}

#[test]
fn rustsec_ranges_agree_with_cargo_requirements() {
    let root = realdata().join("rustsec-advisory-db");
    let mut checked = 0;
    for file in ["crates", "rust"]
        .iter()
        .flat_map(|c| quorum_verifier::import::read_tree(&root.join(c), &[".md"]).expect("tree"))
    {
        let file = file.expect("readable");
        let text = file.text().expect("utf-8");
        let end = text[8..].find("\n```").expect("closed") + 8;
        let doc: toml::Table = toml::from_str(&text[8..end]).expect("toml");
        let reqs: Vec<semver::VersionReq> = ["patched", "unaffected"]
            .iter()
            .flat_map(|k| {
                doc["versions"]
                    .get(*k)
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|r| semver::VersionReq::parse(r.as_str().expect("string")).expect("req"))
            .collect();
        let events = rustsec::affected_events(&reqs);
        // Release versions around every bound the requirements name.
        let mut samples = vec![
            semver::Version::new(0, 0, 0),
            semver::Version::new(999, 0, 0),
        ];
        for c in reqs.iter().flat_map(|r| &r.comparators) {
            let (m, n, p) = (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            for (a, b, d) in [
                (m, n, p),
                (m, n, p + 1),
                (m, n, p.saturating_sub(1)),
                (m, n + 1, 0),
                (m, n.saturating_sub(1), 99),
                (m + 1, 0, 0),
                (m.saturating_sub(1), 99, 99),
            ] {
                samples.push(semver::Version::new(a, b, d));
            }
        }
        for v in &samples {
            let unaffected = reqs.iter().any(|r| r.matches(v));
            assert_eq!(
                covered(&events, v),
                !unaffected,
                "{}: version {v}, requirements {reqs:?}, events {events:?}",
                file.path
            );
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn pypa_osv_records() {
    let d = osv::derive(
        &realdata().join("pypa-advisory-database/vulns"),
        &origin("https://github.com/pypa/advisory-database", "3ccb612"),
    )
    .expect("reads");
    assert!(d.skipped.is_empty(), "{:?}", d.skipped.first());
    // 2,661 records: 2,651 live vulnerabilities, 10 withdrawn.
    assert_eq!(counts(&d), map(&[("vulnerability", 2651)]));
    assert_eq!(d.withdrawn.len(), 10);
    let sky = d
        .entries
        .iter()
        .find(|e| e.statement.predicate["id"] == "PYSEC-2020-342")
        .expect("PYSEC-2020-342");
    assert_eq!(sky.statement.subject[0].name, "pkg:pypi/apache-skywalking");
    let affected = &sky.statement.predicate["affected"][0];
    assert_eq!(affected["ecosystem"], "PyPI");
    assert_eq!(affected["ranges"][0]["type"], "ECOSYSTEM");
    assert_eq!(affected["ranges"][0]["events"][0]["introduced"], "0");
    assert_eq!(affected["versions"].as_array().map(Vec::len), Some(10));
    assert_eq!(sky.statement.predicate["aliases"][0], "CVE-2020-13921");
    // Commit ranges are not carried: oslo-middleware has ECOSYSTEM ranges only here.
    let oslo = d
        .entries
        .iter()
        .find(|e| e.statement.predicate["id"] == "PYSEC-2018-104")
        .expect("PYSEC-2018-104");
    assert_eq!(
        oslo.statement.predicate["affected"][0]["ranges"][0]["events"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
}

// ---------------------------------------------------------------------------------------
// Re-import and check, on the real file and a modified copy of it
// ---------------------------------------------------------------------------------------

/// The derivation's statements as if the importer had logged them, one per index.
fn as_logged(d: &Derivation) -> Vec<LoggedStatement> {
    d.entries
        .iter()
        .enumerate()
        .map(|(i, e)| LoggedStatement {
            index: i as u64,
            envelope_digest: quorum_verifier::model::statement::parse_hex32(&sha256_hex(
                &e.statement.to_json(),
            ))
            .expect("hex"),
            statement: validate_statement(&e.statement).expect("valid"),
        })
        .collect()
}

const GOOGLE: &str = "cargo-vet/google-rust-crate-audits.audits.toml";
const SOURCE: &str = "https://example.test/audits.toml";

#[test]
fn reimport_logs_new_entries_and_revokes_vanished_ones() {
    let file = load(GOOGLE);
    let first = cargo_vet::derive(&file, None, &origin(SOURCE, "r1"), &SIGNER).expect("parses");
    let logged = as_logged(&first);
    let live = reconcile::live(
        &logged,
        SOURCE,
        quorum_verifier::model::predicates::CARGO_VET_V1,
    );
    assert_eq!(live.len(), first.entries.len());

    // The same revision again: nothing to log.
    let again = reconcile::plan(&origin(SOURCE, "r1"), &first, &live);
    assert_eq!(
        (again.unchanged, again.new.len(), again.revocations.len()),
        (first.entries.len(), 0, 0)
    );
    // Another importer source is not this one.
    assert!(
        reconcile::live(
            &logged,
            "https://example.test/other",
            quorum_verifier::model::predicates::CARGO_VET_V1
        )
        .is_empty()
    );

    // A newer revision: one audit removed, one added (made from the real file).
    let text = file.text().expect("utf-8");
    let removed = "[[audits.adler2]]\nwho = \"Lukasz Anforowicz <lukasza@chromium.org>\"\ncriteria = [\"safe-to-deploy\", \"does-not-implement-crypto\", \"ub-risk-0\"]\nversion = \"2.0.0\"\n";
    let start = text.find(removed).expect("the adler2 2.0.0 audit");
    let block_end = text[start + 1..]
        .find("\n[[")
        .map_or(text.len(), |i| start + 2 + i);
    let mut modified = format!("{}{}", &text[..start], &text[block_end..]);
    modified.push_str("\n[[audits.serde]]\nwho = \"Quorum Test <test@example.test>\"\ncriteria = \"safe-to-run\"\nversion = \"1.0.999\"\n");
    let second_file = SourceFile {
        path: file.path.clone(),
        bytes: modified.into_bytes(),
    };
    let second =
        cargo_vet::derive(&second_file, None, &origin(SOURCE, "r2"), &SIGNER).expect("parses");
    let plan = reconcile::plan(&origin(SOURCE, "r2"), &second, &live);
    assert_eq!(plan.new.len(), 1);
    assert_eq!(
        second.entries[plan.new[0]].statement.subject[0].name,
        "pkg:cargo/serde@1.0.999"
    );
    assert_eq!(plan.unchanged, first.entries.len() - 1);
    assert_eq!(plan.revocations.len(), 1);
    let r = &plan.revocations[0];
    assert!(r.identity.contains("pkg:cargo/adler2"), "{}", r.identity);
    assert!(
        r.reason.contains("removed upstream") && r.reason.contains("revision r2"),
        "{}",
        r.reason
    );
    let p = validate_statement(&r.statement).expect("valid revocation");
    let Predicate::Revocation(rev) = p.predicate else {
        panic!("{:?}", p.predicate)
    };
    assert_eq!(
        rev.provenance.as_ref().map(|p| p.revision.as_str()),
        Some("r2")
    );
    assert_eq!(
        rev.provenance.and_then(|p| p.file_sha256),
        Some(second_file.sha256())
    );

    // Check against the first revision: clean. Against the second: one missing, one extra.
    assert_eq!(
        reconcile::check(&origin(SOURCE, "r1"), &first, &live),
        vec![]
    );
    let diffs = reconcile::check(&origin(SOURCE, "r2"), &second, &live);
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    assert!(matches!(
        &diffs[..],
        [Difference::Extra { .. }, Difference::Missing { .. }]
            | [Difference::Missing { .. }, Difference::Extra { .. }]
    ));
}

#[test]
fn check_reports_tampered_dropped_and_misplaced_statements() {
    let file = load(GOOGLE);
    let first = cargo_vet::derive(&file, None, &origin(SOURCE, "r1"), &SIGNER).expect("parses");
    let mut logged = as_logged(&first);
    // Tamper with entry 100's notes (criteria, version and auditors are its identity: a
    // change there is a missing entry plus an extra statement).
    let mut tampered = logged[100].statement.statement.clone();
    tampered.predicate["notes"] = serde_json::json!("reviewed nothing");
    logged[100].statement = validate_statement(&tampered).expect("valid");
    // Drop entry 200; misplace entry 300 (same content, another position).
    logged.remove(200);
    let mut moved = logged[299].statement.statement.clone();
    moved.predicate["provenance"]["position"] = serde_json::json!("audits.elsewhere[0]");
    logged[299].statement = validate_statement(&moved).expect("valid");
    let live = reconcile::live(
        &logged,
        SOURCE,
        quorum_verifier::model::predicates::CARGO_VET_V1,
    );
    let diffs = reconcile::check(&origin(SOURCE, "r1"), &first, &live);
    let kinds: Vec<&str> = diffs
        .iter()
        .map(|d| match d {
            Difference::Missing { .. } => "missing",
            Difference::Extra { .. } => "extra",
            Difference::Differs { .. } => "differs",
            Difference::Provenance { .. } => "provenance",
        })
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec!["differs", "missing", "provenance"],
        "{diffs:?}"
    );
    let differs = diffs.iter().find_map(|d| match d {
        Difference::Differs { fields, .. } => Some(fields.clone()),
        _ => None,
    });
    assert_eq!(differs, Some(vec!["notes".to_owned()]));
}

/// No real audit set records a violation; one appended to a real file is restated as a
/// veto about the crate, with the requirement as written.
#[test]
fn a_violation_is_restated_about_the_crate() {
    let mut file = load("cargo-vet/wasmtime/audits.toml");
    file.bytes.extend_from_slice(
        b"\n[[audits.left-pad]]\nwho = \"Quorum Test <test@example.test>\"\ncriteria = \"safe-to-run\"\nviolation = \">=1.3.0, <1.3.2\"\nnotes = \"exfiltrates environment variables\"\n",
    );
    let d = cargo_vet::derive(&file, None, &origin(SOURCE, "r1"), &SIGNER).expect("parses");
    let violations: Vec<_> = d.entries.iter().filter(|e| e.kind == "violation").collect();
    assert_eq!(violations.len(), 1);
    let st = &violations[0].statement;
    assert_eq!(st.subject[0].name, "pkg:cargo/left-pad");
    assert_eq!(st.predicate["violation"], ">=1.3.0, <1.3.2");
    assert_eq!(st.predicate["criteria"], serde_json::json!(["safe-to-run"]));
    // A requirement that does not parse is skipped with the reason.
    let mut bad = load("cargo-vet/wasmtime/audits.toml");
    bad.bytes.extend_from_slice(
        b"\n[[audits.left-pad]]\ncriteria = \"safe-to-run\"\nviolation = \"not a requirement\"\n",
    );
    let d = cargo_vet::derive(&bad, None, &origin(SOURCE, "r1"), &SIGNER).expect("parses");
    assert_eq!(d.skipped.len(), 1);
    assert!(
        d.skipped[0]
            .reason
            .contains("`violation` is not a version requirement"),
        "{:?}",
        d.skipped
    );
    assert_eq!(d.skipped[0].position, "audits.left-pad[0]");
}
