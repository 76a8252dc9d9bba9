//! Property tests: encode/decode round trips for arbitrary field values, sign-then-recover,
//! and robustness of the decoders against corrupted, truncated, extended and random input:
//! every raw transaction type a kettle accepts (`0x43`, `0x50`, legacy, `0x01`–`0x04`).
//! Budget and seed: `KETTLE_FUZZ_CASES`, `KETTLE_FUZZ_SEED` (see `tests/fuzz/support.rs`).

#[path = "../../../tests/fuzz/support.rs"]
mod fuzz_support;

#[global_allocator]
static ALLOC: fuzz_support::TrackingAlloc = fuzz_support::TrackingAlloc;

use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy,
};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_primitives::{
    signature::{SECP256K1_HALF_ORDER, SECP256K1_ORDER},
    ConfidentialComputeRecord, ConfidentialComputeRequest, DecodeError, Signature,
    SuaveTransaction, SuaveTxEnvelope,
};
use proptest::prelude::*;

// ---------- strategies ----------

/// U256 values of every byte length (0 to 32), so short and long encodings both occur.
fn any_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u8>().prop_map(U256::from),
        any::<u64>().prop_map(U256::from),
        (any::<[u8; 32]>(), 0usize..=32).prop_map(|(b, len)| U256::from_be_bytes(b) >> (8 * len)),
        Just(U256::MAX),
    ]
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 0u64..=0x7f, any::<u64>(), Just(u64::MAX)]
}

fn any_bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn any_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

/// A signature satisfying the SUAVE rules (1 ≤ r < n, 1 ≤ s ≤ n/2), not necessarily over
/// anything meaningful.
fn any_valid_signature() -> impl Strategy<Value = Signature> {
    (any_u256(), any_u256(), any::<bool>()).prop_map(|(r, s, parity)| {
        let r = U256::from(1) + r % (SECP256K1_ORDER - U256::from(1));
        let s = U256::from(1) + s % SECP256K1_HALF_ORDER;
        Signature::new(r, s, parity)
    })
}

fn any_record() -> impl Strategy<Value = ConfidentialComputeRecord> {
    (
        any_u64(),
        any_u256(),
        any_u64(),
        prop::option::of(any_address()),
        any_u256(),
        any_bytes(300),
        any_address(),
        any::<[u8; 32]>().prop_map(B256::from),
        any::<bool>(),
        any_u256(),
        any_valid_signature(),
    )
        .prop_map(
            |(
                nonce,
                gas_price,
                gas,
                to,
                value,
                data,
                kettle,
                inputs_hash,
                is_eip712,
                chain_id,
                sig,
            )| {
                ConfidentialComputeRecord {
                    nonce,
                    gas_price,
                    gas,
                    to,
                    value,
                    data,
                    kettle_address: kettle,
                    confidential_inputs_hash: inputs_hash,
                    is_eip712,
                    chain_id,
                    signature: sig,
                }
            },
        )
}

fn any_request() -> impl Strategy<Value = ConfidentialComputeRequest> {
    (any_record(), any_bytes(400)).prop_map(|(r, i)| ConfidentialComputeRequest::new(r, i))
}

fn any_suave_tx() -> impl Strategy<Value = SuaveTransaction> {
    (
        any_record(),
        any_bytes(300),
        any_u256(),
        any_valid_signature(),
    )
        .prop_map(|(record, result, chain_id, signature)| SuaveTransaction {
            record,
            confidential_compute_result: result,
            chain_id,
            signature,
        })
}

fn any_signer() -> impl Strategy<Value = PrivateKeySigner> {
    any::<[u8; 32]>().prop_filter_map("valid secp256k1 scalar", |k| {
        PrivateKeySigner::from_bytes(&B256::from(k)).ok()
    })
}

/// Ways to damage an encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Truncate { len: usize },
    Extend { tail: Vec<u8> },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
}

fn any_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        prop::collection::vec(any::<u8>(), 1..40).prop_map(|tail| Mutation::Extend { tail }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
    ]
}

fn apply(mutation: &Mutation, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let n = out.len().max(1);
    match mutation {
        Mutation::Flip { at, mask } => {
            if let Some(b) = out.get_mut(at % n) {
                *b ^= mask;
            }
        }
        Mutation::Set { at, byte } => {
            if let Some(b) = out.get_mut(at % n) {
                *b = *byte;
            }
        }
        Mutation::Truncate { len } => out.truncate(len % n),
        Mutation::Extend { tail } => out.extend_from_slice(tail),
        Mutation::Insert { at, byte } => out.insert(at % (out.len() + 1), *byte),
        Mutation::Remove { at } => {
            if !out.is_empty() {
                out.remove(at % n);
            }
        }
    }
    out
}

/// Decodes `raw` through every entry point. Accepted SUAVE inputs must re-encode to exactly
/// the same bytes (decoding is canonical, hence injective).
fn decode_everywhere(raw: &[u8]) {
    match SuaveTxEnvelope::decode(raw) {
        Ok(SuaveTxEnvelope::Ethereum(_)) | Err(_) => {}
        Ok(env) => assert_eq!(env.encoded(), raw, "accepted a non-canonical encoding"),
    }
    if let Ok(req) = ConfidentialComputeRequest::decode(raw) {
        assert_eq!(req.encoded(), raw);
    }
    if let Ok(tx) = SuaveTransaction::decode(raw) {
        assert_eq!(tx.encoded(), raw);
    }
    let mut buf = raw;
    if let Ok(record) = ConfidentialComputeRecord::decode_rlp(&mut buf) {
        let consumed = &raw[..raw.len() - buf.len()];
        assert_eq!(alloy_rlp::encode(&record), consumed);
    }
}

// ---------- properties ----------

proptest! {
    #![proptest_config(fuzz_support::proptest_config!("primitives/properties", 8))]

    #[test]
    fn record_rlp_roundtrip(record in any_record()) {
        let encoded = alloy_rlp::encode(&record);
        prop_assert_eq!(encoded.len(), record.length());
        let mut buf = &encoded[..];
        let decoded = ConfidentialComputeRecord::decode_rlp(&mut buf).unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(decoded, record);
    }

    #[test]
    fn request_roundtrip(req in any_request()) {
        let raw = req.encoded();
        prop_assert_eq!(raw.len(), req.encoded_len());
        prop_assert_eq!(raw[0], 0x43);
        let decoded = ConfidentialComputeRequest::decode(&raw).unwrap();
        prop_assert_eq!(&decoded, &req);
        prop_assert_eq!(decoded.tx_hash(), alloy_primitives::keccak256(&raw));
        prop_assert_eq!(
            SuaveTxEnvelope::decode(&raw).unwrap(),
            SuaveTxEnvelope::ConfidentialRequest(req)
        );
    }

    #[test]
    fn suave_tx_roundtrip(tx in any_suave_tx()) {
        let raw = tx.encoded();
        prop_assert_eq!(raw.len(), tx.encoded_len());
        prop_assert_eq!(raw[0], 0x50);
        let decoded = SuaveTransaction::decode(&raw).unwrap();
        prop_assert_eq!(&decoded, &tx);
        prop_assert_eq!(SuaveTxEnvelope::decode(&raw).unwrap(), SuaveTxEnvelope::Suave(tx));
    }

    #[test]
    fn decoders_survive_mutations_of_encodings(
        req in any_request(),
        tx in any_suave_tx(),
        mutations in prop::collection::vec(any_mutation(), 1..4),
    ) {
        for base in [req.encoded(), tx.encoded()] {
            let mut raw = base;
            for m in &mutations {
                raw = apply(m, &raw);
                decode_everywhere(&raw);
            }
        }
    }
}

proptest! {
    // Signing is slow in unoptimised builds; fewer cases suffice for these.
    #![proptest_config(fuzz_support::proptest_config!("primitives/signing", 40))]

    #[test]
    fn sign_then_recover(
        user in any_signer(),
        kettle in any_signer(),
        mut req in any_request(),
        result in any_bytes(200),
        chain_id in any::<u64>(),
    ) {
        req.record.chain_id = U256::from(chain_id);
        req.record.kettle_address = kettle.address();
        if req.record.is_eip712 && req.record.to.is_none() {
            req.record.to = Some(Address::with_last_byte(1));
        }
        let req = req.into_signed(&user).unwrap();
        prop_assert_eq!(req.record.confidential_inputs_hash, req.compute_inputs_hash());
        let decoded = ConfidentialComputeRequest::decode(&req.encoded()).unwrap();
        prop_assert_eq!(decoded.recover_signer(chain_id).unwrap(), user.address());

        let tx = SuaveTransaction::new(decoded.record, result).into_signed(&kettle).unwrap();
        let decoded = SuaveTransaction::decode(&tx.encoded()).unwrap();
        prop_assert_eq!(decoded.recover_kettle(chain_id).unwrap(), kettle.address());
        prop_assert_eq!(decoded.recover_signer(chain_id).unwrap(), user.address());
    }

    #[test]
    fn corrupting_a_signed_request_never_panics(
        user in any_signer(),
        mut req in any_request(),
        mutation in any_mutation(),
        chain_id in any::<u64>(),
    ) {
        req.record.chain_id = U256::from(chain_id);
        req.record.to = req.record.to.or(Some(Address::ZERO));
        let raw = req.into_signed(&user).unwrap().encoded();
        let damaged = apply(&mutation, &raw);
        decode_everywhere(&damaged);
        // whatever decodes must also go through recovery without panicking
        if let Ok(env) = SuaveTxEnvelope::decode(&damaged) {
            let _ = env.recover_signer(chain_id);
        }
    }
}

// ---------- campaign over every accepted type ----------

/// Valid encodings to damage: every vector's raw `0x43`, a `0x50`, and signed Ethereum
/// transactions of every type the envelope hands to alloy (legacy with and without
/// EIP-155, `0x01`, `0x02`, `0x03`, `0x04`).
fn corpus() -> Vec<Vec<u8>> {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/ccr.json")).expect("json");
    let mut corpus: Vec<Vec<u8>> = fixture["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|v| {
            alloy_primitives::hex::decode(v["rawSignedTx"].as_str().expect("raw")).expect("hex")
        })
        .collect();
    let user = PrivateKeySigner::from_bytes(&B256::with_last_byte(1)).expect("key");
    let req = ConfidentialComputeRequest::decode(&corpus[0]).expect("vector 0");
    let tx = SuaveTransaction::new(req.record, Bytes::from_static(&[0xab; 70]))
        .into_signed(&user)
        .expect("sign");
    corpus.push(tx.encoded());

    const CHAIN: u64 = 16_813_125;
    let to = Address::with_last_byte(2);
    let access_list = alloy_eips::eip2930::AccessList(vec![alloy_eips::eip2930::AccessListItem {
        address: to,
        storage_keys: vec![B256::with_last_byte(1), B256::with_last_byte(2)],
    }]);
    fn signed<T: SignableTransaction<alloy_primitives::Signature>>(
        user: &PrivateKeySigner,
        tx: T,
    ) -> Vec<u8>
    where
        TxEnvelope: From<alloy_consensus::Signed<T>>,
    {
        let sig = user.sign_hash_sync(&tx.signature_hash()).expect("sign");
        TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
    }
    corpus.push(signed(
        &user,
        TxLegacy {
            chain_id: Some(CHAIN),
            gas_limit: 21_000,
            to: TxKind::Call(to),
            ..Default::default()
        },
    ));
    corpus.push(signed(
        &user,
        TxLegacy {
            chain_id: None,
            gas_limit: 60_000,
            to: TxKind::Create,
            input: Bytes::from_static(&[0x60, 0x00, 0xf3]),
            ..Default::default()
        },
    ));
    corpus.push(signed(
        &user,
        TxEip2930 {
            chain_id: CHAIN,
            gas_limit: 30_000,
            to: TxKind::Call(to),
            access_list: access_list.clone(),
            input: Bytes::from_static(&[9; 40]),
            ..Default::default()
        },
    ));
    corpus.push(signed(
        &user,
        TxEip1559 {
            chain_id: CHAIN,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            input: Bytes::from_static(&[1, 2, 3]),
            access_list: access_list.clone(),
            ..Default::default()
        },
    ));
    corpus.push(signed(
        &user,
        TxEip4844 {
            chain_id: CHAIN,
            gas_limit: 21_000,
            to,
            blob_versioned_hashes: vec![B256::with_last_byte(1); 2],
            max_fee_per_blob_gas: 7,
            ..Default::default()
        },
    ));
    let auth = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(CHAIN),
        address: to,
        nonce: 3,
    };
    let auth_sig = user
        .sign_hash_sync(&auth.signature_hash())
        .expect("sign authorization");
    corpus.push(signed(
        &user,
        TxEip7702 {
            chain_id: CHAIN,
            gas_limit: 50_000,
            to,
            authorization_list: vec![auth.into_signed(auth_sig)],
            ..Default::default()
        },
    ));
    corpus
}

/// First bytes worth trying on random input: SUAVE types, the record type, Ethereum types,
/// unsupported types and RLP list headers (legacy).
const FIRST_BYTES: [u8; 13] = [
    0x43, 0x50, 0x42, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7f, 0xc0, 0xf8, 0xf9,
];

#[test]
fn fuzz_typed_transaction_decoding() {
    let corpus = corpus();
    for raw in &corpus {
        assert!(
            SuaveTxEnvelope::decode(raw).is_ok(),
            "corpus entry 0x{}",
            hex(raw)
        );
    }
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let outcomes = fuzz_support::Campaign::new("primitives/typed-tx", 2).run(|case| {
        let rng = &mut case.rng;
        let input = match rng.below(8) {
            0 => fuzz_support::random_input(rng, 300, &FIRST_BYTES),
            1 => rng.pick(&corpus).clone(),
            _ => {
                let base = rng.pick(&corpus).clone();
                fuzz_support::mutate(rng, &base, &corpus)
            }
        };
        case.record(&input);
        decode_everywhere(&input);
        match SuaveTxEnvelope::decode(&input) {
            Ok(env) => {
                // Every accepted input goes through recovery too (may fail, never panic).
                let _ = env.recover_signer(16_813_125);
                let _ = env.tx_hash();
                match env {
                    SuaveTxEnvelope::ConfidentialRequest(_) => "0x43",
                    SuaveTxEnvelope::Suave(_) => "0x50",
                    SuaveTxEnvelope::Ethereum(_) => "ethereum",
                }
            }
            Err(e) => {
                let kind = format!("{e:?}");
                let kind = kind.split(['(', ' ', '{']).next().unwrap_or_default();
                *errors.entry(kind.to_owned()).or_default() += 1;
                "error"
            }
        }
    });
    println!("typed-tx errors by kind: {errors:?}");
    fuzz_support::assert_outcomes(&outcomes, &["0x43", "0x50", "ethereum", "error"]);
    assert!(
        errors.len() >= 5,
        "expected a variety of typed errors, got {errors:?}"
    );
}

fn hex(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode(bytes)
}

/// RLP headers claiming 2^31 to 2^64 bytes behind every type byte are refused at once,
/// without allocating what they claim; so is anything above `MAX_ENCODED_TX_BYTES`.
#[test]
fn huge_length_prefixes_are_refused_quickly() {
    let start = std::time::Instant::now();
    for claim in fuzz_support::HUGE_LENGTHS {
        for list in [true, false] {
            let header = fuzz_support::rlp_huge_header(list, claim);
            for ty in [
                None,
                Some(0x43),
                Some(0x50),
                Some(0x01),
                Some(0x02),
                Some(0x03),
                Some(0x04),
            ] {
                let mut raw: Vec<u8> = ty.into_iter().collect();
                raw.extend_from_slice(&header);
                raw.extend_from_slice(&[0x80; 40]);
                assert!(SuaveTxEnvelope::decode(&raw).is_err(), "0x{}", hex(&raw));
                decode_everywhere(&raw);
            }
        }
    }
    // A valid request whose data item claims 2^32 bytes.
    let mut raw = corpus()[0].clone();
    let at = raw.len() / 2;
    raw.splice(at..at, fuzz_support::rlp_huge_header(false, 1 << 32));
    assert!(SuaveTxEnvelope::decode(&raw).is_err());
    assert!(
        fuzz_support::largest_alloc() < 1 << 20,
        "{}",
        fuzz_support::largest_alloc()
    );
    let too_big = vec![0x02; kettle_primitives::MAX_ENCODED_TX_BYTES + 1];
    assert!(SuaveTxEnvelope::decode(&too_big).is_err());
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn non_canonical_forms_are_rejected() {
    // Take a signed request and rewrite individual items in non-canonical forms.
    let user = PrivateKeySigner::from_bytes(&B256::with_last_byte(7)).expect("key");
    let req = ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            nonce: 5,
            gas_price: U256::from(0x1234),
            gas: 21_000,
            to: Some(Address::with_last_byte(1)),
            value: U256::from(3),
            data: Bytes::from_static(&[0x05]),
            chain_id: U256::from(16_813_125u64),
            ..Default::default()
        },
        Bytes::new(),
    )
    .into_signed(&user)
    .expect("sign");

    /// Rebuilds the 0x43 with the record items produced by `items` (already encoded).
    fn rebuild(items: &[Vec<u8>], inputs: &[u8]) -> Vec<u8> {
        let record_payload: Vec<u8> = items.concat();
        let mut record = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: record_payload.len(),
        }
        .encode(&mut record);
        record.extend_from_slice(&record_payload);
        let payload = [record, inputs.to_vec()].concat();
        let mut out = vec![0x43];
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }
    let r = &req.record;
    let items: Vec<Vec<u8>> = vec![
        alloy_rlp::encode(r.nonce),
        alloy_rlp::encode(r.gas_price),
        alloy_rlp::encode(r.gas),
        alloy_rlp::encode(r.to.expect("to")),
        alloy_rlp::encode(r.value),
        alloy_rlp::encode(&r.data),
        alloy_rlp::encode(r.kettle_address),
        alloy_rlp::encode(r.confidential_inputs_hash),
        alloy_rlp::encode(r.is_eip712),
        alloy_rlp::encode(r.chain_id),
        alloy_rlp::encode(u8::from(r.signature.v())),
        alloy_rlp::encode(r.signature.r()),
        alloy_rlp::encode(r.signature.s()),
    ];
    let inputs = alloy_rlp::encode(&req.confidential_inputs);
    assert_eq!(rebuild(&items, &inputs), req.encoded(), "baseline");
    assert!(ConfidentialComputeRequest::decode(&rebuild(&items, &inputs)).is_ok());

    let with = |idx: usize, item: &[u8]| {
        let mut items = items.clone();
        items[idx] = item.to_vec();
        ConfidentialComputeRequest::decode(&rebuild(&items, &inputs))
    };
    let rlp_err =
        |res: Result<ConfidentialComputeRequest, DecodeError>, want: alloy_rlp::Error| match res {
            Err(DecodeError::Rlp { source, .. }) => assert_eq!(source, want),
            other => panic!("expected rlp error {want:?}, got {other:?}"),
        };

    // leading zeros in integers (u64 and U256 fields)
    rlp_err(with(0, &[0x82, 0x00, 0x05]), alloy_rlp::Error::LeadingZero);
    rlp_err(
        with(1, &[0x83, 0x00, 0x12, 0x34]),
        alloy_rlp::Error::LeadingZero,
    );
    rlp_err(with(9, &[0x00]), alloy_rlp::Error::LeadingZero);
    // single byte < 0x80 wrapped in a string header (the counting scan catches it first)
    rlp_err(
        with(4, &[0x81, 0x03]),
        alloy_rlp::Error::NonCanonicalSingleByte,
    );
    rlp_err(
        with(5, &[0x81, 0x05]),
        alloy_rlp::Error::NonCanonicalSingleByte,
    );
    // long-form length for a short payload
    let mut long_form = vec![0xb8, 0x14];
    long_form.extend_from_slice(r.kettle_address.as_slice());
    rlp_err(with(6, &long_form), alloy_rlp::Error::NonCanonicalSize);
    // integers too wide for their type
    rlp_err(
        with(2, &[0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        alloy_rlp::Error::Overflow,
    );
    let mut wide = vec![0xa1, 0x01];
    wide.extend_from_slice(&[0u8; 32]);
    rlp_err(with(4, &wide), alloy_rlp::Error::Overflow);
    // wrong fixed sizes
    rlp_err(with(3, &[0x93; 20]), alloy_rlp::Error::UnexpectedLength);
    let mut short_hash = vec![0x9f];
    short_hash.extend_from_slice(&[1u8; 31]);
    rlp_err(with(7, &short_hash), alloy_rlp::Error::UnexpectedLength);
    // strings where integers are expected and vice versa
    rlp_err(with(0, &[0xc0]), alloy_rlp::Error::UnexpectedList);
    rlp_err(with(5, &[0xc0]), alloy_rlp::Error::UnexpectedList);
    // booleans must be 0x80 / 0x01
    assert!(matches!(
        with(8, &[0x02]),
        Err(DecodeError::InvalidBool { .. })
    ));
    assert!(matches!(
        with(8, &[0x00]),
        Err(DecodeError::InvalidBool { .. })
    ));
    // v must be 0 or 1
    for v in [&[0x02u8][..], &[0x1b], &[0x1c], &[0x82, 0x01, 0x00]] {
        let err = with(10, v).unwrap_err();
        assert!(
            matches!(err, DecodeError::InvalidSignature { .. }),
            "{v:?}: {err:?}"
        );
        assert_eq!(err.to_string(), "invalid transaction v, r, s values");
    }
    // r, s out of range, zero, or high s
    let bad_scalars = [
        U256::ZERO,
        SECP256K1_ORDER,
        U256::MAX,
        SECP256K1_HALF_ORDER + U256::from(1),
    ];
    for (idx, value) in [11usize, 12]
        .into_iter()
        .flat_map(|i| bad_scalars.map(|v| (i, v)))
    {
        if idx == 11 && value == SECP256K1_HALF_ORDER + U256::from(1) {
            continue; // a high r is fine
        }
        let err = with(idx, &alloy_rlp::encode(value)).unwrap_err();
        assert!(
            matches!(err, DecodeError::InvalidSignature { .. }),
            "{idx} {value}: {err:?}"
        );
    }
    // item counts: 12 and 14 record items
    let twelve = rebuild(&items[..12], &inputs);
    assert!(matches!(
        ConfidentialComputeRequest::decode(&twelve),
        Err(DecodeError::ListLength {
            expected: 13,
            got: 12,
            ..
        })
    ));
    let mut fourteen = items.clone();
    fourteen.push(vec![0x80]);
    assert!(matches!(
        ConfidentialComputeRequest::decode(&rebuild(&fourteen, &inputs)),
        Err(DecodeError::ListLength {
            expected: 13,
            got: 14,
            ..
        })
    ));
    // the outer list with a non-canonical long-form header
    let raw = req.encoded();
    assert!(raw.len() < 0xff + 3);
    let mut long_outer = vec![0x43, 0xf9, 0x00, raw[2]];
    long_outer.extend_from_slice(&raw[3..]);
    let err = ConfidentialComputeRequest::decode(&long_outer).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Rlp {
                source: alloy_rlp::Error::LeadingZero,
                ..
            }
        ),
        "{err:?}"
    );
    // trailing bytes, empty input, truncated input
    let mut trailing = raw.clone();
    trailing.extend_from_slice(&[0xc0]);
    assert!(matches!(
        ConfidentialComputeRequest::decode(&trailing),
        Err(DecodeError::TrailingBytes { trailing: 1 })
    ));
    assert!(matches!(
        ConfidentialComputeRequest::decode(&[]),
        Err(DecodeError::Empty)
    ));
    for len in 1..raw.len() {
        assert!(
            ConfidentialComputeRequest::decode(&raw[..len]).is_err(),
            "prefix {len}"
        );
    }
}
