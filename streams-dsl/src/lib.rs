//! The typed streams DSL: [`StreamsBuilder`], [`KStream`], [`KTable`] and
//! grouped streams, compiled into a `streams_core::Topology`.
//!
//! Each operator adds a small Processor API processor to the topology and
//! names it as Kafka Streams would (`KSTREAM-FILTER-0000000001`, ...), so
//! `describe()` of a DSL program reads like Kafka Streams' description of
//! the same program. Key-changing operators mark a stream, and a grouping
//! downstream inserts a repartition topic
//! (`<application.id>-<name>-repartition`) that splits the topology into
//! sub-topologies there.
//!
//! Types carry through: a stream's key and value types are checked at every
//! operator, and the plain variants of operators that need serdes (`to`,
//! `group_by_key`, `aggregate`) require [`DefaultSerde`](streams_core::serde::DefaultSerde)
//! types; the `_with` variants take explicit serdes for the rest.
//!
//! # Word count
//!
//! ```
//! use streams_core::prelude::*;
//! use streams_dsl::{Materialized, StreamsBuilder};
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream::<(), String>("text")
//!     .flat_map_values(|line: String| {
//!         line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>()
//!     })
//!     .group_by(|_, word| word.clone())
//!     .count_with(Materialized::named("counts"))
//!     .to_stream()
//!     .to("word-counts");
//! let topology = builder.build()?;
//!
//! let driver = TopologyTestDriver::new(&topology)?;
//! let text = driver.create_input_topic("text", UnitSerde, StringSerde);
//! let counts = driver.create_output_topic("word-counts", StringSerde, I64Serde);
//! text.pipe_value_at("to be or not to be".into(), 5)?;
//! let last = counts.read_key_values_to_map()?;
//! assert_eq!(last["to"], 2);
//! assert_eq!(last["or"], 1);
//! # Ok::<(), StreamsError>(())
//! ```
//!
//! # Joins
//!
//! Streams join streams within [`JoinWindows`], streams look rows up in
//! tables and global tables, and tables join tables on their keys
//! ([`KTable::join`], `left_join`, `outer_join`) or on a foreign key taken
//! from the left row's value or key and value ([`KTable::join_foreign_key`],
//! `left_join_foreign_key`, a [`ForeignKeyExtractor`], named by
//! [`TableJoined`]), which needs no
//! co-partitioning: the left rows subscribe to the right rows through
//! internal topics, as in Kafka Streams.
//!
//! ```
//! use streams_core::prelude::*;
//! use streams_dsl::StreamsBuilder;
//!
//! let builder = StreamsBuilder::new();
//! let orders = builder.table::<String, String>("orders"); // order -> customer id
//! let customers = builder.table::<String, String>("customers"); // id -> name
//! orders
//!     .left_join_foreign_key(&customers, |customer: &String| customer.clone(), |id, name| {
//!         format!("{id}: {}", name.map_or("unknown", String::as_str))
//!     })
//!     .to_stream()
//!     .to("orders-by-customer");
//! let topology = builder.build()?;
//! assert!(topology.describe().to_string().contains("KTABLE-FK-JOIN-OUTPUT-0000000018"));
//! # Ok::<(), StreamsError>(())
//! ```

mod builder;
mod byte_layout;
mod change_serde;
mod cogroup;
mod config;
mod dynamic_sink;
mod emit_strategy;
mod fixed_key;
mod grouped;
mod grouped_table;
mod grouping_repartition;
mod join;
mod kstream;
mod ktable;
mod named;
mod nulls;
mod printed;
mod processors;
mod repartition;
mod row_lookup;
mod split;
mod suppressed;
mod table_node;
mod table_ops;
mod table_source;
mod user_stores;
mod windowed;
mod windowed_serde;
mod windows;

pub use builder::StreamsBuilder;
pub use change_serde::ChangeSerde;
pub use cogroup::{
    CogroupWindowedBy, CogroupedKStream, SessionWindowedCogroupedKStream,
    TimeWindowedCogroupedKStream,
};
pub use config::{Consumed, Grouped, Materialized, Produced};
pub use emit_strategy::EmitStrategy;
pub use fixed_key::{FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord};
pub use grouped::KGroupedStream;
pub use grouped_table::KGroupedTable;
pub use join::{
    ForeignKeyExtractor, JoinWindows, Joined, KeyPartitioner, StreamJoined, TableJoined,
};
pub use kstream::KStream;
pub use ktable::{Change, KTable};
pub use named::{Named, NamedError};
pub use printed::Printed;
pub use repartition::Repartitioned;
pub use split::{Branched, BranchedKStream, Branches};
pub use suppressed::{BufferConfig, StrictBufferConfig, SuppressError, Suppressed};
pub use table_source::GlobalKTable;
pub use windowed::{SessionWindowedKStream, TimeWindowedKStream, WindowedBy};
pub use windowed_serde::WindowedSerde;
pub use windows::{SessionWindows, SlidingWindows, TimeWindows, WindowsError};
