//! The client's policy: which log and witnesses to believe, whom to trust, who holds which
//! power, the rules a package version must meet before it is installed, and what happens to
//! packages no rule matches.
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
//! damping = 0.5               # the share a key passes on; it keeps the rest
//! max_depth = 6
//!
//! [aliases]
//! me = "ca1f...e0"
//! alice = "77aa...01"
//!
//! [powers.advisory_veto]        # see `powers`: who may veto, bypass, demand, cut, count
//! holders = ["alice"]
//!
//! [fallback]                    # packages no rule matches
//! verdict = "insufficient-evidence"
//!
//! [[rule]]
//! packages = "pkg:cargo/*"
//! min_adoption = 0.6            # exact: 6/10, met at equality; "2/3" also works
//! min_adopters = 3
//! required_auditors = ["alice"]
//! required_criteria = ["safe-to-deploy"]
//! ```
//!
//! The first rule whose `packages` pattern matches a package applies. A package no rule
//! matches gets the policy's `[fallback]`; without one it is `insufficient-evidence`: a
//! policy never allows what it does not speak about unless it says so.

mod expression;
mod fraction;
mod powers;

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

pub use expression::{Expression, MAX_EXPRESSION_BYTES};
pub use fraction::{Fraction, MAX_DECIMAL_PLACES};
pub use powers::{DEFAULT_MAX_HOPS, Grant, Power, PowerGrant, Powers, Refusal};

use crate::trust::{TrustMode, Weight};

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
    /// Conserved flow from the roots along edges that lead further from them.
    #[default]
    Trust,
    /// Trust weights as in `trust`, then HITS-style hub/authority refinement over the
    /// adoption graph, each hub score within its principal's trust weight.
    Hits,
    /// Conserved flow along cargo-crev's best-path tree.
    BestPath,
}

impl RankingMode {
    /// The trust-propagation rule behind this ranking mode.
    pub fn propagation(self) -> TrustMode {
        match self {
            RankingMode::Trust | RankingMode::Hits => TrustMode::Flow,
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
    /// The share of what a principal receives that it passes on, in [0, 1).
    #[serde(default = "default_damping")]
    pub damping: f64,
    /// Maximum propagation depth, in hops from a root.
    #[serde(default = "default_depth")]
    pub max_depth: u32,
    /// Minimum weight (a fraction of all weight) for a principal to count as trusted, and
    /// so to be weighed as an adopter.
    #[serde(default)]
    pub min_weight: Fraction,
}

/// With a damping of at most 1/2 a principal never passes on more than it keeps, so the
/// keys it vouches for, with everything behind them, never outweigh it.
fn default_damping() -> f64 {
    0.5
}

fn default_depth() -> u32 {
    6
}

/// Whose adoption `min_adoption` compares against: the trusted users of any version of the
/// package, or only of versions of the decided version's release line.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AdoptionScope {
    /// Every trusted user of the package counts: a 2.x user who has not moved to 1.9.1
    /// holds 1.9.1's adoption back.
    #[default]
    Package,
    /// Only trusted users of a version in the decided version's release line count
    /// ([`crate::ecosystem::Ecosystem::release_line`]: `1.4.2` and `1.9.0` are one line,
    /// `2.0.0` another), so a patch of an older line is measured among that line's users.
    ReleaseLine,
}

/// What an ownership change of a package demands of the versions after it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OwnershipChangeRule {
    /// Treat it as a breaking change: require at least one passing audit by a principal
    /// holding the `auditor` power.
    #[default]
    RequireAudit,
    /// Deny every version after the change.
    Deny,
    /// Ignore ownership changes.
    Ignore,
}

/// What happens to a package that no rule matches.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Never installed on no rule: `insufficient-evidence` (vetoes still deny).
    #[default]
    InsufficientEvidence,
    /// Denied.
    Deny,
    /// Allowed unless a veto applies (the rule that demands nothing).
    Allow,
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fallback::InsufficientEvidence => "insufficient-evidence",
            Fallback::Deny => "deny",
            Fallback::Allow => "allow",
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FallbackFile {
    verdict: Fallback,
}

/// The policy's fallback, and where it is written (`None`: not written, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FallbackSection {
    /// The verdict for packages no rule matches.
    pub verdict: Fallback,
    /// The line of the `[fallback]` table, if the policy has one.
    pub line: Option<usize>,
}

/// A rule as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default = "match_everything")]
    packages: String,
    #[serde(default)]
    min_adoption: Fraction,
    #[serde(default)]
    adoption_scope: AdoptionScope,
    #[serde(default)]
    min_adopters: u32,
    #[serde(default)]
    required_auditors: Vec<String>,
    #[serde(default)]
    required_criteria: Vec<String>,
    #[serde(default)]
    min_audits: u32,
    #[serde(default = "yes")]
    advisories_veto: bool,
    #[serde(default = "yes")]
    failed_audits_veto: bool,
    #[serde(default = "yes")]
    other_artifact_veto: bool,
    #[serde(default = "yes")]
    fix_bypass: bool,
    #[serde(default)]
    ownership_change: OwnershipChangeRule,
    #[serde(default)]
    allowed_capabilities: Option<Vec<String>>,
    #[serde(default)]
    min_age_seconds: u64,
    #[serde(default)]
    allow_if: Option<toml::Spanned<String>>,
    #[serde(default)]
    deny_if: Option<toml::Spanned<String>>,
}

/// The rules a package version must meet. Every field's default demands nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Which packages the rule applies to: a purl without version, `*` matching any run of
    /// characters (`pkg:cargo/*`, `pkg:npm/%40myorg/*`), the name folded to its ecosystem's
    /// canonical spelling ([`crate::ecosystem::canonical_package_pattern`]).
    pub packages: String,
    /// Minimum weighted fraction of trusted users of the package who adopted this version,
    /// exact, met at equality.
    pub min_adoption: Fraction,
    /// Whose adoption `min_adoption` is measured among: the package's trusted users, or
    /// those of the decided version's release line.
    pub adoption_scope: AdoptionScope,
    /// Minimum number of adopters of this version who hold the `adopter` power.
    pub min_adopters: u32,
    /// Auditors (aliases or keys) each of whom must have passed this version.
    pub required_auditors: Vec<String>,
    /// The required auditors' keys, resolved.
    pub required_auditor_keys: BTreeMap<[u8; 32], String>,
    /// Criteria that a counted passing audit must all claim.
    pub required_criteria: Vec<String>,
    /// Minimum number of passing audits meeting the criteria by holders of `auditor`.
    pub min_audits: u32,
    /// Deny a version that an advisory by a holder of `advisory_veto` names as affected.
    pub advisories_veto: bool,
    /// Deny a version that a holder of `failed_audit_veto` failed.
    pub failed_audits_veto: bool,
    /// Deny a lockfile entry when a statement that would count (a trusted adopter's, a
    /// holder of `auditor`'s) is about the same version under another digest than the one
    /// pinned; when false, such statements are set aside with a warning.
    pub other_artifact_veto: bool,
    /// Allow at once a version that an advisory by a holder of `fix_bypass` names as the
    /// fix, skipping adoption, audit and age thresholds (vetoes still apply).
    pub fix_bypass: bool,
    /// What an ownership change demands.
    pub ownership_change: OwnershipChangeRule,
    /// Capabilities that counted audits of this version may report; `None` allows any.
    pub allowed_capabilities: Option<Vec<String>>,
    /// Minimum provable age of the version in seconds: the time between the first witness
    /// cosignature covering a statement about it and the checkpoint the decision uses.
    pub min_age_seconds: u64,
    /// A CEL expression over the signals that replaces the thresholds above: true meets the
    /// rule, false leaves the version with insufficient evidence. Vetoes still apply first.
    pub allow_if: Option<Expression>,
    /// A CEL expression over the signals that denies the version when true, in addition to
    /// the built-in vetoes.
    pub deny_if: Option<Expression>,
    /// The policy line where the rule starts (0 for the rule a fallback applies).
    pub line: usize,
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
            min_adoption: Fraction::ZERO,
            adoption_scope: AdoptionScope::Package,
            min_adopters: 0,
            required_auditors: Vec::new(),
            required_auditor_keys: BTreeMap::new(),
            required_criteria: Vec::new(),
            min_audits: 0,
            advisories_veto: true,
            failed_audits_veto: true,
            other_artifact_veto: true,
            fix_bypass: true,
            ownership_change: OwnershipChangeRule::default(),
            allowed_capabilities: None,
            min_age_seconds: 0,
            allow_if: None,
            deny_if: None,
            line: 0,
        }
    }
}

/// Which rule applies to a package.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleMatch<'p> {
    /// The first `[[rule]]` whose pattern matches: its 1-based number and the rule.
    Rule {
        /// 1-based position among the `[[rule]]` tables.
        number: usize,
        /// The rule.
        rule: &'p Rule,
    },
    /// No rule matches: the fallback, with the rule that demands nothing (whose vetoes
    /// still apply).
    Fallback {
        /// The fallback.
        fallback: FallbackSection,
        /// The rule that demands nothing.
        rule: &'p Rule,
    },
}

impl<'p> RuleMatch<'p> {
    /// The rule whose thresholds and vetoes apply.
    pub fn rule(&self) -> &'p Rule {
        match self {
            RuleMatch::Rule { rule, .. } | RuleMatch::Fallback { rule, .. } => rule,
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
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    powers: powers::PowersFile,
    #[serde(default)]
    fallback: Option<toml::Spanned<FallbackFile>>,
    #[serde(default, rename = "rule")]
    rules: Vec<toml::Spanned<RuleFile>>,
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
    /// Role → its members' keys.
    pub roles: BTreeMap<String, Vec<[u8; 32]>>,
    /// Who holds each power.
    pub powers: Powers,
    /// What happens to packages no rule matches.
    pub fallback: FallbackSection,
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
    /// The rule a fallback applies: demands nothing, vetoes on.
    pub default_rule: Rule,
    /// SHA-256 of the policy file's bytes, recorded in every decision.
    pub sha256: [u8; 32],
}

/// 1-based line and column of byte offset `at` in `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, column)
}

fn syntax_error(text: &str, err: toml::de::Error) -> PolicyError {
    let (line, column) = err
        .span()
        .map_or((0, 0), |span| line_and_column(text, span.start));
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
    /// Parses and checks a policy file; rule expressions are compiled here, once.
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
        let mut policy = Policy {
            log: file.log,
            witnesses: file.witnesses,
            trust: file.trust,
            aliases,
            roles: BTreeMap::new(),
            powers: Powers::default(),
            fallback: FallbackSection::default(),
            rules: Vec::new(),
            default_rule: Rule::default(),
            sha256: Sha256::digest(text.as_bytes()).into(),
        };
        for (name, members) in &file.roles {
            if policy.aliases.contains_key(name) {
                return Err(PolicyError::Invalid(format!(
                    "[roles] {name:?} is also an alias: give the role another name"
                )));
            }
            let keys = members
                .iter()
                .map(|m| policy.resolve(m))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PolicyError::Invalid(format!("[roles] {name}: {e}")))?;
            policy.roles.insert(name.clone(), keys);
        }
        policy.check_trust()?;
        let mut grants = Vec::new();
        for power in Power::ALL {
            grants.push(match file.powers.get(power) {
                None => PowerGrant::default_for(power),
                Some(spanned) => policy.resolve_grant(text, power, spanned)?,
            });
        }
        policy.powers = Powers::from_grants(grants);
        if let Some(fallback) = &file.fallback {
            policy.fallback = FallbackSection {
                verdict: fallback.get_ref().verdict,
                line: Some(line_and_column(text, fallback.span().start).0),
            };
        }
        for (i, spanned) in file.rules.into_iter().enumerate() {
            let line = line_and_column(text, spanned.span().start).0;
            let rule = policy.check_rule(text, i + 1, line, spanned.into_inner())?;
            policy.rules.push(rule);
        }
        Ok(policy)
    }

    fn check_trust(&self) -> Result<(), PolicyError> {
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
        if !t.min_weight.at_most_one() {
            return Err(PolicyError::Invalid(format!(
                "[trust] min_weight {} is above 1, the weight of all roots together",
                t.min_weight
            )));
        }
        Ok(())
    }

    fn resolve_grant(
        &self,
        text: &str,
        power: Power,
        spanned: &toml::Spanned<powers::GrantFile>,
    ) -> Result<PowerGrant, PolicyError> {
        let line = line_and_column(text, spanned.span().start).0;
        let file = spanned.get_ref();
        let mut holders = BTreeMap::new();
        for name in &file.holders {
            let keys = self.resolve_holder(name).map_err(|e| {
                PolicyError::Invalid(format!("[powers.{power}] holders (line {line}): {e}"))
            })?;
            for key in keys {
                holders.entry(key).or_insert_with(|| name.clone());
            }
        }
        let min_weight = file.min_weight.unwrap_or_default();
        if !min_weight.at_most_one() {
            return Err(PolicyError::Invalid(format!(
                "[powers.{power}] min_weight {min_weight} (line {line}) is above 1, the weight of all roots together"
            )));
        }
        Ok(PowerGrant {
            power,
            holders,
            max_hops: file.max_hops.unwrap_or(DEFAULT_MAX_HOPS),
            min_weight,
            line: Some(line),
        })
    }

    fn check_rule(
        &self,
        text: &str,
        n: usize,
        line: usize,
        file: RuleFile,
    ) -> Result<Rule, PolicyError> {
        if !file.min_adoption.at_most_one() {
            return Err(PolicyError::Invalid(format!(
                "rule {n} ({}): min_adoption must lie between 0 and 1, got {}",
                file.packages, file.min_adoption
            )));
        }
        if !file.packages.starts_with("pkg:") && file.packages != "*" {
            return Err(PolicyError::Invalid(format!(
                "rule {n}: packages {:?} must be a purl pattern such as \"pkg:cargo/*\"",
                file.packages
            )));
        }
        let mut required_auditor_keys = BTreeMap::new();
        for auditor in &file.required_auditors {
            let key = self
                .resolve(auditor)
                .map_err(|e| PolicyError::Invalid(format!("rule {n} ({}): {e}", file.packages)))?;
            required_auditor_keys.insert(key, auditor.clone());
        }
        let compile = |key: &str, expression: Option<toml::Spanned<String>>| {
            expression
                .map(|e| {
                    Expression::compile(e.get_ref()).map_err(|message| {
                        let (line, column) = line_and_column(text, e.span().start);
                        PolicyError::Syntax {
                            line,
                            column,
                            message: format!("{key}: {message}"),
                        }
                    })
                })
                .transpose()
        };
        Ok(Rule {
            allow_if: compile("allow_if", file.allow_if)?,
            deny_if: compile("deny_if", file.deny_if)?,
            packages: crate::ecosystem::canonical_package_pattern(&file.packages),
            min_adoption: file.min_adoption,
            adoption_scope: file.adoption_scope,
            min_adopters: file.min_adopters,
            required_auditors: file.required_auditors,
            required_auditor_keys,
            required_criteria: file.required_criteria,
            min_audits: file.min_audits,
            advisories_veto: file.advisories_veto,
            failed_audits_veto: file.failed_audits_veto,
            other_artifact_veto: file.other_artifact_veto,
            fix_bypass: file.fix_bypass,
            ownership_change: file.ownership_change,
            allowed_capabilities: file.allowed_capabilities,
            min_age_seconds: file.min_age_seconds,
            line,
        })
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

    /// Resolves a power holder: an alias, a role (all its members) or a hex key.
    fn resolve_holder(&self, name: &str) -> Result<Vec<[u8; 32]>, PolicyError> {
        if let Some(members) = self.roles.get(name) {
            return Ok(members.clone());
        }
        self.resolve(name).map(|k| vec![k]).map_err(|_| {
            PolicyError::Invalid(format!(
                "{name:?} is neither an alias from [aliases], a role from [roles], nor a 64-hex-digit public key"
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

    /// Whether a principal of `weight` counts as trusted: above zero and at least
    /// `[trust] min_weight`, compared exactly.
    pub fn is_trusted_weight(&self, weight: Weight) -> bool {
        !weight.is_zero()
            && self
                .trust
                .min_weight
                .is_met_by(weight.units().into(), Weight::ONE.units().into())
    }

    /// The rule for `package` (a purl without version): the first match, or the fallback.
    pub fn rule_for(&self, package: &str) -> RuleMatch<'_> {
        match self
            .rules
            .iter()
            .enumerate()
            .find(|(_, rule)| glob_match(&rule.packages, package))
        {
            Some((i, rule)) => RuleMatch::Rule {
                number: i + 1,
                rule,
            },
            None => RuleMatch::Fallback {
                fallback: self.fallback,
                rule: &self.default_rule,
            },
        }
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
mod tests;
