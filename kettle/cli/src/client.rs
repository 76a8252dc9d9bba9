//! `kettle deploy` and `kettle request`: the smallest client a SUAPP developer needs, talking
//! JSON-RPC to a kettle like any wallet would.

use std::{path::Path, time::Duration};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_dyn_abi::{DynSolValue, EventExt};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{hex, keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::{bail, eyre, WrapErr};
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use kettle_primitives::{ConfidentialComputeRecord, ConfidentialComputeRequest};
use serde_json::Value;

/// How long to wait for a receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// A connected client with a signing key.
pub struct Client {
    rpc: HttpClient,
    signer: PrivateKeySigner,
    chain_id: u64,
}

impl Client {
    /// Connects to `url` and reads the chain id.
    pub async fn connect(url: &str, key: &str) -> eyre::Result<Self> {
        let signer: PrivateKeySigner = key
            .trim_start_matches("0x")
            .parse()
            .wrap_err("invalid --key")?;
        let rpc = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(url)
            .wrap_err_with(|| format!("invalid --rpc {url}"))?;
        let chain_id: U256 = rpc
            .request("eth_chainId", rpc_params![])
            .await
            .wrap_err_with(|| format!("no kettle answering at {url}"))?;
        Ok(Self {
            rpc,
            signer,
            chain_id: chain_id.to::<u64>(),
        })
    }

    async fn nonce(&self) -> eyre::Result<u64> {
        let n: U256 = self
            .rpc
            .request(
                "eth_getTransactionCount",
                rpc_params![self.signer.address(), "pending"],
            )
            .await?;
        Ok(n.to::<u64>())
    }

    async fn gas_price(&self) -> eyre::Result<u128> {
        let p: U256 = self.rpc.request("eth_gasPrice", rpc_params![]).await?;
        Ok(p.to::<u128>())
    }

    async fn send_raw(&self, raw: &[u8]) -> eyre::Result<B256> {
        let hash: B256 = self
            .rpc
            .request(
                "eth_sendRawTransaction",
                rpc_params![Bytes::copy_from_slice(raw)],
            )
            .await?;
        Ok(hash)
    }

    async fn receipt(&self, hash: B256) -> eyre::Result<Value> {
        let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
        loop {
            let r: Value = self
                .rpc
                .request("eth_getTransactionReceipt", rpc_params![hash])
                .await?;
            if !r.is_null() {
                return Ok(r);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("no receipt for {hash} after {}s", RECEIPT_TIMEOUT.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deploys the artifact's bytecode; returns the contract address.
    pub async fn deploy(&self, artifact: &Artifact) -> eyre::Result<Address> {
        let price = self.gas_price().await?;
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonce().await?,
            gas_limit: 10_000_000,
            max_fee_per_gas: price * 2,
            max_priority_fee_per_gas: 1,
            to: TxKind::Create,
            value: U256::ZERO,
            input: artifact.bytecode.clone(),
            access_list: Default::default(),
        };
        let sig = self.signer.sign_hash_sync(&tx.signature_hash())?;
        let raw = alloy_eips::Encodable2718::encoded_2718(&TxEnvelope::from(tx.into_signed(sig)));
        let hash = self.send_raw(&raw).await?;
        let receipt = self.receipt(hash).await?;
        if receipt["status"] != "0x1" {
            bail!("deployment {hash} failed: {receipt}");
        }
        let addr = receipt["contractAddress"]
            .as_str()
            .ok_or_else(|| eyre!("receipt without contractAddress: {receipt}"))?;
        Ok(addr.parse()?)
    }

    /// Sends a confidential compute request and waits for the kettle's `0x50` receipt.
    pub async fn request(
        &self,
        to: Address,
        calldata: Bytes,
        inputs: Bytes,
        kettle: Option<Address>,
        gas: u64,
    ) -> eyre::Result<(B256, Value)> {
        let kettle = match kettle {
            Some(k) => k,
            None => {
                let ks: Vec<Address> = self.rpc.request("eth_kettleAddress", rpc_params![]).await?;
                *ks.first()
                    .ok_or_else(|| eyre!("the node reports no kettle address"))?
            }
        };
        let record = ConfidentialComputeRecord {
            nonce: self.nonce().await?,
            gas_price: U256::from(self.gas_price().await?),
            gas,
            to: Some(to),
            data: calldata,
            kettle_address: kettle,
            chain_id: U256::from(self.chain_id),
            is_eip712: true,
            ..Default::default()
        };
        let request = ConfidentialComputeRequest::new(record, inputs).into_signed(&self.signer)?;
        let hash = self.send_raw(&request.encoded()).await?;
        let receipt = self.receipt(hash).await?;
        Ok((hash, receipt))
    }
}

/// A compiled contract from `contracts/out/<Name>.json`.
pub struct Artifact {
    /// Creation bytecode.
    pub bytecode: Bytes,
    /// ABI, to encode calls and decode events.
    pub abi: JsonAbi,
}

impl Artifact {
    /// Loads `contracts/out/<Name>.json` (or any path to such a file).
    pub fn load(name_or_path: &str) -> eyre::Result<Self> {
        let path = if Path::new(name_or_path).exists() {
            name_or_path.into()
        } else {
            let root = std::env::var("KETTLE_ROOT").unwrap_or_else(|_| ".".into());
            Path::new(&root)
                .join("contracts/out")
                .join(format!("{name_or_path}.json"))
        };
        let text = std::fs::read_to_string(&path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let json: Value = serde_json::from_str(&text)?;
        let bytecode = json["bytecode"]
            .as_str()
            .ok_or_else(|| eyre!("{}: no bytecode", path.display()))?;
        let abi: JsonAbi = serde_json::from_value(json["abi"].clone())?;
        Ok(Self {
            bytecode: hex::decode(bytecode)?.into(),
            abi,
        })
    }

    /// Calldata of a function without arguments given its signature, e.g. `hello()`.
    pub fn selector_call(signature: &str) -> eyre::Result<Bytes> {
        if !signature.ends_with("()") {
            bail!("--sig takes a function without arguments (e.g. `hello()`); use --calldata for arguments");
        }
        Ok(Bytes::copy_from_slice(
            &keccak256(signature.as_bytes())[..4],
        ))
    }

    /// Human-readable lines for a receipt's logs, decoded with this ABI where possible.
    pub fn describe_logs(&self, receipt: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for log in receipt["logs"].as_array().into_iter().flatten() {
            let topics: Vec<B256> = log["topics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str()?.parse().ok())
                .collect();
            let data = log["data"]
                .as_str()
                .and_then(|d| hex::decode(d).ok())
                .unwrap_or_default();
            let decoded = topics.first().and_then(|t0| {
                let event = self.abi.events().find(|e| e.selector() == *t0)?;
                let d = event.decode_log_parts(topics.iter().copied(), &data).ok()?;
                let values: Vec<String> = d.indexed.iter().chain(d.body.iter()).map(show).collect();
                Some(format!("{}({})", event.name, values.join(", ")))
            });
            out.push(
                decoded.unwrap_or_else(|| {
                    format!("log topics={topics:?} data=0x{}", hex::encode(&data))
                }),
            );
        }
        out
    }
}

fn show(v: &DynSolValue) -> String {
    match v {
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", hex::encode(&w[..*n])),
        other => format!("{other:?}"),
    }
}
