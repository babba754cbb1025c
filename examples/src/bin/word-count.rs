//! Word count, the main demo: lines of text in, a running count per word
//! out, run on the in-process test driver.

use streams_core::prelude::*;
use streams_examples::word_count::{self, INPUT_TOPIC, OUTPUT_TOPIC};

fn main() -> Result<(), StreamsError> {
    let topology = word_count::topology()?;
    println!("{}", topology.describe());

    let driver = TopologyTestDriver::new(&topology)?;
    let lines = driver.create_input_topic(INPUT_TOPIC, UnitSerde, StringSerde);
    let counts = driver.create_output_topic(OUTPUT_TOPIC, StringSerde, I64Serde);
    let text = [
        "All streams lead to Kafka",
        "Hello Kafka Streams",
        "Join Kafka Summit",
    ];
    for (second, line) in (0i64..).zip(text) {
        lines.pipe_value_at(line.to_string(), second * 1_000)?;
    }
    println!("word counts (word = count @ timestamp):");
    for record in counts.read_records_to_list()? {
        println!("  {} = {} @ {}", record.key, record.value, record.timestamp);
    }
    driver.close()
}
