"""Check weights moved between `din` and torch-rechub's DIN (the tutorial's code, torch-rechub 0.9.0).

Two directions, both on the rows of a split directory written by `din data split`:

  check STATE.safetensors SPLIT_DIR SCORES.parquet
      STATE is what `din export --to torch-rechub RUN_DIR STATE.safetensors` wrote and SCORES what
      `din eval --predictions SCORES.parquet --run RUN_DIR` wrote. Builds
      torch_rechub.models.ranking.DIN the tutorial's way (features = target_features =
      [target_item, target_cate, user_id], histories padded with id 0), loads STATE strictly
      (load_state_dict(strict=True)), scores the split's rows in eval mode and compares with
      SCORES. Exit 0 when the largest difference is <= --tol (1e-5), 1 otherwise.

  make SPLIT_DIR OUT.safetensors OUT_SCORES.json [--epochs 1] [--pad-len 50]
      Trains the tutorial's DIN with torch-rechub's own CTRTrainer on SPLIT_DIR's train rows
      (--epochs 0: random weights, BatchNorm statistics and Dice alphas), saves its state_dict with
      safetensors and writes its scores of the test rows (histories padded to --pad-len, as the
      tutorial does) as JSON ({"label": [...], "score": [...]}, in the test rows' order), for
      `din import --from torch-rechub OUT.safetensors --data SPLIT_DIR --out RUN_DIR` to be checked
      against.

Both print one JSON line. Exit 3 when torch or torch-rechub is not importable (the Rust test
`crates/din-cli/tests/cli.rs` then skips with the reason). Needs: pip install torch-rechub==0.9.0
safetensors pandas pyarrow. Never run by CI: `DIN_PYTHON=/path/to/venv/bin/python cargo test`.
"""
import argparse
import json
import sys

try:
    import numpy as np
    import pandas as pd
    import torch
    from safetensors.torch import load_file, save_file
    from torch_rechub.basic.features import SequenceFeature, SparseFeature
    from torch_rechub.models.ranking import DIN
    import torch_rechub
except ImportError as e:  # the caller skips
    print(f"cannot import {e.name}: pip install torch-rechub==0.9.0 safetensors pandas pyarrow", file=sys.stderr)
    sys.exit(3)


def tutorial_din(n_items, n_cates, n_users, d, att_dims, head_dims):
    """The tutorial's model (torch-rechub 0.9.0, section 2): one feature list used twice."""
    features = [SparseFeature("target_item", vocab_size=n_items, embed_dim=d),
                SparseFeature("target_cate", vocab_size=n_cates, embed_dim=d),
                SparseFeature("user_id", vocab_size=n_users, embed_dim=d)]
    history = [SequenceFeature("history_item", vocab_size=n_items, embed_dim=d, pooling="concat",
                               shared_with="target_item"),
               SequenceFeature("history_cate", vocab_size=n_cates, embed_dim=d, pooling="concat",
                               shared_with="target_cate")]
    return DIN(features=features, history_features=history, target_features=features,
               mlp_params={"dims": head_dims}, attention_mlp_params={"dims": att_dims})


def dims_of(state, prefix):
    """Hidden widths of a torch-rechub MLP: Linear weights at 0, 4, 8, ... before the [1, .] output."""
    dims, i = [], 0
    while True:
        w = state[f"{prefix}.{i}.weight"]
        if w.shape[0] == 1 and f"{prefix}.{i + 1}.weight" not in state:
            return dims
        dims.append(w.shape[0])
        i += 4


def load_rows(split_dir, name, pad_len=None):
    """A split's rows as torch-rechub's input dict; histories right-padded with 0."""
    import pyarrow.parquet as pq
    t = pq.read_table(f"{split_dir}/{name}.parquet")
    n = t.num_rows
    x = {c: torch.as_tensor(t.column(c).to_numpy().astype(np.int64)) for c in ["user_id", "target_item", "target_cate"]}
    for c in ["history_item", "history_cate"]:
        col = t.column(c).combine_chunks()
        offsets = col.offsets.to_numpy().astype(np.int64)
        values = col.flatten().to_numpy().astype(np.int64)
        lengths = np.diff(offsets)
        longest = int(lengths.max()) if n else 0
        pad = max(longest, 1) if pad_len is None else pad_len
        if longest > pad:
            sys.exit(f"{split_dir}/{name}.parquet has a history of {longest} events, longer than --pad-len {pad}")
        arr = np.zeros((n, pad), np.int64)
        rows = np.repeat(np.arange(n), lengths)
        cols = np.arange(len(values)) - np.repeat(offsets[:-1] - offsets[0], lengths)
        arr[rows, cols] = values
        x[c] = torch.as_tensor(arr)
    return x, t.column("label").to_numpy().astype(np.float32)


def scores(model, x, batch=4096):
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(x["user_id"]), batch):
            out.append(model({k: v[s:s + batch] for k, v in x.items()}).double())
    return torch.cat(out).numpy() if out else np.zeros(0)


def check(a):
    state = load_file(a.state)
    n_items, d = state["embedding.embed_dict.target_item.weight"].shape
    n_cates = state["embedding.embed_dict.target_cate.weight"].shape[0]
    n_users = state["embedding.embed_dict.user_id.weight"].shape[0]
    model = tutorial_din(n_items, n_cates, n_users, d, dims_of(state, "attention_layers.0.attention.mlp"),
                         dims_of(state, "mlp.mlp"))
    model.load_state_dict(state, strict=True)
    ours = pd.read_parquet(a.scores)
    x, y = load_rows(a.split_dir, a.split)
    theirs = scores(model, x)
    rows = ours["row"].to_numpy(np.int64)
    diff = float(np.max(np.abs(theirs[rows] - ours["score"].to_numpy(np.float64)))) if len(rows) else 0.0
    labels_match = bool(np.array_equal(y[rows], ours["label"].to_numpy(np.float32)))
    ok = diff <= a.tol and labels_match and len(rows) == len(y)
    print(json.dumps({"direction": "din -> torch-rechub", "torch_rechub": torch_rechub.__version__,
                      "torch": torch.__version__, "rows": len(rows), "max_abs_diff": diff,
                      "labels_match": labels_match, "tol": a.tol, "ok": ok}))
    sys.exit(0 if ok else 1)


def make(a):
    from torch_rechub.trainers import CTRTrainer
    from torch_rechub.utils.data import DataGenerator
    torch.manual_seed(a.seed)
    vocab = json.load(open(f"{a.split_dir}/vocab.json"))
    rows = lambda k: len(vocab[k]) + 2  # padding + ids + out-of-vocabulary, as vocab.json's tables
    model = tutorial_din(rows("items"), rows("cates"), rows("users"), a.embed_dim, a.dims, a.dims)
    if a.epochs > 0:
        tx, ty = load_rows(a.split_dir, "train", a.pad_len)
        vx, vy = load_rows(a.split_dir, "val", a.pad_len)
        tr, va = DataGenerator({k: v.numpy() for k, v in tx.items()}, ty).generate_dataloader(
            x_val={k: v.numpy() for k, v in vx.items()}, y_val=vy,
            x_test={k: v.numpy() for k, v in vx.items()}, y_test=vy, batch_size=a.batch_size)[:2]
        CTRTrainer(model, optimizer_params={"lr": 1e-3, "weight_decay": 1e-3}, n_epoch=a.epochs,
                   earlystop_patience=a.epochs + 1, device="cpu", model_path=a.model_dir).fit(tr, va)
    else:
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(torch.randn_like(p) * (0.5 if name.endswith("alpha") else 0.1))
            for name, b in model.named_buffers():
                if name.endswith("running_mean"):
                    b.copy_(torch.randn_like(b) * 0.1)
                elif name.endswith("running_var"):
                    b.copy_(torch.rand_like(b) + 0.5)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, a.out)
    x, y = load_rows(a.split_dir, "test", a.pad_len)
    s = scores(model, x)
    with open(a.out_scores, "w") as f:
        json.dump({"label": y.tolist(), "score": s.tolist()}, f)
    pad_norm = float(state["embedding.embed_dict.target_item.weight"][0].abs().max())
    print(json.dumps({"direction": "torch-rechub -> din", "torch_rechub": torch_rechub.__version__,
                      "epochs": a.epochs, "tensors": len(state), "test_rows": len(y),
                      "padding_row_max_abs": pad_norm, "pad_len": a.pad_len}))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("state"); c.add_argument("split_dir"); c.add_argument("scores")
    c.add_argument("--split", default="test"); c.add_argument("--tol", type=float, default=1e-5)
    m = sub.add_parser("make")
    m.add_argument("split_dir"); m.add_argument("out"); m.add_argument("out_scores")
    m.add_argument("--epochs", type=int, default=1); m.add_argument("--pad-len", type=int, default=50)
    m.add_argument("--embed-dim", type=int, default=8); m.add_argument("--dims", type=int, nargs="+", default=[16, 8])
    m.add_argument("--batch-size", type=int, default=256); m.add_argument("--seed", type=int, default=2026)
    m.add_argument("--model-dir", default="/tmp/")
    a = p.parse_args()
    check(a) if a.cmd == "check" else make(a)
