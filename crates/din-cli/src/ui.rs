//! Output helpers: progress bars (stderr, terminal only, never under `--json`) and the final
//! JSON line.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

pub struct Ui {
    pub json: bool,
    show: bool,
}

impl Ui {
    pub fn new(json: bool) -> Self {
        Ui {
            json,
            show: !json && std::io::stderr().is_terminal(),
        }
    }

    fn target(&self) -> ProgressDrawTarget {
        if self.show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A spinner with a message (for steps of unknown length).
    pub fn spinner(&self, msg: impl Into<String>) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(None, self.target());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.into());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    /// A bar over `total` units.
    pub fn bar(&self, total: u64, msg: impl Into<String>) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(Some(total), self.target());
        pb.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(msg.into());
        pb
    }

    /// A bar over bytes (downloads).
    pub fn bytes(&self, total: Option<u64>, msg: impl Into<String>) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(total, self.target());
        pb.set_style(
            ProgressStyle::with_template("{msg} {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.set_message(msg.into());
        pb
    }

    /// Human-readable line (suppressed under `--json`).
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.json {
            println!("{}", text.as_ref());
        }
    }

    /// The final JSON object (only under `--json`).
    pub fn finish<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string(value)?);
        }
        Ok(())
    }
}
