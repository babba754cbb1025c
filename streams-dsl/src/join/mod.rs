//! Joins: windowed stream-stream joins, stream-table and
//! stream-global-table lookups, table-table joins (on the key or on a
//! foreign key), and the
//! co-partitioning every key-based join needs.
//!
//! Each join compiles to small Processor API processors named as Kafka
//! Streams names them, so `describe()` of a join program reads like Kafka's.
//! Joiners are typed by the join kind: an inner join's joiner takes both
//! values, a left join's takes `Option` for the right side, an outer
//! join's `Option` for both, so a "missing" side is never a null.

mod copartition;
mod foreign_key;
mod joined;
mod joiner;
mod outer_store;
mod stream_joined;
mod stream_stream;
mod stream_stream_join;
mod stream_table;
mod stream_table_join;
mod table_table;
mod table_table_join;
mod time_tracker;
mod window_buffer;
mod windows;

pub(crate) use copartition::Copartitioning;
pub use foreign_key::{ForeignKeyExtractor, KeyPartitioner, TableJoined};
pub use joined::Joined;
pub(crate) use joiner::Joiner;
pub use stream_joined::StreamJoined;
pub use windows::JoinWindows;
