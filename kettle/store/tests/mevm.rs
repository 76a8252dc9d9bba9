//! The MEVM's store precompiles against the encrypted store (not only the in-memory one):
//! real Solidity SUAPPs run through `suave_precompiles::Mevm`, their write sets committed
//! through [`kettle_store::EncryptedStore`], read back after a reopen.

mod common;

use alloy_primitives::{address, Address, Bytes, FixedBytes, U256};
use alloy_sol_types::SolCall;
use common::*;
use kettle_contracts::{store_suapp::StoreSuapp, suave_abi_check::SuaveAbiCheck};
use kettle_primitives::{DEV_KETTLE_ADDRESS, DEV_USER_ADDRESS};
use kettle_store::EncryptedStore;
use revm::database::{CacheDB, EmptyDB};
use revm::state::AccountInfo;
use suave_precompiles::{ConfidentialOutcome, ConfidentialStore, MevmError, RequestKind};

const STORE_SUAPP: Address = address!("0x000000000000000000000000000000000000b0b0");
const ABI_CHECK: Address = address!("0x000000000000000000000000000000000000a0a0");

fn chain() -> CacheDB<EmptyDB> {
    let mut db = chain_with(&[
        (STORE_SUAPP, &StoreSuapp::DEPLOYED_BYTECODE[..]),
        (ABI_CHECK, &SuaveAbiCheck::DEPLOYED_BYTECODE[..]),
    ]);
    db.insert_account_info(
        DEV_USER_ADDRESS,
        AccountInfo {
            balance: U256::from(10u128.pow(22)),
            ..Default::default()
        },
    );
    db
}

fn run(
    store: &EncryptedStore,
    to: Address,
    data: Vec<u8>,
    inputs: &[u8],
    kind: RequestKind,
) -> Result<ConfidentialOutcome, MevmError> {
    run_mevm(store, DEV_KETTLE_ADDRESS, chain(), to, data, inputs, kind)
}

#[test]
fn store_suapp_commits_through_the_encrypted_store_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = b"bundle bytes only the kettle sees";
    let record = {
        let store = open(dir.path());
        let out = run(
            &store,
            STORE_SUAPP,
            StoreSuapp::storeAndRetrieveCall { cond: 5 }.abi_encode(),
            inputs,
            RequestKind::Transaction {
                sender: DEV_USER_ADDRESS,
            },
        )
        .unwrap();
        let [record] = out.store_writes.records.as_slice() else {
            panic!("one record")
        };
        assert_eq!(out.store_writes.writes[0].caller, STORE_SUAPP);
        // The node accepts the request: one atomic commit.
        store.commit(&out.store_writes).unwrap();
        record.clone()
    };

    let store = open(dir.path());
    let read = StoreSuapp::retrieveCall {
        id: FixedBytes(record.id.0),
        key: "secret".into(),
    };
    let out = run(
        &store,
        STORE_SUAPP,
        read.abi_encode(),
        &[],
        RequestKind::Call,
    )
    .unwrap();
    let got = StoreSuapp::retrieveCall::abi_decode_returns(&out.raw_return).unwrap();
    assert_eq!(got, Bytes::copy_from_slice(inputs));
    assert_eq!(
        store.records_by_condition(5, "kettle:test:store").unwrap(),
        vec![record.clone()]
    );
    assert_eq!(
        store.retrieve(&record.id, "secret", STORE_SUAPP).unwrap(),
        Bytes::copy_from_slice(inputs)
    );
    assert!(store.verify().unwrap().problems.is_empty());
}

#[test]
fn runs_that_are_not_committed_leave_the_store_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for kind in [
        RequestKind::Call,
        RequestKind::Transaction {
            sender: DEV_USER_ADDRESS,
        },
    ] {
        let out = run(
            &store,
            STORE_SUAPP,
            StoreSuapp::storeAndRetrieveCall { cond: 1 }.abi_encode(),
            b"v",
            kind,
        )
        .unwrap();
        assert_eq!(out.store_writes.records.len(), 1);
    }
    let report = store.verify().unwrap();
    assert_eq!((report.records, report.values), (0, 0));
}

#[test]
fn precompiles_see_committed_records_and_enforce_peekers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let outsider = Address::repeat_byte(0x99);
    let a = record(
        1,
        16103213,
        "default:v0:ethBundles",
        vec![outsider],
        vec![DEV_KETTLE_ADDRESS],
    );
    let b = record(
        2,
        16103213,
        "default:v0:ethBundles",
        vec![outsider],
        vec![DEV_KETTLE_ADDRESS],
    );
    store
        .commit_local(&set(
            vec![a.clone(), b.clone()],
            vec![write(a.id, "k", b"v", outsider)],
        ))
        .unwrap();

    // fetchDataRecords: committed records in insertion order.
    let fetch = SuaveAbiCheck::fetchDataRecordsCall {
        cond: 16103213,
        namespace: "default:v0:ethBundles".into(),
    };
    let out = run(
        &store,
        ABI_CHECK,
        fetch.abi_encode(),
        &[],
        RequestKind::Call,
    )
    .unwrap();
    let got = SuaveAbiCheck::fetchDataRecordsCall::abi_decode_returns(&out.raw_return).unwrap();
    let ids: Vec<_> = got.iter().map(|r| r.id.0).collect();
    assert_eq!(ids, vec![a.id.0, b.id.0]);

    // confidentialRetrieve by a contract that is not a peeker reverts with upstream's message.
    let retrieve = SuaveAbiCheck::confidentialRetrieveCall {
        dataId: FixedBytes(a.id.0),
        key: "k".into(),
    };
    match run(
        &store,
        ABI_CHECK,
        retrieve.abi_encode(),
        &[],
        RequestKind::Call,
    ) {
        Err(err @ MevmError::Reverted { .. }) => {
            assert!(
                err.to_string()
                    .contains("no caller of confidentialRetrieve"),
                "{err}"
            );
        }
        other => panic!("expected a revert, got {other:?}"),
    }
}
