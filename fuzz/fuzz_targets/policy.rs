//! Verifier policy files (TOML) and the package glob matcher.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_verifier::policy::{Policy, glob_match};

fuzz_target!(|data: &[u8]| {
    // pattern NUL text: the glob matcher must stay fast on hostile patterns.
    if let Some(split) = data.iter().position(|&b| b == 0)
        && let (Ok(pattern), Ok(text)) = (
            std::str::from_utf8(&data[..split]),
            std::str::from_utf8(&data[split + 1..]),
        )
    {
        let matched = glob_match(pattern, text);
        if pattern == text && !pattern.contains(['*', '?', '[']) {
            assert!(matched, "a pattern without wildcards matches itself");
        }
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let _ = policy.root_keys();
    for package in [
        "pkg:cargo/serde",
        "pkg:npm/%40types/node",
        "pkg:pypi/requests",
        "",
    ] {
        let _ = policy.rule_for(package);
    }
});
