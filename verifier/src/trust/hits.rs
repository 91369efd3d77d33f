//! HITS-style refinement of adoption weights (mode `hits`), inside the trust weights.
//!
//! Principals are hubs and the things they adopt (package versions) are authorities: a
//! version's authority is the sum of its adopters' hub scores, and a principal's hub quality
//! is the authority of what it adopted, relative to the best hub. The refined weight of a
//! principal is its trust weight scaled by a factor between one half and one:
//!
//! ```text
//! hub(p) = trust(p) / 2 + (trust(p) - trust(p) / 2) × quality(p) / best quality
//! ```
//!
//! so a hub score never exceeds the principal's trust weight, and any set of principals
//! holds at most its trust weight, which the conserved flow bounds by what enters the set
//! (`spec/verifier-semantics.md` §3). A principal with no trust weight has no hub score: a
//! dense cluster of fake keys adopting each other's favourites gains nothing. Integer
//! arithmetic throughout, so the result is the same on every machine.

use super::{PrincipalId, Weight};

/// Refinement rounds (fewer if the scores stop changing).
pub const ROUNDS: usize = 20;

/// One unit of relative authority: a version's authority over the best version's, as a
/// 32-bit binary fraction.
const AUTHORITY_ONE: u128 = 1 << 32;

/// Hub weights for principals whose trust weights are `trust` (indexed by principal id),
/// given who adopted what: `(principal, item)` pairs, items numbered densely from zero,
/// each pair at most once. Principals without trust weight take no part.
///
/// Every result lies between half the principal's trust weight and all of it.
pub fn hub_weights(trust: &[Weight], adoptions: &[(PrincipalId, u32)]) -> Vec<Weight> {
    let n = trust.len();
    let trusted = |p: PrincipalId| trust.get(p as usize).is_some_and(|w| !w.is_zero());
    let edges: Vec<(usize, usize)> = adoptions
        .iter()
        .filter(|(p, _)| trusted(*p))
        .map(|&(p, item)| (p as usize, item as usize))
        .collect();
    let items = edges.iter().map(|&(_, i)| i + 1).max().unwrap_or(0);
    let mut hub: Vec<u64> = trust.iter().map(|w| w.units()).collect();
    for _ in 0..ROUNDS {
        let mut authority = vec![0u128; items];
        for &(p, item) in &edges {
            authority[item] += u128::from(hub[p]);
        }
        let best_authority = authority.iter().copied().max().unwrap_or(0);
        if best_authority == 0 {
            break;
        }
        let mut quality = vec![0u128; n];
        for &(p, item) in &edges {
            quality[p] += authority[item] * AUTHORITY_ONE / best_authority;
        }
        let best_quality = quality.iter().copied().max().unwrap_or(0);
        if best_quality == 0 {
            break;
        }
        let next: Vec<u64> = trust
            .iter()
            .zip(&quality)
            .map(|(t, q)| {
                let t = t.units();
                let half = t / 2;
                // (t - half) × q / best ≤ t - half, since q ≤ best: the sum stays ≤ t.
                half + (u128::from(t - half) * q / best_quality) as u64
            })
            .collect();
        if next == hub {
            break;
        }
        hub = next;
    }
    // Before the first round (no adoptions at all) the scores are the trust weights; after
    // it every score is the formula's. Either way none exceeds the trust weight.
    hub.into_iter().map(Weight::from_units).collect()
}
