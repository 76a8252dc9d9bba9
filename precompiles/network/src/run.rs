//! The per-request state of the network precompiles and the dispatch by address.

use alloy_primitives::aliases::B128;
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use kettle_contracts::precompiles::SuavePrecompiles::{
    buildEthBlockCall, buildEthBlockToCall, doHTTPRequest2Call, doHTTPRequestCall, ethcallCall,
    extractHintCall, fillMevShareBundleCall, newBuilderCall, simulateBundleCall,
    simulateTransactionCall, submitBundleJsonRPCCall, submitEthBlockToRelayCall,
};
use kettle_contracts::{HttpRequest, HttpResponse};
use suave_precompiles::addresses;
use suave_precompiles::{
    check_access, ExternalCall, ExternalRun, PrecompileError, StoreError, StoreOverlay,
};

/// Merged record ids a `buildEthBlock` record may hold (`abi.encode(bytes16[])`).
pub const DEFAULT_MERGED_RECORDS_KEY: &str = "default:v0:mergedDataRecords";
/// Bundle JSON of a `default:v0:ethBundles` record.
pub const DEFAULT_ETH_BUNDLES_KEY: &str = "default:v0:ethBundles";

use crate::builder::{bundle_rpc_body, ExecutionBackend, RELAY_SUBMIT_PATH};
use crate::bundle::{
    extract_hint, fill_mev_share_bundle, BundleTx, SBundle, ETH_BUNDLES_KEY, MERGED_RECORDS_KEY,
};
use crate::cookie::CookieJar;
use crate::error::NetworkError;
use crate::ethcall::RpcContext;
use crate::flashbots;
use crate::http::{execute, parse_headers, Context, Exchange, Limits, Method, Outgoing};
use crate::Network;

/// The network precompiles during one confidential request: holds the request's
/// load-balancer cookies. Created by [`Network::start`] (or `begin`), dropped with the
/// request.
#[derive(Debug)]
pub struct NetworkRun<'a> {
    net: &'a Network,
    cookies: CookieJar,
    /// When this request's network time budget runs out.
    deadline: std::time::Instant,
}

fn decode<C: SolCall>(input: &[u8]) -> Result<C, NetworkError> {
    C::abi_decode_raw(input).map_err(|_| NetworkError::DecodeInput)
}

impl<'a> NetworkRun<'a> {
    /// A run with no cookies yet.
    pub fn new(net: &'a Network) -> Self {
        Self {
            net,
            cookies: CookieJar::default(),
            deadline: std::time::Instant::now()
                + std::time::Duration::from_millis(net.config.max_run_ms),
        }
    }

    /// `wanted` cut to what is left of the request's network time budget.
    fn budget(&self, wanted: std::time::Duration) -> Result<std::time::Duration, NetworkError> {
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(NetworkError::RunBudgetExhausted(self.net.config.max_run_ms));
        }
        Ok(wanted.min(left))
    }

    /// The precompile at `address` on its selector-less ABI `input`, with a typed error.
    pub fn call(&mut self, address: Address, input: &[u8]) -> Result<Bytes, NetworkError> {
        match address {
            addresses::DO_HTTP_REQUEST => {
                let call: doHTTPRequestCall = decode(input)?;
                let body = self.http_ok(&call.request)?;
                Ok(doHTTPRequestCall::abi_encode_returns(&body.into()).into())
            }
            addresses::DO_HTTP_REQUEST2 => {
                let call: doHTTPRequest2Call = decode(input)?;
                let exchange = self.http(&call.request)?;
                let response = HttpResponse {
                    status: u64::from(exchange.status),
                    body: exchange.body.into(),
                    error: Bytes::new(),
                };
                Ok(doHTTPRequest2Call::abi_encode_returns(&response).into())
            }
            addresses::ETHCALL => {
                let call: ethcallCall = decode(input)?;
                let out = self.ethcall(call.contractAddr, &call.input1)?;
                Ok(ethcallCall::abi_encode_returns(&out).into())
            }
            addresses::SUBMIT_ETH_BLOCK_TO_RELAY => {
                let call: submitEthBlockToRelayCall = decode(input)?;
                let request = HttpRequest {
                    url: format!("{}{RELAY_SUBMIT_PATH}", call.relayUrl),
                    method: "POST".into(),
                    headers: vec![
                        "Content-Type:application/json".into(),
                        "Accept:application/json".into(),
                    ],
                    body: call.builderBid,
                    withFlashbotsSignature: false,
                    timeout: 0,
                };
                Ok(self.http_ok(&request)?.into())
            }
            addresses::SUBMIT_BUNDLE_JSON_RPC => {
                let call: submitBundleJsonRPCCall = decode(input)?;
                let body = bundle_rpc_body(&call.method, &call.params)?;
                let signature = self.net.signer.header_value(&body)?;
                let request = HttpRequest {
                    url: call.url,
                    method: "POST".into(),
                    headers: vec![
                        "Content-Type:application/json".into(),
                        "Accept:application/json".into(),
                        format!("{}:{signature}", flashbots::HEADER),
                    ],
                    body: body.into(),
                    withFlashbotsSignature: false,
                    timeout: 0,
                };
                self.http_ok(&request)?;
                Ok(Bytes::new())
            }
            addresses::EXTRACT_HINT => {
                let call: extractHintCall = decode(input)?;
                Ok(extract_hint(&call.bundleData)?.into())
            }
            addresses::SIMULATE_BUNDLE => {
                let call: simulateBundleCall = decode(input)?;
                let bundle = SBundle::from_json(&call.bundleData)?;
                let egp = self
                    .backend()?
                    .simulate_bundle(&bundle)?
                    .effective_gas_price();
                Ok(simulateBundleCall::abi_encode_returns(&egp).into())
            }
            addresses::BUILD_ETH_BLOCK => {
                let call: buildEthBlockCall = decode(input)?;
                self.check_relay(&call.relayUrl)?;
                self.backend()?;
                Err(NetworkError::NeedsStore("buildEthBlock"))
            }
            addresses::BUILD_ETH_BLOCK_TO => {
                let call: buildEthBlockToCall = decode(input)?;
                if !call.executionNodeURL.is_empty() {
                    self.net.policy.resolve(&call.executionNodeURL)?;
                }
                self.check_relay(&call.relayUrl)?;
                self.backend()?;
                Err(NetworkError::NeedsStore("buildEthBlockTo"))
            }
            addresses::NEW_BUILDER => {
                // Zero-argument precompile: any input is accepted.
                let session = self.backend()?.new_session()?;
                Ok(newBuilderCall::abi_encode_returns(&session).into())
            }
            addresses::SIMULATE_TRANSACTION => {
                let call: simulateTransactionCall = decode(input)?;
                let tx = BundleTx::decode(&call.txn)?;
                let result = self.backend()?.add_transaction(&call.sessionid, &tx.tx)?;
                Ok(simulateTransactionCall::abi_encode_returns(&result).into())
            }
            addresses::FILL_MEV_SHARE_BUNDLE => {
                decode::<fillMevShareBundleCall>(input)?;
                Err(NetworkError::NeedsStore("fillMevShareBundle"))
            }
            other => Err(NetworkError::UnknownPrecompile(other.to_checksum(None))),
        }
    }

    /// `fillMevShareBundle` (SUAVE-COMPAT §8.4) with the request's store and caller stack:
    /// the record must exist and pass the access check for 0x…43200001; its merged ids and
    /// both bundles are read as `confidentialRetrieve` reads them from this frame (so the
    /// precompile itself can be the effective caller), and the output is the raw MEV-Share
    /// bundle JSON.
    pub fn fill_mev_share_bundle(
        &self,
        call: ExternalCall<'_, '_>,
    ) -> Result<Bytes, PrecompileError> {
        let decoded: fillMevShareBundleCall = decode(call.input)?;
        let id = decoded.dataId;
        let store = &*call.store;
        let stack = call.caller_stack;
        let record = store.record(&id)?.ok_or(StoreError::RecordNotFound(id))?;
        check_access(stack, addresses::FILL_MEV_SHARE_BUNDLE, &record)?;
        let out = fill_mev_share_bundle(id, record.decryption_condition, |id, key| {
            let record = store
                .record(&id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| StoreError::RecordNotFound(id).to_string())?;
            let caller =
                check_access(stack, addresses::CONFIDENTIAL_RETRIEVE, &record).map_err(|e| e.0)?;
            store.retrieve(id, key, caller).map_err(|e| e.to_string())
        })?;
        Ok(out.into())
    }

    /// `buildEthBlock` / `buildEthBlockTo` (SUAVE-COMPAT §8.1): the bundles of `dataId` (or of
    /// the records it merges) read from the store as the precompile (0x…42100001), a block
    /// built from them by the execution backend, the bid signed with the kettle's builder
    /// key, and, when a relay URL is given, the bid posted to the relay. Returns the bid and
    /// the payload envelope JSON.
    pub fn build_eth_block(
        &mut self,
        call: ExternalCall<'_, '_>,
    ) -> Result<Bytes, PrecompileError> {
        let (execution_node, args, data_id, relay_url) =
            if call.address == addresses::BUILD_ETH_BLOCK {
                let c: buildEthBlockCall = decode(call.input)?;
                (None, c.blockArgs, c.dataId, c.relayUrl)
            } else {
                let c: buildEthBlockToCall = decode(call.input)?;
                let node = if c.executionNodeURL.is_empty() {
                    None
                } else {
                    Some(self.net.policy.resolve(&c.executionNodeURL)?.url)
                };
                (node, c.blockArgs, c.dataId, c.relayUrl)
            };
        self.check_relay(&relay_url)?;
        let backend = self.backend()?;
        let bundles = bundles_of_record(call.store, call.caller_stack, data_id)?;
        let built = backend
            .build_block(&args, &bundles, execution_node.as_ref())
            .map_err(NetworkError::from)?;
        let bid = backend.bid(&args, &built).map_err(NetworkError::from)?;
        if !relay_url.is_empty() {
            let request = HttpRequest {
                url: format!("{}{RELAY_SUBMIT_PATH}", relay_url.as_str()),
                method: "POST".into(),
                headers: vec![
                    "Content-Type:application/json".into(),
                    "Accept:application/json".into(),
                ],
                body: bid.submission_json.clone(),
                withFlashbotsSignature: false,
                timeout: 0,
            };
            self.http_ok(&request).map_err(|e| {
                NetworkError::Backend(format!("could not submit block to relay: {e}"))
            })?;
        }
        use alloy_sol_types::{sol_data, SolType};
        type Pair = (sol_data::Bytes, sol_data::Bytes);
        Ok(Pair::abi_encode_params(&(bid.bid_json, built.envelope_json)).into())
    }

    /// `doHTTPRequest2`'s semantics: status and body of any completed exchange.
    pub fn http(&mut self, request: &HttpRequest) -> Result<Exchange, NetworkError> {
        let method = Method::parse(&request.method)?;
        if request.url.is_empty() {
            return Err(NetworkError::EmptyUrl);
        }
        let target = self.net.policy.resolve(&request.url)?;
        let mut headers = parse_headers(&request.headers)?;
        if request.withFlashbotsSignature {
            headers.push((
                flashbots::HEADER.to_owned(),
                self.net.signer.header_value(&request.body)?,
            ));
        }
        let timeout = self.budget(self.net.config.timeout_for(request.timeout))?;
        let ctx = Context {
            policy: &self.net.policy,
            resolver: self.net.resolver.as_ref(),
            client: self.net.client.as_ref(),
            limits: Limits {
                max_body: self.net.config.max_response_bytes,
                max_redirects: self.net.config.max_redirects,
            },
        };
        execute(
            &ctx,
            &mut self.cookies,
            Outgoing {
                method,
                target,
                headers,
                body: request.body.to_vec(),
                timeout,
            },
        )
    }

    /// `doHTTPRequest`'s semantics: the body, or `http error: …` above status 299.
    pub fn http_ok(&mut self, request: &HttpRequest) -> Result<Vec<u8>, NetworkError> {
        let exchange = self.http(request)?;
        if exchange.status > 299 {
            return Err(NetworkError::HttpStatus {
                status: exchange.status,
                body: exchange.body,
            });
        }
        Ok(exchange.body)
    }

    /// `ethcall` through the execution backend, else the configured eth backend.
    fn ethcall(&self, contract: Address, input: &[u8]) -> Result<Bytes, NetworkError> {
        if let Some(backend) = &self.net.backend {
            return Ok(backend.call(contract, input)?);
        }
        let rpc = self.net.eth_rpc.as_ref().ok_or(NetworkError::NoBackend)?;
        rpc.call(
            &RpcContext {
                client: self.net.client.as_ref(),
                resolver: self.net.resolver.as_ref(),
                timeout: self.budget(self.net.config.timeout_for(0))?,
                max_body: self.net.config.max_response_bytes,
            },
            contract,
            input,
        )
    }

    fn backend(&self) -> Result<&dyn ExecutionBackend, NetworkError> {
        self.net.backend.as_deref().ok_or(NetworkError::NoBackend)
    }

    /// A non-empty relay URL must pass the allow-list with the submission path appended.
    fn check_relay(&self, relay_url: &str) -> Result<(), NetworkError> {
        if !relay_url.is_empty() {
            self.net
                .policy
                .resolve(&format!("{relay_url}{RELAY_SUBMIT_PATH}"))?;
        }
        Ok(())
    }
}

/// The bundles `buildEthBlock` builds from record `data_id` (SUAVE-COMPAT §8.1 steps 1–3):
/// the records merged under `default:v0:mergedDataRecords`, or the record alone; each
/// checked for the precompile's access and read by its namespace.
fn bundles_of_record(
    store: &StoreOverlay<'_>,
    stack: &[Address],
    data_id: B128,
) -> Result<Vec<SBundle>, PrecompileError> {
    use alloy_sol_types::{sol_data, SolType};
    type Ids = (sol_data::Array<sol_data::FixedBytes<16>>,);
    const PRECOMPILE: Address = addresses::BUILD_ETH_BLOCK;

    let read = |id: B128, key: &str| -> Result<Bytes, PrecompileError> {
        let record = store.record(&id)?.ok_or(StoreError::RecordNotFound(id))?;
        let caller = check_access(stack, PRECOMPILE, &record)?;
        Ok(store.retrieve(id, key, caller)?)
    };
    let ids: Vec<B128> = match read(data_id, DEFAULT_MERGED_RECORDS_KEY) {
        Ok(merged) => {
            let (ids,) = Ids::abi_decode_sequence(&merged).map_err(|e| {
                NetworkError::Store(format!("could not unpack merged record ids: {e}"))
            })?;
            ids
        }
        Err(_) => vec![data_id],
    };
    let parse = |raw: Bytes, id: B128| -> Result<SBundle, PrecompileError> {
        SBundle::from_json(&raw).map_err(|e| {
            PrecompileError::from(NetworkError::Store(format!(
                "could not unmarshal bundle of record {}: {e}",
                alloy_primitives::hex::encode(id)
            )))
        })
    };
    let mut bundles = Vec::with_capacity(ids.len());
    for id in ids {
        let record = store.record(&id)?.ok_or_else(|| {
            NetworkError::Store(format!(
                "could not fetch record id {}",
                alloy_primitives::hex::encode(id)
            ))
        })?;
        check_access(stack, PRECOMPILE, &record)?;
        let bundle = match record.version.as_str() {
            "mevshare:v0:matchDataRecords" => {
                let merged = read(id, MERGED_RECORDS_KEY)?;
                let (pair,) = Ids::abi_decode_sequence(&merged).map_err(|e| {
                    NetworkError::Store(format!("could not unpack merged record ids: {e}"))
                })?;
                let [user_id, match_id, ..] = pair[..] else {
                    return Err(NetworkError::Store(
                        "merged data records hold fewer than two ids".into(),
                    )
                    .into());
                };
                let mut user = parse(read(user_id, ETH_BUNDLES_KEY)?, user_id)?;
                let matched = parse(read(match_id, ETH_BUNDLES_KEY)?, match_id)?;
                user.txs.extend(matched.txs);
                user
            }
            "mevshare:v0:unmatchedBundles" => parse(read(id, ETH_BUNDLES_KEY)?, id)?,
            "default:v0:ethBundles" => parse(read(id, DEFAULT_ETH_BUNDLES_KEY)?, id)?,
            other => {
                return Err(NetworkError::Store(format!("unknown record version {other}")).into())
            }
        };
        bundles.push(bundle);
    }
    Ok(bundles)
}

impl ExternalRun for NetworkRun<'_> {
    fn run(&mut self, address: Address, input: &[u8]) -> Result<Bytes, PrecompileError> {
        let name = addresses::name_of(address).unwrap_or("unknown");
        let span = tracing::debug_span!("network_precompile", precompile = name);
        let _entered = span.enter();
        self.call(address, input).map_err(|err| {
            tracing::debug!(kind = err.kind(), "precompile failed");
            PrecompileError::from(err)
        })
    }

    fn run_call(&mut self, call: ExternalCall<'_, '_>) -> Result<Bytes, PrecompileError> {
        if call.address == addresses::BUILD_ETH_BLOCK
            || call.address == addresses::BUILD_ETH_BLOCK_TO
        {
            let name = addresses::name_of(call.address).unwrap_or("buildEthBlock");
            let span = tracing::debug_span!("network_precompile", precompile = name);
            let _entered = span.enter();
            return self.build_eth_block(call).inspect_err(|_| {
                tracing::debug!("precompile failed");
            });
        }
        if call.address != addresses::FILL_MEV_SHARE_BUNDLE {
            return self.run(call.address, call.input);
        }
        let span = tracing::debug_span!("network_precompile", precompile = "fillMevShareBundle");
        let _entered = span.enter();
        self.fill_mev_share_bundle(call).inspect_err(|_| {
            tracing::debug!("precompile failed");
        })
    }

    fn context_value(&self, key: &str) -> Option<Bytes> {
        self.cookies
            .context_value(key)
            .map(|v| Bytes::copy_from_slice(v.as_bytes()))
    }
}
