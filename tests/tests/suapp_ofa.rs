//! The `Ofa` SUAPP (`suapps/ofa/Ofa.sol`) end to end: a `kettle dev`, a user, two searchers and
//! a builder's bundle endpoint ([`BundleEndpoint`]) on loopback.
//!
//! - `newOrder`: the user's private bundle is stored; only its hint (the first transaction's
//!   recipient and calldata) reaches the chain;
//! - `newMatch`: a searcher's backrun against the hint makes the kettle send one
//!   `mev_sendBundle` whose MEV-Share bundle holds the user's transaction, then the backrun,
//!   and a refund entry for the user (SUAVE-COMPAT §8.4), signed per §8.5 by one key across
//!   calls; `MatchEvent` carries the hash of exactly what was sent;
//! - a match against an unknown order is refused and sends nothing;
//! - neither raw L1 transaction ever appears in a block, transaction, receipt or the kettle's
//!   log.

use alloy_consensus::{TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_network::ReceiptResponse;
use alloy_primitives::{hex, keccak256, Address, Bytes, FixedBytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::ofa::Ofa::{self, HintEvent, MatchEvent};
use kettle_tests::{
    assert_not_leaked, decode_logs, dev_user, BundleEndpoint, KettleClient, KettleProcess, Signing,
};
use serde_json::{json, Value};

/// Chain id of the L1 transactions in the bundles (nothing executes them here).
const L1_CHAIN_ID: u64 = 1;

/// The L1 block the bundles target (the records' decryption condition).
const TARGET_BLOCK: u64 = 100;

/// The refund percent the user asks for.
const REFUND_PERCENT: u64 = 20;

/// A signed EIP-1559 L1 transaction, EIP-2718 encoded.
fn l1_tx(key: &PrivateKeySigner, nonce: u64, to: Address, input: Bytes) -> Bytes {
    let tx = TxEip1559 {
        chain_id: L1_CHAIN_ID,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 100_000_000_000,
        max_priority_fee_per_gas: 2_000_000_000,
        to: TxKind::Call(to),
        value: U256::ZERO,
        input,
        access_list: Default::default(),
    };
    kettle_tests::signed_eip1559(key, tx).encoded_2718().into()
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Standard base64 with padding (what Go's `encoding/json` uses for `[]byte`).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every block (with full transactions) and every receipt of the chain, as JSON text.
async fn chain_text(client: &KettleClient) -> String {
    let mut text = String::new();
    for number in 0..=client.block_number().await {
        let block = client.block_json(number, true).await;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let hash = tx["hash"].as_str().expect("tx hash").parse().expect("hash");
            text.push_str(&client.receipt_json(hash).await.to_string());
            text.push('\n');
        }
        text.push_str(&block.to_string());
        text.push('\n');
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ofa_publishes_only_the_hint_and_sends_signed_mev_share_bundles() {
    let endpoint = BundleEndpoint::start();
    let kettle = KettleProcess::start();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let ofa = client.deploy(&user, "Ofa").await;

    // Searchers pay for their requests on SUAVE: fund one from the dev account.
    let searcher = PrivateKeySigner::random();
    let funding = client
        .send_eip1559(
            &user,
            TxKind::Call(searcher.address()),
            Bytes::new(),
            U256::from(10u64).pow(U256::from(18u64)),
            21_000,
        )
        .await
        .expect("funding the searcher");
    assert!(client.wait_receipt(funding).await.inner.status());

    // The user's private L1 transaction: a call with calldata, in a bundle with a refund percent.
    let (l1_user, l1_searcher) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let pool = Address::repeat_byte(0x2b);
    let calldata = Bytes::from(hex!(
        "a9059cbb000000000000000000000000111111111111111111111111111111111111111100000000000000000000000000000000000000000000000000000000000f4240"
    ));
    let user_tx = l1_tx(&l1_user, 7, pool, calldata.clone());
    let user_bundle = json!({"txs": [hex0x(&user_tx)], "percent": REFUND_PERCENT}).to_string();

    // newOrder: only the hint goes on chain.
    let receipt = client
        .request_and_wait(
            &user,
            ofa,
            Ofa::newOrderCall {
                decryptionCondition: TARGET_BLOCK,
            }
            .abi_encode()
            .into(),
            user_bundle.as_bytes(),
        )
        .await;
    let hints = decode_logs::<HintEvent>(&receipt);
    assert_eq!(hints.len(), 1, "{receipt:?}");
    let order_id = hints[0].id;
    let hint: Value = serde_json::from_slice(&hints[0].hint).expect("the hint is JSON");
    assert_eq!(
        hint,
        json!({"To": format!("{pool:#x}"), "Data": base64(&calldata)}),
        "hint = recipient (lower-case hex) and base64 calldata of the first transaction"
    );
    let hint_text = String::from_utf8_lossy(&hints[0].hint).into_owned();
    assert_not_leaked("the hint", &hint_text, &user_tx);
    let user_envelope: TxEnvelope =
        alloy_eips::eip2718::Decodable2718::decode_2718(&mut user_tx.as_ref()).expect("decode");
    let user_sig = user_envelope.signature().as_bytes();
    assert_not_leaked("the hint", &hint_text, &user_sig[..32]);
    assert_not_leaked("the hint", &hint_text, &user_sig[32..64]);
    assert!(endpoint.calls().is_empty(), "newOrder sends nothing");

    // newMatch, twice (two backruns of the same order): each sends one signed mev_sendBundle.
    let mut signers = Vec::new();
    let mut backruns = Vec::new();
    for n in 0..2u64 {
        let backrun = l1_tx(&l1_searcher, n, Address::repeat_byte(0x5e), Bytes::new());
        let match_bundle = json!({"txs": [hex0x(&backrun)]}).to_string();
        let receipt = client
            .request_and_wait(
                &searcher,
                ofa,
                Ofa::newMatchCall {
                    orderId: order_id,
                    decryptionCondition: TARGET_BLOCK,
                    builderUrl: endpoint.url(),
                }
                .abi_encode()
                .into(),
                match_bundle.as_bytes(),
            )
            .await;
        let matches = decode_logs::<MatchEvent>(&receipt);
        assert_eq!(matches.len(), 1, "{receipt:?}");
        assert_ne!(matches[0].matchId, order_id);

        let calls = endpoint.calls();
        assert_eq!(calls.len(), n as usize + 1, "one call per match");
        let call = calls.last().expect("a call");
        assert_eq!(call.method, "mev_sendBundle");
        assert_eq!(call.content_type.as_deref(), Some("application/json"));
        let signer = call.signer.clone().unwrap_or_else(|why| {
            panic!(
                "bad X-Flashbots-Signature {:?}: {why}",
                call.signature_header
            )
        });
        assert_eq!(Some(signer), call.header_address);
        signers.push(signer);

        // Body per §8.5, MEV-Share bundle per §8.4: user tx, then the backrun; the refund.
        let expected = json!({
            "version": "v0.1",
            "inclusion": {
                "block": format!("{TARGET_BLOCK:#x}"),
                "maxBlock": format!("{:#x}", TARGET_BLOCK + 25),
            },
            "body": [
                {"tx": hex0x(&user_tx), "canRevert": false},
                {"tx": hex0x(&backrun), "canRevert": false},
            ],
            "validity": {"refund": [{"bodyIdx": 0, "percent": REFUND_PERCENT}]},
        });
        assert_eq!(call.params, json!([expected]), "{}", call.body_text());
        let body = call.body_text();
        let prefix = r#"{"id":1,"jsonrpc":"2.0","method":"mev_sendBundle","params":["#;
        let sent = body
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("]}"))
            .unwrap_or_else(|| panic!("body shape differs from §8.5: {body}"));
        assert_eq!(
            matches[0].bundleHash,
            keccak256(sent.as_bytes()),
            "MatchEvent carries the hash of the bundle that was sent"
        );
        backruns.push(backrun);
    }
    assert_eq!(
        signers[0], signers[1],
        "one bundle-signing key signs every call"
    );

    // A match against an order that does not exist is refused, and nothing is sent.
    let request = client
        .build_request(
            &searcher,
            ofa,
            Ofa::newMatchCall {
                orderId: FixedBytes::repeat_byte(0x77),
                decryptionCondition: TARGET_BLOCK,
                builderUrl: endpoint.url(),
            }
            .abi_encode()
            .into(),
            json!({"txs": [hex0x(&backruns[0])]}).to_string().as_bytes(),
            Signing::Eip712,
        )
        .await;
    let err = client
        .send_request(&request)
        .await
        .expect_err("a match of an unknown order is refused");
    assert!(
        err.message()
            .contains("precompile '0x0000000000000000000000000000000043200001' reverted"),
        "{err}"
    );
    assert_eq!(
        endpoint.calls().len(),
        2,
        "nothing sent for a refused match"
    );

    // No raw L1 transaction (nor the user's signature) anywhere on chain or in the log.
    let chain = chain_text(&client).await;
    for (what, secret) in [
        ("the user transaction", user_tx.as_ref()),
        ("the user signature r", &user_sig[..32]),
        ("the user signature s", &user_sig[32..64]),
        ("a backrun", backruns[0].as_ref()),
        ("a backrun", backruns[1].as_ref()),
    ] {
        assert_not_leaked(&format!("the chain ({what})"), &chain, secret);
        assert_not_leaked(&format!("the kettle log ({what})"), &kettle.logs(), secret);
    }
}
