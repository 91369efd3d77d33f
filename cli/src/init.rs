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

use std::fmt::Write as _;

use quorum_verifier::client::LogTrust;
use quorum_verifier::policy::Policy;
use serde_json::json;

use crate::cli::{Global, InitArgs};
use crate::error::usage;
use crate::keys::load_signer;
use crate::state::{State, write_atomic};

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
             # What every key means: spec/verifier-semantics.md §3-§5 and verifier/README.md.\n\n",
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
    let me = hex::encode(
        load_signer(global)?
            .signing_key()
            .verifying_key()
            .as_bytes(),
    );
    let starter = Starter {
        origin: args.origin.clone(),
        log_key: args.log_key.clone(),
        url: global.log.clone(),
        witnesses: args.witnesses.clone(),
        quorum: args.quorum,
        me,
        ..Starter::default()
    };
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
