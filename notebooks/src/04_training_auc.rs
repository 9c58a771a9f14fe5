//! Source of `notebooks/04_training_auc.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 4 训练与 AUC · Training and AUC
//
// > ```python
// > ctr_trainer = CTRTrainer(model, optimizer_params={"lr": 1e-3, "weight_decay": 1e-3}, n_epoch=3, earlystop_patience=4, device='cpu', model_path='./')
// > ctr_trainer.fit(train_dataloader, val_dataloader)
// > auc = ctr_trainer.evaluate(ctr_trainer.model, test_dataloader)
// > ```
// > 模型训练，需要学习率、设备等一般的参数，此外我们还支持 earlystoping 策略，及时发现过拟合。
//
// *Training needs a learning rate, a device and so on; early stopping catches over-fitting in time.*
//
// `din::train::fit` 对应 `CTRTrainer.fit`：二元交叉熵（BCE）损失、Adam 系优化器、每个 epoch 结束在验证集上算 AUC，验证 AUC 连续 `patience` 个 epoch 没有提高就提前停止，最后恢复验证 AUC 最好的那个 epoch 的权重。本笔记本：带进度的训练、损失曲线、每个 epoch 的验证 AUC、测试集上的 ROC 曲线和它的面积、AUC / GAUC / logloss、提前停止做了什么。
//
// `din::train::fit` is `CTRTrainer.fit`: BCE loss, an Adam-family optimiser, validation AUC after each epoch, early stopping after `patience` epochs without a better validation AUC, and the best epoch's weights restored at the end. This notebook: training with visible progress, the loss curve, validation AUC per epoch, the test ROC curve and its area, AUC / GAUC / logloss, and what early stopping did.
//
// 有一处不同：torch-rechub 的 `CTRTrainer.fit`（`torch_rechub/trainers/ctr_trainer.py`）只在提前停止**触发时**才装回最好的权重（`load_state_dict(self.early_stopper.best_weights)` 在 `if self.early_stopper.stop_training(...)` 分支里）；训满 `n_epoch` 没有停，留下的是最后一个 epoch 的权重。`fit` 两种情况都恢复最好的 epoch。
//
// One difference: torch-rechub's `CTRTrainer.fit` (`torch_rechub/trainers/ctr_trainer.py`) restores the best weights only **when early stopping fires** (the `load_state_dict(self.early_stopper.best_weights)` sits inside `if self.early_stopper.stop_training(...)`); a run that completes `n_epoch` keeps the last epoch's weights. `fit` restores the best epoch in both cases.
// %% [markdown setup]
// %% [setup]
// %% [imports]
use din::data::Dataset;
use din::exercises;
use din::metrics::{area, auc, gauc, roc_points, Metrics};
use din::model::{Model, ModelConfig, ModelKind};
use din::plot::{self, Series};
use din::synth::DemoWorld;
use din::train::{predict_split, History, Progress, TrainConfig};
use din::tutorial::{demo_dataset, train_model, TutorialConfig};
use std::time::Instant;
// %%
din::tune_process();
let (_world, ds): (DemoWorld, Dataset) = demo_dataset(2000, 2026)?;
let cfg: TutorialConfig = TutorialConfig::default();
println!("demo world: train {} / val {} / test {} rows", ds.train.len(), ds.val.len(), ds.test.len());
// %% [markdown]
// ## 4.1 训练参数 · The training configuration
//
// 和教程对照：教程 `lr 1e-3, weight_decay 1e-3, n_epoch 3, earlystop_patience 4, batch_size 16`。本项目的教程配置在演示世界上用 `lr 2e-3`、batch 128；权重衰减用解耦的 AdamW（教程的 `Adam(weight_decay=1e-3)` 在演示世界上会把整个注意力单元衰减到 0，见 `TrainConfig` 的文档）。为了看到提前停止，这里最多训 6 个 epoch，`patience` 设为 1（验证 AUC 一个 epoch 没有提高就停）。
//
// Compared with the tutorial (`lr 1e-3, weight_decay 1e-3, n_epoch 3, patience 4, batch_size 16`): this project's tutorial configuration uses lr 2e-3 and batch 128 on the demo world, with decoupled weight decay (AdamW; the tutorial's coupled `Adam(weight_decay=1e-3)` decayed a whole activation unit to zero here, see the `TrainConfig` docs). To see early stopping act, allow up to 6 epochs with patience 1 (stop after one epoch without a better validation AUC).
// %%
let train_cfg: TrainConfig = TrainConfig { epochs: 6, patience: 1, ..cfg.train.clone() };
println!("{:#?}", train_cfg);
// %% [markdown]
// ## 4.2 训练（带进度）· Training, with progress
//
// 每个 epoch 打印进度（每 25%）和结束时的训练损失、验证集 AUC / GAUC / logloss、吞吐量。
//
// Progress every 25% of an epoch; at its end the training loss, validation AUC / GAUC / logloss and throughput.
// %%
let t0: Instant = Instant::now();
let mut batches: usize = 1;
let (model, history): (Model, History) = train_model(&ds, ModelKind::Din, &cfg.model, &train_cfg, &mut |p: Progress| match p {
    Progress::EpochStart { epoch, batches: n } => { batches = n; println!("epoch {epoch}: {n} batches"); }
    Progress::Step { batch, loss, .. } => {
        if (batch + 1) % (batches / 4).max(1) == 0 {
            println!("  {:>3}%  batch {:>4}/{batches}  loss {loss:.4}", 100 * (batch + 1) / batches, batch + 1);
        }
    }
    Progress::Evaluating { .. } => {}
    Progress::EpochEnd(e) => println!("  → train loss {:.4} | val AUC {:.4}  GAUC {:.4}  logloss {:.4} | {:.0} samples/s, {:.1} s",
        e.train_loss, e.val.auc, e.val.gauc, e.val.logloss, e.samples_per_s, e.train_seconds),
})?;
println!("done in {:.0} s", t0.elapsed().as_secs_f64());
// %% [markdown]
// ## 4.3 损失曲线 · Loss curve
//
// 每一步的 BCE 损失（50 步滑动平均）和每个 epoch 的平均训练损失。
//
// Per-step BCE loss (moving average over 50 steps) and each epoch's mean training loss.
// %%
{
let k = 50usize;
let l: Vec<f64> = history.steps.iter().map(|s| s.loss).collect();
let smooth: Vec<(f64, f64)> = (0..l.len()).step_by(5).map(|i| {
    let a = i.saturating_sub(k - 1);
    (history.steps[i].step as f64, l[a..=i].iter().sum::<f64>() / (i - a + 1) as f64)
}).collect();
let steps_per_epoch = history.steps.len() as f64 / history.epochs.len() as f64;
let per_epoch: Vec<(f64, f64)> = history.epochs.iter().map(|e| (e.epoch as f64 * steps_per_epoch, e.train_loss)).collect();
plot::lines("训练损失 training loss (BCE)", "step", "loss", &[Series::new("moving average, 50 steps", smooth), Series::new("mean of each epoch 每个 epoch 的平均", per_epoch)])?.evcxr_display();
}
// %% [markdown]
// ## 4.4 每个 epoch 的验证 AUC，以及提前停止做了什么 · Validation AUC per epoch, and what early stopping did
// %%
{
let val: Vec<(f64, f64)> = history.epochs.iter().map(|e| (e.epoch as f64, e.val.auc)).collect();
let val_g: Vec<(f64, f64)> = history.epochs.iter().map(|e| (e.epoch as f64, e.val.gauc)).collect();
println!("epochs run 训练了 {} of {} epochs; best epoch 最好的 epoch: {} (val AUC {:.4}); stopped early 提前停止: {}",
    history.epochs_run(), train_cfg.epochs, history.best_epoch, history.best_val_auc, history.stopped_early);
if history.stopped_early {
    println!("→ validation AUC did not improve for {} epochs after epoch {}: training stopped at epoch {} and the weights of epoch {} were restored.",
        train_cfg.patience, history.best_epoch, history.epochs_run(), history.best_epoch);
} else {
    println!("→ no early stop: validation AUC never went {} epochs without improving; the weights of the best epoch ({}) are kept.", train_cfg.patience, history.best_epoch);
}
plot::lines("验证集 AUC per epoch (validation)", "epoch", "validation AUC / GAUC", &[Series::new("val AUC", val), Series::new("val GAUC", val_g)])?.evcxr_display();
}
// %% [markdown]
// ## 4.5 AUC 是什么 · What AUC measures
//
// AUC = 随机取一个正样本和一个负样本，模型给正样本打分更高的概率（打平算一半）。0.5 是随机猜，1.0 是完美排序。它只看排序，不看概率值本身；logloss 才看概率是否准确。GAUC 是每个用户各自算 AUC、再按用户的样本数加权平均（DIN 论文用的指标）：它只比较同一个用户的候选，更接近“给这个用户排序”的任务。手算一个小例子：
//
// AUC = the probability that a random positive is scored above a random negative (ties count half): 0.5 is chance, 1.0 a perfect ranking. It looks only at the order; logloss judges the probabilities. GAUC (the DIN paper's metric) is each user's AUC, averaged weighted by the user's rows: it compares only candidates of the same user, closer to ranking for that user. A small example by hand:
// %%
{
let scores = [0.9f32, 0.8, 0.6, 0.55, 0.3, 0.2];
let labels = [1.0f32, 0.0, 1.0, 1.0, 0.0, 0.0];
let users = [1u32, 1, 1, 2, 2, 2];
let mut good = 0.0;
let mut pairs = 0.0;
for i in 0..6 { for j in 0..6 {
    if labels[i] == 1.0 && labels[j] == 0.0 {
        pairs += 1.0;
        good += if scores[i] > scores[j] { 1.0 } else if scores[i] == scores[j] { 0.5 } else { 0.0 };
    }
}}
println!("by hand: {good} of {pairs} (positive, negative) pairs ordered right → AUC {:.4}", good / pairs);
println!("din::metrics::auc  {:.4}", auc(&scores, &labels).unwrap());
println!("din::metrics::gauc {:.4}  (user 1: 1 of 2 pairs right → 0.5; user 2: 2 of 2 → 1.0)", gauc(&scores, &labels, &users).unwrap());
}
// %% [markdown]
// ## 4.6 测试集：ROC 曲线与面积 · Test set: ROC curve and its area
//
// ROC 曲线：把阈值从高到低移动，横轴是假阳性率，纵轴是真阳性率。曲线下的面积就是 AUC。
//
// The ROC curve moves the threshold from high to low: false positive rate across, true positive rate up. The area under it is the AUC.
// %%
let probs: Vec<f32> = predict_split(&model, &ds.test, 4096)?;
let test: Metrics = Metrics::compute(&probs, &ds.test.label, &ds.test.user);
let roc: Vec<(f64, f64)> = roc_points(&probs, &ds.test.label);
println!("test 测试集 ({} rows): AUC {:.4}   GAUC {:.4}   logloss {:.4}", test.rows, test.auc, test.gauc, test.logloss);
println!("area under the ROC points (trapezoids) 曲线下面积: {:.4}", area(&roc));
plot::roc("测试集 ROC (test)", &[Series::new(format!("DIN  AUC {:.4}", test.auc), roc.clone())])?.evcxr_display();
// %% [markdown]
// ## 4.7 深层 DNN：DIN 的头部 · The deep network on top (tutorial section 3)
//
// > 深层DNN：将用户兴趣表示、候选广告表示和其他特征拼接后，通过多层全连接网络学习特征之间的高阶交互，最终输出点击概率。
//
// *The deep network: the user's interest, the candidate and the other features are concatenated and passed through fully connected layers that learn their high-order interactions; the output is the click probability.*
//
// 本项目的 DIN 把五个 d 维向量拼接成头部的输入：$[V_{interest}^{item}, V_{interest}^{cate}, v_{target}^{item}, v_{target}^{cate}, v_{user}]$，即 5d 维；之后每个隐藏层是 Linear → Dice，最后一个 Linear 输出一个 logit，sigmoid 之后就是点击率。下面的单元从训练好的模型里逐个列出头部（名字以 `mlp.` 开头）的张量，数出参数个数，再按公式核对。
//
// This project's DIN concatenates five d-dimensional vectors into the head's input, 5d numbers; each hidden layer is Linear → Dice, and a last Linear gives one logit (its sigmoid is the CTR). The cell lists the head's tensors (names starting with `mlp.`) of the trained model, counts its parameters and checks the count against the formula.
// %%
{
let d: usize = cfg.model.embed_dim;
println!("head input 头部输入: 5 × d = 5 × {d} = {}; hidden layers 隐藏层 {:?}, then 1 logit", 5 * d, cfg.model.mlp_dims);
let mut trained = 0usize;
for (name, t) in model.tensors()?.iter().filter(|(n, _)| n.starts_with("mlp.")) {
    let kind = if name.contains("running") { "running statistic 滑动统计量 (not trained 不训练)" } else { trained += t.elem_count(); "trained 可训练" };
    println!("  {name:<26} {:>12}  {:>6}  {kind}", format!("{:?}", t.dims()), t.elem_count());
}
// by the formula: a Linear from a to b has a·b weights and b biases; Dice has b slopes α
let mut widths: Vec<usize> = vec![5 * d];
widths.extend(&cfg.model.mlp_dims);
let mut formula = 0usize;
for w in widths.windows(2) { formula += w[0] * w[1] + w[1] + w[1]; }
formula += widths[widths.len() - 1] + 1; // the output layer
println!("trained parameters of the head 头部可训练参数: counted 数出 {trained}, by the formula 按公式 {formula}");
println!("the whole model 整个模型: {} (the embedding tables hold {})", model.n_params(),
    model.n_params() - model.params.count() );
}
// %% [markdown]
// 头部的深度有什么用？在一个较小的演示世界（800 个用户，训练更快）上，只改 `mlp_dims`，其余配置相同，各训练最多 3 个 epoch，比较测试 AUC。
//
// What does the head's depth buy? On a smaller demo world (800 users, to train quickly), change only `mlp_dims`, keep everything else, train up to 3 epochs each and compare test AUCs.
// %%
let (_small_world, small): (DemoWorld, Dataset) = demo_dataset(800, 2026)?;
{
let depth_cfg: TrainConfig = TrainConfig { epochs: 3, ..cfg.train.clone() };
println!("smaller world 较小的世界: train {} / test {} rows", small.train.len(), small.test.len());
for dims in [vec![32], vec![256], vec![256, 128], vec![256, 128, 64]] {
    let t0 = Instant::now();
    let mc: ModelConfig = ModelConfig { mlp_dims: dims.clone(), ..cfg.model.clone() };
    let (m, h) = train_model(&small, ModelKind::Din, &mc, &depth_cfg, &mut |_| {})?;
    let p = predict_split(&m, &small.test, 4096)?;
    println!("  mlp_dims {:<14} head params 头部参数 {:>7}  test AUC {:.4}  (best epoch {}, {:.1} s)",
        format!("{dims:?}"), m.tensors()?.iter().filter(|(n, _)| n.starts_with("mlp.") && !n.contains("running")).map(|(_, t)| t.elem_count()).sum::<usize>(),
        auc(&p, &small.test.label).unwrap_or(f64::NAN), h.best_epoch, t0.elapsed().as_secs_f64());
}
}
// %% [markdown]
// 在这个演示世界里，点击只取决于候选和用户兴趣的匹配（见笔记本 1 的世界说明）。上面的测量：头部太窄（32）会损失约 0.01 的 AUC；宽度 256 的一层、两层、三层之间的差别在 0.002 左右，和换一个随机种子的波动同一量级：这里深度买不到多少东西，宽度更要紧。真实数据里特征更多、交互更复杂，BARS 基准的 DIN 用三层 [1024, 512, 256] 的头部（见 README）。
//
// In this demo world a click depends only on how well the candidate matches the user's interests (notebook 1 describes the world). As measured above: a narrow head (32) loses about 0.01 AUC; one, two or three layers of width 256 differ by about 0.002, the size of a change of random seed: depth buys little here, width matters more. Real data have more features and richer interactions; the BARS benchmark's DIN uses a three-layer head [1024, 512, 256] (see the README).
// %% [markdown]
// **小结 Summary.** 训练在验证集上选出最好的 epoch；测试集的 AUC 等于 ROC 曲线下的面积。注意：本项目的划分没有泄漏（笔记本 1），所以这里的测试 AUC 没有被训练集里的测试样本抬高。下一本：DIN 与传统模型的对比，以及论文的两个技巧。
//
// Training picks the best epoch on validation; the test AUC is the area under the ROC curve. The split has no leakage (notebook 1), so this test AUC is not inflated by test rows in train. Next: DIN vs the base model and the paper's two tricks (notebook 5).
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **不会溢出的交叉熵**（代码）：写 `bce(z, y)`：logit `z`、标签 `y` 的二元交叉熵。照公式 `−y·ln σ(z) − (1−y)·ln(1−σ(z))` 直接写，在 z = ±200 时会得到 inf 或 NaN；改写成 `max(z, 0) − z·y + ln(1 + e^{−|z|})`。检查单元和训练用的 `din::train::bce_with_logits` 比较。
// 2. **按定义算 AUC**（代码）：写 `auc_by_pairs(scores, labels)`：所有 (正, 负) 对里排对的比例，**分数相同的对算 ½**。检查单元的分数有很多并列。
// 3. **GAUC**（代码）：写 `gauc_by_hand(scores, labels, users)`：每个用户自己的 AUC，按该用户的行数加权平均；只有一种标签的用户跳过。可以用你的 `auc_by_pairs`。
// 4. **思考**：把 `train_cfg.patience` 改成 1、`epochs` 改成 10，重新训练：在哪个 epoch 停？恢复的是哪个 epoch 的权重？
//
// 1. **A cross-entropy that does not overflow** (code): write `bce(z, y)`, the binary cross-entropy of logit `z` and label `y`. Written as `−y·ln σ(z) − (1−y)·ln(1−σ(z))` it gives inf or NaN at z = ±200; rewrite it as `max(z, 0) − z·y + ln(1 + e^{−|z|})`. The check compares with `din::train::bce_with_logits`, the loss training uses.
// 2. **AUC by its definition** (code): write `auc_by_pairs(scores, labels)`: the share of (positive, negative) pairs ranked right, **a tie counting ½**. The check's scores have many ties.
// 3. **GAUC** (code): write `gauc_by_hand(scores, labels, users)`: each user's own AUC, averaged with the user's number of rows as weight; users with one label only are skipped. You may use your `auc_by_pairs`.
// 4. **Think**: set `train_cfg.patience = 1`, `epochs = 10` and retrain: at which epoch does it stop, and which epoch's weights are restored?
// %% [exercise]
fn bce(z: f64, y: f64) -> f64 {
    // BEGIN SOLUTION
    z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
    // END SOLUTION
}
// %% [check]
exercises::check_bce(bce);
// %% [exercise]
fn auc_by_pairs(scores: &[f32], labels: &[f32]) -> f64 {
    // BEGIN SOLUTION
    let (mut good, mut pairs) = (0.0, 0.0);
    for (i, &si) in scores.iter().enumerate() {
        for (j, &sj) in scores.iter().enumerate() {
            if labels[i] == 1.0 && labels[j] == 0.0 {
                pairs += 1.0;
                good += if si > sj { 1.0 } else if si == sj { 0.5 } else { 0.0 };
            }
        }
    }
    good / pairs
    // END SOLUTION
}
// %% [check]
exercises::check_auc(auc_by_pairs);
// %% [exercise]
fn gauc_by_hand(scores: &[f32], labels: &[f32], users: &[u32]) -> f64 {
    // BEGIN SOLUTION
    let mut rows: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, &u) in users.iter().enumerate() {
        rows.entry(u).or_default().push(i);
    }
    let (mut num, mut den) = (0.0, 0.0);
    for r in rows.values() {
        let s: Vec<f32> = r.iter().map(|&i| scores[i]).collect();
        let l: Vec<f32> = r.iter().map(|&i| labels[i]).collect();
        if l.contains(&1.0) && l.contains(&0.0) {
            num += auc_by_pairs(&s, &l) * r.len() as f64;
            den += r.len() as f64;
        }
    }
    num / den
    // END SOLUTION
}
// %% [check]
exercises::check_gauc(gauc_by_hand);
// %% [end]
    Ok(())
}
