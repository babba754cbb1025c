//! Time segments: the retention mechanism shared by window and session
//! stores.
//!
//! Every entry belongs to the segment `timestamp.div_euclid(interval)` of
//! its timestamp (window start, or session end), and its storage key starts
//! with that segment:
//!
//! ```text
//! data entry:  0x01 ++ segment (8 bytes, order-preserving) ++ schema-specific key
//! metadata:    0x00  ->  stream time (8 bytes BE) ++ segment interval (8 bytes BE)
//! ```
//!
//! so a segment is one contiguous key range and dropping every expired
//! segment is a single range delete (on RocksDB one range tombstone, whose
//! data compaction discards), independent of how many entries expire.
//!
//! Stream time is the largest timestamp written so far. An entry is live
//! while `timestamp > stream_time - retention` (`>=` for an
//! [inclusive](Retention::inclusive) retention); writes of entries that are
//! already expired are dropped, reads skip expired entries exactly (even
//! before their segment is dropped), and a segment is dropped once all of
//! its timestamps are below `stream_time - retention` (Kafka Streams'
//! rule). Stream time is persisted in the metadata entry on flush, so a
//! reopened store expires exactly as before.

use std::collections::BTreeSet;

use crate::backend::BytesBackend;
use crate::error::{Result, StoreError};
use crate::key_encoding::{push_i64, take_i64};
use crate::key_value::KeyValueIter;
use crate::range::{ByteRange, ScanOrder};

const META_KEY: &[u8] = &[0x00];
const DATA_TAG: u8 = 0x01;

/// Kafka Streams' lower bound for the default segment interval.
const MIN_DEFAULT_SEGMENT_INTERVAL_MS: i64 = 60_000;

/// How long a window or session store keeps entries, and how it groups them
/// into segments for expiry.
///
/// An entry is live while stream time is less than `retention_ms` past its
/// timestamp, as in Kafka Streams' key-ordered stores. An
/// [`inclusive`](Self::inclusive) retention also keeps it at exactly
/// `retention_ms`, as Kafka's time-ordered window stores do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    retention_ms: i64,
    segment_interval_ms: i64,
    inclusive: bool,
}

impl Retention {
    /// Keeps entries for `retention_ms` of stream time, in segments of
    /// `max(retention_ms / 2, 60_000)` ms (Kafka Streams' default).
    ///
    /// Fails if `retention_ms` is negative.
    pub fn new(retention_ms: i64) -> Result<Self> {
        Self::with_segment_interval(
            retention_ms,
            (retention_ms / 2).max(MIN_DEFAULT_SEGMENT_INTERVAL_MS),
        )
    }

    /// Keeps entries for `retention_ms`, in segments of
    /// `segment_interval_ms`. Fails unless `retention_ms >= 0` and
    /// `segment_interval_ms >= 1`.
    pub fn with_segment_interval(retention_ms: i64, segment_interval_ms: i64) -> Result<Self> {
        if retention_ms < 0 || segment_interval_ms < 1 {
            return Err(StoreError::InvalidConfig {
                store: "<retention>".to_owned(),
                reason: format!(
                    "retention ({retention_ms} ms) must be >= 0 and segment interval \
                     ({segment_interval_ms} ms) >= 1"
                ),
            });
        }
        Ok(Self {
            retention_ms,
            segment_interval_ms,
            inclusive: false,
        })
    }

    /// The same retention, keeping entries exactly `retention_ms` behind
    /// stream time too: the rule of Kafka's time-ordered window stores,
    /// which the DSL's windowed aggregations that emit final results use
    /// (a join reading their table sees those windows, as in Kafka).
    pub fn inclusive(self) -> Self {
        Self {
            inclusive: true,
            ..self
        }
    }

    /// The retention period in milliseconds.
    pub fn retention_ms(&self) -> i64 {
        self.retention_ms
    }

    /// The segment interval in milliseconds.
    pub fn segment_interval_ms(&self) -> i64 {
        self.segment_interval_ms
    }
}

/// The prefix of every data key in `segment`.
pub(crate) fn segment_prefix(segment: i64) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(9);
    prefix.push(DATA_TAG);
    push_i64(&mut prefix, segment);
    prefix
}

/// Splits a data key into its segment and the schema-specific remainder.
pub(crate) fn split_segment(key: &[u8]) -> Option<(i64, &[u8])> {
    match key.split_first() {
        Some((&DATA_TAG, rest)) => take_i64(rest),
        _ => None,
    }
}

/// The bytes of a data key after its segment prefix.
pub(crate) fn strip_segment(key: &[u8]) -> Option<&[u8]> {
    split_segment(key).map(|(_, rest)| rest)
}

/// One write of a batch: the entry's timestamp, its storage key and its
/// value (`None` deletes).
pub(crate) struct TimedWrite<'a> {
    pub(crate) timestamp: i64,
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<&'a [u8]>,
}

/// A backend holding time-segmented entries: tracks stream time and the
/// segments present, drops expired segments, and scans across segments.
pub(crate) struct SegmentedBytes<B> {
    backend: B,
    retention: Retention,
    /// Largest timestamp written; `None` before the first write.
    stream_time: Option<i64>,
    /// Segments that may hold entries.
    segments: BTreeSet<i64>,
    /// Whether `stream_time` changed since the metadata was last written.
    metadata_stale: bool,
    /// Whether the backend was closed.
    closed: bool,
}

impl<B: BytesBackend> SegmentedBytes<B> {
    /// Opens the segmented contents of `backend`, recovering stream time and
    /// the present segments. Fails if the backend was written with another
    /// segment interval (its keys would be in the wrong segments).
    pub(crate) fn open(backend: B, retention: Retention) -> Result<Self> {
        let stream_time = match backend.get(META_KEY)? {
            None => None,
            Some(metadata) => Some(Self::check_metadata(&backend, &metadata, retention)?),
        };
        let segments = Self::discover_segments(&backend)?;
        Ok(Self {
            backend,
            retention,
            stream_time,
            segments,
            metadata_stale: false,
            closed: false,
        })
    }

    fn check_metadata(backend: &B, metadata: &[u8], retention: Retention) -> Result<i64> {
        let fields = take_be_i64(metadata).and_then(|(time, rest)| {
            take_be_i64(rest)
                .filter(|(_, rest)| rest.is_empty())
                .map(|(interval, _)| (time, interval))
        });
        let Some((stream_time, interval)) = fields else {
            return Err(StoreError::Corrupt {
                store: backend.name().to_owned(),
                reason: format!("segment metadata has {} bytes, expected 16", metadata.len()),
            });
        };
        if interval != retention.segment_interval_ms {
            return Err(StoreError::IncompatibleLayout {
                store: backend.name().to_owned(),
                reason: format!(
                    "written with segment interval {interval} ms, opened with {} ms",
                    retention.segment_interval_ms
                ),
            });
        }
        Ok(stream_time)
    }

    /// Finds the present segments with one seek per segment.
    fn discover_segments(backend: &B) -> Result<BTreeSet<i64>> {
        let mut segments = BTreeSet::new();
        let data_end = vec![DATA_TAG + 1];
        let mut from = vec![DATA_TAG];
        loop {
            let range = ByteRange::half_open(from, Some(data_end.clone()));
            let Some(first) = backend.scan(&range, ScanOrder::Forward).next() else {
                return Ok(segments);
            };
            let (key, _) = first?;
            let (segment, _) = split_segment(&key).ok_or_else(|| StoreError::Corrupt {
                store: backend.name().to_owned(),
                reason: "data key without segment prefix".to_owned(),
            })?;
            segments.insert(segment);
            let Some(next) = segment.checked_add(1) else {
                return Ok(segments);
            };
            from = segment_prefix(next);
        }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    pub(crate) fn name(&self) -> &str {
        self.backend.name()
    }

    pub(crate) fn segment_id(&self, timestamp: i64) -> i64 {
        timestamp.div_euclid(self.retention.segment_interval_ms)
    }

    /// The smallest live timestamp.
    pub(crate) fn min_live_timestamp(&self) -> i64 {
        match self.stream_time {
            None => i64::MIN,
            Some(_) => self
                .oldest_kept_timestamp()
                .saturating_add(i64::from(!self.retention.inclusive)),
        }
    }

    /// Stream time minus retention: segments wholly before it are dropped
    /// (Kafka's `cleanupExpiredSegments`), those holding it are kept.
    fn oldest_kept_timestamp(&self) -> i64 {
        match self.stream_time {
            None => i64::MIN,
            Some(time) => time.saturating_sub(self.retention.retention_ms),
        }
    }

    pub(crate) fn is_live(&self, timestamp: i64) -> bool {
        timestamp >= self.min_live_timestamp()
    }

    /// Advances stream time to `timestamp` and tells whether an entry at
    /// `timestamp` is live (and may be written).
    pub(crate) fn observe(&mut self, timestamp: i64) -> bool {
        if self.stream_time.is_none_or(|time| timestamp > time) {
            self.stream_time = Some(timestamp);
            self.metadata_stale = true;
        }
        self.is_live(timestamp)
    }

    /// Writes (or, for `None`, deletes) the entry with storage `key` at
    /// `timestamp`, then drops segments that expired.
    pub(crate) fn write(&mut self, timestamp: i64, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(value) => self.backend.put(key, value)?,
            None => self.backend.delete(key)?,
        }
        self.segments.insert(self.segment_id(timestamp));
        self.drop_expired_segments()
    }

    /// Applies `writes` in one backend batch, then drops segments that
    /// expired.
    pub(crate) fn write_batch(&mut self, writes: &[TimedWrite<'_>]) -> Result<()> {
        self.backend.write_batch(
            writes
                .iter()
                .map(|write| (write.key.as_slice(), write.value)),
        )?;
        for write in writes {
            self.segments.insert(self.segment_id(write.timestamp));
        }
        self.drop_expired_segments()
    }

    fn drop_expired_segments(&mut self) -> Result<()> {
        let first_live = self.segment_id(self.oldest_kept_timestamp());
        if self
            .segments
            .first()
            .is_none_or(|&oldest| oldest >= first_live)
        {
            return Ok(());
        }
        let end = segment_prefix(first_live);
        self.backend.delete_range(&[DATA_TAG], &end)?;
        self.segments = self.segments.split_off(&first_live);
        Ok(())
    }

    /// Scans the live segments overlapping `[from_time, to_time]`, in
    /// `order`, reading the range `range_in(segment prefix)` of each.
    pub(crate) fn scan<'a>(
        &'a self,
        from_time: i64,
        to_time: i64,
        order: ScanOrder,
        range_in: impl Fn(&[u8]) -> ByteRange + 'a,
    ) -> KeyValueIter<'a> {
        let from_time = from_time.max(self.min_live_timestamp());
        self.scan_held(from_time, to_time, order, range_in)
    }

    /// [`scan`](Self::scan) over every segment still held, expired entries
    /// included: those of a segment not yet dropped.
    pub(crate) fn scan_held<'a>(
        &'a self,
        from_time: i64,
        to_time: i64,
        order: ScanOrder,
        range_in: impl Fn(&[u8]) -> ByteRange + 'a,
    ) -> KeyValueIter<'a> {
        let first = self.segment_id(from_time);
        let last = self.segment_id(to_time);
        if first > last {
            return Box::new(std::iter::empty());
        }
        let mut segments: Vec<i64> = self.segments.range(first..=last).copied().collect();
        if order == ScanOrder::Backward {
            segments.reverse();
        }
        let backend = &self.backend;
        Box::new(
            segments
                .into_iter()
                .flat_map(move |segment| backend.scan(&range_in(&segment_prefix(segment)), order)),
        )
    }

    /// Counts the data entries physically present, expired or not.
    #[cfg(test)]
    pub(crate) fn stored_entries(&self) -> Result<usize> {
        let data = ByteRange::half_open(vec![DATA_TAG], Some(vec![DATA_TAG + 1]));
        self.backend
            .scan(&data, ScanOrder::Forward)
            .try_fold(0, |n, entry| entry.map(|_| n + 1))
    }

    pub(crate) fn approximate_len(&self) -> Result<u64> {
        self.backend.approximate_len()
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        if let (true, Some(time)) = (self.metadata_stale, self.stream_time) {
            let mut metadata = Vec::with_capacity(16);
            metadata.extend_from_slice(&time.to_be_bytes());
            metadata.extend_from_slice(&self.retention.segment_interval_ms.to_be_bytes());
            self.backend.put(META_KEY, &metadata)?;
            self.metadata_stale = false;
        }
        self.backend.flush()
    }

    /// Persists the metadata and closes the backend; closing again does
    /// nothing.
    pub(crate) fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.flush();
        self.closed = true;
        let closed = self.backend.close();
        flushed.and(closed)
    }
}

fn take_be_i64(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some((i64::from_be_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::InMemoryBackend;

    #[test]
    fn default_segment_interval_follows_kafka() {
        let short = Retention::new(1_000).ok();
        assert_eq!(short.map(|r| r.segment_interval_ms()), Some(60_000));
        let long = Retention::new(1_000_000).ok();
        assert_eq!(long.map(|r| r.segment_interval_ms()), Some(500_000));
        assert!(Retention::new(-1).is_err());
        assert!(Retention::with_segment_interval(10, 0).is_err());
    }

    #[test]
    fn liveness_is_relative_to_stream_time() -> Result<()> {
        let retention = Retention::with_segment_interval(100, 10)?;
        let mut segmented = SegmentedBytes::open(InMemoryBackend::new("s"), retention)?;
        assert!(segmented.is_live(i64::MIN));
        assert!(segmented.observe(1_000));
        assert!(segmented.is_live(901));
        assert!(!segmented.is_live(900));
        assert!(!segmented.observe(900));

        // Kafka's time-ordered stores also keep the entry exactly
        // `retention` behind.
        let inclusive = Retention::with_segment_interval(100, 10)?.inclusive();
        let mut segmented = SegmentedBytes::open(InMemoryBackend::new("t"), inclusive)?;
        assert!(segmented.observe(1_000));
        assert!(segmented.is_live(900));
        assert!(!segmented.is_live(899));
        Ok(())
    }

    #[test]
    fn a_changed_segment_interval_is_rejected_on_reopen() -> Result<()> {
        let retention = Retention::with_segment_interval(100, 10)?;
        let mut backend = InMemoryBackend::new("s");
        let mut metadata = 5i64.to_be_bytes().to_vec();
        metadata.extend_from_slice(&20i64.to_be_bytes());
        backend.put(META_KEY, &metadata)?;
        let reopened = SegmentedBytes::open(backend, retention);
        assert!(matches!(
            reopened,
            Err(StoreError::IncompatibleLayout { .. })
        ));
        Ok(())
    }
}
