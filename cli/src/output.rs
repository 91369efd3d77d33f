//! Tables and text for people.

use quorum_verifier::decision::Decision;
use serde_json::Value;

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
