use super::*;
use crate::model::predicates::AdvisoryRecordKind;
use crate::model::statement::sha256_hex;
use crate::policy::{Policy, Power, RankingMode};
use crate::trust::{TrustLevel, TrustStance, Weight};

const PKG: &str = "pkg:cargo/demo";

fn key(n: u32) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&n.to_be_bytes());
    k[31] = 1;
    k
}

fn policy(rule: &str) -> Policy {
    Policy::parse(&format!(
        "[trust]\nroots = [\"{}\"]\nmax_depth = 3\n\n[aliases]\nauditor = \"{}\"\n\n[[rule]]\npackages = \"pkg:cargo/*\"\n{rule}\n",
        hex::encode(key(0)),
        hex::encode(key(1)),
    ))
    .unwrap()
}

/// The artifact digest tests give a version: SHA-256 of the version string.
fn artifact(version: &str) -> Artifact {
    Artifact::Digests([("sha256".to_string(), sha256_hex(version.as_bytes()))].into())
}

/// An OpenVEX-style advisory claim: listed affected versions (none: every version not
/// fixed), fixed versions.
fn vex_claim(package: &str, affected: Vec<String>, fixed: Vec<String>, malicious: bool) -> Claim {
    Claim::Advisory {
        package: package.into(),
        ids: vec!["GHSA-test".into()],
        kind: if malicious {
            AdvisoryRecordKind::Malicious
        } else {
            AdvisoryRecordKind::Vulnerability
        },
        affected: if affected.is_empty() {
            Affected::AllNotFixed
        } else {
            Affected::Versions(affected)
        },
        fixed,
        functions: Vec::new(),
    }
}

struct Log(Vec<ProvenStatement>);

impl Log {
    fn add(&mut self, signer: u32, claim: Claim) -> u64 {
        let index = self.0.len() as u64;
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&index.to_be_bytes());
        self.0.push(ProvenStatement {
            index,
            signer: key(signer),
            envelope_digest: digest,
            first_cosigned_at: Some(1_000 + index),
            claim,
        });
        index
    }
    fn trust(&mut self, from: u32, to: u32) {
        self.add(
            from,
            Claim::Trust {
                subject: key(to),
                level: TrustStance::Vouch(TrustLevel::High),
            },
        );
    }
    fn adopt(&mut self, who: u32, version: &str) -> u64 {
        self.add(
            who,
            Claim::Adoption {
                package: PKG.into(),
                version: version.into(),
                adopted: true,
                artifact: artifact(version),
            },
        )
    }
    fn audit(&mut self, who: u32, version: &str, passed: bool, caps: &[&str]) -> u64 {
        self.add(
            who,
            Claim::Audit {
                package: PKG.into(),
                version: version.into(),
                passed,
                criteria: vec!["safe-to-deploy".into()],
                capabilities: caps.iter().map(|c| c.to_string()).collect(),
                artifact: artifact(version),
            },
        )
    }
}

/// Root 0 trusts users 1..=5; all run 1.0.0.
fn community() -> Log {
    let mut log = Log(Vec::new());
    for user in 1..=5 {
        log.trust(0, user);
        log.adopt(user, "1.0.0");
    }
    log
}

fn decide(policy: &Policy, log: &Log, version: &str) -> Decision {
    Evaluation::new(policy, &log.0, 10_000)
        .unwrap()
        .decide(PKG, version)
}

#[test]
fn adoption_threshold_counts_trusted_users() {
    let policy = policy("min_adoption = 0.6\nmin_adopters = 2");
    let mut log = community();
    log.adopt(1, "2.0.0");
    log.adopt(2, "2.0.0");
    let d = decide(&policy, &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert_eq!(d.signals.adopters, 2);
    assert_eq!(d.signals.users, 5);
    let third = log.adopt(3, "2.0.0");
    let d = decide(&policy, &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    // Five equal weights, three adopters: exactly 3/5, met at equality.
    assert_eq!(d.signals.adoption_fraction, 0.6);
    assert_eq!(
        d.signals.adopted_weight.units() * 5,
        d.signals.user_weight.units() * 3
    );
    assert!(d.counted.contains(&third));
}

#[test]
fn adoption_can_be_counted_per_release_line() {
    // Users 1-5 run 1.0.0; users 1-3 moved to 2.0.0; a patch of the 1.x line, 1.0.1, is
    // adopted by users 4 and 5 only.
    let mut log = community();
    for user in 1..=3 {
        log.adopt(user, "2.0.0");
        log.add(
            user,
            Claim::Adoption {
                package: PKG.into(),
                version: "1.0.0".into(),
                adopted: false,
                artifact: artifact("1.0.0"),
            },
        );
    }
    log.adopt(4, "1.0.1");
    log.adopt(5, "1.0.1");
    // Over the whole package, 2 of 5 users: not enough.
    let package = policy("min_adoption = 0.6");
    let d = decide(&package, &log, "1.0.1");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert_eq!(d.signals.users, 5);
    // Per release line, the 1.x line's users are 1-5 still (their 1.0.0 statements, adopted
    // or withdrawn, say they ran it): the line is measured by who ran it, so moving to 2.x
    // does not leave a patch of 1.x unmeasured.
    let per_line = policy("min_adoption = 0.6\nadoption_scope = \"release-line\"");
    let d = decide(&per_line, &log, "1.0.1");
    assert_eq!(d.signals.users, 5);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("of trusted users of its release line")),
        "{:?}",
        d.reasons
    );
    // 2.0.1 is measured among the 2.x line's users (1-3) only, not held back by 4 and 5,
    // who run only 1.x.
    log.adopt(1, "2.0.1");
    log.adopt(2, "2.0.1");
    let d = decide(&per_line, &log, "2.0.1");
    assert_eq!(d.signals.users, 3);
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    let d = decide(&package, &log, "2.0.1");
    assert_eq!(d.signals.users, 5);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    // A version whose line cannot be told is measured over the whole package, with a warning.
    let d = decide(&per_line, &log, "not-a-version");
    assert_eq!(d.signals.users, 5);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("not per release line")),
        "{:?}",
        d.warnings
    );
}

#[cfg(feature = "cel")]
#[test]
fn expressions_allow_and_deny_and_say_so() {
    // Two passing audits stand in for adoption; the built-in threshold alone would not allow.
    let policy = policy(
        "min_adoption = 0.9\nallow_if = \"thresholds_met || passing_audits >= 2\"\ndeny_if = \"'network' in capabilities\"",
    );
    let mut log = community();
    log.adopt(1, "2.0.0");
    let d = decide(&policy, &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(d.reasons[0].starts_with("allow_if `"), "{:?}", d.reasons);
    assert!(d.reasons[0].contains("is false"), "{:?}", d.reasons);
    log.audit(1, "2.0.0", true, &[]);
    log.audit(2, "2.0.0", true, &["filesystem"]);
    let d = decide(&policy, &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert!(
        d.reasons[0].starts_with("allow_if `thresholds_met || passing_audits >= 2` is true"),
        "{:?}",
        d.reasons
    );
    // The built-in thresholds still allow 1.0.0 through `thresholds_met`.
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    // deny_if vetoes, whatever allow_if says.
    log.audit(3, "2.0.0", true, &["network"]);
    let d = decide(&policy, &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert_eq!(
        d.reasons,
        vec!["deny_if `'network' in capabilities` is true"]
    );
    // An expression that fails at run time fails closed (it passed the load-time sample,
    // where users = 2).
    let policy = self::policy("deny_if = \"adopters / (users - 5) > 1\"");
    let d = decide(&policy, &community(), "1.0.0");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert!(
        d.reasons[0].contains("evaluation failed"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn sybil_farm_moves_no_threshold() {
    let policy = policy("min_adoption = 0.6\nmin_adopters = 2");
    let mut log = community();
    for sybil in 100..3100 {
        // Fresh keys vouch for each other and adopt the malicious version.
        log.trust(sybil, sybil + 1);
        log.adopt(sybil, "6.6.6");
    }
    let d = decide(&policy, &log, "6.6.6");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    assert_eq!(d.signals.adopters, 0);
    assert_eq!(d.signals.adoption_fraction, 0.0);
    assert!(d.signals.adoption_fraction.is_sign_positive());
    assert_eq!(d.signals.adopted_weight, Weight::ZERO);
    assert!(d.reasons[0].starts_with("adoption 0%"), "{:?}", d.reasons);
    assert_eq!(d.rejected.len(), 3000);
}

#[test]
fn trusted_advisory_vetoes_and_names_the_fix() {
    let policy = policy("min_adoption = 0.6");
    let mut log = community();
    for user in 1..=5 {
        log.adopt(user, "1.0.1");
    }
    log.add(
        2,
        vex_claim(PKG, vec!["1.0.1".into()], vec!["1.0.2".into()], true),
    );
    let d = decide(&policy, &log, "1.0.1");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d.reasons[0].contains("malicious"), "{:?}", d.reasons);
    let fix = decide(&policy, &log, "1.0.2");
    assert_eq!(fix.verdict, Verdict::Allow, "{:?}", fix.reasons);
    assert!(fix.signals.named_fix);
    // An untrusted advisory vetoes nothing.
    let mut log = community();
    log.add(999, vex_claim(PKG, vec!["1.0.0".into()], vec![], true));
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
}

#[test]
fn an_advisory_as_openvex_claims_vetoes_only_the_affected_version() {
    // claims_from_statement turns one OpenVEX advisory into an `affected` claim and a
    // separate `fixed` claim; the fix claim must not count against other versions.
    let policy = policy("min_adoption = 0.6");
    let mut log = community();
    for user in 1..=5 {
        log.adopt(user, "1.0.0");
        log.adopt(user, "1.0.1");
    }
    log.add(2, vex_claim(PKG, vec!["1.0.1".to_string()], vec![], true));
    // A document that only names a fix says nothing against other versions.
    log.add(
        2,
        Claim::Advisory {
            package: PKG.into(),
            ids: vec!["GHSA-test".into()],
            kind: AdvisoryRecordKind::Malicious,
            affected: Affected::Nothing,
            fixed: vec!["1.0.2".into()],
            functions: Vec::new(),
        },
    );
    let bad = decide(&policy, &log, "1.0.1");
    assert_eq!(bad.verdict, Verdict::Deny);
    assert_eq!(bad.signals.advisories, 1, "{:?}", bad.reasons);
    assert_eq!(bad.reasons.len(), 1, "{:?}", bad.reasons);
    let older = decide(&policy, &log, "1.0.0");
    assert_eq!(older.verdict, Verdict::Allow, "{:?}", older.reasons);
    assert_eq!(older.signals.advisories, 0);
    assert_eq!(decide(&policy, &log, "1.0.2").verdict, Verdict::Allow);
    // An advisory naming no versions at all covers the whole package.
    log.add(2, vex_claim(PKG, vec![], vec![], false));
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Deny);
}

#[test]
fn revoked_audit_stops_counting() {
    let policy = policy("required_auditors = [\"auditor\"]");
    let mut log = community();
    log.trust(0, 1);
    let audit = log.audit(1, "1.0.0", true, &[]);
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    let digest = log.0[audit as usize].envelope_digest;
    // Someone else's revocation has no effect.
    log.add(3, Claim::Revocation { revoked: digest });
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    log.add(1, Claim::Revocation { revoked: digest });
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    assert!(
        d.rejected
            .iter()
            .any(|r| r.index == audit && r.reason.contains("revoked"))
    );
}

#[test]
fn audits_count_per_auditor_and_multi_subject_entries_keep_every_claim() {
    let policy = policy("min_audits = 2");
    let mut log = community();
    log.audit(1, "1.0.0", true, &[]);
    log.audit(1, "1.0.0", true, &[]);
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.signals.passing_audits, 1);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    // One entry (one index) adopting two versions of the package.
    let index = log.adopt(2, "2.0.0");
    let mut second = log.0[index as usize].clone();
    second.claim = Claim::Adoption {
        package: PKG.into(),
        version: "2.0.1".into(),
        adopted: true,
        artifact: artifact("2.0.1"),
    };
    log.0.push(second);
    assert_eq!(decide(&policy, &log, "2.0.1").signals.adopters, 1);
    assert_eq!(decide(&policy, &log, "2.0.0").signals.adopters, 1);
}

#[test]
fn failed_audit_and_capability_growth_deny() {
    let policy = policy("allowed_capabilities = [\"filesystem\"]");
    let mut log = community();
    log.audit(1, "1.0.0", true, &["filesystem"]);
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    log.audit(2, "1.0.0", true, &["network"]);
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(d.reasons[0].contains("network"));
    let mut log = community();
    log.audit(2, "1.0.0", false, &[]);
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Deny);
}

#[test]
fn ownership_change_requires_an_audit() {
    let policy = policy("");
    let mut log = community();
    // Logged before the report: one version numbered after the new owner's first, one before.
    log.adopt(1, "3.2.0");
    log.adopt(1, "2.9.0");
    log.adopt(1, "not-a-version");
    log.add(
        4,
        Claim::OwnershipChange {
            package: PKG.into(),
            first_version: Some("3.0.0".into()),
        },
    );
    log.adopt(1, "3.0.0");
    log.adopt(1, "3.1.0");
    // A backport the new owner publishes after the report.
    log.adopt(1, "2.5.1");
    // Versions before the new owner's first, in version order and logged before the report,
    // are unaffected.
    for v in ["1.0.0", "2.9.0"] {
        let d = decide(&policy, &log, v);
        assert_eq!(d.verdict, Verdict::Allow, "{v}: {:?}", d.reasons);
        assert!(!d.signals.ownership_changed, "{v}");
    }
    // Covered: the first version, later ones in version order (3.2.0 although logged before
    // the report), versions first logged after it, and one that cannot be ordered.
    for v in ["3.0.0", "3.1.0", "3.2.0", "2.5.1", "not-a-version"] {
        let d = decide(&policy, &log, v);
        assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{v}");
        assert!(d.signals.ownership_changed, "{v}");
    }
    let unordered = decide(&policy, &log, "not-a-version");
    assert!(
        unordered
            .warnings
            .iter()
            .any(|w| w.contains("cannot be ordered against 3.0.0")),
        "{:?}",
        unordered.warnings
    );
    log.audit(2, "3.1.0", true, &[]);
    assert_eq!(decide(&policy, &log, "3.1.0").verdict, Verdict::Allow);
}

#[test]
fn provable_age_uses_cosignature_times() {
    let policy = policy("min_age_seconds = 5000");
    let log = community();
    // First statement about 1.0.0 was cosigned at 1_001; now is 10_000.
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.signals.provable_age_seconds, Some(10_000 - 1_001));
    assert_eq!(d.verdict, Verdict::Allow);
    let d = decide(&policy, &log, "9.9.9");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
}

#[test]
fn hits_mode_stays_inside_the_trusted_set() {
    let mut policy = policy("min_adoption = 0.5");
    policy.trust.mode = RankingMode::Hits;
    let mut log = community();
    for sybil in 100..200 {
        log.adopt(sybil, "6.6.6");
    }
    log.adopt(1, "2.0.0");
    let d = decide(&policy, &log, "6.6.6");
    assert_eq!(d.signals.adopters, 0);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
}

#[test]
fn same_input_same_decision() {
    let policy = policy("min_adoption = 0.4");
    let mut log = community();
    log.adopt(1, "2.0.0");
    log.adopt(2, "2.0.0");
    let a = decide(&policy, &log, "2.0.0");
    let mut shuffled = Log(log.0.clone());
    shuffled.0.reverse();
    let b = decide(&policy, &shuffled, "2.0.0");
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn statements_reduce_to_claims() {
    use crate::model::predicates::{self, Audit, Predicate, Trust, validate_statement};
    use crate::model::statement::Subject;
    let audit = Predicate::Audit(Audit {
        verdict: predicates::Verdict::Pass,
        criteria: vec!["safe-to-deploy".into()],
        capabilities: Some(vec!["network".into()]),
        notes: None,
    })
    .into_statement(vec![Subject::package_version(
        "pkg:cargo/demo@1.2.3",
        [7; 32],
    )]);
    let validated = validate_statement(&audit).unwrap();
    assert_eq!(
        claims_from_statement(&validated),
        vec![Claim::Audit {
            package: "pkg:cargo/demo".into(),
            version: "1.2.3".into(),
            passed: true,
            criteria: vec!["safe-to-deploy".into()],
            capabilities: vec!["network".into()],
            artifact: Artifact::Digests([("sha256".to_string(), "07".repeat(32))].into()),
        }]
    );
    for (level, stance) in [
        (
            predicates::TrustLevel::High,
            TrustStance::Vouch(TrustLevel::High),
        ),
        (predicates::TrustLevel::None, TrustStance::Withdrawn),
        (predicates::TrustLevel::Distrust, TrustStance::Distrust),
    ] {
        let trust = Predicate::Trust(Trust {
            key: hex::encode(key(9)),
            level,
            scope: None,
            comment: None,
        })
        .into_statement(vec![Subject::key(&key(9))]);
        let validated = validate_statement(&trust).unwrap();
        assert_eq!(
            claims_from_statement(&validated),
            vec![Claim::Trust {
                subject: key(9),
                level: stance
            }]
        );
    }
}

/// Like [`policy`], with more policy text after the rule.
fn policy_with(rule: &str, rest: &str) -> Policy {
    Policy::parse(&format!(
        "[trust]\nroots = [\"{}\"]\nmax_depth = 3\n\n[aliases]\nauditor = \"{}\"\nstranger = \"{}\"\n\n[[rule]]\npackages = \"pkg:cargo/*\"\n{rule}\n\n{rest}\n",
        hex::encode(key(0)),
        hex::encode(key(1)),
        hex::encode(key(50)),
    ))
    .unwrap()
}

/// Issue 12, item 3: user 1 carelessly vouches for key 50, two hops from the root.
fn careless() -> Log {
    let mut log = community();
    log.trust(1, 50);
    log
}

fn advisory(affected: &[&str], fixed: &[&str]) -> Claim {
    vex_claim(
        PKG,
        affected.iter().map(|v| v.to_string()).collect(),
        fixed.iter().map(|v| v.to_string()).collect(),
        true,
    )
}

#[test]
fn a_key_two_hops_away_can_neither_veto_bypass_demand_nor_be_counted() {
    let policy = policy_with(
        "min_adoption = 0.6\nmin_adopters = 2\nownership_change = \"deny\"",
        "",
    );
    let mut log = careless();
    let veto = log.add(50, advisory(&["1.0.0"], &[]));
    let failed = log.audit(50, "1.0.0", false, &[]);
    let bypass = log.add(50, advisory(&[], &["6.6.6"]));
    let owner = log.add(
        50,
        Claim::OwnershipChange {
            package: PKG.into(),
            first_version: Some("1.0.0".into()),
        },
    );
    log.adopt(50, "6.6.6");
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!((d.signals.advisories, d.signals.failed_audits), (0, 0));
    assert!(!d.signals.ownership_changed);
    for (entry, what, power) in [
        (veto, "advisory", "advisory_veto"),
        (failed, "failed audit", "failed_audit_veto"),
        (owner, "ownership-change report", "ownership_change"),
    ] {
        let r = d
            .rejected
            .iter()
            .find(|r| r.index == entry)
            .expect("rejected");
        assert_eq!(
            r.reason,
            format!(
                "{what} by stranger ({}…) does not count: it does not hold {power}: 2 hops from the roots, beyond max_hops = 1 (the default), and not named for it",
                &hex::encode(key(50))[..16]
            )
        );
    }
    let d = decide(&policy, &log, "6.6.6");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(!d.signals.named_fix);
    assert!(
        d.rejected
            .iter()
            .any(|r| r.index == bypass && r.reason.contains("fix_bypass"))
    );
    // Its adoption is weighed (it is trusted) but not counted.
    assert_eq!((d.signals.trusted_adopters, d.signals.adopters), (1, 0));
    assert!(d.powers.is_empty());
}

#[test]
fn a_named_holder_exercises_its_power_and_the_reason_names_the_line() {
    let rest = "[powers.advisory_veto]\nholders = [\"stranger\"]\n";
    let policy = policy_with("min_adoption = 0.6", rest);
    let mut log = community();
    // The stranger is named, though no root reaches it.
    let veto = log.add(50, advisory(&["1.0.0"], &[]));
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert_eq!(
        d.reasons,
        vec![format!(
            "advisory GHSA-test by stranger ({}…) reports this version malicious (entry {veto}); advisory_veto held: named as stranger in [powers.advisory_veto], policy line 13",
            &hex::encode(key(50))[..16]
        )]
    );
    assert_eq!(d.powers.len(), 1);
    assert_eq!(d.powers[0].power, Power::AdvisoryVeto);
    assert_eq!(d.powers[0].entry, veto);
    // A one-hop key under the default: the reason says so.
    let mut log = community();
    log.add(2, advisory(&["1.0.0"], &[]));
    let d = decide(&policy, &log, "1.0.0");
    assert!(
        d.reasons[0].ends_with(
            "advisory_veto held: 1 hop from the roots, within max_hops = 1 ([powers.advisory_veto], policy line 13)"
        ),
        "{:?}",
        d.reasons
    );
    // max_hops = 0: only roots and named holders.
    let policy = policy_with("", "[powers.advisory_veto]\nmax_hops = 0\n");
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(
        d.verdict,
        Verdict::Allow,
        "the one-hop advisory no longer vetoes"
    );
    assert_eq!(d.signals.advisories, 0);
    let mut log = community();
    log.add(0, advisory(&["1.0.0"], &[]));
    let d = decide(&policy, &log, "1.0.0");
    assert!(
        d.reasons[0].ends_with("advisory_veto held: a root of the policy"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn a_farm_behind_one_trusted_key_meets_no_count() {
    let policy = policy("min_adopters = 2\nmin_audits = 2");
    let mut log = careless();
    for sybil in 50..150 {
        log.trust(1, sybil);
        log.adopt(sybil, "6.6.6");
        log.audit(sybil, "6.6.6", true, &[]);
    }
    let d = decide(&policy, &log, "6.6.6");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert_eq!((d.signals.adopters, d.signals.trusted_adopters), (0, 100));
    assert_eq!(d.signals.passing_audits, 0);
    assert!(
        d.reasons
            .contains(&"0 counted adopters of 100 trusted, 2 required".to_string()),
        "{:?}",
        d.reasons
    );
    // The whole farm weighs what 1 passed on: less than 1 received.
    let farm: u64 = (50..150)
        .map(|k| {
            Weight::from_units(
                (d.weights[&hex::encode(key(k))] * Weight::ONE.units() as f64) as u64,
            )
            .units()
        })
        .sum();
    let one = decide(&policy, &log, "1.0.0").weights[&hex::encode(key(1))];
    assert!(
        (farm as f64) < Weight::ONE.units() as f64 * 0.5 / 5.0,
        "{farm} {one}"
    );
    // A policy that counts further out bounds the farm by a weight floor instead.
    let policy = policy_with(
        "min_adopters = 2",
        "[powers.adopter]\nmax_hops = 2\nmin_weight = 0.01\n",
    );
    let d = decide(&policy, &log, "6.6.6");
    assert_eq!(d.signals.adopters, 0, "each sybil weighs well under 1%");
}

#[test]
fn packages_no_rule_matches_get_the_fallback() {
    let log = community();
    let none = policy("");
    let d = Evaluation::new(&none, &log.0, 10_000)
        .unwrap()
        .decide("pkg:npm/left-pad", "1.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    assert_eq!(
        d.reasons,
        vec![
            "no [[rule]] matches pkg:npm/left-pad; without a [fallback] in the policy the default is insufficient-evidence"
        ]
    );
    assert_eq!(d.rule, "fallback insufficient-evidence (the default)");
    let deny = policy_with("", "[fallback]\nverdict = \"deny\"\n");
    let d = Evaluation::new(&deny, &log.0, 10_000)
        .unwrap()
        .decide("pkg:foo/bar", "1.0");
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(
        d.reasons,
        vec!["no [[rule]] matches pkg:foo/bar; the policy's [fallback] (line 13) is deny"]
    );
    let allow = policy_with("", "[fallback]\nverdict = \"allow\"\n");
    let mut log = community();
    let other = "pkg:npm/x";
    log.add(2, vex_claim(other, vec!["2.0.0".into()], vec![], false));
    let ev = Evaluation::new(&allow, &log.0, 10_000).unwrap();
    assert_eq!(ev.decide(other, "1.0.0").verdict, Verdict::Allow);
    // Vetoes still apply under any fallback.
    assert_eq!(ev.decide(other, "2.0.0").verdict, Verdict::Deny);
    let ev = Evaluation::new(&none, &log.0, 10_000).unwrap();
    assert_eq!(ev.decide(other, "2.0.0").verdict, Verdict::Deny);
    // An ownership change still demands its audit under a fallback that allows.
    log.add(
        3,
        Claim::OwnershipChange {
            package: other.into(),
            first_version: Some("3.0.0".into()),
        },
    );
    let ev = Evaluation::new(&allow, &log.0, 10_000).unwrap();
    let d = ev.decide(other, "3.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(d.reasons[0].contains("changed owner"), "{:?}", d.reasons);
}

#[test]
fn thresholds_are_met_at_equality() {
    // 32 equal users, 17 adopt: exactly 17/32 = 0.53125.
    let mut log = Log(Vec::new());
    for user in 1..=32 {
        log.trust(0, user);
        log.adopt(user, "1.0.0");
    }
    for user in 1..=17 {
        log.adopt(user, "2.0.0");
    }
    let d = decide(&policy("min_adoption = 0.53125"), &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!(d.signals.adoption_fraction, 0.53125);
    let d = decide(&policy("min_adoption = 0.53126"), &log, "2.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    assert_eq!(
        d.reasons,
        vec!["adoption 53.1% of trusted users is below the required 53.1%"]
    );
    // Thirds, written as a ratio.
    let mut log = community();
    log.trust(0, 6);
    log.adopt(6, "1.0.0");
    for user in [1, 2] {
        log.adopt(user, "2.0.0");
    }
    assert_eq!(
        decide(&policy("min_adoption = \"1/3\""), &log, "2.0.0").verdict,
        Verdict::Allow
    );
    assert_eq!(
        decide(
            &policy("min_adoption = \"1/3\"\nmin_adopters = 2"),
            &log,
            "2.0.0"
        )
        .verdict,
        Verdict::Allow
    );
    assert_eq!(
        decide(&policy("min_adopters = 3"), &log, "2.0.0").verdict,
        Verdict::InsufficientEvidence
    );
}

#[test]
fn distrust_cuts_only_when_the_distruster_holds_the_power() {
    let policy = policy("required_auditors = [\"auditor\"]");
    let mut log = careless();
    log.audit(1, "1.0.0", true, &[]);
    log.add(
        50,
        Claim::Trust {
            subject: key(1),
            level: TrustStance::Distrust,
        },
    );
    // Key 50 is two hops out: its distrust of the auditor cuts nothing.
    assert_eq!(decide(&policy, &log, "1.0.0").verdict, Verdict::Allow);
    // Key 2, one hop out, does cut: the auditor's audit stops counting.
    log.add(
        2,
        Claim::Trust {
            subject: key(1),
            level: TrustStance::Distrust,
        },
    );
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(
        d.rejected
            .iter()
            .any(|r| r.reason.contains("cut by a trusted distrust")),
        "{:?}",
        d.rejected
    );
}

#[test]
fn a_required_auditor_holds_the_auditor_power_by_name() {
    // The auditor is named by the rule, though no root vouches for it.
    let policy = policy("required_auditors = [\"auditor\"]\nmin_audits = 1");
    let mut log = Log(Vec::new());
    for user in 2..=4 {
        log.trust(0, user);
        log.adopt(user, "1.0.0");
    }
    log.audit(1, "1.0.0", true, &[]);
    let d = decide(&policy, &log, "1.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!(
        d.powers[0].grant,
        "named as auditor in required_auditors of the rule at policy line 8"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However a region hanging off one trusted user by one vouch is shaped, and however
        /// many statements it signs, the weight it adds to an adoption fraction is at most
        /// the trust weight it holds (which the trust invariant bounds by what flows in),
        /// and none of it counts towards `min_adopters`.
        #[test]
        fn a_region_adds_at_most_its_inflow_to_a_fraction(
            users in 2u32..12,
            region in 1u32..60,
            ring in any::<bool>(),
            statements in 1usize..4,
            mode in prop_oneof![Just("trust"), Just("best-path"), Just("hits")],
        ) {
            let policy = Policy::parse(&format!(
                "[trust]\nroots = [\"{}\"]\nmode = \"{mode}\"\n\n[[rule]]\npackages = \"*\"\nmin_adoption = 0.5\nmin_adopters = 1\n",
                hex::encode(key(0))
            )).unwrap();
            let mut log = Log(Vec::new());
            for user in 1..=users {
                log.trust(0, user);
                log.adopt(user, "1.0.0");
            }
            let first = 1000;
            log.trust(1, first);
            for r in first..first + region {
                if ring {
                    log.trust(r, first + (r - first + 1) % region);
                } else {
                    log.trust(first, r);
                }
                for _ in 0..statements {
                    log.adopt(r, "6.6.6");
                }
            }
            let ev = Evaluation::new(&policy, &log.0, 10_000).unwrap();
            let d = ev.decide(PKG, "6.6.6");
            let region_trust = Weight::sum((first..first + region).map(|r| ev.weight_of(&key(r))));
            prop_assert!(d.signals.adopted_weight <= region_trust, "{mode}");
            prop_assert_eq!(d.signals.adopters, 0);
            prop_assert_ne!(d.verdict, Verdict::Allow);
            // What user 1 passed on bounds the region: it is less than 1 received.
            let team = Weight::sum((2..=users).map(|u| ev.weight_of(&key(u))));
            prop_assert!(region_trust.units() <= team.units() / u64::from(users - 1) + 1, "{mode}");
        }
    }
}

/// A registry entry of a lockfile pinning `digests`.
fn locked(
    version: &str,
    digests: Vec<crate::lockfile::PinnedDigest>,
) -> crate::lockfile::LockedPackage {
    crate::lockfile::LockedPackage {
        package: PKG.into(),
        version: version.into(),
        source: crate::lockfile::Source::Registry,
        digests,
    }
}

fn sha256_pin(text: &str) -> crate::lockfile::PinnedDigest {
    crate::lockfile::PinnedDigest::Sha256(sha256_hex(text.as_bytes()))
}

/// Issue 14, item 1: a statement counts for a lockfile entry only when its subject digest is
/// the artifact the entry pins; a trusted statement about another artifact of the version
/// denies by default.
#[test]
fn a_statement_counts_only_for_the_artifact_the_lockfile_pins() {
    use crate::lockfile::{PinnedDigest, Source};
    let policy = policy("required_auditors = [\"auditor\"]");
    let mut log = community();
    let audit = log.audit(1, "1.0.0", true, &[]);
    let ev = Evaluation::new(&policy, &log.0, 10_000).unwrap();

    // Unbound: counts, and says it is not bound.
    let d = ev.decide(PKG, "1.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!(d.artifact, ArtifactBinding::Unbound);
    assert!(
        d.warnings[0].starts_with("not bound to an artifact"),
        "{:?}",
        d.warnings
    );

    // The pinned artifact (one of several pins, as PyPI's files): counts.
    let pinned = locked("1.0.0", vec![sha256_pin("a wheel"), sha256_pin("1.0.0")]);
    let d = ev.decide_locked(&pinned);
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert!(d.counted.contains(&audit));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);

    // Another artifact of the same version: deny, plainly.
    let other = locked("1.0.0", vec![sha256_pin("what the registry serves today")]);
    let d = ev.decide_locked(&other);
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    // The auditor's audit and the five trusted users' adoptions all name another artifact.
    assert_eq!(d.signals.other_artifacts, 6);
    assert_eq!(d.signals.passing_audits, 0);
    assert_eq!(d.signals.trusted_adopters, 0);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("passing audit by auditor")
                && r.contains("is of another artifact of pkg:cargo/demo@1.0.0 (sha256 ")
                && r.contains("the registry may be serving something other than what was audited")),
        "{:?}",
        d.reasons
    );
    // The policy may soften it to a warning: the audit still does not count.
    let soft = policy_with(
        "required_auditors = [\"auditor\"]\nother_artifact_veto = false",
        "",
    );
    let d = Evaluation::new(&soft, &log.0, 10_000)
        .unwrap()
        .decide_locked(&other);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert!(
        d.warnings[0].contains("other_artifact_veto = false"),
        "{:?}",
        d.warnings
    );
    assert!(d.rejected.iter().any(|r| r.index == audit));

    // An untrusted signer's statement about another artifact vetoes nothing.
    let mut log2 = community();
    log2.audit(1, "1.0.0", true, &[]);
    log2.audit(999, "1.0.0", true, &[]);
    log2.0.last_mut().unwrap().claim = Claim::Audit {
        package: PKG.into(),
        version: "1.0.0".into(),
        passed: true,
        criteria: vec!["safe-to-deploy".into()],
        capabilities: vec![],
        artifact: artifact("something else"),
    };
    let d = Evaluation::new(&policy, &log2.0, 10_000)
        .unwrap()
        .decide_locked(&pinned);
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!(d.signals.other_artifacts, 0);

    // SHA-1 only: nothing is comparable, nothing counts.
    let sha1 = locked("1.0.0", vec![PinnedDigest::Sha1("ab".repeat(20))]);
    let d = ev.decide_locked(&sha1);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence, "{:?}", d.reasons);
    assert_eq!(d.artifact, ArtifactBinding::Unverifiable);
    assert!(
        d.rejected
            .iter()
            .any(|r| r.index == audit && r.reason.contains("SHA-1 never counts"))
    );

    // A git entry of the same name and version: no registry verdict.
    let mut git = pinned.clone();
    git.source = Source::Git {
        url: "https://example.com/demo".into(),
        rev: Some("abc".into()),
    };
    let d = ev.decide_locked(&git);
    assert_eq!(d.verdict, Verdict::InsufficientEvidence);
    assert!(
        d.reasons[0].starts_with("not the registry's artifact (git https://example.com/demo#abc)")
    );
    assert!(d.counted.is_empty());

    // Adoption binds the same way.
    let adopters = super::tests::policy("min_adoption = 0.6");
    let ev = Evaluation::new(&adopters, &log.0, 10_000).unwrap();
    assert_eq!(ev.decide_locked(&pinned).verdict, Verdict::Allow);
    let d = ev.decide_locked(&other);
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.signals.other_artifacts, 6, "{:?}", d.reasons);
}

/// Imported statements name the version, not an artifact: they count for a registry entry
/// pinned by a comparable digest, and not for a SHA-1-only one.
#[test]
fn imported_statements_bind_through_the_registry_version() {
    let policy = policy("required_auditors = [\"auditor\"]");
    let mut log = Log(Vec::new());
    log.trust(0, 1);
    log.audit(1, "1.0.0", true, &[]);
    if let Claim::Audit { artifact, .. } = &mut log.0.last_mut().unwrap().claim {
        *artifact = Artifact::RegistryVersion;
    }
    let ev = Evaluation::new(&policy, &log.0, 10_000).unwrap();
    let any_checksum = locked("1.0.0", vec![sha256_pin("whatever the lockfile pins")]);
    assert_eq!(ev.decide_locked(&any_checksum).verdict, Verdict::Allow);
    let sha1 = locked(
        "1.0.0",
        vec![crate::lockfile::PinnedDigest::Sha1("ab".repeat(20))],
    );
    assert_eq!(
        ev.decide_locked(&sha1).verdict,
        Verdict::InsufficientEvidence
    );
}

/// Issue 14, item 5: `advise … --fixed 1.39.0` (every version not fixed, fix 1.39.0) leaves
/// later versions alone, in the ecosystem's order.
#[test]
fn a_named_fix_leaves_later_versions_alone() {
    let policy = policy("min_adoption = 0.6");
    let mut log = community();
    for user in 1..=5 {
        for v in ["1.38.1", "1.39.0", "2.0.0", "1.100.0"] {
            log.adopt(user, v);
        }
    }
    log.add(2, vex_claim(PKG, vec![], vec!["1.39.0".into()], false));
    let ev = Evaluation::new(&policy, &log.0, 10_000).unwrap();
    for (version, verdict) in [
        ("1.38.1", Verdict::Deny),
        ("1.0.0", Verdict::Deny),
        ("1.39.0", Verdict::Allow),
        ("1.100.0", Verdict::Allow),
        ("2.0.0", Verdict::Allow),
    ] {
        let d = ev.decide(PKG, version);
        assert_eq!(d.verdict, verdict, "{version}: {:?}", d.reasons);
    }
    // A version that does not parse is counted as affected, and the reason says so.
    let d = ev.decide(PKG, "not-a-version");
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(
        d.reasons[0].contains("(counted as affected: "),
        "{:?}",
        d.reasons
    );
}

fn osv_claim(kind: AdvisoryRecordKind, introduced: &str, fixed: &str) -> Claim {
    use crate::model::predicates::RangeEvent;
    Claim::Advisory {
        package: PKG.into(),
        ids: vec!["RUSTSEC-2099-0001".into(), "CVE-2099-1".into()],
        kind,
        affected: Affected::Osv {
            ranges: vec![vec![
                RangeEvent {
                    introduced: Some(introduced.into()),
                    ..Default::default()
                },
                RangeEvent {
                    fixed: Some(fixed.into()),
                    ..Default::default()
                },
            ]],
            versions: vec![],
        },
        fixed: vec![],
        functions: vec!["demo::parse".into()],
    }
}

/// Imported advisories: ranges in version order; kinds as signals; unmaintained warns; the
/// advisory veto stays a power.
#[test]
fn imported_advisories_veto_by_kind_in_version_order() {
    let policy = policy("min_adoption = 0.6");
    let mut log = community();
    for user in 1..=5 {
        for v in ["0.9.0", "0.10.0"] {
            log.adopt(user, v);
        }
    }
    // Key 2 is a trusted user one hop from the root: holds advisory_veto by default.
    log.add(2, osv_claim(AdvisoryRecordKind::Unsound, "0", "0.10.0"));
    let ev = Evaluation::new(&policy, &log.0, 10_000).unwrap();
    let d = ev.decide(PKG, "0.9.0");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert!(
        d.reasons[0].contains("advisory RUSTSEC-2099-0001") && d.reasons[0].contains("unsound")
    );
    assert!(d.reasons[0].contains("affected functions: demo::parse"));
    assert_eq!(d.signals.advisory_ids, ["CVE-2099-1", "RUSTSEC-2099-0001"]);
    assert_eq!(d.signals.advisory_kinds, ["unsound"]);
    // 0.10.0 > 0.9.0 in SemVer (not as strings).
    assert_eq!(ev.decide(PKG, "0.10.0").verdict, Verdict::Allow);

    let mut log = community();
    log.add(
        2,
        osv_claim(AdvisoryRecordKind::Unmaintained, "0", "99.0.0"),
    );
    let d = Evaluation::new(&policy, &log.0, 10_000)
        .unwrap()
        .decide(PKG, "1.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert_eq!(d.signals.advisories, 0);
    assert_eq!(d.signals.advisory_kinds, ["unmaintained"]);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("reports the package unmaintained")
                && w.contains("it does not veto")),
        "{:?}",
        d.warnings
    );

    // An importer two hops away holds no advisory_veto: rejected, no veto, no warning.
    let mut log = careless();
    log.add(
        50,
        osv_claim(AdvisoryRecordKind::Vulnerability, "0", "2.0.0"),
    );
    let d = Evaluation::new(&policy, &log.0, 10_000)
        .unwrap()
        .decide(PKG, "1.0.0");
    assert_eq!(d.verdict, Verdict::Allow, "{:?}", d.reasons);
    assert!(
        d.rejected
            .iter()
            .any(|r| r.reason.starts_with("advisory by"))
    );
}

/// One OpenVEX document as `quorum advise … --fixed 1.39.0` writes it becomes one claim:
/// every version not fixed, the fix 1.39.0.
#[test]
fn an_openvex_document_becomes_one_claim_per_vulnerability_and_package() {
    use crate::model::predicates::{
        OpenVex, Predicate, VexProduct, VexStatement, VexStatus, VexVulnerability,
        validate_statement,
    };
    use crate::model::statement::Subject;
    let vulnerability = VexVulnerability {
        id: None,
        name: "RUSTSEC-2099-0002".into(),
        description: None,
        aliases: vec!["CVE-2099-2".into()],
    };
    let statement = |status, product: &str| VexStatement {
        vulnerability: vulnerability.clone(),
        products: vec![VexProduct {
            id: product.into(),
            identifiers: None,
        }],
        status,
        justification: None,
        impact_statement: None,
        action_statement: (status == VexStatus::Affected).then(|| "upgrade to 1.39.0".into()),
        status_notes: None,
    };
    let doc = OpenVex {
        context: crate::model::predicates::OPENVEX_V0_2_0.into(),
        id: "https://example.com/vex/1".into(),
        author: "someone".into(),
        role: None,
        timestamp: "2026-01-01T00:00:00Z".into(),
        version: 1,
        statements: vec![
            statement(VexStatus::Affected, "pkg:cargo/tokio"),
            statement(VexStatus::Fixed, "pkg:cargo/tokio@1.39.0"),
        ],
    };
    let st = Predicate::Advisory(doc).into_statement(vec![
        Subject::package("pkg:cargo/tokio"),
        Subject::package_version("pkg:cargo/tokio@1.39.0", [9; 32]),
    ]);
    let validated = validate_statement(&st).unwrap();
    assert_eq!(
        claims_from_statement(&validated),
        vec![Claim::Advisory {
            package: "pkg:cargo/tokio".into(),
            ids: vec!["RUSTSEC-2099-0002".into(), "CVE-2099-2".into()],
            kind: AdvisoryRecordKind::Vulnerability,
            affected: Affected::AllNotFixed,
            fixed: vec!["1.39.0".into()],
            functions: vec![],
        }]
    );
}
