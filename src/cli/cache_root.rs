//! Recognising the cache roots a command works on, before it looks inside:
//! one function per cache for every command, so every command follows the
//! one rule of [`gokeep::fs::remove`] and says which directory it uses
//! when the name given resolved through a symbolic link.

use std::path::{Path, PathBuf};

use gokeep::fs::remove::{self, CacheRoot, Refusal};

use super::{Printer, Settings};

/// "using /data/gomodcache (GOMODCACHE /home/u/go/pkg/mod is a symbolic link)".
fn resolution_note(root: &CacheRoot, label: &str) -> Option<String> {
    let named = root.resolved_from()?;
    let trimmed = Path::new(named.to_str().map_or(named.as_os_str(), |s| s.trim_end_matches('/').as_ref()));
    let how = if std::fs::symlink_metadata(trimmed).is_ok_and(|m| m.file_type().is_symlink()) {
        "is a symbolic link"
    } else {
        "goes through a symbolic link"
    };
    Some(format!("gokeep: using {} ({label} {} {how})", root.path().display(), named.display()))
}

/// Notes a resolved link for a root recognised elsewhere (`from_flag`: named
/// by `--modcache`/`--gocache` rather than the Go environment).
pub fn note_resolution(root: &CacheRoot, from_flag: bool, printer: &Printer) {
    let label = match (root.kind(), from_flag) {
        (gokeep::layout::CacheKind::ModCache, true) => "--modcache",
        (gokeep::layout::CacheKind::ModCache, false) => "GOMODCACHE",
        (gokeep::layout::CacheKind::BuildCache, true) => "--gocache",
        (gokeep::layout::CacheKind::BuildCache, false) => "GOCACHE",
    };
    if let Some(note) = resolution_note(root, label) {
        printer.note(&note);
    }
}

/// Recognises `path` as a module cache, noting a resolved link.
pub fn modcache_at(path: &Path, from_flag: bool, printer: &Printer) -> Result<CacheRoot, Refusal> {
    let root = remove::recognise_modcache(path)?;
    if let Some(note) = resolution_note(&root, if from_flag { "--modcache" } else { "GOMODCACHE" }) {
        printer.note(&note);
    }
    Ok(root)
}

/// Recognises `path` as a build cache, noting a resolved link.
pub fn gocache_at(path: &Path, from_flag: bool, printer: &Printer) -> Result<CacheRoot, Refusal> {
    let root = remove::recognise_gocache(path)?;
    if let Some(note) = resolution_note(&root, if from_flag { "--gocache" } else { "GOCACHE" }) {
        printer.note(&note);
    }
    Ok(root)
}

/// For commands that only read: the directory to look at. A recognised
/// cache is its resolved root (`Some` root); a directory that does not
/// exist, or an empty one (a cache Go has not written to yet: it creates
/// both lazily), is looked at as named, and the scan reports it as missing
/// or empty. Anything else that is not a Go cache is the refusal.
pub fn for_reading(
    recognised: Result<CacheRoot, Refusal>,
    named: &Path,
) -> Result<(PathBuf, Option<CacheRoot>), Refusal> {
    match recognised {
        Ok(root) => Ok((root.path().to_owned(), Some(root))),
        Err(Refusal::Missing { .. }) => Ok((named.to_owned(), None)),
        Err(Refusal::NotAModCache { .. } | Refusal::NotABuildCache { .. })
            if std::fs::read_dir(named).is_ok_and(|mut d| d.next().is_none()) =>
        {
            Ok((named.to_owned(), None))
        }
        Err(e) => Err(e),
    }
}

/// The module cache from `--modcache` or the Go environment, recognised.
pub fn modcache(settings: &Settings, printer: &Printer) -> anyhow::Result<CacheRoot> {
    let dir = settings.modcache()?;
    Ok(modcache_at(&dir.path, dir.from_flag, printer)?)
}

/// The build cache from `--gocache` or the Go environment, recognised;
/// `None` when Go's build cache is off.
pub fn gocache(settings: &Settings, printer: &Printer) -> anyhow::Result<Option<CacheRoot>> {
    match settings.gocache()? {
        Some(dir) => Ok(Some(gocache_at(&dir.path, dir.from_flag, printer)?)),
        None => Ok(None),
    }
}
