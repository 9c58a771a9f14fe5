//! The activation unit in evaluation on one scoring request: C candidates against one history of
//! n positions, every (candidate, position) pair through the unit's MLP, blocks of candidates
//! spread over rayon's threads.
//!
//! The first layer is split by linearity as in [`crate::attention`]:
//! `z₁ = (W_t + W_d)·t + (W_h − W_d)·h + W_p·(t ⊙ h) + b₁`, the target term once per candidate
//! and the history term once per request. Per pair only `W_p·(t ⊙ h)` and the layers above it
//! run, a block of pairs at a time (about [`PAIR_ROWS`] rows): the block's product, then every
//! layer's bias, BatchNorm (running statistics), activation (Dice with running statistics) in
//! one pass over the block while it is in cache, then the next layer's product. Each thread keeps
//! its buffers for all its blocks; nothing of size C·n is allocated but the scores.
//!
//! ```
//! use din_kernels::attention::UnitInput;
//! use din_kernels::mlp::{LayerStats, Stack};
//! use din_kernels::score::{self, EvalMlp};
//! let d = 2; // embedding width
//! let stack = Stack::new(4 * d, vec![3], false, vec![(0.0, 1e-8)])?;
//! let theta: Vec<f64> = (0..stack.n_params()).map(|i| (i as f64 * 0.7).sin()).collect();
//! // Dice's running statistics: mean 0, variance 1 for each of the 3 neurons
//! let running = [LayerStats { batch_norm: None, dice: Some(score::fixed(vec![0.0; 3], vec![1.0; 3])) }];
//! let mlp = EvalMlp::new(&stack, &theta, &running)?;
//! let targets = [0.1, 0.2, -0.3, 0.4]; // 2 candidates
//! let hist = [0.5, -0.5, 0.1, 0.1, 0.9, 0.0]; // 3 positions
//! let s = score::request_scores(&mlp, UnitInput::Four, d, &targets, &hist)?;
//! assert_eq!(s.len(), 2 * 3); // [C, n]
//! assert!(EvalMlp::new(&stack, &theta, &[]).is_err()); // one set of statistics per layer
//! # Ok::<(), din_kernels::Error>(())
//! ```

use rayon::prelude::*;

use crate::attention::UnitInput;
use crate::dice::DiceStats;
use crate::matmul::{matmul, matmul_into, on_this_thread};
use crate::mlp::{Activation, LayerStats, Stack};
use crate::simd::wide_kernel;
use crate::{cast, check_len, invalid, Real, Result};

/// About how many (candidate, position) rows one block of work holds: whole candidates, at most
/// `max(1, PAIR_ROWS / n)` of them. A block's buffers for the default unit (256 and 128 neurons,
/// d = 64) are then 896 KiB in f32, inside a 1 MiB L2 cache; 512 rows scored 7 % faster than 256
/// and 2 % faster than 768 (bench/README.md, "Serving").
pub const PAIR_ROWS: usize = 512;

/// Running statistics `(mean, var)` in the form [`LayerStats`] holds them (`inv_std` is left
/// empty: [`EvalMlp::new`] computes it with the stack's ε).
pub fn fixed(mean: Vec<f64>, var: Vec<f64>) -> DiceStats {
    DiceStats {
        mean,
        var,
        inv_std: Vec::new(),
    }
}

/// One hidden layer in evaluation: `u = z·s + c` (the Linear's bias and BatchNorm with its
/// running statistics folded into a scale and shift per neuron), then the activation.
struct EvalLayer<T> {
    /// Weight `[width, fan_in]`.
    w: Vec<T>,
    width: usize,
    fan_in: usize,
    s: Vec<T>,
    c: Vec<T>,
    act: Activation,
    /// Dice's or PReLU's α (empty otherwise).
    alpha: Vec<T>,
    /// Dice's running mean and 1/√(var + ε) (empty otherwise).
    m: Vec<T>,
    k: Vec<T>,
}

/// An MLP of a [`Stack`] in evaluation: the per-neuron constants computed once from the
/// parameters `theta` (in the stack's order) and the running statistics.
pub struct EvalMlp<T> {
    layers: Vec<EvalLayer<T>>,
    out_w: Vec<T>,
    out_b: T,
}

impl<T: Real> EvalMlp<T> {
    /// The stack's MLP with parameters `theta` and, per hidden layer, the running statistics
    /// of its BatchNorm (with BatchNorm) and of its Dice (with Dice).
    pub fn new(st: &Stack, theta: &[T], running: &[LayerStats]) -> Result<EvalMlp<T>> {
        const K: &str = "evaluation MLP";
        check_len(K, "theta", st.n_params(), theta.len())?;
        check_len(K, "running statistics", st.hidden().len(), running.len())?;
        let off = st.offsets();
        let mut layers = Vec::with_capacity(off.layers.len());
        for ((l, r), &(bn_eps, dice_eps)) in off.layers.iter().zip(running).zip(st.eps()) {
            let w = l.width;
            let stats = |s: &Option<DiceStats>, what: &str| -> Result<(Vec<f64>, Vec<f64>)> {
                match s {
                    Some(s) if s.mean.len() == w && s.var.len() == w => {
                        Ok((s.mean.clone(), s.var.clone()))
                    }
                    _ => Err(invalid(
                        K,
                        format!("layer of {w} neurons: {what} running statistics of {w} needed"),
                    )),
                }
            };
            let f64s =
                |at: usize| -> Vec<f64> { theta[at..at + w].iter().map(|v| v.f64()).collect() };
            let bias = f64s(l.b);
            let (s, c) = if st.batch_norm() {
                let (mean, var) = stats(&r.batch_norm, "BatchNorm")?;
                let (gamma, beta) = (f64s(l.gamma), f64s(l.gamma + w));
                let s: Vec<f64> = (0..w)
                    .map(|j| gamma[j] / (var[j] + bn_eps).sqrt())
                    .collect();
                let c = (0..w)
                    .map(|j| (bias[j] - mean[j]) * s[j] + beta[j])
                    .collect();
                (s, c)
            } else {
                (vec![1.0; w], bias)
            };
            let act = st.activation();
            let (m, k) = if act == Activation::Dice {
                let (mean, var) = stats(&r.dice, "Dice")?;
                let k = var.iter().map(|v| 1.0 / (v + dice_eps).sqrt()).collect();
                (mean, k)
            } else {
                (Vec::new(), Vec::new())
            };
            let alpha = if act.has_alpha() {
                theta[l.alpha..l.alpha + w].to_vec()
            } else {
                Vec::new()
            };
            layers.push(EvalLayer {
                w: theta[l.w..l.w + w * l.fan_in].to_vec(),
                width: w,
                fan_in: l.fan_in,
                s: cast(&s),
                c: cast(&c),
                act,
                alpha,
                m: cast(&m),
                k: cast(&k),
            });
        }
        let last = off.layers.last().map_or(0, |l| l.width);
        Ok(EvalMlp {
            layers,
            out_w: theta[off.out_w..off.out_w + last].to_vec(),
            out_b: theta[off.out_b],
        })
    }
}

impl<T: Real> EvalLayer<T> {
    /// `z` (rows of `width`) → the layer's activations, in place; with `add = (zt, zh, n)` (the
    /// first layer) row `r` first gains `zt[r / n] + zh[r % n]`.
    fn activate(&self, z: &mut [T], add: Option<(&[T], &[T], usize)>) {
        let cols = Cols {
            s: &self.s,
            c: &self.c,
            alpha: &self.alpha,
            m: &self.m,
            k: &self.k,
            act: self.act,
        };
        activate_rows(z, self.width, add, &cols);
    }
}

/// A layer's per-neuron constants as [`activate_rows`] takes them.
struct Cols<'a, T> {
    s: &'a [T],
    c: &'a [T],
    alpha: &'a [T],
    m: &'a [T],
    k: &'a [T],
    act: Activation,
}

wide_kernel! {
    /// Rows of `w` columns: `u = (z [+ zt[r / n] + zh[r % n]])·s + c`, then the activation:
    /// Dice `u·(α + (1 − α)·sigmoid((u − m)·k))`, PReLU, ReLU or the sigmoid; in place.
    fn activate_rows<T: Real>(z: &mut [T], w: usize, add: Option<(&[T], &[T], usize)>, cs: &Cols<'_, T>) {
        let (s, c) = (&cs.s[..w], &cs.c[..w]);
        let one = T::one();
        for (r, row) in z.chunks_exact_mut(w).enumerate() {
            if let Some((zt, zh, n)) = add {
                let (ct, ch) = (r / n, r % n);
                let (a, b) = (&zt[ct * w..(ct + 1) * w], &zh[ch * w..(ch + 1) * w]);
                for ((v, &x), &y) in row.iter_mut().zip(a).zip(b) {
                    *v = *v + x + y;
                }
            }
            let cols = row.iter_mut().zip(s.iter().zip(c));
            match cs.act {
                Activation::Dice => {
                    let (al, m, k) = (&cs.alpha[..w], &cs.m[..w], &cs.k[..w]);
                    for ((v, (&s, &c)), (&a, (&m, &k))) in cols.zip(al.iter().zip(m.iter().zip(k))) {
                        let u = *v * s + c;
                        let p = T::sigmoid((u - m) * k);
                        *v = u * (a + p * (one - a));
                    }
                }
                Activation::Prelu => {
                    for ((v, (&s, &c)), &a) in cols.zip(&cs.alpha[..w]) {
                        let u = *v * s + c;
                        *v = if u > T::zero() { u } else { a * u };
                    }
                }
                Activation::Relu => {
                    for (v, (&s, &c)) in cols {
                        *v = (*v * s + c).max(T::zero());
                    }
                }
                Activation::Sigmoid => {
                    for (v, (&s, &c)) in cols {
                        *v = T::sigmoid(*v * s + c);
                    }
                }
            }
        }
    }
}

wide_kernel! {
    /// The pairs `t_c ⊙ h_i` of the candidates `t: [cands, d]` and the history `h: [n, d]`,
    /// candidate-major, into `out: [cands·n, d]`.
    fn pairs_into<T: Real>(t: &[T], h: &[T], d: usize, out: &mut [T]) {
        let n = h.len() / d;
        for (tc, block) in t.chunks_exact(d).zip(out.chunks_exact_mut(n * d)) {
            for (hi, o) in h.chunks_exact(d).zip(block.chunks_exact_mut(d)) {
                for ((o, &a), &b) in o.iter_mut().zip(tc).zip(hi) {
                    *o = a * b;
                }
            }
        }
    }
}

/// Lanes of the output layer's dot products: independent partial sums, so that the compiler can
/// keep them in one vector register (a single running sum is a chain of dependent adds).
const LANES: usize = 16;

wide_kernel! {
    /// `out[r] = b + Σ_j y[r, j]·w[j]` for the rows of `y` (the output layer), in [`LANES`]
    /// partial sums per row.
    fn output_rows<T: Real>(y: &[T], w: &[T], b: T, out: &mut [T]) {
        let k = w.len();
        let split = k - k % LANES;
        for (o, row) in out.iter_mut().zip(y.chunks_exact(k)) {
            let mut acc = [T::zero(); LANES];
            for (ys, ws) in row[..split].chunks_exact(LANES).zip(w[..split].chunks_exact(LANES)) {
                for ((a, &y), &w) in acc.iter_mut().zip(ys).zip(ws) {
                    *a = *a + y * w;
                }
            }
            let tail = row[split..].iter().zip(&w[split..]).fold(b, |s, (&y, &w)| s + y * w);
            *o = acc.iter().fold(tail, |s, &a| s + a);
        }
    }
}

/// A thread's buffers: the pairs `t ⊙ h` and each hidden layer's output, for one block.
struct Scratch<T> {
    pairs: Vec<T>,
    z: Vec<Vec<T>>,
}

/// What every block of one request shares: the history `h: [n, d]`, the product block of the
/// first weight `P = W_p: [h1, d]`, the target terms `zt: [C, h1]` and the history terms
/// `zh: [n, h1]`.
struct Request<'a, T> {
    h: &'a [T],
    d: usize,
    n: usize,
    p_mat: &'a [T],
    zt: &'a [T],
    zh: &'a [T],
}

impl<T: Real> EvalMlp<T> {
    /// The scores `out: [cands, n]` of the candidates `t: [cands, d]` starting at candidate
    /// `c0`: the pairs, the first layer's product and epilogue, the layers above, the output.
    fn score_block(
        &self,
        scr: &mut Scratch<T>,
        x: &Request<'_, T>,
        (c0, t): (usize, &[T]),
        out: &mut [T],
    ) -> Result<()> {
        let (d, n) = (x.d, x.n);
        let (cands, rows) = (out.len() / n, out.len());
        let Scratch { pairs, z } = scr;
        pairs.resize(rows * d, T::zero());
        pairs_into(t, x.h, d, pairs);
        // first layer: z = pairs·Pᵀ, then + zt[c] + zh[i], its bias, BatchNorm, activation
        let (Some(first), Some((z1, rest))) = (self.layers.first(), z.split_first_mut()) else {
            return Err(invalid("request scores", "no hidden layer"));
        };
        let h1 = first.width;
        z1.resize(rows * h1, T::zero());
        matmul_into(z1, pairs, false, x.p_mat, true, (rows, h1, d), false)?;
        first.activate(z1, Some((&x.zt[c0 * h1..(c0 + cands) * h1], x.zh, n)));
        // the layers above, each from the one below
        let mut prev: &Vec<T> = z1;
        for (l, zl) in self.layers[1..].iter().zip(rest.iter_mut()) {
            zl.resize(rows * l.width, T::zero());
            let dims = (rows, l.width, l.fan_in);
            matmul_into(zl, prev, false, &l.w, true, dims, false)?;
            l.activate(zl, None);
            prev = zl;
        }
        output_rows(prev, &self.out_w, self.out_b, out);
        Ok(())
    }
}

/// The first layer's weight `[h1, k·d]` split by the unit's input layout:
/// `[A = W_t (+ W_d), B = W_h (− W_d), P = W_p]`, each `[h1, d]`.
fn split_first<T: Real>(first: &EvalLayer<T>, input: UnitInput, d: usize) -> [Vec<T>; 3] {
    let (h1, kd, at) = (first.width, first.fan_in, input.blocks());
    let mut m = [
        vec![T::zero(); h1 * d],
        vec![T::zero(); h1 * d],
        vec![T::zero(); h1 * d],
    ];
    for j in 0..h1 {
        let row = &first.w[j * kd..(j + 1) * kd];
        for col in 0..d {
            let dd = at.difference.map_or(T::zero(), |k| row[k * d + col]);
            m[0][j * d + col] = row[at.target * d + col] + dd;
            m[1][j * d + col] = row[at.history * d + col] - dd;
            m[2][j * d + col] = row[at.product * d + col];
        }
    }
    m
}

/// Candidates per block for `c` candidates of `n` positions: about [`PAIR_ROWS`] rows, and a
/// whole number of rounds of blocks over the threads (64 candidates of 50 positions on 2 threads:
/// 16 blocks of 4, not 13 of 5).
fn candidates_per_block(c: usize, n: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let most = (PAIR_ROWS / n.max(1)).max(1);
    let rounds = c.div_ceil(threads * most);
    (c / (threads * rounds).max(1)).max(1)
}

/// The unit's scores `[C, n]` (row-major: candidate `c`'s scores against positions `0..n`) for
/// the candidates `t: [C, d]` against one history `h: [n, d]`, in evaluation.
pub fn request_scores<T: Real>(
    mlp: &EvalMlp<T>,
    input: UnitInput,
    d: usize,
    t: &[T],
    h: &[T],
) -> Result<Vec<T>> {
    const K: &str = "request scores";
    let Some(first) = mlp.layers.first() else {
        return Err(invalid(K, "no hidden layer"));
    };
    if d == 0 || first.fan_in != input.width() * d {
        let msg = format!(
            "the first layer takes {} inputs, the unit gives {}×{d}",
            first.fan_in,
            input.width()
        );
        return Err(invalid(K, msg));
    }
    if t.len() % d != 0 || h.len() % d != 0 {
        return Err(invalid(K, format!("targets or history not rows of {d}")));
    }
    let (c, n, h1) = (t.len() / d, h.len() / d, first.width);
    if c == 0 || n == 0 {
        return Ok(Vec::new());
    }
    let [a_mat, b_mat, p_mat] = split_first(first, input, d);
    let zt = matmul(t, false, &a_mat, true, (c, h1, d))?; // once per candidate
    let zh = matmul(h, false, &b_mat, true, (n, h1, d))?; // once per request
    let x = Request {
        h,
        d,
        n,
        p_mat: &p_mat,
        zt: &zt,
        zh: &zh,
    };
    let per_block = candidates_per_block(c, n);
    let new_scratch = || Scratch {
        pairs: Vec::with_capacity(per_block * n * d),
        z: (mlp.layers.iter())
            .map(|l| Vec::with_capacity(per_block * n * l.width))
            .collect(),
    };
    let mut scores = vec![T::zero(); c * n];
    scores
        .par_chunks_mut(per_block * n)
        .enumerate()
        .try_for_each_init(new_scratch, |scr, (bi, out)| {
            let (c0, cands) = (bi * per_block, out.len() / n);
            let block = (c0, &t[c0 * d..(c0 + cands) * d]);
            on_this_thread(|| mlp.score_block(scr, &x, block, out))
        })?;
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlp;

    /// The unit's MLP on the full input `[t, h, t − h, t ⊙ h]` of every pair, written out with
    /// the running statistics: the formula the split and the blocks must reproduce.
    fn naive(
        st: &Stack,
        theta: &[f64],
        running: &[LayerStats],
        d: usize,
        t: &[f64],
        h: &[f64],
    ) -> Vec<f64> {
        let off = st.offsets();
        let mut out = Vec::new();
        for tc in t.chunks_exact(d) {
            for hi in h.chunks_exact(d) {
                let mut x: Vec<f64> = tc.to_vec();
                x.extend_from_slice(hi);
                x.extend(tc.iter().zip(hi).map(|(a, b)| a - b));
                x.extend(tc.iter().zip(hi).map(|(a, b)| a * b));
                for ((l, r), &(be, de)) in off.layers.iter().zip(running).zip(st.eps()) {
                    let mut y = Vec::with_capacity(l.width);
                    for j in 0..l.width {
                        let w = &theta[l.w + j * l.fan_in..l.w + (j + 1) * l.fan_in];
                        let mut u =
                            w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() + theta[l.b + j];
                        if let Some(bn) = &r.batch_norm {
                            u = (u - bn.mean[j]) / (bn.var[j] + be).sqrt() * theta[l.gamma + j]
                                + theta[l.gamma + l.width + j];
                        }
                        let v = match st.activation() {
                            Activation::Dice => {
                                let dc = r.dice.as_ref().unwrap();
                                let p = 1.0
                                    / (1.0 + (-(u - dc.mean[j]) / (dc.var[j] + de).sqrt()).exp());
                                let a = theta[l.alpha + j];
                                p * u + (1.0 - p) * a * u
                            }
                            Activation::Prelu => {
                                if u > 0.0 {
                                    u
                                } else {
                                    theta[l.alpha + j] * u
                                }
                            }
                            Activation::Relu => u.max(0.0),
                            Activation::Sigmoid => 1.0 / (1.0 + (-u).exp()),
                        };
                        y.push(v);
                    }
                    x = y;
                }
                let w = &theta[off.out_w..off.out_w + x.len()];
                out.push(w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() + theta[off.out_b]);
            }
        }
        out
    }

    fn running(st: &Stack) -> Vec<LayerStats> {
        st.hidden()
            .iter()
            .enumerate()
            .map(|(li, &w)| {
                let mean: Vec<f64> = (0..w).map(|j| ((li + j) as f64 * 0.37).sin()).collect();
                let var: Vec<f64> = (0..w)
                    .map(|j| 0.5 + ((li * 3 + j) as f64 * 0.11).cos().abs())
                    .collect();
                LayerStats {
                    batch_norm: st.batch_norm().then(|| fixed(mean.clone(), var.clone())),
                    dice: (st.activation() == Activation::Dice)
                        .then(|| fixed(var.iter().map(|v| v - 0.3).collect(), var.clone())),
                }
            })
            .collect()
    }

    #[test]
    fn request_scores_match_the_unit_written_out() {
        let d = 3;
        for act in [
            mlp::Activation::Dice,
            mlp::Activation::Prelu,
            mlp::Activation::Relu,
            mlp::Activation::Sigmoid,
        ] {
            for bn in [false, true] {
                let st = Stack::new(4 * d, vec![7, 5], bn, vec![(1e-5, 1e-8), (1e-3, 1e-9)])
                    .unwrap()
                    .with_activation(act);
                let theta: Vec<f64> = (0..st.n_params())
                    .map(|i| (i as f64 * 0.73).sin() * 0.8)
                    .collect();
                let run = running(&st);
                let em = EvalMlp::new(&st, &theta, &run).unwrap();
                // more candidates than one block holds, and a history longer than a block
                for (c, n) in [(1, 1), (3, 4), (PAIR_ROWS / 4 + 3, 5), (2, PAIR_ROWS + 7)] {
                    let t: Vec<f64> = (0..c * d).map(|i| (i as f64 * 0.31).cos()).collect();
                    let h: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.17).sin()).collect();
                    let got = request_scores(&em, UnitInput::Four, d, &t, &h).unwrap();
                    let want = naive(&st, &theta, &run, d, &t, &h);
                    assert_eq!(got.len(), want.len());
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g - w).abs() < 1e-10 * (1.0 + w.abs()),
                            "{act:?}, bn {bn}, {c}×{n}, pair {i}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bad_sizes_and_statistics_are_errors() {
        let d = 2;
        let st = Stack::new(4 * d, vec![3], true, vec![(1e-5, 1e-8)]).unwrap();
        let theta = vec![0.1f64; st.n_params()];
        let good = running(&st);
        assert!(EvalMlp::new(&st, &theta, &good).is_ok());
        assert!(EvalMlp::new(&st, &theta[1..], &good).is_err());
        let no_bn = vec![LayerStats {
            batch_norm: None,
            dice: good[0].dice.clone(),
        }];
        assert!(EvalMlp::new(&st, &theta, &no_bn).is_err());
        let em = EvalMlp::new(&st, &theta, &good).unwrap();
        let t = [0.5; 4];
        assert!(request_scores(&em, UnitInput::Three, d, &t, &[0.1; 6]).is_err()); // 3d ≠ 4d
        assert!(request_scores(&em, UnitInput::Four, d, &t, &[0.1; 5]).is_err()); // not rows of d
        assert!(request_scores(&em, UnitInput::Four, d, &t, &[])
            .unwrap()
            .is_empty());
    }
}
