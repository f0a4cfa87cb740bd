//! Every `--json` document a test reads is checked against the schema
//! `gokeep schema <document>` publishes, so a published schema that no longer
//! describes the output fails the tests that produce that output.
//!
//! The check is stricter than the published schema: an object may carry no
//! property the schema does not name. Readers may ignore unknown fields; the
//! tests may not, or a field serde writes outside the types (a custom
//! `Serialize`, a flattened map) would go unnoticed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::sandbox::gokeep_bin;

/// The documents `gokeep schema` lists, by name.
pub fn documents() -> Vec<String> {
    let out = std::process::Command::new(gokeep_bin()).arg("schema").output().expect("running gokeep schema");
    assert!(out.status.success(), "gokeep schema failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// The schema text `gokeep schema <document>` prints.
pub fn published(document: &str) -> String {
    let out =
        std::process::Command::new(gokeep_bin()).args(["schema", document]).output().expect("running gokeep schema");
    assert!(out.status.success(), "gokeep schema {document} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Panics, naming each violation, unless `value` is the `document`'s
/// `--json` output (`status`, `gocache-refresh`, `schedule-show`, ...) or the
/// error object a command prints under `--json` when it fails.
pub fn validate(document: &str, value: &Value) {
    let is_error = value.as_object().is_some_and(|o| o.contains_key("error") && o.len() == 2);
    let document = if is_error { "error" } else { document };
    let validator = validator(document);
    let errors: Vec<String> =
        validator.iter_errors(value).map(|e| format!("  at {}: {e}", e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "output does not match `gokeep schema {document}`:\n{}\n--- output\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(value).unwrap()
    );
}

/// Parses `stdout` as JSON and validates it as `document`.
#[allow(dead_code)]
pub fn parse(document: &str, stdout: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", String::from_utf8_lossy(stdout)));
    validate(document, &v);
    v
}

fn validator(document: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(v) = cache.lock().unwrap().get(document) {
        return Arc::clone(v);
    }
    let mut schema: Value = serde_json::from_str(&published(document)).expect("gokeep schema prints JSON");
    close_objects(&mut schema);
    let v = Arc::new(
        jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("gokeep schema {document} is invalid: {e}")),
    );
    cache.lock().unwrap().insert(document.to_owned(), Arc::clone(&v));
    v
}

/// Forbids properties the schema does not name, wherever it names some.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(o) => {
            if o.contains_key("properties") && !o.contains_key("additionalProperties") {
                o.insert("additionalProperties".into(), Value::Bool(false));
            }
            o.values_mut().for_each(close_objects);
        }
        Value::Array(a) => a.iter_mut().for_each(close_objects),
        _ => {}
    }
}
