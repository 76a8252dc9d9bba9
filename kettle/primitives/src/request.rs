//! The confidential compute request (CCR, type `0x43`): a signed record plus the confidential
//! inputs, sent by a user to a kettle with `eth_sendRawTransaction`.

use crate::{
    constants::CONFIDENTIAL_COMPUTE_REQUEST_TX_TYPE,
    error::{DecodeError, RecoveryError, SignError},
    record::ConfidentialComputeRecord,
    rlp::{encode_list_header, expect_end, list_len, strip_type_byte, ListDecoder},
};
use alloy_primitives::{keccak256, Address, Bytes, B256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;
use core::fmt;

/// A SUAVE confidential compute request (suave-geth `types.ConfidentialComputeRequest`).
///
/// Wire form: `0x43 ‖ rlp([record13, confidentialInputs])` (the record is a nested list).
///
/// `Debug` never prints the confidential inputs, only their length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ConfidentialComputeRequest {
    /// The user-signed record.
    pub record: ConfidentialComputeRecord,
    /// Confidential inputs: visible to the kettle's execution only, never on chain. Their
    /// hash (not the data) is covered by the user's signature.
    pub confidential_inputs: Bytes,
}

impl fmt::Debug for ConfidentialComputeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfidentialComputeRequest")
            .field("record", &self.record)
            .field(
                "confidential_inputs",
                &format_args!("<redacted {} bytes>", self.confidential_inputs.len()),
            )
            .finish()
    }
}

impl ConfidentialComputeRequest {
    /// The request's EIP-2718 type byte (`0x43`).
    pub const TX_TYPE: u8 = CONFIDENTIAL_COMPUTE_REQUEST_TX_TYPE;

    /// Bundles a record with its inputs as given; `record.confidential_inputs_hash` is left
    /// untouched (call [`sign`](Self::sign) or [`set_inputs_hash`](Self::set_inputs_hash)).
    pub const fn new(record: ConfidentialComputeRecord, confidential_inputs: Bytes) -> Self {
        Self {
            record,
            confidential_inputs,
        }
    }

    /// `keccak256(confidential_inputs)`, the value `record.confidential_inputs_hash` must hold.
    pub fn compute_inputs_hash(&self) -> B256 {
        keccak256(&self.confidential_inputs)
    }

    /// Sets `record.confidential_inputs_hash` from the inputs.
    pub fn set_inputs_hash(&mut self) {
        self.record.confidential_inputs_hash = self.compute_inputs_hash();
    }

    fn payload_len(&self) -> usize {
        self.record.length() + self.confidential_inputs.length()
    }

    /// Length of [`encoded`](Self::encoded) in bytes.
    pub fn encoded_len(&self) -> usize {
        1 + list_len(self.payload_len())
    }

    /// The EIP-2718 envelope `0x43 ‖ rlp([record13, confidentialInputs])`.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push(Self::TX_TYPE);
        encode_list_header(self.payload_len(), &mut out);
        self.record.encode(&mut out);
        self.confidential_inputs.encode(&mut out);
        out
    }

    /// Decodes a raw `0x43` envelope; the whole input must be consumed.
    pub fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        const LIST: &str = "confidential compute request";
        let mut buf = strip_type_byte(raw, Self::TX_TYPE)?;
        let mut list = ListDecoder::open(&mut buf, LIST, 2)?;
        let record = ConfidentialComputeRecord::decode_rlp(list.buf())?;
        let confidential_inputs = list.field("confidentialInputs")?;
        list.finish(LIST)?;
        expect_end(buf)?;
        Ok(Self {
            record,
            confidential_inputs,
        })
    }

    /// The transaction hash `keccak256(encoded())`. suave-geth never returns it to users
    /// (`eth_sendRawTransaction` answers with the resulting 0x50's hash).
    pub fn tx_hash(&self) -> B256 {
        keccak256(self.encoded())
    }

    /// The digest the user signs (the record's plain or EIP-712 digest, type byte `0x42`).
    pub fn signing_hash(&self) -> B256 {
        self.record.signing_hash()
    }

    /// Sets the inputs hash from the inputs, then signs the record (suave-geth `SignTx`).
    pub fn sign<S: SignerSync + ?Sized>(&mut self, signer: &S) -> Result<(), SignError> {
        self.set_inputs_hash();
        self.record.sign(signer)
    }

    /// Consuming form of [`sign`](Self::sign).
    pub fn into_signed<S: SignerSync + ?Sized>(mut self, signer: &S) -> Result<Self, SignError> {
        self.sign(signer)?;
        Ok(self)
    }

    /// Recovers the user, in suave-geth's order: inputs-hash check (`confidential inputs
    /// hash mismatch`), chain-id check against the node's `chain_id`, signature validity,
    /// ECDSA recovery.
    pub fn recover_signer(&self, chain_id: u64) -> Result<Address, RecoveryError> {
        self.recover_signer_with_digest(chain_id)
            .map(|(signer, _)| signer)
    }

    /// [`recover_signer`](Self::recover_signer), also returning the record's signing digest
    /// (see [`ConfidentialComputeRecord::recover_signer_with_digest`]).
    pub fn recover_signer_with_digest(
        &self,
        chain_id: u64,
    ) -> Result<(Address, B256), RecoveryError> {
        if self.record.confidential_inputs_hash != self.compute_inputs_hash() {
            return Err(RecoveryError::InputsHashMismatch);
        }
        self.record.recover_signer_with_digest(chain_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::{DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
    use alloy_primitives::{address, b256, hex, U256};
    use alloy_signer_local::PrivateKeySigner;

    /// `minimal-eip712` from `shared/vectors/ccr.json`.
    const MINIMAL_EIP712: [u8; 166] = hex!("43f8a3f8a080843b9aca00830f4240940000000000000000000000000000000042010000808094b5feafbdd752ad52afb7e1bd2e40432a485bbb7fa0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470018401008c4501a0a3b99fe4b62691a0af94e8f2eb93500dc0897110721bab71d7ba89f49727cfcfa06974dc49fc02d7967050b0d768aa5a9e97a22cf55bbf41da0360ac3db2c69b9b80");

    fn user() -> PrivateKeySigner {
        "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12"
            .parse()
            .unwrap()
    }

    #[test]
    fn decodes_and_reencodes_vector() {
        let req = ConfidentialComputeRequest::decode(&MINIMAL_EIP712).unwrap();
        assert_eq!(req.encoded(), MINIMAL_EIP712);
        assert_eq!(req.encoded_len(), MINIMAL_EIP712.len());
        assert_eq!(
            req.tx_hash(),
            b256!("1fa7bed596d98a9f20a93106d51f1ddbc0e19d4272a0b88e0fc773b179bdab68")
        );
        assert!(req.record.is_eip712);
        assert_eq!(
            req.record.to,
            Some(address!("0000000000000000000000000000000042010000"))
        );
        assert_eq!(req.record.kettle_address, DEV_KETTLE_ADDRESS);
        assert_eq!(
            req.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            user().address()
        );
    }

    #[test]
    fn resigning_reproduces_vector() {
        let req = ConfidentialComputeRequest::decode(&MINIMAL_EIP712).unwrap();
        let mut unsigned = req.clone();
        unsigned.record.signature = crate::signature::UNSIGNED;
        unsigned.record.confidential_inputs_hash = B256::ZERO;
        assert_eq!(unsigned.into_signed(&user()).unwrap(), req);
    }

    #[test]
    fn inputs_hash_mismatch() {
        let mut req = ConfidentialComputeRequest::decode(&MINIMAL_EIP712).unwrap();
        req.confidential_inputs = Bytes::from_static(b"secret");
        let err = req.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap_err();
        assert_eq!(err.to_string(), "confidential inputs hash mismatch");
        // the check comes before the chain-id check, like suave-geth
        assert!(matches!(
            req.recover_signer(1),
            Err(RecoveryError::InputsHashMismatch)
        ));
    }

    #[test]
    fn debug_redacts_inputs() {
        let req = ConfidentialComputeRequest {
            confidential_inputs: Bytes::from_static(b"topsecret"),
            ..Default::default()
        };
        let shown = format!("{req:?}");
        assert!(shown.contains("<redacted 9 bytes>"));
        assert!(!shown.contains("746f70736563726574"));
    }

    #[test]
    fn rejects_malformed_envelopes() {
        let raw = MINIMAL_EIP712;
        // trailing byte
        let mut longer = raw.to_vec();
        longer.push(0x80);
        assert!(matches!(
            ConfidentialComputeRequest::decode(&longer),
            Err(DecodeError::TrailingBytes { trailing: 1 })
        ));
        // truncated
        assert!(ConfidentialComputeRequest::decode(&raw[..raw.len() - 1]).is_err());
        // a 0x50 decoder does not accept it and vice versa
        let mut as_50 = raw.to_vec();
        as_50[0] = 0x50;
        assert!(matches!(
            ConfidentialComputeRequest::decode(&as_50),
            Err(DecodeError::UnexpectedTxType {
                expected: 0x43,
                found: 0x50
            })
        ));
        // outer list with three items
        let req = ConfidentialComputeRequest::decode(&raw).unwrap();
        let mut body = Vec::new();
        req.record.encode(&mut body);
        req.confidential_inputs.encode(&mut body);
        U256::ZERO.encode(&mut body);
        let mut three = vec![0x43];
        encode_list_header(body.len(), &mut three);
        three.extend_from_slice(&body);
        assert!(matches!(
            ConfidentialComputeRequest::decode(&three),
            Err(DecodeError::ListLength {
                expected: 2,
                got: 3,
                ..
            })
        ));
    }
}
