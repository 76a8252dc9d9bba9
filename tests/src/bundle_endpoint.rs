//! [`BundleEndpoint`]: a builder's bundle endpoint (JSON-RPC `eth_sendBundle` /
//! `mev_sendBundle`) on `127.0.0.1:<free port>` that authenticates each call by its
//! `X-Flashbots-Signature` header and records it for the test to inspect.
//!
//! The header check follows SUAVE-COMPAT §8.5 and is written here with alloy alone (not with
//! the kettle's own verifier), so a test checks the kettle against an independent reading:
//! the value is `<EIP-55 address>:0x<r ‖ s ‖ v>` with v 0 or 1, and the signature over the
//! EIP-191 personal-message hash of the ASCII text `"0x" + lower-hex(keccak256(body))` must
//! recover to the address the header names.
//!
//! A JSON-RPC POST with a valid header answers `200` with
//! `{"jsonrpc":"2.0","id":<id>,"result":{"bundleHash":"0x<keccak256(body)>"}}`; a missing or
//! bad header, or a body that is not a JSON-RPC request, answers `400` with a JSON-RPC error
//! object. Other methods than POST answer 405. Every POST is recorded, accepted or not. One
//! request per connection (`Connection: close`).

use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use alloy_primitives::{eip191_hash_message, hex, keccak256, Address, Signature, B256};
use serde_json::{json, Value};

use crate::http_server::{lock, read_request, respond, LoopbackServer, Request};

/// Name of the signature header (matched case-insensitively).
pub const SIGNATURE_HEADER: &str = "X-Flashbots-Signature";

/// Largest accepted request body.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// One POST the endpoint received and what it made of it.
#[derive(Debug, Clone)]
pub struct BundleCall {
    /// The raw body.
    pub body: Vec<u8>,
    /// The JSON-RPC `method` (empty if the body is not a JSON-RPC request).
    pub method: String,
    /// The JSON-RPC `params` (`Value::Null` if absent).
    pub params: Value,
    /// The raw `X-Flashbots-Signature` value, if sent.
    pub signature_header: Option<String>,
    /// The address the header names, if it parses as an EIP-55 address.
    pub header_address: Option<Address>,
    /// `Ok(signer)` when the signature recovers to the header's address, else why not.
    pub signer: Result<Address, String>,
    /// The `Content-Type` header, if sent.
    pub content_type: Option<String>,
}

impl BundleCall {
    /// Whether the signature verified (the call was answered with a result if it also was a
    /// JSON-RPC request).
    pub fn verified(&self) -> bool {
        self.signer.is_ok()
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `bundleHash` the endpoint answered: keccak256 of the body.
    pub fn bundle_hash(&self) -> B256 {
        keccak256(&self.body)
    }
}

/// A bundle endpoint on a free loopback port; stops on drop.
#[derive(Debug)]
pub struct BundleEndpoint {
    server: LoopbackServer,
    calls: Arc<Mutex<Vec<BundleCall>>>,
}

impl BundleEndpoint {
    /// Starts the endpoint on `127.0.0.1:<free port>`.
    pub fn start() -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = calls.clone();
        let server =
            LoopbackServer::start("bundle-endpoint", move |stream| handle(stream, &recorded));
        Self { server, calls }
    }

    /// The URL SUAPPs are given: `http://127.0.0.1:<port>` (any path is served).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every POST so far, in arrival order.
    pub fn calls(&self) -> Vec<BundleCall> {
        lock(&self.calls).clone()
    }
}

/// Verifies an `X-Flashbots-Signature` value against `body` (SUAVE-COMPAT §8.5): returns the
/// header's address when the signature recovers to it.
pub fn verify_flashbots_signature(header: &str, body: &[u8]) -> Result<Address, String> {
    let (addr, sig) = header
        .split_once(':')
        .ok_or_else(|| format!("no ':' in {SIGNATURE_HEADER} {header:?}"))?;
    let claimed = Address::parse_checksummed(addr, None)
        .map_err(|e| format!("{addr:?} is not an EIP-55 address: {e}"))?;
    let sig = sig
        .strip_prefix("0x")
        .ok_or_else(|| "signature lacks its 0x prefix".to_string())?;
    let raw = hex::decode(sig).map_err(|e| format!("signature is not hex: {e}"))?;
    if raw.len() != 65 {
        return Err(format!("signature has {} bytes, not 65", raw.len()));
    }
    if raw[64] > 1 {
        return Err(format!("signature v is {}, not 0 or 1", raw[64]));
    }
    let signature = Signature::from_bytes_and_parity(&raw[..64], raw[64] == 1);
    let text = format!("0x{}", hex::encode(keccak256(body)));
    let digest = eip191_hash_message(text.as_bytes());
    let recovered = signature
        .recover_address_from_prehash(&digest)
        .map_err(|e| format!("signature does not recover: {e}"))?;
    if recovered != claimed {
        return Err(format!(
            "signature recovers to {recovered}, the header names {claimed}"
        ));
    }
    Ok(recovered)
}

fn handle(stream: &mut TcpStream, calls: &Mutex<Vec<BundleCall>>) -> std::io::Result<()> {
    let request = match read_request(stream, MAX_BODY) {
        Ok(r) => r,
        Err(why) => return respond(stream, 400, &rpc_error(&Value::Null, &why)),
    };
    if request.method != "POST" {
        return respond(stream, 405, &rpc_error(&Value::Null, "only POST is served"));
    }
    let call = inspect(&request);
    let id = serde_json::from_slice::<Value>(&request.body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(json!(1));
    let (status, body) = match (&call.signer, call.method.is_empty()) {
        (_, true) => (400, rpc_error(&id, "not a JSON-RPC request")),
        (Err(why), false) => (400, rpc_error(&id, why)),
        (Ok(_), false) => (
            200,
            json!({
                "jsonrpc": "2.0",
                "id": id,
                "result": {"bundleHash": call.bundle_hash()},
            })
            .to_string(),
        ),
    };
    lock(calls).push(call);
    respond(stream, status, &body)
}

/// Parses the JSON-RPC body and checks the signature header.
fn inspect(request: &Request) -> BundleCall {
    let json: Option<Value> = serde_json::from_slice(&request.body).ok();
    let method = json
        .as_ref()
        .and_then(|v| v.get("method"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let params = json
        .as_ref()
        .and_then(|v| v.get("params"))
        .cloned()
        .unwrap_or(Value::Null);
    let signature_header = request.header(SIGNATURE_HEADER).map(str::to_owned);
    let header_address = signature_header
        .as_deref()
        .and_then(|h| h.split_once(':'))
        .and_then(|(a, _)| Address::parse_checksummed(a, None).ok());
    let signer = match &signature_header {
        Some(h) => verify_flashbots_signature(h, &request.body),
        None => Err(format!("no {SIGNATURE_HEADER} header")),
    };
    BundleCall {
        body: request.body.clone(),
        method,
        params,
        signature_header,
        header_address,
        signer,
        content_type: request.header("content-type").map(str::to_owned),
    }
}

fn rpc_error(id: &Value, why: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": why}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use std::time::Duration;

    /// The header value §8.5 describes, made with alloy's signer.
    fn header_for(key: &PrivateKeySigner, body: &[u8]) -> String {
        let text = format!("0x{}", hex::encode(keccak256(body)));
        let sig = key.sign_message_sync(text.as_bytes()).unwrap();
        let mut raw = sig.as_bytes();
        raw[64] -= 27;
        format!("{}:0x{}", key.address(), hex::encode(raw))
    }

    fn post(endpoint: &BundleEndpoint, body: &[u8], header: Option<&str>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut request = agent
            .post(&endpoint.url())
            .header("Content-Type", "application/json");
        if let Some(h) = header {
            request = request.header(SIGNATURE_HEADER, h);
        }
        let mut response = request.send(body).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn accepts_a_signed_call_and_records_it() {
        let endpoint = BundleEndpoint::start();
        let key = PrivateKeySigner::random();
        let body = br#"{"id":1,"jsonrpc":"2.0","method":"mev_sendBundle","params":[{"a":1}]}"#;
        let (status, answer) = post(&endpoint, body, Some(&header_for(&key, body)));
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["id"], 1);
        let hash: B256 = serde_json::from_value(answer["result"]["bundleHash"].clone()).unwrap();
        assert_eq!(hash, keccak256(body));

        let calls = endpoint.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].method, "mev_sendBundle");
        assert_eq!(calls[0].params, json!([{"a": 1}]));
        assert_eq!(calls[0].signer, Ok(key.address()));
        assert_eq!(calls[0].header_address, Some(key.address()));
        assert_eq!(calls[0].content_type.as_deref(), Some("application/json"));
    }

    #[test]
    fn refuses_missing_wrong_and_malformed_signatures() {
        let endpoint = BundleEndpoint::start();
        let (key, other) = (PrivateKeySigner::random(), PrivateKeySigner::random());
        let body = br#"{"id":1,"jsonrpc":"2.0","method":"eth_sendBundle","params":[]}"#;
        let good = header_for(&key, body);
        let (_, sig) = good.split_once(':').unwrap();
        let lower = format!("{}:{sig}", format!("{:?}", key.address()).to_lowercase());
        let mut v27 = hex::decode(&sig[2..]).unwrap();
        v27[64] += 27;
        let cases = [
            (None, "no X-Flashbots-Signature"),
            (Some(format!("{}:{sig}", other.address())), "recovers to"),
            (Some(header_for(&key, b"another body")), "recovers to"),
            (Some(lower), "EIP-55"),
            (
                Some(format!("{}:0x{}", key.address(), hex::encode(v27))),
                "not 0 or 1",
            ),
            (
                Some(format!("{}:{}", key.address(), &sig[2..])),
                "0x prefix",
            ),
            (Some("garbage".into()), "no ':'"),
        ];
        for (header, reason) in &cases {
            let (status, answer) = post(&endpoint, body, header.as_deref());
            assert_eq!(status, 400, "{header:?}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(reason), "{header:?}: {message}");
        }
        let (status, answer) = post(&endpoint, b"not json", Some(&header_for(&key, b"not json")));
        assert_eq!(status, 400, "{answer}");
        let calls = endpoint.calls();
        assert_eq!(calls.len(), cases.len() + 1);
        assert!(calls[..cases.len()].iter().all(|c| !c.verified()));
        // signed, but not JSON-RPC
        assert!(calls[cases.len()].verified());
        assert!(calls[cases.len()].method.is_empty());
    }

    /// The kettle's signer (`suave-precompiles-network`) and this independent check agree.
    #[test]
    fn agrees_with_the_kettle_signer() {
        let signer = suave_precompiles_network::BundleSigner::random();
        let body = br#"{"id":1,"jsonrpc":"2.0","method":"mev_sendBundle","params":[{}]}"#;
        let header = signer.header_value(body).unwrap();
        assert_eq!(
            verify_flashbots_signature(&header, body),
            Ok(signer.address())
        );
    }
}
