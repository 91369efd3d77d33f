//! Prometheus metrics (text exposition format), kept in atomics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the log knows of one witness, exported with a `witness` label.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WitnessGauges {
    /// Size of the latest checkpoint the witness cosigned for this log.
    pub cosigned_size: u64,
    /// Timestamp (Unix seconds) of the freshest cosignature received from it: on an idle
    /// log it keeps advancing with every refresh, so a stalled value means a stalled witness.
    pub cosignature_timestamp: u64,
    /// Size of the checkpoint of the latest failed request to it (0: none failed yet).
    pub failed_size: u64,
    /// Requests to it that failed.
    pub failures: u64,
}

/// Counters and gauges of the server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Entries sequenced (new, not duplicates).
    pub entries_sequenced: AtomicU64,
    /// Submissions answered with an existing entry.
    pub duplicates: AtomicU64,
    /// Submissions rejected (any 4xx).
    pub rejected: AtomicU64,
    /// Submissions rate limited.
    pub rate_limited: AtomicU64,
    /// Sequencer batches committed.
    pub batches: AtomicU64,
    /// Sequencer commit failures.
    pub commit_errors: AtomicU64,
    /// Checkpoints signed.
    pub checkpoints_signed: AtomicU64,
    /// Cosignatures collected.
    pub cosignatures: AtomicU64,
    /// Witness request failures.
    pub witness_errors: AtomicU64,
    /// Tile requests served.
    pub tile_requests: AtomicU64,
    /// Tile requests answered from the tile cache.
    pub tile_cache_hits: AtomicU64,
    /// Evidence pages served.
    pub evidence_pages: AtomicU64,
    /// Entries served in evidence pages (an entry in two pages counts twice).
    pub evidence_entries: AtomicU64,
    /// Current tree size (sequenced).
    pub tree_size: AtomicU64,
    /// Size of the latest signed checkpoint.
    pub checkpoint_size: AtomicU64,
    /// Per witness, by name.
    witnesses: Mutex<BTreeMap<String, WitnessGauges>>,
}

impl Metrics {
    fn witness_gauges(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, WitnessGauges>> {
        // Plain numbers: a panicking holder cannot leave them half updated.
        self.witnesses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a cosignature by `witness` on the checkpoint of `size`, made at `timestamp`.
    pub fn witness_cosigned(&self, witness: &str, size: u64, timestamp: u64) {
        self.cosignatures.fetch_add(1, Ordering::Relaxed);
        let mut all = self.witness_gauges();
        let g = all.entry(witness.to_owned()).or_default();
        g.cosigned_size = g.cosigned_size.max(size);
        g.cosignature_timestamp = g.cosignature_timestamp.max(timestamp);
    }

    /// Records a failed request to `witness` about the checkpoint of `size`.
    pub fn witness_failed(&self, witness: &str, size: u64) {
        self.witness_errors.fetch_add(1, Ordering::Relaxed);
        let mut all = self.witness_gauges();
        let g = all.entry(witness.to_owned()).or_default();
        g.failed_size = size;
        g.failures += 1;
    }

    /// What is known of `witness` (all zero before its first request finished).
    pub fn witness(&self, witness: &str) -> WitnessGauges {
        self.witness_gauges()
            .get(witness)
            .copied()
            .unwrap_or_default()
    }

    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &str, &AtomicU64); 15] = [
            (
                "quorum_entries_sequenced_total",
                "counter",
                "Entries sequenced.",
                &self.entries_sequenced,
            ),
            (
                "quorum_duplicate_submissions_total",
                "counter",
                "Submissions answered with an existing entry.",
                &self.duplicates,
            ),
            (
                "quorum_rejected_submissions_total",
                "counter",
                "Submissions rejected as invalid.",
                &self.rejected,
            ),
            (
                "quorum_rate_limited_total",
                "counter",
                "Submissions rate limited.",
                &self.rate_limited,
            ),
            (
                "quorum_sequencer_batches_total",
                "counter",
                "Sequencer batches committed.",
                &self.batches,
            ),
            (
                "quorum_sequencer_commit_errors_total",
                "counter",
                "Sequencer commit failures.",
                &self.commit_errors,
            ),
            (
                "quorum_checkpoints_signed_total",
                "counter",
                "Checkpoints signed.",
                &self.checkpoints_signed,
            ),
            (
                "quorum_cosignatures_total",
                "counter",
                "Witness cosignatures collected.",
                &self.cosignatures,
            ),
            (
                "quorum_witness_errors_total",
                "counter",
                "Failed witness requests.",
                &self.witness_errors,
            ),
            (
                "quorum_tile_requests_total",
                "counter",
                "Tile requests served.",
                &self.tile_requests,
            ),
            (
                "quorum_tile_cache_hits_total",
                "counter",
                "Tile requests answered from the in-memory cache of full tiles.",
                &self.tile_cache_hits,
            ),
            (
                "quorum_evidence_pages_total",
                "counter",
                "Evidence pages served.",
                &self.evidence_pages,
            ),
            (
                "quorum_evidence_entries_total",
                "counter",
                "Entries served in evidence pages.",
                &self.evidence_entries,
            ),
            (
                "quorum_tree_size",
                "gauge",
                "Entries sequenced (durable).",
                &self.tree_size,
            ),
            (
                "quorum_checkpoint_size",
                "gauge",
                "Tree size of the latest signed checkpoint.",
                &self.checkpoint_size,
            ),
        ];
        for (name, kind, help, v) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let witnesses = self.witness_gauges().clone();
        let labelled: [LabelledGauge; 4] = [
            (
                "quorum_witness_cosigned_size",
                "gauge",
                "Size of the latest checkpoint the witness cosigned.",
                |g| g.cosigned_size,
            ),
            (
                "quorum_witness_cosignature_timestamp_seconds",
                "gauge",
                "Timestamp of the freshest cosignature from the witness (advances on an idle log too).",
                |g| g.cosignature_timestamp,
            ),
            (
                "quorum_witness_failed_size",
                "gauge",
                "Checkpoint size of the latest failed request to the witness.",
                |g| g.failed_size,
            ),
            (
                "quorum_witness_failures_total",
                "counter",
                "Failed requests to the witness.",
                |g| g.failures,
            ),
        ];
        for (name, kind, help, value) in labelled {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (witness, g) in &witnesses {
                let _ = writeln!(
                    out,
                    "{name}{{witness=\"{}\"}} {}",
                    escape_label(witness),
                    value(g)
                );
            }
        }
        out
    }
}

/// A per-witness series: name, type, help and how to read it.
type LabelledGauge = (
    &'static str,
    &'static str,
    &'static str,
    fn(&WitnessGauges) -> u64,
);

/// Escapes a Prometheus label value (backslash, double quote, newline).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
