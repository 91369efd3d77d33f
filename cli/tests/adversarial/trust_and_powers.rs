//! Decisions nobody can game (issue 12, items 2, 3, 5 and 6), attacked through the real
//! binaries: trust that cycles cannot amplify, powers that only the policy's named or close
//! principals hold, counts a farm cannot meet, no allow for packages no rule speaks for, and
//! thresholds met exactly at equality.
//!
//! Every world here is a three-person team (`a`, `b`, `c`) whose developer (`me`, the only
//! root) vouches for each of them; `c` is careless and vouches for one stranger. The team runs
//! `pkg:cargo/app@1.0.0`; attackers push `6.6.6`.

use quorum_verifier::model::predicates::{
    Adoption, AdoptionStatus, Audit, Predicate, Trust, TrustLevel, Verdict,
};
use quorum_verifier::model::statement::Subject;
use serde_json::Value;

use crate::harness::{Person, Signed, World, expect_exit, json};

const GOOD: &str = "pkg:cargo/app@1.0.0";
const BAD: &str = "pkg:cargo/app@6.6.6";

fn vouch(from: &Person, to: &Person) -> Signed {
    let key = to.key_bytes();
    from.sign(
        Predicate::Trust(Trust {
            key: to.public.clone(),
            level: TrustLevel::High,
            scope: None,
            comment: None,
        }),
        vec![Subject::key(&key)],
    )
}

fn adopt(who: &Person, purl: &str) -> Signed {
    who.sign(
        Predicate::Adoption(Adoption {
            status: AdoptionStatus::Adopted,
            comment: None,
        }),
        vec![Subject::package_version(purl, [7; 32])],
    )
}

fn audit(who: &Person, purl: &str) -> Signed {
    who.sign(
        Predicate::Audit(Audit {
            verdict: Verdict::Pass,
            criteria: vec!["safe-to-deploy".into()],
            capabilities: None,
            notes: None,
        }),
        vec![Subject::package_version(purl, [7; 32])],
    )
}

/// Submits and waits until a cosigned checkpoint covers everything.
fn publish(world: &World, signed: &[Signed]) {
    let indices = world.submit(signed);
    if let Some(last) = indices.iter().max() {
        world.wait_for_size(last + 1);
    }
}

/// The developer, the team, and what the team runs.
struct Team {
    me: Person,
    a: Person,
    b: Person,
    c: Person,
}

fn team(world: &World) -> Team {
    let team = Team {
        me: world.person("me"),
        a: Person::key_only("a"),
        b: Person::key_only("b"),
        c: Person::key_only("c"),
    };
    let mut signed = Vec::new();
    for member in [&team.a, &team.b, &team.c] {
        signed.push(vouch(&team.me, member));
        signed.push(adopt(member, GOOD));
    }
    publish(world, &signed);
    team
}

fn verify(world: &World, me: &Person, policy: &std::path::Path, purl: &str) -> (i32, Value) {
    let out = world.quorum(me, Some(policy), &["--json", "verify", purl]);
    let code = out.status.code().unwrap_or(-1);
    let v = json(&out);
    (code, v["decisions"][0].clone())
}

fn explain(world: &World, me: &Person, policy: &std::path::Path, purl: &str) -> Value {
    let out = world.quorum(me, Some(policy), &["--json", "explain", purl]);
    json(&out)
}

/// Issue 12, item 2. Three regions of keys, each reached through one careless vouch by one
/// teammate and adopting its own package's bad version: a ring and clique of six behind `a`,
/// 300 parallel keys behind `b`, a chain of twenty behind `c`. Each holds no more than its one
/// vouch carried (with the default damping of 1/2: no more than its voucher keeps), in every
/// ranking mode, so none carries an adoption threshold the team did not. Before: personalized PageRank let the six-key ring hold 65% of the package's
/// adoption weight (`allow`, the finding of issue 12), and best-path gave each of the 300
/// parallel keys the voucher's strength.
#[test]
fn regions_behind_one_vouch_hold_no_more_than_it_carried() {
    let world = World::start();
    let t = team(&world);
    let ring: Vec<Person> = (0..6).map(|i| Person::key_only(&format!("r{i}"))).collect();
    let star: Vec<Person> = (0..301)
        .map(|i| Person::key_only(&format!("s{i}")))
        .collect();
    let chain: Vec<Person> = (0..20)
        .map(|i| Person::key_only(&format!("c{i}")))
        .collect();
    let mut signed = vec![
        vouch(&t.a, &ring[0]),
        vouch(&t.b, &star[0]),
        vouch(&t.c, &chain[0]),
    ];
    for i in 0..6 {
        for j in 0..6 {
            if i != j {
                signed.push(vouch(&ring[i], &ring[j]));
            }
        }
    }
    for key in &star[1..] {
        signed.push(vouch(&star[0], key));
    }
    for pair in chain.windows(2) {
        signed.push(vouch(&pair[0], &pair[1]));
    }
    let regions: [(&str, &Person, &[Person]); 3] = [
        ("pkg:cargo/ring", &t.a, &ring),
        ("pkg:cargo/star", &t.b, &star),
        ("pkg:cargo/chain", &t.c, &chain),
    ];
    for (package, _, keys) in &regions {
        for member in [&t.a, &t.b, &t.c] {
            signed.push(adopt(member, &format!("{package}@1.0.0")));
        }
        for key in keys.iter() {
            signed.push(adopt(key, &format!("{package}@6.6.6")));
        }
    }
    publish(&world, &signed);

    for mode in ["trust", "best-path", "hits"] {
        let policy = world.policy(
            &format!("{mode}.toml"),
            &[&t.me],
            &[&t.me],
            &format!("mode = \"{mode}\""),
            "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = 0.6\nmin_adopters = 2\n",
        );
        for (package, voucher, keys) in &regions {
            let bad = format!("{package}@6.6.6");
            let (code, d) = verify(&world, &t.me, &policy, &bad);
            assert_eq!(
                (code, d["verdict"].as_str()),
                (2, Some("insufficient-evidence")),
                "{mode} {package}: {d}"
            );
            let fraction = d["signals"]["adoption_fraction"].as_f64().unwrap_or(1.0);
            assert!(
                fraction < 0.5,
                "{mode} {package}: the region carried {fraction}"
            );
            assert_eq!(
                d["signals"]["adopters"], 0,
                "{mode} {package}: none counted"
            );
            // Weighed (as far as max_depth reaches: five links of the chain), not counted.
            let weighed = d["signals"]["trusted_adopters"].as_u64().unwrap_or(0);
            assert!(
                weighed > 0 && weighed <= keys.len() as u64,
                "{mode} {package}: {weighed} region keys weighed"
            );

            // The region's total weight against what its voucher passed on: the voucher
            // keeps 1 − d of what it receives and passes d on, all of it into the region
            // (its only edge); with the default d = 1/2, no more than it keeps.
            let region_weight: f64 = d["weights"]
                .as_object()
                .expect("weights")
                .values()
                .filter_map(Value::as_f64)
                .sum();
            let good = verify(&world, &t.me, &policy, &format!("{package}@1.0.0"));
            assert_eq!(good.0, 0, "{mode} {package}: the team's version is allowed");
            let weights = &good.1["weights"];
            let keeps = weights[&voucher.public]
                .as_f64()
                .expect("the voucher's weight");
            let team: f64 = [&t.a, &t.b, &t.c]
                .iter()
                .map(|m| weights[&m.public].as_f64().unwrap_or(0.0))
                .sum();
            assert!(
                region_weight <= keeps * (1.0 + 1e-9),
                "{mode} {package}: {} keys hold {region_weight}, more than their voucher passed on ({keeps})",
                keys.len(),
            );
            assert!(
                region_weight < team,
                "{mode} {package}: {region_weight} vs {team}"
            );
        }
    }
}

/// Issue 12, item 3. A stranger two hops out (reached only through c's careless vouch)
/// publishes an advisory against the team's version and names the bad version as its fix.
/// Before: the advisory denied 1.0.0 (exit 1) and the "fix" skipped every threshold for 6.6.6
/// (exit 0). After: neither counts, and `explain` says which power the stranger lacks and
/// why; a security team the policy names for the power does veto, and the reason names the
/// policy line.
#[test]
fn a_key_two_hops_away_can_neither_veto_nor_bypass() {
    let world = World::start();
    let t = team(&world);
    let stranger = world.person("stranger");
    let secteam = world.person("secteam");
    publish(&world, &[vouch(&t.c, &stranger), adopt(&stranger, BAD)]);
    let policy = world.policy(
        "policy.toml",
        &[&t.me],
        &[&t.me, &stranger, &secteam],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = 0.6\nmin_adopters = 2\n",
    );
    let out = world.quorum(
        &stranger,
        Some(&policy),
        &[
            "advise",
            "pkg:cargo/app",
            "MAL-2026-0666",
            "--malicious",
            "--affected",
            "1.0.0",
            "--fixed",
            "6.6.6",
        ],
    );
    expect_exit(&out, 0);
    let out = world.quorum(
        &stranger,
        Some(&policy),
        &[
            "attest",
            GOOD,
            "--digest",
            &"07".repeat(32),
            "--verdict",
            "fail",
            "--criteria",
            "safe-to-deploy",
        ],
    );
    expect_exit(&out, 0);

    let (code, d) = verify(&world, &t.me, &policy, GOOD);
    assert_eq!((code, d["verdict"].as_str()), (0, Some("allow")), "{d}");
    let rejected = explain(&world, &t.me, &policy, GOOD)["rejected"].to_string();
    for power in ["advisory_veto", "failed_audit_veto"] {
        assert!(
            rejected.contains(&format!(
                "does not hold {power}: 2 hops from the roots, beyond max_hops = 1 (the default), and not named for it"
            )),
            "{power}: {rejected}"
        );
    }
    let (code, d) = verify(&world, &t.me, &policy, BAD);
    assert_eq!(
        (code, d["verdict"].as_str()),
        (2, Some("insufficient-evidence")),
        "{d}"
    );
    assert_eq!(d["signals"]["named_fix"], false);
    assert!(
        explain(&world, &t.me, &policy, BAD)["rejected"]
            .to_string()
            .contains("does not hold fix_bypass"),
    );

    // A security team nobody vouches for, named by the policy, vetoes; the reason says who
    // and by which line.
    let named = world.policy(
        "named.toml",
        &[&t.me],
        &[&t.me, &stranger, &secteam],
        "",
        "[powers.advisory_veto]\nholders = [\"secteam\"]\n\n[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = 0.6\n",
    );
    let line = std::fs::read_to_string(&named)
        .expect("policy")
        .lines()
        .position(|l| l == "[powers.advisory_veto]")
        .expect("the powers line")
        + 1;
    let out = world.quorum(
        &secteam,
        Some(&named),
        &[
            "advise",
            "pkg:cargo/app",
            "RUSTSEC-2026-0001",
            "--affected",
            "1.0.0",
        ],
    );
    expect_exit(&out, 0);
    let (code, d) = verify(&world, &t.me, &named, GOOD);
    assert_eq!((code, d["verdict"].as_str()), (1, Some("deny")), "{d}");
    let reasons = d["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "by secteam ({}…) reports this version vulnerable",
            &secteam.public[..16]
        )) && reasons.contains(&format!(
            "advisory_veto held: named as secteam in [powers.advisory_veto], policy line {line}"
        )),
        "{reasons}"
    );
    assert_eq!(d["powers"][0]["power"], "advisory_veto", "{d}");
    assert_eq!(d["powers"][0]["signer"], secteam.public.as_str());
    // The stranger's advisory still does not count under this policy.
    assert_eq!(d["powers"].as_array().map(Vec::len), Some(1), "{d}");
}

/// Issue 12, item 3 (counts). Forty fresh keys behind c adopt and audit the bad version. Before:
/// "3 trusted adopters" and "2 passing audits" were met by the farm (exit 0). After: only
/// principals holding `adopter` / `auditor` are counted (by default: one hop from the roots).
#[test]
fn a_farm_behind_one_trusted_key_meets_no_count() {
    let world = World::start();
    let t = team(&world);
    let farm: Vec<Person> = (0..40)
        .map(|i| Person::key_only(&format!("f{i}")))
        .collect();
    let mut signed = Vec::new();
    for key in &farm {
        signed.push(vouch(&t.c, key));
        signed.push(adopt(key, BAD));
        signed.push(audit(key, BAD));
    }
    publish(&world, &signed);
    let policy = world.policy(
        "policy.toml",
        &[&t.me],
        &[&t.me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 3\nmin_audits = 2\n",
    );
    let (code, d) = verify(&world, &t.me, &policy, BAD);
    assert_eq!(
        (code, d["verdict"].as_str()),
        (2, Some("insufficient-evidence")),
        "{d}"
    );
    let reasons = d["reasons"].to_string();
    assert!(
        reasons.contains("0 counted adopters of 40 trusted, 3 required"),
        "{reasons}"
    );
    assert!(
        reasons.contains("0 passing audits, 2 required"),
        "{reasons}"
    );
}

/// Issue 12, item 5. Packages no rule matches — an npm lockfile under a cargo-only policy,
/// a purl of an unknown type — were `allow` on no evidence (exit 0). After: without a
/// `[fallback]` they are `insufficient-evidence` (exit 2); a `[fallback]` that says `deny`
/// denies them (exit 1), naming its line.
#[test]
fn packages_no_rule_matches_are_not_allowed_by_default() {
    let world = World::start();
    let t = team(&world);
    let policy = world.policy(
        "cargo-only.toml",
        &[&t.me],
        &[&t.me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\n",
    );
    for purl in ["pkg:npm/left-pad@1.3.0", "pkg:foo/bar@1.0"] {
        let (code, d) = verify(&world, &t.me, &policy, purl);
        assert_eq!(
            (code, d["verdict"].as_str()),
            (2, Some("insufficient-evidence")),
            "{purl}: {d}"
        );
        assert!(
            d["reasons"][0]
                .as_str()
                .unwrap_or("")
                .starts_with("no [[rule]] matches"),
            "{d}"
        );
    }
    let lockfile = world.path("package-lock.json");
    std::fs::write(
        &lockfile,
        r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"},"node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","integrity":"sha512-Y3PcnF9azdy3mf0w+8oU0PIbzicJMix5z9Oj+q1eA/+GBYOM7BfH2L3wqb+gGMFGRDlkRmmrXMgoNlJKDEbBrA=="}}}"#,
    )
    .expect("write lockfile");
    let out = world.quorum(
        &t.me,
        Some(&policy),
        &[
            "--json",
            "verify",
            "--lockfile",
            &lockfile.display().to_string(),
        ],
    );
    expect_exit(&out, 2);
    let deny = world.policy(
        "deny.toml",
        &[&t.me],
        &[&t.me],
        "",
        "[fallback]\nverdict = \"deny\"\n\n[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adopters = 1\n",
    );
    let (code, d) = verify(&world, &t.me, &deny, "pkg:npm/left-pad@1.3.0");
    assert_eq!((code, d["verdict"].as_str()), (1, Some("deny")), "{d}");
    assert!(
        d["reasons"][0]
            .as_str()
            .unwrap_or("")
            .contains("the policy's [fallback] (line"),
        "{d}"
    );
    // The cargo package itself is decided by its rule.
    assert_eq!(verify(&world, &t.me, &deny, GOOD).0, 0);
}

/// Issue 12, item 5 (`quorum init`). A new user's first policy starts safe: it names this log
/// and both witnesses, the user's own key as the only root, and a strict fallback, so a
/// package is `insufficient-evidence` until a rule speaks for it. Before: no such command.
#[test]
fn quorum_init_writes_a_policy_that_starts_safe() {
    let world = World::start();
    let newcomer = world.person("newcomer");
    let mut args = vec![
        "--log".to_string(),
        world.url.clone(),
        "init".into(),
        "--origin".into(),
        crate::harness::ORIGIN.into(),
        "--log-key".into(),
        world.log_vkey.clone(),
    ];
    for w in &world.witnesses {
        args.push("--witness".into());
        args.push(w.vkey.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = world.quorum(&newcomer, None, &args);
    expect_exit(&out, 0);
    let written = std::fs::read_to_string(newcomer.state.join("policy.toml")).expect("policy");
    assert!(
        written.contains(&format!("me = \"{}\"", newcomer.public)),
        "{written}"
    );
    assert!(written.contains("[fallback]\nverdict = \"insufficient-evidence\""));
    // A second run does not overwrite it.
    expect_exit(&world.quorum(&newcomer, None, &args), 64);
    // The written policy verifies against the live log (log key, both cosignatures) and
    // decides nothing it has no rule for.
    let out = world.quorum(&newcomer, None, &["--json", "verify", GOOD]);
    expect_exit(&out, 2);
    let d = &json(&out)["decisions"][0];
    assert_eq!(d["verdict"], "insufficient-evidence", "{d}");
    let fallback_line = written
        .lines()
        .position(|l| l == "[fallback]")
        .expect("a [fallback] table")
        + 1;
    assert_eq!(
        d["rule"],
        format!("fallback insufficient-evidence (policy line {fallback_line})")
    );
    // Without flags it writes placeholders that parse, and says so.
    let other = world.person("other");
    let out = world.quorum(&other, None, &["init"]);
    expect_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("placeholders"));
}

/// Issue 12, item 6. Five equal users, two of whom adopt 2.0.0: exactly 2/5, and a
/// `min_adoption = 0.4` is met at equality. Before: floating-point weights gave
/// 0.39999999999999997 and `insufficient-evidence` (exit 2).
#[test]
fn a_threshold_is_met_at_equality() {
    let world = World::start();
    let me = world.person("me");
    let users: Vec<Person> = (0..5).map(|i| Person::key_only(&format!("u{i}"))).collect();
    let mut signed = Vec::new();
    for (i, user) in users.iter().enumerate() {
        signed.push(vouch(&me, user));
        signed.push(adopt(user, GOOD));
        if i < 2 {
            signed.push(adopt(user, "pkg:cargo/app@2.0.0"));
        }
    }
    publish(&world, &signed);
    let policy = world.policy(
        "policy.toml",
        &[&me],
        &[&me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = 0.4\n",
    );
    let (code, d) = verify(&world, &me, &policy, "pkg:cargo/app@2.0.0");
    assert_eq!((code, d["verdict"].as_str()), (0, Some("allow")), "{d}");
    assert_eq!(d["signals"]["adoption_fraction"].as_f64(), Some(0.4));
    // One step above the exact fraction is not met.
    let above = world.policy(
        "above.toml",
        &[&me],
        &[&me],
        "",
        "[[rule]]\npackages = \"pkg:cargo/*\"\nmin_adoption = \"0.400000000000000001\"\n",
    );
    let (code, d) = verify(&world, &me, &above, "pkg:cargo/app@2.0.0");
    assert_eq!(code, 2, "{d}");
}
