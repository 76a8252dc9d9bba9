//! The MEVM: SUAVE precompiles and their wiring into revm.
//!
//! This crate defines the traits it needs from outside (the confidential store in [`store`],
//! network and builder precompiles in [`external`]) and depends on no database or network
//! crate; the node wires real implementations in.
//!
//! # Running a confidential request
//!
//! [`Mevm::execute`] takes chain state (any revm [`Database`](revm::Database)), the block,
//! the decoded `0x43` request and how it arrived ([`RequestKind`]), and returns a
//! [`ConfidentialOutcome`] (callback calldata with the log carrier, raw return data, logs,
//! gas, staged store writes) or a [`MevmError`] with suave-geth's message.
//!
//! ```
//! use alloy_primitives::{address, Bytes};
//! use kettle_primitives::{ConfidentialComputeRequest, DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
//! use revm::database::{CacheDB, EmptyDB};
//! use suave_precompiles::{
//!     addresses::IS_CONFIDENTIAL, store::memory::MemoryStore, BlockContext, KettleContext, Mevm,
//!     RequestKind,
//! };
//!
//! let kettle = KettleContext::new(DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID);
//! let store = MemoryStore::new();
//! let mut request = ConfidentialComputeRequest::default();
//! request.record.to = Some(IS_CONFIDENTIAL);
//! request.record.gas = 100_000;
//! request.record.kettle_address = DEV_KETTLE_ADDRESS;
//!
//! let outcome = Mevm::new(&kettle, &store).execute(
//!     CacheDB::new(EmptyDB::default()),
//!     &BlockContext::default(),
//!     &request,
//!     RequestKind::Call,
//! )?;
//! assert_eq!(outcome.raw_return, Bytes::from_static(&[0x01]));
//! assert_eq!(outcome.callback_calldata, Bytes::from_static(&[0x01]));
//! # Ok::<(), suave_precompiles::MevmError>(())
//! ```
//!
//! # Layout
//!
//! | module | concern |
//! |---|---|
//! | [`mevm`] | the request pipeline: run, failure mapping, callback, store writes |
//! | [`evm`] | [`SuaveEvm`]: revm with SUAVE rules (caller stack, SSTORE guard, no coinbase warming) |
//! | [`provider`] | which precompiles exist in which mode, gas, warm addresses |
//! | [`stack`] | the caller stack and the record access check |
//! | [`callback`] | callback rule, `0x543543` log carrier, `PeekerReverted` rendering |
//! | [`console`] | `console.log` decoding |
//! | [`context`] | kettle and block inputs |
//! | [`store`] | the store trait, the per-request overlay, [`store::memory`] |
//! | [`standalone`] | [`run_precompile`]: one precompile on raw input, outside an EVM (`kettle forge`) |
//! | [`external`] | the boundary to network and builder precompiles |
//! | `builtin` (private) | context, store, crypto and `signEthTransaction` precompiles |

//!
//! # Deviations from suave-geth v0.2.6
//!
//! Deliberate, each where upstream has no well-defined or no safe behaviour, or where matching
//! it would cost more than it is worth:
//! - `PREVRANDAO` (`0x44`) returns [`PREVRANDAO`] (zero); suave-geth crashes (SUAVE-COMPAT §9
//!   item 21). A request without `to` fails with [`MevmError::NoTarget`]; suave-geth crashes.
//! - A failing `confidentialRetrieve` (missing key) reverts and returns the unused gas to the
//!   caller; suave-geth hands back the same message but as a non-revert error, which burns all
//!   gas forwarded to the call. `Suave.sol` callers see the same `PeekerReverted`.
//! - Non-UTF-8 bytes in ABI `string` arguments (store keys, namespaces) are decoded lossily
//!   (U+FFFD); Go keeps the raw bytes.
//! - `signEthTransaction`: blob (`0x03`) and later transaction types are refused
//!   (`transaction type not supported`); typed transactions need a chain id below 2^64; the
//!   RLP error texts after `txn not formatted properly: ` are alloy's, not Go's.
//! - Halt and pre-execution messages use go-ethereum's wording for the common cases
//!   ([`MevmError`]); rarer ones use revm's, and `invalid opcode` omits the opcode.
//! - `console.log` output goes to `tracing` (see [`console`]), not stdout.
//! - The state-storage guard flags an `SSTORE` into the target in a static context whatever
//!   the remaining gas; go-ethereum's tracer only sees it with enough gas for the opcode.
//! - On chain (not in confidential runs) revm applies Shanghai's transaction-level initcode
//!   rules to creation transactions, which SUAVE chains do not.

#![warn(missing_docs, unreachable_pub)]

pub mod addresses;
mod builtin;
pub mod callback;
pub mod console;
pub mod context;
pub mod error;
pub mod evm;
pub mod external;
pub mod mevm;
pub mod provider;
pub mod stack;
pub mod standalone;
pub mod store;

/// The fuzz harness (budget `KETTLE_FUZZ_CASES`, seed `KETTLE_FUZZ_SEED`) of the unit tests.
#[cfg(test)]
#[path = "../../tests/fuzz/support.rs"]
mod fuzz_support;

pub use builtin::crypto::BLS_DST;
pub use context::{BlockContext, KettleContext, PREVRANDAO};
pub use error::PrecompileError;
pub use evm::{SuaveEvm, SPEC};
pub use external::{ExternalCall, ExternalPrecompiles, ExternalRun};
pub use mevm::{ConfidentialOutcome, Mevm, MevmError, RequestKind};
pub use provider::{SuavePrecompiles, SUAVE_PRECOMPILE_GAS};
pub use stack::{check_access, CallerStack};
pub use standalone::run_precompile;
pub use store::{
    ConfidentialStore, StoreError, StoreLimits, StoreOverlay, StoreWrite, StoreWriteSet,
};
