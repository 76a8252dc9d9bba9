//! The builder backend against an in-test JSON-RPC node on 127.0.0.1: state fetching and
//! caching, error paths, bundle simulation, block building (with a state root checked
//! against real proofs), sessions and `ethcall`.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{address, Address, Bytes, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use kettle_builder::build::BuildError;
use kettle_builder::rpc::{BlockId, Deadline, RpcClient, RpcConfig, RpcError};
use kettle_builder::session::SessionConfig;
use kettle_builder::state::{RemoteState, StateCache};
use kettle_builder::{BackendConfig, BuiltPayload, RpcBackend};
use kettle_contracts::BuildBlockArgs;
use revm::database_interface::DatabaseRef;
use suave_precompiles_network::ExecutionBackend;
use support::*;

const GWEI: u64 = 1_000_000_000;
const ETH: u128 = 1_000_000_000_000_000_000;

fn funded(chain: &mut MockChain, who: Address, wei: u128) {
    chain.accounts.insert(
        who,
        MockAccount {
            balance: U256::from(wei),
            ..MockAccount::default()
        },
    );
}

fn quick() -> BackendConfig {
    BackendConfig {
        rpc: RpcConfig {
            request_timeout: Duration::from_secs(2),
            ..RpcConfig::default()
        },
        ..BackendConfig::default()
    }
}

#[test]
fn remote_state_fetches_lazily_and_caches() {
    let contract = Address::repeat_byte(0xc0);
    let user = Address::repeat_byte(0x01);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, user, ETH);
    chain.accounts.insert(
        contract,
        MockAccount {
            balance: U256::from(7),
            nonce: 1,
            code: Bytes::from_static(WRITER),
            storage: BTreeMap::from([(B256::with_last_byte(3), U256::from(42))]),
        },
    );
    if let Some(a) = chain.accounts.get_mut(&user) {
        a.nonce = 9;
    }
    chain.seal();
    let head = chain.head.number;
    let node = MockNode::start(chain);
    let rpc = RpcClient::new(&node.url, RpcConfig::default()).unwrap();
    let cache = Arc::new(StateCache::new(head, B256::ZERO));
    let state = RemoteState::new(rpc.clone(), Arc::clone(&cache));

    let info = state.basic_ref(contract).unwrap().unwrap();
    assert_eq!(info.balance, U256::from(7));
    assert_eq!(info.nonce, 1);
    assert_eq!(
        info.code.unwrap().original_bytes(),
        Bytes::from_static(WRITER)
    );
    assert_eq!(
        state
            .code_by_hash_ref(info.code_hash)
            .unwrap()
            .original_bytes(),
        Bytes::from_static(WRITER)
    );
    assert_eq!(
        state.storage_ref(contract, U256::from(3)).unwrap(),
        U256::from(42)
    );
    assert_eq!(
        state.storage_ref(contract, U256::from(4)).unwrap(),
        U256::ZERO
    );
    assert_eq!(state.basic_ref(user).unwrap().unwrap().nonce, 9);
    // An empty account reads as missing.
    assert!(state
        .basic_ref(Address::repeat_byte(0xee))
        .unwrap()
        .is_none());
    assert_eq!(state.block_hash_ref(3).unwrap(), B256::with_last_byte(0xa3));
    assert!(state.block_hash_ref(head + 1).is_err());

    // One batch round trip per account (3 calls), one per slot, one per block hash.
    assert_eq!(cache.fetches(), 6);
    let requests = node.requests.load(Ordering::SeqCst);
    assert_eq!(requests, 6);
    assert_eq!(node.calls.load(Ordering::SeqCst), 3 * 3 + 2 + 1);

    // A second state on the same cache asks nothing again.
    let again = RemoteState::new(rpc, Arc::clone(&cache));
    again.basic_ref(contract).unwrap();
    again.storage_ref(contract, U256::from(3)).unwrap();
    again.basic_ref(Address::repeat_byte(0xee)).unwrap();
    again.block_hash_ref(3).unwrap();
    assert_eq!(node.requests.load(Ordering::SeqCst), requests);
}

#[test]
fn transport_errors_are_clear() {
    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rpc = RpcClient::new(&format!("http://127.0.0.1:{port}"), RpcConfig::default()).unwrap();
    let err = rpc.chain_id().unwrap_err();
    assert!(matches!(err, RpcError::Transport { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "eth_chainId: execution node unreachable: connection refused"
    );
    // The backend surfaces it as the precompile error.
    let backend = RpcBackend::new(&format!("http://127.0.0.1:{port}"), quick()).unwrap();
    let msg = backend
        .simulate_bundle(&bundle(vec![], None, None))
        .unwrap_err()
        .0;
    assert_eq!(
        msg,
        "eth_getBlockByNumber: execution node unreachable: connection refused"
    );
    assert!(matches!(
        RpcClient::new("ftp://127.0.0.1", RpcConfig::default()),
        Err(RpcError::InvalidUrl(_))
    ));

    let node = MockNode::start(MockChain::cancun(GWEI));
    let rpc = RpcClient::new(&node.url, RpcConfig::default()).unwrap();
    node.edit(|c| c.behaviour = Behaviour::BadJson);
    let err = rpc.chain_id().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("eth_chainId: invalid JSON-RPC response: "),
        "{err}"
    );
    node.edit(|c| c.behaviour = Behaviour::Status500);
    assert_eq!(
        rpc.chain_id().unwrap_err().to_string(),
        "eth_chainId: execution node answered HTTP 500: boom"
    );
    node.edit(|c| c.behaviour = Behaviour::Normal);
    let err = rpc
        .request("eth_unknown", serde_json::json!([]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "eth_unknown: the method eth_unknown does not exist/is not available (code -32601)"
    );

    // Slow node: the per-request timeout and the deadline both bound the wait.
    node.edit(|c| c.behaviour = Behaviour::Sleep(Duration::from_millis(1500)));
    let slow = RpcClient::new(
        &node.url,
        RpcConfig {
            request_timeout: Duration::from_millis(200),
            ..RpcConfig::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let err = slow.chain_id().unwrap_err();
    assert!(matches!(err, RpcError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1200));
    let bounded = rpc.with_deadline(Deadline::after(Duration::from_millis(150)));
    let started = Instant::now();
    assert!(matches!(bounded.chain_id(), Err(RpcError::Timeout { .. })));
    assert!(started.elapsed() < Duration::from_millis(1200));
    assert!(matches!(bounded.chain_id(), Err(RpcError::Deadline { .. })));
}

#[test]
fn simulate_bundle_gives_block_value_and_gas() {
    let alice = key(0x11);
    let bob = address!("0x00000000000000000000000000000000000000b0");
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), 10 * ETH);
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();

    // Tip 2 gwei above a 1 gwei base fee.
    let tx = eip1559(
        &alice,
        0,
        bob,
        U256::from(1),
        b"",
        3 * GWEI as u128,
        2 * GWEI as u128,
        21_000,
    );
    let sim = backend
        .simulate_bundle(&bundle(vec![tx.clone()], None, None))
        .unwrap();
    assert_eq!(sim.gas_used, 21_000);
    assert_eq!(sim.block_value, U256::from(21_000u64 * 2 * GWEI));
    assert_eq!(sim.effective_gas_price(), 2 * GWEI);

    // A second simulation on the same head reuses the cached state: only the head and the
    // chain id are asked again... and the chain id is cached too.
    let before = node.requests.load(Ordering::SeqCst);
    backend
        .simulate_bundle(&bundle(vec![tx.clone()], None, None))
        .unwrap();
    assert_eq!(node.requests.load(Ordering::SeqCst), before + 1);

    // A bad nonce fails the simulation, naming the transaction.
    let late = eip1559(
        &alice,
        5,
        bob,
        U256::from(1),
        b"",
        3 * GWEI as u128,
        GWEI as u128,
        21_000,
    );
    let err = backend
        .simulate_bundle(&bundle(vec![late.clone()], None, None))
        .unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "transaction {} failed: nonce too high: address {}, tx: 5 state: 0",
            late.tx_hash(),
            alice.address()
        )
    );
}

#[test]
fn simulate_bundle_scenario_price_13() {
    // suave-geth e2e: one 21000-gas transaction priced 13 on a zero base fee → 13.
    let alice = key(0x12);
    let mut chain = MockChain::cancun(0);
    funded(&mut chain, alice.address(), ETH);
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    let tx = legacy(&alice, 0, Address::repeat_byte(0x42), U256::from(1), 13);
    let sim = backend
        .simulate_bundle(&bundle(vec![tx], None, None))
        .unwrap();
    assert_eq!(sim.effective_gas_price(), 13);
}

#[test]
fn reverts_need_reverting_hashes() {
    let alice = key(0x13);
    let reverter = Address::repeat_byte(0xdd);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), ETH);
    chain.accounts.insert(
        reverter,
        MockAccount {
            code: Bytes::from_static(REVERTER),
            nonce: 1,
            ..MockAccount::default()
        },
    );
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    let tx = eip1559(
        &alice,
        0,
        reverter,
        U256::ZERO,
        b"",
        2 * GWEI as u128,
        GWEI as u128,
        50_000,
    );
    let err = backend
        .simulate_bundle(&bundle(vec![tx.clone()], None, None))
        .unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "transaction {} reverted and is not in revertingHashes",
            tx.tx_hash()
        )
    );
    let sim = backend
        .simulate_bundle(&bundle(vec![tx.clone()], Some(vec![*tx.tx_hash()]), None))
        .unwrap();
    assert!(sim.gas_used > 21_000);

    // In a block build the same failure fails the build.
    let args = BuildBlockArgs::default();
    let err = backend
        .build_block(&args, &[bundle(vec![tx.clone()], None, None)], None)
        .unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "transaction {} reverted and is not in revertingHashes",
            tx.tx_hash()
        )
    );
}

/// Applies a transfer's effects to a mock state (for the expected post-state root).
fn credit(accounts: &mut BTreeMap<Address, MockAccount>, who: Address, delta: i128) {
    let acc = accounts.entry(who).or_default();
    if delta >= 0 {
        acc.balance += U256::from(delta as u128);
    } else {
        acc.balance -= U256::from((-delta) as u128);
    }
}

#[test]
fn build_block_pays_the_proposer_and_computes_the_roots() {
    let alice = key(0x21);
    let bob = Address::repeat_byte(0xb0);
    let writer = Address::repeat_byte(0xc1);
    let fee_recipient = Address::repeat_byte(0xfe);
    let coinbase_key = key(0x99);
    let coinbase = coinbase_key.address();
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), 10 * ETH);
    funded(&mut chain, bob, 5);
    chain.accounts.insert(
        writer,
        MockAccount {
            nonce: 1,
            code: Bytes::from_static(WRITER),
            storage: BTreeMap::from([
                (B256::ZERO, U256::from(5)),
                (B256::with_last_byte(1), U256::from(6)),
            ]),
            ..MockAccount::default()
        },
    );
    chain.accounts.insert(
        alloy_eips::eip4788::BEACON_ROOTS_ADDRESS,
        MockAccount {
            nonce: 1,
            code: alloy_eips::eip4788::BEACON_ROOTS_CODE.clone(),
            ..MockAccount::default()
        },
    );
    chain.seal();
    let parent_hash = chain.head_hash();
    let pre = chain.accounts.clone();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();

    let tip = 2 * GWEI;
    let t1 = eip1559(
        &alice,
        0,
        bob,
        U256::from(1000),
        b"",
        3 * GWEI as u128,
        tip as u128,
        21_000,
    );
    let t2 = eip1559(
        &alice,
        1,
        writer,
        U256::ZERO,
        b"",
        3 * GWEI as u128,
        tip as u128,
        60_000,
    );
    let beacon_root = B256::repeat_byte(0xbe);
    let args = BuildBlockArgs {
        slot: 7,
        timestamp: 1_012,
        feeRecipient: fee_recipient,
        gasLimit: 30_000_000,
        random: B256::repeat_byte(0x5a),
        beaconRoot: beacon_root,
        extra: Bytes::from_static(b"kettle"),
        withdrawals: vec![kettle_contracts::Withdrawal {
            index: 3,
            validator: 4,
            Address: bob,
            amount: 2,
        }],
        ..BuildBlockArgs::default()
    };
    let payload = backend
        .build_payload_with_key(
            &args,
            &[bundle(vec![t1.clone(), t2.clone()], None, None)],
            None,
            &coinbase_key,
        )
        .unwrap();

    let h = &payload.header;
    assert_eq!(h.parent_hash, parent_hash);
    assert_eq!(h.number, 6);
    assert_eq!(h.timestamp, 1_012);
    assert_eq!(h.beneficiary, coinbase);
    assert_eq!(h.base_fee_per_gas, Some(GWEI));
    assert_eq!(h.mix_hash, B256::repeat_byte(0x5a));
    assert_eq!(h.parent_beacon_block_root, Some(beacon_root));
    assert_eq!(h.blob_gas_used, Some(0));
    assert_eq!(h.excess_blob_gas, Some(0));
    assert_eq!(&h.extra_data[..], b"kettle");
    assert_eq!(payload.transactions.len(), 3);
    assert_eq!(payload.transactions[0], t1);
    assert_eq!(payload.transactions[1], t2);
    let gas_t2 = payload.receipts[1].cumulative_gas_used() - 21_000;
    let profit = U256::from((21_000 + gas_t2) * tip);
    let cost = U256::from(28_000 * GWEI);
    assert_eq!(payload.block_value, profit - cost);
    let payment = &payload.transactions[2];
    assert_eq!(payment.to(), Some(fee_recipient));
    assert_eq!(payment.value(), profit - cost);
    assert_eq!(payment.gas_limit(), 28_000);
    assert_eq!(h.gas_used, 21_000 + gas_t2 + 21_000);
    assert_eq!(payload.block_hash, h.hash_slow());

    // Expected post-state, computed independently with the mock's trie.
    let mut post = pre.clone();
    let paid = |gas: u64| -> i128 { (gas * (GWEI + tip)) as i128 };
    credit(
        &mut post,
        alice.address(),
        -(1000 + paid(21_000) + paid(gas_t2)),
    );
    post.get_mut(&alice.address()).unwrap().nonce = 2;
    credit(&mut post, bob, 1000 + 2 * GWEI as i128);
    post.get_mut(&writer)
        .unwrap()
        .storage
        .insert(B256::ZERO, U256::from(1));
    let value: u128 = (profit - cost).to();
    credit(&mut post, fee_recipient, value as i128);
    let coinbase_left = profit - U256::from(value) - U256::from(21_000 * GWEI);
    post.insert(
        coinbase,
        MockAccount {
            balance: coinbase_left,
            nonce: 1,
            ..MockAccount::default()
        },
    );
    // timestamp % 8191
    let slot = U256::from(1_012u64);
    let beacon = post
        .get_mut(&alloy_eips::eip4788::BEACON_ROOTS_ADDRESS)
        .unwrap();
    beacon
        .storage
        .insert(B256::from(slot), U256::from(1_012u64));
    beacon.storage.insert(
        B256::from(slot + U256::from(8191)),
        U256::from_be_bytes(beacon_root.0),
    );
    let (expected_root, _) = state_trie(&post, &[]);
    assert_eq!(h.state_root, expected_root);

    // The envelope JSON in suave-geth's shape.
    let built = payload.to_built_block();
    assert_eq!(built.block_hash, payload.block_hash);
    assert_eq!(built.gas_used, h.gas_used);
    let env: serde_json::Value = serde_json::from_slice(&built.envelope_json).unwrap();
    let ep = &env["executionPayload"];
    assert_eq!(ep["blockNumber"], "0x6");
    assert_eq!(ep["feeRecipient"], serde_json::json!(coinbase));
    assert_eq!(ep["blockHash"], serde_json::json!(payload.block_hash));
    assert_eq!(ep["transactions"].as_array().unwrap().len(), 3);
    assert_eq!(ep["withdrawals"][0]["validatorIndex"], "0x4");
    assert_eq!(ep["blobGasUsed"], "0x0");
    assert_eq!(env["blockValue"], format!("{:#x}", profit - cost));
    assert_eq!(env["shouldOverrideBuilder"], false);
    assert_eq!(env["blobsBundle"]["blobs"], serde_json::json!([]));
    let text = String::from_utf8(built.envelope_json.to_vec()).unwrap();
    assert!(
        text.starts_with("{\"executionPayload\":{\"parentHash\":"),
        "{text}"
    );
    let deneb = payload.deneb_payload_json();
    assert_eq!(deneb["block_number"], "6");
    assert_eq!(deneb["gas_used"], h.gas_used.to_string());
    assert_eq!(deneb["withdrawals"][0]["amount"], "2");
}

/// A block (fee recipient `0xfe…`) of one transaction from `from` (nonce 0) to `to` paying a
/// 1 wei tip at a 2 gwei fee cap: too little profit for a proposer payment.
fn build_tipping_one_wei(
    backend: &RpcBackend,
    from: &PrivateKeySigner,
    to: Address,
    gas_limit: u64,
) -> BuiltPayload {
    let tx = eip1559(from, 0, to, U256::ZERO, b"", 2 * GWEI as u128, 1, gas_limit);
    let args = BuildBlockArgs {
        feeRecipient: Address::repeat_byte(0xfe),
        ..BuildBlockArgs::default()
    };
    backend
        .build_payload(&args, &[bundle(vec![tx], None, None)], None)
        .unwrap()
}

#[test]
fn small_profit_means_no_payment() {
    let alice = key(0x22);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), ETH);
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    // Tip 1 wei: profit 21000 wei ≤ 28000 gwei.
    let payload = build_tipping_one_wei(&backend, &alice, Address::repeat_byte(3), 21_000);
    assert_eq!(payload.block_value, U256::ZERO);
    assert_eq!(payload.transactions.len(), 1);
    // Null-ish args: parent + 12, parent's gas limit, parent's mix hash.
    assert_eq!(payload.header.timestamp, 1_012);
    assert_eq!(payload.header.gas_limit, 30_000_000);
    assert_eq!(payload.header.mix_hash, B256::repeat_byte(0x77));
}

#[test]
fn refund_goes_to_the_first_sender() {
    let user = key(0x31);
    let searcher = key(0x32);
    let coinbase_key = key(0x98);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, user.address(), ETH);
    funded(&mut chain, searcher.address(), ETH);
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    let t1 = eip1559(
        &user,
        0,
        Address::repeat_byte(3),
        U256::ZERO,
        b"",
        2 * GWEI as u128,
        GWEI as u128,
        21_000,
    );
    // The searcher pays the coinbase a large tip.
    let t2 = eip1559(
        &searcher,
        0,
        Address::repeat_byte(4),
        U256::ZERO,
        b"",
        2_000 * GWEI as u128,
        1_000 * GWEI as u128,
        21_000,
    );
    let args = BuildBlockArgs {
        feeRecipient: Address::repeat_byte(0xfe),
        ..BuildBlockArgs::default()
    };
    let err_or_payload = backend.build_payload_with_key(
        &args,
        &[bundle(vec![t1, t2], None, Some(0))],
        None,
        &coinbase_key,
    );
    let payload = err_or_payload.unwrap();
    assert_eq!(payload.transactions.len(), 4);
    let refund = &payload.transactions[2];
    let profit = U256::from(21_000 * GWEI + 21_000 * 1_000 * GWEI);
    assert_eq!(refund.to(), Some(user.address()));
    assert_eq!(
        refund.value(),
        profit / U256::from(10) - U256::from(28_000 * GWEI)
    );
}

#[test]
fn sessions_apply_transactions_and_roll_back_failures() {
    let alice = key(0x41);
    let logger_addr = Address::repeat_byte(0x10);
    let topic = B256::repeat_byte(0xab);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), ETH);
    chain.accounts.insert(
        logger_addr,
        MockAccount {
            nonce: 1,
            code: logger(topic),
            ..MockAccount::default()
        },
    );
    chain.seal();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(
        &node.url,
        BackendConfig {
            sessions: SessionConfig {
                max_sessions: 2,
                idle_timeout: Duration::from_millis(600),
                wait: Duration::from_millis(100),
            },
            ..quick()
        },
    )
    .unwrap();
    let id = backend.new_session().unwrap();
    assert_eq!(id.len(), 7);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let tx = eip1559(
        &alice,
        0,
        logger_addr,
        U256::ZERO,
        b"",
        3 * GWEI as u128,
        GWEI as u128,
        50_000,
    );
    let first = backend.add_transaction(&id, &tx).unwrap();
    assert!(first.success, "{}", first.error);
    assert_eq!(first.logs.len(), 1);
    assert_eq!(first.logs[0].addr, logger_addr);
    assert_eq!(first.logs[0].topics, vec![topic]);
    assert_eq!(first.egp, 2 * GWEI);

    // Same transaction again: nonce too low, state unchanged.
    let again = backend.add_transaction(&id, &tx).unwrap();
    assert!(!again.success);
    assert_eq!(
        again.error,
        format!("nonce too low: address {}, tx: 0 state: 1", alice.address())
    );
    let next = eip1559(
        &alice,
        1,
        logger_addr,
        U256::ZERO,
        b"",
        3 * GWEI as u128,
        GWEI as u128,
        50_000,
    );
    assert!(backend.add_transaction(&id, &next).unwrap().success);

    // A reverted-but-included transaction is a success without logs.
    let revert = eip1559(
        &alice,
        2,
        logger_addr,
        U256::ZERO,
        b"",
        3 * GWEI as u128,
        GWEI as u128,
        21_100,
    );
    let r = backend.add_transaction(&id, &revert).unwrap();
    assert!(r.success);
    assert!(r.logs.is_empty());

    // Limits: two sessions at most, the third waits then fails.
    let second = backend.new_session().unwrap();
    assert_ne!(second, id);
    let err = backend.new_session().unwrap_err();
    assert_eq!(err.0, "too many builder sessions: all 2 are in use");
    // Idle sessions expire.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        backend.add_transaction(&id, &tx).unwrap_err().0,
        format!("session {id} not found")
    );
    assert!(backend.new_session().is_ok());
}

#[test]
fn ethcall_returns_data_and_revert_data() {
    let node = MockNode::start(MockChain::cancun(GWEI));
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    assert_eq!(
        backend.call(Address::repeat_byte(1), b"x").unwrap(),
        Bytes::from_static(&[0x12, 0x34])
    );
    node.edit(|c| c.call_reply = Err(Bytes::from_static(&[0xde, 0xad])));
    assert_eq!(
        backend.call(Address::repeat_byte(1), b"x").unwrap(),
        Bytes::from_static(&[0xde, 0xad])
    );
    let rpc = RpcClient::new(&node.url, RpcConfig::default()).unwrap();
    assert_eq!(rpc.chain_id().unwrap(), CHAIN_ID);
    let header = rpc.header_by_number(BlockId::Latest).unwrap().unwrap();
    assert_eq!(header.number, 5);
    assert_eq!(header.hash, header.inner.hash_slow());
    assert!(rpc.header_by_number(BlockId::Number(99)).unwrap().is_none());
}

#[test]
fn unknown_parent_and_bad_timestamp() {
    let node = MockNode::start(MockChain::cancun(GWEI));
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    let args = BuildBlockArgs {
        parent: B256::repeat_byte(9),
        ..BuildBlockArgs::default()
    };
    assert_eq!(
        backend.build_block(&args, &[], None).unwrap_err().0,
        format!("parent block {} not found", B256::repeat_byte(9))
    );
    let args = BuildBlockArgs {
        timestamp: 999,
        ..BuildBlockArgs::default()
    };
    assert_eq!(
        backend.build_block(&args, &[], None).unwrap_err().0,
        "invalid timestamp, parent 1000 given 999"
    );
    let _: Option<TxEnvelope> = None;
    let _ = BuildError::Deadline;
}

/// `SSTORE(0, 0)`: zeroes slot 0.
const ZEROER: &[u8] = &[0x60, 0x00, 0x60, 0x00, 0x55, 0x00];

/// First nibble of a slot's hashed path.
fn first_nibble(slot: &B256) -> u8 {
    alloy_primitives::keccak256(slot)[0] >> 4
}

#[test]
fn zeroing_a_slot_next_to_a_blinded_sibling_builds_with_a_probe_proof() {
    // Slot 0 and exactly one other slot share the first nibble of their hashed paths (so they
    // share a branch), and three more slots each have their own: zeroing slot 0 collapses that
    // branch into the other slot's leaf, which the proof of slot 0 only references by hash.
    let zeroed = B256::ZERO;
    let mut sibling = None;
    let mut used = vec![first_nibble(&zeroed)];
    let mut others = Vec::new();
    for i in 1u64.. {
        let slot = B256::from(U256::from(i));
        let nibble = first_nibble(&slot);
        if nibble == used[0] && sibling.is_none() {
            sibling = Some(slot);
        } else if !used.contains(&nibble) && others.len() < 3 {
            used.push(nibble);
            others.push(slot);
        }
        if sibling.is_some() && others.len() == 3 {
            break;
        }
    }
    let sibling = sibling.unwrap();
    let storage: BTreeMap<B256, U256> = [zeroed, sibling]
        .iter()
        .chain(&others)
        .zip(1u64..)
        .map(|(slot, i)| (*slot, U256::from(i) << 200))
        .collect();

    let alice = key(0x41);
    let zeroer = Address::repeat_byte(0xd0);
    let mut chain = MockChain::cancun(GWEI);
    funded(&mut chain, alice.address(), ETH);
    chain.accounts.insert(
        zeroer,
        MockAccount {
            nonce: 1,
            code: Bytes::from_static(ZEROER),
            storage,
            ..MockAccount::default()
        },
    );
    chain.seal();
    let pre = chain.accounts.clone();
    let node = MockNode::start(chain);
    let backend = RpcBackend::new(&node.url, quick()).unwrap();
    // Tip 1 wei: no proposer payment, the beneficiary only gets the tips.
    let payload = build_tipping_one_wei(&backend, &alice, zeroer, 60_000);
    assert_eq!(payload.transactions.len(), 1);
    let h = &payload.header;

    let gas = payload.receipts[0].cumulative_gas_used();
    let mut post = pre;
    credit(&mut post, alice.address(), -i128::from(gas * (GWEI + 1)));
    post.get_mut(&alice.address()).unwrap().nonce = 1;
    credit(&mut post, h.beneficiary, i128::from(gas));
    post.get_mut(&zeroer).unwrap().storage.remove(&zeroed);
    let (expected_root, _) = state_trie(&post, &[]);
    assert_eq!(h.state_root, expected_root);
}
