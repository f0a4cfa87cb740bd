//! Installing, finding and removing what `gokeep schedule install` writes.
//!
//! Everything is planned first ([`Plan`]: the files with their full
//! contents, the crontab before and after, the `systemctl` calls), so the
//! command line can show it and ask before [`apply`] touches anything.
//! Unit files are replaced atomically; a unit file or crontab block that
//! gokeep did not write (no marker) is never overwritten or removed.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::units::{BLOCK_BEGIN, BLOCK_END, CRON_COMMENT, SERVICE_NAME, TIMER_NAME, UNIT_MARKER, ZONE_COMMENT};
use crate::fs::atomic;

/// Installs units into this directory instead of the systemd one (tests,
/// image builds); `systemctl` is then not called.
pub const SYSTEMD_DIR_ENV: &str = "GOKEEP_SYSTEMD_DIR";
/// The program used as `crontab -l` / `crontab -` (default `crontab`).
pub const CRONTAB_CMD_ENV: &str = "GOKEEP_CRONTAB_CMD";
/// Edit this file as the crontab instead of calling a crontab program.
pub const CRONTAB_FILE_ENV: &str = "GOKEEP_CRONTAB_FILE";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot determine the systemd user unit directory: set XDG_CONFIG_HOME or HOME")]
    NoUnitDir,
    #[error("{path} exists and was not written by gokeep (no \"{UNIT_MARKER}\" line): not touching it")]
    NotOurs { path: PathBuf },
    #[error("{origin}: \"{BLOCK_BEGIN}\" without a matching \"{BLOCK_END}\" line: fix the crontab by hand")]
    UnterminatedBlock { origin: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("`{command}` failed: {message}")]
    Crontab { command: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    User,
    System,
}

impl Scope {
    fn systemctl_flag(self) -> Option<&'static str> {
        match self {
            Scope::User => Some("--user"),
            Scope::System => None,
        }
    }
}

/// Where units go, and whether systemd manages that directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UnitDir {
    pub path: PathBuf,
    pub scope: Scope,
    /// False for a directory given by [`SYSTEMD_DIR_ENV`]: no `systemctl` calls.
    pub managed: bool,
}

impl UnitDir {
    /// `$XDG_CONFIG_HOME/systemd/user` or `/etc/systemd/system`, unless `over` (or the env) names one.
    pub fn resolve(scope: Scope, over: Option<PathBuf>) -> Result<UnitDir, InstallError> {
        let over = over.or_else(|| std::env::var_os(SYSTEMD_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
        if let Some(path) = over {
            return Ok(UnitDir { path, scope, managed: false });
        }
        let path = match scope {
            Scope::User => dirs::config_dir().ok_or(InstallError::NoUnitDir)?.join("systemd/user"),
            Scope::System => PathBuf::from("/etc/systemd/system"),
        };
        Ok(UnitDir { path, scope, managed: true })
    }

    fn systemctl(&self, args: &[&str]) -> Option<Vec<String>> {
        self.managed.then(|| {
            let mut v = vec!["systemctl".to_owned()];
            v.extend(self.scope.systemctl_flag().map(str::to_owned));
            v.extend(args.iter().map(|a| (*a).to_owned()));
            v
        })
    }
}

/// The user's crontab: through a crontab program, or a plain file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrontabTarget {
    Command(String),
    File(PathBuf),
}

impl CrontabTarget {
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            CrontabTarget::Command(c) => format!("the crontab (`{c} -l` / `{c} -`)"),
            CrontabTarget::File(p) => p.display().to_string(),
        }
    }

    pub fn read(&self) -> Result<String, InstallError> {
        match self {
            CrontabTarget::File(p) => match std::fs::read_to_string(p) {
                Ok(s) => Ok(s),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
                Err(source) => Err(InstallError::Read { path: p.clone(), source }),
            },
            CrontabTarget::Command(c) => {
                let failed = |message: String| InstallError::Crontab { command: format!("{c} -l"), message };
                let out = Command::new(c).arg("-l").stdin(Stdio::null()).output().map_err(|e| failed(e.to_string()))?;
                if out.status.success() {
                    return String::from_utf8(out.stdout).map_err(|_| failed("the crontab is not UTF-8".into()));
                }
                let err = String::from_utf8_lossy(&out.stderr);
                // Every crontab says so when the user has none yet, and exits 1.
                if err.to_ascii_lowercase().contains("no crontab") {
                    return Ok(String::new());
                }
                Err(failed(format!("{}: {}", out.status, err.trim())))
            }
        }
    }

    pub fn write(&self, text: &str) -> Result<(), InstallError> {
        match self {
            CrontabTarget::File(p) => atomic::replace_file(p, text.as_bytes())
                .map_err(|source| InstallError::Write { path: p.clone(), source }),
            CrontabTarget::Command(c) => {
                let failed = |message: String| InstallError::Crontab { command: format!("{c} -"), message };
                let mut child = Command::new(c)
                    .arg("-")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| failed(e.to_string()))?;
                child.stdin.take().expect("piped").write_all(text.as_bytes()).map_err(|e| failed(e.to_string()))?;
                let out = child.wait_with_output().map_err(|e| failed(e.to_string()))?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(failed(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())))
                }
            }
        }
    }
}

/// A unit file to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FileWrite {
    pub path: PathBuf,
    pub contents: String,
    /// The file exists with exactly these contents already.
    pub unchanged: bool,
}

/// The crontab before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CrontabEdit {
    pub target: String,
    pub before: String,
    pub after: String,
    /// The block added (install) or removed (uninstall).
    pub block: String,
}

/// Everything an install or uninstall will do, in order: `before` commands,
/// directories, file writes and removals, the crontab, `after` commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub commands_before: Vec<Vec<String>>,
    pub create_dirs: Vec<PathBuf>,
    pub write: Vec<FileWrite>,
    pub remove: Vec<PathBuf>,
    pub crontab: Option<CrontabEdit>,
    pub commands_after: Vec<Vec<String>>,
}

impl Plan {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.create_dirs.is_empty()
            && self.write.iter().all(|w| w.unchanged)
            && self.remove.is_empty()
            && self.crontab.as_ref().is_none_or(|c| c.before == c.after)
    }
}

/// Reads a unit file gokeep may touch: `None` if absent, an error if not ours.
fn our_unit(path: &Path) -> Result<Option<String>, InstallError> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.starts_with(UNIT_MARKER) => Ok(Some(s)),
        Ok(_) => Err(InstallError::NotOurs { path: path.to_owned() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // A directory, a unit that is not UTF-8: not ours either.
        Err(e) if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::IsADirectory => {
            Err(InstallError::NotOurs { path: path.to_owned() })
        }
        Err(source) => Err(InstallError::Read { path: path.to_owned(), source }),
    }
}

/// Writes (or refreshes) the service and timer and enables the timer.
pub fn plan_systemd_install(
    dir: &UnitDir,
    service: String,
    timer: String,
    create_dirs: &[PathBuf],
) -> Result<Plan, InstallError> {
    let mut plan = Plan::default();
    for d in create_dirs.iter().chain(std::iter::once(&dir.path)) {
        if !d.is_dir() {
            plan.create_dirs.push(d.clone());
        }
    }
    for (name, contents) in [(SERVICE_NAME, service), (TIMER_NAME, timer)] {
        let path = dir.path.join(name);
        let unchanged = our_unit(&path)?.is_some_and(|old| old == contents);
        plan.write.push(FileWrite { path, contents, unchanged });
    }
    plan.commands_after.extend(dir.systemctl(&["daemon-reload"]));
    plan.commands_after.extend(dir.systemctl(&["enable", "--now", TIMER_NAME]));
    Ok(plan)
}

/// Stops and removes the service and timer gokeep wrote, and nothing else.
pub fn plan_systemd_uninstall(dir: &UnitDir) -> Result<Plan, InstallError> {
    let mut plan = Plan::default();
    for name in [TIMER_NAME, SERVICE_NAME] {
        let path = dir.path.join(name);
        if our_unit(&path)?.is_some() {
            plan.remove.push(path);
        }
    }
    if !plan.remove.is_empty() {
        plan.commands_before.extend(dir.systemctl(&["disable", "--now", TIMER_NAME]));
        plan.commands_after.extend(dir.systemctl(&["daemon-reload"]));
    }
    Ok(plan)
}

/// Splits `text` into what lies outside gokeep's block and the block itself.
pub fn split_block(text: &str, origin: &str) -> Result<(String, Option<String>), InstallError> {
    let mut outside = String::with_capacity(text.len());
    let mut block: Option<String> = None;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if !inside && block.is_none() && bare.starts_with(BLOCK_BEGIN) {
            inside = true;
            block = Some(String::new());
        }
        if inside {
            block.as_mut().expect("opened").push_str(line);
            if bare == BLOCK_END {
                inside = false;
            }
        } else {
            outside.push_str(line);
        }
    }
    if inside {
        return Err(InstallError::UnterminatedBlock { origin: origin.to_owned() });
    }
    Ok((outside, block))
}

/// Replaces gokeep's block in the crontab (or appends it), leaving every other line as it was.
pub fn plan_cron_install(target: &CrontabTarget, block: &str) -> Result<Plan, InstallError> {
    let before = target.read()?;
    let (mut after, _) = split_block(&before, &target.describe())?;
    if !after.is_empty() && !after.ends_with('\n') {
        after.push('\n');
    }
    after.push_str(block);
    let edit = CrontabEdit { target: target.describe(), before, after, block: block.to_owned() };
    Ok(Plan { crontab: Some(edit), ..Plan::default() })
}

/// Removes gokeep's block from the crontab, if there is one.
pub fn plan_cron_uninstall(target: &CrontabTarget) -> Result<Plan, InstallError> {
    let before = target.read()?;
    let (after, block) = split_block(&before, &target.describe())?;
    Ok(Plan {
        crontab: block.map(|block| CrontabEdit { target: target.describe(), before, after, block }),
        ..Plan::default()
    })
}

/// What [`apply`] did besides what the plan says: commands that failed
/// (systemd not running, a container) are reported, not fatal, because
/// the files are in place and `systemctl` can be run later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Applied {
    pub command_failures: Vec<String>,
}

pub fn apply(plan: &Plan, crontab: Option<&CrontabTarget>) -> Result<Applied, InstallError> {
    let mut applied = Applied::default();
    let mut run = |cmds: &[Vec<String>]| {
        for c in cmds {
            match Command::new(&c[0]).args(&c[1..]).stdin(Stdio::null()).output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => applied.command_failures.push(format!(
                    "`{}`: {}: {}",
                    c.join(" "),
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => applied.command_failures.push(format!("`{}`: {e}", c.join(" "))),
            }
        }
    };
    run(&plan.commands_before);
    for d in &plan.create_dirs {
        std::fs::create_dir_all(d).map_err(|source| InstallError::Write { path: d.clone(), source })?;
    }
    for w in plan.write.iter().filter(|w| !w.unchanged) {
        atomic::replace_file(&w.path, w.contents.as_bytes())
            .map_err(|source| InstallError::Write { path: w.path.clone(), source })?;
    }
    for p in &plan.remove {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(InstallError::Write { path: p.clone(), source }),
        }
    }
    if let (Some(edit), Some(target)) = (&plan.crontab, crontab)
        && edit.before != edit.after
    {
        // Someone may have edited the crontab since it was shown: start over rather than lose that.
        if target.read()? != edit.before {
            return Err(InstallError::Crontab {
                command: target.describe(),
                message: "the crontab changed while gokeep was planning; run the command again".into(),
            });
        }
        target.write(&edit.after)?;
    }
    run(&plan.commands_after);
    Ok(applied)
}

/// A schedule gokeep finds installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Installed {
    /// `systemd_user`, `systemd_system` or `crontab`.
    pub kind: &'static str,
    /// The timer file, or the crontab's description.
    pub location: String,
    /// The schedule as typed at install, from the marker comment.
    pub cron: Option<String>,
    pub zone: Option<String>,
}

fn comments(text: &str) -> (Option<String>, Option<String>) {
    let find = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)).map(|s| s.trim().to_owned());
    (find(CRON_COMMENT), find(ZONE_COMMENT))
}

/// The timer in `dir`, if gokeep installed one there.
pub fn installed_systemd(dir: &UnitDir) -> Result<Option<Installed>, InstallError> {
    let path = dir.path.join(TIMER_NAME);
    let text = match our_unit(&path) {
        Ok(Some(t)) => t,
        Ok(None) | Err(InstallError::NotOurs { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let (cron, zone) = comments(&text);
    let kind = match dir.scope {
        Scope::User => "systemd_user",
        Scope::System => "systemd_system",
    };
    Ok(Some(Installed { kind, location: path.display().to_string(), cron, zone }))
}

/// gokeep's block in the crontab, if there is one.
pub fn installed_cron(target: &CrontabTarget) -> Result<Option<Installed>, InstallError> {
    let (_, block) = split_block(&target.read()?, &target.describe())?;
    Ok(block.map(|b| {
        let (cron, zone) = comments(&b);
        Installed { kind: "crontab", location: target.describe(), cron, zone }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "# BEGIN gokeep schedule: x\n0 2 * * * gokeep prune\n# END gokeep schedule\n";

    #[test]
    fn installing_twice_keeps_one_block_and_the_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("crontab");
        let theirs = "MAILTO=ops\n# nightly backup\n30 1 * * * backup --all\n@reboot start-thing";
        std::fs::write(&file, theirs).unwrap();
        let t = CrontabTarget::File(file.clone());
        apply(&plan_cron_install(&t, BLOCK).unwrap(), Some(&t)).unwrap();
        let other = BLOCK.replace("0 2", "0 4");
        apply(&plan_cron_install(&t, &other).unwrap(), Some(&t)).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{theirs}\n{other}"));
    }

    #[test]
    fn a_block_without_its_end_line_is_refused() {
        let err = split_block("a\n# BEGIN gokeep schedule\n0 2 * * * x\n", "crontab").unwrap_err();
        assert!(matches!(err, InstallError::UnterminatedBlock { .. }), "{err}");
    }

    #[test]
    fn a_unit_file_gokeep_did_not_write_is_neither_replaced_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SERVICE_NAME), "[Service]\nExecStart=/bin/true\n").unwrap();
        let d = UnitDir { path: dir.path().to_owned(), scope: Scope::User, managed: false };
        let install = plan_systemd_install(&d, format!("{UNIT_MARKER}\n"), format!("{UNIT_MARKER}\n"), &[]);
        assert!(matches!(install, Err(InstallError::NotOurs { .. })), "{install:?}");
        assert!(matches!(plan_systemd_uninstall(&d), Err(InstallError::NotOurs { .. })));
    }
}
