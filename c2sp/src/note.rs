//! C2SP signed notes (<https://c2sp.org/signed-note>): parsing, signing, verifying, and the
//! verifier-key (`vkey`) and signer-key (`skey`) string formats.
//!
//! A note is a UTF-8 text ending in a newline, a blank line, and one or more signature
//! lines `— <key name> <base64(key ID || signature)>`. The text is what gets signed.
//!
//! Rules enforced by [`Note::parse`] (see `spec/notes-checkpoints-witnessing.md`):
//! * at most [`MAX_NOTE_SIZE`] bytes and [`MAX_SIGNATURES`] signature lines;
//! * valid UTF-8 with no control character other than newline;
//! * the text ends in a newline and is separated from the signatures by the *last*
//!   blank line; every line after it is a well-formed signature line;
//! * key names are non-empty and contain no Unicode whitespace and no `+`.
//!
//! [`open`] verifies a note against a [`Verifiers`] set: signatures from unknown keys
//! are kept aside as unverified, a signature from a known key (same name and key ID)
//! that fails to verify rejects the whole note, and at least one known signature must
//! verify.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signer as _, Verifier as _};
use sha2::{Digest as _, Sha256};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// Largest note accepted by [`Note::parse`], in bytes (1 MiB).
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Most signature lines accepted in one note (as in Go's `golang.org/x/mod/sumdb/note`;
/// the C2SP spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte of Ed25519 note signatures.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of ECDSA note signatures (transparency-dev/witness).
pub const SIG_TYPE_ECDSA: u8 = 0x02;
/// Signature type byte of timestamped Ed25519 witness cosignatures (tlog-cosignature v1).
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;
/// Signature type byte of RFC 6962 `TreeHeadSignature`s (static-ct-api).
pub const SIG_TYPE_RFC6962: u8 = 0x05;
/// Signature type byte of ML-DSA-44 cosignatures (tlog-cosignature, subtree/v1).
pub const SIG_TYPE_MLDSA44: u8 = 0x06;
/// Signature type byte reserved for types without an assigned byte.
pub const SIG_TYPE_UNASSIGNED: u8 = 0xff;

/// Length of an ML-DSA-44 public key, in bytes.
const MLDSA44_PUBLIC_KEY_LEN: usize = 1312;

/// The em dash that starts every signature line, followed by a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Prefix of Go-format signer keys.
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Base64 for signature lines: standard alphabet with canonical padding, but tolerant of
/// non-zero trailing bits like Go's `base64.StdEncoding`, so that a corrupted signature is
/// reported as an invalid signature rather than as a malformed note.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a note could not be parsed, signed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The note is not valid UTF-8.
    #[error("note is not valid UTF-8")]
    InvalidUtf8,
    /// The note contains a control character other than newline.
    #[error("note contains control character {byte:#04x} at byte {offset}")]
    ControlCharacter {
        /// The offending byte.
        byte: u8,
        /// Its offset in the input.
        offset: usize,
    },
    /// The text is empty or does not end in a newline.
    #[error("note text must be non-empty and end with a newline")]
    TextMissingNewline,
    /// No blank line separates the text from the signatures.
    #[error("note has no blank line separating the text from signatures")]
    MissingSeparator,
    /// The separator is followed by no signature line.
    #[error("note has no signature lines")]
    NoSignatures,
    /// The signature block does not end in a newline.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// A line after the separator is not a well-formed signature line.
    #[error("malformed signature line {line}: {reason}")]
    MalformedSignature {
        /// 1-based number of the signature line within the signature block.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {count} signatures, more than the limit of {max}")]
    TooManySignatures {
        /// Number of signature lines.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A key name is empty or contains whitespace or `+`.
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// No signature from a known key: the note must be ignored.
    #[error("note has no verifiable signatures")]
    NoVerifiableSignatures,
    /// A signature from a known key (same name and key ID) does not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// The verifier set holds more than one key with this name and key ID.
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// A signer failed to produce a signature.
    #[error("signing with {name} failed: {reason}")]
    SigningFailed {
        /// Signer key name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Why a verifier or signer key string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string does not have the `name+keyid+key` shape (or `PRIVATE+KEY+…`).
    #[error("key must have the form {0}")]
    Shape(&'static str),
    /// The key name is empty or contains whitespace or `+`.
    #[error("invalid key name {0:?}")]
    InvalidName(String),
    /// The key ID is not exactly 8 hexadecimal digits.
    #[error("key ID {0:?} is not 8 hexadecimal digits")]
    InvalidKeyIdHex(String),
    /// The key material is not valid standard base64.
    #[error("key material is not valid base64")]
    Base64,
    /// The key material is empty (no signature type byte).
    #[error("key material is empty")]
    Empty,
    /// The signature type byte is reserved or not assigned by the signed-note spec.
    #[error("unknown or reserved signature type {0:#04x}")]
    UnknownType(u8),
    /// The key material has the wrong length for its type.
    #[error("key of type {key_type:#04x} has {len} bytes of key material, expected {expected}")]
    BadLength {
        /// Signature type.
        key_type: u8,
        /// Actual length.
        len: usize,
        /// Expected length.
        expected: usize,
    },
    /// The key ID in the string differs from the one computed from the key.
    #[error("key ID {given:08x} does not match the computed {computed:08x}")]
    KeyIdMismatch {
        /// Key ID written in the string.
        given: u32,
        /// Key ID computed from name, type and key.
        computed: u32,
    },
    /// The key bytes are not a valid public key.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// This key type cannot be used for the requested purpose.
    #[error("signature type {0:#04x} is not supported here")]
    Unsupported(u8),
    /// The operating system could not provide randomness.
    #[error("no OS randomness: {0}")]
    Randomness(String),
}

/// Reports whether `name` is a valid key name: non-empty, with no Unicode whitespace and no
/// `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The recommended key ID: the first four bytes (big-endian) of
/// `SHA-256(name || 0x0A || sig_type || public_key)`.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    first4(&h.finalize())
}

fn first4(digest: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&digest[..4]);
    u32::from_be_bytes(b)
}

/// Checks the note-text rules for a text about to be signed or embedded: valid UTF-8 (given by
/// `&str`), no control characters other than newline, non-empty and ending in a newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    check_chars(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(NoteError::TextMissingNewline);
    }
    Ok(())
}

fn check_chars(bytes: &[u8]) -> Result<(), NoteError> {
    if let Some(offset) = bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter {
            byte: bytes[offset],
            offset,
        });
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature).
    pub key_id: u32,
    /// The signature proper (the decoded bytes after the key ID).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses one line without its trailing newline: `— <name> <base64>`.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        Self::parse_numbered(line, 1)
    }

    fn parse_numbered(line: &str, n: usize) -> Result<NoteSignature, NoteError> {
        let malformed = |reason| NoteError::MalformedSignature { line: n, reason };
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| malformed("does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| malformed("missing space between key name and signature"))?;
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_string()));
        }
        if b64.is_empty() || b64.contains(' ') {
            return Err(malformed("signature is not a single base64 word"));
        }
        let raw = LENIENT_B64
            .decode(b64)
            .map_err(|_| malformed("signature is not valid base64"))?;
        if raw.len() < 5 {
            return Err(malformed(
                "signature is shorter than a key ID plus one byte",
            ));
        }
        Ok(NoteSignature {
            name: name.to_string(),
            key_id: first4(&raw),
            signature: raw[4..].to_vec(),
        })
    }

    /// The base64 of `key ID || signature` as written on the line.
    pub fn encoded(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        STANDARD.encode(raw)
    }

    /// The full signature line, including the trailing newline.
    pub fn to_line(&self) -> String {
        format!("{SIG_PREFIX}{} {}\n", self.name, self.encoded())
    }
}

/// A parsed (not yet verified) signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline but not the separating blank line.
    pub text: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note, enforcing every format rule and limit (see the module docs).
    /// Never verifies signatures: use [`open`] for that.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::InvalidUtf8)?;
        check_chars(bytes)?;
        let split = s.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let text = &s[..split + 1];
        let block = &s[split + 2..];
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        if !block.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let lines: Vec<&str> = block[..block.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count: lines.len(),
                max: MAX_SIGNATURES,
            });
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, l)| NoteSignature::parse_numbered(l, i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// Serializes the note: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone().into_bytes();
        out.push(b'\n');
        for sig in &self.signatures {
            out.extend_from_slice(sig.to_line().as_bytes());
        }
        out
    }

    /// Adds signatures over this note's text, replacing any existing signature with the same
    /// key name and key ID.
    pub fn add_signatures(&mut self, signers: &[&dyn NoteSigner]) -> Result<(), NoteError> {
        check_text(&self.text)?;
        for signer in signers {
            let sig = sign_one(&self.text, *signer)?;
            self.signatures
                .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
            self.signatures.push(sig);
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count: self.signatures.len(),
                max: MAX_SIGNATURES,
            });
        }
        Ok(())
    }
}

/// Something that can verify note signatures for one key.
pub trait NoteVerifier: Send + Sync {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Reports whether `signature` (the bytes after the key ID) is valid for `msg` (the note
    /// text).
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool;
}

/// Something that can sign note texts with one key.
pub trait NoteSigner {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Signs `msg` (the note text), returning the bytes written after the key ID.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError>;
}

fn sign_one(text: &str, signer: &dyn NoteSigner) -> Result<NoteSignature, NoteError> {
    if !is_valid_key_name(signer.name()) {
        return Err(NoteError::InvalidKeyName(signer.name().to_string()));
    }
    Ok(NoteSignature {
        name: signer.name().to_string(),
        key_id: signer.key_id(),
        signature: signer.sign(text.as_bytes())?,
    })
}

/// Signs `text` with every signer and returns the serialized note.
pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<Vec<u8>, NoteError> {
    let mut note = Note {
        text: text.to_string(),
        signatures: Vec::new(),
    };
    if signers.is_empty() {
        return Err(NoteError::NoSignatures);
    }
    note.add_signatures(signers)?;
    Ok(note.to_bytes())
}

/// Parses an existing signed note, adds signatures from `signers` (replacing older ones from
/// the same key) and returns the new serialization. Used to append cosignatures.
pub fn add_signatures(note: &[u8], signers: &[&dyn NoteSigner]) -> Result<Vec<u8>, NoteError> {
    let mut parsed = Note::parse(note)?;
    parsed.add_signatures(signers)?;
    Ok(parsed.to_bytes())
}

/// A set of trusted note verifiers, looked up by key name and key ID.
#[derive(Default)]
pub struct Verifiers {
    list: Vec<Box<dyn NoteVerifier>>,
}

impl fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.list
                    .iter()
                    .map(|v| format!("{}+{:08x}", v.name(), v.key_id())),
            )
            .finish()
    }
}

impl Verifiers {
    /// An empty set.
    pub fn new() -> Verifiers {
        Verifiers::default()
    }

    /// Adds a verifier. Adding two verifiers with the same name and key ID makes lookups of
    /// that key fail with [`NoteError::AmbiguousKey`].
    pub fn add(&mut self, verifier: Box<dyn NoteVerifier>) {
        self.list.push(verifier);
    }

    /// Builder form of [`Verifiers::add`].
    pub fn with(mut self, verifier: Box<dyn NoteVerifier>) -> Verifiers {
        self.add(verifier);
        self
    }

    /// Number of verifiers.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Reports whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Finds the verifier for a key name and key ID: `Ok(None)` if unknown, an error if more
    /// than one matches.
    pub fn find(&self, name: &str, key_id: u32) -> Result<Option<&dyn NoteVerifier>, NoteError> {
        let mut found = None;
        for v in &self.list {
            if v.name() == name && v.key_id() == key_id {
                if found.is_some() {
                    return Err(NoteError::AmbiguousKey {
                        name: name.to_string(),
                        key_id,
                    });
                }
                found = Some(v.as_ref());
            }
        }
        Ok(found)
    }
}

/// A note whose signatures were checked by [`open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text.
    pub text: String,
    /// Signatures from known keys, all valid (one per key).
    pub verified: Vec<NoteSignature>,
    /// Signatures from keys not in the verifier set (one per name and key ID), unchecked.
    pub unverified: Vec<NoteSignature>,
}

/// Parses and verifies a signed note. Unknown keys are skipped (returned as unverified); a
/// known key whose signature fails rejects the note; at least one known signature must
/// verify.
pub fn open(note: &[u8], verifiers: &Verifiers) -> Result<VerifiedNote, NoteError> {
    let parsed = Note::parse(note)?;
    open_parsed(parsed, verifiers)
}

/// [`open`] for an already parsed note.
pub fn open_parsed(note: Note, verifiers: &Verifiers) -> Result<VerifiedNote, NoteError> {
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for sig in note.signatures {
        match verifiers.find(&sig.name, sig.key_id)? {
            Some(v) => {
                if !v.verify(note.text.as_bytes(), &sig.signature) {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name,
                        key_id: sig.key_id,
                    });
                }
                if !verified
                    .iter()
                    .any(|s| s.name == sig.name && s.key_id == sig.key_id)
                {
                    verified.push(sig);
                }
            }
            None => {
                if !unverified
                    .iter()
                    .any(|s| s.name == sig.name && s.key_id == sig.key_id)
                {
                    unverified.push(sig);
                }
            }
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoVerifiableSignatures);
    }
    Ok(VerifiedNote {
        text: note.text,
        verified,
        unverified,
    })
}

/// A parsed verifier key string `name+hex8keyid+base64(type || public key)`.
///
/// Parsing accepts every assigned signature type (0x01, 0x02, 0x04, 0x05, 0x06, 0xff) and
/// checks the key ID wherever its derivation is known: the standard rule for 0x01, 0x04 and
/// 0x06, `SHA-256(SPKI)[:4]` for 0x02 and `SHA-256(name || 0x0A || 0x05 ||
/// SHA-256(SPKI))[:4]` for 0x05. Reserved and unassigned types are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// Signature type byte.
    pub key_type: u8,
    /// Public key material after the type byte.
    pub public_key: Vec<u8>,
}

impl VerifierKey {
    /// Parses a vkey string.
    pub fn parse(vkey: &str) -> Result<VerifierKey, KeyError> {
        const SHAPE: &str = "name+keyid+base64key";
        // The name cannot contain '+', the base64 part can: split on the first two only.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::Shape(SHAPE));
        };
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_string()));
        }
        let given = parse_key_id(id)?;
        let raw = STANDARD.decode(b64).map_err(|_| KeyError::Base64)?;
        let (&key_type, public_key) = raw.split_first().ok_or(KeyError::Empty)?;
        let computed = match key_type {
            SIG_TYPE_ED25519 | SIG_TYPE_COSIGNATURE_V1 => {
                expect_len(key_type, public_key, 32)?;
                VerifyingKey::from_bytes(&to32(public_key)?)
                    .map_err(|_| KeyError::InvalidPublicKey)?;
                Some(key_id(name, key_type, public_key))
            }
            SIG_TYPE_MLDSA44 => {
                expect_len(key_type, public_key, MLDSA44_PUBLIC_KEY_LEN)?;
                Some(key_id(name, key_type, public_key))
            }
            SIG_TYPE_ECDSA => {
                nonempty(key_type, public_key)?;
                Some(first4(&Sha256::digest(public_key)))
            }
            SIG_TYPE_RFC6962 => {
                nonempty(key_type, public_key)?;
                Some(key_id(name, key_type, &Sha256::digest(public_key)))
            }
            SIG_TYPE_UNASSIGNED => {
                nonempty(key_type, public_key)?;
                None
            }
            other => return Err(KeyError::UnknownType(other)),
        };
        if let Some(computed) = computed
            && computed != given
        {
            return Err(KeyError::KeyIdMismatch { given, computed });
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: given,
            key_type,
            public_key: public_key.to_vec(),
        })
    }

    /// The Ed25519 public key, for types 0x01 and 0x04.
    pub fn ed25519_key(&self) -> Result<VerifyingKey, KeyError> {
        match self.key_type {
            SIG_TYPE_ED25519 | SIG_TYPE_COSIGNATURE_V1 => {
                VerifyingKey::from_bytes(&to32(&self.public_key)?)
                    .map_err(|_| KeyError::InvalidPublicKey)
            }
            other => Err(KeyError::Unsupported(other)),
        }
    }

    /// A note verifier for this key: Ed25519 (0x01) or cosignature/v1 (0x04). Other types
    /// are parsed but cannot verify signatures here ([`KeyError::Unsupported`]).
    pub fn verifier(&self) -> Result<Box<dyn NoteVerifier>, KeyError> {
        match self.key_type {
            SIG_TYPE_ED25519 => Ok(Box::new(Ed25519Verifier::new(
                &self.name,
                self.ed25519_key()?,
            )?)),
            SIG_TYPE_COSIGNATURE_V1 => Ok(Box::new(
                crate::cosignature::CosignatureVerifier::from_key(self)?,
            )),
            other => Err(KeyError::Unsupported(other)),
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.public_key.len());
        raw.push(self.key_type);
        raw.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(raw)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<VerifierKey, KeyError> {
        VerifierKey::parse(s)
    }
}

fn parse_key_id(id: &str) -> Result<u32, KeyError> {
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::InvalidKeyIdHex(id.to_string()));
    }
    u32::from_str_radix(id, 16).map_err(|_| KeyError::InvalidKeyIdHex(id.to_string()))
}

fn expect_len(key_type: u8, key: &[u8], expected: usize) -> Result<(), KeyError> {
    if key.len() != expected {
        return Err(KeyError::BadLength {
            key_type,
            len: key.len(),
            expected,
        });
    }
    Ok(())
}

fn nonempty(key_type: u8, key: &[u8]) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::BadLength {
            key_type,
            len: 0,
            expected: 1,
        });
    }
    Ok(())
}

fn to32(bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    bytes.try_into().map_err(|_| KeyError::BadLength {
        key_type: SIG_TYPE_ED25519,
        len: bytes.len(),
        expected: 32,
    })
}

/// Formats a vkey string for an Ed25519 key of the given signature type (0x01 for note
/// signatures, 0x04 for cosignatures).
pub fn format_ed25519_vkey(name: &str, sig_type: u8, key: &VerifyingKey) -> String {
    VerifierKey {
        name: name.to_string(),
        key_id: key_id(name, sig_type, key.as_bytes()),
        key_type: sig_type,
        public_key: key.as_bytes().to_vec(),
    }
    .to_string()
}

/// An Ed25519 (type 0x01) note verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// A verifier for `key` under `name`; the key ID is computed.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Ed25519Verifier, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_string()));
        }
        Ok(Ed25519Verifier {
            name: name.to_string(),
            key_id: key_id(name, SIG_TYPE_ED25519, key.as_bytes()),
            key,
        })
    }

    /// Parses a type-0x01 vkey string.
    pub fn from_vkey(vkey: &str) -> Result<Ed25519Verifier, KeyError> {
        let k = VerifierKey::parse(vkey)?;
        if k.key_type != SIG_TYPE_ED25519 {
            return Err(KeyError::Unsupported(k.key_type));
        }
        Ed25519Verifier::new(&k.name, k.ed25519_key()?)
    }

    /// The public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The vkey string.
    pub fn vkey(&self) -> String {
        format_ed25519_vkey(&self.name, SIG_TYPE_ED25519, &self.key)
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match ed25519_dalek::Signature::from_slice(signature) {
            Ok(sig) => self.key.verify(msg, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// An Ed25519 (type 0x01) note signer.
#[derive(Clone)]
pub struct Ed25519Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Signer({}+{:08x})", self.name, self.key_id)
    }
}

impl Ed25519Signer {
    /// A signer for `key` under `name`; the key ID is computed.
    pub fn new(name: &str, key: SigningKey) -> Result<Ed25519Signer, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_string()));
        }
        Ok(Ed25519Signer {
            name: name.to_string(),
            key_id: key_id(name, SIG_TYPE_ED25519, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Ed25519Signer, KeyError> {
        Ed25519Signer::new(name, SigningKey::from_bytes(seed))
    }

    /// A signer with a fresh key from the operating system's randomness.
    pub fn generate(name: &str) -> Result<Ed25519Signer, KeyError> {
        Ed25519Signer::from_seed(name, &random_seed()?)
    }

    /// Parses a Go-format signer key `PRIVATE+KEY+name+hex8keyid+base64(0x01 || seed32)`.
    pub fn from_skey(skey: &str) -> Result<Ed25519Signer, KeyError> {
        let (name, seed) = parse_skey(skey, SIG_TYPE_ED25519)?;
        Ed25519Signer::from_seed(&name, &seed)
    }

    /// The Go-format signer key string. It holds the secret seed: handle with care.
    pub fn skey(&self) -> String {
        format_skey(&self.name, SIG_TYPE_ED25519, self.key_id, &self.key)
    }

    /// The matching vkey string.
    pub fn vkey(&self) -> String {
        format_ed25519_vkey(&self.name, SIG_TYPE_ED25519, &self.key.verifying_key())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The underlying signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl NoteSigner for Ed25519Signer {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.key.sign(msg).to_bytes().to_vec())
    }
}

/// 32 bytes from the operating system's random number generator.
pub fn random_seed() -> Result<[u8; 32], KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness(e.to_string()))?;
    Ok(seed)
}

/// Generates a fresh Ed25519 note key and returns `(skey, vkey)` strings in Go's format.
pub fn generate_key(name: &str) -> Result<(String, String), KeyError> {
    let signer = Ed25519Signer::generate(name)?;
    Ok((signer.skey(), signer.vkey()))
}

/// Parses `PRIVATE+KEY+name+hex8keyid+base64(type || seed32)` for an Ed25519-based type,
/// checking the key ID against the derived public key. Returns the name and seed.
pub(crate) fn parse_skey(skey: &str, sig_type: u8) -> Result<(String, [u8; 32]), KeyError> {
    const SHAPE: &str = "PRIVATE+KEY+name+keyid+base64key";
    let rest = skey
        .strip_prefix(SKEY_PREFIX)
        .ok_or(KeyError::Shape(SHAPE))?;
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Shape(SHAPE));
    };
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_string()));
    }
    let given = parse_key_id(id)?;
    let raw = STANDARD.decode(b64).map_err(|_| KeyError::Base64)?;
    let (&key_type, seed) = raw.split_first().ok_or(KeyError::Empty)?;
    if key_type != sig_type {
        return Err(KeyError::Unsupported(key_type));
    }
    expect_len(key_type, seed, 32)?;
    let seed = to32(seed)?;
    let public = SigningKey::from_bytes(&seed).verifying_key();
    let computed = key_id(name, sig_type, public.as_bytes());
    if computed != given {
        return Err(KeyError::KeyIdMismatch { given, computed });
    }
    Ok((name.to_string(), seed))
}

pub(crate) fn format_skey(name: &str, sig_type: u8, key_id: u32, key: &SigningKey) -> String {
    let mut raw = Vec::with_capacity(33);
    raw.push(sig_type);
    raw.extend_from_slice(key.as_bytes());
    format!("{SKEY_PREFIX}{name}+{key_id:08x}+{}", STANDARD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    fn peter() -> Ed25519Signer {
        Ed25519Signer::from_skey(PETER_SKEY).expect("skey")
    }

    #[test]
    fn skey_vkey_round_trip() {
        let p = peter();
        assert_eq!(p.skey(), PETER_SKEY);
        assert_eq!(p.vkey(), PETER_VKEY);
        let v = Ed25519Verifier::from_vkey(PETER_VKEY).expect("vkey");
        assert_eq!(v, p.verifier());
        assert_eq!(
            VerifierKey::parse(PETER_VKEY).expect("parse").to_string(),
            PETER_VKEY
        );
    }

    #[test]
    fn sign_open_round_trip() {
        let p = peter();
        let other = Ed25519Signer::generate("other.example/key").expect("gen");
        let bytes = sign(TEXT, &[&p, &other]).expect("sign");
        let verifiers = Verifiers::new().with(Box::new(p.verifier()));
        let opened = open(&bytes, &verifiers).expect("open");
        assert_eq!(opened.text, TEXT);
        assert_eq!(opened.verified.len(), 1);
        assert_eq!(opened.unverified.len(), 1);
        // Re-signing with the same key replaces, not duplicates.
        let again = add_signatures(&bytes, &[&p]).expect("add");
        assert_eq!(Note::parse(&again).expect("parse").signatures.len(), 2);
        // Generated keys round-trip through their strings.
        let (skey, vkey) = generate_key("gen.example").expect("gen");
        let s = Ed25519Signer::from_skey(&skey).expect("skey");
        assert_eq!(s.vkey(), vkey);
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let good = sign(TEXT, &[&peter()]).expect("sign");
        let verifiers = Verifiers::new().with(Box::new(peter().verifier()));
        // Every truncation fails cleanly (never panics); only the full note opens.
        for n in 0..good.len() {
            assert!(open(&good[..n], &verifiers).is_err(), "prefix {n} opened");
        }
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n".to_vec(),
            b"\n\n".to_vec(),
            b"text\n\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a AAAAAA==\n".to_vec(),
            b"text\n\n- a AAAAAAAA\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a !!!!!!!!\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a+b AAAAAAAA\n".to_vec(),
            b"text\n\n\xe2\x80\x94  AAAAAAAA\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a\xc2\xa0b AAAAAAAA\n".to_vec(),
            b"te\rxt\n\n\xe2\x80\x94 a AAAAAAAA\n".to_vec(),
            b"te\xffxt\n\n\xe2\x80\x94 a AAAAAAAA\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a AAAAAAAA\n\n".to_vec(),
            b"text\n\n\xe2\x80\x94 a AAAAAAAA AAAA\n".to_vec(),
            b"text\n\n\xe2\x80\x94".to_vec(),
            b"text\n\n\xe2\x80".to_vec(),
        ];
        for c in cases {
            assert!(
                Note::parse(&c).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(&c)
            );
        }
        // Too many signatures.
        let line =
            NoteSignature::parse_line(String::from_utf8_lossy(&good).lines().last().expect("line"))
                .expect("sig")
                .to_line();
        let mut many = format!("{TEXT}\n");
        for _ in 0..=MAX_SIGNATURES {
            many.push_str(&line);
        }
        assert!(matches!(
            Note::parse(many.as_bytes()),
            Err(NoteError::TooManySignatures { .. })
        ));
        // Huge input.
        let huge = vec![b'a'; MAX_NOTE_SIZE + 1];
        assert!(matches!(
            Note::parse(&huge),
            Err(NoteError::TooLarge { .. })
        ));
    }

    #[test]
    fn bad_keys_are_errors() {
        for bad in [
            "",
            "a",
            "a+b",
            "a+0000000+AQ==",
            "a+zzzzzzzz+AQ==",
            "a+00000000+",
            "a+00000000+!!",
            "a b+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+AxpcQQ==",
        ] {
            assert!(VerifierKey::parse(bad).is_err(), "{bad} parsed");
        }
        for bad in [
            "PRIVATE+KEY+a",
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK",
            PETER_VKEY,
        ] {
            assert!(Ed25519Signer::from_skey(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn known_key_bad_signature_rejects() {
        let p = peter();
        let mut note = Note::parse(&sign(TEXT, &[&p]).expect("sign")).expect("parse");
        note.signatures[0].signature[0] ^= 1;
        let verifiers = Verifiers::new().with(Box::new(p.verifier()));
        assert!(matches!(
            open(&note.to_bytes(), &verifiers),
            Err(NoteError::InvalidSignature { .. })
        ));
        assert!(matches!(
            open(&note.to_bytes(), &Verifiers::new()),
            Err(NoteError::NoVerifiableSignatures)
        ));
    }
}
