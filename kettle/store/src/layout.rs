//! On-disk layout: column families, key formats and RocksDB options.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `store_meta` | `format` | on-disk format, u32 BE (plain) |
//! | | `kdf_salt` | 32 random bytes, HKDF salt (plain) |
//! | | `key_check` | nonce ‖ AES-GCM(constant) under the key-check key |
//! | | `epoch/` ‖ epoch u32 BE | 32 random bytes, seed of that epoch's AEAD key (plain) |
//! | | `index_seq` | next index sequence number, u64 BE (plain) |
//! | `store_records` | record id (16) | sealed record metadata, AAD = `record` tag ‖ id |
//! | `store_values` | record id (16) ‖ CMAC(id ‖ key) (format 1: HMAC(id ‖ key)\[..16\]) | sealed value, AAD = `value` tag ‖ id ‖ key |
//! | `store_index` | HMAC(cond ‖ namespace)\[..16\] ‖ index seq u64 BE | record id (16, plain) |
//! | `store_log` | origin (20) ‖ commit seq u64 BE | sealed commit manifest, AAD = `log` tag ‖ origin ‖ seq |
//!
//! An origin's last commit sequence number is the last key of its run in `store_log` (found
//! with one seek per origin at open), so a commit writes no separate counter; `index_seq` is
//! written only by commits that create records.
//!
//! Record ids, kettle addresses and counters are public facts (ids are returned to anyone by
//! `fetchDataRecords` and appear in on-chain callbacks), so they stay plain for ordered
//! iteration. Namespaces, decryption conditions, key strings, peekers, stores, salts and
//! values never reach the disk in plaintext.

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Options};

/// Metadata of the store itself.
pub const CF_META: &str = "store_meta";
/// Sealed record metadata by record id.
pub const CF_RECORDS: &str = "store_records";
/// Sealed values by (record id, keyed hash of the key).
pub const CF_VALUES: &str = "store_values";
/// The fetch index: keyed hash of (condition, namespace), then insertion order.
pub const CF_INDEX: &str = "store_index";
/// Sealed per-origin commit log, for sync catch-up.
pub const CF_LOG: &str = "store_log";

/// Every column family the store owns. A database shared with other components must
/// include these (with [`column_family_options`]) and must not write to them.
pub const COLUMN_FAMILIES: [&str; 5] = [CF_META, CF_RECORDS, CF_VALUES, CF_INDEX, CF_LOG];

/// On-disk format number new stores get (`store_meta`/`format`). Format 2 names values with
/// AES-256-CMAC instead of format 1's HMAC-SHA256, and seals them with their name as the
/// associated data; nothing else differs.
pub const FORMAT_VERSION: u32 = 2;
/// Oldest on-disk format this build still opens. A store keeps its format (no migration is
/// written: renaming every value would need the key strings from the commit log's sealed
/// manifests), so the build that made it can still read it.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

pub(crate) const META_FORMAT: &[u8] = b"format";
pub(crate) const META_KDF_SALT: &[u8] = b"kdf_salt";
pub(crate) const META_KEY_CHECK: &[u8] = b"key_check";
pub(crate) const META_EPOCH_PREFIX: &[u8] = b"epoch/";
pub(crate) const META_INDEX_SEQ: &[u8] = b"index_seq";

/// Database-wide RocksDB options the store opens with (and the bench's raw baseline uses).
pub fn db_options() -> Options {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_keep_log_file_num(4);
    o
}

/// Capacity of the block cache one store shares across its column families. RocksDB's
/// default (8 MiB per table factory) thrashes as soon as the hot values outgrow it.
pub const BLOCK_CACHE_BYTES: usize = 64 << 20;

/// A block cache of [`BLOCK_CACHE_BYTES`] for [`column_family_options`] (memory is taken as
/// blocks are cached, not up front).
pub fn block_cache() -> Result<Cache, rocksdb::Error> {
    Cache::new_lru_cache(BLOCK_CACHE_BYTES)
}

/// Per-column-family options, sharing `cache`. Compression is off: sealed data is
/// incompressible, so compressing it would only burn CPU. Bloom filters keep point lookups
/// that miss (existence checks of new records on commit, absent keys) off the data blocks.
pub fn column_family_options(cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    // Index and filter blocks in the cache (level 0 pinned): otherwise their memory grows
    // with the data on disk, outside any cache bound.
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut o = Options::default();
    o.set_compression_type(DBCompressionType::None);
    o.set_block_based_table_factory(&table);
    o
}

/// Descriptors of all of [`COLUMN_FAMILIES`] with [`column_family_options`]: what a process
/// opening the store's database (the store itself, a shared node database, the bench's raw
/// baseline) passes to RocksDB.
pub fn column_family_descriptors(cache: &Cache) -> Vec<ColumnFamilyDescriptor> {
    COLUMN_FAMILIES
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, column_family_options(cache)))
        .collect()
}

pub(crate) fn epoch_key(epoch: u32) -> Vec<u8> {
    [META_EPOCH_PREFIX, &epoch.to_be_bytes()].concat()
}

pub(crate) fn index_key(tag: &[u8], seq: u64) -> Vec<u8> {
    [tag, &seq.to_be_bytes()].concat()
}

pub(crate) fn value_key(
    id: &kettle_primitives::DataId,
    tag: &[u8; crate::crypto::VALUE_TAG_LEN],
) -> [u8; 16 + crate::crypto::VALUE_TAG_LEN] {
    let mut k = [0u8; 16 + crate::crypto::VALUE_TAG_LEN];
    k[..16].copy_from_slice(id.as_slice());
    k[16..].copy_from_slice(tag);
    k
}

pub(crate) fn log_key(origin: &alloy_primitives::Address, seq: u64) -> Vec<u8> {
    [origin.as_slice(), &seq.to_be_bytes()].concat()
}

/// Parses a big-endian u64 stored in `store_meta`.
pub(crate) fn be_u64(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(arr))
}

/// Parses a big-endian u32 stored in `store_meta`.
pub(crate) fn be_u32(bytes: &[u8]) -> Option<u32> {
    let arr: [u8; 4] = bytes.try_into().ok()?;
    Some(u32::from_be_bytes(arr))
}
