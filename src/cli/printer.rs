//! Where output goes and how it looks: data on stdout, status and warnings
//! on stderr, nothing but errors with `--quiet`. Commands never decide that.

use std::io::{IsTerminal, Write};

use humansize::{BINARY, format_size};
use serde::Serialize;

use gokeep::timestamp::Timestamp;

use super::GlobalArgs;

#[derive(Debug)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    /// Progress bars only when stderr is a terminal and not quiet.
    pub progress: bool,
    /// Whether stdout has data already: a JSON error then must not follow it.
    wrote: std::sync::atomic::AtomicBool,
}

impl Printer {
    pub fn new(g: &GlobalArgs) -> Self {
        Self {
            json: g.json,
            quiet: g.quiet,
            progress: !g.quiet && std::io::stderr().is_terminal(),
            wrote: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A printer that prints nothing but errors, for a second look at
    /// something the run already reported (prune measuring for its metrics).
    pub fn silent() -> Self {
        Self { json: false, quiet: true, progress: false, wrote: std::sync::atomic::AtomicBool::new(false) }
    }

    /// Writes the command's data to stdout.
    pub fn out(&self, text: &str) -> std::io::Result<()> {
        self.wrote.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut out = anstream::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Writes `value` as pretty JSON on stdout.
    pub fn json<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let mut s = serde_json::to_string_pretty(value)?;
        s.push('\n');
        Ok(self.out(&s)?)
    }

    /// A status line on stderr, unless quiet.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            anstream::eprintln!("{line}");
        }
    }

    /// `gokeep: warning: <message>` on stderr, unless quiet.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            anstream::eprintln!("gokeep: {}: {message}", paint(WARNING, "warning"));
        }
    }

    /// The error on stderr; under `--json`, also as a JSON object on stdout
    /// (when the command printed nothing there), so scripts parse one format.
    pub fn error(&self, err: &anyhow::Error, exit_code: u8) {
        let message = error_message(err);
        anstream::eprintln!("gokeep: {}: {message}", paint(ERROR, "error"));
        if self.json && !self.wrote.load(std::sync::atomic::Ordering::Relaxed) {
            let e = ErrorJson { schema_version: 1, error: ErrorBody { message, exit_code } };
            let _ = self.json(&e);
        }
    }
}

/// What `--json` prints on stdout when a command fails before printing its document.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct ErrorJson {
    schema_version: u32,
    error: ErrorBody,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ErrorBody {
    /// The error and its causes, as the text on stderr says it.
    message: String,
    /// The process exit code gokeep ends with.
    exit_code: u8,
}

/// An error and its causes on one line, each said once: a cause whose text
/// an outer error already quotes (thiserror's `"…: {source}"` with the
/// source kept for the chain) is not repeated.
pub fn error_message(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if text.contains(&msg) && !msg.is_empty() {
            // The cause already says everything the outer layers said.
            msg = text;
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg
}

/// `--color`: when to colour output. `auto` colours a terminal unless
/// `NO_COLOR` is set; pipes, files and `--json` never get colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorMode {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorMode {
    /// Sets the process-wide choice the output streams strip or keep colour by.
    pub fn apply(self, json: bool) {
        let choice = match self {
            _ if json => anstream::ColorChoice::Never,
            ColorMode::Auto => anstream::ColorChoice::Auto,
            ColorMode::Always => anstream::ColorChoice::Always,
            ColorMode::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }
}

pub const ERROR: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();
pub const WARNING: anstyle::Style = anstyle::AnsiColor::Yellow.on_default().bold();
pub const NOTE: anstyle::Style = anstyle::AnsiColor::Cyan.on_default();
pub const GOOD: anstyle::Style = anstyle::AnsiColor::Green.on_default().bold();
pub const SIZE: anstyle::Style = anstyle::Style::new().bold();

/// `text` in `style`; the output stream drops the codes where colour is off.
pub fn paint(style: anstyle::Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// "1 entry", "3 entries": a count with its noun agreeing.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn size(bytes: u64) -> String {
    format_size(bytes, BINARY)
}

/// "3 days", "5 hours", "just now": how long ago `t` was.
pub fn age(t: Option<Timestamp>, now: Timestamp) -> String {
    let Some(t) = t else { return "never".into() };
    let secs = t.age_secs(now);
    if secs < 0 {
        return "in the future".into();
    }
    let (n, unit) = match secs {
        0..60 => return "just now".into(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        86_400..2_592_000 => (secs / 86_400, "day"),
        2_592_000..31_536_000 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        let now = Timestamp(1_000_000_000);
        assert_eq!(age(Some(Timestamp(now.0 - 3 * 86_400)), now), "3 days ago");
        assert_eq!(age(Some(Timestamp(now.0 - 3600)), now), "1 hour ago");
        assert_eq!(age(Some(now), now), "just now");
        assert_eq!(age(None, now), "never");
        assert_eq!(age(Some(Timestamp(now.0 + 10)), now), "in the future");
    }
}
