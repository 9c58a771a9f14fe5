//! Vector instructions chosen at run time, and a vectorisable `exp`.
//!
//! ```
//! use din_kernels::simd::{exp_f32, simd_level};
//! assert!((exp_f32(1.0) - std::f32::consts::E).abs() < 1e-6);
//! println!("this CPU: {:?}", simd_level());
//! ```

/// Defines a kernel function whose body is compiled three times — for AVX-512, for AVX2 with FMA,
/// and for the baseline target — with the widest the CPU has chosen at run time, so its loops are
/// vectorised 16 or 8 f32 lanes wide instead of the baseline x86-64 target's 4. The versions give
/// the same results bit for bit (lane-wise IEEE operations; no fused multiply-add is formed
/// without fast-math). Other architectures compile the body once.
macro_rules! wide_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$t:ident: Real>($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$t: Real>($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<$t: Real>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512<$t: Real>($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2<$t: Real>($($arg: $ty),*) {
                    body($($arg),*)
                }
                match $crate::simd::simd_level() {
                    // SAFETY: `simd_level` detected every feature `avx512` is compiled for on
                    // this CPU, so executing its instructions is defined.
                    $crate::simd::Simd::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above, for AVX2 and FMA.
                    $crate::simd::Simd::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Simd::Base => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use wide_kernel;

/// A level of vector instructions the kernels are compiled for, from the narrowest to the widest
/// (`Base < Avx2 < Avx512`).
///
/// ```
/// use din_kernels::simd::Simd;
/// assert_eq!("avx2".parse::<Simd>(), Ok(Simd::Avx2));
/// assert!(Simd::Base < Simd::Avx2 && Simd::Avx2 < Simd::Avx512);
/// assert_eq!(Simd::Avx512.to_string(), "avx512");
/// assert!("sse".parse::<Simd>().unwrap_err().contains("avx512, avx2 or base"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    /// The baseline target (x86-64: SSE2, 4 f32 lanes; other architectures: their default).
    Base,
    /// AVX2 with FMA, 8 f32 lanes (most laptops and desktops since 2013).
    Avx2,
    /// AVX-512 (F, VL, DQ, BW), 16 f32 lanes (servers, some recent desktops).
    Avx512,
}

impl Simd {
    /// The names [`FromStr`](std::str::FromStr) accepts and [`Display`](std::fmt::Display) writes.
    pub const NAMES: [&'static str; 3] = ["avx512", "avx2", "base"];
}

impl std::fmt::Display for Simd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Simd::Avx512 => "avx512",
            Simd::Avx2 => "avx2",
            Simd::Base => "base",
        })
    }
}

impl std::str::FromStr for Simd {
    type Err = String;
    fn from_str(s: &str) -> Result<Simd, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "avx512" => Ok(Simd::Avx512),
            "avx2" => Ok(Simd::Avx2),
            "base" => Ok(Simd::Base),
            other => Err(format!(
                "unknown SIMD level {other:?}: use avx512, avx2 or base"
            )),
        }
    }
}

/// The environment variable that caps the level: `DIN_SIMD=avx2` or `DIN_SIMD=base` runs the
/// code paths of a laptop or of another architecture on a machine with AVX-512.
pub const SIMD_ENV: &str = "DIN_SIMD";

/// The widest level this CPU supports, of those the kernels are compiled for (not capped).
pub fn detected_simd_level() -> Simd {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw") {
            return Simd::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return Simd::Avx2;
        }
    }
    Simd::Base
}

/// The level a process runs with: `detected` capped by the value of [`SIMD_ENV`], if any. A cap
/// above what the CPU has does not raise the level; a value that is not a level is ignored, with
/// the reason in the second element (the caller prints it).
pub fn capped_level(detected: Simd, cap: Option<&str>) -> (Simd, Option<String>) {
    match cap.map(str::parse::<Simd>) {
        None => (detected, None),
        Some(Ok(cap)) => (detected.min(cap), None),
        Some(Err(why)) => (
            detected,
            Some(format!("{SIMD_ENV}: {why}; running at {detected}")),
        ),
    }
}

/// The level the kernels run at: [`detected_simd_level`] capped by `DIN_SIMD` (read once per
/// process, at the first kernel call). An invalid `DIN_SIMD` is reported once on standard error
/// and ignored.
///
/// The matrix products inside the kernels go through the `gemm` crate, which chooses its own
/// level from the CPU and ignores `DIN_SIMD`: run under an emulated CPU
/// (`qemu-x86_64 -cpu Haswell`, see `scripts/simd_levels.sh`) to run those at AVX2 too.
pub fn simd_level() -> Simd {
    static LEVEL: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = std::env::var(SIMD_ENV).ok();
        let (level, warning) = capped_level(detected_simd_level(), cap.as_deref());
        if let Some(warning) = warning {
            eprintln!("{warning}");
        }
        level
    })
}

/// `eˣ` in f32 without a library call (Cephes' `expf`): `2ⁿ·eʳ` with `n = round(x·log₂e)`,
/// `|r| ≤ ln2/2` and `eʳ` by a degree-6 polynomial; within 2 ulp of the exact value over the
/// normal range. Inputs are clamped to [−87.3, 88.3], so the result is a normal f32 (NaN stays NaN).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4; // ln 2 in two parts
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * r * r + r + 1.0;
    // 2ⁿ from the bits: `shifted` is ROUND + n in the same binade, so their bit patterns differ
    // by n (integer operations, which vectorise; a float-to-int conversion does not here)
    let n_int = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    er * f32::from_bits(n_int.wrapping_add(127) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Real;

    #[test]
    fn a_cap_lowers_the_level_and_never_raises_it() {
        assert_eq!(capped_level(Simd::Avx512, None), (Simd::Avx512, None));
        assert_eq!(capped_level(Simd::Avx512, Some("avx2")).0, Simd::Avx2);
        assert_eq!(capped_level(Simd::Avx512, Some(" BASE ")).0, Simd::Base);
        assert_eq!(capped_level(Simd::Avx2, Some("avx512")).0, Simd::Avx2);
        assert_eq!(capped_level(Simd::Base, Some("avx2")).0, Simd::Base);
        let (level, warning) = capped_level(Simd::Avx2, Some("avx-2"));
        assert_eq!(level, Simd::Avx2);
        let warning = warning.expect("a bad value is reported");
        assert!(
            warning.contains("DIN_SIMD") && warning.contains("\"avx-2\""),
            "{warning}"
        );
        for name in Simd::NAMES {
            assert_eq!(name.parse::<Simd>().unwrap().to_string(), name);
        }
    }

    /// Run with `DIN_SIMD=avx2` or `DIN_SIMD=base` (scripts/test.sh does), every kernel test of the
    /// crate runs at that level; this test checks that the level in force is the one asked for.
    #[test]
    fn the_level_in_force_follows_din_simd() {
        let cap = std::env::var(SIMD_ENV).ok();
        let expected = capped_level(detected_simd_level(), cap.as_deref()).0;
        assert_eq!(simd_level(), expected);
        println!(
            "kernels at {} (CPU: {}, DIN_SIMD={cap:?})",
            simd_level(),
            detected_simd_level()
        );
    }

    #[test]
    fn exp_f32_is_within_two_ulp_of_the_exact_value() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = (x as f64).exp();
            let got = exp_f32(x) as f64;
            let ulp = (exact as f32).abs() as f64 * f32::EPSILON as f64;
            worst = worst.max((got - exact).abs() / ulp);
            x += 0.001_37;
        }
        assert!(worst <= 2.0, "exp_f32 off by {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(1000.0).is_finite());
        assert!((f32::sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!(f32::sigmoid(100.0) == 1.0 && f32::sigmoid(-100.0) < 1e-37);
    }
}
