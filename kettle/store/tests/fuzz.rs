//! Fuzzing the store's read path on damaged disks: sealed records, values and commit-log
//! manifests are overwritten in RocksDB with mutated (or random) bytes, then read through
//! the public API. Every read answers the original data (only when the bytes are untouched)
//! or an error; nothing panics and nothing damaged is ever returned as data.
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

use std::collections::HashSet;
use std::sync::Arc;

use alloy_primitives::{Address, Bytes};
use fuzz_support::{mutate, random_input, Campaign, TrackingAlloc};
use kettle_primitives::{DataId, DataRecord};
use kettle_store::layout::{self, CF_LOG, CF_RECORDS, CF_VALUES};
use kettle_store::{EncryptedStore, KettleSecret, StoreLimits, StoreOptions};
use rocksdb::DB;
use suave_precompiles::{ConfidentialStore, StoreWrite, StoreWriteSet};

#[global_allocator]
static ALLOC: TrackingAlloc = TrackingAlloc;

const APP: Address = Address::repeat_byte(0xa1);
const KETTLE: Address = Address::repeat_byte(0x11);
const RECORDS: u64 = 16;

fn open_store(db: &Arc<DB>) -> EncryptedStore {
    StoreOptions::new(StoreLimits::default())
        .with_local_kettles(vec![KETTLE])
        .with_sync_writes(false)
        .open_in(db.clone(), &KettleSecret::from_array([0x5e; 32]))
        .expect("open store")
}

fn raw_entries(db: &DB, cf: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let handle = db.cf_handle(cf).expect("column family");
    db.iterator_cf(handle, rocksdb::IteratorMode::Start)
        .map(|item| {
            let (k, v) = item.expect("iterate");
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

fn key_of(n: u64) -> String {
    format!("key-{n}")
}

#[test]
fn fuzz_damaged_store_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = layout::block_cache().expect("cache");
    let db = Arc::new(
        DB::open_cf_descriptors(
            &layout::db_options(),
            dir.path(),
            layout::column_family_descriptors(&cache),
        )
        .expect("open db"),
    );

    // One commit per record, each with one value.
    let store = open_store(&db);
    let mut records = Vec::new();
    for n in 0..RECORDS {
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&n.to_be_bytes());
        let record = DataRecord::new(
            DataId::from(salt),
            n,
            vec![APP],
            vec![KETTLE],
            format!("ns{n}"),
        );
        let write = StoreWrite {
            id: record.id,
            key: key_of(n),
            value: Bytes::from(vec![n as u8; 1 + n as usize * 7]),
            caller: APP,
        };
        store
            .commit_local(&StoreWriteSet {
                records: vec![record.clone()],
                writes: vec![write],
            })
            .expect("commit");
        records.push(record);
    }
    let origin = store.local_origin();
    let manifests = store
        .commit_log(&origin, 0, usize::MAX)
        .expect("commit log");
    assert_eq!(manifests.len(), RECORDS as usize);
    drop(store);
    // Reopened: nothing cached, every read below goes to the (damaged) disk.
    let store = open_store(&db);

    let raw_records = raw_entries(&db, CF_RECORDS);
    let raw_values = raw_entries(&db, CF_VALUES);
    let raw_logs = raw_entries(&db, CF_LOG);
    assert_eq!(raw_records.len(), RECORDS as usize);
    assert_eq!(raw_values.len(), RECORDS as usize);
    assert_eq!(raw_logs.len(), RECORDS as usize);
    let donors: Vec<Vec<u8>> = raw_records
        .iter()
        .chain(&raw_values)
        .map(|(_, v)| v.clone())
        .collect();
    let index_of = |id: &[u8]| {
        records
            .iter()
            .position(|r| r.id.as_slice() == id)
            .expect("known id")
    };

    let cf = |name: &str| db.cf_handle(name).expect("column family");
    // Records read intact once are cached (later damage to them is not read back).
    let mut cached: HashSet<DataId> = HashSet::new();
    let outcomes = Campaign::new("store/disk", 2).run(|case| {
        let rng = &mut case.rng;
        match rng.below(4) {
            0 => {
                let (key, blob) = rng.pick(&raw_records).clone();
                let id = DataId::from_slice(&key);
                if cached.contains(&id) {
                    return "skipped-cached";
                }
                let damaged = mutate(rng, &blob, &donors);
                case.record(&damaged);
                db.put_cf(cf(CF_RECORDS), &key, &damaged).expect("put");
                let outcome = match store.record(&id) {
                    Ok(Some(r)) => {
                        assert_eq!(damaged, blob, "a damaged record was returned as data");
                        assert_eq!(r, records[index_of(&key)]);
                        cached.insert(id);
                        "record-intact"
                    }
                    Ok(None) => panic!("record {id} vanished"),
                    Err(_) => "record-refused",
                };
                db.put_cf(cf(CF_RECORDS), &key, &blob).expect("restore");
                outcome
            }
            1 => {
                let (key, blob) = rng.pick(&raw_values).clone();
                let n = index_of(&key[..16]);
                let damaged = mutate(rng, &blob, &donors);
                case.record(&damaged);
                db.put_cf(cf(CF_VALUES), &key, &damaged).expect("put");
                let outcome = match store.value(&records[n].id, &key_of(n as u64)) {
                    Ok(Some(v)) => {
                        assert_eq!(damaged, blob, "a damaged value was returned as data");
                        assert_eq!(v.len(), 1 + n * 7);
                        "value-intact"
                    }
                    Ok(None) => panic!("value vanished"),
                    Err(_) => "value-refused",
                };
                db.put_cf(cf(CF_VALUES), &key, &blob).expect("restore");
                outcome
            }
            2 => {
                let i = rng.below(raw_logs.len());
                let (key, blob) = raw_logs[i].clone();
                let damaged = mutate(rng, &blob, &donors);
                case.record(&damaged);
                db.put_cf(cf(CF_LOG), &key, &damaged).expect("put");
                let outcome = match store.commit_log(&origin, i as u64, 1) {
                    Ok(got) => {
                        assert_eq!(damaged, blob, "a damaged manifest was returned as data");
                        assert_eq!(got, vec![manifests[i].clone()]);
                        "log-intact"
                    }
                    Err(_) => "log-refused",
                };
                db.put_cf(cf(CF_LOG), &key, &blob).expect("restore");
                outcome
            }
            _ => {
                // Garbage under an id that was never written.
                let mut id = [0u8; 16];
                id.iter_mut().for_each(|b| *b = rng.byte());
                let garbage = random_input(rng, 200, &[1]);
                case.record(&garbage);
                db.put_cf(cf(CF_RECORDS), id, &garbage).expect("put");
                let result = store.record(&DataId::from(id));
                db.delete_cf(cf(CF_RECORDS), id).expect("delete");
                assert!(result.is_err(), "garbage record decoded: {result:?}");
                "garbage-refused"
            }
        }
    });
    for refused in [
        "record-refused",
        "value-refused",
        "log-refused",
        "garbage-refused",
    ] {
        assert!(outcomes.contains_key(refused), "{outcomes:?}");
    }
    // Undamaged again: the store reads everything back.
    for (n, r) in records.iter().enumerate() {
        assert_eq!(store.record(&r.id).expect("read").as_ref(), Some(r));
        assert!(store
            .value(&r.id, &key_of(n as u64))
            .expect("read")
            .is_some());
    }
}
