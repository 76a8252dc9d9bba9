//! The MEVM: SUAVE precompiles and their wiring into revm.
//!
//! This crate defines the traits it needs from outside (the confidential store in [`store`],
//! network and builder precompiles in [`external`]) and depends on no database or network
//! crate; the node wires real implementations in.

pub mod addresses;
pub mod error;
pub mod external;
pub mod store;

pub use error::PrecompileError;
pub use external::{ExternalPrecompiles, ExternalRun};
pub use store::{
    ConfidentialStore, StoreError, StoreLimits, StoreOverlay, StoreWrite, StoreWriteSet,
};
