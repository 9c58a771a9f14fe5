//! The "demo" world: the tutorial's example made real. Twelve named interest groups (篮球, 时尚,
//! 美妆, 数码, …) of eight named items each; categories are finer than interests and some are
//! shared across interests (篮球鞋, 高跟鞋, 登山鞋 and 跑步鞋 are all 鞋靴), so the category alone
//! does not reveal the interest. Every user holds a few interests and, at each click, picks one of
//! them and an item inside it (popular items more often). A random negative is usually from an
//! interest the user does not hold, so the question "does this candidate match one of the user's
//! interests?" decides most labels, and attention that looks for the candidate's interest in the
//! history is exactly the right tool — the lesson of the tutorial.
//!
//! ```
//! use din::synth::demo::{DemoConfig, DemoWorld, INTERESTS};
//! let world = DemoWorld::new();
//! assert_eq!(world.items.len(), INTERESTS.len() * 8); // twelve interests of eight items
//! let lipstick = world.item(world.item_id("lipstick").unwrap()).unwrap();
//! assert_eq!((lipstick.name.as_str(), world.interest_name(lipstick.interest)), ("口红", "美妆"));
//! let cfg = DemoConfig { users: 3, events: (4, 6), seed: 7, ..Default::default() };
//! let events = world.generate(&cfg);
//! assert!((12..=18).contains(&events.len())); // 3 users × 4–6 events
//! assert_eq!(events, world.generate(&cfg)); // same seed, same log
//! assert_ne!(events, world.generate(&DemoConfig { seed: 8, ..cfg }));
//! ```

use super::zipf_cumulative;
use crate::data::Events;
use crate::rng::Rng;

/// One interest group of the demo world.
#[derive(Debug, Clone, Copy)]
pub struct Interest {
    /// Chinese name of the group (篮球, 时尚, …); [`DemoWorld::interest_name`] returns it.
    pub name: &'static str,
    /// English name of the group.
    pub name_en: &'static str,
    /// (item, item in English, category)
    pub items: [(&'static str, &'static str, &'static str); 8],
}

/// The catalogue. Item raw ids are positions in this table (group-major), category raw ids are
/// positions in [`DemoWorld::cates`].
pub const INTERESTS: [Interest; 12] = [
    Interest {
        name: "篮球",
        name_en: "basketball",
        items: [
            ("篮球鞋", "basketball shoes", "鞋靴"),
            ("篮球", "basketball", "球类"),
            ("护腕", "wristband", "运动护具"),
            ("球衣", "jersey", "运动服"),
            ("护膝", "knee pads", "运动护具"),
            ("篮球架", "hoop", "球类"),
            ("运动袜", "sports socks", "运动服"),
            ("打气筒", "ball pump", "球类"),
        ],
    },
    Interest {
        name: "时尚",
        name_en: "fashion",
        items: [
            ("连衣裙", "dress", "女装"),
            ("高跟鞋", "high heels", "鞋靴"),
            ("手提包", "handbag", "箱包"),
            ("围巾", "scarf", "配饰"),
            ("风衣", "trench coat", "女装"),
            ("墨镜", "sunglasses", "配饰"),
            ("半身裙", "skirt", "女装"),
            ("耳环", "earrings", "配饰"),
        ],
    },
    Interest {
        name: "美妆",
        name_en: "beauty",
        items: [
            ("口红", "lipstick", "彩妆"),
            ("粉底液", "foundation", "彩妆"),
            ("眼影", "eyeshadow", "彩妆"),
            ("香水", "perfume", "香水"),
            ("面膜", "face mask", "护肤"),
            ("睫毛膏", "mascara", "彩妆"),
            ("精华液", "serum", "护肤"),
            ("卸妆水", "makeup remover", "护肤"),
        ],
    },
    Interest {
        name: "数码",
        name_en: "digital",
        items: [
            ("手机", "phone", "手机"),
            ("耳机", "earphones", "影音"),
            ("平板电脑", "tablet", "电脑"),
            ("充电宝", "power bank", "配件"),
            ("智能手表", "smartwatch", "穿戴"),
            ("数据线", "cable", "配件"),
            ("蓝牙音箱", "speaker", "影音"),
            ("键盘", "keyboard", "电脑"),
        ],
    },
    Interest {
        name: "厨房",
        name_en: "kitchen",
        items: [
            ("炒锅", "wok", "锅具"),
            ("电饭煲", "rice cooker", "厨电"),
            ("菜刀", "kitchen knife", "刀具"),
            ("砧板", "cutting board", "刀具"),
            ("空气炸锅", "air fryer", "厨电"),
            ("保温杯", "thermos", "杯壶"),
            ("咖啡机", "coffee machine", "厨电"),
            ("汤锅", "stock pot", "锅具"),
        ],
    },
    Interest {
        name: "图书",
        name_en: "books",
        items: [
            ("小说", "novel", "文学"),
            ("漫画", "comics", "动漫"),
            ("历史书", "history book", "社科"),
            ("菜谱", "cookbook", "生活"),
            ("词典", "dictionary", "工具书"),
            ("诗集", "poetry", "文学"),
            ("绘本", "picture book", "童书"),
            ("编程书", "programming book", "科技"),
        ],
    },
    Interest {
        name: "户外",
        name_en: "outdoor",
        items: [
            ("帐篷", "tent", "露营"),
            ("登山鞋", "hiking boots", "鞋靴"),
            ("睡袋", "sleeping bag", "露营"),
            ("登山杖", "trekking poles", "登山"),
            ("冲锋衣", "rain jacket", "户外服"),
            ("头灯", "headlamp", "露营"),
            ("水壶", "water bottle", "杯壶"),
            ("背包", "backpack", "箱包"),
        ],
    },
    Interest {
        name: "母婴",
        name_en: "baby",
        items: [
            ("奶粉", "formula", "奶粉"),
            ("纸尿裤", "diapers", "尿裤"),
            ("奶瓶", "baby bottle", "喂养"),
            ("婴儿车", "stroller", "出行"),
            ("安抚奶嘴", "pacifier", "喂养"),
            ("湿巾", "wipes", "洗护"),
            ("婴儿床", "crib", "家具"),
            ("爬行垫", "play mat", "玩具"),
        ],
    },
    Interest {
        name: "宠物",
        name_en: "pets",
        items: [
            ("猫粮", "cat food", "主粮"),
            ("狗粮", "dog food", "主粮"),
            ("猫砂", "cat litter", "清洁"),
            ("逗猫棒", "cat teaser", "玩具"),
            ("牵引绳", "leash", "出行"),
            ("宠物窝", "pet bed", "家具"),
            ("猫抓板", "scratching board", "玩具"),
            ("宠物零食", "pet treats", "零食"),
        ],
    },
    Interest {
        name: "游戏",
        name_en: "gaming",
        items: [
            ("游戏机", "game console", "主机"),
            ("游戏手柄", "gamepad", "外设"),
            ("电竞鼠标", "gaming mouse", "外设"),
            ("机械键盘", "mechanical keyboard", "外设"),
            ("游戏耳机", "gaming headset", "影音"),
            ("显示器", "monitor", "电脑"),
            ("电竞椅", "gaming chair", "家具"),
            ("游戏卡带", "game cartridge", "软件"),
        ],
    },
    Interest {
        name: "健身",
        name_en: "fitness",
        items: [
            ("瑜伽垫", "yoga mat", "健身器材"),
            ("哑铃", "dumbbells", "健身器材"),
            ("跑步鞋", "running shoes", "鞋靴"),
            ("蛋白粉", "protein powder", "营养"),
            ("跳绳", "jump rope", "健身器材"),
            ("运动手环", "fitness band", "穿戴"),
            ("健身服", "gym wear", "运动服"),
            ("泡沫轴", "foam roller", "健身器材"),
        ],
    },
    Interest {
        name: "茶饮",
        name_en: "tea",
        items: [
            ("绿茶", "green tea", "茶叶"),
            ("红茶", "black tea", "茶叶"),
            ("茶具", "tea set", "茶具"),
            ("普洱", "pu'er tea", "茶叶"),
            ("茶杯", "tea cup", "茶具"),
            ("花茶", "flower tea", "茶叶"),
            ("茶盘", "tea tray", "茶具"),
            ("蜂蜜", "honey", "冲饮"),
        ],
    },
];

/// Interests that tend to go together (篮球 & 健身, 时尚 & 美妆, …): a user who holds one often
/// holds its partner too. This is what makes 连衣裙 relevant to a 口红 candidate in the tutorial's
/// example, while 篮球鞋 is not.
pub const PARTNERS: [(usize, usize); 6] = [(0, 10), (1, 2), (3, 9), (4, 11), (7, 8), (5, 6)];

/// The partner interest of `g`.
pub fn partner(g: usize) -> Option<usize> {
    PARTNERS.iter().find_map(|&(a, b)| {
        if a == g {
            Some(b)
        } else if b == g {
            Some(a)
        } else {
            None
        }
    })
}

/// Knobs of the demo world's users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoConfig {
    /// Number of users (raw ids `0..users`).
    pub users: usize,
    /// Interests per user, inclusive range.
    pub interests: (usize, usize),
    /// Events per user, inclusive range.
    pub events: (usize, usize),
    /// Probability that a user's next interest is the partner of one they already hold.
    pub partner_prob: f64,
    /// Seed of every user's stream: same seed, same log.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            users: 2000,
            interests: (3, 5),
            events: (12, 24),
            partner_prob: 0.6,
            seed: 2026,
        }
    }
}

/// One item of the demo world.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoItem {
    /// Chinese name (口红, …).
    pub name: String,
    /// English name (lipstick, …).
    pub name_en: String,
    /// Index of the item's interest group in [`INTERESTS`].
    pub interest: usize,
    /// Category raw id: the index of its name in [`DemoWorld::cates`].
    pub cate: usize,
}

/// The demo world's catalogue and ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoWorld {
    /// Every item; an item's raw id is its index (group-major, eight per group).
    pub items: Vec<DemoItem>,
    /// Category names; a category's raw id is its index.
    pub cates: Vec<String>,
}

impl Default for DemoWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoWorld {
    /// The fixed catalogue.
    pub fn new() -> Self {
        let mut cates: Vec<String> = Vec::new();
        let mut items = Vec::new();
        for (g, group) in INTERESTS.iter().enumerate() {
            for (name, en, cate) in group.items {
                let c = match cates.iter().position(|c| c == cate) {
                    Some(c) => c,
                    None => {
                        cates.push(cate.to_string());
                        cates.len() - 1
                    }
                };
                items.push(DemoItem {
                    name: name.to_string(),
                    name_en: en.to_string(),
                    interest: g,
                    cate: c,
                });
            }
        }
        DemoWorld { items, cates }
    }

    /// Raw item id of an item name (Chinese or English).
    pub fn item_id(&self, name: &str) -> Option<i64> {
        self.items
            .iter()
            .position(|it| it.name == name || it.name_en == name)
            .map(|i| i as i64)
    }

    /// The item with raw id `id`.
    pub fn item(&self, id: i64) -> Option<&DemoItem> {
        usize::try_from(id).ok().and_then(|i| self.items.get(i))
    }

    /// Interest group name of an interest index.
    pub fn interest_name(&self, interest: usize) -> &'static str {
        INTERESTS.get(interest).map_or("?", |g| g.name)
    }

    /// Generate the interaction log.
    pub fn generate(&self, cfg: &DemoConfig) -> Events {
        let per_group = INTERESTS[0].items.len();
        let within = zipf_cumulative(per_group, 0.8);
        let groups = INTERESTS.len();
        let (imin, imax) = (
            cfg.interests.0.clamp(1, groups),
            cfg.interests.1.clamp(1, groups),
        );
        let (emin, emax) = (cfg.events.0.max(1), cfg.events.1.max(cfg.events.0.max(1)));
        let mut ev = Events::default();
        for u in 0..cfg.users {
            let mut rng = crate::rng::Rng::stream(cfg.seed, u as u64);
            let k = imin + rng.below((imax.max(imin) - imin + 1) as u64) as usize;
            let mut mine: Vec<usize> = Vec::with_capacity(k);
            while mine.len() < k {
                let g = match mine.last().and_then(|&h| partner(h)) {
                    Some(p) if !mine.contains(&p) && rng.f64() < cfg.partner_prob => p,
                    _ => rng.below(groups as u64) as usize,
                };
                if !mine.contains(&g) {
                    mine.push(g);
                }
            }
            let n = emin + rng.below((emax - emin + 1) as u64) as usize;
            let mut t = 1_600_000_000i64 + rng.below(86_400 * 365) as i64;
            for _ in 0..n {
                let g = mine[rng.below(k as u64) as usize];
                let j = pick(&mut rng, &within);
                let item = g * per_group + j;
                ev.push(u as i64, item as i64, t, self.items[item].cate as i64);
                t += 3_600 + rng.below(86_400 * 3) as i64;
            }
        }
        ev
    }
}

fn pick(rng: &mut Rng, cumulative: &[f64]) -> usize {
    rng.pick_cumulative(cumulative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_holds_the_tutorial_example() {
        let w = DemoWorld::new();
        assert_eq!(w.items.len(), 96);
        let g = |n: &str| w.item(w.item_id(n).unwrap()).unwrap().interest;
        assert_eq!(g("篮球鞋"), g("篮球"));
        assert_eq!(w.interest_name(g("篮球")), "篮球");
        assert_eq!(w.interest_name(g("连衣裙")), "时尚");
        assert_eq!(w.interest_name(g("口红")), "美妆");
        // categories are shared across interests (篮球鞋 and 高跟鞋 are both 鞋靴)
        let c = |n: &str| w.item(w.item_id(n).unwrap()).unwrap().cate;
        assert_eq!(c("篮球鞋"), c("高跟鞋"));
        assert_ne!(g("篮球鞋"), g("高跟鞋"));
    }

    #[test]
    fn users_stay_inside_their_interests_and_generation_is_seeded() {
        let w = DemoWorld::new();
        let cfg = DemoConfig {
            users: 50,
            ..Default::default()
        };
        let ev = w.generate(&cfg);
        assert_eq!(ev, w.generate(&cfg));
        assert_ne!(ev, w.generate(&DemoConfig { seed: 1, ..cfg }));
        for u in 0..50 {
            let rows: Vec<usize> = (0..ev.len()).filter(|&r| ev.user[r] == u).collect();
            assert!((12..=24).contains(&rows.len()));
            let mut groups: Vec<usize> = rows
                .iter()
                .map(|&r| w.items[ev.item[r] as usize].interest)
                .collect();
            groups.sort_unstable();
            groups.dedup();
            assert!(groups.len() <= 5);
            assert!(rows.windows(2).all(|p| ev.time[p[0]] < ev.time[p[1]]));
            for &r in &rows {
                assert_eq!(ev.cate[r] as usize, w.items[ev.item[r] as usize].cate);
            }
        }
    }
}
