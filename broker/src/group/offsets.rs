//! Committed group offsets, kept in memory and in an append-only file.
//!
//! Each commit, group deletion or topic deletion is one checksummed record,
//! written before the in-memory offsets change, so that readers never see
//! an offset the file does not hold. On start the file is replayed and rewritten with only
//! the live offsets. A torn tail from a crash is dropped (it was never
//! acknowledged); a bad record with more data after it is corruption, and
//! the broker refuses to start rather than rewrite the file without the
//! offsets that follow it.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing::{error, info, warn};

use crate::codec::{frame, put_str, Reader};
use crate::error::{BrokerError, Result};
use crate::log::sync_dir;

const COMMIT: u8 = 1;
const DELETE_GROUP: u8 = 2;
const DELETE_TOPIC: u8 = 3;
/// Rewrite the file when it holds this many times more records than live offsets.
const COMPACT_RATIO: usize = 8;
const COMPACT_MIN_RECORDS: usize = 10_000;
/// The longest group id or topic name a record holds: Kafka's limit for
/// protocol strings, which [`OffsetStore::commit`] enforces.
pub(crate) const MAX_NAME_BYTES: usize = i16::MAX as usize;
/// The longest commit metadata a record holds, as in Kafka's default
/// `offset.metadata.max.bytes`.
pub(crate) const MAX_METADATA_BYTES: usize = 4096;
/// The largest payload this broker writes: a commit with the longest names
/// and metadata. A record claiming more is corrupt, not torn.
const MAX_RECORD_BYTES: usize =
    1 + (4 + MAX_NAME_BYTES) * 2 + 4 + 8 + 4 + 1 + 4 + MAX_METADATA_BYTES;

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Committed {
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: Option<String>,
}

impl Committed {
    /// Appends the offset, leader epoch and metadata, as the broker's
    /// state files hold them.
    pub(crate) fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.leader_epoch.to_be_bytes());
        match &self.metadata {
            Some(metadata) => {
                out.push(1);
                put_str(out, metadata);
            }
            None => out.push(0),
        }
    }

    /// Reads what [`put`](Self::put) wrote.
    pub(crate) fn read(fields: &mut Reader<'_>) -> Option<Self> {
        let offset = fields.i64()?;
        let leader_epoch = fields.u32()? as i32;
        let metadata = match fields.u8()? {
            0 => None,
            1 => Some(fields.string()?),
            _ => return None,
        };
        Some(Self {
            offset,
            leader_epoch,
            metadata,
        })
    }
}

type GroupOffsets = BTreeMap<(String, i32), Committed>;

/// The offsets of every group.
#[derive(Debug)]
pub(crate) struct OffsetStore {
    path: PathBuf,
    file: File,
    /// Bytes of whole records in the file.
    len: u64,
    /// A failed write may have left part of a record after `len` that could
    /// not be cut off yet; it must be before anything else is appended.
    torn: bool,
    groups: HashMap<String, GroupOffsets>,
    records_in_file: usize,
    sync_every_commit: bool,
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
    committed.put(&mut payload);
    frame(out, &payload);
}

impl OffsetStore {
    /// Loads the offsets in `dir`, creating the file if needed. Fails with
    /// [`BrokerError::Corrupt`], leaving the file as it is, if a record
    /// other than the last is damaged.
    pub(crate) fn open(dir: &Path, sync_every_commit: bool) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| BrokerError::storage(dir, e))?;
        let path = dir.join("offsets.log");
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(BrokerError::storage(&path, e)),
        };
        let (groups, valid) = replay(&bytes).map_err(|reason| BrokerError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        if valid < bytes.len() {
            warn!(file = %path.display(), dropped_bytes = bytes.len() - valid, "dropping torn tail of the offsets file");
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| BrokerError::storage(&path, e))?;
        let mut store = Self {
            path,
            file,
            len: 0,
            torn: false,
            groups,
            records_in_file: 0,
            sync_every_commit,
        };
        store
            .compact()
            .map_err(|e| BrokerError::storage(&store.path, e))?;
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
        // Opened before the rename: once the new file is in place, appends
        // must go to it and never to the replaced one, whatever fails next.
        let appender = OpenOptions::new().append(true).open(&tmp)?;
        fs::rename(&tmp, &self.path)?;
        self.file = appender;
        self.len = out.len() as u64;
        self.torn = false;
        self.records_in_file = records;
        match self.path.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }

    /// Compacts once the file is mostly superseded records. A failure leaves
    /// a longer but valid file, so it is logged and retried after the next
    /// write.
    fn maybe_compact(&mut self) {
        let live: usize = self.groups.values().map(BTreeMap::len).sum();
        if self.records_in_file > COMPACT_MIN_RECORDS.max(live * COMPACT_RATIO) {
            if let Err(e) = self.compact() {
                warn!(file = %self.path.display(), error = %e, "compacting the offsets file failed");
            }
        }
    }

    /// Appends whole records or nothing: a failed write is cut off again, as
    /// a partial record left in the middle of the file would read as
    /// corruption on the next start.
    fn append(&mut self, bytes: &[u8], records: usize) -> io::Result<()> {
        if self.torn {
            self.file.set_len(self.len)?;
            self.torn = false;
        }
        let mut written = self.file.write_all(bytes);
        if written.is_ok() && self.sync_every_commit {
            written = self.file.sync_data();
        }
        if let Err(e) = written {
            if let Err(cut) = self.file.set_len(self.len) {
                error!(
                    file = %self.path.display(),
                    error = %cut,
                    "cannot cut a failed write off the offsets file; retrying before the next write"
                );
                self.torn = true;
            }
            return Err(e);
        }
        self.len += bytes.len() as u64;
        self.records_in_file += records;
        Ok(())
    }

    /// Appends the record of a deletion of `kind` (a group's or a topic's)
    /// naming `name`.
    fn append_deletion(&mut self, kind: u8, name: &str) -> io::Result<()> {
        let mut payload = vec![kind];
        put_str(&mut payload, name);
        let mut out = Vec::new();
        frame(&mut out, &payload);
        self.append(&out, 1)
    }

    /// Stores offsets for a group; they are on disk (or at least in the page
    /// cache, per the flush policy) when this returns, and unchanged if it
    /// fails.
    pub(crate) fn commit(
        &mut self,
        group: &str,
        offsets: Vec<(String, i32, Committed)>,
    ) -> io::Result<()> {
        // Longer fields would make records that `replay` takes for corruption.
        let oversized = group.len() > MAX_NAME_BYTES
            || offsets.iter().any(|(topic, _, committed)| {
                topic.len() > MAX_NAME_BYTES
                    || committed
                        .metadata
                        .as_ref()
                        .is_some_and(|m| m.len() > MAX_METADATA_BYTES)
            });
        if oversized {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "group id, topic or metadata too long for an offsets record",
            ));
        }
        let mut out = Vec::new();
        for (topic, partition, committed) in &offsets {
            encode_commit(&mut out, group, topic, *partition, committed);
        }
        self.append(&out, offsets.len())?;
        let entry = self.groups.entry(group.to_owned()).or_default();
        for (topic, partition, committed) in offsets {
            entry.insert((topic, partition), committed);
        }
        self.maybe_compact();
        Ok(())
    }

    /// Forgets every offset of a group; they are kept if this fails.
    pub(crate) fn delete_group(&mut self, group: &str) -> io::Result<()> {
        if !self.groups.contains_key(group) {
            return Ok(());
        }
        self.append_deletion(DELETE_GROUP, group)?;
        self.groups.remove(group);
        self.maybe_compact();
        Ok(())
    }

    /// Forgets every group's offsets of `topic`, which was deleted (a
    /// topic created again under its name starts with none, as in Kafka);
    /// they are kept if this fails.
    pub(crate) fn delete_topic(&mut self, topic: &str) -> io::Result<()> {
        // A name too long for a record was never committed (see `commit`).
        let held = |offsets: &GroupOffsets| offsets.keys().any(|(t, _)| t == topic);
        if topic.len() > MAX_NAME_BYTES || !self.groups.values().any(held) {
            return Ok(());
        }
        self.append_deletion(DELETE_TOPIC, topic)?;
        forget_topic(&mut self.groups, topic);
        self.maybe_compact();
        Ok(())
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
    pub(crate) fn sync(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| BrokerError::storage(&self.path, e))
    }

    /// Swaps the file handle, so that tests can make writes and syncs fail.
    #[cfg(test)]
    pub(crate) fn replace_file(&mut self, file: File) {
        self.file = file;
    }
}

fn is_zeros(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// Applies every record; returns the offsets and the length of the intact
/// prefix, or why the file is corrupt.
///
/// A crash can leave an incomplete record at the end, and a machine crash
/// can leave the end of a grown file as zeros or as a record whose data
/// never reached the disk. Anything else that does not check out is
/// corruption.
fn replay(bytes: &[u8]) -> Result<(HashMap<String, GroupOffsets>, usize), String> {
    let mut groups = HashMap::new();
    let mut valid = 0;
    while valid < bytes.len() {
        let mut reader = Reader::new(&bytes[valid..]);
        let Some((len, crc)) = reader.u32().zip(reader.u32()) else {
            break;
        };
        // Only a length this broker could have written may run past the end
        // as a torn tail; any other is a damaged length field.
        if len as usize > MAX_RECORD_BYTES && !is_zeros(reader.rest()) {
            return Err(format!(
                "record at byte {valid} claims {len} bytes, more than the {MAX_RECORD_BYTES} a record holds"
            ));
        }
        let Some(payload) = reader.take(len as usize) else {
            break;
        };
        let end = bytes.len() - reader.rest().len();
        if crc32c::crc32c(payload) != crc {
            if is_zeros(&bytes[end..]) {
                break;
            }
            return Err(format!(
                "record at byte {valid} fails its checksum and {} bytes follow it",
                bytes.len() - end
            ));
        }
        if apply(&mut groups, payload).is_none() {
            // Zeros frame as an empty record with a matching checksum.
            if is_zeros(&bytes[valid..]) {
                break;
            }
            return Err(format!("record at byte {valid} does not decode"));
        }
        valid = end;
    }
    Ok((groups, valid))
}

/// Applies one record; `None` unless it decodes exactly.
fn apply(groups: &mut HashMap<String, GroupOffsets>, payload: &[u8]) -> Option<()> {
    let mut fields = Reader::new(payload);
    match fields.u8()? {
        COMMIT => {
            let group = fields.string()?;
            let topic = fields.string()?;
            let partition = fields.u32()? as i32;
            let committed = Committed::read(&mut fields)?;
            fields.end()?;
            groups
                .entry(group)
                .or_default()
                .insert((topic, partition), committed);
        }
        DELETE_GROUP => {
            let group = fields.string()?;
            fields.end()?;
            groups.remove(&group);
        }
        DELETE_TOPIC => {
            let topic = fields.string()?;
            fields.end()?;
            forget_topic(groups, &topic);
        }
        _ => return None,
    }
    Some(())
}

/// Drops every group's offsets of `topic`, and the groups left with none.
fn forget_topic(groups: &mut HashMap<String, GroupOffsets>, topic: &str) {
    for offsets in groups.values_mut() {
        offsets.retain(|(t, _), _| t != topic);
    }
    groups.retain(|_, offsets| !offsets.is_empty());
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

    /// The payload of a commit record, for tests that damage it.
    fn commit_payload(offset: i64) -> Vec<u8> {
        let mut framed = Vec::new();
        let committed = Committed {
            metadata: None,
            ..committed(offset)
        };
        encode_commit(&mut framed, "g", "t", 0, &committed);
        framed.split_off(8)
    }

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        frame(&mut out, payload);
        out
    }

    #[test]
    fn a_deleted_topics_offsets_are_forgotten_in_every_group_and_stay_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = OffsetStore::open(dir.path(), false).expect("open");
        for group in ["g", "h"] {
            store
                .commit(
                    group,
                    vec![("t".into(), 0, committed(5)), ("u".into(), 0, committed(7))],
                )
                .expect("commit");
        }
        store
            .commit("only-t", vec![("t".into(), 0, committed(1))])
            .expect("commit");
        store.delete_topic("t").expect("delete topic");
        assert!(
            !store.has_group("only-t"),
            "a group left with no offsets is gone"
        );
        store
            .delete_topic("never-committed")
            .expect("nothing to do");
        let check = |store: &OffsetStore| {
            for group in ["g", "h"] {
                assert_eq!(store.get(group, "t", 0), None);
                assert_eq!(store.get(group, "u", 0), Some(&committed(7)));
            }
        };
        check(&store);
        drop(store);
        // Replayed from the file, before its rewrite, and from the rewrite.
        check(&OffsetStore::open(dir.path(), false).expect("reopen"));
        check(&OffsetStore::open(dir.path(), false).expect("reopen the rewrite"));
    }

    #[test]
    fn corruption_before_the_tail_fails_open_and_keeps_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = OffsetStore::open(dir.path(), false).expect("open");
        for offset in 1..=3 {
            store
                .commit("g", vec![("t".into(), offset, committed(offset.into()))])
                .expect("commit");
        }
        drop(store);
        let path = dir.path().join("offsets.log");
        let mut bytes = fs::read(&path).expect("read");
        // The last byte of the first record (its metadata).
        let first_len = 8 + u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        bytes[first_len - 1] ^= 0xff;
        fs::write(&path, &bytes).expect("write");

        match OffsetStore::open(dir.path(), false) {
            Err(BrokerError::Corrupt { path: p, reason }) => {
                assert_eq!(p, path);
                assert!(reason.contains("byte 0"), "{reason}");
            }
            other => panic!("expected corruption, got {other:?}"),
        }
        assert_eq!(fs::read(&path).expect("read"), bytes, "file left alone");
    }

    #[test]
    fn checksummed_records_that_do_not_decode_exactly_are_corrupt() {
        let good = commit_payload(5);
        let (groups, valid) = replay(&framed(&good)).expect("a good record replays");
        assert_eq!(valid, good.len() + 8);
        let stored = groups.get("g").and_then(|g| g.get(&("t".to_owned(), 0)));
        assert_eq!(
            stored.map(|c| (c.offset, c.metadata.clone())),
            Some((5, None))
        );

        let mut bad_flag = good.clone();
        *bad_flag.last_mut().expect("flag byte") = 2;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_delete = vec![DELETE_GROUP];
        put_str(&mut bad_delete, "g");
        bad_delete.push(7);
        for payload in [bad_flag, trailing, bad_delete, vec![9]] {
            // Corrupt even as the last record: its checksum shows it was
            // written whole, so it is no torn tail.
            assert_eq!(
                replay(&framed(&payload)).map(|(_, valid)| valid),
                Err("record at byte 0 does not decode".to_owned())
            );
        }
    }

    #[test]
    fn a_zero_filled_or_unwritten_tail_is_dropped_like_a_torn_one() {
        let good = framed(&commit_payload(5));
        let mut zeros = good.clone();
        zeros.extend_from_slice(&[0; 64]);
        let mut unwritten = good.clone();
        // A whole record whose data never reached the disk, then zeros.
        let mut lost = framed(&commit_payload(6));
        lost[12..].fill(0);
        unwritten.extend_from_slice(&lost);
        unwritten.extend_from_slice(&[0; 16]);
        for bytes in [zeros, unwritten] {
            let (groups, valid) = replay(&bytes).expect("replays");
            assert_eq!(valid, good.len());
            let stored = groups.get("g").and_then(|g| g.get(&("t".to_owned(), 0)));
            assert_eq!(stored.map(|c| c.offset), Some(5));
        }
    }

    #[test]
    fn a_failed_write_changes_nothing_and_leaves_no_partial_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("offsets.log");
        let mut store = OffsetStore::open(dir.path(), false).expect("open");
        store
            .commit("g", vec![("t".into(), 0, committed(1))])
            .expect("commit");
        // What a write cut short leaves behind...
        OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&[0, 0, 0, 40, 1, 2]))
            .expect("partial record");
        // ...through a handle that can neither write nor truncate.
        store.replace_file(File::open(&path).expect("read-only handle"));
        assert!(store
            .commit("g", vec![("t".into(), 0, committed(2))])
            .is_err());
        assert!(store.delete_group("g").is_err());
        assert_eq!(store.get("g", "t", 0), Some(&committed(1)));

        // The next write cuts the partial record off before appending.
        store.replace_file(
            OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("append handle"),
        );
        store
            .commit("g", vec![("t".into(), 1, committed(3))])
            .expect("commit");
        drop(store);
        let store = OffsetStore::open(dir.path(), false).expect("reopen");
        assert_eq!(store.get("g", "t", 0), Some(&committed(1)));
        assert_eq!(store.get("g", "t", 1), Some(&committed(3)));
    }

    #[test]
    fn a_length_no_record_can_have_is_corruption_not_a_torn_tail() {
        let first = framed(&commit_payload(5));
        let mut bytes = first.clone();
        bytes.extend_from_slice(&framed(&commit_payload(6)));
        bytes.extend_from_slice(&framed(&commit_payload(7)));
        let mut damaged = bytes.clone();
        damaged[first.len()..first.len() + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            replay(&damaged).map(|(_, valid)| valid),
            Err(format!(
                "record at byte {} claims {} bytes, more than the {MAX_RECORD_BYTES} a record holds",
                first.len(),
                u32::MAX
            ))
        );

        // With only zeros after it, the header is garbage over unwritten space.
        let mut unwritten = first.clone();
        unwritten.extend_from_slice(&u32::MAX.to_be_bytes());
        unwritten.extend_from_slice(&[0; 64]);
        assert_eq!(replay(&unwritten).map(|(_, valid)| valid), Ok(first.len()));
    }

    #[test]
    fn fields_too_long_for_a_record_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = OffsetStore::open(dir.path(), false).expect("open");
        let long_name = "x".repeat(MAX_NAME_BYTES + 1);
        let long_metadata = Committed {
            metadata: Some("m".repeat(MAX_METADATA_BYTES + 1)),
            ..committed(1)
        };
        for (group, offsets) in [
            (long_name.as_str(), vec![("t".into(), 0, committed(1))]),
            ("g", vec![(long_name.clone(), 0, committed(1))]),
            ("g", vec![("t".into(), 0, long_metadata)]),
        ] {
            let refused = store.commit(group, offsets).expect_err("refused");
            assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        }
        assert_eq!(store.group_ids().count(), 0);
        assert_eq!(
            fs::metadata(dir.path().join("offsets.log"))
                .expect("stat")
                .len(),
            0
        );
    }
}
