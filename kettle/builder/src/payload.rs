//! The engine-API `ExecutionPayloadEnvelope` JSON of a built block, as suave-geth's
//! `suavex_buildEthBlockFromBundles` returns it (SUAVE-COMPAT §7.2). (The relay form, deneb
//! builder-specs JSON, is [`crate::bid::ExecutionPayload`].)

use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, Bytes, B256, U256};
use serde::Serialize;

fn quantity(n: u64) -> String {
    format!("{n:#x}")
}

/// A withdrawal in engine-API JSON (`index`, `validatorIndex`, `address`, `amount`, hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineWithdrawal {
    /// Withdrawal index.
    pub index: String,
    /// Validator index.
    pub validator_index: String,
    /// Recipient.
    pub address: Address,
    /// Amount in gwei.
    pub amount: String,
}

/// `executionPayload` of the envelope, in suave-geth's key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnginePayload {
    /// Parent hash.
    pub parent_hash: B256,
    /// Coinbase of the block (the builder's ephemeral key).
    pub fee_recipient: Address,
    /// State root.
    pub state_root: B256,
    /// Receipts root.
    pub receipts_root: B256,
    /// Logs bloom (256 bytes).
    pub logs_bloom: Bytes,
    /// prevRandao.
    pub prev_randao: B256,
    /// Block number.
    pub block_number: String,
    /// Gas limit.
    pub gas_limit: String,
    /// Gas used.
    pub gas_used: String,
    /// Timestamp.
    pub timestamp: String,
    /// Extra data.
    pub extra_data: Bytes,
    /// Base fee.
    pub base_fee_per_gas: String,
    /// Block hash.
    pub block_hash: B256,
    /// EIP-2718 transactions.
    pub transactions: Vec<Bytes>,
    /// Withdrawals (`null` before Shanghai).
    pub withdrawals: Option<Vec<EngineWithdrawal>>,
    /// Blob gas used (`null` before Cancun).
    pub blob_gas_used: Option<String>,
    /// Excess blob gas (`null` before Cancun).
    pub excess_blob_gas: Option<String>,
}

/// `blobsBundle` (always empty: bundles carry no blob sidecars).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BlobsBundle {
    /// KZG commitments.
    pub commitments: Vec<Bytes>,
    /// KZG proofs.
    pub proofs: Vec<Bytes>,
    /// Blobs.
    pub blobs: Vec<Bytes>,
}

/// suave-geth's `ExecutionPayloadEnvelope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionPayloadEnvelope {
    /// The payload.
    pub execution_payload: EnginePayload,
    /// Value of the block to the proposer (hex wei).
    pub block_value: String,
    /// Blobs of the payload's blob transactions.
    pub blobs_bundle: BlobsBundle,
    /// Always false.
    pub should_override_builder: bool,
}

/// The block parts the JSON forms are made of.
#[derive(Debug, Clone, Copy)]
pub struct PayloadParts<'a> {
    /// Sealed header.
    pub header: &'a Header,
    /// Its hash.
    pub block_hash: B256,
    /// Transactions.
    pub transactions: &'a [TxEnvelope],
    /// Withdrawals (`None` before Shanghai).
    pub withdrawals: Option<&'a [Withdrawal]>,
    /// Block value.
    pub block_value: U256,
}

impl PayloadParts<'_> {
    fn raw_transactions(&self) -> Vec<Bytes> {
        self.transactions
            .iter()
            .map(|tx| Bytes::from(tx.encoded_2718()))
            .collect()
    }

    /// The engine-API envelope.
    pub fn envelope(&self) -> ExecutionPayloadEnvelope {
        let h = self.header;
        ExecutionPayloadEnvelope {
            execution_payload: EnginePayload {
                parent_hash: h.parent_hash,
                fee_recipient: h.beneficiary,
                state_root: h.state_root,
                receipts_root: h.receipts_root,
                logs_bloom: Bytes::copy_from_slice(h.logs_bloom.as_slice()),
                prev_randao: h.mix_hash,
                block_number: quantity(h.number),
                gas_limit: quantity(h.gas_limit),
                gas_used: quantity(h.gas_used),
                timestamp: quantity(h.timestamp),
                extra_data: h.extra_data.clone(),
                base_fee_per_gas: quantity(h.base_fee_per_gas.unwrap_or_default()),
                block_hash: self.block_hash,
                transactions: self.raw_transactions(),
                withdrawals: self.withdrawals.map(|ws| {
                    ws.iter()
                        .map(|w| EngineWithdrawal {
                            index: quantity(w.index),
                            validator_index: quantity(w.validator_index),
                            address: w.address,
                            amount: quantity(w.amount),
                        })
                        .collect()
                }),
                blob_gas_used: h.blob_gas_used.map(quantity),
                excess_blob_gas: h.excess_blob_gas.map(quantity),
            },
            block_value: format!("{:#x}", self.block_value),
            blobs_bundle: BlobsBundle::default(),
            should_override_builder: false,
        }
    }
}
