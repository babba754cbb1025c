//! Committed group offsets, kept in memory and in an append-only file.
//!
//! Each commit or group deletion is one checksummed record. On start the file
//! is replayed (a torn tail from a crash is dropped: it was never
//! acknowledged) and rewritten with only the live offsets.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::log::sync_dir;

const COMMIT: u8 = 1;
const DELETE_GROUP: u8 = 2;
/// Rewrite the file when it holds this many times more records than live offsets.
const COMPACT_RATIO: usize = 8;
const COMPACT_MIN_RECORDS: usize = 10_000;

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Committed {
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: Option<String>,
}

type GroupOffsets = BTreeMap<(String, i32), Committed>;

/// The offsets of every group.
#[derive(Debug)]
pub(crate) struct OffsetStore {
    path: PathBuf,
    file: File,
    groups: HashMap<String, GroupOffsets>,
    records_in_file: usize,
    sync_every_commit: bool,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads the fields of a record payload in order.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Option<i64> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(self.take(8)?);
        Some(i64::from_be_bytes(bytes))
    }
    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

fn encode_commit(
    out: &mut Vec<u8>,
    group: &str,
    topic: &str,
    partition: i32,
    committed: &Committed,
) {
    let mut payload = vec![COMMIT];
    put_str(&mut payload, group);
    put_str(&mut payload, topic);
    payload.extend_from_slice(&partition.to_be_bytes());
    payload.extend_from_slice(&committed.offset.to_be_bytes());
    payload.extend_from_slice(&committed.leader_epoch.to_be_bytes());
    match &committed.metadata {
        Some(metadata) => {
            payload.push(1);
            put_str(&mut payload, metadata);
        }
        None => payload.push(0),
    }
    frame(out, &payload);
}

fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_be_bytes());
    out.extend_from_slice(payload);
}

impl OffsetStore {
    /// Loads the offsets in `dir`, creating the file if needed.
    pub(crate) fn open(dir: &Path, sync_every_commit: bool) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join("offsets.log");
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut file) => {
                file.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let (groups, valid) = replay(&bytes);
        if valid < bytes.len() {
            warn!(file = %path.display(), dropped_bytes = bytes.len() - valid, "dropping torn tail of the offsets file");
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut store = Self {
            path,
            file,
            groups,
            records_in_file: 0,
            sync_every_commit,
        };
        store.compact()?;
        info!(groups = store.groups.len(), "loaded committed offsets");
        Ok(store)
    }

    /// Rewrites the file with only the live offsets.
    fn compact(&mut self) -> io::Result<()> {
        let mut out = Vec::new();
        let mut records = 0;
        for (group, offsets) in &self.groups {
            for ((topic, partition), committed) in offsets {
                encode_commit(&mut out, group, topic, *partition, committed);
                records += 1;
            }
        }
        let tmp = self.path.with_extension("tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(&out)?;
        file.sync_all()?;
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.records_in_file = records;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8], records: usize) -> io::Result<()> {
        self.file.write_all(bytes)?;
        if self.sync_every_commit {
            self.file.sync_data()?;
        }
        self.records_in_file += records;
        let live: usize = self.groups.values().map(BTreeMap::len).sum();
        if self.records_in_file > COMPACT_MIN_RECORDS.max(live * COMPACT_RATIO) {
            self.compact()?;
        }
        Ok(())
    }

    /// Stores offsets for a group; they are on disk (or at least in the page
    /// cache, per the flush policy) when this returns.
    pub(crate) fn commit(
        &mut self,
        group: &str,
        offsets: Vec<(String, i32, Committed)>,
    ) -> io::Result<()> {
        let mut out = Vec::new();
        for (topic, partition, committed) in &offsets {
            encode_commit(&mut out, group, topic, *partition, committed);
        }
        let records = offsets.len();
        let entry = self.groups.entry(group.to_owned()).or_default();
        for (topic, partition, committed) in offsets {
            entry.insert((topic, partition), committed);
        }
        self.write(&out, records)
    }

    /// Forgets every offset of a group.
    pub(crate) fn delete_group(&mut self, group: &str) -> io::Result<()> {
        if self.groups.remove(group).is_none() {
            return Ok(());
        }
        let mut payload = vec![DELETE_GROUP];
        put_str(&mut payload, group);
        let mut out = Vec::new();
        frame(&mut out, &payload);
        self.write(&out, 1)
    }

    /// The committed offset of one partition.
    pub(crate) fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&Committed> {
        self.groups.get(group)?.get(&(topic.to_owned(), partition))
    }

    /// Every committed offset of a group.
    pub(crate) fn group(&self, group: &str) -> impl Iterator<Item = (&str, i32, &Committed)> {
        self.groups
            .get(group)
            .into_iter()
            .flatten()
            .map(|((topic, partition), c)| (topic.as_str(), *partition, c))
    }

    /// Whether a group has committed offsets.
    pub(crate) fn has_group(&self, group: &str) -> bool {
        self.groups.get(group).is_some_and(|g| !g.is_empty())
    }

    /// Groups with committed offsets.
    pub(crate) fn group_ids(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .filter(|(_, o)| !o.is_empty())
            .map(|(g, _)| g.as_str())
    }

    /// Forces the file to disk.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Applies every intact record; returns the offsets and the length of the
/// intact prefix.
fn replay(bytes: &[u8]) -> (HashMap<String, GroupOffsets>, usize) {
    let mut groups: HashMap<String, GroupOffsets> = HashMap::new();
    let mut reader = Reader(bytes);
    let mut valid = 0;
    while let Some((len, crc)) = reader.u32().zip(reader.u32()) {
        let Some(payload) = reader
            .take(len as usize)
            .filter(|p| crc32c::crc32c(p) == crc)
        else {
            break;
        };
        let mut fields = Reader(payload);
        let applied = match fields.u8() {
            Some(COMMIT) => (|| {
                let group = fields.string()?;
                let topic = fields.string()?;
                let partition = fields.u32()? as i32;
                let offset = fields.i64()?;
                let leader_epoch = fields.u32()? as i32;
                let metadata = match fields.u8()? {
                    1 => Some(fields.string()?),
                    _ => None,
                };
                let committed = Committed {
                    offset,
                    leader_epoch,
                    metadata,
                };
                groups
                    .entry(group)
                    .or_default()
                    .insert((topic, partition), committed);
                Some(())
            })(),
            Some(DELETE_GROUP) => fields.string().map(|group| {
                groups.remove(&group);
            }),
            _ => None,
        };
        if applied.is_none() {
            break;
        }
        valid = bytes.len() - reader.0.len();
    }
    (groups, valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(offset: i64) -> Committed {
        Committed {
            offset,
            leader_epoch: -1,
            metadata: Some("m".to_owned()),
        }
    }

    #[test]
    fn offsets_survive_a_reopen_and_a_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = OffsetStore::open(dir.path(), false).expect("open");
        store
            .commit(
                "g",
                vec![("t".into(), 0, committed(5)), ("t".into(), 1, committed(7))],
            )
            .expect("commit");
        store
            .commit("g", vec![("t".into(), 0, committed(6))])
            .expect("commit");
        store
            .commit("h", vec![("t".into(), 0, committed(1))])
            .expect("commit");
        store.delete_group("h").expect("delete");
        drop(store);
        let path = dir.path().join("offsets.log");
        let mut bytes = fs::read(&path).expect("read");
        bytes.extend_from_slice(&[0, 0, 0, 40, 1, 2]);
        fs::write(&path, bytes).expect("write");

        let store = OffsetStore::open(dir.path(), false).expect("reopen");
        assert_eq!(store.get("g", "t", 0), Some(&committed(6)));
        assert_eq!(store.get("g", "t", 1), Some(&committed(7)));
        assert!(!store.has_group("h"));
        assert_eq!(store.group_ids().collect::<Vec<_>>(), vec!["g"]);
    }
}
