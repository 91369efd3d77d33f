//! The C2SP tlog-witness `add-checkpoint` request body, parsed (by a witness) and written
//! (by a log pushing to witnesses).
//!
//! The body is `old <size>\n`, up to 63 consistency-proof lines (base64 of a 32-byte
//! hash each), an empty line, and the signed checkpoint note. Only the framing is handled
//! here; the note is verified with [`crate::note`] and the proof with [`crate::merkle`].

use base64::Engine;

use crate::checkpoint::parse_decimal_u64;

/// The most proof lines a request may carry (C2SP tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed add-checkpoint request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<[u8; 32]>,
    /// The signed checkpoint note, verbatim.
    pub note: String,
}

/// Why a request body is malformed (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not UTF-8.
    #[error("request body is not valid UTF-8")]
    NotUtf8,
    /// The first line is not `old <decimal size>`.
    #[error("first line must be \"old <size>\" with a decimal size without leading zeros")]
    BadOldLine,
    /// A proof line is not base64 of 32 bytes.
    #[error("consistency proof line {0} is not the base64 encoding of a 32-byte hash")]
    BadProofLine(usize),
    /// Too many proof lines.
    #[error("consistency proof has more than {MAX_PROOF_LINES} lines")]
    TooManyProofLines,
    /// No empty line separates the proof from the checkpoint.
    #[error("missing the empty line between the consistency proof and the checkpoint")]
    MissingSeparator,
}

impl AddCheckpointRequest {
    /// Writes the request body: `old <size>`, one base64 line per proof hash, an empty line,
    /// and the note. A body written here parses back to the same request.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&base64::engine::general_purpose::STANDARD.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.note);
        body
    }
}

/// Parses an add-checkpoint request body.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpointRequest, RequestError> {
    let text = std::str::from_utf8(body).map_err(|_| RequestError::NotUtf8)?;
    let (first, mut rest) = text.split_once('\n').ok_or(RequestError::BadOldLine)?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(parse_decimal_u64)
        .ok_or(RequestError::BadOldLine)?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or(RequestError::MissingSeparator)?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(RequestError::TooManyProofLines);
        }
        let n = proof.len() + 1;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(line)
            .map_err(|_| RequestError::BadProofLine(n))?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|_| RequestError::BadProofLine(n))?;
        proof.push(hash);
    }
    Ok(AddCheckpointRequest {
        old_size,
        proof,
        note: rest.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_example() {
        let body =
            "old 1\nKgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nlog\n3\nroot\n\n— log sig\n";
        let r = parse_add_checkpoint(body.as_bytes()).unwrap();
        assert_eq!(r.old_size, 1);
        assert_eq!(r.proof.len(), 1);
        assert_eq!(r.note, "log\n3\nroot\n\n— log sig\n");
    }

    #[test]
    fn written_bodies_parse_back() {
        let request = AddCheckpointRequest {
            old_size: 7,
            proof: vec![[1; 32], [2; 32]],
            note: "log\n9\nroot\n\n— log sig\n".into(),
        };
        assert_eq!(
            parse_add_checkpoint(request.to_body().as_bytes()),
            Ok(request)
        );
    }

    #[test]
    fn rejects_malformed() {
        for (body, err) in [
            ("", RequestError::BadOldLine),
            ("old 01\n\nx", RequestError::BadOldLine),
            ("old -1\n\nx", RequestError::BadOldLine),
            ("old 18446744073709551616\n\nx", RequestError::BadOldLine),
            ("new 1\n\nx", RequestError::BadOldLine),
            ("old 1\nAAAA\n\nx", RequestError::BadProofLine(1)),
            ("old 1\n!!\n\nx", RequestError::BadProofLine(1)),
            ("old 1\n", RequestError::MissingSeparator),
            ("old 1", RequestError::BadOldLine),
        ] {
            assert_eq!(parse_add_checkpoint(body.as_bytes()), Err(err), "{body:?}");
        }
        assert_eq!(
            parse_add_checkpoint(&[0xff, b'\n']),
            Err(RequestError::NotUtf8)
        );
        let many = format!(
            "old 1\n{}\nx",
            "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64)
        );
        assert_eq!(
            parse_add_checkpoint(many.as_bytes()),
            Err(RequestError::TooManyProofLines)
        );
    }
}
