//! Word count through the task engine against a hand-written loop.
//!
//! Runs the DSL word count (`flat_map_values`, `group_by`, `count`) over
//! 10 million words on one `StreamTask`, committing every 10,000 processed
//! records as the runtime would and looping the repartition topic back in,
//! with an in-memory store (uncached, then with a 10 MiB cache - Kafka
//! Streams' default, which emits each word's count once per commit) and
//! with RocksDB; then counts the same words with a `HashMap` loop. Prints
//! each time (the best of a few runs) and the ratios to the loop.
//!
//! `cargo bench -p streams-dsl --bench word_count [-- WORDS] [VARIANT]`,
//! where VARIANT (`memory`, `cached` or `rocksdb`) runs only that one, for
//! profiling.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use streams_core::engine::{StreamTask, SystemClock, TaskConfig};
use streams_core::record::{ConsumerRecord, Headers, TopicName};
use streams_core::{StreamsError, Topology};
use streams_dsl::{Materialized, StreamsBuilder};

const WORDS_PER_LINE: usize = 10;
const VOCABULARY: u64 = 10_000;
const COMMIT_EVERY: u64 = 10_000;

/// Deterministic lines of words drawn from a fixed vocabulary.
fn lines(words: usize) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % VOCABULARY
    };
    (0..words.div_ceil(WORDS_PER_LINE))
        .map(|_| {
            (0..WORDS_PER_LINE)
                .map(|_| format!("word{}", next()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Kafka Streams' default `statestore.cache.max.bytes`.
const CACHE_BYTES: usize = 10 * 1024 * 1024;

fn word_count(materialized: Materialized<String, i64>) -> Result<Topology, StreamsError> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>("text")
        .flat_map_values(|line: String| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .group_by(|_, word| word.clone())
        .count_with(materialized)
        .to_stream()
        .to("counts");
    Ok(builder.build()?)
}

/// What the driver does with an output record, decided per topic.
#[derive(Clone, Copy)]
enum Route {
    /// A topic the task reads (the repartition topic): fed back in.
    LoopBack,
    /// The output topic: counted.
    Output,
    /// A changelog: sent and forgotten.
    Drop,
}

/// The route of each topic the task wrote to so far, found by comparing
/// (interned) names, as a producer finds its batch for a topic.
#[derive(Default)]
struct Routes(Vec<(TopicName, Route)>);

impl Routes {
    fn route(&mut self, task: &StreamTask, topic: TopicName) -> Route {
        let known = self.0.iter().find(|(name, _)| *name == topic);
        if let Some(&(_, route)) = known {
            return route;
        }
        let route = if task.reads(&topic) {
            Route::LoopBack
        } else if topic == "counts" {
            Route::Output
        } else {
            Route::Drop
        };
        self.0.push((topic, route));
        route
    }
}

/// Runs the topology over `lines` and returns the time and the number of
/// records written to the output topic (changelog records are produced too,
/// and dropped here as a producer would send them).
fn run_engine(
    topology: &Topology,
    lines: &[String],
    state_dir: Option<PathBuf>,
) -> Result<(Duration, u64), StreamsError> {
    let mut config = TaskConfig::new("bench", Rc::new(SystemClock));
    config.state_dir = state_dir;
    let mut task = StreamTask::new(topology, config)?;
    let text = TopicName::new("text");
    let mut routes = Routes::default();
    let mut loop_back_offset = 0;
    let mut processed = 0u64;
    let mut outputs = 0u64;
    let mut output = Vec::new();
    let start = Instant::now();
    for (offset, line) in (0i64..).zip(lines) {
        task.add_records([ConsumerRecord {
            topic: text,
            partition: 0,
            offset,
            timestamp: offset,
            key: None,
            value: Some(line.as_bytes().to_vec()),
            headers: Headers::new(),
        }])?;
        while task.process()? {
            processed += 1;
            if processed % COMMIT_EVERY == 0 {
                task.commit()?;
            }
            task.take_output(&mut output);
            for record in output.drain(..) {
                match routes.route(&task, record.topic) {
                    Route::LoopBack => {
                        task.add_records([ConsumerRecord {
                            topic: record.topic,
                            partition: 0,
                            offset: loop_back_offset,
                            timestamp: record.timestamp,
                            key: record.key,
                            value: record.value,
                            headers: record.headers,
                        }])?;
                        loop_back_offset += 1;
                    }
                    Route::Output => outputs += 1,
                    Route::Drop => {}
                }
            }
        }
    }
    task.commit()?;
    task.close()?;
    Ok((start.elapsed(), outputs))
}

/// The baseline: the same counting, by hand.
fn run_hand_written(lines: &[String]) -> (Duration, u64) {
    let start = Instant::now();
    let mut counts: HashMap<String, i64> = HashMap::new();
    let mut outputs = 0u64;
    for line in lines {
        for word in line.split_whitespace() {
            *counts.entry(word.to_owned()).or_default() += 1;
            outputs += 1;
        }
    }
    std::hint::black_box(&counts);
    (start.elapsed(), outputs)
}

/// Each figure is the best of this many runs: the machine is shared and
/// noisy, and the fastest run is the one least disturbed.
const ROUNDS: usize = 3;

/// The fastest of [`ROUNDS`] runs of `run`, which returns a time and a
/// count that must not change from run to run.
fn best_of<E>(mut run: impl FnMut() -> Result<(Duration, u64), E>) -> Result<(Duration, u64), E> {
    let mut best = run()?;
    for _ in 1..ROUNDS {
        let (elapsed, outputs) = run()?;
        assert_eq!(outputs, best.1, "every run gives the same output");
        best.0 = best.0.min(elapsed);
    }
    Ok(best)
}

fn main() -> Result<(), StreamsError> {
    let words: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(10_000_000);
    let only = std::env::args()
        .skip(1)
        .find(|arg| ["memory", "cached", "rocksdb"].contains(&arg.as_str()));
    let runs = |variant: &str| only.as_deref().is_none_or(|only| only == variant);
    let lines = lines(words);
    println!(
        "word count over {words} words ({} lines), commit every {COMMIT_EVERY} records, \
         best of {ROUNDS} runs each",
        lines.len()
    );

    let (baseline, expected) = best_of(|| Ok::<_, StreamsError>(run_hand_written(&lines)))?;
    println!("hand-written loop: {:>8.3} s", baseline.as_secs_f64());

    let report = |label: &str, elapsed: Duration, outputs: u64| {
        println!(
            "engine, {label:<26} {:>8.3} s  ratio {:>5.1}x  ({outputs} count updates)",
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() / baseline.as_secs_f64()
        );
    };

    let in_memory = || Materialized::named("counts").in_memory();
    if runs("memory") {
        let topology = word_count(in_memory())?;
        let (elapsed, outputs) = best_of(|| run_engine(&topology, &lines, None))?;
        assert_eq!(outputs, expected, "one count update per word");
        report("in-memory store:", elapsed, outputs);
    }

    if runs("cached") {
        let topology = word_count(in_memory().with_caching(CACHE_BYTES))?;
        let (elapsed, outputs) = best_of(|| run_engine(&topology, &lines, None))?;
        assert!(
            outputs < expected,
            "the cache collapses updates between commits"
        );
        report("in-memory store, cached:", elapsed, outputs);
    }

    if !runs("rocksdb") {
        return Ok(());
    }
    let topology = word_count(Materialized::named("counts"))?;
    let (elapsed, outputs) = best_of(|| {
        let dir = std::env::temp_dir().join(format!("word-count-bench-{}", std::process::id()));
        let result = run_engine(&topology, &lines, Some(dir.clone()));
        let _ = std::fs::remove_dir_all(&dir);
        result
    })?;
    assert_eq!(outputs, expected, "one count update per word");
    report("RocksDB store:", elapsed, outputs);
    Ok(())
}
