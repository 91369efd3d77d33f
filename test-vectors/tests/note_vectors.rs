//! Runs the signed-note, checkpoint, cosignature, tlog-proof and tlog-policy code against the
//! public vectors in `../shared/vectors` (see its SOURCES.md). Every loader counts the cases it
//! ran and asserts the count, so a vector file that shrinks or changes shape fails loudly.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quorum_c2sp::checkpoint::{Checkpoint, CheckpointError, open_checkpoint};
use quorum_c2sp::cosignature::{
    self, CosignatureSigner, CosignatureVerifier, signed_message, split_cosignature,
};
use quorum_c2sp::merkle;
use quorum_c2sp::note::{
    self, Ed25519Signer, Ed25519Verifier, Note, NoteError, NoteSignature, NoteVerifier,
    VerifierKey, Verifiers,
};
use quorum_c2sp::tlog_proof::TlogProof;
use quorum_c2sp::witness_policy::{self, WitnessPolicy};
use quorum_verifier::model::statement::sha256_hex;
use serde_json::Value;

fn vectors_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    assert!(
        root.is_dir(),
        "shared vectors not found at {} (expected the research vectors beside the workspace)",
        root.display()
    );
    root
}

fn read(rel: &str) -> Vec<u8> {
    let path = vectors_root().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing string `{field}` in {v}"))
}

fn arr<'a>(v: &'a Value, field: &str) -> &'a Vec<Value> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("missing array `{field}` in {v}"))
}

fn verifiers(list: &[&Ed25519Verifier]) -> Verifiers {
    let mut v = Verifiers::new();
    for x in list {
        v.add(Box::new((*x).clone()));
    }
    v
}

fn ed(vkey: &str) -> Ed25519Verifier {
    Ed25519Verifier::from_vkey(vkey).unwrap_or_else(|e| panic!("{vkey}: {e}"))
}

/// Plain SHA-256 (through the verifier crate, which owns the sha2 dependency).
fn sha256(bytes: &[u8]) -> [u8; 32] {
    hex::decode(sha256_hex(bytes))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

// ---------------------------------------------------------------- golang/mod sumdb/note

#[test]
fn golang_mod_sumdb_note() {
    let f = json("golang-mod/sumdb-vectors.json");
    let n = &f["note"];
    let text = s(n, "text");

    // Signer keys: the skey round-trips and derives the vkey.
    let signer_keys = arr(n, "signer_keys");
    assert_eq!(signer_keys.len(), 1);
    for k in signer_keys {
        let signer = Ed25519Signer::from_skey(s(k, "skey")).expect("skey");
        assert_eq!(signer.skey(), s(k, "skey"));
        assert_eq!(signer.vkey(), s(k, "vkey"));
    }
    let peter_signer = Ed25519Signer::from_skey(s(&signer_keys[0], "skey")).expect("skey");

    // Verifier keys.
    let vkeys = n["verifier_keys"].as_object().expect("verifier_keys");
    assert_eq!(vkeys.len(), 2);
    for (name, vkey) in vkeys {
        let vkey = vkey.as_str().expect("str");
        let v = ed(vkey);
        assert_eq!(v.name(), name);
        assert_eq!(v.vkey(), vkey);
        assert_eq!(VerifierKey::parse(vkey).expect("parse").to_string(), vkey);
    }
    let peter_vkey = s(&n["verifier_keys"], "PeterNeumann");
    let enoch_vkey = s(&n["verifier_keys"], "EnochRoot");

    let bad = arr(n, "bad_verifier_keys");
    assert_eq!(bad.len(), 2);
    for b in bad {
        assert!(VerifierKey::parse(s(b, "vkey")).is_err(), "{}", s(b, "why"));
        assert!(Ed25519Verifier::from_vkey(s(b, "vkey")).is_err());
    }

    // Signature lines: Peter's is reproduced byte for byte (Ed25519 is deterministic); both
    // verify.
    let lines = &n["signature_lines"];
    let peter_line = s(lines, "PeterNeumann");
    let enoch_line = s(lines, "EnochRoot");
    let signed = note::sign(text, &[&peter_signer]).expect("sign");
    assert_eq!(String::from_utf8_lossy(&signed), s(n, "signed_note_peter"));
    assert_eq!(signed, format!("{text}\n{peter_line}").into_bytes());
    for (line, vkey) in [(peter_line, peter_vkey), (enoch_line, enoch_vkey)] {
        let v = ed(vkey);
        let opened = note::open(format!("{text}\n{line}").as_bytes(), &verifiers(&[&v]))
            .expect("signature verifies");
        assert_eq!(opened.text, text);
    }

    // Open() cases, built from their descriptions.
    let both = format!("{text}\n{peter_line}{enoch_line}");
    let cases = arr(n, "open_cases");
    assert_eq!(cases.len(), 6);
    let mut ran = 0;
    for c in cases {
        let desc = s(c, "note");
        let expect = s(c, "expect");
        let body = if desc == "TEXT+\"\\n\"+PeterNeumann+EnochRoot" {
            both.clone()
        } else if desc == "TEXT+\"\\n\"+EnochRoot" {
            format!("{text}\n{enoch_line}")
        } else if desc.contains("101 x PeterNeumann") {
            format!("{text}\n{}", peter_line.repeat(101))
        } else if desc.contains("'ABCD' inserted at byte offset 60") {
            let mut l = peter_line.to_string();
            l.insert_str(60, "ABCD");
            format!("{text}\n{l}")
        } else {
            panic!("unknown open case {desc}")
        };
        let vs: Vec<Ed25519Verifier> = arr(c, "verifiers")
            .iter()
            .map(|name| ed(s(&n["verifier_keys"], name.as_str().expect("name"))))
            .collect();
        let refs: Vec<&Ed25519Verifier> = vs.iter().collect();
        let got = note::open(body.as_bytes(), &verifiers(&refs));
        match expect {
            e if e.starts_with("ok; Sigs=[Peter]") => {
                let g = got.expect(e);
                assert_eq!(g.verified.len(), 1);
                assert_eq!(g.verified[0].name, "PeterNeumann");
                assert_eq!(g.unverified.len(), 1);
                assert_eq!(g.unverified[0].name, "EnochRoot");
            }
            "ok; both verified" => {
                let g = got.expect(expect);
                assert_eq!(g.verified.len(), 2);
                assert!(g.unverified.is_empty());
            }
            e if e.contains("no verifiable signatures") => {
                assert_eq!(got, Err(NoteError::NoVerifiableSignatures))
            }
            e if e.contains("ambiguous key") => {
                assert!(
                    matches!(got, Err(NoteError::AmbiguousKey { .. })),
                    "{got:?}"
                )
            }
            e if e.contains("caps at 100") => {
                assert!(
                    matches!(got, Err(NoteError::TooManySignatures { .. })),
                    "{got:?}"
                )
            }
            e if e.contains("invalid signature") => {
                assert!(
                    matches!(got, Err(NoteError::InvalidSignature { .. })),
                    "{got:?}"
                )
            }
            other => panic!("unknown expectation {other}"),
        }
        ran += 1;
    }
    assert_eq!(ran, 6);

    // Malformed notes, built from their descriptions; each must fail to parse.
    let peter = ed(peter_vkey);
    let malformed = arr(n, "malformed_notes");
    assert_eq!(malformed.len(), 7);
    for m in malformed {
        let desc = m.as_str().expect("str");
        let body: Vec<u8> = match desc {
            d if d.starts_with("TEXT (no blank line") => text.into(),
            d if d.starts_with("TEXT+\"\\n\" (no signatures)") => format!("{text}\n").into(),
            d if d.contains("without final newline") => {
                format!("{text}\n{}", peter_line.trim_end_matches('\n')).into()
            }
            d if d.contains("control character") => format!("\x01{text}\n{peter_line}").into(),
            d if d.contains("invalid UTF-8") => {
                let mut b = vec![0xff];
                b.extend_from_slice(format!("{text}\n{peter_line}").as_bytes());
                b
            }
            d if d.contains("containing a space") => {
                format!("{text}\n{}", peter_line.replace("PeterNeumann", "Bad Name")).into()
            }
            d if d.contains("non-signature line after") => {
                format!("{text}\n{peter_line}Unexpected line.\n").into()
            }
            other => panic!("unknown malformed case {other}"),
        };
        assert!(Note::parse(&body).is_err(), "{desc} parsed");
        assert!(
            note::open(&body, &verifiers(&[&peter])).is_err(),
            "{desc} opened"
        );
    }

    // The tree note golden is a checkpoint.
    let tree = &f["tlog_note_formats"]["tree_note"];
    let golden = s(tree, "golden");
    let cp = Checkpoint::parse(golden).expect("tree note");
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(Some(cp.size), tree["N"].as_u64());
    assert_eq!(cp.root_hash, merkle::leaf_hash(b"hello world"));
    assert_eq!(cp.to_text(), golden);
    let bad_trees = arr(&f["tlog_note_formats"], "bad_trees");
    assert_eq!(bad_trees.len(), 3);
    for b in bad_trees {
        let b = b.as_str().expect("str");
        // The first is only wrong for Go's sumdb-specific origin check; as written ("...")
        // it is not a checkpoint either.
        assert!(Checkpoint::parse(b).is_err(), "{b:?} parsed");
    }
    ed(s(&f, "sum_golang_org_vkey"));
}

// ---------------------------------------------------------------- transparency-dev/formats

#[test]
fn transparency_dev_formats() {
    let f = json("transparency-dev-formats/formats-vectors.json");

    // ECDSA (0x02): vkeys parse with their key ID rule; notes parse; the signatures cannot be
    // verified here and are skipped, never an error.
    let ecdsa = arr(&f, "ecdsa_checkpoints_type_0x02");
    assert_eq!(ecdsa.len(), 4);
    let unrelated = Ed25519Signer::from_seed("unrelated.example", &[5; 32]).expect("k");
    let unrelated_v = unrelated.verifier();
    for c in ecdsa {
        let key = VerifierKey::parse(s(c, "vkey")).expect("ecdsa vkey");
        assert_eq!(key.key_type, note::SIG_TYPE_ECDSA);
        assert!(
            key.verifier().is_err(),
            "ECDSA verification is not supported"
        );
        let parsed = Note::parse(s(c, "note").as_bytes()).expect("note parses");
        Checkpoint::parse(&parsed.text).expect("checkpoint parses");
        let sig = &parsed.signatures[0];
        let matches = sig.name == key.name && sig.key_id == key.key_id;
        assert_eq!(matches, s(c, "expect") == "valid", "{}", s(c, "desc"));
        let opened = note::open(s(c, "note").as_bytes(), &verifiers(&[&unrelated_v]));
        assert_eq!(opened, Err(NoteError::NoVerifiableSignatures));
    }
    let rekor_material = s(&ecdsa[0], "vkey")
        .splitn(3, '+')
        .nth(2)
        .expect("material");
    let bad = arr(&f, "bad_ecdsa_vkeys");
    assert_eq!(bad.len(), 5);
    for b in bad {
        let vkey = s(b, "vkey").replace("<sigstore key material>", rekor_material);
        assert!(VerifierKey::parse(&vkey).is_err(), "{}", s(b, "why"));
    }

    // RFC 6962 (0x05): the vkeys' key IDs follow the static-ct-api rule (checked by parse);
    // the rome checkpoint parses and its signature carries the STH timestamp.
    let rfc = arr(&f, "rfc6962_sth_vkeys_type_0x05");
    assert_eq!(rfc.len(), 2);
    for r in rfc {
        let key = VerifierKey::parse(s(r, "vkey")).expect("0x05 vkey");
        assert_eq!(key.key_type, note::SIG_TYPE_RFC6962);
        assert_eq!(
            key.public_key,
            STANDARD.decode(s(r, "spki_der_b64")).expect("spki")
        );
        let log_id = sha256(&key.public_key);
        assert_eq!(
            key.key_id,
            note::key_id(&key.name, note::SIG_TYPE_RFC6962, &log_id)
        );
        if let Some(cp) = r["checkpoint"].as_str() {
            let parsed = Note::parse(cp.as_bytes()).expect("rome note");
            let c = Checkpoint::parse(&parsed.text).expect("rome checkpoint");
            assert_eq!(c.size, 115474666);
            let sig = &parsed.signatures[0];
            assert_eq!(sig.key_id, 0x78f4abae);
            assert_eq!(sig.key_id, key.key_id);
            let ts = u64::from_be_bytes(sig.signature[..8].try_into().expect("8"));
            assert_eq!(ts, 1711519390034);
            assert!(note::open(cp.as_bytes(), &verifiers(&[&unrelated_v])).is_err());
        }
    }

    // Ed25519 skey/vkey pair.
    let keys = arr(&f, "ed25519_keys");
    assert_eq!(keys.len(), 1);
    for k in keys {
        let signer = Ed25519Signer::from_skey(s(k, "skey")).expect("skey");
        assert_eq!(signer.vkey(), s(k, "vkey"));
        assert_eq!(signer.skey(), s(k, "skey"));
    }

    // tlog-proof marshal goldens.
    let marshal = arr(&f, "tlog_proof_marshal");
    assert_eq!(marshal.len(), 3);
    for m in marshal {
        let hashes: Vec<merkle::Hash> = arr(m, "hashes_of")
            .iter()
            .map(|h| sha256(h.as_str().expect("str").as_bytes()))
            .collect();
        let proof = TlogProof {
            extra: m["extra"].as_str().map(|e| e.as_bytes().to_vec()),
            index: m["index"].as_u64().expect("index"),
            hashes: hashes.clone(),
            checkpoint: s(m, "checkpoint").as_bytes().to_vec(),
        };
        let mut want = s(m, "want").to_string();
        for (i, h) in arr(m, "hashes_of").iter().enumerate() {
            let placeholder = format!("<b64 sha256({})>", h.as_str().expect("str"));
            want = want.replace(&placeholder, &STANDARD.encode(hashes[i]));
        }
        if let Some(e) = m["extra"].as_str() {
            want = want.replace(&format!("<b64(\"{e}\")>"), &STANDARD.encode(e));
        }
        assert!(!want.contains('<'), "unsubstituted placeholder in {want}");
        assert_eq!(String::from_utf8_lossy(&proof.to_bytes()), want);
        assert_eq!(TlogProof::parse(want.as_bytes()).expect("parse"), proof);
    }
}

// ---------------------------------------------------------------- C2SP spec examples

#[test]
fn c2sp_spec_examples() {
    let f = json("C2SP-C2SP/spec-examples.json");

    // signed-note example verifies.
    let ex = &f["signed_note_example"];
    let v = ed(s(ex, "vkey"));
    assert_eq!(v.key_id(), 0x530d903a);
    let opened = note::open(s(ex, "note").as_bytes(), &verifiers(&[&v])).expect("verifies");
    assert_eq!(opened.text, "This is an example message.\n");

    // Checkpoint example parses; its signature is sum.golang.org's over the go.sum origin.
    let cp_note = s(&f["checkpoint_example"], "note");
    let parsed = Note::parse(cp_note.as_bytes()).expect("note");
    let cp = Checkpoint::parse(&parsed.text).expect("checkpoint");
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20852163);
    assert_eq!(parsed.signatures[0].key_id, 0x033de0ae);
    let sumdb = Ed25519Verifier::from_vkey(
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    )
    .expect("sumdb vkey");
    let swapped = Checkpoint {
        origin: "go.sum database tree".into(),
        ..cp.clone()
    };
    assert!(sumdb.verify(
        swapped.to_text().as_bytes(),
        &parsed.signatures[0].signature
    ));
    assert!(!sumdb.verify(parsed.text.as_bytes(), &parsed.signatures[0].signature));

    // Cosignature format.
    let co = &f["cosignature_example"];
    let sig = NoteSignature::parse_line(s(co, "line")).expect("cosignature line");
    assert_eq!(sig.name, "witness.example.com/w1");
    assert_eq!(format!("{:08x}", sig.key_id), s(&co["decoded"], "key_id"));
    let (ts, raw) = split_cosignature(&sig.signature).expect("72 bytes");
    assert_eq!(Some(ts), co["decoded"]["timestamp"].as_u64());
    assert_eq!(Some(raw.len() as u64), co["decoded"]["sig_len"].as_u64());
    assert_eq!(
        String::from_utf8(signed_message(ts, parsed.text.as_bytes())).expect("utf8"),
        s(co, "signed_message_example")
    );

    // Witness response lines parse as note signatures.
    let resp = s(&f, "witness_add_checkpoint_response_example");
    let lines: Vec<NoteSignature> = resp
        .lines()
        .map(|l| NoteSignature::parse_line(l).expect("response line"))
        .collect();
    assert_eq!(lines.len(), 3);
    // The example's bytes are random (their "timestamps" exceed 2^63-1), so only the
    // Ed25519 cosignature length is checked.
    assert!(
        lines
            .iter()
            .all(|l| l.signature.len() == cosignature::COSIGNATURE_LEN)
    );

    // tlog-proof example: the structure parses; its signatures are elided with "[...]", so
    // the embedded checkpoint note is (correctly) not a valid note.
    let proof = TlogProof::parse(s(&f, "tlog_proof_example").as_bytes()).expect("tlog-proof");
    assert_eq!(proof.index, 73894);
    assert_eq!(proof.hashes.len(), 5);
    assert!(proof.extra.is_some());
    assert!(Note::parse(&proof.checkpoint).is_err());
    let cp_text: String = String::from_utf8_lossy(&proof.checkpoint)
        .split("\n\n")
        .next()
        .map(|t| format!("{t}\n"))
        .expect("text");
    assert_eq!(
        Checkpoint::parse(&cp_text).expect("checkpoint").size,
        109482
    );
    assert_eq!(TlogProof::parse(&proof.to_bytes()).expect("reparse"), proof);

    // tlog-policy example, with real keys substituted for each <vkey>.
    let template = s(&f, "tlog_policy_example");
    let log = Ed25519Signer::from_seed("example.com/log", &[1; 32]).expect("k");
    let mut text = template.replacen("<vkey>", &log.vkey(), 1);
    let mut i = 0u8;
    while text.contains("<vkey>") {
        let w = CosignatureSigner::from_seed(&format!("w{i}.example"), &[100 + i; 32]).expect("k");
        text = text.replacen("<vkey>", &w.vkey(), 1);
        i += 1;
    }
    assert_eq!(i, 6);
    let p = WitnessPolicy::parse(text.as_bytes()).expect("policy example");
    assert_eq!(p.logs().len(), 1);
    assert_eq!(p.witnesses().len(), 6);
    assert_eq!(p.groups().len(), 3);
    assert!(p.is_satisfied_by_names(&["X1", "X2", "Y3"]));
    assert!(!p.is_satisfied_by_names(&["X1", "Y1", "Y2", "Y3"]));
    assert!(!p.is_satisfied_by_names(&["X1", "X2", "X3"]));
}

// ---------------------------------------------------------------- tessera

#[test]
fn tessera_checkpoints() {
    let keys = json("transparency-dev-tessera/KEYS-AND-EXPECTED.json");
    let signer = Ed25519Signer::from_skey(s(&keys, "LOG_PRIVATE_KEY")).expect("skey");
    assert_eq!(signer.vkey(), s(&keys, "LOG_PUBLIC_KEY"));
    let log = Ed25519Verifier::from_vkey(s(&keys, "LOG_PUBLIC_KEY")).expect("vkey");
    let entries = arr(&keys, "entries_in_order");
    let mut ran = 0;
    for n in 0..=15u64 {
        let bytes = read(&format!(
            "transparency-dev-tessera/testdata/log/checkpoint.{n}"
        ));
        let signed = open_checkpoint(&bytes, &log).expect("tessera checkpoint verifies");
        assert_eq!(signed.checkpoint.origin, "example.com/log/testdata");
        assert_eq!(signed.checkpoint.size, n);
        if n == 0 {
            assert_eq!(signed.checkpoint.root_hash, merkle::empty_root());
        }
        if n == 1 {
            let one = entries[0].as_str().expect("entry");
            assert_eq!(
                signed.checkpoint.root_hash,
                merkle::leaf_hash(one.as_bytes())
            );
        }
        // Re-signing reproduces the note byte for byte.
        assert_eq!(
            signed.checkpoint.sign(&[&signer]).expect("sign"),
            bytes,
            "checkpoint.{n}"
        );
        ran += 1;
    }
    assert_eq!(ran, 16);
    assert_eq!(
        read("transparency-dev-tessera/testdata/log/checkpoint"),
        read("transparency-dev-tessera/testdata/log/checkpoint.15")
    );
}

// ---------------------------------------------------------------- sunlight

#[test]
fn sunlight_cosignatures() {
    let base = "FiloSottile-sunlight/cmd/skylight/testdata";
    let expected = json("FiloSottile-sunlight/EXPECTED.json");
    let hashes = &expected["origin_hashes"];
    // (metadata file, seed phrase, checkpoint path, key ID)
    let cases = [
        (
            "witness/witness.v0.json",
            "skylight test witness key",
            format!("witness/{}/checkpoint", s(hashes, "rome2026h1.example.org")),
            0xb8a2cf20u32,
        ),
        (
            "witness2/witness.v0.json",
            "skylight test witness2 key",
            format!(
                "witness2/{}/checkpoint",
                s(hashes, "milan2026h1.example.org")
            ),
            0x2e55b896,
        ),
        (
            "witness/mirror/mirror.v0.json",
            "skylight test mirror key",
            format!(
                "witness/mirror/{}/checkpoint",
                s(hashes, "rome2026h1.example.org")
            ),
            0x3fb148ef,
        ),
    ];
    let mut ran = 0;
    for (meta, phrase, cp_path, key_id) in &cases {
        let meta = json(&format!("{base}/{meta}"));
        let vkey = arr(&meta, "verifier_keys")[0].as_str().expect("vkey");
        let seed: [u8; 32] = sha256(phrase.as_bytes());
        let signer = CosignatureSigner::from_seed(s(&meta, "name"), &seed).expect("seed");
        assert_eq!(signer.vkey(), vkey, "key derivation for {phrase}");
        let v = CosignatureVerifier::from_vkey(vkey).expect("0x04 vkey");
        assert_eq!(v.key_id(), *key_id);

        let bytes = read(&format!("{base}/{cp_path}"));
        let parsed = Note::parse(&bytes).expect("note");
        Checkpoint::parse(&parsed.text).expect("checkpoint");
        let got = cosignature::verify_cosignatures(&parsed, std::slice::from_ref(&v))
            .expect("cosignature verifies");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamp, 1767139200);
        // Re-cosigning reproduces the line.
        let line = signer
            .sign_at(&parsed.text, got[0].timestamp)
            .expect("sign")
            .to_line();
        assert!(String::from_utf8_lossy(&bytes).contains(&line));
        // As a note verifier the cosigner opens the note; the 0x05 log signature is skipped.
        let mut vs = Verifiers::new();
        vs.add(Box::new(v.clone()));
        note::open(&bytes, &vs).expect("open with cosigner");
        ran += 1;
    }
    assert_eq!(ran, 3);

    // The RFC 6962 (0x05) log key ID: SHA-256(name || 0x0A || 0x05 || LogID)[:4].
    let log = json(&format!("{base}/tree/log.v3.json"));
    let spki = STANDARD.decode(s(&log, "key")).expect("spki");
    let log_id = sha256(&spki);
    assert_eq!(STANDARD.encode(log_id), s(&log, "log_id"));
    let id = note::key_id("rome2026h1.example.org", note::SIG_TYPE_RFC6962, &log_id);
    assert_eq!(id, 0x91507526);
    let mut raw = vec![note::SIG_TYPE_RFC6962];
    raw.extend_from_slice(&spki);
    VerifierKey::parse(&format!(
        "rome2026h1.example.org+{id:08x}+{}",
        STANDARD.encode(raw)
    ))
    .expect("0x05 vkey");
    let tree = Note::parse(&read(&format!("{base}/tree/checkpoint"))).expect("tree note");
    assert_eq!(tree.signatures[0].key_id, id);

    // The decoys are not notes.
    for decoy in ["witness/checkpoint", "witness/mirror/checkpoint"] {
        assert!(Note::parse(&read(&format!("{base}/{decoy}"))).is_err());
    }
}

// ---------------------------------------------------------------- ArmoredWitness on Pixel

#[test]
fn pixel_armored_witness_cosignatures() {
    let f = json("transparency-dev-witness/pixel-checkpoint-armoredwitness-cosigned.json");
    let bytes = s(&f, "checkpoint").as_bytes();
    let parsed = Note::parse(bytes).expect("note");
    let cp = Checkpoint::parse(&parsed.text).expect("checkpoint");
    assert_eq!(cp.size, 611);
    let log = VerifierKey::parse(s(&f, "log_vkey")).expect("ecdsa log vkey");
    assert_eq!(log.key_type, note::SIG_TYPE_ECDSA);
    assert!(
        parsed
            .signatures
            .iter()
            .any(|sig| sig.name == log.name && sig.key_id == log.key_id)
    );

    let published = arr(&f, "witness_vkeys_as_published");
    assert_eq!(published.len(), 2);
    let mut cosigners = Vec::new();
    for vkey in published {
        let vkey = vkey.as_str().expect("vkey");
        let as01 = VerifierKey::parse(vkey).expect("0x01 vkey");
        assert_eq!(as01.key_type, note::SIG_TYPE_ED25519);
        let v = CosignatureVerifier::from_vkey(vkey).expect("cosigner");
        assert_ne!(
            v.key_id(),
            as01.key_id,
            "0x04 key ID differs from the 0x01 one"
        );
        // With the published 0x01 key ID the cosignature matches no key.
        let wrong = Ed25519Verifier::from_vkey(vkey).expect("0x01");
        assert!(!parsed.signatures.iter().any(|s| s.key_id == wrong.key_id()));
        cosigners.push(v);
    }
    let got = cosignature::verify_cosignatures(&parsed, &cosigners).expect("verify");
    assert_eq!(got.len(), 2);
    for c in &got {
        let e = &f["expected"][&c.name];
        assert_eq!(format!("{:08x}", c.key_id), s(e, "key_id_0x04"));
        assert_eq!(Some(c.timestamp), e["timestamp"].as_u64());
        assert_eq!(e["valid"].as_bool(), Some(true));
    }
}

// ---------------------------------------------------------------- ArmoredWitness devices

#[test]
fn armored_witness_device_attestations() {
    let root = vectors_root().join("transparency-dev-armored-witness/devices");
    let mut witness_notes = 0;
    let mut bastion_notes = 0;
    let mut devices = 0;
    for dir in ["ci", "prod", "removed"] {
        let mut pubs: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect();
        pubs.sort();
        for p in pubs {
            devices += 1;
            let serial = p.file_stem().and_then(|s| s.to_str()).expect("serial");
            let vkey = std::fs::read_to_string(&p).expect("pub");
            let device = Ed25519Verifier::from_vkey(vkey.trim_end()).expect("device vkey");
            let mut vs = Verifiers::new();
            vs.add(Box::new(device));
            for (suffix, header) in [
                ("witness.0", "ArmoredWitness ID attestation v1"),
                ("bastion.0", "ArmoredWitness BastionID attestation v1"),
            ] {
                let path = p.with_file_name(format!("{serial}.{suffix}"));
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                let opened =
                    note::open(&bytes, &vs).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let lines: Vec<&str> = opened.text.lines().collect();
                assert_eq!(lines.len(), 4, "{}", path.display());
                assert_eq!(lines[0], header);
                assert_eq!(lines[1], serial);
                assert_eq!(lines[2], "0");
                if suffix == "witness.0" {
                    // Line 4 is the witness's own vkey; it works as a cosigner key.
                    VerifierKey::parse(lines[3]).expect("witness vkey");
                    CosignatureVerifier::from_vkey(lines[3]).expect("cosigner");
                    witness_notes += 1;
                } else {
                    assert_eq!(hex::decode(lines[3]).expect("bastion id").len(), 32);
                    bastion_notes += 1;
                }
            }
        }
    }
    assert_eq!(devices, 24);
    assert_eq!(witness_notes, 24);
    assert_eq!(bastion_notes, 21);
    assert_eq!(witness_notes + bastion_notes, 45);
}

// ---------------------------------------------------------------- torchwood litewitness

#[test]
fn torchwood_litewitness_checkpoints() {
    let f = json("FiloSottile-torchwood/litewitness-add-checkpoint-sequence.json");
    let logj = &f["log"];
    let log = Ed25519Verifier::from_vkey(s(logj, "vkey")).expect("log vkey");
    // The Sigsum origin rule, as the policy parser applies it to hex keys.
    let raw: [u8; 32] = hex::decode(s(logj, "sigsum_pubkey_hex"))
        .expect("hex")
        .try_into()
        .expect("32");
    assert_eq!(witness_policy::sigsum_origin(&raw), s(logj, "origin"));
    assert_eq!(
        witness_policy::sigsum_log_vkey(&raw)
            .expect("vkey")
            .to_string(),
        s(logj, "vkey")
    );

    let steps = arr(&f, "sequence_single_witness_state");
    assert_eq!(steps.len(), 9);
    let (mut ok, mut bad_sig, mut unknown) = (0, 0, 0);
    for step in steps {
        let body = s(step, "request_body");
        let (_, cp) = body.split_once("\n\n").expect("request has a checkpoint");
        let status = step["expect"]["status"].as_u64().expect("status");
        let got = open_checkpoint(cp.as_bytes(), &log);
        match status {
            403 => {
                assert!(
                    matches!(
                        got,
                        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
                    ),
                    "{got:?}"
                );
                bad_sig += 1;
            }
            404 => {
                assert!(
                    matches!(got, Err(CheckpointError::NotSignedByLog { .. })),
                    "{got:?}"
                );
                unknown += 1;
            }
            _ => {
                let signed = got.expect("log signature verifies");
                assert_eq!(signed.checkpoint.origin, s(logj, "origin"));
                ok += 1;
            }
        }
    }
    assert_eq!((ok, bad_sig, unknown), (7, 1, 1));

    let sumdb = &f["sumdb_case"];
    let v = Ed25519Verifier::from_vkey(s(&sumdb["witness_config"], "vkey")).expect("sumdb");
    let (_, cp) = s(sumdb, "request_body")
        .split_once("\n\n")
        .expect("checkpoint");
    let signed = open_checkpoint(cp.as_bytes(), &v).expect("sum.golang.org checkpoint");
    assert_eq!(signed.checkpoint.origin, "go.sum database tree");
    assert_eq!(signed.checkpoint.size, 35225469);
}

// ---------------------------------------------------------------- sigsum policies

#[test]
fn sigsum_builtin_policies() {
    let dir = vectors_root().join("sigsum-sigsum-go/pkg/policy/builtin");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("policy dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let p = WitnessPolicy::parse(&std::fs::read(path).expect("read"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for log in p.logs() {
            assert!(
                log.key
                    .name
                    .starts_with(witness_policy::SIGSUM_ORIGIN_PREFIX)
            );
            assert!(log.url.is_some());
        }
        let all: Vec<&str> = p.witnesses().iter().map(|w| w.name.as_str()).collect();
        assert!(p.is_satisfied_by_names(&all), "{name}: all witnesses");
        assert!(!p.is_satisfied_by_names::<&str>(&[]), "{name}: no witness");
        match name {
            "sigsum-generic-2025-1.builtin-policy" => {
                assert_eq!((p.logs().len(), p.witnesses().len()), (2, 3));
                assert!(p.is_satisfied_by_names(&["witness.glasklar.is", "witness.mullvad.net"]));
                assert!(!p.is_satisfied_by_names(&["witness.glasklar.is"]));
            }
            "sigsum-test-2025-3.builtin-policy" => {
                assert_eq!((p.logs().len(), p.witnesses().len()), (2, 8));
                // 4 of 6 where the Glasklar group counts once (2 of its 3).
                assert!(p.is_satisfied_by_names(&[
                    "poc.sigsum.org/nisse",
                    "rgdd.se/poc-witness",
                    "remora.n621.de",
                    "witness.stagemole.eu",
                    "tillitis.se/test-witness-1",
                ]));
                assert!(!p.is_satisfied_by_names(&[
                    "poc.sigsum.org/nisse",
                    "rgdd.se/poc-witness",
                    "witness1.smartit.nu/witness1",
                    "remora.n621.de",
                    "witness.stagemole.eu",
                ]));
            }
            "sigsum-test1-2025.builtin-policy" => {
                assert_eq!((p.logs().len(), p.witnesses().len()), (1, 3));
            }
            "sigsum-test2-2025.builtin-policy" => {
                assert_eq!((p.logs().len(), p.witnesses().len()), (1, 7));
            }
            other => panic!("unexpected policy file {other}"),
        }
    }
}
