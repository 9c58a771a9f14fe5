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
use din_teach::prelude::*;
// %%
din::tune_process();
// 从仓库根目录运行：两个版本（notebooks/ 和 notebooks/student/）都用同一个 data/、out/、runs/ · run from the repository root, so both editions use the same data/, out/, runs/
enter_repo_root()?;
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
    Progress::EpochEnd(e) => println!("  → {e}, {:.1} s", e.train_seconds),
})?;
println!("done in {:.0} s", t0.elapsed().as_secs_f64());
// %% [markdown]
// ## 4.3 损失曲线 · Loss curve
//
// 每一步的 BCE 损失（50 步滑动平均）和每个 epoch 的平均训练损失。滑动平均先手写一遍，再和库的 `History::smoothed_loss`（`din tutorial` 的损失图也用它）比较：打印两者的最大差。
//
// Per-step BCE loss (moving average over 50 steps) and each epoch's mean training loss. The moving average is written by hand first, then compared with the library's `History::smoothed_loss` (which `din tutorial`'s loss figure uses): the cell prints the largest difference.
// %%
{
let k = 50usize;
let l: Vec<f64> = history.steps.iter().map(|s| s.loss).collect();
// by hand: the mean of the last k losses (fewer at the start), every 5th step
let by_hand: Vec<(f64, f64)> = (0..l.len()).step_by(5).map(|i| {
    let a = i.saturating_sub(k - 1);
    (history.steps[i].step as f64, l[a..=i].iter().sum::<f64>() / (i - a + 1) as f64)
}).collect();
// the library's History::smoothed_loss (a running sum) computes the same points
let smooth: Vec<(f64, f64)> = history.smoothed_loss(k, 5);
let diff = by_hand.iter().zip(&smooth).map(|(a, b)| (a.1 - b.1).abs()).fold(0.0, f64::max);
println!("{} points; max |by hand − History::smoothed_loss| 手写与库的最大差 = {diff:.1e}", smooth.len());
let steps_per_epoch = history.steps.len() as f64 / history.epochs.len() as f64;
let per_epoch: Vec<(f64, f64)> = history.epochs.iter().map(|e| (e.epoch as f64 * steps_per_epoch, e.train_loss)).collect();
plot::lines("训练损失 training loss (BCE)", "训练步 training step (batch)", "损失 loss (BCE, nats)", &[Series::new("moving average, 50 steps", smooth), Series::new("mean of each epoch 每个 epoch 的平均", per_epoch)])?.evcxr_display();
}
// %% [markdown]
// 曲线不是一路下降的：在这次运行里，第 1 个和第 3 个 epoch 的末尾各上升了一段。这不是模型在变差，而是每个 batch 的组成不同：为了少算填充，`bucket_by_length` 把历史长度相近的行放进同一个 batch（再打乱 batch 的顺序），而历史越短，能参考的兴趣越少，点击越难预测。下面的单元用 `fit` 用过的同一个 `plan_batches` 重建每一步的 batch，量出 batch 的损失和它的平均历史长度的关系。
//
// The curve does not fall all the way: in this run it rises for a while at the end of epochs 1 and 3. The model is not getting worse; the batches differ: to compute less padding, `bucket_by_length` puts rows of similar history length into one batch (then shuffles the batch order), and the shorter the history, the fewer interests to go on and the harder the click is to predict. The cell rebuilds every step's batch with the same `plan_batches` that `fit` used and measures how a batch's loss goes with its mean history length.
// %%
{
let order = BatchOrder { batch_size: train_cfg.batch_size, shuffle: Some(train_cfg.seed), bucket_by_length: train_cfg.bucket_by_length };
// the mean history length of every training step's batch: the same plan `fit` used (epochs are 1-based)
let mut hist_len: Vec<f64> = Vec::new();
for epoch in 1..=history.epochs_run() {
    for rows in plan_batches(&ds.train, order, epoch as u64) {
        hist_len.push(rows.iter().map(|&r| ds.train.hist_len[r] as f64).sum::<f64>() / rows.len() as f64);
    }
}
let loss: Vec<f64> = history.steps.iter().map(|s| s.loss).collect();
assert_eq!(hist_len.len(), loss.len());
let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
let (mh, ml) = (mean(&hist_len), mean(&loss));
let cov: f64 = hist_len.iter().zip(&loss).map(|(h, l)| (h - mh) * (l - ml)).sum::<f64>();
let sd = |v: &[f64], m: f64| v.iter().map(|x| (x - m) * (x - m)).sum::<f64>().sqrt();
println!("correlation of a batch's loss with its mean history length 批次损失与平均历史长度的相关系数: {:+.3}", cov / (sd(&hist_len, mh) * sd(&loss, ml)));
for (name, lo, hi) in [("short 短 (< 6)", 0.0, 6.0), ("medium 中 (6–12)", 6.0, 12.0), ("long 长 (≥ 12)", 12.0, f64::INFINITY)] {
    let l: Vec<f64> = hist_len.iter().zip(&loss).filter(|(h, _)| **h >= lo && **h < hi).map(|(_, l)| *l).collect();
    println!("  batches with mean history 平均历史 {name:<18}: {:>4} batches, mean loss 平均损失 {:.4}", l.len(), mean(&l));
}
let per_epoch: usize = loss.len() / history.epochs_run();
for e in 0..history.epochs_run() {
    let (a, b) = (e * per_epoch, (e + 1) * per_epoch);
    println!("  epoch {}: last 50 batches 最后 50 批: mean history {:.1}, loss {:.4}; whole epoch 整个 epoch: mean history {:.1}, loss {:.4}",
        e + 1, mean(&hist_len[b - 50..b]), mean(&loss[b - 50..b]), mean(&hist_len[a..b]), mean(&loss[a..b]));
}
}
// %% [markdown]
// 上面的数字：batch 的损失和它的平均历史长度的相关系数约 −0.5；平均历史短于 6 的 batch 平均损失 0.476，12 以上的 0.334。这次运行里三个 epoch 的最后 50 个 batch 的平均历史（7.6–7.9）都比整个 epoch 的平均（8.5）短，但滑动平均只在第 1 和第 3 个 epoch 的末尾升高（见上面的图）：第 3 个 epoch 最后 50 个 batch 的损失（0.3595）明显高于整个 epoch 的平均（0.3241）；第 2 个 epoch 两者几乎相同（0.3870 vs 0.3861），曲线在这里没有上升；第 1 个 epoch 里损失整体下降得很快，最后 50 个 batch 的平均（0.4502）仍低于整个 epoch 的平均（0.4877）。历史长度只是影响 batch 损失的一个因素（相关系数约 −0.5），短历史的 batch 让曲线在 epoch 末尾上升的可能更大，但不是每次都会。关掉 `bucket_by_length`（`TrainConfig { bucket_by_length: false, .. }`）每个 batch 的长度就接近平均，曲线更平滑，但要多算填充。
//
// The numbers above: a batch's loss and its mean history length correlate at about −0.5; batches with a mean history below 6 have a mean loss of 0.476, those of 12 and more 0.334. In this run the last 50 batches of all three epochs had shorter histories (7.6–7.9) than the epoch's average (8.5), yet the moving average rises only at the end of epochs 1 and 3 (see the figure above): in epoch 3 the last 50 batches' loss (0.3595) is well above the epoch's mean (0.3241); in epoch 2 the two are nearly equal (0.3870 vs 0.3861) and the curve does not rise there; in epoch 1 the loss falls fast overall, so the last 50 batches' mean (0.4502) is still below the epoch's (0.4877). History length is one factor of a batch's loss among others (correlation about −0.5): short-history batches at an epoch's end make a rise there likelier, not certain. With `bucket_by_length` off (`TrainConfig { bucket_by_length: false, .. }`) every batch's lengths are close to the average and the curve is smoother, at the cost of more padding.
//
// ## 4.4 每个 epoch 的验证 AUC，以及提前停止做了什么 · Validation AUC per epoch, and what early stopping did
//
// 注意下图的纵轴：为了看清每个 epoch 之间的差别，它只画了 0.915 到 0.937 附近这一小段，没有从 0.5（随机猜）开始，所以差别看起来很大；实际上第 1 到第 2 个 epoch 验证 AUC 只升了约 0.016（上面打印的数字）。
//
// Mind the value axis of the figure: to show the differences between epochs it spans only the small range around 0.915–0.937, not from 0.5 (chance), so the differences look large; validation AUC rose by about 0.016 from epoch 1 to epoch 2 (the numbers printed above).
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
plot::lines("验证集 AUC per epoch (validation)", "轮次 epoch", "验证集 AUC / GAUC (validation)", &[Series::new("val AUC", val), Series::new("val GAUC", val_g)])?.evcxr_display();
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
println!("test 测试集: {test}");
println!("area under the ROC points (trapezoids) 曲线下面积: {:.4}", area(&roc));
plot::roc("测试集 ROC (test)", &[Series::new(format!("DIN  AUC {:.4}", test.auc), roc.clone())])?.evcxr_display();
// %% [markdown]
// ## 4.7 深层 DNN：DIN 的头部 · The deep network on top (tutorial section 3)
//
// > 3. 深层 DNN 与输出层
// > * 拼接特征：将 $V_{interest}$（用户激活兴趣）、$v_{target}$（当前商品）、用户静态特征、上下文特征的嵌入向量拼接，得到最终的输入向量；
// > * 深层 DNN：通过多层全连接网络学习高阶特征交互；
// > * 输出层：Sigmoid 函数将得分映射到 0~1，得到预估 CTR。
//
// *The tutorial, section 3 (the deep network and the output layer): concatenate the embeddings of $V_{interest}$ (the activated interest), $v_{target}$ (the candidate), the user's static features and the context features into the final input; a deep network of fully connected layers learns high-order feature interactions; a sigmoid maps the score to 0–1, the predicted CTR.*
//
// 演示世界和 Amazon-Electronics 的数据都没有上下文特征（时间、位置、设备……），用户静态特征只有用户 id。
//
// Neither the demo world nor the Amazon-Electronics data have context features (time, place, device, …); the user's only static feature is the user id.
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
    model.n_params() - model.params().count() );
}
// %% [markdown]
// 头部的深度有什么用？在一个较小的演示世界（600 个用户，训练更快）上，只改 `mlp_dims`，其余配置相同，各训练最多 3 个 epoch，比较测试 AUC。
//
// What does the head's depth buy? On a smaller demo world (600 users, to train quickly), change only `mlp_dims`, keep everything else, train up to 3 epochs each and compare test AUCs.
// %%
let (_small_world, small): (DemoWorld, Dataset) = demo_dataset(600, 2026)?;
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
// 在这个演示世界里，点击只取决于候选和用户兴趣的匹配（演示世界的说明见笔记本 3 的 3.2）。上面的测量（每种头部只有一个种子）：头部太窄（32）比宽度 256 的一层低约 0.014 的 AUC；再加一层 128 又多约 0.009；第三层 64 没有再提高（低约 0.004）。在这么小的世界上，一次运行分不清千分之几的差别和随机种子的波动（换几个种子重复就能看到）。真实数据里特征更多、交互更复杂，BARS 基准的 DIN 用三层 [1024, 512, 256] 的头部（见 README）。
//
// In this demo world a click depends only on how well the candidate matches the user's interests (notebook 3, section 3.2, describes the world). As measured above (one seed per head): a narrow head (32) is about 0.014 AUC below one layer of width 256; a second layer of 128 adds about 0.009 more; a third layer of 64 adds nothing (about 0.004 lower). On a world this small, one run cannot tell differences of a few thousandths from the noise of the random seed (repeat with other seeds to see it). Real data have more features and richer interactions; the BARS benchmark's DIN uses a three-layer head [1024, 512, 256] (see the README).
// %% [markdown]
// ## 4.8 亲手写 DIN 和训练循环 · DIN and its training loop, by hand
//
// 教程的第二半（自定义模型）自己写 `ActivationUnit` 和 `DIN`。这里同样（在一个更小的演示世界上，300 个用户，和 4.7 的世界种子相同，这样下面三次训练合计不到一分钟；手写的 DIN 走 candle 的通用运算，比库的快速路径慢几倍，在 2000 个用户的世界上单是手写循环就要约一分钟）：用 candle 的运算写出整个 DIN（笔记本 3 的激活单元，加上头部），再写训练循环：分批、二元交叉熵、`backward`、优化器一步、打印下降的损失。权重通过 `VarBuilder` 创建，名字和初始化与库相同（Linear：Kaiming 正态权重、±1/√in 的均匀偏置；Dice 的 α 从 0 开始；嵌入 N(0, 0.05)）。
//
// The tutorial's second half (custom models) writes `ActivationUnit` and `DIN` by hand. So do we, on a still smaller demo world (300 users, the same seed as 4.7's, so that the three trainings below take less than a minute together; the hand-written DIN runs on candle's generic operations, several times slower than the library's fast path, and on the 2000-user world the hand-written loop alone takes about a minute): the whole DIN from candle operations (notebook 3's activation unit plus the head), then the training loop: batches, binary cross-entropy, `backward`, an optimiser step, the loss printed as it falls. Weights are created through a `VarBuilder` with the library's names and initialisation (Linear: Kaiming-normal weights and biases uniform in ±1/√in; Dice's α starts at 0; embeddings N(0, 0.05)).
//
// 先看整体结构（库画的图：`din::plot::architecture`，用本笔记本的配置）：从上到下是编号、嵌入、每段历史一个激活单元、加权求和、拼接、头部 MLP、sigmoid。
//
// The whole structure first (drawn by the library, `din::plot::architecture`, with this notebook's configuration): from top to bottom the ids, the embeddings, one activation unit per history, the weighted sums, the concatenation, the head MLP and the sigmoid.
// %%
plot::architecture(cfg.model.embed_dim, &cfg.model.attention_dims, &cfg.model.mlp_dims)?.evcxr_display();
// %% [markdown]
// **动手写 · Build it.** 下面的 `MyLinear`、`MyDice`、`MyMlp` 和 `MyDin::new` 已经写好（权重的名字与库相同）。学生版里 `my_din_embedded` 和 `my_din_steps` 的函数体是空的（`todo!()`），由你来写：查三张嵌入表（候选商品、候选类目、用户，以及两段历史 `[B, L, d]`），两个激活单元（笔记本 3 的 4d 输入 → `MyMlp` 给每个位置打分 → masked softmax → 加权求和），头部的输入 `[兴趣_商品, 兴趣_类目, 候选商品, 候选类目, 用户]`，最后 `net.head` 给出每行一个 logit。`Batch` 把每行的历史按行排成一维（`b.hist_item` 有 B·L 个 id，第 r 行占第 r·L 到 r·L + L − 1 个，填充是 id 0）：查表得到 `[B·L, d]`，`reshape((B, L, d))` 把它切回每行 L 个位置（按行排列的数据不需要复制）；`b.mask` 同样是 B·L 个 0/1。`DinSteps` 要返回每一步：两个激活单元在 masked softmax 之前的分数 `[B, L]`、两个兴趣向量 `[B, d]`、头部输入 `[B, 5d]` 和 logit `[B]`。检查单元用一个训练好的小 DIN 的权重建你的 `MyDin`，在推断和训练两种模式下按这个顺序逐步比较（分数只比较真实位置；库的激活单元只返回 softmax 之后的权重，所以用库的 `Din` 加上手写的查表过不了检查），最后把 logit 与库的 DIN 比较（误差 ≤ 1e-4）。下面的训练循环用你的 `my_din_steps`，所以写好之前它会停在 `todo!()`。
//
// **Build it.** `MyLinear`, `MyDice`, `MyMlp` and `MyDin::new` below are written (weights named as the library names them). In the student's edition the bodies of `my_din_embedded` and `my_din_steps` are empty (`todo!()`): you write them: look up the three embedding tables (target item, target category, user, and the two histories `[B, L, d]`), the two activation units (notebook 3's 4d input → `MyMlp` scores each position → masked softmax → weighted sum), the head input `[interest_item, interest_cate, target_item, target_cate, user]`, and `net.head` gives one logit per row. `Batch` stores each row's history flat, row after row (`b.hist_item` holds B·L ids, row r at positions r·L to r·L + L − 1, padding id 0): the lookup gives `[B·L, d]` and `reshape((B, L, d))` cuts it back into rows of L positions (row-major data needs no copy); `b.mask` is B·L zeros and ones likewise. `DinSteps` returns every step: both units' scores before the masked softmax `[B, L]`, both interest vectors `[B, d]`, the head input `[B, 5d]` and the logits `[B]`. The check builds your `MyDin` from the weights of a small trained DIN and compares them in that order, in evaluation and in training (the scores at the real positions only; the library's unit returns only the weights after the softmax, so the library's `Din` with hand-written lookups does not pass), then the logits against the library's DIN (to 1e-4). The training loop below runs your `my_din_steps`, so until you have written it, it stops at the `todo!()`.
// %% [exercise]
/// `x·Wᵀ + b`.
struct MyLinear { w: Tensor, b: Tensor }

impl MyLinear {
    fn new(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<MyLinear> {
        let w = vb.get_with_hints((outputs, inputs), "weight", candle_nn::init::DEFAULT_KAIMING_NORMAL)?;
        let bound = 1.0 / (inputs as f64).sqrt();
        let b = vb.get_with_hints(outputs, "bias", Init::Uniform { lo: -bound, up: bound })?;
        Ok(MyLinear { w, b })
    }
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.w.t()?)?.broadcast_add(&self.b)
    }
}

/// Dice: normalise with the batch's statistics over the real rows in training (and fold them into
/// running averages, momentum 0.1 as the library's default `Dice::MOMENTUM`), with the running
/// averages in evaluation.
struct MyDice { alpha: Tensor, running_mean: Var, running_var: Var }

impl MyDice {
    fn new(n: usize, vb: VarBuilder) -> candle_core::Result<MyDice> {
        let alpha = vb.get_with_hints(n, "alpha", Init::Const(0.0))?;
        // a `Var` shares its storage with the tensor the VarBuilder created: `set` updates both
        let running_mean = Var::from_tensor(&vb.get_with_hints(n, "running_mean", Init::Const(0.0))?)?;
        let running_var = Var::from_tensor(&vb.get_with_hints(n, "running_var", Init::Const(1.0))?)?;
        Ok(MyDice { alpha, running_mean, running_var })
    }
    /// `z: [N, n]`; `real: [N, 1]` is 1 for the rows that count in the statistics.
    fn forward(&self, z: &Tensor, real: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let (mean, var) = if train {
            let count = real.sum_all()?.maximum(1.0)?;
            let mean = z.broadcast_mul(real)?.sum_keepdim(0)?.broadcast_div(&count)?;
            let var = z.broadcast_sub(&mean)?.sqr()?.broadcast_mul(real)?.sum_keepdim(0)?.broadcast_div(&count)?;
            for (r, b) in [(&self.running_mean, &mean), (&self.running_var, &var)] {
                r.set(&(r.as_tensor().affine(0.9, 0.0)? + b.detach().squeeze(0)?.affine(0.1, 0.0)?)?)?;
            }
            (mean, var)
        } else {
            (self.running_mean.as_tensor().unsqueeze(0)?, self.running_var.as_tensor().unsqueeze(0)?)
        };
        let p = candle_nn::ops::sigmoid(&z.broadcast_sub(&mean)?.broadcast_div(&(var + 1e-8)?.sqrt()?)?)?;
        // p·z + (1 − p)·α·z
        p.mul(z)? + p.affine(-1.0, 1.0)?.mul(&z.broadcast_mul(&self.alpha)?)?
    }
}

/// Linear → Dice per hidden layer, then a Linear to one output.
struct MyMlp { hidden: Vec<(MyLinear, MyDice)>, out: MyLinear }

impl MyMlp {
    fn new(inputs: usize, dims: &[usize], vb: VarBuilder) -> candle_core::Result<MyMlp> {
        let (mut hidden, mut width) = (Vec::new(), inputs);
        for (k, &n) in dims.iter().enumerate() {
            let vb_k = vb.pp(k.to_string());
            hidden.push((MyLinear::new(width, n, vb_k.pp("linear"))?, MyDice::new(n, vb_k.pp("act"))?));
            width = n;
        }
        Ok(MyMlp { hidden, out: MyLinear::new(width, 1, vb.pp("out"))? })
    }
    fn forward(&self, x: &Tensor, real: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mut z = x.clone();
        for (linear, dice) in &self.hidden {
            z = dice.forward(&linear.forward(&z)?, real, train)?;
        }
        self.out.forward(&z)
    }
}

/// DIN: two activation units (item and category histories) and the head.
struct MyDin { att_item: MyMlp, att_cate: MyMlp, head: MyMlp }

impl MyDin {
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<MyDin> {
        let d = cfg.embed_dim;
        Ok(MyDin {
            att_item: MyMlp::new(4 * d, &cfg.attention_dims, vb.pp("attention.item.mlp"))?,
            att_cate: MyMlp::new(4 * d, &cfg.attention_dims, vb.pp("attention.cate.mlp"))?,
            head: MyMlp::new(5 * d, &cfg.mlp_dims, vb.pp("mlp"))?,
        })
    }
}

/// DIN on embedded inputs: candidates and user `[B, d]`, histories `[B, L, d]`, `mask [B, L]`:
/// both activation units, the head input and the logit.
#[allow(clippy::too_many_arguments)]
fn my_din_embedded(net: &MyDin, t_item: &Tensor, t_cate: &Tensor, user: &Tensor, h_item: &Tensor, h_cate: &Tensor, mask: &Tensor, train: bool) -> candle_core::Result<DinSteps> {
    // 提示 hint: 每个激活单元：候选 [B, d] → `unsqueeze(1)?.broadcast_as((n, l, d))?`；4d 输入 `[t, h, t − h, t ⊙ h]`（`Tensor::cat(.., 2)`）`reshape((n * l, 4 * d))`；`unit.forward(&x, &mask.reshape((n * l, 1))?, train)?.reshape((n, l))?` 是分数；
    // `masked_softmax(&scores, mask)?` 是权重；`w.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?` 是兴趣 [B, d]；头部输入 `Tensor::cat(&[..5 个..], 1)`；`net.head.forward(&x, &Tensor::ones((n, 1), ..)?, train)?.squeeze(1)?` 是 logit [B]。
    // per unit: the target [B, d] → `unsqueeze(1)?.broadcast_as((n, l, d))?`; the 4d input `[t, h, t − h, t ⊙ h]` (`Tensor::cat(.., 2)`), `reshape((n * l, 4 * d))`; `unit.forward(&x, &mask.reshape((n * l, 1))?, train)?.reshape((n, l))?` are the scores;
    // `masked_softmax(&scores, mask)?` the weights; `w.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?` the interest [B, d]; the head input `Tensor::cat(&[..five..], 1)`; `net.head.forward(&x, &Tensor::ones((n, 1), ..)?, train)?.squeeze(1)?` the logits [B].
    // BEGIN SOLUTION
    let (n, l, d) = h_item.dims3()?;
    // an activation unit: 4d input → one score per position → masked softmax → weighted sum
    let attend = |unit: &MyMlp, target: &Tensor, hist: &Tensor| -> candle_core::Result<(Tensor, Tensor)> {
        let t = target.unsqueeze(1)?.broadcast_as((n, l, d))?;
        let x = Tensor::cat(&[&t, hist, &(&t - hist)?, &(&t * hist)?], 2)?.reshape((n * l, 4 * d))?;
        let score = unit.forward(&x, &mask.reshape((n * l, 1))?, train)?.reshape((n, l))?;
        let w = masked_softmax(&score, mask)?; // the tutorial configuration normalises (notebook 3)
        Ok((score, w.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?))
    };
    let (scores_item, interest_item) = attend(&net.att_item, t_item, h_item)?;
    let (scores_cate, interest_cate) = attend(&net.att_cate, t_cate, h_cate)?;
    // the head input and the logit
    let head_input = Tensor::cat(&[&interest_item, &interest_cate, t_item, t_cate, user], 1)?;
    let every_row = Tensor::ones((n, 1), head_input.dtype(), head_input.device())?;
    let logit = net.head.forward(&head_input, &every_row, train)?.squeeze(1)?;
    Ok(DinSteps { scores_item, scores_cate, interest_item, interest_cate, head_input, logit })
    // END SOLUTION
}

/// DIN on a batch of ids: the embedding lookups (`tables` = the item, category and user tables),
/// then [`my_din_embedded`].
fn my_din_steps(net: &MyDin, tables: &[Tensor], b: &Batch, train: bool) -> candle_core::Result<DinSteps> {
    // 提示 hint: `Batch` 把历史存成一维：`b.hist_item` 有 B·L 个 id，第 r 行的历史是第 r·L … r·L + L − 1 个（按行排列，填充位置是 id 0）。`tables[0].index_select(&Tensor::new(ids, &dev)?, 0)?` 查出 [B·L, d]，
    // `reshape((n, l, d))?` 把它按行切成 [B, L, d]（不复制数据）；`b.mask` 同样是 B·L 个 0/1：`Tensor::from_slice(&b.mask, (n, l), &dev)?`。候选和用户各 B 个 id，查出来就是 [B, d]。
    // `Batch` stores histories flat: `b.hist_item` holds B·L ids, row r's history at positions r·L … r·L + L − 1 (row-major, padding is id 0). `tables[0].index_select(&Tensor::new(ids, &dev)?, 0)?` gives [B·L, d],
    // and `reshape((n, l, d))?` cuts it into rows, [B, L, d] (no copy); `b.mask` is B·L zeros and ones likewise: `Tensor::from_slice(&b.mask, (n, l), &dev)?`. Targets and users are B ids each: their lookups are [B, d].
    // BEGIN SOLUTION
    let dev = Device::Cpu;
    let (n, l, d) = (b.size, b.max_len, tables[0].dim(1)?);
    let look = |t: usize, ids: &[u32]| tables[t].index_select(&Tensor::new(ids, &dev)?, 0);
    let h_item = look(0, &b.hist_item)?.reshape((n, l, d))?;
    let h_cate = look(1, &b.hist_cate)?.reshape((n, l, d))?;
    let mask = Tensor::from_slice(&b.mask, (n, l), &dev)?;
    my_din_embedded(net, &look(0, &b.target_item)?, &look(1, &b.target_cate)?, &look(2, &b.user)?, &h_item, &h_cate, &mask, train)
    // END SOLUTION
}
// %% [check]
exercises::check_din_forward(MyDin::new, my_din_steps);
// %% [markdown]
// **动手写 · Build it：训练循环的主体 · the body of the training loop.** 学生版里 `my_train_epoch` 的函数体是空的：对 `plan` 里的每一批行，`Batch::from_split` 取出 batch，`my_forward` 得到 logit，`my_bce` 算出损失，`opt.backward_step(&loss)` 做反向传播和 AdamW 的一步；打印下降的损失，返回这个 epoch 的平均损失（按 batch 大小加权）。检查单元用一个新建的小 DIN（有种子的初始化）在 300 个用户的演示世界上调用它两次：损失要是正的有限数、第二个 epoch 比第一个低，用你的前向算出的测试 AUC 至少 0.75（漏掉优化器一步的循环停在 0.5 左右）。
//
// **Build it: the body of the training loop.** In the student's edition the body of `my_train_epoch` is empty: for each batch of rows in `plan`, `Batch::from_split` makes the batch, `my_forward` gives the logits, `my_bce` the loss, `opt.backward_step(&loss)` backpropagates and takes one AdamW step; print the falling loss and return the epoch's mean loss (weighted by batch size). The check calls it twice on a fresh small DIN (seeded initialisation) on a 300-user demo world: the loss must be positive and finite and lower in the second epoch than in the first, and the test AUC from your forward pass at least 0.75 (a loop that forgets the optimiser step stays near 0.5).
// %% [exercise]
/// One logit per row: the last of your `my_din_steps`.
fn my_forward(net: &MyDin, tables: &[Tensor], b: &Batch, train: bool) -> candle_core::Result<Tensor> {
    Ok(my_din_steps(net, tables, b, train)?.logit)
}

/// Mean binary cross-entropy of logits `z` and labels `y`: max(z, 0) − z·y + ln(1 + e^{−|z|}).
fn my_bce(z: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    ((z.relu()? - (z * y)?)? + z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?.mean_all()
}

/// Predicted CTRs of a whole split, in evaluation mode.
fn my_predict(net: &MyDin, tables: &[Tensor], split: &Split) -> candle_core::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(split.len());
    let rows: Vec<usize> = (0..split.len()).collect();
    for chunk in rows.chunks(4096) {
        let logit = my_forward(net, tables, &Batch::from_split(split, chunk), false)?;
        out.extend(candle_nn::ops::sigmoid(&logit)?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// One epoch: for each batch of rows in `plan`, forward, loss, `backward_step`; prints the loss
/// four times and returns the epoch's mean training loss.
fn my_train_epoch(net: &MyDin, tables: &[Tensor], opt: &mut AdamW, split: &Split, plan: &[Vec<usize>]) -> candle_core::Result<f64> {
    // 提示 hint: 对 `plan` 里的每一批行：`Batch::from_split(split, rows)`，`my_forward(net, tables, &b, true)?`，`my_bce(&logit, &Tensor::from_slice(&b.label, b.size, &Device::Cpu)?)?`，`opt.backward_step(&loss)?`；
    // `loss.to_scalar::<f32>()?` 取出损失，按 `b.size` 加权求平均。
    // for each batch of rows in `plan`: `Batch::from_split(split, rows)`, `my_forward(net, tables, &b, true)?`, `my_bce(&logit, &Tensor::from_slice(&b.label, b.size, &Device::Cpu)?)?`, `opt.backward_step(&loss)?`;
    // `loss.to_scalar::<f32>()?` reads the loss; average it weighted by `b.size`.
    // BEGIN SOLUTION
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (k, rows) in plan.iter().enumerate() {
        let b = Batch::from_split(split, rows);
        let logit = my_forward(net, tables, &b, true)?;
        let loss = my_bce(&logit, &Tensor::from_slice(&b.label, b.size, &Device::Cpu)?)?;
        opt.backward_step(&loss)?;
        sum += loss.to_scalar::<f32>()? as f64 * b.size as f64;
        n += b.size;
        if (k + 1) % (plan.len() / 4).max(1) == 0 {
            println!("  {:>3}%  mean loss so far 平均损失 {:.4}", 100 * (k + 1) / plan.len(), sum / n as f64);
        }
    }
    Ok(sum / n.max(1) as f64)
    // END SOLUTION
}
// %% [check]
exercises::check_training_loop(MyDin::new, my_din_steps, my_train_epoch);
// %% [markdown]
// 参数和嵌入表（它们在下面训练循环的单元里创建）。candle 的 CPU 随机数生成器不能设种子，所以这里用 `din::model::Params` 作为 `VarBuilder` 的后端：它按同样的 `Init` 提示取随机数，但来自一个有种子的生成器（换成 candle 的 `VarMap` 也可以，只是每次运行的结果略有不同）。损失函数是练习 1 的不会溢出的 BCE，这次写成张量运算。
//
// Parameters and embedding tables (created in the training loop's cell below). candle cannot seed its CPU random generator, so `din::model::Params` backs the `VarBuilder` here: it follows the same `Init` hints, drawing from a seeded generator (candle's `VarMap` works too; results then differ slightly from run to run). The loss is exercise 1's cross-entropy that does not overflow, written with tensor operations.
// %%
let cmp_cfg: TrainConfig = TrainConfig { epochs: 2, patience: 2, ..cfg.train.clone() };
let (_hand_world, hand): (DemoWorld, Dataset) = demo_dataset(300, 2026)?;
println!("the world for 4.8–4.9 (4.8–4.9 的世界): {} users 用户, train {} / val {} / test {} rows", hand.vocab.users.len(), hand.train.len(), hand.val.len(), hand.test.len());
let d: usize = cfg.model.embed_dim;
let table_rows: [usize; 3] = hand.vocab.table_rows();

// %% [markdown]
// **evcxr 里的一个陷阱 · A pitfall of evcxr.** evcxr 把每个单元编译成一个单独的动态库，并默认把依赖（candle 也在内）静态链接进每一个单元（evcxr 0.22 `src/eval_context.rs` 的 `allow_static_linking`，默认开），所以每个单元都有一份自己的 candle，它给张量编号的计数器在每个单元里都从 1 重新开始。下面两个单元各建一个张量，打印它们的编号。自动求导按编号找每个张量的梯度：如果一次 `backward` 里混有不同单元建的张量，编号会撞上，梯度被加错（我们在这里遇到过 `shape mismatch in add, lhs [256], rhs [1024, 64]`）。所以在 notebook 里，建参数的单元同时运行训练循环；4.9 里建模型和 `fit` 也在同一个单元。编译成程序（`cargo run --release -p din-notebooks --bin nb04`）时只有一份 candle，怎么分单元都没关系。另一种办法是 evcxr 的 `:allow_static_linking 0`（依赖改成动态库），代价是所有依赖按动态库重新编译一遍。
//
// evcxr compiles each cell into a library of its own and, by default, links the dependencies (candle among them) statically into every cell (`allow_static_linking`, on by default, in evcxr 0.22's `src/eval_context.rs`). So every cell has its own copy of candle, whose counter that numbers tensors starts again at 1 in each cell. The next two cells each make a tensor and print its id. Autograd finds each tensor's gradient by its id: a `backward` over tensors made in different cells can mix ids up and add gradients to the wrong tensors (we met `shape mismatch in add, lhs [256], rhs [1024, 64]` here). So, in a notebook, the cell that creates the parameters also runs the training loop, and in 4.9 the model is built in the cell that calls `fit`. Compiled as a program (`cargo run --release -p din-notebooks --bin nb04`) there is one candle, and how the code is split into cells does not matter. The other way out is evcxr's `:allow_static_linking 0` (dependencies linked as shared libraries), at the price of compiling every dependency again as a shared library.
// %%
let probe: Tensor = Tensor::zeros(1, DType::F32, &Device::Cpu)?;
println!("a tensor made in this cell 本单元建的张量: {:?}", probe.id());
// %%
{
let fresh: Tensor = Tensor::zeros(1, DType::F32, &Device::Cpu)?;
println!("made in the previous cell 上一个单元建的: {:?}; made in this cell 本单元建的: {:?}", probe.id(), fresh.id());
println!("{}", if probe.id() == fresh.id() {
    "same id: each cell has its own copy of candle (evcxr) 编号相同：每个单元有自己的一份 candle（evcxr）"
} else {
    "different ids: one copy of candle (a compiled program) 编号不同：只有一份 candle（编译成的程序）"
});
}
// %% [markdown]
// 训练循环。分批用库的 `plan_batches`（和 `fit` 同样的打乱与按长度分桶），参数在这个单元里创建（见上面的陷阱），其余也都在单元里：前向、损失、`backward_step`（反向传播加 AdamW 的一步，学习率和权重衰减与库相同）。
//
// The training loop. Batches come from the library's `plan_batches` (the same shuffle and length buckets as `fit`); the parameters are created in this cell (the pitfall above), and the rest is in the cell too: forward, loss, `backward_step` (backpropagation and one AdamW step, with the library's learning rate and weight decay).
// %%
let params: din::model::Params = din::model::Params::seeded(cmp_cfg.seed);
let vb: VarBuilder = params.var_builder(DType::F32, &Device::Cpu);
let init: Init = Init::Randn { mean: 0.0, stdev: cfg.model.embed_init_std };
let tables: Vec<Tensor> = ["item", "cate", "user"].iter().zip(table_rows)
    .map(|(name, rows)| vb.get_with_hints((rows, d), &format!("embedding.{name}"), init))
    .collect::<candle_core::Result<_>>()?;
let mine: MyDin = MyDin::new(&cfg.model, vb.clone())?;
println!("hand-built DIN 亲手写的 DIN: {} parameters, embedding tables included 含嵌入表", params.count());

let t0: Instant = Instant::now();
let mut opt: AdamW = AdamW::new(params.named().into_iter().map(|(_, v)| v).collect(),
    ParamsAdamW { lr: cmp_cfg.lr, weight_decay: cmp_cfg.weight_decay, ..Default::default() })?;
let mut hand_rows: usize = 0;
for epoch in 1..=cmp_cfg.epochs {
    let order = BatchOrder { batch_size: cmp_cfg.batch_size, shuffle: Some(cmp_cfg.seed), bucket_by_length: cmp_cfg.bucket_by_length };
    let plan: Vec<Vec<usize>> = plan_batches(&hand.train, order, epoch as u64);
    println!("epoch {epoch}");
    let mean_loss: f64 = my_train_epoch(&mine, &tables, &mut opt, &hand.train, &plan)?;
    println!("epoch {epoch}: mean training loss 平均训练损失 {mean_loss:.4}");
    hand_rows += plan.iter().map(|rows| rows.len()).sum::<usize>();
}
let hand_secs: f64 = t0.elapsed().as_secs_f64();
let hand_auc: f64 = auc(&my_predict(&mine, &tables, &hand.test)?, &hand.test.label).unwrap_or(f64::NAN);
println!("hand-written loop 手写循环: {} epochs in {hand_secs:.1} s ({:.0} samples/s), test AUC {hand_auc:.4}", cmp_cfg.epochs, hand_rows as f64 / hand_secs);
// %% [markdown]
// **一个 batch，从编号到 CTR · One batch, from ids to CTR.** 用刚训练好的手写 DIN（推断模式）走一遍测试集的 4 行，每一步打印形状（B = batch 行数，L = 本 batch 最长的历史，d = `embed_dim`）。
//
// The hand-built DIN just trained (evaluation mode) on 4 test rows, with the shape printed at every step (B = rows in the batch, L = the batch's longest history, d = `embed_dim`).
// %%
{
let b: Batch = Batch::from_split(&hand.test, &[0, 1, 2, 3]);
let (n, l, d) = (b.size, b.max_len, tables[0].dim(1)?);
let look = |t: usize, ids: &[u32]| tables[t].index_select(&Tensor::new(ids, &Device::Cpu)?, 0);
println!("1 ids 编号: target_item [B] = {:?}; hist_item [B·L] = {} ids → [B, L] = [{n}, {l}]; history lengths 历史长度 {:?}", b.target_item, b.hist_item.len(), b.hist_len);
let t_item: Tensor = look(0, &b.target_item)?;
let h_item: Tensor = look(0, &b.hist_item)?.reshape((n, l, d))?;
println!("2 embeddings 嵌入: target item {:?} [B, d]; item history {:?} [B, L, d]; mask [B, L]", t_item.dims(), h_item.dims());
let t: Tensor = t_item.unsqueeze(1)?.broadcast_as((n, l, d))?;
let unit_in: Tensor = Tensor::cat(&[&t, &h_item, &(&t - &h_item)?, &(&t * &h_item)?], 2)?;
println!("3 unit input 激活单元输入 [t, h, t−h, t⊙h]: {:?} [B, L, 4d]", unit_in.dims());
let mask: Tensor = Tensor::from_slice(&b.mask, (n, l), &Device::Cpu)?;
let scores: Tensor = mine.att_item.forward(&unit_in.reshape((n * l, 4 * d))?, &mask.reshape((n * l, 1))?, false)?.reshape((n, l))?;
println!("4 scores 分数: {:?} [B, L] → masked softmax → weights 权重 {:?} [B, L]", scores.dims(), masked_softmax(&scores, &mask)?.dims());
let steps: DinSteps = my_din_steps(&mine, &tables, &b, false)?;
println!("5 interest 兴趣: item {:?}, cate {:?} [B, d]", steps.interest_item.dims(), steps.interest_cate.dims());
println!("6 head input 头部输入 [V_item, V_cate, t_item, t_cate, user]: {:?} [B, 5d]", steps.head_input.dims());
println!("7 logit: {:?} [B] = {:.3?}", steps.logit.dims(), steps.logit.to_vec1::<f32>()?);
println!("8 CTR = sigmoid(logit): {:.3?}; labels 标签 {:?}", candle_nn::ops::sigmoid(&steps.logit)?.to_vec1::<f32>()?, b.label);
}
// %% [markdown]
// 同样的模型配置、同样的训练配置和 epoch 数，交给库的 `fit`：
//
// The same model configuration, training configuration and epochs, through the library's `fit`:
// %%
let t0: Instant = Instant::now();
let (lib_model, lib_hist): (Model, History) = train_model(&hand, ModelKind::Din, &cfg.model, &cmp_cfg, &mut |_| {})?;
let lib_secs: f64 = t0.elapsed().as_secs_f64();
let lib_auc: f64 = auc(&predict_split(&lib_model, &hand.test, 4096)?, &hand.test.label).unwrap_or(f64::NAN);
let lib_speed: f64 = lib_hist.epochs.iter().map(|e| e.samples_per_s).sum::<f64>() / lib_hist.epochs.len() as f64;
println!("library fit 库的 fit: {} parameters (hand-built 亲手写的: {}); {} epochs in {lib_secs:.1} s incl. validation ({lib_speed:.0} samples/s in training), best epoch {}, test AUC {lib_auc:.4}",
    lib_model.n_params(), params.count(), lib_hist.epochs_run(), lib_hist.best_epoch);
println!("test AUC difference 测试 AUC 之差: {:+.4} → {}", hand_auc - lib_auc,
    if (hand_auc - lib_auc).abs() <= 0.01 { "within 0.01 在 0.01 以内" } else { "more than 0.01 超过 0.01" });
println!("speed 速度: the library trains {:.1}× as fast as the hand-written loop 库是手写循环的 {:.1} 倍",
    lib_speed / (hand_rows as f64 / hand_secs), lib_speed / (hand_rows as f64 / hand_secs));
// %% [markdown]
// **为什么库更快，又怎么知道它算的是同一个函数？** 手写的 DIN 把每个历史填充到 batch 里最长的长度，激活单元在填充位置上也要算（再被 mask 掉），每一步 candle 都为 4d 输入、每个隐藏层、Dice 的每个中间量分配并保存一个张量，反向传播再把它们逐个走一遍。库的快速路径（`Layout::Packed` 与 `Kernels::Fused`）只存真实的历史位置，并把整个激活单元（4d 输入、Linear、Dice、打分、softmax、加权求和）做成一个 CPU 内核，手写前向和反向，中间量留在缓存里，不经过 candle 的计算图；嵌入表用只更新本 batch 涉及的行的稀疏 Adam（AdamW 每一步都更新整张表）。它计算的是同一个函数：项目的测试（`crates/din/tests/model_correctness.rs`，`crates/din-kernels` 的单元测试）逐项比较快速路径和公式写法（`Kernels::Reference`，即笔记本 3 里和你手写的单元相同的那个）的输出和梯度，并用有限差分检查梯度；笔记本 3 把三者的差打印出来。两者的 AUC 仍有小差：嵌入的优化器不同（稀疏 Adam 对稠密 AdamW），以及 `fit` 在验证集上挑最好的 epoch。
//
// **Why is the library faster, and how do we know it computes the same function?** The hand-written DIN pads every history to the batch's longest, runs the activation unit on the padding too (then masks it), and candle allocates and keeps a tensor for the 4d input, every hidden layer and every intermediate of Dice, which backpropagation then walks one by one. The library's fast path (`Layout::Packed` with `Kernels::Fused`) stores only the real history positions and runs the whole activation unit (4d input, Linear, Dice, scores, softmax, weighted sum) as one CPU kernel with a hand-written forward and backward pass, its intermediates kept in cache and outside candle's graph; the embedding tables get a sparse Adam that updates only the rows a batch touched (AdamW updates every table row at every step). It is the same function: the project's tests (`crates/din/tests/model_correctness.rs`, the unit tests of `crates/din-kernels`) compare the fast path's outputs and gradients with the formulas as written (`Kernels::Reference`, the path notebook 3 matched with your hand-built unit), and check the gradients by finite differences; notebook 3 prints the three-way differences. The AUCs still differ a little: the embeddings' optimisers differ (sparse Adam against dense AdamW), and `fit` picks the best epoch on validation.
// %% [markdown]
// ## 4.9 把你写的网络交给 `fit` · Your own network, trained by `fit`
//
// `fit` 训练任何实现了 `din::train::Trainable` 的网络：它只需要一个函数，把嵌入后的 batch（`Lookup`：候选、用户、历史及其 mask）变成每行一个 logit。嵌入表、稀疏 Adam、验证、提前停止、历史记录、预测和图都由库负责。`Model::custom` 用一个 `VarBuilder` 建你的网络；`.with_layout(Layout::Padded)` 让历史以 `[B, L, d]` 加 mask 的形式交给你（默认的打包布局只有库的网络能读）。
//
// `fit` trains any network implementing `din::train::Trainable`: one function that turns the embedded batch (`Lookup`: candidates, user, history and its mask) into one logit per row. The library does the embedding tables, sparse Adam, validation, early stopping, the history, predictions and plots. `Model::custom` builds your network from a `VarBuilder`; `.with_layout(Layout::Padded)` hands you the history as `[B, L, d]` with a mask (the default packed layout is read only by the library's networks).
// %%
impl Trainable for MyDin {
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output> {
        let steps = my_din_embedded(self, &x.target_item, &x.target_cate, &x.user, &x.hist_item, &x.hist_cate, &x.mask, mode.train)?;
        Ok(Output { logit: steps.logit, attention: None })
    }
}
// %%
let mut my_model: Model<MyDin> = Model::custom(cfg.model.clone(), table_rows, cmp_cfg.seed, &Device::Cpu, DTYPE, |vb| MyDin::new(&cfg.model, vb))?
    .with_layout(Layout::Padded);
let my_hist: History = fit(&mut my_model, &hand.train, &hand.val, &cmp_cfg, &mut |p: Progress| {
    if let Progress::EpochEnd(e) = p {
        println!("{e}");
    }
})?;
let my_probs: Vec<f32> = predict_split(&my_model, &hand.test, 4096)?;
let my_test: Metrics = Metrics::compute(&my_probs, &hand.test.label, &hand.test.user);
println!("your DIN through fit 你的 DIN 经 fit 训练: test AUC {:.4}  GAUC {:.4} (library DIN 库的 DIN: {lib_auc:.4}; hand loop 手写循环: {hand_auc:.4}); best epoch {}",
    my_test.auc, my_test.gauc, my_hist.best_epoch);
// %% [markdown]
// ## 4.10 上下文特征：一天中的几点 · A context feature: the hour of day
//
// 教程在 4.7 引用的那一节里说，头部的输入还要拼上“上下文特征”的嵌入。演示世界和 Amazon-Electronics 都没有现成的上下文特征，但每个事件都有时间：一次曝光发生在一天中的几点，就是最简单的上下文。本节把它加进 4.8 的 `MyDin`，再用 `fit` 训练，量一量它带来了什么。
//
// The section of the tutorial quoted in 4.7 says the head's input also concatenates the embeddings of "context features". Neither the demo world nor Amazon-Electronics has any, but every event has a time: the hour of day of an impression is the simplest context there is. This section adds it to 4.8's `MyDin`, trains it with `fit`, and measures what it brings.
//
// **动手写 · Build it (1)：** `hour_of_day(t)`：Unix 时间（秒）是一天中的几点（0–23，UTC）。检查单元也用 1970 年以前的（负的）时间。
//
// **Build it (1):** `hour_of_day(t)`: the hour of day (0–23, UTC) of a Unix time in seconds. The check also uses times before 1970 (negative ones).
// %% [exercise]
/// The hour of day (0–23, UTC) of a Unix time in seconds.
fn hour_of_day(unix_seconds: i64) -> u32 {
    // 提示 hint: 一天 86,400 秒、一小时 3,600 秒；1970 年以前的时间是负数：`%` 会给出负余数，`rem_euclid` 不会。
    // a day is 86,400 s, an hour 3,600 s; times before 1970 are negative: `%` gives a negative remainder there, `rem_euclid` does not.
    // BEGIN SOLUTION
    (unix_seconds.rem_euclid(86_400) / 3_600) as u32
    // END SOLUTION
}
// %% [check]
exercises::check_hour_of_day(hour_of_day);
// %% [markdown]
// 每一行的上下文是它的**曝光时间**：目标事件的时间（`Split::target_times`；负样本和它的正样本是同一次曝光，时间相同）。`Split::with_context` 给每行一个上下文 id，`fit` 造 batch 时把它放进 `Batch::context`，嵌入之后在 `Lookup::context` 里交给你的网络（库自带的网络不看它）。
//
// Each row's context is its **impression time**: the time of its target event (`Split::target_times`; a negative is the same impression as its positive and shares the time). `Split::with_context` gives every row a context id; `fit` puts it in `Batch::context` when it makes a batch, and your network gets it in `Lookup::context` (the library's own networks ignore it).
// %%
/// The split with each row's impression hour as its context id.
fn with_hours(split: &Split) -> din::Result<Split> {
    let times: Vec<i64> = split.target_times().ok_or_else(|| din::Error::Config("this split does not know its event times".into()))?;
    split.clone().with_context(times.iter().map(|&t| hour_of_day(t)).collect())
}
let hand_hours: Dataset = Dataset { train: with_hours(&hand.train)?, val: with_hours(&hand.val)?, test: with_hours(&hand.test)?, ..hand.clone() };
{
    // the share of positives among the rows of each hour
    let (mut pos, mut all) = ([0usize; 24], [0usize; 24]);
    for (&h, &y) in hand_hours.train.context.iter().zip(&hand_hours.train.label) { all[h as usize] += 1; pos[h as usize] += (y == 1.0) as usize; }
    let share: Vec<f64> = (0..24).map(|h| pos[h] as f64 / all[h].max(1) as f64).collect();
    println!("training rows per hour 每小时的训练行数: {} to {}", all.iter().min().unwrap(), all.iter().max().unwrap());
    println!("share of positives per hour 每小时正样本的比例: {:.3} to {:.3}", share.iter().cloned().fold(1.0, f64::min), share.iter().cloned().fold(0.0, f64::max));
}
// %% [markdown]
// **动手写 · Build it (2)：** `my_din_hour`：一个 `[24, d]` 的小时表 `net.hour`，按 `x.context` 查出每行的小时向量，加到用户向量上，再交给你在 4.8 写的 `my_din_embedded`，返回 logit。检查单元在一个训练好的小 DIN 和一张随机小时表上，把你的 logit 和“库的 DIN 在用户向量 + 小时向量上”的结果比较（推断和训练两种模式、两组不同的小时）；不用小时、或查错一行，都过不了。
//
// **为了可读性的选择 · A choice made for readability.** 教程的做法是**拼接**：头部输入多一个 d 维的块（6d），头部的第一层多一组权重。这里把小时向量**加**到用户向量上，头部仍是 5d，4.8 的 `my_din_embedded` 原样可用。对头部的第一层（线性）来说，加法等于拼接再让小时的权重和用户的权重相同：$W_u (u + h) = W_u u + W_u h$，所以它比拼接少了一组自由的权重；想要拼接，就给 `MyDin` 一个 6d 的头部，在 `head_input` 里多拼一块。
//
// **Build it (2):** `my_din_hour`: a `[24, d]` table of hours, `net.hour`; look up each row's hour vector with `x.context`, add it to the user vector, hand everything to the `my_din_embedded` you wrote in 4.8 and return the logits. The check compares your logits, on a small trained DIN and a random hour table, with the library's DIN run on user vector + hour vector (in evaluation and in training, for two different sets of hours); leaving the hour out, or looking up the wrong row, does not pass.
//
// **A choice made for readability.** The tutorial **concatenates**: the head input gets one more d-wide block (6d) and the head's first layer one more set of weights. Here the hour vector is **added** to the user vector, so the head stays 5d and 4.8's `my_din_embedded` works as it is. For the head's (linear) first layer, adding is concatenating with the hour's weights tied to the user's: $W_u (u + h) = W_u u + W_u h$, one set of free weights fewer than concatenation; to concatenate, give `MyDin` a 6d head and append one more block to `head_input`.
// %% [exercise]
/// DIN with the hour of day of the impression added to the user vector.
struct MyDinHour { din: MyDin, hour: Tensor }

impl MyDinHour {
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<MyDinHour> {
        let hour = vb.get_with_hints((24, cfg.embed_dim), "hour", Init::Randn { mean: 0.0, stdev: 0.05 })?;
        Ok(MyDinHour { din: MyDin::new(cfg, vb)?, hour })
    }
}

/// Logits `[B]` of an embedded batch whose `context` holds each row's hour.
fn my_din_hour(net: &MyDinHour, x: &Lookup, train: bool) -> candle_core::Result<Tensor> {
    // 提示 hint: `x.context` 是每行的小时 id（`Option<Tensor>`，u32 [B]）；`net.hour.index_select(hours, 0)?` → [B, d]，加到 `x.user` 上，再调用 `my_din_embedded(&net.din, ..)` 取 `.logit`。
    // `x.context` holds each row's hour id (`Option<Tensor>`, u32 [B]); `net.hour.index_select(hours, 0)?` → [B, d], add it to `x.user`, then call `my_din_embedded(&net.din, ..)` and take `.logit`.
    // BEGIN SOLUTION
    let hours = x.context.as_ref().ok_or_else(|| candle_core::Error::Msg("the batch has no hours".into()))?;
    let user = (&x.user + net.hour.index_select(hours, 0)?)?;
    Ok(my_din_embedded(&net.din, &x.target_item, &x.target_cate, &user, &x.hist_item, &x.hist_cate, &x.mask, train)?.logit)
    // END SOLUTION
}
// %% [check]
exercises::check_context_feature(MyDinHour::new, my_din_hour);
// %% [markdown]
// 训练：和 4.9 完全相同的配置和世界，只是网络多了小时。再用库的 DIN 换 4 个训练种子训练，看看这个 600 行的测试集上，只换种子 AUC 会变多少。
//
// Training: the configuration and world of 4.9, the network now with the hour. Then the library's DIN with 4 training seeds, to see how much the AUC on this 600-row test set moves with the seed alone.
// %%
impl Trainable for MyDinHour {
    fn forward_t(&self, x: &Lookup, mode: Mode) -> candle_core::Result<Output> {
        Ok(Output { logit: my_din_hour(self, x, mode.train)?, attention: None })
    }
}
// %%
let mut hour_model: Model<MyDinHour> = Model::custom(cfg.model.clone(), table_rows, cmp_cfg.seed, &Device::Cpu, DTYPE, |vb| MyDinHour::new(&cfg.model, vb))?
    .with_layout(Layout::Padded);
let _hour_hist: History = fit(&mut hour_model, &hand_hours.train, &hand_hours.val, &cmp_cfg, &mut |p: Progress| {
    if let Progress::EpochEnd(e) = p {
        println!("{e}");
    }
})?;
let hour_test: Metrics = Metrics::compute(&predict_split(&hour_model, &hand_hours.test, 4096)?, &hand.test.label, &hand.test.user);
println!("with the hour 加上小时: test AUC {:.4}  GAUC {:.4}; without 不加 (4.9): {:.4}  {:.4}; difference 差 {:+.4}",
    hour_test.auc, hour_test.gauc, my_test.auc, my_test.gauc, hour_test.auc - my_test.auc);
{
    let mut aucs: Vec<f64> = Vec::new();
    for seed in [2026u64, 1, 2, 3] {
        let (m, _) = train_model(&hand, ModelKind::Din, &cfg.model, &TrainConfig { seed, ..cmp_cfg.clone() }, &mut |_| {})?;
        aucs.push(auc(&predict_split(&m, &hand.test, 4096)?, &hand.test.label).unwrap());
    }
    println!("library DIN 库的 DIN, seeds 种子 2026, 1, 2, 3: test AUC {:?} → spread 变化范围 {:.4}",
        aucs.iter().map(|a| (a * 1e4).round() / 1e4).collect::<Vec<f64>>(),
        aucs.iter().cloned().fold(0.0, f64::max) - aucs.iter().cloned().fold(1.0, f64::min));
}
// %% [markdown]
// **量出来的结果 · What was measured.** 加上小时后测试 AUC 从 0.8919 变成 0.8856（−0.0062），而只换训练种子，同一个 DIN 在这个测试集上就在 0.8706 到 0.9054 之间变化（范围 0.0347）：**小时没有带来可以测出的好处**。这在意料之中，而且是两个原因：
//
// * 每个负样本和它的正样本是同一次曝光、同一个小时，所以每个小时里正样本的比例都正好是 0.500（上面打印的）：小时本身不可能预测点击，只能通过和商品、兴趣的**交互**起作用（例如晚上更常点游戏）。
// * 演示世界的生成器根本不看时间（`crates/din/src/synth/demo.rs`：时间只用来给点击排序），所以这样的交互也不存在。
//
// 一个特征有没有用，要看数据里有没有它的信号；DIN 的结构帮不了一个没有信号的特征。在真实日志里，小时、星期、设备常常和点击的内容有关，那时这样加进去的上下文才会有用。注意 Amazon-Electronics 的评论时间只精确到天（`unixReviewTime` 都是零点，本项目的 Amazon 形状的合成世界也照此生成，见 `crates/din/src/synth/amazon.rs`），在那份数据上“几点”永远是 0，可以换成星期几或距上一次评论的天数。
//
// **What was measured.** With the hour the test AUC goes from 0.8919 to 0.8856 (−0.0062), while changing only the training seed moves the same DIN between 0.8706 and 0.9054 on this test set (a range of 0.0347): **the hour brings no measurable gain**. As expected, for two reasons:
//
// * Each negative is the same impression as its positive, at the same hour, so the share of positives is exactly 0.500 in every hour (printed above): the hour alone cannot predict a click; it can only act through **interactions** with items and interests (games clicked more at night, say).
// * The demo world's generator never looks at the time (`crates/din/src/synth/demo.rs`: times only order the clicks), so there is no such interaction either.
//
// Whether a feature helps depends on whether the data hold its signal; DIN's structure cannot help a feature without one. In real logs the hour, the weekday or the device often go with what is clicked, and a context added this way can then pay off. Note that Amazon-Electronics' review times are whole days (`unixReviewTime` is always midnight; this project's Amazon-shaped synthetic world is generated the same way, see `crates/din/src/synth/amazon.rs`): on those data the hour is always 0; use the weekday or the days since the previous review instead.
// %% [markdown]
// **小结 Summary.** 训练在验证集上选出最好的 epoch；测试集的 AUC 等于 ROC 曲线下的面积。注意：本项目的划分没有泄漏（笔记本 1），所以这里的测试 AUC 没有被训练集里的测试样本抬高。下一本：DIN 与传统模型的对比，以及论文的两个技巧。
//
// Training picks the best epoch on validation; the test AUC is the area under the ROC curve. The split has no leakage (notebook 1), so this test AUC is not inflated by test rows in train. Next: DIN vs the base model and the paper's two tricks (notebook 5).
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **不会溢出的交叉熵和它的梯度**（代码）：写 `bce(z, y)`，返回 `(损失, dℓ/dz)`：logit `z`、标签 `y` 的二元交叉熵和它对 z 的导数。照公式 `−y·ln σ(z) − (1−y)·ln(1−σ(z))` 直接写，在 z = ±200 时会得到 inf 或 NaN；改写成 `max(z, 0) − z·y + ln(1 + e^{−|z|})`。导数化简后是 `σ(z) − y`：预测减标签，永远在 (−1, 1) 之间，这也是训练直接用 logit 算损失的原因。检查单元把损失和训练用的 `din::train::bce_with_logits` 比较，把梯度和 `σ(z) − y` 比较（库的损失函数不返回梯度，所以直接调用它过不了检查）。
// 2. **按定义算 AUC**（代码）：写 `auc_by_pairs(scores, labels)`，返回对数 `(排对的, 并列的, 全部)`：所有 (正, 负) 对里，分数把正样本排在前面的有几对、分数相同的有几对、一共几对；AUC = (排对 + 并列/2) / 全部（**分数相同的对算 ½**）。检查单元先核对这三个数（库按排名算 AUC，不给出对数，所以直接调用库过不了检查），再核对 AUC；它的分数有很多并列。
// 3. **GAUC**（代码）：写 `gauc_by_hand(scores, labels, users)`，返回 `(每个用户, GAUC)`：每个有两种标签的用户的 `(用户, 他自己的 AUC, 行数)`（按用户 id 从小到大；只有一种标签的用户跳过），以及这些 AUC 按行数加权的平均。检查单元先核对每个用户的那一项（库的 `gauc` 只返回总数，所以直接调用它过不了检查），再核对 GAUC。可以用你的 `auc_by_pairs` 的对数。
// 4. **思考**：把 `train_cfg.patience` 改成 1、`epochs` 改成 10，重新训练：在哪个 epoch 停？恢复的是哪个 epoch 的权重？
// 5. **改模型**：把 4.8 里 `MyDin` 的 `MyDice` 换成 PReLU（每个神经元一个斜率，初始 0.25），用同一个循环重新训练：测试 AUC 和速度各变了多少？和笔记本 5 里库的 Dice 对 PReLU 比较。
//
// 1. **A cross-entropy that does not overflow, and its gradient** (code): write `bce(z, y)` returning `(loss, dloss/dz)`: the binary cross-entropy of logit `z` and label `y` and its derivative in z. Written as `−y·ln σ(z) − (1−y)·ln(1−σ(z))` it gives inf or NaN at z = ±200; rewrite it as `max(z, 0) − z·y + ln(1 + e^{−|z|})`. The derivative simplifies to `σ(z) − y`: prediction minus label, always within (−1, 1), which is why training computes the loss from the logit. The check compares the loss with `din::train::bce_with_logits`, the loss training uses, and the gradient with `σ(z) − y` (the library's loss returns no gradient, so calling it does not pass).
// 2. **AUC by its definition** (code): write `auc_by_pairs(scores, labels)` returning the pair counts `(right, tied, all)`: of all (positive, negative) pairs, how many the scores rank right, how many they tie, how many there are; the AUC is (right + tied/2) / all (**a tie counts ½**). The check looks at the three counts first (the library computes AUC from ranks and gives no counts, so calling it does not pass), then at the AUC; its scores have many ties.
// 3. **GAUC** (code): write `gauc_by_hand(scores, labels, users)` returning `(per user, GAUC)`: `(user, that user's own AUC, rows)` for every user with both labels (in increasing user order; users with one label only are skipped), and those AUCs averaged with the row counts as weights. The check looks at each user's entry first (the library's `gauc` returns only the total, so calling it does not pass), then at the GAUC. You may use your `auc_by_pairs`'s counts.
// 4. **Think**: set `train_cfg.patience = 1`, `epochs = 10` and retrain: at which epoch does it stop, and which epoch's weights are restored?
// 5. **Change the model**: in 4.8, replace `MyDin`'s `MyDice` with PReLU (one slope per neuron, starting at 0.25) and retrain with the same loop: how much do the test AUC and the speed change? Compare with the library's Dice vs PReLU in notebook 5.
// %% [exercise]
fn bce(z: f64, y: f64) -> (f64, f64) {
    // 提示 hint: `z.max(0.0)`、`z.abs()`、`(-z.abs()).exp().ln_1p()`（= ln(1 + e^{−|z|})，不会溢出）；σ(z) 在 z < 0 时写成 e^z / (1 + e^z)，这样不会算 e^{−z} 的大数。
    // `z.max(0.0)`, `z.abs()`, `(-z.abs()).exp().ln_1p()` (= ln(1 + e^{−|z|}), no overflow); for z < 0 write σ(z) = e^z / (1 + e^z) so that no e^{−z} of a large number is computed.
    // BEGIN SOLUTION
    let loss = z.max(0.0) - z * y + (-z.abs()).exp().ln_1p();
    // σ(z) without exp of a large positive number
    let sigma = if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) };
    (loss, sigma - y)
    // END SOLUTION
}
// %% [check]
exercises::check_bce(bce);
// %% [exercise]
fn auc_by_pairs(scores: &[f32], labels: &[f32]) -> (f64, f64, f64) {
    // 提示 hint: 两重循环：i 是正样本（label 1.0）、j 是负样本（0.0）；`>` 算排对，`==` 算并列。
    // two loops: i a positive (label 1.0), j a negative (0.0); `>` counts right, `==` tied.
    // BEGIN SOLUTION
    let (mut right, mut tied, mut pairs) = (0.0, 0.0, 0.0);
    for (i, &si) in scores.iter().enumerate() {
        for (j, &sj) in scores.iter().enumerate() {
            if labels[i] == 1.0 && labels[j] == 0.0 {
                pairs += 1.0;
                if si > sj {
                    right += 1.0;
                } else if si == sj {
                    tied += 1.0;
                }
            }
        }
    }
    (right, tied, pairs)
    // END SOLUTION
}
// %% [check]
exercises::check_auc(auc_by_pairs);
// %% [exercise]
fn gauc_by_hand(scores: &[f32], labels: &[f32], users: &[u32]) -> (Vec<(u32, f64, usize)>, f64) {
    // 提示 hint: `BTreeMap<u32, Vec<usize>>` 按用户收集行号（按 id 有序）；只有一种标签的用户跳过；每个用户的 AUC 用你的 `auc_by_pairs`，按行数加权平均。
    // collect each user's row numbers in a `BTreeMap<u32, Vec<usize>>` (ordered by id); skip users with one label only; each user's AUC from your `auc_by_pairs`, averaged weighted by rows.
    // BEGIN SOLUTION
    let mut rows: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, &u) in users.iter().enumerate() {
        rows.entry(u).or_default().push(i);
    }
    let mut per_user = Vec::new();
    let (mut num, mut den) = (0.0, 0.0);
    for (&u, r) in &rows {
        let s: Vec<f32> = r.iter().map(|&i| scores[i]).collect();
        let l: Vec<f32> = r.iter().map(|&i| labels[i]).collect();
        if l.contains(&1.0) && l.contains(&0.0) {
            let (right, tied, pairs) = auc_by_pairs(&s, &l);
            let auc = (right + tied / 2.0) / pairs;
            per_user.push((u, auc, r.len()));
            num += auc * r.len() as f64;
            den += r.len() as f64;
        }
    }
    (per_user, num / den)
    // END SOLUTION
}
// %% [check]
exercises::check_gauc(gauc_by_hand);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 4. 和 4.2 一样：第 3 个 epoch 之后停，恢复第 2 个 epoch 的权重（4.4 打印了这次的结果）。`epochs` 只是上限；同一个种子下前几个 epoch 完全相同（数据顺序由 `seed` 和 epoch 编号决定，学习率没有随总 epoch 数变化的调度），第 3 个 epoch 的验证 AUC（0.9323）没有超过第 2 个（0.9329），`patience = 1` 就在这里停下。
//
// 4. As in 4.2: it stops after epoch 3 and restores epoch 2's weights (4.4 prints this run's). `epochs` is only a ceiling; with one seed the first epochs are identical (the data order depends on `seed` and the epoch number, and no learning-rate schedule depends on the total number of epochs), and epoch 3's validation AUC (0.9323) does not beat epoch 2's (0.9329), so `patience = 1` stops there.
// %% [end]
    Ok(())
}
