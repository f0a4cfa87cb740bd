//! `gokeep env`: the effective Go environment with provenance.

use std::fmt::Write as _;

use gokeep::goenv::{GoEnv, Source};

use super::{GlobalArgs, Outcome, Printer};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let env = GoEnv::from_process();
    if printer.json {
        printer.json(&env)?;
        return Ok(Outcome::Clean);
    }
    let mut s = String::new();
    for (k, v) in &env.vars {
        let source = match &v.source {
            Source::Env => "env".to_owned(),
            Source::GoenvFile(p) => format!("goenv file {}", p.display()),
            Source::GorootEnv(p) => format!("GOROOT go.env {}", p.display()),
            Source::Default => "default".to_owned(),
        };
        let _ = writeln!(s, "{k}={:<40} # {source}", format!("'{}'", v.value));
    }
    printer.out(&s)?;
    Ok(Outcome::Clean)
}
