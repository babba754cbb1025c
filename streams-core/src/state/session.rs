//! Typed session stores.

use state_stores::{
    decode_session_changelog_key, ChangelogRecord, SessionKey, SessionStore as BytesSessionStore,
};

use super::cache_flushes::CacheFlushes;
use super::handle::TypedStore;
use super::StoreHandle;
use crate::error::StreamsError;
use crate::serde::SharedSerde;
use crate::window::{Window, Windowed};

/// A session store as processors use it: aggregates `V` per key `K` and
/// session, encoded with the store's serdes into a byte-level session
/// store.
///
/// A session is a [`Windowed`] key whose window runs from the session's
/// first to its last record (both inclusive). Sessions older than the
/// retention period (by session end, relative to the largest end written)
/// are invisible.
///
/// Results are collected into vectors; one key's sessions come ordered by
/// end, then start, as in Kafka Streams.
pub struct SessionStore<K, V> {
    inner: TypedStore<dyn BytesSessionStore, K, V>,
}

impl<K, V> Clone for SessionStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: 'static, V: 'static> SessionStore<K, V> {
    /// Wraps a byte-level session store.
    pub fn new(
        store: Box<dyn BytesSessionStore>,
        topic: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> Self {
        Self {
            inner: TypedStore::new(store, topic, key, value),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    fn session_key(&self, session: &Windowed<K>) -> Result<SessionKey, StreamsError> {
        Ok(SessionKey {
            key: self.inner.key_bytes(&session.key)?,
            start: session.window.start,
            end: session.window.end,
        })
    }

    fn decode_session(
        &self,
        (session, value): (SessionKey, Vec<u8>),
    ) -> Result<(Windowed<K>, V), StreamsError> {
        let key = self.inner.decode_key(&session.key)?;
        Ok((
            Windowed::new(key, Window::new(session.start, session.end)),
            self.inner.decode_value(&value)?,
        ))
    }

    /// Collects the sessions the store's cache writes through (a merged-away
    /// session as a deletion), so that a processor can forward a session's
    /// update when it leaves the cache; `None` if the store has no cache.
    /// See [`CacheFlushes`]. Entries carry the values they replace only if
    /// `old_values` (reading them costs a lookup per entry).
    pub fn cache_flushes(
        &self,
        old_values: bool,
    ) -> Result<Option<CacheFlushes<Windowed<K>, V>>, StreamsError> {
        self.inner.cache_flushes(
            old_values,
            |store, listener| store.set_flush_listener(listener),
            |inner, bytes| {
                let session = decode_session_changelog_key(&bytes)
                    .ok_or_else(|| inner.corrupt("flushed session key too short"))?;
                let window = Window::new(session.start, session.end);
                Ok(Windowed::new(inner.decode_key(&session.key)?, window))
            },
        )
    }

    /// Stores the aggregate of `session`; one that serializes to null
    /// removes the session, as in Kafka.
    pub fn put(&self, session: &Windowed<K>, aggregate: &V) -> Result<(), StreamsError> {
        let (session, aggregate) = (
            self.session_key(session)?,
            self.inner.value_bytes(aggregate)?,
        );
        self.inner.write(|store| match aggregate {
            Some(aggregate) => store.put(&session, &aggregate),
            None => store.remove(&session),
        })
    }

    /// Removes `session` (a session-window aggregator removes the sessions
    /// it merged into a new one).
    pub fn remove(&self, session: &Windowed<K>) -> Result<(), StreamsError> {
        let session = self.session_key(session)?;
        self.inner.write(|store| store.remove(&session))
    }

    /// The aggregate of the session of `key` with exactly these bounds.
    pub fn fetch_session(&self, key: &K, start: i64, end: i64) -> Result<Option<V>, StreamsError> {
        let key = self.inner.key_bytes(key)?;
        let value = self
            .inner
            .read(|store| store.fetch_session(&key, start, end))?;
        self.inner.decode_optional_value(value)
    }

    /// The sessions of `key` with `end >= earliest_session_end` and
    /// `start <= latest_session_start`: those a record at `t` merges with
    /// when called with `(t - gap, t + gap)`.
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let key = self.inner.key_bytes(key)?;
        self.inner.scan(
            |store| store.find_sessions(&key, earliest_session_end, latest_session_start),
            |entry| self.decode_session(entry),
        )
    }

    /// [`find_sessions`](Self::find_sessions) in reverse order.
    pub fn backward_find_sessions(
        &self,
        key: &K,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let key = self.inner.key_bytes(key)?;
        self.inner.scan(
            |store| store.backward_find_sessions(&key, earliest_session_end, latest_session_start),
            |entry| self.decode_session(entry),
        )
    }

    /// [`find_sessions`](Self::find_sessions) over the keys in
    /// `[key_from, key_to]` (by serialized key; `None` leaves an end open).
    pub fn find_sessions_in_range(
        &self,
        key_from: Option<&K>,
        key_to: Option<&K>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(key_from, key_to)?;
        self.inner.scan(
            |store| {
                store.find_sessions_in_range(
                    from.as_deref(),
                    to.as_deref(),
                    earliest_session_end,
                    latest_session_start,
                )
            },
            |entry| self.decode_session(entry),
        )
    }

    /// The sessions of every key that end in `[earliest_end, latest_end]`,
    /// including those past the retention period that the store still
    /// holds (Kafka's `findSessions(earliestSessionEndTime,
    /// latestSessionEndTime)`): how an aggregation that emits final
    /// results finds the sessions that closed.
    pub fn sessions_ending_within(
        &self,
        earliest_end: i64,
        latest_end: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        self.inner.scan(
            |store| store.sessions_ending_within(earliest_end, latest_end),
            |entry| self.decode_session(entry),
        )
    }

    /// Every live session of `key`.
    pub fn fetch(&self, key: &K) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let key = self.inner.key_bytes(key)?;
        self.inner.scan(
            |store| store.fetch(&key),
            |entry| self.decode_session(entry),
        )
    }

    /// Every live session of `key`, in reverse order.
    pub fn backward_fetch(&self, key: &K) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let key = self.inner.key_bytes(key)?;
        self.inner.scan(
            |store| store.backward_fetch(&key),
            |entry| self.decode_session(entry),
        )
    }

    /// Every live session of the keys in `[key_from, key_to]`.
    pub fn fetch_range(
        &self,
        key_from: Option<&K>,
        key_to: Option<&K>,
    ) -> Result<Vec<(Windowed<K>, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(key_from, key_to)?;
        self.inner.scan(
            |store| store.fetch_range(from.as_deref(), to.as_deref()),
            |entry| self.decode_session(entry),
        )
    }

    /// An estimate of the number of sessions.
    pub fn approximate_num_entries(&self) -> Result<u64, StreamsError> {
        self.inner.read(|store| store.approximate_num_entries())
    }
}

impl<K: 'static, V: 'static> StoreHandle for SessionStore<K, V> {
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
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::{StoreBuilder, StoreContext, Stores};

    type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn session(key: &str, start: i64, end: i64) -> Windowed<String> {
        Windowed::new(key.to_owned(), Window::new(start, end))
    }

    /// Sessions kept for 100 ms after they end: a@[0,10]=2, a@[30,40]=1,
    /// b@[5,5]=1.
    fn store() -> Result<SessionStore<String, i64>> {
        let store =
            Stores::session_store_builder::<String, i64>("sessions", Duration::from_millis(100))
                .in_memory()
                .build(&StoreContext::for_tests(None))?;
        store.put(&session("a", 30, 40), &1)?;
        store.put(&session("b", 5, 5), &1)?;
        store.put(&session("a", 0, 10), &2)?;
        Ok(store)
    }

    #[test]
    fn find_sessions_returns_the_sessions_a_record_merges_with() -> Result {
        let store = store()?;
        let a = "a".to_owned();
        // A record at 20 with a 10 ms gap touches both sessions of `a`.
        assert_eq!(
            store.find_sessions(&a, 10, 30)?,
            vec![(session("a", 0, 10), 2), (session("a", 30, 40), 1)]
        );
        assert_eq!(
            store.backward_find_sessions(&a, 10, 30)?,
            vec![(session("a", 30, 40), 1), (session("a", 0, 10), 2)]
        );
        // With a 4 ms gap it touches neither.
        assert_eq!(store.find_sessions(&a, 16, 24)?, vec![]);
        assert_eq!(
            store.find_sessions_in_range(None, None, 5, 5)?,
            vec![(session("a", 0, 10), 2), (session("b", 5, 5), 1)]
        );
        Ok(())
    }

    #[test]
    fn fetches_sessions_by_key_and_bounds() -> Result {
        let store = store()?;
        let (a, b) = ("a".to_owned(), "b".to_owned());
        assert_eq!(store.fetch_session(&a, 0, 10)?, Some(2));
        assert_eq!(store.fetch_session(&a, 0, 11)?, None);
        assert_eq!(store.fetch(&b)?, vec![(session("b", 5, 5), 1)]);
        assert_eq!(
            store.backward_fetch(&a)?,
            vec![(session("a", 30, 40), 1), (session("a", 0, 10), 2)]
        );
        assert_eq!(
            store.fetch_range(Some(&b), None)?,
            vec![(session("b", 5, 5), 1)]
        );
        assert_eq!(store.approximate_num_entries()?, 3);
        Ok(())
    }

    #[test]
    fn merging_replaces_sessions() -> Result {
        let store = store()?;
        let a = "a".to_owned();
        for (merged, _) in store.find_sessions(&a, 10, 30)? {
            store.remove(&merged)?;
        }
        store.put(&session("a", 0, 40), &4)?;
        assert_eq!(store.fetch(&a)?, vec![(session("a", 0, 40), 4)]);
        Ok(())
    }

    #[test]
    fn sessions_past_retention_vanish() -> Result {
        let store = store()?;
        // Stream time 150: sessions ending at or before 50 have expired.
        store.put(&session("c", 140, 150), &1)?;
        assert_eq!(
            store.find_sessions_in_range(None, None, i64::MIN, i64::MAX)?,
            vec![(session("c", 140, 150), 1)]
        );
        Ok(())
    }
}
