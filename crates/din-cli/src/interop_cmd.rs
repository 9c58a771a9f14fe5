//! `din export` and `din import`: weights to and from torch-rechub (see `din::interop`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use din::checkpoint;
use din::interop::{self, ImportOptions};
use din::model::{self, Activation};
use serde_json::json;

use crate::ui::Ui;

#[derive(Args)]
pub struct ExportArgs {
    /// Target format: torch-rechub (torch_rechub.models.ranking.DIN's state_dict).
    #[arg(long = "to", value_name = "FORMAT")]
    to: String,
    /// A run directory written by `din train --preset torch-rechub`.
    run: PathBuf,
    /// Where to write the state_dict (safetensors; load with safetensors.torch.load_file).
    out: PathBuf,
}

pub fn export(a: ExportArgs, ui: &Ui) -> Result<()> {
    if a.to != "torch-rechub" {
        bail!("unknown export format `{}` (torch-rechub)", a.to);
    }
    let run = checkpoint::load(&a.run, &model::device("cpu")?)?;
    let n = interop::export_file(&run.model, &a.out).with_context(|| {
        format!(
            "exporting the run {} to {}",
            a.run.display(),
            a.out.display()
        )
    })?;
    let rows = run.model.embeddings().tables().each_ref().map(|t| t.rows);
    let c = run.model.config();
    ui.say(format!(
        "{n} tensors written to {} (torch-rechub DIN: embed_dim {}, attention_mlp_params dims {:?}, \
         mlp_params dims {:?}; vocab_size of target_item, target_cate, user_id: {}, {}, {}; padding rows zero)",
        a.out.display(), c.embed_dim, c.attention_dims, c.mlp_dims, rows[0], rows[1], rows[2]
    ));
    ui.finish(&json!({"out": a.out, "tensors": n, "vocab_sizes": rows, "model": c}))
}

#[derive(Args)]
pub struct ImportArgs {
    /// Source format: torch-rechub.
    #[arg(long = "from", value_name = "FORMAT")]
    from: String,
    /// The state_dict, saved with safetensors.torch.save_file(model.state_dict(), PATH).
    state: PathBuf,
    /// The split directory whose ids the PyTorch model was trained on (its vocab.json).
    #[arg(long)]
    data: PathBuf,
    /// The run directory to write.
    #[arg(long)]
    out: PathBuf,
    /// Length torch-rechub padded the histories to (used when the padding rows are not zero).
    #[arg(long, default_value_t = 50)]
    pad_len: usize,
    /// Zero the padding rows instead of attending to them (changes the scores; lets `din train
    /// --resume` train the model further).
    #[arg(long)]
    zero_padding: bool,
    /// The attention activation when the state_dict cannot tell (relu or sigmoid).
    #[arg(long)]
    attention_activation: Option<Activation>,
}

pub fn import(a: ImportArgs, ui: &Ui) -> Result<()> {
    if a.from != "torch-rechub" {
        bail!("unknown import format `{}` (torch-rechub)", a.from);
    }
    let opts = ImportOptions {
        pad_len: a.pad_len,
        zero_padding: a.zero_padding,
        attention_activation: a.attention_activation,
    };
    let cfg = interop::import_run(&a.state, &a.data, &a.out, &opts)
        .with_context(|| format!("din import --from torch-rechub {}", a.state.display()))?;
    let padding = match cfg.attend_padding {
        Some(len) => format!(
            "padding rows are not zero: din weights {len} padded positions as torch-rechub does \
             (--zero-padding drops them)"
        ),
        None => "padding rows are zero: padding is masked".to_string(),
    };
    ui.say(format!(
        "imported {} into {} (embed_dim {}, attention {:?}, head {:?}; {padding}); \
         `din eval --run {}` and `din explain --run {}` read it",
        a.state.display(),
        a.out.display(),
        cfg.embed_dim,
        cfg.attention_dims,
        cfg.mlp_dims,
        a.out.display(),
        a.out.display()
    ));
    ui.finish(&json!({"out": a.out, "model": cfg}))
}
