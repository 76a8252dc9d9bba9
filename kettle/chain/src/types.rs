//! Blocks, transactions and receipts as the chain stores and serves them.

use alloy_consensus::Header;
use alloy_primitives::{keccak256, Address, Bloom, Bytes, Log, B256};
use alloy_rlp::{BufMut, Decodable, Encodable, RlpDecodable, RlpEncodable};
use kettle_primitives::SuaveTxEnvelope;

use crate::ChainError;

/// A transaction with its recovered sender, in wire form (EIP-2718 bytes).
///
/// Keeping the raw bytes keeps the hash exact (`keccak(raw)` for every type) and the stored
/// form identical to what clients sent. The hash is computed once, when the value is made or
/// decoded: the pool, block production and the indexes all key transactions by it.
///
/// RLP: the list `[sender, raw]` (the hash is not encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    /// Who pays and whose nonce it uses (for a `0x50`, the user, not the kettle).
    pub sender: Address,
    /// EIP-2718 encoding.
    raw: Bytes,
    /// `keccak(raw)`.
    hash: B256,
}

impl StoredTx {
    /// A transaction of `sender` in its EIP-2718 encoding `raw`.
    pub fn new(sender: Address, raw: Bytes) -> Self {
        let hash = keccak256(&raw);
        Self { sender, raw, hash }
    }

    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The EIP-2718 encoding.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The EIP-2718 encoding, by value.
    pub fn into_raw(self) -> Bytes {
        self.raw
    }

    /// The decoded transaction.
    pub fn envelope(&self) -> Result<SuaveTxEnvelope, ChainError> {
        SuaveTxEnvelope::decode(&self.raw).map_err(|e| ChainError::corrupt("transaction", e))
    }

    fn payload_length(&self) -> usize {
        self.sender.length() + self.raw.length()
    }
}

impl Encodable for StoredTx {
    fn encode(&self, out: &mut dyn BufMut) {
        alloy_rlp::Header {
            list: true,
            payload_length: self.payload_length(),
        }
        .encode(out);
        self.sender.encode(out);
        self.raw.encode(out);
    }

    fn length(&self) -> usize {
        let payload = self.payload_length();
        payload + alloy_rlp::length_of_length(payload)
    }
}

impl Decodable for StoredTx {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let header = alloy_rlp::Header::decode(buf)?;
        if !header.list {
            return Err(alloy_rlp::Error::UnexpectedString);
        }
        let started = buf.len();
        if started < header.payload_length {
            return Err(alloy_rlp::Error::InputTooShort);
        }
        let sender = Address::decode(buf)?;
        let raw = Bytes::decode(buf)?;
        let consumed = started - buf.len();
        if consumed != header.payload_length {
            return Err(alloy_rlp::Error::ListLengthMismatch {
                expected: header.payload_length,
                got: consumed,
            });
        }
        Ok(Self::new(sender, raw))
    }
}

/// The outcome of one transaction in a block.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StoredReceipt {
    /// EIP-2718 type of the transaction (`0x50` for SUAVE transactions).
    pub tx_type: u8,
    /// Whether execution succeeded.
    pub success: bool,
    /// Gas used by this and all earlier transactions of the block.
    pub cumulative_gas_used: u64,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
}

impl StoredReceipt {
    /// Bloom filter over the receipt's logs.
    pub fn bloom(&self) -> Bloom {
        let mut bloom = Bloom::default();
        for log in &self.logs {
            bloom.accrue_log(log);
        }
        bloom
    }

    /// Consensus encoding used in the receipts trie: `rlp([status, cumulativeGas, bloom, logs])`
    /// behind the type byte for typed transactions.
    pub fn encoded_2718(&self) -> Vec<u8> {
        let receipt = alloy_consensus::Receipt {
            status: alloy_consensus::Eip658Value::Eip658(self.success),
            cumulative_gas_used: self.cumulative_gas_used,
            logs: self.logs.clone(),
        };
        let with_bloom = alloy_consensus::ReceiptWithBloom::new(receipt, self.bloom());
        let mut out = Vec::new();
        if self.tx_type != 0 {
            out.push(self.tx_type);
        }
        alloy_rlp::Encodable::encode(&with_bloom, &mut out);
        out
    }
}

/// A block as stored: its header, transactions and receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBlock {
    /// Block hash (keccak of the RLP header).
    pub hash: B256,
    /// The header.
    pub header: Header,
    /// Transactions in order.
    pub transactions: Vec<StoredTx>,
    /// Receipts, one per transaction.
    pub receipts: Vec<StoredReceipt>,
}

/// Where a transaction landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block number.
    pub block_number: u64,
    /// Position in the block.
    pub index: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding `StoredTx` had when it derived its RLP (stored bodies and pending
    /// transactions use it).
    #[derive(RlpEncodable, RlpDecodable)]
    struct DerivedStoredTx {
        sender: Address,
        raw: Bytes,
    }

    #[test]
    fn stored_tx_rlp_is_the_derived_list_and_keeps_its_hash() {
        for len in [0usize, 1, 55, 56, 700, 70_000] {
            let raw = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
            let sender = Address::with_last_byte(len as u8);
            let tx = StoredTx::new(sender, raw.clone());
            assert_eq!(tx.hash(), keccak256(&raw));
            let encoded = alloy_rlp::encode(&tx);
            assert_eq!(encoded.len(), tx.length());
            assert_eq!(encoded, alloy_rlp::encode(DerivedStoredTx { sender, raw }));
            let decoded = StoredTx::decode(&mut encoded.as_slice()).expect("decodes");
            assert_eq!(decoded, tx);
            assert_eq!(decoded.hash(), tx.hash());
        }
        let tx = StoredTx::new(Address::ZERO, Bytes::from_static(&[1, 2, 3]));
        let mut encoded = alloy_rlp::encode(&tx);
        // A list with an extra item, a string instead of a list, truncated input.
        encoded[0] += 1;
        encoded.push(0x80);
        assert!(StoredTx::decode(&mut encoded.as_slice()).is_err());
        assert!(StoredTx::decode(&mut &[0x83, 1, 2, 3][..]).is_err());
        let full = alloy_rlp::encode(&tx);
        assert!(StoredTx::decode(&mut &full[..full.len() - 1]).is_err());
    }

    #[test]
    fn typed_receipt_encoding_has_type_prefix() {
        let r = StoredReceipt {
            tx_type: 0x50,
            success: true,
            cumulative_gas_used: 21_000,
            logs: vec![],
        };
        let enc = r.encoded_2718();
        assert_eq!(enc[0], 0x50);
        let legacy = StoredReceipt { tx_type: 0, ..r };
        assert_eq!(&legacy.encoded_2718()[..], &enc[1..]);
    }
}
