//! Every user's Go caches on a host, for a system timer (`--discover`).
//!
//! On a shared build host each user and each CI runner has its own
//! GOMODCACHE and GOCACHE. Go trims only the build cache of whoever runs it
//! and nothing trims module caches, so a timer running as root finds them:
//!
//! - in each home directory of the passwd file ([`passwd`]): Go's defaults
//!   `~/go/pkg/mod` and `~/.cache/go-build`, and what the user's `go env -w`
//!   file (`~/.config/go/env`) sets through GOMODCACHE, GOCACHE or GOPATH;
//! - in systemd user units ([`units`]): `Environment=` GOMODCACHE, GOCACHE or
//!   GOPATH of `~/.config/systemd/user/*.service` and, for every user,
//!   `/etc/systemd/user/*.service`;
//! - at the policy's `[discover] globs` (CI runners' work directories).
//!
//! ## What makes a candidate a cache, and whose
//! Everything a user can write is a claim, not a fact: `~/go` may be a link
//! into someone else's home, `go env -w GOMODCACHE=` may name any directory.
//! So each candidate is resolved one component at a time
//! ([`crate::fs::owner::trace`]) and refused, with its reason, when
//!
//! - the directory it resolves to is owned by someone other than the user
//!   whose home, env file or unit named it (for a glob: by someone other than
//!   the owner of what it matched), or a symbolic link on the way belongs to
//!   someone other than that owner or root: a link into another user's files
//!   is not followed;
//! - the owner could not reach it (a directory above it they may not search);
//! - it is not recognised as a Go cache by [`crate::fs::remove`] (the same
//!   recognition every command applies before it touches a cache).
//!
//! Nothing here deletes. Pruning a discovered cache is done by a gokeep
//! process running as the cache's owner ([`command_as`]), which recognises
//! the root again with only that user's rights: a root swapped after these
//! checks leads the owner only where the owner could already write.
//!
//! A caller that is not root sees only what it may read: a cache it cannot
//! read is refused as unreadable, and [`Discovery::viewer`] says who looked.

pub mod passwd;
pub mod units;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::fs::owner;
use crate::fs::remove::{self, CacheRoot, Refusal};
use crate::go::pattern::path_match;
use crate::goenv::{self, FileContents, HostOs, Inputs};
use crate::layout::CacheKind;
use crate::policy::DiscoverPolicy;

use passwd::Account;

/// Host-wide user units: every user's systemd instance reads them.
pub const HOST_USER_UNITS: &str = "/etc/systemd/user";

/// Where a user's `go env -w` file is, below their home, when nothing in
/// their login environment moves it.
const GO_ENV_FILE: &str = ".config/go/env";

/// A user's own user units, below their home.
const USER_UNITS: &str = ".config/systemd/user";

/// The most directories one glob may match: a pattern that matches a whole
/// file system is a mistake, not a list of caches.
const MAX_GLOB_MATCHES: usize = 10_000;

/// Who a cache belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
    /// The account name, when the passwd file has the uid.
    pub name: Option<String>,
    /// The account's home, when the passwd file has the uid.
    pub home: Option<PathBuf>,
}

impl Owner {
    fn of(a: &Account) -> Owner {
        Owner { uid: a.uid, gid: a.gid, name: Some(a.name.clone()), home: Some(a.home.clone()) }
    }

    /// The owner of a file: the passwd account with its uid, else the bare ids.
    fn of_uid(uid: u32, gid: u32, accounts: &[Account]) -> Owner {
        accounts.iter().find(|a| a.uid == uid).map_or(Owner { uid, gid, name: None, home: None }, Owner::of)
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} (uid {})", self.uid),
            None => write!(f, "uid {}", self.uid),
        }
    }
}

/// How a candidate was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum FoundBy {
    /// Go's default location in this home.
    Home { home: PathBuf },
    /// The user's `go env -w` file.
    GoEnvFile { path: PathBuf },
    /// `Environment=` of this systemd unit.
    Unit { path: PathBuf },
    /// This `[discover] globs` pattern.
    Glob { pattern: String },
}

impl std::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FoundBy::Home { home } => write!(f, "home {}", home.display()),
            FoundBy::GoEnvFile { path } => write!(f, "go env file {}", path.display()),
            FoundBy::Unit { path } => write!(f, "unit {}", path.display()),
            FoundBy::Glob { pattern } => write!(f, "glob {pattern}"),
        }
    }
}

/// A recognised cache and its owner.
#[derive(Debug, Clone)]
pub struct Cache {
    pub root: CacheRoot,
    pub owner: Owner,
    pub found_by: Vec<FoundBy>,
}

/// A candidate that is not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refused {
    /// As it was named.
    pub path: PathBuf,
    /// The cache it was expected to be; `None` for a glob match.
    pub kind: Option<CacheKind>,
    /// The user it was found for; `None` for a glob match owned by nobody
    /// the checks could settle on.
    pub owner: Option<Owner>,
    pub found_by: Vec<FoundBy>,
    pub reason: String,
}

/// What a discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// Sorted by owner uid, kind, root.
    pub caches: Vec<Cache>,
    pub refused: Vec<Refused>,
    /// The effective uid that looked: anything but 0 sees only what it may read.
    pub viewer: u32,
    /// Candidates a viewer other than root was not allowed to look at: not
    /// listed one by one (every private home would be one).
    pub unreadable: usize,
    /// The homes searched (each owned by its account), for a host-wide unit.
    pub homes: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("cannot read the accounts file {}: {source}", path.display())]
    Passwd { path: PathBuf, source: std::io::Error },
}

/// A place that may hold a cache, before any check.
#[derive(Debug, Clone)]
struct Candidate {
    path: PathBuf,
    kind: Option<CacheKind>,
    /// Whose it must be; `None`: whoever owns what it resolves to.
    owner: Option<Owner>,
    found_by: Vec<FoundBy>,
    /// Why it cannot even be looked at (a unit whose environment did not expand).
    problem: Option<String>,
}

/// Finds the caches `policy` points at (see the module docs).
///
/// # Errors
/// The passwd file cannot be read while homes or units are to be searched.
pub fn discover(policy: &DiscoverPolicy) -> Result<Discovery, DiscoverError> {
    let viewer = rustix::process::geteuid().as_raw();
    let accounts = match passwd::read(&policy.passwd) {
        Ok(a) => a,
        // Globs alone need the file only to name owners.
        Err(_) if !policy.homes && !policy.units => Vec::new(),
        Err(source) => return Err(DiscoverError::Passwd { path: policy.passwd.clone(), source }),
    };
    let mut candidates = Vec::new();
    let homes = homes(&accounts);
    if policy.homes {
        for a in &homes {
            home_candidates(a, &mut candidates);
        }
    }
    if policy.units {
        for a in &homes {
            user_unit_candidates(a, &mut candidates);
        }
        host_unit_candidates(Path::new(HOST_USER_UNITS), &homes, &mut candidates);
    }
    for pattern in &policy.globs {
        for path in expand_glob(pattern) {
            candidates.push(Candidate {
                path,
                kind: None,
                owner: None,
                found_by: vec![FoundBy::Glob { pattern: pattern.clone() }],
                problem: None,
            });
        }
    }
    let mut found: Vec<Cache> = Vec::new();
    let mut refused = Vec::new();
    let mut unreadable = 0;
    for c in merge(candidates) {
        match check(&c, &accounts) {
            Checked::Cache(cache) => match found.iter_mut().find(|f| f.root == cache.root) {
                Some(f) if f.owner.uid == cache.owner.uid => {
                    f.found_by.extend(cache.found_by);
                    f.found_by.sort();
                    f.found_by.dedup();
                }
                Some(_) => refused.push(refuse(&c, "another user's candidate resolves to the same directory".into())),
                None => found.push(cache),
            },
            Checked::Refused(r) if viewer != 0 && r.denied => unreadable += 1,
            Checked::Refused(r) => refused.push(r.refused),
            Checked::Absent => {}
        }
    }
    found.sort_by(|a, b| {
        (a.owner.uid, kind_rank(a.root.kind()), a.root.path()).cmp(&(
            b.owner.uid,
            kind_rank(b.root.kind()),
            b.root.path(),
        ))
    });
    refused.sort_by(|a, b| a.path.cmp(&b.path));
    let homes = if policy.homes || policy.units { homes.iter().map(|a| a.home.clone()).collect() } else { Vec::new() };
    Ok(Discovery { caches: found, refused, viewer, unreadable, homes })
}

fn kind_rank(k: CacheKind) -> u8 {
    match k {
        CacheKind::ModCache => 0,
        CacheKind::BuildCache => 1,
    }
}

/// The accounts whose home exists and is theirs (several system accounts
/// share `/` or `/usr/sbin`; such a home is nobody's to search).
/// Where the owners' runs of a host-wide prune write, for a system unit's
/// `ReadWritePaths=`: the directories holding the homes (so a user added
/// after the unit was written is covered too), the fixed part of each glob,
/// and every cache `discovery` found (a unit's cache may be anywhere).
#[must_use]
pub fn writable_roots(policy: &DiscoverPolicy, discovery: &Discovery) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = discovery.homes.iter().map(|h| h.parent().unwrap_or(h).to_owned()).collect();
    for g in &policy.globs {
        let fixed: PathBuf = Path::new(g)
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
            .collect();
        out.push(fixed);
    }
    out.extend(discovery.caches.iter().map(|c| c.root.path().to_owned()));
    out.sort();
    out.dedup();
    // A directory below another one listed adds nothing.
    let all = out.clone();
    out.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q)));
    out
}

fn homes(accounts: &[Account]) -> Vec<&Account> {
    let mut out: Vec<&Account> = Vec::new();
    for a in accounts {
        let theirs = std::fs::metadata(&a.home).is_ok_and(|m| m.is_dir() && m.uid() == a.uid);
        if theirs && !out.iter().any(|o| o.home == a.home) {
            out.push(a);
        }
    }
    out
}

/// GOMODCACHE and GOCACHE as Go resolves them for a user with this home,
/// this environment and this `go env -w` file.
fn go_dirs(home: &Path, vars: &BTreeMap<String, String>, env_file: Option<&str>) -> (Option<PathBuf>, Option<PathBuf>) {
    let mut env = BTreeMap::from([("HOME".to_owned(), home.display().to_string())]);
    env.extend(vars.iter().filter(|(k, _)| k.as_str() != "GOENV").map(|(k, v)| (k.clone(), v.clone())));
    let resolved = goenv::resolve(&Inputs {
        env,
        os: HostOs::Unix,
        user_file: env_file.map_or(FileContents::Missing, |t| FileContents::Text(t.to_owned())),
        goroot: None,
        goroot_env: FileContents::Missing,
        go_version: None,
    });
    (resolved.modcache_dir().ok(), resolved.gocache_dir().ok())
}

fn push(out: &mut Vec<Candidate>, path: Option<PathBuf>, kind: CacheKind, owner: Option<Owner>, by: &FoundBy) {
    if let Some(path) = path {
        out.push(Candidate { path, kind: Some(kind), owner, found_by: vec![by.clone()], problem: None });
    }
}

fn home_candidates(a: &Account, out: &mut Vec<Candidate>) {
    let owner = Owner::of(a);
    let by = FoundBy::Home { home: a.home.clone() };
    let (mod_default, build_default) = go_dirs(&a.home, &BTreeMap::new(), None);
    push(out, mod_default.clone(), CacheKind::ModCache, Some(owner.clone()), &by);
    push(out, build_default.clone(), CacheKind::BuildCache, Some(owner.clone()), &by);
    let Ok(Some(text)) = owner::read_beneath(&a.home, Path::new(GO_ENV_FILE), a.uid) else { return };
    let by = FoundBy::GoEnvFile { path: a.home.join(GO_ENV_FILE) };
    let (m, b) = go_dirs(&a.home, &BTreeMap::new(), Some(&text));
    push(out, m.filter(|m| Some(m) != mod_default.as_ref()), CacheKind::ModCache, Some(owner.clone()), &by);
    push(out, b.filter(|b| Some(b) != build_default.as_ref()), CacheKind::BuildCache, Some(owner), &by);
}

/// The caches a unit's environment names, for one user; nothing when the
/// unit sets none of GOMODCACHE, GOCACHE, GOPATH.
fn unit_dirs(vars: &BTreeMap<String, String>, a: &Account) -> (Option<PathBuf>, Option<PathBuf>) {
    let env_file = owner::read_beneath(&a.home, Path::new(GO_ENV_FILE), a.uid).ok().flatten();
    let (m, b) = go_dirs(&a.home, vars, env_file.as_deref());
    let sets = |k: &str| vars.get(k).is_some_and(|v| !v.is_empty());
    (m.filter(|_| sets("GOMODCACHE") || sets("GOPATH")), b.filter(|_| sets("GOCACHE")))
}

fn unit_candidates(path: &Path, text: &str, a: &Account, host_wide: bool, out: &mut Vec<Candidate>) {
    let home = a.home.display().to_string();
    let spec = units::Specifiers { user: &a.name, uid: a.uid, gid: a.gid, home: &home };
    let by = FoundBy::Unit { path: path.to_owned() };
    match units::environment(text, &spec) {
        Ok((vars, user_specific)) => {
            // A host-wide unit that names one fixed directory names it for
            // every user: whoever owns it is its owner.
            let owner = (user_specific || !host_wide).then(|| Owner::of(a));
            let (m, b) = unit_dirs(&vars, a);
            push(out, m, CacheKind::ModCache, owner.clone(), &by);
            push(out, b, CacheKind::BuildCache, owner, &by);
        }
        // Said once for a host-wide unit, not once per user.
        Err(e) => out.push(Candidate {
            path: path.to_owned(),
            kind: None,
            owner: (!host_wide).then(|| Owner::of(a)),
            found_by: vec![by],
            problem: Some(format!("its Environment= cannot be read: {e}")),
        }),
    }
}

fn is_service(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| n.ends_with(".service") && !n.starts_with('.'))
}

fn user_unit_candidates(a: &Account, out: &mut Vec<Candidate>) {
    let dir = Path::new(USER_UNITS);
    for name in owner::list_beneath(&a.home, dir, a.uid).unwrap_or_default() {
        if !is_service(&name) {
            continue;
        }
        let rel = dir.join(&name);
        if let Ok(Some(text)) = owner::read_beneath(&a.home, &rel, a.uid) {
            unit_candidates(&a.home.join(&rel), &text, a, false, out);
        }
    }
}

fn host_unit_candidates(dir: &Path, homes: &[&Account], out: &mut Vec<Candidate>) {
    for name in owner::list_beneath(dir, Path::new(""), 0).unwrap_or_default() {
        if !is_service(&name) {
            continue;
        }
        if let Ok(Some(text)) = owner::read_beneath(dir, Path::new(&name), 0) {
            for a in homes {
                unit_candidates(&dir.join(&name), &text, a, true, out);
            }
        }
    }
}

/// The existing paths an absolute glob matches; `*`, `?` and `[..]` match
/// within one path element, as in Go's `path.Match`.
fn expand_glob(pattern: &str) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/")];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let wild = part.contains(['*', '?', '[', '\\']);
        let mut next = Vec::new();
        for dir in &paths {
            if !wild {
                let p = dir.join(part);
                if std::fs::symlink_metadata(&p).is_ok() {
                    next.push(p);
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
            names.sort();
            for name in names {
                if name.to_str().is_some_and(|n| path_match(part, n).unwrap_or(false)) {
                    next.push(dir.join(name));
                }
            }
        }
        next.truncate(MAX_GLOB_MATCHES);
        paths = next;
    }
    paths
}

/// One candidate per (path, kind, owner), with every way it was found.
fn merge(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in candidates {
        let uid = c.owner.as_ref().map(|o| o.uid);
        match out.iter_mut().find(|o| o.path == c.path && o.kind == c.kind && o.owner.as_ref().map(|o| o.uid) == uid) {
            Some(o) => {
                for b in c.found_by {
                    if !o.found_by.contains(&b) {
                        o.found_by.push(b);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

enum Checked {
    Cache(Cache),
    Refused(Box<Refusing>),
    /// Not there: Go creates its caches on first use.
    Absent,
}

/// A refusal, and whether it came from a permission the looker lacks.
struct Refusing {
    refused: Refused,
    denied: bool,
}

fn refuse(c: &Candidate, reason: String) -> Refused {
    Refused { path: c.path.clone(), kind: c.kind, owner: c.owner.clone(), found_by: c.found_by.clone(), reason }
}

fn name_of(uid: u32, accounts: &[Account]) -> String {
    accounts.iter().find(|a| a.uid == uid).map_or_else(|| format!("uid {uid}"), |a| format!("{} (uid {uid})", a.name))
}

/// Decides one candidate (see the module docs for the rules).
fn check(c: &Candidate, accounts: &[Account]) -> Checked {
    let refused = |reason: String| Checked::Refused(Box::new(Refusing { refused: refuse(c, reason), denied: false }));
    let denied = |reason: String| Checked::Refused(Box::new(Refusing { refused: refuse(c, reason), denied: true }));
    if let Some(problem) = &c.problem {
        return refused(problem.clone());
    }
    let trace = match owner::trace(&c.path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Checked::Absent,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => return denied(format!("cannot resolve it: {e}")),
        Err(e) => return refused(format!("cannot resolve it: {e}")),
    };
    let md = match std::fs::metadata(&trace.resolved) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Checked::Absent,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            return denied(format!("cannot read {}: {e}", trace.resolved.display()));
        }
        Err(e) => return refused(format!("cannot read {}: {e}", trace.resolved.display())),
    };
    if !md.is_dir() {
        return refused(format!("{} is not a directory", trace.resolved.display()));
    }
    let owner = c.owner.clone().unwrap_or_else(|| Owner::of_uid(md.uid(), md.gid(), accounts));
    let via =
        trace.links.first().map(|l| format!(" through the symbolic link {}", l.link.display())).unwrap_or_default();
    if md.uid() != owner.uid {
        return refused(format!(
            "it leads{via} to {}, owned by {}, not by {owner}: another user's files are not followed",
            trace.resolved.display(),
            name_of(md.uid(), accounts)
        ));
    }
    if let Some(l) = trace.links.iter().find(|l| l.uid != 0 && l.uid != owner.uid) {
        return refused(format!(
            "the symbolic link {} on the way belongs to {}, not to {owner} or root: it is not followed",
            l.link.display(),
            name_of(l.uid, accounts)
        ));
    }
    match owner::search_denied(&trace.resolved, owner.uid, owner.gid) {
        Ok(None) => {}
        Ok(Some(dir)) => {
            return refused(format!(
                "{owner} cannot reach {}{via}: {} is not searchable by them",
                trace.resolved.display(),
                dir.display()
            ));
        }
        Err(e) => return refused(format!("cannot read the directories above {}: {e}", trace.resolved.display())),
    }
    let recognised = match c.kind {
        Some(CacheKind::ModCache) => remove::recognise_modcache(&trace.resolved),
        Some(CacheKind::BuildCache) => remove::recognise_gocache(&trace.resolved),
        None => remove::recognise_modcache(&trace.resolved).or_else(|e| match e {
            Refusal::NotAModCache { .. } => remove::recognise_gocache(&trace.resolved),
            e => Err(e),
        }),
    };
    let root = match recognised {
        Ok(r) => r,
        Err(Refusal::Missing { .. }) => return Checked::Absent,
        // Go's default locations exist empty on some hosts (made by
        // provisioning); an empty directory holds nothing to prune.
        Err(Refusal::NotAModCache { .. } | Refusal::NotABuildCache { .. })
            if c.kind.is_some() && std::fs::read_dir(&trace.resolved).is_ok_and(|mut d| d.next().is_none()) =>
        {
            return Checked::Absent;
        }
        Err(Refusal::NotABuildCache { .. }) if c.kind.is_none() => {
            return refused(format!(
                "{} is not a Go cache: neither a module cache (no cache/download directory) nor a build cache \
                 (no Go README and not the 256 shard directories)",
                trace.resolved.display()
            ));
        }
        Err(e @ Refusal::Unreadable { .. }) if matches!(&e, Refusal::Unreadable { source, .. } if source.kind() == ErrorKind::PermissionDenied) =>
        {
            return denied(e.to_string());
        }
        Err(e) => return refused(e.to_string()),
    };
    if root.path() != trace.resolved {
        return refused(format!("{} changed while it was being checked", trace.resolved.display()));
    }
    match root.owner_uid() {
        Ok(uid) if uid == owner.uid => {}
        Ok(uid) => return refused(format!("{} changed owner to {}", root.path().display(), name_of(uid, accounts))),
        Err(e) => return refused(format!("cannot read {}: {e}", root.path().display())),
    }
    Checked::Cache(Cache { root, owner, found_by: c.found_by.clone() })
}

/// `program` prepared to run as `owner`: a cleared environment with the
/// owner's HOME, USER and LOGNAME (so their gokeep state, `~` and Go
/// defaults are theirs) and PATH, the working directory `/`, and, when the
/// caller is someone else (root), the owner's uid and primary gid. Setting
/// the uid as root makes the standard library drop every supplementary
/// group (`setgroups(0)`) before `setuid`, so root's groups do not go along.
#[must_use]
pub fn command_as(program: &Path, owner: &Owner) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear().current_dir("/");
    if let Some(home) = &owner.home {
        cmd.env("HOME", home);
    }
    if let Some(name) = &owner.name {
        cmd.env("USER", name).env("LOGNAME", name);
    }
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    if rustix::process::geteuid().as_raw() != owner.uid {
        cmd.gid(owner.gid).uid(owner.uid);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_one_element() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        for d in ["r1/go/pkg/mod", "r2/go/pkg/mod", "r3/go/other", "x/y/go/pkg/mod"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let found = expand_glob(&format!("{}/*/go/pkg/mod", base.display()));
        assert_eq!(found, [base.join("r1/go/pkg/mod"), base.join("r2/go/pkg/mod")]);
        assert_eq!(
            expand_glob(&format!("{}/r[2-3]/go/*", base.display())),
            [base.join("r2/go/pkg"), base.join("r3/go/other")]
        );
        assert!(expand_glob(&format!("{}/none/*", base.display())).is_empty());
    }

    #[test]
    fn a_users_go_env_file_moves_their_caches() {
        let (m, b) = go_dirs(Path::new("/home/ci"), &BTreeMap::new(), None);
        assert_eq!(
            (m.unwrap(), b.unwrap()),
            (PathBuf::from("/home/ci/go/pkg/mod"), PathBuf::from("/home/ci/.cache/go-build"))
        );
        let (m, b) = go_dirs(
            Path::new("/home/ci"),
            &BTreeMap::new(),
            Some("GOPATH=/data/ci/go:/other\nGOCACHE=/data/ci/build\n"),
        );
        assert_eq!((m.unwrap(), b.unwrap()), (PathBuf::from("/data/ci/go/pkg/mod"), PathBuf::from("/data/ci/build")));
        // The unit's environment wins over the file, as the process environment does for go.
        let vars = BTreeMap::from([("GOMODCACHE".to_owned(), "/unit/mod".to_owned())]);
        let (m, _) = go_dirs(Path::new("/home/ci"), &vars, Some("GOMODCACHE=/file/mod\n"));
        assert_eq!(m.unwrap(), PathBuf::from("/unit/mod"));
    }

    /// As root the child runs with the owner's ids and no supplementary
    /// group; as anyone else it runs as the caller.
    #[test]
    fn command_as_drops_to_the_owner_without_supplementary_groups() {
        let me = rustix::process::geteuid().as_raw();
        let (uid, gid) = if me == 0 { (65534, 65534) } else { (me, rustix::process::getegid().as_raw()) };
        let owner = Owner { uid, gid, name: Some("someone".into()), home: Some("/nonexistent".into()) };
        let out = command_as(Path::new("/bin/sh"), &owner)
            .args(["-c", "echo $(id -u) $(id -G) $HOME $USER"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        if me == 0 {
            assert_eq!(text.trim(), "65534 65534 /nonexistent someone");
        } else {
            assert!(text.starts_with(&format!("{me} ")), "{text}");
        }
    }
}
