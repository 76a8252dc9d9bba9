//! [`RpcBackend`]: the [`ExecutionBackend`] of the builder precompiles over any standard
//! Ethereum JSON-RPC node.
//!
//! - `simulate_bundle`: the bundle on top of the head with null build arguments (suave-geth
//!   `suavex_buildEthBlock(null, txs)`), within [`BackendConfig::simulate_timeout`] (1 s as in
//!   suave-geth);
//! - `build_block`: a block from bundles with the given arguments, on the node of
//!   `execution_node` when given (`buildEthBlockTo`), else the configured one, within
//!   [`BackendConfig::build_timeout`]; [`RpcBackend::build_payload`] returns the full
//!   [`BuiltPayload`] (relay payload, receipts, …);
//! - `new_session` / `add_transaction`: [`crate::session`];
//! - `call`: `eth_call` at `latest` with a 100,000 gas cap, the revert data of a reverted call
//!   returned as data (suave-geth's `suavex_call`), within [`BackendConfig::call_timeout`].
//!
//! State fetched for a parent block is cached and shared by all calls on that parent (the
//! last [`BackendConfig::cached_parents`] parents are kept).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alloy_consensus::TxEnvelope;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, Bytes, B256};
use alloy_signer_local::PrivateKeySigner;
use kettle_contracts::{BuildBlockArgs, SimulateTransactionResult};
use suave_precompiles_network::builder::SignedBid;
use suave_precompiles_network::bundle::SBundle;
use suave_precompiles_network::{BackendError, BlockSimulation, BuiltBlock, ExecutionBackend};

use crate::bid::{self, BidTrace, BuilderKey};
use url::Url;

use crate::build::{self, BuildError, BuiltPayload, Executor, Fork};
use crate::env::{BlockParams, ForkConfig, NextBlock, ParentBlock};
use crate::rpc::{BlockId, Deadline, RpcClient, RpcConfig, RpcError};
use crate::session::{SessionConfig, Sessions};
use crate::state::StateCache;

/// Gas cap of `ethcall` (suave-geth's `suavex_call`).
pub const CALL_GAS_CAP: u64 = 100_000;

/// Settings of an [`RpcBackend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendConfig {
    /// HTTP settings of the JSON-RPC client (per-request timeout, body limit).
    pub rpc: RpcConfig,
    /// Deadline of `simulateBundle` (suave-geth: 1 s).
    pub simulate_timeout: Duration,
    /// Deadline of a block build (state fetches, execution, proofs).
    pub build_timeout: Duration,
    /// Deadline of `ethcall` (suave-geth: 5 s).
    pub call_timeout: Duration,
    /// Deadline of `newBuilder` and of each `simulateTransaction`.
    pub session_timeout: Duration,
    /// Session limits.
    pub sessions: SessionConfig,
    /// Fork settings the parent header cannot tell.
    pub forks: ForkConfig,
    /// How many parents' state caches are kept.
    pub cached_parents: usize,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            rpc: RpcConfig::default(),
            simulate_timeout: Duration::from_secs(1),
            build_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(5),
            session_timeout: Duration::from_secs(5),
            sessions: SessionConfig::default(),
            forks: ForkConfig::default(),
            cached_parents: 4,
        }
    }
}

/// How many recently built blocks are kept for [`ExecutionBackend::bid`].
const RECENT_BLOCKS: usize = 16;

/// A block built by [`ExecutionBackend::build_block`], kept until its bid is signed.
#[derive(Debug)]
struct Recent {
    payload: BuiltPayload,
    chain_id: u64,
}

/// The execution backend over a JSON-RPC node; see the module documentation.
#[derive(Debug)]
pub struct RpcBackend {
    rpc: RpcClient,
    config: BackendConfig,
    caches: Mutex<VecDeque<(String, Arc<StateCache>)>>,
    chain_ids: Mutex<HashMap<String, u64>>,
    sessions: Sessions,
    builder_key: Option<BuilderKey>,
    coinbase_key: Option<PrivateKeySigner>,
    recent: Mutex<VecDeque<Recent>>,
}

fn backend_error(err: impl std::fmt::Display) -> BackendError {
    BackendError(err.to_string())
}

fn deadline_error(err: RpcError) -> BuildError {
    match err {
        RpcError::Deadline { .. } => BuildError::Deadline,
        other => BuildError::Rpc(other),
    }
}

/// The build parameters of `args` with `beneficiary` as coinbase.
pub fn block_params(args: &BuildBlockArgs, beneficiary: Address) -> BlockParams {
    BlockParams {
        timestamp: args.timestamp,
        gas_limit: args.gasLimit,
        prev_randao: args.random,
        beneficiary,
        beacon_root: args.beaconRoot,
        extra_data: args.extra.clone(),
        withdrawals: args
            .withdrawals
            .iter()
            .map(|w| Withdrawal {
                index: w.index,
                validator_index: w.validator,
                address: w.Address,
                amount: w.amount,
            })
            .collect(),
    }
}

impl RpcBackend {
    /// A backend over the node at `url` (http or https).
    pub fn new(url: &str, config: BackendConfig) -> Result<Self, RpcError> {
        Ok(Self {
            rpc: RpcClient::new(url, config.rpc)?,
            config,
            caches: Mutex::new(VecDeque::new()),
            chain_ids: Mutex::new(HashMap::new()),
            sessions: Sessions::new(config.sessions),
            builder_key: None,
            coinbase_key: None,
            recent: Mutex::new(VecDeque::new()),
        })
    }

    /// Signs bids with `key` (the kettle's BLS builder key); without one, `buildEthBlock`
    /// fails after building.
    pub fn with_builder_key(mut self, key: BuilderKey) -> Self {
        self.builder_key = Some(key);
        self
    }

    /// Builds every block with this coinbase (a fixed builder address, as production
    /// builders use) instead of a fresh key per block (suave-geth). It pays the proposer from
    /// the block's profit, so it needs no funds of its own, but a node replaying the block
    /// through its mempool (e.g. hardhat) checks its balance beforehand.
    pub fn with_coinbase_key(mut self, key: PrivateKeySigner) -> Self {
        self.coinbase_key = Some(key);
        self
    }

    /// The builder's BLS public key, if it has one.
    pub fn builder_pubkey(&self) -> Option<[u8; 48]> {
        self.builder_key.as_ref().map(BuilderKey::public_key)
    }

    /// The settings.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// The configured node's client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    fn client_for(&self, execution_node: Option<&Url>) -> Result<RpcClient, RpcError> {
        match execution_node {
            None => Ok(self.rpc.clone()),
            Some(url) if url == self.rpc.url() => Ok(self.rpc.clone()),
            Some(url) => RpcClient::from_url(url.clone(), self.config.rpc),
        }
    }

    /// The chain id of the node (`execution_node` or the configured one), cached per node.
    pub fn chain_id(&self, execution_node: Option<&Url>) -> Result<u64, RpcError> {
        let rpc = self.client_for(execution_node)?;
        self.chain_id_of(&rpc)
    }

    fn chain_id_of(&self, rpc: &RpcClient) -> Result<u64, RpcError> {
        let key = rpc.url().as_str().to_owned();
        if let Some(id) = self
            .chain_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(*id);
        }
        let id = rpc.chain_id()?;
        self.chain_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, id);
        Ok(id)
    }

    /// The shared state cache of `parent` on the node of `rpc`.
    fn cache_for(&self, rpc: &RpcClient, parent: &ParentBlock) -> Arc<StateCache> {
        let url = rpc.url().as_str();
        let mut caches = self.caches.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, cache)) = caches
            .iter()
            .find(|(u, c)| u == url && c.block_hash() == parent.hash)
        {
            return Arc::clone(cache);
        }
        let cache = Arc::new(StateCache::new(parent.header.number, parent.hash));
        caches.push_front((url.to_owned(), Arc::clone(&cache)));
        caches.truncate(self.config.cached_parents.max(1));
        cache
    }

    /// The forked chain on top of `parent` (zero: the head) of `rpc`'s node.
    fn fork(&self, rpc: &RpcClient, parent: B256) -> Result<Fork, BuildError> {
        let header = if parent.is_zero() {
            rpc.header_by_number(BlockId::Latest)
                .map_err(deadline_error)?
                .ok_or_else(|| BuildError::ParentNotFound("latest".into()))?
        } else {
            rpc.header_by_hash(parent)
                .map_err(deadline_error)?
                .ok_or_else(|| BuildError::ParentNotFound(parent.to_string()))?
        };
        let parent = ParentBlock::from_rpc(header);
        let chain_id = self.chain_id_of(rpc).map_err(deadline_error)?;
        let cache = self.cache_for(rpc, &parent);
        Ok(Fork {
            rpc: rpc.clone(),
            parent,
            cache,
            chain_id,
            forks: self.config.forks,
        })
    }

    /// `simulateBundle`'s block value and gas (see the module documentation).
    pub fn simulate(&self, bundle: &SBundle) -> Result<BlockSimulation, BuildError> {
        let rpc = self
            .rpc
            .with_deadline(Deadline::after(self.config.simulate_timeout));
        let fork = self.fork(&rpc, B256::ZERO)?;
        let coinbase = PrivateKeySigner::random().address();
        let params = BlockParams {
            beneficiary: coinbase,
            ..BlockParams::default()
        };
        let next = NextBlock::new(&fork.parent, fork.chain_id, &params, &fork.forks)?;
        build::simulate_bundle(&fork, next, bundle)
    }

    /// Builds a block from `bundles` with `args` on `execution_node` (or the configured
    /// node), with a fresh ephemeral coinbase key.
    pub fn build_payload(
        &self,
        args: &BuildBlockArgs,
        bundles: &[SBundle],
        execution_node: Option<&Url>,
    ) -> Result<BuiltPayload, BuildError> {
        self.build_payload_with_key(args, bundles, execution_node, &PrivateKeySigner::random())
    }

    /// [`RpcBackend::build_payload`] with a chosen coinbase key (tests replaying a block
    /// need to know it).
    pub fn build_payload_with_key(
        &self,
        args: &BuildBlockArgs,
        bundles: &[SBundle],
        execution_node: Option<&Url>,
        coinbase_key: &PrivateKeySigner,
    ) -> Result<BuiltPayload, BuildError> {
        let rpc = self
            .client_for(execution_node)?
            .with_deadline(Deadline::after(self.config.build_timeout));
        let fork = self.fork(&rpc, args.parent)?;
        let params = block_params(args, coinbase_key.address());
        let next = NextBlock::new(&fork.parent, fork.chain_id, &params, &fork.forks)?;
        if args.fillPending {
            tracing::warn!("fillPending is not supported (no mempool access); ignored");
        }
        build::build_block(&fork, next, args.feeRecipient, bundles, coinbase_key)
    }
}

impl ExecutionBackend for RpcBackend {
    fn simulate_bundle(&self, bundle: &SBundle) -> Result<BlockSimulation, BackendError> {
        self.simulate(bundle).map_err(backend_error)
    }

    fn build_block(
        &self,
        args: &BuildBlockArgs,
        bundles: &[SBundle],
        execution_node: Option<&Url>,
    ) -> Result<BuiltBlock, BackendError> {
        let key = self
            .coinbase_key
            .clone()
            .unwrap_or_else(PrivateKeySigner::random);
        let payload = self
            .build_payload_with_key(args, bundles, execution_node, &key)
            .map_err(backend_error)?;
        let chain_id = self.chain_id(execution_node).map_err(backend_error)?;
        let built = payload.to_built_block();
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() >= RECENT_BLOCKS {
            recent.pop_front();
        }
        recent.push_back(Recent { payload, chain_id });
        Ok(built)
    }

    fn bid(&self, args: &BuildBlockArgs, block: &BuiltBlock) -> Result<SignedBid, BackendError> {
        let key = self.builder_key.as_ref().ok_or_else(|| {
            BackendError("no BLS builder key configured: cannot sign the bid".into())
        })?;
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let built = recent
            .iter()
            .rev()
            .find(|r| r.payload.block_hash == block.block_hash)
            .ok_or_else(|| {
                BackendError(format!(
                    "block {} was not built by this backend recently",
                    block.block_hash
                ))
            })?;
        let fork_version = bid::fork_version_for_chain(built.chain_id).map_err(backend_error)?;
        let trace = BidTrace {
            slot: args.slot,
            parent_hash: built.payload.header.parent_hash,
            block_hash: built.payload.block_hash,
            builder_pubkey: key.public_key().into(),
            proposer_pubkey: bid::pubkey_from_slice(&args.proposerPubkey),
            proposer_fee_recipient: args.feeRecipient,
            gas_limit: built.payload.header.gas_limit,
            gas_used: built.payload.header.gas_used,
            value: built.payload.block_value,
        };
        let signature = key.sign_bid(&trace, bid::builder_domain(fork_version));
        let json: Bytes =
            bid::bid_json(&trace, &built.payload.execution_payload(), signature).into();
        Ok(SignedBid {
            bid_json: json.clone(),
            submission_json: json,
        })
    }

    fn new_session(&self) -> Result<String, BackendError> {
        let span = tracing::debug_span!("new_session");
        let _entered = span.enter();
        let rpc = self
            .rpc
            .with_deadline(Deadline::after(self.config.session_timeout));
        let fork = self.fork(&rpc, B256::ZERO).map_err(backend_error)?;
        let next = NextBlock::new(
            &fork.parent,
            fork.chain_id,
            &BlockParams::default(),
            &fork.forks,
        )
        .map_err(backend_error)?;
        let executor = Executor::new(next, fork.state(), Deadline::NONE);
        self.sessions.open(executor).map_err(backend_error)
    }

    fn add_transaction(
        &self,
        session: &str,
        tx: &TxEnvelope,
    ) -> Result<SimulateTransactionResult, BackendError> {
        self.sessions
            .add_transaction(session, tx, Deadline::after(self.config.session_timeout))
            .map_err(backend_error)
    }

    fn call(&self, contract: Address, input: &[u8]) -> Result<Bytes, BackendError> {
        let span = tracing::debug_span!("ethcall", %contract, input_len = input.len());
        let _entered = span.enter();
        self.rpc
            .with_deadline(Deadline::after(self.config.call_timeout))
            .call(contract, input, CALL_GAS_CAP, BlockId::Latest)
            .map_err(backend_error)
    }
}
