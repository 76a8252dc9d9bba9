//! Access control (SUAVE-COMPAT §3.9, §6.5): every denial, and that a denied commit leaves
//! nothing behind.

mod common;

use alloy_primitives::{Address, Bytes};
use common::*;
use kettle_primitives::{DataId, ANYALLOWED};
use kettle_store::{EncryptedStore, StoreLimits, StoreOptions};
use suave_precompiles::{ConfidentialStore, StoreError};

/// Nothing at all was committed.
fn assert_untouched(store: &EncryptedStore, origin: &Address) {
    assert_eq!(store.last_seq(origin), 0);
    let report = store.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.records, report.values), (0, 0));
}

#[test]
fn retrieve_requires_an_allowed_peeker() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![]);
    store
        .commit_local(&set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]))
        .unwrap();
    assert_eq!(
        store.retrieve(&r.id, "k", APP).unwrap(),
        Bytes::from_static(b"v")
    );
    match store.retrieve(&r.id, "k", OTHER) {
        Err(StoreError::AccessDenied { id, caller }) => {
            assert_eq!((id, caller), (r.id, OTHER));
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    // Denied even for a key that does not exist (no existence oracle for non-peekers).
    assert!(matches!(
        store.retrieve(&r.id, "nope", OTHER),
        Err(StoreError::AccessDenied { .. })
    ));
    assert!(matches!(
        store.retrieve(&DataId::repeat_byte(9), "k", APP),
        Err(StoreError::RecordNotFound(_))
    ));
}

#[test]
fn wildcard_peeker_allows_anyone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![ANYALLOWED], vec![]);
    store
        .commit_local(&set(vec![r.clone()], vec![write(r.id, "k", b"v", OTHER)]))
        .unwrap();
    store
        .store(r.id, "k2", Bytes::from_static(b"w"), APP)
        .unwrap();
    assert_eq!(
        store.retrieve(&r.id, "k", APP).unwrap(),
        Bytes::from_static(b"v")
    );
    assert_eq!(
        store.retrieve(&r.id, "k2", OTHER).unwrap(),
        Bytes::from_static(b"w")
    );
}

#[test]
fn write_by_non_peeker_is_denied_and_nothing_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![]);
    // One good write and one bad one in the same set: all or nothing.
    let err = store
        .commit_local(&set(
            vec![r.clone()],
            vec![write(r.id, "k", b"v", APP), write(r.id, "k2", b"v", OTHER)],
        ))
        .unwrap_err();
    assert!(matches!(err, StoreError::AccessDenied { caller, .. } if caller == OTHER));
    assert_untouched(&store, &KETTLE);
    assert_eq!(store.record(&r.id).unwrap(), None);

    // Same for a committed record.
    store.commit_local(&set(vec![r.clone()], vec![])).unwrap();
    assert!(matches!(
        store.store(r.id, "k", Bytes::from_static(b"v"), OTHER),
        Err(StoreError::AccessDenied { .. })
    ));
    assert_eq!(store.value(&r.id, "k").unwrap(), None);
}

#[test]
fn write_to_missing_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ghost = DataId::repeat_byte(0x77);
    assert!(matches!(
        store.store(ghost, "k", Bytes::from_static(b"v"), APP),
        Err(StoreError::RecordNotFound(id)) if id == ghost
    ));
    assert_untouched(&store, &KETTLE);
}

#[test]
fn inconsistent_record_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut r = record(1, 1, "ns", vec![APP], vec![]);
    r.allowed_peekers.push(OTHER); // id no longer matches the fields
    let err = store
        .commit_local(&set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]))
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(m) if m.contains("does not match")));
    assert_untouched(&store, &KETTLE);
}

#[test]
fn local_commits_ignore_allowed_stores() {
    // suave-geth does not check allowedStores for local writes; neither do we.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![PEER]);
    store
        .commit_local(&set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]))
        .unwrap();
    assert!(store.value(&r.id, "k").unwrap().is_some());
}

#[test]
fn remote_apply_accepts_when_both_kettles_are_allowed_stores() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![PEER, KETTLE]);
    let receipt = store
        .apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]),
        )
        .unwrap()
        .unwrap();
    assert_eq!((receipt.origin, receipt.seq), (PEER, 1));
    assert_eq!(
        store.value(&r.id, "k").unwrap(),
        Some(Bytes::from_static(b"v"))
    );
    assert_eq!(store.last_seq(&PEER), 1);
    assert_eq!(store.last_seq(&KETTLE), 0);
    // A later remote write to the now-committed record.
    store
        .apply_remote(PEER, &set(vec![], vec![write(r.id, "k", b"w", APP)]))
        .unwrap();
    assert_eq!(store.last_seq(&PEER), 2);
    assert!(store.verify().unwrap().problems.is_empty());
}

#[test]
fn remote_apply_denies_an_origin_that_is_not_an_allowed_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![KETTLE]);
    let err = store
        .apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]),
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::StoreNotAllowed { kettle, id } if kettle == PEER && id == r.id)
    );
    assert_untouched(&store, &PEER);
}

#[test]
fn remote_apply_denies_when_this_kettle_is_not_an_allowed_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![PEER]);
    let err = store
        .apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::StoreNotAllowed { kettle, .. } if kettle == KETTLE));
    assert_untouched(&store, &PEER);
}

#[test]
fn remote_apply_denies_writes_to_committed_records_it_may_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // Committed locally; the peer is not an allowed store of it.
    let r = record(1, 1, "ns", vec![APP], vec![KETTLE]);
    store.commit_local(&set(vec![r.clone()], vec![])).unwrap();
    let err = store
        .apply_remote(PEER, &set(vec![], vec![write(r.id, "k", b"v", APP)]))
        .unwrap_err();
    assert!(matches!(err, StoreError::StoreNotAllowed { kettle, .. } if kettle == PEER));
    assert_eq!(store.value(&r.id, "k").unwrap(), None);
    assert_eq!(store.last_seq(&PEER), 0);
}

#[test]
fn remote_apply_denies_a_non_peeker_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = record(1, 1, "ns", vec![APP], vec![PEER, KETTLE]);
    let err = store
        .apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", b"v", OTHER)]),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::AccessDenied { caller, .. } if caller == OTHER));
    assert_untouched(&store, &PEER);
}

#[test]
fn remote_apply_without_a_local_identity_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreOptions::new(StoreLimits::default())
        .open(dir.path(), &secret())
        .unwrap();
    let r = record(1, 1, "ns", vec![APP], vec![PEER, KETTLE]);
    let err = store
        .apply_remote(
            PEER,
            &set(vec![r.clone()], vec![write(r.id, "k", b"v", APP)]),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::StoreNotAllowed { kettle, .. } if kettle == Address::ZERO));
    assert_untouched(&store, &PEER);
}
