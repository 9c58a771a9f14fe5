//! Dice (DIN paper, section 4.3) on `[n, d]` rows: `p = sigmoid((x − E[x]) / √(Var[x] + ε))`,
//! `y = p·x + (1 − p)·α·x`, with E and Var per neuron over the batch (training) or fixed (running
//! averages, evaluation), and its backward pass including the batch statistics' dependence on `x`.
//!
//! ```
//! use din_kernels::dice;
//! let x = [1.0f64, -2.0, 3.0, 4.0]; // 2 rows of 2 neurons
//! let out = dice::forward(&x, &[0.5, 0.5], None, 1e-8)?;
//! // with batch statistics each neuron's two values are ±1 standard deviation from the mean
//! let p_hi = 1.0 / (1.0 + (-1.0f64).exp());
//! assert!((out.p[2] - p_hi).abs() < 1e-6);
//! let (dx, dalpha) = dice::backward(&x, &[0.5, 0.5], &[1.0; 4], &out.p, &out.stats, true)?;
//! assert_eq!((dx.len(), dalpha.len()), (4, 2));
//! // α must have one value per neuron: a mismatch is an error, never uninitialised memory
//! assert!(dice::forward(&x, &[0.5], None, 1e-8).is_ok()); // 4 rows of 1 neuron
//! assert!(dice::forward(&x, &[0.5, 0.5, 0.5], None, 1e-8).is_err());
//! # Ok::<(), din_kernels::Error>(())
//! ```

use crate::par::{col_reduce, fill1, fill2, moments, rows_of, BLOCK};
use crate::{cast, check_len, Real, Result};

/// Statistics a Dice (or BatchNorm) forward normalised with, per neuron.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiceStats {
    /// Mean, `[d]`.
    pub mean: Vec<f64>,
    /// Biased variance.
    pub var: Vec<f64>,
    /// `1/√(var + ε)`.
    pub inv_std: Vec<f64>,
}

/// What a Dice forward returns: the output, the gates (kept for the backward) and the statistics.
#[derive(Debug, Clone)]
pub struct DiceForward<T> {
    /// The output, `[n, d]` like `x`.
    pub y: Vec<T>,
    /// `p = sigmoid(x̂)` per element.
    pub p: Vec<T>,
    /// The statistics `x` was normalised with: the batch's, or the fixed ones passed in.
    pub stats: DiceStats,
}

/// Dice forward on `x: [n, d]` with `d = alpha.len()`. `fixed`: evaluation statistics (mean,
/// var), each `d` long; `None`: the batch's.
pub fn forward<T: Real>(
    x: &[T],
    alpha: &[T],
    fixed: Option<(&[f64], &[f64])>,
    eps: f64,
) -> Result<DiceForward<T>> {
    let d = alpha.len();
    let n = rows_of("dice", x.len(), d)?;
    let (mean, var) = match fixed {
        Some((m, v)) => {
            check_len("dice", "running mean", d, m.len())?;
            check_len("dice", "running variance", d, v.len())?;
            (m.to_vec(), v.to_vec())
        }
        None => moments(x, n, d),
    };
    let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let (mt, it): (Vec<T>, Vec<T>) = (cast(&mean), cast(&inv_std));
    let one = T::one();
    // SAFETY: the closure walks every row of its blocks (blocks are whole rows: `d·BLOCK`
    // elements, the input is `n·d`) and writes every column of both outputs.
    let (y, p) = unsafe {
        fill2(n * d, d * BLOCK, x, |o, pb, xb| {
            let rows = o
                .chunks_exact_mut(d)
                .zip(pb.chunks_exact_mut(d))
                .zip(xb.chunks_exact(d));
            for ((orow, prow), xrow) in rows {
                let cols = orow.iter_mut().zip(prow.iter_mut()).zip(xrow);
                for (((ov, pv), &v), ((&m, &s), &a)) in cols.zip(mt.iter().zip(&it).zip(alpha)) {
                    let pk = T::sigmoid((v - m) * s);
                    pv.write(pk);
                    ov.write(v * (a + pk * (one - a)));
                }
            }
        })
    };
    Ok(DiceForward {
        y,
        p,
        stats: DiceStats { mean, var, inv_std },
    })
}

/// Dice backward: `g = dL/dy` → (`dL/dx`, `dL/dα`). `train`: the statistics were the batch's, so
/// their dependence on `x` is differentiated too. `p` and `stats` come from [`forward`].
pub fn backward<T: Real>(
    x: &[T],
    alpha: &[T],
    g: &[T],
    p: &[T],
    stats: &DiceStats,
    train: bool,
) -> Result<(Vec<T>, Vec<T>)> {
    let d = alpha.len();
    let n = rows_of("dice backward", x.len(), d)?;
    check_len("dice backward", "gradient", x.len(), g.len())?;
    check_len("dice backward", "gates", x.len(), p.len())?;
    check_len("dice backward", "mean", d, stats.mean.len())?;
    check_len("dice backward", "inverse std", d, stats.inv_std.len())?;
    let (mt, it): (Vec<T>, Vec<T>) = (cast(&stats.mean), cast(&stats.inv_std));
    let one = T::one();
    // dα = Σ g·x·(1 − p); c = dL/dx̂ = g·x·(1 − α)·p·(1 − p); Σc and Σc·x̂ for the batch-stat terms
    let sums = col_reduce::<T, _>(n, d, 3, |rows, acc| {
        rows.for_each(|i| {
            let (xr, gr, pr) = (
                &x[i * d..(i + 1) * d],
                &g[i * d..(i + 1) * d],
                &p[i * d..(i + 1) * d],
            );
            let [da, sc, scx] = acc else { return };
            for ((a, &v), (&gj, &pk)) in da.iter_mut().zip(xr).zip(gr.iter().zip(pr)) {
                *a = *a + gj * v * (one - pk);
            }
            if train {
                let params = alpha.iter().zip(&mt).zip(&it);
                for (((c1, c2), ((&v, &gj), &pk)), ((&a, &m), &s)) in sc
                    .iter_mut()
                    .zip(scx.iter_mut())
                    .zip(xr.iter().zip(gr).zip(pr))
                    .zip(params)
                {
                    let c = gj * v * (one - a) * pk * (one - pk);
                    *c1 = *c1 + c;
                    *c2 = *c2 + c * (v - m) * s;
                }
            }
        })
    });
    let nf = n.max(1) as f64;
    let mc: Vec<T> = sums[1].iter().map(|&s| T::of(s / nf)).collect();
    let mcx: Vec<T> = sums[2].iter().map(|&s| T::of(s / nf)).collect();
    // SAFETY: blocks are whole rows (`d·BLOCK` elements of an `n·d` buffer) and the closure writes
    // every column of every row of its block.
    let dx = unsafe {
        fill1(n * d, d * BLOCK, |base, out| {
            for (r, orow) in out.chunks_exact_mut(d).enumerate() {
                let at = base + r * d;
                let (xr, gr, pr) = (&x[at..at + d], &g[at..at + d], &p[at..at + d]);
                let vals = xr.iter().zip(gr).zip(pr);
                let params = alpha
                    .iter()
                    .zip(&it)
                    .zip(mt.iter().zip(mc.iter().zip(&mcx)));
                for ((o, ((&v, &gj), &pk)), ((&a, &s), (&m, (&c1, &c2)))) in
                    orow.iter_mut().zip(vals).zip(params)
                {
                    let c = gj * v * (one - a) * pk * (one - pk);
                    let mut r = gj * (a + pk * (one - a)) + c * s;
                    if train {
                        let xh = (v - m) * s;
                        r = r - s * (c1 + xh * c2);
                    }
                    o.write(r);
                }
            }
        })
    };
    Ok((dx, cast(&sums[0])))
}
