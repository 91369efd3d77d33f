//! Evidence pages (`quorum.v1.EvidencePage`, protobuf) as a log serves them: decoded and
//! checked against a pinned tree (cursors, ranges, listings, batch inclusion proof). Never
//! panics; an accepted page advances only the cursors it covers, to where it says, and holds
//! entries strictly ascending inside the tree.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::merkle::{Hash, MemoryTree};
use quorum_verifier::client::evidence::{Cursor, verify_page};

const SIZE: u64 = 16;

fn root() -> &'static Hash {
    static ROOT: OnceLock<Hash> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut tree = MemoryTree::new();
        for i in 0..SIZE {
            tree.append(&[i as u8; 10]);
        }
        tree.root()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut cursors = vec![
        Cursor {
            key: "pkg:cargo/x".into(),
            start: 0,
            until: SIZE,
        },
        Cursor {
            key: "quorum:trust-graph".into(),
            start: 4,
            until: SIZE,
        },
    ];
    let before = cursors.clone();
    let Ok(page) = verify_page(data, SIZE, root(), &mut cursors) else {
        return;
    };
    assert!(page.entries.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(page.entries.iter().all(|(i, _)| *i < SIZE));
    for (after, was) in cursors.iter().zip(&before) {
        assert!(after.start >= was.start && after.start <= was.until);
    }
    assert!(cursors != before, "an accepted page makes progress");
});
