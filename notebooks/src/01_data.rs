//! Source of `notebooks/01_data.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 1 数据 · Data
//
// > 场景：精排 CTR 预测；数据：Amazon-Electronics。
//
// *Scenario: CTR prediction for ranking (精排); data: Amazon-Electronics.*
//
// 教程的代码先读入一个 CSV（`pd.read_csv(file_path)`），再用 torch-rechub 的 `create_seq_features` 构建用户的历史行为序列特征，并划分训练集、验证集、测试集。本笔记本一步一步地做同样的事：
//
// 1. 读入数据，用 polars 看它的结构（schema）；
// 2. 每个用户按时间排序的行为序列；
// 3. 一条训练样本是怎么来的：滑动窗口（sliding window）、负采样（negative sampling）、划分（split）；
// 4. 仔细看一条样本（送进模型的 batch 长什么样）；
// 5. torch-rechub 的划分把测试样本也放进了训练集——在数据上展示出来，并和本项目的划分对比。
//
// The tutorial reads a CSV (`pd.read_csv`) and calls torch-rechub's `create_seq_features` to build each user's behaviour sequence and split train / validation / test. This notebook does the same step by step: the data and its schema (polars), per-user sequences, how one training row is built (sliding window, negative sampling, split), one row inspected, and where torch-rechub's split leaks test rows into train, shown on the data.
//
// ### 教程的代码与本项目，逐个名字对照 · The tutorial's code and this project, name by name
//
// 教程用 torch-rechub（Python）写的每一步，在这里对应的 Rust 名字（`din` 是引擎 crate，`din_teach` 是笔记本的入口 crate）。源码位置见 README 的表格。
//
// Each step the tutorial writes with torch-rechub (Python), and its Rust name here (`din` is the engine crate, `din_teach` the notebooks' door crate); the README's table gives the source files.
//
// | 教程 tutorial (torch-rechub) | 本项目 this project | 说明 notes |
// |---|---|---|
// | `create_seq_features(data, seq_feature_col=['item_id', 'cate_id'], drop_short=0)` → `train, val, test` | `din::data::build(&events, SplitConfig { drop_short: 0, .. })` → `Dataset { train, val, test, vocab, .. }` | 同样的滑动窗口和负采样；torch-rechub 的划分把测试样本放进训练集，本项目不放（本笔记本 1.5；`torch_rechub_positive_rows` 重现它的划分）· the same sliding window and negatives; torch-rechub's split puts test rows into train, this one does not (1.5 below; `torch_rechub_positive_rows` reproduces its split) |
// | `SparseFeature("target_item", vocab_size=n_items + 2, embed_dim=64)`（`target_cate`、`user_id` 同理 · likewise） | `ModelConfig::embed_dim`；表的行数 table rows `Vocab::table_rows()` = n + 2（填充行 0 + 未见过的 id · padding row 0 + unseen ids）；表名 tables `embedding.item` / `embedding.cate` / `embedding.user`（`TableId`） | 笔记本 2 · notebook 2 |
// | `SequenceFeature("history_item", ..., pooling="concat", shared_with="target_item")` | 历史和候选查同一张表（`Lookup::hist_item` 与 `Lookup::target_item` 都来自 `embedding.item`）· history and candidate read one table | 笔记本 2 · notebook 2 |
// | `df_to_dict`，`DataGenerator(x, y).generate_dataloader(..., batch_size=16)` | `Split`（列式存储 · columns），`plan_batches(&split, BatchOrder { batch_size, shuffle, bucket_by_length })`，`Batch::from_split` | 笔记本 1.4、4 · notebooks 1.4, 4 |
// | `DIN(features, history_features, target_features, mlp_params={"dims": [256, 128]}, attention_mlp_params={"dims": [256, 128]})` | `ModelConfig { mlp_dims: vec![256, 128], attention_dims: vec![256, 128], .. }`，`Model::for_vocab(&vocab, config, seed)` | **`target_features = features`**：torch-rechub 的 `DIN` 把池化后的历史、`target_features` 和 `features` 拼起来，头部 MLP 因此把候选商品、候选类目和用户各看到**两次**（8d 输入）；本项目默认各一次（5d，`HeadInput::Din`），`HeadInput::TorchRechub` 重现 8d · torch-rechub's `DIN` concatenates the pooled histories, `target_features` and `features`, so its head sees the target item, target category and user **twice** (8d input); here once each by default (5d, `HeadInput::Din`), `HeadInput::TorchRechub` reproduces the 8d |
// | `ActivationUnit(emb_dim, dims, activation="dice", use_softmax=False)` | `din::model::ActivationUnit`（`ActivationUnitConfig`），`WeightNorm::None` = `use_softmax=False` | 本项目的教程配置用 masked softmax（笔记本 3.4 说明原因）· this project's tutorial configuration uses a masked softmax (notebook 3.4 says why) |
// | `MLP(all_dims, activation="dice", dims=...)`：Linear → BatchNorm1d → Dice → Dropout | `din::model::Mlp`，`Activation::Dice`；`ModelConfig::batch_norm` 开关 BatchNorm · switches the BatchNorm | 笔记本 4.7 · notebook 4.7 |
// | `CTRTrainer(model, optimizer_params={"lr": 1e-3, "weight_decay": 1e-3}, n_epoch=3, earlystop_patience=4)`，`.fit(train_dl, val_dl)` | `TrainConfig { lr, weight_decay, epochs, patience, .. }`，`din::train::fit(&mut model, &train, &val, &config, &mut progress)` | `fit` 总是恢复最好的 epoch（笔记本 4 开头）· `fit` always restores the best epoch (top of notebook 4) |
// | `ctr_trainer.evaluate(model, test_dataloader)`（AUC） | `din::train::evaluate(&model, &test, batch_size)` → `Metrics { auc, gauc, logloss, rows }`；命令行 CLI `din eval` | 笔记本 4 · notebook 4 |
// | 模型的 `state_dict` · a model's `state_dict` | `din export` / `din import`（`din::interop`） | 与 torch-rechub 互相导入导出权重 · weights to and from torch-rechub |
// %% [markdown setup]
// %% [setup]
// %% [imports]
use din_teach::prelude::*;
// %%
din::tune_process();
// 从仓库根目录运行：两个版本（notebooks/ 和 notebooks/student/）都用同一个 data/、out/、runs/ · run from the repository root, so both editions use the same data/, out/, runs/
enter_repo_root()?;
// %% [markdown]
// ## 1.1 读入数据 · The data
//
// 教程用的是 torch-rechub 附带的 `amazon_electronics_sample.csv`（100 行，列 `user_id, item_id, time, cate_id`）。它不属于本项目，不随仓库分发：运行 `din data fetch-sample` 会把它下载到 `data/`。下载了就用它；否则用项目内置的**演示世界**（demo world）：一个确定性的合成数据集，列完全相同，商品有中文名字（篮球鞋、连衣裙、篮球、口红……），每个用户有几个兴趣组（篮球、时尚、美妆、数码……），这样后面的注意力权重才能和“真实答案”对照。下面的输出写明用的是哪一个。
//
// The tutorial uses torch-rechub's `amazon_electronics_sample.csv` (100 rows, columns `user_id, item_id, time, cate_id`). It is third-party data and not in this repository: `din data fetch-sample` downloads it into `data/`. When it is there this notebook uses it; otherwise it uses the built-in **demo world**, a deterministic synthetic log with the same columns whose items have names (篮球鞋 basketball shoes, 连衣裙 dress, 篮球 basketball, 口红 lipstick, …) and whose users each hold a few interest groups, so that later notebooks can check attention against the truth. The output below says which file was used.
// %%
let sample: PathBuf = PathBuf::from("data/amazon_electronics_sample.csv");
let world: DemoWorld = DemoWorld::new();
let using_sample: bool = sample.is_file();
let csv: PathBuf = if using_sample {
    println!("数据 data: {} — the tutorial's Amazon-Electronics sample (din data fetch-sample)", sample.display());
    sample.clone()
} else {
    std::fs::create_dir_all("out/notebooks")?;
    let p = PathBuf::from("out/notebooks/demo.csv");
    let ev = world.generate(&DemoConfig { users: 2000, seed: 2026, ..Default::default() });
    ev.write_csv(&p)?;
    println!("数据 data: {} — the demo world (2000 users, seed 2026), because {} is not there", p.display(), sample.display());
    println!("(run `din data fetch-sample` to use the tutorial's own sample)");
    p
};
// %% [markdown]
// 用 polars 读入（相当于 `pd.read_csv`），看前几行和每列的类型：四列都是整数 id，`time` 是 Unix 时间戳（秒）。
//
// Read with polars (the counterpart of `pd.read_csv`): the first rows and each column's type. All four columns are integer ids; `time` is a Unix timestamp in seconds.
// %%
let df: DataFrame = CsvReadOptions::default()
    .with_has_header(true)
    .try_into_reader_with_file_path(Some(csv.clone()))?
    .finish()?;
println!("shape 形状: {:?}", df.shape());
println!("schema 结构:");
for (name, dtype) in df.schema().iter() {
    println!("  {name:<8} {dtype}");
}
println!("{}", df.head(Some(8)));
// %% [markdown]
// ## 1.2 每个用户的行为序列 · Per-user sequences
//
// DIN 的输入是用户的**历史行为序列**：同一个用户的事件按时间排序（稳定排序：同一时刻的事件保持文件中的顺序——教程的样本里同一用户的很多事件时间戳相同）。
//
// DIN's input is each user's **behaviour sequence**: one user's events sorted by time, stably (events with the same timestamp keep their file order — in the tutorial's sample many events of a user share a timestamp).
// %%
// din reads the same file into Events (four i64 columns, checked); group per user, in time order
let events: Events = Events::read_csv(&csv)?;
let mut seqs: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new(); // user → [(time, item, cate)]
for r in 0..events.len() {
    seqs.entry(events.user[r]).or_default().push((events.time[r], events.item[r], events.cate[r]));
}
for s in seqs.values_mut() {
    s.sort_by_key(|e| e.0); // stable: ties keep file order
}
fn item_name(world: &DemoWorld, demo: bool, raw: i64) -> String {
    match world.item(raw) {
        Some(it) if demo => format!("{}", it.name),
        _ => format!("item {raw}"),
    }
}
let demo: bool = !using_sample;
println!("time 时间: {} … {} (Unix seconds)", events.time.iter().min().unwrap(), events.time.iter().max().unwrap());
let first_user: i64 = *seqs.keys().next().unwrap();
let names: Vec<String> = seqs[&first_user].iter().map(|e| item_name(&world, demo, e.1)).collect();
println!("user {first_user}: {} events, in time order: {}", names.len(), names.join(" → "));
// %%
// how long are the sequences?
let mut lengths: BTreeMap<usize, usize> = BTreeMap::new();
for s in seqs.values() {
    *lengths.entry(s.len()).or_default() += 1;
}
println!("users 用户数: {}, events per user 每个用户的事件数: min {}, max {}, mean {:.1}",
    seqs.len(), lengths.keys().next().unwrap(), lengths.keys().last().unwrap(),
    events.len() as f64 / seqs.len() as f64);
let bins: Vec<(f64, f64)> = lengths.iter().map(|(&k, &v)| (k as f64, v as f64)).collect();
plot::histogram("每个用户的事件数 events per user", "事件数 events per user", "用户数 users", &bins)?.evcxr_display();
// %% [markdown]
// ## 1.3 一条训练样本是怎么来的 · How a training row is built
//
// `create_seq_features(data, seq_feature_col=['item_id', 'cate_id'], drop_short=0)` 做了三件事，`din::data::build` 做同样的事（`SplitConfig { max_len: 50, drop_short: 0, seed }`）：
//
// * **滑动窗口 sliding window**：用户序列 $e_0, e_1, \dots, e_{n-1}$ 中，每个位置 $i \ge 1$ 产生一条正样本：历史 = $i$ 之前的事件（最近的 `max_len` 个），目标 = $e_i$，label = 1；
// * **负采样 negative sampling**：每条正样本配一条负样本：历史相同，目标是从该用户**从未交互过**的商品中均匀抽取的一个（带上它的类别），label = 0；
// * **划分 split**：每个用户的最后一个位置进测试集，倒数第二个进验证集，其余进训练集。
//
// For every position $i \ge 1$ of a user's time-ordered sequence: one positive row (history = the events before $i$, the most recent `max_len` of them; target = $e_i$; label 1) and one negative row (same history, a target drawn uniformly from the items the user never touched, with its category; label 0). The user's last position goes to test, the one before to validation, all earlier ones to train — each row in exactly one split.
// %%
let ds: Dataset = build(&events, SplitConfig::default())?;
{
    let s = &ds.stats;
    println!("events {}, users {}, items {}, categories {}", s.events, s.users, s.items, s.cates);
    println!("rows 样本数: train {}, val {}, test {} (half positive, half negative)", s.train_rows, s.val_rows, s.test_rows);
    println!("users with a single event (no row) 只有一个事件的用户: {}", s.users_single_event);
    println!("mean train history length 训练样本平均历史长度: {:.1}", s.mean_train_history);
}
// %%
// All rows of one user, in every split: history → target, label.
fn show_rows(ds: &Dataset, world: &DemoWorld, demo: bool, user_raw: i64) {
    let u = ds.vocab.users.get(user_raw).unwrap();
    let raw = |i: u32| ds.vocab.items.raw(i).unwrap_or(-1);
    for (name, split) in [("train", &ds.train), ("val", &ds.val), ("test", &ds.test)] {
        for r in 0..split.len() {
            if split.user[r] != u { continue; }
            let (hist, _) = split.history(r);
            let h: Vec<String> = hist.iter().map(|&i| item_name(world, demo, raw(i))).collect();
            println!("{name:<5} label {} | target {:<10} | history ({:>2}) [{}]",
                split.label[r], item_name(world, demo, raw(split.target_item[r])), hist.len(), h.join(", "));
        }
    }
}
show_rows(&ds, &world, demo, first_user);
// %% [markdown]
// 每个位置两行：label 1 的目标是用户真的点过的下一个商品，label 0 的目标是负采样得到的商品；两者的历史完全一样。历史随位置一格一格变长——这就是滑动窗口。最后两个位置分别成为验证和测试样本。
//
// Two rows per position: label 1's target is the item the user really clicked next, label 0's is the sampled negative; both share the history, which grows by one event per position (the sliding window). The last two positions became the validation and the test rows.
// %% [markdown]
// ## 1.4 仔细看一条样本 · One row inspected
//
// 模型看到的不是商品名，而是**稠密编号**（dense index）：每个原始 id 映射到 `1..=n`，0 留给填充（padding），`n+1` 留给没见过的 id（OOV）。一个 batch 里的历史被填充到同一长度 L，`mask` 标出哪些位置是真的。
//
// The model sees dense indices, not names: every raw id maps to `1..=n`, 0 is padding and `n+1` the out-of-vocabulary row. In a batch, histories are padded to one length L and `mask` marks the real positions.
// %%
let row: usize = (0..ds.train.len()).find(|&r| ds.train.hist_len[r] >= 3 && ds.train.label[r] == 1.0).unwrap();
let b: Batch = Batch::from_split(&ds.train, &[row]).padded_to(ds.train.hist_len[row] as usize + 2);
let raw_items: Vec<i64> = b.hist_item.iter().map(|&i| if i == 0 { -1 } else { ds.vocab.items.raw(i).unwrap() }).collect();
println!("user (dense)      {:?}   raw {:?}", b.user, ds.vocab.users.raw(b.user[0]));
println!("hist_item (dense) {:?}", b.hist_item);
println!("hist_item (raw)   {:?}   (-1 = padding)", raw_items);
println!("hist_cate (dense) {:?}", b.hist_cate);
println!("mask              {:?}", b.mask);
println!("hist_len          {:?}", b.hist_len);
println!("target_item       {:?} ({})   target_cate {:?}", b.target_item, item_name(&world, demo, ds.vocab.items.raw(b.target_item[0]).unwrap()), b.target_cate);
println!("label             {:?}", b.label);
// %% [markdown]
// ## 1.5 torch-rechub 的划分把测试样本放进了训练集 · Where torch-rechub's split leaks test rows
//
// torch-rechub 的 `create_seq_features` 对每个位置写的是
//
// ```python
// if i == len(pos_list) - 1:   test_set.append(...)
// if i == len(pos_list) - 2:   val_set.append(...)
// else:                        train_set.append(...)
// ```
//
// 第二个 `if` 不是 `elif`：最后一个位置既进了测试集，**也进了训练集**。模型在训练时见过它要被测试的那一行，测试 AUC 因此偏高。另外它只保留每个用户**最早**的 50 个事件（`pos_list[:max_len]`），而不是每个目标之前最近的 50 个。`torch_rechub_positive_rows` 忠实地移植了这段逻辑（只看正样本），下面在数据上对比。
//
// torch-rechub writes `if … test; if … val; else train`: the second `if` is not an `elif`, so every user's last position goes to test **and to train** — the model trains on the rows it is tested on, and the test AUC is inflated. It also keeps each user's *oldest* 50 events (`pos_list[:max_len]`) instead of the most recent 50 before each target. `torch_rechub_positive_rows` is a faithful port (positive rows only); compare it with our split on the data:
// %%
{
    let seq: Vec<i64> = seqs[&first_user].iter().map(|e| e.1).collect();
    let (tr, va, te) = torch_rechub_positive_rows(&seq, 50);
    let show = |rows: &Vec<(Vec<i64>, i64)>| -> Vec<String> {
        rows.iter().map(|(h, t)| format!("{} → {}", h.len(), item_name(&world, demo, *t))).collect()
    };
    println!("torch-rechub, user {first_user} (history length → target):");
    println!("  train: {}", show(&tr).join(", "));
    println!("  val:   {}", show(&va).join(", "));
    println!("  test:  {}", show(&te).join(", "));
    println!("  test row also in train: {}", te.iter().all(|r| tr.contains(r)));
}
// %%
{
    // over all users: how many test rows does train contain?
    let (mut leaked, mut tests) = (0usize, 0usize);
    for s in seqs.values() {
        let seq: Vec<i64> = s.iter().map(|e| e.1).collect();
        let (tr, _va, te) = torch_rechub_positive_rows(&seq, 50);
        for row in &te {
            tests += 1;
            if tr.contains(row) { leaked += 1; }
        }
    }
    println!("torch-rechub: {leaked} of {tests} test rows are also training rows ({:.0}%)", 100.0 * leaked as f64 / tests.max(1) as f64);

    // ours: is any test (user, history, target) also in train?
    let key = |s: &Split, r: usize| (s.user[r], s.history(r).0.to_vec(), s.target_item[r], s.label[r] as i32);
    let train_keys: std::collections::HashSet<(u32, Vec<u32>, u32, i32)> = (0..ds.train.len()).map(|r| key(&ds.train, r)).collect();
    let ours = (0..ds.test.len()).filter(|&r| train_keys.contains(&key(&ds.test, r))).count();
    println!("din::data::build: {ours} of {} test rows are also training rows", ds.test.len());
}
// %% [markdown]
// 第二个问题（只保留最早的 `max_len` 个事件）在演示世界里看不到，因为每个用户最多 24 个事件，不到 50。把 `max_len` 设成 8 就能看到：torch-rechub 直接丢掉了第 8 个以后的所有事件——测试目标变成了第 8 个事件，而不是用户真正的最后一个事件；本项目保留全部位置，每个目标之前取最近的 8 个。
//
// The second problem (keeping only the oldest `max_len` events) does not show with `max_len = 50` on short sequences; with `max_len = 8` it does: torch-rechub drops every event after the 8th, so its test target is the 8th event instead of the user's last one, while here every position is kept and each target gets the 8 most recent events before it.
// %%
{
let long_user: i64 = *seqs.iter().max_by_key(|(_, s)| s.len()).unwrap().0;
let seq: Vec<i64> = seqs[&long_user].iter().map(|e| e.1).collect();
let (_tr, _va, te) = torch_rechub_positive_rows(&seq, 8);
println!("user {long_user}: {} events; last event: {}", seq.len(), item_name(&world, demo, *seq.last().unwrap()));
println!("torch-rechub max_len 8, test row: history {} events → target {} (event #{} of {})",
    te[0].0.len(), item_name(&world, demo, te[0].1), te[0].0.len() + 1, seq.len());
let ds8: Dataset = build(&events, SplitConfig { max_len: 8, ..SplitConfig::default() })?;
let u = ds8.vocab.users.get(long_user).unwrap();
let r = (0..ds8.test.len()).find(|&r| ds8.test.user[r] == u && ds8.test.label[r] == 1.0).unwrap();
let tgt = ds8.vocab.items.raw(ds8.test.target_item[r]).unwrap();
let (h, _) = ds8.test.history(r);
println!("din::data::build max_len 8, test row: history {} events (the most recent) → target {} (event #{} of {})",
    h.len(), item_name(&world, demo, tgt), seq.len(), seq.len());
}
// %% [markdown]
// ## 1.6 泄漏让测试 AUC 高了多少 · What the leak does to the test AUC
//
// 同一个模型训练两次，在**同一批测试行**上打分：一次用本项目的训练集，一次用 torch-rechub 的做法，把每个测试行（正样本和它的负样本）也放进训练集（`Dataset::with_test_leaked_into_train`，就是上面第二个 `if` 做的事）。为了让这个单元在一分钟内跑完，这里用较小的演示世界（600 个用户、种子 2026，笔记本 4 的 4.7 节也用它）和教程配置（笔记本 2），最多 3 个 epoch；验证集两次相同，都按验证 AUC 选最好的 epoch。再下一个单元在同一个世界、同样的配置上，用另外三个训练种子重新训练无泄漏的模型，量出只换种子时测试 AUC 的变化范围，好和泄漏带来的变化比较。
//
// The same model, trained twice and scored on **the same test rows**: once on this project's training rows, once the torch-rechub way, with every test row (the positive and its negative) appended to train as well (`Dataset::with_test_leaked_into_train`: what the second `if` above does). So that this cell runs in under a minute it uses the smaller demo world (600 users, seed 2026, also used in notebook 4, section 4.7) and the tutorial configuration (notebook 2), at most 3 epochs; validation is the same in both runs, and both keep the epoch with the best validation AUC. The cell after it retrains the clean model on the same world with the same configuration and three more training seeds, to measure how far the test AUC moves with the seed alone and set the leak's change against that.
// %%
let (_leak_world, clean): (DemoWorld, Dataset) = demo_dataset(600, 2026)?;
let leaky: Dataset = clean.with_test_leaked_into_train();
let tut: TutorialConfig = TutorialConfig::default();
let leak_cfg: TrainConfig = TrainConfig { epochs: 3, ..tut.train.clone() };
println!("clean train 无泄漏训练集: {} rows; with the leak 有泄漏: {} rows (+{} test rows); test 测试集: {} rows",
    clean.train.len(), leaky.train.len(), leaky.train.len() - clean.train.len(), clean.test.len());
let mut test_metrics: Vec<(&str, Metrics)> = Vec::new();
for (name, data) in [("clean split 无泄漏划分", &clean), ("torch-rechub's leak 有泄漏", &leaky)] {
    let (m, h) = train_model(data, ModelKind::Din, &tut.model, &leak_cfg, &mut |_| {})?;
    let p: Vec<f32> = predict_split(&m, &clean.test, 4096)?;
    let t: Metrics = Metrics::compute(&p, &clean.test.label, &clean.test.user);
    println!("  {name:<28} best epoch {}  test {t}", h.best_epoch);
    test_metrics.push((name, t));
}
let clean_auc: f64 = test_metrics[0].1.auc; // kept for the next cell
let gain: f64 = test_metrics[1].1.auc - clean_auc;
println!("the leak changes the test AUC by 泄漏使测试 AUC 变化 {gain:+.4}: {}", if gain > 0.0 {
    "inflated: the model was trained on the rows it is tested on 偏高：模型在训练时见过被测试的行"
} else {
    "not inflated on this world 在这个世界里没有偏高"
});
// %%
// the same clean run with three more training seeds (initialisation and shuffling): how far does the test AUC move with the seed alone?
{
    let mut aucs: Vec<f64> = vec![clean_auc]; // seed 2026: the clean run above
    for seed in [1u64, 2, 3] {
        let (m, _) = train_model(&clean, ModelKind::Din, &tut.model, &TrainConfig { seed, ..leak_cfg.clone() }, &mut |_| {})?;
        aucs.push(Metrics::compute(&predict_split(&m, &clean.test, 4096)?, &clean.test.label, &clean.test.user).auc);
    }
    let spread: f64 = aucs.iter().cloned().fold(0.0, f64::max) - aucs.iter().cloned().fold(1.0, f64::min);
    println!("clean split 无泄漏划分, seeds 种子 2026, 1, 2, 3: test AUC {:?} → spread 变化范围 {spread:.4}",
        aucs.iter().map(|a| (a * 1e4).round() / 1e4).collect::<Vec<f64>>());
    println!("the leak's change 泄漏带来的变化 {gain:+.4} = {:.1} × the seed spread 种子变化范围: {}", gain / spread, if gain.abs() > spread {
        "larger than the seed spread 比种子变化范围大"
    } else {
        "within the seed spread: one run each cannot tell 在种子变化范围之内：各一次训练分不出来"
    });
}
// %% [markdown]
// 上面的运行里（提交的输出），无泄漏的测试 AUC 是 0.9286，有泄漏的是 0.9600：多了 0.031，比笔记本 4 的 4.7 节里最窄的头部（[32]，0.9063）和最好的头部（[256, 128]，0.9286，就是这里无泄漏的同一个模型）之差 0.022 还大。两次训练只差 1,200 行（训练集的 6.7%），模型却在它们上面被测试。用泄漏的划分比较两个模型，比的部分是谁更会记住见过的行。这两个数字各来自一次训练：上面的单元在同一个世界（600 个用户、同样的配置）上只换训练种子，打印了无泄漏测试 AUC 的变化范围，以及泄漏带来的变化是这个范围的几倍；和它比较，才知道泄漏的变化是不是只是种子的噪声。
//
// In the run above (the committed output) the clean test AUC is 0.9286 and the leaky one 0.9600: 0.031 higher, more than the 0.022 between the narrowest head ([32], 0.9063) and the best head ([256, 128], 0.9286: the same model as the clean run here) in notebook 4, section 4.7. The two trainings differ by only 1,200 rows (6.7% of train), and those are the rows the model is tested on. Comparing two models on a leaky split partly compares how well each memorises rows it has seen. Both numbers come from one training run each: the cell above retrains on the same world (600 users, the same configuration) with only the training seed changed and prints the spread of the clean test AUC and how many times that spread the leak's change is; set against it, the leak's change can be told from seed noise, or not.
// %% [markdown]
// **小结 Summary.** 数据准备好了：每条样本 = (用户, 历史商品序列, 历史类别序列, 目标商品, 目标类别, label)。下一本笔记本把这些 id 变成向量（嵌入层）。
//
// Each row is (user, history items, history categories, target item, target category, label), with no row in two splits. Next: turning ids into vectors (the embedding layer), notebook 2.
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **滑动窗口**（代码）：写 `sliding_window(items, max_len)`：输入一个用户按时间排好的商品序列，返回 split 为它生成的全部正样本 `(历史, 目标)`：对每个位置 k ≥ 1，目标是 `items[k]`，历史是它之前**最近的** `max_len` 个商品（旧的在前）。检查单元把你的结果和 `din::data::build` 在随机用户上的正样本逐一比较。
// 2. **训练集有多少行**（代码）：写 `train_rows(n)`：一个有 n 个事件的用户，在无泄漏划分里贡献多少个**训练**正样本？（提示：最后一个目标进测试集，倒数第二个进验证集；n = 0、1、2 时呢？）
// 3. **思考**：torch-rechub 的划分保留最**旧**的 50 个事件，本项目保留最**新**的。对一个有 200 个事件的用户，两种做法的测试样本的历史各是什么？哪一种更接近线上预测？
// 4. **思考**：把上面的 `max_len` 从 8 改成 2，重新运行 1.5 的最后一个单元：样本数变了吗？什么变了？
//
// 1. **Sliding window** (code): write `sliding_window(items, max_len)`: given one user's items in time order, return every positive sample `(history, target)` the split makes: for each position k ≥ 1 the target `items[k]` and the **newest** `max_len` items before it (oldest first). The check compares your rows with `din::data::build`'s on random users.
// 2. **How many training rows** (code): write `train_rows(n)`: how many positive **training** rows does a user with n events give in the leak-free split? (Hint: the last target goes to test, the one before to validation; and for n = 0, 1, 2?)
// 3. **Think**: torch-rechub keeps a user's **oldest** 50 events, this project the **newest**. For a user with 200 events, what history does each give the test row? Which is closer to serving?
// 4. **Think**: change `max_len` from 8 to 2 in the last cell of 1.5 and rerun it: did the number of rows change? What did?
// %% [exercise]
fn sliding_window(items: &[u32], max_len: usize) -> Vec<(Vec<u32>, u32)> {
    // 提示 hint: k = 1 … n−1 的每个位置 k 给出一行：历史 = items[k−max_len .. k]（不足 max_len 时从 0 开始：`k.saturating_sub(max_len)`），目标 = items[k]。
    // for each k in 1..n: history items[k − max_len .. k] (from 0 when shorter: `k.saturating_sub(max_len)`), target items[k]; slices `&items[a..b]`, `.to_vec()`.
    // BEGIN SOLUTION
    (1..items.len())
        .map(|k| (items[k.saturating_sub(max_len)..k].to_vec(), items[k]))
        .collect()
    // END SOLUTION
}
// %% [check]
exercises::check_sliding_window(sliding_window);
// %% [exercise]
fn train_rows(n: usize) -> usize {
    // 提示 hint: n 个事件里，最后一个留给测试、倒数第二个留给验证，第 0 个没有历史；n 很小时不要下溢（`saturating_sub`）。
    // of n events the last is the test row's, the one before the validation row's, and event 0 has no history; no underflow for small n (`saturating_sub`).
    // BEGIN SOLUTION
    n.saturating_sub(3)
    // END SOLUTION
}
// %% [check]
exercises::check_train_rows(train_rows);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 3. torch-rechub 先截断用户的序列（`hist[:max_len]`），只留最早的 50 个事件：测试行的目标是第 50 个事件，历史是第 1–49 个；第 51–200 个事件根本不出现。本项目的测试行目标是第 200 个事件，历史是它之前最近的 50 个（第 150–199 个）。线上预测的是“下一次点击”，用的是最近的行为，所以本项目的做法更接近线上。1.5 的最后一个单元在 `max_len = 8` 时打印了同样的情形。
// 4. `din::data::build`：样本数不变（每个位置 $i \ge 1$ 仍然产生一个正样本和一个负样本），变的是历史——最多 2 个事件。torch-rechub：每个用户只剩最早的 2 个事件，于是只有一个目标（第 2 个事件），它进了测试集（也因为泄漏进了训练集），历史只有 1 个事件；用户后面的行为全丢了。
//
// 3. torch-rechub cuts the user's sequence first (`hist[:max_len]`) and keeps the oldest 50 events: its test row's target is event 50 with events 1–49 as history; events 51–200 never appear. Here the test row's target is event 200, its history the 50 most recent events before it (150–199). Serving predicts the next click from the latest behaviour, so this project's rows are the closer ones. The last cell of 1.5 prints the same case with `max_len = 8`.
// 4. `din::data::build`: the number of rows does not change (every position $i \ge 1$ still gives one positive and one negative); the histories do: at most 2 events. torch-rechub: each user keeps only the two oldest events, so there is one target (event 2), which goes to test (and, through the leak, to train too) with a one-event history; the rest of the user's behaviour is lost.
// %% [end]
    Ok(())
}
