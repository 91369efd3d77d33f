//! `quorum-bench`: Quorum's benchmark suite in one binary. `scripts/bench.sh` drives it:
//!
//! - `quorum-bench ceilings --out F` measures the machine's ceilings (SHA-256, memory copy,
//!   Ed25519 sign / verify / batch verify);
//! - `quorum-bench merkle --sizes 1000000,10000000 --out F` measures Quorum's Merkle core
//!   side by side with `tlog_tiles`, `ct-merkle` and `rs_merkle`, after checking they all
//!   compute the same roots and proofs;
//! - `quorum-bench lockfile` decides a 1,000-package lockfile against a generated log of
//!   1,000,000 entries (100,000 trust statements) served by the real log server, online
//!   (cold and warm) and from a mirror, with the real `quorum` binary;
//! - `quorum-bench report --raw DIR --out DIR` merges those, Go's `sumdb/tlog` figures and
//!   the log server, witness and criterion benches into `results.json` and `results.md`,
//!   and fails if any two implementations disagree.

mod ceilings;
mod lockfile;
mod measure;
mod merkle_cmp;
mod parse;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::measure::MeasurementFile;

#[derive(Parser)]
#[command(about = "Quorum's benchmark suite: ceilings, Merkle comparisons, report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure SHA-256, memory copy and Ed25519 rates on one core.
    Ceilings {
        /// Short samples (for CI).
        #[arg(long)]
        quick: bool,
        /// Repetitions of every measurement.
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Where to write the measurements (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure the Merkle core against other implementations.
    Merkle {
        /// Tree sizes, comma-separated (3 to 100,000,000 leaves).
        #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
        sizes: Vec<u64>,
        /// Repetitions of every measurement (1 to 100).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Proofs generated and verified per repetition (1 to 10,000,000).
        #[arg(long, default_value_t = 20_000)]
        proofs: usize,
        /// Only these implementations (prefixes of: quorum, tlog_tiles, ct-merkle, rs_merkle).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Where to write the measurements (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Decide a lockfile against a large generated log, online and from a mirror.
    Lockfile {
        /// Log entries.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Trust statements among them (at least 10,101).
        #[arg(long, default_value_t = 100_000)]
        trust: u64,
        /// Signing keys.
        #[arg(long, default_value_t = 20_000)]
        keys: u64,
        /// Packages in the log (3 versions each).
        #[arg(long, default_value_t = 20_000)]
        packages: u64,
        /// Packages in the lockfile.
        #[arg(long, default_value_t = 1_000)]
        lockfile: u64,
        /// Timed runs per mode.
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Where the generated log is kept between runs.
        #[arg(long, default_value = "target/bench-lockfile")]
        data: PathBuf,
        /// Where to write the results (JSON); printed either way.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Serve the log and write a policy and lockfile, then wait (no timing).
        #[arg(long)]
        serve: bool,
    },
    /// Merge a raw results directory into results.json and results.md.
    Report {
        /// The raw results directory written by scripts/bench.sh.
        #[arg(long)]
        raw: PathBuf,
        /// Where to write results.json and results.md.
        #[arg(long)]
        out: PathBuf,
    },
}

fn write_file(path: &PathBuf, file: &MeasurementFile) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(file)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ceilings { quick, reps, out } => {
            anyhow::ensure!((1..=100).contains(&reps), "--reps must be 1 to 100");
            let plan = ceilings::CeilingPlan {
                reps,
                sample_time: Duration::from_millis(if quick { 100 } else { 1000 }),
                copy_source_bytes: if quick { 64 << 20 } else { 512 << 20 },
            };
            let measurements = ceilings::run(&plan)?;
            write_file(
                &out,
                &MeasurementFile {
                    measurements,
                    checks: Vec::new(),
                },
            )
        }
        Command::Merkle {
            sizes,
            reps,
            proofs,
            only,
            out,
        } => {
            anyhow::ensure!((1..=100).contains(&reps), "--reps must be 1 to 100");
            anyhow::ensure!(
                (1..=10_000_000).contains(&proofs),
                "--proofs must be 1 to 10,000,000"
            );
            anyhow::ensure!(
                !sizes.is_empty() && sizes.iter().all(|s| (3..=100_000_000).contains(s)),
                "--sizes must be 3 to 100,000,000 leaves"
            );
            let (measurements, checks) = merkle_cmp::run(&merkle_cmp::MerklePlan {
                sizes,
                reps,
                proofs,
                only,
            })?;
            write_file(
                &out,
                &MeasurementFile {
                    measurements,
                    checks,
                },
            )
        }
        Command::Lockfile {
            entries,
            trust,
            keys,
            packages,
            lockfile,
            reps,
            data,
            out,
            serve,
        } => {
            anyhow::ensure!((1..=100).contains(&reps), "--reps must be 1 to 100");
            let results = lockfile::run(&lockfile::LockfilePlan {
                entries,
                trust,
                keys,
                packages,
                lockfile,
                reps,
                data,
                serve,
            })?;
            let text = serde_json::to_string_pretty(&results)?;
            println!("{text}");
            if let Some(out) = out {
                std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
            }
            Ok(())
        }
        Command::Report { raw, out } => {
            let loaded = report::load(&raw)?;
            // Write the report first so a disagreement can be read, then fail.
            report::write(&loaded, &out)?;
            loaded.check_agreement()?;
            println!("wrote {0}/results.md and {0}/results.json", out.display());
            Ok(())
        }
    }
}
