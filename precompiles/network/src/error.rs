//! How the network and builder precompiles fail.
//!
//! Every variant's `Display` is the exact revert message a SUAPP receives (the calling frame
//! reverts with its raw UTF-8 bytes, see [`suave_precompiles::PrecompileError`]). Where
//! suave-geth has a message for the same failure, the text is suave-geth's.

use std::fmt;

use suave_precompiles::PrecompileError;

/// A failure of a network or builder precompile, or of building [`crate::Network`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The precompile input is not the ABI encoding of the precompile's parameters.
    #[error("failed to decode input")]
    DecodeInput,
    /// The request method is neither `GET` nor `POST`.
    #[error("only GET and POST methods are supported")]
    UnsupportedMethod,
    /// The request URL is the empty string.
    #[error("url is empty")]
    EmptyUrl,
    /// The URL does not parse (Go's `url.Parse` error shape).
    #[error("parse \"{url}\": {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The URL's host is neither an alias nor in the allow-list.
    #[error("domain {0} is not allowed")]
    DomainNotAllowed(String),
    /// The host is allowed only through the `*` wildcard and every address it resolves to is
    /// internal (loopback, private, link-local, ...). Not a suave-geth message: suave-geth
    /// lets `*` reach internal hosts (see the crate docs).
    #[error("domain {0} resolves only to internal addresses, which are not allowed")]
    InternalAddress(String),
    /// The request's network time budget ([`crate::NetworkConfig::max_run_ms`]) is spent: a
    /// SUAPP cannot keep a kettle busy with an unbounded chain of slow calls.
    #[error("network time budget of this request is exhausted ({0} ms)")]
    RunBudgetExhausted(u64),
    /// A request header is not of the form `Name:Value`.
    #[error("incorrect header format '{0}', no ':' present")]
    BadHeader(String),
    /// `doHTTPRequest` (and everything built on it) got a status above 299; the body is
    /// printed as Go prints a byte slice (`[104 105]`).
    #[error("http error: {status}: {}", GoBytes(body))]
    HttpStatus {
        /// The response status.
        status: u16,
        /// The response body.
        body: Vec<u8>,
    },
    /// The request could not be completed (Go's `*url.Error` shape: `Get "<url>": <reason>`).
    /// For a request made through a service alias, `url` is the alias name, so the aliased
    /// URL (which may carry credentials) never reaches a revert message.
    #[error("{op} \"{url}\": {reason}")]
    Transport {
        /// `Get` or `Post` (the method of the original request).
        op: &'static str,
        /// The URL being requested, or the alias name.
        url: String,
        /// What went wrong.
        reason: TransportError,
    },
    /// The response body could not be read to its end in time (Go's message, unwrapped as in
    /// suave-geth).
    #[error(
        "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
    )]
    BodyTimeout,
    /// The response body is larger than the configured maximum.
    #[error("response body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured maximum, in bytes.
        limit: u64,
    },
    /// A JSON argument is not valid JSON or not of the expected shape.
    #[error("{0}")]
    Json(String),
    /// A transaction in a bundle or argument does not decode.
    #[error("{0}")]
    Transaction(String),
    /// A bundle has no transaction where one is needed (suave-geth panics here).
    #[error("bundle has no transactions")]
    EmptyBundle,
    /// The hinted transaction creates a contract, so it has no `to` (suave-geth panics here).
    #[error("bundle transaction has no recipient (contract creation)")]
    CreationTransaction,
    /// No backend can serve this precompile on this kettle.
    #[error("no execution backend configured")]
    NoBackend,
    /// The execution or eth backend failed; its message.
    #[error("{0}")]
    Backend(String),
    /// The precompile reads the confidential store, which only
    /// [`ExternalRun::run_call`](suave_precompiles::ExternalRun::run_call) provides, and was
    /// reached through `run`.
    #[error("{0} needs the confidential store: the MEVM must call it through run_call")]
    NeedsStore(&'static str),
    /// The precompile's backend operation exists but its use here is not built yet.
    #[error("{0} is not supported by this kettle yet")]
    Unsupported(&'static str),
    /// The confidential store refused a read (its message).
    #[error("{0}")]
    Store(String),
    /// The address is not one of this crate's precompiles (suave-geth's message).
    #[error("suave precompile not found for {0}")]
    UnknownPrecompile(String),
    /// The configuration is invalid (reported when building [`crate::Network`]).
    #[error("invalid network configuration: {0}")]
    Config(String),
}

impl NetworkError {
    /// A short name of the failure for logs (messages may echo SUAPP-supplied headers or
    /// URLs, which logs must not carry).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DecodeInput => "decode_input",
            Self::UnsupportedMethod => "unsupported_method",
            Self::EmptyUrl => "empty_url",
            Self::InvalidUrl { .. } => "invalid_url",
            Self::DomainNotAllowed(_) => "domain_not_allowed",
            Self::InternalAddress(_) => "internal_address",
            Self::RunBudgetExhausted(_) => "run_budget_exhausted",
            Self::BadHeader(_) => "bad_header",
            Self::HttpStatus { .. } => "http_status",
            Self::Transport { .. } => "transport",
            Self::BodyTimeout => "body_timeout",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::Json(_) => "json",
            Self::Transaction(_) => "transaction",
            Self::EmptyBundle => "empty_bundle",
            Self::CreationTransaction => "creation_transaction",
            Self::NoBackend => "no_backend",
            Self::Backend(_) => "backend",
            Self::NeedsStore(_) => "needs_store",
            Self::Unsupported(_) => "unsupported",
            Self::Store(_) => "store",
            Self::UnknownPrecompile(_) => "unknown_precompile",
            Self::Config(_) => "config",
        }
    }
}

impl From<NetworkError> for PrecompileError {
    fn from(err: NetworkError) -> Self {
        PrecompileError::new(err.to_string())
    }
}

/// Why one HTTP exchange failed below the precompile logic (connection, timeout, protocol).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The overall deadline passed before the response headers arrived (Go's message).
    #[error("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")]
    Timeout,
    /// The URL scheme is neither `http` nor `https` (Go's message).
    #[error("unsupported protocol scheme \"{0}\"")]
    UnsupportedScheme(String),
    /// A header name is not an HTTP token (Go's message).
    #[error("net/http: invalid header field name \"{0}\"")]
    InvalidHeaderName(String),
    /// A header value holds a control character (Go's message; the value is not repeated).
    #[error("net/http: invalid header field value for \"{0}\"")]
    InvalidHeaderValue(String),
    /// A redirect target is refused by the allow-list or address policy.
    #[error("redirect refused: {0}")]
    RedirectRefused(String),
    /// More than the allowed number of redirects (Go's message).
    #[error("stopped after {0} redirects")]
    TooManyRedirects(u32),
    /// A `Location` header does not parse (Go's message).
    #[error("failed to parse Location header \"{location}\": {reason}")]
    BadLocation {
        /// The header value.
        location: String,
        /// Why it does not parse.
        reason: String,
    },
    /// Name resolution failed.
    #[error("lookup {host}: {reason}")]
    Lookup {
        /// The host name.
        host: String,
        /// Why.
        reason: String,
    },
    /// Connecting, TLS, or exchanging bytes failed.
    #[error("{0}")]
    Io(String),
}

/// Formats bytes as Go's `fmt` `%v` prints a `[]byte`: `[104 105]`.
pub struct GoBytes<'a>(pub &'a [u8]);

impl fmt::Display for GoBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_byte_list() {
        assert_eq!(GoBytes(b"hi").to_string(), "[104 105]");
        assert_eq!(GoBytes(b"").to_string(), "[]");
        let err = NetworkError::HttpStatus {
            status: 404,
            body: b"no".to_vec(),
        };
        assert_eq!(err.to_string(), "http error: 404: [110 111]");
    }

    #[test]
    fn transport_shape() {
        let err = NetworkError::Transport {
            op: "Get",
            url: "http://x/".into(),
            reason: TransportError::TooManyRedirects(10),
        };
        assert_eq!(
            err.to_string(),
            "Get \"http://x/\": stopped after 10 redirects"
        );
    }
}
