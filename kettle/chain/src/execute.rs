//! Executing a block's transactions on revm and collecting the resulting state changes.
//!
//! SUAVE chain rules (SUAVE-COMPAT §2): the Shanghai opcode table (PUSH0, no Cancun opcodes),
//! London base fee where the genesis enables it. A `0x50` SuaveTransaction executes as a
//! legacy-priced call from the user with the kettle's result as calldata.

use std::collections::BTreeMap;

use alloy_consensus::{Header, Transaction as _};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use kettle_primitives::SuaveTxEnvelope;
use revm::{
    context::{result::ExecutionResult, TxEnv},
    context_interface::result::EVMError,
    database::{AccountState, CacheDB},
    primitives::{hardfork::SpecId, KECCAK_EMPTY},
    ExecuteCommitEvm,
};
use suave_precompiles::SuaveEvm;

use crate::{
    db::StoredAccount,
    state::StateView,
    types::{StoredReceipt, StoredTx},
    ChainError,
};

/// The EVM rule set of the SUAVE chain.
pub const SUAVE_SPEC: SpecId = suave_precompiles::evm::SPEC;

/// A transaction turned into revm's form, or why it cannot be.
pub fn tx_env(tx: &StoredTx, env: &SuaveTxEnvelope) -> Result<TxEnv, String> {
    match env {
        SuaveTxEnvelope::Ethereum(eth) => {
            let ty = eth.tx_type() as u8;
            if ty > 2 {
                return Err("transaction type not supported".into());
            }
            Ok(TxEnv {
                tx_type: ty,
                caller: tx.sender,
                gas_limit: eth.gas_limit(),
                gas_price: if ty == 2 {
                    eth.max_fee_per_gas()
                } else {
                    eth.gas_price().unwrap_or_default()
                },
                kind: eth.kind(),
                value: eth.value(),
                data: eth.input().clone(),
                nonce: eth.nonce(),
                chain_id: eth.chain_id(),
                access_list: eth.access_list().cloned().unwrap_or_default(),
                gas_priority_fee: if ty == 2 {
                    eth.max_priority_fee_per_gas()
                } else {
                    None
                },
                ..Default::default()
            })
        }
        SuaveTxEnvelope::Suave(stx) => {
            let r = &stx.record;
            let gas_price =
                u128::try_from(r.gas_price).map_err(|_| "gas price too high".to_string())?;
            Ok(TxEnv {
                tx_type: 0,
                caller: tx.sender,
                gas_limit: r.gas,
                gas_price,
                kind: r.to.map_or(TxKind::Create, TxKind::Call),
                value: r.value,
                data: stx.confidential_compute_result.clone(),
                nonce: r.nonce,
                chain_id: None,
                ..Default::default()
            })
        }
        SuaveTxEnvelope::ConfidentialRequest(_) => {
            Err("a confidential compute request cannot be included on chain".into())
        }
    }
}

/// Block-level values the EVM sees.
#[derive(Debug, Clone)]
pub struct BlockContext {
    /// Block number.
    pub number: u64,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// Coinbase.
    pub beneficiary: Address,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee (0 before London).
    pub base_fee: u64,
    /// Chain id.
    pub chain_id: u64,
}

impl BlockContext {
    /// The context of the block that follows `parent`.
    pub fn child_of(
        parent: &Header,
        timestamp: u64,
        beneficiary: Address,
        chain_id: u64,
        london: bool,
    ) -> Self {
        let base_fee = if london {
            parent
                .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
                .unwrap_or(crate::spec::INITIAL_BASE_FEE)
        } else {
            0
        };
        Self {
            number: parent.number + 1,
            // Never before the parent, but equal is allowed (Clique with period 0, as
            // suave-geth's dev chain): a busy kettle seals many blocks a second, and forcing
            // one second per block would run the chain's clock ahead of the wall clock (hours
            // ahead after an hour of load), which SUAPPs reading `block.timestamp` would see.
            timestamp: timestamp.max(parent.timestamp),
            beneficiary,
            gas_limit: parent.gas_limit,
            base_fee,
            chain_id,
        }
    }
}

/// The MEVM/EVM block context of a read on top of `header` (confidential requests and
/// `eth_call` run on the head block's context, as suave-geth does).
pub fn head_block_context(header: &Header) -> suave_precompiles::BlockContext {
    suave_precompiles::BlockContext {
        number: header.number,
        timestamp: header.timestamp,
        basefee: header.base_fee_per_gas.unwrap_or_default(),
        gas_limit: header.gas_limit,
        coinbase: header.beneficiary,
        difficulty: header.difficulty,
    }
}

/// What executing a block's transactions produced.
#[derive(Debug, Default)]
pub struct ExecutedTxs {
    /// Included transactions, in order.
    pub transactions: Vec<StoredTx>,
    /// Their receipts.
    pub receipts: Vec<StoredReceipt>,
    /// Transactions dropped as invalid against the current state, with the reason.
    pub rejected: Vec<(B256, String)>,
    /// Transactions left for a later block (block full).
    pub deferred: Vec<StoredTx>,
    /// Total gas used.
    pub gas_used: u64,
    /// Resulting state changes.
    pub changes: StateChanges,
}

/// State changes of a block, by account.
#[derive(Debug, Default)]
pub struct StateChanges {
    /// Changed or created accounts (`None` = deleted), with storage changes.
    pub accounts: BTreeMap<Address, Option<AccountChange>>,
    /// New contract code by hash.
    pub code: BTreeMap<B256, Bytes>,
}

/// The new state of one account.
#[derive(Debug, Clone)]
pub struct AccountChange {
    /// New nonce.
    pub nonce: u64,
    /// New balance.
    pub balance: U256,
    /// New code hash.
    pub code_hash: B256,
    /// Whether all earlier storage is gone (created or recreated account).
    pub storage_cleared: bool,
    /// Slots written (zero = deleted).
    pub storage: BTreeMap<U256, U256>,
}

/// Runs `candidates` in order on top of `view`, skipping those that are invalid now.
pub fn execute(
    view: &StateView<'_>,
    block: &BlockContext,
    candidates: Vec<StoredTx>,
) -> Result<ExecutedTxs, ChainError> {
    let block_ctx = suave_precompiles::BlockContext {
        number: block.number,
        timestamp: block.timestamp,
        basefee: block.base_fee,
        gas_limit: block.gas_limit,
        coinbase: block.beneficiary,
        difficulty: U256::from(1u64),
    };
    let mut evm = SuaveEvm::on_chain(CacheDB::new(view), &block_ctx, block.chain_id);

    let mut out = ExecutedTxs::default();
    for tx in candidates {
        let hash = tx.hash();
        let env = match tx
            .envelope()
            .and_then(|e| tx_env(&tx, &e).map_err(ChainError::Execution))
        {
            Ok(env) => env,
            Err(err) => {
                out.rejected.push((hash, err.to_string()));
                continue;
            }
        };
        if out.gas_used + env.gas_limit > block.gas_limit {
            out.deferred.push(tx);
            continue;
        }
        let tx_type = tx.raw().first().copied().filter(|b| *b < 0x7f).unwrap_or(0);
        match evm.transact_commit(env) {
            Ok(result) => {
                let gas = result.tx_gas_used();
                out.gas_used += gas;
                let (success, logs) = match result {
                    ExecutionResult::Success { logs, .. } => (true, logs),
                    ExecutionResult::Revert { .. } | ExecutionResult::Halt { .. } => {
                        (false, vec![])
                    }
                };
                out.receipts.push(StoredReceipt {
                    tx_type,
                    success,
                    cumulative_gas_used: out.gas_used,
                    logs,
                });
                out.transactions.push(tx);
            }
            Err(EVMError::Transaction(invalid)) => out.rejected.push((hash, invalid.to_string())),
            Err(EVMError::Header(h)) => return Err(ChainError::Execution(h.to_string())),
            Err(EVMError::Database(db)) => return Err(db),
            Err(other) => return Err(ChainError::Execution(other.to_string())),
        }
    }

    let db = evm.db_mut();
    for (address, account) in &db.cache.accounts {
        let change = match account.account_state {
            AccountState::None => continue,
            AccountState::NotExisting => None,
            AccountState::Touched | AccountState::StorageCleared => {
                let info = &account.info;
                let empty =
                    info.nonce == 0 && info.balance.is_zero() && info.code_hash == KECCAK_EMPTY;
                if empty && account.storage.values().all(|v| v.is_zero()) {
                    None // EIP-161: touched empty accounts are removed
                } else {
                    Some(AccountChange {
                        nonce: info.nonce,
                        balance: info.balance,
                        code_hash: info.code_hash,
                        storage_cleared: account.account_state == AccountState::StorageCleared,
                        storage: account.storage.iter().map(|(k, v)| (*k, *v)).collect(),
                    })
                }
            }
        };
        out.changes.accounts.insert(*address, change);
    }
    for (hash, code) in &db.cache.contracts {
        if *hash != KECCAK_EMPTY && !code.is_empty() {
            out.changes.code.insert(*hash, code.original_bytes());
        }
    }
    Ok(out)
}

impl AccountChange {
    /// The stored form of this account given its new storage root.
    pub(crate) fn stored(&self, address: Address, storage_root: B256) -> StoredAccount {
        StoredAccount {
            address,
            nonce: self.nonce,
            balance: self.balance,
            code_hash: self.code_hash,
            storage_root,
        }
    }
}
