//! gokeep's library core: it resolves the Go environment, and scans, verifies
//! and prunes Go's module and build caches. It returns data and typed errors;
//! it never prints and never exits. The `gokeep` binary renders what it
//! returns and turns errors into exit codes.

pub mod discover;
pub mod error;
pub mod fs;
pub mod go;
pub mod goenv;
pub mod golock;
pub mod layout;
pub mod overrides;
pub mod policy;
pub mod proxy;
pub mod prune;
pub mod report;
pub mod scan;
pub mod schedule;
pub mod state;
pub mod timestamp;
pub mod verify;

/// go.sum lives in `go::gosum`; this name stays for the binary's explain command.
pub use go::gosum;
