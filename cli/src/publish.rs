//! Publishing: build a statement, validate it as verifiers will, sign it into a DSSE
//! envelope with the user's key, then write it out or submit it to the log and keep the
//! receipt (index and tlog-proof) in the state directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use quorum_c2sp::note::Ed25519Signer;
use quorum_proto::v1;
use quorum_verifier::lockfile::{LockfileKind, PinnedDigest, read_lockfile};
use quorum_verifier::model::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, MAX_ENVELOPE_SIZE};
use quorum_verifier::model::predicates::{
    self, Adoption, AdoptionStatus, Audit, OpenVex, Owner, OwnershipChange, Predicate, Revocation,
    Trust, TrustLevel, VexProduct, VexStatement, VexStatus, VexVulnerability,
};
use quorum_verifier::model::statement::{Statement, Subject, parse_hex32, parse_purl, sha256_hex};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cli::{
    AdoptArgs, AdviseArgs, AttestArgs, DigestOpts, Global, LevelArg, OwnershipChangeArgs,
    PublishOpts, RevokeArgs, SubmitArgs, TrustArgs, VerdictArg,
};
use crate::error::{unavailable, usage};
use crate::glue;
use crate::keys::load_signer;
use crate::net::{LogClient, MAX_SUBMIT_RESPONSE, error_text};
use crate::state::{MAX_INPUT_FILE, State, read_input, read_text, write_atomic};
use base64::Engine as _;
use quorum_verifier::client::LogTrust;
use quorum_verifier::client::receipt::{
    Receipt, check_entry_matches, proof_size, receipt_check, verify_receipt,
};
use quorum_verifier::client::tiles::{TileProofs, fetch_entry};

/// Largest batch answer read (1000 results of about 150 bytes).
const MAX_BATCH_RESPONSE: u64 = 4 << 20;

/// Subjects per adoption statement when recording a lockfile (the statement limit).
const SUBJECTS_PER_STATEMENT: usize = quorum_verifier::model::statement::MAX_SUBJECTS;

/// `quorum attest`.
pub fn attest(global: &Global, args: &AttestArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let subject = version_subject(&args.purl, &args.digest)?;
    let capabilities = args.capabilities.as_ref().map(|caps| {
        caps.iter()
            .filter(|c| c.as_str() != "none" && !c.is_empty())
            .cloned()
            .collect::<Vec<_>>()
    });
    let predicate = Predicate::Audit(Audit {
        verdict: match args.verdict {
            VerdictArg::Pass => predicates::Verdict::Pass,
            VerdictArg::Fail => predicates::Verdict::Fail,
        },
        criteria: args.criteria.clone(),
        capabilities,
        notes: args.notes.clone(),
    });
    let statement = predicate.into_statement(vec![subject]);
    publish(global, &signer, &[statement], &args.publish)
}

/// `quorum adopt`.
pub fn adopt(global: &Global, args: &AdoptArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let status = if args.reject {
        AdoptionStatus::Rejected
    } else {
        AdoptionStatus::Adopted
    };
    let predicate = Predicate::Adoption(Adoption {
        status,
        comment: args.comment.clone(),
    });
    let subjects = match (&args.purl, &args.lockfile) {
        (Some(purl), _) => vec![version_subject(purl, &args.digest)?],
        (None, Some(lockfile)) => lockfile_subjects(lockfile)?,
        (None, None) => return Err(usage("give a purl@version or --lockfile <file>")),
    };
    let statements = pack_statements(&predicate, subjects);
    publish(global, &signer, &statements, &args.publish)
}

/// Splits subjects over as few statements as fit: at most [`SUBJECTS_PER_STATEMENT`] each,
/// and each signed envelope within the log's limit (the payload travels base64-encoded in the
/// envelope JSON; 256 npm subjects with SHA-512 digests would not fit in one).
fn pack_statements(predicate: &Predicate, subjects: Vec<Subject>) -> Vec<Statement> {
    /// Room for the envelope's own fields and one signature with its key ID.
    const ENVELOPE_OVERHEAD: usize = 512;
    let base64_len = |n: usize| n.div_ceil(3) * 4;
    let empty = predicate.clone().into_statement(Vec::new()).to_json().len();
    let subject_len = |s: &Subject| {
        // `{"digest":{…},"name":"…"}` and a comma, as Statement::to_json writes it.
        let digest: usize = s.digest.iter().map(|(a, h)| a.len() + h.len() + 6).sum();
        s.name.len() + digest + 24
    };
    let mut statements = Vec::new();
    let mut chunk: Vec<Subject> = Vec::new();
    let mut size = empty;
    for subject in subjects {
        let len = subject_len(&subject);
        let too_big = base64_len(size + len) + ENVELOPE_OVERHEAD > MAX_ENVELOPE_SIZE;
        if !chunk.is_empty() && (chunk.len() == SUBJECTS_PER_STATEMENT || too_big) {
            statements.push(predicate.clone().into_statement(std::mem::take(&mut chunk)));
            size = empty;
        }
        size += len;
        chunk.push(subject);
    }
    if !chunk.is_empty() {
        statements.push(predicate.clone().into_statement(chunk));
    }
    statements
}

/// Subjects for every registry version a lockfile pins with an artifact digest (SHA-256,
/// SHA-384 or SHA-512: Cargo's checksum, PyPI file hashes, npm's SRI sha512); the others are
/// reported on stderr and left out: packages from git, paths, URLs or patches (they are not
/// the registry's artifact), and versions pinned by no digest, by SHA-1 only or by Yarn
/// Berry's cache checksum only (nothing a registry artifact can be matched with).
fn lockfile_subjects(path: &Path) -> anyhow::Result<Vec<Subject>> {
    let text = read_text(
        path,
        "lockfile",
        quorum_verifier::lockfile::MAX_LOCKFILE_BYTES as u64,
    )?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let lockfile =
        read_lockfile(name, &text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let mut subjects = Vec::new();
    let mut unpinned = Vec::new();
    let mut yarn_cache_only = 0usize;
    for p in lockfile.registry_packages() {
        // One digest per algorithm: a PyPI version pins one per file, and any one of them
        // identifies the release (verifiers match a subject against the whole set).
        let digests: BTreeMap<String, String> = p
            .artifact_digests()
            .into_iter()
            .filter_map(|(algorithm, values)| {
                values
                    .first()
                    .map(|hex| (algorithm.to_owned(), (*hex).to_owned()))
            })
            .collect();
        if digests.is_empty() {
            if p.digests
                .iter()
                .any(|d| matches!(d, PinnedDigest::YarnCache { .. }))
            {
                yarn_cache_only += 1;
            }
            unpinned.push(p.purl());
        } else {
            subjects.push(Subject::package_version_digests(&p.purl(), digests));
        }
    }
    let others: Vec<String> = lockfile
        .other_packages()
        .map(|p| format!("{} ({})", p.purl(), p.source.describe()))
        .collect();
    if !others.is_empty() {
        eprintln!(
            "note: {} packages in {} do not come from the registry and are not recorded: {}",
            others.len(),
            path.display(),
            others.join(", ")
        );
    }
    let why_unpinned = if yarn_cache_only > 0 {
        "Yarn Berry's checksum is the digest of Yarn's cache zip, not of the registry's tarball"
    } else {
        "no SHA-256, SHA-384 or SHA-512 digest is pinned (SHA-1 is never accepted)"
    };
    if !unpinned.is_empty() {
        eprintln!(
            "note: {} pinned versions in {} are not recorded: {why_unpinned}: {}",
            unpinned.len(),
            path.display(),
            unpinned.join(", ")
        );
    }
    if subjects.is_empty() {
        let hint = match lockfile.kind {
            LockfileKind::Requirements => {
                "; pin hashes with `pip-compile --generate-hashes` or `uv pip compile --generate-hashes`"
            }
            _ => "",
        };
        return Err(usage(format!(
            "{} pins no registry version by a SHA-256, SHA-384 or SHA-512 digest, so no adoption can be bound to an artifact: {why_unpinned}{hint}",
            path.display()
        )));
    }
    Ok(subjects)
}

/// `quorum trust`.
pub fn trust(global: &Global, args: &TrustArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let key = predicates::parse_public_key(&args.key).map_err(|e| {
        usage(format!(
            "{e}; give the key as 64 hex digits, ed25519:<hex> or a verifier key name+id+base64"
        ))
    })?;
    let level = if args.distrust {
        TrustLevel::Distrust
    } else {
        match args.level {
            Some(LevelArg::None) => TrustLevel::None,
            Some(LevelArg::Low) => TrustLevel::Low,
            Some(LevelArg::Medium) => TrustLevel::Medium,
            Some(LevelArg::High) => TrustLevel::High,
            None => return Err(usage("give --level low|medium|high|none or --distrust")),
        }
    };
    let predicate = Predicate::Trust(Trust {
        key: args.key.clone(),
        level,
        scope: args.scope.clone(),
        comment: args.comment.clone(),
    });
    let statement = predicate.into_statement(vec![Subject::key(&key)]);
    publish(global, &signer, &[statement], &args.publish)
}

/// `quorum advise`: an OpenVEX document with an `affected` statement (and a `fixed` one
/// when fix versions are given).
pub fn advise(global: &Global, args: &AdviseArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let (package, version) = parse_purl(&args.purl)
        .map_err(|e| usage(format!("{:?} is not a valid purl: {e}", args.purl)))?;
    let mut affected: BTreeSet<String> = args.affected.iter().cloned().collect();
    if let Some(v) = version {
        affected.insert(v);
    }
    affected.retain(|v| !v.is_empty());
    let fixed: BTreeSet<String> = args
        .fixed
        .iter()
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    if let Some(v) = affected.intersection(&fixed).next() {
        return Err(usage(format!(
            "version {v} is given both as affected and as fixed"
        )));
    }
    let aliases: Vec<String> = args
        .alias
        .iter()
        .filter(|a| !a.is_empty())
        .cloned()
        .collect();
    let is_mal = |s: &str| s.starts_with("MAL-");
    if args.malicious && !is_mal(&args.vulnerability) && !aliases.iter().any(|a| is_mal(a)) {
        return Err(usage(format!(
            "--malicious needs an OSV malicious-package ID: name the vulnerability MAL-… or add --alias MAL-… (got {:?})",
            args.vulnerability
        )));
    }
    if !args.malicious && (is_mal(&args.vulnerability) || aliases.iter().any(|a| is_mal(a))) {
        return Err(usage(
            "a MAL- ID marks the package as malicious: add --malicious to confirm",
        ));
    }
    let vulnerability = VexVulnerability {
        id: None,
        name: args.vulnerability.clone(),
        description: None,
        aliases,
    };
    let action = args
        .action
        .clone()
        .unwrap_or_else(|| match fixed.iter().next() {
            Some(v) => format!("upgrade to {v}"),
            None if args.malicious => "remove this package".to_string(),
            None => "no fix is available yet; avoid the affected versions".to_string(),
        });
    let product = |v: Option<&String>| VexProduct {
        id: match v {
            Some(v) => format!("{package}@{v}"),
            None => package.clone(),
        },
        identifiers: None,
    };
    let mut statements = vec![VexStatement {
        vulnerability: vulnerability.clone(),
        products: if affected.is_empty() {
            vec![product(None)]
        } else {
            affected.iter().map(|v| product(Some(v))).collect()
        },
        status: VexStatus::Affected,
        justification: None,
        impact_statement: None,
        action_statement: Some(action),
        status_notes: None,
    }];
    if !fixed.is_empty() {
        statements.push(VexStatement {
            vulnerability,
            products: fixed.iter().map(|v| product(Some(v))).collect(),
            status: VexStatus::Fixed,
            justification: None,
            impact_statement: None,
            action_statement: None,
            status_notes: None,
        });
    }
    let public_hex = hex::encode(signer.signing_key().verifying_key().as_bytes());
    let timestamp = crate::timefmt::rfc3339_now();
    let mut doc = OpenVex {
        context: predicates::OPENVEX_V0_2_0.to_string(),
        id: String::new(),
        author: args
            .author
            .clone()
            .unwrap_or_else(|| format!("ed25519:{public_hex}")),
        role: None,
        timestamp,
        version: 1,
        statements,
    };
    // A stable document ID derived from the content.
    let content = serde_json::to_vec(&doc).context("encoding the advisory")?;
    doc.id = format!("urn:quorum:vex:{}", &sha256_hex(&content)[..32]);
    let statement = Predicate::Advisory(doc).into_statement(vec![Subject::package(&package)]);
    publish(global, &signer, &[statement], &args.publish)
}

/// `quorum revoke`.
pub fn revoke(global: &Global, args: &RevokeArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let digest = parse_hex32(&args.digest.to_ascii_lowercase()).ok_or_else(|| {
        usage(format!(
            "{:?} is not an envelope digest (64 hex digits, as printed when you published)",
            args.digest
        ))
    })?;
    let predicate = Predicate::Revocation(Revocation {
        envelope_digest: hex::encode(digest),
        reason: args.reason.clone(),
        provenance: None,
    });
    let statement = predicate.into_statement(vec![Subject::envelope(&digest)]);
    publish(global, &signer, &[statement], &args.publish)
}

/// `quorum ownership-change`.
pub fn ownership_change(global: &Global, args: &OwnershipChangeArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let parse_owner = |text: &String| -> anyhow::Result<Owner> {
        let (name, key) = match text.split_once('=') {
            Some((n, k)) => (n, Some(k)),
            None => (text.as_str(), None),
        };
        if name.is_empty() && key.is_none_or(str::is_empty) {
            return Err(usage("an owner needs a NAME, NAME=KEY or =KEY"));
        }
        Ok(Owner {
            name: (!name.is_empty()).then(|| name.to_string()),
            key: key.filter(|k| !k.is_empty()).map(str::to_string),
        })
    };
    let previous = args
        .previous
        .iter()
        .map(parse_owner)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let new = args
        .new_owners
        .iter()
        .map(parse_owner)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let digest_given = args.digest.digest.is_some() || args.digest.artifact.is_some();
    let subject = match parse_purl(&args.purl) {
        Ok((package, None)) if !digest_given => Subject::package(&package),
        Ok((_, None)) => {
            return Err(usage(format!(
                "{}: --digest and --artifact name the first version's artifact; give that version too (e.g. {}@1.2.3)",
                args.purl, args.purl
            )));
        }
        // The first version under the new owners: a versioned subject names its artifact.
        Ok((_, Some(_))) => version_subject(&args.purl, &args.digest)?,
        Err(e) => return Err(usage(format!("{:?} is not a valid purl: {e}", args.purl))),
    };
    let predicate = Predicate::OwnershipChange(OwnershipChange {
        previous,
        new,
        comment: args.comment.clone(),
    });
    let statement = predicate.into_statement(vec![subject]);
    publish(global, &signer, &[statement], &args.publish)
}

/// `quorum submit`: submits an envelope written earlier with `--out`.
pub fn submit_file(global: &Global, args: &SubmitArgs) -> anyhow::Result<u8> {
    let signer = load_signer(global)?;
    let bytes = read_input(&args.envelope, "envelope", MAX_INPUT_FILE)?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| {
        usage(format!(
            "{}: not a DSSE envelope: {e}",
            args.envelope.display()
        ))
    })?;
    let key = signer.signing_key().verifying_key();
    quorum_verifier::model::log_entry::verify_envelope(&envelope, &key).map_err(|e| {
        usage(format!(
            "{}: not a valid statement signed by your key: {e}",
            args.envelope.display()
        ))
    })?;
    let client = log_client(global)?;
    let receipt = submit(global, &client, &signer, &envelope)?;
    report_receipts(global, &[receipt]);
    Ok(0)
}

/// The subject for a versioned purl and a digest given or computed from a file.
fn version_subject(purl: &str, digest: &DigestOpts) -> anyhow::Result<Subject> {
    let (package, version) =
        parse_purl(purl).map_err(|e| usage(format!("{purl:?} is not a valid purl: {e}")))?;
    let Some(version) = version else {
        return Err(usage(format!(
            "{purl} has no version; name the exact version, e.g. {purl}@1.2.3"
        )));
    };
    let purl = format!("{package}@{version}");
    match (&digest.digest, &digest.artifact) {
        (Some(text), _) => {
            // The library's one reader of pinned digests: hex with or without an algorithm
            // prefix, or SRI.
            let pinned = PinnedDigest::from_prefixed_hex(text)
                .or_else(|| PinnedDigest::from_sri(text))
                .ok_or_else(|| {
                    usage(format!(
                        "--digest {text:?} is not a digest: give 64 hex digits (SHA-256), \
                         sha256:/sha384:/sha512: and hex, or SRI such as sha512-<base64>"
                    ))
                })?;
            let algorithm = pinned.artifact_algorithm().ok_or_else(|| {
                usage(format!(
                    "--digest {text:?} is SHA-1, which cannot identify an artifact \
                     (collisions can be made); give SHA-256, SHA-384 or SHA-512"
                ))
            })?;
            Ok(Subject::package_version_digests(
                &purl,
                BTreeMap::from([(algorithm.to_owned(), pinned.hex().to_owned())]),
            ))
        }
        (None, Some(path)) => {
            let bytes = read_input(path, "artifact", 4 << 30)?;
            Ok(Subject::package_version(
                &purl,
                Sha256::digest(&bytes).into(),
            ))
        }
        (None, None) => Err(usage(
            "give the artifact's digest with --digest <hex> or the file with --artifact <file>",
        )),
    }
}

/// Validates, signs and sends or writes statements.
fn publish(
    global: &Global,
    signer: &Ed25519Signer,
    statements: &[Statement],
    opts: &PublishOpts,
) -> anyhow::Result<u8> {
    let envelopes = sign_statements(signer, statements)?;
    if opts.dry_run || opts.out.is_some() {
        write_envelopes(global, &envelopes, opts.out.as_deref(), true)?;
        return Ok(0);
    }
    let client = log_client(global)?;
    let mut receipts = Vec::new();
    for envelope in &envelopes {
        receipts.push(submit(global, &client, signer, envelope)?);
    }
    report_receipts(global, &receipts);
    Ok(0)
}

/// Validates each statement as verifiers will (refusing what they would reject, with the
/// validator's reason) and signs it into a DSSE envelope.
pub fn sign_statements(
    signer: &Ed25519Signer,
    statements: &[Statement],
) -> anyhow::Result<Vec<Envelope>> {
    let mut envelopes = Vec::with_capacity(statements.len());
    for statement in statements {
        predicates::validate_statement(statement)
            .map_err(|e| usage(format!("the statement would be rejected: {e}")))?;
        envelopes.push(Envelope::sign(
            IN_TOTO_PAYLOAD_TYPE,
            statement.to_json(),
            signer.signing_key(),
        ));
    }
    Ok(envelopes)
}

/// Writes signed envelopes, one JSON line each, to `out` (standard output for `None` or
/// `-`), for `quorum submit` later; `per_envelope` prints one line per envelope written.
pub fn write_envelopes(
    global: &Global,
    envelopes: &[Envelope],
    out: Option<&Path>,
    per_envelope: bool,
) -> anyhow::Result<()> {
    let text: String = envelopes
        .iter()
        .map(|e| format!("{}\n", e.to_json()))
        .collect();
    match out {
        Some(p) if p.as_os_str() != "-" => {
            write_atomic(p, text.as_bytes())?;
            for e in envelopes.iter().filter(|_| per_envelope) {
                if global.json {
                    println!(
                        "{}",
                        json!({"envelope_digest": hex::encode(e.digest()), "out": p.display().to_string()})
                    );
                } else {
                    println!(
                        "signed {} (not submitted) -> {}",
                        hex::encode(e.digest()),
                        p.display()
                    );
                }
            }
        }
        _ => print!("{text}"),
    }
    Ok(())
}

/// Envelopes per batch request (the log's default `max_batch_envelopes`).
const BATCH_ENVELOPES: usize = 1000;
/// Bytes of envelope JSON per batch request, well under the log's default 16 MiB body.
const BATCH_BYTES: usize = 8 << 20;
/// How often a batch refused as busy (429, 503) is sent again, one second apart.
const BATCH_RETRIES: u32 = 10;

/// The log's answer for one envelope of a batch: its index and status, or why it was
/// refused.
pub type BatchOutcome = Result<(u64, v1::SubmitStatus), String>;

/// Submits many envelopes signed by `signer` in batch requests (`{"envelopes": [...]}`),
/// without waiting for checkpoints: each answer comes once the entries are durable. Items
/// refused as busy are sent again. Receipts are not kept (a bulk import checks itself with
/// `quorum import --check`). Outcomes are in input order.
pub fn submit_batch(
    target: &Target,
    signer: &Ed25519Signer,
    envelopes: &[Envelope],
) -> anyhow::Result<Vec<BatchOutcome>> {
    let public_key = format!(
        "ed25519:{}",
        hex::encode(signer.signing_key().verifying_key().as_bytes())
    );
    let items: Vec<serde_json::Value> = envelopes
        .iter()
        .map(|e| {
            let envelope: serde_json::Value =
                serde_json::from_str(&e.to_json()).unwrap_or(serde_json::Value::Null);
            json!({"envelope": envelope, "publicKey": public_key})
        })
        .collect();
    let mut outcomes: Vec<Option<BatchOutcome>> = vec![None; items.len()];
    let mut pending: Vec<usize> = (0..items.len()).collect();
    for attempt in 0..=BATCH_RETRIES {
        if pending.is_empty() {
            break;
        }
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        let mut busy = Vec::new();
        let mut start = 0;
        while start < pending.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < pending.len() && end - start < BATCH_ENVELOPES {
                let size = items[pending[end]].to_string().len();
                if end > start && bytes + size > BATCH_BYTES {
                    break;
                }
                bytes += size;
                end += 1;
            }
            let chunk = &pending[start..end];
            let body = serde_json::to_vec(&json!({
                "envelopes": chunk.iter().map(|&i| &items[i]).collect::<Vec<_>>()
            }))
            .context("encoding the batch")?;
            let resp = target
                .client
                .post_json("/v1/statements", body, MAX_BATCH_RESPONSE)?;
            match resp.status {
                200 => {
                    let answer: serde_json::Value =
                        serde_json::from_slice(&resp.body).map_err(|e| {
                            unavailable(format!("the log's batch answer is not JSON: {e}"))
                        })?;
                    let results = answer
                        .get("results")
                        .and_then(|r| r.as_array())
                        .filter(|r| r.len() == chunk.len())
                        .ok_or_else(|| {
                            unavailable(
                                "the log's batch answer does not have one result per envelope",
                            )
                        })?;
                    for (&i, r) in chunk.iter().zip(results) {
                        match r.get("error") {
                            Some(err) => {
                                let status = r.get("status").and_then(|s| s.as_u64()).unwrap_or(0);
                                if status == 429 || status == 503 {
                                    busy.push(i);
                                } else {
                                    outcomes[i] = Some(Err(format!(
                                        "HTTP {status}: {}",
                                        error_text(err.to_string().as_bytes())
                                    )));
                                }
                            }
                            None => {
                                let answer: v1::SubmitResponse = serde_json::from_value(r.clone())
                                    .map_err(|e| {
                                        unavailable(format!(
                                            "the log's answer is not a SubmitResponse: {e}"
                                        ))
                                    })?;
                                let status = v1::SubmitStatus::try_from(answer.status)
                                    .unwrap_or(v1::SubmitStatus::Unspecified);
                                outcomes[i] = Some(Ok((answer.index, status)));
                            }
                        }
                    }
                }
                429 | 503 => busy.extend_from_slice(chunk),
                status => {
                    return Err(unavailable(format!(
                        "the log refused a batch of {} statements (HTTP {status}): {}",
                        chunk.len(),
                        error_text(&resp.body)
                    )));
                }
            }
            start = end;
        }
        pending = busy;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err("the log stayed busy; retry later".to_owned())))
        .collect())
}

/// Where submissions go: the log (`--log`, else the policy's `[log] url`) and the log the
/// policy trusts, whose key and witness quorum the receipts are verified with, if there is
/// a policy.
pub struct Target {
    client: LogClient,
    trust: Option<LogTrust>,
}

impl Target {
    /// The log client.
    pub fn client(&self) -> &LogClient {
        &self.client
    }
}

/// The log to submit to and the trust to check its receipts with. The policy is checked
/// here, before anything is submitted: a policy that cannot verify a receipt must not let
/// a statement be logged first and fail afterwards.
pub fn log_client(global: &Global) -> anyhow::Result<Target> {
    let state = State::open(global)?;
    let path = state.policy_path(global);
    let policy = if path.exists() {
        Some(crate::verify::load_policy(&path)?)
    } else {
        None
    };
    let trust = match policy.as_ref().filter(|p| p.log.is_some()) {
        Some(policy) => Some(glue::log_trust(policy).map_err(|e| {
            e.context("the policy cannot verify the log's receipt; nothing was submitted")
        })?),
        None => None,
    };
    match glue::log_url(global, policy.as_ref()) {
        Some(url) => Ok(Target {
            client: glue::log_client(global, &url)?,
            trust,
        }),
        None => Err(usage(
            "no log to submit to: pass --log <url>, set [log] url in the policy, or use --out <file> to sign without submitting",
        )),
    }
}

fn submit(
    global: &Global,
    target: &Target,
    signer: &Ed25519Signer,
    envelope: &Envelope,
) -> anyhow::Result<Receipt> {
    let client = &target.client;
    // The log's JSON submission form: the DSSE envelope as JSON next to the signer's key.
    let envelope_json: serde_json::Value =
        serde_json::from_str(&envelope.to_json()).context("encoding the envelope")?;
    let public_key = signer.signing_key().verifying_key().to_bytes();
    let public_hex = hex::encode(public_key);
    let body = serde_json::to_vec(&json!({
        "envelope": envelope_json,
        "publicKey": format!("ed25519:{public_hex}"),
    }))
    .context("encoding the submission")?;
    // With a witness quorum to meet, wait for a cosigned checkpoint: a checkpoint the log
    // has only signed would not verify against the policy.
    let witnessed = target
        .trust
        .as_ref()
        .is_some_and(LogTrust::requires_witnesses);
    let wait = if witnessed { "cosigned" } else { "integrated" };
    let resp = client.post_json(
        &format!("/v1/statements?wait={wait}"),
        body,
        MAX_SUBMIT_RESPONSE,
    )?;
    if !(200..300).contains(&resp.status) {
        let hint = match resp.status {
            400 | 413 | 422 => "the log refused the statement",
            429 | 503 => "the log is busy; retry later",
            _ => "the log failed",
        };
        return Err(unavailable(format!(
            "{hint}: {}/v1/statements answered HTTP {}: {}",
            client.base(),
            resp.status,
            error_text(&resp.body)
        )));
    }
    let answer: v1::SubmitResponse = serde_json::from_slice(&resp.body).map_err(|e| {
        unavailable(format!(
            "the log's answer is not a SubmitResponse: {e}; the statement may still be logged"
        ))
    })?;
    let digest = hex::encode(envelope.digest());
    let status = match v1::SubmitStatus::try_from(answer.status) {
        Ok(v1::SubmitStatus::Sequenced) => "sequenced",
        Ok(v1::SubmitStatus::Duplicate) => "duplicate",
        Ok(v1::SubmitStatus::Pending) => "pending",
        _ => "unknown",
    };
    let mut receipt = Receipt {
        log: client.base().to_string(),
        envelope_digest: digest.clone(),
        index: answer.index,
        status: status.to_string(),
        tlog_proof: answer.tlog_proof,
        envelope: serde_json::from_str(&envelope.to_json()).unwrap_or(serde_json::Value::Null),
        entry: None,
        verified: None,
    };
    if !receipt.tlog_proof.is_empty() {
        // Read the logged entry back (the proof does not carry it), check it is ours, then
        // verify the proof before keeping the receipt.
        let size = proof_size(&receipt.tlog_proof).map_err(glue::client_error)?;
        let entry = fetch_entry(client, receipt.index, size).map_err(glue::client_error)?;
        check_entry_matches(&entry, &envelope.digest(), &public_key).map_err(glue::client_error)?;
        receipt.entry = Some(base64::engine::general_purpose::STANDARD.encode(&entry));
        match target.trust.as_ref() {
            Some(trust) => {
                let checkpoint = verify_receipt(trust, &receipt).map_err(|e| {
                    glue::client_error(e).context(format!(
                        "the log's receipt for {digest} does not verify; not saved"
                    ))
                })?;
                // The receipt's checkpoint is a view of the log like any other.
                let state = State::open(global)?;
                state.ensure()?;
                state
                    .memory()
                    .observe(&checkpoint, client.base(), &TileProofs::new(client))
                    .map_err(|e| glue::client_error(e.into()))?;
                receipt.verified = Some(receipt_check(&checkpoint));
            }
            None => {
                // Once per run: a lockfile adoption can submit many statements.
                static WARNED: std::sync::atomic::AtomicBool =
                    std::sync::atomic::AtomicBool::new(false);
                if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!(
                        "warning: no policy with a [log] key: receipts are saved unverified (`quorum receipt verify` checks them later)"
                    );
                }
            }
        }
    }
    let state = State::open(global)?;
    let path = state.receipt_path(&digest);
    let text = serde_json::to_vec_pretty(&receipt).context("encoding the receipt")?;
    write_atomic(&path, &text)?;
    Ok(receipt)
}

fn report_receipts(global: &Global, receipts: &[Receipt]) {
    for r in receipts {
        if global.json {
            println!(
                "{}",
                json!({"log": r.log, "envelope_digest": r.envelope_digest, "index": r.index,
                       "status": r.status, "has_proof": !r.tlog_proof.is_empty(),
                       "verified": r.verified})
            );
        } else {
            println!(
                "{} entry {} in {} (envelope digest {}){}",
                r.status,
                r.index,
                r.log,
                r.envelope_digest,
                match (&r.verified, r.tlog_proof.is_empty()) {
                    (_, true) => "; no proof yet".to_string(),
                    (Some(c), false) => format!(
                        "; receipt verified under checkpoint size {} and saved",
                        c.size
                    ),
                    (None, false) => "; receipt saved (not verified: no policy)".to_string(),
                }
            );
        }
    }
}
