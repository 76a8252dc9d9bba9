//! A store written by a build from before store format 2 (commit 3d7feff, format 1: values
//! named with HMAC-SHA256 and sealed with their full names as associated data) opens, reads
//! and takes new writes, and stays in format 1 so that such a build could still read it.
//!
//! `fixtures/format1-store` is that build's data directory after two local commits by kettle
//! `0x11…11` with secret `0x42…42`: one record (salt `0x07…07`, condition 42, namespace
//! `fixture:v0:bundles`, peeker `0xa1…a1`, store `0x11…11`), its `alpha` = `first` then
//! `second`, and a 1 KiB value of `0xab` under a key longer than one AES block.

mod common;

use std::path::Path;

use alloy_primitives::{Address, Bytes};
use common::APP;
use kettle_primitives::{DataId, DataRecord};
use kettle_store::{layout, KettleSecret, StoreLimits, StoreOptions};
use suave_precompiles::ConfidentialStore;

const LONG_KEY: &str = "a key string longer than one AES block";
const KETTLE: Address = Address::repeat_byte(0x11);

/// A copy of the fixture (opening a store writes to its directory).
fn fixture_copy() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1-store");
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&src).expect("fixture") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    dir
}

fn open(dir: &Path) -> kettle_store::EncryptedStore {
    StoreOptions::new(StoreLimits::default())
        .with_local_kettles(vec![KETTLE])
        .open(dir, &KettleSecret::from_array([0x42; 32]))
        .expect("a format-1 store opens")
}

/// The `format` marker in `store_meta`, read with RocksDB directly.
fn format_marker(dir: &Path) -> u32 {
    let cfs = layout::column_family_descriptors(&layout::block_cache().expect("cache"));
    let db = rocksdb::DB::open_cf_descriptors(&layout::db_options(), dir, cfs).expect("open");
    let meta = db.cf_handle(layout::CF_META).expect("meta");
    let v = db.get_cf(meta, b"format").expect("read").expect("marker");
    u32::from_be_bytes(v[..].try_into().expect("4 bytes"))
}

#[test]
fn a_store_from_before_format_2_reads_writes_and_stays_format_1() {
    let dir = fixture_copy();
    let record = DataRecord::new(
        DataId::repeat_byte(7),
        42,
        vec![APP],
        vec![KETTLE],
        "fixture:v0:bundles".into(),
    );
    let id = record.id;
    {
        let store = open(dir.path());
        assert_eq!(
            store.value(&id, "alpha").expect("read"),
            Some(Bytes::from_static(b"second"))
        );
        assert_eq!(
            store.retrieve(&id, LONG_KEY, APP).expect("retrieve"),
            Bytes::from(vec![0xab; 1024])
        );
        let fetched = store
            .records_by_condition(42, "fixture:v0:bundles")
            .expect("fetch");
        assert_eq!(fetched, vec![record]);
        assert_eq!(store.last_seq(&KETTLE), 2);
        let report = store.verify().expect("verify");
        assert!(report.problems.is_empty(), "{:?}", report.problems);

        // New writes, over an old value and under a new key.
        store
            .store(id, "alpha", Bytes::from_static(b"third"), APP)
            .expect("store");
        store
            .store(id, "beta", Bytes::from_static(b"new"), APP)
            .expect("store");
        store.flush().expect("flush");
    }
    assert_eq!(format_marker(dir.path()), 1);
    let store = open(dir.path());
    assert_eq!(
        store.value(&id, "alpha").expect("read"),
        Some(Bytes::from_static(b"third"))
    );
    assert_eq!(
        store.value(&id, "beta").expect("read"),
        Some(Bytes::from_static(b"new"))
    );
    assert_eq!(store.value(&id, "gamma").expect("read"), None);
}
