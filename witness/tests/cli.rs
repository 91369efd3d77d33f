//! The `quorum-witness` binary: keygen, add-log, list-logs, remove-log refusal, and serve
//! with a config file and graceful shutdown.

use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quorum-witness"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run quorum-witness")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const LOG_KEY: &str =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

#[test]
fn keygen_and_logs() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = dir.path().join("w.key");
    let key_s = key.to_str().expect("path");
    let o = run(&["keygen", "--name", "example.com/witness", "--out", key_s]);
    assert!(o.status.success(), "{}", text(&o));
    let vkey = String::from_utf8(o.stdout.clone()).expect("utf8");
    let parsed = quorum_c2sp::note::VerifierKey::parse(vkey.trim()).expect("vkey");
    assert_eq!(parsed.key_type, 0x04);
    assert_eq!(parsed.name, "example.com/witness");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let skey = std::fs::read_to_string(&key).expect("read");
    assert!(
        !text(&o).contains(skey.trim()),
        "the private key is never printed"
    );
    // Never overwritten.
    let o = run(&["keygen", "--name", "x", "--out", key_s]);
    assert!(!o.status.success());
    // vkey from the file.
    let o = run(&["vkey", "--key-file", key_s]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), vkey);

    let data = dir.path().join("data");
    let d = data.to_str().expect("path");
    let o = run(&[
        "--data-dir",
        d,
        "add-log",
        "--origin",
        "example.com/log/testdata",
        "--key",
        LOG_KEY,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&[
        "--data-dir",
        d,
        "add-log",
        "--origin",
        "bad",
        "--key",
        "not-a-key",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not-a-key"), "{}", text(&o));
    let o = run(&["--data-dir", d, "list-logs"]);
    assert!(o.status.success());
    let listing = text(&o);
    assert!(
        listing.contains("example.com/log/testdata\tsize 0"),
        "{listing}"
    );
    assert!(listing.contains(LOG_KEY), "{listing}");
    let o = run(&[
        "--data-dir",
        d,
        "remove-log",
        "--origin",
        "example.com/log/testdata",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("split view"), "{}", text(&o));
}

#[tokio::test]
async fn serve_with_config_and_shut_down() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = dir.path().join("w.key");
    let o = run(&[
        "keygen",
        "--name",
        "example.com/witness",
        "--out",
        key.to_str().expect("p"),
    ]);
    assert!(o.status.success());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cfg = dir.path().join("witness.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:1\"\ndata_dir = {:?}\nkey_file = {:?}\n\n[[log]]\norigin = \
             \"example.com/log/testdata\"\nkeys = [{LOG_KEY:?}]\n",
            dir.path().join("data"),
            key
        ),
    )
    .expect("write config");
    // --listen overrides the config's listen address.
    let mut child = bin()
        .args(["--config", cfg.to_str().expect("p"), "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            up = r.status() == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server came up");
    // The config's log is known: its size-1 checkpoint is cosigned.
    let note = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/transparency-dev-tessera/testdata/log/checkpoint.1"
    ))
    .expect("checkpoint");
    let r = client
        .post(format!("{base}/add-checkpoint"))
        .body(format!("old 0\n\n{note}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "graceful exit: {status:?}");
}
