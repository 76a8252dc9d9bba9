//! SUAVE wire types: confidential compute records, 0x43 requests and 0x50 transactions.
//!
//! Everything here is byte-exact with suave-geth v0.2.6 and `@flashbots/suave-viem` 1.15.1
//! (see `shared/SUAVE-COMPAT.md` §1 and the conformance vectors in `tests/`):
//!
//! | type | wire bytes | Rust type |
//! |---|---|---|
//! | `0x42` record (hashed only) | `0x42 ‖ rlp(record13)` | [`ConfidentialComputeRecord`] |
//! | `0x43` request | `0x43 ‖ rlp([record13, confidentialInputs])` | [`ConfidentialComputeRequest`] |
//! | `0x50` SUAVE tx | `0x50 ‖ rlp([record13, result, chainId, v, r, s])` | [`SuaveTransaction`] |
//!
//! [`SuaveTxEnvelope::decode`] is the single entry point for raw transactions: it dispatches
//! on the type byte and passes standard Ethereum transactions to alloy's
//! [`TxEnvelope`](alloy_consensus::TxEnvelope).
//!
//! Decoders never panic on any input; they reject non-canonical RLP, wrong item counts,
//! wrong field sizes, invalid signatures and inputs above [`MAX_ENCODED_TX_BYTES`] with a
//! typed [`DecodeError`]. Sender recovery follows suave-geth's `suaveSigner` and takes the
//! node's chain id as a parameter.
//!
//! This crate performs no I/O.
//!
//! ```
//! use alloy_primitives::{address, hex};
//! use kettle_primitives::{SuaveTxEnvelope, DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
//!
//! // `minimal-eip712` from the suave-viem conformance vectors.
//! let raw = hex!("43f8a3f8a080843b9aca00830f4240940000000000000000000000000000000042010000808094b5feafbdd752ad52afb7e1bd2e40432a485bbb7fa0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470018401008c4501a0a3b99fe4b62691a0af94e8f2eb93500dc0897110721bab71d7ba89f49727cfcfa06974dc49fc02d7967050b0d768aa5a9e97a22cf55bbf41da0360ac3db2c69b9b80");
//! let SuaveTxEnvelope::ConfidentialRequest(request) = SuaveTxEnvelope::decode(&raw)? else {
//!     unreachable!("a 0x43")
//! };
//! assert_eq!(request.record.kettle_address, DEV_KETTLE_ADDRESS);
//! assert_eq!(
//!     request.recover_signer(SUAVE_DEV_CHAIN_ID)?,
//!     address!("BE69d72ca5f88aCba033a063dF5DBe43a4148De0")
//! );
//! assert_eq!(request.encoded(), raw);
//! # Ok::<(), kettle_primitives::Error>(())
//! ```

#![warn(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

pub mod constants;
pub mod data_record;
pub mod eip712;
pub mod envelope;
pub mod error;
pub mod record;
pub mod request;
mod rlp;
pub mod signature;
pub mod suave_tx;

pub use constants::*;
pub use data_record::{DataId, DataRecord};
pub use envelope::SuaveTxEnvelope;
pub use error::{DecodeError, Error, RecoveryError, SignError};
pub use record::ConfidentialComputeRecord;
pub use request::ConfidentialComputeRequest;
pub use signature::{FastSigner, Signature, SignatureValueError};
pub use suave_tx::SuaveTransaction;
