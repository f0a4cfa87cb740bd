//! The binary side: argument parsing, one function per subcommand, rendering
//! and exit codes. Logic lives in the library.

mod cache_root;
mod cmd;
mod config;
mod consent;
mod exit;
mod interrupt;
mod metrics;
mod pool;
mod printer;
mod render;
mod run_lock;

// One file per subcommand: arguments in, one library call, rendered out.
pub(crate) use cmd::{
    doctor, env, explain, generate, gocache, link, log, mark, probe, profile, prune, schedule, schema, status, verify,
};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use config::Settings;
pub use exit::Outcome;
pub use printer::Printer;

/// Keeps Go's module cache (GOMODCACHE) and build cache (GOCACHE) healthy.
#[derive(Debug, Parser)]
#[command(name = "gokeep", version, about, after_help = exit::EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors (for timers and scripts).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Module cache to use instead of the resolved GOMODCACHE.
    #[arg(long, global = true, value_name = "DIR")]
    pub modcache: Option<PathBuf>,
    /// Build cache to use instead of the resolved GOCACHE.
    #[arg(long, global = true, value_name = "DIR")]
    pub gocache: Option<PathBuf>,
    /// Worker threads (default: one per core for scanning and hashing, four per
    /// core for prune, whose removals wait on the disk rather than the CPU).
    #[arg(long, short = 'j', alias = "jobs", global = true, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u16>,
    /// A scheduled run: when another gokeep run that deletes or stamps is
    /// under way, skip (exit 0) instead of waiting for it.
    #[arg(long, global = true, env = "GOKEEP_IF_IDLE", value_parser = clap::builder::BoolishValueParser::new())]
    pub if_idle: bool,
    /// When to colour the output: auto (a terminal, unless `NO_COLOR` is set), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: printer::ColorMode,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the effective Go environment and where each value came from.
    Env(env::Args),
    /// Show what the Go caches hold: sizes, categories, largest modules, ages.
    #[command(visible_alias = "du")]
    Status(status::Args),
    /// Verify the module cache (and go.sum, GOCACHE) against every witness; --fix repairs.
    #[command(after_help = verify::AFTER_HELP)]
    Verify(verify::Args),
    /// Decode go's errors about a module's bytes (checksum mismatch, zip, ziphash, go.sum) and say which witness is wrong now.
    #[command(after_help = explain::AFTER_HELP)]
    Explain(explain::Args),
    /// Remove stale, unneeded or corrupted cache entries by policy, safely beside running builds.
    Prune(prune::Args),
    /// Stamp the module cache; `prune --unused-since-mark` then removes what no build read since.
    Mark(mark::Args),
    /// Show the journal of past prune and mark runs.
    Log(log::Args),
    /// Build-cache maintenance (refresh entry times for CI images).
    Gocache(gocache::Args),
    /// Check cron expressions; install, show or remove the timer or crontab line that prunes nightly.
    Schedule(schedule::Args),
    /// Diagnose the module proxy chain: lint GOPROXY/GOSUMDB/GOPRIVATE…, print each module's route, --chain walks one module.
    Doctor(doctor::Args),
    /// Time each module proxy (DNS, TCP, TLS, first byte) and recommend a GOPROXY order.
    Probe(probe::Args),
    /// Named Go environment profiles (gokeep.toml): list, show, diff, apply.
    Profile(profile::Args),
    /// Generate shell completions or man pages from these definitions.
    Generate(generate::Args),
    /// Use a local checkout of a required module (go.work `use` or go.mod `replace`), reversibly.
    #[command(after_help = link::LINK_HELP)]
    Link(link::LinkArgs),
    /// Take back what `gokeep link` changed: byte for byte, or only gokeep's lines if the file changed since.
    Unlink(link::UnlinkArgs),
    /// List the overrides gokeep made and whether Go honours each.
    Links(link::LinksArgs),
    /// Fail (exit 1) on a local replace in go.mod or a go.work tracked or staged in git.
    Check(link::CheckArgs),
    /// Print the JSON Schema of a command's `--json` output.
    Schema(schema::Args),
}

/// The most threads `--threads` takes. Scanning, hashing and removing are bound by
/// the disk and the cores; thousands of threads only add memory and contention
/// (20,000 ran past a minute where the default takes seconds).
const MAX_THREADS: u16 = 256;

fn parse_threads(s: &str) -> Result<u16, String> {
    let n: u16 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of threads (1 to {MAX_THREADS})"))?;
    match n {
        0 => Err(format!("must be at least 1 (1 to {MAX_THREADS})")),
        n if n > MAX_THREADS => {
            Err(format!("{n} is more than {MAX_THREADS}: more threads than that only add memory and contention"))
        }
        n => Ok(n),
    }
}

/// How gokeep was called, for the journal.
fn command_line() -> String {
    // args() panics on a path that is not UTF-8, and this runs after a prune has deleted.
    std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
}

/// Parses arguments, runs one subcommand and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.global.color.apply(cli.global.json);
    let printer = Printer::new(&cli.global);
    if let Err(e) = pool::install(cli.global.threads, &cli.command) {
        return exit::finish(Err(e.into()), &printer);
    }
    let settings = Settings::load(&cli.global);
    let result = match &cli.command {
        Command::Env(args) => env::run(args, &settings, &printer),
        Command::Status(args) => status::run(args, &settings, &printer),
        Command::Verify(args) => verify::run(args, &settings, &printer),
        Command::Explain(args) => explain::run(args, &settings, &printer),
        Command::Prune(args) => prune::run(args, &settings, &printer),
        Command::Mark(args) => mark::run(args, &settings, &printer),
        Command::Log(args) => log::run(args, &settings, &printer),
        Command::Gocache(args) => gocache::run(args, &settings, &printer),
        Command::Schedule(args) => schedule::run(args, &settings, &printer),
        Command::Doctor(args) => doctor::run(args, &settings, &printer),
        Command::Probe(args) => probe::run(args, &settings, &printer),
        Command::Profile(args) => profile::run(args, &settings, &printer),
        Command::Generate(args) => generate::run(args, &settings, &printer),
        Command::Link(args) => link::run_link(args, &settings, &printer),
        Command::Unlink(args) => link::run_unlink(args, &settings, &printer),
        Command::Links(args) => link::run_links(args, &settings, &printer),
        Command::Check(args) => link::run_check(args, &settings, &printer),
        Command::Schema(args) => schema::run(args, &settings, &printer),
    };
    exit::finish(result, &printer)
}

#[cfg(test)]
mod tests {
    /// clap checks its definitions only when a command is parsed, in debug
    /// builds: a flag two commands both claim would panic at the user's prompt.
    #[test]
    fn every_command_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
