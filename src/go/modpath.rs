//! Module paths as `golang.org/x/mod/module` defines them: the file-system
//! escaping of paths and versions (`!` before a lower-cased capital) and the
//! checks Go makes on module, import and file paths (`CheckPath`,
//! `CheckImportPath`, `CheckFilePath`, `SplitPathVersion`,
//! `CheckPathMajor`). Error texts are Go's.

use std::fmt;

use super::version;

/// Escapes a module path or version for the file system: every upper-case
/// letter becomes `!` followed by its lower-case form, so that case-insensitive
/// file systems keep `example.com/Org` and `example.com/org` apart.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape`]. Returns `None` for names Go would never have written:
/// an upper-case letter, or a `!` not followed by a lower-case letter.
#[must_use]
pub fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if bang {
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// `module.EscapePath`: checks the path, then escapes it.
pub fn escape_path(path: &str) -> Result<String, InvalidPath> {
    check_path(path)?;
    Ok(escape(path))
}

/// `module.UnescapePath`: reverses [`escape`], then checks the path.
pub fn unescape_path(escaped: &str) -> Result<String, String> {
    let bad = || format!("invalid escaped module path {escaped:?}");
    let path = unescape(escaped).filter(|p| p.is_ascii()).ok_or_else(bad)?;
    check_path(&path).map_err(|e| format!("{}: {e}", bad()))?;
    Ok(path)
}

/// A path Go refuses: `malformed module path "x": missing dot in first path element`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {kind} path {path:?}: {reason}")]
pub struct InvalidPath {
    /// `module`, `import` or `file`.
    pub kind: &'static str,
    pub path: String,
    pub reason: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module,
    Import,
    File,
}

/// `module.CheckPath`: a valid module path.
pub fn check_path(path: &str) -> Result<(), InvalidPath> {
    let err = |reason: String| InvalidPath { kind: "module", path: path.to_owned(), reason };
    check(path, Kind::Module).map_err(err)?;
    let first = path.split('/').next().unwrap_or("");
    if first.is_empty() {
        return Err(err("leading slash".into()));
    }
    if !first.contains('.') {
        return Err(err("missing dot in first path element".into()));
    }
    if path.starts_with('-') {
        return Err(err("leading dash in first path element".into()));
    }
    if let Some(c) = first.chars().find(|&c| !(c == '-' || c == '.' || c.is_ascii_digit() || c.is_ascii_lowercase())) {
        return Err(err(format!("invalid char {} in first path element", go_quote_rune(c))));
    }
    if split_path_version(path).is_none() {
        return Err(err("invalid version".into()));
    }
    Ok(())
}

/// `module.CheckImportPath`: a valid package import path.
pub fn check_import_path(path: &str) -> Result<(), InvalidPath> {
    check(path, Kind::Import).map_err(|reason| InvalidPath { kind: "import", path: path.to_owned(), reason })
}

/// `module.CheckFilePath`: a valid file name inside a module zip.
pub fn check_file_path(path: &str) -> Result<(), InvalidPath> {
    check(path, Kind::File).map_err(|reason| InvalidPath { kind: "file", path: path.to_owned(), reason })
}

fn check(path: &str, kind: Kind) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty string".into());
    }
    if path.starts_with('-') && kind != Kind::File {
        return Err("leading dash".into());
    }
    if path.contains("//") {
        return Err("double slash".into());
    }
    if path.ends_with('/') {
        return Err("trailing slash".into());
    }
    path.split('/').try_for_each(|elem| check_elem(elem, kind))
}

const BAD_WINDOWS_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn check_elem(elem: &str, kind: Kind) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".into());
    }
    if elem.bytes().all(|b| b == b'.') {
        return Err(format!("invalid path element {elem:?}"));
    }
    if elem.starts_with('.') && kind == Kind::Module {
        return Err("leading dot in path element".into());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".into());
    }
    for c in elem.chars() {
        let mod_ok = c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        let ok = match kind {
            Kind::Module => mod_ok,
            Kind::Import => mod_ok || c == '+',
            Kind::File => {
                if c.is_ascii() {
                    c.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(c)
                } else {
                    c.is_alphabetic()
                }
            }
        };
        if !ok {
            return Err(format!("invalid char {}", go_quote_rune(c)));
        }
    }
    let short = elem.split('.').next().unwrap_or(elem);
    if BAD_WINDOWS_NAMES.iter().any(|bad| bad.eq_ignore_ascii_case(short)) {
        return Err(format!("{short:?} disallowed as path element component on Windows"));
    }
    if kind == Kind::File {
        return Ok(());
    }
    if let Some(tilde) = short.rfind('~')
        && tilde < short.len() - 1
        && short[tilde + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        return Err("trailing tilde and digits in path element".into());
    }
    Ok(())
}

/// Go's `%q` of a rune, for the few characters a path check names.
fn go_quote_rune(c: char) -> String {
    match c {
        '\'' => r"'\''".into(),
        '\\' => r"'\\'".into(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// `module.SplitPathVersion`: `("x.y/z", "/v2")` for `x.y/z/v2`,
/// `("gopkg.in/yaml", ".v2")` for `gopkg.in/yaml.v2`; `None` for a malformed
/// major-version suffix (`/v1`, `/v0`, `/v2.0`).
#[must_use]
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    if path.starts_with("gopkg.in/") {
        return split_gopkg_in(path);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        dot |= b[i - 1] == b'.';
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some((path, ""));
    }
    let (prefix, major) = path.split_at(i - 2);
    if dot || major.len() <= 2 || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some((prefix, major))
}

fn split_gopkg_in(path: &str) -> Option<(&str, &str)> {
    let b = path.as_bytes();
    let mut i = path.strip_suffix("-unstable").map_or(b.len(), str::len);
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
        return None;
    }
    let (prefix, major) = path.split_at(i - 2);
    if major.len() <= 2 || (major.as_bytes()[2] == b'0' && major != ".v0") {
        return None;
    }
    Some((prefix, major))
}

/// A version that does not fit the path's major version, worded as Go's
/// `InvalidVersionError`: `version "v2.0.0" invalid: should be v0 or v1, not v2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongMajor {
    pub version: String,
    pub want: String,
    pub got: String,
}

impl fmt::Display for WrongMajor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {:?} invalid: should be {}, not {}", self.version, self.want, self.got)
    }
}

/// `module.CheckPathMajor`: whether version `v` fits the major-version suffix
/// `path_major` (`""`, `/v2`, `.v1`, `.v1-unstable`).
pub fn check_path_major(v: &str, path_major: &str) -> Result<(), WrongMajor> {
    let mut pm = path_major;
    if pm.starts_with(".v") {
        pm = pm.strip_suffix("-unstable").unwrap_or(pm);
    }
    if v.starts_with("v0.0.0-") && pm == ".v1" {
        return Ok(());
    }
    let m = version::major(v).unwrap_or_default();
    let want = if pm.is_empty() {
        if m == "v0" || m == "v1" || version::build(v) == "incompatible" {
            return Ok(());
        }
        "v0 or v1".to_owned()
    } else {
        // Byte-wise, as Go slices `pathMajor[1:]`: a suffix that does not
        // start with one ASCII byte is compared, not split inside a character.
        let rest = &pm.as_bytes()[1..];
        if m.as_bytes() == rest {
            return Ok(());
        }
        String::from_utf8_lossy(rest).into_owned()
    };
    Err(WrongMajor { version: v.to_owned(), want, got: m })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `modpath` fuzz target: a suffix starting with a
    /// multi-byte character was sliced inside it.
    #[test]
    fn check_path_major_compares_a_non_ascii_suffix_without_splitting_it() {
        let e = check_path_major("v2.0.0", "цv2").unwrap_err();
        assert_eq!((e.got.as_str(), e.want.as_str()), ("v2", "\u{fffd}v2"));
        assert!(check_path_major("v2.0.0", "/v2").is_ok());
        assert!(check_path_major("v3.0.0", "é").is_err());
    }

    #[test]
    fn escape_round_trips_upper_case_paths() {
        assert_eq!(escape("example.com/Org/Lib"), "example.com/!org/!lib");
        assert_eq!(unescape("example.com/!org/!lib").as_deref(), Some("example.com/Org/Lib"));
        assert_eq!(escape("v1.0.0-RC1"), "v1.0.0-!r!c1");
    }

    #[test]
    fn unescape_rejects_names_go_never_writes() {
        assert_eq!(unescape("example.com/Org"), None);
        assert_eq!(unescape("example.com/!"), None);
        assert_eq!(unescape("example.com/!1"), None);
    }

    // x/mod's checkPathTests (the revision Go 1.26 vendors): (path, module ok, import ok, file ok).
    const CHECK_PATH: &[(&str, bool, bool, bool)] = &[
        ("x.y/z", true, true, true),
        ("x.y", true, true, true),
        ("", false, false, false),
        ("/x.y/z", false, false, false),
        ("x./z", false, false, false),
        (".x/z", false, true, true),
        ("-x/z", false, false, true),
        ("x..y/z", true, true, true),
        ("x.y/z/../../w", false, false, false),
        ("x.y//z", false, false, false),
        ("x.y/z//w", false, false, false),
        ("x.y/z/", false, false, false),
        ("x.y/z/v0", false, true, true),
        ("x.y/z/v1", false, true, true),
        ("x.y/z/v2", true, true, true),
        ("x.y/z/v2.0", false, true, true),
        ("X.y/z", false, true, true),
        ("!x.y/z", false, false, true),
        ("_x.y/z", false, true, true),
        ("x.y!/z", false, false, true),
        ("x.y\"/z", false, false, false),
        ("x.y#/z", false, false, true),
        ("x.y$/z", false, false, true),
        ("x.y%/z", false, false, true),
        ("x.y&/z", false, false, true),
        ("x.y'/z", false, false, false),
        ("x.y(/z", false, false, true),
        ("x.y)/z", false, false, true),
        ("x.y*/z", false, false, false),
        ("x.y+/z", false, true, true),
        ("x.y,/z", false, false, true),
        ("x.y-/z", true, true, true),
        ("x.y./zt", false, false, false),
        ("x.y:/z", false, false, false),
        ("x.y;/z", false, false, false),
        ("x.y</z", false, false, false),
        ("x.y=/z", false, false, true),
        ("x.y>/z", false, false, false),
        ("x.y?/z", false, false, false),
        ("x.y@/z", false, false, true),
        ("x.y[/z", false, false, true),
        ("x.y\\/z", false, false, false),
        ("x.y]/z", false, false, true),
        ("x.y^/z", false, false, true),
        ("x.y_/z", false, true, true),
        ("x.y`/z", false, false, false),
        ("x.y{/z", false, false, true),
        ("x.y}/z", false, false, true),
        ("x.y~/z", false, true, true),
        ("x.y/z!", false, false, true),
        ("x.y/z\"", false, false, false),
        ("x.y/z#", false, false, true),
        ("x.y/z$", false, false, true),
        ("x.y/z%", false, false, true),
        ("x.y/z&", false, false, true),
        ("x.y/z'", false, false, false),
        ("x.y/z(", false, false, true),
        ("x.y/z)", false, false, true),
        ("x.y/z*", false, false, false),
        ("x.y/z++", false, true, true),
        ("x.y/z,", false, false, true),
        ("x.y/z-", true, true, true),
        ("x.y/z.t", true, true, true),
        ("x.y/z/t", true, true, true),
        ("x.y/z:", false, false, false),
        ("x.y/z;", false, false, false),
        ("x.y/z<", false, false, false),
        ("x.y/z=", false, false, true),
        ("x.y/z>", false, false, false),
        ("x.y/z?", false, false, false),
        ("x.y/z@", false, false, true),
        ("x.y/z[", false, false, true),
        ("x.y/z\\", false, false, false),
        ("x.y/z]", false, false, true),
        ("x.y/z^", false, false, true),
        ("x.y/z_", true, true, true),
        ("x.y/z`", false, false, false),
        ("x.y/z{", false, false, true),
        ("x.y/z}", false, false, true),
        ("x.y/z~", true, true, true),
        ("x.y/x.foo", true, true, true),
        ("x.y/aux.foo", false, false, false),
        ("x.y/prn", false, false, false),
        ("x.y/prn2", true, true, true),
        ("x.y/com", true, true, true),
        ("x.y/com1", false, false, false),
        ("x.y/com1.txt", false, false, false),
        ("x.y/calm1", true, true, true),
        ("x.y/z~0", false, false, true),
        ("x.y/z~09", false, false, true),
        ("x.y/z09", true, true, true),
        ("x.y/z09~", true, true, true),
        ("x.y/z09~09z", true, true, true),
        ("x.y/z09~09z~09", false, false, true),
        ("github.com/!123/logrus", false, false, true),
        ("github.com/user/unicode/испытание", false, false, true),
        ("../x", false, false, false),
        ("./y", false, false, false),
        ("x:y", false, false, false),
        (r"\temp\foo", false, false, false),
        (".gitignore", false, true, true),
        (".github/ISSUE_TEMPLATE", false, true, true),
        ("x☺y", false, false, false),
    ];

    #[test]
    fn path_checks_use_x_mod_vectors() {
        for &(path, module, import, file) in CHECK_PATH {
            assert_eq!(check_path(path).is_ok(), module, "CheckPath({path:?})");
            assert_eq!(check_import_path(path).is_ok(), import, "CheckImportPath({path:?})");
            assert_eq!(check_file_path(path).is_ok(), file, "CheckFilePath({path:?})");
            if !module {
                assert!(escape_path(path).is_err(), "EscapePath({path:?})");
                assert!(unescape_path(path).is_err(), "UnescapePath({path:?})");
            }
            let (prefix, major) = split_path_version(path).unwrap_or((path, ""));
            assert_eq!(format!("{prefix}{major}"), path);
        }
    }

    #[test]
    fn path_errors_use_go_wording() {
        assert_eq!(
            check_path("rsc io/quote").unwrap_err().to_string(),
            r#"malformed module path "rsc io/quote": invalid char ' '"#
        );
        assert_eq!(
            check_path("example/x").unwrap_err().to_string(),
            r#"malformed module path "example/x": missing dot in first path element"#
        );
    }

    #[test]
    fn escaping_uses_x_mod_vectors() {
        let p = "ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789";
        assert_eq!(escape_path(p).as_deref(), Ok(p));
        assert_eq!(unescape_path(p).as_deref(), Ok(p));
        let p = "github.com/GoogleCloudPlatform/omega";
        assert_eq!(escape_path(p).as_deref(), Ok("github.com/!google!cloud!platform/omega"));
        assert_eq!(unescape_path("github.com/!google!cloud!platform/omega").as_deref(), Ok(p));
        for bad in [
            "github.com/GoogleCloudPlatform/omega",
            "github.com/!google!cloud!platform!/omega",
            "github.com/!0google!cloud!platform/omega",
            "github.com/!_google!cloud!platform/omega",
            "github.com/!!google!cloud!platform/omega",
            "",
        ] {
            assert!(unescape_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_path_version_uses_x_mod_vectors() {
        for (prefix, major) in [
            ("x.y/z", ""),
            ("x.y/z", "/v2"),
            ("x.y/z", "/v3"),
            ("x.y/v", ""),
            ("gopkg.in/yaml", ".v0"),
            ("gopkg.in/yaml", ".v1"),
            ("gopkg.in/yaml", ".v2"),
            ("gopkg.in/yaml", ".v3"),
        ] {
            assert_eq!(split_path_version(&format!("{prefix}{major}")), Some((prefix, major)));
        }
    }

    #[test]
    fn path_major_uses_x_mod_vectors() {
        for (v, pm, want) in [
            ("v0.0.0", "", true),
            ("v0.0.0", "/v2", false),
            ("v0.0.0", ".v0", true),
            ("v0.0.0-20190510104115-cbcb75029529", ".v1", true),
            ("v1.0.0", "/v2", false),
            ("v1.0.0", ".v1", true),
            ("v1.0.0", ".v1-unstable", true),
            ("v2.0.0+incompatible", "", true),
            ("v2.0.0", "", false),
            ("v2.0.0", "/v2", true),
            ("v2.0.0", ".v2", true),
        ] {
            assert_eq!(check_path_major(v, pm).is_ok(), want, "{v} {pm}");
        }
        assert_eq!(
            check_path_major("v2.0.0", "").unwrap_err().to_string(),
            r#"version "v2.0.0" invalid: should be v0 or v1, not v2"#
        );
    }

    #[test]
    fn paths_that_would_leave_the_cache_are_refused() {
        for p in ["../victim", "example.com/../x", "/etc/passwd", "example.com/./x", "example.com//x", "a/b", ""] {
            assert!(check_path(p).is_err(), "{p}");
        }
        assert!(check_path("../victim").unwrap_err().to_string().contains("../victim"));
    }

    #[test]
    fn real_module_paths_pass() {
        for p in [
            "github.com/docker/compose/v2",
            "gopkg.in/h2non/gentleman.v2",
            "gopkg.in/yaml.v3",
            "example.com/Org/Lib",
            "moul.io/u",
            "golang.org/x/mod",
            "dev.gaijin.team/go/golib",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
        for p in ["github.com/x/y/v1", "github.com/x/y/v01", "gopkg.in/yaml", "Example.com/x", "example.com/COM1"] {
            assert!(check_path(p).is_err(), "{p}");
        }
    }
}
