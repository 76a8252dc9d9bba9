//! The confidential request pipeline: what happens between `eth_sendRawTransaction(0x43…)`
//! and a kettle-signed `0x50` in the mempool.
//!
//! 1. The request must be addressed to this kettle and correctly signed.
//! 2. The MEVM runs it on a snapshot of the head state, with a private overlay of the
//!    confidential store.
//! 3. On success the kettle signs a `0x50` carrying the callback; the overlay's writes and the
//!    pending `0x50` are committed in ONE RocksDB write, so a crash leaves both or neither.
//! 4. Any failure returns the reference's error message and commits nothing.

use std::{sync::Arc, time::Instant};

use alloy_primitives::{Address, Bytes, B256};
use kettle_chain::Chain;
use kettle_primitives::{ConfidentialComputeRequest, SuaveTransaction, SuaveTxEnvelope};
use kettle_rpc::{ConfidentialApi, ConfidentialCall, ConfidentialError};
use kettle_store::EncryptedStore;
use revm::database::CacheDB;
use suave_precompiles::{
    ConfidentialOutcome, ExternalPrecompiles, KettleContext, Mevm, MevmError, RequestKind,
    StoreLimits,
};
use tracing::{debug, info_span, warn};

use crate::{keys::KettleKeys, metrics};

/// The node's implementation of the confidential JSON-RPC paths.
pub struct Pipeline {
    chain: Arc<Chain>,
    store: Arc<EncryptedStore>,
    keys: Arc<KettleKeys>,
    kettle: KettleContext,
    external: Option<Arc<dyn ExternalPrecompiles>>,
    limits: StoreLimits,
    /// The kettle key as a libsecp256k1 signer (identical signatures, faster).
    signer: Option<kettle_primitives::FastSigner>,
    /// Wall-clock limit of one MEVM run (`rpc.mevm_timeout_ms`).
    time_limit: Option<std::time::Duration>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("kettle", &self.kettle)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Wires the pipeline.
    pub fn new(
        chain: Arc<Chain>,
        store: Arc<EncryptedStore>,
        keys: Arc<KettleKeys>,
        external: Option<Arc<dyn ExternalPrecompiles>>,
        limits: StoreLimits,
    ) -> Self {
        let kettle = KettleContext::new(keys.address(), chain.chain_id());
        let signer = kettle_primitives::FastSigner::new(&keys.kettle).ok();
        Self {
            chain,
            store,
            keys,
            kettle,
            external,
            limits,
            signer,
            time_limit: None,
        }
    }

    /// Stops every MEVM run still executing after `limit` ([`MevmError::TimedOut`]).
    pub fn with_time_limit(mut self, limit: std::time::Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Runs `request` on the head state; never commits.
    fn run(
        &self,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        let (_, head) = self.chain.head();
        let block = kettle_chain::execute::head_block_context(&head);
        let view = self.chain.state();
        let mut mevm = Mevm::new(&self.kettle, self.store.as_ref()).with_store_limits(self.limits);
        if let Some(limit) = self.time_limit {
            mevm = mevm.with_time_limit(limit);
        }
        if let Some(external) = &self.external {
            mevm = mevm.with_external(external.as_ref());
        }
        mevm.execute(CacheDB::new(&view), &block, request, kind)
    }

    fn check_kettle(&self, kettle: Address) -> Result<(), ConfidentialError> {
        if kettle != self.keys.address() {
            return Err(ConfidentialError::server("unknown account"));
        }
        Ok(())
    }
}

/// suave-geth's message for a failed run on the `eth_sendRawTransaction` path (§3.6).
fn send_error(err: &MevmError) -> ConfidentialError {
    match err {
        MevmError::Reverted { .. } | MevmError::Halted { .. } => {
            ConfidentialError::server(format!("transaction failed: {err}"))
        }
        MevmError::Database(_) | MevmError::Internal(_) => {
            ConfidentialError::internal(err.to_string())
        }
        _ => ConfidentialError::server(err.to_string()),
    }
}

/// What a log line may show of an error returned to a user: the message up to its revert
/// reason or precompile message, which SUAPP code and precompiles can fill with confidential
/// inputs or stored values (the user still gets the whole message).
fn loggable(e: &ConfidentialError) -> &str {
    const REVERTED: &str = "execution reverted";
    match e.message.find(REVERTED) {
        Some(at) => &e.message[..at + REVERTED.len()],
        None => &e.message,
    }
}

/// suave-geth's error for a failed confidential `eth_call` / `eth_estimateGas`.
fn call_error(err: MevmError) -> ConfidentialError {
    match err {
        MevmError::Reverted { output, .. } => ConfidentialError::reverted(output),
        MevmError::Database(_) | MevmError::Internal(_) => {
            ConfidentialError::internal(err.to_string())
        }
        other => ConfidentialError::server(other.to_string()),
    }
}

impl ConfidentialApi for Pipeline {
    fn kettle_addresses(&self) -> Vec<Address> {
        self.kettle.kettle_addresses.clone()
    }

    fn send_request(&self, request: ConfidentialComputeRequest) -> Result<B256, ConfidentialError> {
        let started = Instant::now();
        let span = info_span!("confidential_request", to = ?request.record.to, nonce = request.record.nonce);
        let _enter = span.enter();
        let result = (|| -> Result<B256, ConfidentialError> {
            self.check_kettle(request.record.kettle_address)?;
            let sender = request
                .recover_signer(self.chain.chain_id())
                .map_err(|e| ConfidentialError::server(e.to_string()))?;
            // Replay protection before any side effect: the reference re-executes a re-sent
            // request (HTTP calls included) and only the mempool refuses its 0x50.
            let next = self
                .chain
                .pending_nonce(&sender)
                .map_err(|e| ConfidentialError::internal(e.to_string()))?;
            if request.record.nonce < next {
                return Err(ConfidentialError::server(format!(
                    "nonce too low: next nonce {next}, tx nonce {}",
                    request.record.nonce
                )));
            }
            let outcome = self
                .run(&request, RequestKind::Transaction { sender })
                .map_err(|e| send_error(&e))?;
            let unsigned =
                SuaveTransaction::new(request.record.clone(), outcome.callback_calldata.clone());
            let stx = match &self.signer {
                Some(fast) => unsigned.into_signed(fast),
                None => unsigned.into_signed(&self.keys.kettle),
            }
            .map_err(|e| ConfidentialError::internal(format!("kettle could not sign: {e}")))?;
            let envelope = SuaveTxEnvelope::Suave(stx);
            let hash = self
                .store
                .commit_local_with(&outcome.store_writes, |batch| {
                    self.chain
                        .add_own_transaction_with(&envelope, sender, batch)
                })
                .map_err(|e| match e {
                    kettle_store::CommitWithError::Store(s) => {
                        ConfidentialError::server(s.to_string())
                    }
                    kettle_store::CommitWithError::Inner(p) => {
                        ConfidentialError::server(p.to_string())
                    }
                })?;
            self.chain.announce_local(&envelope);
            debug!(%hash, %sender, gas_used = outcome.gas_used, records = outcome.store_writes.records.len(), writes = outcome.store_writes.writes.len(), "confidential request accepted");
            Ok(hash)
        })();
        metrics::record_request("send", result.is_ok(), started.elapsed());
        if let Err(e) = &result {
            debug!(
                code = e.code,
                message = loggable(e),
                "confidential request rejected"
            );
        }
        result
    }

    fn call(&self, call: ConfidentialCall) -> Result<Bytes, ConfidentialError> {
        let started = Instant::now();
        let result = (|| -> Result<Bytes, ConfidentialError> {
            self.check_kettle(call.kettle_address)?;
            let request = call.to_request();
            self.run(&request, RequestKind::Call)
                .map(|o| o.raw_return)
                .map_err(call_error)
        })();
        metrics::record_request("call", result.is_ok(), started.elapsed());
        result
    }

    fn estimate_gas(&self, call: ConfidentialCall) -> Result<u64, ConfidentialError> {
        let started = Instant::now();
        let result = (|| -> Result<u64, ConfidentialError> {
            self.check_kettle(call.kettle_address)?;
            let cap = call.gas;
            let run = |gas: u64| {
                let mut request = call.to_request();
                request.record.gas = gas;
                self.run(&request, RequestKind::Call)
            };
            let used = run(cap).map_err(call_error)?.gas_used;
            // Every run repeats the request's external side effects (HTTP calls), so try the
            // likely answers first and only then search (the reference always searches).
            for guess in [used, used.saturating_mul(64) / 63 + 2_300] {
                if guess < cap && run(guess).is_ok() {
                    return Ok(guess);
                }
            }
            let (mut lo, mut hi) = (used, cap);
            while lo + 1 < hi {
                let mid = lo + (hi - lo) / 2;
                if run(mid).is_ok() {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Ok(hi)
        })();
        metrics::record_request("estimate", result.is_ok(), started.elapsed());
        if let Err(e) = &result {
            warn!(
                code = e.code,
                message = loggable(e),
                "confidential gas estimation failed"
            );
        }
        result
    }
}
