//! C2SP witness cosignatures, Ed25519 `cosignature/v1` (<https://c2sp.org/tlog-cosignature>),
//! signature type 0x04.
//!
//! The signed message is `cosignature/v1\ntime <unix seconds>\n` followed by the whole
//! checkpoint note text; the note signature bytes are the timestamp as a big-endian `u64`
//! followed by the 64-byte Ed25519 signature. The key ID is always computed with type byte
//! 0x04, even when the witness published its key as a type-0x01 vkey (as the ArmoredWitness
//! devices do).
//!
//! Cosignatures of other types (ML-DSA-44 0x06, RFC 6962 0x05, …) never match a
//! [`CosignatureVerifier`] and are skipped, not rejected.

use std::fmt;

use ed25519_dalek::{Signer as _, Verifier as _};

use crate::note::{
    self, KeyError, Note, NoteError, NoteSignature, NoteSigner, NoteVerifier,
    SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, SigningKey, VerifierKey, VerifyingKey,
};

/// The header line of the cosignature/v1 signed message.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";

/// Largest timestamp allowed in a cosignature (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Length of an Ed25519 cosignature: 8-byte timestamp plus 64-byte signature.
pub const COSIGNATURE_LEN: usize = 72;

/// Why a cosignature could not be produced or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The signature bytes are not 8 + 64 bytes long.
    #[error("cosignature is {0} bytes, expected 72")]
    WrongLength(usize),
    /// The timestamp exceeds 2^63 - 1.
    #[error("cosignature timestamp {0} exceeds 2^63-1")]
    TimestampTooLarge(u64),
    /// The Ed25519 signature does not verify.
    #[error("invalid cosignature from {name}+{key_id:08x}")]
    InvalidSignature {
        /// Cosigner name.
        name: String,
        /// Cosigner key ID.
        key_id: u32,
    },
    /// A key could not be parsed or used.
    #[error("cosigner key: {0}")]
    Key(#[from] KeyError),
    /// The note could not be parsed or signed.
    #[error("note: {0}")]
    Note(#[from] NoteError),
}

/// The message an Ed25519 cosigner signs: header, time line, then the checkpoint note text.
pub fn signed_message(timestamp: u64, checkpoint_text: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(40 + checkpoint_text.len());
    m.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    m.extend_from_slice(format!("time {timestamp}\n").as_bytes());
    m.extend_from_slice(checkpoint_text);
    m
}

/// Splits cosignature bytes into the timestamp and the 64-byte Ed25519 signature.
pub fn split_cosignature(sig: &[u8]) -> Result<(u64, [u8; 64]), CosignatureError> {
    if sig.len() != COSIGNATURE_LEN {
        return Err(CosignatureError::WrongLength(sig.len()));
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&sig[..8]);
    let mut s = [0u8; 64];
    s.copy_from_slice(&sig[8..]);
    let timestamp = u64::from_be_bytes(ts);
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::TimestampTooLarge(timestamp));
    }
    Ok((timestamp, s))
}

/// Verifies Ed25519 cosignature/v1 signatures of one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// A verifier for `key` under `name`, with the 0x04 key ID.
    pub fn new(name: &str, key: VerifyingKey) -> Result<CosignatureVerifier, KeyError> {
        if !note::is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_string()));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            key_id: note::key_id(name, SIG_TYPE_COSIGNATURE_V1, key.as_bytes()),
            key,
        })
    }

    /// A verifier from a parsed vkey of type 0x04, or of type 0x01 (the key is reused, the key
    /// ID recomputed with 0x04).
    pub fn from_key(key: &VerifierKey) -> Result<CosignatureVerifier, KeyError> {
        match key.key_type {
            SIG_TYPE_COSIGNATURE_V1 | SIG_TYPE_ED25519 => {
                CosignatureVerifier::new(&key.name, key.ed25519_key()?)
            }
            other => Err(KeyError::Unsupported(other)),
        }
    }

    /// Parses a vkey string of type 0x04 or 0x01 (see [`CosignatureVerifier::from_key`]).
    pub fn from_vkey(vkey: &str) -> Result<CosignatureVerifier, KeyError> {
        CosignatureVerifier::from_key(&VerifierKey::parse(vkey)?)
    }

    /// The type-0x04 vkey string.
    pub fn vkey(&self) -> String {
        note::format_ed25519_vkey(&self.name, SIG_TYPE_COSIGNATURE_V1, &self.key)
    }

    /// The witness public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies cosignature bytes (after the key ID) over a checkpoint's note text and returns
    /// the cosignature's timestamp.
    pub fn verify_cosignature(
        &self,
        checkpoint_text: &[u8],
        sig: &[u8],
    ) -> Result<u64, CosignatureError> {
        let (timestamp, s) = split_cosignature(sig)?;
        let msg = signed_message(timestamp, checkpoint_text);
        self.key
            .verify(&msg, &ed25519_dalek::Signature::from_bytes(&s))
            .map_err(|_| CosignatureError::InvalidSignature {
                name: self.name.clone(),
                key_id: self.key_id,
            })?;
        Ok(timestamp)
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        self.verify_cosignature(msg, signature).is_ok()
    }
}

/// Produces Ed25519 cosignature/v1 signatures for one witness.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureSigner({}+{:08x})", self.name, self.key_id)
    }
}

impl CosignatureSigner {
    /// A cosigner for `key` under `name`, with the 0x04 key ID.
    pub fn new(name: &str, key: SigningKey) -> Result<CosignatureSigner, KeyError> {
        if !note::is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_string()));
        }
        Ok(CosignatureSigner {
            name: name.to_string(),
            key_id: note::key_id(
                name,
                SIG_TYPE_COSIGNATURE_V1,
                key.verifying_key().as_bytes(),
            ),
            key,
        })
    }

    /// A cosigner from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<CosignatureSigner, KeyError> {
        CosignatureSigner::new(name, SigningKey::from_bytes(seed))
    }

    /// A cosigner with a fresh key from the operating system's randomness.
    pub fn generate(name: &str) -> Result<CosignatureSigner, KeyError> {
        CosignatureSigner::from_seed(name, &note::random_seed()?)
    }

    /// Parses a signer key `PRIVATE+KEY+name+keyid+base64(type || seed32)` whose type is 0x04
    /// or 0x01 (its key ID checked with that type); signatures use the 0x04 key ID.
    pub fn from_skey(skey: &str) -> Result<CosignatureSigner, KeyError> {
        let (name, seed) = match note::parse_skey(skey, SIG_TYPE_COSIGNATURE_V1) {
            Err(KeyError::Unsupported(SIG_TYPE_ED25519)) => {
                note::parse_skey(skey, SIG_TYPE_ED25519)?
            }
            other => other?,
        };
        CosignatureSigner::from_seed(&name, &seed)
    }

    /// The type-0x04 signer key string. It holds the secret seed: handle with care.
    pub fn skey(&self) -> String {
        note::format_skey(&self.name, SIG_TYPE_COSIGNATURE_V1, self.key_id, &self.key)
    }

    /// The type-0x04 vkey string.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 0x04 key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Cosigns checkpoint note text at `timestamp` (Unix seconds).
    pub fn sign_at(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        note::check_text(checkpoint_text)?;
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge(timestamp));
        }
        let sig = self
            .key
            .sign(&signed_message(timestamp, checkpoint_text.as_bytes()));
        let mut bytes = Vec::with_capacity(COSIGNATURE_LEN);
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: bytes,
        })
    }

    /// Cosigns a signed checkpoint note at `timestamp` and returns the signature line
    /// (ending in a newline), as a witness returns it.
    pub fn cosign_note(&self, note: &[u8], timestamp: u64) -> Result<String, CosignatureError> {
        let parsed = Note::parse(note)?;
        Ok(self.sign_at(&parsed.text, timestamp)?.to_line())
    }

    /// A [`NoteSigner`] that cosigns at a fixed timestamp, for use with
    /// [`note::add_signatures`].
    pub fn at(&self, timestamp: u64) -> TimestampedCosigner<'_> {
        TimestampedCosigner {
            signer: self,
            timestamp,
        }
    }
}

/// A [`CosignatureSigner`] bound to a timestamp, usable as a [`NoteSigner`].
#[derive(Debug, Clone, Copy)]
pub struct TimestampedCosigner<'a> {
    signer: &'a CosignatureSigner,
    timestamp: u64,
}

impl NoteSigner for TimestampedCosigner<'_> {
    fn name(&self) -> &str {
        &self.signer.name
    }
    fn key_id(&self) -> u32 {
        self.signer.key_id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        let text = std::str::from_utf8(msg).map_err(|_| NoteError::InvalidUtf8)?;
        self.signer
            .sign_at(text, self.timestamp)
            .map(|s| s.signature)
            .map_err(|e| NoteError::SigningFailed {
                name: self.signer.name.clone(),
                reason: e.to_string(),
            })
    }
}

/// A cosignature that verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifiedCosignature {
    /// Cosigner name.
    pub name: String,
    /// Cosigner key ID (0x04 rule).
    pub key_id: u32,
    /// Cosignature timestamp, Unix seconds.
    pub timestamp: u64,
}

/// Verifies the cosignatures on a parsed note against known cosigners. Signature lines that
/// match no cosigner by name and key ID (log signatures, unknown witnesses, other cosignature
/// types) are skipped; one that matches and fails rejects the note. Returns one entry per
/// cosigner that verified (the first, if a cosigner signed twice).
pub fn verify_cosignatures(
    note: &Note,
    cosigners: &[CosignatureVerifier],
) -> Result<Vec<VerifiedCosignature>, CosignatureError> {
    let mut out: Vec<VerifiedCosignature> = Vec::new();
    for sig in &note.signatures {
        let Some(v) = cosigners
            .iter()
            .find(|v| v.name == sig.name && v.key_id == sig.key_id)
        else {
            continue;
        };
        let timestamp = v.verify_cosignature(note.text.as_bytes(), &sig.signature)?;
        if !out
            .iter()
            .any(|c| c.name == sig.name && c.key_id == sig.key_id)
        {
            out.push(VerifiedCosignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
                timestamp,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Ed25519Signer;

    const CP: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn signed_message_matches_spec() {
        assert_eq!(
            signed_message(1679315147, CP.as_bytes()),
            format!("cosignature/v1\ntime 1679315147\n{CP}").into_bytes()
        );
    }

    #[test]
    fn cosign_round_trip() {
        let log = Ed25519Signer::from_seed("example.com/behind-the-sofa", &[7; 32]).expect("k");
        let w = CosignatureSigner::from_seed("witness.example/w1", &[9; 32]).expect("k");
        let cp = note::sign(CP, &[&log]).expect("sign");
        let line = w.cosign_note(&cp, 1_700_000_000).expect("cosign");
        let mut cosigned = cp.clone();
        cosigned.extend_from_slice(line.as_bytes());
        let parsed = Note::parse(&cosigned).expect("parse");
        let got = verify_cosignatures(&parsed, &[w.verifier()]).expect("verify");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamp, 1_700_000_000);
        // Same result through the NoteSigner adapter.
        let via_add = note::add_signatures(&cp, &[&w.at(1_700_000_000)]).expect("add");
        assert_eq!(via_add, cosigned);
        // Open as a plain note with the cosigner as verifier.
        let verifiers = note::Verifiers::new().with(Box::new(w.verifier()));
        assert!(note::open(&cosigned, &verifiers).is_ok());
        // Key strings round-trip, including the 0x01-published form.
        assert_eq!(
            CosignatureSigner::from_skey(&w.skey())
                .expect("skey")
                .vkey(),
            w.vkey()
        );
        let ed = Ed25519Signer::from_seed("witness.example/w1", &[9; 32]).expect("k");
        let from01 = CosignatureVerifier::from_vkey(&ed.vkey()).expect("0x01 vkey");
        assert_eq!(from01, w.verifier());
        assert_eq!(
            CosignatureSigner::from_skey(&ed.skey())
                .expect("skey")
                .key_id(),
            w.key_id()
        );
        // A cosignature from a different time does not verify under the tampered timestamp.
        let mut bad = parsed.clone();
        let last = bad.signatures.len() - 1;
        bad.signatures[last].signature[7] ^= 1;
        assert!(verify_cosignatures(&bad, &[w.verifier()]).is_err());
    }

    #[test]
    fn malformed_cosignatures_are_errors() {
        let w = CosignatureSigner::from_seed("w", &[1; 32]).expect("k");
        let v = w.verifier();
        assert!(matches!(
            v.verify_cosignature(CP.as_bytes(), &[0; 71]),
            Err(CosignatureError::WrongLength(71))
        ));
        let mut sig = vec![0xff; 72];
        sig[0] = 0x80;
        assert!(matches!(
            v.verify_cosignature(CP.as_bytes(), &sig),
            Err(CosignatureError::TimestampTooLarge(_))
        ));
        assert!(w.sign_at(CP, u64::MAX).is_err());
        assert!(w.sign_at("no newline", 1).is_err());
        assert!(CosignatureVerifier::from_vkey("w+00000000+AgEB").is_err());
    }
}
