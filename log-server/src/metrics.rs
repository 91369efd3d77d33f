//! Prometheus metrics (text exposition format), kept in atomics.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Current tree size (sequenced).
    pub tree_size: AtomicU64,
    /// Size of the latest signed checkpoint.
    pub checkpoint_size: AtomicU64,
}

impl Metrics {
    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &str, &AtomicU64); 13] = [
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
        out
    }
}
