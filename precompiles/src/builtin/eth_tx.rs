//! `signEthTransaction(bytes txn, string chainId, string signingKey) → bytes`
//! (SUAVE-COMPAT §4), as suave-geth does it: decode a binary legacy, EIP-2930 or EIP-1559
//! transaction (its signature fields, usually zero, are ignored), sign it with the latest
//! signer for `chainId` and return the binary signed transaction.
//!
//! Signer rules reproduced from go-ethereum:
//! - legacy: always EIP-155 for the given chain id (`v = 35 + 2·chainId + parity`), except
//!   chain id 0, where go-ethereum hashes the EIP-155 preimage with a zero chain id but writes
//!   `v = 27 + parity`;
//! - typed: the transaction's chain id must be 0 or equal to `chainId`
//!   (`invalid chain id for signer: have X want Y`); the signed transaction carries `chainId`.
//!
//! secp256k1 signatures are RFC 6979 deterministic and low-s, like go-ethereum's
//! `crypto.Sign`, so the output is byte-identical to suave-geth's.

use alloy_consensus::{
    transaction::{RlpEcdsaDecodableTx, RlpEcdsaEncodableTx},
    SignableTransaction, TxEip1559, TxEip2930, TxLegacy,
};
use alloy_primitives::{keccak256, Bytes, Signature, B256, U256};
use alloy_rlp::{Encodable, Header};
use k256::ecdsa::SigningKey;
use kettle_contracts::precompiles::SuavePrecompiles::signEthTransactionCall;

use super::{
    crypto::{decode_hex, secp256k1_key, HexError},
    decode, encode,
};
use crate::error::PrecompileError;

/// The precompile.
pub(crate) fn sign_eth_transaction(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: signEthTransactionCall = decode(input)?;
    let key = hex_to_ecdsa(&call.signingKey)
        .map_err(|e| PrecompileError::new(format!("key not formatted properly: {e}")))?;
    let chain_id = decode_big(&call.chainId)
        .map_err(|e| PrecompileError::new(format!("chainId not formatted properly: {e}")))?;
    let tx = UnsignedTx::decode(&call.txn)
        .map_err(|e| PrecompileError::new(format!("txn not formatted properly: {e}")))?;
    let signed = tx
        .sign(chain_id, &key)
        .map_err(|e| PrecompileError::new(format!("could not sign: {e}")))?;
    Ok(encode::<signEthTransactionCall>(&Bytes::from(signed)))
}

/// go-ethereum's `crypto.HexToECDSA`: exactly 64 hex digits, no prefix.
fn hex_to_ecdsa(hex: &str) -> Result<SigningKey, String> {
    let bytes = decode_hex(hex.as_bytes()).map_err(|e| match e {
        HexError::InvalidByte(b) => {
            format!("invalid hex character {} in private key", go_quote_byte(b))
        }
        HexError::OddLength => "invalid hex data for private key".to_string(),
    })?;
    secp256k1_key(&bytes).map_err(str::to_string)
}

/// Go's `%q` of a byte: a single-quoted character literal.
fn go_quote_byte(b: u8) -> String {
    match b {
        b'\'' => "'\\''".into(),
        b'\\' => "'\\\\'".into(),
        0x07 => "'\\a'".into(),
        0x08 => "'\\b'".into(),
        0x0c => "'\\f'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\t' => "'\\t'".into(),
        0x0b => "'\\v'".into(),
        0x20..=0x7e => format!("'{}'", char::from(b)),
        0x00..=0x1f | 0x7f => format!("'\\x{b:02x}'"),
        0x80..=0xa0 | 0xad => format!("'\\u{b:04x}'"),
        _ => format!("'{}'", char::from(b)),
    }
}

/// go-ethereum's `hexutil.DecodeBig`: `0x` prefix, no leading zero digits, at most 256 bits.
fn decode_big(input: &str) -> Result<U256, &'static str> {
    if input.is_empty() {
        return Err("empty hex string");
    }
    let raw = input
        .strip_prefix("0x")
        .or_else(|| input.strip_prefix("0X"))
        .ok_or("hex string without 0x prefix")?;
    if raw.is_empty() {
        return Err("hex string \"0x\"");
    }
    if raw.len() > 1 && raw.starts_with('0') {
        return Err("hex number with leading zero digits");
    }
    if raw.len() > 64 {
        return Err("hex number > 256 bits");
    }
    if !raw.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err("invalid hex string");
    }
    U256::from_str_radix(raw, 16).map_err(|_| "invalid hex string")
}

/// A decoded transaction, its signature dropped.
#[derive(Debug, Clone, PartialEq)]
enum UnsignedTx {
    Legacy(TxLegacy),
    Eip2930(TxEip2930),
    Eip1559(TxEip1559),
}

impl UnsignedTx {
    /// go-ethereum's `Transaction.UnmarshalBinary` for the three supported types.
    fn decode(raw: &[u8]) -> Result<Self, String> {
        match raw.first() {
            Some(&b) if b > 0x7f => Ok(Self::Legacy(decode_signed_list(
                raw,
                TxLegacy::rlp_decode_fields,
            )?)),
            _ if raw.len() <= 1 => Err("typed transaction too short".into()),
            Some(0x01) => Ok(Self::Eip2930(decode_signed_list(
                &raw[1..],
                TxEip2930::rlp_decode_fields,
            )?)),
            Some(0x02) => Ok(Self::Eip1559(decode_signed_list(
                &raw[1..],
                TxEip1559::rlp_decode_fields,
            )?)),
            _ => Err("transaction type not supported".into()),
        }
    }

    /// Signs for `chain_id` and returns the binary signed transaction.
    fn sign(self, chain_id: U256, key: &SigningKey) -> Result<Vec<u8>, String> {
        match self {
            Self::Legacy(tx) => sign_legacy(&tx, chain_id, key),
            Self::Eip2930(mut tx) => {
                tx.chain_id = typed_chain_id(tx.chain_id, chain_id)?;
                let sig = sign_hash(key, tx.signature_hash())?;
                let mut out = Vec::with_capacity(tx.eip2718_encoded_length(&sig));
                tx.eip2718_encode(&sig, &mut out);
                Ok(out)
            }
            Self::Eip1559(mut tx) => {
                tx.chain_id = typed_chain_id(tx.chain_id, chain_id)?;
                let sig = sign_hash(key, tx.signature_hash())?;
                let mut out = Vec::with_capacity(tx.eip2718_encoded_length(&sig));
                tx.eip2718_encode(&sig, &mut out);
                Ok(out)
            }
        }
    }
}

/// Decodes `rlp([fields…, v, r, s])` exactly (no trailing bytes), keeping the fields.
fn decode_signed_list<T>(
    mut buf: &[u8],
    fields: fn(&mut &[u8]) -> alloy_rlp::Result<T>,
) -> Result<T, String> {
    let rlp = |e: alloy_rlp::Error| format!("rlp: {e}");
    let header = Header::decode(&mut buf).map_err(rlp)?;
    if !header.list {
        return Err("rlp: expected input list".into());
    }
    if header.payload_length > buf.len() {
        return Err("rlp: value size exceeds available input length".into());
    }
    let (mut payload, rest) = buf.split_at(header.payload_length);
    if !rest.is_empty() {
        return Err("rlp: input contains more than one value".into());
    }
    let tx = fields(&mut payload).map_err(rlp)?;
    for _ in 0..3 {
        <U256 as alloy_rlp::Decodable>::decode(&mut payload).map_err(rlp)?;
    }
    if !payload.is_empty() {
        return Err("rlp: input list has too many elements".into());
    }
    Ok(tx)
}

/// The chain id a typed transaction is signed with: its own must be 0 or the signer's.
fn typed_chain_id(own: u64, signer: U256) -> Result<u64, String> {
    if own != 0 && U256::from(own) != signer {
        return Err(format!(
            "invalid chain id for signer: have {own} want {signer}"
        ));
    }
    u64::try_from(signer).map_err(|_| "chain id does not fit in 64 bits".to_string())
}

/// Signs a 32-byte hash: low-s, deterministic, parity as y-oddness.
fn sign_hash(key: &SigningKey, hash: B256) -> Result<Signature, String> {
    let (sig, recid) = key
        .sign_prehash_recoverable(hash.as_slice())
        .map_err(|e| format!("signing failed: {e}"))?;
    Ok(Signature::from_signature_and_parity(sig, recid.is_y_odd()))
}

/// EIP-155 legacy signing with any 256-bit chain id, go-ethereum style.
fn sign_legacy(tx: &TxLegacy, chain_id: U256, key: &SigningKey) -> Result<Vec<u8>, String> {
    let zero = 0u8;
    let preimage_len = tx.rlp_encoded_fields_length() + chain_id.length() + 2 * zero.length();
    let mut preimage = Vec::with_capacity(preimage_len + 9);
    Header {
        list: true,
        payload_length: preimage_len,
    }
    .encode(&mut preimage);
    tx.rlp_encode_fields(&mut preimage);
    chain_id.encode(&mut preimage);
    zero.encode(&mut preimage);
    zero.encode(&mut preimage);
    let sig = sign_hash(key, keccak256(&preimage))?;

    let parity = U256::from(u8::from(sig.v()));
    let v = if chain_id.is_zero() {
        U256::from(27) + parity
    } else {
        chain_id
            .checked_mul(U256::from(2))
            .and_then(|x| x.checked_add(U256::from(35) + parity))
            .ok_or("chain id too large for an EIP-155 signature")?
    };
    let (r, s) = (sig.r(), sig.s());
    let payload_length = tx.rlp_encoded_fields_length() + v.length() + r.length() + s.length();
    let mut out = Vec::with_capacity(payload_length + 9);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    tx.rlp_encode_fields(&mut out);
    v.encode(&mut out);
    r.encode(&mut out);
    s.encode(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{transaction::SignerRecoverable, TxEnvelope};
    use alloy_eips::eip2718::Decodable2718;
    use alloy_primitives::{address, hex, TxKind};
    use alloy_sol_types::SolCall;

    const KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
    const KETTLE: alloy_primitives::Address = address!("B5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F");

    fn run(txn: Vec<u8>, chain_id: &str, key: &str) -> Result<Vec<u8>, String> {
        let call = signEthTransactionCall {
            txn: txn.into(),
            chainId: chain_id.into(),
            signingKey: key.into(),
        };
        sign_eth_transaction(&call.abi_encode()[4..])
            .map(|out| {
                signEthTransactionCall::abi_decode_returns(&out)
                    .unwrap()
                    .to_vec()
            })
            .map_err(|e| e.0)
    }

    fn unsigned_legacy() -> Vec<u8> {
        let tx = TxLegacy {
            nonce: 7,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(address!("0x00000000000000000000000000000000000000aa")),
            value: U256::from(42),
            input: Bytes::from_static(&[1, 2, 3]),
            chain_id: None,
        };
        let mut out = Vec::new();
        let zero = U256::ZERO;
        Header {
            list: true,
            payload_length: tx.rlp_encoded_fields_length() + 3,
        }
        .encode(&mut out);
        tx.rlp_encode_fields(&mut out);
        for _ in 0..3 {
            zero.encode(&mut out);
        }
        out
    }

    #[test]
    fn legacy_becomes_eip155_and_recovers() {
        let signed = run(unsigned_legacy(), "0x1008c45", KEY).unwrap();
        let env = TxEnvelope::decode_2718(&mut signed.as_slice()).unwrap();
        let TxEnvelope::Legacy(ref legacy) = env else {
            panic!("legacy")
        };
        assert_eq!(legacy.tx().chain_id, Some(16813125));
        assert_eq!(env.recover_signer().unwrap(), KETTLE);
    }

    #[test]
    fn legacy_chain_id_zero_uses_v_27() {
        let signed = run(unsigned_legacy(), "0x0", KEY).unwrap();
        // v is the 7th list item: after the fields, a single byte 0x1b or 0x1c.
        let fields_end = signed.len() - (1 + 33 + 33);
        assert!(matches!(signed[fields_end], 0x1b | 0x1c));
    }

    #[test]
    fn typed_chain_id_rules() {
        let mut tx = TxEip1559 {
            chain_id: 0,
            nonce: 1,
            gas_limit: 21_000,
            max_fee_per_gas: 10,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(KETTLE),
            ..Default::default()
        };
        let encode = |tx: &TxEip1559| {
            let sig = Signature::new(U256::ZERO, U256::ZERO, false);
            let mut out = Vec::new();
            tx.eip2718_encode(&sig, &mut out);
            out
        };
        let signed = run(encode(&tx), "0xd", KEY).unwrap();
        let env = TxEnvelope::decode_2718(&mut signed.as_slice()).unwrap();
        assert_eq!(env.as_eip1559().unwrap().tx().chain_id, 13);
        assert_eq!(env.recover_signer().unwrap(), KETTLE);

        tx.chain_id = 5;
        assert_eq!(
            run(encode(&tx), "0xd", KEY).unwrap_err(),
            "could not sign: invalid chain id for signer: have 5 want 13"
        );
    }

    #[test]
    fn errors_follow_go() {
        let tx = unsigned_legacy();
        assert_eq!(
            run(tx.clone(), "0x1", &format!("0x{KEY}")).unwrap_err(),
            "key not formatted properly: invalid hex character 'x' in private key"
        );
        assert_eq!(
            run(tx.clone(), "0x1", &KEY[1..]).unwrap_err(),
            "key not formatted properly: invalid hex data for private key"
        );
        assert_eq!(
            run(tx.clone(), "1", KEY).unwrap_err(),
            "chainId not formatted properly: hex string without 0x prefix"
        );
        assert_eq!(
            run(tx.clone(), "0x01", KEY).unwrap_err(),
            "chainId not formatted properly: hex number with leading zero digits"
        );
        assert_eq!(
            run(tx.clone(), "0x", KEY).unwrap_err(),
            "chainId not formatted properly: hex string \"0x\""
        );
        assert_eq!(
            run(vec![], "0x1", KEY).unwrap_err(),
            "txn not formatted properly: typed transaction too short"
        );
        assert_eq!(
            run(vec![0x03, 0xc0], "0x1", KEY).unwrap_err(),
            "txn not formatted properly: transaction type not supported"
        );
        let mut trailing = tx;
        trailing.push(0);
        assert!(run(trailing, "0x1", KEY)
            .unwrap_err()
            .starts_with("txn not formatted properly: rlp:"));
        assert_eq!(go_quote_byte(0), "'\\x00'");
        assert_eq!(go_quote_byte(0xe9), "'é'");
        let _ = hex::encode([0u8]);
    }
}
