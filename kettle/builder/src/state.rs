//! The remote Ethereum state at a fixed block, as a revm [`DatabaseRef`].
//!
//! [`RemoteState`] answers revm's reads (accounts, storage, code, block hashes) from the
//! execution node at one block number (the parent of the block being built), fetching each
//! item on first use and keeping it in a [`StateCache`]. The cache is shared (`Arc`) by every
//! simulation, build and session on the same parent block; a new parent gets a new cache.
//! Writes never reach it: each run wraps it in its own revm `CacheDB`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use alloy_primitives::{keccak256, Address, B256, U256};
use revm::bytecode::Bytecode;
use revm::database_interface::{DBErrorMarker, DatabaseRef};
use revm::primitives::KECCAK_EMPTY;
use revm::state::AccountInfo;

use crate::rpc::{BlockId, RpcClient, RpcError};

/// Why a state read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The execution node could not answer.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The node returned code revm cannot load.
    #[error("invalid code at {address}: {reason}")]
    InvalidCode {
        /// Account holding the code.
        address: Address,
        /// Decoding failure.
        reason: String,
    },
    /// Code requested by hash that no fetched account had.
    #[error("code with hash {0} is unknown")]
    UnknownCode(B256),
    /// `BLOCKHASH` of a block that is not an ancestor of the fork block.
    #[error("block {requested} is not an ancestor of the fork block {fork}")]
    NotAncestor {
        /// Requested block number.
        requested: u64,
        /// Fork (parent) block number.
        fork: u64,
    },
    /// The node does not know an ancestor block.
    #[error("block {0} not found on the execution node")]
    MissingBlock(u64),
}

impl DBErrorMarker for StateError {}

/// State items fetched from the node at one block, shared by all users of that block.
#[derive(Debug)]
pub struct StateCache {
    block_number: u64,
    block_hash: B256,
    accounts: RwLock<HashMap<Address, Option<AccountInfo>>>,
    storage: RwLock<HashMap<(Address, U256), U256>>,
    code: RwLock<HashMap<B256, Bytecode>>,
    block_hashes: RwLock<HashMap<u64, B256>>,
    fetches: AtomicU64,
}

impl StateCache {
    /// An empty cache of the state after block `block_number` (hash `block_hash`).
    pub fn new(block_number: u64, block_hash: B256) -> Self {
        let mut hashes = HashMap::new();
        hashes.insert(block_number, block_hash);
        Self {
            block_number,
            block_hash,
            accounts: RwLock::default(),
            storage: RwLock::default(),
            code: RwLock::default(),
            block_hashes: RwLock::new(hashes),
            fetches: AtomicU64::new(0),
        }
    }

    /// Number of the block whose state this caches.
    pub fn block_number(&self) -> u64 {
        self.block_number
    }

    /// Hash of the block whose state this caches.
    pub fn block_hash(&self) -> B256 {
        self.block_hash
    }

    /// How many round trips to the node filled this cache so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn count_fetch(&self) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
    }
}

/// revm's view of the node's state at the cache's block; see the module documentation.
#[derive(Debug, Clone)]
pub struct RemoteState {
    rpc: RpcClient,
    cache: Arc<StateCache>,
}

impl RemoteState {
    /// The state of `cache`'s block read through `rpc` (whose deadline bounds every fetch).
    pub fn new(rpc: RpcClient, cache: Arc<StateCache>) -> Self {
        Self { rpc, cache }
    }

    /// The shared cache.
    pub fn cache(&self) -> &Arc<StateCache> {
        &self.cache
    }

    /// The client used for fetches.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Bounds later fetches by `deadline` (a session's state lives across calls).
    pub fn set_deadline(&mut self, deadline: crate::rpc::Deadline) {
        self.rpc = self.rpc.with_deadline(deadline);
    }

    fn block(&self) -> BlockId {
        BlockId::Number(self.cache.block_number)
    }
}

impl DatabaseRef for RemoteState {
    type Error = StateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        if let Some(hit) = self
            .cache
            .accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&address)
        {
            return Ok(hit.clone());
        }
        let span = tracing::trace_span!("fetch_account", %address, block = self.cache.block_number);
        let _entered = span.enter();
        self.cache.count_fetch();
        let (balance, nonce, code) = self.rpc.account(address, self.block())?;
        let info = if balance.is_zero() && nonce == 0 && code.is_empty() {
            // Post-EIP-161 an empty account and a missing one behave the same.
            None
        } else {
            let (code_hash, bytecode) = if code.is_empty() {
                (KECCAK_EMPTY, Bytecode::default())
            } else {
                let hash = keccak256(&code);
                let bytecode =
                    Bytecode::new_raw_checked(code).map_err(|e| StateError::InvalidCode {
                        address,
                        reason: format!("{e:?}"),
                    })?;
                self.cache
                    .code
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(hash, bytecode.clone());
                (hash, bytecode)
            };
            Some(AccountInfo {
                balance,
                nonce,
                code_hash,
                code: Some(bytecode),
                ..AccountInfo::default()
            })
        };
        self.cache
            .accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(address, info.clone());
        Ok(info)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY || code_hash.is_zero() {
            return Ok(Bytecode::default());
        }
        self.cache
            .code
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&code_hash)
            .cloned()
            .ok_or(StateError::UnknownCode(code_hash))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, StateError> {
        if let Some(hit) = self
            .cache
            .storage
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(address, index))
        {
            return Ok(*hit);
        }
        let span = tracing::trace_span!("fetch_storage", %address, slot = %index);
        let _entered = span.enter();
        self.cache.count_fetch();
        let value = self.rpc.storage_at(address, index, self.block())?;
        self.cache
            .storage
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((address, index), value);
        Ok(value)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, StateError> {
        if number > self.cache.block_number {
            return Err(StateError::NotAncestor {
                requested: number,
                fork: self.cache.block_number,
            });
        }
        if let Some(hit) = self
            .cache
            .block_hashes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&number)
        {
            return Ok(*hit);
        }
        self.cache.count_fetch();
        let header = self
            .rpc
            .header_by_number(BlockId::Number(number))?
            .ok_or(StateError::MissingBlock(number))?;
        self.cache
            .block_hashes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number, header.hash);
        Ok(header.hash)
    }
}
