//! Tile paths, entry bundles and tlog-proof text as the server serves them.
//!
//! These are thin adapters: while `quorum_verifier::tiles` and
//! `quorum_verifier::tlog_proof` are not available, the encoders live here; they encode
//! only (every decoder and verifier is in `quorum-verifier`).

use base64::Engine as _;

/// A parsed tile path (the part after `/tile/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile `<L>/<N>[.p/<W>]`.
    Hashes {
        /// Tile level (0..=63).
        level: u8,
        /// Tile index.
        index: u64,
        /// Partial width (1..=255), `None` for a full tile.
        width: Option<u16>,
    },
    /// An entry bundle `entries/<N>[.p/<W>]`.
    Entries {
        /// Bundle index.
        index: u64,
        /// Partial width, `None` for a full bundle.
        width: Option<u16>,
    },
}

/// Parses `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, where `<N>` is written in groups of
/// three digits, every group but the last prefixed with `x`. Returns `None` for anything
/// that is not exactly the canonical form.
pub fn parse_tile_path(path: &str) -> Option<TilePath> {
    if path.len() > 128 {
        return None;
    }
    let (head, rest) = path.split_once('/')?;
    let (index_part, width) = match rest.split_once(".p/") {
        Some((i, w)) => (i, Some(parse_width(w)?)),
        None => (rest, None),
    };
    let index = parse_index(index_part)?;
    if head == "entries" {
        return Some(TilePath::Entries { index, width });
    }
    if head.is_empty() || head.len() > 2 || !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if head.len() > 1 && head.starts_with('0') {
        return None;
    }
    let level: u8 = head.parse().ok()?;
    if level > 63 {
        return None;
    }
    Some(TilePath::Hashes {
        level,
        index,
        width,
    })
}

fn parse_width(w: &str) -> Option<u16> {
    if w.is_empty() || w.len() > 3 || !w.bytes().all(|b| b.is_ascii_digit()) || w.starts_with('0') {
        return None;
    }
    let v: u16 = w.parse().ok()?;
    (1..=255).contains(&v).then_some(v)
}

fn parse_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    if groups.len() > 7 {
        return None;
    }
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let last = i + 1 == groups.len();
        let digits = if last { *g } else { g.strip_prefix('x')? };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = digits.parse().ok()?;
        n = n.checked_mul(1000)?.checked_add(v)?;
    }
    // Canonical: no leading all-zero groups.
    if groups.len() > 1 && groups[0] == "x000" {
        return None;
    }
    Some(n)
}

/// Formats a tile index as C2SP path groups (`1234067` → `x001/x234/067`).
pub fn format_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// An entry too large for a bundle's `uint16` length prefix.
#[derive(Debug, thiserror::Error)]
#[error("entry of {0} bytes does not fit an entry bundle")]
pub struct EntryTooLarge(pub usize);

/// Encodes an entry bundle: each entry as a big-endian `uint16` length and its bytes.
pub fn encode_bundle(entries: &[Vec<u8>]) -> Result<Vec<u8>, EntryTooLarge> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Formats a C2SP tlog-proof: header, index, inclusion proof hashes, blank line, checkpoint
/// note (with its signatures).
pub fn tlog_proof_text(index: u64, proof: &[[u8; 32]], checkpoint_note: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut s = String::from("c2sp.org/tlog-proof@v1\n");
    s.push_str(&format!("index {index}\n"));
    for h in proof {
        s.push_str(&b64.encode(h));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(checkpoint_note);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(format_index(1_234_067), "x001/x234/067");
        assert_eq!(format_index(5), "005");
        assert_eq!(
            parse_tile_path("0/x001/x234/067"),
            Some(TilePath::Hashes {
                level: 0,
                index: 1_234_067,
                width: None
            })
        );
        assert_eq!(
            parse_tile_path("entries/005.p/7"),
            Some(TilePath::Entries {
                index: 5,
                width: Some(7)
            })
        );
        for bad in [
            "0/5",
            "0/x000/005",
            "64/000",
            "0/000.p/0",
            "0/000.p/256",
            "01/000",
            "x/000",
            "0/000.p/07",
            "entries/1000",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }
}
