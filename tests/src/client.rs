//! [`KettleClient`]: JSON-RPC to a kettle with alloy, plus SUAVE requests.

use std::{
    fmt,
    future::{Future, IntoFuture},
    time::Duration,
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_network::{AnyNetwork, AnyTransactionReceipt, ReceiptResponse};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_provider::{Provider, RootProvider};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolEvent;
use kettle_primitives::{ConfidentialComputeRecord, ConfidentialComputeRequest};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

/// Time limit of one JSON-RPC call.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(20);

/// Default time limit of [`KettleClient::wait_receipt`].
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Gas of the requests built by [`KettleClient::build_request`] (suave-geth's e2e tests and
/// `suave-geth forge` use the same).
pub const DEFAULT_REQUEST_GAS: u64 = 1_000_000;

/// Pause between two polls of a receipt.
const POLL: Duration = Duration::from_millis(20);

/// How the user signs the record of a `0x43` request (SUAVE-COMPAT §1.6–§1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// The plain digest (`isEIP712 = false`), suave-geth's Go SDK default.
    Plain,
    /// The EIP-712 digest (`isEIP712 = true`), what suave-viem sends.
    Eip712,
}

/// Why a JSON-RPC call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcFailure {
    /// The node answered with a JSON-RPC error object.
    Error {
        /// JSON-RPC error code (`-32000` server error, `3` execution reverted, …).
        code: i64,
        /// The error message.
        message: String,
        /// The error's `data`, if any (revert data of a reverted call).
        data: Option<Value>,
    },
    /// No JSON-RPC answer: connection refused or reset, timeout, malformed response.
    Transport(String),
}

impl RpcFailure {
    /// The error message (the transport error's text for [`RpcFailure::Transport`]).
    pub fn message(&self) -> &str {
        match self {
            RpcFailure::Error { message, .. } => message,
            RpcFailure::Transport(why) => why,
        }
    }

    /// The JSON-RPC error code, if the node answered.
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcFailure::Error { code, .. } => Some(*code),
            RpcFailure::Transport(_) => None,
        }
    }

    /// The error's `data`, if the node sent some.
    pub fn data(&self) -> Option<&Value> {
        match self {
            RpcFailure::Error { data, .. } => data.as_ref(),
            RpcFailure::Transport(_) => None,
        }
    }
}

impl fmt::Display for RpcFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcFailure::Error {
                code,
                message,
                data: None,
            } => write!(f, "JSON-RPC error {code}: {message}"),
            RpcFailure::Error {
                code,
                message,
                data: Some(data),
            } => write!(f, "JSON-RPC error {code}: {message} (data {data})"),
            RpcFailure::Transport(why) => write!(f, "transport error: {why}"),
        }
    }
}

impl std::error::Error for RpcFailure {}

impl From<alloy_provider::transport::TransportError> for RpcFailure {
    fn from(err: alloy_provider::transport::TransportError) -> Self {
        match err.as_error_resp() {
            Some(payload) => RpcFailure::Error {
                code: payload.code,
                message: payload.message.to_string(),
                data: payload.data.as_ref().map(|raw| {
                    serde_json::from_str(raw.get())
                        .unwrap_or_else(|_| Value::String(raw.get().into()))
                }),
            },
            None => RpcFailure::Transport(err.to_string()),
        }
    }
}

/// A JSON-RPC client of one kettle: an alloy [`RootProvider`] over HTTP for [`AnyNetwork`]
/// (so `0x50` transactions and receipts decode as a standard client sees them), plus the
/// SUAVE parts a user's client adds.
///
/// Every call is bounded by [`RPC_TIMEOUT`]. Methods that tests only expect to succeed panic
/// with the node's error; methods whose failure a test may check return [`RpcFailure`].
#[derive(Debug, Clone)]
pub struct KettleClient {
    provider: RootProvider<AnyNetwork>,
    url: String,
    chain_id: u64,
    kettle: Address,
}

impl KettleClient {
    /// Connects to the kettle at `url` and reads its chain id and kettle address.
    pub async fn connect(url: &str) -> Self {
        let provider = RootProvider::<AnyNetwork>::new_http(
            url.parse()
                .unwrap_or_else(|e| panic!("bad RPC URL {url}: {e}")),
        );
        let mut client = Self {
            provider,
            url: url.to_owned(),
            chain_id: 0,
            kettle: Address::ZERO,
        };
        client.chain_id = client
            .rpc::<_, alloy_primitives::U64>("eth_chainId", ())
            .await
            .unwrap_or_else(|e| panic!("eth_chainId at {url}: {e}"))
            .to();
        let kettles: Vec<Address> = client
            .rpc("eth_kettleAddress", ())
            .await
            .unwrap_or_else(|e| panic!("eth_kettleAddress at {url}: {e}"));
        client.kettle = *kettles
            .first()
            .unwrap_or_else(|| panic!("eth_kettleAddress at {url} returned no address"));
        client
    }

    /// The underlying alloy provider (standard `eth_*` calls and types).
    pub fn provider(&self) -> &RootProvider<AnyNetwork> {
        &self.provider
    }

    /// The endpoint this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The node's chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The node's (first) kettle address, where requests are addressed.
    pub fn kettle_address(&self) -> Address {
        self.kettle
    }

    /// Any JSON-RPC method with typed parameters and result.
    pub async fn rpc<P, R>(&self, method: &'static str, params: P) -> Result<R, RpcFailure>
    where
        P: Serialize + Clone + Send + Sync + Unpin + fmt::Debug,
        R: DeserializeOwned + Send + Sync + Unpin + fmt::Debug + 'static,
    {
        bounded(method, self.provider.raw_request(method.into(), params)).await
    }

    /// Any JSON-RPC method, with the result as raw JSON (what a wire-level check needs).
    pub async fn json(&self, method: &'static str, params: Value) -> Result<Value, RpcFailure> {
        self.rpc(method, params).await
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> u64 {
        bounded("eth_blockNumber", self.provider.get_block_number())
            .await
            .unwrap_or_else(|e| panic!("eth_blockNumber: {e}"))
    }

    /// `eth_getBalance` at the head.
    pub async fn balance(&self, who: Address) -> U256 {
        bounded(
            "eth_getBalance",
            self.provider.get_balance(who).into_future(),
        )
        .await
        .unwrap_or_else(|e| panic!("eth_getBalance({who}): {e}"))
    }

    /// `eth_getTransactionCount(who, "pending")`: the next nonce, counting pooled transactions.
    pub async fn pending_nonce(&self, who: Address) -> u64 {
        bounded(
            "eth_getTransactionCount",
            self.provider
                .get_transaction_count(who)
                .pending()
                .into_future(),
        )
        .await
        .unwrap_or_else(|e| panic!("eth_getTransactionCount({who}, pending): {e}"))
    }

    /// `eth_getTransactionCount(who, "latest")`: the nonce of the head state.
    pub async fn nonce(&self, who: Address) -> u64 {
        bounded(
            "eth_getTransactionCount",
            self.provider
                .get_transaction_count(who)
                .latest()
                .into_future(),
        )
        .await
        .unwrap_or_else(|e| panic!("eth_getTransactionCount({who}, latest): {e}"))
    }

    /// `eth_gasPrice`.
    pub async fn gas_price(&self) -> u128 {
        bounded("eth_gasPrice", self.provider.get_gas_price())
            .await
            .unwrap_or_else(|e| panic!("eth_gasPrice: {e}"))
    }

    /// `eth_sendRawTransaction` of any bytes; the hash the node returns.
    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256, RpcFailure> {
        self.rpc("eth_sendRawTransaction", (Bytes::copy_from_slice(raw),))
            .await
    }

    /// Signs and sends an EIP-1559 transaction from `signer` (next pending nonce, fee cap twice
    /// the suggested gas price); returns its hash.
    pub async fn send_eip1559(
        &self,
        signer: &PrivateKeySigner,
        to: TxKind,
        input: Bytes,
        value: U256,
        gas_limit: u64,
    ) -> Result<B256, RpcFailure> {
        let price = self.gas_price().await;
        let tip: U256 = self
            .rpc("eth_maxPriorityFeePerGas", ())
            .await
            .unwrap_or_else(|e| panic!("eth_maxPriorityFeePerGas: {e}"));
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.pending_nonce(signer.address()).await,
            gas_limit,
            max_fee_per_gas: price * 2,
            max_priority_fee_per_gas: tip.to(),
            to,
            value,
            access_list: Default::default(),
            input,
        };
        let envelope = signed_eip1559(signer, tx);
        self.send_raw(&envelope.encoded_2718()).await
    }

    /// Deploys the artifact `name` of [`kettle_contracts::ARTIFACTS`] (no constructor
    /// arguments) with an EIP-1559 transaction whose gas comes from `eth_estimateGas`; waits
    /// for the receipt and returns the contract address.
    pub async fn deploy(&self, signer: &PrivateKeySigner, name: &str) -> Address {
        self.deploy_code(signer, artifact_bytecode(name)).await
    }

    /// Deploys `init_code` (creation bytecode with any constructor arguments appended).
    pub async fn deploy_code(&self, signer: &PrivateKeySigner, init_code: Bytes) -> Address {
        let estimate: alloy_primitives::U64 = self
            .rpc(
                "eth_estimateGas",
                (json!({ "from": signer.address(), "input": init_code }),),
            )
            .await
            .unwrap_or_else(|e| panic!("eth_estimateGas of a deployment: {e}"));
        let gas = estimate.to::<u64>() * 6 / 5;
        let hash = self
            .send_eip1559(signer, TxKind::Create, init_code, U256::ZERO, gas)
            .await
            .unwrap_or_else(|e| panic!("deployment transaction refused: {e}"));
        let receipt = self.wait_receipt(hash).await;
        assert!(
            receipt.inner.status(),
            "deployment {hash} reverted: {receipt:?}"
        );
        receipt
            .inner
            .contract_address
            .unwrap_or_else(|| panic!("deployment receipt {hash} has no contractAddress"))
    }

    /// Builds a `0x43` request from `signer` to `to` with `calldata` and `inputs`, addressed to
    /// this kettle: next pending nonce, suggested gas price, [`DEFAULT_REQUEST_GAS`]; see
    /// [`sign_request`](Self::sign_request).
    pub async fn build_request(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        calldata: Bytes,
        inputs: &[u8],
        signing: Signing,
    ) -> ConfidentialComputeRequest {
        let nonce = self.pending_nonce(signer.address()).await;
        let gas_price = self.gas_price().await;
        self.sign_request(signer, nonce, gas_price, to, calldata, inputs, signing)
    }

    /// Builds a `0x43` request without asking the node anything: `nonce` and `gas_price` as
    /// given, [`DEFAULT_REQUEST_GAS`], this kettle's address and chain id; the inputs hash and
    /// the user's signature are set by `kettle-primitives`
    /// ([`ConfidentialComputeRequest::into_signed`]).
    #[allow(clippy::too_many_arguments)]
    pub fn sign_request(
        &self,
        signer: &PrivateKeySigner,
        nonce: u64,
        gas_price: u128,
        to: Address,
        calldata: Bytes,
        inputs: &[u8],
        signing: Signing,
    ) -> ConfidentialComputeRequest {
        let record = ConfidentialComputeRecord {
            nonce,
            gas_price: U256::from(gas_price),
            gas: DEFAULT_REQUEST_GAS,
            to: Some(to),
            data: calldata,
            kettle_address: self.kettle,
            is_eip712: signing == Signing::Eip712,
            chain_id: U256::from(self.chain_id),
            ..Default::default()
        };
        ConfidentialComputeRequest::new(record, Bytes::copy_from_slice(inputs))
            .into_signed(signer)
            .expect("signing a confidential compute request")
    }

    /// Sends a `0x43` request; the `0x50` hash the kettle returns.
    pub async fn send_request(
        &self,
        request: &ConfidentialComputeRequest,
    ) -> Result<B256, RpcFailure> {
        self.send_raw(&request.encoded()).await
    }

    /// Builds (EIP-712 signed), sends and waits for a request that must succeed; its receipt.
    pub async fn request_and_wait(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        calldata: Bytes,
        inputs: &[u8],
    ) -> AnyTransactionReceipt {
        let request = self
            .build_request(signer, to, calldata, inputs, Signing::Eip712)
            .await;
        let hash = self
            .send_request(&request)
            .await
            .unwrap_or_else(|e| panic!("confidential request to {to} refused: {e}"));
        let receipt = self.wait_receipt(hash).await;
        assert!(
            receipt.inner.status(),
            "callback {hash} reverted on chain: {receipt:?}"
        );
        receipt
    }

    /// `eth_call` of a view function on chain (no precompiles); its decoded return.
    ///
    /// # Panics
    /// If the call fails or returns something `C` cannot decode.
    pub async fn view<C: alloy_sol_types::SolCall>(&self, to: Address, call: C) -> C::Return {
        let raw = self
            .json(
                "eth_call",
                json!([{ "to": to, "input": Bytes::from(call.abi_encode()) }, "latest"]),
            )
            .await
            .unwrap_or_else(|e| panic!("eth_call {}: {e}", C::SIGNATURE));
        let raw: Bytes = serde_json::from_value(raw).expect("hex return data");
        C::abi_decode_returns(&raw).unwrap_or_else(|e| panic!("{} returns: {e}", C::SIGNATURE))
    }

    /// A fresh user with a key from `rng`, funded with 1 ETH by the dev user (waits for the
    /// transfer's receipt).
    pub async fn funded_user(&self, rng: &mut crate::TestRng) -> PrivateKeySigner {
        let user = loop {
            if let Ok(user) = PrivateKeySigner::from_slice(&rng.bytes(32)) {
                break user;
            }
        };
        let hash = self
            .send_eip1559(
                &crate::dev_user(),
                TxKind::Call(user.address()),
                Bytes::new(),
                U256::from(10).pow(U256::from(18)),
                21_000,
            )
            .await
            .expect("funding transfer accepted");
        assert!(self.wait_receipt(hash).await.inner.status());
        user
    }

    /// `eth_call` with `isConfidential: true`: the raw return data of the confidential run.
    pub async fn confidential_call(
        &self,
        to: Address,
        calldata: Bytes,
        inputs: &[u8],
    ) -> Result<Bytes, RpcFailure> {
        self.rpc(
            "eth_call",
            (
                confidential_args(to, calldata, inputs, Some(DEFAULT_REQUEST_GAS)),
                "latest",
            ),
        )
        .await
    }

    /// `eth_estimateGas` with `isConfidential: true` (no gas cap given: the node's limit).
    pub async fn confidential_estimate(
        &self,
        to: Address,
        calldata: Bytes,
        inputs: &[u8],
    ) -> Result<u64, RpcFailure> {
        let gas: alloy_primitives::U64 = self
            .rpc(
                "eth_estimateGas",
                (confidential_args(to, calldata, inputs, None),),
            )
            .await?;
        Ok(gas.to())
    }

    /// `eth_getTransactionReceipt` decoded by alloy; `None` while not mined.
    pub async fn receipt(&self, hash: B256) -> Result<Option<AnyTransactionReceipt>, RpcFailure> {
        bounded(
            "eth_getTransactionReceipt",
            self.provider.get_transaction_receipt(hash).into_future(),
        )
        .await
    }

    /// Polls for the receipt of `hash` for at most [`RECEIPT_TIMEOUT`].
    pub async fn wait_receipt(&self, hash: B256) -> AnyTransactionReceipt {
        self.wait_receipt_within(hash, RECEIPT_TIMEOUT).await
    }

    /// Polls for the receipt of `hash` for at most `timeout`; panics with the transaction's
    /// JSON (or its absence) when it does not arrive.
    pub async fn wait_receipt_within(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> AnyTransactionReceipt {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.receipt(hash).await {
                Ok(Some(receipt)) => return receipt,
                Ok(None) => {}
                Err(e) => panic!("eth_getTransactionReceipt({hash}): {e}"),
            }
            if tokio::time::Instant::now() >= deadline {
                let tx = self.transaction_json(hash).await;
                panic!("no receipt for {hash} within {timeout:?}; eth_getTransactionByHash: {tx}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `eth_getTransactionByHash` as raw JSON (`null` if unknown).
    pub async fn transaction_json(&self, hash: B256) -> Value {
        self.json("eth_getTransactionByHash", json!([hash]))
            .await
            .unwrap_or_else(|e| panic!("eth_getTransactionByHash({hash}): {e}"))
    }

    /// `eth_getTransactionReceipt` as raw JSON (`null` if unknown).
    pub async fn receipt_json(&self, hash: B256) -> Value {
        self.json("eth_getTransactionReceipt", json!([hash]))
            .await
            .unwrap_or_else(|e| panic!("eth_getTransactionReceipt({hash}): {e}"))
    }

    /// `eth_getBlockByNumber(number, full)` as raw JSON (`null` if unknown).
    pub async fn block_json(&self, number: u64, full: bool) -> Value {
        self.json(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), full]),
        )
        .await
        .unwrap_or_else(|e| panic!("eth_getBlockByNumber({number}): {e}"))
    }
}

/// The `eth_call` / `eth_estimateGas` argument object of a confidential call (SUAVE-COMPAT
/// §7.1): `isConfidential`, `confidentialInputs` and the kettle default.
fn confidential_args(to: Address, calldata: Bytes, inputs: &[u8], gas: Option<u64>) -> Value {
    let mut args = json!({
        "to": to,
        "input": calldata,
        "isConfidential": true,
        "confidentialInputs": Bytes::copy_from_slice(inputs),
    });
    if let Some(gas) = gas {
        args["gas"] = json!(format!("{gas:#x}"));
    }
    args
}

/// Runs `call` for at most [`RPC_TIMEOUT`], converting its error.
async fn bounded<T, E>(
    what: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, RpcFailure>
where
    RpcFailure: From<E>,
{
    match tokio::time::timeout(RPC_TIMEOUT, call).await {
        Ok(result) => result.map_err(RpcFailure::from),
        Err(_) => Err(RpcFailure::Transport(format!(
            "{what} got no answer within {RPC_TIMEOUT:?}"
        ))),
    }
}

/// `tx` signed by `signer`: `encoded_2718()` gives what `eth_sendRawTransaction` takes, and
/// `tx_hash()` its hash.
pub fn signed_eip1559(signer: &impl SignerSync, tx: TxEip1559) -> TxEnvelope {
    let signature = signer
        .sign_hash_sync(&tx.signature_hash())
        .expect("signing an EIP-1559 transaction");
    TxEnvelope::from(tx.into_signed(signature))
}

/// Creation bytecode of the artifact `name` of [`kettle_contracts::ARTIFACTS`].
///
/// # Panics
/// If there is no such artifact or it has no bytecode (a library or an interface).
pub fn artifact_bytecode(name: &str) -> Bytes {
    let artifact = kettle_contracts::ARTIFACTS
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no artifact {name} in kettle_contracts::ARTIFACTS"));
    let json: Value = serde_json::from_str(artifact.json).expect("artifact JSON");
    let code = json["bytecode"]
        .as_str()
        .unwrap_or_else(|| panic!("artifact {name} has no bytecode"));
    let code: Bytes = code
        .parse()
        .unwrap_or_else(|e| panic!("artifact {name}: bytecode is not hex: {e}"));
    assert!(
        !code.is_empty(),
        "artifact {name} has empty bytecode (not deployable)"
    );
    code
}

/// The events `E` among the logs of `receipt`, in order (other logs are skipped).
pub fn decode_logs<E: SolEvent>(receipt: &AnyTransactionReceipt) -> Vec<E> {
    receipt
        .inner
        .inner
        .logs()
        .iter()
        .filter(|log| log.topics().first() == Some(&E::SIGNATURE_HASH))
        .map(|log| {
            E::decode_log(&log.inner)
                .unwrap_or_else(|e| panic!("log of {} does not decode: {e}", E::SIGNATURE))
                .data
        })
        .collect()
}
