//! Powers: who may decide alone, and who counts.
//!
//! A sliver of trust weight must not be enough to deny a version (an advisory, a failed
//! audit), to wave one through (a "fixed in" claim), to demand an audit (an ownership-change
//! report), to cut someone out of the trust graph (distrust), or to count towards
//! `min_adopters` and `min_audits` (a farm of fresh keys behind one trusted key would
//! otherwise meet any count). Each of these is a [`Power`] that a principal exercises only if
//! the policy grants it:
//!
//! * the policy's roots hold every power;
//! * the policy names holders in `[powers.<power>] holders` (aliases, roles from `[roles]`,
//!   or hex keys), whatever their weight; a rule's `required_auditors` hold `auditor` for
//!   that rule;
//! * anyone else holds it when a root reaches them within `max_hops` hops (default 1: only
//!   keys a root vouches for directly) with a weight of at least `min_weight` (default 0).
//!
//! So, by default, a key two hops from the roots (a stranger one careless colleague vouched
//! for) can adopt and be weighed, but can neither veto, bypass, demand, cut nor be counted.
//! Keys cut by distrust hold no power, named or not.
//!
//! ```toml
//! [roles]
//! security = ["secteam", "cert"]
//!
//! [powers.advisory_veto]
//! holders = ["security"]   # named: whatever their weight
//! max_hops = 0             # and no one else but the roots
//!
//! [powers.adopter]
//! max_hops = 3             # count adopters up to three hops out...
//! min_weight = 0.01        # ...if they carry at least 1% of the weight
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::fraction::Fraction;
use crate::trust::{Standing, Weight};

/// The default `max_hops` of every power: roots and the keys they vouch for directly.
pub const DEFAULT_MAX_HOPS: u32 = 1;

/// Something a principal can do to a decision on its own, or be counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// An advisory naming a version as affected denies it (`advisories_veto`).
    AdvisoryVeto,
    /// A failed audit denies the version (`failed_audits_veto`).
    FailedAuditVeto,
    /// An advisory naming a version as the fix allows it at once (`fix_bypass`).
    FixBypass,
    /// An ownership-change report triggers the rule's `ownership_change` demand.
    OwnershipChange,
    /// A passing audit counts towards `min_audits`, satisfies the audit an ownership change
    /// demands, and contributes its capabilities (which `allowed_capabilities` can veto).
    Auditor,
    /// An adoption counts towards `min_adopters` (everyone trusted is weighed in the
    /// adoption fraction regardless).
    Adopter,
    /// A distrust statement cuts the distrusted key from the trust graph.
    Distrust,
}

impl Power {
    /// Every power, in the order of the `[powers]` table.
    pub const ALL: [Power; 7] = [
        Power::AdvisoryVeto,
        Power::FailedAuditVeto,
        Power::FixBypass,
        Power::OwnershipChange,
        Power::Auditor,
        Power::Adopter,
        Power::Distrust,
    ];

    /// The power's key in `[powers]`.
    pub fn name(self) -> &'static str {
        match self {
            Power::AdvisoryVeto => "advisory_veto",
            Power::FailedAuditVeto => "failed_audit_veto",
            Power::FixBypass => "fix_bypass",
            Power::OwnershipChange => "ownership_change",
            Power::Auditor => "auditor",
            Power::Adopter => "adopter",
            Power::Distrust => "distrust",
        }
    }
}

impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `[powers.<power>]` table as written.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct GrantFile {
    #[serde(default)]
    pub holders: Vec<String>,
    #[serde(default)]
    pub max_hops: Option<u32>,
    #[serde(default)]
    pub min_weight: Option<Fraction>,
}

/// The `[powers]` section as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PowersFile {
    pub advisory_veto: Option<toml::Spanned<GrantFile>>,
    pub failed_audit_veto: Option<toml::Spanned<GrantFile>>,
    pub fix_bypass: Option<toml::Spanned<GrantFile>>,
    pub ownership_change: Option<toml::Spanned<GrantFile>>,
    pub auditor: Option<toml::Spanned<GrantFile>>,
    pub adopter: Option<toml::Spanned<GrantFile>>,
    pub distrust: Option<toml::Spanned<GrantFile>>,
}

impl PowersFile {
    pub fn get(&self, power: Power) -> Option<&toml::Spanned<GrantFile>> {
        match power {
            Power::AdvisoryVeto => self.advisory_veto.as_ref(),
            Power::FailedAuditVeto => self.failed_audit_veto.as_ref(),
            Power::FixBypass => self.fix_bypass.as_ref(),
            Power::OwnershipChange => self.ownership_change.as_ref(),
            Power::Auditor => self.auditor.as_ref(),
            Power::Adopter => self.adopter.as_ref(),
            Power::Distrust => self.distrust.as_ref(),
        }
    }
}

/// Who holds one power under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerGrant {
    /// The power.
    pub power: Power,
    /// Named holders: key → the name the policy gave (alias, role or hex key).
    pub holders: BTreeMap<[u8; 32], String>,
    /// Others hold the power within this many hops of a root...
    pub max_hops: u32,
    /// ...with at least this weight.
    pub min_weight: Fraction,
    /// The policy line of the `[powers.<power>]` table; `None` when the defaults apply.
    pub line: Option<usize>,
}

impl PowerGrant {
    /// The default grant: roots and the keys they vouch for directly.
    pub fn default_for(power: Power) -> PowerGrant {
        PowerGrant {
            power,
            holders: BTreeMap::new(),
            max_hops: DEFAULT_MAX_HOPS,
            min_weight: Fraction::ZERO,
            line: None,
        }
    }

    fn source(&self) -> String {
        match self.line {
            Some(line) => format!("[powers.{}], policy line {line}", self.power),
            None => "the default".to_string(),
        }
    }

    /// Whether a principal holds this power: `is_root` for the policy's roots, `cut` for
    /// keys cut by distrust, `standing` its weight and hops.
    pub fn check(
        &self,
        key: &[u8; 32],
        is_root: bool,
        cut: bool,
        standing: Standing,
    ) -> Result<Grant, Refusal> {
        if is_root {
            return Ok(Grant::Root);
        }
        if cut {
            return Err(Refusal::Cut);
        }
        if let Some(name) = self.holders.get(key) {
            return Ok(Grant::Holder {
                power: self.power,
                name: name.clone(),
                source: self.source(),
            });
        }
        let Some(hops) = standing.hops.filter(|_| !standing.weight.is_zero()) else {
            return Err(Refusal::Unreached { power: self.power });
        };
        if hops > self.max_hops {
            return Err(Refusal::TooFar {
                power: self.power,
                hops,
                max_hops: self.max_hops,
                source: self.source(),
            });
        }
        if !self
            .min_weight
            .is_met_by(standing.weight.units().into(), Weight::ONE.units().into())
        {
            return Err(Refusal::TooLight {
                power: self.power,
                weight: standing.weight,
                min_weight: self.min_weight,
                source: self.source(),
            });
        }
        Ok(Grant::Reach {
            power: self.power,
            hops,
            max_hops: self.max_hops,
            min_weight: self.min_weight,
            source: self.source(),
        })
    }
}

/// Why a principal holds a power: said in the decision's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A root of the policy.
    Root,
    /// Named by the policy.
    Holder {
        /// The power.
        power: Power,
        /// The name the policy gave it.
        name: String,
        /// Where: `[powers.<power>], policy line N`, or the rule that names a required
        /// auditor.
        source: String,
    },
    /// Reached within the hop limit with enough weight.
    Reach {
        /// The power.
        power: Power,
        /// Its distance from the roots.
        hops: u32,
        /// The limit.
        max_hops: u32,
        /// The weight floor.
        min_weight: Fraction,
        /// Where the limits come from.
        source: String,
    },
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Root => f.write_str("a root of the policy"),
            Grant::Holder { name, source, .. } => write!(f, "named as {name} in {source}"),
            Grant::Reach {
                hops,
                max_hops,
                min_weight,
                source,
                ..
            } => {
                write!(
                    f,
                    "{hops} hop{} from the roots, within max_hops = {max_hops}",
                    if *hops == 1 { "" } else { "s" }
                )?;
                if !min_weight.is_zero() {
                    write!(f, " and min_weight = {min_weight}")?;
                }
                write!(f, " ({source})")
            }
        }
    }
}

/// Why a principal does not hold a power: said when its statement is set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Cut by a distrust statement.
    Cut,
    /// No root reaches it (or it carries no weight).
    Unreached {
        /// The power.
        power: Power,
    },
    /// Too many hops from the roots.
    TooFar {
        /// The power.
        power: Power,
        /// Its distance.
        hops: u32,
        /// The limit.
        max_hops: u32,
        /// Where the limit comes from.
        source: String,
    },
    /// Not enough weight.
    TooLight {
        /// The power.
        power: Power,
        /// Its weight.
        weight: Weight,
        /// The floor.
        min_weight: Fraction,
        /// Where the floor comes from.
        source: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Cut => f.write_str("it is cut by a trusted distrust statement"),
            Refusal::Unreached { power } => write!(
                f,
                "it does not hold {power}: not named for it and not reached by the policy's trust roots"
            ),
            Refusal::TooFar {
                power,
                hops,
                max_hops,
                source,
            } => write!(
                f,
                "it does not hold {power}: {hops} hops from the roots, beyond max_hops = {max_hops} ({source}), and not named for it"
            ),
            Refusal::TooLight {
                power,
                weight,
                min_weight,
                source,
            } => write!(
                f,
                "it does not hold {power}: weight {:.6} is below min_weight = {min_weight} ({source}), and not named for it",
                weight.as_f64()
            ),
        }
    }
}

/// Every power's grant under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Powers {
    grants: Vec<PowerGrant>,
}

impl Default for Powers {
    fn default() -> Self {
        Powers {
            grants: Power::ALL
                .iter()
                .map(|p| PowerGrant::default_for(*p))
                .collect(),
        }
    }
}

impl Powers {
    pub(super) fn from_grants(grants: Vec<PowerGrant>) -> Powers {
        Powers { grants }
    }

    /// The grant of `power`.
    pub fn grant(&self, power: Power) -> &PowerGrant {
        // `grants` holds one entry per power in `Power::ALL` order.
        let at = Power::ALL.iter().position(|p| *p == power).unwrap_or(0);
        &self.grants[at]
    }
}
