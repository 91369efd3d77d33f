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
//! max_checkpoint_age_seconds = 86400   # optional: refuse a checkpoint older than a day
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
    /// The longest time, in seconds by the client's clock, since the witness quorum last
    /// cosigned the checkpoint a decision rests on; older gives no verdict (a frozen log could
    /// otherwise hide every later statement). None: no limit.
    #[serde(default)]
    pub max_checkpoint_age_seconds: Option<u64>,
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
    /// A CEL expression over the signals ([`EXPRESSION_VARIABLES`]) that replaces the
    /// thresholds above: true meets the rule, false leaves the version with insufficient
    /// evidence. Vetoes still apply first. The span locates it in the file for errors.
    #[serde(default)]
    pub allow_if: Option<toml::Spanned<String>>,
    /// A CEL expression over the signals that denies the version when true, in addition to
    /// the built-in vetoes.
    #[serde(default)]
    pub deny_if: Option<toml::Spanned<String>>,
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
            allow_if: None,
            deny_if: None,
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

/// Parses a principal's key in the one key grammar ([`crate::model::principal`]).
pub fn parse_hex_key(text: &str) -> Option<[u8; 32]> {
    crate::model::principal::parse_key(text).ok()
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
                    "alias {name:?}: {key:?} is not an Ed25519 public key (64 lowercase hex digits, ed25519:<hex> or a signed-note verifier key)"
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
        policy.check(text)?;
        Ok(policy)
    }

    fn check(&self, text: &str) -> Result<(), PolicyError> {
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
            for (key, expression) in [("allow_if", &rule.allow_if), ("deny_if", &rule.deny_if)] {
                if let Some(expression) = expression {
                    check_expression(text, key, expression)?;
                }
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
                "{name:?} is neither an alias from [aliases] nor an Ed25519 public key (64 lowercase hex digits, ed25519:<hex> or a signed-note verifier key)"
            ))
        })
    }

    /// How reasons name a key: its alias with the key's first 16 hex digits when the policy
    /// has one (the first alias in name order), else the whole key in hex.
    pub fn describe_key(&self, key: &[u8; 32]) -> String {
        let hex = hex::encode(key);
        match self.aliases.iter().find(|(_, k)| *k == key) {
            Some((alias, _)) => format!("{alias} ({}…)", &hex[..16]),
            None => hex,
        }
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
    fn expressions_are_checked_at_load_and_errors_name_the_line() {
        let good = sample().replace(
            "min_adopters = 2",
            "min_adopters = 2\nallow_if = \"thresholds_met || (passing_audits >= 2 && adopters > 0)\"\ndeny_if = \"'network' in capabilities && !required_auditors_met\"",
        );
        let policy = Policy::parse(&good).unwrap();
        let rule = policy.rule_for("pkg:cargo/serde");
        assert!(rule.allow_if.is_some() && rule.deny_if.is_some());
        for (expression, needle) in [
            ("adopters >", "syntax error"),
            ("adopterz > 1", "unknown variable adopterz"),
            ("adopters + 1", "not a boolean"),
            ("adopters > 'many'", "evaluation failed"),
            ("purl", "not a boolean"),
            ("package == 'x'", "reserved"),
        ] {
            let text = sample().replace(
                "min_adopters = 2",
                &format!("min_adopters = 2\n\nallow_if = {expression:?}"),
            );
            let expected_line = text
                .lines()
                .position(|l| l.starts_with("allow_if"))
                .map(|i| i + 1)
                .unwrap();
            match Policy::parse(&text) {
                Err(PolicyError::Syntax { line, message, .. }) => {
                    assert_eq!(line, expected_line, "{expression}: {message}");
                    assert!(message.contains(needle), "{expression}: {message}");
                    assert!(message.starts_with("allow_if"), "{message}");
                }
                other => panic!("{expression}: expected an error, got {other:?}"),
            }
        }
        let long = sample().replace(
            "min_adopters = 2",
            &format!("allow_if = \"{}true\"", "true && ".repeat(600)),
        );
        let err = Policy::parse(&long).unwrap_err().to_string();
        assert!(err.contains("limit"), "{err}");
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

/// The largest expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// The variables a rule expression (`allow_if`, `deny_if`) can read, with their CEL types.
pub const EXPRESSION_VARIABLES: &[(&str, &str)] = &[
    // `package` is a reserved word in CEL.
    ("purl", "string"),
    ("version", "string"),
    ("adoption_fraction", "double"),
    ("adopters", "int"),
    ("users", "int"),
    ("passing_audits", "int"),
    ("failed_audits", "int"),
    ("auditors", "list(string)"),
    ("required_auditors_met", "bool"),
    ("advisories", "int"),
    ("named_fix", "bool"),
    ("ownership_changed", "bool"),
    ("capabilities", "list(string)"),
    ("age_known", "bool"),
    ("provable_age_seconds", "int"),
    ("thresholds_met", "bool"),
];

/// The values of [`EXPRESSION_VARIABLES`] for one decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpressionInput {
    /// Package purl without version.
    pub package: String,
    /// The version decided on.
    pub version: String,
    /// Weighted fraction of trusted users who adopted this version.
    pub adoption_fraction: f64,
    /// Trusted adopters of this version.
    pub adopters: u32,
    /// Trusted users of the package.
    pub users: u32,
    /// Passing audits by trusted auditors meeting the criteria.
    pub passing_audits: u32,
    /// Failing audits by trusted auditors.
    pub failed_audits: u32,
    /// Keys (hex) of the trusted auditors who passed this version.
    pub auditors: Vec<String>,
    /// Whether every required auditor passed this version.
    pub required_auditors_met: bool,
    /// Trusted advisories naming this version as affected.
    pub advisories: u32,
    /// Whether a trusted advisory names this version as a fix.
    pub named_fix: bool,
    /// Whether a trusted ownership-change report covers this version.
    pub ownership_changed: bool,
    /// Capabilities reported by passing trusted audits.
    pub capabilities: Vec<String>,
    /// Provable age in seconds, if any witnessed statement dates the version.
    pub provable_age_seconds: Option<u64>,
    /// Whether the rule's numeric thresholds (adoption, adopters, audits, required auditors,
    /// age) are all met.
    pub thresholds_met: bool,
}

impl ExpressionInput {
    /// Values of every type, used to type-check an expression when the policy is loaded.
    fn sample() -> ExpressionInput {
        ExpressionInput {
            package: "pkg:cargo/example".into(),
            version: "1.0.0".into(),
            adoption_fraction: 0.5,
            adopters: 1,
            users: 2,
            passing_audits: 1,
            failed_audits: 1,
            auditors: vec!["00".repeat(32)],
            required_auditors_met: true,
            advisories: 1,
            named_fix: false,
            ownership_changed: false,
            capabilities: vec!["network".into()],
            provable_age_seconds: Some(86_400),
            thresholds_met: true,
        }
    }

    fn context(&self) -> cel::Context<'static, 'static> {
        use cel::Value;
        use std::sync::Arc;
        let strings = |v: &[String]| {
            Value::List(Arc::new(
                v.iter()
                    .map(|s| Value::String(Arc::new(s.clone())))
                    .collect(),
            ))
        };
        let mut ctx = cel::Context::default();
        let vars: [(&str, Value); 16] = [
            ("purl", Value::String(Arc::new(self.package.clone()))),
            ("version", Value::String(Arc::new(self.version.clone()))),
            ("adoption_fraction", Value::Float(self.adoption_fraction)),
            ("adopters", Value::Int(i64::from(self.adopters))),
            ("users", Value::Int(i64::from(self.users))),
            ("passing_audits", Value::Int(i64::from(self.passing_audits))),
            ("failed_audits", Value::Int(i64::from(self.failed_audits))),
            ("auditors", strings(&self.auditors)),
            (
                "required_auditors_met",
                Value::Bool(self.required_auditors_met),
            ),
            ("advisories", Value::Int(i64::from(self.advisories))),
            ("named_fix", Value::Bool(self.named_fix)),
            ("ownership_changed", Value::Bool(self.ownership_changed)),
            ("capabilities", strings(&self.capabilities)),
            (
                "age_known",
                Value::Bool(self.provable_age_seconds.is_some()),
            ),
            (
                "provable_age_seconds",
                Value::Int(
                    self.provable_age_seconds
                        .map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX)),
                ),
            ),
            ("thresholds_met", Value::Bool(self.thresholds_met)),
        ];
        for (name, value) in vars {
            ctx.add_variable_from_value(name, value);
        }
        ctx
    }
}

/// A rule expression, compiled.
pub struct CompiledExpression {
    program: cel::Program,
}

impl std::fmt::Debug for CompiledExpression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledExpression")
    }
}

impl CompiledExpression {
    /// Compiles an expression (syntax, size, known variables only).
    pub fn compile(text: &str) -> Result<CompiledExpression, String> {
        if text.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "the expression is {} bytes; the limit is {MAX_EXPRESSION_BYTES}",
                text.len()
            ));
        }
        let program = cel::Program::compile(text).map_err(|e| {
            let first = e.to_string();
            format!(
                "syntax error: {}",
                first.lines().next().unwrap_or("unparsable expression")
            )
        })?;
        let references = program.references();
        let mut unknown: Vec<&str> = references
            .variables()
            .into_iter()
            .filter(|v| !EXPRESSION_VARIABLES.iter().any(|(name, _)| name == v))
            .collect();
        unknown.sort_unstable();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown variable{} {}; known: {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                EXPRESSION_VARIABLES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(CompiledExpression { program })
    }

    /// Evaluates the expression; anything but a boolean result is an error.
    pub fn evaluate(&self, input: &ExpressionInput) -> Result<bool, String> {
        match self.program.execute(&input.context()) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "the expression gave {:?}, not a boolean",
                other.type_of()
            )),
            Err(e) => Err(format!("evaluation failed: {e}")),
        }
    }
}

/// Compiles an expression and evaluates it once over sample values of every variable, so a
/// syntax error, an unknown variable, a type error or a non-boolean result is reported when
/// the policy is loaded, with the line it is on.
fn check_expression(
    text: &str,
    key: &str,
    expression: &toml::Spanned<String>,
) -> Result<(), PolicyError> {
    let at = expression.span().start.min(text.len());
    let before = &text.as_bytes()[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    let fail = |message: String| PolicyError::Syntax {
        line,
        column,
        message: format!("{key}: {message}"),
    };
    let compiled = CompiledExpression::compile(expression.get_ref()).map_err(fail)?;
    compiled
        .evaluate(&ExpressionInput::sample())
        .map_err(fail)?;
    Ok(())
}
