//! Merges the raw results of one `scripts/bench.sh` run into `results.json` and
//! `results.md`: medians with min and max, ratios against the other implementations and
//! against the machine's ceilings, and the cross-implementation agreement checks.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::ceilings::{self, names as ceiling};
use crate::measure::{AgreementCheck, Measurement, MeasurementFile, Summary};
use crate::merkle_cmp::{names as implementations, ops};
use crate::parse::{self, names as metric};

/// A measurement with its statistics, as written to `results.json`.
#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    measurement: &'a Measurement,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
}

/// A ratio the report computed.
#[derive(Serialize, Clone)]
struct Ratio {
    section: String,
    name: String,
    size: Option<u64>,
    /// `quorum ÷ <implementation>` or `quorum ÷ ceiling`.
    against: String,
    /// The ratio of medians (above 1: Quorum does more per second).
    ratio: f64,
}

#[derive(Serialize)]
struct Results<'a> {
    mode: String,
    command: String,
    machine: String,
    rows: Vec<Row<'a>>,
    checks: &'a [AgreementCheck],
    ratios: Vec<Ratio>,
    skipped: Vec<String>,
}

/// Everything found in a raw results directory.
pub struct Raw {
    measurements: Vec<Measurement>,
    checks: Vec<AgreementCheck>,
    skipped: Vec<String>,
    mode: String,
    command: String,
    machine: String,
    cores: f64,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads every result file of a raw directory (see `scripts/bench.sh` for the names).
pub fn load(dir: &Path) -> anyhow::Result<Raw> {
    let mut raw = Raw {
        measurements: Vec::new(),
        checks: Vec::new(),
        skipped: Vec::new(),
        mode: read(&dir.join("mode.txt"))
            .unwrap_or_default()
            .trim()
            .into(),
        command: read(&dir.join("command.txt"))
            .unwrap_or_default()
            .trim()
            .into(),
        machine: read(&dir.join("machine.txt"))
            .unwrap_or_default()
            .trim()
            .into(),
        cores: std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    // Per-backend samples of the log and witness benches, one file per repetition.
    let mut repeated: BTreeMap<(String, String, String, String), Vec<f64>> = BTreeMap::new();
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(what) = name.strip_suffix(".skipped") {
            raw.skipped.push(format!("{what}: {}", read(&path)?.trim()));
        } else if name.ends_with(".json") && name != "results.json" {
            let file: MeasurementFile = serde_json::from_str(&read(&path)?)
                .with_context(|| format!("parsing {}", path.display()))?;
            raw.measurements.extend(file.measurements);
            raw.checks.extend(file.checks);
        } else if let Some(rest) = name
            .strip_prefix("log-")
            .and_then(|n| n.strip_suffix(".txt"))
        {
            let backend = backend_label(rest);
            for (metric, unit, value) in
                parse::log_bench(&read(&path)?).with_context(|| path.display().to_string())?
            {
                repeated
                    .entry(("log".into(), metric.into(), backend.clone(), unit.into()))
                    .or_default()
                    .push(value);
            }
        } else if let Some(rest) = name
            .strip_prefix("witness-")
            .and_then(|n| n.strip_suffix(".txt"))
        {
            let value =
                parse::witness_bench(&read(&path)?).with_context(|| path.display().to_string())?;
            repeated
                .entry((
                    "witness".into(),
                    metric::ADD_CHECKPOINT.into(),
                    backend_label(rest),
                    "requests/s".into(),
                ))
                .or_default()
                .push(value);
        } else if name == "mirror-output.log" {
            let rate = parse::mirror_sync_rate(&read(&path)?)
                .with_context(|| path.display().to_string())?;
            raw.measurements.push(Measurement::new(
                "verifier",
                metric::MIRROR_SYNC,
                "quorum",
                None,
                "entries/s",
                vec![rate],
            ));
        } else if let Some(bench) = name.strip_prefix("criterion-")
            && path.is_dir()
        {
            raw.measurements
                .extend(parse::criterion_dir(&path, "verifier", bench)?);
        }
    }
    for ((section, name, backend, unit), samples) in repeated {
        raw.measurements.push(Measurement::new(
            &section, &name, &backend, None, &unit, samples,
        ));
    }
    Ok(raw)
}

/// `sqlite-1` → `SQLite`, `postgres-2` → `PostgreSQL`.
fn backend_label(file_stem: &str) -> String {
    if file_stem.starts_with("postgres") {
        "PostgreSQL".into()
    } else {
        "SQLite".into()
    }
}

impl Raw {
    fn find(
        &self,
        section: &str,
        name: &str,
        implementation: &str,
        size: Option<u64>,
    ) -> Option<&Measurement> {
        self.measurements.iter().find(|m| {
            m.section == section
                && m.name == name
                && m.implementation == implementation
                && m.size == size
        })
    }

    fn median(
        &self,
        section: &str,
        name: &str,
        implementation: &str,
        size: Option<u64>,
    ) -> Option<f64> {
        self.find(section, name, implementation, size)?
            .summary()
            .map(|s| s.median)
    }

    fn ceiling(&self, name: &str) -> Option<f64> {
        self.median("ceilings", name, ceilings::MACHINE, None)
    }

    /// The single-core ceiling of a Merkle operation, in the operation's unit, and how it
    /// is derived.
    fn merkle_ceiling(&self, op: &str, hashes_per_op: Option<f64>) -> Option<(f64, &'static str)> {
        let node = self.ceiling(ceiling::NODE_HASH)?;
        match op {
            ops::TREE_HASHING => {
                let leaf = self.ceiling(ceiling::LEAF_HASH)?;
                let nodes_per_leaf = hashes_per_op? - 1.0;
                Some((
                    1.0 / (1.0 / leaf + nodes_per_leaf / node),
                    "1 leaf hash + 1 node hash per leaf",
                ))
            }
            ops::TILE_BUILDING => Some((self.ceiling(ceiling::MEMCPY)?, "memory copy")),
            ops::INCLUSION_VERIFY | ops::CONSISTENCY_VERIFY => Some((
                node / hashes_per_op?,
                "node hashes per proof at SHA-256 speed",
            )),
            _ => None,
        }
    }

    /// Fails if any two implementations disagree on a root or a proof.
    pub fn check_agreement(&self) -> anyhow::Result<()> {
        let mut by_size: BTreeMap<u64, Vec<&AgreementCheck>> = BTreeMap::new();
        for check in &self.checks {
            by_size.entry(check.size).or_default().push(check);
        }
        for (size, checks) in by_size {
            let first = checks[0];
            for check in &checks[1..] {
                if check.root != first.root {
                    bail!(
                        "roots disagree at {size} leaves: {} has {}, {} has {}",
                        first.implementation,
                        first.root,
                        check.implementation,
                        check.root
                    );
                }
                for (what, a, b) in [
                    (
                        "inclusion",
                        &first.inclusion_proof_digest,
                        &check.inclusion_proof_digest,
                    ),
                    (
                        "consistency",
                        &first.consistency_proof_digest,
                        &check.consistency_proof_digest,
                    ),
                ] {
                    if let (Some(a), Some(b)) = (a, b)
                        && a != b
                    {
                        bail!(
                            "{what} proofs disagree at {size} leaves between {} and {}",
                            first.implementation,
                            check.implementation
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Formats a value with three significant digits and a k/M/G suffix.
fn human(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e9 => (value / 1e9, " G"),
        v if v >= 1e6 => (value / 1e6, " M"),
        v if v >= 1e4 => (value / 1e3, " k"),
        _ => (value, ""),
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$}{suffix}")
}

fn cell(measurement: Option<&Measurement>) -> String {
    match measurement {
        None => "not run".into(),
        Some(m) => match (m.summary(), &m.na) {
            (_, Some(reason)) => format!("n/a: {reason}"),
            (Some(s), None) => format!(
                "**{}** ({}–{})",
                human(s.median),
                human(s.min),
                human(s.max)
            ),
            (None, None) => "no samples".into(),
        },
    }
}

fn ratio_cell(ratio: Option<f64>) -> String {
    ratio.map_or("—".into(), |r| format!("{r:.2}×"))
}

const MERKLE_OTHERS: [&str; 4] = [
    implementations::TLOG_TILES,
    implementations::GO_TLOG,
    implementations::CT_MERKLE,
    implementations::RS_MERKLE,
];

/// Writes `results.json` and `results.md` into `out`.
pub fn write(raw: &Raw, out: &Path) -> anyhow::Result<()> {
    let mut md = String::new();
    let mut ratios: Vec<Ratio> = Vec::new();
    writeln!(md, "# Quorum benchmark results\n")?;
    writeln!(md, "Mode: **{}**. Command: `{}`\n", raw.mode, raw.command)?;
    writeln!(
        md,
        "Cells: **median** (min–max) over the repetitions; k = 10³, M = 10⁶."
    )?;
    writeln!(
        md,
        "Ceilings and Merkle figures are single-threaded; ratios are of medians (above 1: Quorum does more per second).\n"
    )?;
    writeln!(md, "## Machine\n\n```\n{}\n```\n", raw.machine)?;

    writeln!(md, "## Ceilings (one core)\n")?;
    writeln!(
        md,
        "| measurement | median | min | max | unit |\n|---|---|---|---|---|"
    )?;
    for m in raw.measurements.iter().filter(|m| m.section == "ceilings") {
        if let Some(s) = m.summary() {
            writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                m.name,
                human(s.median),
                human(s.min),
                human(s.max),
                m.unit
            )?;
        }
    }

    let mut sizes: Vec<u64> = raw
        .measurements
        .iter()
        .filter(|m| m.section == "merkle")
        .filter_map(|m| m.size)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        writeln!(md, "\n## Merkle core, {} leaves\n", group_digits(size))?;
        writeln!(
            md,
            "| operation | unit | {} | {} |\n|---|---|---|{}",
            implementations::QUORUM,
            MERKLE_OTHERS.join(" | "),
            "---|".repeat(MERKLE_OTHERS.len())
        )?;
        for (op, unit) in ops::ALL {
            let quorum = raw.find("merkle", op, implementations::QUORUM, Some(size));
            let others: Vec<String> = MERKLE_OTHERS
                .iter()
                .map(|other| cell(raw.find("merkle", op, other, Some(size))))
                .collect();
            writeln!(
                md,
                "| {op} | {unit} | {} | {} |",
                cell(quorum),
                others.join(" | ")
            )?;
        }
        writeln!(
            md,
            "\n| operation | {} | quorum ÷ ceiling | ceiling (derived) |\n|---|{}---|---|",
            MERKLE_OTHERS
                .iter()
                .map(|o| format!("quorum ÷ {o}"))
                .collect::<Vec<_>>()
                .join(" | "),
            "---|".repeat(MERKLE_OTHERS.len())
        )?;
        for (op, unit) in ops::ALL {
            let quorum_measurement = raw.find("merkle", op, implementations::QUORUM, Some(size));
            let quorum = raw.median("merkle", op, implementations::QUORUM, Some(size));
            let mut cells = Vec::new();
            for other in MERKLE_OTHERS {
                let ratio = quorum
                    .zip(raw.median("merkle", op, other, Some(size)))
                    .map(|(q, o)| q / o);
                if let Some(ratio) = ratio {
                    ratios.push(Ratio {
                        section: "merkle".into(),
                        name: op.into(),
                        size: Some(size),
                        against: other.into(),
                        ratio,
                    });
                }
                cells.push(ratio_cell(ratio));
            }
            let hashes = quorum_measurement.and_then(|m| m.hashes_per_op);
            let ceiling = raw.merkle_ceiling(op, hashes);
            let vs_ceiling = quorum.zip(ceiling).map(|(q, (c, _))| q / c);
            if let Some(ratio) = vs_ceiling {
                ratios.push(Ratio {
                    section: "merkle".into(),
                    name: op.into(),
                    size: Some(size),
                    against: "ceiling".into(),
                    ratio,
                });
            }
            let ceiling_text = ceiling
                .map_or("— (no hashing: memory reads only)".into(), |(c, how)| {
                    format!("{} {unit} ({how})", human(c))
                });
            writeln!(
                md,
                "| {op} | {} | {} | {ceiling_text} |",
                cells.join(" | "),
                ratio_cell(vs_ceiling)
            )?;
        }
    }

    let verify = raw.ceiling(ceiling::VERIFY);
    let sign = raw.ceiling(ceiling::SIGN);
    writeln!(md, "\n## Log server (quorum-log-bench, loopback HTTP)\n")?;
    writeln!(
        md,
        "| metric | unit | SQLite | PostgreSQL | ceiling |\n|---|---|---|---|---|"
    )?;
    for (name, unit) in [
        (metric::INGEST, "statements/s"),
        (metric::P50, "ms"),
        (metric::P99, "ms"),
        (metric::TILE_GETS, "GETs/s"),
        (metric::BYTES_PER_ENTRY, "bytes/entry"),
    ] {
        let mut ceiling_text = "—".to_string();
        if name == metric::INGEST
            && let Some(verify) = verify
        {
            let ceiling = verify * raw.cores;
            ceiling_text = format!(
                "{} (one Ed25519 verify per statement on {} cores)",
                human(ceiling),
                raw.cores
            );
            for backend in ["SQLite", "PostgreSQL"] {
                if let Some(rate) = raw.median("log", name, backend, None) {
                    ratios.push(Ratio {
                        section: "log".into(),
                        name: format!("{name} ({backend})"),
                        size: None,
                        against: "ceiling".into(),
                        ratio: rate / ceiling,
                    });
                    write!(
                        ceiling_text,
                        "; {backend} at {:.1}%",
                        100.0 * rate / ceiling
                    )?;
                }
            }
        }
        writeln!(
            md,
            "| {name} | {unit} | {} | {} | {ceiling_text} |",
            cell(raw.find("log", name, "SQLite", None)),
            cell(raw.find("log", name, "PostgreSQL", None))
        )?;
    }

    writeln!(md, "\n## Witness (quorum-witness-bench, loopback HTTP)\n")?;
    writeln!(
        md,
        "| metric | unit | SQLite | PostgreSQL | ceiling |\n|---|---|---|---|---|"
    )?;
    let mut ceiling_text = "—".to_string();
    if let (Some(verify), Some(sign)) = (verify, sign) {
        let ceiling = raw.cores / (1.0 / verify + 1.0 / sign);
        ceiling_text = format!(
            "{} (one verify + one sign per request on {} cores)",
            human(ceiling),
            raw.cores
        );
        for backend in ["SQLite", "PostgreSQL"] {
            if let Some(rate) = raw.median("witness", metric::ADD_CHECKPOINT, backend, None) {
                ratios.push(Ratio {
                    section: "witness".into(),
                    name: format!("{} ({backend})", metric::ADD_CHECKPOINT),
                    size: None,
                    against: "ceiling".into(),
                    ratio: rate / ceiling,
                });
                write!(
                    ceiling_text,
                    "; {backend} at {:.1}%",
                    100.0 * rate / ceiling
                )?;
            }
        }
    }
    writeln!(
        md,
        "| {} | requests/s | {} | {} | {ceiling_text} |",
        metric::ADD_CHECKPOINT,
        cell(raw.find("witness", metric::ADD_CHECKPOINT, "SQLite", None)),
        cell(raw.find("witness", metric::ADD_CHECKPOINT, "PostgreSQL", None))
    )?;

    writeln!(md, "\n## Verifier (criterion benches)\n")?;
    writeln!(
        md,
        "| benchmark | unit | median (min–max) over criterion samples (one sample for the sync rate) |\n|---|---|---|"
    )?;
    for m in raw.measurements.iter().filter(|m| m.section == "verifier") {
        writeln!(md, "| {} | {} | {} |", m.name, m.unit, cell(Some(m)))?;
    }
    if !raw
        .measurements
        .iter()
        .any(|m| m.section == "verifier" && m.name.starts_with("mirror"))
    {
        writeln!(
            md,
            "| lockfile decisions against a mirror | — | placeholder: filled when `verifier/benches/mirror.rs` exists |"
        )?;
        writeln!(
            md,
            "| mirror sync speed | — | placeholder: filled when `verifier/benches/mirror.rs` exists |"
        )?;
    }

    writeln!(md, "\n## Agreement checks\n")?;
    writeln!(
        md,
        "Every implementation's root, inclusion proof of leaf n/3 and consistency proof from n/3+1 (SHA-256 of the proof's hashes, first 16 hex digits):\n"
    )?;
    writeln!(
        md,
        "| leaves | implementation | root | inclusion proof | consistency proof |\n|---|---|---|---|---|"
    )?;
    for check in &raw.checks {
        let short = |s: &Option<String>| {
            s.as_deref()
                .map_or("n/a".into(), |s| s.chars().take(16).collect::<String>())
        };
        writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            group_digits(check.size),
            check.implementation,
            &check.root.chars().take(16).collect::<String>(),
            short(&check.inclusion_proof_digest),
            short(&check.consistency_proof_digest)
        )?;
    }
    writeln!(md, "\nAll implementations agree.")?;

    writeln!(md, "\n## Furthest from the ceiling\n")?;
    let mut against_ceiling: Vec<&Ratio> =
        ratios.iter().filter(|r| r.against == "ceiling").collect();
    against_ceiling.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    for r in against_ceiling {
        let size = r
            .size
            .map_or(String::new(), |s| format!(", {} leaves", group_digits(s)));
        writeln!(
            md,
            "- {}{size}: {:.1}% of the ceiling",
            r.name,
            100.0 * r.ratio
        )?;
    }
    writeln!(md, "\n## Behind another implementation\n")?;
    let mut behind: Vec<&Ratio> = ratios
        .iter()
        .filter(|r| r.against != "ceiling" && r.ratio < 1.0)
        .collect();
    behind.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    if behind.is_empty() {
        writeln!(
            md,
            "- none: Quorum's median is at least every other implementation's everywhere"
        )?;
    }
    for r in behind {
        let size = r
            .size
            .map_or(String::new(), |s| format!(", {} leaves", group_digits(s)));
        writeln!(md, "- {}{size}: {:.2}× {}", r.name, r.ratio, r.against)?;
    }

    if !raw.skipped.is_empty() {
        writeln!(md, "\n## Not measured in this run\n")?;
        for skipped in &raw.skipped {
            writeln!(md, "- {skipped}")?;
        }
    }

    let results = Results {
        mode: raw.mode.clone(),
        command: raw.command.clone(),
        machine: raw.machine.clone(),
        rows: raw
            .measurements
            .iter()
            .map(|m| Row {
                measurement: m,
                summary: m.summary(),
            })
            .collect(),
        checks: &raw.checks,
        ratios,
        skipped: raw.skipped.clone(),
    };
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    std::fs::write(out.join("results.md"), md)?;
    Ok(())
}

/// `10000000` → `10,000,000`.
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_readable() {
        assert_eq!(human(1_234_567.0), "1.23 M");
        assert_eq!(human(45_600.0), "45.6 k");
        assert_eq!(human(512.0), "512");
        assert_eq!(human(2.5), "2.50");
        assert_eq!(group_digits(10_000_000), "10,000,000");
        assert_eq!(group_digits(999), "999");
    }

    fn raw_with_checks(checks: Vec<AgreementCheck>) -> Raw {
        Raw {
            measurements: Vec::new(),
            checks,
            skipped: Vec::new(),
            mode: String::new(),
            command: String::new(),
            machine: String::new(),
            cores: 2.0,
        }
    }

    fn check(implementation: &str, root: &str, consistency: Option<&str>) -> AgreementCheck {
        AgreementCheck {
            implementation: implementation.into(),
            size: 10,
            root: root.into(),
            inclusion_proof_digest: Some("aa".into()),
            consistency_proof_digest: consistency.map(Into::into),
        }
    }

    #[test]
    fn disagreeing_roots_or_proofs_fail_the_report() {
        let agree = raw_with_checks(vec![check("a", "r", Some("c")), check("b", "r", None)]);
        agree.check_agreement().expect("agree");
        let roots = raw_with_checks(vec![check("a", "r", None), check("b", "s", None)]);
        assert!(roots.check_agreement().is_err());
        let proofs = raw_with_checks(vec![check("a", "r", Some("c")), check("b", "r", Some("d"))]);
        assert!(proofs.check_agreement().is_err());
    }

    #[test]
    fn a_raw_directory_becomes_a_report() {
        let dir = std::env::temp_dir().join(format!("quorum-bench-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let file = MeasurementFile {
            measurements: vec![
                Measurement::new(
                    "ceilings",
                    ceiling::NODE_HASH,
                    ceilings::MACHINE,
                    None,
                    "hashes/s",
                    vec![4e6],
                ),
                Measurement::new(
                    "ceilings",
                    ceiling::LEAF_HASH,
                    ceilings::MACHINE,
                    None,
                    "hashes/s",
                    vec![8e6],
                ),
                Measurement::new(
                    "ceilings",
                    ceiling::VERIFY,
                    ceilings::MACHINE,
                    None,
                    "signatures/s",
                    vec![10_000.0],
                ),
                Measurement::new(
                    "ceilings",
                    ceiling::SIGN,
                    ceilings::MACHINE,
                    None,
                    "signatures/s",
                    vec![30_000.0],
                ),
                Measurement {
                    hashes_per_op: Some(2.0),
                    ..Measurement::new(
                        "merkle",
                        ops::TREE_HASHING,
                        implementations::QUORUM,
                        Some(100),
                        "leaves/s",
                        vec![1e6, 2e6, 1.5e6],
                    )
                },
                Measurement::new(
                    "merkle",
                    ops::TREE_HASHING,
                    implementations::TLOG_TILES,
                    Some(100),
                    "leaves/s",
                    vec![1e6],
                ),
            ],
            checks: vec![check("a", "r", None)],
        };
        std::fs::write(
            dir.join("merkle.json"),
            serde_json::to_string(&file).expect("json"),
        )
        .expect("write");
        std::fs::write(
            dir.join("log-sqlite-1.txt"),
            "ingest: 5000 statements/s\nsubmit->checkpoint (1 s interval): p50 500 ms, p99 900 ms\ntile GETs: 20000/s\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("witness-postgres-1.txt"),
            "x add-checkpoint requests in 1 s = 2500 requests/s\n",
        )
        .expect("write");
        std::fs::write(dir.join("go-tlog.skipped"), "Go is not installed").expect("write");
        let raw = load(&dir).expect("load");
        raw.check_agreement().expect("agree");
        let out = dir.join("out");
        write(&raw, &out).expect("write");
        let md = std::fs::read_to_string(out.join("results.md")).expect("md");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).expect("json"))
                .expect("parse");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        // Median of 1, 2, 1.5 M is 1.5 M; against tlog_tiles' 1 M that is 1.5×.
        assert!(md.contains("**1.50 M** (1.00 M–2.00 M)"), "{md}");
        assert!(md.contains("| 1.50× |"), "{md}");
        // Ceiling: 1 / (1/8M + 1/4M) = 2.67 M leaves/s; 1.5 / 2.67 = 56.2%.
        assert!(
            md.contains("tree hashing, 100 leaves: 56.2% of the ceiling"),
            "{md}"
        );
        assert!(md.contains("go-tlog: Go is not installed"));
        assert!(md.contains("placeholder: filled when `verifier/benches/mirror.rs` exists"));
        let ingest = json["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["name"] == metric::INGEST)
            .expect("ingest row");
        assert_eq!(ingest["implementation"], "SQLite");
        assert_eq!(ingest["summary"]["median"], 5000.0);
        assert!(
            json["ratios"]
                .as_array()
                .expect("ratios")
                .iter()
                .any(|r| r["against"] == "ceiling" && r["section"] == "witness")
        );
    }
}
