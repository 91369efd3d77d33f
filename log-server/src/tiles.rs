//! Routing of `/tile/...` request paths. Entry bundles and tlog-proof text are formatted
//! by `quorum_verifier::tiles` and `quorum_verifier::tlog_proof`.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
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
