//! The shape of a Produce request, walked before it is decoded.
//!
//! Produce is the one request that may be large (up to the broker's
//! `max_request_bytes`), and decoding sizes memory from the counts it
//! carries: each topic and partition entry takes tens of bytes in memory
//! for a few on the wire, each tagged field a map node. [`check`] walks the
//! request's length fields (skipping the bytes they count) and refuses one
//! whose counts overrun it, or that carries more than
//! [`MAX_PRODUCE_ENTRIES`] topic and partition entries and tagged fields in
//! all. Decoding what passes allocates a few megabytes at most, whatever
//! the frame's size.

use super::bounded::peek_unsigned_varint;

/// The most topic and partition entries and tagged fields one Produce
/// request may carry: far more than a producer sends (one entry per
/// partition it writes to), few enough that decoding them allocates a few
/// megabytes.
pub(crate) const MAX_PRODUCE_ENTRIES: usize = 100_000;

/// The first Produce version in the flexible encoding (compact lengths,
/// tagged fields).
const FLEXIBLE: i16 = 9;
/// The first version naming topics by id instead of by name.
const TOPIC_IDS: i16 = 13;

/// Checks that the body of a Produce request at `version` is whole, and
/// within [`MAX_PRODUCE_ENTRIES`].
pub(crate) fn check(body: &[u8], version: i16) -> Result<(), String> {
    let flexible = version >= FLEXIBLE;
    let mut walk = Walk {
        rest: body,
        entries: 0,
        flexible,
    };
    walk.string(true)?; // transactional id
    walk.skip(2 + 4)?; // acks, timeout
    for _ in 0..walk.count()? {
        walk.entry()?;
        if version >= TOPIC_IDS {
            walk.skip(16)?;
        } else {
            walk.string(false)?;
        }
        for _ in 0..walk.count()? {
            walk.entry()?;
            walk.skip(4)?; // partition index
            walk.bytes()?; // records
            walk.tagged_fields()?;
        }
        walk.tagged_fields()?;
    }
    walk.tagged_fields()
}

/// A walk through a Produce request's fields, counting its entries.
struct Walk<'a> {
    rest: &'a [u8],
    entries: usize,
    flexible: bool,
}

impl Walk<'_> {
    fn skip(&mut self, n: usize) -> Result<(), String> {
        self.rest = self
            .rest
            .get(n..)
            .ok_or_else(|| format!("{n} bytes claimed, {} left", self.rest.len()))?;
        Ok(())
    }

    fn i16(&mut self) -> Result<i16, String> {
        let bytes = self.rest.get(..2).ok_or("request cut short")?;
        let value = i16::from_be_bytes([bytes[0], bytes[1]]);
        self.skip(2)?;
        Ok(value)
    }

    fn i32(&mut self) -> Result<i32, String> {
        let bytes = self.rest.get(..4).ok_or("request cut short")?;
        let value = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        self.skip(4)?;
        Ok(value)
    }

    fn varint(&mut self) -> Result<usize, String> {
        let (value, len) = peek_unsigned_varint(self.rest).ok_or("request cut short")?;
        self.skip(len)?;
        usize::try_from(value).map_err(|_| "varint out of range".to_owned())
    }

    /// A compact length (the length plus one; 0 for null), or `None`.
    fn compact_length(&mut self) -> Result<Option<usize>, String> {
        Ok(self.varint()?.checked_sub(1))
    }

    /// Counts one more entry against the request's allowance.
    fn entry(&mut self) -> Result<(), String> {
        self.entries += 1;
        if self.entries > MAX_PRODUCE_ENTRIES {
            return Err(format!(
                "more than {MAX_PRODUCE_ENTRIES} topic and partition entries and tagged fields"
            ));
        }
        Ok(())
    }

    /// An array's element count, which cannot exceed the bytes left (every
    /// element takes at least one).
    fn count(&mut self) -> Result<usize, String> {
        let count = if self.flexible {
            self.compact_length()?.unwrap_or(0)
        } else {
            usize::try_from(self.i32()?).unwrap_or(0)
        };
        if count > self.rest.len() {
            return Err(format!(
                "{count} elements claimed, {} bytes left",
                self.rest.len()
            ));
        }
        Ok(count)
    }

    fn string(&mut self, nullable: bool) -> Result<(), String> {
        let length = if self.flexible {
            self.compact_length()?
        } else {
            usize::try_from(self.i16()?).ok()
        };
        match length {
            Some(length) => self.skip(length),
            None if nullable => Ok(()),
            None => Err("null string".to_owned()),
        }
    }

    fn bytes(&mut self) -> Result<(), String> {
        let length = if self.flexible {
            self.compact_length()?
        } else {
            usize::try_from(self.i32()?).ok()
        };
        length.map_or(Ok(()), |length| self.skip(length))
    }

    fn tagged_fields(&mut self) -> Result<(), String> {
        if !self.flexible {
            return Ok(());
        }
        for _ in 0..self.varint()? {
            self.entry()?;
            self.varint()?; // tag
            let size = self.varint()?;
            self.skip(size)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, TopicName};
    use kafka_protocol::protocol::{Encodable, StrBytes};

    use super::*;

    fn request(partitions: usize) -> ProduceRequest {
        let data = (0..partitions)
            .map(|i| {
                PartitionProduceData::default()
                    .with_index(i as i32)
                    .with_records(Some(Bytes::from_static(b"records")))
            })
            .collect();
        ProduceRequest::default().with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partition_data(data)])
    }

    fn encoded(request: &ProduceRequest, version: i16) -> Vec<u8> {
        let mut buf = BytesMut::new();
        request.encode(&mut buf, version).expect("encodes");
        buf.to_vec()
    }

    #[test]
    fn whole_requests_pass_in_both_encodings() {
        for version in [3, 8, 9, 11] {
            let body = encoded(&request(3), version);
            assert_eq!(check(&body, version), Ok(()), "v{version}");
            let cut = &body[..body.len() - 1];
            assert!(check(cut, version).is_err(), "v{version} cut short");
        }
    }

    /// A request with more entries than decoding should allocate for is
    /// refused before it is decoded.
    #[test]
    fn too_many_entries_are_refused() {
        for version in [3, 11] {
            let most = request(MAX_PRODUCE_ENTRIES - 1);
            assert_eq!(check(&encoded(&most, version), version), Ok(()));
            let more = request(MAX_PRODUCE_ENTRIES);
            let refused = check(&encoded(&more, version), version).expect_err("too many");
            assert!(refused.contains("more than"), "{refused}");
        }
    }

    #[test]
    fn counts_beyond_the_bytes_left_are_refused() {
        // v3: no transactional id, acks, timeout, then 2^31 - 1 topics.
        let mut body = vec![0xff, 0xff, 0, 1, 0, 0, 0, 0];
        body.extend_from_slice(&i32::MAX.to_be_bytes());
        body.extend_from_slice(&[0; 16]);
        let refused = check(&body, 3).expect_err("overrun");
        assert!(refused.contains("elements claimed"), "{refused}");
    }
}
