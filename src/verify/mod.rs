//! Verification of Go's caches against every witness gokeep can find: the
//! module zip, `.ziphash`, the extracted tree, the `.mod` file, go.sum, the
//! checksum database's cache and GOCACHE's action entries. Nothing here
//! deletes: fixes are [`crate::prune::Plan`]s for the prune executor.

pub mod dirhash;
pub mod finding;
pub mod modcache;
pub mod sumdb;

pub use finding::{Finding, FindingKind, Severity, Tally};
