//! The client's policy: which log and witnesses to believe, whom to trust, and the rules a
//! package version must meet before it is installed.
//!
//! A policy is a TOML file. Errors name the line and column of the offending value, so a
//! mistyped threshold is easy to find:
//!
//! ```toml
//! [log]
//! origin = "quorum.example/log"
//! key = "quorum.example/log+abcd1234+AQ..."
//!
//! [trust]
//! roots = ["me", "ca1f...e0"]   # aliases or 64-hex Ed25519 public keys
//! mode = "trust"                # or "hits", or "best-path"
//! damping = 0.85
//! max_depth = 6
//!
//! [aliases]
//! me = "ca1f...e0"
//! alice = "77aa...01"
//!
//! [[rule]]
//! packages = "pkg:cargo/*"
//! min_adoption = 0.6
//! min_adopters = 3
//! required_auditors = ["alice"]
//! required_criteria = ["safe-to-deploy"]
//! ```
//!
//! The first rule whose `packages` pattern matches a package applies; a package no rule
//! matches gets the defaults of [`Rule`], which demand nothing and so allow unless vetoed.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::trust::TrustMode;

/// The largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// Errors in a policy file.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The file is larger than [`MAX_POLICY_BYTES`].
    #[error("policy is {0} bytes; the limit is {MAX_POLICY_BYTES}")]
    TooLarge(usize),
    /// TOML syntax or a value of the wrong type; the message names the line.
    #[error("policy line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A semantic error, such as a threshold out of range or an unknown alias.
    #[error("policy: {0}")]
    Invalid(String),
}

/// The log this client reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// The log's origin line.
    pub origin: String,
    /// The log's signed-note verifier key.
    pub key: String,
    /// Base URL of the log's HTTP API.
    #[serde(default)]
    pub url: Option<String>,
}

/// Which witnesses must cosign a checkpoint: C2SP tlog-policy text, given inline.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct WitnessSection {
    /// The tlog-policy document (its `log` lines may be omitted: the `[log]` section names the log).
    #[serde(default)]
    pub policy: Option<String>,
}

/// Ranking mode names as written in the policy.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RankingMode {
    /// Personalized PageRank from the roots.
    #[default]
    Trust,
    /// Personalized PageRank, then HITS-style hub/authority refinement over the adoption
    /// graph, restricted to principals the roots reach and seeded with their trust.
    Hits,
    /// cargo-crev's best path.
    BestPath,
}

impl RankingMode {
    /// The trust-propagation rule behind this ranking mode.
    pub fn propagation(self) -> TrustMode {
        match self {
            RankingMode::Trust | RankingMode::Hits => TrustMode::PersonalizedPageRank,
            RankingMode::BestPath => TrustMode::BestPath,
        }
    }
}

/// Trust roots and propagation parameters.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Root principals: aliases or 64-hex-digit Ed25519 public keys.
    pub roots: Vec<String>,
    /// The ranking mode.
    #[serde(default)]
    pub mode: RankingMode,
    /// Damping factor in [0, 1).
    #[serde(default = "default_damping")]
    pub damping: f64,
    /// Maximum propagation depth, in hops from a root.
    #[serde(default = "default_depth")]
    pub max_depth: u32,
    /// Minimum weight for a principal to count as trusted (and so as an adopter or auditor).
    #[serde(default)]
    pub min_weight: f64,
}

fn default_damping() -> f64 {
    0.85
}

fn default_depth() -> u32 {
    6
}

/// What an ownership change of a package demands of the versions after it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OwnershipChangeRule {
    /// Treat it as a breaking change: require at least one passing audit by a trusted auditor.
    #[default]
    RequireAudit,
    /// Deny every version after the change.
    Deny,
    /// Ignore ownership changes.
    Ignore,
}

/// The rules a package version must meet. Every field has a default that demands nothing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Which packages the rule applies to: a purl without version, `*` matching any run of
    /// characters (`pkg:cargo/*`, `pkg:npm/%40myorg/*`).
    #[serde(default = "match_everything")]
    pub packages: String,
    /// Minimum weighted fraction (0 to 1) of trusted users of the package who adopted this version.
    #[serde(default)]
    pub min_adoption: f64,
    /// Minimum number of trusted adopters of this version.
    #[serde(default)]
    pub min_adopters: u32,
    /// Auditors (aliases or keys) each of whom must have passed this version.
    #[serde(default)]
    pub required_auditors: Vec<String>,
    /// Criteria that a counted passing audit must all claim.
    #[serde(default)]
    pub required_criteria: Vec<String>,
    /// Minimum number of passing audits by trusted auditors that meet the criteria.
    #[serde(default)]
    pub min_audits: u32,
    /// Deny a version that a trusted advisory names as affected.
    #[serde(default = "yes")]
    pub advisories_veto: bool,
    /// Deny a version that a trusted auditor failed.
    #[serde(default = "yes")]
    pub failed_audits_veto: bool,
    /// Allow at once a version that a trusted advisory names as the fix, skipping adoption,
    /// audit and age thresholds (vetoes still apply).
    #[serde(default = "yes")]
    pub fix_bypass: bool,
    /// What an ownership change demands.
    #[serde(default)]
    pub ownership_change: OwnershipChangeRule,
    /// Capabilities that audits of this version may report; `None` allows any.
    #[serde(default)]
    pub allowed_capabilities: Option<Vec<String>>,
    /// Minimum provable age of the version in seconds: the time between the first witness
    /// cosignature covering a statement about it and the checkpoint the decision uses.
    #[serde(default)]
    pub min_age_seconds: u64,
}

fn match_everything() -> String {
    "*".to_string()
}

fn yes() -> bool {
    true
}

impl Default for Rule {
    fn default() -> Self {
        Self {
            packages: match_everything(),
            min_adoption: 0.0,
            min_adopters: 0,
            required_auditors: Vec::new(),
            required_criteria: Vec::new(),
            min_audits: 0,
            advisories_veto: true,
            failed_audits_veto: true,
            fix_bypass: true,
            ownership_change: OwnershipChangeRule::default(),
            allowed_capabilities: None,
            min_age_seconds: 0,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    log: Option<LogSection>,
    #[serde(default)]
    witnesses: WitnessSection,
    trust: TrustSection,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    #[serde(default, rename = "rule")]
    rules: Vec<Rule>,
}

/// A parsed and checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The log, if the policy names one.
    pub log: Option<LogSection>,
    /// The witness quorum.
    pub witnesses: WitnessSection,
    /// Trust roots and parameters.
    pub trust: TrustSection,
    /// Alias → public key.
    pub aliases: BTreeMap<String, [u8; 32]>,
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
    /// SHA-256 of the policy file's bytes, recorded in every decision.
    pub sha256: [u8; 32],
}

fn syntax_error(text: &str, err: toml::de::Error) -> PolicyError {
    let (line, column) = match err.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            (line, column)
        }
        None => (0, 0),
    };
    PolicyError::Syntax {
        line,
        column,
        message: err.message().to_string(),
    }
}

/// Parses a 64-hex-digit Ed25519 public key.
pub fn parse_hex_key(text: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(text, &mut key).ok()?;
    Some(key)
}

impl Policy {
    /// Parses and checks a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge(text.len()));
        }
        let file: PolicyFile = toml::from_str(text).map_err(|e| syntax_error(text, e))?;
        let mut aliases = BTreeMap::new();
        for (name, key) in &file.aliases {
            let key = parse_hex_key(key).ok_or_else(|| {
                PolicyError::Invalid(format!(
                    "alias {name:?}: {key:?} is not a 64-hex-digit Ed25519 public key"
                ))
            })?;
            aliases.insert(name.clone(), key);
        }
        let policy = Policy {
            log: file.log,
            witnesses: file.witnesses,
            trust: file.trust,
            aliases,
            rules: file.rules,
            sha256: Sha256::digest(text.as_bytes()).into(),
        };
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<(), PolicyError> {
        let t = &self.trust;
        if t.roots.is_empty() {
            return Err(PolicyError::Invalid(
                "[trust] roots is empty: name at least one key you trust".into(),
            ));
        }
        for root in &t.roots {
            self.resolve(root)?;
        }
        if !(0.0..1.0).contains(&t.damping) {
            return Err(PolicyError::Invalid(format!(
                "[trust] damping must be at least 0 and below 1, got {}",
                t.damping
            )));
        }
        if t.max_depth > 64 {
            return Err(PolicyError::Invalid(format!(
                "[trust] max_depth {} is above the limit of 64",
                t.max_depth
            )));
        }
        if !(t.min_weight >= 0.0 && t.min_weight.is_finite()) {
            return Err(PolicyError::Invalid(
                "[trust] min_weight must be a finite number of at least 0".into(),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let n = i + 1;
            if !(0.0..=1.0).contains(&rule.min_adoption) {
                return Err(PolicyError::Invalid(format!(
                    "rule {n} ({}): min_adoption must lie between 0 and 1, got {}",
                    rule.packages, rule.min_adoption
                )));
            }
            if !rule.packages.starts_with("pkg:") && rule.packages != "*" {
                return Err(PolicyError::Invalid(format!(
                    "rule {n}: packages {:?} must be a purl pattern such as \"pkg:cargo/*\"",
                    rule.packages
                )));
            }
            for auditor in &rule.required_auditors {
                self.resolve(auditor).map_err(|e| {
                    PolicyError::Invalid(format!("rule {n} ({}): {e}", rule.packages))
                })?;
            }
        }
        Ok(())
    }

    /// Resolves an alias or a hex public key.
    pub fn resolve(&self, name: &str) -> Result<[u8; 32], PolicyError> {
        if let Some(key) = self.aliases.get(name) {
            return Ok(*key);
        }
        parse_hex_key(name).ok_or_else(|| {
            PolicyError::Invalid(format!(
                "{name:?} is neither an alias from [aliases] nor a 64-hex-digit public key"
            ))
        })
    }

    /// The root keys.
    pub fn root_keys(&self) -> Result<Vec<[u8; 32]>, PolicyError> {
        self.trust.roots.iter().map(|r| self.resolve(r)).collect()
    }

    /// The rule for `package` (a purl without version): the first match, or the default rule.
    pub fn rule_for(&self, package: &str) -> Rule {
        self.rules
            .iter()
            .find(|rule| glob_match(&rule.packages, package))
            .cloned()
            .unwrap_or_default()
    }
}

/// Matches `text` against `pattern`, where `*` matches any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "77aa000000000000000000000000000000000000000000000000000000000001";
    const ME: &str = "ca1f0000000000000000000000000000000000000000000000000000000000e0";

    fn sample() -> String {
        format!(
            r#"
[trust]
roots = ["me"]
mode = "hits"

[aliases]
me = "{ME}"
alice = "{ALICE}"

[[rule]]
packages = "pkg:cargo/*"
min_adoption = 0.6
min_adopters = 2
required_auditors = ["alice"]

[[rule]]
packages = "pkg:npm/*"
ownership_change = "deny"
"#
        )
    }

    #[test]
    fn parses_and_picks_first_matching_rule() {
        let policy = Policy::parse(&sample()).unwrap();
        assert_eq!(policy.trust.mode, RankingMode::Hits);
        assert_eq!(policy.trust.damping, 0.85);
        let rule = policy.rule_for("pkg:cargo/serde");
        assert_eq!(rule.min_adoption, 0.6);
        assert_eq!(rule.min_adopters, 2);
        assert!(rule.advisories_veto);
        let npm = policy.rule_for("pkg:npm/left-pad");
        assert_eq!(npm.ownership_change, OwnershipChangeRule::Deny);
        assert_eq!(policy.rule_for("pkg:pypi/requests"), Rule::default());
        assert_eq!(
            policy.root_keys().unwrap(),
            vec![parse_hex_key(ME).unwrap()]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let text = sample().replace("min_adopters = 2", "min_adopters = \"two\"");
        match Policy::parse(&text) {
            Err(PolicyError::Syntax { line, .. }) => {
                let expected = text
                    .lines()
                    .position(|l| l.contains("\"two\""))
                    .map(|i| i + 1)
                    .unwrap();
                assert_eq!(line, expected);
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        let text = sample().replace("min_adopters", "min_adoptrs");
        let err = Policy::parse(&text).unwrap_err().to_string();
        assert!(err.contains("min_adoptrs"), "{err}");
    }

    #[test]
    fn rejects_bad_values() {
        for (from, to, needle) in [
            ("min_adoption = 0.6", "min_adoption = 1.5", "min_adoption"),
            ("roots = [\"me\"]", "roots = []", "roots"),
            ("roots = [\"me\"]", "roots = [\"nobody\"]", "nobody"),
            (
                "required_auditors = [\"alice\"]",
                "required_auditors = [\"bob\"]",
                "bob",
            ),
            (
                "mode = \"hits\"",
                "mode = \"hits\"\ndamping = 1.0",
                "damping",
            ),
            (
                "packages = \"pkg:npm/*\"",
                "packages = \"npm\"",
                "purl pattern",
            ),
        ] {
            let text = sample().replace(from, to);
            let err = Policy::parse(&text).unwrap_err().to_string();
            assert!(err.contains(needle), "{to}: {err}");
        }
        let huge = "#".repeat(MAX_POLICY_BYTES + 1);
        assert!(matches!(
            Policy::parse(&huge),
            Err(PolicyError::TooLarge(_))
        ));
        let bad_alias = sample().replace(ALICE, "zz");
        assert!(Policy::parse(&bad_alias).is_err());
    }

    #[test]
    fn policy_hash_covers_the_bytes() {
        let a = Policy::parse(&sample()).unwrap();
        let b = Policy::parse(&format!("{}\n# comment\n", sample())).unwrap();
        assert_ne!(a.sha256, b.sha256);
    }

    #[test]
    fn glob() {
        assert!(glob_match("*", "pkg:cargo/x"));
        assert!(glob_match("pkg:cargo/*", "pkg:cargo/serde"));
        assert!(!glob_match("pkg:cargo/*", "pkg:npm/serde"));
        assert!(glob_match("pkg:*/serde", "pkg:cargo/serde"));
        assert!(glob_match("pkg:cargo/serde", "pkg:cargo/serde"));
        assert!(!glob_match("pkg:cargo/serde", "pkg:cargo/serde_json"));
        assert!(glob_match("pkg:*a*a", "pkg:aa"));
        assert!(!glob_match("pkg:*ab*ab", "pkg:ab"));
    }
}
