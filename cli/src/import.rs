//! `quorum import cargo-vet|rustsec|osv`: public trust data turned into statements signed
//! by the importer's key, logged append-only, and `--check` of the log against the source.
//!
//! The parsing and the comparison live in `quorum_verifier::import`; this file reads the
//! files, reads the importer's statements from the log, signs and submits (through
//! `publish.rs`), and reports.

use base64::Engine as _;
use quorum_verifier::import::reconcile::{self, LoggedStatement};
use quorum_verifier::import::{
    Derivation, MAX_SOURCE_FILE, Origin, cargo_vet, osv, read_file, rustsec,
};
use quorum_verifier::model::log_entry::verify_log_entries_batch;
use quorum_verifier::model::predicates::{ADVISORY_V1, CARGO_VET_V1, parse_public_key};
use quorum_verifier::model::statement::Statement;
use serde_json::json;

use crate::cli::{Global, ImportArgs, ImportSource};
use crate::error::{evidence, unavailable, usage};
use crate::keys::load_signer;
use crate::net::{LogClient, query_escape};
use crate::publish::{log_client, sign_statements, submit_batch, write_envelopes};

/// Statements asked for per lookup page.
const PAGE: u32 = 500;
/// Largest lookup page read: 500 entries of at most 64 KiB, each as JSON and as base64.
const MAX_PAGE_BYTES: u64 = 96 << 20;
/// The most statements read back from the log for one importer key.
const MAX_LOGGED: usize = 2_000_000;

/// `quorum import`.
pub fn import(global: &Global, args: &ImportArgs) -> anyhow::Result<u8> {
    import_to_log(global, args).map(|(code, _)| code)
}

/// `quorum import`, also returning the highest log index it wrote (if it wrote any), for
/// callers that go on to read the log (`quorum init --from-cargo-vet`).
pub fn import_to_log(global: &Global, args: &ImportArgs) -> anyhow::Result<(u8, Option<u64>)> {
    let (opts, predicate_type) = match &args.source {
        ImportSource::CargoVet { opts, .. } => (opts, CARGO_VET_V1),
        ImportSource::Rustsec { opts, .. } | ImportSource::Osv { opts, .. } => (opts, ADVISORY_V1),
    };
    let origin = Origin {
        source: opts.source.clone(),
        revision: opts.revision.clone(),
        tool: format!("quorum {}", env!("CARGO_PKG_VERSION")),
    };
    // The importer: your key, or (checking someone else's import) the key given.
    let (signer, importer) = match &opts.importer {
        Some(key) => {
            let key = parse_public_key(key).map_err(|e| usage(format!("--importer: {e}")))?;
            (None, key)
        }
        None => {
            let signer = load_signer(global)?;
            let key = signer.signing_key().verifying_key().to_bytes();
            (Some(signer), key)
        }
    };
    let derivation = derive(&args.source, &origin, &importer)?;
    report_derivation(global, &derivation);

    if opts.publish.out.is_some() || opts.publish.dry_run {
        let signer = signer.ok_or_else(|| usage("--importer only goes with --check"))?;
        let statements: Vec<Statement> = derivation
            .entries
            .iter()
            .map(|e| e.statement.clone())
            .collect();
        let envelopes = sign_statements(&signer, &statements)?;
        write_envelopes(global, &envelopes, opts.publish.out.as_deref(), false)?;
        if !global.json
            && opts
                .publish
                .out
                .as_deref()
                .is_some_and(|p| p.as_os_str() != "-")
        {
            println!("signed {} statements (not submitted)", envelopes.len());
        }
        return Ok((0, None));
    }

    let target = log_client(global)?;
    let logged = read_logged(target.client(), &importer)?;
    let live = reconcile::live(&logged, &origin.source, predicate_type);

    if opts.check {
        let diffs = reconcile::check(&origin, &derivation, &live);
        for d in &diffs {
            if global.json {
                println!("{}", json!({"difference": d.to_string()}));
            } else {
                println!("{d}");
            }
        }
        let summary = format!(
            "check of {} at {} against {} statements of ed25519:{} in {}: {} entries, {} differences",
            origin.source,
            origin.revision,
            live.len(),
            hex::encode(importer),
            target.client().base(),
            derivation.entries.len(),
            diffs.len()
        );
        if global.json {
            println!(
                "{}",
                json!({"checked": derivation.entries.len(), "live": live.len(), "differences": diffs.len()})
            );
        } else {
            println!("{summary}");
        }
        return Ok((if diffs.is_empty() { 0 } else { 1 }, None));
    }

    let signer = signer.ok_or_else(|| usage("--importer only goes with --check"))?;
    let plan = reconcile::plan(&origin, &derivation, &live);
    let mut statements: Vec<Statement> = plan
        .new
        .iter()
        .map(|&i| derivation.entries[i].statement.clone())
        .collect();
    statements.extend(plan.revocations.iter().map(|r| r.statement.clone()));
    let envelopes = sign_statements(&signer, &statements)?;
    let outcomes = if envelopes.is_empty() {
        Vec::new()
    } else {
        submit_batch(&target, &signer, &envelopes)?
    };
    let mut failed = 0;
    let mut indices = Vec::new();
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            Ok((index, _)) => indices.push(*index),
            Err(e) => {
                failed += 1;
                let what = match plan.new.get(i) {
                    Some(&d) => derivation.entries[d].position.clone(),
                    None => format!(
                        "revocation of entry {}",
                        plan.revocations[i - plan.new.len()].index
                    ),
                };
                eprintln!("error: {what}: the log refused it: {e}");
            }
        }
    }
    for r in &plan.revocations {
        if !global.json {
            println!("revoked entry {}: {}", r.index, r.reason);
        }
    }
    let range = match (indices.iter().min(), indices.iter().max()) {
        (Some(a), Some(b)) => format!(" (entries {a}..={b})"),
        _ => String::new(),
    };
    if global.json {
        println!(
            "{}",
            json!({"source": origin.source, "revision": origin.revision,
                   "new": plan.new.len(), "changed": plan.changed, "unchanged": plan.unchanged,
                   "revoked": plan.revocations.len(), "skipped": derivation.skipped.len(),
                   "withdrawn": derivation.withdrawn.len(), "failed": failed,
                   "counts": derivation.counts(),
                   "log": target.client().base()})
        );
    } else {
        println!(
            "imported {} at {} into {}: {} new ({} replacing changed entries), {} unchanged, {} revoked, {} skipped{range}",
            origin.source,
            origin.revision,
            target.client().base(),
            plan.new.len(),
            plan.changed,
            plan.unchanged,
            plan.revocations.len(),
            derivation.skipped.len(),
        );
    }
    if failed > 0 {
        return Err(unavailable(format!(
            "the log refused {failed} statements; run the import again to retry them"
        )));
    }
    Ok((0, indices.iter().max().copied()))
}

fn derive(
    source: &ImportSource,
    origin: &Origin,
    importer: &[u8; 32],
) -> anyhow::Result<Derivation> {
    let input = |e: quorum_verifier::import::ImportError| usage(e.to_string());
    match source {
        ImportSource::CargoVet { file, .. } => {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let file = read_file(file, &name, MAX_SOURCE_FILE).map_err(input)?;
            cargo_vet::derive(&file, None, origin, importer).map_err(input)
        }
        ImportSource::Rustsec { dir, .. } => rustsec::derive(dir, origin).map_err(input),
        ImportSource::Osv { path, .. } => osv::derive(path, origin).map_err(input),
    }
}

/// Reports what was derived: counts per kind on standard error, and every skipped entry
/// with its file, position and reason.
fn report_derivation(global: &Global, d: &Derivation) {
    for s in &d.skipped {
        let at = if s.position.is_empty() {
            s.file.clone()
        } else {
            format!("{}: {}", s.file, s.position)
        };
        eprintln!("skipped {at}: {}", s.reason);
    }
    let counts: Vec<String> = d.counts().iter().map(|(k, n)| format!("{n} {k}")).collect();
    if !global.json {
        eprintln!(
            "read {} entries ({}), {} withdrawn, {} skipped",
            d.entries.len(),
            counts.join(", "),
            d.withdrawn.len(),
            d.skipped.len()
        );
    }
}

/// Every statement the log holds under `key` (`GET /v1/statements?signer=`, paged), each
/// verified: decoded, signed by `key`, a valid statement.
fn read_logged(client: &LogClient, key: &[u8; 32]) -> anyhow::Result<Vec<LoggedStatement>> {
    let signer = query_escape(&format!("ed25519:{}", hex::encode(key)));
    let mut out = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/v1/statements?signer={signer}&limit={PAGE}&after={a}"),
            None => format!("/v1/statements?signer={signer}&limit={PAGE}"),
        };
        let body = client.get_ok(&path, MAX_PAGE_BYTES)?;
        let page: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("the log's statement list is not JSON: {e}")))?;
        let entries = page
            .get("entries")
            .and_then(|e| e.as_array())
            .ok_or_else(|| unavailable("the log's statement list has no `entries`"))?;
        if entries.is_empty() {
            break;
        }
        let mut indices = Vec::with_capacity(entries.len());
        let mut bytes = Vec::with_capacity(entries.len());
        for e in entries {
            let index = e
                .get("index")
                .and_then(|i| i.as_u64())
                .ok_or_else(|| unavailable("a listed statement has no index"))?;
            let raw = e
                .get("logEntry")
                .and_then(|b| b.as_str())
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .ok_or_else(|| unavailable(format!("listed entry {index} has no logEntry")))?;
            if after.is_some_and(|a| index <= a) {
                return Err(unavailable(format!(
                    "the log listed entry {index} after entry {}: not in ascending order",
                    after.unwrap_or(0)
                )));
            }
            after = Some(index);
            indices.push(index);
            bytes.push(raw);
        }
        let refs: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        for (index, result) in indices.into_iter().zip(verify_log_entries_batch(&refs)) {
            let entry = result.map_err(|e| {
                evidence(format!("the log lists entry {index} under the importer key, but it does not verify: {e}"))
            })?;
            if entry.signer != *key {
                return Err(evidence(format!(
                    "the log lists entry {index} under the importer key, but another key signed it"
                )));
            }
            out.push(LoggedStatement {
                index,
                envelope_digest: entry.envelope_digest,
                statement: entry.statement,
            });
        }
        if out.len() > MAX_LOGGED {
            return Err(unavailable(format!(
                "the log lists more than {MAX_LOGGED} statements under this key"
            )));
        }
    }
    Ok(out)
}
