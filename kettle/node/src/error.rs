//! Errors of node start-up and operation.

/// Why the node could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration file is missing, malformed or inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// The key file could not be read, created or parsed.
    #[error("keys: {0}")]
    Keys(String),
    /// The chain could not be opened.
    #[error(transparent)]
    Chain(#[from] kettle_chain::ChainError),
    /// The confidential store could not be opened.
    #[error("confidential store: {0}")]
    Store(String),
    /// The JSON-RPC server could not start.
    #[error(transparent)]
    Rpc(#[from] kettle_rpc::RpcError),
    /// The network precompiles could not be configured.
    #[error("network precompiles: {0}")]
    Network(String),
    /// Metrics or health endpoint.
    #[error("metrics: {0}")]
    Metrics(String),
    /// An I/O error (data dir, sockets).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
