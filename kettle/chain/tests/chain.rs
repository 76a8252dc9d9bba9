//! The chain on a real RocksDB: genesis, transactions, blocks, roots, restarts.

use std::sync::Arc;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{address, hex, keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_chain::{db, Chain, ChainSpec, PoolError, PoolLimits};
use kettle_primitives::{
    ConfidentialComputeRecord, ConfidentialComputeRequest, SuaveTransaction, SuaveTxEnvelope,
    DEV_KETTLE_ADDRESS,
};

const USER_KEY: &str = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12";
const KETTLE_KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";
/// Initcode deploying `PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP` (stores word 0 of calldata
/// in slot 0).
const STORE_INITCODE: &str = "6007600c60003960076000f360003560005500";

fn signer(key: &str) -> PrivateKeySigner {
    key.parse().expect("key")
}

fn open(dir: &std::path::Path) -> Chain {
    let db = db::open_db(dir, &[]).expect("open db");
    Chain::open(
        db,
        ChainSpec::dev(DEV_KETTLE_ADDRESS),
        PoolLimits::default(),
    )
    .expect("open chain")
}

fn eip1559(
    key: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
) -> SuaveTxEnvelope {
    let tx = TxEip1559 {
        chain_id: 16_813_125,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1,
        to,
        value,
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    SuaveTxEnvelope::Ethereum(TxEnvelope::from(tx.into_signed(sig)))
}

#[test]
fn genesis_funds_dev_accounts_and_is_stable_across_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    let (hash, head) = {
        let chain = open(dir.path());
        let state = chain.state();
        let user = state
            .account(&signer(USER_KEY).address())
            .expect("read")
            .expect("funded");
        assert_eq!(
            user.balance,
            U256::from(10_000_000_000u64) * U256::from(10u64).pow(U256::from(18u64))
        );
        let kettle = state
            .account(&DEV_KETTLE_ADDRESS)
            .expect("read")
            .expect("funded");
        assert_eq!(kettle.balance, U256::MAX - U256::from(8u64));
        chain.head()
    };
    assert_eq!(head.number, 0);
    assert_eq!(head.base_fee_per_gas, Some(1_000_000_000));
    let chain = open(dir.path());
    assert_eq!(chain.head().0, hash);
}

#[test]
fn transfer_deploy_and_call_produce_correct_blocks() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = open(dir.path());
    let user = signer(USER_KEY);
    let to = address!("0x00000000000000000000000000000000000000aa");

    // nothing pending: no block
    assert!(chain
        .produce_block(1, Address::ZERO)
        .expect("produce")
        .is_none());

    let transfer = eip1559(&user, 0, TxKind::Call(to), U256::from(12345u64), vec![]);
    let deploy = eip1559(
        &user,
        1,
        TxKind::Create,
        U256::ZERO,
        hex::decode(STORE_INITCODE).expect("hex"),
    );
    let h1 = chain.add_transaction(&transfer).expect("transfer accepted");
    let h2 = chain.add_transaction(&deploy).expect("deploy accepted");
    assert_eq!(
        chain.add_transaction(&transfer).err(),
        Some(PoolError::AlreadyKnown)
    );
    assert_eq!(chain.pending_nonce(&user.address()).expect("nonce"), 2);

    let block = chain
        .produce_block(10, Address::ZERO)
        .expect("produce")
        .expect("a block");
    assert_eq!(block.header.number, 1);
    assert_eq!(block.transactions.len(), 2);
    assert!(block.receipts.iter().all(|r| r.success));
    assert_eq!(block.transactions[0].hash(), h1);
    assert_eq!(
        chain.tx_location(&h2).expect("index").expect("mined").index,
        1
    );
    assert_eq!(
        chain
            .state()
            .account(&to)
            .expect("read")
            .expect("exists")
            .balance,
        U256::from(12345u64)
    );

    let contract = user.address().create(1);
    assert_eq!(
        chain.code(&contract).expect("code"),
        Bytes::from(hex::decode("60003560005500").expect("hex"))
    );

    let mut word = [0u8; 32];
    word[31] = 0x77;
    let call = eip1559(&user, 2, TxKind::Call(contract), U256::ZERO, word.to_vec());
    chain.add_transaction(&call).expect("call accepted");
    let block2 = chain
        .produce_block(20, Address::ZERO)
        .expect("produce")
        .expect("block 2");
    assert_eq!(block2.header.parent_hash, block.hash);
    assert_eq!(
        chain.storage(contract, U256::ZERO).expect("slot"),
        U256::from(0x77u64)
    );
    // base fee moves per EIP-1559 with the gas used
    assert!(block2.header.base_fee_per_gas.expect("london") < 1_000_000_000);

    // The incremental state root equals a from-scratch computation over all stored state.
    assert_eq!(block2.header.state_root, full_state_root(&chain));

    // Roots of the block match alloy's independent computation.
    let receipts_root =
        alloy_consensus::proofs::ordered_trie_root_with_encoder(&block2.receipts, |r, buf| {
            buf.extend_from_slice(&r.encoded_2718())
        });
    assert_eq!(block2.header.receipts_root, receipts_root);

    // Everything survives a restart.
    let head = chain.head();
    drop(chain);
    let chain = open(dir.path());
    assert_eq!(chain.head(), head);
    assert_eq!(
        chain.storage(contract, U256::ZERO).expect("slot"),
        U256::from(0x77u64)
    );
    let reopened = chain.block_by_number(2).expect("read").expect("block");
    assert_eq!(reopened.hash, block2.hash);
    assert_eq!(reopened.receipts, block2.receipts);
}

fn full_state_root(chain: &Chain) -> B256 {
    use rocksdb::IteratorMode;
    let db = chain.db();
    let cf_acc = db.cf_handle(db::CF_ACCOUNTS).expect("cf");
    let cf_st = db.cf_handle(db::CF_STORAGE).expect("cf");
    let mut accounts = Vec::new();
    for item in db.iterator_cf(cf_acc, IteratorMode::Start) {
        let (_, v) = item.expect("iter");
        let address = Address::from_slice(&v[..20]);
        let nonce = u64::from_be_bytes(v[20..28].try_into().expect("8"));
        let balance = U256::from_be_slice(&v[28..60]);
        let code_hash = B256::from_slice(&v[60..92]);
        let hashed = keccak256(address);
        let mut slots = Vec::new();
        for item in db.iterator_cf(
            cf_st,
            IteratorMode::From(hashed.as_slice(), rocksdb::Direction::Forward),
        ) {
            let (k, sv) = item.expect("iter");
            if &k[..32] != hashed.as_slice() {
                break;
            }
            slots.push((
                U256::from_be_slice(&sv[..32]).into(),
                U256::from_be_slice(&sv[32..]),
            ));
        }
        let storage_root = alloy_trie::root::storage_root_unhashed(slots);
        accounts.push((
            address,
            alloy_trie::TrieAccount {
                nonce,
                balance,
                storage_root,
                code_hash,
            },
        ));
    }
    alloy_trie::root::state_root_unhashed(accounts)
}

#[test]
fn pool_rejects_bad_transactions_with_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = open(dir.path());
    let user = signer(USER_KEY);
    let poor = PrivateKeySigner::random();
    let to = TxKind::Call(Address::repeat_byte(9));

    let e = chain
        .add_transaction(&eip1559(&poor, 0, to, U256::ZERO, vec![]))
        .unwrap_err();
    assert!(matches!(e, PoolError::InsufficientFunds { .. }), "{e}");
    let e = chain
        .add_transaction(&eip1559(&user, 5, to, U256::ZERO, vec![]))
        .unwrap_err();
    assert_eq!(
        e,
        PoolError::NonceTooHigh {
            expected: 0,
            got: 5
        }
    );

    // wrong chain id
    let tx = TxLegacy {
        chain_id: Some(1),
        gas_limit: 21_000,
        gas_price: 2_000_000_000,
        to,
        ..Default::default()
    };
    let sig = user.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let e = chain
        .add_transaction(&SuaveTxEnvelope::Ethereum(tx.into_signed(sig).into()))
        .unwrap_err();
    assert!(matches!(e, PoolError::WrongChainId { have: 1, .. }), "{e}");

    // fee cap under the base fee
    let tx = TxLegacy {
        chain_id: Some(16_813_125),
        gas_limit: 21_000,
        gas_price: 7,
        to,
        ..Default::default()
    };
    let sig = user.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let e = chain
        .add_transaction(&SuaveTxEnvelope::Ethereum(tx.into_signed(sig).into()))
        .unwrap_err();
    assert!(matches!(e, PoolError::FeeCapTooLow { .. }), "{e}");

    // intrinsic gas
    let tx = TxLegacy {
        chain_id: Some(16_813_125),
        gas_limit: 20_000,
        gas_price: 2_000_000_000,
        to,
        ..Default::default()
    };
    let sig = user.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let e = chain
        .add_transaction(&SuaveTxEnvelope::Ethereum(tx.into_signed(sig).into()))
        .unwrap_err();
    assert!(matches!(e, PoolError::IntrinsicGasTooLow { .. }), "{e}");

    // a 0x43 request never enters the pool
    let request = ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            gas: 100_000,
            gas_price: U256::from(2_000_000_000u64),
            to: Some(Address::repeat_byte(9)),
            kettle_address: DEV_KETTLE_ADDRESS,
            chain_id: U256::from(16_813_125u64),
            ..Default::default()
        },
        Bytes::from_static(b"secret"),
    )
    .into_signed(&user)
    .expect("sign");
    let e = chain
        .add_transaction(&SuaveTxEnvelope::ConfidentialRequest(request))
        .unwrap_err();
    assert_eq!(e, PoolError::UnsupportedType);
    assert_eq!(chain.pending_count(), 0);
}

#[test]
fn suave_transaction_executes_as_the_user_and_pending_survives_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let user = signer(USER_KEY);
    let kettle = signer(KETTLE_KEY);
    let target = Address::repeat_byte(0x42);
    let request = ConfidentialComputeRequest::new(
        ConfidentialComputeRecord {
            nonce: 0,
            gas: 100_000,
            gas_price: U256::from(2_000_000_000u64),
            to: Some(target),
            value: U256::from(5u64),
            kettle_address: kettle.address(),
            chain_id: U256::from(16_813_125u64),
            is_eip712: true,
            ..Default::default()
        },
        Bytes::from_static(b"inputs"),
    )
    .into_signed(&user)
    .expect("sign request");
    let stx = SuaveTransaction::new(request.record.clone(), Bytes::from_static(&[1, 2, 3]))
        .into_signed(&kettle)
        .expect("kettle signs");
    let hash = {
        let chain = open(dir.path());
        chain
            .add_transaction(&SuaveTxEnvelope::Suave(stx.clone()))
            .expect("0x50 accepted")
    };
    assert_eq!(hash, stx.tx_hash());

    let chain = Arc::new(open(dir.path()));
    assert_eq!(
        chain.pending_count(),
        1,
        "pending transaction restored after restart"
    );
    let block = chain
        .produce_block(5, Address::ZERO)
        .expect("produce")
        .expect("block");
    assert_eq!(block.transactions[0].sender, user.address());
    assert_eq!(block.receipts[0].tx_type, 0x50);
    assert_eq!(
        chain
            .state()
            .account(&target)
            .expect("read")
            .expect("paid")
            .balance,
        U256::from(5u64)
    );
    assert_eq!(chain.pending_nonce(&user.address()).expect("nonce"), 1);
}

/// The pending column family's entries as (key, transaction hash).
fn pending_entries(chain: &Chain) -> Vec<(Vec<u8>, B256)> {
    let cf = chain.db().cf_handle(db::CF_PENDING).expect("cf");
    chain
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|item| {
            let (key, value) = item.expect("read");
            let tx = <kettle_chain::StoredTx as alloy_rlp::Decodable>::decode(&mut value.as_ref())
                .expect("decodes");
            (key.to_vec(), tx.hash())
        })
        .collect()
}

#[test]
fn pending_entries_are_keyed_by_admission_and_hash_keyed_ones_are_moved_on_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let user = signer(USER_KEY);
    let txs: Vec<SuaveTxEnvelope> = (0..5)
        .map(|nonce| {
            eip1559(
                &user,
                nonce,
                TxKind::Call(Address::repeat_byte(7)),
                U256::from(1u64),
                vec![],
            )
        })
        .collect();
    let mut hashes = Vec::new();
    {
        let chain = open(dir.path());
        for tx in &txs[..3] {
            hashes.push(chain.add_transaction(tx).expect("accepted"));
        }
        let entries = pending_entries(&chain);
        let keys: Vec<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(
            keys,
            [0u64, 1, 2]
                .map(u64::to_be_bytes)
                .iter()
                .map(|k| &k[..])
                .collect::<Vec<_>>(),
            "keys count admissions"
        );
        assert_eq!(entries.iter().map(|(_, h)| *h).collect::<Vec<_>>(), hashes);
        // An entry as earlier versions wrote it: keyed by the transaction hash.
        let raw = Bytes::from(txs[3].encoded());
        let old = kettle_chain::StoredTx::new(user.address(), raw);
        let cf = chain.db().cf_handle(db::CF_PENDING).expect("cf");
        chain
            .db()
            .put_cf(cf, old.hash(), alloy_rlp::encode(&old))
            .expect("write");
        hashes.push(old.hash());
        // And one under a key no kettle hands out (corrupt): it must not exhaust the keys.
        let raw = Bytes::from(txs[4].encoded());
        let odd = kettle_chain::StoredTx::new(user.address(), raw);
        chain
            .db()
            .put_cf(cf, u64::MAX.to_be_bytes(), alloy_rlp::encode(&odd))
            .expect("write");
        hashes.push(odd.hash());
    }

    let chain = Arc::new(open(dir.path()));
    assert_eq!(chain.pending_count(), 5, "all five restored");
    let entries = pending_entries(&chain);
    assert_eq!(entries.len(), 5, "each restored once: {entries:?}");
    for (key, hash) in &entries {
        let key = u64::from_be_bytes(key.as_slice().try_into().expect("an 8-byte key"));
        assert!(
            (3..8).contains(&key),
            "re-admitted above the sane keys on disk, got {key} for {hash}"
        );
        assert!(hashes.contains(hash));
    }

    let block = chain
        .produce_block(5, Address::ZERO)
        .expect("produce")
        .expect("block");
    assert_eq!(
        block
            .transactions
            .iter()
            .map(|t| t.hash())
            .collect::<Vec<_>>(),
        hashes
    );
    assert!(pending_entries(&chain).is_empty(), "mined entries deleted");

    let next = eip1559(
        &user,
        5,
        TxKind::Call(Address::repeat_byte(7)),
        U256::ZERO,
        vec![],
    );
    let hash = chain.add_transaction(&next).expect("accepted");
    drop(chain);
    let chain = open(dir.path());
    assert_eq!(
        pending_entries(&chain)
            .iter()
            .map(|(_, h)| *h)
            .collect::<Vec<_>>(),
        [hash]
    );
    assert_eq!(chain.pending_nonce(&user.address()).expect("nonce"), 6);
}

#[test]
fn eth_call_and_gas_estimation_run_on_head_state() {
    use kettle_chain::{CallOutcome, CallRequest};
    let dir = tempfile::tempdir().expect("tmp");
    let chain = open(dir.path());
    let user = signer(USER_KEY);
    chain
        .add_transaction(&eip1559(
            &user,
            0,
            TxKind::Create,
            U256::ZERO,
            hex::decode(STORE_INITCODE).expect("hex"),
        ))
        .expect("deploy");
    chain.produce_block(1, Address::ZERO).expect("produce");
    let contract = user.address().create(0);

    // A call that stores succeeds, changes nothing on chain.
    let mut word = [0u8; 32];
    word[31] = 9;
    let req = CallRequest {
        to: Some(contract),
        data: word.to_vec().into(),
        ..Default::default()
    };
    assert!(matches!(
        chain.call(&req).expect("call"),
        CallOutcome::Success { .. }
    ));
    assert_eq!(
        chain.storage(contract, U256::ZERO).expect("slot"),
        U256::ZERO
    );

    let gas = chain
        .estimate_gas(&req)
        .expect("estimate")
        .expect("succeeds");
    assert!(gas > 21_000 + 20_000 && gas < 60_000, "{gas}");
    // The estimate is enough, one less is not.
    assert!(matches!(
        chain
            .call(&CallRequest {
                gas: Some(gas),
                ..req.clone()
            })
            .expect("call"),
        CallOutcome::Success { .. }
    ));
    assert!(!matches!(
        chain
            .call(&CallRequest {
                gas: Some(gas - 1),
                ..req.clone()
            })
            .expect("call"),
        CallOutcome::Success { .. }
    ));

    // Invalid opcode halts; a rich caller with a price pays, a poor one cannot.
    let halt = CallRequest {
        data: vec![0xfe].into(),
        ..Default::default()
    };
    assert!(matches!(
        chain.call(&halt).expect("call"),
        CallOutcome::Halt { .. }
    ));
    let poor = CallRequest {
        from: Some(Address::repeat_byte(3)),
        to: Some(contract),
        gas_price: Some(10),
        gas: Some(50_000),
        ..Default::default()
    };
    assert!(matches!(
        chain.call(&poor),
        Err(kettle_chain::CallError::Invalid(_))
    ));
}

/// The pending nonce never goes back while blocks are committed concurrently: a sender that
/// sends each transaction with the nonce `pending_nonce` gives must never be told its nonce
/// is too low. (The state and the pool were once read without one lock around both, and a
/// block committed between the two reads made the answer one too low.)
#[test]
fn pending_nonce_is_consistent_with_concurrent_block_commits() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = Arc::new(open(dir.path()));
    let user = signer(USER_KEY);
    let to = address!("0x00000000000000000000000000000000000000bb");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let (chain, done) = (chain.clone(), done.clone());
        std::thread::spawn(move || {
            let mut timestamp = 1;
            let mut blocks = 0u32;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                if chain
                    .produce_block(timestamp, Address::ZERO)
                    .expect("produce")
                    .is_some()
                {
                    timestamp += 1;
                    blocks += 1;
                }
            }
            blocks
        })
    };
    for _ in 0..600 {
        let nonce = chain.pending_nonce(&user.address()).expect("pending nonce");
        let tx = eip1559(&user, nonce, TxKind::Call(to), U256::from(1u64), vec![]);
        if let Err(e) = chain.add_transaction(&tx) {
            done.store(true, std::sync::atomic::Ordering::Release);
            panic!("nonce {nonce} from pending_nonce was refused: {e}");
        }
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let blocks = producer.join().expect("producer");
    assert!(blocks > 10, "the producer committed only {blocks} blocks");
}

/// Initcode deploying `SSTORE(calldata word 0, calldata word 1)`.
const SLOT_WRITER_INITCODE: &str = "6008600c60003960086000f36020356000355500";

/// The stored tries follow every kind of state change: new accounts, slots written,
/// overwritten and zeroed (values small enough to be embedded in their parent node and large
/// ones), across restarts and after the tries are dropped and rebuilt from the plain state
/// (a database from before tries were stored). After every block the header's root must
/// equal a from-scratch computation over all stored state.
#[test]
fn incremental_state_root_matches_full_recomputation() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut chain = open(dir.path());
    let user = signer(USER_KEY);
    let mut nonce = 0u64;
    let mut contracts = Vec::new();
    for _ in 0..3 {
        let init = hex::decode(SLOT_WRITER_INITCODE).expect("hex");
        chain
            .add_transaction(&eip1559(&user, nonce, TxKind::Create, U256::ZERO, init))
            .expect("deploy");
        contracts.push(user.address().create(nonce));
        nonce += 1;
    }
    chain.produce_block(1, Address::ZERO).expect("produce");
    for c in &contracts {
        assert!(!chain.code(c).expect("code").is_empty(), "deployed");
    }

    // xorshift64*: a fixed sequence, so a failure reproduces.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for round in 0..40u64 {
        if round == 15 {
            // Restart.
            drop(chain);
            chain = open(dir.path());
        }
        if round == 25 {
            // Drop every stored trie node: reopening must rebuild them.
            let db = chain.db().clone();
            let cf = db.cf_handle(db::CF_TRIE).expect("trie cf");
            db.delete_range_cf(cf, &[0u8; 32][..], &[0xffu8; 66][..])
                .expect("drop");
            drop(db);
            drop(chain);
            chain = open(dir.path());
        }
        for _ in 0..(1 + next() % 6) {
            let tx = match next() % 4 {
                // A transfer to a fresh account.
                0 => {
                    let mut to = [0u8; 20];
                    to[..8].copy_from_slice(&next().to_be_bytes());
                    eip1559(
                        &user,
                        nonce,
                        TxKind::Call(Address::from(to)),
                        U256::from(1 + next() % 1000),
                        vec![],
                    )
                }
                // A slot of a contract: zeroed, small or large value.
                _ => {
                    let contract = contracts[(next() % 3) as usize];
                    let slot = U256::from(next() % 24);
                    let value = match next() % 4 {
                        0 => U256::ZERO,
                        1 => U256::from(next() % 256),
                        _ => U256::from(next()) << 128 | U256::from(next()),
                    };
                    let mut input = slot.to_be_bytes::<32>().to_vec();
                    input.extend_from_slice(&value.to_be_bytes::<32>());
                    eip1559(&user, nonce, TxKind::Call(contract), U256::ZERO, input)
                }
            };
            chain.add_transaction(&tx).expect("accepted");
            nonce += 1;
        }
        let block = chain
            .produce_block(10 + round, Address::ZERO)
            .expect("produce")
            .expect("a block");
        assert!(block.receipts.iter().all(|r| r.success), "round {round}");
        assert_eq!(
            block.header.state_root,
            full_state_root(&chain),
            "state root of block {} (round {round})",
            block.header.number
        );
    }
}

/// The dev chain on the RocksDB at `dir`, syncing through a group commit the test also
/// holds (as the node shares one with the confidential store).
fn open_with_wal(dir: &std::path::Path) -> (Arc<rocksdb::DB>, Arc<kettle_wal::GroupSync>, Chain) {
    let db = db::open_db(dir, &[]).expect("open db");
    let wal = Arc::new(kettle_wal::GroupSync::default());
    let chain = Chain::open(
        db.clone(),
        ChainSpec::dev(DEV_KETTLE_ADDRESS),
        PoolLimits::default(),
    )
    .expect("open chain")
    .with_wal(wal.clone());
    (db, wal, chain)
}

#[test]
fn a_block_sync_covers_other_writers_of_the_shared_wal() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, wal, chain) = open_with_wal(dir.path());
    assert!(Arc::ptr_eq(chain.wal(), &wal));

    let user = signer(USER_KEY);
    let to = TxKind::Call(Address::repeat_byte(0x42));
    chain
        .add_transaction(&eip1559(&user, 0, to, U256::from(1), vec![]))
        .expect("admitted");
    let synced = wal.syncs();

    // Another writer of the database (the confidential store) wrote without syncing and
    // left its ticket for a later sync.
    db.put(b"another writer", b"unsynced").expect("put");
    wal.written();
    assert!(wal.pending());

    let block = chain
        .produce_block(1_700_000_000, Address::ZERO)
        .expect("produce")
        .expect("a block");
    assert_eq!(block.transactions.len(), 1);
    // The block's one sync made the other writer's write durable too: nothing is left for
    // it (or the node's background task) to sync.
    assert_eq!(wal.syncs(), synced + 1);
    assert!(!wal.pending());
    assert_eq!(wal.sync_all(&db).expect("sync"), 0);
    assert_eq!(wal.syncs(), synced + 1);
}

/// A transaction sent with `eth_sendRawTransaction` (or from a peer) is acknowledged only
/// once durable, through the group commit the other writers use: its sync covers their
/// waiting writes.
#[test]
fn synced_admissions_sync_through_the_shared_wal() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, wal, chain) = open_with_wal(dir.path());
    let before = wal.syncs();

    db.put(b"another writer", b"unsynced").expect("put");
    wal.written();
    assert!(wal.pending());
    let user = signer(USER_KEY);
    let to = TxKind::Call(Address::repeat_byte(0x42));
    chain
        .add_transaction(&eip1559(&user, 0, to, U256::from(1), vec![]))
        .expect("admitted");
    // The admission's sync went through the group commit, and covered the other writer.
    assert_eq!(wal.syncs(), before + 1);
    assert!(!wal.pending());

    // The next one needs a sync of its own, and gets exactly one.
    chain
        .add_transaction(&eip1559(&user, 1, to, U256::from(1), vec![]))
        .expect("admitted");
    assert_eq!(wal.syncs(), before + 2);
    assert!(!wal.pending());
}
