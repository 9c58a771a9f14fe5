use super::*;

const ACTIVATIONS: [Activation; 4] = [
    Activation::Dice,
    Activation::Prelu,
    Activation::Relu,
    Activation::Sigmoid,
];

/// A finite-difference check of the whole stack in f64, every activation, with and without
/// BatchNorm.
#[test]
fn gradients_match_finite_differences() {
    for (act, bn) in ACTIVATIONS
        .into_iter()
        .flat_map(|a| [(a, false), (a, true)])
    {
        let st = Stack::new(3, vec![4, 2], bn, vec![(1e-5, 1e-8); 2])
            .unwrap()
            .with_activation(act);
        let mut theta: Vec<f64> = (0..st.n_params())
            .map(|i| ((i * 37 % 23) as f64 / 11.0 - 1.0) * 0.7)
            .collect();
        if bn {
            for l in st.offsets().layers {
                for j in 0..l.width {
                    theta[l.gamma + j] = 1.0 + 0.1 * j as f64;
                }
            }
        }
        let x: Vec<f64> = (0..7 * 3)
            .map(|i| ((i * 13 % 17) as f64 / 8.0) - 1.0)
            .collect();
        let wts: Vec<f64> = (0..7).map(|i| 0.3 + 0.1 * i as f64).collect();
        let loss = |th: &[f64], x: &[f64]| -> f64 {
            let f = forward(&st, th, x).unwrap();
            f.out.iter().zip(&wts).map(|(o, w)| o * w).sum()
        };
        let f = forward(&st, &theta, &x).unwrap();
        if act == Activation::Relu {
            // both sides of the kink are exercised
            let y = &f.saved.layers[0].y;
            assert!(y.contains(&0.0) && y.iter().any(|&v| v > 0.0));
        }
        let (dth, dx) = backward(&st, &theta, &x, &wts, &f.saved).unwrap();
        let what = format!("{act:?} bn={bn}");
        assert_central_differences(&theta, &dth, |th| loss(th, &x), &format!("{what} θ"));
        assert_central_differences(&x, &dx, |xx| loss(&theta, xx), &format!("{what} x"));
    }
}

/// `grad` against central differences of `f` at `v` (step 1e-6, relative tolerance 1e-5).
fn assert_central_differences(v: &[f64], grad: &[f64], f: impl Fn(&[f64]) -> f64, what: &str) {
    let h = 1e-6;
    for i in 0..v.len() {
        let (mut a, mut b) = (v.to_vec(), v.to_vec());
        a[i] += h;
        b[i] -= h;
        let num = (f(&a) - f(&b)) / (2.0 * h);
        assert!(
            (num - grad[i]).abs() < 1e-5 * (1.0 + num.abs()),
            "{what}[{i}]: {num} vs {}",
            grad[i]
        );
    }
}

#[test]
fn inconsistent_inputs_are_errors() {
    assert!(Stack::new(3, vec![], false, vec![]).is_err());
    assert!(Stack::new(3, vec![2], false, vec![]).is_err());
    let st = Stack::new(2, vec![2], false, vec![(0.0, 1e-8)]).unwrap();
    let theta = vec![0.1f32; st.n_params()];
    assert!(forward(&st, &theta, &[1.0, 2.0, 3.0]).is_err());
    let f = forward(&st, &theta, &[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert!(backward(&st, &theta, &[1.0, 2.0, 3.0, 4.0], &[1.0], &f.saved).is_err());
}
