//! Lockfile parsing: pnpm-lock.yaml.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    quorum_fuzz::check_lockfile("pnpm-lock.yaml", text);
});
