//! The wire form of a block, as kettles of a cluster exchange it: the sealed header and the
//! raw EIP-2718 transactions. Senders and receipts are not sent; the importer recovers and
//! recomputes them.

use alloy_consensus::Header;
use alloy_primitives::{Bytes, B256};
use alloy_rlp::{Decodable, Encodable};

use crate::{error::WireError, types::SealedBlock};

/// A block on the wire: `rlp([header, [tx, ...]])`, each `tx` an RLP string holding the
/// transaction's EIP-2718 bytes (as in [`StoredTx::raw`](crate::StoredTx::raw)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBlock {
    /// The sealed header.
    pub header: Header,
    /// The transactions, EIP-2718 encoded, in block order.
    pub transactions: Vec<Bytes>,
}

impl WireBlock {
    /// The block hash (keccak of the RLP header).
    pub fn hash(&self) -> B256 {
        self.header.hash_slow()
    }

    /// The RLP encoding `[header, [tx, ...]]`.
    pub fn encode(&self) -> Vec<u8> {
        let txs_payload: usize = self.transactions.iter().map(Encodable::length).sum();
        let txs_head = alloy_rlp::Header {
            list: true,
            payload_length: txs_payload,
        };
        let payload = self.header.length() + txs_head.length() + txs_payload;
        let head = alloy_rlp::Header {
            list: true,
            payload_length: payload,
        };
        let mut out = Vec::with_capacity(head.length() + payload);
        head.encode(&mut out);
        self.header.encode(&mut out);
        txs_head.encode(&mut out);
        for tx in &self.transactions {
            tx.encode(&mut out);
        }
        out
    }

    /// Decodes [`WireBlock::encode`]'s output. Refuses inputs longer than `max_bytes`,
    /// anything but exactly one well-formed `[header, [string, ...]]` list, and trailing
    /// bytes. Never panics, whatever the input.
    pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Self, WireError> {
        if bytes.len() > max_bytes {
            return Err(WireError::TooLarge {
                len: bytes.len(),
                max: max_bytes,
            });
        }
        let mut buf = bytes;
        let head = alloy_rlp::Header::decode(&mut buf)?;
        if !head.list {
            return Err(alloy_rlp::Error::UnexpectedString.into());
        }
        if head.payload_length > buf.len() {
            return Err(alloy_rlp::Error::InputTooShort.into());
        }
        if head.payload_length < buf.len() {
            return Err(WireError::TrailingBytes(buf.len() - head.payload_length));
        }
        let header = Header::decode(&mut buf)?;
        let transactions = Vec::<Bytes>::decode(&mut buf)?;
        if !buf.is_empty() {
            // The outer list's length disagrees with its items.
            return Err(alloy_rlp::Error::ListLengthMismatch {
                expected: head.payload_length,
                got: head.payload_length - buf.len(),
            }
            .into());
        }
        Ok(Self {
            header,
            transactions,
        })
    }
}

impl From<&SealedBlock> for WireBlock {
    fn from(block: &SealedBlock) -> Self {
        Self {
            header: block.header.clone(),
            transactions: block.transactions.iter().map(|t| t.raw().clone()).collect(),
        }
    }
}

impl SealedBlock {
    /// The block's wire form.
    pub fn to_wire(&self) -> WireBlock {
        WireBlock::from(self)
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WireBlock {
        WireBlock {
            header: Header {
                number: 3,
                gas_limit: 30_000_000,
                timestamp: 12,
                extra_data: Bytes::from(vec![0u8; 97]),
                base_fee_per_gas: Some(875_000_000),
                ..Default::default()
            },
            transactions: vec![
                Bytes::from(vec![0x02, 0xf8, 0x01, 0x02]),
                Bytes::from(vec![0x7f]),
                Bytes::new(),
                Bytes::from(vec![0xab; 300]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let block = sample();
        let bytes = block.encode();
        assert_eq!(WireBlock::decode(&bytes, bytes.len()), Ok(block.clone()));
        let empty = WireBlock {
            transactions: vec![],
            ..block
        };
        let bytes = empty.encode();
        assert_eq!(WireBlock::decode(&bytes, 1 << 20), Ok(empty));
    }

    #[test]
    fn oversize_truncated_and_trailing_inputs_are_refused() {
        let bytes = sample().encode();
        assert_eq!(
            WireBlock::decode(&bytes, bytes.len() - 1),
            Err(WireError::TooLarge {
                len: bytes.len(),
                max: bytes.len() - 1
            })
        );
        for cut in 0..bytes.len() {
            assert!(
                WireBlock::decode(&bytes[..cut], usize::MAX).is_err(),
                "prefix of {cut} bytes decoded"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0x80);
        assert_eq!(
            WireBlock::decode(&trailing, usize::MAX),
            Err(WireError::TrailingBytes(1))
        );
        // Not a list; a list claiming more than there is; a header alone; a tx as a list.
        assert!(WireBlock::decode(&[0x83, 1, 2, 3], 100).is_err());
        assert!(WireBlock::decode(&[0xf9, 0xff, 0xff, 0xc0], 100).is_err());
        assert!(WireBlock::decode(&[0xc0], 100).is_err());
        assert!(WireBlock::decode(&[], 100).is_err());
        let block = sample();
        let mut nested = Vec::new();
        let mut txs = Vec::new();
        alloy_rlp::encode_list::<Bytes, Bytes>(&[Bytes::from(vec![1u8])], &mut txs);
        let mut inner = Vec::new();
        block.header.encode(&mut inner);
        alloy_rlp::Header {
            list: true,
            payload_length: txs.len(),
        }
        .encode(&mut inner);
        inner.extend_from_slice(&txs);
        alloy_rlp::Header {
            list: true,
            payload_length: inner.len(),
        }
        .encode(&mut nested);
        nested.extend_from_slice(&inner);
        assert!(WireBlock::decode(&nested, usize::MAX).is_err());
    }
}
