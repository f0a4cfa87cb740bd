//! Go toolchains that must outlive any prune: the one GOTOOLCHAIN pins, and
//! any a running process executes from.
//!
//! `go` switches to `golang.org/toolchain@v0.0.1-goX.Y.Z.GOOS-GOARCH` from the
//! module cache (`cmd/go/internal/toolchain`). Removing the pinned one makes
//! the next `go` command download it again, or fail offline; removing one a
//! build is running from pulls its compiler out from under it (`go clean
//! -modcache` has this defect, golang/go#62718). Both are kept whatever the
//! policy says, and the plan says why.

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::goenv::GoEnv;
use crate::layout::TOOLCHAIN_MODULE;

/// A cached toolchain version that is in use, and how gokeep knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InUse {
    /// `v0.0.1-go1.22.1.linux-amd64`.
    pub version: String,
    pub why: String,
}

/// The toolchain version GOTOOLCHAIN pins (`go1.22.1`, `go1.22.1+auto`,
/// `go1.22.1+path`); `local`, `auto`, `path` and inexact versions pin none.
#[must_use]
pub fn pinned_version(gotoolchain: &str) -> Option<String> {
    let name = gotoolchain.split_once('+').map_or(gotoolchain, |(n, _)| n);
    name.strip_prefix("go")?;
    crate::go::version::host_toolchain_version(name)
}

/// Every toolchain in use for the module cache at `modcache`: the one the
/// resolved GOTOOLCHAIN pins, and those a process is executing from.
#[must_use]
pub fn in_use(env: &GoEnv, modcache: &Path) -> Vec<InUse> {
    let mut out = Vec::new();
    if let Some(var) = env.vars.get("GOTOOLCHAIN")
        && let Some(version) = pinned_version(&var.value)
    {
        let why = format!("GOTOOLCHAIN={} ({}) pins it", var.value, var.source);
        out.push(InUse { version, why });
    }
    for (version, pid, exe) in running_from(Path::new("/proc"), modcache) {
        let why = format!("process {pid} is running {exe} from it");
        out.push(InUse { version, why });
    }
    out
}

/// `(version, pid, executable)` of each process under `proc_root` whose
/// executable lies in a cached toolchain's tree. Processes gokeep may not
/// inspect are skipped: they are not the user's own.
fn running_from(proc_root: &Path, modcache: &Path) -> Vec<(String, u32, String)> {
    let prefix = format!("{TOOLCHAIN_MODULE}@");
    let Ok(rd) = fs::read_dir(proc_root) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.filter_map(Result::ok) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(exe) = fs::read_link(e.path().join("exe")) else { continue };
        let Some(rest) = exe.strip_prefix(modcache).ok().and_then(Path::to_str) else { continue };
        let Some(version) = rest.strip_prefix(&prefix).and_then(|r| r.split('/').next()) else { continue };
        out.push((version.to_owned(), pid, exe.display().to_string()));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gotoolchain_forms_pin_only_exact_releases() {
        let host = |v: &str| crate::go::version::host_toolchain_version(v).unwrap();
        assert_eq!(pinned_version("go1.22.1"), Some(host("1.22.1")));
        assert_eq!(pinned_version("go1.22.1+auto"), Some(host("1.22.1")));
        assert_eq!(pinned_version("go1.23rc1+path"), Some(host("1.23rc1")));
        for none in ["local", "auto", "path", "", "go1.22", "go1.22+auto", "1.22.1", "default"] {
            assert_eq!(pinned_version(none), None, "{none}");
        }
    }

    #[test]
    fn this_process_is_not_running_from_a_toolchain() {
        let me = std::env::current_exe().unwrap();
        assert!(running_from(Path::new("/proc"), me.parent().unwrap()).is_empty());
    }
}
