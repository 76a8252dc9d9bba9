//! Precompiles implemented outside this crate.
//!
//! The network and builder precompiles (HTTP, `ethcall`, bundle and block building, relay
//! submission) need clients and backends this crate must not depend on. They live in their
//! own crate and plug in here: in confidential runs, a call to a SUAVE precompile address goes
//! to the external set if [`ExternalPrecompiles::handles`] the address, else to the built-in
//! table; a builder or network address nobody serves reverts with
//! [`NO_EXECUTION_BACKEND`](crate::error::NO_EXECUTION_BACKEND) or
//! [`NO_NETWORK_BACKEND`](crate::error::NO_NETWORK_BACKEND).

use alloy_primitives::{Address, Bytes};
use kettle_primitives::ConfidentialComputeRequest;

use crate::{context::KettleContext, error::PrecompileError, store::StoreOverlay};

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

    /// Runs a precompile with everything the MEVM knows about the call, not only its input.
    ///
    /// The MEVM always calls this method; the default forwards to [`ExternalRun::run`], which
    /// is all that stateless precompiles (HTTP, `ethcall`, bundle submission) need. Precompiles
    /// that read the confidential store (`buildEthBlock`, `buildEthBlockTo`,
    /// `fillMevShareBundle`) override it: they check access with
    /// [`crate::stack::check_access`] on [`ExternalCall::caller_stack`] and read through
    /// [`ExternalCall::store`], so their reads see this request's own staged writes.
    fn run_call(&mut self, call: ExternalCall<'_, '_>) -> Result<Bytes, PrecompileError> {
        self.run(call.address, call.input)
    }
}

/// One call of an external precompile during a confidential request.
pub struct ExternalCall<'c, 's> {
    /// Address of the precompile called.
    pub address: Address,
    /// Its ABI-encoded input (no selector).
    pub input: &'c [u8],
    /// Code addresses of the active frames, outermost first; the precompile itself is last
    /// (SUAVE-COMPAT §3.9). Input of [`crate::stack::check_access`].
    pub caller_stack: &'c [Address],
    /// The request's view of the confidential store (committed data plus this request's
    /// staged records and writes).
    pub store: &'c mut StoreOverlay<'s>,
    /// The request being executed. Its confidential inputs must never be logged.
    pub request: &'c ConfidentialComputeRequest,
    /// The kettle executing it.
    pub kettle: &'c KettleContext,
}

impl std::fmt::Debug for ExternalCall<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalCall")
            .field("address", &self.address)
            .field("input_len", &self.input.len())
            .field("caller_stack", &self.caller_stack)
            .finish_non_exhaustive()
    }
}
