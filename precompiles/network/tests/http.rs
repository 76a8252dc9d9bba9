//! doHTTPRequest / doHTTPRequest2 against real HTTP servers on 127.0.0.1, through the real
//! `ureq` client, as the MEVM calls them.

mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::Bytes;
use suave_precompiles::ExternalPrecompiles;
use suave_precompiles_network::config::SecretHex;
use suave_precompiles_network::{flashbots, NameResolver, Network, NetworkConfig};
use support::{http1, http2, request, Reply, TestServer};

const KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";

fn config(hosts: &[&str]) -> NetworkConfig {
    NetworkConfig {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        bundle_signing_key: Some(SecretHex(KEY.into())),
        ..NetworkConfig::default()
    }
}

fn network(hosts: &[&str]) -> Network {
    Network::new(config(hosts)).unwrap()
}

/// Maps every name to 127.0.0.1, as a hostile DNS answer would.
struct ToLoopback;

impl NameResolver for ToLoopback {
    fn resolve(&self, _: &str, port: u16, _: Duration) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port)])
    }
}

#[test]
fn get_with_header_reaches_the_server() {
    let server = TestServer::start(|_| Reply::ok("hello"));
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let mut req = request("GET", &server.url("/path?q=1#fragment"));
    req.headers = vec![
        "a:b".into(),
        "X-Two: spaced value ".into(),
        "X-Utf8:é".into(),
    ];
    assert_eq!(http1(run.as_mut(), req).unwrap(), b"hello");
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/path?q=1");
    assert_eq!(seen.header("a"), Some("b"));
    assert_eq!(seen.header("x-two"), Some("spaced value"));
    assert_eq!(seen.header("x-utf8"), Some("é"));
    assert_eq!(
        seen.header("content-length"),
        None,
        "GET without body sends none"
    );
    assert!(seen.body.is_empty());
}

#[test]
fn post_with_body_and_header() {
    let server = TestServer::start(|r| Reply::ok(r.body.clone()));
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let mut req = request("POST", &server.url("/submit"));
    req.headers = vec!["Content-Type:application/json".into()];
    req.body = Bytes::from_static(b"{\"x\":1}");
    assert_eq!(http1(run.as_mut(), req).unwrap(), b"{\"x\":1}");
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.body, b"{\"x\":1}");

    // POST with an empty body still says Content-Length: 0, as Go does.
    let mut run = net.begin();
    http1(run.as_mut(), request("POST", &server.url("/empty"))).unwrap();
    assert_eq!(server.requests()[1].header("content-length"), Some("0"));
}

#[test]
fn request_validation_messages() {
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let r = run.as_mut();
    assert_eq!(
        http1(r, request("PUT", "http://127.0.0.1/")).unwrap_err(),
        "only GET and POST methods are supported"
    );
    assert_eq!(http1(r, request("GET", "")).unwrap_err(), "url is empty");
    assert_eq!(
        http1(r, request("GET", "https://example.com/x")).unwrap_err(),
        "domain example.com is not allowed"
    );
    let mut bad = request("GET", "http://127.0.0.1:1/");
    bad.headers = vec!["a:b".into(), "nocolon".into()];
    assert_eq!(
        http1(r, bad).unwrap_err(),
        "incorrect header format 'nocolon', no ':' present"
    );
    let mut bad_name = request("GET", "http://127.0.0.1:1/");
    bad_name.headers = vec!["bad name:v".into()];
    assert_eq!(
        http1(r, bad_name).unwrap_err(),
        "Get \"http://127.0.0.1:1/\": net/http: invalid header field name \"bad name\""
    );
    assert_eq!(
        http2(r, request("GET", "ftp://127.0.0.1/")).unwrap_err(),
        "Get \"ftp://127.0.0.1/\": unsupported protocol scheme \"ftp\""
    );
    let refused = http1(r, request("POST", "http://127.0.0.1:1/")).unwrap_err();
    assert!(
        refused.starts_with("Post \"http://127.0.0.1:1/\": "),
        "{refused}"
    );
    // Bad ABI input.
    assert_eq!(
        r.run(suave_precompiles::addresses::DO_HTTP_REQUEST, &[1, 2, 3])
            .unwrap_err()
            .0,
        "failed to decode input"
    );
}

#[test]
fn aliases_resolve_and_unknown_names_fail() {
    let server = TestServer::start(|r| Reply::ok(format!("alias saw {}", r.path)));
    let mut cfg = config(&[]);
    cfg.service_aliases = BTreeMap::from([("goerli".to_string(), server.url("/rpc"))]);
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    assert_eq!(
        http1(run.as_mut(), request("POST", "goerli")).unwrap(),
        b"alias saw /rpc"
    );
    assert_eq!(
        http1(run.as_mut(), request("POST", "sepolia")).unwrap_err(),
        "domain  is not allowed"
    );
    // The alias target is reachable only through the alias, not by its URL.
    assert_eq!(
        http1(run.as_mut(), request("GET", &server.url("/rpc"))).unwrap_err(),
        "domain 127.0.0.1 is not allowed"
    );
}

#[test]
fn errors_of_alias_requests_name_the_alias() {
    let mut cfg = config(&[]);
    cfg.service_aliases = BTreeMap::from([(
        "secret".to_string(),
        "http://127.0.0.1:1/api-key-in-path".to_string(),
    )]);
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    let err = http1(run.as_mut(), request("GET", "secret")).unwrap_err();
    assert!(err.starts_with("Get \"secret\": "), "{err}");
    assert!(!err.contains("api-key"), "{err}");
}

#[test]
fn status_codes_http2_data_http1_error() {
    let server = TestServer::start(|r| match r.path.as_str() {
        "/301" => Reply::status(301, "moved"),
        "/404" => Reply::status(404, "no"),
        _ => Reply::status(299, "edge"),
    });
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let r = run.as_mut();
    assert_eq!(
        http2(r, request("GET", &server.url("/301"))).unwrap(),
        (301, b"moved".to_vec())
    );
    assert_eq!(
        http1(r, request("GET", &server.url("/301"))).unwrap_err(),
        "http error: 301: [109 111 118 101 100]"
    );
    assert_eq!(
        http1(r, request("GET", &server.url("/404"))).unwrap_err(),
        "http error: 404: [110 111]"
    );
    assert_eq!(
        http2(r, request("GET", &server.url("/404"))).unwrap(),
        (404, b"no".to_vec())
    );
    assert_eq!(
        http1(r, request("GET", &server.url("/299"))).unwrap(),
        b"edge"
    );
}

#[test]
fn timeout_is_honoured_and_capped() {
    let server = TestServer::start(|_| Reply::ok("late").delayed(Duration::from_secs(3)));
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let mut req = request("GET", &server.url("/slow"));
    req.timeout = 300;
    let started = Instant::now();
    let err = http1(run.as_mut(), req).unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        err,
        format!(
            "Get \"{}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            server.url("/slow")
        )
    );
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );

    // A huge requested timeout is cut to the configured maximum.
    let mut cfg = config(&["127.0.0.1"]);
    cfg.max_timeout_ms = 400;
    let capped = Network::new(cfg).unwrap();
    let mut run = capped.begin();
    let mut req = request("GET", &server.url("/slow"));
    req.timeout = 60_000;
    let started = Instant::now();
    assert!(http2(run.as_mut(), req).is_err());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_request_has_one_network_time_budget_for_all_its_calls() {
    let server = TestServer::start(|_| Reply::ok("late").delayed(Duration::from_millis(300)));
    let mut cfg = config(&["127.0.0.1"]);
    cfg.max_run_ms = 500;
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    let started = Instant::now();
    // The first call fits; the second is cut to what is left and times out; then nothing
    // is left and calls fail at once without reaching the server.
    assert_eq!(
        http1(run.as_mut(), request("GET", &server.url("/1"))).unwrap(),
        b"late"
    );
    assert!(http1(run.as_mut(), request("GET", &server.url("/2"))).is_err());
    let err = http1(run.as_mut(), request("GET", &server.url("/3"))).unwrap_err();
    assert_eq!(
        err,
        "network time budget of this request is exhausted (500 ms)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
    // A new request starts with a fresh budget.
    let mut run = net.begin();
    assert_eq!(
        http1(run.as_mut(), request("GET", &server.url("/4"))).unwrap(),
        b"late"
    );
}

#[test]
fn response_body_is_capped() {
    let server = TestServer::start(|r| {
        let n: usize = r.path.trim_start_matches('/').parse().unwrap_or(0);
        Reply::ok(vec![b'x'; n])
    });
    let mut cfg = config(&["127.0.0.1"]);
    cfg.max_response_bytes = 1000;
    let net = Network::new(cfg).unwrap();
    let mut run = net.begin();
    assert_eq!(
        http2(run.as_mut(), request("GET", &server.url("/1000")))
            .unwrap()
            .1
            .len(),
        1000
    );
    assert_eq!(
        http2(run.as_mut(), request("GET", &server.url("/5000"))).unwrap_err(),
        "response body exceeds the limit of 1000 bytes"
    );
}

#[test]
fn redirects_follow_go_rules_within_the_allow_list() {
    let server = TestServer::start(|r| match r.path.as_str() {
        "/302" => Reply::status(302, "").header("Location", "/final"),
        "/307" => Reply::status(307, "").header("Location", "/final"),
        "/loop" => Reply::status(302, "").header("Location", "/loop"),
        "/away" => Reply::status(301, "").header("Location", "http://localhost:9/x"),
        _ => Reply::ok(format!("{} {}", r.method, String::from_utf8_lossy(&r.body))),
    });
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let r = run.as_mut();
    let mut post = request("POST", &server.url("/302"));
    post.body = Bytes::from_static(b"data");
    // 302 turns POST into a body-less GET; 307 keeps both.
    assert_eq!(http1(r, post.clone()).unwrap(), b"GET ");
    post.url = server.url("/307");
    assert_eq!(http1(r, post).unwrap(), b"POST data");
    assert_eq!(
        http1(r, request("GET", &server.url("/loop"))).unwrap_err(),
        "Get \"/loop\": stopped after 10 redirects"
    );
    let loops = server
        .requests()
        .iter()
        .filter(|r| r.path == "/loop")
        .count();
    assert_eq!(loops, 10, "Go sends 10 requests before giving up");
    assert_eq!(
        http1(r, request("GET", &server.url("/away"))).unwrap_err(),
        "Get \"http://localhost:9/x\": redirect refused: domain localhost is not allowed"
    );
}

#[test]
fn wildcard_never_reaches_internal_addresses() {
    let server = TestServer::start(|_| Reply::ok("internal"));
    // `*` alone: the loopback server is refused, by literal and by name.
    let wildcard = network(&["*"]);
    let mut run = wildcard.begin();
    assert_eq!(
        http1(run.as_mut(), request("GET", &server.url("/"))).unwrap_err(),
        "domain 127.0.0.1 resolves only to internal addresses, which are not allowed"
    );
    assert_eq!(
        http1(
            run.as_mut(),
            request("GET", &server.url_as("localhost", "/"))
        )
        .unwrap_err(),
        "domain localhost resolves only to internal addresses, which are not allowed"
    );
    // A public-looking name whose DNS answer is loopback is refused too (rebinding).
    let rebinding = Network::builder(config(&["*"]))
        .resolver(Arc::new(ToLoopback))
        .build()
        .unwrap();
    let mut run = rebinding.begin();
    assert_eq!(
        http1(
            run.as_mut(),
            request("GET", &server.url_as("rebind.example", "/"))
        )
        .unwrap_err(),
        "domain rebind.example resolves only to internal addresses, which are not allowed"
    );
    assert!(server.requests().is_empty());

    // Listing the name explicitly allows it; the connection goes to the vetted address.
    let listed = Network::builder(config(&["*", "rebind.example"]))
        .resolver(Arc::new(ToLoopback))
        .build()
        .unwrap();
    let mut run = listed.begin();
    assert_eq!(
        http1(
            run.as_mut(),
            request("GET", &server.url_as("rebind.example", "/"))
        )
        .unwrap(),
        b"internal"
    );
    assert_eq!(
        server.requests()[0].header("host"),
        Some(format!("rebind.example:{}", server.addr.port()).as_str())
    );
}

#[test]
fn redirect_to_internal_address_refused_under_wildcard() {
    let inner = TestServer::start(|_| Reply::ok("secret"));
    let target = inner.url_as("internal.example", "/");
    let outer = TestServer::start(move |_| Reply::status(302, "").header("Location", &target));
    // outer is listed explicitly; the redirect target is only allowed by `*` and resolves to
    // loopback, so it is refused.
    let net = Network::builder(config(&["*", "outer.example"]))
        .resolver(Arc::new(ToLoopback))
        .build()
        .unwrap();
    let mut run = net.begin();
    let err = http1(
        run.as_mut(),
        request("GET", &outer.url_as("outer.example", "/")),
    )
    .unwrap_err();
    assert_eq!(
        err,
        format!(
            "Get \"{}\": redirect refused: domain internal.example resolves only to internal addresses, which are not allowed",
            inner.url_as("internal.example", "/")
        )
    );
    assert!(inner.requests().is_empty());
}

#[test]
fn aws_cookies_go_back_only_to_their_host() {
    let a = TestServer::start(|r| {
        if r.path == "/set" {
            Reply::ok("set")
                .header(
                    "Set-Cookie",
                    "AWSALB=sticky1; Expires=Tue, 01 Jul 2025 10:00:00 GMT; Path=/",
                )
                .header(
                    "Set-Cookie",
                    "AWSALBCORS=sticky2; Path=/; SameSite=None; Secure",
                )
                .header("Set-Cookie", "session=not-kept")
        } else {
            Reply::ok("a")
        }
    });
    let b = TestServer::start(|_| Reply::ok("b"));
    let net = network(&["127.0.0.1", "localhost"]);
    let mut run = net.begin();
    let r = run.as_mut();
    http1(r, request("GET", &a.url("/set"))).unwrap();
    assert_eq!(
        r.context_value("__cookie_AWSALB").unwrap(),
        Bytes::from_static(b"AWSALB=sticky1; Path=/; Expires=Tue, 01 Jul 2025 10:00:00 GMT")
    );
    assert_eq!(
        r.context_value("__cookie_AWSALBCORS").unwrap(),
        Bytes::from_static(b"AWSALBCORS=sticky2; Path=/; Secure; SameSite=None")
    );
    assert!(r.context_value("__cookie_session").is_none());
    http1(r, request("GET", &a.url("/again"))).unwrap();
    http1(r, request("GET", &b.url_as("localhost", "/other"))).unwrap();
    assert_eq!(
        a.requests()[1].header("cookie"),
        Some("AWSALB=sticky1; AWSALBCORS=sticky2")
    );
    assert_eq!(b.requests()[0].header("cookie"), None);
    // A new run starts without cookies.
    let mut fresh = net.begin();
    assert!(fresh.context_value("__cookie_AWSALB").is_none());
    http1(fresh.as_mut(), request("GET", &a.url("/third"))).unwrap();
    assert_eq!(a.requests()[2].header("cookie"), None);
}

#[test]
fn flashbots_signature_verifies() {
    let server = TestServer::start(|_| Reply::ok(""));
    let net = network(&["127.0.0.1"]);
    let mut run = net.begin();
    let mut req = request("POST", &server.url("/"));
    req.body = Bytes::from_static(b"{\"method\":\"eth_sendBundle\"}");
    req.withFlashbotsSignature = true;
    http1(run.as_mut(), req).unwrap();
    let seen = &server.requests()[0];
    let header = seen.header("x-flashbots-signature").unwrap();
    let signer = flashbots::verify(header, &seen.body).unwrap();
    assert_eq!(signer, net.bundle_signer().address());
    assert_eq!(
        signer.to_string(),
        "0xBE69d72ca5f88aCba033a063dF5DBe43a4148De0"
    );
}

#[test]
fn handles_the_network_and_builder_group() {
    use suave_precompiles::addresses;
    let net = network(&[]);
    for addr in suave_precompiles_network::HANDLED {
        assert!(net.handles(addr));
    }
    assert!(net.handles(addresses::FILL_MEV_SHARE_BUNDLE));
    assert!(!net.handles(addresses::CONFIDENTIAL_STORE));
    let mut run = net.begin();
    assert_eq!(
        run.run(addresses::FILL_MEV_SHARE_BUNDLE, &[0; 32])
            .unwrap_err()
            .0,
        "fillMevShareBundle needs the confidential store: the MEVM must call it through run_call"
    );
    assert_eq!(
        run.run(addresses::CONFIDENTIAL_STORE, &[]).unwrap_err().0,
        "suave precompile not found for 0x0000000000000000000000000000000042020000"
    );
}
