//! The signals of one decision: one type, its fields listed once.
//!
//! The [`signals!`] list below is the only place a signal is named. From it come the
//! [`Signals`] struct (and so the decision's JSON), the table of variables a rule expression
//! can read ([`SIGNALS`], with their CEL types and documentation) and the values handed to
//! the CEL engine. A test checks that `spec/verifier-semantics.md` documents exactly these
//! variables, so the spec cannot drift from the code either.

use serde::Serialize;

use crate::trust::Weight;

/// One variable a rule expression can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Its name in expressions (and in the decision's JSON).
    pub name: &'static str,
    /// Its CEL type.
    pub cel_type: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// The variables that describe the decision itself rather than the evidence.
pub const DECISION_VARIABLES: &[Variable] = &[
    Variable {
        name: "purl",
        cel_type: "string",
        doc: "the package, a purl without version (`package` is a reserved word in CEL)",
    },
    Variable {
        name: "version",
        cel_type: "string",
        doc: "the version decided on",
    },
];

/// Every variable an expression can read: [`DECISION_VARIABLES`], then [`SIGNALS`].
pub fn expression_variables() -> impl Iterator<Item = &'static Variable> {
    DECISION_VARIABLES.iter().chain(SIGNALS.iter())
}

/// How a signal's Rust type appears in CEL.
#[cfg(feature = "cel")]
trait ToCel {
    fn to_cel(&self) -> cel::Value;
}

#[cfg(feature = "cel")]
mod to_cel {
    use std::sync::Arc;

    use super::ToCel;
    use crate::trust::Weight;

    impl ToCel for f64 {
        fn to_cel(&self) -> cel::Value {
            cel::Value::Float(*self)
        }
    }
    impl ToCel for Weight {
        fn to_cel(&self) -> cel::Value {
            cel::Value::Float(self.as_f64())
        }
    }
    impl ToCel for u32 {
        fn to_cel(&self) -> cel::Value {
            cel::Value::Int(i64::from(*self))
        }
    }
    /// An unknown number is 0 in expressions (with an `…_known` signal beside it).
    impl ToCel for Option<u64> {
        fn to_cel(&self) -> cel::Value {
            cel::Value::Int(self.map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)))
        }
    }
    impl ToCel for bool {
        fn to_cel(&self) -> cel::Value {
            cel::Value::Bool(*self)
        }
    }
    impl ToCel for Vec<String> {
        fn to_cel(&self) -> cel::Value {
            cel::Value::List(Arc::new(
                self.iter()
                    .map(|s| cel::Value::String(Arc::new(s.clone())))
                    .collect(),
            ))
        }
    }
}

macro_rules! signals {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ty => $cel:literal, )*) => {
        /// The signals computed for one version, each only from counted statements.
        #[derive(Debug, Clone, PartialEq, Default, Serialize)]
        pub struct Signals {
            $( $(#[doc = $doc])+ pub $name: $ty, )*
        }

        /// The signals as expression variables, in declaration order.
        pub const SIGNALS: &[Variable] = &[
            $( Variable {
                name: stringify!($name),
                cel_type: $cel,
                doc: concat!($($doc),+),
            }, )*
        ];

        impl Signals {
            /// Each signal's value for the CEL engine.
            #[cfg(feature = "cel")]
            fn cel_values(&self) -> Vec<(&'static str, cel::Value)> {
                vec![ $( (stringify!($name), ToCel::to_cel(&self.$name)), )* ]
            }
        }
    };
}

signals! {
    /// weighted fraction (0–1) of the trusted users of the package who adopted this version, `adopted_weight / user_weight`, as the nearest double (the `min_adoption` threshold compares the weights exactly)
    adoption_fraction: f64 => "double",
    /// total weight (a fraction of all weight) of the trusted principals whose latest statement adopts this version (their hub scores in mode `hits`)
    adopted_weight: Weight => "double",
    /// total weight of the trusted principals with any adoption statement about the package
    user_weight: Weight => "double",
    /// adopters of this version who hold the `adopter` power: what `min_adopters` counts
    adopters: u32 => "int",
    /// trusted adopters of this version, whatever their powers (each weighed in the fraction)
    trusted_adopters: u32 => "int",
    /// trusted principals with any adoption statement about the package
    users: u32 => "int",
    /// passing audits of this version that meet `required_criteria`, one per auditor holding `auditor` (or named in `required_auditors`): what `min_audits` counts
    passing_audits: u32 => "int",
    /// hex keys of the auditors behind `passing_audits`
    auditors: Vec<String> => "list(string)",
    /// every `required_auditors` entry passed this version
    required_auditors_met: bool => "bool",
    /// failing audits of this version by holders of `failed_audit_veto`
    failed_audits: u32 => "int",
    /// advisories of a kind that vetoes (`vulnerability`, `malicious`, `unsound`) naming this version as affected, by holders of `advisory_veto`
    advisories: u32 => "int",
    /// identifiers (own id and aliases) of every advisory counted for this version, whatever its kind, sorted
    advisory_ids: Vec<String> => "list(string)",
    /// kinds of the advisories counted for this version (`vulnerability`, `malicious`, `unsound`, `unmaintained`, `notice`), sorted, each once
    advisory_kinds: Vec<String> => "list(string)",
    /// statements about this version by signers who would count (trusted adopters, holders of `auditor`) whose subject digest is not one the lockfile pins: the registry may serve another artifact than they saw
    other_artifacts: u32 => "int",
    /// an advisory by a holder of `fix_bypass` names this version as a fix
    named_fix: bool => "bool",
    /// an ownership-change report by a holder of `ownership_change` covers this version
    ownership_changed: bool => "bool",
    /// capabilities reported by the audits behind `passing_audits`
    capabilities: Vec<String> => "list(string)",
    /// a witness-cosigned statement dates the version
    age_known: bool => "bool",
    /// seconds from the first witness cosignature on a counted statement about this version to the decision's checkpoint (0 in expressions when `age_known` is false; null in JSON)
    provable_age_seconds: Option<u64> => "int",
    /// the rule's own thresholds (`min_adoption`, `min_adopters`, `min_audits`, `required_auditors`, `min_age_seconds`) are all met, so an `allow_if` that starts with `thresholds_met or …` widens them rather than replaces them
    thresholds_met: bool => "bool",
}

impl Signals {
    /// Values of every type, used to type-check an expression when the policy is loaded.
    pub fn sample() -> Signals {
        Signals {
            adoption_fraction: 0.5,
            adopted_weight: Weight::from_units(Weight::ONE.units() / 4),
            user_weight: Weight::from_units(Weight::ONE.units() / 2),
            adopters: 1,
            trusted_adopters: 1,
            users: 2,
            passing_audits: 1,
            auditors: vec!["00".repeat(32)],
            required_auditors_met: true,
            failed_audits: 1,
            advisories: 1,
            advisory_ids: vec!["RUSTSEC-2021-0135".into()],
            advisory_kinds: vec!["unmaintained".into()],
            other_artifacts: 1,
            named_fix: false,
            ownership_changed: false,
            capabilities: vec!["network".into()],
            age_known: true,
            provable_age_seconds: Some(86_400),
            thresholds_met: true,
        }
    }

    /// The CEL context of one decision: [`DECISION_VARIABLES`] and every signal.
    #[cfg(feature = "cel")]
    pub(crate) fn cel_context(&self, purl: &str, version: &str) -> cel::Context<'static, 'static> {
        use std::sync::Arc;
        let mut ctx = cel::Context::default();
        ctx.add_variable_from_value("purl", cel::Value::String(Arc::new(purl.to_string())));
        ctx.add_variable_from_value("version", cel::Value::String(Arc::new(version.to_string())));
        for (name, value) in self.cel_values() {
            ctx.add_variable_from_value(name, value);
        }
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's table of expression variables lists exactly the variables the code
    /// provides, with the same CEL types, in the same order.
    #[test]
    fn the_spec_documents_exactly_these_variables() {
        let spec = include_str!("../../../spec/verifier-semantics.md");
        let start = spec
            .find("| variable | CEL type | meaning |")
            .expect("the spec's variable table");
        let documented: Vec<(String, String)> = spec[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_string(), cells[2].to_string())
            })
            .collect();
        let code: Vec<(String, String)> = expression_variables()
            .map(|v| (v.name.to_string(), v.cel_type.to_string()))
            .collect();
        assert_eq!(documented, code);
    }

    /// Each signal reaches CEL with the type the table declares.
    #[cfg(feature = "cel")]
    #[test]
    fn cel_values_have_the_declared_types() {
        let values = Signals::sample().cel_values();
        assert_eq!(values.len(), SIGNALS.len());
        for ((name, value), variable) in values.iter().zip(SIGNALS) {
            assert_eq!(*name, variable.name);
            let declared = variable.cel_type.split('(').next().unwrap_or("");
            let actual = match value {
                cel::Value::Float(_) => "double",
                cel::Value::Int(_) => "int",
                cel::Value::Bool(_) => "bool",
                cel::Value::List(_) => "list",
                cel::Value::String(_) => "string",
                _ => "other",
            };
            assert_eq!(actual, declared, "{name}");
        }
    }
}
