//! Clicks per user and minute, with the DSL: tumbling windows of one
//! minute that accept clicks up to ten seconds late, and only each
//! window's final count written out, once the window has closed.

use std::error::Error;
use std::time::Duration;

use streams_core::prelude::*;
use streams_dsl::{EmitStrategy, StreamsBuilder, TimeWindows};

/// The topic clicks are read from: the user as key, the page as value.
pub const INPUT_TOPIC: &str = "clicks";
/// The topic final counts are written to, keyed `user@window start`.
pub const OUTPUT_TOPIC: &str = "clicks-per-minute";

/// How long a window is.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How late a click may come and still count.
pub const GRACE: Duration = Duration::from_secs(10);

/// Counts each user's clicks per minute and writes each minute's final
/// count once stream time has passed the minute's end plus [`GRACE`].
/// Later clicks for a closed minute are dropped (and counted in the task's
/// `dropped_records`).
pub fn topology() -> Result<Topology, Box<dyn Error>> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>(INPUT_TOPIC)
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(WINDOW, GRACE)?)
        .emit_strategy(EmitStrategy::OnWindowClose)
        .count()
        .to_stream()
        // Final results are never deletions: every value is a count.
        .flat_map(|window, count: Option<i64>| {
            count.map(|count| (format!("{}@{}", window.key, window.window.start), count))
        })
        .to(OUTPUT_TOPIC);
    Ok(builder.build()?)
}
