//! Witness policies (C2SP tlog-policy).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_c2sp::witness_policy::WitnessPolicy;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = WitnessPolicy::parse(data) else {
        return;
    };
    // Quorum evaluation is monotonic: if no witnesses satisfy it, so do all of them.
    let all: Vec<&str> = policy.witnesses().iter().map(|w| w.name.as_str()).collect();
    let none: [&str; 0] = [];
    if policy.is_satisfied_by_names(&none) {
        assert!(policy.is_satisfied_by_names(&all));
    }
    for log in policy.logs() {
        let _ = policy.log_verifiers(&log.key.name);
    }
    let _ = policy.cosignature_verifiers();
});
