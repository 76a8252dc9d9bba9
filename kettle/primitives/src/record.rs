//! The confidential compute record: the user-signed part shared by 0x43 requests and 0x50
//! SUAVE transactions.
//!
//! On the wire a record is always the 13-item RLP list
//! `[nonce, gasPrice, gas, to, value, data, kettleAddress, confidentialInputsHash, isEIP712,
//! chainId, v, r, s]`, nested inside a 0x43 or 0x50 envelope. Its type byte `0x42` only
//! prefixes hash preimages; a raw `0x42…` transaction is not accepted.

use crate::{
    constants::CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE,
    eip712,
    error::{DecodeError, RecoveryError, SignError},
    rlp::{
        encode_list_header, encode_optional_address, list_len, optional_address_len, ListDecoder,
    },
    signature::{self, Signature, UNSIGNED},
};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;

/// A SUAVE confidential compute record (suave-geth `types.ConfidentialComputeRecord`).
///
/// The user signs it (plain or EIP-712 mode, chosen by [`is_eip712`](Self::is_eip712)); the
/// signature covers neither `chain_id` nor `is_eip712` (upstream behaviour, see
/// `SUAVE-COMPAT.md` §1.6–§1.7 and §9.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfidentialComputeRecord {
    /// The user's account nonce; consumed on chain by the resulting 0x50.
    pub nonce: u64,
    /// Gas price in wei (used as both fee cap and tip).
    pub gas_price: U256,
    /// Gas limit of the confidential execution and of the on-chain callback.
    pub gas: u64,
    /// Target contract; `None` (RLP empty string) means contract creation.
    pub to: Option<Address>,
    /// Value in wei.
    pub value: U256,
    /// Calldata of the confidential execution.
    pub data: Bytes,
    /// The kettle that may execute the request and must sign the resulting 0x50.
    pub kettle_address: Address,
    /// `keccak256(confidentialInputs)` of the request this record belongs to.
    pub confidential_inputs_hash: B256,
    /// Whether the user signed the EIP-712 digest (`true`) or the plain digest (`false`).
    pub is_eip712: bool,
    /// Chain id; checked against the node's chain id but not signed.
    pub chain_id: U256,
    /// The user's signature ([`UNSIGNED`] before signing).
    pub signature: Signature,
}

impl Default for ConfidentialComputeRecord {
    /// All-zero, unsigned record (handy with struct update syntax).
    fn default() -> Self {
        Self {
            nonce: 0,
            gas_price: U256::ZERO,
            gas: 0,
            to: None,
            value: U256::ZERO,
            data: Bytes::new(),
            kettle_address: Address::ZERO,
            confidential_inputs_hash: B256::ZERO,
            is_eip712: false,
            chain_id: U256::ZERO,
            signature: UNSIGNED,
        }
    }
}

impl ConfidentialComputeRecord {
    /// The record's EIP-2718 type byte (`0x42`), used only inside hash preimages.
    pub const TX_TYPE: u8 = CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE;

    /// Number of items in the record's RLP list.
    pub const RLP_FIELDS: usize = 13;

    fn fields_len(&self) -> usize {
        self.nonce.length()
            + self.gas_price.length()
            + self.gas.length()
            + optional_address_len(&self.to)
            + self.value.length()
            + self.data.length()
            + self.kettle_address.length()
            + self.confidential_inputs_hash.length()
            + self.is_eip712.length()
            + self.chain_id.length()
            + signature::rlp::vrs_len(&self.signature)
    }

    /// Decodes one 13-item record list from `buf`, advancing it past the list.
    ///
    /// Applies strict Go-RLP rules: canonical integers, `to` empty or 20 bytes,
    /// 20-byte kettle address, 32-byte inputs hash, boolean `0x80`/`0x01`, valid low-`s`
    /// signature with `v ∈ {0, 1}`.
    pub fn decode_rlp(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        const LIST: &str = "confidential compute record";
        let mut list = ListDecoder::open(buf, LIST, Self::RLP_FIELDS)?;
        let record = Self {
            nonce: list.field("nonce")?,
            gas_price: list.field("gasPrice")?,
            gas: list.field("gas")?,
            to: list.optional_address("to")?,
            value: list.field("value")?,
            data: list.field("data")?,
            kettle_address: list.field("kettleAddress")?,
            confidential_inputs_hash: list.field("confidentialInputsHash")?,
            is_eip712: list.bool("isEIP712")?,
            chain_id: list.field("chainId")?,
            signature: list.signature("record signature")?,
        };
        list.finish(LIST)?;
        Ok(record)
    }

    /// `0x42 ‖ rlp(record13)`: the preimage of [`record_hash`](Self::record_hash).
    pub fn encoded_for_hash(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.length());
        out.push(Self::TX_TYPE);
        self.encode(&mut out);
        out
    }

    /// The record hash `keccak256(0x42 ‖ rlp(record13))`, shown as `hash` in the
    /// `requestRecord` JSON of a 0x50.
    pub fn record_hash(&self) -> B256 {
        keccak256(self.encoded_for_hash())
    }

    /// The plain-mode signing preimage
    /// `0x42 ‖ rlp([kettleAddress, confidentialInputsHash, nonce, gasPrice, gas, to, value,
    /// data])` (kettle and inputs hash first; no chain id, no `isEIP712`). suave-viem calls
    /// this `serializeConfidentialComputeRecord`; it is not a decodable transaction.
    pub fn plain_signing_preimage(&self) -> Vec<u8> {
        let payload_length = self.kettle_address.length()
            + self.confidential_inputs_hash.length()
            + self.nonce.length()
            + self.gas_price.length()
            + self.gas.length()
            + optional_address_len(&self.to)
            + self.value.length()
            + self.data.length();
        let mut out = Vec::with_capacity(1 + list_len(payload_length));
        out.push(Self::TX_TYPE);
        encode_list_header(payload_length, &mut out);
        self.kettle_address.encode(&mut out);
        self.confidential_inputs_hash.encode(&mut out);
        self.nonce.encode(&mut out);
        self.gas_price.encode(&mut out);
        self.gas.encode(&mut out);
        encode_optional_address(&self.to, &mut out);
        self.value.encode(&mut out);
        self.data.encode(&mut out);
        out
    }

    /// The plain-mode signing digest `keccak256(plain_signing_preimage())`.
    pub fn plain_signing_hash(&self) -> B256 {
        keccak256(self.plain_signing_preimage())
    }

    /// The EIP-712 signing digest; [`B256::ZERO`] when `to` is `None` (see
    /// [`eip712::signing_hash`]).
    pub fn eip712_signing_hash(&self) -> B256 {
        eip712::signing_hash(self)
    }

    /// The digest the user signs: EIP-712 when [`is_eip712`](Self::is_eip712), plain otherwise.
    /// It is also the `recordDigest` embedded in the kettle's 0x50 signing preimage.
    pub fn signing_hash(&self) -> B256 {
        if self.is_eip712 {
            self.eip712_signing_hash()
        } else {
            self.plain_signing_hash()
        }
    }

    /// Signs the record in place with `signer` in the mode given by `is_eip712`.
    ///
    /// This does not touch `confidential_inputs_hash`; use
    /// [`ConfidentialComputeRequest::sign`](crate::ConfidentialComputeRequest::sign) to sign a
    /// request, which sets it from the inputs first.
    pub fn sign<S: SignerSync + ?Sized>(&mut self, signer: &S) -> Result<(), SignError> {
        if self.is_eip712 && self.to.is_none() {
            return Err(SignError::Eip712ContractCreation);
        }
        self.signature = signature::sign_prehash(signer, &self.signing_hash())?;
        Ok(())
    }

    /// Consuming form of [`sign`](Self::sign).
    pub fn into_signed<S: SignerSync + ?Sized>(mut self, signer: &S) -> Result<Self, SignError> {
        self.sign(signer)?;
        Ok(self)
    }

    /// Recovers the user who signed the record, after checking `chain_id` equals the node's.
    ///
    /// Errors: [`RecoveryError::ChainIdMismatch`] (`invalid chain id for signer: have N want
    /// M`), [`RecoveryError::InvalidSignatureValues`], [`RecoveryError::Ecdsa`].
    pub fn recover_signer(&self, chain_id: u64) -> Result<Address, RecoveryError> {
        self.recover_signer_with_digest(chain_id)
            .map(|(signer, _)| signer)
    }

    /// [`recover_signer`](Self::recover_signer), also returning the signing digest it
    /// recovered from, which a kettle signs over again in the `0x50`
    /// ([`SuaveTransaction::into_signed_with_record_digest`](crate::SuaveTransaction::into_signed_with_record_digest)).
    pub fn recover_signer_with_digest(
        &self,
        chain_id: u64,
    ) -> Result<(Address, B256), RecoveryError> {
        if self.chain_id != U256::from(chain_id) {
            return Err(RecoveryError::ChainIdMismatch {
                have: self.chain_id,
                want: chain_id,
            });
        }
        let digest = self.signing_hash();
        Ok((signature::recover_signer(&self.signature, &digest)?, digest))
    }

    /// Recovers the signer without the chain-id check (the chain id is not signed anyway).
    pub fn recover_signer_unchecked_chain_id(&self) -> Result<Address, RecoveryError> {
        signature::recover_signer(&self.signature, &self.signing_hash())
    }
}

impl Encodable for ConfidentialComputeRecord {
    /// Encodes the 13-item record list (no type byte).
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        encode_list_header(self.fields_len(), out);
        self.nonce.encode(out);
        self.gas_price.encode(out);
        self.gas.encode(out);
        encode_optional_address(&self.to, out);
        self.value.encode(out);
        self.data.encode(out);
        self.kettle_address.encode(out);
        self.confidential_inputs_hash.encode(out);
        self.is_eip712.encode(out);
        self.chain_id.encode(out);
        signature::rlp::encode_vrs(&self.signature, out);
    }

    fn length(&self) -> usize {
        list_len(self.fields_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::{
        DEV_KETTLE_ADDRESS, EMPTY_CONFIDENTIAL_INPUTS_HASH, SUAVE_DEV_CHAIN_ID,
    };
    use alloy_primitives::{address, b256, hex};
    use alloy_signer_local::PrivateKeySigner;

    /// The `minimal-plain` vector of `shared/vectors/ccr.json`.
    fn minimal_plain() -> ConfidentialComputeRecord {
        ConfidentialComputeRecord {
            nonce: 0,
            gas_price: U256::from(1_000_000_000u64),
            gas: 1_000_000,
            to: Some(address!("0000000000000000000000000000000042010000")),
            value: U256::ZERO,
            data: Bytes::new(),
            kettle_address: DEV_KETTLE_ADDRESS,
            confidential_inputs_hash: EMPTY_CONFIDENTIAL_INPUTS_HASH,
            is_eip712: false,
            chain_id: U256::from(SUAVE_DEV_CHAIN_ID),
            signature: UNSIGNED,
        }
    }

    fn user() -> PrivateKeySigner {
        "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12"
            .parse()
            .unwrap()
    }

    #[test]
    fn plain_digest_matches_suave_viem() {
        let record = minimal_plain();
        assert_eq!(
            record.plain_signing_hash(),
            b256!("b93e41641b8e71f5c40a8e6a86d9e5ec888694d3362f9f5f5b887eb2500bede4")
        );
        assert_eq!(record.signing_hash(), record.plain_signing_hash());
    }

    #[test]
    fn eip712_digest_matches_suave_viem() {
        let record = ConfidentialComputeRecord {
            is_eip712: true,
            ..minimal_plain()
        };
        assert_eq!(
            record.signing_hash(),
            b256!("ac2254f57f5c6899fd13866bb80f88b27dd5af329549fc60bfc96caf76ac3d10")
        );
    }

    #[test]
    fn sign_roundtrip_and_encoding() {
        let signer = user();
        let record = minimal_plain().into_signed(&signer).unwrap();
        assert_eq!(
            record.signature.r(),
            U256::from_be_bytes(hex!(
                "1349f0d1ba60456c3528ceddb6132cfa989ad8574b0db5ee42b30c7d0424c930"
            ))
        );
        assert_eq!(
            record.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            signer.address()
        );

        let mut encoded = Vec::new();
        record.encode(&mut encoded);
        assert_eq!(encoded.len(), record.length());
        let mut buf = &encoded[..];
        assert_eq!(
            ConfidentialComputeRecord::decode_rlp(&mut buf).unwrap(),
            record
        );
        assert!(buf.is_empty());
        assert_eq!(record.record_hash(), keccak256(record.encoded_for_hash()));
        assert_eq!(record.encoded_for_hash()[0], 0x42);
    }

    #[test]
    fn chain_id_mismatch_message() {
        let record = minimal_plain().into_signed(&user()).unwrap();
        let err = record.recover_signer(1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid chain id for signer: have 16813125 want 1"
        );
        // chain id is not signed: the same signature recovers the same user on another chain
        let moved = ConfidentialComputeRecord {
            chain_id: U256::from(1),
            ..record
        };
        assert_eq!(moved.recover_signer(1).unwrap(), user().address());
    }

    #[test]
    fn eip712_creation_is_not_signed() {
        let record = ConfidentialComputeRecord {
            is_eip712: true,
            to: None,
            ..minimal_plain()
        };
        assert!(matches!(
            record.into_signed(&user()),
            Err(SignError::Eip712ContractCreation)
        ));
        // plain mode encodes `to: None` as the empty string and signs fine
        let plain = ConfidentialComputeRecord {
            to: None,
            ..minimal_plain()
        };
        let plain = plain.into_signed(&user()).unwrap();
        assert_eq!(
            plain.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            user().address()
        );
    }

    #[test]
    fn unsigned_record_does_not_recover() {
        assert!(matches!(
            minimal_plain().recover_signer(SUAVE_DEV_CHAIN_ID),
            Err(RecoveryError::InvalidSignatureValues(_))
        ));
    }
}
