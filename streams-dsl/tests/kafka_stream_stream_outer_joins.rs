//! Kafka Streams' `KStreamKStreamLeftJoinTest` and
//! `KStreamKStreamOuterJoinTest`, ported: the same records piped through
//! the same left and outer stream-stream joins, and the whole output
//! (keys, values, timestamps, in order) checked against what Kafka's tests
//! expect. Kafka's joiner there is `left + "+" + right`, with `null` for a
//! missing side; its left-join tests join strings to strings, its
//! outer-join tests strings to longs.

mod support;
use support::{ms, Kind};

use std::fmt::Display;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::test_driver::{TestInputTopic, TestOutputTopic};
use streams_dsl::{JoinWindows, StreamJoined, StreamsBuilder};

/// The keys Kafka's tests loop over.
const KEYS: [i32; 4] = [0, 1, 2, 3];

/// One expected output record: key, value, timestamp.
type Out = (i32, String, i64);

/// A join window of `difference` ms either side and `grace` ms of grace.
fn windows(difference: u64, grace: u64) -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(ms(difference), ms(grace))
}

/// The values of the right stream: strings in Kafka's left-join tests,
/// longs in its outer-join tests.
trait RightValue: DefaultSerde + Clone + Display + 'static {
    /// The value a test's round `round` ('a', 'b', ...) gives `key`:
    /// `"a0"`, `"b1"`, ... for strings; `10 + key`, `20 + key`, ... for
    /// longs.
    fn of(round: char, key: i32) -> Self;
    /// The value of the record piped only to move stream time.
    fn dummy() -> Self;
}

impl RightValue for String {
    fn of(round: char, key: i32) -> Self {
        format!("{round}{key}")
    }

    fn dummy() -> Self {
        "dummy".to_owned()
    }
}

impl RightValue for i64 {
    fn of(round: char, key: i32) -> Self {
        let round = i64::from(u32::from(round) - u32::from('a') + 1);
        10 * round + i64::from(key)
    }

    fn dummy() -> Self {
        100
    }
}

/// Which input a record goes to.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

fn show<T: Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "null".to_owned(), ToString::to_string)
}

/// `topic1 <kind> topic2` into `out`, on a test driver.
struct Join<V2: 'static> {
    stores: usize,
    left: TestInputTopic<i32, String>,
    right: TestInputTopic<i32, V2>,
    out: TestOutputTopic<i32, String>,
    _driver: TopologyTestDriver,
}

impl<V2: RightValue> Join<V2> {
    fn new(kind: Kind, windows: JoinWindows) -> Self {
        Self::with(kind, windows, StreamJoined::default())
    }

    fn with(kind: Kind, windows: JoinWindows, joined: StreamJoined<i32, String, V2>) -> Self {
        let builder = StreamsBuilder::new();
        let left = builder.stream::<i32, String>("topic1");
        let right = builder.stream::<i32, V2>("topic2");
        let joined = match kind {
            Kind::Inner => left.join_with(&right, |l, r| format!("{l}+{r}"), windows, joined),
            Kind::Left => {
                left.left_join_with(&right, |l, r| format!("{l}+{}", show(r)), windows, joined)
            }
            Kind::Outer => left.outer_join_with(
                &right,
                |l, r| format!("{}+{}", show(l), show(r)),
                windows,
                joined,
            ),
        };
        joined.to("out");
        let topology = builder.build().expect("valid topology");
        let driver = TopologyTestDriver::new(&topology).expect("driver");
        Self {
            stores: topology.store_names().len(),
            left: driver.create_input_topic("topic1", I32Serde, StringSerde),
            right: driver.create_input_topic("topic2", I32Serde, V2::default_serde()),
            out: driver.create_output_topic("out", I32Serde, StringSerde),
            _driver: driver,
        }
    }

    /// Pipes `(key, value, timestamp)` records into the left stream.
    fn left<S: Into<String>>(&self, records: impl IntoIterator<Item = (i32, S, i64)>) {
        for (key, value, timestamp) in records {
            self.left
                .pipe_input_at(key, value.into(), timestamp)
                .expect("pipe left");
        }
    }

    /// Pipes `(key, value, timestamp)` records into the right stream.
    fn right<R: Into<V2>>(&self, records: impl IntoIterator<Item = (i32, R, i64)>) {
        for (key, value, timestamp) in records {
            self.right
                .pipe_input_at(key, value.into(), timestamp)
                .expect("pipe right");
        }
    }

    /// `<round><key>` into the left stream for each of `keys`, the first
    /// at `timestamp` and each next one `step` ms later.
    fn left_round(&self, keys: &[i32], round: &str, timestamp: i64, step: i64) {
        self.left(
            keys.iter()
                .zip(0..)
                .map(|(&key, i)| (key, format!("{round}{key}"), timestamp + step * i)),
        );
    }

    /// [`RightValue::of`] into the right stream for each of `keys`, the
    /// first at `timestamp` and each next one `step` ms later.
    fn right_round(&self, keys: &[i32], round: char, timestamp: i64, step: i64) {
        self.right(
            keys.iter()
                .zip(0..)
                .map(|(&key, i)| (key, V2::of(round, key), timestamp + step * i)),
        );
    }

    /// Checks everything the join emitted since the last check.
    fn expect<S: AsRef<str>>(&self, expected: impl IntoIterator<Item = (i32, S, i64)>) {
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(key, value, timestamp)| {
                TestRecord::new(key, value.as_ref().to_owned(), timestamp)
            })
            .collect();
        assert_eq!(self.out.read_records_to_list().expect("read"), expected);
    }

    /// Checks that the join emitted nothing since the last check.
    fn expect_nothing(&self) {
        self.expect::<&str>([]);
    }

    /// The left record `<left><key>` joined with round `round`'s right
    /// value of `key`.
    fn hit(&self, key: i32, left: &str, round: char, timestamp: i64) -> Out {
        (
            key,
            format!("{left}{key}+{}", V2::of(round, key)),
            timestamp,
        )
    }

    /// The left record `<left><key>` without a match.
    fn left_alone(&self, key: i32, left: &str, timestamp: i64) -> Out {
        (key, format!("{left}{key}+null"), timestamp)
    }

    /// Round `round`'s right value of `key` without a match.
    fn right_alone(&self, key: i32, round: char, timestamp: i64) -> Out {
        (key, format!("null+{}", V2::of(round, key)), timestamp)
    }
}

/// Kafka's `runLeftJoin` and `runOuterJoin`: everything at time 0 joins
/// (as the cross product, oldest matches first), and a later record
/// closing all windows emits nothing more, as nothing is left unmatched.
fn run_join<V2: RightValue>(
    kind: Kind,
    windows: JoinWindows,
    joined: StreamJoined<i32, String, V2>,
    dummy_at: i64,
) {
    let j = Join::<V2>::with(kind, windows, joined);
    // Both window stores and the shared store of unmatched records.
    assert_eq!(j.stores, 3);

    j.left_round(&KEYS[..2], "A", 0, 0);
    j.expect_nothing();

    j.right_round(&KEYS[..2], 'a', 0, 0);
    j.expect([j.hit(0, "A", 'a', 0), j.hit(1, "A", 'a', 0)]);

    j.left_round(&KEYS[..3], "B", 0, 0);
    j.expect([j.hit(0, "B", 'a', 0), j.hit(1, "B", 'a', 0)]);

    j.right_round(&KEYS, 'b', 0, 0);
    j.expect([
        j.hit(0, "A", 'b', 0),
        j.hit(0, "B", 'b', 0),
        j.hit(1, "A", 'b', 0),
        j.hit(1, "B", 'b', 0),
        j.hit(2, "B", 'b', 0),
    ]);

    j.left_round(&KEYS, "C", 0, 0);
    j.expect([
        j.hit(0, "C", 'a', 0),
        j.hit(0, "C", 'b', 0),
        j.hit(1, "C", 'a', 0),
        j.hit(1, "C", 'b', 0),
        j.hit(2, "C", 'b', 0),
        j.hit(3, "C", 'b', 0),
    ]);

    j.left([(0, "dummy", dummy_at)]);
    j.expect_nothing();
}

/// Kafka's `testOrdering`: an unmatched record closed by a later record
/// is emitted before that record's own join result.
fn ordering<V2: RightValue>(kind: Kind) {
    let j = Join::<V2>::new(kind, windows(100, 0));
    j.left([(0, "A0", 0), (1, "A1", 100)]);
    j.expect_nothing();

    j.right([(1, V2::of('a', 1), 110)]);
    j.expect([j.left_alone(0, "A", 0), j.hit(1, "A", 'a', 110)]);
}

/// Kafka's `testLeftExpiredNonJoinedRecordsAreEmittedBy{Left,Right}Processor`:
/// unmatched left records (duplicates of a key included) are emitted by
/// the first in-order record past their windows, whichever side it is on.
fn left_records_expire<V2: RightValue>(kind: Kind, closed_by: Side) {
    let j = Join::<V2>::new(kind, windows(100, 0));
    j.left([(0, "A0", 1), (1, "A1", 2), (0, "A0-0", 3)]);
    j.expect_nothing();

    j.right([(1, V2::of('a', 1), 3)]);
    j.expect([j.hit(1, "A", 'a', 3)]);

    let closed = [(0, "A0+null", 1), (0, "A0-0+null", 3)];
    let joined_dummy = format!("dummy+{}", V2::dummy());
    match closed_by {
        Side::Left => {
            j.left([(2, "dummy", 401)]);
            j.expect(closed);
            j.right([(2, V2::dummy(), 401)]);
            j.expect([(2, joined_dummy, 401)]);
        }
        Side::Right => {
            j.right([(2, V2::dummy(), 401)]);
            j.expect(closed);
            j.left([(2, "dummy", 402)]);
            j.expect([(2, joined_dummy, 402)]);
        }
    }
}

/// Kafka's `testWindowing`: with a 100 ms window and no grace, records
/// exactly 100 ms apart still join; unmatched left records wait for their
/// window to close, unless they are already too late for it, and then
/// are emitted at once.
fn windowing<V2: RightValue>(kind: Kind, late_dummy_at: i64) {
    let j = Join::<V2>::new(kind, windows(100, 0));
    j.left_round(&KEYS[..2], "A", 0, 0);
    j.expect_nothing();
    j.right_round(&KEYS, 'a', 0, 0);
    j.expect([j.hit(0, "A", 'a', 0), j.hit(1, "A", 'a', 0)]);

    // Upper bound: right records b0..b3 at 1000..1003.
    j.right_round(&KEYS, 'b', 1000, 1);
    match kind {
        // They close the windows of the unmatched right records.
        Kind::Outer => j.expect([j.right_alone(2, 'a', 0), j.right_alone(3, 'a', 0)]),
        _ => j.expect_nothing(),
    }
    j.left_round(&KEYS, "B", 1100, 0);
    j.expect(KEYS.map(|k| j.hit(k, "B", 'b', 1100)));
    j.left_round(&KEYS, "C", 1101, 0);
    j.expect(KEYS[1..].iter().map(|&k| j.hit(k, "C", 'b', 1101)));
    j.left_round(&KEYS, "D", 1102, 0);
    j.expect(KEYS[2..].iter().map(|&k| j.hit(k, "D", 'b', 1102)));
    j.left_round(&KEYS, "E", 1103, 0);
    j.expect([j.hit(3, "E", 'b', 1103)]);
    j.left_round(&KEYS, "F", 1104, 0);
    j.expect_nothing();
    j.left([(0, "dummy", 1405)]);
    j.expect([
        j.left_alone(0, "C", 1101),
        j.left_alone(0, "D", 1102),
        j.left_alone(1, "D", 1102),
        j.left_alone(0, "E", 1103),
        j.left_alone(1, "E", 1103),
        j.left_alone(2, "E", 1103),
        j.left_alone(0, "F", 1104),
        j.left_alone(1, "F", 1104),
        j.left_alone(2, "F", 1104),
        j.left_alone(3, "F", 1104),
    ]);

    // Lower bound: left records late for their windows.
    j.left_round(&KEYS, "G", 899, 0);
    j.expect(KEYS.map(|k| j.left_alone(k, "G", 899)));
    j.left_round(&KEYS, "H", 900, 0);
    j.expect([
        j.hit(0, "H", 'b', 1000),
        j.left_alone(1, "H", 900),
        j.left_alone(2, "H", 900),
        j.left_alone(3, "H", 900),
    ]);
    j.left_round(&KEYS, "I", 901, 0);
    j.expect([
        j.hit(0, "I", 'b', 1000),
        j.hit(1, "I", 'b', 1001),
        j.left_alone(2, "I", 901),
        j.left_alone(3, "I", 901),
    ]);
    j.left_round(&KEYS, "J", 902, 0);
    j.expect([
        j.hit(0, "J", 'b', 1000),
        j.hit(1, "J", 'b', 1001),
        j.hit(2, "J", 'b', 1002),
        j.left_alone(3, "J", 902),
    ]);
    j.left_round(&KEYS, "K", 903, 0);
    j.expect(KEYS.map(|k| j.hit(k, "K", 'b', 1000 + i64::from(k))));
    j.left([(0, "dummy", late_dummy_at)]);
    j.expect([(0, "dummy+null", late_dummy_at)]);
}

/// The start of Kafka's asymmetric-window tests with `before(0)`: a right
/// record joins only left records up to 100 ms before it, so a left
/// record's window closes 100 ms after it.
fn before_zero<V2: RightValue>(kind: Kind) -> Join<V2> {
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(100)).before(Duration::ZERO);
    let j = Join::<V2>::new(kind, windows);
    j.left_round(&KEYS[..2], "A", 0, 1);
    j.expect_nothing();

    j.right([(0, V2::of('a', 0), 100)]);
    j.expect([j.hit(0, "A", 'a', 100)]);

    j.right([(1, V2::of('a', 1), 102)]);
    j.expect([j.left_alone(1, "A", 1)]);
    j
}

// --- KStreamKStreamLeftJoinTest ---

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftJoinDuplicates`.
#[test]
fn left_join_duplicates() {
    let j = Join::<String>::new(Kind::Left, windows(100, 10));
    // Unmatched duplicates are both emitted once their window closed.
    j.left([(0, "A0", 0), (0, "A0-0", 0)]);
    j.right([(1, "a0", 111), (2, "dummy", 500)]);
    j.expect([(0, "A0+null", 0), (0, "A0-0+null", 0)]);

    // Matched duplicates both join.
    j.left([(2, "A2", 1000), (2, "A2-0", 1000)]);
    j.right([(2, "a2", 1001)]);
    j.expect([(2, "A2+a2", 1001), (2, "A2-0+a2", 1001)]);

    // Closing their window later emits nothing for them.
    j.right([(3, "a3", 315)]);
    j.expect_nothing();
}

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor`.
#[test]
fn left_join_left_expired_records_are_emitted_by_the_left_processor() {
    left_records_expire::<String>(Kind::Left, Side::Left);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor`.
#[test]
fn left_join_left_expired_records_are_emitted_by_the_right_processor() {
    left_records_expire::<String>(Kind::Left, Side::Right);
}

/// Kafka's `testRightNonJoinedRecordsAreNeverEmittedBy{Left,Right}Processor`:
/// a left join never emits unmatched right records.
fn right_records_never_emitted(closed_by: Side) {
    let j = Join::<String>::new(Kind::Left, windows(100, 0));
    j.right([(0, "A0", 1), (1, "A1", 2), (0, "A0-0", 3)]);
    j.expect_nothing();

    j.left([(1, "a1", 3)]);
    j.expect([(1, "a1+A1", 3)]);

    match closed_by {
        Side::Left => {
            j.left([(2, "dummy", 401)]);
            j.expect_nothing();
            j.right([(2, "dummy", 402)]);
        }
        Side::Right => {
            j.right([(2, "dummy", 401)]);
            j.expect_nothing();
            j.left([(2, "dummy", 402)]);
        }
    }
    j.expect([(2, "dummy+dummy", 402)]);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheLeftProcessor`.
#[test]
fn left_join_right_records_are_never_emitted_by_the_left_processor() {
    right_records_never_emitted(Side::Left);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheRightProcessor`.
#[test]
fn left_join_right_records_are_never_emitted_by_the_right_processor() {
    right_records_never_emitted(Side::Right);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftJoinedRecordsWithZeroAfterAreEmitted`.
#[test]
fn left_join_with_zero_after_emits_records_once_past_them() {
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(100)).after(Duration::ZERO);
    let j = Join::<String>::new(Kind::Left, windows);
    // A left record's window ends at its own timestamp: each next record
    // closes the previous one's.
    j.left_round(&KEYS, "A", 1000, 1);
    j.expect([
        (0, "A0+null", 1000),
        (1, "A1+null", 1001),
        (2, "A2+null", 1002),
    ]);

    // Right records still join left records up to 100 ms after them.
    j.right_round(&KEYS, 'a', 999, 0);
    j.expect(KEYS.map(|k| j.hit(k, "A", 'a', 1000 + i64::from(k))));
    j.right_round(&KEYS, 'b', 1000, 0);
    j.expect(KEYS.map(|k| j.hit(k, "A", 'b', 1000 + i64::from(k))));
    j.right_round(&KEYS, 'c', 1001, 0);
    j.expect(
        KEYS[1..]
            .iter()
            .map(|&k| j.hit(k, "A", 'c', 1000 + i64::from(k))),
    );
    j.right_round(&KEYS, 'd', 1002, 0);
    j.expect(
        KEYS[2..]
            .iter()
            .map(|&k| j.hit(k, "A", 'd', 1000 + i64::from(k))),
    );
    j.right_round(&KEYS, 'e', 1003, 0);
    j.expect([j.hit(3, "A", 'e', 1003)]);
    j.right_round(&KEYS, 'f', 1100, 0);
    j.expect_nothing();
}

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftJoinWithInMemoryCustomSuppliers`.
#[test]
fn left_join_with_in_memory_stores() {
    run_join::<String>(
        Kind::Left,
        windows(100, 0),
        StreamJoined::default().in_memory(),
        1000,
    );
}

/// Kafka's `KStreamKStreamLeftJoinTest.testLeftJoinWithDefaultSuppliers`.
#[test]
fn left_join_with_default_stores() {
    run_join::<String>(Kind::Left, windows(100, 0), StreamJoined::default(), 1000);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testOrdering`.
#[test]
fn left_join_ordering() {
    ordering::<String>(Kind::Left);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testGracePeriod`.
#[test]
fn left_join_grace_period() {
    let j = Join::<String>::new(Kind::Left, windows(100, 10));
    j.left_round(&KEYS[..2], "A", 0, 0);
    j.expect_nothing();
    // Too far after the left records to join them.
    j.right_round(&KEYS, 'a', 101, 0);
    j.expect_nothing();
    j.right([(0, "dummy", 1201)]);
    j.expect([(0, "A0+null", 0), (1, "A1+null", 0)]);
}

/// Kafka's `KStreamKStreamLeftJoinTest.testWindowing`.
#[test]
fn left_join_windowing() {
    windowing::<String>(Kind::Left, 1203);
}

/// Kafka's `KStreamKStreamLeftJoinTest.shouldNotEmitLeftJoinResultForAsymmetricWindow`.
#[test]
fn left_join_asymmetric_window_emits_no_early_left_result() {
    before_zero::<String>(Kind::Left);
}

// --- KStreamKStreamOuterJoinTest ---

/// Kafka's `KStreamKStreamOuterJoinTest.testOuterJoinDuplicates`.
#[test]
fn outer_join_duplicates() {
    let j = Join::<i64>::new(Kind::Outer, windows(100, 10));
    // Unmatched duplicates on both sides are all emitted once closed,
    // right before left at equal timestamps.
    j.left([(0, "A0", 0), (0, "A0-0", 0)]);
    j.right([(1, 11, 0), (1, 12, 0), (1, 10, 111), (3, 100, 211)]);
    j.expect([
        (1, "null+11", 0),
        (1, "null+12", 0),
        (0, "A0+null", 0),
        (0, "A0-0+null", 0),
    ]);

    // Matched duplicates join each other.
    j.left([(2, "A2", 200), (2, "A2-0", 200)]);
    j.right([(2, 13, 201), (2, 14, 201)]);
    j.expect([
        (2, "A2+13", 201),
        (2, "A2-0+13", 201),
        (2, "A2+14", 201),
        (2, "A2-0+14", 201),
    ]);

    j.right([(3, 100, 1500)]);
    j.expect([(1, "null+10", 111), (3, "null+100", 211)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor`.
#[test]
fn outer_join_left_expired_records_are_emitted_by_the_left_processor() {
    left_records_expire::<i64>(Kind::Outer, Side::Left);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor`.
#[test]
fn outer_join_left_expired_records_are_emitted_by_the_right_processor() {
    left_records_expire::<i64>(Kind::Outer, Side::Right);
}

/// Kafka's `testRightExpiredNonJoinedRecordsAreEmittedBy{Left,Right}Processor`:
/// unmatched right records of an outer join are emitted by the first
/// in-order record past their windows, whichever side it is on.
fn right_records_expire(closed_by: Side) {
    let j = Join::<i64>::new(Kind::Outer, windows(100, 0));
    j.right([(0, 10, 1), (1, 11, 2), (0, 12, 3)]);
    j.expect_nothing();

    j.left([(1, "A1", 3)]);
    j.expect([(1, "A1+11", 3)]);

    let closed = [(0, "null+10", 1), (0, "null+12", 3)];
    match closed_by {
        Side::Left => {
            j.left([(2, "dummy", 401)]);
            j.expect(closed);
            j.right([(2, 100, 402)]);
        }
        Side::Right => {
            j.right([(2, 100, 401)]);
            j.expect(closed);
            j.left([(2, "dummy", 402)]);
        }
    }
    j.expect([(2, "dummy+100", 402)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor`.
#[test]
fn outer_join_right_expired_records_are_emitted_by_the_left_processor() {
    right_records_expire(Side::Left);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheRightProcessor`.
#[test]
fn outer_join_right_expired_records_are_emitted_by_the_right_processor() {
    right_records_expire(Side::Right);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testOrdering`.
#[test]
fn outer_join_ordering() {
    ordering::<i64>(Kind::Outer);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testGracePeriod`.
#[test]
fn outer_join_grace_period() {
    let j = Join::<i64>::new(Kind::Outer, windows(100, 10));
    j.left([(0, "A0", 0)]);
    j.right([(1, 11, 0)]);
    j.expect_nothing();

    // Within grace: nothing closes yet, and nothing joins.
    j.left([(1, "A1", 101)]);
    j.right([(0, 10, 101)]);
    j.expect_nothing();

    j.right([(0, 100, 112)]);
    j.expect([(1, "null+11", 0), (0, "A0+null", 0)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testEmitAllNonJoinedResultsForAsymmetricWindow`.
#[test]
fn outer_join_asymmetric_window_emits_all_unmatched_records() {
    // 5 ms before a left record, 20 ms after it.
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(5)).after(ms(20));
    let j = Join::<i64>::new(Kind::Outer, windows);
    j.left([(0, "A0", 29)]);
    j.expect_nothing();
    j.left([(1, "A1", 30)]);
    j.expect_nothing();
    j.right([(2, 12, 31)]);
    j.expect_nothing();
    j.right([(3, 13, 36)]);
    j.expect_nothing();
    // A right record's window closes `before` (5 ms) after it.
    j.right([(4, 14, 37)]);
    j.expect([(2, "null+12", 31)]);
    j.right([(5, 15, 50)]);
    j.expect([(0, "A0+null", 29), (3, "null+13", 36), (4, "null+14", 37)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testOuterJoinWithInMemoryCustomSuppliers`.
#[test]
fn outer_join_with_in_memory_stores() {
    run_join::<i64>(
        Kind::Outer,
        windows(100, 0),
        StreamJoined::default().in_memory(),
        400,
    );
}

/// Kafka's `KStreamKStreamOuterJoinTest.testOuterJoinWithDefaultSuppliers`.
#[test]
fn outer_join_with_default_stores() {
    run_join::<i64>(Kind::Outer, windows(100, 0), StreamJoined::default(), 400);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testWindowing`.
#[test]
fn outer_join_windowing() {
    windowing::<i64>(Kind::Outer, 1103);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testShouldNotEmitLeftJoinResultForAsymmetricBeforeWindow`.
#[test]
fn outer_join_asymmetric_before_window() {
    let j = before_zero::<i64>(Kind::Outer);
    // A right record's window closes 100 ms after it too.
    j.right([(2, 12, 103)]);
    j.expect([(1, "null+11", 102)]);
    j.left([(2, "A2", 103)]);
    j.expect([(2, "A2+12", 103)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testShouldNotEmitLeftJoinResultForAsymmetricAfterWindow`.
#[test]
fn outer_join_asymmetric_after_window() {
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(100)).after(Duration::ZERO);
    let j = Join::<i64>::new(Kind::Outer, windows);
    // A left record's window ends at its own timestamp.
    j.left_round(&KEYS[..2], "A", 0, 1);
    j.expect([(0, "A0+null", 0)]);
    j.right([(1, 11, 1)]);
    j.expect([(1, "A1+11", 1)]);
    // A right record's window reaches 100 ms after it.
    j.right([(2, 12, 101), (3, 13, 101)]);
    j.expect_nothing();
    j.left([(2, "A2", 201)]);
    j.expect([(2, "A2+12", 201)]);
}

/// Kafka's `KStreamKStreamOuterJoinTest.testShouldForwardCurrentHeaders`:
/// records emitted when windows close carry the headers of the record
/// that closed them; join results those of the record being joined.
#[test]
fn outer_join_forwards_the_current_headers() {
    let j = Join::<i64>::new(Kind::Outer, windows(100, 10));
    /// A record with header `h` set to `[byte]`.
    fn record<V>(key: i32, value: V, timestamp: i64, byte: u8) -> TestRecord<i32, V> {
        let mut record = TestRecord::new(key, value, timestamp);
        record.headers.add("h", Some(vec![byte]));
        record
    }
    j.left
        .pipe_record(record(0, "A0".to_owned(), 0, 1))
        .expect("pipe");
    j.right.pipe_record(record(1, 10, 0, 2)).expect("pipe");
    j.right.pipe_record(record(3, 100, 211, 3)).expect("pipe");
    assert_eq!(
        j.out.read_records_to_list().expect("read"),
        [
            record(1, "null+10".to_owned(), 0, 3),
            record(0, "A0+null".to_owned(), 0, 3),
        ]
    );

    j.left
        .pipe_record(record(2, "A2".to_owned(), 200, 4))
        .expect("pipe");
    j.right.pipe_record(record(2, 12, 200, 5)).expect("pipe");
    assert_eq!(
        j.out.read_records_to_list().expect("read"),
        [record(2, "A2+12".to_owned(), 200, 5)]
    );
}
