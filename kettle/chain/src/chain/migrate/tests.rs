//! The trie migration on a real RocksDB: cut into many writes, cut short and run again.

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{hex, Address, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_primitives::{SuaveTxEnvelope, DEV_KETTLE_ADDRESS};

use super::*;
use crate::{Chain, ChainSpec, PoolLimits};

const USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";
/// Initcode deploying `PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP` (stores word 0 of calldata
/// in slot 0).
const STORE_INITCODE: &str = "6007600c60003960076000f360003560005500";

fn transaction(key: &PrivateKeySigner, nonce: u64, to: TxKind, input: Vec<u8>) -> SuaveTxEnvelope {
    let tx = TxEip1559 {
        chain_id: 16_813_125,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1,
        to,
        value: U256::from(1),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    SuaveTxEnvelope::Ethereum(TxEnvelope::from(tx.into_signed(sig)))
}

/// A stored trie node: key and encoding.
type Node = (Box<[u8]>, Box<[u8]>);

/// Every stored trie node, in key order.
fn nodes(db: &DB) -> Vec<Node> {
    let cf = db::cf(db, CF_TRIE).expect("trie cf");
    db.iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|item| item.expect("read"))
        .collect()
}

fn drop_all_nodes(db: &DB) {
    let cf = db::cf(db, CF_TRIE).expect("trie cf");
    let (start, end) = trie::all_range();
    db.delete_range_cf(cf, start, end).expect("drop");
}

#[test]
fn migration_in_many_writes_cut_short_then_run_again_builds_the_same_tries() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = db::open_db(dir.path(), &[]).expect("open db");
    let chain = Chain::open(
        db.clone(),
        ChainSpec::dev(DEV_KETTLE_ADDRESS),
        PoolLimits::default(),
    )
    .expect("open chain");
    // A state with storage tries (three contracts with a slot each) and 30 more accounts.
    let user: PrivateKeySigner = USER_KEY.parse().expect("key");
    let mut nonce = 0;
    let mut contracts = Vec::new();
    for _ in 0..3 {
        let init = hex::decode(STORE_INITCODE).expect("hex");
        chain
            .add_transaction(&transaction(&user, nonce, TxKind::Create, init))
            .expect("deploy");
        contracts.push(user.address().create(nonce));
        nonce += 1;
    }
    chain.produce_block(1, Address::ZERO).expect("produce");
    for (i, contract) in contracts.iter().enumerate() {
        let word = U256::from(1000 + i).to_be_bytes::<32>().to_vec();
        chain
            .add_transaction(&transaction(&user, nonce, TxKind::Call(*contract), word))
            .expect("store");
        nonce += 1;
    }
    for i in 0..30u8 {
        let to = TxKind::Call(Address::repeat_byte(i + 1));
        chain
            .add_transaction(&transaction(&user, nonce, to, vec![]))
            .expect("transfer");
        nonce += 1;
    }
    let block = chain
        .produce_block(2, Address::ZERO)
        .expect("produce")
        .expect("a block");
    assert_eq!(block.transactions.len(), 33);
    let root = block.header.state_root;
    drop(chain);
    let stored = nodes(&db);
    assert!(stored.len() > 10, "{} nodes", stored.len());

    // Cut short after the fifth of many writes: no root matches the head afterwards.
    drop_all_nodes(&db);
    let cut = ensure_tries_with(&db, root, 1, |n| {
        if n == 5 {
            Err(ChainError::corrupt("test", "cut short"))
        } else {
            Ok(())
        }
    });
    assert!(cut.is_err());
    let cf = db::cf(&db, CF_TRIE).expect("trie cf");
    assert_eq!(db.get_cf(cf, root_key()).expect("read"), None);
    assert!(!nodes(&db).is_empty(), "the first writes were made");

    // Run again: one write per node, and exactly the nodes the blocks had stored.
    let mut writes = 0;
    ensure_tries_with(&db, root, 1, |n| {
        writes = n;
        Ok(())
    })
    .expect("migration");
    assert!(writes >= stored.len() - 1, "{writes} writes");
    assert_eq!(nodes(&db), stored);

    // In the default batch size: one write, the same nodes; and nothing to do once built.
    drop_all_nodes(&db);
    let mut writes = 0;
    ensure_tries_with(&db, root, BATCH_BYTES, |n| {
        writes = n;
        Ok(())
    })
    .expect("migration");
    assert_eq!(writes, 0, "everything fits the final write");
    assert_eq!(nodes(&db), stored);
    ensure_tries_with(&db, root, 1, |_| panic!("nothing to rebuild")).expect("no-op");

    // The chain opens on the rebuilt tries and keeps producing.
    let chain = Chain::open(
        Arc::clone(&db),
        ChainSpec::dev(DEV_KETTLE_ADDRESS),
        PoolLimits::default(),
    )
    .expect("reopen");
    chain
        .add_transaction(&transaction(
            &user,
            nonce,
            TxKind::Call(contracts[0]),
            vec![7; 32],
        ))
        .expect("store");
    assert!(chain
        .produce_block(3, Address::ZERO)
        .expect("produce")
        .is_some());
}
