//! Limits: exceeding any of them is a typed error and nothing is written.

mod common;

use alloy_primitives::Bytes;
use common::*;
use kettle_store::{StoreLimits, StoreOptions};
use suave_precompiles::{StoreError, StoreWrite};

fn small_limits() -> StoreOptions {
    let mut o = StoreOptions::new(StoreLimits {
        max_value_bytes: 1024,
        max_records_per_request: 2,
        max_writes_per_request: 3,
    })
    .with_local_kettles(vec![KETTLE]);
    o.max_name_bytes = 32;
    o.max_commit_bytes = 2500;
    o
}

fn expect_limit(result: Result<Option<kettle_store::CommitReceipt>, StoreError>, what: &str) {
    match result {
        Err(StoreError::LimitExceeded(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("expected LimitExceeded({what}), got {other:?}"),
    }
}

#[test]
fn each_limit_is_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = small_limits().open(dir.path(), &secret()).unwrap();
    let r = record(1, 1, "ns", vec![APP], vec![]);

    expect_limit(
        store.commit_local(&set(
            vec![r.clone()],
            vec![write(r.id, "k", &[0; 1025], APP)],
        )),
        "value of 1025 bytes",
    );
    expect_limit(
        store.commit_local(&set(
            vec![
                r.clone(),
                record(2, 1, "ns", vec![], vec![]),
                record(3, 1, "ns", vec![], vec![]),
            ],
            vec![],
        )),
        "3 records",
    );
    expect_limit(
        store.commit_local(&set(
            vec![r.clone()],
            (0..4)
                .map(|i| write(r.id, &format!("k{i}"), b"v", APP))
                .collect(),
        )),
        "4 writes",
    );
    expect_limit(
        store.commit_local(&set(
            vec![r.clone()],
            vec![write(r.id, &"k".repeat(33), b"v", APP)],
        )),
        "key of 33 bytes",
    );
    expect_limit(
        store.commit_local(&set(
            vec![record(4, 1, &"n".repeat(33), vec![], vec![])],
            vec![],
        )),
        "namespace of 33 bytes",
    );
    expect_limit(
        store.commit_local(&set(
            vec![r.clone()],
            (0..3)
                .map(|i| write(r.id, &format!("k{i}"), &[0; 1000], APP))
                .collect(),
        )),
        "exceeds 2500 bytes",
    );
    // Same for the single-write path and for sync.
    expect_limit(
        store.store(r.id, "k", Bytes::from(vec![0; 2000]), APP),
        "value of 2000 bytes",
    );
    expect_limit(
        store.apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", &[0; 1025], APP)]),
        ),
        "value of 1025 bytes",
    );

    let report = store.verify().unwrap();
    assert_eq!(
        (report.records, report.values, report.index_entries),
        (0, 0, 0)
    );
    assert_eq!(store.last_seq(&KETTLE), 0);

    // At the limits exactly, it commits.
    store
        .commit_local(&set(
            vec![r.clone(), record(2, 1, "ns", vec![], vec![])],
            vec![
                write(r.id, "k", &[1; 1024], APP),
                write(r.id, &"k".repeat(32), b"v", APP),
                write(r.id, "k3", b"v", APP),
            ],
        ))
        .unwrap();
}

#[test]
fn a_huge_write_set_is_refused_before_any_work() {
    // 4097 writes sharing one 1 MiB buffer: refused by count without touching the values.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![]);
    let big = Bytes::from(vec![0u8; 1 << 20]);
    let writes: Vec<StoreWrite> = (0..4097)
        .map(|i| StoreWrite {
            id: r.id,
            key: format!("k{i}"),
            value: big.clone(),
            caller: APP,
        })
        .collect();
    expect_limit(
        store.commit_local(&set(vec![r.clone()], writes)),
        "4097 writes",
    );
    // 300 MiB in 300 writes: refused by the per-commit byte cap.
    let writes: Vec<StoreWrite> = (0..300)
        .map(|i| StoreWrite {
            id: r.id,
            key: format!("k{i}"),
            value: big.clone(),
            caller: APP,
        })
        .collect();
    expect_limit(store.commit_local(&set(vec![r], writes)), "bytes exceeds");
}
