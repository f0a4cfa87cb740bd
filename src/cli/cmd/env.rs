//! `gokeep env`: the effective Go environment with provenance.
//!
//! Text is shell-quoted like `go env` output, with each value's source as a
//! trailing comment, so it can still be sourced. `--json` is
//! `{"schema_version": 1, "vars": {KEY: {"value", "source"}}, "problems": [{"key", "message"}]}`,
//! shaped so `vars.KEY.value` compares directly with `go env -json`'s `KEY`.

use std::fmt::Write as _;

use gokeep::goenv::{GoEnv, KEYS};

use crate::cli::exit::UsageError;
use crate::cli::{Outcome, Printer, Settings};

/// The `--json` document. Bump `schema_version` on any incompatible change.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(super) struct EnvJson<'a> {
    schema_version: u32,
    #[serde(flatten)]
    env: &'a GoEnv,
}

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

/// `KEY='value'  # source` lines, then the problems as comments.
fn render(env: &GoEnv) -> String {
    let width = env.vars.iter().map(|(k, v)| k.len() + quote(&v.value).len() + 1).max().unwrap_or(0);
    let mut s = String::new();
    for (k, v) in &env.vars {
        let assignment = format!("{k}={}", quote(&v.value));
        let _ = writeln!(s, "{assignment:<width$}  # {}", v.source);
    }
    for p in &env.problems {
        let _ = writeln!(s, "# problem: {}: {}", p.key, p.message);
    }
    s
}

/// Bare values in the order asked, as `go env KEY...` prints them.
fn render_values(env: &GoEnv, keys: &[String]) -> String {
    keys.iter().fold(String::new(), |mut s, k| {
        let _ = writeln!(s, "{}", env.get(k).unwrap_or(""));
        s
    })
}

/// Single-quotes a value for POSIX shells, as `go env` does.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gokeep::goenv::{Problem, Source, Var};

    #[test]
    fn text_lines_carry_quoted_values_sources_and_problems() {
        let mut env = GoEnv::default();
        env.vars.insert("GOFLAGS".into(), Var { value: "it's".into(), source: Source::Env });
        env.vars.insert("GOCACHE".into(), Var { value: "off".into(), source: Source::Default });
        env.problems.push(Problem { key: "GOCACHE".into(), message: "off".into() });
        assert_eq!(render(&env), "GOCACHE='off'      # default\nGOFLAGS='it'\\''s'  # env\n# problem: GOCACHE: off\n");
    }
}
