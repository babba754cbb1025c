//! What decoding one Avro datum may cost, checked before the decoder runs.
//!
//! The Avro decoder reserves memory for the item count an array or map
//! block declares before it reads the items, and recurses once per level of
//! nesting. A record crafted with a count of a billion, or a value of a
//! recursive schema nested a million deep, would make it ask for gigabytes
//! or overflow the stack: the process aborts, and no deserialization
//! handler gets the chance to skip the record. So each datum is first
//! walked with its writer schema, reading only lengths and counts, and is
//! refused if a block declares more items than its bytes could hold or the
//! nesting goes deeper than [`MAX_DEPTH`].

use std::collections::HashMap;

use apache_avro::schema::{Name, Namespace, ResolvedSchema};
use apache_avro::Schema;

/// How deep values may nest (records in records, items in arrays, ...).
pub(crate) const MAX_DEPTH: usize = 64;

/// How many items the blocks of one datum may declare beyond its bytes:
/// items of some types (nulls, empty records) take no bytes, so their count
/// cannot be bounded by the bytes alone.
const ZERO_WIDTH_ITEMS: u64 = 1 << 16;

/// The named types of a writer schema, for the references inside it.
#[derive(Default)]
pub(crate) struct Names(HashMap<Name, Schema>);

impl Names {
    /// The named types `schema` defines; none if its references do not
    /// resolve (then a datum that uses one is refused, as the decoder
    /// would refuse it).
    pub(crate) fn of(schema: &Schema) -> Self {
        let Ok(resolved) = ResolvedSchema::try_from(schema) else {
            return Self::default();
        };
        Self(
            resolved
                .get_names()
                .iter()
                .map(|(name, schema)| (name.clone(), (*schema).clone()))
                .collect(),
        )
    }
}

/// Checks that `body`, written with `schema` (whose named types are
/// `names`), stays within the bounds; says why not. Data that is malformed
/// before it passes a bound is left to the decoder, which reads it in the
/// same order and fails at the same place, with its own error.
pub(crate) fn check(schema: &Schema, names: &Names, body: &[u8]) -> Result<(), String> {
    let mut walker = Walker {
        names,
        rest: body,
        items_left: body.len() as u64 + ZERO_WIDTH_ITEMS,
    };
    match walker.walk(schema, &None, 0) {
        Ok(()) | Err(Stop::Malformed) => Ok(()),
        Err(Stop::Exceeded(reason)) => Err(reason),
    }
}

/// Why the walk stopped.
enum Stop {
    /// The data passes a bound.
    Exceeded(String),
    /// The data does not read as the schema says.
    Malformed,
}

struct Walker<'a> {
    names: &'a Names,
    rest: &'a [u8],
    /// How many more items blocks may declare in all: the decoder keeps a
    /// value per item, so the total, not each block's count, is what
    /// bounds its memory.
    items_left: u64,
}

impl Walker<'_> {
    fn walk(&mut self, schema: &Schema, namespace: &Namespace, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Exceeded(format!(
                "values nest deeper than {MAX_DEPTH} levels"
            )));
        }
        match schema {
            Schema::Null => Ok(()),
            Schema::Boolean => self.skip(1),
            Schema::Float => self.skip(4),
            Schema::Double => self.skip(8),
            Schema::Duration => self.skip(12),
            Schema::Int
            | Schema::Long
            | Schema::Enum(_)
            | Schema::Date
            | Schema::TimeMillis
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.long().map(drop),
            Schema::Bytes | Schema::String | Schema::BigDecimal | Schema::Uuid => {
                self.length_prefixed()
            }
            Schema::Fixed(fixed) => self.skip(fixed.size),
            Schema::Decimal(decimal) => self.walk(&decimal.inner, namespace, depth),
            Schema::Array(array) => {
                self.blocks(|walker| walker.walk(&array.items, namespace, depth + 1))
            }
            Schema::Map(map) => self.blocks(|walker| {
                walker.length_prefixed()?;
                walker.walk(&map.types, namespace, depth + 1)
            }),
            Schema::Union(union) => {
                // The decoder reads a union at the very end of the data as
                // its first branch, null: nothing more to check.
                if self.rest.is_empty() {
                    return Ok(());
                }
                let index = self.long()?;
                let branch = usize::try_from(index)
                    .ok()
                    .and_then(|index| union.variants().get(index))
                    .ok_or(Stop::Malformed)?;
                self.walk(branch, namespace, depth + 1)
            }
            Schema::Record(record) => {
                let namespace = record.name.fully_qualified_name(namespace).namespace;
                record
                    .fields
                    .iter()
                    .try_for_each(|field| self.walk(&field.schema, &namespace, depth + 1))
            }
            Schema::Ref { name } => {
                let name = name.fully_qualified_name(namespace);
                let schema = self.names.0.get(&name).ok_or(Stop::Malformed)?;
                self.walk(schema, &name.namespace, depth)
            }
        }
    }

    /// An array's or a map's blocks: a count (negative when followed by
    /// the block's size in bytes), that many items, until a count of 0.
    fn blocks(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), Stop>) -> Result<(), Stop> {
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                self.long()?;
            }
            let count = count.unsigned_abs();
            let left = self.rest.len() as u64;
            if count > left.max(ZERO_WIDTH_ITEMS) || count > self.items_left {
                return Err(Stop::Exceeded(format!(
                    "a block declares {count} items with {left} bytes left"
                )));
            }
            self.items_left -= count;
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    fn skip(&mut self, n: usize) -> Result<(), Stop> {
        let (_, rest) = self.rest.split_at_checked(n).ok_or(Stop::Malformed)?;
        self.rest = rest;
        Ok(())
    }

    fn length_prefixed(&mut self) -> Result<(), Stop> {
        let length = self.long()?;
        let length = usize::try_from(length).map_err(|_| Stop::Malformed)?;
        self.skip(length)
    }

    /// A zigzag varint of at most 10 bytes.
    fn long(&mut self) -> Result<i64, Stop> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let (&byte, rest) = self.rest.split_first().ok_or(Stop::Malformed)?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err(Stop::Malformed)
    }
}
