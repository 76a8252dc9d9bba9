//! SBundle, suave-geth's bundle JSON (SUAVE-COMPAT §5), and the precompile outputs built
//! from bundles: `extractHint` and `fillMevShareBundle` (§8.4).
//!
//! Decoding follows Go's `encoding/json` into suave-geth's `RpcSBundle`: Go syntax-error
//! messages, case-insensitive keys, unknown keys ignored, `null` for absent, hex strings with
//! `0x`, then every transaction decoded as Go's `Transaction.UnmarshalBinary` does (legacy,
//! EIP-2930, EIP-1559 and EIP-4844 transactions; no trailing bytes).

use alloy_consensus::TxEnvelope;
use alloy_eips::eip2718::{Decodable2718, Eip2718Error, Encodable2718};
use alloy_primitives::{hex, Address, Bytes, B128, B256, U256};
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{GoBytes, NetworkError};
use crate::gojson;

/// A bundle as suave-geth's `types.SBundle`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SBundle {
    /// Target block (`blockNumber`), if given.
    pub block_number: Option<U256>,
    /// Last block (`maxBlock`), if given; suave-geth decodes it but never emits it.
    pub max_block: Option<U256>,
    /// The transactions, in order.
    pub txs: Vec<BundleTx>,
    /// Hashes of transactions allowed to revert (`revertingHashes`).
    pub reverting_hashes: Option<Vec<B256>>,
    /// Refund percentage (`percent`), if given.
    pub refund_percent: Option<i64>,
}

/// A decoded bundle transaction and its canonical binary form (Go's `MarshalBinary`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleTx {
    /// The transaction.
    pub tx: TxEnvelope,
    /// Its EIP-2718 encoding.
    pub raw: Bytes,
}

impl BundleTx {
    /// Decodes a binary transaction as Go's `Transaction.UnmarshalBinary`, with Go's messages
    /// for the common failures.
    pub fn decode(bytes: &[u8]) -> Result<Self, NetworkError> {
        match bytes.first() {
            None => {
                return Err(NetworkError::Transaction(
                    "typed transaction too short".into(),
                ))
            }
            Some(&ty) if ty <= 0x7f && bytes.len() <= 1 => {
                return Err(NetworkError::Transaction(
                    "typed transaction too short".into(),
                ))
            }
            // suave-geth's go-ethereum knows types 0-3 (and SUAVE's own, never in bundles).
            Some(&ty) if (0x04..=0x7f).contains(&ty) => {
                return Err(NetworkError::Transaction(
                    "transaction type not supported".into(),
                ))
            }
            _ => {}
        }
        let legacy = bytes.first().is_some_and(|b| *b > 0x7f);
        let tx = TxEnvelope::decode_2718_exact(bytes).map_err(|e| match e {
            Eip2718Error::UnexpectedType(_) if !legacy => {
                NetworkError::Transaction("transaction type not supported".into())
            }
            Eip2718Error::RlpError(e) => NetworkError::Transaction(format!("rlp: {e}")),
            other => NetworkError::Transaction(format!("rlp: {other}")),
        })?;
        let raw = Bytes::from(tx.encoded_2718());
        Ok(Self { tx, raw })
    }

    /// The recipient, `None` for a contract creation.
    pub fn to(&self) -> Option<Address> {
        alloy_consensus::Transaction::to(&self.tx)
    }

    /// The calldata.
    pub fn input(&self) -> &Bytes {
        alloy_consensus::Transaction::input(&self.tx)
    }
}

const STRUCT: &str = "RpcSBundle";

fn type_error(value: &str, field: &str, go_type: &str) -> NetworkError {
    NetworkError::Json(format!(
        "json: cannot unmarshal {value} into Go struct field {STRUCT}.{field} of type {go_type}"
    ))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's case-insensitive field lookup (an exact match wins).
fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// hexutil.Bytes text decoding.
fn hex_bytes(s: &str) -> Result<Vec<u8>, &'static str> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or("hex string without 0x prefix")?;
    if digits.len() % 2 != 0 {
        return Err("hex string of odd length");
    }
    hex::decode(digits).map_err(|_| "invalid hex string")
}

/// hexutil.Big text decoding.
fn hex_big(s: &str) -> Result<Option<U256>, &'static str> {
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or("hex string without 0x prefix")?;
    if digits.is_empty() {
        return Err("hex string \"0x\"");
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err("hex number with leading zero digits");
    }
    if digits.len() > 64 {
        return Err("hex number > 256 bits");
    }
    U256::from_str_radix(digits, 16)
        .map(Some)
        .map_err(|_| "invalid hex string")
}

fn big_field(obj: &Map<String, Value>, name: &str) -> Result<Option<U256>, NetworkError> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => hex_big(s).map_err(|e| type_error(e, name, "*hexutil.Big")),
        Some(_) => Err(type_error("non-string", name, "*hexutil.Big")),
    }
}

impl SBundle {
    /// Decodes SBundle JSON as suave-geth does (`json.Unmarshal` into `types.SBundle`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, NetworkError> {
        let mut compacted = Vec::with_capacity(bytes.len());
        gojson::compact(&mut compacted, bytes).map_err(NetworkError::Json)?;
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| NetworkError::Json(format!("json: {e}")))?;
        let obj = match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(obj) => obj,
            other => {
                return Err(NetworkError::Json(format!(
                    "json: cannot unmarshal {} into Go value of type types.{STRUCT}",
                    json_kind(&other)
                )))
            }
        };
        let block_number = big_field(&obj, "blockNumber")?;
        let max_block = big_field(&obj, "maxBlock")?;
        let raw_txs: Vec<Vec<u8>> = match field(&obj, "txs") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => {
                        hex_bytes(s).map_err(|e| type_error(e, "txs", "hexutil.Bytes"))
                    }
                    _ => Err(type_error("non-string", "txs", "hexutil.Bytes")),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(type_error(json_kind(other), "txs", "[]hexutil.Bytes")),
        };
        let reverting_hashes = match field(&obj, "revertingHashes") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| {
                        let Value::String(s) = item else {
                            return Err(type_error("non-string", "revertingHashes", "common.Hash"));
                        };
                        let digits = s
                            .strip_prefix("0x")
                            .or_else(|| s.strip_prefix("0X"))
                            .ok_or_else(|| {
                                type_error(
                                    "hex string without 0x prefix",
                                    "revertingHashes",
                                    "common.Hash",
                                )
                            })?;
                        if digits.len() != 64 {
                            return Err(type_error(
                                &format!(
                                    "hex string has length {}, want 64 for common.Hash",
                                    digits.len()
                                ),
                                "revertingHashes",
                                "common.Hash",
                            ));
                        }
                        digits.parse::<B256>().map_err(|_| {
                            type_error("invalid hex string", "revertingHashes", "common.Hash")
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(other) => {
                return Err(type_error(
                    json_kind(other),
                    "revertingHashes",
                    "[]common.Hash",
                ))
            }
        };
        let refund_percent = match field(&obj, "percent") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_i64()
                    .ok_or_else(|| type_error(&format!("number {n}"), "percent", "int"))?,
            ),
            Some(other) => return Err(type_error(json_kind(other), "percent", "int")),
        };
        let txs = raw_txs
            .iter()
            .map(|raw| BundleTx::decode(raw))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            block_number,
            max_block,
            txs,
            reverting_hashes,
            refund_percent,
        })
    }

    /// suave-geth's `SBundle.MarshalJSON`: `blockNumber` (if set), `txs`, `revertingHashes`
    /// (if any), `percent` (if set); `maxBlock` is never emitted.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::from(&b"{"[..]);
        if let Some(n) = self.block_number {
            out.extend_from_slice(format!("\"blockNumber\":\"{n:#x}\",").as_bytes());
        }
        out.extend_from_slice(b"\"txs\":[");
        for (i, tx) in self.txs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(format!("\"{}\"", tx.raw).as_bytes());
        }
        out.push(b']');
        if let Some(hashes) = self.reverting_hashes.as_ref().filter(|h| !h.is_empty()) {
            out.extend_from_slice(b",\"revertingHashes\":[");
            for (i, h) in hashes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(format!("\"{h}\"").as_bytes());
            }
            out.push(b']');
        }
        if let Some(p) = self.refund_percent {
            out.extend_from_slice(format!(",\"percent\":{p}").as_bytes());
        }
        out.push(b'}');
        out
    }
}

/// `extractHint`: the recipient and calldata of the bundle's first transaction, as Go marshals
/// `struct { To common.Address; Data []byte }`: `{"To":"0x<lower-hex>","Data":"<base64>"}`.
///
/// suave-geth panics on an empty bundle and on a contract creation; here they are errors.
pub fn extract_hint(bundle_json: &[u8]) -> Result<Vec<u8>, NetworkError> {
    let bundle = SBundle::from_json(bundle_json)?;
    let first = bundle.txs.first().ok_or(NetworkError::EmptyBundle)?;
    let to = first.to().ok_or(NetworkError::CreationTransaction)?;
    let data = base64::engine::general_purpose::STANDARD.encode(first.input());
    Ok(format!("{{\"To\":\"{}\",\"Data\":\"{data}\"}}", hex_lower(to)).into_bytes())
}

fn hex_lower(addr: Address) -> String {
    format!("0x{}", hex::encode(addr))
}

/// `fillMevShareBundle`'s output (§8.4), from the record's decryption condition, the user
/// bundle and the matched (backrun) bundle:
/// `{"version":"v0.1","inclusion":{"block":"0x<cond>","maxBlock":"0x<cond+25>"},
/// "body":[{"tx":"0x…","canRevert":false},…],"validity":{"refund":[{"bodyIdx":i,"percent":p},…]}}`.
/// Body = user transactions then matched ones; one refund entry per user transaction with the
/// user bundle's `percent` or 10. Empty lists are `null`, and `cond + 25` wraps, as in Go.
pub fn mev_share_bundle_json(
    decryption_condition: u64,
    user: &SBundle,
    matched: &SBundle,
) -> Vec<u8> {
    let mut out = format!(
        "{{\"version\":\"v0.1\",\"inclusion\":{{\"block\":\"{:#x}\",\"maxBlock\":\"{:#x}\"}},\"body\":",
        decryption_condition,
        decryption_condition.wrapping_add(25)
    );
    let body: Vec<String> = user
        .txs
        .iter()
        .chain(&matched.txs)
        .map(|tx| format!("{{\"tx\":\"{}\",\"canRevert\":false}}", tx.raw))
        .collect();
    if body.is_empty() {
        out.push_str("null");
    } else {
        out.push('[');
        out.push_str(&body.join(","));
        out.push(']');
    }
    out.push_str(",\"validity\":{\"refund\":");
    let percent = user.refund_percent.unwrap_or(10);
    if user.txs.is_empty() {
        out.push_str("null");
    } else {
        let refunds: Vec<String> = (0..user.txs.len())
            .map(|i| format!("{{\"bodyIdx\":{i},\"percent\":{percent}}}"))
            .collect();
        out.push('[');
        out.push_str(&refunds.join(","));
        out.push(']');
    }
    out.push_str("}}");
    out.into_bytes()
}

/// Store key holding `abi.encode(bytes16[])` of the [user, match] record ids.
pub const MERGED_RECORDS_KEY: &str = "mevshare:v0:mergedDataRecords";
/// Store key holding a record's SBundle JSON.
pub const ETH_BUNDLES_KEY: &str = "mevshare:v0:ethBundles";

/// `fillMevShareBundle` after its record fetch and access check (SUAVE-COMPAT §8.4): reads
/// the merged record ids of `data_id`, the user and match bundles through
/// `retrieve(id, key)` (confidentialRetrieve's logic with the precompile's caller rules; its
/// error text is passed through), and builds the MEV-Share bundle JSON with the record's
/// `decryption_condition`. Message shapes follow suave-geth; where suave-geth panics (fewer
/// than two merged ids) this fails.
pub fn fill_mev_share_bundle(
    data_id: B128,
    decryption_condition: u64,
    mut retrieve: impl FnMut(B128, &str) -> Result<Bytes, String>,
) -> Result<Vec<u8>, NetworkError> {
    use alloy_sol_types::{sol_data, SolType};
    type Ids = (sol_data::Array<sol_data::FixedBytes<16>>,);

    let merged = retrieve(data_id, MERGED_RECORDS_KEY).map_err(NetworkError::Store)?;
    let (ids,) = Ids::abi_decode_sequence(&merged).map_err(|e| {
        NetworkError::Store(format!(
            "could not unpack record ids data for record {}, from cdas: {e}",
            hex::encode(data_id)
        ))
    })?;
    let [user_id, match_id, ..] = ids[..] else {
        return Err(NetworkError::Store(format!(
            "merged data records of record {} hold fewer than two ids",
            hex::encode(data_id)
        )));
    };
    let mut bundle_of = |id: B128, role: &str| -> Result<SBundle, NetworkError> {
        let raw = retrieve(id, ETH_BUNDLES_KEY).map_err(|e| {
            let what = if role == "user" {
                "bundle"
            } else {
                "match bundle"
            };
            NetworkError::Store(format!(
                "could not retrieve {what} data for dataID {}: {e}",
                GoBytes(id.as_slice())
            ))
        })?;
        SBundle::from_json(&raw).map_err(|e| {
            NetworkError::Store(format!(
                "could not unmarshal {role} bundle data for dataID {}: {e}",
                GoBytes(id.as_slice())
            ))
        })
    };
    let user = bundle_of(user_id, "user")?;
    let matched = bundle_of(match_id, "match")?;
    Ok(mev_share_bundle_json(decryption_condition, &user, &matched))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxLegacy};
    use alloy_primitives::TxKind;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    /// A signed legacy transaction to `to` (or a creation) with `data`, hex with 0x.
    pub(crate) fn signed_tx(to: Option<Address>, data: &[u8], nonce: u64) -> String {
        let tx = TxLegacy {
            chain_id: Some(1),
            nonce,
            gas_price: 13,
            gas_limit: 21_000,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value: U256::from(1),
            input: Bytes::copy_from_slice(data),
        };
        let signer = PrivateKeySigner::from_slice(&[7u8; 32]).unwrap();
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        let env: TxEnvelope = tx.into_signed(sig).into();
        format!("0x{}", hex::encode(env.encoded_2718()))
    }

    #[test]
    fn extract_hint_exact_output() {
        let to: Address = "0x00000000000000000000000000000000000000AB"
            .parse()
            .unwrap();
        let json = format!("{{\"txs\":[\"{}\"]}}", signed_tx(Some(to), b"hi!", 0));
        assert_eq!(
            String::from_utf8(extract_hint(json.as_bytes()).unwrap()).unwrap(),
            "{\"To\":\"0x00000000000000000000000000000000000000ab\",\"Data\":\"aGkh\"}"
        );
        let empty_data = format!("{{\"TXS\":[\"{}\"]}}", signed_tx(Some(to), b"", 0));
        assert_eq!(
            String::from_utf8(extract_hint(empty_data.as_bytes()).unwrap()).unwrap(),
            "{\"To\":\"0x00000000000000000000000000000000000000ab\",\"Data\":\"\"}"
        );
        assert_eq!(
            extract_hint(b"{\"txs\":[]}").unwrap_err(),
            NetworkError::EmptyBundle
        );
        assert_eq!(
            extract_hint(b"null").unwrap_err(),
            NetworkError::EmptyBundle
        );
        let creation = format!("{{\"txs\":[\"{}\"]}}", signed_tx(None, b"\x60", 0));
        assert_eq!(
            extract_hint(creation.as_bytes()).unwrap_err(),
            NetworkError::CreationTransaction
        );
    }

    #[test]
    fn go_shaped_decode_errors() {
        for (input, msg) in [
            ("", "unexpected end of JSON input"),
            ("[]", "json: cannot unmarshal array into Go value of type types.RpcSBundle"),
            (
                "{\"txs\":[\"12\"]}",
                "json: cannot unmarshal hex string without 0x prefix into Go struct field RpcSBundle.txs of type hexutil.Bytes",
            ),
            (
                "{\"txs\":[1]}",
                "json: cannot unmarshal non-string into Go struct field RpcSBundle.txs of type hexutil.Bytes",
            ),
            (
                "{\"txs\":{}}",
                "json: cannot unmarshal object into Go struct field RpcSBundle.txs of type []hexutil.Bytes",
            ),
            (
                "{\"blockNumber\":\"0x01\"}",
                "json: cannot unmarshal hex number with leading zero digits into Go struct field RpcSBundle.blockNumber of type *hexutil.Big",
            ),
            (
                "{\"percent\":1.5}",
                "json: cannot unmarshal number 1.5 into Go struct field RpcSBundle.percent of type int",
            ),
            (
                "{\"revertingHashes\":[\"0x12\"]}",
                "json: cannot unmarshal hex string has length 2, want 64 for common.Hash into Go struct field RpcSBundle.revertingHashes of type common.Hash",
            ),
            ("{\"txs\":[\"0x\"]}", "typed transaction too short"),
            ("{\"txs\":[\"0x0401\"]}", "transaction type not supported"),
        ] {
            assert_eq!(
                SBundle::from_json(input.as_bytes()).unwrap_err().to_string(),
                msg,
                "input {input}"
            );
        }
        assert!(SBundle::from_json(b"{\"txs\":[\"0xc0\"]}")
            .unwrap_err()
            .to_string()
            .starts_with("rlp: "));
    }

    #[test]
    fn round_trips_go_marshal_form() {
        let to: Address = Address::repeat_byte(0x11);
        let tx = signed_tx(Some(to), b"x", 3);
        let json = format!(
            "{{\"blockNumber\":\"0x10\",\"maxBlock\":\"0x20\",\"txs\":[\"{tx}\"],\"revertingHashes\":[],\"percent\":7,\"extra\":1}}"
        );
        let b = SBundle::from_json(json.as_bytes()).unwrap();
        assert_eq!(b.block_number, Some(U256::from(16)));
        assert_eq!(b.max_block, Some(U256::from(32)));
        assert_eq!(b.refund_percent, Some(7));
        assert_eq!(format!("{}", b.txs[0].raw), tx);
        assert_eq!(
            String::from_utf8(b.to_json()).unwrap(),
            format!("{{\"blockNumber\":\"0x10\",\"txs\":[\"{tx}\"],\"percent\":7}}")
        );
    }

    #[test]
    fn mev_share_output() {
        let a = signed_tx(Some(Address::repeat_byte(1)), b"", 0);
        let b = signed_tx(Some(Address::repeat_byte(2)), b"", 1);
        let user = SBundle::from_json(format!("{{\"txs\":[\"{a}\"]}}").as_bytes()).unwrap();
        let matched = SBundle::from_json(format!("{{\"txs\":[\"{b}\"]}}").as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(mev_share_bundle_json(16, &user, &matched)).unwrap(),
            format!(
                "{{\"version\":\"v0.1\",\"inclusion\":{{\"block\":\"0x10\",\"maxBlock\":\"0x29\"}},\"body\":[{{\"tx\":\"{a}\",\"canRevert\":false}},{{\"tx\":\"{b}\",\"canRevert\":false}}],\"validity\":{{\"refund\":[{{\"bodyIdx\":0,\"percent\":10}}]}}}}"
            )
        );
        let empty = SBundle::default();
        assert_eq!(
            String::from_utf8(mev_share_bundle_json(u64::MAX, &empty, &empty)).unwrap(),
            "{\"version\":\"v0.1\",\"inclusion\":{\"block\":\"0xffffffffffffffff\",\"maxBlock\":\"0x18\"},\"body\":null,\"validity\":{\"refund\":null}}"
        );
    }

    #[test]
    fn fill_mev_share_bundle_reads_merged_records() {
        use alloy_sol_types::SolValue;
        let a = signed_tx(Some(Address::repeat_byte(1)), b"", 0);
        let b = signed_tx(Some(Address::repeat_byte(2)), b"", 1);
        let (rec, user_id, match_id) = (
            B128::repeat_byte(9),
            B128::repeat_byte(1),
            B128::repeat_byte(2),
        );
        let store = |id: B128, key: &str| -> Result<Bytes, String> {
            match (id, key) {
                (i, MERGED_RECORDS_KEY) if i == rec => {
                    Ok(vec![user_id, match_id].abi_encode_params().into())
                }
                (i, ETH_BUNDLES_KEY) if i == user_id => {
                    Ok(format!("{{\"txs\":[\"{a}\"],\"percent\":50}}")
                        .into_bytes()
                        .into())
                }
                (i, ETH_BUNDLES_KEY) if i == match_id => {
                    Ok(format!("{{\"txs\":[\"{b}\"]}}").into_bytes().into())
                }
                _ => Err(format!("data for key {key} not found")),
            }
        };
        let out = String::from_utf8(fill_mev_share_bundle(rec, 1, store).unwrap()).unwrap();
        assert!(out.ends_with("\"validity\":{\"refund\":[{\"bodyIdx\":0,\"percent\":50}]}}"));
        assert!(out.contains(&a) && out.contains(&b));
        let err = fill_mev_share_bundle(user_id, 1, store).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data for key mevshare:v0:mergedDataRecords not found"
        );
    }
}
