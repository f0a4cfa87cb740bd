//! The only raw file-system calls in gokeep: reads that leave access times
//! alone and never follow a link, atomic whole-file replacement, cache-root
//! recognition with descriptor-relative I/O and removal beneath it, and the
//! mount table. Everything above this layer goes through these functions, so
//! the rules (no symlink followed, no torn write, nothing outside a
//! recognised root) are kept in one place.

pub mod atomic;
pub mod beneath;
pub mod failpoint;
pub mod mounts;
pub mod noatime;
pub mod owner;
pub mod remove;
