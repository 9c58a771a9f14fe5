//! Weights to and from torch-rechub's `DIN` (the tutorial's PyTorch code, torch-rechub 0.9.0).
//!
//! [`to_torch_rechub`] renames a model's tensors to the `state_dict` of
//! `torch_rechub.models.ranking.DIN` built the tutorial's way (`features = target_features =
//! [target_item, target_cate, user_id]`, two history features sharing the target tables), so
//! `model.load_state_dict(safetensors.torch.load_file(path))` loads it strictly. Only models of
//! that layout map (the `torch-rechub` preset of `din train`); any other option is an error that
//! names it. [`from_torch_rechub`] is the reverse: layer sizes are read from the tensors' shapes,
//! BatchNorm running statistics kept, and every missing, unexpected or misshapen key is named.
//!
//! Padding: torch-rechub pads every history to a fixed length with id 0 and weights the padding
//! positions like real ones (its embeddings have no `padding_idx`); `din` masks them. An exported
//! model therefore gets zero padding rows (its scores do not depend on them), and PyTorch computes
//! the same scores. An imported model whose padding rows are not zero keeps them and attends to
//! them ([`ModelConfig::attend_padding`], the padded length given by the caller), unless the caller
//! asks for zero padding rows instead.
//!
//! ```
//! use candle_core::Device;
//! use din::interop::{from_torch_rechub, to_torch_rechub, ImportOptions};
//! use din::model::{Model, DTYPE};
//! use din::preset::Preset;
//! let cfg = din::model::ModelConfig { embed_dim: 4, attention_dims: vec![8], mlp_dims: vec![8],
//!     ..Preset::TorchRechub.model() };
//! let model = Model::new(cfg.clone(), [7, 5, 6], 1, &Device::Cpu, DTYPE)?;
//! let state = to_torch_rechub(&model)?;
//! assert_eq!(state["mlp.mlp.0.weight"].dims(), &[8, 8 * 4]); // the head sees 8 embeddings
//! assert!(state.contains_key("attention_layers.1.attention.mlp.2.alpha")); // torch-rechub's Dice
//! let (back, _) = from_torch_rechub(state, &ImportOptions::default())?;
//! assert_eq!(back, cfg);
//! // the paper's Dice has no torch-rechub counterpart: the error names the option
//! let paper = Model::new(din::model::ModelConfig { activation: din::model::Activation::Dice, ..cfg },
//!     [7, 5, 6], 1, &Device::Cpu, DTYPE)?;
//! assert!(to_torch_rechub(&paper).unwrap_err().to_string().contains("activation = dice"));
//! # Ok::<(), din::Error>(())
//! ```

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};
use crate::model::{
    Activation, AttentionInput, HeadInput, Model, ModelConfig, ModelKind, TableId, Trainable,
    WeightNorm,
};

/// torch-rechub's name of each embedding table (the tutorial's feature names).
const TABLES: [(TableId, &str); 3] = [
    (TableId::Item, "embedding.embed_dict.target_item.weight"),
    (TableId::Cate, "embedding.embed_dict.target_cate.weight"),
    (TableId::User, "embedding.embed_dict.user_id.weight"),
];

/// Our prefix and torch-rechub's for each MLP.
const MLPS: [(&str, &str); 3] = [
    ("attention.item.mlp", "attention_layers.0.attention.mlp"),
    ("attention.cate.mlp", "attention_layers.1.attention.mlp"),
    ("mlp", "mlp.mlp"),
];

/// Why a configuration cannot be written in torch-rechub's layout, naming the option.
pub fn check_exportable(cfg: &ModelConfig) -> Result<()> {
    let bad = |what: String| {
        Err(Error::Config(format!(
            "cannot export to torch-rechub: {what} (train with `din train --preset torch-rechub`)"
        )))
    };
    if cfg.kind != ModelKind::Din {
        return bad("model = base (torch-rechub's DIN has no base model)".into());
    }
    if cfg.head_input != HeadInput::TorchRechub {
        return bad(
            "head_input = din (torch-rechub's head sees the target and user twice; \
                    needs head_input = torch-rechub)"
                .into(),
        );
    }
    if !cfg.batch_norm {
        return bad("batch_norm = false (torch-rechub's MLP always has BatchNorm1d)".into());
    }
    if cfg.activation != Activation::RechubDice {
        return bad(format!(
            "activation = {} (torch-rechub's DIN hard-codes its own Dice in the head: rechub-dice)",
            act_name(cfg.activation)
        ));
    }
    if matches!(
        cfg.attention_activation,
        Activation::Dice | Activation::Prelu
    ) {
        return bad(format!(
            "attention_activation = {} (torch-rechub maps rechub-dice, relu and sigmoid; its \
             PReLU has one slope per layer, the paper's Dice has no counterpart)",
            act_name(cfg.attention_activation)
        ));
    }
    if cfg.attention_input != AttentionInput::Four {
        return bad("attention_input = three (torch-rechub builds the 4d input)".into());
    }
    if cfg.weight_norm != WeightNorm::None {
        return bad(format!(
            "weight_norm = {:?} (torch-rechub's softmax also spans the padding positions; only raw \
             weights compute the same function)",
            cfg.weight_norm
        )
        .to_lowercase());
    }
    Ok(())
}

fn act_name(a: Activation) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}"))
}

/// Our tensor name → torch-rechub's, for every tensor of `cfg` (BatchNorm's
/// `num_batches_tracked` aside).
pub fn name_map(cfg: &ModelConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (t, theirs) in TABLES {
        out.push((t.name().to_string(), theirs.to_string()));
    }
    for (k, (ours, theirs)) in MLPS.iter().enumerate() {
        let (dims, act) = if k < 2 {
            (&cfg.attention_dims, cfg.attention_activation)
        } else {
            (&cfg.mlp_dims, cfg.activation)
        };
        for i in 0..dims.len() {
            let b = 4 * i; // torch-rechub's MLP: [Linear, BatchNorm1d, activation, Dropout] per layer
            for p in ["weight", "bias"] {
                out.push((
                    format!("{ours}.{i}.linear.{p}"),
                    format!("{theirs}.{b}.{p}"),
                ));
            }
            if cfg.batch_norm {
                for p in ["weight", "bias", "running_mean", "running_var"] {
                    out.push((
                        format!("{ours}.{i}.bn.{p}"),
                        format!("{theirs}.{}.{p}", b + 1),
                    ));
                }
            }
            if act == Activation::RechubDice {
                out.push((
                    format!("{ours}.{i}.act.alpha"),
                    format!("{theirs}.{}.alpha", b + 2),
                ));
            }
        }
        let b = 4 * dims.len();
        for p in ["weight", "bias"] {
            out.push((format!("{ours}.out.{p}"), format!("{theirs}.{b}.{p}")));
        }
    }
    out
}

/// The model's weights under torch-rechub's `DIN` state_dict names (f32, CPU), with
/// `num_batches_tracked` (i64, 0) for every BatchNorm so that a strict `load_state_dict` works.
/// Padding rows are written as zeros unless the model attends to padding.
pub fn to_torch_rechub<N: Trainable>(model: &Model<N>) -> Result<BTreeMap<String, Tensor>> {
    let cfg = &model.config;
    check_exportable(cfg)?;
    let mut ours = model.tensors()?;
    let mut out = BTreeMap::new();
    for (from, to) in name_map(cfg) {
        let mut t = ours
            .remove(&from)
            .ok_or_else(|| Error::Config(format!("model has no tensor `{from}`")))?;
        if cfg.attend_padding.is_none()
            && (from == TableId::Item.name() || from == TableId::Cate.name())
        {
            let (rows, d) = t.dims2()?;
            let zero = Tensor::zeros((1, d), DType::F32, &Device::Cpu)?;
            t = Tensor::cat(&[&zero, &t.narrow(0, 1, rows - 1)?], 0)?;
        }
        if let Some(bn) = to.strip_suffix(".running_var") {
            let nbt = Tensor::new(0i64, &Device::Cpu)?;
            out.insert(format!("{bn}.num_batches_tracked"), nbt);
        }
        out.insert(to, t);
    }
    if let Some(left) = ours.keys().next() {
        return Err(Error::Config(format!(
            "tensor `{left}` has no torch-rechub name"
        )));
    }
    Ok(out)
}

/// How to read a torch-rechub state_dict.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Length torch-rechub padded the histories to (the tutorial's `max_len`, 50); used only when
    /// the padding rows are not zero.
    pub pad_len: usize,
    /// Set the padding rows to zero instead of attending to them (changes the scores; needed to
    /// train the imported model further).
    pub zero_padding: bool,
    /// The attention unit's activation when its MLP has no parameters to tell (relu or sigmoid).
    pub attention_activation: Option<Activation>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            pad_len: 50,
            zero_padding: false,
            attention_activation: None,
        }
    }
}

/// The configuration and our tensors of a torch-rechub `DIN` state_dict. Every missing,
/// unexpected or misshapen key is listed in the error.
pub fn from_torch_rechub(
    state: BTreeMap<String, Tensor>,
    opts: &ImportOptions,
) -> Result<(ModelConfig, BTreeMap<String, Tensor>)> {
    let mut cfg = rechub_config(&state, opts)?;
    // expected shapes (ours named beside theirs), then every difference at once
    let mut expected: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    let probe = Model::new(cfg.clone(), [2, 2, 2], 0, &Device::Cpu, DType::F32)?;
    let probe_tensors = probe.tensors()?;
    for (ours, theirs) in name_map(&cfg) {
        let mut s = probe_tensors[&ours].dims().to_vec();
        if TABLES.iter().any(|(t, _)| t.name() == ours) {
            s[0] = rechub_shape(&state, &theirs)
                .and_then(|v| v.first().copied())
                .unwrap_or(0);
        }
        expected.insert(theirs, (ours, s));
    }
    let problems = shape_problems(&state, &expected, cfg.embed_dim);
    if !problems.is_empty() {
        return Err(not_rechub(problems));
    }
    let mut ours = BTreeMap::new();
    let mut padding_nonzero = false;
    for (theirs, (name, _)) in expected {
        let mut t = state[&theirs]
            .to_dtype(DType::F32)?
            .to_device(&Device::Cpu)?;
        if name == TableId::Item.name() || name == TableId::Cate.name() {
            let (rows, d) = t.dims2()?;
            let row0 = t.narrow(0, 0, 1)?.abs()?.max_all()?.to_scalar::<f32>()?;
            padding_nonzero |= row0 != 0.0;
            if opts.zero_padding {
                let zero = Tensor::zeros((1, d), DType::F32, &Device::Cpu)?;
                t = Tensor::cat(&[&zero, &t.narrow(0, 1, rows - 1)?], 0)?;
            }
        }
        ours.insert(name, t);
    }
    if padding_nonzero && !opts.zero_padding {
        cfg.attend_padding = Some(opts.pad_len);
        cfg.validate()?;
    }
    Ok((cfg, ours))
}

/// Shape of `key` in a state_dict, if present.
fn rechub_shape(state: &BTreeMap<String, Tensor>, key: &str) -> Option<Vec<usize>> {
    state.get(key).map(|t| t.dims().to_vec())
}

/// The import error: the state_dict is not of the tutorial's layout, for these reasons.
fn not_rechub(lines: Vec<String>) -> Error {
    Error::Config(format!(
        "not a torch-rechub DIN state_dict of the tutorial's layout: {}",
        lines.join("; ")
    ))
}

/// The model configuration a torch-rechub `DIN` state_dict implies: the embedding width from the
/// item table, the hidden widths of the three MLPs, the attention unit's activation.
fn rechub_config(state: &BTreeMap<String, Tensor>, opts: &ImportOptions) -> Result<ModelConfig> {
    let shape = |k: &str| rechub_shape(state, k);
    let item_key = TABLES[0].1;
    let d = match shape(item_key).as_deref() {
        Some([_, d]) => *d,
        Some(s) => {
            return Err(not_rechub(vec![format!(
                "`{item_key}` has shape {s:?}, expected [rows, embed_dim]"
            )]))
        }
        None => return Err(not_rechub(vec![format!("missing key `{item_key}`")])),
    };
    // hidden widths of each MLP: Linear weights at 0, 4, 8, … until the [1, ·] output layer
    let widths = |prefix: &str| -> Result<Vec<usize>> {
        let mut dims = Vec::new();
        loop {
            let b = 4 * dims.len();
            let k = format!("{prefix}.{b}.weight");
            let problem = match shape(&k).as_deref() {
                Some([1, _]) if shape(&format!("{prefix}.{}.weight", b + 1)).is_none() => {
                    return Ok(dims)
                }
                Some([h, _]) => {
                    dims.push(*h);
                    if dims.len() <= 64 {
                        continue;
                    }
                    format!("`{prefix}` has more than 64 layers")
                }
                Some(s) => format!("`{k}` has shape {s:?}, expected a Linear weight"),
                None => format!("missing key `{k}` (a Linear layer of `{prefix}`)"),
            };
            return Err(not_rechub(vec![problem]));
        }
    };
    let att = widths(MLPS[0].1)?;
    let att_cate = widths(MLPS[1].1)?;
    if att_cate != att {
        return Err(not_rechub(vec![format!(
            "the two attention units differ: {att:?} and {att_cate:?} (din shares one shape)"
        )]));
    }
    let head = widths(MLPS[2].1)?;
    let att_act = if state.contains_key(&format!("{}.2.alpha", MLPS[0].1)) {
        Activation::RechubDice
    } else if state.contains_key(&format!("{}.2.weight", MLPS[0].1)) {
        return Err(Error::Config(
            "cannot import: the attention unit uses PReLU (`attention_layers.0.attention.mlp.2.weight`); \
             din's PReLU has one slope per neuron and is not mapped from torch-rechub"
                .into(),
        ));
    } else {
        opts.attention_activation.ok_or_else(|| {
            Error::Config(
                "the attention MLP has no activation parameters (relu or sigmoid): say which with \
                 --attention-activation relu|sigmoid"
                    .into(),
            )
        })?
    };
    let cfg = ModelConfig {
        kind: ModelKind::Din,
        embed_dim: d,
        attention_dims: att,
        mlp_dims: head,
        activation: Activation::RechubDice,
        attention_activation: att_act,
        attention_input: AttentionInput::Four,
        weight_norm: WeightNorm::None,
        batch_norm: true,
        embed_init_std: 1e-4, // torch-rechub's RandomNormal(0, 0.0001), should it be trained on
        head_input: HeadInput::TorchRechub,
        ..ModelConfig::default()
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Every difference between a state_dict and the keys and shapes `expected`: missing keys,
/// misshapen tensors, unexpected keys (BatchNorm's counters excepted), tables of another width
/// than the item table's `d`.
fn shape_problems(
    state: &BTreeMap<String, Tensor>,
    expected: &BTreeMap<String, (String, Vec<usize>)>,
    d: usize,
) -> Vec<String> {
    let shape = |k: &str| rechub_shape(state, k);
    let mut problems = Vec::new();
    for (theirs, (_, s)) in expected {
        match shape(theirs) {
            None => problems.push(format!("missing key `{theirs}`")),
            Some(got) if &got != s => {
                problems.push(format!("`{theirs}` has shape {got:?}, expected {s:?}"))
            }
            _ => {}
        }
    }
    for k in state.keys() {
        if !expected.contains_key(k) && !k.ends_with(".num_batches_tracked") {
            problems.push(format!("unexpected key `{k}`"));
        }
    }
    for (_, theirs) in TABLES {
        if let Some([_, cols]) = shape(theirs).as_deref() {
            if *cols != d {
                problems.push(format!(
                    "`{theirs}` has {cols} columns, `{}` has {d}",
                    TABLES[0].1
                ));
            }
        }
    }
    problems
}

/// [`to_torch_rechub`] written to `out` as safetensors (atomically); returns the tensor count.
pub fn export_file<N: Trainable>(model: &Model<N>, out: &std::path::Path) -> Result<usize> {
    let state = to_torch_rechub(model)?;
    crate::io::write_safetensors(out, &state, None)?;
    Ok(state.len())
}

/// Import a torch-rechub state_dict (`state`, safetensors) trained on the ids of the split
/// directory `split_dir` into the run directory `out`, which `din eval`, `din predict` and
/// `din explain` (and [`crate::checkpoint::load`]) then read. Returns the model configuration.
pub fn import_run(
    state: &std::path::Path,
    split_dir: &std::path::Path,
    out: &std::path::Path,
    opts: &ImportOptions,
) -> Result<ModelConfig> {
    use crate::checkpoint::{self, RunConfig};
    let tensors = checkpoint::read_weights(state, &Device::Cpu)?;
    let (cfg, ours) = from_torch_rechub(tensors, opts).map_err(|e| {
        Error::checkpoint(
            state,
            format!("{e} (save it with safetensors.torch.save_file(model.state_dict(), PATH))"),
        )
    })?;
    let ds = crate::data::Dataset::load(split_dir)?;
    let want = ds.vocab.table_rows();
    let have = TableId::ALL.map(|t| ours.get(t.name()).map_or(0, |x| x.dims()[0]));
    if have != want {
        return Err(Error::checkpoint(
            state,
            format!(
                "the embedding tables have {have:?} rows (target_item, target_cate, user_id) but \
                 {}/vocab.json needs {want:?}: train the PyTorch model on this split's ids, with \
                 vocab_size = those row counts",
                split_dir.display()
            ),
        ));
    }
    let model = Model::from_tensors(cfg.clone(), ours, &Device::Cpu, DType::F32)?;
    let config = RunConfig {
        format: checkpoint::FORMAT,
        model: cfg.clone(),
        train: crate::train::TrainConfig::default(),
        split: ds.config,
        data: split_dir.display().to_string(),
    };
    checkpoint::save(out, &model, Some(&ds.vocab), &config, None, None)?;
    Ok(cfg)
}
