//! The main job as a test: runs `scripts/demo.sh` — the README's first command — against
//! this build's binaries on free loopback ports. The script starts a log and two
//! witnesses on SQLite, plays the whole scenario through the real binaries and HTTP APIs,
//! and checks every decision against the expected one; this test checks that it ran to
//! the end and that the decisions it printed are the expected ones, so the main job cannot
//! silently break.

mod support;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn main_job_scenario_gives_the_expected_decisions() {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_quorum"))
        .parent()
        .map(PathBuf::from)
        .expect("binary directory");
    // Fails with a clear message when the other binaries are not built.
    support::workspace_binary("quorum-log");
    support::workspace_binary("quorum-witness");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo.sh");

    let out = Command::new("bash")
        .arg(&script)
        .env("QUORUM_BIN_DIR", &bin_dir)
        .env("LOG_PORT", support::free_port().to_string())
        .env("W1_PORT", support::free_port().to_string())
        .env("W2_PORT", support::free_port().to_string())
        .output()
        .expect("run scripts/demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the main job failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );

    // Before the report: the sybil farm moves nothing; serde has trusted adoption and an audit.
    // After it: the compromised version is denied, the named fix is allowed at once.
    let checks: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("checked: "))
        .collect();
    assert_eq!(
        checks,
        [
            "checked: serde=allow, left-pad-rs=insufficient-evidence, tokio=insufficient-evidence, rand=insufficient-evidence, exit code 2",
            "checked: serde=allow, left-pad-rs=deny, tokio=insufficient-evidence, rand=insufficient-evidence, exit code 1",
            "checked: serde=allow, left-pad-rs=allow, tokio=insufficient-evidence, rand=insufficient-evidence, exit code 2",
        ],
        "{stdout}"
    );
    for reason in [
        "reports this version malicious",
        "names this version as the fix (entry",
        "advisory_veto held: 1 hop from the roots",
        "the package changed owner",
        "is not reached by the policy's trust roots",
    ] {
        assert!(stdout.contains(reason), "missing {reason:?} in\n{stdout}");
    }
    // The real project (where ../shared/realdata is present): wasmtime's cargo-vet data
    // imported by `quorum init --from-cargo-vet`, RustSec imported, wasmtime's real
    // Cargo.lock decided as cargo-vet decides it without exemptions.
    let realdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata");
    if realdata.join("cargo-vet/wasmtime").is_dir()
        && realdata.join("rustsec-advisory-db/crates").is_dir()
    {
        assert!(
            stdout.lines().any(|l| l
                == "checked real: 485 packages, 345 allow, 0 deny, 140 insufficient-evidence, exit code 2; \
                    adler2@2.0.0=allow, gimli@0.32.3=allow, arbitrary@1.4.2=allow, aho-corasick@1.0.2=allow, \
                    aes@0.8.4=insufficient-evidence"),
            "{stdout}"
        );
        for shown in [
            "46 of them are exempted in config.toml: exemptions are not audits, so they are not allowed",
            "exempted by the project's config (safe-to-deploy), not audited",
            "cargo-vet delta audit 0.32.0 -> 0.32.3 (safe-to-deploy) for pkg:cargo/gimli",
            "cargo-vet audit of 0.30.0 (safe-to-deploy) for pkg:cargo/gimli",
        ] {
            assert!(stdout.contains(shown), "missing {shown:?} in\n{stdout}");
        }
    } else {
        println!(
            "SKIPPED the real-project checks: {} is absent",
            realdata.display()
        );
        assert!(
            stdout.contains("the real-project part is SKIPPED"),
            "{stdout}"
        );
    }
    // The decisions rest on a checkpoint cosigned by both witnesses.
    assert!(stdout.contains("— w1.demo "), "{stdout}");
    assert!(stdout.contains("— w2.demo "), "{stdout}");
    assert!(
        stdout.contains("demo: every decision as expected"),
        "{stdout}"
    );
}
