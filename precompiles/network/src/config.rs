//! Operator configuration of the network and builder precompiles.
//!
//! [`NetworkConfig`] deserializes with serde from the node's configuration file and from
//! `kettle forge`'s `[profile.suave]` table, which uses suave-geth's key names
//! (`whitelist`, `service_alias`, `eth_backend`); unknown keys are ignored, as suave-geth's
//! forge does, and every key has a default.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Timeout of a request that asks for none (suave-geth: 5 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// Default cap on the timeout a SUAPP may ask for.
pub const DEFAULT_MAX_TIMEOUT_MS: u64 = 30_000;
/// Default cap on a response body: 4 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Redirect limit per request (Go's `net/http` default).
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;
/// Total time all network calls of one confidential request may take, in milliseconds.
pub const DEFAULT_MAX_RUN_MS: u64 = 60_000;

/// What the network and builder precompiles may reach, and how.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct NetworkConfig {
    /// Hosts SUAPPs may send HTTP requests to (suave-geth `--suave.eth.external-whitelist`,
    /// forge `whitelist`), compared with the URL's host name, case-insensitively, port
    /// ignored. `*` allows every host whose addresses are all public: a loopback, private,
    /// link-local or otherwise internal address is only reachable through a host listed here
    /// by name or IP literal (`localhost`, `127.0.0.1`, `::1`).
    #[serde(rename = "whitelist", alias = "allowed_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Named services: a request whose URL is exactly a name here goes to the mapped URL,
    /// whatever the allow-list says (suave-geth `--suave.service-alias`, forge
    /// `service_alias`). The mapped URL's host counts as listed (it may be internal).
    #[serde(rename = "service_alias", alias = "service_aliases")]
    pub service_aliases: BTreeMap<String, String>,
    /// Ethereum JSON-RPC endpoint that `ethcall` forwards to (suave-geth
    /// `--suave.eth.remote_endpoint`, forge `eth_backend`); empty means none.
    pub eth_backend: Option<String>,
    /// secp256k1 key (hex, `0x` optional) for `X-Flashbots-Signature` headers (suave-geth
    /// `--suave.eth.bundle-signing-key`); a random key per start when absent, as suave-geth.
    pub bundle_signing_key: Option<SecretHex>,
    /// Timeout of a request whose `timeout` field is 0, in milliseconds.
    pub default_timeout_ms: u64,
    /// Largest timeout a request may ask for, in milliseconds; larger asks are cut to it.
    pub max_timeout_ms: u64,
    /// Largest response body read, in bytes; a larger one fails the request.
    pub max_response_bytes: u64,
    /// Go's redirect limit: a request fails at its `max_redirects`-th redirect response
    /// (Go: "stopped after 10 redirects", after 9 redirects followed).
    pub max_redirects: u32,
    /// Wall-clock budget, in milliseconds, of all network calls of one confidential request
    /// together; each call's timeout is cut to what is left, and a call with nothing left
    /// fails. (suave-geth has no such bound.)
    pub max_run_ms: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            service_aliases: BTreeMap::new(),
            eth_backend: None,
            bundle_signing_key: None,
            default_timeout_ms: DEFAULT_TIMEOUT_MS,
            max_timeout_ms: DEFAULT_MAX_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_run_ms: DEFAULT_MAX_RUN_MS,
        }
    }
}

impl NetworkConfig {
    /// The timeout of a request that asked for `requested_ms` (0 = none): the default for 0,
    /// never above the maximum.
    pub fn timeout_for(&self, requested_ms: u64) -> Duration {
        let ms = if requested_ms == 0 {
            self.default_timeout_ms
        } else {
            requested_ms
        };
        Duration::from_millis(ms.min(self.max_timeout_ms))
    }
}

/// A secret given as hex in configuration; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretHex(pub String);

impl fmt::Debug for SecretHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_profile_keys_and_defaults() {
        let cfg: NetworkConfig = serde_json::from_value(serde_json::json!({
            "whitelist": ["*"],
            "service_alias": {"goerli": "http://127.0.0.1:8545"},
            "eth_backend": "http://127.0.0.1:8545",
            "some_unknown_key": 1
        }))
        .unwrap();
        assert_eq!(cfg.allowed_hosts, vec!["*"]);
        assert_eq!(cfg.service_aliases["goerli"], "http://127.0.0.1:8545");
        assert_eq!(cfg.default_timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(cfg.max_redirects, 10);
    }

    #[test]
    fn node_keys_and_redacted_secret() {
        let cfg: NetworkConfig = serde_json::from_value(serde_json::json!({
            "allowed_hosts": ["example.com"],
            "service_aliases": {},
            "bundle_signing_key": "0x01",
            "max_timeout_ms": 1000
        }))
        .unwrap();
        assert_eq!(cfg.allowed_hosts, vec!["example.com"]);
        assert!(!format!("{cfg:?}").contains("0x01"));
        assert_eq!(cfg.timeout_for(0), Duration::from_millis(1000));
        assert_eq!(cfg.timeout_for(50), Duration::from_millis(50));
        assert_eq!(cfg.timeout_for(u64::MAX), Duration::from_millis(1000));
    }
}
