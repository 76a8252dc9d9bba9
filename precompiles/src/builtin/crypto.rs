//! Crypto and utility precompiles: `signMessage`, `privateKeyGen`, `randomBytes`,
//! `aesEncrypt`, `aesDecrypt`, `getInsecureTime` (SUAVE-COMPAT §4).
//!
//! Error texts are suave-geth's, including the Go library messages they wrap, because SUAPPs
//! and tests match on them. Keys never appear in any message.

use aes_gcm::{
    aead::{Aead, KeyInit},
    Aes256Gcm, Key, Nonce,
};
use alloy_primitives::{uint, Bytes, U256};
use k256::ecdsa::SigningKey;
use kettle_contracts::precompiles::SuavePrecompiles::{
    aesDecryptCall, aesEncryptCall, getInsecureTimeCall, privateKeyGenCall, randomBytesCall,
    signMessageCall,
};

use super::{decode, encode};
use crate::error::PrecompileError;

/// `CryptoSignature.SECP256`.
pub(crate) const SECP256: u8 = 0;
/// `CryptoSignature.BLS`.
pub(crate) const BLS: u8 = 1;

/// Domain separation tag of BLS signatures: the proof-of-possession ciphersuite of the
/// Ethereum consensus and builder specs, as suave-geth's go-boost-utils uses.
pub const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Order of the secp256k1 group.
const SECP256K1_N: U256 =
    uint!(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141_U256);

/// Order `r` of the BLS12-381 scalar field.
const BLS12_381_R: U256 =
    uint!(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001_U256);

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), PrecompileError> {
    getrandom::fill(buf).map_err(|e| PrecompileError::new(format!("random source failed: {e}")))
}

/// `randomBytes(uint8 numBytes) → bytes`.
pub(crate) fn random_bytes(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: randomBytesCall = decode(input)?;
    let mut buf = vec![0u8; usize::from(call.numBytes)];
    fill_random(&mut buf)?;
    Ok(encode::<randomBytesCall>(&Bytes::from(buf)))
}

/// `getInsecureTime() → uint256`: the kettle's wall clock in Unix milliseconds.
pub(crate) fn get_insecure_time() -> Bytes {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    encode::<getInsecureTimeCall>(&U256::from(millis))
}

/// The key as suave-geth's AES precompiles use it: zero-padded or truncated to 32 bytes.
fn aes_key(key: &[u8]) -> Aes256Gcm {
    let mut k = [0u8; 32];
    let n = key.len().min(32);
    k[..n].copy_from_slice(&key[..n]);
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(k))
}

/// Length of the AES-GCM nonce prefixed to ciphertexts.
const AES_NONCE_LEN: usize = 12;

/// `aesEncrypt(bytes key, bytes message) → bytes`: AES-256-GCM with a random 12-byte nonce and
/// no associated data; output `nonce ‖ ciphertext ‖ tag`.
pub(crate) fn aes_encrypt(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: aesEncryptCall = decode(input)?;
    let cipher = aes_key(&call.key);
    let mut nonce = [0u8; AES_NONCE_LEN];
    fill_random(&mut nonce)?;
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), call.message.as_ref())
        .map_err(|_| PrecompileError::new("cipher: message too large"))?;
    let mut out = Vec::with_capacity(AES_NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(encode::<aesEncryptCall>(&Bytes::from(out)))
}

/// `aesDecrypt(bytes key, bytes ciphertext) → bytes`, the inverse of [`aes_encrypt`].
pub(crate) fn aes_decrypt(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: aesDecryptCall = decode(input)?;
    let cipher = aes_key(&call.key);
    if call.ciphertext.len() < AES_NONCE_LEN {
        return Err(PrecompileError::new("ciphertext too short"));
    }
    let (nonce, sealed) = call.ciphertext.split_at(AES_NONCE_LEN);
    let nonce: [u8; AES_NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| PrecompileError::new("ciphertext too short"))?;
    let plain = cipher
        .decrypt(&Nonce::from(nonce), sealed)
        .map_err(|_| PrecompileError::new("cipher: message authentication failed"))?;
    Ok(encode::<aesDecryptCall>(&Bytes::from(plain)))
}

/// `privateKeyGen(CryptoSignature) → string`: a fresh key as 64 lower-case hex digits without
/// `0x` (secp256k1 scalar, or BLS12-381 secret scalar, both big-endian).
pub(crate) fn private_key_gen(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: privateKeyGenCall = decode(input)?;
    let key = match call.crypto {
        SECP256 => loop {
            let mut candidate = [0u8; 32];
            fill_random(&mut candidate)?;
            if SigningKey::from_slice(&candidate).is_ok() {
                break candidate;
            }
        },
        BLS => {
            let mut ikm = [0u8; 32];
            fill_random(&mut ikm)?;
            blst::min_pk::SecretKey::key_gen(&ikm, &[])
                .map_err(|e| {
                    PrecompileError::new(format!("could not generate new a private key: {e:?}"))
                })?
                .to_bytes()
        }
        other => {
            return Err(PrecompileError::new(format!(
                "unsupported crypto type {other}"
            )))
        }
    };
    Ok(encode::<privateKeyGenCall>(&crate::stack::hex_lower(&key)))
}

/// `signMessage(bytes digest, CryptoSignature, string signingKey) → bytes`.
///
/// The key is hex with an optional `0x`. SECP256: the digest must be 32 bytes; returns
/// `r ‖ s ‖ v` with `v` ∈ {0, 1} (low-s, RFC 6979 deterministic, like go-ethereum's
/// `crypto.Sign`). BLS: any message; returns the 96-byte compressed G2 signature under
/// [`BLS_DST`].
pub(crate) fn sign_message(input: &[u8]) -> Result<Bytes, PrecompileError> {
    let call: signMessageCall = decode(input)?;
    let hex = call
        .signingKey
        .strip_prefix("0x")
        .unwrap_or(&call.signingKey);
    let key = decode_hexutil(hex)
        .map_err(|e| PrecompileError::new(format!("key not formatted properly: {e}")))?;
    let signature = match call.crypto {
        SECP256 => {
            let key = secp256k1_key(&key)
                .map_err(|e| PrecompileError::new(format!("key not formatted properly: {e}")))?;
            if call.digest.len() != 32 {
                return Err(PrecompileError::new(format!(
                    "failed to sign message: hash is required to be exactly 32 bytes ({})",
                    call.digest.len()
                )));
            }
            let (sig, recid) = key
                .sign_prehash_recoverable(&call.digest)
                .map_err(|_| PrecompileError::new("failed to sign message: signing failed"))?;
            let mut out = Vec::with_capacity(65);
            out.extend_from_slice(&sig.to_bytes());
            out.push(u8::from(recid.is_y_odd()));
            out
        }
        BLS => {
            let key = bls_key(&key)
                .map_err(|e| PrecompileError::new(format!("failed to sign message: {e}")))?;
            key.sign(&call.digest, BLS_DST, &[]).compress().to_vec()
        }
        _ => return Err(PrecompileError::new("unsupported crypto type")),
    };
    Ok(encode::<signMessageCall>(&Bytes::from(signature)))
}

/// A secp256k1 private key from raw bytes, with go-ethereum's `crypto.ToECDSA` checks and
/// messages.
pub(crate) fn secp256k1_key(bytes: &[u8]) -> Result<SigningKey, &'static str> {
    if bytes.len() != 32 {
        return Err("invalid length, need 256 bits");
    }
    let d = U256::from_be_slice(bytes);
    if d >= SECP256K1_N {
        return Err("invalid private key, >=N");
    }
    if d.is_zero() {
        return Err("invalid private key, zero or negative");
    }
    SigningKey::from_slice(bytes).map_err(|_| "invalid private key")
}

/// A BLS secret key as go-boost-utils v1.7 reads one: exactly 32 bytes, big-endian, reduced
/// modulo the group order, non-zero.
fn bls_key(bytes: &[u8]) -> Result<blst::min_pk::SecretKey, &'static str> {
    if bytes.len() != 32 {
        return Err("invalid secret key length");
    }
    let scalar = U256::from_be_slice(bytes) % BLS12_381_R;
    if scalar.is_zero() {
        return Err("invalid secret key is zero");
    }
    blst::min_pk::SecretKey::from_bytes(&scalar.to_be_bytes::<32>())
        .map_err(|_| "invalid secret key")
}

/// Hex digits to bytes with the error texts of go-ethereum's `hexutil.Decode` (after its
/// `0x` prefix): the first invalid character wins over an odd length.
pub(crate) fn decode_hexutil(hex: &str) -> Result<Vec<u8>, &'static str> {
    match decode_hex(hex.as_bytes()) {
        Ok(bytes) => Ok(bytes),
        Err(HexError::InvalidByte(_)) => Err("invalid hex string"),
        Err(HexError::OddLength) => Err("hex string of odd length"),
    }
}

/// Why hex digits did not decode (Go's `encoding/hex` errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexError {
    /// A byte that is not a hex digit (the first one, in order).
    InvalidByte(u8),
    /// An odd number of otherwise valid digits.
    OddLength,
}

/// Go's `hex.DecodeString`: upper- and lower-case digits, no prefix.
pub(crate) fn decode_hex(src: &[u8]) -> Result<Vec<u8>, HexError> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(src.len() / 2);
    let mut pairs = src.chunks_exact(2);
    for pair in &mut pairs {
        let hi = nibble(pair[0]).ok_or(HexError::InvalidByte(pair[0]))?;
        let lo = nibble(pair[1]).ok_or(HexError::InvalidByte(pair[1]))?;
        out.push(hi << 4 | lo);
    }
    if let [last] = pairs.remainder() {
        nibble(*last).ok_or(HexError::InvalidByte(*last))?;
        return Err(HexError::OddLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;
    use alloy_sol_types::SolCall;

    fn sign(digest: &[u8], crypto: u8, key: &str) -> Result<Bytes, PrecompileError> {
        let call = signMessageCall {
            digest: Bytes::copy_from_slice(digest),
            crypto,
            signingKey: key.into(),
        };
        sign_message(&call.abi_encode()[4..])
    }

    #[test]
    fn hex_errors_follow_go() {
        assert_eq!(decode_hex(b"0aF1"), Ok(vec![0x0a, 0xf1]));
        assert_eq!(decode_hex(b"0x"), Err(HexError::InvalidByte(b'x')));
        assert_eq!(decode_hex(b"abc"), Err(HexError::OddLength));
        assert_eq!(decode_hex(b"abz"), Err(HexError::InvalidByte(b'z')));
        assert_eq!(decode_hex(b""), Ok(vec![]));
    }

    #[test]
    fn secp_key_checks() {
        assert_eq!(
            secp256k1_key(&[1; 31]).err(),
            Some("invalid length, need 256 bits")
        );
        assert_eq!(
            secp256k1_key(&[0; 32]).err(),
            Some("invalid private key, zero or negative")
        );
        assert_eq!(
            secp256k1_key(&[0xff; 32]).err(),
            Some("invalid private key, >=N")
        );
        assert!(secp256k1_key(&[1; 32]).is_ok());
    }

    #[test]
    fn sign_message_errors() {
        let key = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
        assert_eq!(
            sign(&[0; 31], SECP256, key).unwrap_err().0,
            "failed to sign message: hash is required to be exactly 32 bytes (31)"
        );
        assert_eq!(
            sign(&[0; 32], SECP256, "zz").unwrap_err().0,
            "key not formatted properly: invalid hex string"
        );
        assert_eq!(
            sign(&[0; 32], SECP256, "abc").unwrap_err().0,
            "key not formatted properly: hex string of odd length"
        );
        assert_eq!(
            sign(&[0; 32], SECP256, "").unwrap_err().0,
            "key not formatted properly: invalid length, need 256 bits"
        );
        assert_eq!(
            sign(&[0; 32], BLS, "abcd").unwrap_err().0,
            "failed to sign message: invalid secret key length"
        );
        assert_eq!(
            sign(&[0; 32], 2, key).unwrap_err().0,
            "unsupported crypto type"
        );
        // A BLS key equal to the group order reduces to zero.
        let r = hex::encode(BLS12_381_R.to_be_bytes::<32>());
        assert_eq!(
            sign(b"m", BLS, &r).unwrap_err().0,
            "failed to sign message: invalid secret key is zero"
        );
    }

    #[test]
    fn bls_key_reduces_modulo_r() {
        // r + 1 ≡ 1: the same key as 0x…01.
        let r_plus_one = (BLS12_381_R + U256::from(1)).to_be_bytes::<32>();
        let one = U256::from(1).to_be_bytes::<32>();
        let a = sign(b"msg", BLS, &hex::encode(r_plus_one)).unwrap();
        let b = sign(b"msg", BLS, &format!("0x{}", hex::encode(one))).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn aes_round_trip_and_errors() {
        let enc = aesEncryptCall {
            key: Bytes::from_static(b"k"),
            message: Bytes::from_static(b"hello"),
        };
        let out = aes_encrypt(&enc.abi_encode()[4..]).unwrap();
        let sealed = aesEncryptCall::abi_decode_returns(&out).unwrap();
        assert_eq!(sealed.len(), 12 + 5 + 16);
        let dec = aesDecryptCall {
            key: Bytes::from_static(b"k"),
            ciphertext: sealed.clone(),
        };
        let plain =
            aesDecryptCall::abi_decode_returns(&aes_decrypt(&dec.abi_encode()[4..]).unwrap())
                .unwrap();
        assert_eq!(plain.as_ref(), b"hello");
        let wrong = aesDecryptCall {
            key: Bytes::from_static(b"K"),
            ciphertext: sealed,
        };
        assert_eq!(
            aes_decrypt(&wrong.abi_encode()[4..]).unwrap_err().0,
            "cipher: message authentication failed"
        );
        let short = aesDecryptCall {
            key: Bytes::new(),
            ciphertext: Bytes::from_static(&[0; 11]),
        };
        assert_eq!(
            aes_decrypt(&short.abi_encode()[4..]).unwrap_err().0,
            "ciphertext too short"
        );
        let no_tag = aesDecryptCall {
            key: Bytes::new(),
            ciphertext: Bytes::from_static(&[0; 20]),
        };
        assert_eq!(
            aes_decrypt(&no_tag.abi_encode()[4..]).unwrap_err().0,
            "cipher: message authentication failed"
        );
    }
}
