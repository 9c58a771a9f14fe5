//! The activation unit's MLP in a training step on a packed history, with a hand-written
//! backward pass.
//!
//! For each history position `i` (of row `seg[i]`) the unit scores
//! `MLP([t, h, t − h, t ⊙ h])` (or `MLP([h, t, h ⊙ t])`), with `t` the row's target and `h` the
//! position's embedding. The first layer is split by linearity,
//! `z₁ = (W_t + W_d)·t + [W_h − W_d, W_p]·[h, t⊙h] + b₁`, so the target part is computed once
//! per row and no `[N, 4d]` input is built; then the hidden layers run as [`crate::mlp`]'s.
//!
//! ```
//! use din_kernels::attention::{self, Packed, UnitInput};
//! use din_kernels::mlp::Stack;
//! let d = 2; // embedding width
//! let stack = Stack::new(4 * d, vec![3], false, vec![(0.0, 1e-8)])?;
//! let theta: Vec<f64> = (0..stack.n_params()).map(|i| (i as f64 * 0.7).sin()).collect();
//! let targets = [0.1, 0.2, -0.3, 0.4]; // 2 rows
//! let hist = [0.5, -0.5, 0.1, 0.1, 0.9, 0.0]; // 3 positions: two of row 0, one of row 1
//! let x = Packed { t: &targets, h: &hist, seg: &[0, 0, 1] };
//! let fwd = attention::forward(&stack, UnitInput::Four, d, &theta, x)?;
//! assert_eq!(fwd.scores.len(), 3);
//! let (dtheta, dt, dh) =
//!     attention::backward(&stack, UnitInput::Four, d, &theta, x, &[1.0; 3], &fwd.saved)?;
//! assert_eq!((dtheta.len(), dt.len(), dh.len()), (theta.len(), 4, 6));
//! // a position pointing past the batch is an error
//! let past = Packed { seg: &[0, 0, 2], ..x };
//! assert!(attention::forward(&stack, UnitInput::Four, d, &theta, past).is_err());
//! # Ok::<(), din_kernels::Error>(())
//! ```

use crate::matmul::{matmul, matmul_into, matmul_tn};
use crate::mlp::{
    backward_to_first, check_saved, check_theta, forward_from_first, LayerStats, Saved, Stack,
};
use crate::par::{fill1, rows_of};
use crate::{check_len, invalid, Real, Result};

/// The input of the activation unit's MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitInput {
    /// `[t, h, t − h, t ⊙ h]` (torch-rechub's code).
    Four,
    /// `[h, t, h ⊙ t]` (the tutorial's text).
    Three,
}

impl UnitInput {
    /// Input width in multiples of the embedding width.
    pub fn width(self) -> usize {
        match self {
            UnitInput::Four => 4,
            UnitInput::Three => 3,
        }
    }

    /// Where each term sits in the input, in blocks of `d` columns (so also in the first
    /// weight's columns). This is the one description of the layout that the fast paths split
    /// the first layer by (`W·x = (W_t + W_d)·t + (W_h − W_d)·h + W_p·(t ⊙ h)`): this kernel and
    /// `din`'s packed and per-request paths; `din`'s `AttentionInput::build`, the formula as
    /// written, is tested against it.
    pub fn blocks(self) -> InputBlocks {
        match self {
            // [t, h, t − h, t ⊙ h]
            UnitInput::Four => InputBlocks {
                target: 0,
                history: 1,
                difference: Some(2),
                product: 3,
            },
            // [h, t, h ⊙ t]
            UnitInput::Three => InputBlocks {
                target: 1,
                history: 0,
                difference: None,
                product: 2,
            },
        }
    }
}

/// The block index of each term of the activation unit's input ([`UnitInput::blocks`]): the
/// target `t`, the history item `h`, the difference `t − h` (if present) and the product `t ⊙ h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputBlocks {
    /// Block of the target `t`.
    pub target: usize,
    /// Block of the history item `h`.
    pub history: usize,
    /// Block of `t − h`; `None` for [`UnitInput::Three`], which has no difference term.
    pub difference: Option<usize>,
    /// Block of the product `t ⊙ h`.
    pub product: usize,
}

/// What the forward pass keeps for the backward pass.
pub struct UnitSaved<T> {
    a_mat: Vec<T>, // [H1, d]   W_t (+ W_d)
    b_mat: Vec<T>, // [H1, 2d]  [W_h (− W_d), W_p]
    hp: Vec<T>,    // [N, 2d]   [h, t⊙h]
    stack: Saved<T>,
}

/// Scores `[N]`, the state for the backward pass, and every hidden layer's batch statistics.
pub struct UnitForward<T> {
    /// The unit's output for each history position, `[N]` (the MLP's last Linear, no
    /// normalisation over positions).
    pub scores: Vec<T>,
    /// What [`backward`] needs from this pass.
    pub saved: UnitSaved<T>,
    /// Batch statistics of each hidden layer, first to last, for the running averages.
    pub stats: Vec<LayerStats>,
}

/// One batch of a unit's inputs: the targets `t: [B, d]` and the packed history `h: [N, d]`,
/// position `i` belonging to row `seg[i]`.
#[derive(Debug, Clone, Copy)]
pub struct Packed<'a, T> {
    /// The rows' targets, `[B, d]` row-major.
    pub t: &'a [T],
    /// The batch's real history positions, `[N, d]` row-major.
    pub h: &'a [T],
    /// The row of each position, `[N]`, each below B.
    pub seg: &'a [u32],
}

/// Sizes of a call: (rows B, positions N), checked.
fn check<T>(
    st: &Stack,
    input: UnitInput,
    d: usize,
    theta: usize,
    x: Packed<T>,
) -> Result<(usize, usize)> {
    let Packed { t, h, seg } = x;
    let (t, h) = (t.len(), h.len());
    const K: &str = "attention unit";
    if st.first_in() != input.width() * d {
        return Err(invalid(
            K,
            format!(
                "the first layer takes {} inputs, the unit gives {}×{d}",
                st.first_in(),
                input.width()
            ),
        ));
    }
    check_len(K, "theta", st.n_params(), theta)?;
    let b = rows_of(K, t, d)?;
    check_len(K, "history", seg.len() * d, h)?;
    if let Some(i) = seg.iter().position(|&s| s as usize >= b) {
        return Err(invalid(
            K,
            format!("position {i} belongs to row {}, the batch has {b}", seg[i]),
        ));
    }
    Ok((b, seg.len()))
}

/// The unit's scores of a training step on the batch `x`.
pub fn forward<T: Real>(
    st: &Stack,
    input: UnitInput,
    d: usize,
    theta: &[T],
    x: Packed<T>,
) -> Result<UnitForward<T>> {
    let (b, n) = check(st, input, d, theta.len(), x)?;
    let Packed { t, h, seg } = x;
    let first = st.offsets().layers[0];
    let (h1, kd) = (first.width, first.fan_in);
    let at = input.blocks();
    let (bt, bh, bd, bp) = (at.target, at.history, at.difference, at.product);
    // Split the first weight: A = W_t (+ W_d), B = [W_h (− W_d), W_p].
    let mut a_mat = vec![T::zero(); h1 * d];
    let mut b_mat = vec![T::zero(); h1 * 2 * d];
    for j in 0..h1 {
        let row = &theta[first.w + j * kd..first.w + (j + 1) * kd];
        for c in 0..d {
            let dd = bd.map_or(T::zero(), |k| row[k * d + c]);
            a_mat[j * d + c] = row[bt * d + c] + dd;
            b_mat[j * 2 * d + c] = row[bh * d + c] - dd;
            b_mat[j * 2 * d + d + c] = row[bp * d + c];
        }
    }
    // zt = t·Aᵀ once per sample; hp = [h, t⊙h] per position.
    let zt = matmul(t, false, &a_mat, true, (b, h1, d))?;
    let rows_per_block = 64;
    // SAFETY: blocks are whole rows of `2d` (`64·2d` elements of an `n·2d` buffer); the closure
    // writes both halves of every row of its block.
    let hp = unsafe {
        fill1(n * 2 * d, rows_per_block * 2 * d, |start, out| {
            for (r, row) in out.chunks_exact_mut(2 * d).enumerate() {
                let i = start / (2 * d) + r;
                let s = seg[i] as usize;
                let (hr, tr) = (&h[i * d..(i + 1) * d], &t[s * d..(s + 1) * d]);
                for (o, &v) in row[..d].iter_mut().zip(hr) {
                    o.write(v);
                }
                for ((o, &v), &w) in row[d..].iter_mut().zip(hr).zip(tr) {
                    o.write(w * v);
                }
            }
        })
    };
    // z₁ = zt[seg] + hp·Bᵀ (the bias is added by the stack)
    // SAFETY: blocks are whole rows of `h1`; the closure writes every column of every row.
    let mut z1 = unsafe {
        fill1(n * h1, rows_per_block * h1, |start, out| {
            for (r, row) in out.chunks_exact_mut(h1).enumerate() {
                let s = seg[start / h1 + r] as usize;
                for (o, &v) in row.iter_mut().zip(&zt[s * h1..(s + 1) * h1]) {
                    o.write(v);
                }
            }
        })
    };
    matmul_into(&mut z1, &hp, false, &b_mat, true, (n, h1, 2 * d), true)?;
    let fwd = forward_from_first(st, theta, z1, n)?;
    Ok(UnitForward {
        scores: fwd.out,
        saved: UnitSaved {
            a_mat,
            b_mat,
            hp,
            stack: fwd.saved,
        },
        stats: fwd.stats,
    })
}

/// The chain rule through [`forward`] from `g = dL/dscores: [N]`: gradients of the parameters,
/// the targets and the history.
pub fn backward<T: Real>(
    st: &Stack,
    input: UnitInput,
    d: usize,
    theta: &[T],
    x: Packed<T>,
    g: &[T],
    sv: &UnitSaved<T>,
) -> Result<(Vec<T>, Vec<T>, Vec<T>)> {
    let (b, n) = check(st, input, d, theta.len(), x)?;
    let Packed { t, h, seg } = x;
    check_theta("attention unit backward", st, theta)?;
    check_saved("attention unit backward", &sv.stack, st, g.len())?;
    check_len("attention unit backward", "scores gradient", n, g.len())?;
    let (mut dtheta, dz1) = backward_to_first(st, theta, g, &sv.stack)?;
    // first layer: z₁ = zt[seg] + hp·Bᵀ + b₁ with zt = t·Aᵀ
    let first = st.offsets().layers[0];
    let h1 = first.width;
    let d_b = matmul_tn(&dz1, &sv.hp, (h1, 2 * d, n))?;
    let dhp = matmul(&dz1, false, &sv.b_mat, false, (n, 2 * d, h1))?;
    let mut dzt = vec![T::zero(); b * h1];
    for (i, &s) in seg.iter().enumerate() {
        let src = &dz1[i * h1..(i + 1) * h1];
        for (o, &x) in dzt[s as usize * h1..(s as usize + 1) * h1]
            .iter_mut()
            .zip(src)
        {
            *o = *o + x;
        }
    }
    let d_a = matmul_tn(&dzt, t, (h1, d, b))?;
    let mut dt = matmul(&dzt, false, &sv.a_mat, false, (b, d, h1))?;
    // hp = [h, t⊙h]: dh = dhp[..d] + dhp[d..]·t[seg], dt[seg] += dhp[d..]·h
    // SAFETY: blocks are whole rows of `d`; the closure writes every column of every row.
    let dh = unsafe {
        fill1(n * d, 64 * d, |start, out| {
            for (r, row) in out.chunks_exact_mut(d).enumerate() {
                let i = start / d + r;
                let s = seg[i] as usize;
                let (gr, tr) = (&dhp[i * 2 * d..(i + 1) * 2 * d], &t[s * d..(s + 1) * d]);
                for ((o, &g0), (&g1, &tv)) in
                    row.iter_mut().zip(&gr[..d]).zip(gr[d..].iter().zip(tr))
                {
                    o.write(g0 + g1 * tv);
                }
            }
        })
    };
    for (i, &s) in seg.iter().enumerate() {
        let s = s as usize;
        let gp = &dhp[i * 2 * d + d..(i + 1) * 2 * d];
        for ((o, &g1), &hv) in dt[s * d..(s + 1) * d].iter_mut().zip(gp).zip(&h[i * d..]) {
            *o = *o + g1 * hv;
        }
    }
    // back to the blocks of W₁: A = W_t (+ W_d), B_h = W_h (− W_d), B_p = W_p
    let at = input.blocks();
    let (bt, bh, bd, bp) = (at.target, at.history, at.difference, at.product);
    let kd = first.fan_in;
    for j in 0..h1 {
        let row = &mut dtheta[first.w + j * kd..first.w + (j + 1) * kd];
        for c in 0..d {
            let (ga, gh, gp) = (d_a[j * d + c], d_b[j * 2 * d + c], d_b[j * 2 * d + d + c]);
            row[bt * d + c] = ga;
            row[bh * d + c] = gh;
            row[bp * d + c] = gp;
            if let Some(k) = bd {
                row[k * d + c] = ga - gh;
            }
        }
    }
    Ok((dtheta, dt, dh))
}
