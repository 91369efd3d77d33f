//! The hostile-input catalogue (issue #8): every kind of bad input the log server's HTTP API
//! can receive, sent to a real server over loopback HTTP on SQLite and PostgreSQL. Each
//! case asserts the status, that the JSON error names the problem, and that the log is
//! unchanged afterwards (same published checkpoint, same tree size, nothing sequenced).
//! Replayed and duplicated submissions must answer with the existing index.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use quorum_log::server::RunningServer;
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::predicates::ADOPTION_V1;
use quorum_verifier::model::statement::{Statement, Subject};
use serde_json::{Value, json};

/// What the log looks like from outside: the published checkpoint note, the sequenced tree
/// size and the count of entries ever sequenced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    checkpoint: String,
    tree_size: u64,
    sequenced: String,
}

/// The server under attack, its client, and the count of inputs tried.
struct Target {
    srv: RunningServer,
    url: String,
    client: reqwest::Client,
    before: Snapshot,
    tried: AtomicUsize,
}

/// A response: status, content type and body parsed as JSON (`Null` when it is not JSON).
struct Answer {
    status: u16,
    content_type: String,
    json: Value,
    text: String,
}

impl Target {
    async fn snapshot(&self) -> Snapshot {
        let checkpoint = self
            .client
            .get(format!("{}/checkpoint", self.url))
            .send()
            .await
            .expect("GET /checkpoint")
            .text()
            .await
            .expect("checkpoint text");
        let metrics = self
            .client
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text");
        let sequenced = metrics
            .lines()
            .find(|l| l.starts_with("quorum_entries_sequenced_total"))
            .unwrap_or("missing")
            .to_owned();
        Snapshot {
            checkpoint,
            tree_size: self.srv.log.tree.size(),
            sequenced,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        self.tried.fetch_add(1, Ordering::Relaxed);
        let r = req.send().await.expect("request reaches the server");
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            json,
            text,
        }
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.url))
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.url)))
            .await
    }

    /// Asserts the log is exactly as before the attack.
    async fn assert_unchanged(&self, case: &str) {
        let now = self.snapshot().await;
        assert_eq!(now, self.before, "{case}: the log changed");
    }
}

/// Asserts a JSON `quorum.v1.Error` with this status and code whose message mentions
/// `needle` (case-insensitive).
fn assert_error(case: &str, a: &Answer, status: u16, code: &str, needle: &str) {
    assert_eq!(a.status, status, "{case}: status; body {}", a.text);
    assert!(
        a.content_type.starts_with("application/json"),
        "{case}: content type {:?}, body {}",
        a.content_type,
        a.text
    );
    assert_eq!(a.json["code"], code, "{case}: code; body {}", a.text);
    let message = a.json["message"].as_str().unwrap_or_default();
    assert!(
        message.to_lowercase().contains(&needle.to_lowercase()),
        "{case}: the message {message:?} does not name the problem ({needle:?})"
    );
}

fn statement_with(subjects: Vec<Subject>, predicate: Value) -> Vec<u8> {
    Statement::new(subjects, ADOPTION_V1, predicate).to_json()
}

fn env_value(env: &Envelope) -> Value {
    serde_json::from_str(&env.to_json()).expect("envelope JSON")
}

fn wrap(key: &SigningKey, envelope: Value) -> String {
    json!({"envelope": envelope, "publicKey": key_text(key)}).to_string()
}

async fn setup(backend: Backend) -> (Target, TestDb, Vec<(Envelope, String)>) {
    let db = fresh_db(backend).await;
    let srv = start(&db).await;
    let url = base(&srv);
    let client = reqwest::Client::new();
    // A few real entries and a checkpoint covering them, so replays have something to hit.
    let mut logged = Vec::new();
    for i in 0..3u8 {
        let k = user_key(50 + i);
        let env = envelope(&k, "pkg:cargo/hostile", &format!("1.0.{i}"));
        let r = client
            .post(format!("{url}/v1/statements?wait=integrated"))
            .json(&submission(&k, &env))
            .send()
            .await
            .expect("seed submission");
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("json");
        let index = v["index"].as_str().unwrap_or("0").to_owned();
        logged.push((env, index));
    }
    let mut t = Target {
        srv,
        url,
        client,
        before: Snapshot {
            checkpoint: String::new(),
            tree_size: 0,
            sequenced: String::new(),
        },
        tried: AtomicUsize::new(0),
    };
    // Wait until the checkpoint covers the three entries, so nothing moves on its own.
    for _ in 0..100 {
        t.before = t.snapshot().await;
        if t.before.checkpoint.contains("\n3\n") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(t.before.tree_size, 3);
    assert!(
        t.before.checkpoint.contains("\n3\n"),
        "{}",
        t.before.checkpoint
    );
    (t, db, logged)
}

/// Submissions that must be refused.
async fn bad_submissions(t: &Target) {
    let alice = user_key(50);
    let mallory = user_key(66);
    let fresh = envelope(&alice, "pkg:cargo/never-logged", "9.9.9");
    let fresh_v = env_value(&fresh);
    let s = "/v1/statements";

    // Sizes and counts.
    let a = t.post(s, vec![b'{'; 600 << 10]).await;
    assert_error(
        "oversized body",
        &a,
        413,
        "ERROR_CODE_TOO_LARGE",
        "larger than",
    );
    let many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    let a = t.post(s, json!({ "envelopes": many }).to_string()).await;
    assert_error(
        "1001 envelopes",
        &a,
        413,
        "ERROR_CODE_TOO_LARGE",
        "envelopes",
    );
    let big = Envelope::sign(
        IN_TOTO_PAYLOAD_TYPE,
        statement_with(
            vec![Subject::package_version("pkg:cargo/big@1.0.0", [1; 32])],
            json!({"status": "adopted", "note": "x".repeat(70_000)}),
        ),
        &alice,
    );
    let a = t.post(s, wrap(&alice, env_value(&big))).await;
    assert_error(
        "envelope over 64 KiB",
        &a,
        413,
        "ERROR_CODE_TOO_LARGE",
        "too large",
    );
    let mut ten_thousand = fresh_v.clone();
    ten_thousand["signatures"] = Value::Array(
        (0..10_000)
            .map(|_| json!({"keyid": "", "sig": "AA=="}))
            .collect(),
    );
    let a = t.post(s, wrap(&alice, ten_thousand)).await;
    assert_error(
        "10,000 signatures",
        &a,
        413,
        "ERROR_CODE_TOO_LARGE",
        "too large",
    );
    let mut seventeen = fresh_v.clone();
    for _ in 0..16 {
        if let Some(sigs) = seventeen["signatures"].as_array_mut() {
            sigs.push(json!({"keyid": "", "sig": "AA=="}));
        }
    }
    let a = t.post(s, wrap(&alice, seventeen)).await;
    assert_error(
        "17 signatures",
        &a,
        400,
        "ERROR_CODE_MALFORMED",
        "at most 16",
    );

    // Not JSON, not UTF-8, too deep, wrong shapes.
    for (case, body, needle) in [
        ("truncated JSON", b"{\"envelope\": ".to_vec(), "not JSON"),
        (
            "non-UTF-8 body",
            vec![0xff, 0xfe, 0x7b, 0x80, 0x7d],
            "not JSON",
        ),
        (
            "UTF-16 body",
            "{\"a\":1}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
            "not JSON",
        ),
        (
            "deep JSON body",
            "[".repeat(100_000).into_bytes(),
            "not JSON",
        ),
        (
            "deep object body",
            "{\"a\":".repeat(5_000).into_bytes(),
            "not JSON",
        ),
        ("empty body", Vec::new(), "not JSON"),
        ("null", b"null".to_vec(), "object"),
        ("array", b"[]".to_vec(), "object"),
        ("string", b"\"envelope\"".to_vec(), "object"),
        ("number", b"1e999".to_vec(), "JSON"),
        ("empty batch", b"{\"envelopes\": []}".to_vec(), "empty"),
        (
            "batch not an array",
            b"{\"envelopes\": {}}".to_vec(),
            "array",
        ),
        (
            "no signer key",
            fresh.to_json().into_bytes(),
            "no signer key",
        ),
        (
            "publicKey not a string",
            json!({"envelope": fresh_v, "publicKey": 7})
                .to_string()
                .into_bytes(),
            "publicKey",
        ),
        (
            "publicKey malformed base64",
            json!({"envelope": fresh_v, "publicKey": "!!!notbase64!!!"})
                .to_string()
                .into_bytes(),
            "publicKey",
        ),
        (
            "publicKey 31 bytes",
            json!({"envelope": fresh_v, "publicKey": format!("ed25519:{}", "ab".repeat(31))})
                .to_string()
                .into_bytes(),
            "publicKey",
        ),
        (
            "publicKey small order",
            json!({"envelope": fresh_v, "publicKey": format!("ed25519:{}", "00".repeat(32))})
                .to_string()
                .into_bytes(),
            "publicKey",
        ),
        (
            "publicKey 10 KB",
            json!({"envelope": fresh_v, "publicKey": "A".repeat(10_000)})
                .to_string()
                .into_bytes(),
            "publicKey",
        ),
    ] {
        let a = t.post(s, body).await;
        assert_error(case, &a, 400, "ERROR_CODE_MALFORMED", needle);
    }
    // Wrong content types with bodies that are not JSON.
    for (ct, body) in [
        ("text/plain", "envelope please".to_owned()),
        (
            "application/x-www-form-urlencoded",
            format!("publicKey={}&envelope=x", key_text(&alice)),
        ),
        (
            "multipart/form-data; boundary=x",
            "--x\r\n\r\n{}\r\n--x--".to_owned(),
        ),
    ] {
        let a = t
            .send(
                t.client
                    .post(format!("{}{s}", t.url))
                    .header("content-type", ct)
                    .body(body),
            )
            .await;
        assert_error(ct, &a, 400, "ERROR_CODE_MALFORMED", "");
    }
    let a = t
        .post("/v1/statements?wait=forever", wrap(&alice, fresh_v.clone()))
        .await;
    assert_error("bad wait", &a, 400, "ERROR_CODE_MALFORMED", "wait");

    // Malformed base64 inside the envelope.
    for (case, field, value, needle) in [
        ("payload not base64", "payload", json!("%%%"), "base64"),
        ("payload bad padding", "payload", json!("QQ=Q"), "base64"),
        ("payload not a string", "payload", json!(12), "malformed"),
    ] {
        let mut v = fresh_v.clone();
        v[field] = value;
        let a = t.post(s, wrap(&alice, v)).await;
        assert_error(case, &a, 400, "ERROR_CODE_MALFORMED", needle);
    }
    let mut v = fresh_v.clone();
    v["signatures"][0]["sig"] = json!("not*base64");
    let a = t.post(s, wrap(&alice, v)).await;
    assert_error("sig not base64", &a, 400, "ERROR_CODE_MALFORMED", "base64");
    let mut v = fresh_v.clone();
    v["signatures"] = json!([]);
    let a = t.post(s, wrap(&alice, v)).await;
    assert_error(
        "no signatures",
        &a,
        400,
        "ERROR_CODE_MALFORMED",
        "no signatures",
    );

    // Envelopes whose key does not match.
    let a = t.post(s, wrap(&mallory, fresh_v.clone())).await;
    assert_error(
        "publicKey of another key",
        &a,
        422,
        "ERROR_CODE_BAD_SIGNATURE",
        "no signature",
    );
    let mut v = fresh_v.clone();
    v["signatures"][0]["keyid"] = json!(key_text(&mallory));
    let a = t.post(s, v.to_string()).await;
    assert_error(
        "bare envelope whose keyid names another key",
        &a,
        422,
        "ERROR_CODE_BAD_SIGNATURE",
        "no signature",
    );
    let mut tampered = fresh.clone();
    tampered.signatures[0].sig[5] ^= 0x40;
    let a = t.post(s, wrap(&alice, env_value(&tampered))).await;
    assert_error(
        "corrupted signature",
        &a,
        422,
        "ERROR_CODE_BAD_SIGNATURE",
        "no signature",
    );
    let mut swapped = fresh.clone();
    swapped.payload = statement_with(
        vec![Subject::package_version(
            "pkg:cargo/never-logged@6.6.6",
            [3; 32],
        )],
        json!({"status": "adopted"}),
    );
    let a = t.post(s, wrap(&alice, env_value(&swapped))).await;
    assert_error(
        "payload swapped under a valid signature",
        &a,
        422,
        "ERROR_CODE_BAD_SIGNATURE",
        "no signature",
    );

    // Unknown payload types and invalid statements, correctly signed.
    for (case, payload_type, payload, needle) in [
        (
            "unknown payload type",
            "application/vnd.evil+json",
            fresh.payload.clone(),
            "payload type",
        ),
        (
            "empty payload type",
            "",
            fresh.payload.clone(),
            "payload type",
        ),
        (
            "duplicate keys in the statement",
            IN_TOTO_PAYLOAD_TYPE,
            br#"{"_type":"https://in-toto.io/Statement/v1","_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:cargo/a@1.0.0","digest":{"sha256":"0303030303030303030303030303030303030303030303030303030303030303"}}],"predicateType":"https://quorum.dev/attestation/adoption/v1","predicate":{"status":"adopted"}}"#.to_vec(),
            "duplicate",
        ),
        (
            "deep JSON in the predicate",
            IN_TOTO_PAYLOAD_TYPE,
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"pkg:cargo/a@1.0.0","digest":{{"sha256":"0303030303030303030303030303030303030303030303030303030303030303"}}}}],"predicateType":"https://quorum.dev/attestation/adoption/v1","predicate":{}{}}}"#,
                "{\"a\":".repeat(40),
                "1".to_owned() + &"}".repeat(40)
            )
            .into_bytes(),
            "deeper",
        ),
        (
            "statement not JSON",
            IN_TOTO_PAYLOAD_TYPE,
            b"\xff\xfe not json".to_vec(),
            "statement",
        ),
    ] {
        let env = Envelope::sign(payload_type, payload, &alice);
        let a = t.post(s, wrap(&alice, env_value(&env))).await;
        let (status, code) = if payload_type.is_empty() {
            (400, "ERROR_CODE_MALFORMED")
        } else {
            (422, "ERROR_CODE_INVALID_STATEMENT")
        };
        assert_error(case, &a, status, code, needle);
    }

    // Statements about malformed purls.
    for purl in [
        "pkg:cargo/",
        "notapurl@1.0.0",
        "pkg:cargo/a b@1.0.0",
        "pkg:cargo/x@",
        "pkg:cargo/x@1.0.0#sub/path",
        "pkg:/x@1.0.0",
        "pkg:cargo/x\n@1.0.0",
        "pkg:c@rgo/x@1.0.0",
        "pkg:cargo/x/../y@1.0.0",
        "pkg:cargo/x@1.0.0?=b",
    ] {
        let env = Envelope::sign(
            IN_TOTO_PAYLOAD_TYPE,
            statement_with(
                vec![Subject::package_version(purl, [3; 32])],
                json!({"status": "adopted"}),
            ),
            &alice,
        );
        let a = t.post(s, wrap(&alice, env_value(&env))).await;
        assert_error(
            &format!("statement about {purl:?}"),
            &a,
            422,
            "ERROR_CODE_INVALID_STATEMENT",
            "",
        );
    }

    // A batch of nothing but bad items: each item fails, nothing is logged.
    let bad_items = json!({"envelopes": [
        {"envelope": fresh_v, "publicKey": key_text(&mallory)},
        {"envelope": {"payload": "%%", "payloadType": IN_TOTO_PAYLOAD_TYPE, "signatures": []}, "publicKey": key_text(&alice)},
        42,
    ]});
    let a = t.post(s, bad_items.to_string()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let results = a.json["results"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, vec![422, 400, 400], "{}", a.text);
    for r in &results {
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{r}"
        );
    }
}

/// Replays and duplicates: the existing index, status DUPLICATE, nothing new.
async fn replays(t: &Target, logged: &[(Envelope, String)]) {
    let s = "/v1/statements";
    for (i, (env, index)) in logged.iter().enumerate() {
        let k = user_key(50 + i as u8);
        let expect_index = |v: &Value, case: &str| {
            // proto3 JSON omits index 0.
            let got = v["index"].as_str().unwrap_or("0");
            assert_eq!(got, index, "{case}: {v}");
            assert_eq!(v["status"], "SUBMIT_STATUS_DUPLICATE", "{case}: {v}");
        };
        let a = t.post(s, wrap(&k, env_value(env))).await;
        assert_eq!(a.status, 200, "{}", a.text);
        expect_index(&a.json, "replay");
        // Re-encoded JSON (pretty, keys reordered, unpadded base64) is the same statement.
        let v = env_value(env);
        let reencoded = format!(
            "{{\n  \"publicKey\": \"{}\",\n  \"envelope\": {{\"signatures\": {},\n \"payloadType\": {}, \"payload\": {}}}\n}}",
            hex::encode(k.verifying_key().to_bytes()),
            v["signatures"],
            v["payloadType"],
            json!(
                v["payload"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_end_matches('=')
            ),
        );
        let a = t.post(s, reencoded).await;
        assert_eq!(a.status, 200, "{}", a.text);
        expect_index(&a.json, "re-encoded replay");
        // An extra signature by someone else does not make a new entry.
        let mut more = env.clone();
        more.add_signature(&user_key(77));
        let a = t.post(s, wrap(&k, env_value(&more))).await;
        assert_eq!(a.status, 200, "{}", a.text);
        expect_index(&a.json, "replay with an extra signature");
        // A bare envelope naming the signer in its keyid.
        let mut bare = env_value(env);
        bare["signatures"][0]["keyid"] = json!(key_text(&k));
        let a = t.post(s, bare.to_string()).await;
        assert_eq!(a.status, 200, "{}", a.text);
        expect_index(&a.json, "bare replay");
        // The same envelope three times in one batch.
        let item = json!({"envelope": env_value(env), "publicKey": key_text(&k)});
        let a = t
            .post(
                s,
                json!({"envelopes": [item.clone(), item.clone(), item]}).to_string(),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let results = a.json["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 3);
        for r in &results {
            expect_index(r, "batch replay");
        }
    }
}

/// Read endpoints: non-canonical tile paths, malformed lookups and evidence queries.
async fn bad_reads(t: &Target) {
    for path in [
        "0/1",
        "0/01",
        "0/0000",
        "0/00",
        "00/000",
        "01/000",
        "0/x000",
        "0/x000/000",
        "0/000/000",
        "0/x1/000",
        "0/x0001/000",
        "0/xx000/000",
        "0/x000/x000/000",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/007",
        "0/000.p/-1",
        "0/000.p/",
        "0/000.p/1/2",
        "0/000.q/1",
        "64/000",
        "99/000",
        "-1/000",
        "0/x999/x999/x999/x999/x999/x999/999",
        "0/x018/x446/x744/x073/x709/x551/615",
        "0/99999999999999999999999",
        "entries/1",
        "entries/x000/000",
        "entries/000.p/0",
        "entries/000.p/256",
        "entries/x999/x999/x999/x999/x999/x999/999",
        "entries/18446744073709551615",
        "entries/000/../000",
        "entries",
        "0/%30%30%30",
        "0/000%00",
        "0/000.p/3%00",
    ] {
        let a = t.get(&format!("/tile/{path}")).await;
        assert_error(
            &format!("tile path {path:?}"),
            &a,
            404,
            "ERROR_CODE_NOT_FOUND",
            "",
        );
    }
    let long = format!("pkg:cargo/{}", "a".repeat(3000));
    for (case, path, needle) in [
        (
            "purl not a purl",
            "/v1/evidence?purl=notapurl".to_owned(),
            "pkg:",
        ),
        ("purl empty", "/v1/evidence?purl=".to_owned(), "pkg:"),
        (
            "purl with subpath",
            "/v1/evidence?purl=pkg:cargo/a%23sub".to_owned(),
            "subpath",
        ),
        (
            "purl empty version",
            "/v1/evidence?purl=pkg:cargo/a@".to_owned(),
            "version",
        ),
        (
            "purl control character",
            "/v1/evidence?purl=pkg:cargo/a%0A".to_owned(),
            "control",
        ),
        (
            "purl 3000 bytes",
            format!("/v1/evidence?purl={long}"),
            "too long",
        ),
        ("evidence without purl", "/v1/evidence".to_owned(), "purl"),
        (
            "lookup without purl or signer",
            "/v1/statements".to_owned(),
            "exactly one",
        ),
        (
            "lookup with purl and signer",
            format!(
                "/v1/statements?purl=pkg:cargo/a&signer={}",
                key_text(&user_key(1))
            ),
            "exactly one",
        ),
        (
            "lookup bad signer",
            "/v1/statements?signer=ed25519:zz".to_owned(),
            "signer",
        ),
        (
            "lookup bad purl",
            "/v1/statements?purl=pkg:".to_owned(),
            "pkg",
        ),
        (
            "after beyond i64",
            "/v1/statements?purl=pkg:cargo/a&after=18446744073709551615".to_owned(),
            "after",
        ),
    ] {
        let a = t.get(&path).await;
        assert_error(case, &a, 400, "ERROR_CODE_MALFORMED", needle);
    }
    // A huge `since` is beyond the checkpoint: a bundle without a consistency proof.
    for since in ["18446744073709551615", "3", "4", "0"] {
        let a = t
            .get(&format!(
                "/v1/evidence?purl=pkg:cargo/hostile&since={since}"
            ))
            .await;
        assert_eq!(a.status, 200, "since={since}: {}", a.text);
        assert_eq!(
            a.json["entries"].as_array().map(Vec::len),
            Some(3),
            "since={since}: {}",
            a.text
        );
        assert!(
            a.json.get("consistencyProofs").is_none(),
            "since={since}: no proof from a size the log never had: {}",
            a.text
        );
    }
}

/// Query strings that do not parse at all: numbers that are not u64 (non-canonical,
/// negative, overflowing). The answer must be the API's JSON error, like every other
/// refusal. Returns the cases that got something else.
async fn unparsable_queries(t: &Target) -> Vec<String> {
    let mut wrong = Vec::new();
    for path in [
        "/v1/evidence?purl=pkg:cargo/hostile&size=99999999999999999999999",
        "/v1/evidence?purl=pkg:cargo/hostile&size=-1",
        "/v1/evidence?purl=pkg:cargo/hostile&start=+1",
        "/v1/evidence?purl=pkg:cargo/hostile&start=1e3",
        "/v1/statements?purl=pkg:cargo/hostile&after=-1",
        "/v1/statements?purl=pkg:cargo/hostile&limit=99999999999",
        "/v1/statements?purl=pkg:cargo/hostile&limit=ten",
    ] {
        let a = t.get(path).await;
        if a.status != 400 || a.json["code"] != "ERROR_CODE_MALFORMED" {
            wrong.push(format!(
                "{path}: {} {:?} {}",
                a.status, a.content_type, a.text
            ));
        }
    }
    wrong
}

async fn catalogue(backend: Backend) {
    let (t, _db, logged) = setup(backend).await;
    bad_submissions(&t).await;
    t.assert_unchanged("bad submissions").await;
    replays(&t, &logged).await;
    t.assert_unchanged("replays").await;
    bad_reads(&t).await;
    t.assert_unchanged("bad reads").await;
    // The server is still healthy and still accepts a valid statement.
    let k = user_key(90);
    let a = t
        .post(
            "/v1/statements",
            wrap(
                &k,
                env_value(&envelope(&k, "pkg:cargo/after-attack", "1.0.0")),
            ),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["index"], "3", "{}", a.text);
    println!(
        "hostile catalogue ({backend:?}): {} inputs tried, every one refused or deduplicated, log unchanged",
        t.tried.load(Ordering::Relaxed)
    );
    t.srv.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_sqlite() {
    catalogue(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_postgres() {
    catalogue(Backend::Postgres).await;
}

/// Query parameters that are not u64 numbers get the API's JSON error (once axum's
/// plain-text `Query` rejection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_query_numbers_get_json_errors() {
    let (t, _db, _) = setup(Backend::Sqlite).await;
    let wrong = unparsable_queries(&t).await;
    t.assert_unchanged("unparsable queries").await;
    t.srv.shutdown().await.expect("shutdown");
    assert!(wrong.is_empty(), "not JSON errors:\n{}", wrong.join("\n"));
}

/// Purls that are not valid purls (invalid percent-escapes, control characters once
/// decoded) are refused (`quorum_verifier::model::statement::parse_purl` once accepted them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_about_percent_malformed_purls_are_refused() {
    let (t, _db, _) = setup(Backend::Sqlite).await;
    let alice = user_key(50);
    let mut accepted = Vec::new();
    for purl in [
        "pkg:cargo/%zz@1.0.0",
        "pkg:cargo/%@1.0.0",
        "pkg:cargo/a%00b@1.0.0",
        "pkg:cargo/x@1%0A",
        "pkg:cargo/x@%zz",
    ] {
        let env = Envelope::sign(
            IN_TOTO_PAYLOAD_TYPE,
            statement_with(
                vec![Subject::package_version(purl, [3; 32])],
                json!({"status": "adopted"}),
            ),
            &alice,
        );
        let a = t
            .post("/v1/statements", wrap(&alice, env_value(&env)))
            .await;
        if a.status != 422 {
            accepted.push(format!("{purl:?}: {} {}", a.status, a.text));
        }
    }
    t.srv.shutdown().await.expect("shutdown");
    assert!(
        accepted.is_empty(),
        "malformed purls accepted:\n{}",
        accepted.join("\n")
    );
}

/// Duplicate keys in the request's JSON (outside the signed statement, which is parsed
/// strictly) are refused, not resolved silently (serde_json's `Value` keeps the last one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_in_the_request_body_are_refused() {
    let (t, _db, _) = setup(Backend::Sqlite).await;
    let alice = user_key(50);
    let fresh = env_value(&envelope(&alice, "pkg:cargo/dup-keys", "1.0.0"));
    let payload = fresh["payload"].as_str().unwrap_or_default();
    let mut accepted = Vec::new();
    for (case, body) in [
        (
            "publicKey twice",
            format!(
                r#"{{"envelope": {fresh}, "publicKey": "{}", "publicKey": "{}"}}"#,
                key_text(&user_key(66)),
                key_text(&alice)
            ),
        ),
        (
            "payload twice in the envelope",
            format!(
                r#"{{"envelope": {{"payload": "e30=", "payload": "{payload}", "payloadType": {}, "signatures": {}}}, "publicKey": "{}"}}"#,
                fresh["payloadType"],
                fresh["signatures"],
                key_text(&alice)
            ),
        ),
    ] {
        let a = t.post("/v1/statements", body).await;
        if a.status != 400 {
            accepted.push(format!("{case}: {} {}", a.status, a.text));
        }
    }
    t.srv.shutdown().await.expect("shutdown");
    assert!(
        accepted.is_empty(),
        "duplicate keys accepted:\n{}",
        accepted.join("\n")
    );
}
