"""Export a parity fixture from torch-rechub's DIN (the tutorial's code).

Builds torch-rechub's DIN with small dimensions, gives every weight (embeddings, Linear, BatchNorm
affine and running statistics, PReLU slopes) seeded non-trivial values, runs it in eval mode on a
batch of full-length histories, and writes weights, inputs and outputs as JSON. The Rust test
`crates/din/tests/parity_rechub.rs` loads the same weights into `din` and must reproduce the CTRs
within 1e-5.

The configuration is one where the two definitions agree:
* full-length histories (torch-rechub does not mask padding; we do);
* PReLU activations in the attention unit and the head (torch-rechub's DIN hard-codes its own Dice in
  the head, which normalises across a row's neurons rather than the paper's per-neuron batch
  statistics, so the head MLP is rebuilt with torch-rechub's own `MLP(..., activation="prelu")`);
* BatchNorm in every MLP layer (torch-rechub's `MLP` always has it): `batch_norm: true` on our side;
* eval mode (running statistics).
Features: user_id as the only "feature", target_item/target_cate as targets, so the head input is
[interest_item, interest_cate, target_item, target_cate, user], as in `din`.

usage: python tools/export_rechub_fixture.py crates/din/tests/fixtures/rechub_din.json
(needs: pip install torch-rechub; never run by CI)
"""
import json, sys
import torch
from torch_rechub.basic.features import SparseFeature, SequenceFeature
from torch_rechub.basic.layers import MLP
from torch_rechub.models.ranking import DIN

torch.manual_seed(7)
D, ATT, HEAD = 8, [16, 8], [16, 8]
N_ITEMS, N_CATES, N_USERS = 12, 7, 9  # table rows (ids + padding + OOV)
B, L = 6, 5

features = [SparseFeature("user_id", vocab_size=N_USERS, embed_dim=D)]
target = [SparseFeature("target_item", vocab_size=N_ITEMS, embed_dim=D),
          SparseFeature("target_cate", vocab_size=N_CATES, embed_dim=D)]
history = [SequenceFeature("history_item", vocab_size=N_ITEMS, embed_dim=D, pooling="concat", shared_with="target_item"),
           SequenceFeature("history_cate", vocab_size=N_CATES, embed_dim=D, pooling="concat", shared_with="target_cate")]
model = DIN(features=features, history_features=history, target_features=target,
            mlp_params={"dims": HEAD}, attention_mlp_params={"dims": ATT, "activation": "prelu"})
model.mlp = MLP(model.all_dims, dims=HEAD, activation="prelu")

with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith(".weight") and p.dim() == 1 and p.numel() == 1:  # PReLU slope
            p.copy_(torch.rand(1) * 0.5)
        else:
            p.copy_(torch.randn_like(p) * 0.5)
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(torch.randn_like(buf) * 0.2)
        elif name.endswith("running_var"):
            buf.copy_(torch.rand_like(buf) + 0.5)
model.eval()

x = {
    "user_id": torch.randint(1, N_USERS - 1, (B,)),
    "target_item": torch.randint(1, N_ITEMS - 1, (B,)),
    "target_cate": torch.randint(1, N_CATES - 1, (B,)),
    "history_item": torch.randint(1, N_ITEMS - 1, (B, L)),
    "history_cate": torch.randint(1, N_CATES - 1, (B, L)),
}
with torch.no_grad():
    ctr = model(x)

def mlp_names(prefix_t, prefix_r, dims):
    # torch-rechub MLP.mlp = [Linear, BN, act, Dropout] * len(dims) + [Linear]
    out = {}
    for i in range(len(dims)):
        base = 4 * i
        out[f"{prefix_t}.mlp.{base}.weight"] = f"{prefix_r}.{i}.linear.weight"
        out[f"{prefix_t}.mlp.{base}.bias"] = f"{prefix_r}.{i}.linear.bias"
        for k in ["weight", "bias", "running_mean", "running_var"]:
            out[f"{prefix_t}.mlp.{base + 1}.{k}"] = f"{prefix_r}.{i}.bn.{k}"
        out[f"{prefix_t}.mlp.{base + 2}.weight"] = f"{prefix_r}.{i}.act.alpha"
    out[f"{prefix_t}.mlp.{4 * len(dims)}.weight"] = f"{prefix_r}.out.weight"
    out[f"{prefix_t}.mlp.{4 * len(dims)}.bias"] = f"{prefix_r}.out.bias"
    return out

names = {
    "embedding.embed_dict.target_item.weight": "embedding.item",
    "embedding.embed_dict.target_cate.weight": "embedding.cate",
    "embedding.embed_dict.user_id.weight": "embedding.user",
}
names.update(mlp_names("attention_layers.0.attention", "attention.item.mlp", ATT))
names.update(mlp_names("attention_layers.1.attention", "attention.cate.mlp", ATT))
names.update(mlp_names("mlp", "mlp", HEAD))
state = model.state_dict()
tensors = {}
for t_name, r_name in names.items():
    v = state[t_name].float()
    if r_name.endswith("act.alpha"):  # one shared PReLU slope → our per-neuron slopes
        width = state[t_name.rsplit(".", 2)[0] + f".{int(t_name.rsplit('.', 2)[1]) - 2}.weight"].shape[0]
        v = v.expand(width).clone()
    tensors[r_name] = {"shape": list(v.shape), "data": v.flatten().tolist()}
unused = [k for k in state if k not in names and not k.endswith("num_batches_tracked")]
assert not unused, unused

fixture = {
    "about": "torch-rechub DIN (eval mode) outputs for crates/din/tests/parity_rechub.rs; made by tools/export_rechub_fixture.py",
    "torch_version": torch.__version__,
    "config": {"embed_dim": D, "attention_dims": ATT, "mlp_dims": HEAD, "activation": "prelu",
               "attention_activation": "prelu", "batch_norm": True},
    "tensors": tensors,
    "inputs": {k: v.tolist() for k, v in x.items()},
    "ctr": ctr.tolist(),
}
with open(sys.argv[1], "w") as f:
    json.dump(fixture, f)
print(f"wrote {sys.argv[1]}: ctr = {[round(c, 5) for c in ctr.tolist()]}")
