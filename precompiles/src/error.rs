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
