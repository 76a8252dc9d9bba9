//! How a precompile fails.

/// A precompile failure. The calling frame reverts with the message's raw UTF-8 bytes as
/// revert data (not ABI-encoded), which is what suave-geth does and what `Suave.sol` wraps
/// into `PeekerReverted(precompile, message)`.
///
/// Messages must never contain confidential data (inputs, store values, keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PrecompileError(pub String);

impl PrecompileError {
    /// A failure with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The revert data the calling frame receives.
    pub fn revert_data(&self) -> alloy_primitives::Bytes {
        alloy_primitives::Bytes::copy_from_slice(self.0.as_bytes())
    }
}

impl From<crate::store::StoreError> for PrecompileError {
    fn from(err: crate::store::StoreError) -> Self {
        Self(err.to_string())
    }
}

/// suave-geth's message when a precompile's input is not the ABI encoding of its arguments.
pub const FAILED_TO_DECODE_INPUT: &str = "failed to decode input";

/// Revert message of a builder-group precompile (see [`crate::addresses::BUILDER`]) when the
/// kettle has no Ethereum execution backend configured.
pub const NO_EXECUTION_BACKEND: &str = "no execution backend configured";

/// Revert message of `doHTTPRequest` / `doHTTPRequest2` when the kettle has no HTTP client
/// configured (no external network precompiles plugged in).
pub const NO_NETWORK_BACKEND: &str =
    "no network backend configured: outgoing HTTP requests are disabled on this kettle";

impl PrecompileError {
    /// [`FAILED_TO_DECODE_INPUT`].
    pub fn decode_input() -> Self {
        Self::new(FAILED_TO_DECODE_INPUT)
    }
}
