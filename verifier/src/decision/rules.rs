//! Rules: from a tally's signals to a verdict with its reasons.
//!
//! Order: vetoes (failed audits, advisories, capabilities outside the allowed set, an
//! ownership change the rule denies, `deny_if`) deny; else, unless a fix bypass applies, the
//! thresholds (or `allow_if`) and an ownership change's demand for an audit must be met;
//! else allow. Every threshold is compared exactly and is met at equality. A package no rule
//! matches gets the policy's fallback.

use std::collections::BTreeSet;

use super::tally::Counted;
use super::{Decision, Verdict};
use crate::policy::{AdoptionScope, Fallback, OwnershipChangeRule, RuleMatch};

/// `part / whole` as a percentage for people, computed exactly and rounded down to a tenth,
/// so that a value just below a threshold never prints as the threshold.
fn percent(part: u128, whole: u128) -> String {
    if whole == 0 {
        return "0%".to_string();
    }
    let tenths = part.saturating_mul(1000) / whole;
    match tenths % 10 {
        0 => format!("{}%", tenths / 10),
        rest => format!("{}.{rest}%", tenths / 10),
    }
}

/// The verdict and reasons for a tallied version under `rule_match`.
pub(super) fn judge(rule_match: RuleMatch<'_>, mut c: Counted<'_>) -> Decision {
    let rule = rule_match.rule();
    let mut vetoes = std::mem::take(&mut c.vetoes);
    // One advisory can name a version in several VEX statements; say each reason once.
    let mut said = BTreeSet::new();
    vetoes.retain(|v| said.insert(v.clone()));
    let mut unmet = Vec::new();

    if let Some(allowed) = &rule.allowed_capabilities {
        let grown: Vec<&String> = c
            .signals
            .capabilities
            .iter()
            .filter(|cap| !allowed.contains(cap))
            .collect();
        if !grown.is_empty() {
            vetoes.push(format!(
                "audited capabilities {grown:?} are outside the allowed set {allowed:?}"
            ));
        }
    }
    if c.signals.ownership_changed {
        match rule.ownership_change {
            OwnershipChangeRule::Deny => {
                vetoes.push("the package changed owner and the rule denies that".into())
            }
            OwnershipChangeRule::RequireAudit if c.signals.passing_audits == 0 => unmet.push(
                "the package changed owner: a passing audit by a holder of the auditor power is required"
                    .into(),
            ),
            OwnershipChangeRule::RequireAudit | OwnershipChangeRule::Ignore => {}
        }
    }

    // The rule's thresholds, checked even under a bypass so that expressions can read
    // whether they are met. Every comparison is exact and met at equality.
    let s = &c.signals;
    let among = match rule.adoption_scope {
        AdoptionScope::Package => "trusted users",
        AdoptionScope::ReleaseLine => "trusted users of its release line",
    };
    let mut thresholds = Vec::new();
    if !rule.min_adoption.is_met_by(
        s.adopted_weight.units().into(),
        s.user_weight.units().into(),
    ) {
        thresholds.push(format!(
            "adoption {} of {among} is below the required {}",
            percent(
                s.adopted_weight.units().into(),
                s.user_weight.units().into()
            ),
            percent(
                rule.min_adoption.numerator().into(),
                rule.min_adoption.denominator().into()
            )
        ));
    }
    if s.adopters < rule.min_adopters {
        thresholds.push(format!(
            "{} counted adopters of {} trusted, {} required",
            s.adopters, s.trusted_adopters, rule.min_adopters
        ));
    }
    if s.passing_audits < rule.min_audits {
        thresholds.push(format!(
            "{} passing audits, {} required",
            s.passing_audits, rule.min_audits
        ));
    }
    let mut required_auditors_met = true;
    for (key, name) in &rule.required_auditor_keys {
        if !c.auditors.contains(key) {
            required_auditors_met = false;
            thresholds.push(format!("no passing audit by required auditor {name}"));
        }
    }
    if rule.min_age_seconds > 0 {
        match s.provable_age_seconds {
            Some(age) if age >= rule.min_age_seconds => {}
            Some(age) => thresholds.push(format!(
                "provable age {age}s is below the required {}s",
                rule.min_age_seconds
            )),
            None => {
                thresholds.push("no witness-cosigned statement proves the version's age".into())
            }
        }
    }
    c.signals.required_auditors_met = required_auditors_met;
    c.signals.thresholds_met = thresholds.is_empty();
    let summary = {
        let s = &c.signals;
        format!(
            "adoption {} by {} trusted adopters ({} counted), {} passing audits",
            percent(
                s.adopted_weight.units().into(),
                s.user_weight.units().into()
            ),
            s.trusted_adopters,
            s.adopters,
            s.passing_audits
        )
    };

    if let Some(deny_if) = &rule.deny_if {
        // Fails closed: an expression that cannot be evaluated denies.
        match deny_if.evaluate(c.package, c.version, &c.signals) {
            Ok(false) => {}
            Ok(true) => vetoes.push(format!("deny_if `{}` is true", deny_if.text())),
            Err(e) => vetoes.push(format!("deny_if `{}`: {e}", deny_if.text())),
        }
    }
    let bypass = rule.fix_bypass && c.signals.named_fix;
    let mut allowed_by_expression = None;
    if !bypass {
        match &rule.allow_if {
            None => unmet.extend(thresholds),
            Some(allow_if) => match allow_if.evaluate(c.package, c.version, &c.signals) {
                Ok(true) => {
                    allowed_by_expression = Some(format!(
                        "allow_if `{}` is true ({summary})",
                        allow_if.text()
                    ))
                }
                Ok(false) => unmet.push(format!(
                    "allow_if `{}` is false ({summary})",
                    allow_if.text()
                )),
                Err(e) => unmet.push(format!("allow_if `{}`: {e}", allow_if.text())),
            },
        }
    }

    let (verdict, reasons) = if !vetoes.is_empty() {
        (Verdict::Deny, vetoes)
    } else if let RuleMatch::Fallback { fallback, .. } = rule_match
        && (fallback.verdict != Fallback::Allow || unmet.is_empty())
    {
        let source = match fallback.line {
            Some(line) => format!("the policy's [fallback] (line {line})"),
            None => "without a [fallback] in the policy the default".to_string(),
        };
        let head = format!("no [[rule]] matches {}; {source}", c.package);
        match fallback.verdict {
            Fallback::InsufficientEvidence => (
                Verdict::InsufficientEvidence,
                vec![format!("{head} is insufficient-evidence")],
            ),
            Fallback::Deny => (Verdict::Deny, vec![format!("{head} is deny")]),
            Fallback::Allow => (
                Verdict::Allow,
                vec![format!("{head} allows what nothing vetoes ({summary})")],
            ),
        }
    } else if !unmet.is_empty() {
        // Under a fallback that allows, the rule that demands nothing still demands the
        // audit an ownership change calls for.
        (Verdict::InsufficientEvidence, unmet)
    } else {
        let reason = if bypass {
            c.fixes.join("; ")
        } else if let Some(reason) = allowed_by_expression {
            reason
        } else {
            format!("{summary}: every rule is met")
        };
        (Verdict::Allow, vec![reason])
    };
    Decision {
        package: c.package.to_string(),
        version: c.version.to_string(),
        verdict,
        reasons,
        warnings: c.warnings,
        artifact: c.artifact,
        rule: describe(&rule_match),
        counted: c.counted.into_iter().collect(),
        rejected: c.rejected,
        signals: c.signals,
        weights: c.weights,
        powers: c.exercised,
    }
}

/// Which rule decided, for the decision's record.
pub(super) fn describe(rule_match: &RuleMatch<'_>) -> String {
    match rule_match {
        RuleMatch::Rule { number, rule } => {
            format!(
                "rule {number} ({}, policy line {})",
                rule.packages, rule.line
            )
        }
        RuleMatch::Fallback { fallback, .. } => match fallback.line {
            Some(line) => format!("fallback {} (policy line {line})", fallback.verdict),
            None => format!("fallback {} (the default)", fallback.verdict),
        },
    }
}
