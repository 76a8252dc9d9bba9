//! `eth_subscribe`: `newHeads` and `logs` over WebSocket, fed by the chain's block channel.

use std::sync::Arc;

use alloy_rpc_types_eth::Filter;
use jsonrpsee::{
    core::SubscriptionResult,
    types::{ErrorObject, ErrorObjectOwned},
    PendingSubscriptionSink, SubscriptionSink,
};
use kettle_chain::{Chain, SealedBlock};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tracing::{debug, warn};

use crate::{error::INVALID_PARAMS_CODE, logs::matching_logs, types::rpc_header};

/// JSON-RPC code for an unknown subscription kind (geth: method not found).
const UNKNOWN_SUBSCRIPTION_CODE: i32 = -32601;

/// What a subscription delivers.
enum Kind {
    NewHeads,
    Logs(Box<Filter>),
}

/// Serves one `eth_subscribe` call until the client unsubscribes or disconnects.
pub(crate) async fn subscribe(
    chain: Arc<Chain>,
    pending: PendingSubscriptionSink,
    kind: String,
    params: Option<serde_json::Value>,
) -> SubscriptionResult {
    let kind = match parse_kind(&kind, params) {
        Ok(kind) => kind,
        Err(err) => {
            pending.reject(err).await;
            return Ok(());
        }
    };
    // Subscribe before accepting so no block sealed in between is missed.
    let mut blocks = chain.subscribe_blocks();
    let sink = pending.accept().await?;
    debug!(subscription = ?sink.subscription_id(), "subscription started");
    loop {
        tokio::select! {
            _ = sink.closed() => break,
            received = blocks.recv() => match received {
                Ok(block) => {
                    if !deliver(&sink, &kind, &block).await {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    warn!(missed, "subscriber too slow, blocks skipped");
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    debug!(subscription = ?sink.subscription_id(), "subscription ended");
    Ok(())
}

fn parse_kind(kind: &str, params: Option<serde_json::Value>) -> Result<Kind, ErrorObjectOwned> {
    match kind {
        "newHeads" => Ok(Kind::NewHeads),
        "logs" => match params {
            None | Some(serde_json::Value::Null) => Ok(Kind::Logs(Box::default())),
            Some(value) => serde_json::from_value::<Filter>(value)
                .map(|f| Kind::Logs(Box::new(f)))
                .map_err(|e| {
                    ErrorObject::owned(
                        INVALID_PARAMS_CODE,
                        format!("invalid logs filter: {e}"),
                        None::<()>,
                    )
                }),
        },
        other => Err(ErrorObject::owned(
            UNKNOWN_SUBSCRIPTION_CODE,
            format!("no {other:?} subscription in eth namespace"),
            None::<()>,
        )),
    }
}

/// Sends what `block` means for this subscription; `false` once the client is gone.
async fn deliver(sink: &SubscriptionSink, kind: &Kind, block: &SealedBlock) -> bool {
    match kind {
        Kind::NewHeads => send(sink, &rpc_header(block)).await,
        Kind::Logs(filter) => {
            for log in matching_logs(block, filter) {
                if !send(sink, &log).await {
                    return false;
                }
            }
            true
        }
    }
}

async fn send(sink: &SubscriptionSink, item: &impl Serialize) -> bool {
    match serde_json::value::to_raw_value(item) {
        Ok(raw) => sink.send(raw).await.is_ok(),
        Err(err) => {
            warn!(error = %err, "cannot serialize subscription item");
            true
        }
    }
}
