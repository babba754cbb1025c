//! Window, session and timestamped key-value stores written by a Processor
//! API topology and read back through the test driver, on both backends,
//! with their changelogs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::state::{
    KeyValueStore, SessionStore, StoreHandle, Stores, TimestampedKeyValueStore, ValueAndTimestamp,
    WindowStore,
};
use streams_core::test_driver::TestDriverConfig;
use streams_core::{Window, Windowed};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const WINDOW_MS: i64 = 10;
const GAP_MS: i64 = 10;
const APP: &str = "stores-test";

/// Sums values per key in tumbling 10 ms windows.
#[derive(Default)]
struct WindowedSum {
    store: Option<WindowStore<String, i64>>,
}

impl Processor<String, i64, String, i64> for WindowedSum {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store("windows")?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, i64>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let start = record.timestamp - record.timestamp.rem_euclid(WINDOW_MS);
        let sum = store.fetch_window(&record.key, start)?.unwrap_or(0) + record.value;
        if !store.put(&record.key, &sum, start)? {
            ctx.record_dropped("window expired");
        }
        Ok(())
    }
}

/// Sums values per key in sessions with a 10 ms inactivity gap, merging
/// the sessions a record bridges as Kafka's session aggregator does.
#[derive(Default)]
struct SessionSum {
    store: Option<SessionStore<String, i64>>,
}

impl Processor<String, i64, String, i64> for SessionSum {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store("sessions")?);
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, i64>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let ts = record.timestamp;
        let (mut start, mut end, mut sum) = (ts, ts, record.value);
        for (session, aggregate) in store.find_sessions(&record.key, ts - GAP_MS, ts + GAP_MS)? {
            start = start.min(session.window.start);
            end = end.max(session.window.end);
            sum += aggregate;
            store.remove(&session)?;
        }
        store.put(&Windowed::new(record.key, Window::new(start, end)), &sum)
    }
}

/// Keeps the newest value per key with its timestamp.
#[derive(Default)]
struct Latest {
    store: Option<TimestampedKeyValueStore<String, i64>>,
}

impl Processor<String, i64, String, i64> for Latest {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store("latest")?);
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, i64>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let newer = store
            .get(&record.key)?
            .is_none_or(|old| old.timestamp <= record.timestamp);
        if newer {
            store.put(
                &record.key,
                &ValueAndTimestamp::new(record.value, record.timestamp),
            )?;
        }
        Ok(())
    }
}

fn topology(persistent: bool) -> Result<Topology, StreamsError> {
    let windows = Stores::window_store_builder::<String, i64>(
        "windows",
        Duration::from_secs(1),
        Duration::from_millis(WINDOW_MS as u64),
        false,
    );
    let sessions = Stores::session_store_builder::<String, i64>("sessions", Duration::from_secs(1));
    let latest = Stores::timestamped_key_value_store_builder::<String, i64>("latest");
    let (windows, sessions, latest) = if persistent {
        (
            windows.persistent(),
            sessions.persistent(),
            latest.persistent(),
        )
    } else {
        (
            windows.in_memory(),
            sessions.in_memory(),
            latest.in_memory(),
        )
    };
    TopologyBuilder::new()
        .add_source(
            "events",
            &["events"],
            SourceOptions::new(StringSerde, I64Serde),
        )
        .add_processor("windowed-sum", WindowedSum::default, &["events"])
        .add_processor("session-sum", SessionSum::default, &["events"])
        .add_processor("latest", Latest::default, &["events"])
        .add_state_store(windows, &["windowed-sum"])
        .add_state_store(sessions, &["session-sum"])
        .add_state_store(latest, &["latest"])
        .build()
        .map_err(StreamsError::from)
}

/// (key, value, timestamp), in the order piped.
const EVENTS: [(&str, i64, i64); 8] = [
    ("alice", 1, 0),
    ("bob", 10, 3),
    ("alice", 2, 5),
    ("alice", 4, 12),
    ("alice", 8, 40),
    ("bob", 20, 31),
    ("alice", 16, 30),
    ("alice", 32, 22),
];

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("streams-core-{name}-{}", std::process::id()));
        // A leftover of an earlier run with the same pid would hold old state.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_driver(
    persistent: bool,
    state_dir: Option<PathBuf>,
) -> Result<TopologyTestDriver, StreamsError> {
    let config = TestDriverConfig {
        application_id: APP.to_owned(),
        state_dir,
        ..TestDriverConfig::default()
    };
    TopologyTestDriver::with_config(&topology(persistent)?, config)
}

fn pipe_events(driver: &TopologyTestDriver) -> Result<(), StreamsError> {
    let events = driver.create_input_topic("events", StringSerde, I64Serde);
    for (key, value, ts) in EVENTS {
        events.pipe_input_at(key.to_owned(), value, ts)?;
    }
    Ok(())
}

fn s(key: &str) -> String {
    key.to_owned()
}

fn windowed(key: &str, start: i64, end: i64, value: i64) -> (Windowed<String>, i64) {
    (Windowed::new(s(key), Window::new(start, end)), value)
}

fn check_windows(driver: &TopologyTestDriver) -> TestResult {
    let windows: WindowStore<String, i64> = driver.state_store("windows")?;
    assert_eq!(
        windows.fetch(&s("alice"), 0, 40)?,
        vec![(0, 3), (10, 4), (20, 32), (30, 16), (40, 8)]
    );
    assert_eq!(
        windows.fetch(&s("alice"), 10, 30)?,
        vec![(10, 4), (20, 32), (30, 16)]
    );
    assert_eq!(
        windows.backward_fetch(&s("alice"), 5, 35)?,
        vec![(30, 16), (20, 32), (10, 4)]
    );
    assert_eq!(windows.fetch_window(&s("bob"), 30)?, Some(20));
    assert_eq!(windows.fetch_window(&s("bob"), 10)?, None);
    assert_eq!(
        windows.fetch_range(Some(&s("alice")), Some(&s("bob")), 0, 10)?,
        vec![
            windowed("alice", 0, 10, 3),
            windowed("alice", 10, 20, 4),
            windowed("bob", 0, 10, 10),
        ]
    );
    assert_eq!(
        windows.fetch_all(30, 30)?,
        vec![windowed("alice", 30, 40, 16), windowed("bob", 30, 40, 20)]
    );
    let shown: Vec<String> = windows
        .all()?
        .iter()
        .map(|(key, sum)| format!("{key}={sum}"))
        .collect();
    assert_eq!(
        shown,
        [
            "[alice@0/10]=3",
            "[alice@10/20]=4",
            "[alice@20/30]=32",
            "[alice@30/40]=16",
            "[alice@40/50]=8",
            "[bob@0/10]=10",
            "[bob@30/40]=20",
        ]
    );
    Ok(())
}

fn check_sessions(driver: &TopologyTestDriver) -> TestResult {
    let sessions: SessionStore<String, i64> = driver.state_store("sessions")?;
    // alice's record at 22 bridged [0,12] and [30,40] into one session.
    assert_eq!(
        sessions.fetch(&s("alice"))?,
        vec![windowed("alice", 0, 40, 63)]
    );
    assert_eq!(
        sessions.fetch(&s("bob"))?,
        vec![windowed("bob", 3, 3, 10), windowed("bob", 31, 31, 20)]
    );
    // The merge query of a bob record at 21 finds [31,31]; at 13, [3,3];
    // at 17 with a 14 ms gap, both.
    assert_eq!(
        sessions.find_sessions(&s("bob"), 21 - GAP_MS, 21 + GAP_MS)?,
        vec![windowed("bob", 31, 31, 20)]
    );
    assert_eq!(
        sessions.find_sessions(&s("bob"), 13 - GAP_MS, 13 + GAP_MS)?,
        vec![windowed("bob", 3, 3, 10)]
    );
    assert_eq!(
        sessions.find_sessions(&s("bob"), 17 - 14, 17 + 14)?,
        vec![windowed("bob", 3, 3, 10), windowed("bob", 31, 31, 20)]
    );
    assert_eq!(sessions.fetch_session(&s("alice"), 0, 40)?, Some(63));
    assert_eq!(sessions.fetch_session(&s("alice"), 0, 12)?, None);
    Ok(())
}

fn check_latest(driver: &TopologyTestDriver) -> TestResult {
    let latest: TimestampedKeyValueStore<String, i64> = driver.state_store("latest")?;
    assert_eq!(
        latest.all()?,
        vec![
            (s("alice"), ValueAndTimestamp::new(8, 40)),
            (s("bob"), ValueAndTimestamp::new(20, 31)),
        ]
    );
    Ok(())
}

fn check_all_stores(driver: &TopologyTestDriver) -> TestResult {
    check_windows(driver)?;
    check_sessions(driver)?;
    check_latest(driver)
}

#[test]
fn in_memory_stores_hold_exactly_what_the_processors_wrote() -> TestResult {
    let driver = start_driver(false, None)?;
    pipe_events(&driver)?;
    check_all_stores(&driver)
}

#[test]
fn rocksdb_stores_hold_the_same_and_keep_it_across_a_restart() -> TestResult {
    let dir = TempDir::new("stores-rocksdb")?;
    let driver = start_driver(true, Some(dir.0.clone()))?;
    pipe_events(&driver)?;
    check_all_stores(&driver)?;
    driver.close()?;
    assert!(dir.0.join("rocksdb").join("windows").exists());

    // A new driver on the same directory reopens the RocksDB files.
    let reopened = start_driver(true, Some(dir.0.clone()))?;
    check_all_stores(&reopened)?;
    reopened.close()?;
    Ok(())
}

/// The table files RocksDB wrote under `dir`, in every store.
fn table_files(dir: &std::path::Path) -> std::io::Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            count += table_files(&path)?;
        } else if path.extension().is_some_and(|ext| ext == "sst") {
            count += 1;
        }
    }
    Ok(count)
}

/// A commit flushes caches, not RocksDB's memtables (as in Kafka Streams,
/// the changelog holds every write): the test driver commits after every
/// record, and no table file is written until the stores close.
#[test]
fn commits_leave_rocksdb_memtables_in_memory_until_close() -> TestResult {
    let dir = TempDir::new("stores-commit")?;
    let driver = start_driver(true, Some(dir.0.clone()))?;
    pipe_events(&driver)?;
    assert!(driver.metrics().commits >= EVENTS.len() as u64);
    assert_eq!(table_files(&dir.0)?, 0);
    driver.close()?;
    assert!(table_files(&dir.0)? > 0);
    Ok(())
}

/// The records on `store`'s changelog, raw; tombstones have no value.
type ChangelogRecords = Vec<TestRecord<Vec<u8>, Option<Vec<u8>>>>;

fn changelog(driver: &TopologyTestDriver, store: &str) -> Result<ChangelogRecords, StreamsError> {
    let topic = format!("{APP}-{store}-changelog");
    let value = OptionSerde::new(Arc::new(BytesSerde));
    driver
        .create_output_topic(&topic, BytesSerde, value)
        .read_records_to_list()
}

/// `parts` concatenated: the changelog keys are fixed-width suffixes after
/// the serialized record key.
fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn every_store_write_is_on_its_changelog_in_kafkas_layout() -> TestResult {
    let driver = start_driver(false, None)?;
    pipe_events(&driver)?;

    // Window stores: key ++ window start (8 BE) ++ sequence number (4 BE).
    let window_key = |key: &str, start: i64| {
        bytes(&[key.as_bytes(), &start.to_be_bytes(), &0_u32.to_be_bytes()])
    };
    let expected: Vec<_> = [
        ("alice", 0, 1, 0),
        ("bob", 0, 10, 3),
        ("alice", 0, 3, 5),
        ("alice", 10, 4, 12),
        ("alice", 40, 8, 40),
        ("bob", 30, 20, 31),
        ("alice", 30, 16, 30),
        ("alice", 20, 32, 22),
    ]
    .into_iter()
    .map(|(key, start, sum, ts): (&str, i64, i64, i64)| {
        TestRecord::new(window_key(key, start), Some(sum.to_be_bytes().to_vec()), ts)
    })
    .collect();
    assert_eq!(changelog(&driver, "windows")?, expected);

    // Session stores: key ++ end (8 BE) ++ start (8 BE); removals are
    // tombstones.
    let session_key = |key: &str, start: i64, end: i64| {
        bytes(&[key.as_bytes(), &end.to_be_bytes(), &start.to_be_bytes()])
    };
    let put = |key: &str, start: i64, end: i64, sum: i64, ts: i64| {
        TestRecord::new(
            session_key(key, start, end),
            Some(sum.to_be_bytes().to_vec()),
            ts,
        )
    };
    let remove = |key: &str, start: i64, end: i64, ts: i64| {
        TestRecord::new(session_key(key, start, end), None, ts)
    };
    assert_eq!(
        changelog(&driver, "sessions")?,
        vec![
            put("alice", 0, 0, 1, 0),
            put("bob", 3, 3, 10, 3),
            remove("alice", 0, 0, 5),
            put("alice", 0, 5, 3, 5),
            remove("alice", 0, 5, 12),
            put("alice", 0, 12, 7, 12),
            put("alice", 40, 40, 8, 40),
            put("bob", 31, 31, 20, 31),
            remove("alice", 40, 40, 30),
            put("alice", 30, 40, 24, 30),
            remove("alice", 0, 12, 22),
            remove("alice", 30, 40, 22),
            put("alice", 0, 40, 63, 22),
        ]
    );

    // Timestamped key-value stores: the plain value, on a record stamped
    // with the value's timestamp.
    let latest = |key: &str, value: i64, ts: i64| {
        TestRecord::new(
            key.as_bytes().to_vec(),
            Some(value.to_be_bytes().to_vec()),
            ts,
        )
    };
    assert_eq!(
        changelog(&driver, "latest")?,
        vec![
            latest("alice", 1, 0),
            latest("bob", 10, 3),
            latest("alice", 2, 5),
            latest("alice", 4, 12),
            latest("alice", 8, 40),
            latest("bob", 20, 31),
        ]
    );
    Ok(())
}

#[test]
fn each_store_kind_is_its_own_handle_type() -> TestResult {
    let driver = start_driver(false, None)?;
    let wrong_value = driver.state_store::<WindowStore<String, String>>("windows");
    assert!(matches!(wrong_value, Err(StreamsError::StoreAccess { .. })));
    let wrong_kind = driver.state_store::<WindowStore<String, i64>>("sessions");
    assert!(matches!(wrong_kind, Err(StreamsError::StoreAccess { .. })));
    // From outside the topology a timestamped store also serves as its
    // plain view, as Kafka's driver hands out store facades.
    let plain = driver.state_store::<streams_core::state::KeyValueStore<String, i64>>("latest")?;
    assert_eq!(plain.get(&"alice".to_owned())?, None, "nothing written yet");
    Ok(())
}

/// Forwards each record ten seconds later than it came.
struct Delay;

impl Processor<String, i64, String, i64> for Delay {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, i64>,
    ) -> Result<(), StreamsError> {
        let timestamp = record.timestamp + 10_000;
        ctx.forward(Record {
            timestamp,
            ..record
        })
    }
}

/// Writes each record into the logged key-value store `store_name`.
struct Remember<V> {
    store_name: &'static str,
    store: Option<KeyValueStore<String, V>>,
}

impl<V> Remember<V> {
    fn writing_to(store_name: &'static str) -> Self {
        Self {
            store_name,
            store: None,
        }
    }
}

impl<V: 'static> Processor<String, V> for Remember<V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, (), ()>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store(self.store_name)?);
        Ok(())
    }

    fn process(
        &mut self,
        _ctx: &mut ProcessorContext<'_, (), ()>,
        record: Record<String, V>,
    ) -> Result<(), StreamsError> {
        match &self.store {
            Some(store) => store.put(&record.key, &record.value),
            None => Ok(()),
        }
    }
}

/// A store below a processor that forwards a record with a new timestamp
/// stamps its changelog with that timestamp, not the input record's (as
/// Kafka Streams' forward updates the record context).
#[test]
fn changelog_writes_carry_the_timestamp_of_the_forwarded_record() -> TestResult {
    let topology = TopologyBuilder::new()
        .add_source("in", &["input"], SourceOptions::new(StringSerde, I64Serde))
        .add_processor("delay", || Delay, &["in"])
        .add_processor(
            "remember",
            || Remember::<i64>::writing_to("remembered"),
            &["delay"],
        )
        .add_state_store(
            Stores::key_value_store_builder::<String, i64>("remembered").in_memory(),
            &["remember"],
        )
        .build()?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("input", StringSerde, I64Serde);
    input.pipe_input_at("k".into(), 1, 5)?;
    let changelog = driver.create_output_topic(
        "test-driver-application-remembered-changelog",
        StringSerde,
        I64Serde,
    );
    assert_eq!(
        changelog.read_records_to_list()?,
        vec![TestRecord::new("k".into(), 1, 10_005)]
    );
    Ok(())
}

/// A value that serializes to null deletes its key, and the changelog gets
/// a tombstone, as Kafka's stores treat a null value.
#[test]
fn a_value_serialized_as_null_deletes_its_key() -> TestResult {
    let values = || OptionSerde::new(Arc::new(I64Serde));
    let topology = TopologyBuilder::new()
        .add_source("in", &["input"], SourceOptions::new(StringSerde, values()))
        .add_processor(
            "remember",
            || Remember::<Option<i64>>::writing_to("optional"),
            &["in"],
        )
        .add_state_store(
            Stores::key_value_store_builder::<String, Option<i64>>("optional").in_memory(),
            &["remember"],
        )
        .build()?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("input", StringSerde, values());
    input.pipe_input_at("k".into(), Some(1), 1)?;
    input.pipe_input_at("k".into(), None, 2)?;
    let store: KeyValueStore<String, Option<i64>> = driver.state_store("optional")?;
    assert_eq!(store.get(&"k".to_owned())?, None);
    let changelog = driver.create_output_topic(
        "test-driver-application-optional-changelog",
        StringSerde,
        values(),
    );
    assert_eq!(
        changelog.read_records_to_list()?,
        vec![
            TestRecord::new("k".into(), Some(1), 1),
            TestRecord::new("k".into(), None, 2)
        ]
    );
    Ok(())
}

/// Tries to close and to restore its store, and forwards what it was told.
struct Meddler;

impl Processor<String, String, String, String> for Meddler {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let store: KeyValueStore<String, String> = ctx.state_store("kv")?;
        let closed = store.close();
        let restored = store.restore(&[]);
        store.put(&record.key, &record.value)?;
        let told = |result: Result<(), StreamsError>| match result {
            Err(StreamsError::StoreOwnedByTask(store)) => format!("refused for {store}"),
            other => format!("{other:?}"),
        };
        let value = format!("{}; {}", told(closed), told(restored));
        ctx.forward(record.with_value(value))
    }
}

/// A processor may not close or restore its stores, as in Kafka, whose
/// processor-facing stores throw: only the task does, and the store stays
/// usable. Before, a processor's `close` closed the store for everyone.
#[test]
fn a_processor_may_not_close_or_restore_its_store() -> TestResult {
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], SourceOptions::new(StringSerde, StringSerde))
        .add_processor("meddle", || Meddler, &["in"])
        .add_state_store(
            Stores::key_value_store_builder::<String, String>("kv").in_memory(),
            &["meddle"],
        )
        .add_sink(
            "out",
            "out",
            SinkOptions::new(StringSerde, StringSerde),
            &["meddle"],
        )
        .build()?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input.pipe_input_at("a".to_owned(), "1".to_owned(), 1)?;
    input.pipe_input_at("b".to_owned(), "2".to_owned(), 2)?;
    let output = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        output.read_values_to_list()?,
        [
            "refused for kv; refused for kv",
            "refused for kv; refused for kv"
        ]
    );
    let store: KeyValueStore<String, String> = driver.state_store("kv")?;
    assert_eq!(store.get(&"b".to_owned())?, Some("2".to_owned()));
    Ok(())
}
