//! A kettle node: configuration, keys, start-up and shutdown, the confidential request
//! pipeline, metrics and health. Wires the chain, the confidential store, the MEVM and the
//! JSON-RPC server together.

pub mod cluster;
pub mod config;
pub mod error;
pub mod keys;
pub mod metrics;
pub mod node;
pub mod pipeline;

pub use config::NodeConfig;
pub use error::NodeError;
pub use keys::KettleKeys;
pub use node::{launch, shutdown_signal, NodeHandle};
pub use pipeline::Pipeline;
