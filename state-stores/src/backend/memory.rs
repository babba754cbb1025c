//! The in-memory backend: a `BTreeMap`.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::BytesBackend;
use crate::error::{Result, StoreError};
use crate::key_value::KeyValueIter;
use crate::range::{ByteRange, ScanOrder};

/// An in-memory ordered map; its contents are lost on restart (and on
/// [`close`](BytesBackend::close)) and rebuilt from the changelog.
#[derive(Debug)]
pub struct InMemoryBackend {
    name: String,
    /// `None` once closed.
    map: Option<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl InMemoryBackend {
    /// An empty map for the store called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            map: Some(BTreeMap::new()),
        }
    }

    fn map(&self) -> Result<&BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map
            .as_ref()
            .ok_or_else(|| StoreError::Closed(self.name.clone()))
    }

    fn map_mut(&mut self) -> Result<&mut BTreeMap<Vec<u8>, Vec<u8>>> {
        self.map
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
        Ok(self.map()?.get(key).cloned())
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.map_mut()?.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.map_mut()?.remove(key);
        Ok(())
    }

    fn write_batch<'a, I>(&mut self, ops: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    {
        let map = self.map_mut()?;
        for (key, value) in ops {
            match value {
                Some(value) => map.insert(key.to_vec(), value.to_vec()),
                None => map.remove(key),
            };
        }
        Ok(())
    }

    fn delete_range(&mut self, from: &[u8], to: &[u8]) -> Result<()> {
        let map = self.map_mut()?;
        if from >= to {
            return Ok(());
        }
        // Proportional to the number of removed entries, unlike
        // `split_off` + `append`, which rebuilds the surviving part.
        let doomed: Vec<Vec<u8>> = map
            .range::<[u8], _>((Bound::Included(from), Bound::Excluded(to)))
            .map(|(key, _)| key.clone())
            .collect();
        for key in doomed {
            map.remove(&key);
        }
        Ok(())
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        let map = match self.map() {
            Ok(map) => map,
            Err(error) => return Box::new(std::iter::once(Err(error))),
        };
        // `BTreeMap::range` panics on inverted bounds, so rule them out first.
        if range.is_empty() {
            return Box::new(std::iter::empty());
        }
        let upper = range.end().map_or(Bound::Unbounded, Bound::Excluded);
        let entries = map.range::<[u8], _>((Bound::Included(range.start()), upper));
        let owned = |(key, value): (&Vec<u8>, &Vec<u8>)| Ok((key.clone(), value.clone()));
        match order {
            ScanOrder::Forward => Box::new(entries.map(owned)),
            ScanOrder::Backward => Box::new(entries.rev().map(owned)),
        }
    }

    fn approximate_len(&self) -> Result<u64> {
        Ok(self.map()?.len() as u64)
    }

    fn flush(&mut self) -> Result<()> {
        self.map().map(|_| ())
    }

    fn close(&mut self) -> Result<()> {
        self.map = None;
        Ok(())
    }
}
