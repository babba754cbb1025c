//! The window store on a [`BytesBackend`], segmented by window start.

use super::schema::{self, WindowKeyParts};
use super::{WindowIter, WindowStore, WindowedKey};
use crate::backend::{BytesBackend, InMemoryBackend, RocksDbBackend};
use crate::changelog::ChangelogRecord;
use crate::error::{Result, StoreError};
use crate::key_value::FlushListener;
use crate::range::{ByteRange, ScanOrder};
use crate::segments::{segment_prefix, Retention, SegmentedBytes, TimedWrite};
use crate::state_store::StateStore;

/// A window store kept in a [`BytesBackend`], in time segments.
pub struct SegmentedWindowStore<B> {
    segmented: SegmentedBytes<B>,
    retain_duplicates: bool,
}

/// A window store in memory.
pub type InMemoryWindowStore = SegmentedWindowStore<InMemoryBackend>;

/// A window store in RocksDB.
pub type RocksDbWindowStore = SegmentedWindowStore<RocksDbBackend>;

impl<B: BytesBackend> SegmentedWindowStore<B> {
    /// Opens the window store kept in `backend` (empty or written by a
    /// store with the same segment interval).
    pub fn open(backend: B, retention: Retention, retain_duplicates: bool) -> Result<Self> {
        Ok(Self {
            segmented: SegmentedBytes::open(backend, retention)?,
            retain_duplicates,
        })
    }

    /// Counts the entries physically present, expired or not.
    #[cfg(test)]
    pub(crate) fn stored_entries(&self) -> Result<usize> {
        self.segmented.stored_entries()
    }

    fn segment_prefix(&self, window_start: i64) -> Vec<u8> {
        segment_prefix(self.segmented.segment_id(window_start))
    }

    /// The sequence number for the next duplicate of `key` at
    /// `window_start`: one past the highest stored one. Deriving it from the
    /// data (instead of a counter) keeps it correct across restarts.
    fn next_seqnum(&self, segment_prefix: &[u8], key: &[u8], window_start: i64) -> Result<u32> {
        let duplicates =
            ByteRange::prefix(&schema::window_prefix(segment_prefix, key, window_start));
        let last = self
            .segmented
            .backend()
            .scan(&duplicates, ScanOrder::Backward)
            .next()
            .transpose()?;
        let Some((last_key, _)) = last else {
            return Ok(0);
        };
        let parts = self.decode(&last_key)?;
        parts
            .seqnum
            .checked_add(1)
            .ok_or_else(|| StoreError::DuplicatesExhausted {
                store: self.name().to_owned(),
            })
    }

    fn decode(&self, storage_key: &[u8]) -> Result<WindowKeyParts> {
        schema::decode_storage_key(storage_key).ok_or_else(|| StoreError::Corrupt {
            store: self.name().to_owned(),
            reason: "malformed window key".to_owned(),
        })
    }
}

impl<B: BytesBackend> StateStore for SegmentedWindowStore<B> {
    fn name(&self) -> &str {
        self.segmented.name()
    }

    fn persistent(&self) -> bool {
        self.segmented.backend().persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.segmented.flush()
    }

    /// No cache here: a commit leaves the data where it is.
    fn flush_cache(&mut self) -> Result<()> {
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.segmented.close()
    }
}

impl<B: BytesBackend> WindowStore for SegmentedWindowStore<B> {
    fn retain_duplicates(&self) -> bool {
        self.retain_duplicates
    }

    fn put(&mut self, key: &[u8], value: Option<&[u8]>, window_start: i64) -> Result<Option<u32>> {
        if self.retain_duplicates && value.is_none() {
            return Ok(None);
        }
        if !self.segmented.observe(window_start) {
            tracing::debug!(
                store = self.name(),
                window_start,
                "dropping write to expired window"
            );
            return Ok(None);
        }
        let prefix = self.segment_prefix(window_start);
        let seqnum = if self.retain_duplicates {
            self.next_seqnum(&prefix, key, window_start)?
        } else {
            0
        };
        let storage_key = schema::storage_key(&prefix, key, window_start, seqnum);
        self.segmented.write(window_start, &storage_key, value)?;
        Ok(Some(seqnum))
    }

    fn fetch_window(&self, key: &[u8], window_start: i64) -> Result<Option<Vec<u8>>> {
        if !self.segmented.is_live(window_start) {
            return Ok(None);
        }
        let prefix = self.segment_prefix(window_start);
        self.segmented
            .backend()
            .get(&schema::storage_key(&prefix, key, window_start, 0))
    }

    fn scan_windows(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        order: ScanOrder,
    ) -> WindowIter<'_> {
        if matches!((key_from, key_to), (Some(from), Some(to)) if from > to) {
            return Box::new(std::iter::empty());
        }
        let time_from = time_from.max(self.segmented.min_live_timestamp());
        let (key_from, key_to) = (key_from.map(<[u8]>::to_vec), key_to.map(<[u8]>::to_vec));
        let entries = self
            .segmented
            .scan(time_from, time_to, order, move |prefix| {
                schema::scan_range(
                    prefix,
                    key_from.as_deref(),
                    key_to.as_deref(),
                    time_from,
                    time_to,
                )
            });
        Box::new(entries.filter_map(move |entry| {
            let decoded = entry.and_then(|(key, value)| Ok((self.decode(&key)?, value)));
            match decoded {
                Ok((parts, value)) => {
                    (time_from..=time_to)
                        .contains(&parts.window_start)
                        .then(|| {
                            let windowed = WindowedKey {
                                key: parts.key,
                                window_start: parts.window_start,
                            };
                            Ok((windowed, value))
                        })
                }
                Err(error) => Some(Err(error)),
            }
        }))
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.segmented.approximate_len()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        let mut writes = Vec::with_capacity(records.len());
        for record in records {
            let (key, window_start, seqnum) = schema::decode_changelog_key(&record.key)
                .ok_or_else(|| StoreError::InvalidChangelogRecord {
                    store: self.name().to_owned(),
                    reason: format!("window changelog key of {} bytes", record.key.len()),
                })?;
            // The same filters as `put`, applied in changelog order, so the
            // restored store equals the one that wrote the changelog.
            if self.retain_duplicates && record.value.is_none() {
                continue;
            }
            if !self.segmented.observe(window_start) {
                continue;
            }
            let prefix = self.segment_prefix(window_start);
            writes.push(TimedWrite {
                timestamp: window_start,
                key: schema::storage_key(&prefix, key, window_start, seqnum),
                value: record.value.as_deref(),
            });
        }
        self.segmented.write_batch(&writes)
    }

    fn set_flush_listener(&mut self, _listener: FlushListener) -> Result<()> {
        Err(StoreError::NotCached(self.name().to_owned()))
    }
}
