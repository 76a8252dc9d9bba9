//! Errors of opening the store. Errors of operations on an open store are
//! [`suave_precompiles::StoreError`], the type the MEVM's store trait speaks.
//!
//! No message here ever carries a secret, a key string or a value.

use suave_precompiles::StoreError;

/// Why [`crate::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    /// The kettle secret is too short to be a full-entropy key.
    #[error("kettle secret is {len} bytes; at least {min} are required")]
    SecretTooShort {
        /// Length given.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// The data directory holds a store sealed under a different kettle secret.
    #[error("wrong kettle secret: the store's key-check value does not authenticate")]
    WrongSecret,
    /// The data directory holds a store in an on-disk format this build does not read.
    #[error("unsupported confidential store format {found} (this build reads formats {oldest} to {newest})")]
    UnsupportedFormat {
        /// Format number found in `store_meta`.
        found: u32,
        /// Oldest format this build reads (and keeps writing in).
        oldest: u32,
        /// Format this build gives new stores.
        newest: u32,
    },
    /// The store's metadata is missing or malformed.
    #[error("confidential store is corrupt: {0}")]
    Corrupt(String),
    /// Every key epoch number has been used; the store must be re-keyed.
    #[error("confidential store key epochs exhausted")]
    EpochsExhausted,
    /// The operating system's random number generator failed.
    #[error("system random number generator failed")]
    Random,
    /// RocksDB refused to open or write (I/O error, lock held by another process, …).
    #[error("rocksdb: {0}")]
    Db(String),
}

impl From<rocksdb::Error> for StoreOpenError {
    fn from(e: rocksdb::Error) -> Self {
        Self::Db(e.into_string())
    }
}

/// A RocksDB failure during an operation, as the trait's error.
pub(crate) fn db_err(e: rocksdb::Error) -> StoreError {
    StoreError::Backend(format!("rocksdb: {}", e.into_string()))
}

/// Stored bytes that fail authentication or decoding: tampering, bit rot or a bug. The
/// message names only public facts (which column family, which record id).
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt store entry: {what}"))
}
