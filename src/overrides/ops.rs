//! Link and unlink against the file system: plan from what the files hold,
//! then apply under the consumer's lock, writing each user file by temp file
//! and rename (the file is either the old or the new bytes, whatever stops
//! gokeep), keeping its mode.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::inspect::{self, Settings};
use super::plan::{self, Revert};
use super::state::{self, LinkRecord, Records};
use super::{Mode, OverrideError};
use crate::go::modfile::{ModFile, WorkFile};
use crate::go::version;
use crate::timestamp::Timestamp;

/// The file's bytes, `None` if it does not exist.
pub fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, OverrideError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OverrideError::Read { path: path.to_owned(), source: e }),
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, OverrideError> {
    fs::canonicalize(dir).map_err(|e| OverrideError::Read { path: dir.to_owned(), source: e })
}

/// The module Go would take `dir` to be in: the nearest go.mod at or above it.
pub fn find_consumer(dir: &Path) -> Result<PathBuf, OverrideError> {
    let start = canonical(dir)?;
    start
        .ancestors()
        .find(|d| d.join("go.mod").is_file())
        .map(Path::to_path_buf)
        .ok_or(OverrideError::NoConsumer { dir: start })
}

/// The module a directory declares, with its parsed go.mod.
fn read_module(dir: &Path) -> Result<(ModFile, String), OverrideError> {
    let file = dir.join("go.mod");
    let Some(data) = read_opt(&file)? else { return Err(OverrideError::NoGoMod { dir: dir.to_owned() }) };
    let f = ModFile::parse(&file.display().to_string(), &data)?;
    let path = f.module.as_ref().map(|m| m.path.clone()).filter(|p| !p.is_empty());
    let path = path.ok_or(OverrideError::NoModulePath { file })?;
    Ok((f, path))
}

fn check_writable(path: &Path) -> Result<(), OverrideError> {
    match fs::metadata(path) {
        Ok(md) if md.permissions().mode() & 0o222 == 0 => Err(OverrideError::ReadOnly { path: path.to_owned() }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OverrideError::Read { path: path.to_owned(), source: e }),
    }
}

/// What `gokeep link` was asked.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    /// A directory in the consuming module.
    pub project: PathBuf,
    /// The local checkout.
    pub target: PathBuf,
    pub mode: Mode,
    pub version: Option<String>,
    /// Link even if the consumer does not require the module.
    pub force: bool,
}

/// A link, planned: the one file it changes and how.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LinkPlan {
    pub consumer: PathBuf,
    pub consumer_module: String,
    pub module: String,
    pub target: PathBuf,
    pub mode: Mode,
    pub version: Option<String>,
    pub file: PathBuf,
    pub creates_file: bool,
    pub written_path: String,
    /// Set when there is nothing to change (the go.work uses the directory already).
    pub nothing_to_do: Option<String>,
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub before: Option<Vec<u8>>,
    #[serde(skip)]
    pub after: Vec<u8>,
    #[serde(skip)]
    pub extra_uses: Vec<String>,
    #[serde(skip)]
    pub previous: Option<(String, String)>,
    /// The record of this very link is there and the file is not written
    /// yet: a link stopped between the two; applying only writes the file.
    #[serde(skip)]
    pub resumes: bool,
}

impl LinkPlan {
    #[must_use]
    pub fn diff(&self) -> String {
        plan::unified_diff(&self.file, self.before.as_deref(), Some(&self.after))
    }
}

/// Where a work-mode link writes: the go.work Go would use, else a new one
/// beside the consumer's go.mod.
fn work_file_for(consumer: &Path, settings: &Settings) -> PathBuf {
    match settings.gowork.as_deref() {
        Some(p) if p != "off" && p != "auto" && !p.is_empty() && Path::new(p).is_absolute() => PathBuf::from(p),
        _ => inspect::find_go_work(consumer, settings).unwrap_or_else(|| consumer.join("go.work")),
    }
}

/// Plans a link; reads files, writes nothing.
pub fn plan_link(req: &LinkRequest, settings: &Settings) -> Result<LinkPlan, OverrideError> {
    if !req.target.is_dir() {
        return Err(if req.target.exists() {
            OverrideError::NotADir { dir: req.target.clone() }
        } else {
            OverrideError::Read { path: req.target.clone(), source: std::io::Error::from(std::io::ErrorKind::NotFound) }
        });
    }
    let target = canonical(&req.target)?;
    let (target_mod, module) = read_module(&target)?;
    let consumer = find_consumer(&req.project)?;
    let (consumer_mod, consumer_module) = read_module(&consumer)?;
    if let Some(v) = &req.version {
        if req.mode != Mode::Replace {
            return Err(OverrideError::BadVersion {
                version: v.clone(),
                reason: "a version-specific override is a replace: add --mode replace".into(),
            });
        }
        if version::canonical(v).as_deref() != Some(v.as_str()) {
            return Err(OverrideError::BadVersion { version: v.clone(), reason: "not a canonical version".into() });
        }
    }
    if !req.force && !consumer_mod.require.iter().any(|r| r.path == module) {
        return Err(OverrideError::NotRequired { consumer: consumer_module, module, go_mod: consumer.join("go.mod") });
    }
    let records = state::load(&state::links_dir()?, &consumer)?;
    if let Some(r) = records.links.iter().find(|r| r.module == module) {
        if r.target == target
            && r.mode == req.mode
            && r.version == req.version
            && let Some(plan) = same_link_again(r, &consumer, consumer_module)?
        {
            return Ok(plan);
        }
        return Err(OverrideError::AlreadyLinked { module, target: r.target.clone(), consumer });
    }
    let (file, before, edit, written_path, nothing_to_do) = match req.mode {
        Mode::Replace => {
            let file = consumer.join("go.mod");
            let before = read_opt(&file)?.ok_or_else(|| OverrideError::NoGoMod { dir: consumer.clone() })?;
            let rel = plan::relative(&consumer, &target);
            let name = file.display().to_string();
            let edit = plan::link_replace(&name, &before, &module, req.version.as_deref(), &rel)?;
            let same = edit.after == before;
            (file, Some(before), edit, rel, same.then(|| "go.mod already replaces it with this directory".to_owned()))
        }
        Mode::Work => {
            let file = work_file_for(&consumer, settings);
            let dir = file.parent().map_or_else(|| consumer.clone(), Path::to_path_buf);
            let dir = canonical(&dir).unwrap_or(dir);
            let before = read_opt(&file)?;
            let consumer_rel = plan::relative(&dir, &consumer);
            let target_rel = plan::relative(&dir, &target);
            let go = newest_go(&[consumer_mod.go.as_deref(), target_mod.go.as_deref(), Some("1.18")]);
            let name = file.display().to_string();
            let in_use = match &before {
                Some(b) => WorkFile::parse(&name, b)?.uses.iter().any(|u| plan::same_dir(&u.path, &target_rel)),
                None => false,
            };
            let edit = plan::link_work(&name, before.as_deref(), &consumer_rel, &target_rel, &go)?;
            let nothing = in_use.then(|| format!("{} already uses {target_rel}", file.display()));
            (file, before, edit, target_rel, nothing)
        }
    };
    check_writable(&file)?;
    let mut warnings = Vec::new();
    warnings.extend(inspect::privacy_warning(&module, settings));
    if let (Some(t), Some(c)) = (&target_mod.go, &consumer_mod.go)
        && version::compare_go(t, c).is_gt()
    {
        warnings.push(format!(
            "{module} at {} needs go {t}, newer than the consumer's go {c}: go will ask for a newer toolchain or refuse",
            target.display()
        ));
    }
    warnings.extend(
        inspect::not_in_effect(req.mode, &file, &consumer, &module, &target, settings)
            .into_iter()
            .map(|r| format!("the override will not be in effect: {r}")),
    );
    Ok(LinkPlan {
        consumer,
        consumer_module,
        module,
        target,
        mode: req.mode,
        version: req.version.clone(),
        creates_file: before.is_none(),
        file,
        written_path,
        nothing_to_do,
        warnings,
        before,
        after: edit.after,
        extra_uses: edit.extra_uses,
        previous: edit.previous,
        resumes: false,
    })
}

/// The same link asked for again, with its record there: done already when
/// the file holds what the link wrote, or to be finished when it still
/// holds the bytes from before (a link stopped after its record and before
/// its file). `None` when the file changed otherwise since.
fn same_link_again(
    r: &LinkRecord,
    consumer: &Path,
    consumer_module: String,
) -> Result<Option<LinkPlan>, OverrideError> {
    let Some(after) = r.after.clone() else { return Ok(None) };
    let current = read_opt(&r.file)?;
    let done = current.as_ref() == Some(&after);
    if !done && current != r.before {
        return Ok(None);
    }
    Ok(Some(LinkPlan {
        consumer: consumer.to_owned(),
        consumer_module,
        module: r.module.clone(),
        target: r.target.clone(),
        mode: r.mode,
        version: r.version.clone(),
        file: r.file.clone(),
        creates_file: current.is_none(),
        written_path: r.written_path.clone(),
        nothing_to_do: done.then(|| format!("{} is already linked to {}", r.module, r.target.display())),
        warnings: Vec::new(),
        before: current,
        after,
        extra_uses: r.extra_uses.clone(),
        previous: r.previous.clone(),
        resumes: !done,
    }))
}

fn newest_go(vs: &[Option<&str>]) -> String {
    vs.iter().flatten().copied().max_by(|a, b| version::compare_go(a, b)).unwrap_or("1.18").to_owned()
}

/// Writes a user file: temp file in the same directory, fsync, rename.
/// Called under the consumer's lock, so a temp file of the same file there
/// is one a stopped gokeep left, which would otherwise stay in the repository.
fn write_user_file(path: &Path, data: &[u8]) -> Result<(), OverrideError> {
    let err = |e| OverrideError::Write { path: path.to_owned(), source: e };
    crate::fs::atomic::remove_stale_temps(path).map_err(err)?;
    crate::fs::atomic::replace_file(path, data).map_err(err)
}

/// Applies a planned link under the consumer's lock. The record is written
/// before the file, so an interrupted link can always be unlinked.
pub fn apply_link(p: &LinkPlan) -> Result<LinkRecord, OverrideError> {
    let dir = state::links_dir()?;
    let _lock = state::lock(&dir, &p.consumer)?;
    let mut records = state::load(&dir, &p.consumer)?;
    if let Some(r) = records.links.iter().find(|r| r.module == p.module) {
        if p.resumes && r.target == p.target && r.after.as_ref() == Some(&p.after) {
            if read_opt(&p.file)? != p.before {
                return Err(OverrideError::Raced { path: p.file.clone() });
            }
            check_writable(&p.file)?;
            write_user_file(&p.file, &p.after)?;
            return Ok(r.clone());
        }
        return Err(OverrideError::AlreadyLinked {
            module: p.module.clone(),
            target: r.target.clone(),
            consumer: p.consumer.clone(),
        });
    }
    if read_opt(&p.file)? != p.before {
        return Err(OverrideError::Raced { path: p.file.clone() });
    }
    check_writable(&p.file)?;
    let rec = LinkRecord {
        module: p.module.clone(),
        target: p.target.clone(),
        mode: p.mode,
        version: p.version.clone(),
        file: p.file.clone(),
        written_path: p.written_path.clone(),
        extra_uses: p.extra_uses.clone(),
        previous: p.previous.clone(),
        before: p.before.clone(),
        after: Some(p.after.clone()),
        linked_at: Timestamp::now(),
    };
    records.links.push(rec.clone());
    state::store(&dir, &records)?;
    if let Err(e) = write_user_file(&p.file, &p.after) {
        records.links.pop();
        state::store(&dir, &records)?;
        return Err(e);
    }
    Ok(rec)
}

/// One link an unlink takes back.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UnlinkItem {
    pub module: String,
    pub target: PathBuf,
    pub mode: Mode,
    pub file: PathBuf,
    pub how: Revert,
}

/// One file an unlink rewrites (or deletes).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FileChange {
    pub file: PathBuf,
    /// The file changed since gokeep wrote it: only gokeep's lines go.
    pub changed_since_link: bool,
    pub deletes: bool,
    #[serde(skip)]
    pub current: Option<Vec<u8>>,
    #[serde(skip)]
    pub new: Option<Vec<u8>>,
    /// The bytes before the first link this unlink takes back.
    #[serde(skip)]
    pub before_link: Option<Vec<u8>>,
}

impl FileChange {
    /// What the unlink changes.
    #[must_use]
    pub fn diff(&self) -> String {
        plan::unified_diff(&self.file, self.current.as_deref(), self.new.as_deref())
    }

    /// What stays different from before the link (others' edits), after the unlink.
    #[must_use]
    pub fn left_diff(&self) -> String {
        plan::unified_diff(&self.file, self.before_link.as_deref(), self.new.as_deref())
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UnlinkPlan {
    pub consumer: PathBuf,
    pub items: Vec<UnlinkItem>,
    pub files: Vec<FileChange>,
    #[serde(skip)]
    loaded: Records,
    #[serde(skip)]
    remaining: Records,
}

/// Plans taking back the links of `modules` (all of them when empty) in
/// the consumer at or above `project`; reads files, writes nothing.
pub fn plan_unlink(project: &Path, modules: &[String]) -> Result<UnlinkPlan, OverrideError> {
    let consumer = find_consumer(project)?;
    let loaded = state::load(&state::links_dir()?, &consumer)?;
    for m in modules {
        if !loaded.links.iter().any(|r| &r.module == m) {
            return Err(OverrideError::NotLinked { module: m.clone(), consumer });
        }
    }
    let selected = |r: &LinkRecord| modules.is_empty() || modules.contains(&r.module);
    let mut links = loaded.links.clone();
    let mut files: BTreeMap<PathBuf, FileChange> = BTreeMap::new();
    let mut items = Vec::new();
    for i in (0..links.len()).rev() {
        if !selected(&links[i]) {
            continue;
        }
        let rec = links[i].clone();
        if !files.contains_key(&rec.file) {
            let current = read_opt(&rec.file)?;
            let fc = FileChange {
                file: rec.file.clone(),
                changed_since_link: false,
                deletes: false,
                new: current.clone(),
                current,
                before_link: None,
            };
            files.insert(rec.file.clone(), fc);
        }
        let fc = files.get_mut(&rec.file).expect("just inserted");
        let later: Vec<usize> =
            (i + 1..links.len()).filter(|&j| links[j].file == rec.file && !selected(&links[j])).collect();
        let (new, how) = if later.is_empty() {
            plan::revert(&rec, fc.new.as_deref())?
        } else {
            // Later links stay in this file: take out only this link's
            // change, here and in their records, and hand them what this
            // link owned (the `use` lines it added, a file it created).
            let only = if rec.before.is_some() {
                LinkRecord { extra_uses: Vec::new(), ..rec.clone() }
            } else {
                LinkRecord { extra_uses: Vec::new(), before: Some(Vec::new()), after: None, ..rec.clone() }
            };
            for &j in &later {
                let mut l = links[j].clone();
                l.before = match l.before.as_deref() {
                    Some(b) => plan::revert(&rec, Some(b))?.0,
                    None => None,
                };
                l.after = l.after.as_deref().map(|b| plan::revert(&only, Some(b)).map(|x| x.0)).transpose()?.flatten();
                l.extra_uses.extend(rec.extra_uses.iter().cloned());
                links[j] = l;
            }
            plan::revert(&only, fc.new.as_deref())?
        };
        fc.changed_since_link |= !matches!(how, Revert::Exact | Revert::AlreadyRestored);
        fc.new = new;
        fc.before_link.clone_from(&rec.before);
        items.push(UnlinkItem {
            module: rec.module.clone(),
            target: rec.target.clone(),
            mode: rec.mode,
            file: rec.file.clone(),
            how,
        });
        links.remove(i);
    }
    items.reverse();
    let files: Vec<FileChange> = files
        .into_values()
        .map(|mut f| {
            f.deletes = f.current.is_some() && f.new.is_none();
            f
        })
        .collect();
    let remaining = Records { links, ..loaded.clone() };
    Ok(UnlinkPlan { consumer, items, files, loaded, remaining })
}

/// Applies a planned unlink under the consumer's lock: files first, then
/// the record, so an interrupted unlink is finished by running it again.
pub fn apply_unlink(p: &UnlinkPlan) -> Result<(), OverrideError> {
    let dir = state::links_dir()?;
    let _lock = state::lock(&dir, &p.consumer)?;
    if state::load(&dir, &p.consumer)? != p.loaded {
        return Err(OverrideError::Raced { path: dir });
    }
    for f in &p.files {
        if read_opt(&f.file)? != f.current {
            return Err(OverrideError::Raced { path: f.file.clone() });
        }
        if f.current != f.new {
            check_writable(&f.file)?;
        }
    }
    for f in p.files.iter().filter(|f| f.current != f.new) {
        match &f.new {
            Some(b) => write_user_file(&f.file, b)?,
            None => crate::fs::failpoint::after(fs::remove_file(&f.file))
                .map_err(|e| OverrideError::Write { path: f.file.clone(), source: e })?,
        }
    }
    state::store(&dir, &p.remaining)
}
