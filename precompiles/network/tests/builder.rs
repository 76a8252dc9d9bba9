//! Builder-group precompiles: bundle and relay submission against real local servers,
//! extractHint, ethcall over JSON-RPC, and the execution-backend boundary.

mod support;

use std::sync::{Arc, Mutex};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{address, Address, Bytes, TxKind, B256, U256};
use alloy_sol_types::SolCall;
use base64::Engine;
use kettle_contracts::precompiles::SuavePrecompiles::{
    buildEthBlockCall, buildEthBlockToCall, ethcallCall, extractHintCall, newBuilderCall,
    simulateBundleCall, simulateTransactionCall, submitBundleJsonRPCCall,
    submitEthBlockToRelayCall,
};
use kettle_contracts::{BuildBlockArgs, SimulateTransactionResult, SimulatedLog};
use suave_precompiles::addresses;
use suave_precompiles::{ExternalPrecompiles, ExternalRun};
use suave_precompiles_network::config::SecretHex;
use suave_precompiles_network::{
    flashbots, BackendError, BlockSimulation, BuiltBlock, ExecutionBackend, Network, NetworkConfig,
    SBundle,
};
use support::{block_args, call, legacy_tx, Reply, TestServer};

const KEY: &str = "0x6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";

fn config(hosts: &[&str]) -> NetworkConfig {
    NetworkConfig {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        bundle_signing_key: Some(SecretHex(KEY.into())),
        ..NetworkConfig::default()
    }
}

fn signed_tx(to: Option<Address>, data: &[u8]) -> Vec<u8> {
    legacy_tx(3, 0, to.map_or(TxKind::Create, TxKind::Call), 21_000, data)
}

fn bundle_json(txs: &[Vec<u8>]) -> Vec<u8> {
    let txs: Vec<String> = txs
        .iter()
        .map(|t| format!("\"0x{}\"", alloy_primitives::hex::encode(t)))
        .collect();
    format!("{{\"txs\":[{}]}}", txs.join(",")).into_bytes()
}

#[test]
fn submit_bundle_json_rpc_exact_body_headers_and_signature() {
    let server = TestServer::start(|_| Reply::ok("{\"result\":null}"));
    let net = Network::new(config(&["127.0.0.1"])).unwrap();
    let mut run = net.begin();
    let out = call(
        run.as_mut(),
        addresses::SUBMIT_BUNDLE_JSON_RPC,
        &submitBundleJsonRPCCall {
            url: server.url("/builder"),
            method: "eth_sendBundle".into(),
            params: Bytes::from_static(
                b"{ \"txs\": [\"0x02\"], \"blockNumber\" : \"0x10\", \"note\":\"<&>\" }",
            ),
        },
    )
    .unwrap();
    assert!(out.is_empty(), "submitBundleJsonRPC returns nothing");
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/builder");
    assert_eq!(
        String::from_utf8(seen.body.clone()).unwrap(),
        "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"eth_sendBundle\",\"params\":[{\"txs\":[\"0x02\"],\"blockNumber\":\"0x10\",\"note\":\"\\u003c\\u0026\\u003e\"}]}"
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    let sig = seen.header("x-flashbots-signature").unwrap();
    assert!(sig.starts_with("0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F:0x"));
    assert_eq!(
        flashbots::verify(sig, &seen.body).unwrap(),
        net.bundle_signer().address()
    );
}

#[test]
fn submit_bundle_json_rpc_errors() {
    let server = TestServer::start(|_| Reply::status(400, "bad"));
    let net = Network::new(config(&["127.0.0.1"])).unwrap();
    let mut run = net.begin();
    let submit = |url: String, params: &'static [u8]| submitBundleJsonRPCCall {
        url,
        method: "mev_sendBundle".into(),
        params: Bytes::from_static(params),
    };
    let r = run.as_mut();
    assert_eq!(
        call(
            r,
            addresses::SUBMIT_BUNDLE_JSON_RPC,
            &submit(server.url("/"), b"{}")
        )
        .unwrap_err(),
        "http error: 400: [98 97 100]"
    );
    assert_eq!(
        call(r, addresses::SUBMIT_BUNDLE_JSON_RPC, &submit(server.url("/"), b"not json"))
            .unwrap_err(),
        "json: error calling MarshalJSON for type json.RawMessage: invalid character 'o' in literal null (expecting 'u')"
    );
    assert_eq!(
        call(
            r,
            addresses::SUBMIT_BUNDLE_JSON_RPC,
            &submit("http://builder.example/".into(), b"{}")
        )
        .unwrap_err(),
        "domain builder.example is not allowed"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn submit_eth_block_to_relay_path_and_response() {
    let server = TestServer::start(|r| {
        if r.path == "/relay/v1/builder/blocks" {
            Reply::ok("{\"accepted\":true}")
        } else {
            Reply::status(404, "")
        }
    });
    let net = Network::new(config(&["127.0.0.1"])).unwrap();
    let mut run = net.begin();
    let bid = Bytes::from_static(b"{\"message\":{\"slot\":\"1\"}}");
    let out = call(
        run.as_mut(),
        addresses::SUBMIT_ETH_BLOCK_TO_RELAY,
        &submitEthBlockToRelayCall {
            relayUrl: server.url(""),
            builderBid: bid.clone(),
        },
    )
    .unwrap();
    assert_eq!(
        out,
        Bytes::from_static(b"{\"accepted\":true}"),
        "raw body, not ABI"
    );
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/relay/v1/builder/blocks");
    assert_eq!(seen.body, bid.to_vec());
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        call(
            run.as_mut(),
            addresses::SUBMIT_ETH_BLOCK_TO_RELAY,
            &submitEthBlockToRelayCall {
                relayUrl: server.url("/wrong"),
                builderBid: bid.clone(),
            },
        )
        .unwrap_err(),
        "http error: 404: []"
    );
    assert_eq!(
        call(
            run.as_mut(),
            addresses::SUBMIT_ETH_BLOCK_TO_RELAY,
            &submitEthBlockToRelayCall {
                relayUrl: "https://relay.example".into(),
                builderBid: bid,
            },
        )
        .unwrap_err(),
        "domain relay.example is not allowed"
    );
}

#[test]
fn extract_hint_exact_output_and_errors() {
    let net = Network::new(config(&[])).unwrap();
    let mut run = net.begin();
    let to = address!("0x00000000000000000000000000000000000000aB");
    let hint = call(
        run.as_mut(),
        addresses::EXTRACT_HINT,
        &extractHintCall {
            bundleData: bundle_json(&[signed_tx(Some(to), &[0xde, 0xad, 0xbe, 0xef])]).into(),
        },
    )
    .unwrap();
    assert_eq!(
        std::str::from_utf8(&hint).unwrap(),
        "{\"To\":\"0x00000000000000000000000000000000000000ab\",\"Data\":\"3q2+7w==\"}"
    );
    let err = |json: Vec<u8>, run: &mut dyn ExternalRun| {
        call(
            run,
            addresses::EXTRACT_HINT,
            &extractHintCall {
                bundleData: json.into(),
            },
        )
        .unwrap_err()
    };
    assert_eq!(
        err(bundle_json(&[]), run.as_mut()),
        "bundle has no transactions"
    );
    assert_eq!(
        err(bundle_json(&[signed_tx(None, &[0x60])]), run.as_mut()),
        "bundle transaction has no recipient (contract creation)"
    );
    assert_eq!(
        err(b"{".to_vec(), run.as_mut()),
        "unexpected end of JSON input"
    );
}

#[test]
fn builder_precompiles_without_backend_revert() {
    let net = Network::new(config(&["127.0.0.1"])).unwrap();
    let mut run = net.begin();
    let r = run.as_mut();
    let bundle: Bytes = bundle_json(&[signed_tx(Some(Address::ZERO), b"")]).into();
    let tx: Bytes = signed_tx(Some(Address::ZERO), b"").into();
    let no_backend = "no execution backend configured";
    assert_eq!(
        call(
            r,
            addresses::SIMULATE_BUNDLE,
            &simulateBundleCall { bundleData: bundle }
        )
        .unwrap_err(),
        no_backend
    );
    assert_eq!(
        call(
            r,
            addresses::BUILD_ETH_BLOCK,
            &buildEthBlockCall {
                blockArgs: block_args(),
                dataId: [1u8; 16].into(),
                relayUrl: String::new(),
            }
        )
        .unwrap_err(),
        no_backend
    );
    assert_eq!(
        call(
            r,
            addresses::BUILD_ETH_BLOCK_TO,
            &buildEthBlockToCall {
                executionNodeURL: "http://127.0.0.1:8545".into(),
                blockArgs: block_args(),
                dataId: [1u8; 16].into(),
                relayUrl: "http://127.0.0.1:9000".into(),
            }
        )
        .unwrap_err(),
        no_backend
    );
    assert_eq!(
        call(r, addresses::NEW_BUILDER, &newBuilderCall {}).unwrap_err(),
        no_backend
    );
    assert_eq!(
        call(
            r,
            addresses::SIMULATE_TRANSACTION,
            &simulateTransactionCall {
                sessionid: "abc".into(),
                txn: tx
            }
        )
        .unwrap_err(),
        no_backend
    );
    assert_eq!(
        call(
            r,
            addresses::ETHCALL,
            &ethcallCall {
                contractAddr: Address::ZERO,
                input1: Bytes::new()
            }
        )
        .unwrap_err(),
        no_backend
    );
}

#[test]
fn builder_arguments_are_validated_before_the_backend() {
    let net = Network::new(config(&["127.0.0.1"])).unwrap();
    let mut run = net.begin();
    let r = run.as_mut();
    assert_eq!(
        call(
            r,
            addresses::SIMULATE_BUNDLE,
            &simulateBundleCall { bundleData: Bytes::from_static(b"{\"txs\":[\"0xzz\"]}") }
        )
        .unwrap_err(),
        "json: cannot unmarshal invalid hex string into Go struct field RpcSBundle.txs of type hexutil.Bytes"
    );
    assert_eq!(
        call(
            r,
            addresses::SIMULATE_TRANSACTION,
            &simulateTransactionCall {
                sessionid: "s".into(),
                txn: Bytes::new()
            }
        )
        .unwrap_err(),
        "typed transaction too short"
    );
    assert_eq!(
        call(
            r,
            addresses::BUILD_ETH_BLOCK_TO,
            &buildEthBlockToCall {
                executionNodeURL: "http://builder.example".into(),
                blockArgs: block_args(),
                dataId: [1u8; 16].into(),
                relayUrl: String::new(),
            }
        )
        .unwrap_err(),
        "domain builder.example is not allowed"
    );
    assert_eq!(
        call(
            r,
            addresses::BUILD_ETH_BLOCK,
            &buildEthBlockCall {
                blockArgs: block_args(),
                dataId: [1u8; 16].into(),
                relayUrl: "https://relay.example".into(),
            }
        )
        .unwrap_err(),
        "domain relay.example is not allowed"
    );
}

#[test]
fn bad_abi_input_fails_to_decode() {
    let net = Network::new(config(&[])).unwrap();
    let mut run = net.begin();
    for addr in suave_precompiles_network::HANDLED {
        if addr == addresses::NEW_BUILDER {
            continue; // no arguments: any input is accepted
        }
        assert_eq!(
            run.run(addr, &[0xff; 7]).unwrap_err().0,
            "failed to decode input",
            "{addr}"
        );
    }
}

/// A JSON-RPC server that answers suavex_call, or only eth_call.
fn rpc_server(speaks_suavex: bool) -> TestServer {
    TestServer::start(move |r| {
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let method = req["method"].as_str().unwrap();
        let answer = match (method, speaks_suavex) {
            ("suavex_call", true) => {
                let input = base64::engine::general_purpose::STANDARD
                    .decode(req["params"][1].as_str().unwrap())
                    .unwrap();
                let mut out = b"suavex:".to_vec();
                out.extend(input);
                serde_json::json!({"jsonrpc":"2.0","id":1,"result": base64::engine::general_purpose::STANDARD.encode(out)})
            }
            ("suavex_call", false) => {
                serde_json::json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method suavex_call does not exist/is not available"}})
            }
            ("eth_call", _) if req["params"][0]["data"] == "0x00" => {
                serde_json::json!({"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted","data":"0xdead"}})
            }
            ("eth_call", _) => {
                serde_json::json!({"jsonrpc":"2.0","id":1,"result": format!("0x65{}", req["params"][0]["data"].as_str().unwrap().trim_start_matches("0x"))})
            }
            _ => {
                serde_json::json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}})
            }
        };
        Reply::ok(serde_json::to_vec(&answer).unwrap())
    })
}

fn ethcall(run: &mut dyn ExternalRun, input: &'static [u8]) -> Result<Bytes, String> {
    let out = call(
        run,
        addresses::ETHCALL,
        &ethcallCall {
            contractAddr: address!("0x1111111111111111111111111111111111111111"),
            input1: Bytes::from_static(input),
        },
    )?;
    Ok(ethcallCall::abi_decode_returns(&out).unwrap())
}

#[test]
fn ethcall_speaks_suavex() {
    let server = rpc_server(true);
    let mut cfg = config(&[]);
    cfg.eth_backend = Some(server.url("/"));
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    assert_eq!(
        ethcall(run.as_mut(), b"ab").unwrap(),
        Bytes::from_static(b"suavex:ab")
    );
    let seen: serde_json::Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(seen["method"], "suavex_call");
    assert_eq!(
        seen["params"],
        serde_json::json!(["0x1111111111111111111111111111111111111111", "YWI="])
    );
}

#[test]
fn ethcall_falls_back_to_eth_call() {
    let server = rpc_server(false);
    let mut cfg = config(&[]);
    cfg.eth_backend = Some(server.url("/"));
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    assert_eq!(
        ethcall(run.as_mut(), b"\x01").unwrap(),
        Bytes::from_static(&[0x65, 0x01])
    );
    // Reverts return their data, as suavex_call returns the return data of a reverted call.
    assert_eq!(
        ethcall(run.as_mut(), b"\x00").unwrap(),
        Bytes::from_static(&[0xde, 0xad])
    );
    let methods: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["method"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // The probe happens once; later calls go straight to eth_call.
    assert_eq!(methods, ["suavex_call", "eth_call", "eth_call"]);
    let first_eth_call: serde_json::Value =
        serde_json::from_slice(&server.requests()[1].body).unwrap();
    assert_eq!(
        first_eth_call["params"],
        serde_json::json!([{"to":"0x1111111111111111111111111111111111111111","data":"0x01","gas":"0x186a0"},"latest"])
    );
}

/// A scripted execution backend recording what it is asked.
#[derive(Default)]
struct FakeBackend {
    seen: Mutex<Vec<String>>,
}

impl ExecutionBackend for FakeBackend {
    fn simulate_bundle(&self, bundle: &SBundle) -> Result<BlockSimulation, BackendError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("simulate {}", bundle.txs.len()));
        Ok(BlockSimulation {
            block_value: U256::from(13 * 21_000),
            gas_used: 21_000,
        })
    }

    fn build_block(
        &self,
        _: &BuildBlockArgs,
        _: &[SBundle],
        _: Option<&url::Url>,
    ) -> Result<BuiltBlock, BackendError> {
        Err(BackendError("not scripted".into()))
    }

    fn new_session(&self) -> Result<String, BackendError> {
        Ok("abc1234".into())
    }

    fn add_transaction(
        &self,
        session: &str,
        _: &TxEnvelope,
    ) -> Result<SimulateTransactionResult, BackendError> {
        if session != "abc1234" {
            return Err(BackendError("session not found".into()));
        }
        Ok(SimulateTransactionResult {
            egp: 0,
            logs: vec![SimulatedLog {
                data: Bytes::from_static(b"d"),
                addr: Address::repeat_byte(5),
                topics: vec![B256::repeat_byte(1)],
            }],
            success: true,
            error: String::new(),
        })
    }

    fn call(&self, _: Address, input: &[u8]) -> Result<Bytes, BackendError> {
        Ok(Bytes::copy_from_slice(input))
    }
}

#[test]
fn execution_backend_serves_the_builder_group() {
    let backend = Arc::new(FakeBackend::default());
    let net = Network::builder(config(&[]))
        .execution_backend(backend.clone())
        .build()
        .unwrap();
    let mut run = net.begin();
    let r = run.as_mut();
    let bundle: Bytes = bundle_json(&[signed_tx(Some(Address::ZERO), b"")]).into();
    let egp = call(
        r,
        addresses::SIMULATE_BUNDLE,
        &simulateBundleCall { bundleData: bundle },
    )
    .unwrap();
    assert_eq!(simulateBundleCall::abi_decode_returns(&egp).unwrap(), 13);
    let session = call(r, addresses::NEW_BUILDER, &newBuilderCall {}).unwrap();
    assert_eq!(
        newBuilderCall::abi_decode_returns(&session).unwrap(),
        "abc1234"
    );
    let tx: Bytes = signed_tx(Some(Address::ZERO), b"").into();
    let result = call(
        r,
        addresses::SIMULATE_TRANSACTION,
        &simulateTransactionCall {
            sessionid: "abc1234".into(),
            txn: tx.clone(),
        },
    )
    .unwrap();
    let decoded = simulateTransactionCall::abi_decode_returns(&result).unwrap();
    assert!(decoded.success);
    assert_eq!(decoded.logs[0].addr, Address::repeat_byte(5));
    assert_eq!(
        call(
            r,
            addresses::SIMULATE_TRANSACTION,
            &simulateTransactionCall {
                sessionid: "nope".into(),
                txn: tx
            }
        )
        .unwrap_err(),
        "session not found"
    );
    assert_eq!(ethcall(r, b"echo").unwrap(), Bytes::from_static(b"echo"));
    assert_eq!(
        call(
            r,
            addresses::BUILD_ETH_BLOCK,
            &buildEthBlockCall {
                blockArgs: block_args(),
                dataId: [1u8; 16].into(),
                relayUrl: String::new()
            }
        )
        .unwrap_err(),
        "buildEthBlock needs the confidential store: the MEVM must call it through run_call"
    );
    assert_eq!(backend.seen.lock().unwrap().as_slice(), ["simulate 1"]);
}
