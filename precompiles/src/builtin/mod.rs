//! The SUAVE precompiles implemented in this crate, and the per-request state they share.
//!
//! [`dispatch`] is the single entry point the provider calls in confidential mode: external
//! precompiles first (by address), then the built-in table, then the "no backend" reverts of
//! the external groups.
//!
//! Every built-in decodes its input with the `SuavePrecompiles` bindings of
//! `kettle-contracts` (the input is the call's parameter encoding, no selector) and answers
//! with the call's return encoding, except the raw-output ones. Decoding never panics on any
//! input; a malformed input fails with [`FAILED_TO_DECODE_INPUT`](crate::error::FAILED_TO_DECODE_INPUT).

pub(crate) mod context;
pub(crate) mod crypto;
pub(crate) mod eth_tx;
pub(crate) mod store;

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolCall;
use kettle_primitives::ConfidentialComputeRequest;

use crate::{
    addresses::{self, *},
    context::KettleContext,
    error::{PrecompileError, NO_EXECUTION_BACKEND, NO_NETWORK_BACKEND},
    external::{ExternalCall, ExternalPrecompiles, ExternalRun},
    store::StoreOverlay,
};

/// The state of one confidential request that precompiles read and write.
pub(crate) struct RequestEnv<'r> {
    /// The request being executed (confidential inputs, kettle address).
    pub(crate) request: &'r ConfidentialComputeRequest,
    /// The kettle executing it.
    pub(crate) kettle: &'r KettleContext,
    /// The request's view of the confidential store.
    pub(crate) store: StoreOverlay<'r>,
    /// External precompiles of the kettle, if any.
    pub(crate) external_set: Option<&'r dyn ExternalPrecompiles>,
    /// Their per-request state, opened with the request.
    pub(crate) external: Option<Box<dyn ExternalRun + 'r>>,
}

impl<'r> RequestEnv<'r> {
    /// Opens the state of a request: an empty store overlay and, if the kettle has external
    /// precompiles, their per-request state.
    pub(crate) fn new(
        request: &'r ConfidentialComputeRequest,
        kettle: &'r KettleContext,
        store: StoreOverlay<'r>,
        external_set: Option<&'r dyn ExternalPrecompiles>,
    ) -> Self {
        Self {
            request,
            kettle,
            store,
            external_set,
            external: external_set.map(|set| set.begin()),
        }
    }
}

/// Runs the SUAVE precompile at `address` on `input` with caller stack `stack` (outermost
/// first, `address` last). `Ok` is the output, `Err` the message the calling frame reverts with.
pub(crate) fn dispatch(
    address: Address,
    input: &[u8],
    stack: &[Address],
    env: &mut RequestEnv<'_>,
) -> Result<Bytes, PrecompileError> {
    if let (Some(set), Some(run)) = (env.external_set, env.external.as_mut()) {
        if set.handles(address) {
            return run.run_call(ExternalCall {
                address,
                input,
                caller_stack: stack,
                store: &mut env.store,
                request: env.request,
                kettle: env.kettle,
            });
        }
    }
    match address {
        IS_CONFIDENTIAL => Ok(context::is_confidential()),
        CONFIDENTIAL_INPUTS => Ok(context::confidential_inputs(env)),
        CONTEXT_GET => context::context_get(input, env),
        NEW_DATA_RECORD => store::new_data_record(input, env),
        FETCH_DATA_RECORDS => store::fetch_data_records(input, env),
        CONFIDENTIAL_STORE => store::confidential_store(input, stack, env),
        CONFIDENTIAL_RETRIEVE => store::confidential_retrieve(input, stack, env),
        SIGN_ETH_TRANSACTION => eth_tx::sign_eth_transaction(input),
        SIGN_MESSAGE => crypto::sign_message(input),
        PRIVATE_KEY_GEN => crypto::private_key_gen(input),
        RANDOM_BYTES => crypto::random_bytes(input),
        AES_ENCRYPT => crypto::aes_encrypt(input),
        AES_DECRYPT => crypto::aes_decrypt(input),
        GET_INSECURE_TIME => Ok(crypto::get_insecure_time()),
        a if addresses::NETWORK.contains(&a) => Err(PrecompileError::new(NO_NETWORK_BACKEND)),
        a if addresses::BUILDER.contains(&a) => Err(PrecompileError::new(NO_EXECUTION_BACKEND)),
        other => Err(PrecompileError::new(format!("no precompile at {other}"))),
    }
}

/// Whether `address` is served by this crate (so a top-level call to it returns data even
/// when the data is empty; see [`crate::mevm`] "target contract does not exist").
pub(crate) fn returns_data(address: Address) -> bool {
    matches!(
        address,
        IS_CONFIDENTIAL
            | CONFIDENTIAL_INPUTS
            | CONTEXT_GET
            | NEW_DATA_RECORD
            | FETCH_DATA_RECORDS
            | CONFIDENTIAL_RETRIEVE
            | SIGN_ETH_TRANSACTION
            | SIGN_MESSAGE
            | PRIVATE_KEY_GEN
            | RANDOM_BYTES
            | AES_ENCRYPT
            | AES_DECRYPT
            | GET_INSECURE_TIME
    )
}

/// Decodes a precompile input as the parameters of `C`, or fails like suave-geth.
pub(crate) fn decode<C: SolCall>(input: &[u8]) -> Result<C, PrecompileError> {
    C::abi_decode_raw(input).map_err(|_| PrecompileError::decode_input())
}

/// Encodes a precompile output as the return values of `C`.
pub(crate) fn encode<C: SolCall>(ret: &C::Return) -> Bytes {
    Bytes::from(C::abi_encode_returns(ret))
}

#[cfg(test)]
mod tests {
    //! Hostile input: every built-in precompile, fed arbitrary or mutated-valid input with any
    //! caller stack, returns `Ok` or `Err` and never panics.

    use super::*;
    use crate::fuzz_support;
    use crate::store::{memory::MemoryStore, ConfidentialStore, StoreLimits, StoreWriteSet};
    use alloy_primitives::FixedBytes;
    use kettle_contracts::precompiles::SuavePrecompiles as abi;
    use kettle_primitives::{DataId, DataRecord, ANYALLOWED};
    use proptest::prelude::*;

    const KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";

    fn known_record() -> DataRecord {
        DataRecord::new(
            DataId::repeat_byte(1),
            1,
            vec![ANYALLOWED],
            vec![],
            "ns".into(),
        )
    }

    fn with_env<T>(f: impl FnOnce(&mut RequestEnv<'_>) -> T) -> T {
        let store = MemoryStore::new();
        store
            .commit(&StoreWriteSet {
                records: vec![known_record()],
                writes: vec![],
            })
            .unwrap();
        let request = ConfidentialComputeRequest {
            confidential_inputs: Bytes::from_static(b"inputs"),
            ..Default::default()
        };
        let kettle = KettleContext::new(Address::repeat_byte(0xee), 1);
        let limits = StoreLimits {
            max_value_bytes: 64,
            max_records_per_request: 2,
            max_writes_per_request: 2,
        };
        let mut env = RequestEnv::new(&request, &kettle, StoreOverlay::new(&store, limits), None);
        f(&mut env)
    }

    /// Random material for building inputs.
    #[derive(Debug, Clone)]
    struct Material {
        a: Vec<u8>,
        b: Vec<u8>,
        s: String,
        n: u8,
        c: u64,
        known_id: bool,
        valid_key: bool,
        addrs: Vec<Address>,
    }

    fn material() -> impl Strategy<Value = Material> {
        (
            proptest::collection::vec(any::<u8>(), 0..80),
            proptest::collection::vec(any::<u8>(), 0..80),
            ".{0,40}",
            any::<u8>(),
            any::<u64>(),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(any::<[u8; 20]>(), 0..3),
        )
            .prop_map(|(a, b, s, n, c, known_id, valid_key, addrs)| Material {
                a,
                b,
                s,
                n,
                c,
                known_id,
                valid_key,
                addrs: addrs.into_iter().map(Address::from).collect(),
            })
    }

    /// A well-formed input for the precompile at `address`, built from `m`.
    fn valid_input(address: Address, m: &Material) -> Vec<u8> {
        let id = if m.known_id {
            FixedBytes(known_record().id.0)
        } else {
            FixedBytes([m.n; 16])
        };
        let key = if m.valid_key {
            KEY.to_string()
        } else {
            m.s.clone()
        };
        let encoded = match address {
            CONTEXT_GET => abi::contextGetCall { key: m.s.clone() }.abi_encode(),
            NEW_DATA_RECORD => abi::newDataRecordCall {
                decryptionCondition: m.c,
                allowedPeekers: m.addrs.clone(),
                allowedStores: m.addrs.clone(),
                dataType: m.s.clone(),
            }
            .abi_encode(),
            FETCH_DATA_RECORDS => abi::fetchDataRecordsCall {
                cond: m.c,
                namespace: m.s.clone(),
            }
            .abi_encode(),
            CONFIDENTIAL_STORE => abi::confidentialStoreCall {
                dataId: id,
                key: m.s.clone(),
                value: m.a.clone().into(),
            }
            .abi_encode(),
            CONFIDENTIAL_RETRIEVE => abi::confidentialRetrieveCall {
                dataId: id,
                key: m.s.clone(),
            }
            .abi_encode(),
            SIGN_ETH_TRANSACTION => abi::signEthTransactionCall {
                txn: m.a.clone().into(),
                chainId: if m.known_id {
                    "0x1".into()
                } else {
                    m.s.clone()
                },
                signingKey: key,
            }
            .abi_encode(),
            SIGN_MESSAGE => abi::signMessageCall {
                digest: m.a.clone().into(),
                crypto: m.n % 3,
                signingKey: key,
            }
            .abi_encode(),
            PRIVATE_KEY_GEN => abi::privateKeyGenCall { crypto: m.n % 3 }.abi_encode(),
            RANDOM_BYTES => abi::randomBytesCall { numBytes: m.n }.abi_encode(),
            AES_ENCRYPT => abi::aesEncryptCall {
                key: m.a.clone().into(),
                message: m.b.clone().into(),
            }
            .abi_encode(),
            AES_DECRYPT => abi::aesDecryptCall {
                key: m.a.clone().into(),
                ciphertext: m.b.clone().into(),
            }
            .abi_encode(),
            _ => [[0u8; 4].as_slice(), &m.a].concat(),
        };
        encoded[4..].to_vec()
    }

    fn any_precompile() -> impl Strategy<Value = Address> {
        (0..addresses::ALL.len()).prop_map(|i| addresses::ALL[i].1)
    }

    proptest! {
        #![proptest_config(fuzz_support::proptest_config!("precompiles/builtin-proptest", 4))]

        #[test]
        fn arbitrary_input_never_panics(
            address in any_precompile(),
            input in proptest::collection::vec(any::<u8>(), 0..400),
            stack in proptest::collection::vec(any::<[u8; 20]>().prop_map(Address::from), 0..4),
        ) {
            with_env(|env| {
                let _ = dispatch(address, &input, &stack, env);
            });
        }

        #[test]
        fn mutated_valid_input_never_panics(
            address in any_precompile(),
            m in material(),
            flip in proptest::option::of((any::<prop::sample::Index>(), 1u8..)),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut input = valid_input(address, &m);
            if let (Some((at, x)), false) = (flip, input.is_empty()) {
                let i = at.index(input.len());
                input[i] ^= x;
            }
            if let (Some(at), false) = (cut, input.is_empty()) {
                input.truncate(at.index(input.len()));
            }
            with_env(|env| {
                let stack = [Address::repeat_byte(0xaa), address];
                // Twice: the second run sees the first one's staged records and writes.
                let _ = dispatch(address, &input, &stack, env);
                let _ = dispatch(address, &input, &stack, env);
            });
        }
    }

    #[test]
    fn valid_inputs_reach_the_precompiles() {
        let m = Material {
            a: vec![7; 32],
            b: vec![],
            s: "k".into(),
            n: 0,
            c: 1,
            known_id: true,
            valid_key: true,
            addrs: vec![],
        };
        with_env(|env| {
            let stack = [Address::repeat_byte(0xaa)];
            for address in [
                CONTEXT_GET,
                NEW_DATA_RECORD,
                FETCH_DATA_RECORDS,
                CONFIDENTIAL_STORE,
                SIGN_MESSAGE,
                PRIVATE_KEY_GEN,
                RANDOM_BYTES,
                AES_ENCRYPT,
            ] {
                let input = valid_input(address, &m);
                let result = dispatch(address, &input, &stack, env);
                // contextGet("k") is unknown; everything else succeeds.
                assert_eq!(
                    result.is_ok(),
                    address != CONTEXT_GET,
                    "{address}: {result:?}"
                );
            }
            // The write above is read back.
            let input = valid_input(CONFIDENTIAL_RETRIEVE, &m);
            assert_eq!(
                dispatch(CONFIDENTIAL_RETRIEVE, &input, &stack, env).unwrap(),
                Bytes::from(vec![7; 32])
            );
        });
    }
}
