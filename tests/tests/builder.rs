//! Block building end to end: a `kettle dev` whose Ethereum backend is a real local L1
//! (hardhat node, chain 1337, Cancun), the example `Builder` SUAPP, and a verifying relay.
//!
//! - searchers' bundles are simulated against the L1 and stored confidentially;
//! - a builder request builds a block from them, the relay receives a correctly signed bid
//!   for a consistent block, and the L1, mining the same transactions with the same
//!   environment, reaches the same state, receipts and transactions roots;
//! - a bundle whose transaction reverts is refused, unless its hash is allowed to revert.
//!
//! Needs `tests/l1/node_modules` (`scripts/test` runs `npm ci` there) and the `kettle` binary.

use alloy_consensus::TxEip1559;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, Bytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use kettle_contracts::builder::{
    Builder::{self, BlockBuilt, BundleStored},
    Suave::BuildBlockArgs,
};
use kettle_tests::{
    decode_logs, dev_user, KettleClient, KettleOptions, KettleProcess, L1Node, MineParams,
    ReceiptResponse, TestRelay,
};
use serde_json::Value;

const GWEI: u128 = 1_000_000_000;

fn quantity(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex quantity"),
        None => s.parse().expect("decimal quantity"),
    }
}

fn b256(v: &Value) -> B256 {
    v.as_str()
        .unwrap_or_else(|| panic!("not a hash: {v}"))
        .parse()
        .expect("hash")
}

/// An EIP-1559 transaction on the L1 (chain 1337), signed, EIP-2718 encoded.
fn l1_tx(key: &PrivateKeySigner, nonce: u64, to: TxKind, value: U256, input: Bytes) -> Bytes {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 100 * GWEI,
        max_priority_fee_per_gas: 2 * GWEI,
        to,
        value,
        input,
        access_list: Default::default(),
    };
    kettle_tests::signed_eip1559(key, tx).encoded_2718().into()
}

fn bundle_json(txs: &[&Bytes], reverting: &[B256]) -> Vec<u8> {
    serde_json::json!({
        "txs": txs.iter().map(|t| format!("0x{}", hex::encode(t))).collect::<Vec<_>>(),
        "revertingHashes": reverting,
    })
    .to_string()
    .into_bytes()
}

fn nonce_of(l1: &L1Node, who: Address) -> u64 {
    quantity(
        &l1.call(
            "eth_getTransactionCount",
            serde_json::json!([who, "latest"]),
        )
        .expect("nonce"),
    )
}

fn balance_of(l1: &L1Node, who: Address) -> U256 {
    l1.call("eth_getBalance", serde_json::json!([who, "latest"]))
        .expect("balance")
        .as_str()
        .expect("hex")
        .parse()
        .expect("balance")
}

/// A dev kettle building on `l1`. hardhat replays a block through its mempool, which checks
/// the coinbase's balance before the block pays it, so the kettle builds with a fixed coinbase
/// that hardhat funds (its account #9); and hardhat does not run the EIP-4788 system call.
fn start_kettle(l1: &L1Node) -> KettleProcess {
    let coinbase = hex::encode(l1.dev_keys()[9].to_bytes());
    KettleProcess::start_with(KettleOptions {
        extra_args: vec![
            "--eth-backend".into(),
            l1.url(),
            "--builder-coinbase-key".into(),
            coinbase,
            "--builder-skip-system-calls".into(),
        ],
        ..KettleOptions::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_suapp_builds_a_block_the_l1_agrees_with_and_the_relay_accepts() {
    let l1 = L1Node::start();
    // A relay knows the beacon root of the slot from the beacon chain; here it is the zero
    // root the build arguments give.
    let relay = TestRelay::start().with_beacon_root(B256::ZERO);
    let kettle = start_kettle(&l1);
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let builder = client.deploy(&user, "Builder").await;

    let head = l1.block("latest", false).expect("L1 head");
    let height = quantity(&head["number"]) + 1;
    let keys = l1.dev_keys();

    // Two searchers, one bundle each: plain transfers to fresh addresses.
    let (to1, to2) = (Address::repeat_byte(0x71), Address::repeat_byte(0x72));
    let tx1 = l1_tx(
        &keys[1],
        nonce_of(&l1, keys[1].address()),
        TxKind::Call(to1),
        U256::from(10u64).pow(U256::from(18u64)),
        Bytes::new(),
    );
    let tx2 = l1_tx(
        &keys[2],
        nonce_of(&l1, keys[2].address()),
        TxKind::Call(to2),
        U256::from(3u64) * U256::from(10u64).pow(U256::from(17u64)),
        Bytes::new(),
    );
    for tx in [&tx1, &tx2] {
        let receipt = client
            .request_and_wait(
                &user,
                builder,
                Builder::newBundleCall {
                    blockHeight: height,
                }
                .abi_encode()
                .into(),
                &bundle_json(&[tx], &[]),
            )
            .await;
        assert!(receipt.status(), "newBundle: {receipt:?}");
        let stored = decode_logs::<BundleStored>(&receipt);
        assert_eq!(stored.len(), 1);
        assert!(
            stored[0].egp >= 2 * GWEI as u64,
            "the simulated effective gas price includes the 2 gwei tip: {}",
            stored[0].egp
        );
    }

    // Build from both bundles and submit to the relay.
    let fee_recipient = Address::repeat_byte(0xfe);
    let timestamp = quantity(&head["timestamp"]) + 12;
    let args = BuildBlockArgs {
        slot: height,
        proposerPubkey: Bytes::from(vec![0xab; 48]),
        parent: b256(&head["hash"]),
        timestamp,
        feeRecipient: fee_recipient,
        gasLimit: 30_000_000,
        random: B256::repeat_byte(7),
        withdrawals: vec![],
        extra: Bytes::from_static(b"kettle"),
        beaconRoot: B256::ZERO,
        fillPending: false,
    };
    let receipt = client
        .request_and_wait(
            &user,
            builder,
            Builder::buildBlockCall {
                args,
                blockHeight: height,
                relayUrl: relay.url(),
            }
            .abi_encode()
            .into(),
            b"",
        )
        .await;
    assert!(receipt.status(), "buildBlock: {receipt:?}");
    let built = decode_logs::<BlockBuilt>(&receipt);
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].bundles, U256::from(2u64));
    let bid: Value = serde_json::from_slice(&built[0].bid).expect("the bid is JSON");

    // The relay got exactly this bid, with a valid signature over a consistent block.
    let submissions = relay.submissions();
    assert_eq!(submissions.len(), 1, "one submission");
    assert!(
        submissions[0].accepted(),
        "relay verdict: {:?}",
        submissions[0].verdict
    );
    assert_eq!(submissions[0].body["message"], bid["message"]);
    let payload = &bid["execution_payload"];
    assert_eq!(b256(&payload["parent_hash"]), b256(&head["hash"]));
    assert_eq!(quantity(&payload["block_number"]), height);
    let txs: Vec<Bytes> = payload["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|t| t.as_str().expect("hex").parse().expect("tx bytes"))
        .collect();
    assert_eq!(&txs[..2], &[tx1.clone(), tx2.clone()], "bundles in order");
    assert_eq!(txs.len(), 3, "plus the proposer payment");
    let value: U256 = bid["message"]["value"]
        .as_str()
        .expect("value")
        .parse()
        .expect("decimal");
    assert!(value > U256::ZERO, "the block pays the proposer");

    // The L1 mines the same transactions in the same environment to the same roots.
    let coinbase: Address = payload["fee_recipient"]
        .as_str()
        .expect("fee recipient")
        .parse()
        .expect("address");
    let before = balance_of(&l1, fee_recipient);
    let mined = l1
        .mine_with(
            &txs,
            &MineParams {
                timestamp,
                coinbase,
                base_fee: quantity(&payload["base_fee_per_gas"]),
                prev_randao: b256(&payload["prev_randao"]),
            },
        )
        .expect("L1 mines the block");
    assert_eq!(
        b256(&mined["stateRoot"]),
        b256(&payload["state_root"]),
        "state root"
    );
    assert_eq!(
        b256(&mined["receiptsRoot"]),
        b256(&payload["receipts_root"]),
        "receipts root"
    );
    assert_eq!(
        b256(&mined["transactionsRoot"]),
        kettle_tests::transactions_root(&txs),
        "transactions root"
    );
    assert_eq!(
        quantity(&mined["gasUsed"]),
        quantity(&payload["gas_used"]),
        "gas used"
    );
    assert_eq!(
        balance_of(&l1, fee_recipient) - before,
        value,
        "the proposer received the bid value"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_bundles_are_refused_unless_allowed_to_revert() {
    let l1 = L1Node::start();
    let kettle = start_kettle(&l1);
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let builder = client.deploy(&user, "Builder").await;
    let keys = l1.dev_keys();

    // A contract on the L1 whose code always reverts: PUSH1 0 PUSH1 0 REVERT.
    let runtime = hex!("60006000fd");
    let mut init = hex!("6005600c60003960056000f3").to_vec();
    init.extend_from_slice(&runtime);
    let deployer = &keys[3];
    let nonce = nonce_of(&l1, deployer.address());
    let deploy = l1_tx(deployer, nonce, TxKind::Create, U256::ZERO, init.into());
    l1.call("eth_sendRawTransaction", serde_json::json!([deploy]))
        .expect("deploy on L1");
    let reverter = deployer.address().create(nonce);
    let code = l1
        .call("eth_getCode", serde_json::json!([reverter, "latest"]))
        .expect("code");
    assert_eq!(code.as_str(), Some("0x60006000fd"), "reverter deployed");

    let height = l1.block_number().expect("head") + 1;
    let call = l1_tx(
        &keys[4],
        nonce_of(&l1, keys[4].address()),
        TxKind::Call(reverter),
        U256::ZERO,
        Bytes::new(),
    );
    let hash = alloy_primitives::keccak256(&call);
    let new_bundle: Bytes = Builder::newBundleCall {
        blockHeight: height,
    }
    .abi_encode()
    .into();

    let request = client
        .build_request(
            &user,
            builder,
            new_bundle.clone(),
            &bundle_json(&[&call], &[]),
            kettle_tests::Signing::Eip712,
        )
        .await;
    let err = client
        .send_request(&request)
        .await
        .expect_err("a reverting bundle is refused");
    assert!(
        err.message().contains("revert") && err.message().contains(&format!("{hash}")),
        "the error names the reverting transaction: {}",
        err.message()
    );

    let receipt = client
        .request_and_wait(&user, builder, new_bundle, &bundle_json(&[&call], &[hash]))
        .await;
    assert!(receipt.status(), "allowed to revert: {receipt:?}");
    assert_eq!(decode_logs::<BundleStored>(&receipt).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_sessions_apply_transactions_in_order() {
    use alloy_sol_types::SolValue;
    let l1 = L1Node::start();
    let kettle = start_kettle(&l1);
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let user = dev_user();
    let builder = client.deploy(&user, "Builder").await;
    let key = &l1.dev_keys()[5];
    let nonce = nonce_of(&l1, key.address());
    let to = TxKind::Call(Address::repeat_byte(0x55));
    let one = U256::from(1_000u64);
    let txs: Vec<Bytes> = vec![
        l1_tx(key, nonce, to, one, Bytes::new()),
        // Valid only on top of the first: the session keeps its state.
        l1_tx(key, nonce + 1, to, one, Bytes::new()),
        // A nonce gap: refused, and the session carries on.
        l1_tx(key, nonce + 5, to, one, Bytes::new()),
    ];
    let receipt = client
        .request_and_wait(
            &user,
            builder,
            Builder::simulateInSessionCall {}.abi_encode().into(),
            &txs.abi_encode(),
        )
        .await;
    assert!(receipt.status(), "simulateInSession: {receipt:?}");
    let results = decode_logs::<Builder::Simulated>(&receipt);
    assert_eq!(results.len(), 3);
    assert!(results[0].success && results[1].success, "{results:?}");
    assert!(
        results[0].egp >= 2 * GWEI as u64,
        "effective gas price includes the tip: {}",
        results[0].egp
    );
    assert!(!results[2].success);
    assert!(
        results[2].reason.contains("nonce"),
        "the error says why: {}",
        results[2].reason
    );
    // Nothing was sent to the L1.
    assert_eq!(nonce_of(&l1, key.address()), nonce);
}
