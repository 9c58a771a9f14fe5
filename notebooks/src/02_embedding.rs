//! Source of `notebooks/02_embedding.ipynb` (and of its student edition): `scripts/make_notebooks.py`
//! turns the cells below into the notebook. A line `// %%` starts a code cell, `// %% [markdown]`
//! a markdown cell (its lines are `// ` comments), `// %% [setup]` the setup cell (`:dep` lines).
//! The code cells are the body of `main`, so `cargo test` compiles every notebook.

#[rustfmt::skip] // the cells are laid out for reading in the notebook
fn main() -> Result<(), Box<dyn std::error::Error>> {
// %% [markdown]
// # 2 嵌入层 · Embedding
//
// > 离散特征通过嵌入层转为低维稠密向量。
// > * $v_{target}$ 是待推荐的嵌入向量（维度 d）
// > * $v_i$ 是用户第 i 次历史行为商品的嵌入向量（维度 d）
// > * $V_{hist} = [v_1, v_2, \dots, v_n]$ 是历史行为序列，形状 [n, d]，n 是历史行为数量。
//
// *Discrete features become low-dimensional dense vectors: $v_{target}$ is the candidate's embedding (dimension d), $v_i$ the embedding of the i-th history item, $V_{hist} = [v_1, \dots, v_n]$ the history, shape [n, d].*
//
// 本笔记本：one-hot → 稠密向量；一个 batch 里的形状 [B, d] 与 [B, n, d]；历史和目标共享同一张表；训练之后把商品向量投影到二维（PCA），按兴趣组着色。数据：演示世界（2000 个用户）。
//
// This notebook: one-hot id → dense vector; the shapes [B, d] and [B, n, d] in a batch; the table shared by history and target; after training, a 2-D projection (PCA) of the item embeddings coloured by interest group. Data: the demo world (2000 users).
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
println!("demo world: {} users, {} items, {} categories; train rows {}", ds.stats.users, ds.stats.items, ds.stats.cates, ds.stats.train_rows);
println!("embed_dim d = {}", cfg.model.embed_dim);
// %% [markdown]
// ## 2.1 one-hot → 稠密向量 · One-hot id → dense vector
//
// 商品 id 是离散的。把 id $k$ 写成 one-hot 向量 $e_k$（长度 = 表的行数，只有第 $k$ 位是 1），嵌入就是 $e_k^\top E$：一张 `[行数, d]` 的表 $E$ 里的第 $k$ 行。实现里不做这个乘法，直接取第 $k$ 行（查表），结果完全相同。表的第 0 行是填充（padding），最后一行给没见过的 id（OOV）。
//
// An item id is discrete. Writing id $k$ as a one-hot vector $e_k$, its embedding is $e_k^\top E$, row $k$ of a `[rows, d]` table $E$. The code does not multiply; it looks row $k$ up, with the same result. Row 0 is padding, the last row is for unseen ids (OOV).
// %%
let model0: Model = Model::for_vocab(&ds.vocab, cfg.model.clone(), 2026)?;
{
let table = model0.embeddings().table(TableId::Item);
println!("item table E: [{}, {}]  (= {} items + padding row 0 + OOV row)", table.rows, table.dim, ds.stats.items);
let k = ds.vocab.items.get(world.item_id("篮球").unwrap()).unwrap() as usize;
let one_hot: Vec<f32> = (0..table.rows).map(|r| if r == k { 1.0 } else { 0.0 }).collect();
// e_k^T E, written out
let dense: Vec<f32> = (0..table.dim).map(|j| (0..table.rows).map(|r| one_hot[r] * table.data[r * table.dim + j]).sum()).collect();
println!("篮球 → dense index k = {k}; one-hot has {} entries, one of them 1", one_hot.len());
println!("e_k^T E  first 6 of d = {}: {:?}", table.dim, &dense[..6]);
println!("row k    first 6:          {:?}", &table.row(k)[..6]);
println!("identical: {}", dense == table.row(k));
}
// %% [markdown]
// ## 2.2 一个 batch 里的形状 · Shapes in a batch
//
// 取 4 条训练样本。目标商品 $v_{target}$ 的形状是 [B, d]，历史 $V_{hist}$ 是 [B, n, d]（n = 这个 batch 里最长的历史，短的用 0 号行填充，`mask` 为 0）。用户和类别也各是一张表。
//
// Four training rows. The candidate $v_{target}$ is [B, d], the history $V_{hist}$ is [B, n, d] (n = the longest history in the batch; shorter ones are padded with row 0, where `mask` is 0). Users and categories have their own tables.
// %%
let padded: Model = model0.clone().with_layout(Layout::Padded); // the formulas as written: [B, n, d]
let rows: Vec<usize> = vec![0, 1, 40, 41];
let batch: Batch = Batch::from_split(&ds.train, &rows);
let x: Lookup = padded.lookup(&batch)?;
println!("history lengths {:?}", batch.hist_len);
println!("v_target (item)   {:?}   [B, d]", x.target_item.dims());
println!("v_target (cate)   {:?}   [B, d]", x.target_cate.dims());
println!("V_hist   (item)   {:?}   [B, n, d]", x.hist_item.dims());
println!("V_hist   (cate)   {:?}   [B, n, d]", x.hist_cate.dims());
println!("user              {:?}   [B, d]", x.user.dims());
println!("mask              {:?}   [B, n]", x.mask.dims());
println!("{}", x.mask);
// %% [markdown]
// 默认的实现（`Layout::Packed`）不填充：只把真实的 N 个历史位置排成 [N, d]，并记下每个位置属于哪一行。数学上完全一样（有测试对照两者），只是不计算填充位置。
//
// The default layout (`Layout::Packed`) does not pad: it stacks the N real history positions as [N, d] and records which row each belongs to. Same maths (a test checks both agree), no work on padding.
// %%
let xp: Lookup = model0.lookup(&batch)?;
println!("packed V_hist: {:?}  (N = {} real positions = sum of the history lengths)", xp.hist_item.dims(), batch.hist_len.iter().sum::<u32>());
// %% [markdown]
// ## 2.3 历史和目标共享同一张表 · Shared tables
//
// 教程里 `SequenceFeature("history_item", …, shared_with="target_item")`：历史商品和候选商品在同一个向量空间里，所以共用一张嵌入表。这里也是：只有一张商品表 `TableId::Item`、一张类别表 `TableId::Cate`。同一个商品无论出现在历史里还是作为目标，向量都相同——注意力单元才能比较 $v_i$ 和 $v_{target}$。
//
// The tutorial's `shared_with="target_item"`: history items and candidates live in one space, so they share one table. Here there is one item table and one category table; an item has the same vector in the history and as the target — which is what lets the activation unit compare $v_i$ with $v_{target}$.
// %%
let h0: u32 = batch.hist_item[0]; // first history item of row 0 (padded layout: position [0, 0])
let as_history: Vec<f32> = x.hist_item.get(0)?.get(0)?.to_vec1::<f32>()?;
let q: Batch = Batch::from_rows(vec![din::data::RowRef { user: batch.user[0], hist_item: &[], hist_cate: &[], target_item: h0, target_cate: ds.vocab.cate_of(h0), label: 0.0 }], 0);
let as_target: Vec<f32> = padded.lookup(&q)?.target_item.get(0)?.to_vec1::<f32>()?;
println!("item {} ({}) as history: {:?}", h0, world.item(ds.vocab.items.raw(h0).unwrap()).unwrap().name, &as_history[..5]);
println!("same item as target:      {:?}", &as_target[..5]);
println!("identical: {}", as_history == as_target);
let n_emb: usize = model0.embeddings().tables().iter().map(|t| t.data.len()).sum();
println!("parameters: embeddings {}, network {}, total {}", n_emb, model0.n_params() - n_emb, model0.n_params());
// %% [markdown]
// **整个模型 · The whole model.** `println!("{model}")` 像 PyTorch 的 `print(model)` 一样列出模型：先是配置，然后每个模块一行（它的张量和形状，以及其中要训练的标量个数），最后是三个嵌入表。Dice 的 `running_mean`、`running_var` 存在模型里，却不是训练出来的（训练时用当前 batch 的统计量，它们只随之滑动更新），所以不计入 "trained"；上面的 `n_params()` 把它们也算进去了，单元的最后一行把两者对上。
//
// `println!("{model}")` lists the model as PyTorch's `print(model)` does: the configuration, one line per module (its tensors with their shapes and how many trained scalars they hold), the three embedding tables last. Dice's `running_mean` and `running_var` are kept in the model but not trained (training uses the batch's statistics and only moves these along), so they are not counted as "trained"; `n_params()` above counts them too, and the cell's last line reconciles the two.
// %%
println!("{model0}");
let running: usize = model0.tensors()?.iter().filter(|(name, _)| name.contains("running_")).map(|(_, t)| t.elem_count()).sum();
println!("n_params() {} = trained 训练的 {} + running statistics 运行统计量 {running}", model0.n_params(), model0.n_params() - running);
// %% [markdown]
// ## 2.4 训练之后的商品向量 · Item embeddings after training
//
// 随机初始化的向量没有结构。训练 DIN（本项目教程配置：softmax 归一化的注意力，最多 4 个 epoch，验证 AUC 不再提高就停，保留最好的一个）之后，同一兴趣组的商品（篮球鞋、篮球、球衣……）应当聚在一起。把 96 个商品的 64 维向量用 PCA 投影到二维，按兴趣组着色。
//
// Random initial vectors have no structure. After training DIN (the tutorial configuration of this project: softmax-normalised attention, up to 4 epochs, stopping when validation AUC stops improving and keeping the best), items of one interest group should cluster. Project the 96 items' 64-d vectors to 2-D with PCA, coloured by interest group.
// %%
fn item_scatter(model: &Model, ds: &Dataset, world: &DemoWorld, title: &str) -> din::Result<Svg> {
    let raws: Vec<i64> = (0..world.items.len() as i64).filter(|&r| ds.vocab.items.get(r).is_some()).collect();
    let ids: Vec<u32> = raws.iter().map(|&r| ds.vocab.items.get(r).unwrap()).collect();
    let rows = embedding_rows(model, TableId::Item, &ids);
    let pts = pca2(&rows, ids.len(), model.config().embed_dim);
    let groups: Vec<usize> = raws.iter().map(|&r| world.item(r).unwrap().interest).collect();
    let n_groups = groups.iter().max().unwrap() + 1;
    let names: Vec<String> = (0..n_groups).map(|g| world.interest_name(g).to_string()).collect();
    let labels: Vec<String> = raws.iter().map(|&r| world.item(r).unwrap().name.clone()).collect();
    plot::scatter(title, "PC1 第一主成分 (unitless 无量纲)", "PC2 第二主成分 (unitless 无量纲)", &pts, &groups, &names, Some(&labels))
}
item_scatter(&model0, &ds, &world, "训练前 before training: item embeddings (PCA), coloured by interest")?.evcxr_display();
// %%
let t0: Instant = Instant::now();
// trained here and saved to out/notebooks/tutorial_din, where notebook 3 finds it
// (a saved run with the same configuration is loaded instead of trained again)
let cached: CachedModel = cached_din(&ds, &cfg, Path::new("out/notebooks/tutorial_din"), &mut |p: Progress| {
    if let Progress::EpochEnd(e) = p {
        println!("{e}");
    }
})?;
let model: Model = cached.model.clone();
match &cached.loaded_from {
    None => println!("trained in {:.0} s; best epoch {} (kept)", t0.elapsed().as_secs_f64(), cached.history.best_epoch),
    Some(dir) => println!("loaded from {} (trained earlier; best epoch {}); delete that folder to train again", dir.display(), cached.history.best_epoch),
}
// %%
item_scatter(&model, &ds, &world, "训练后 after training: item embeddings (PCA), coloured by interest")?.evcxr_display();
// %% [markdown]
// 二维图只保留了 64 维里的一部分信息：有的兴趣组（篮球、母婴、户外、游戏）清楚地聚成团，有的（数码、厨房、宠物、茶饮、图书）在中间重叠；“伙伴”兴趣（演示世界里用户常常同时拥有的两组，例如时尚与美妆、篮球与健身）有的靠得近（时尚与美妆），有的并不近（篮球与健身）。所以不要只看图下结论：下面在完整的 64 维里量一量，同组商品之间、伙伴组之间和其他组之间的平均余弦相似度。
//
// The 2-D picture keeps only part of 64 dimensions: some interest groups (basketball, baby, outdoor, games) form clear clusters, others (digital, kitchen, pets, tea, books) overlap in the middle; of the "partner" interests (pairs demo users often hold together, such as fashion & beauty or basketball & fitness) some lie close (fashion & beauty), some do not (basketball & fitness). So do not conclude from the picture alone: the cell measures, in the full 64 dimensions, the mean cosine similarity between items of one group, of partner groups and of other groups.
// %%
{
    let raws: Vec<i64> = (0..world.items.len() as i64).filter(|&r| ds.vocab.items.get(r).is_some()).collect();
    let ids: Vec<u32> = raws.iter().map(|&r| ds.vocab.items.get(r).unwrap()).collect();
    let group: Vec<usize> = raws.iter().map(|&r| world.item(r).unwrap().interest).collect();
    let d: usize = model.config().embed_dim;
    // mean cosine similarity of item pairs in one group, in partner groups, in other groups
    let mean_cosines = |m: &Model| -> [f64; 3] {
        let rows: Vec<f32> = embedding_rows(m, TableId::Item, &ids);
        let row = |a: usize| &rows[a * d..(a + 1) * d];
        let norm = |v: &[f32]| v.iter().map(|p| (p * p) as f64).sum::<f64>().sqrt();
        let (mut sum, mut n) = ([0.0f64; 3], [0usize; 3]);
        for a in 0..ids.len() {
            for b in (a + 1)..ids.len() {
                let kind = if group[a] == group[b] { 0 } else if din::synth::demo::partner(group[a]) == Some(group[b]) { 1 } else { 2 };
                let dot: f64 = row(a).iter().zip(row(b)).map(|(p, q)| (p * q) as f64).sum();
                sum[kind] += dot / (norm(row(a)) * norm(row(b)));
                n[kind] += 1;
            }
        }
        [sum[0] / n[0] as f64, sum[1] / n[1] as f64, sum[2] / n[2] as f64]
    };
    let (b, a) = (mean_cosines(&model0), mean_cosines(&model));
    println!("mean cosine of item pairs 商品对的平均余弦    same group 同组   partner groups 伙伴组   other groups 其他组");
    println!("before training 训练前                    {:>+16.3} {:>+22.3} {:>+19.3}", b[0], b[1], b[2]);
    println!("after training 训练后                     {:>+16.3} {:>+22.3} {:>+19.3}", a[0], a[1], a[2]);
}
// %% [markdown]
// 训练前三类商品对的平均余弦都接近 0（随机向量之间几乎正交）；训练后同组商品平均余弦约 0.43，伙伴组之间约 0.19，其他组之间略小于 0（上面打印的数字）。所以在 64 维里，模型确实只从点击序列里学到了“哪些商品属于同一个兴趣”（没有人告诉它兴趣组），伙伴兴趣平均也更近；两个伙伴在二维图里离得远（例如篮球与健身），并不说明它们在 64 维里也远：投影只保留了两个方向。
//
// Before training the mean cosine of all three kinds of pairs is close to 0 (random vectors are nearly orthogonal); after training items of one group have a mean cosine of about 0.43, partner groups about 0.19, other groups slightly below 0 (the numbers printed above). So in 64 dimensions the model did learn, from click sequences alone, which items belong to one interest (nobody gave it the groups), and partner interests are closer on average; two partners far apart in the 2-D picture (basketball & fitness) need not be far apart in 64 dimensions: the projection keeps only two directions.
//
// 下一本笔记本：注意力单元怎样用这些向量给历史行为打分。Next: how the activation unit scores history items with these vectors (notebook 3).
// %% [markdown]
// ### candle 入门（写给用过 PyTorch 的人）· candle for PyTorch users
//
// 下面的练习第一次要你自己写张量运算。本项目用 candle 0.11（`Tensor` 在 `candle_core`，层和优化器在 `candle_nn`）。和 PyTorch 的对照：
//
// The exercises below are the first where you write tensor operations yourself. This project uses candle 0.11 (`Tensor` in `candle_core`, layers and optimisers in `candle_nn`). Side by side with PyTorch:
//
// | PyTorch | candle 0.11 | 说明 notes |
// |---|---|---|
// | `torch.tensor([[1., 2.]])` | `Tensor::new(&[[1f32, 2.]], &Device::Cpu)?` | 每个运算都返回 `Result`，用 `?` 传出错误（形状不对是一个错误，不是异常）· every op returns a `Result`; `?` passes errors on (a wrong shape is an error value, not an exception) |
// | `torch.zeros(3, 4)`，`x.shape` | `Tensor::zeros((3, 4), DType::F32, &Device::Cpu)?`，`x.dims()`（或 `x.dims3()?` 取出三个维度 · or the three sizes） | |
// | `x @ w.T + b` | `x.matmul(&w.t()?)?.broadcast_add(&b)?` | `&a + &b` 要求两边形状相同；形状不同时写 `broadcast_add`、`broadcast_sub`、`broadcast_mul`、`broadcast_div`（PyTorch 自动广播）· `&a + &b` needs equal shapes; with different shapes write `broadcast_add`, `broadcast_sub`, `broadcast_mul`, `broadcast_div` (PyTorch broadcasts implicitly) |
// | `torch.cat([a, b], dim=1)`，`x.sum(dim=1, keepdim=True)` | `Tensor::cat(&[&a, &b], 1)?`，`x.sum_keepdim(1)?`（不保留维度 · without it: `x.sum(1)?`） | |
// | `emb(ids)`（`nn.Embedding`） | `table.index_select(&ids, 0)?` 或 or `table.embedding(&ids)?` | `ids` 是 `u32` 张量 · a `u32` tensor |
// | `nn.Linear(n_in, n_out)` | `candle_nn::linear(n_in, n_out, vb.pp("name"))?` | 参数来自 `VarBuilder`：按名字给出张量（后面是 `VarMap`，本项目用有种子的 `din::model::Params`）· parameters come from a `VarBuilder`, tensors by name (backed by a `VarMap`; this project uses the seeded `din::model::Params`) |
// | `loss.backward(); opt.step(); opt.zero_grad()` | `opt.backward_step(&loss)?`（`candle_nn::Optimizer`） | 每次 `backward` 得到一份新的梯度，不需要清零 · each `backward` returns fresh gradients: nothing to zero |
// | `x.unsqueeze(1)`，`x.expand(b, l, d)`，`x.view(b * l, -1)`，`x.squeeze(1)` | `x.unsqueeze(1)?`，`x.broadcast_as((b, l, d))?`，`x.reshape((b * l, 4 * d))?`，`x.squeeze(1)?` | `reshape` 要写出每一维，元素总数不变，按行排列的数据不复制 · `reshape` names every dimension; the element count stays, row-major data is not copied |
// | `x.size(1)`，`b, l, d = x.shape`，`x.T`，`x[:, d:2*d]` | `x.dim(1)?`，`let (b, l, d) = x.dims3()?;`，`x.t()?`，`x.narrow(1, d, d)?` | `narrow(维 dim, 起点 start, 长度 len)` |
// | `a * b`，`a - b`，`2 * x + 1`，`x.clamp(min=1)` | `(&a * &b)?` 或 or `a.mul(&b)?`，`(&a - &b)?`，`x.affine(2.0, 1.0)?`，`x.maximum(1.0)?` | `affine(乘 mul, 加 add)`：乘一个数再加一个数 · multiply by a number, then add one |
// | `x.exp()`，`x.log()`，`x.sqrt()`，`x ** 2`，`x.abs()`，`-x`，`x.relu()`，`torch.sigmoid(x)` | `x.exp()?`，`x.log()?`，`x.sqrt()?`，`x.sqr()?`，`x.abs()?`，`x.neg()?`，`x.relu()?`，`candle_nn::ops::sigmoid(&x)?` | |
// | `x.max(1, keepdim=True).values`，`x.mean(0, keepdim=True)`，`x.sum()`，`x.mean()` | `x.max_keepdim(1)?`，`x.mean_keepdim(0)?`，`x.sum_all()?`，`x.mean_all()?` | `_keepdim` 保留被求和的那一维（长度 1），便于再广播 · `_keepdim` keeps the reduced dimension (length 1) for broadcasting back |
// | `torch.tensor(v).view(n, l)`，`torch.ones(n, 1)`，`x.device`，`x.dtype` | `Tensor::from_slice(&v, (n, l), &dev)?`（`Tensor::from_vec(v, ..)` 拿走 `Vec` · takes the `Vec`），`Tensor::ones((n, 1), DType::F32, &dev)?`，`x.device()`，`x.dtype()` | |
// | `x.item()`，`x.tolist()` | `x.to_scalar::<f32>()?`，`x.to_vec1::<f32>()?`（二维 2-D：`to_vec2`） | |
// | `scores.masked_fill(~mask, -inf).softmax(1)` | `din::model::masked_softmax(&scores, &mask)?` | din 自己的运算，笔记本 3 从零写它 · din's own operation; notebook 3 writes it from scratch |
// | `x.detach()`，`p.data.copy_(v)` | `x.detach()`，`var.set(&v)?`（`candle_core::Var`；`var.as_tensor()` 是它的张量 · is its tensor） | |
//
// ## 练习 · Exercises
//
// 1. **查表就是矩阵乘法**（代码）：写 `one_hot_lookup(table, ids)`：先把每个 id 变成 one-hot 行向量，组成 `[ids.len(), rows]` 的 one-hot 矩阵，再乘以嵌入表 `[rows, d]`，返回 (one-hot 矩阵, 乘积 `[ids.len(), d]`)。检查单元先检查 one-hot 矩阵本身（直接查表得不到它，所以直接调用 `Tensor::embedding` 过不了检查），再把乘积和 candle 的查表（`Tensor::embedding`）比较。想一想：为什么真正的实现从不这样做？
// 2. **传统模型的池化就是固定权重的注意力**（代码）：写 `my_masked_mean(hist, mask)`：`hist` 是 `[b, l, d]` 的填充历史，`mask` 是 `[b, l]` 的 0/1；返回 `(权重, 平均)`：平均给每个位置的权重 `[b, l]`（一行有 n 个真实位置时，真实位置是 1/n，填充位置是 0；空历史全 0，不要除以 0），以及加权和 `Σ_i w_i·h_i`，即平均 `[b, d]`。检查单元先核对权重（库的 `din::model::masked_mean` 只返回平均，所以直接调用它过不了检查），再把平均和它比较。DIN（笔记本 3）保留这个加权和，只把固定的 1/n 换成学出来的权重。
// 3. **思考**：上面模型的参数里，嵌入表占多少？用 `model.n_params()` 和三张表的行数 × `embed_dim` 算一算。为什么论文要为嵌入表专门设计正则（mini-batch aware regularization，笔记本 5）？
//
// 1. **A lookup is a matrix product** (code): write `one_hot_lookup(table, ids)`: turn each id into a one-hot row, stack them into the `[ids.len(), rows]` one-hot matrix, multiply by the `[rows, d]` table, and return (the one-hot matrix, the product `[ids.len(), d]`). The check looks at the one-hot matrix itself first (a plain gather has none, so calling `Tensor::embedding` does not pass), then compares the product with candle's gather (`Tensor::embedding`). Why does no real implementation do it this way?
// 2. **The base model's pooling is attention with fixed weights** (code): write `my_masked_mean(hist, mask)`: `hist` the padded `[b, l, d]` history, `mask` its `[b, l]` 0/1 mask; return `(weights, mean)`: the weight the mean gives each position, `[b, l]` (1/n at a row's n real positions, 0 at padding; all 0 for an empty history, no division by 0), and the weighted sum `Σ_i w_i·h_i`, which is the mean `[b, d]`. The check looks at the weights first (`din::model::masked_mean` returns only the mean, so calling it does not pass), then compares the mean with it. DIN (notebook 3) keeps this weighted sum and learns the weights instead of the fixed 1/n.
// 3. **Think**: how much of the model above is embeddings? Use `model.n_params()` and the tables' rows × `embed_dim`. Why does the paper design a regulariser for the embeddings alone (mini-batch aware regularisation, notebook 5)?
// %% [exercise]
fn one_hot_lookup(table: &Tensor, ids: &[u32]) -> candle_core::Result<(Tensor, Tensor)> {
    // 提示 hint: `table.dim(0)?` 是行数 rows；先在 `Vec<f32>` 里置 1（第 k 行第 ids[k] 列），`Tensor::from_vec(v, (ids.len(), rows), table.device())?`，再 `matmul`。
    // `table.dim(0)?` is rows; set the ones in a `Vec<f32>` (row k, column ids[k]), `Tensor::from_vec(v, (ids.len(), rows), table.device())?`, then `matmul`.
    // BEGIN SOLUTION
    let rows = table.dim(0)?;
    let mut one_hot = vec![0f32; ids.len() * rows];
    for (k, &i) in ids.iter().enumerate() {
        one_hot[k * rows + i as usize] = 1.0;
    }
    let one_hot = Tensor::from_vec(one_hot, (ids.len(), rows), table.device())?;
    let looked_up = one_hot.matmul(table)?;
    Ok((one_hot, looked_up))
    // END SOLUTION
}
// %% [check]
exercises::check_one_hot_lookup(one_hot_lookup);
// %% [exercise]
fn my_masked_mean(hist: &Tensor, mask: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
    // 提示 hint: `mask.sum_keepdim(1)?` → 每行个数 [b, 1]；`.maximum(1.0)?` 让空行不除以 0；`broadcast_div`；`weights.unsqueeze(2)?` → [b, l, 1]，`broadcast_mul(hist)`，`sum(1)` → [b, d]。
    // `mask.sum_keepdim(1)?` → counts [b, 1]; `.maximum(1.0)?` keeps an empty row from 0/0; `broadcast_div`; `weights.unsqueeze(2)?` → [b, l, 1], `broadcast_mul(hist)`, `sum(1)` → [b, d].
    // BEGIN SOLUTION
    let count = mask.sum_keepdim(1)?; // [b, 1] real positions per row
    let weights = mask.broadcast_div(&count.maximum(1.0)?)?; // 1/n at real positions, 0 at padding
    let mean = weights.unsqueeze(2)?.broadcast_mul(hist)?.sum(1)?; // Σ_i w_i·h_i
    Ok((weights, mean))
    // END SOLUTION
}
// %% [check]
exercises::check_masked_mean(my_masked_mean);
// %% [markdown answer]
// **思考题答案（教师版）· Answers to the think questions (teacher's edition)**
//
// 3. 2.4 之前的单元打印了：453,827 个参数里嵌入表占 137,536（约 30%），其中用户表 2002 × 64 = 128,128 就占了大头。在完整的 Amazon-Electronics 上（论文表 2：192,403 个用户、63,001 个商品、801 个类别），三张表约 (192,403 + 63,001 + 801 + 6) × 64 ≈ 1,640 万个参数，而网络部分不变（约 32 万）：参数几乎全在嵌入表里。每个 batch 只用到其中很少的几行，对整张表做 L2 每一步都要碰全部参数，太贵；而只出现几次的长尾 id 最容易过拟合。所以论文的 mini-batch aware 正则只正则化本 batch 出现的行，并按出现频率缩放（笔记本 5 的 5.4）。
//
// 3. The cell before 2.4 prints it: of 453,827 parameters the embedding tables hold 137,536 (about 30%), most of it the user table, 2002 × 64 = 128,128. On the full Amazon-Electronics (the paper's Table 2: 192,403 users, 63,001 items, 801 categories) the three tables hold about (192,403 + 63,001 + 801 + 6) × 64 ≈ 16.4 million parameters while the network stays the same (about 0.32 million): nearly all parameters are embeddings. A batch touches only a few rows, so an L2 penalty on whole tables touches every parameter at every step, which is too expensive, and the long-tail ids seen a few times over-fit most. Hence the paper's mini-batch aware regularisation: only the rows in the batch, scaled by their frequency (notebook 5, 5.4).
// %% [end]
    Ok(())
}
