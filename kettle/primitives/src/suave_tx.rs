//! The SUAVE transaction (type `0x50`): the on-chain result of a confidential computation,
//! signed by the kettle that ran it.

use crate::{
    constants::SUAVE_TX_TYPE,
    error::{DecodeError, RecoveryError, SignError},
    record::ConfidentialComputeRecord,
    rlp::{encode_list_header, expect_end, list_len, strip_type_byte, ListDecoder},
    signature::{self, Signature, UNSIGNED},
};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;

/// A SUAVE transaction (suave-geth `types.SuaveTransaction`).
///
/// Wire form: `0x50 ‖ rlp([record13, confidentialComputeResult, chainId, v, r, s])`.
/// `v, r, s` is the kettle's signature over [`kettle_signing_hash`](Self::kettle_signing_hash);
/// the embedded record keeps the user's signature. Its execution fields (nonce, gas, gas
/// price, to, value) come from the record, its calldata is the compute result, and its
/// sender is the **user**, not the kettle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuaveTransaction {
    /// The user-signed record of the originating 0x43 (without the confidential inputs).
    pub record: ConfidentialComputeRecord,
    /// Calldata of the on-chain callback produced by the confidential execution.
    pub confidential_compute_result: Bytes,
    /// Chain id; equals the request's chain id. Not covered by the kettle signature.
    pub chain_id: U256,
    /// The kettle's signature ([`UNSIGNED`] before signing).
    pub signature: Signature,
}

impl Default for SuaveTransaction {
    /// Unsigned 0x50 around a default record (handy with struct update syntax).
    fn default() -> Self {
        Self::new(ConfidentialComputeRecord::default(), Bytes::new())
    }
}

impl SuaveTransaction {
    /// The transaction's EIP-2718 type byte (`0x50`).
    pub const TX_TYPE: u8 = SUAVE_TX_TYPE;

    /// An unsigned 0x50 for `record` and `result`, with the record's chain id (as suave-geth's
    /// kettle builds it).
    pub fn new(record: ConfidentialComputeRecord, confidential_compute_result: Bytes) -> Self {
        let chain_id = record.chain_id;
        Self {
            record,
            confidential_compute_result,
            chain_id,
            signature: UNSIGNED,
        }
    }

    /// The kettle's signing digest
    /// `keccak256(0x50 ‖ rlp([recordDigest, confidentialComputeResult]))`, where
    /// `recordDigest` is the record's user signing digest (plain or EIP-712) as a 32-byte
    /// string. The chain id is not included.
    pub fn kettle_signing_hash(&self) -> B256 {
        self.kettle_signing_hash_over(self.record.signing_hash())
    }

    /// [`kettle_signing_hash`](Self::kettle_signing_hash) given the record's digest.
    fn kettle_signing_hash_over(&self, record_digest: B256) -> B256 {
        let payload_length = record_digest.length() + self.confidential_compute_result.length();
        let mut out = Vec::with_capacity(1 + list_len(payload_length));
        out.push(Self::TX_TYPE);
        encode_list_header(payload_length, &mut out);
        record_digest.encode(&mut out);
        self.confidential_compute_result.encode(&mut out);
        keccak256(out)
    }

    /// Signs the transaction in place as the kettle.
    ///
    /// `signer` should own `record.kettle_address`; otherwise the result fails
    /// [`recover_kettle`](Self::recover_kettle) with [`RecoveryError::IncorrectKettle`].
    pub fn sign<S: SignerSync + ?Sized>(&mut self, signer: &S) -> Result<(), SignError> {
        self.signature = signature::sign_prehash(signer, &self.kettle_signing_hash())?;
        Ok(())
    }

    /// Consuming form of [`sign`](Self::sign).
    pub fn into_signed<S: SignerSync + ?Sized>(mut self, signer: &S) -> Result<Self, SignError> {
        self.sign(signer)?;
        Ok(self)
    }

    /// [`into_signed`](Self::into_signed) for a kettle that already holds the record's
    /// signing digest, from recovering the user
    /// ([`ConfidentialComputeRecord::recover_signer_with_digest`]): the EIP-712 digest is
    /// the larger part of the kettle's own digest. `record_digest` must be
    /// `record.signing_hash()`.
    pub fn into_signed_with_record_digest<S: SignerSync + ?Sized>(
        mut self,
        signer: &S,
        record_digest: B256,
    ) -> Result<Self, SignError> {
        debug_assert_eq!(record_digest, self.record.signing_hash());
        self.signature =
            signature::sign_prehash(signer, &self.kettle_signing_hash_over(record_digest))?;
        Ok(self)
    }

    fn payload_len(&self) -> usize {
        self.record.length()
            + self.confidential_compute_result.length()
            + self.chain_id.length()
            + signature::rlp::vrs_len(&self.signature)
    }

    /// Length of [`encoded`](Self::encoded) in bytes.
    pub fn encoded_len(&self) -> usize {
        1 + list_len(self.payload_len())
    }

    /// The EIP-2718 envelope `0x50 ‖ rlp([record13, result, chainId, v, r, s])`.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push(Self::TX_TYPE);
        encode_list_header(self.payload_len(), &mut out);
        self.record.encode(&mut out);
        self.confidential_compute_result.encode(&mut out);
        self.chain_id.encode(&mut out);
        signature::rlp::encode_vrs(&self.signature, &mut out);
        out
    }

    /// Decodes a raw `0x50` envelope; the whole input must be consumed.
    pub fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        const LIST: &str = "suave transaction";
        let mut buf = strip_type_byte(raw, Self::TX_TYPE)?;
        let mut list = ListDecoder::open(&mut buf, LIST, 6)?;
        let record = ConfidentialComputeRecord::decode_rlp(list.buf())?;
        let tx = Self {
            record,
            confidential_compute_result: list.field("confidentialComputeResult")?,
            chain_id: list.field("chainId")?,
            signature: list.signature("kettle signature")?,
        };
        list.finish(LIST)?;
        expect_end(buf)?;
        Ok(tx)
    }

    /// The transaction hash `keccak256(encoded())`, returned by `eth_sendRawTransaction` of
    /// the originating 0x43 and used for receipts.
    pub fn tx_hash(&self) -> B256 {
        keccak256(self.encoded())
    }

    /// Verifies the kettle signature and returns the kettle address: chain id equals the
    /// node's `chain_id`, signature values valid, recovered address equals
    /// `record.kettle_address` (else `compute request <hash> signed by incorrect execution
    /// node <addr>, expected <addr>`).
    pub fn recover_kettle(&self, chain_id: u64) -> Result<Address, RecoveryError> {
        if self.chain_id != U256::from(chain_id) {
            return Err(RecoveryError::ChainIdMismatch {
                have: self.chain_id,
                want: chain_id,
            });
        }
        let recovered = signature::recover_signer(&self.signature, &self.kettle_signing_hash())?;
        if recovered != self.record.kettle_address {
            return Err(RecoveryError::IncorrectKettle {
                tx_hash: self.tx_hash(),
                recovered,
                expected: self.record.kettle_address,
            });
        }
        Ok(recovered)
    }

    /// The sender of the 0x50, i.e. the **user**, following suave-geth's `suaveSigner`: first
    /// [`recover_kettle`](Self::recover_kettle), then the record's chain-id check and user
    /// signature recovery.
    pub fn recover_signer(&self, chain_id: u64) -> Result<Address, RecoveryError> {
        self.recover_kettle(chain_id)?;
        self.record.recover_signer(chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        constants::{DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID},
        ConfidentialComputeRequest,
    };
    use alloy_primitives::{address, hex};
    use alloy_signer_local::PrivateKeySigner;

    fn kettle() -> PrivateKeySigner {
        "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52"
            .parse()
            .unwrap()
    }

    fn user() -> PrivateKeySigner {
        "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12"
            .parse()
            .unwrap()
    }

    fn request(is_eip712: bool) -> ConfidentialComputeRequest {
        ConfidentialComputeRequest::new(
            ConfidentialComputeRecord {
                nonce: 7,
                gas_price: U256::from(1_000_000_000u64),
                gas: 1_000_000,
                to: Some(address!("0000000000000000000000000000000042010000")),
                data: Bytes::from_static(&hex!("c0ffee")),
                kettle_address: DEV_KETTLE_ADDRESS,
                is_eip712,
                chain_id: U256::from(SUAVE_DEV_CHAIN_ID),
                ..Default::default()
            },
            Bytes::from_static(b"inputs"),
        )
        .into_signed(&user())
        .unwrap()
    }

    #[test]
    fn dev_kettle_key_matches_constant() {
        assert_eq!(kettle().address(), DEV_KETTLE_ADDRESS);
    }

    #[test]
    fn build_sign_decode_recover() {
        for is_eip712 in [false, true] {
            let req = request(is_eip712);
            let tx = SuaveTransaction::new(req.record.clone(), Bytes::from_static(&[1, 2, 3]))
                .into_signed(&kettle())
                .unwrap();
            assert_eq!(tx.chain_id, U256::from(SUAVE_DEV_CHAIN_ID));
            let raw = tx.encoded();
            assert_eq!(raw.len(), tx.encoded_len());
            assert_eq!(raw[0], 0x50);
            let decoded = SuaveTransaction::decode(&raw).unwrap();
            assert_eq!(decoded, tx);
            assert_eq!(
                decoded.recover_kettle(SUAVE_DEV_CHAIN_ID).unwrap(),
                DEV_KETTLE_ADDRESS
            );
            assert_eq!(
                decoded.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
                user().address()
            );
            assert_eq!(decoded.tx_hash(), keccak256(&raw));
        }
    }

    #[test]
    fn signing_over_the_recovered_digest_is_signing() {
        for is_eip712 in [false, true] {
            let req = request(is_eip712);
            let (sender, digest) = req.recover_signer_with_digest(SUAVE_DEV_CHAIN_ID).unwrap();
            assert_eq!(sender, user().address());
            assert_eq!(digest, req.signing_hash());
            let unsigned = SuaveTransaction::new(req.record.clone(), Bytes::from_static(&[7]));
            assert_eq!(
                unsigned
                    .clone()
                    .into_signed_with_record_digest(&kettle(), digest)
                    .unwrap(),
                unsigned.into_signed(&kettle()).unwrap()
            );
        }
        // The checks before recovery still apply.
        assert!(matches!(
            request(true).recover_signer_with_digest(1),
            Err(RecoveryError::ChainIdMismatch { .. })
        ));
    }

    #[test]
    fn wrong_kettle_message() {
        let tx = SuaveTransaction::new(request(true).record, Bytes::new())
            .into_signed(&user())
            .unwrap();
        let err = tx.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap_err();
        let expected = format!(
            "compute request 0x{} signed by incorrect execution node {}, expected {}",
            hex::encode(tx.tx_hash()),
            user().address().to_checksum(None),
            "0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F",
        );
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn outer_chain_id_checked_first() {
        let mut tx = SuaveTransaction::new(request(false).record, Bytes::new());
        tx.chain_id = U256::from(5);
        let tx = tx.into_signed(&kettle()).unwrap();
        // chain id is not covered by the kettle signature
        assert_eq!(tx.recover_kettle(5).unwrap(), DEV_KETTLE_ADDRESS);
        assert_eq!(
            tx.recover_signer(SUAVE_DEV_CHAIN_ID)
                .unwrap_err()
                .to_string(),
            "invalid chain id for signer: have 5 want 16813125"
        );
        // then the record's chain id is checked too
        assert_eq!(
            tx.recover_signer(5).unwrap_err().to_string(),
            "invalid chain id for signer: have 16813125 want 5"
        );
    }

    #[test]
    fn kettle_digest_depends_on_result_and_record_digest() {
        let a = SuaveTransaction::new(request(false).record, Bytes::from_static(&[1]));
        let b = SuaveTransaction::new(request(false).record, Bytes::from_static(&[2]));
        let c = SuaveTransaction::new(request(true).record, Bytes::from_static(&[1]));
        assert_ne!(a.kettle_signing_hash(), b.kettle_signing_hash());
        assert_ne!(a.kettle_signing_hash(), c.kettle_signing_hash());
        // preimage layout: 0x50 ‖ rlp([32-byte digest, result])
        let mut pre = vec![0x50, 0xe2, 0xa0];
        pre.extend_from_slice(a.record.signing_hash().as_slice());
        pre.push(0x01);
        assert_eq!(a.kettle_signing_hash(), keccak256(pre));
    }
}
