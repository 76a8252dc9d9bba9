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
pub mod pool;
pub mod spec;
pub mod state;
pub mod types;

pub use call::{CallError, CallOutcome, CallRequest};
pub use chain::Chain;
pub use error::{ChainError, PoolError};
pub use pool::PoolLimits;
pub use spec::ChainSpec;
pub use state::StateView;
pub use types::{SealedBlock, StoredReceipt, StoredTx, TxLocation};
