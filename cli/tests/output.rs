//! What a person and a script get from the real `quorum` binary: `--help` (what the tool is,
//! the exit codes), errors as JSON under `--json`, the real cause of a network failure, and
//! a closed standard output (`quorum … | head -1`) ending the process quietly.

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn quorum(state: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .env_remove("QUORUM_HOME")
        .output()
        .unwrap_or_else(|e| panic!("running quorum: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "quorum panicked: {stderr}");
    out
}

fn with_key() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["keygen"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    dir
}

fn json_stdout(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A port on loopback where nothing listens (chosen by the kernel, then released).
fn closed_port() -> u16 {
    support::free_port()
}

#[test]
fn help_says_what_quorum_is_and_lists_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    let first = help.lines().next().unwrap_or("");
    assert!(
        first.starts_with("quorum: publish signed statements about packages"),
        "{first}"
    );
    assert!(!first.contains("library"), "{first}");
    for line in [
        "Exit codes:",
        "  0   every package allowed",
        "  1   at least one package denied",
        "  2   none denied, but some with insufficient evidence",
        "  3   the evidence failed verification",
        "  64  usage or input error",
        "  69  the log could not be reached",
    ] {
        assert!(help.contains(line), "missing {line:?} in:\n{help}");
    }
    // The adopt help names every lockfile format it records.
    let out = quorum(dir.path(), &["adopt", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for format in ["pnpm-lock.yaml", "yarn.lock", "poetry.lock", "uv.lock"] {
        assert!(help.contains(format), "{format} in {help}");
    }
}

#[test]
fn json_errors_are_json_with_kind_and_exit_code() {
    let state = with_key();
    // An argument error, before any command runs.
    let out = quorum(state.path(), &["--json", "verify", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(64));
    let v = json_stdout(&out);
    assert_eq!(v["error"]["kind"], "usage", "{v}");
    assert_eq!(v["error"]["exit_code"], 64);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--no-such-flag"),
        "{v}"
    );
    // An input error.
    let out = quorum(
        state.path(),
        &[
            "--json",
            "adopt",
            "pkg:npm/left-pad@1.3.0",
            "--digest",
            "sha1:00",
        ],
    );
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(json_stdout(&out)["error"]["kind"], "usage");
    // A log that cannot be reached: class, exit code and the real cause.
    let log = format!("http://127.0.0.1:{}", closed_port());
    let out = quorum(
        state.path(),
        &[
            "--json",
            "--log",
            &log,
            "adopt",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            &"ab".repeat(32),
        ],
    );
    assert_eq!(out.status.code(), Some(69));
    let v = json_stdout(&out);
    assert_eq!(v["error"]["kind"], "unavailable", "{v}");
    assert_eq!(v["error"]["exit_code"], 69);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&log), "{message}");
    assert!(message.contains("connection refused"), "{message}");
    assert!(!message.contains("error sending request"), "{message}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn network_errors_name_the_real_cause_and_the_url() {
    let state = with_key();
    let digest = "ab".repeat(32);
    let log = format!("http://127.0.0.1:{}", closed_port());
    let out = quorum(
        state.path(),
        &[
            "--log",
            &log,
            "adopt",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            &digest,
        ],
    );
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connection refused"), "{err}");
    assert!(err.contains(&format!("{log}/v1/statements")), "{err}");
    assert!(!err.contains("error sending request"), "{err}");

    // A server that answers 404 to everything: the message names the URL that answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        // One request: read the head, answer 404, close.
        if let Ok((mut conn, _)) = listener.accept() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = "{\"message\":\"no such endpoint\"}";
            let _ = write!(
                conn,
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let log = format!("http://127.0.0.1:{port}");
    let out = quorum(
        state.path(),
        &[
            "--log",
            &log,
            "adopt",
            "pkg:cargo/serde@1.0.0",
            "--digest",
            &digest,
        ],
    );
    let _ = server.join();
    assert_eq!(out.status.code(), Some(69));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{log}/v1/statements")), "{err}");
    assert!(err.contains("404"), "{err}");
    assert!(err.contains("no such endpoint"), "{err}");
}

#[test]
fn a_closed_stdout_ends_quorum_quietly() {
    let state = with_key();
    // Signing wasmtime's lockfile (583 packages) prints envelopes of tens of KB on one line
    // each, more than a pipe holds (64 KiB), so writes after the reader is gone must fail.
    let lockfile = support::wasmtime_cargo_lock();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .arg("--state-dir")
        .arg(state.path())
        .args(["adopt", "--lockfile"])
        .arg(&lockfile)
        .args(["--out", "-"])
        .env_remove("QUORUM_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: read the first line, then close the pipe.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"payload\""), "{first:.80}");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(status.code(), Some(101), "a panic: {stderr}");
    // Ended by SIGPIPE, as `cat` or `grep` are.
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc_sigpipe()), "{status:?} {stderr}");
    }
}

#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
