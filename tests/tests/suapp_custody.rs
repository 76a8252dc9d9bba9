//! End to end of the `Custody` SUAPP (`suapps/custody/Custody.sol`) on a real `kettle dev`:
//! a wallet key generated inside the kettle, its address published on chain, transactions
//! signed for the owner only, and the key never leaving the kettle.
//!
//! Build the binary first: `cargo build -p kettle` (scripts/test does).

use std::collections::HashSet;

use alloy_consensus::{
    transaction::SignerRecoverable, SignableTransaction, TxEip1559, TxEnvelope, TxLegacy,
};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{hex, Address, Bytes, FixedBytes, Signature, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::custody::Custody;
use kettle_tests::{
    decode_logs, dev_user, KettleClient, KettleOptions, KettleProcess, ReceiptResponse, RpcFailure,
    Signing, TestRng, DEV_USER_KEY,
};
use serde_json::{json, Value};

/// The refusal `sign` gives a caller who is not the wallet's owner, as the kettle reports it.
const NOT_OWNER: &str = "Custody: caller is not the wallet owner";

/// A kettle logging at `debug`, so the leak check also covers the precompile and request logs.
fn start_kettle() -> KettleProcess {
    KettleProcess::start_with(KettleOptions {
        log: Some("debug".into()),
        ..KettleOptions::default()
    })
}

/// Creates a wallet for `owner`; its record id and address, checked against the event, the
/// on-chain registry and the address proof in the `0x50`'s calldata.
async fn create_wallet(
    client: &KettleClient,
    custody: Address,
    owner: &PrivateKeySigner,
) -> (FixedBytes<16>, Address) {
    let receipt = client
        .request_and_wait(
            owner,
            custody,
            Custody::createWalletCall {}.abi_encode().into(),
            b"",
        )
        .await;
    let created = decode_logs::<Custody::WalletCreated>(&receipt);
    assert_eq!(created.len(), 1, "one WalletCreated: {receipt:?}");
    let (id, wallet) = (created[0].id, created[0].wallet);
    assert_eq!(created[0].owner, owner.address(), "the requester owns it");
    let on_chain = client.view(custody, Custody::walletsCall(id)).await;
    assert_eq!(
        (on_chain.owner, on_chain.wallet),
        (owner.address(), wallet),
        "registry"
    );

    // Anyone can re-check the address proof: the callback's calldata holds the signature.
    let tx = client
        .transaction_json(receipt.inner.transaction_hash)
        .await;
    let input: Bytes = serde_json::from_value(tx["input"].clone()).expect("0x50 input");
    let callback = Custody::onWalletCreatedCall::abi_decode(&input).expect("onWalletCreated");
    assert_eq!(callback.id, id);
    let digest = client
        .view(custody, Custody::walletProofDigestCall { id })
        .await;
    let signature = Signature::from_raw(&callback.proof).expect("65-byte proof");
    assert_eq!(
        signature
            .recover_address_from_prehash(&digest)
            .expect("recoverable"),
        wallet,
        "the proof's signer is the published wallet"
    );
    (id, wallet)
}

/// Asks the kettle to sign `tx` for `chain_id` with wallet `id`; the signed transaction from
/// the `Signed` event.
async fn sign(
    client: &KettleClient,
    custody: Address,
    owner: &PrivateKeySigner,
    id: FixedBytes<16>,
    tx: Vec<u8>,
    chain_id: u64,
) -> TxEnvelope {
    let receipt = client
        .request_and_wait(owner, custody, sign_call(id, tx, chain_id), b"")
        .await;
    let signed = decode_logs::<Custody::Signed>(&receipt);
    assert_eq!(signed.len(), 1, "one Signed: {receipt:?}");
    assert_eq!(signed[0].id, id);
    TxEnvelope::decode_2718(&mut signed[0].signedTx.as_ref()).expect("a binary signed transaction")
}

fn sign_call(id: FixedBytes<16>, tx: Vec<u8>, chain_id: u64) -> Bytes {
    Custody::signCall {
        id,
        txn: tx.into(),
        chainId: U256::from(chain_id),
    }
    .abi_encode()
    .into()
}

/// An EIP-1559 transfer in go-ethereum's unsigned binary form (zero v, r, s).
fn unsigned_eip1559(chain_id: u64, nonce: u64) -> (TxEip1559, Vec<u8>) {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0xaa)),
        value: U256::from(123_456_789u64),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let raw = TxEnvelope::from(tx.clone().into_signed(zero_signature())).encoded_2718();
    (tx, raw)
}

/// A legacy transaction in go-ethereum's unsigned binary form (v = 0, not alloy's 27).
fn unsigned_legacy(nonce: u64) -> (TxLegacy, Vec<u8>) {
    let tx = TxLegacy {
        chain_id: None,
        nonce,
        gas_price: 20_000_000_000,
        gas_limit: 50_000,
        to: TxKind::Call(Address::repeat_byte(0xbb)),
        value: U256::from(1u64),
        input: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
    };
    let mut raw = TxEnvelope::Legacy(tx.clone().into_signed(zero_signature())).encoded_2718();
    let v_at = raw.len() - 3;
    assert_eq!(raw[v_at], 0x1b, "alloy writes v = 27 for a zero signature");
    raw[v_at] = 0x80;
    (tx, raw)
}

fn zero_signature() -> Signature {
    Signature::new(U256::ZERO, U256::ZERO, false)
}

/// Sends `request` expecting a JSON-RPC error; returns it.
async fn refused(client: &KettleClient, raw: &[u8], what: &str) -> RpcFailure {
    match client.send_raw(raw).await {
        Ok(hash) => panic!("{what} was accepted as {hash}"),
        Err(e @ RpcFailure::Error { .. }) => e,
        Err(e) => panic!("{what}: expected a JSON-RPC error, got {e}"),
    }
}

/// The kettle's readable message for a refusal by `Custody` at `custody`.
fn refusal(custody: Address, reason: &str) -> String {
    format!(
        "transaction failed: execution reverted: precompile '{}' reverted: '{reason}'",
        custody.to_checksum(None)
    )
}

/// Custody end to end: the dev user creates a wallet; its on-chain address (recovered on chain
/// from the kettle's address proof) signs the EIP-1559 and legacy transactions `sign` returns;
/// a second user is refused, with a readable error, on the first user's wallet but can create
/// and use their own; and no 32-byte value the node served or logged is the wallet's key.
///
/// What the key check proves, and what not: the wallet key is never known to the test, so
/// the check is structural. It gathers every block (full transactions) from genesis to the
/// head, every receipt of those transactions, `eth_getLogs` over the whole chain, the RPC
/// errors of the refused requests and the kettle's whole stderr at `debug` level, and takes as
/// candidate keys: each 64-hex-digit word at a 32-byte boundary of every hex run (with and
/// without a 4-byte selector in front: JSON hashes, ABI words, calldata), every 64-digit
/// window of runs of at most 128 digits (log lines), and each 64
/// characters of ASCII hex found in any decoded hex run (the key as the string the SUAPP
/// stores). No candidate may be a private key of either wallet address. This covers the forms
/// in which a bug would most likely publish the key (a callback argument, an event, a log line);
/// it does not cover other encodings (base64, unaligned bytes inside RLP, words starting with
/// four zero bytes, which are skipped for speed), the RocksDB files (encrypted at rest), or
/// other kettles. The scanner itself is checked on planted keys in
/// `key_scanner_finds_planted_keys`.
#[tokio::test]
async fn custody_wallet_signs_for_its_owner_only() {
    let kettle = start_kettle();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let mut rng = TestRng::from_env_or_clock("KETTLE_CUSTODY_SEED");
    let owner = dev_user();
    let other = client.funded_user(&mut rng).await;
    let custody = client.deploy(&owner, "Custody").await;

    let (id, wallet) = create_wallet(&client, custody, &owner).await;
    assert_ne!(wallet, Address::ZERO);

    // An EIP-1559 transaction for chain 1: same fields, signed by the wallet.
    let (tx, raw) = unsigned_eip1559(1, 7);
    let signed = sign(&client, custody, &owner, id, raw, 1).await;
    let TxEnvelope::Eip1559(ref signed_1559) = signed else {
        panic!("expected an EIP-1559 transaction, got {signed:?}")
    };
    assert_eq!(signed_1559.tx(), &tx, "the fields are signed unchanged");
    assert_eq!(
        signed.recover_signer().expect("valid signature"),
        wallet,
        "the published address is the signing key's"
    );

    // A legacy transaction, signed with EIP-155 for chain 5.
    let (tx, raw) = unsigned_legacy(0);
    let signed = sign(&client, custody, &owner, id, raw, 5).await;
    let TxEnvelope::Legacy(ref signed_legacy) = signed else {
        panic!("expected a legacy transaction, got {signed:?}")
    };
    assert_eq!(signed_legacy.tx().chain_id, Some(5), "EIP-155");
    assert_eq!(
        TxLegacy {
            chain_id: None,
            ..signed_legacy.tx().clone()
        },
        tx
    );
    assert_eq!(signed.recover_signer().expect("valid signature"), wallet);

    // Another user may not sign with the wallet: refused before anything reaches the chain.
    let head = client.block_number().await;
    let (_, raw) = unsigned_eip1559(1, 8);
    let request = client
        .build_request(&other, custody, sign_call(id, raw, 1), b"", Signing::Eip712)
        .await;
    let err = refused(&client, &request.encoded(), "a stranger's sign request").await;
    assert_eq!(err.message(), refusal(custody, NOT_OWNER), "{err}");
    let mut errors = vec![err.to_string()];

    // Their own wallet works, is a different key, and the dev user may not use it.
    let (other_id, other_wallet) = create_wallet(&client, custody, &other).await;
    assert_ne!(other_id, id);
    assert_ne!(other_wallet, wallet, "a fresh key per wallet");
    let (_, raw) = unsigned_eip1559(1, 0);
    let signed = sign(&client, custody, &other, other_id, raw.clone(), 1).await;
    assert_eq!(signed.recover_signer().expect("valid"), other_wallet);
    let request = client
        .build_request(
            &owner,
            custody,
            sign_call(other_id, raw, 1),
            b"",
            Signing::Eip712,
        )
        .await;
    let err = refused(
        &client,
        &request.encoded(),
        "the dev user on another's wallet",
    )
    .await;
    assert_eq!(err.message(), refusal(custody, NOT_OWNER), "{err}");
    errors.push(err.to_string());
    // The refusals committed nothing: only the accepted requests added blocks.
    assert_eq!(client.block_number().await, head + 2);

    // Calling the on-chain half directly does not let a stranger publish for the wallet.
    let forged = Custody::onSignedCall {
        id,
        signedTx: Bytes::from_static(b"forged"),
    };
    let hash = client
        .send_eip1559(
            &other,
            TxKind::Call(custody),
            forged.abi_encode().into(),
            U256::ZERO,
            100_000,
        )
        .await
        .expect("plain transaction accepted");
    assert!(
        !client.wait_receipt(hash).await.inner.status(),
        "onSigned from a stranger reverts on chain"
    );

    // Nothing the node served or logged holds either wallet's key.
    let mut haystack = chain_json(&client).await;
    haystack.push_str(&errors.join("\n"));
    haystack.push('\n');
    haystack.push_str(&kettle.logs());
    let keys = candidate_keys(&haystack);
    assert!(
        keys.len() > 20,
        "the scan saw the chain's hashes and words: {} candidates",
        keys.len()
    );
    for (i, candidate) in keys.iter().enumerate() {
        let Ok(signer) = PrivateKeySigner::from_bytes(candidate) else {
            continue;
        };
        assert!(
            signer.address() != wallet && signer.address() != other_wallet,
            "candidate {i} of the node's output is a wallet's private key"
        );
    }
}

/// The text the node serves about the whole chain: every block with its transactions, every
/// receipt and every log, as JSON.
async fn chain_json(client: &KettleClient) -> String {
    let head = client.block_number().await;
    let mut out = String::new();
    for number in 0..=head {
        let block = client.block_json(number, true).await;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let hash: B256 = serde_json::from_value(tx["hash"].clone()).expect("tx hash");
            out.push_str(&client.receipt_json(hash).await.to_string());
            out.push('\n');
        }
        out.push_str(&block.to_string());
        out.push('\n');
    }
    let logs: Value = client
        .json(
            "eth_getLogs",
            json!([{ "fromBlock": "0x0", "toBlock": "latest" }]),
        )
        .await
        .expect("eth_getLogs");
    out.push_str(&logs.to_string());
    out.push('\n');
    out
}

/// The 32-byte values of `text` that could be a leaked key (see the test above): 32-byte
/// aligned words of every hex run (offset 0 and 4), every 64-digit window of runs of at most
/// 128 digits, and ASCII-hex keys inside decoded runs.
/// Words starting with four zero bytes are skipped (ABI integers, addresses, lengths).
fn candidate_keys(text: &str) -> Vec<B256> {
    let mut found = HashSet::new();
    let mut add = |word: &[u8]| {
        if word.len() == 32 && word[..4] != [0; 4] {
            found.insert(B256::from_slice(word));
        }
    };
    for run in text
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|r| r.len() >= 64)
    {
        let chars = run.as_bytes();
        // Short runs (a key in a log line, glued to other hex digits): every 64-digit window.
        if chars.len() <= 128 {
            for window in chars.windows(64) {
                if let Ok(word) = hex::decode(window) {
                    add(&word);
                }
            }
        }
        // A run that starts mid-byte (after an odd prefix) is also read from its second digit.
        for start in [0, run.len() % 2] {
            let Ok(bytes) = hex::decode(&chars[start..start + (chars.len() - start) / 2 * 2])
            else {
                continue;
            };
            for offset in [0, 4] {
                bytes
                    .get(offset..)
                    .unwrap_or_default()
                    .chunks_exact(32)
                    .for_each(&mut add);
            }
            for ascii in bytes
                .split(|b| !b.is_ascii_hexdigit())
                .filter(|r| r.len() >= 64)
            {
                for window in ascii.windows(64) {
                    if let Ok(word) = hex::decode(window) {
                        add(&word);
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

/// The scanner of `custody_wallet_signs_for_its_owner_only` finds a key (the dev user's) in the
/// forms it claims to cover, and nothing in text without one.
#[test]
fn key_scanner_finds_planted_keys() {
    let key: B256 = DEV_USER_KEY.parse().expect("hex key");
    let address = dev_user().address();
    let finds = |text: &str| {
        candidate_keys(text)
            .iter()
            .any(|c| PrivateKeySigner::from_bytes(c).is_ok_and(|s| s.address() == address))
    };
    let word = hex::encode(key);
    let ascii = hex::encode(DEV_USER_KEY.as_bytes());
    let padding = "00".repeat(32);
    for (form, text) in [
        ("a JSON hash", format!(r#"{{"hash":"0x{word}"}}"#)),
        (
            "an ABI word after a selector",
            format!(r#"{{"input":"0xabcdef01{padding}{word}{padding}"}}"#),
        ),
        (
            "an event's data word",
            format!(r#"{{"data":"0x{padding}{word}"}}"#),
        ),
        (
            "ABI bytes of the key string",
            format!(
                r#"{{"data":"0x{}{}{ascii}"}}"#,
                "0".repeat(62) + "20",
                "0".repeat(62) + "40"
            ),
        ),
        ("a log line", format!("INFO key={DEV_USER_KEY} done")),
        ("glued to hex digits", format!("id=abc{DEV_USER_KEY}")),
        ("upper case", format!("0x{}", word.to_uppercase())),
    ] {
        assert!(finds(&text), "not found as {form}: {text}");
    }
    assert!(!finds(&format!("0x{padding}{padding} {}", "ab".repeat(40))));
}
