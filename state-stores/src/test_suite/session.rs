//! The session store suite.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{check_property, collect, recording_writer, tricky_key, BackendFactory, TestResult};
use crate::segments::Retention;
use crate::session::{LoggingSessionStore, SegmentedSessionStore, SessionKey, SessionStore};
use crate::state_store::StateStore;

fn store<F: BackendFactory>(
    factory: &F,
    retention: Retention,
) -> crate::Result<SegmentedSessionStore<F::Backend>> {
    SegmentedSessionStore::open(factory.open("sessions")?, retention)
}

fn session(key: &[u8], start: i64, end: i64) -> SessionKey {
    SessionKey {
        key: key.to_vec(),
        start,
        end,
    }
}

fn bounds(sessions: Vec<(SessionKey, Vec<u8>)>) -> Vec<(Vec<u8>, i64, i64)> {
    sessions
        .into_iter()
        .map(|(s, _)| (s.key, s.start, s.end))
        .collect()
}

pub(crate) fn point_operations<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::new(1_000_000)?)?;
    store.put(&session(b"k", 20, 30), b"late")?;
    store.put(&session(b"k", 0, 10), b"early")?;
    store.put(&session(b"k", 5, 30), b"overlapping")?;
    store.put(&session(b"k\x00", 0, 10), b"other key")?;
    assert_eq!(store.fetch_session(b"k", 0, 10)?, Some(b"early".to_vec()));
    assert_eq!(store.fetch_session(b"k", 0, 11)?, None);
    // Ordered by end, then start.
    let expected = vec![
        (b"k".to_vec(), 0, 10),
        (b"k".to_vec(), 5, 30),
        (b"k".to_vec(), 20, 30),
    ];
    assert_eq!(bounds(collect(store.fetch(b"k"))?), expected);
    let mut backward = expected.clone();
    backward.reverse();
    assert_eq!(bounds(collect(store.backward_fetch(b"k"))?), backward);
    store.remove(&session(b"k", 5, 30))?;
    assert_eq!(store.fetch_session(b"k", 5, 30)?, None);
    assert_eq!(collect(store.fetch(b"k"))?.len(), 2);
    Ok(())
}

pub(crate) fn find_sessions_merges_like_the_aggregator<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::with_segment_interval(1_000_000, 100)?)?;
    let gap = 5;
    for (start, end) in [(0, 10), (16, 20), (30, 40), (300, 310)] {
        store.put(&session(b"user", start, end), b"agg")?;
    }
    store.put(&session(b"user\x00", 12, 14), b"other key")?;
    // A record at 15 with gap 5 merges every session ending at >= 10 and
    // starting at <= 20: the sessions (0, 10) and (16, 20).
    let found = bounds(collect(store.find_sessions(b"user", 15 - gap, 15 + gap))?);
    assert_eq!(
        found,
        vec![(b"user".to_vec(), 0, 10), (b"user".to_vec(), 16, 20)]
    );
    // Boundaries are inclusive on both sides.
    assert_eq!(
        bounds(collect(store.find_sessions(b"user", 40, 30))?),
        vec![(b"user".to_vec(), 30, 40)]
    );
    // No session: a new one is created by the caller.
    assert_eq!(collect(store.find_sessions(b"user", 50, 60))?, Vec::new());
    // Sessions in later segments are found too.
    assert_eq!(
        bounds(collect(store.find_sessions(b"user", 305, 305))?),
        vec![(b"user".to_vec(), 300, 310)]
    );
    let backward = bounds(collect(store.backward_find_sessions(b"user", 10, 20))?);
    assert_eq!(
        backward,
        vec![(b"user".to_vec(), 16, 20), (b"user".to_vec(), 0, 10)]
    );
    Ok(())
}

pub(crate) fn key_range_queries<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::new(1_000_000)?)?;
    for key in [b"a", b"b", b"c"] {
        store.put(&session(key, 0, 10), key)?;
        store.put(&session(key, 20, 30), key)?;
    }
    let found = bounds(collect(store.find_sessions_in_range(
        Some(b"a"),
        Some(b"b"),
        25,
        100,
    ))?);
    assert_eq!(
        found,
        vec![(b"a".to_vec(), 20, 30), (b"b".to_vec(), 20, 30)]
    );
    assert_eq!(collect(store.fetch_range(Some(b"b"), None))?.len(), 4);
    assert_eq!(collect(store.fetch_range(None, None))?.len(), 6);
    assert_eq!(
        collect(store.fetch_range(Some(b"c"), Some(b"a")))?,
        Vec::new()
    );
    Ok(())
}

pub(crate) fn retention_drops_expired_sessions<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::with_segment_interval(100, 50)?)?;
    store.put(&session(b"k", 0, 10), b"old")?;
    store.put(&session(b"k", 50, 90), b"mid")?;
    store.put(&session(b"k", 100, 150), b"new")?;
    // Stream time 150: live sessions end after 50.
    assert_eq!(
        bounds(collect(store.fetch(b"k"))?),
        vec![(b"k".to_vec(), 50, 90), (b"k".to_vec(), 100, 150)]
    );
    assert_eq!(store.fetch_session(b"k", 0, 10)?, None);
    store.put(&session(b"k", 40, 50), b"too late")?;
    assert_eq!(store.fetch_session(b"k", 40, 50)?, None);
    store.put(&session(b"k", 400, 400), b"newest")?;
    assert_eq!(
        bounds(collect(store.fetch(b"k"))?),
        vec![(b"k".to_vec(), 400, 400)]
    );
    assert_eq!(store.stored_entries()?, 1);
    store.flush()?;
    Ok(())
}

/// Sessions by end time across keys, as final results are read: the
/// bounds are inclusive, and a session past the retention period still
/// comes back while its segment is held, where the other scans hide it.
pub(crate) fn sessions_ending_within_ignore_the_retention_cut<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::with_segment_interval(100, 50)?)?;
    store.put(&session(b"b", 60, 60), b"b")?;
    store.put(&session(b"a", 55, 60), b"a")?;
    store.put(&session(b"a", 61, 70), b"a2")?;
    store.put(&session(b"c", 150, 160), b"c")?;
    // Stream time 160: the retention cut hides sessions ending before 61.
    assert_eq!(collect(store.fetch(b"b"))?, Vec::new());
    let found = bounds(collect(store.sessions_ending_within(60, 70))?);
    let mut expected = vec![
        (b"a".to_vec(), 55, 60),
        (b"a".to_vec(), 61, 70),
        (b"b".to_vec(), 60, 60),
    ];
    expected.sort();
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert_eq!(
        bounds(collect(store.sessions_ending_within(61, 159))?),
        vec![(b"a".to_vec(), 61, 70)]
    );
    assert_eq!(collect(store.sessions_ending_within(71, 159))?, Vec::new());

    // A segment is kept until all of it is older than stream time minus
    // retention: a session ending in its last millisecond is still found
    // when stream time is exactly the retention past that end.
    let mut minimal = self::store(&factory, Retention::new(10)?)?;
    minimal.put(&session(b"a", 59_999, 59_999), b"a")?;
    minimal.put(&session(b"b", 60_009, 60_009), b"b")?;
    assert_eq!(
        bounds(collect(minimal.sessions_ending_within(59_999, 59_999))?),
        vec![(b"a".to_vec(), 59_999, 59_999)]
    );
    Ok(())
}

#[derive(Debug, Clone)]
enum Op {
    Put(SessionKey, Vec<u8>),
    Remove(SessionKey),
}

fn session_key() -> impl Strategy<Value = SessionKey> {
    (tricky_key(), 0..400i64, 0..40i64).prop_map(|(key, start, length)| SessionKey {
        key,
        start,
        end: start + length,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (session_key(), proptest::collection::vec(any::<u8>(), 0..3)).prop_map(|(s, v)| Op::Put(s, v)),
        1 => session_key().prop_map(Op::Remove),
    ]
}

const RETENTION: i64 = 100;
const SEGMENT: i64 = 50;

/// Random puts and removes through the changelogging layer; restoring the
/// changelog in batches into an empty store reproduces the store, and both
/// match a model.
pub(crate) fn restore_reproduces_the_store<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let retention = Retention::with_segment_interval(RETENTION, SEGMENT)?;
    check_property(
        32,
        (proptest::collection::vec(op(), 0..40), 1..8usize),
        |(ops, batch)| {
            let (writer, sink, _) = recording_writer("sessions");
            let mut original =
                LoggingSessionStore::new(Box::new(store(&factory, retention)?), writer);
            // Keyed by (segment, key, end, start): the store's scan order.
            let mut model = BTreeMap::new();
            let mut stream_time = i64::MIN;
            for op in ops {
                let (session, value) = match op {
                    Op::Put(session, value) => {
                        original.put(&session, &value)?;
                        (session, Some(value))
                    }
                    Op::Remove(session) => {
                        original.remove(&session)?;
                        (session, None)
                    }
                };
                stream_time = stream_time.max(session.end);
                if session.end > stream_time - RETENTION {
                    let id = (
                        session.end.div_euclid(SEGMENT),
                        session.key.clone(),
                        session.end,
                        session.start,
                    );
                    match value {
                        Some(value) => model.insert(id, (session, value)),
                        None => model.remove(&id),
                    };
                }
            }
            let expected: Vec<_> = model
                .into_values()
                .filter(|(session, _)| session.end > stream_time - RETENTION)
                .collect();
            let contents = collect(original.fetch_range(None, None))?;
            assert_eq!(contents, expected);

            let mut restored = store(&factory, retention)?;
            for chunk in sink.records_of("sessions")?.chunks(batch) {
                restored.restore_batch(chunk)?;
            }
            assert_eq!(collect(restored.fetch_range(None, None))?, contents);
            Ok(())
        },
    )
}
