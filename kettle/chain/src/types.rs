//! Blocks, transactions and receipts as the chain stores and serves them.

use alloy_consensus::Header;
use alloy_primitives::{keccak256, Address, Bloom, Bytes, Log, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use kettle_primitives::SuaveTxEnvelope;

use crate::ChainError;

/// A transaction with its recovered sender, in wire form (EIP-2718 bytes).
///
/// Keeping the raw bytes keeps the hash exact (`keccak(raw)` for every type) and the stored
/// form identical to what clients sent.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StoredTx {
    /// Who pays and whose nonce it uses (for a `0x50`, the user, not the kettle).
    pub sender: Address,
    /// EIP-2718 encoding.
    pub raw: Bytes,
}

impl StoredTx {
    /// The transaction hash.
    pub fn hash(&self) -> B256 {
        keccak256(&self.raw)
    }

    /// The decoded transaction.
    pub fn envelope(&self) -> Result<SuaveTxEnvelope, ChainError> {
        SuaveTxEnvelope::decode(&self.raw).map_err(|e| ChainError::corrupt("transaction", e))
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
