//! Encrypted store vs raw RocksDB with the same options: puts and gets of 1 KiB values.
//!
//! Puts are batched the way the kettle commits: one write set of 16 values per commit,
//! against one raw `WriteBatch` of 16 puts. Gets read single committed values. Each pair
//! runs with synced commits (production) and unsynced ones (where the crypto cost shows).
//! After criterion's groups the bench times each pair again in interleaved rounds and prints
//! the encrypted/raw throughput ratios. `cargo bench -p kettle-store --bench store`; only the
//! ratio rounds: `-- ratios` (or `ratios_get`, `ratios_put`, with `_sync`/`_nosync`).
//!
//! What the raw baseline does per get: look up the column family, turn the caller's key
//! string into a 32-byte key with an unkeyed mix (the store uses record id ‖ AES-CMAC
//! instead), `get_cf` (a pinned read plus a copy into a fresh `Vec`). The store's get does the
//! same reads and copy, plus the keyed hash of the key and the AES-GCM open of the copy.
//! Neither side caches anything beyond RocksDB's block cache (same size and options on both).

use std::hint::black_box;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes};
use criterion::{Criterion, Throughput};
use kettle_primitives::{DataId, DataRecord};
use kettle_store::{layout, EncryptedStore, KettleSecret, StoreLimits, StoreOptions};
use rocksdb::{WriteBatch, WriteOptions, DB};
use suave_precompiles::{ConfidentialStore, StoreWrite, StoreWriteSet};

const VALUE_LEN: usize = 1024;
const PER_COMMIT: usize = 16;
const PREFILL: usize = 8192;
const APP: Address = Address::repeat_byte(0xa1);

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn value(n: u64) -> Bytes {
    let mut v = Vec::with_capacity(VALUE_LEN);
    let mut x = n;
    while v.len() < VALUE_LEN {
        x = mix(x);
        v.extend_from_slice(&x.to_le_bytes());
    }
    Bytes::from(v)
}

/// The encrypted store with one record to write to, and prefilled keys to read.
struct Encrypted {
    _dir: tempfile::TempDir,
    store: EncryptedStore,
    id: DataId,
    keys: Vec<String>,
    values: Vec<Bytes>,
    next: std::cell::Cell<u64>,
}

impl Encrypted {
    fn new(sync: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = StoreOptions::new(StoreLimits::default())
            .with_local_kettles(vec![Address::repeat_byte(0x11)])
            .with_sync_writes(sync)
            .open(dir.path(), &KettleSecret::from_array([7; 32]))
            .expect("open");
        let record = DataRecord::new(DataId::repeat_byte(1), 1, vec![APP], vec![], "bench".into());
        let id = record.id;
        store
            .commit_local(&StoreWriteSet {
                records: vec![record],
                writes: vec![],
            })
            .expect("record");
        let me = Self {
            _dir: dir,
            store,
            id,
            keys: (0..PREFILL).map(|i| format!("key-{i}")).collect(),
            values: (0..PER_COMMIT as u64).map(value).collect(),
            next: std::cell::Cell::new(0),
        };
        for chunk in (0..PREFILL).collect::<Vec<_>>().chunks(PER_COMMIT) {
            let writes = chunk
                .iter()
                .map(|&i| me.write(me.keys[i].clone(), i as u64))
                .collect();
            me.commit(writes);
        }
        me.store.flush().expect("flush");
        me
    }

    fn write(&self, key: String, n: u64) -> StoreWrite {
        StoreWrite {
            id: self.id,
            key,
            value: self.values[n as usize % PER_COMMIT].clone(),
            caller: APP,
        }
    }

    fn commit(&self, writes: Vec<StoreWrite>) {
        self.store
            .commit_local(&StoreWriteSet {
                records: vec![],
                writes,
            })
            .expect("commit");
    }

    /// The write set of the next put iteration (built outside the timed part).
    fn next_set(&self) -> Vec<StoreWrite> {
        let base = self.next.get();
        self.next.set(base + PER_COMMIT as u64);
        (0..PER_COMMIT as u64)
            .map(|j| self.write(format!("new-{}", base + j), base + j))
            .collect()
    }

    fn get(&self, i: usize) -> Bytes {
        self.store
            .value(&self.id, &self.keys[i % PREFILL])
            .expect("get")
            .expect("present")
    }
}

/// Raw RocksDB: same DB and column-family options, same write options, keys shaped like the
/// store's value keys (32 bytes, spread out). Gets name values by the same key strings as
/// [`Encrypted`] (held the same way), so both sides read the caller's key from memory.
struct Raw {
    _dir: tempfile::TempDir,
    db: DB,
    write_opts: WriteOptions,
    values: Vec<Bytes>,
    keys: Vec<String>,
    next: u64,
}

impl Raw {
    fn new(sync: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfs = layout::column_family_descriptors(&layout::block_cache().expect("cache"));
        let db = DB::open_cf_descriptors(&layout::db_options(), dir.path(), cfs).expect("open raw");
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(sync);
        let me = Self {
            _dir: dir,
            db,
            write_opts,
            values: (0..PER_COMMIT as u64).map(value).collect(),
            keys: (0..PREFILL).map(|i| format!("key-{i}")).collect(),
            next: 0,
        };
        for chunk in (0..PREFILL as u64).collect::<Vec<_>>().chunks(PER_COMMIT) {
            let batch = me.batch(
                chunk
                    .iter()
                    .map(|&i| (Self::name(&me.keys[i as usize]), value(i))),
            );
            me.db.write_opt(batch, &me.write_opts).expect("prefill");
        }
        for name in layout::COLUMN_FAMILIES {
            me.db
                .flush_cf(me.db.cf_handle(name).expect("cf"))
                .expect("flush");
        }
        me.db.flush_wal(true).expect("flush wal");
        me
    }

    fn key(n: u64) -> [u8; 32] {
        let mut k = [1u8; 32];
        k[16..24].copy_from_slice(&mix(n).to_be_bytes());
        k[24..].copy_from_slice(&mix(!n).to_be_bytes());
        k
    }

    /// The RocksDB key of key string `key`: like [`Raw::key`], from an unkeyed mix of the
    /// string's bytes (a plain store also has to read the caller's key string).
    fn name(key: &str) -> [u8; 32] {
        let h = key.as_bytes().chunks(8).fold(key.len() as u64, |h, c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            mix(h ^ u64::from_le_bytes(w))
        });
        Self::key(h)
    }

    fn batch(&self, items: impl Iterator<Item = ([u8; 32], Bytes)>) -> WriteBatch {
        let cf = self.db.cf_handle(layout::CF_VALUES).expect("cf");
        let mut b = WriteBatch::default();
        for (k, v) in items {
            b.put_cf(cf, k, v);
        }
        b
    }

    fn put(&mut self) {
        let base = self.next;
        self.next += PER_COMMIT as u64;
        let batch = self.batch((0..PER_COMMIT as u64).map(|j| {
            (
                Self::key(1 << 40 | (base + j)),
                self.values[j as usize].clone(),
            )
        }));
        self.db.write_opt(batch, &self.write_opts).expect("put");
    }

    fn get(&self, i: usize) -> Vec<u8> {
        let cf = self.db.cf_handle(layout::CF_VALUES).expect("cf");
        self.db
            .get_cf(cf, Self::name(&self.keys[i % PREFILL]))
            .expect("get")
            .expect("present")
    }
}

fn bench(c: &mut Criterion, sync: bool) {
    let mode = if sync { "sync" } else { "nosync" };

    // Gets first, on freshly prefilled and flushed stores, so both sides read the same LSM
    // shape and no background compaction from the put benches competes for the 2 cores.
    let enc = Encrypted::new(sync);
    let raw = Raw::new(sync);
    let mut g = c.benchmark_group(format!("get_1KiB_{mode}"));
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("encrypted", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            black_box(enc.get(i))
        })
    });
    g.bench_function("raw", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            black_box(raw.get(i))
        })
    });
    g.finish();
    drop((enc, raw));

    let enc = Encrypted::new(sync);
    let mut raw = Raw::new(sync);
    let mut g = c.benchmark_group(format!("put_16x1KiB_{mode}"));
    g.throughput(Throughput::Elements(PER_COMMIT as u64));
    g.bench_function("encrypted", |b| {
        b.iter_batched(
            || enc.next_set(),
            |w| enc.commit(w),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("raw", |b| b.iter(|| raw.put()));
    g.finish();
}

/// Ops per second of `f` over `dur`, timing only `f` (not `setup`, which builds its input).
fn rate_with<T>(
    dur: Duration,
    ops_per_call: u64,
    mut setup: impl FnMut() -> T,
    mut f: impl FnMut(T),
) -> f64 {
    let mut spent = Duration::ZERO;
    let mut ops = 0u64;
    while spent < dur {
        let input = setup();
        let start = Instant::now();
        f(input);
        spent += start.elapsed();
        ops += ops_per_call;
    }
    ops as f64 / spent.as_secs_f64()
}

/// Ops per second of `f` over `dur`.
fn rate(dur: Duration, ops_per_call: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < dur {
        f();
        ops += ops_per_call;
    }
    ops as f64 / start.elapsed().as_secs_f64()
}

/// Median of `xs`.
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Interleaved A/B rounds so drift on a shared machine hits both sides alike; the printed
/// ratio is the median of the per-round ratios. Gets and puts run on separate fresh stores,
/// gets first (see [`bench`]).
fn ratios(sync: bool, which: Which) {
    let mode = if sync { "sync" } else { "nosync" };
    let round = Duration::from_millis(250);
    let rounds = 9;
    let summary = |xs: &[(f64, f64)]| {
        (
            median(xs.iter().map(|x| x.0).collect()),
            median(xs.iter().map(|x| x.1).collect()),
            100.0 * median(xs.iter().map(|x| x.0 / x.1).collect()),
        )
    };
    let mut parts = Vec::new();

    if which.gets {
        let enc = Encrypted::new(sync);
        let raw = Raw::new(sync);
        let mut gets = Vec::new();
        for _ in 0..rounds {
            let mut i = 0usize;
            let e = rate(round, 1, || {
                i = i.wrapping_add(7919);
                black_box(enc.get(i));
            });
            let r = rate(round, 1, || {
                i = i.wrapping_add(7919);
                black_box(raw.get(i));
            });
            gets.push((e, r));
        }
        let (e, r, ratio) = summary(&gets);
        parts.push(format!(
            "gets encrypted {e:.0}/s raw {r:.0}/s = {ratio:.1}%"
        ));
    }

    if which.puts {
        let enc = Encrypted::new(sync);
        let mut raw = Raw::new(sync);
        let mut puts = Vec::new();
        for _ in 0..rounds {
            let e = rate_with(
                round,
                PER_COMMIT as u64,
                || enc.next_set(),
                |w| enc.commit(w),
            );
            let r = rate_with(round, PER_COMMIT as u64, || (), |()| raw.put());
            puts.push((e, r));
        }
        let (e, r, ratio) = summary(&puts);
        parts.insert(
            0,
            format!("puts encrypted {e:.0}/s raw {r:.0}/s = {ratio:.1}%"),
        );
    }

    println!(
        "ratio {mode}: {} (medians of {rounds} interleaved rounds)",
        parts.join("; ")
    );
}

/// Which halves of [`ratios`] to run.
#[derive(Clone, Copy)]
struct Which {
    puts: bool,
    gets: bool,
}

fn main() {
    // `-- ratios`, `-- ratios_get`, `-- ratios_put`, optionally with `_sync`/`_nosync`
    // (e.g. `ratios_get_nosync`): only the interleaved ratio rounds, no criterion groups.
    if let Some(sel) = std::env::args().skip(1).find(|a| a.starts_with("ratios")) {
        let which = Which {
            puts: !sel.contains("_get"),
            gets: !sel.contains("_put"),
        };
        for sync in [true, false] {
            let mode = if sync { "_sync" } else { "_nosync" };
            if !sel.contains("sync") || sel.ends_with(mode) {
                ratios(sync, which);
            }
        }
        return;
    }
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench(&mut c, true);
    bench(&mut c, false);
    c.final_summary();
    // `cargo test --benches` runs this binary in test mode: skip the extra timing there.
    // Nor when profiling or filtering to a subset.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args
        .iter()
        .any(|a| a == "--test" || a == "--profile-time" || !a.starts_with('-'))
    {
        let all = Which {
            puts: true,
            gets: true,
        };
        ratios(true, all);
        ratios(false, all);
    }
}
