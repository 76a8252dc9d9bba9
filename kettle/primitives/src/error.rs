//! Error types of the crate.
//!
//! Messages that suave-geth users can observe (`transaction type not supported`,
//! `invalid transaction v, r, s values`, `invalid chain id for signer: have N want M`,
//! `confidential inputs hash mismatch`, `compute request … signed by incorrect execution node
//! …`) are reproduced verbatim by `Display`, so RPC layers can forward them unchanged. No error
//! ever carries confidential inputs or values derived from them.

use crate::signature::SignatureValueError;
use alloy_eips::eip2718::Eip2718Error;
use alloy_primitives::{Address, B256, U256};

/// Why raw bytes could not be decoded into a SUAVE (or Ethereum) transaction.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    /// The input is empty.
    #[error("empty transaction bytes")]
    Empty,
    /// A typed transaction consists of its type byte only (geth: `typed transaction too short`).
    #[error("typed transaction too short")]
    TooShort,
    /// The input is longer than [`MAX_ENCODED_TX_BYTES`](crate::MAX_ENCODED_TX_BYTES).
    #[error("transaction of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Length of the rejected input.
        len: usize,
        /// The limit that applied.
        max: usize,
    },
    /// The type byte is not one a kettle accepts from the wire (this includes the record type
    /// `0x42`, which is only ever hashed). Same text as geth's `ErrTxTypeNotSupported`.
    #[error("transaction type not supported")]
    UnsupportedTxType(u8),
    /// A type-specific decoder got bytes of another (supported) type.
    #[error("unexpected transaction type 0x{found:02x}, expected 0x{expected:02x}")]
    UnexpectedTxType {
        /// The type the decoder handles.
        expected: u8,
        /// The type byte found in the input.
        found: u8,
    },
    /// An RLP item is malformed, non-canonical, of the wrong kind (list vs string) or of the
    /// wrong size (addresses ≠ 20 bytes, hashes ≠ 32 bytes, integers over 8 or 32 bytes).
    #[error("rlp: {context}: {source}")]
    Rlp {
        /// The field or list being decoded.
        context: &'static str,
        /// What alloy-rlp reported.
        #[source]
        source: alloy_rlp::Error,
    },
    /// A list has the wrong number of items (geth: `too few elements` / `too many elements`).
    #[error("rlp: {list}: expected {expected} list items, got {got}")]
    ListLength {
        /// Which list.
        list: &'static str,
        /// Number of items the format prescribes.
        expected: usize,
        /// Number of items found.
        got: usize,
    },
    /// Bytes follow the transaction's RLP list (geth: `input contains more than one value`).
    #[error("rlp: {trailing} trailing bytes after the transaction")]
    TrailingBytes {
        /// How many bytes are left over.
        trailing: usize,
    },
    /// A boolean is not encoded as `0x80` (false) or `0x01` (true).
    #[error("rlp: {field}: invalid boolean value")]
    InvalidBool {
        /// The field being decoded.
        field: &'static str,
    },
    /// A signature is malformed: `v` ∉ {0, 1}, `r`/`s` out of range or high `s`.
    #[error("invalid transaction v, r, s values")]
    InvalidSignature {
        /// Which signature (user's record signature or the kettle's).
        field: &'static str,
        /// The violated rule.
        #[source]
        reason: SignatureValueError,
    },
    /// A standard Ethereum transaction failed to decode in alloy.
    #[error("{0}")]
    Ethereum(#[source] Eip2718Error),
}

impl DecodeError {
    /// Wraps an alloy-rlp error with the name of the field or list being decoded.
    pub(crate) const fn rlp(context: &'static str, source: alloy_rlp::Error) -> Self {
        Self::Rlp { context, source }
    }
}

/// Why a sender (or kettle) address could not be recovered from a decoded transaction.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// `v`, `r` or `s` violate the SUAVE rules (suave-geth's `ErrInvalidSig`).
    #[error("invalid transaction v, r, s values")]
    InvalidSignatureValues(#[source] SignatureValueError),
    /// The transaction's chain id differs from the node's (suave-geth's `ErrInvalidChainId`).
    #[error("invalid chain id for signer: have {have} want {want}")]
    ChainIdMismatch {
        /// Chain id carried by the transaction.
        have: U256,
        /// Chain id of the node.
        want: u64,
    },
    /// A 0x43's `confidentialInputsHash` is not `keccak256(confidentialInputs)`.
    #[error("confidential inputs hash mismatch")]
    InputsHashMismatch,
    /// A 0x50 was signed by a key other than the record's `kettleAddress`.
    /// `tx_hash` prints as lower-case `0x` hex, the addresses as EIP-55, like suave-geth.
    #[error("compute request {tx_hash} signed by incorrect execution node {recovered}, expected {expected}")]
    IncorrectKettle {
        /// Hash of the 0x50 transaction.
        tx_hash: B256,
        /// The address the kettle signature recovers to.
        recovered: Address,
        /// The record's `kettleAddress`.
        expected: Address,
    },
    /// The ECDSA public-key recovery itself failed (e.g. `r` is not a curve x-coordinate).
    #[error("recovery failed: {0}")]
    Ecdsa(#[source] alloy_primitives::SignatureError),
    /// A standard transaction type suave-geth's signer cannot recover (anything but legacy,
    /// `0x01` and `0x02`); same text as geth's `ErrTxTypeNotSupported`.
    #[error("transaction type not supported")]
    UnsupportedTxType(u8),
    /// Signer recovery of a standard Ethereum transaction failed in alloy.
    #[error("recovery failed: {0}")]
    Ethereum(#[source] alloy_consensus::crypto::RecoveryError),
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer backend failed.
    #[error("signer error: {0}")]
    Signer(#[from] alloy_signer::Error),
    /// The signer produced a signature outside the SUAVE validity rules (should not happen with
    /// a conforming signer, which emits low-`s` signatures).
    #[error("signer produced invalid transaction v, r, s values: {0}")]
    InvalidSignature(#[source] SignatureValueError),
    /// EIP-712 signing of a record without `to`: suave-geth's digest for that case is the
    /// all-zero hash, and a signature over it would authorise *every* such record of the same
    /// key, so this crate refuses to produce one.
    #[error("refusing to sign an EIP-712 record without `to` (its digest is the zero hash)")]
    Eip712ContractCreation,
}

/// Any error of this crate, for callers that do not need to tell the stages apart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Decoding failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Sender or kettle recovery failed.
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}
