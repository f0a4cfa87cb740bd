//! The decoder behind `gokeep explain`: any pasted text (terminal logs, CI
//! output, PowerShell wrapping, binary junk) decodes without a panic, and
//! what it names is what it promises: module paths Go accepts and canonical
//! versions.
#![no_main]

use gokeep::go::{modpath, version};
use gokeep::verify::{explain, paste};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let d = paste::decode(text);
    for e in &d.errors {
        if let Some(m) = &e.module {
            assert!(modpath::check_path(m).is_ok(), "module {m:?} from {text:?}");
        }
        if let Some(v) = &e.version {
            assert_eq!(version::canonical(v).as_deref(), Some(v.as_str()), "version {v:?} from {text:?}");
        }
    }
    let _ = explain::parse(text);
    let _ = paste::normalize(text);
});
