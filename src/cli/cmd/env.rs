//! `gokeep env`: the effective Go environment with provenance.
//!
//! Text is shell-quoted like `go env` output, with each value's source as a
//! trailing comment, so it can still be sourced. `--json` is
//! `{"schema_version": 1, "vars": {KEY: {"value", "source"}}, "problems": [{"key", "message"}]}`,
//! shaped so `vars.KEY.value` compares directly with `go env -json`'s `KEY`.

use gokeep::goenv::KEYS;

use crate::cli::exit::UsageError;
use crate::cli::render::env::{EnvJson, render, render_values};
use crate::cli::{Outcome, Printer, Settings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print only these variables' values, one per line (like `go env KEY...`).
    #[arg(value_name = "KEY")]
    pub keys: Vec<String>,
}

pub fn run(args: &Args, settings: &Settings, printer: &Printer) -> anyhow::Result<Outcome> {
    if let Some(unknown) = args.keys.iter().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(UsageError(format!("unknown variable {unknown}; gokeep resolves {}", KEYS.join(" "))).into());
    }
    let mut env = settings.env.clone();
    if !args.keys.is_empty() {
        env.vars.retain(|k, _| args.keys.contains(k));
        env.problems.retain(|p| args.keys.contains(&p.key));
    }
    if printer.json {
        printer.json(&EnvJson { schema_version: 1, env: &env })?;
    } else if !printer.quiet {
        let text = if args.keys.is_empty() { render(&env) } else { render_values(&env, &args.keys) };
        printer.out(&text)?;
    }
    Ok(Outcome::Clean)
}
