//! One entry point for every raw transaction a kettle accepts: SUAVE 0x43 requests, SUAVE
//! 0x50 transactions and standard Ethereum transactions.

use crate::{
    constants::{
        CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE, CONFIDENTIAL_COMPUTE_REQUEST_TX_TYPE, SUAVE_TX_TYPE,
    },
    error::{DecodeError, RecoveryError},
    request::ConfidentialComputeRequest,
    rlp::check_size,
    signature::validate_signature_values,
    suave_tx::SuaveTransaction,
};
use alloy_consensus::{transaction::SignerRecoverable, Transaction, TxEnvelope};
use alloy_eips::eip2718::{
    Decodable2718, Encodable2718, Typed2718, EIP1559_TX_TYPE_ID, EIP2930_TX_TYPE_ID,
    EIP4844_TX_TYPE_ID, EIP7702_TX_TYPE_ID, LEGACY_TX_TYPE_ID,
};
use alloy_primitives::{keccak256, Address, B256, U256};

/// Standard typed transactions handed to alloy (`0x01`–`0x04`). Other bytes below `0x80` are
/// rejected up front as unsupported, so alloy's catch-all errors never hide the type.
const ETHEREUM_TYPED_TX_TYPES: [u8; 4] = [
    EIP2930_TX_TYPE_ID,
    EIP1559_TX_TYPE_ID,
    EIP4844_TX_TYPE_ID,
    EIP7702_TX_TYPE_ID,
];

/// A decoded raw transaction, dispatched on its first byte.
///
/// - `0x43` → [`ConfidentialComputeRequest`], `0x50` → [`SuaveTransaction`];
/// - `0x42` (record) → rejected, `transaction type not supported`, as in suave-geth;
/// - anything else → alloy's [`TxEnvelope`] (legacy lists starting at `0xc0`, and typed
///   `0x01`–`0x04`). alloy knows types suave-geth v0.2.6 does not (`0x04`) and suave-geth's
///   signer only recovers legacy, `0x01` and `0x02`; [`recover_signer`](Self::recover_signer)
///   mirrors that, and fork policy for the rest is left to the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuaveTxEnvelope {
    /// A confidential compute request (`0x43`).
    ConfidentialRequest(ConfidentialComputeRequest),
    /// A SUAVE transaction (`0x50`).
    Suave(SuaveTransaction),
    /// A standard Ethereum transaction.
    Ethereum(TxEnvelope),
}

impl SuaveTxEnvelope {
    /// Decodes raw transaction bytes (as passed to `eth_sendRawTransaction`).
    ///
    /// The whole input must be consumed and must not exceed
    /// [`MAX_ENCODED_TX_BYTES`](crate::MAX_ENCODED_TX_BYTES). Never panics.
    pub fn decode(raw: &[u8]) -> Result<Self, DecodeError> {
        check_size(raw)?;
        let &ty = raw.first().ok_or(DecodeError::Empty)?;
        match ty {
            CONFIDENTIAL_COMPUTE_REQUEST_TX_TYPE => {
                ConfidentialComputeRequest::decode(raw).map(Self::ConfidentialRequest)
            }
            SUAVE_TX_TYPE => SuaveTransaction::decode(raw).map(Self::Suave),
            CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE => Err(DecodeError::UnsupportedTxType(ty)),
            // Typed envelopes: geth treats every first byte below 0x80 as a type byte.
            0x00..=0x7f if !ETHEREUM_TYPED_TX_TYPES.contains(&ty) => {
                Err(DecodeError::UnsupportedTxType(ty))
            }
            0x00..=0x7f if raw.len() == 1 => Err(DecodeError::TooShort),
            _ => TxEnvelope::decode_2718_exact(raw)
                .map(Self::Ethereum)
                .map_err(DecodeError::Ethereum),
        }
    }

    /// The EIP-2718 encoding (the bytes [`decode`](Self::decode) accepts).
    pub fn encoded(&self) -> Vec<u8> {
        match self {
            Self::ConfidentialRequest(tx) => tx.encoded(),
            Self::Suave(tx) => tx.encoded(),
            Self::Ethereum(tx) => tx.encoded_2718(),
        }
    }

    /// The transaction hash: `keccak256` of the EIP-2718 encoding.
    pub fn tx_hash(&self) -> B256 {
        match self {
            Self::Ethereum(tx) => *tx.tx_hash(),
            other => keccak256(other.encoded()),
        }
    }

    /// The EIP-2718 type byte (`0x00` for legacy).
    pub fn tx_type(&self) -> u8 {
        match self {
            Self::ConfidentialRequest(_) => ConfidentialComputeRequest::TX_TYPE,
            Self::Suave(_) => SuaveTransaction::TX_TYPE,
            Self::Ethereum(tx) => tx.ty(),
        }
    }

    /// Recovers the sender under suave-geth's `suaveSigner` for a node on `chain_id`:
    /// the user for `0x43` and `0x50` (see their `recover_signer`), the signer of a standard
    /// transaction otherwise (chain id checked when the transaction carries one; low `s`
    /// required; types other than legacy, `0x01` and `0x02` are `transaction type not
    /// supported`, as geth's London signer says).
    pub fn recover_signer(&self, chain_id: u64) -> Result<Address, RecoveryError> {
        match self {
            Self::ConfidentialRequest(tx) => tx.recover_signer(chain_id),
            Self::Suave(tx) => tx.recover_signer(chain_id),
            Self::Ethereum(tx) => {
                let ty = tx.ty();
                if ![LEGACY_TX_TYPE_ID, EIP2930_TX_TYPE_ID, EIP1559_TX_TYPE_ID].contains(&ty) {
                    return Err(RecoveryError::UnsupportedTxType(ty));
                }
                if let Some(have) = tx.chain_id() {
                    if have != chain_id {
                        return Err(RecoveryError::ChainIdMismatch {
                            have: U256::from(have),
                            want: chain_id,
                        });
                    }
                }
                validate_signature_values(tx.signature())
                    .map_err(RecoveryError::InvalidSignatureValues)?;
                tx.recover_signer().map_err(RecoveryError::Ethereum)
            }
        }
    }
}

impl From<ConfidentialComputeRequest> for SuaveTxEnvelope {
    fn from(tx: ConfidentialComputeRequest) -> Self {
        Self::ConfidentialRequest(tx)
    }
}

impl From<SuaveTransaction> for SuaveTxEnvelope {
    fn from(tx: SuaveTransaction) -> Self {
        Self::Suave(tx)
    }
}

impl From<TxEnvelope> for SuaveTxEnvelope {
    fn from(tx: TxEnvelope) -> Self {
        Self::Ethereum(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        constants::{DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID},
        ConfidentialComputeRecord,
    };
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_primitives::{Bytes, TxKind};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    fn user() -> PrivateKeySigner {
        "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12"
            .parse()
            .unwrap()
    }

    fn signed_request() -> ConfidentialComputeRequest {
        ConfidentialComputeRequest::new(
            ConfidentialComputeRecord {
                to: Some(Address::with_last_byte(1)),
                kettle_address: DEV_KETTLE_ADDRESS,
                chain_id: U256::from(SUAVE_DEV_CHAIN_ID),
                ..Default::default()
            },
            Bytes::new(),
        )
        .into_signed(&user())
        .unwrap()
    }

    fn eip1559(chain_id: u64) -> TxEnvelope {
        let tx = TxEip1559 {
            chain_id,
            nonce: 1,
            gas_limit: 21_000,
            max_fee_per_gas: 2,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::with_last_byte(9)),
            ..Default::default()
        };
        let sig = user().sign_hash_sync(&tx.signature_hash()).unwrap();
        tx.into_signed(sig).into()
    }

    #[test]
    fn dispatches_suave_types() {
        let req = signed_request();
        let env = SuaveTxEnvelope::decode(&req.encoded()).unwrap();
        assert_eq!(env, SuaveTxEnvelope::ConfidentialRequest(req.clone()));
        assert_eq!(env.tx_type(), 0x43);
        assert_eq!(env.tx_hash(), req.tx_hash());
        assert_eq!(
            env.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            user().address()
        );
        assert_eq!(env.encoded(), req.encoded());
    }

    #[test]
    fn raw_record_is_not_supported() {
        let raw = signed_request().record.encoded_for_hash();
        let err = SuaveTxEnvelope::decode(&raw).unwrap_err();
        assert!(matches!(err, DecodeError::UnsupportedTxType(0x42)));
        assert_eq!(err.to_string(), "transaction type not supported");
    }

    #[test]
    fn standard_transactions_pass_through_alloy() {
        let tx = eip1559(SUAVE_DEV_CHAIN_ID);
        let raw = tx.encoded_2718();
        let env = SuaveTxEnvelope::decode(&raw).unwrap();
        assert_eq!(env.tx_type(), 2);
        assert_eq!(env.tx_hash(), keccak256(&raw));
        assert_eq!(env.encoded(), raw);
        assert_eq!(
            env.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            user().address()
        );
        assert_eq!(
            env.recover_signer(1).unwrap_err().to_string(),
            "invalid chain id for signer: have 16813125 want 1"
        );

        // legacy without chain id (pre-EIP-155) is accepted on any chain, like geth
        let legacy = TxLegacy {
            nonce: 0,
            gas_limit: 21_000,
            ..Default::default()
        };
        let sig = user().sign_hash_sync(&legacy.signature_hash()).unwrap();
        let raw = TxEnvelope::from(legacy.into_signed(sig)).encoded_2718();
        assert!(raw[0] >= 0xc0);
        let env = SuaveTxEnvelope::decode(&raw).unwrap();
        assert_eq!(env.tx_type(), 0);
        assert_eq!(
            env.recover_signer(SUAVE_DEV_CHAIN_ID).unwrap(),
            user().address()
        );
    }

    #[test]
    fn unknown_and_short_types() {
        assert!(matches!(
            SuaveTxEnvelope::decode(&[]),
            Err(DecodeError::Empty)
        ));
        for ty in [0x00u8, 0x05, 0x41, 0x44, 0x4f, 0x51, 0x7f] {
            let err = SuaveTxEnvelope::decode(&[ty, 0xc0]).unwrap_err();
            assert!(
                matches!(err, DecodeError::UnsupportedTxType(t) if t == ty),
                "{ty:#x}: {err:?}"
            );
        }
        for ty in [0x01u8, 0x02, 0x43, 0x50] {
            assert!(matches!(
                SuaveTxEnvelope::decode(&[ty]),
                Err(DecodeError::TooShort)
            ));
        }
        // 0x80..=0xbf: an RLP string where a legacy list is expected
        let err = SuaveTxEnvelope::decode(&[0x80]).unwrap_err();
        assert!(matches!(err, DecodeError::Ethereum(_)), "{err:?}");
        // trailing bytes after a standard transaction
        let mut raw = eip1559(SUAVE_DEV_CHAIN_ID).encoded_2718();
        raw.push(0);
        assert!(SuaveTxEnvelope::decode(&raw).is_err());
    }

    #[test]
    fn size_limit_applies_to_every_type() {
        let big = Bytes::from(vec![0u8; crate::MAX_ENCODED_TX_BYTES]);
        let mut req = signed_request();
        req.confidential_inputs = big;
        let raw = req.encoded();
        assert!(raw.len() > crate::MAX_ENCODED_TX_BYTES);
        assert!(matches!(
            SuaveTxEnvelope::decode(&raw),
            Err(DecodeError::TooLarge { .. })
        ));
        assert!(matches!(
            ConfidentialComputeRequest::decode(&raw),
            Err(DecodeError::TooLarge { .. })
        ));
        let mut legacy = vec![0xf9];
        legacy.resize(crate::MAX_ENCODED_TX_BYTES + 1, 0);
        assert!(matches!(
            SuaveTxEnvelope::decode(&legacy),
            Err(DecodeError::TooLarge { .. })
        ));
        // just under the limit decodes
        let mut req = signed_request();
        // the empty inputs byte becomes a 4-byte string header, the list header grows by 2
        let overhead = req.encoded().len() - 1 + 4 + 2;
        req.confidential_inputs = Bytes::from(vec![0u8; crate::MAX_ENCODED_TX_BYTES - overhead]);
        let raw = req.encoded();
        assert_eq!(raw.len(), crate::MAX_ENCODED_TX_BYTES);
        assert!(SuaveTxEnvelope::decode(&raw).is_ok());
    }
}
