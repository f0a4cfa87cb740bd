//! Arguments and the Go environment, turned once into the settings every
//! subcommand reads. The Go environment is resolved here and nowhere else in
//! the binary, so two parts of one run cannot see two different GOENV files
//! or disagree about which cache a flag replaced.

use std::path::PathBuf;

use anyhow::Context;

use gokeep::goenv::{EnvError, GoEnv};
use gokeep::layout::CacheKind;

use super::GlobalArgs;

/// What a subcommand works with, built once from the command line and the
/// Go environment (process variables, the GOENV file, Go's defaults).
#[derive(Debug)]
pub struct Settings {
    pub env: GoEnv,
    /// `--modcache DIR`: replaces GOMODCACHE for this run.
    modcache_flag: Option<PathBuf>,
    /// `--gocache DIR`: replaces GOCACHE for this run.
    gocache_flag: Option<PathBuf>,
    /// A scheduled run: skip instead of waiting when another run holds the lock.
    pub if_idle: bool,
    /// `--threads N` as given, for a child gokeep run on the user's behalf.
    pub threads: Option<u16>,
}

/// A cache directory and where its name came from. A cache named on the
/// command line must exist (a typo is an error, exit 4); one from the Go
/// environment may not exist yet, since go creates both caches lazily.
#[derive(Debug, Clone)]
pub struct CacheDir {
    pub path: PathBuf,
    pub from_flag: bool,
}

impl Settings {
    pub fn load(global: &GlobalArgs) -> Self {
        Self::with_env(global, GoEnv::from_process())
    }

    fn with_env(global: &GlobalArgs, env: GoEnv) -> Self {
        Self {
            env,
            modcache_flag: global.modcache.clone(),
            gocache_flag: global.gocache.clone(),
            if_idle: global.if_idle,
            threads: global.threads,
        }
    }

    /// The module cache: `--modcache`, else GOMODCACHE as Go resolves it.
    pub fn modcache(&self) -> anyhow::Result<CacheDir> {
        match &self.modcache_flag {
            Some(p) => Ok(CacheDir { path: p.clone(), from_flag: true }),
            None => Ok(CacheDir {
                path: self.env.modcache_dir().context("resolving GOMODCACHE (use --modcache DIR to choose one)")?,
                from_flag: false,
            }),
        }
    }

    /// The build cache: `--gocache`, else GOCACHE as Go resolves it; `None`
    /// when GOCACHE=off.
    pub fn gocache(&self) -> anyhow::Result<Option<CacheDir>> {
        match &self.gocache_flag {
            Some(p) => Ok(Some(CacheDir { path: p.clone(), from_flag: true })),
            None => match self.env.gocache_dir() {
                Ok(path) => Ok(Some(CacheDir { path, from_flag: false })),
                Err(EnvError::CacheOff) => Ok(None),
                Err(e) => Err(e).context("resolving GOCACHE (use --gocache DIR to choose one)"),
            },
        }
    }

    /// Whether the cache of `kind` was named with `--modcache`/`--gocache`.
    pub fn named_on_command_line(&self, kind: CacheKind) -> bool {
        match kind {
            CacheKind::ModCache => self.modcache_flag.is_some(),
            CacheKind::BuildCache => self.gocache_flag.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str], vars: &[(&str, &str)]) -> Settings {
        let cli = super::super::Cli::parse_from(args);
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let env = GoEnv::from_env(vars, gokeep::goenv::HostOs::Unix);
        Settings::with_env(&cli.global, env)
    }

    #[test]
    fn a_flag_replaces_the_go_environment_and_is_remembered_as_named() {
        let s =
            settings(&["gokeep", "--modcache", "/m", "status"], &[("GOMODCACHE", "/env/mod"), ("GOCACHE", "/env/b")]);
        let m = s.modcache().unwrap();
        assert_eq!((m.path, m.from_flag), (PathBuf::from("/m"), true));
        let g = s.gocache().unwrap().unwrap();
        assert_eq!((g.path, g.from_flag), (PathBuf::from("/env/b"), false));
        assert!(s.named_on_command_line(CacheKind::ModCache));
        assert!(!s.named_on_command_line(CacheKind::BuildCache));
    }

    #[test]
    fn gocache_off_is_no_build_cache_not_an_error() {
        let s = settings(&["gokeep", "status"], &[("GOMODCACHE", "/env/mod"), ("GOCACHE", "off")]);
        assert!(s.gocache().unwrap().is_none());
    }
}
