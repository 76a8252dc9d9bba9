//! Precompiles implemented outside this crate.
//!
//! The network and builder precompiles (HTTP, `ethcall`, bundle and block building, relay
//! submission) need clients and backends this crate must not depend on. They live in their
//! own crate and plug in here, looked up by address before the built-in table.

use alloy_primitives::{Address, Bytes};

use crate::error::PrecompileError;

/// A set of precompiles provided from outside, shared by every request of a kettle.
pub trait ExternalPrecompiles: Send + Sync {
    /// Whether `address` is one of these precompiles.
    fn handles(&self, address: Address) -> bool;

    /// Opens the per-request state (cookies, builder sessions); dropped with the request.
    fn begin(&self) -> Box<dyn ExternalRun + '_>;
}

/// The state of external precompiles during one confidential request.
pub trait ExternalRun {
    /// Runs the precompile at `address` on its ABI-encoded `input` (no selector) and returns
    /// its output, or the failure the calling frame reverts with.
    fn run(&mut self, address: Address, input: &[u8]) -> Result<Bytes, PrecompileError>;

    /// A `contextGet` value this request's external activity produced (for example the
    /// `__cookie_AWSALB` key set by HTTP responses); `None` if there is none.
    fn context_value(&self, key: &str) -> Option<Bytes>;
}
