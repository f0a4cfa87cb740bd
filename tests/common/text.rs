//! Text output under insta snapshots: what varies from run to run (the
//! sandbox's temp path, sizes, ages) is replaced by a placeholder, so a
//! snapshot pins the wording and the layout only.

use super::sandbox::GoSandbox;

/// Settings for `insta::assert_snapshot!` that replace the sandbox root,
/// as given and canonical, with `[SANDBOX]`. Bind them around the
/// assertion in the test file (`settings.bind(|| ...)`) so the snapshot
/// lives beside that test.
#[allow(dead_code)]
pub fn text_settings(sb: &GoSandbox) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let root = sb.root().display().to_string();
    let canonical = std::fs::canonicalize(sb.root()).map_or_else(|_| root.clone(), |p| p.display().to_string());
    settings.add_filter(&regex::escape(&canonical), "[SANDBOX]");
    settings.add_filter(&regex::escape(&root), "[SANDBOX]");
    settings
}

/// [`text_settings`] that also replace each byte size (`12.3 KiB`,
/// `512 B`) with `[SIZE]`, and the count of build-cache entries with
/// `[N]`: the file system's block size and what one Go release caches for
/// a build vary between machines. A size padded to the right of a column
/// becomes `[SIZE]` right-aligned in ten columns whatever its own width, so
/// tables stay tables; a size in running text becomes a bare `[SIZE]`.
#[allow(dead_code)]
pub fn report_settings(sb: &GoSandbox) -> insta::Settings {
    let mut settings = text_settings(sb);
    let size = r"\d+(\.\d+)? ?(B|KiB|MiB|GiB|TiB)\b";
    settings.add_filter(&format!(" +{size}"), "    [SIZE]");
    settings.add_filter(&format!(r"\b{size}"), "[SIZE]");
    settings.add_filter(r"\b\d+ files, \d+ cache entries", "[N] files, [N] cache entries");
    settings.add_filter(r"(?m)^(  build_cache +\[SIZE\] +\[SIZE\]) +\d+$", "$1 [N]");
    settings
}
