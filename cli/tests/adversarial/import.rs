//! Imported trust data (issue 15): cargo-vet audit sets, RustSec and OSV advisories imported
//! from the real public files in `../shared/realdata` through `quorum import`, into a real log
//! with real witnesses.
//!
//! The attacks: an importer that invents an audit, drops one or restates one differently is
//! caught by `quorum import --check`, run by anyone against the public file; an audit that
//! disappears upstream becomes a logged revocation naming the revision, never a silent
//! removal; a withdrawn advisory revokes the statement imported earlier; malformed entries
//! and hostile YAML are reported and skipped without stopping the import.

use std::path::{Path, PathBuf};

use quorum_verifier::model::dsse::Envelope;
use quorum_verifier::model::predicates::Predicate;
use quorum_verifier::model::statement::Statement;
use serde_json::Value;

use crate::harness::{Person, World, expect_exit, text};
use crate::support::realdata;

const GOOGLE: &str = "cargo-vet/google-rust-crate-audits.audits.toml";
const GOOGLE_URL: &str =
    "https://raw.githubusercontent.com/google/rust-crate-audits/main/audits.toml";
const GOOGLE_REV: &str = "2d69ee5cfcc6e873923b9ed37539d66b8aa9b9c2";

fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `quorum import <args…> --source <url> --revision <rev>` as `who`, with JSON output.
fn import(
    world: &World,
    who: &Person,
    policy: &Path,
    args: &[&str],
    source: &str,
    rev: &str,
) -> std::process::Output {
    let mut all = vec!["--json", "import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--source", source, "--revision", rev]);
    world.quorum(who, Some(policy), &all)
}

/// The last JSON line of standard output (the summary).
fn summary(out: &std::process::Output) -> Value {
    let (stdout, stderr) = text(out);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// A statement decoded from an envelope JSON line.
fn statement_of(line: &str) -> Statement {
    let envelope = Envelope::from_json(line.as_bytes()).expect("an envelope");
    Statement::from_json(&envelope.payload).expect("a statement")
}

/// An importer that drops one real audit, restates another with other notes and invents a
/// third, all under its own key, is caught by `--check` run by someone else against the
/// public file; an honest import of the same file checks clean.
#[test]
fn check_catches_an_importer_that_drops_changes_or_invents_audits() {
    let world = World::start();
    let honest = world.person("google-importer");
    let mallory = world.person("mallory-importer");
    let me = world.person("me");
    let policy = world.policy("policy.toml", &[&me], &[&me, &honest, &mallory], "", "");
    let file = realdata(GOOGLE);

    let out = import(
        &world,
        &honest,
        &policy,
        &["cargo-vet", arg(&file)],
        GOOGLE_URL,
        GOOGLE_REV,
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["skipped"].as_u64(),
            s["revoked"].as_u64()
        ),
        (Some(2183), Some(0), Some(0)),
        "{s}"
    );
    // Anyone checks the honest importer's key against the public file: clean.
    let check = |importer: &Person| {
        import(
            &world,
            &me,
            &policy,
            &[
                "cargo-vet",
                arg(&file),
                "--check",
                "--importer",
                &importer.public,
            ],
            GOOGLE_URL,
            GOOGLE_REV,
        )
    };
    let out = check(&honest);
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["differences"], 0);

    // Mallory signs every statement the file derives (--out: no log read, nothing
    // submitted), then logs all but one, one with other notes, and one invented audit.
    let signed = world.path("mallory.jsonl");
    let out = world.quorum(
        &mallory,
        Some(&policy),
        &[
            "import",
            "cargo-vet",
            arg(&file),
            "--source",
            GOOGLE_URL,
            "--revision",
            GOOGLE_REV,
            "--out",
            arg(&signed),
        ],
    );
    expect_exit(&out, 0);
    let lines: Vec<String> = std::fs::read_to_string(&signed)
        .expect("signed file")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2183);
    let find = |purl: &str| {
        lines
            .iter()
            .position(|l| statement_of(l).subject[0].name == purl)
            .unwrap_or_else(|| panic!("{purl} is in the file"))
    };
    let dropped = find("pkg:cargo/adler2@2.0.0");
    let changed = find("pkg:cargo/aho-corasick@1.1.2");
    let mut logged = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let statement = statement_of(line);
        let mut predicate = statement.predicate.clone();
        if i == dropped {
            continue;
        }
        if i == changed {
            predicate["notes"] = Value::String("Reviewed every line; no unsafe code.".into());
        }
        let p = Predicate::from_value(&statement.predicate_type, &predicate).expect("valid");
        logged.push(mallory.sign(p, statement.subject.clone()));
    }
    // The invented audit: a real statement's shape, another crate and version.
    let mut invented = statement_of(&lines[changed]);
    invented.predicate["version"] = Value::String("9.9.9".into());
    invented.predicate["notes"] = Value::String("Audited.".into());
    let mut subject = invented.subject.clone();
    subject[0] = quorum_verifier::model::statement::Subject::package("pkg:cargo/evil-crate@9.9.9");
    logged.push(mallory.sign(
        Predicate::from_value(&invented.predicate_type, &invented.predicate).expect("valid"),
        subject,
    ));
    let indices = world.submit(&logged);
    world.wait_for_size(indices.last().copied().unwrap_or(0) + 1);

    let out = check(&mallory);
    expect_exit(&out, 1);
    let (stdout, _) = text(&out);
    let differences: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["difference"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(differences.len(), 3, "{differences:#?}");
    assert!(
        differences.iter().any(|d| d.starts_with("missing:")
            && d.contains("pkg:cargo/adler2")
            && d.contains("2.0.0")),
        "{differences:#?}"
    );
    assert!(
        differences.iter().any(|d| d.starts_with("differs:")
            && d.contains("pkg:cargo/aho-corasick")
            && d.contains("(notes)")),
        "{differences:#?}"
    );
    assert!(
        differences
            .iter()
            .any(|d| d.starts_with("extra:") && d.contains("pkg:cargo/evil-crate")),
        "{differences:#?}"
    );
    // The honest importer is still clean: one key's statements never count for another.
    expect_exit(&check(&honest), 0);
}

/// The real file with the adler2 2.0.0 audit by Lukasz Anforowicz removed and an audit of
/// serde 1.0.999 added: a newer upstream revision.
fn modified_google(world: &World) -> PathBuf {
    let text = std::fs::read_to_string(realdata(GOOGLE)).expect("read");
    let removed = "[[audits.adler2]]\nwho = \"Lukasz Anforowicz <lukasza@chromium.org>\"\ncriteria = [\"safe-to-deploy\", \"does-not-implement-crypto\", \"ub-risk-0\"]\nversion = \"2.0.0\"\n";
    let start = text.find(removed).expect("the adler2 2.0.0 audit");
    let end = text[start + 1..]
        .find("\n[[")
        .map_or(text.len(), |i| start + 2 + i);
    let mut modified = format!("{}{}", &text[..start], &text[end..]);
    modified.push_str("\n[[audits.serde]]\nwho = \"Quorum Test <test@example.test>\"\ncriteria = \"safe-to-run\"\nversion = \"1.0.999\"\n");
    let path = world.path("audits.toml");
    std::fs::write(&path, modified).expect("write");
    path
}

/// Importing a newer revision logs only the new audit and turns the vanished one into a
/// logged revocation naming the revision; importing it again logs nothing.
#[test]
fn reimport_logs_only_the_new_audit_and_revokes_the_vanished_one() {
    let world = World::start();
    let google = world.person("google-importer");
    let policy = world.policy("policy.toml", &[&google], &[&google], "", "");
    let original = realdata(GOOGLE);
    let out = import(
        &world,
        &google,
        &policy,
        &["cargo-vet", arg(&original)],
        GOOGLE_URL,
        "rev-1",
    );
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["new"], 2183);
    let before = world.statements_by(&google.public);
    assert_eq!(before.len(), 2183);
    let adler = before
        .iter()
        .find(|e| {
            let s = statement_of(&e["envelope"].to_string());
            s.subject[0].name == "pkg:cargo/adler2@2.0.0"
        })
        .expect("the adler2 2.0.0 audit is logged");
    let adler_digest = hex::encode(
        Envelope::from_json(adler["envelope"].to_string().as_bytes())
            .expect("envelope")
            .digest(),
    );

    let modified = modified_google(&world);
    let out = import(
        &world,
        &google,
        &policy,
        &["cargo-vet", arg(&modified)],
        GOOGLE_URL,
        "rev-2",
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["revoked"].as_u64(),
            s["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(2182)),
        "{s}"
    );
    let after = world.statements_by(&google.public);
    assert_eq!(after.len(), 2185, "one audit and one revocation appended");
    let new: Vec<Statement> = after[2183..]
        .iter()
        .map(|e| statement_of(&e["envelope"].to_string()))
        .collect();
    assert_eq!(new[0].subject[0].name, "pkg:cargo/serde@1.0.999");
    assert_eq!(new[0].predicate["provenance"]["revision"], "rev-2");
    assert_eq!(
        new[1].predicate_type,
        "https://quorum.dev/attestation/revocation/v1"
    );
    assert_eq!(new[1].predicate["envelopeDigest"], adler_digest.as_str());
    assert_eq!(new[1].predicate["provenance"]["revision"], "rev-2");
    let reason = new[1].predicate["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("removed upstream") && reason.contains("rev-2"),
        "{reason}"
    );
    world.wait_for_size(2185);

    // The log now matches the new revision, and no longer the old one.
    let check = |file: &Path, rev: &str| {
        import(
            &world,
            &google,
            &policy,
            &["cargo-vet", arg(file), "--check"],
            GOOGLE_URL,
            rev,
        )
    };
    expect_exit(&check(&modified, "rev-2"), 0);
    let out = check(&original, "rev-1");
    expect_exit(&out, 1);
    assert_eq!(summary(&out)["differences"], 2);
    // Append-only and idempotent: the same revision again logs nothing.
    let out = import(
        &world,
        &google,
        &policy,
        &["cargo-vet", arg(&modified)],
        GOOGLE_URL,
        "rev-2",
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (s["new"].as_u64(), s["revoked"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(world.statements_by(&google.public).len(), 2185);
}

/// The whole RustSec database and PyPA's OSV records import and check clean, counted by
/// kind; a withdrawn advisory revokes the statement imported before its withdrawal.
#[test]
fn advisories_import_and_a_withdrawn_one_revokes_its_statement() {
    let world = World::start();
    let rustsec = world.person("rustsec-importer");
    let policy = world.policy("policy.toml", &[&rustsec], &[&rustsec], "", "");
    let db = realdata("rustsec-advisory-db");
    let url = "https://github.com/rustsec/advisory-db";
    let rev = "bf5c0d245a92671908518d7e765914d437954ed6";
    let out = import(&world, &rustsec, &policy, &["rustsec", arg(&db)], url, rev);
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["withdrawn"].as_u64(),
            s["skipped"].as_u64()
        ),
        (Some(1212), Some(13), Some(0)),
        "{s}"
    );
    assert_eq!(
        s["counts"],
        serde_json::json!({"malicious": 73, "notice": 6, "unmaintained": 258, "unsound": 202, "vulnerability": 673}),
        "{s}"
    );
    let out = import(
        &world,
        &rustsec,
        &policy,
        &["rustsec", arg(&db), "--check"],
        url,
        rev,
    );
    expect_exit(&out, 0);

    let pypa = realdata("pypa-advisory-database/vulns");
    let purl = "https://github.com/pypa/advisory-database";
    let prev = "3ccb612573e2511ab5cad7dafecd838605c80cda";
    let out = import(&world, &rustsec, &policy, &["osv", arg(&pypa)], purl, prev);
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["withdrawn"].as_u64(),
            s["skipped"].as_u64()
        ),
        (Some(2651), Some(10), Some(0)),
        "{s}"
    );
    expect_exit(
        &import(
            &world,
            &rustsec,
            &policy,
            &["osv", arg(&pypa), "--check"],
            purl,
            prev,
        ),
        0,
    );

    // tower-http's RUSTSEC-2021-0135 was withdrawn on 2022-08-14. A copy of the database
    // from before (the same file without its `withdrawn` line) is imported first.
    let real =
        std::fs::read_to_string(db.join("crates/tower-http/RUSTSEC-2021-0135.md")).expect("read");
    let dir = world.path("advisory-db");
    let folder = dir.join("crates/tower-http");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let before: String = real
        .lines()
        .filter(|l| !l.starts_with("withdrawn"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(folder.join("RUSTSEC-2021-0135.md"), before).expect("write");
    let copy = "https://example.test/advisory-db";
    let out = import(
        &world,
        &rustsec,
        &policy,
        &["rustsec", arg(&dir)],
        copy,
        "before-withdrawal",
    );
    expect_exit(&out, 0);
    assert_eq!(summary(&out)["new"], 1);
    std::fs::write(folder.join("RUSTSEC-2021-0135.md"), &real).expect("write");
    let out = import(
        &world,
        &rustsec,
        &policy,
        &["rustsec", arg(&dir)],
        copy,
        "after-withdrawal",
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (
            s["new"].as_u64(),
            s["revoked"].as_u64(),
            s["withdrawn"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{s}"
    );
    let last = world
        .statements_by(&rustsec.public)
        .last()
        .map(|e| statement_of(&e["envelope"].to_string()))
        .expect("a statement");
    assert_eq!(
        last.predicate_type,
        "https://quorum.dev/attestation/revocation/v1"
    );
    let reason = last.predicate["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("withdrawn upstream on 2022-08-14") && reason.contains("after-withdrawal"),
        "{reason}"
    );
    assert_eq!(
        last.predicate["provenance"]["position"],
        "crates/tower-http/RUSTSEC-2021-0135.md"
    );
    expect_exit(
        &import(
            &world,
            &rustsec,
            &policy,
            &["rustsec", arg(&dir), "--check"],
            copy,
            "after-withdrawal",
        ),
        0,
    );
}

/// A malformed cargo-vet entry and hostile or malformed OSV files are reported with their
/// file and position and skipped; everything else is imported.
#[test]
fn malformed_entries_are_reported_and_skipped() {
    let world = World::start();
    let importer = world.person("importer");
    let policy = world.policy("policy.toml", &[&importer], &[&importer], "", "");
    let mut audits =
        std::fs::read_to_string(realdata("cargo-vet/wasmtime/audits.toml")).expect("read");
    audits.push_str(
        "\n[[audits.serde]]\nwho = 5\ncriteria = \"safe-to-deploy\"\nversion = \"1.0.0\"\n",
    );
    audits.push_str("\n[[audits.serde]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.0.0\"\ndelta = \"0.9.0 -> 1.0.0\"\n");
    let file = world.path("audits.toml");
    std::fs::write(&file, audits).expect("write");
    let out = import(
        &world,
        &importer,
        &policy,
        &["cargo-vet", arg(&file)],
        "https://example.test/audits.toml",
        "r1",
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (s["new"].as_u64(), s["skipped"].as_u64()),
        (Some(771 + 227 + 165), Some(2)),
        "{s}"
    );
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("skipped audits.toml: audits.serde[")
            && stderr.contains("`who` must be a string or a list of strings"),
        "{stderr}"
    );
    assert!(
        stderr.contains("exactly one of `version`, `delta` and `violation`"),
        "{stderr}"
    );

    // OSV: a real PyPA record, a YAML alias bomb, and a record that is not OSV.
    let dir = world.path("vulns");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let real = realdata("pypa-advisory-database/vulns/apache-skywalking/PYSEC-2020-342.yaml");
    std::fs::copy(&real, dir.join("PYSEC-2020-342.yaml")).expect("copy");
    let mut bomb =
        String::from("a0: &a0 [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 1..12 {
        let prev = i - 1;
        bomb.push_str(&format!("a{i}: &a{i} [*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev}]\n"));
    }
    bomb.push_str("id: BOMB-1\naffected: *a11\n");
    std::fs::write(dir.join("bomb.yaml"), bomb).expect("write");
    std::fs::write(dir.join("not-osv.json"), "{\"hello\": \"world\"}").expect("write");
    let out = import(
        &world,
        &importer,
        &policy,
        &["osv", arg(&dir)],
        "https://example.test/osv",
        "r1",
    );
    expect_exit(&out, 0);
    let s = summary(&out);
    assert_eq!(
        (s["new"].as_u64(), s["skipped"].as_u64()),
        (Some(1), Some(2)),
        "{s}"
    );
    let (_, stderr) = text(&out);
    assert!(stderr.contains("skipped bomb.yaml:"), "{stderr}");
    assert!(
        stderr.contains("skipped not-osv.json: not an OSV JSON record"),
        "{stderr}"
    );
}
