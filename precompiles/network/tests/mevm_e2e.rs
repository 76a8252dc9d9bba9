//! The network precompiles end to end: the test SUAPP `NetworkSuapp` (compiled from
//! `contracts/test/NetworkSuapp.sol` against our `Suave.sol`) is deployed into an in-memory revm
//! state and runs signed confidential compute requests through [`Mevm`] with [`Network`]
//! plugged in, against real HTTP servers on 127.0.0.1 (named explicitly in the allow-list).
//!
//! Every expectation that SUAVE-COMPAT (or the reference behind it) defines byte for byte is
//! built here by hand (callback calldata, `0x543543` log carrier, `PeekerReverted` revert data,
//! `mev_sendBundle` body, `X-Flashbots-Signature` verification) rather than with the code under
//! test. Servers only ever listen on 127.0.0.1; refused hosts are refused before any lookup.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy_primitives::{
    address, eip191_hash_message, hex, keccak256, Address, Bytes, Signature, TxKind, B128, B256,
    U256,
};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use kettle_contracts::network_suapp::{
    NetworkSuapp::{self, Received},
    Suave::HttpRequest,
};
use kettle_primitives::{ConfidentialComputeRequest, DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
use revm::{
    context_interface::result::ExecutionResult,
    database::{CacheDB, EmptyDB},
    handler::ExecuteEvm,
    state::{AccountInfo, Bytecode},
};
use suave_precompiles::{
    addresses, store::memory::MemoryStore, BlockContext, ConfidentialOutcome, ConfidentialStore,
    KettleContext, Mevm, MevmError, RequestKind, SuaveEvm,
};
use suave_precompiles_network::config::SecretHex;
use suave_precompiles_network::{Network, NetworkConfig};
use support::{Recorded, Reply, TestServer};

/// Where `NetworkSuapp` is deployed.
const SUAPP: Address = address!("0x0000000000000000000000000000000000005a99");
/// Key of the dev user (suave-geth's published dev key), who signs the requests.
const USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";
/// The dev user's address.
const USER: Address = kettle_primitives::DEV_USER_ADDRESS;
/// Bundle-signing key of the kettle (suave-geth's published dev kettle key).
const BUNDLE_KEY: &str = "0x6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
/// Its address, EIP-55, as receivers must see it in `X-Flashbots-Signature`.
const BUNDLE_SIGNER: &str = "0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F";
/// Timeout every request of these tests asks for, in milliseconds.
const TIMEOUT_MS: u64 = 2_000;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// A kettle: chain state with the SUAPP deployed and the user funded, a committed confidential
/// store, and the network precompiles.
struct Kettle {
    db: CacheDB<EmptyDB>,
    kettle: KettleContext,
    store: MemoryStore,
    block: BlockContext,
    net: Network,
    user: PrivateKeySigner,
}

impl Kettle {
    /// HTTP may reach `allowed` hosts and the `aliases`; bundles are signed with `BUNDLE_KEY`.
    fn new(allowed: &[&str], aliases: &[(&str, String)]) -> Self {
        let config = NetworkConfig {
            allowed_hosts: allowed.iter().map(|h| h.to_string()).collect(),
            service_aliases: aliases
                .iter()
                .map(|(name, url)| (name.to_string(), url.clone()))
                .collect::<BTreeMap<_, _>>(),
            bundle_signing_key: Some(SecretHex(BUNDLE_KEY.into())),
            // Requests that ask for no timeout (bundle submission) stay bounded too.
            default_timeout_ms: TIMEOUT_MS,
            max_timeout_ms: TIMEOUT_MS,
            ..NetworkConfig::default()
        };
        let mut db = CacheDB::new(EmptyDB::default());
        let code = Bytes::copy_from_slice(&NetworkSuapp::DEPLOYED_BYTECODE);
        db.insert_account_info(
            SUAPP,
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(code)),
                ..Default::default()
            },
        );
        db.insert_account_info(
            USER,
            AccountInfo {
                balance: U256::from(10u128.pow(22)),
                ..Default::default()
            },
        );
        Self {
            db,
            kettle: KettleContext::new(DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID),
            store: MemoryStore::new(),
            block: BlockContext {
                number: 100,
                timestamp: 1_700_000_000,
                basefee: 7,
                gas_limit: 30_000_000,
                ..Default::default()
            },
            net: Network::new(config).expect("network config"),
            user: USER_KEY.parse().expect("user key"),
        }
    }

    /// A `0x43` request of the user calling the SUAPP with `call` and `inputs`: signed, sent
    /// through its wire encoding, decoded and its sender recovered, as the node receives it.
    fn signed_request<C: SolCall>(
        &self,
        call: &C,
        inputs: &[u8],
    ) -> (ConfidentialComputeRequest, Address) {
        let mut request = ConfidentialComputeRequest::default();
        request.record.nonce = 0;
        request.record.to = Some(SUAPP);
        request.record.gas = 2_000_000;
        request.record.gas_price = U256::from(1_000_000_000u64);
        request.record.data = call.abi_encode().into();
        request.record.kettle_address = DEV_KETTLE_ADDRESS;
        request.record.chain_id = U256::from(SUAVE_DEV_CHAIN_ID);
        request.confidential_inputs = Bytes::copy_from_slice(inputs);
        request.sign(&self.user).expect("sign");
        let received = ConfidentialComputeRequest::decode(&request.encoded()).expect("decodes");
        assert_eq!(received, request);
        let sender = received
            .recover_signer(SUAVE_DEV_CHAIN_ID)
            .expect("recovers");
        assert_eq!(sender, USER);
        (received, sender)
    }

    /// Runs `call` as the user's signed `0x43` (eth_sendRawTransaction path).
    fn send<C: SolCall>(&self, call: &C, inputs: &[u8]) -> Result<ConfidentialOutcome, MevmError> {
        let (request, sender) = self.signed_request(call, inputs);
        self.run(&request, RequestKind::Transaction { sender })
    }

    /// Runs `call` as a confidential `eth_call` (sender = zero address).
    fn call<C: SolCall>(&self, call: &C, inputs: &[u8]) -> Result<ConfidentialOutcome, MevmError> {
        let (request, _) = self.signed_request(call, inputs);
        self.run(&request, RequestKind::Call)
    }

    fn run(
        &self,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        Mevm::new(&self.kettle, &self.store)
            .with_external(&self.net)
            .execute(self.db.clone(), &self.block, request, kind)
    }

    /// Commits a successful run's store writes, as the node does when it accepts the request.
    fn commit(&self, outcome: &ConfidentialOutcome) {
        self.store.commit(&outcome.store_writes).expect("commit");
    }

    /// Executes `call` on chain (block execution: no confidential mode), from the user.
    fn on_chain<C: SolCall>(&self, call: &C) -> ExecutionResult {
        let mut evm = SuaveEvm::on_chain(self.db.clone(), &self.block, self.kettle.chain_id);
        let tx = revm::context::TxEnv {
            caller: USER,
            kind: TxKind::Call(SUAPP),
            data: call.abi_encode().into(),
            gas_limit: 2_000_000,
            gas_price: 7,
            nonce: 0,
            chain_id: Some(self.kettle.chain_id),
            ..Default::default()
        };
        evm.transact(tx).expect("valid transaction").result
    }
}

/// An `HttpRequest` with no headers, no body, no signature and the test timeout.
fn http(method: &str, url: &str) -> HttpRequest {
    HttpRequest {
        url: url.into(),
        method: method.into(),
        headers: Vec::new(),
        body: Bytes::new(),
        withFlashbotsSignature: false,
        timeout: TIMEOUT_MS,
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built reference encodings
// ---------------------------------------------------------------------------------------------

fn word_u64(n: u64) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

/// The tail of an ABI `bytes`: length word, then the bytes zero-padded to whole words.
fn bytes_tail(data: &[u8]) -> Vec<u8> {
    let mut out = word_u64(data.len() as u64).to_vec();
    out.extend_from_slice(data);
    out.resize(32 + data.len().div_ceil(32) * 32, 0);
    out
}

/// `abi.encode(bytes)`: offset 0x20, then the tail.
fn abi_bytes(data: &[u8]) -> Vec<u8> {
    [word_u64(0x20).to_vec(), bytes_tail(data)].concat()
}

/// The first four bytes of `keccak256(signature)`.
fn selector(signature: &str) -> [u8; 4] {
    keccak256(signature)[..4].try_into().unwrap()
}

/// A `0x543543` log carrier (SUAVE-COMPAT §3.8): the magic, then `abi.encode(Log[])` in
/// function-arguments style, `Log = (address addr, bytes32[] topics, bytes data)`.
fn log_carrier(logs: &[(Address, Vec<B256>, Vec<u8>)]) -> Vec<u8> {
    let mut elements = Vec::new();
    for (addr, topics, data) in logs {
        let mut e = B256::left_padding_from(addr.as_slice()).to_vec();
        let topics_at = 3 * 32;
        let data_at = topics_at + 32 + 32 * topics.len();
        e.extend_from_slice(&word_u64(topics_at as u64));
        e.extend_from_slice(&word_u64(data_at as u64));
        e.extend_from_slice(&word_u64(topics.len() as u64));
        for t in topics {
            e.extend_from_slice(t.as_slice());
        }
        e.extend_from_slice(&bytes_tail(data));
        elements.push(e);
    }
    let mut out = vec![0x54, 0x35, 0x43];
    out.extend_from_slice(&word_u64(0x20));
    out.extend_from_slice(&word_u64(logs.len() as u64));
    let mut offset = 32 * logs.len();
    for e in &elements {
        out.extend_from_slice(&word_u64(offset as u64));
        offset += e.len();
    }
    for e in elements {
        out.extend_from_slice(&e);
    }
    out
}

/// Go's `%v` of a byte slice: `[104 105]`.
fn go_bytes(data: &[u8]) -> String {
    let parts: Vec<String> = data.iter().map(u8::to_string).collect();
    format!("[{}]", parts.join(" "))
}

/// The error of a run that failed in a precompile: suave-geth's message, after checking the
/// revert data is exactly `PeekerReverted(precompile, message)`.
fn peeker_failure(result: Result<ConfidentialOutcome, MevmError>, precompile: Address) -> String {
    let err = result.expect_err("the run must fail");
    let MevmError::Reverted {
        output, gas_used, ..
    } = &err
    else {
        panic!("expected a revert, got {err:?}");
    };
    // A failing precompile reverts and hands back the gas it was given (it is not a halt that
    // burns the 2,000,000 of the request).
    assert!(*gas_used < 300_000, "{err}: used {gas_used} gas");
    let message = err
        .to_string()
        .strip_prefix(&format!(
            "execution reverted: precompile '{}' reverted: '",
            precompile.to_checksum(None)
        ))
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("not a PeekerReverted message: {err}"))
        .to_owned();
    // PeekerReverted(address, bytes): selector 0x75fff467, address word, offset 0x40, bytes.
    let mut expected = hex!("75fff467").to_vec();
    expected.extend_from_slice(B256::left_padding_from(precompile.as_slice()).as_slice());
    expected.extend_from_slice(&word_u64(0x40));
    expected.extend_from_slice(&bytes_tail(message.as_bytes()));
    assert_eq!(output.to_vec(), expected, "revert data of {err}");
    err.to_string()
}

/// Checks an `X-Flashbots-Signature` value independently of the crate (SUAVE-COMPAT §8.5):
/// `<EIP-55 address>:0x<r‖s‖v>`, v 0/1, secp256k1 over the EIP-191 hash of
/// `"0x" + lower-hex(keccak256(body))`. Returns the signer if the header names it.
fn flashbots_signer(header: &str, body: &[u8]) -> Option<Address> {
    let (named, sig) = header.split_once(':')?;
    let raw = hex::decode(sig.strip_prefix("0x")?).ok()?;
    if raw.len() != 65 || raw[64] > 1 {
        return None;
    }
    let text = format!("0x{}", hex::encode(keccak256(body)));
    let signature = Signature::from_bytes_and_parity(&raw[..64], raw[64] == 1);
    let signer = signature
        .recover_address_from_prehash(&eip191_hash_message(text.as_bytes()))
        .ok()?;
    (signer.to_checksum(None) == named).then_some(signer)
}

/// A signed legacy transaction to `to` with `input`, binary, 0x-hex.
fn signed_tx(nonce: u64, to: Address, input: &[u8]) -> String {
    let tx = support::legacy_tx(0x5e, nonce, TxKind::Call(to), 60_000, input);
    format!("0x{}", hex::encode(tx))
}

// ---------------------------------------------------------------------------------------------
// doHTTPRequest / doHTTPRequest2
// ---------------------------------------------------------------------------------------------

/// GET with a header from calldata and a secret header from the confidential inputs: the server
/// sees both, the SUAPP gets the body, and the `0x50` calldata is `onFetched(body)` (the callback
/// rule unwraps the returned `bytes` because its length is 4 mod 32), with no log carrier.
#[test]
fn get_with_headers_returns_the_body_as_callback() {
    let server = TestServer::start(|r| match r.header("x-api-key") {
        Some("s3cret") => Reply::ok("{\"price\":\"42.5\"}"),
        _ => Reply::status(401, "no key"),
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let mut request = http("GET", &server.url("/price?pair=eth-usd"));
    request.headers = vec!["a:b".into()];
    let call = NetworkSuapp::fetchCall { request };
    let out = k.send(&call, b"X-Api-Key: s3cret").unwrap();

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/price?pair=eth-usd");
    assert_eq!(seen[0].header("a"), Some("b"));
    assert_eq!(seen[0].header("x-api-key"), Some("s3cret"));
    assert!(seen[0].body.is_empty());

    let body = b"{\"price\":\"42.5\"}";
    let callback = [selector("onFetched(bytes)").to_vec(), abi_bytes(body)].concat();
    assert_eq!(out.callback_calldata.to_vec(), callback);
    assert_eq!(out.raw_return.to_vec(), abi_bytes(&callback));
    assert!(out.logs.is_empty());
    assert!(out.store_writes.records.is_empty() && out.store_writes.writes.is_empty());

    // The confidential eth_call of the same request returns the same raw data.
    let call_out = k.call(&call, b"X-Api-Key: s3cret").unwrap();
    assert_eq!(call_out.raw_return, out.raw_return);
    assert_eq!(server.requests().len(), 2);
}

/// POST with a body and a content type: both reach the server unchanged.
#[test]
fn post_with_body_reaches_the_server() {
    let server = TestServer::start(|r| {
        Reply::ok(format!(
            "{} {} {}",
            r.method,
            r.header("content-type").unwrap_or("-"),
            String::from_utf8_lossy(&r.body)
        ))
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let mut request = http("POST", &server.url("/submit"));
    request.headers = vec!["Content-Type:application/json".into()];
    request.body = Bytes::from_static(b"{\"q\":[1,2]}");
    let out = k.send(&NetworkSuapp::fetchCall { request }, b"").unwrap();

    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/submit");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("content-length"), Some("11"));
    assert_eq!(seen.body, b"{\"q\":[1,2]}");
    let body = b"POST application/json {\"q\":[1,2]}";
    assert_eq!(
        out.callback_calldata.to_vec(),
        [selector("onFetched(bytes)").to_vec(), abi_bytes(body)].concat()
    );
}

/// doHTTPRequest2 hands a 301 (no `Location`, so nothing to follow) and a 404 back as data;
/// the `Received` event of the run is carried after the callback in the `0x543543` format.
#[test]
fn http2_returns_non_2xx_status_as_data_with_log_carrier() {
    let server = TestServer::start(|r| match r.path.as_str() {
        "/moved" => Reply::status(301, "moved"),
        _ => Reply::status(404, ""),
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let received = keccak256("Received(uint64,bytes32)");
    assert_eq!(received, Received::SIGNATURE_HASH);
    for (path, status, body) in [("/moved", 301u64, &b"moved"[..]), ("/gone", 404, b"")] {
        let request = http("GET", &server.url(path));
        let out = k.send(&NetworkSuapp::fetch2Call { request }, b"").unwrap();
        // onResponse(uint64 status, bytes body): status word, offset 0x40, bytes.
        let mut callback = selector("onResponse(uint64,bytes)").to_vec();
        callback.extend_from_slice(&word_u64(status));
        callback.extend_from_slice(&word_u64(0x40));
        callback.extend_from_slice(&bytes_tail(body));
        let log = (
            SUAPP,
            vec![received, B256::from(word_u64(status))],
            keccak256(body).to_vec(),
        );
        let expected = [callback, log_carrier(&[log])].concat();
        assert_eq!(out.callback_calldata.to_vec(), expected, "{path}");
        assert_eq!(out.logs.len(), 1);
    }
    assert_eq!(server.requests().len(), 2);
}

/// doHTTPRequest fails above status 299: the run reverts with Suave.sol's `PeekerReverted`, and
/// suave-geth's message names the precompile and Go's rendering of the body.
#[test]
fn http_error_status_fails_the_run() {
    let server = TestServer::start(|r| match r.path.as_str() {
        "/found" => Reply::status(302, "found"),
        _ => Reply::status(500, "boom"),
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    for (path, status, body) in [("/found", 302, &b"found"[..]), ("/fail", 500, b"boom")] {
        let request = http("GET", &server.url(path));
        let err = peeker_failure(
            k.send(&NetworkSuapp::fetchCall { request }, b""),
            addresses::DO_HTTP_REQUEST,
        );
        assert_eq!(
            err,
            format!(
                "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'http error: {status}: {}'",
                go_bytes(body)
            )
        );
    }
    assert_eq!(
        go_bytes(b"boom"),
        "[98 111 111 109]",
        "Go's %v of []byte(\"boom\")"
    );
    assert_eq!(server.requests().len(), 2);
}

/// A host missing from the allow-list is refused before anything is sent (here `localhost`,
/// although the server listens there); an alias resolves to its URL whatever the allow-list
/// says; an unregistered alias is a URL with an empty host, refused (SUAVE-COMPAT §11.19).
#[test]
fn allow_list_and_service_aliases() {
    let server = TestServer::start(|r| Reply::ok(format!("rpc at {}", r.path)));
    let k = Kettle::new(&["127.0.0.1"], &[("goerli", server.url("/rpc"))]);

    let request = http("GET", &server.url_as("localhost", "/x"));
    let err = peeker_failure(
        k.send(&NetworkSuapp::fetchCall { request }, b""),
        addresses::DO_HTTP_REQUEST,
    );
    assert_eq!(
        err,
        "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'domain localhost is not allowed'"
    );
    let request = http("GET", "http://api.blocked.invalid/v1");
    let err = peeker_failure(
        k.send(&NetworkSuapp::fetch2Call { request }, b""),
        addresses::DO_HTTP_REQUEST2,
    );
    assert_eq!(
        err,
        "execution reverted: precompile '0x0000000000000000000000000000000043200003' reverted: 'domain api.blocked.invalid is not allowed'"
    );
    // Without Suave.sol's wrapper the SUAPP sees the refusal as the raw UTF-8 revert data.
    let out = k
        .send(
            &NetworkSuapp::rawHttpCall {
                request: http("GET", &server.url_as("localhost", "/x")),
            },
            b"",
        )
        .unwrap();
    let ret = NetworkSuapp::rawHttpCall::abi_decode_returns(&out.raw_return).unwrap();
    assert!(ret.confidential && !ret.ok);
    assert_eq!(ret.output.as_ref(), b"domain localhost is not allowed");
    assert!(server.requests().is_empty());

    let mut request = http("POST", "goerli");
    request.body = Bytes::from_static(b"{}");
    let out = k.send(&NetworkSuapp::fetchCall { request }, b"").unwrap();
    assert_eq!(
        out.callback_calldata.to_vec(),
        [
            selector("onFetched(bytes)").to_vec(),
            abi_bytes(b"rpc at /rpc")
        ]
        .concat()
    );
    assert_eq!(server.requests().len(), 1);

    let request = http("POST", "sepolia");
    let err = peeker_failure(
        k.send(&NetworkSuapp::fetchCall { request }, b""),
        addresses::DO_HTTP_REQUEST,
    );
    assert_eq!(
        err,
        "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'domain  is not allowed'"
    );
    assert_eq!(server.requests().len(), 1);
}

/// The request's `timeout` bounds the exchange: a server that answers after 3 s fails the run
/// after about 300 ms with Go's client-timeout message.
#[test]
fn slow_server_times_out() {
    let server = TestServer::start(|_| Reply::ok("late").delayed(Duration::from_secs(3)));
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let mut request = http("GET", &server.url("/slow"));
    request.timeout = 300;
    let started = Instant::now();
    let err = peeker_failure(
        k.send(&NetworkSuapp::fetchCall { request }, b""),
        addresses::DO_HTTP_REQUEST,
    );
    let took = started.elapsed();
    assert_eq!(
        err,
        format!(
            "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: 'Get \"{}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'",
            server.url("/slow")
        )
    );
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

/// `withFlashbotsSignature: true`: the server checks `X-Flashbots-Signature` over the body
/// against the configured bundle-signing key and only then answers 200; without the flag it
/// answers 403, which fails the run.
#[test]
fn flashbots_signature_verified_by_the_server() {
    let expected = PrivateKeySigner::from_slice(&hex::decode(BUNDLE_KEY).unwrap())
        .unwrap()
        .address();
    assert_eq!(expected.to_checksum(None), BUNDLE_SIGNER);
    let server = TestServer::start(move |r| {
        let signer = r
            .header("x-flashbots-signature")
            .and_then(|h| flashbots_signer(h, &r.body));
        if signer == Some(expected) {
            Reply::ok("verified")
        } else {
            Reply::status(403, "bad signature")
        }
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let mut request = http("POST", &server.url("/relay"));
    request.body = Bytes::from_static(b"{\"jsonrpc\":\"2.0\",\"method\":\"eth_sendBundle\"}");
    request.withFlashbotsSignature = true;
    let out = k
        .send(
            &NetworkSuapp::fetchCall {
                request: request.clone(),
            },
            b"",
        )
        .unwrap();
    assert_eq!(
        out.callback_calldata.to_vec(),
        [
            selector("onFetched(bytes)").to_vec(),
            abi_bytes(b"verified")
        ]
        .concat()
    );
    let header = server.requests()[0]
        .header("x-flashbots-signature")
        .unwrap()
        .to_owned();
    assert!(
        header.starts_with(&format!("{BUNDLE_SIGNER}:0x")),
        "{header}"
    );
    assert_eq!(header.len(), 42 + 1 + 2 + 130);

    request.withFlashbotsSignature = false;
    let err = peeker_failure(
        k.send(&NetworkSuapp::fetchCall { request }, b""),
        addresses::DO_HTTP_REQUEST,
    );
    assert!(
        err.ends_with(&format!(
            "'http error: 403: {}'",
            go_bytes(b"bad signature")
        )),
        "{err}"
    );
    assert_eq!(server.requests()[1].header("x-flashbots-signature"), None);
}

/// An `AWSALB` cookie set by a response is readable with contextGet as Go's `Cookie.String()`
/// and is sent back on the next request of the same run; a later run starts without it, and
/// without the cookie contextGet fails with `value not found`. (Deliberate difference, see the
/// crate docs: suave-geth re-sends the whole serialization to every host; kettle sends
/// `name=value` to the host that set it.)
#[test]
fn aws_cookie_through_context_get() {
    let server = TestServer::start(|r| {
        let seen = r.header("cookie").unwrap_or("none").to_owned();
        if r.path == "/lb" {
            Reply::ok(seen).header(
                "Set-Cookie",
                "AWSALB=lb-7; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Path=/; HttpOnly",
            )
        } else {
            Reply::ok(seen)
        }
    });
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let call = NetworkSuapp::fetchWithCookieCall {
        request: http("GET", &server.url("/lb")),
    };
    let out = k.send(&call, b"").unwrap();
    let cookie = b"AWSALB=lb-7; Path=/; Expires=Wed, 01 Jan 2031 00:00:00 GMT; HttpOnly";
    // onCookie(bytes cookie, bytes body): two offsets, then both tails.
    let mut callback = selector("onCookie(bytes,bytes)").to_vec();
    let cookie_tail = bytes_tail(cookie);
    callback.extend_from_slice(&word_u64(0x40));
    callback.extend_from_slice(&word_u64(0x40 + cookie_tail.len() as u64));
    callback.extend_from_slice(&cookie_tail);
    callback.extend_from_slice(&bytes_tail(b"AWSALB=lb-7"));
    assert_eq!(out.callback_calldata.to_vec(), callback);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("cookie"), None);
    assert_eq!(seen[1].header("cookie"), Some("AWSALB=lb-7"));

    // A new run has no cookie until a response sets one.
    let call = NetworkSuapp::fetchWithCookieCall {
        request: http("GET", &server.url("/plain")),
    };
    let err = peeker_failure(k.send(&call, b""), addresses::CONTEXT_GET);
    assert_eq!(
        err,
        "execution reverted: precompile '0x0000000000000000000000000000000053300003' reverted: 'value not found'"
    );
    assert_eq!(server.requests()[2].header("cookie"), None);
}

/// On chain (block execution, no confidential mode) the SUAVE addresses are empty accounts:
/// the same SUAPP code calls the doHTTPRequest address and gets success with no data, so
/// nothing is sent; Suave.sol's decode of that empty answer reverts, and the bundle functions
/// stop at `require(isConfidential())`. The server receives nothing until the confidential run.
#[test]
fn on_chain_execution_never_reaches_the_network() {
    let server = TestServer::start(|_| Reply::ok("body"));
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let request = http("GET", &server.url("/x"));

    let raw = NetworkSuapp::rawHttpCall {
        request: request.clone(),
    };
    let result = k.on_chain(&raw);
    let ExecutionResult::Success { output, .. } = &result else {
        panic!("on-chain rawHttp must succeed: {result:?}");
    };
    let ret = NetworkSuapp::rawHttpCall::abi_decode_returns(output.data()).unwrap();
    assert!(!ret.confidential);
    assert!(ret.ok, "a call to an empty account succeeds");
    assert!(ret.output.is_empty());

    let fetch = NetworkSuapp::fetchCall {
        request: request.clone(),
    };
    assert!(
        matches!(k.on_chain(&fetch), ExecutionResult::Revert { ref output, .. } if output.is_empty()),
        "abi.decode of the empty answer reverts without data"
    );
    let send = NetworkSuapp::sendBundleCall {
        url: server.url("/bundle"),
    };
    assert!(matches!(k.on_chain(&send), ExecutionResult::Revert { .. }));
    assert!(server.requests().is_empty(), "on chain nothing is sent");

    // The same rawHttp confidentially: the precompile answers abi.encode(body).
    let out = k.send(&raw, b"").unwrap();
    let ret = NetworkSuapp::rawHttpCall::abi_decode_returns(&out.raw_return).unwrap();
    assert!(ret.confidential && ret.ok);
    assert_eq!(ret.output.to_vec(), abi_bytes(b"body"));
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------------------------

/// A JSON-RPC endpoint that accepts anything and records it.
fn rpc_endpoint() -> TestServer {
    TestServer::start(|_| Reply::ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}"))
}

/// Checks a bundle submission's headers and signature (SUAVE-COMPAT §8.5).
fn assert_signed_json_rpc(seen: &Recorded) {
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    let header = seen.header("x-flashbots-signature").expect("signed");
    let signer = flashbots_signer(header, &seen.body).expect("signature verifies");
    assert_eq!(signer.to_checksum(None), BUNDLE_SIGNER);
}

/// `eth_sendBundle` of the confidential inputs (SUAVE-COMPAT §11.6): one JSON-RPC call whose
/// `params[0]` is the SBundle, compacted, signed with the bundle key.
#[test]
fn send_bundle_posts_signed_eth_send_bundle() {
    let endpoint = rpc_endpoint();
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let tx = signed_tx(0, Address::repeat_byte(0x22), b"");
    let bundle = format!("{{ \"blockNumber\": \"0x65\",\n  \"txs\": [ \"{tx}\" ] }}");
    let out = k
        .send(
            &NetworkSuapp::sendBundleCall {
                url: endpoint.url("/"),
            },
            bundle.as_bytes(),
        )
        .unwrap();
    let seen = endpoint.requests();
    assert_eq!(seen.len(), 1);
    assert_signed_json_rpc(&seen[0]);
    assert_eq!(
        String::from_utf8(seen[0].body.clone()).unwrap(),
        format!(
            "{{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_sendBundle\",\"params\":[{{\"blockNumber\":\"0x65\",\"txs\":[\"{tx}\"]}}]}}"
        )
    );
    let mut callback = selector("onBundleSent(bytes32)").to_vec();
    callback.extend_from_slice(keccak256(bundle.as_bytes()).as_slice());
    assert_eq!(out.callback_calldata.to_vec(), callback);
}

/// MEV-Share (SUAVE-COMPAT §11.8): `newTransaction` stores the user's SBundle in a record and
/// extracts its hint; after the node commits that, `newMatch` stores the backrun in a match
/// record listing the SUAPP and fillMevShareBundle as peekers, fills the MEV-Share bundle and
/// sends it: the endpoint receives `mev_sendBundle` with the §8.4 JSON (user tx, then backrun;
/// refund percent from the user bundle), signed with the bundle key.
#[test]
fn mev_share_bundle_is_filled_and_sent() {
    let endpoint = rpc_endpoint();
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let target = address!("0x2222222222222222222222222222222222222222");
    let user_tx = signed_tx(0, target, &hex!("a9059cbb0001"));
    let match_tx = signed_tx(1, Address::repeat_byte(0x33), b"");
    let user_bundle = format!("{{\"txs\":[\"{user_tx}\"],\"percent\":20}}");
    let match_bundle = format!("{{\"txs\":[\"{match_tx}\"]}}");

    // Run 1: the user bundle.
    let out = k
        .send(
            &NetworkSuapp::newTransactionCall {
                decryptionCondition: 100,
                peekers: vec![SUAPP],
                stores: vec![],
            },
            user_bundle.as_bytes(),
        )
        .unwrap();
    let writes = &out.store_writes;
    assert_eq!(writes.records.len(), 1);
    let user_record = writes.records[0].clone();
    assert_eq!(user_record.version, "mevshare:v0:unmatchedBundles");
    assert_eq!(user_record.allowed_peekers, vec![SUAPP]);
    // extractHint: {"To":"0x<lower-hex>","Data":"<base64>"}; 0xa9059cbb0001 is "qQWcuwAB".
    let hint = b"{\"To\":\"0x2222222222222222222222222222222222222222\",\"Data\":\"qQWcuwAB\"}";
    let mut callback = selector("onNewTransaction(bytes16,bytes)").to_vec();
    callback.extend_from_slice(&B256::right_padding_from(user_record.id.as_slice()).0);
    callback.extend_from_slice(&word_u64(0x40));
    callback.extend_from_slice(&bytes_tail(hint));
    assert_eq!(out.callback_calldata.to_vec(), callback);
    assert!(endpoint.requests().is_empty());
    k.commit(&out);

    // Run 2: the backrun, filled with the committed user bundle, sent with mev_sendBundle.
    let out = k
        .send(
            &NetworkSuapp::newMatchCall {
                decryptionCondition: 100,
                peekers: vec![SUAPP, addresses::FILL_MEV_SHARE_BUNDLE],
                stores: vec![],
                shareId: user_record.id,
                url: endpoint.url("/"),
            },
            match_bundle.as_bytes(),
        )
        .unwrap();
    let filled = format!(
        "{{\"version\":\"v0.1\",\"inclusion\":{{\"block\":\"0x64\",\"maxBlock\":\"0x7d\"}},\"body\":[{{\"tx\":\"{user_tx}\",\"canRevert\":false}},{{\"tx\":\"{match_tx}\",\"canRevert\":false}}],\"validity\":{{\"refund\":[{{\"bodyIdx\":0,\"percent\":20}}]}}}}"
    );
    let seen = endpoint.requests();
    assert_eq!(seen.len(), 1);
    assert_signed_json_rpc(&seen[0]);
    assert_eq!(
        String::from_utf8(seen[0].body.clone()).unwrap(),
        format!(
            "{{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"mev_sendBundle\",\"params\":[{filled}]}}"
        )
    );

    let writes = &out.store_writes;
    assert_eq!(writes.records.len(), 1);
    let match_id: B128 = writes.records[0].id;
    assert_eq!(writes.records[0].version, "mevshare:v0:matchDataRecords");
    let mut callback = selector("onMatchSent(bytes16,bytes32)").to_vec();
    callback.extend_from_slice(&B256::right_padding_from(match_id.as_slice()).0);
    callback.extend_from_slice(keccak256(filled.as_bytes()).as_slice());
    assert_eq!(out.callback_calldata.to_vec(), callback);
}

/// The match record must list fillMevShareBundle (or ANYALLOWED): otherwise the fill fails
/// with the access message for that precompile and nothing is sent.
#[test]
fn mev_share_fill_needs_the_precompile_as_peeker() {
    let endpoint = rpc_endpoint();
    let k = Kettle::new(&["127.0.0.1"], &[]);
    let user_bundle = format!(
        "{{\"txs\":[\"{}\"]}}",
        signed_tx(0, Address::repeat_byte(0x22), b"")
    );
    let out = k
        .send(
            &NetworkSuapp::newTransactionCall {
                decryptionCondition: 7,
                peekers: vec![SUAPP],
                stores: vec![],
            },
            user_bundle.as_bytes(),
        )
        .unwrap();
    k.commit(&out);
    let err = peeker_failure(
        k.send(
            &NetworkSuapp::newMatchCall {
                decryptionCondition: 7,
                peekers: vec![SUAPP],
                stores: vec![],
                shareId: out.store_writes.records[0].id,
                url: endpoint.url("/"),
            },
            user_bundle.as_bytes(),
        ),
        addresses::FILL_MEV_SHARE_BUNDLE,
    );
    let prefix = "execution reverted: precompile '0x0000000000000000000000000000000043200001' reverted: 'precompile fillMevShareBundle (0000000000000000000000000000000043200001) not allowed on ";
    let id = err
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(endpoint.requests().is_empty());
}
