//! The chain: genesis, head, block production and queries over one RocksDB.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, RwLock},
};

use alloy_consensus::{proofs, Header, EMPTY_ROOT_HASH};
use alloy_primitives::{keccak256, Address, Bloom, Bytes, B256, U256};
use alloy_rlp::{Decodable, Encodable};
use alloy_signer_local::PrivateKeySigner;
use kettle_primitives::{FastSigner, SuaveTxEnvelope};
use kettle_wal::GroupSync;
use revm::{database_interface::DatabaseRef, primitives::KECCAK_EMPTY};
use rocksdb::{WriteBatch, WriteOptions, DB};
use tokio::sync::{broadcast, Notify};
use tracing::{debug, error, info, info_span, warn};

use crate::{
    db::{self, StoredAccount, *},
    execute::{self, AccountChange, BlockContext, ExecutedTxs, StateChanges},
    node_cache::{CachedNodes, NodeCache, NODE_CACHE_CAPACITY},
    pool::{Inserted, PendingKey, Pool, PoolLimits, PooledTx, TxFacts},
    seal,
    spec::ChainSpec,
    state::StateView,
    trie,
    types::{SealedBlock, StoredReceipt, StoredTx, TxLocation},
    ChainError, PoolError,
};

mod import;
mod migrate;

pub use import::ImportOutcome;

/// How many new blocks a slow subscriber may lag behind before it misses some.
const BLOCK_CHANNEL_CAPACITY: usize = 256;

/// How far ahead of the local clock an imported block's timestamp may be (geth's allowed
/// future block time): a producer with a fast clock cannot push followers' chains into the
/// future.
pub const MAX_FUTURE_BLOCK_SECS: u64 = 15;

/// How many locally admitted transactions the broadcaster may lag behind.
const LOCAL_TX_CHANNEL_CAPACITY: usize = 8192;

/// An executed block ready for [`Chain::commit_block`].
struct BlockCommit {
    hash: B256,
    header: Header,
    transactions: Vec<StoredTx>,
    receipts: Vec<StoredReceipt>,
    changes: StateChanges,
    accounts: BTreeMap<B256, Option<StoredAccount>>,
    /// Node writes of the state tries.
    tries: TrieWrites,
    /// Pending transactions to drop besides the included ones (invalid at execution).
    dropped: Vec<B256>,
}

/// The SUAVE chain of one kettle.
///
/// Thread-safe: RPC reads, mempool admission and block production run concurrently. Blocks
/// are committed in one atomic RocksDB write each, and readers see either the block before or
/// after, never part of one.
pub struct Chain {
    db: Arc<DB>,
    spec: ChainSpec,
    head: RwLock<(B256, Header)>,
    pool: Mutex<Pool>,
    pool_limits: PoolLimits,
    /// Serialises block commits and pool admission against each other: admission reads the
    /// head state and pool that a commit changes together.
    produce: Mutex<()>,
    /// Serialises block builders (production and import), so the head cannot move while a
    /// block is executed on it. Admission does not wait for it: a block's execution (the
    /// long part) runs while new transactions keep arriving.
    build: Mutex<()>,
    blocks: broadcast::Sender<Arc<SealedBlock>>,
    local_txs: broadcast::Sender<Bytes>,
    pending: Notify,
    /// Trie nodes of the head state, for the next block's state root (see
    /// [`crate::node_cache`]).
    nodes: Mutex<NodeCache>,
    /// Key that seals produced blocks (the cluster's producer), if any.
    sealer: Option<PrivateKeySigner>,
    /// `sealer` as a libsecp256k1 signer: the same signatures as k256, faster.
    fast_sealer: Option<FastSigner>,
    /// Group commit of the database's WAL, shared with the other writers of the database
    /// (the confidential store) by [`Chain::with_wal`]: a block's sync covers their waiting
    /// writes, and theirs cover blocks.
    wal: Arc<GroupSync>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.spec.chain_id())
            .finish_non_exhaustive()
    }
}

impl Chain {
    /// Opens the chain in `db` (which must have the chain's column families), writing the
    /// genesis block on first use and checking it on later ones.
    pub fn open(db: Arc<DB>, spec: ChainSpec, pool_limits: PoolLimits) -> Result<Self, ChainError> {
        let genesis = GenesisState::build(&spec)?;
        let genesis_header = spec.genesis_header(genesis.state_root);
        let genesis_hash = genesis_header.hash_slow();
        let meta = db::cf(&db, CF_META)?;
        let head_number = match db.get_cf(meta, META_HEAD)? {
            Some(bytes) => db::decode_number(&bytes)?,
            None => {
                genesis.write(&db, &genesis_header, genesis_hash)?;
                info!(hash = %genesis_hash, chain_id = spec.chain_id(), "wrote genesis block");
                0
            }
        };
        let stored_genesis = read_header(&db, 0)?
            .ok_or_else(|| ChainError::corrupt("headers", "genesis header missing"))?;
        let stored_hash = stored_genesis.hash_slow();
        if stored_hash != genesis_hash {
            return Err(ChainError::GenesisMismatch {
                stored: stored_hash,
                configured: genesis_hash,
            });
        }
        let head = read_header(&db, head_number)?
            .ok_or_else(|| ChainError::corrupt("headers", format!("head {head_number} missing")))?;
        let head_hash = head.hash_slow();
        migrate::ensure_tries(&db, head.state_root)?;

        let (blocks, _) = broadcast::channel(BLOCK_CHANNEL_CAPACITY);
        let chain = Self {
            db,
            spec,
            head: RwLock::new((head_hash, head)),
            pool: Mutex::new(Pool::default()),
            pool_limits,
            produce: Mutex::new(()),
            build: Mutex::new(()),
            blocks,
            local_txs: broadcast::channel(LOCAL_TX_CHANNEL_CAPACITY).0,
            pending: Notify::new(),
            nodes: Mutex::new(NodeCache::new(NODE_CACHE_CAPACITY)),
            sealer: None,
            fast_sealer: None,
            wal: Arc::default(),
        };
        chain.reload_pending()?;
        info!(number = head_number, hash = %head_hash, "chain opened");
        Ok(chain)
    }

    /// Seals every block this chain produces with `signer` (Clique-style, see
    /// [`seal`](crate::seal)), so the other kettles of a cluster can import them.
    pub fn with_sealer(mut self, signer: PrivateKeySigner) -> Self {
        info!(sealer = %signer.address(), "blocks will be sealed");
        self.fast_sealer = FastSigner::new(&signer).ok();
        self.sealer = Some(signer);
        self
    }

    /// Syncs blocks through `wal`, the group commit the other writers of this database use,
    /// instead of the chain's own.
    pub fn with_wal(mut self, wal: Arc<GroupSync>) -> Self {
        self.wal = wal;
        self
    }

    /// The group commit blocks are synced through (see [`Chain::with_wal`]).
    pub fn wal(&self) -> &Arc<GroupSync> {
        &self.wal
    }

    /// Address of the key sealing produced blocks, if any.
    pub fn sealer(&self) -> Option<Address> {
        self.sealer.as_ref().map(PrivateKeySigner::address)
    }

    /// The chain specification.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.spec.chain_id()
    }

    /// The underlying database (shared with the confidential store).
    pub fn db(&self) -> &Arc<DB> {
        &self.db
    }

    /// Hash and header of the head block.
    pub fn head(&self) -> (B256, Header) {
        match self.head.read() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A consistent view of the head state.
    pub fn state(&self) -> StateView<'_> {
        // Take the head number before the snapshot: a block committed in between is then
        // visible in the snapshot, and its number is never ahead of the state.
        let head = self.head().1.number;
        StateView::new(&self.db, head)
    }

    /// Base fee of the next block (0 before London).
    pub fn next_base_fee(&self) -> u64 {
        if !self.spec.is_london() {
            return 0;
        }
        self.head()
            .1
            .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
            .unwrap_or(crate::spec::INITIAL_BASE_FEE)
    }

    /// New blocks as they are committed.
    pub fn subscribe_blocks(&self) -> broadcast::Receiver<Arc<SealedBlock>> {
        self.blocks.subscribe()
    }

    /// Resolves when a transaction enters the pool (for dev-mode block production).
    pub async fn pending_transaction(&self) {
        self.pending.notified().await
    }

    /// Number of transactions waiting for a block.
    pub fn pending_count(&self) -> usize {
        self.lock_pool().len()
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        match self.pool.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// [`compute_state_root`] on `view` (the head state, with root `parent_root`), reading
    /// trie nodes through the node cache. Callers hold the build lock.
    fn state_root_after(
        &self,
        view: &StateView<'_>,
        parent_root: B256,
        changes: &StateChanges,
    ) -> Result<StateRoot, ChainError> {
        let computed = {
            let mut cache = self.lock_nodes();
            let nodes = CachedNodes::new(view, cache.for_root(parent_root));
            compute_state_root(view, &nodes, parent_root, changes)
        };
        computed.inspect_err(|_| {
            // Whatever went wrong, the next attempt reads every node from the database.
            self.lock_nodes().clear();
        })
    }

    fn lock_nodes(&self) -> std::sync::MutexGuard<'_, NodeCache> {
        match self.nodes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The nonce the sender's next transaction should use (account nonce plus pending ones).
    pub fn pending_nonce(&self, sender: &Address) -> Result<u64, ChainError> {
        // The state is read under the pool lock: a block commit writes the state first and
        // then takes this lock to remove what it mined, so the pair read here is either
        // (old state, mined transactions still pooled) or (new state, any pool). Reading
        // the state before taking the lock could see the old nonce and then a pool that no
        // longer holds the mined transactions, and answer a nonce that is already used.
        let pool = self.lock_pool();
        let account_nonce = self.head_account(sender)?.map_or(0, |a| a.nonce);
        Ok(pool.next_nonce(sender, account_nonce))
    }

    /// [`Chain::pending_nonce`] for a caller that read the sender's account nonce itself
    /// (from a [`StateView`] it runs the request on). A view older than the pool can only
    /// make it lower, so a request below it is always replayed; the mempool's admission
    /// remains the exact check.
    pub fn pending_nonce_from(&self, sender: &Address, account_nonce: u64) -> u64 {
        self.lock_pool().next_nonce(sender, account_nonce)
    }

    /// An account in the head state as of now. One read is consistent on its own, so it
    /// needs no snapshot (taking one locks the whole database briefly, on every request).
    fn head_account(&self, address: &Address) -> Result<Option<StoredAccount>, ChainError> {
        let cf = db::cf(&self.db, CF_ACCOUNTS)?;
        self.db
            .get_pinned_cf(cf, db::account_key(address))?
            .map(|bytes| StoredAccount::decode(&bytes))
            .transpose()
    }

    /// Validates a signed transaction and adds it to the mempool; returns its hash.
    ///
    /// `0x43` requests are refused here: they must go through the confidential pipeline.
    pub fn add_transaction(&self, env: &SuaveTxEnvelope) -> Result<B256, PoolError> {
        self.add_transaction_with(env, WriteBatch::default())
    }

    /// Admits a transaction another kettle of the cluster accepted (received over gossip):
    /// the same checks as [`Chain::add_transaction`], but it is not announced to
    /// [`Chain::subscribe_local_transactions`], so it is never broadcast again.
    pub fn add_peer_transaction(&self, env: &SuaveTxEnvelope) -> Result<B256, PoolError> {
        self.admit(env, WriteBatch::default(), false, None)
    }

    /// Hashes and raw (EIP-2718) bytes of the pending transactions, in inclusion order.
    pub fn pending_transactions(&self) -> Vec<(B256, Bytes)> {
        self.lock_pool()
            .ordered()
            .into_iter()
            .map(|t| (t.hash(), t.into_raw()))
            .collect()
    }

    /// Raw (EIP-2718) bytes of every transaction this kettle admits itself, from users or its
    /// own confidential requests, for broadcast to the cluster. A subscriber that lags more
    /// than the channel capacity misses the oldest (the producer then never sees them unless
    /// they are sent again).
    pub fn subscribe_local_transactions(&self) -> broadcast::Receiver<Bytes> {
        self.local_txs.subscribe()
    }

    /// Like [`Chain::add_transaction`], but commits `batch` (for example a confidential
    /// request's store writes) in the same atomic write that persists the transaction, so
    /// both survive a crash or neither does.
    pub fn add_transaction_with(
        &self,
        env: &SuaveTxEnvelope,
        batch: WriteBatch,
    ) -> Result<B256, PoolError> {
        self.admit(env, batch, true, None)
    }

    /// Like [`Chain::add_transaction_with`] for a transaction whose signatures the caller has
    /// just made or checked itself: the node's own `0x50`, signed by this kettle for a request
    /// whose sender it recovered. Skips recovering `sender` again (two ECDSA recoveries per
    /// `0x50`, the largest cost of admission); every other check still runs.
    ///
    /// The write is *not* synced and the transaction is not announced to peers: the caller
    /// syncs the WAL when it must (the store's group commit does, for requests with store
    /// writes) and then calls [`Chain::announce_local`]. An unsynced write survives a crash
    /// of the process; blocks are written with a sync, so a block that includes the
    /// transaction, or any later synced write, makes it durable against power loss too.
    pub fn add_own_transaction_with(
        &self,
        env: &SuaveTxEnvelope,
        sender: Address,
        batch: WriteBatch,
    ) -> Result<B256, PoolError> {
        self.admit_with(env, batch, true, Some(sender), Durability::Deferred)
    }

    /// Announces a transaction admitted with [`Chain::add_own_transaction_with`] to
    /// [`Chain::subscribe_local_transactions`] (gossip), once its write is done (and synced,
    /// when the caller must sync it).
    pub fn announce_local(&self, env: &SuaveTxEnvelope) {
        // Encoding costs; a kettle without gossip has nobody listening.
        if self.local_txs.receiver_count() > 0 {
            let _ = self.local_txs.send(Bytes::from(env.encoded()));
        }
    }

    fn admit(
        &self,
        env: &SuaveTxEnvelope,
        batch: WriteBatch,
        local: bool,
        known_sender: Option<Address>,
    ) -> Result<B256, PoolError> {
        self.admit_with(env, batch, local, known_sender, Durability::Synced)
    }

    fn admit_with(
        &self,
        env: &SuaveTxEnvelope,
        mut batch: WriteBatch,
        local: bool,
        known_sender: Option<Address>,
        durability: Durability,
    ) -> Result<B256, PoolError> {
        let raw = env.encoded();
        if raw.len() > self.pool_limits.max_tx_bytes {
            return Err(PoolError::InvalidSender(format!(
                "oversized data: transaction size {}, limit {}",
                raw.len(),
                self.pool_limits.max_tx_bytes
            )));
        }
        let facts = TxFacts::of(env, self.chain_id())?;
        let sender = match known_sender {
            Some(sender) => sender,
            None => env
                .recover_signer(self.chain_id())
                .map_err(|e| PoolError::InvalidSender(e.to_string()))?,
        };
        let tx = StoredTx::new(sender, Bytes::from(raw));
        let hash = tx.hash();

        if facts.gas_limit > self.head().1.gas_limit {
            return Err(PoolError::GasLimitExceeded);
        }
        if facts.gas_limit < facts.intrinsic_gas {
            return Err(PoolError::IntrinsicGasTooLow {
                have: facts.gas_limit,
                want: facts.intrinsic_gas,
            });
        }
        if facts.tip > facts.fee_cap {
            return Err(PoolError::TipAboveFeeCap);
        }
        let base_fee = self.next_base_fee();
        if facts.fee_cap < u128::from(base_fee.max(1)) {
            return Err(PoolError::FeeCapTooLow {
                fee_cap: facts.fee_cap,
                base_fee,
            });
        }

        let guard = self.produce.lock().unwrap_or_else(|p| p.into_inner());
        let account = self
            .head_account(&sender)
            .map_err(|e| PoolError::Db(e.to_string()))?;
        let (account_nonce, balance) = account.map_or((0, U256::ZERO), |a| (a.nonce, a.balance));
        let want = U256::from(facts.gas_limit) * U256::from(facts.fee_cap) + facts.value;
        if balance < want {
            return Err(PoolError::InsufficientFunds {
                have: balance,
                want,
            });
        }
        let mut pool = self.lock_pool();
        if pool.contains(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        if facts.nonce < account_nonce {
            return Err(PoolError::NonceTooLow {
                expected: account_nonce,
                got: facts.nonce,
            });
        }
        let next = pool.next_nonce(&sender, account_nonce);
        if facts.nonce > next {
            return Err(PoolError::NonceTooHigh {
                expected: next,
                got: facts.nonce,
            });
        }
        let pooled = PooledTx {
            tx: tx.clone(),
            nonce: facts.nonce,
            fee_cap: facts.fee_cap,
            tip: facts.tip,
            key: PendingKey::default(),
        };
        let inserted = pool.insert(sender, pooled, &self.pool_limits)?;

        // Written unsynced under the locks; a synced admission then waits for the shared
        // group commit with the locks released, so its fsync holds up neither other
        // admissions nor blocks, and one sync covers whatever else is waiting.
        let persisted = (|| -> Result<u64, ChainError> {
            let cf = db::cf(&self.db, CF_PENDING)?;
            if let Inserted::Replaced(_, old) = &inserted {
                batch.delete_cf(cf, old.to_bytes());
            }
            batch.put_cf(cf, inserted.key().to_bytes(), alloy_rlp::encode(&tx));
            self.db.write_opt(batch, &WriteOptions::default())?;
            Ok(self.wal.written())
        })();
        let ticket = match persisted {
            Ok(ticket) => ticket,
            Err(err) => {
                pool.remove(&hash);
                return Err(PoolError::Db(err.to_string()));
            }
        };
        drop(pool);
        drop(guard);
        self.pending.notify_one();
        if durability == Durability::Synced {
            if let Err(err) = self.wal.sync_through(&self.db, ticket) {
                // Not acknowledged, so not kept: RocksDB refuses further writes after a
                // failed WAL sync, and the operator restarts from what is on disk.
                self.lock_pool().remove(&hash);
                error!(%hash, error = %err, "WAL sync of an admitted transaction failed");
                return Err(PoolError::Db(format!("syncing the write-ahead log: {err}")));
            }
        }
        debug!(%hash, %sender, nonce = facts.nonce, local, "transaction accepted");
        if local && durability == Durability::Synced {
            let _ = self.local_txs.send(tx.raw().clone());
        }
        Ok(hash)
    }

    /// Re-admits transactions persisted as pending (after a restart), dropping those the
    /// current state makes invalid.
    fn reload_pending(&self) -> Result<(), ChainError> {
        let cf = db::cf(&self.db, CF_PENDING)?;
        let mut stored = Vec::new();
        let mut past_keys = PendingKey::default();
        for item in self.db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (key, value) = item?;
            // Entries of earlier versions, keyed by hash, are re-admitted under new keys too,
            // and so are keys no kettle hands out (2^63 admissions are out of reach): a
            // corrupt one must not push the counter to its end.
            if let Some(PendingKey(k)) = PendingKey::from_bytes(&key) {
                if k < 1 << 63 {
                    past_keys = past_keys.max(PendingKey(k + 1));
                }
            }
            match <StoredTx as Decodable>::decode(&mut value.as_ref()) {
                Ok(tx) => stored.push((key, tx)),
                Err(e) => {
                    warn!(key = %alloy_primitives::hex::encode(&key), error = %e, "dropping undecodable pending transaction");
                    self.db.delete_cf(cf, key)?;
                }
            }
        }
        // Re-admitted entries get keys above every one still on disk.
        self.lock_pool().keys_from(past_keys);
        // Re-add in nonce order per sender so no gap is created.
        let mut ordered: Vec<(Address, u64, Box<[u8]>, StoredTx)> = Vec::new();
        for (key, tx) in stored {
            let env = tx.envelope()?;
            let nonce = TxFacts::of(&env, self.chain_id())
                .map(|f| f.nonce)
                .unwrap_or(u64::MAX);
            ordered.push((tx.sender, nonce, key, tx));
        }
        ordered.sort_by_key(|(s, n, _, _)| (*s, *n));
        let mut kept = 0;
        for (_, _, key, tx) in ordered {
            let hash = tx.hash();
            // The old entry leaves in the same write as the new one enters: a crash here
            // keeps one of them.
            let mut moved = WriteBatch::default();
            moved.delete_cf(cf, &key);
            let admitted = match tx.envelope() {
                Ok(env) => self
                    .admit(&env, moved, false, None)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match admitted {
                Ok(_) => kept += 1,
                Err(error) => {
                    warn!(%hash, %error, "dropping pending transaction after restart");
                    self.db.delete_cf(cf, key)?;
                }
            }
        }
        if kept > 0 {
            info!(count = kept, "restored pending transactions");
        }
        Ok(())
    }

    /// Builds, executes and commits a block from the mempool. Returns `None` when there is
    /// nothing to include. With a sealer ([`Chain::with_sealer`]) the header is sealed.
    pub fn produce_block(
        &self,
        timestamp: u64,
        beneficiary: Address,
    ) -> Result<Option<Arc<SealedBlock>>, ChainError> {
        // Only block builders move the head: it stays put until this block commits. The
        // state the block executes on is the head's, which admission only reads.
        let _build = self.build.lock().unwrap_or_else(|p| p.into_inner());
        let candidates = self.lock_pool().ordered();
        if candidates.is_empty() {
            return Ok(None);
        }
        let (parent_hash, parent) = self.head();
        let ctx = BlockContext::child_of(
            &parent,
            timestamp,
            beneficiary,
            self.chain_id(),
            self.spec.is_london(),
        );
        let span = info_span!(
            "produce_block",
            number = ctx.number,
            candidates = candidates.len()
        );
        let _enter = span.enter();

        let view = self.state();
        let executed = execute::execute(&view, &ctx, candidates)?;
        for (hash, reason) in &executed.rejected {
            warn!(%hash, %reason, "dropping invalid transaction");
        }
        let StateRoot {
            root: state_root,
            accounts,
            tries,
        } = self.state_root_after(&view, parent.state_root, &executed.changes)?;
        drop(view);

        let mut header = self.assemble_header(parent_hash, &ctx, state_root, &executed);
        match (&self.fast_sealer, &self.sealer) {
            (Some(fast), _) => seal::seal_header(&mut header, fast)?,
            (None, Some(sealer)) => seal::seal_header(&mut header, sealer)?,
            (None, None) => {}
        }
        let hash = header.hash_slow();
        let deferred = !executed.deferred.is_empty();
        // Transactions admitted meanwhile stay pending for the next block.
        let guard = self.produce.lock().unwrap_or_else(|p| p.into_inner());
        let block = self.commit_block(
            guard,
            BlockCommit {
                hash,
                header,
                dropped: executed.rejected.iter().map(|(h, _)| *h).collect(),
                transactions: executed.transactions,
                receipts: executed.receipts,
                changes: executed.changes,
                accounts,
                tries,
            },
        )?;
        info!(%hash, txs = block.transactions.len(), gas_used = block.header.gas_used, "sealed block");
        if deferred {
            self.pending.notify_one();
        }
        Ok(Some(block))
    }

    /// The header [`Chain::produce_block`] builds for executed transactions, with
    /// `extra_data` the 32 zero vanity bytes (unsealed).
    fn assemble_header(
        &self,
        parent_hash: B256,
        ctx: &BlockContext,
        state_root: B256,
        executed: &ExecutedTxs,
    ) -> Header {
        let transactions_root =
            proofs::ordered_trie_root_with_encoder(&executed.transactions, |tx, buf| {
                buf.extend_from_slice(tx.raw())
            });
        let receipts_root = proofs::ordered_trie_root_with_encoder(&executed.receipts, |r, buf| {
            buf.extend_from_slice(&r.encoded_2718())
        });
        let mut logs_bloom = Bloom::default();
        for r in &executed.receipts {
            logs_bloom.accrue_bloom(&r.bloom());
        }
        Header {
            parent_hash,
            ommers_hash: alloy_consensus::constants::EMPTY_OMMER_ROOT_HASH,
            beneficiary: ctx.beneficiary,
            state_root,
            transactions_root,
            receipts_root,
            logs_bloom,
            difficulty: U256::from(1u64),
            number: ctx.number,
            gas_limit: ctx.gas_limit,
            gas_used: executed.gas_used,
            timestamp: ctx.timestamp,
            extra_data: Bytes::from(vec![0u8; seal::EXTRA_VANITY]),
            mix_hash: B256::ZERO,
            nonce: Default::default(),
            base_fee_per_gas: self.spec.is_london().then_some(ctx.base_fee),
            ..Default::default()
        }
    }

    /// Commits an executed block in one write (state, header, hash index, body, receipts,
    /// tx index, pending deletions, head), updates the head and the pool, releases the
    /// production lock `produce` (the caller's, so the pool cannot change underneath), syncs
    /// the write to disk and only then announces the block. Both production and import end
    /// here.
    ///
    /// The sync runs after the lock is released: admissions, which need the lock, no longer
    /// wait for a block's fsync. Until it returns, the new head is visible to readers of
    /// this kettle but not yet durable; a power loss in that window (the fsync's duration)
    /// loses the block together with everything written after it, and its transactions are
    /// still pending after the restart, since their deletion was in the same write.
    fn commit_block(
        &self,
        produce: MutexGuard<'_, ()>,
        block: BlockCommit,
    ) -> Result<Arc<SealedBlock>, ChainError> {
        let BlockCommit {
            hash,
            header,
            transactions,
            receipts,
            changes,
            accounts,
            tries,
            dropped,
        } = block;
        let number = header.number;

        // Pending transactions that leave the pool: the included and dropped ones, and any
        // whose nonce is now below its sender's (they can never be included).
        let mut leaving: Vec<B256> = transactions.iter().map(StoredTx::hash).collect();
        leaving.extend(dropped);
        // Their database entries, in key order (deleted side by side); transactions of an
        // imported block that never were in this pool have none.
        let mut leaving_keys = Vec::with_capacity(leaving.len());
        {
            let pool = self.lock_pool();
            for (address, change) in &changes.accounts {
                let nonce = change.as_ref().map_or(0, |c| c.nonce);
                leaving.extend(pool.stale(address, nonce));
            }
            leaving.sort_unstable();
            leaving.dedup();
            leaving_keys.extend(leaving.iter().filter_map(|h| pool.key(h)));
        }
        leaving_keys.sort_unstable();

        let parent_root = self.head().1.state_root;
        let mut batch = WriteBatch::default();
        write_state(&self.db, &mut batch, &changes, &accounts)?;
        tries.write(&self.db, &mut batch)?;
        let mut header_rlp = Vec::new();
        header.encode(&mut header_rlp);
        batch.put_cf(
            db::cf(&self.db, CF_HEADERS)?,
            db::number_key(number),
            header_rlp,
        );
        batch.put_cf(
            db::cf(&self.db, CF_BLOCK_HASHES)?,
            hash,
            db::number_key(number),
        );
        batch.put_cf(
            db::cf(&self.db, CF_BODIES)?,
            db::number_key(number),
            alloy_rlp::encode(&transactions),
        );
        batch.put_cf(
            db::cf(&self.db, CF_RECEIPTS)?,
            db::number_key(number),
            alloy_rlp::encode(&receipts),
        );
        let tx_index = db::cf(&self.db, CF_TX_INDEX)?;
        let mut locations: Vec<(B256, [u8; 12])> = transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                let mut loc = [0u8; 12];
                loc[..8].copy_from_slice(&number.to_be_bytes());
                loc[8..].copy_from_slice(&(i as u32).to_be_bytes());
                (tx.hash(), loc)
            })
            .collect();
        // In key order, as every batch of random keys here: RocksDB's memtable then finds
        // each place starting from the previous one.
        locations.sort_unstable();
        for (hash, loc) in &locations {
            batch.put_cf(tx_index, hash, loc);
        }
        let pending = db::cf(&self.db, CF_PENDING)?;
        for key in &leaving_keys {
            batch.delete_cf(pending, key.to_bytes());
        }
        batch.put_cf(
            db::cf(&self.db, CF_META)?,
            META_HEAD,
            db::number_key(number),
        );
        self.db.write_opt(batch, &WriteOptions::default())?;
        self.lock_nodes().committed(
            parent_root,
            header.state_root,
            &tries.dropped,
            &tries.deletes,
            &tries.puts,
        );

        {
            let mut pool = self.lock_pool();
            for h in &leaving {
                pool.remove(h);
            }
        }
        match self.head.write() {
            Ok(mut h) => *h = (hash, header.clone()),
            Err(poisoned) => *poisoned.into_inner() = (hash, header.clone()),
        }
        let block = Arc::new(SealedBlock {
            hash,
            header,
            transactions,
            receipts,
        });
        drop(produce);
        // The block's write is in the WAL: sync it, unless a sync that started since then (a
        // store commit's) already covered it.
        self.wal.sync_through(&self.db, self.wal.written())?;
        let _ = self.blocks.send(block.clone());
        Ok(block)
    }

    /// Header of block `number`.
    pub fn header_by_number(&self, number: u64) -> Result<Option<Header>, ChainError> {
        read_header(&self.db, number)
    }

    /// Number of the block with this hash.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>, ChainError> {
        self.db
            .get_cf(db::cf(&self.db, CF_BLOCK_HASHES)?, hash)?
            .map(|b| db::decode_number(&b))
            .transpose()
    }

    /// The whole block `number`.
    pub fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, ChainError> {
        let Some(header) = self.header_by_number(number)? else {
            return Ok(None);
        };
        let transactions = self.body(number)?;
        let receipts = self.receipts(number)?;
        Ok(Some(SealedBlock {
            hash: header.hash_slow(),
            header,
            transactions,
            receipts,
        }))
    }

    fn body(&self, number: u64) -> Result<Vec<StoredTx>, ChainError> {
        match self
            .db
            .get_cf(db::cf(&self.db, CF_BODIES)?, db::number_key(number))?
        {
            Some(bytes) => Vec::<StoredTx>::decode(&mut bytes.as_ref())
                .map_err(|e| ChainError::corrupt("body", e)),
            None => Ok(Vec::new()),
        }
    }

    /// Receipts of block `number`.
    pub fn receipts(&self, number: u64) -> Result<Vec<StoredReceipt>, ChainError> {
        match self
            .db
            .get_cf(db::cf(&self.db, CF_RECEIPTS)?, db::number_key(number))?
        {
            Some(bytes) => Vec::<StoredReceipt>::decode(&mut bytes.as_ref())
                .map_err(|e| ChainError::corrupt("receipts", e)),
            None => Ok(Vec::new()),
        }
    }

    /// Where a mined transaction is.
    pub fn tx_location(&self, hash: &B256) -> Result<Option<TxLocation>, ChainError> {
        let Some(bytes) = self.db.get_cf(db::cf(&self.db, CF_TX_INDEX)?, hash)? else {
            return Ok(None);
        };
        if bytes.len() != 12 {
            return Err(ChainError::corrupt(
                "tx index",
                format!("length {}", bytes.len()),
            ));
        }
        let block_number = db::decode_number(&bytes[..8])?;
        let index = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        Ok(Some(TxLocation {
            block_number,
            index,
        }))
    }

    /// A transaction by hash: mined (with its location) or pending.
    pub fn transaction(
        &self,
        hash: &B256,
    ) -> Result<Option<(StoredTx, Option<TxLocation>)>, ChainError> {
        if let Some(loc) = self.tx_location(hash)? {
            let body = self.body(loc.block_number)?;
            let tx = body
                .into_iter()
                .nth(loc.index as usize)
                .ok_or_else(|| ChainError::corrupt("body", "indexed transaction missing"))?;
            return Ok(Some((tx, Some(loc))));
        }
        Ok(self.lock_pool().get(hash).cloned().map(|tx| (tx, None)))
    }

    /// Code at `address` in the head state.
    pub fn code(&self, address: &Address) -> Result<Bytes, ChainError> {
        Ok(self.state().code(address)?.original_bytes())
    }

    /// Storage slot of `address` in the head state.
    pub fn storage(&self, address: Address, slot: U256) -> Result<U256, ChainError> {
        self.state().storage_ref(address, slot)
    }
}

/// Whether admitting a transaction syncs its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Synced (through the shared group commit, after the locks are released) before
    /// returning; a local transaction is then announced to peers.
    Synced,
    /// Written unsynced; the caller syncs and announces (group commit).
    Deferred,
}

/// Durable writes: the WAL is synced, so acknowledged transactions and the genesis survive
/// power loss, not only a process crash (blocks sync after their write, see
/// [`Chain::commit_block`]).
fn durable() -> WriteOptions {
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    opts
}

fn read_header(db: &DB, number: u64) -> Result<Option<Header>, ChainError> {
    match db.get_cf(db::cf(db, CF_HEADERS)?, db::number_key(number))? {
        Some(bytes) => Header::decode(&mut bytes.as_ref())
            .map(Some)
            .map_err(|e| ChainError::corrupt("header", e)),
        None => Ok(None),
    }
}

/// A block's new state root and what committing it writes besides the plain state.
pub(crate) struct StateRoot {
    /// The state root after the block.
    pub(crate) root: B256,
    /// The new stored form of each changed account (`None` = deleted), by hashed address.
    pub(crate) accounts: BTreeMap<B256, Option<StoredAccount>>,
    /// Node writes of the account trie and of the changed storage tries.
    pub(crate) tries: TrieWrites,
}

/// Node writes of the state tries, applied in the block's batch: whole storage tries dropped
/// first, then node deletions and puts.
#[derive(Debug, Default)]
pub(crate) struct TrieWrites {
    /// Owners (hashed addresses) whose storage trie is dropped entirely.
    dropped: Vec<B256>,
    /// Node keys to delete.
    deletes: Vec<Vec<u8>>,
    /// Node keys and encodings to write.
    puts: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TrieWrites {
    fn absorb(&mut self, update: trie::TrieUpdate) -> B256 {
        self.deletes.extend(update.deletes);
        self.puts.extend(update.puts);
        update.root
    }

    /// Adds the writes to `batch`.
    pub(crate) fn write(&self, db: &DB, batch: &mut WriteBatch) -> Result<(), ChainError> {
        let cf = db::cf(db, CF_TRIE)?;
        for owner in &self.dropped {
            let (start, end) = trie::owner_range(owner);
            batch.delete_range_cf(cf, start, end);
        }
        // Each list in key order (the memtable finds each place from the previous one);
        // deletes before puts and, for equal keys, the original order, as before sorting.
        let mut deletes: Vec<&Vec<u8>> = self.deletes.iter().collect();
        deletes.sort();
        for key in deletes {
            batch.delete_cf(cf, key);
        }
        let mut puts: Vec<&(Vec<u8>, Vec<u8>)> = self.puts.iter().collect();
        puts.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, node) in puts {
            batch.put_cf(cf, key, node);
        }
        Ok(())
    }
}

/// New state root after `changes` on the state whose root is `parent_root` (the state `view`
/// shows), updating the stored tries along the changed keys only: the cost grows with the
/// changes and the depth of the tries, not with the size of the state.
fn compute_state_root(
    view: &StateView<'_>,
    nodes: &impl trie::NodeSource,
    parent_root: B256,
    changes: &StateChanges,
) -> Result<StateRoot, ChainError> {
    let mut tries = TrieWrites::default();
    let mut updated = BTreeMap::new();
    let mut account_leaves = trie::LeafChanges::new();
    for (address, change) in &changes.accounts {
        let hashed = keccak256(address);
        let old = view.account(address)?;
        let had_storage = old.is_some_and(|a| a.storage_root != EMPTY_ROOT_HASH);
        let Some(change) = change else {
            if had_storage {
                tries.dropped.push(hashed);
            }
            updated.insert(hashed, None);
            account_leaves.insert(hashed, None);
            continue;
        };
        let storage_root = if change.storage.is_empty() && !change.storage_cleared {
            old.map_or(EMPTY_ROOT_HASH, |a| a.storage_root)
        } else {
            let start = if change.storage_cleared {
                if had_storage {
                    tries.dropped.push(hashed);
                }
                EMPTY_ROOT_HASH
            } else {
                old.map_or(EMPTY_ROOT_HASH, |a| a.storage_root)
            };
            let slots: trie::LeafChanges = change
                .storage
                .iter()
                .map(|(slot, value)| {
                    let key = keccak256(slot.to_be_bytes::<32>());
                    (key, (!value.is_zero()).then(|| alloy_rlp::encode(value)))
                })
                .collect();
            tries.absorb(trie::update(nodes, &hashed, start, &slots)?)
        };
        let stored = change.stored(*address, storage_root);
        account_leaves.insert(hashed, Some(alloy_rlp::encode(stored.trie_account())));
        updated.insert(hashed, Some(stored));
    }
    let root = tries.absorb(trie::update(
        nodes,
        &B256::ZERO,
        parent_root,
        &account_leaves,
    )?);
    Ok(StateRoot {
        root,
        accounts: updated,
        tries,
    })
}

/// Adds the state changes of a block to `batch`.
fn write_state(
    db: &DB,
    batch: &mut WriteBatch,
    changes: &StateChanges,
    accounts: &BTreeMap<B256, Option<StoredAccount>>,
) -> Result<(), ChainError> {
    let cf_acc = db::cf(db, CF_ACCOUNTS)?;
    let cf_storage = db::cf(db, CF_STORAGE)?;
    let cf_code = db::cf(db, CF_CODE)?;
    // In key (hashed address) order: the memtable finds each place from the previous one.
    let mut by_key: Vec<(B256, &Option<AccountChange>)> = changes
        .accounts
        .iter()
        .map(|(address, change)| (keccak256(address), change))
        .collect();
    by_key.sort_unstable_by_key(|(hashed, _)| *hashed);
    for (hashed, change) in by_key {
        let clear_storage = change.as_ref().is_none_or(|c| c.storage_cleared);
        if clear_storage {
            let mut end = [0xffu8; 64];
            end[..32].copy_from_slice(hashed.as_slice());
            let mut start = [0u8; 64];
            start[..32].copy_from_slice(hashed.as_slice());
            batch.delete_range_cf(cf_storage, start, end);
            batch.delete_cf(cf_storage, end);
        }
        match accounts.get(&hashed).copied().flatten() {
            Some(stored) => batch.put_cf(cf_acc, hashed, stored.encode()),
            None => batch.delete_cf(cf_acc, hashed),
        }
        if let Some(change) = change {
            for (slot, value) in &change.storage {
                let key = db::storage_key(&hashed, slot);
                if value.is_zero() {
                    batch.delete_cf(cf_storage, key);
                } else {
                    batch.put_cf(cf_storage, key, db::storage_value(slot, value));
                }
            }
        }
    }
    for (hash, code) in &changes.code {
        batch.put_cf(cf_code, hash, code);
    }
    Ok(())
}

/// The genesis state, ready to write.
struct GenesisState {
    accounts: Vec<(B256, StoredAccount)>,
    storage: Vec<([u8; 64], [u8; 64])>,
    code: Vec<(B256, Bytes)>,
    state_root: B256,
}

impl GenesisState {
    fn build(spec: &ChainSpec) -> Result<Self, ChainError> {
        let mut accounts = Vec::new();
        let mut storage = Vec::new();
        let mut code = Vec::new();
        for (address, acc) in &spec.genesis.alloc {
            let hashed = keccak256(address);
            let code_hash = match &acc.code {
                Some(c) if !c.is_empty() => {
                    let h = keccak256(c);
                    code.push((h, c.clone()));
                    h
                }
                _ => KECCAK_EMPTY,
            };
            let mut slots = BTreeMap::new();
            for (slot, value) in acc.storage.iter().flatten() {
                let (slot, value) = (U256::from_be_bytes(slot.0), U256::from_be_bytes(value.0));
                if value.is_zero() {
                    continue;
                }
                slots.insert(keccak256(slot.to_be_bytes::<32>()), value);
                storage.push((
                    db::storage_key(&hashed, &slot),
                    db::storage_value(&slot, &value),
                ));
            }
            let storage_root = alloy_trie::root::storage_root(slots);
            accounts.push((
                hashed,
                StoredAccount {
                    address: *address,
                    nonce: acc.nonce.unwrap_or(0),
                    balance: acc.balance,
                    code_hash,
                    storage_root,
                },
            ));
        }
        accounts.sort_by_key(|(h, _)| *h);
        let state_root =
            alloy_trie::root::state_root(accounts.iter().map(|(h, a)| (*h, a.trie_account())));
        Ok(Self {
            accounts,
            storage,
            code,
            state_root,
        })
    }

    fn write(&self, db: &DB, header: &Header, hash: B256) -> Result<(), ChainError> {
        let mut batch = WriteBatch::default();
        let cf_acc = db::cf(db, CF_ACCOUNTS)?;
        for (hashed, acc) in &self.accounts {
            batch.put_cf(cf_acc, hashed, acc.encode());
        }
        let cf_storage = db::cf(db, CF_STORAGE)?;
        for (k, v) in &self.storage {
            batch.put_cf(cf_storage, k, v);
        }
        let cf_code = db::cf(db, CF_CODE)?;
        for (h, c) in &self.code {
            batch.put_cf(cf_code, h, c);
        }
        let mut header_rlp = Vec::new();
        header.encode(&mut header_rlp);
        batch.put_cf(db::cf(db, CF_HEADERS)?, db::number_key(0), header_rlp);
        batch.put_cf(db::cf(db, CF_BLOCK_HASHES)?, hash, db::number_key(0));
        batch.put_cf(db::cf(db, CF_META)?, META_HEAD, db::number_key(0));
        db.write_opt(batch, &durable())?;
        Ok(())
    }
}
