//! Access-control matrix of store replication between kettles (SUAVE-COMPAT §6.1, §6.5, §3.9
//! last bullet), through the sync API the cluster task uses
//! ([`EncryptedStore::outbound_since`] on the origin, [`EncryptedStore::apply_remote_seq`] on
//! the receiver).
//!
//! Kettle A runs the real `ClusterStore` SUAPP (`contracts/test/ClusterStore.sol`) in the MEVM:
//! `storeFor(stores)` creates a record with the user's `allowedStores` (A's account appended by
//! `newDataRecord`, §6.1) and stores a value in it; A commits the write set. Then, per
//! receiver:
//! - *replicated*: what A ships to the receiver is applied there; the receiver's own MEVM then
//!   reads the value through `ClusterStore.retrieveFrom` (or fails with `data record not
//!   found` when nothing was shipped, and then nothing of the record was in the set);
//! - *forced*: A's whole write set is pushed straight into a fresh receiver with
//!   `apply_remote_seq`, as a buggy or hostile origin could; the receiver must refuse what it
//!   may not hold.
//!
//! The rule (§6.5: the sending kettle must be one of the record's allowed stores; kettle
//! clusters also only ship to, and only accept on, kettles the record lists, where suave-geth
//! broadcasts to every kettle and the receiver checks only the sender): a record goes
//! from A to kettle K exactly when A and K are both in `allowedStores`. `ANYALLOWED` is a
//! wildcard for peekers only; SUAVE-COMPAT gives `allowedStores` no wildcard, so in
//! `allowedStores` it is just an address no kettle has. `allowedStores` is not checked for local
//! writes (§3.9), so a record that does not list its own kettle can exist there; it never leaves.
//!
//! A second matrix covers the peeker rule on the receiving side (§6.5: each write's caller must
//! be an allowed peeker or the record must list `ANYALLOWED`).
//!
//! Run with `--nocapture` (or `--show-output`) to see the matrices.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use alloy_primitives::{address, keccak256, Address, Bytes, FixedBytes};
use alloy_sol_types::{SolCall, SolError};
use kettle_contracts::{cluster_store::ClusterStore, PeekerReverted};
use kettle_primitives::{DataId, DataRecord, ANYALLOWED};
use kettle_store::{EncryptedStore, KettleSecret, RemoteApply, StoreLimits, StoreOptions};
use suave_precompiles::addresses::CONFIDENTIAL_RETRIEVE;
use suave_precompiles::{
    ConfidentialOutcome, MevmError, RequestKind, StoreError, StoreWrite, StoreWriteSet,
};

/// The kettles of the cluster.
const KA: Address = address!("0x00000000000000000000000000000000000000aa");
const KB: Address = address!("0x00000000000000000000000000000000000000bb");
const KC: Address = address!("0x00000000000000000000000000000000000000cc");
/// Where `ClusterStore` is deployed (on every kettle's chain).
const SUAPP: Address = address!("0x000000000000000000000000000000000000c1c1");
/// Confidential inputs of the storing request; the record holds their digest.
const INPUTS: &[u8] = b"confidential inputs of the matrix";

fn open(dir: &Path, kettle: Address) -> EncryptedStore {
    StoreOptions::new(StoreLimits::default())
        .with_local_kettles(vec![kettle])
        .open(dir, &KettleSecret::from_array([kettle.0[19]; 32]))
        .expect("open store")
}

/// A confidential run of `data` on the SUAPP by `kettle` over `store`.
fn run(
    store: &EncryptedStore,
    kettle: Address,
    data: Vec<u8>,
) -> Result<ConfidentialOutcome, MevmError> {
    let chain = common::chain_with(&[(SUAPP, &ClusterStore::DEPLOYED_BYTECODE[..])]);
    common::run_mevm(store, kettle, chain, SUAPP, data, INPUTS, RequestKind::Call)
}

fn name(a: Address) -> String {
    match a {
        KA => "A".into(),
        KB => "B".into(),
        KC => "C".into(),
        ANYALLOWED => "ANY".into(),
        other => other.to_string(),
    }
}

fn names(list: &[Address]) -> String {
    format!(
        "[{}]",
        list.iter().map(|a| name(*a)).collect::<Vec<_>>().join(",")
    )
}

// ---------------------------------------------------------------------------------------------
// Matrix 1: allowedStores × receiver
// ---------------------------------------------------------------------------------------------

/// How a record of the row comes to exist on A.
#[derive(Clone, Copy)]
enum Made {
    /// `ClusterStore.storeFor(stores)` in A's MEVM (A's account appended, §6.1).
    BySuapp,
    /// Committed locally as is (not through `newDataRecord`): the stores list does not
    /// include A, which local commits allow (§3.9).
    Raw,
}

struct Row {
    /// The `allowedStores` the SUAPP (or the raw record) asks for.
    stores: &'static [Address],
    made: Made,
    /// Whether B, then C, may hold the record: written out from the rule "A and the receiver
    /// both listed", per row.
    to_b: bool,
    to_c: bool,
}

const ROWS: &[Row] = &[
    Row {
        stores: &[KA],
        made: Made::BySuapp,
        to_b: false,
        to_c: false,
    },
    Row {
        stores: &[KA, KB],
        made: Made::BySuapp,
        to_b: true,
        to_c: false,
    },
    Row {
        stores: &[KB],
        made: Made::BySuapp,
        to_b: true,
        to_c: false,
    },
    Row {
        stores: &[KC],
        made: Made::BySuapp,
        to_b: false,
        to_c: true,
    },
    Row {
        stores: &[KB, KC],
        made: Made::BySuapp,
        to_b: true,
        to_c: true,
    },
    Row {
        stores: &[ANYALLOWED],
        made: Made::BySuapp,
        to_b: false,
        to_c: false,
    },
    Row {
        stores: &[],
        made: Made::BySuapp,
        to_b: false,
        to_c: false,
    },
    Row {
        stores: &[KB, KC],
        made: Made::Raw,
        to_b: false,
        to_c: false,
    },
];

/// The write set `ClusterStore.storeFor` commits: `record` and its value `v`, written by
/// the SUAPP.
fn stored_by_suapp(record: &DataRecord) -> StoreWriteSet {
    StoreWriteSet {
        records: vec![record.clone()],
        writes: vec![StoreWrite {
            id: record.id,
            key: "v".into(),
            value: Bytes::from(keccak256(INPUTS).to_vec()),
            caller: SUAPP,
        }],
    }
}

/// A's commit #1 for a row: the record and the write set A committed.
fn origin_commit(a: &EncryptedStore, row: &Row) -> (DataRecord, StoreWriteSet) {
    let set = match row.made {
        Made::BySuapp => {
            let call = ClusterStore::storeForCall {
                stores: row.stores.to_vec(),
            };
            run(a, KA, call.abi_encode())
                .expect("storeFor runs")
                .store_writes
        }
        Made::Raw => {
            let record = DataRecord::new(
                DataId::repeat_byte(7),
                0,
                vec![SUAPP],
                row.stores.to_vec(),
                "kettle:test:cluster".into(),
            );
            stored_by_suapp(&record)
        }
    };
    let [record] = set.records.as_slice() else {
        panic!("one record per row")
    };
    let record = record.clone();
    let receipt = a
        .commit_local(&set)
        .expect("local commit")
        .expect("receipt");
    assert_eq!(receipt.seq, 1);
    (record, set)
}

/// What `retrieveFrom(id)` on the receiver must return when it holds the record.
fn read_back_calldata(record: &DataRecord) -> Bytes {
    ClusterStore::onRetrievedCall {
        id: FixedBytes(record.id.0),
        value: Bytes::from(keccak256(INPUTS).to_vec()),
    }
    .abi_encode()
    .into()
}

/// Replication of A's commit #1 to `receiver` (kettle `k`); `Ok(label)` or why it is wrong.
fn replicate(
    a: &EncryptedStore,
    receiver: &EncryptedStore,
    k: Address,
    record: &DataRecord,
    allowed: bool,
) -> Result<&'static str, String> {
    let sets = a
        .outbound_since(k, receiver.last_seq(&KA), 10)
        .map_err(|e| e.to_string())?;
    let [(1, set)] = sets.as_slice() else {
        return Err(format!("expected commit #1 only, got {sets:?}"));
    };
    let shipped = !set.records.is_empty() || !set.writes.is_empty();
    if shipped != allowed {
        return Err(format!("shipped {set:?}"));
    }
    if shipped {
        let want = stored_by_suapp(record);
        if *set != want {
            return Err(format!("shipped {set:?}, want {want:?}"));
        }
    }
    // Even an empty set is applied: the receiver's cursor for A advances.
    match receiver.apply_remote_seq(KA, 1, set) {
        Ok(RemoteApply::Applied(r)) if r.seq == 1 => {}
        other => return Err(format!("apply_remote_seq: {other:?}")),
    }
    if receiver.last_seq(&KA) != 1 {
        return Err("receiver cursor for A is not 1".into());
    }
    // The receiver's own MEVM reads the value back, or finds no record.
    let read = ClusterStore::retrieveFromCall {
        id: FixedBytes(record.id.0),
    };
    match (run(receiver, k, read.abi_encode()), allowed) {
        (Ok(out), true) => {
            let got = ClusterStore::retrieveFromCall::abi_decode_returns(&out.raw_return)
                .map_err(|e| e.to_string())?;
            if got != read_back_calldata(record) {
                return Err(format!("read back {got}"));
            }
            Ok("replicated")
        }
        (Err(MevmError::Reverted { output, .. }), false) => {
            let want = PeekerReverted {
                _0: CONFIDENTIAL_RETRIEVE,
                _1: Bytes::from_static(b"data record not found"),
            }
            .abi_encode();
            if output.as_ref() != want.as_slice() {
                return Err(format!("read back failed with {output}"));
            }
            Ok("not shipped")
        }
        (other, _) => Err(format!("read back: {other:?}")),
    }
}

/// A's whole commit pushed into a fresh receiver (kettle `k`).
fn force(
    dir: &Path,
    k: Address,
    set: &StoreWriteSet,
    record: &DataRecord,
    allowed: bool,
    origin_listed: bool,
) -> Result<&'static str, String> {
    let receiver = open(dir, k);
    let result = receiver.apply_remote_seq(KA, 1, set);
    match (result, allowed) {
        (Ok(RemoteApply::Applied(r)), true) if r.seq == 1 && r.values_written == 1 => {
            match receiver.retrieve(&record.id, "v", SUAPP) {
                Ok(v) if v.as_ref() == keccak256(INPUTS).as_slice() => Ok("accepted"),
                other => Err(format!("accepted, but reads {other:?}")),
            }
        }
        // The kettle named is the one missing from the list: the origin if it is, else the
        // receiver.
        (Err(StoreError::StoreNotAllowed { id, kettle }), false)
            if id == record.id && kettle == if origin_listed { k } else { KA } =>
        {
            if receiver.last_seq(&KA) != 0 || receiver.retrieve(&record.id, "v", SUAPP).is_ok() {
                return Err("refused, but something was applied".into());
            }
            Ok("refused")
        }
        (other, _) => Err(format!("apply_remote_seq: {other:?}")),
    }
}

#[test]
fn replication_follows_allowed_stores() {
    let started = std::time::Instant::now();
    let mut report = String::new();
    let mut failures = Vec::new();
    writeln!(
        report,
        "\nReplication matrix (SUAVE-COMPAT §6.5): records made on kettle A; a record may go \
         from A to kettle K iff A and K are both allowed stores.\n\
         replicated = shipped by A's outbound sync, applied, read back by K's MEVM; \
         forced = A's whole write set pushed into K; ✗ = differs.\n"
    )
    .unwrap();
    writeln!(
        report,
        "  {:<30} {:<18} {:<12} {:<12} {:<12} {:<12}",
        "requested allowedStores",
        "record's stores",
        "B synced",
        "C synced",
        "B forced",
        "C forced"
    )
    .unwrap();
    for row in ROWS {
        let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
        let a = open(dirs[0].path(), KA);
        let (record, set) = origin_commit(&a, row);
        // §6.1: the user's list, then the kettle's account.
        let want_stores: Vec<Address> = match row.made {
            Made::BySuapp => row.stores.iter().copied().chain([KA]).collect(),
            Made::Raw => row.stores.to_vec(),
        };
        assert_eq!(record.allowed_stores, want_stores);
        let origin_listed = record.allowed_stores.contains(&KA);

        let b = open(dirs[1].path(), KB);
        let c = open(dirs[2].path(), KC);
        let cells = [
            replicate(&a, &b, KB, &record, row.to_b),
            replicate(&a, &c, KC, &record, row.to_c),
            force(dirs[3].path(), KB, &set, &record, row.to_b, origin_listed),
            force(dirs[4].path(), KC, &set, &record, row.to_c, origin_listed),
        ];
        let requested = match row.made {
            Made::BySuapp => names(row.stores),
            Made::Raw => format!("{} (raw record)", names(row.stores)),
        };
        write!(
            report,
            "  {requested:<30} {:<18}",
            names(&record.allowed_stores)
        )
        .unwrap();
        for (cell, column) in cells
            .into_iter()
            .zip(["B synced", "C synced", "B forced", "C forced"])
        {
            let shown = match cell {
                Ok(label) => label.to_string(),
                Err(why) => {
                    failures.push(format!("{requested} / {column}: {why}"));
                    "✗".into()
                }
            };
            write!(report, " {shown:<12}").unwrap();
        }
        writeln!(report).unwrap();
        for s in [&a, &b, &c] {
            let verify = s.verify().unwrap();
            assert!(verify.problems.is_empty(), "{:?}", verify.problems);
        }
    }
    writeln!(
        report,
        "\n{} rows × 4 cells in {:.2?}",
        ROWS.len(),
        started.elapsed()
    )
    .unwrap();
    println!("{report}");
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Matrix 2: allowedPeekers × write caller, on the receiving side
// ---------------------------------------------------------------------------------------------

const APP: Address = address!("0x0000000000000000000000000000000000000a11");
const OTHER: Address = address!("0x0000000000000000000000000000000000000b22");

#[test]
fn replicated_writes_follow_allowed_peekers() {
    // (peekers, caller of the write, accepted?) — written out from §6.5.
    let rows: &[(&[Address], Address, bool)] = &[
        (&[APP], APP, true),
        (&[APP], OTHER, false),
        (&[OTHER], APP, false),
        (&[APP, OTHER], OTHER, true),
        (&[ANYALLOWED], OTHER, true),
        (&[], APP, false),
    ];
    let mut report = String::from(
        "\nReplicated writes by caller (SUAVE-COMPAT §6.5), A -> B, record stores [A,B]:\n",
    );
    writeln!(report, "  {:<16} {:<8} B", "allowedPeekers", "caller").unwrap();
    let mut failures = Vec::new();
    for (i, (peekers, caller, accepted)) in rows.iter().enumerate() {
        let label = |a: &Address| match *a {
            APP => "APP".to_string(),
            OTHER => "OTHER".to_string(),
            ANYALLOWED => "ANY".to_string(),
            other => other.to_string(),
        };
        let list = format!(
            "[{}]",
            peekers.iter().map(label).collect::<Vec<_>>().join(",")
        );
        let record = DataRecord::new(
            DataId::repeat_byte(i as u8 + 1),
            0,
            peekers.to_vec(),
            vec![KA, KB],
            "ns".into(),
        );
        let set = StoreWriteSet {
            records: vec![record.clone()],
            writes: vec![StoreWrite {
                id: record.id,
                key: "k".into(),
                value: Bytes::from_static(b"v"),
                caller: *caller,
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let b = open(dir.path(), KB);
        let outcome = match (b.apply_remote_seq(KA, 1, &set), accepted) {
            (Ok(RemoteApply::Applied(_)), true) if holds(&b, &record, *caller) => Ok("accepted"),
            (Err(StoreError::AccessDenied { id, caller: c }), false)
                if id == record.id && c == *caller && b.last_seq(&KA) == 0 =>
            {
                Ok("refused")
            }
            (other, _) => Err(format!("{other:?}")),
        };
        let shown = match outcome {
            Ok(s) => s.to_string(),
            Err(why) => {
                failures.push(format!("{list} by {}: {why}", label(caller)));
                "✗".into()
            }
        };
        writeln!(report, "  {list:<16} {:<8} {shown}", label(caller)).unwrap();
    }
    println!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether `store` holds the replicated value (read as the writer, who is a peeker).
fn holds(store: &EncryptedStore, record: &DataRecord, caller: Address) -> bool {
    matches!(store.retrieve(&record.id, "k", caller), Ok(v) if v.as_ref() == b"v")
}
