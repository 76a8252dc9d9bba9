//! Context precompiles: `isConfidential`, `confidentialInputs`, `contextGet` (SUAVE-COMPAT §3.2,
//! §3.10).

use alloy_primitives::Bytes;
use kettle_contracts::precompiles::SuavePrecompiles::contextGetCall;

use super::{decode, encode, RequestEnv};
use crate::error::PrecompileError;

/// `contextGet` key of the request's confidential inputs.
pub(crate) const KEY_CONFIDENTIAL_INPUTS: &str = "confidentialInputs";
/// `contextGet` key of the request's kettle address (20 raw bytes).
pub(crate) const KEY_KETTLE_ADDRESS: &str = "kettleAddress";
/// Revert message of `contextGet` for an unknown key.
pub(crate) const VALUE_NOT_FOUND: &str = "value not found";

/// `isConfidential`: the single byte `0x01` for any input.
pub(crate) fn is_confidential() -> Bytes {
    Bytes::from_static(&[0x01])
}

/// `confidentialInputs`: the request's confidential inputs, raw. Zero-argument precompiles
/// accept any input (Go's ABI unpacker ignores extra bytes).
pub(crate) fn confidential_inputs(env: &RequestEnv<'_>) -> Bytes {
    env.request.confidential_inputs.clone()
}

/// `contextGet(string key) → bytes`.
pub(crate) fn context_get(input: &[u8], env: &RequestEnv<'_>) -> Result<Bytes, PrecompileError> {
    let call: contextGetCall = decode(input)?;
    let value = match call.key.as_str() {
        KEY_CONFIDENTIAL_INPUTS => env.request.confidential_inputs.clone(),
        KEY_KETTLE_ADDRESS => Bytes::copy_from_slice(env.request.record.kettle_address.as_slice()),
        other => env
            .external
            .as_ref()
            .and_then(|run| run.context_value(other))
            .ok_or_else(|| PrecompileError::new(VALUE_NOT_FOUND))?,
    };
    Ok(encode::<contextGetCall>(&value))
}
