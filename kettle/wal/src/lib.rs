//! Group commit of a RocksDB write-ahead log (WAL), shared by every writer of one database.
//!
//! The kettle's chain and its confidential store write to one RocksDB database, so one WAL.
//! A writer writes its batch without syncing, takes a ticket right after the write, and then
//! either waits for a sync that covers its ticket ([`GroupSync::sync_through`]) or leaves the
//! ticket for a later sync to cover ([`GroupSync::sync_all`], the node's background sync).
//! Only one sync runs at a time; writers that queue behind it find their ticket already
//! covered, or share the next one. Because the WAL is a single append-only log, syncing it
//! makes every earlier write durable, whoever wrote it: a block's sync covers the store's
//! waiting writes and the other way round, and neither side syncs again for the other.
//!
//! Correctness needs only that a ticket is taken after its batch is written: a sync reads the
//! last ticket before it calls RocksDB, so every ticket it records as durable has its batch
//! in the WAL already. Writers need not take tickets in the order of their writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rocksdb::DB;

/// Tickets of written batches and the highest one known durable.
#[derive(Debug, Default)]
pub struct GroupSync {
    /// Tickets handed out: every ticket up to this one has its batch in the WAL.
    written: AtomicU64,
    /// Every ticket up to this one is durable. Held while a sync runs.
    synced: Mutex<u64>,
    /// WAL syncs run so far.
    syncs: AtomicU64,
}

impl GroupSync {
    /// A ticket for a batch that has just been written (call after the write).
    pub fn written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Whether some ticket handed out is not yet durable.
    pub fn pending(&self) -> bool {
        let synced = *self.synced.lock().unwrap_or_else(|p| p.into_inner());
        self.written.load(Ordering::Acquire) > synced
    }

    /// Makes every ticket handed out so far durable (syncs unless none is pending); returns
    /// how many tickets the sync covered.
    pub fn sync_all(&self, db: &DB) -> Result<u64, rocksdb::Error> {
        self.sync_through(db, self.written.load(Ordering::Acquire))
    }

    /// How many WAL syncs have run.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Returns once the batch of `ticket` is durable: syncs the WAL unless a sync that
    /// started after that batch was written already did. Returns how many tickets the sync
    /// it ran covered (0 if it did not have to sync), for tracing.
    pub fn sync_through(&self, db: &DB, ticket: u64) -> Result<u64, rocksdb::Error> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if *synced >= ticket {
            return Ok(0);
        }
        // Read before syncing: every ticket up to here has its batch in the WAL already.
        let through = self.written.load(Ordering::Acquire);
        db.flush_wal(true)?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        let covered = through - *synced;
        *synced = through;
        Ok(covered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sync_covers_every_ticket_written_before_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = DB::open_default(dir.path()).expect("open");
        let group = GroupSync::default();
        let tickets: Vec<u64> = (0..5).map(|_| group.written()).collect();
        assert_eq!(tickets, vec![1, 2, 3, 4, 5]);
        // The last writer syncs for everyone; the others find their ticket covered.
        assert_eq!(group.sync_through(&db, 5).expect("sync"), 5);
        for t in tickets {
            assert_eq!(group.sync_through(&db, t).expect("sync"), 0);
        }
        // A later write needs a new sync.
        let next = group.written();
        assert_eq!(group.sync_through(&db, next).expect("sync"), 1);
        assert_eq!(group.syncs(), 2);
        // Tickets nobody waits for: one sync covers them all, and then nothing is pending.
        assert!(!group.pending());
        group.written();
        group.written();
        assert!(group.pending());
        assert_eq!(group.sync_all(&db).expect("sync"), 2);
        assert!(!group.pending());
        assert_eq!(group.sync_all(&db).expect("sync"), 0);
        assert_eq!(group.syncs(), 3);
    }

    #[test]
    fn concurrent_commits_share_syncs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = std::sync::Arc::new(DB::open_default(dir.path()).expect("open"));
        let group = std::sync::Arc::new(GroupSync::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (db, group) = (db.clone(), group.clone());
                std::thread::spawn(move || {
                    let mut syncs = 0;
                    for i in 0..50u32 {
                        db.put(i.to_be_bytes(), b"v").expect("put");
                        let ticket = group.written();
                        if group.sync_through(&db, ticket).expect("sync") > 0 {
                            syncs += 1;
                        }
                    }
                    syncs
                })
            })
            .collect();
        let syncs: u32 = threads.into_iter().map(|t| t.join().expect("join")).sum();
        // Every ticket got covered, by at most one sync per ticket.
        assert!((1..=400).contains(&syncs), "syncs {syncs}");
        assert_eq!(*group.synced.lock().expect("lock"), 400);
    }
}
