//! The effective Go environment, resolved the way `go env` does it.
//! (Being written; the interface below is what the rest of gokeep uses.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum Source {
    Env,
    GoenvFile(PathBuf),
    GorootEnv(PathBuf),
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Var {
    pub value: String,
    pub source: Source,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{key}={value} is not an absolute path")]
    NotAbsolute { key: &'static str, value: String },
    #[error("GOCACHE is off: Go has no build cache")]
    CacheOff,
    #[error("cannot determine {key}: {reason}")]
    Undetermined { key: &'static str, reason: String },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GoEnv {
    pub vars: BTreeMap<String, Var>,
}

impl GoEnv {
    #[must_use]
    pub fn from_process() -> Self {
        let mut vars = BTreeMap::new();
        for key in ["GOMODCACHE", "GOCACHE", "GOPATH"] {
            if let Some(v) = std::env::var_os(key).filter(|v| !v.is_empty()) {
                vars.insert(key.to_owned(), Var { value: v.to_string_lossy().into_owned(), source: Source::Env });
            }
        }
        Self { vars }
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(|v| v.value.as_str())
    }

    pub fn modcache_dir(&self) -> Result<PathBuf, EnvError> {
        let v = self.get("GOMODCACHE").ok_or(EnvError::Undetermined { key: "GOMODCACHE", reason: "unset".into() })?;
        let p = PathBuf::from(v);
        if p.is_absolute() { Ok(p) } else { Err(EnvError::NotAbsolute { key: "GOMODCACHE", value: v.into() }) }
    }

    pub fn gocache_dir(&self) -> Result<PathBuf, EnvError> {
        let v = self.get("GOCACHE").ok_or(EnvError::Undetermined { key: "GOCACHE", reason: "unset".into() })?;
        if v == "off" {
            return Err(EnvError::CacheOff);
        }
        let p = PathBuf::from(v);
        if p.is_absolute() { Ok(p) } else { Err(EnvError::NotAbsolute { key: "GOCACHE", value: v.into() }) }
    }
}
