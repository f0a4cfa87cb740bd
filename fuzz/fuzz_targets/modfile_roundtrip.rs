//! go.mod and go.work: every file the parser accepts prints back to exactly
//! its bytes, as syntax alone and as go.mod or go.work; a refused file is
//! refused with at least one located error, never a panic.
#![no_main]

use gokeep::go::modfile::{ModFile, WorkFile, syntax};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match syntax::parse("go.mod", data) {
        Ok(s) => assert_eq!(s.print(), data, "syntax round trip"),
        Err(d) => assert!(!d.message.is_empty(), "an error without a message at {}:{}", d.line, d.col),
    }
    match ModFile::parse("go.mod", data) {
        Ok(f) => {
            assert_eq!(f.print(), data, "go.mod round trip");
            // Reading the printed bytes again gives the same file.
            assert_eq!(ModFile::parse("go.mod", &f.print()).as_ref(), Ok(&f));
        }
        Err(e) => assert!(!e.errors.is_empty(), "a refusal names no error"),
    }
    match WorkFile::parse("go.work", data) {
        Ok(f) => assert_eq!(f.print(), data, "go.work round trip"),
        Err(e) => assert!(!e.errors.is_empty(), "a refusal names no error"),
    }
});
