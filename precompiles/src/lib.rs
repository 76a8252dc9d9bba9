//! The MEVM: SUAVE precompiles and their wiring into revm.
//!
//! This crate defines the traits it needs from outside (the confidential store in [`store`],
//! the HTTP client and execution backend in [`network`]) and depends on no database or
//! network crate; the node wires real implementations in.

pub mod addresses;
pub mod error;
pub mod network;
pub mod store;

pub use error::PrecompileError;
pub use store::{
    ConfidentialStore, StoreError, StoreLimits, StoreOverlay, StoreWrite, StoreWriteSet,
};
