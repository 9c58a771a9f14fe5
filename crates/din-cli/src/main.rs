//! `din`: the command line over the `din` library. Every command accepts `--json`, after which its
//! last stdout line is one JSON object; progress bars go to stderr, and only on a terminal.

mod data_cmd;
mod interop_cmd;
mod model_cmd;
mod ui;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "din",
    version,
    about = "Deep Interest Network (DIN) for CTR ranking: data, training, evaluation, explanations"
)]
struct Cli {
    /// Print one JSON object as the last stdout line (and no progress bars).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Data preparation: synthetic worlds, downloads, raw Amazon conversion, splits.
    Data {
        #[command(subcommand)]
        cmd: data_cmd::DataCmd,
    },
    /// Train DIN or the base model into a run directory (resumable with --resume).
    Train(Box<model_cmd::TrainArgs>),
    /// Evaluate a run on a split (AUC, GAUC, logloss).
    Eval(model_cmd::EvalArgs),
    /// Score candidates for a user and history (raw ids).
    Predict(model_cmd::QueryArgs),
    /// Attention weights of each history item for each candidate: a table and an SVG heatmap.
    Explain(model_cmd::ExplainArgs),
    /// The whole tutorial on the embedded demo world: data, DIN vs base, the 篮球/口红 example, figures.
    Tutorial(model_cmd::TutorialArgs),
    /// Write a run's weights as torch-rechub's DIN state_dict (safetensors).
    Export(interop_cmd::ExportArgs),
    /// Read a torch-rechub DIN state_dict into a run directory.
    Import(interop_cmd::ImportArgs),
}

fn main() {
    // Before any thread exists: candle's element-wise ops on the calling thread (see
    // `din::tune_process` for why and what it measured); an explicit setting or DIN_NO_TUNE=1
    // keeps the user's environment as it is.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() && std::env::var_os("DIN_NO_TUNE").is_none()
    {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    let cli = Cli::parse();
    din::tune_process();
    let ui = ui::Ui::new(cli.json);
    let res: Result<()> = match cli.cmd {
        Cmd::Data { cmd } => data_cmd::run(cmd, &ui),
        Cmd::Train(a) => model_cmd::train(*a, &ui),
        Cmd::Eval(a) => model_cmd::eval(a, &ui),
        Cmd::Predict(a) => model_cmd::predict_cmd(a, &ui),
        Cmd::Explain(a) => model_cmd::explain(a, &ui),
        Cmd::Tutorial(a) => model_cmd::tutorial_cmd(a, &ui),
        Cmd::Export(a) => interop_cmd::export(a, &ui),
        Cmd::Import(a) => interop_cmd::import(a, &ui),
    };
    if let Err(e) = res {
        // One line, naming file/line/field where the library knows them.
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}
