"""torch-rechub's DIN (the tutorial's code) trained on a split directory written by `din data split`
(or bench/subset.py), timing training epochs only (no validation inside the timed loop), then test
AUC with torch-rechub's own evaluate. Configuration as the tutorial: embed 64, attention MLP
[256,128], MLP [256,128], Adam lr 1e-3, weight decay 1e-3. Derived from
../shared/reference/rechub_on_splits.py. Never run by CI.

usage: python rechub_train.py SPLIT_DIR [--batch-size 256] [--epochs 1] [--threads 2]
Prints one JSON line."""
import argparse, json, resource, time
import numpy as np, pandas as pd, torch
from torch_rechub.basic.features import SparseFeature, SequenceFeature
from torch_rechub.utils.data import DataGenerator
from torch_rechub.models.ranking import DIN
from torch_rechub.trainers import CTRTrainer

p = argparse.ArgumentParser()
p.add_argument("split_dir"); p.add_argument("--batch-size", type=int, default=256)
p.add_argument("--epochs", type=int, default=1); p.add_argument("--embed-dim", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--weight-decay", type=float, default=1e-3)
p.add_argument("--max-len", type=int, default=50); p.add_argument("--seed", type=int, default=2026)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
torch.manual_seed(a.seed)
if a.threads:
    torch.set_num_threads(a.threads)

def load(name):
    df = pd.read_parquet(f"{a.split_dir}/{name}.parquet")
    x = {c: df[c].to_numpy(np.int64) for c in ["user_id", "target_item", "target_cate"]}
    for col in ["history_item", "history_cate"]:
        arr = np.zeros((len(df), a.max_len), np.int64)
        for i, seq in enumerate(df[col]):
            seq = list(seq)[-a.max_len:]
            arr[i, :len(seq)] = seq
        x[col] = arr
    return x, df["label"].to_numpy(np.float32)

(tx, ty), (vx, vy), (sx, sy) = load("train"), load("val"), load("test")
vsize = lambda *cols: int(max(d[c].max() for d in (tx, vx, sx) for c in cols)) + 2
n_items, n_cates, n_users = vsize("target_item", "history_item"), vsize("target_cate", "history_cate"), vsize("user_id")
d = a.embed_dim
features = [SparseFeature("target_item", vocab_size=n_items, embed_dim=d),
            SparseFeature("target_cate", vocab_size=n_cates, embed_dim=d),
            SparseFeature("user_id", vocab_size=n_users, embed_dim=d)]
history = [SequenceFeature("history_item", vocab_size=n_items, embed_dim=d, pooling="concat", shared_with="target_item"),
           SequenceFeature("history_cate", vocab_size=n_cates, embed_dim=d, pooling="concat", shared_with="target_cate")]
tr, va, te = DataGenerator(tx, ty).generate_dataloader(x_val=vx, y_val=vy, x_test=sx, y_test=sy, batch_size=a.batch_size)
model = DIN(features=features, history_features=history, target_features=features,
            mlp_params={"dims": [256, 128]}, attention_mlp_params={"dims": [256, 128]})
trainer = CTRTrainer(model, optimizer_params={"lr": a.lr, "weight_decay": a.weight_decay}, n_epoch=a.epochs,
                     earlystop_patience=a.epochs + 1, device="cpu", model_path="/tmp/")
t = time.time()
for epoch in range(a.epochs):
    trainer.train_one_epoch(tr, log_interval=10**9)
train_s = time.time() - t
t = time.time(); auc = trainer.evaluate(trainer.model, te); eval_s = time.time() - t
print(json.dumps({"impl": "torch-rechub", "train_rows": len(ty), "test_rows": len(sy), "epochs": a.epochs,
                  "batch_size": a.batch_size, "train_s": round(train_s, 3), "eval_s": round(eval_s, 3),
                  "train_samples_per_s": round(len(ty) * a.epochs / train_s, 1),
                  "test_auc": round(float(auc), 5), "torch_threads": torch.get_num_threads(),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
