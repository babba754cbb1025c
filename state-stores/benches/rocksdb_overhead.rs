//! Overhead of the RocksDB key-value store over the `rocksdb` crate.
//!
//! Runs the same puts, point gets and range scans through a
//! `Box<dyn KeyValueStore>` on RocksDB and through a raw `rocksdb::DB` opened
//! with the same options and write options, and prints the time ratio per
//! phase (target: ours <= 1.5x raw). Each phase runs a few rounds,
//! alternating which side goes first, and keeps each side's best round.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use rocksdb::{Direction, IteratorMode, ReadOptions, WriteOptions, DB};
use state_stores::{
    store_options, KeyValueStore, RocksDbBackend, RocksDbKeyValueStore, RocksDbMemoryBudget,
};

const KEYS: u64 = 200_000;
const VALUE_LEN: usize = 100;
const SCANS: u64 = 2_000;
const SCAN_LEN: usize = 100;
const ROUNDS: usize = 3;

/// Key `i` of a fixed pseudo-random permutation, so writes and reads are not
/// sequential.
fn key(i: u64) -> [u8; 16] {
    let scrambled = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (KEYS * 8);
    let mut key = *b"key-000000000000";
    key[4..].copy_from_slice(format!("{scrambled:012}").as_bytes());
    key
}

fn value(i: u64) -> Vec<u8> {
    (0..VALUE_LEN).map(|j| (i as usize + j) as u8).collect()
}

/// The operations of one benchmark side.
trait Side {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), Box<dyn Error>>;
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Box<dyn Error>>;
    /// Reads up to `len` entries from `from` on; returns the bytes seen.
    fn scan(&self, from: &[u8], len: usize) -> Result<usize, Box<dyn Error>>;
}

struct Ours(Box<dyn KeyValueStore>);

impl Side for Ours {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), Box<dyn Error>> {
        Ok(self.0.put(key, value)?)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Box<dyn Error>> {
        Ok(self.0.get(key)?)
    }

    fn scan(&self, from: &[u8], len: usize) -> Result<usize, Box<dyn Error>> {
        let mut bytes = 0;
        for entry in self.0.range(Some(from), None).take(len) {
            let (key, value) = entry?;
            bytes += key.len() + value.len();
        }
        Ok(bytes)
    }
}

struct Raw {
    db: DB,
    write_options: WriteOptions,
}

impl Side for Raw {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), Box<dyn Error>> {
        Ok(self.db.put_opt(key, value, &self.write_options)?)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Box<dyn Error>> {
        Ok(self.db.get(key)?)
    }

    fn scan(&self, from: &[u8], len: usize) -> Result<usize, Box<dyn Error>> {
        let mut read_options = ReadOptions::default();
        read_options.set_iterate_lower_bound(from);
        let mut bytes = 0;
        let mode = IteratorMode::From(from, Direction::Forward);
        for entry in self.db.iterator_opt(mode, read_options).take(len) {
            let (key, value) = entry?;
            bytes += key.len() + value.len();
        }
        Ok(bytes)
    }
}

fn puts(side: &mut dyn Side, round: usize) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    for i in 0..KEYS {
        let mut value = value(i);
        value[0] = round as u8;
        side.put(&key(i), &value)?;
    }
    Ok(start.elapsed())
}

fn gets(side: &mut dyn Side, _round: usize) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    for i in 0..KEYS {
        black_box(side.get(&key(i.wrapping_mul(7) % KEYS))?);
    }
    Ok(start.elapsed())
}

fn scans(side: &mut dyn Side, _round: usize) -> Result<Duration, Box<dyn Error>> {
    let start = Instant::now();
    for i in 0..SCANS {
        black_box(side.scan(&key(i * 31 % KEYS), SCAN_LEN)?);
    }
    Ok(start.elapsed())
}

type Phase = fn(&mut dyn Side, usize) -> Result<Duration, Box<dyn Error>>;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let budget = RocksDbMemoryBudget::new(256 << 20);
    let backend = RocksDbBackend::open("bench", &dir.path().join("ours"), &budget, None)?;
    let mut ours = Ours(Box::new(RocksDbKeyValueStore::new(backend)));
    let mut write_options = WriteOptions::default();
    write_options.disable_wal(true);
    let mut raw = Raw {
        db: DB::open(&store_options(&budget), dir.path().join("raw"))?,
        write_options,
    };

    let phases: [(&str, Phase); 3] = [("put", puts), ("get", gets), ("range scan", scans)];
    println!(
        "{KEYS} keys of 16 bytes, values of {VALUE_LEN} bytes; {SCANS} scans of {SCAN_LEN} entries"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>7}",
        "phase", "ours ms", "raw ms", "ratio"
    );
    let (mut ours_total, mut raw_total) = (Duration::ZERO, Duration::ZERO);
    for (name, phase) in phases {
        let (mut ours_best, mut raw_best) = (Duration::MAX, Duration::MAX);
        for round in 0..ROUNDS {
            if round % 2 == 0 {
                ours_best = ours_best.min(phase(&mut ours, round)?);
                raw_best = raw_best.min(phase(&mut raw, round)?);
            } else {
                raw_best = raw_best.min(phase(&mut raw, round)?);
                ours_best = ours_best.min(phase(&mut ours, round)?);
            }
        }
        ours_total += ours_best;
        raw_total += raw_best;
        println!(
            "{name:<12} {:>10.1} {:>10.1} {:>7.3}",
            ours_best.as_secs_f64() * 1e3,
            raw_best.as_secs_f64() * 1e3,
            ours_best.as_secs_f64() / raw_best.as_secs_f64()
        );
    }
    println!(
        "{:<12} {:>10.1} {:>10.1} {:>7.3}  (target <= 1.5)",
        "total",
        ours_total.as_secs_f64() * 1e3,
        raw_total.as_secs_f64() * 1e3,
        ours_total.as_secs_f64() / raw_total.as_secs_f64()
    );
    Ok(())
}
