//! The shared test suite: every store kind runs the same tests against both
//! backends (see [`backend_suite!`]), plus restart and checkpoint scenarios.

mod key_value;
mod restart;
mod session;
mod window;

use std::sync::{Arc, Mutex};

use crate::backend::{BytesBackend, InMemoryBackend, RocksDbBackend};
use crate::budget::RocksDbMemoryBudget;
use crate::changelog::{ChangelogRecord, ChangelogSink, ChangelogWriter, RecordContext};
use crate::error::{ExternalError, Result, StoreError};

/// What suite tests return: store errors and proptest failures alike.
pub(crate) type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Runs a property test with `cases` cases inside a suite test.
pub(crate) fn check_property<S: proptest::strategy::Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> TestResult,
) -> TestResult
where
    S::Value: std::fmt::Debug,
{
    let config = proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&strategy, |value| {
            test(value)
                .map_err(|error| proptest::test_runner::TestCaseError::fail(error.to_string()))
        })
        .map_err(|error| error.to_string().into())
}

/// Small keys over an alphabet rich in the bytes that break naive layouts
/// (zero, one, `0xFF`), so keys often prefix each other.
pub(crate) fn tricky_key() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(1u8), Just(b'a'), Just(0xFFu8)],
        0..4,
    )
}

/// Creates fresh backends of one kind.
pub(crate) trait BackendFactory {
    type Backend: BytesBackend + 'static;

    fn new() -> Result<Self>
    where
        Self: Sized;

    /// A new, empty backend for the store `name`.
    fn open(&self, name: &str) -> Result<Self::Backend>;
}

pub(crate) struct InMemoryFactory;

impl BackendFactory for InMemoryFactory {
    type Backend = InMemoryBackend;

    fn new() -> Result<Self> {
        Ok(Self)
    }

    fn open(&self, name: &str) -> Result<InMemoryBackend> {
        Ok(InMemoryBackend::new(name))
    }
}

pub(crate) struct RocksDbFactory {
    dir: tempfile::TempDir,
    budget: RocksDbMemoryBudget,
    opened: Mutex<usize>,
}

impl BackendFactory for RocksDbFactory {
    type Backend = RocksDbBackend;

    fn new() -> Result<Self> {
        Ok(Self {
            dir: temp_dir()?,
            budget: RocksDbMemoryBudget::new(16 << 20),
            opened: Mutex::new(0),
        })
    }

    fn open(&self, name: &str) -> Result<RocksDbBackend> {
        let mut opened = self.opened.lock().map_err(|_| poisoned())?;
        *opened += 1;
        let path = self.dir.path().join(format!("{name}-{opened}"));
        RocksDbBackend::open(name, &path, &self.budget, None)
    }
}

pub(crate) fn temp_dir() -> Result<tempfile::TempDir> {
    tempfile::tempdir().map_err(|source| StoreError::Io {
        path: std::env::temp_dir(),
        source,
    })
}

fn poisoned() -> StoreError {
    StoreError::Closed("poisoned test mutex".to_owned())
}

/// A changelog sink that records everything sent to it, per store, in
/// order; a record's index is its changelog offset.
#[derive(Default)]
pub(crate) struct RecordingSink {
    records: Mutex<Vec<(String, ChangelogRecord)>>,
}

impl RecordingSink {
    /// The records sent by `store`, in order.
    pub(crate) fn records_of(&self, store: &str) -> Result<Vec<ChangelogRecord>> {
        let records = self.records.lock().map_err(|_| poisoned())?;
        Ok(records
            .iter()
            .filter(|(name, _)| name == store)
            .map(|(_, record)| record.clone())
            .collect())
    }
}

impl ChangelogSink for RecordingSink {
    fn send(
        &self,
        store_name: &str,
        record: ChangelogRecord,
    ) -> std::result::Result<(), ExternalError> {
        let mut records = self.records.lock().map_err(|_| "poisoned")?;
        records.push((store_name.to_owned(), record));
        Ok(())
    }
}

/// A changelog writer for `store` into a fresh recording sink.
pub(crate) fn recording_writer(
    store: &str,
) -> (ChangelogWriter, Arc<RecordingSink>, RecordContext) {
    let sink = Arc::new(RecordingSink::default());
    let timestamp = RecordContext::new();
    let writer = ChangelogWriter::new(store, sink.clone(), timestamp.clone());
    (writer, sink, timestamp)
}

/// Collects a fallible iterator.
pub(crate) fn collect<T>(iter: impl Iterator<Item = Result<T>>) -> Result<Vec<T>> {
    iter.collect()
}

/// Instantiates every generic suite test for one backend factory, as
/// `$module::<suite>::<test>` `#[test]` functions.
macro_rules! backend_suite {
    ($module:ident, $factory:ty) => {
        mod $module {
            backend_suite!(@suite $factory, key_value: [
                point_operations,
                scans_follow_key_byte_order,
                put_all_and_counts,
                closed_store_fails,
                restore_reproduces_the_store,
            ]);
            backend_suite!(@suite $factory, window: [
                point_operations_and_time_order,
                keys_that_prefix_each_other_stay_apart,
                key_range_and_backward_fetches,
                retention_drops_expired_windows,
                duplicates_are_retained_in_put_order,
                restore_reproduces_the_store,
            ]);
            backend_suite!(@suite $factory, session: [
                point_operations,
                find_sessions_merges_like_the_aggregator,
                key_range_queries,
                retention_drops_expired_sessions,
                sessions_ending_within_ignore_the_retention_cut,
                restore_reproduces_the_store,
            ]);
        }
    };
    (@suite $factory:ty, $suite:ident: [$($test:ident),* $(,)?]) => {
        mod $suite {
            $(
                #[test]
                fn $test() -> crate::test_suite::TestResult {
                    crate::test_suite::$suite::$test::<$factory>()
                }
            )*
        }
    };
}

backend_suite!(in_memory, crate::test_suite::InMemoryFactory);
backend_suite!(rocksdb, crate::test_suite::RocksDbFactory);
