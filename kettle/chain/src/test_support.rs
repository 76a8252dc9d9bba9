//! Helpers of this crate's unit tests: the dev chain on a fresh RocksDB, its funded user and
//! signed transactions.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_primitives::{SuaveTxEnvelope, DEV_KETTLE_ADDRESS};

use crate::{db, Chain, ChainSpec, PoolLimits};

/// Key of the dev chain's funded user.
pub(crate) const USER_KEY: &str =
    "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";
/// Key of the dev kettle (funded too).
pub(crate) const KETTLE_KEY: &str =
    "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
/// Initcode deploying `PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP` (stores word 0 of calldata
/// in slot 0).
pub(crate) const STORE_INITCODE: &str = "6007600c60003960076000f360003560005500";

pub(crate) fn key(hex_key: &str) -> PrivateKeySigner {
    hex_key.parse().expect("key")
}

/// The dev chain on the RocksDB at `dir` (created if missing).
pub(crate) fn open(dir: &std::path::Path) -> Chain {
    let db = db::open_db(dir, &[]).expect("open db");
    Chain::open(
        db,
        ChainSpec::dev(DEV_KETTLE_ADDRESS),
        PoolLimits::default(),
    )
    .expect("open chain")
}

/// A signed EIP-1559 transaction on the dev chain (gas 200 000, fee cap 2 gwei, tip 7 wei).
pub(crate) fn eip1559(
    key: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: u64,
    input: Vec<u8>,
) -> SuaveTxEnvelope {
    let tx = TxEip1559 {
        chain_id: 16_813_125,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 7,
        to,
        value: U256::from(value),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    SuaveTxEnvelope::Ethereum(TxEnvelope::from(tx.into_signed(sig)))
}
