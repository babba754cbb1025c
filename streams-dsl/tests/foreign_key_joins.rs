//! Foreign-key table-table joins: the scenarios of Kafka's
//! `KTableKTableForeignKeyJoinIntegrationTest` (inner and left joins) as
//! whole output sequences, the internal topics and the subscription
//! store, `describe()` against Kafka's text, and a property: whatever the
//! updates, the result ends as the naive join of the final tables.

mod support;
use support::Kind;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use streams_core::prelude::*;
use streams_core::serde::DefaultSerde;
use streams_core::state::TimestampedKeyValueStore;
use streams_dsl::{KTable, Materialized, StreamsBuilder, TableJoined};

const LEFT: &str = "left_table";
const RIGHT: &str = "right_table";
const OUTPUT: &str = "output-topic";
const REJOIN_OUTPUT: &str = "rejoin-output-topic";
/// Kafka's tests start from the mock clock's time; any base does.
const B: i64 = 1_000;

/// One input row: side (`L` or `R`), key, value (`None`: tombstone),
/// timestamp.
type Input = (&'static str, &'static str, Option<&'static str>, i64);
/// One output record: key, value (`None`: tombstone), timestamp.
type Output = (&'static str, Option<&'static str>, i64);

/// Kafka's extractor: the part of the value after `|`.
fn after_bar(value: &str) -> Option<String> {
    value.split('|').nth(1).map(str::to_owned)
}

/// Kafka's joiner, which prints a missing right value as `null`.
fn joined(left: &String, right: Option<&String>) -> String {
    format!("({left},{})", right.map_or("null", String::as_str))
}

fn nullable() -> OptionSerde<String> {
    OptionSerde::new(String::default_serde())
}

/// The result's serdes, kept in the store `store` if given (Kafka's
/// tests name it "store" when they query it).
fn materialized(store: Option<&str>) -> Materialized<String, String> {
    match store {
        Some(store) => Materialized::named(store).in_memory(),
        None => Materialized::default(),
    }
}

/// `left <kind>-joins right` on `extractor`, as Kafka's `getTopology`.
fn fk_join(
    kind: Kind,
    left: &KTable<String, String>,
    right: &KTable<String, String>,
    extractor: fn(&str) -> Option<String>,
    store: Option<&str>,
) -> KTable<String, String> {
    match kind {
        Kind::Inner => left.join_foreign_key_with(
            right,
            move |value: &String| extractor(value),
            |l, r| joined(l, Some(r)),
            TableJoined::new(),
            materialized(store),
        ),
        Kind::Left => left.left_join_foreign_key_with(
            right,
            move |value: &String| extractor(value),
            joined,
            TableJoined::new(),
            materialized(store),
        ),
        Kind::Outer => unreachable!("foreign-key joins are inner or left"),
    }
}

/// A driver for Kafka's test topology; with `rejoin`, the result is
/// joined again with the left table (with the same kind) into
/// `rejoin-output-topic`.
fn driver(
    kind: Kind,
    extractor: fn(&str) -> Option<String>,
    store: Option<&str>,
    rejoin: bool,
) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>(LEFT);
    let right = builder.table::<String, String>(RIGHT);
    let result = fk_join(kind, &left, &right, extractor, store);
    result.to_stream().to(OUTPUT);
    if rejoin {
        let rejoiner = |l: &String, r: Option<&String>| {
            format!("rejoin({l},{})", r.map_or("null", String::as_str))
        };
        let rejoined = match kind {
            Kind::Inner => result.join(&left, move |l, r| rejoiner(l, Some(r))),
            _ => result.left_join(&left, rejoiner),
        };
        rejoined.to_stream().to(REJOIN_OUTPUT);
    }
    TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver")
}

/// Pipes `inputs` and returns what `topic` received.
fn pipe(
    driver: &TopologyTestDriver,
    inputs: &[Input],
    topic: &str,
) -> Vec<TestRecord<String, Option<String>>> {
    let left = driver.create_input_topic(LEFT, StringSerde, nullable());
    let right = driver.create_input_topic(RIGHT, StringSerde, nullable());
    for (side, key, value, timestamp) in inputs {
        let input = if *side == "L" { &left } else { &right };
        input
            .pipe_input_at((*key).to_owned(), value.map(str::to_owned), *timestamp)
            .expect("pipe");
    }
    driver
        .create_output_topic(topic, StringSerde, nullable())
        .read_records_to_list()
        .expect("read")
}

fn records(expected: &[Output]) -> Vec<TestRecord<String, Option<String>>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new((*k).to_owned(), v.map(str::to_owned), *ts))
        .collect()
}

/// Runs `inputs` through the `kind` join, materialized or not, and
/// checks the whole output.
fn run(kind: Kind, inputs: &[Input], expected: &[Output]) {
    run_with(kind, after_bar, inputs, expected);
}

fn run_with(
    kind: Kind,
    extractor: fn(&str) -> Option<String>,
    inputs: &[Input],
    expected: &[Output],
) {
    for store in [None, Some("store")] {
        let driver = driver(kind, extractor, store, false);
        assert_eq!(
            pipe(&driver, inputs, OUTPUT),
            records(expected),
            "store {store:?}"
        );
    }
}

/// The rows of the queryable result store.
fn stored(driver: &TopologyTestDriver) -> BTreeMap<String, String> {
    driver
        .state_store::<TimestampedKeyValueStore<String, String>>("store")
        .expect("store")
        .all()
        .expect("read store")
        .into_iter()
        .map(|(key, row)| (key, row.value))
        .collect()
}

fn rows(rows: &[(&str, &str)]) -> BTreeMap<String, String> {
    rows.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `doJoinFromLeftThenDeleteLeftEntity`: right rows first, then left rows
/// join them; deleting a left row deletes its result. The same for both
/// kinds, and for the result joined again with the left table.
#[test]
fn join_from_left_then_delete_left_entity() {
    let inputs = [
        ("R", "rhs1", Some("rhsValue1"), B),
        ("R", "rhs2", Some("rhsValue2"), B + 1),
        // Unreferenced: never shows up.
        ("R", "rhs3", Some("rhsValue3"), B + 2),
        ("L", "lhs1", Some("lhsValue1|rhs1"), B + 3),
        ("L", "lhs2", Some("lhsValue2|rhs2"), B + 4),
        // Another reference to an existing foreign key.
        ("L", "lhs3", Some("lhsValue3|rhs1"), B + 5),
        ("L", "lhs1", None, B + 6),
    ];
    let expected = [
        ("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 3),
        ("lhs2", Some("(lhsValue2|rhs2,rhsValue2)"), B + 4),
        ("lhs3", Some("(lhsValue3|rhs1,rhsValue1)"), B + 5),
        ("lhs1", None, B + 6),
    ];
    for kind in [Kind::Inner, Kind::Left] {
        run(kind, &inputs, &expected);
        let driver = driver(kind, after_bar, Some("store"), true);
        let out = pipe(&driver, &inputs, OUTPUT);
        assert_eq!(out, records(&expected));
        assert_eq!(
            stored(&driver),
            rows(&[
                ("lhs2", "(lhsValue2|rhs2,rhsValue2)"),
                ("lhs3", "(lhsValue3|rhs1,rhsValue1)"),
            ])
        );
        let rejoined = driver
            .create_output_topic(REJOIN_OUTPUT, StringSerde, nullable())
            .read_records_to_list()
            .expect("read");
        let deletion: &[Output] = match kind {
            // The left row's deletion reaches the rejoin first (it is
            // its right input), then the foreign-key result's tombstone.
            Kind::Left => &[
                (
                    "lhs1",
                    Some("rejoin((lhsValue1|rhs1,rhsValue1),null)"),
                    B + 6,
                ),
                ("lhs1", None, B + 6),
            ],
            _ => &[("lhs1", None, B + 6)],
        };
        let mut expected_rejoin = records(&[
            (
                "lhs1",
                Some("rejoin((lhsValue1|rhs1,rhsValue1),lhsValue1|rhs1)"),
                B + 3,
            ),
            (
                "lhs2",
                Some("rejoin((lhsValue2|rhs2,rhsValue2),lhsValue2|rhs2)"),
                B + 4,
            ),
            (
                "lhs3",
                Some("rejoin((lhsValue3|rhs1,rhsValue1),lhsValue3|rhs1)"),
                B + 5,
            ),
        ]);
        expected_rejoin.extend(records(deletion));
        assert_eq!(rejoined, expected_rejoin);
    }
}

/// `doJoinFromRightThenDeleteRightEntity`: left rows first; right rows
/// then answer every left row referring to them, and deleting a right row
/// retracts (inner) or half-joins (left) all of them.
#[test]
fn join_from_right_then_delete_right_entity() {
    let inputs = [
        ("L", "lhs1", Some("lhsValue1|rhs1"), B),
        ("L", "lhs2", Some("lhsValue2|rhs2"), B + 1),
        ("L", "lhs3", Some("lhsValue3|rhs1"), B + 2),
        ("R", "rhs1", Some("rhsValue1"), B + 3),
        ("R", "rhs2", Some("rhsValue2"), B + 4),
        ("R", "rhs3", Some("rhsValue3"), B + 5),
        ("R", "rhs1", None, B + 6),
    ];
    let joins = [
        ("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 3),
        ("lhs3", Some("(lhsValue3|rhs1,rhsValue1)"), B + 3),
        ("lhs2", Some("(lhsValue2|rhs2,rhsValue2)"), B + 4),
    ];
    let inner: Vec<Output> = joins
        .iter()
        .copied()
        .chain([("lhs1", None, B + 6), ("lhs3", None, B + 6)])
        .collect();
    run(Kind::Inner, &inputs, &inner);
    let left: Vec<Output> = [
        ("lhs1", Some("(lhsValue1|rhs1,null)"), B),
        ("lhs2", Some("(lhsValue2|rhs2,null)"), B + 1),
        ("lhs3", Some("(lhsValue3|rhs1,null)"), B + 2),
    ]
    .into_iter()
    .chain(joins)
    .chain([
        ("lhs1", Some("(lhsValue1|rhs1,null)"), B + 6),
        ("lhs3", Some("(lhsValue3|rhs1,null)"), B + 6),
    ])
    .collect();
    run(Kind::Left, &inputs, &left);

    for (kind, expected) in [
        (Kind::Inner, rows(&[("lhs2", "(lhsValue2|rhs2,rhsValue2)")])),
        (
            Kind::Left,
            rows(&[
                ("lhs1", "(lhsValue1|rhs1,null)"),
                ("lhs2", "(lhsValue2|rhs2,rhsValue2)"),
                ("lhs3", "(lhsValue3|rhs1,null)"),
            ]),
        ),
    ] {
        let driver = driver(kind, after_bar, Some("store"), false);
        pipe(&driver, &inputs, OUTPUT);
        assert_eq!(stored(&driver), expected);
    }
}

/// `shouldEmitTombstoneWhenDeletingNonJoiningRecords`: deleting a left
/// row that never joined emits a tombstone (an unnecessary one for the
/// inner join, which cannot know); deleting it again emits nothing.
#[test]
fn deleting_a_non_joining_record_emits_a_tombstone_once() {
    let inputs = [
        ("L", "lhs1", Some("lhsValue1|rhs1"), B),
        ("L", "lhs1", None, B + 1),
        ("L", "lhs1", None, B + 2),
    ];
    run(Kind::Inner, &inputs, &[("lhs1", None, B + 1)]);
    run(
        Kind::Left,
        &inputs,
        &[
            ("lhs1", Some("(lhsValue1|rhs1,null)"), B),
            ("lhs1", None, B + 1),
        ],
    );
}

/// `shouldNotEmitTombstonesWhenDeletingNonExistingRecords`.
#[test]
fn deleting_a_record_that_never_existed_emits_nothing() {
    for kind in [Kind::Inner, Kind::Left] {
        run(kind, &[("L", "lhs1", None, B)], &[]);
    }
}

/// `joinShouldProduceNullsWhenValueHasNonMatchingForeignKey`: moving a
/// left row between foreign keys without right rows retracts (inner: an
/// unnecessary tombstone each time) or re-emits (left) its result; moving
/// it to a key with a right row joins it.
#[test]
fn changing_to_a_foreign_key_without_a_row_produces_nulls() {
    let inputs = [
        ("L", "lhs1", Some("lhsValue1|rhs1"), B),
        ("L", "lhs1", Some("lhsValue1|rhs2"), B + 1),
        ("L", "lhs1", Some("lhsValue1|rhs3"), B + 2),
        // rhs1 is no longer referenced: nothing changes.
        ("R", "rhs1", Some("rhsValue1"), B + 3),
        ("L", "lhs1", Some("lhsValue1|rhs1"), B + 4),
        ("L", "lhs1", Some("lhsValue1|rhs2"), B + 5),
    ];
    run(
        Kind::Inner,
        &inputs,
        &[
            ("lhs1", None, B + 1),
            ("lhs1", None, B + 2),
            ("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 4),
            ("lhs1", None, B + 5),
        ],
    );
    run(
        Kind::Left,
        &inputs,
        &[
            ("lhs1", Some("(lhsValue1|rhs1,null)"), B),
            ("lhs1", Some("(lhsValue1|rhs2,null)"), B + 1),
            ("lhs1", Some("(lhsValue1|rhs3,null)"), B + 2),
            ("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 4),
            ("lhs1", Some("(lhsValue1|rhs2,null)"), B + 5),
        ],
    );
}

/// `shouldUnsubscribeOldForeignKeyIfLeftSideIsUpdated`: after a left row
/// moves to another foreign key, updates of the old right row no longer
/// reach it.
#[test]
fn changing_the_foreign_key_unsubscribes_from_the_old_one() {
    let inputs = [
        ("R", "rhs1", Some("rhsValue1"), B),
        ("R", "rhs2", Some("rhsValue2"), B + 1),
        ("L", "lhs1", Some("lhsValue1|rhs1"), B + 2),
        ("L", "lhs1", Some("lhsValue1|rhs2"), B + 3),
        ("R", "rhs1", Some("rhsValue1Delta"), B + 4),
    ];
    for kind in [Kind::Inner, Kind::Left] {
        run(
            kind,
            &inputs,
            &[
                ("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 2),
                ("lhs1", Some("(lhsValue1|rhs2,rhsValue2)"), B + 3),
            ],
        );
    }
}

fn no_foreign_key(_: &str) -> Option<String> {
    None
}

/// `shouldEmitRecordOnNullForeignKeyForLeftJoins`: a left join emits a
/// row without foreign key half-joined; an inner join drops it.
#[test]
fn a_null_foreign_key_half_joins_in_a_left_join_only() {
    let inputs = [("L", "lhs1", Some("lhsValue1|rhs1"), B)];
    run_with(
        Kind::Left,
        no_foreign_key,
        &inputs,
        &[("lhs1", Some("(lhsValue1|rhs1,null)"), B)],
    );
    run_with(Kind::Inner, no_foreign_key, &inputs, &[]);
}

/// `returnNull` has no foreign key.
fn after_bar_unless_null(value: &str) -> Option<String> {
    after_bar(value).filter(|key| key != "returnNull")
}

/// The subscription store's changelog: `(foreign key, left key)` with
/// whether the record stores (true) or deletes the subscription.
fn subscription_changes(driver: &TopologyTestDriver, topic: &str) -> Vec<(Vec<u8>, bool)> {
    driver
        .create_output_topic(
            topic,
            BytesSerde,
            OptionSerde::new(Vec::<u8>::default_serde()),
        )
        .read_key_values_to_list()
        .expect("read changelog")
        .into_iter()
        .map(|(key, value)| (key, value.is_some()))
        .collect()
}

/// Kafka's subscription store key: the foreign key's length (4 bytes,
/// big-endian), the foreign key, the left key.
fn subscription_key(left: &str, right: &str) -> Vec<u8> {
    let mut key = (right.len() as i32).to_be_bytes().to_vec();
    key.extend_from_slice(right.as_bytes());
    key.extend_from_slice(left.as_bytes());
    key
}

/// `shouldEmitRecordWhenOldAndNewFkDiffer`: a left join whose row loses
/// its foreign key emits the half-joined row and removes the
/// subscription to the old key from the subscription store.
#[test]
fn losing_the_foreign_key_re_emits_and_unsubscribes_in_a_left_join() {
    let driver = driver(Kind::Left, after_bar_unless_null, Some("store"), false);
    let out = pipe(
        &driver,
        &[
            ("L", "lhs1", Some("lhsValue1|rhs1"), B),
            ("L", "lhs1", Some("lhsValue1|returnNull"), B),
        ],
        OUTPUT,
    );
    assert_eq!(
        out,
        records(&[
            ("lhs1", Some("(lhsValue1|rhs1,null)"), B),
            ("lhs1", Some("(lhsValue1|returnNull,null)"), B),
        ])
    );
    assert_eq!(
        stored(&driver),
        rows(&[("lhs1", "(lhsValue1|returnNull,null)")])
    );
    assert_eq!(
        subscription_changes(
            &driver,
            "test-driver-application-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010-changelog"
        ),
        vec![
            (subscription_key("lhs1", "rhs1"), true),
            (subscription_key("lhs1", "rhs1"), false),
        ]
    );
}

/// `KTableKTableForeignKeyJoinScenarioTest.shouldUseExpectedTopicsWithSerde`:
/// the join writes its two internal topics (and the subscription store's
/// changelog) under the application id, with Kafka's indices.
#[test]
fn internal_topics_are_named_as_in_kafka_streams() {
    let driver = driver(Kind::Inner, after_bar, None, false);
    pipe(
        &driver,
        &[
            ("L", "2", Some("lhsValue1|1"), B),
            ("R", "1", Some("rhsValue1"), B + 1),
        ],
        OUTPUT,
    );
    let app = "test-driver-application";
    let expected: BTreeSet<String> = [
        format!("{app}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic"),
        format!("{app}-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic"),
        format!("{app}-KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010-changelog"),
        format!("{app}-left_table-STATE-STORE-0000000000-changelog"),
        format!("{app}-right_table-STATE-STORE-0000000003-changelog"),
        OUTPUT.to_owned(),
    ]
    .into();
    assert_eq!(driver.produced_topic_names(), expected);
}

/// A `TableJoined` name replaces each generated name with
/// `<name>-<suffix>`, topics and stores included.
#[test]
fn a_named_join_names_its_topics_and_store() {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>(LEFT);
    let right = builder.table::<String, String>(RIGHT);
    left.join_foreign_key_with(
        &right,
        |value: &String| after_bar(value),
        |l, r| joined(l, Some(r)),
        TableJoined::as_("orders").expect("legal name"),
        Materialized::default(),
    )
    .to_stream()
    .to(OUTPUT);
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let out = pipe(
        &driver,
        &[
            ("R", "rhs1", Some("rhsValue1"), B),
            ("L", "lhs1", Some("lhsValue1|rhs1"), B + 1),
        ],
        OUTPUT,
    );
    assert_eq!(
        out,
        records(&[("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 1)])
    );
    let topics = driver.produced_topic_names();
    for topic in [
        "test-driver-application-orders-subscription-registration-topic",
        "test-driver-application-orders-subscription-response-topic",
        "test-driver-application-orders-subscription-store-changelog",
    ] {
        assert!(topics.contains(topic), "{topic} in {topics:?}");
    }
}
/// Kafka's `KStreamImplTest.shouldSupportForeignKeyTableTableJoinWithKTableFromKStream`.
#[test]
fn foreign_key_join_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("input1").to_table();
    let right = builder.stream::<String, String>("input2").to_table();
    left.join_foreign_key(
        &right,
        |value: &String| after_bar(value),
        |l, r| format!("({l},{r})"),
    )
    .to_stream()
    .to("output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KTABLE-SOURCE-0000000016 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic])
      --> KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017
    Source: KSTREAM-SOURCE-0000000000 (topics: [input1])
      --> KSTREAM-TOTABLE-0000000001
    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])
      --> KTABLE-FK-JOIN-OUTPUT-0000000018
      <-- KTABLE-SOURCE-0000000016
    Processor: KSTREAM-TOTABLE-0000000001 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])
      --> KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007
      <-- KSTREAM-SOURCE-0000000000
    Processor: KTABLE-FK-JOIN-OUTPUT-0000000018 (stores: [])
      --> KTABLE-TOSTREAM-0000000020
      <-- KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-0000000017
    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007 (stores: [])
      --> KTABLE-SINK-0000000008
      <-- KSTREAM-TOTABLE-0000000001
    Processor: KTABLE-TOSTREAM-0000000020 (stores: [])
      --> KSTREAM-SINK-0000000021
      <-- KTABLE-FK-JOIN-OUTPUT-0000000018
    Sink: KSTREAM-SINK-0000000021 (topic: output)
      <-- KTABLE-TOSTREAM-0000000020
    Sink: KTABLE-SINK-0000000008 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic)
      <-- KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000003 (topics: [input2])
      --> KSTREAM-TOTABLE-0000000004
    Source: KTABLE-SOURCE-0000000009 (topics: [KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic])
      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011
    Processor: KSTREAM-TOTABLE-0000000004 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])
      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013
      <-- KSTREAM-SOURCE-0000000003
    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])
      --> KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012
      <-- KTABLE-SOURCE-0000000009
    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])
      --> KTABLE-SINK-0000000015
      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000011
    Processor: KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013 (stores: [KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000010])
      --> KTABLE-SINK-0000000015
      <-- KSTREAM-TOTABLE-0000000004
    Sink: KTABLE-SINK-0000000015 (topic: KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic)
      <-- KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000012, KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-0000000013

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

/// One random update: a left row (`key`, value `v<tag>|rhs<fk>` or, with
/// no foreign key, `v<tag>`) or a right row (`key`, value `r<tag>`);
/// `None` deletes.
#[derive(Debug, Clone)]
enum Update {
    Left(u8, Option<(u8, Option<u8>)>),
    Right(u8, Option<u8>),
}

fn update() -> impl Strategy<Value = Update> {
    prop_oneof![
        (
            0..4u8,
            proptest::option::weighted(0.8, (0..3u8, proptest::option::weighted(0.8, 0..3u8)))
        )
            .prop_map(|(key, value)| Update::Left(key, value)),
        (0..3u8, proptest::option::weighted(0.7, 0..3u8))
            .prop_map(|(key, value)| Update::Right(key, value)),
    ]
}

proptest! {
    /// However left and right rows come, change foreign keys and go, the
    /// result table ends as the naive join of the final tables, in the
    /// output topic and in the result's store.
    #[test]
    fn the_result_ends_as_the_naive_join_of_the_final_tables(
        updates in proptest::collection::vec(update(), 0..40),
        left_join in any::<bool>(),
    ) {
        let kind = if left_join { Kind::Left } else { Kind::Inner };
        let driver = driver(kind, after_bar, Some("store"), false);
        let left_input = driver.create_input_topic(LEFT, StringSerde, nullable());
        let right_input = driver.create_input_topic(RIGHT, StringSerde, nullable());
        let mut left = BTreeMap::new();
        let mut right = BTreeMap::new();
        for (timestamp, update) in (0i64..).zip(&updates) {
            let (input, table, key, value) = match update {
                Update::Left(key, value) => (
                    &left_input,
                    &mut left,
                    format!("lhs{key}"),
                    value.map(|(tag, fk)| match fk {
                        Some(fk) => format!("v{tag}|rhs{fk}"),
                        None => format!("v{tag}"),
                    }),
                ),
                Update::Right(key, value) => (
                    &right_input,
                    &mut right,
                    format!("rhs{key}"),
                    value.map(|tag| format!("r{tag}")),
                ),
            };
            match &value {
                Some(value) => table.insert(key.clone(), value.clone()),
                None => table.remove(&key),
            };
            input.pipe_input_at(key, value, timestamp).expect("pipe");
        }
        let naive: BTreeMap<String, String> = left
            .iter()
            .filter_map(|(key, value)| {
                let partner = after_bar(value).and_then(|fk| right.get(&fk));
                match (partner, kind) {
                    (None, Kind::Inner) => None,
                    _ => Some((key.clone(), joined(value, partner))),
                }
            })
            .collect();
        let mut result = BTreeMap::new();
        let output = driver.create_output_topic(OUTPUT, StringSerde, nullable());
        for (key, value) in output.read_key_values_to_list().expect("read") {
            match value {
                Some(value) => result.insert(key, value),
                None => result.remove(&key),
            };
        }
        prop_assert_eq!(&result, &naive);
        prop_assert_eq!(&stored(&driver), &naive);
    }
}

/// An aggregation's table knows its serdes, so it can be either side of a
/// foreign-key join.
#[test]
fn an_aggregation_can_be_the_right_table() -> support::Result {
    let builder = StreamsBuilder::new();
    let orders = builder.table::<String, String>("orders");
    let visits = builder
        .stream::<String, String>("visits")
        .group_by_key()
        .count();
    orders
        .join_foreign_key(
            &visits,
            |order: &String| after_bar(order),
            |order, count| format!("{order}:{count}"),
        )
        .to_stream()
        .to(OUTPUT);
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let visits = driver.create_input_topic("visits", StringSerde, StringSerde);
    let orders = driver.create_input_topic("orders", StringSerde, StringSerde);
    visits.pipe_input_at("c1".into(), "x".into(), 1)?;
    orders.pipe_input_at("o1".into(), "tea|c1".into(), 2)?;
    visits.pipe_input_at("c1".into(), "y".into(), 3)?;
    assert_eq!(
        driver
            .create_output_topic(OUTPUT, StringSerde, nullable())
            .read_records_to_list()?,
        records(&[("o1", Some("tea|c1:1"), 2), ("o1", Some("tea|c1:2"), 3)])
    );
    Ok(())
}

/// A table mapped without a `Materialized` has no serdes, which the join
/// needs to send its rows to the other side, so a foreign-key join of it
/// fails to build.
#[test]
fn a_table_without_serdes_cannot_be_joined() {
    let builder = StreamsBuilder::new();
    let left = builder
        .table::<String, String>(LEFT)
        .map_values(|value| value.to_uppercase());
    let right = builder.table::<String, String>(RIGHT);
    left.join_foreign_key(
        &right,
        |value: &String| after_bar(value),
        |l, r| joined(l, Some(r)),
    );
    assert!(matches!(
        builder.build(),
        Err(TopologyError::UnknownStore { .. })
    ));
}

/// A mapped table given serdes but no store name keeps no store: the join
/// reads its rows through its parent's store, mapped on each lookup
/// (Kafka's `KTableMapValues` view), so both the subscription and the
/// response see the mapped value.
#[test]
fn a_mapped_table_is_joined_through_its_parents_store() -> support::Result {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>(LEFT).map_values_with(
        |value| value.to_uppercase(),
        Materialized::with(String::default_serde(), String::default_serde()),
    );
    let right = builder.table::<String, String>(RIGHT);
    left.join_foreign_key(
        &right,
        |value: &String| after_bar(value),
        |l, r| joined(l, Some(r)),
    )
    .to_stream()
    .to(OUTPUT);
    let topology = builder.build()?;
    let description = topology.describe().to_string();
    assert!(
        !description.contains("MAPVALUES-STATE-STORE"),
        "{description}"
    );
    let driver = TopologyTestDriver::new(&topology)?;
    let left = driver.create_input_topic(LEFT, StringSerde, StringSerde);
    let right = driver.create_input_topic(RIGHT, StringSerde, StringSerde);
    right.pipe_input_at("C1".into(), "tea".into(), 1)?;
    left.pipe_input_at("o1".into(), "x|c1".into(), 2)?;
    left.pipe_input_at("o1".into(), "y|c1".into(), 3)?;
    right.pipe_input_at("C1".into(), "milk".into(), 4)?;
    assert_eq!(
        driver
            .create_output_topic(OUTPUT, StringSerde, nullable())
            .read_records_to_list()?,
        records(&[
            ("o1", Some("(X|C1,tea)"), 2),
            ("o1", Some("(Y|C1,tea)"), 3),
            ("o1", Some("(Y|C1,milk)"), 4),
        ])
    );
    Ok(())
}

/// The partitioners of a `TableJoined` place subscriptions by foreign key
/// and responses by left key.
#[test]
fn table_joined_partitioners_place_subscriptions_and_responses() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let foreign_keys = Arc::new(AtomicUsize::new(0));
    let primary_keys = Arc::new(AtomicUsize::new(0));
    let (seen_foreign, seen_primary) = (foreign_keys.clone(), primary_keys.clone());
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>(LEFT);
    let right = builder.table::<String, String>(RIGHT);
    let table_joined = TableJoined::new()
        .with_partitioner(move |_: &str, key: &String, _| {
            assert_eq!(key, "lhs1");
            seen_primary.fetch_add(1, Ordering::Relaxed);
            Some(0)
        })
        .with_other_partitioner(move |_: &str, key: &String, _| {
            assert_eq!(key, "rhs1");
            seen_foreign.fetch_add(1, Ordering::Relaxed);
            Some(0)
        });
    left.join_foreign_key_with(
        &right,
        |value: &String| after_bar(value),
        |l, r| joined(l, Some(r)),
        table_joined,
        Materialized::default(),
    )
    .to_stream()
    .to(OUTPUT);
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let out = pipe(
        &driver,
        &[
            ("L", "lhs1", Some("lhsValue1|rhs1"), B),
            ("R", "rhs1", Some("rhsValue1"), B + 1),
        ],
        OUTPUT,
    );
    assert_eq!(
        out,
        records(&[("lhs1", Some("(lhsValue1|rhs1,rhsValue1)"), B + 1)])
    );
    // One subscription; one response, to the right row's arrival.
    assert_eq!(foreign_keys.load(Ordering::Relaxed), 1);
    assert_eq!(primary_keys.load(Ordering::Relaxed), 1);
}

/// An extractor may read the left row's key as well as its value (Kafka's
/// `ForeignKeyExtractor.fromBiFunction`): here the foreign key is the part
/// of the left key before `-`, and a value of `orphan` has none. Inner and
/// left joins see the same keys.
#[test]
fn an_extractor_of_key_and_value_finds_the_foreign_key() {
    let from_key = |key: &String, value: &String| {
        (value != "orphan")
            .then(|| key.split('-').next().map(str::to_owned))
            .flatten()
    };
    let inputs = [
        ("R", "rhs1", Some("rhsValue1"), B),
        ("L", "rhs1-a", Some("lhsValue1"), B + 1),
        ("L", "rhs2-b", Some("lhsValue2"), B + 2),
        ("R", "rhs2", Some("rhsValue2"), B + 3),
        ("L", "rhs1-a", Some("orphan"), B + 4),
    ];
    let run = |left_join: bool| {
        let builder = StreamsBuilder::new();
        let left = builder.table::<String, String>(LEFT);
        let right = builder.table::<String, String>(RIGHT);
        let result = if left_join {
            left.left_join_foreign_key(&right, from_key, joined)
        } else {
            left.join_foreign_key(&right, from_key, |l, r| joined(l, Some(r)))
        };
        result.to_stream().to(OUTPUT);
        let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
        pipe(&driver, &inputs, OUTPUT)
    };
    assert_eq!(
        run(false),
        records(&[
            ("rhs1-a", Some("(lhsValue1,rhsValue1)"), B + 1),
            ("rhs2-b", Some("(lhsValue2,rhsValue2)"), B + 3),
            ("rhs1-a", None, B + 4),
        ])
    );
    assert_eq!(
        run(true),
        records(&[
            ("rhs1-a", Some("(lhsValue1,rhsValue1)"), B + 1),
            ("rhs2-b", Some("(lhsValue2,null)"), B + 2),
            ("rhs2-b", Some("(lhsValue2,rhsValue2)"), B + 3),
            ("rhs1-a", Some("(orphan,null)"), B + 4),
        ])
    );
}
