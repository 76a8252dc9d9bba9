//! The real [`HttpClient`]: `ureq` 3 (blocking, rustls with the Mozilla root set, no async
//! runtime), which suits the MEVM calling precompiles synchronously on a blocking thread.
//!
//! Each exchange uses a fresh agent whose resolver answers only the addresses the policy
//! vetted, so the connection goes exactly where the check said (no second DNS lookup, no
//! pooled connection from another request). Redirects, proxies (including `*_PROXY`
//! environment variables) and automatic `Accept` headers are off; status codes are data.

use std::io;
use std::net::SocketAddr;

use ureq::config::Config;
use ureq::http;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use crate::http::{HopError, HopRequest, HopResponse, HttpClient, Method};

/// `User-Agent` sent when the SUAPP sets none.
pub const USER_AGENT: &str = concat!("kettle/", env!("CARGO_PKG_VERSION"));

/// Blocking HTTP/1.1 client over `ureq`.
#[derive(Clone, Copy, Debug, Default)]
pub struct UreqClient;

/// A resolver that answers the vetted addresses whatever is asked.
#[derive(Debug)]
struct Vetted(Vec<SocketAddr>);

impl Resolver for Vetted {
    fn resolve(
        &self,
        _uri: &http::Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        for addr in self.0.iter().take(16) {
            out.push(*addr);
        }
        if out.is_empty() {
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(out)
        }
    }
}

fn io_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connect: connection refused".into(),
        io::ErrorKind::ConnectionReset => "read: connection reset by peer".into(),
        io::ErrorKind::UnexpectedEof => "EOF".into(),
        _ => err.to_string(),
    }
}

fn map_error(err: ureq::Error, reading_body: bool) -> HopError {
    match err {
        ureq::Error::Timeout(_) if reading_body => HopError::BodyTimeout,
        ureq::Error::Timeout(_) => HopError::Timeout,
        ureq::Error::Io(e) if e.kind() == io::ErrorKind::TimedOut => {
            if reading_body {
                HopError::BodyTimeout
            } else {
                HopError::Timeout
            }
        }
        ureq::Error::BodyExceedsLimit(_) => HopError::BodyTooLarge,
        ureq::Error::Io(e) => HopError::Io(io_reason(&e)),
        other => HopError::Io(other.to_string()),
    }
}

impl HttpClient for UreqClient {
    fn send(&self, request: &HopRequest<'_>) -> Result<HopResponse, HopError> {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(None)
            .accept("")
            .accept_encoding("")
            .user_agent(USER_AGENT)
            .timeout_global(Some(request.timeout))
            .max_idle_connections(0)
            .build();
        let agent = Agent::with_parts(
            config,
            DefaultConnector::new(),
            Vetted(request.addrs.to_vec()),
        );

        // Fragments are never sent (Go drops them too).
        let mut url = request.url.clone();
        url.set_fragment(None);
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(url.as_str());
        for (name, value) in request.headers {
            // from_bytes: like Go, allow obs-text (bytes >= 0x80) in values.
            let value = http::HeaderValue::from_bytes(value.as_bytes())
                .map_err(|e| HopError::Io(e.to_string()))?;
            builder = builder.header(name.as_str(), value);
        }
        let result = match (request.method, request.body) {
            (_, Some(body)) => builder
                .body(body)
                .map_err(|e| HopError::Io(e.to_string()))
                .and_then(|req| agent.run(req).map_err(|e| map_error(e, false))),
            (Method::Get | Method::Post, None) => builder
                .body(())
                .map_err(|e| HopError::Io(e.to_string()))
                .and_then(|req| agent.run(req).map_err(|e| map_error(e, false))),
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(request.max_body)
            .read_to_vec()
            .map_err(|e| map_error(e, true))?;
        Ok(HopResponse {
            status,
            headers,
            body,
        })
    }
}
