//! Submission parsing and signature checking at the HTTP boundary: every item of a batch
//! gets its own precise answer, and a signature that Ed25519 batch verification would
//! accept but strict verification rejects is refused.

mod common;

use common::{Backend, base, envelope, fresh_db, key_text, start, submission, user_key};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use quorum_verifier::model::dsse::{Envelope, EnvelopeSignature, SigningKey, key_id};
use quorum_verifier::model::log_entry::{verify_envelope, verify_envelopes_batch};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha512};

async fn post(client: &reqwest::Client, url: &str, body: &str) -> (u16, Value) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_item_of_a_batch_gets_its_own_answer() {
    let db = fresh_db(Backend::Sqlite).await;
    let srv = start(&db).await;
    let url = format!("{}/v1/statements", base(&srv));
    let client = reqwest::Client::new();
    let alice = user_key(1);
    let env = envelope(&alice, "pkg:cargo/serde", "1.0.0");
    let env_json: Value = serde_json::from_str(&env.to_json()).expect("json");

    // A bare envelope names its signer in a keyid `ed25519:<hex>`.
    let mut bare = envelope(&alice, "pkg:cargo/serde", "1.0.1");
    bare.signatures[0].keyid = key_text(&alice);
    let bare_json: Value = serde_json::from_str(&bare.to_json()).expect("json");
    let mut no_keyid = bare_json.clone();
    no_keyid["signatures"][0]["keyid"] = json!("");

    let items = json!([
        submission(&alice, &env),
        42,
        {"envelope": env_json, "publicKey": 7},
        {"envelope": env_json, "publicKey": "ed25519:00"},
        {"envelope": {"payload": "!!", "payloadType": "t", "signatures": [{"sig": "AA=="}]}, "publicKey": key_text(&alice)},
        bare_json,
        no_keyid,
        {"envelope": env_json, "publicKey": key_text(&user_key(2))},
        submission(&alice, &env),
    ]);
    let (status, v) = post(&client, &url, &json!({ "envelopes": items }).to_string()).await;
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().cloned().unwrap_or_default();
    let summary: Vec<String> = results
        .iter()
        .map(|r| match r.get("error") {
            Some(e) => format!("{} {}", r["status"], e["code"].as_str().unwrap_or("")),
            None => r["status"].as_str().unwrap_or("").to_owned(),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "SUBMIT_STATUS_PENDING",
            "400 ERROR_CODE_MALFORMED",
            "400 ERROR_CODE_MALFORMED",
            "400 ERROR_CODE_MALFORMED",
            "400 ERROR_CODE_MALFORMED",
            "SUBMIT_STATUS_PENDING",
            "400 ERROR_CODE_MALFORMED",
            "422 ERROR_CODE_BAD_SIGNATURE",
            "SUBMIT_STATUS_DUPLICATE",
        ],
        "{v}"
    );
    let message = |i: usize| {
        results[i]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert!(message(1).contains("JSON object"), "{}", message(1));
    assert!(
        message(2).contains("`publicKey` (string)"),
        "{}",
        message(2)
    );
    assert!(
        message(3).contains("not a valid Ed25519 key"),
        "{}",
        message(3)
    );
    assert!(message(4).contains("base64"), "{}", message(4));
    assert!(message(6).contains("no signer key"), "{}", message(6));
    // The first and the last item are the same statement: one index.
    assert_eq!(results[0]["index"], results[8]["index"]);

    // Whole-request errors.
    for (body, status, text) in [
        ("{\"envelopes\": 5}", 400, "must be an array"),
        ("{\"envelopes\": []}", 400, "is empty"),
        ("[1, 2]", 400, "JSON object"),
        ("{\"envelopes\": [1], \"envelopes\": [2]}", 400, "duplicate"),
        ("{\"envelopes\": [1]} trailing", 400, "not JSON"),
    ] {
        let (got, v) = post(&client, &url, body).await;
        assert_eq!(got, status, "{body}: {v}");
        let message = v["message"].as_str().unwrap_or("");
        assert!(message.contains(text), "{body}: {message}");
    }
    srv.shutdown().await.expect("shutdown");
}

/// An envelope whose signature has the order-2 point added to its `R`: `s·B = R + h·A`
/// fails by exactly that small-order point, so strict verification rejects it, while the
/// cofactorless batch equation `Σ zᵢ(Rᵢ + hᵢAᵢ − sᵢB) = 0` holds whenever the coefficient z
/// is even. The statement is varied until ed25519-dalek's `verify_batch` accepts it.
fn mixed_order_envelope(key: &SigningKey) -> Envelope {
    // (0, -1): the point of order 2.
    let mut order_two = [0xff; 32];
    order_two[0] = 0xec;
    order_two[31] = 0x7f;
    let order_two = CompressedEdwardsY(order_two)
        .decompress()
        .expect("the order-2 point");
    assert!(order_two.is_small_order());
    let public = key.verifying_key();
    let nonce = Scalar::from(0x5eed_u64);
    let r = (nonce * ED25519_BASEPOINT_POINT + order_two).compress();
    for attempt in 0..200 {
        let mut env = envelope(key, "pkg:cargo/mixed", &format!("1.0.{attempt}"));
        let pae = env.pae();
        let h = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(r.as_bytes())
                .chain_update(public.as_bytes())
                .chain_update(&pae)
                .finalize()
                .into(),
        );
        let s = nonce + h * key.to_scalar();
        let mut sig = r.to_bytes().to_vec();
        sig.extend_from_slice(s.as_bytes());
        let signature = ed25519_dalek::Signature::from_slice(&sig).expect("64 bytes");
        if ed25519_dalek::verify_batch(&[pae.as_slice()], &[signature], &[public]).is_ok() {
            assert!(public.verify_strict(&pae, &signature).is_err());
            env.signatures = vec![EnvelopeSignature {
                keyid: key_id(&public),
                sig,
            }];
            return env;
        }
    }
    panic!("no attempt out of 200 passed batch verification (each should with probability 1/2)");
}

#[tokio::test]
async fn a_signature_only_batch_verification_accepts_is_refused() {
    let key = user_key(3);
    let crafted = mixed_order_envelope(&key);
    let public = key.verifying_key();

    // The library's batch API answers exactly as one-at-a-time verification, also when the
    // crafted signature sits among valid ones.
    let honest: Vec<Envelope> = (0..100)
        .map(|i| envelope(&key, "pkg:cargo/honest", &format!("2.0.{i}")))
        .collect();
    let mut items: Vec<(&Envelope, &ed25519_dalek::VerifyingKey)> =
        honest.iter().map(|e| (e, &public)).collect();
    items.insert(37, (&crafted, &public));
    let one_by_one: Vec<_> = items.iter().map(|(e, k)| verify_envelope(e, k)).collect();
    let batch = verify_envelopes_batch(&items);
    assert_eq!(batch, one_by_one);
    assert_eq!(
        batch.iter().filter(|r| r.is_err()).count(),
        1,
        "only the crafted item fails"
    );
    assert_eq!(
        batch[37].as_ref().map_err(|e| e.kind()).err(),
        Some("no-valid-signature")
    );

    // The server refuses it, alone and inside a batch.
    let db = fresh_db(Backend::Sqlite).await;
    let srv = start(&db).await;
    let url = format!("{}/v1/statements", base(&srv));
    let client = reqwest::Client::new();
    let (status, v) = post(&client, &url, &submission(&key, &crafted).to_string()).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "ERROR_CODE_BAD_SIGNATURE");
    let batch_body =
        json!({"envelopes": items.iter().map(|(e, _)| submission(&key, e)).collect::<Vec<_>>()});
    let (status, v) = post(&client, &url, &batch_body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 101);
    assert_eq!(results[37]["error"]["code"], "ERROR_CODE_BAD_SIGNATURE");
    assert_eq!(
        results.iter().filter(|r| r.get("error").is_some()).count(),
        1
    );
    srv.shutdown().await.expect("shutdown");
}
