"""Copy a split directory keeping a fixed, seeded subset of rows of each split (for benchmarks whose
torch-rechub side cannot finish a full epoch). vocab.json and split.json are copied unchanged, so
ids keep their meaning. usage: python subset.py SRC DST TRAIN_ROWS VAL_ROWS TEST_ROWS"""
import shutil, sys
import numpy as np, pyarrow.parquet as pq
src, dst = sys.argv[1], sys.argv[2]
n = dict(train=int(sys.argv[3]), val=int(sys.argv[4]), test=int(sys.argv[5]))
import os; os.makedirs(dst, exist_ok=True)
rng = np.random.default_rng(2026)
for name, k in n.items():
    t = pq.read_table(f"{src}/{name}.parquet")
    idx = np.sort(rng.choice(t.num_rows, size=min(k, t.num_rows), replace=False))
    pq.write_table(t.take(idx), f"{dst}/{name}.parquet")
for f in ["vocab.json", "split.json"]:
    shutil.copy(f"{src}/{f}", f"{dst}/{f}")
