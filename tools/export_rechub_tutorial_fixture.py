"""Export a parity fixture of the tutorial's exact torch-rechub DIN (torch-rechub 0.9.0).

The model is built as the seed tutorial builds it: `features = target_features = [target_item,
target_cate, user_id]` (so the head sees the targets and the user twice, 8 embeddings), torch-rechub's
own Dice in the attention unit and the head, BatchNorm1d in every MLP layer, histories of different
lengths right-padded with id 0 and the padding rows of the tables NOT zero (torch-rechub weights the
padding positions like real ones). Every weight, BatchNorm statistic and Dice alpha gets a seeded
non-trivial value; the model runs in eval mode.

The fixture holds the state_dict under torch-rechub's own names (what `din import --from
torch-rechub` reads), the padded inputs, the CTRs, and the CTRs again with the padding rows set to
zero (what `--zero-padding` must reproduce). `crates/din/tests/interop.rs` checks both within 1e-5.

usage: python tools/export_rechub_tutorial_fixture.py crates/din/tests/fixtures/rechub_din_tutorial.json
(needs: pip install torch-rechub==0.9.0; never run by CI)
"""
import json, sys
import torch
import torch_rechub
from torch_rechub.basic.features import SparseFeature, SequenceFeature
from torch_rechub.models.ranking import DIN

torch.manual_seed(11)
D, ATT, HEAD = 8, [16, 8], [12, 6]
N_ITEMS, N_CATES, N_USERS = 12, 7, 9  # table rows (padding + ids + OOV)
L = 6  # padded length
LENGTHS = [0, 1, 3, 6, 2, 5, 6, 4]  # real history lengths, one row each (0: only padding)

features = [SparseFeature("target_item", vocab_size=N_ITEMS, embed_dim=D),
            SparseFeature("target_cate", vocab_size=N_CATES, embed_dim=D),
            SparseFeature("user_id", vocab_size=N_USERS, embed_dim=D)]
history = [SequenceFeature("history_item", vocab_size=N_ITEMS, embed_dim=D, pooling="concat", shared_with="target_item"),
           SequenceFeature("history_cate", vocab_size=N_CATES, embed_dim=D, pooling="concat", shared_with="target_cate")]
model = DIN(features=features, history_features=history, target_features=features,
            mlp_params={"dims": HEAD}, attention_mlp_params={"dims": ATT})
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.randn_like(p) * (0.5 if name.endswith("alpha") else 0.4))
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(torch.randn_like(buf) * 0.2)
        elif name.endswith("running_var"):
            buf.copy_(torch.rand_like(buf) + 0.5)
model.eval()

B = len(LENGTHS)
hist_item = torch.zeros(B, L, dtype=torch.long)
hist_cate = torch.zeros(B, L, dtype=torch.long)
for r, n in enumerate(LENGTHS):
    hist_item[r, :n] = torch.randint(1, N_ITEMS - 1, (n,))
    hist_cate[r, :n] = torch.randint(1, N_CATES - 1, (n,))
x = {"user_id": torch.randint(1, N_USERS - 1, (B,)), "target_item": torch.randint(1, N_ITEMS - 1, (B,)),
     "target_cate": torch.randint(1, N_CATES - 1, (B,)), "history_item": hist_item, "history_cate": hist_cate}
state = {k: v.clone() for k, v in model.state_dict().items()}
with torch.no_grad():
    ctr = model(x)
    for k in ["embedding.embed_dict.target_item.weight", "embedding.embed_dict.target_cate.weight"]:
        model.state_dict()[k][0].zero_()
    ctr_zero = model(x)

fixture = {
    "about": "torch-rechub's DIN of the tutorial's layout (eval mode) for crates/din/tests/interop.rs; "
             "made by tools/export_rechub_tutorial_fixture.py",
    "torch_version": torch.__version__, "torch_rechub_version": torch_rechub.__version__,
    "pad_len": L,
    "state_dict": {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch."),
                       "data": v.flatten().tolist()} for k, v in state.items()},
    "inputs": {k: v.tolist() for k, v in x.items()},
    "ctr": ctr.tolist(),
    "ctr_zero_padding": ctr_zero.tolist(),
}
with open(sys.argv[1], "w") as f:
    json.dump(fixture, f)
print(f"wrote {sys.argv[1]}: {len(state)} tensors; ctr = {[round(c, 5) for c in ctr.tolist()]}; "
      f"with zero padding rows = {[round(c, 5) for c in ctr_zero.tolist()]}")
