//! The record batch (magic 2) header: parsing, validation and the few fields
//! the broker rewrites. Record data is never decoded here; batches are stored
//! and served as the producer compressed them (or as the topic's
//! `compression.type` recompressed them, see `records::recompressed`), until
//! the log cleaner rebuilds one around the records it keeps
//! ([`rebuilt`]).

use super::records::{self, RecordsError};

/// Bytes before the batch length field is counted: base offset and length.
pub(crate) const LOG_OVERHEAD: usize = 12;
/// Size of the whole fixed header, up to and including the record count.
pub(crate) const HEADER_LEN: usize = 61;

const LENGTH_AT: usize = 8;
const LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
/// The CRC covers everything from the attributes to the end of the batch.
const CRC_FROM: usize = 21;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORD_COUNT_AT: usize = 57;

const COMPRESSION_MASK: i16 = 0b111;
const COMPRESSION_ZSTD: i16 = 4;
const TIMESTAMP_TYPE_LOG_APPEND: i16 = 1 << 3;
const TRANSACTIONAL: i16 = 1 << 4;
const CONTROL: i16 = 1 << 5;
/// The base timestamp holds the time after which the batch's tombstones
/// may be removed (KIP-534), and record timestamps are relative to it.
const DELETE_HORIZON: i16 = 1 << 6;
/// The base timestamp of a batch with no records (Kafka's `NO_TIMESTAMP`).
const NO_TIMESTAMP: i64 = -1;

/// Why bytes are not a valid record batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BatchError {
    /// Fewer bytes than the header or the declared length.
    #[error("truncated record batch")]
    Truncated,
    /// A length field that cannot be right.
    #[error("invalid record batch length {0}")]
    BadLength(i32),
    /// Only the v2 format (Kafka 0.11+) is supported.
    #[error("unsupported record batch magic {0}")]
    UnsupportedMagic(i8),
    /// The CRC does not match the content.
    #[error("record batch CRC mismatch")]
    CrcMismatch,
    /// Record count and offset delta disagree, or the batch is empty.
    #[error("record batch declares {count} records with last offset delta {last_offset_delta}")]
    BadRecordCount { count: i32, last_offset_delta: i32 },
    /// A partition's records hold no batch at all.
    #[error("no record batch for the partition")]
    NoBatch,
    /// A control batch (transaction marker), which only the broker writes.
    #[error("clients are not allowed to write control records")]
    ControlBatch,
    /// A producer id with a negative base sequence.
    #[error("invalid sequence number {sequence} for producer id {producer_id}")]
    InvalidSequence { producer_id: i64, sequence: i32 },
    /// Larger than the topic's `max.message.bytes`.
    #[error("record batch of {0} bytes exceeds max.message.bytes")]
    TooLarge(usize),
    /// More than the one batch a partition's records may hold in a
    /// Produce request (Kafka's rule since Produce v3).
    #[error("{0} record batches for one partition; a produce request carries exactly one")]
    SeveralBatches(usize),
    /// Offsets that would pass the largest possible offset.
    #[error("record batch at offset {base_offset} with last offset delta {last_offset_delta} passes the largest offset")]
    OffsetOverflow {
        base_offset: i64,
        last_offset_delta: i32,
    },
}

fn i16_at(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([buf[at], buf[at + 1]])
}

fn i32_at(buf: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

fn i64_at(buf: &[u8], at: usize) -> i64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&buf[at..at + 8]);
    i64::from_be_bytes(bytes)
}

/// The header fields the broker needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchHeader {
    pub(crate) base_offset: i64,
    /// Total size in bytes, including the offset and length fields.
    pub(crate) size: usize,
    pub(crate) last_offset_delta: i32,
    /// What record timestamps are deltas from: the first record's
    /// timestamp, or the delete horizon (see [`delete_horizon`](Self::delete_horizon)).
    pub(crate) base_timestamp: i64,
    pub(crate) max_timestamp: i64,
    pub(crate) record_count: i32,
    /// Whether the batch is stamped with the log-append time: then every
    /// record's timestamp is the batch's max timestamp, whatever the
    /// records say.
    pub(crate) log_append_time: bool,
    /// The `attributes` field: compression, timestamp type, flags.
    pub(crate) attributes: i16,
    /// The idempotent producer that wrote the batch, or -1.
    pub(crate) producer_id: i64,
    /// The epoch of that producer, or -1.
    pub(crate) producer_epoch: i16,
    /// The producer's sequence number of the first record, or -1.
    pub(crate) base_sequence: i32,
}

impl BatchHeader {
    /// Reads the header at the start of `buf`, which holds at least
    /// [`HEADER_LEN`] bytes. The batch body is not checked.
    pub(crate) fn parse(buf: &[u8]) -> Result<Self, BatchError> {
        // The magic first: an old-format message set is shorter than this
        // header, and is unsupported rather than cut short.
        if let Some(&magic) = buf.get(MAGIC_AT) {
            if magic as i8 != 2 {
                return Err(BatchError::UnsupportedMagic(magic as i8));
            }
        }
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated);
        }
        let length = i32_at(buf, LENGTH_AT);
        let size = usize::try_from(length)
            .ok()
            .map(|l| l + LOG_OVERHEAD)
            .filter(|&size| size >= HEADER_LEN)
            .ok_or(BatchError::BadLength(length))?;
        Ok(Self {
            base_offset: i64_at(buf, 0),
            size,
            last_offset_delta: i32_at(buf, LAST_OFFSET_DELTA_AT),
            base_timestamp: i64_at(buf, BASE_TIMESTAMP_AT),
            max_timestamp: i64_at(buf, MAX_TIMESTAMP_AT),
            record_count: i32_at(buf, RECORD_COUNT_AT),
            log_append_time: i16_at(buf, ATTRIBUTES_AT) & TIMESTAMP_TYPE_LOG_APPEND != 0,
            attributes: i16_at(buf, ATTRIBUTES_AT),
            producer_id: i64_at(buf, PRODUCER_ID_AT),
            producer_epoch: i16_at(buf, PRODUCER_EPOCH_AT),
            base_sequence: i32_at(buf, BASE_SEQUENCE_AT),
        })
    }

    /// Whether the batch is part of a transaction.
    pub(crate) fn transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL != 0
    }

    /// Whether the batch is a control batch (a transaction marker).
    pub(crate) fn control(&self) -> bool {
        self.attributes & CONTROL != 0
    }

    /// When the log cleaner may remove the batch's tombstones, once it has
    /// cleaned the batch a first time and set it.
    pub(crate) fn delete_horizon(&self) -> Option<i64> {
        (self.attributes & DELETE_HORIZON != 0).then_some(self.base_timestamp)
    }

    /// The producer's sequence number of the last record: the base
    /// sequence plus the offset delta, wrapping from `i32::MAX` to 0 as
    /// producers number their records.
    pub(crate) fn last_sequence(&self) -> i32 {
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        let wrapped = if last > i64::from(i32::MAX) {
            last - i64::from(i32::MAX) - 1
        } else {
            last
        };
        // In range: the base sequence and the delta are both `i32`s.
        i32::try_from(wrapped).unwrap_or(i32::MAX)
    }

    /// The codec the records are compressed with: 0 (none), 1 (gzip),
    /// 2 (snappy), 3 (lz4) or 4 (zstd).
    pub(crate) fn codec(&self) -> i16 {
        self.attributes & COMPRESSION_MASK
    }

    /// Whether the records are compressed.
    pub(crate) fn compressed(&self) -> bool {
        self.attributes & COMPRESSION_MASK != 0
    }

    /// Whether the records are compressed with zstd, which Produce
    /// requests before v7 may not carry.
    pub(crate) fn zstd(&self) -> bool {
        self.codec() == COMPRESSION_ZSTD
    }

    /// The offset following the batch. The base offset is not covered by
    /// the CRC, so on disk it may be anything, including a value this
    /// would overflow from.
    pub(crate) fn next_offset(&self) -> Result<i64, BatchError> {
        self.base_offset
            .checked_add(i64::from(self.last_offset_delta))
            .and_then(|last| last.checked_add(1))
            .ok_or(BatchError::OffsetOverflow {
                base_offset: self.base_offset,
                last_offset_delta: self.last_offset_delta,
            })
    }
}

/// Checks a complete batch (`batch.len() == header.size`) against its CRC.
pub(crate) fn crc_matches(batch: &[u8]) -> bool {
    batch.len() >= HEADER_LEN && crc32c::crc32c(&batch[CRC_FROM..]) == i32_at(batch, CRC_AT) as u32
}

/// Splits one partition's records of a produce request into batches and
/// validates each (format, lengths, CRC, record count and size limit), and
/// that there is exactly one, as Kafka requires since Produce v3.
pub(crate) fn validate_produced(
    records: &[u8],
    max_batch_bytes: u64,
) -> Result<Vec<BatchHeader>, BatchError> {
    let mut headers = Vec::new();
    let mut rest = records;
    while !rest.is_empty() {
        let header = BatchHeader::parse(rest)?;
        if header.size > rest.len() {
            return Err(BatchError::Truncated);
        }
        if header.size as u64 > max_batch_bytes {
            return Err(BatchError::TooLarge(header.size));
        }
        if !crc_matches(&rest[..header.size]) {
            return Err(BatchError::CrcMismatch);
        }
        // Producers number the records of a batch contiguously; anything else
        // would make the offsets the broker assigns meaningless.
        if header.record_count < 1
            || header.last_offset_delta.checked_add(1) != Some(header.record_count)
        {
            return Err(BatchError::BadRecordCount {
                count: header.record_count,
                last_offset_delta: header.last_offset_delta,
            });
        }
        if header.control() {
            return Err(BatchError::ControlBatch);
        }
        if header.producer_id >= 0 && header.base_sequence < 0 {
            return Err(BatchError::InvalidSequence {
                producer_id: header.producer_id,
                sequence: header.base_sequence,
            });
        }
        headers.push(header);
        rest = &rest[header.size..];
    }
    match headers.len() {
        0 => Err(BatchError::NoBatch),
        1 => Ok(headers),
        several => Err(BatchError::SeveralBatches(several)),
    }
}

/// What a transaction marker says: Kafka's `ControlRecordType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    /// The transaction's records are to be skipped.
    Abort = 0,
    /// The transaction's records are to be read.
    Commit = 1,
}

impl Marker {
    /// The marker a control record's key names, if any.
    pub(crate) fn from_key(key: &[u8]) -> Option<Self> {
        match key {
            [_, _, 0, 0, ..] => Some(Self::Abort),
            [_, _, 0, 1, ..] => Some(Self::Commit),
            _ => None,
        }
    }
}

/// A control batch with one transaction marker of `producer_id` at
/// `epoch`, as a transaction coordinator has each partition of a
/// transaction write it: key (version 0, marker type), value (version 0,
/// coordinator epoch 0).
pub(crate) fn marker_batch(
    producer_id: i64,
    epoch: i16,
    marker: Marker,
    timestamp: i64,
) -> std::io::Result<Vec<u8>> {
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };
    let record = Record {
        transactional: true,
        control: true,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id,
        producer_epoch: epoch,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp,
        key: Some(bytes::Bytes::copy_from_slice(&[0, 0, 0, marker as u8])),
        value: Some(bytes::Bytes::from_static(&[0, 0, 0, 0, 0, 0])),
        headers: Default::default(),
    };
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    let mut buf = bytes::BytesMut::new();
    RecordBatchEncoder::encode(&mut buf, [&record], &options).map_err(std::io::Error::other)?;
    Ok(buf.to_vec())
}

/// Stamps a validated batch for appending: its base offset, the leader
/// epoch, and with log-append time the timestamp type and max timestamp
/// (which the CRC covers, so it is recomputed).
pub(crate) fn stamp(batch: &mut [u8], base_offset: i64, log_append_time: Option<i64>) {
    batch[..8].copy_from_slice(&base_offset.to_be_bytes());
    batch[LEADER_EPOCH_AT..LEADER_EPOCH_AT + 4].copy_from_slice(&0i32.to_be_bytes());
    if let Some(now) = log_append_time {
        let attributes = i16_at(batch, ATTRIBUTES_AT) | TIMESTAMP_TYPE_LOG_APPEND;
        batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
        batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&now.to_be_bytes());
        set_crc(batch);
    }
}

/// Sets the CRC of a whole batch to that of its content.
pub(crate) fn set_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[CRC_FROM..]);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

/// How the log cleaner rebuilds a batch around the records it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rebuild {
    /// How many records the new body holds.
    pub(crate) record_count: i32,
    /// The base timestamp the records' timestamp deltas are relative to.
    pub(crate) base_timestamp: i64,
    /// Whether that base timestamp is a delete horizon.
    pub(crate) delete_horizon: bool,
    /// The largest timestamp of the records kept.
    pub(crate) max_timestamp: i64,
}

/// A stored batch (`original`, with `header`) rebuilt to hold only
/// `records` (uncompressed, each with its length, as
/// [`records::write_record`] writes them),
/// compressed as before. The base offset, last offset delta, leader
/// epoch and producer fields stay as they were, so the offsets of the
/// records kept, and the producer sequence range the batch covers, do not
/// change (Kafka keeps them for the same reason); the record count, base
/// and max timestamps, length and CRC are those of the new content.
pub(crate) fn rebuilt(
    original: &[u8],
    header: &BatchHeader,
    records: &[u8],
    rebuild: Rebuild,
) -> Result<Vec<u8>, RecordsError> {
    let body = records::compressed(records, header.codec())?;
    let mut attributes = header.attributes;
    if rebuild.delete_horizon {
        attributes |= DELETE_HORIZON;
    }
    with_body(original, &body, attributes, rebuild)
}

/// A stored batch (`original`, with `header`) left with no records, as
/// Kafka's cleaner writes one it keeps for its producer fields
/// (`DefaultRecordBatch.writeEmptyHeader`): the header alone, with no
/// records to compress (so no codec), no base timestamp nor delete
/// horizon, and the max timestamp it had. Offsets, leader epoch and
/// producer fields stay, as in [`rebuilt`].
pub(crate) fn emptied(original: &[u8], header: &BatchHeader) -> Result<Vec<u8>, RecordsError> {
    let attributes = header.attributes & !(COMPRESSION_MASK | DELETE_HORIZON);
    let empty = Rebuild {
        record_count: 0,
        base_timestamp: NO_TIMESTAMP,
        delete_horizon: false,
        max_timestamp: header.max_timestamp,
    };
    with_body(original, &[], attributes, empty)
}

/// The header of `original` followed by `body` (the records as stored),
/// with `attributes` and the fields `rebuild` gives, and the length and
/// CRC of the new content.
fn with_body(
    original: &[u8],
    body: &[u8],
    attributes: i16,
    rebuild: Rebuild,
) -> Result<Vec<u8>, RecordsError> {
    let mut batch = Vec::with_capacity(HEADER_LEN + body.len());
    batch.extend_from_slice(
        original
            .get(..HEADER_LEN)
            .ok_or(RecordsError::Malformed("batch shorter than its header"))?,
    );
    batch.extend_from_slice(body);
    let length = i32::try_from(batch.len() - LOG_OVERHEAD)
        .map_err(|_| RecordsError::Malformed("rebuilt batch too long"))?;
    batch[LENGTH_AT..LENGTH_AT + 4].copy_from_slice(&length.to_be_bytes());
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[BASE_TIMESTAMP_AT..BASE_TIMESTAMP_AT + 8]
        .copy_from_slice(&rebuild.base_timestamp.to_be_bytes());
    batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8]
        .copy_from_slice(&rebuild.max_timestamp.to_be_bytes());
    batch[RECORD_COUNT_AT..RECORD_COUNT_AT + 4]
        .copy_from_slice(&rebuild.record_count.to_be_bytes());
    set_crc(&mut batch);
    Ok(batch)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    /// Encodes `count` small records as one batch, as a producer would.
    pub(crate) fn encode_batch(count: usize, timestamp: i64, compression: Compression) -> Vec<u8> {
        encode_batch_with(count, timestamp, compression, |_| {})
    }

    /// [`encode_batch`] with each record changed by `edit` first (the
    /// batch header takes its flags and producer fields from the records).
    pub(crate) fn encode_batch_with(
        count: usize,
        timestamp: i64,
        compression: Compression,
        edit: impl Fn(&mut Record),
    ) -> Vec<u8> {
        let records: Vec<Record> = (0..count)
            .map(|i| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: i as i32,
                timestamp: timestamp + i as i64,
                key: Some(bytes::Bytes::from(format!("key-{i}"))),
                value: Some(bytes::Bytes::from(format!("value-{i}"))),
                headers: [(StrBytes::from_static_str("h"), None)]
                    .into_iter()
                    .collect(),
            })
            .map(|mut record| {
                edit(&mut record);
                record
            })
            .collect();
        let mut buf = BytesMut::new();
        let options = RecordEncodeOptions {
            version: 2,
            compression,
        };
        RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encodable");
        buf.to_vec()
    }

    /// An emptied batch is its header alone, as Kafka writes it: no
    /// records, no codec, no base timestamp nor delete horizon, and a CRC
    /// over that header; offsets, producer fields and max timestamp stay.
    #[test]
    fn an_emptied_batch_is_a_header_without_codec() {
        let mut original = encode_batch_with(3, 1000, Compression::Gzip, |record| {
            record.producer_id = 7;
            record.producer_epoch = 2;
            record.sequence = 40 + record.offset as i32;
        });
        stamp(&mut original, 100, None);
        let header = BatchHeader::parse(&original).expect("parses");
        let horizon = Rebuild {
            record_count: 3,
            base_timestamp: 5000,
            delete_horizon: true,
            max_timestamp: header.max_timestamp,
        };
        let stamped = rebuilt(&original, &header, &[], horizon).expect("rebuilt");
        let stamped_header = BatchHeader::parse(&stamped).expect("parses");
        assert!(stamped_header.delete_horizon().is_some());

        let empty = emptied(&stamped, &stamped_header).expect("emptied");
        assert_eq!(empty.len(), HEADER_LEN);
        assert!(crc_matches(&empty));
        let parsed = BatchHeader::parse(&empty).expect("parses");
        assert_eq!(
            parsed,
            BatchHeader {
                size: HEADER_LEN,
                base_timestamp: NO_TIMESTAMP,
                record_count: 0,
                attributes: 0,
                ..header
            }
        );
        assert_eq!(empty[..LENGTH_AT], original[..LENGTH_AT], "base offset");
        assert_eq!(
            empty[LEADER_EPOCH_AT..CRC_AT],
            original[LEADER_EPOCH_AT..CRC_AT],
            "leader epoch and magic"
        );
    }

    #[test]
    fn validates_and_stamps_a_batch() {
        let mut batch = encode_batch(3, 1000, Compression::None);
        let headers = validate_produced(&batch, 1 << 20).expect("valid");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].record_count, 3);
        assert_eq!(headers[0].max_timestamp, 1002);
        stamp(&mut batch, 42, Some(7777));
        let header = BatchHeader::parse(&batch).expect("parses");
        assert_eq!(
            (
                header.base_offset,
                header.next_offset(),
                header.max_timestamp
            ),
            (42, Ok(45), 7777)
        );
        assert!(crc_matches(&batch));
    }

    #[test]
    fn offsets_past_the_largest_are_an_error_not_an_overflow() {
        let mut batch = encode_batch(3, 0, Compression::None);
        stamp(&mut batch, i64::MAX - 3, None);
        let header = BatchHeader::parse(&batch).expect("parses");
        assert_eq!(header.next_offset(), Ok(i64::MAX));
        stamp(&mut batch, i64::MAX - 2, None);
        let header = BatchHeader::parse(&batch).expect("parses");
        assert_eq!(
            header.next_offset(),
            Err(BatchError::OffsetOverflow {
                base_offset: i64::MAX - 2,
                last_offset_delta: 2
            })
        );
    }

    #[test]
    fn rejects_corruption_and_oversize() {
        let mut batch = encode_batch(2, 0, Compression::None);
        assert_eq!(
            validate_produced(&batch, 10),
            Err(BatchError::TooLarge(batch.len()))
        );
        assert_eq!(
            validate_produced(&batch[..batch.len() - 1], 1 << 20),
            Err(BatchError::Truncated)
        );
        let last = batch.len() - 1;
        batch[last] ^= 0xff;
        assert_eq!(
            validate_produced(&batch, 1 << 20),
            Err(BatchError::CrcMismatch)
        );
        assert_eq!(validate_produced(&[], 1 << 20), Err(BatchError::NoBatch));
        let one = encode_batch(2, 0, Compression::None);
        let two = [one.as_slice(), one.as_slice()].concat();
        assert_eq!(
            validate_produced(&two, 1 << 20),
            Err(BatchError::SeveralBatches(2))
        );
    }

    /// What only the broker writes, or producer fields that cannot be
    /// right, are refused as Kafka's `LogValidator` refuses them.
    #[test]
    fn rejects_control_batches_and_negative_sequences() {
        let control = encode_batch_with(1, 0, Compression::None, |record| record.control = true);
        assert_eq!(
            validate_produced(&control, 1 << 20),
            Err(BatchError::ControlBatch)
        );
        let unsequenced = encode_batch_with(2, 0, Compression::None, |record| {
            record.producer_id = 7;
            record.producer_epoch = 0;
            record.sequence = -1;
        });
        assert_eq!(
            validate_produced(&unsequenced, 1 << 20),
            Err(BatchError::InvalidSequence {
                producer_id: 7,
                sequence: -1
            })
        );
        let idempotent = encode_batch_with(2, 0, Compression::None, |record| {
            record.producer_id = 7;
            record.producer_epoch = 0;
        });
        assert!(validate_produced(&idempotent, 1 << 20).is_ok());
        let zstd = encode_batch(1, 0, Compression::Zstd);
        let headers = validate_produced(&zstd, 1 << 20).expect("valid");
        assert!(headers[0].zstd());
        assert!(!BatchHeader::parse(&control).expect("parses").zstd());
    }
}
