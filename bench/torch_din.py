"""A DIN (Deep Interest Network) written the way a careful PyTorch engineer would write it, trained on
a split directory written by `din data split`, as a peer to the Rust library's default DIN. Never run
by CI.

Design (matching the Rust library's default DIN):
- Embedding tables item, cate, user, N(0, 0.05) init, sparse=True; the history shares the item/cate
  tables with the target. Each table is looked up once per batch (targets and real history ids
  together). Only the most recent --max-len history items are kept.
- Each split is converted once into numpy arrays (flattened history values + per-row start/length);
  a batch is built by vectorised numpy indexing, padded only to that batch's longest history.
- Activation unit (one for item history, one for cate history, separate weights) runs ONLY on the
  real history positions: index tensors (sample b, position) of the batch's real positions gather
  t (target emb of b) and h (history emb); input [t, h, t-h, t*h] (4d) -> Linear 256 -> Dice ->
  Linear 128 -> Dice -> Linear 1 = raw weight w (no softmax, no sigmoid: the paper's choice);
  V[b] = sum over b's positions of w*h via index_add_ (an empty history gives 0).
- Dice: p = sigmoid(BatchNorm1d(x, affine=False, eps=1e-8)); out = p*x + (1-p)*alpha*x, alpha per
  neuron initialised to 0. In the attention units the BatchNorm therefore sees only real positions;
  in eval it uses running statistics. (A training batch of a single row falls back to the running
  statistics, which BatchNorm cannot otherwise normalise.)
- Head: [V_item, V_cate, t_item, t_cate, user] (5d) -> 256 -> Dice -> 128 -> Dice -> 1 = logit;
  loss BCEWithLogits (mean). torch default Linear init.
- SparseAdam(lr) for the three tables, AdamW(lr, weight_decay) for everything else. Eager mode,
  torch.set_num_threads(threads), torch.manual_seed(seed); training rows reshuffled every epoch
  with a seeded numpy generator.
Timing: per epoch, training only (batch building, forward, backward, optimiser steps); then test
AUC / logloss in eval mode under no_grad (not timed). Candidate scoring (--score-candidates): one
user, a history of --score-history real (item, cate) pairs from the training data, n candidates
per request, the history repeated per candidate (n rows, all positions real), eval mode under
inference_mode; the timed request includes building its tensors. first_scores are sigmoid(logit).
--self-check trains a few steps, then in eval mode asserts that the real-positions activation unit
pools the same vectors as a straightforward padded + masked implementation (to 1e-5), that the
vectorised batch builder equals a per-row loop, and that a row's logit does not depend on the batch
(padding length) it is scored in.

usage: python torch_din.py SPLIT_DIR [--batch-size 256] [--epochs 3] [--threads 2] [--embed-dim 64]
       [--lr 1e-3] [--weight-decay 1e-3] [--max-len 50] [--seed 2026] [--score-candidates 64,1024]
       [--score-history 50] [--self-check]
Prints one JSON line on stdout (progress on stderr)."""
import argparse, json, resource, sys, time
import numpy as np, pyarrow.parquet as pq, torch
import torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("split_dir"); p.add_argument("--batch-size", type=int, default=256)
p.add_argument("--epochs", type=int, default=3); p.add_argument("--threads", type=int, default=2)
p.add_argument("--embed-dim", type=int, default=64); p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--weight-decay", type=float, default=1e-3); p.add_argument("--max-len", type=int, default=50)
p.add_argument("--seed", type=int, default=2026); p.add_argument("--score-candidates", default="64,1024")
p.add_argument("--score-history", type=int, default=50); p.add_argument("--self-check", action="store_true")
a = p.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)
log = lambda *m: print(*m, file=sys.stderr, flush=True)


def load(name):
    """One split -> numpy arrays; history as flat values + per-row (start, len) of the kept tail."""
    t = pq.read_table(f"{a.split_dir}/{name}.parquet")
    d = {c: t[c].to_numpy().astype(np.int64) for c in ("user_id", "target_item", "target_cate")}
    d["label"] = t["label"].to_numpy().astype(np.float32)
    offs = {}
    for c in ("history_item", "history_cate"):
        arr = t[c].combine_chunks()  # offsets are absolute into .values
        offs[c] = arr.offsets.to_numpy().astype(np.int64)
        d[c] = arr.values.to_numpy().astype(np.int64)
    o = offs["history_item"]
    assert np.array_equal(o, offs["history_cate"]), "item/cate histories must share offsets"
    d["len"] = np.minimum(np.diff(o), a.max_len)  # keep the most recent max_len
    d["start"] = o[1:] - d["len"]
    return d


def make_batch(d, rows):
    """Vectorised: padded [B, L] id tensors (L = this batch's longest history) + real-position index."""
    lens = d["len"][rows]; B = len(rows); L = int(lens.max()) if B else 0
    b = np.repeat(np.arange(B), lens)
    pos = np.arange(len(b)) - np.repeat(np.cumsum(lens) - lens, lens)
    src = np.repeat(d["start"][rows], lens) + pos
    x = {"b": b, "pos": pos, "user": d["user_id"][rows], "item": d["target_item"][rows],
         "cate": d["target_cate"][rows], "label": d["label"][rows]}
    for c in ("history_item", "history_cate"):
        h = np.zeros((B, L), np.int64); h[b, pos] = d[c][src]; x[c] = h
    return {k: torch.from_numpy(v) for k, v in x.items()}


class Dice(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.bn = nn.BatchNorm1d(n, affine=False, eps=1e-8); self.alpha = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        if self.training and x.shape[0] < 2:
            z = F.batch_norm(x, self.bn.running_mean, self.bn.running_var, training=False, eps=self.bn.eps)
        else:
            z = self.bn(x)
        p = torch.sigmoid(z)
        return p * x + (1 - p) * self.alpha * x


def mlp(i, hidden=(256, 128)):
    layers = []
    for h in hidden:
        layers += [nn.Linear(i, h), Dice(h)]; i = h
    return nn.Sequential(*layers, nn.Linear(i, 1))


class ActivationUnit(nn.Module):
    def __init__(self, d):
        super().__init__(); self.mlp = mlp(4 * d)

    def forward(self, t, h, b):
        """t [B, d] targets, h [N, d] real history positions, b [N] their sample index -> V [B, d]."""
        if h.shape[0] == 0:
            return t.new_zeros(t.shape)
        tb = t[b]
        w = self.mlp(torch.cat([tb, h, tb - h, tb * h], 1))  # [N, 1], raw weight
        return t.new_zeros(t.shape).index_add_(0, b, w * h)


class DIN(nn.Module):
    def __init__(self, n_items, n_cates, n_users, d):
        super().__init__()
        self.item, self.cate, self.user = (nn.Embedding(n, d, sparse=True) for n in (n_items, n_cates, n_users))
        for e in (self.item, self.cate, self.user):
            nn.init.normal_(e.weight, 0.0, 0.05)
        self.att_item, self.att_cate, self.head = ActivationUnit(d), ActivationUnit(d), mlp(5 * d)

    def embed(self, x):
        """One lookup per table: targets and the batch's real history ids together."""
        B, b, pos = x["item"].shape[0], x["b"], x["pos"]
        ei = self.item(torch.cat([x["item"], x["history_item"][b, pos]]))
        ec = self.cate(torch.cat([x["cate"], x["history_cate"][b, pos]]))
        return ei[:B], ei[B:], ec[:B], ec[B:]

    def forward(self, x):
        ti, hi, tc, hc = self.embed(x)
        vi, vc = self.att_item(ti, hi, x["b"]), self.att_cate(tc, hc, x["b"])
        return self.head(torch.cat([vi, vc, ti, tc, self.user(x["user"])], 1)).squeeze(1)


def padded_pool(unit, t, H, mask):
    """Reference: the same unit on a padded [B, L, d] history with a mask (valid in eval mode only)."""
    B, L, d = H.shape
    T = t[:, None, :].expand(B, L, d)
    w = unit.mlp(torch.cat([T, H, T - H, T * H], -1).reshape(B * L, 4 * d)).reshape(B, L, 1)
    return (w * H * mask[..., None]).sum(1)


def auc(y, s):
    try:
        from sklearn.metrics import roc_auc_score
        return float(roc_auc_score(y, s))
    except ImportError:  # rank AUC with average ranks for ties
        _, inv, cnt = np.unique(s, return_inverse=True, return_counts=True)
        r = (np.cumsum(cnt) - (cnt - 1) / 2)[inv]; npos = y.sum(); nneg = len(y) - npos
        return float((r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def evaluate(model, d, bs=4096):
    model.eval(); out = []
    with torch.no_grad():
        for i in range(0, len(d["label"]), bs):
            out.append(model(make_batch(d, np.arange(i, min(i + bs, len(d["label"]))))))
    model.train()
    z = torch.cat(out); y = torch.from_numpy(d["label"])
    return auc(d["label"], z.numpy()), float(F.binary_cross_entropy_with_logits(z, y))


def train_steps(model, opts, d, order):
    cut = list(range(0, len(order), a.batch_size))
    if len(cut) > 1 and len(order) - cut[-1] < 2:
        cut.pop()  # never leave a one-row last batch
    for s, e in zip(cut, cut[1:] + [len(order)]):
        x = make_batch(d, order[s:e])
        loss = F.binary_cross_entropy_with_logits(model(x), x["label"])
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss.backward()
        for o in opts:
            o.step()


splits = {n: load(n) for n in (["train"] if a.self_check else ["train", "val", "test"])}
vsize = lambda *cols: int(max(s[c].max(initial=0) for s in splits.values() for c in cols)) + 2
model = DIN(vsize("target_item", "history_item"), vsize("target_cate", "history_cate"), vsize("user_id"), a.embed_dim)
sparse = [model.item.weight, model.cate.weight, model.user.weight]
dense = [q for q in model.parameters() if all(q is not s for s in sparse)]
opts = [torch.optim.SparseAdam(sparse, lr=a.lr), torch.optim.AdamW(dense, lr=a.lr, weight_decay=a.weight_decay)]
tr = splits["train"]; n_train = len(tr["label"]); rng = np.random.default_rng(a.seed)

if a.self_check:
    train_steps(model, opts, tr, rng.permutation(n_train)[: 30 * a.batch_size])
    model.eval()
    rows = rng.choice(n_train, 64, replace=False)
    tr = {**tr, "len": tr["len"].copy()}; tr["len"][rows[-4:]] = 0  # always include empty histories
    empty = rows[-4:]; x = make_batch(tr, rows)
    for i, r in enumerate(rows):  # batch builder vs a per-row loop
        s, l = tr["start"][r], tr["len"][r]
        ref = np.zeros(x["history_item"].shape[1], np.int64); ref[:l] = tr["history_item"][s:s + l]
        assert np.array_equal(x["history_item"][i].numpy(), ref)
    mask = (torch.arange(x["history_item"].shape[1])[None, :] < torch.from_numpy(tr["len"][rows])[:, None]).float()
    diffs = {}
    with torch.no_grad():
        ti, hi, tc, hc = model.embed(x)
        for name, unit, t, h, tab, col in (("item", model.att_item, ti, hi, model.item, "history_item"),
                                           ("cate", model.att_cate, tc, hc, model.cate, "history_cate")):
            v = unit(t, h, x["b"]); ref = padded_pool(unit, t, tab(x[col]), mask)
            diffs[name] = float((v - ref).abs().max())
            assert diffs[name] < 1e-5, (name, diffs[name])
            assert float(v[-len(empty):].abs().max()) == 0.0  # empty history pools to 0
        z_all = model(x); z_few = model(make_batch(tr, rows[:5]))
        diffs["batch_invariance"] = float((z_all[:5] - z_few).abs().max())
        assert diffs["batch_invariance"] < 1e-5, diffs
    print(json.dumps({"self_check": "pass", "max_abs_diff": diffs, "rows": len(rows), "empty_histories": len(empty)}))
    sys.exit(0)

epochs, cum = [], 0.0
for ep in range(1, a.epochs + 1):
    order = rng.permutation(n_train)
    t0 = time.perf_counter(); train_steps(model, opts, tr, order); dt = time.perf_counter() - t0; cum += dt
    test_auc, test_ll = evaluate(model, splits["test"])
    epochs.append({"epoch": ep, "train_s": round(dt, 3), "cum_train_s": round(cum, 3),
                   "train_samples_per_s": round(n_train / dt, 1), "test_auc": round(test_auc, 5),
                   "test_logloss": round(test_ll, 5)})
    log(json.dumps(epochs[-1]))

scoring = []
model.eval()
k = a.score_history; r = int(np.argmax(tr["len"])); own = min(int(tr["len"][r]), k)
idx = np.r_[np.arange(k - own), np.arange(tr["start"][r] + tr["len"][r] - own, tr["start"][r] + tr["len"][r])]
h_item, h_cate = torch.from_numpy(tr["history_item"][idx]), torch.from_numpy(tr["history_cate"][idx])
user = torch.from_numpy(tr["user_id"][r:r + 1])
for n in [int(c) for c in a.score_candidates.split(",") if c.strip()]:
    pick = rng.choice(n_train, n)
    c_item, c_cate = torch.from_numpy(tr["target_item"][pick]), torch.from_numpy(tr["target_cate"][pick])

    def request():
        x = {"user": user.expand(n), "item": c_item, "cate": c_cate,
             "history_item": h_item.expand(n, k), "history_cate": h_cate.expand(n, k),
             "b": torch.arange(n).repeat_interleave(k), "pos": torch.arange(k).repeat(n)}
        return torch.sigmoid(model(x))

    with torch.inference_mode():
        first = request()[:3].tolist()  # warm-up
        reqs, t0 = 0, time.perf_counter()
        while (el := time.perf_counter() - t0) < 1.0:
            request(); reqs += 1
    scoring.append({"candidates": n, "candidates_per_s": round(reqs * n / el, 1),
                    "ms_per_request": round(1000 * el / reqs, 3), "requests": reqs,
                    "first_scores": [float(f"{s:.6g}") for s in first]})

print(json.dumps({"impl": "careful-pytorch-din", "train_rows": n_train, "test_rows": len(splits["test"]["label"]),
                  "batch_size": a.batch_size, "embed_dim": a.embed_dim, "max_len": a.max_len, "epochs": epochs,
                  "train_samples_per_s": round(n_train * a.epochs / cum, 1) if cum else None,
                  "torch_threads": torch.get_num_threads(),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "scoring": scoring}))
