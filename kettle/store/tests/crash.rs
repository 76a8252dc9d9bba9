//! Crash test: a child process commits write sets in a loop; the parent kills it with SIGKILL
//! at random moments, reopens the store and checks that every commit is all-or-nothing.
//!
//! The child is this test binary re-executed with `KETTLE_STORE_CRASH_CHILD_DIR` set, running
//! only `crash_child` (which does nothing in a normal test run). Knobs:
//! `KETTLE_STORE_CRASH_KILLS` (default 25) and `KETTLE_STORE_CRASH_SEED` (printed on each run).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use alloy_primitives::Bytes;
use common::*;
use kettle_primitives::DataRecord;
use kettle_store::EncryptedStore;
use suave_precompiles::{ConfidentialStore, StoreWriteSet};

const CHILD_ENV: &str = "KETTLE_STORE_CRASH_CHILD_DIR";
const READY: &str = "CRASH-CHILD-READY";
const VALUES_PER_SET: u64 = 8;
const CONDITIONS: u64 = 4;
const NAMESPACE: &str = "crash:ns";

/// The record every write set adds to its count and slots; created by set 1.
fn shared() -> DataRecord {
    record(0, 999, "crash:shared", vec![APP], vec![KETTLE])
}

/// Record created by write set `i`.
fn record_of(i: u64) -> DataRecord {
    record(i, i % CONDITIONS, NAMESPACE, vec![APP], vec![KETTLE])
}

/// Deterministic value `j` of write set `i`, 16 bytes to ~2 KiB.
fn value_of(i: u64, j: u64) -> Vec<u8> {
    let len = 16 + ((i * 7919 + j * 131) % 2000) as usize;
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ j.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Write set number `i` (1-based): a new record with 8 values, plus the shared record's
/// `last` = i and `slot{i % 3}` overwritten.
fn write_set(i: u64) -> StoreWriteSet {
    let r = record_of(i);
    let s = shared();
    let mut records = Vec::new();
    if i == 1 {
        records.push(s.clone());
    }
    records.push(r.clone());
    let mut writes: Vec<_> = (0..VALUES_PER_SET)
        .map(|j| write(r.id, &format!("v{j}"), &value_of(i, j), APP))
        .collect();
    writes.push(write(s.id, "last", &i.to_be_bytes(), APP));
    writes.push(write(
        s.id,
        &format!("slot{}", i % 3),
        &value_of(i, 99),
        APP,
    ));
    set(records, writes)
}

/// Entry point of the child process; a no-op in a normal test run.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open(Path::new(&dir));
    let mut i = store.last_seq(&KETTLE) + 1;
    println!("{READY}");
    // Bounded, in case the parent died without killing us.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        store.commit_local(&write_set(i)).expect("commit");
        if i.is_multiple_of(64) {
            // Exercise memtable flushes to SST files too.
            store.flush().expect("flush");
        }
        i += 1;
    }
}

/// Kills the child if the parent test fails while it runs, so no orphan keeps writing.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Checks every invariant; returns the number of committed write sets.
fn check(store: &EncryptedStore, at_least: u64) -> u64 {
    let s = store.last_seq(&KETTLE);
    assert!(s >= at_least, "committed sets went from {at_least} to {s}");

    let report = store.verify().unwrap();
    assert!(
        report.problems.is_empty(),
        "after {s} sets: {:#?}",
        report.problems
    );
    let expect_records = if s == 0 { 0 } else { s as usize + 1 };
    assert_eq!(report.records, expect_records);
    assert_eq!(report.index_entries, expect_records);
    let expect_values = if s == 0 {
        0
    } else {
        (VALUES_PER_SET * s) as usize + 1 + s.min(3) as usize
    };
    assert_eq!(report.values, expect_values);
    if s > 0 {
        assert_eq!(report.commits, vec![(KETTLE, s)]);
    }

    // Commit log: contiguous 1..=s, each manifest exactly its set.
    let log = store.commit_log(&KETTLE, 0, usize::MAX).unwrap();
    assert_eq!(log.len() as u64, s);
    for (n, (seq, m)) in log.iter().enumerate() {
        let i = n as u64 + 1;
        assert_eq!(*seq, i);
        let ws = write_set(i);
        assert_eq!(
            m.records,
            ws.records.iter().map(|r| r.id).collect::<Vec<_>>()
        );
        assert_eq!(m.writes.len(), ws.writes.len());
    }

    // All of every committed set.
    for i in 1..=s {
        let r = record_of(i);
        assert_eq!(
            store.record(&r.id).unwrap().as_ref(),
            Some(&r),
            "record of set {i}"
        );
        for j in 0..VALUES_PER_SET {
            let v = store.value(&r.id, &format!("v{j}")).unwrap();
            assert_eq!(v, Some(Bytes::from(value_of(i, j))), "value {j} of set {i}");
        }
    }
    // None of the next sets.
    for i in s + 1..=s + 2 {
        let r = record_of(i);
        assert_eq!(
            store.record(&r.id).unwrap(),
            None,
            "record of uncommitted set {i}"
        );
        for j in 0..VALUES_PER_SET {
            assert_eq!(store.value(&r.id, &format!("v{j}")).unwrap(), None);
        }
    }
    // The shared record's overwritten keys are those of the last committed set.
    if s > 0 {
        let sh = shared().id;
        assert_eq!(
            store.value(&sh, "last").unwrap(),
            Some(Bytes::from(s.to_be_bytes().to_vec()))
        );
        for m in 0..3u64 {
            let latest = (1..=s).rev().find(|i| i % 3 == m);
            let got = store.value(&sh, &format!("slot{m}")).unwrap();
            assert_eq!(got, latest.map(|i| Bytes::from(value_of(i, 99))), "slot{m}");
        }
    }
    // The index lists exactly the committed records, in insertion order.
    for c in 0..CONDITIONS {
        let ids: Vec<_> = store
            .records_by_condition(c, NAMESPACE)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        let want: Vec<_> = (1..=s)
            .filter(|i| i % CONDITIONS == c)
            .map(|i| record_of(i).id)
            .collect();
        assert_eq!(ids, want, "index of condition {c}");
    }
    s
}

/// A tiny xorshift generator: the kill schedule only needs to be spread out and reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_mid_commit_leaves_each_write_set_all_or_nothing() {
    let kills: u32 = std::env::var("KETTLE_STORE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let seed = std::env::var("KETTLE_STORE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("crash test: {kills} kills, KETTLE_STORE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut committed = 0u64;
    let mut kills_with_progress = 0u32;

    for k in 0..kills {
        let mut child = KillOnDrop(
            Command::new(&exe)
                .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // Wait until the child has opened the store and is committing.
        let mut out = BufReader::new(child.0.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "child exited before it was ready"
            );
            if line.contains(READY) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(150)));
        child.0.kill().unwrap(); // SIGKILL
        let status = child.0.wait().unwrap();
        assert!(!status.success(), "child must die by the kill, not exit");

        let store = open(dir.path());
        let now = check(&store, committed);
        if now > committed {
            kills_with_progress += 1;
        }
        println!(
            "kill {k}: {now} write sets committed (+{})",
            now - committed
        );
        committed = now;
    }
    println!("crash test: survived {kills} kills, {kills_with_progress} of them after progress, {committed} sets");
    assert!(committed > 0, "the child never committed anything");
    assert!(
        kills_with_progress * 2 >= kills,
        "most kills should land mid-stream"
    );
}
