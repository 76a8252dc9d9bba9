//! Numbered store sync between the kettles of a cluster: what a kettle ships to a peer
//! ([`EncryptedStore::outbound_since`]) and how a peer applies it in order
//! ([`EncryptedStore::apply_remote_seq`]).
//!
//! Every local commit `s` of kettle `O` is shipped to every other cluster kettle `D` as the
//! part `D` may hold, possibly empty, tagged with `s`. `D` applies `O`'s commits strictly in
//! order and logs each one (even an empty one) under `O` with `O`'s own number, so
//! [`EncryptedStore::last_seq`]`(O)` on `D` is a durable cursor: "everything of `O` up to
//! here". `O` learns the cursor from `D`'s reply ([`RemoteApply`]) and resends from the next
//! number, so live sync and catch-up after downtime are the same code path.

use std::collections::{HashMap, HashSet};

use alloy_primitives::{Address, Bytes};
use kettle_primitives::{DataId, DataRecord};
use rocksdb::Snapshot;
use suave_precompiles::{StoreError, StoreWrite, StoreWriteSet};
use tracing::{debug, field, info_span};

use super::{cf, CommitReceipt, Committed, EncryptedStore};
use crate::error::{corrupt, db_err};
use crate::layout::{value_key, CF_RECORDS, CF_VALUES};

/// What [`EncryptedStore::apply_remote_seq`] did with a numbered commit of a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteApply {
    /// The commit was the next one of its origin and is now durable here;
    /// `receipt.seq` is its number.
    Applied(CommitReceipt),
    /// The commit was applied before (its number is at most `cursor`): nothing was done.
    Duplicate {
        /// The origin's last commit number applied here.
        cursor: u64,
    },
    /// Commits between `cursor` and this one are missing: nothing was done; the sender must
    /// resend from `cursor + 1`.
    Gap {
        /// The origin's last commit number applied here.
        cursor: u64,
    },
}

impl RemoteApply {
    /// The origin's cursor here after the call: everything of it up to this number is held.
    pub fn cursor(&self) -> u64 {
        match self {
            Self::Applied(receipt) => receipt.seq,
            Self::Duplicate { cursor } | Self::Gap { cursor } => *cursor,
        }
    }

    /// Why commit `seq` cannot be applied after `cursor`, or `None` if it is the next one.
    fn out_of_order(seq: u64, cursor: u64) -> Option<Self> {
        if seq <= cursor {
            Some(Self::Duplicate { cursor })
        } else if seq - cursor > 1 {
            Some(Self::Gap { cursor })
        } else {
            None
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Duplicate { .. } => "duplicate",
            Self::Gap { .. } => "gap",
        }
    }
}

impl EncryptedStore {
    /// Applies commit number `seq` of kettle `origin`, as produced by the origin's
    /// [`EncryptedStore::outbound_since`], if and only if it is the next one of `origin` here.
    ///
    /// Order is checked under the commit lock, so concurrent calls are safe: of several calls
    /// with the same `seq` exactly one applies it. A commit at or below the cursor is a
    /// [`RemoteApply::Duplicate`], one beyond the next a [`RemoteApply::Gap`]; neither
    /// changes anything. The next commit is validated as by [`EncryptedStore::apply_remote`]
    /// (ids, writers allowed peekers, `origin` and one of this kettle's accounts allowed
    /// stores of every record in the set and of every record written, limits); if it is
    /// refused nothing is applied and the cursor stays. Records already present are skipped.
    /// The set may carry, beyond the records the commit created, one record per write (the
    /// records written to), so up to `max_records_per_request + max_writes_per_request`
    /// records are accepted.
    ///
    /// An empty set is logged too (an empty manifest, one synced batch when `sync_writes` is
    /// on), so the cursor advances durably and the origin's log here stays contiguous and
    /// numbered like the origin's own: [`EncryptedStore::last_seq`]`(origin)` is the cursor,
    /// across restarts. Do not use [`EncryptedStore::apply_remote`] for an origin synced
    /// with this method: it would take a number of the origin's sequence.
    ///
    /// Refuses (with [`StoreError::Backend`]) an `origin` that is one of this kettle's own
    /// accounts: its local commits are numbered under it.
    pub fn apply_remote_seq(
        &self,
        origin: Address,
        seq: u64,
        writes: &StoreWriteSet,
    ) -> Result<RemoteApply, StoreError> {
        let span = info_span!(
            "store_sync_apply",
            %origin,
            seq,
            records = writes.records.len(),
            writes = writes.writes.len(),
            outcome = field::Empty,
            cursor = field::Empty,
        );
        let _guard = span.enter();
        if origin == self.local_origin() || self.options.local_kettles.contains(&origin) {
            return Err(StoreError::Backend(format!(
                "refusing sync from {origin}: it is an account of this kettle"
            )));
        }
        // The cursor only grows, so an early verdict saves the sealing; the one that counts
        // is taken again under the commit lock.
        let outcome = match RemoteApply::out_of_order(seq, self.last_seq(&origin)) {
            Some(early) => early,
            None => match self.apply_numbered(writes, origin, true, Some(seq))? {
                Committed::Done(Some(receipt), ()) => RemoteApply::Applied(receipt),
                Committed::Done(None, ()) => {
                    return Err(StoreError::Backend(
                        "numbered commit produced no receipt (bug)".into(),
                    ))
                }
                Committed::OutOfOrder { cursor } => RemoteApply::out_of_order(seq, cursor)
                    .ok_or_else(|| {
                        StoreError::Backend("in-order commit refused as out of order (bug)".into())
                    })?,
            },
        };
        span.record("outcome", outcome.name());
        span.record("cursor", outcome.cursor());
        debug!("sync commit handled");
        Ok(outcome)
    }

    /// Up to `max` of this kettle's local commits (logged under
    /// [`EncryptedStore::local_origin`]) numbered above `after`, in order, each as the write
    /// set kettle `dest` may receive, for `dest` to apply with
    /// [`EncryptedStore::apply_remote_seq`]. `after` is `dest`'s cursor for this kettle
    /// (0 for a kettle that has nothing yet).
    ///
    /// A set holds, for each write the commit logged to a record that lists both this kettle
    /// (its local origin) and `dest` as allowed stores, that write with the value the store
    /// holds for its (record, key) *now*; and the records such writes refer to plus the
    /// records the commit created that list both. Nothing of a record that does not list
    /// `dest` is ever included; neither is a record that does not list this kettle, which
    /// `dest` would refuse from it. A commit with nothing for `dest` yields an empty set,
    /// which `dest` must still apply to keep its cursor contiguous.
    ///
    /// Values are last-write-wins and only the current one is kept, so when a later commit
    /// overwrote a (record, key), an earlier commit ships the later value (and the later
    /// commit ships it again): `dest` may see a value earlier than it would have live, but
    /// once it has applied everything it holds the same values. Records referenced by writes
    /// are shipped even if an earlier set or a third kettle's sync already delivered them
    /// (the receiver skips them), so applying never depends on the order in which different
    /// origins' syncs arrive.
    ///
    /// Only durable commits are included (see [`EncryptedStore::commit_local_with`]). Reads
    /// one snapshot. Every value of the returned sets is held in memory at once: size `max`
    /// accordingly.
    pub fn outbound_since(
        &self,
        dest: Address,
        after: u64,
        max: usize,
    ) -> Result<Vec<(u64, StoreWriteSet)>, StoreError> {
        let origin = self.local_origin();
        let span = info_span!(
            "store_outbound",
            %origin,
            %dest,
            after,
            max,
            commits = field::Empty,
            writes = field::Empty,
        );
        let _guard = span.enter();
        // Only durable commits leave: a peer must never hold a commit this kettle could lose
        // in a crash and then number differently.
        let durable = *self.local_commits.borrow();
        let snap = self.db.snapshot();
        let mut manifests = self.manifests_at(&snap, &origin, after, max)?;
        manifests.retain(|(seq, _)| *seq <= durable);
        let shareable = |r: &DataRecord| r.is_store(origin) && r.is_store(dest);

        let mut loaded: HashMap<DataId, DataRecord> = HashMap::new();
        let mut out = Vec::with_capacity(manifests.len());
        let mut shipped_writes = 0usize;
        for (seq, manifest) in manifests {
            let mut set = StoreWriteSet::default();
            let mut included: HashSet<DataId> = HashSet::new();
            for id in &manifest.records {
                let r = self.record_at(&snap, &mut loaded, id, seq)?;
                if shareable(r) && included.insert(*id) {
                    set.records.push(r.clone());
                }
            }
            for w in manifest.writes {
                let r = self.record_at(&snap, &mut loaded, &w.id, seq)?;
                if !shareable(r) {
                    continue;
                }
                if included.insert(w.id) {
                    set.records.push(r.clone());
                }
                let value = self.value_at(&snap, &w.id, &w.key)?.ok_or_else(|| {
                    corrupt(format!(
                        "commit log {origin} #{seq} names a value of {} that is missing",
                        w.id
                    ))
                })?;
                set.writes.push(StoreWrite {
                    id: w.id,
                    key: w.key,
                    value,
                    caller: w.caller,
                });
            }
            shipped_writes += set.writes.len();
            out.push((seq, set));
        }
        span.record("commits", out.len());
        span.record("writes", shipped_writes);
        debug!("outbound sync sets built");
        Ok(out)
    }

    /// Record `id`, named by commit `seq`'s manifest, as of `snap` (records never change, so
    /// the shared cache is as good as the snapshot).
    fn record_at<'m>(
        &self,
        snap: &Snapshot<'_>,
        loaded: &'m mut HashMap<DataId, DataRecord>,
        id: &DataId,
        seq: u64,
    ) -> Result<&'m DataRecord, StoreError> {
        if !loaded.contains_key(id) {
            let record = match self.records.get(id) {
                Some(r) => r,
                None => {
                    let sealed = snap
                        .get_pinned_cf(cf(&self.db, CF_RECORDS)?, id.as_slice())
                        .map_err(db_err)?
                        .ok_or_else(|| {
                            corrupt(format!("local commit #{seq} names missing record {id}"))
                        })?;
                    let r = self.open_record(id, &sealed)?;
                    self.records.insert(&r);
                    r
                }
            };
            loaded.insert(*id, record);
        }
        loaded
            .get(id)
            .ok_or_else(|| StoreError::Backend("record vanished from a local map (bug)".into()))
    }

    /// The value of (`id`, `key`) as of `snap`.
    fn value_at(
        &self,
        snap: &Snapshot<'_>,
        id: &DataId,
        key: &str,
    ) -> Result<Option<Bytes>, StoreError> {
        let name = self.hashers.value_tag(id, key);
        let sealed = snap
            .get_pinned_cf(cf(&self.db, CF_VALUES)?, value_key(id, &name))
            .map_err(db_err)?;
        self.open_value(id, key, &name, sealed.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use suave_precompiles::{ConfidentialStore, StoreLimits};

    use super::*;
    use crate::{KettleSecret, StoreOptions};

    const APP: Address = Address::repeat_byte(0xa1);
    const A: Address = Address::repeat_byte(0x0a);
    const B: Address = Address::repeat_byte(0x0b);
    const C: Address = Address::repeat_byte(0x0c);

    fn open(dir: &Path, kettle: Address) -> EncryptedStore {
        StoreOptions::new(StoreLimits::default())
            .with_local_kettles(vec![kettle])
            .open(dir, &KettleSecret::from_array([kettle.0[0]; 32]))
            .unwrap()
    }

    fn rec(n: u8, stores: &[Address]) -> DataRecord {
        DataRecord::new(
            DataId::repeat_byte(n),
            7,
            vec![APP],
            stores.to_vec(),
            "ns".into(),
        )
    }

    fn w(r: &DataRecord, key: &str, value: &str) -> StoreWrite {
        StoreWrite {
            id: r.id,
            key: key.into(),
            value: Bytes::copy_from_slice(value.as_bytes()),
            caller: APP,
        }
    }

    fn set(records: &[&DataRecord], writes: Vec<StoreWrite>) -> StoreWriteSet {
        StoreWriteSet {
            records: records.iter().map(|r| (*r).clone()).collect(),
            writes,
        }
    }

    fn get(s: &EncryptedStore, r: &DataRecord, key: &str) -> Option<String> {
        match s.retrieve(&r.id, key, APP) {
            Ok(v) => Some(String::from_utf8(v.to_vec()).unwrap()),
            Err(StoreError::RecordNotFound(_) | StoreError::ValueNotFound { .. }) => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// Ships everything of `from` that `to` (kettle `to_addr`) lacks, `batch` commits at a
    /// time, from `to`'s cursor; returns how many commits were applied.
    fn sync(from: &EncryptedStore, to: &EncryptedStore, to_addr: Address, batch: usize) -> u64 {
        let origin = from.local_origin();
        let mut applied = 0;
        loop {
            let sets = from
                .outbound_since(to_addr, to.last_seq(&origin), batch)
                .unwrap();
            if sets.is_empty() {
                return applied;
            }
            for (seq, ws) in sets {
                match to.apply_remote_seq(origin, seq, &ws).unwrap() {
                    RemoteApply::Applied(r) => assert_eq!(r.seq, seq),
                    other => panic!("seq {seq}: {other:?}"),
                }
                applied += 1;
            }
        }
    }

    fn assert_healthy(stores: &[&EncryptedStore]) {
        for s in stores {
            let report = s.verify().unwrap();
            assert!(report.problems.is_empty(), "{:?}", report.problems);
        }
    }

    /// The cluster's records: only A may write them locally here (local commits do not
    /// check allowed stores).
    struct Fixture {
        ab: DataRecord,
        ac: DataRecord,
        abc: DataRecord,
        ab2: DataRecord,
        /// Lists B and C but not A: A must never ship it.
        bc: DataRecord,
    }

    fn fixture() -> Fixture {
        Fixture {
            ab: rec(1, &[A, B]),
            ac: rec(2, &[A, C]),
            abc: rec(3, &[A, B, C]),
            ab2: rec(4, &[A, B]),
            bc: rec(5, &[B, C]),
        }
    }

    /// A's commits, in order. #3 has nothing for B, #4 nothing for C, #6 nothing for anyone.
    fn commits(f: &Fixture) -> Vec<StoreWriteSet> {
        vec![
            set(
                &[&f.ab, &f.ac, &f.abc],
                vec![
                    w(&f.ab, "k", "ab1"),
                    w(&f.ac, "k", "ac1"),
                    w(&f.abc, "k", "abc1"),
                ],
            ),
            set(&[], vec![w(&f.ab, "k", "ab2"), w(&f.abc, "j", "abc-j")]),
            set(&[], vec![w(&f.ac, "k", "ac2")]),
            set(&[&f.ab2], vec![w(&f.ab2, "k", "ab2-1")]),
            set(&[], vec![w(&f.abc, "k", "abc2"), w(&f.ab, "k", "ab3")]),
            set(&[&f.bc], vec![w(&f.bc, "k", "bc1")]),
        ]
    }

    #[test]
    fn live_sync_ships_each_kettle_only_what_it_may_hold() {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let (a, b, c) = (
            open(dirs[0].path(), A),
            open(dirs[1].path(), B),
            open(dirs[2].path(), C),
        );
        let f = fixture();
        for (i, ws) in commits(&f).iter().enumerate() {
            let seq = a.commit_local(ws).unwrap().unwrap().seq;
            assert_eq!(seq, i as u64 + 1);
            // What C gets never mentions a record C may not hold.
            for (_, out) in a.outbound_since(C, seq - 1, 10).unwrap() {
                for r in &out.records {
                    assert!(r.is_store(C) && r.is_store(A), "{r:?} shipped to C");
                }
                for wr in &out.writes {
                    assert!(![f.ab.id, f.ab2.id, f.bc.id].contains(&wr.id), "{wr:?}");
                }
            }
            for (_, out) in a.outbound_since(B, seq - 1, 10).unwrap() {
                assert!(out
                    .records
                    .iter()
                    .all(|r| r.id != f.ac.id && r.id != f.bc.id));
                assert!(out
                    .writes
                    .iter()
                    .all(|x| x.id != f.ac.id && x.id != f.bc.id));
            }
            assert_eq!(sync(&a, &b, B, 10), 1);
            assert_eq!(sync(&a, &c, C, 10), 1);
            assert_eq!(b.last_seq(&A), seq);
            assert_eq!(c.last_seq(&A), seq);
        }
        // Commits with nothing for the destination were still numbered and logged, empty.
        let b_log = b.commit_log(&A, 0, 100).unwrap();
        assert_eq!(
            b_log.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(b_log[2].1, Default::default());
        assert_eq!(b_log[5].1, Default::default());
        assert_eq!(c.commit_log(&A, 3, 1).unwrap()[0].1, Default::default());

        assert_eq!(get(&b, &f.ab, "k").as_deref(), Some("ab3"));
        assert_eq!(get(&b, &f.abc, "k").as_deref(), Some("abc2"));
        assert_eq!(get(&b, &f.abc, "j").as_deref(), Some("abc-j"));
        assert_eq!(get(&b, &f.ab2, "k").as_deref(), Some("ab2-1"));
        assert!(b.record(&f.ac.id).unwrap().is_none());
        assert!(b.record(&f.bc.id).unwrap().is_none());

        assert_eq!(get(&c, &f.ac, "k").as_deref(), Some("ac2"));
        assert_eq!(get(&c, &f.abc, "k").as_deref(), Some("abc2"));
        assert_eq!(get(&c, &f.abc, "j").as_deref(), Some("abc-j"));
        for r in [&f.ab, &f.ab2, &f.bc] {
            assert!(c.record(&r.id).unwrap().is_none());
        }
        assert_healthy(&[&a, &b, &c]);
    }

    #[test]
    fn duplicates_and_gaps_apply_nothing() {
        let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
        let (a, b) = (open(dirs[0].path(), A), open(dirs[1].path(), B));
        let f = fixture();
        for ws in commits(&f) {
            a.commit_local(&ws).unwrap();
        }
        let out = a.outbound_since(B, 0, 100).unwrap();
        assert_eq!(out.len(), 6);
        assert_eq!(
            a.outbound_since(B, 2, 2)
                .unwrap()
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        assert!(a.outbound_since(B, 6, 100).unwrap().is_empty());
        assert!(a.outbound_since(B, 0, 0).unwrap().is_empty());

        let applied = b.apply_remote_seq(A, 1, &out[0].1).unwrap();
        assert!(matches!(applied, RemoteApply::Applied(r) if r.seq == 1 && r.origin == A));
        assert_eq!(
            b.apply_remote_seq(A, 1, &out[0].1).unwrap(),
            RemoteApply::Duplicate { cursor: 1 }
        );
        assert_eq!(
            b.apply_remote_seq(A, 0, &StoreWriteSet::default()).unwrap(),
            RemoteApply::Duplicate { cursor: 1 }
        );
        // #4 creates ab2: skipping #2 and #3 applies nothing of it.
        assert_eq!(out[3].0, 4);
        assert_eq!(
            b.apply_remote_seq(A, 4, &out[3].1).unwrap(),
            RemoteApply::Gap { cursor: 1 }
        );
        assert!(b.record(&f.ab2.id).unwrap().is_none());
        assert_eq!(b.last_seq(&A), 1);
        assert_eq!(b.commit_log(&A, 0, 100).unwrap().len(), 1);
        assert_eq!(
            b.apply_remote_seq(A, u64::MAX, &StoreWriteSet::default())
                .unwrap(),
            RemoteApply::Gap { cursor: 1 }
        );
        // The sender resends from the cursor.
        assert_eq!(sync(&a, &b, B, 2), 5);
        assert_eq!(get(&b, &f.ab2, "k").as_deref(), Some("ab2-1"));
        assert_healthy(&[&a, &b]);
    }

    #[test]
    fn empty_sets_advance_a_cursor_that_survives_reopen() {
        let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
        let a = open(dirs[0].path(), A);
        let f = fixture();
        // Nothing for B in either.
        a.commit_local(&set(&[&f.ac], vec![w(&f.ac, "k", "v")]))
            .unwrap();
        a.commit_local(&set(&[&f.bc], vec![])).unwrap();
        a.commit_local(&set(&[&f.ab], vec![w(&f.ab, "k", "v")]))
            .unwrap();
        let out = a.outbound_since(B, 0, 10).unwrap();
        assert!(out[0].1.is_empty() && out[1].1.is_empty() && !out[2].1.is_empty());
        {
            let b = open(dirs[1].path(), B);
            for (seq, ws) in &out[..2] {
                let r = b.apply_remote_seq(A, *seq, ws).unwrap();
                assert_eq!(
                    r,
                    RemoteApply::Applied(CommitReceipt {
                        origin: A,
                        seq: *seq,
                        records_created: 0,
                        values_written: 0,
                    })
                );
            }
            assert_eq!(b.last_seq(&A), 2);
        }
        let b = open(dirs[1].path(), B);
        assert_eq!(b.last_seq(&A), 2);
        let report = b.verify().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.commits, vec![(A, 2)]);
        assert_eq!(report.records, 0);
        assert_eq!(
            b.apply_remote_seq(A, 2, &out[1].1).unwrap(),
            RemoteApply::Duplicate { cursor: 2 }
        );
        assert_eq!(sync(&a, &b, B, 10), 1);
        assert_eq!(get(&b, &f.ab, "k").as_deref(), Some("v"));
        drop(b);
        let b = open(dirs[1].path(), B);
        assert_eq!(b.last_seq(&A), 3);
        assert_healthy(&[&a, &b]);
    }

    #[test]
    fn late_receiver_catches_up_in_order_to_the_same_values() {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let a = open(dirs[0].path(), A);
        let live = open(dirs[1].path(), B);
        let f = fixture();
        for ws in commits(&f) {
            a.commit_local(&ws).unwrap();
            sync(&a, &live, B, 10);
        }
        // A receiver that was down the whole time, catching up two commits at a time.
        let late = open(dirs[2].path(), B);
        assert_eq!(late.last_seq(&A), 0);
        let all = a.outbound_since(B, 0, usize::MAX).unwrap();
        // Current values: #1 already carries what #5 wrote last.
        assert!(all[0]
            .1
            .writes
            .iter()
            .any(|x| x.id == f.ab.id && x.key == "k" && x.value.as_ref() == b"ab3"));
        assert_eq!(sync(&a, &late, B, 2), 6);
        assert_eq!(late.last_seq(&A), live.last_seq(&A));
        for (r, key) in [
            (&f.ab, "k"),
            (&f.abc, "k"),
            (&f.abc, "j"),
            (&f.ab2, "k"),
            (&f.ac, "k"),
            (&f.bc, "k"),
        ] {
            assert_eq!(get(&late, r, key), get(&live, r, key), "{} {key}", r.id);
        }
        let (ids_live, ids_late) = (
            live.records_by_condition(7, "ns").unwrap(),
            late.records_by_condition(7, "ns").unwrap(),
        );
        assert_eq!(ids_live, ids_late);
        assert_eq!(ids_late.len(), 3);
        assert_healthy(&[&a, &live, &late]);
    }

    #[test]
    fn a_set_with_a_record_the_receiver_may_not_hold_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path(), B);
        let f = fixture();
        let bad_sets = [
            // A record (and value) for A and C only.
            set(
                &[&f.ab, &f.ac],
                vec![w(&f.ab, "k", "x"), w(&f.ac, "k", "y")],
            ),
            // A record that does not list the origin.
            set(&[&f.ab, &f.bc], vec![w(&f.ab, "k", "x")]),
            // A write to a record that is not there.
            set(&[], vec![w(&f.ab, "k", "x")]),
        ];
        for ws in &bad_sets {
            assert!(b.apply_remote_seq(A, 1, ws).is_err());
            assert_eq!(b.last_seq(&A), 0);
            assert!(b.record(&f.ab.id).unwrap().is_none());
        }
        assert!(matches!(
            b.apply_remote_seq(A, 1, &bad_sets[0]),
            Err(StoreError::StoreNotAllowed { id, kettle }) if id == f.ac.id && kettle == B
        ));
        // The cursor stayed: the same number with a valid set applies.
        let ok = set(&[&f.ab], vec![w(&f.ab, "k", "x")]);
        assert!(matches!(
            b.apply_remote_seq(A, 1, &ok).unwrap(),
            RemoteApply::Applied(_)
        ));
        assert_eq!(get(&b, &f.ab, "k").as_deref(), Some("x"));
        // This kettle's own account is never a sync origin.
        assert!(b.apply_remote_seq(B, 1, &StoreWriteSet::default()).is_err());
        assert_eq!(b.last_seq(&B), 0);
        assert_healthy(&[&b]);
    }

    #[test]
    fn writes_to_a_third_kettles_record_carry_the_record() {
        let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
        let (a, b, c) = (
            open(dirs[0].path(), A),
            open(dirs[1].path(), B),
            open(dirs[2].path(), C),
        );
        let f = fixture();
        // C creates a record for all three; A receives it and writes to it.
        c.commit_local(&set(&[&f.abc], vec![w(&f.abc, "c", "from-c")]))
            .unwrap();
        assert_eq!(sync(&c, &a, A, 10), 1);
        a.commit_local(&set(&[], vec![w(&f.abc, "a", "from-a")]))
            .unwrap();
        // B hears from A before it hears from C.
        let out = a.outbound_since(B, 0, 10).unwrap();
        assert_eq!(out[0].1.records, vec![f.abc.clone()]);
        assert_eq!(sync(&a, &b, B, 10), 1);
        assert_eq!(sync(&c, &b, B, 10), 1);
        assert_eq!(get(&b, &f.abc, "a").as_deref(), Some("from-a"));
        assert_eq!(get(&b, &f.abc, "c").as_deref(), Some("from-c"));
        assert_eq!(b.records_by_condition(7, "ns").unwrap().len(), 1);
        // A's own log does not hold C's commit, so A never re-ships it as its own.
        assert_eq!(a.outbound_since(C, 0, 10).unwrap().len(), 1);
        assert_healthy(&[&a, &b, &c]);
    }

    #[test]
    fn concurrent_applies_of_one_commit_apply_it_once() {
        let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
        let (a, b) = (open(dirs[0].path(), A), open(dirs[1].path(), B));
        let f = fixture();
        for ws in commits(&f) {
            a.commit_local(&ws).unwrap();
        }
        let out = a.outbound_since(B, 0, 100).unwrap();
        for (seq, ws) in &out {
            let results: Vec<RemoteApply> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| b.apply_remote_seq(A, *seq, ws).unwrap()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let applied = results
                .iter()
                .filter(|r| matches!(r, RemoteApply::Applied(_)))
                .count();
            assert_eq!(applied, 1, "{results:?}");
            assert!(results
                .iter()
                .all(|r| r.cursor() == *seq || matches!(r, RemoteApply::Applied(_))));
        }
        assert_eq!(b.last_seq(&A), 6);
        assert_healthy(&[&a, &b]);
    }
}
