//! Policy TOML: loading any text never panics, and a refusal names where:
//! the file, and a line and column inside the text.
#![no_main]

use std::path::Path;

use gokeep::policy::{Policy, PolicyError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Policy::from_toml(text, Path::new("policy.toml")) {
        Ok(p) => {
            let _ = p.touches(gokeep::layout::CacheKind::ModCache);
        }
        Err(PolicyError::Invalid { path, line, column, message, .. }) => {
            assert_eq!(path, Path::new("policy.toml"));
            assert!(!message.is_empty(), "an error without a message");
            assert!(line >= 1 && line <= text.matches('\n').count() + 1, "line {line} outside the text");
            assert!(column >= 1, "column {column}");
            let shown = Policy::from_toml(text, Path::new("policy.toml")).unwrap_err().to_string();
            assert!(shown.contains("policy.toml"), "{shown:?} does not name the file");
        }
        Err(e) => panic!("a text refused as {e:?}"),
    }
});
