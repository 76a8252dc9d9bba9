//! Building the stored state tries from the plain state: on a new database, and once on a
//! database from before tries were stored.
//!
//! The nodes are written in batches of bounded size, so the migration's memory does not grow
//! with the state. The account trie's root node goes last, in the one synced write: a
//! migration cut short (crash, power loss, error) leaves no root that matches the head, so
//! the next start runs it again from the beginning, which first deletes every node.

use alloy_consensus::EMPTY_ROOT_HASH;
use alloy_primitives::{keccak256, B256};
use rocksdb::{ColumnFamily, WriteBatch, WriteOptions, DB};
use tracing::info;

use super::durable;
use crate::{
    db::{self, CF_TRIE},
    error::ChainError,
    state::StateView,
    trie,
};

/// Bytes of trie nodes one write of the migration carries at most (plus one node).
const BATCH_BYTES: usize = 16 << 20;

/// Makes sure the stored tries hold the state whose root is `state_root` (the head's),
/// building them from the plain state if not.
pub(super) fn ensure_tries(db: &DB, state_root: B256) -> Result<(), ChainError> {
    ensure_tries_with(db, state_root, BATCH_BYTES, |_| Ok(()))
}

/// [`ensure_tries`] writing batches of at most `batch_bytes` (plus one node); `written` runs
/// after each unsynced batch with the number of batches so far (tests cut the migration
/// short with it).
fn ensure_tries_with(
    db: &DB,
    state_root: B256,
    batch_bytes: usize,
    written: impl FnMut(usize) -> Result<(), ChainError>,
) -> Result<(), ChainError> {
    let cf = db::cf(db, CF_TRIE)?;
    if state_root == EMPTY_ROOT_HASH {
        return Ok(());
    }
    let root_key = root_key();
    if let Some(node) = db.get_cf(cf, &root_key)? {
        if keccak256(&node) == state_root {
            return Ok(());
        }
    }
    let started = std::time::Instant::now();
    info!(%state_root, "building the state tries from the plain state");
    let mut out = Batches::new(db, cf, batch_bytes, written);
    let (start, end) = trie::all_range();
    out.batch.delete_range_cf(cf, start, end);
    let view = StateView::new(db, 0);
    let mut leaves = Vec::new();
    let mut storage_tries = 0usize;
    for (hashed, account) in view.accounts()? {
        if account.storage_root != EMPTY_ROOT_HASH {
            let slots = view.storage_entries(&hashed)?;
            let built = trie::build(
                &hashed,
                slots.into_iter().map(|(k, v)| (k, alloy_rlp::encode(v))),
            )?;
            if built.root != account.storage_root {
                return Err(ChainError::corrupt(
                    "storage",
                    format!(
                        "storage of account {} hashes to {}, but the account says {}",
                        account.address, built.root, account.storage_root
                    ),
                ));
            }
            for (k, v) in built.puts {
                out.put(k, v)?;
            }
            storage_tries += 1;
        }
        leaves.push((hashed, alloy_rlp::encode(account.trie_account())));
    }
    drop(view);
    let accounts = leaves.len();
    let built = trie::build(&B256::ZERO, leaves)?;
    if built.root != state_root {
        return Err(ChainError::corrupt(
            "accounts",
            format!(
                "the stored state hashes to {}, but the head's state root is {state_root}",
                built.root
            ),
        ));
    }
    let mut root_node = None;
    for (k, v) in built.puts {
        if k == root_key {
            root_node = Some(v);
        } else {
            out.put(k, v)?;
        }
    }
    let root_node = root_node.ok_or_else(|| {
        ChainError::corrupt("accounts", "the rebuilt account trie has no root node")
    })?;
    let batches = out.finish(root_key, root_node)?;
    info!(
        accounts,
        storage_tries,
        batches,
        ms = started.elapsed().as_millis() as u64,
        "built the state tries"
    );
    Ok(())
}

/// Key of the account trie's root node.
fn root_key() -> Vec<u8> {
    trie::node_key(&B256::ZERO, &alloy_trie::Nibbles::new())
}

/// Trie-node writes cut into batches of bounded size: full ones are written unsynced, the
/// last one (with the root node) synced.
struct Batches<'a, F> {
    db: &'a DB,
    cf: &'a ColumnFamily,
    batch: WriteBatch,
    batch_bytes: usize,
    written: F,
    count: usize,
    nodes: usize,
}

impl<'a, F: FnMut(usize) -> Result<(), ChainError>> Batches<'a, F> {
    fn new(db: &'a DB, cf: &'a ColumnFamily, batch_bytes: usize, written: F) -> Self {
        Self {
            db,
            cf,
            batch: WriteBatch::default(),
            batch_bytes,
            written,
            count: 0,
            nodes: 0,
        }
    }

    fn put(&mut self, key: Vec<u8>, node: Vec<u8>) -> Result<(), ChainError> {
        self.batch.put_cf(self.cf, key, node);
        self.nodes += 1;
        if self.batch.size_in_bytes() >= self.batch_bytes {
            let full = std::mem::take(&mut self.batch);
            self.db.write_opt(full, &WriteOptions::default())?;
            self.count += 1;
            if self.count.is_multiple_of(16) {
                info!(
                    batches = self.count,
                    nodes = self.nodes,
                    "building the state tries"
                );
            }
            (self.written)(self.count)?;
        }
        Ok(())
    }

    /// Writes the rest with the root node, synced (which makes the earlier batches durable
    /// too); returns how many writes the migration took.
    fn finish(mut self, root_key: Vec<u8>, root_node: Vec<u8>) -> Result<usize, ChainError> {
        self.batch.put_cf(self.cf, root_key, root_node);
        self.db.write_opt(self.batch, &durable())?;
        Ok(self.count + 1)
    }
}

#[cfg(test)]
mod tests;
