//! `quorum verify`, `quorum explain`, `quorum fetch`: evidence in, decisions out.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use base64::Engine as _;
use quorum_proto::prost::Message;
use quorum_proto::v1;
use quorum_verifier::decision::{Claim, Decision, Evaluation, Verdict};
use quorum_verifier::lockfile::parse_lockfile;
use quorum_verifier::model::statement::parse_purl;
use quorum_verifier::policy::Policy;
use serde_json::{Value, json};

use crate::cli::{ExplainArgs, FetchArgs, Global, SourceOpts, VerifyArgs};
use crate::error::{evidence, usage};
use crate::glue::{self, VerifiedEvidence};
use crate::net::{LogClient, MAX_BUNDLE, query_escape};
use crate::state::{State, read_input, read_text, write_atomic};

/// Reads and parses a policy file; syntax errors name the line.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    if !path.exists() {
        return Err(usage(format!(
            "no policy at {}; write one (see verifier/README.md) or pass --policy <file>",
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
}

impl Target {
    fn purl(&self) -> String {
        format!("{}@{}", self.package, self.version)
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
    Ok(Target { package, version })
}

/// Where evidence comes from, and what completeness it gives.
enum Source {
    /// A saved bundle.
    Bundle(v1::EvidenceBundle),
    /// The local mirror, and what to verify again in the entries loaded from it.
    Mirror(quorum_verifier::client::mirror_store::Recheck),
    /// The log's evidence endpoint.
    Log(LogClient),
}

impl Source {
    fn completeness(&self) -> &'static str {
        match self {
            Source::Mirror(_) => "complete",
            _ => "served",
        }
    }
}

fn open_source(global: &Global, policy: &Policy, opts: &SourceOpts) -> anyhow::Result<Source> {
    if let Some(path) = &opts.bundle {
        return Ok(Source::Bundle(read_bundle(path)?));
    }
    if opts.mirror {
        return Ok(Source::Mirror(if opts.recheck_signatures {
            quorum_verifier::client::mirror_store::Recheck::Signatures
        } else {
            quorum_verifier::client::mirror_store::Recheck::Statements
        }));
    }
    let url = match (&global.log, policy.log.as_ref().and_then(|l| l.url.clone())) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u,
        (None, None) => {
            return Err(usage(
                "no log to ask: set [log] url in the policy, pass --log <url>, or decide offline with --bundle <file>",
            ));
        }
    };
    Ok(Source::Log(LogClient::new(&url)?))
}

/// Parses a bundle: proto3 JSON if it starts with `{`, else binary protobuf.
pub fn parse_bundle(bytes: &[u8], what: &str) -> anyhow::Result<v1::EvidenceBundle> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        serde_json::from_slice(bytes)
            .map_err(|e| usage(format!("{what} is not an evidence bundle (JSON): {e}")))
    } else {
        v1::EvidenceBundle::decode(bytes)
            .map_err(|e| usage(format!("{what} is not an evidence bundle (protobuf): {e}")))
    }
}

fn read_bundle(path: &Path) -> anyhow::Result<v1::EvidenceBundle> {
    let bytes = read_input(path, "bundle", MAX_BUNDLE)?;
    parse_bundle(&bytes, &path.display().to_string())
}

/// Fetches the evidence bundle of a package from the log.
///
/// `since` is the size of the last checkpoint this client saw of the log: the log then adds
/// a consistency proof from it, so the new checkpoint can be checked against the old one.
fn fetch_bundle(
    client: &LogClient,
    package: &str,
    since: Option<u64>,
) -> anyhow::Result<(Vec<u8>, v1::EvidenceBundle)> {
    let mut path = format!("/v1/evidence?purl={}", query_escape(package));
    if let Some(size) = since {
        path.push_str(&format!("&since={size}"));
    }
    let bytes = client.get_ok(&path, MAX_BUNDLE)?;
    let bundle = parse_bundle(&bytes, &format!("the log's answer for {package}"))
        .map_err(|e| evidence(format!("{e:#}")))?;
    Ok((bytes, bundle))
}

/// The log section of the policy, required to verify anything.
fn log_origin(policy: &Policy) -> anyhow::Result<String> {
    policy
        .log
        .as_ref()
        .map(|l| l.origin.clone())
        .ok_or_else(|| {
            usage("the policy has no [log] section (origin, key, url): add one to verify evidence")
        })
}

/// Parses a stored or served checkpoint note into (size, root) for the rollback check.
fn checkpoint_summary(note: &[u8]) -> Option<(u64, [u8; 32], String)> {
    let parsed = quorum_c2sp::note::Note::parse(note).ok()?;
    let cp = quorum_c2sp::checkpoint::Checkpoint::parse(&parsed.text).ok()?;
    Some((cp.size, cp.root_hash, cp.origin))
}

fn describe(size: u64, root: &[u8; 32]) -> String {
    format!(
        "size {size} root {}",
        base64::engine::general_purpose::STANDARD.encode(root)
    )
}

/// The size of the last checkpoint of the policy's log that this client stored.
fn last_seen_size(state: &State, policy: &Policy) -> anyhow::Result<Option<u64>> {
    let origin = log_origin(policy)?;
    Ok(state
        .last_checkpoint(&origin)?
        .as_deref()
        .and_then(checkpoint_summary)
        .map(|(size, _, _)| size))
}

/// Verifies a bundle, refuses a rollback or a fork relative to the last checkpoint seen,
/// and records the new checkpoint.
fn verify_and_record(
    state: &State,
    policy: &Policy,
    bundle: &v1::EvidenceBundle,
) -> anyhow::Result<VerifiedEvidence> {
    let origin = log_origin(policy)?;
    let last = state.last_checkpoint(&origin)?;
    let verified = glue::verify_bundle(policy, bundle, last.as_deref())?;
    let cp = &verified.checkpoint;
    if let Some((old_size, old_root, _)) = last.as_deref().and_then(checkpoint_summary) {
        if cp.size < old_size {
            return Err(evidence(format!(
                "rollback: the log's checkpoint ({}) is older than the one seen before ({}); the log may be hiding entries",
                describe(cp.size, &cp.root),
                describe(old_size, &old_root)
            )));
        }
        if cp.size == old_size && cp.root != old_root {
            return Err(evidence(format!(
                "fork: the log's checkpoint ({}) conflicts with the one seen before ({}); the log shows different views to different clients",
                describe(cp.size, &cp.root),
                describe(old_size, &old_root)
            )));
        }
        if cp.size == old_size {
            return Ok(verified);
        }
    }
    state.ensure()?;
    state.store_checkpoint(&origin, &cp.note)?;
    Ok(verified)
}

/// Decides on targets, asking the source once per package.
fn decide_all(
    global: &Global,
    policy: &Policy,
    source: &Source,
    targets: &[Target],
) -> anyhow::Result<Vec<(Target, Decision, std::rc::Rc<VerifiedEvidence>)>> {
    let state = State::open(global)?;
    let mut cache: BTreeMap<String, std::rc::Rc<VerifiedEvidence>> = BTreeMap::new();
    let shared = match source {
        Source::Bundle(b) => Some(std::rc::Rc::new(verify_and_record(&state, policy, b)?)),
        Source::Mirror(recheck) => {
            let packages: Vec<String> = targets
                .iter()
                .map(|t| t.package.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Some(std::rc::Rc::new(crate::mirror::load_mirror(
                &state, policy, &packages, *recheck,
            )?))
        }
        Source::Log(_) => None,
    };
    let apply = |e: quorum_verifier::decision::DecisionError| {
        usage(format!("the policy cannot be applied: {e}"))
    };
    // Trust weights depend on the evidence, not on the package: with one shared body of
    // evidence they are computed once for every target.
    let shared_evaluation = match &shared {
        Some(ev) => {
            Some(Evaluation::new(policy, &ev.statements, ev.checkpoint.time).map_err(apply)?)
        }
        None => None,
    };
    let mut out = Vec::new();
    for t in targets {
        if let (Some(ev), Some(evaluation)) = (&shared, &shared_evaluation) {
            let decision = evaluation.decide(&t.package, &t.version);
            out.push((t.clone(), decision, ev.clone()));
            continue;
        }
        let Source::Log(client) = source else {
            return Err(usage("no evidence source"));
        };
        let ev = match cache.get(&t.package) {
            Some(ev) => ev.clone(),
            None => {
                let since = last_seen_size(&state, policy)?;
                let (_, bundle) = fetch_bundle(client, &t.package, since)?;
                let ev = std::rc::Rc::new(
                    verify_and_record(&state, policy, &bundle)
                        .with_context(|| format!("evidence for {}", t.package))?,
                );
                cache.insert(t.package.clone(), ev.clone());
                ev
            }
        };
        let evaluation =
            Evaluation::new(policy, &ev.statements, ev.checkpoint.time).map_err(apply)?;
        let decision = evaluation.decide(&t.package, &t.version);
        out.push((t.clone(), decision, ev));
    }
    Ok(out)
}

fn exit_code(decisions: &[(Target, Decision, std::rc::Rc<VerifiedEvidence>)]) -> u8 {
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

fn checkpoint_json(ev: &VerifiedEvidence) -> Value {
    json!({
        "origin": ev.checkpoint.origin,
        "size": ev.checkpoint.size,
        "root_hash": base64::engine::general_purpose::STANDARD.encode(ev.checkpoint.root),
        "time": ev.checkpoint.time,
    })
}

fn decision_json(t: &Target, d: &Decision, ev: &VerifiedEvidence, completeness: &str) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("purl".into(), json!(t.purl()));
        map.insert("checkpoint".into(), checkpoint_json(ev));
        map.insert("entries_counted".into(), json!(d.counted.len()));
        map.insert("completeness".into(), json!(completeness));
    }
    v
}

/// `quorum verify`.
pub fn verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let targets = match (&args.purl, &args.lockfile) {
        (Some(p), _) => vec![target_from_purl(p)?],
        (None, Some(path)) => lockfile_targets(path)?,
        (None, None) => return Err(usage("give a purl@version or --lockfile <file>")),
    };
    let source = open_source(global, &policy, &args.source)?;
    let completeness = source.completeness();
    let decisions = decide_all(global, &policy, &source, &targets)?;
    let code = exit_code(&decisions);
    let policy_sha = hex::encode(policy.sha256);
    if global.json {
        let overall = match code {
            0 => "allow",
            1 => "deny",
            _ => "insufficient-evidence",
        };
        let out = json!({
            "verdict": overall,
            "exit_code": code,
            "policy_sha256": policy_sha,
            "completeness": completeness,
            "decisions": decisions
                .iter()
                .map(|(t, d, ev)| decision_json(t, d, ev, completeness))
                .collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        crate::output::print_table(
            &decisions
                .iter()
                .map(|(t, d, _)| (t.purl(), d))
                .collect::<Vec<_>>(),
        );
        let mut seen = std::collections::BTreeSet::new();
        for (_, _, ev) in &decisions {
            let cp = &ev.checkpoint;
            if seen.insert((cp.origin.clone(), cp.size)) {
                println!(
                    "checkpoint {} {}  completeness {}",
                    cp.origin,
                    describe(cp.size, &cp.root),
                    completeness
                );
            }
        }
        println!("policy sha256 {policy_sha}");
    }
    Ok(code)
}

fn lockfile_targets(path: &Path) -> anyhow::Result<Vec<Target>> {
    let text = read_text(
        path,
        "lockfile",
        quorum_verifier::lockfile::MAX_LOCKFILE_BYTES as u64,
    )?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let locked =
        parse_lockfile(name, &text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    if locked.is_empty() {
        return Err(usage(format!("{} pins no packages", path.display())));
    }
    Ok(locked
        .into_iter()
        .map(|p| Target {
            package: p.package,
            version: p.version,
        })
        .collect())
}

/// The decisions on every version `lockfile` pins, from the log (for `quorum init
/// --from-cargo-vet`'s report).
pub(crate) fn decide_lockfile(
    global: &Global,
    lockfile: &Path,
) -> anyhow::Result<Vec<(String, Decision)>> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let targets = lockfile_targets(lockfile)?;
    let source = open_source(global, &policy, &SourceOpts::default())?;
    Ok(decide_all(global, &policy, &source, &targets)?
        .into_iter()
        .map(|(t, d, _)| (t.purl(), d))
        .collect())
}

/// `quorum explain`.
pub fn explain(global: &Global, args: &ExplainArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let target = target_from_purl(&args.purl)?;
    let source = open_source(global, &policy, &args.source)?;
    let completeness = source.completeness();
    let mut decisions = decide_all(global, &policy, &source, std::slice::from_ref(&target))?;
    let code = exit_code(&decisions);
    let Some((t, d, ev)) = decisions.pop() else {
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
    let mut rejected: Vec<Value> = d
        .rejected
        .iter()
        .map(|r| json!({"index": r.index, "reason": r.reason}))
        .collect();
    for (index, reason) in &ev.rejected {
        rejected.push(json!({"index": index, "reason": format!("failed verification: {reason}")}));
    }
    if global.json {
        let out = json!({
            "decision": decision_json(&t, &d, &ev, completeness),
            "policy_sha256": hex::encode(policy.sha256),
            "counted": counted,
            "rejected": rejected,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        crate::output::print_explain(&t.purl(), &d, &counted, &rejected);
        println!(
            "checkpoint {} {}  completeness {}",
            ev.checkpoint.origin,
            describe(ev.checkpoint.size, &ev.checkpoint.root),
            completeness
        );
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
            affected,
            fixed,
            malicious,
        } => format!(
            "{} advisory for {package}: affected [{}] fixed [{}]",
            if *malicious {
                "malicious"
            } else {
                "vulnerability"
            },
            affected.join(", "),
            fixed.join(", ")
        ),
        Claim::CargoVet { package, claim } => match package {
            Some(package) => format!("{} for {package}", claim.describe()),
            None => claim.describe(),
        },
        other => format!("{other:?}"),
    }
}

/// `quorum fetch`: saves a package's evidence bundle after verifying it.
pub fn fetch(global: &Global, args: &FetchArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let policy = load_policy(&state.policy_path(global))?;
    let (package, _) = parse_purl(&args.purl)
        .map_err(|e| usage(format!("{:?} is not a valid purl: {e}", args.purl)))?;
    let source = open_source(
        global,
        &policy,
        &SourceOpts {
            bundle: None,
            mirror: false,
            recheck_signatures: false,
        },
    )?;
    let Source::Log(client) = source else {
        return Err(usage("fetch needs a log"));
    };
    let since = last_seen_size(&state, &policy)?;
    let (bytes, bundle) = fetch_bundle(&client, &package, since)?;
    let ev = verify_and_record(&state, &policy, &bundle)?;
    write_atomic(&args.out, &bytes)?;
    if global.json {
        println!(
            "{}",
            json!({"out": args.out.display().to_string(), "entries": bundle.entries.len(),
                   "checkpoint": checkpoint_json(&ev)})
        );
    } else {
        println!(
            "saved {} entries about {package} at checkpoint {} {} to {}",
            bundle.entries.len(),
            ev.checkpoint.origin,
            describe(ev.checkpoint.size, &ev.checkpoint.root),
            args.out.display()
        );
    }
    Ok(0)
}
