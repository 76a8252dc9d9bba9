//! On-disk layout of the chain in RocksDB: one column family per kind of data.
//!
//! Accounts and storage are keyed by their hashed keys, so a prefix scan yields exactly the
//! order the Merkle-Patricia trie needs and state roots need no sort.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `chain_accounts` | keccak(address) | address ‖ nonce(8) ‖ balance(32) ‖ code hash ‖ storage root |
//! | `chain_storage` | keccak(address) ‖ keccak(slot) | slot ‖ value (zero values are deleted) |
//! | `chain_code` | code hash | bytecode |
//! | `chain_headers` | number (8, BE) | RLP header |
//! | `chain_block_hashes` | block hash | number (8, BE) |
//! | `chain_bodies` | number | RLP list of [`StoredTx`](crate::StoredTx) |
//! | `chain_receipts` | number | RLP list of [`StoredReceipt`](crate::StoredReceipt) |
//! | `chain_tx_index` | tx hash | number (8, BE) ‖ index (4, BE) |
//! | `chain_pending` | tx hash | [`StoredTx`](crate::StoredTx) accepted but not yet in a block |
//! | `chain_meta` | name | value (`head`: number) |

use std::{path::Path, sync::Arc};

use alloy_primitives::{keccak256, Address, B256, U256};
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Options, DB};

use crate::ChainError;

/// Accounts by hashed address.
pub const CF_ACCOUNTS: &str = "chain_accounts";
/// Storage slots by hashed address ‖ hashed slot.
pub const CF_STORAGE: &str = "chain_storage";
/// Contract code by code hash.
pub const CF_CODE: &str = "chain_code";
/// Headers by number.
pub const CF_HEADERS: &str = "chain_headers";
/// Block numbers by block hash.
pub const CF_BLOCK_HASHES: &str = "chain_block_hashes";
/// Block bodies by number.
pub const CF_BODIES: &str = "chain_bodies";
/// Receipts by block number.
pub const CF_RECEIPTS: &str = "chain_receipts";
/// Transaction locations by transaction hash.
pub const CF_TX_INDEX: &str = "chain_tx_index";
/// Accepted transactions waiting for a block (survive restarts).
pub const CF_PENDING: &str = "chain_pending";
/// Chain metadata (head number).
pub const CF_META: &str = "chain_meta";
/// Nodes of the state tries (the account trie and every storage trie), keyed by trie and
/// path, so that a block's state root costs its changes rather than a pass over all state.
pub const CF_TRIE: &str = "chain_trie";

/// Every column family the chain uses; the node opens them together with the confidential
/// store's in one RocksDB instance.
pub const COLUMN_FAMILIES: [&str; 11] = [
    CF_ACCOUNTS,
    CF_STORAGE,
    CF_CODE,
    CF_HEADERS,
    CF_BLOCK_HASHES,
    CF_BODIES,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_PENDING,
    CF_META,
    CF_TRIE,
];

/// Metadata key of the head block number.
pub(crate) const META_HEAD: &[u8] = b"head";

/// Memtable memory of the whole database (all column families, chain and store).
pub const MEMTABLE_BUDGET_BYTES: usize = 64 << 20;

/// Block cache shared by the chain's column families.
pub const BLOCK_CACHE_BYTES: usize = 64 << 20;

/// Opens (creating if needed) a RocksDB at `path` with the chain's column families plus any
/// `extra` ones (default options) and any that already exist on disk.
pub fn open_db(path: &Path, extra: &[&str]) -> Result<Arc<DB>, ChainError> {
    open_db_with(
        path,
        extra
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, Options::default()))
            .collect(),
    )
}

/// Opens (creating if needed) a RocksDB at `path` with the chain's column families plus the
/// `extra` descriptors of other components sharing the database (the confidential store).
pub fn open_db_with(
    path: &Path,
    extra: Vec<ColumnFamilyDescriptor>,
) -> Result<Arc<DB>, ChainError> {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_keep_log_file_num(4);
    // One memtable budget for every column family (RocksDB's WriteBufferManager): without it
    // each written family may hold up to 2 × 64 MiB, and a busy kettle's memory grows by
    // hundreds of MiB before the first flushes.
    opts.set_db_write_buffer_size(MEMTABLE_BUDGET_BYTES);
    let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES)?;
    let chain_cf_options = || {
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_block_cache(&cache);
        bounded_table_memory(&mut table);
        let mut o = Options::default();
        o.set_block_based_table_factory(&table);
        o
    };
    let mut known: Vec<String> = COLUMN_FAMILIES.iter().map(|s| s.to_string()).collect();
    known.extend(extra.iter().map(|d| d.name().to_string()));
    let mut cfs: Vec<ColumnFamilyDescriptor> = COLUMN_FAMILIES
        .iter()
        .map(|n| ColumnFamilyDescriptor::new(*n, chain_cf_options()))
        .collect();
    cfs.extend(extra);
    if let Ok(existing) = DB::list_cf(&opts, path) {
        for name in existing {
            if !known.contains(&name) {
                cfs.push(ColumnFamilyDescriptor::new(name, Options::default()));
            }
        }
    }
    Ok(Arc::new(DB::open_cf_descriptors(&opts, path, cfs)?))
}

/// Charges SST index and filter blocks to the block cache instead of keeping every table's
/// in memory beside it: by default their memory grows with the data on disk (a long-running
/// kettle's chain keeps growing), which no cache size bounds. Level-0 ones stay pinned, as
/// they are read on every lookup.
pub fn bounded_table_memory(table: &mut rocksdb::BlockBasedOptions) {
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
}

/// Handle of a column family that must exist (the chain opened it).
pub(crate) fn cf<'a>(db: &'a DB, name: &'static str) -> Result<&'a ColumnFamily, ChainError> {
    db.cf_handle(name)
        .ok_or_else(|| ChainError::corrupt("column families", format!("{name} missing")))
}

/// An account as stored: enough for revm and for the state trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAccount {
    /// The account's address (the key is its hash).
    pub address: Address,
    /// Transaction count / creation count.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak of the code, `KECCAK_EMPTY` for none.
    pub code_hash: B256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
}

const ACCOUNT_LEN: usize = 20 + 8 + 32 + 32 + 32;

impl StoredAccount {
    /// The account as revm reads it (code left to be loaded by hash).
    pub fn info(&self) -> revm::state::AccountInfo {
        revm::state::AccountInfo {
            balance: self.balance,
            nonce: self.nonce,
            code_hash: self.code_hash,
            code: None,
            ..Default::default()
        }
    }

    pub(crate) fn encode(&self) -> [u8; ACCOUNT_LEN] {
        let mut out = [0u8; ACCOUNT_LEN];
        out[..20].copy_from_slice(self.address.as_slice());
        out[20..28].copy_from_slice(&self.nonce.to_be_bytes());
        out[28..60].copy_from_slice(&self.balance.to_be_bytes::<32>());
        out[60..92].copy_from_slice(self.code_hash.as_slice());
        out[92..].copy_from_slice(self.storage_root.as_slice());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, ChainError> {
        if bytes.len() != ACCOUNT_LEN {
            return Err(ChainError::corrupt(
                "account",
                format!("length {}", bytes.len()),
            ));
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&bytes[20..28]);
        Ok(Self {
            address: Address::from_slice(&bytes[..20]),
            nonce: u64::from_be_bytes(nonce),
            balance: U256::from_be_slice(&bytes[28..60]),
            code_hash: B256::from_slice(&bytes[60..92]),
            storage_root: B256::from_slice(&bytes[92..]),
        })
    }

    /// The account as the state trie stores it.
    pub fn trie_account(&self) -> alloy_trie::TrieAccount {
        alloy_trie::TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: self.storage_root,
            code_hash: self.code_hash,
        }
    }
}

/// Key of an account.
pub(crate) fn account_key(address: &Address) -> B256 {
    keccak256(address)
}

/// Key of a storage slot.
pub(crate) fn storage_key(hashed_address: &B256, slot: &U256) -> [u8; 64] {
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(hashed_address.as_slice());
    key[32..].copy_from_slice(keccak256(slot.to_be_bytes::<32>()).as_slice());
    key
}

/// Value of a storage slot: the slot itself (for revm reads by prefix scans) and its value.
pub(crate) fn storage_value(slot: &U256, value: &U256) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&slot.to_be_bytes::<32>());
    out[32..].copy_from_slice(&value.to_be_bytes::<32>());
    out
}

/// Decodes a storage value into (slot, value).
pub(crate) fn decode_storage_value(bytes: &[u8]) -> Result<(U256, U256), ChainError> {
    if bytes.len() != 64 {
        return Err(ChainError::corrupt(
            "storage",
            format!("length {}", bytes.len()),
        ));
    }
    Ok((
        U256::from_be_slice(&bytes[..32]),
        U256::from_be_slice(&bytes[32..]),
    ))
}

/// Big-endian block number key.
pub(crate) fn number_key(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

/// Decodes an 8-byte big-endian number.
pub(crate) fn decode_number(bytes: &[u8]) -> Result<u64, ChainError> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| ChainError::corrupt("block number", format!("length {}", bytes.len())))?;
    Ok(u64::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_encoding_round_trips() {
        let a = StoredAccount {
            address: Address::repeat_byte(7),
            nonce: u64::MAX,
            balance: U256::MAX,
            code_hash: B256::repeat_byte(1),
            storage_root: B256::repeat_byte(2),
        };
        assert_eq!(StoredAccount::decode(&a.encode()).expect("decode"), a);
        assert!(StoredAccount::decode(&[0u8; 3]).is_err());
    }
}
