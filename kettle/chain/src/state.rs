//! Reading chain state: a consistent view of the head state for revm, and state roots.

use alloy_primitives::{Address, B256, U256};
use revm::{
    bytecode::Bytecode,
    database_interface::{DBErrorMarker, DatabaseRef},
    primitives::KECCAK_EMPTY,
    state::AccountInfo,
};
use rocksdb::{Direction, IteratorMode, ReadOptions, Snapshot, DB};

use crate::{
    db::{self, StoredAccount, CF_ACCOUNTS, CF_CODE, CF_HEADERS, CF_STORAGE},
    ChainError,
};

impl DBErrorMarker for ChainError {}

/// A point-in-time view of the chain state (RocksDB snapshot), so a long read (an `eth_call`,
/// a confidential request) never sees a block half applied.
pub struct StateView<'a> {
    db: &'a DB,
    snapshot: Snapshot<'a>,
    head: u64,
}

impl<'a> StateView<'a> {
    /// A view of `db` as of now; `head` is the head block number at that moment.
    pub(crate) fn new(db: &'a DB, head: u64) -> Self {
        Self {
            db,
            snapshot: db.snapshot(),
            head,
        }
    }

    /// Head block number of this view.
    pub fn head_number(&self) -> u64 {
        self.head
    }

    /// An account as stored, if it exists.
    pub fn account(&self, address: &Address) -> Result<Option<StoredAccount>, ChainError> {
        let cf = db::cf(self.db, CF_ACCOUNTS)?;
        self.snapshot
            .get_cf(cf, db::account_key(address))?
            .map(|bytes| StoredAccount::decode(&bytes))
            .transpose()
    }

    /// Code of an account (empty if none).
    pub fn code(&self, address: &Address) -> Result<Bytecode, ChainError> {
        match self.account(address)? {
            Some(acc) => self.code_by_hash_ref(acc.code_hash),
            None => Ok(Bytecode::default()),
        }
    }

    fn read_storage(&self, address: &Address, slot: &U256) -> Result<U256, ChainError> {
        let cf = db::cf(self.db, CF_STORAGE)?;
        let key = db::storage_key(&db::account_key(address), slot);
        match self.snapshot.get_cf(cf, key)? {
            Some(bytes) => Ok(db::decode_storage_value(&bytes)?.1),
            None => Ok(U256::ZERO),
        }
    }

    /// Every storage slot of the account with hashed address `hashed`, in trie order
    /// (hashed slot, value).
    pub(crate) fn storage_entries(&self, hashed: &B256) -> Result<Vec<(B256, U256)>, ChainError> {
        storage_entries(self.db, &self.snapshot, hashed)
    }

    /// Every account in trie order.
    pub(crate) fn accounts(&self) -> Result<Vec<(B256, StoredAccount)>, ChainError> {
        let cf = db::cf(self.db, CF_ACCOUNTS)?;
        let mut out = Vec::new();
        for item in self.snapshot.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = item?;
            out.push((B256::from_slice(&k), StoredAccount::decode(&v)?));
        }
        Ok(out)
    }
}

impl crate::trie::NodeSource for StateView<'_> {
    fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let cf = db::cf(self.db, db::CF_TRIE)?;
        Ok(self.snapshot.get_cf(cf, key)?)
    }
}

/// Storage of one account in trie order, read from `snapshot`.
fn storage_entries(
    db: &DB,
    snapshot: &Snapshot<'_>,
    hashed: &B256,
) -> Result<Vec<(B256, U256)>, ChainError> {
    let cf = db::cf(db, CF_STORAGE)?;
    let mut opts = ReadOptions::default();
    let mut upper = hashed.0;
    // Upper bound: the next 32-byte prefix (carry over 0xff bytes).
    let bounded = increment(&mut upper);
    if bounded {
        opts.set_iterate_upper_bound(upper.to_vec());
    }
    let mode = IteratorMode::From(hashed.as_slice(), Direction::Forward);
    let iter = snapshot.iterator_cf_opt(cf, opts, mode);
    let mut out = Vec::new();
    for item in iter {
        let (k, v) = item?;
        if k.len() != 64 || &k[..32] != hashed.as_slice() {
            break;
        }
        out.push((B256::from_slice(&k[32..]), db::decode_storage_value(&v)?.1));
    }
    Ok(out)
}

/// Increments a big-endian byte string; false on overflow (all 0xff).
fn increment(bytes: &mut [u8; 32]) -> bool {
    for b in bytes.iter_mut().rev() {
        if *b == 0xff {
            *b = 0;
        } else {
            *b += 1;
            return true;
        }
    }
    false
}

impl DatabaseRef for StateView<'_> {
    type Error = ChainError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.account(&address)?.map(|acc| acc.info()))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        let cf = db::cf(self.db, CF_CODE)?;
        match self.snapshot.get_cf(cf, code_hash)? {
            Some(bytes) => Ok(Bytecode::new_raw(bytes.into())),
            None => Err(ChainError::corrupt(
                "code",
                format!("missing code {code_hash}"),
            )),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        self.read_storage(&address, &index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        if number > self.head {
            return Ok(B256::ZERO);
        }
        let cf = db::cf(self.db, CF_HEADERS)?;
        let Some(bytes) = self.snapshot.get_cf(cf, db::number_key(number))? else {
            return Ok(B256::ZERO);
        };
        Ok(alloy_primitives::keccak256(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_carries() {
        let mut a = [0u8; 32];
        a[31] = 0xff;
        assert!(increment(&mut a));
        assert_eq!(a[30], 1);
        assert_eq!(a[31], 0);
        let mut max = [0xffu8; 32];
        assert!(!increment(&mut max));
    }
}
