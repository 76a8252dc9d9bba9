//! `kettle deploy` and `kettle request`: the smallest client a SUAPP developer needs, talking
//! JSON-RPC to a kettle like any wallet would.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_dyn_abi::{DynSolType, DynSolValue, ErrorExt, EventExt, JsonAbiExt, Specifier};
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::{bail, eyre, WrapErr};
use jsonrpsee::{
    core::client::{ClientT, Error as ClientError},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use kettle_primitives::{ConfidentialComputeRecord, ConfidentialComputeRequest};
use serde_json::Value;
use suave_precompiles::{addresses, callback::PeekerRevert};

/// How long to wait for a receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the wait for a receipt reports progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Selector of `Error(string)`.
const ERROR_STRING: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// Selector of `Panic(uint256)`.
const PANIC_UINT: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];

/// `(code, message, data)` of a JSON-RPC error answer; `None` for transport failures.
pub fn rpc_error(err: &ClientError) -> Option<(i32, String, Option<Bytes>)> {
    match err {
        ClientError::Call(obj) => {
            let data = obj
                .data()
                .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                .and_then(|s| hex::decode(s).ok())
                .map(Bytes::from);
            Some((obj.code(), obj.message().to_owned(), data))
        }
        _ => None,
    }
}

/// A connected client with a signing key.
pub struct Client {
    rpc: HttpClient,
    url: String,
    signer: PrivateKeySigner,
    chain_id: u64,
}

/// What `kettle request` sends, besides the target.
#[derive(Debug, Clone)]
pub struct RequestParams {
    /// Calldata of the confidential run.
    pub calldata: Bytes,
    /// Confidential inputs.
    pub inputs: Bytes,
    /// Kettle to address; default: the node's first `eth_kettleAddress`.
    pub kettle: Option<Address>,
    /// Gas limit.
    pub gas: u64,
}

/// An accepted request: the `0x43` hash (what the kettle's logs carry), the `0x50` hash and
/// its receipt.
#[derive(Debug)]
pub struct RequestOutcome {
    /// Hash of the signed `0x43` (field `request` of the kettle's log lines).
    pub request_hash: B256,
    /// Hash of the kettle's `0x50` transaction.
    pub hash: B256,
    /// Its receipt (JSON).
    pub receipt: Value,
}

impl Client {
    /// Connects to `url` and reads the chain id.
    pub async fn connect(url: &str, key: &str) -> eyre::Result<Self> {
        let signer: PrivateKeySigner = key
            .trim()
            .trim_start_matches("0x")
            .parse()
            .map_err(|_| eyre!("the signing key is not a hex secp256k1 private key"))?;
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
            url: url.to_owned(),
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

    /// The deployed code at `address`.
    pub async fn code(&self, address: Address) -> eyre::Result<Bytes> {
        Ok(self
            .rpc
            .request("eth_getCode", rpc_params![address, "latest"])
            .await?)
    }

    /// Waits for the receipt of `hash`, reporting progress on stderr.
    async fn receipt(&self, hash: B256) -> eyre::Result<Value> {
        let started = tokio::time::Instant::now();
        let mut next_report = started + PROGRESS_EVERY;
        loop {
            let r: Value = self
                .rpc
                .request("eth_getTransactionReceipt", rpc_params![hash])
                .await?;
            if !r.is_null() {
                return Ok(r);
            }
            let now = tokio::time::Instant::now();
            if now > started + RECEIPT_TIMEOUT {
                bail!(
                    "no receipt for {hash} after {}s (is the kettle producing blocks?)",
                    RECEIPT_TIMEOUT.as_secs()
                );
            }
            if now >= next_report {
                progress(&format!(
                    "still waiting for the receipt of {hash} ({}s)",
                    (now - started).as_secs()
                ));
                next_report = now + PROGRESS_EVERY;
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
        let hash: B256 = self
            .rpc
            .request("eth_sendRawTransaction", rpc_params![Bytes::from(raw)])
            .await
            .map_err(|e| eyre!("deployment refused: {}", error_text(&e)))?;
        progress(&format!("deployment {hash} sent, waiting for its receipt"));
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
    ///
    /// A refused request whose error is a revert is replayed as a confidential `eth_call`
    /// (which returns the revert data that `eth_sendRawTransaction` does not) and the revert
    /// is described with `abi` where it helps; see [`describe_revert`].
    pub async fn request(
        &self,
        to: Address,
        params: RequestParams,
        abi: Option<&JsonAbi>,
    ) -> eyre::Result<RequestOutcome> {
        let kettle = match params.kettle {
            Some(k) => k,
            None => {
                let ks: Vec<Address> = self.rpc.request("eth_kettleAddress", rpc_params![]).await?;
                *ks.first()
                    .ok_or_else(|| eyre!("the node reports no kettle address"))?
            }
        };
        let gas_price = U256::from(self.gas_price().await?);
        let record = ConfidentialComputeRecord {
            nonce: self.nonce().await?,
            gas_price,
            gas: params.gas,
            to: Some(to),
            data: params.calldata.clone(),
            kettle_address: kettle,
            chain_id: U256::from(self.chain_id),
            is_eip712: true,
            ..Default::default()
        };
        let request = ConfidentialComputeRequest::new(record, params.inputs.clone())
            .into_signed(&self.signer)?;
        let request_hash = request.tx_hash();
        progress(&format!("sending confidential request {request_hash}"));
        let sent: Result<B256, _> = self
            .rpc
            .request(
                "eth_sendRawTransaction",
                rpc_params![Bytes::from(request.encoded())],
            )
            .await;
        let hash = match sent {
            Ok(hash) => hash,
            Err(err) => {
                let text = error_text(&err);
                let readable = if text.contains("execution reverted") {
                    self.replay_revert(to, &params, kettle, gas_price, abi)
                        .await
                        .or_else(|| peeker_from_message(&text))
                } else {
                    None
                };
                return Err(match readable {
                    Some(line) => eyre!("{line}\n  (kettle: {text})"),
                    None => eyre!("request refused: {text}"),
                });
            }
        };
        progress(&format!("0x50 {hash} accepted, waiting for its receipt"));
        let receipt = self.receipt(hash).await?;
        Ok(RequestOutcome {
            request_hash,
            hash,
            receipt,
        })
    }

    /// The revert of the same request as a confidential `eth_call`, described; `None` if the
    /// call does not revert with data.
    async fn replay_revert(
        &self,
        to: Address,
        params: &RequestParams,
        kettle: Address,
        gas_price: U256,
        abi: Option<&JsonAbi>,
    ) -> Option<String> {
        let args = serde_json::json!({
            "from": self.signer.address(),
            "to": to,
            "data": params.calldata,
            "gas": format!("{:#x}", params.gas),
            "gasPrice": format!("{gas_price:#x}"),
            "isConfidential": true,
            "kettleAddress": kettle,
            "confidentialInputs": params.inputs,
        });
        let err = self
            .rpc
            .request::<Bytes, _>("eth_call", rpc_params![args, "latest"])
            .await
            .err()?;
        let (_, _, data) = rpc_error(&err)?;
        Some(describe_revert(&data?, abi))
    }

    /// The URL this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Progress lines go to stderr, so stdout stays the result.
fn progress(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The message of a JSON-RPC failure, or the transport error.
fn error_text(err: &ClientError) -> String {
    match rpc_error(err) {
        Some((_, message, _)) => message,
        None => err.to_string(),
    }
}

/// The kettle's rendering of a `PeekerReverted` (`precompile '<addr>' reverted: '<msg>'`)
/// as a readable line.
fn peeker_from_message(text: &str) -> Option<String> {
    let rest = &text[text.find("precompile '")? + "precompile '".len()..];
    let (addr, rest) = rest.split_once("' reverted: '")?;
    let message = rest.strip_suffix('\'').unwrap_or(rest);
    let address: Address = addr.parse().ok()?;
    Some(format!("{} reverted: {message}", precompile_label(address)))
}

fn precompile_label(address: Address) -> String {
    let hex = format!("0x{}", hex::encode(address));
    match addresses::name_of(address) {
        Some(name) => format!("precompile {hex} ({name})"),
        None => format!("precompile {hex}"),
    }
}

/// A human line for revert data: `Suave.sol`'s `PeekerReverted(address, bytes)` (with the
/// precompile's message, itself decoded if it is an `Error(string)`), `Error(string)`,
/// `Panic(uint256)`, a custom error of `abi`, else the hex.
pub fn describe_revert(data: &[u8], abi: Option<&JsonAbi>) -> String {
    if data.is_empty() {
        return "execution reverted without data".into();
    }
    if let Some(peeker) = PeekerRevert::parse(data) {
        return format!(
            "{} reverted: {}",
            precompile_label(peeker.precompile),
            message_text(&peeker.message)
        );
    }
    if let Some(reason) = error_string(data) {
        return format!("execution reverted: {reason}");
    }
    if let Some(body) = data.strip_prefix(&PANIC_UINT) {
        if let Ok(DynSolValue::Uint(code, _)) = DynSolType::Uint(256).abi_decode(body) {
            return format!("execution reverted: panic {code:#x}");
        }
    }
    if let Some(abi) = abi {
        for error in abi.errors() {
            if data.starts_with(error.selector().as_slice()) {
                if let Ok(decoded) = error.decode_error(data) {
                    let values: Vec<String> = decoded.body.iter().map(show).collect();
                    return format!("execution reverted: {}({})", error.name, values.join(", "));
                }
            }
        }
    }
    format!("execution reverted: 0x{}", hex::encode(data))
}

/// The reason of `Error(string)` data.
fn error_string(data: &[u8]) -> Option<String> {
    let body = data.strip_prefix(&ERROR_STRING)?;
    match DynSolType::Tuple(vec![DynSolType::String])
        .abi_decode_params(body)
        .ok()?
    {
        DynSolValue::Tuple(mut fields) => match fields.pop() {
            Some(DynSolValue::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// A precompile's message: `Error(string)` (how suave-std's Forge connector reports FFI
/// failures), UTF-8 text, else hex.
fn message_text(message: &[u8]) -> String {
    if let Some(reason) = error_string(message) {
        return reason.trim_end().to_owned();
    }
    match std::str::from_utf8(message) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n') => text.to_owned(),
        _ => format!("0x{}", hex::encode(message)),
    }
}

/// Confidential inputs from the command line: `@path` reads a file, `0x…` hex is decoded,
/// anything else is taken as UTF-8 text.
pub fn parse_inputs(arg: &str) -> eyre::Result<Bytes> {
    if let Some(path) = arg.strip_prefix('@') {
        let bytes = std::fs::read(path).wrap_err_with(|| format!("reading inputs from {path}"))?;
        return Ok(bytes.into());
    }
    if let Some(digits) = arg.strip_prefix("0x") {
        if let Ok(bytes) = hex::decode(digits) {
            return Ok(bytes.into());
        }
    }
    Ok(Bytes::copy_from_slice(arg.as_bytes()))
}

/// Calldata of `function` with `args`: `function` is a Solidity signature
/// (`greet(string,uint256)`) or, with `abi`, a function name of it.
pub fn encode_call(function: &str, args: &[String], abi: Option<&JsonAbi>) -> eyre::Result<Bytes> {
    let function = resolve_function(function, args.len(), abi)?;
    if function.inputs.len() != args.len() {
        bail!(
            "{} takes {} argument(s), {} given",
            function.signature(),
            function.inputs.len(),
            args.len()
        );
    }
    let mut values = Vec::with_capacity(args.len());
    for (param, arg) in function.inputs.iter().zip(args) {
        let ty: DynSolType = param
            .resolve()
            .wrap_err_with(|| format!("parameter type {}", param.ty))?;
        let value = ty
            .coerce_str(arg)
            .map_err(|e| eyre!("argument `{arg}` is not a {}: {e}", param.ty))?;
        values.push(value);
    }
    Ok(function.abi_encode_input(&values)?.into())
}

fn resolve_function(function: &str, argc: usize, abi: Option<&JsonAbi>) -> eyre::Result<Function> {
    if function.contains('(') {
        return Function::parse(function)
            .map_err(|e| eyre!("`{function}` is not a function signature: {e}"));
    }
    let abi = abi.ok_or_else(|| {
        eyre!("`{function}` is not a signature like `{function}(uint256)`; give one, or --contract to look the name up")
    })?;
    let candidates: Vec<&Function> = abi
        .functions()
        .filter(|f| f.name == function && f.inputs.len() == argc)
        .collect();
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("the contract has no function {function} with {argc} argument(s)"),
        _ => bail!("{function} is overloaded; give its full signature"),
    }
}

/// A compiled contract: `contracts/out/<Name>.json`, a Foundry `out/<Name>.sol/<Name>.json`,
/// or any solc JSON artifact with an ABI and a bytecode.
pub struct Artifact {
    /// Where it was read from.
    pub path: PathBuf,
    /// Creation bytecode (empty if the file has none).
    pub bytecode: Bytes,
    /// Runtime bytecode, if the file has it (to recognise deployed contracts).
    pub deployed_bytecode: Option<Bytes>,
    /// ABI, to encode calls and decode events and errors.
    pub abi: JsonAbi,
}

impl Artifact {
    /// Directories searched for artifacts by name: `$KETTLE_ROOT/contracts/out` (default
    /// root: the current directory) and Foundry's `out`.
    fn search_dirs() -> Vec<PathBuf> {
        let root = std::env::var("KETTLE_ROOT").unwrap_or_else(|_| ".".into());
        vec![Path::new(&root).join("contracts/out"), PathBuf::from("out")]
    }

    /// Loads an artifact by path, or by contract name from the search directories.
    pub fn load(name_or_path: &str) -> eyre::Result<Self> {
        if Path::new(name_or_path).is_file() {
            return Self::read(Path::new(name_or_path));
        }
        let mut tried = Vec::new();
        for dir in Self::search_dirs() {
            for path in [
                dir.join(format!("{name_or_path}.json")),
                dir.join(format!("{name_or_path}.sol"))
                    .join(format!("{name_or_path}.json")),
            ] {
                if path.is_file() {
                    return Self::read(&path);
                }
                tried.push(path.display().to_string());
            }
        }
        bail!(
            "no artifact `{name_or_path}` (not a file; tried {})",
            tried.join(", ")
        )
    }

    /// Reads one artifact file.
    pub fn read(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let json: Value = serde_json::from_str(&text)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let abi: JsonAbi = serde_json::from_value(json["abi"].clone())
            .wrap_err_with(|| format!("{}: no valid `abi`", path.display()))?;
        let code = |key: &str| -> Option<Bytes> {
            let v = &json[key];
            let s = v
                .as_str()
                .or_else(|| v["object"].as_str())
                .or_else(|| json["evm"][key]["object"].as_str())?;
            hex::decode(s).ok().map(Bytes::from)
        };
        Ok(Self {
            path: path.to_owned(),
            bytecode: code("bytecode").unwrap_or_default(),
            deployed_bytecode: code("deployedBytecode").filter(|c| !c.is_empty()),
            abi,
        })
    }

    /// The artifact in the search directories whose runtime bytecode is `code`, if any.
    pub fn find_by_code(code: &[u8]) -> Option<Self> {
        if code.is_empty() {
            return None;
        }
        let mut files = Vec::new();
        for dir in Self::search_dirs() {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    files.extend(
                        std::fs::read_dir(&path)
                            .into_iter()
                            .flatten()
                            .flatten()
                            .map(|e| e.path()),
                    );
                } else {
                    files.push(path);
                }
            }
        }
        files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| Self::read(&p).ok())
            .find(|a| a.deployed_bytecode.as_ref().map(|c| c.as_ref()) == Some(code))
    }

    /// Human-readable lines for a receipt's logs, decoded with this ABI where possible.
    pub fn describe_logs(abi: Option<&JsonAbi>, receipt: &Value) -> Vec<String> {
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
            let decoded = topics.first().zip(abi).and_then(|(t0, abi)| {
                let event = abi.events().find(|e| e.selector() == *t0)?;
                let d = event.decode_log_parts(topics.iter().copied(), &data).ok()?;
                let values: Vec<String> = d.indexed.iter().chain(d.body.iter()).map(show).collect();
                Some(format!("{}({})", event.name, values.join(", ")))
            });
            out.push(decoded.unwrap_or_else(|| {
                format!(
                    "log {} topics={topics:?} data=0x{}",
                    log["address"].as_str().unwrap_or("?"),
                    hex::encode(&data)
                )
            }));
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
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", hex::encode(&w[..*n])),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        DynSolValue::Tuple(items) => {
            format!(
                "({})",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_dyn_abi::DynSolValue;

    #[test]
    fn encodes_calls_from_signatures_and_names() {
        let data = encode_call("hello()", &[], None).expect("no args");
        assert_eq!(hex::encode(&data), "19ff1d21");
        let data = encode_call(
            "transfer(address,uint256)",
            &[
                "0x1111111111111111111111111111111111111111".into(),
                "5".into(),
            ],
            None,
        )
        .expect("two args");
        assert_eq!(&data[..4], &hex!("a9059cbb"));
        assert_eq!(data.len(), 4 + 64);
        assert_eq!(data[4 + 63], 5);
        let err = encode_call("f(uint256)", &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("takes 1 argument"), "{err}");
        let err = encode_call("f(uint8)", &["x".into()], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("argument `x`"), "{err}");
        assert!(encode_call("greet", &[], None).is_err());
        let abi = JsonAbi::parse(["function greet(string name) returns (bytes)"]).expect("abi");
        let by_name = encode_call("greet", &["ada".into()], Some(&abi)).expect("by name");
        assert_eq!(
            by_name,
            encode_call("greet(string)", &["ada".into()], None).expect("by sig")
        );
    }

    #[test]
    fn inputs_from_text_hex_and_file() {
        assert_eq!(parse_inputs("Ada").unwrap(), Bytes::from_static(b"Ada"));
        assert_eq!(
            parse_inputs("0x0aff").unwrap(),
            Bytes::from_static(&[10, 255])
        );
        assert_eq!(parse_inputs("0xzz").unwrap(), Bytes::from_static(b"0xzz"));
        let file = std::env::temp_dir().join(format!("kettle-inputs-{}", std::process::id()));
        std::fs::write(&file, b"\x00secret").unwrap();
        let arg = format!("@{}", file.display());
        assert_eq!(
            parse_inputs(&arg).unwrap(),
            Bytes::from_static(b"\x00secret")
        );
        let _ = std::fs::remove_file(&file);
        assert!(parse_inputs("@/nonexistent/inputs").is_err());
    }

    fn error_string_data(reason: &str) -> Vec<u8> {
        [
            ERROR_STRING.as_slice(),
            &DynSolValue::Tuple(vec![DynSolValue::String(reason.into())]).abi_encode_params(),
        ]
        .concat()
    }

    fn peeker_data(precompile: Address, message: &[u8]) -> Vec<u8> {
        [
            hex!("75fff467").as_slice(),
            &DynSolValue::Tuple(vec![
                DynSolValue::Address(precompile),
                DynSolValue::Bytes(message.to_vec()),
            ])
            .abi_encode_params(),
        ]
        .concat()
    }

    #[test]
    fn revert_reasons_are_readable() {
        let retrieve = addresses::CONFIDENTIAL_RETRIEVE;
        assert_eq!(
            describe_revert(&peeker_data(retrieve, b"data for key x not found"), None),
            "precompile 0x0000000000000000000000000000000042020001 (confidentialRetrieve) \
             reverted: data for key x not found"
        );
        // suave-std's Forge connector: the message is itself an Error(string).
        assert_eq!(
            describe_revert(
                &peeker_data(retrieve, &error_string_data("domain x is not allowed\n")),
                None
            ),
            "precompile 0x0000000000000000000000000000000042020001 (confidentialRetrieve) \
             reverted: domain x is not allowed"
        );
        assert_eq!(
            describe_revert(&error_string_data("empty secret"), None),
            "execution reverted: empty secret"
        );
        let abi =
            JsonAbi::parse(["error NotConfidential()", "error Low(uint256 have)"]).expect("abi");
        assert_eq!(
            describe_revert(&hex!("ff00ff00"), Some(&abi)),
            "execution reverted: 0xff00ff00"
        );
        let low = abi.errors().find(|e| e.name == "Low").expect("Low");
        let data = [
            low.selector().as_slice(),
            &DynSolValue::Uint(U256::from(7), 256).abi_encode(),
        ]
        .concat();
        assert_eq!(
            describe_revert(&data, Some(&abi)),
            "execution reverted: Low(7)"
        );
        let panic = [PANIC_UINT.as_slice(), &[0u8; 31], &[0x11]].concat();
        assert_eq!(
            describe_revert(&panic, None),
            "execution reverted: panic 0x11"
        );
        assert_eq!(
            describe_revert(&[], None),
            "execution reverted without data"
        );
    }

    #[test]
    fn peeker_message_of_the_kettle_is_reformatted() {
        let text = "transaction failed: execution reverted: precompile \
                    '0x0000000000000000000000000000000042020001' reverted: 'data record not found'";
        assert_eq!(
            peeker_from_message(text).as_deref(),
            Some(
                "precompile 0x0000000000000000000000000000000042020001 (confidentialRetrieve) \
                 reverted: data record not found"
            )
        );
        assert_eq!(peeker_from_message("transaction failed: out of gas"), None);
    }

    #[test]
    fn artifacts_in_solc_and_foundry_shapes() {
        let dir = std::env::temp_dir().join(format!("kettle-artifacts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let abi = r#"[{"type":"event","name":"E","inputs":[{"name":"x","type":"uint256","indexed":false}],"anonymous":false}]"#;
        for (name, body) in [
            (
                "flat.json",
                format!(r#"{{"abi":{abi},"bytecode":"0x6001","deployedBytecode":"0x01"}}"#),
            ),
            (
                "foundry.json",
                format!(
                    r#"{{"abi":{abi},"bytecode":{{"object":"0x6001"}},"deployedBytecode":{{"object":"0x01"}}}}"#
                ),
            ),
            (
                "solc.json",
                format!(
                    r#"{{"abi":{abi},"evm":{{"bytecode":{{"object":"6001"}},"deployedBytecode":{{"object":"01"}}}}}}"#
                ),
            ),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, body).unwrap();
            let a = Artifact::load(path.to_str().unwrap()).expect(name);
            assert_eq!(a.bytecode, Bytes::from_static(&[0x60, 0x01]), "{name}");
            assert_eq!(
                a.deployed_bytecode,
                Some(Bytes::from_static(&[1])),
                "{name}"
            );
            assert_eq!(a.abi.events().count(), 1);
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Artifact::load("NoSuchContractAnywhere").is_err());
    }
}
