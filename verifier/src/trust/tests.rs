use proptest::prelude::*;

use super::*;

const MODES: [TrustMode; 2] = [TrustMode::Flow, TrustMode::BestPath];

fn params(mode: TrustMode) -> TrustParams {
    TrustParams {
        mode,
        damping: 0.85,
        max_depth: 4,
    }
}

fn chain(len: usize) -> TrustGraph {
    let mut builder = TrustGraphBuilder::new(len);
    for i in 0..len - 1 {
        builder
            .trust(i as u32, i as u32 + 1, TrustLevel::High)
            .unwrap();
    }
    builder.build().unwrap()
}

fn total(scores: &TrustScores, ids: impl IntoIterator<Item = u32>) -> u64 {
    ids.into_iter().map(|id| scores.weight(id).units()).sum()
}

#[test]
fn weight_only_enters_at_roots() {
    // 0 -> 1 -> 2, and a sybil cluster 3..10 that vouches densely for itself.
    let mut builder = TrustGraphBuilder::new(10);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(1, 2, TrustLevel::Medium).unwrap();
    for a in 3..10u32 {
        for b in 3..10u32 {
            if a != b {
                builder.trust(a, b, TrustLevel::High).unwrap();
            }
        }
    }
    let graph = builder.build().unwrap();
    for mode in MODES {
        let scores = graph.compute(&[0], &params(mode)).unwrap();
        assert!(
            !scores.weight(1).is_zero() && !scores.weight(2).is_zero(),
            "{mode:?}"
        );
        for sybil in 3..10 {
            assert_eq!(scores.weight(sybil), Weight::ZERO, "{mode:?} sybil {sybil}");
            assert_eq!(scores.hops(sybil), None);
        }
        assert_eq!(scores.reached(), 3);
        assert_eq!(scores.total(), Weight::ONE, "{mode:?}: conserved exactly");
        assert_eq!(
            (scores.hops(0), scores.hops(1), scores.hops(2)),
            (Some(0), Some(1), Some(2))
        );
    }
}

#[test]
fn depth_limit_stops_propagation() {
    let graph = chain(8);
    for mode in MODES {
        let scores = graph.compute(&[0], &params(mode)).unwrap();
        assert!(
            !scores.weight(4).is_zero(),
            "{mode:?}: 4 hops is within depth"
        );
        assert_eq!(
            scores.weight(5),
            Weight::ZERO,
            "{mode:?}: 5 hops is beyond depth"
        );
        assert_eq!(scores.hops(5), None);
        assert_eq!(scores.total(), Weight::ONE);
    }
}

#[test]
fn each_principal_keeps_what_it_does_not_pass_on() {
    // 0 -> 1 (high), 0 -> 2 (low): 1 gets three quarters of d = 0.85, 2 one quarter.
    let mut builder = TrustGraphBuilder::new(3);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(0, 2, TrustLevel::Low).unwrap();
    let graph = builder.build().unwrap();
    let scores = graph.compute(&[0], &params(TrustMode::Flow)).unwrap();
    let one = Weight::ONE.units();
    let passed = scale_down(one, damping_fixed(0.85));
    assert_eq!(scores.weight(1).units(), passed * 3 / 4);
    assert_eq!(scores.weight(2).units(), passed / 4);
    assert_eq!(
        scores.weight(0).units(),
        one - passed * 3 / 4 - passed / 4,
        "the remainder of every division stays with the sender"
    );
    assert!((scores.weight(1).as_f64() - 0.85 * 0.75).abs() < 1e-9);
}

#[test]
fn a_ring_behind_one_vouch_holds_no_more_than_the_vouch_carried() {
    // The finding of issue 12: 0 vouches for team 1, 2, 3; 3 vouches for ring key 4, and
    // 4..10 vouch for each other in a ring and a clique. Personalized PageRank gave the ring
    // about d/(1-d) times what 3 passed on.
    let mut builder = TrustGraphBuilder::new(10);
    for member in 1..=3 {
        builder.trust(0, member, TrustLevel::High).unwrap();
    }
    builder.trust(3, 4, TrustLevel::High).unwrap();
    for a in 4..10u32 {
        builder.trust(a, 4 + (a - 3) % 6, TrustLevel::High).unwrap();
        for b in 4..10u32 {
            builder.trust(a, b, TrustLevel::High).unwrap();
        }
        // The ring vouches back for the team too, to no effect.
        builder.trust(a, 1, TrustLevel::High).unwrap();
    }
    let graph = builder.build().unwrap();
    for mode in MODES {
        let scores = graph.compute(&[0], &params(mode)).unwrap();
        let ring = total(&scores, 4..10);
        let team = total(&scores, 1..=2);
        let third = scores.weight(3).units();
        // 3 passes on d/(1-d) of what it keeps, and the ring holds exactly that.
        let passed_by_3 = scale_down(third + ring, damping_fixed(0.85));
        assert_eq!(ring, passed_by_3, "{mode:?}");
        assert!(
            ring < team,
            "{mode:?}: the ring {ring} vs two teammates {team}"
        );
        assert_eq!(scores.total(), Weight::ONE, "{mode:?}");
    }
}

#[test]
fn a_thousand_parallel_keys_behind_one_vouch_share_one_share() {
    // Root 0 trusts 1; 1 vouches for sybil 2, which vouches for 1000 fresh keys. In
    // best-path mode each key used to get the voucher's strength.
    let farm = 1000u32;
    let mut builder = TrustGraphBuilder::new(3 + farm as usize);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(1, 2, TrustLevel::High).unwrap();
    for k in 0..farm {
        builder.trust(2, 3 + k, TrustLevel::High).unwrap();
    }
    let graph = builder.build().unwrap();
    for mode in MODES {
        let scores = graph.compute(&[0], &params(mode)).unwrap();
        let farm_total = total(&scores, 3..3 + farm);
        let received_by_2 = farm_total + scores.weight(2).units();
        assert!(farm_total > 0);
        assert!(
            farm_total <= scale_down(received_by_2, damping_fixed(0.85)),
            "{mode:?}"
        );
        assert!(farm_total < scores.weight(1).units() * 6, "{mode:?}");
        assert_eq!(scores.total(), Weight::ONE, "{mode:?}");
    }
}

#[test]
fn distrust_by_an_accepted_distruster_cuts_the_distrusted_key() {
    // 0 trusts 1 and 2; 2 trusts 3; 1 distrusts 2, so 2 and everything only it reaches drop.
    let mut builder = TrustGraphBuilder::new(5);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(0, 2, TrustLevel::High).unwrap();
    builder.trust(2, 3, TrustLevel::High).unwrap();
    builder.distrust(1, 2).unwrap();
    // An untrusted key's distrust has no effect.
    builder.distrust(4, 1).unwrap();
    let graph = builder.build().unwrap();
    for mode in MODES {
        let scores = graph.compute(&[0], &params(mode)).unwrap();
        assert_eq!(scores.cut(), &[2]);
        assert!(scores.is_cut(2));
        assert_eq!(scores.weight(2), Weight::ZERO);
        assert_eq!(scores.weight(3), Weight::ZERO);
        assert_eq!(scores.hops(3), None);
        assert!(!scores.weight(1).is_zero());
        // A gate that accepts nobody cuts nothing.
        let ungated = graph
            .compute_gated(&[0], &params(mode), |_, _| false)
            .unwrap();
        assert!(ungated.cut().is_empty());
        assert!(!ungated.weight(3).is_zero());
        // The gate sees first-pass standing: 1 is one hop from the root.
        let near = graph
            .compute_gated(&[0], &params(mode), |_, s| s.hops == Some(1))
            .unwrap();
        assert_eq!(near.cut(), &[2]);
    }
    // Scoped, not global: a client rooted at 2 still trusts 3.
    let other = graph.compute(&[2], &TrustParams::default()).unwrap();
    assert!(!other.weight(3).is_zero());
}

#[test]
fn later_statement_replaces_earlier_one() {
    let mut builder = TrustGraphBuilder::new(2);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.distrust(0, 1).unwrap();
    let graph = builder.build().unwrap();
    let scores = graph.compute(&[0], &TrustParams::default()).unwrap();
    assert_eq!(scores.weight(1), Weight::ZERO);

    let mut builder = TrustGraphBuilder::new(2);
    builder.distrust(0, 1).unwrap();
    builder.trust(0, 1, TrustLevel::Low).unwrap();
    let graph = builder.build().unwrap();
    let scores = graph.compute(&[0], &TrustParams::default()).unwrap();
    assert!(!scores.weight(1).is_zero());
}

#[test]
fn withdrawn_trust_is_no_edge_and_no_distrust() {
    let mut builder = TrustGraphBuilder::new(3);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(0, 2, TrustLevel::High).unwrap();
    builder.trust(1, 2, TrustLevel::High).unwrap();
    builder.add(0, 2, TrustStance::Withdrawn).unwrap();
    let graph = builder.build().unwrap();
    let scores = graph.compute(&[0], &TrustParams::default()).unwrap();
    assert!(scores.cut().is_empty());
    // 2 is still reached through 1, and no longer directly.
    assert!(!scores.weight(2).is_zero());
    assert_eq!(scores.hops(2), Some(2));
    assert_eq!(graph.edge_count(), 2);
}

#[test]
fn best_path_picks_the_parent_on_the_strongest_path() {
    // 0 -High-> 1 -Low-> 3 and 0 -Medium-> 2 -Medium-> 3: with damping 0.9 the first path
    // is as strong as min(0.9, 1/3) × 0.9 = 0.3, the second min(0.6, 2/3) × 0.9 = 0.54, so 3
    // takes weight from 2 only.
    let mut builder = TrustGraphBuilder::new(4);
    builder.trust(0, 1, TrustLevel::High).unwrap();
    builder.trust(1, 3, TrustLevel::Low).unwrap();
    builder.trust(0, 2, TrustLevel::Medium).unwrap();
    builder.trust(2, 3, TrustLevel::Medium).unwrap();
    let graph = builder.build().unwrap();
    let p = TrustParams {
        mode: TrustMode::BestPath,
        damping: 0.9,
        max_depth: 4,
    };
    let mut flows = Vec::new();
    let removed = vec![false; 4];
    let scores = propagate::run_observed(&graph, &[0], &p, &removed, &mut |f, t, a| {
        flows.push((f, t, a))
    });
    assert!(flows.iter().any(|&(f, t, a)| (f, t) == (2, 3) && a > 0));
    assert!(!flows.iter().any(|&(f, t, _)| (f, t) == (1, 3)));
    // 1 has no tree child and keeps everything it got.
    let got_by_1: u64 = flows.iter().filter(|f| f.1 == 1).map(|f| f.2).sum();
    assert_eq!(scores.weight(1).units(), got_by_1);
    assert_eq!(scores.total(), Weight::ONE);
}

#[test]
fn rejects_bad_input() {
    let mut builder = TrustGraphBuilder::new(2);
    assert_eq!(
        builder.trust(0, 2, TrustLevel::High),
        Err(TrustError::UnknownPrincipal { id: 2, count: 2 })
    );
    let graph = builder.build().unwrap();
    assert!(matches!(
        graph.compute(&[5], &TrustParams::default()),
        Err(TrustError::UnknownPrincipal { .. })
    ));
    for damping in [1.0, -0.1, f64::NAN] {
        let p = TrustParams {
            damping,
            ..TrustParams::default()
        };
        assert!(matches!(
            graph.compute(&[0], &p),
            Err(TrustError::BadDamping(_))
        ));
    }
}

#[test]
fn same_input_gives_identical_weights() {
    let graph = chain(50);
    for mode in MODES {
        let a = graph.compute(&[0, 3], &params(mode)).unwrap();
        let b = graph.compute(&[3, 0, 3], &params(mode)).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn principal_index_interns_in_order() {
    let mut index = PrincipalIndex::new();
    assert_eq!(index.intern(&[7; 32]).unwrap(), 0);
    assert_eq!(index.intern(&[9; 32]).unwrap(), 1);
    assert_eq!(index.intern(&[7; 32]).unwrap(), 0);
    assert_eq!(index.key(1), Some(&[9; 32]));
    assert_eq!(index.get(&[1; 32]), None);
    assert_eq!(index.len(), 2);
}

#[test]
fn hub_scores_stay_within_trust() {
    // 1 and 2 adopt item 0; 3 adopts item 1; 4 has no trust and adopts both.
    let trust: Vec<Weight> = [0u64, 400, 300, 300, 0]
        .iter()
        .map(|u| Weight::from_units(*u))
        .collect();
    let hubs = hits::hub_weights(&trust, &[(1, 0), (2, 0), (3, 1), (4, 0), (4, 1)]);
    assert_eq!(hubs[4], Weight::ZERO);
    assert_eq!(hubs[0], Weight::ZERO);
    assert_eq!(hubs[1].units(), 400, "the best hub keeps its full trust");
    assert!(hubs[3].units() >= 150 && hubs[3].units() < 300);
    for (h, t) in hubs.iter().zip(&trust) {
        assert!(h <= t);
    }
    // No adoptions: the trust weights unchanged.
    assert_eq!(hits::hub_weights(&trust, &[]), trust);
}

/// The shapes an adversarial region takes.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Ring,
    Clique,
    Chain,
    Star,
    Random,
}

/// A random graph: `honest` principals with random edges (0 and 1 are roots), then a region
/// of `region` principals of the given shape, attached by `attach` edges from honest
/// principals; region principals also vouch back into the honest part.
#[derive(Debug, Clone)]
struct Case {
    principals: usize,
    roots: Vec<u32>,
    region: std::ops::Range<u32>,
    edges: Vec<(u32, u32, TrustLevel)>,
    distrusts: Vec<(u32, u32)>,
}

fn level() -> impl Strategy<Value = TrustLevel> {
    prop_oneof![
        Just(TrustLevel::Low),
        Just(TrustLevel::Medium),
        Just(TrustLevel::High)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        2usize..30,
        1usize..80,
        prop_oneof![
            Just(Shape::Ring),
            Just(Shape::Clique),
            Just(Shape::Chain),
            Just(Shape::Star),
            Just(Shape::Random)
        ],
        1usize..4,
        any::<u64>(),
    )
        .prop_flat_map(|(honest, region, shape, attach, seed)| {
            let n = honest + region;
            (
                proptest::collection::vec((0..honest as u32, 0..honest as u32, level()), 0..90),
                proptest::collection::vec((0..honest as u32, level()), attach..=attach),
                proptest::collection::vec((0..n as u32, 0..n as u32), 0..4),
                Just((honest, region, shape, seed)),
            )
        })
        .prop_map(
            |(honest_edges, attach, distrusts, (honest, region, shape, seed))| {
                let h = honest as u32;
                let r = region as u32;
                let mut edges = honest_edges;
                let mut state = seed;
                let mut next = move || {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 33) as u32
                };
                for (i, (from, level)) in attach.into_iter().enumerate() {
                    edges.push((from, h + (i as u32 * 7) % r, level));
                }
                for a in 0..r {
                    match shape {
                        Shape::Ring => edges.push((h + a, h + (a + 1) % r, TrustLevel::High)),
                        Shape::Clique => {
                            for b in 0..r.min(25) {
                                edges.push((h + a, h + b, TrustLevel::High));
                            }
                        }
                        Shape::Chain if a + 1 < r => {
                            edges.push((h + a, h + a + 1, TrustLevel::High))
                        }
                        Shape::Chain => {}
                        Shape::Star => edges.push((h, h + a, TrustLevel::High)),
                        Shape::Random => {
                            for _ in 0..3 {
                                edges.push((h + a, h + next() % r, TrustLevel::High));
                            }
                        }
                    }
                    // The region vouches back into the honest part and for itself again.
                    edges.push((h + a, next() % h, TrustLevel::High));
                }
                Case {
                    principals: honest + region,
                    roots: vec![0, 1],
                    region: h..h + r,
                    edges,
                    distrusts,
                }
            },
        )
}

fn build(case: &Case) -> TrustGraph {
    let mut builder = TrustGraphBuilder::new(case.principals);
    for &(from, to, level) in &case.edges {
        builder.trust(from, to, level).unwrap();
    }
    for &(from, to) in &case.distrusts {
        builder.distrust(from, to).unwrap();
    }
    builder.build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The invariant of `spec/verifier-semantics.md` §3: any set without a root holds at
    /// most what flows into it over edges from outside it, in both modes, with and without
    /// cuts; weight is conserved exactly; and hub scores never exceed trust weights.
    #[test]
    fn no_region_holds_more_than_flows_into_it(
        case in case(),
        depth in 1u32..8,
        damping in 0.0f64..0.99,
    ) {
        let graph = build(&case);
        // Both modes reach the same principals at the same (breadth-first) distances, which
        // the powers' hop limits read.
        let hops = |mode| {
            let p = TrustParams { mode, damping, max_depth: depth };
            let scores = graph
                .compute_gated(&case.roots, &p, |_, s| s.hops.is_some_and(|h| h <= 1))
                .unwrap();
            (0..case.principals as u32).map(|id| scores.hops(id)).collect::<Vec<_>>()
        };
        prop_assert_eq!(hops(TrustMode::Flow), hops(TrustMode::BestPath));
        for mode in MODES {
            let p = TrustParams { mode, damping, max_depth: depth };
            let scores = graph.compute(&case.roots, &p).unwrap();
            let seeded = Weight::ONE.units() / 2 * 2;
            prop_assert_eq!(scores.total().units(), seeded, "{:?}: conserved exactly", mode);

            // Recompute the last pass with every edge flow observed.
            let mut removed = vec![false; case.principals];
            for &c in scores.cut() {
                removed[c as usize] = true;
            }
            let mut flows = Vec::new();
            let again = propagate::run_observed(&graph, &case.roots, &p, &removed,
                &mut |f, t, a| flows.push((f, t, a)));
            prop_assert_eq!(again.weights(), scores.weights());

            // The adversarial region, and other sets without a root.
            let n = case.principals as u32;
            let mut sets: Vec<Vec<u32>> = vec![case.region.clone().collect()];
            for k in 2..n.min(12) {
                sets.push((k..n).step_by(k as usize).collect());
            }
            for set in sets {
                let mut inside = vec![false; case.principals];
                for &id in &set {
                    inside[id as usize] = true;
                }
                let held = total(&scores, set.iter().copied());
                let inflow: u64 = flows.iter()
                    .filter(|(f, t, _)| !inside[*f as usize] && inside[*t as usize])
                    .map(|f| f.2)
                    .sum();
                prop_assert!(held <= inflow,
                    "{:?}: set {:?} holds {} but only {} flowed in", mode, set, held, inflow);
            }

            // Hub scores over random adoptions stay within trust.
            let adoptions: Vec<(u32, u32)> = (0..case.principals as u32)
                .map(|p| (p, p % 3))
                .collect();
            let hubs = hits::hub_weights(scores.weights(), &adoptions);
            for (hub, trust) in hubs.iter().zip(scores.weights()) {
                prop_assert!(hub <= trust);
            }
        }
    }
}
