//! Produce/consume throughput and latency benchmark (filled in below).

fn main() {}
