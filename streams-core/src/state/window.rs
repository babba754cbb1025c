//! Typed window stores.

use state_stores::{
    decode_window_changelog_key, ChangelogRecord, WindowStore as BytesWindowStore, WindowedKey,
};

use std::any::Any;

use super::cache_flushes::CacheFlushes;
use super::handle::TypedStore;
use super::timestamped::plain_values;
use super::{StoreHandle, ValueAndTimestamp};
use crate::error::StreamsError;
use crate::serde::SharedSerde;
use crate::window::{Window, Windowed};

/// A window store as processors use it: values `V` per key `K` and window
/// start, encoded with the store's serdes into a byte-level window store.
///
/// Method names follow the byte-level [`state_stores::WindowStore`]:
/// [`fetch_window`](Self::fetch_window) reads one window,
/// [`fetch`](Self::fetch) one key's windows over a time range,
/// [`fetch_range`](Self::fetch_range) a key range over a time range. Time
/// bounds are window starts, both inclusive. Entries older than the
/// retention period (relative to the largest window start written) are
/// invisible.
///
/// Results are collected into vectors. One key's windows come in time
/// order; key-range results are ordered by serialized key within each time
/// segment and by segment across segments, as in Kafka Streams. Windows of
/// range results end at `start + window size`.
pub struct WindowStore<K, V> {
    inner: TypedStore<dyn BytesWindowStore, K, V>,
    window_size_ms: i64,
    retain_duplicates: bool,
}

impl<K, V> Clone for WindowStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            window_size_ms: self.window_size_ms,
            retain_duplicates: self.retain_duplicates,
        }
    }
}

impl<K: 'static, V: 'static> WindowStore<K, V> {
    /// Wraps a byte-level window store whose windows are `window_size_ms`
    /// long.
    pub fn new(
        store: Box<dyn BytesWindowStore>,
        topic: &str,
        window_size_ms: i64,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> Self {
        // A store's mode is fixed when it is built, so it is read once here.
        let retain_duplicates = store.retain_duplicates();
        Self {
            inner: TypedStore::new(store, topic, key, value),
            window_size_ms,
            retain_duplicates,
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// The size of the store's windows, in milliseconds.
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }

    /// Whether every put is kept as a separate entry (join buffers).
    pub fn retain_duplicates(&self) -> bool {
        self.retain_duplicates
    }

    fn windowed(&self, key: K, window_start: i64) -> Windowed<K> {
        Windowed::new(key, Window::of_size(window_start, self.window_size_ms))
    }

    fn decode_timed(&self, (key, value): (WindowedKey, Vec<u8>)) -> Result<(i64, V), StreamsError> {
        Ok((key.window_start, self.inner.decode_value(&value)?))
    }

    fn decode_windowed(
        &self,
        (key, value): (WindowedKey, Vec<u8>),
    ) -> Result<(Windowed<K>, V), StreamsError> {
        let typed = self.inner.decode_key(&key.key)?;
        Ok((
            self.windowed(typed, key.window_start),
            self.inner.decode_value(&value)?,
        ))
    }

    /// Collects the windows the store's cache writes through, keyed by
    /// key and window, so that a processor can forward a window's update
    /// when it leaves the cache; `None` if the store has no cache. See
    /// [`CacheFlushes`]. Entries carry the values they replace only if
    /// `old_values` (reading them costs a lookup per entry).
    pub fn cache_flushes(
        &self,
        old_values: bool,
    ) -> Result<Option<CacheFlushes<Windowed<K>, V>>, StreamsError> {
        let window_size_ms = self.window_size_ms;
        self.inner.cache_flushes(
            old_values,
            |store, listener| store.set_flush_listener(listener),
            move |inner, bytes| {
                let (key, window_start, _) = decode_window_changelog_key(&bytes)
                    .ok_or_else(|| inner.corrupt("flushed window key too short"))?;
                let window = Window::of_size(window_start, window_size_ms);
                Ok(Windowed::new(inner.decode_key(key)?, window))
            },
        )
    }

    /// Stores `value` for `key` in the window starting at `window_start`; a
    /// value that serializes to null deletes the entry, as in Kafka.
    ///
    /// A write to a window that has already expired is dropped, as in
    /// Kafka Streams: `Ok(false)` says so, for the caller to count the
    /// record as dropped (Kafka's stores count it in the task's dropped
    /// records).
    pub fn put(&self, key: &K, value: &V, window_start: i64) -> Result<bool, StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner.with_value(value, |value| {
                let stored = self
                    .inner
                    .write(|store| store.put(key, value, window_start))?;
                // A null value is a delete, which is never "dropped".
                Ok(stored.is_some() || value.is_none())
            })
        })
    }

    /// Deletes the entry of `key` in the window starting at `window_start`
    /// (Kafka's `put(key, null, start)`); ignored when duplicates are
    /// retained.
    pub fn delete(&self, key: &K, window_start: i64) -> Result<(), StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner
                .write(|store| store.put(key, None, window_start))
                .map(drop)
        })
    }

    /// The value of `key` in the window starting at `window_start` (the
    /// first one written, if duplicates are retained).
    pub fn fetch_window(&self, key: &K, window_start: i64) -> Result<Option<V>, StreamsError> {
        let value = self.inner.with_key(key, |key| {
            self.inner
                .read(|store| store.fetch_window(key, window_start))
        })?;
        self.inner.decode_optional_value(value)
    }

    /// The windows of `key` starting in `[time_from, time_to]`, as
    /// `(window start, value)` in time order.
    pub fn fetch(
        &self,
        key: &K,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(i64, V)>, StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner.scan(
                |store| store.fetch(key, time_from, time_to),
                |entry| self.decode_timed(entry),
            )
        })
    }

    /// [`fetch`](Self::fetch) in reverse time order.
    pub fn backward_fetch(
        &self,
        key: &K,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(i64, V)>, StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner.scan(
                |store| store.backward_fetch(key, time_from, time_to),
                |entry| self.decode_timed(entry),
            )
        })
    }

    /// The windows of keys in `[key_from, key_to]` (by serialized key;
    /// `None` leaves an end open) starting in `[time_from, time_to]`.
    pub fn fetch_range(
        &self,
        key_from: Option<&K>,
        key_to: Option<&K>,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(key_from, key_to)?;
        self.inner.scan(
            |store| store.fetch_range(from.as_deref(), to.as_deref(), time_from, time_to),
            |entry| self.decode_windowed(entry),
        )
    }

    /// [`fetch_range`](Self::fetch_range) in reverse order.
    pub fn backward_fetch_range(
        &self,
        key_from: Option<&K>,
        key_to: Option<&K>,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(key_from, key_to)?;
        self.inner.scan(
            |store| store.backward_fetch_range(from.as_deref(), to.as_deref(), time_from, time_to),
            |entry| self.decode_windowed(entry),
        )
    }

    /// The windows of every key starting in `[time_from, time_to]`.
    pub fn fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        self.inner.scan(
            |store| store.fetch_all(time_from, time_to),
            |entry| self.decode_windowed(entry),
        )
    }

    /// [`fetch_all`](Self::fetch_all) in reverse order.
    pub fn backward_fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        self.inner.scan(
            |store| store.backward_fetch_all(time_from, time_to),
            |entry| self.decode_windowed(entry),
        )
    }

    /// Every live entry.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        self.inner
            .scan(|store| store.all(), |entry| self.decode_windowed(entry))
    }

    /// Every live entry, in reverse order.
    pub fn backward_all(&self) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        self.inner.scan(
            |store| store.backward_all(),
            |entry| self.decode_windowed(entry),
        )
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64, StreamsError> {
        self.inner.read(|store| store.approximate_num_entries())
    }
}

impl<K: 'static, V: 'static> StoreHandle for WindowStore<K, V> {
    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn flush(&self) -> Result<(), StreamsError> {
        self.inner.flush()
    }

    fn flush_cache(&self) -> Result<(), StreamsError> {
        self.inner.flush_cache()
    }

    fn close(&self) -> Result<(), StreamsError> {
        self.inner.close()
    }

    fn restore(&self, records: &[ChangelogRecord]) -> Result<(), StreamsError> {
        self.inner.check_task_owned()?;
        self.inner.write(|store| store.restore_batch(records))
    }

    fn for_processor(&self) -> Self {
        Self {
            inner: self.inner.for_processor(),
            ..self.clone()
        }
    }

    /// The plain view of a timestamped window store.
    fn view_of(store: &dyn Any) -> Option<Self> {
        let timestamped = store.downcast_ref::<WindowStore<K, ValueAndTimestamp<V>>>()?;
        Some(Self {
            inner: timestamped.inner.read_only_view(plain_values),
            window_size_ms: timestamped.window_size_ms,
            retain_duplicates: timestamped.retain_duplicates,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::{StoreBuilder, StoreContext, Stores};

    type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    /// Windows of 10 ms kept for 100 ms, in one segment (60 s, the minimum).
    fn store(retain_duplicates: bool) -> Result<WindowStore<String, i64>> {
        let builder = Stores::window_store_builder::<String, i64>(
            "windows",
            Duration::from_millis(100),
            Duration::from_millis(10),
            retain_duplicates,
        )
        .in_memory();
        Ok(builder.build(&StoreContext::for_tests(None))?)
    }

    fn windowed(key: &str, start: i64, value: i64) -> (Windowed<String>, i64) {
        (
            Windowed::new(key.to_owned(), Window::new(start, start + 10)),
            value,
        )
    }

    fn fill(store: &WindowStore<String, i64>) -> Result {
        for (key, start, value) in [("a", 20, 3), ("b", 10, 5), ("a", 0, 1), ("a", 10, 2)] {
            store.put(&key.to_owned(), &value, start)?;
        }
        Ok(())
    }

    #[test]
    fn one_key_fetches_in_time_order_both_ways() -> Result {
        let store = store(false)?;
        fill(&store)?;
        let a = "a".to_owned();
        assert_eq!(store.fetch(&a, 0, 15)?, vec![(0, 1), (10, 2)]);
        assert_eq!(store.fetch(&a, 5, 20)?, vec![(10, 2), (20, 3)]);
        assert_eq!(
            store.backward_fetch(&a, 0, 20)?,
            vec![(20, 3), (10, 2), (0, 1)]
        );
        assert_eq!(store.fetch_window(&a, 10)?, Some(2));
        assert_eq!(store.fetch_window(&a, 5)?, None);
        assert_eq!(store.fetch(&"c".to_owned(), 0, 100)?, vec![]);
        Ok(())
    }

    #[test]
    fn ranges_return_windowed_keys_ending_after_the_window_size() -> Result {
        let store = store(false)?;
        fill(&store)?;
        let (a, b) = ("a".to_owned(), "b".to_owned());
        assert_eq!(
            store.fetch_range(Some(&a), Some(&b), 10, 10)?,
            vec![windowed("a", 10, 2), windowed("b", 10, 5)]
        );
        assert_eq!(
            store.backward_fetch_range(Some(&b), None, 0, 100)?,
            vec![windowed("b", 10, 5)]
        );
        assert_eq!(
            store.fetch_all(0, 100)?,
            vec![
                windowed("a", 0, 1),
                windowed("a", 10, 2),
                windowed("a", 20, 3),
                windowed("b", 10, 5)
            ]
        );
        assert_eq!(
            store.backward_fetch_all(10, 20)?,
            vec![
                windowed("b", 10, 5),
                windowed("a", 20, 3),
                windowed("a", 10, 2)
            ]
        );
        let mut all = store.all()?;
        all.reverse();
        assert_eq!(store.backward_all()?, all);
        assert_eq!(store.approximate_num_entries()?, 4);
        assert_eq!(store.window_size_ms(), 10);
        assert!(!store.retain_duplicates());
        Ok(())
    }

    #[test]
    fn puts_overwrite_and_deletes_remove_one_window() -> Result {
        let store = store(false)?;
        fill(&store)?;
        let a = "a".to_owned();
        store.put(&a, &9, 0)?;
        store.delete(&a, 10)?;
        assert_eq!(store.fetch(&a, 0, 20)?, vec![(0, 9), (20, 3)]);
        Ok(())
    }

    #[test]
    fn windows_past_retention_vanish_and_late_writes_are_dropped() -> Result {
        let store = store(false)?;
        fill(&store)?;
        let (a, c) = ("a".to_owned(), "c".to_owned());
        // Stream time 115: windows starting at or before 15 have expired.
        store.put(&c, &7, 115)?;
        store.put(&a, &4, 5)?;
        assert_eq!(
            store.all()?,
            vec![windowed("a", 20, 3), windowed("c", 115, 7)]
        );
        assert_eq!(store.fetch_window(&a, 0)?, None);
        Ok(())
    }

    #[test]
    fn retained_duplicates_are_kept_in_write_order() -> Result {
        let store = store(true)?;
        let a = "a".to_owned();
        store.put(&a, &1, 0)?;
        store.put(&a, &2, 0)?;
        store.delete(&a, 0)?;
        assert!(store.retain_duplicates());
        assert_eq!(store.fetch(&a, 0, 0)?, vec![(0, 1), (0, 2)]);
        assert_eq!(store.fetch_window(&a, 0)?, Some(1));
        Ok(())
    }
}
