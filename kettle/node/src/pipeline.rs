//! The confidential request pipeline: what happens between `eth_sendRawTransaction(0x43…)`
//! and a kettle-signed `0x50` in the mempool.
//!
//! 1. The request must be addressed to this kettle and correctly signed.
//! 2. The MEVM runs it on a snapshot of the head state, with a private overlay of the
//!    confidential store.
//! 3. On success the kettle signs a `0x50` carrying the callback; the overlay's writes and the
//!    pending `0x50` are committed in ONE RocksDB write, so a crash leaves both or neither.
//!    A request that wrote to the confidential store is acknowledged once that write is
//!    synced to disk (group commit). One that wrote nothing there is acknowledged once its
//!    `0x50` is written (it then survives a crash of the kettle, and power loss once the node's
//!    background sync has run, within 100 ms) unless `chain.sync_public_requests` asks for the
//!    sync as well.
//! 4. Any failure returns the reference's error message and commits nothing.

use std::{sync::Arc, time::Instant};

use alloy_primitives::{Address, Bytes, B256};
use kettle_chain::{Chain, StateView};
use kettle_primitives::{ConfidentialComputeRequest, SuaveTransaction, SuaveTxEnvelope};
use kettle_rpc::{ConfidentialApi, ConfidentialCall, ConfidentialError};
use kettle_store::EncryptedStore;
use revm::database::CacheDB;
use rocksdb::WriteBatch;
use suave_precompiles::{
    BlockContext, ConfidentialOutcome, ExternalPrecompiles, KettleContext, Mevm, MevmError,
    RequestKind, StoreLimits,
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
    /// Sync the WAL before acknowledging requests without store writes too
    /// (`chain.sync_public_requests`).
    sync_public: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("kettle", &self.kettle)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Wires the pipeline. `chain` and `store` must share one group commit of their WAL
    /// ([`Chain::with_wal`], `StoreOptions::with_wal`), as the node sets them up: the store's
    /// background sync learns of a store-free request's `0x50` from the chain's ticket.
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
            sync_public: false,
        }
    }

    /// Whether a request that writes nothing to the confidential store also waits for a WAL
    /// sync before it is acknowledged (`chain.sync_public_requests`; default no: its `0x50`
    /// is public, the user can send it again, and a background sync makes it durable soon
    /// after, whereas the sync costs every such request a wait and the kettle an fsync).
    pub fn with_sync_public_requests(mut self, sync: bool) -> Self {
        self.sync_public = sync;
        self
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
        let block = kettle_chain::execute::head_block_context(&self.chain.head().1);
        let view = self.chain.state();
        self.run_on(&block, CacheDB::new(&view), request, kind)
    }

    /// Runs `request` in `block` (the head's context) on `db`, a cache over the head state
    /// that may already hold accounts read from it; never commits.
    fn run_on(
        &self,
        block: &BlockContext,
        db: CacheDB<&StateView<'_>>,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        let mut mevm = Mevm::new(&self.kettle, self.store.as_ref()).with_store_limits(self.limits);
        if let Some(limit) = self.time_limit {
            mevm = mevm.with_time_limit(limit);
        }
        if let Some(external) = &self.external {
            mevm = mevm.with_external(external.as_ref());
        }
        mevm.execute(db, block, request, kind)
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
            let (sender, record_digest) = request
                .recover_signer_with_digest(self.chain.chain_id())
                .map_err(|e| ConfidentialError::server(e.to_string()))?;
            // Replay protection before any side effect: the reference re-executes a re-sent
            // request (HTTP calls included) and only the mempool refuses its 0x50. The
            // sender's account is read from the state the request then runs on, and handed
            // to the MEVM so it is not read twice.
            let block = kettle_chain::execute::head_block_context(&self.chain.head().1);
            let view = self.chain.state();
            let account = view
                .account(&sender)
                .map_err(|e| ConfidentialError::internal(e.to_string()))?;
            let next = self
                .chain
                .pending_nonce_from(&sender, account.map_or(0, |a| a.nonce));
            if request.record.nonce < next {
                return Err(ConfidentialError::server(format!(
                    "nonce too low: next nonce {next}, tx nonce {}",
                    request.record.nonce
                )));
            }
            let mut db = CacheDB::new(&view);
            if let Some(account) = account {
                db.insert_account_info(sender, account.info());
            }
            let outcome = self
                .run_on(&block, db, &request, RequestKind::Transaction { sender })
                .map_err(|e| send_error(&e))?;
            let unsigned =
                SuaveTransaction::new(request.record.clone(), outcome.callback_calldata.clone());
            let stx = match &self.signer {
                Some(fast) => unsigned.into_signed_with_record_digest(fast, record_digest),
                None => unsigned.into_signed_with_record_digest(&self.keys.kettle, record_digest),
            }
            .map_err(|e| ConfidentialError::internal(format!("kettle could not sign: {e}")))?;
            let envelope = SuaveTxEnvelope::Suave(stx);
            let hash = if outcome.store_writes.is_empty() && !self.sync_public {
                // Nothing confidential to make durable: the 0x50 alone, written unsynced. Its
                // admission took a ticket of the shared group commit, so the node's background
                // sync (or the next block's) makes it durable.
                self.chain
                    .add_own_transaction_with(&envelope, sender, WriteBatch::default())
                    .map_err(|e| ConfidentialError::server(e.to_string()))?
            } else {
                self.store
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
                    })?
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use kettle_chain::ChainSpec;
    use kettle_primitives::ConfidentialComputeRecord;

    const SUAPP: Address = Address::with_last_byte(0x77);

    /// A dev kettle's pipeline on a fresh database, without network precompiles.
    fn pipeline(dir: &std::path::Path) -> Pipeline {
        let keys = Arc::new(KettleKeys::dev());
        let cache = kettle_store::layout::block_cache().expect("cache");
        let db = kettle_chain::db::open_db_with(
            dir,
            kettle_store::layout::column_family_descriptors(&cache),
        )
        .expect("db");
        let limits = StoreLimits::default();
        let store = Arc::new(
            kettle_store::open_in(
                db.clone(),
                &kettle_store::KettleSecret::from_array(keys.store_secret().0),
                kettle_store::StoreOptions::new(limits).with_local_kettles(vec![keys.address()]),
            )
            .expect("store"),
        );
        let mut spec = ChainSpec::dev(keys.address());
        // The SUAPP: `STOP`, so every request succeeds with empty output and no store writes.
        spec.genesis.alloc.insert(
            SUAPP,
            alloy_genesis::GenesisAccount::default().with_code(Some(Bytes::from_static(&[0x00]))),
        );
        let chain = Arc::new(
            Chain::open(db, spec, Default::default())
                .expect("chain")
                .with_wal(store.options().wal.clone()),
        );
        Pipeline::new(chain, store, keys, None, limits)
    }

    /// A request from the dev kettle's (funded) account to [`SUAPP`].
    fn request(p: &Pipeline, nonce: u64) -> ConfidentialComputeRequest {
        let record = ConfidentialComputeRecord {
            nonce,
            gas_price: U256::from(p.chain.next_base_fee().max(1) * 2),
            gas: 100_000,
            to: Some(SUAPP),
            kettle_address: p.keys.address(),
            is_eip712: true,
            chain_id: U256::from(p.chain.chain_id()),
            ..Default::default()
        };
        ConfidentialComputeRequest::new(record, Bytes::new())
            .into_signed(&p.keys.kettle)
            .expect("sign")
    }

    #[test]
    fn requests_without_store_writes_wait_for_a_sync_only_when_configured() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = pipeline(dir.path());
        let sender = p.keys.address();
        for nonce in 0..3 {
            let hash = p.send_request(request(&p, nonce)).expect("accepted");
            assert!(p.chain.transaction(&hash).expect("read").is_some());
        }
        assert_eq!(p.chain.pending_nonce(&sender).expect("nonce"), 3);
        assert_eq!(p.store.group_syncs(), 0, "acknowledged without a sync");
        // The node's background sync makes them durable with one sync.
        assert!(p.store.unsynced_writes());
        assert_eq!(p.store.sync_written().expect("sync"), 3);
        assert!(!p.store.unsynced_writes());
        assert_eq!(p.store.group_syncs(), 1);

        let p = p.with_sync_public_requests(true);
        for nonce in 3..6 {
            p.send_request(request(&p, nonce)).expect("accepted");
        }
        // One request at a time: each waits for a sync of its own.
        assert_eq!(p.store.group_syncs(), 4);
        assert!(!p.store.unsynced_writes());
        assert_eq!(p.chain.pending_nonce(&sender).expect("nonce"), 6);
        // A replay is still refused before anything runs.
        let err = p.send_request(request(&p, 5)).expect_err("replay");
        assert!(err.message.contains("nonce too low"), "{}", err.message);
    }
}
