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
plot::bars(&format!("DIN vs 传统模型: RelaImpr (AUC) {:+.1}%", rela_impr(din.1.auc, base.1.auc)), "模型 model", "测试集 AUC test AUC",
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
// **一次运行说明不了千分之几。** 上面每个数字都来自一次训练；只换训练种子（初始化和打乱顺序），同一个 DIN 的测试 AUC 也会变。所以这几次对比在 4 个种子上重复过（2026、1、2、3，其他设置和本笔记本相同；本项目的 2 核机器上测得）：`cargo run --release -p din-teach --example tricks_seeds` 打印每个种子的 Dice、PReLU、Dice + MBA 和不正则化的测试 AUC。本笔记本不运行它（要多训练很多个模型），所以这里不抄它的数字；种子 2026 的前三个就是上面 5.1、5.3、5.4 打印的。它的结果：
//
// * **Dice vs PReLU**：每个种子都是 Dice 更好——这个差别是稳定的。
// * **MBA 开 vs 关**：方向不一致（有的种子开更好，有的更差），平均差别比只换种子时 DIN 自己的变化还小：在这里看不出 MBA 的效果。权重衰减（默认的 AdamW，`TrainConfig` 的 `weight_decay`）也一样：关掉它（`tricks_seeds` 的“不正则化”一列），也看不出比种子之间的变化更大的差别。
//
// 这并不奇怪：演示世界只有 96 个商品，每个都在训练集里出现成千上万次，MBA 对它们几乎不起作用（$\lambda / n_j$ 很小）；MBA 针对的是论文里那种上亿的长尾 id（商品、用户），在那里对整张表做 L2 太贵，而长尾 id 又最容易过拟合。
//
// **One run cannot tell a few thousandths apart.** Every number above comes from one training run; changing only the training seed (initialisation and shuffling) moves the same DIN's test AUC too. So the comparisons were repeated over 4 seeds (2026, 1, 2, 3, everything else as in this notebook; measured on this project's 2-core machine): `cargo run --release -p din-teach --example tricks_seeds` prints, per seed, the test AUC of Dice, PReLU, Dice + MBA and no regularisation. This notebook does not run it (many more models to train), so its numbers are not copied here; seed 2026's first three are the ones 5.1, 5.3 and 5.4 print above. What it shows:
//
// * **Dice vs PReLU**: Dice is better with every seed: a stable difference.
// * **MBA on vs off**: no consistent direction (better with some seeds, worse with others), the mean difference smaller than the seed-to-seed spread of DIN itself: no effect of MBA can be seen here. Weight decay (the default AdamW, `TrainConfig`'s `weight_decay`) likewise: switching it off (`tricks_seeds`' no-regularisation column) shows no difference larger than the seed spread.
//
// No surprise: the demo world has 96 items, each seen thousands of times in training, so MBA barely touches them ($\lambda / n_j$ is tiny); MBA is meant for the paper's hundreds of millions of long-tail ids, where L2 on whole tables is too expensive and rare ids over-fit most.
// %% [markdown]
// ## 5.5 DIN 什么时候没有帮助 · When DIN does not help
//
// 注意力只有在“历史里有和候选无关的行为”时才有用：它的作用是把无关的兴趣挡在外面。如果用户只有一两个兴趣、历史又短，平均池化就已经差不多够了，多出来的注意力网络只会增加方差。下面在一个“窄”的演示世界上（同样 800 个用户、同一个种子，但每个用户只有 1–2 个兴趣、4–8 个事件）重新训练 DIN 和传统模型，和 5.1 的世界（3–5 个兴趣、12–24 个事件）并排：
//
// Attention helps only when the history holds behaviour unrelated to the candidate: its job is to keep the other interests out. With one or two interests and short histories, mean pooling is nearly enough and the extra attention network only adds variance. The cell retrains DIN and the base model on a "narrow" demo world (the same 800 users and seed, but 1–2 interests and 4–8 events per user) and sets the result beside 5.1's world (3–5 interests, 12–24 events):
// %%
{
    let narrow_events: Events = world.generate(&DemoConfig { users: 800, interests: (1, 2), events: (4, 8), seed: 2026, ..Default::default() });
    let narrow: Dataset = build(&narrow_events, SplitConfig { seed: 2026, ..Default::default() })?;
    let n_din: (Model, Metrics) = run(&narrow, "DIN, narrow world 窄世界", ModelKind::Din, &cfg.model, &cfg.train)?;
    let n_base: (Model, Metrics) = run(&narrow, "base, narrow world 窄世界", ModelKind::Base, &cfg.model, &cfg.train)?;
    println!("{:<48} {:>8} {:>8} {:>8}", "test AUC 测试 AUC", "DIN", "base", "DIN − base");
    println!("{:<48} {:>8.4} {:>8.4} {:>+8.4}", "5.1: 3–5 interests, 12–24 events 兴趣、事件", din.1.auc, base.1.auc, din.1.auc - base.1.auc);
    println!("{:<48} {:>8.4} {:>8.4} {:>+8.4}", "narrow 窄: 1–2 interests, 4–8 events", n_din.1.auc, n_base.1.auc, n_din.1.auc - n_base.1.auc);
}
// %% [markdown]
// 在窄世界里 DIN 领先传统模型只有 +0.0069（5.1 的世界里是 +0.0292），这么小的差别，一次训练分不出它和只换种子带来的变化（5.4）：注意力在这里几乎买不到可以测出的东西。所以 DIN 不是处处更好：它适合兴趣多样、历史长的用户（论文的动机正是这种“兴趣多样性”）。演示世界每个用户 3–5 个兴趣、12–24 个事件，所以 DIN 在前面领先。
//
// In the narrow world DIN leads the base model by only +0.0069 (+0.0292 in 5.1's world), too small for one run to tell from what changing only the seed does (section 5.4): here attention buys next to nothing measurable. So DIN is not better everywhere: it suits users with diverse interests and long histories — the "diversity of interests" that motivates the paper. The demo world gives each user 3–5 interests and 12–24 events, which is why DIN leads above.
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
// ## 5.6 学习者常问的问题 · Questions learners ask
//
// 下面每个问题都在 5.1 的两个模型（DIN 和 base）和同一个演示世界上回答，凡是有数字的都在单元里算出来。每个数字都只来自一次训练（种子 2026）；5.4 说明了只换种子时 DIN 的测试 AUC 也会变，和这种变化差不多大的差别不能当真。
//
// Each question below is answered on 5.1's two models (DIN and base) and the same demo world; every number is computed in a cell. Every number comes from one training run (seed 2026); 5.4 says that DIN's test AUC moves when only the seed changes: differences of about that size mean nothing.
//
// ### 5.6.1 静态池化（DeepFM 式）还是目标相关的权重？· Static pooling (DeepFM style) or target-aware weights?
//
// DeepFM、Wide&Deep、YouTube DNN 这类模型把历史行为的嵌入**求和或求平均**成一个固定向量，和候选商品无关（论文图 2 的 base model）；DIN 的权重随候选变化。5.1 的 base 是平均（$w_i = 1/n$），这里再训练一个求和（$w_i = 1$）的。拼接（concat）历史嵌入需要固定长度、按位置学权重，而这里的历史长度是 1 到 23 不等，所以不测。
//
// DeepFM, Wide&Deep and YouTube DNN **sum or average** the history's embeddings into one fixed vector that does not depend on the candidate (the paper's base model, its figure 2); DIN's weights change with the candidate. 5.1's base averages ($w_i = 1/n$); here a summing one ($w_i = 1$) is trained too. Concatenating the history embeddings needs a fixed length and per-position weights, and these histories are 1 to 23 long, so it is not measured.
// %%
let sum_cfg: ModelConfig = ModelConfig { pooling: din::model::Pooling::Sum, ..cfg.model.clone() };
let base_sum: (Model, Metrics) = run(&ds, "base, sum pooling (w_i = 1)", ModelKind::Base, &sum_cfg, &cfg.train)?;
for (name, m) in [("DIN: target-aware weights 目标相关权重", &din.1), ("base: mean pooling 平均 (5.1)", &base.1), ("base: sum pooling 求和", &base_sum.1)] {
    println!("{name:<40} test AUC {:.4}  GAUC {:.4}", m.auc, m.gauc);
}
// %% [markdown]
// 两种静态池化都比 DIN 低，差距（约 0.03–0.04 AUC）远大于种子之间的变化范围：在这个兴趣多样的世界里，和候选无关的固定向量把所有兴趣混在了一起。5.5 说明了什么时候不是这样。
//
// Both static poolings are below DIN by far more than the seed spread (about 0.03–0.04 AUC): in this world of diverse interests a fixed, candidate-independent vector mixes all interests together. 5.5 says when that is not so.
// %% [markdown]
// ### 5.6.2 为什么用 GAUC，而不只是 AUC · Why GAUC and not only AUC
//
// AUC 把所有用户的样本放在一起比较，所以“这个用户整体更爱点击”这种**用户偏置**也会改变 AUC；但推荐系统每次只在**同一个用户**的候选之间排序，用户之间的偏置对排序没有任何用处。GAUC（论文公式 10）先在每个用户内部算 AUC，再按用户的样本数加权平均，只看用户内部的排序。下面先用 4 个手写的分数说明，再在 DIN 的测试集预测上给每个用户的 logit 加一个随机偏置：每个用户内部的排序不变，所以 GAUC 一点不变，AUC 却变了。
//
// AUC compares rows of all users together, so a **per-user bias** ("this user clicks more") changes it; but a recommender ranks candidates **for one user at a time**, where a bias between users is of no use. GAUC (paper, eq. 10) computes the AUC inside each user and averages with the user's row count as weight: only the ranking inside a user counts. First four hand-written scores, then a random per-user offset on the logits of DIN's test predictions: every user's own ranking is unchanged, so GAUC does not move at all, while AUC does.
// %%
{
    // user 1 scores high, user 2 low; each user's positive is above its own negative
    let scores: [f32; 4] = [0.9, 0.8, 0.3, 0.2];
    let labels: [f32; 4] = [1.0, 0.0, 1.0, 0.0];
    let users: [u32; 4] = [1, 1, 2, 2];
    println!("hand-made 手写: AUC {:.4} (user 2's positive 0.3 is below user 1's negative 0.8 → 3 of 4 pairs); GAUC {:.4}",
        auc(&scores, &labels).unwrap(), gauc(&scores, &labels, &users).unwrap());
    let probs: Vec<f32> = predict_split(&din.0, &ds.test, 4096)?;
    let mut rng = din::rng::Rng::new(7);
    let offset: Vec<f64> = (0..ds.vocab.users.table_rows()).map(|_| 2.0 * rng.normal()).collect();
    let biased: Vec<f32> = probs.iter().zip(&ds.test.user).map(|(&p, &u)| {
        let logit = (p as f64 / (1.0 - p as f64)).ln() + offset[u as usize];
        (1.0 / (1.0 + (-logit).exp())) as f32
    }).collect();
    let (a, b) = (Metrics::compute(&probs, &ds.test.label, &ds.test.user), Metrics::compute(&biased, &ds.test.label, &ds.test.user));
    println!("DIN's test predictions DIN 的测试预测:          AUC {:.4}  GAUC {:.4}", a.auc, a.gauc);
    println!("+ a random offset per user 每个用户加随机偏置: AUC {:.4}  GAUC {:.4}", b.auc, b.gauc);
}
// %% [markdown]
// 论文的表格用 GAUC 算 RelaImpr，5.1 把两种都打印了：这里 GAUC 上的 RelaImpr（+8.74%）比 AUC 上的（+7.44%）大。注意这个测试集每个用户只有一对样本（最后一次点击和它的负样本），所以每个用户的 AUC 只能是 0、0.5 或 1，GAUC 就是“正样本排在自己负样本前面”的用户比例。
//
// The paper computes RelaImpr on GAUC; 5.1 prints both: here RelaImpr on GAUC (+8.74%) is larger than on AUC (+7.44%). Note that this test set has one pair per user (the last click and its negative), so each user's AUC is 0, 0.5 or 1 and GAUC is the share of users whose positive ranks above their own negative.
//
// ### 5.6.3 负样本怎么采，以及它怎样抬高 AUC · How negatives are sampled, and how that inflates AUC
//
// 本项目（和教程的 `create_seq_features`）的负样本是从用户没交互过的商品里**均匀随机**抽的：大多数来自用户根本没有的兴趣，一眼就能认出来。真实的曝光日志里，没被点击的商品往往和点击的很像。`Split::with_negatives_in_category` 把每个负样本换成**和它的正样本同一类目**的商品（不是正样本本身，也不在历史里），得到更难的样本。同一个模型在两种测试集上的 AUC，以及用难负样本训练的 DIN：
//
// This project's negatives (like the tutorial's `create_seq_features`) are drawn **uniformly** from the items the user never touched: most come from interests the user does not hold and are easy to spot. In a real impression log the items not clicked are often much like the clicked one. `Split::with_negatives_in_category` redraws every negative from **its positive's category** (not the positive itself, not in the history): harder rows. The same models on both test sets, and a DIN trained on the hard negatives:
// %%
let hard_test = ds.test.with_negatives_in_category(&ds.vocab, 2026);
println!("test negatives 测试负样本: {} redrawn in the positive's category 换成同类目, {} kept (no other item in the category 类目里没有别的商品)", hard_test.redrawn, hard_test.kept);
let hard_ds: Dataset = Dataset {
    train: ds.train.with_negatives_in_category(&ds.vocab, 2026).split,
    val: ds.val.with_negatives_in_category(&ds.vocab, 2026).split,
    test: hard_test.split.clone(),
    ..ds.clone()
};
let din_hard: (Model, Metrics) = run(&hard_ds, "DIN, in-category negatives", ModelKind::Din, &cfg.model, &cfg.train)?;
{
    let test_auc = |m: &Model, split: &Split| -> din::Result<f64> {
        Ok(Metrics::compute(&predict_split(m, split, 4096)?, &split.label, &split.user).auc)
    };
    println!("{:<44} {:>22} {:>26}", "test AUC 测试 AUC", "random negatives 随机", "in-category 同类目");
    for (name, m) in [("DIN trained on random negatives 随机负样本训练", &din.0), ("base trained on random negatives", &base.0), ("DIN trained on in-category negatives 同类目训练", &din_hard.0)] {
        println!("{name:<44} {:>22.4} {:>26.4}", test_auc(m, &ds.test)?, test_auc(m, &hard_test.split)?);
    }
}
// %% [markdown]
// 同一个 DIN，换成同类目的负样本，测试 AUC 掉了很多：随机负样本下的高 AUC 有一大部分来自“认出用户没有的兴趣”，这比在相似商品之间排序容易得多。报告 AUC 时要说明负样本是怎么采的；不同采样方式的 AUC 不能直接比较（论文和官方代码都用随机负样本）。
//
// The same DIN loses much of its test AUC on in-category negatives: a large part of the AUC under random negatives comes from spotting interests the user does not hold, far easier than ranking similar items. Say how negatives were sampled whenever you report an AUC; AUCs under different sampling are not comparable (the paper and the official code use random negatives).
//
// 反过来，用同类目负样本训练的 DIN 在同类目测试集上最好，在随机负样本上却比用随机负样本训练的差：训练用的负样本决定了模型学会区分什么。
//
// The other way round, the DIN trained on in-category negatives is the best on the in-category test set and worse than the randomly trained one on random negatives: the training negatives decide what a model learns to tell apart.
//
// ### 5.6.4 DIN 的注意力和 Transformer 的自注意力有什么不同 · DIN's attention vs a Transformer's self-attention
//
// | | DIN 的激活单元 · DIN's activation unit | Transformer 自注意力 · self-attention |
// |---|---|---|
// | 查询 query | 一个：候选商品（目标相关）· one: the candidate (target-aware) | 每个位置一个 · one per position |
// | 打分 score | 小 MLP 作用在 $[t, h, t-h, t\odot h]$ 上（3.5、3.7）· a small MLP on $[t, h, t-h, t\odot h]$ | 点积 $q\cdot k/\sqrt{d}$ · a dot product |
// | 归一化 normalisation | 论文不做 softmax，权重之和不必是 1（3.4 实测）；官方代码（`din/model.py` 的 `attention`）用 masked softmax；本库默认也不归一化（`WeightNorm::None`），本系列笔记本的教程配置（`TutorialConfig`）用 masked softmax · none in the paper, weights need not sum to 1 (measured in 3.4); the official code (`attention` in `din/model.py`) uses a masked softmax; this library's default is none too (`WeightNorm::None`), and these notebooks' tutorial configuration (`TutorialConfig`) uses a masked softmax | softmax |
// | 值 value | 历史嵌入本身，没有 $W_v$ 投影 · the history embedding itself, no $W_v$ | $W_v h$ |
// | 头数、位置 heads, positions | 一个头，不看顺序（没有位置编码）· one head, order ignored | 多头，位置编码 · many heads, positional encodings |
//
// 下面的单元数出 DIN 的一个激活单元的参数，并和一个 $d = 64$ 的单头自注意力（$W_q, W_k, W_v$，带偏置）比较：
//
// The cell counts the parameters of one of DIN's activation units and compares them with a single-head self-attention of $d = 64$ ($W_q, W_k, W_v$ with biases):
// %%
{
    let d: usize = cfg.model.embed_dim;
    let unit: usize = din.0.params().named().iter().filter(|(n, _)| n.starts_with("attention.item.")).map(|(_, v)| v.as_tensor().elem_count()).sum();
    println!("DIN's item activation unit 商品激活单元: {unit} scalars (MLP {:?} on 4d = {} inputs, incl. Dice's running statistics)", cfg.model.attention_dims, 4 * d);
    println!("single-head self-attention 单头自注意力, d = {d}: 3·(d·d + d) = {}", 3 * (d * d + d));
}
// %% [markdown]
// ### 5.6.5 线上打分的代价 · Serving cost
//
// 打分一个候选要对历史的每个位置跑一次激活单元：代价 ∝ 候选数 × 历史长度。第一层可以按线性拆开（issue 42，`Model::forward_request`）：$W\,[t, h, t-h, t\odot h] = (W_t + W_d)\,t + (W_h - W_d)\,h + W_p\,(t\odot h)$，其中 $h$ 那一项每个请求只算一次，每个（候选, 位置）只剩 $W_p\,(t\odot h)$。`predict` 就走这条路；在 CPU 上它再把（候选, 位置）对按块送进一个内核（`din_kernels::score`：每块在缓存里时就做完每层的偏置、归一化和激活，块分给各线程），`ActivationUnit::scores_shared` 是同一计算的张量运算版本。下面数一数每个候选的乘加次数，并在同一个请求（一个用户、最长的测试历史、1,024 个候选）上计时两条路径：
//
// Scoring one candidate runs the activation unit once per history position: cost ∝ candidates × history length. The first layer splits by linearity (issue 42, `Model::forward_request`): $W\,[t, h, t-h, t\odot h] = (W_t + W_d)\,t + (W_h - W_d)\,h + W_p\,(t\odot h)$, where the $h$ term is computed once per request and each (candidate, position) pair needs only $W_p\,(t\odot h)$. `predict` takes this path; on the CPU it then feeds the (candidate, position) pairs a block at a time through one kernel (`din_kernels::score`: each layer's bias, normalisation and activation applied while the block is in cache, blocks shared between the threads); `ActivationUnit::scores_shared` is the same computation in tensor ops. The cell counts multiply-adds per candidate and times both paths on one request (one user, the longest test history, 1,024 candidates):
// %%
{
    let (d, h1, h2) = (cfg.model.embed_dim, cfg.model.attention_dims[0], cfg.model.attention_dims[1]);
    let row: usize = (0..ds.test.len()).max_by_key(|&r| ds.test.hist_len[r]).unwrap();
    let l: usize = ds.test.hist_len[row] as usize;
    let per_position_full: usize = 4 * d * h1 + h1 * h2 + h2;
    let per_position_split: usize = d * h1 + h1 * h2 + h2;
    println!("history length 历史长度 L = {l}; per candidate, both units 每个候选、两个激活单元: {} MACs (full 4d first layer 完整第一层) vs {} (split 拆开后; + {} per request 每请求)",
        2 * l * per_position_full, 2 * (l * per_position_split + d * h1), 2 * l * d * h1);
    let raw = |i: u32| ds.vocab.items.raw(i).unwrap();
    let n_items = ds.vocab.items.len() as u32;
    let candidates: Vec<i64> = (0..1024u32).map(|k| raw(1 + k % n_items)).collect();
    let q: Query = Query { user: ds.vocab.users.raw(ds.test.user[row]).unwrap(), history: ds.test.history(row).0.iter().map(|&i| raw(i)).collect(), candidates: candidates.clone() };
    let mut batch_path: Split = ds.test.select(&vec![row; candidates.len()]);
    batch_path.target_item = (0..1024u32).map(|k| 1 + k % n_items).collect();
    batch_path.target_cate = batch_path.target_item.iter().map(|&i| ds.vocab.cate_of(i)).collect();
    let best_of_3 = |f: &dyn Fn() -> din::Result<Vec<f32>>| -> din::Result<(f64, Vec<f32>)> {
        let mut best = f64::INFINITY;
        let mut out = Vec::new();
        for _ in 0..3 { let t0 = Instant::now(); out = f()?; best = best.min(t0.elapsed().as_secs_f64()); }
        Ok((best, out))
    };
    let (t_req, ctr_req) = best_of_3(&|| Ok(predict(&din.0, &ds.vocab, 50, &q)?.ctr))?;
    let (t_batch, ctr_batch) = best_of_3(&|| predict_split(&din.0, &batch_path, 4096))?;
    let diff: f32 = ctr_req.iter().zip(&ctr_batch).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    println!("predict (history once per request 历史每请求一次): {:>7.0} candidates/s", 1024.0 / t_req);
    println!("training path 训练路径 (predict_split):          {:>7.0} candidates/s  ({:.2}× slower 慢)", 1024.0 / t_batch, t_batch / t_req);
    println!("same scores 分数相同: max |difference| 最大差 {diff:.1e}");
}
// %% [markdown]
// 计时是这台机器上这一次运行的（1 个线程，`CANDLE_NUM_THREADS=1`），会随机器变化；乘加次数不会。bench/README.md 有 2 核机器上的服务基准（`cargo run --release -p din --example bench -- serving`）。
//
// The times are this run's on this machine (one thread, `CANDLE_NUM_THREADS=1`) and change with the machine; the multiply-add counts do not. bench/README.md has the serving benchmark on the 2-core machine (`cargo run --release -p din --example bench -- serving`).
//
// ### 5.6.6 没有历史的新用户 · A cold-start user with no history
//
// 一个训练时没见过、也没有任何历史的用户：用户嵌入用“词表外”那一行，历史是空的，所以两个兴趣向量都是 0（没有位置可以加权），DIN 只剩下候选本身的嵌入，和 base 模型一样。它给出的排序就接近“商品有多热门”：
//
// A user never seen in training and with no history: the user embedding is the out-of-vocabulary row and the history is empty, so both interest vectors are 0 (no position to weight); DIN is left with the candidate's own embeddings, like the base model. Its ranking is close to "how popular is the item":
// %%
{
    let mut clicks: BTreeMap<u32, usize> = BTreeMap::new();
    for r in (0..ds.train.len()).filter(|&r| ds.train.label[r] == 1.0) { *clicks.entry(ds.train.target_item[r]).or_default() += 1; }
    let names = ["篮球", "篮球鞋", "口红", "香水", "连衣裙", "耳环"];
    let candidates: Vec<i64> = names.iter().map(|n| world.item_id(n).unwrap()).collect();
    let cold: Prediction = predict(&din.0, &ds.vocab, 50, &Query { user: -1, history: vec![], candidates: candidates.clone() })?;
    let warm: Prediction = predict(&din.0, &ds.vocab, 50, &Query { user: -1, history: vec![world.item_id("篮球鞋").unwrap(), world.item_id("护腕").unwrap()], candidates: candidates.clone() })?;
    println!("{:<10} {:>14} {:>22} {:>30}", "candidate", "train clicks 点击", "CTR, no history 无历史", "CTR, history 历史 [篮球鞋, 护腕]");
    for (k, n) in names.iter().enumerate() {
        println!("{n:<10} {:>14} {:>22.3} {:>30.3}", clicks.get(&ds.vocab.items.get(candidates[k]).unwrap()).unwrap_or(&0), cold.ctr[k], warm.ctr[k]);
    }
    println!("notes 提示: {:?}", cold.notes());
    // over every item: rank correlation (Spearman) of the cold-start CTR with the training clicks
    let all: Vec<i64> = (1..=ds.vocab.items.len() as u32).map(|i| ds.vocab.items.raw(i).unwrap()).collect();
    let ctr: Vec<f32> = predict(&din.0, &ds.vocab, 50, &Query { user: -1, history: vec![], candidates: all.clone() })?.ctr;
    let n_clicks: Vec<f32> = (1..=all.len() as u32).map(|i| *clicks.get(&i).unwrap_or(&0) as f32).collect();
    let ranks = |x: &[f32]| -> Vec<f64> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let mut r = vec![0.0; x.len()];
        for (k, &i) in order.iter().enumerate() { r[i] = k as f64; }
        r
    };
    let (rc, rn) = (ranks(&ctr), ranks(&n_clicks));
    let n = all.len() as f64;
    let spearman = 1.0 - 6.0 * rc.iter().zip(&rn).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / (n * (n * n - 1.0));
    println!("all {} items 全部商品: Spearman rank correlation of the no-history CTR with training clicks 无历史 CTR 与训练点击数的秩相关 = {spearman:.3}", all.len());
}
// %% [markdown]
// 全部 96 个商品上，没有历史时的 CTR 和训练集里的点击数的秩相关是 0.75（上面打印的）：排序大体跟着热门度走；一旦有了两次点击（篮球鞋、护腕），同一兴趣的商品（篮球）立刻排到前面。冷启动用户需要别的信号：用户画像特征（年龄、地区）、上下文特征，或者先用热门度排序，等有了几次点击再交给 DIN。
//
// Over all 96 items the no-history CTR has a rank correlation of 0.75 with the training clicks (printed above): the ranking mostly follows popularity; with two clicks (basketball shoes, wristband) the item of the same interest (basketball) moves straight to the top. A cold-start user needs other signals: profile features (age, region), context features, or a popularity ranking until a few clicks arrive for DIN to attend over.
//
// ### 5.6.7 很长的历史：DIN 在哪里停下，DIEN 和 SIM 加了什么 · Long histories: where DIN stops, what DIEN and SIM add
//
// DIN 的激活单元不看顺序（打乱历史，权重和兴趣向量不变），而且每个候选的代价随历史长度线性增长（5.6.5），所以实际系统只保留最近几十到一百个行为（教程和本项目 50；BARS 的 AmazonElectronics_x1 100）。后来的两篇工作正是从这两点出发：
//
// * **DIEN**（Zhou et al., *Deep Interest Evolution Network for Click-Through Rate Prediction*, AAAI 2019, arXiv:1809.03672）：用 GRU 按时间顺序抽取兴趣（加一个用下一个行为监督的辅助损失），再用带注意力更新门的 AUGRU 让与候选相关的兴趣“演化”——补上了顺序。
// * **MIMN**（Pi et al., KDD 2019, arXiv:1905.09248）和 **SIM**（Pi et al., *Search-based User Interest Modeling with Lifelong Sequential Behavior Data*, CIKM 2020, arXiv:2006.05639）：面向上千到上万个行为。SIM 分两步：先按类目（硬搜索）或嵌入内积（软搜索）从全部历史里挑出和候选相关的前 K 个，再在这 K 个上做精细的注意力——补上了长度。
//
// DIN's activation unit ignores order (shuffle the history and the weights and interest vectors stay the same) and its cost per candidate grows linearly with the history (5.6.5), so real systems keep the most recent tens to a hundred behaviours (50 in the tutorial and here; 100 in BARS's AmazonElectronics_x1). Two later lines of work start from exactly these two points:
//
// * **DIEN** (Zhou et al., *Deep Interest Evolution Network for Click-Through Rate Prediction*, AAAI 2019, arXiv:1809.03672): a GRU extracts interests in time order (with an auxiliary loss supervised by the next behaviour), and an AUGRU, a GRU whose update gate is scaled by attention, lets the candidate-relevant interest "evolve" — it adds order.
// * **MIMN** (Pi et al., KDD 2019, arXiv:1905.09248) and **SIM** (Pi et al., *Search-based User Interest Modeling with Lifelong Sequential Behavior Data*, CIKM 2020, arXiv:2006.05639): for thousands to tens of thousands of behaviours. SIM works in two stages: a search over the whole history by category (hard search) or embedding inner product (soft search) keeps the top K behaviours relevant to the candidate, then exact attention runs over those K — it adds length.
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **RelaImpr 反过来用**（代码）：写 `auc_for_rela_impr(auc_base, rela_impr)`：传统模型的 AUC 是 `auc_base` 时，一个模型要达到多少 AUC，才比它好 `rela_impr`%（论文公式 11 反解出 AUC）？提示：RelaImpr 衡量的是相对随机猜的提升 `AUC − 0.5`。检查单元用四组 (基准, RelaImpr) 核对你的 AUC，再把它代回 `din::metrics::rela_impr`，要得到同样的 RelaImpr（库只会由两个 AUC 算 RelaImpr，直接调用它过不了检查）。论文的表格用 GAUC 算它；5.1 打印了两种：为什么用 GAUC 算的不同？
// 2. **手写 Dice**（代码）：写 `my_dice(x, alpha, eps)`：`x` 是 `[n, d]` 的一个 batch；按列求均值和（有偏）方差，`p = sigmoid((x − mean)/sqrt(var + eps))`，返回 `(p, p·x + (1 − p)·α·x)`。检查单元先核对开关 `p`（库的 `Dice` 层不返回它，所以直接调用它过不了检查），再和库里 `Dice` 的训练前向比较（α 随机）。
// 3. **让注意力没用**（思考 + 运行）：把演示世界改成每个用户只有一个兴趣、历史很短（`DemoConfig { interests: (1, 1), events: (4, 8), .. }`），重新训练两个模型：DIN 还比传统模型好吗？为什么？（当历史里的每个行为都和候选同样相关时，平均就已经是最好的“注意力”。）
//
// 1. **RelaImpr the other way round** (code): write `auc_for_rela_impr(auc_base, rela_impr)`: when the base model's AUC is `auc_base`, which AUC must a model reach to improve on it by `rela_impr` percent (the paper's eq. 11 solved for the model's AUC)? Hint: RelaImpr measures the lift over chance, `AUC − 0.5`. The check tries four (base, RelaImpr) pairs, then puts your AUC back into `din::metrics::rela_impr`, which must give the RelaImpr asked for (the library only computes RelaImpr from two AUCs, so calling it does not pass). The paper's tables compute it on GAUC; section 5.1 prints both: why does the GAUC one differ?
// 2. **Dice by hand** (code): write `my_dice(x, alpha, eps)`: `x` an `[n, d]` batch; per column the mean and (biased) variance, `p = sigmoid((x − mean)/sqrt(var + eps))`, return `(p, p·x + (1 − p)·α·x)`. The check looks at the switch `p` first (the library's `Dice` layer does not return it, so calling the layer does not pass), then compares with the library's `Dice` in training (random α).
// 3. **Make attention useless** (think and run): give every demo user a single interest and a short history (`DemoConfig { interests: (1, 1), events: (4, 8), .. }`) and retrain both models: is DIN still better than the base model, and why? (When every history item is as relevant to the candidate as every other, the average already is the best "attention".)
// %% [exercise]
fn auc_for_rela_impr(auc_base: f64, rela_impr: f64) -> f64 {
    // 提示 hint: RelaImpr = (AUC_model − 0.5) / (AUC_base − 0.5) − 1（×100%）；把它解出 AUC_model。
    // RelaImpr = (AUC_model − 0.5) / (AUC_base − 0.5) − 1 (×100%); solve it for AUC_model.
    // BEGIN SOLUTION
    let lift_base = auc_base - 0.5; // the base model's lift over chance
    0.5 + lift_base * (1.0 + rela_impr / 100.0)
    // END SOLUTION
}
// %% [check]
exercises::check_rela_impr(auc_for_rela_impr);
// %% [exercise]
fn my_dice(x: &Tensor, alpha: &Tensor, eps: f64) -> candle_core::Result<(Tensor, Tensor)> {
    // 提示 hint: `x.mean_keepdim(0)?` 是每列均值 [1, d]；有偏方差 = `broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?`；`(var + eps)?.sqrt()?`；`candle_nn::ops::sigmoid`；`p.affine(-1.0, 1.0)?` 是 1 − p；`x.broadcast_mul(alpha)?` 是 α·x。
    // `x.mean_keepdim(0)?` is each column's mean, [1, d]; the biased variance `broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?`; `(var + eps)?.sqrt()?`; `candle_nn::ops::sigmoid`; `p.affine(-1.0, 1.0)?` is 1 − p; `x.broadcast_mul(alpha)?` is α·x.
    // BEGIN SOLUTION
    let mean = x.mean_keepdim(0)?;
    let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
    let p = candle_nn::ops::sigmoid(&x.broadcast_sub(&mean)?.broadcast_div(&(var + eps)?.sqrt()?)?)?;
    let ax = x.broadcast_mul(alpha)?;
    let y = (p.mul(x)? + p.affine(-1.0, 1.0)?.mul(&ax)?)?;
    Ok((p, y))
    // END SOLUTION
}
// %% [check]
exercises::check_dice(my_dice);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 1. GAUC 只比较同一个用户的样本，用户之间的偏置（有人整体打分更高）既不帮它也不害它；AUC 把所有用户混在一起比较，会被这种偏置改变（5.6.2 的单元：给每个用户加一个随机偏置，AUC 掉了，GAUC 不变）。所以两种 RelaImpr 不同：这里 GAUC 上 +8.74%，AUC 上 +7.44%。
// 3. 不会更好。写这个答案时按练习的设置运行过一次（每个用户 1 个兴趣、4–8 个事件，800 个用户，种子 2026，3 个 epoch；本笔记本没有运行它，数字请自己运行练习得到）：DIN 和传统模型的测试 AUC 几乎相同，差别远小于种子之间的变化。5.5 的窄世界（1–2 个兴趣）里差距也只剩 +0.0069。每个历史行为都和候选同样相关时，平均就是最好的“注意力”；注意力网络多出来的参数只增加方差。
//
// 1. GAUC compares rows of one user only, so a bias between users (some scored higher overall) neither helps nor hurts it; AUC compares all users' rows together and moves with such a bias (5.6.2's cell: a random offset per user lowers AUC and leaves GAUC unchanged). Hence the two RelaImprs differ: +8.74% on GAUC, +7.44% on AUC here.
// 3. It is not better. Run once in the exercise's setting when this answer was written (one interest and 4–8 events per user, 800 users, seed 2026, 3 epochs; this notebook does not run it, so run the exercise for the numbers): DIN and the base model reach almost the same test AUC, the difference far inside the seed spread. In 5.5's narrow world (1–2 interests) the gap is already down to +0.0069. When every history item is as relevant to the candidate as every other, the average is the best "attention"; the attention network's extra parameters only add variance.
// %% [end]
    Ok(())
}
