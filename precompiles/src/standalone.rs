//! Running one SUAVE precompile outside an EVM, on its raw input: what `kettle forge --local`
//! (suave-std's Foundry FFI, SUAVE-COMPAT §10) needs.

use alloy_primitives::{Address, Bytes};
use kettle_primitives::ConfidentialComputeRequest;

use crate::{
    builtin::{self, RequestEnv},
    context::KettleContext,
    error::PrecompileError,
    external::ExternalPrecompiles,
    store::{ConfidentialStore, StoreLimits, StoreOverlay},
};

/// Runs the SUAVE precompile at `address` on `input` (the ABI parameters, no selector) with
/// the same implementations the MEVM dispatches to, as if `address` had been called directly
/// in a confidential run of `request` on `kettle`.
///
/// The caller stack holds only the precompile itself, so store access checks fail unless a
/// record allows `ANYALLOWED`. Store precompiles read `store`; their writes are staged in a
/// private overlay and discarded. `external` serves the network and builder precompiles;
/// without it they fail as on a kettle without backends. Any address that is not a SUAVE
/// precompile (`console.log` included) fails with `no precompile at <address>`.
///
/// `Ok` is the precompile's output (raw or ABI-encoded, as in a confidential run), `Err` the
/// message a calling frame would revert with.
pub fn run_precompile(
    address: Address,
    input: &[u8],
    request: &ConfidentialComputeRequest,
    kettle: &KettleContext,
    store: &dyn ConfidentialStore,
    external: Option<&dyn ExternalPrecompiles>,
) -> Result<Bytes, PrecompileError> {
    let overlay = StoreOverlay::new(store, StoreLimits::default());
    let mut env = RequestEnv::new(request, kettle, overlay, external);
    builtin::dispatch(address, input, &[address], &mut env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{addresses, store::memory::MemoryStore};
    use alloy_sol_types::SolCall;
    use kettle_contracts::precompiles::SuavePrecompiles as abi;

    fn run(address: Address, input: &[u8]) -> Result<Bytes, PrecompileError> {
        let kettle = KettleContext::new(Address::repeat_byte(1), 1);
        run_precompile(
            address,
            input,
            &ConfidentialComputeRequest::default(),
            &kettle,
            &MemoryStore::new(),
            None,
        )
    }

    #[test]
    fn runs_one_precompile_on_raw_input() {
        assert_eq!(
            run(addresses::IS_CONFIDENTIAL, &[]).unwrap(),
            Bytes::from_static(&[1])
        );
        let input = abi::randomBytesCall { numBytes: 8 }.abi_encode();
        let out = run(addresses::RANDOM_BYTES, &input[4..]).unwrap();
        let bytes = abi::randomBytesCall::abi_decode_returns(&out).unwrap();
        assert_eq!(bytes.len(), 8);
        assert_eq!(
            run(addresses::RANDOM_BYTES, &[1, 2]).unwrap_err().0,
            crate::error::FAILED_TO_DECODE_INPUT
        );
        assert_eq!(
            run(addresses::DO_HTTP_REQUEST, &[]).unwrap_err().0,
            crate::error::NO_NETWORK_BACKEND
        );
        assert!(run(addresses::CONSOLE_LOG, &[])
            .unwrap_err()
            .0
            .starts_with("no precompile at"));
    }
}
