//! The JSON-RPC server of a kettle: HTTP and WebSocket on one port, built on jsonrpsee.
//!
//! | concern | module |
//! |---|---|
//! | configuration and limits | [`config`] |
//! | starting and stopping, middleware (timeouts, tracing), CORS | [`server`] |
//! | `eth_*`, `net_*`, `web3_*` methods | [`eth`] |
//! | the confidential path the node implements | [`confidential`] |
//! | JSON forms (SUAVE `0x50`, receipts, call arguments) | [`types`] |
//! | `eth_getLogs` | `logs` |
//! | `eth_subscribe` | `pubsub` |
//! | fee oracle and `eth_feeHistory` | `fees` |
//! | errors | [`error`] |
//!
//! The server reads the SUAVE chain through [`kettle_chain::Chain`] and hands confidential
//! work (`0x43` requests, confidential `eth_call` / `eth_estimateGas`) to a
//! [`ConfidentialApi`] the node implements. State is served for the head block only; blocks,
//! transactions, receipts and logs for any height.
//!
//! Confidential inputs never leave this crate: `0x43` requests are passed to the node and
//! never stored, and no JSON form here can carry inputs.
//!
//! ```no_run
//! # async fn run(chain: std::sync::Arc<kettle_chain::Chain>,
//! #              node: std::sync::Arc<dyn kettle_rpc::ConfidentialApi>) -> Result<(), kettle_rpc::RpcError> {
//! let handle = kettle_rpc::start(kettle_rpc::RpcConfig::default(), chain, node).await?;
//! println!("listening on {}", handle.local_addr());
//! handle.stop().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

pub mod confidential;
pub mod config;
pub mod error;
pub mod eth;
mod fees;
mod logs;
mod pubsub;
pub mod server;
pub mod types;

pub use confidential::{ConfidentialApi, ConfidentialCall, ConfidentialError};
pub use config::{RpcConfig, CLIENT_VERSION};
pub use error::{EthApiError, RpcError};
pub use server::{rpc_module, start, start_with_methods, RpcHandle};
pub use types::{CallArgs, RecordJson, RpcReceipt, RpcTransaction, SuaveRpcTransaction};
