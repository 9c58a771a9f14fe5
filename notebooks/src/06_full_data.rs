//! Source of `notebooks/06_full_data.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 6 完整数据 · Full Amazon-Electronics data
//
// 教程只用了 100 行的样本。DIN 论文用的是完整的 Amazon-Electronics（2014 年的 Amazon 商品数据，5-core 评论：约 19 万用户、6.3 万商品、801 个类别、169 万条评论）。同一套流程用命令行 `din` 在完整数据上运行：
//
// The tutorial uses a 100-row sample. The DIN paper used the full Amazon-Electronics data (the 2014 Amazon product data, 5-core reviews: about 192k users, 63k items, 801 categories, 1.69M reviews). The same pipeline runs on the full files with the `din` command line:
//
// ```sh
// cargo build --release -p din-cli   # or: cargo install --path crates/din-cli
// din data fetch-raw                                       # reviews_Electronics_5.json.gz, meta_Electronics.json.gz → data/raw/
// din data prepare-raw --reviews data/raw/reviews_Electronics_5.json.gz \
//                      --meta data/raw/meta_Electronics.json.gz --out data/electronics.csv
// din data split --input data/electronics.csv --out runs/electronics-split   # Parquet train/val/test
// din train --data runs/electronics-split --model din  --out runs/electronics-din
// din train --data runs/electronics-split --model base --out runs/electronics-base
// din eval --run runs/electronics-din
// ```
//
// （`din --help` 列出所有选项；CUDA：用 `--features cuda` 构建并加 `--device cuda`，见 environment.md。）文件在 `data/electronics.csv` 时，本笔记本读入它、画出序列长度分布，并显示 `runs/electronics-din` 与 `runs/electronics-base` 两个训练结果（若已训练）的曲线和指标；文件不在时跳过并说明。
//
// (`din --help` lists every option; CUDA: build with `--features cuda` and pass `--device cuda`, see environment.md.) When `data/electronics.csv` is present this notebook reads it, plots the history-length distribution and shows the curves and metrics of the runs `runs/electronics-din` and `runs/electronics-base` when they have been trained; when it is absent it says so and skips.
// %% [markdown setup]
// %% [setup]
// %% [imports]
use din_teach::prelude::*;
// %%
din::tune_process();
// 从仓库根目录运行：两个版本（notebooks/ 和 notebooks/student/）都用同一个 data/、out/、runs/ · run from the repository root, so both editions use the same data/, out/, runs/
enter_repo_root()?;
// DIN_FULL_CSV may point elsewhere (e.g. a synthetic Amazon-scale world, `din data synth --world amazon`)
let full: PathBuf = std::env::var("DIN_FULL_CSV").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("data/electronics.csv"));
let present: bool = full.is_file();
if present {
    println!("found {}: using it", full.display());
} else {
    println!("SKIPPED: {} is not here. Get it with `din data fetch-raw` and `din data prepare-raw` (commands above); the cells below then show the data and the runs.", full.display());
}
// %%
let t0: Instant = Instant::now();
let ds: Option<Dataset> = if present {
    let events = Events::read_csv(&full)?;
    let ds = build(&events, SplitConfig::default())?;
    let s = &ds.stats;
    println!("{} events, {} users, {} items, {} categories (read and split in {:.0} s)", s.events, s.users, s.items, s.cates, t0.elapsed().as_secs_f64());
    println!("rows: train {}, val {}, test {}; mean train history length {:.1}", s.train_rows, s.val_rows, s.test_rows, s.mean_train_history);
    Some(ds)
} else {
    println!("skipped (no data)");
    None
};
// %%
// history length of the test rows: how much history does DIN get to attend over?
match &ds {
    Some(ds) => {
        let mut counts = vec![0f64; 51];
        for r in 0..ds.test.len() { counts[(ds.test.hist_len[r] as usize).min(50)] += 1.0; }
        let bins: Vec<(f64, f64)> = counts.iter().enumerate().skip(1).map(|(k, &c)| (k as f64, c)).collect();
        plot::histogram("历史长度分布 history length of test rows", "历史长度 history length (items, capped at max_len 50)", "测试行数 test rows", &bins)?.evcxr_display();
    }
    None => println!("skipped (no data)"),
}
// %%
// runs trained with the CLI (see the commands above)
let mut found: Vec<(String, RunMetrics, History)> = Vec::new();
for (name, dir) in [("DIN", "runs/electronics-din"), ("base", "runs/electronics-base")] {
    match read_reports(Path::new(dir)) {
        Ok((Some(m), Some(h))) => found.push((name.to_string(), m, h)),
        _ => println!("{dir}: no trained run (train it with `din train`, commands above)"),
    }
}
for (name, m, h) in &found {
    match &m.test {
        Some(t) => println!("{name:<5} test {t}; best epoch {} of {}; {:.0} samples/s", m.best_epoch, m.epochs_run, m.train_samples_per_s),
        None => println!("{name:<5} best val AUC {:.4} (epoch {}), no test metrics", m.best_val_auc, m.best_epoch),
    }
    let _ = h;
}
if found.len() == 2 {
    if let (Some(a), Some(b)) = (&found[0].1.test, &found[1].1.test) {
        println!("RelaImpr DIN over base: {:+.2}%", rela_impr(a.auc, b.auc));
    }
}
if !found.is_empty() {
    let val: Vec<Series> = found.iter().map(|(n, _, h)| Series::new(n.clone(), h.epochs.iter().map(|e| (e.epoch as f64, e.val.auc)).collect())).collect();
    plot::lines("完整数据 full data: validation AUC per epoch", "轮次 epoch", "验证集 AUC validation AUC", &val)?.evcxr_display();
}
// %% [markdown]
// **参考 Reference.** DIN 官方仓库更正后的 Amazon(Electro) GAUC：PNN 0.8679、DeepFM 0.8683、DIN 0.8698、DIN with Dice 0.8711（官方仓库的划分、特征和负采样与本项目不同，数字不能直接比较，但量级可以参考：真实数据上 DIN 的提升很小）。
//
// The official DIN repository's corrected Amazon(Electro) GAUC: PNN 0.8679, DeepFM 0.8683, DIN 0.8698, DIN with Dice 0.8711 (its split, features and negative sampling differ from this project's, so the numbers are not directly comparable; the scale is: on real data DIN's gain is small).
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **只有一个事件的用户**（代码）：写 `single_event_users(events)`：哪些用户只有一个事件（split 无法为他们生成任何样本）？按 id 从小到大返回他们的 id。检查单元核对这个列表，个数和 `din::data::build` 的统计比较（统计只有个数，没有名单）。在完整数据上，这样的用户有多少（上面的统计）？
// 2. **平均历史长度**（代码）：写 `mean_train_history(events_per_user, max_len)`：只给每个用户的事件数 `events_per_user`，返回 `(直方图, 平均)`：无泄漏划分的训练行（正负样本都算）的历史长度直方图（第 l 项 = 历史长度为 l 的行数）和平均历史长度，历史截断到最近 `max_len` 个事件。检查单元数出随机事件日志里每个用户的事件数交给你的函数，再和 `din::data::build` 对同一日志的划分比较（split 要的是事件而不是个数，所以直接调用它过不了检查；它的统计里也只有平均值）。提示：一个有 n 个事件的用户，第 k 个目标（k = 1 … n − 3）的历史长度是 min(k, max_len)，正负样本各一行，历史相同。
// 3. **思考**：真实数据的平均历史比演示世界长还是短？按笔记本 5 的练习 3，这对 DIN 相对传统模型的提升意味着什么？
//
// 1. **Users with a single event** (code): write `single_event_users(events)`: which users have exactly one event (the split can make no sample of them)? Return their ids in increasing order. The check looks at the list and compares its length with `din::data::build`'s statistics (which give the count, not the users). How many such users does the full data have (statistics above)?
// 2. **Mean history length** (code): write `mean_train_history(events_per_user, max_len)`: given only each user's number of events, return `(histogram, mean)`: the histogram of the history lengths of the leak-free split's training rows (positives and negatives; entry l = the rows whose history has length l) and their mean, histories cut to the newest `max_len` events. The check counts each user's events in random event logs, hands the counts to your function and compares with `din::data::build`'s split of the same logs (the split takes events, not counts, so calling it does not pass; its statistics hold only the mean anyway). Hint: for a user with n events, the k-th target (k = 1 … n − 3) has a history of min(k, max_len), one positive and one negative row with that history.
// 3. **Think**: are the real histories longer or shorter than the demo world's? After notebook 5's exercise 3, what does that mean for DIN's gain over the base model?
// %% [exercise]
fn single_event_users(events: &Events) -> Vec<i64> {
    // 提示 hint: `BTreeMap<i64, usize>` 数每个用户的事件（`events.user`），它的键已经有序；留下个数为 1 的。
    // count each user's events (`events.user`) in a `BTreeMap<i64, usize>`, whose keys are ordered; keep those with a count of 1.
    // BEGIN SOLUTION
    let mut n: BTreeMap<i64, usize> = BTreeMap::new();
    for &u in &events.user {
        *n.entry(u).or_insert(0) += 1;
    }
    n.iter().filter(|(_, c)| **c == 1).map(|(u, _)| *u).collect()
    // END SOLUTION
}
// %% [check]
exercises::check_single_event_users(single_event_users);
// %% [exercise]
fn mean_train_history(events_per_user: &[usize], max_len: usize) -> (Vec<usize>, f64) {
    // 提示 hint: 一个有 n 个事件的用户，第 k 个目标（k = 1 … n − 3）的历史长度是 min(k, max_len)，正负样本各一行（所以每个 k 加 2）；n < 4 时没有训练行；空直方图的平均是 0。
    // a user with n events has targets k = 1 … n − 3 with histories of min(k, max_len), one positive and one negative row each (add 2 per k); n < 4 gives no training row; the mean of an empty histogram is 0.
    // BEGIN SOLUTION
    let mut hist = vec![0usize; max_len + 1];
    for &c in events_per_user {
        for k in 1..c.saturating_sub(2) {
            hist[k.min(max_len)] += 2; // a positive and a negative with this history
        }
    }
    let rows: usize = hist.iter().sum();
    let sum: usize = hist.iter().enumerate().map(|(len, &r)| len * r).sum();
    (hist, if rows == 0 { 0.0 } else { sum as f64 / rows as f64 })
    // END SOLUTION
}
// %% [check]
exercises::check_mean_train_history(mean_train_history);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 3. 更短：完整数据约 169 万条评论、19 万用户（本笔记本开头），平均每个用户约 8.8 个事件，而且是 5-core（每个用户至少 5 个）；演示世界每个用户 12–24 个事件。训练行的历史是每个目标之前的事件，所以还要更短（练习 2 的函数在完整数据上算出它）。按笔记本 5 的练习 3 和 5.5：历史越短、兴趣越少，注意力相对平均池化的好处越小。官方仓库在这份数据上 DIN 只比 DeepFM 高 0.0015 GAUC（上面的参考数字），与此一致。
//
// 3. Shorter: the full data has about 1.69 million reviews from 192k users (the top of this notebook), about 8.8 events per user on average, 5-core (at least 5 each); the demo world has 12–24 per user. A training row's history is the events before its target, shorter still (exercise 2's function computes it on the full data). After notebook 5's exercise 3 and 5.5: the shorter the histories and the fewer the interests, the less attention gains over mean pooling. The official repository has DIN only 0.0015 GAUC above DeepFM on these data (the reference above), which agrees.
// %% [end]
    Ok(())
}
