//! `din`: the command line over the `din` library. Every command accepts `--json`, after which its
//! last stdout line is one JSON object; progress bars go to stderr, and only on a terminal.

mod data_cmd;
mod ui;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "din", version, about = "Deep Interest Network (DIN) for CTR ranking: data, training, evaluation, explanations")]
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
}

fn main() {
    let cli = Cli::parse();
    let ui = ui::Ui::new(cli.json);
    let res: Result<()> = match cli.cmd {
        Cmd::Data { cmd } => data_cmd::run(cmd, &ui),
    };
    if let Err(e) = res {
        // One line, naming file/line/field where the library knows them.
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}
