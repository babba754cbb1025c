//! The building blocks of the binary layouts the DSL writes to its
//! internal topics and stores (changes, suppression buffers, join and
//! foreign-key records): big-endian numbers and 4-byte length prefixes,
//! as Kafka Streams writes them, and the typed error for bytes that do not
//! follow their layout.

use streams_core::serde::SerdeError;

/// Bytes read from `topic` that do not follow their layout.
pub(crate) fn malformed(topic: &str, reason: &str) -> SerdeError {
    SerdeError::Malformed {
        topic: topic.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Appends `length` as a 4-byte big-endian length prefix; a length past
/// `i32::MAX` cannot be written and is an error naming `subject`.
pub(crate) fn write_length(
    topic: &str,
    subject: &str,
    length: usize,
    out: &mut Vec<u8>,
) -> Result<(), SerdeError> {
    let length = i32::try_from(length)
        .map_err(|_| malformed(topic, &format!("{subject} of {length} bytes is too long")))?;
    out.extend_from_slice(&length.to_be_bytes());
    Ok(())
}

/// Writes `field` as a 4-byte length and its bytes, or a length of -1 when
/// it is null: the layout [`ByteReader::prefixed`] reads.
pub(crate) fn write_prefixed(
    topic: &str,
    subject: &str,
    field: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), SerdeError> {
    match field {
        Some(bytes) => {
            write_length(topic, subject, bytes.len(), out)?;
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
    Ok(())
}

/// Reads a layout front to back (and fixed-size fields off its back).
/// Running out of bytes is [`SerdeError::Malformed`], naming the topic and
/// what was being read, never a panic.
pub(crate) struct ByteReader<'a> {
    topic: &'a str,
    /// What the bytes are, for errors: "subscription", "change", ...
    subject: &'static str,
    data: &'a [u8],
}

impl<'a> ByteReader<'a> {
    /// A reader of `data`, a `subject` read from `topic`.
    pub(crate) fn new(topic: &'a str, subject: &'static str, data: &'a [u8]) -> Self {
        Self {
            topic,
            subject,
            data,
        }
    }

    /// The error for a `subject` that breaks its layout as `reason` says.
    pub(crate) fn malformed(&self, reason: &str) -> SerdeError {
        malformed(self.topic, &format!("{} {reason}", self.subject))
    }

    fn cut_short(&self) -> SerdeError {
        self.malformed("cut short")
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes not read yet, all of them.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.data
    }

    /// The next `length` bytes.
    pub(crate) fn bytes(&mut self, length: usize) -> Result<&'a [u8], SerdeError> {
        let (bytes, rest) = self
            .data
            .split_at_checked(length)
            .ok_or_else(|| self.cut_short())?;
        self.data = rest;
        Ok(bytes)
    }

    /// The next `N` bytes.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], SerdeError> {
        let (array, rest) = self
            .data
            .split_first_chunk::<N>()
            .ok_or_else(|| self.cut_short())?;
        self.data = rest;
        Ok(*array)
    }

    /// The last `N` bytes, taken off the end.
    pub(crate) fn last_array<const N: usize>(&mut self) -> Result<[u8; N], SerdeError> {
        let (rest, array) = self
            .data
            .split_last_chunk::<N>()
            .ok_or_else(|| self.cut_short())?;
        self.data = rest;
        Ok(*array)
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Result<u8, SerdeError> {
        self.array().map(u8::from_be_bytes)
    }

    /// The next byte as a flag: 1 is true, 0 false, anything else
    /// malformed (a corrupt byte must not pass for either).
    pub(crate) fn flag(&mut self) -> Result<bool, SerdeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.malformed(&format!("has the flag byte {other}, not 0 or 1"))),
        }
    }

    /// The next 4-byte big-endian integer.
    pub(crate) fn i32(&mut self) -> Result<i32, SerdeError> {
        self.array().map(i32::from_be_bytes)
    }

    /// The next 8-byte big-endian integer.
    pub(crate) fn i64(&mut self) -> Result<i64, SerdeError> {
        self.array().map(i64::from_be_bytes)
    }

    /// The next 8-byte big-endian unsigned integer.
    pub(crate) fn u64(&mut self) -> Result<u64, SerdeError> {
        self.array().map(u64::from_be_bytes)
    }

    /// A 4-byte length prefix: -1 is null (`None`), any other negative
    /// length malformed.
    pub(crate) fn length(&mut self) -> Result<Option<usize>, SerdeError> {
        match self.i32()? {
            -1 => Ok(None),
            length => usize::try_from(length)
                .map(Some)
                .map_err(|_| self.malformed("has a negative length")),
        }
    }

    /// A field written as a length prefix and that many bytes; `None` for
    /// a null field.
    pub(crate) fn prefixed(&mut self) -> Result<Option<&'a [u8]>, SerdeError> {
        self.length()?.map(|length| self.bytes(length)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_fields_front_to_back_and_back_to_front() -> Result<(), SerdeError> {
        let mut data = vec![7];
        data.extend_from_slice(&(-2_i64).to_be_bytes());
        write_length("t", "field", 3, &mut data)?;
        data.extend_from_slice(b"abc");
        data.extend_from_slice(&(-1_i32).to_be_bytes());
        data.extend_from_slice(b"tail");
        data.extend_from_slice(&9_i32.to_be_bytes());

        let mut reader = ByteReader::new("t", "record", &data);
        assert_eq!(reader.last_array::<4>()?, 9_i32.to_be_bytes());
        assert_eq!(reader.u8()?, 7);
        assert_eq!(reader.i64()?, -2);
        assert_eq!(reader.prefixed()?, Some(&b"abc"[..]));
        assert_eq!(reader.prefixed()?, None);
        assert!(!reader.is_empty());
        assert_eq!(reader.rest(), b"tail");
        Ok(())
    }

    #[test]
    fn negative_lengths_other_than_null_are_malformed() {
        let data = (-2_i32).to_be_bytes();
        let result = ByteReader::new("t", "record", &data).length();
        assert!(
            matches!(&result, Err(SerdeError::Malformed { topic, reason })
                if topic == "t" && reason == "record has a negative length"),
            "{result:?}"
        );
    }

    proptest! {
        /// However the bytes end, every read either succeeds or reports
        /// the record cut short.
        #[test]
        fn short_input_is_an_error_not_a_panic(
            data in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            let mut reader = ByteReader::new("t", "record", &data);
            let read = (|| {
                reader.u8()?;
                reader.last_array::<2>()?;
                reader.prefixed()?;
                reader.u64()?;
                reader.i32()
            })();
            if let Err(error) = read {
                let is_malformed = matches!(error, SerdeError::Malformed { .. });
                prop_assert!(is_malformed);
            }
        }
    }
}
