//! DSSE (Dead Simple Signing Envelope) v1 with Ed25519 signatures.
//!
//! A DSSE signature is over the *pre-authentication encoding* of the payload type and the
//! payload, never over the JSON envelope:
//!
//! ```text
//! PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//! ```
//!
//! where `SP` is one space (0x20) and `LEN` is the byte length as ASCII decimal without
//! leading zeros. The JSON envelope is
//! `{"payload": b64, "payloadType": str, "signatures": [{"keyid": str, "sig": b64}]}`.
//!
//! Quorum envelopes carry an in-toto Statement v1, payload type
//! [`IN_TOTO_PAYLOAD_TYPE`], signed with Ed25519. Verification is strict
//! ([`VerifyingKey::verify_strict`]): non-canonical signatures and small-order keys are
//! rejected. The `keyid` is an unauthenticated hint only: it orders the signatures that are
//! tried, it never decides the outcome.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, Signer as _};
/// The Ed25519 key types this module signs and verifies with, re-exported so that callers
/// need no direct `ed25519-dalek` dependency.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use quorum_proto::v1;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The largest envelope accepted, in bytes: applies to the JSON form and to the payload.
pub const MAX_ENVELOPE_SIZE: usize = 64 * 1024;

/// The most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 16;

/// The longest signature accepted by the parser (other algorithms than Ed25519 may be
/// present in a multi-signed envelope; only 64-byte ones are tried as Ed25519).
pub const MAX_SIGNATURE_SIZE: usize = 1024;

/// The longest `keyid` accepted, in bytes.
pub const MAX_KEYID_SIZE: usize = 256;

/// The longest payload type accepted, in bytes.
pub const MAX_PAYLOAD_TYPE_SIZE: usize = 256;

/// Errors from parsing, signing or verifying an envelope.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DsseError {
    /// The envelope (or its payload) is larger than the limit.
    #[error("envelope too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// The size found.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The JSON is malformed or misses a required field.
    #[error("malformed DSSE envelope JSON: {0}")]
    Json(String),
    /// A base64 field does not decode.
    #[error("field `{field}` is not valid base64: {reason}")]
    Base64 {
        /// The field, `payload` or `sig`.
        field: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// The payload type is not the one expected.
    #[error("wrong payload type: expected `{expected}`, found `{found}`")]
    WrongPayloadType {
        /// The payload type required.
        expected: String,
        /// The payload type found (truncated to 256 bytes).
        found: String,
    },
    /// The payload type is empty or too long.
    #[error("payload type must be 1 to {MAX_PAYLOAD_TYPE_SIZE} bytes, got {0}")]
    BadPayloadType(usize),
    /// The envelope carries no signature.
    #[error("the envelope has no signatures")]
    NoSignatures,
    /// The envelope carries too many signatures.
    #[error("the envelope has {0} signatures, at most {MAX_SIGNATURES} are allowed")]
    TooManySignatures(usize),
    /// A signature is empty or longer than [`MAX_SIGNATURE_SIZE`].
    #[error("signature {index} has an invalid length of {len} bytes")]
    BadSignatureLength {
        /// The signature's position in the envelope.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// A keyid is longer than [`MAX_KEYID_SIZE`].
    #[error("keyid of signature {0} is longer than {MAX_KEYID_SIZE} bytes")]
    KeyIdTooLong(usize),
    /// No signature in the envelope verifies with the given key.
    #[error("no signature in the envelope verifies with key {key}")]
    NoValidSignature {
        /// The key tried, lowercase hex.
        key: String,
    },
}

impl DsseError {
    /// A stable, short name of the error class, used in test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            DsseError::TooLarge { .. } => "too-large",
            DsseError::Json(_) => "malformed-json",
            DsseError::Base64 { .. } => "bad-base64",
            DsseError::WrongPayloadType { .. } => "wrong-payload-type",
            DsseError::BadPayloadType(_) => "bad-payload-type",
            DsseError::NoSignatures => "no-signatures",
            DsseError::TooManySignatures(_) => "too-many-signatures",
            DsseError::BadSignatureLength { .. } => "bad-signature-length",
            DsseError::KeyIdTooLong(_) => "keyid-too-long",
            DsseError::NoValidSignature { .. } => "no-valid-signature",
        }
    }
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Unauthenticated hint naming the signing key (Quorum: [`key_id`]). May be empty.
    pub keyid: String,
    /// The raw signature bytes (64 for Ed25519).
    pub sig: Vec<u8>,
}

/// A DSSE envelope: a payload, its type, and signatures over their PAE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The payload type (for Quorum, [`IN_TOTO_PAYLOAD_TYPE`]).
    pub payload_type: String,
    /// The signed payload bytes.
    pub payload: Vec<u8>,
    /// The signatures over `pae(payload_type, payload)`.
    pub signatures: Vec<EnvelopeSignature>,
}

/// The DSSE pre-authentication encoding of a payload type and a payload: the exact bytes
/// that are signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        6 + 1 + type_len.len() + 1 + payload_type.len() + 1 + body_len.len() + 1 + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Quorum's key ID hint for an Ed25519 public key: lowercase hex of SHA-256 of the 32 key
/// bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

const DECODE_CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE_CONFIG);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE_CONFIG);

/// Decodes DSSE base64: the standard or the URL-safe alphabet (DSSE allows both), padding
/// optional, non-zero trailing bits rejected.
fn decode_b64(field: &'static str, text: &str) -> Result<Vec<u8>, DsseError> {
    let engine = if text.contains(['-', '_']) {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine.decode(text).map_err(|e| DsseError::Base64 {
        field,
        reason: e.to_string(),
    })
}

fn encode_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[derive(Serialize, Deserialize)]
struct JsonSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

#[derive(Serialize, Deserialize)]
struct JsonEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<JsonSignature>,
}

impl Envelope {
    /// Creates an envelope signed by `key`, with the keyid set to [`key_id`].
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Envelope {
        let mut env = Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: Vec::new(),
        };
        env.add_signature(key);
        env
    }

    /// Appends a signature by `key` over this envelope's PAE.
    pub fn add_signature(&mut self, key: &SigningKey) {
        let sig: Signature = key.sign(&self.pae());
        self.signatures.push(EnvelopeSignature {
            keyid: key_id(&key.verifying_key()),
            sig: sig.to_bytes().to_vec(),
        });
    }

    /// The pre-authentication encoding of this envelope's payload type and payload.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The envelope digest: SHA-256 of [`Envelope::pae`]. It identifies the signed content
    /// independently of signatures, keyids and JSON or protobuf encoding; Quorum uses it for
    /// deduplication (together with the signer key) and to name revoked statements.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.pae()).into()
    }

    /// Checks sizes and counts: payload at most [`MAX_ENVELOPE_SIZE`], payload type 1 to
    /// [`MAX_PAYLOAD_TYPE_SIZE`] bytes, 1 to [`MAX_SIGNATURES`] signatures, each 1 to
    /// [`MAX_SIGNATURE_SIZE`] bytes with a keyid of at most [`MAX_KEYID_SIZE`] bytes.
    pub fn check_limits(&self) -> Result<(), DsseError> {
        if self.payload.len() > MAX_ENVELOPE_SIZE {
            return Err(DsseError::TooLarge {
                size: self.payload.len(),
                limit: MAX_ENVELOPE_SIZE,
            });
        }
        if self.payload_type.is_empty() || self.payload_type.len() > MAX_PAYLOAD_TYPE_SIZE {
            return Err(DsseError::BadPayloadType(self.payload_type.len()));
        }
        if self.signatures.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures(self.signatures.len()));
        }
        for (index, s) in self.signatures.iter().enumerate() {
            if s.sig.is_empty() || s.sig.len() > MAX_SIGNATURE_SIZE {
                return Err(DsseError::BadSignatureLength {
                    index,
                    len: s.sig.len(),
                });
            }
            if s.keyid.len() > MAX_KEYID_SIZE {
                return Err(DsseError::KeyIdTooLong(index));
            }
        }
        Ok(())
    }

    /// Parses a JSON envelope. Unknown fields are ignored (as DSSE requires); an absent
    /// `keyid` is the empty string. Limits of [`Envelope::check_limits`] apply, and the JSON
    /// text itself may be at most [`MAX_ENVELOPE_SIZE`] bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, DsseError> {
        if bytes.len() > MAX_ENVELOPE_SIZE {
            return Err(DsseError::TooLarge {
                size: bytes.len(),
                limit: MAX_ENVELOPE_SIZE,
            });
        }
        let raw: JsonEnvelope =
            serde_json::from_slice(bytes).map_err(|e| DsseError::Json(e.to_string()))?;
        if raw.signatures.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures(raw.signatures.len()));
        }
        let payload = decode_b64("payload", &raw.payload)?;
        let signatures = raw
            .signatures
            .into_iter()
            .map(|s| {
                Ok(EnvelopeSignature {
                    keyid: s.keyid,
                    sig: decode_b64("sig", &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>, DsseError>>()?;
        let env = Envelope {
            payload_type: raw.payload_type,
            payload,
            signatures,
        };
        env.check_limits()?;
        Ok(env)
    }

    /// Serializes to the DSSE JSON envelope (compact; base64 standard alphabet with
    /// padding; fields in the order `payload`, `payloadType`, `signatures`).
    pub fn to_json(&self) -> String {
        let raw = JsonEnvelope {
            payload: encode_b64(&self.payload),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| JsonSignature {
                    keyid: s.keyid.clone(),
                    sig: encode_b64(&s.sig),
                })
                .collect(),
        };
        // Serializing plain strings into JSON cannot fail.
        serde_json::to_string(&raw).unwrap_or_default()
    }

    /// Fails unless the payload type is exactly `expected`.
    pub fn expect_payload_type(&self, expected: &str) -> Result<(), DsseError> {
        if self.payload_type == expected {
            Ok(())
        } else {
            Err(DsseError::WrongPayloadType {
                expected: expected.to_owned(),
                found: truncate(&self.payload_type, 256),
            })
        }
    }

    /// Verifies that at least one signature is a valid Ed25519 signature by `key` over the
    /// PAE, and returns the index of the first one that is. Signatures whose keyid matches
    /// [`key_id`] of `key` are tried first; the keyid is never trusted.
    pub fn verify(&self, key: &VerifyingKey) -> Result<usize, DsseError> {
        self.check_limits()?;
        let message = self.pae();
        let hint = key_id(key);
        let (hinted, others): (Vec<_>, Vec<_>) = self
            .signatures
            .iter()
            .enumerate()
            .partition(|(_, s)| s.keyid == hint);
        for (index, s) in hinted.into_iter().chain(others) {
            let Ok(sig) = Signature::from_slice(&s.sig) else {
                continue;
            };
            if key.verify_strict(&message, &sig).is_ok() {
                return Ok(index);
            }
        }
        Err(DsseError::NoValidSignature {
            key: hex::encode(key.as_bytes()),
        })
    }

    /// Converts into the protobuf form.
    pub fn to_proto(&self) -> v1::Envelope {
        v1::Envelope {
            payload: self.payload.clone(),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| v1::Signature {
                    sig: s.sig.clone(),
                    keyid: s.keyid.clone(),
                })
                .collect(),
        }
    }

    /// Converts into the protobuf form without copying the payload and signatures.
    pub fn into_proto(self) -> v1::Envelope {
        v1::Envelope {
            payload: self.payload,
            payload_type: self.payload_type,
            signatures: self
                .signatures
                .into_iter()
                .map(|s| v1::Signature {
                    sig: s.sig,
                    keyid: s.keyid,
                })
                .collect(),
        }
    }

    /// Converts from the protobuf form, applying [`Envelope::check_limits`].
    pub fn from_proto(proto: v1::Envelope) -> Result<Envelope, DsseError> {
        let env = Envelope {
            payload_type: proto.payload_type,
            payload: proto.payload,
            signatures: proto
                .signatures
                .into_iter()
                .map(|s| EnvelopeSignature {
                    keyid: s.keyid,
                    sig: s.sig,
                })
                .collect(),
        };
        env.check_limits()?;
        Ok(env)
    }
}

/// Truncates to at most `max` bytes on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn pae_matches_the_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn sign_verify_round_trip_through_json_and_proto() {
        let k = key(1);
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}".to_vec(), &k);
        assert_eq!(env.verify(&k.verifying_key()), Ok(0));
        let json = env.to_json();
        let back = Envelope::from_json(json.as_bytes());
        assert_eq!(back.as_ref(), Ok(&env));
        let proto = Envelope::from_proto(env.to_proto());
        assert_eq!(proto.as_ref(), Ok(&env));
        assert_eq!(env.clone().into_proto(), env.to_proto());
    }

    #[test]
    fn wrong_key_is_rejected() {
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &key(1));
        let err = env.verify(&key(2).verifying_key());
        assert!(matches!(err, Err(DsseError::NoValidSignature { .. })));
    }

    #[test]
    fn keyid_is_only_a_hint() {
        let k = key(1);
        let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &k);
        env.signatures[0].keyid = "lies".into();
        assert_eq!(env.verify(&k.verifying_key()), Ok(0));
        // A signature by another key with our keyid does not help.
        let mut forged = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &key(3));
        forged.signatures[0].keyid = key_id(&k.verifying_key());
        assert!(forged.verify(&k.verifying_key()).is_err());
        // Multi-signature: the second one is ours.
        let mut multi = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &key(3));
        multi.add_signature(&k);
        assert_eq!(multi.verify(&k.verifying_key()), Ok(1));
    }

    #[test]
    fn tampering_is_detected() {
        let k = key(1);
        let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &k);
        env.payload_type = "application/json".into();
        assert!(env.verify(&k.verifying_key()).is_err());
        let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &k);
        env.payload = b"y".to_vec();
        assert!(env.verify(&k.verifying_key()).is_err());
        let mut env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"x".to_vec(), &k);
        env.signatures[0].sig.truncate(63);
        assert!(env.verify(&k.verifying_key()).is_err());
    }

    #[test]
    fn malformed_json_is_an_error() {
        let cases: &[(&str, &str)] = &[
            ("", "malformed-json"),
            ("[]", "malformed-json"),
            (
                "{\"payloadType\":\"t\",\"signatures\":[]}",
                "malformed-json",
            ),
            (
                "{\"payload\":\"!!\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}",
                "bad-base64",
            ),
            (
                "{\"payload\":\"AA==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"A\"}]}",
                "bad-base64",
            ),
            (
                "{\"payload\":\"AB==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}",
                "bad-base64",
            ),
            (
                "{\"payload\":\"AA==\",\"payloadType\":\"t\",\"signatures\":[]}",
                "no-signatures",
            ),
            (
                "{\"payload\":\"AA==\",\"payloadType\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}",
                "bad-payload-type",
            ),
            (
                "{\"payload\":\"AA==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\"}]}",
                "bad-signature-length",
            ),
            (
                "{\"payload\":\"AA==\",\"payload\":\"AA==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"AA==\"}]}",
                "malformed-json",
            ),
        ];
        for (json, kind) in cases {
            match Envelope::from_json(json.as_bytes()) {
                Err(e) => assert_eq!(e.kind(), *kind, "{json}: {e}"),
                Ok(_) => panic!("accepted {json}"),
            }
        }
    }

    #[test]
    fn lenient_base64_forms_are_accepted() {
        // URL-safe alphabet and missing padding are both allowed by DSSE.
        let json = r#"{"payload":"-_8","payloadType":"t","signatures":[{"sig":"AA"}],"extra":1}"#;
        let env = Envelope::from_json(json.as_bytes());
        assert_eq!(env.map(|e| e.payload), Ok(vec![0xfb, 0xff]));
    }

    #[test]
    fn oversize_is_rejected() {
        let big = vec![b' '; MAX_ENVELOPE_SIZE + 1];
        assert_eq!(
            Envelope::from_json(&big).map_err(|e| e.kind()),
            Err("too-large")
        );
        let env = Envelope::sign("t", vec![0; MAX_ENVELOPE_SIZE + 1], &key(1));
        assert_eq!(
            env.verify(&key(1).verifying_key()).map_err(|e| e.kind()),
            Err("too-large")
        );
        let mut env = Envelope::sign("t", vec![0], &key(1));
        for _ in 0..MAX_SIGNATURES {
            env.add_signature(&key(1));
        }
        assert_eq!(
            Envelope::from_json(env.to_json().as_bytes()).map_err(|e| e.kind()),
            Err("too-many-signatures")
        );
    }

    #[test]
    fn payload_type_check() {
        let env = Envelope::sign("application/json", b"{}".to_vec(), &key(1));
        assert_eq!(
            env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)
                .map_err(|e| e.kind()),
            Err("wrong-payload-type")
        );
    }

    #[test]
    fn digest_is_sha256_of_pae() {
        let env = Envelope::sign("t", b"x".to_vec(), &key(1));
        let expected: [u8; 32] = Sha256::digest(b"DSSEv1 1 t 1 x").into();
        assert_eq!(env.digest(), expected);
    }
}
