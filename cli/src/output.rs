//! Tables and text for people.

use quorum_verifier::decision::{ArtifactBinding, Decision, Verdict};
use serde_json::{Value, json};

/// How many decisions of each verdict, for the summary line a person and a script read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Decisions that allow.
    pub allow: usize,
    /// Decisions that deny.
    pub deny: usize,
    /// Decisions with insufficient evidence.
    pub insufficient_evidence: usize,
    /// Of those, entries that are not the registry's artifact (git, URL, patched).
    pub not_registry: usize,
    /// Path entries of a lockfile, listed and not decided.
    pub local: usize,
}

impl Summary {
    /// Counts `decisions`, plus `local` undecided path entries.
    pub fn of<'d>(decisions: impl IntoIterator<Item = &'d Decision>, local: usize) -> Summary {
        let mut s = Summary {
            local,
            ..Summary::default()
        };
        for d in decisions {
            match d.verdict {
                Verdict::Allow => s.allow += 1,
                Verdict::Deny => s.deny += 1,
                Verdict::InsufficientEvidence => s.insufficient_evidence += 1,
            }
            if matches!(d.artifact, ArtifactBinding::NotRegistry { .. }) {
                s.not_registry += 1;
            }
        }
        s
    }

    /// `summary: 3 allow, 1 deny, 2 insufficient-evidence (1 not from the registry), 4 local
    /// (path) entries not decided`.
    pub fn line(self) -> String {
        let mut line = format!(
            "summary: {} allow, {} deny, {} insufficient-evidence",
            self.allow, self.deny, self.insufficient_evidence
        );
        if self.not_registry > 0 {
            line.push_str(&format!(" ({} not from the registry)", self.not_registry));
        }
        if self.local > 0 {
            line.push_str(&format!(
                ", {} local (path) entries not decided",
                self.local
            ));
        }
        line
    }

    /// The same counts as JSON.
    pub fn to_json(self) -> Value {
        json!({
            "allow": self.allow,
            "deny": self.deny,
            "insufficient-evidence": self.insufficient_evidence,
            "not-registry": self.not_registry,
            "local": self.local,
        })
    }
}

/// Prints one row per decision: purl, verdict, first reason.
pub fn print_table(rows: &[(String, &Decision)]) {
    let width = rows.iter().map(|(p, _)| p.len()).max().unwrap_or(7).max(7);
    println!("{:<width$}  {:<21}  REASON", "PACKAGE", "VERDICT");
    for (purl, d) in rows {
        let reason = d
            .reasons
            .first()
            .map(String::as_str)
            .unwrap_or("no rule applies");
        println!("{purl:<width$}  {:<21}  {reason}", d.verdict.to_string());
        for more in d.reasons.iter().skip(1) {
            println!("{:<width$}  {:<21}  {more}", "", "");
        }
        for warning in &d.warnings {
            println!("{:<width$}  {:<21}  warning: {warning}", "", "");
        }
    }
}

/// Prints the explanation of one decision.
pub fn print_explain(purl: &str, d: &Decision, counted: &[Value], rejected: &[Value]) {
    println!("{purl}: {}", d.verdict);
    for r in &d.reasons {
        println!("  - {r}");
    }
    let s = &d.signals;
    println!(
        "signals: adoption {:.3} ({} of {} users), audits {} passing / {} failing, advisories {}, fix named {}, ownership changed {}, provable age {}",
        s.adoption_fraction,
        s.adopters,
        s.users,
        s.passing_audits,
        s.failed_audits,
        s.advisories,
        s.named_fix,
        s.ownership_changed,
        s.provable_age_seconds
            .map_or_else(|| "unknown".to_string(), |a| format!("{a}s")),
    );
    println!("counted ({}):", counted.len());
    for c in counted {
        println!(
            "  #{:<8} weight {:.4}  {}  by {}",
            c["index"],
            c["weight"].as_f64().unwrap_or(0.0),
            c["claim"].as_str().unwrap_or(""),
            c["signer"].as_str().unwrap_or("")
        );
    }
    println!("rejected ({}):", rejected.len());
    for r in rejected {
        println!(
            "  #{:<8} {}",
            r["index"],
            r["reason"].as_str().unwrap_or("")
        );
    }
}
