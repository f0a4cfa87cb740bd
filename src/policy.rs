//! TOML prune policies (being written).
