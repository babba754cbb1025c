//! JSON values through serde_json.

use std::marker::PhantomData;

use serde::{de::DeserializeOwned, Serialize};

use super::{non_null, Deserializer, SerdeError, Serializer};

/// Any serde-compatible type, encoded as JSON.
pub struct JsonSerde<T> {
    _type: PhantomData<fn() -> T>,
}

impl<T> JsonSerde<T> {
    /// A JSON serde for `T`.
    pub fn new() -> Self {
        Self { _type: PhantomData }
    }
}

impl<T> Default for JsonSerde<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for JsonSerde<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T: Serialize> Serializer<T> for JsonSerde<T> {
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Vec<u8>>, SerdeError> {
        serde_json::to_vec(data)
            .map(Some)
            .map_err(|source| SerdeError::Json {
                topic: topic.to_owned(),
                source,
            })
    }

    /// JSON text is never null bytes, whatever `T` is (even `None` is `null`).
    fn is_null(&self, _data: &T) -> bool {
        false
    }
}

impl<T: DeserializeOwned> Deserializer<T> for JsonSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        let bytes = non_null::<T>(topic, data)?;
        serde_json::from_slice(bytes).map_err(|source| SerdeError::Json {
            topic: topic.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Order {
        id: u64,
        item: String,
        amount: f64,
    }

    #[test]
    fn round_trips_a_struct() {
        let serde = JsonSerde::<Order>::new();
        let order = Order {
            id: 7,
            item: "tea".into(),
            amount: 2.5,
        };
        let bytes = serde.serialize("orders", &order).unwrap();
        assert_eq!(
            bytes.as_deref(),
            Some(br#"{"id":7,"item":"tea","amount":2.5}"#.as_slice())
        );
        assert_eq!(
            serde.deserialize("orders", bytes.as_deref()).unwrap(),
            order
        );
    }

    #[test]
    fn bad_json_is_an_error() {
        let serde = JsonSerde::<Order>::new();
        for bad in [&b"{"[..], b"[]", b"{\"id\":\"x\"}", b"\xff"] {
            assert!(matches!(
                serde.deserialize("orders", Some(bad)),
                Err(SerdeError::Json { .. })
            ));
        }
        assert!(matches!(
            serde.deserialize("orders", None),
            Err(SerdeError::Null { .. })
        ));
    }
}
