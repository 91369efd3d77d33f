//! Personalized trust propagation over logged trust statements.
//!
//! Every client computes its own trust weights, starting from its own roots (its keys, its
//! organisation's keys). No global reputation function resists fake identities (Cheng and
//! Friedman, 2005); a personalized one can: weight enters the graph only at the roots and
//! flows along trust edges, so a farm of fresh keys that no root reaches weighs nothing, and
//! a dense cluster of fake keys that one trusted key vouches for shares at most what that one
//! key passes on.
//!
//! Two propagation modes are provided:
//!
//! * [`TrustMode::PersonalizedPageRank`]: personalized PageRank with restart at the roots,
//!   a damping factor and a depth limit (the number of propagation rounds). A principal's
//!   outgoing weight is split over its edges in proportion to their levels, so the weight a
//!   principal can hand out is bounded by the weight it has (flow-bounded).
//! * [`TrustMode::BestPath`]: cargo-crev's rule. A principal's trust is that of its best path
//!   from a root, each path as strong as its weakest link, with a cost per hop.
//!
//! Distrust is scoped: a principal that the client trusts (weight above zero in a first pass)
//! and that distrusts key K cuts every edge into and out of K for this computation. K is not
//! banned globally: another client whose roots do not reach the distruster still sees K.
//!
//! The computation is deterministic: the same graph and parameters always give bit-identical
//! weights (fixed iteration order, no hashing, no parallel reductions).

use std::collections::HashMap;

use thiserror::Error;

/// A principal's position in a [`TrustGraph`]: a dense index assigned by [`PrincipalIndex`].
pub type PrincipalId = u32;

/// How much a truster vouches for a trustee. The ordering is meaningful: `High` > `Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrustLevel {
    /// Some trust: the edge carries a third of a high-trust edge's weight.
    Low,
    /// Moderate trust: two thirds of a high-trust edge.
    Medium,
    /// Full trust.
    High,
}

impl TrustLevel {
    /// Relative edge weight used to split a principal's outgoing trust over its edges, and
    /// the link strength in best-path mode.
    pub fn weight(self) -> f64 {
        match self {
            TrustLevel::Low => 1.0 / 3.0,
            TrustLevel::Medium => 2.0 / 3.0,
            TrustLevel::High => 1.0,
        }
    }
}

/// What a truster's latest statement says about a trustee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustStance {
    /// Vouches at this level.
    Vouch(TrustLevel),
    /// Withdraws earlier trust: no edge, and no distrust either.
    Withdrawn,
    /// Distrusts: cut the edges through the trustee.
    Distrust,
}

/// Errors raised while building a graph or computing trust.
#[derive(Debug, Error, PartialEq)]
pub enum TrustError {
    /// An edge or root names a principal outside the graph.
    #[error("principal {id} is outside the graph of {count} principals")]
    UnknownPrincipal {
        /// The offending id.
        id: PrincipalId,
        /// The number of principals in the graph.
        count: usize,
    },
    /// The damping factor must lie in [0, 1).
    #[error("damping must be at least 0 and below 1, got {0}")]
    BadDamping(f64),
    /// The graph has more principals or edges than the compact representation supports.
    #[error("the graph is too large: {0}")]
    TooLarge(&'static str),
}

/// Maps principals' public keys to dense ids, in order of first appearance.
#[derive(Debug, Default, Clone)]
pub struct PrincipalIndex {
    ids: HashMap<[u8; 32], PrincipalId>,
    keys: Vec<[u8; 32]>,
}

impl PrincipalIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `key`, assigning the next free id if the key is new.
    pub fn intern(&mut self, key: &[u8; 32]) -> Result<PrincipalId, TrustError> {
        if let Some(id) = self.ids.get(key) {
            return Ok(*id);
        }
        let id = PrincipalId::try_from(self.keys.len())
            .map_err(|_| TrustError::TooLarge("more than 2^32 principals"))?;
        self.ids.insert(*key, id);
        self.keys.push(*key);
        Ok(id)
    }

    /// The id of `key`, if it was interned.
    pub fn get(&self, key: &[u8; 32]) -> Option<PrincipalId> {
        self.ids.get(key).copied()
    }

    /// The key behind `id`.
    pub fn key(&self, id: PrincipalId) -> Option<&[u8; 32]> {
        self.keys.get(id as usize)
    }

    /// How many principals are interned.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no principal is interned.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Collects trust and distrust edges before they are frozen into a [`TrustGraph`].
///
/// When the same truster states trust in the same trustee more than once, the last statement
/// added wins: callers add statements in log order, so a later statement replaces an earlier
/// one, as a person changing their mind would expect.
#[derive(Debug, Default, Clone)]
pub struct TrustGraphBuilder {
    principal_count: usize,
    edges: Vec<(PrincipalId, PrincipalId, TrustStance)>,
}

impl TrustGraphBuilder {
    /// A builder for a graph of `principal_count` principals (ids `0..principal_count`).
    pub fn new(principal_count: usize) -> Self {
        Self {
            principal_count,
            edges: Vec::new(),
        }
    }

    /// Reserves room for `additional` more edges.
    pub fn reserve(&mut self, additional: usize) {
        self.edges.reserve(additional);
    }

    fn check(&self, id: PrincipalId) -> Result<(), TrustError> {
        if (id as usize) < self.principal_count {
            Ok(())
        } else {
            Err(TrustError::UnknownPrincipal {
                id,
                count: self.principal_count,
            })
        }
    }

    /// Records `truster`'s stance on `trustee`; a later call for the same pair replaces it.
    pub fn add(
        &mut self,
        truster: PrincipalId,
        trustee: PrincipalId,
        stance: TrustStance,
    ) -> Result<(), TrustError> {
        self.check(truster)?;
        self.check(trustee)?;
        self.edges.push((truster, trustee, stance));
        Ok(())
    }

    /// Records that `truster` vouches for `trustee` at `level`.
    pub fn trust(
        &mut self,
        truster: PrincipalId,
        trustee: PrincipalId,
        level: TrustLevel,
    ) -> Result<(), TrustError> {
        self.add(truster, trustee, TrustStance::Vouch(level))
    }

    /// Records that `truster` distrusts `trustee`.
    pub fn distrust(
        &mut self,
        truster: PrincipalId,
        trustee: PrincipalId,
    ) -> Result<(), TrustError> {
        self.add(truster, trustee, TrustStance::Distrust)
    }

    /// Freezes the edges into a compact graph (compressed sparse rows).
    pub fn build(self) -> Result<TrustGraph, TrustError> {
        let n = self.principal_count;
        if u32::try_from(n).is_err() {
            return Err(TrustError::TooLarge("more than 2^32 principals"));
        }
        // Keep the last statement per (truster, trustee) pair: a stable sort by pair keeps
        // insertion order within a pair, so the last element of each run is the latest.
        let mut edges = self.edges;
        edges.sort_by_key(|&(from, to, _)| (from, to));
        let mut latest: Vec<(PrincipalId, PrincipalId, TrustStance)> =
            Vec::with_capacity(edges.len());
        for edge in edges {
            match latest.last_mut() {
                Some(last) if last.0 == edge.0 && last.1 == edge.1 => *last = edge,
                _ => latest.push(edge),
            }
        }
        let mut offsets = vec![0usize; n + 1];
        let mut distrusts = Vec::new();
        let mut targets = Vec::with_capacity(latest.len());
        let mut levels = Vec::with_capacity(latest.len());
        for (from, to, level) in latest {
            match level {
                TrustStance::Vouch(level) => {
                    offsets[from as usize + 1] += 1;
                    targets.push(to);
                    levels.push(level);
                }
                TrustStance::Distrust => distrusts.push((from, to)),
                TrustStance::Withdrawn => {}
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Ok(TrustGraph {
            offsets,
            targets,
            levels,
            distrusts,
        })
    }
}

/// A frozen trust graph: trust edges in compressed sparse rows plus the distrust edges.
#[derive(Debug, Clone)]
pub struct TrustGraph {
    offsets: Vec<usize>,
    targets: Vec<PrincipalId>,
    levels: Vec<TrustLevel>,
    distrusts: Vec<(PrincipalId, PrincipalId)>,
}

/// Which propagation rule to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    /// Personalized PageRank with restart at the roots.
    PersonalizedPageRank,
    /// cargo-crev's best path: weakest link along the strongest path, with a cost per hop.
    BestPath,
}

/// Parameters of a trust computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustParams {
    /// The propagation rule.
    pub mode: TrustMode,
    /// PageRank: the share of weight passed on along edges each round (the rest returns to
    /// the roots). Best path: the factor a path's strength is multiplied by per hop.
    pub damping: f64,
    /// The largest number of hops from a root at which a principal can receive weight.
    pub max_depth: u32,
}

impl Default for TrustParams {
    fn default() -> Self {
        Self {
            mode: TrustMode::PersonalizedPageRank,
            damping: 0.85,
            max_depth: 6,
        }
    }
}

/// The trust weight of every principal, as computed for one client.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustScores {
    weights: Vec<f64>,
    cut: Vec<PrincipalId>,
}

impl TrustScores {
    /// The weight of `id`; zero for principals outside the graph or unreached.
    pub fn weight(&self, id: PrincipalId) -> f64 {
        self.weights.get(id as usize).copied().unwrap_or(0.0)
    }

    /// All weights, indexed by principal id.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Principals cut out of the graph because a trusted principal distrusts them, sorted.
    pub fn cut(&self) -> &[PrincipalId] {
        &self.cut
    }

    /// How many principals have a positive weight.
    pub fn reached(&self) -> usize {
        self.weights.iter().filter(|w| **w > 0.0).count()
    }
}

impl TrustGraph {
    /// The number of principals.
    pub fn principal_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The number of trust edges (after keeping the latest statement per pair).
    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    fn out_edges(&self, id: usize) -> (&[PrincipalId], &[TrustLevel]) {
        let (start, end) = (self.offsets[id], self.offsets[id + 1]);
        (&self.targets[start..end], &self.levels[start..end])
    }

    /// Computes every principal's trust weight from `roots`.
    ///
    /// Roots always keep a positive weight, even if someone distrusts them: a client's own
    /// keys are not subject to other people's opinions. The computation runs twice when any
    /// distrust edge exists: a first pass finds which distrusters the client trusts, whose
    /// distrusted keys are then cut for the second pass.
    pub fn compute(
        &self,
        roots: &[PrincipalId],
        params: &TrustParams,
    ) -> Result<TrustScores, TrustError> {
        let n = self.principal_count();
        for &root in roots {
            if root as usize >= n {
                return Err(TrustError::UnknownPrincipal { id: root, count: n });
            }
        }
        if !(0.0..1.0).contains(&params.damping) || params.damping.is_nan() {
            return Err(TrustError::BadDamping(params.damping));
        }
        let mut removed = vec![false; n];
        let first = self.propagate(roots, params, &removed);
        let mut cut: Vec<PrincipalId> = self
            .distrusts
            .iter()
            .filter(|(from, _)| first[*from as usize] > 0.0)
            .map(|&(_, to)| to)
            .filter(|to| !roots.contains(to))
            .collect();
        cut.sort_unstable();
        cut.dedup();
        if cut.is_empty() {
            return Ok(TrustScores {
                weights: first,
                cut,
            });
        }
        for &id in &cut {
            removed[id as usize] = true;
        }
        let weights = self.propagate(roots, params, &removed);
        Ok(TrustScores { weights, cut })
    }

    fn propagate(&self, roots: &[PrincipalId], params: &TrustParams, removed: &[bool]) -> Vec<f64> {
        match params.mode {
            TrustMode::PersonalizedPageRank => self.pagerank(roots, params, removed),
            TrustMode::BestPath => self.best_path(roots, params, removed),
        }
    }

    /// Depth-limited personalized PageRank. Round k moves weight one hop further, so after
    /// `max_depth` rounds nobody further than `max_depth` hops from a root holds weight.
    /// Weight that reaches a principal with no usable outgoing edge returns to the roots,
    /// which keeps the total at one and so makes weights comparable across clients.
    fn pagerank(&self, roots: &[PrincipalId], params: &TrustParams, removed: &[bool]) -> Vec<f64> {
        let n = self.principal_count();
        let mut seed = vec![0.0f64; n];
        let mut distinct_roots: Vec<PrincipalId> = roots.to_vec();
        distinct_roots.sort_unstable();
        distinct_roots.dedup();
        if distinct_roots.is_empty() {
            return seed;
        }
        let share = 1.0 / distinct_roots.len() as f64;
        for &root in &distinct_roots {
            seed[root as usize] = share;
        }
        // Each principal's total outgoing level weight, skipping removed trustees.
        let out_total: Vec<f64> = (0..n)
            .map(|id| {
                let (targets, levels) = self.out_edges(id);
                targets
                    .iter()
                    .zip(levels)
                    .filter(|(t, _)| !removed[**t as usize])
                    .map(|(_, l)| l.weight())
                    .sum()
            })
            .collect();
        let mut current = seed.clone();
        let mut next = vec![0.0f64; n];
        for _ in 0..params.max_depth {
            next.iter_mut().for_each(|w| *w = 0.0);
            let mut returned = 0.0f64;
            for id in 0..n {
                let weight = current[id];
                if weight == 0.0 {
                    continue;
                }
                let passed = weight * params.damping;
                returned += weight - passed;
                if removed[id] || out_total[id] == 0.0 {
                    returned += passed;
                    continue;
                }
                let per_unit = passed / out_total[id];
                let (targets, levels) = self.out_edges(id);
                for (target, level) in targets.iter().zip(levels) {
                    if !removed[*target as usize] {
                        next[*target as usize] += per_unit * level.weight();
                    }
                }
            }
            for &root in &distinct_roots {
                next[root as usize] += returned * share;
            }
            std::mem::swap(&mut current, &mut next);
        }
        for (id, weight) in current.iter_mut().enumerate() {
            if removed[id] {
                *weight = 0.0;
            }
        }
        current
    }

    /// cargo-crev style: a principal's trust is the best over paths from a root of the
    /// weakest link on the path, times `damping` per hop. Computed by rounds of relaxation
    /// (at most `max_depth`), which is exact for paths of up to that many hops.
    fn best_path(&self, roots: &[PrincipalId], params: &TrustParams, removed: &[bool]) -> Vec<f64> {
        let n = self.principal_count();
        let mut best = vec![0.0f64; n];
        let mut frontier: Vec<PrincipalId> = Vec::new();
        for &root in roots {
            if best[root as usize] == 0.0 {
                best[root as usize] = 1.0;
                frontier.push(root);
            }
        }
        for _ in 0..params.max_depth {
            let mut improved: Vec<PrincipalId> = Vec::new();
            for &id in &frontier {
                if removed[id as usize] {
                    continue;
                }
                let strength = best[id as usize];
                let (targets, levels) = self.out_edges(id as usize);
                for (target, level) in targets.iter().zip(levels) {
                    let t = *target as usize;
                    if removed[t] {
                        continue;
                    }
                    let candidate = strength.min(level.weight()) * params.damping;
                    if candidate > best[t] {
                        best[t] = candidate;
                        improved.push(*target);
                    }
                }
            }
            improved.sort_unstable();
            improved.dedup();
            if improved.is_empty() {
                break;
            }
            frontier = improved;
        }
        for &root in roots {
            best[root as usize] = 1.0;
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for mode in [TrustMode::PersonalizedPageRank, TrustMode::BestPath] {
            let scores = graph.compute(&[0], &params(mode)).unwrap();
            assert!(scores.weight(1) > 0.0 && scores.weight(2) > 0.0, "{mode:?}");
            for sybil in 3..10 {
                assert_eq!(scores.weight(sybil), 0.0, "{mode:?} sybil {sybil}");
            }
            assert_eq!(scores.reached(), 3);
        }
    }

    #[test]
    fn depth_limit_stops_propagation() {
        let graph = chain(8);
        for mode in [TrustMode::PersonalizedPageRank, TrustMode::BestPath] {
            let scores = graph.compute(&[0], &params(mode)).unwrap();
            assert!(scores.weight(4) > 0.0, "{mode:?}: 4 hops is within depth");
            assert_eq!(scores.weight(5), 0.0, "{mode:?}: 5 hops is beyond depth");
        }
    }

    #[test]
    fn one_vouch_for_a_sybil_farm_is_bounded_by_the_voucher() {
        // Root 0 trusts 1; 1 vouches for sybil 2, which vouches for 1000 fresh keys.
        let farm = 1000u32;
        let mut builder = TrustGraphBuilder::new(3 + farm as usize);
        builder.trust(0, 1, TrustLevel::High).unwrap();
        builder.trust(1, 2, TrustLevel::High).unwrap();
        for k in 0..farm {
            builder.trust(2, 3 + k, TrustLevel::High).unwrap();
        }
        let graph = builder.build().unwrap();
        let scores = graph
            .compute(&[0], &params(TrustMode::PersonalizedPageRank))
            .unwrap();
        let farm_total: f64 = (3..3 + farm).map(|k| scores.weight(k)).sum();
        assert!(farm_total > 0.0);
        assert!(
            farm_total <= scores.weight(2) + 1e-12,
            "the farm cannot hold more than its voucher passed on: {farm_total} vs {}",
            scores.weight(2)
        );
        let total: f64 = scores.weights().iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "weight is conserved: {total}");
    }

    #[test]
    fn distrust_by_a_trusted_key_cuts_the_distrusted_key() {
        // 0 trusts 1 and 2; 2 trusts 3; 1 distrusts 2, so 2 and everything only it reaches drop.
        let mut builder = TrustGraphBuilder::new(5);
        builder.trust(0, 1, TrustLevel::High).unwrap();
        builder.trust(0, 2, TrustLevel::High).unwrap();
        builder.trust(2, 3, TrustLevel::High).unwrap();
        builder.distrust(1, 2).unwrap();
        // An untrusted key's distrust has no effect.
        builder.distrust(4, 1).unwrap();
        let graph = builder.build().unwrap();
        for mode in [TrustMode::PersonalizedPageRank, TrustMode::BestPath] {
            let scores = graph.compute(&[0], &params(mode)).unwrap();
            assert_eq!(scores.cut(), &[2]);
            assert_eq!(scores.weight(2), 0.0);
            assert_eq!(scores.weight(3), 0.0);
            assert!(scores.weight(1) > 0.0);
        }
        // Scoped, not global: a client rooted at 2 still trusts 3.
        let other = graph
            .compute(&[2], &params(TrustMode::PersonalizedPageRank))
            .unwrap();
        assert!(other.weight(3) > 0.0);
    }

    #[test]
    fn later_statement_replaces_earlier_one() {
        let mut builder = TrustGraphBuilder::new(2);
        builder.trust(0, 1, TrustLevel::High).unwrap();
        builder.distrust(0, 1).unwrap();
        let graph = builder.build().unwrap();
        let scores = graph.compute(&[0], &TrustParams::default()).unwrap();
        assert_eq!(scores.weight(1), 0.0);

        let mut builder = TrustGraphBuilder::new(2);
        builder.distrust(0, 1).unwrap();
        builder.trust(0, 1, TrustLevel::Low).unwrap();
        let graph = builder.build().unwrap();
        let scores = graph.compute(&[0], &TrustParams::default()).unwrap();
        assert!(scores.weight(1) > 0.0);
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
        assert!(scores.weight(2) > 0.0);
        assert_eq!(graph.edge_count(), 2);
    }

    #[test]
    fn best_path_takes_weakest_link_of_strongest_path() {
        // 0 -High-> 1 -Low-> 3 and 0 -Medium-> 2 -Medium-> 3: the second path is stronger.
        let mut builder = TrustGraphBuilder::new(4);
        builder.trust(0, 1, TrustLevel::High).unwrap();
        builder.trust(1, 3, TrustLevel::Low).unwrap();
        builder.trust(0, 2, TrustLevel::Medium).unwrap();
        builder.trust(2, 3, TrustLevel::Medium).unwrap();
        let graph = builder.build().unwrap();
        let p = TrustParams {
            mode: TrustMode::BestPath,
            damping: 0.5,
            max_depth: 4,
        };
        let scores = graph.compute(&[0], &p).unwrap();
        let expected = (TrustLevel::Medium.weight() * 0.5).min(TrustLevel::Medium.weight()) * 0.5;
        assert!(
            (scores.weight(3) - expected).abs() < 1e-12,
            "{}",
            scores.weight(3)
        );
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
        let a = graph.compute(&[0, 3], &TrustParams::default()).unwrap();
        let b = graph.compute(&[3, 0], &TrustParams::default()).unwrap();
        assert_eq!(a, b);
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
}
