//! Personalized trust propagation over logged trust statements.
//!
//! Every client computes its own trust weights, starting from its own roots (its keys, its
//! organisation's keys). No global reputation function resists fake identities (Cheng and
//! Friedman, 2005); a personalized one can, if it keeps one invariant
//! (`spec/verifier-semantics.md` §3):
//!
//! > the total weight of any set of principals that holds no root is at most the weight that
//! > flows into it over edges from outside it, whatever its shape and however many
//! > statements it signs.
//!
//! Weights are a *conserved flow*. The roots share one unit of weight ([`Weight::ONE`]). A
//! principal receives weight only from principals strictly closer to the roots (so weight
//! never re-enters a region it left: there is no cycle to circulate around), keeps a share of
//! what it receives as its own weight and passes the rest on along its edges, split in
//! proportion to the edges' levels. Nothing is created on the way: every division rounds
//! down and the remainder stays with the sender, so conservation is exact, and the result is
//! the same bit for bit on every machine (integers, fixed iteration order).
//!
//! Two propagation modes decide *which* edges carry weight:
//!
//! * [`TrustMode::Flow`]: every edge that leads one hop further from the roots (the
//!   breadth-first layering), up to a depth limit;
//! * [`TrustMode::BestPath`]: cargo-crev's best path picks, for each principal, the one
//!   parent on its strongest path (each path as strong as its weakest link, times a cost per
//!   hop); weight flows along that tree only, and a parent splits what it passes on among
//!   its tree children, so a thousand parallel keys behind one vouch share one share.
//!
//! [`hits`] refines adoption weights inside the reached set without ever exceeding a
//! principal's trust weight.
//!
//! Distrust is scoped: a principal that the client's gate accepts as a distruster (by
//! default: anyone with weight above zero in a first pass) and that distrusts key K cuts every
//! edge into and out of K for this computation. K is not banned globally: another client
//! whose roots do not reach the distruster still sees K. Roots are never cut.

mod propagate;

pub mod hits;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::Serialize;
use thiserror::Error;

/// A principal's position in a [`TrustGraph`]: a dense index assigned by [`PrincipalIndex`].
pub type PrincipalId = u32;

/// An amount of trust weight, in fixed-point units: [`Weight::ONE`] is everything the roots
/// hold together. Integer units make conservation exact (a division rounds down and the
/// remainder stays with the sender) and comparisons against thresholds exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Weight(u64);

impl Weight {
    /// No weight.
    pub const ZERO: Weight = Weight(0);
    /// All the weight the roots share: 2^60 units.
    pub const ONE: Weight = Weight(1 << 60);

    /// A weight of `units` units.
    pub const fn from_units(units: u64) -> Weight {
        Weight(units)
    }

    /// The weight in units of 2^-60.
    pub const fn units(self) -> u64 {
        self.0
    }

    /// Whether this is no weight at all.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The weight as a fraction of [`Weight::ONE`], for people (tables, JSON). Never compare
    /// this against a threshold: compare units.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Weight::ONE.0 as f64
    }

    /// The sum of weights. Conserved weights never exceed [`Weight::ONE`] in total, so this
    /// cannot overflow for weights of one computation; it saturates rather than wrap.
    pub fn sum<I: IntoIterator<Item = Weight>>(weights: I) -> Weight {
        Weight(
            weights
                .into_iter()
                .fold(0u64, |acc, w| acc.saturating_add(w.0)),
        )
    }
}

impl Serialize for Weight {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

/// How much a truster vouches for a trustee. The ordering is meaningful: `High` > `Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrustLevel {
    /// Some trust: a third of a high-trust edge.
    Low,
    /// Moderate trust: two thirds of a high-trust edge.
    Medium,
    /// Full trust.
    High,
}

impl TrustLevel {
    /// The edge's share when a principal splits what it passes on: 1, 2 or 3 parts.
    pub fn parts(self) -> u64 {
        match self {
            TrustLevel::Low => 1,
            TrustLevel::Medium => 2,
            TrustLevel::High => 3,
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
                // A vouch for oneself carries nothing: weight only flows away from the roots.
                TrustStance::Vouch(_) if from == to => {}
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

/// Which edges carry weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    /// Conserved flow along every edge that leads one hop further from the roots.
    Flow,
    /// Conserved flow along cargo-crev's best-path tree.
    BestPath,
}

/// Parameters of a trust computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustParams {
    /// The propagation rule.
    pub mode: TrustMode,
    /// The share of what a principal receives that it passes on to the principals it
    /// vouches for (it keeps the rest as its own weight). In best-path mode also the factor
    /// a path's strength is multiplied by per hop, which chooses the tree.
    pub damping: f64,
    /// The largest number of hops from a root at which a principal can receive weight.
    pub max_depth: u32,
}

impl Default for TrustParams {
    fn default() -> Self {
        Self {
            mode: TrustMode::Flow,
            damping: 0.5,
            max_depth: 6,
        }
    }
}

/// What a first pass (ignoring distrust) says about a would-be distruster, for the gate
/// that decides whose distrust cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Its weight.
    pub weight: Weight,
    /// Its distance from the nearest root in hops, if a root reaches it within the depth
    /// limit.
    pub hops: Option<u32>,
}

/// The trust weight of every principal, as computed for one client.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustScores {
    weights: Vec<Weight>,
    hops: Vec<u32>,
    cut: Vec<PrincipalId>,
}

/// `hops` value of a principal no root reaches.
const UNREACHED: u32 = u32::MAX;

impl TrustScores {
    /// The weight of `id`; zero for principals outside the graph or unreached.
    pub fn weight(&self, id: PrincipalId) -> Weight {
        self.weights.get(id as usize).copied().unwrap_or_default()
    }

    /// All weights, indexed by principal id.
    pub fn weights(&self) -> &[Weight] {
        &self.weights
    }

    /// The distance of `id` from the nearest root in hops over trust edges that survive the
    /// cuts, if it is within the depth limit.
    pub fn hops(&self, id: PrincipalId) -> Option<u32> {
        self.hops
            .get(id as usize)
            .copied()
            .filter(|h| *h != UNREACHED)
    }

    /// The standing of `id`: weight and hops.
    pub fn standing(&self, id: PrincipalId) -> Standing {
        Standing {
            weight: self.weight(id),
            hops: self.hops(id),
        }
    }

    /// Principals cut out of the graph because an accepted distruster distrusts them, sorted.
    pub fn cut(&self) -> &[PrincipalId] {
        &self.cut
    }

    /// Whether `id` was cut.
    pub fn is_cut(&self, id: PrincipalId) -> bool {
        self.cut.binary_search(&id).is_ok()
    }

    /// How many principals have a positive weight.
    pub fn reached(&self) -> usize {
        self.weights.iter().filter(|w| !w.is_zero()).count()
    }

    /// The total weight held: at most [`Weight::ONE`], less only by what rounding kept.
    pub fn total(&self) -> Weight {
        Weight::sum(self.weights.iter().copied())
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

    /// Every trust edge `(from, to, level)`, in id order (for tests and tools).
    pub fn edges(&self) -> impl Iterator<Item = (PrincipalId, PrincipalId, TrustLevel)> + '_ {
        (0..self.principal_count()).flat_map(move |from| {
            let (targets, levels) = self.out_edges(from);
            targets
                .iter()
                .zip(levels)
                .map(move |(to, level)| (from as PrincipalId, *to, *level))
        })
    }

    /// Computes every principal's trust weight from `roots`; the distrust of anyone with
    /// weight above zero in a first pass cuts (see [`TrustGraph::compute_gated`]).
    pub fn compute(
        &self,
        roots: &[PrincipalId],
        params: &TrustParams,
    ) -> Result<TrustScores, TrustError> {
        self.compute_gated(roots, params, |_, standing| !standing.weight.is_zero())
    }

    /// Computes every principal's trust weight from `roots`.
    ///
    /// Roots always keep a positive weight, even if someone distrusts them: a client's own
    /// keys are not subject to other people's opinions. The computation runs twice when any
    /// distrust edge exists: a first pass gives every principal's [`Standing`]; the keys
    /// distrusted by principals that `may_distrust` accepts are then cut for the second
    /// pass (the policy decides whose distrust counts, like any other power).
    pub fn compute_gated(
        &self,
        roots: &[PrincipalId],
        params: &TrustParams,
        may_distrust: impl Fn(PrincipalId, Standing) -> bool,
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
        let mut roots = roots.to_vec();
        roots.sort_unstable();
        roots.dedup();
        let mut removed = vec![false; n];
        let first = propagate::run(self, &roots, params, &removed);
        let mut cut: Vec<PrincipalId> = self
            .distrusts
            .iter()
            .filter(|(from, _)| may_distrust(*from, first.standing(*from)))
            .map(|&(_, to)| to)
            .filter(|to| roots.binary_search(to).is_err())
            .collect();
        cut.sort_unstable();
        cut.dedup();
        if cut.is_empty() {
            return Ok(first);
        }
        for &id in &cut {
            removed[id as usize] = true;
        }
        let mut scores = propagate::run(self, &roots, params, &removed);
        scores.cut = cut;
        Ok(scores)
    }
}

/// `damping` as a 32-bit binary fraction, rounded down: `passed = received × d / 2^32`.
fn damping_fixed(damping: f64) -> u64 {
    // In [0, 1) (checked by the caller), so the product lies in [0, 2^32).
    (damping * (1u64 << 32) as f64) as u64
}

/// `amount × fixed / 2^32`, rounded down.
fn scale_down(amount: u64, fixed: u64) -> u64 {
    ((u128::from(amount) * u128::from(fixed)) >> 32) as u64
}
