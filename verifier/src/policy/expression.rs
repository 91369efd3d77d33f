//! Rule expressions (`allow_if`, `deny_if`): CEL over the decision's signals, compiled once
//! when the policy is loaded.
//!
//! The CEL engine sits behind the `cel` cargo feature (on by default). A build without it
//! (the log server, the witness) refuses a policy that has an expression, rather than decide
//! as if the expression were not there.

use crate::decision::signals::{Signals, expression_variables};

/// The largest expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// A rule expression, compiled.
#[derive(Clone)]
pub struct Expression {
    text: String,
    #[cfg(feature = "cel")]
    program: std::sync::Arc<cel::Program>,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expression({:?})", self.text)
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Expression {
    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Compiles an expression (size, syntax, known variables only) and evaluates it once
    /// over sample values of every variable, so a type error or a result that is not a
    /// boolean is caught when the policy is loaded.
    #[cfg(feature = "cel")]
    pub fn compile(text: &str) -> Result<Expression, String> {
        if text.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "the expression is {} bytes; the limit is {MAX_EXPRESSION_BYTES}",
                text.len()
            ));
        }
        let program = cel::Program::compile(text).map_err(|e| {
            let first = e.to_string();
            format!(
                "syntax error: {}",
                first.lines().next().unwrap_or("unparsable expression")
            )
        })?;
        let references = program.references();
        let mut unknown: Vec<&str> = references
            .variables()
            .into_iter()
            .filter(|v| !expression_variables().any(|known| known.name == *v))
            .collect();
        unknown.sort_unstable();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown variable{} {}; known: {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                expression_variables()
                    .map(|v| v.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let expression = Expression {
            text: text.to_string(),
            program: std::sync::Arc::new(program),
        };
        expression.evaluate("pkg:cargo/example", "1.0.0", &Signals::sample())?;
        Ok(expression)
    }

    /// Without the `cel` feature no expression can be compiled.
    #[cfg(not(feature = "cel"))]
    pub fn compile(text: &str) -> Result<Expression, String> {
        let _ = (text, expression_variables);
        Err(
            "this build of quorum-verifier has no CEL engine (cargo feature `cel`), so the \
             policy is refused rather than decided without its expression"
                .to_string(),
        )
    }

    /// Evaluates the expression over one decision's signals; anything but a boolean result
    /// is an error.
    #[cfg(feature = "cel")]
    pub fn evaluate(&self, purl: &str, version: &str, signals: &Signals) -> Result<bool, String> {
        match self.program.execute(&signals.cel_context(purl, version)) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!(
                "the expression gave {:?}, not a boolean",
                other.type_of()
            )),
            Err(e) => Err(format!("evaluation failed: {e}")),
        }
    }

    /// Without the `cel` feature: an error (no expression exists in such a build).
    #[cfg(not(feature = "cel"))]
    pub fn evaluate(&self, purl: &str, version: &str, signals: &Signals) -> Result<bool, String> {
        let _ = (purl, version, signals);
        Err("no CEL engine in this build".to_string())
    }
}
