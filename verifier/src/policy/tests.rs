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
    assert_eq!(policy.trust.damping, 0.5);
    let rule = policy.rule_for("pkg:cargo/serde").rule();
    assert_eq!(rule.min_adoption, Fraction::new(6, 10).unwrap());
    assert_eq!(rule.min_adopters, 2);
    assert!(rule.advisories_veto);
    assert_eq!(rule.line, 10, "the line of the [[rule]] header");
    let npm = policy.rule_for("pkg:npm/left-pad");
    assert!(matches!(npm, RuleMatch::Rule { number: 2, .. }));
    assert_eq!(npm.rule().ownership_change, OwnershipChangeRule::Deny);
    // No rule and no [fallback]: insufficient evidence, never allow.
    match policy.rule_for("pkg:pypi/requests") {
        RuleMatch::Fallback { fallback, rule } => {
            assert_eq!(fallback.verdict, Fallback::InsufficientEvidence);
            assert_eq!(fallback.line, None);
            assert_eq!(rule, &Rule::default());
        }
        other => panic!("{other:?}"),
    }
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

#[cfg(feature = "cel")]
#[test]
fn expressions_are_compiled_at_load_and_errors_name_the_line() {
    let good = sample().replace(
        "min_adopters = 2",
        "min_adopters = 2\nallow_if = \"thresholds_met || (passing_audits >= 2 && adopters > 0)\"\ndeny_if = \"'network' in capabilities && !required_auditors_met\"",
    );
    let policy = Policy::parse(&good).unwrap();
    let rule = policy.rule_for("pkg:cargo/serde").rule();
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

/// A rule written as the package manager spells a name applies to the canonical purl that
/// decisions see (issue 14, item 3: one name for one package, in the policy too).
#[test]
fn rule_patterns_match_every_spelling_of_a_name() {
    let text = format!(
        r#"
[trust]
roots = ["{ME}"]

[[rule]]
packages = "pkg:cargo/Serde_JSON"
min_adopters = 7

[[rule]]
packages = "pkg:pypi/Zope.Interface"
min_adopters = 8

[[rule]]
packages = "pkg:npm/@MyOrg/*"
min_adopters = 9

[[rule]]
packages = "*"
"#
    );
    let policy = Policy::parse(&text).unwrap();
    for (purl, want) in [
        (
            crate::ecosystem::Ecosystem::Cargo
                .package_purl("serde_json")
                .unwrap(),
            7,
        ),
        (
            crate::ecosystem::Ecosystem::PyPi
                .package_purl("zope_interface")
                .unwrap(),
            8,
        ),
        (
            crate::ecosystem::Ecosystem::Npm
                .package_purl("@myorg/tool")
                .unwrap(),
            9,
        ),
    ] {
        match policy.rule_for(&purl) {
            RuleMatch::Rule { rule, .. } if rule.min_adopters == want => {}
            other => panic!("{purl}: {other:?}"),
        }
    }
}

/// Without the CEL engine a policy with an expression is refused, naming the line, never
/// loaded as if the expression were not there.
#[cfg(not(feature = "cel"))]
#[test]
fn without_the_cel_feature_expressions_are_refused() {
    let text = sample().replace(
        "min_adopters = 2",
        "min_adopters = 2\ndeny_if = \"adopters > 1\"",
    );
    match Policy::parse(&text) {
        Err(PolicyError::Syntax { line, message, .. }) => {
            assert_eq!(line, 14, "{message}");
            assert!(message.starts_with("deny_if: "), "{message}");
            assert!(message.contains("feature `cel`"), "{message}");
        }
        other => panic!("expected the policy to be refused, got {other:?}"),
    }
    // Without expressions the same policy loads.
    assert!(Policy::parse(&sample()).is_ok());
}

#[test]
fn powers_name_holders_by_alias_role_or_key_and_say_where() {
    let bob = "b0b0000000000000000000000000000000000000000000000000000000000000";
    let text = format!(
        "{}\n[roles]\nsecurity = [\"alice\", \"{bob}\"]\n\n[powers.advisory_veto]\nholders = [\"security\"]\nmax_hops = 0\n\n[powers.adopter]\nmax_hops = 3\nmin_weight = \"1/100\"\n\n[fallback]\nverdict = \"deny\"\n",
        sample()
    );
    let policy = Policy::parse(&text).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let veto = policy.powers.grant(Power::AdvisoryVeto);
    assert_eq!(veto.max_hops, 0);
    assert_eq!(veto.line, Some(line_of("[powers.advisory_veto]")));
    assert_eq!(
        veto.holders
            .get(&parse_hex_key(ALICE).unwrap())
            .map(String::as_str),
        Some("security")
    );
    assert!(veto.holders.contains_key(&parse_hex_key(bob).unwrap()));
    let adopter = policy.powers.grant(Power::Adopter);
    assert_eq!(
        (adopter.max_hops, adopter.min_weight),
        (3, Fraction::new(1, 100).unwrap())
    );
    // Powers the policy does not mention keep the defaults: one hop, no floor, no names.
    let bypass = policy.powers.grant(Power::FixBypass);
    assert_eq!((bypass.max_hops, bypass.line), (DEFAULT_MAX_HOPS, None));
    assert!(bypass.holders.is_empty());
    assert_eq!(
        policy.fallback,
        FallbackSection {
            verdict: Fallback::Deny,
            line: Some(line_of("[fallback]"))
        }
    );
    for (from, to, needle) in [
        (
            "holders = [\"security\"]",
            "holders = [\"nobody\"]",
            "nobody",
        ),
        ("max_hops = 0", "max_hops = -1", "expected u32"),
        ("min_weight = \"1/100\"", "min_weight = 2", "above 1"),
        ("max_hops = 0", "max_hop = 0", "max_hop"),
        ("[powers.adopter]", "[powers.adoptr]", "adoptr"),
        ("verdict = \"deny\"", "verdict = \"maybe\"", "maybe"),
        ("security = [", "alice = [", "also an alias"),
    ] {
        let err = Policy::parse(&text.replace(from, to))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{to}: {err}");
    }
}

#[test]
fn grants_follow_names_hops_and_floors() {
    use crate::trust::{Standing, Weight};
    let policy = Policy::parse(&format!(
        "{}\n[powers.auditor]\nholders = [\"alice\"]\nmax_hops = 2\nmin_weight = 0.25\n",
        sample()
    ))
    .unwrap();
    let grant = policy.powers.grant(Power::Auditor);
    let alice = parse_hex_key(ALICE).unwrap();
    let other = [9u8; 32];
    let standing = |hops, quarter_units: u64| Standing {
        hops,
        weight: Weight::from_units(Weight::ONE.units() / 4 * quarter_units / 4),
    };
    // Named: whatever the standing; cut: never; roots: always.
    assert!(matches!(
        grant.check(&alice, false, false, standing(None, 0)),
        Ok(Grant::Holder { .. })
    ));
    assert_eq!(
        grant.check(&alice, false, true, standing(Some(1), 4)),
        Err(Refusal::Cut)
    );
    assert_eq!(
        grant.check(&other, true, false, standing(Some(0), 4)),
        Ok(Grant::Root)
    );
    // Reach: within two hops with a quarter of the weight, met at equality.
    let ok = grant
        .check(&other, false, false, standing(Some(2), 4))
        .unwrap();
    assert!(ok.to_string().starts_with("2 hops from the roots, within max_hops = 2 and min_weight = 0.25 ([powers.auditor], policy line"), "{ok}");
    assert!(matches!(
        grant.check(&other, false, false, standing(Some(3), 4)),
        Err(Refusal::TooFar { hops: 3, .. })
    ));
    let light = grant
        .check(&other, false, false, standing(Some(1), 3))
        .unwrap_err();
    assert!(
        light.to_string().contains("below min_weight = 0.25"),
        "{light}"
    );
    assert!(matches!(
        grant.check(&other, false, false, standing(None, 4)),
        Err(Refusal::Unreached { .. })
    ));
    // The default grant: one hop.
    let default = policy.powers.grant(Power::AdvisoryVeto);
    let two_hops = default
        .check(&other, false, false, standing(Some(2), 4))
        .unwrap_err();
    assert_eq!(
        two_hops.to_string(),
        "it does not hold advisory_veto: 2 hops from the roots, beyond max_hops = 1 (the default), and not named for it"
    );
}

#[test]
fn thresholds_are_exact_fractions() {
    let policy =
        Policy::parse(&sample().replace("min_adoption = 0.6", "min_adoption = \"2/3\"")).unwrap();
    let rule = policy.rule_for("pkg:cargo/x").rule();
    assert!(rule.min_adoption.is_met_by(2, 3));
    assert!(
        !rule
            .min_adoption
            .is_met_by(666_666_666_666, 1_000_000_000_000)
    );
    let policy =
        Policy::parse(&sample().replace("mode = \"hits\"", "mode = \"hits\"\nmin_weight = 0.5"))
            .unwrap();
    use crate::trust::Weight;
    assert!(policy.is_trusted_weight(Weight::from_units(Weight::ONE.units() / 2)));
    assert!(!policy.is_trusted_weight(Weight::from_units(Weight::ONE.units() / 2 - 1)));
    assert!(!policy.is_trusted_weight(Weight::ZERO));
}
