//! Null keys and values - `None`s and units, which their serdes write as
//! null - skipped, joined or passed on where Kafka Streams does so with a
//! Java `null` (`KStreamAggregate`, the windowed aggregations,
//! `KTableSource`, `KStreamKTableJoinProcessor`, `KStreamKStreamJoin`).

mod support;
use support::{pair, Kind, Result};

use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::test_driver::TestOutputTopic;
use streams_core::Windowed;
use streams_dsl::{
    JoinWindows, KStream, KTable, SessionWindows, SlidingWindows, StreamsBuilder, TimeWindows,
};

type Nullable = Option<String>;

/// What a run gives: its output records and how many records it dropped.
type Run<K, V> = Result<(Vec<TestRecord<K, V>>, u64)>;

/// What `driver` wrote to `out`, and how many records it dropped.
fn outcome<K, V>(driver: &TopologyTestDriver, out: &TestOutputTopic<K, V>) -> Run<K, V> {
    Ok((
        out.read_records_to_list()?,
        driver.metrics().dropped_records,
    ))
}

/// Checks that a run with optional string keys wrote `expected` and
/// dropped `dropped` records.
fn check<V: Clone + PartialEq + std::fmt::Debug>(
    run: Run<Nullable, V>,
    expected: &[(Option<&str>, V, i64)],
    dropped: u64,
) -> Result {
    let (output, actually_dropped) = run?;
    assert_eq!(output, records(expected));
    assert_eq!(actually_dropped, dropped);
    Ok(())
}

fn some(text: &str) -> Nullable {
    Some(text.to_owned())
}

fn nullable() -> OptionSerde<String> {
    OptionSerde::new(Arc::new(StringSerde))
}

/// `(key, value, timestamp)` records with optional string keys.
fn records<V: Clone>(expected: &[(Option<&str>, V, i64)]) -> Vec<TestRecord<Nullable, V>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.map(str::to_owned), v.clone(), *ts))
        .collect()
}

#[test]
fn deletions_of_a_table_streamed_into_a_count_are_not_counted() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .to_stream()
        .group_by_key()
        .count()
        .to_stream()
        .to("counts");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let users = driver.create_input_topic("users", StringSerde, nullable());
    users.pipe_input_at("ada".to_owned(), some("admin"), 1)?;
    users.pipe_input_at("ada".to_owned(), None, 2)?;
    users.pipe_input_at("ada".to_owned(), some("guest"), 3)?;
    let counts = driver.create_output_topic("counts", StringSerde, I64Serde);
    assert_eq!(
        counts.read_records_to_list()?,
        vec![
            TestRecord::new("ada".to_owned(), 1, 1),
            TestRecord::new("ada".to_owned(), 2, 3),
        ]
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

#[test]
fn aggregations_skip_null_keys_and_values() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Nullable, Nullable>("input")
        .group_by_key()
        .reduce(|total, more| Some(format!("{}+{}", total?, more?)))
        .to_stream()
        .to("totals");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", nullable(), nullable());
    input.pipe_input_at(None, some("a"), 1)?;
    input.pipe_input_at(some("k"), some("b"), 2)?;
    input.pipe_input_at(some("k"), None, 3)?;
    input.pipe_input_at(some("k"), some("c"), 4)?;
    let totals = driver.create_output_topic("totals", nullable(), nullable());
    assert_eq!(
        totals.read_records_to_list()?,
        records(&[(Some("k"), some("b"), 2), (Some("k"), some("b+c"), 4)])
    );
    assert_eq!(driver.metrics().dropped_records, 2);
    Ok(())
}

/// `[key@start/end]` keys, `null` for a null key.
fn window_keys(stream: KStream<Windowed<Nullable>, Option<i64>>) {
    stream
        .map(|k, v| {
            let key = k.key.as_deref().unwrap_or("null");
            (format!("[{key}@{}/{}]", k.window.start, k.window.end), v)
        })
        .to("counts");
}

/// Counts the same input by key in `windows` and returns the output and
/// the number of dropped records. The input has a null key at 2 and a
/// null value at 3.
fn windowed_counts(
    windows: impl FnOnce(&KStream<Nullable, Nullable>) -> KTable<Windowed<Nullable>, i64>,
) -> Run<String, Option<i64>> {
    let builder = StreamsBuilder::new();
    window_keys(windows(&builder.stream::<Nullable, Nullable>("input")).to_stream());
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", nullable(), nullable());
    input.pipe_input_at(some("k"), some("a"), 1)?;
    input.pipe_input_at(None, some("b"), 2)?;
    input.pipe_input_at(some("k"), None, 3)?;
    let counts =
        driver.create_output_topic("counts", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    outcome(&driver, &counts)
}

fn counts(expected: &[(&str, Option<i64>, i64)]) -> Vec<TestRecord<String, Option<i64>>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), *v, *ts))
        .collect()
}

#[test]
fn time_windows_count_null_values_and_skip_null_keys() -> Result {
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
    let (output, dropped) =
        windowed_counts(|stream| stream.group_by_key().windowed_by(windows).count())?;
    assert_eq!(
        output,
        counts(&[("[k@0/10]", Some(1), 1), ("[k@0/10]", Some(2), 3)])
    );
    assert_eq!(dropped, 1);
    Ok(())
}

#[test]
fn session_windows_count_null_values_and_skip_null_keys() -> Result {
    let windows = SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(10))?;
    let (output, dropped) =
        windowed_counts(|stream| stream.group_by_key().windowed_by(windows).count())?;
    // The record at 3 merges the session at 1 away (a tombstone) into one
    // counting both.
    assert_eq!(
        output,
        counts(&[
            ("[k@1/1]", Some(1), 1),
            ("[k@1/1]", None, 1),
            ("[k@1/3]", Some(2), 3),
        ])
    );
    assert_eq!(dropped, 1);
    Ok(())
}

#[test]
fn sliding_windows_skip_null_keys_and_values() -> Result {
    let ten = Duration::from_millis(10);
    let (output, dropped) = windowed_counts(|stream| {
        stream
            .group_by_key()
            .windowed_by(SlidingWindows::of_time_difference_with_no_grace(ten))
            .count()
    })?;
    // An early record's window is [0, time difference], as in Kafka.
    assert_eq!(output, counts(&[("[k@0/10]", Some(1), 1)]));
    assert_eq!(dropped, 2);
    Ok(())
}

#[test]
fn a_stream_read_as_a_table_drops_null_keys() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Nullable, String>("input")
        .to_table()
        .to_stream()
        .to("rows");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", nullable(), StringSerde);
    input.pipe_input_at(None, "a".to_owned(), 1)?;
    input.pipe_input_at(some("k"), "b".to_owned(), 2)?;
    let rows = driver.create_output_topic("rows", nullable(), nullable());
    assert_eq!(
        rows.read_records_to_list()?,
        records(&[(Some("k"), some("b"), 2)])
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Joins the stream "clicks" with the table "users" (inner or left), with
/// the user `k` known, and returns what the clicks give.
fn stream_table(kind: Kind) -> Run<Nullable, String> {
    let builder = StreamsBuilder::new();
    let users = builder.table::<Nullable, String>("users");
    let clicks = builder.stream::<Nullable, Nullable>("clicks");
    let show = |click: &Nullable| click.clone().unwrap_or_else(|| "null".to_owned());
    let joined = match kind {
        Kind::Inner => clicks.join_table(&users, move |c, u| pair(Some(&show(c)), Some(u))),
        Kind::Left => clicks.left_join_table(&users, move |c, u| pair(Some(&show(c)), u)),
        Kind::Outer => unreachable!("stream-table joins are inner or left"),
    };
    joined.to("out");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let users = driver.create_input_topic("users", nullable(), StringSerde);
    users.pipe_input_at(some("k"), "ada".to_owned(), 0)?;
    let clicks = driver.create_input_topic("clicks", nullable(), nullable());
    clicks.pipe_input_at(None, some("a"), 1)?;
    clicks.pipe_input_at(some("k"), None, 2)?;
    clicks.pipe_input_at(some("k"), some("c"), 3)?;
    let out = driver.create_output_topic("out", nullable(), StringSerde);
    outcome(&driver, &out)
}

#[test]
fn stream_table_inner_join_drops_null_keys_and_values() -> Result {
    check(
        stream_table(Kind::Inner),
        &[(Some("k"), "[c, ada]".to_owned(), 3)],
        2,
    )
}

#[test]
fn stream_table_left_join_joins_a_null_key_with_no_row() -> Result {
    check(
        stream_table(Kind::Left),
        &[
            (None, "[a, null]".to_owned(), 1),
            (Some("k"), "[c, ada]".to_owned(), 3),
        ],
        1,
    )
}

/// Joins "left" and "right" within 10 ms and returns what this input
/// gives: a left record with a null key at 1, a right one at 2, a left
/// null value at 3, then a left and a right record of `k` at 4 and 5.
fn stream_stream(kind: Kind) -> Run<Nullable, String> {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<Nullable, Nullable>("left");
    let right = builder.stream::<Nullable, Nullable>("right");
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10));
    let joined = match kind {
        Kind::Inner => left.join(&right, |l, r| pair(l.as_ref(), r.as_ref()), windows),
        Kind::Left => left.left_join(
            &right,
            |l, r| pair(l.as_ref(), r.and_then(Option::as_ref)),
            windows,
        ),
        Kind::Outer => left.outer_join(
            &right,
            |l, r| pair(l.and_then(Option::as_ref), r.and_then(Option::as_ref)),
            windows,
        ),
    };
    joined.to("out");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let left = driver.create_input_topic("left", nullable(), nullable());
    let right = driver.create_input_topic("right", nullable(), nullable());
    left.pipe_input_at(None, some("a"), 1)?;
    right.pipe_input_at(None, some("b"), 2)?;
    left.pipe_input_at(some("k"), None, 3)?;
    left.pipe_input_at(some("k"), some("c"), 4)?;
    right.pipe_input_at(some("k"), some("d"), 5)?;
    let out = driver.create_output_topic("out", nullable(), StringSerde);
    outcome(&driver, &out)
}

#[test]
fn stream_stream_inner_join_drops_null_keys_and_values() -> Result {
    check(
        stream_stream(Kind::Inner),
        &[(Some("k"), "[c, d]".to_owned(), 5)],
        3,
    )
}

#[test]
fn stream_stream_left_join_emits_a_left_null_key_at_once() -> Result {
    check(
        stream_stream(Kind::Left),
        &[
            (None, "[a, null]".to_owned(), 1),
            (Some("k"), "[c, d]".to_owned(), 5),
        ],
        2,
    )
}

#[test]
fn stream_stream_outer_join_emits_null_keys_of_both_sides_at_once() -> Result {
    check(
        stream_stream(Kind::Outer),
        &[
            (None, "[a, null]".to_owned(), 1),
            (None, "[null, b]".to_owned(), 2),
            (Some("k"), "[c, d]".to_owned(), 5),
        ],
        1,
    )
}

/// Keys each word by its first letter, `None` for an empty word.
fn by_initial(builder: &StreamsBuilder) -> KStream<Nullable, String> {
    builder
        .stream::<String, String>("words")
        .select_key(|_, word: &String| word.get(..1).map(str::to_owned))
}

fn pipe_words(driver: &TopologyTestDriver) -> Result {
    let words = driver.create_input_topic("words", StringSerde, StringSerde);
    for (word, timestamp) in [("apple", 1), ("", 2), ("avocado", 3)] {
        words.pipe_input_at(String::new(), word.to_owned(), timestamp)?;
    }
    Ok(())
}

#[test]
fn a_repartition_topic_drops_null_keys_silently() -> Result {
    let builder = StreamsBuilder::new();
    by_initial(&builder)
        .group_by_key()
        .count()
        .to_stream()
        .to("counts");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_words(&driver)?;
    let counts = driver.create_output_topic("counts", nullable(), I64Serde);
    assert_eq!(
        counts.read_records_to_list()?,
        records(&[(Some("a"), 1, 1), (Some("a"), 2, 3)])
    );
    // Kafka's filter there drops them without counting.
    assert_eq!(driver.metrics().dropped_records, 0);
    Ok(())
}

#[test]
fn a_repartition_topic_keeps_null_keys_for_a_left_join_downstream() -> Result {
    let builder = StreamsBuilder::new();
    let fruit = builder.table::<Nullable, String>("fruit");
    by_initial(&builder)
        .left_join_table(&fruit, |word, kind| pair(Some(word), kind))
        .to("out");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let kinds = driver.create_input_topic("fruit", nullable(), StringSerde);
    kinds.pipe_input_at(some("a"), "tree".to_owned(), 0)?;
    pipe_words(&driver)?;
    let out = driver.create_output_topic("out", nullable(), StringSerde);
    assert_eq!(
        out.read_records_to_list()?,
        records(&[
            (Some("a"), "[apple, tree]".to_owned(), 1),
            (None, "[, null]".to_owned(), 2),
            (Some("a"), "[avocado, tree]".to_owned(), 3),
        ])
    );
    assert_eq!(driver.metrics().dropped_records, 0);
    Ok(())
}

#[test]
fn a_table_regrouped_under_a_null_key_leaves_the_row_out() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .group_by(|user, region: &String| {
            let region = (!region.is_empty()).then(|| region.clone());
            (region, user.clone())
        })
        .count()
        .to_stream()
        .to("regions");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let users = driver.create_input_topic("users", StringSerde, StringSerde);
    for (user, region, timestamp) in [
        ("ada", "eu", 1),
        ("bob", "", 2),
        ("ada", "", 3),
        ("bob", "us", 4),
    ] {
        users.pipe_input_at(user.to_owned(), region.to_owned(), timestamp)?;
    }
    let regions = driver.create_output_topic("regions", nullable(), I64Serde);
    // Kafka's `KTableRepartitionMap` sends neither half of a pair whose
    // key is null: bob's first row is never counted nor subtracted.
    assert_eq!(
        regions.read_records_to_list()?,
        records(&[(Some("eu"), 1, 1), (Some("eu"), 0, 3), (Some("us"), 1, 4)])
    );
    assert_eq!(driver.metrics().dropped_records, 0);
    Ok(())
}

/// Joins orders with the global table of products under the product each
/// order names, `None` for an order naming none.
fn global_join(kind: Kind) -> Run<Nullable, String> {
    let builder = StreamsBuilder::new();
    let products = builder.global_table::<Nullable, String>("products");
    let orders = builder.stream::<Nullable, String>("orders");
    let product = |_: &Nullable, order: &String| (!order.is_empty()).then(|| order.clone());
    let joined = match kind {
        Kind::Inner => orders.join_global(&products, product, |o, p| pair(Some(o), Some(p))),
        Kind::Left => orders.left_join_global(&products, product, |o, p| pair(Some(o), p)),
        Kind::Outer => unreachable!("global-table joins are inner or left"),
    };
    joined.to("out");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let products = driver.create_input_topic("products", nullable(), StringSerde);
    products.pipe_input_at(some("tea"), "green".to_owned(), 0)?;
    let orders = driver.create_input_topic("orders", nullable(), StringSerde);
    orders.pipe_input_at(some("o1"), "tea".to_owned(), 1)?;
    orders.pipe_input_at(some("o2"), String::new(), 2)?;
    orders.pipe_input_at(None, "tea".to_owned(), 3)?;
    let out = driver.create_output_topic("out", nullable(), StringSerde);
    outcome(&driver, &out)
}

#[test]
fn global_joins_drop_records_whose_row_key_is_null_unless_left_joined() -> Result {
    // A record whose own key is null joins under the key it maps to. One
    // mapped to a null row key is dropped by an inner join, and joined
    // with no row by a left join (Kafka 4.1's `KStreamKTableJoinProcessor`,
    // KAFKA-19208, as KIP-962 meant it).
    check(
        global_join(Kind::Inner),
        &[
            (Some("o1"), "[tea, green]".to_owned(), 1),
            (None, "[tea, green]".to_owned(), 3),
        ],
        1,
    )?;
    check(
        global_join(Kind::Left),
        &[
            (Some("o1"), "[tea, green]".to_owned(), 1),
            (Some("o2"), "[, null]".to_owned(), 2),
            (None, "[tea, green]".to_owned(), 3),
        ],
        0,
    )
}
