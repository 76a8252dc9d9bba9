//! Precompiles that reach outside the kettle: HTTP, `ethcall`, and the builder group.
//!
//! The crate depends on no network library: the node hands in an [`HttpClient`] and, once
//! one is configured, an execution backend. Work in progress: the entry point below answers
//! `None` (not a network precompile) until the implementations land.

use alloy_primitives::{Address, Bytes};

use crate::error::PrecompileError;

/// Sends one HTTP request on behalf of a precompile. Implemented by the node with a real
/// client; tests may use a local server.
pub trait HttpClient: Send + Sync {}

/// Long-lived services and configuration of the network precompiles (one per kettle).
#[derive(Default)]
pub struct NetworkServices {}

/// Per-request state of the network precompiles (cookies, builder sessions). Dropped with the
/// request.
#[derive(Debug, Default)]
pub struct NetworkRunState {}

impl NetworkRunState {
    /// A `contextGet` value this run's network activity produced (e.g. `__cookie_AWSALB`).
    pub fn context_value(&self, _key: &str) -> Option<Bytes> {
        None
    }
}

/// Runs the network precompile at `address` on `input`; `None` if `address` is not one.
pub fn run(
    _address: Address,
    _input: &[u8],
    _services: &NetworkServices,
    _state: &mut NetworkRunState,
) -> Option<Result<Bytes, PrecompileError>> {
    None
}
