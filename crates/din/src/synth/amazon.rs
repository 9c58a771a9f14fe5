//! An Amazon-scale world with the shape of the 5-core Electronics data the DIN paper used:
//! by default 192,403 users, 63,001 items and 801 categories, about 1.69M events, at least 5
//! events per user with a heavy tail, popularity-skewed categories and items, and planted
//! multi-interest structure (categories grouped into latent interests; each user holds a few,
//! each click picks one of the user's interests, then a category and an item in it).
//!
//! ```
//! use din::synth::amazon::{generate, AmazonConfig};
//! let cfg = AmazonConfig { users: 100, items: 300, cates: 20, interests: 4, seed: 1 };
//! let (world, events) = generate(&cfg);
//! assert_eq!((world.item_cate.len(), world.cate_interest.len()), (300, 20));
//! let mut per_user = vec![0; cfg.users];
//! events.user.iter().for_each(|&u| per_user[u as usize] += 1);
//! assert!(per_user.iter().all(|&n| n >= 5)); // 5-core: at least 5 events per user
//! // every event carries its item's category from the ground truth
//! assert!((0..events.len()).all(|r| world.item_cate[events.item[r] as usize] == events.cate[r] as usize));
//! assert_eq!(generate(&cfg).1, events); // same seed, same log
//! ```

use super::zipf_cumulative;
use crate::data::Events;
use crate::rng::Rng;

/// Size and seed of the Amazon-scale world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmazonConfig {
    /// Number of users (raw ids `0..users`), each with at least 5 events.
    pub users: usize,
    /// Number of items (raw ids `0..items`); raised to `cates` if smaller, so every category has
    /// an item.
    pub items: usize,
    /// Number of categories (raw ids `0..cates`, at least 1).
    pub cates: usize,
    /// Latent interests (groups of categories).
    pub interests: usize,
    /// Seed of the catalogue and of every user's event stream: same seed, same log.
    pub seed: u64,
}

impl Default for AmazonConfig {
    fn default() -> Self {
        AmazonConfig {
            users: 192_403,
            items: 63_001,
            cates: 801,
            interests: 120,
            seed: 2026,
        }
    }
}

/// Ground truth of a generated Amazon-scale world.
#[derive(Debug, Clone, PartialEq)]
pub struct AmazonWorld {
    /// Category of each item (raw ids are indices).
    pub item_cate: Vec<usize>,
    /// Latent interest of each category.
    pub cate_interest: Vec<usize>,
}

impl AmazonWorld {
    /// Interest of an item.
    pub fn item_interest(&self, item: usize) -> Option<usize> {
        self.item_cate.get(item).map(|&c| self.cate_interest[c])
    }
}

/// Events per user: 5 plus a Lomax (Pareto II) tail, shape 2.2; mean ≈ 8.8, as in 5-core Electronics.
fn events_per_user(rng: &mut Rng) -> usize {
    let (shape, scale) = (2.2f64, 5.05f64);
    let u = 1.0 - rng.f64();
    let x = scale * (u.powf(-1.0 / shape) - 1.0);
    5 + (x.min(2_000.0)) as usize
}

/// Generate the world's catalogue and its interaction log.
pub fn generate(cfg: &AmazonConfig) -> (AmazonWorld, Events) {
    let cat = Catalogue::new(cfg);
    let mut ev = Events::default();
    for u in 0..cfg.users {
        cat.user_events(cfg.seed, u, &mut ev);
    }
    (
        AmazonWorld {
            item_cate: cat.item_cate,
            cate_interest: cat.cate_interest,
        },
        ev,
    )
}

/// The world's catalogue and the cumulative weights its users draw from.
struct Catalogue {
    /// Interest of each category.
    cate_interest: Vec<usize>,
    /// Category of each item.
    item_cate: Vec<usize>,
    /// Items of each category.
    cate_items: Vec<Vec<usize>>,
    /// Zipf popularity inside each category (cumulative).
    item_cum: Vec<Vec<f64>>,
    /// Categories of each interest.
    interest_cates: Vec<Vec<usize>>,
    /// Inside each interest, categories weighted by their item count (cumulative).
    cate_cum: Vec<Vec<f64>>,
    /// Interests weighted by their item count (cumulative).
    interest_cum: Vec<f64>,
}

impl Catalogue {
    fn new(cfg: &AmazonConfig) -> Catalogue {
        let n_cates = cfg.cates.max(1);
        let n_items = cfg.items.max(n_cates);
        let n_interests = cfg.interests.clamp(1, n_cates);
        let mut rng = Rng::new(cfg.seed);

        // Categories → interests (each interest gets at least one category).
        let mut cate_interest: Vec<usize> = (0..n_cates).map(|c| c % n_interests).collect();
        rng.shuffle(&mut cate_interest);
        // Items → categories, category sizes skewed (every category has at least one item).
        let cate_size_cum = zipf_cumulative(n_cates, 0.9);
        let mut item_cate: Vec<usize> = (0..n_cates).collect();
        for _ in n_cates..n_items {
            item_cate.push(rng.pick_cumulative(&cate_size_cum));
        }
        rng.shuffle(&mut item_cate);
        let mut cate_items: Vec<Vec<usize>> = vec![Vec::new(); n_cates];
        for (i, &c) in item_cate.iter().enumerate() {
            cate_items[c].push(i);
        }
        // Popularity: Zipf inside each category (items in random order).
        let item_cum: Vec<Vec<f64>> = cate_items
            .iter()
            .map(|v| zipf_cumulative(v.len(), 1.0))
            .collect();
        let mut interest_cates: Vec<Vec<usize>> = vec![Vec::new(); n_interests];
        for (c, &g) in cate_interest.iter().enumerate() {
            interest_cates[g].push(c);
        }
        // A category is clicked in proportion to its number of items, so that (as in 5-core
        // data) every item gets clicked; popularity skew comes from the Zipf inside each category.
        let cate_cum: Vec<Vec<f64>> = interest_cates
            .iter()
            .map(|cs| {
                let mut acc = 0.0;
                cs.iter()
                    .map(|&c| {
                        acc += cate_items[c].len() as f64;
                        acc
                    })
                    .collect()
            })
            .collect();
        // Interests are held in proportion to their number of items (big interests, more fans).
        let mut acc = 0.0;
        let interest_cum: Vec<f64> = interest_cates
            .iter()
            .map(|cs| {
                acc += cs.iter().map(|&c| cate_items[c].len() as f64).sum::<f64>();
                acc
            })
            .collect();
        Catalogue {
            cate_interest,
            item_cate,
            cate_items,
            item_cum,
            interest_cates,
            cate_cum,
            interest_cum,
        }
    }

    /// User `u`'s events, from the user's own stream of `seed`, appended to `ev`.
    fn user_events(&self, seed: u64, u: usize, ev: &mut Events) {
        let n_interests = self.interest_cates.len();
        let mut r = Rng::stream(seed, u as u64 + 1);
        let n = events_per_user(&mut r);
        // 1–6 interests, more for longer histories.
        let k = (1 + r.below(3) as usize + n / 12).min(6).min(n_interests);
        let mut mine: Vec<usize> = Vec::with_capacity(k);
        while mine.len() < k {
            let g = r.pick_cumulative(&self.interest_cum);
            if !mine.contains(&g) {
                mine.push(g);
            }
        }
        let mut day = 1_000_000_000i64 / 86_400 + r.below(3_000) as i64;
        for _ in 0..n {
            let g = mine[r.below(k as u64) as usize];
            let c = self.interest_cates[g][r.pick_cumulative(&self.cate_cum[g])];
            // a quarter of clicks explore uniformly inside the category (so every item is
            // clicked, as in 5-core data), the rest follow the category's Zipf popularity
            let j = if r.f64() < 0.25 {
                r.below(self.cate_items[c].len() as u64) as usize
            } else {
                r.pick_cumulative(&self.item_cum[c])
            };
            let item = self.cate_items[c][j];
            // day-granular timestamps, as in the Amazon dumps: same-day ties happen
            ev.push(u as i64, item as i64, day * 86_400, c as i64);
            day += r.below(40) as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_world_has_the_shape() {
        let cfg = AmazonConfig {
            users: 20_000,
            items: 6_000,
            cates: 80,
            interests: 12,
            seed: 1,
        };
        let (w, ev) = generate(&cfg);
        let mut per_user = vec![0usize; cfg.users];
        for &u in &ev.user {
            per_user[u as usize] += 1;
        }
        assert!(per_user.iter().all(|&n| n >= 5));
        let mean = ev.len() as f64 / cfg.users as f64;
        assert!((8.3..9.3).contains(&mean), "mean events per user {mean}");
        let max = *per_user.iter().max().unwrap();
        assert!(max >= 60, "heavy tail: longest history {max}");
        // popularity skew: the top 1% of items take a large share of events
        let mut counts = vec![0usize; cfg.items];
        for &i in &ev.item {
            counts[i as usize] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top: usize = counts[..cfg.items / 100].iter().sum();
        assert!(
            top as f64 > 0.1 * ev.len() as f64,
            "top-1% share {}",
            top as f64 / ev.len() as f64
        );
        // categories in the log agree with the catalogue
        for r in 0..ev.len() {
            assert_eq!(w.item_cate[ev.item[r] as usize], ev.cate[r] as usize);
        }
        // multi-interest: users' events concentrate on few interests
        let mut interests = vec![std::collections::BTreeSet::new(); cfg.users];
        for r in 0..ev.len() {
            interests[ev.user[r] as usize].insert(w.item_interest(ev.item[r] as usize).unwrap());
        }
        assert!(interests.iter().all(|s| s.len() <= 6));
        assert!(interests.iter().filter(|s| s.len() >= 2).count() > cfg.users / 2);
        assert_eq!(generate(&cfg).1, ev);
    }
}
