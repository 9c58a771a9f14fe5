//! The backward pass of a hidden layer and the element-wise kernels for the [`Activation`]s
//! without batch statistics of their own (PReLU, ReLU, sigmoid).
//!
//! [`Activation`]: super::Activation

use std::mem::MaybeUninit;

use super::layer::{ColSlices, LayerSaved};
use super::{LayerAt, Plain};
use crate::par::{col_reduce, map_blocks, BLOCK};
use crate::simd::wide_kernel;
use crate::{cast, Real};

/// [`layer_backward`] for the activations without batch statistics of their own: with
/// `A = dL/du` element by element, `dz = A` (and `Σ A` the bias gradient) without BatchNorm;
/// with it, BatchNorm's backward `dz = s·γ·(A − mean(A) − x̂·mean(A·x̂))`, `dγ = Σ A·x̂`,
/// `dβ = Σ A`, and the Linear bias cancelled.
///
/// [`layer_backward`]: super::layer::layer_backward
#[allow(clippy::too_many_arguments)]
pub(super) fn plain_layer_backward<T: Real>(
    mut g: Vec<T>,
    sv: &LayerSaved<T>,
    cs: &ColSlices<'_, T>,
    plain: Plain,
    l: &LayerAt,
    bn: bool,
    dtheta: &mut [T],
    n: usize,
) -> Vec<T> {
    let w = l.width;
    let sums = col_reduce::<T, _>(n, w, 3, |rows, acc| {
        let at = rows.start * w..rows.end * w;
        let (gb, xb, yb) = (&g[at.clone()], &sv.xhat[at.clone()], &sv.y[at]);
        plain_backward_sums(cs, plain, gb, xb, yb, acc)
    });
    let nf = n.max(1) as f64;
    let (mut gain, mut k1, mut k2) = (vec![0f64; w], vec![0f64; w], vec![0f64; w]);
    for j in 0..w {
        if plain == Plain::Prelu {
            dtheta[l.alpha + j] = T::of(sums[0][j]);
        }
        if bn {
            dtheta[l.gamma + j] = T::of(sums[2][j]);
            dtheta[l.gamma + w + j] = T::of(sums[1][j]);
            dtheta[l.b + j] = T::zero(); // cancelled by the normalisation
            gain[j] = sv.cols.s[j].f64() * sv.cols.a[j].f64();
            k1[j] = sums[1][j] / nf;
            k2[j] = sums[2][j] / nf;
        } else {
            dtheta[l.b + j] = T::of(sums[1][j]);
            gain[j] = 1.0;
        }
    }
    let (gain, k1, k2): (Vec<T>, Vec<T>, Vec<T>) = (cast(&gain), cast(&k1), cast(&k2));
    let dz = [&gain[..], &k1, &k2];
    map_blocks(&mut g, w * BLOCK, |start, gb| {
        let at = start..start + gb.len();
        plain_backward_rows(cs, plain, dz, gb, &sv.xhat[at.clone()], &sv.y[at])
    });
    g
}

/// `u = a·(z − μ)·s + c` and `x̂` of one element: (x̂, u).
#[inline(always)]
fn affine<T: Real>(z: T, mu: T, s: T, a: T, c: T) -> (T, T) {
    let xh = (z - mu) * s;
    (xh, a * xh + c)
}

/// `f` on every element's `u`, writing x̂ over `z` and `y = f(u, column)`.
#[inline(always)]
fn plain_rows<T: Real>(
    cs: &ColSlices<'_, T>,
    z: &mut [T],
    y: &mut [MaybeUninit<T>],
    f: impl Fn(T, usize) -> T,
) {
    let w = cs.w;
    let (mu, s, a, c) = (&cs.mu[..w], &cs.s[..w], &cs.a[..w], &cs.c[..w]);
    for (zr, yr) in z.chunks_exact_mut(w).zip(y.chunks_exact_mut(w)) {
        let (zr, yr) = (&mut zr[..w], &mut yr[..w]);
        for j in 0..w {
            let (xh, u) = affine(zr[j], mu[j], s[j], a[j], c[j]);
            zr[j] = xh;
            yr[j].write(f(u, j));
        }
    }
}

wide_kernel! {
    /// Forward rows of PReLU, ReLU or sigmoid: `x̂ = (z − μ)·s` (over `z`), `y = f(a·x̂ + c)`.
    pub(super) fn plain_forward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        z: &mut [T],
        y: &mut [MaybeUninit<T>],
    ) {
        let zero = T::zero();
        match plain {
            Plain::Prelu => {
                let al = &cs.alpha[..cs.w];
                plain_rows(cs, z, y, |u, j| if u > zero { u } else { al[j] * u })
            }
            Plain::Relu => plain_rows(cs, z, y, |u, _| if u > zero { u } else { zero }),
            Plain::Sigmoid => plain_rows(cs, z, y, |u, _| T::sigmoid(u)),
        }
    }
}

/// `f(g, x̂, y, column) = (t, A)` on every element: A = dL/du, t = the α gradient's term.
#[inline(always)]
fn plain_elems<T: Real>(
    g: &[T],
    x: &[T],
    y: &[T],
    w: usize,
    mut each: impl FnMut(usize, T, T, T),
    f: impl Fn(T, T, T, usize) -> (T, T),
) {
    for ((gr, xr), yr) in g
        .chunks_exact(w)
        .zip(x.chunks_exact(w))
        .zip(y.chunks_exact(w))
    {
        let (gr, xr, yr) = (&gr[..w], &xr[..w], &yr[..w]);
        for j in 0..w {
            let (t, big_a) = f(gr[j], xr[j], yr[j], j);
            each(j, t, big_a, xr[j]);
        }
    }
}

/// The per-element backward of PReLU, ReLU or sigmoid from `g = dL/dy`, `x̂` and `y`: (the α
/// gradient's term, `A = dL/du`), as a closure over the column constants.
#[inline(always)]
fn plain_grad<'a, T: Real>(
    cs: &'a ColSlices<'a, T>,
    plain: Plain,
) -> impl Fn(T, T, T, usize) -> (T, T) + 'a {
    let (zero, one) = (T::zero(), T::one());
    let (a, c) = (&cs.a[..cs.w], &cs.c[..cs.w]);
    let alpha = if plain == Plain::Prelu {
        &cs.alpha[..cs.w]
    } else {
        &[]
    };
    move |g, xh, y, j| match plain {
        Plain::Prelu => {
            let u = a[j] * xh + c[j];
            if u > zero {
                (zero, g)
            } else {
                (g * u, g * alpha[j])
            }
        }
        Plain::Relu => {
            let u = a[j] * xh + c[j];
            (zero, if u > zero { g } else { zero })
        }
        Plain::Sigmoid => (zero, g * y * (one - y)),
    }
}

wide_kernel! {
    /// Column sums over a block of rows of PReLU, ReLU or sigmoid: Σ t, Σ A, Σ A·x̂ (`acc[0..3]`).
    fn plain_backward_sums<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        g: &[T],
        x: &[T],
        y: &[T],
        acc: &mut [Vec<T>],
    ) {
        let w = cs.w;
        let [s_t, s_a, s_ax] = acc else {
            return;
        };
        let (s_t, s_a, s_ax) = (&mut s_t[..w], &mut s_a[..w], &mut s_ax[..w]);
        let add = |j: usize, t: T, big_a: T, xh: T| {
            s_t[j] = s_t[j] + t;
            s_a[j] = s_a[j] + big_a;
            s_ax[j] = s_ax[j] + big_a * xh;
        };
        match plain {
            Plain::Prelu => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Prelu)),
            Plain::Relu => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Relu)),
            Plain::Sigmoid => plain_elems(g, x, y, w, add, plain_grad(cs, Plain::Sigmoid)),
        }
    }
}

/// `dz = gain·(A − k₁ − k₂·x̂)` on every element, written over `g`, `A` from `f` (see
/// [`plain_grad`]).
#[inline(always)]
fn plain_dz_rows<T: Real>(
    dz: [&[T]; 3],
    g: &mut [T],
    (x, y): (&[T], &[T]),
    w: usize,
    f: impl Fn(T, T, T, usize) -> (T, T),
) {
    let (gain, k1, k2) = (&dz[0][..w], &dz[1][..w], &dz[2][..w]);
    let rows = g
        .chunks_exact_mut(w)
        .zip(x.chunks_exact(w).zip(y.chunks_exact(w)));
    for (gr, (xr, yr)) in rows {
        let (gr, xr, yr) = (&mut gr[..w], &xr[..w], &yr[..w]);
        for j in 0..w {
            let (_, big_a) = f(gr[j], xr[j], yr[j], j);
            gr[j] = gain[j] * (big_a - k1[j] - k2[j] * xr[j]);
        }
    }
}

wide_kernel! {
    /// Backward rows of PReLU, ReLU or sigmoid: `dz = gain·(A − k₁ − k₂·x̂)`, written over `g`.
    fn plain_backward_rows<T: Real>(
        cs: &ColSlices<'_, T>,
        plain: Plain,
        dz: [&[T]; 3],
        g: &mut [T],
        x: &[T],
        y: &[T],
    ) {
        let w = cs.w;
        match plain {
            Plain::Prelu => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Prelu)),
            Plain::Relu => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Relu)),
            Plain::Sigmoid => plain_dz_rows(dz, g, (x, y), w, plain_grad(cs, Plain::Sigmoid)),
        }
    }
}
