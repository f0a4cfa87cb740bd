//! go.sum: any text parses into lines and bad lines without a panic; every
//! line with text on it is accounted for exactly once, and every parsed
//! line can be looked up.
#![no_main]

use std::path::Path;

use gokeep::go::gosum::{EMPTY_GO_MOD_HASH, GoSum};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let sum = GoSum::parse(Path::new("go.sum"), text);
    let nonblank = text.lines().filter(|l| !l.trim().is_empty()).count();
    let dropped = text
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some(EMPTY_GO_MOD_HASH) && l.split_whitespace().count() == 3)
        .count();
    assert_eq!(sum.lines.len() + sum.bad.len() + dropped, nonblank, "every line is read, refused or dropped");
    for l in &sum.lines {
        assert!(sum.hash(&l.module, &l.version, l.kind).is_some(), "{l:?} cannot be looked up");
    }
});
