//! Helpers shared by the DSL's behaviour tests.

// Each test binary uses a different subset.
#![allow(dead_code)]

use streams_core::prelude::*;

/// What tests that use `?` return.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Pipes `(key, value, timestamp)` string records into the topic "input".
pub fn pipe(driver: &TopologyTestDriver, records: &[(&str, &str, i64)]) -> Result {
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in records {
        input.pipe_input_at(k.to_string(), v.to_string(), *ts)?;
    }
    Ok(())
}

/// Which kind of join a test builds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Inner join.
    Inner,
    /// Left join.
    Left,
    /// Outer join.
    Outer,
}

/// `[left, right]` as the developer guide writes joiner arguments.
pub fn pair(left: Option<&String>, right: Option<&String>) -> String {
    let show = |v: Option<&String>| v.map_or("null".to_owned(), Clone::clone);
    format!("[{}, {}]", show(left), show(right))
}

/// The repartition topics `topology` creates, by name.
pub fn repartition_topics(topology: &Topology) -> Vec<&str> {
    topology
        .internal_topics()
        .iter()
        .map(String::as_str)
        .filter(|topic| topic.ends_with("-repartition"))
        .collect()
}
