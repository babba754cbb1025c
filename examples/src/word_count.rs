//! Word count with the Processor API: one processor splits lines into
//! words, a second counts them in a key-value store and forwards each new
//! count.

use streams_core::prelude::*;
use streams_core::state::{KeyValueStore, Stores};

/// The topic lines are read from.
pub const INPUT_TOPIC: &str = "text-lines";
/// The topic counts are written to.
pub const OUTPUT_TOPIC: &str = "word-counts";
/// The store holding the counts.
pub const STORE: &str = "counts";

/// Splits each line into lowercase words, keyed by the word.
pub struct SplitWords;

impl Processor<(), String, String, String> for SplitWords {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<(), String>,
    ) -> Result<(), StreamsError> {
        let words = record
            .value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty());
        for word in words {
            let word = word.to_lowercase();
            ctx.forward(Record {
                key: word.clone(),
                value: word,
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// Counts each word in the [`STORE`] store and forwards the new count.
#[derive(Default)]
pub struct CountWords {
    counts: Option<KeyValueStore<String, i64>>,
}

impl Processor<String, String, String, i64> for CountWords {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.counts = Some(ctx.state_store(STORE)?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let Some(counts) = &self.counts else {
            return Ok(());
        };
        let count = counts.get(&record.key)?.unwrap_or(0) + 1;
        counts.put(&record.key, &count)?;
        ctx.forward(record.with_value(count))
    }
}

/// The word-count topology: [`INPUT_TOPIC`] (null keys, string lines) to
/// [`OUTPUT_TOPIC`] (word keys, i64 counts).
pub fn topology() -> Result<Topology, TopologyError> {
    TopologyBuilder::new()
        .add_source(
            "lines",
            &[INPUT_TOPIC],
            SourceOptions::new(UnitSerde, StringSerde),
        )
        .add_processor("split-words", || SplitWords, &["lines"])
        .add_processor("count-words", CountWords::default, &["split-words"])
        .add_state_store(
            Stores::key_value_store_builder::<String, i64>(STORE).in_memory(),
            &["count-words"],
        )
        .add_sink(
            "word-counts",
            OUTPUT_TOPIC,
            SinkOptions::new(StringSerde, I64Serde),
            &["count-words"],
        )
        .build()
}
