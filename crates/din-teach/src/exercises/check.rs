//! What every check shares: the [`Verdict`], running the learner's code (`guard`,
//! `run_learner`), comparing its answer with the library's (`compare_tensor`, `compare_values`,
//! `first_wrong_step`) and the inputs the checks make (`randn`, `mask_of`, `some_events`).

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use candle_core::{DType, Device, Tensor};

use din::data::Events;
use din::rng::Rng;

/// The answer of a check, in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Which exercise (the checking function's name).
    pub exercise: String,
    /// True when the learner's code passed the check.
    pub passed: bool,
    /// What was found, in Chinese.
    pub zh: String,
    /// What was found, in English.
    pub en: String,
}

impl Verdict {
    pub(super) fn pass(exercise: &str, zh: impl Into<String>, en: impl Into<String>) -> Verdict {
        Verdict {
            exercise: exercise.into(),
            passed: true,
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub(super) fn fail(exercise: &str, zh: impl Into<String>, en: impl Into<String>) -> Verdict {
        Verdict {
            exercise: exercise.into(),
            passed: false,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A failing verdict for a check that could not be run at all (e.g. a notebook file that is
    /// missing); `why` says what to do.
    pub fn missing(why: &str) -> Verdict {
        Verdict::fail(
            "missing",
            format!("无法检查：{why}"),
            format!("cannot check: {why}"),
        )
    }

    /// Shown by the evcxr kernel when a check cell's value is displayed.
    pub fn evcxr_display(&self) {
        println!("{self}");
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.passed {
            "✅ 正确 · correct"
        } else {
            "❌ 还不对 · not yet"
        };
        write!(
            f,
            "{mark} [{}]\n  {}\n  {}",
            self.exercise, self.zh, self.en
        )
    }
}

/// Run the learner's code, turning a panic (a `todo!()` stub included) into a message.
pub(super) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, (String, String)> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(hook);
    out.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if msg.contains("not yet implemented") || msg.contains("练习") {
            (
                "还没写：函数体仍是 todo!()".to_string(),
                "not written yet: the function body is still todo!()".to_string(),
            )
        } else {
            (
                format!("你的代码 panic 了：{msg}"),
                format!("your code panicked: {msg}"),
            )
        }
    })
}

/// Run the learner's fallible code: a panic (a `todo!()` stub included) or an error is a failing
/// verdict that says so (`what_zh`/`what_en` name the call).
pub(super) fn run_learner<T>(
    exercise: &str,
    what_zh: &str,
    what_en: &str,
    f: impl FnOnce() -> candle_core::Result<T>,
) -> Result<T, Verdict> {
    match guard(f) {
        Err((zh, en)) => Err(Verdict::fail(exercise, zh, en)),
        Ok(Err(e)) => Err(Verdict::fail(
            exercise,
            format!("{what_zh}返回了错误：{e}"),
            format!("{what_en} returned an error: {e}"),
        )),
        Ok(Ok(t)) => Ok(t),
    }
}

/// One step of a hand-written computation against its reference: (got, want, tolerance, what in
/// Chinese, what in English).
pub(super) type Step<'a> = (&'a Tensor, &'a Tensor, f64, &'a str, &'a str);

/// The first step that differs, as a failing verdict prefixed with the mode (evaluation or
/// training); `None` when every step matches.
pub(super) fn first_wrong_step(exercise: &str, train: bool, steps: &[Step]) -> Option<Verdict> {
    let (mode_zh, mode_en) = if train {
        ("训练（batch 统计量）", "training (batch statistics)")
    } else {
        (
            "推断（running statistics）",
            "evaluation (running statistics)",
        )
    };
    steps.iter().find_map(|&(g, w, tol, zh, en)| {
        let v = compare_tensor(exercise, || Ok(g.clone()), Ok(w.clone()), tol, zh, en);
        (!v.passed).then(|| {
            Verdict::fail(
                exercise,
                format!("{mode_zh}：{}", v.zh),
                format!("{mode_en}: {}", v.en),
            )
        })
    })
}

/// Run the learner's tensor function and compare with `want` (shape, finiteness, values).
pub(super) fn compare_tensor(
    exercise: &str,
    got: impl FnOnce() -> candle_core::Result<Tensor>,
    want: candle_core::Result<Tensor>,
    tol: f64,
    what_zh: &str,
    what_en: &str,
) -> Verdict {
    // the reference is the library's own computation: its failure is the check's, not the answer's
    let want = match want {
        Ok(w) => w,
        Err(e) => return internal(exercise, e),
    };
    let want = &want;
    let got = match run_learner(exercise, "你的函数", "your function", got) {
        Ok(t) => t,
        Err(v) => return v,
    };
    if got.dims() != want.dims() {
        return Verdict::fail(
            exercise,
            format!(
                "{what_zh}的形状不对：得到 {:?}，应为 {:?}",
                got.dims(),
                want.dims()
            ),
            format!(
                "{what_en}: wrong shape: got {:?}, expected {:?}",
                got.dims(),
                want.dims()
            ),
        );
    }
    let flat = |t: &Tensor| -> candle_core::Result<Vec<f64>> {
        t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()
    };
    let (g, w) = match (flat(&got), flat(want)) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(e), _) | (_, Err(e)) => {
            return Verdict::fail(
                exercise,
                format!("无法读取结果：{e}"),
                format!("cannot read the result: {e}"),
            )
        }
    };
    compare_values(exercise, &g, &w, tol, what_zh, what_en)
}

pub(super) fn compare_values(
    exercise: &str,
    got: &[f64],
    want: &[f64],
    tol: f64,
    what_zh: &str,
    what_en: &str,
) -> Verdict {
    if got.len() != want.len() {
        return Verdict::fail(
            exercise,
            format!("数量不对：得到 {} 个值，应为 {} 个", got.len(), want.len()),
            format!(
                "wrong count: got {} values, expected {}",
                got.len(),
                want.len()
            ),
        );
    }
    if let Some(k) = got.iter().position(|x| !x.is_finite()) {
        return Verdict::fail(
            exercise,
            format!("结果里有 NaN 或无穷大（第 {k} 个值：{}）", got[k]),
            format!("the result holds NaN or infinity (value {k}: {})", got[k]),
        );
    }
    let (mut worst, mut at) = (0.0f64, 0usize);
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs();
        if d > worst {
            (worst, at) = (d, k);
        }
    }
    if worst <= tol {
        Verdict::pass(
            exercise,
            format!("{what_zh}与库的实现一致（最大差 {worst:.2e}）"),
            format!("{what_en} matches the library's (largest difference {worst:.2e})"),
        )
    } else {
        Verdict::fail(
            exercise,
            format!(
                "{what_zh}与库的实现不同：第 {at} 个值得到 {:.6}，应为 {:.6}（差 {worst:.2e}）",
                got[at], want[at]
            ),
            format!(
                "{what_en} differs from the library's: value {at} is {:.6}, expected {:.6} (difference {worst:.2e})",
                got[at], want[at]
            ),
        )
    }
}

pub(super) fn randn(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).expect("a tensor of the stated shape")
}

/// A `[b, l]` 0/1 mask: row lengths `lens` (0 allowed: an empty history).
pub(super) fn mask_of(lens: &[usize], l: usize) -> Tensor {
    let mut m = vec![0f32; lens.len() * l];
    for (r, &n) in lens.iter().enumerate() {
        m[r * l..r * l + n].iter_mut().for_each(|x| *x = 1.0);
    }
    Tensor::from_vec(m, (lens.len(), l), &Device::Cpu).expect("mask")
}

pub(super) fn internal(exercise: &str, e: impl fmt::Display) -> Verdict {
    Verdict::fail(
        exercise,
        format!("检查本身出错（请报告）：{e}"),
        format!("the check itself failed (please report): {e}"),
    )
}

/// Random users' event sequences and the library's split of them.
pub(super) fn some_events(seed: u64) -> Events {
    let mut rng = Rng::new(seed);
    let mut ev = Events::default();
    for user in 0..12i64 {
        let n = rng.below(9) as i64; // 0..8 events, some users too short
        for k in 0..n {
            let item = 1 + rng.below(30) as i64;
            ev.push(
                100 + user,
                item,
                1000 - 7 * k + rng.below(3) as i64,
                item % 5,
            );
        }
    }
    ev
}
