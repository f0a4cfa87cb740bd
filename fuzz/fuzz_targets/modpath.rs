//! Module paths: escaping round-trips (escape then unescape gives the path
//! back; what unescapes escapes back to itself), the checks never panic and
//! agree with each other (a module path is also an import path), and
//! `SplitPathVersion`'s halves join to the path.
#![no_main]

use gokeep::go::modpath::{
    check_file_path, check_import_path, check_path, check_path_major, escape, escape_path, split_path_version,
    unescape, unescape_path,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if !s.contains('!') {
        assert_eq!(unescape(&escape(s)).as_deref(), Some(s), "escape round trip");
    }
    if let Some(u) = unescape(s) {
        assert_eq!(escape(&u), s, "unescape round trip");
    }
    let module = check_path(s);
    let import = check_import_path(s);
    let _ = check_file_path(s);
    if module.is_ok() {
        assert!(import.is_ok(), "{s:?} is a module path but {import:?}");
        let e = escape_path(s).expect("a checked path escapes");
        assert_eq!(unescape_path(&e).as_deref(), Ok(s), "escape_path round trip");
    } else {
        assert!(escape_path(s).is_err());
    }
    if let Ok(p) = unescape_path(s) {
        assert!(check_path(&p).is_ok());
        assert_eq!(escape(&p), s);
    }
    if let Some((prefix, major)) = split_path_version(s) {
        assert_eq!(format!("{prefix}{major}"), s, "split halves");
        let _ = check_path_major("v2.0.0", major);
    }
    // Any text as a version against any suffix.
    let (v, m) = s.split_at(s.char_indices().nth(s.chars().count() / 2).map_or(s.len(), |(i, _)| i));
    let _ = check_path_major(v, m);
});
