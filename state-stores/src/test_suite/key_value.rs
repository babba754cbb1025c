//! The key-value store suite.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{check_property, collect, recording_writer, tricky_key, BackendFactory, TestResult};
use crate::key_value::{BackedKeyValueStore, KeyValueStore, LoggingKeyValueStore};
use crate::state_store::StateStore;
use crate::StoreError;

fn store<F: BackendFactory>(
    factory: &F,
    name: &str,
) -> crate::Result<BackedKeyValueStore<F::Backend>> {
    Ok(BackedKeyValueStore::new(factory.open(name)?))
}

fn entries(pairs: &[(&[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// The value `get_with` lends for `key`, copied.
fn lent(store: &dyn KeyValueStore, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
    let mut value = None;
    store.get_with(key, &mut |bytes| value = bytes.map(<[u8]>::to_vec))?;
    Ok(value)
}

pub(crate) fn point_operations<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, "kv")?;
    assert_eq!(store.get(b"a")?, None);
    store.put(b"a", b"1")?;
    store.put(b"a", b"2")?;
    assert_eq!(store.get(b"a")?, Some(b"2".to_vec()));
    assert_eq!(store.put_if_absent(b"a", b"3")?, Some(b"2".to_vec()));
    assert_eq!(store.put_if_absent(b"b", b"3")?, None);
    assert_eq!(store.get(b"b")?, Some(b"3".to_vec()));
    assert_eq!(store.delete(b"a")?, Some(b"2".to_vec()));
    assert_eq!(store.delete(b"a")?, None);
    assert_eq!(store.get(b"a")?, None);
    store.put(b"", b"empty key")?;
    store.put(b"e", b"")?;
    assert_eq!(store.get(b"")?, Some(b"empty key".to_vec()));
    assert_eq!(store.get(b"e")?, Some(Vec::new()));
    for key in [&b""[..], b"a", b"b", b"e"] {
        assert_eq!(lent(&store, key)?, store.get(key)?);
    }
    Ok(())
}

pub(crate) fn scans_follow_key_byte_order<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, "kv")?;
    let keys: [&[u8]; 7] = [b"b", b"a", b"a\x00", b"a\xff", b"ab", b"\xff", b"c"];
    for key in keys {
        store.put(key, key)?;
    }
    let sorted = |keys: &[&[u8]]| entries(&keys.iter().map(|k| (*k, *k)).collect::<Vec<_>>());
    let ascending = sorted(&[b"a", b"a\x00", b"ab", b"a\xff", b"b", b"c", b"\xff"]);
    assert_eq!(collect(store.all())?, ascending);
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(collect(store.reverse_all())?, descending);

    assert_eq!(
        collect(store.range(Some(b"a\x00"), Some(b"b")))?,
        sorted(&[b"a\x00", b"ab", b"a\xff", b"b"])
    );
    assert_eq!(
        collect(store.reverse_range(Some(b"a\x00"), Some(b"b")))?,
        sorted(&[b"b", b"a\xff", b"ab", b"a\x00"])
    );
    assert_eq!(
        collect(store.range(None, Some(b"a\x00")))?,
        sorted(&[b"a", b"a\x00"])
    );
    assert_eq!(
        collect(store.range(Some(b"b"), None))?,
        sorted(&[b"b", b"c", b"\xff"])
    );
    assert_eq!(
        collect(store.reverse_range(Some(b"c"), None))?,
        sorted(&[b"\xff", b"c"])
    );
    assert_eq!(collect(store.range(Some(b"c"), Some(b"a")))?, Vec::new());
    assert_eq!(
        collect(store.prefix_scan(b"a"))?,
        sorted(&[b"a", b"a\x00", b"ab", b"a\xff"])
    );
    assert_eq!(collect(store.prefix_scan(b"\xff"))?, sorted(&[b"\xff"]));
    assert_eq!(collect(store.prefix_scan(b"d"))?, Vec::new());
    Ok(())
}

pub(crate) fn put_all_and_counts<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, "kv")?;
    store.put(b"gone", b"x")?;
    store.put_all(&[
        (b"k1".to_vec(), Some(b"v1".to_vec())),
        (b"k2".to_vec(), Some(b"v2".to_vec())),
        (b"gone".to_vec(), None),
        (b"k1".to_vec(), Some(b"v1'".to_vec())),
    ])?;
    assert_eq!(
        collect(store.all())?,
        entries(&[(b"k1", b"v1'"), (b"k2", b"v2")])
    );
    store.flush()?;
    let count = store.approximate_num_entries()?;
    if store.persistent() {
        // RocksDB only estimates (from memtable and SST statistics).
        assert!(count <= 4, "count {count}");
    } else {
        assert_eq!(count, 2);
    }
    Ok(())
}

pub(crate) fn closed_store_fails<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    let mut store = store(&factory, "kv")?;
    store.put(b"k", b"v")?;
    store.close()?;
    assert!(matches!(store.get(b"k"), Err(StoreError::Closed(name)) if name == "kv"));
    assert!(matches!(store.put(b"k", b"v"), Err(StoreError::Closed(_))));
    assert!(matches!(
        store.all().next(),
        Some(Err(StoreError::Closed(_)))
    ));
    Ok(())
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    PutIfAbsent(Vec<u8>, Vec<u8>),
    PutAll(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    /// An update that writes the value, or keeps what is held (`None`).
    Update(Vec<u8>, Option<Vec<u8>>),
}

fn op() -> impl Strategy<Value = Op> {
    let value = || proptest::collection::vec(any::<u8>(), 0..3);
    prop_oneof![
        4 => (tricky_key(), value()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => tricky_key().prop_map(Op::Delete),
        1 => (tricky_key(), value()).prop_map(|(k, v)| Op::PutIfAbsent(k, v)),
        1 => proptest::collection::vec((tricky_key(), proptest::option::of(value())), 0..4).prop_map(Op::PutAll),
        3 => (tricky_key(), proptest::option::of(value())).prop_map(|(k, v)| Op::Update(k, v)),
    ]
}

/// Random writes through the changelogging layer; the changelog restored
/// (in several batches) into an empty store reproduces the store, and both
/// match a `BTreeMap` model. Updates see the value the model holds, and
/// only the ones that write are logged.
pub(crate) fn restore_reproduces_the_store<F: BackendFactory>() -> TestResult {
    let factory = F::new()?;
    check_property(
        32,
        (proptest::collection::vec(op(), 0..40), 1..8usize),
        |(ops, batch)| {
            let (writer, sink, _) = recording_writer("kv");
            let mut original = LoggingKeyValueStore::new(Box::new(store(&factory, "kv")?), writer);
            let mut model = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Put(key, value) => {
                        original.put(&key, &value)?;
                        model.insert(key, value);
                    }
                    Op::Delete(key) => assert_eq!(original.delete(&key)?, model.remove(&key)),
                    Op::PutIfAbsent(key, value) => {
                        let expected = model.get(&key).cloned();
                        assert_eq!(original.put_if_absent(&key, &value)?, expected);
                        model.entry(key).or_insert(value);
                    }
                    Op::Update(key, value) => {
                        let mut seen = None;
                        let mut buffer = b"stale".to_vec();
                        let written = original.update(&key, &mut buffer, &mut |held, out| {
                            seen = Some(held.map(<[u8]>::to_vec));
                            value.as_ref().is_some_and(|value| {
                                out.extend_from_slice(value);
                                true
                            })
                        })?;
                        assert_eq!(seen, Some(model.get(&key).cloned()));
                        assert_eq!(written, value.is_some());
                        if let Some(value) = value {
                            assert_eq!(buffer, value);
                            model.insert(key, value);
                        }
                    }
                    Op::PutAll(entries) => {
                        original.put_all(&entries)?;
                        for (key, value) in entries {
                            match value {
                                Some(value) => model.insert(key, value),
                                None => model.remove(&key),
                            };
                        }
                    }
                }
            }
            let contents = collect(original.all())?;
            assert_eq!(contents, model.into_iter().collect::<Vec<_>>());

            let mut restored = store(&factory, "kv")?;
            for chunk in sink.records_of("kv")?.chunks(batch) {
                restored.restore_batch(chunk)?;
            }
            assert_eq!(collect(restored.all())?, contents);
            Ok(())
        },
    )
}
