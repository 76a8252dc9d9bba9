//! Well-formed ABI inputs (no selector) for every SUAVE precompile, built from a fuzz
//! generator, plus a store seeded with the records they name. Shared by the precompile fuzz
//! targets of `suave-precompiles` and `suave-precompiles-network`; included next to
//! `support.rs` (mounted as `fuzz_support` at the crate root).

#![allow(dead_code)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, FixedBytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use kettle_contracts::precompiles::SuavePrecompiles as abi;
use kettle_contracts::{BuildBlockArgs, HttpRequest, Withdrawal};
use kettle_primitives::{DataId, DataRecord, ANYALLOWED};
use suave_precompiles::addresses::*;
use suave_precompiles::store::{memory::MemoryStore, ConfidentialStore, StoreWrite, StoreWriteSet};

use crate::fuzz_support::{mutate, random_input, Rng};

/// A secp256k1 key in the hex form the signing precompiles take.
pub(crate) const KEY_HEX: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";

/// Store keys the bundle and block precompiles read.
const BUNDLE_KEYS: [&str; 2] = ["mevshare:v0:ethBundles", "default:v0:ethBundles"];
const MERGED_KEYS: [&str; 2] = [
    "mevshare:v0:mergedDataRecords",
    "default:v0:mergedDataRecords",
];

/// The campaign outcome of one precompile run: success, refused as undecodable input, or
/// another (clean) failure.
pub(crate) fn outcome<T>(result: &Result<T, suave_precompiles::PrecompileError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) if e.0 == suave_precompiles::error::FAILED_TO_DECODE_INPUT => "undecodable",
        Err(_) => "failed",
    }
}

/// Every precompile address, `console.log` included.
pub(crate) fn every_address() -> Vec<Address> {
    ALL.iter().map(|(_, a)| *a).chain([CONSOLE_LOG]).collect()
}

/// A signed transaction (legacy or 1559) as raw EIP-2718 bytes.
pub(crate) fn signed_tx(rng: &mut Rng) -> Vec<u8> {
    let signer = PrivateKeySigner::from_slice(&[3u8; 32]).expect("key");
    let to = if rng.one_in(4) {
        TxKind::Create
    } else {
        TxKind::Call(Address::repeat_byte(rng.byte()))
    };
    let input = Bytes::from(rng.bytes_below(40));
    let env: TxEnvelope = if rng.one_in(2) {
        let tx = TxLegacy {
            chain_id: Some(1),
            nonce: rng.below(3) as u64,
            gas_price: 13,
            gas_limit: 21_000,
            to,
            value: U256::from(rng.below(1000)),
            input,
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
        tx.into_signed(sig).into()
    } else {
        let tx = TxEip1559 {
            chain_id: 1,
            gas_limit: 50_000,
            max_fee_per_gas: 20,
            max_priority_fee_per_gas: 2,
            to,
            input,
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
        tx.into_signed(sig).into()
    };
    env.encoded_2718()
}

/// A handful of signed transactions (signing costs milliseconds in debug builds: generators
/// pick from these instead of signing per case).
pub(crate) fn tx_pool() -> Vec<Vec<u8>> {
    let mut rng = Rng::for_case(0, "precompile-inputs/txs", 0);
    (0..6).map(|_| signed_tx(&mut rng)).collect()
}

/// Bundle JSON of the shapes suave-geth and MEV-Share send, from `txs`.
pub(crate) fn bundle_json(rng: &mut Rng, txs: &[Vec<u8>]) -> Vec<u8> {
    let picked: Vec<String> = (0..rng.below(3) + usize::from(!rng.one_in(8)))
        .map(|_| {
            format!(
                "\"0x{}\"",
                crate::fuzz_support::hex(&txs[rng.below(txs.len())])
            )
        })
        .collect();
    let mut fields = vec![format!("\"txs\":[{}]", picked.join(","))];
    if rng.one_in(2) {
        fields.push(format!("\"blockNumber\":\"0x{:x}\"", rng.edge_u64()));
    }
    if rng.one_in(3) {
        fields.push(format!("\"revertingHashes\":[\"0x{}\"]", "ab".repeat(32)));
    }
    if rng.one_in(3) {
        fields.push(format!(
            "\"refundPercent\":{},\"minBlock\":{},\"maxBlock\":{}",
            rng.below(120),
            rng.below(10),
            rng.below(10)
        ));
    }
    if rng.one_in(4) {
        fields.push(format!(
            "\"note\":\"{}\"",
            rng.text(10).replace(['"', '\\'], "")
        ));
    }
    format!("{{{}}}", fields.join(",")).into_bytes()
}

fn id_bytes(id: &DataId) -> FixedBytes<16> {
    FixedBytes(id.0)
}

fn url(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "http://relay.example/x".into(),
        1 => "https://builder.example:8443/path?q=1".into(),
        2 => "http://127.0.0.1:1/".into(),
        3 => rng.text(30),
        _ => format!("http://{}.example/{}", rng.text(6), rng.text(6)),
    }
}

/// An empty URL (the precompile's "none") half of the time, else [`url`].
fn optional_url(rng: &mut Rng) -> String {
    if rng.one_in(2) {
        String::new()
    } else {
        url(rng)
    }
}

fn addresses(rng: &mut Rng) -> Vec<Address> {
    (0..rng.below(3))
        .map(|_| {
            if rng.one_in(2) {
                ANYALLOWED
            } else {
                Address::repeat_byte(rng.byte())
            }
        })
        .collect()
}

fn block_args(rng: &mut Rng) -> BuildBlockArgs {
    BuildBlockArgs {
        slot: rng.edge_u64(),
        proposerPubkey: Bytes::from(rng.bytes_below(60)),
        parent: B256::repeat_byte(rng.byte()),
        timestamp: rng.edge_u64(),
        feeRecipient: Address::repeat_byte(rng.byte()),
        gasLimit: rng.edge_u64(),
        random: B256::repeat_byte(rng.byte()),
        withdrawals: (0..rng.below(3))
            .map(|_| Withdrawal {
                index: rng.edge_u64(),
                validator: rng.edge_u64(),
                Address: Address::repeat_byte(rng.byte()),
                amount: rng.edge_u64(),
            })
            .collect(),
        extra: Bytes::from(rng.bytes_below(40)),
        beaconRoot: B256::repeat_byte(rng.byte()),
        fillPending: rng.one_in(2),
    }
}

fn aes_key(rng: &mut Rng) -> Vec<u8> {
    let len = *rng.pick(&[16usize, 24, 32, 0, 31]);
    rng.bytes(len)
}

fn http_request(rng: &mut Rng) -> HttpRequest {
    HttpRequest {
        url: url(rng),
        method: rng
            .pick(&["GET", "POST", "PUT", "get", "", "BREW"])
            .to_string(),
        headers: (0..rng.below(3))
            .map(|_| {
                if rng.one_in(2) {
                    format!("X-{}: {}", rng.text(6), rng.text(10))
                } else {
                    rng.text(20)
                }
            })
            .collect(),
        body: Bytes::from(rng.bytes_below(64)),
        withFlashbotsSignature: rng.one_in(3),
        timeout: rng.edge_u64(),
    }
}

/// The records of [`seeded_store`]: bundles records, a merged record naming them, and a
/// record nobody may read.
pub(crate) struct Seeded {
    /// The store.
    pub(crate) store: MemoryStore,
    /// Ids the generators use half of the time.
    pub(crate) ids: Vec<DataId>,
}

/// A memory store with records the store, bundle and block precompiles can find.
pub(crate) fn seeded_store(txs: &[Vec<u8>]) -> Seeded {
    let mut rng = Rng::for_case(0, "precompile-inputs/store", 0);
    let record = |n: u64, peekers: Vec<Address>, ns: &str| {
        DataRecord::new(DataId::from([n as u8; 16]), 7, peekers, vec![], ns.into())
    };
    let bundles: Vec<DataRecord> = (1..=3)
        .map(|n| record(n, vec![ANYALLOWED], "mevshare:v0:matchBundles"))
        .collect();
    let merged = record(4, vec![ANYALLOWED], "default:v0:mergedDataRecords");
    let closed = record(5, vec![Address::repeat_byte(0x77)], "closed");
    let mut writes = Vec::new();
    for r in &bundles {
        for key in BUNDLE_KEYS {
            writes.push(StoreWrite {
                id: r.id,
                key: key.into(),
                value: bundle_json(&mut rng, txs).into(),
                caller: ANYALLOWED,
            });
        }
    }
    let merged_ids: Vec<FixedBytes<16>> = bundles.iter().map(|r| id_bytes(&r.id)).collect();
    for key in MERGED_KEYS {
        writes.push(StoreWrite {
            id: merged.id,
            key: key.into(),
            value: merged_ids.abi_encode().into(),
            caller: ANYALLOWED,
        });
    }
    let ids = bundles
        .iter()
        .chain([&merged, &closed])
        .map(|r| r.id)
        .collect();
    let store = MemoryStore::new();
    let mut records = bundles;
    records.extend([merged, closed]);
    store
        .commit(&StoreWriteSet { records, writes })
        .expect("seed store");
    Seeded { store, ids }
}

/// A well-formed input for the precompile at `address` (selector stripped), using the
/// seeded `ids` half of the time and the transactions of `txs`.
pub(crate) fn valid_input(
    rng: &mut Rng,
    address: Address,
    ids: &[DataId],
    txs: &[Vec<u8>],
) -> Vec<u8> {
    let id = if rng.one_in(2) && !ids.is_empty() {
        id_bytes(rng.pick(ids))
    } else {
        FixedBytes([rng.byte(); 16])
    };
    let key = if rng.one_in(2) {
        KEY_HEX.to_string()
    } else if rng.one_in(2) {
        format!("0x{KEY_HEX}")
    } else {
        rng.text(66)
    };
    let any_key = if rng.one_in(2) {
        rng.pick(&BUNDLE_KEYS).to_string()
    } else {
        rng.text(12)
    };
    let tx = if rng.one_in(4) {
        Bytes::from(rng.bytes_below(80))
    } else {
        Bytes::from(rng.pick(txs).clone())
    };
    let encoded = match address {
        CONFIDENTIAL_STORE => abi::confidentialStoreCall {
            dataId: id,
            key: any_key,
            value: rng.bytes_below(80).into(),
        }
        .abi_encode(),
        CONFIDENTIAL_RETRIEVE => abi::confidentialRetrieveCall {
            dataId: id,
            key: any_key,
        }
        .abi_encode(),
        NEW_DATA_RECORD => abi::newDataRecordCall {
            decryptionCondition: rng.edge_u64(),
            allowedPeekers: addresses(rng),
            allowedStores: addresses(rng),
            dataType: rng.text(20),
        }
        .abi_encode(),
        FETCH_DATA_RECORDS => abi::fetchDataRecordsCall {
            cond: if rng.one_in(2) { 7 } else { rng.edge_u64() },
            namespace: if rng.one_in(2) {
                "mevshare:v0:matchBundles".into()
            } else {
                rng.text(20)
            },
        }
        .abi_encode(),
        SIGN_ETH_TRANSACTION => abi::signEthTransactionCall {
            txn: tx,
            chainId: rng
                .pick(&["0x1", "1", "0x", "", "0xffffffffffffffffffff"])
                .to_string(),
            signingKey: key,
        }
        .abi_encode(),
        SIGN_MESSAGE => abi::signMessageCall {
            digest: rng.bytes_below(40).into(),
            crypto: rng.below(3) as u8,
            signingKey: key,
        }
        .abi_encode(),
        PRIVATE_KEY_GEN => abi::privateKeyGenCall {
            crypto: rng.below(3) as u8,
        }
        .abi_encode(),
        RANDOM_BYTES => abi::randomBytesCall {
            numBytes: rng.byte(),
        }
        .abi_encode(),
        AES_ENCRYPT => abi::aesEncryptCall {
            key: aes_key(rng).into(),
            message: rng.bytes_below(80).into(),
        }
        .abi_encode(),
        AES_DECRYPT => abi::aesDecryptCall {
            key: aes_key(rng).into(),
            ciphertext: rng.bytes_below(80).into(),
        }
        .abi_encode(),
        CONTEXT_GET => abi::contextGetCall {
            key: rng
                .pick(&[
                    "confidentialInputs",
                    "kettleAddress",
                    "__cookie_AWSALB",
                    "x",
                ])
                .to_string(),
        }
        .abi_encode(),
        SIMULATE_BUNDLE => abi::simulateBundleCall {
            bundleData: bundle_json(rng, txs).into(),
        }
        .abi_encode(),
        EXTRACT_HINT => abi::extractHintCall {
            bundleData: bundle_json(rng, txs).into(),
        }
        .abi_encode(),
        BUILD_ETH_BLOCK => abi::buildEthBlockCall {
            blockArgs: block_args(rng),
            dataId: id,
            relayUrl: optional_url(rng),
        }
        .abi_encode(),
        BUILD_ETH_BLOCK_TO => abi::buildEthBlockToCall {
            executionNodeURL: optional_url(rng),
            blockArgs: block_args(rng),
            dataId: id,
            relayUrl: optional_url(rng),
        }
        .abi_encode(),
        SUBMIT_ETH_BLOCK_TO_RELAY => abi::submitEthBlockToRelayCall {
            relayUrl: url(rng),
            builderBid: rng.bytes_below(80).into(),
        }
        .abi_encode(),
        ETHCALL => abi::ethcallCall {
            contractAddr: Address::repeat_byte(rng.byte()),
            input1: rng.bytes_below(80).into(),
        }
        .abi_encode(),
        SUBMIT_BUNDLE_JSON_RPC => abi::submitBundleJsonRPCCall {
            url: url(rng),
            method: rng
                .pick(&["eth_sendBundle", "mev_sendBundle", ""])
                .to_string(),
            params: if rng.one_in(2) {
                bundle_json(rng, txs).into()
            } else {
                rng.text(30).into_bytes().into()
            },
        }
        .abi_encode(),
        FILL_MEV_SHARE_BUNDLE => abi::fillMevShareBundleCall { dataId: id }.abi_encode(),
        DO_HTTP_REQUEST => abi::doHTTPRequestCall {
            request: http_request(rng),
        }
        .abi_encode(),
        DO_HTTP_REQUEST2 => abi::doHTTPRequest2Call {
            request: http_request(rng),
        }
        .abi_encode(),
        SIMULATE_TRANSACTION => abi::simulateTransactionCall {
            sessionid: if rng.one_in(2) {
                "session-1".into()
            } else {
                rng.text(10)
            },
            txn: tx,
        }
        .abi_encode(),
        // isConfidential, confidentialInputs, getInsecureTime, newBuilder, console.log:
        // no parameters (any input is accepted or ignored).
        _ => [[0u8; 4].as_slice(), &rng.bytes_below(40)].concat(),
    };
    encoded[4..].to_vec()
}

/// Well-formed inputs of every precompile of [`every_address`], the donors [`case_input`]
/// splices from (drawn from their own generator, `name`, so cases stay reproducible).
pub(crate) fn donor_inputs(name: &str, seeded: &Seeded, txs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut rng = Rng::for_case(0, name, 0);
    every_address()
        .iter()
        .map(|a| valid_input(&mut rng, *a, &seeded.ids, txs))
        .collect()
}

/// One fuzz case's input for the precompile at `address`: random bytes (1 in 8), a
/// well-formed input (2 in 8) or a damaged well-formed one (5 in 8).
pub(crate) fn case_input(
    rng: &mut Rng,
    address: Address,
    seeded: &Seeded,
    txs: &[Vec<u8>],
    donors: &[Vec<u8>],
) -> Vec<u8> {
    match rng.below(8) {
        0 => random_input(rng, 600, &[]),
        1 | 2 => valid_input(rng, address, &seeded.ids, txs),
        _ => {
            let valid = valid_input(rng, address, &seeded.ids, txs);
            mutate(rng, &valid, donors)
        }
    }
}
