//! The SUAVE chain of a kettle: state and blocks on RocksDB, the mempool and block
//! production.
//!
//! State lives in the same embedded RocksDB as the confidential store, in its own column
//! families ([`db::COLUMN_FAMILIES`]). Each block is committed in one atomic write; accepted
//! transactions are persisted before they are acknowledged.

pub mod call;
pub mod chain;
pub mod db;
pub mod error;
pub mod execute;
pub(crate) mod node_cache;
pub mod pool;
pub mod seal;
pub mod spec;
pub mod state;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod trie;
pub mod types;
pub mod wire;

pub use call::{CallError, CallOutcome, CallRequest};
pub use chain::{Chain, ImportOutcome};
pub use error::{ChainError, ImportError, PoolError, SealError, WireError};
pub use pool::PoolLimits;
pub use seal::{seal_hash, seal_signer};
pub use spec::ChainSpec;
pub use state::StateView;
pub use types::{SealedBlock, StoredReceipt, StoredTx, TxLocation};
pub use wire::WireBlock;
