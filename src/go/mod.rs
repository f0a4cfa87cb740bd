//! Go's formats and rules, pure: no file-system access, no processes. Each
//! module mirrors a package of `golang.org/x/mod` or `cmd/go` and is checked
//! against Go's own test vectors or against the `go` command itself.

pub mod gosum;
pub mod modfile;
pub mod modpath;
pub mod pattern;
pub mod version;
