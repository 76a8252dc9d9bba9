//! `X-Flashbots-Signature`: how builders and relays authenticate a kettle's requests
//! (SUAVE-COMPAT §8.5).
//!
//! The header value is `<EIP-55 address>:0x<r ‖ s ‖ v>` (v is 0 or 1), a secp256k1 signature
//! with the kettle's bundle-signing key over the EIP-191 personal-message hash of the ASCII
//! string `"0x" + lower-hex(keccak256(body))`.

use std::fmt;

use alloy_primitives::{hex, keccak256, Address, Signature, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

use crate::error::NetworkError;

/// Name of the header.
pub const HEADER: &str = "X-Flashbots-Signature";

/// The kettle's bundle-signing key. `Debug` never prints the key.
#[derive(Clone)]
pub struct BundleSigner {
    signer: PrivateKeySigner,
}

impl fmt::Debug for BundleSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleSigner")
            .field("address", &self.signer.address())
            .finish_non_exhaustive()
    }
}

impl BundleSigner {
    /// A fresh random key (suave-geth's behaviour when none is configured).
    pub fn random() -> Self {
        Self {
            signer: PrivateKeySigner::random(),
        }
    }

    /// The key given as 64 hex digits, `0x` optional.
    pub fn from_hex(key: &str) -> Result<Self, NetworkError> {
        let bytes = hex::decode(key.trim())
            .map_err(|_| NetworkError::Config("bundle signing key is not hex".into()))?;
        let signer = PrivateKeySigner::from_slice(&bytes).map_err(|_| {
            NetworkError::Config("bundle signing key is not a secp256k1 key".into())
        })?;
        Ok(Self { signer })
    }

    /// The address of the key, which receivers recover from the header.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The `X-Flashbots-Signature` value for a request carrying `body`.
    pub fn header_value(&self, body: &[u8]) -> Result<String, NetworkError> {
        let message = signed_text(body);
        let sig = self
            .signer
            .sign_message_sync(message.as_bytes())
            .map_err(|e| NetworkError::Backend(format!("failed to sign request: {e}")))?;
        let mut raw = [0u8; 65];
        raw[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
        raw[32..64].copy_from_slice(&sig.s().to_be_bytes::<32>());
        raw[64] = u8::from(sig.v());
        Ok(format!("{}:0x{}", self.address(), hex::encode(raw)))
    }
}

/// The text that is signed: `"0x" + lower-hex(keccak256(body))`.
fn signed_text(body: &[u8]) -> String {
    format!("{:#x}", keccak256(body))
}

/// Verifies an `X-Flashbots-Signature` value against `body` and returns the signer, which
/// must also be the address the header names. For receivers and tests.
pub fn verify(header: &str, body: &[u8]) -> Result<Address, String> {
    let (addr, sig) = header
        .split_once(':')
        .ok_or_else(|| "no ':' in signature header".to_string())?;
    let claimed: Address = addr.parse().map_err(|e| format!("bad address: {e}"))?;
    let raw = hex::decode(sig).map_err(|e| format!("bad signature hex: {e}"))?;
    if raw.len() != 65 || raw[64] > 1 {
        return Err("signature must be 65 bytes with v 0 or 1".into());
    }
    let sig = Signature::from_bytes_and_parity(&raw[..64], raw[64] == 1);
    let recovered = sig
        .recover_address_from_msg(signed_text(body).as_bytes())
        .map_err(|e| format!("recovery failed: {e}"))?;
    if recovered != claimed {
        return Err(format!("signed by {recovered}, header names {claimed}"));
    }
    Ok(recovered)
}

/// The EIP-191 hash a receiver checks (exposed for cross-checks).
pub fn signed_hash(body: &[u8]) -> B256 {
    alloy_primitives::eip191_hash_message(signed_text(body).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_verifies_and_names_eip55_address() {
        let signer = BundleSigner::from_hex(
            "0x6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52",
        )
        .unwrap();
        let header = signer.header_value(b"{\"a\":1}").unwrap();
        let (addr, sig) = header.split_once(':').unwrap();
        assert_eq!(addr, "0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F");
        assert_eq!(sig.len(), 2 + 130);
        assert_eq!(verify(&header, b"{\"a\":1}").unwrap(), signer.address());
        assert!(verify(&header, b"{\"a\":2}").is_err());
        // The recovered key matches a plain prehash recovery over the documented digest.
        let raw = hex::decode(sig).unwrap();
        let s = Signature::from_bytes_and_parity(&raw[..64], raw[64] == 1);
        assert_eq!(
            s.recover_address_from_prehash(&signed_hash(b"{\"a\":1}"))
                .unwrap(),
            signer.address()
        );
    }

    #[test]
    fn bad_keys_are_config_errors() {
        assert!(BundleSigner::from_hex("zz").is_err());
        assert!(BundleSigner::from_hex("00").is_err());
        assert!(!format!("{:?}", BundleSigner::random()).contains("signer"));
    }
}
