//! The core of the streams framework: serdes, records, the Processor API,
//! topologies, the task engine and the [`TopologyTestDriver`].
//!
//! # How the pieces fit
//!
//! A [`TopologyBuilder`] names **sources** (topics in, with deserializers),
//! **processors** (user code implementing [`Processor`]) and **sinks**
//! (topics out, with serializers), links them parent to child, and connects
//! **state stores** to the processors that use them. [`TopologyBuilder::build`]
//! validates the graph and returns a [`Topology`]; `topology.describe()`
//! prints it as Kafka Streams would.
//!
//! A topology runs as tasks. A [`StreamTask`](engine::StreamTask) owns one
//! instance of each node and store; it takes input records in timestamp
//! order, keeps stream time, fires punctuation, and collects output until
//! its driver sends it on. The [`TopologyTestDriver`] drives a task in
//! process, with a mock clock and in-memory topics;
//! [`KafkaStreams`](runtime::KafkaStreams) runs the same tasks between a
//! consumer and a producer on a Kafka cluster.
//!
//! # Example: word count with the Processor API
//!
//! ```
//! use streams_core::prelude::*;
//!
//! struct Split;
//! impl Processor<(), String, String, String> for Split {
//!     fn process(
//!         &mut self,
//!         ctx: &mut ProcessorContext<'_, String, String>,
//!         record: Record<(), String>,
//!     ) -> Result<(), StreamsError> {
//!         for word in record.value.split_whitespace() {
//!             let word = word.to_lowercase();
//!             ctx.forward(Record::new(word.clone(), word, record.timestamp))?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let topology = TopologyBuilder::new()
//!     .add_source("lines", &["text"], SourceOptions::new(UnitSerde, StringSerde))
//!     .add_processor("split", || Split, &["lines"])
//!     .add_sink("words", "words", SinkOptions::new(StringSerde, StringSerde), &["split"])
//!     .build()?;
//!
//! let driver = TopologyTestDriver::new(&topology)?;
//! let text = driver.create_input_topic("text", UnitSerde, StringSerde);
//! let words = driver.create_output_topic("words", StringSerde, StringSerde);
//! text.pipe_value("Hello streams".to_string())?;
//! assert_eq!(words.read_values_to_list()?, vec!["hello", "streams"]);
//! # Ok::<(), StreamsError>(())
//! ```

pub mod engine;
pub mod error;
pub mod processor;
pub mod record;
pub mod runtime;
pub mod serde;
pub mod state;
pub mod test_driver;
pub mod topology;
pub mod window;

pub use error::{StreamsError, TopologyError};
pub use processor::{Processor, ProcessorContext};
pub use record::Record;
pub use test_driver::TopologyTestDriver;
pub use topology::{Topology, TopologyBuilder};
pub use window::{Window, Windowed};

/// The names most programs need.
pub mod prelude {
    pub use crate::error::{StreamsError, TopologyError};
    pub use crate::processor::{Processor, ProcessorContext, PunctuationType, PunctuatorId};
    pub use crate::record::{Headers, Record};
    pub use crate::serde::{
        AvroSerde, BytesSerde, DefaultSerde, Deserializer, F64Serde, I32Serde, I64Serde, JsonSerde,
        OptionSerde, Serde, Serializer, StringSerde, U32Serde, U64Serde, UnitSerde,
    };
    pub use crate::test_driver::{TestRecord, TopologyTestDriver};
    pub use crate::topology::{SinkOptions, SourceOptions, Topology, TopologyBuilder};
}
