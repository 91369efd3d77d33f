//! Trust computation on a large random graph: 1,000,000 principals, 10,000,000 edges.
//!
//! Run: `cargo bench -p quorum-verifier --bench trust`

use criterion::{Criterion, criterion_group, criterion_main};
use quorum_verifier::trust::{TrustGraph, TrustGraphBuilder, TrustLevel, TrustMode, TrustParams};

const PRINCIPALS: u32 = 1_000_000;
const EDGES: usize = 10_000_000;

/// SplitMix64: a fixed, dependency-free generator so every run measures the same graph.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_graph() -> TrustGraph {
    let mut state = 42u64;
    let mut builder = TrustGraphBuilder::new(PRINCIPALS as usize);
    builder.reserve(EDGES);
    let levels = [TrustLevel::Low, TrustLevel::Medium, TrustLevel::High];
    for _ in 0..EDGES {
        let r = splitmix(&mut state);
        let from = (r % u64::from(PRINCIPALS)) as u32;
        let to = ((r >> 32) % u64::from(PRINCIPALS)) as u32;
        let level = levels[(splitmix(&mut state) % 3) as usize];
        builder
            .trust(from, to, level)
            .expect("generated ids are in range");
    }
    builder.build().expect("graph fits")
}

fn bench_trust(c: &mut Criterion) {
    let graph = random_graph();
    let roots: Vec<u32> = (0..10).collect();
    let mut group = c.benchmark_group("trust_1M_principals_10M_edges");
    group.sample_size(10);
    for (name, mode) in [
        (
            "personalized_pagerank_depth6",
            TrustMode::PersonalizedPageRank,
        ),
        ("best_path_depth6", TrustMode::BestPath),
    ] {
        let params = TrustParams {
            mode,
            damping: 0.85,
            max_depth: 6,
        };
        group.bench_function(name, |b| {
            b.iter(|| graph.compute(&roots, &params).expect("valid roots"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_trust);
criterion_main!(benches);
