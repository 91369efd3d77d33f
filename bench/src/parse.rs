//! Reading what the other benches print: `quorum-log-bench` and `quorum-witness-bench`
//! text output, and criterion's `sample.json` files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::measure::Measurement;

/// The first number in `text` after `marker`, e.g. `number_after("p50 12 ms", "p50 ")`.
fn number_after(text: &str, marker: &str) -> Option<f64> {
    let start = text.find(marker)? + marker.len();
    let rest = text[start..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn line_starting<'a>(output: &'a str, prefix: &str) -> Option<&'a str> {
    output
        .lines()
        .find(|line| line.trim_start().starts_with(prefix))
}

/// One `quorum-log-bench` run: (metric name, unit, value) for every figure it printed.
pub fn log_bench(output: &str) -> anyhow::Result<Vec<(&'static str, &'static str, f64)>> {
    let mut figures = Vec::new();
    let ingest = line_starting(output, "ingest:")
        .and_then(|line| number_after(line, "ingest:"))
        .context("no 'ingest:' line in quorum-log-bench output")?;
    figures.push((names::INGEST, "statements/s", ingest));
    let latency = line_starting(output, "submit->checkpoint")
        .context("no 'submit->checkpoint' line in quorum-log-bench output")?;
    figures.push((
        names::P50,
        "ms",
        number_after(latency, "p50").context("no p50")?,
    ));
    figures.push((
        names::P99,
        "ms",
        number_after(latency, "p99").context("no p99")?,
    ));
    let tiles = line_starting(output, "tile GETs:")
        .and_then(|line| number_after(line, "tile GETs:"))
        .context("no 'tile GETs:' line in quorum-log-bench output")?;
    figures.push((names::TILE_GETS, "GETs/s", tiles));
    if let Some(storage) = line_starting(output, "storage:") {
        let per_entry = storage
            .split(',')
            .find(|part| part.contains("bytes/entry"))
            .and_then(|part| number_after(part, ""))
            .context("storage line without bytes/entry")?;
        figures.push((names::BYTES_PER_ENTRY, "bytes/entry", per_entry));
    }
    Ok(figures)
}

/// Metric names of the log server table.
pub mod names {
    /// Signed statements ingested per second, each verified and durably committed.
    pub const INGEST: &str = "ingest of signed statements (durable commit)";
    /// Median submit-to-checkpoint latency.
    pub const P50: &str = "submit-to-checkpoint latency p50";
    /// 99th percentile submit-to-checkpoint latency.
    pub const P99: &str = "submit-to-checkpoint latency p99";
    /// Full level-0 tile GETs per second.
    pub const TILE_GETS: &str = "tile GETs (full level-0 tiles)";
    /// Storage per log entry.
    pub const BYTES_PER_ENTRY: &str = "bytes per entry";
    /// The mirror's append path (verify, index, write, root) without network.
    pub const MIRROR_SYNC: &str = "mirror sync without network (verify, index, write, root)";
    /// Witness add-checkpoint requests per second.
    pub const ADD_CHECKPOINT: &str = "add-checkpoint requests (durable)";
}

/// One `quorum-witness-bench` run: add-checkpoint requests per second.
pub fn witness_bench(output: &str) -> anyhow::Result<f64> {
    output
        .lines()
        .find(|line| line.contains("add-checkpoint requests in"))
        .and_then(|line| number_after(line, "="))
        .context("no 'add-checkpoint requests in' line in quorum-witness-bench output")
}

/// The mirror bench's sync rate (entries per second, without network), from the line
/// `mirror: generated N entries in T s; sync without network (...): R entries/s`.
pub fn mirror_sync_rate(output: &str) -> anyhow::Result<f64> {
    output
        .lines()
        .find(|line| line.starts_with("mirror: generated") && line.contains("sync without network"))
        .and_then(|line| number_after(line, "):"))
        .context("no 'mirror: generated ... sync without network' line in the mirror bench output")
}

#[derive(Deserialize)]
struct CriterionSample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

#[derive(Deserialize)]
struct CriterionBenchmark {
    full_id: String,
}

fn find_sample_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                let sample = path.join("sample.json");
                if sample.is_file() {
                    out.push(path);
                }
            } else {
                find_sample_files(&path, out)?;
            }
        }
    }
    Ok(())
}

/// Every benchmark in a criterion output directory (`CRITERION_HOME`), as milliseconds
/// per iteration, one sample per criterion sample.
pub fn criterion_dir(dir: &Path, section: &str, bench: &str) -> anyhow::Result<Vec<Measurement>> {
    let mut dirs = Vec::new();
    find_sample_files(dir, &mut dirs)?;
    dirs.sort();
    let mut out = Vec::new();
    for new in dirs {
        let read = |name: &str| {
            let path = new.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        let sample: CriterionSample = serde_json::from_str(&read("sample.json")?)?;
        let benchmark: CriterionBenchmark = serde_json::from_str(&read("benchmark.json")?)?;
        if sample.iters.len() != sample.times.len() || sample.iters.is_empty() {
            bail!("{}: malformed criterion sample", new.display());
        }
        let samples = sample
            .times
            .iter()
            .zip(&sample.iters)
            .map(|(time_ns, iters)| time_ns / iters / 1e6)
            .collect();
        out.push(Measurement::new(
            section,
            &format!("{bench}: {}", benchmark.full_id),
            "quorum",
            None,
            "ms/run",
            samples,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_log_bench_figure() {
        let output = "statements acknowledged: 100000 in 20.01 s\n\
            ingest: 4997 statements/s (full verification, durable commit)\n\
            submit->checkpoint (1 s interval): p50 512 ms, p99 1034 ms\n\
            tile GETs: 20345/s (full level-0 tiles, 16 connections)\n\
            storage: 81234567 bytes, 812 bytes/entry (SQLite file + WAL)\n";
        let figures = log_bench(output).expect("parse");
        assert_eq!(
            figures,
            vec![
                (names::INGEST, "statements/s", 4997.0),
                (names::P50, "ms", 512.0),
                (names::P99, "ms", 1034.0),
                (names::TILE_GETS, "GETs/s", 20345.0),
                (names::BYTES_PER_ENTRY, "bytes/entry", 812.0),
            ]
        );
        assert!(log_bench("tile GETs: 5/s\n").is_err());
    }

    #[test]
    fn reads_the_witness_rate() {
        let output = "6400 durable add-checkpoint requests in 2.10 s = 3048 requests/s (sqlite backend, 64 concurrent logs)\n";
        assert_eq!(witness_bench(output).expect("parse"), 3048.0);
        assert!(witness_bench("nothing\n").is_err());
    }

    #[test]
    fn reads_the_mirror_sync_rate() {
        let output = "Gnuplot not found\nmirror: generated 20000 entries in 3.1 s; sync without network (verify, index, write, root): 12345 entries/s\n";
        assert_eq!(mirror_sync_rate(output).expect("parse"), 12345.0);
        assert!(mirror_sync_rate("mirror: lockfile 500 pkgs\n").is_err());
    }

    #[test]
    fn reads_criterion_samples() {
        let dir =
            std::env::temp_dir().join(format!("quorum-bench-criterion-{}", std::process::id()));
        let new = dir.join("group").join("function").join("new");
        std::fs::create_dir_all(&new).expect("mkdir");
        std::fs::write(
            new.join("sample.json"),
            r#"{"sampling_mode":"Flat","iters":[1.0,2.0],"times":[2000000.0,8000000.0]}"#,
        )
        .expect("write");
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"full_id":"group/function"}"#,
        )
        .expect("write");
        let measurements = criterion_dir(&dir, "verifier", "trust").expect("parse");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(measurements.len(), 1);
        assert_eq!(measurements[0].name, "trust: group/function");
        assert_eq!(measurements[0].samples, vec![2.0, 4.0]);
    }
}
