//! Word count, the main demo: lines of text in, a running count per word
//! out, run on the in-process test driver.
//!
//! Written with the Processor API: a processor splits lines into words, a
//! second counts them in a key-value store and forwards each new count.

use streams_core::prelude::*;
use streams_core::state::{KeyValueStore, Stores};

/// Splits each line into lowercase words, keyed by the word.
struct SplitWords;

impl Processor<(), String, String, String> for SplitWords {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<(), String>,
    ) -> Result<(), StreamsError> {
        for word in record
            .value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let word = word.to_lowercase();
            ctx.forward(Record::new(word.clone(), word, record.timestamp))?;
        }
        Ok(())
    }
}

/// Counts each word in the `counts` store and forwards the new count.
#[derive(Default)]
struct CountWords {
    counts: Option<KeyValueStore<String, i64>>,
}

impl Processor<String, String, String, i64> for CountWords {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.counts = Some(ctx.state_store("counts")?);
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

fn main() -> Result<(), StreamsError> {
    let topology = TopologyBuilder::new()
        .add_source(
            "lines",
            &["text-lines"],
            SourceOptions::new(UnitSerde, StringSerde),
        )
        .add_processor("split-words", || SplitWords, &["lines"])
        .add_processor("count-words", CountWords::default, &["split-words"])
        .add_state_store(
            Stores::key_value_store_builder::<String, i64>("counts").in_memory(),
            &["count-words"],
        )
        .add_sink(
            "word-counts",
            "word-counts",
            SinkOptions::new(StringSerde, I64Serde),
            &["count-words"],
        )
        .build()?;
    println!("{}", topology.describe());

    let driver = TopologyTestDriver::new(&topology)?;
    let lines = driver.create_input_topic("text-lines", UnitSerde, StringSerde);
    let counts = driver.create_output_topic("word-counts", StringSerde, I64Serde);
    let text = [
        "All streams lead to Kafka",
        "Hello Kafka Streams",
        "Join Kafka Summit",
    ];
    for (i, line) in (0i64..).zip(text) {
        lines.pipe_value_at(line.to_string(), i * 1_000)?;
    }
    println!("word counts (word = count @ timestamp):");
    for record in counts.read_records_to_list()? {
        println!("  {} = {} @ {}", record.key, record.value, record.timestamp);
    }
    driver.close()
}
