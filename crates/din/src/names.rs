//! Names for the crate's fieldless configuration enums, written once per enum.
//!
//! [`named_enum!`] gives an enum, from one table of `Variant => "name"` pairs, the name that the
//! command line, serde configurations and error messages use: `NAMES` (every value with its name),
//! `name()`, `Display` (the name) and a case-insensitive `FromStr` whose error lists the names.
//!
//! ```
//! use din::model::{Activation, WeightNorm};
//! assert_eq!("Softmax".parse::<WeightNorm>(), Ok(WeightNorm::Softmax));
//! assert_eq!(Activation::RechubDice.to_string(), "rechub-dice");
//! let err = "gelu".parse::<Activation>().unwrap_err();
//! assert_eq!(err, "unknown activation `gelu` (dice, prelu, relu, sigmoid, rechub-dice)");
//! ```

/// Implements `NAMES`, `name()`, `Display` and `FromStr` for a fieldless enum (see the module
/// docs). `$what` names the setting in `FromStr`'s error (`unknown activation `gelu` (…)`).
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value with its name (command line, configurations), in declaration order.
            pub const NAMES: &'static [($ty, &'static str)] = &[$(($ty::$variant, $name)),+];

            /// The name (what `Display` prints and `FromStr` reads).
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                let lower = s.to_ascii_lowercase();
                Self::NAMES
                    .iter()
                    .find(|(_, n)| *n == lower)
                    .map(|(v, _)| *v)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::NAMES.iter().map(|(_, n)| *n).collect();
                        format!("unknown {} `{}` ({})", $what, s, names.join(", "))
                    })
            }
        }
    };
}
pub(crate) use named_enum;
