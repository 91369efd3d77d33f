//! Exact fractions for thresholds (`min_adoption`, `min_weight`).
//!
//! A threshold written `0.6` in TOML reaches the program as the binary double nearest to
//! 0.6, which is slightly less than 0.6; compared in floating point against a fraction that
//! is itself rounded, a tie can fall either way. So a threshold is turned back into the exact
//! decimal it was written as (the double's shortest round-trip text, `0.6`, is 6/10) and
//! compared by cross-multiplying integers: `part / whole ≥ n / d` ⇔ `part × d ≥ n × whole`.
//! A threshold is met at equality.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// The most decimal places a threshold may have (10^18 < 2^60 keeps every product of a
/// denominator and a weight within 128 bits).
pub const MAX_DECIMAL_PLACES: u32 = 18;

/// A non-negative exact fraction `numerator / denominator`, as written in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    numerator: u64,
    denominator: u64,
}

impl Default for Fraction {
    fn default() -> Self {
        Fraction::ZERO
    }
}

impl Fraction {
    /// Zero.
    pub const ZERO: Fraction = Fraction {
        numerator: 0,
        denominator: 1,
    };
    /// One.
    pub const ONE: Fraction = Fraction {
        numerator: 1,
        denominator: 1,
    };

    /// `numerator / denominator`; `None` for a zero denominator or one above 10^18.
    pub fn new(numerator: u64, denominator: u64) -> Option<Fraction> {
        (denominator > 0 && denominator <= 10u64.pow(MAX_DECIMAL_PLACES)).then_some(Fraction {
            numerator,
            denominator,
        })
    }

    /// The numerator.
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The denominator.
    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// Parses `"0.6"`, `"1"`, `"2/3"`: a plain decimal of at most
    /// [`MAX_DECIMAL_PLACES`] places, or a ratio of two integers.
    pub fn parse(text: &str) -> Result<Fraction, String> {
        let bad = || {
            format!(
                "{text:?} is not a fraction: write a decimal such as 0.6 (at most {MAX_DECIMAL_PLACES} places) or a ratio such as \"2/3\""
            )
        };
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let n: u64 = digits(n.trim()).ok_or_else(bad)?;
            let d: u64 = digits(d.trim()).ok_or_else(bad)?;
            return Fraction::new(n, d).ok_or_else(bad);
        }
        let (whole, places) = text.split_once('.').unwrap_or((text, ""));
        if places.len() > MAX_DECIMAL_PLACES as usize || (whole.is_empty() && places.is_empty()) {
            return Err(bad());
        }
        let denominator = 10u64.pow(places.len() as u32);
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            digits(whole).ok_or_else(bad)?
        };
        let fraction: u64 = if places.is_empty() {
            0
        } else {
            digits(places).ok_or_else(bad)?
        };
        let numerator = whole
            .checked_mul(denominator)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(bad)?;
        Fraction::new(numerator, denominator).ok_or_else(bad)
    }

    /// The exact decimal a TOML float was written as: its shortest round-trip text.
    pub fn from_f64(value: f64) -> Result<Fraction, String> {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("{value} is not a non-negative number"));
        }
        // Rust prints a double as the shortest decimal that reads back as the same double,
        // without an exponent: 0.6 prints as "0.6", 1e-7 as "0.0000001".
        Fraction::parse(&format!("{value}"))
    }

    /// Whether `part / whole` is at least this fraction, exactly (met at equality). When
    /// `whole` is zero the fraction `part / whole` counts as zero.
    pub fn is_met_by(self, part: u128, whole: u128) -> bool {
        if whole == 0 {
            return self.numerator == 0;
        }
        // part and whole are weights (below 2^64) and the fraction's terms at most 10^18 <
        // 2^60: both products fit in 128 bits.
        part * u128::from(self.denominator) >= u128::from(self.numerator) * whole
    }

    /// Whether the fraction is at most one.
    pub fn at_most_one(self) -> bool {
        self.numerator <= self.denominator
    }

    /// Whether the fraction is zero.
    pub fn is_zero(self) -> bool {
        self.numerator == 0
    }

    /// The nearest double, for people (percentages in reasons) and for expressions.
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut places = 0u32;
        let mut d = self.denominator;
        while d.is_multiple_of(10) && d > 1 {
            d /= 10;
            places += 1;
        }
        if d != 1 {
            return write!(f, "{}/{}", self.numerator, self.denominator);
        }
        let scale = 10u64.pow(places);
        let whole = self.numerator / scale;
        let rest = self.numerator % scale;
        if places == 0 {
            return write!(f, "{whole}");
        }
        let rest = format!("{rest:0width$}", width = places as usize);
        match rest.trim_end_matches('0') {
            "" => write!(f, "{whole}.0"),
            trimmed => write!(f, "{whole}.{trimmed}"),
        }
    }
}

impl Serialize for Fraction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fraction, D::Error> {
        struct FractionVisitor;
        impl Visitor<'_> for FractionVisitor {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fraction: a number such as 0.6 or a string such as \"2/3\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
                Fraction::from_f64(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
                let v = u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))?;
                self.visit_u64(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
                Fraction::new(v, 1).ok_or_else(|| E::custom("not a fraction"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fraction, E> {
                Fraction::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(FractionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_floats_are_the_decimals_they_were_written_as() {
        for (written, n, d) in [
            ("0.6", 6, 10),
            ("0.53125", 53125, 100000),
            ("1", 1, 1),
            ("0", 0, 1),
            ("0.1", 1, 10),
            ("0.0000001", 1, 10_000_000),
        ] {
            let value: f64 = written.parse().unwrap();
            let f = Fraction::from_f64(value).unwrap();
            assert_eq!((f.numerator(), f.denominator()), (n, d), "{written}");
        }
        assert_eq!(Fraction::parse("2/3").unwrap().to_string(), "2/3");
        assert_eq!(Fraction::parse("0.60").unwrap().to_string(), "0.6");
        assert_eq!(Fraction::parse("1.0").unwrap().to_string(), "1.0");
        for bad in [
            "",
            ".",
            "-1",
            "1/0",
            "a",
            "0.1234567890123456789",
            "1e-3",
            "1/-2",
        ] {
            assert!(Fraction::parse(bad).is_err(), "{bad}");
        }
        assert!(Fraction::from_f64(f64::NAN).is_err());
        assert!(Fraction::from_f64(-0.5).is_err());
    }

    #[test]
    fn a_threshold_is_met_at_equality_exactly() {
        let three_fifths = Fraction::from_f64(0.6).unwrap();
        assert!(three_fifths.is_met_by(3, 5));
        assert!(three_fifths.is_met_by(6, 10));
        assert!(!three_fifths.is_met_by(5_999_999_999, 10_000_000_000));
        let f = Fraction::from_f64(0.53125).unwrap();
        assert!(f.is_met_by(17, 32));
        assert!(!f.is_met_by(17 * (1 << 40) - 1, 32 * (1 << 40)));
        assert!(Fraction::parse("2/3").unwrap().is_met_by(2, 3));
        assert!(
            !Fraction::parse("2/3")
                .unwrap()
                .is_met_by(666_666, 1_000_000)
        );
        // Nothing to compare with: only a zero threshold is met.
        assert!(Fraction::ZERO.is_met_by(0, 0));
        assert!(!three_fifths.is_met_by(0, 0));
        // Weights near the top of the range do not overflow.
        assert!(Fraction::ONE.is_met_by(u128::from(u64::MAX), u128::from(u64::MAX)));
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        #[derive(Deserialize)]
        struct T {
            a: Fraction,
            b: Fraction,
            c: Fraction,
        }
        let t: T = toml::from_str("a = 0.6\nb = 1\nc = \"2/3\"").unwrap();
        assert_eq!(t.a, Fraction::new(6, 10).unwrap());
        assert_eq!(t.b, Fraction::ONE);
        assert_eq!(t.c, Fraction::new(2, 3).unwrap());
        assert!(toml::from_str::<T>("a = -1\nb = 1\nc = 1").is_err());
    }
}
