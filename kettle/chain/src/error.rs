//! Errors of the SUAVE chain.

use alloy_primitives::B256;

/// Why a chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// RocksDB failed (I/O, corruption).
    #[error("chain database: {0}")]
    Db(#[from] rocksdb::Error),
    /// Stored bytes did not decode: the database is corrupt or from an incompatible version.
    #[error("corrupt chain data in {what}: {detail}")]
    Corrupt {
        /// Which record failed to decode.
        what: &'static str,
        /// Decoder message.
        detail: String,
    },
    /// The data dir holds a different chain than the configured genesis.
    #[error("data dir holds genesis {stored}, but the configured genesis is {configured}")]
    GenesisMismatch {
        /// Genesis hash found in the data dir.
        stored: B256,
        /// Genesis hash of the configuration.
        configured: B256,
    },
    /// The genesis configuration is unusable.
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    /// The EVM failed for a reason that is not the transaction's fault.
    #[error("block execution: {0}")]
    Execution(String),
}

impl ChainError {
    pub(crate) fn corrupt(what: &'static str, detail: impl ToString) -> Self {
        Self::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}

/// Why the mempool refused a transaction. Messages follow geth's so clients recognise them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The same transaction is already pending.
    #[error("already known")]
    AlreadyKnown,
    /// The nonce is below the sender's account nonce.
    #[error("nonce too low: next nonce {expected}, tx nonce {got}")]
    NonceTooLow {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce too high: next nonce {expected}, tx nonce {got}")]
    NonceTooHigh {
        /// The sender's next nonce (including pending transactions).
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// A pending transaction with this nonce pays at least as much.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The sender cannot pay `gas * price + value`.
    #[error("insufficient funds for gas * price + value: have {have} want {want}")]
    InsufficientFunds {
        /// Balance of the sender.
        have: alloy_primitives::U256,
        /// What the transaction may cost.
        want: alloy_primitives::U256,
    },
    /// The gas limit is below the intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        have: u64,
        /// Its intrinsic gas.
        want: u64,
    },
    /// The gas limit exceeds the block gas limit.
    #[error("exceeds block gas limit")]
    GasLimitExceeded,
    /// The fee cap is below the current base fee.
    #[error(
        "max fee per gas less than block base fee: maxFeePerGas: {fee_cap}, baseFee: {base_fee}"
    )]
    FeeCapTooLow {
        /// Fee cap (or gas price) of the transaction.
        fee_cap: u128,
        /// Base fee of the next block.
        base_fee: u64,
    },
    /// The tip is above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The transaction type is not accepted on chain (a 0x43 request must go through the
    /// confidential pipeline; blob and 7702 transactions do not exist on SUAVE).
    #[error("transaction type not supported")]
    UnsupportedType,
    /// The transaction is for another chain.
    #[error("invalid chain id for signer: have {have} want {want}")]
    WrongChainId {
        /// Chain id of the transaction.
        have: u64,
        /// Chain id of this chain.
        want: u64,
    },
    /// The signature does not recover.
    #[error("invalid sender: {0}")]
    InvalidSender(String),
    /// The pool is full and this transaction does not pay enough to evict another.
    #[error("txpool is full")]
    PoolFull,
    /// The sender has too many pending transactions.
    #[error("too many pending transactions from sender")]
    SenderLimit,
    /// The database failed while validating.
    #[error("chain database: {0}")]
    Db(String),
}
