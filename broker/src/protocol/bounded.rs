//! Decoding with bounded allocations: a request's length fields are checked
//! against the bytes that follow them before the request is decoded for real.
//!
//! kafka-protocol sizes an array's vector from its length field before it
//! reads any element, so a frame of a few bytes that claims 2^31 elements
//! asks for an allocation of hundreds of gigabytes, and a failed allocation
//! aborts the process rather than returning an error. [`decode`] therefore
//! decodes a request twice: first through [`Bounded`], a view of the frame
//! whose lengths never exceed the bytes left after them by more than
//! [`SLACK`], and only if that pass succeeds, from the frame itself.
//!
//! Why the first pass is bounded, and why its success bounds the second:
//! - kafka-protocol reads every length as an `i32` (arrays, bytes) with
//!   `try_get_i32`, as an `i16` (strings, so at most 32 KiB), or as an
//!   unsigned varint (compact arrays, strings and bytes; tagged-field counts,
//!   tags and sizes) one byte at a time with `try_get_u8`.
//! - [`Bounded`] lowers an `i32` above the limit to the limit. It consumes
//!   the same four bytes, so the structure is unchanged; `i32` fields that
//!   are not lengths (timeouts, ids) lose their value, which this pass does
//!   not keep. A lowered length still exceeds the bytes left, and every
//!   element or byte it counts takes at least one byte, so the pass fails.
//! - [`Bounded`] refuses a varint above the limit instead of lowering it.
//!   Lowering would mean serving rewritten bytes after the first, and the
//!   reader of the first byte may be a boolean (also read with `try_get_u8`)
//!   whose next field starts on the rewritten bytes: the pass would then
//!   check a structure the real decode does not follow. Refusing changes no
//!   byte. Every `try_get_u8` checks the varint that would start there, so
//!   a varint is checked whichever byte it starts on. Requests from real
//!   clients never carry such a varint: their compact lengths fit in the
//!   bytes left and their tag numbers are small.
//!
//! So the first pass reserves at most (frame length + [`SLACK`]) elements
//! per array. If it succeeds, every length in the frame is within that
//! limit, and the second pass reads the same bytes with the same lengths.
//! An element in memory is larger than its bytes on the wire (up to about a
//! hundred bytes against a few), so the reservation can still exceed the
//! frame by that factor: requests other than Produce are therefore capped
//! at [`MAX_CONTROL_REQUEST_BYTES`](super::MAX_CONTROL_REQUEST_BYTES), and
//! a Produce request, which may be far larger, has its shape walked first
//! ([`super::produce_shape`]), which bounds its entries.

use std::ops::Range;

use bytes::{Buf, Bytes, TryGetError};
use kafka_protocol::protocol::buf::ByteBuf;
use kafka_protocol::protocol::Decodable;

/// How far a length may exceed the bytes left after it: enough that small
/// values which are not lengths, such as tag numbers, pass untouched near
/// the end of a frame.
pub(crate) const SLACK: usize = 1024;

/// The most bytes kafka-protocol reads for an unsigned varint.
const MAX_VARINT_BYTES: usize = 5;

/// Decodes a `T` from the front of `frame`, advancing it past what was read,
/// after a first pass through [`Bounded`] has shown that no length in it
/// exceeds the bytes that follow.
pub(crate) fn decode<T: Decodable>(frame: &mut Bytes, version: i16) -> Result<T, String> {
    T::decode(&mut Bounded::new(frame.clone()), version).map_err(|e| e.to_string())?;
    T::decode(frame, version).map_err(|e| e.to_string())
}

/// A view of a frame whose lengths never exceed the bytes left after them
/// by more than [`SLACK`]: `i32`s above that are lowered to it, and varints
/// above it are refused. Decoding through it checks structure only; the
/// values it yields are not the request's.
pub(crate) struct Bounded {
    bytes: Bytes,
}

impl Bounded {
    /// A view of `bytes`.
    pub(crate) fn new(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The largest length allowed for a field followed by `after` bytes.
    fn limit(after: usize) -> usize {
        after.saturating_add(SLACK)
    }
}

/// The unsigned varint at the start of `bytes`, read as kafka-protocol reads
/// it (at most five bytes, up to the first without the continuation bit, and
/// bits beyond 32 dropped), with its length; `None` when `bytes` ends first.
pub(super) fn peek_unsigned_varint(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u32;
    for (i, &b) in bytes.iter().take(MAX_VARINT_BYTES).enumerate() {
        value |= u32::from(b & 0x7f) << (i * 7);
        if b < 0x80 || i + 1 == MAX_VARINT_BYTES {
            return Some((value, i + 1));
        }
    }
    None
}

impl Buf for Bounded {
    fn remaining(&self) -> usize {
        self.bytes.remaining()
    }

    fn chunk(&self) -> &[u8] {
        self.bytes.chunk()
    }

    fn advance(&mut self, cnt: usize) {
        self.bytes.advance(cnt);
    }

    fn try_get_i32(&mut self) -> Result<i32, TryGetError> {
        let value = self.bytes.try_get_i32()?;
        let limit = i32::try_from(Self::limit(self.bytes.len())).unwrap_or(i32::MAX);
        Ok(value.min(limit))
    }

    fn try_get_u8(&mut self) -> Result<u8, TryGetError> {
        if let Some((value, len)) = peek_unsigned_varint(&self.bytes) {
            let after = self.bytes.len() - len;
            let value = usize::try_from(value).unwrap_or(usize::MAX);
            if value > Self::limit(after) {
                return Err(TryGetError {
                    requested: value,
                    available: after,
                });
            }
        }
        self.bytes.try_get_u8()
    }
}

impl ByteBuf for Bounded {
    fn peek_bytes(&mut self, r: Range<usize>) -> Bytes {
        self.bytes.slice(r)
    }

    fn get_bytes(&mut self, size: usize) -> Bytes {
        self.bytes.split_to(size)
    }
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;
    use kafka_protocol::messages::{MetadataRequest, RequestHeader};
    use kafka_protocol::protocol::Encodable;

    use super::*;

    fn varint(value: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = value;
        while rest >= 0x80 {
            out.push((rest as u8) | 0x80);
            rest >>= 7;
        }
        out.push(rest as u8);
        out
    }

    #[test]
    fn i32s_above_the_bytes_left_are_lowered_to_the_limit() {
        let mut frame = vec![0x7f, 0xff, 0xff, 0xff];
        frame.extend_from_slice(&[0; 10]);
        let mut view = Bounded::new(Bytes::from(frame));
        assert_eq!(view.try_get_i32().ok(), Some(10 + SLACK as i32));
        assert_eq!(view.remaining(), 10);
    }

    #[test]
    fn i32s_within_the_limit_and_negative_ones_pass_unchanged() {
        let mut frame = Vec::new();
        for value in [-1, i32::MIN, 0, 7, SLACK as i32] {
            frame.put_i32(value);
        }
        let mut view = Bounded::new(Bytes::from(frame));
        let read: Vec<i32> = (0..5).filter_map(|_| view.try_get_i32().ok()).collect();
        assert_eq!(read, [-1, i32::MIN, 0, 7, SLACK as i32]);
    }

    #[test]
    fn peeking_reads_varints_as_kafka_protocol_does() {
        for value in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            0x1f_ffff,
            0x20_0000,
            u32::MAX,
        ] {
            let mut bytes = varint(value);
            let len = bytes.len();
            bytes.extend_from_slice(&[0x81, 0x01]);
            assert_eq!(peek_unsigned_varint(&bytes), Some((value, len)), "{value}");
        }
        // Five bytes at most, whatever the fifth says; bits past 32 dropped.
        assert_eq!(
            peek_unsigned_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Some((u32::MAX, 5))
        );
        assert_eq!(peek_unsigned_varint(&[0x80, 0x80]), None);
        assert_eq!(peek_unsigned_varint(&[]), None);
    }

    /// A varint of each length from two to five bytes (one byte never
    /// exceeds the slack) is refused once it exceeds the bytes after it by
    /// more than the slack, on its first byte and on every later one, and
    /// is read unchanged otherwise.
    #[test]
    fn varints_above_the_limit_are_refused_at_every_byte() {
        let after = 3;
        for value in [0x3fff, 0x1f_ffff, 0xfff_ffff, u32::MAX] {
            let mut frame = varint(value);
            let len = frame.len();
            frame.extend_from_slice(&[0; 3]);
            let refused = Bounded::new(Bytes::from(frame.clone())).try_get_u8();
            assert!(refused.is_err(), "{value}");
            for start in 1..len {
                let suffix = Bytes::from(frame[start..].to_vec());
                let suffix_value = peek_unsigned_varint(&suffix).map(|(v, _)| v);
                let read = Bounded::new(suffix).try_get_u8();
                let over = suffix_value.is_some_and(|v| v as usize > after + SLACK);
                assert_eq!(read.is_err(), over, "{value} from byte {start}");
            }
        }
        let within = (after + SLACK) as u32;
        let mut frame = varint(within);
        frame.extend_from_slice(&[0; 3]);
        let mut view = Bounded::new(Bytes::from(frame.clone()));
        let read: Vec<u8> = (0..frame.len())
            .filter_map(|_| view.try_get_u8().ok())
            .collect();
        assert_eq!(read, frame);
    }

    #[test]
    fn a_valid_request_decodes_the_same_through_the_view() {
        let mut header = RequestHeader::default();
        header.request_api_key = 3;
        header.request_api_version = 12;
        header.correlation_id = 42;
        header.client_id = Some(kafka_protocol::protocol::StrBytes::from_static_str("c"));
        let request = MetadataRequest::default().with_topics(Some(vec![
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default().with_name(
                Some(kafka_protocol::messages::TopicName::from(
                    kafka_protocol::protocol::StrBytes::from_static_str("t"),
                )),
            ),
        ]));
        let mut frame = bytes::BytesMut::new();
        header.encode(&mut frame, 2).expect("header encodes");
        request.encode(&mut frame, 12).expect("body encodes");
        let mut frame = frame.freeze();
        let mut view = Bounded::new(frame.clone());
        assert_eq!(
            RequestHeader::decode(&mut view, 2).ok(),
            Some(header.clone())
        );
        assert_eq!(
            MetadataRequest::decode(&mut view, 12).ok(),
            Some(request.clone())
        );
        assert_eq!(view.remaining(), 0);

        assert_eq!(decode::<RequestHeader>(&mut frame, 2), Ok(header));
        assert_eq!(decode::<MetadataRequest>(&mut frame, 12), Ok(request));
        assert!(frame.is_empty());
    }

    #[test]
    fn huge_array_counts_fail_instead_of_allocating() {
        // Metadata v1 topics (i32 count) and v12 topics (compact count).
        let mut classic = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(decode::<MetadataRequest>(&mut classic, 1).is_err());
        let mut compact = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
        assert!(decode::<MetadataRequest>(&mut compact, 12).is_err());
    }
}
