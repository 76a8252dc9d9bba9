//! isConfidential, confidentialInputs, contextGet, console.log, the run's environment, and
//! non-confidential execution.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolError, SolValue};
use kettle_contracts::{
    forwarder::Forwarder, hello::Hello, precompiles::SuavePrecompiles, probe::Probe,
    suave_abi_check::SuaveAbiCheck,
};
use kettle_primitives::DEV_KETTLE_ADDRESS;
use revm::context_interface::result::ExecutionResult;
use suave_precompiles::{addresses, MevmError, RequestKind, PREVRANDAO};

use crate::common::*;

#[test]
fn is_confidential_direct_request_returns_one_byte_for_22000_gas() {
    let h = Harness::new();
    let out = h
        .call(addresses::IS_CONFIDENTIAL, Bytes::new(), &[])
        .unwrap();
    assert_eq!(out.raw_return, Bytes::from_static(&[0x01]));
    // Not an ABI `bytes`: the callback calldata is the return data itself (§11 scenario 2).
    assert_eq!(out.callback_calldata, Bytes::from_static(&[0x01]));
    // Intrinsic 21000 + flat 1000.
    assert_eq!(out.gas_used, 22_000);
    assert!(out.logs.is_empty() && out.store_writes.is_empty());
}

#[test]
fn is_confidential_through_suave_sol_and_raw() {
    let h = Harness::new();
    let out = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::isConfidentialCall {})
        .unwrap();
    assert!(returns::<SuaveAbiCheck::isConfidentialCall>(&out));
    // Any input is accepted; the answer is the single byte 0x01.
    let raw = Forwarder::rawCallCall {
        target: addresses::IS_CONFIDENTIAL,
        data: Bytes::from_static(b"anything"),
    };
    let out = h.call_sol(FORWARDER, &raw).unwrap();
    let r = returns::<Forwarder::rawCallCall>(&out);
    assert!(r.ok);
    assert_eq!(r.ret, Bytes::from_static(&[0x01]));
}

#[test]
fn confidential_inputs_are_returned_raw() {
    let h = Harness::new();
    let inputs = b"the user's secret, not ABI-encoded";
    let out = h
        .call(
            ABI_CHECK,
            SuaveAbiCheck::confidentialInputsCall {}.abi_encode(),
            inputs,
        )
        .unwrap();
    assert_eq!(
        returns::<SuaveAbiCheck::confidentialInputsCall>(&out),
        Bytes::from_static(inputs)
    );
    let raw = Forwarder::rawCallCall {
        target: addresses::CONFIDENTIAL_INPUTS,
        data: Bytes::new(),
    };
    let out = h.call(FORWARDER, raw.abi_encode(), inputs).unwrap();
    assert_eq!(
        returns::<Forwarder::rawCallCall>(&out).ret,
        Bytes::from_static(inputs)
    );
    // No inputs: empty.
    let out = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::confidentialInputsCall {})
        .unwrap();
    assert!(returns::<SuaveAbiCheck::confidentialInputsCall>(&out).is_empty());
}

#[test]
fn context_get_known_keys_exact_bytes() {
    let h = Harness::new();
    let get = |key: &str, inputs: &[u8]| {
        let raw = Forwarder::rawCallCall {
            target: addresses::CONTEXT_GET,
            data: SuavePrecompiles::contextGetCall { key: key.into() }.abi_encode()[4..]
                .to_vec()
                .into(),
        };
        returns::<Forwarder::rawCallCall>(&h.call(FORWARDER, raw.abi_encode(), inputs).unwrap())
    };
    let r = get("kettleAddress", &[]);
    assert!(r.ok);
    // abi.encode(bytes) of the 20 raw address bytes (the shared vector's format).
    assert_eq!(
        r.ret,
        Bytes::from((Bytes::copy_from_slice(DEV_KETTLE_ADDRESS.as_slice()),).abi_encode_params())
    );
    let r = get("confidentialInputs", b"abc");
    assert_eq!(
        r.ret,
        Bytes::from((Bytes::from_static(b"abc"),).abi_encode_params())
    );
    let r = get("nope", &[]);
    assert!(!r.ok);
    assert_eq!(r.ret, Bytes::from_static(b"value not found"));

    // Through Suave.sol.
    let out = h
        .call_sol(
            ABI_CHECK,
            &SuaveAbiCheck::contextGetCall {
                key: "kettleAddress".into(),
            },
        )
        .unwrap();
    assert_eq!(
        returns::<SuaveAbiCheck::contextGetCall>(&out),
        Bytes::copy_from_slice(DEV_KETTLE_ADDRESS.as_slice())
    );
}

#[test]
fn context_get_missing_key_reverts_with_peeker_reverted() {
    let h = Harness::new();
    let err = h.call_sol(
        ABI_CHECK,
        &SuaveAbiCheck::contextGetCall {
            key: "__cookie_AWSALB".into(),
        },
    );
    assert_eq!(
        peeker_error(err),
        "execution reverted: precompile '0x0000000000000000000000000000000053300003' reverted: 'value not found'"
    );
}

#[test]
fn environment_of_calls_and_transactions() {
    let mut h = Harness::new();
    h.block.basefee = 7;
    let env = |kind| {
        let req = h.request(PROBE, Probe::envCall {}.abi_encode(), &[]);
        let out = h.run(&req, kind).unwrap();
        returns::<Probe::envCall>(&out)
    };
    let call = env(RequestKind::Call);
    // Confidential eth_call runs from the zero address.
    assert_eq!((call.sender, call.origin), (Address::ZERO, Address::ZERO));
    // 0x44 (PREVRANDAO) answers the documented value instead of crashing.
    assert_eq!(call.prevrandao, U256::from_be_bytes(PREVRANDAO.0));
    assert_eq!(call.chainId, U256::from(h.kettle.chain_id));
    assert_eq!(call.number, U256::from(100));
    let tx = env(RequestKind::Transaction { sender: USER });
    assert_eq!((tx.sender, tx.origin), (USER, USER));
}

#[test]
fn console_log_is_free_and_forwarded_to_tracing() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let h = Harness::new();
    let out = tracing::subscriber::with_default(subscriber, || {
        h.call_sol(PROBE, &Probe::logToConsoleCall {}).unwrap()
    });
    assert_eq!(
        out.callback_calldata,
        Bytes::copy_from_slice(&Probe::envCall::SELECTOR)
    );
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("hello 42"), "{text}");
    assert!(text.contains(&format!("contract={PROBE}")), "{text}");

    // On chain too.
    let result = h.on_chain(PROBE, Probe::logToConsoleCall {}.abi_encode());
    assert!(result.is_success(), "{result:?}");
}

#[test]
fn suave_addresses_are_prewarmed_except_is_confidential() {
    let mut h = Harness::new();
    // Not the zero address: that is the sender of confidential calls, hence warm.
    h.block.coinbase = Address::repeat_byte(0xcb);
    let gas = |target| {
        let out = h.call_sol(PROBE, &Probe::gasOfCallCall { target }).unwrap();
        returns::<Probe::gasOfCallCall>(&out)
    };
    let warm = gas(addresses::RANDOM_BYTES);
    let cold = gas(addresses::IS_CONFIDENTIAL);
    // Both precompiles cost 1000; the difference is the cold account access (2600 - 100).
    assert_eq!(cold - warm, U256::from(2500));
    // The coinbase is not warm (EIP-3651 is off on SUAVE chains).
    let coinbase = gas(h.block.coinbase);
    let untouched = gas(Address::repeat_byte(0x77));
    assert_eq!(coinbase, untouched);
}

#[test]
fn non_confidential_execution_sees_empty_accounts() {
    let h = Harness::new();
    // isConfidential() is false on chain.
    let r = h.on_chain(ABI_CHECK, SuaveAbiCheck::isConfidentialCall {}.abi_encode());
    let ExecutionResult::Success { output, .. } = r else {
        panic!("{r:?}")
    };
    assert!(!SuaveAbiCheck::isConfidentialCall::abi_decode_returns(output.data()).unwrap());
    // Raw precompile addresses: plain empty accounts, success with no data.
    let raw = Forwarder::rawCallCall {
        target: addresses::NEW_DATA_RECORD,
        data: Bytes::from_static(b"x"),
    };
    let r = h.on_chain(FORWARDER, raw.abi_encode());
    let ExecutionResult::Success { output, .. } = r else {
        panic!("{r:?}")
    };
    let r = Forwarder::rawCallCall::abi_decode_returns(output.data()).unwrap();
    assert!(r.ok && r.ret.is_empty());
    // Raw-output precompile through Suave.sol: empty bytes, no failure.
    let r = h.on_chain(
        ABI_CHECK,
        SuaveAbiCheck::confidentialInputsCall {}.abi_encode(),
    );
    assert!(r.is_success(), "{r:?}");
    // ABI-output precompiles fail to decode the empty answer: revert with empty data, as on the
    // reference.
    for data in [
        SuaveAbiCheck::newDataRecordCall {
            decryptionCondition: 1,
            allowedPeekers: vec![],
            allowedStores: vec![],
            dataType: "x".into(),
        }
        .abi_encode(),
        SuaveAbiCheck::randomBytesCall { numBytes: 4 }.abi_encode(),
        // Functions that first require(isConfidential()).
        SuaveAbiCheck::signMessageCall {
            digest: Bytes::new(),
            crypto: 0,
            signingKey: String::new(),
        }
        .abi_encode(),
        SuaveAbiCheck::extractHintCall {
            bundleData: Bytes::new(),
        }
        .abi_encode(),
    ] {
        match h.on_chain(ABI_CHECK, data) {
            ExecutionResult::Revert { output, .. } => assert!(output.is_empty()),
            other => panic!("expected revert, got {other:?}"),
        }
    }
}

#[test]
fn hello_suapp_greets_through_its_callback() {
    let h = Harness::new();
    let out = h
        .call(HELLO, Hello::helloCall {}.abi_encode(), b"kettle")
        .unwrap();
    assert_eq!(
        out.callback_calldata,
        Bytes::from(
            Hello::callbackCall {
                greeting: "hello, kettle".into()
            }
            .abi_encode()
        )
    );
    // On chain the SUAPP refuses to run.
    let r = h.on_chain(HELLO, Hello::helloCall {}.abi_encode());
    let ExecutionResult::Revert { output, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(output.as_ref(), Hello::NotConfidential::SELECTOR.as_slice());
    let _ = MevmError::TargetDoesNotExist;
}
