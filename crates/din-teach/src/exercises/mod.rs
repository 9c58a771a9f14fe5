//! Checks for the notebooks' exercises (练习 · Exercises): each takes the learner's function, runs
//! it on inputs the learner did not choose and compares the answer with the library's own
//! implementation (the split, the pooling, the masked softmax, the metrics, Dice, …). The answer
//! is a [`Verdict`] in Chinese and English. A check never panics: a stub (`todo!()`), a panic, an
//! error, a wrong shape or a NaN is a failing verdict that says what went wrong.
//!
//! ```
//! use candle_core::Tensor;
//! use din_teach::exercises::check_masked_softmax;
//!
//! // the max over the real positions, subtracted before exp: passes …
//! let right = check_masked_softmax(|s: &Tensor, m: &Tensor| {
//!     let shift = (s + m.affine(1e30, -1e30)?)?.max_keepdim(1)?;
//!     let e = (s.broadcast_sub(&shift)?.mul(m)?.exp()? * m)?;
//!     Ok((shift, e.broadcast_div(&e.sum_keepdim(1)?.maximum(1e-30)?)?))
//! });
//! assert!(right.passed, "{right}");
//! // … the library's weights with a shift that ignores the mask do not, and the verdict says why
//! let shortcut = check_masked_softmax(|s: &Tensor, m: &Tensor| {
//!     Ok((s.max_keepdim(1)?, din::model::masked_softmax(s, m)?))
//! });
//! assert!(!shortcut.passed && shortcut.en.contains("shift"));
//! // a stub is a failing verdict, not a panic
//! let stub = check_masked_softmax(|_s: &Tensor, _m: &Tensor| -> candle_core::Result<(Tensor, Tensor)> { todo!() });
//! assert!(!stub.passed && stub.en.contains("not written yet"));
//! ```

mod check;
mod nb01;
mod nb02;
mod nb03;
mod nb04;
mod nb05;
mod nb06;
mod reference;

pub use check::Verdict;
pub use nb01::{check_sliding_window, check_train_rows};
pub use nb02::{check_masked_mean, check_one_hot_lookup};
pub use nb03::{
    check_activation_unit, check_input_3d, check_masked_softmax, DiceLayerWeights, UnitSteps,
    UnitWeights,
};
pub use nb04::{
    check_auc, check_bce, check_context_feature, check_din_forward, check_gauc, check_hour_of_day,
    check_training_loop, DinSteps, TRAINING_LOOP_MIN_AUC,
};
pub use nb05::{check_dice, check_rela_impr};
pub use nb06::{check_mean_train_history, check_single_event_users};
