//! Confidential store precompiles: `newDataRecord`, `fetchDataRecords`, `confidentialStore`,
//! `confidentialRetrieve` (SUAVE-COMPAT §4, §6.1–§6.4).
//!
//! Reads and writes go through the request's [`StoreOverlay`](crate::StoreOverlay): a request
//! sees its own staged records and writes, and nothing reaches the committed store unless the
//! node commits the request's write set. `confidentialStore` and `confidentialRetrieve` check
//! access with the caller stack ([`check_access`]); record creation and listing are open to
//! every contract, as upstream.

use alloy_primitives::{Address, Bytes, FixedBytes};
use kettle_contracts::precompiles::SuavePrecompiles::{
    confidentialRetrieveCall, confidentialStoreCall, fetchDataRecordsCall, newDataRecordCall,
};
use kettle_primitives::{DataId, DataRecord};

use super::{decode, encode, RequestEnv};
use crate::{
    addresses::{CONFIDENTIAL_RETRIEVE, CONFIDENTIAL_STORE},
    error::PrecompileError,
    stack::check_access,
    store::StoreError,
};

/// `newDataRecord(uint64, address[], address[], string) → DataRecord`.
///
/// The salt is 16 random bytes in UUIDv4 layout; the kettle's accounts are appended to the
/// allowed stores (user entries first); the id is derived after that append, as suave-geth
/// does.
pub(crate) fn new_data_record(
    input: &[u8],
    env: &mut RequestEnv<'_>,
) -> Result<Bytes, PrecompileError> {
    let call: newDataRecordCall = decode(input)?;
    let mut salt = [0u8; 16];
    crate::builtin::crypto::fill_random(&mut salt)?;
    salt[6] = (salt[6] & 0x0f) | 0x40;
    salt[8] = (salt[8] & 0x3f) | 0x80;

    let mut allowed_stores = call.allowedStores;
    allowed_stores.extend_from_slice(&env.kettle.kettle_addresses);
    let record = DataRecord::new(
        DataId::from(salt),
        call.decryptionCondition,
        call.allowedPeekers,
        allowed_stores,
        call.dataType,
    );
    env.store.create_record(record.clone())?;
    Ok(encode::<newDataRecordCall>(&to_abi(record)))
}

/// `fetchDataRecords(uint64 cond, string namespace) → DataRecord[]`: committed matches in
/// insertion order, then this request's, in creation order.
pub(crate) fn fetch_data_records(
    input: &[u8],
    env: &RequestEnv<'_>,
) -> Result<Bytes, PrecompileError> {
    let call: fetchDataRecordsCall = decode(input)?;
    let records = env.store.fetch_records(call.cond, &call.namespace)?;
    let out: Vec<_> = records.into_iter().map(to_abi).collect();
    Ok(encode::<fetchDataRecordsCall>(&out))
}

/// `confidentialStore(DataId, string key, bytes value)`: stages a write; empty output.
pub(crate) fn confidential_store(
    input: &[u8],
    stack: &[Address],
    env: &mut RequestEnv<'_>,
) -> Result<Bytes, PrecompileError> {
    let call: confidentialStoreCall = decode(input)?;
    let id = call.dataId;
    let record = fetch_record(env, id)?;
    let caller = check_access(stack, CONFIDENTIAL_STORE, &record)?;
    env.store.store(id, &call.key, call.value, caller)?;
    Ok(Bytes::new())
}

/// `confidentialRetrieve(DataId, string key) → bytes` (raw): this request's latest write,
/// else the committed value.
pub(crate) fn confidential_retrieve(
    input: &[u8],
    stack: &[Address],
    env: &RequestEnv<'_>,
) -> Result<Bytes, PrecompileError> {
    let call: confidentialRetrieveCall = decode(input)?;
    let id = call.dataId;
    let record = fetch_record(env, id)?;
    let caller = check_access(stack, CONFIDENTIAL_RETRIEVE, &record)?;
    Ok(env.store.retrieve(id, &call.key, caller)?)
}

/// A record by id, staged or committed; `data record not found` otherwise.
fn fetch_record(env: &RequestEnv<'_>, id: DataId) -> Result<DataRecord, PrecompileError> {
    env.store
        .record(&id)?
        .ok_or_else(|| StoreError::RecordNotFound(id).into())
}

/// The ABI form of a record.
pub(crate) fn to_abi(record: DataRecord) -> kettle_contracts::DataRecord {
    kettle_contracts::DataRecord {
        id: FixedBytes(record.id.0),
        salt: FixedBytes(record.salt.0),
        decryptionCondition: record.decryption_condition,
        allowedPeekers: record.allowed_peekers,
        allowedStores: record.allowed_stores,
        version: record.version,
    }
}
