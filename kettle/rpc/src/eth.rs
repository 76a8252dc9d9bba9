//! The `eth`, `net` and `web3` namespaces.
//!
//! Handlers that touch the chain are `blocking` (jsonrpsee runs them on tokio's blocking
//! pool): they read RocksDB or run the EVM. The confidential path is delegated to
//! [`ConfidentialApi`].

use std::sync::Arc;

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256, U64};
use alloy_rpc_types_eth::{Block, FeeHistory, Filter, Index, Log, TransactionRequest};
use jsonrpsee::{
    core::{async_trait, RpcResult, SubscriptionResult},
    proc_macros::rpc,
    PendingSubscriptionSink,
};
use kettle_chain::{call::CALL_GAS_CAP, CallOutcome, CallRequest, Chain, SealedBlock};
use kettle_primitives::SuaveTxEnvelope;
use serde::{Deserialize, Deserializer};
use tracing::{debug, info_span};

use crate::{
    confidential::{ConfidentialApi, ConfidentialCall},
    error::{EthApiError, EthResult},
    fees::{self, GasOracle},
    logs::{self, LogLimits},
    pubsub,
    types::{
        block_receipts, rpc_block, rpc_transaction, tx_block_info, CallArgs, RpcReceipt,
        RpcTransaction, TxBlockInfo,
    },
    RpcConfig,
};

/// geth's message when both `data` and `input` are given and differ.
const DATA_AND_INPUT_MESSAGE: &str =
    "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data";

/// The `eth` namespace.
#[rpc(server, namespace = "eth")]
pub trait EthApi {
    /// Chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;

    /// Number of the head block.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<U64>;

    /// Always `false`: a kettle serves its own chain.
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<bool>;

    /// Always empty: the node signs nothing for RPC clients.
    #[method(name = "accounts")]
    fn accounts(&self) -> RpcResult<Vec<Address>>;

    /// A block by number or tag (`pending` is the head).
    #[method(name = "getBlockByNumber", blocking)]
    fn block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: bool,
    ) -> RpcResult<Option<Block<RpcTransaction>>>;

    /// A block by hash.
    #[method(name = "getBlockByHash", blocking)]
    fn block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<Block<RpcTransaction>>>;

    /// Number of transactions in a block.
    #[method(name = "getBlockTransactionCountByNumber", blocking)]
    fn block_transaction_count_by_number(&self, number: BlockNumberOrTag)
        -> RpcResult<Option<U64>>;

    /// Number of transactions in a block.
    #[method(name = "getBlockTransactionCountByHash", blocking)]
    fn block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>>;

    /// Receipts of all transactions of a block.
    #[method(name = "getBlockReceipts", blocking)]
    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<RpcReceipt>>>;

    /// Balance at the head (other blocks: `historical state is not available`).
    #[method(name = "getBalance", blocking)]
    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;

    /// Code at the head.
    #[method(name = "getCode", blocking)]
    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;

    /// Storage slot at the head.
    #[method(name = "getStorageAt", blocking)]
    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> RpcResult<B256>;

    /// Account nonce at the head, or including pool transactions for `pending`.
    #[method(name = "getTransactionCount", blocking)]
    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64>;

    /// Suggested legacy gas price: suggested tip plus the larger of the head's and the next
    /// block's base fee.
    #[method(name = "gasPrice", blocking)]
    fn gas_price(&self) -> RpcResult<U256>;

    /// Suggested priority fee.
    #[method(name = "maxPriorityFeePerGas", blocking)]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;

    /// Base fees, gas used ratios and tip percentiles of recent blocks.
    #[method(name = "feeHistory", blocking)]
    fn fee_history(
        &self,
        block_count: Quantity,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;

    /// Plain call on the head state, or confidential with `isConfidential: true`.
    #[method(name = "call", blocking)]
    fn call(
        &self,
        args: CallArgs,
        block: Option<BlockId>,
        state_overrides: Option<serde_json::Value>,
        block_overrides: Option<serde_json::Value>,
    ) -> RpcResult<Bytes>;

    /// Gas estimate, plain or confidential.
    #[method(name = "estimateGas", blocking)]
    fn estimate_gas(
        &self,
        args: CallArgs,
        block: Option<BlockId>,
        state_overrides: Option<serde_json::Value>,
    ) -> RpcResult<U64>;

    /// Submits a signed transaction; a `0x43` goes through the confidential pipeline and the
    /// hash of the resulting `0x50` is returned.
    #[method(name = "sendRawTransaction", blocking)]
    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256>;

    /// Always `method not allowed` (as suave-geth).
    #[method(name = "sendTransaction")]
    fn send_transaction(&self, tx: Option<serde_json::Value>) -> RpcResult<B256>;

    /// A mined or pending transaction.
    #[method(name = "getTransactionByHash", blocking)]
    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<RpcTransaction>>;

    /// A transaction by block number and position.
    #[method(name = "getTransactionByBlockNumberAndIndex", blocking)]
    fn transaction_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: Index,
    ) -> RpcResult<Option<RpcTransaction>>;

    /// A transaction by block hash and position.
    #[method(name = "getTransactionByBlockHashAndIndex", blocking)]
    fn transaction_by_block_hash_and_index(
        &self,
        hash: B256,
        index: Index,
    ) -> RpcResult<Option<RpcTransaction>>;

    /// Receipt of a mined transaction.
    #[method(name = "getTransactionReceipt", blocking)]
    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<RpcReceipt>>;

    /// Logs matching a filter.
    #[method(name = "getLogs", blocking)]
    fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>>;

    /// The kettle addresses of this node (legacy name `eth_executionAddress`).
    #[method(name = "kettleAddress", aliases = ["eth_executionAddress"])]
    fn kettle_address(&self) -> RpcResult<Vec<Address>>;

    /// `newHeads` and `logs` subscriptions (WebSocket only).
    #[subscription(name = "subscribe" => "subscription", unsubscribe = "unsubscribe", item = serde_json::Value)]
    async fn subscribe(
        &self,
        kind: String,
        params: Option<serde_json::Value>,
    ) -> SubscriptionResult;
}

/// The `net` namespace.
#[rpc(server, namespace = "net")]
pub trait NetApi {
    /// The chain id in decimal (the network id of a kettle).
    #[method(name = "version")]
    fn version(&self) -> RpcResult<String>;

    /// Always `true`.
    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;

    /// Always 0 (gossip peers are not reported here).
    #[method(name = "peerCount")]
    fn peer_count(&self) -> RpcResult<U64>;
}

/// The `web3` namespace.
#[rpc(server, namespace = "web3")]
pub trait Web3Api {
    /// `kettle/<version>`.
    #[method(name = "clientVersion")]
    fn client_version(&self) -> RpcResult<String>;

    /// Keccak-256 of the input.
    #[method(name = "sha3")]
    fn sha3(&self, input: Bytes) -> RpcResult<B256>;
}

/// A quantity given as a JSON number, a hex string or a decimal string (geth's
/// `HexOrDecimal64`, which `eth_feeHistory` takes for the block count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(pub u64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(s) => {
                let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => s.parse(),
                };
                parsed
                    .map(Self)
                    .map_err(|_| serde::de::Error::custom(format!("invalid quantity {s:?}")))
            }
        }
    }
}

/// Implementation of the `eth` namespace over a [`Chain`] and a [`ConfidentialApi`].
pub(crate) struct EthHandler {
    chain: Arc<Chain>,
    confidential: Arc<dyn ConfidentialApi>,
    config: Arc<RpcConfig>,
    oracle: GasOracle,
}

impl EthHandler {
    pub(crate) fn new(
        chain: Arc<Chain>,
        confidential: Arc<dyn ConfidentialApi>,
        config: Arc<RpcConfig>,
    ) -> Self {
        let oracle = GasOracle::new(config.default_priority_fee);
        Self {
            chain,
            confidential,
            config,
            oracle,
        }
    }

    fn head_number(&self) -> u64 {
        self.chain.head().1.number
    }

    /// Accepts block ids that denote the head state; refuses others explicitly.
    fn check_state_block(&self, block: Option<BlockId>) -> EthResult<()> {
        let number = match block {
            None => return Ok(()),
            Some(BlockId::Number(BlockNumberOrTag::Number(n))) => n,
            Some(BlockId::Number(BlockNumberOrTag::Earliest)) => 0,
            Some(BlockId::Number(_)) => return Ok(()),
            Some(BlockId::Hash(h)) => self
                .chain
                .block_number(&h.block_hash)?
                .ok_or(EthApiError::UnknownBlockHash)?,
        };
        let head = self.head_number();
        match number.cmp(&head) {
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Greater => Err(EthApiError::HeaderNotFound),
            std::cmp::Ordering::Less => Err(EthApiError::HistoricalState),
        }
    }

    fn resolve_number(&self, tag: BlockNumberOrTag) -> u64 {
        match tag {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => self.head_number(),
        }
    }

    fn block_by_tag(&self, tag: BlockNumberOrTag) -> EthResult<Option<SealedBlock>> {
        Ok(self.chain.block_by_number(self.resolve_number(tag))?)
    }

    fn block_by_hash_inner(&self, hash: &B256) -> EthResult<Option<SealedBlock>> {
        match self.chain.block_number(hash)? {
            Some(n) => Ok(self.chain.block_by_number(n)?),
            None => Ok(None),
        }
    }

    fn tx_at(block: Option<SealedBlock>, index: Index) -> EthResult<Option<RpcTransaction>> {
        let Some(block) = block else { return Ok(None) };
        let i = index.0;
        match block.transactions.get(i) {
            Some(tx) => Ok(Some(rpc_transaction(tx, Some(&tx_block_info(&block, i)))?)),
            None => Ok(None),
        }
    }

    fn suggested_tip(&self) -> EthResult<u128> {
        self.oracle.suggested_tip(&self.chain)
    }

    /// The gas of a call under [`RpcConfig::max_request_gas`]: a larger (or absent) gas is
    /// cut to the limit, as geth's `--rpc.gascap` does. Unchanged when the limit is not
    /// below the chain's own [`CALL_GAS_CAP`].
    fn capped_call_gas(&self, gas: Option<u64>) -> Option<u64> {
        let cap = self.config.max_request_gas;
        if cap >= CALL_GAS_CAP {
            return gas;
        }
        Some(gas.unwrap_or(cap).min(cap))
    }

    fn plain_call(&self, args: &CallArgs, block: Option<BlockId>) -> EthResult<Bytes> {
        self.check_state_block(block)?;
        let mut request = call_request(&args.tx)?;
        request.gas = self.capped_call_gas(request.gas);
        match self.chain.call(&request)? {
            CallOutcome::Success { output, .. } => Ok(output),
            CallOutcome::Revert { output, .. } => Err(EthApiError::Reverted(output)),
            CallOutcome::Halt { reason, .. } => Err(EthApiError::Server(halt_message(&reason))),
        }
    }

    fn plain_estimate(&self, args: &CallArgs, block: Option<BlockId>) -> EthResult<U64> {
        self.check_state_block(block)?;
        let mut request = call_request(&args.tx)?;
        request.gas = self.capped_call_gas(request.gas);
        let head_limit = self.chain.head().1.gas_limit;
        let cap = request
            .gas
            .unwrap_or(head_limit)
            .min(head_limit)
            .min(CALL_GAS_CAP);
        match self.chain.estimate_gas(&request)? {
            Ok(gas) => Ok(U64::from(gas)),
            Err(CallOutcome::Revert { output, .. }) => Err(EthApiError::Reverted(output)),
            Err(CallOutcome::Halt { reason, .. }) if reason.starts_with("OutOfGas") => Err(
                EthApiError::Server(format!("gas required exceeds allowance ({cap})")),
            ),
            Err(CallOutcome::Halt { reason, .. }) => {
                Err(EthApiError::Server(halt_message(&reason)))
            }
            Err(CallOutcome::Success { .. }) => Err(EthApiError::Internal(
                "gas estimation failed on a successful run".into(),
            )),
        }
    }

    /// Fills in suave-geth's defaults for a confidential call (see [`ConfidentialCall`]).
    fn confidential_call(&self, args: CallArgs, estimate: bool) -> EthResult<ConfidentialCall> {
        let CallArgs {
            tx,
            kettle_address,
            confidential_inputs,
            ..
        } = args;
        if tx.max_fee_per_gas.is_some() || tx.access_list.is_some() {
            return Err(EthApiError::Server("invalid transaction passed".into()));
        }
        let kettle_address = match kettle_address {
            Some(a) => a,
            None => self
                .confidential
                .kettle_addresses()
                .first()
                .copied()
                .ok_or_else(|| EthApiError::Server("no kettle address available".into()))?,
        };
        let from = tx.from.unwrap_or_default();
        let to = match tx.to {
            Some(TxKind::Call(a)) => Some(a),
            _ => None,
        };
        let value = tx.value.unwrap_or_default();
        let data = unique_input(&tx)?;
        let head_limit = self.chain.head().1.gas_limit;
        let gas = match tx.gas {
            Some(gas) => gas,
            None if estimate => head_limit,
            None => {
                // suave-geth fills the gas from a non-confidential estimate; where that fails
                // (it crashes) the block gas limit is used.
                let request = CallRequest {
                    from: Some(from),
                    to,
                    gas: None,
                    gas_price: None,
                    value: Some(value),
                    data: data.clone(),
                };
                match self.chain.estimate_gas(&request) {
                    Ok(Ok(gas)) => gas,
                    _ => head_limit,
                }
            }
        };
        let gas = gas.min(self.config.max_request_gas);
        let gas_price = match tx.gas_price {
            Some(p) => U256::from(p),
            None => U256::from(self.suggested_tip()?),
        };
        let nonce = match tx.nonce {
            Some(n) => n,
            None => self.chain.pending_nonce(&from)?,
        };
        Ok(ConfidentialCall {
            from,
            to,
            gas,
            gas_price,
            nonce,
            value,
            data,
            kettle_address,
            confidential_inputs: confidential_inputs.unwrap_or_default(),
            chain_id: self.chain.chain_id(),
        })
    }
}

/// The calldata of a request (`input`, or `data`; both only if equal).
fn unique_input(tx: &TransactionRequest) -> EthResult<Bytes> {
    tx.input
        .clone()
        .try_into_unique_input()
        .map(Option::unwrap_or_default)
        .map_err(|_| EthApiError::Server(DATA_AND_INPUT_MESSAGE.into()))
}

/// A plain call request from RPC arguments.
fn call_request(tx: &TransactionRequest) -> EthResult<CallRequest> {
    Ok(CallRequest {
        from: tx.from,
        to: match tx.to {
            Some(TxKind::Call(a)) => Some(a),
            _ => None,
        },
        gas: tx.gas,
        gas_price: tx.gas_price.or(tx.max_fee_per_gas),
        value: tx.value,
        data: unique_input(tx)?,
    })
}

/// geth's wording for the common exceptional halts (revm's reason otherwise).
fn halt_message(reason: &str) -> String {
    let known = [
        ("OutOfGas", "out of gas"),
        ("OpcodeNotFound", "invalid opcode"),
        ("InvalidFEOpcode", "invalid opcode: INVALID"),
        ("StackUnderflow", "stack underflow"),
        ("StackOverflow", "stack limit reached 1024 (1023)"),
        ("InvalidJump", "invalid jump destination"),
        ("StateChangeDuringStaticCall", "write protection"),
        ("OutOfFunds", "insufficient balance for transfer"),
        ("CallTooDeep", "max call depth exceeded"),
        ("CreateContractSizeLimit", "max code size exceeded"),
        (
            "CreateContractStartingWithEF",
            "invalid code: must not begin with 0xef",
        ),
        ("CreateInitCodeSizeLimit", "max initcode size exceeded"),
    ];
    known
        .iter()
        .find(|(prefix, _)| reason.starts_with(prefix))
        .map_or_else(|| reason.to_owned(), |(_, msg)| (*msg).to_owned())
}

fn reject_overrides(overrides: &[&Option<serde_json::Value>]) -> EthResult<()> {
    if overrides
        .iter()
        .any(|o| o.as_ref().is_some_and(|v| !v.is_null()))
    {
        return Err(EthApiError::InvalidParams(
            "state and block overrides are not supported".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl EthApiServer for EthHandler {
    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.chain.chain_id()))
    }

    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.head_number()))
    }

    fn syncing(&self) -> RpcResult<bool> {
        Ok(false)
    }

    fn accounts(&self) -> RpcResult<Vec<Address>> {
        Ok(Vec::new())
    }

    fn block_by_number(
        &self,
        number: BlockNumberOrTag,
        full: bool,
    ) -> RpcResult<Option<Block<RpcTransaction>>> {
        Ok(self
            .block_by_tag(number)?
            .map(|b| rpc_block(&b, full))
            .transpose()?)
    }

    fn block_by_hash(&self, hash: B256, full: bool) -> RpcResult<Option<Block<RpcTransaction>>> {
        Ok(self
            .block_by_hash_inner(&hash)?
            .map(|b| rpc_block(&b, full))
            .transpose()?)
    }

    fn block_transaction_count_by_number(
        &self,
        number: BlockNumberOrTag,
    ) -> RpcResult<Option<U64>> {
        Ok(self
            .block_by_tag(number)?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn block_transaction_count_by_hash(&self, hash: B256) -> RpcResult<Option<U64>> {
        Ok(self
            .block_by_hash_inner(&hash)?
            .map(|b| U64::from(b.transactions.len())))
    }

    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<RpcReceipt>>> {
        let block = match block {
            BlockId::Number(tag) => self.block_by_tag(tag)?,
            BlockId::Hash(h) => self.block_by_hash_inner(&h.block_hash)?,
        };
        Ok(block.map(|b| block_receipts(&b)).transpose()?)
    }

    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        self.check_state_block(block)?;
        let account = self
            .chain
            .state()
            .account(&address)
            .map_err(EthApiError::from)?;
        Ok(account.map_or(U256::ZERO, |a| a.balance))
    }

    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        self.check_state_block(block)?;
        Ok(self.chain.code(&address).map_err(EthApiError::from)?)
    }

    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> RpcResult<B256> {
        self.check_state_block(block)?;
        let value = self
            .chain
            .storage(address, slot)
            .map_err(EthApiError::from)?;
        Ok(B256::from(value))
    }

    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64> {
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            let nonce = self
                .chain
                .pending_nonce(&address)
                .map_err(EthApiError::from)?;
            return Ok(U64::from(nonce));
        }
        self.check_state_block(block)?;
        let account = self
            .chain
            .state()
            .account(&address)
            .map_err(EthApiError::from)?;
        Ok(U64::from(account.map_or(0, |a| a.nonce)))
    }

    fn gas_price(&self) -> RpcResult<U256> {
        let tip = self.suggested_tip()?;
        // A price that passes both checks it may meet: the mempool's (next block's base fee)
        // and the confidential pipeline's (the head's base fee, as suave-geth checks a 0x43).
        let head_base_fee = self.chain.head().1.base_fee_per_gas.unwrap_or_default();
        let base = head_base_fee.max(self.chain.next_base_fee());
        Ok(U256::from(tip) + U256::from(base))
    }

    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::from(self.suggested_tip()?))
    }

    fn fee_history(
        &self,
        block_count: Quantity,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        Ok(fees::fee_history(
            &self.chain,
            block_count.0,
            newest_block,
            reward_percentiles.as_deref(),
            self.config.max_fee_history_blocks,
        )?)
    }

    fn call(
        &self,
        args: CallArgs,
        block: Option<BlockId>,
        state_overrides: Option<serde_json::Value>,
        block_overrides: Option<serde_json::Value>,
    ) -> RpcResult<Bytes> {
        if args.is_confidential == Some(true) {
            // suave-geth ignores the block tag and overrides of confidential calls (§3.1).
            let call = self.confidential_call(args, false)?;
            let _span =
                info_span!("confidential_call", to = ?call.to, kettle = %call.kettle_address)
                    .entered();
            return Ok(self.confidential.call(call).map_err(EthApiError::from)?);
        }
        reject_overrides(&[&state_overrides, &block_overrides])?;
        Ok(self.plain_call(&args, block)?)
    }

    fn estimate_gas(
        &self,
        args: CallArgs,
        block: Option<BlockId>,
        state_overrides: Option<serde_json::Value>,
    ) -> RpcResult<U64> {
        if args.is_confidential == Some(true) {
            let call = self.confidential_call(args, true)?;
            let _span =
                info_span!("confidential_estimate", to = ?call.to, kettle = %call.kettle_address)
                    .entered();
            let gas = self
                .confidential
                .estimate_gas(call)
                .map_err(EthApiError::from)?;
            return Ok(U64::from(gas));
        }
        reject_overrides(&[&state_overrides])?;
        Ok(self.plain_estimate(&args, block)?)
    }

    fn send_raw_transaction(&self, raw: Bytes) -> RpcResult<B256> {
        let envelope =
            SuaveTxEnvelope::decode(&raw).map_err(|e| EthApiError::Server(e.to_string()))?;
        match envelope {
            SuaveTxEnvelope::ConfidentialRequest(request) => {
                let cap = self.config.max_request_gas;
                if request.record.gas > cap {
                    return Err(EthApiError::Server(format!(
                        "gas limit {} exceeds this kettle's limit of {cap} gas per confidential request",
                        request.record.gas
                    ))
                    .into());
                }
                let _span = info_span!(
                    "confidential_request",
                    request = %request.tx_hash(),
                    kettle = %request.record.kettle_address,
                )
                .entered();
                let hash = self
                    .confidential
                    .send_request(request)
                    .map_err(EthApiError::from)?;
                debug!(%hash, "confidential request accepted");
                Ok(hash)
            }
            other => {
                let hash = self
                    .chain
                    .add_transaction(&other)
                    .map_err(EthApiError::from)?;
                debug!(%hash, tx_type = other.tx_type(), "transaction accepted");
                Ok(hash)
            }
        }
    }

    fn send_transaction(&self, _tx: Option<serde_json::Value>) -> RpcResult<B256> {
        Err(EthApiError::Server("method not allowed".into()).into())
    }

    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<RpcTransaction>> {
        let Some((tx, location)) = self.chain.transaction(&hash).map_err(EthApiError::from)? else {
            return Ok(None);
        };
        let info = match location {
            Some(loc) => {
                let header = self
                    .chain
                    .header_by_number(loc.block_number)
                    .map_err(EthApiError::from)?
                    .ok_or(EthApiError::HeaderNotFound)?;
                Some(TxBlockInfo {
                    block_hash: header.hash_slow(),
                    block_number: loc.block_number,
                    index: u64::from(loc.index),
                    base_fee: header.base_fee_per_gas,
                })
            }
            None => None,
        };
        Ok(Some(rpc_transaction(&tx, info.as_ref())?))
    }

    fn transaction_by_block_number_and_index(
        &self,
        number: BlockNumberOrTag,
        index: Index,
    ) -> RpcResult<Option<RpcTransaction>> {
        Ok(Self::tx_at(self.block_by_tag(number)?, index)?)
    }

    fn transaction_by_block_hash_and_index(
        &self,
        hash: B256,
        index: Index,
    ) -> RpcResult<Option<RpcTransaction>> {
        Ok(Self::tx_at(self.block_by_hash_inner(&hash)?, index)?)
    }

    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<RpcReceipt>> {
        let Some(loc) = self.chain.tx_location(&hash).map_err(EthApiError::from)? else {
            return Ok(None);
        };
        let Some(block) = self
            .chain
            .block_by_number(loc.block_number)
            .map_err(EthApiError::from)?
        else {
            return Ok(None);
        };
        Ok(block_receipts(&block)?.into_iter().nth(loc.index as usize))
    }

    fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>> {
        let limits = LogLimits {
            max_block_range: self.config.max_logs_block_range,
            max_logs: self.config.max_logs,
        };
        Ok(logs::get_logs(&self.chain, &filter, limits)?)
    }

    fn kettle_address(&self) -> RpcResult<Vec<Address>> {
        Ok(self.confidential.kettle_addresses())
    }

    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: String,
        params: Option<serde_json::Value>,
    ) -> SubscriptionResult {
        pubsub::subscribe(self.chain.clone(), pending, kind, params).await
    }
}

/// Implementation of the `net` namespace.
pub(crate) struct NetHandler {
    pub(crate) chain_id: u64,
}

impl NetApiServer for NetHandler {
    fn version(&self) -> RpcResult<String> {
        Ok(self.chain_id.to_string())
    }

    fn listening(&self) -> RpcResult<bool> {
        Ok(true)
    }

    fn peer_count(&self) -> RpcResult<U64> {
        Ok(U64::ZERO)
    }
}

/// Implementation of the `web3` namespace.
pub(crate) struct Web3Handler {
    pub(crate) client_version: String,
}

impl Web3ApiServer for Web3Handler {
    fn client_version(&self) -> RpcResult<String> {
        Ok(self.client_version.clone())
    }

    fn sha3(&self, input: Bytes) -> RpcResult<B256> {
        Ok(keccak256(&input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_accepts_numbers_hex_and_decimal() {
        for (json, want) in [("5", 5), ("\"0x5\"", 5), ("\"0x1F\"", 31), ("\"12\"", 12)] {
            let q: Quantity = serde_json::from_str(json).expect(json);
            assert_eq!(q.0, want);
        }
        assert!(serde_json::from_str::<Quantity>("\"0xzz\"").is_err());
        assert!(serde_json::from_str::<Quantity>("-1").is_err());
        assert!(serde_json::from_str::<Quantity>("null").is_err());
    }

    #[test]
    fn halt_messages_follow_geth() {
        assert_eq!(halt_message("OutOfGas(Basic)"), "out of gas");
        assert_eq!(halt_message("OpcodeNotFound"), "invalid opcode");
        assert_eq!(halt_message("SomethingNew"), "SomethingNew");
    }
}
