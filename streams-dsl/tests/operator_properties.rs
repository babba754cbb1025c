//! Property tests: the windowed operators, fed random out-of-order and
//! late records, emit exactly what a brute-force model of Kafka Streams'
//! rules computes - every output record, in order.
//!
//! The models follow `KStreamWindowAggregate`, `KStreamSessionWindowAggregate`
//! and `KStreamKStreamJoin` (with the retention of the join's window
//! stores); each rule is named where the model applies it.

mod support;
use support::{pipe, Result};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use streams_core::prelude::*;
use streams_dsl::{
    JoinWindows, KStream, Materialized, SessionWindows, StreamsBuilder, TimeWindows,
};

const KEYS: [&str; 3] = ["a", "b", "c"];

/// One output record: key, value (`None`: a tombstone), timestamp.
type Out<V> = (String, Option<V>, i64);

fn ms(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).expect("non-negative"))
}

/// 64 cases a property; failures are reported, not saved to a file.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    }
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

/// Random inputs `(key, timestamp)`: mostly in order (a base time moving
/// forward in small steps), with some records set back in time by up to
/// 30 ms - out of order, and often late.
fn inputs() -> impl Strategy<Value = Vec<(&'static str, i64)>> {
    prop::collection::vec(
        (
            prop::sample::select(&KEYS[..]),
            0i64..6,
            prop::option::weighted(0.35, 1i64..30),
        ),
        0..40,
    )
    .prop_map(|steps| {
        let mut base = 0;
        steps
            .into_iter()
            .map(|(key, step, back)| {
                base += step;
                (key, back.map_or(base, |back| (base - back).max(0)))
            })
            .collect()
    })
}

/// Writes a windowed count's changelog to "output" with `[key@start/end]`
/// keys.
fn to_output(stream: KStream<streams_core::Windowed<String>, Option<i64>>) {
    stream.map(|k, v| (k.to_string(), v)).to("output");
}

/// Pipes `records` into "input" and returns what "output" received, with
/// the task's dropped-records count.
fn run_counts(builder: &StreamsBuilder, records: &[(&str, i64)]) -> Result<(Vec<Out<i64>>, u64)> {
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let records: Vec<_> = records.iter().map(|&(k, ts)| (k, "x", ts)).collect();
    pipe(&driver, &records)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    let out = output
        .read_records_to_list()?
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    Ok((out, driver.metrics().dropped_records))
}

// ---------------------------------------------------------------------
// Tumbling and hopping windows
// ---------------------------------------------------------------------

/// What a time-windowed `count` emits, by Kafka's rules, and how many
/// (record, window) pairs it drops.
fn time_window_model(
    records: &[(&str, i64)],
    size: i64,
    advance: i64,
    grace: i64,
) -> (Vec<Out<i64>>, u64) {
    let mut stream_time = i64::MIN;
    // (key, window start) -> (count, window timestamp)
    let mut windows: HashMap<(&str, i64), (i64, i64)> = HashMap::new();
    let mut out = Vec::new();
    let mut dropped = 0;
    for &(key, ts) in records {
        // updateObservedStreamTime comes before the expiry check: every
        // record, late or not, advances stream time.
        stream_time = stream_time.max(ts);
        let close_time = stream_time - grace;
        // TimeWindows.windowsFor: epoch-aligned starts, lowest first,
        // from max(0, ts - size + advance) rounded down to the advance.
        let mut start = (ts - size + advance).max(0) / advance * advance;
        while start <= ts {
            let end = start + size;
            // A window is updated only while end > stream time - grace;
            // otherwise the record is skipped for it (and counted dropped).
            if end > close_time {
                let entry = windows.entry((key, start)).or_insert((0, ts));
                entry.0 += 1;
                // The window's timestamp: the latest record in it.
                entry.1 = entry.1.max(ts);
                out.push((format!("[{key}@{start}/{end}]"), Some(entry.0), entry.1));
            } else {
                dropped += 1;
            }
            start += advance;
        }
    }
    (out, dropped)
}

/// The last count each window's updates reach, recounted from scratch: a
/// record counts in a window containing it unless, when it arrived, the
/// largest timestamp so far had reached the window's end plus grace.
fn time_window_recount(
    records: &[(&str, i64)],
    size: i64,
    advance: i64,
    grace: i64,
) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for (i, &(key, ts)) in records.iter().enumerate() {
        let stream_time = records[..=i].iter().map(|r| r.1).max().unwrap_or(ts);
        // Every epoch-aligned window [start, start + size) holding ts.
        for start in (0..=ts).step_by(usize::try_from(advance).expect("positive")) {
            let end = start + size;
            if start <= ts && ts < end && end + grace > stream_time {
                *counts.entry(format!("[{key}@{start}/{end}]")).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// The last value of each key in `out`.
fn last_values<V: Clone>(out: &[Out<V>]) -> BTreeMap<String, Option<V>> {
    out.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect()
}

fn check_time_windows(
    records: &[(&str, i64)],
    size: i64,
    advance: i64,
    grace: i64,
) -> std::result::Result<(), TestCaseError> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(size), ms(grace))
        .and_then(|w| w.advance_by(ms(advance)))
        .map_err(fail)?;
    to_output(
        builder
            .stream::<String, String>("input")
            .group_by_key()
            .windowed_by(windows)
            .count()
            .to_stream(),
    );
    let (actual, dropped) = run_counts(&builder, records).map_err(fail)?;
    let (expected, expected_dropped) = time_window_model(records, size, advance, grace);
    prop_assert_eq!(&actual, &expected);
    prop_assert_eq!(dropped, expected_dropped, "dropped (record, window) pairs");
    let finals: BTreeMap<_, _> = last_values(&actual)
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or(-1)))
        .collect();
    prop_assert_eq!(finals, time_window_recount(records, size, advance, grace));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Tumbling windows: `advance == size`.
    #[test]
    fn tumbling_count_matches_the_model(
        records in inputs(),
        size in 1i64..20,
        grace in 0i64..15,
    ) {
        check_time_windows(&records, size, size, grace)?;
    }

    /// Hopping windows: a record counts in every window containing it.
    #[test]
    fn hopping_count_matches_the_model(
        records in inputs(),
        (size, advance) in (1i64..20).prop_flat_map(|size| (Just(size), 1..=size)),
        grace in 0i64..15,
    ) {
        check_time_windows(&records, size, advance, grace)?;
    }
}

// ---------------------------------------------------------------------
// Session windows
// ---------------------------------------------------------------------

/// One live session of the model.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Session {
    start: i64,
    end: i64,
    count: i64,
}

/// What a session-windowed `count` over a RocksDB session store emits, by
/// Kafka's rules, and how many records it drops.
///
/// `cached: false` is Kafka's `Materialized.withCachingDisabled()`: the
/// segmented store (`AbstractRocksDBSegmentedBytesStore`) hides every
/// session ending at or before its own stream time (the latest session
/// end put into it, over all keys) minus its retention, gap + grace.
///
/// `cached: true` is Kafka's default caching store behind a cache that
/// never fills (the test driver commits after every record):
/// `CachingSessionStore.findSessions` merges the cache, which still holds
/// every session, so nothing is hidden; at the commit each session's last
/// write is flushed, in the order of the last writes (`NamedCache.put`),
/// and a deletion is forwarded only if the store still shows the session
/// (`putAndMaybeForward`: no new and no old value, nothing forwarded).
fn session_model(
    records: &[(&str, i64)],
    gap: i64,
    grace: i64,
    cached: bool,
) -> (Vec<Out<i64>>, u64) {
    let retention = gap + grace;
    let mut stream_time = i64::MIN;
    let mut store_time = i64::MIN;
    let mut sessions: HashMap<&str, Vec<Session>> = HashMap::new();
    let mut out = Vec::new();
    let mut dropped = 0;
    for &(key, ts) in records {
        // Every record advances the processor's stream time before the
        // expiry check.
        stream_time = stream_time.max(ts);
        let close_time = stream_time - grace - gap;
        let shown = |s: &Session| s.end > store_time - retention;
        let own = sessions.entry(key).or_default();
        // findSessions(key, ts - gap, ts + gap): sessions ending at or
        // after ts - gap and starting at or before ts + gap, in the store's
        // order (by end, then start).
        let mut found: Vec<Session> = own
            .iter()
            .copied()
            .filter(|s| s.end >= ts - gap && s.start <= ts + gap && (cached || shown(s)))
            .collect();
        found.sort_by_key(|s| (s.end, s.start));
        let start = found.iter().map(|s| s.start).fold(ts, i64::min);
        let end = found.iter().map(|s| s.end).fold(ts, i64::max);
        // The merged session ending before stream time - grace - gap is
        // dropped whole: nothing is removed or emitted.
        if end < close_time {
            dropped += 1;
            continue;
        }
        // The writes, in order: the found sessions are removed unless the
        // merged session is the record's own [ts, ts] (then the put below
        // overwrites it); then the merged session is put.
        let mut writes: Vec<((i64, i64), Option<i64>)> = Vec::new();
        if (start, end) != (ts, ts) {
            writes.extend(found.iter().map(|s| ((s.start, s.end), None)));
        }
        own.retain(|s| !found.contains(s));
        // The merger sums the found counts; the aggregator adds one.
        let count = found.iter().map(|s| s.count).sum::<i64>() + 1;
        own.push(Session { start, end, count });
        writes.push(((start, end), Some(count)));
        if cached {
            // Only each session's last write leaves the cache, placed
            // where that write was made.
            let last = writes.clone();
            writes.retain(|(w, v)| last.iter().rev().find(|(l, _)| l == w) == Some(&(*w, *v)));
            // A deletion of a session the store no longer shows is not
            // forwarded.
            writes.retain(|((s, e), v)| {
                v.is_some()
                    || shown(&Session {
                        start: *s,
                        end: *e,
                        count: 0,
                    })
            });
        }
        // Every update is stamped with its session's end.
        for ((s, e), v) in writes {
            out.push((format!("[{key}@{s}/{e}]"), v, e));
        }
        // The store's stream time: the latest session end put into it.
        store_time = store_time.max(end);
    }
    (out, dropped)
}

/// Parses `[key@start/end]`.
fn parse_window(key: &str) -> (String, i64, i64) {
    let inner = key.trim_start_matches('[').trim_end_matches(']');
    let (key, window) = inner.split_once('@').expect("windowed key");
    let (start, end) = window.split_once('/').expect("window bounds");
    (
        key.to_owned(),
        start.parse().expect("start"),
        end.parse().expect("end"),
    )
}

/// Runs a session-windowed count (cached or not) and checks it against
/// the model, then checks what the final sessions must satisfy whatever
/// the model says.
fn check_sessions(
    records: &[(&str, i64)],
    gap: i64,
    grace: i64,
    cached: bool,
) -> std::result::Result<(), TestCaseError> {
    let builder = StreamsBuilder::new();
    let windows = SessionWindows::of_inactivity_gap_and_grace(ms(gap), ms(grace)).map_err(fail)?;
    let grouped = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows);
    let counts = if cached {
        // Kafka's default cache size: it never fills here.
        grouped.count_with(Materialized::default().with_caching(10 * 1024 * 1024))
    } else {
        grouped.count()
    };
    to_output(counts.to_stream());
    let (actual, dropped) = run_counts(&builder, records).map_err(fail)?;
    let (expected, expected_dropped) = session_model(records, gap, grace, cached);
    prop_assert_eq!(&actual, &expected);
    prop_assert_eq!(dropped, expected_dropped, "dropped records");

    // Recount from the sessions left standing (tombstones delete): none
    // counts more records than it spans, and while the store hides no
    // session (all timestamps within gap + grace of each other) each
    // record not dropped is counted in exactly one of them. Once sessions
    // can be hidden: uncached, a record's own [ts, ts] put over a hidden
    // session of the same bounds replaces its count, so records can go
    // uncounted; cached, a merged session the store no longer showed keeps
    // its row downstream (its deletion is not forwarded), so records can
    // be counted twice.
    let live: Vec<_> = last_values(&actual)
        .into_iter()
        .filter_map(|(k, v)| v.map(|count| (parse_window(&k), count)))
        .collect();
    for ((key, start, end), count) in &live {
        let inside = records
            .iter()
            .filter(|(k, ts)| k == key && start <= ts && ts <= end)
            .count();
        prop_assert!(usize::try_from(*count).map_err(fail)? <= inside);
    }
    let total = u64::try_from(live.iter().map(|(_, count)| count).sum::<i64>()).map_err(fail)?;
    let kept = records.len() as u64 - dropped;
    let timestamps = records.iter().map(|r| r.1);
    let span = timestamps.clone().max().unwrap_or(0) - timestamps.min().unwrap_or(0);
    if span < gap + grace {
        prop_assert_eq!(total, kept);
    } else if cached {
        prop_assert!(total >= kept);
    } else {
        prop_assert!(total <= kept);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// An uncached session store (this library's default; Kafka's
    /// `withCachingDisabled()`).
    #[test]
    fn session_count_matches_the_model(
        records in inputs(),
        gap in 1i64..10,
        grace in 0i64..10,
    ) {
        check_sessions(&records, gap, grace, false)?;
    }

    /// A cached session store (Kafka's default).
    #[test]
    fn cached_session_count_matches_the_model(
        records in inputs(),
        gap in 1i64..10,
        grace in 0i64..10,
    ) {
        check_sessions(&records, gap, grace, true)?;
    }
}

// ---------------------------------------------------------------------
// Stream-stream inner join
// ---------------------------------------------------------------------

/// One input of the join: which side (`true`: left), key, timestamp.
type JoinInput = (bool, &'static str, i64);

fn join_inputs() -> impl Strategy<Value = Vec<JoinInput>> {
    (inputs(), prop::collection::vec(any::<bool>(), 40)).prop_map(|(records, sides)| {
        records
            .into_iter()
            .zip(sides)
            .map(|((key, ts), left)| (left, key, ts))
            .collect()
    })
}

/// The value of input `i`: `L<i>` or `R<i>`.
fn join_value(i: usize, left: bool) -> String {
    format!("{}{i}", if left { "L" } else { "R" })
}

/// A side's join window store in the model: `(key, timestamp, value)` in
/// arrival order, and the largest timestamp put into it.
type JoinStore<'a> = (Vec<(&'a str, i64, String)>, i64);

/// What `left.join(right, l + "+" + r, windows)` emits, by Kafka's rules.
fn join_model(inputs: &[JoinInput], before: i64, after: i64, grace: i64) -> Vec<Out<String>> {
    // Each side's window store: (key, timestamp, value) in arrival order,
    // and the largest timestamp put into it.
    let mut stores: [JoinStore<'_>; 2] = [(Vec::new(), i64::MIN), (Vec::new(), i64::MIN)];
    // The join's window stores keep records for before + after + grace.
    let retention = before + after + grace;
    let mut out = Vec::new();
    for (i, &(left, key, ts)) in inputs.iter().enumerate() {
        let value = join_value(i, left);
        let (this, other) = if left { (0, 1) } else { (1, 0) };
        // A left record looks for right records in [ts - before,
        // ts + after]; a right record for left ones in [ts - after,
        // ts + before] (clamped at 0).
        let (from, to) = if left {
            ((ts - before).max(0), (ts + after).max(0))
        } else {
            ((ts - after).max(0), (ts + before).max(0))
        };
        let (records, store_time) = &stores[other];
        // A window store fetch sees no record at or before its own stream
        // time - retention.
        let from = from.max(store_time.saturating_sub(retention) + 1);
        let mut matches: Vec<(usize, &(&str, i64, String))> = records
            .iter()
            .enumerate()
            .filter(|(_, (k, t, _))| *k == key && from <= *t && *t <= to)
            .collect();
        // The fetch returns them by timestamp, then arrival.
        matches.sort_by_key(|(arrival, (_, t, _))| (*t, *arrival));
        for (_, (_, t, v)) in matches {
            let joined = if left {
                format!("{value}+{v}")
            } else {
                format!("{v}+{value}")
            };
            // A result is stamped with the later of the two timestamps.
            out.push((key.to_owned(), Some(joined), ts.max(*t)));
        }
        // KStreamJoinWindow puts the record into its side's store after
        // forwarding it to the join; the store's stream time moves even
        // when the record is too old to keep.
        let (records, store_time) = &mut stores[this];
        *store_time = (*store_time).max(ts);
        if ts > *store_time - retention {
            records.push((key, ts, value));
        }
    }
    out
}

fn run_join(inputs: &[JoinInput], windows: JoinWindows) -> Result<Vec<Out<String>>> {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.join(&right, |l: &String, r: &String| format!("{l}+{r}"), windows)
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let left = driver.create_input_topic("left", StringSerde, StringSerde);
    let right = driver.create_input_topic("right", StringSerde, StringSerde);
    for (i, &(is_left, key, ts)) in inputs.iter().enumerate() {
        let topic = if is_left { &left } else { &right };
        topic.pipe_input_at(key.to_owned(), join_value(i, is_left), ts)?;
    }
    let output = driver.create_output_topic("output", StringSerde, StringSerde);
    Ok(output
        .read_records_to_list()?
        .into_iter()
        .map(|r| (r.key, Some(r.value), r.timestamp))
        .collect())
}

fn join_windows(before: i64, after: i64, grace: i64) -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(ms(before), ms(grace))
        .before(ms(before))
        .after(ms(after))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn inner_join_matches_the_model(
        inputs in join_inputs(),
        before in 0i64..10,
        after in 0i64..10,
        grace in 0i64..10,
    ) {
        let actual = run_join(&inputs, join_windows(before, after, grace)).map_err(fail)?;
        prop_assert_eq!(actual, join_model(&inputs, before, after, grace));
    }

    /// With a grace longer than the inputs span nothing expires: the join
    /// pairs every left record with every right record of its key whose
    /// timestamp lies in [left - before, left + after], each pair once.
    #[test]
    fn inner_join_without_expiry_pairs_all_records_in_the_window(
        inputs in join_inputs(),
        before in 0i64..10,
        after in 0i64..10,
    ) {
        let actual = run_join(&inputs, join_windows(before, after, 1_000)).map_err(fail)?;
        let mut actual: Vec<_> = actual.into_iter().map(|(k, v, ts)| (k, v.unwrap_or_default(), ts)).collect();
        let mut pairs = Vec::new();
        for (i, &(l_side, key, l_ts)) in inputs.iter().enumerate() {
            for (j, &(r_side, r_key, r_ts)) in inputs.iter().enumerate() {
                if l_side && !r_side && key == r_key && l_ts - before <= r_ts && r_ts <= l_ts + after {
                    pairs.push((
                        key.to_owned(),
                        format!("{}+{}", join_value(i, true), join_value(j, false)),
                        l_ts.max(r_ts),
                    ));
                }
            }
        }
        actual.sort();
        pairs.sort();
        prop_assert_eq!(actual, pairs);
    }
}
