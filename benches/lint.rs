//! Lint throughput benchmark (being written).
fn main() {}
