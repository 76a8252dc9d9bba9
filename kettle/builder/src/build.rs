//! Executing bundles on the forked state and assembling the block (SUAVE-COMPAT §8.2).
//!
//! [`Executor`] runs transactions one by one on revm's mainnet EVM over a `CacheDB` of the
//! [`RemoteState`], keeps receipts and cumulative gas, and records which accounts and slots
//! each transaction touched, so that the block's state changes can be handed to the
//! sparse-trie module as [`AccountUpdate`]s.
//!
//! [`build_block`] follows suave-geth's `buildBlockFromBundles`:
//! 1. the coinbase is a fresh ephemeral key (the caller passes it; `args.feeRecipient` is
//!    not the coinbase);
//! 2. pre-block system calls (EIP-4788, EIP-2935);
//! 3. bundles in order, each transaction must pass the consensus checks, and may only revert
//!    (or halt) when its hash is in the bundle's `revertingHashes`; anything else fails the
//!    whole build with the transaction hash and the reason (suave-geth only fails on
//!    consensus errors and includes reverted transactions; the stricter rule here is the
//!    bundle contract);
//! 4. a bundle with more than one transaction and `percent` set gets a refund transaction
//!    from the coinbase to the sender of its first transaction: `bundleProfit / percent −
//!    28000·baseFee` (percent 0 → 10; suave-geth divides by the number, so only 10 means
//!    10 %); a refund ≤ 0 is skipped (suave-geth would fail signing a negative value);
//! 5. the proposer payment: a legacy transaction from the coinbase to `feeRecipient`, gas
//!    28000, gas price = base fee, value = coinbase profit − 28000·baseFee. When the profit
//!    does not exceed that cost **no payment is made and the block value is 0** (suave-geth
//!    would try a negative-value transaction and fail); a payment that reverts fails the
//!    build;
//! 6. Prague end-of-block requests (deposits parsed from the deposit contract's logs,
//!    EIP-7002 and EIP-7251 dequeues), then withdrawals;
//! 7. roots (transactions, receipts, withdrawals, state via [`trie::state_root_after`] and
//!    `eth_getProof` at the parent, plus the proofs of probe keys from [`trie::find_probe`]
//!    when a deletion collapses a branch into a node the proofs left blinded), header, block
//!    hash = keccak of the RLP header.
//!
//! [`simulate_bundle`] is suave-geth's `buildBlockFromTxs` with null arguments: the bundle on
//! top of the head, no payment transaction, block value = coinbase profit, no state root.
//! Blob transactions are executed (blob gas is accounted) but refused in built blocks: a
//! bundle carries no sidecars, so the payload could not be published.

use std::collections::{BTreeMap, BTreeSet};

use alloy_consensus::constants::EMPTY_OMMER_ROOT_HASH;
use alloy_consensus::proofs::{
    calculate_receipt_root, calculate_transaction_root, calculate_withdrawals_root,
};
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{
    Header, Receipt, ReceiptEnvelope, SignableTransaction, Transaction as _, TxEnvelope, TxLegacy,
    TxType,
};
use alloy_eips::eip2718::{Encodable2718, Typed2718};
use alloy_eips::eip4895::Withdrawal;
use alloy_eips::eip7685::Requests;
use alloy_primitives::{Address, Bloom, Bytes, Log, TxKind, B256, B64, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::context_interface::result::{EVMError, ExecutionResult, InvalidTransaction};
use revm::context_interface::JournalTr;
use revm::database::{AccountState, CacheDB};
use revm::database_interface::DatabaseRef;
use revm::handler::{MainBuilder, MainnetContext, MainnetEvm, SystemCallEvm, SYSTEM_ADDRESS};
use revm::primitives::hardfork::SpecId;
use revm::primitives::KECCAK_EMPTY;
use revm::state::EvmState;
use revm::{DatabaseCommit, ExecuteEvm};
use suave_precompiles_network::bundle::SBundle;
use suave_precompiles_network::BlockSimulation;

use crate::env::{NextBlock, ParentBlock};
use crate::payload::PayloadParts;
use crate::rpc::{BlockId, Deadline, RpcClient, RpcError};
use crate::state::{RemoteState, StateCache, StateError};
use crate::trie::{self, AccountUpdate, TrieError};

/// Gas of suave-geth's refund and proposer-payment transactions.
pub const PAYMENT_GAS: u64 = 28_000;
/// Default refund divisor of a bundle whose `percent` is 0.
pub const DEFAULT_REFUND_PERCENT: i64 = 10;
/// `eth_getProof` requests per batch round trip.
const PROOF_BATCH: usize = 64;
/// Keys hashed at most in the search for a key whose proof reveals a blinded node (the
/// expected work is `16^path_len`: this covers paths of up to about 6 nibbles).
const PROBE_MAX_ATTEMPTS: u64 = 1 << 24;
/// Longest path of a blinded node worth searching a probe key for: a 7-nibble path needs
/// about 16^7 hashes, so a search within [`PROBE_MAX_ATTEMPTS`] would mostly fail after
/// burning seconds of CPU.
const PROBE_MAX_PATH_NIBBLES: usize = 6;
/// Rounds of revealing blinded nodes with extra proofs before the state root gives up.
const PROBE_MAX_ROUNDS: usize = 16;
/// Topic of `DepositEvent(bytes,bytes,bytes,bytes,bytes)` (EIP-6110).
const DEPOSIT_EVENT_TOPIC: B256 =
    alloy_primitives::b256!("0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

/// Why a simulation or build failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The execution node could not answer.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// A state read failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The block environment is invalid.
    #[error(transparent)]
    Env(#[from] crate::env::EnvError),
    /// A bundle transaction failed the consensus checks.
    #[error("transaction {hash} failed: {reason}")]
    TxFailed {
        /// Transaction hash.
        hash: B256,
        /// Reason.
        reason: String,
    },
    /// A bundle transaction reverted without being allowed to.
    #[error("transaction {hash} reverted and is not in revertingHashes")]
    TxReverted {
        /// Transaction hash.
        hash: B256,
    },
    /// A blob transaction in a block to publish.
    #[error("transaction {hash} carries blobs: blob transactions cannot be built into a block (no sidecars)")]
    BlobTransaction {
        /// Transaction hash.
        hash: B256,
    },
    /// A bundle's refund percentage is negative.
    #[error("invalid refund percent {0}")]
    RefundPercent(i64),
    /// The refund or proposer payment transaction failed.
    #[error("{what} failed: {reason}")]
    Payment {
        /// `proposer payment` or `refund`.
        what: &'static str,
        /// Reason.
        reason: String,
    },
    /// A system call failed.
    #[error("system call to {contract} failed: {reason}")]
    SystemCall {
        /// System contract.
        contract: Address,
        /// Reason.
        reason: String,
    },
    /// The post-state root could not be computed.
    #[error("state root: {0}")]
    Trie(#[from] TrieError),
    /// The operation's deadline passed.
    #[error("deadline exceeded")]
    Deadline,
    /// revm failed for a reason other than the transaction or the state.
    #[error("evm: {0}")]
    Evm(String),
    /// Signing the coinbase's transaction failed.
    #[error("signing: {0}")]
    Signing(String),
    /// The parent block is unknown to the node.
    #[error("parent block {0} not found")]
    ParentNotFound(String),
}

/// Everything a run needs about the forked chain: the node (with the run's deadline), the
/// parent, its shared state cache, the chain id and the fork settings.
#[derive(Debug, Clone)]
pub struct Fork {
    /// Client of the node, bounded by the run's deadline.
    pub rpc: RpcClient,
    /// Parent block.
    pub parent: ParentBlock,
    /// Shared cache of the parent's state.
    pub cache: std::sync::Arc<StateCache>,
    /// Chain id.
    pub chain_id: u64,
    /// Fork settings.
    pub forks: crate::env::ForkConfig,
}

impl Fork {
    /// The remote state of the parent.
    pub fn state(&self) -> RemoteState {
        RemoteState::new(self.rpc.clone(), std::sync::Arc::clone(&self.cache))
    }
}

/// A transaction that could not be executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxFailure {
    /// It fails the consensus checks (nonce, funds, fees, gas, signature…): nothing changed.
    Invalid(String),
    /// The run itself failed (state fetch, deadline, EVM error).
    Fatal(BuildError),
}

impl From<BuildError> for TxFailure {
    fn from(e: BuildError) -> Self {
        TxFailure::Fatal(e)
    }
}

/// The outcome of an included transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// Transaction hash.
    pub hash: B256,
    /// Sender.
    pub sender: Address,
    /// Status 1 (true) or reverted/halted (false).
    pub success: bool,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Logs (empty when it reverted).
    pub logs: Vec<Log>,
    /// Price per gas paid by the sender (`effectiveGasPrice` of the receipt).
    pub effective_gas_price: u128,
}

#[derive(Debug, Default, Clone)]
struct Touch {
    /// Storage wiped in the block (created or self-destructed).
    cleared: bool,
    /// Slots written.
    slots: BTreeSet<U256>,
}

type Db = CacheDB<RemoteState>;
type Evm<'a> = MainnetEvm<MainnetContext<&'a mut Db>>;

/// Runs transactions on the forked state; see the module documentation.
pub struct Executor {
    db: Db,
    block_env: BlockEnv,
    cfg: CfgEnv,
    next: NextBlock,
    deadline: Deadline,
    touched: BTreeMap<Address, Touch>,
    /// Included transactions.
    pub transactions: Vec<TxEnvelope>,
    /// Their receipts.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Cumulative gas used.
    pub gas_used: u64,
    /// Blob gas used.
    pub blob_gas_used: u64,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("number", &self.next.number)
            .field("transactions", &self.transactions.len())
            .field("gas_used", &self.gas_used)
            .finish_non_exhaustive()
    }
}

fn evm_error<E: std::fmt::Display>(err: EVMError<StateError, E>) -> BuildError {
    match err {
        EVMError::Database(e) => match e {
            StateError::Rpc(RpcError::Deadline { .. }) => BuildError::Deadline,
            other => BuildError::State(other),
        },
        other => BuildError::Evm(other.to_string()),
    }
}

/// go-ethereum's wording of the common consensus failures, revm's for the rest.
fn consensus_message(
    err: &InvalidTransaction,
    sender: Address,
    tx: &TxEnvelope,
    base_fee: u64,
) -> String {
    match err {
        InvalidTransaction::NonceTooLow { tx, state } => {
            format!("nonce too low: address {sender}, tx: {tx} state: {state}")
        }
        InvalidTransaction::NonceTooHigh { tx, state } => {
            format!("nonce too high: address {sender}, tx: {tx} state: {state}")
        }
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => format!(
            "insufficient funds for gas * price + value: address {sender} have {balance} want {fee}"
        ),
        InvalidTransaction::GasPriceLessThanBasefee => format!(
            "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {}, baseFee: {base_fee}",
            tx.max_fee_per_gas()
        ),
        InvalidTransaction::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => format!("intrinsic gas too low: have {gas_limit}, want {initial_gas}"),
        InvalidTransaction::RejectCallerWithCode => {
            format!("sender not an eoa: address {sender}")
        }
        other => other.to_string(),
    }
}

/// revm's form of a signed transaction from `caller`.
pub fn tx_env(tx: &TxEnvelope, caller: Address) -> TxEnv {
    let mut env = TxEnv {
        tx_type: tx.ty(),
        caller,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        blob_hashes: tx
            .blob_versioned_hashes()
            .map(<[B256]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or_default(),
        ..TxEnv::default()
    };
    if let Some(auths) = tx.authorization_list() {
        env.set_signed_authorization(auths.to_vec());
    }
    env
}

/// A mainnet EVM over `db` (revm's EVM is not `Send`, so one is made per step and the
/// state lives in the `CacheDB`).
fn new_evm<'a>(db: &'a mut Db, block: &BlockEnv, cfg: &CfgEnv) -> Evm<'a> {
    Context::<BlockEnv, TxEnv, CfgEnv, &'a mut Db>::new(db, cfg.spec)
        .with_cfg(cfg.clone())
        .with_block(block.clone())
        .build_mainnet()
}

impl Executor {
    /// An executor of the block `next` over `state`; every step checks `deadline`.
    pub fn new(next: NextBlock, state: RemoteState, deadline: Deadline) -> Self {
        Self {
            db: CacheDB::new(state),
            block_env: next.block_env(),
            cfg: next.cfg_env(),
            next,
            deadline,
            touched: BTreeMap::new(),
            transactions: Vec::new(),
            receipts: Vec::new(),
            gas_used: 0,
            blob_gas_used: 0,
        }
    }

    /// The block being executed.
    pub fn next(&self) -> &NextBlock {
        &self.next
    }

    /// Bounds later steps (and state fetches) by `deadline`.
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = deadline;
        self.db().db.set_deadline(deadline);
    }

    fn db(&mut self) -> &mut Db {
        &mut self.db
    }

    fn check_deadline(&self) -> Result<(), BuildError> {
        if self.deadline.expired() {
            Err(BuildError::Deadline)
        } else {
            Ok(())
        }
    }

    /// Records what `state` touched and commits it.
    fn commit(&mut self, state: EvmState) {
        for (address, account) in &state {
            if !account.is_touched() {
                continue;
            }
            let touch = self.touched.entry(*address).or_default();
            if account.is_created() || account.is_selfdestructed() {
                touch.cleared = true;
            }
            touch.slots.extend(
                account
                    .storage
                    .iter()
                    .filter(|(_, slot)| slot.is_changed())
                    .map(|(key, _)| *key),
            );
        }
        self.db().commit(state);
    }

    /// Declares `address` absent from the parent state without asking the node (a freshly
    /// generated coinbase key cannot have an account).
    pub fn assume_absent(&mut self, address: Address) {
        self.db
            .cache
            .accounts
            .entry(address)
            .or_insert_with(revm::database::DbAccount::new_not_existing);
    }

    /// Current balance of `address` in the block.
    pub fn balance(&mut self, address: Address) -> Result<U256, BuildError> {
        let account = self.db().load_account(address)?;
        Ok(account.info.balance)
    }

    /// Current nonce of `address` in the block.
    pub fn nonce(&mut self, address: Address) -> Result<u64, BuildError> {
        let account = self.db().load_account(address)?;
        Ok(account.info.nonce)
    }

    fn system_call(&mut self, call: &crate::env::SystemCall) -> Result<Bytes, BuildError> {
        self.check_deadline()?;
        let span = tracing::debug_span!("system_call", contract = %call.contract);
        let _entered = span.enter();
        if call.request_type.is_some() {
            // EIP-7002 / EIP-7251: a missing request contract makes the block invalid.
            let code_hash = self.db().load_account(call.contract)?.info.code_hash;
            if code_hash == KECCAK_EMPTY || code_hash.is_zero() {
                return Err(BuildError::SystemCall {
                    contract: call.contract,
                    reason: "no code at the system contract".into(),
                });
            }
        }
        let out = new_evm(&mut self.db, &self.block_env, &self.cfg)
            .system_call_with_caller(SYSTEM_ADDRESS, call.contract, call.data.clone())
            .map_err(evm_error)?;
        let mut state = out.state;
        state.remove(&SYSTEM_ADDRESS);
        state.remove(&self.next.beneficiary);
        let data = match out.result {
            ExecutionResult::Success { output, .. } => output.into_data(),
            ExecutionResult::Revert { output, .. } => {
                return Err(BuildError::SystemCall {
                    contract: call.contract,
                    reason: format!("reverted: {output}"),
                })
            }
            ExecutionResult::Halt { reason, .. } => {
                return Err(BuildError::SystemCall {
                    contract: call.contract,
                    reason: format!("halted: {reason:?}"),
                })
            }
        };
        self.commit(state);
        Ok(data)
    }

    /// Block-start system calls (EIP-4788, EIP-2935).
    pub fn apply_pre_block(&mut self) -> Result<(), BuildError> {
        for call in self.next.pre_block_calls() {
            self.system_call(&call)?;
        }
        Ok(())
    }

    /// Executes `tx` and includes it (reverted or not) unless it fails the consensus checks.
    /// `no_base_fee` waives the base-fee check for a zero-price transaction (go-ethereum's
    /// `NoBaseFee`, used by builder sessions).
    pub fn execute(&mut self, tx: &TxEnvelope, no_base_fee: bool) -> Result<Executed, TxFailure> {
        self.check_deadline()?;
        let hash = *tx.tx_hash();
        let span = tracing::debug_span!("execute_tx", %hash, index = self.transactions.len());
        let _entered = span.enter();
        let sender = tx
            .recover_signer()
            .map_err(|e| TxFailure::Invalid(format!("invalid sender: {e}")))?;
        if self.gas_used.saturating_add(tx.gas_limit()) > self.next.gas_limit {
            return Err(TxFailure::Invalid("gas limit reached".into()));
        }
        let blob_gas = tx.blob_gas_used().unwrap_or_default();
        if blob_gas > 0 && self.blob_gas_used.saturating_add(blob_gas) > self.next.max_blob_gas() {
            return Err(TxFailure::Invalid("blob gas limit reached".into()));
        }
        let mut cfg = self.cfg.clone();
        cfg.disable_base_fee = no_base_fee
            && tx.max_fee_per_gas() == 0
            && tx.max_priority_fee_per_gas().unwrap_or(0) == 0;
        let result = new_evm(&mut self.db, &self.block_env, &cfg).transact(tx_env(tx, sender));
        let out = match result {
            Ok(out) => out,
            Err(EVMError::Transaction(invalid)) => {
                return Err(TxFailure::Invalid(consensus_message(
                    &invalid,
                    sender,
                    tx,
                    self.next.base_fee,
                )))
            }
            Err(other) => return Err(TxFailure::Fatal(evm_error(other))),
        };
        let gas_used = out.result.tx_gas_used();
        let (success, logs) = match out.result {
            ExecutionResult::Success { logs, .. } => (true, logs),
            ExecutionResult::Revert { .. } | ExecutionResult::Halt { .. } => (false, Vec::new()),
        };
        self.commit(out.state);
        self.gas_used += gas_used;
        self.blob_gas_used += blob_gas;
        let receipt = Receipt {
            status: success.into(),
            cumulative_gas_used: self.gas_used,
            logs: logs.clone(),
        };
        let tx_type = TxType::try_from(tx.ty()).unwrap_or(TxType::Legacy);
        self.receipts
            .push(ReceiptEnvelope::from_typed(tx_type, receipt.with_bloom()));
        self.transactions.push(tx.clone());
        tracing::debug!(success, gas_used, "transaction included");
        Ok(Executed {
            hash,
            sender,
            success,
            gas_used,
            logs,
            effective_gas_price: tx.effective_gas_price(Some(self.next.base_fee)),
        })
    }

    /// Block-end work: Prague requests (deposits, EIP-7002, EIP-7251), then withdrawals.
    /// Returns the requests (Prague+).
    pub fn apply_post_block(&mut self) -> Result<Option<Requests>, BuildError> {
        let requests = if self.next.is(SpecId::PRAGUE) {
            let mut requests = Requests::default();
            let deposits = self.deposit_requests();
            requests.push_request_with_type(alloy_eips::eip6110::DEPOSIT_REQUEST_TYPE, deposits);
            for call in self.next.post_block_calls() {
                let data = self.system_call(&call)?;
                if let Some(ty) = call.request_type {
                    requests.push_request_with_type(ty, data);
                }
            }
            Some(requests)
        } else {
            None
        };
        let credits = self.next.withdrawal_credits();
        if !credits.is_empty() {
            let mut evm = new_evm(&mut self.db, &self.block_env, &self.cfg);
            let journal = &mut evm.ctx.journaled_state;
            for (address, amount) in credits {
                journal.balance_incr(address, amount).map_err(|e| match e {
                    StateError::Rpc(RpcError::Deadline { .. }) => BuildError::Deadline,
                    other => BuildError::State(other),
                })?;
                journal.touch_account(address);
            }
            let state = journal.finalize();
            drop(evm);
            self.commit(state);
        }
        Ok(requests)
    }

    /// EIP-6110 deposit request data from the receipts' logs of the deposit contract.
    fn deposit_requests(&self) -> Vec<u8> {
        let Some(contract) = self.next.deposit_contract else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for log in self.receipts.iter().flat_map(|r| r.logs()) {
            if log.address != contract || log.topics().first() != Some(&DEPOSIT_EVENT_TOPIC) {
                continue;
            }
            let d = &log.data.data;
            // Fixed ABI layout of DepositEvent(bytes,bytes,bytes,bytes,bytes).
            if d.len() != 576 {
                continue;
            }
            out.extend_from_slice(&d[192..240]); // pubkey
            out.extend_from_slice(&d[288..320]); // withdrawal credentials
            out.extend_from_slice(&d[352..360]); // amount (little endian)
            out.extend_from_slice(&d[416..512]); // signature
            out.extend_from_slice(&d[544..552]); // index (little endian)
        }
        out
    }

    /// The block's state changes, for the post-state root.
    pub fn updates(&mut self) -> Result<BTreeMap<Address, AccountUpdate>, BuildError> {
        let mut updates = BTreeMap::new();
        let touched = std::mem::take(&mut self.touched);
        for (address, touch) in &touched {
            let base = self.db().db.basic_ref(*address)?;
            let Some(account) = self.db().cache.accounts.get(address).cloned() else {
                continue;
            };
            let info = &account.info;
            let gone = account.account_state == AccountState::NotExisting
                || (info.nonce == 0
                    && info.balance.is_zero()
                    && (info.code_hash == KECCAK_EMPTY || info.code_hash.is_zero()));
            if gone {
                // EIP-161 / self-destruct: remove it if it existed before the block.
                if base.is_some() {
                    updates.insert(*address, AccountUpdate::Deleted);
                }
                continue;
            }
            let mut storage = BTreeMap::new();
            if touch.cleared {
                for (slot, value) in &account.storage {
                    if !value.is_zero() {
                        storage.insert(B256::from(*slot), *value);
                    }
                }
            } else {
                for slot in &touch.slots {
                    let new = account.storage.get(slot).copied().unwrap_or_default();
                    let old = self.db().db.storage_ref(*address, *slot)?;
                    if new != old {
                        storage.insert(B256::from(*slot), new);
                    }
                }
            }
            let unchanged = !touch.cleared
                && storage.is_empty()
                && base.as_ref().is_some_and(|b| {
                    b.nonce == info.nonce
                        && b.balance == info.balance
                        && b.code_hash == info.code_hash
                });
            if unchanged {
                continue;
            }
            updates.insert(
                *address,
                AccountUpdate::Updated {
                    nonce: info.nonce,
                    balance: info.balance,
                    code_hash: if info.code_hash.is_zero() {
                        KECCAK_EMPTY
                    } else {
                        info.code_hash
                    },
                    storage,
                    created: touch.cleared,
                },
            );
        }
        self.touched = touched;
        Ok(updates)
    }
}

/// A built block: everything the payload, the bid and the relay submission need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPayload {
    /// The sealed header.
    pub header: Header,
    /// Its hash (keccak of the RLP header).
    pub block_hash: B256,
    /// Transactions, in order (bundles, refunds, proposer payment).
    pub transactions: Vec<TxEnvelope>,
    /// Their receipts.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Withdrawals (`None` before Shanghai).
    pub withdrawals: Option<Vec<Withdrawal>>,
    /// EIP-7685 requests (Prague+).
    pub requests: Option<Requests>,
    /// The ephemeral coinbase.
    pub coinbase: Address,
    /// Recipient of the proposer payment (`args.feeRecipient`).
    pub fee_recipient: Address,
    /// Value paid to the proposer (0 when the profit did not cover the payment).
    pub block_value: U256,
}

impl BuiltPayload {
    fn parts(&self) -> PayloadParts<'_> {
        PayloadParts {
            header: &self.header,
            block_hash: self.block_hash,
            transactions: &self.transactions,
            withdrawals: self.withdrawals.as_deref(),
            block_value: self.block_value,
        }
    }

    /// suave-geth's `ExecutionPayloadEnvelope` (engine-API JSON, SUAVE-COMPAT §7.2).
    pub fn envelope(&self) -> crate::payload::ExecutionPayloadEnvelope {
        self.parts().envelope()
    }

    /// The envelope as JSON bytes.
    pub fn envelope_json(&self) -> Vec<u8> {
        // Serializing plain strings, hashes and vectors cannot fail.
        serde_json::to_vec(&self.envelope()).unwrap_or_default()
    }

    /// The deneb execution payload of a relay submission.
    pub fn execution_payload(&self) -> crate::bid::ExecutionPayload {
        crate::bid::ExecutionPayload::from_block(
            &self.header,
            self.transactions
                .iter()
                .map(|tx| Bytes::from(tx.encoded_2718()))
                .collect(),
            self.withdrawals.as_deref().unwrap_or_default(),
        )
    }

    /// The deneb execution payload of a relay submission as builder-specs JSON (snake_case,
    /// decimal strings), for `bid::submit_block_request`.
    pub fn deneb_payload_json(&self) -> serde_json::Value {
        serde_json::to_value(self.execution_payload()).unwrap_or_default()
    }

    /// The precompile-facing summary.
    pub fn to_built_block(&self) -> suave_precompiles_network::BuiltBlock {
        suave_precompiles_network::BuiltBlock {
            envelope_json: self.envelope_json().into(),
            parent_hash: self.header.parent_hash,
            block_hash: self.block_hash,
            gas_limit: self.header.gas_limit,
            gas_used: self.header.gas_used,
            block_value: self.block_value,
        }
    }
}

fn sign_legacy(
    key: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    value: U256,
    gas_price: u64,
) -> Result<TxEnvelope, BuildError> {
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: u128::from(gas_price),
        gas_limit: PAYMENT_GAS,
        to: TxKind::Call(to),
        value,
        input: Bytes::new(),
    };
    let sig = key
        .sign_hash_sync(&tx.signature_hash())
        .map_err(|e| BuildError::Signing(e.to_string()))?;
    Ok(TxEnvelope::Legacy(tx.into_signed(sig)))
}

/// Runs a bundle's transactions; see the module documentation for the failure rules.
fn apply_bundle(exec: &mut Executor, bundle: &SBundle, publish: bool) -> Result<(), BuildError> {
    for btx in &bundle.txs {
        let tx = &btx.tx;
        let hash = *tx.tx_hash();
        if publish && tx.blob_gas_used().unwrap_or_default() > 0 {
            return Err(BuildError::BlobTransaction { hash });
        }
        let executed = exec.execute(tx, false).map_err(|f| match f {
            TxFailure::Invalid(reason) => BuildError::TxFailed { hash, reason },
            TxFailure::Fatal(e) => e,
        })?;
        let allowed = bundle
            .reverting_hashes
            .as_ref()
            .is_some_and(|hashes| hashes.contains(&hash));
        if !executed.success && !allowed {
            return Err(BuildError::TxReverted { hash });
        }
    }
    Ok(())
}

/// Executes a coinbase transaction (refund or payment) that must succeed.
fn pay(exec: &mut Executor, what: &'static str, tx: &TxEnvelope) -> Result<(), BuildError> {
    match exec.execute(tx, false) {
        Ok(done) if done.success => Ok(()),
        Ok(_) => Err(BuildError::Payment {
            what,
            reason: "transaction reverted".into(),
        }),
        Err(TxFailure::Invalid(reason)) => Err(BuildError::Payment { what, reason }),
        Err(TxFailure::Fatal(e)) => Err(e),
    }
}

/// `simulateBundle`: `bundle` as a block on top of `fork`'s parent, coinbase = a fresh key,
/// no payment; block value = coinbase profit, gas = gas used by the bundle.
pub fn simulate_bundle(
    fork: &Fork,
    next: NextBlock,
    bundle: &SBundle,
) -> Result<BlockSimulation, BuildError> {
    let span = tracing::info_span!(
        "simulate_bundle",
        parent = fork.parent.header.number,
        txs = bundle.txs.len()
    );
    let _entered = span.enter();
    let coinbase = next.beneficiary;
    let mut exec = Executor::new(next, fork.state(), fork.rpc.deadline());
    exec.assume_absent(coinbase);
    exec.apply_pre_block()?;
    let before = exec.balance(coinbase)?;
    let gas_before = exec.gas_used;
    apply_bundle(&mut exec, bundle, false)?;
    let after = exec.balance(coinbase)?;
    let sim = BlockSimulation {
        block_value: after.saturating_sub(before),
        gas_used: exec.gas_used - gas_before,
    };
    tracing::info!(value = %sim.block_value, gas_used = sim.gas_used, "bundle simulated");
    Ok(sim)
}

/// `buildEthBlockFromBundles`: see the module documentation. `next.beneficiary` must be
/// `coinbase_key`'s address.
pub fn build_block(
    fork: &Fork,
    next: NextBlock,
    fee_recipient: Address,
    bundles: &[SBundle],
    coinbase_key: &PrivateKeySigner,
) -> Result<BuiltPayload, BuildError> {
    let span = tracing::info_span!(
        "build_block",
        parent = fork.parent.header.number,
        bundles = bundles.len(),
        %fee_recipient
    );
    let _entered = span.enter();
    let coinbase = coinbase_key.address();
    let chain_id = next.chain_id;
    let base_fee = next.base_fee;
    let transfer_cost = U256::from(PAYMENT_GAS) * U256::from(base_fee);
    let mut exec = Executor::new(next, fork.state(), fork.rpc.deadline());
    exec.apply_pre_block()?;
    let profit_pre = exec.balance(coinbase)?;

    for bundle in bundles {
        let pre_bundle = exec.balance(coinbase)?;
        apply_bundle(&mut exec, bundle, true)?;
        let post_bundle = exec.balance(coinbase)?;
        let Some(percent) = bundle.refund_percent.filter(|_| bundle.txs.len() > 1) else {
            continue;
        };
        if percent < 0 {
            return Err(BuildError::RefundPercent(percent));
        }
        let percent = if percent == 0 {
            DEFAULT_REFUND_PERCENT
        } else {
            percent
        };
        let bundle_profit = post_bundle.saturating_sub(pre_bundle);
        let share = bundle_profit / U256::from(percent as u64);
        if share <= transfer_cost {
            tracing::debug!(%share, "refund does not cover its transfer cost; skipped");
            continue;
        }
        let Some(first) = bundle.txs.first() else {
            continue;
        };
        let recipient = first.tx.recover_signer().map_err(|e| BuildError::Payment {
            what: "refund",
            reason: e.to_string(),
        })?;
        let nonce = exec.nonce(coinbase)?;
        let refund = sign_legacy(
            coinbase_key,
            chain_id,
            nonce,
            recipient,
            share - transfer_cost,
            base_fee,
        )?;
        pay(&mut exec, "refund", &refund)?;
    }

    let profit = exec.balance(coinbase)?.saturating_sub(profit_pre);
    let block_value = if profit > transfer_cost {
        let value = profit - transfer_cost;
        let nonce = exec.nonce(coinbase)?;
        let payment = sign_legacy(
            coinbase_key,
            chain_id,
            nonce,
            fee_recipient,
            value,
            base_fee,
        )?;
        pay(&mut exec, "proposer payment", &payment)?;
        value
    } else {
        tracing::info!(%profit, "profit does not cover the proposer payment; none made");
        U256::ZERO
    };

    let requests = exec.apply_post_block()?;
    let updates = exec.updates()?;
    let parent = &fork.parent;
    let accounts: Vec<(Address, Vec<B256>)> = updates
        .iter()
        .map(|(address, update)| {
            let slots = match update {
                AccountUpdate::Updated {
                    storage,
                    created: false,
                    ..
                } => storage.keys().copied().collect(),
                _ => Vec::new(),
            };
            (*address, slots)
        })
        .collect();
    let at = BlockId::Number(parent.header.number);
    let proofs = fork
        .rpc
        .proofs(&accounts, at, PROOF_BATCH)
        .map_err(proof_error)?;
    let state_root = state_root_revealing(fork, at, parent.header.state_root, proofs, &updates)?;

    let next = exec.next().clone();
    let mut logs_bloom = Bloom::ZERO;
    for receipt in &exec.receipts {
        logs_bloom |= *receipt.logs_bloom();
    }
    let withdrawals = next.withdrawals.clone();
    let header = Header {
        parent_hash: parent.hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: coinbase,
        state_root,
        transactions_root: calculate_transaction_root(&exec.transactions),
        receipts_root: calculate_receipt_root(&exec.receipts),
        logs_bloom,
        difficulty: U256::ZERO,
        number: next.number,
        gas_limit: next.gas_limit,
        gas_used: exec.gas_used,
        timestamp: next.timestamp,
        extra_data: next.extra_data.clone(),
        mix_hash: next.prev_randao,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(next.base_fee),
        withdrawals_root: withdrawals.as_deref().map(calculate_withdrawals_root),
        blob_gas_used: next.excess_blob_gas.map(|_| exec.blob_gas_used),
        excess_blob_gas: next.excess_blob_gas,
        parent_beacon_block_root: next.parent_beacon_block_root,
        requests_hash: requests.as_ref().map(Requests::requests_hash),
        ..Header::default()
    };
    let block_hash = header.hash_slow();
    tracing::info!(
        %block_hash,
        number = header.number,
        txs = exec.transactions.len(),
        gas_used = header.gas_used,
        value = %block_value,
        "block built"
    );
    Ok(BuiltPayload {
        header,
        block_hash,
        transactions: std::mem::take(&mut exec.transactions),
        receipts: std::mem::take(&mut exec.receipts),
        withdrawals,
        requests,
        coinbase,
        fee_recipient,
        block_value,
    })
}

/// An `eth_getProof` failure as a build error.
fn proof_error(err: RpcError) -> BuildError {
    match err {
        RpcError::Deadline { .. } => BuildError::Deadline,
        other => BuildError::Rpc(other),
    }
}

/// The state root after `updates` ([`trie::state_root_after`]); when a deletion collapses a
/// branch into a node `proofs` only reference by hash, fetches (at `at`) the proof of a key
/// whose path passes through that node (found by [`trie::find_probe`]), which reveals it, and
/// tries again, for at most [`PROBE_MAX_ROUNDS`] rounds. Standard JSON-RPC cannot fetch a node
/// by hash, but it proves any key, present or not.
fn state_root_revealing(
    fork: &Fork,
    at: BlockId,
    parent_root: B256,
    mut proofs: Vec<alloy_rpc_types_eth::EIP1186AccountProofResponse>,
    updates: &BTreeMap<Address, AccountUpdate>,
) -> Result<B256, BuildError> {
    let mut probed = std::collections::HashSet::new();
    let mut rounds = 0;
    loop {
        let blinded = match trie::state_root_after(parent_root, &proofs, updates) {
            Ok(root) => return Ok(root),
            Err(TrieError::BlindedNode(blinded)) => blinded,
            Err(err) => return Err(err.into()),
        };
        // A probe's proof always reveals its node: meeting it again means the node cannot be
        // revealed this way.
        if rounds >= PROBE_MAX_ROUNDS || !probed.insert(blinded) {
            return Err(TrieError::BlindedNode(blinded).into());
        }
        rounds += 1;
        if blinded.path.len() > PROBE_MAX_PATH_NIBBLES {
            tracing::warn!(
                trie = %blinded.trie,
                path_len = blinded.path.len(),
                "blinded node too deep to reveal with a probe key"
            );
            return Err(TrieError::BlindedNode(blinded).into());
        }
        let deadline = fork.rpc.deadline();
        if deadline.expired() {
            return Err(BuildError::Deadline);
        }
        let started = std::time::Instant::now();
        let found = trie::find_probe(&blinded, PROBE_MAX_ATTEMPTS, deadline.0);
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(
                    trie = %blinded.trie,
                    path_len = blinded.path.len(),
                    ms,
                    error = %e,
                    "no key found to reveal a blinded node"
                );
                return Err(match e {
                    trie::ProbeError::Deadline { .. } => BuildError::Deadline,
                    trie::ProbeError::Budget { .. } => TrieError::BlindedNode(blinded).into(),
                });
            }
        };
        tracing::info!(
            trie = %blinded.trie,
            path_len = blinded.path.len(),
            attempts = found.attempts,
            ms,
            round = rounds,
            "proving a probe key to reveal a blinded node"
        );
        let request = match found.probe {
            trie::Probe::Account(address) => (address, Vec::new()),
            trie::Probe::Storage { address, slot } => (address, vec![slot]),
        };
        proofs.extend(fork.rpc.proofs(&[request], at, 1).map_err(proof_error)?);
    }
}
