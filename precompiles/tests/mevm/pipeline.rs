//! The request pipeline: state-storage guard, missing target, failure mapping, gas, malformed
//! precompile input, and external (network/builder) precompiles.

use std::sync::Mutex;

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};
use kettle_contracts::{
    forwarder::Forwarder,
    keccak_loop::KeccakLoop,
    precompiles::SuavePrecompiles,
    storage_writer::StorageWriter,
    suave_abi_check::{Suave::HttpRequest, SuaveAbiCheck},
};
use suave_precompiles::{
    addresses, ExternalCall, ExternalPrecompiles, ExternalRun, MevmError, PrecompileError,
    RequestKind,
};

use crate::common::*;

#[test]
fn sstore_into_the_target_is_rejected() {
    let h = Harness::new();
    for data in [
        StorageWriter::writeSelfCall {}.abi_encode(),
        StorageWriter::writeViaDelegateCall { bumper: BUMPER }.abi_encode(),
        // Even inside a sub-call that reverts and is caught, as suave-geth's tracer sees it.
        StorageWriter::writeInCaughtRevertCall {}.abi_encode(),
    ] {
        let err = h.call(WRITER, data, &[]).unwrap_err();
        assert_eq!(err, MevmError::StateStorageModified);
        assert_eq!(
            err.to_string(),
            "confidential request cannot modify state storage"
        );
    }
}

#[test]
fn sstore_elsewhere_is_allowed_and_discarded() {
    let h = Harness::new();
    let noop = Bytes::copy_from_slice(&StorageWriter::noopCall::SELECTOR);
    for data in [
        StorageWriter::createAndWriteCall {}.abi_encode(),
        StorageWriter::writeOtherCall { r#box: BOX }.abi_encode(),
    ] {
        let out = h.call(WRITER, data, &[]).unwrap();
        assert_eq!(out.callback_calldata, noop);
    }
    let out = h.call_sol(WRITER, &StorageWriter::readOnlyCall {}).unwrap();
    assert_eq!(
        out.callback_calldata,
        Bytes::from(
            StorageWriter::noopCall::SELECTOR
                .iter()
                .copied()
                .chain([0u8; 32])
                .collect::<Vec<_>>()
        )
    );
    // The storage guard is a confidential-mode rule only.
    assert!(h
        .on_chain(WRITER, StorageWriter::writeSelfCall {}.abi_encode())
        .is_success());
}

#[test]
fn target_does_not_exist() {
    let h = Harness::new();
    let err = h
        .call(
            Address::repeat_byte(0x42),
            Bytes::from_static(b"\x01\x02\x03\x04"),
            &[],
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "target contract does not exist");
    // A request straight to a precompile that returns nothing hits the same rule.
    let record = {
        let out = h
            .call_sol(
                ABI_CHECK,
                &SuaveAbiCheck::newDataRecordCall {
                    decryptionCondition: 1,
                    allowedPeekers: vec![kettle_primitives::ANYALLOWED],
                    allowedStores: vec![],
                    dataType: "ns".into(),
                },
            )
            .unwrap();
        h.commit(&out);
        out.store_writes.records[0].clone()
    };
    let input = SuavePrecompiles::confidentialStoreCall {
        dataId: record.id.0.into(),
        key: "k".into(),
        value: Bytes::from_static(b"v"),
    }
    .abi_encode()[4..]
        .to_vec();
    assert_eq!(
        h.call(addresses::CONFIDENTIAL_STORE, input, &[])
            .unwrap_err(),
        MevmError::TargetDoesNotExist
    );
    // A contract without return data is fine.
    let out = h.call(PROBE, Bytes::new(), &[]);
    assert!(
        matches!(out, Err(MevmError::Reverted { .. })),
        "Probe has no fallback: {out:?}"
    );
}

#[test]
fn malformed_precompile_input() {
    let h = Harness::new();
    // Sent straight to the precompile: the raw message is the revert data.
    let err = h
        .call(addresses::CONTEXT_GET, Bytes::from_static(&[0xff; 7]), &[])
        .unwrap_err();
    let MevmError::Reverted { output, peeker, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(output, &Bytes::from_static(b"failed to decode input"));
    assert_eq!(peeker, &None);
    assert_eq!(err.to_string(), "execution reverted");
    // From a contract: a failed call with the message as return data, 1000 gas consumed.
    for target in [
        addresses::CONTEXT_GET,
        addresses::NEW_DATA_RECORD,
        addresses::CONFIDENTIAL_STORE,
        addresses::SIGN_MESSAGE,
        addresses::AES_ENCRYPT,
    ] {
        let raw = Forwarder::rawCallCall {
            target,
            data: Bytes::from_static(&[0x01; 33]),
        };
        let r = returns::<Forwarder::rawCallCall>(&h.call_sol(FORWARDER, &raw).unwrap());
        assert!(!r.ok);
        assert_eq!(
            r.ret,
            Bytes::from_static(b"failed to decode input"),
            "{target}"
        );
    }
}

#[test]
fn revert_reason_and_halt_mapping() {
    let h = Harness::new();
    let fwd = Forwarder::forwardCall {
        target: WRITER,
        data: StorageWriter::writeThenRevertCall {}.abi_encode().into(),
        delegate: false,
    };
    let err = h.call_sol(FORWARDER, &fwd).unwrap_err();
    assert_eq!(err.to_string(), "execution reverted");
    assert_eq!(err.revert_reason().as_deref(), Some("undone"));

    let mut req = h.request(
        KECCAK_LOOP,
        KeccakLoop::runCall {
            rounds: U256::from(1_000_000),
        }
        .abi_encode(),
        &[],
    );
    req.record.gas = 100_000;
    let err = h.run(&req, RequestKind::Call).unwrap_err();
    assert_eq!(
        err,
        MevmError::Halted {
            reason: "out of gas".into(),
            gas_used: 100_000
        }
    );
}

#[test]
fn invalid_requests_use_go_messages() {
    let mut h = Harness::new();
    let mut req = h.request(
        ABI_CHECK,
        SuaveAbiCheck::isConfidentialCall {}.abi_encode(),
        &[],
    );
    req.record.gas = 40_000_000;
    assert_eq!(
        h.run(&req, RequestKind::Call).unwrap_err().to_string(),
        "err: gas limit reached (supplied gas 40000000)"
    );
    req.record.gas = 1_000;
    assert_eq!(
        h.run(&req, RequestKind::Call).unwrap_err().to_string(),
        "err: intrinsic gas too low: have 1000, want 21064 (supplied gas 1000)"
    );
    req.record.gas = 100_000;
    // Transactions pay: a sender without funds is refused, a call is not.
    let poor = Address::repeat_byte(0x55);
    let err = h
        .run(&req, RequestKind::Transaction { sender: poor })
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("err: insufficient funds for gas * price + value"),
        "{err}"
    );
    assert!(h.run(&req, RequestKind::Call).is_ok());
    // Base fee: checked for transactions only.
    h.block.basefee = 2_000_000_000;
    let err = h
        .run(&req, RequestKind::Transaction { sender: USER })
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("err: max fee per gas less than block base fee"),
        "{err}"
    );
    assert!(h.run(&req, RequestKind::Call).is_ok());
    // Contract creation.
    req.record.to = None;
    assert_eq!(
        h.run(&req, RequestKind::Call).unwrap_err(),
        MevmError::NoTarget
    );
}

#[test]
fn gas_is_bounded_by_the_request() {
    let h = Harness::new();
    let mut req = h.request(
        KECCAK_LOOP,
        KeccakLoop::runCall {
            rounds: U256::from(100),
        }
        .abi_encode(),
        &[],
    );
    let out = h.run(&req, RequestKind::Call).unwrap();
    assert!(out.gas_used > 21_000);
    req.record.gas = out.gas_used;
    assert!(h.run(&req, RequestKind::Call).is_ok());
    req.record.gas = out.gas_used - 1;
    assert!(matches!(
        h.run(&req, RequestKind::Call),
        Err(MevmError::Halted { .. })
    ));
}

#[test]
fn builder_and_network_precompiles_without_backend() {
    let h = Harness::new();
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::simulateBundleCall {
            bundleData: Bytes::from_static(b"{}"),
        },
    );
    assert_eq!(
        peeker_error(err),
        "execution reverted: precompile '0x0000000000000000000000000000000042100000' reverted: 'no execution backend configured'"
    );
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::ethcallCall {
            contractAddr: Address::ZERO,
            input1: Bytes::new(),
        },
    );
    assert!(peeker_error(err).ends_with("'no execution backend configured'"));
    let err = h.call_sol(ABI_CHECK, &SuaveAbiCheck::newBuilderCall {});
    assert!(peeker_error(err).ends_with("'no execution backend configured'"));
    let request = HttpRequest {
        url: "http://127.0.0.1:1/".into(),
        method: "GET".into(),
        headers: vec![],
        body: Bytes::new(),
        withFlashbotsSignature: false,
        timeout: 0,
    };
    let err = h.call_sol(ABI_CHECK, &SuaveAbiCheck::doHTTPRequestCall { request });
    assert_eq!(
        peeker_error(err),
        format!(
            "execution reverted: precompile '0x0000000000000000000000000000000043200002' reverted: '{}'",
            suave_precompiles::error::NO_NETWORK_BACKEND
        )
    );
}

/// A fake external set: serves doHTTPRequest with a canned body, records what it saw, and
/// sets a cookie context value.
#[derive(Default)]
struct FakeNetwork {
    seen: Mutex<Vec<(Address, Vec<Address>)>>,
}

struct FakeRun<'a> {
    net: &'a FakeNetwork,
}

impl ExternalPrecompiles for FakeNetwork {
    fn handles(&self, address: Address) -> bool {
        address == addresses::DO_HTTP_REQUEST
    }
    fn begin(&self) -> Box<dyn ExternalRun + '_> {
        Box::new(FakeRun { net: self })
    }
}

impl ExternalRun for FakeRun<'_> {
    fn run(&mut self, _address: Address, _input: &[u8]) -> Result<Bytes, PrecompileError> {
        unreachable!("run_call is overridden")
    }
    fn context_value(&self, key: &str) -> Option<Bytes> {
        (key == "__cookie_AWSALB").then(|| Bytes::from_static(b"AWSALB=abc; Path=/"))
    }
    fn run_call(&mut self, call: ExternalCall<'_, '_>) -> Result<Bytes, PrecompileError> {
        self.net
            .seen
            .lock()
            .unwrap()
            .push((call.address, call.caller_stack.to_vec()));
        let decoded = SuavePrecompiles::doHTTPRequestCall::abi_decode_raw(call.input)
            .map_err(|_| PrecompileError::decode_input())?;
        if decoded.request.url.contains("denied") {
            return Err(PrecompileError::new("domain denied.example is not allowed"));
        }
        Ok(
            SuavePrecompiles::doHTTPRequestCall::abi_encode_returns(&Bytes::from_static(b"pong"))
                .into(),
        )
    }
}

#[test]
fn external_precompiles_plug_in_by_address() {
    let h = Harness::new();
    let net = FakeNetwork::default();
    let request = |url: &str| HttpRequest {
        url: url.into(),
        method: "GET".into(),
        headers: vec![],
        body: Bytes::new(),
        withFlashbotsSignature: false,
        timeout: 0,
    };
    let req = h.request(
        ABI_CHECK,
        SuaveAbiCheck::doHTTPRequestCall {
            request: request("http://127.0.0.1/"),
        }
        .abi_encode(),
        &[],
    );
    let out = h.run_with(&net, &req, RequestKind::Call).unwrap();
    assert_eq!(
        returns::<SuaveAbiCheck::doHTTPRequestCall>(&out),
        Bytes::from_static(b"pong")
    );
    assert_eq!(
        net.seen.lock().unwrap().as_slice(),
        &[(
            addresses::DO_HTTP_REQUEST,
            vec![ABI_CHECK, addresses::DO_HTTP_REQUEST]
        )]
    );
    // Its errors revert like built-in ones (§11 scenario 24).
    let req = h.request(
        ABI_CHECK,
        SuaveAbiCheck::doHTTPRequestCall {
            request: request("http://denied/"),
        }
        .abi_encode(),
        &[],
    );
    let err = h.run_with(&net, &req, RequestKind::Call).unwrap_err();
    assert!(err
        .to_string()
        .contains("precompile '0x0000000000000000000000000000000043200002' reverted: 'domain denied.example is not allowed'"));
    // contextGet falls back to the external run for other keys.
    let req = h.request(
        ABI_CHECK,
        SuaveAbiCheck::contextGetCall {
            key: "__cookie_AWSALB".into(),
        }
        .abi_encode(),
        &[],
    );
    let out = h.run_with(&net, &req, RequestKind::Call).unwrap();
    assert_eq!(
        returns::<SuaveAbiCheck::contextGetCall>(&out),
        Bytes::from_static(b"AWSALB=abc; Path=/")
    );
    // Addresses it does not handle keep their default behaviour.
    let req = h.request(
        ABI_CHECK,
        SuaveAbiCheck::newBuilderCall {}.abi_encode(),
        &[],
    );
    assert!(h
        .run_with(&net, &req, RequestKind::Call)
        .unwrap_err()
        .to_string()
        .ends_with("'no execution backend configured'"));
    let _ = (Bytes::new(),).abi_encode_params();
}

#[test]
fn a_time_limit_stops_a_long_loop_and_spares_short_runs() {
    let h = Harness::new();
    // 30 M gas of keccak rounds: far longer than 20 ms in a debug build.
    let mut req = h.request(
        KECCAK_LOOP,
        KeccakLoop::runCall { rounds: U256::MAX }.abi_encode(),
        &[],
    );
    req.record.gas = 30_000_000;
    let started = std::time::Instant::now();
    let err = h
        .mevm()
        .with_time_limit(std::time::Duration::from_millis(20))
        .execute(h.db.clone(), &h.block, &req, RequestKind::Call)
        .unwrap_err();
    assert_eq!(err, MevmError::TimedOut { limit_ms: 20 });
    assert_eq!(
        err.to_string(),
        "execution time limit reached: the run was stopped after 20 ms"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Also when the loop runs in a contract the target calls.
    let fwd = Forwarder::forwardCall {
        target: KECCAK_LOOP,
        data: KeccakLoop::runCall { rounds: U256::MAX }
            .abi_encode()
            .into(),
        delegate: false,
    };
    let mut nested = h.request(FORWARDER, fwd.abi_encode(), &[]);
    nested.record.gas = 30_000_000;
    let err = h
        .mevm()
        .with_time_limit(std::time::Duration::from_millis(20))
        .execute(h.db.clone(), &h.block, &nested, RequestKind::Call)
        .unwrap_err();
    assert_eq!(err, MevmError::TimedOut { limit_ms: 20 });
    // The same kind of run within the limit is unaffected, as a transaction too.
    req.record.data = KeccakLoop::runCall {
        rounds: U256::from(100),
    }
    .abi_encode()
    .into();
    let limited = h
        .mevm()
        .with_time_limit(std::time::Duration::from_secs(10))
        .execute(
            h.db.clone(),
            &h.block,
            &req,
            RequestKind::Transaction { sender: USER },
        )
        .expect("short run");
    let free = h
        .run(&req, RequestKind::Transaction { sender: USER })
        .expect("short run");
    assert_eq!(limited.raw_return, free.raw_return);
    assert_eq!(limited.gas_used, free.gas_used);
}
