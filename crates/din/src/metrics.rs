//! Ranking metrics: AUC, GAUC, logloss, ROC points and RelaImpr (the DIN paper's section 5.3).
//!
//! ```
//! use din::metrics::{auc, gauc, rela_impr, Metrics};
//! let scores = [0.9, 0.8, 0.3, 0.2];
//! let labels = [1.0, 0.0, 1.0, 0.0];
//! // 3 of the 4 (positive, negative) pairs are ranked right
//! assert_eq!(auc(&scores, &labels), Some(0.75));
//! // user 1 holds rows 0-1 (ranked right), user 2 rows 2-3 (ranked right): GAUC 1
//! assert_eq!(gauc(&scores, &labels, &[1, 1, 2, 2]), Some(1.0));
//! let m = Metrics::compute(&scores, &labels, &[1, 1, 2, 2]);
//! assert_eq!((m.auc, m.rows), (0.75, 4));
//! // RelaImpr = ((AUC(model) − 0.5) / (AUC(base) − 0.5) − 1) × 100%
//! assert!((rela_impr(0.8, 0.7) - 50.0).abs() < 1e-9);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// AUC by the rank-sum (Mann–Whitney) formula; tied scores get the average rank, so a tie between
/// a positive and a negative counts ½. `None` when only one class is present.
pub fn auc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let n_pos = labels[..n].iter().filter(|&&l| l > 0.5).count();
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut rank_sum_pos = 0.0f64;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0; // ranks are 1-based
        let pos_in_tie = idx[i..=j].iter().filter(|&&k| labels[k] > 0.5).count();
        rank_sum_pos += avg_rank * pos_in_tie as f64;
        i = j + 1;
    }
    let np = n_pos as f64;
    Some((rank_sum_pos - np * (np + 1.0) / 2.0) / (np * n_neg as f64))
}

/// Group AUC: the AUC of each user's rows, weighted by the user's number of rows; users whose rows
/// are all one class are skipped. `None` when no user has both classes. Users are summed in
/// ascending id order, so the result is the same to the last bit in every run.
pub fn gauc(scores: &[f32], labels: &[f32], users: &[u32]) -> Option<f64> {
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &u) in users
        .iter()
        .enumerate()
        .take(scores.len().min(labels.len()))
    {
        groups.entry(u).or_default().push(i);
    }
    let (mut num, mut den) = (0.0, 0.0);
    for rows in groups.values() {
        let s: Vec<f32> = rows.iter().map(|&i| scores[i]).collect();
        let l: Vec<f32> = rows.iter().map(|&i| labels[i]).collect();
        if let Some(a) = auc(&s, &l) {
            num += a * rows.len() as f64;
            den += rows.len() as f64;
        }
    }
    (den > 0.0).then(|| num / den)
}

/// Mean binary cross-entropy of probabilities, clipped to [1e-7, 1 − 1e-7].
pub fn logloss(probs: &[f32], labels: &[f32]) -> f64 {
    let n = probs.len().min(labels.len());
    if n == 0 {
        return f64::NAN;
    }
    let eps = 1e-7;
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = (p as f64).clamp(eps, 1.0 - eps);
            let y = y as f64;
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum();
    total / n as f64
}

/// ROC curve: `(false positive rate, true positive rate)` at every distinct threshold, from (0,0)
/// to (1,1). Its trapezoid area equals [`auc`].
pub fn roc_points(scores: &[f32], labels: &[f32]) -> Vec<(f64, f64)> {
    let n = scores.len().min(labels.len());
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n_pos = labels[..n].iter().filter(|&&l| l > 0.5).count().max(1) as f64;
    let n_neg = (n - labels[..n].iter().filter(|&&l| l > 0.5).count()).max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < n {
        let s = scores[idx[i]];
        while i < n && scores[idx[i]] == s {
            if labels[idx[i]] > 0.5 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push((fp / n_neg, tp / n_pos));
    }
    out
}

/// Trapezoid area under a curve of points sorted by x.
pub fn area(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// RelaImpr (DIN paper, eq. 11): `((AUC(model) − 0.5) / (AUC(base) − 0.5) − 1) × 100%`.
pub fn rela_impr(auc_model: f64, auc_base: f64) -> f64 {
    ((auc_model - 0.5) / (auc_base - 0.5) - 1.0) * 100.0
}

/// The usual evaluation numbers of a split. NaN where undefined (JSON writes NaN as `null`,
/// and `null` reads back as NaN, e.g. the validation metrics of a split without validation rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// [`auc`] over all rows (NaN when only one class is present).
    #[serde(deserialize_with = "nan_if_null")]
    pub auc: f64,
    /// [`gauc`], the per-user AUC weighted by rows (NaN when no user has both classes).
    #[serde(deserialize_with = "nan_if_null")]
    pub gauc: f64,
    /// [`logloss`] of the predicted probabilities (NaN without rows).
    #[serde(deserialize_with = "nan_if_null")]
    pub logloss: f64,
    /// Number of rows scored.
    pub rows: usize,
}

/// `AUC 0.9282  GAUC 0.9290  logloss 0.3346  (4000 rows)`: four decimals, as every report of
/// this crate prints them; `—` for an undefined (NaN) value.
///
/// ```
/// let m = din::metrics::Metrics { auc: 0.92821, gauc: f64::NAN, logloss: 0.33461, rows: 4000 };
/// assert_eq!(m.to_string(), "AUC 0.9282  GAUC —  logloss 0.3346  (4000 rows)");
/// ```
impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = |x: f64| {
            if x.is_nan() {
                "—".to_string()
            } else {
                format!("{x:.4}")
            }
        };
        write!(
            f,
            "AUC {}  GAUC {}  logloss {}  ({} rows)",
            v(self.auc),
            v(self.gauc),
            v(self.logloss),
            self.rows
        )
    }
}

/// Read a number that JSON may hold as `null` (serde_json writes NaN that way) as NaN.
pub(crate) fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Metrics {
    /// Compute all metrics (NaN where undefined).
    pub fn compute(probs: &[f32], labels: &[f32], users: &[u32]) -> Metrics {
        Metrics {
            auc: auc(probs, labels).unwrap_or(f64::NAN),
            gauc: gauc(probs, labels, users).unwrap_or(f64::NAN),
            logloss: logloss(probs, labels),
            rows: probs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_metrics_survive_a_json_round_trip_as_nan() {
        let m = Metrics::compute(&[], &[], &[]);
        assert!(m.auc.is_nan() && m.gauc.is_nan());
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("\"auc\":null"), "{text}");
        let back: Metrics = serde_json::from_str(&text).unwrap();
        assert!(back.auc.is_nan() && back.gauc.is_nan() && back.rows == 0);
        let ok: Metrics =
            serde_json::from_str(r#"{"auc":0.5,"gauc":0.25,"logloss":1.0,"rows":3}"#).unwrap();
        assert_eq!((ok.auc, ok.gauc, ok.rows), (0.5, 0.25, 3));
    }

    #[test]
    fn auc_hand_computed() {
        // positives 0.9, 0.4; negatives 0.5, 0.1 → pairs: (0.9>0.5) (0.9>0.1) (0.4<0.5) (0.4>0.1) → 3/4
        assert_eq!(
            auc(&[0.9, 0.4, 0.5, 0.1], &[1.0, 1.0, 0.0, 0.0]),
            Some(0.75)
        );
        // a tie between a positive and a negative counts one half: pairs 1 + 0.5 + 1 + 1 = 3.5 / 4
        assert_eq!(
            auc(&[0.9, 0.5, 0.5, 0.1], &[1.0, 1.0, 0.0, 0.0]),
            Some(0.875)
        );
        assert_eq!(auc(&[0.3, 0.3, 0.3], &[1.0, 0.0, 1.0]), Some(0.5));
        assert_eq!(auc(&[0.1, 0.2], &[1.0, 1.0]), None);
        assert_eq!(auc(&[0.1, 0.9], &[1.0, 0.0]), Some(0.0));
    }

    #[test]
    fn gauc_weights_users_by_rows_and_skips_one_class() {
        let scores = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.5];
        let labels = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let users = [1, 1, 2, 2, 2, 2, 3];
        // user 1: AUC 1 (2 rows); user 2: positives 0.2, 0.7 vs negatives 0.8, 0.3 → 1/4 (4 rows)
        // user 3: one class, skipped → (1·2 + 0.25·4) / 6 = 0.5
        let g = gauc(&scores, &labels, &users).unwrap();
        assert!((g - 0.5).abs() < 1e-12, "{g}");
        assert_eq!(gauc(&[0.1], &[1.0], &[1]), None);
    }

    #[test]
    fn gauc_sums_users_in_id_order_to_the_last_bit() {
        // 3,000 users with AUCs and row counts of very different sizes: an unordered sum (the
        // HashMap it used) rounds differently from run to run
        let (mut s, mut l, mut u) = (Vec::new(), Vec::new(), Vec::new());
        for user in 0..3000u32 {
            let rows = 2 + (user * 7919 % 13) as usize;
            for r in 0..rows {
                s.push(((user as usize * 31 + r * 17) % 101) as f32 / 101.0);
                l.push(if r % 2 == 0 { 1.0 } else { 0.0 });
                u.push(3000 - user); // ids not in file order
            }
        }
        let got = gauc(&s, &l, &u).unwrap();
        // the same sum, in ascending user id, written out
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for user in 1..=3000u32 {
            let rows: Vec<usize> = (0..u.len()).filter(|&i| u[i] == user).collect();
            let ss: Vec<f32> = rows.iter().map(|&i| s[i]).collect();
            let ll: Vec<f32> = rows.iter().map(|&i| l[i]).collect();
            if let Some(a) = auc(&ss, &ll) {
                num += a * rows.len() as f64;
                den += rows.len() as f64;
            }
        }
        assert_eq!(got.to_bits(), (num / den).to_bits());
        for _ in 0..5 {
            assert_eq!(gauc(&s, &l, &u).unwrap().to_bits(), got.to_bits());
        }
    }

    #[test]
    fn logloss_hand_computed() {
        let l = logloss(&[0.8, 0.25], &[1.0, 0.0]);
        let want = -((0.8f64).ln() + (0.75f64).ln()) / 2.0;
        assert!((l - want).abs() < 1e-6, "{l} {want}");
        assert!(logloss(&[0.0], &[1.0]).is_finite());
    }

    #[test]
    fn roc_area_equals_auc() {
        let scores = [0.9, 0.5, 0.5, 0.1, 0.7, 0.3, 0.3, 0.8];
        let labels = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let pts = roc_points(&scores, &labels);
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(1.0, 1.0)));
        let a = auc(&scores, &labels).unwrap();
        assert!((area(&pts) - a).abs() < 1e-12, "{} {a}", area(&pts));
    }

    #[test]
    fn rela_impr_matches_paper_definition() {
        // official DIN repo, Amazon(Electro) GAUC: DIN with Dice 0.8711 vs PNN 0.8679
        let r = rela_impr(0.8711, 0.8679);
        assert!((r - 0.8698).abs() < 1e-3, "{r}");
        assert_eq!(rela_impr(0.75, 0.75), 0.0);
    }
}
