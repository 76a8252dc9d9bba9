//! ECDSA signatures as SUAVE carries them: `v` is the y-parity (0 or 1), `r` and `s` are
//! canonical RLP integers, and only low-`s` signatures are valid (suave-geth `recoverPlain`
//! with `homestead = true`).
//!
//! [`alloy_primitives::Signature`] (y-parity `bool` + `r`/`s` as `U256`) represents exactly
//! what the wire needs, so it is reused; this module adds the SUAVE validity rules, RLP
//! helpers and the sign/recover wrappers used by the transaction types.

use crate::error::{RecoveryError, SignError};
use alloy_primitives::{uint, Address, B256, U256};
use alloy_signer::SignerSync;

pub use alloy_primitives::Signature;

/// The order `n` of the secp256k1 group; `r` and `s` must be below it.
pub const SECP256K1_ORDER: U256 =
    uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

/// `n / 2` (rounded down): the largest `s` accepted (EIP-2 "low s" rule).
pub const SECP256K1_HALF_ORDER: U256 =
    uint!(0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0_U256);

/// An all-zero signature (`v = 0, r = 0, s = 0`), the placeholder of a not-yet-signed
/// transaction. It never passes [`validate_signature_values`].
pub const UNSIGNED: Signature = Signature::new(U256::ZERO, U256::ZERO, false);

/// Why a `(v, r, s)` triple is rejected. Every variant surfaces to users as suave-geth's
/// `invalid transaction v, r, s values`; the variant only keeps the detail for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureValueError {
    /// `v` is neither 0 nor 1 (SUAVE types carry the bare y-parity, never 27/28 or EIP-155).
    #[error("v is not 0 or 1")]
    InvalidV,
    /// `r` is zero or not below the curve order.
    #[error("r is out of range [1, n)")]
    ROutOfRange,
    /// `s` is zero or not below the curve order.
    #[error("s is out of range [1, n)")]
    SOutOfRange,
    /// `s` is above `n / 2`; only the low-`s` form of a signature is accepted.
    #[error("s is above n/2 (high-s signature)")]
    HighS,
}

/// Checks the suave-geth rules `1 <= r < n` and `1 <= s <= n/2` (the parity is a `bool`, so
/// it cannot be out of range once a [`Signature`] exists).
pub fn validate_signature_values(signature: &Signature) -> Result<(), SignatureValueError> {
    let (r, s) = (signature.r(), signature.s());
    if r.is_zero() || r >= SECP256K1_ORDER {
        return Err(SignatureValueError::ROutOfRange);
    }
    if s.is_zero() || s >= SECP256K1_ORDER {
        return Err(SignatureValueError::SOutOfRange);
    }
    if s > SECP256K1_HALF_ORDER {
        return Err(SignatureValueError::HighS);
    }
    Ok(())
}

/// Recovers the address that signed `prehash`, after enforcing the SUAVE validity rules.
///
/// Errors with [`RecoveryError::InvalidSignatureValues`] (`invalid transaction v, r, s
/// values`) for out-of-range or high-`s` values, and [`RecoveryError::Ecdsa`] if no public key
/// matches (e.g. `r` is not the x-coordinate of a curve point).
pub fn recover_signer(signature: &Signature, prehash: &B256) -> Result<Address, RecoveryError> {
    validate_signature_values(signature).map_err(RecoveryError::InvalidSignatureValues)?;
    if let Some(address) = recover_with_libsecp256k1(signature, prehash) {
        return Ok(address);
    }
    // Only failures reach here: k256 gives the typed error (the same outcome, as both
    // implement the same recovery).
    signature
        .recover_address_from_prehash(prehash)
        .map_err(RecoveryError::Ecdsa)
}

/// Recovery with libsecp256k1 (the C library revm's `ecrecover` precompile uses), about three
/// times faster than the pure-Rust k256 path: a kettle recovers at least one signature per
/// request. `None` when no key matches.
fn recover_with_libsecp256k1(signature: &Signature, prehash: &B256) -> Option<Address> {
    use secp256k1::{
        ecdsa::{RecoverableSignature, RecoveryId},
        Message, SECP256K1,
    };
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let recid = RecoveryId::try_from(i32::from(signature.v())).ok()?;
    let recoverable = RecoverableSignature::from_compact(&compact, recid).ok()?;
    let key = SECP256K1
        .recover_ecdsa(Message::from_digest(prehash.0), &recoverable)
        .ok()?;
    let uncompressed = key.serialize_uncompressed();
    Some(Address::from_slice(
        &alloy_primitives::keccak256(&uncompressed[1..])[12..],
    ))
}

#[cfg(test)]
mod libsecp_tests {
    use super::*;
    use alloy_signer_local::PrivateKeySigner;

    #[test]
    fn libsecp256k1_and_k256_recover_the_same_address() {
        for i in 0..200u64 {
            let signer = PrivateKeySigner::random();
            let prehash = alloy_primitives::keccak256(i.to_be_bytes());
            let sig = signer.sign_hash_sync(&prehash).expect("signs");
            assert_eq!(
                recover_with_libsecp256k1(&sig, &prehash),
                Some(signer.address())
            );
            assert_eq!(
                recover_signer(&sig, &prehash).expect("valid"),
                signer.address()
            );
            // A signature over another hash recovers someone else (or no one), never the
            // signer, and both implementations agree.
            let other = alloy_primitives::keccak256(prehash);
            assert_eq!(
                recover_with_libsecp256k1(&sig, &other),
                sig.recover_address_from_prehash(&other).ok()
            );
        }
    }
}

/// Signs `prehash` with `signer` (deterministic RFC 6979 nonce for a local key) and checks the
/// result satisfies the SUAVE rules, so a signature made here always verifies.
pub fn sign_prehash<S>(signer: &S, prehash: &B256) -> Result<Signature, SignError>
where
    S: SignerSync + ?Sized,
{
    let signature = signer.sign_hash_sync(prehash)?;
    validate_signature_values(&signature).map_err(SignError::InvalidSignature)?;
    Ok(signature)
}

/// RLP helpers for the `v, r, s` triple as SUAVE types lay it out (`v` as the integer 0/1).
pub(crate) mod rlp {
    use super::*;
    use alloy_rlp::Encodable;

    /// Length of the `v, r, s` items (without a list header).
    pub(crate) fn vrs_len(signature: &Signature) -> usize {
        u8::from(signature.v()).length() + signature.r().length() + signature.s().length()
    }

    /// Writes the `v, r, s` items (without a list header).
    pub(crate) fn encode_vrs(signature: &Signature, out: &mut dyn alloy_rlp::BufMut) {
        u8::from(signature.v()).encode(out);
        signature.r().encode(out);
        signature.s().encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;
    use alloy_signer_local::PrivateKeySigner;

    #[test]
    fn half_order_is_order_shifted() {
        assert_eq!(SECP256K1_ORDER >> 1, SECP256K1_HALF_ORDER);
    }

    #[test]
    fn validity_bounds() {
        let ok = Signature::new(U256::from(1), U256::from(1), false);
        assert_eq!(validate_signature_values(&ok), Ok(()));
        let max_ok = Signature::new(SECP256K1_ORDER - U256::from(1), SECP256K1_HALF_ORDER, true);
        assert_eq!(validate_signature_values(&max_ok), Ok(()));
        let cases = [
            (U256::ZERO, U256::from(1), SignatureValueError::ROutOfRange),
            (
                SECP256K1_ORDER,
                U256::from(1),
                SignatureValueError::ROutOfRange,
            ),
            (U256::from(1), U256::ZERO, SignatureValueError::SOutOfRange),
            (
                U256::from(1),
                SECP256K1_ORDER,
                SignatureValueError::SOutOfRange,
            ),
            (
                U256::from(1),
                SECP256K1_HALF_ORDER + U256::from(1),
                SignatureValueError::HighS,
            ),
        ];
        for (r, s, err) in cases {
            assert_eq!(
                validate_signature_values(&Signature::new(r, s, false)),
                Err(err)
            );
        }
        assert!(validate_signature_values(&UNSIGNED).is_err());
    }

    #[test]
    fn sign_then_recover() {
        let signer = PrivateKeySigner::random();
        let hash = keccak256(b"kettle");
        let sig = sign_prehash(&signer, &hash).unwrap();
        assert_eq!(recover_signer(&sig, &hash).unwrap(), signer.address());
    }

    #[test]
    fn high_s_twin_is_rejected_even_though_it_recovers() {
        let signer = PrivateKeySigner::random();
        let hash = keccak256(b"malleable");
        let sig = sign_prehash(&signer, &hash).unwrap();
        let twin = Signature::new(sig.r(), SECP256K1_ORDER - sig.s(), !sig.v());
        assert!(matches!(
            recover_signer(&twin, &hash),
            Err(RecoveryError::InvalidSignatureValues(
                SignatureValueError::HighS
            ))
        ));
        assert_eq!(
            recover_signer(&twin, &hash).unwrap_err().to_string(),
            "invalid transaction v, r, s values"
        );
    }
}

/// A local secp256k1 key that signs with libsecp256k1 instead of k256: the same deterministic
/// RFC 6979 signatures (low `s`), about three times faster. The kettle signs every `0x50` it
/// emits with one.
#[derive(Clone)]
pub struct FastSigner {
    secret: secp256k1::SecretKey,
    address: Address,
}

impl std::fmt::Debug for FastSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastSigner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl FastSigner {
    /// The signer of `key`.
    pub fn new(key: &alloy_signer_local::PrivateKeySigner) -> Result<Self, SignError> {
        let secret = secp256k1::SecretKey::from_byte_array(key.to_bytes().0).map_err(|e| {
            SignError::Signer(alloy_signer::Error::other(format!("invalid key: {e}")))
        })?;
        Ok(Self {
            secret,
            address: key.address(),
        })
    }

    /// The signer's address.
    pub fn address(&self) -> Address {
        self.address
    }
}

impl SignerSync for FastSigner {
    fn sign_hash_sync(&self, hash: &B256) -> alloy_signer::Result<Signature> {
        let (recid, compact) = secp256k1::SECP256K1
            .sign_ecdsa_recoverable(secp256k1::Message::from_digest(hash.0), &self.secret)
            .serialize_compact();
        let r = U256::from_be_slice(&compact[..32]);
        let s = U256::from_be_slice(&compact[32..]);
        Ok(Signature::new(r, s, i32::from(recid) == 1))
    }

    fn chain_id_sync(&self) -> Option<alloy_primitives::ChainId> {
        None
    }
}

#[cfg(test)]
mod fast_signer_tests {
    use super::*;
    use alloy_signer_local::PrivateKeySigner;

    #[test]
    fn signs_exactly_like_k256() {
        for i in 0..200u64 {
            let key = PrivateKeySigner::random();
            let fast = FastSigner::new(&key).expect("valid key");
            assert_eq!(fast.address(), key.address());
            let hash = alloy_primitives::keccak256(i.to_le_bytes());
            assert_eq!(
                fast.sign_hash_sync(&hash).expect("signs"),
                key.sign_hash_sync(&hash).expect("signs"),
                "RFC 6979 signatures are identical"
            );
        }
    }
}
