//! signMessage, signEthTransaction, privateKeyGen, randomBytes, aesEncrypt/aesDecrypt,
//! getInsecureTime through Suave.sol, with exact outputs for known inputs.

use alloy_consensus::{transaction::SignerRecoverable, SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{address, hex, keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::{
    forwarder::Forwarder, precompiles::SuavePrecompiles, suave_abi_check::SuaveAbiCheck,
};
use suave_precompiles::{addresses, BLS_DST};

use crate::common::*;

const KETTLE_KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
const USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";

fn sign_message(h: &Harness, digest: &[u8], crypto: u8, key: &str) -> Result<Bytes, String> {
    let call = SuaveAbiCheck::signMessageCall {
        digest: Bytes::copy_from_slice(digest),
        crypto,
        signingKey: key.into(),
    };
    h.call_sol(ABI_CHECK, &call)
        .map(|out| returns::<SuaveAbiCheck::signMessageCall>(&out))
        .map_err(|e| e.to_string())
}

#[test]
fn sign_message_secp256k1_exact_bytes() {
    let h = Harness::new();
    let digest = keccak256("Hello, world!");
    let sig = sign_message(&h, digest.as_slice(), 0, KETTLE_KEY).unwrap();
    // go-ethereum's crypto.Sign and k256 are both RFC 6979 + low-s: the same bytes as any
    // deterministic Ethereum signer, with v as 0/1.
    let signer: PrivateKeySigner = KETTLE_KEY.parse().unwrap();
    let expected = signer.sign_hash_sync(&digest).unwrap();
    let mut want = expected.as_bytes().to_vec();
    want[64] -= 27;
    assert_eq!(sig.to_vec(), want);
    assert!(sig[64] <= 1);
    let recovered = Signature::from_raw(&sig)
        .unwrap()
        .recover_address_from_prehash(&digest)
        .unwrap();
    assert_eq!(recovered, signer.address());
    // "0x" prefix accepted.
    assert_eq!(
        sign_message(&h, digest.as_slice(), 0, &format!("0x{KETTLE_KEY}")).unwrap(),
        sig
    );
}

#[test]
fn sign_message_bls_known_key() {
    let h = Harness::new();
    // Consensus-spec test key; its public key is a491d1b0…f79a.
    let sk_hex = "263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3";
    let msg = b"any length message";
    let sig = sign_message(&h, msg, 1, sk_hex).unwrap();
    assert_eq!(sig.len(), 96);
    let sk = blst::min_pk::SecretKey::from_bytes(&hex::decode(sk_hex).unwrap()).unwrap();
    let pk = sk.sk_to_pk();
    assert_eq!(
        hex::encode(pk.compress()),
        "a491d1b0ecd9bb917989f0e74f0dea0422eac4a873e5e2644f368dffb9a6e20fd6e10c1b77654d067c0618f6e5a7f79a"
    );
    let parsed = blst::min_pk::Signature::from_bytes(&sig).unwrap();
    assert_eq!(
        parsed.verify(true, msg, BLS_DST, &[], &pk, true),
        blst::BLST_ERROR::BLST_SUCCESS
    );
    // Deterministic.
    assert_eq!(sign_message(&h, msg, 1, sk_hex).unwrap(), sig);
}

#[test]
fn sign_message_errors() {
    let h = Harness::new();
    assert_eq!(
        sign_message(&h, &[0; 31], 0, KETTLE_KEY).unwrap_err(),
        "execution reverted: precompile '0x0000000000000000000000000000000040100003' reverted: 'failed to sign message: hash is required to be exactly 32 bytes (31)'"
    );
    // Suave.sol's enum cannot carry other values (solc rejects them before the call), so send
    // the precompile input directly.
    let raw = |target, data: Vec<u8>| {
        let call = Forwarder::rawCallCall {
            target,
            data: data[4..].to_vec().into(),
        };
        returns::<Forwarder::rawCallCall>(&h.call_sol(FORWARDER, &call).unwrap())
    };
    let r = raw(
        addresses::SIGN_MESSAGE,
        SuavePrecompiles::signMessageCall {
            digest: Bytes::from_static(&[0; 32]),
            crypto: 2,
            signingKey: KETTLE_KEY.into(),
        }
        .abi_encode(),
    );
    assert!(!r.ok);
    assert_eq!(r.ret, Bytes::from_static(b"unsupported crypto type"));
    let r = raw(
        addresses::PRIVATE_KEY_GEN,
        SuavePrecompiles::privateKeyGenCall { crypto: 7 }.abi_encode(),
    );
    assert_eq!(r.ret, Bytes::from_static(b"unsupported crypto type 7"));
}

#[test]
fn private_key_gen_then_sign_and_recover() {
    let h = Harness::new();
    // SECP256 (§11 scenario 21).
    let out = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::privateKeyGenCall { crypto: 0 })
        .unwrap();
    let key = returns::<SuaveAbiCheck::privateKeyGenCall>(&out);
    assert_eq!(key.len(), 64);
    assert!(key
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    let digest = keccak256("Hello, world!");
    let sig = sign_message(&h, digest.as_slice(), 0, &key).unwrap();
    let signer: PrivateKeySigner = key.parse().unwrap();
    let recovered = Signature::from_raw(&sig)
        .unwrap()
        .recover_address_from_prehash(&digest)
        .unwrap();
    assert_eq!(recovered, signer.address());
    // BLS: a 32-byte scalar that signs and verifies.
    let out = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::privateKeyGenCall { crypto: 1 })
        .unwrap();
    let key = returns::<SuaveAbiCheck::privateKeyGenCall>(&out);
    assert_eq!(key.len(), 64);
    let sk = blst::min_pk::SecretKey::from_bytes(&hex::decode(&key).unwrap()).unwrap();
    let sig = sign_message(&h, b"m", 1, &key).unwrap();
    let parsed = blst::min_pk::Signature::from_bytes(&sig).unwrap();
    assert_eq!(
        parsed.verify(true, b"m", BLS_DST, &[], &sk.sk_to_pk(), true),
        blst::BLST_ERROR::BLST_SUCCESS
    );
}

#[test]
fn sign_eth_transaction_exact_bytes() {
    let h = Harness::new();
    let tx = TxLegacy {
        nonce: 3,
        gas_price: 20_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(address!("0x00000000000000000000000000000000000000aa")),
        value: U256::from(1_000),
        input: Bytes::from_static(&[0xde, 0xad]),
        chain_id: None,
    };
    // The unsigned transaction as Go encodes it: zero v, r, s.
    let unsigned = TxEnvelope::Legacy(tx.clone().into_signed(Signature::new(
        U256::ZERO,
        U256::ZERO,
        false,
    )));
    let mut raw = unsigned.encoded_2718();
    // alloy writes v = 27 for a zero signature without chain id; Go writes 0.
    let v_at = raw.len() - 3;
    assert_eq!(raw[v_at], 0x1b);
    raw[v_at] = 0x80;
    let call = SuaveAbiCheck::signEthTransactionCall {
        txn: raw.into(),
        chainId: "0x1008c45".into(),
        signingKey: USER_KEY.into(),
    };
    let out = h.call_sol(ABI_CHECK, &call).unwrap();
    let signed = returns::<SuaveAbiCheck::signEthTransactionCall>(&out);
    // The same transaction signed by an independent EIP-155 signer.
    let signer: PrivateKeySigner = USER_KEY.parse().unwrap();
    let mut eip155 = tx;
    eip155.chain_id = Some(16813125);
    let sig = signer.sign_hash_sync(&eip155.signature_hash()).unwrap();
    let expected = TxEnvelope::Legacy(eip155.into_signed(sig)).encoded_2718();
    assert_eq!(signed.to_vec(), expected);
    let env = TxEnvelope::decode_2718(&mut signed.as_ref()).unwrap();
    assert_eq!(env.recover_signer().unwrap(), USER);

    let bad = SuaveAbiCheck::signEthTransactionCall {
        txn: Bytes::new(),
        chainId: "0x1".into(),
        signingKey: USER_KEY.into(),
    };
    assert_eq!(
        peeker_error(h.call_sol(ABI_CHECK, &bad)),
        "execution reverted: precompile '0x0000000000000000000000000000000040100001' reverted: 'txn not formatted properly: typed transaction too short'"
    );
}

#[test]
fn random_bytes_lengths_and_encoding() {
    let h = Harness::new();
    for n in [0u8, 32, 64, 255] {
        let out = h
            .call_sol(ABI_CHECK, &SuaveAbiCheck::randomBytesCall { numBytes: n })
            .unwrap();
        assert_eq!(
            returns::<SuaveAbiCheck::randomBytesCall>(&out).len(),
            usize::from(n)
        );
    }
    // Exact output shape: abi.encode(bytes).
    let raw = Forwarder::rawCallCall {
        target: addresses::RANDOM_BYTES,
        data: SuavePrecompiles::randomBytesCall { numBytes: 4 }.abi_encode()[4..]
            .to_vec()
            .into(),
    };
    let r = returns::<Forwarder::rawCallCall>(&h.call_sol(FORWARDER, &raw).unwrap());
    assert_eq!(r.ret.len(), 96);
    assert_eq!(&r.ret[..32], B256::with_last_byte(0x20).as_slice());
    assert_eq!(&r.ret[32..64], B256::with_last_byte(4).as_slice());
    assert!(r.ret[68..].iter().all(|b| *b == 0));
    let a = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::randomBytesCall { numBytes: 32 })
        .unwrap();
    let b = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::randomBytesCall { numBytes: 32 })
        .unwrap();
    assert_ne!(a.raw_return, b.raw_return);
}

#[test]
fn aes_round_trip_across_requests_and_wrong_key() {
    let h = Harness::new();
    let key = Bytes::from_static(b"short key, zero-padded to 32 bytes");
    let enc = SuaveAbiCheck::aesEncryptCall {
        key: key.clone(),
        message: Bytes::from_static(b"attack at dawn"),
    };
    let sealed = returns::<SuaveAbiCheck::aesEncryptCall>(&h.call_sol(ABI_CHECK, &enc).unwrap());
    assert_eq!(sealed.len(), 12 + 14 + 16);
    let dec = SuaveAbiCheck::aesDecryptCall {
        key: key.clone(),
        ciphertext: sealed.clone(),
    };
    let plain = returns::<SuaveAbiCheck::aesDecryptCall>(&h.call_sol(ABI_CHECK, &dec).unwrap());
    assert_eq!(plain, Bytes::from_static(b"attack at dawn"));
    // A key is truncated to 32 bytes: anything after byte 32 does not matter.
    let mut long = key.to_vec();
    long.resize(32, 0);
    long.extend_from_slice(b"ignored");
    let dec = SuaveAbiCheck::aesDecryptCall {
        key: long.into(),
        ciphertext: sealed.clone(),
    };
    assert!(h.call_sol(ABI_CHECK, &dec).is_ok());

    let wrong = SuaveAbiCheck::aesDecryptCall {
        key: Bytes::from_static(b"other"),
        ciphertext: sealed,
    };
    assert_eq!(
        peeker_error(h.call_sol(ABI_CHECK, &wrong)),
        "execution reverted: precompile '0x000000000000000000000000000000005670000D' reverted: 'cipher: message authentication failed'"
    );
    let short = SuaveAbiCheck::aesDecryptCall {
        key,
        ciphertext: Bytes::from_static(&[1; 11]),
    };
    assert_eq!(
        peeker_error(h.call_sol(ABI_CHECK, &short)),
        "execution reverted: precompile '0x000000000000000000000000000000005670000D' reverted: 'ciphertext too short'"
    );
}

#[test]
fn get_insecure_time_is_unix_millis() {
    let h = Harness::new();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let out = h
        .call_sol(ABI_CHECK, &SuaveAbiCheck::getInsecureTimeCall {})
        .unwrap();
    let t = returns::<SuaveAbiCheck::getInsecureTimeCall>(&out);
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(U256::from(before) <= t && t <= U256::from(after));
    let _ = Address::ZERO;
}
