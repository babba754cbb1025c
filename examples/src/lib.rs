//! Runnable examples, and the topologies they run, so tests can check them.
//!
//! - [`word_count`]: lines in, a running count per word out, written with
//!   the Processor API and a key-value store (`cargo run --bin word-count`).

pub mod word_count;
