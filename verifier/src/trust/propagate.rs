//! The two propagation rules: a conserved flow along the breadth-first layering, and a
//! conserved flow along cargo-crev's best-path tree. Both hand out exactly what the roots
//! hold, rounding every division down and leaving the remainder with the sender.

use super::{
    PrincipalId, TrustGraph, TrustLevel, TrustMode, TrustParams, TrustScores, UNREACHED, Weight,
    damping_fixed, scale_down,
};

/// One pass of propagation from `roots` (sorted, distinct) with `removed` principals cut.
pub(super) fn run(
    graph: &TrustGraph,
    roots: &[PrincipalId],
    params: &TrustParams,
    removed: &[bool],
) -> TrustScores {
    run_observed(graph, roots, params, removed, &mut |_, _, _| {})
}

/// [`run`], telling `observe` every amount that flows along an edge `(from, to, units)`.
pub(super) fn run_observed(
    graph: &TrustGraph,
    roots: &[PrincipalId],
    params: &TrustParams,
    removed: &[bool],
    observe: &mut impl FnMut(PrincipalId, PrincipalId, u64),
) -> TrustScores {
    let (held, hops) = match params.mode {
        TrustMode::Flow => {
            let (hops, order) = layers(graph, roots, params.max_depth, removed);
            (
                layered_flow(graph, roots, params, &hops, &order, observe),
                hops,
            )
        }
        TrustMode::BestPath => best_path_flow(graph, roots, params, removed, observe),
    };
    TrustScores {
        weights: held.into_iter().map(Weight::from_units).collect(),
        hops,
        cut: Vec::new(),
    }
}

/// What each root starts with: an equal share of [`Weight::ONE`] (the remainder of the
/// division is nobody's, so nothing is created).
fn seed(n: usize, roots: &[PrincipalId]) -> Vec<u64> {
    let mut held = vec![0u64; n];
    if let Ok(count) = u64::try_from(roots.len())
        && count > 0
    {
        let share = Weight::ONE.units() / count;
        for &root in roots {
            held[root as usize] = share;
        }
    }
    held
}

/// Breadth-first distances from the roots over edges into principals that are not cut, up
/// to `max_depth` hops, and the principals in order of distance (ids ascending within a
/// layer).
fn layers(
    graph: &TrustGraph,
    roots: &[PrincipalId],
    max_depth: u32,
    removed: &[bool],
) -> (Vec<u32>, Vec<PrincipalId>) {
    let mut hops = vec![UNREACHED; graph.principal_count()];
    let mut order: Vec<PrincipalId> = roots.to_vec();
    for &root in roots {
        hops[root as usize] = 0;
    }
    // Layer by layer, each layer in id order: edges are then read in the order they are
    // stored, which is what makes a million principals fast.
    let mut layer_start = 0;
    for distance in 0..max_depth {
        let layer_end = order.len();
        for position in layer_start..layer_end {
            let from = order[position];
            let (targets, _) = graph.out_edges(from as usize);
            for &to in targets {
                let t = to as usize;
                if !removed[t] && hops[t] == UNREACHED {
                    hops[t] = distance + 1;
                    order.push(to);
                }
            }
        }
        if order.len() == layer_end {
            break;
        }
        order[layer_end..].sort_unstable();
        layer_start = layer_end;
    }
    (hops, order)
}

/// Each child's share of `passed` by the parts of its edge (index 1 to 3): `parts` of
/// `total_parts`, rounded down (the remainder stays with the sender). Computed once per
/// sender, in 64 bits: `passed` is at most 2^60 and `parts` at most 3, so the product fits.
fn shares(passed: u64, total_parts: u64) -> [u64; 4] {
    [
        0,
        passed / total_parts,
        passed * 2 / total_parts,
        passed * 3 / total_parts,
    ]
}

/// Mode `trust`: every principal, in breadth-first order, passes `damping` of what it
/// received along its edges into the next layer (in proportion to their levels) and keeps
/// the rest. Principals on the last layer, or with no edge into the next one, keep all.
fn layered_flow(
    graph: &TrustGraph,
    roots: &[PrincipalId],
    params: &TrustParams,
    hops: &[u32],
    order: &[PrincipalId],
    observe: &mut impl FnMut(PrincipalId, PrincipalId, u64),
) -> Vec<u64> {
    let mut held = seed(graph.principal_count(), roots);
    let damping = damping_fixed(params.damping);
    for &from in order {
        let f = from as usize;
        let received = held[f];
        let distance = hops[f];
        if received == 0 || distance >= params.max_depth {
            continue;
        }
        let next = distance + 1;
        let (targets, levels) = graph.out_edges(f);
        let forward = || {
            targets
                .iter()
                .zip(levels)
                .filter(move |(t, _)| hops[**t as usize] == next)
        };
        let total_parts: u64 = forward().map(|(_, l)| l.parts()).sum();
        if total_parts == 0 {
            continue;
        }
        let share_of = shares(scale_down(received, damping), total_parts);
        let mut given = 0u64;
        for (to, level) in forward() {
            let share = share_of[level.parts() as usize];
            held[*to as usize] += share;
            given += share;
            observe(from, *to, share);
        }
        held[f] = received - given;
    }
    held
}

/// The strength of a path of one edge at `level`, as a 32-bit binary fraction.
fn level_strength(level: TrustLevel) -> u64 {
    const FULL: u64 = 1 << 32;
    match level {
        TrustLevel::Low => FULL / 3,
        TrustLevel::Medium => FULL / 3 * 2,
        TrustLevel::High => FULL,
    }
}

/// Mode `best-path`: cargo-crev's strongest path picks each principal's one parent; weight
/// then flows along that tree only.
///
/// A path's strength is its weakest edge times `damping` per hop (rounded down, so it
/// strictly decreases along every hop); rounds of relaxation over paths of at most
/// `max_depth` hops find each principal's strongest path and the parent on it. Parent
/// pointers form a forest rooted at the roots: a parent that is not a root was reached in an
/// earlier round (first reach) or is strictly stronger (an improvement), so following them
/// never returns. Every principal receives weight from exactly one principal.
fn best_path_flow(
    graph: &TrustGraph,
    roots: &[PrincipalId],
    params: &TrustParams,
    removed: &[bool],
    observe: &mut impl FnMut(PrincipalId, PrincipalId, u64),
) -> (Vec<u64>, Vec<u32>) {
    let n = graph.principal_count();
    let damping = damping_fixed(params.damping);
    let mut strength = vec![0u64; n];
    let mut parent = vec![UNREACHED; n];
    let mut parent_parts = vec![0u8; n];
    // The round in which a principal is first reached is its breadth-first distance: round
    // k relaxes exactly the paths of k hops. A path whose strength rounds down to zero still
    // reaches (with strength zero), so best-path reaches the same principals as the layered
    // flow, at the same distances.
    let mut hops = vec![UNREACHED; n];
    let full = level_strength(TrustLevel::High);
    // Each round relaxes from the strengths the previous round ended with (a snapshot per
    // frontier entry), so round k finds exactly the best paths of k hops.
    let mut frontier: Vec<(PrincipalId, u64)> = roots.iter().map(|&r| (r, full)).collect();
    for &root in roots {
        strength[root as usize] = full;
        hops[root as usize] = 0;
    }
    for round in 1..=params.max_depth {
        let mut improved: Vec<PrincipalId> = Vec::new();
        for &(from, from_strength) in &frontier {
            let (targets, levels) = graph.out_edges(from as usize);
            for (&to, &level) in targets.iter().zip(levels) {
                let t = to as usize;
                if removed[t] {
                    continue;
                }
                let candidate = scale_down(from_strength.min(level_strength(level)), damping);
                let first = hops[t] == UNREACHED;
                if candidate > strength[t] || first {
                    if first {
                        hops[t] = round;
                    }
                    strength[t] = candidate;
                    parent[t] = from;
                    parent_parts[t] = level.parts() as u8;
                    improved.push(to);
                }
            }
        }
        improved.sort_unstable();
        improved.dedup();
        if improved.is_empty() {
            break;
        }
        frontier = improved
            .into_iter()
            .map(|id| (id, strength[id as usize]))
            .collect();
    }

    // Children lists (compressed rows) of the best-path forest.
    let mut offsets = vec![0usize; n + 1];
    for &p in &parent {
        if p != UNREACHED {
            offsets[p as usize + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut children = vec![0 as PrincipalId; offsets[n]];
    for (child, &p) in parent.iter().enumerate() {
        if p != UNREACHED {
            children[fill[p as usize]] = child as PrincipalId;
            fill[p as usize] += 1;
        }
    }

    let mut held = seed(n, roots);
    // Generation by generation of the forest, each in id order (for memory locality).
    let mut generation: Vec<PrincipalId> = roots.to_vec();
    while !generation.is_empty() {
        let mut next: Vec<PrincipalId> = Vec::new();
        for &from in &generation {
            let f = from as usize;
            let kids = &children[offsets[f]..offsets[f + 1]];
            next.extend_from_slice(kids);
            let total_parts: u64 = kids
                .iter()
                .map(|k| u64::from(parent_parts[*k as usize]))
                .sum();
            let received = held[f];
            if total_parts == 0 || received == 0 {
                continue;
            }
            let share_of = shares(scale_down(received, damping), total_parts);
            let mut given = 0u64;
            for &kid in kids {
                let share = share_of[usize::from(parent_parts[kid as usize])];
                held[kid as usize] += share;
                given += share;
                observe(from, kid, share);
            }
            held[f] = received - given;
        }
        next.sort_unstable();
        generation = next;
    }
    (held, hops)
}
