//! Arbitrary input to every precompile address never panics (it answers or reverts).
//! No network: the transport is a stub and the allow-list admits everything by name.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use alloy_sol_types::SolCall;
use kettle_contracts::precompiles::SuavePrecompiles::{
    doHTTPRequest2Call, extractHintCall, submitBundleJsonRPCCall,
};
use kettle_contracts::HttpRequest;
use proptest::prelude::*;
use suave_precompiles::{addresses, ExternalPrecompiles};
use suave_precompiles_network::http::{HopError, HopRequest, HopResponse};
use suave_precompiles_network::{HttpClient, NameResolver, Network, NetworkConfig};

/// Answers every exchange with a redirect or a page, without I/O.
struct Stub;

impl HttpClient for Stub {
    fn send(&self, request: &HopRequest<'_>) -> Result<HopResponse, HopError> {
        if request.url.path() == "/r" {
            return Ok(HopResponse {
                status: 302,
                headers: vec![("location".into(), "/r".into())],
                body: Vec::new(),
            });
        }
        Ok(HopResponse {
            status: 200,
            headers: vec![(
                "set-cookie".into(),
                "AWSALB=x; Expires=Mon, 01 Jan 2024 00:00:00 GMT".into(),
            )],
            body: b"ok".to_vec(),
        })
    }
}

struct Public;

impl NameResolver for Public {
    fn resolve(&self, _: &str, port: u16, _: Duration) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(
            IpAddr::from([93, 184, 216, 34]),
            port,
        )])
    }
}

fn network() -> Network {
    let cfg = NetworkConfig {
        allowed_hosts: vec!["*".into()],
        eth_backend: Some("http://eth.example".into()),
        ..NetworkConfig::default()
    };
    Network::builder(cfg)
        .http_client(Arc::new(Stub))
        .resolver(Arc::new(Public))
        .build()
        .unwrap()
}

fn every_address() -> Vec<alloy_primitives::Address> {
    addresses::ALL
        .iter()
        .map(|(_, a)| *a)
        .chain([addresses::CONSOLE_LOG])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_never_panics(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        let net = network();
        let mut run = net.begin();
        for addr in every_address() {
            let _ = run.run(addr, &input);
        }
    }

    #[test]
    fn arbitrary_http_requests_never_panic(
        url in "[a-z:/.?#%\\[\\]@0-9*-]{0,40}",
        method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), "[A-Z]{0,5}"],
        headers in proptest::collection::vec("[ -~]{0,20}", 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        timeout in any::<u64>(),
        sign in any::<bool>(),
    ) {
        let net = network();
        let mut run = net.begin();
        let req = HttpRequest {
            url: url.clone(),
            method,
            headers,
            body: body.clone().into(),
            withFlashbotsSignature: sign,
            timeout,
        };
        let input = doHTTPRequest2Call { request: req }.abi_encode();
        let _ = run.run(addresses::DO_HTTP_REQUEST2, &input[4..]);
        let _ = run.run(addresses::DO_HTTP_REQUEST, &input[4..]);
        let submit = submitBundleJsonRPCCall { url, method: "m".into(), params: body.clone().into() }.abi_encode();
        let _ = run.run(addresses::SUBMIT_BUNDLE_JSON_RPC, &submit[4..]);
        let hint = extractHintCall { bundleData: body.into() }.abi_encode();
        let _ = run.run(addresses::EXTRACT_HINT, &hint[4..]);
    }

    #[test]
    fn arbitrary_json_text_never_panics(text in "[\\[\\]{}\":,0-9a-z .\\\\-]{0,80}") {
        let _ = suave_precompiles_network::SBundle::from_json(text.as_bytes());
        let mut out = Vec::new();
        let _ = suave_precompiles_network::gojson::compact(&mut out, text.as_bytes());
    }
}
