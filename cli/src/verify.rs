//! `quorum verify`, `quorum explain`, `quorum fetch`, `quorum checkpoint`: evidence in,
//! decisions out. Every check is in the library's client layer; this file picks the source,
//! prints and sets the exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use quorum_proto::prost::Message;
use quorum_proto::v1;
use quorum_verifier::client::checkpoint::{VerifiedCheckpoint, unix_now};
use quorum_verifier::client::evidence::VerifiedEvidence;
use quorum_verifier::client::mirror_store::Recheck;
use quorum_verifier::client::online::{Online, Progress, Tuning};
use quorum_verifier::client::{bundle, mirror};
use quorum_verifier::decision::{Affected, Claim, Decision, Evaluation, Rejected, Verdict};
use quorum_verifier::lockfile::{LockedPackage, Source as LockSource, read_lockfile};
use quorum_verifier::model::statement::parse_purl;
use quorum_verifier::policy::Policy;
use serde_json::{Value, json};

use crate::cli::{
    CheckpointArgs, CheckpointCommand, ExplainArgs, FetchArgs, Global, SourceOpts, VerifyArgs,
};
use crate::error::usage;
use crate::glue::{self, StderrProgress};
use crate::net::LogClient;
use crate::state::{MAX_EVIDENCE_SET, State, read_input, read_text, write_atomic};

/// Reads and parses a policy file; syntax errors name the line.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    if !path.exists() {
        return Err(usage(format!(
            "no policy at {}; write one (`quorum init`, or see cli/README.md) or pass --policy <file>",
            path.display()
        )));
    }
    let text = read_text(
        path,
        "policy",
        quorum_verifier::policy::MAX_POLICY_BYTES as u64,
    )?;
    Policy::parse(&text).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// One package version to decide on.
#[derive(Debug, Clone)]
struct Target {
    package: String,
    version: String,
    /// The lockfile entry, whose pinned digests and source bind the decision to an
    /// artifact; `None` for a bare `purl@version`.
    locked: Option<LockedPackage>,
}

impl Target {
    fn purl(&self) -> String {
        match &self.locked {
            Some(locked) => locked.purl(),
            None => format!("{}@{}", self.package, self.version),
        }
    }

    /// The decision: bound to the pinned artifact for a lockfile entry, unbound otherwise.
    fn decide(&self, evaluation: &Evaluation<'_>) -> Decision {
        match &self.locked {
            Some(locked) => evaluation.decide_locked(locked),
            None => evaluation.decide(&self.package, &self.version),
        }
    }
}

fn target_from_purl(purl: &str) -> anyhow::Result<Target> {
    let (package, version) =
        parse_purl(purl).map_err(|e| usage(format!("{purl:?} is not a valid purl: {e}")))?;
    let version = version.ok_or_else(|| {
        usage(format!(
            "{purl} has no version; name the exact version, e.g. {purl}@1.2.3"
        ))
    })?;
    Ok(Target {
        package,
        version,
        locked: None,
    })
}

/// Where evidence comes from.
enum Source {
    /// Saved evidence (`quorum fetch`).
    Bundle(PathBuf),
    /// The local mirror, and what to verify again in the entries loaded from it.
    Mirror(Recheck),
    /// The log's evidence API.
    Log(LogClient),
}

fn open_source(global: &Global, policy: &Policy, opts: &SourceOpts) -> anyhow::Result<Source> {
    if let Some(path) = &opts.bundle {
        return Ok(Source::Bundle(path.clone()));
    }
    if opts.mirror {
        return Ok(Source::Mirror(if opts.recheck_signatures {
            Recheck::Signatures
        } else {
            Recheck::Statements
        }));
    }
    let url = glue::log_url(global, Some(policy)).ok_or_else(|| {
        usage(
            "no log to ask: set [log] url in the policy, pass --log <url>, or decide offline with --bundle <file>",
        )
    })?;
    Ok(Source::Log(glue::log_client(global, &url)?))
}

/// Reads saved evidence: an `EvidenceSet` (protobuf). The older `EvidenceBundle` format
/// states no completeness and is refused with a hint.
pub fn read_evidence_set(path: &Path) -> anyhow::Result<v1::EvidenceSet> {
    let bytes = read_input(path, "saved evidence", MAX_EVIDENCE_SET)?;
    let set = v1::EvidenceSet::decode(bytes.as_slice()).map_err(|e| {
        usage(format!(
            "{} is not saved evidence (an EvidenceSet from `quorum fetch`): {e}",
            path.display()
        ))
    })?;
    if set.checkpoint.is_empty() {
        return Err(usage(format!(
            "{} holds no checkpoint: it is not evidence saved by `quorum fetch` (bundles of the older format state no completeness and are no longer accepted; fetch again)",
            path.display()
        )));
    }
    Ok(set)
}

/// The evidence for `packages` (purls without version) from `source`, complete or an
/// error.
fn gather(
    state: &State,
    policy: &Policy,
    source: &Source,
    packages: &[String],
    progress: &StderrProgress,
) -> anyhow::Result<VerifiedEvidence> {
    let trust = glue::log_trust(policy)?;
    let memory = state.memory();
    state.ensure()?;
    let now = unix_now();
    let evidence = match source {
        Source::Bundle(path) => {
            let set = read_evidence_set(path)?;
            bundle::verify_set(
                &set,
                &trust,
                &memory,
                policy,
                packages,
                now,
                &path.display().to_string(),
            )
        }
        Source::Mirror(recheck) => mirror::load(
            &state.mirror_dir(trust.origin()),
            &trust,
            &memory,
            policy,
            packages,
            *recheck,
            now,
        ),
        Source::Log(client) => {
            let cache = state.trust_graph_path(trust.origin());
            let verified_cache = state.verified_entries_path();
            Online {
                fetcher: client,
                trust: &trust,
                memory: &memory,
                policy,
                cache: Some(&cache),
                verified_cache: Some(&verified_cache),
                now,
                progress,
                tuning: Tuning::default(),
            }
            .evidence(packages)
        }
    }
    .map_err(glue::client_error)?;
    for w in &evidence.warnings {
        eprintln!("warning: {w}");
    }
    Ok(evidence)
}

/// Decides on every target from one body of evidence.
fn decide_all(
    global: &Global,
    policy: &Policy,
    source: &Source,
    targets: &[Target],
) -> anyhow::Result<(VerifiedEvidence, Vec<(Target, Decision)>)> {
    let state = State::open(global)?;
    let packages: Vec<String> = targets
        .iter()
        .map(|t| t.package.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let progress = StderrProgress::new(global.json);
    let evidence = gather(&state, policy, source, &packages, &progress)?;
    // Trust weights depend on the evidence, not on the package: computed once for every
    // target.
    progress.update("trust weights", 0, None);
    let evaluation = Evaluation::new(
        policy,
        &evidence.statements,
        evidence.checkpoint.decision_time,
    )
    .map_err(|e| usage(format!("the policy cannot be applied: {e}")))?;
    progress.update("deciding", 0, None);
    let decisions = targets
        .iter()
        .map(|t| (t.clone(), t.decide(&evaluation)))
        .collect();
    progress.update("done", 0, None);
    Ok((evidence, decisions))
}

fn exit_code(decisions: &[(Target, Decision)]) -> u8 {
    if decisions.iter().any(|d| d.1.verdict == Verdict::Deny) {
        1
    } else if decisions
        .iter()
        .any(|d| d.1.verdict == Verdict::InsufficientEvidence)
    {
        2
    } else {
        0
    }
}

fn describe(size: u64, root: &[u8; 32]) -> String {
    format!(
        "size {size} root {}",
        base64::engine::general_purpose::STANDARD.encode(root)
    )
}

fn checkpoint_json(cp: &VerifiedCheckpoint) -> Value {
    json!({
        "origin": cp.checkpoint.origin,
        "size": cp.size(),
        "root_hash": base64::engine::general_purpose::STANDARD.encode(cp.root()),
        "time": cp.decision_time,
    })
}

/// The entries about `t`'s package that did not count: those the decision set aside and those
/// the evidence set aside before it (unverifiable, or by a signer no root reaches), by index.
/// `set_aside` is [`VerifiedEvidence::rejected_by_package`], built once per run.
fn not_counted(t: &Target, d: &Decision, set_aside: &BTreeMap<&str, Vec<&Rejected>>) -> Vec<Value> {
    let mut all: Vec<(u64, &str)> = d
        .rejected
        .iter()
        .map(|r| (r.index, r.reason.as_str()))
        .collect();
    all.extend(
        set_aside
            .get(t.package.as_str())
            .into_iter()
            .flatten()
            .map(|r| (r.index, r.reason.as_str())),
    );
    all.sort_by_key(|(index, _)| *index);
    all.into_iter()
        .map(|(index, reason)| json!({"index": index, "reason": reason}))
        .collect()
}

fn decision_json(
    t: &Target,
    d: &Decision,
    ev: &VerifiedEvidence,
    set_aside: &BTreeMap<&str, Vec<&Rejected>>,
) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert(
            "rejected".into(),
            Value::Array(not_counted(t, d, set_aside)),
        );
        map.insert("purl".into(), json!(t.purl()));
        map.insert("checkpoint".into(), checkpoint_json(&ev.checkpoint));
        map.insert("entries_counted".into(), json!(d.counted.len()));
        map.insert("completeness".into(), json!(ev.completeness.as_str()));
    }
    v
}

fn checkpoint_line(ev: &VerifiedEvidence) -> String {
    format!(
        "checkpoint {} {}  completeness {}",
        ev.checkpoint.checkpoint.origin,
        describe(ev.checkpoint.size(), ev.checkpoint.root()),
        ev.completeness.as_str()
    )
}

/// `quorum verify`.
pub fn verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let (targets, local) = match (&args.purl, &args.lockfile) {
        (Some(p), _) => (vec![target_from_purl(p)?], Vec::new()),
        (None, Some(path)) => lockfile_targets(path)?,
        (None, None) => return Err(usage("give a purl@version or --lockfile <file>")),
    };
    let source = open_source(global, &policy, &args.source)?;
    let (evidence, decisions) = decide_all(global, &policy, &source, &targets)?;
    let code = exit_code(&decisions);
    let policy_sha = hex::encode(policy.sha256);
    let summary = crate::output::Summary::of(decisions.iter().map(|(_, d)| d), local.len());
    let shown: Vec<_> = decisions
        .iter()
        .filter(|(_, d)| !args.only_failing || d.verdict != Verdict::Allow)
        .collect();
    if global.json {
        let overall = match code {
            0 => "allow",
            1 => "deny",
            _ => "insufficient-evidence",
        };
        let set_aside = evidence.rejected_by_package();
        let out = json!({
            "verdict": overall,
            "exit_code": code,
            "policy_sha256": policy_sha,
            "completeness": evidence.completeness.as_str(),
            "checkpoint": checkpoint_json(&evidence.checkpoint),
            "summary": summary.to_json(),
            "decisions": shown
                .iter()
                .map(|(t, d)| decision_json(t, d, &evidence, &set_aside))
                .collect::<Vec<_>>(),
            "local": local
                .iter()
                .map(|p| json!({"purl": p.purl(), "source": p.source.describe()}))
                .collect::<Vec<_>>(),
        });
        // Written as it is serialized: a lockfile's report can be megabytes. Through a
        // buffer, because standard output flushes at every newline, and a pretty report has
        // a line per value: one system call (and, into a pipe, one wake-up of the reader) per
        // line.
        let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, &out)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .and_then(|()| stdout.flush())
            .context("writing the report")?;
        // The process ends now: freeing the evidence and the report piece by piece (hundreds
        // of thousands of small allocations for a large lockfile) would only delay the exit.
        std::mem::forget(out);
    } else {
        crate::output::print_table(&shown.iter().map(|(t, d)| (t.purl(), d)).collect::<Vec<_>>());
        println!("{}", checkpoint_line(&evidence));
        println!("policy sha256 {policy_sha}");
        println!("{}", summary.line());
    }
    std::mem::forget(decisions);
    std::mem::forget(evidence);
    Ok(code)
}

/// A lockfile's entries to decide, and its path entries (the project's own code and local
/// checkouts), which no registry statement speaks of and which are listed, not decided.
fn lockfile_targets(path: &Path) -> anyhow::Result<(Vec<Target>, Vec<LockedPackage>)> {
    let text = read_text(
        path,
        "lockfile",
        quorum_verifier::lockfile::MAX_LOCKFILE_BYTES as u64,
    )?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let locked = read_lockfile(name, &text)
        .map_err(|e| usage(format!("{}: {e}", path.display())))?
        .packages;
    if locked.is_empty() {
        return Err(usage(format!("{} pins no packages", path.display())));
    }
    let (local, decided): (Vec<LockedPackage>, Vec<LockedPackage>) = locked
        .into_iter()
        .partition(|p| matches!(p.source, LockSource::Path { .. }));
    let targets = decided
        .into_iter()
        .map(|p| Target {
            package: p.package.clone(),
            version: p.version.clone(),
            locked: Some(p),
        })
        .collect();
    Ok((targets, local))
}

/// The decisions on every version `lockfile` pins, from the log (for `quorum init
/// --from-cargo-vet`'s report).
pub(crate) fn decide_lockfile(
    global: &Global,
    lockfile: &Path,
) -> anyhow::Result<Vec<(String, Decision)>> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    // Path entries (the project's own crates) are not decided: the report is about what the
    // registry serves.
    let (targets, _local) = lockfile_targets(lockfile)?;
    let source = open_source(global, &policy, &SourceOpts::default())?;
    let (_, decisions) = decide_all(global, &policy, &source, &targets)?;
    Ok(decisions.into_iter().map(|(t, d)| (t.purl(), d)).collect())
}

/// `quorum explain`.
pub fn explain(global: &Global, args: &ExplainArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let target = target_from_purl(&args.purl)?;
    let source = open_source(global, &policy, &args.source)?;
    let (ev, mut decisions) = decide_all(global, &policy, &source, std::slice::from_ref(&target))?;
    let code = exit_code(&decisions);
    let Some((t, d)) = decisions.pop() else {
        return Err(usage("nothing to explain"));
    };
    let counted: Vec<Value> = d
        .counted
        .iter()
        .flat_map(|index| ev.statements.iter().filter(move |s| s.index == *index))
        .map(|s| {
            let signer = hex::encode(s.signer);
            json!({
                "index": s.index,
                "signer": signer,
                "weight": d.weights.get(&signer).copied().unwrap_or(0.0),
                "envelope_digest": hex::encode(s.envelope_digest),
                "claim": claim_text(&s.claim),
            })
        })
        .collect();
    // Every entry about the package that did not count, then the trust graph's that failed.
    let set_aside = ev.rejected_by_package();
    let mut rejected = not_counted(&t, &d, &set_aside);
    for r in ev
        .rejected
        .iter()
        .filter(|r| !ev.rejected_about.contains_key(&r.index))
    {
        rejected.push(json!({"index": r.index, "reason": r.reason}));
    }
    if global.json {
        let out = json!({
            "decision": decision_json(&t, &d, &ev, &set_aside),
            "policy_sha256": hex::encode(policy.sha256),
            "counted": counted,
            "rejected": rejected,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        crate::output::print_explain(&t.purl(), &d, &counted, &rejected);
        println!("{}", checkpoint_line(&ev));
    }
    Ok(code)
}

/// A one-line description of a claim.
pub fn claim_text(claim: &Claim) -> String {
    match claim {
        Claim::Adoption {
            package,
            version,
            adopted,
            ..
        } => format!(
            "{} {package}@{version}",
            if *adopted { "adopted" } else { "rejected" }
        ),
        Claim::Audit {
            package,
            version,
            passed,
            criteria,
            ..
        } => format!(
            "audit {} of {package}@{version} ({})",
            if *passed { "pass" } else { "fail" },
            criteria.join(", ")
        ),
        Claim::Advisory {
            package,
            ids,
            kind,
            affected,
            fixed,
            ..
        } => format!(
            "{} advisory {} for {package}: affected {} fixed [{}]",
            kind.as_str(),
            ids.join(" "),
            match affected {
                Affected::Nothing => "none".to_string(),
                Affected::Versions(v) => format!("[{}]", v.join(", ")),
                Affected::AllNotFixed => "every version not fixed".to_string(),
                Affected::Osv { .. } => "OSV ranges".to_string(),
            },
            fixed.join(", ")
        ),
        Claim::CargoVet { package, claim } => match package {
            Some(package) => format!("{} for {package}", claim.describe()),
            None => claim.describe(),
        },
        other => format!("{other:?}"),
    }
}

/// `quorum fetch`: saves the evidence for packages (every entry about them and the whole
/// trust graph, in verified pages, with the checkpoint) for offline `verify --bundle`.
pub fn fetch(global: &Global, args: &FetchArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let mut packages = BTreeSet::new();
    for purl in &args.purls {
        let (package, _) =
            parse_purl(purl).map_err(|e| usage(format!("{purl:?} is not a valid purl: {e}")))?;
        packages.insert(package);
    }
    let packages: Vec<String> = packages.into_iter().collect();
    let Source::Log(client) = open_source(
        global,
        &policy,
        &SourceOpts {
            bundle: None,
            mirror: false,
            recheck_signatures: false,
        },
    )?
    else {
        return Err(usage("fetch needs a log"));
    };
    let trust = glue::log_trust(&policy)?;
    let memory = state.memory();
    state.ensure()?;
    let progress = StderrProgress::new(global.json);
    let (checkpoint, set) = Online {
        fetcher: &client,
        trust: &trust,
        memory: &memory,
        policy: &policy,
        cache: None,
        verified_cache: None,
        now: unix_now(),
        progress: &progress,
        tuning: Tuning::default(),
    }
    .evidence_set(&packages)
    .map_err(glue::client_error)?;
    let entries: usize = set.pages.iter().map(|p| p.entries.len()).sum();
    write_atomic(&args.out, &set.encode_to_vec())?;
    if global.json {
        println!(
            "{}",
            json!({"out": args.out.display().to_string(), "entries": entries,
                   "pages": set.pages.len(), "packages": packages,
                   "checkpoint": checkpoint_json(&checkpoint)})
        );
    } else {
        println!(
            "saved {entries} entries ({} pages) about {} and the trust graph at checkpoint {} {} to {}",
            set.pages.len(),
            packages.join(", "),
            checkpoint.checkpoint.origin,
            describe(checkpoint.size(), checkpoint.root()),
            args.out.display()
        );
    }
    Ok(0)
}

/// `quorum checkpoint show|conflicts`.
pub fn checkpoint(global: &Global, args: &CheckpointArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let trust = glue::log_trust(&policy)?;
    let memory = state.memory();
    match args.command {
        CheckpointCommand::Show => {
            let stored = memory
                .stored(trust.origin())
                .map_err(|e| glue::client_error(e.into()))?;
            let Some(stored) = stored else {
                return Err(usage(format!(
                    "no checkpoint of {} accepted yet",
                    trust.origin()
                )));
            };
            if global.json {
                println!(
                    "{}",
                    json!({"origin": stored.checkpoint.origin, "size": stored.checkpoint.size,
                           "root_hash": base64::engine::general_purpose::STANDARD.encode(stored.checkpoint.root_hash),
                           "note": String::from_utf8_lossy(&stored.note)})
                );
            } else {
                print!("{}", String::from_utf8_lossy(&stored.note));
            }
            Ok(0)
        }
        CheckpointCommand::Conflicts => {
            let conflicts = memory
                .conflicts(trust.origin())
                .map_err(|e| glue::client_error(e.into()))?;
            if global.json {
                let list: Vec<Value> = conflicts
                    .iter()
                    .map(|c| {
                        let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
                        if let Value::Object(map) = &mut v {
                            map.insert("proves_fork".into(), json!(c.proves_fork()));
                        }
                        v
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else if conflicts.is_empty() {
                println!(
                    "no conflicting checkpoint of {} was refused",
                    trust.origin()
                );
            } else {
                for (i, c) in conflicts.iter().enumerate() {
                    println!(
                        "== conflict {}: {} from {} at {} (Unix time){}",
                        i + 1,
                        c.kind,
                        c.source,
                        c.detected_at,
                        if c.proves_fork() {
                            "; the two notes alone prove a fork: same size, different roots"
                        } else {
                            ""
                        }
                    );
                    println!("reason: {}", c.reason);
                    println!("-- checkpoint accepted before:");
                    print!("{}", c.stored_note);
                    println!("-- checkpoint refused:");
                    print!("{}", c.served_note);
                    if !c.proof.is_empty() {
                        println!("-- consistency proof that failed:");
                        for h in &c.proof {
                            println!("{h}");
                        }
                    }
                }
            }
            Ok(0)
        }
    }
}
