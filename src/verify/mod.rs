//! Verification of Go caches against every witness (being written).
