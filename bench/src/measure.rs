//! Measurements as every part of the suite writes them (the Rust benches here and the Go
//! program under `bench/go/`), and the statistics the report prints.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One measured quantity: a rate or a latency, sampled once per repetition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Measurement {
    /// The table it belongs to: `ceilings`, `merkle`, `log`, `witness`, `verifier`.
    pub section: String,
    /// What was measured, e.g. `tree hashing`.
    pub name: String,
    /// Who did the work, e.g. `quorum`, `tlog_tiles`, `go x/mod/sumdb/tlog`.
    pub implementation: String,
    /// Problem size (leaves in the tree), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Unit of every sample, e.g. `leaves/s`.
    pub unit: String,
    /// One value per repetition. Empty when the implementation cannot do this (`na`).
    #[serde(default)]
    pub samples: Vec<f64>,
    /// Why there are no samples: the implementation cannot do this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub na: Option<String>,
    /// SHA-256 node hashes one operation needs at the least (to relate a rate to the
    /// SHA-256 ceiling), averaged over the operations measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes_per_op: Option<f64>,
}

impl Measurement {
    /// A measurement with samples.
    pub fn new(
        section: &str,
        name: &str,
        implementation: &str,
        size: Option<u64>,
        unit: &str,
        samples: Vec<f64>,
    ) -> Self {
        Measurement {
            section: section.into(),
            name: name.into(),
            implementation: implementation.into(),
            size,
            unit: unit.into(),
            samples,
            na: None,
            hashes_per_op: None,
        }
    }

    /// An operation `implementation` cannot do, and why.
    pub fn not_available(
        section: &str,
        name: &str,
        implementation: &str,
        size: Option<u64>,
        unit: &str,
        reason: &str,
    ) -> Self {
        Measurement {
            na: Some(reason.into()),
            ..Measurement::new(section, name, implementation, size, unit, Vec::new())
        }
    }

    /// Median, minimum and maximum of the samples, if there are any.
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.samples)
    }
}

/// What the Merkle implementations must agree on for one tree size: the root, and digests
/// of one inclusion proof and one consistency proof (SHA-256 over the proof's hashes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgreementCheck {
    /// The implementation that produced these values.
    pub implementation: String,
    /// Leaves in the tree (leaf `i` is `i` as 8 big-endian bytes).
    pub size: u64,
    /// The tree root, hex.
    pub root: String,
    /// Digest of the inclusion proof of leaf `size / 3`, hex; absent when unsupported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof_digest: Option<String>,
    /// Digest of the consistency proof from `size / 3 + 1` to `size`, hex; absent when
    /// unsupported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_proof_digest: Option<String>,
}

/// The file format of every measurement file in the raw results directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeasurementFile {
    /// The measurements.
    #[serde(default)]
    pub measurements: Vec<Measurement>,
    /// Cross-implementation agreement values.
    #[serde(default)]
    pub checks: Vec<AgreementCheck>,
}

/// Median, minimum and maximum of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// The median (mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples.
    pub count: usize,
}

impl Summary {
    /// The summary of `samples`, ignoring NaNs; `None` if nothing is left.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| !s.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if !n.is_multiple_of(2) {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            count: n,
        })
    }
}

/// Runs `work` (which returns how many units it did) repeatedly for at least `target`,
/// and returns units per second.
pub fn rate_for(target: Duration, mut work: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut units = 0u64;
    loop {
        units += work();
        let elapsed = start.elapsed();
        if elapsed >= target {
            return units as f64 / elapsed.as_secs_f64();
        }
    }
}

/// Times `work` once and returns `units` per second.
pub fn rate_once<T>(units: u64, work: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let output = std::hint::black_box(work());
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    (units as f64 / secs, output)
}

/// SplitMix64, the same generator as `bench/go/main.go`, so both pick the same proof
/// indices.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_the_middle_and_the_extremes() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).expect("samples");
        assert_eq!((s.median, s.min, s.max, s.count), (3.0, 1.0, 5.0, 3));
        let s = Summary::of(&[4.0, 1.0, 3.0, 10.0]).expect("samples");
        assert_eq!(s.median, 3.5);
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut state = 0;
        assert_eq!(splitmix(&mut state), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix(&mut state), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn measurement_files_round_trip_and_na_has_no_samples() {
        let file = MeasurementFile {
            measurements: vec![
                Measurement::new(
                    "merkle",
                    "tree hashing",
                    "quorum",
                    Some(10),
                    "leaves/s",
                    vec![1.0],
                ),
                Measurement::not_available("merkle", "tile building", "x", Some(10), "MB/s", "why"),
            ],
            checks: vec![],
        };
        let text = serde_json::to_string(&file).expect("serialize");
        let back: MeasurementFile = serde_json::from_str(&text).expect("parse");
        assert_eq!(back.measurements, file.measurements);
        assert!(back.measurements[1].summary().is_none());
    }
}
