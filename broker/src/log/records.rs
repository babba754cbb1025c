//! The records inside a batch, read one at a time, and written back by the
//! log cleaner.
//!
//! The broker stores batches as the producer sent them and rarely looks
//! inside; when it does (a timestamp lookup, a key check, the transaction
//! marker of a control batch when a log opens), it reads the
//! records as a stream: decompressed a piece at a time, never more than a
//! fixed budget of bytes in all, each record's length checked against what
//! is left before it is read, and nothing allocated from a count the batch
//! declares. A batch a client crafted - a record count of 2^31 over no
//! records, a decompression bomb - then costs at most the budget and ends
//! in an error, never in an allocation the process cannot survive.

use std::io::{self, Read};
use std::ops::ControlFlow;

use super::batch::{BatchHeader, Marker, HEADER_LEN};

/// The most decompressed bytes one batch is read up to: more than any
/// batch a broker accepts by default (`max.message.bytes` is 1 MiB), far
/// less than would strain the process.
pub(crate) const MAX_RECORDS_BYTES: u64 = 64 * 1024 * 1024;

/// The fields of a record the broker reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordInfo<'a> {
    /// The record's offset.
    pub(crate) offset: i64,
    /// The record's timestamp (as the producer set it; a log-append-time
    /// batch's records all carry the batch's max timestamp instead).
    pub(crate) timestamp: i64,
    /// The record's key; `None` when null.
    pub(crate) key: Option<&'a [u8]>,
    /// Whether the value is null: on a compacted topic, a tombstone.
    pub(crate) tombstone: bool,
    /// The record's bytes as the batch holds them, after its length.
    pub(crate) raw: &'a [u8],
}

/// Why the records of a batch could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordsError {
    /// The records, or the compressed stream, end early or contradict
    /// themselves.
    #[error("malformed records: {0}")]
    Malformed(&'static str),
    /// Decompressing failed.
    #[error("cannot decompress records: {0}")]
    Decompress(#[from] io::Error),
    /// A compression codec Kafka does not define.
    #[error("unknown compression codec {0}")]
    UnknownCodec(i16),
    /// The records decompress to more than the budget allows.
    #[error("records decompress to more than {0} bytes")]
    TooLarge(u64),
}

/// Calls `visit` with each record of `batch` (whose header is `header`),
/// in order, until it breaks or the records end. Reads at most `budget`
/// decompressed bytes.
pub(crate) fn for_each_record(
    batch: &[u8],
    header: &BatchHeader,
    budget: u64,
    mut visit: impl FnMut(RecordInfo<'_>) -> ControlFlow<()>,
) -> Result<(), RecordsError> {
    let body = batch
        .get(HEADER_LEN..header.size)
        .ok_or(RecordsError::Malformed(
            "batch shorter than its header says",
        ))?;
    let mut stream = decompressed(body, header.attributes & 0b111, budget)?;
    let mut record = Vec::new();
    for _ in 0..header.record_count {
        let length = match read_varint(&mut stream) {
            Ok(length) => length,
            // The budget, not the records, ran out.
            Err(_) if stream.left() == 0 => return Err(stream.overrun()),
            Err(e) => return Err(e),
        };
        let length =
            u64::try_from(length).map_err(|_| RecordsError::Malformed("negative record length"))?;
        if length > stream.left() {
            return Err(stream.overrun());
        }
        record.clear();
        (&mut stream).take(length).read_to_end(&mut record)?;
        if record.len() as u64 != length {
            return Err(RecordsError::Malformed("record cut short"));
        }
        let info = parse(&record, header.base_offset, header.base_timestamp)?;
        if visit(info).is_break() {
            return Ok(());
        }
    }
    // All the records the batch declares were read: nothing may follow.
    if stream.read(&mut [0])? != 0 {
        return Err(RecordsError::Malformed("bytes after the last record"));
    }
    Ok(())
}

/// `batch` (whole and validated, with `header`) with its records
/// compressed with `codec` (0 to 4, as batch attributes number codecs)
/// instead: a topic's `compression.type`. The records are read within the
/// budget first, so a batch whose records do not match its count is
/// refused before the decoder sizes anything from that count; producer
/// fields, timestamps and offsets are kept.
pub(crate) fn recompressed(
    batch: &[u8],
    header: &BatchHeader,
    codec: i16,
) -> Result<Vec<u8>, RecordsError> {
    use kafka_protocol::records::{
        Compression, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    };
    for_each_record(batch, header, MAX_RECORDS_BYTES, |_| {
        ControlFlow::Continue(())
    })?;
    let compression = match codec {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Snappy,
        3 => Compression::Lz4,
        4 => Compression::Zstd,
        other => return Err(RecordsError::UnknownCodec(other)),
    };
    let mut bytes = bytes::Bytes::copy_from_slice(batch);
    let set = RecordBatchDecoder::decode(&mut bytes)
        .map_err(|e| RecordsError::Decompress(io::Error::other(e)))?;
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    let mut out = bytes::BytesMut::new();
    RecordBatchEncoder::encode(&mut out, &set.records, &options)
        .map_err(|e| RecordsError::Decompress(io::Error::other(e)))?;
    Ok(out.to_vec())
}

/// The transaction marker a control batch holds, if it reads as one.
pub(crate) fn marker(batch: &[u8], header: &BatchHeader) -> Option<Marker> {
    let mut marker = None;
    let _ = for_each_record(batch, header, batch.len() as u64, |record| {
        marker = record.key.and_then(Marker::from_key);
        ControlFlow::Break(())
    });
    marker
}

/// The records of a batch body (everything after the header), decompressed
/// as they are read, at most `budget` bytes.
fn decompressed(body: &[u8], codec: i16, budget: u64) -> Result<Budgeted<'_>, RecordsError> {
    let reader: Box<dyn Read + '_> = match codec {
        0 => Box::new(body),
        // Producers may write several gzip members one after another; Java's
        // `GZIPInputStream`, which Kafka reads with, reads them all.
        1 => Box::new(flate2::read::MultiGzDecoder::new(body)),
        2 => Box::new(io::Cursor::new(snappy(body, budget)?)),
        3 => Box::new(lz4::Decoder::new(body)?),
        4 => Box::new(zstd::stream::read::Decoder::with_buffer(body)?),
        other => return Err(RecordsError::UnknownCodec(other)),
    };
    Ok(Budgeted {
        inner: reader.take(budget),
        budget,
    })
}

/// A decompressed stream cut off at a budget.
struct Budgeted<'a> {
    inner: io::Take<Box<dyn Read + 'a>>,
    budget: u64,
}

impl Budgeted<'_> {
    /// Bytes the budget still allows.
    fn left(&self) -> u64 {
        self.inner.limit()
    }

    /// The error for a read that would pass the budget.
    fn overrun(&self) -> RecordsError {
        RecordsError::TooLarge(self.budget)
    }
}

impl Read for Budgeted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Snappy as Kafka's producers write it: blocks in the framing of
/// snappy-java (a magic header, then length-prefixed blocks), or one raw
/// block. Each block states its decompressed length, which is checked
/// against the budget before anything is allocated for it.
fn snappy(body: &[u8], budget: u64) -> Result<Vec<u8>, RecordsError> {
    const MAGIC: &[u8] = b"\x82SNAPPY\x00";
    const HEADER: usize = 16;
    let mut out = Vec::new();
    let decode_block = |block: &[u8], out: &mut Vec<u8>| -> Result<(), RecordsError> {
        let length = snap::raw::decompress_len(block)
            .map_err(|e| RecordsError::Decompress(io::Error::other(e)))?;
        let total = out.len().saturating_add(length);
        if total as u64 > budget {
            return Err(RecordsError::TooLarge(budget));
        }
        let start = out.len();
        out.resize(total, 0);
        snap::raw::Decoder::new()
            .decompress(block, &mut out[start..])
            .map_err(|e| RecordsError::Decompress(io::Error::other(e)))?;
        Ok(())
    };
    if !body.starts_with(MAGIC) {
        decode_block(body, &mut out)?;
        return Ok(out);
    }
    let mut rest = body
        .get(HEADER..)
        .ok_or(RecordsError::Malformed("snappy header cut short"))?;
    while !rest.is_empty() {
        let (length, after) = rest
            .split_first_chunk::<4>()
            .ok_or(RecordsError::Malformed("snappy block length cut short"))?;
        let length = u32::from_be_bytes(*length) as usize;
        let block = after
            .get(..length)
            .ok_or(RecordsError::Malformed("snappy block cut short"))?;
        decode_block(block, &mut out)?;
        rest = &after[length..];
    }
    Ok(out)
}

/// Reads one zigzag varint (Kafka's `varint`, at most 5 bytes) from a
/// stream.
fn read_varint(stream: &mut impl Read) -> Result<i64, RecordsError> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let mut byte = [0];
        stream
            .read_exact(&mut byte)
            .map_err(|_| RecordsError::Malformed("records end before their count"))?;
        value |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok(zigzag(value));
        }
    }
    Err(RecordsError::Malformed("varint longer than 5 bytes"))
}

fn zigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Writes a zigzag varlong, as records encode their lengths and deltas.
fn write_varlong(out: &mut Vec<u8>, value: i64) {
    let mut zigzagged = ((value << 1) ^ (value >> 63)) as u64;
    while zigzagged >= 0x80 {
        out.push((zigzagged as u8 & 0x7f) | 0x80);
        zigzagged >>= 7;
    }
    out.push(zigzagged as u8);
}

/// A record's bytes (after its length), read as far as the fields wanted.
fn parse(
    record: &[u8],
    base_offset: i64,
    base_timestamp: i64,
) -> Result<RecordInfo<'_>, RecordsError> {
    let mut rest = record;
    let _attributes = take(&mut rest, 1)?;
    let timestamp_delta = varlong(&mut rest)?;
    let offset_delta = varlong(&mut rest)?;
    let key_length = varlong(&mut rest)?;
    let key = match usize::try_from(key_length) {
        Ok(length) => Some(take(&mut rest, length)?),
        Err(_) => None,
    };
    let value_length = varlong(&mut rest)?;
    Ok(RecordInfo {
        offset: base_offset.saturating_add(offset_delta),
        timestamp: base_timestamp.saturating_add(timestamp_delta),
        key,
        tombstone: value_length < 0,
        raw: record,
    })
}

/// Appends `record` to `out`, a batch body being rebuilt, as the batch
/// holds it (its length first), with its timestamp made relative to
/// `base_timestamp`, the rebuilt batch's. Everything else - offset delta,
/// key, value, headers - is copied as it was: offsets keep their deltas
/// from an unchanged base offset.
pub(crate) fn write_record(
    out: &mut Vec<u8>,
    record: &RecordInfo<'_>,
    base_timestamp: i64,
) -> Result<(), RecordsError> {
    let mut rest = record.raw;
    let attributes = take(&mut rest, 1)?;
    let _old_delta = varlong(&mut rest)?;
    let mut delta = Vec::with_capacity(10);
    write_varlong(&mut delta, record.timestamp.wrapping_sub(base_timestamp));
    let length = attributes.len() + delta.len() + rest.len();
    let length = i64::try_from(length).map_err(|_| RecordsError::Malformed("record too long"))?;
    write_varlong(out, length);
    out.extend_from_slice(attributes);
    out.extend_from_slice(&delta);
    out.extend_from_slice(rest);
    Ok(())
}

/// `body` (the records of a batch, uncompressed) compressed with `codec`,
/// as batch attributes number codecs.
pub(crate) fn compressed(body: &[u8], codec: i16) -> Result<Vec<u8>, RecordsError> {
    use kafka_protocol::compression::{Compressor, Gzip, Lz4, None, Snappy, Zstd};
    fn with<C: Compressor<bytes::BytesMut>>(body: &[u8]) -> Result<Vec<u8>, RecordsError> {
        let mut out = bytes::BytesMut::new();
        C::compress(&mut out, |buf| {
            bytes::BufMut::put_slice(buf, body);
            Ok(())
        })
        .map_err(|e| RecordsError::Decompress(io::Error::other(e)))?;
        Ok(out.to_vec())
    }
    match codec {
        0 => with::<None>(body),
        1 => with::<Gzip>(body),
        2 => with::<Snappy>(body),
        3 => with::<Lz4>(body),
        4 => with::<Zstd>(body),
        other => Err(RecordsError::UnknownCodec(other)),
    }
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], RecordsError> {
    let (taken, after) = rest
        .split_at_checked(n)
        .ok_or(RecordsError::Malformed("record cut short"))?;
    *rest = after;
    Ok(taken)
}

/// Reads one zigzag varlong (at most 10 bytes) from a record's bytes.
fn varlong(rest: &mut &[u8]) -> Result<i64, RecordsError> {
    let mut value: u64 = 0;
    for shift in (0..70).step_by(7) {
        let byte = take(rest, 1)?[0];
        value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok(zigzag(value));
        }
    }
    Err(RecordsError::Malformed("varlong longer than 10 bytes"))
}

#[cfg(test)]
pub(crate) mod tests {
    use kafka_protocol::records::Compression;

    use super::*;
    use crate::log::batch::tests::{encode_batch, encode_batch_with};
    use crate::log::batch::validate_produced;

    /// A record's offset, timestamp and key.
    type Seen = (i64, i64, Option<Vec<u8>>);

    /// The offset, timestamp and key of each record.
    fn records(batch: &[u8], budget: u64) -> Result<Vec<Seen>, RecordsError> {
        let header = validate_produced(batch, 1 << 20).expect("valid batch")[0];
        let mut seen = Vec::new();
        for_each_record(batch, &header, budget, |record| {
            seen.push((
                record.offset,
                record.timestamp,
                record.key.map(<[u8]>::to_vec),
            ));
            ControlFlow::Continue(())
        })?;
        Ok(seen)
    }

    /// Recompressing keeps every record (offset, timestamp, key) and the
    /// producer fields, from and to every codec.
    #[test]
    fn recompressing_keeps_the_records_and_the_producer() {
        let codecs = [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ];
        for from in codecs {
            let batch = encode_batch_with(4, 1000, from, |record| {
                record.producer_id = 7;
                record.producer_epoch = 2;
                record.sequence = 10 + record.offset as i32;
                if record.offset == 2 {
                    record.key = None;
                }
            });
            let header = validate_produced(&batch, 1 << 20).expect("valid batch")[0];
            for to in codecs {
                let again = recompressed(&batch, &header, to as i16).expect("recompressed");
                let stored = validate_produced(&again, 1 << 20).expect("valid batch")[0];
                assert_eq!(stored.codec(), to as i16, "{from:?} to {to:?}");
                assert_eq!(
                    (
                        stored.producer_id,
                        stored.producer_epoch,
                        stored.base_sequence
                    ),
                    (7, 2, 10)
                );
                assert_eq!(
                    records(&again, MAX_RECORDS_BYTES).expect("readable"),
                    records(&batch, MAX_RECORDS_BYTES).expect("readable"),
                    "{from:?} to {to:?}"
                );
            }
        }
    }

    #[test]
    fn every_codec_yields_the_records_offsets_timestamps_and_keys() {
        for compression in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let batch = encode_batch_with(3, 1000, compression, |record| {
                if record.offset == 1 {
                    record.key = None;
                }
            });
            let expected: Vec<_> = (0..3)
                .map(|i| {
                    let key = (i != 1).then(|| format!("key-{i}").into_bytes());
                    (i, 1000 + i, key)
                })
                .collect();
            assert_eq!(
                records(&batch, MAX_RECORDS_BYTES).expect("readable"),
                expected,
                "{compression:?}"
            );
        }
    }

    /// A batch with a valid header and CRC that declares 2^31 - 1 records
    /// and holds none, as a hostile client could produce it.
    pub(crate) fn hollow_batch() -> Vec<u8> {
        let mut batch = encode_batch(1, 0, Compression::None);
        let record_bytes = batch.len() - HEADER_LEN;
        batch.truncate(HEADER_LEN);
        let length = i32::from_be_bytes(batch[8..12].try_into().expect("4 bytes"));
        batch[8..12].copy_from_slice(&(length - record_bytes as i32).to_be_bytes());
        batch[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes());
        batch[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
        batch
    }

    /// Reading the hollow batch is an error, and allocates nothing for its
    /// count.
    #[test]
    fn a_count_with_no_records_behind_it_is_an_error() {
        assert!(matches!(
            records(&hollow_batch(), MAX_RECORDS_BYTES),
            Err(RecordsError::Malformed(_))
        ));
    }

    /// Bytes after the records a batch declares are an error.
    #[test]
    fn bytes_after_the_declared_records_are_an_error() {
        let batch = encode_batch(2, 0, Compression::None);
        let mut header = validate_produced(&batch, 1 << 20).expect("valid batch")[0];
        header.record_count = 1;
        let read = for_each_record(&batch, &header, MAX_RECORDS_BYTES, |_| {
            ControlFlow::Continue(())
        });
        assert!(matches!(read, Err(RecordsError::Malformed(_))), "{read:?}");
    }

    /// Records that decompress to more than the budget stop at it.
    #[test]
    fn decompression_stops_at_the_budget() {
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let batch = encode_batch(200, 0, compression);
            assert!(
                matches!(records(&batch, 1000), Err(RecordsError::TooLarge(1000))),
                "{compression:?}"
            );
        }
    }
}
