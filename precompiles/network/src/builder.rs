//! The builder precompiles: the execution-backend boundary (bundle simulation, block
//! building, builder sessions, calls) and the submissions to builders and relays.
//!
//! Block building runs against an Ethereum execution backend that a later issue provides
//! (crate `kettle-builder`); it plugs in through [`ExecutionBackend`]. Until one is
//! configured, `simulateBundle`, `buildEthBlock`, `buildEthBlockTo`, `newBuilder` and
//! `simulateTransaction` decode and validate their arguments and then fail with
//! `no execution backend configured`, never with a made-up result (suave-geth falls back to a
//! mock backend that invents blocks).

use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, Bytes, B256, U256};
use kettle_contracts::{BuildBlockArgs, SimulateTransactionResult};
use url::Url;

use crate::error::NetworkError;
use crate::gojson;

/// Path appended to the relay URL by `submitEthBlockToRelay` and `buildEthBlock`.
pub const RELAY_SUBMIT_PATH: &str = "/relay/v1/builder/blocks";

/// A failure reported by an [`ExecutionBackend`]; its message becomes the revert message, so
/// it must not carry confidential data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

impl From<BackendError> for NetworkError {
    fn from(err: BackendError) -> Self {
        NetworkError::Backend(err.0)
    }
}

/// The outcome of simulating a bundle as a block on top of the head (suave-geth
/// `suavex_buildEthBlock(null, txs)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockSimulation {
    /// Value of the block to the proposer (wei).
    pub block_value: U256,
    /// Gas used by the block.
    pub gas_used: u64,
}

impl BlockSimulation {
    /// `simulateBundle`'s answer: the effective gas price `block_value / gas_used` (0 when no
    /// gas was used), truncated to 64 bits as Go's `big.Int.Uint64` does.
    pub fn effective_gas_price(&self) -> u64 {
        if self.gas_used == 0 {
            return 0;
        }
        (self.block_value / U256::from(self.gas_used)).as_limbs()[0]
    }
}

/// A block built from bundles (suave-geth `suavex_buildEthBlockFromBundles`), with the fields
/// `buildEthBlock`'s bid needs (SUAVE-COMPAT §8.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBlock {
    /// The `ExecutionPayloadEnvelope` JSON (§7.2).
    pub envelope_json: Bytes,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Hash of the built block.
    pub block_hash: B256,
    /// Gas limit of the block.
    pub gas_limit: u64,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Value of the block to the proposer (wei).
    pub block_value: U256,
}

/// A builder bid for a built block, signed with the kettle's BLS builder key, and the relay
/// submission carrying it (SUAVE-COMPAT §8.1 steps 5–8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBid {
    /// What `buildEthBlock` returns as its first element.
    pub bid_json: Bytes,
    /// The deneb `SubmitBlockRequest` JSON posted to the relay.
    pub submission_json: Bytes,
}

/// The Ethereum execution backend the builder precompiles run against. Implementations are
/// shared by every request of a kettle and are called from the MEVM's blocking thread; each
/// call should bound its own duration (suave-geth gives bundle simulation 1 s).
pub trait ExecutionBackend: Send + Sync {
    /// Simulates `bundle`'s transactions as a block on the current head (`simulateBundle`).
    fn simulate_bundle(
        &self,
        bundle: &crate::bundle::SBundle,
    ) -> Result<BlockSimulation, BackendError>;

    /// Builds a block from `bundles` with `args` (`buildEthBlock`, `buildEthBlockTo`);
    /// `execution_node` is the allowed URL given to `buildEthBlockTo`, if any.
    fn build_block(
        &self,
        args: &BuildBlockArgs,
        bundles: &[crate::bundle::SBundle],
        execution_node: Option<&Url>,
    ) -> Result<BuiltBlock, BackendError>;

    /// Opens a builder session and returns its id (`newBuilder`).
    fn new_session(&self) -> Result<String, BackendError>;

    /// Applies `tx` in session `session` (`simulateTransaction`).
    fn add_transaction(
        &self,
        session: &str,
        tx: &TxEnvelope,
    ) -> Result<SimulateTransactionResult, BackendError>;

    /// Read-only call of `contract` with `input` at the head (`ethcall`).
    fn call(&self, contract: Address, input: &[u8]) -> Result<Bytes, BackendError>;

    /// Signs the bid for `block`, built with `args` (`buildEthBlock` after building). A
    /// backend without a builder key cannot.
    fn bid(&self, args: &BuildBlockArgs, block: &BuiltBlock) -> Result<SignedBid, BackendError> {
        let _ = (args, block);
        Err(BackendError(
            "this execution backend cannot sign builder bids".into(),
        ))
    }
}

/// The body `submitBundleJsonRPC` posts (SUAVE-COMPAT §8.5), byte for byte as Go marshals
/// suave-geth's map: `{"id":1,"jsonrpc":"2.0","method":"<method>","params":[<params>]}`, with
/// `params` validated and compacted with HTML escaping, and Go's error when it is not JSON.
pub fn bundle_rpc_body(method: &str, params: &[u8]) -> Result<Vec<u8>, NetworkError> {
    let mut body = Vec::with_capacity(params.len() + method.len() + 48);
    body.extend_from_slice(b"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":");
    gojson::write_string(&mut body, method);
    body.extend_from_slice(b",\"params\":[");
    gojson::compact(&mut body, params).map_err(|e| {
        NetworkError::Json(format!(
            "json: error calling MarshalJSON for type json.RawMessage: {e}"
        ))
    })?;
    body.extend_from_slice(b"]}");
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_body_exact_bytes() {
        let body = bundle_rpc_body(
            "eth_sendBundle",
            b" { \"txs\" : [\"0x01\"], \"x\":\"<a&b>\" } ",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_sendBundle\",\"params\":[{\"txs\":[\"0x01\"],\"x\":\"\\u003ca\\u0026b\\u003e\"}]}"
        );
        assert_eq!(
            bundle_rpc_body("m", b"").unwrap_err().to_string(),
            "json: error calling MarshalJSON for type json.RawMessage: unexpected end of JSON input"
        );
        assert_eq!(
            bundle_rpc_body("m", b"{x}").unwrap_err().to_string(),
            "json: error calling MarshalJSON for type json.RawMessage: invalid character 'x' looking for beginning of object key string"
        );
    }

    #[test]
    fn effective_gas_price() {
        let sim = BlockSimulation {
            block_value: U256::from(13u64 * 21_000),
            gas_used: 21_000,
        };
        assert_eq!(sim.effective_gas_price(), 13);
        let none = BlockSimulation {
            block_value: U256::from(5),
            gas_used: 0,
        };
        assert_eq!(none.effective_gas_price(), 0);
        let huge = BlockSimulation {
            block_value: U256::MAX,
            gas_used: 1,
        };
        assert_eq!(huge.effective_gas_price(), u64::MAX);
    }
}
