//! The bindings generated from OUR compiled ABI (contracts/out) reproduce the bytes of the real
//! SUAVE client library: `tests/fixtures/abi.json` is a copy of `shared/vectors/abi.json`,
//! produced by `@flashbots/suave-viem` 1.15.1.

use alloy_primitives::{hex, Address, Bytes, FixedBytes};
use alloy_sol_types::{SolCall, SolError};
use kettle_contracts::{
    precompiles::SuavePrecompiles::{
        confidentialRetrieveCall, confidentialStoreCall, contextGetCall, fetchDataRecordsCall,
        newDataRecordCall, randomBytesCall, signMessageCall,
    },
    CryptoSignature, DataRecord, PeekerReverted,
};
use serde_json::Value;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/abi.json")).expect("fixture is JSON")
}

/// The vector with the given id.
fn vector(id: &str) -> Value {
    let all = fixtures();
    all["vectors"]
        .as_array()
        .expect("vectors array")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
        .clone()
}

fn encoded(v: &Value) -> Vec<u8> {
    hex::decode(v["encoded"].as_str().expect("encoded is a string")).expect("encoded is hex")
}

fn bytes(v: &Value) -> Bytes {
    hex::decode(v.as_str().expect("hex string"))
        .expect("hex")
        .into()
}

fn address(v: &Value) -> Address {
    v.as_str()
        .expect("address string")
        .parse()
        .expect("address")
}

fn addresses(v: &Value) -> Vec<Address> {
    v.as_array()
        .expect("address array")
        .iter()
        .map(address)
        .collect()
}

fn bytes16(v: &Value) -> FixedBytes<16> {
    v.as_str()
        .expect("bytes16 string")
        .parse()
        .expect("bytes16")
}

fn string(v: &Value) -> String {
    v.as_str().expect("string").to_owned()
}

/// Integers are decimal strings in the fixtures, except small ones that are JSON numbers.
fn u64_of(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().expect("decimal u64"),
        other => other.as_u64().expect("u64"),
    }
}

fn data_record(v: &Value) -> DataRecord {
    DataRecord {
        id: bytes16(&v["id"]),
        salt: bytes16(&v["salt"]),
        decryptionCondition: u64_of(&v["decryptionCondition"]),
        allowedPeekers: addresses(&v["allowedPeekers"]),
        allowedStores: addresses(&v["allowedStores"]),
        version: string(&v["version"]),
    }
}

/// Parameter encoding of a call: `abi.encode(args…)`, what a precompile receives.
fn precompile_input<C: SolCall>(call: &C) -> Vec<u8> {
    call.abi_encode()[4..].to_vec()
}

#[test]
fn fixture_is_the_shared_vector_file() {
    let all = fixtures();
    assert_eq!(all["libraries"]["@flashbots/suave-viem"], "1.15.1");
    assert_eq!(all["generator"], "generate.mjs");
}

#[test]
fn data_record_is_the_new_data_record_output() {
    let v = vector("dataRecord");
    let record = data_record(&v["values"][0]);
    let want = encoded(&v);
    assert_eq!(newDataRecordCall::abi_encode_returns(&record), want);
    assert_eq!(
        newDataRecordCall::abi_decode_returns(&want).unwrap(),
        record
    );
}

#[test]
fn data_record_array_is_the_fetch_data_records_output() {
    let v = vector("dataRecordArray");
    let records: Vec<DataRecord> = v["values"][0]
        .as_array()
        .expect("records")
        .iter()
        .map(data_record)
        .collect();
    assert_eq!(records.len(), 2);
    let want = encoded(&v);
    assert_eq!(fetchDataRecordsCall::abi_encode_returns(&records), want);
    assert_eq!(
        fetchDataRecordsCall::abi_decode_returns(&want).unwrap(),
        records
    );
}

#[test]
fn new_data_record_input() {
    let v = vector("newDataRecord.input");
    let values = &v["values"];
    let call = newDataRecordCall {
        decryptionCondition: u64_of(&values[0]),
        allowedPeekers: addresses(&values[1]),
        allowedStores: addresses(&values[2]),
        dataType: string(&values[3]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(newDataRecordCall::abi_decode_raw(&want).unwrap(), call);
}

#[test]
fn fetch_data_records_input() {
    let v = vector("fetchDataRecords.input");
    let values = &v["values"];
    let call = fetchDataRecordsCall {
        cond: u64_of(&values[0]),
        namespace: string(&values[1]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(fetchDataRecordsCall::abi_decode_raw(&want).unwrap(), call);
}

#[test]
fn confidential_store_input() {
    let v = vector("confidentialStore.input");
    let values = &v["values"];
    let call = confidentialStoreCall {
        dataId: bytes16(&values[0]),
        key: string(&values[1]),
        value: bytes(&values[2]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(confidentialStoreCall::abi_decode_raw(&want).unwrap(), call);
}

#[test]
fn confidential_retrieve_input() {
    let v = vector("confidentialRetrieve.input");
    let values = &v["values"];
    let call = confidentialRetrieveCall {
        dataId: bytes16(&values[0]),
        key: string(&values[1]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(
        confidentialRetrieveCall::abi_decode_raw(&want).unwrap(),
        call
    );
}

#[test]
fn context_get_input_and_kettle_address_output() {
    let v = vector("contextGet.input");
    let call = contextGetCall {
        key: string(&v["values"][0]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(contextGetCall::abi_decode_raw(&want).unwrap(), call);

    let v = vector("contextGet.output.kettleAddress");
    let value = bytes(&v["values"][0]);
    assert_eq!(value.len(), 20);
    let want = encoded(&v);
    assert_eq!(contextGetCall::abi_encode_returns(&value), want);
    assert_eq!(contextGetCall::abi_decode_returns(&want).unwrap(), value);
}

#[test]
fn random_bytes_input_and_output() {
    let v = vector("randomBytes.input");
    let num_bytes = u8::try_from(u64_of(&v["values"][0])).expect("uint8");
    let call = randomBytesCall {
        numBytes: num_bytes,
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(randomBytesCall::abi_decode_raw(&want).unwrap(), call);

    let v = vector("randomBytes.output.format");
    let value = bytes(&v["values"][0]);
    let want = encoded(&v);
    assert_eq!(randomBytesCall::abi_encode_returns(&value), want);
    assert_eq!(randomBytesCall::abi_decode_returns(&want).unwrap(), value);
}

#[test]
fn sign_message_input() {
    let v = vector("signMessage.input");
    let values = &v["values"];
    let crypto = u8::try_from(u64_of(&values[1])).expect("uint8");
    assert_eq!(crypto, 0, "the vector uses CryptoSignature.SECP256");
    let call = signMessageCall {
        digest: bytes(&values[0]),
        crypto,
        signingKey: string(&values[2]),
    };
    let want = encoded(&v);
    assert_eq!(precompile_input(&call), want);
    assert_eq!(signMessageCall::abi_decode_raw(&want).unwrap(), call);
    // The enum travels as its uint8 ordinal.
    assert_eq!(
        CryptoSignature::from_underlying(crypto).into_underlying(),
        0
    );
}

#[test]
fn peeker_reverted_error() {
    let v = vector("PeekerReverted.error");
    assert_eq!(v["signature"], PeekerReverted::SIGNATURE);
    assert_eq!(
        hex::decode(v["selector"].as_str().unwrap()).unwrap(),
        PeekerReverted::SELECTOR
    );
    assert_eq!(PeekerReverted::SELECTOR, hex!("75fff467"));
    let args = &v["args"];
    let error = PeekerReverted {
        _0: address(&args[0]),
        _1: args[1]
            .as_str()
            .expect("message")
            .as_bytes()
            .to_vec()
            .into(),
    };
    let want = encoded(&v);
    assert_eq!(error.abi_encode(), want);
    assert_eq!(PeekerReverted::abi_decode(&want).unwrap(), error);
}
