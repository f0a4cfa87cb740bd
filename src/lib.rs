//! gokeep's library core: it resolves the Go environment, and scans, verifies
//! and prunes Go's module and build caches. It returns data and typed errors;
//! it never prints and never exits. The `gokeep` binary renders what it
//! returns and turns errors into exit codes.

pub mod atomic;
pub mod goenv;
pub mod gosum;
pub mod layout;
pub mod noatime;
pub mod policy;
pub mod prune;
pub mod report;
pub mod scan;
pub mod schedule;
pub mod timestamp;
pub mod verify;
