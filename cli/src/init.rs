//! `quorum init`: writes a commented starter policy that starts safe.
//!
//! The policy names the log (from flags, or placeholders to fill in), the witnesses that
//! must cosign, the user's own key as the only trust root, and a strict fallback: a package
//! no rule speaks for is `insufficient-evidence`, never allowed by default. The rules are
//! left as commented examples, so nothing is allowed until the user says what counts.
//!
//! The policy is assembled as [`Starter`] sections and checked with the library's own
//! parser before it is written. Importers (`--from-cargo-vet`, say) extend it by adding
//! aliases, roles, powers and rules to the [`Starter`] before it is rendered.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use quorum_verifier::client::LogTrust;
use quorum_verifier::client::fetch::MAX_CHECKPOINT_BYTES;
use quorum_verifier::decision::Verdict;
use quorum_verifier::ecosystem::Ecosystem;
use quorum_verifier::import::MAX_SOURCE_FILE;
use quorum_verifier::policy::Policy;
use serde_json::json;

use crate::cli::{Global, ImportArgs, ImportOpts, ImportSource, InitArgs, PublishOpts};
use crate::error::{unavailable, usage};
use crate::keys::{create_key, load_signer};
use crate::state::{State, read_text, write_atomic};

/// Placeholders written when a flag is not given; the policy parses with them, and
/// verifying against a placeholder log fails with a clear error until they are replaced.
const ORIGIN_PLACEHOLDER: &str = "log.example/quorum";
const KEY_PLACEHOLDER: &str = "REPLACE-with-the-log-verifier-key";
const URL_PLACEHOLDER: &str = "https://log.example";

/// What goes into a starter policy.
#[derive(Debug, Clone, Default)]
pub struct Starter {
    /// The log's origin, verifier key and URL (`None`: a placeholder).
    pub origin: Option<String>,
    /// The log's signed-note verifier key.
    pub log_key: Option<String>,
    /// The log's base URL.
    pub url: Option<String>,
    /// Witness cosignature verifier keys (`name+id+base64`).
    pub witnesses: Vec<String>,
    /// How many witnesses must cosign (`None`: all of them).
    pub quorum: Option<usize>,
    /// The user's own public key (hex): the trust root.
    pub me: String,
    /// More `[aliases]` lines (name, hex key), such as an importer's auditors.
    pub aliases: Vec<(String, String)>,
    /// More TOML, appended after the example rules (an importer's `[[rule]]`s, powers).
    pub extra: String,
}

fn quoted(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

impl Starter {
    /// The policy text, with a comment on every section.
    pub fn render(&self) -> String {
        let mut t = String::new();
        t.push_str(
            "# Quorum trust policy, written by `quorum init`.\n\
             # What every key means: spec/verifier-semantics.md §3-§5 and cli/README.md.\n\n",
        );
        t.push_str("# The log you read: its origin line, its signed-note verifier key, its URL.\n");
        if self.origin.is_none() || self.log_key.is_none() {
            t.push_str("# REPLACE the placeholders with what the log's operator publishes.\n");
        }
        let _ = writeln!(
            t,
            "[log]\norigin = {}\nkey = {}\nurl = {}\n",
            quoted(self.origin.as_deref().unwrap_or(ORIGIN_PLACEHOLDER)),
            quoted(self.log_key.as_deref().unwrap_or(KEY_PLACEHOLDER)),
            quoted(self.url.as_deref().unwrap_or(URL_PLACEHOLDER)),
        );
        t.push_str(
            "# The witnesses that must cosign every checkpoint you accept (C2SP tlog-policy):\n\
             # one `witness <name> <vkey>` line each, and the quorum.\n[witnesses]\n",
        );
        if self.witnesses.is_empty() {
            t.push_str(
                "# policy = \"\"\"\n# witness w1 w1.example+1234abcd+BASE64KEY\n# quorum w1\n# \"\"\"\n\n",
            );
        } else {
            t.push_str("policy = \"\"\"\n");
            let mut names = Vec::new();
            for vkey in &self.witnesses {
                let name = vkey.split('+').next().unwrap_or(vkey);
                let _ = writeln!(t, "witness {name} {vkey}");
                names.push(name);
            }
            let need = self.quorum.unwrap_or(names.len());
            if names.len() == 1 {
                let _ = writeln!(t, "quorum {}", names[0]);
            } else {
                let _ = writeln!(
                    t,
                    "group witnesses {need} {}\nquorum witnesses",
                    names.join(" ")
                );
            }
            t.push_str("\"\"\"\n\n");
        }
        t.push_str(
            "# Whom you trust. Weight starts at your own key and flows over logged trust\n\
             # statements (`quorum trust <key> --level high`); a key you never reach weighs\n\
             # nothing, and a region of keys holds at most what flows into it.\n\
             [trust]\nroots = [\"me\"]\nmode = \"trust\"   # or \"best-path\", or \"hits\"\n\
             # damping = 0.5    # the share of its weight a key passes on to those it vouches for\n\
             # max_depth = 6    # hops from your key beyond which nobody carries weight\n\n",
        );
        let _ = writeln!(t, "[aliases]\nme = {}", quoted(&self.me));
        for (name, key) in &self.aliases {
            let _ = writeln!(t, "{name} = {}", quoted(key));
        }
        t.push_str(
            "\n# Who may decide alone: veto by advisory or failed audit, wave a fix through,\n\
             # demand an audit after an ownership change, cut a key by distrust, and be\n\
             # counted for min_adopters / min_audits. By default: your key and the keys you\n\
             # vouch for directly (max_hops = 1). Name holders to give a power to someone\n\
             # further out, for example a security team:\n\
             # [powers.advisory_veto]\n\
             # holders = [\"secteam\"]   # an alias above, a [roles] name, or a hex key\n\n",
        );
        t.push_str(
            "# Packages that no [[rule]] below matches are never installed on no evidence.\n\
             # (\"deny\" refuses them; \"allow\" would let them through unless vetoed.)\n\
             [fallback]\nverdict = \"insufficient-evidence\"\n\n",
        );
        t.push_str(
            "# Rules: the first whose `packages` pattern matches applies. Thresholds are\n\
             # exact and met at equality. Uncomment and adapt, for example:\n\
             # [[rule]]\n\
             # packages = \"pkg:cargo/*\"\n\
             # min_adoption = 0.6               # 60% of the weight of the users you trust\n\
             # min_adopters = 2                 # counted adopters (see [powers.adopter])\n\
             # required_criteria = [\"safe-to-deploy\"]\n\
             # min_age_seconds = 86400          # a day since the witnesses first saw it\n",
        );
        if !self.extra.is_empty() {
            t.push('\n');
            t.push_str(&self.extra);
        }
        t
    }
}

/// `quorum init`.
pub fn init(global: &Global, args: &InitArgs) -> anyhow::Result<u8> {
    let state = State::open(global)?;
    let path = state.policy_path(global);
    if path.exists() && !args.force {
        return Err(usage(format!(
            "{} already exists; pass --force to replace it, or --policy <file> to write elsewhere",
            path.display()
        )));
    }
    if let Some(quorum) = args.quorum
        && (quorum == 0 || quorum > args.witnesses.len())
    {
        return Err(usage(format!(
            "--quorum {quorum} must lie between 1 and the number of --witness keys ({})",
            args.witnesses.len()
        )));
    }
    let cargo_vet = match &args.from_cargo_vet {
        Some(dir) => Some(CargoVetStart::prepare(global, args, &state, dir)?),
        None => None,
    };
    let me = hex::encode(
        load_signer(global)?
            .signing_key()
            .verifying_key()
            .as_bytes(),
    );
    let mut starter = Starter {
        origin: args.origin.clone(),
        log_key: args.log_key.clone(),
        url: global.log.clone(),
        witnesses: args.witnesses.clone(),
        quorum: args.quorum,
        me,
        ..Starter::default()
    };
    if let Some(start) = &cargo_vet {
        start.extend(&mut starter);
    }
    let text = starter.render();
    // The library's own parser checks what is written; keys given as flags are checked now
    // rather than at the first verify.
    let policy = Policy::parse(&text)
        .map_err(|e| usage(format!("the starter policy does not parse: {e}")))?;
    if args.log_key.is_some() || !args.witnesses.is_empty() {
        LogTrust::from_policy(&policy).map_err(|e| usage(format!("{e}")))?;
    }
    if global.policy.is_none() {
        state.ensure()?;
    }
    write_atomic(&path, text.as_bytes())?;
    if let Some(start) = cargo_vet {
        return start.run(global, &path, &policy);
    }
    if global.json {
        println!(
            "{}",
            json!({"policy": path.display().to_string(), "sha256": hex::encode(policy.sha256)})
        );
    } else {
        println!("wrote {}", path.display());
        if args.origin.is_none() || args.log_key.is_none() {
            println!("replace the [log] placeholders with your log's origin, key and URL");
        }
        println!(
            "no [[rule]] is active yet: every package is insufficient-evidence until you add one"
        );
    }
    Ok(0)
}

/// `quorum init --from-cargo-vet <supply-chain>`: a project moving from cargo-vet starts
/// where it stood. Two importer keys restate its audit data (`<project>` its own
/// `audits.toml`, `<project>-imports` its `imports.lock`: the audits it imported and the
/// crates.io publisher records its wildcard audits and trusted entries need); the policy
/// lets only them (and the user) audit and requires `safe-to-deploy`; both files are
/// imported into the log; the report says what `verify --lockfile` now allows.
/// Exemptions (`[[exemptions.<crate>]]` in `config.toml`) are not audits: they are never
/// imported and never allow; the report lists the versions they cover that are not allowed.
struct CargoVetStart {
    dir: PathBuf,
    source: String,
    revision: String,
    lockfile: PathBuf,
    /// (alias, key file, public key hex, the file it imports).
    importers: Vec<(String, PathBuf, String, &'static str)>,
}

impl CargoVetStart {
    /// Checks the folder and the flags, and creates the user's key (if missing) and the
    /// importer keys (kept in `<state>/importers/`, reused when present).
    fn prepare(
        global: &Global,
        args: &InitArgs,
        state: &State,
        dir: &Path,
    ) -> anyhow::Result<CargoVetStart> {
        if args.origin.is_none() || args.log_key.is_none() || args.witnesses.is_empty() {
            return Err(usage(
                "--from-cargo-vet imports into your log: give --origin, --log-key and --witness",
            ));
        }
        let project = &args.project;
        if project.is_empty()
            || project.len() > 48
            || !project
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(usage(
                "--project: 1 to 48 lowercase letters, digits and `-` (it names aliases)",
            ));
        }
        if !dir.join("audits.toml").is_file() {
            return Err(usage(format!(
                "{} has no audits.toml: give a cargo-vet supply-chain folder",
                dir.display()
            )));
        }
        let lockfile = match &args.lockfile {
            Some(l) => l.clone(),
            None => [dir.join("../Cargo.lock"), dir.join("Cargo.lock")]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    usage("no Cargo.lock beside or inside the folder: give --lockfile")
                })?,
        };
        let own_key = state.key_path(global);
        if !own_key.exists() {
            create_key(&own_key, "me")?;
        }
        let mut importers = Vec::new();
        for (alias, file) in [
            (project.clone(), "audits.toml"),
            (format!("{project}-imports"), "imports.lock"),
        ] {
            if !dir.join(file).is_file() {
                continue;
            }
            let key_file = state.dir.join("importers").join(format!("{alias}.key"));
            let signer = if key_file.exists() {
                load_signer(&as_key(global, &key_file, None))?
            } else {
                create_key(&key_file, &alias)?
            };
            let public = hex::encode(signer.signing_key().verifying_key().as_bytes());
            importers.push((alias, key_file, public, file));
        }
        Ok(CargoVetStart {
            dir: dir.to_path_buf(),
            source: args
                .cargo_vet_source
                .clone()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned(),
            revision: args.revision.clone().unwrap_or_default(),
            lockfile,
            importers,
        })
    }

    /// The importer aliases, their powers and the rule.
    fn extend(&self, starter: &mut Starter) {
        let names: Vec<String> = self.importers.iter().map(|i| quoted(&i.0)).collect();
        for (alias, _, public, _) in &self.importers {
            starter.aliases.push((alias.clone(), public.clone()));
        }
        let holders = names.join(", ");
        starter.extra = format!(
            "# From cargo-vet (`quorum init --from-cargo-vet {}`): the project's own audits\n\
             # and its imports, each restated by an importer key above, are the only audits\n\
             # that count besides yours; cargo-vet's semantics apply (delta chains, criteria\n\
             # implications, wildcard audits and trusted entries over publisher records,\n\
             # violations as vetoes). Exemptions are not audits and are not imported.\n\
             [powers.auditor]\nholders = [{holders}]\nmax_hops = 0\n\n\
             [powers.failed_audit_veto]\nholders = [{holders}]\nmax_hops = 0\n\n\
             [[rule]]\npackages = \"pkg:cargo/*\"\nmin_audits = 1\nrequired_criteria = [\"safe-to-deploy\"]\n",
            self.dir.display()
        );
    }

    /// Imports the files under their keys, then decides the lockfile and reports.
    fn run(self, global: &Global, policy_path: &Path, policy: &Policy) -> anyhow::Result<u8> {
        let mut written: Option<u64> = None;
        for (_, key_file, _, file) in &self.importers {
            let args = ImportArgs {
                source: ImportSource::CargoVet {
                    file: self.dir.join(file),
                    opts: ImportOpts {
                        source: format!("{}/{file}", self.source),
                        revision: self.revision.clone(),
                        check: false,
                        importer: None,
                        publish: PublishOpts {
                            out: None,
                            dry_run: false,
                        },
                    },
                },
            };
            let (_, last) =
                crate::import::import_to_log(&as_key(global, key_file, Some(policy_path)), &args)?;
            written = written.max(last);
        }
        if let Some(last) = written {
            wait_for_checkpoint(global, policy, last + 1)?;
        }
        let exemptions = read_exemptions(&self.dir.join("config.toml"))?;
        let me = as_key(
            global,
            &State::open(global)?.key_path(global),
            Some(policy_path),
        );
        let decisions = crate::verify::decide_lockfile(&me, &self.lockfile)?;
        let count = |v: Verdict| decisions.iter().filter(|(_, d)| d.verdict == v).count();
        let not_allowed: Vec<_> = decisions
            .iter()
            .filter(|(_, d)| d.verdict != Verdict::Allow)
            .map(|(purl, d)| {
                let exempted = exemptions.get(&(d.package.clone(), d.version.clone()));
                (purl, d, exempted)
            })
            .collect();
        let exempted = not_allowed.iter().filter(|n| n.2.is_some()).count();
        if global.json {
            println!(
                "{}",
                json!({
                    "policy": policy_path.display().to_string(),
                    "sha256": hex::encode(policy.sha256),
                    "importers": self.importers.iter().map(|(alias, key_file, public, file)| json!({
                        "alias": alias, "key_file": key_file.display().to_string(),
                        "public_key": public, "imports": file})).collect::<Vec<_>>(),
                    "lockfile": self.lockfile.display().to_string(),
                    "packages": decisions.len(),
                    "allow": count(Verdict::Allow),
                    "deny": count(Verdict::Deny),
                    "insufficient_evidence": count(Verdict::InsufficientEvidence),
                    "exempted_not_audited": exempted,
                    "not_allowed": not_allowed.iter().map(|(purl, d, ex)| json!({
                        "purl": purl, "verdict": d.verdict,
                        "exempted_by_config": ex.map(|c| c.as_str()),
                        "reasons": d.reasons})).collect::<Vec<_>>(),
                })
            );
            return Ok(0);
        }
        println!("wrote {}", policy_path.display());
        for (alias, key_file, public, file) in &self.importers {
            println!(
                "importer {alias} ({public}, key {}) restates {file}",
                key_file.display()
            );
        }
        println!(
            "verify --lockfile {}: {} packages: {} allow, {} deny, {} insufficient-evidence",
            self.lockfile.display(),
            decisions.len(),
            count(Verdict::Allow),
            count(Verdict::Deny),
            count(Verdict::InsufficientEvidence)
        );
        println!("not allowed ({}):", not_allowed.len());
        for (purl, d, ex) in &not_allowed {
            let why = match ex {
                Some(criteria) => {
                    format!("exempted by the project's config ({criteria}), not audited")
                }
                None => d.reasons.first().cloned().unwrap_or_default(),
            };
            println!("  {purl}  {}  {why}", d.verdict);
        }
        println!(
            "{exempted} of them are exempted in config.toml: exemptions are not audits, so they are not allowed"
        );
        Ok(0)
    }
}

/// How long to wait for the witnesses to cosign a checkpoint that covers an import.
const COSIGN_WAIT: Duration = Duration::from_secs(120);

/// Waits until the log serves a checkpoint of at least `size` entries that verifies
/// against the policy (log key and witness quorum): a bulk import returns once its entries
/// are durable, before they are in a cosigned checkpoint that `verify` accepts.
fn wait_for_checkpoint(global: &Global, policy: &Policy, size: u64) -> anyhow::Result<()> {
    let target = crate::publish::log_client(global)?;
    let trust = crate::glue::log_trust(policy)?;
    let started = Instant::now();
    loop {
        let note = target
            .client()
            .get_ok("/checkpoint", MAX_CHECKPOINT_BYTES)?;
        let cp = trust
            .verify_checkpoint(&note)
            .map_err(|e| crate::glue::client_error(e.into()))?;
        if cp.size() >= size {
            return Ok(());
        }
        if started.elapsed() > COSIGN_WAIT {
            return Err(unavailable(format!(
                "the log's cosigned checkpoint has {} entries after {}s; the import wrote up to {size}: run `quorum verify --lockfile` later",
                cp.size(),
                COSIGN_WAIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `global` acting as the holder of `key_file`, with the policy at `policy` (if given).
fn as_key(global: &Global, key_file: &Path, policy: Option<&Path>) -> Global {
    Global {
        state_dir: global.state_dir.clone(),
        policy: policy
            .map(Path::to_path_buf)
            .or_else(|| global.policy.clone()),
        log: global.log.clone(),
        key: Some(key_file.to_path_buf()),
        json: global.json,
        timeout: global.timeout,
    }
}

/// A cargo-vet `config.toml`'s exemptions: (canonical purl, version) → the criteria
/// exempted. A missing file has none.
fn read_exemptions(path: &Path) -> anyhow::Result<BTreeMap<(String, String), String>> {
    let mut out = BTreeMap::new();
    if !path.is_file() {
        return Ok(out);
    }
    let text = read_text(path, "cargo-vet config", MAX_SOURCE_FILE)?;
    let config: toml::Table =
        toml::from_str(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let Some(toml::Value::Table(exemptions)) = config.get("exemptions") else {
        return Ok(out);
    };
    for (name, entries) in exemptions {
        let Ok(purl) = Ecosystem::Cargo.package_purl(name) else {
            continue;
        };
        for entry in entries.as_array().into_iter().flatten() {
            let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
                continue;
            };
            let criteria = match entry.get("criteria") {
                Some(toml::Value::String(c)) => c.clone(),
                Some(toml::Value::Array(list)) => list
                    .iter()
                    .filter_map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            out.insert((purl.clone(), version.to_owned()), criteria);
        }
    }
    Ok(out)
}
