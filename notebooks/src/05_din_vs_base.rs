//! Source of `notebooks/05_din_vs_base.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 5 DIN 与传统模型，以及论文的两个技巧 · DIN vs the base model, and the paper's two tricks
//
// > 传统模型相当于是直接平均化，$w_i = \frac{1}{n}$，所有历史行为权重相同。
//
// > 阿里在 DIN 中还提出了两个工程优化，进一步提升效果：
// > * Mini-batch Aware Regularization：解决小批次训练时的正则化偏差，让正则化更稳定；
// > * Activation Regularization：对注意力权重做正则化，避免过拟合。
//
// *The traditional model averages, $w_i = 1/n$. The tutorial lists DIN's two engineering tricks as mini-batch aware regularisation and "activation regularisation" of the attention weights.*
//
// **更正 Correction.** 论文（Zhou et al., KDD 2018, 第 5 节“训练技巧”）的两个技巧是 **Mini-batch Aware Regularization** 和 **Dice**（数据自适应的激活函数，5.2 节；正则化是 5.1 节），并没有“对注意力权重做正则化”。本笔记本要训练 4 个模型，所以用小一些的演示世界（800 个用户）、3 个 epoch。在演示世界上对比：DIN vs 传统模型（AUC 并排，RelaImpr）；Dice vs PReLU；mini-batch aware 正则化开和关；注意力与演示世界的真实兴趣对照。最后说明 DIN 什么时候**没有**帮助。
//
// The paper's two techniques (section 5, training techniques) are **mini-batch aware regularisation** and **Dice**, a data-adaptive activation (section 5.2; the regularisation is section 5.1); there is no "activation regularisation" of the attention weights. This notebook trains four models, so it uses a smaller demo world (800 users) and 3 epochs. It compares, on the demo world: DIN vs the base model (AUC side by side, RelaImpr), Dice vs PReLU, mini-batch aware regularisation on and off, and attention against the demo world's ground truth; and says when DIN does **not** help.
// %% [markdown setup]
// %% [setup]
// %% [imports]
use din_teach::prelude::*;
// %%
din::tune_process();
// 从仓库根目录运行：两个版本（notebooks/ 和 notebooks/student/）都用同一个 data/、out/、runs/ · run from the repository root, so both editions use the same data/, out/, runs/
enter_repo_root()?;
// four models to train: a smaller demo world (800 users) and 3 epochs keep this notebook short
let (world, ds): (DemoWorld, Dataset) = demo_dataset(800, 2026)?;
let tut: TutorialConfig = TutorialConfig::default();
let cfg: TutorialConfig = TutorialConfig { users: 800, train: TrainConfig { epochs: 3, ..tut.train.clone() }, ..tut };
println!("demo world: {} users, train {} / val {} / test {} rows; {} epochs", cfg.users, ds.train.len(), ds.val.len(), ds.test.len(), cfg.train.epochs);
// train one model, report its test metrics
fn run(ds: &Dataset, name: &str, kind: ModelKind, m: &ModelConfig, t: &TrainConfig) -> din::Result<(Model, Metrics)> {
    let t0: Instant = Instant::now();
    let (model, h) = train_model(ds, kind, m, t, &mut |_p: Progress| {})?;
    let probs = predict_split(&model, &ds.test, 4096)?;
    let test = Metrics::compute(&probs, &ds.test.label, &ds.test.user);
    println!("{name:<28} test {test}  (best epoch {}, {:.0} s)", h.best_epoch, t0.elapsed().as_secs_f64());
    Ok((model, test))
}
// %% [markdown]
// ## 5.1 DIN vs 传统模型 · DIN vs the base model
//
// 传统模型（base）和 DIN 完全相同，只是历史用平均池化（$w_i = 1/n$，masked mean）而不是注意力。RelaImpr（论文公式 11）衡量相对于随机猜（AUC 0.5）的提升：
//
// The base model is DIN with the history mean-pooled ($w_i = 1/n$) instead of attended. RelaImpr (paper, eq. 11) measures the improvement over chance (AUC 0.5):
//
// $$\text{RelaImpr} = \left(\frac{\text{AUC(model)} - 0.5}{\text{AUC(base)} - 0.5} - 1\right) \times 100\%$$
//
// 论文的表格（第 6 节）里的 “AUC” 是按用户加权的 AUC，即 GAUC（论文公式 10），RelaImpr 也是用它算的；下面两种都打印。
//
// The "AUC" of the paper's tables (section 6) is the user-weighted AUC, i.e. GAUC (paper, eq. 10), and RelaImpr is computed on it; the cell prints both.
// %%
let din: (Model, Metrics) = run(&ds, "DIN (Dice, softmax)", ModelKind::Din, &cfg.model, &cfg.train)?;
let base: (Model, Metrics) = run(&ds, "base 传统模型 (w_i = 1/n)", ModelKind::Base, &cfg.model, &cfg.train)?;
println!("RelaImpr of DIN over base: on test GAUC (the paper's way 论文的算法) {:+.2}%; on test AUC {:+.2}%",
    rela_impr(din.1.gauc, base.1.gauc), rela_impr(din.1.auc, base.1.auc));
// %%
plot::bars(&format!("DIN vs 传统模型: RelaImpr {:+.1}%", rela_impr(din.1.auc, base.1.auc)), "模型 model", "测试集 AUC test AUC",
    &["DIN".to_string(), "base 传统模型".to_string()], &[din.1.auc, base.1.auc], Baseline::Chance)?.evcxr_display();
// %%
let roc_din: Vec<(f64, f64)> = roc_points(&predict_split(&din.0, &ds.test, 4096)?, &ds.test.label);
let roc_base: Vec<(f64, f64)> = roc_points(&predict_split(&base.0, &ds.test, 4096)?, &ds.test.label);
plot::roc("测试集 ROC: DIN vs 传统模型", &[Series::new(format!("DIN  AUC {:.4}", din.1.auc), roc_din.clone()), Series::new(format!("base AUC {:.4}", base.1.auc), roc_base.clone())])?.evcxr_display();
// %% [markdown]
// ## 5.2 注意力与真实兴趣 · Attention against the ground truth
//
// 演示世界知道每个商品属于哪个兴趣组。对测试集的每一行，用 DIN 的注意力权重去区分“和候选同一兴趣组的历史行为”与其他历史行为，算一个 AUC（按历史长度加权平均）：0.5 表示注意力和兴趣无关，1.0 表示同组的历史行为总是得到更高的权重。
//
// The demo world knows each item's interest group. For every test row, use DIN's attention weights to separate the history items of the candidate's interest from the others and compute an AUC (averaged weighted by history length): 0.5 means attention ignores interests, 1.0 that same-interest items always get the larger weights.
// %%
{
    let interest_of = |i: u32| ds.vocab.items.raw(i).and_then(|r| world.item(r)).map(|it| it.interest);
    let att: Option<f64> = attention_auc(&din.0, &ds.test, &interest_of, 1024)?;
    println!("attention AUC vs ground truth (DIN, softmax weights): {:.4}", att.unwrap());
    println!("base model: {:?} (no attention weights)", attention_auc(&base.0, &ds.test, &interest_of, 1024)?);
}
// %% [markdown]
// ## 5.3 Dice vs PReLU
//
// Dice（论文 5.2 节）把 PReLU 的固定拐点（0 处）换成随数据变化的软开关：$f(s) = p(s)\,s + (1 - p(s))\,\alpha s$，$p(s) = \mathrm{sigmoid}\big(\frac{s - E[s]}{\sqrt{Var[s] + \epsilon}}\big)$，均值和方差在 batch 上统计（推理时用滑动平均）。把 DIN 的两个 MLP（注意力和顶部 DNN）都换成 PReLU 对比：
//
// Dice (paper, section 5.2) replaces PReLU's fixed kink at 0 with a data-dependent soft switch, $f(s) = p(s)\,s + (1 - p(s))\,\alpha s$ with $p(s) = \mathrm{sigmoid}((s - E[s]) / \sqrt{Var[s] + \epsilon})$, statistics over the batch (running averages at inference). Swap both MLPs of DIN (attention and head) to PReLU:
// %%
let prelu_cfg: ModelConfig = ModelConfig { activation: Activation::Prelu, attention_activation: Activation::Prelu, ..cfg.model.clone() };
let prelu: (Model, Metrics) = run(&ds, "DIN with PReLU", ModelKind::Din, &prelu_cfg, &cfg.train)?;
println!("DIN with Dice: test AUC {:.4}; with PReLU {:.4}; RelaImpr of Dice over PReLU {:+.2}%", din.1.auc, prelu.1.auc, rela_impr(din.1.auc, prelu.1.auc));
// %% [markdown]
// ## 5.4 Mini-batch aware 正则化 · Mini-batch aware regularisation
//
// 大规模稀疏数据里，对整张嵌入表做 L2 正则每一步都要碰所有参数，太贵。论文（5.1 节）只正则化**这个 batch 里出现的**嵌入行 $j$，强度和它在训练集里出现的次数 $n_j$ 成反比：梯度加上 $\lambda\, w_j / n_j$。出现少的商品（长尾）被正则化得更强，正是最容易过拟合的那些。这里在 5.1 的 DIN 上打开 MBA，其他设置完全不变（5.1 的 DIN 就是“关”的那次）：
//
// On huge sparse data an L2 penalty on the whole embedding table touches every parameter at every step. The paper (section 5.1) regularises only the embedding rows $j$ that appear in the batch, with strength inversely proportional to their training frequency $n_j$: the gradient gets $\lambda\, w_j / n_j$. Rare (long-tail) items, the ones that over-fit, are regularised most. Here MBA is switched on for 5.1's DIN with every other setting unchanged (5.1's DIN is the "off" run):
// %%
let mba: TrainConfig = TrainConfig { mba_lambda: 0.1, ..cfg.train.clone() };
let on: (Model, Metrics) = run(&ds, &format!("DIN with MBA, λ = {}", 0.1), ModelKind::Din, &cfg.model, &mba)?;
println!("MBA on: test AUC {:.4}; off (5.1's DIN): {:.4}; RelaImpr of on over off {:+.2}%", on.1.auc, din.1.auc, rela_impr(on.1.auc, din.1.auc));
// %%
let names: Vec<String> = vec!["DIN".into(), "base 传统模型".into(), "DIN PReLU".into(), "DIN + MBA".into()];
let aucs: Vec<f64> = vec![din.1.auc, base.1.auc, prelu.1.auc, on.1.auc];
plot::bars("测试集 AUC test, demo world", "模型 model", "测试集 AUC test AUC", &names, &aucs, Baseline::Chance)?.evcxr_display();
// %% [markdown]
// **一次运行说明不了千分之几。** 上面每个数字都来自一次训练；只换训练种子（初始化和打乱顺序），同一个 DIN 在这个世界上的测试 AUC 就在 0.9220 到 0.9283 之间变化。所以用 4 个种子重复了这几次对比（2026、1、2、3，其他设置和本笔记本相同；`cargo run --release -p din-teach --example tricks_seeds`，本项目的 2 核机器上测得）：
//
// | 种子 seed | Dice | PReLU | Dice + MBA | 不正则化 no reg |
// |---|---|---|---|---|
// | 2026 | 0.9220 | 0.9197 | 0.9265 | 0.9223 |
// | 1 | 0.9241 | 0.9208 | 0.9273 | 0.9250 |
// | 2 | 0.9276 | 0.9204 | 0.9253 | 0.9233 |
// | 3 | 0.9283 | 0.9214 | 0.9321 | 0.9292 |
//
// * **Dice vs PReLU**：4 个种子里 Dice 都更好（+0.0023 到 +0.0072，平均 +0.0049）——这个差别是稳定的。
// * **MBA 开 vs 关**：+0.0045、+0.0032、−0.0023、+0.0038，方向不一致，平均 +0.0023，比种子之间的差别还小：在这里看不出 MBA 的效果。权重衰减（默认的 AdamW 1e-3）也一样：关掉它（最后一列）差别在 ±0.005 以内。
//
// 这并不奇怪：演示世界只有 96 个商品，每个都在训练集里出现成千上万次，MBA 对它们几乎不起作用（$\lambda / n_j$ 很小）；MBA 针对的是论文里那种上亿的长尾 id（商品、用户），在那里对整张表做 L2 太贵，而长尾 id 又最容易过拟合。
//
// **One run cannot tell a few thousandths apart.** Every number above comes from one training run; changing only the training seed (initialisation and shuffling) moves the same DIN's test AUC on this world between 0.9220 and 0.9283. So the comparisons were repeated over 4 seeds (2026, 1, 2, 3, everything else as in this notebook; `cargo run --release -p din-teach --example tricks_seeds`, measured on this project's 2-core machine) — table above:
//
// * **Dice vs PReLU**: Dice is better with all 4 seeds (+0.0023 to +0.0072, mean +0.0049): a stable difference.
// * **MBA on vs off**: +0.0045, +0.0032, −0.0023, +0.0038 — no consistent direction, mean +0.0023, smaller than the seed-to-seed spread: no effect of MBA can be seen here. Weight decay (the default AdamW 1e-3) likewise: switching it off (last column) changes AUC by less than ±0.005.
//
// No surprise: the demo world has 96 items, each seen thousands of times in training, so MBA barely touches them ($\lambda / n_j$ is tiny); MBA is meant for the paper's hundreds of millions of long-tail ids, where L2 on whole tables is too expensive and rare ids over-fit most.
// %% [markdown]
// ## 5.5 DIN 什么时候没有帮助 · When DIN does not help
//
// 注意力只有在“历史里有和候选无关的行为”时才有用：它的作用是把无关的兴趣挡在外面。如果用户只有一两个兴趣、历史又短，平均池化就已经足够，多出来的注意力网络只会增加方差。在合成世界上（随机负样本）此前实测：
//
// Attention helps only when the history holds behaviour unrelated to the candidate: its job is to keep the other interests out. With one or two interests and short histories, mean pooling is enough and the extra attention network only adds variance. Measured earlier on synthetic worlds with random negatives:
//
// | 世界 world | DIN test AUC | 平均池化 mean pooling (base) |
// |---|---|---|
// | 约 5 个兴趣、约 17 个事件 · ≈5 interests, ≈17 events per user | **0.967** | 0.934 |
// | 1–2 个兴趣、短历史 · 1–2 interests, short histories | 0.945 | **0.967** |
//
// 所以 DIN 不是处处更好：它适合兴趣多样、历史长的用户（论文的动机正是这种“兴趣多样性”）。演示世界每个用户 3–5 个兴趣、12–24 个事件，所以 DIN 在上面领先。
//
// So DIN is not better everywhere: it suits users with diverse interests and long histories — the "diversity of interests" that motivates the paper. The demo world gives each user 3–5 interests and 12–24 events, which is why DIN leads above.
//
// 在真实数据上差距也很小。DIN 官方仓库（zhougr1993/DeepInterestNetwork）更正后的 Amazon(Electro) GAUC：
//
// On real data the gaps are small too. The official DIN repository's corrected Amazon(Electro) GAUC:
//
// | model | GAUC |
// |---|---|
// | PNN | 0.8679 |
// | DeepFM | 0.8683 |
// | DIN | 0.8698 |
// | DIN with Dice | 0.8711 |
//
// DIN 比 DeepFM 只高 0.0015 GAUC，加上 Dice 再高 0.0013。在真实的 Amazon-Electronics 上跑本项目的流程见笔记本 6。
//
// DIN is 0.0015 GAUC above DeepFM, Dice adds 0.0013. Running this project's pipeline on the real Amazon-Electronics files: notebook 6.
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **RelaImpr**（代码）：写 `my_rela_impr(auc_model, auc_base)`（百分数）。论文的表格用 GAUC 算它；5.1 打印了两种：为什么用 GAUC 算的不同？
// 2. **手写 Dice**（代码）：写 `my_dice(x, alpha, eps)`：`x` 是 `[n, d]` 的一个 batch；按列求均值和（有偏）方差，`p = sigmoid((x − mean)/sqrt(var + eps))`，返回 `p·x + (1 − p)·α·x`。检查单元和库里 `Dice` 的训练前向比较（α 随机）。
// 3. **让注意力没用**（思考 + 运行）：把演示世界改成每个用户只有一个兴趣、历史很短（`DemoConfig { interests: (1, 1), events: (4, 8), .. }`），重新训练两个模型：DIN 还比传统模型好吗？为什么？（当历史里的每个行为都和候选同样相关时，平均就已经是最好的“注意力”。）
//
// 1. **RelaImpr** (code): write `my_rela_impr(auc_model, auc_base)` (in percent). The paper's tables compute it on GAUC; section 5.1 prints both: why does the GAUC one differ?
// 2. **Dice by hand** (code): write `my_dice(x, alpha, eps)`: `x` an `[n, d]` batch; per column the mean and (biased) variance, `p = sigmoid((x − mean)/sqrt(var + eps))`, return `p·x + (1 − p)·α·x`. The check compares with the library's `Dice` in training (random α).
// 3. **Make attention useless** (think and run): give every demo user a single interest and a short history (`DemoConfig { interests: (1, 1), events: (4, 8), .. }`) and retrain both models: is DIN still better than the base model, and why? (When every history item is as relevant to the candidate as every other, the average already is the best "attention".)
// %% [exercise]
fn my_rela_impr(auc_model: f64, auc_base: f64) -> f64 {
    // BEGIN SOLUTION
    ((auc_model - 0.5) / (auc_base - 0.5) - 1.0) * 100.0
    // END SOLUTION
}
// %% [check]
exercises::check_rela_impr(my_rela_impr);
// %% [exercise]
fn my_dice(x: &Tensor, alpha: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    // BEGIN SOLUTION
    let mean = x.mean_keepdim(0)?;
    let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
    let p = candle_nn::ops::sigmoid(&x.broadcast_sub(&mean)?.broadcast_div(&(var + eps)?.sqrt()?)?)?;
    let ax = x.broadcast_mul(alpha)?;
    p.mul(x)? + p.affine(-1.0, 1.0)?.mul(&ax)?
    // END SOLUTION
}
// %% [check]
exercises::check_dice(my_dice);
// %% [end]
    Ok(())
}
