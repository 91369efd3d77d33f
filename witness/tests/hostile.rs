//! The hostile-input catalogue for `POST /add-checkpoint` (issue #8): non-canonical numbers,
//! wrong proof lengths, malformed base64, huge signature counts, oversized bodies and bad
//! origins, over loopback on SQLite and PostgreSQL. Each case asserts the C2SP
//! tlog-witness status and a message that names the problem, and that the witness's state
//! (its cosigned size, root and note for the log) is unchanged afterwards.

mod common;

use common::{Backend, TestLog, TestWitness, b64, body};
use quorum_c2sp::merkle::MemoryTree;
use quorum_c2sp::note::{self, NoteSigner};
use quorum_witness::storage::LogState;

fn tree(n: u64, salt: &str) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.append(format!("{salt}-{i}").as_bytes());
    }
    t
}

/// Signs arbitrary note text with the log's key: the checks after the signature (syntax of
/// the checkpoint inside) are what these cases exercise.
fn signed_text(log: &TestLog, text: &str) -> String {
    String::from_utf8(note::sign(text, &[&log.signer as &dyn NoteSigner]).expect("sign"))
        .expect("utf8")
}

struct Case {
    name: String,
    body: Vec<u8>,
    status: u16,
    needle: &'static str,
}

fn case(
    name: impl Into<String>,
    body: impl Into<Vec<u8>>,
    status: u16,
    needle: &'static str,
) -> Case {
    Case {
        name: name.into(),
        body: body.into(),
        status,
        needle,
    }
}

async fn state(tw: &TestWitness, origin: &str) -> LogState {
    tw.store
        .store
        .state(origin)
        .await
        .expect("state")
        .expect("known log")
}

async fn catalogue(backend: Backend) {
    let tw = TestWitness::start(backend).await;
    let log = TestLog::new("example.com/hostile-log");
    tw.witness
        .add_log(&log.origin, &log.vkey(), None)
        .await
        .expect("add log");
    let t = tree(40, "main");
    let root = |n: u64| t.root_at(n).expect("root");
    let proof = |a: u64, b: u64| t.prove_consistency(a, b).expect("proof");
    // The witness has cosigned size 4.
    let cp4 = log.checkpoint(4, root(4));
    let (s, _, m) = tw.add(body(0, &[], &cp4)).await;
    assert_eq!(s, 200, "{m}");
    let before = state(&tw, &log.origin).await;
    assert_eq!(before.size, 4);

    let cp9 = log.checkpoint(9, root(9));
    let good_proof = proof(4, 9);
    let proof_lines: String = good_proof.iter().map(|h| b64(h) + "\n").collect();
    let root9 = b64(&root(9));
    let mut cases = Vec::new();

    // Non-canonical numbers in the old line.
    for old in [
        "04",
        "+4",
        "4.0",
        "4 ",
        " 4",
        "0x4",
        "4e0",
        "-4",
        "-0",
        "٤",
        "18446744073709551616",
        "99999999999999999999999999",
    ] {
        cases.push(case(
            format!("old {old:?}"),
            format!("old {old}\n{proof_lines}\n{cp9}"),
            400,
            "old",
        ));
    }
    for first in ["OLD 4", "old\t4", "old 4\r", "new 4", ""] {
        cases.push(case(
            format!("first line {first:?}"),
            format!("{first}\n{proof_lines}\n{cp9}"),
            400,
            "old",
        ));
    }
    // Non-canonical numbers in the checkpoint, under a valid log signature.
    for size in [
        "09",
        "+9",
        "9.0",
        " 9",
        "9 ",
        "0x9",
        "-9",
        "",
        "٩",
        "18446744073709551616",
    ] {
        let note = signed_text(&log, &format!("{}\n{size}\n{root9}\n", log.origin));
        cases.push(case(
            format!("checkpoint size {size:?}"),
            format!("old 4\n{proof_lines}\n{note}"),
            400,
            "size",
        ));
    }
    let note = signed_text(
        &log,
        &format!("{}\n9223372036854775808\n{root9}\n", log.origin),
    );
    cases.push(case(
        "checkpoint size 2^63",
        format!("old 4\n{proof_lines}\n{note}"),
        400,
        "too large",
    ));
    // Non-canonical root hashes.
    let root_raw = root(9);
    for (name, r) in [
        ("unpadded root", root9.trim_end_matches('=').to_owned()),
        (
            "URL-safe root",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, root_raw),
        ),
        ("31-byte root", b64(&root_raw[..31])),
        ("33-byte root", b64(&[root_raw.as_slice(), &[0]].concat())),
        ("hex root", hex::encode(root_raw)),
    ] {
        if r == root9 {
            continue;
        }
        let note = signed_text(&log, &format!("{}\n9\n{r}\n", log.origin));
        cases.push(case(
            name,
            format!("old 4\n{proof_lines}\n{note}"),
            400,
            "root",
        ));
    }

    // Wrong proof lengths and malformed base64 proof lines.
    let h = b64(&good_proof[0]);
    for (name, line) in [
        ("31-byte proof line", b64(&[7u8; 31])),
        ("33-byte proof line", b64(&[7u8; 33])),
        ("empty-ish proof line", "AAAA".to_owned()),
        ("unpadded proof line", h.trim_end_matches('=').to_owned()),
        (
            "URL-safe proof line",
            h.replace('+', "-").replace('/', "_") + "-_",
        ),
        (
            "proof line with a space",
            format!("{} {}", &h[..10], &h[10..]),
        ),
        ("proof line with trailing space", format!("{h} ")),
        ("proof line with CR", format!("{h}\r")),
        ("proof line not base64", "!!!!".repeat(11)),
        ("proof line of 1 MB", "A".repeat(40_000)),
    ] {
        if line == h {
            continue;
        }
        cases.push(case(
            name,
            format!("old 4\n{line}\n\n{cp9}"),
            400,
            "consistency proof line",
        ));
    }
    cases.push(case(
        "64 proof lines",
        format!("old 4\n{}\n{cp9}", format!("{h}\n").repeat(64)),
        400,
        "more than 63",
    ));
    // Well-formed lines, wrong number of hashes: the proof does not verify.
    let short = &good_proof[..good_proof.len() - 1];
    let long = [good_proof.as_slice(), &[[0u8; 32]]].concat();
    let mut flipped = good_proof.clone();
    flipped[0][31] ^= 1;
    for (name, p) in [
        ("proof one hash short", short.to_vec()),
        ("proof one hash long", long),
        ("proof with a flipped bit", flipped),
        ("no proof", Vec::new()),
        ("63 zero hashes", vec![[0u8; 32]; 63]),
    ] {
        cases.push(case(name, body(4, &p, &cp9), 422, "consistency proof"));
    }

    // Huge signature counts.
    let sig_line = cp9
        .lines()
        .find(|l| l.starts_with("— "))
        .expect("signature line")
        .to_owned();
    let junk_sig = format!("— someone.else/log {}", b64(&[9u8; 68]));
    let mut many = cp9.clone();
    for _ in 0..150 {
        many.push_str(&junk_sig);
        many.push('\n');
    }
    cases.push(case(
        "150 signatures",
        format!("old 4\n{proof_lines}\n{many}"),
        400,
        "signatures",
    ));
    let mut same = cp9.clone();
    for _ in 0..150 {
        same.push_str(&sig_line);
        same.push('\n');
    }
    cases.push(case(
        "the log's signature 151 times",
        format!("old 4\n{proof_lines}\n{same}"),
        400,
        "signatures",
    ));
    // Oversized bodies.
    cases.push(case(
        "64 KiB + 1 body",
        format!("old 4\n{proof_lines}\n{cp9}{}", "x".repeat(64 * 1024)),
        413,
        "too large",
    ));
    // Bodies far larger than the limit race the server's early 413 against the upload (the
    // client may see a reset instead of the answer); 256 KiB still fits the socket buffers.
    cases.push(case(
        "256 KiB body",
        vec![b'A'; 256 << 10],
        413,
        "too large",
    ));

    // Bad origins.
    let stranger = TestLog::new("example.com/unknown");
    cases.push(case(
        "unknown origin",
        body(4, &good_proof, &stranger.checkpoint(9, root(9))),
        404,
        "unknown log origin",
    ));
    for origin in [
        "EXAMPLE.COM/hostile-log",
        "example.com/hostile-log ",
        "example.com/hostile-log/",
    ] {
        let note = signed_text(&log, &format!("{origin}\n9\n{root9}\n"));
        cases.push(case(
            format!("origin {origin:?}"),
            format!("old 4\n{proof_lines}\n{note}"),
            404,
            "unknown log origin",
        ));
    }
    let note = signed_text(&log, &format!("\n9\n{root9}\n"));
    cases.push(case(
        "empty origin",
        format!("old 4\n{proof_lines}\n{note}"),
        400,
        "",
    ));
    // The right origin, signed by a key with the log's name that the witness does not
    // trust.
    let impostor = TestLog::new(&log.origin);
    cases.push(case(
        "impostor key",
        body(4, &good_proof, &impostor.checkpoint(9, root(9))),
        403,
        "trusted",
    ));
    // Other framing problems.
    cases.push(case(
        "not UTF-8",
        vec![b'o', b'l', b'd', b' ', b'4', b'\n', 0xff, b'\n', b'\n'],
        400,
        "UTF-8",
    ));
    cases.push(case(
        "no separator",
        format!("old 4\n{proof_lines}"),
        400,
        "empty line",
    ));
    cases.push(case(
        "note without signatures",
        format!("old 4\n{proof_lines}\n{}\n9\n{root9}\n", log.origin),
        400,
        "",
    ));
    cases.push(case(
        "old above size",
        body(10, &[], &cp9),
        400,
        "larger than",
    ));
    // Conflicts: refused, state untouched (evidence kept is intended).
    cases.push(case(
        "fork of the cosigned size",
        body(
            4,
            &[],
            &log.checkpoint(4, tree(4, "fork").root_at(4).expect("root")),
        ),
        422,
        "different root",
    ));
    cases.push(case("stale old size", body(3, &proof(3, 9), &cp9), 409, ""));

    let tried = cases.len();
    let mut failures = Vec::new();
    for c in cases {
        let (status, ct, msg) = tw.add(c.body).await;
        let ok_status = status == c.status;
        let ok_msg = msg.to_lowercase().contains(&c.needle.to_lowercase());
        let ok_ct = if status == 409 {
            ct == "text/x.tlog.size" && msg == "4\n"
        } else {
            ct.starts_with("text/plain")
        };
        if !(ok_status && ok_msg && ok_ct) {
            failures.push(format!(
                "{}: got {status} {ct:?} {msg:?}, want {} mentioning {:?}",
                c.name, c.status, c.needle
            ));
        }
        let now = state(&tw, &log.origin).await;
        assert_eq!(
            (now.size, now.root, &now.note),
            (before.size, before.root, &before.note),
            "{}: the witness state changed",
            c.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Still working: the honest next checkpoint is cosigned.
    let (s, _, m) = tw.add(body(4, &good_proof, &cp9)).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(state(&tw, &log.origin).await.size, 9);
    tw.stop().await;

    // 5,000 signatures do not fit the default 64 KiB body limit; a witness configured with
    // a 4 MiB limit must refuse them in the note parser, without a change of state.
    let limits = quorum_witness::config::Limits {
        max_body_bytes: 4 << 20,
        requests_per_minute_per_log: 0,
        ..quorum_witness::config::Limits::default()
    };
    let big = TestWitness::start_with(backend, limits).await;
    big.witness
        .add_log(&log.origin, &log.vkey(), None)
        .await
        .expect("add log");
    let (s, _, m) = big.add(body(0, &[], &cp4)).await;
    assert_eq!(s, 200, "{m}");
    let before = state(&big, &log.origin).await;
    let mut many = cp9.clone();
    for _ in 0..5_000 {
        many.push_str(&junk_sig);
        many.push('\n');
    }
    let (s, _, m) = big.add(format!("old 4\n{proof_lines}\n{many}")).await;
    assert_eq!(s, 400, "5,000 signatures: {m}");
    assert!(m.contains("signatures"), "5,000 signatures: {m}");
    let now = state(&big, &log.origin).await;
    assert_eq!((now.size, now.root), (before.size, before.root));
    big.stop().await;
    println!(
        "witness hostile catalogue ({backend:?}): {} inputs tried, every one refused, state unchanged",
        tried + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_add_checkpoint_sqlite() {
    catalogue(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_add_checkpoint_postgres() {
    catalogue(Backend::Postgres).await;
}
