//! Clicks per user and minute, final counts only, run on the in-process
//! test driver.

use streams_core::prelude::*;
use streams_examples::clicks_per_minute::{self, INPUT_TOPIC, OUTPUT_TOPIC};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let topology = clicks_per_minute::topology()?;
    println!("{}", topology.describe());

    let driver = TopologyTestDriver::new(&topology)?;
    let clicks = driver.create_input_topic(INPUT_TOPIC, StringSerde, StringSerde);
    let counts = driver.create_output_topic(OUTPUT_TOPIC, StringSerde, I64Serde);
    let log = [
        ("alice", "/home", 5_000),
        ("bob", "/home", 12_000),
        ("alice", "/cart", 58_000),
        ("alice", "/pay", 61_000),
        // Late, but within the grace period: still counts for minute 0.
        ("bob", "/help", 59_000),
        // Closes minute 0: stream time passed its end (60 s) plus the
        // grace (10 s), so its final counts come out.
        ("bob", "/home", 75_000),
        // Closes minute 1.
        ("alice", "/home", 130_000),
        // Too late for minute 0: dropped.
        ("bob", "/late", 30_000),
    ];
    for (user, page, timestamp) in log {
        clicks.pipe_input_at(user.to_owned(), page.to_owned(), timestamp)?;
    }
    println!("final clicks per minute (user@minute start = clicks @ last click):");
    for record in counts.read_records_to_list()? {
        println!("  {} = {} @ {}", record.key, record.value, record.timestamp);
    }
    println!("dropped late clicks: {}", driver.metrics().dropped_records);
    Ok(driver.close()?)
}
