//! Avro values in the Confluent wire format.
//!
//! Every record is `0x00`, a 4-byte big-endian schema id, then the Avro
//! binary body. There is no schema registry client here: the serde is given
//! the schema it writes with (and its id), plus any older writer schemas it
//! should be able to read, keyed by id. Reading resolves the writer schema
//! against the serde's own (reader) schema, as Avro schema evolution allows.
//!
//! Data is checked against bounds before it is decoded (see `bounds`): a
//! record that would make the decoder reserve more memory than its bytes
//! justify, or recurse deeper than 64 levels, fails with
//! [`SerdeError::AvroBounds`] instead of aborting the process.

use std::collections::HashMap;
use std::marker::PhantomData;

use apache_avro::Schema;
use serde::{de::DeserializeOwned, Serialize};

use super::{non_null, Deserializer, SerdeError, Serializer};

mod bounds;

use bounds::Names;

const MAGIC_BYTE: u8 = 0;
const HEADER_LEN: usize = 5;

/// Values of `T` as Confluent-framed Avro.
pub struct AvroSerde<T> {
    schema: Schema,
    schema_id: u32,
    /// The named types of `schema`, for checking data written with it.
    names: Names,
    writer_schemas: HashMap<u32, (Schema, Names)>,
    _type: PhantomData<fn() -> T>,
}

impl<T> AvroSerde<T> {
    /// A serde that writes with `schema`, registered under `schema_id`.
    pub fn new(schema: Schema, schema_id: u32) -> Self {
        Self {
            names: Names::of(&schema),
            schema,
            schema_id,
            writer_schemas: HashMap::new(),
            _type: PhantomData,
        }
    }

    /// Parses `schema_json` and builds a serde for it.
    pub fn from_schema_json(schema_json: &str, schema_id: u32) -> Result<Self, SerdeError> {
        let schema = Schema::parse_str(schema_json).map_err(|source| SerdeError::Avro {
            topic: String::new(),
            source: Box::new(source),
        })?;
        Ok(Self::new(schema, schema_id))
    }

    /// Also reads records written with `schema` under `schema_id`.
    pub fn with_writer_schema(mut self, schema_id: u32, schema: Schema) -> Self {
        let names = Names::of(&schema);
        self.writer_schemas.insert(schema_id, (schema, names));
        self
    }

    /// The schema data under `schema_id` was written with, and its named
    /// types.
    fn writer_schema(&self, schema_id: u32) -> Option<(&Schema, &Names)> {
        if schema_id == self.schema_id {
            Some((&self.schema, &self.names))
        } else {
            self.writer_schemas
                .get(&schema_id)
                .map(|(schema, names)| (schema, names))
        }
    }
}

fn avro_error(topic: &str) -> impl FnOnce(apache_avro::Error) -> SerdeError + '_ {
    move |source| SerdeError::Avro {
        topic: topic.to_owned(),
        source: Box::new(source),
    }
}

impl<T: Serialize> Serializer<T> for AvroSerde<T> {
    fn serialize(&self, topic: &str, data: &T) -> Result<Option<Vec<u8>>, SerdeError> {
        let value = apache_avro::to_value(data)
            .and_then(|value| value.resolve(&self.schema))
            .map_err(avro_error(topic))?;
        let body = apache_avro::to_avro_datum(&self.schema, value).map_err(avro_error(topic))?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
        bytes.push(MAGIC_BYTE);
        bytes.extend_from_slice(&self.schema_id.to_be_bytes());
        bytes.extend_from_slice(&body);
        Ok(Some(bytes))
    }

    /// Framed Avro data is never null bytes, whatever `T` is.
    fn is_null(&self, _data: &T) -> bool {
        false
    }
}

impl<T: DeserializeOwned> Deserializer<T> for AvroSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        let bytes = non_null::<T>(topic, data)?;
        let framing = |reason: &str| SerdeError::AvroFraming {
            topic: topic.to_owned(),
            reason: reason.to_owned(),
        };
        let (header, mut body) = bytes
            .split_first_chunk::<HEADER_LEN>()
            .ok_or_else(|| framing("shorter than the 5-byte header"))?;
        let [magic, id @ ..] = *header;
        if magic != MAGIC_BYTE {
            return Err(framing(&format!("magic byte is {magic}, expected 0")));
        }
        let schema_id = u32::from_be_bytes(id);
        let (writer, names) =
            self.writer_schema(schema_id)
                .ok_or_else(|| SerdeError::UnknownSchemaId {
                    topic: topic.to_owned(),
                    schema_id,
                })?;
        bounds::check(writer, names, body).map_err(|reason| SerdeError::AvroBounds {
            topic: topic.to_owned(),
            reason,
        })?;
        let value = apache_avro::from_avro_datum(writer, &mut body, Some(&self.schema))
            .map_err(avro_error(topic))?;
        apache_avro::from_value(&value).map_err(avro_error(topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const SCHEMA_V1: &str = r#"{"type":"record","name":"User","fields":[
        {"name":"name","type":"string"},
        {"name":"age","type":"int"}]}"#;
    const SCHEMA_V2: &str = r#"{"type":"record","name":"User","fields":[
        {"name":"name","type":"string"},
        {"name":"age","type":"int"},
        {"name":"email","type":["null","string"],"default":null}]}"#;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        name: String,
        age: i32,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct UserV2 {
        name: String,
        age: i32,
        email: Option<String>,
    }

    #[test]
    fn writes_the_confluent_wire_format() {
        let serde = AvroSerde::<User>::from_schema_json(SCHEMA_V1, 42).unwrap();
        let user = User {
            name: "ada".into(),
            age: 36,
        };
        let bytes = serde.serialize("users", &user).unwrap().unwrap();
        // magic, id 42, then "ada" (zigzag length 3 = 6) and 36 (zigzag 72).
        assert_eq!(bytes, vec![0, 0, 0, 0, 42, 6, b'a', b'd', b'a', 72]);
        assert_eq!(serde.deserialize("users", Some(&bytes)).unwrap(), user);
    }

    #[test]
    fn reads_older_writer_schemas_by_id() {
        let v1 = AvroSerde::<User>::from_schema_json(SCHEMA_V1, 1).unwrap();
        let old = v1
            .serialize(
                "users",
                &User {
                    name: "bo".into(),
                    age: 5,
                },
            )
            .unwrap();
        let v2 = AvroSerde::<UserV2>::from_schema_json(SCHEMA_V2, 2)
            .unwrap()
            .with_writer_schema(1, Schema::parse_str(SCHEMA_V1).unwrap());
        assert_eq!(
            v2.deserialize("users", old.as_deref()).unwrap(),
            UserV2 {
                name: "bo".into(),
                age: 5,
                email: None
            }
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let serde = AvroSerde::<User>::from_schema_json(SCHEMA_V1, 1).unwrap();
        assert!(matches!(
            serde.deserialize("t", Some(&[0, 0, 0])),
            Err(SerdeError::AvroFraming { .. })
        ));
        assert!(matches!(
            serde.deserialize("t", Some(&[1, 0, 0, 0, 1, 2])),
            Err(SerdeError::AvroFraming { .. })
        ));
        assert!(matches!(
            serde.deserialize("t", Some(&[0, 0, 0, 0, 9, 2])),
            Err(SerdeError::UnknownSchemaId { schema_id: 9, .. })
        ));
        // A truncated body: a string length of 50 with no bytes behind it.
        assert!(matches!(
            serde.deserialize("t", Some(&[0, 0, 0, 0, 1, 100])),
            Err(SerdeError::Avro { .. })
        ));
        assert!(matches!(
            serde.deserialize("t", None),
            Err(SerdeError::Null { .. })
        ));
    }

    /// A map block declaring 536,870,912 entries in a few bytes is refused
    /// before the decoder reserves memory for them (it used to abort the
    /// process); a genuine map of the same schema reads.
    #[test]
    fn a_block_declaring_more_items_than_its_bytes_is_refused() {
        let serde = AvroSerde::<HashMap<String, String>>::from_schema_json(
            r#"{"type":"map","values":"string"}"#,
            1,
        )
        .unwrap();
        let hostile = [0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x04];
        assert!(matches!(
            serde.deserialize("t", Some(&hostile)),
            Err(SerdeError::AvroBounds { .. })
        ));
        let map = HashMap::from([("a".to_owned(), "b".to_owned())]);
        let bytes = serde.serialize("t", &map).unwrap();
        assert_eq!(serde.deserialize("t", bytes.as_deref()).unwrap(), map);
    }

    /// Many small blocks of items that take no bytes (nulls) cannot add
    /// up to more items than the datum's bytes plus a fixed allowance,
    /// however few each declares.
    #[test]
    fn blocks_of_zero_width_items_are_bounded_in_all() {
        let serde = AvroSerde::<Vec<()>>::from_schema_json(r#"{"type":"array","items":"null"}"#, 1)
            .unwrap();
        // 1,000 blocks of 65,536 nulls each (count 65,536 is the varint
        // 0x80 0x80 0x08), then the end.
        let mut hostile = vec![0, 0, 0, 0, 1];
        for _ in 0..1000 {
            hostile.extend_from_slice(&[0x80, 0x80, 0x08]);
        }
        hostile.push(0);
        assert!(matches!(
            serde.deserialize("t", Some(&hostile)),
            Err(SerdeError::AvroBounds { .. })
        ));
        let nulls = vec![(); 100];
        let bytes = serde.serialize("t", &nulls).unwrap();
        assert_eq!(serde.deserialize("t", bytes.as_deref()).unwrap(), nulls);
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Node {
        next: Option<Box<Node>>,
    }

    const LIST: &str = r#"{"type":"record","name":"Node","fields":[
        {"name":"next","type":["null","Node"]}]}"#;

    /// A value of a recursive schema nested deeper than the bound is
    /// refused before the decoder recurses into it (a million levels used
    /// to overflow the stack); a shallow one reads.
    #[test]
    fn values_nested_too_deep_are_refused() {
        let serde = AvroSerde::<Node>::from_schema_json(LIST, 1).unwrap();
        let nested = |levels: usize| {
            let mut bytes = vec![0, 0, 0, 0, 1];
            bytes.extend(std::iter::repeat_n(2, levels));
            bytes.push(0);
            bytes
        };
        assert!(matches!(
            serde.deserialize("t", Some(&nested(1_000_000))),
            Err(SerdeError::AvroBounds { .. })
        ));
        let three = Node {
            next: Some(Box::new(Node {
                next: Some(Box::new(Node { next: None })),
            })),
        };
        assert_eq!(serde.serialize("t", &three).unwrap(), Some(nested(2)));
        assert_eq!(serde.deserialize("t", Some(&nested(2))).unwrap(), three);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32)) {
            let serde = AvroSerde::<User>::from_schema_json(SCHEMA_V1, 1).unwrap();
            let mut bytes = vec![0, 0, 0, 0, 1];
            bytes.extend(body);
            let _ = serde.deserialize("t", Some(&bytes));
        }
    }
}
