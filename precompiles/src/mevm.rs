//! [`Mevm`]: runs one confidential compute request and turns its result into what the node
//! needs (callback calldata, logs, gas, staged store writes) or a typed [`MevmError`].
//!
//! The run follows suave-geth's `runMEVM` (SUAVE-COMPAT §3.1, §3.6):
//!
//! 1. The request's message executes on the given state and block with the SUAVE precompiles
//!    active: caller = the recovered user ([`RequestKind::Transaction`]) or the zero address
//!    ([`RequestKind::Call`]); gas = the request's gas, bounded by the block gas limit;
//!    intrinsic gas charged; nonce and sender-code checks skipped. Nothing is committed: the
//!    state changes are dropped with the EVM, store writes are returned for the node to commit.
//! 2. A failed run is an error: [`MevmError::Reverted`] (with suave-geth's rewrite of
//!    `PeekerReverted` revert data) or [`MevmError::Halted`].
//! 3. Empty return data from a target without code: [`MevmError::TargetDoesNotExist`].
//! 4. Any `SSTORE` into the target's storage: [`MevmError::StateStorageModified`].
//! 5. Otherwise the callback calldata is derived ([`crate::callback`]) and the logs appended.
//!
//! Execution is bounded by the request's gas limit; network precompiles (external crate)
//! bound their own wall-clock time.

use alloy_primitives::{Address, Bytes, Log, TxKind};
use kettle_primitives::ConfidentialComputeRequest;
use revm::{
    context::TxEnv,
    context_interface::result::{
        EVMError, ExecutionResult, HaltReason, InvalidTransaction, OutOfGasError,
    },
    handler::ExecuteEvm,
    Database,
};

use crate::{
    builtin::{self, RequestEnv},
    callback::{self, PeekerRevert},
    context::{BlockContext, KettleContext},
    evm::{Relaxations, SuaveEvm, SPEC},
    external::ExternalPrecompiles,
    provider::SuavePrecompiles,
    store::{ConfidentialStore, StoreLimits, StoreOverlay, StoreWriteSet},
};

/// Which entry point a request came through; it decides the sender and the fee checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `eth_sendRawTransaction` of a `0x43`: the sender is the user recovered from the
    /// request's signature; the gas price must cover the block base fee and the sender's
    /// balance must cover `gas · gasPrice + value` (the state change itself is discarded).
    Transaction {
        /// The recovered user.
        sender: Address,
    },
    /// Confidential `eth_call` / `eth_estimateGas`: the sender is the zero address (suave-geth
    /// ignores `from`), no base-fee check, no balance requirement.
    Call,
}

impl RequestKind {
    fn sender(self) -> Address {
        match self {
            Self::Transaction { sender } => sender,
            Self::Call => Address::ZERO,
        }
    }
}

/// What a successful confidential run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialOutcome {
    /// Calldata of the kettle's `0x50` transaction: the callback rule applied to
    /// [`raw_return`](Self::raw_return), with the `0x543543` log carrier appended when the run
    /// emitted logs.
    pub callback_calldata: Bytes,
    /// The top-level return data: what confidential `eth_call` returns.
    pub raw_return: Bytes,
    /// Logs the run emitted, in order (reverted frames excluded). They are carried in the
    /// calldata; nothing is emitted on chain by the kettle itself.
    pub logs: Vec<Log>,
    /// Gas used by the run (intrinsic gas included, after refunds).
    pub gas_used: u64,
    /// Records created and values written, for the node to commit if it accepts the request.
    pub store_writes: StoreWriteSet,
}

/// Why a confidential request produced no outcome. `Display` is suave-geth's message (for
/// `eth_sendRawTransaction` the RPC layer prefixes execution failures with
/// `transaction failed: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MevmError {
    /// The run reverted. `Display` is `execution reverted`, or, when the revert data is a
    /// well-formed `PeekerReverted`, `execution reverted: precompile '<EIP-55 address>'
    /// reverted: '<message>'`.
    #[error("{}", revert_message(.peeker.as_ref()))]
    Reverted {
        /// Revert data (what confidential `eth_call` returns as error data).
        output: Bytes,
        /// Gas used.
        gas_used: u64,
        /// The failed precompile, if the revert data is `Suave.sol`'s `PeekerReverted`.
        peeker: Option<PeekerRevert>,
    },
    /// The run halted (out of gas, invalid opcode, …); all gas is consumed.
    #[error("{reason}")]
    Halted {
        /// go-ethereum's wording of the halt.
        reason: String,
        /// Gas used.
        gas_used: u64,
    },
    /// Empty return data and no code at the target (also hit by requests sent directly to a
    /// precompile that returns nothing, e.g. `confidentialStore`).
    #[error("target contract does not exist")]
    TargetDoesNotExist,
    /// The run executed an `SSTORE` into its target's storage.
    #[error("confidential request cannot modify state storage")]
    StateStorageModified,
    /// The request has no `to` (contract creation); suave-geth crashes on these.
    #[error("confidential request without a target contract: contract creation is not supported")]
    NoTarget,
    /// The message is invalid before execution (gas, fees, balance): suave-geth's
    /// `err: <reason> (supplied gas N)`.
    #[error("err: {reason} (supplied gas {supplied_gas})")]
    Invalid {
        /// go-ethereum's wording where it has one, revm's otherwise.
        reason: String,
        /// The request's gas.
        supplied_gas: u64,
    },
    /// The chain state could not be read.
    #[error("state database error: {0}")]
    Database(String),
    /// revm failed internally; a bug, not a property of the request.
    #[error("internal EVM error: {0}")]
    Internal(String),
    /// The run was still executing when its wall-clock limit ([`Mevm::with_time_limit`])
    /// passed, and was stopped.
    #[error("execution time limit reached: the run was stopped after {limit_ms} ms")]
    TimedOut {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
}

fn revert_message(peeker: Option<&PeekerRevert>) -> String {
    match peeker {
        Some(p) => format!("execution reverted: {}", p.describe()),
        None => "execution reverted".to_string(),
    }
}

impl MevmError {
    /// The revert reason of `Error(string)` revert data, for the `execution reverted: <reason>`
    /// message of confidential `eth_call`.
    pub fn revert_reason(&self) -> Option<String> {
        use alloy_sol_types::{Revert, SolError};
        match self {
            Self::Reverted { output, .. } => Revert::abi_decode(output).ok().map(|r| r.reason),
            _ => None,
        }
    }

    /// The error as a log line may show it: a revert keeps the failed precompile but not its
    /// message or the revert data (SUAPP code and precompile errors can put confidential
    /// inputs or stored values there; the request's sender still gets them over RPC).
    pub fn redacted(&self) -> String {
        match self {
            Self::Reverted {
                peeker: Some(p), ..
            } => format!(
                "execution reverted: precompile '{}' reverted (message of {} bytes withheld)",
                p.precompile.to_checksum(None),
                p.message.len()
            ),
            Self::Reverted { output, .. } => format!(
                "execution reverted ({} bytes of revert data withheld)",
                output.len()
            ),
            other => other.to_string(),
        }
    }
}

/// The MEVM of one kettle: executes confidential requests. Cheap to build per request.
pub struct Mevm<'a> {
    kettle: &'a KettleContext,
    store: &'a dyn ConfidentialStore,
    external: Option<&'a dyn ExternalPrecompiles>,
    store_limits: StoreLimits,
    time_limit: Option<std::time::Duration>,
}

impl std::fmt::Debug for Mevm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mevm")
            .field("kettle", &self.kettle)
            .field("external", &self.external.is_some())
            .field("store_limits", &self.store_limits)
            .field("time_limit", &self.time_limit)
            .finish_non_exhaustive()
    }
}

impl<'a> Mevm<'a> {
    /// A MEVM for `kettle` over the committed confidential `store`, with default
    /// [`StoreLimits`] and no external precompiles (network and builder precompiles then
    /// revert with a "not configured" message).
    pub fn new(kettle: &'a KettleContext, store: &'a dyn ConfidentialStore) -> Self {
        Self {
            kettle,
            store,
            external: None,
            store_limits: StoreLimits::default(),
            time_limit: None,
        }
    }

    /// Plugs in the network and builder precompiles.
    pub fn with_external(mut self, external: &'a dyn ExternalPrecompiles) -> Self {
        self.external = Some(external);
        self
    }

    /// Bounds what one request may stage in the store.
    pub fn with_store_limits(mut self, limits: StoreLimits) -> Self {
        self.store_limits = limits;
        self
    }

    /// Bounds the wall-clock time of each run: a run still executing `limit` after it started
    /// is stopped at its next loop iteration and fails with [`MevmError::TimedOut`]. (A
    /// precompile call in progress, e.g. an HTTP request, finishes first; those have their
    /// own timeouts.)
    pub fn with_time_limit(mut self, limit: std::time::Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Executes `request` on state `db` and block `block`. Never commits anything: state
    /// changes are discarded, store writes are returned in the outcome.
    pub fn execute<DB: Database>(
        &self,
        db: DB,
        block: &BlockContext,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        let span = tracing::info_span!(
            "mevm",
            to = ?request.record.to,
            gas = request.record.gas,
            kettle = %request.record.kettle_address,
            call = matches!(kind, RequestKind::Call),
        );
        let _enter = span.enter();
        let result = self.execute_inner(db, block, request, kind);
        match &result {
            Ok(outcome) => tracing::debug!(
                gas_used = outcome.gas_used,
                logs = outcome.logs.len(),
                records = outcome.store_writes.records.len(),
                writes = outcome.store_writes.writes.len(),
                "confidential request succeeded"
            ),
            Err(err) => tracing::debug!(error = %err.redacted(), "confidential request failed"),
        }
        result
    }

    fn execute_inner<DB: Database>(
        &self,
        db: DB,
        block: &BlockContext,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        let record = &request.record;
        let to = record.to.ok_or(MevmError::NoTarget)?;
        let sender = kind.sender();
        let supplied_gas = record.gas;
        let invalid = |reason: String| MevmError::Invalid {
            reason,
            supplied_gas,
        };
        let gas_price = u128::try_from(record.gas_price)
            .map_err(|_| invalid("gas price exceeds 128 bits".to_string()))?;

        let env = RequestEnv::new(
            request,
            self.kettle,
            StoreOverlay::new(self.store, self.store_limits),
            self.external,
        );
        let relax = Relaxations {
            skip_account_checks: true,
            no_base_fee: kind == RequestKind::Call,
            no_balance_check: kind == RequestKind::Call,
        };
        let mut evm = SuaveEvm::build(
            db,
            block,
            self.kettle.chain_id,
            SuavePrecompiles::confidential(SPEC, env),
            Some(to),
            relax,
        );
        if let Some(limit) = self.time_limit {
            if let Some(deadline) = std::time::Instant::now().checked_add(limit) {
                evm = evm.with_deadline(deadline);
            }
        }
        let tx = TxEnv {
            tx_type: 0,
            caller: sender,
            gas_limit: record.gas,
            gas_price,
            kind: TxKind::Call(to),
            value: record.value,
            data: record.data.clone(),
            nonce: record.nonce,
            chain_id: None,
            ..Default::default()
        };

        let executed = evm.transact(tx);
        let guard = evm.storage_guard();
        if guard.timed_out {
            return Err(MevmError::TimedOut {
                limit_ms: self
                    .time_limit
                    .map_or(0, |l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
            });
        }
        let executed = match executed {
            Ok(executed) => executed,
            Err(err) => {
                return Err(match err {
                    EVMError::Transaction(tx_err) => {
                        invalid(describe_invalid(&tx_err, sender, gas_price, block.basefee))
                    }
                    EVMError::Header(h) => invalid(h.to_string()),
                    EVMError::Database(db_err) => MevmError::Database(db_err.to_string()),
                    EVMError::Custom(msg) => MevmError::Internal(msg),
                    other => MevmError::Internal(other.to_string()),
                })
            }
        };

        let (raw_return, logs, gas_used) = match executed.result {
            ExecutionResult::Success {
                output, logs, gas, ..
            } => (output.into_data(), logs, gas.tx_gas_used()),
            ExecutionResult::Revert { output, gas, .. } => {
                return Err(MevmError::Reverted {
                    peeker: PeekerRevert::parse(&output),
                    output,
                    gas_used: gas.tx_gas_used(),
                })
            }
            ExecutionResult::Halt { reason, gas, .. } => {
                return Err(MevmError::Halted {
                    reason: describe_halt(&reason),
                    gas_used: gas.tx_gas_used(),
                })
            }
        };

        if raw_return.is_empty() && !builtin::returns_data(to) {
            let has_code = match executed.state.get(&to) {
                Some(account) => !account.info.is_empty_code_hash(),
                None => evm
                    .db_mut()
                    .basic(to)
                    .map_err(|e| MevmError::Database(e.to_string()))?
                    .is_some_and(|info| !info.is_empty_code_hash()),
            };
            if !has_code {
                return Err(MevmError::TargetDoesNotExist);
            }
        }
        if guard.written {
            return Err(MevmError::StateStorageModified);
        }

        let (_db, precompiles) = evm.into_parts();
        let store_writes = precompiles
            .into_env()
            .map(|env| env.store.into_write_set())
            .unwrap_or_default();
        let callback_calldata =
            callback::append_logs(callback::callback_calldata(&raw_return), &logs);
        Ok(ConfidentialOutcome {
            callback_calldata,
            raw_return,
            logs,
            gas_used,
            store_writes,
        })
    }
}

/// go-ethereum's wording of pre-execution failures where it differs from revm's.
fn describe_invalid(
    err: &InvalidTransaction,
    sender: Address,
    gas_price: u128,
    basefee: u64,
) -> String {
    match err {
        InvalidTransaction::CallerGasLimitMoreThanBlock => "gas limit reached".to_string(),
        InvalidTransaction::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => format!("intrinsic gas too low: have {gas_limit}, want {initial_gas}"),
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => format!(
            "insufficient funds for gas * price + value: address {sender} have {balance} want {fee}"
        ),
        InvalidTransaction::GasPriceLessThanBasefee => format!(
            "max fee per gas less than block base fee: address {sender}, maxFeePerGas: {gas_price}, baseFee: {basefee}"
        ),
        other => other.to_string(),
    }
}

/// go-ethereum's wording of an exceptional halt.
fn describe_halt(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(OutOfGasError::Precompile) | HaltReason::OutOfGas(_) => {
            "out of gas".into()
        }
        HaltReason::OpcodeNotFound | HaltReason::NotActivated => "invalid opcode".into(),
        HaltReason::InvalidFEOpcode => "invalid opcode: INVALID".into(),
        HaltReason::InvalidJump => "invalid jump destination".into(),
        HaltReason::StackUnderflow => "stack underflow".into(),
        HaltReason::StackOverflow => "stack limit reached 1024".into(),
        HaltReason::OutOfOffset => "return data out of bounds".into(),
        HaltReason::CreateCollision => "contract address collision".into(),
        HaltReason::NonceOverflow => "nonce uint64 overflow".into(),
        HaltReason::CreateContractSizeLimit => "max code size exceeded".into(),
        HaltReason::CreateContractStartingWithEF => "invalid code: must not begin with 0xef".into(),
        HaltReason::CreateInitCodeSizeLimit => "max initcode size exceeded".into(),
        HaltReason::StateChangeDuringStaticCall | HaltReason::CallNotAllowedInsideStatic => {
            "write protection".into()
        }
        HaltReason::OutOfFunds => "insufficient balance for transfer".into(),
        HaltReason::CallTooDeep => "max call depth exceeded".into(),
        HaltReason::PrecompileErrorWithContext(msg) => msg.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;
    use alloy_primitives::{Address, Bytes};

    #[test]
    fn redacted_errors_show_no_revert_message_or_data() {
        let secret = b"X-Api-Key sk-123456 (no colon)";
        let peeker = PeekerRevert {
            precompile: Address::with_last_byte(2),
            message: Bytes::from_static(secret),
        };
        let with_peeker = MevmError::Reverted {
            output: Bytes::from_static(secret),
            gas_used: 1,
            peeker: Some(peeker),
        };
        // The sender's error keeps suave-geth's message; the log line does not.
        assert!(with_peeker.to_string().contains("sk-123456"));
        let line = with_peeker.redacted();
        assert!(!line.contains("sk-123456"), "{line}");
        assert!(
            line.contains("0x0000000000000000000000000000000000000002"),
            "{line}"
        );
        let raw = MevmError::Reverted {
            output: Bytes::from_static(secret),
            gas_used: 1,
            peeker: None,
        };
        assert_eq!(
            raw.redacted(),
            format!(
                "execution reverted ({} bytes of revert data withheld)",
                secret.len()
            )
        );
        let other = MevmError::TargetDoesNotExist;
        assert_eq!(other.redacted(), other.to_string());
    }
}
