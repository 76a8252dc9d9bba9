//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{keccak256, Address, Bytes, U256};
use kettle_primitives::{ConfidentialComputeRequest, DataId, DataRecord, SUAVE_DEV_CHAIN_ID};
use kettle_store::{EncryptedStore, KettleSecret, StoreLimits, StoreOptions};
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use suave_precompiles::{
    BlockContext, ConfidentialOutcome, KettleContext, Mevm, MevmError, RequestKind, StoreWrite,
    StoreWriteSet,
};

/// A SUAPP contract allowed to peek.
pub const APP: Address = Address::repeat_byte(0xa1);
/// A contract that is not.
pub const OTHER: Address = Address::repeat_byte(0xb2);
/// This kettle.
pub const KETTLE: Address = Address::repeat_byte(0x11);
/// A peer kettle.
pub const PEER: Address = Address::repeat_byte(0x22);

pub fn secret() -> KettleSecret {
    KettleSecret::from_array([0x5e; 32])
}

pub fn options() -> StoreOptions {
    StoreOptions::new(StoreLimits::default()).with_local_kettles(vec![KETTLE])
}

pub fn open(dir: &std::path::Path) -> EncryptedStore {
    options().open(dir, &secret()).expect("open store")
}

/// A record with a salt from `n`, so tests get distinct, reproducible ids.
pub fn record(
    n: u64,
    cond: u64,
    ns: &str,
    peekers: Vec<Address>,
    stores: Vec<Address>,
) -> DataRecord {
    let mut salt = [0u8; 16];
    salt[..8].copy_from_slice(&n.to_be_bytes());
    DataRecord::new(DataId::from(salt), cond, peekers, stores, ns.into())
}

pub fn write(id: DataId, key: &str, value: &[u8], caller: Address) -> StoreWrite {
    StoreWrite {
        id,
        key: key.into(),
        value: Bytes::copy_from_slice(value),
        caller,
    }
}

pub fn set(records: Vec<DataRecord>, writes: Vec<StoreWrite>) -> StoreWriteSet {
    StoreWriteSet { records, writes }
}

/// A chain state with each `(address, runtime code)` deployed: the MEVM tests' SUAPPs.
pub fn chain_with(contracts: &[(Address, &[u8])]) -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    for &(at, runtime) in contracts {
        let code = Bytes::copy_from_slice(runtime);
        db.insert_account_info(
            at,
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(code)),
                ..Default::default()
            },
        );
    }
    db
}

/// A confidential request of `data` with `inputs` to `to`, run by `kettle`'s MEVM over `store`
/// on `chain` at block 100: how the MEVM tests drive SUAPPs against the encrypted store.
pub fn run_mevm(
    store: &EncryptedStore,
    kettle: Address,
    chain: CacheDB<EmptyDB>,
    to: Address,
    data: Vec<u8>,
    inputs: &[u8],
    kind: RequestKind,
) -> Result<ConfidentialOutcome, MevmError> {
    let ctx = KettleContext::new(kettle, SUAVE_DEV_CHAIN_ID);
    let block = BlockContext {
        number: 100,
        timestamp: 1_700_000_000,
        basefee: 0,
        gas_limit: 30_000_000,
        ..Default::default()
    };
    let mut req = ConfidentialComputeRequest::default();
    req.record.to = Some(to);
    req.record.gas = 10_000_000;
    req.record.gas_price = U256::from(1_000_000_000u64);
    req.record.data = data.into();
    req.record.kettle_address = kettle;
    req.record.chain_id = U256::from(SUAVE_DEV_CHAIN_ID);
    req.confidential_inputs = Bytes::copy_from_slice(inputs);
    req.set_inputs_hash();
    Mevm::new(&ctx, store).execute(chain, &block, &req, kind)
}
