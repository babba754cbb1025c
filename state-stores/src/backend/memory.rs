//! The in-memory backend: a hash map for point reads and writes, with a
//! sorted set of its keys for ordered scans.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::BytesBackend;
use crate::error::{Result, StoreError};
use crate::inline_bytes::InlineBytes;
use crate::key_value::{KeyValueIter, Rewrite};
use crate::range::{ByteRange, ScanOrder};

/// An in-memory ordered map; its contents are lost on restart (and on
/// [`close`](BytesBackend::close)) and rebuilt from the changelog.
#[derive(Debug)]
pub struct InMemoryBackend {
    name: String,
    /// `None` once closed.
    entries: Option<Entries>,
}

/// The entries of an open backend.
///
/// Point reads and writes, by far the most frequent calls, cost one hash
/// lookup instead of a tree descent comparing keys at every level; an
/// update of an existing key allocates nothing. Short keys and values are
/// held inline in the table's slots ([`InlineBytes`]), so a read touches
/// the slot and nothing else. The sorted key set is only touched when a
/// key comes or goes, and serves the ordered scans. Both always hold the
/// same keys.
///
/// Keys come from input data, so the map hashes with a per-process random
/// seed (as std's SipHash does) to keep crafted keys from colliding, but
/// with foldhash, several times faster than SipHash on short keys.
#[derive(Debug, Default)]
struct Entries {
    values: foldhash::HashMap<InlineBytes, InlineBytes>,
    order: BTreeSet<InlineBytes>,
}

impl Entries {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        if let Some(stored) = self.values.get_mut(key) {
            stored.set(value);
            return;
        }
        self.insert_new(key, value);
    }

    /// Adds `key`, which the map does not hold, with `value`.
    fn insert_new(&mut self, key: &[u8], value: &[u8]) {
        let key = InlineBytes::from(key);
        self.order.insert(key.clone());
        self.values.insert(key, InlineBytes::from(value));
    }

    fn delete(&mut self, key: &[u8]) {
        if self.values.remove(key).is_some() {
            self.order.remove(key);
        }
    }
}

impl InMemoryBackend {
    /// An empty map for the store called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            entries: Some(Entries::default()),
        }
    }

    fn entries(&self) -> Result<&Entries> {
        self.entries
            .as_ref()
            .ok_or_else(|| StoreError::Closed(self.name.clone()))
    }

    fn entries_mut(&mut self) -> Result<&mut Entries> {
        self.entries
            .as_mut()
            .ok_or_else(|| StoreError::Closed(self.name.clone()))
    }
}

impl BytesBackend for InMemoryBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn persistent(&self) -> bool {
        false
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .entries()?
            .values
            .get(key)
            .map(|value| value.as_slice().to_vec()))
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        read(self.entries()?.values.get(key).map(InlineBytes::as_slice));
        Ok(())
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.entries_mut()?.put(key, value);
        Ok(())
    }

    /// An existing key's value is read and rewritten in its slot: one
    /// hash lookup.
    fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
    ) -> Result<bool> {
        let entries = self.entries_mut()?;
        value.clear();
        if let Some(stored) = entries.values.get_mut(key) {
            let write = update(Some(stored.as_slice()), value);
            if write {
                stored.set(value);
            }
            return Ok(write);
        }
        let write = update(None, value);
        if write {
            entries.insert_new(key, value);
        }
        Ok(write)
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.entries_mut()?.delete(key);
        Ok(())
    }

    fn write_batch<'a, I>(&mut self, ops: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    {
        let entries = self.entries_mut()?;
        for (key, value) in ops {
            match value {
                Some(value) => entries.put(key, value),
                None => entries.delete(key),
            }
        }
        Ok(())
    }

    fn delete_range(&mut self, from: &[u8], to: &[u8]) -> Result<()> {
        let entries = self.entries_mut()?;
        if from >= to {
            return Ok(());
        }
        // Proportional to the number of removed entries.
        let doomed: Vec<InlineBytes> = entries
            .order
            .range::<[u8], _>((Bound::Included(from), Bound::Excluded(to)))
            .cloned()
            .collect();
        for key in doomed {
            entries.delete(key.as_slice());
        }
        Ok(())
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        let entries = match self.entries() {
            Ok(entries) => entries,
            Err(error) => return Box::new(std::iter::once(Err(error))),
        };
        // `BTreeSet::range` panics on inverted bounds, so rule them out first.
        if range.is_empty() {
            return Box::new(std::iter::empty());
        }
        let upper = range.end().map_or(Bound::Unbounded, Bound::Excluded);
        let keys = entries
            .order
            .range::<[u8], _>((Bound::Included(range.start()), upper));
        // Every key of the set has a value (see `Entries`).
        let owned = |key: &InlineBytes| {
            let value = entries.values.get(key.as_slice())?;
            Some(Ok((key.as_slice().to_vec(), value.as_slice().to_vec())))
        };
        match order {
            ScanOrder::Forward => Box::new(keys.filter_map(owned)),
            ScanOrder::Backward => Box::new(keys.rev().filter_map(owned)),
        }
    }

    fn approximate_len(&self) -> Result<u64> {
        Ok(self.entries()?.values.len() as u64)
    }

    fn flush(&mut self) -> Result<()> {
        self.entries().map(|_| ())
    }

    fn close(&mut self) -> Result<()> {
        self.entries = None;
        Ok(())
    }
}
