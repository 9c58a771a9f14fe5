//! Source of `notebooks/03_interest_activation.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 3 兴趣激活 · Interest activation (the core of DIN)
//
// > 用户历史行为：点击过 “篮球鞋”、“连衣裙”、“篮球”、“口红”；
// > 当前推荐商品：“篮球”→ DIN 会给 “篮球鞋”、“篮球” 高权重，给 “连衣裙”、“口红” 低权重；
// > 当前推荐商品：“口红”→ DIN 会给 “连衣裙”、“口红” 高权重，给 “篮球鞋”、“篮球” 低权重。
// > 这就是 DIN 的核心：基于注意力的兴趣激活（Interest Activation）。
//
// *History: basketball shoes, dress, basketball, lipstick. Candidate 篮球 (basketball) → high weight on basketball shoes and basketball, low on dress and lipstick; candidate 口红 (lipstick) → the other way round. That is DIN's core: attention-based interest activation.*
//
// > DIN 的注意力权重 $w_i$ 不是简单的向量内积，而是通过一个小型神经网络计算，能捕捉更复杂的相关性
// > $$w_i = f(v_i, v_{target}, v_i \odot v_{target})$$
// > 最终权重需要经过 sigmoid 保证所有权重和为 1。
// >
// > 得到每个历史行为的权重后，对历史行为向量做加权求和，得到用户的激活兴趣向量：
// > $$V_{interest} = \sum_{i=1}^n w_i \cdot v_i$$
// > 传统模型相当于是直接平均化，$w_i = \frac{1}{n}$，所有历史行为权重相同。
//
// *The attention weight $w_i$ is not a plain inner product but the output of a small network, which captures more complex relevance; the final weights "go through a sigmoid so that all weights sum to 1". The weighted sum of the history vectors is the user's activated interest vector; the traditional model simply averages, $w_i = 1/n$, every history item weighted the same.*
//
// 本笔记本在教程自己的例子上演示：先用**未训练**的模型，再用在演示世界上**训练过**的模型；画出注意力热图（历史 × 候选）；加权求和与平均的区别；未归一化的权重与 masked softmax；3d 与 4d 输入；填充位置的 mask。其中教程有两处说得不对，下面会指出并演示：**sigmoid 不能让权重和为 1**；**代码的输入是 4d 而不是 3d**。
//
// This notebook runs the tutorial's own example, first through an **untrained** activation unit, then through DIN **trained** on the demo world; draws the attention heatmap (history × candidates); compares the weighted sum with the average; raw weights with the masked softmax; the 3d and 4d inputs; and the masking of padding. Two statements of the tutorial are wrong and shown to be: **a sigmoid does not make the weights sum to 1**, and **the code feeds 4d, not 3d**.
// %% [markdown setup]
// %% [setup]
// %% [imports]
use din_teach::prelude::*;
// %%
din::tune_process();
// 从仓库根目录运行：两个版本（notebooks/ 和 notebooks/student/）都用同一个 data/、out/、runs/ · run from the repository root, so both editions use the same data/, out/, runs/
enter_repo_root()?;
let (world, ds): (DemoWorld, Dataset) = demo_dataset(2000, 2026)?;
let cfg: TutorialConfig = TutorialConfig::default();
let hist_names: Vec<String> = EXAMPLE_HISTORY.iter().map(|s| s.to_string()).collect();
let cand_names: Vec<String> = EXAMPLE_CANDIDATES.iter().map(|s| s.to_string()).collect();
let query: Query = Query {
    user: -1, // an unseen user: the average user row
    history: EXAMPLE_HISTORY.iter().map(|n| world.item_id(n).unwrap()).collect(),
    candidates: EXAMPLE_CANDIDATES.iter().map(|n| world.item_id(n).unwrap()).collect(),
};
for n in EXAMPLE_HISTORY {
    let it = world.item(world.item_id(n).unwrap()).unwrap();
    println!("{}  ({})  interest group 兴趣组: {}, category 类别: {}", it.name, it.name_en, world.interest_name(it.interest), world.cates[it.cate]);
}
// %% [markdown]
// ## 3.1 未训练的激活单元 · The activation unit, untrained
//
// 激活单元 $f$ 是一个小 MLP（教程：`attention_mlp_params={"dims": [256, 128]}`，激活函数 Dice），最后输出一个标量。本项目的教程配置用 masked softmax 归一化（原因见 3.4）。随机初始化时，$f$ 对所有历史行为打的分几乎一样，权重接近 $1/n = 0.25$：还没有“兴趣激活”。 热力图的颜色刻度固定为 0–1，而不是按最小值–最大值拉伸：未训练时权重都约为 1/n，颜色就几乎一样；若按最小–最大值着色，0.24 和 0.26 会被画成最浅和最深，看起来像强烈的偏好。
//
// The activation unit $f$ is a small MLP (tutorial: dims [256, 128], Dice) ending in one scalar. This project's tutorial configuration normalises with a masked softmax (why: section 3.4). Untrained, $f$ scores every history item about the same, so the weights are close to $1/n = 0.25$: nothing is activated yet. The heatmap's colour scale is fixed at 0–1, not stretched from the smallest to the largest weight: untrained weights are all about 1/n, so their colours look alike; min–max colouring would paint 0.24 and 0.26 as the lightest and the darkest colour, which reads as a strong preference.
// %%
let untrained: Model = Model::for_vocab(&ds.vocab, cfg.model.clone(), 2026)?;
let p0: Prediction = predict(&untrained, &ds.vocab, ds.config.max_len, &query)?;
let w0: Vec<Vec<f32>> = p0.item_attention.clone().unwrap();
for (k, c) in cand_names.iter().enumerate() {
    println!("candidate {c}: weights {:?}, CTR {:.3}", w0[k], p0.ctr[k]);
}
plot::heatmap("未训练 untrained: 兴趣激活 attention weights", &cand_names, &hist_names, &w0, HeatScale::Weights)?.evcxr_display();
// %% [markdown]
// ## 3.2 训练之后 · After training on the demo world
//
// 在演示世界上训练 DIN（2000 个用户，和笔记本 2 相同的配置；笔记本 2 训练好的模型保存在 `out/notebooks/tutorial_din`，这里直接加载，不存在时就在这里训练，约 1 分钟）。演示世界里每个用户有 3–5 个兴趣组，点击在这些组之间切换；一个候选商品被点击的概率只取决于它是否属于用户的兴趣——正好是 DIN 要捕捉的东西。
//
// Train DIN on the demo world (2000 users, the configuration of notebook 2; the model notebook 2 trained is saved in `out/notebooks/tutorial_din` and loaded here, or trained here when absent, about a minute). Each demo user holds 3–5 interest groups and clicks among them; whether a candidate is clicked depends on whether it belongs to one of the user's interests — exactly what DIN is meant to capture.
// %%
let t0: Instant = Instant::now();
// the model notebook 2 trained and saved, when it is there with this configuration; else train it now
let cached: CachedModel = cached_din(&ds, &cfg, Path::new("out/notebooks/tutorial_din"), &mut |_p: Progress| {})?;
let model: Model = cached.model.clone();
for e in &cached.history.epochs {
    println!("{e}");
}
match &cached.loaded_from {
    None => println!("trained in {:.0} s; best epoch {} (kept)", t0.elapsed().as_secs_f64(), cached.history.best_epoch),
    Some(dir) => println!("loaded from {} (trained by notebook 2; best epoch {}) in {:.1} s", dir.display(), cached.history.best_epoch, t0.elapsed().as_secs_f64()),
}
let p1: Prediction = predict(&model, &ds.vocab, ds.config.max_len, &query)?;
let w1: Vec<Vec<f32>> = p1.item_attention.clone().unwrap();
for (k, c) in cand_names.iter().enumerate() {
    let cells: Vec<String> = hist_names.iter().zip(&w1[k]).map(|(h, w)| format!("{h} {w:.3}")).collect();
    println!("candidate {c}: CTR {:.3}; weights {}", p1.ctr[k], cells.join(", "));
}
let check: ExampleCheck = ExampleCheck::of(&p1).unwrap();
println!("{check}");
println!("as the tutorial says 和教程说的一致 (both ratios 两个比值 ≥ {}): {}", ExampleCheck::CLEARLY, check.as_tutorial());
plot::heatmap("训练后 trained DIN: 兴趣激活 attention weights", &cand_names, &hist_names, &w1, HeatScale::Weights)?.evcxr_display();
// %% [markdown]
// 同一段历史，换一个候选，权重就重新分配——这就是“兴趣激活”。候选是“篮球”时，同属篮球组的“篮球鞋”和“篮球”拿走几乎全部权重；候选是“口红”时，“口红”本身的权重最高。
//
// **教程说的“口红激活连衣裙”做到了几分？** 判断标准（`ExampleCheck`，`crates/din-teach/src/tutorial.rs`）：对每个候选，它的两件“高权重”商品里较轻的一件，至少是两件“低权重”商品里较重的一件的 2 倍（比值不受权重归一化方式影响）。上面打印的是这一次训练（种子 2026）的两个比值。换训练种子（2026、1、2、3，同一个世界；`cargo run --release -p din-teach --example tutorial_example_seeds`，本机实测）：
//
// | 权重 weights | “篮球”一行成立 | “口红”一行成立 | “连衣裙”的权重（口红一行） | “口红”本身 |
// |---|---|---|---|---|
// | softmax（本笔记本 · this notebook） | 4 / 4 | 3 / 4（种子 1：连衣裙 0.0006 < 篮球 0.0149） | 0.0006 – 0.21 | 0.79 – 0.99 |
// | 每个权重一个 sigmoid（教程文字 · the tutorial's text） | 3 / 4 | 2 / 4 | 0.007 – 0.16 | 0.23 – 0.84 |
//
// 所以演示世界只做到一半：“篮球”激活篮球类商品、“口红”激活它自己，每次都成立；“连衣裙”多数时候排在篮球类商品之前，但它的权重从来不“高”（softmax 下最多 0.21，sigmoid 下最多 0.16）。原因：演示世界里“连衣裙”（时尚组）和“口红”（美妆组）只是常常一起被持有的“伙伴”兴趣（`crates/din/src/synth/demo.rs` 的 `partner`，`partner_prob` 0.6），点击一件口红并不说明这个用户会点连衣裙；同组商品的信号强得多。教程的例子是一个直觉上的说法，不是一个量出来的结果。
//
// One history, another candidate, another distribution of weights — interest activation. For 篮球 the two basketball items take nearly all the weight; for 口红 the lipstick itself weighs most.
//
// **How much of "口红 activates 连衣裙" does the demo world show?** The criterion (`ExampleCheck`, `crates/din-teach/src/tutorial.rs`): for each candidate, the lighter of its two "high" items weighs at least twice the heavier of its two "low" ones (a ratio, which means the same however the weights are normalised). The cell above prints both ratios for this run (seed 2026). Over training seeds 2026, 1, 2, 3 on the same world (`cargo run --release -p din-teach --example tutorial_example_seeds`, measured on this machine): with softmax weights (this notebook) the 篮球 row holds in 4 of 4 and the 口红 row in 3 of 4 (seed 1: 连衣裙 0.0006 < 篮球 0.0149), 连衣裙 weighing 0.0006–0.21 and 口红 itself 0.79–0.99; with a sigmoid on each weight (the tutorial's text) 3 of 4 and 2 of 4, 连衣裙 0.007–0.16, 口红 0.23–0.84.
//
// So the demo world gets halfway: 篮球 activates the basketball items and 口红 activates itself, in every run; 连衣裙 mostly ranks above the basketball items but never gets a *high* weight (at most 0.21 with softmax, 0.16 with sigmoids). Why: in the demo world the dress (fashion) and the lipstick (beauty) are only partner interests that users often hold together (`partner` in `crates/din/src/synth/demo.rs`, `partner_prob` 0.6); clicking a lipstick says little about clicking a dress, while items of one group say much. The tutorial's example is an intuition, not a measured result.
// %% [markdown]
// ## 3.3 加权求和 vs 平均 · Weighted sum vs average
//
// $V_{interest} = \sum_i w_i v_i$。传统模型（教程的“传统模型”，本项目的 base model）用 $w_i = 1/n$：不管候选是什么，兴趣向量都一样。用训练好的向量算一下，看兴趣向量和候选向量有多接近（余弦相似度）：
//
// $V_{interest} = \sum_i w_i v_i$. The traditional model uses $w_i = 1/n$: the interest vector is the same whatever the candidate. With the trained vectors, how close is the interest vector to the candidate (cosine similarity)?
// %%
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}
{
let d = model.config().embed_dim;
let hist_ids: Vec<u32> = query.history.iter().map(|&r| ds.vocab.items.get(r).unwrap()).collect();
let v_hist: Vec<f32> = embedding_rows(&model, TableId::Item, &hist_ids); // [n, d] row-major
let n = hist_ids.len();
let mean: Vec<f32> = (0..d).map(|j| (0..n).map(|i| v_hist[i * d + j]).sum::<f32>() / n as f32).collect();
for (k, c) in cand_names.iter().enumerate() {
    let v_t: Vec<f32> = embedding_rows(&model, TableId::Item, &[ds.vocab.items.get(query.candidates[k]).unwrap()]);
    let att: Vec<f32> = (0..d).map(|j| (0..n).map(|i| w1[k][i] * v_hist[i * d + j]).sum()).collect();
    println!("candidate {c}: cos(V_interest, v_target) — attention {:.3}, average (w_i = 1/n) {:.3}", cosine(&att, &v_t), cosine(&mean, &v_t));
}
}
// %% [markdown]
// 注意力得到的兴趣向量更接近候选商品；平均得到的兴趣向量对两个候选都一样，“篮球”的信号被“连衣裙”“口红”冲淡了。这里用的是 softmax 权重（和为 1）；在论文的做法（不归一化）下，$\sum_i w_i$ 还可以随匹配的历史行为数变大，保留兴趣的“强度”。
//
// The attention vector points closer to the candidate; the average is the same for both candidates, its basketball signal diluted by the dress and the lipstick. These are softmax weights (sum 1); with the paper's raw weights $\sum_i w_i$ can also grow with the number of matching items, keeping the *intensity* of an interest.
// %% [markdown]
// ## 3.4 权重之和不一定是 1：未归一化、sigmoid、softmax · Weights need not sum to 1
//
// 教程说“最终权重需要经过 sigmoid 保证所有权重和为 1”。**这不对**：sigmoid 把每个分数*各自*压到 (0, 1)，和可以是 0 到 n 之间的任何数；只有对各位置做 softmax 才使和为 1。而且教程的代码（torch-rechub 的 `ActivationUnit`，`use_softmax=False`）两样都没做：权重就是 MLP 的原始输出，可以是负数。论文也故意不归一化（为了保留兴趣强度）。
//
// 把训练好的模型复制一份，只换归一化方式，同一组原始分数 $s_i$ 给出：
//
// *The tutorial says a sigmoid makes the weights sum to 1. It does not: a sigmoid squashes each score into (0, 1) on its own, so the sum can be anything between 0 and n; only a softmax over the positions sums to 1. And the tutorial's code (`use_softmax=False`) applies neither: the weights are the raw MLP outputs, possibly negative — which is also the paper's choice (it keeps the intensity of interests). Copy the trained model and change only the normalisation; the same raw scores $s_i$ give:*
// %%
let mut rows_out: Vec<Vec<f32>> = Vec::new();
for (name, norm) in [("raw 未归一化 (paper, tutorial's code)", WeightNorm::None), ("sigmoid (tutorial's text)", WeightNorm::Sigmoid), ("softmax (masked; official DIN code)", WeightNorm::Softmax)] {
    let p = predict(&model.clone().with_weight_norm(norm)?, &ds.vocab, ds.config.max_len, &query)?;
    let w = &p.item_attention.unwrap()[0]; // candidate 篮球
    println!("{name:<38} weights {:?}  sum {:.3}", w.iter().map(|x| (x * 1000.0).round() / 1000.0).collect::<Vec<f32>>(), w.iter().sum::<f32>());
    rows_out.push(w.clone());
}
// two figures (the raw scores live on another scale than the normalised weights); first the raw scores
plot::heatmap_with_axes("candidate 篮球: raw scores s_i 原始分数", plot::HeatAxes { rows: "归一化 normalisation", columns: "历史行为 history" }, &["raw".to_string()], &hist_names, &rows_out[..1], HeatScale::Signed)?.evcxr_display();
// %%
plot::heatmap_with_axes("candidate 篮球: sigmoid(s_i) vs softmax(s_i)", plot::HeatAxes { rows: "归一化 normalisation", columns: "历史行为 history" }, &["sigmoid".to_string(), "softmax".to_string()], &hist_names, &rows_out[1..], HeatScale::Weights)?.evcxr_display();
// %% [markdown]
// 只有 softmax 的和是 1。为什么本项目的教程配置用 softmax？因为它让权重可读，而教程的例子讲的正是权重。不归一化时，权重的符号和尺度是自由的（后面的 MLP 可以吸收一个负的系数），所以原始权重大不一定表示“这个历史行为更重要”；上面打印的原始分数就有正有负，和是负数（softmax 对所有分数加同一个常数不变，所以这个模型的原始分数只有差值有意义）。本笔记本只训练了一个模型（用 softmax），上面的单元只是把它的同一组分数换三种方式归一化：它**没有**比较用原始权重训练出来的模型，所以这里不说哪种归一化的 CTR 模型更好。库的默认值仍是论文的 `WeightNorm::None`。
//
// Only the softmax sums to 1. Why does this project's tutorial configuration use it? It makes the weights readable, which is what the tutorial's example is about. Unnormalised, the weights' sign and scale are free (the MLP after them can absorb a negative factor), so a large raw weight need not mean "this item matters more"; the raw scores printed above are positive and negative and sum to a negative number (a softmax does not change when the same constant is added to every score, so only differences between this model's raw scores mean anything). This notebook trains one model (with the softmax), and the cell above only normalises its same scores three ways: it does **not** compare with a model trained on raw weights, so nothing here says which normalisation gives the better CTR model. The library's default stays the paper's `WeightNorm::None`.
// %% [markdown]
// ## 3.5 3d 还是 4d 输入 · The 3d vs 4d input
//
// 教程的公式 $w_i = f(v_i, v_{target}, v_i \odot v_{target})$：输入是三者的拼接，维度 3d。但教程的代码（torch-rechub）拼的是 **4 个**：`torch.cat([target, history, target - history, target * history])`，维度 **4d**，MLP 的输入也是 `4 * emb_dim`。本项目两种都支持（`AttentionInput::Four` 为默认，与代码一致；`AttentionInput::Three` 与教程文字一致），第一层权重的形状说明了区别：
//
// The tutorial's formula concatenates three vectors (3d); its code concatenates **four**, `[target, history, target − history, target ⊙ history]` (**4d**; the MLP input is `4 * emb_dim`). Both are here (`AttentionInput::Four`, the default, as the code; `AttentionInput::Three`, as the text); the first layer's weight shows the difference:
// %%
fn first_layer(m: &Model) -> Vec<usize> {
    match m.net() {
        Network::Din(net) => net.att_item().mlp().hidden()[0].linear().weight().dims().to_vec(),
        _ => vec![],
    }
}
let three: Model = Model::for_vocab(&ds.vocab, ModelConfig { attention_input: AttentionInput::Three, ..cfg.model.clone() }, 2026)?;
println!("4d [v_t, v_i, v_t − v_i, v_t ⊙ v_i]: first layer weight {:?} = [256 hidden, 4 × {}]", first_layer(&model), cfg.model.embed_dim);
println!("3d [v_i, v_t, v_i ⊙ v_t]:           first layer weight {:?} = [256 hidden, 3 × {}]", first_layer(&three), cfg.model.embed_dim);
// %% [markdown]
// 差值 $v_t - v_i$ 是 $v_t$ 和 $v_i$ 的线性组合，所以第一层（线性层）能从 3d 输入里自己算出它：4d 并不比 3d 更有表达力，只是给了 MLP 一个现成的特征。本项目的实现正是利用了这一点：$W\cdot[t, h, t-h, t\odot h] = (W_t + W_d)\,t + (W_h - W_d)\,h + W_p\,(t\odot h)$，所以 $t$ 的部分每条样本只算一次（见 `crates/din/src/model/attention.rs`）。
//
// The difference $v_t - v_i$ is a linear combination of $v_t$ and $v_i$, so the first (linear) layer could compute it from the 3d input itself: 4d is not more expressive, it hands the MLP a ready-made feature. The implementation uses exactly this: $W\cdot[t, h, t-h, t\odot h] = (W_t + W_d)\,t + (W_h - W_d)\,h + W_p\,(t\odot h)$, so the $t$ part is computed once per row (`crates/din/src/model/attention.rs`).
// %% [markdown]
// ## 3.6 填充位置的 mask · Masking of padding
//
// 一个 batch 里历史长短不一，短的要填充到同一长度。填充位置必须**权重为 0**，否则它们（第 0 行向量）会混进兴趣向量，softmax 也会把一部分权重分给它们。下面两条样本历史长度不同，用教程的 [B, n, d] 写法（`Layout::Padded`）计算：填充位置的权重恰好是 0，每行真实位置的 softmax 和为 1；再多填充 10 个位置，预测的 CTR 不变。
//
// Histories in a batch differ in length and are padded to one length. Padded positions must get **weight 0**, or their (row 0) vectors would leak into the interest vector and the softmax would hand them weight. Two rows of different lengths, computed the tutorial's way on [B, n, d] (`Layout::Padded`): the padded weights are exactly 0, each row's softmax sums to 1 over its real positions, and padding 10 more positions leaves the CTRs unchanged.
// %%
let m_pad: Model = model.clone().with_layout(Layout::Padded);
{
let short = (0..ds.train.len()).find(|&r| ds.train.hist_len[r] == 2).unwrap();
let long = (0..ds.train.len()).find(|&r| ds.train.hist_len[r] == 6).unwrap();
let b: Batch = Batch::from_split(&ds.train, &[short, long]);
let out = m_pad.forward(&b)?;
let w: Vec<Vec<f32>> = out.attention.as_ref().unwrap()[0].to_vec2::<f32>()?;
println!("mask:    {:?}", b.mask);
for (k, row) in w.iter().enumerate() {
    println!("row {k}: history length {}, weights {:?}, sum {:.4}", b.hist_len[k], row.iter().map(|x| (x * 1000.0).round() / 1000.0).collect::<Vec<f32>>(), row.iter().sum::<f32>());
}
let ctr_a: Vec<f32> = m_pad.predict(&b)?;
let ctr_b: Vec<f32> = m_pad.predict(&b.padded_to(b.max_len + 10))?;
let ctr_packed: Vec<f32> = model.predict(&b)?;
println!("CTR, padded to {}: {:?}", b.max_len, ctr_a);
println!("CTR, padded to {}: {:?}", b.max_len + 10, ctr_b);
println!("CTR, packed (no padding at all): {:?}", ctr_packed);
}
// %% [markdown]
// ## 3.7 从零实现激活单元 · The activation unit from scratch
//
// 上面的单元都调用库。现在用 candle 的基本运算在单元里**亲手**写出激活单元，再把训练好的权重装进去，和库比较。步骤就是教程的公式：查嵌入 → 每个历史位置的 4d 输入 $[t, h, t-h, t \odot h]$ → Linear → Dice → Linear → 每个位置一个分数 → 填充位置的 mask → softmax（本项目的教程配置；论文不归一化）→ 加权求和。
//
// Dice（论文 5.2 节）：$p = \mathrm{sigmoid}\big((z - \mathrm{E}[z]) / \sqrt{\mathrm{Var}[z] + \epsilon}\big)$，输出 $p \cdot z + (1-p)\cdot \alpha \cdot z$。训练时 $\mathrm{E}$、$\mathrm{Var}$ 是本 batch **真实位置**上的统计（填充位置不算），推断时用训练中累积的滑动平均（running statistics）。
//
// The cells above call the library. Now write the activation unit **by hand** from candle operations, load the trained weights into it and compare with the library. The steps are the tutorial's formula: embedding lookup → the 4d input $[t, h, t-h, t \odot h]$ at every history position → Linear → Dice → Linear → one score per position → the padding mask → softmax (this project's tutorial configuration; the paper does not normalise) → the weighted sum. Dice (paper, section 5.2) gates with $p = \mathrm{sigmoid}((z - \mathrm{E}[z]) / \sqrt{\mathrm{Var}[z] + \epsilon})$ and returns $p z + (1-p) \alpha z$; in training $\mathrm{E}$ and $\mathrm{Var}$ are the batch's statistics over the **real** positions (padding excluded), in inference the running averages accumulated in training.
// **动手写 · Build it.** 学生版里，下面 `my_unit` 的函数体是空的（`todo!()`），由你来写；训练好的权重由 `UnitWeights::from_model` 从模型里按名字复制出来（每个隐藏层的 `w`、`b`、Dice 的 `alpha` 和 running statistics，输出层 `w_out`、`b_out`）。函数返回**每一步**（`UnitSteps`：4d 输入、mask 之前的分数、权重、兴趣向量），检查单元逐步对照：4d 输入和 mask 之前的分数是库的公开函数不返回的中间量，权重和兴趣向量与库的激活单元比较（训练好的权重，推断和训练两种模式，误差 ≤ 1e-5）。写好之前，再下面比较三种计算的单元会停在 `todo!()`。
//
// **Build it.** In the student's edition the body of `my_unit` below is empty (`todo!()`): you write it. `UnitWeights::from_model` copies the trained weights out of the model by name (each hidden layer's `w`, `b`, Dice's `alpha` and running statistics; the output layer's `w_out`, `b_out`). The function returns **every step** (`UnitSteps`: the 4d input, the scores before the mask, the weights, the interest vectors), and the check compares step by step: the 4d input and the scores before the mask are intermediates that no public function of the library returns; the weights and the interest vectors are compared with the library's activation unit (trained weights, evaluation and training, to 1e-5). Until you have written it, the cell further down that compares three computations stops at the `todo!()`.
// %% [exercise]
/// The activation unit by hand. `target: [B, d]`, `hist: [B, L, d]`, `mask: [B, L]` (1 = real).
/// `train`: Dice normalises with the batch's statistics over the real positions (else the running ones).
fn my_unit(u: &UnitWeights, target: &Tensor, hist: &Tensor, mask: &Tensor, train: bool) -> candle_core::Result<UnitSteps> {
    // 提示 hint: 和上面 3.1 从零实现的单元一样：`unsqueeze(1)` + `broadcast_as((b, l, d))` 广播候选；`Tensor::cat(&[..], 2)` 得 [b, l, 4d]；`reshape((b * l, 4 * d))` 后逐层 `matmul(&w.t()?)` + `broadcast_add(&b)`；
    // Dice 的 ε = 1e-8；训练时的均值和方差只算真实位置（乘以 `mask.reshape((b * l, 1))` 再除以真实位置数 `sum_all`），推断时用 `running_mean`/`running_var`（`unsqueeze(0)`）；最后 `reshape((b, l))`、masked softmax 或乘 mask、加权求和。
    // as in the from-scratch cell of 3.1: broadcast the target (`unsqueeze(1)`, `broadcast_as((b, l, d))`), `Tensor::cat(&[..], 2)` → [b, l, 4d], `reshape((b * l, 4 * d))`, then per layer `matmul(&w.t()?)` and `broadcast_add(&b)`;
    // Dice's ε is 1e-8; in training the mean and variance are over the real positions only (multiply by `mask.reshape((b * l, 1))`, divide by their count `sum_all`), in evaluation `running_mean`/`running_var` (`unsqueeze(0)`); then `reshape((b, l))`, masked softmax or × mask, the weighted sum.
    // BEGIN SOLUTION
    let (b, l, d) = hist.dims3()?;
    // 1. the 4d input at every position: [t, h, t − h, t ⊙ h]  → [B, L, 4d]
    let t = target.unsqueeze(1)?.broadcast_as((b, l, d))?;
    let input = Tensor::cat(&[&t, hist, &(&t - hist)?, &(&t * hist)?], 2)?;
    let real = mask.reshape((b * l, 1))?; // 1 at real positions, 0 at padding
    // 2. Linear → Dice, layer by layer, on all B·L positions
    let mut z = input.reshape((b * l, 4 * d))?;
    for layer in &u.hidden {
        z = z.matmul(&layer.w.t()?)?.broadcast_add(&layer.b)?;
        let (mean, var) = if train {
            let n = real.sum_all()?;
            let mean = z.broadcast_mul(&real)?.sum_keepdim(0)?.broadcast_div(&n)?;
            let var = z.broadcast_sub(&mean)?.sqr()?.broadcast_mul(&real)?.sum_keepdim(0)?.broadcast_div(&n)?;
            (mean, var)
        } else {
            (layer.running_mean.unsqueeze(0)?, layer.running_var.unsqueeze(0)?)
        };
        let p = candle_nn::ops::sigmoid(&z.broadcast_sub(&mean)?.broadcast_div(&(var + 1e-8)?.sqrt()?)?)?;
        // p·z + (1 − p)·α·z
        z = (p.mul(&z)? + p.affine(-1.0, 1.0)?.mul(&z.broadcast_mul(&layer.alpha)?)?)?;
    }
    // 3. one score per position, before the mask
    let scores = z.matmul(&u.w_out.t()?)?.broadcast_add(&u.b_out)?.reshape((b, l))?;
    // 4. the mask, and the softmax over real positions (the library's function: you write it in exercise 2)
    let weights = if u.softmax { din::model::masked_softmax(&scores, mask)? } else { (&scores * mask)? };
    // 5. the weighted sum V_interest = Σ_i w_i · v_i
    let interest = weights.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?;
    Ok(UnitSteps { input, scores, weights, interest })
    // END SOLUTION
}
// %% [check]
exercises::check_activation_unit(my_unit);
// %% [markdown]
// 装入训练好的权重，在测试集的 256 行上比较三种计算：亲手写的单元、库的公式（`ActivationUnit::forward_padded`，填充布局）和训练真正走的**快速路径**（打包布局：历史只存真实位置，整个激活单元是一个手写前向和反向的 CPU 内核，`crates/din-kernels/src/attention.rs`）。推断（running statistics）与训练（batch statistics）各比较一次。
//
// Load the trained weights and compare three computations on 256 test rows: the hand-written unit, the library's formula (`ActivationUnit::forward_padded`, padded layout) and the **fast path** training really runs (packed layout: only real positions are stored, and the whole unit is one CPU kernel with a hand-written forward and backward pass, `crates/din-kernels/src/attention.rs`). Once in inference (running statistics), once in training (batch statistics).
// %%
{
let mine: UnitWeights = UnitWeights::from_model(&model, "attention.item")?;
let Network::Din(net) = model.net() else { panic!("DIN expected") };
let rows: Vec<usize> = (0..256.min(ds.test.len())).collect();
let batch: Batch = Batch::from_split(&ds.test, &rows);
let x = model.embeddings().lookup(&batch, Layout::Padded, DTYPE, &Device::Cpu)?; // padded [B, L, d]
let xp = model.embeddings().lookup(&batch, Layout::Packed, DTYPE, &Device::Cpu)?; // packed [N, d]
let diff = |a: &Tensor, b: &Tensor| -> candle_core::Result<f32> { (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>() };
// inference
let steps: UnitSteps = my_unit(&mine, &x.target_item, &x.hist_item, &x.mask, false)?;
let (i_mine, w_mine) = (steps.interest, steps.weights);
let (i_lib, w_lib) = net.att_item().forward_padded(&x.target_item, &x.hist_item, &x.mask, Mode::new(false, Kernels::Reference))?;
println!("推断 inference — hand-built vs library formula: interest {:.1e}, weights {:.1e}", diff(&i_mine, &i_lib)?, diff(&w_mine, &w_lib)?);
// training (these calls also fold this batch into the unit's running statistics, as training would)
let steps: UnitSteps = my_unit(&mine, &x.target_item, &x.hist_item, &x.mask, true)?;
let (i_mine, w_mine) = (steps.interest, steps.weights);
let (i_lib, w_lib) = net.att_item().forward_padded(&x.target_item, &x.hist_item, &x.mask, Mode::new(true, Kernels::Reference))?;
let (i_fast, w_fast) = net.att_item().forward_packed(&xp.target_item, &xp.hist_item, &xp, Mode::TRAIN)?;
println!("训练 training — hand-built vs library formula: interest {:.1e}, weights {:.1e}", diff(&i_mine, &i_lib)?, diff(&w_mine, &w_lib)?);
println!("训练 training — hand-built vs fast path (fused kernel, packed): interest {:.1e}, weights {:.1e}", diff(&i_mine, &i_fast)?, diff(&w_mine, &w_fast)?);
let worst = [diff(&i_mine, &i_fast)?, diff(&w_mine, &w_fast)?, diff(&i_mine, &i_lib)?, diff(&w_mine, &w_lib)?].into_iter().fold(0f32, f32::max);
println!("largest difference 最大差: {worst:.1e} → {}", if worst <= 1e-5 { "the three compute the same function 三者计算的是同一个函数" } else { "MISMATCH 不一致" });
}
// %% [markdown]
// 三者只差浮点舍入（求和顺序不同）。所以**改 `attention.rs` 不会改变训练**：训练走的是 `din-kernels` 里的快速路径。想让训练使用你改过的公式，用 `model.with_kernels(Kernels::Reference)`（只用张量运算，慢几倍），或者像笔记本 4 那样把你自己的网络交给 `fit`。项目的测试（`crates/din/tests/model_correctness.rs`，`crates/din-kernels` 的单元测试）用有限差分检查快速路径的梯度，并逐项比较两条路径的输出。
//
// The three differ only by floating-point rounding (sums in different orders). Hence **editing `attention.rs` does not change training**: training runs the fast path in `din-kernels`. To train with a formula you changed, use `model.with_kernels(Kernels::Reference)` (tensor ops only, several times slower), or hand your own network to `fit` (`Trainable`, `Model::custom`; `crates/din/tests/learning.rs` trains one). The project's tests (`crates/din/tests/model_correctness.rs`, the unit tests of `crates/din-kernels`) check the fast path's gradients by finite differences and compare both paths' outputs.
// %% [markdown]
// **小结 Summary.** 激活单元给每个历史行为打分，分数取决于候选商品；加权求和得到随候选变化的兴趣向量。教程的两处说法需要更正：sigmoid 不能使权重和为 1（只有 softmax 可以。论文 4.3 节有意不做 softmax 归一化，教程代码 torch-rechub 的 `ActivationUnit` 也不归一化；但 DIN 官方代码 zhougr1993/DeepInterestNetwork 的 `din/model.py` 的 `attention()` 先把填充位置的分数置为 $-2^{32}+1$、除以 $\sqrt{H}$，再做 softmax——即 masked softmax）；代码的输入是 4d。下一本：训练与 AUC。
//
// The activation unit scores each history item depending on the candidate; the weighted sum gives an interest vector that changes with the candidate. Two corrections to the tutorial: a sigmoid does not make weights sum to 1 (only a softmax does. The paper, section 4.3, deliberately leaves the weights unnormalised, and the tutorial's code, torch-rechub's `ActivationUnit`, does not normalise either; but the official DIN code, `attention()` in `din/model.py` of zhougr1993/DeepInterestNetwork, sets the padding's scores to $-2^{32}+1$, divides by $\sqrt{H}$ and applies a softmax: a masked softmax); the code's input is 4d. Next: training and AUC (notebook 4).
// %% [markdown]
// ## 练习 · Exercises
//
// 1. **教程文字里的 3d 输入，以及快速路径为什么不构造它**（代码）：写 `input_3d(t, h, w)`：候选 `t` 是 `[b, d]`，历史 `h` 是 `[b, l, d]`，`w` 是激活单元第一层的权重 `[H, 3d]`；返回 `(x, t_part)`：`x` 是每个位置的 `[b, l, 3d]` = `[h, t, h ⊙ t]`（先把 `t` 广播到每个位置）；`t_part` 是候选在第一层里的那一份 `t·W_tᵀ`，`[b, H]`，`W_t` 是 `w` 中和 `x` 里的 `t` 相乘的那 d 列。因为 `x·wᵀ = h·W_hᵀ + t·W_tᵀ + (h⊙t)·W_pᵀ`，这一份在同一行的每个位置都一样：库的快速路径每行只算一次，从不构造 `x`（`crates/din-kernels/src/attention.rs`）。检查单元把 `x` 和 `AttentionInput::Three` 在广播后的输入上的结果比较，再核对 `t_part`（库没有返回它的函数，所以直接调用库过不了检查）。然后在上面的从零实现里用它代替 4d 输入（第一层的输入宽度要改成 3d）。
// 2. **只在真实位置上做 softmax**（代码）：写 `my_masked_softmax(scores, mask)`（`[b, l]`），返回 `(shift, weights)`：`shift` 是每行**真实位置**上的最大分数 `[b, 1]`（在 `exp` 之前减去它），`weights` 在填充位置为 0，每行真实位置的权重和为 1，空行全 0。检查单元先检查 `shift`（库的函数不返回它，所以直接调用库过不了检查），再和 `din::model::masked_softmax` 比较权重；它用到很大的分数和一行全是很负的分数：不先减去真实位置的最大值，就会溢出或下溢。
// 3. **去掉 mask**（思考 + 运行）：在从零实现的单元里把 mask 换成全 1，再比较“填充到 L”和“填充到 L + 10”的兴趣向量：差多少？为什么填充位置会改变结果？
// 4. **Dice 换成 PReLU**：把 `cfg.model.attention_activation` 改成 `Activation::Prelu`，重新训练（笔记本 2 的单元），看热图有什么变化；训练速度呢（笔记本 5 有测量）？
//
// 1. **The tutorial text's 3d input, and why the fast paths never build it** (code): write `input_3d(t, h, w)`: the targets `t` are `[b, d]`, the histories `h` `[b, l, d]`, `w` the unit's first-layer weight `[H, 3d]`; return `(x, t_part)`: `x` the `[b, l, 3d]` input `[h, t, h ⊙ t]` at every position (broadcast `t` over the positions first), and `t_part` the target's share of the first layer, `t·W_tᵀ`, `[b, H]`, with `W_t` the d columns of `w` that meet `t` in `x`. Since `x·wᵀ = h·W_hᵀ + t·W_tᵀ + (h⊙t)·W_pᵀ`, that share is the same at every position of a row: the library's fast paths compute it once per row and never build `x` (`crates/din-kernels/src/attention.rs`). The check compares `x` with `AttentionInput::Three` on the broadcast input, then `t_part` (no function of the library returns it, so calling the library does not pass). Then use it in the from-scratch unit above instead of the 4d input (the first layer's width becomes 3d).
// 2. **Softmax over the real positions only** (code): write `my_masked_softmax(scores, mask)` (`[b, l]`) returning `(shift, weights)`: `shift` is each row's largest score over its **real** positions, `[b, 1]` (subtracted before `exp`), and `weights` are 0 at padding, each row's real weights summing to 1, an empty row all 0. The check looks at `shift` first (the library's function does not return it, so calling the library does not pass), then compares the weights with `din::model::masked_softmax`; it uses large scores and a row whose scores are all very negative: without subtracting the max over the real positions first, it overflows or underflows.
// 3. **Remove the mask** (think and run): in the from-scratch cell, replace the mask by all ones and compare the interest vectors padded to L and to L + 10: how far apart are they, and why does padding change the result?
// 4. **PReLU instead of Dice**: set `cfg.model.attention_activation = Activation::Prelu`, retrain (notebook 2's cell) and compare the heatmap; and the training speed (measured in notebook 5)?
// %% [exercise]
fn input_3d(t: &Tensor, h: &Tensor, w: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
    // 提示 hint: `t.dim(1)?` 是 d；`t.unsqueeze(1)?.broadcast_as(h.dims())?` 把 [b, d] 广播成 [b, l, d]；`Tensor::cat(&[h, &tb, &(h * &tb)?], 2)?`；`w.narrow(1, d, d)?` 取 w 的第 d … 2d−1 列 [H, d]；`t.matmul(&w_t.t()?)?` → [b, H]。
    // `t.dim(1)?` is d; `t.unsqueeze(1)?.broadcast_as(h.dims())?` broadcasts [b, d] to [b, l, d]; `Tensor::cat(&[h, &tb, &(h * &tb)?], 2)?`; `w.narrow(1, d, d)?` takes columns d … 2d−1 of w, [H, d]; `t.matmul(&w_t.t()?)?` → [b, H].
    // BEGIN SOLUTION
    let d = t.dim(1)?;
    let tb = t.unsqueeze(1)?.broadcast_as(h.dims())?; // [b, d] → [b, l, d]
    let x = Tensor::cat(&[h, &tb, &(h * &tb)?], 2)?; // [h, t, h ⊙ t]
    let w_t = w.narrow(1, d, d)?; // the columns that meet t: d..2d
    Ok((x, t.matmul(&w_t.t()?)?)) // t·W_tᵀ: [b, H], once per row
    // END SOLUTION
}
// %% [check]
exercises::check_input_3d(input_3d);
// %% [exercise]
fn my_masked_softmax(scores: &Tensor, mask: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
    // 提示 hint: `mask.affine(1e30, -1e30)?` 在填充位置是 −1e30；`(scores + neg)?.max_keepdim(1)?` 是真实位置上的最大值 [b, 1]；`broadcast_sub`、`exp`，再乘 mask；除以每行的和时用 `.maximum(1e-30)?` 防止空行 0/0。
    // `mask.affine(1e30, -1e30)?` is −1e30 at padding; `(scores + neg)?.max_keepdim(1)?` is the max over real positions, [b, 1]; `broadcast_sub`, `exp`, times the mask; divide by each row's sum with `.maximum(1e-30)?` so an empty row is not 0/0.
    // BEGIN SOLUTION
    let neg = mask.affine(1e30, -1e30)?; // 0 at real positions, −1e30 at padding
    let shift = (scores + neg)?.max_keepdim(1)?; // the max over real positions
    let e = (scores.broadcast_sub(&shift)?.mul(mask)?.exp()? * mask)?;
    let weights = e.broadcast_div(&e.sum_keepdim(1)?.maximum(1e-30)?)?;
    Ok((shift, weights))
    // END SOLUTION
}
// %% [check]
exercises::check_masked_softmax(my_masked_softmax);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 3. 填充位置查到的是填充行（全 0 的向量），但激活单元的输入 $[t, 0, t - 0, t \odot 0] = [t, 0, t, 0]$ 并不是 0，MLP 会给它一个分数。没有 mask 时，softmax 把一部分权重分给这些填充位置；它们的向量是 0，对加权和没有贡献，于是真实位置分到的权重变少，兴趣向量整体变短。填充越多（L + 10），被分走的越多：同一行数据只因为和不同长度的行放进了同一个 batch，就得到了不同的兴趣向量。mask 让结果与填充长度无关（3.6 的单元：填充到 6 和 16 的 CTR 完全相同）。
//
// 3. A padded position looks up the padding row (a zero vector), but the unit's input there, $[t, 0, t - 0, t \odot 0] = [t, 0, t, 0]$, is not zero and the MLP gives it a score. Without the mask the softmax hands part of the weight to those positions; their vectors are 0 and add nothing to the weighted sum, so the real positions get less weight and the interest vector shrinks. More padding (L + 10) takes more: the same row gets a different interest vector only because it was batched with longer rows. The mask makes the result independent of the padding (3.6's cell: the CTRs padded to 6 and to 16 are identical).
// %% [end]
    Ok(())
}
