//! Conformance tests against `tests/fixtures/ccr.json`, produced by `@flashbots/suave-viem`
//! 1.15.1 (copied from `shared/vectors/`, see its README). Every vector is checked for
//! decoding, re-encoding, hashes, signing digests, sender recovery and deterministic
//! re-signing; a 0x50 is then built around each request with the dev kettle key.

use alloy_primitives::{hex, keccak256, Address, Bytes, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolStruct;
use kettle_primitives::{
    eip712, signature::UNSIGNED, ConfidentialComputeRecord, ConfidentialComputeRequest,
    RecoveryError, Signature, SuaveTransaction, SuaveTxEnvelope, DEV_KETTLE_ADDRESS,
    SUAVE_RIGIL_CHAIN_ID, SUAVE_TOLIMAN_CHAIN_ID,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Published dev kettle key of suave-geth (`--suave.dev`).
const DEV_KETTLE_KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture {
    chain_ids: BTreeMap<String, u64>,
    kettle_address: Address,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector {
    id: String,
    signing_mode: String,
    private_key: B256,
    expected_sender: String,
    inputs: Inputs,
    confidential_inputs_hash: B256,
    signing: Signing,
    signature: VectorSignature,
    raw_signed_tx: Bytes,
    tx_hash: B256,
    wire_fields: BTreeMap<String, String>,
    recovered_sender: String,
    wallet_output: Option<WalletOutput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inputs {
    nonce: String,
    gas_price: String,
    gas: String,
    to: Option<Address>,
    value: String,
    data: Bytes,
    kettle_address: Address,
    confidential_inputs: Bytes,
    chain_id: String,
    #[serde(rename = "isEIP712")]
    is_eip712: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Signing {
    digest: B256,
    domain_type_hash: Option<B256>,
    record_type_hash: Option<B256>,
    domain_separator: Option<B256>,
    struct_hash: Option<B256>,
    record_serialized: Option<Bytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VectorSignature {
    v: String,
    y_parity: u8,
    r: B256,
    s: B256,
    r_on_wire: String,
    s_on_wire: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WalletOutput {
    raw_signed_tx: Bytes,
    v: String,
    recovered_sender: String,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/ccr.json")).expect("ccr.json parses")
}

fn dec_u256(s: &str) -> U256 {
    U256::from_str_radix(s, 10).expect("decimal integer")
}

fn dec_u64(s: &str) -> u64 {
    s.parse().expect("decimal u64")
}

/// `0x` + minimal big-endian hex, the `wireFields` notation (`0x` = zero / false / empty).
fn min_hex(x: U256) -> String {
    let bytes = x.to_be_bytes_trimmed_vec();
    format!("0x{}", hex::encode(bytes))
}

/// The unsigned request the vector's `inputs` describe.
fn unsigned_request(v: &Vector) -> ConfidentialComputeRequest {
    let i = &v.inputs;
    ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            nonce: dec_u64(&i.nonce),
            gas_price: dec_u256(&i.gas_price),
            gas: dec_u64(&i.gas),
            to: i.to,
            value: dec_u256(&i.value),
            data: i.data.clone(),
            kettle_address: i.kettle_address,
            confidential_inputs_hash: B256::ZERO,
            is_eip712: i.is_eip712,
            chain_id: dec_u256(&i.chain_id),
            signature: UNSIGNED,
        },
        i.confidential_inputs.clone(),
    )
}

fn vector_signature(v: &Vector) -> Signature {
    Signature::new(
        v.signature.r.into(),
        v.signature.s.into(),
        v.signature.y_parity == 1,
    )
}

fn node_chain_id(v: &Vector) -> u64 {
    dec_u64(&v.inputs.chain_id)
}

fn check_vector(v: &Vector) {
    let id = &v.id;
    let chain_id = node_chain_id(v);

    // --- decode gives the inputs ---
    let req = ConfidentialComputeRequest::decode(&v.raw_signed_tx)
        .unwrap_or_else(|e| panic!("{id}: decode failed: {e}"));
    let r = &req.record;
    let i = &v.inputs;
    assert_eq!(r.nonce, dec_u64(&i.nonce), "{id}: nonce");
    assert_eq!(r.gas_price, dec_u256(&i.gas_price), "{id}: gasPrice");
    assert_eq!(r.gas, dec_u64(&i.gas), "{id}: gas");
    assert_eq!(r.to, i.to, "{id}: to");
    assert_eq!(r.value, dec_u256(&i.value), "{id}: value");
    assert_eq!(r.data, i.data, "{id}: data");
    assert_eq!(r.kettle_address, i.kettle_address, "{id}: kettleAddress");
    assert_eq!(
        req.confidential_inputs, i.confidential_inputs,
        "{id}: confidentialInputs"
    );
    assert_eq!(r.is_eip712, i.is_eip712, "{id}: isEIP712");
    assert_eq!(r.is_eip712, v.signing_mode == "eip712", "{id}: signingMode");
    assert_eq!(r.chain_id, dec_u256(&i.chain_id), "{id}: chainId");
    assert_eq!(r.signature, vector_signature(v), "{id}: signature");
    assert_eq!(
        u8::from(r.signature.v()).to_string(),
        v.signature.v,
        "{id}: v"
    );

    // --- decode gives the wire fields ---
    let w = |k: &str| {
        v.wire_fields
            .get(k)
            .unwrap_or_else(|| panic!("{id}: wireFields.{k}"))
    };
    assert_eq!(&min_hex(U256::from(r.nonce)), w("nonce"), "{id}");
    assert_eq!(&min_hex(r.gas_price), w("gasPrice"), "{id}");
    assert_eq!(&min_hex(U256::from(r.gas)), w("gas"), "{id}");
    let to = r.to.map_or_else(|| "0x".to_owned(), |a| format!("{a:#x}"));
    assert_eq!(&to, w("to"), "{id}");
    assert_eq!(&min_hex(r.value), w("value"), "{id}");
    assert_eq!(&r.data.to_string(), w("data"), "{id}");
    assert_eq!(
        &format!("{:#x}", r.kettle_address),
        w("kettleAddress"),
        "{id}"
    );
    assert_eq!(
        &r.confidential_inputs_hash.to_string(),
        w("confidentialInputsHash"),
        "{id}"
    );
    assert_eq!(&min_hex(U256::from(r.is_eip712)), w("isEIP712"), "{id}");
    assert_eq!(&min_hex(r.chain_id), w("chainId"), "{id}");
    assert_eq!(&min_hex(U256::from(r.signature.v())), w("v"), "{id}");
    assert_eq!(&min_hex(r.signature.r()), w("r"), "{id}");
    assert_eq!(&min_hex(r.signature.s()), w("s"), "{id}");
    assert_eq!(
        &min_hex(r.signature.r()),
        &v.signature.r_on_wire,
        "{id}: rOnWire"
    );
    assert_eq!(
        &min_hex(r.signature.s()),
        &v.signature.s_on_wire,
        "{id}: sOnWire"
    );
    assert_eq!(
        &req.confidential_inputs.to_string(),
        w("confidentialInputs"),
        "{id}"
    );
    assert_eq!(
        v.wire_fields.len(),
        14,
        "{id}: wireFields has 13 record items + inputs"
    );

    // --- encode(fields) gives the raw bytes; hashes ---
    let mut built = unsigned_request(v);
    built.record.confidential_inputs_hash = v.confidential_inputs_hash;
    built.record.signature = vector_signature(v);
    assert_eq!(built, req, "{id}: fields from inputs");
    assert_eq!(built.encoded(), v.raw_signed_tx.as_ref(), "{id}: encoding");
    assert_eq!(
        built.encoded_len(),
        v.raw_signed_tx.len(),
        "{id}: encoded_len"
    );
    assert_eq!(req.tx_hash(), v.tx_hash, "{id}: txHash");
    assert_eq!(
        keccak256(&v.raw_signed_tx),
        v.tx_hash,
        "{id}: txHash is keccak(raw)"
    );
    assert_eq!(
        req.compute_inputs_hash(),
        v.confidential_inputs_hash,
        "{id}: inputs hash"
    );
    assert_eq!(
        r.confidential_inputs_hash, v.confidential_inputs_hash,
        "{id}: wire inputs hash"
    );

    // --- signing digests ---
    assert_eq!(req.signing_hash(), v.signing.digest, "{id}: signing digest");
    if r.is_eip712 {
        let domain = eip712::domain(r.kettle_address);
        let msg = eip712::ConfidentialRecord::from_record(r).expect("vector has a `to`");
        assert_eq!(
            Some(domain.type_hash()),
            v.signing.domain_type_hash,
            "{id}: domain type"
        );
        assert_eq!(
            Some(msg.eip712_type_hash()),
            v.signing.record_type_hash,
            "{id}: record type"
        );
        assert_eq!(
            Some(domain.separator()),
            v.signing.domain_separator,
            "{id}: separator"
        );
        assert_eq!(
            Some(msg.eip712_hash_struct()),
            v.signing.struct_hash,
            "{id}: structHash"
        );
        assert_eq!(r.eip712_signing_hash(), v.signing.digest, "{id}");
    } else {
        let preimage = v
            .signing
            .record_serialized
            .as_ref()
            .expect("plain vector preimage");
        assert_eq!(
            r.plain_signing_preimage(),
            preimage.as_ref(),
            "{id}: recordSerialized"
        );
        assert_eq!(r.plain_signing_hash(), v.signing.digest, "{id}");
    }

    // --- sender recovery ---
    let sender = req
        .recover_signer(chain_id)
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert_eq!(
        sender.to_checksum(None),
        v.expected_sender,
        "{id}: expectedSender"
    );
    assert_eq!(
        sender.to_checksum(None),
        v.recovered_sender,
        "{id}: recoveredSender"
    );
    let env = SuaveTxEnvelope::decode(&v.raw_signed_tx).expect("envelope decode");
    assert_eq!(
        env,
        SuaveTxEnvelope::ConfidentialRequest(req.clone()),
        "{id}"
    );
    assert_eq!(env.recover_signer(chain_id).unwrap(), sender, "{id}");
    assert_eq!(env.tx_hash(), v.tx_hash, "{id}");
    let other_chain = if chain_id == SUAVE_RIGIL_CHAIN_ID {
        SUAVE_TOLIMAN_CHAIN_ID
    } else {
        SUAVE_RIGIL_CHAIN_ID
    };
    assert_eq!(
        req.recover_signer(other_chain).unwrap_err().to_string(),
        format!("invalid chain id for signer: have {chain_id} want {other_chain}"),
        "{id}"
    );

    // --- suave-viem's plain-signing wallet bug: recover the wrong sender, don't fix v ---
    if let Some(wallet) = &v.wallet_output {
        assert_eq!(v.signing_mode, "plain", "{id}: only plain mode has the bug");
        let bad = ConfidentialComputeRequest::decode(&wallet.raw_signed_tx).expect("decodes");
        assert_eq!(
            u8::from(bad.record.signature.v()).to_string(),
            wallet.v,
            "{id}"
        );
        assert_eq!(bad.record.signature.r(), r.signature.r(), "{id}: same r");
        assert_eq!(bad.record.signature.s(), r.signature.s(), "{id}: same s");
        let wrong = bad
            .recover_signer(chain_id)
            .expect("still a valid signature");
        assert_eq!(
            wrong.to_checksum(None),
            wallet.recovered_sender,
            "{id}: wallet sender"
        );
        assert_ne!(wrong, sender, "{id}: the bug changes the sender");
        assert_eq!(
            bad.encoded(),
            wallet.raw_signed_tx.as_ref(),
            "{id}: wallet re-encode"
        );
    }

    // --- deterministic re-signing reproduces the exact bytes ---
    let signer = PrivateKeySigner::from_bytes(&v.private_key).expect("valid key");
    assert_eq!(
        signer.address().to_checksum(None),
        v.expected_sender,
        "{id}: key→address"
    );
    let resigned = unsigned_request(v).into_signed(&signer).expect("signs");
    assert_eq!(
        resigned.encoded(),
        v.raw_signed_tx.as_ref(),
        "{id}: re-signed bytes"
    );
}

#[test]
fn every_ccr_vector_conforms() {
    let fixture = fixture();
    let raw_count = serde_json::from_str::<serde_json::Value>(include_str!("fixtures/ccr.json"))
        .expect("json")["vectors"]
        .as_array()
        .expect("vectors array")
        .len();
    assert_eq!(fixture.vectors.len(), raw_count);
    assert!(fixture.vectors.len() >= 14, "expected at least 14 vectors");
    assert_eq!(fixture.kettle_address, DEV_KETTLE_ADDRESS);
    assert_eq!(
        fixture.chain_ids["suaveRigil_devChain"],
        SUAVE_RIGIL_CHAIN_ID
    );
    assert_eq!(fixture.chain_ids["suaveToliman"], SUAVE_TOLIMAN_CHAIN_ID);

    let mut checked = 0;
    let (mut eip712, mut plain, mut wallet_bug) = (0, 0, 0);
    for v in &fixture.vectors {
        check_vector(v);
        checked += 1;
        if v.signing_mode == "eip712" {
            eip712 += 1;
        } else {
            plain += 1;
        }
        wallet_bug += usize::from(v.wallet_output.is_some());
        println!("vector ok: {}", v.id);
    }
    println!(
        "checked {checked} ccr vectors ({eip712} eip712, {plain} plain, {wallet_bug} wallet v-bug)"
    );
    assert_eq!(checked, raw_count);
    assert!(eip712 > 0 && plain > 0 && wallet_bug > 0);
}

#[test]
fn vectors_cover_both_parities_and_short_signature_scalars() {
    let fixture = fixture();
    let parities: Vec<u8> = fixture
        .vectors
        .iter()
        .map(|v| v.signature.y_parity)
        .collect();
    assert!(parities.contains(&0) && parities.contains(&1));
    assert!(fixture
        .vectors
        .iter()
        .any(|v| v.signature.r_on_wire.len() < 66));
    assert!(fixture
        .vectors
        .iter()
        .any(|v| v.signature.s_on_wire.len() < 66));
    assert!(fixture
        .vectors
        .iter()
        .any(|v| node_chain_id(v) == SUAVE_TOLIMAN_CHAIN_ID));
}

/// chainId is not signed: the toliman twins carry the same signature as their rigil originals.
#[test]
fn toliman_twins_share_signatures() {
    let fixture = fixture();
    let mut twins = 0;
    for v in fixture
        .vectors
        .iter()
        .filter(|v| v.id.ends_with("-toliman"))
    {
        let base_id = v.id.trim_end_matches("-toliman");
        let base = fixture
            .vectors
            .iter()
            .find(|b| b.id == base_id)
            .expect("rigil twin");
        assert_eq!(vector_signature(v), vector_signature(base), "{}", v.id);
        assert_eq!(v.signing.digest, base.signing.digest, "{}", v.id);
        assert_ne!(v.tx_hash, base.tx_hash, "{}", v.id);
        twins += 1;
    }
    assert!(twins > 0);
}

/// Builds a 0x50 around every vector's request with the dev kettle key and checks it.
#[test]
fn suave_transaction_around_every_vector() {
    let kettle = PrivateKeySigner::from_bytes(&DEV_KETTLE_KEY.parse().expect("hex")).expect("key");
    assert_eq!(kettle.address(), DEV_KETTLE_ADDRESS);
    let fixture = fixture();
    for v in &fixture.vectors {
        let chain_id = node_chain_id(v);
        let user = PrivateKeySigner::from_bytes(&v.private_key).expect("key");
        let req = unsigned_request(v).into_signed(&user).expect("signs");
        let result = Bytes::from(keccak256(v.id.as_bytes()).to_vec());
        let tx = SuaveTransaction::new(req.record.clone(), result.clone())
            .into_signed(&kettle)
            .expect("kettle signs");

        let raw = tx.encoded();
        assert_eq!(raw[0], 0x50);
        let decoded = SuaveTransaction::decode(&raw).expect("decodes");
        assert_eq!(decoded, tx, "{}", v.id);
        assert_eq!(decoded.encoded(), raw, "{}", v.id);
        assert_eq!(decoded.tx_hash(), keccak256(&raw), "{}", v.id);
        assert_eq!(decoded.chain_id, req.record.chain_id, "{}", v.id);
        assert_eq!(decoded.confidential_compute_result, result, "{}", v.id);
        assert_eq!(
            decoded.record.record_hash(),
            req.record.record_hash(),
            "{}",
            v.id
        );
        assert_eq!(
            decoded.recover_kettle(chain_id).expect("kettle"),
            DEV_KETTLE_ADDRESS
        );
        let sender = decoded.recover_signer(chain_id).expect("sender");
        assert_eq!(
            sender.to_checksum(None),
            v.expected_sender,
            "{}: sender is the user",
            v.id
        );
        let env = SuaveTxEnvelope::decode(&raw).expect("envelope");
        assert_eq!(env.tx_type(), 0x50);
        assert_eq!(env.recover_signer(chain_id).expect("sender"), sender);

        // the kettle digest embeds the user digest of the record
        let mut preimage = vec![0x50];
        let payload = [
            alloy_rlp::encode(req.signing_hash()),
            alloy_rlp::encode(&result),
        ]
        .concat();
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut preimage);
        preimage.extend_from_slice(&payload);
        assert_eq!(
            decoded.kettle_signing_hash(),
            keccak256(&preimage),
            "{}",
            v.id
        );

        // signed by the user instead of the kettle
        let forged = SuaveTransaction::new(req.record.clone(), result)
            .into_signed(&user)
            .expect("signs");
        let err = SuaveTransaction::decode(&forged.encoded())
            .expect("decodes")
            .recover_signer(chain_id)
            .unwrap_err();
        assert!(
            matches!(err, RecoveryError::IncorrectKettle { .. }),
            "{}",
            v.id
        );
        assert_eq!(
            err.to_string(),
            format!(
                "compute request {} signed by incorrect execution node {}, expected {}",
                forged.tx_hash(),
                v.expected_sender,
                "0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F"
            ),
            "{}",
            v.id
        );
        let hash_hex = format!("0x{}", hex::encode(forged.tx_hash()));
        assert!(err
            .to_string()
            .starts_with(&format!("compute request {hash_hex} ")));
    }
}
