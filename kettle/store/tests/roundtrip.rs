//! Round trips through the store and the MEVM's overlay: commit, discard, index order,
//! persistence across reopen, the commit log, and concurrent readers.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use alloy_primitives::Bytes;
use common::*;
use kettle_primitives::ANYALLOWED;
use suave_precompiles::{ConfidentialStore, StoreError, StoreLimits, StoreOverlay};

#[test]
fn commit_then_read_back_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let r = record(1, 7, "ns:a", vec![APP], vec![KETTLE]);
    {
        let store = open(dir.path());
        let receipt = store
            .commit_local(&set(
                vec![r.clone()],
                vec![
                    write(r.id, "k1", b"v1", APP),
                    write(r.id, "k2", b"v2", APP),
                    write(r.id, "k1", b"v1-final", APP),
                ],
            ))
            .unwrap()
            .unwrap();
        assert_eq!(receipt.origin, KETTLE);
        assert_eq!(receipt.seq, 1);
        assert_eq!(receipt.records_created, 1);
        assert_eq!(receipt.values_written, 2, "repeated key collapsed");
        assert_eq!(store.record(&r.id).unwrap(), Some(r.clone()));
        assert_eq!(
            store.value(&r.id, "k1").unwrap(),
            Some(Bytes::from_static(b"v1-final"))
        );
        assert_eq!(
            store.retrieve(&r.id, "k2", APP).unwrap(),
            Bytes::from_static(b"v2")
        );
        assert_eq!(store.value(&r.id, "missing").unwrap(), None);
        assert!(matches!(
            store.retrieve(&r.id, "missing", APP),
            Err(StoreError::ValueNotFound { .. })
        ));
    }
    let store = open(dir.path());
    assert_eq!(store.record(&r.id).unwrap(), Some(r.clone()));
    assert_eq!(
        store.value(&r.id, "k1").unwrap(),
        Some(Bytes::from_static(b"v1-final"))
    );
    assert_eq!(
        store.records_by_condition(7, "ns:a").unwrap(),
        vec![r.clone()]
    );
    assert_eq!(store.last_seq(&KETTLE), 1);
    // A later write overwrites; the sequence continues after reopen.
    let receipt = store
        .store(r.id, "k2", Bytes::from_static(b"v2b"), APP)
        .unwrap()
        .unwrap();
    assert_eq!(receipt.seq, 2);
    assert_eq!(
        store.value(&r.id, "k2").unwrap(),
        Some(Bytes::from_static(b"v2b"))
    );
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        (report.records, report.index_entries, report.values),
        (1, 1, 2)
    );
    assert_eq!(report.commits, vec![(KETTLE, 2)]);
}

#[test]
fn empty_set_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.commit_local(&set(vec![], vec![])).unwrap(), None);
    assert_eq!(store.last_seq(&KETTLE), 0);
}

#[test]
fn index_lists_in_insertion_order_across_commits_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for round in 0..3u64 {
        let store = open(dir.path());
        for i in 0..5u64 {
            let n = round * 100 + i;
            // Salts chosen so ids are not in insertion order.
            let r = record(1000 - n, 42, "ns:order", vec![APP], vec![]);
            let other = record(5000 + n, 43, "ns:order", vec![APP], vec![]);
            let other_ns = record(9000 + n, 42, "ns:other", vec![APP], vec![]);
            store
                .commit_local(&set(vec![other, r.clone(), other_ns], vec![]))
                .unwrap();
            expected.push(r);
        }
        assert_eq!(
            store.records_by_condition(42, "ns:order").unwrap(),
            expected
        );
    }
    let store = open(dir.path());
    assert_eq!(
        store.records_by_condition(42, "ns:order").unwrap(),
        expected
    );
    assert_eq!(
        store.records_by_condition(43, "ns:order").unwrap().len(),
        15
    );
    assert_eq!(
        store.records_by_condition(42, "ns:other").unwrap().len(),
        15
    );
    assert!(store
        .records_by_condition(41, "ns:order")
        .unwrap()
        .is_empty());
    assert!(store.verify().unwrap().problems.is_empty());
}

#[test]
fn re_committing_a_present_record_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![]);
    store
        .commit_local(&set(vec![r.clone(), r.clone()], vec![]))
        .unwrap();
    let receipt = store
        .commit_local(&set(vec![r.clone()], vec![]))
        .unwrap()
        .unwrap();
    assert_eq!(receipt.records_created, 0);
    assert_eq!(store.records_by_condition(1, "ns").unwrap(), vec![r]);
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.index_entries, 1);
}

#[test]
fn overlay_commits_on_accept_and_discards_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let limits = StoreLimits::default();
    let committed = record(1, 5, "ns", vec![APP], vec![]);
    store
        .commit_local(&set(
            vec![committed.clone()],
            vec![write(committed.id, "k", b"old", APP)],
        ))
        .unwrap();

    // A failed run (or eth_call): the overlay sees its writes, the store never does.
    {
        let mut overlay = StoreOverlay::new(&store, limits);
        let fresh = record(2, 5, "ns", vec![APP], vec![]);
        overlay.create_record(fresh.clone()).unwrap();
        overlay
            .store(committed.id, "k", Bytes::from_static(b"new"), APP)
            .unwrap();
        overlay
            .store(fresh.id, "x", Bytes::from_static(b"1"), APP)
            .unwrap();
        assert_eq!(
            overlay.retrieve(committed.id, "k", APP).unwrap(),
            Bytes::from_static(b"new")
        );
        assert_eq!(
            overlay.fetch_records(5, "ns").unwrap(),
            vec![committed.clone(), fresh]
        );
    }
    assert_eq!(
        store.value(&committed.id, "k").unwrap(),
        Some(Bytes::from_static(b"old"))
    );
    assert_eq!(store.records_by_condition(5, "ns").unwrap().len(), 1);
    assert_eq!(store.last_seq(&KETTLE), 1);

    // An accepted request: one atomic commit of everything it staged.
    let fresh = record(3, 5, "ns", vec![ANYALLOWED], vec![]);
    let mut overlay = StoreOverlay::new(&store, limits);
    overlay.create_record(fresh.clone()).unwrap();
    overlay
        .store(committed.id, "k", Bytes::from_static(b"new"), APP)
        .unwrap();
    overlay
        .store(fresh.id, "x", Bytes::from_static(b"1"), OTHER)
        .unwrap();
    store.commit(&overlay.into_write_set()).unwrap();
    assert_eq!(
        store.value(&committed.id, "k").unwrap(),
        Some(Bytes::from_static(b"new"))
    );
    assert_eq!(
        store.retrieve(&fresh.id, "x", OTHER).unwrap(),
        Bytes::from_static(b"1")
    );
    assert_eq!(
        store.records_by_condition(5, "ns").unwrap(),
        vec![committed, fresh.clone()]
    );
    assert_eq!(store.last_seq(&KETTLE), 2);

    // The overlay refuses to recreate a committed record.
    let mut overlay = StoreOverlay::new(&store, limits);
    assert!(matches!(
        overlay.create_record(fresh),
        Err(StoreError::RecordExists(_))
    ));
}

#[test]
fn commit_log_replays_what_a_peer_missed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![KETTLE, PEER]);
    store
        .commit_local(&set(vec![r.clone()], vec![write(r.id, "a", b"1", APP)]))
        .unwrap();
    store
        .store(r.id, "b", Bytes::from_static(b"2"), APP)
        .unwrap();
    store
        .store(r.id, "c", Bytes::from_static(b"3"), APP)
        .unwrap();
    let all = store.commit_log(&KETTLE, 0, 100).unwrap();
    assert_eq!(
        all.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(all[0].1.records, vec![r.id]);
    assert_eq!(all[0].1.writes[0].key, "a");
    assert_eq!(all[0].1.writes[0].caller, APP);
    let missed = store.commit_log(&KETTLE, 1, 1).unwrap();
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0].0, 2);
    assert_eq!(missed[0].1.writes[0].key, "b");
    assert!(store.commit_log(&PEER, 0, 10).unwrap().is_empty());
    assert!(store.commit_log(&KETTLE, 3, 10).unwrap().is_empty());
}

#[test]
fn readers_run_during_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let r = record(1, 9, "ns:conc", vec![APP], vec![]);
    store
        .commit_local(&set(
            vec![r.clone()],
            vec![write(r.id, "counter", &0u64.to_be_bytes(), APP)],
        ))
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = Arc::clone(&store);
            let done = Arc::clone(&done);
            let id = r.id;
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let v = store.retrieve(&id, "counter", APP).unwrap();
                    let n = u64::from_be_bytes(v[..8].try_into().unwrap());
                    // The counter and record n were committed together: seeing one means the other.
                    if n != 0 {
                        let rec = record(n, 9, "ns:conc", vec![APP], vec![]);
                        assert!(store.record(&rec.id).unwrap().is_some());
                    }
                    // Every listed record is complete: its value written in the same commit is there.
                    for rec in store.records_by_condition(9, "ns:conc").unwrap() {
                        if rec.id != id {
                            assert!(store.value(&rec.id, "v").unwrap().is_some());
                        }
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let store = Arc::clone(&store);
            let id = r.id;
            std::thread::spawn(move || {
                for i in 0..40u64 {
                    let n = 10_000 + w * 1000 + i;
                    let fresh = record(n, 9, "ns:conc", vec![APP], vec![]);
                    store
                        .commit_local(&set(
                            vec![fresh.clone()],
                            vec![
                                write(fresh.id, "v", b"x", APP),
                                write(id, "counter", &n.to_be_bytes(), APP),
                            ],
                        ))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(store.last_seq(&KETTLE), 81);
    assert_eq!(store.records_by_condition(9, "ns:conc").unwrap().len(), 81);
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
