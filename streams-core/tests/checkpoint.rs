//! Checkpoints: a task starting from a state directory restores its
//! persistent stores from the changelog offsets its predecessor
//! checkpointed, wipes state it cannot trust, and restores in-memory
//! stores whole.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use state_stores::{CheckpointFile, Offsets, TopicPartition};
use streams_core::engine::{
    ChangelogReader, ChangelogRestore, StreamTask, SystemClock, TaskConfig,
};
use streams_core::prelude::*;
use streams_core::record::ConsumerRecord;
use streams_core::state::{KeyValueStore, Stores};
use streams_core::test_driver::TestDriverConfig;
use streams_core::topology::LogAndSkipOnInvalidTimestamp;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const APP: &str = "checkpoint-test";
const CHANGELOG: &str = "checkpoint-test-counts-changelog";

/// Counts records per key in the store `counts`, forwarding each count.
#[derive(Default)]
struct Count {
    store: Option<KeyValueStore<String, i64>>,
}

impl Processor<String, String, String, i64> for Count {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, String, i64>) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store("counts")?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let count = store.get(&record.key)?.unwrap_or(0) + 1;
        store.put(&record.key, &count)?;
        ctx.forward(record.with_value(count))
    }
}

fn topology(persistent: bool) -> Result<Topology, StreamsError> {
    let store = Stores::key_value_store_builder::<String, i64>("counts");
    let store = if persistent {
        store.persistent()
    } else {
        store.in_memory()
    };
    TopologyBuilder::new()
        .add_source(
            "words",
            &["words"],
            SourceOptions::new(StringSerde, StringSerde)
                .timestamp_extractor(LogAndSkipOnInvalidTimestamp),
        )
        .add_processor("count", Count::default, &["words"])
        .add_state_store(store, &["count"])
        .build()
        .map_err(StreamsError::from)
}

fn driver(persistent: bool, dir: &Path) -> Result<TopologyTestDriver, StreamsError> {
    let config = TestDriverConfig {
        application_id: APP.to_owned(),
        state_dir: Some(dir.to_owned()),
        ..TestDriverConfig::default()
    };
    TopologyTestDriver::with_config(&topology(persistent)?, config)
}

fn pipe(driver: &TopologyTestDriver, words: &[&str]) -> Result<(), StreamsError> {
    let input = driver.create_input_topic("words", StringSerde, StringSerde);
    for (timestamp, word) in (0..).zip(words) {
        input.pipe_input_at((*word).to_owned(), String::new(), timestamp)?;
    }
    Ok(())
}

fn counts(store: &KeyValueStore<String, i64>) -> Result<Vec<(String, i64)>, StreamsError> {
    store.all()
}

fn owned(counts: &[(&str, i64)]) -> Vec<(String, i64)> {
    counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn checkpoint(offset: i64) -> Offsets {
    Offsets::from([(TopicPartition::new(CHANGELOG, 0), offset)])
}

const WORDS: [&str; 5] = ["a", "b", "a", "c", "a"];

#[test]
fn a_restarted_task_restores_a_persistent_store_from_its_checkpoint() -> TestResult {
    let dir = tempfile::tempdir()?;
    let driver = driver(true, dir.path())?;
    pipe(&driver, &WORDS)?;
    driver.restart(&topology(true)?)?;
    assert_eq!(
        driver.metrics().restored_records,
        0,
        "nothing past the checkpoint"
    );
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(5)),
        "the end of the changelog: one record per word"
    );
    pipe(&driver, &["b"])?;
    let store: KeyValueStore<String, i64> = driver.state_store("counts")?;
    assert_eq!(counts(&store)?, owned(&[("a", 3), ("b", 2), ("c", 1)]));
    driver.close()?;
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(6))
    );
    Ok(())
}

/// The driver commits before it closes: a last record dropped on arrival
/// (a negative timestamp) leaves nothing uncommitted to refuse a
/// checkpoint; and a new driver on the same directory does not trust the
/// old one's checkpoint, whose changelogs went with it.
#[test]
fn a_driver_closes_cleanly_after_a_dropped_record_and_its_successor_starts_afresh() -> TestResult {
    let dir = tempfile::tempdir()?;
    let driver = driver(true, dir.path())?;
    pipe(&driver, &WORDS)?;
    let input = driver.create_input_topic("words", StringSerde, StringSerde);
    input.pipe_input_at("a".to_owned(), String::new(), -1)?;
    assert_eq!(driver.metrics().dropped_records, 1);
    driver.close()?;
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(5))
    );

    let driver = self::driver(true, dir.path())?;
    assert_eq!(CheckpointFile::in_dir(dir.path()).read()?, None);
    pipe(&driver, &["b"])?;
    driver.restart(&topology(true)?)?;
    assert_eq!(driver.metrics().restored_records, 0);
    // The store kept what the first driver counted.
    let store: KeyValueStore<String, i64> = driver.state_store("counts")?;
    assert_eq!(counts(&store)?, owned(&[("a", 3), ("b", 2), ("c", 1)]));
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(1))
    );
    Ok(())
}

#[test]
fn an_in_memory_store_restores_its_whole_changelog_and_is_not_checkpointed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let driver = driver(false, dir.path())?;
    pipe(&driver, &WORDS)?;
    driver.restart(&topology(false)?)?;
    assert_eq!(driver.metrics().restored_records, 5);
    assert_eq!(CheckpointFile::in_dir(dir.path()).read()?, None);
    let store: KeyValueStore<String, i64> = driver.state_store("counts")?;
    assert_eq!(counts(&store)?, owned(&[("a", 3), ("b", 1), ("c", 1)]));
    Ok(())
}

/// A changelog held in memory: offsets are positions.
struct Changelog(Vec<ConsumerRecord>);

impl Changelog {
    /// `counts` as the store logs them, in order.
    fn of(counts: &[(&str, i64)]) -> Self {
        let records = (0..)
            .zip(counts)
            .map(|(offset, (key, count))| ConsumerRecord {
                topic: CHANGELOG.into(),
                partition: 0,
                offset,
                timestamp: offset,
                key: Some(key.as_bytes().to_vec()),
                value: Some(count.to_be_bytes().to_vec()),
                headers: Headers::new(),
            })
            .collect();
        Self(records)
    }
}

impl ChangelogReader for Changelog {
    fn offsets(&self, topic: &str, _partition: i32) -> Result<(i64, i64), StreamsError> {
        assert_eq!(topic, CHANGELOG);
        Ok((0, self.0.len() as i64))
    }

    fn read(
        &self,
        topic: &str,
        _partition: i32,
        from: i64,
        end: i64,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        assert_eq!(topic, CHANGELOG);
        restore(self.0[from as usize..end as usize].to_vec())
    }
}

/// A task on `dir` that will restore from `changelog`.
fn restoring_task(
    dir: &Path,
    changelog: Changelog,
    exactly_once: bool,
) -> Result<StreamTask, StreamsError> {
    let mut config = TaskConfig::new(APP, Rc::new(SystemClock));
    config.state_dir = Some(dir.to_owned());
    config.restore_from = Some(Box::new(changelog));
    config.exactly_once = exactly_once;
    StreamTask::new(&topology(true)?, config)
}

/// A task on `dir`, restored from `changelog`.
fn task(dir: &Path, changelog: Changelog, exactly_once: bool) -> Result<StreamTask, StreamsError> {
    let mut task = restoring_task(dir, changelog, exactly_once)?;
    task.restore_all()?;
    Ok(task)
}

/// A state directory whose store holds a=3, b=1, c=1 (what `WORDS`
/// count), and whose changelog says only a=1, b=1: as if the store had
/// written what never reached its changelog.
fn diverged_state(dir: &Path) -> Result<Changelog, StreamsError> {
    let driver = driver(true, dir)?;
    pipe(&driver, &WORDS)?;
    driver.close()?;
    Ok(Changelog::of(&[("a", 1), ("b", 1)]))
}

fn store_counts(task: &StreamTask) -> Result<Vec<(String, i64)>, StreamsError> {
    counts(&task.state_store::<KeyValueStore<String, i64>>("counts")?)
}

#[test]
fn a_checkpointed_offset_is_where_the_restore_starts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let changelog = diverged_state(dir.path())?;
    CheckpointFile::in_dir(dir.path()).write(&checkpoint(1))?;
    let task = task(dir.path(), changelog, false)?;
    assert_eq!(task.metrics().restored_records, 1, "b=1 only");
    assert_eq!(store_counts(&task)?, owned(&[("a", 3), ("b", 1), ("c", 1)]));
    // At least once, a checkpoint follows the restore.
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(2))
    );
    Ok(())
}

#[test]
fn exactly_once_wipes_state_found_without_a_checkpoint() -> TestResult {
    let dir = tempfile::tempdir()?;
    let changelog = diverged_state(dir.path())?;
    CheckpointFile::in_dir(dir.path()).delete()?;
    let task = task(dir.path(), changelog, true)?;
    assert_eq!(task.metrics().restored_records, 2, "the whole changelog");
    assert_eq!(store_counts(&task)?, owned(&[("a", 1), ("b", 1)]));
    Ok(())
}

#[test]
fn at_least_once_restores_state_found_without_a_checkpoint_from_the_start() -> TestResult {
    let dir = tempfile::tempdir()?;
    let changelog = diverged_state(dir.path())?;
    CheckpointFile::in_dir(dir.path()).delete()?;
    let task = task(dir.path(), changelog, false)?;
    assert_eq!(task.metrics().restored_records, 2);
    // Kafka keeps the state and replays the changelog over it.
    assert_eq!(store_counts(&task)?, owned(&[("a", 1), ("b", 1), ("c", 1)]));
    Ok(())
}

#[test]
fn exactly_once_deletes_the_checkpoint_while_the_task_runs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let changelog = diverged_state(dir.path())?;
    CheckpointFile::in_dir(dir.path()).write(&checkpoint(2))?;
    let mut task = task(dir.path(), changelog, true)?;
    assert_eq!(task.metrics().restored_records, 0);
    assert_eq!(store_counts(&task)?, owned(&[("a", 3), ("b", 1), ("c", 1)]));
    assert_eq!(CheckpointFile::in_dir(dir.path()).read()?, None, "deleted");
    let written = BTreeMap::from([(TopicPartition::new(CHANGELOG, 0), 7)]);
    assert!(!task.checkpoint(&written, false)?, "not while running");
    assert_eq!(CheckpointFile::in_dir(dir.path()).read()?, None);
    task.close()?;
    assert!(
        task.checkpoint(&written, true)?,
        "a clean close checkpoints"
    );
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(8))
    );
    Ok(())
}

#[test]
fn a_checkpoint_outside_the_changelog_wipes_the_state() -> TestResult {
    for offset in [3, 100] {
        let dir = tempfile::tempdir()?;
        let changelog = diverged_state(dir.path())?;
        CheckpointFile::in_dir(dir.path()).write(&checkpoint(offset))?;
        let task = task(dir.path(), changelog, false)?;
        assert_eq!(task.metrics().restored_records, 2, "offset {offset}");
        assert_eq!(store_counts(&task)?, owned(&[("a", 1), ("b", 1)]));
    }
    Ok(())
}

#[test]
fn a_running_task_checkpoints_after_enough_changelog_writes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut task = task(dir.path(), Changelog::of(&[]), false)?;
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(0))
    );
    let written = |last: i64| BTreeMap::from([(TopicPartition::new(CHANGELOG, 0), last)]);
    assert!(!task.checkpoint(&written(9_999), false)?, "10,000 records");
    assert!(task.checkpoint(&written(10_000), false)?, "10,001 records");
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(10_001))
    );
    assert!(!task.checkpoint(&written(10_005), false)?);
    // Other partitions are not the task's.
    let other = BTreeMap::from([(TopicPartition::new("other", 0), 50_000)]);
    assert!(!task.checkpoint(&other, false)?);
    Ok(())
}

#[test]
fn a_task_with_uncommitted_work_refuses_to_checkpoint() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut task = task(dir.path(), Changelog::of(&[]), false)?;
    task.add_records([word(0, "a")])?;
    assert!(task.process()?);
    let refused = task.checkpoint(&BTreeMap::new(), true);
    assert!(
        matches!(refused, Err(StreamsError::UncommittedCheckpoint(ref id)) if id == "0_0"),
        "{refused:?}"
    );
    task.commit()?;
    assert!(task.checkpoint(&BTreeMap::new(), true)?);
    Ok(())
}

fn word(offset: i64, word: &str) -> ConsumerRecord {
    ConsumerRecord {
        topic: "words".into(),
        partition: 0,
        offset,
        timestamp: offset,
        key: Some(word.as_bytes().to_vec()),
        value: Some(Vec::new()),
        headers: Headers::new(),
    }
}

/// A driver restores a batch at a time; the task processes nothing until
/// the restore reached the changelog's end, past records it never sees
/// (transaction markers, say).
#[test]
fn a_task_processes_only_once_its_driver_restored_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let Changelog(log) = Changelog::of(&[("a", 1), ("b", 1), ("a", 2)]);
    let task = restoring_task(dir.path(), Changelog(Vec::new()), false)?;
    assert_eq!(task.restoring().count(), 0, "an empty changelog");
    drop(task);

    // From offset 0, which the first task checkpointed.
    let mut task = restoring_task(dir.path(), Changelog(log.clone()), false)?;
    let changelog = TopicPartition::new(CHANGELOG, 0);
    let restoring: Vec<ChangelogRestore> = task.restoring().cloned().collect();
    assert_eq!(
        restoring,
        [ChangelogRestore {
            changelog: changelog.clone(),
            store: "counts".to_owned(),
            restored: 0,
            next: 0,
            end: 3,
            checkpointed: true,
        }]
    );
    assert_eq!(task.metrics().records_to_restore, 3);
    task.add_records([word(0, "a")])?;
    assert!(!task.process()?, "restoring");
    task.restore(&changelog, log[..2].to_vec(), 2)?;
    assert_eq!(task.metrics().records_to_restore, 1);
    // A checkpoint while restoring names where the restore got, whatever
    // the thread's producer wrote to the changelog before (for the task's
    // predecessor).
    let written = BTreeMap::from([(changelog.clone(), 100)]);
    assert!(task.checkpoint(&written, true)?);
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(2))
    );
    // Records restored already are refused.
    let again = task.restore(&changelog, log[..1].to_vec(), 1);
    assert!(
        matches!(again, Err(StreamsError::NotRestoring { offset: 0, .. })),
        "{again:?}"
    );
    assert!(!task.process()?, "still restoring");
    // The last record was an aborted one: the read reached the end
    // without it (and went past it, to records the task wrote since).
    task.restore(&changelog, Vec::new(), 10)?;
    assert_eq!(task.restoring().count(), 0);
    assert_eq!(task.metrics().restored_records, 2);
    assert_eq!(task.metrics().records_to_restore, 0);
    assert!(task.process()?);
    assert_eq!(store_counts(&task)?, owned(&[("a", 2), ("b", 1)]));
    // A checkpoint followed the restore.
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(3))
    );
    let unknown = task.restore(&TopicPartition::new("other", 0), Vec::new(), 1);
    assert!(matches!(
        unknown,
        Err(StreamsError::NotRestoring { ref topic, offset: 1, .. }) if topic == "other"
    ));
    Ok(())
}

/// A task closed while it restores checkpoints how far it got, and the
/// next task on the directory restores on from there.
#[test]
fn a_task_closed_mid_restore_resumes_where_it_stopped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let counts = [("a", 1), ("b", 1), ("a", 2), ("c", 1)];
    let Changelog(log) = Changelog::of(&counts);
    let mut task = restoring_task(dir.path(), Changelog(log.clone()), false)?;
    let changelog = TopicPartition::new(CHANGELOG, 0);
    task.restore(&changelog, log[..2].to_vec(), 2)?;
    task.close()?;
    assert!(task.checkpoint(&BTreeMap::new(), true)?);
    assert_eq!(
        CheckpointFile::in_dir(dir.path()).read()?,
        Some(checkpoint(2))
    );

    let mut task = restoring_task(dir.path(), Changelog(log), false)?;
    let resumed: Vec<(i64, i64, bool)> = task
        .restoring()
        .map(|restore| (restore.next, restore.end, restore.checkpointed))
        .collect();
    assert_eq!(resumed, [(2, 4, true)]);
    task.restore_all()?;
    assert_eq!(task.metrics().restored_records, 2);
    assert_eq!(store_counts(&task)?, owned(&[("a", 2), ("b", 1), ("c", 1)]));
    Ok(())
}
