//! SUAVE network and builder precompiles for the MEVM: `doHTTPRequest`, `doHTTPRequest2`,
//! `ethcall`, `submitEthBlockToRelay`, `submitBundleJsonRPC`, `extractHint`,
//! `fillMevShareBundle`, and the
//! execution-backend precompiles `simulateBundle`, `buildEthBlock`, `buildEthBlockTo`,
//! `newBuilder`, `simulateTransaction`.
//!
//! [`Network`] implements [`suave_precompiles::ExternalPrecompiles`]: the node builds one
//! from a [`NetworkConfig`] and hands it to the MEVM, which asks
//! [`handles`](ExternalPrecompiles::handles) for each precompile address, opens a
//! [`NetworkRun`] per confidential request with [`begin`](ExternalPrecompiles::begin), and
//! calls [`run_call`](ExternalRun::run_call) (or [`run`](ExternalRun::run)) with the
//! selector-less ABI input. Calls block (real HTTP
//! over `ureq`), so the MEVM runs on a blocking thread.
//!
//! Behaviour and messages are suave-geth v0.2.6's (SUAVE-COMPAT §4, §8), with these
//! deliberate differences (§9 items 11 and 13):
//! - `*` in the allow-list reaches only public addresses; a loopback, private, link-local or
//!   otherwise internal address needs its host listed by name or IP literal. The check is on
//!   the resolved addresses, and the connection goes to exactly those addresses.
//! - Redirects are checked against the allow-list and address rules hop by hop.
//! - `AWSALB`/`AWSALBCORS` cookies are re-sent only to the host that set them, as
//!   `name=value`; `contextGet("__cookie_AWSALB")` still returns Go's serialization.
//! - Timeouts are capped ([`NetworkConfig::max_timeout_ms`]), response bodies are capped
//!   ([`NetworkConfig::max_response_bytes`]), and environment proxies are ignored.
//! - Errors of a request made through a service alias name the alias, not its URL.
//! - `extractHint` on an empty bundle or a contract creation fails instead of panicking.
//! - Without an execution backend, the builder precompiles fail with
//!   `no execution backend configured` instead of answering from a mock.
//! - `ethcall` falls back to `eth_call` when the backend has no `suavex_call`.
//!
//! `fillMevShareBundle` reads the confidential store: it is served through
//! [`ExternalRun::run_call`], which hands over the request's store overlay and caller stack
//! (plain `run` cannot serve it and says so).

#![warn(missing_docs)]

pub mod builder;
pub mod bundle;
pub mod client;
pub mod config;
pub mod cookie;
pub mod error;
pub mod ethcall;
pub mod flashbots;
pub mod gojson;
pub mod http;
pub mod policy;
mod run;

use std::sync::Arc;

use alloy_primitives::Address;
use suave_precompiles::addresses;
use suave_precompiles::{ExternalPrecompiles, ExternalRun};

pub use builder::{BackendError, BlockSimulation, BuiltBlock, ExecutionBackend};
pub use bundle::SBundle;
pub use client::UreqClient;
pub use config::NetworkConfig;
pub use error::{NetworkError, TransportError};
pub use flashbots::BundleSigner;
pub use http::HttpClient;
pub use policy::{NameResolver, SystemResolver, UrlPolicy};
pub use run::NetworkRun;

/// Addresses of the precompiles [`Network`] serves.
pub const HANDLED: [Address; 12] = [
    addresses::DO_HTTP_REQUEST,
    addresses::DO_HTTP_REQUEST2,
    addresses::ETHCALL,
    addresses::SIMULATE_BUNDLE,
    addresses::BUILD_ETH_BLOCK,
    addresses::BUILD_ETH_BLOCK_TO,
    addresses::SUBMIT_ETH_BLOCK_TO_RELAY,
    addresses::EXTRACT_HINT,
    addresses::SUBMIT_BUNDLE_JSON_RPC,
    addresses::NEW_BUILDER,
    addresses::SIMULATE_TRANSACTION,
    addresses::FILL_MEV_SHARE_BUNDLE,
];

/// The network and builder precompiles of a kettle, shared by all its requests.
pub struct Network {
    config: NetworkConfig,
    policy: UrlPolicy,
    client: Arc<dyn HttpClient>,
    resolver: Arc<dyn NameResolver>,
    signer: BundleSigner,
    eth_rpc: Option<ethcall::EthRpc>,
    backend: Option<Arc<dyn ExecutionBackend>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("policy", &self.policy)
            .field("signer", &self.signer)
            .field("eth_backend", &self.eth_rpc.is_some())
            .field("execution_backend", &self.backend.is_some())
            .finish_non_exhaustive()
    }
}

impl Network {
    /// The precompiles configured by `config`, with the real HTTP client and the system
    /// resolver, and no execution backend.
    pub fn new(config: NetworkConfig) -> Result<Self, NetworkError> {
        Self::builder(config).build()
    }

    /// A builder, to replace the client or resolver (tests) or add an execution backend.
    pub fn builder(config: NetworkConfig) -> NetworkBuilder {
        NetworkBuilder {
            config,
            client: None,
            resolver: None,
            backend: None,
        }
    }

    /// The key that signs `X-Flashbots-Signature` headers (its address is what builders
    /// and relays see).
    pub fn bundle_signer(&self) -> &BundleSigner {
        &self.signer
    }

    /// The configuration in force.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The allow-list and aliases (the MEVM core may check URLs it handles itself).
    pub fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// The execution backend, if one is configured.
    pub fn execution_backend(&self) -> Option<&Arc<dyn ExecutionBackend>> {
        self.backend.as_ref()
    }

    /// Opens the state of one confidential request (same as
    /// [`begin`](ExternalPrecompiles::begin), with the concrete type).
    pub fn start(&self) -> NetworkRun<'_> {
        NetworkRun::new(self)
    }
}

impl ExternalPrecompiles for Network {
    fn handles(&self, address: Address) -> bool {
        HANDLED.contains(&address)
    }

    fn begin(&self) -> Box<dyn ExternalRun + '_> {
        Box::new(self.start())
    }
}

/// Builds a [`Network`]; see [`Network::builder`].
pub struct NetworkBuilder {
    config: NetworkConfig,
    client: Option<Arc<dyn HttpClient>>,
    resolver: Option<Arc<dyn NameResolver>>,
    backend: Option<Arc<dyn ExecutionBackend>>,
}

impl NetworkBuilder {
    /// Uses `client` for every exchange instead of [`UreqClient`].
    pub fn http_client(mut self, client: Arc<dyn HttpClient>) -> Self {
        self.client = Some(client);
        self
    }

    /// Uses `resolver` for host names instead of [`SystemResolver`].
    pub fn resolver(mut self, resolver: Arc<dyn NameResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Serves the builder precompiles (and `ethcall`) with `backend`.
    pub fn execution_backend(mut self, backend: Arc<dyn ExecutionBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Checks the configuration and builds the precompiles.
    pub fn build(self) -> Result<Network, NetworkError> {
        let config = self.config;
        if config.max_timeout_ms == 0 {
            return Err(NetworkError::Config(
                "max_timeout_ms must be positive".into(),
            ));
        }
        let policy = UrlPolicy::new(&config.allowed_hosts, &config.service_aliases)?;
        let signer = match &config.bundle_signing_key {
            Some(key) => BundleSigner::from_hex(&key.0)?,
            None => BundleSigner::random(),
        };
        let eth_rpc = config
            .eth_backend
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(ethcall::EthRpc::new)
            .transpose()?;
        Ok(Network {
            policy,
            client: self.client.unwrap_or_else(|| Arc::new(UreqClient)),
            resolver: self.resolver.unwrap_or_else(|| Arc::new(SystemResolver)),
            signer,
            eth_rpc,
            backend: self.backend,
            config,
        })
    }
}
