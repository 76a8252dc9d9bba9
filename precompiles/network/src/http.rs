//! Outgoing HTTP for `doHTTPRequest`, `doHTTPRequest2` and everything built on them
//! (relay and bundle submission).
//!
//! [`HttpClient`] sends one exchange (no redirects) to addresses already vetted by
//! [`crate::policy`]; the real one is [`crate::client::UreqClient`], tests plug in their
//! own. [`execute`] is the request logic around it, as suave-geth's `doHTTPRequest2` with Go's
//! `net/http` client semantics (header handling, redirects, the timeout covering the whole
//! exchange), plus the fixes listed in the crate docs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use url::Url;

use crate::cookie::CookieJar;
use crate::error::{NetworkError, TransportError};
use crate::policy::{vet_addresses, NameResolver, Target, UrlPolicy, VetError};

/// The two methods a SUAPP may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// Parses the request's method string (exact, upper-case, as suave-geth).
    pub fn parse(method: &str) -> Result<Self, NetworkError> {
        match method {
            "GET" => Ok(Self::Get),
            "POST" => Ok(Self::Post),
            _ => Err(NetworkError::UnsupportedMethod),
        }
    }

    /// The method name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }

    /// How Go's `url.Error` names the operation (`Get`, `Post`).
    pub fn op(self) -> &'static str {
        match self {
            Self::Get => "Get",
            Self::Post => "Post",
        }
    }
}

/// One exchange, as handed to an [`HttpClient`]. `Debug` omits headers and body.
pub struct HopRequest<'a> {
    /// Method.
    pub method: Method,
    /// Full URL (scheme `http` or `https`); the host is used for TLS and the `Host` header.
    pub url: &'a Url,
    /// The only addresses the client may connect to, in order of preference.
    pub addrs: &'a [SocketAddr],
    /// Headers, already validated (names are tokens, values have no control characters).
    pub headers: &'a [(String, String)],
    /// Body; `None` sends none (no `Content-Length`).
    pub body: Option<&'a [u8]>,
    /// Time left for the whole exchange, body included.
    pub timeout: Duration,
    /// Largest response body to accept.
    pub max_body: u64,
}

impl std::fmt::Debug for HopRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HopRequest")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("addrs", &self.addrs)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.map(<[u8]>::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The answer to one exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HopResponse {
    /// Status code.
    pub status: u16,
    /// Response headers, names lower-case, in order.
    pub headers: Vec<(String, String)>,
    /// Body, fully read.
    pub body: Vec<u8>,
}

impl HopResponse {
    /// Values of header `name` (lower-case).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why an exchange failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HopError {
    /// The timeout passed before the response headers.
    Timeout,
    /// The timeout passed while reading the body.
    BodyTimeout,
    /// The body is larger than `max_body`.
    BodyTooLarge,
    /// Anything else (connection, TLS, protocol), as a message.
    Io(String),
}

/// A blocking HTTP/1.1 client that performs single exchanges. It must connect only to
/// [`HopRequest::addrs`], never follow redirects, never use a proxy, and stop reading the body
/// past [`HopRequest::max_body`].
pub trait HttpClient: Send + Sync {
    /// Performs one exchange.
    fn send(&self, request: &HopRequest<'_>) -> Result<HopResponse, HopError>;
}

/// Limits applied to every request.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest response body.
    pub max_body: u64,
    /// Go's redirect limit (see [`crate::NetworkConfig::max_redirects`]).
    pub max_redirects: u32,
}

/// What [`execute`] needs from the kettle.
pub struct Context<'a> {
    /// The allow-list and aliases.
    pub policy: &'a UrlPolicy,
    /// Name resolution.
    pub resolver: &'a dyn NameResolver,
    /// The transport.
    pub client: &'a dyn HttpClient,
    /// Limits.
    pub limits: Limits,
}

/// A request ready to go: URL resolved and allowed, headers parsed. `Debug` omits headers
/// and body.
pub struct Outgoing {
    /// Method.
    pub method: Method,
    /// Where to.
    pub target: Target,
    /// Headers as `(name, value)`, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Timeout of the whole request, redirects and body included.
    pub timeout: Duration,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("method", &self.method)
            .field("host", &self.target.host())
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Status and body of a completed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Status code of the final response.
    pub status: u16,
    /// Its body.
    pub body: Vec<u8>,
}

/// Splits SUAPP header lines `Name:Value` at the first `:` (suave-geth's rule). The value is
/// trimmed of surrounding spaces and tabs, as Go writes it.
pub fn parse_headers(lines: &[String]) -> Result<Vec<(String, String)>, NetworkError> {
    lines
        .iter()
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| NetworkError::BadHeader(line.clone()))?;
            Ok((
                name.to_owned(),
                value.trim_matches([' ', '\t', '\r', '\n']).to_owned(),
            ))
        })
        .collect()
}

/// Headers Go's client never copies from `Request.Header` to the wire.
const DROPPED: [&str; 4] = ["host", "content-length", "transfer-encoding", "trailer"];
/// Headers Go drops on a redirect to another domain.
const SENSITIVE: [&str; 4] = ["authorization", "www-authenticate", "cookie", "cookie2"];

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn valid_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (b >= 0x20 && b != 0x7f) || b == b'\t')
}

/// Checks header names and values as Go's transport does, and drops the ones Go ignores.
fn wire_headers(headers: Vec<(String, String)>) -> Result<Vec<(String, String)>, TransportError> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if !is_token(&name) {
            return Err(TransportError::InvalidHeaderName(name));
        }
        if !valid_value(&value) {
            return Err(TransportError::InvalidHeaderValue(name));
        }
        if !DROPPED.iter().any(|d| name.eq_ignore_ascii_case(d)) {
            out.push((name, value));
        }
    }
    Ok(out)
}

/// `host:port` of a URL, for Go's redirect domain comparison.
fn host_port(url: &Url) -> String {
    format!(
        "{}:{}",
        crate::policy::hostname(url),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Go's `isDomainOrSubdomain(sub, parent)` on `host:port` strings.
fn is_domain_or_subdomain(sub: &str, parent: &str) -> bool {
    sub == parent
        || (sub.len() > parent.len()
            && sub.ends_with(parent)
            && sub.as_bytes()[sub.len() - parent.len() - 1] == b'.')
}

/// Performs `request`: vetted addresses per hop, cookies of this run for the hop's host only,
/// redirects (Go's limit, `limits.max_redirects`) each checked by the policy, the timeout over
/// the whole exchange, and the body cap. AWS load-balancer cookies of the final response are
/// kept in `jar`.
pub fn execute(
    ctx: &Context<'_>,
    jar: &mut CookieJar,
    request: Outgoing,
) -> Result<Exchange, NetworkError> {
    let op = request.method.op();
    let now = Instant::now();
    let deadline = now
        .checked_add(request.timeout)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
    let initial = host_port(&request.target.url);
    let transport = |url: &str, reason| NetworkError::Transport {
        op,
        url: url.to_owned(),
        reason,
    };
    let base_headers =
        wire_headers(request.headers).map_err(|e| transport(&request.target.label, e))?;

    let mut target = request.target;
    let mut method = request.method;
    let mut body = match method {
        Method::Post => Some(request.body),
        Method::Get if !request.body.is_empty() => Some(request.body),
        Method::Get => None,
    };
    let mut redirects = 0u32;
    loop {
        let scheme = target.url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(transport(
                &target.label,
                TransportError::UnsupportedScheme(scheme.to_owned()),
            ));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(transport(&target.label, TransportError::Timeout));
        }
        let host = target.host();
        let span = tracing::debug_span!("http_request", host = %host, method = method.as_str(), hop = redirects);
        let _entered = span.enter();

        let addrs = match vet_addresses(&target, ctx.resolver, remaining) {
            Ok(addrs) => addrs,
            Err(VetError::Internal) if redirects == 0 => {
                tracing::debug!("refused: only internal addresses");
                return Err(NetworkError::InternalAddress(host));
            }
            Err(VetError::Internal) => {
                tracing::debug!("redirect refused: only internal addresses");
                return Err(transport(
                    &target.label,
                    TransportError::RedirectRefused(
                        NetworkError::InternalAddress(host).to_string(),
                    ),
                ));
            }
            Err(VetError::Lookup(reason)) => {
                return Err(transport(
                    &target.label,
                    TransportError::Lookup { host, reason },
                ))
            }
        };

        let cross_domain = !is_domain_or_subdomain(&host_port(&target.url), &initial);
        let mut headers: Vec<(String, String)> = Vec::with_capacity(base_headers.len() + 1);
        if let Some(cookie) = jar.header_for(&host) {
            headers.push(("Cookie".into(), cookie));
        }
        headers.extend(
            base_headers
                .iter()
                .filter(|(n, _)| {
                    !(cross_domain && SENSITIVE.iter().any(|s| n.eq_ignore_ascii_case(s)))
                })
                .cloned(),
        );

        let hop = HopRequest {
            method,
            url: &target.url,
            addrs: &addrs,
            headers: &headers,
            body: body.as_deref(),
            timeout: remaining,
            max_body: ctx.limits.max_body,
        };
        let response = ctx.client.send(&hop).map_err(|e| {
            tracing::debug!(error = ?e, "exchange failed");
            match e {
                HopError::Timeout => transport(&target.label, TransportError::Timeout),
                HopError::BodyTimeout => NetworkError::BodyTimeout,
                HopError::BodyTooLarge => NetworkError::BodyTooLarge {
                    limit: ctx.limits.max_body,
                },
                HopError::Io(reason) => transport(&target.label, TransportError::Io(reason)),
            }
        })?;
        tracing::debug!(status = response.status, "response");

        let location = response
            .header_values("location")
            .next()
            .filter(|l| !l.is_empty())
            .map(str::to_owned);
        let redirect = matches!(response.status, 301 | 302 | 303 | 307 | 308);
        let Some(location) = location.filter(|_| redirect) else {
            jar.store(&host, response.header_values("set-cookie"));
            return Ok(Exchange {
                status: response.status,
                body: response.body,
            });
        };

        let next = target.url.join(&location).map_err(|e| {
            transport(
                &target.label,
                TransportError::BadLocation {
                    location: location.clone(),
                    reason: e.to_string(),
                },
            )
        })?;
        // Go's default CheckRedirect refuses the hop once as many requests as the limit have
        // been sent (10 requests, 9 redirects followed), naming the raw `Location`.
        if redirects + 1 >= ctx.limits.max_redirects {
            return Err(transport(
                &location,
                TransportError::TooManyRedirects(ctx.limits.max_redirects),
            ));
        }
        let next_label = next.to_string();
        target = ctx.policy.redirect(&target, next).map_err(|reason| {
            tracing::debug!("redirect refused by the allow-list");
            transport(&next_label, TransportError::RedirectRefused(reason))
        })?;
        if matches!(response.status, 301..=303) {
            method = Method::Get;
            body = None;
        }
        redirects += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_split_at_first_colon() {
        let parsed = parse_headers(&["a:b".into(), "X-Time: 12:30 ".into(), "e:".into()]).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("a".into(), "b".into()),
                ("X-Time".into(), "12:30".into()),
                ("e".into(), String::new())
            ]
        );
        assert_eq!(
            parse_headers(&["nocolon".into()]).unwrap_err().to_string(),
            "incorrect header format 'nocolon', no ':' present"
        );
    }

    #[test]
    fn wire_header_rules() {
        assert_eq!(
            wire_headers(vec![("bad name".into(), "v".into())]).unwrap_err(),
            TransportError::InvalidHeaderName("bad name".into())
        );
        assert_eq!(
            wire_headers(vec![("n".into(), "a\u{1}".into())]).unwrap_err(),
            TransportError::InvalidHeaderValue("n".into())
        );
        let kept = wire_headers(vec![
            ("Host".into(), "evil".into()),
            ("content-length".into(), "9".into()),
            ("X-A".into(), "1".into()),
        ])
        .unwrap();
        assert_eq!(kept, vec![("X-A".into(), "1".into())]);
    }

    #[test]
    fn subdomain_rule() {
        assert!(is_domain_or_subdomain("a.b.com:443", "b.com:443"));
        assert!(is_domain_or_subdomain("b.com:443", "b.com:443"));
        assert!(!is_domain_or_subdomain("ab.com:443", "b.com:443"));
        assert!(!is_domain_or_subdomain("b.com:80", "b.com:443"));
    }
}
