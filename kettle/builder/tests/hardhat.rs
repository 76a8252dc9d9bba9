//! Smoke test against a real local L1 (hardhat node, chain 1337, Cancun): build a block with
//! [`RpcBackend`], replay its transactions in hardhat with the same environment, and compare
//! the roots and the block hash. Ignored by default; run with
//! `cargo test -p kettle-builder --test hardhat -- --ignored` once `tests/l1/node_modules`
//! exists (`cd tests/l1 && npm ci`).

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_builder::rpc::{BlockId, RpcClient, RpcConfig};
use kettle_builder::{BackendConfig, RpcBackend};
use kettle_contracts::BuildBlockArgs;
use serde_json::{json, Value};

const GWEI: u128 = 1_000_000_000;

/// hardhat's first two dev keys.
const KEYS: [&str; 2] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
];

struct Hardhat {
    child: Child,
    url: String,
}

impl Drop for Hardhat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_hardhat() -> Hardhat {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/l1");
    let cli = dir.join("node_modules/hardhat/internal/cli/bootstrap.js");
    assert!(cli.is_file(), "hardhat not installed in {}", dir.display());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new("node")
        .arg(cli)
        .args([
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(&dir)
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node");
    let node = Hardhat {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let rpc = RpcClient::new(&node.url, RpcConfig::default()).expect("url");
    let started = Instant::now();
    while rpc.chain_id().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hardhat did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    node
}

fn tx(key: &PrivateKeySigner, nonce: u64, to: TxKind, value: U256, input: &[u8]) -> TxEnvelope {
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 100 * GWEI,
        max_priority_fee_per_gas: 2 * GWEI,
        to,
        value,
        input: Bytes::copy_from_slice(input),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::Eip1559(tx.into_signed(sig))
}

fn send(rpc: &RpcClient, tx: &TxEnvelope) {
    rpc.request(
        "eth_sendRawTransaction",
        json!([Bytes::from(tx.encoded_2718())]),
    )
    .expect("eth_sendRawTransaction");
}

#[test]
#[ignore = "needs hardhat in tests/l1/node_modules"]
fn built_block_matches_hardhat() {
    let node = start_hardhat();
    let rpc = RpcClient::new(&node.url, RpcConfig::default()).unwrap();
    let alice: PrivateKeySigner = KEYS[0].parse().unwrap();
    let searcher: PrivateKeySigner = KEYS[1].parse().unwrap();
    let coinbase_key = support::key(0x5c);
    let bob = Address::repeat_byte(0xb0);
    let fee_recipient = Address::repeat_byte(0xfe);

    // Block 1 funds the coinbase so that hardhat's pool accepts its payment later.
    send(
        &rpc,
        &tx(
            &alice,
            0,
            TxKind::Call(coinbase_key.address()),
            U256::from(GWEI * GWEI),
            b"",
        ),
    );
    let parent = rpc.header_by_number(BlockId::Latest).unwrap().unwrap();
    assert_eq!(parent.number, 1);

    // A transfer, a creation that writes storage in its constructor, a call into it.
    let initcode: Vec<u8> = [
        &[0x60, 0x2a, 0x60, 0x00, 0x55][..],
        &[
            0x60, 0x06, 0x60, 0x11, 0x60, 0x00, 0x39, 0x60, 0x06, 0x60, 0x00, 0xf3,
        ],
        support::WRITER,
    ]
    .concat();
    let created = searcher.address().create(0);
    let bundle = support::bundle(
        vec![
            tx(&alice, 1, TxKind::Call(bob), U256::from(GWEI), b""),
            tx(&searcher, 0, TxKind::Create, U256::ZERO, &initcode),
            tx(&alice, 2, TxKind::Call(created), U256::ZERO, b""),
        ],
        None,
        None,
    );
    // hardhat does not run the EIP-4788 system call.
    let mut config = BackendConfig::default();
    config.forks.skip_system_calls = true;
    let backend = RpcBackend::new(&node.url, config).unwrap();
    let mut args = BuildBlockArgs {
        timestamp: parent.timestamp + 12,
        feeRecipient: fee_recipient,
        random: B256::repeat_byte(0x5a),
        ..BuildBlockArgs::default()
    };

    // hardhat picks its own parent beacon block root: mine once to learn it, revert, and
    // build with it.
    let snapshot = rpc.request("evm_snapshot", json!([])).unwrap();
    let first = backend
        .build_payload_with_key(&args, std::slice::from_ref(&bundle), None, &coinbase_key)
        .unwrap();
    let probe = replay(&rpc, &first, &args, &coinbase_key);
    args.beaconRoot = probe["parentBeaconBlockRoot"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    assert_eq!(
        rpc.request("evm_revert", json!([snapshot])).unwrap(),
        json!(true)
    );

    let built = backend
        .build_payload_with_key(&args, &[bundle], None, &coinbase_key)
        .unwrap();
    assert_eq!(built.transactions.len(), 4);
    assert!(built.block_value > U256::ZERO);
    let mined = replay(&rpc, &built, &args, &coinbase_key);
    let field = |k: &str| mined[k].as_str().unwrap_or_default().to_owned();
    let h = &built.header;
    println!("hardhat block 2: {mined}");
    assert_eq!(field("parentBeaconBlockRoot"), args.beaconRoot.to_string());
    assert_eq!(field("transactionsRoot"), h.transactions_root.to_string());
    assert_eq!(field("receiptsRoot"), h.receipts_root.to_string());
    assert_eq!(field("logsBloom"), h.logs_bloom.to_string());
    assert_eq!(field("gasUsed"), format!("{:#x}", h.gas_used));
    assert_eq!(field("gasLimit"), format!("{:#x}", h.gas_limit));
    assert_eq!(
        field("baseFeePerGas"),
        format!("{:#x}", h.base_fee_per_gas.unwrap_or_default())
    );
    assert_eq!(
        field("withdrawalsRoot"),
        h.withdrawals_root.unwrap_or_default().to_string()
    );
    if field("stateRoot") != h.state_root.to_string() {
        let beacon = alloy_eips::eip4788::BEACON_ROOTS_ADDRESS;
        let slot = B256::from(U256::from(args.timestamp % 8191));
        for block in ["0x1", "0x2"] {
            println!(
                "beacon slot at {block}: {:?}",
                rpc.request("eth_getStorageAt", json!([beacon, slot, block]))
            );
        }
        for who in [
            alice.address(),
            searcher.address(),
            bob,
            created,
            coinbase_key.address(),
            fee_recipient,
            beacon,
            alloy_eips::eip4788::SYSTEM_ADDRESS,
        ] {
            let p = rpc.proof(who, &[], BlockId::Number(2)).unwrap();
            println!(
                "{who}: balance {} nonce {} code {} storage {}",
                p.balance, p.nonce, p.code_hash, p.storage_hash
            );
        }
    }
    assert_eq!(field("stateRoot"), h.state_root.to_string());
    assert_eq!(field("hash"), built.block_hash.to_string());
}

/// Mines `built`'s transactions in hardhat with `args`' environment; returns the block.
fn replay(
    rpc: &RpcClient,
    built: &kettle_builder::BuiltPayload,
    args: &BuildBlockArgs,
    coinbase_key: &PrivateKeySigner,
) -> Value {
    rpc.request("evm_setAutomine", json!([false])).unwrap();
    rpc.request("hardhat_setCoinbase", json!([coinbase_key.address()]))
        .unwrap();
    rpc.request("evm_setNextBlockTimestamp", json!([args.timestamp]))
        .unwrap();
    rpc.request(
        "hardhat_setNextBlockBaseFeePerGas",
        json!([format!(
            "{:#x}",
            built.header.base_fee_per_gas.unwrap_or_default()
        )]),
    )
    .unwrap();
    rpc.request("hardhat_setPrevRandao", json!([args.random]))
        .unwrap();
    for t in &built.transactions {
        send(rpc, t);
    }
    rpc.request("evm_mine", json!([])).unwrap();
    rpc.request("evm_setAutomine", json!([true])).unwrap();
    let mined: Value = rpc
        .request("eth_getBlockByNumber", json!(["0x2", false]))
        .unwrap();
    assert_eq!(mined["transactions"].as_array().map(Vec::len), Some(4));
    mined
}
