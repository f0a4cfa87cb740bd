//! Named environment profiles (`dev`, `ci`, `prod`): sets of GOPROXY,
//! GOPRIVATE, GONOPROXY, GONOSUMDB, GOSUMDB, GOFLAGS, GOINSECURE,
//! GOTOOLCHAIN and optionally GOMODCACHE/GOCACHE, kept in TOML:
//!
//! ```toml
//! [profiles.ci]
//! GOPROXY = "https://athens.corp.example|https://proxy.golang.org,direct"
//! GOPRIVATE = "*.corp.example"
//! GOMODCACHE = "/var/cache/go/ci/mod"
//! ```
//!
//! Profiles come from `<user config dir>/gokeep/profiles.toml`, then the
//! repository's `gokeep.toml` (a profile of the same name there wins).
//! Applying one writes the GOENV file the way `go env -w` does
//! (`envcmd.updateEnvFile`), atomically, or renders shell `export` lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lint::{self, Finding, Severity};
use crate::goenv::{GoEnv, Source, Var};

/// The variables a profile may set.
pub const PROFILE_KEYS: &[&str] = &[
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOSUMDB",
    "GOFLAGS",
    "GOINSECURE",
    "GOTOOLCHAIN",
    "GOMODCACHE",
    "GOCACHE",
];

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: profile {profile}: {key} cannot be set by a profile (allowed: {})", PROFILE_KEYS.join(" "))]
    Key { path: PathBuf, profile: String, key: String },
    #[error("no profile named {0:?}")]
    Unknown(String),
    #[error("GOENV=off: there is no Go env file to write; use --shell to print export lines instead")]
    NoEnvFile,
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Profile {
    pub name: String,
    pub vars: BTreeMap<String, String>,
    /// The file it was read from.
    pub source: PathBuf,
}

/// Where profiles are looked for, lowest precedence first.
#[must_use]
pub fn default_paths(process: &BTreeMap<String, String>, cwd: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(dir) = crate::goenv::user_config_dir(process, crate::goenv::HostOs::current()) {
        out.push(PathBuf::from(dir).join("gokeep/profiles.toml"));
    }
    // The repository's file: the nearest gokeep.toml up to the module root.
    for d in cwd.ancestors() {
        if d.join("gokeep.toml").is_file() {
            out.push(d.join("gokeep.toml"));
            break;
        }
        if d.join("go.mod").is_file() || d.join(".git").exists() {
            break;
        }
    }
    out
}

/// Reads every profile from `paths` (missing files are skipped); a later
/// file's profile replaces an earlier one of the same name.
pub fn load(paths: &[PathBuf]) -> Result<BTreeMap<String, Profile>, ProfileError> {
    let mut out = BTreeMap::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ProfileError::Read { path: path.clone(), source }),
        };
        let file: File =
            toml::from_str(&text).map_err(|e| ProfileError::Parse { path: path.clone(), message: e.to_string() })?;
        for (name, vars) in file.profiles {
            if let Some(key) = vars.keys().find(|k| !PROFILE_KEYS.contains(&k.as_str())) {
                return Err(ProfileError::Key { path: path.clone(), profile: name, key: key.clone() });
            }
            out.insert(name.clone(), Profile { name, vars, source: path.clone() });
        }
    }
    Ok(out)
}

/// One variable a profile changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    pub key: String,
    pub current: String,
    pub current_source: Option<Source>,
    pub wanted: String,
}

/// The variables whose effective value differs from the profile's.
#[must_use]
pub fn diff(profile: &Profile, env: &GoEnv) -> Vec<Change> {
    profile
        .vars
        .iter()
        .filter_map(|(k, v)| {
            let cur = env.vars.get(k);
            let current = cur.map_or("", |c| c.value.as_str());
            (current != v).then(|| Change {
                key: k.clone(),
                current: current.to_owned(),
                current_source: cur.map(|c| c.source.clone()),
                wanted: v.clone(),
            })
        })
        .collect()
}

/// The environment as it would be with the profile written to the GOENV
/// file, and the doctor's findings about it. Derived values follow: a
/// profile setting GOPRIVATE alone moves GONOPROXY/GONOSUMDB with it.
#[must_use]
pub fn lint_profile(profile: &Profile, env: &GoEnv, inputs: &lint::Inputs) -> Vec<Finding> {
    let mut applied = env.clone();
    let file_source = Source::GoenvFile { path: PathBuf::from(env.get("GOENV").unwrap_or("")) };
    for (k, v) in &profile.vars {
        applied.vars.insert(k.clone(), Var { value: v.clone(), source: file_source.clone() });
    }
    if let Some(private) = profile.vars.get("GOPRIVATE") {
        for k in ["GONOPROXY", "GONOSUMDB"] {
            if !profile.vars.contains_key(k)
                && applied.vars.get(k).is_some_and(|v| matches!(v.source, Source::Derived { .. } | Source::Default))
            {
                applied.vars.insert(
                    k.into(),
                    Var { value: private.clone(), source: Source::Derived { from: "GOPRIVATE".into() } },
                );
            }
        }
    }
    let mut inputs = inputs.clone();
    inputs.file.extend(profile.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut out: Vec<Finding> = lint::lint(&applied, &inputs)
        .into_iter()
        // The environment overriding the file is about applying, not the profile.
        .filter(|f| f.rule != "env-overrides-file" || profile.vars.contains_key(&f.key))
        .collect();
    for key in ["GOMODCACHE", "GOCACHE"] {
        if let Some(v) =
            profile.vars.get(key).filter(|v| !(Path::new(v).is_absolute() || (key == "GOCACHE" && *v == "off")))
        {
            out.push(Finding {
                rule: "profile-relative-path",
                severity: Severity::Error,
                key: key.into(),
                message: format!("{key}={v:?} is not an absolute path: `go env -w` refuses it"),
                fix: None,
            });
        }
    }
    out
}

/// `KEY` of a `KEY=VALUE` line (`envcmd.lineToKey`).
fn line_key(line: &str) -> &str {
    match line.find('=') {
        Some(i) if !line[..i].contains('#') => &line[..i],
        _ => "",
    }
}

/// The env file's new text after `go env -w` of every pair in `add`
/// (`envcmd.updateEnvFile`): duplicates collapse onto their last line,
/// existing keys are updated in place, new keys appended, and each run of
/// `KEY=VALUE` lines is sorted by key. Comments and other lines stay.
#[must_use]
pub fn update_env_file(text: &str, add: &BTreeMap<String, String>) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut()
        && !last.ends_with('\n')
    {
        last.push('\n');
    }
    let mut prev: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..lines.len() {
        let key = line_key(&lines[i]).to_owned();
        if !key.is_empty() {
            if let Some(&p) = prev.get(&key) {
                lines[p].clear();
            }
            prev.insert(key, i);
        }
    }
    let mut appended = Vec::new();
    for (k, v) in add {
        match prev.get(k) {
            Some(&p) => lines[p] = format!("{k}={v}\n"),
            None => appended.push(format!("{k}={v}\n")),
        }
    }
    lines.extend(appended);
    let mut start = 0;
    for i in 0..=lines.len() {
        if i == lines.len() || line_key(&lines[i]).is_empty() {
            // A stable sort by key, as sort.Slice on these runs gives for distinct keys.
            lines[start..i].sort_by(|a, b| line_key(a).cmp(line_key(b)));
            start = i + 1;
        }
    }
    lines.concat()
}

/// Writes the profile into the GOENV file `env` names, atomically.
/// Returns the file written.
pub fn apply(profile: &Profile, env: &GoEnv) -> Result<PathBuf, ProfileError> {
    let path = PathBuf::from(env.get("GOENV").filter(|p| !p.is_empty()).ok_or(ProfileError::NoEnvFile)?);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ProfileError::Read { path, source }),
    };
    let new = update_env_file(&old, &profile.vars);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ProfileError::Write { path: path.clone(), source })?;
    }
    crate::fs::atomic::replace_file(&path, new.as_bytes())
        .map_err(|source| ProfileError::Write { path: path.clone(), source })?;
    Ok(path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Sh,
    Fish,
    Powershell,
}

/// `export` lines setting the profile's variables in `shell`.
#[must_use]
pub fn exports(profile: &Profile, shell: Shell) -> String {
    profile
        .vars
        .iter()
        .map(|(k, v)| match shell {
            Shell::Sh => format!("export {k}='{}'\n", v.replace('\'', r"'\''")),
            Shell::Fish => format!("set -gx {k} '{}'\n", v.replace('\\', r"\\").replace('\'', r"\'")),
            Shell::Powershell => format!("$env:{k} = '{}'\n", v.replace('\'', "''")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn env_file_update_follows_go_env_w() {
        let old = "# mine\nGOPROXY=a\nGOFLAGS=-x\nGOPROXY=b\n\nZZ=1\nGOAMD64=v3";
        let new = update_env_file(old, &vars(&[("GOPROXY", "c"), ("GOPRIVATE", "corp.example")]));
        // The earlier GOPROXY goes, the last is updated; new keys join the last run, which is sorted.
        assert_eq!(new, "# mine\nGOFLAGS=-x\nGOPROXY=c\n\nGOAMD64=v3\nGOPRIVATE=corp.example\nZZ=1\n");
        assert_eq!(update_env_file("", &vars(&[("GOSUMDB", "off")])), "GOSUMDB=off\n");
    }

    #[test]
    fn exports_quote_for_each_shell() {
        let p = Profile {
            name: "ci".into(),
            vars: vars(&[("GOPROXY", "a|b,direct"), ("GOFLAGS", "-tags=it's")]),
            source: PathBuf::new(),
        };
        assert_eq!(exports(&p, Shell::Sh), "export GOFLAGS='-tags=it'\\''s'\nexport GOPROXY='a|b,direct'\n");
        assert_eq!(exports(&p, Shell::Fish), "set -gx GOFLAGS '-tags=it\\'s'\nset -gx GOPROXY 'a|b,direct'\n");
        assert_eq!(exports(&p, Shell::Powershell), "$env:GOFLAGS = '-tags=it''s'\n$env:GOPROXY = 'a|b,direct'\n");
    }

    #[test]
    fn profiles_load_later_files_win_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user.toml");
        let repo = dir.path().join("gokeep.toml");
        std::fs::write(&user, "[profiles.ci]\nGOPROXY = \"off\"\n[profiles.dev]\nGOFLAGS = \"-mod=mod\"\n").unwrap();
        std::fs::write(&repo, "[profiles.ci]\nGOPROXY = \"https://proxy.golang.org,direct\"\n").unwrap();
        let p = load(&[user.clone(), repo.clone(), dir.path().join("missing.toml")]).unwrap();
        assert_eq!(p["ci"].vars["GOPROXY"], "https://proxy.golang.org,direct");
        assert_eq!(p["ci"].source, repo);
        assert_eq!(p["dev"].source, user);
        std::fs::write(&repo, "[profiles.x]\nGOPATH = \"/x\"\n").unwrap();
        let e = load(&[repo]).unwrap_err().to_string();
        assert!(e.contains("profile x: GOPATH cannot be set by a profile"), "{e}");
    }

    #[test]
    fn profiles_are_linted_with_derived_values_and_relative_caches() {
        let mut env = GoEnv::default();
        env.vars
            .insert("GOPROXY".into(), Var { value: "https://proxy.golang.org,direct".into(), source: Source::Default });
        env.vars.insert("GOSUMDB".into(), Var { value: "sum.golang.org".into(), source: Source::Default });
        env.vars.insert("GONOPROXY".into(), Var { value: String::new(), source: Source::Default });
        env.vars.insert("GONOSUMDB".into(), Var { value: String::new(), source: Source::Default });
        let p = Profile {
            name: "ci".into(),
            vars: vars(&[
                ("GOPRIVATE", "corp.example"),
                ("GOMODCACHE", "cache/mod"),
                ("GOPROXY", "a.example,b.example"),
            ]),
            source: PathBuf::new(),
        };
        let findings = lint_profile(&p, &env, &lint::Inputs::default());
        let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, vec!["goproxy-comma-no-fallback", "profile-relative-path"]);
    }
}
