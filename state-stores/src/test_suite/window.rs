//! The window store suite.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{check_property, collect, recording_writer, tricky_key, BackendFactory, TestResult};
use crate::segments::Retention;
use crate::state_store::StateStore;
use crate::window::{LoggingWindowStore, SegmentedWindowStore, WindowStore, WindowedKey};

fn store<F: BackendFactory>(
    factory: &F,
    retention: Retention,
    retain_duplicates: bool,
) -> crate::Result<SegmentedWindowStore<F::Backend>> {
    SegmentedWindowStore::open(factory.open("windows")?, retention, retain_duplicates)
}

fn long_retention() -> crate::Result<Retention> {
    Retention::new(1_000_000)
}

fn entry(key: &[u8], window_start: i64, value: &[u8]) -> (WindowedKey, Vec<u8>) {
    let windowed = WindowedKey {
        key: key.to_vec(),
        window_start,
    };
    (windowed, value.to_vec())
}

pub(crate) fn point_operations_and_time_order<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, long_retention()?, false)?;
    assert_eq!(store.put(b"k", Some(b"v300"), 300)?, Some(0));
    store.put(b"k", Some(b"v100"), 100)?;
    store.put(b"k", Some(b"v200"), 200)?;
    store.put(b"k", Some(b"v200'"), 200)?;
    assert_eq!(store.fetch_window(b"k", 200)?, Some(b"v200'".to_vec()));
    assert_eq!(store.fetch_window(b"k", 150)?, None);
    let expected = vec![
        entry(b"k", 100, b"v100"),
        entry(b"k", 200, b"v200'"),
        entry(b"k", 300, b"v300"),
    ];
    assert_eq!(collect(store.fetch(b"k", 0, 1_000))?, expected);
    assert_eq!(
        collect(store.fetch(b"k", 150, 300))?,
        expected[1..].to_vec()
    );
    assert_eq!(collect(store.fetch(b"k", 301, 1_000))?, Vec::new());
    let mut backward = expected.clone();
    backward.reverse();
    assert_eq!(collect(store.backward_fetch(b"k", 0, 1_000))?, backward);

    store.put(b"k", None, 200)?;
    assert_eq!(store.fetch_window(b"k", 200)?, None);
    assert_eq!(
        collect(store.fetch(b"k", 0, 1_000))?,
        vec![expected[0].clone(), expected[2].clone()]
    );
    Ok(())
}

pub(crate) fn keys_that_prefix_each_other_stay_apart<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, long_retention()?, false)?;
    // With a raw `key ++ timestamp` layout, "a" at any time would overlap
    // "a\x00..." entries; the escaped layout keeps them apart.
    let keys: [&[u8]; 5] = [
        b"a",
        b"a\x00",
        b"a\x00\x00\x00\x00\x00\x00\x00\x00\x05",
        b"a\x01",
        b"",
    ];
    for (i, key) in keys.iter().enumerate() {
        for t in [5, 6] {
            store.put(key, Some(&[i as u8]), t)?;
        }
    }
    for (i, key) in keys.iter().enumerate() {
        let fetched = collect(store.fetch(key, i64::MIN, i64::MAX))?;
        assert_eq!(
            fetched,
            vec![entry(key, 5, &[i as u8]), entry(key, 6, &[i as u8])]
        );
    }
    Ok(())
}

pub(crate) fn key_range_and_backward_fetches<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    // Segments of 100 ms, so the range spans several segments.
    let mut store = store(
        &factory,
        Retention::with_segment_interval(10_000, 100)?,
        false,
    )?;
    for key in [b"a", b"b", b"c"] {
        for t in [50, 150, 250] {
            store.put(key, Some(&[key[0], t as u8]), t)?;
        }
    }
    let keys_and_times = |entries: Vec<(WindowedKey, Vec<u8>)>| {
        entries
            .into_iter()
            .map(|(windowed, _)| (windowed.key[0], windowed.window_start))
            .collect::<Vec<_>>()
    };
    // Per segment: key order, then time; segments in time order.
    let forward = keys_and_times(collect(store.fetch_range(
        Some(b"a"),
        Some(b"b"),
        100,
        250,
    ))?);
    assert_eq!(
        forward,
        vec![(b'a', 150), (b'b', 150), (b'a', 250), (b'b', 250)]
    );
    let backward = keys_and_times(collect(store.backward_fetch_range(
        Some(b"a"),
        Some(b"b"),
        100,
        250,
    ))?);
    assert_eq!(
        backward,
        vec![(b'b', 250), (b'a', 250), (b'b', 150), (b'a', 150)]
    );
    let open_start = keys_and_times(collect(store.fetch_range(None, Some(b"a"), 0, 100))?);
    assert_eq!(open_start, vec![(b'a', 50)]);
    let open_end = keys_and_times(collect(store.fetch_range(Some(b"c"), None, 0, 100))?);
    assert_eq!(open_end, vec![(b'c', 50)]);
    assert_eq!(
        collect(store.fetch_range(Some(b"c"), Some(b"a"), 0, 1_000))?,
        Vec::new()
    );
    let all_at_250 = keys_and_times(collect(store.fetch_all(200, 300))?);
    assert_eq!(all_at_250, vec![(b'a', 250), (b'b', 250), (b'c', 250)]);
    assert_eq!(collect(store.all())?.len(), 9);
    let mut everything = collect(store.all())?;
    everything.reverse();
    assert_eq!(collect(store.backward_all())?, everything);
    assert_eq!(
        keys_and_times(collect(store.backward_fetch_all(0, 60))?),
        vec![(b'c', 50), (b'b', 50), (b'a', 50)]
    );
    Ok(())
}

pub(crate) fn retention_drops_expired_windows<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, Retention::with_segment_interval(100, 50)?, false)?;
    for t in [0, 60, 120, 180] {
        store.put(b"k", Some(b"v"), t)?;
    }
    // Stream time 180: live windows start after 80.
    let starts = |store: &SegmentedWindowStore<F::Backend>| -> crate::Result<Vec<i64>> {
        Ok(collect(store.all())?
            .into_iter()
            .map(|(w, _)| w.window_start)
            .collect())
    };
    assert_eq!(starts(&store)?, vec![120, 180]);
    assert_eq!(store.fetch_window(b"k", 60)?, None);
    assert_eq!(collect(store.fetch(b"k", 0, 100))?, Vec::new());
    // Writes to expired windows are dropped; live ones are kept.
    assert_eq!(store.put(b"k", Some(b"late"), 80)?, None);
    assert_eq!(store.put(b"k", Some(b"late"), 81)?, Some(0));
    assert_eq!(starts(&store)?, vec![81, 120, 180]);
    store.put(b"k", Some(b"v"), 1_000)?;
    assert_eq!(starts(&store)?, vec![1_000]);
    store.flush()?;
    // Expired segments are physically gone, not only hidden.
    assert_eq!(store.stored_entries()?, 1);
    Ok(())
}

pub(crate) fn duplicates_are_retained_in_put_order<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, long_retention()?, true)?;
    assert_eq!(store.put(b"k", Some(b"first"), 10)?, Some(0));
    assert_eq!(store.put(b"k", Some(b"second"), 10)?, Some(1));
    assert_eq!(store.put(b"k", None, 10)?, None);
    assert_eq!(store.put(b"k", Some(b"third"), 10)?, Some(2));
    assert_eq!(store.put(b"k\x00", Some(b"other"), 10)?, Some(0));
    let values: Vec<Vec<u8>> = collect(store.fetch(b"k", 10, 10))?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        values,
        vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
    );
    assert_eq!(store.fetch_window(b"k", 10)?, Some(b"first".to_vec()));
    Ok(())
}

#[derive(Debug, Clone)]
struct WindowPut {
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    window_start: i64,
}

fn window_put() -> impl Strategy<Value = WindowPut> {
    (
        tricky_key(),
        proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..3)),
        0..600i64,
    )
        .prop_map(|(key, value, window_start)| WindowPut {
            key,
            value,
            window_start,
        })
}

/// The window store's visible contents, modelled directly: entries by
/// (segment, key, window start, seqnum), live if within retention.
#[derive(Default)]
struct Model {
    entries: BTreeMap<(i64, Vec<u8>, i64, u32), Vec<u8>>,
    stream_time: Option<i64>,
}

const RETENTION: i64 = 150;
const SEGMENT: i64 = 50;

impl Model {
    fn put(&mut self, put: &WindowPut, retain_duplicates: bool) {
        if retain_duplicates && put.value.is_none() {
            return;
        }
        let stream_time = self
            .stream_time
            .map_or(put.window_start, |t| t.max(put.window_start));
        self.stream_time = Some(stream_time);
        if put.window_start <= stream_time - RETENTION {
            return;
        }
        let segment = put.window_start.div_euclid(SEGMENT);
        let seqnum = if retain_duplicates {
            self.entries
                .keys()
                .filter(|(_, k, t, _)| *k == put.key && *t == put.window_start)
                .count() as u32
        } else {
            0
        };
        let id = (segment, put.key.clone(), put.window_start, seqnum);
        match &put.value {
            Some(value) => self.entries.insert(id, value.clone()),
            None => self.entries.remove(&id),
        };
    }

    fn visible(&self) -> Vec<(WindowedKey, Vec<u8>)> {
        let live_from = self.stream_time.map_or(i64::MIN, |t| t - RETENTION + 1);
        self.entries
            .iter()
            .filter(|((_, _, t, _), _)| *t >= live_from)
            .map(|((_, key, t, _), value)| entry(key, *t, value))
            .collect()
    }
}

/// Random puts (with expiry, with and without duplicates) through the
/// changelogging layer; restoring the changelog in batches into an empty
/// store reproduces the store, and both match the model.
pub(crate) fn restore_reproduces_the_store<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let retention = Retention::with_segment_interval(RETENTION, SEGMENT)?;
    let cases = (
        proptest::collection::vec(window_put(), 0..40),
        any::<bool>(),
        1..8usize,
    );
    check_property(32, cases, |(puts, retain_duplicates, batch)| {
        let (writer, sink, _) = recording_writer("windows");
        let inner = store(&factory, retention, retain_duplicates)?;
        let mut original = LoggingWindowStore::new(Box::new(inner), writer);
        let mut model = Model::default();
        for put in &puts {
            original.put(&put.key, put.value.as_deref(), put.window_start)?;
            model.put(put, retain_duplicates);
        }
        let contents = collect(original.all())?;
        assert_eq!(contents, model.visible());

        let mut restored = store(&factory, retention, retain_duplicates)?;
        for chunk in sink.records_of("windows")?.chunks(batch) {
            restored.restore_batch(chunk)?;
        }
        assert_eq!(collect(restored.all())?, contents);
        Ok(())
    })
}
