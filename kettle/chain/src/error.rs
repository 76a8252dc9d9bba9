//! Errors of the SUAVE chain.

use alloy_primitives::{Address, B256};

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
    /// The block sealer could not sign a header.
    #[error("block seal: {0}")]
    Seal(#[from] SealError),
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

/// Why a header's Clique-style seal (`extra_data = vanity(32) ‖ r ‖ s ‖ v`) is invalid, or
/// could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// `extra_data` is not 32 vanity bytes followed by a 65-byte signature.
    #[error("sealed extra data must be {expected} bytes, got {len}")]
    ExtraDataLength {
        /// Length found.
        len: usize,
        /// Length of a sealed header's extra data.
        expected: usize,
    },
    /// The recovery id (last byte) is not 0 or 1.
    #[error("seal recovery id must be 0 or 1, got {0}")]
    RecoveryId(u8),
    /// `s` is in the upper half of the curve order (a malleated signature).
    #[error("seal signature has a high s value")]
    HighS,
    /// The signature does not recover to a public key.
    #[error("invalid seal signature: {0}")]
    Signature(String),
    /// The sealer failed to sign.
    #[error("signing the seal: {0}")]
    Signing(String),
}

/// Why the wire form of a block did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The encoding is larger than the caller allows.
    #[error("wire block of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a well-formed `[header, [tx, ...]]` RLP list.
    #[error("malformed wire block: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// Bytes follow the encoded block.
    #[error("{0} trailing bytes after the wire block")]
    TrailingBytes(usize),
}

/// Why [`Chain::import_block`](crate::Chain::import_block) refused a block. Every refusal
/// leaves the chain unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The header's seal is malformed or does not recover.
    #[error("bad seal: {0}")]
    BadSeal(#[from] SealError),
    /// The block is sealed by someone other than the cluster's producer.
    #[error("block sealed by {got}, expected the producer {expected}")]
    WrongProducer {
        /// The configured producer.
        expected: Address,
        /// Who sealed the block.
        got: Address,
    },
    /// A different block is already stored at this height.
    #[error("block {number} conflicts: have {ours}, got {theirs}")]
    Conflict {
        /// Height of both blocks.
        number: u64,
        /// Hash of the stored block.
        ours: B256,
        /// Hash of the offered block.
        theirs: B256,
    },
    /// The block is not the next one: the blocks in between must be imported first.
    #[error("block {number} does not follow head {head}")]
    Gap {
        /// Our head number.
        head: u64,
        /// Number of the offered block.
        number: u64,
    },
    /// The block's parent is not our head (same height, different parent).
    #[error("block parent {got} is not the head {expected}")]
    WrongParent {
        /// Our head hash.
        expected: B256,
        /// The block's parent hash.
        got: B256,
    },
    /// The timestamp is before the parent's.
    #[error("block timestamp {got} is before the parent's {parent}")]
    Timestamp {
        /// Parent timestamp.
        parent: u64,
        /// Block timestamp.
        got: u64,
    },
    /// The timestamp is further ahead of this kettle's clock than
    /// [`crate::chain::MAX_FUTURE_BLOCK_SECS`].
    #[error("block timestamp {got} is more than {allowed} s ahead of the local clock ({now})")]
    FutureTimestamp {
        /// Block timestamp.
        got: u64,
        /// Local clock (Unix seconds).
        now: u64,
        /// Allowed lead (seconds).
        allowed: u64,
    },
    /// A transaction of the body cannot be included (undecodable, bad signature, invalid
    /// against the parent state, or beyond the gas limit).
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTransaction {
        /// Position in the body.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A header field differs from what the parent and re-execution give.
    #[error("block {field} mismatch: expected {expected}, got {got}")]
    Mismatch {
        /// Which header field.
        field: &'static str,
        /// Value computed locally.
        expected: String,
        /// Value in the block.
        got: String,
    },
    /// The chain failed while importing (database, EVM).
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl ImportError {
    pub(crate) fn mismatch(
        field: &'static str,
        expected: impl std::fmt::Debug,
        got: impl std::fmt::Debug,
    ) -> Self {
        Self::Mismatch {
            field,
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        }
    }
}
