//! JSON forms of transactions, receipts, blocks and call arguments.
//!
//! Ethereum transactions use alloy's RPC types, which emit what geth emits. SUAVE `0x50`
//! transactions use [`SuaveRpcTransaction`], suave-geth's `RPCTransaction` for that type
//! (SUAVE-COMPAT §1.10): the standard fields taken from the embedded record, plus
//! `requestRecord` (the record's `txJSON`, type `0x42`) and `confidentialComputeResult`.
//!
//! `0x43` requests are never stored, so this module has no JSON form for them at all: no
//! code path of the server can print confidential inputs.

use std::fmt;

use alloy_consensus::{transaction::Recovered, Transaction as _, TxEnvelope};
use alloy_primitives::{Address, Bloom, Bytes, B256, U256, U64};
use alloy_rpc_types_eth::{Block, BlockTransactions, Header, Log, Transaction, TransactionRequest};
use kettle_chain::{SealedBlock, StoredTx};
use kettle_primitives::{ConfidentialComputeRecord, SuaveTransaction, SuaveTxEnvelope};
use serde::{Deserialize, Serialize};

use crate::error::{EthApiError, EthResult};

/// A transaction as `eth_getTransactionByHash` and full blocks return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RpcTransaction {
    /// A SUAVE `0x50` transaction.
    Suave(Box<SuaveRpcTransaction>),
    /// A standard Ethereum transaction (legacy, `0x01`, `0x02`), as alloy/geth emit it.
    Ethereum(Box<Transaction>),
}

/// The block a mined transaction is in, and its position (what the JSON forms need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxBlockInfo {
    /// Block hash.
    pub block_hash: B256,
    /// Block number.
    pub block_number: u64,
    /// Position in the block.
    pub index: u64,
    /// Base fee of the block (for effective gas prices).
    pub base_fee: Option<u64>,
}

/// suave-geth's RPC form of a `0x50` transaction (keys in suave-geth's order).
///
/// `from` is the user (the sender of a `0x50`), `hash` the `0x50` hash, `input` the
/// confidential compute result, `nonce`/`gas`/`gasPrice`/`to`/`value` come from the record,
/// and `v`/`r`/`s` are the kettle's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuaveRpcTransaction {
    /// Hash of the containing block (`null` while pending).
    pub block_hash: Option<B256>,
    /// Number of the containing block (`null` while pending).
    pub block_number: Option<U64>,
    /// The user who signed the request.
    pub from: Address,
    /// Gas limit (from the record).
    pub gas: U64,
    /// Gas price (from the record).
    pub gas_price: U256,
    /// The `0x50` hash.
    pub hash: B256,
    /// Calldata executed on chain: the confidential compute result.
    pub input: Bytes,
    /// The user's nonce (from the record).
    pub nonce: U64,
    /// Target (from the record; `null` for creation).
    pub to: Option<Address>,
    /// Position in the block (`null` while pending).
    pub transaction_index: Option<U64>,
    /// Value (from the record).
    pub value: U256,
    /// `0x50`.
    #[serde(rename = "type")]
    pub tx_type: U64,
    /// Chain id of the `0x50`.
    pub chain_id: U256,
    /// The user-signed record of the originating request.
    pub request_record: RecordJson,
    /// The confidential compute result (same bytes as `input`).
    pub confidential_compute_result: Bytes,
    /// Kettle signature y-parity (0 or 1).
    pub v: U256,
    /// Kettle signature `r`.
    pub r: U256,
    /// Kettle signature `s`.
    pub s: U256,
}

impl SuaveRpcTransaction {
    /// The RPC form of `tx`, sent by `from`, mined at `block` (or pending).
    pub fn new(tx: &SuaveTransaction, from: Address, block: Option<&TxBlockInfo>) -> Self {
        let record = &tx.record;
        Self {
            block_hash: block.map(|b| b.block_hash),
            block_number: block.map(|b| U64::from(b.block_number)),
            from,
            gas: U64::from(record.gas),
            gas_price: record.gas_price,
            hash: tx.tx_hash(),
            input: tx.confidential_compute_result.clone(),
            nonce: U64::from(record.nonce),
            to: record.to,
            transaction_index: block.map(|b| U64::from(b.index)),
            value: record.value,
            tx_type: U64::from(SuaveTransaction::TX_TYPE),
            chain_id: tx.chain_id,
            request_record: RecordJson::new(record),
            confidential_compute_result: tx.confidential_compute_result.clone(),
            v: U256::from(u8::from(tx.signature.v())),
            r: tx.signature.r(),
            s: tx.signature.s(),
        }
    }
}

/// Go `txJSON` of a confidential compute record (type `0x42`), the `requestRecord` of a
/// `0x50` (SUAVE-COMPAT §1.10). Keys in Go's order; `maxPriorityFeePerGas` and
/// `maxFeePerGas` are always `null`; there is no `iseip712` key (as upstream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordJson {
    /// `0x42`.
    #[serde(rename = "type")]
    pub tx_type: U64,
    /// Chain id of the record.
    pub chain_id: U256,
    /// The user's nonce.
    pub nonce: U64,
    /// Target (`null` for creation).
    pub to: Option<Address>,
    /// Gas limit.
    pub gas: U64,
    /// Gas price.
    pub gas_price: U256,
    /// Always `null`.
    pub max_priority_fee_per_gas: Option<U256>,
    /// Always `null`.
    pub max_fee_per_gas: Option<U256>,
    /// Value.
    pub value: U256,
    /// Calldata of the confidential execution.
    pub input: Bytes,
    /// The kettle the request was addressed to.
    pub kettle_address: Address,
    /// `keccak256(confidentialInputs)` (the inputs themselves are never shown).
    pub confidential_inputs_hash: B256,
    /// User signature y-parity (0 or 1).
    pub v: U256,
    /// User signature `r`.
    pub r: U256,
    /// User signature `s`.
    pub s: U256,
    /// The record hash, `keccak256(0x42 ‖ rlp(record))`.
    pub hash: B256,
}

impl RecordJson {
    /// The JSON form of `record`.
    pub fn new(record: &ConfidentialComputeRecord) -> Self {
        Self {
            tx_type: U64::from(ConfidentialComputeRecord::TX_TYPE),
            chain_id: record.chain_id,
            nonce: U64::from(record.nonce),
            to: record.to,
            gas: U64::from(record.gas),
            gas_price: record.gas_price,
            max_priority_fee_per_gas: None,
            max_fee_per_gas: None,
            value: record.value,
            input: record.data.clone(),
            kettle_address: record.kettle_address,
            confidential_inputs_hash: record.confidential_inputs_hash,
            v: U256::from(u8::from(record.signature.v())),
            r: record.signature.r(),
            s: record.signature.s(),
            hash: record.record_hash(),
        }
    }
}

/// A transaction receipt in geth's form; `type` is `0x50` for SUAVE transactions, `from` is
/// the sender (the user for a `0x50`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcReceipt {
    /// Hash of the containing block.
    pub block_hash: B256,
    /// Number of the containing block.
    pub block_number: U64,
    /// Address of the created contract, for creations.
    pub contract_address: Option<Address>,
    /// Gas used by this and the earlier transactions of the block.
    pub cumulative_gas_used: U64,
    /// Price paid per gas.
    pub effective_gas_price: U256,
    /// Sender.
    pub from: Address,
    /// Gas used by this transaction.
    pub gas_used: U64,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// Bloom filter of the logs.
    pub logs_bloom: Bloom,
    /// `0x1` success, `0x0` failure.
    pub status: U64,
    /// Target (`null` for creation).
    pub to: Option<Address>,
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Position in the block.
    pub transaction_index: U64,
    /// EIP-2718 type.
    #[serde(rename = "type")]
    pub tx_type: U64,
}

/// A stored transaction, decoded into one of the types the chain holds.
#[derive(Debug, Clone)]
pub(crate) enum ChainTx {
    Suave(Box<SuaveTransaction>),
    Ethereum(Box<TxEnvelope>),
}

impl ChainTx {
    /// Decodes a stored transaction. A `0x43` is refused (it can never be stored; if it were,
    /// serving it would expose confidential inputs).
    pub(crate) fn decode(tx: &StoredTx) -> EthResult<Self> {
        match tx.envelope()? {
            SuaveTxEnvelope::Suave(s) => Ok(Self::Suave(Box::new(s))),
            SuaveTxEnvelope::Ethereum(e) => Ok(Self::Ethereum(Box::new(e))),
            SuaveTxEnvelope::ConfidentialRequest(_) => Err(EthApiError::Internal(
                "a confidential request is in chain storage".into(),
            )),
        }
    }

    pub(crate) fn tx_type(&self) -> u8 {
        match self {
            Self::Suave(_) => SuaveTransaction::TX_TYPE,
            Self::Ethereum(e) => e.tx_type() as u8,
        }
    }

    pub(crate) fn nonce(&self) -> u64 {
        match self {
            Self::Suave(s) => s.record.nonce,
            Self::Ethereum(e) => e.nonce(),
        }
    }

    pub(crate) fn to(&self) -> Option<Address> {
        match self {
            Self::Suave(s) => s.record.to,
            Self::Ethereum(e) => e.to(),
        }
    }

    /// Price per gas paid in a block with `base_fee` (fee cap while pending).
    pub(crate) fn effective_gas_price(&self, base_fee: Option<u64>) -> u128 {
        match self {
            Self::Suave(s) => saturating_u128(s.record.gas_price),
            Self::Ethereum(e) => e.effective_gas_price(base_fee),
        }
    }

    /// What the block producer earned per gas above `base_fee` (`None` if underpriced).
    pub(crate) fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        match self {
            Self::Suave(s) => saturating_u128(s.record.gas_price).checked_sub(u128::from(base_fee)),
            Self::Ethereum(e) => e.effective_tip_per_gas(base_fee),
        }
    }

    /// The RPC form, sent by `from`.
    pub(crate) fn into_rpc(self, from: Address, block: Option<&TxBlockInfo>) -> RpcTransaction {
        match self {
            Self::Suave(s) => {
                RpcTransaction::Suave(Box::new(SuaveRpcTransaction::new(&s, from, block)))
            }
            Self::Ethereum(e) => {
                let effective_gas_price =
                    Some(e.effective_gas_price(block.and_then(|b| b.base_fee)));
                RpcTransaction::Ethereum(Box::new(Transaction {
                    inner: Recovered::new_unchecked(*e, from),
                    block_hash: block.map(|b| b.block_hash),
                    block_number: block.map(|b| b.block_number),
                    transaction_index: block.map(|b| b.index),
                    effective_gas_price,
                    block_timestamp: None,
                }))
            }
        }
    }
}

fn saturating_u128(v: U256) -> u128 {
    u128::try_from(v).unwrap_or(u128::MAX)
}

/// The RPC form of a stored transaction.
pub(crate) fn rpc_transaction(
    tx: &StoredTx,
    block: Option<&TxBlockInfo>,
) -> EthResult<RpcTransaction> {
    Ok(ChainTx::decode(tx)?.into_rpc(tx.sender, block))
}

/// Position info of transaction `index` of `block`.
pub(crate) fn tx_block_info(block: &SealedBlock, index: usize) -> TxBlockInfo {
    TxBlockInfo {
        block_hash: block.hash,
        block_number: block.header.number,
        index: index as u64,
        base_fee: block.header.base_fee_per_gas,
    }
}

/// The RPC header of a block (without size).
pub(crate) fn rpc_header(block: &SealedBlock) -> Header {
    Header {
        hash: block.hash,
        inner: block.header.clone(),
        total_difficulty: None,
        size: None,
    }
}

/// The RPC form of a block, with full transactions or hashes.
pub(crate) fn rpc_block(block: &SealedBlock, full: bool) -> EthResult<Block<RpcTransaction>> {
    let transactions = if full {
        let txs = block
            .transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| rpc_transaction(tx, Some(&tx_block_info(block, i))))
            .collect::<EthResult<Vec<_>>>()?;
        BlockTransactions::Full(txs)
    } else {
        BlockTransactions::Hashes(block.transactions.iter().map(StoredTx::hash).collect())
    };
    let mut header = rpc_header(block);
    header.size = Some(U256::from(block_size(block)));
    Ok(Block {
        header,
        uncles: Vec::new(),
        transactions,
        withdrawals: None,
    })
}

/// RLP length of the block `[header, transactions, ommers]` (typed transactions are RLP
/// strings holding their EIP-2718 bytes, legacy ones are lists).
fn block_size(block: &SealedBlock) -> usize {
    use alloy_rlp::Encodable;
    let txs_payload: usize = block
        .transactions
        .iter()
        .map(|tx| match tx.raw().first() {
            Some(b) if *b >= 0xc0 => tx.raw().len(),
            _ => tx.raw()[..].length(),
        })
        .sum();
    let txs_len = alloy_rlp::length_of_length(txs_payload) + txs_payload;
    let payload = block.header.length() + txs_len + 1;
    alloy_rlp::length_of_length(payload) + payload
}

/// Logs of each transaction of `block` in RPC form (block-wide log indices).
pub(crate) fn block_logs(block: &SealedBlock) -> Vec<Vec<Log>> {
    let mut log_index = 0u64;
    block
        .receipts
        .iter()
        .zip(&block.transactions)
        .enumerate()
        .map(|(i, (receipt, tx))| {
            let hash = tx.hash();
            receipt
                .logs
                .iter()
                .map(|log| {
                    let rpc = Log {
                        inner: log.clone(),
                        block_hash: Some(block.hash),
                        block_number: Some(block.header.number),
                        block_timestamp: Some(block.header.timestamp),
                        transaction_hash: Some(hash),
                        transaction_index: Some(i as u64),
                        log_index: Some(log_index),
                        removed: false,
                    };
                    log_index += 1;
                    rpc
                })
                .collect()
        })
        .collect()
}

/// Receipts of every transaction of `block`.
pub(crate) fn block_receipts(block: &SealedBlock) -> EthResult<Vec<RpcReceipt>> {
    let logs = block_logs(block);
    let mut previous_cumulative = 0u64;
    let mut out = Vec::with_capacity(block.receipts.len());
    for (i, ((receipt, tx), logs)) in block
        .receipts
        .iter()
        .zip(&block.transactions)
        .zip(logs)
        .enumerate()
    {
        let decoded = ChainTx::decode(tx)?;
        let to = decoded.to();
        let contract_address = match to {
            None => Some(tx.sender.create(decoded.nonce())),
            Some(_) => None,
        };
        out.push(RpcReceipt {
            block_hash: block.hash,
            block_number: U64::from(block.header.number),
            contract_address,
            cumulative_gas_used: U64::from(receipt.cumulative_gas_used),
            effective_gas_price: U256::from(
                decoded.effective_gas_price(block.header.base_fee_per_gas),
            ),
            from: tx.sender,
            gas_used: U64::from(
                receipt
                    .cumulative_gas_used
                    .saturating_sub(previous_cumulative),
            ),
            logs,
            logs_bloom: receipt.bloom(),
            status: U64::from(u8::from(receipt.success)),
            to,
            transaction_hash: tx.hash(),
            transaction_index: U64::from(i),
            tx_type: U64::from(decoded.tx_type()),
        });
        previous_cumulative = receipt.cumulative_gas_used;
    }
    Ok(out)
}

/// Arguments of `eth_call` / `eth_estimateGas`: a standard transaction request plus
/// suave-geth's confidential keys (SUAVE-COMPAT §7.1).
///
/// `isConfidential` is also accepted as `IsConfidential` (the spec's spelling), and
/// `kettleAddress` as `KettleAddress`.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallArgs {
    /// The standard fields (`from`, `to`, `gas`, `gasPrice`, `value`, `input`/`data`, ...).
    #[serde(flatten)]
    pub tx: TransactionRequest,
    /// Run in the MEVM with the SUAVE precompiles.
    #[serde(default, alias = "IsConfidential")]
    pub is_confidential: Option<bool>,
    /// The kettle to run on (default: this node's first kettle address).
    #[serde(default, alias = "KettleAddress")]
    pub kettle_address: Option<Address>,
    /// Confidential inputs of the request. Never logged.
    #[serde(default)]
    pub confidential_inputs: Option<Bytes>,
}

impl fmt::Debug for CallArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallArgs")
            .field("tx", &self.tx)
            .field("is_confidential", &self.is_confidential)
            .field("kettle_address", &self.kettle_address)
            .field(
                "confidential_inputs",
                &self
                    .confidential_inputs
                    .as_ref()
                    .map(|i| format!("<{} bytes redacted>", i.len())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::TxKind;

    #[test]
    fn call_args_accept_confidential_keys_in_both_spellings() {
        let args: CallArgs = serde_json::from_str(
            r#"{"from":"0x0000000000000000000000000000000000000001",
                "to":"0x0000000000000000000000000000000042010000",
                "gas":"0x0f4240","gasPrice":"0x1","input":"0x1234",
                "isConfidential":true,
                "kettleAddress":"0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F",
                "confidentialInputs":"0xdeadbeef"}"#,
        )
        .expect("parse");
        assert_eq!(args.is_confidential, Some(true));
        assert_eq!(args.tx.gas, Some(1_000_000));
        assert_eq!(
            args.tx.to,
            Some(TxKind::Call(Address::from_word(B256::left_padding_from(
                &[0x42, 1, 0, 0]
            ))))
        );
        assert_eq!(
            args.tx.input.input().map(|b| b.to_vec()),
            Some(vec![0x12, 0x34])
        );
        assert_eq!(
            args.confidential_inputs.as_ref().map(|b| b.to_vec()),
            Some(vec![0xde, 0xad, 0xbe, 0xef])
        );
        assert!(!format!("{args:?}").contains("deadbeef"));

        let args: CallArgs =
            serde_json::from_str(r#"{"IsConfidential":true,"data":"0x01"}"#).expect("parse");
        assert_eq!(args.is_confidential, Some(true));
        assert_eq!(args.kettle_address, None);

        let plain: CallArgs = serde_json::from_str(r#"{"to":null}"#).expect("parse");
        assert_eq!(plain.is_confidential, None);
        assert!(serde_json::from_str::<CallArgs>(r#"{"gas":"zz"}"#).is_err());
    }
}
