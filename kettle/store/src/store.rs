//! [`EncryptedStore`]: the committed confidential store on RocksDB.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use alloy_primitives::{Address, Bytes};
use kettle_primitives::{DataId, DataRecord};
use kettle_wal::GroupSync;
use rocksdb::{IteratorMode, PrefixRange, ReadOptions, WriteBatch, WriteOptions, DB};
use suave_precompiles::{ConfidentialStore, StoreError, StoreLimits, StoreWrite, StoreWriteSet};
use tracing::{debug, field, info, info_span, trace, trace_span};

use crate::codec::{self, CommitManifest, LoggedWrite};
use crate::crypto::{
    self, Binding, Hashers, Kdf, Sealer, ValueNames, EPOCH_SEED_LEN, INDEX_TAG_LEN, KDF_SALT_LEN,
    VALUE_TAG_LEN,
};
use crate::error::{corrupt, db_err, StoreOpenError};
use crate::layout::*;
use crate::secret::KettleSecret;

mod sync;

pub use sync::RemoteApply;

/// How a store is opened: limits, the kettle's own identities and durability.
///
/// Why a struct: [`crate::open`] covers the common case; the node also needs to say which
/// kettle accounts are "this kettle" for `allowedStores` checks on sync.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Per-commit bounds (value size, records and writes per request); checked before any
    /// allocation or write.
    pub limits: StoreLimits,
    /// This kettle's accounts. Local commits are logged under the first one (or the zero
    /// address if empty); [`EncryptedStore::apply_remote`] requires one of them to be an
    /// allowed store of every record it writes, so with none set every remote write is refused.
    pub local_kettles: Vec<Address>,
    /// Whether each commit waits for its WAL write to reach the disk (`fsync`). On by default;
    /// off survives a process crash but not a power loss (benchmarks and tests only).
    pub sync_writes: bool,
    /// Longest key string or namespace accepted, in bytes.
    pub max_name_bytes: usize,
    /// Most bytes (values, keys, record metadata) one commit may carry.
    pub max_commit_bytes: usize,
    /// The group commit of the database's write-ahead log. The node passes the one the
    /// chain, which writes to the same database, also uses, so that one sync covers both;
    /// by default the store has its own.
    pub wal: Arc<GroupSync>,
}

impl StoreOptions {
    /// Default options with `limits`: synced writes, no local kettle identity, 4 KiB names,
    /// 256 MiB per commit.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            local_kettles: Vec::new(),
            sync_writes: true,
            max_name_bytes: 4096,
            max_commit_bytes: 256 << 20,
            wal: Arc::default(),
        }
    }

    /// Sets [`StoreOptions::wal`].
    pub fn with_wal(mut self, wal: Arc<GroupSync>) -> Self {
        self.wal = wal;
        self
    }

    /// Sets this kettle's accounts (see [`StoreOptions::local_kettles`]).
    pub fn with_local_kettles(mut self, kettles: Vec<Address>) -> Self {
        self.local_kettles = kettles;
        self
    }

    /// Sets [`StoreOptions::sync_writes`].
    pub fn with_sync_writes(mut self, sync: bool) -> Self {
        self.sync_writes = sync;
        self
    }

    /// Opens (creating if missing) the store in `path`, sealed under `secret`.
    ///
    /// Fails with [`StoreOpenError::WrongSecret`] if the directory holds a store made with
    /// another secret. Every open starts a new key epoch (see the crate docs, "Encryption at rest").
    pub fn open(
        self,
        path: impl AsRef<Path>,
        secret: &KettleSecret,
    ) -> Result<EncryptedStore, StoreOpenError> {
        EncryptedStore::open_with(path.as_ref(), secret, self)
    }

    /// Opens (initialising if new) the store inside an already open RocksDB shared with
    /// other components (the node keeps the chain in the same database). `db` must have
    /// been opened with [`crate::layout::column_family_descriptors`].
    pub fn open_in(
        self,
        db: Arc<DB>,
        secret: &KettleSecret,
    ) -> Result<EncryptedStore, StoreOpenError> {
        let path = db.path().to_path_buf();
        EncryptedStore::open_db(db, &path, secret, self)
    }
}

/// Why [`EncryptedStore::commit_local_with`] committed nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommitWithError<E> {
    /// The write set was refused or could not be sealed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller's `finish` step failed.
    #[error("{0}")]
    Inner(E),
}

/// What a commit did, for the node and gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitReceipt {
    /// Kettle whose commit this is (this kettle for local commits).
    pub origin: Address,
    /// The commit's sequence number among `origin`'s commits here: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// Records created (records of the set that were already present are not counted).
    pub records_created: usize,
    /// Values written after collapsing repeated writes to the same (record, key).
    pub values_written: usize,
}

/// Counts and findings of [`EncryptedStore::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records found.
    pub records: usize,
    /// Index entries found.
    pub index_entries: usize,
    /// Values found.
    pub values: usize,
    /// Last commit sequence number per origin in the commit log, by origin (each log was
    /// found contiguous from 1 up to it unless a problem says otherwise).
    pub commits: Vec<(Address, u64)>,
    /// Every inconsistency found, in words; empty for a healthy store.
    pub problems: Vec<String>,
}

/// Most decrypted records kept in memory (a few MiB at most).
const RECORD_CACHE_ENTRIES: usize = 16 * 1024;

/// Commit-side state, changed only under the commit lock and only after a successful write.
#[derive(Debug)]
struct WriteState {
    /// Next index sequence number (global insertion order).
    next_index_seq: u64,
    /// Last commit sequence number per origin.
    origin_seqs: HashMap<Address, u64>,
}

/// The kettle's committed confidential store: sealed records, values, index and commit log
/// on RocksDB.
///
/// `Send + Sync`: reads go straight to RocksDB and never wait; commits serialize on one
/// lock only for the existence check, sequence numbering and the single `WriteBatch` (all
/// sealing happens before the lock is taken).
pub struct EncryptedStore {
    db: Arc<DB>,
    path: PathBuf,
    sealer: Sealer,
    hashers: Hashers,
    options: StoreOptions,
    write_opts: WriteOptions,
    state: Mutex<WriteState>,
    records: RecordCache,
    /// The last local commit that is durable (replication ships nothing beyond it).
    local_commits: tokio::sync::watch::Sender<u64>,
}

/// Committed records by id, decrypted. Records never change once committed and are never
/// deleted, so an entry can never be stale; the cache is simply cleared when it is full,
/// which bounds its memory without any bookkeeping on the read path.
struct RecordCache {
    map: RwLock<HashMap<DataId, DataRecord>>,
    capacity: usize,
}

impl RecordCache {
    fn new(capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    fn get(&self, id: &DataId) -> Option<DataRecord> {
        // Entries are only ever whole records, so a poisoned lock still holds valid data.
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(id).cloned()
    }

    fn insert(&self, record: &DataRecord) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(record.id, record.clone());
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<EncryptedStore>();
};

impl std::fmt::Debug for EncryptedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl EncryptedStore {
    fn open_with(
        path: &Path,
        secret: &KettleSecret,
        options: StoreOptions,
    ) -> Result<Self, StoreOpenError> {
        let cache = block_cache()?;
        let db = DB::open_cf_descriptors(&db_options(), path, column_family_descriptors(&cache))?;
        Self::open_db(Arc::new(db), path, secret, options)
    }

    fn open_db(
        db: Arc<DB>,
        path: &Path,
        secret: &KettleSecret,
        options: StoreOptions,
    ) -> Result<Self, StoreOpenError> {
        let span = info_span!(
            "store_open",
            path = %path.display(),
            format = field::Empty,
            epoch = field::Empty
        );
        let _guard = span.enter();
        let meta = cf(&db, CF_META).map_err(|e| StoreOpenError::Corrupt(e.to_string()))?;

        let format = match db.get_cf(meta, META_FORMAT)? {
            None => {
                initialize(&db, secret)?;
                FORMAT_VERSION
            }
            Some(v) => be_u32(&v).ok_or_else(|| StoreOpenError::Corrupt("format marker".into()))?,
        };
        let value_names = match format {
            1 => ValueNames::HmacSha256,
            2 => ValueNames::AesCmac,
            found => {
                return Err(StoreOpenError::UnsupportedFormat {
                    found,
                    oldest: OLDEST_FORMAT_VERSION,
                    newest: FORMAT_VERSION,
                })
            }
        };
        span.record("format", format);

        let salt = db
            .get_cf(meta, META_KDF_SALT)?
            .filter(|s| s.len() == KDF_SALT_LEN)
            .ok_or_else(|| StoreOpenError::Corrupt("missing key-derivation salt".into()))?;
        let kdf = Kdf::new(&salt, secret);
        let check = db
            .get_cf(meta, META_KEY_CHECK)?
            .ok_or_else(|| StoreOpenError::Corrupt("missing key-check value".into()))?;
        if !kdf.key_check().verify(&check) {
            return Err(StoreOpenError::WrongSecret);
        }

        // Epoch keys: all earlier epochs (to open old blobs) plus a fresh one to seal with.
        let mut epoch_keys = Vec::new();
        for item in db.iterator_cf(
            meta,
            IteratorMode::From(META_EPOCH_PREFIX, rocksdb::Direction::Forward),
        ) {
            let (k, seed) = item?;
            let Some(num) = k.strip_prefix(META_EPOCH_PREFIX) else {
                break;
            };
            let num = be_u32(num).ok_or_else(|| StoreOpenError::Corrupt("epoch key".into()))?;
            if num as usize != epoch_keys.len() || seed.len() != EPOCH_SEED_LEN {
                return Err(StoreOpenError::Corrupt(format!(
                    "epoch {num} out of order or malformed"
                )));
            }
            epoch_keys.push(kdf.epoch_key(&seed));
        }
        let epoch = u32::try_from(epoch_keys.len())
            .ok()
            .filter(|e| *e < u32::MAX)
            .ok_or(StoreOpenError::EpochsExhausted)?;
        let seed = crypto::random::<EPOCH_SEED_LEN>()?;
        // Persist (synced) before sealing anything under the new epoch, so the seed of every
        // key that ever sealed a durable blob is durable too.
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        let mut batch = WriteBatch::default();
        batch.put_cf(meta, epoch_key(epoch), seed.as_ref());
        db.write_opt(batch, &sync)?;
        epoch_keys.push(kdf.epoch_key(seed.as_ref()));
        span.record("epoch", epoch);

        let next_index_seq = match db.get_cf(meta, META_INDEX_SEQ)? {
            None => 0,
            Some(v) => {
                be_u64(&v).ok_or_else(|| StoreOpenError::Corrupt("index sequence".into()))?
            }
        };
        let origin_seqs = last_seqs(&db)?;
        let local_seq = options
            .local_kettles
            .first()
            .and_then(|k| origin_seqs.get(k))
            .copied()
            .unwrap_or(0);

        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(options.sync_writes);
        info!(
            epoch,
            origins = origin_seqs.len(),
            "confidential store opened"
        );
        let hashers = kdf.hashers(value_names);
        Ok(Self {
            db,
            path: path.to_path_buf(),
            sealer: Sealer::new(epoch_keys, value_names),
            hashers,
            options,
            write_opts,
            state: Mutex::new(WriteState {
                next_index_seq,
                origin_seqs,
            }),
            records: RecordCache::new(RECORD_CACHE_ENTRIES),
            local_commits: tokio::sync::watch::channel(local_seq).0,
        })
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Follows this kettle's local commits: the value is the sequence number of the last
    /// durable one (store replication waits on it).
    pub fn subscribe_local_commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.local_commits.subscribe()
    }

    /// The origin local commits are logged under: the first local kettle, or zero.
    pub fn local_origin(&self) -> Address {
        self.options
            .local_kettles
            .first()
            .copied()
            .unwrap_or(Address::ZERO)
    }

    /// Commits a locally executed request's write set atomically and returns its receipt, or
    /// `None` for an empty set (nothing is written).
    ///
    /// Re-validates the set (defence in depth; the overlay checked it already): consistent
    /// record ids, every write's record present (in the set or committed), every writer an
    /// allowed peeker, limits. `allowedStores` is not checked for local writes (as in
    /// suave-geth). Records already present are skipped (ids are derived from content, so
    /// they are identical).
    pub fn commit_local(
        &self,
        writes: &StoreWriteSet,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        self.apply(writes, self.local_origin(), false)
    }

    /// Like [`EncryptedStore::commit_local`], but `finish` writes the sealed batch, adding
    /// its own entries first: the node persists a request's store writes and the kettle's
    /// `0x50` transaction in one atomic RocksDB write. If `finish` fails, nothing of the set
    /// is committed. `finish` runs under the commit lock: it must not call back into the
    /// store's commit paths. Requires the database to be shared ([`StoreOptions::open_in`]).
    ///
    /// Group commit: `finish` writes the batch *without* syncing it. This returns once the
    /// write is durable: after the commit lock is released, one WAL sync covers every commit
    /// written meanwhile, so concurrent requests share fsyncs instead of queueing for one
    /// each under the lock. Until then the write is visible but not durable; anything that
    /// builds on it and is written with a sync (a block including the transaction, a later
    /// commit) makes it durable too, since the WAL is one ordered log.
    pub fn commit_local_with<T, E>(
        &self,
        writes: &StoreWriteSet,
        finish: impl FnOnce(WriteBatch) -> Result<T, E>,
    ) -> Result<T, CommitWithError<E>> {
        match self.apply_with(writes, self.local_origin(), false, None, true, finish)? {
            Committed::Done(_, t) => Ok(t),
            Committed::OutOfOrder { .. } => Err(out_of_order_unnumbered().into()),
        }
    }

    /// Applies a write set received from kettle `origin` (store sync), atomically.
    ///
    /// On top of the local checks, `origin` and one of this kettle's accounts must both be
    /// allowed stores of every record created or written, else [`StoreError::StoreNotAllowed`]
    /// and nothing is applied.
    ///
    /// The commit gets the next sequence number of `origin` *here*, which need not be the
    /// origin's own numbering: do not mix this with [`EncryptedStore::apply_remote_seq`] for
    /// the same origin, whose cursor it would move.
    pub fn apply_remote(
        &self,
        origin: Address,
        writes: &StoreWriteSet,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        self.apply(writes, origin, true)
    }

    /// The value of `key` in record `id` as read by effective caller `caller`, enforcing the
    /// record's allowed peekers (the wildcard included).
    pub fn retrieve(&self, id: &DataId, key: &str, caller: Address) -> Result<Bytes, StoreError> {
        let record = self
            .load_record(id)?
            .ok_or(StoreError::RecordNotFound(*id))?;
        if !record.is_peeker(caller) {
            return Err(StoreError::AccessDenied { id: *id, caller });
        }
        self.load_value(id, key)?
            .ok_or_else(|| StoreError::ValueNotFound {
                id: *id,
                key: key.to_string(),
            })
    }

    /// Writes one value as effective caller `caller` (a commit of a one-write set); checks
    /// peekers and limits.
    pub fn store(
        &self,
        id: DataId,
        key: &str,
        value: Bytes,
        caller: Address,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        self.commit_local(&StoreWriteSet {
            records: Vec::new(),
            writes: vec![StoreWrite {
                id,
                key: key.to_string(),
                value,
                caller,
            }],
        })
    }

    /// How many WAL syncs the group commit of [`EncryptedStore::commit_local_with`] has run
    /// since the store was opened: each one made every commit written before it durable.
    pub fn group_syncs(&self) -> u64 {
        self.options.wal.syncs()
    }

    /// Whether a write that took a ticket of [`StoreOptions::wal`] (a group commit, or another
    /// writer of the shared database such as the chain) is not yet durable.
    pub fn unsynced_writes(&self) -> bool {
        self.options.sync_writes && self.options.wal.pending()
    }

    /// Syncs the WAL if a write with a ticket of [`StoreOptions::wal`] is not yet durable (nothing when the
    /// store does not sync its writes); returns how many writes the sync covered. The node
    /// calls it periodically, which bounds how long an unsynced write stays at risk of a
    /// power loss.
    pub fn sync_written(&self) -> Result<u64, StoreError> {
        if !self.options.sync_writes {
            return Ok(0);
        }
        self.options.wal.sync_all(&self.db).map_err(|e| {
            StoreError::Backend(format!(
                "syncing the WAL failed, so recent writes may not survive a power loss: {e}"
            ))
        })
    }

    /// The last commit sequence number of `origin` here (0 if none).
    pub fn last_seq(&self, origin: &Address) -> u64 {
        self.lock_state()
            .origin_seqs
            .get(origin)
            .copied()
            .unwrap_or(0)
    }

    /// Up to `max` commit manifests of `origin` with sequence numbers above `after`, in order:
    /// what a peer that has seen `after` is missing.
    pub fn commit_log(
        &self,
        origin: &Address,
        after: u64,
        max: usize,
    ) -> Result<Vec<(u64, CommitManifest)>, StoreError> {
        self.manifests_at(&self.db.snapshot(), origin, after, max)
    }

    /// [`EncryptedStore::commit_log`] as of `snap`.
    fn manifests_at(
        &self,
        snap: &rocksdb::Snapshot<'_>,
        origin: &Address,
        after: u64,
        max: usize,
    ) -> Result<Vec<(u64, CommitManifest)>, StoreError> {
        let log = cf(&self.db, CF_LOG)?;
        let start = log_key(origin, after.saturating_add(1));
        let mut ro = ReadOptions::default();
        ro.set_iterate_range(PrefixRange(origin.as_slice()));
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        for item in snap.iterator_cf_opt(
            log,
            ro,
            IteratorMode::From(&start, rocksdb::Direction::Forward),
        ) {
            let (k, v) = item.map_err(db_err)?;
            let seq = k
                .get(20..)
                .and_then(be_u64)
                .ok_or_else(|| corrupt("commit log key"))?;
            let plain = self
                .sealer
                .open(Binding::Log(origin, seq), &v)
                .map_err(|_| corrupt(format!("commit log {origin} #{seq}")))?;
            let m = codec::decode_manifest(&plain)
                .ok_or_else(|| corrupt(format!("commit log {origin} #{seq}")))?;
            out.push((seq, m));
            if out.len() >= max {
                break;
            }
        }
        Ok(out)
    }

    /// Flushes memtables and the WAL to files (tests and orderly shutdown; commits are
    /// already durable without it when `sync_writes` is on).
    pub fn flush(&self) -> Result<(), StoreError> {
        for name in COLUMN_FAMILIES {
            self.db.flush_cf(cf(&self.db, name)?).map_err(db_err)?;
        }
        self.db.flush_wal(true).map_err(db_err)
    }

    /// Checks the whole store: every record authenticates and has exactly one index entry
    /// under its (condition, namespace); every index entry points at a record; every value
    /// belongs to a record and is named by a logged write; every logged write's value is
    /// present and authenticates; each origin's commit log is contiguous from 1. Reads one
    /// snapshot. Meant for tests, the crash test and operators.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let snap = self.db.snapshot();
        let mut report = VerifyReport::default();
        let (records_cf, values_cf, index_cf, log_cf, meta_cf) = (
            cf(&self.db, CF_RECORDS)?,
            cf(&self.db, CF_VALUES)?,
            cf(&self.db, CF_INDEX)?,
            cf(&self.db, CF_LOG)?,
            cf(&self.db, CF_META)?,
        );

        let mut records: HashMap<DataId, (DataRecord, usize)> = HashMap::new();
        for item in snap.iterator_cf(records_cf, IteratorMode::Start) {
            let (k, v) = item.map_err(db_err)?;
            if k.len() != 16 {
                report.problems.push("record key of wrong length".into());
                continue;
            }
            let id = DataId::from_slice(&k);
            match self.open_record(&id, &v) {
                Ok(r) => {
                    if !r.id_is_consistent() {
                        report.problems.push(format!("record {id} id inconsistent"));
                    }
                    records.insert(id, (r, 0));
                }
                Err(_) => report
                    .problems
                    .push(format!("record {id} does not authenticate")),
            }
        }
        report.records = records.len();

        let next_index_seq = snap
            .get_cf(meta_cf, META_INDEX_SEQ)
            .map_err(db_err)?
            .and_then(|v| be_u64(&v))
            .unwrap_or(0);
        for item in snap.iterator_cf(index_cf, IteratorMode::Start) {
            let (k, v) = item.map_err(db_err)?;
            report.index_entries += 1;
            if k.len() != INDEX_TAG_LEN + 8 || v.len() != 16 {
                report.problems.push("index entry of wrong shape".into());
                continue;
            }
            let id = DataId::from_slice(&v);
            let seq = be_u64(&k[INDEX_TAG_LEN..]).unwrap_or(u64::MAX);
            if seq >= next_index_seq {
                report
                    .problems
                    .push(format!("index seq {seq} beyond counter {next_index_seq}"));
            }
            match records.get_mut(&id) {
                None => report
                    .problems
                    .push(format!("index entry for missing record {id}")),
                Some((r, n)) => {
                    *n += 1;
                    if self.hashers.index_tag(r.decryption_condition, &r.version)[..]
                        != k[..INDEX_TAG_LEN]
                    {
                        report
                            .problems
                            .push(format!("index entry of {id} under the wrong tag"));
                    }
                }
            }
        }
        for (id, (_, n)) in &records {
            if *n != 1 {
                report
                    .problems
                    .push(format!("record {id} has {n} index entries"));
            }
        }

        // Commit logs, and the value names they account for.
        let mut logged_values: HashMap<[u8; 32], (DataId, String)> = HashMap::new();
        let mut last: HashMap<Address, u64> = HashMap::new();
        for item in snap.iterator_cf(log_cf, IteratorMode::Start) {
            let (k, v) = item.map_err(db_err)?;
            if k.len() != 28 {
                report.problems.push("log key of wrong length".into());
                continue;
            }
            let origin = Address::from_slice(&k[..20]);
            let seq = be_u64(&k[20..]).unwrap_or(0);
            let expected = last.get(&origin).copied().unwrap_or(0) + 1;
            if seq != expected {
                report
                    .problems
                    .push(format!("log of {origin}: seq {seq}, expected {expected}"));
            }
            last.insert(origin, seq);
            let Some(m) = self
                .sealer
                .open(Binding::Log(&origin, seq), &v)
                .ok()
                .and_then(|p| codec::decode_manifest(&p))
            else {
                report
                    .problems
                    .push(format!("log {origin} #{seq} does not authenticate"));
                continue;
            };
            for id in &m.records {
                if !records.contains_key(id) {
                    report
                        .problems
                        .push(format!("log {origin} #{seq} created missing record {id}"));
                }
            }
            for w in m.writes {
                let key = value_key(&w.id, &self.hashers.value_tag(&w.id, &w.key));
                logged_values.insert(key, (w.id, w.key));
            }
        }
        let mut commits: Vec<(Address, u64)> = last.into_iter().collect();
        commits.sort();
        report.commits = commits;

        for item in snap.iterator_cf(values_cf, IteratorMode::Start) {
            let (k, v) = item.map_err(db_err)?;
            report.values += 1;
            if k.len() != 16 + VALUE_TAG_LEN {
                report.problems.push("value key of wrong length".into());
                continue;
            }
            let id = DataId::from_slice(&k[..16]);
            if !records.contains_key(&id) {
                report
                    .problems
                    .push(format!("value of missing record {id}"));
            }
            let key: [u8; 32] = match k[..].try_into() {
                Ok(key) => key,
                Err(_) => continue,
            };
            match logged_values.remove(&key) {
                None => report
                    .problems
                    .push(format!("value of {id} written by no logged commit")),
                Some((id, key_string)) => {
                    let mut name = [0u8; VALUE_TAG_LEN];
                    name.copy_from_slice(&key[16..]);
                    let binding = Binding::Value {
                        id: &id,
                        key: &key_string,
                        name: &name,
                    };
                    if self.sealer.open(binding, &v).is_err() {
                        report
                            .problems
                            .push(format!("value of {id} does not authenticate"));
                    }
                }
            }
        }
        for (id, _) in logged_values.values() {
            report
                .problems
                .push(format!("logged write to {id} has no value"));
        }
        Ok(report)
    }

    fn lock_state(&self) -> MutexGuard<'_, WriteState> {
        // The state is only changed after a successful write, so a panic while the lock was
        // held cannot have left it out of step with the database.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open_record(&self, id: &DataId, sealed: &[u8]) -> Result<DataRecord, StoreError> {
        let plain = self
            .sealer
            .open(Binding::Record(id), sealed)
            .map_err(|_| corrupt(format!("record {id} does not authenticate")))?;
        codec::decode_record(*id, &plain)
            .ok_or_else(|| corrupt(format!("record {id} does not decode")))
    }

    fn load_record(&self, id: &DataId) -> Result<Option<DataRecord>, StoreError> {
        if let Some(r) = self.records.get(id) {
            return Ok(Some(r));
        }
        let records = cf(&self.db, CF_RECORDS)?;
        match self
            .db
            .get_pinned_cf(records, id.as_slice())
            .map_err(db_err)?
        {
            None => Ok(None),
            Some(sealed) => {
                let r = self.open_record(id, &sealed)?;
                self.records.insert(&r);
                Ok(Some(r))
            }
        }
    }

    fn load_value(&self, id: &DataId, key: &str) -> Result<Option<Bytes>, StoreError> {
        let values = cf(&self.db, CF_VALUES)?;
        let name = self.hashers.value_tag(id, key);
        let sealed = self
            .db
            .get_pinned_cf(values, value_key(id, &name))
            .map_err(db_err)?;
        self.open_value(id, key, &name, sealed.as_deref())
    }

    /// The plaintext of the value of (`id`, `key`), named `name` on disk, from its sealed
    /// blob as read (`None`: no such value).
    fn open_value(
        &self,
        id: &DataId,
        key: &str,
        name: &[u8; VALUE_TAG_LEN],
        sealed: Option<&[u8]>,
    ) -> Result<Option<Bytes>, StoreError> {
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        self.sealer
            .open(Binding::Value { id, key, name }, sealed)
            .map(|plain| Some(Bytes::from(plain)))
            .map_err(|_| corrupt(format!("a value of record {id} does not authenticate")))
    }

    /// Limits first: nothing is sealed, allocated per item or read before they pass.
    /// `max_records` is [`StoreLimits::max_records_per_request`], raised on numbered sync
    /// (see [`EncryptedStore::apply_remote_seq`]).
    fn check_limits(&self, ws: &StoreWriteSet, max_records: usize) -> Result<(), StoreError> {
        let l = &self.options.limits;
        let max_name = self.options.max_name_bytes;
        if ws.records.len() > max_records {
            return Err(StoreError::LimitExceeded(format!(
                "{} records in one commit exceed {max_records}",
                ws.records.len(),
            )));
        }
        if ws.writes.len() > l.max_writes_per_request {
            return Err(StoreError::LimitExceeded(format!(
                "{} writes in one commit exceed {}",
                ws.writes.len(),
                l.max_writes_per_request
            )));
        }
        let mut total: usize = 0;
        for r in &ws.records {
            if r.version.len() > max_name {
                return Err(StoreError::LimitExceeded(format!(
                    "namespace of {} bytes exceeds {max_name} bytes",
                    r.version.len()
                )));
            }
            total = total.saturating_add(64 + r.version.len()).saturating_add(
                20usize.saturating_mul(
                    r.allowed_peekers
                        .len()
                        .saturating_add(r.allowed_stores.len()),
                ),
            );
        }
        for w in &ws.writes {
            if w.value.len() > l.max_value_bytes {
                return Err(StoreError::LimitExceeded(format!(
                    "value of {} bytes exceeds {} bytes",
                    w.value.len(),
                    l.max_value_bytes
                )));
            }
            if w.key.len() > max_name {
                return Err(StoreError::LimitExceeded(format!(
                    "key of {} bytes exceeds {max_name} bytes",
                    w.key.len()
                )));
            }
            total = total.saturating_add(64 + w.key.len() + w.value.len());
        }
        if total > self.options.max_commit_bytes {
            return Err(StoreError::LimitExceeded(format!(
                "commit of {total} bytes exceeds {} bytes",
                self.options.max_commit_bytes
            )));
        }
        Ok(())
    }

    /// For sync: `origin` and one of this kettle's accounts must be allowed stores of `r`.
    fn check_stores(&self, r: &DataRecord, origin: Address) -> Result<(), StoreError> {
        if !r.is_store(origin) {
            return Err(StoreError::StoreNotAllowed {
                id: r.id,
                kettle: origin,
            });
        }
        if !self.options.local_kettles.iter().any(|k| r.is_store(*k)) {
            return Err(StoreError::StoreNotAllowed {
                id: r.id,
                kettle: self.local_origin(),
            });
        }
        Ok(())
    }

    fn apply(
        &self,
        ws: &StoreWriteSet,
        origin: Address,
        remote: bool,
    ) -> Result<Option<CommitReceipt>, StoreError> {
        match self.apply_numbered(ws, origin, remote, None)? {
            Committed::Done(receipt, ()) => Ok(receipt),
            Committed::OutOfOrder { .. } => Err(out_of_order_unnumbered()),
        }
    }

    /// [`EncryptedStore::apply_with`] writing the batch itself.
    fn apply_numbered(
        &self,
        ws: &StoreWriteSet,
        origin: Address,
        remote: bool,
        expect: Option<u64>,
    ) -> Result<Committed<()>, StoreError> {
        let write = |batch: WriteBatch| self.db.write_opt(batch, &self.write_opts).map_err(db_err);
        self.apply_with(ws, origin, remote, expect, false, write)
            .map_err(|(CommitWithError::Store(e) | CommitWithError::Inner(e))| e)
    }

    /// The commit path: validates and seals `ws`, then hands the complete batch to `finish`,
    /// which must write it (possibly with more entries of its own). The store's in-memory
    /// state advances only if `finish` succeeds.
    ///
    /// With `expect`, the commit must get exactly that sequence number of `origin`: checked
    /// under the commit lock, and if it does not ([`Committed::OutOfOrder`]) `finish` is not
    /// called and nothing is written. An empty set is then still logged (an empty manifest),
    /// so the cursor moves durably.
    fn apply_with<T, E>(
        &self,
        ws: &StoreWriteSet,
        origin: Address,
        remote: bool,
        expect: Option<u64>,
        group_sync: bool,
        finish: impl FnOnce(WriteBatch) -> Result<T, E>,
    ) -> Result<Committed<T>, CommitWithError<E>> {
        let span = info_span!(
            "store_commit",
            %origin,
            remote,
            records = ws.records.len(),
            writes = ws.writes.len(),
            seq = field::Empty,
        );
        let _guard = span.enter();
        if ws.is_empty() && expect.is_none() {
            let finished = finish(WriteBatch::default()).map_err(CommitWithError::Inner)?;
            if group_sync {
                self.sync_group(self.options.wal.written(), None)?;
            }
            return Ok(Committed::Done(None, finished));
        }
        let limits = &self.options.limits;
        let max_records = match expect {
            // A numbered sync set also carries the records its writes refer to (one per
            // write at most), which the origin's commit did not count as created.
            Some(_) => limits
                .max_records_per_request
                .saturating_add(limits.max_writes_per_request),
            None => limits.max_records_per_request,
        };
        self.check_limits(ws, max_records)?;

        // Records of the set: consistent ids; on sync, allowed stores.
        let mut in_set: HashMap<DataId, &DataRecord> = HashMap::with_capacity(ws.records.len());
        let mut new_records: Vec<&DataRecord> = Vec::with_capacity(ws.records.len());
        for r in &ws.records {
            if !r.id_is_consistent() {
                return Err(StoreError::Backend(format!(
                    "rejected write set: record {} has an id that does not match its fields",
                    r.id
                ))
                .into());
            }
            if remote {
                self.check_stores(r, origin)?;
            }
            // Equal ids mean equal content, so a repeated record is the same record.
            if in_set.insert(r.id, r).is_none() {
                new_records.push(r);
            }
        }

        // Writes: record present, writer allowed; on sync, allowed stores.
        let mut committed: HashMap<DataId, DataRecord> = HashMap::new();
        for w in &ws.writes {
            let record = match in_set.get(&w.id) {
                Some(r) => *r,
                None => match committed.entry(w.id) {
                    Entry::Occupied(e) => &*e.into_mut(),
                    Entry::Vacant(e) => {
                        let r = self
                            .load_record(&w.id)?
                            .ok_or(StoreError::RecordNotFound(w.id))?;
                        &*e.insert(r)
                    }
                },
            };
            if !record.is_peeker(w.caller) {
                return Err(StoreError::AccessDenied {
                    id: w.id,
                    caller: w.caller,
                }
                .into());
            }
            if remote {
                self.check_stores(record, origin)?;
            }
        }

        // Last write wins: only the final write to each (record, key) is sealed.
        let mut last: HashMap<(&DataId, &str), usize> = HashMap::with_capacity(ws.writes.len());
        for (i, w) in ws.writes.iter().enumerate() {
            last.insert((&w.id, w.key.as_str()), i);
        }
        let effective = ws
            .writes
            .iter()
            .enumerate()
            .filter(|(i, w)| last.get(&(&w.id, w.key.as_str())) == Some(i))
            .map(|(_, w)| w);

        // Seal everything outside the commit lock.
        let mut sealed_values = Vec::with_capacity(last.len());
        let mut logged = Vec::with_capacity(last.len());
        for w in effective {
            let name = self.hashers.value_tag(&w.id, &w.key);
            let binding = Binding::Value {
                id: &w.id,
                key: &w.key,
                name: &name,
            };
            sealed_values.push((
                value_key(&w.id, &name),
                self.sealer.seal(binding, &w.value)?,
            ));
            logged.push(LoggedWrite {
                id: w.id,
                key: w.key.clone(),
                caller: w.caller,
            });
        }
        let mut sealed_records = Vec::with_capacity(new_records.len());
        for r in &new_records {
            let tag = self.hashers.index_tag(r.decryption_condition, &r.version);
            let sealed = self
                .sealer
                .seal(Binding::Record(&r.id), &codec::encode_record(r))?;
            sealed_records.push((r.id, tag, sealed));
        }

        let records_cf = cf(&self.db, CF_RECORDS)?;
        let values_cf = cf(&self.db, CF_VALUES)?;
        let index_cf = cf(&self.db, CF_INDEX)?;
        let log_cf = cf(&self.db, CF_LOG)?;
        let meta_cf = cf(&self.db, CF_META)?;

        let mut state = self.lock_state();
        let cursor = state.origin_seqs.get(&origin).copied().unwrap_or(0);
        if let Some(expect) = expect {
            if cursor.checked_add(1) != Some(expect) {
                return Ok(Committed::OutOfOrder { cursor });
            }
        }
        // Under the lock, so two commits cannot both create (and index) the same record.
        let present = self.db.batched_multi_get_cf(
            records_cf,
            sealed_records.iter().map(|(id, _, _)| id.as_slice()),
            false,
        );
        let mut batch = WriteBatch::default();
        let mut next_index_seq = state.next_index_seq;
        let mut created = Vec::with_capacity(sealed_records.len());
        for ((id, tag, sealed), present) in sealed_records.iter().zip(present) {
            if present.map_err(db_err)?.is_some() {
                debug!(%id, "record already present; skipped");
                continue;
            }
            batch.put_cf(records_cf, id.as_slice(), sealed);
            batch.put_cf(index_cf, index_key(tag, next_index_seq), id.as_slice());
            next_index_seq = next_index_seq
                .checked_add(1)
                .ok_or_else(|| StoreError::Backend("index sequence exhausted".into()))?;
            created.push(*id);
        }
        for (key, sealed) in &sealed_values {
            batch.put_cf(values_cf, key, sealed);
        }
        let seq = cursor
            .checked_add(1)
            .ok_or_else(|| StoreError::Backend("commit sequence exhausted".into()))?;
        let records_created = created.len();
        let values_written = sealed_values.len();
        let manifest = CommitManifest {
            records: created,
            writes: logged,
        };
        let sealed_manifest = self.sealer.seal(
            Binding::Log(&origin, seq),
            &codec::encode_manifest(&manifest),
        )?;
        batch.put_cf(log_cf, log_key(&origin, seq), sealed_manifest);
        if next_index_seq != state.next_index_seq {
            batch.put_cf(meta_cf, META_INDEX_SEQ, next_index_seq.to_be_bytes());
        }
        let finished = finish(batch).map_err(CommitWithError::Inner)?;
        let ticket = group_sync.then(|| self.options.wal.written());
        state.next_index_seq = next_index_seq;
        state.origin_seqs.insert(origin, seq);
        drop(state);
        if let Some(ticket) = ticket {
            self.sync_group(ticket, Some(seq))?;
        }
        if !remote {
            // Durable now, and so is every earlier commit: never move the mark back.
            self.local_commits.send_if_modified(|last| {
                let newer = seq > *last;
                if newer {
                    *last = seq;
                }
                newer
            });
        }

        span.record("seq", seq);
        debug!(records_created, values_written, "committed");
        Ok(Committed::Done(
            Some(CommitReceipt {
                origin,
                seq,
                records_created,
                values_written,
            }),
            finished,
        ))
    }
}

impl EncryptedStore {
    /// Waits until the unsynced write of `ticket` (commit `seq`, if numbered) is durable.
    fn sync_group(&self, ticket: u64, seq: Option<u64>) -> Result<(), StoreError> {
        if !self.options.sync_writes {
            return Ok(());
        }
        let covered = self
            .options
            .wal
            .sync_through(&self.db, ticket)
            .map_err(|e| {
                StoreError::Backend(format!(
                    "commit {seq:?} was written but syncing the WAL failed, so it may not survive a crash: {e}"
                ))
            })?;
        trace!(ticket, covered, "group commit");
        Ok(())
    }
}

/// What [`EncryptedStore::apply_with`] did.
enum Committed<T> {
    /// Committed (`None`: an empty, unnumbered set, nothing written) and `finish`'s result.
    Done(Option<CommitReceipt>, T),
    /// A numbered commit whose sequence number is not the one after `cursor`: nothing done.
    OutOfOrder {
        /// `origin`'s last sequence number here.
        cursor: u64,
    },
}

/// [`Committed::OutOfOrder`] from an unnumbered commit: cannot happen.
fn out_of_order_unnumbered() -> StoreError {
    StoreError::Backend("unnumbered commit refused as out of order (bug)".into())
}

impl ConfidentialStore for EncryptedStore {
    fn record(&self, id: &DataId) -> Result<Option<DataRecord>, StoreError> {
        let _span = trace_span!("store_record", %id).entered();
        self.load_record(id)
    }

    fn records_by_condition(
        &self,
        decryption_condition: u64,
        namespace: &str,
    ) -> Result<Vec<DataRecord>, StoreError> {
        let _span = trace_span!("store_fetch", decryption_condition).entered();
        let index = cf(&self.db, CF_INDEX)?;
        let records = cf(&self.db, CF_RECORDS)?;
        let tag = self.hashers.index_tag(decryption_condition, namespace);
        let snap = self.db.snapshot();
        let mut ro = ReadOptions::default();
        ro.set_iterate_range(PrefixRange(tag.to_vec()));
        let mut ids = Vec::new();
        for item in snap.iterator_cf_opt(index, ro, IteratorMode::Start) {
            let (_, v) = item.map_err(db_err)?;
            if v.len() != 16 {
                return Err(corrupt("index entry"));
            }
            ids.push(DataId::from_slice(&v));
        }
        // Cached records first; the rest in one multi-get from the same snapshot.
        let mut found: Vec<Option<DataRecord>> =
            ids.iter().map(|id| self.records.get(id)).collect();
        let missing: Vec<&DataId> = ids
            .iter()
            .zip(&found)
            .filter(|(_, r)| r.is_none())
            .map(|(id, _)| id)
            .collect();
        let mut fetched = snap
            .multi_get_cf(missing.iter().map(|id| (records, id.as_slice())))
            .into_iter();
        for (id, slot) in ids.iter().zip(found.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            let sealed = fetched
                .next()
                .ok_or_else(|| corrupt("multi-get returned too few entries"))?
                .map_err(db_err)?
                .ok_or_else(|| corrupt(format!("index entry for missing record {id}")))?;
            let r = self.open_record(id, &sealed)?;
            self.records.insert(&r);
            *slot = Some(r);
        }
        // The index tag is a truncated hash: keep only exact matches.
        Ok(found
            .into_iter()
            .flatten()
            .filter(|r| r.decryption_condition == decryption_condition && r.version == namespace)
            .collect())
    }

    fn value(&self, id: &DataId, key: &str) -> Result<Option<Bytes>, StoreError> {
        let _span = trace_span!("store_value", %id).entered();
        self.load_value(id, key)
    }

    fn commit(&self, writes: &StoreWriteSet) -> Result<(), StoreError> {
        self.commit_local(writes).map(|_| ())
    }
}

fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a rocksdb::ColumnFamily, StoreError> {
    db.cf_handle(name)
        .ok_or_else(|| StoreError::Backend(format!("column family {name} missing")))
}

/// The last commit sequence number of every origin: the last key of each origin's run in
/// `store_log` (one seek per origin, so the commit path writes no separate counter).
fn last_seqs(db: &DB) -> Result<HashMap<Address, u64>, StoreOpenError> {
    let log = cf(db, CF_LOG).map_err(|e| StoreOpenError::Corrupt(e.to_string()))?;
    let mut out = HashMap::new();
    let mut it = db.raw_iterator_cf(log);
    it.seek_to_first();
    while let Some(first) = it.key() {
        if first.len() != 28 {
            return Err(StoreOpenError::Corrupt(
                "commit log key of wrong length".into(),
            ));
        }
        let origin = Address::from_slice(&first[..20]);
        it.seek_for_prev(log_key(&origin, u64::MAX));
        let seq = it
            .key()
            .filter(|k| k.len() == 28 && k[..20] == origin[..])
            .and_then(|k| be_u64(&k[20..]))
            .ok_or_else(|| StoreOpenError::Corrupt("commit log".into()))?;
        out.insert(origin, seq);
        it.next();
    }
    it.status()?;
    Ok(out)
}

/// Makes an empty directory a store: format marker, salt and key check, in one synced batch.
fn initialize(db: &DB, secret: &KettleSecret) -> Result<(), StoreOpenError> {
    for name in COLUMN_FAMILIES {
        let handle = cf(db, name).map_err(|e| StoreOpenError::Corrupt(e.to_string()))?;
        if db.iterator_cf(handle, IteratorMode::Start).next().is_some() {
            return Err(StoreOpenError::Corrupt(format!(
                "column family {name} holds data but the store has no format marker"
            )));
        }
    }
    let meta = cf(db, CF_META).map_err(|e| StoreOpenError::Corrupt(e.to_string()))?;
    let salt = crypto::random::<KDF_SALT_LEN>()?;
    let check = Kdf::new(salt.as_ref(), secret).key_check().seal()?;
    let mut batch = WriteBatch::default();
    batch.put_cf(meta, META_KDF_SALT, salt.as_ref());
    batch.put_cf(meta, META_KEY_CHECK, check);
    batch.put_cf(meta, META_FORMAT, FORMAT_VERSION.to_be_bytes());
    let mut sync = WriteOptions::default();
    sync.set_sync(true);
    db.write_opt(batch, &sync)?;
    info!("initialized a new confidential store");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: Address = Address::repeat_byte(0xa1);
    const KETTLE: Address = Address::repeat_byte(0x11);

    fn secret() -> KettleSecret {
        KettleSecret::from_array([3; 32])
    }

    fn open(dir: &Path) -> EncryptedStore {
        StoreOptions::new(StoreLimits::default())
            .with_local_kettles(vec![KETTLE])
            .open(dir, &secret())
            .unwrap()
    }

    fn rec(n: u8) -> DataRecord {
        DataRecord::new(
            DataId::repeat_byte(n),
            1,
            vec![APP],
            vec![KETTLE],
            "ns".into(),
        )
    }

    fn w(id: DataId, key: &str, value: &'static [u8]) -> StoreWrite {
        StoreWrite {
            id,
            key: key.into(),
            value: Bytes::from_static(value),
            caller: APP,
        }
    }

    fn raw_get(s: &EncryptedStore, cf_name: &str, key: &[u8]) -> Vec<u8> {
        s.db.get_cf(cf(&s.db, cf_name).unwrap(), key)
            .unwrap()
            .unwrap()
    }

    fn raw_put(s: &EncryptedStore, cf_name: &str, key: &[u8], value: &[u8]) {
        s.db.put_cf(cf(&s.db, cf_name).unwrap(), key, value)
            .unwrap();
    }

    #[test]
    fn limits_are_checked_before_records_are_looked_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let big = Bytes::from(vec![0u8; StoreLimits::default().max_value_bytes + 1]);
        let ws = StoreWriteSet {
            records: vec![],
            writes: vec![StoreWrite {
                id: DataId::repeat_byte(9),
                key: "k".into(),
                value: big,
                caller: APP,
            }],
        };
        assert!(matches!(
            s.commit_local(&ws),
            Err(StoreError::LimitExceeded(_))
        ));
    }

    #[test]
    fn each_open_adds_one_epoch_and_old_blobs_still_open() {
        let dir = tempfile::tempdir().unwrap();
        let r = rec(1);
        {
            let s = open(dir.path());
            s.commit_local(&StoreWriteSet {
                records: vec![r.clone()],
                writes: vec![w(r.id, "k", b"v")],
            })
            .unwrap();
        }
        let s = open(dir.path());
        let meta = cf(&s.db, CF_META).unwrap();
        assert!(s.db.get_cf(meta, epoch_key(0)).unwrap().is_some());
        assert!(s.db.get_cf(meta, epoch_key(1)).unwrap().is_some());
        assert!(s.db.get_cf(meta, epoch_key(2)).unwrap().is_none());
        assert_eq!(s.value(&r.id, "k").unwrap(), Some(Bytes::from_static(b"v")));
        // New blobs are sealed under epoch 1.
        s.store(r.id, "k2", Bytes::from_static(b"w"), APP).unwrap();
        let k2 = value_key(&r.id, &s.hashers.value_tag(&r.id, "k2"));
        assert_eq!(&raw_get(&s, CF_VALUES, &k2)[1..5], &1u32.to_be_bytes());
    }

    /// The value keys on disk of `s`, named by `names` under `s`'s own salt.
    fn value_key_as(s: &EncryptedStore, names: ValueNames, id: &DataId, key: &str) -> Vec<u8> {
        let salt = raw_get(s, CF_META, META_KDF_SALT);
        let tag = Kdf::new(&salt, &secret()).hashers(names).value_tag(id, key);
        value_key(id, &tag).to_vec()
    }

    #[test]
    fn new_stores_name_values_with_cmac_and_format_1_stores_keep_hmac() {
        let r = rec(1);
        let ws = |v: &'static [u8]| StoreWriteSet {
            records: vec![r.clone()],
            writes: vec![w(r.id, "k", v)],
        };

        // A new store: format 2, CMAC names.
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        assert_eq!(raw_get(&s, CF_META, META_FORMAT), 2u32.to_be_bytes());
        s.commit_local(&ws(b"v2")).unwrap();
        let cmac_key = value_key_as(&s, ValueNames::AesCmac, &r.id, "k");
        let hmac_key = value_key_as(&s, ValueNames::HmacSha256, &r.id, "k");
        assert_ne!(cmac_key, hmac_key);
        let values = cf(&s.db, CF_VALUES).unwrap();
        assert!(s.db.get_cf(values, &cmac_key).unwrap().is_some());
        assert!(s.db.get_cf(values, &hmac_key).unwrap().is_none());
        assert_eq!(raw_get(&s, CF_VALUES, &cmac_key)[0], 2, "sealed by name");

        // A format-1 store (what builds before format 2 made): HMAC names, before and after
        // a reopen, and it stays format 1.
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open(dir.path());
            raw_put(&s, CF_META, META_FORMAT, &1u32.to_be_bytes());
        }
        {
            let s = open(dir.path());
            s.commit_local(&ws(b"v1")).unwrap();
            let values = cf(&s.db, CF_VALUES).unwrap();
            let hmac_key = value_key_as(&s, ValueNames::HmacSha256, &r.id, "k");
            assert!(s.db.get_cf(values, &hmac_key).unwrap().is_some());
            // Sealed as format 1 sealed values, so builds before format 2 read it too.
            assert_eq!(raw_get(&s, CF_VALUES, &hmac_key)[0], 1);
            let cmac_key = value_key_as(&s, ValueNames::AesCmac, &r.id, "k");
            assert!(s.db.get_cf(values, &cmac_key).unwrap().is_none());
        }
        let s = open(dir.path());
        assert_eq!(raw_get(&s, CF_META, META_FORMAT), 1u32.to_be_bytes());
        assert_eq!(
            s.value(&r.id, "k").unwrap(),
            Some(Bytes::from_static(b"v1"))
        );
        s.store(r.id, "k", Bytes::from_static(b"again"), APP)
            .unwrap();
        assert_eq!(
            s.value(&r.id, "k").unwrap(),
            Some(Bytes::from_static(b"again"))
        );
    }

    #[test]
    fn values_sealed_before_values_were_bound_by_name_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let r = rec(1);
        s.commit_local(&StoreWriteSet {
            records: vec![r.clone()],
            writes: vec![w(r.id, "new", b"by name")],
        })
        .unwrap();
        let name = s.hashers.value_tag(&r.id, "old");
        let binding = Binding::Value {
            id: &r.id,
            key: "old",
            name: &name,
        };
        let old = s.sealer.seal_named(binding, b"named in full").unwrap();
        raw_put(&s, CF_VALUES, &value_key(&r.id, &name), &old);
        assert_eq!(
            s.value(&r.id, "old").unwrap(),
            Some(Bytes::from_static(b"named in full"))
        );
        assert_eq!(
            s.value(&r.id, "new").unwrap(),
            Some(Bytes::from_static(b"by name"))
        );
        // Moved under another key, it fails to authenticate.
        let other = s.hashers.value_tag(&r.id, "new");
        raw_put(&s, CF_VALUES, &value_key(&r.id, &other), &old);
        assert!(matches!(s.value(&r.id, "new"), Err(StoreError::Backend(_))));
    }

    #[test]
    fn ciphertexts_swapped_between_records_or_keys_fail_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let (a, b) = (rec(1), rec(2));
        s.commit_local(&StoreWriteSet {
            records: vec![a.clone(), b.clone()],
            writes: vec![
                w(a.id, "x", b"secret-a"),
                w(a.id, "y", b"secret-y"),
                w(b.id, "x", b"secret-b"),
            ],
        })
        .unwrap();

        // Record metadata of a under b's id.
        let sealed_a = raw_get(&s, CF_RECORDS, a.id.as_slice());
        raw_put(&s, CF_RECORDS, b.id.as_slice(), &sealed_a);
        assert!(
            matches!(s.record(&b.id), Err(StoreError::Backend(m)) if m.contains("authenticate"))
        );

        // Value of (a, x) under (b, x) and under (a, y).
        let ax = value_key(&a.id, &s.hashers.value_tag(&a.id, "x"));
        let bx = value_key(&b.id, &s.hashers.value_tag(&b.id, "x"));
        let ay = value_key(&a.id, &s.hashers.value_tag(&a.id, "y"));
        let sealed_ax = raw_get(&s, CF_VALUES, &ax);
        raw_put(&s, CF_VALUES, &bx, &sealed_ax);
        raw_put(&s, CF_VALUES, &ay, &sealed_ax);
        assert!(matches!(s.value(&b.id, "x"), Err(StoreError::Backend(_))));
        assert!(matches!(s.value(&a.id, "y"), Err(StoreError::Backend(_))));
        assert_eq!(
            s.value(&a.id, "x").unwrap(),
            Some(Bytes::from_static(b"secret-a"))
        );

        let problems = s.verify().unwrap().problems;
        assert!(problems
            .iter()
            .any(|p| p.contains(&format!("record {} does not authenticate", b.id))));
        assert!(problems
            .iter()
            .any(|p| p.contains("value of") && p.contains("does not authenticate")));
    }

    #[test]
    fn verify_reports_dangling_index_entries_and_orphan_values() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path());
        let r = rec(1);
        s.commit_local(&StoreWriteSet {
            records: vec![r.clone()],
            writes: vec![w(r.id, "k", b"v")],
        })
        .unwrap();
        assert!(s.verify().unwrap().problems.is_empty());
        let ghost = DataId::repeat_byte(0xee);
        raw_put(
            &s,
            CF_INDEX,
            &index_key(&[0u8; INDEX_TAG_LEN], 0),
            ghost.as_slice(),
        );
        raw_put(
            &s,
            CF_VALUES,
            &value_key(&ghost, &[1u8; VALUE_TAG_LEN]),
            b"junk",
        );
        let problems = s.verify().unwrap().problems;
        assert!(
            problems
                .iter()
                .any(|p| p.contains("index entry for missing record")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("value of missing record")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("written by no logged commit")),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_format_and_unmarked_data_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open(dir.path());
            raw_put(&s, CF_META, META_FORMAT, &7u32.to_be_bytes());
        }
        let err = StoreOptions::new(StoreLimits::default())
            .open(dir.path(), &secret())
            .unwrap_err();
        assert!(matches!(
            err,
            StoreOpenError::UnsupportedFormat {
                found: 7,
                oldest: 1,
                newest: 2
            }
        ));

        let dir = tempfile::tempdir().unwrap();
        {
            let cfs = column_family_descriptors(&block_cache().unwrap());
            let db = DB::open_cf_descriptors(&db_options(), dir.path(), cfs).unwrap();
            db.put_cf(db.cf_handle(CF_VALUES).unwrap(), b"k", b"v")
                .unwrap();
        }
        let err = StoreOptions::new(StoreLimits::default())
            .open(dir.path(), &secret())
            .unwrap_err();
        assert!(matches!(err, StoreOpenError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn sequence_numbers_of_every_origin_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let peers = [
            Address::repeat_byte(0x01),
            Address::repeat_byte(0x22),
            Address::repeat_byte(0xff),
        ];
        {
            let s = open(dir.path());
            for (n, peer) in peers.iter().enumerate() {
                let r = DataRecord::new(
                    DataId::repeat_byte(n as u8),
                    1,
                    vec![APP],
                    vec![KETTLE, *peer],
                    "ns".into(),
                );
                for i in 0..=n {
                    let ws = StoreWriteSet {
                        records: vec![r.clone()],
                        writes: vec![w(r.id, "k", if i % 2 == 0 { b"a" } else { b"b" })],
                    };
                    s.apply_remote(*peer, &ws).unwrap();
                    s.commit_local(&ws).unwrap();
                }
            }
        }
        let s = open(dir.path());
        assert_eq!(s.last_seq(&peers[0]), 1);
        assert_eq!(s.last_seq(&peers[1]), 2);
        assert_eq!(s.last_seq(&peers[2]), 3);
        assert_eq!(s.last_seq(&KETTLE), 6);
        assert_eq!(s.last_seq(&Address::repeat_byte(0x33)), 0);
        let report = s.verify().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(
            report.commits,
            vec![(peers[0], 1), (KETTLE, 6), (peers[1], 2), (peers[2], 3)]
        );
        // Numbering continues where it stopped.
        let r = rec(9);
        let receipt = s
            .apply_remote(
                peers[1],
                &StoreWriteSet {
                    records: vec![],
                    writes: vec![],
                },
            )
            .unwrap();
        assert_eq!(receipt, None);
        let ws = StoreWriteSet {
            records: vec![DataRecord::new(
                DataId::repeat_byte(9),
                1,
                vec![APP],
                vec![KETTLE, peers[1]],
                "ns".into(),
            )],
            writes: vec![],
        };
        assert_eq!(s.apply_remote(peers[1], &ws).unwrap().unwrap().seq, 3);
        assert_eq!(
            s.commit_local(&StoreWriteSet {
                records: vec![r],
                writes: vec![]
            })
            .unwrap()
            .unwrap()
            .seq,
            7
        );
    }

    #[test]
    fn a_second_open_of_the_same_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let _s = open(dir.path());
        let err = StoreOptions::new(StoreLimits::default())
            .open(dir.path(), &secret())
            .unwrap_err();
        assert!(matches!(err, StoreOpenError::Db(_)), "{err:?}");
    }
}
