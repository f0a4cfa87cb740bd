//! Verification of Go's caches against every witness gokeep can find.
pub mod dirhash;
