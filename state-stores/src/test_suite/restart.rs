//! Restart scenarios: stores built by [`StoreBuilder`] on RocksDB, closed,
//! and reopened the way the engine does - trusting the checkpoint when it
//! is valid, restoring the whole changelog when it is not.

use std::sync::Arc;

use super::{collect, temp_dir, RecordingSink, TestResult};
use crate::builder::{BackendKind, StoreBuilder, StoreContext};
use crate::checkpoint::{CheckpointFile, Offsets, TopicPartition};
use crate::segments::Retention;
use crate::session::SessionKey;
use crate::state_store::StateStore;
use crate::store::Store;
use crate::RocksDbMemoryBudget;

const STORES: [&str; 3] = ["counts", "windows", "sessions"];

fn builders() -> crate::Result<Vec<StoreBuilder>> {
    let retention = Retention::with_segment_interval(100, 50)?;
    Ok(vec![
        StoreBuilder::key_value("counts"),
        StoreBuilder::window("windows", retention, 10, false),
        StoreBuilder::session("sessions", retention),
    ]
    .into_iter()
    .map(|builder| builder.backend(BackendKind::RocksDb))
    .collect())
}

fn build_all(context: &StoreContext) -> crate::Result<Vec<Store>> {
    builders()?
        .iter()
        .map(|builder| builder.build(context))
        .collect()
}

/// Every store's full contents, in a comparable form.
#[derive(Debug, PartialEq)]
struct Snapshot(Vec<Vec<(Vec<u8>, Vec<u8>)>>);

fn snapshot(stores: &[Store]) -> crate::Result<Snapshot> {
    let mut contents = Vec::new();
    for store in stores {
        contents.push(match store {
            Store::KeyValue(store) => collect(store.all())?,
            Store::Window(store) => collect(store.all())?
                .into_iter()
                .map(|(w, v)| ([w.key, w.window_start.to_be_bytes().to_vec()].concat(), v))
                .collect(),
            Store::Session(store) => collect(store.fetch_range(None, None))?
                .into_iter()
                .map(|(s, v)| {
                    (
                        [
                            s.key,
                            s.start.to_be_bytes().to_vec(),
                            s.end.to_be_bytes().to_vec(),
                        ]
                        .concat(),
                        v,
                    )
                })
                .collect(),
        });
    }
    Ok(Snapshot(contents))
}

fn changelog_partition(store: &str) -> TopicPartition {
    TopicPartition::new(format!("app-{store}-changelog"), 0)
}

/// Runs a first incarnation of the task: writes to every store (with some
/// windows and sessions expiring), commits (flush + checkpoint), closes.
fn first_run(
    context: &StoreContext,
    sink: &RecordingSink,
) -> Result<Snapshot, Box<dyn std::error::Error>> {
    let mut stores = build_all(context)?;
    for i in 0..50i64 {
        context.record_context.set_timestamp(i * 10);
        let key = format!("key-{}", i % 7).into_bytes();
        for store in &mut stores {
            match store {
                Store::KeyValue(store) => store.put(&key, &i.to_be_bytes())?,
                Store::Window(store) => store
                    .put(&key, Some(&i.to_be_bytes()), i * 10)
                    .map(|_| ())?,
                Store::Session(store) => {
                    let session = SessionKey {
                        key: key.clone(),
                        start: i * 10,
                        end: i * 10 + 5,
                    };
                    store.put(&session, &i.to_be_bytes())?
                }
            }
        }
    }
    let contents = snapshot(&stores)?;
    assert!(contents.0.iter().all(|entries| !entries.is_empty()));
    let mut offsets = Offsets::new();
    for store in &mut stores {
        store.flush()?;
        offsets.insert(
            changelog_partition(store.name()),
            sink.records_of(store.name())?.len() as i64,
        );
    }
    CheckpointFile::in_dir(&context.state_dir).write(&offsets)?;
    for store in &mut stores {
        store.close()?;
    }
    Ok(contents)
}

/// Reopens the task as the engine does and returns its stores and how many
/// changelog records were replayed.
fn reopen(
    context: &StoreContext,
    sink: &RecordingSink,
) -> Result<(Vec<Store>, usize), Box<dyn std::error::Error>> {
    let checkpoint = CheckpointFile::in_dir(&context.state_dir).read()?;
    if checkpoint.is_none() {
        // Local state cannot be trusted: wipe it and restore from scratch.
        std::fs::remove_dir_all(context.state_dir.join("rocksdb"))?;
    }
    let mut stores = build_all(context)?;
    let mut replayed = 0;
    for store in &mut stores {
        let start = match &checkpoint {
            Some(offsets) => offsets
                .get(&changelog_partition(store.name()))
                .map_or(0, |offset| *offset as usize),
            None => 0,
        };
        let records = sink.records_of(store.name())?;
        for batch in records[start..].chunks(16) {
            store.restore_batch(batch)?;
        }
        replayed += records.len() - start;
    }
    Ok((stores, replayed))
}

fn context(dir: &std::path::Path, sink: &Arc<RecordingSink>) -> StoreContext {
    StoreContext::new(dir, RocksDbMemoryBudget::new(16 << 20)).with_changelog(sink.clone())
}

#[test]
fn a_valid_checkpoint_skips_restoration() -> TestResult {
    let dir = temp_dir()?;
    let sink = Arc::new(RecordingSink::default());
    let context = context(dir.path(), &sink);
    let before = first_run(&context, &sink)?;

    let (mut stores, replayed) = reopen(&context, &sink)?;
    assert_eq!(replayed, 0);
    assert_eq!(snapshot(&stores)?, before);
    // Stream time survived the restart: expired windows stay expired.
    if let Some(windows) = stores[1].as_window_mut() {
        assert_eq!(windows.put(b"key-0", Some(b"late"), 0)?, None);
    }
    Ok(())
}

#[test]
fn a_corrupt_or_missing_checkpoint_restores_everything() -> TestResult {
    for damage in ["corrupt", "missing"] {
        let dir = temp_dir()?;
        let sink = Arc::new(RecordingSink::default());
        let context = context(dir.path(), &sink);
        let before = first_run(&context, &sink)?;
        let checkpoint = CheckpointFile::in_dir(dir.path());
        if damage == "corrupt" {
            // Claim a later offset for one store: parses, but fails the checksum.
            let text = std::fs::read_to_string(checkpoint.path())?;
            std::fs::write(checkpoint.path(), text.replacen(" 0 50", " 0 99", 1))?;
        } else {
            checkpoint.delete()?;
        }

        let (stores, replayed) = reopen(&context, &sink)?;
        let total: usize = STORES
            .iter()
            .map(|s| sink.records_of(s).map(|r| r.len()))
            .sum::<crate::Result<_>>()?;
        assert_eq!(replayed, total, "{damage}");
        assert_eq!(snapshot(&stores)?, before, "{damage}");
    }
    Ok(())
}

#[test]
fn stores_share_one_memory_budget_and_honour_the_options_hook() -> TestResult {
    let dir = temp_dir()?;
    let budget = RocksDbMemoryBudget::new(16 << 20);
    let context = StoreContext::new(dir.path(), budget.clone());
    let hooked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&hooked);
    let builder = StoreBuilder::key_value("a")
        .logging(false)
        .rocksdb_options(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
    let mut first = builder.build(&context)?;
    let mut second = StoreBuilder::key_value("b")
        .logging(false)
        .build(&context)?;
    assert_eq!(hooked.load(std::sync::atomic::Ordering::Relaxed), 1);
    for store in [&mut first, &mut second] {
        if let Some(kv) = store.as_key_value_mut() {
            for i in 0..1_000u32 {
                kv.put(&i.to_be_bytes(), &[7; 100])?;
            }
        }
    }
    // Both stores' memtables are charged to the one shared cache.
    assert!(budget.usage() > 0);
    Ok(())
}

#[test]
fn invalid_builders_are_rejected() -> TestResult {
    let dir = temp_dir()?;
    let context = StoreContext::new(dir.path(), RocksDbMemoryBudget::new(1 << 20));
    let retention = Retention::new(1_000)?;
    let rejected = [
        StoreBuilder::key_value("needs-a-sink"),
        StoreBuilder::key_value("../escape").logging(false),
        StoreBuilder::window("too-wide", retention, 2_000, false).logging(false),
        StoreBuilder::session("stamped", retention)
            .logging(false)
            .timestamped(true),
    ];
    for builder in rejected {
        assert!(
            matches!(
                builder.build(&context),
                Err(crate::StoreError::InvalidConfig { .. })
            ),
            "{builder:?}"
        );
    }
    Ok(())
}

/// As Kafka's `WindowStoreBuilder`: a window store that retains
/// duplicates drops the cache it was asked for (with a warning).
#[test]
fn a_window_store_retaining_duplicates_is_built_without_its_cache() -> TestResult {
    let dir = temp_dir()?;
    let context = StoreContext::new(dir.path(), RocksDbMemoryBudget::new(1 << 20));
    let builder = StoreBuilder::window("cached-duplicates", Retention::new(1_000)?, 10, true)
        .backend(crate::BackendKind::InMemory)
        .logging(false)
        .caching(100);
    assert_eq!(builder.cache_max_bytes(), None);
    let crate::Store::Window(mut store) = builder.build(&context)? else {
        return Err("not a window store".into());
    };
    let listener = crate::key_value::FlushListener::new(|_| Ok(()));
    assert!(matches!(
        store.set_flush_listener(listener),
        Err(crate::StoreError::NotCached(_))
    ));
    Ok(())
}

/// Every kind of store, on either backend, cached or not, closes once for
/// all: closing again does nothing, and a write after close fails with
/// `Closed` instead of landing in a cache nobody will flush (Kafka's
/// stores refuse writes once closed).
#[test]
fn a_closed_store_closes_again_quietly_and_refuses_writes() -> TestResult {
    let dir = temp_dir()?;
    let context = StoreContext::new(dir.path(), RocksDbMemoryBudget::new(1 << 20));
    let session = SessionKey {
        key: b"k".to_vec(),
        start: 1,
        end: 1,
    };
    for backend in [BackendKind::InMemory, BackendKind::RocksDb] {
        for cache in [None, Some(1 << 20)] {
            for builder in builders()? {
                let mut builder = builder.backend(backend).logging(false);
                if let Some(max_bytes) = cache {
                    builder = builder.caching(max_bytes);
                }
                let name = builder.name().to_owned();
                let case = format!("{name} on {backend:?}, cache {cache:?}");
                let mut store = builder.build(&context)?;
                let write = |store: &mut Store| match store {
                    Store::KeyValue(store) => store.put(b"k", b"v"),
                    Store::Window(store) => store.put(b"k", Some(b"v"), 1).map(|_| ()),
                    Store::Session(store) => store.put(&session, b"v"),
                };
                write(&mut store)?;
                store.close()?;
                assert!(store.close().is_ok(), "{case}: a second close");
                assert!(
                    matches!(write(&mut store), Err(crate::StoreError::Closed(closed)) if closed == name),
                    "{case}: a write after close"
                );
                std::fs::remove_dir_all(context.rocksdb_dir(&name)).ok();
            }
        }
    }
    Ok(())
}
