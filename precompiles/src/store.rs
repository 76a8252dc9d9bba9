//! The confidential store as the MEVM sees it: a committed base behind a trait, and the
//! per-request overlay that stages a request's writes until the node decides to commit them.
//!
//! The split keeps one job per side: the overlay (here) owns the semantics SUAPPs observe
//! (read-your-writes, fetch order, access checks, limits); the backend (`kettle-store`) owns
//! durability, encryption and the atomic commit of a whole [`StoreWriteSet`].

pub mod memory;

use std::collections::HashMap;

use alloy_primitives::{Address, Bytes};
use kettle_primitives::{DataId, DataRecord};

/// Errors of the confidential store, as reported to precompiles and the node.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No record with this id exists, committed or staged.
    #[error("data record not found")]
    RecordNotFound(DataId),
    /// A record with this id was already created in this request or committed earlier.
    #[error("record with this id already exists")]
    RecordExists(DataId),
    /// The record exists but holds no value under this key.
    #[error("data for key {key} not found")]
    ValueNotFound {
        /// Record looked in.
        id: DataId,
        /// Key asked for.
        key: String,
    },
    /// `caller` is not among the record's allowed peekers (and the wildcard is not either).
    #[error("{caller} is not allowed to access {id}")]
    AccessDenied {
        /// Record accessed.
        id: DataId,
        /// Effective caller that was refused.
        caller: Address,
    },
    /// A kettle not listed in the record's allowed stores tried to hold its values.
    #[error("kettle {kettle} is not an allowed store of {id}")]
    StoreNotAllowed {
        /// Record concerned.
        id: DataId,
        /// Kettle that was refused.
        kettle: Address,
    },
    /// A configured limit (value size, records or writes per request) would be exceeded.
    #[error("store limit exceeded: {0}")]
    LimitExceeded(String),
    /// The backend failed (I/O, corruption, wrong kettle secret); the message is safe to log.
    #[error("confidential store backend: {0}")]
    Backend(String),
}

/// Committed confidential data: what every request reads through its overlay, and the sink
/// its writes go to when the node accepts the request.
///
/// Implementations must make [`ConfidentialStore::commit`] atomic: after a crash at any point
/// either every record and value of the set is visible or none is.
pub trait ConfidentialStore: Send + Sync {
    /// A committed record by id.
    fn record(&self, id: &DataId) -> Result<Option<DataRecord>, StoreError>;

    /// Committed records indexed under (`decryption_condition`, `namespace`), oldest first.
    fn records_by_condition(
        &self,
        decryption_condition: u64,
        namespace: &str,
    ) -> Result<Vec<DataRecord>, StoreError>;

    /// The committed value of `key` in record `id`.
    fn value(&self, id: &DataId, key: &str) -> Result<Option<Bytes>, StoreError>;

    /// Applies a request's records and writes in one atomic step.
    fn commit(&self, writes: &StoreWriteSet) -> Result<(), StoreError>;
}

/// One staged value write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreWrite {
    /// Record written to.
    pub id: DataId,
    /// Key within the record.
    pub key: String,
    /// New value (last write wins).
    pub value: Bytes,
    /// Effective caller that wrote it (an allowed peeker of the record).
    pub caller: Address,
}

/// Everything one request created and wrote, in order: the unit of commit and of sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreWriteSet {
    /// Records created by the request, in creation order.
    pub records: Vec<DataRecord>,
    /// Value writes in execution order.
    pub writes: Vec<StoreWrite>,
}

impl StoreWriteSet {
    /// Whether the request changed nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.writes.is_empty()
    }
}

/// Bounds on what one request may stage, so a hostile SUAPP cannot exhaust memory or disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest value accepted by `confidentialStore`, in bytes.
    pub max_value_bytes: usize,
    /// Most records one request may create.
    pub max_records_per_request: usize,
    /// Most value writes one request may stage.
    pub max_writes_per_request: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_value_bytes: 1 << 20,
            max_records_per_request: 1024,
            max_writes_per_request: 4096,
        }
    }
}

/// A request's private view of the store: committed data plus its own staged changes.
///
/// Dropping it discards the changes (failed runs, `eth_call`, gas estimation); the node
/// commits [`StoreOverlay::into_write_set`] through [`ConfidentialStore::commit`] only when it
/// accepts the request.
pub struct StoreOverlay<'a> {
    base: &'a dyn ConfidentialStore,
    limits: StoreLimits,
    staged: StoreWriteSet,
    /// Latest staged value per (record, key), for read-your-writes.
    latest: HashMap<(DataId, String), usize>,
}

impl<'a> StoreOverlay<'a> {
    /// Opens an empty overlay over `base`.
    pub fn new(base: &'a dyn ConfidentialStore, limits: StoreLimits) -> Self {
        Self {
            base,
            limits,
            staged: StoreWriteSet::default(),
            latest: HashMap::new(),
        }
    }

    /// Stages a new record; its id must be consistent and unused.
    pub fn create_record(&mut self, record: DataRecord) -> Result<(), StoreError> {
        if self.staged.records.len() >= self.limits.max_records_per_request {
            return Err(StoreError::LimitExceeded(format!(
                "more than {} records in one request",
                self.limits.max_records_per_request
            )));
        }
        if self.record(&record.id)?.is_some() {
            return Err(StoreError::RecordExists(record.id));
        }
        self.staged.records.push(record);
        Ok(())
    }

    /// A record by id: staged in this request, else committed.
    pub fn record(&self, id: &DataId) -> Result<Option<DataRecord>, StoreError> {
        if let Some(r) = self.staged.records.iter().find(|r| r.id == *id) {
            return Ok(Some(r.clone()));
        }
        self.base.record(id)
    }

    /// Records under (`decryption_condition`, `namespace`): committed first (oldest first),
    /// then this request's, in creation order.
    pub fn fetch_records(
        &self,
        decryption_condition: u64,
        namespace: &str,
    ) -> Result<Vec<DataRecord>, StoreError> {
        let mut out = self
            .base
            .records_by_condition(decryption_condition, namespace)?;
        out.extend(
            self.staged
                .records
                .iter()
                .filter(|r| {
                    r.decryption_condition == decryption_condition && r.version == namespace
                })
                .cloned(),
        );
        Ok(out)
    }

    /// Stages `value` under `key` of record `id`, written by effective caller `caller`.
    pub fn store(
        &mut self,
        id: DataId,
        key: &str,
        value: Bytes,
        caller: Address,
    ) -> Result<(), StoreError> {
        let record = self.record(&id)?.ok_or(StoreError::RecordNotFound(id))?;
        if !record.is_peeker(caller) {
            return Err(StoreError::AccessDenied { id, caller });
        }
        if value.len() > self.limits.max_value_bytes {
            return Err(StoreError::LimitExceeded(format!(
                "value of {} bytes exceeds {} bytes",
                value.len(),
                self.limits.max_value_bytes
            )));
        }
        if self.staged.writes.len() >= self.limits.max_writes_per_request {
            return Err(StoreError::LimitExceeded(format!(
                "more than {} writes in one request",
                self.limits.max_writes_per_request
            )));
        }
        self.latest
            .insert((id, key.to_string()), self.staged.writes.len());
        self.staged.writes.push(StoreWrite {
            id,
            key: key.to_string(),
            value,
            caller,
        });
        Ok(())
    }

    /// The value of `key` in record `id` as read by effective caller `caller`: this request's
    /// latest write, else the committed value.
    pub fn retrieve(&self, id: DataId, key: &str, caller: Address) -> Result<Bytes, StoreError> {
        let record = self.record(&id)?.ok_or(StoreError::RecordNotFound(id))?;
        if !record.is_peeker(caller) {
            return Err(StoreError::AccessDenied { id, caller });
        }
        if let Some(&i) = self.latest.get(&(id, key.to_string())) {
            return Ok(self.staged.writes[i].value.clone());
        }
        self.base
            .value(&id, key)?
            .ok_or_else(|| StoreError::ValueNotFound {
                id,
                key: key.to_string(),
            })
    }

    /// What this request staged so far.
    pub fn staged(&self) -> &StoreWriteSet {
        &self.staged
    }

    /// The request's changes, for the node to commit.
    pub fn into_write_set(self) -> StoreWriteSet {
        self.staged
    }
}
