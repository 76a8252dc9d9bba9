//! Read-only execution against the head state: `eth_call` and `eth_estimateGas`.

use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use revm::{
    context::{result::ExecutionResult, TxEnv},
    context_interface::result::EVMError,
    database::CacheDB,
    ExecuteEvm,
};
use suave_precompiles::SuaveEvm;

use crate::{Chain, ChainError};

/// Upper bound of gas for calls (also bounded by the block gas limit).
pub const CALL_GAS_CAP: u64 = 50_000_000;

/// A message to execute without a signature, as `eth_call` and `eth_estimateGas` take it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Sender (zero address if absent).
    pub from: Option<Address>,
    /// Target; `None` executes `data` as initcode.
    pub to: Option<Address>,
    /// Gas limit (block gas limit if absent; never above it or [`CALL_GAS_CAP`]).
    pub gas: Option<u64>,
    /// Gas price (0 if absent: no fee is charged and no balance is needed).
    pub gas_price: Option<u128>,
    /// Value sent.
    pub value: Option<U256>,
    /// Calldata or initcode.
    pub data: Bytes,
}

/// What a read-only execution produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// Ran to completion.
    Success {
        /// Return data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
        /// Logs emitted.
        logs: Vec<Log>,
    },
    /// Reverted with `output` as revert data.
    Revert {
        /// Revert data.
        output: Bytes,
        /// Gas used.
        gas_used: u64,
    },
    /// Stopped by an exceptional halt (out of gas, invalid opcode, ...).
    Halt {
        /// Why.
        reason: String,
        /// Gas used.
        gas_used: u64,
    },
}

/// Why a call could not run at all (as opposed to running and reverting).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The message is invalid for the current state (funds, gas, ...).
    #[error("{0}")]
    Invalid(String),
    /// The chain's storage failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl Chain {
    /// Executes `req` on the head state and discards the changes.
    pub fn call(&self, req: &CallRequest) -> Result<CallOutcome, CallError> {
        let (_, head) = self.head();
        let view = self.state();
        let gas_limit = req
            .gas
            .unwrap_or(head.gas_limit)
            .min(head.gas_limit)
            .min(CALL_GAS_CAP);
        let tx_price = req.gas_price.unwrap_or(0);
        let tx = TxEnv {
            tx_type: 0,
            caller: req.from.unwrap_or_default(),
            gas_limit,
            gas_price: tx_price,
            kind: req.to.map_or(TxKind::Create, TxKind::Call),
            value: req.value.unwrap_or_default(),
            data: req.data.clone(),
            // Calls are not held to the sender's nonce: use the current one.
            nonce: view
                .account(&req.from.unwrap_or_default())?
                .map_or(0, |a| a.nonce),
            chain_id: None,
            ..Default::default()
        };
        let mut block = crate::execute::head_block_context(&head);
        if tx_price == 0 {
            // As geth's eth_call: an unpriced call is not held to the base fee.
            block.basefee = 0;
        }
        let mut evm = SuaveEvm::on_chain(CacheDB::new(&view), &block, self.chain_id());
        let result = evm.transact(tx).map_err(|e| match e {
            EVMError::Transaction(t) => CallError::Invalid(t.to_string()),
            EVMError::Database(db) => CallError::Chain(db),
            other => CallError::Invalid(other.to_string()),
        })?;
        let gas_used = result.result.tx_gas_used();
        Ok(match result.result {
            ExecutionResult::Success { output, logs, .. } => CallOutcome::Success {
                output: output.into_data(),
                gas_used,
                logs,
            },
            ExecutionResult::Revert { output, .. } => CallOutcome::Revert { output, gas_used },
            ExecutionResult::Halt { reason, .. } => CallOutcome::Halt {
                reason: format!("{reason:?}"),
                gas_used,
            },
        })
    }

    /// The smallest gas limit with which `req` succeeds (binary search, as geth does), or
    /// the outcome of the failing run at the cap.
    pub fn estimate_gas(&self, req: &CallRequest) -> Result<Result<u64, CallOutcome>, CallError> {
        let head_limit = self.head().1.gas_limit;
        let cap = req
            .gas
            .unwrap_or(head_limit)
            .min(head_limit)
            .min(CALL_GAS_CAP);
        let run = |gas: u64| {
            self.call(&CallRequest {
                gas: Some(gas),
                ..req.clone()
            })
        };
        let first = run(cap)?;
        let used = match &first {
            CallOutcome::Success { gas_used, .. } => *gas_used,
            _ => return Ok(Err(first)),
        };
        // Gas used is a lower bound; refunds and the 63/64 rule may need more.
        let (mut lo, mut hi) = (used.saturating_sub(1), cap);
        if matches!(run(used)?, CallOutcome::Success { .. }) {
            return Ok(Ok(used));
        }
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            match run(mid) {
                Ok(CallOutcome::Success { .. }) => hi = mid,
                Ok(_) | Err(CallError::Invalid(_)) => lo = mid,
                Err(e) => return Err(e),
            }
        }
        Ok(Ok(hi))
    }
}
