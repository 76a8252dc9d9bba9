//! Encryption at rest: no plaintext in any file of the data directory, and a wrong secret is
//! refused at open time.

mod common;

use std::path::Path;

use alloy_primitives::{Address, Bytes};
use common::*;
use kettle_store::{layout, open as open_store, KettleSecret, StoreLimits, StoreOpenError};
use suave_precompiles::ConfidentialStore;

const SECRET_VALUE: &[u8] = b"TOP-SECRET-BUNDLE:0xfeedface-private-orderflow";
const NAMESPACE: &str = "needle-namespace:v0:private-orders";
const KEY: &str = "needle-key:private-bundle";
const CONDITION: u64 = 0x1122_3344_5566_7788;
const PEEKER: Address = Address::new([
    0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0xc0, 0xde, 0x42, 0x42, 0x42, 0x42, 0x99, 0x88, 0x77, 0x66,
    0x55, 0x44, 0x33, 0x22,
]);

/// Every file under `dir` (recursively) with its bytes.
fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The plaintext needles, and a name for each.
fn needles() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("secret value", SECRET_VALUE.to_vec()),
        ("namespace", NAMESPACE.as_bytes().to_vec()),
        ("key string", KEY.as_bytes().to_vec()),
        ("condition (BE)", CONDITION.to_be_bytes().to_vec()),
        ("condition (LE)", CONDITION.to_le_bytes().to_vec()),
        ("condition (decimal)", CONDITION.to_string().into_bytes()),
        ("peeker (raw)", PEEKER.to_vec()),
        (
            "peeker (hex)",
            alloy_primitives::hex::encode(PEEKER).into_bytes(),
        ),
    ]
}

#[test]
fn no_plaintext_reaches_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    {
        let store = open(dir.path());
        for i in 0..50u64 {
            let r = record(i, CONDITION, NAMESPACE, vec![PEEKER], vec![KETTLE]);
            let mut big = SECRET_VALUE.repeat(24); // ~1 KiB
            big.extend_from_slice(&i.to_be_bytes());
            store
                .commit_local(&set(
                    vec![r.clone()],
                    vec![
                        write(r.id, KEY, SECRET_VALUE, PEEKER),
                        write(r.id, "bulk", &big, PEEKER),
                    ],
                ))
                .unwrap();
            ids.push(r.id);
            if i == 25 {
                // Half the data in SST files, the rest only in the WAL and memtables.
                store.flush().unwrap();
            }
        }
        // Synced commits: the WAL is on disk even without a flush or a clean close.
        let listed = store.records_by_condition(CONDITION, NAMESPACE).unwrap();
        assert_eq!(listed.len(), 50);
    }
    // Reopen (replays the WAL, writes a new one), read back, close again.
    {
        let store = open(dir.path());
        assert_eq!(
            store.value(&ids[0], KEY).unwrap(),
            Some(Bytes::from_static(SECRET_VALUE))
        );
        store.flush().unwrap();
    }

    let files = all_files(dir.path());
    assert!(files
        .iter()
        .any(|(p, _)| p.extension().is_some_and(|e| e == "sst")));
    assert!(files
        .iter()
        .any(|(p, _)| p.extension().is_some_and(|e| e == "log")));
    let mut leaks = Vec::new();
    for (path, bytes) in &files {
        for (name, needle) in needles() {
            if contains(bytes, &needle) {
                leaks.push(format!("{name} in {}", path.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "plaintext on disk: {leaks:#?}");
}

#[test]
fn scan_finds_plaintext_in_a_raw_rocksdb_with_the_same_options() {
    // Control: the scan above would catch a store that did not encrypt.
    let dir = tempfile::tempdir().unwrap();
    {
        let cfs = layout::column_family_descriptors(&layout::block_cache().unwrap());
        let db = rocksdb::DB::open_cf_descriptors(&layout::db_options(), dir.path(), cfs).unwrap();
        let cf = db.cf_handle(layout::CF_VALUES).unwrap();
        db.put_cf(cf, NAMESPACE, SECRET_VALUE).unwrap();
        db.flush_cf(cf).unwrap();
        db.put_cf(cf, KEY, SECRET_VALUE).unwrap();
    }
    let files = all_files(dir.path());
    assert!(files.iter().any(|(_, b)| contains(b, SECRET_VALUE)));
    assert!(files.iter().any(|(_, b)| contains(b, NAMESPACE.as_bytes())));
    assert!(files.iter().any(|(_, b)| contains(b, KEY.as_bytes())));
}

#[test]
fn wrong_secret_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        let r = record(1, 1, "ns", vec![APP], vec![]);
        store
            .commit_local(&set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]))
            .unwrap();
    }
    let wrong = KettleSecret::from_array([0x5f; 32]);
    let err = open_store(dir.path(), &wrong, StoreLimits::default()).unwrap_err();
    assert!(matches!(err, StoreOpenError::WrongSecret), "{err:?}");
    assert!(err.to_string().contains("wrong kettle secret"));
    // The right secret still opens it, and the data is intact.
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![]);
    assert_eq!(
        store.value(&r.id, "k").unwrap(),
        Some(Bytes::from_static(b"v"))
    );
}

#[test]
fn same_secret_different_store_gives_unrelated_ciphertexts() {
    // Each store draws its own HKDF salt: index tags of the same (condition, namespace)
    // differ between two stores under one secret, so files cannot be correlated.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        let store = open(dir.path());
        let r = record(1, 1, "ns", vec![APP], vec![]);
        store.commit_local(&set(vec![r], vec![])).unwrap();
        store.flush().unwrap();
    }
    let index_keys = |dir: &Path| {
        let cfs = layout::column_family_descriptors(&layout::block_cache().unwrap());
        let db = rocksdb::DB::open_cf_descriptors(&layout::db_options(), dir, cfs).unwrap();
        let cf = db.cf_handle(layout::CF_INDEX).unwrap();
        db.iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|kv| kv.unwrap().0.to_vec())
            .collect::<Vec<_>>()
    };
    let (ka, kb) = (index_keys(a.path()), index_keys(b.path()));
    assert_eq!((ka.len(), kb.len()), (1, 1));
    assert_ne!(ka, kb);
}
