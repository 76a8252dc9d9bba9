//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{Address, Bytes};
use kettle_primitives::{DataId, DataRecord};
use kettle_store::{EncryptedStore, KettleSecret, StoreLimits, StoreOptions};
use suave_precompiles::{StoreWrite, StoreWriteSet};

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
