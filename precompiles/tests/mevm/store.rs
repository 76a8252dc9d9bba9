//! newDataRecord, fetchDataRecords, confidentialStore, confidentialRetrieve: encodings, access
//! control through the caller stack, a full SUAPP flow, and the log carrier.

use alloy_primitives::{keccak256, Address, Bytes, FixedBytes, LogData, B256};
use alloy_sol_types::{SolCall, SolEvent};
use kettle_contracts::{
    emit_logs::EmitLogs, forwarder::Forwarder, precompiles::SuavePrecompiles,
    store_suapp::StoreSuapp, suave_abi_check::SuaveAbiCheck,
};
use kettle_primitives::{DataId, DataRecord, ANYALLOWED, DEV_KETTLE_ADDRESS};
use suave_precompiles::{
    addresses, callback, ConfidentialStore, RequestKind, StoreWrite, StoreWriteSet,
};

use crate::common::*;

fn commit_record(h: &Harness, salt: u8, cond: u64, ns: &str, peekers: Vec<Address>) -> DataRecord {
    let record = DataRecord::new(
        DataId::repeat_byte(salt),
        cond,
        peekers,
        vec![DEV_KETTLE_ADDRESS],
        ns.into(),
    );
    h.store
        .commit(&StoreWriteSet {
            records: vec![record.clone()],
            writes: vec![],
        })
        .unwrap();
    record
}

fn commit_value(h: &Harness, record: &DataRecord, key: &str, value: &[u8]) {
    h.store
        .commit(&StoreWriteSet {
            records: vec![],
            writes: vec![StoreWrite {
                id: record.id,
                key: key.into(),
                value: Bytes::copy_from_slice(value),
                caller: Address::ZERO,
            }],
        })
        .unwrap();
}

fn abi_record(r: &DataRecord) -> kettle_contracts::DataRecord {
    kettle_contracts::DataRecord {
        id: FixedBytes(r.id.0),
        salt: FixedBytes(r.salt.0),
        decryptionCondition: r.decryption_condition,
        allowedPeekers: r.allowed_peekers.clone(),
        allowedStores: r.allowed_stores.clone(),
        version: r.version.clone(),
    }
}

#[test]
fn new_data_record_layout_and_nothing_committed() {
    let h = Harness::new();
    let peeker = Address::repeat_byte(0x0a);
    let user_store = Address::repeat_byte(0x0b);
    let call = SuaveAbiCheck::newDataRecordCall {
        decryptionCondition: 16103213,
        allowedPeekers: vec![peeker, ANYALLOWED],
        allowedStores: vec![user_store],
        dataType: "default:v0:ethBundles".into(),
    };
    let out = h.call_sol(ABI_CHECK, &call).unwrap();
    let record = returns::<SuaveAbiCheck::newDataRecordCall>(&out);
    // Kettle accounts are appended to the user's stores; the id is derived after that.
    assert_eq!(record.allowedStores, vec![user_store, DEV_KETTLE_ADDRESS]);
    assert_eq!(record.allowedPeekers, vec![peeker, ANYALLOWED]);
    assert_eq!(record.decryptionCondition, 16103213);
    let salt = record.salt.0;
    assert_eq!(salt[6] >> 4, 4, "UUIDv4 version nibble");
    assert_eq!(salt[8] >> 6, 0b10, "RFC 4122 variant");
    let expected = DataRecord::new(
        DataId::from(salt),
        16103213,
        vec![peeker, ANYALLOWED],
        vec![user_store, DEV_KETTLE_ADDRESS],
        "default:v0:ethBundles".into(),
    );
    assert_eq!(record.id.0, expected.id.0);
    // The exact output bytes are the ABI encoding of that record.
    assert_eq!(
        SuaveAbiCheck::newDataRecordCall::abi_encode_returns(&record),
        SuavePrecompiles::newDataRecordCall::abi_encode_returns(&abi_record(&expected))
    );
    assert_eq!(out.store_writes.records, vec![expected]);
    // A confidential eth_call commits nothing (§11 scenario 13).
    assert_eq!(h.store.record_count(), 0);
}

#[test]
fn fetch_data_records_exact_bytes_and_order() {
    let h = Harness::new();
    let a = commit_record(&h, 1, 16103213, "default:v0:ethBundles", vec![ANYALLOWED]);
    let b = commit_record(&h, 2, 16103213, "default:v0:ethBundles", vec![]);
    commit_record(&h, 3, 16103214, "default:v0:ethBundles", vec![]);
    commit_record(&h, 4, 16103213, "other", vec![]);
    let expected = SuavePrecompiles::fetchDataRecordsCall::abi_encode_returns(&vec![
        abi_record(&a),
        abi_record(&b),
    ]);

    // A request sent straight to the precompile returns its output as the callback (§11
    // scenario 3): the output is not a `bytes` of 4 mod 32 bytes.
    let input = SuavePrecompiles::fetchDataRecordsCall {
        cond: 16103213,
        namespace: "default:v0:ethBundles".into(),
    }
    .abi_encode()[4..]
        .to_vec();
    let out = h.call(addresses::FETCH_DATA_RECORDS, input, &[]).unwrap();
    assert_eq!(out.raw_return, Bytes::from(expected.clone()));
    assert_eq!(out.callback_calldata, Bytes::from(expected));

    // Through Suave.sol: committed records in insertion order.
    let out = h
        .call_sol(
            ABI_CHECK,
            &SuaveAbiCheck::fetchDataRecordsCall {
                cond: 16103213,
                namespace: "default:v0:ethBundles".into(),
            },
        )
        .unwrap();
    let got = returns::<SuaveAbiCheck::fetchDataRecordsCall>(&out);
    assert_eq!(
        SuaveAbiCheck::fetchDataRecordsCall::abi_encode_returns(&got),
        SuavePrecompiles::fetchDataRecordsCall::abi_encode_returns(&vec![
            abi_record(&a),
            abi_record(&b)
        ])
    );
}

#[test]
fn store_suapp_round_trip_callback_and_commit() {
    let h = Harness::new();
    let inputs = b"bundle bytes only the kettle sees";
    let out = h
        .call(
            STORE_SUAPP,
            StoreSuapp::storeAndRetrieveCall { cond: 5 }.abi_encode(),
            inputs,
        )
        .unwrap();
    // One record, one write by the SUAPP itself.
    let [record] = out.store_writes.records.as_slice() else {
        panic!("one record")
    };
    assert_eq!(record.allowed_peekers, vec![STORE_SUAPP]);
    assert_eq!(record.version, "kettle:test:store");
    assert_eq!(
        out.store_writes.writes,
        vec![StoreWrite {
            id: record.id,
            key: "secret".into(),
            value: Bytes::copy_from_slice(inputs),
            caller: STORE_SUAPP
        }]
    );
    // No logs: the callback calldata is exactly onStored(id, keccak(inputs)).
    let expected = StoreSuapp::onStoredCall {
        id: FixedBytes(record.id.0),
        digest: keccak256(inputs),
    }
    .abi_encode();
    assert_eq!(out.callback_calldata, Bytes::from(expected));
    assert!(out.logs.is_empty());

    // After commit, another request reads the committed value.
    h.commit(&out);
    let read = StoreSuapp::retrieveCall {
        id: FixedBytes(record.id.0),
        key: "secret".into(),
    };
    let out2 = h.call_sol(STORE_SUAPP, &read).unwrap();
    assert_eq!(
        returns::<StoreSuapp::retrieveCall>(&out2),
        Bytes::copy_from_slice(inputs)
    );
    // Records are listed by fetchDataRecords after commit.
    assert_eq!(
        h.store
            .records_by_condition(5, "kettle:test:store")
            .unwrap(),
        vec![record.clone()]
    );
}

#[test]
fn log_carrier_shape_with_logs() {
    let h = Harness::new();
    let inputs = b"x";
    let out = h
        .call(
            STORE_SUAPP,
            StoreSuapp::storeRetrieveAndLogCall { cond: 5 }.abi_encode(),
            inputs,
        )
        .unwrap();
    let record = &out.store_writes.records[0];
    let id = FixedBytes(record.id.0);
    let callback = StoreSuapp::onStoredCall {
        id,
        digest: keccak256(inputs),
    }
    .abi_encode();
    let staged = StoreSuapp::Staged { id };
    assert_eq!(out.logs.len(), 1);
    assert_eq!(out.logs[0].address, STORE_SUAPP);
    assert_eq!(out.logs[0].data, staged.encode_log_data());
    // calldata ‖ 0x543543 ‖ abi.encode(Log[])
    let mut expected = callback.clone();
    expected.extend_from_slice(&[0x54, 0x35, 0x43]);
    expected.extend_from_slice(&callback::encode_logs(&out.logs));
    assert_eq!(out.callback_calldata, Bytes::from(expected));
    assert_eq!(
        &out.callback_calldata[..callback.len()],
        callback.as_slice()
    );
    assert_eq!(
        callback::decode_carried_logs(&out.callback_calldata).unwrap(),
        out.logs
    );
}

#[test]
fn log_carrier_matches_the_suave_std_five_log_vector() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../contracts/tests/fixtures/abi.json")).unwrap();
    let vector = fixture["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "execResult.logs")
        .unwrap();
    let encoded = alloy_primitives::hex::decode(vector["encoded"].as_str().unwrap()).unwrap();

    let h = Harness::new();
    let out = h.call_sol(EMIT_LOGS, &EmitLogs::emitLogsCall {}).unwrap();
    assert_eq!(out.logs.len(), 5);
    for (i, log) in out.logs.iter().enumerate() {
        assert_eq!(log.address, EMIT_LOGS);
        assert_eq!(log.topics().len(), i, "log {i} has {i} topics");
    }
    let mut expected = EmitLogs::emitLogsCallbackCall::SELECTOR.to_vec();
    expected.extend_from_slice(&[0x54, 0x35, 0x43]);
    expected.extend_from_slice(&encoded);
    assert_eq!(out.callback_calldata, Bytes::from(expected));
    // Decoding gives the logs back, topics and data intact.
    let decoded = callback::decode_carried_logs(&out.callback_calldata).unwrap();
    assert_eq!(
        decoded[4].data,
        LogData::new_unchecked(
            vec![
                "0xb1b8bb6d3c04a82bd66f1d7dbecf2754edafb96d47af76845f87c5245afaec2d"
                    .parse::<B256>()
                    .unwrap(),
                B256::with_last_byte(1),
                B256::with_last_byte(2),
                B256::with_last_byte(3),
            ],
            B256::with_last_byte(3).0.to_vec().into(),
        )
    );
}

#[test]
fn wrong_peeker_is_refused_with_upstream_message() {
    let h = Harness::new();
    let record = commit_record(&h, 1, 1, "ns", vec![Address::repeat_byte(0x99)]);
    commit_value(&h, &record, "k", b"v");
    let id = hex_plain(record.id.as_slice());
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::confidentialRetrieveCall {
            dataId: FixedBytes(record.id.0),
            key: "k".into(),
        },
    );
    assert_eq!(
        peeker_error(err),
        format!("execution reverted: precompile '0x0000000000000000000000000000000042020001' reverted: 'no caller of confidentialRetrieve (0000000000000000000000000000000042020001) is allowed on {id}'")
    );
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::confidentialStoreCall {
            dataId: FixedBytes(record.id.0),
            key: "k".into(),
            value: Bytes::new(),
        },
    );
    assert_eq!(
        peeker_error(err),
        format!("execution reverted: precompile '0x0000000000000000000000000000000042020000' reverted: 'no caller of confidentialStore (0000000000000000000000000000000042020000) is allowed on {id}'")
    );
}

#[test]
fn unknown_record_and_missing_key() {
    let h = Harness::new();
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::confidentialStoreCall {
            dataId: FixedBytes([7; 16]),
            key: "k".into(),
            value: Bytes::new(),
        },
    );
    assert_eq!(
        peeker_error(err),
        "execution reverted: precompile '0x0000000000000000000000000000000042020000' reverted: 'data record not found'"
    );
    let record = commit_record(&h, 1, 1, "ns", vec![ANYALLOWED]);
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::confidentialRetrieveCall {
            dataId: FixedBytes(record.id.0),
            key: "missing".into(),
        },
    );
    assert_eq!(
        peeker_error(err),
        "execution reverted: precompile '0x0000000000000000000000000000000042020001' reverted: 'data for key missing not found'"
    );
}

#[test]
fn retrieve_output_is_raw_and_exact() {
    let h = Harness::new();
    let record = commit_record(&h, 1, 1, "ns", vec![FORWARDER]);
    commit_value(&h, &record, "k", b"\x00\x01raw");
    let raw = Forwarder::rawCallCall {
        target: addresses::CONFIDENTIAL_RETRIEVE,
        data: SuavePrecompiles::confidentialRetrieveCall {
            dataId: FixedBytes(record.id.0),
            key: "k".into(),
        }
        .abi_encode()[4..]
            .to_vec()
            .into(),
    };
    let r = returns::<Forwarder::rawCallCall>(&h.call_sol(FORWARDER, &raw).unwrap());
    assert!(r.ok);
    assert_eq!(r.ret, Bytes::from_static(b"\x00\x01raw"));
}

/// Caller stack through CALL and DELEGATECALL: Forwarder → SuaveAbiCheck → precompile.
#[test]
fn caller_stack_and_effective_caller() {
    let h = Harness::new();
    let store_via = |record: &DataRecord, delegate: bool| {
        let inner = SuaveAbiCheck::confidentialStoreCall {
            dataId: FixedBytes(record.id.0),
            key: "k".into(),
            value: Bytes::from_static(b"v"),
        };
        let fwd = Forwarder::forwardCall {
            target: ABI_CHECK,
            data: inner.abi_encode().into(),
            delegate,
        };
        h.call_sol(FORWARDER, &fwd)
    };
    for delegate in [false, true] {
        // The outer contract is on the stack: allowed, and it is the effective caller.
        let r = commit_record(&h, 1 + u8::from(delegate), 1, "ns", vec![FORWARDER]);
        let out = store_via(&r, delegate).unwrap();
        assert_eq!(out.store_writes.writes[0].caller, FORWARDER);
        // Both listed: the innermost (the code address SuaveAbiCheck, also under DELEGATECALL) wins.
        let r = commit_record(
            &h,
            3 + u8::from(delegate),
            1,
            "ns",
            vec![FORWARDER, ABI_CHECK],
        );
        let out = store_via(&r, delegate).unwrap();
        assert_eq!(out.store_writes.writes[0].caller, ABI_CHECK);
        // Wildcard: the innermost non-precompile frame.
        let r = commit_record(&h, 5 + u8::from(delegate), 1, "ns", vec![ANYALLOWED]);
        let out = store_via(&r, delegate).unwrap();
        assert_eq!(out.store_writes.writes[0].caller, ABI_CHECK);
        // Nobody on the stack listed.
        let r = commit_record(&h, 7 + u8::from(delegate), 1, "ns", vec![STORE_SUAPP]);
        assert!(matches!(
            store_via(&r, delegate),
            Err(suave_precompiles::MevmError::Reverted { .. })
        ));
    }
}

#[test]
fn eth_call_and_transaction_do_not_commit() {
    let h = Harness::new();
    for kind in [RequestKind::Call, RequestKind::Transaction { sender: USER }] {
        let req = h.request(
            STORE_SUAPP,
            StoreSuapp::storeAndRetrieveCall { cond: 1 }.abi_encode(),
            b"v",
        );
        let out = h.run(&req, kind).unwrap();
        assert_eq!(out.store_writes.records.len(), 1);
    }
    assert_eq!(h.store.record_count(), 0);
    assert_eq!(h.store.value_count(), 0);
}

/// CREATE pushes the new contract on the caller stack, and its return pops it.
#[test]
fn caller_stack_across_create() {
    use kettle_contracts::probe::Probe;
    let h = Harness::new();
    // The contract Probe creates first (its nonce is 0 in this state).
    let child = PROBE.create(0);
    let record = commit_record(&h, 1, 1, "ns", vec![child]);
    commit_value(&h, &record, "k", b"for the child only");
    let call = Probe::createAndRetrieveCall {
        childId: FixedBytes(record.id.0),
        key: "k".into(),
    };
    let out = h.call_sol(PROBE, &call).unwrap();
    assert_eq!(
        returns::<Probe::createAndRetrieveCall>(&out),
        Bytes::from_static(b"for the child only")
    );
}
