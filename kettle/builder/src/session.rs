//! Builder sessions: `newBuilder` / `simulateTransaction` (suave-geth's session manager).
//!
//! A session is a block being built on top of the head at its creation: each
//! `simulateTransaction` applies one transaction to the session's state. A transaction that
//! fails the consensus checks (nonce, funds, fees, gas) answers `success: false` with the
//! reason and leaves the state as it was; one that reverts is included and answers
//! `success: true` (as go-ethereum's `ApplyTransaction` does); logs come from the receipt.
//!
//! As in suave-geth: ids are 7 hex characters of a random UUID-like value, at most 16
//! sessions exist at once (`newBuilder` waits for a free one, here at most
//! [`SessionConfig::wait`]), a session unused for 5 s is dropped, the coinbase is the zero
//! address and a zero-price transaction is not held to the base fee (`NoBaseFee`).
//! Differences: the block timestamp is parent + 12 (suave-geth uses 1000), sessions are not
//! dropped when a new head arrives (the state stays that of their parent), no system call
//! (EIP-4788…) runs at session start, and `egp` is the
//! transaction's real effective gas price (`min(maxFee, baseFee + tip)`, the receipt's
//! `effectiveGasPrice`, saturated to 64 bits; suave-geth always answers 0).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use alloy_consensus::TxEnvelope;
use alloy_primitives::hex;
use kettle_contracts::{SimulateTransactionResult, SimulatedLog};

use crate::build::{BuildError, Executor, TxFailure};
use crate::rpc::Deadline;

/// Limits of the session manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Most sessions open at once.
    pub max_sessions: usize,
    /// A session unused this long is dropped.
    pub idle_timeout: Duration,
    /// Longest time `newBuilder` waits for a free session.
    pub wait: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_sessions: 16,
            idle_timeout: Duration::from_secs(5),
            wait: Duration::from_secs(5),
        }
    }
}

/// Why a session call failed (a consensus failure of the transaction is not an error: it is
/// `success: false` in the result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// No such session (never opened, expired, or dropped).
    #[error("session {0} not found")]
    NotFound(String),
    /// All sessions stayed busy for the whole wait.
    #[error("too many builder sessions: all {0} are in use")]
    TooMany(usize),
    /// The random source failed.
    #[error("cannot create a session id: {0}")]
    Random(String),
    /// Executing the transaction failed for a reason other than the transaction.
    #[error(transparent)]
    Build(#[from] BuildError),
}

#[derive(Debug)]
struct Entry {
    last_used: Instant,
    executor: Arc<Mutex<Executor>>,
}

/// The open sessions; see the module documentation.
#[derive(Debug)]
pub struct Sessions {
    config: SessionConfig,
    open: Mutex<HashMap<String, Entry>>,
    freed: Condvar,
}

fn session_id() -> Result<String, SessionError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| SessionError::Random(e.to_string()))?;
    let mut id = hex::encode(bytes);
    id.truncate(7);
    Ok(id)
}

impl Sessions {
    /// An empty session manager.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            config,
            open: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        }
    }

    /// Number of open (unexpired) sessions.
    pub fn len(&self) -> usize {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        self.reap(&mut open, Instant::now());
        open.len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops expired sessions; returns the earliest expiry of the others.
    fn reap(&self, open: &mut HashMap<String, Entry>, now: Instant) -> Option<Instant> {
        let timeout = self.config.idle_timeout;
        let before = open.len();
        open.retain(|_, e| now.saturating_duration_since(e.last_used) < timeout);
        if open.len() < before {
            tracing::debug!(
                dropped = before - open.len(),
                "idle builder sessions dropped"
            );
            self.freed.notify_all();
        }
        open.values().map(|e| e.last_used + timeout).min()
    }

    /// Opens a session around `executor` (a block on top of the current head) once a slot
    /// is free, and returns its id.
    pub fn open(&self, executor: Executor) -> Result<String, SessionError> {
        let give_up = Instant::now() + self.config.wait;
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            let next_expiry = self.reap(&mut open, now);
            if open.len() < self.config.max_sessions {
                break;
            }
            if now >= give_up {
                return Err(SessionError::TooMany(self.config.max_sessions));
            }
            let wake = next_expiry.map_or(give_up, |e| e.min(give_up));
            let (guard, _) = self
                .freed
                .wait_timeout(open, wake.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner);
            open = guard;
        }
        let mut id = session_id()?;
        while open.contains_key(&id) {
            id = session_id()?;
        }
        open.insert(
            id.clone(),
            Entry {
                last_used: Instant::now(),
                executor: Arc::new(Mutex::new(executor)),
            },
        );
        tracing::debug!(session = %id, open = open.len(), "builder session opened");
        Ok(id)
    }

    /// Closes session `id` (no-op when unknown).
    pub fn close(&self, id: &str) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.remove(id).is_some() {
            self.freed.notify_all();
        }
    }

    /// Applies `tx` in session `id`, bounded by `deadline`.
    pub fn add_transaction(
        &self,
        id: &str,
        tx: &TxEnvelope,
        deadline: Deadline,
    ) -> Result<SimulateTransactionResult, SessionError> {
        let span =
            tracing::debug_span!("session_add_transaction", session = %id, tx = %tx.tx_hash());
        let _entered = span.enter();
        let executor = {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            self.reap(&mut open, Instant::now());
            let entry = open
                .get_mut(id)
                .ok_or_else(|| SessionError::NotFound(id.to_owned()))?;
            entry.last_used = Instant::now();
            Arc::clone(&entry.executor)
        };
        let mut exec = executor.lock().unwrap_or_else(PoisonError::into_inner);
        exec.set_deadline(deadline);
        let outcome = exec.execute(tx, true);
        exec.set_deadline(Deadline::NONE);
        drop(exec);
        // The call itself counts as use: restart the idle timer from its end.
        if let Some(entry) = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(id)
        {
            entry.last_used = Instant::now();
        }
        match outcome {
            Ok(done) => Ok(SimulateTransactionResult {
                egp: u64::try_from(done.effective_gas_price).unwrap_or(u64::MAX),
                logs: done
                    .logs
                    .into_iter()
                    .map(|log| SimulatedLog {
                        topics: log.data.topics().to_vec(),
                        data: log.data.data,
                        addr: log.address,
                    })
                    .collect(),
                success: true,
                error: String::new(),
            }),
            Err(TxFailure::Invalid(reason)) => {
                tracing::debug!(%reason, "transaction rejected");
                Ok(SimulateTransactionResult {
                    egp: 0,
                    logs: Vec::new(),
                    success: false,
                    error: reason,
                })
            }
            Err(TxFailure::Fatal(e)) => Err(SessionError::Build(e)),
        }
    }
}
