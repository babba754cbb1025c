//! Serializers and deserializers: how keys and values become bytes and back.
//!
//! A [`Serde<T>`] is a [`Serializer<T>`] plus a [`Deserializer<T>`]. Kafka
//! records may carry a null key or value, so serializers may answer `None`
//! (null) and deserializers are handed `Option<&[u8]>`. Whether a type can be
//! null is part of its type: [`OptionSerde`] maps `None` to null, while the
//! plain serdes reject null input with [`SerdeError::Null`]. Types with an
//! obvious encoding implement [`DefaultSerde`], so the DSL finds their serde
//! without it being named.

mod avro;
mod json;
mod primitive;

use std::sync::Arc;

pub use avro::AvroSerde;
pub use json::JsonSerde;
pub use primitive::{
    BytesSerde, F64Serde, I32Serde, I64Serde, OptionSerde, StringSerde, U32Serde, U64Serde,
    UnitSerde,
};

/// Why bytes could not be turned into a value, or a value into bytes.
#[derive(Debug, thiserror::Error)]
pub enum SerdeError {
    /// The data was null but the type has no null value.
    #[error("null data for non-nullable type {type_name} on topic `{topic}`")]
    Null {
        /// The topic the data came from.
        topic: String,
        /// The Rust type that was expected.
        type_name: &'static str,
    },
    /// A fixed-width type got the wrong number of bytes.
    #[error("expected {expected} bytes for {type_name} on topic `{topic}`, got {actual}")]
    Size {
        /// The topic the data came from.
        topic: String,
        /// The Rust type that was expected.
        type_name: &'static str,
        /// Bytes the type needs.
        expected: usize,
        /// Bytes that arrived.
        actual: usize,
    },
    /// The bytes are not valid UTF-8.
    #[error("invalid UTF-8 on topic `{topic}`: {source}")]
    Utf8 {
        /// The topic the data came from.
        topic: String,
        /// The decoding error.
        source: std::str::Utf8Error,
    },
    /// JSON encoding or decoding failed.
    #[error("JSON error on topic `{topic}`: {source}")]
    Json {
        /// The topic the data came from.
        topic: String,
        /// The serde_json error.
        source: serde_json::Error,
    },
    /// The bytes do not start with the Confluent wire-format header.
    #[error("not Confluent Avro on topic `{topic}`: {reason}")]
    AvroFraming {
        /// The topic the data came from.
        topic: String,
        /// What is wrong with the header.
        reason: String,
    },
    /// The Avro data would cost more to decode than a record may: a block
    /// declares more items than its bytes could hold, or values nest too
    /// deep (see `AvroSerde`).
    #[error("Avro data on topic `{topic}` refused before decoding: {reason}")]
    AvroBounds {
        /// The topic the data came from.
        topic: String,
        /// Which bound it passes.
        reason: String,
    },
    /// The record names a schema id this serde has no schema for.
    #[error("unknown Avro schema id {schema_id} on topic `{topic}`")]
    UnknownSchemaId {
        /// The topic the data came from.
        topic: String,
        /// The schema id in the record header.
        schema_id: u32,
    },
    /// The bytes do not follow the layout the serde writes.
    #[error("malformed data on topic `{topic}`: {reason}")]
    Malformed {
        /// The topic the data came from.
        topic: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Avro encoding, decoding or schema resolution failed.
    #[error("Avro error on topic `{topic}`: {source}")]
    Avro {
        /// The topic the data came from.
        topic: String,
        /// The apache-avro error.
        source: Box<apache_avro::Error>,
    },
}

/// Turns values of `T` into bytes; `None` means a null record field.
///
/// Only [`serialize`](Self::serialize) is required.
/// [`serialize_into`](Self::serialize_into) lets the engine reuse one buffer
/// for many values (store keys, say); serializers that can write into a
/// buffer directly override it to allocate nothing.
/// [`serialize_owned`](Self::serialize_owned) is what sinks call with the
/// values of a record they own; serializers whose bytes are the value's own
/// (strings, byte arrays) override it to hand them over without a copy.
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// Serializes `data` for `topic`.
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Vec<u8>>, SerdeError>;

    /// Serializes `data`, which the caller gives away; the same bytes as
    /// [`serialize`](Self::serialize), which it calls unless overridden.
    fn serialize_owned(&self, topic: &str, data: T) -> Result<Option<Vec<u8>>, SerdeError>
    where
        T: Sized,
    {
        self.serialize(topic, &data)
    }

    /// Appends the bytes of `data` to `out` and returns `true`, or returns
    /// `false` for null, leaving `out` as it was. The same bytes as
    /// [`serialize`](Self::serialize), which it calls unless overridden.
    fn serialize_into(&self, topic: &str, data: &T, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        match self.serialize(topic, data)? {
            Some(bytes) => {
                out.extend_from_slice(&bytes);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Whether `data` is Kafka's null: a value this serializer writes as no
    /// bytes at all (a `None` of [`OptionSerde`], the unit of [`UnitSerde`]).
    /// The DSL's operators skip null keys and values where Kafka Streams
    /// skips a Java `null`. Unless overridden, serializes `data` to find
    /// out; serializers that never write null override it to answer `false`
    /// at once.
    fn is_null(&self, data: &T) -> bool {
        matches!(self.serialize("", data), Ok(None))
    }

    /// For keys that Kafka partitions by a part of them, that part's
    /// serializer. A windowed key is partitioned by its inner key alone
    /// (Kafka's `WindowedStreamPartitioner`), so every window of a key
    /// lands in the key's partition; the DSL's sinks partition so by the
    /// part this returns. `None` (the default): by the whole key.
    fn partition_key(&self) -> Option<PartitionKey<T>> {
        None
    }
}

/// Serializes the part of a key that decides its partition (see
/// [`Serializer::partition_key`]).
pub type PartitionKey<T> =
    Arc<dyn Fn(&str, &T) -> Result<Option<Vec<u8>>, SerdeError> + Send + Sync>;

/// Turns bytes (or null, as `None`) back into values of `T`.
///
/// Only [`deserialize`](Self::deserialize) is required.
/// [`deserialize_owned`](Self::deserialize_owned) is what sources call with
/// the bytes of a record they own; deserializers whose values can keep the
/// bytes (strings, byte arrays) override it to take them without a copy.
pub trait Deserializer<T>: Send + Sync {
    /// Deserializes `data` read from `topic`.
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError>;

    /// Deserializes bytes the caller gives away; the same value as
    /// [`deserialize`](Self::deserialize), which it calls unless overridden.
    fn deserialize_owned(&self, topic: &str, data: Option<Vec<u8>>) -> Result<T, SerdeError> {
        self.deserialize(topic, data.as_deref())
    }
}

/// A serializer and deserializer for the same type.
pub trait Serde<T>: Serializer<T> + Deserializer<T> {}

impl<T, S: Serializer<T> + Deserializer<T>> Serde<T> for S {}

/// A shared, type-erased serde, as topologies and stores hold them.
pub type SharedSerde<T> = Arc<dyn Serde<T>>;

/// Types whose serde is implied by the type itself.
///
/// Implemented for `String`, `Vec<u8>`, `i32`, `i64`, `u32`, `u64`, `f64`,
/// `()` and `Option<T>` of those. Types encoded as JSON or Avro name their
/// serde explicitly.
pub trait DefaultSerde: Sized + 'static {
    /// The serde used when none is given.
    fn default_serde() -> SharedSerde<Self>;
}

macro_rules! default_serde {
    ($($ty:ty => $serde:expr),* $(,)?) => {
        $(impl DefaultSerde for $ty {
            fn default_serde() -> SharedSerde<Self> {
                Arc::new($serde)
            }
        })*
    };
}

default_serde! {
    String => StringSerde,
    Vec<u8> => BytesSerde,
    i32 => I32Serde,
    i64 => I64Serde,
    u32 => U32Serde,
    u64 => U64Serde,
    f64 => F64Serde,
    () => UnitSerde,
}

impl<T: DefaultSerde> DefaultSerde for Option<T> {
    fn default_serde() -> SharedSerde<Self> {
        Arc::new(OptionSerde::new(T::default_serde()))
    }
}

/// Unwraps non-null data or reports which type could not be null.
pub(crate) fn non_null<'a, T>(topic: &str, data: Option<&'a [u8]>) -> Result<&'a [u8], SerdeError> {
    data.ok_or_else(|| null_error::<T>(topic))
}

/// Null data for `T`, which has no null value.
pub(crate) fn null_error<T>(topic: &str) -> SerdeError {
    SerdeError::Null {
        topic: topic.to_owned(),
        type_name: std::any::type_name::<T>(),
    }
}

impl<T: ?Sized, S: Serializer<T> + ?Sized> Serializer<T> for Arc<S> {
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Vec<u8>>, SerdeError> {
        (**self).serialize(topic, data)
    }

    fn serialize_into(&self, topic: &str, data: &T, out: &mut Vec<u8>) -> Result<bool, SerdeError> {
        (**self).serialize_into(topic, data, out)
    }

    fn serialize_owned(&self, topic: &str, data: T) -> Result<Option<Vec<u8>>, SerdeError>
    where
        T: Sized,
    {
        (**self).serialize_owned(topic, data)
    }

    fn is_null(&self, data: &T) -> bool {
        (**self).is_null(data)
    }

    fn partition_key(&self) -> Option<PartitionKey<T>> {
        (**self).partition_key()
    }
}

impl<T, S: Deserializer<T> + ?Sized> Deserializer<T> for Arc<S> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        (**self).deserialize(topic, data)
    }

    fn deserialize_owned(&self, topic: &str, data: Option<Vec<u8>>) -> Result<T, SerdeError> {
        (**self).deserialize_owned(topic, data)
    }
}
