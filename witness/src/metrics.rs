//! Prometheus text-format counters.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the witness exports at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// add-checkpoint responses by status: 200, 400, 403, 404, 409, 413, 422, 429, 500.
    add_checkpoint: [AtomicU64; 9],
    /// Evidence records stored.
    pub evidence_stored: AtomicU64,
    /// Successful pull-mode cosignatures.
    pub pull_cosigned: AtomicU64,
    /// Failed pull-mode polls.
    pub pull_errors: AtomicU64,
}

const STATUSES: [u16; 9] = [200, 400, 403, 404, 409, 413, 422, 429, 500];

impl Metrics {
    /// Counts one add-checkpoint response with this status.
    pub fn count_add(&self, status: u16) {
        let i = STATUSES.iter().position(|s| *s == status).unwrap_or(8);
        self.add_checkpoint[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Renders all counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP witness_add_checkpoint_total add-checkpoint responses by status.\n");
        out.push_str("# TYPE witness_add_checkpoint_total counter\n");
        for (s, c) in STATUSES.iter().zip(&self.add_checkpoint) {
            let _ = writeln!(
                out,
                "witness_add_checkpoint_total{{code=\"{s}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        for (name, help, c) in [
            (
                "witness_evidence_stored_total",
                "Conflicting checkpoints stored as evidence.",
                &self.evidence_stored,
            ),
            (
                "witness_pull_cosigned_total",
                "Checkpoints cosigned in pull mode.",
                &self.pull_cosigned,
            ),
            (
                "witness_pull_errors_total",
                "Failed pull-mode polls.",
                &self.pull_errors,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out
    }
}
