//! The trie migration on a real RocksDB: cut into many writes, cut short and run again.

use alloy_primitives::{hex, Address, TxKind, U256};

use super::*;
use crate::test_support::{eip1559, key, open, STORE_INITCODE, USER_KEY};

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
    let chain = open(dir.path());
    let db = chain.db().clone();
    // A state with storage tries (three contracts with a slot each) and 30 more accounts.
    let user = key(USER_KEY);
    let mut nonce = 0;
    let mut contracts = Vec::new();
    for _ in 0..3 {
        let init = hex::decode(STORE_INITCODE).expect("hex");
        chain
            .add_transaction(&eip1559(&user, nonce, TxKind::Create, 0, init))
            .expect("deploy");
        contracts.push(user.address().create(nonce));
        nonce += 1;
    }
    chain.produce_block(1, Address::ZERO).expect("produce");
    for (i, contract) in contracts.iter().enumerate() {
        let word = U256::from(1000 + i).to_be_bytes::<32>().to_vec();
        chain
            .add_transaction(&eip1559(&user, nonce, TxKind::Call(*contract), 0, word))
            .expect("store");
        nonce += 1;
    }
    for i in 0..30u8 {
        let to = TxKind::Call(Address::repeat_byte(i + 1));
        chain
            .add_transaction(&eip1559(&user, nonce, to, 1, vec![]))
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
    drop(db);
    let chain = open(dir.path());
    chain
        .add_transaction(&eip1559(
            &user,
            nonce,
            TxKind::Call(contracts[0]),
            0,
            vec![7; 32],
        ))
        .expect("store");
    assert!(chain
        .produce_block(3, Address::ZERO)
        .expect("produce")
        .is_some());
}
