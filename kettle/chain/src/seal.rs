//! Clique-style block seals: the producer of a cluster signs each header it builds, so any
//! kettle of the cluster can check who built a block it received over gossip.
//!
//! A sealed header's `extra_data` is 32 vanity bytes (zero) followed by a 65-byte
//! secp256k1 signature `r ‖ s ‖ v` with `v` in `{0, 1}`, over [`seal_hash`]: the keccak of
//! the RLP header whose `extra_data` is only the vanity. Signatures must be in low-`s` form,
//! so a relay cannot malleate a block into a second valid encoding (and a second hash).

use alloy_consensus::{crypto::SECP256K1N_HALF, Header};
use alloy_primitives::{keccak256, Address, Bytes, Signature, B256, U256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;

use crate::error::SealError;

/// Length of the vanity prefix of `extra_data`.
pub const EXTRA_VANITY: usize = 32;
/// Length of the seal signature at the end of `extra_data`.
pub const EXTRA_SEAL: usize = 65;

/// The hash a seal signs: keccak of the RLP header with `extra_data` cut to its vanity
/// (the first 32 bytes, or all of it when shorter).
pub fn seal_hash(header: &Header) -> B256 {
    let vanity = header.extra_data.len().min(EXTRA_VANITY);
    let unsealed = Header {
        extra_data: header.extra_data.slice(..vanity),
        ..header.clone()
    };
    let mut rlp = Vec::with_capacity(unsealed.length());
    unsealed.encode(&mut rlp);
    keccak256(rlp)
}

/// Recovers the address that sealed `header`.
///
/// Fails when `extra_data` is not vanity plus a 65-byte signature, when `v` is not 0 or 1,
/// when `s` is high (malleated) and when the signature does not recover.
pub fn seal_signer(header: &Header) -> Result<Address, SealError> {
    let extra = &header.extra_data;
    if extra.len() != EXTRA_VANITY + EXTRA_SEAL {
        return Err(SealError::ExtraDataLength {
            len: extra.len(),
            expected: EXTRA_VANITY + EXTRA_SEAL,
        });
    }
    let sig = &extra[EXTRA_VANITY..];
    let v = sig[64];
    if v > 1 {
        return Err(SealError::RecoveryId(v));
    }
    let r = U256::from_be_slice(&sig[..32]);
    let s = U256::from_be_slice(&sig[32..64]);
    if s > SECP256K1N_HALF {
        return Err(SealError::HighS);
    }
    if r.is_zero() || s.is_zero() {
        return Err(SealError::Signature("zero r or s".into()));
    }
    Signature::new(r, s, v == 1)
        .recover_address_from_prehash(&seal_hash(header))
        .map_err(|e| SealError::Signature(e.to_string()))
}

/// Seals `header` with `signer`: replaces `extra_data` by 32 zero vanity bytes followed by
/// the signature over [`seal_hash`].
pub fn seal_header<S: SignerSync + ?Sized>(
    header: &mut Header,
    signer: &S,
) -> Result<(), SealError> {
    header.extra_data = Bytes::from(vec![0u8; EXTRA_VANITY]);
    let sig = signer
        .sign_hash_sync(&seal_hash(header))
        .map_err(|e| SealError::Signing(e.to_string()))?
        .normalized_s();
    let mut extra = Vec::with_capacity(EXTRA_VANITY + EXTRA_SEAL);
    extra.extend_from_slice(&[0u8; EXTRA_VANITY]);
    extra.extend_from_slice(&sig.as_rsy());
    header.extra_data = Bytes::from(extra);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_signer_local::PrivateKeySigner;

    fn key(byte: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::repeat_byte(byte)).expect("key")
    }

    fn header() -> Header {
        Header {
            number: 7,
            gas_limit: 30_000_000,
            timestamp: 99,
            extra_data: Bytes::from(vec![0u8; 32]),
            base_fee_per_gas: Some(1_000_000_000),
            ..Default::default()
        }
    }

    #[test]
    fn seal_recovers_the_signer_and_binds_the_header() {
        let signer = key(0x11);
        let mut h = header();
        let unsealed_hash = seal_hash(&h);
        seal_header(&mut h, &signer).expect("seal");
        assert_eq!(h.extra_data.len(), EXTRA_VANITY + EXTRA_SEAL);
        assert!(h.extra_data[..EXTRA_VANITY].iter().all(|b| *b == 0));
        assert!(h.extra_data[EXTRA_VANITY + 64] <= 1);
        assert_eq!(
            seal_hash(&h),
            unsealed_hash,
            "the seal is not part of its own hash"
        );
        assert_eq!(seal_signer(&h), Ok(signer.address()));

        // Any change of a sealed field changes the recovered signer (or fails).
        let mut changed = h.clone();
        changed.state_root = B256::repeat_byte(1);
        assert_ne!(seal_signer(&changed).ok(), Some(signer.address()));
    }

    #[test]
    fn malformed_seals_are_refused() {
        let signer = key(0x22);
        let mut h = header();
        assert_eq!(
            seal_signer(&h),
            Err(SealError::ExtraDataLength {
                len: 32,
                expected: 97
            })
        );
        seal_header(&mut h, &signer).expect("seal");

        let mut bad_v = h.clone();
        let mut extra = bad_v.extra_data.to_vec();
        extra[96] = 27;
        bad_v.extra_data = extra.into();
        assert_eq!(seal_signer(&bad_v), Err(SealError::RecoveryId(27)));

        // The malleated twin (n - s, flipped parity) recovers the same key: refused.
        let mut twin = h.clone();
        let mut extra = twin.extra_data.to_vec();
        let s = U256::from_be_slice(&extra[64..96]);
        let n: U256 = (SECP256K1N_HALF << 1) + U256::from(1u64);
        extra[64..96].copy_from_slice(&(n - s).to_be_bytes::<32>());
        extra[96] ^= 1;
        twin.extra_data = extra.into();
        assert_eq!(seal_signer(&twin), Err(SealError::HighS));

        let mut zero = h.clone();
        let mut extra = zero.extra_data.to_vec();
        extra[32..64].fill(0);
        zero.extra_data = extra.into();
        assert!(matches!(seal_signer(&zero), Err(SealError::Signature(_))));
    }
}
