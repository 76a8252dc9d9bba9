//! The kettle's confidential data store: sealed records and values on RocksDB, the fetch
//! index, a per-origin commit log, and the atomic commit of a request's writes.
//!
//! [`EncryptedStore`] implements [`suave_precompiles::ConfidentialStore`], the committed base
//! behind the MEVM's per-request [`suave_precompiles::StoreOverlay`]: the overlay gives a
//! request read-your-writes and discards its changes unless the node accepts the request;
//! this crate makes the accepted changes durable, encrypted and all-or-nothing.
//!
//! ```no_run
//! use kettle_store::{open, KettleSecret};
//! use suave_precompiles::{ConfidentialStore, StoreLimits, StoreOverlay};
//!
//! let secret = KettleSecret::new(vec![7u8; 32])?;
//! let store = open("/var/lib/kettle/store", &secret, StoreLimits::default())?;
//! let mut overlay = StoreOverlay::new(&store, StoreLimits::default());
//! // … the MEVM runs the request against `overlay` …
//! store.commit(&overlay.into_write_set())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Model (SUAVE-COMPAT §6)
//! - A record (id, salt, decryption condition, allowed peekers, allowed stores, namespace)
//!   is created once and never changes; ids are re-derived and checked on commit.
//! - Values are keyed by (record id, key string); last write wins.
//! - The index lists records by (decryption condition, namespace) in insertion order (a
//!   global, monotonic index sequence number in the key).
//! - Each commit gets the next sequence number of its origin kettle and a sealed manifest
//!   (records created, (record, key, caller) of each write) in the commit log, so gossip can
//!   later replay what a peer missed.
//! - Store sync: [`EncryptedStore::outbound_since`] turns local commits into the (possibly
//!   empty) sets a peer may hold; the peer applies them in order with
//!   [`EncryptedStore::apply_remote_seq`], logging each under the origin's own number, so
//!   its [`EncryptedStore::last_seq`] of the origin is a durable catch-up cursor.
//!
//! # Encryption at rest
//! See [`layout`] for what is stored where. Every value, every record's metadata and every
//! commit manifest is sealed with AES-256-GCM; index keys and value keys are keyed hashes.
//! Keys come from the kettle secret through HKDF-SHA256; nonces are per-open-epoch counters
//! under per-epoch keys (never reused, see `crypto` in the source); the AEAD associated
//! data binds each blob to its record id, key and kind. A wrong secret is refused at open.
//!
//! Why `ring`'s AES-256-GCM: measured on this machine kind (2 cores with AES-NI/PCLMUL,
//! release build, single thread, in-place seal):
//!
//! | AEAD | 64 B | 1 KiB | 16 KiB |
//! |---|---|---|---|
//! | ring AES-256-GCM | 546 MiB/s | 4022 MiB/s (243 ns) | 5548 MiB/s |
//! | ring ChaCha20-Poly1305 | 263 MiB/s | 1485 MiB/s | 2121 MiB/s |
//! | RustCrypto `aes-gcm` 0.10 | 450 MiB/s | 985 MiB/s (992 ns) | 1385 MiB/s |
//! | RustCrypto `chacha20poly1305` 0.10 | 33 MiB/s | 440 MiB/s | 1194 MiB/s |
//!
//! Cost against raw RocksDB with the same options (`benches/store.rs`, 1 KiB values, release,
//! this machine kind, medians of interleaved rounds): commits of 16 writes keep ~91–96% of
//! raw `WriteBatch` throughput with synced writes (the production setting) and ~83–87%
//! unsynced. Single-value gets of hot (block-cached) values keep ~83–86% of raw gets that
//! name values by the same key strings since store format 2 (76.6–80.0% before, in the full
//! `scripts/bench` runs of rounds 4–6). What a get adds is the crypto itself: the value's
//! name, AES-256-CMAC of (record id, key) (~36 ns; HMAC-SHA256 took ~108 ns, and a
//! pre-padded HMAC only ~15 ns less), and the AES-GCM open of 1 KiB (~222 ns, with the
//! 16-byte name as associated data; ~258 ns with format 1's ~46 bytes of tag, id and key).
//! There is no second read (a get does not load its record), no copy beyond the one raw
//! `get_cf` also makes, and one allocation, like raw.
//!
//! # Access control (SUAVE-COMPAT §3.9, §6.5)
//! [`EncryptedStore::retrieve`], [`EncryptedStore::store`] and every write of a commit
//! require an allowed peeker (or the wildcard). [`EncryptedStore::apply_remote`] and
//! [`EncryptedStore::apply_remote_seq`] also require the origin kettle and this kettle to be
//! allowed stores; [`EncryptedStore::outbound_since`] ships nothing of a record that does not
//! list the destination. The trait's `record`,
//! `records_by_condition` and `value` do not check peekers: the overlay above them does,
//! with the caller stack the store cannot see.

#![warn(missing_docs, unreachable_pub)]

mod codec;
mod crypto;
mod error;
pub mod layout;
mod secret;
mod store;

use std::path::Path;

pub use codec::{CommitManifest, LoggedWrite};
pub use error::StoreOpenError;
pub use layout::COLUMN_FAMILIES;
pub use secret::KettleSecret;
pub use store::{
    CommitReceipt, CommitWithError, EncryptedStore, RemoteApply, StoreOptions, VerifyReport,
};
pub use suave_precompiles::{StoreError, StoreLimits};

/// Opens (creating if missing) the confidential store in `path`, sealed under `secret`,
/// with `limits` and otherwise default [`StoreOptions`] (synced commits, no local kettle
/// identity: use [`StoreOptions`] to set one for sync).
pub fn open(
    path: impl AsRef<Path>,
    secret: &KettleSecret,
    limits: StoreLimits,
) -> Result<EncryptedStore, StoreOpenError> {
    StoreOptions::new(limits).open(path, secret)
}

/// Opens the store in a RocksDB shared with other components; see [`StoreOptions::open_in`].
pub fn open_in(
    db: std::sync::Arc<rocksdb::DB>,
    secret: &KettleSecret,
    options: StoreOptions,
) -> Result<EncryptedStore, StoreOpenError> {
    options.open_in(db, secret)
}
