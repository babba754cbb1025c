//! Runnable examples, and the topologies they run, so tests can check them.
//!
//! - [`word_count`]: lines in, a running count per word out, written with
//!   the Processor API and a key-value store, run by `KafkaStreams` on the
//!   bundled broker (`cargo run --bin word-count`).
//! - [`clicks_per_minute`]: clicks in, each user's final click count per
//!   minute out, with the DSL's tumbling windows, a grace period and final
//!   results on window close (`cargo run --bin clicks-per-minute`).
//! - [`enriched_orders`]: orders in, each with its customer's name as a
//!   table holds it at the time, out: a stream-table left join
//!   (`cargo run --bin enriched-orders`).
//!
//! [`kafka`] holds the client calls the examples make around an
//! application: creating topics, writing input, reading output.

pub mod clicks_per_minute;
pub mod enriched_orders;
pub mod kafka;
pub mod word_count;
