//! The Ethereum execution backend of the builder precompiles.
//!
//! suave-geth needs a patched geth as its block-building backend; a kettle builds against any
//! standard Ethereum JSON-RPC node instead: it forks the node's state at a block (accounts,
//! storage and code fetched lazily and cached), executes bundles in its own revm with the
//! L1 rules, and computes the new state root from `eth_getProof` proofs of what changed.

#![warn(missing_docs, unreachable_pub)]

pub mod backend;
pub mod bid;
pub mod build;
pub mod env;
pub mod payload;
pub mod rpc;
pub mod session;
pub mod state;
pub mod trie;

pub use backend::{BackendConfig, RpcBackend};
pub use build::BuiltPayload;
