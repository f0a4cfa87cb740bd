//! The text gokeep installs: a systemd service and timer, or a marked
//! crontab block, rendered from the templates in `schedules/` (compiled in,
//! so the binary needs nothing beside it). Pure: nothing here touches the disk.

use std::path::PathBuf;

use super::calendar::on_calendar;
use super::expr::CronExpr;

pub const SERVICE_TEMPLATE: &str = include_str!("../../schedules/gokeep-prune.service.in");
pub const TIMER_TEMPLATE: &str = include_str!("../../schedules/gokeep-prune.timer.in");
pub const CRONTAB_TEMPLATE: &str = include_str!("../../schedules/crontab.in");

pub const SERVICE_NAME: &str = "gokeep-prune.service";
pub const TIMER_NAME: &str = "gokeep-prune.timer";

/// The first line of every unit gokeep writes; uninstall removes only files that carry it.
pub const UNIT_MARKER: &str = "# Installed by `gokeep schedule install`";
/// A comment in the timer and the crontab block recording the schedule as typed.
pub const CRON_COMMENT: &str = "# gokeep-schedule-cron: ";
pub const ZONE_COMMENT: &str = "# gokeep-schedule-tz: ";
pub const BLOCK_BEGIN: &str = "# BEGIN gokeep schedule";
pub const BLOCK_END: &str = "# END gokeep schedule";

/// The prune run a schedule starts, with every path resolved at install
/// time: a timer does not see the login shell's Go environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub exe: PathBuf,
    pub policy: PathBuf,
    pub modcache: PathBuf,
    pub gocache: Option<PathBuf>,
    /// gokeep's state directory (journal, marks), passed as `GOKEEP_STATE_DIR`.
    pub state_dir: PathBuf,
    /// `Some`: the host-wide job, `prune --discover` as root, whose owners'
    /// runs write below these directories (instead of `modcache`/`gocache`).
    pub host_wide: Option<Vec<PathBuf>>,
}

impl Job {
    /// The command line, program first.
    #[must_use]
    pub fn argv(&self) -> Vec<String> {
        let mut v = vec![
            self.exe.display().to_string(),
            "--quiet".into(),
            // A run still going when the next tick comes (or a prune by hand) is not waited for.
            "--if-idle".into(),
        ];
        if self.host_wide.is_some() {
            v.extend(["prune".into(), "--discover".into()]);
        } else {
            v.extend(["--modcache".into(), self.modcache.display().to_string()]);
            if let Some(g) = &self.gocache {
                v.extend(["--gocache".into(), g.display().to_string()]);
            }
            v.push("prune".into());
        }
        v.extend(["--policy".into(), self.policy.display().to_string(), "--yes".into()]);
        v
    }
}

/// How the service runs, beyond the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceOptions {
    /// `User=`/`Group=` for a system unit: the cache's owner, never root by default.
    pub owner: Option<(u32, u32)>,
    /// `StateDirectory=` (under /var/lib) for a system unit, which systemd creates for the owner.
    pub state_directory: Option<String>,
}

#[must_use]
pub fn service(job: &Job, opts: &ServiceOptions) -> String {
    let exec: Vec<String> = job.argv().iter().map(|a| systemd_word(a, true)).collect();
    // `-`: a directory that is missing is no error (go creates caches lazily).
    let mut rw = match &job.host_wide {
        Some(dirs) => dirs.iter().map(|d| format!("-{}", d.display())).collect(),
        None => vec![format!("-{}", job.modcache.display())],
    };
    if let (Some(g), None) = (&job.gocache, &job.host_wide) {
        rw.push(format!("-{}", g.display()));
    }
    rw.push(job.state_dir.display().to_string());
    let user = opts.owner.map(|(u, g)| vec![format!("User={u}"), format!("Group={g}")]).unwrap_or_default();
    let state_directory = opts.state_directory.iter().map(|d| format!("StateDirectory={d}")).collect();
    render(
        SERVICE_TEMPLATE,
        &[
            ("USER", user),
            ("EXEC_START", vec![exec.join(" ")]),
            ("STATE_ENV", vec![systemd_word(&format!("GOKEEP_STATE_DIR={}", job.state_dir.display()), false)]),
            ("STATE_DIRECTORY", state_directory),
            ("READ_WRITE_PATHS", vec![rw.iter().map(|p| systemd_word(p, false)).collect::<Vec<_>>().join(" ")]),
        ],
    )
}

#[must_use]
pub fn timer(expr: &CronExpr, zone: Option<&str>, randomized_delay_secs: u64) -> String {
    let delay = if randomized_delay_secs.is_multiple_of(60) {
        format!("{}min", randomized_delay_secs / 60)
    } else {
        format!("{randomized_delay_secs}s")
    };
    render(
        TIMER_TEMPLATE,
        &[
            ("CRON", vec![expr.source.clone()]),
            ("TZ_COMMENT", zone.iter().map(|z| format!("{ZONE_COMMENT}{z}")).collect()),
            ("ON_CALENDAR", on_calendar(expr, zone).into_iter().map(|c| format!("OnCalendar={c}")).collect()),
            ("RANDOMIZED_DELAY", vec![delay]),
        ],
    )
}

/// The marked block merged into a crontab. cron has no `Nice=`: `nice -n 19` stands in.
#[must_use]
pub fn crontab_block(expr: &CronExpr, job: &Job) -> String {
    let mut words = vec![
        format!("GOKEEP_STATE_DIR={}", shell_word(&job.state_dir.display().to_string())),
        "nice".into(),
        "-n".into(),
        "19".into(),
    ];
    words.extend(job.argv().iter().map(|a| shell_word(a)));
    // cron turns an unescaped % into a newline.
    let command = words.join(" ").replace('%', "\\%");
    render(CRONTAB_TEMPLATE, &[("CRON", vec![expr.source.clone()]), ("COMMAND", vec![command])])
}

/// Fills `{{NAME}}` placeholders: one alone on a line becomes zero or more
/// lines, one inside a line becomes its single value.
fn render(template: &str, vars: &[(&str, Vec<String>)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    for line in template.lines() {
        if let Some((_, values)) = vars.iter().find(|(n, _)| line.trim() == format!("{{{{{n}}}}}")) {
            for v in values {
                out.push_str(v);
                out.push('\n');
            }
            continue;
        }
        let mut l = line.to_owned();
        for (n, values) in vars {
            l = l.replace(&format!("{{{{{n}}}}}"), &values.join(" "));
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// One word of a unit-file setting: `%` is a specifier and `$` (in
/// `ExecStart=`) a variable to systemd, so both are doubled; a word with
/// blanks or quotes is double-quoted.
fn systemd_word(s: &str, exec: bool) -> String {
    let mut w = s.replace('%', "%%");
    if exec {
        w = w.replace('$', "$$");
    }
    if w.is_empty() || w.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ';')) {
        format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        w
    }
}

/// One word for `/bin/sh`, single-quoted unless plainly safe.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@+-,".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            exe: "/usr/bin/gokeep".into(),
            policy: "/etc/gokeep/nightly 100%.toml".into(),
            modcache: "/home/u/go/pkg/mod".into(),
            gocache: Some("/home/u/.cache/go-build".into()),
            state_dir: "/home/u/.local/state/gokeep".into(),
            host_wide: None,
        }
    }

    #[test]
    fn a_host_wide_job_prunes_by_discovery_as_root_and_may_write_below_the_homes() {
        let job = Job { host_wide: Some(vec!["/home".into(), "/srv/runner".into()]), ..job() };
        let opts = ServiceOptions { owner: None, state_directory: Some("gokeep".into()) };
        let s = service(&job, &opts);
        assert!(s.contains("--quiet --if-idle prune --discover --policy"), "{s}");
        assert!(!s.contains("--modcache"), "{s}");
        assert!(!s.contains("User="), "root starts it; each owner's run drops to the owner: {s}");
        assert!(s.contains("ReadWritePaths=-/home -/srv/runner /home/u/.local/state/gokeep\n"), "{s}");
    }

    #[test]
    fn every_placeholder_is_filled() {
        let e = CronExpr::parse("0 3 1 * 1").unwrap();
        for text in
            [service(&job(), &ServiceOptions::default()), timer(&e, Some("UTC"), 900), crontab_block(&e, &job())]
        {
            assert!(!text.contains("{{"), "unfilled placeholder in:\n{text}");
        }
    }

    #[test]
    fn unit_words_escape_specifiers_and_blanks() {
        let s = service(&job(), &ServiceOptions::default());
        assert!(s.contains("--policy \"/etc/gokeep/nightly 100%%.toml\" --yes"), "{s}");
        assert_eq!(systemd_word("a$b", true), "a$$b");
        assert_eq!(systemd_word("a\"b c", false), "\"a\\\"b c\"");
    }

    #[test]
    fn crontab_command_quotes_for_the_shell_and_escapes_percent_for_cron() {
        let b = crontab_block(&CronExpr::parse("@daily").unwrap(), &job());
        assert!(b.contains("@daily GOKEEP_STATE_DIR=/home/u/.local/state/gokeep nice -n 19 /usr/bin/gokeep"), "{b}");
        assert!(b.contains("--policy '/etc/gokeep/nightly 100\\%.toml' --yes"), "{b}");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    #[test]
    fn a_system_service_runs_as_the_cache_owner_with_its_own_state_directory() {
        let s = service(&job(), &ServiceOptions { owner: Some((1000, 1001)), state_directory: Some("gokeep".into()) });
        assert!(s.contains("\nUser=1000\nGroup=1001\n"), "{s}");
        assert!(s.contains("\nStateDirectory=gokeep\n"), "{s}");
        let user = service(&job(), &ServiceOptions::default());
        assert!(!user.contains("User=") && !user.contains("StateDirectory="), "{user}");
    }
}
