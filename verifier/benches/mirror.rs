//! `verify --mirror` at scale: a 500-package lockfile decided against a local mirror of
//! 1,000,000 entries, with the same store code the `quorum` binary runs
//! (`quorum_verifier::client::mirror_store`).
//!
//! The mirror is generated once into a temporary directory: 10,000 packages of 3 versions,
//! 5,000 signers, a trust graph (a root, 50 keys it trusts, 40 keys each of those trusts,
//! and a 500-key sybil ring nobody trusted reaches), 30,000 audits, 20 advisories, 100
//! revocations, adoptions for the rest. Generation signs every entry and then runs the
//! mirror's own append path (verify, index, write), whose speed is reported as the sync rate
//! without network.
//!
//! Timed: loading the lockfile's packages plus the trust graph from the mirror (root
//! recomputed from the leaf hashes, each loaded entry checked against its leaf hash and its
//! signature and statement verified), trust propagation, and 500 decisions.
//!
//! Run: `cargo bench -p quorum-verifier --bench mirror` (set `QUORUM_BENCH_MIRROR_ENTRIES`
//! to try another size).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use quorum_verifier::client::mirror_store as store;
use quorum_verifier::client::trust_graph::Seeds;
use quorum_verifier::decision::{Evaluation, Verdict};
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, SigningKey};
use quorum_verifier::model::log_entry::LogEntry;
use quorum_verifier::model::predicates::{
    Adoption, AdoptionStatus, Audit, OpenVex, Predicate, Revocation, Trust, TrustLevel,
    Verdict as AuditVerdict, VexProduct, VexStatement, VexStatus, VexVulnerability,
};
use quorum_verifier::model::statement::Subject;
use quorum_verifier::policy::Policy;

const PACKAGES: u64 = 10_000;
const VERSIONS: u64 = 3;
const SIGNERS: u64 = 5_000;
const LOCKFILE: u64 = 500;

/// SplitMix64: a fixed, dependency-free generator so every run builds the same log.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn signer(n: u64) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&n.to_be_bytes());
    seed[31] = 0x5a;
    SigningKey::from_bytes(&seed)
}

fn package(n: u64) -> String {
    format!("pkg:cargo/crate-{n:05}")
}

fn version(n: u64) -> String {
    format!("1.0.{n}")
}

/// What one generated entry says: (signer, predicate, subjects).
fn plan(index: u64, keys: &[[u8; 32]], digests: &[[u8; 32]]) -> (u64, Predicate, Vec<Subject>) {
    let mut rng = index ^ 0x51ed_2701;
    let r = splitmix(&mut rng);
    // The trust graph first, as a log's early history would have it, then a mix.
    let trust_edges = 50 + 50 * 40 + 500;
    if index < trust_edges {
        let (from, to, level) = if index < 50 {
            (0, 1 + index, TrustLevel::High)
        } else if index < 50 + 50 * 40 {
            let i = index - 50;
            (1 + i / 40, 51 + i, TrustLevel::Medium)
        } else {
            // The sybil ring: keys 4,000..4,499 vouch for each other.
            let i = index - 50 - 50 * 40;
            (4_000 + i, 4_000 + (i + 1) % 500, TrustLevel::High)
        };
        let predicate = Predicate::Trust(Trust {
            key: hex::encode(keys[to as usize]),
            level,
            scope: None,
            comment: None,
        });
        return (from, predicate, vec![Subject::key(&keys[to as usize])]);
    }
    let pkg = splitmix(&mut rng) % PACKAGES;
    let ver = splitmix(&mut rng) % VERSIONS;
    let purl = format!("{}@{}", package(pkg), version(ver));
    let digest = digests[(pkg * VERSIONS + ver) as usize];
    match r % 1000 {
        // Audits by the first 200 trusted keys.
        0..=29 => (
            1 + splitmix(&mut rng) % 200,
            Predicate::Audit(Audit {
                verdict: AuditVerdict::Pass,
                criteria: vec!["safe-to-deploy".into()],
                capabilities: Some(vec![]),
                notes: None,
            }),
            vec![Subject::package_version(&purl, digest)],
        ),
        // Rare advisories and revocations.
        30 if index.is_multiple_of(50) => (
            1 + splitmix(&mut rng) % 50,
            Predicate::Advisory(OpenVex {
                context: "https://openvex.dev/ns/v0.2.0".into(),
                id: format!("urn:bench:{index}"),
                author: "bench".into(),
                role: None,
                timestamp: "2025-01-01T00:00:00Z".into(),
                version: 1,
                statements: vec![VexStatement {
                    vulnerability: VexVulnerability {
                        id: None,
                        name: format!("MAL-2025-{index}"),
                        description: None,
                        aliases: vec![],
                    },
                    products: vec![VexProduct {
                        id: purl.clone(),
                        identifiers: None,
                    }],
                    status: VexStatus::Affected,
                    justification: None,
                    impact_statement: None,
                    action_statement: Some("remove it".into()),
                    status_notes: None,
                }],
            }),
            vec![Subject::package(&package(pkg))],
        ),
        31 if index.is_multiple_of(10) => (
            1 + splitmix(&mut rng) % 50,
            Predicate::Revocation(Revocation {
                envelope_digest: hex::encode(digests[(r % 1000) as usize]),
                reason: None,
                provenance: None,
            }),
            vec![Subject::envelope(&digests[(r % 1000) as usize])],
        ),
        _ => (
            splitmix(&mut rng) % SIGNERS,
            Predicate::Adoption(Adoption {
                status: AdoptionStatus::Adopted,
                comment: None,
            }),
            vec![Subject::package_version(&purl, digest)],
        ),
    }
}

struct Mirror {
    _dir: Option<tempfile::TempDir>,
    path: std::path::PathBuf,
    lengths: store::Lengths,
    root: [u8; 32],
    policy: Policy,
    seeds: Seeds,
    lockfile: Vec<(String, String)>,
}

/// The mirror: generated into a temporary directory, or, with `QUORUM_BENCH_MIRROR_DIR`,
/// into that directory once and reused by later runs.
fn build_mirror(total: u64) -> Mirror {
    let (dir, path) = match std::env::var_os("QUORUM_BENCH_MIRROR_DIR") {
        Some(p) => (None, std::path::PathBuf::from(p).join(total.to_string())),
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    let meta = path.join("bench-lengths.json");
    let lengths = match std::fs::read(&meta) {
        Ok(bytes) => serde_json::from_slice(&bytes).expect("bench-lengths.json"),
        Err(_) => {
            std::fs::create_dir_all(&path).expect("mirror dir");
            let lengths = generate(&path, total);
            std::fs::write(&meta, serde_json::to_vec(&lengths).expect("json")).expect("write");
            lengths
        }
    };
    let leaves = store::MirrorFiles { dir: path.clone() }
        .read_leaves(lengths.size)
        .expect("leaves");
    let root = quorum_c2sp::merkle::root_of_leaf_hashes(&leaves).expect("whole hashes");
    let policy = Policy::parse(&format!(
        "[trust]\nroots = [\"{}\"]\n\n[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = 0.3\nmin_adopters = 2\n",
        hex::encode(signer(0).verifying_key().to_bytes())
    ))
    .expect("policy");
    let lockfile = (0..LOCKFILE)
        .map(|i| (package(i * (PACKAGES / LOCKFILE)), version(i % VERSIONS)))
        .collect();
    let seeds = Seeds::of(&policy).expect("seeds");
    Mirror {
        _dir: dir,
        path,
        lengths,
        root,
        policy,
        seeds,
        lockfile,
    }
}

/// Signs `total` entries and appends them through the mirror's own append path.
fn generate(path: &std::path::Path, total: u64) -> store::Lengths {
    let signing: Vec<SigningKey> = (0..SIGNERS).map(signer).collect();
    let keys: Vec<[u8; 32]> = signing
        .iter()
        .map(|k| k.verifying_key().to_bytes())
        .collect();
    let digests: Vec<[u8; 32]> = (0..PACKAGES * VERSIONS)
        .map(|i| {
            let mut d = [0u8; 32];
            d[..8].copy_from_slice(&i.to_be_bytes());
            d
        })
        .collect();
    let mut writer = store::MirrorWriter::open(path, store::Lengths::default()).expect("open");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut sync_time = Duration::ZERO;
    let chunk = 8_192u64;
    let mut next = 0u64;
    while next < total {
        let end = (next + chunk).min(total);
        let per = (end - next).div_ceil(threads as u64);
        let entries: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let (keys, digests, signing) = (&keys, &digests, &signing);
                    scope.spawn(move || {
                        let from = next + t * per;
                        let to = (from + per).min(end);
                        (from..to)
                            .map(|i| {
                                let (who, predicate, subjects) = plan(i, keys, digests);
                                let key = &signing[who as usize];
                                let statement = predicate.into_statement(subjects);
                                LogEntry {
                                    receipt_time_millis: 1_700_000_000_000 + i as i64,
                                    envelope: Envelope::sign(
                                        IN_TOTO_PAYLOAD_TYPE,
                                        statement.to_json(),
                                        key,
                                    ),
                                    public_key: keys[who as usize],
                                }
                                .encode()
                                .expect("entry fits")
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("generator thread"))
                .collect()
        });
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let t = Instant::now();
        writer.append(&refs).expect("append");
        sync_time += t.elapsed();
        next = end;
    }
    let lengths = writer.lengths();
    let t = Instant::now();
    let leaves = store::MirrorFiles {
        dir: path.to_path_buf(),
    }
    .read_leaves(lengths.size)
    .expect("leaves");
    std::hint::black_box(quorum_c2sp::merkle::root_of_leaf_hashes(&leaves).expect("whole hashes"));
    sync_time += t.elapsed();
    println!(
        "mirror: generated {total} entries in {:.1} s; sync without network (verify, index, write, root): {:.0} entries/s",
        started.elapsed().as_secs_f64(),
        total as f64 / sync_time.as_secs_f64()
    );
    lengths
}

/// Decides the lockfile against the mirror; returns (entries' claims loaded, verdict counts).
fn decide_lockfile(m: &Mirror, recheck: store::Recheck) -> (usize, [usize; 3]) {
    let packages: Vec<String> = m.lockfile.iter().map(|(p, _)| p.clone()).collect();
    let loaded = store::load_for_packages(
        &m.path,
        m.lengths,
        &m.root,
        &packages,
        &[(m.lengths.size, 1_750_000_000)],
        recheck,
        &m.seeds,
    )
    .expect("load");
    let evaluation =
        Evaluation::new(&m.policy, &loaded.statements, 1_750_000_000).expect("evaluation");
    let mut verdicts = [0usize; 3];
    for (p, v) in &m.lockfile {
        let d = evaluation.decide(p, v);
        verdicts[match d.verdict {
            Verdict::Allow => 0,
            Verdict::Deny => 1,
            Verdict::InsufficientEvidence => 2,
        }] += 1;
    }
    (loaded.statements.len(), verdicts)
}

fn bench_mirror(c: &mut Criterion) {
    let total: u64 = std::env::var("QUORUM_BENCH_MIRROR_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mirror = build_mirror(total);
    let (claims, verdicts) = decide_lockfile(&mirror, store::Recheck::Statements);
    println!(
        "mirror: {claims} claims loaded for {LOCKFILE} packages + trust graph; allow {} deny {} insufficient {}",
        verdicts[0], verdicts[1], verdicts[2]
    );
    assert_eq!(
        decide_lockfile(&mirror, store::Recheck::Signatures),
        (claims, verdicts),
        "both modes decide alike"
    );
    if std::env::var_os("QUORUM_BENCH_PHASES").is_some() {
        print_phases(&mirror);
    }
    let mut group = c.benchmark_group("mirror");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let mut medians = Vec::new();
    for (name, recheck) in [
        ("", store::Recheck::Statements),
        (" --recheck-signatures", store::Recheck::Signatures),
    ] {
        let mut samples: Vec<Duration> = Vec::new();
        let id = format!(
            "lockfile_{LOCKFILE}_vs_{total}_entries{}",
            name.replace(" --", "_").replace('-', "_")
        );
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(decide_lockfile(&mirror, recheck));
                }
                let elapsed = start.elapsed();
                samples.push(elapsed / iters.max(1) as u32);
                elapsed
            })
        });
        samples.sort();
        if let Some(median) = samples.get(samples.len() / 2) {
            medians.push(format!(
                "mirror: lockfile {LOCKFILE} pkgs vs {total} entries{name}: median {:.0} ms ({} samples)",
                median.as_secs_f64() * 1000.0,
                samples.len()
            ));
        }
    }
    group.finish();
    // CPU time is less sensitive than wall time to other processes on a shared machine.
    for (name, recheck) in [
        ("", store::Recheck::Statements),
        (" --recheck-signatures", store::Recheck::Signatures),
    ] {
        let runs = 5;
        let (cpu0, wall0) = (process_cpu_seconds(), Instant::now());
        for _ in 0..runs {
            std::hint::black_box(decide_lockfile(&mirror, recheck));
        }
        if let (Some(a), Some(b)) = (cpu0, process_cpu_seconds()) {
            medians.push(format!(
                "mirror: lockfile {LOCKFILE} pkgs vs {total} entries{name}: {:.0} ms CPU per lockfile (all threads; wall {:.0} ms)",
                (b - a) / f64::from(runs) * 1000.0,
                wall0.elapsed().as_secs_f64() / f64::from(runs) * 1000.0
            ));
        }
    }
    for line in medians {
        println!("{line}");
    }
}

/// User plus system CPU seconds of this process so far (Linux `/proc/self/stat`, in clock
/// ticks of 1/100 s).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Where the time goes (`QUORUM_BENCH_PHASES=1`).
fn print_phases(mirror: &Mirror) {
    let packages: Vec<String> = mirror.lockfile.iter().map(|(p, _)| p.clone()).collect();
    let t = Instant::now();
    let files = store::MirrorFiles {
        dir: mirror.path.clone(),
    };
    let _ = files.check_root(mirror.lengths.size, &mirror.root);
    println!("phase: root from leaf hashes {:?}", t.elapsed());
    for recheck in [store::Recheck::Statements, store::Recheck::Signatures] {
        let t = Instant::now();
        let loaded = store::load_for_packages(
            &mirror.path,
            mirror.lengths,
            &mirror.root,
            &packages,
            &[],
            recheck,
            &mirror.seeds,
        )
        .expect("load");
        println!("phase: load ({recheck:?}) {:?}", t.elapsed());
        let t = Instant::now();
        let evaluation =
            Evaluation::new(&mirror.policy, &loaded.statements, 1_750_000_000).expect("evaluation");
        println!("phase: trust weights {:?}", t.elapsed());
        let t = Instant::now();
        for (p, v) in &mirror.lockfile {
            std::hint::black_box(evaluation.decide(p, v));
        }
        println!("phase: {LOCKFILE} decisions {:?}", t.elapsed());
    }
    let data = std::fs::read(mirror.path.join("entries.bin")).expect("entries");
    let mut raw: Vec<&[u8]> = Vec::new();
    let mut at = 0usize;
    while at + 2 <= data.len() && raw.len() < 3000 {
        let len = usize::from(u16::from_be_bytes([data[at], data[at + 1]]));
        raw.push(&data[at + 2..at + 2 + len]);
        at += 2 + len;
    }
    let t = Instant::now();
    for e in &raw {
        std::hint::black_box(quorum_verifier::model::log_entry::verify_log_entry(e).is_ok());
    }
    println!(
        "phase: verify_log_entry on one thread, per entry {:?}",
        t.elapsed() / raw.len() as u32
    );
    let t = Instant::now();
    for e in &raw {
        let d = LogEntry::decode(e).expect("decode");
        let st = quorum_verifier::model::statement::Statement::from_json(&d.envelope.payload)
            .expect("json");
        std::hint::black_box(quorum_verifier::model::predicates::validate_statement(&st).is_ok());
    }
    println!(
        "phase: decode and validate without the signature, per entry {:?}",
        t.elapsed() / raw.len() as u32
    );
}

criterion_group!(benches, bench_mirror);
criterion_main!(benches);
