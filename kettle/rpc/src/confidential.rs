//! The confidential path: what the RPC server needs from the node to serve `0x43` requests
//! and confidential `eth_call` / `eth_estimateGas`.
//!
//! The server decodes and routes; the node (which owns the MEVM, the confidential store and
//! the kettle key) implements [`ConfidentialApi`]. The methods are blocking: the server calls
//! them on a blocking thread and stops waiting after the per-call timeout.

use std::fmt;

use alloy_primitives::{Address, Bytes, B256, U256};
use kettle_primitives::{ConfidentialComputeRecord, ConfidentialComputeRequest};

/// JSON-RPC code of a generic server-side failure (geth's default).
pub const SERVER_ERROR_CODE: i32 = -32000;
/// JSON-RPC code of a reverted `eth_call` / `eth_estimateGas` (geth's, with revert data).
pub const EXECUTION_REVERTED_CODE: i32 = 3;
/// JSON-RPC code of an internal error.
pub const INTERNAL_ERROR_CODE: i32 = -32603;

/// Selector of `Error(string)`.
const ERROR_STRING_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];

/// What the node provides for confidential requests.
///
/// Implementations are called on blocking threads and may run the MEVM and make HTTP calls.
/// They must never put confidential inputs into an error message or a log line.
pub trait ConfidentialApi: Send + Sync + 'static {
    /// The kettle addresses this node signs for (`eth_kettleAddress`); the first one is the
    /// default `kettleAddress` of a confidential `eth_call`.
    fn kettle_addresses(&self) -> Vec<Address>;

    /// A decoded `0x43` from `eth_sendRawTransaction`: verify, run, commit and submit the
    /// resulting `0x50`; returns the `0x50` hash. Errors are returned to the client as they
    /// are (SUAVE-COMPAT §3.6: `transaction failed: ...`, `execution reverted: precompile
    /// '<addr>' reverted: '<msg>'`, sender recovery errors).
    fn send_request(&self, request: ConfidentialComputeRequest) -> Result<B256, ConfidentialError>;

    /// Confidential `eth_call`: run on latest state, commit nothing, return the raw return
    /// data. A revert is [`ConfidentialError::reverted`] (code 3 with the revert data).
    fn call(&self, call: ConfidentialCall) -> Result<Bytes, ConfidentialError>;

    /// Confidential `eth_estimateGas`: the gas the request needs (at most `call.gas`),
    /// committing nothing.
    fn estimate_gas(&self, call: ConfidentialCall) -> Result<u64, ConfidentialError>;
}

/// A confidential `eth_call` / `eth_estimateGas`, with the defaults suave-geth applies
/// already filled in by the server (SUAVE-COMPAT §7.1):
///
/// - `kettle_address`: the `kettleAddress` argument, else the first of
///   [`ConfidentialApi::kettle_addresses`];
/// - `gas`: the `gas` argument; else for `eth_call` a non-confidential estimate against the
///   head state (the block gas limit if that estimate fails) and for `eth_estimateGas` the
///   block gas limit (the search cap);
/// - `gas_price`: the `gasPrice` argument, else the suggested priority fee;
/// - `nonce`: the `nonce` argument, else the pending nonce of `from`;
/// - `chain_id`: the node's chain id.
///
/// `from` is passed along for completeness; suave-geth runs confidential calls with the
/// zero address as sender whatever `from` says (§3.1).
#[derive(Clone, PartialEq, Eq)]
pub struct ConfidentialCall {
    /// The `from` argument (zero address if absent).
    pub from: Address,
    /// Target contract (`None`: creation).
    pub to: Option<Address>,
    /// Gas limit of the run.
    pub gas: u64,
    /// Gas price of the built request.
    pub gas_price: U256,
    /// Nonce of the built request.
    pub nonce: u64,
    /// Value sent.
    pub value: U256,
    /// Calldata.
    pub data: Bytes,
    /// The kettle that should run the request.
    pub kettle_address: Address,
    /// The confidential inputs. Never log or echo them; `Debug` prints only their length.
    pub confidential_inputs: Bytes,
    /// Chain id of the node.
    pub chain_id: u64,
}

impl ConfidentialCall {
    /// The unsigned `0x43` this call stands for (inputs hash filled in), as suave-geth builds
    /// it for a confidential `eth_call`.
    pub fn to_request(&self) -> ConfidentialComputeRequest {
        let mut request = ConfidentialComputeRequest::new(
            ConfidentialComputeRecord {
                nonce: self.nonce,
                gas_price: self.gas_price,
                gas: self.gas,
                to: self.to,
                value: self.value,
                data: self.data.clone(),
                kettle_address: self.kettle_address,
                chain_id: U256::from(self.chain_id),
                ..Default::default()
            },
            self.confidential_inputs.clone(),
        );
        request.set_inputs_hash();
        request
    }
}

impl fmt::Debug for ConfidentialCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfidentialCall")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("gas", &self.gas)
            .field("gas_price", &self.gas_price)
            .field("nonce", &self.nonce)
            .field("value", &self.value)
            .field("data_len", &self.data.len())
            .field("kettle_address", &self.kettle_address)
            .field(
                "confidential_inputs",
                &format_args!("<{} bytes redacted>", self.confidential_inputs.len()),
            )
            .field("chain_id", &self.chain_id)
            .finish()
    }
}

/// A failed confidential request, as the JSON-RPC error the client receives: `code`,
/// `message` and optional `data` (hex-encoded bytes, e.g. revert data).
///
/// The node builds it so that the error is exactly suave-geth's (SUAVE-COMPAT §3.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfidentialError {
    /// JSON-RPC error code.
    pub code: i32,
    /// JSON-RPC error message.
    pub message: String,
    /// JSON-RPC error data, serialized as `0x`-hex.
    pub data: Option<Bytes>,
}

impl ConfidentialError {
    /// An error with any code.
    pub fn new(code: i32, message: impl Into<String>, data: Option<Bytes>) -> Self {
        Self {
            code,
            message: message.into(),
            data,
        }
    }

    /// A server error (-32000) with `message` and no data: what geth returns for failed
    /// transactions (`transaction failed: ...`, `err: ... (supplied gas N)`, recovery errors).
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(SERVER_ERROR_CODE, message, None)
    }

    /// An internal error (-32603), for failures that are not the request's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR_CODE, message, None)
    }

    /// A reverted call as geth reports it: code 3, message `execution reverted` (or
    /// `execution reverted: <reason>` when the data is an `Error(string)`), data = the
    /// revert data.
    pub fn reverted(data: Bytes) -> Self {
        let message = match decode_revert_reason(&data) {
            Some(reason) => format!("execution reverted: {reason}"),
            None => "execution reverted".to_owned(),
        };
        Self::new(EXECUTION_REVERTED_CODE, message, Some(data))
    }
}

/// The reason string of ABI-encoded `Error(string)` revert data, if that is what `data` is.
pub fn decode_revert_reason(data: &[u8]) -> Option<String> {
    let body = data.strip_prefix(&ERROR_STRING_SELECTOR)?;
    let word = |at: usize| -> Option<usize> {
        let w = body.get(at..at.checked_add(32)?)?;
        // Offsets and lengths must fit in 8 bytes.
        if w[..24].iter().any(|b| *b != 0) {
            return None;
        }
        usize::try_from(u64::from_be_bytes(w[24..].try_into().ok()?)).ok()
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    String::from_utf8(bytes.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn revert_reason_decodes_error_string_only() {
        // Error("nope")
        let data = hex!("08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000046e6f706500000000000000000000000000000000000000000000000000000000");
        assert_eq!(decode_revert_reason(&data).as_deref(), Some("nope"));
        let err = ConfidentialError::reverted(Bytes::from(data.to_vec()));
        assert_eq!(err.code, 3);
        assert_eq!(err.message, "execution reverted: nope");
        assert_eq!(err.data.as_ref().map(|d| d.to_vec()), Some(data.to_vec()));

        assert_eq!(decode_revert_reason(&[]), None);
        assert_eq!(decode_revert_reason(&data[..40]), None);
        let raw = ConfidentialError::reverted(Bytes::from_static(b"raw message"));
        assert_eq!(raw.message, "execution reverted");
        // a huge length does not overflow
        let mut bad = data.to_vec();
        bad[4 + 32 + 24..4 + 64].copy_from_slice(&[0xff; 8]);
        assert_eq!(decode_revert_reason(&bad), None);
    }

    #[test]
    fn debug_redacts_inputs_and_request_hashes_them() {
        let call = ConfidentialCall {
            from: Address::ZERO,
            to: Some(Address::with_last_byte(1)),
            gas: 100_000,
            gas_price: U256::from(7u64),
            nonce: 3,
            value: U256::ZERO,
            data: Bytes::from_static(&[1, 2]),
            kettle_address: Address::with_last_byte(2),
            confidential_inputs: Bytes::from_static(b"top secret"),
            chain_id: 5,
        };
        let debug = format!("{call:?}");
        assert!(!debug.contains("top secret"));
        assert!(!debug.contains(&hex::encode(b"top secret")));
        assert!(debug.contains("<10 bytes redacted>"));
        let request = call.to_request();
        assert_eq!(
            request.record.confidential_inputs_hash,
            alloy_primitives::keccak256(b"top secret")
        );
        assert_eq!(request.record.nonce, 3);
        assert_eq!(request.record.chain_id, U256::from(5u64));
    }
}
