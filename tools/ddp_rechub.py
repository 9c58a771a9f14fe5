"""Train torch-rechub's DIN on a `din` split with PyTorch DistributedDataParallel; bring it back with `din import`.

The way out when data outgrow one machine: the Parquet split that `din data split` writes feeds
PyTorch's DDP (torchrun, the gloo backend, CPU), training the seed tutorial's torch-rechub 0.9.0
DIN (features = target_features = [target_item, target_cate, user_id], Linear -> BatchNorm1d ->
torch-rechub's Dice, histories padded to --pad-len with id 0, BCELoss, Adam lr 1e-3 and weight
decay 1e-3 as the tutorial's CTRTrainer). Process 0 writes the model's state_dict with safetensors
under torch-rechub's own names, which `din import --from torch-rechub` reads:

    torchrun --nproc_per_node 2 tools/ddp_rechub.py runs/split runs/ddp.safetensors --threads 1
    din import --from torch-rechub runs/ddp.safetensors --data runs/split --out runs/ddp
    din eval --run runs/ddp          # the same test AUC as this script prints (same rows, same padding)
    din explain --run runs/ddp --user 1

On several machines: torchrun --nnodes N --node_rank R --master_addr HOST ... with the split
directory on a filesystem every node can read. Each process reads train.parquet and keeps every
world-th row of each epoch's shuffled order (torch's DistributedSampler rule: the order is padded
by wrapping around so every process runs the same number of steps), so each process holds the
whole training file in memory; the per-step gradient all-reduce is what DDP distributes. Process 0
scores the test rows after each epoch (roc_auc_score, log_loss) while the others wait.

Prints one JSON line per epoch and a last line with the totals. Needs: pip install
torch-rechub==0.9.0 safetensors pandas pyarrow scikit-learn. Never run by CI.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_rechub_export import load_rows, scores, tutorial_din  # noqa: E402  (exits 3 without torch)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402

try:
    from sklearn.metrics import log_loss, roc_auc_score
except ImportError:
    print("cannot import sklearn: pip install scikit-learn", file=sys.stderr)
    sys.exit(3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("split_dir", help="a directory written by `din data split`")
    p.add_argument("out", help="the state_dict to write (safetensors), for `din import --from torch-rechub`")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=256, help="per process (the global batch is world x this)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-3)
    p.add_argument("--pad-len", type=int, default=50, help="the tutorial's max_len")
    p.add_argument("--embed-dim", type=int, default=64)
    p.add_argument("--dims", type=int, nargs="+", default=[256, 128], help="attention and head MLP widths")
    p.add_argument("--max-train-rows", type=int, default=None, help="train on the first N rows only")
    p.add_argument("--threads", type=int, default=None, help="torch threads per process (default: torch's)")
    p.add_argument("--seed", type=int, default=2026)
    a = p.parse_args()

    if a.threads:
        torch.set_num_threads(a.threads)
    if "RANK" not in os.environ:  # plain `python tools/ddp_rechub.py`: a world of one
        os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT="29531")
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    vocab_path = os.path.join(a.split_dir, "vocab.json")
    if not os.path.exists(vocab_path):
        sys.exit(f"{vocab_path}: no vocabulary (the split directory is made by `din data split --input CSV --out DIR`)")
    vocab = json.load(open(vocab_path))
    rows = lambda k: len(vocab[k]) + 2  # padding + ids + out-of-vocabulary, as vocab.json's tables
    torch.manual_seed(a.seed)  # DDP broadcasts process 0's weights at the start anyway
    model = tutorial_din(rows("items"), rows("cates"), rows("users"), a.embed_dim, a.dims, a.dims)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    loss_fn = torch.nn.BCELoss()

    t_load = time.perf_counter()
    x, y = load_rows(a.split_dir, "train", a.pad_len)
    if a.max_train_rows:
        x = {k: v[:a.max_train_rows] for k, v in x.items()}
        y = y[:a.max_train_rows]
    y = torch.as_tensor(y)
    test = load_rows(a.split_dir, "test", a.pad_len) if rank == 0 else None
    load_s = time.perf_counter() - t_load
    n = len(y)
    per = math.ceil(n / world)
    steps = math.ceil(per / a.batch_size)
    if per % a.batch_size == 1:  # BatchNorm1d cannot train on a batch of one row
        steps -= 1
    train_s = 0.0
    for epoch in range(1, a.epochs + 1):
        g = torch.Generator().manual_seed(a.seed + epoch)
        order = torch.randperm(n, generator=g)
        order = torch.cat([order, order[:per * world - n]])  # DistributedSampler's wrap-around
        mine = order[rank::world]
        model.train()
        dist.barrier()
        t0 = time.perf_counter()
        total, seen = 0.0, 0
        for s in range(steps):
            idx = mine[s * a.batch_size:(s + 1) * a.batch_size]
            pred = ddp({k: v[idx] for k, v in x.items()})
            loss = loss_fn(pred, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        dist.barrier()
        dt = time.perf_counter() - t0
        train_s += dt
        mean_loss = torch.tensor([total, float(seen)], dtype=torch.float64)
        dist.all_reduce(mean_loss)
        if rank == 0:
            t1 = time.perf_counter()
            tx, ty = test
            s_test = scores(model, tx)
            eval_s = time.perf_counter() - t1
            print(json.dumps({
                "epoch": epoch, "world": world, "threads_per_process": torch.get_num_threads(),
                "train_rows": n, "steps": steps, "global_batch": a.batch_size * world,
                "train_seconds": round(dt, 2), "samples_per_s": round(float(mean_loss[1]) / dt, 1),
                "train_loss": round(float(mean_loss[0] / mean_loss[1]), 5),
                "test_rows": len(ty), "test_auc": round(float(roc_auc_score(ty, s_test)), 6),
                "test_logloss": round(float(log_loss(ty, np.clip(s_test, 1e-7, 1 - 1e-7))), 6),
                "eval_seconds": round(eval_s, 2)}), flush=True)
        dist.barrier()
    if rank == 0:
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, a.out)
        print(json.dumps({"out": a.out, "tensors": len(state), "world": world, "epochs": a.epochs,
                          "load_seconds": round(load_s, 2), "train_seconds": round(train_s, 2),
                          "torch": torch.__version__}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
