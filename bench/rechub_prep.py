"""Time torch-rechub's create_seq_features (the tutorial's data step) on a CSV. Never run by CI.
usage: python rechub_prep.py FILE.csv   → one JSON line"""
import json, sys, time
import pandas as pd
from torch_rechub.utils.data import create_seq_features
t0 = time.time()
data = pd.read_csv(sys.argv[1])
t_read = time.time() - t0
t1 = time.time()
train, val, test = create_seq_features(data, seq_feature_col=['item_id', 'cate_id'], drop_short=0)
t_split = time.time() - t1
print(json.dumps({"impl": "torch-rechub create_seq_features", "events": len(data), "read_s": round(t_read, 3),
                  "split_s": round(t_split, 3), "seconds": round(time.time() - t0, 3),
                  "train_rows": len(train), "val_rows": len(val), "test_rows": len(test)}))
