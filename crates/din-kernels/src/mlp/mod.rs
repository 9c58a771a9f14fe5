//! An MLP of hidden layers `Linear → [BatchNorm] → activation` ending in `Linear(·, 1)`, in
//! training, with a hand-written backward pass: the DIN head, and (behind their own first layer,
//! see [`crate::attention`]) the activation units. The activation is one of [`Activation`]'s:
//! Dice (the default), PReLU, ReLU or sigmoid, the same in every hidden layer.
//!
//! Every hidden layer is two passes over its `[n, width]` activations forward (batch moments;
//! then normalise, gate and activate) and two backward (one reduction; then the input gradient),
//! around calls of the matrix kernel. Two identities make that possible:
//! * with BatchNorm, Dice's batch statistics of the BatchNorm output `u = γ·x̂ + β` are known
//!   without a pass over `u`: mean β and variance γ²·σ²/(σ² + ε), since `x̂` has mean 0 and
//!   variance σ²/(σ² + ε) over the batch by construction;
//! * the Linear bias before a BatchNorm cancels in the normalisation (its gradient is exactly 0),
//!   so it is only added to the running mean, not to the activations.
//!
//! All parameters live in one flat vector `theta`, in [`Stack::offsets`] order.
//!
//! ```
//! use din_kernels::mlp::{self, Stack};
//! // 3 inputs → 4 (Dice) → 1, no BatchNorm; Dice ε 1e-8
//! let stack = Stack::new(3, vec![4], false, vec![(0.0, 1e-8)])?;
//! let theta: Vec<f64> = (0..stack.n_params()).map(|i| (i as f64 * 0.37).sin()).collect();
//! let x: Vec<f64> = (0..5 * 3).map(|i| (i as f64 * 0.11).cos()).collect(); // 5 rows
//! let fwd = mlp::forward(&stack, &theta, &x)?;
//! assert_eq!(fwd.out.len(), 5);
//! let (dtheta, dx) = mlp::backward(&stack, &theta, &x, &[1.0; 5], &fwd.saved)?;
//! assert_eq!((dtheta.len(), dx.len()), (theta.len(), x.len()));
//! assert!(mlp::forward(&stack, &theta[1..], &x).is_err()); // a parameter short
//! // the same sizes with ReLU: no α, so 4 parameters fewer
//! let relu = stack.clone().with_activation(mlp::Activation::Relu);
//! assert_eq!(relu.n_params(), stack.n_params() - 4);
//! # Ok::<(), din_kernels::Error>(())
//! ```

mod layer;
mod plain;
#[cfg(test)]
mod tests;

use crate::dice::DiceStats;
use crate::matmul::{matmul, matmul_into, matmul_tn};
use crate::par::{fill1, rows_of, BLOCK};
use crate::{check_len, invalid, Real, Result};
use layer::{layer_backward, layer_forward, LayerSaved};

/// The activation of every hidden layer of a [`Stack`], applied to `u` (the BatchNorm output, or
/// the Linear output with its bias without BatchNorm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Activation {
    /// `u·(α + (1 − α)·p)`, `p = sigmoid((u − E[u]) / √(Var[u] + ε))` with the batch's
    /// per-neuron moments; α per neuron.
    #[default]
    Dice,
    /// `u` where `u > 0`, else `α·u`; α per neuron.
    Prelu,
    /// `max(u, 0)`.
    Relu,
    /// `1 / (1 + e^(−u))`.
    Sigmoid,
}

impl Activation {
    /// True when the layer has a trained α per neuron (Dice, PReLU).
    pub fn has_alpha(self) -> bool {
        matches!(self, Activation::Dice | Activation::Prelu)
    }

    /// The activations without batch statistics of their own.
    fn plain(self) -> Option<Plain> {
        match self {
            Activation::Dice => None,
            Activation::Prelu => Some(Plain::Prelu),
            Activation::Relu => Some(Plain::Relu),
            Activation::Sigmoid => Some(Plain::Sigmoid),
        }
    }
}

/// [`Activation`]s that are a function of `u` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    Prelu,
    Relu,
    Sigmoid,
}

/// Sizes of an MLP: input width, hidden widths, BatchNorm on every hidden layer or on none,
/// (BatchNorm ε, Dice ε) per hidden layer, and the hidden layers' [`Activation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    first_in: usize,
    hidden: Vec<usize>,
    bn: bool,
    eps: Vec<(f64, f64)>,
    act: Activation,
}

/// Offsets of one hidden layer's parameters in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerAt {
    /// Weight `[width, fan_in]`.
    pub w: usize,
    /// Bias `[width]`.
    pub b: usize,
    /// BatchNorm's scale γ and shift β (with BatchNorm only; β follows γ).
    pub gamma: usize,
    /// Dice's or PReLU's α `[width]` (other activations: none, where the next block starts).
    pub alpha: usize,
    /// Inputs of the layer (the previous layer's width, or the stack's input width).
    pub fan_in: usize,
    /// Neurons of the layer (its output width).
    pub width: usize,
}

/// Where everything is in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsets {
    /// Each hidden layer's offsets, first to last.
    pub layers: Vec<LayerAt>,
    /// Output weight `[last width]` and bias `[1]`.
    pub out_w: usize,
    /// Offset of the output bias (the last parameter).
    pub out_b: usize,
    /// Number of parameters (the length of `theta`).
    pub total: usize,
}

impl Stack {
    /// An MLP of `hidden` Dice layers on `first_in` inputs; `eps[i]` = (BatchNorm ε, Dice ε) of
    /// hidden layer `i` (BatchNorm's is ignored without BatchNorm, Dice's with another
    /// activation: see [`Stack::with_activation`]).
    pub fn new(
        first_in: usize,
        hidden: Vec<usize>,
        bn: bool,
        eps: Vec<(f64, f64)>,
    ) -> Result<Stack> {
        if hidden.is_empty() {
            return Err(invalid("mlp", "at least one hidden layer is needed"));
        }
        if first_in == 0 || hidden.contains(&0) {
            return Err(invalid(
                "mlp",
                format!("zero width: {first_in} → {hidden:?}"),
            ));
        }
        check_len("mlp", "eps", hidden.len(), eps.len())?;
        if eps
            .iter()
            .any(|&(a, b)| !(a >= 0.0 && b >= 0.0 && a.is_finite() && b.is_finite()))
        {
            return Err(invalid("mlp", "ε must be finite and ≥ 0"));
        }
        Ok(Stack {
            first_in,
            hidden,
            bn,
            eps,
            act: Activation::Dice,
        })
    }

    /// The same sizes with another hidden activation.
    pub fn with_activation(self, act: Activation) -> Stack {
        Stack { act, ..self }
    }

    /// The hidden layers' activation.
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// Input width (columns of `x`).
    pub fn first_in(&self) -> usize {
        self.first_in
    }

    /// Widths of the hidden layers, first to last.
    pub fn hidden(&self) -> &[usize] {
        &self.hidden
    }

    /// (BatchNorm ε, Dice ε) of each hidden layer, first to last.
    pub fn eps(&self) -> &[(f64, f64)] {
        &self.eps
    }

    /// True when every hidden layer has BatchNorm between its Linear and its activation.
    pub fn batch_norm(&self) -> bool {
        self.bn
    }

    /// Number of parameters (the length of `theta`).
    pub fn n_params(&self) -> usize {
        self.offsets().total
    }

    /// Hidden layers (weight, bias, \[γ, β,\] \[α\]), then the output layer (weight, bias).
    pub fn offsets(&self) -> Offsets {
        let alpha_width = |width: usize| if self.act.has_alpha() { width } else { 0 };
        let mut at = 0;
        let mut fan_in = self.first_in;
        let mut layers = Vec::with_capacity(self.hidden.len());
        for &width in &self.hidden {
            let b = at + width * fan_in;
            let gamma = b + width;
            let l = LayerAt {
                w: at,
                b,
                gamma,
                alpha: if self.bn { gamma + 2 * width } else { gamma },
                fan_in,
                width,
            };
            at = l.alpha + alpha_width(width);
            layers.push(l);
            fan_in = width;
        }
        Offsets {
            layers,
            out_w: at,
            out_b: at + fan_in,
            total: at + fan_in + 1,
        }
    }

    fn first(&self) -> LayerAt {
        self.offsets().layers[0] // `new` guarantees a hidden layer
    }
}

/// Batch statistics of one hidden layer in a training step, for the running averages:
/// BatchNorm's (with BatchNorm; the mean includes the Linear bias) and Dice's (Dice layers).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    /// BatchNorm's statistics of the Linear output (mean with the bias); `None` without
    /// BatchNorm.
    pub batch_norm: Option<DiceStats>,
    /// Dice's statistics of its input `u`; `None` for other activations.
    pub dice: Option<DiceStats>,
}

/// What a forward pass keeps for its backward pass.
pub struct Saved<T> {
    layers: Vec<LayerSaved<T>>,
    rows: usize,
}

impl<T> Saved<T> {
    /// The last hidden layer's activations (the output layer's input).
    fn last_y(&self) -> &[T] {
        self.layers.last().map_or(&[], |l| &l.y)
    }

    /// Rows of the forward pass.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// What a forward pass returns: one output per row, the state for the backward pass, and the
/// batch statistics of every hidden layer.
pub struct Forward<T> {
    /// The MLP's output, one value per row, `[n]`.
    pub out: Vec<T>,
    /// What the backward pass needs from this pass.
    pub saved: Saved<T>,
    /// Batch statistics of each hidden layer, first to last, for the running averages.
    pub stats: Vec<LayerStats>,
}

/// The stack forward from the first hidden layer's Linear output `z1: [n, width₁]` (without its
/// bias). `theta` and `z1` are checked by the callers.
pub(crate) fn forward_from_first<T: Real>(
    st: &Stack,
    theta: &[T],
    z1: Vec<T>,
    n: usize,
) -> Result<Forward<T>> {
    let off = st.offsets();
    let mut layers: Vec<LayerSaved<T>> = Vec::with_capacity(off.layers.len());
    let mut stats = Vec::with_capacity(off.layers.len());
    let mut z = z1;
    for (li, l) in off.layers.iter().enumerate() {
        let (saved, stat) = layer_forward(z, l, (st.bn, st.act), st.eps[li], theta, n);
        // the next layer's Linear output (no bias), from this layer's activations
        z = match off.layers.get(li + 1) {
            Some(next) => {
                let w = &theta[next.w..next.w + next.width * next.fan_in];
                matmul(&saved.y, false, w, true, (n, next.width, next.fan_in))?
            }
            None => Vec::new(),
        };
        layers.push(saved);
        stats.push(stat);
    }
    let saved = Saved { layers, rows: n };
    let width = off.layers.last().map_or(0, |l| l.width);
    let mut out = vec![theta[off.out_b]; n];
    matmul_into(
        &mut out,
        saved.last_y(),
        false,
        &theta[off.out_w..off.out_w + width],
        true,
        (n, 1, width),
        true,
    )?;
    Ok(Forward { out, saved, stats })
}

/// The chain rule through [`forward_from_first`]: the gradient of every parameter except the
/// first hidden layer's weight (left 0 for the caller's first layer) and `dL/dz1`.
pub(crate) fn backward_to_first<T: Real>(
    st: &Stack,
    theta: &[T],
    g: &[T],
    sv: &Saved<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    let n = g.len();
    let off = st.offsets();
    let mut dtheta = vec![T::zero(); off.total];
    let Some(last) = off.layers.last() else {
        return Ok((dtheta, Vec::new()));
    };
    let width = last.width;
    // output layer: s = y·w + b
    dtheta[off.out_w..off.out_w + width].copy_from_slice(&matmul_tn(
        g,
        sv.last_y(),
        (1, width, n),
    )?);
    dtheta[off.out_b] = g.iter().fold(T::zero(), |a, &x| a + x);
    let w_out = &theta[off.out_w..off.out_w + width];
    // SAFETY: blocks are whole rows (`width·BLOCK` elements of an `n·width` buffer) and the
    // closure writes every column of every row of its block.
    let mut dy = unsafe {
        fill1(n * width, width * BLOCK, |start, out| {
            for (r, row) in out.chunks_exact_mut(width).enumerate() {
                let gi = g[start / width + r];
                for (o, &w) in row.iter_mut().zip(w_out) {
                    o.write(gi * w);
                }
            }
        })
    };
    for li in (0..off.layers.len()).rev() {
        let l = &off.layers[li];
        let dz = layer_backward(
            dy,
            &sv.layers[li],
            l,
            (st.bn, st.act),
            theta,
            &mut dtheta,
            n,
        );
        if li == 0 {
            return Ok((dtheta, dz));
        }
        let prev = &sv.layers[li - 1].y;
        dtheta[l.w..l.w + l.width * l.fan_in].copy_from_slice(&matmul_tn(
            &dz,
            prev,
            (l.width, l.fan_in, n),
        )?);
        let w = &theta[l.w..l.w + l.width * l.fan_in];
        dy = matmul(&dz, false, w, false, (n, l.fan_in, l.width))?;
    }
    Ok((dtheta, dy))
}

/// Check `theta` against the stack and the backward's inputs against its forward.
pub(crate) fn check_theta<T>(kernel: &'static str, st: &Stack, theta: &[T]) -> Result<()> {
    check_len(kernel, "theta", st.n_params(), theta.len())
}

pub(crate) fn check_saved<T>(
    kernel: &'static str,
    sv: &Saved<T>,
    st: &Stack,
    g: usize,
) -> Result<()> {
    check_len(kernel, "output gradient", sv.rows, g)?;
    check_len(kernel, "saved layers", st.hidden.len(), sv.layers.len())
}

/// The MLP on `x: [n, first_in]` in a training step (batch statistics).
pub fn forward<T: Real>(st: &Stack, theta: &[T], x: &[T]) -> Result<Forward<T>> {
    check_theta("mlp", st, theta)?;
    let n = rows_of("mlp", x.len(), st.first_in)?;
    let first = st.first();
    let w1 = &theta[first.w..first.w + first.width * first.fan_in];
    let z1 = matmul(x, false, w1, true, (n, first.width, first.fan_in))?;
    forward_from_first(st, theta, z1, n)
}

/// The chain rule through [`forward`] from `g = dL/dout: [n]`: (`dL/dθ`, `dL/dx`).
pub fn backward<T: Real>(
    st: &Stack,
    theta: &[T],
    x: &[T],
    g: &[T],
    saved: &Saved<T>,
) -> Result<(Vec<T>, Vec<T>)> {
    check_theta("mlp backward", st, theta)?;
    check_saved("mlp backward", saved, st, g.len())?;
    check_len("mlp backward", "x", g.len() * st.first_in, x.len())?;
    let (mut dth, dz1) = backward_to_first(st, theta, g, saved)?;
    let first = st.first();
    let (n, h1, k) = (g.len(), first.width, first.fan_in);
    dth[first.w..first.w + h1 * k].copy_from_slice(&matmul_tn(&dz1, x, (h1, k, n))?);
    let dx = matmul(
        &dz1,
        false,
        &theta[first.w..first.w + h1 * k],
        false,
        (n, k, h1),
    )?;
    Ok((dth, dx))
}
