//! [`MemoryStore`]: a [`ConfidentialStore`] in memory, for tests, tools and dev setups.
//!
//! Semantics match what the overlay expects of any backend: records indexed by
//! (decryption condition, namespace) in commit order, values keyed by (record, key), last
//! write wins, and an all-or-nothing [`commit`](ConfidentialStore::commit) (validated first,
//! then applied under one lock). Nothing is encrypted or persisted.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use alloy_primitives::Bytes;
use kettle_primitives::{DataId, DataRecord};

use super::{ConfidentialStore, StoreError, StoreWriteSet};

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<DataId, DataRecord>,
    /// (decryption condition, namespace) → ids in commit order.
    index: HashMap<(u64, String), Vec<DataId>>,
    values: HashMap<(DataId, String), Bytes>,
}

/// A confidential store held in memory; see the module documentation.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of committed records.
    pub fn record_count(&self) -> usize {
        self.read(|inner| inner.records.len())
    }

    /// Number of committed values.
    pub fn value_count(&self) -> usize {
        self.read(|inner| inner.values.len())
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        // A panic while holding the lock cannot leave `Inner` half-updated (commit validates
        // before it mutates), so a poisoned lock is still consistent.
        let guard = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        f(&guard)
    }
}

impl ConfidentialStore for MemoryStore {
    fn record(&self, id: &DataId) -> Result<Option<DataRecord>, StoreError> {
        Ok(self.read(|inner| inner.records.get(id).cloned()))
    }

    fn records_by_condition(
        &self,
        decryption_condition: u64,
        namespace: &str,
    ) -> Result<Vec<DataRecord>, StoreError> {
        Ok(self.read(|inner| {
            inner
                .index
                .get(&(decryption_condition, namespace.to_string()))
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| inner.records.get(id).cloned())
                        .collect()
                })
                .unwrap_or_default()
        }))
    }

    fn value(&self, id: &DataId, key: &str) -> Result<Option<Bytes>, StoreError> {
        Ok(self.read(|inner| inner.values.get(&(*id, key.to_string())).cloned()))
    }

    fn commit(&self, writes: &StoreWriteSet) -> Result<(), StoreError> {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        // Validate everything first so a failing commit changes nothing.
        for (i, record) in writes.records.iter().enumerate() {
            if inner.records.contains_key(&record.id)
                || writes.records[..i].iter().any(|r| r.id == record.id)
            {
                return Err(StoreError::RecordExists(record.id));
            }
        }
        for write in &writes.writes {
            let known = inner.records.contains_key(&write.id)
                || writes.records.iter().any(|r| r.id == write.id);
            if !known {
                return Err(StoreError::RecordNotFound(write.id));
            }
        }
        for record in &writes.records {
            inner
                .index
                .entry((record.decryption_condition, record.version.clone()))
                .or_default()
                .push(record.id);
            inner.records.insert(record.id, record.clone());
        }
        for write in &writes.writes {
            inner
                .values
                .insert((write.id, write.key.clone()), write.value.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{StoreLimits, StoreOverlay, StoreWrite};
    use alloy_primitives::Address;
    use kettle_primitives::ANYALLOWED;

    const PEEKER: Address = Address::repeat_byte(0x0a);
    const OTHER: Address = Address::repeat_byte(0x0b);

    fn record(salt: u8, cond: u64, ns: &str, peekers: Vec<Address>) -> DataRecord {
        DataRecord::new(DataId::repeat_byte(salt), cond, peekers, vec![], ns.into())
    }

    fn committed(records: Vec<DataRecord>, writes: Vec<StoreWrite>) -> MemoryStore {
        let store = MemoryStore::new();
        store.commit(&StoreWriteSet { records, writes }).unwrap();
        store
    }

    #[test]
    fn commit_indexes_and_reads_back() {
        let a = record(1, 5, "ns", vec![PEEKER]);
        let b = record(2, 5, "ns", vec![PEEKER]);
        let c = record(3, 6, "ns", vec![PEEKER]);
        let store = committed(
            vec![a.clone(), b.clone(), c.clone()],
            vec![StoreWrite {
                id: a.id,
                key: "k".into(),
                value: Bytes::from_static(b"v"),
                caller: PEEKER,
            }],
        );
        assert_eq!(
            store.records_by_condition(5, "ns").unwrap(),
            vec![a.clone(), b]
        );
        assert_eq!(store.records_by_condition(6, "ns").unwrap(), vec![c]);
        assert!(store.records_by_condition(5, "other").unwrap().is_empty());
        assert_eq!(
            store.value(&a.id, "k").unwrap(),
            Some(Bytes::from_static(b"v"))
        );
        assert_eq!(store.value(&a.id, "x").unwrap(), None);
        assert_eq!((store.record_count(), store.value_count()), (3, 1));
    }

    #[test]
    fn failed_commit_changes_nothing() {
        let a = record(1, 5, "ns", vec![PEEKER]);
        let store = committed(vec![a.clone()], vec![]);
        let b = record(2, 5, "ns", vec![PEEKER]);
        // Duplicate record: rejected as a whole, b not added.
        let err = store.commit(&StoreWriteSet {
            records: vec![b.clone(), a.clone()],
            writes: vec![],
        });
        assert!(matches!(err, Err(StoreError::RecordExists(id)) if id == a.id));
        assert_eq!(store.record_count(), 1);
        // Write to an unknown record: rejected.
        let err = store.commit(&StoreWriteSet {
            records: vec![],
            writes: vec![StoreWrite {
                id: b.id,
                key: "k".into(),
                value: Bytes::new(),
                caller: PEEKER,
            }],
        });
        assert!(matches!(err, Err(StoreError::RecordNotFound(_))));
    }

    #[test]
    fn overlay_reads_its_own_writes_then_committed() {
        let a = record(1, 5, "ns", vec![PEEKER]);
        let store = committed(
            vec![a.clone()],
            vec![StoreWrite {
                id: a.id,
                key: "k".into(),
                value: Bytes::from_static(b"old"),
                caller: PEEKER,
            }],
        );
        let mut overlay = StoreOverlay::new(&store, StoreLimits::default());
        assert_eq!(
            overlay.retrieve(a.id, "k", PEEKER).unwrap(),
            Bytes::from_static(b"old")
        );
        overlay
            .store(a.id, "k", Bytes::from_static(b"new1"), PEEKER)
            .unwrap();
        overlay
            .store(a.id, "k", Bytes::from_static(b"new2"), PEEKER)
            .unwrap();
        assert_eq!(
            overlay.retrieve(a.id, "k", PEEKER).unwrap(),
            Bytes::from_static(b"new2")
        );
        // The committed store is untouched until commit.
        assert_eq!(
            store.value(&a.id, "k").unwrap(),
            Some(Bytes::from_static(b"old"))
        );
        let set = overlay.into_write_set();
        assert_eq!(set.writes.len(), 2);
        store.commit(&set).unwrap();
        assert_eq!(
            store.value(&a.id, "k").unwrap(),
            Some(Bytes::from_static(b"new2"))
        );
    }

    #[test]
    fn overlay_fetch_order_committed_then_staged() {
        let a = record(1, 5, "ns", vec![PEEKER]);
        let b = record(2, 5, "ns", vec![PEEKER]);
        let store = committed(vec![a.clone(), b.clone()], vec![]);
        let mut overlay = StoreOverlay::new(&store, StoreLimits::default());
        let c = record(3, 5, "ns", vec![]);
        let d = record(4, 5, "other", vec![]);
        let e = record(5, 5, "ns", vec![]);
        overlay.create_record(c.clone()).unwrap();
        overlay.create_record(d).unwrap();
        overlay.create_record(e.clone()).unwrap();
        assert_eq!(overlay.fetch_records(5, "ns").unwrap(), vec![a, b, c, e]);
    }

    #[test]
    fn overlay_errors() {
        let a = record(1, 5, "ns", vec![PEEKER]);
        let store = committed(vec![a.clone()], vec![]);
        let mut overlay = StoreOverlay::new(&store, StoreLimits::default());
        // Existing id (committed or staged).
        assert!(matches!(
            overlay.create_record(a.clone()),
            Err(StoreError::RecordExists(_))
        ));
        let b = record(2, 5, "ns", vec![ANYALLOWED]);
        overlay.create_record(b.clone()).unwrap();
        let err = overlay.create_record(b.clone()).unwrap_err();
        assert_eq!(err.to_string(), "record with this id already exists");
        // Unknown record, missing value, wrong peeker.
        let unknown = DataId::repeat_byte(9);
        assert_eq!(
            overlay
                .retrieve(unknown, "k", PEEKER)
                .unwrap_err()
                .to_string(),
            "data record not found"
        );
        assert_eq!(
            overlay
                .retrieve(a.id, "missing", PEEKER)
                .unwrap_err()
                .to_string(),
            "data for key missing not found"
        );
        assert!(matches!(
            overlay.store(a.id, "k", Bytes::new(), OTHER),
            Err(StoreError::AccessDenied { .. })
        ));
        // The wildcard admits anyone.
        overlay
            .store(b.id, "k", Bytes::from_static(b"v"), OTHER)
            .unwrap();
        assert_eq!(
            overlay.retrieve(b.id, "k", PEEKER).unwrap(),
            Bytes::from_static(b"v")
        );
    }

    #[test]
    fn overlay_limits() {
        let store = MemoryStore::new();
        let limits = StoreLimits {
            max_value_bytes: 4,
            max_records_per_request: 1,
            max_writes_per_request: 1,
        };
        let mut overlay = StoreOverlay::new(&store, limits);
        let a = record(1, 5, "ns", vec![PEEKER]);
        overlay.create_record(a.clone()).unwrap();
        assert!(matches!(
            overlay.create_record(record(2, 5, "ns", vec![])),
            Err(StoreError::LimitExceeded(_))
        ));
        assert!(matches!(
            overlay.store(a.id, "k", Bytes::from_static(b"12345"), PEEKER),
            Err(StoreError::LimitExceeded(_))
        ));
        overlay
            .store(a.id, "k", Bytes::from_static(b"1234"), PEEKER)
            .unwrap();
        assert!(matches!(
            overlay.store(a.id, "k", Bytes::from_static(b"1"), PEEKER),
            Err(StoreError::LimitExceeded(_))
        ));
        // A failed write stages nothing.
        assert_eq!(overlay.staged().writes.len(), 1);
    }
}
