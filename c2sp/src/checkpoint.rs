//! C2SP checkpoints (<https://c2sp.org/tlog-checkpoint>): the note text
//! `<origin>\n<size>\n<base64 root>\n[<extension>\n]*`, and opening a checkpoint signed by a
//! log.
//!
//! Parsing is strict: the origin is non-empty, the size is ASCII decimal with no sign and no
//! leading zero (except `0`), the root hash is the canonical base64 of exactly 32 bytes, and
//! extension lines are non-empty.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::merkle::Hash;
use crate::note::{self, Note, NoteError, NoteSignature, NoteVerifier, Verifiers};

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text breaks a signed-note text rule (control characters, final newline).
    #[error("checkpoint text: {0}")]
    Text(NoteError),
    /// Fewer than three lines.
    #[error("checkpoint needs at least three lines (origin, size, root hash)")]
    TooFewLines,
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The size line is not a canonical decimal `u64`.
    #[error("checkpoint size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    /// The root hash line is not the canonical base64 of 32 bytes.
    #[error("checkpoint root hash {0:?} is not base64 of 32 bytes")]
    BadRootHash(String),
    /// An extension line is empty.
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtension(usize),
    /// The fields cannot be written as this checkpoint (e.g. a newline inside the origin).
    #[error("checkpoint fields do not round-trip through the text format")]
    Unrepresentable,
    /// The signed note could not be parsed or verified.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The note carries no valid signature from the log's key.
    #[error("checkpoint is not signed by the log key {name}+{key_id:08x}")]
    NotSignedByLog {
        /// Log key name.
        name: String,
        /// Log key ID.
        key_id: u32,
    },
    /// The origin differs from the one expected for this log.
    #[error("checkpoint origin {got:?} is not the expected {expected:?}")]
    WrongOrigin {
        /// Origin found in the checkpoint.
        got: String,
        /// Origin expected.
        expected: String,
    },
}

/// A transparency log checkpoint (the note text, without signatures).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree at `size`.
    pub root_hash: Hash,
    /// Opaque, non-empty extension lines, in order.
    pub extensions: Vec<String>,
}

/// Parses a tree size line: ASCII decimal, no sign, no leading zero unless it is `0`.
pub fn parse_decimal_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Decodes the canonical standard base64 of a 32-byte hash.
pub fn parse_hash(s: &str) -> Option<Hash> {
    if s.len() != 44 {
        return None;
    }
    STANDARD.decode(s).ok()?.try_into().ok()
}

impl Checkpoint {
    /// Parses checkpoint note text (which must end in a newline).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        note::check_text(text).map_err(CheckpointError::Text)?;
        let body = &text[..text.len() - 1];
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooFewLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_decimal_u64(size).ok_or_else(|| CheckpointError::BadSize(size.into()))?;
        let root_hash =
            parse_hash(root).ok_or_else(|| CheckpointError::BadRootHash(root.into()))?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 1));
            }
            extensions.push(line.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root_hash,
            extensions,
        })
    }

    /// The note text: origin, size, base64 root hash and extensions, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root_hash)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Signs the checkpoint text with the given signers into a note.
    pub fn sign(&self, signers: &[&dyn note::NoteSigner]) -> Result<Vec<u8>, CheckpointError> {
        let text = self.to_text();
        if Checkpoint::parse(&text)? != *self {
            return Err(CheckpointError::Unrepresentable);
        }
        Ok(note::sign(&text, signers)?)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The full parsed note (text and every signature, including cosignatures).
    pub note: Note,
    /// The log's verified signature.
    pub log_signature: NoteSignature,
}

impl SignedCheckpoint {
    /// The signed note text.
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// Signature lines other than the log's (cosignatures and unknown signatures).
    pub fn other_signatures(&self) -> impl Iterator<Item = &NoteSignature> {
        self.note.signatures.iter().filter(|s| {
            !(s.name == self.log_signature.name && s.key_id == self.log_signature.key_id)
        })
    }
}

/// Parses a signed checkpoint and requires a valid signature from `log_verifier`. Other
/// signatures (cosignatures, unknown keys) are kept in the note, unverified.
pub fn open_checkpoint(
    note_bytes: &[u8],
    log_verifier: &dyn NoteVerifier,
) -> Result<SignedCheckpoint, CheckpointError> {
    let note = Note::parse(note_bytes)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    let mut log_signature = None;
    for sig in &note.signatures {
        if sig.name == log_verifier.name() && sig.key_id == log_verifier.key_id() {
            if !log_verifier.verify(note.text.as_bytes(), &sig.signature) {
                return Err(CheckpointError::Note(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                }));
            }
            log_signature.get_or_insert_with(|| sig.clone());
        }
    }
    let log_signature = log_signature.ok_or_else(|| CheckpointError::NotSignedByLog {
        name: log_verifier.name().to_string(),
        key_id: log_verifier.key_id(),
    })?;
    Ok(SignedCheckpoint {
        checkpoint,
        note,
        log_signature,
    })
}

/// [`open_checkpoint`] that also requires the origin line to equal `origin`.
pub fn open_checkpoint_for_origin(
    note_bytes: &[u8],
    origin: &str,
    log_verifier: &dyn NoteVerifier,
) -> Result<SignedCheckpoint, CheckpointError> {
    let signed = open_checkpoint(note_bytes, log_verifier)?;
    if signed.checkpoint.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            got: signed.checkpoint.origin,
            expected: origin.to_string(),
        });
    }
    Ok(signed)
}

/// Opens a checkpoint against a set of verifiers ([`note::open`] semantics: at least one
/// known signature verifies, none fails) and parses its text.
pub fn open_checkpoint_with(
    note_bytes: &[u8],
    verifiers: &Verifiers,
) -> Result<(Checkpoint, note::VerifiedNote), CheckpointError> {
    let opened = note::open(note_bytes, verifiers)?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    Ok((checkpoint, opened))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Ed25519Signer;

    const GOLDEN: &str =
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";

    #[test]
    fn parse_format_round_trip() {
        let c = Checkpoint::parse(GOLDEN).expect("parse");
        assert_eq!(c.origin, "go.sum database tree");
        assert_eq!(c.size, 123456789012);
        assert_eq!(c.to_text(), GOLDEN);
        let ext = format!("{GOLDEN}ext one\nx\n");
        let c = Checkpoint::parse(&ext).expect("parse");
        assert_eq!(c.extensions, vec!["ext one", "x"]);
        assert_eq!(c.to_text(), ext);
        let zero = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        assert_eq!(Checkpoint::parse(zero).expect("zero").size, 0);
    }

    #[test]
    fn strict_rejections() {
        let root = "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=";
        for bad in [
            String::new(),
            "o\n1\n".to_string(),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n 1\n{root}\n"),
            format!("o\n0x1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n\n{root}\n"),
            "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n".to_string(),
            "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0\n".to_string(),
            "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb1=\n".to_string(),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\next\n"),
            format!("o\t\n1\n{root}\n"),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(
            Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
                .expect("max")
                .size,
            u64::MAX
        );
    }

    #[test]
    fn open_requires_log_signature() {
        let log = Ed25519Signer::generate("example.com/log").expect("gen");
        let other = Ed25519Signer::generate("example.com/other").expect("gen");
        let c = Checkpoint::parse(GOLDEN).expect("parse");
        let signed = c.sign(&[&log, &other]).expect("sign");
        let opened = open_checkpoint(&signed, &log.verifier()).expect("open");
        assert_eq!(opened.checkpoint, c);
        assert_eq!(opened.other_signatures().count(), 1);
        let only_other = c.sign(&[&other]).expect("sign");
        assert!(matches!(
            open_checkpoint(&only_other, &log.verifier()),
            Err(CheckpointError::NotSignedByLog { .. })
        ));
        assert!(open_checkpoint_for_origin(&signed, "x", &log.verifier()).is_err());
        // Fields that would change meaning when written out.
        let sneaky = Checkpoint {
            origin: "a\n5".into(),
            ..c.clone()
        };
        assert!(sneaky.sign(&[&log]).is_err());
        // A signed note whose text is not a checkpoint.
        let not_cp = note::sign("hello\n", &[&log]).expect("sign");
        assert!(open_checkpoint(&not_cp, &log.verifier()).is_err());
    }
}
