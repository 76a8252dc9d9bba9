//! The mempool: transactions accepted for the next blocks, validated against head state.
//!
//! Accepted transactions are also written to the `chain_pending` column family, so a crash
//! never loses a transaction the node acknowledged.

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::Transaction as _;
use alloy_primitives::{Address, B256, U256};
use kettle_primitives::SuaveTxEnvelope;

use crate::{error::PoolError, types::StoredTx};

/// Bounds of the mempool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Most transactions held at once.
    pub max_transactions: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
    /// Largest accepted transaction, in encoded bytes.
    pub max_tx_bytes: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            max_transactions: 10_000,
            max_per_sender: 64,
            max_tx_bytes: 1 << 20,
        }
    }
}

/// The fee and cost fields of a pooled transaction.
#[derive(Debug, Clone)]
pub(crate) struct PooledTx {
    pub(crate) tx: StoredTx,
    pub(crate) nonce: u64,
    pub(crate) fee_cap: u128,
    pub(crate) tip: u128,
    /// Key of its entry in the pending column family, set by [`Pool::insert`].
    pub(crate) key: PendingKey,
}

/// Key of a pending transaction's database entry: the pool's admission counter, big-endian.
///
/// Admission order rather than the transaction hash, so that RocksDB appends each new entry
/// at the end of its memtable and deletes a block's entries side by side, instead of
/// searching the whole memtable for a random position twice per transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PendingKey(pub(crate) u64);

impl PendingKey {
    /// The database key.
    pub(crate) fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// A key as stored by this version (8 bytes); `None` for another shape (earlier versions
    /// keyed entries by transaction hash).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self(u64::from_be_bytes(bytes.try_into().ok()?)))
    }
}

/// The fields validation needs from any accepted transaction type.
#[derive(Debug, Clone)]
pub(crate) struct TxFacts {
    pub(crate) nonce: u64,
    pub(crate) gas_limit: u64,
    pub(crate) fee_cap: u128,
    pub(crate) tip: u128,
    pub(crate) value: U256,
    pub(crate) intrinsic_gas: u64,
}

impl TxFacts {
    /// Extracts the facts, refusing types the SUAVE chain does not include.
    pub(crate) fn of(env: &SuaveTxEnvelope, chain_id: u64) -> Result<Self, PoolError> {
        match env {
            SuaveTxEnvelope::Ethereum(eth) => {
                let ty = eth.tx_type() as u8;
                if ty > 2 {
                    return Err(PoolError::UnsupportedType);
                }
                match eth.chain_id() {
                    Some(id) if id == chain_id => {}
                    Some(id) => {
                        return Err(PoolError::WrongChainId {
                            have: id,
                            want: chain_id,
                        })
                    }
                    None => {
                        return Err(PoolError::InvalidSender(
                            "only replay-protected (EIP-155) transactions allowed".into(),
                        ))
                    }
                }
                let access_cost = eth.access_list().map_or(0, |list| {
                    list.iter()
                        .map(|item| 2400 + 1900 * item.storage_keys.len() as u64)
                        .sum::<u64>()
                });
                Ok(Self {
                    nonce: eth.nonce(),
                    gas_limit: eth.gas_limit(),
                    fee_cap: eth.max_fee_per_gas(),
                    tip: eth
                        .max_priority_fee_per_gas()
                        .unwrap_or(eth.max_fee_per_gas()),
                    value: eth.value(),
                    intrinsic_gas: intrinsic_gas(eth.input(), eth.kind().is_create()) + access_cost,
                })
            }
            SuaveTxEnvelope::Suave(stx) => {
                let r = &stx.record;
                let price = u128::try_from(r.gas_price)
                    .map_err(|_| PoolError::InvalidSender("gas price too high".into()))?;
                Ok(Self {
                    nonce: r.nonce,
                    gas_limit: r.gas,
                    fee_cap: price,
                    tip: price,
                    value: r.value,
                    intrinsic_gas: intrinsic_gas(&stx.confidential_compute_result, r.to.is_none()),
                })
            }
            SuaveTxEnvelope::ConfidentialRequest(_) => Err(PoolError::UnsupportedType),
        }
    }
}

/// Intrinsic gas of a transaction (Istanbul calldata pricing; SUAVE has no tx-level
/// Shanghai initcode charge).
pub(crate) fn intrinsic_gas(data: &[u8], create: bool) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = data.len() as u64 - zeros;
    21_000 + if create { 32_000 } else { 0 } + zeros * 4 + nonzeros * 16
}

/// Pending transactions by sender and nonce.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    by_hash: HashMap<B256, (Address, u64)>,
    by_sender: HashMap<Address, BTreeMap<u64, PooledTx>>,
    /// The key the next inserted transaction gets.
    next_key: PendingKey,
}

/// What inserting did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// A new transaction, under this key.
    New(PendingKey),
    /// A transaction under the first key that replaced the one under the second.
    Replaced(PendingKey, PendingKey),
}

impl Inserted {
    /// The inserted transaction's key.
    pub(crate) fn key(&self) -> PendingKey {
        match self {
            Self::New(key) | Self::Replaced(key, _) => *key,
        }
    }
}

impl Pool {
    /// Makes the next inserted transaction's key at least `key` (after a restart, past every
    /// key still on disk).
    pub(crate) fn keys_from(&mut self, key: PendingKey) {
        self.next_key = self.next_key.max(key);
    }

    /// The database key of a pending transaction.
    pub(crate) fn key(&self, hash: &B256) -> Option<PendingKey> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce).map(|p| p.key)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub(crate) fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    pub(crate) fn get(&self, hash: &B256) -> Option<&StoredTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce).map(|p| &p.tx)
    }

    /// The nonce after the sender's pending transactions, given its account nonce.
    pub(crate) fn next_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        let mut next = account_nonce;
        if let Some(queue) = self.by_sender.get(sender) {
            while queue.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// Adds a validated transaction (nonce already checked to be at most `next_nonce`) under
    /// a new key (`pooled.key` is overwritten).
    pub(crate) fn insert(
        &mut self,
        sender: Address,
        mut pooled: PooledTx,
        limits: &PoolLimits,
    ) -> Result<Inserted, PoolError> {
        let hash = pooled.tx.hash();
        let key = self.next_key;
        // Only a corrupt pending entry on disk (a key near the top) can bring this close.
        let after = PendingKey(key.0.checked_add(1).ok_or_else(|| {
            PoolError::Db("pending transaction keys exhausted: a stored key is corrupt".into())
        })?);
        pooled.key = key;
        let queue = self.by_sender.entry(sender).or_default();
        if let Some(existing) = queue.get(&pooled.nonce) {
            // geth's rule: a replacement must raise both fee cap and tip by 10 %.
            let bump = |old: u128| old.saturating_add(old / 10);
            if pooled.fee_cap < bump(existing.fee_cap) || pooled.tip < bump(existing.tip) {
                return Err(PoolError::ReplacementUnderpriced);
            }
            let (old, old_key) = (existing.tx.hash(), existing.key);
            self.by_hash.remove(&old);
            self.by_hash.insert(hash, (sender, pooled.nonce));
            queue.insert(pooled.nonce, pooled);
            self.next_key = after;
            return Ok(Inserted::Replaced(key, old_key));
        }
        if queue.len() >= limits.max_per_sender {
            return Err(PoolError::SenderLimit);
        }
        if self.by_hash.len() >= limits.max_transactions {
            return Err(PoolError::PoolFull);
        }
        self.by_hash.insert(hash, (sender, pooled.nonce));
        queue.insert(pooled.nonce, pooled);
        self.next_key = after;
        Ok(Inserted::New(key))
    }

    /// Hashes of `sender`'s pending transactions with a nonce below `account_nonce` (they
    /// can never be included).
    pub(crate) fn stale(&self, sender: &Address, account_nonce: u64) -> Vec<B256> {
        self.by_sender.get(sender).map_or_else(Vec::new, |queue| {
            queue
                .range(..account_nonce)
                .map(|(_, p)| p.tx.hash())
                .collect()
        })
    }

    /// Removes a transaction by hash.
    pub(crate) fn remove(&mut self, hash: &B256) -> Option<StoredTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let queue = self.by_sender.get_mut(&sender)?;
        let removed = queue.remove(&nonce).map(|p| p.tx);
        if queue.is_empty() {
            self.by_sender.remove(&sender);
        }
        removed
    }

    /// Transactions in an executable order: each sender's in nonce order, senders
    /// interleaved by highest tip first.
    pub(crate) fn ordered(&self) -> Vec<StoredTx> {
        let queues: Vec<Vec<&PooledTx>> = self
            .by_sender
            .values()
            .map(|q| q.values().collect())
            .collect();
        let mut out = Vec::with_capacity(self.by_hash.len());
        let mut cursors = vec![0usize; queues.len()];
        loop {
            let best = queues
                .iter()
                .enumerate()
                .filter_map(|(i, q)| q.get(cursors[i]).map(|p| (i, p.tip)))
                .max_by_key(|(_, tip)| *tip);
            let Some((i, _)) = best else { break };
            out.push(queues[i][cursors[i]].tx.clone());
            cursors[i] += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;

    fn pooled(byte: u8, nonce: u64, price: u128) -> PooledTx {
        PooledTx {
            tx: StoredTx::new(
                Address::repeat_byte(1),
                Bytes::from(vec![byte, nonce as u8]),
            ),
            nonce,
            fee_cap: price,
            tip: price,
            key: PendingKey::default(),
        }
    }

    #[test]
    fn nonce_order_replacement_and_limits() {
        let limits = PoolLimits {
            max_transactions: 3,
            max_per_sender: 2,
            max_tx_bytes: 1000,
        };
        let mut pool = Pool::default();
        let a = Address::repeat_byte(1);
        // Keys count admissions; refused transactions take none.
        assert_eq!(
            pool.insert(a, pooled(1, 0, 10), &limits),
            Ok(Inserted::New(PendingKey(0)))
        );
        assert_eq!(
            pool.insert(a, pooled(2, 1, 10), &limits),
            Ok(Inserted::New(PendingKey(1)))
        );
        assert_eq!(pool.next_nonce(&a, 0), 2);
        assert_eq!(
            pool.insert(a, pooled(3, 2, 10), &limits).err(),
            Some(PoolError::SenderLimit)
        );
        assert_eq!(
            pool.insert(a, pooled(4, 0, 10), &limits).err(),
            Some(PoolError::ReplacementUnderpriced)
        );
        assert_eq!(
            pool.insert(a, pooled(5, 0, 11), &limits),
            Ok(Inserted::Replaced(PendingKey(2), PendingKey(0)))
        );
        let replacement = pool.ordered()[0].hash();
        assert_eq!(pool.key(&replacement), Some(PendingKey(2)));
        let order: Vec<u8> = pool.ordered().iter().map(|t| t.raw()[0]).collect();
        assert_eq!(order, vec![5, 2]);
        assert_eq!(pool.stale(&a, 0), Vec::<B256>::new());
        assert_eq!(pool.stale(&a, 1), vec![pool.ordered()[0].hash()]);
        assert_eq!(pool.stale(&a, 9).len(), 2);
        assert!(pool.stale(&Address::repeat_byte(9), 9).is_empty());
        let b = Address::repeat_byte(2);
        assert!(pool.insert(b, pooled(6, 0, 99), &limits).is_ok());
        assert_eq!(
            pool.insert(Address::repeat_byte(3), pooled(7, 0, 1), &limits)
                .err(),
            Some(PoolError::PoolFull)
        );
        assert_eq!(pool.ordered()[0].raw()[0], 6, "highest tip first");
    }

    #[test]
    fn keys_continue_past_the_ones_on_disk() {
        let limits = PoolLimits {
            max_transactions: 10,
            max_per_sender: 10,
            max_tx_bytes: 1000,
        };
        let mut pool = Pool::default();
        pool.keys_from(PendingKey(41));
        // Never backwards: a lower bound given later does not lower the counter.
        pool.keys_from(PendingKey(7));
        let a = Address::repeat_byte(1);
        assert_eq!(
            pool.insert(a, pooled(1, 0, 10), &limits),
            Ok(Inserted::New(PendingKey(41)))
        );
        let tx = pool.ordered()[0].hash();
        assert_eq!(pool.key(&tx), Some(PendingKey(41)));
        assert_eq!(pool.key(&B256::ZERO), None);
        assert_eq!(
            PendingKey::from_bytes(&PendingKey(41).to_bytes()),
            Some(PendingKey(41))
        );
        assert_eq!(PendingKey::from_bytes(tx.as_slice()), None, "a hash key");

        // A key at the top (only a corrupt entry on disk puts it there) is refused, not
        // wrapped or panicked on.
        pool.keys_from(PendingKey(u64::MAX));
        assert!(matches!(
            pool.insert(a, pooled(2, 1, 10), &limits),
            Err(PoolError::Db(_))
        ));
        assert_eq!(pool.len(), 1, "nothing inserted");
    }

    #[test]
    fn intrinsic_gas_prices_calldata() {
        assert_eq!(intrinsic_gas(&[], false), 21_000);
        assert_eq!(intrinsic_gas(&[0, 1], true), 21_000 + 32_000 + 4 + 16);
    }
}
