//! Test helpers: a real HTTP/1.1 server on 127.0.0.1 with canned answers, precompile call
//! helpers, and the transactions and block arguments the builder tests share.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{address, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::precompiles::SuavePrecompiles::{doHTTPRequest2Call, doHTTPRequestCall};
use kettle_contracts::{BuildBlockArgs, HttpRequest};
use suave_precompiles::ExternalRun;

/// A request as the server saw it.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200, body)
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A server on 127.0.0.1 that records requests and answers with a handler. It lives until the
/// test process exits.
pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = handler.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(stream, &*handler, &recorded));
            }
        });
        Self { addr, requests }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://<host>:<port><path>`.
    pub fn url_as(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, recorded: &Mutex<Vec<Recorded>>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() {
            return;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Recorded {
        method,
        path,
        headers,
        body,
    };
    recorded.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    std::thread::sleep(reply.delay);
    let mut out = format!("HTTP/1.1 {} Canned\r\n", reply.status);
    for (n, v) in &reply.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

/// An `HttpRequest` with defaults.
pub fn request(method: &str, url: &str) -> HttpRequest {
    HttpRequest {
        url: url.into(),
        method: method.into(),
        headers: Vec::new(),
        body: Bytes::new(),
        withFlashbotsSignature: false,
        timeout: 0,
    }
}

/// The precompile at `address` on the ABI parameters of `call` (selector stripped), as the
/// MEVM would call it; the error is the revert message.
pub fn call<C: SolCall>(
    run: &mut dyn ExternalRun,
    address: Address,
    call: &C,
) -> Result<Bytes, String> {
    let encoded = call.abi_encode();
    run.run(address, &encoded[4..]).map_err(|e| e.0)
}

/// doHTTPRequest: body or revert message.
pub fn http1(run: &mut dyn ExternalRun, req: HttpRequest) -> Result<Vec<u8>, String> {
    let out = call(
        run,
        suave_precompiles::addresses::DO_HTTP_REQUEST,
        &doHTTPRequestCall { request: req },
    )?;
    Ok(doHTTPRequestCall::abi_decode_returns(&out)
        .expect("output decodes")
        .to_vec())
}

/// doHTTPRequest2: (status, body) or revert message.
pub fn http2(run: &mut dyn ExternalRun, req: HttpRequest) -> Result<(u64, Vec<u8>), String> {
    let out = call(
        run,
        suave_precompiles::addresses::DO_HTTP_REQUEST2,
        &doHTTPRequest2Call { request: req },
    )?;
    let resp = doHTTPRequest2Call::abi_decode_returns(&out).expect("output decodes");
    assert!(resp.error.is_empty());
    Ok((resp.status, resp.body.to_vec()))
}

/// A legacy transaction on chain 1 (gas price 13, no value) signed with the key `[key; 32]`,
/// EIP-2718 encoded: the one recipe behind every test's bundle transactions.
pub fn legacy_tx(key: u8, nonce: u64, to: TxKind, gas_limit: u64, input: &[u8]) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(1),
        nonce,
        gas_price: 13,
        gas_limit,
        to,
        value: U256::ZERO,
        input: Bytes::copy_from_slice(input),
    };
    let signer = PrivateKeySigner::from_slice(&[key; 32]).unwrap();
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

/// An empty 21 000-gas call to `0x22…22` signed with key `[5; 32]`: the user and match
/// transactions of the MEV-Share fixtures.
pub fn transfer_tx(nonce: u64) -> Vec<u8> {
    legacy_tx(
        5,
        nonce,
        TxKind::Call(Address::repeat_byte(0x22)),
        21_000,
        &[],
    )
}

/// Block arguments for slot 1 (30M gas, no withdrawals): what the block-building tests ask for.
pub fn block_args() -> BuildBlockArgs {
    BuildBlockArgs {
        slot: 1,
        proposerPubkey: Bytes::from_static(&[0x42]),
        parent: B256::ZERO,
        timestamp: 0,
        feeRecipient: address!("0x4200000000000000000000000000000000000000"),
        gasLimit: 30_000_000,
        random: B256::ZERO,
        withdrawals: vec![],
        extra: Bytes::new(),
        beaconRoot: B256::ZERO,
        fillPending: false,
    }
}
