//! `ethcall` (0x…42100003): a read-only call on the configured Ethereum backend.
//!
//! suave-geth sends `suavex_call` with params `[address, base64(input)]` and decodes a base64
//! result (SUAVE-COMPAT §7.2); its backend runs the call at `latest` with a 100,000 gas cap and
//! returns the return data even when the call reverts. A plain Ethereum node has no `suavex`
//! namespace, so when the backend answers "method not found" (code -32601, or geth's
//! "the method suavex_call does not exist/is not available") this falls back to
//! `eth_call({to, data, gas: 100000}, "latest")`, mapping a revert with data (code 3) to that
//! data, as `suavex_call` would return it. The outcome of the probe is remembered.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use alloy_primitives::{hex, Address, Bytes};
use base64::Engine;
use serde_json::{json, Value};
use url::Url;

use crate::error::{NetworkError, TransportError};
use crate::http::{HopError, HopRequest, HttpClient, Method};
use crate::policy::{vet_addresses, NameResolver, Target, Trust, VetError};

/// Gas cap suave-geth's backend applies to `suavex_call`, reused for the `eth_call` fallback.
pub const CALL_GAS_CAP: u64 = 100_000;

/// How errors name the backend (its URL may carry credentials).
const LABEL: &str = "eth_backend";

const UNKNOWN: u8 = 0;
const SUAVEX: u8 = 1;
const PLAIN: u8 = 2;

/// A JSON-RPC endpoint configured by the operator (trusted: any address, no allow-list).
#[derive(Debug)]
pub struct EthRpc {
    target: Target,
    dialect: AtomicU8,
}

/// The outcome of one JSON-RPC call.
#[derive(Clone, Debug, PartialEq)]
pub enum RpcReply {
    /// `result`.
    Result(Value),
    /// `error`.
    Error {
        /// `error.code`.
        code: i64,
        /// `error.message`.
        message: String,
        /// `error.data`, if any.
        data: Option<Value>,
    },
}

/// What a call needs from the kettle.
pub struct RpcContext<'a> {
    /// Transport.
    pub client: &'a dyn HttpClient,
    /// Name resolution.
    pub resolver: &'a dyn NameResolver,
    /// Timeout of each call.
    pub timeout: Duration,
    /// Largest response body.
    pub max_body: u64,
}

fn backend_error(reason: TransportError) -> NetworkError {
    NetworkError::Transport {
        op: "Post",
        url: LABEL.into(),
        reason,
    }
}

impl EthRpc {
    /// An endpoint at `url` (http or https).
    pub fn new(url: &str) -> Result<Self, NetworkError> {
        let url = Url::parse(url)
            .map_err(|e| NetworkError::Config(format!("eth_backend: invalid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(NetworkError::Config(
                "eth_backend: not an http(s) URL with a host".into(),
            ));
        }
        Ok(Self {
            target: Target {
                url,
                trust: Trust::Listed,
                label: LABEL.into(),
            },
            dialect: AtomicU8::new(UNKNOWN),
        })
    }

    /// Sends one JSON-RPC request and returns its `result` or `error`. A non-2xx status fails
    /// as Go's RPC client does (`<status line>: <body>`).
    pub fn request(
        &self,
        ctx: &RpcContext<'_>,
        method: &str,
        params: Value,
    ) -> Result<RpcReply, NetworkError> {
        let body = serde_json::to_vec(&json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": method,
            "params": params,
        }))
        .map_err(|e| NetworkError::Json(e.to_string()))?;
        let started = Instant::now();
        let span = tracing::debug_span!("eth_backend", method);
        let _entered = span.enter();
        let addrs =
            vet_addresses(&self.target, ctx.resolver, ctx.timeout).map_err(|e| match e {
                VetError::Lookup(reason) => backend_error(TransportError::Lookup {
                    host: self.target.host(),
                    reason,
                }),
                VetError::Internal => NetworkError::InternalAddress(self.target.host()),
            })?;
        let headers = [
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        let response = ctx
            .client
            .send(&HopRequest {
                method: Method::Post,
                url: &self.target.url,
                addrs: &addrs,
                headers: &headers,
                body: Some(&body),
                timeout: ctx.timeout.saturating_sub(started.elapsed()),
                max_body: ctx.max_body,
            })
            .map_err(|e| match e {
                HopError::Timeout => backend_error(TransportError::Timeout),
                HopError::BodyTimeout => NetworkError::BodyTimeout,
                HopError::BodyTooLarge => NetworkError::BodyTooLarge {
                    limit: ctx.max_body,
                },
                HopError::Io(reason) => backend_error(TransportError::Io(reason)),
            })?;
        tracing::debug!(status = response.status, "eth backend answered");
        if !(200..300).contains(&response.status) {
            let reason = ureq::http::StatusCode::from_u16(response.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            let status_line = format!("{} {reason}", response.status);
            let status_line = status_line.trim_end();
            return Err(NetworkError::Backend(if response.body.is_empty() {
                status_line.to_owned()
            } else {
                format!("{status_line}: {}", String::from_utf8_lossy(&response.body))
            }));
        }
        let reply: Value = serde_json::from_slice(&response.body)
            .map_err(|e| NetworkError::Backend(format!("invalid JSON-RPC response: {e}")))?;
        if let Some(err) = reply.get("error").filter(|e| !e.is_null()) {
            let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("json-rpc error {code}"));
            return Ok(RpcReply::Error {
                code,
                message,
                data: err.get("data").cloned(),
            });
        }
        Ok(RpcReply::Result(
            reply.get("result").cloned().unwrap_or(Value::Null),
        ))
    }

    /// `ethcall`: `suavex_call`, or `eth_call` on a backend without the suavex namespace.
    pub fn call(
        &self,
        ctx: &RpcContext<'_>,
        contract: Address,
        input: &[u8],
    ) -> Result<Bytes, NetworkError> {
        if self.dialect.load(Ordering::Relaxed) != PLAIN {
            let params = json!([
                format!("0x{}", hex::encode(contract)),
                base64::engine::general_purpose::STANDARD.encode(input),
            ]);
            match self.request(ctx, "suavex_call", params)? {
                RpcReply::Result(value) => {
                    self.dialect.store(SUAVEX, Ordering::Relaxed);
                    return decode_base64_result(&value);
                }
                RpcReply::Error { code, message, .. } if is_method_not_found(code, &message) => {
                    tracing::info!("eth backend has no suavex_call; using eth_call");
                    self.dialect.store(PLAIN, Ordering::Relaxed);
                }
                RpcReply::Error { message, .. } => return Err(NetworkError::Backend(message)),
            }
        }
        let params = json!([
            {
                "to": format!("0x{}", hex::encode(contract)),
                "data": format!("0x{}", hex::encode(input)),
                "gas": format!("{CALL_GAS_CAP:#x}"),
            },
            "latest"
        ]);
        match self.request(ctx, "eth_call", params)? {
            RpcReply::Result(value) => decode_hex_result(&value),
            RpcReply::Error {
                code: 3,
                data: Some(data),
                ..
            } => decode_hex_result(&data),
            RpcReply::Error { message, .. } => Err(NetworkError::Backend(message)),
        }
    }
}

fn is_method_not_found(code: i64, message: &str) -> bool {
    code == -32601
        || (message.contains("suavex_call")
            && (message.contains("does not exist") || message.contains("not available")))
}

fn decode_base64_result(value: &Value) -> Result<Bytes, NetworkError> {
    match value {
        Value::Null => Ok(Bytes::new()),
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Bytes::from)
            .map_err(|e| NetworkError::Backend(format!("invalid suavex_call result: {e}"))),
        _ => Err(NetworkError::Backend(
            "invalid suavex_call result: not a string".into(),
        )),
    }
}

fn decode_hex_result(value: &Value) -> Result<Bytes, NetworkError> {
    value
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .map(Bytes::from)
        .ok_or_else(|| NetworkError::Backend("invalid eth_call result".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_not_found_shapes() {
        assert!(is_method_not_found(-32601, "Method not found"));
        assert!(is_method_not_found(
            -32000,
            "the method suavex_call does not exist/is not available"
        ));
        assert!(!is_method_not_found(-32000, "execution reverted"));
    }

    #[test]
    fn results_decode() {
        assert_eq!(
            decode_base64_result(&json!("aGk=")).unwrap(),
            Bytes::from_static(b"hi")
        );
        assert_eq!(decode_base64_result(&Value::Null).unwrap(), Bytes::new());
        assert!(decode_base64_result(&json!(1)).is_err());
        assert_eq!(
            decode_hex_result(&json!("0x6869")).unwrap(),
            Bytes::from_static(b"hi")
        );
        assert!(decode_hex_result(&json!("zz")).is_err());
        assert!(EthRpc::new("ftp://x").is_err());
        assert!(EthRpc::new("http://127.0.0.1:8545").is_ok());
    }
}
