//! Errors: [`RpcError`] for starting the server, [`EthApiError`] for what a call returns.

use std::net::SocketAddr;

use alloy_primitives::Bytes;
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use kettle_chain::{CallError, ChainError, PoolError};

use crate::confidential::{ConfidentialError, INTERNAL_ERROR_CODE, SERVER_ERROR_CODE};

/// JSON-RPC code for invalid parameters.
pub const INVALID_PARAMS_CODE: i32 = -32602;
/// JSON-RPC code for a query over a server limit (block range, result count), as reth.
pub const LIMIT_EXCEEDED_CODE: i32 = -32005;
/// JSON-RPC code of a call that ran out of time (geth's `request timed out`).
pub const TIMEOUT_CODE: i32 = -32002;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// A configuration value is unusable.
    #[error("invalid RPC configuration: {0}")]
    Config(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A method name was registered twice (a bug).
    #[error("registering RPC methods: {0}")]
    Register(#[from] jsonrpsee::server::RegisterMethodError),
}

/// Why one JSON-RPC call failed; converted into the JSON-RPC error object the client sees.
///
/// Messages follow geth where clients match on them.
#[derive(Debug, thiserror::Error)]
pub enum EthApiError {
    /// A state query for a block other than the head (the chain keeps head state only).
    #[error("historical state is not available")]
    HistoricalState,
    /// A block number above the head.
    #[error("header not found")]
    HeaderNotFound,
    /// A block hash that is not known.
    #[error("header for hash not found")]
    UnknownBlockHash,
    /// `eth_getLogs` with an unknown `blockHash` (geth's message).
    #[error("unknown block")]
    UnknownBlock,
    /// Parameters that parsed but make no sense.
    #[error("{0}")]
    InvalidParams(String),
    /// A geth-style server error (-32000).
    #[error("{0}")]
    Server(String),
    /// A call reverted: code 3 with the revert data.
    #[error("execution reverted")]
    Reverted(Bytes),
    /// A query over a configured limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// The chain's storage failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// The confidential path failed; carries the node's exact error.
    #[error(transparent)]
    Confidential(#[from] ConfidentialError),
}

impl From<ChainError> for EthApiError {
    fn from(err: ChainError) -> Self {
        tracing::error!(error = %err, "chain read failed");
        Self::Internal(err.to_string())
    }
}

impl From<PoolError> for EthApiError {
    fn from(err: PoolError) -> Self {
        Self::Server(err.to_string())
    }
}

impl From<CallError> for EthApiError {
    fn from(err: CallError) -> Self {
        match err {
            CallError::Invalid(msg) => Self::Server(msg),
            CallError::Chain(err) => err.into(),
        }
    }
}

impl From<EthApiError> for ErrorObjectOwned {
    fn from(err: EthApiError) -> Self {
        match err {
            EthApiError::Reverted(data) => {
                let c = ConfidentialError::reverted(data);
                ErrorObject::owned(c.code, c.message, c.data)
            }
            EthApiError::Confidential(c) => ErrorObject::owned(c.code, c.message, c.data),
            EthApiError::InvalidParams(msg) => {
                ErrorObject::owned(INVALID_PARAMS_CODE, msg, None::<()>)
            }
            EthApiError::LimitExceeded(msg) => {
                ErrorObject::owned(LIMIT_EXCEEDED_CODE, msg, None::<()>)
            }
            EthApiError::Internal(_) => {
                ErrorObject::owned(INTERNAL_ERROR_CODE, err.to_string(), None::<()>)
            }
            other => ErrorObject::owned(SERVER_ERROR_CODE, other.to_string(), None::<()>),
        }
    }
}

/// Result of an `eth_*` handler before conversion.
pub(crate) type EthResult<T> = Result<T, EthApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::confidential::EXECUTION_REVERTED_CODE;

    #[test]
    fn error_objects_carry_geth_codes() {
        let obj = ErrorObjectOwned::from(EthApiError::Reverted(Bytes::from_static(&[1, 2])));
        assert_eq!(obj.code(), EXECUTION_REVERTED_CODE);
        assert_eq!(obj.message(), "execution reverted");
        assert_eq!(obj.data().map(|d| d.get()), Some("\"0x0102\""));

        let obj = ErrorObjectOwned::from(EthApiError::HistoricalState);
        assert_eq!(obj.code(), SERVER_ERROR_CODE);
        assert_eq!(obj.message(), "historical state is not available");

        let obj = ErrorObjectOwned::from(EthApiError::from(PoolError::AlreadyKnown));
        assert_eq!((obj.code(), obj.message()), (-32000, "already known"));

        let obj = ErrorObjectOwned::from(EthApiError::Confidential(ConfidentialError::server(
            "transaction failed: out of gas",
        )));
        assert_eq!(obj.message(), "transaction failed: out of gas");
        assert!(obj.data().is_none());
    }
}
