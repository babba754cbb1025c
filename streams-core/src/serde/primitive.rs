//! Serdes for strings, raw bytes, fixed-width numbers, unit and nullable values.
//!
//! Numbers use Kafka's encoding: fixed width, big-endian, so that data written
//! by Kafka's `IntegerSerializer` or `LongSerializer` reads back here.

use super::{non_null, null_error, Deserializer, SerdeError, Serializer, SharedSerde};

/// UTF-8 strings.
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerde;

impl Serializer<String> for StringSerde {
    fn serialize(&self, _topic: &str, data: &String) -> Result<Option<Vec<u8>>, SerdeError> {
        Ok(Some(data.as_bytes().to_vec()))
    }

    fn serialize_into(
        &self,
        _topic: &str,
        data: &String,
        out: &mut Vec<u8>,
    ) -> Result<bool, SerdeError> {
        out.extend_from_slice(data.as_bytes());
        Ok(true)
    }

    fn serialize_owned(&self, _topic: &str, data: String) -> Result<Option<Vec<u8>>, SerdeError> {
        Ok(Some(data.into_bytes()))
    }

    fn is_null(&self, _data: &String) -> bool {
        false
    }
}

impl Deserializer<String> for StringSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<String, SerdeError> {
        let bytes = non_null::<String>(topic, data)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|source| utf8_error(topic, source))
    }

    /// Keeps the bytes as the string's buffer.
    fn deserialize_owned(&self, topic: &str, data: Option<Vec<u8>>) -> Result<String, SerdeError> {
        let bytes = data.ok_or_else(|| null_error::<String>(topic))?;
        String::from_utf8(bytes).map_err(|error| utf8_error(topic, error.utf8_error()))
    }
}

fn utf8_error(topic: &str, source: std::str::Utf8Error) -> SerdeError {
    SerdeError::Utf8 {
        topic: topic.to_owned(),
        source,
    }
}

/// Raw bytes, passed through unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerde;

impl Serializer<Vec<u8>> for BytesSerde {
    fn serialize(&self, _topic: &str, data: &Vec<u8>) -> Result<Option<Vec<u8>>, SerdeError> {
        Ok(Some(data.clone()))
    }

    fn serialize_into(
        &self,
        _topic: &str,
        data: &Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<bool, SerdeError> {
        out.extend_from_slice(data);
        Ok(true)
    }

    fn serialize_owned(&self, _topic: &str, data: Vec<u8>) -> Result<Option<Vec<u8>>, SerdeError> {
        Ok(Some(data))
    }

    fn is_null(&self, _data: &Vec<u8>) -> bool {
        false
    }
}

impl Deserializer<Vec<u8>> for BytesSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Vec<u8>, SerdeError> {
        non_null::<Vec<u8>>(topic, data).map(<[u8]>::to_vec)
    }

    fn deserialize_owned(&self, topic: &str, data: Option<Vec<u8>>) -> Result<Vec<u8>, SerdeError> {
        data.ok_or_else(|| null_error::<Vec<u8>>(topic))
    }
}

/// The unit type, always encoded as null (Kafka's `VoidSerde`).
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitSerde;

impl Serializer<()> for UnitSerde {
    fn serialize(&self, _topic: &str, _data: &()) -> Result<Option<Vec<u8>>, SerdeError> {
        Ok(None)
    }

    fn is_null(&self, _data: &()) -> bool {
        true
    }
}

impl Deserializer<()> for UnitSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<(), SerdeError> {
        match data {
            None => Ok(()),
            Some(bytes) => Err(SerdeError::Size {
                topic: topic.to_owned(),
                type_name: "()",
                expected: 0,
                actual: bytes.len(),
            }),
        }
    }
}

macro_rules! fixed_width_serde {
    ($(#[$doc:meta] $name:ident => $ty:ty),* $(,)?) => {
        $(
            #[$doc]
            #[derive(Debug, Clone, Copy, Default)]
            pub struct $name;

            impl Serializer<$ty> for $name {
                fn serialize(&self, _topic: &str, data: &$ty) -> Result<Option<Vec<u8>>, SerdeError> {
                    Ok(Some(data.to_be_bytes().to_vec()))
                }

                fn serialize_into(
                    &self,
                    _topic: &str,
                    data: &$ty,
                    out: &mut Vec<u8>,
                ) -> Result<bool, SerdeError> {
                    out.extend_from_slice(&data.to_be_bytes());
                    Ok(true)
                }

                fn is_null(&self, _data: &$ty) -> bool {
                    false
                }
            }

            impl Deserializer<$ty> for $name {
                fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<$ty, SerdeError> {
                    let bytes = non_null::<$ty>(topic, data)?;
                    let array = bytes.try_into().map_err(|_| SerdeError::Size {
                        topic: topic.to_owned(),
                        type_name: stringify!($ty),
                        expected: std::mem::size_of::<$ty>(),
                        actual: bytes.len(),
                    })?;
                    Ok(<$ty>::from_be_bytes(array))
                }
            }
        )*
    };
}

fixed_width_serde! {
    /// 32-bit signed integers, 4 bytes big-endian (Kafka's `IntegerSerde`).
    I32Serde => i32,
    /// 64-bit signed integers, 8 bytes big-endian (Kafka's `LongSerde`).
    I64Serde => i64,
    /// 32-bit unsigned integers, 4 bytes big-endian.
    U32Serde => u32,
    /// 64-bit unsigned integers, 8 bytes big-endian.
    U64Serde => u64,
    /// 64-bit floats, 8 bytes big-endian IEEE 754 (Kafka's `DoubleSerde`).
    F64Serde => f64,
}

/// Makes any serde nullable: `None` is written and read as a null field.
pub struct OptionSerde<T> {
    inner: SharedSerde<T>,
}

impl<T> OptionSerde<T> {
    /// Wraps `inner`, which handles the non-null values.
    pub fn new(inner: SharedSerde<T>) -> Self {
        Self { inner }
    }
}

impl<T> Serializer<Option<T>> for OptionSerde<T> {
    fn serialize(&self, topic: &str, data: &Option<T>) -> Result<Option<Vec<u8>>, SerdeError> {
        match data {
            Some(value) => self.inner.serialize(topic, value),
            None => Ok(None),
        }
    }

    fn serialize_into(
        &self,
        topic: &str,
        data: &Option<T>,
        out: &mut Vec<u8>,
    ) -> Result<bool, SerdeError> {
        match data {
            Some(value) => self.inner.serialize_into(topic, value, out),
            None => Ok(false),
        }
    }

    fn serialize_owned(&self, topic: &str, data: Option<T>) -> Result<Option<Vec<u8>>, SerdeError> {
        data.map_or(Ok(None), |value| self.inner.serialize_owned(topic, value))
    }

    fn is_null(&self, data: &Option<T>) -> bool {
        data.as_ref().is_none_or(|value| self.inner.is_null(value))
    }
}

impl<T> Deserializer<Option<T>> for OptionSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Option<T>, SerdeError> {
        data.map(|bytes| self.inner.deserialize(topic, Some(bytes)))
            .transpose()
    }

    fn deserialize_owned(
        &self,
        topic: &str,
        data: Option<Vec<u8>>,
    ) -> Result<Option<T>, SerdeError> {
        data.map(|bytes| self.inner.deserialize_owned(topic, Some(bytes)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::DefaultSerde;
    use proptest::prelude::*;

    /// Round-trips `value` and checks that the buffer and owned-bytes
    /// paths agree with the plain ones.
    /// Every way in and out gives the same bytes and the same value back.
    fn round_trip<T: DefaultSerde + PartialEq + Clone + std::fmt::Debug>(value: T) {
        let serde = T::default_serde();
        let bytes = serde.serialize("t", &value).expect("serialize");
        let given = serde
            .serialize_owned("t", value.clone())
            .expect("serialize owned");
        assert_eq!(given, bytes);
        let back = serde
            .deserialize("t", bytes.as_deref())
            .expect("deserialize");
        assert_eq!(back, value);

        let mut buffer = b"prefix".to_vec();
        let written = serde
            .serialize_into("t", &value, &mut buffer)
            .expect("serialize into");
        let mut expected = b"prefix".to_vec();
        expected.extend(bytes.iter().flatten());
        assert_eq!((written, buffer), (bytes.is_some(), expected));
        let owned = serde
            .deserialize_owned("t", bytes)
            .expect("deserialize owned");
        assert_eq!(owned, value);
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in ".*") { round_trip(s) }
        #[test]
        fn bytes_round_trip(b in proptest::collection::vec(any::<u8>(), 0..64)) { round_trip(b) }
        #[test]
        fn i32_round_trip(v in any::<i32>()) { round_trip(v) }
        #[test]
        fn i64_round_trip(v in any::<i64>()) { round_trip(v) }
        #[test]
        fn u32_round_trip(v in any::<u32>()) { round_trip(v) }
        #[test]
        fn u64_round_trip(v in any::<u64>()) { round_trip(v) }
        #[test]
        fn f64_round_trip(v in any::<f64>().prop_filter("NaN != NaN", |v| !v.is_nan())) { round_trip(v) }
        #[test]
        fn option_round_trip(v in proptest::option::of(any::<i64>())) { round_trip(v) }
        #[test]
        fn optional_strings_round_trip(v in proptest::option::of(".*")) { round_trip(v) }
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = I32Serde.deserialize("t", Some(&b));
            let _ = I64Serde.deserialize("t", Some(&b));
            let _ = F64Serde.deserialize("t", Some(&b));
            let _ = StringSerde.deserialize("t", Some(&b));
        }
    }

    #[test]
    fn numbers_use_kafka_big_endian_layout() {
        assert_eq!(I32Serde.serialize("t", &1).unwrap(), Some(vec![0, 0, 0, 1]));
        assert_eq!(I64Serde.serialize("t", &-1).unwrap(), Some(vec![0xff; 8]));
        assert_eq!(
            F64Serde.serialize("t", &1.0).unwrap(),
            Some(vec![0x3f, 0xf0, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn unit_is_null() {
        round_trip(());
        assert_eq!(UnitSerde.serialize("t", &()).unwrap(), None);
        assert!(matches!(
            UnitSerde.deserialize("t", Some(b"x")),
            Err(SerdeError::Size { .. })
        ));
    }

    #[test]
    fn wrong_width_is_a_size_error() {
        let err = I64Serde
            .deserialize("orders", Some(&[1, 2, 3]))
            .unwrap_err();
        assert!(matches!(
            err,
            SerdeError::Size {
                expected: 8,
                actual: 3,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "expected 8 bytes for i64 on topic `orders`, got 3"
        );
    }

    #[test]
    fn null_is_rejected_by_non_nullable_types() {
        assert!(matches!(
            StringSerde.deserialize("t", None),
            Err(SerdeError::Null { .. })
        ));
        assert!(matches!(
            I32Serde.deserialize("t", None),
            Err(SerdeError::Null { .. })
        ));
        assert_eq!(
            Option::<String>::default_serde()
                .deserialize("t", None)
                .unwrap(),
            None
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(matches!(
            StringSerde.deserialize("t", Some(&[0xff, 0xfe])),
            Err(SerdeError::Utf8 { .. })
        ));
        assert!(matches!(
            StringSerde.deserialize_owned("t", Some(vec![b'a', 0xff])),
            Err(SerdeError::Utf8 { .. })
        ));
    }

    #[test]
    fn null_owned_bytes_are_rejected_by_non_nullable_types() {
        assert!(matches!(
            StringSerde.deserialize_owned("t", None),
            Err(SerdeError::Null { .. })
        ));
        assert!(matches!(
            BytesSerde.deserialize_owned("t", None),
            Err(SerdeError::Null { .. })
        ));
    }
}
