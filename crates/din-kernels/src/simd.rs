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

/// The widest vector instructions this CPU has, of those the kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simd {
    Avx512,
    Avx2,
    Base,
}

/// Detected once per process.
pub fn simd_level() -> Simd {
    static LEVEL: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
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
