//! `gokeep schedule`: next runs checked against systemd's own calendar
//! (`systemd-analyze calendar`), and install / show / uninstall into a temp
//! systemd unit directory and a temp crontab (a file, or a stand-in
//! `crontab` program), checked against golden files and `systemd-analyze verify`.
//!
//! No Go cache format is involved: the caches are empty directories whose
//! paths end up in the units. Set `GOKEEP_BLESS=1` to rewrite the golden files.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::parse_json;
use gokeep::state::journal::{self, JournalEntry};
use gokeep::timestamp::Timestamp;
use serde_json::Value;
use tempfile::TempDir;

const GOKEEP: &str = env!("CARGO_BIN_EXE_gokeep");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A temp world: HOME, caches, state dir, unit dir, crontab file.
struct World {
    dir: TempDir,
}

impl World {
    fn new() -> World {
        let w = World { dir: tempfile::tempdir().unwrap() };
        for d in ["home", "go/pkg/mod", "cache/go-build", "units"] {
            fs::create_dir_all(w.path(d)).unwrap();
        }
        w
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `gokeep --modcache … --gocache … <args>` with every schedule path redirected into the world.
    fn gokeep(&self, args: &[&str]) -> Output {
        let mut c = Command::new(GOKEEP);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home/.config"))
            .env("GOKEEP_STATE_DIR", self.path("state"))
            .env("GOKEEP_SYSTEMD_DIR", self.path("units"))
            .env("GOKEEP_CRONTAB_FILE", self.path("crontab"))
            .env("TZ", "UTC")
            .arg("--modcache")
            .arg(self.path("go/pkg/mod"))
            .arg("--gocache")
            .arg(self.path("cache/go-build"))
            .args(args)
            .stdin(std::process::Stdio::null());
        c.output().expect("running gokeep")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.gokeep(args);
        assert!(
            out.status.success(),
            "gokeep {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Paths that differ from run to run, replaced by names.
    fn normalise(&self, text: &str) -> String {
        text.replace(GOKEEP, "[GOKEEP]")
            .replace(REPO, "[REPO]")
            .replace(&self.dir.path().display().to_string(), "[TMP]")
    }
}

fn policy() -> String {
    format!("{REPO}/schedules/nightly.toml")
}

fn json(out: &Output) -> Value {
    parse_json("gokeep --json schedule", &out.stdout)
}

/// Compares with `tests/golden/schedule/<name>`, or writes it with `GOKEEP_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(REPO).join("tests/golden/schedule").join(name);
    if std::env::var_os("GOKEEP_BLESS").is_some() {
        fs::write(&path, actual).unwrap();
    }
    let want =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (GOKEEP_BLESS=1 writes it)", path.display()));
    assert_eq!(actual, want, "{name} differs from its golden file");
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `systemd-analyze verify` must accept the units without a word, where it exists.
fn systemd_verify(units: &[PathBuf]) {
    if !have("systemd-analyze") {
        eprintln!("systemd-analyze not installed: generated units not verified");
        return;
    }
    // Documentation=man:gokeep-prune(1) is checked too: point man at the pages gokeep generates.
    let man = tempfile::tempdir().unwrap();
    let man1 = man.path().join("man1");
    fs::create_dir(&man1).unwrap();
    let generated = Command::new(GOKEEP).args(["generate", "man"]).arg(&man1).output().unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let out = Command::new("systemd-analyze").env("MANPATH", man.path()).arg("verify").args(units).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {}\n{stderr}", out.status);
}

#[test]
fn systemd_units_install_show_and_uninstall_against_golden_files() {
    let w = World::new();
    let theirs = "[Service]\nExecStart=/bin/true\n";
    fs::write(w.path("units/other.service"), theirs).unwrap();
    w.ok(&["schedule", "install", "--at", "0 3 1 * 1", "--policy", &policy(), "--yes"]);

    let service = fs::read_to_string(w.path("units/gokeep-prune.service")).unwrap();
    let timer = fs::read_to_string(w.path("units/gokeep-prune.timer")).unwrap();
    golden("user/gokeep-prune.service", &w.normalise(&service));
    golden("user/gokeep-prune.timer", &w.normalise(&timer));
    // ProtectSystem=strict cannot open a missing directory for writing: install creates it.
    assert!(w.path("state").is_dir());
    systemd_verify(&[w.path("units/gokeep-prune.service"), w.path("units/gokeep-prune.timer")]);

    // What `gokeep log` reads: the timer's last run is shown beside the schedule.
    let ran = Timestamp(1_767_232_800);
    let entry = JournalEntry {
        time: ran,
        command: format!("--quiet --modcache {} prune --policy {} --yes", w.path("go/pkg/mod").display(), policy()),
        modcache: Some(w.path("go/pkg/mod")),
        gocache: None,
        items: 3,
        files: 30,
        dirs: 6,
        apparent_bytes: 1000,
        disk_bytes: 4096,
        duration_ms: 120,
        failures: 0,
        skipped: 0,
    };
    journal::append_to(&w.path("state/journal.jsonl"), &entry).unwrap();
    let show = json(&w.ok(&["--json", "schedule", "show"]));
    assert_eq!(show["last_prune"]["time"], ran.rfc3339(), "{show:#}");
    let s = &show["schedules"].as_array().unwrap()[..];
    assert_eq!(s.len(), 1, "{show:#}");
    assert_eq!(s[0]["kind"], "systemd_user");
    assert_eq!(s[0]["cron"], "0 3 1 * 1");
    let next = s[0]["next_run"].as_str().expect("a next run");
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    assert!(next.format("%d").to_string() == "01" || next.format("%a").to_string() == "Mon", "{next}");

    w.ok(&["schedule", "uninstall", "--yes"]);
    let left: Vec<String> =
        fs::read_dir(w.path("units")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["other.service"]);
    assert_eq!(fs::read_to_string(w.path("units/other.service")).unwrap(), theirs);
    let again = w.ok(&["schedule", "uninstall", "--yes"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
}

#[test]
fn a_system_unit_runs_as_the_cache_owner() {
    let w = World::new();
    w.ok(&["schedule", "install", "--system", "--policy", &policy(), "--tz", "Europe/Berlin", "--yes"]);
    let service = fs::read_to_string(w.path("units/gokeep-prune.service")).unwrap();
    let md = fs::metadata(w.path("go/pkg/mod")).unwrap();
    assert!(service.contains(&format!("\nUser={}\nGroup={}\n", md.uid(), md.gid())), "{service}");
    golden(
        "system/gokeep-prune.service",
        &w.normalise(&service).replace(&format!("User={}\nGroup={}", md.uid(), md.gid()), "User=[UID]\nGroup=[GID]"),
    );
    golden("system/gokeep-prune.timer", &w.normalise(&fs::read_to_string(w.path("units/gokeep-prune.timer")).unwrap()));
    systemd_verify(&[w.path("units/gokeep-prune.service"), w.path("units/gokeep-prune.timer")]);
}

#[test]
fn a_host_wide_unit_runs_prune_discover_as_root_and_may_write_below_the_homes_and_runner_dirs() {
    let w = World::new();
    let home = w.path("home");
    let md = fs::metadata(&home).unwrap();
    fs::write(w.path("passwd"), format!("u:x:{}:{}::{}:/bin/sh\n", md.uid(), md.gid(), home.display())).unwrap();
    fs::create_dir_all(w.path("runners/r1")).unwrap();
    let policy = w.path("host.toml");
    fs::write(
        &policy,
        format!(
            "[modcache]\nmax_age = \"30d\"\n[discover]\nunits = false\nglobs = [\"{}/*/go/pkg/mod\"]\npasswd = \"{}\"\n",
            w.path("runners").display(),
            w.path("passwd").display()
        ),
    )
    .unwrap();
    let policy = policy.display().to_string();
    w.ok(&["schedule", "install", "--system", "--discover", "--policy", &policy, "--yes"]);
    let service = fs::read_to_string(w.path("units/gokeep-prune.service")).unwrap();
    assert!(service.contains(&format!("--if-idle prune --discover --policy {policy} --yes")), "{service}");
    assert!(!service.contains("--modcache") && !service.contains("User="), "{service}");
    // The homes' directory (users added later are covered) and the runners' fixed prefix.
    let tmp = w.dir.path().display().to_string();
    assert!(service.contains(&format!("ReadWritePaths=-{tmp} /var/lib/gokeep\n")), "{service}");
    systemd_verify(&[w.path("units/gokeep-prune.service"), w.path("units/gokeep-prune.timer")]);

    // Host-wide means a system unit.
    let out = w.gokeep(&["schedule", "install", "--discover", "--policy", &policy, "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_unit_file_gokeep_did_not_write_is_left_alone() {
    let w = World::new();
    let theirs = "[Service]\nExecStart=/usr/local/bin/my-prune\n";
    fs::write(w.path("units/gokeep-prune.service"), theirs).unwrap();
    let out = w.gokeep(&["schedule", "install", "--policy", &policy(), "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not written by gokeep"));
    assert_eq!(fs::read_to_string(w.path("units/gokeep-prune.service")).unwrap(), theirs);
    assert!(!w.path("units/gokeep-prune.timer").exists());
    assert_eq!(w.gokeep(&["schedule", "uninstall", "--systemd", "--yes"]).status.code(), Some(2));
    assert_eq!(fs::read_to_string(w.path("units/gokeep-prune.service")).unwrap(), theirs);
}

const THEIR_CRONTAB: &str = "\
# m h dom mon dow command
MAILTO=ops@example.com
30 1 * * * /usr/local/bin/backup --all >/dev/null 2>&1
@reboot /usr/local/bin/start-agent
";

#[test]
fn a_crontab_file_gets_one_marked_block_and_uninstall_restores_it_byte_for_byte() {
    let w = World::new();
    fs::write(w.path("crontab"), THEIR_CRONTAB).unwrap();
    let args = ["schedule", "install", "--cron", "--at", "@daily", "--policy", &policy(), "--yes"];
    w.ok(&args);
    // Installing again replaces the block instead of adding a second one.
    w.ok(&args);
    let after = fs::read_to_string(w.path("crontab")).unwrap();
    assert!(after.starts_with(THEIR_CRONTAB));
    golden("crontab", &w.normalise(&after));

    let show = json(&w.ok(&["--json", "schedule", "show"]));
    assert_eq!(show["schedules"][0]["kind"], "crontab");
    assert_eq!(show["schedules"][0]["cron"], "@daily");

    w.ok(&["schedule", "uninstall", "--cron", "--yes"]);
    assert_eq!(fs::read_to_string(w.path("crontab")).unwrap(), THEIR_CRONTAB);
}

#[test]
fn the_crontab_program_is_used_through_crontab_l_and_crontab_dash() {
    let w = World::new();
    // A stand-in with crontab's interface, keeping the table in a file beside it.
    let prog = w.path("bin/crontab");
    fs::create_dir_all(prog.parent().unwrap()).unwrap();
    fs::write(
        &prog,
        "#!/bin/sh\nstore=\"$(dirname \"$0\")/table\"\ncase \"$1\" in\n\
         -l) [ -f \"$store\" ] || { echo \"no crontab for $(id -un)\" >&2; exit 1; }; cat \"$store\" ;;\n\
         -) cat > \"$store\" ;;\n*) exit 2 ;;\nesac\n",
    )
    .unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    let prog_s = prog.display().to_string();
    let cron = |args: &[&str]| {
        let mut a = vec!["schedule"];
        a.extend_from_slice(args);
        a.extend(["--crontab-cmd", &prog_s]);
        // GOKEEP_CRONTAB_FILE is not set here: the program is the crontab.
        let mut c = Command::new(GOKEEP);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", w.path("home"))
            .env("GOKEEP_STATE_DIR", w.path("state"))
            .env("GOKEEP_SYSTEMD_DIR", w.path("units"))
            .arg("--modcache")
            .arg(w.path("go/pkg/mod"))
            .args(&a)
            .stdin(std::process::Stdio::null());
        let out = c.output().unwrap();
        assert!(out.status.success(), "{a:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    // No crontab yet: `crontab -l` fails with "no crontab for …", which is an empty table.
    cron(&["install", "--cron", "--at", "15 4 * * sun", "--policy", &policy(), "--yes"]);
    let table = fs::read_to_string(w.path("bin/table")).unwrap();
    assert!(table.starts_with("# BEGIN gokeep schedule"), "{table}");
    assert!(table.contains("\n15 4 * * sun GOKEEP_STATE_DIR="), "{table}");
    cron(&["uninstall", "--cron", "--yes"]);
    assert_eq!(fs::read_to_string(w.path("bin/table")).unwrap(), "");
}

#[test]
fn without_a_terminal_or_yes_nothing_is_written_and_dry_run_only_prints() {
    let w = World::new();
    fs::write(w.path("crontab"), THEIR_CRONTAB).unwrap();
    let out = w.gokeep(&["schedule", "install", "--policy", &policy()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "no consent has its own exit code: {stderr}");
    assert!(stderr.contains("gokeep-prune.timer:") && stderr.contains("OnCalendar=*-*-* 02:00:00"), "{stderr}");
    assert!(stderr.contains("nothing changed"), "{stderr}");
    assert_eq!(fs::read_dir(w.path("units")).unwrap().count(), 0);

    let out = w.ok(&["schedule", "install", "--cron", "--policy", &policy(), "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("+ 0 2 * * * GOKEEP_STATE_DIR="), "{stdout}");
    assert_eq!(fs::read_to_string(w.path("crontab")).unwrap(), THEIR_CRONTAB);

    let plan = json(&w.ok(&["--json", "schedule", "install", "--policy", &policy(), "--dry-run"]));
    assert_eq!(plan["applied"], false);
    assert_eq!(plan["plan"]["write"].as_array().unwrap().len(), 2);
    assert_eq!(fs::read_dir(w.path("units")).unwrap().count(), 0);
}

#[test]
fn a_bad_expression_exits_2_and_points_at_the_field() {
    let w = World::new();
    let out = w.gokeep(&["schedule", "validate", "0 0 32 * *"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("field 3 (day-of-month) \"32\": 32 is out of range 1-31"), "{stderr}");
    assert!(stderr.contains("\n    0 0 32 * *\n        ^^\n"), "{stderr}");
    let out = w.gokeep(&["schedule", "install", "--at", "0 2 * *", "--policy", &policy(), "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read_dir(w.path("units")).unwrap().count(), 0);
    assert_eq!(w.gokeep(&["schedule", "validate", "@daily", "--tz", "Nowhere/Atlantis"]).status.code(), Some(2));
    let out = w.gokeep(&["schedule", "install", "--cron", "--tz", "UTC", "--policy", &policy(), "--yes"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs of the `OnCalendar=` lines gokeep prints for `expr`, from systemd itself, merged.
fn systemd_runs(lines: &[Value], base: &str, n: usize) -> Vec<String> {
    let mut all = Vec::new();
    for l in lines {
        let out = Command::new("systemd-analyze")
            .env("TZ", "UTC")
            .args(["calendar", &format!("--iterations={n}"), &format!("--base-time={base}")])
            .arg(l.as_str().unwrap())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "systemd-analyze calendar {l}: {}", String::from_utf8_lossy(&out.stderr));
        // "    Next elapse: Thu 2026-01-01 00:15:00 UTC" / "       Iter. #2: …"
        for line in text.lines().filter(|l| l.contains("Next elapse:") || l.contains("Iter. #")) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let n = words.len();
            all.push(format!("{}T{}+00:00", words[n - 3], words[n - 2]));
        }
    }
    all.sort();
    all.dedup();
    all.truncate(n);
    all
}

#[test]
fn systemd_runs_the_translated_timer_exactly_when_gokeep_says() {
    if !have("systemd-analyze") {
        eprintln!("systemd-analyze not installed: translations not checked against systemd");
        return;
    }
    let w = World::new();
    let exprs = [
        "0 2 * * *",
        "*/15 * * * *",
        "0 0 29 2 *",
        "0 3 * * 1-5",
        "0 3 1 * 1",
        "0 0 * * 7",
        "0 0 * * 5-7",
        "0 22 * * 1-5/2",
        "30 4 1,15 * *",
        "15 10 * jan,jul sun",
        "10,20 1-5 * * *",
        "5 */6 * * *",
        "0 0 */10 */3 *",
        "0 0 */2 * 1",
        "0 0 31 2 1",
        "7 */3 10-20 * 0,3",
        "@monthly",
        "@yearly",
    ];
    for e in exprs {
        let doc = json(&w.ok(&[
            "--json",
            "schedule",
            "validate",
            e,
            "--tz",
            "UTC",
            "--next",
            "25",
            "--after",
            "2026-01-01T00:00:00Z",
        ]));
        let ours: Vec<String> = doc["next_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().to_rfc3339())
            .collect();
        let lines: Vec<Value> = doc["on_calendar"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| Value::String(l.as_str().unwrap().trim_end_matches(" UTC").to_owned()))
            .collect();
        assert_eq!(systemd_runs(&lines, "2026-01-01 00:00:00 UTC", ours.len()), ours, "{e}: {lines:?}");
    }
}
