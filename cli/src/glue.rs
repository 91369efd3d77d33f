//! The seam between the CLI and the library's client layer (`quorum_verifier::client`):
//! its errors become exit codes, its progress reports go to stderr, and the log named by
//! `--log` or the policy becomes an HTTP fetcher.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use quorum_verifier::client::{ClientError, ErrorClass, LogTrust};
use quorum_verifier::policy::Policy;

use crate::cli::Global;
use crate::error::{evidence, unavailable, usage};
use crate::net::LogClient;

/// A client-layer error as a classified CLI error (exit 64, 3 or 69).
pub fn client_error(e: ClientError) -> anyhow::Error {
    let message = e.to_string();
    match e.class() {
        ErrorClass::Input => usage(message),
        ErrorClass::Evidence => evidence(message),
        ErrorClass::Unavailable => unavailable(message),
    }
}

/// The log the policy trusts (key, origin, witness quorum, maximum checkpoint age).
pub fn log_trust(policy: &Policy) -> anyhow::Result<LogTrust> {
    LogTrust::from_policy(policy).map_err(|e| usage(e.to_string()))
}

/// The log URL: `--log`, else the policy's `[log] url`.
pub fn log_url(global: &Global, policy: Option<&Policy>) -> Option<String> {
    global
        .log
        .clone()
        .or_else(|| policy.and_then(|p| p.log.as_ref()?.url.clone()))
}

/// An HTTP client for the log at `url`, with the `--timeout` of every request.
pub fn log_client(global: &Global, url: &str) -> anyhow::Result<LogClient> {
    LogClient::new(url, Duration::from_secs(global.timeout.max(1)))
}

/// Progress on stderr for runs that take more than a second: one line at most every
/// second, nothing for quick runs.
///
/// With `QUORUM_PHASES=1` in the environment it also prints each phase as it starts, with
/// the time since the run began (for finding where time goes).
pub struct StderrProgress {
    started: Instant,
    last: Mutex<Option<Instant>>,
    quiet: bool,
    phases: Option<Mutex<String>>,
}

impl StderrProgress {
    /// A reporter; `quiet` silences it (machine-readable output).
    pub fn new(quiet: bool) -> StderrProgress {
        StderrProgress {
            started: Instant::now(),
            last: Mutex::new(None),
            quiet,
            phases: std::env::var_os("QUORUM_PHASES").map(|_| Mutex::new(String::new())),
        }
    }
}

impl quorum_verifier::client::online::Progress for StderrProgress {
    fn update(&self, phase: &str, done: u64, total: Option<u64>) {
        if let Some(last_phase) = &self.phases
            && let Ok(mut last_phase) = last_phase.lock()
            && *last_phase != phase
        {
            eprintln!(
                "phase {phase} at {:.3} s",
                self.started.elapsed().as_secs_f64()
            );
            *last_phase = phase.to_string();
        }
        if self.quiet || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last = Some(Instant::now());
        let elapsed = self.started.elapsed().as_secs_f64();
        match total {
            Some(total) => eprintln!("{phase}: {done} of {total} entries ({elapsed:.0} s)"),
            None if done > 0 => eprintln!("{phase}: {done} entries ({elapsed:.0} s)"),
            None => eprintln!("{phase} ({elapsed:.0} s)"),
        }
    }
}
