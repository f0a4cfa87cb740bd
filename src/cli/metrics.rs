//! Writing the Prometheus textfiles whose text `gokeep::metrics` builds:
//! `status --metrics`, `prune` (`--metrics` or the policy's `[metrics]
//! textfile`) and `verify --metrics`. The file is replaced atomically
//! (a temp file in the same directory, renamed over it), since
//! `node_exporter` may read it at any moment; the temp file's name does not
//! end in `.prom`, so the collector never reads it half-written.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::exit::UsageError;

/// The `--metrics FILE` flag `prune` and `verify` share.
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsArgs {
    /// Write Prometheus textfile-collector metrics of this run to FILE (atomically),
    /// e.g. /var/lib/node_exporter/textfile_collector/gokeep-prune.prom. Use one
    /// file per command: a series in two files fails the collector's scrape.
    #[arg(long = "metrics", visible_alias = "metrics-file", value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

impl MetricsArgs {
    /// The file to write, the flag before the policy's; `-` is refused:
    /// stdout carries the command's report.
    pub fn target(&self, from_policy: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
        match self.metrics.as_deref().or(from_policy) {
            Some(p) if p.as_os_str() == "-" => Err(UsageError(
                "--metrics -: this command's report is on stdout; name a file (status --metrics - prints metrics alone)"
                    .into(),
            )
            .into()),
            Some(p) => Ok(Some(p.to_owned())),
            None => Ok(None),
        }
    }
}

/// Writes `text` to `path` atomically, readable by the collector.
pub fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    gokeep::fs::atomic::replace_file(path, text.as_bytes())
        .with_context(|| format!("writing metrics {}", path.display()))
}
