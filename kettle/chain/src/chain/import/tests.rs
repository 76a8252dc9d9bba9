//! A producer and a follower on two RocksDBs: blocks sealed by one are imported by the other
//! after re-execution; forged, tampered or out-of-order blocks are refused without a write.

use alloy_consensus::Header;
use alloy_primitives::{address, hex, Bytes, TxKind};
use alloy_signer_local::PrivateKeySigner;

use super::*;
use crate::{
    db::{self, CF_PENDING},
    seal::seal_header,
    test_support::{eip1559, key, open, KETTLE_KEY, STORE_INITCODE, USER_KEY},
    SealError, StoredTx,
};

const TO: Address = address!("0x00000000000000000000000000000000000000aa");
const COINBASE: Address = address!("0x00000000000000000000000000000000000000be");
const MAX_WIRE: usize = 1 << 20;

fn produce(chain: &Chain, timestamp: u64) -> Arc<SealedBlock> {
    chain
        .produce_block(timestamp, COINBASE)
        .expect("produce")
        .expect("a block")
}

/// The wire block as a peer would receive it: encoded and decoded again.
fn via_wire(block: &SealedBlock) -> WireBlock {
    let bytes = block.to_wire().encode();
    WireBlock::decode(&bytes, MAX_WIRE).expect("decode")
}

/// `block` with `edit` applied to its header and sealed again by `sealer`.
fn resealed(
    block: &WireBlock,
    sealer: &PrivateKeySigner,
    edit: impl FnOnce(&mut Header),
) -> WireBlock {
    let mut out = block.clone();
    edit(&mut out.header);
    seal_header(&mut out.header, sealer).expect("seal");
    out
}

fn tx_root(txs: &[Bytes]) -> B256 {
    proofs::ordered_trie_root_with_encoder(txs, |tx, buf| buf.extend_from_slice(tx))
}

fn pending_on_disk(chain: &Chain, hash: &B256) -> bool {
    let cf = db::cf(chain.db(), CF_PENDING).expect("cf");
    chain
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .map(|item| item.expect("read"))
        .any(|(_, value)| {
            <StoredTx as alloy_rlp::Decodable>::decode(&mut value.as_ref())
                .expect("decodes")
                .hash()
                == *hash
        })
}

/// Asserts `chain` is still exactly at `head` with nothing written above it.
fn assert_untouched(chain: &Chain, head: &(B256, Header), pending: usize) {
    assert_eq!(chain.head(), *head);
    let next = head.1.number + 1;
    assert_eq!(chain.header_by_number(next).expect("read"), None);
    assert!(chain.receipts(next).expect("read").is_empty());
    assert_eq!(chain.pending_count(), pending);
    let meta = db::cf(chain.db(), crate::db::CF_META).expect("cf");
    let stored = chain
        .db()
        .get_cf(meta, crate::db::META_HEAD)
        .expect("read")
        .expect("head");
    assert_eq!(db::decode_number(&stored).expect("number"), head.1.number);
}

/// Producer blocks: 1 = transfer + deploy (user), 2 = call of the contract (user) + transfer
/// (kettle), 3 = transfer (user).
struct Produced {
    blocks: Vec<Arc<SealedBlock>>,
    user: PrivateKeySigner,
    kettle: PrivateKeySigner,
    contract: Address,
}

fn produce_three_blocks(producer: &Chain) -> Produced {
    let user = key(USER_KEY);
    let kettle = key(KETTLE_KEY);
    let contract = user.address().create(1);
    producer
        .add_transaction(&eip1559(&user, 0, TxKind::Call(TO), 12_345, vec![]))
        .expect("transfer");
    producer
        .add_transaction(&eip1559(
            &user,
            1,
            TxKind::Create,
            0,
            hex::decode(STORE_INITCODE).expect("hex"),
        ))
        .expect("deploy");
    let b1 = produce(producer, 10);
    let mut word = [0u8; 32];
    word[31] = 0x77;
    producer
        .add_transaction(&eip1559(&user, 2, TxKind::Call(contract), 0, word.to_vec()))
        .expect("call");
    producer
        .add_transaction(&eip1559(&kettle, 0, TxKind::Call(TO), 5, vec![]))
        .expect("kettle transfer");
    let b2 = produce(producer, 20);
    producer
        .add_transaction(&eip1559(&user, 3, TxKind::Call(TO), 1, vec![]))
        .expect("transfer");
    let b3 = produce(producer, 30);
    assert_eq!(
        (
            b1.transactions.len(),
            b2.transactions.len(),
            b3.transactions.len()
        ),
        (2, 2, 1)
    );
    assert!([&b1, &b2, &b3]
        .iter()
        .all(|b| b.receipts.iter().all(|r| r.success)));
    Produced {
        blocks: vec![b1, b2, b3],
        user,
        kettle,
        contract,
    }
}

#[test]
fn follower_imports_sealed_blocks_and_reaches_the_same_state() {
    let (dir_p, dir_f) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let sealer = key(KETTLE_KEY);
    let producer_address = sealer.address();
    let producer = open(dir_p.path()).with_sealer(sealer);
    assert_eq!(producer.sealer(), Some(producer_address));
    let follower = open(dir_f.path());
    assert_eq!(follower.head(), producer.head(), "same genesis");

    // The follower's pool: block 1's first transaction itself, a different nonce-1 user
    // transaction (stale once block 1 is in), and a different nonce-0 kettle transaction
    // (stale once block 2 is in).
    let user = key(USER_KEY);
    let kettle = key(KETTLE_KEY);
    let same = follower
        .add_transaction(&eip1559(&user, 0, TxKind::Call(TO), 12_345, vec![]))
        .expect("same tx");
    let user_stale = follower
        .add_transaction(&eip1559(&user, 1, TxKind::Call(TO), 999, vec![]))
        .expect("other user tx");
    let kettle_stale = follower
        .add_transaction(&eip1559(&kettle, 0, TxKind::Call(TO), 777, vec![]))
        .expect("other kettle tx");
    assert_eq!(follower.pending_count(), 3);

    let produced = produce_three_blocks(&producer);
    for b in &produced.blocks {
        assert_eq!(seal::seal_signer(&b.header), Ok(producer_address));
        assert_eq!(b.header.extra_data.len(), 97);
        assert_eq!(b.header.beneficiary, COINBASE);
    }
    assert_eq!(produced.blocks[0].transactions[0].hash(), same);

    let mut announced = follower.subscribe_blocks();
    let b1 = via_wire(&produced.blocks[0]);
    let ImportOutcome::Imported(imported) = follower
        .import_block(b1.clone(), producer_address)
        .expect("import 1")
    else {
        panic!("block 1 not imported");
    };
    assert_eq!(*imported, *produced.blocks[0]);
    assert_eq!(announced.try_recv().expect("announced").hash, imported.hash);
    // Included and stale transactions left memory and disk; the kettle's did not yet.
    assert_eq!(follower.pending_count(), 1);
    for gone in [same, user_stale] {
        assert!(follower
            .transaction(&gone)
            .expect("read")
            .is_none_or(|(_, loc)| loc.is_some()));
        assert!(!pending_on_disk(&follower, &gone));
    }
    assert!(pending_on_disk(&follower, &kettle_stale));

    // Replays are known, whatever their number.
    assert!(matches!(
        follower.import_block(b1.clone(), producer_address),
        Ok(ImportOutcome::Known)
    ));

    // Catch-up through wire_blocks, as a peer would serve it.
    let served = producer.wire_blocks(2, 16, MAX_WIRE).expect("serve");
    assert_eq!(served.len(), 2);
    for bytes in served {
        let block = WireBlock::decode(&bytes, MAX_WIRE).expect("decode");
        assert!(matches!(
            follower.import_block(block, producer_address),
            Ok(ImportOutcome::Imported(_))
        ));
        assert!(announced.try_recv().is_ok());
    }
    assert_eq!(follower.pending_count(), 0, "the kettle's stale tx is gone");
    assert!(!pending_on_disk(&follower, &kettle_stale));

    assert_eq!(follower.head(), producer.head());
    for n in 1..=3 {
        assert_eq!(
            follower.block_by_number(n).expect("read"),
            producer.block_by_number(n).expect("read"),
            "block {n}"
        );
    }
    let (fs, ps) = (follower.state(), producer.state());
    for who in [
        produced.user.address(),
        produced.kettle.address(),
        TO,
        COINBASE,
        produced.contract,
    ] {
        assert_eq!(
            fs.account(&who).expect("read"),
            ps.account(&who).expect("read")
        );
    }
    drop((fs, ps));
    assert_eq!(
        follower.code(&produced.contract).expect("code"),
        Bytes::from(hex::decode("60003560005500").expect("hex"))
    );
    assert_eq!(
        follower
            .storage(produced.contract, U256::ZERO)
            .expect("slot"),
        U256::from(0x77u64)
    );
    let call = produced.blocks[1].transactions[0].hash();
    assert_eq!(
        follower.tx_location(&call).expect("index"),
        producer.tx_location(&call).expect("index")
    );

    // The follower keeps working alone: its own (unsealed) block, and a restart.
    follower
        .add_transaction(&eip1559(&user, 4, TxKind::Call(TO), 1, vec![]))
        .expect("accepted after import");
    let own = produce(&follower, 40);
    assert_eq!(own.header.extra_data, Bytes::from(vec![0u8; 32]));
    assert!(seal::seal_signer(&own.header).is_err());
    let head = follower.head();
    drop(follower);
    let reopened = open(dir_f.path());
    assert_eq!(reopened.head(), head);
    assert_eq!(reopened.pending_count(), 0);
}

#[test]
fn forged_tampered_and_out_of_order_blocks_are_refused_without_writes() {
    let (dir_p, dir_f) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let sealer = key(KETTLE_KEY);
    let producer_address = sealer.address();
    let producer = open(dir_p.path()).with_sealer(sealer.clone());
    let follower = open(dir_f.path());
    let user = key(USER_KEY);
    follower
        .add_transaction(&eip1559(&user, 0, TxKind::Call(TO), 1, vec![]))
        .expect("pooled");
    let produced = produce_three_blocks(&producer);
    let b1 = via_wire(&produced.blocks[0]);
    let b2 = via_wire(&produced.blocks[1]);
    let intruder = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).expect("key");
    let head = follower.head();
    let refuse = |block: WireBlock| -> ImportError {
        let err = match follower.import_block(block, producer_address) {
            Err(e) => e,
            Ok(outcome) => panic!("accepted: {outcome:?}"),
        };
        assert_untouched(&follower, &head, 1);
        err
    };

    // Seal: another expected producer, a block sealed by another key, damaged signatures.
    assert!(matches!(
        follower.import_block(b1.clone(), intruder.address()),
        Err(ImportError::WrongProducer { got, .. }) if got == producer_address
    ));
    assert_untouched(&follower, &head, 1);
    assert!(matches!(
        refuse(resealed(&b1, &intruder, |_| {})),
        ImportError::WrongProducer { got, .. } if got == intruder.address()
    ));
    for (i, byte) in [(40usize, 0x01u8), (70, 0x80), (96, 0x02)] {
        let mut tampered = b1.clone();
        let mut extra = tampered.header.extra_data.to_vec();
        extra[i] ^= byte;
        tampered.header.extra_data = extra.into();
        assert!(matches!(
            refuse(tampered),
            ImportError::BadSeal(_) | ImportError::WrongProducer { .. }
        ));
    }
    let mut unsealed = b1.clone();
    unsealed.header.extra_data = Bytes::from(vec![0u8; 32]);
    assert!(matches!(
        refuse(unsealed),
        ImportError::BadSeal(SealError::ExtraDataLength { .. })
    ));

    // Order: a gap, a wrong parent, a timestamp too far ahead of the local clock.
    assert!(matches!(
        refuse(b2.clone()),
        ImportError::Gap { head: 0, number: 2 }
    ));
    assert!(matches!(
        refuse(resealed(&b1, &sealer, |h| h.parent_hash = B256::repeat_byte(9))),
        ImportError::WrongParent { .. }
    ));
    assert!(matches!(
        refuse(resealed(&b1, &sealer, |h| h.timestamp = u64::MAX)),
        ImportError::FutureTimestamp { got: u64::MAX, allowed, .. }
            if allowed == crate::chain::MAX_FUTURE_BLOCK_SECS
    ));

    // Header fields set from the parent.
    for (field, edit) in [
        (
            "gas_limit",
            Box::new(|h: &mut Header| h.gas_limit += 1) as Box<dyn Fn(&mut Header)>,
        ),
        (
            "base_fee_per_gas",
            Box::new(|h: &mut Header| h.base_fee_per_gas = Some(1)),
        ),
        (
            "difficulty",
            Box::new(|h: &mut Header| h.difficulty = U256::from(2u64)),
        ),
        (
            "ommers_hash",
            Box::new(|h: &mut Header| h.ommers_hash = B256::ZERO),
        ),
    ] {
        assert!(
            matches!(refuse(resealed(&b1, &sealer, edit)), ImportError::Mismatch { field: f, .. } if f == field),
            "{field}"
        );
    }

    // Body: a dropped transaction (header kept: tx root), the same with a fixed root and
    // seal (re-execution: gas used), transactions out of nonce order, an undecodable one.
    let mut dropped = b1.clone();
    dropped.transactions.pop();
    assert!(matches!(
        refuse(dropped.clone()),
        ImportError::Mismatch {
            field: "transactions_root",
            ..
        }
    ));
    let root = tx_root(&dropped.transactions);
    assert!(matches!(
        refuse(resealed(&dropped, &sealer, |h| h.transactions_root = root)),
        ImportError::Mismatch {
            field: "gas_used",
            ..
        }
    ));
    let mut swapped = b1.clone();
    swapped.transactions.swap(0, 1);
    let root = tx_root(&swapped.transactions);
    assert!(matches!(
        refuse(resealed(&swapped, &sealer, |h| h.transactions_root = root)),
        ImportError::InvalidTransaction { index: 0, .. }
    ));
    let mut garbage = b1.clone();
    garbage.transactions.push(Bytes::from_static(&[0x02, 0xc0]));
    let root = tx_root(&garbage.transactions);
    assert!(matches!(
        refuse(resealed(&garbage, &sealer, |h| h.transactions_root = root)),
        ImportError::InvalidTransaction { index: 2, .. }
    ));

    // Results only re-execution can check, re-sealed by the right key.
    for (field, edit) in [
        (
            "state_root",
            Box::new(|h: &mut Header| h.state_root = B256::repeat_byte(1))
                as Box<dyn Fn(&mut Header)>,
        ),
        ("gas_used", Box::new(|h: &mut Header| h.gas_used -= 1)),
        (
            "receipts_root",
            Box::new(|h: &mut Header| h.receipts_root = B256::repeat_byte(5)),
        ),
        (
            "logs_bloom",
            Box::new(|h: &mut Header| h.logs_bloom.0[0] ^= 1),
        ),
        (
            "header",
            Box::new(|h: &mut Header| h.mix_hash = B256::repeat_byte(3)),
        ),
        (
            "header",
            Box::new(|h: &mut Header| h.withdrawals_root = Some(B256::ZERO)),
        ),
    ] {
        assert!(
            matches!(refuse(resealed(&b1, &sealer, edit)), ImportError::Mismatch { field: f, .. } if f == field),
            "{field}"
        );
    }

    // The genuine block still imports; a different block at its height then conflicts.
    assert!(matches!(
        follower.import_block(b1.clone(), producer_address),
        Ok(ImportOutcome::Imported(_))
    ));
    assert_eq!(follower.pending_count(), 0);
    let head = follower.head();
    let other = resealed(&b1, &sealer, |h| h.timestamp += 1);
    assert!(matches!(
        follower.import_block(other, producer_address),
        Err(ImportError::Conflict { number: 1, .. })
    ));
    assert!(matches!(
        follower.import_block(b1, producer_address),
        Ok(ImportOutcome::Known)
    ));
    assert_untouched(&follower, &head, 0);
}

#[test]
fn wire_blocks_respects_count_and_byte_budgets() {
    let dir = tempfile::tempdir().expect("tmp");
    let producer = open(dir.path()).with_sealer(key(KETTLE_KEY));
    let produced = produce_three_blocks(&producer);
    let all = producer.wire_blocks(0, 100, usize::MAX).expect("serve");
    assert_eq!(all.len(), 3, "genesis is not served");
    for (bytes, block) in all.iter().zip(&produced.blocks) {
        assert_eq!(
            WireBlock::decode(bytes, MAX_WIRE).expect("decode"),
            block.to_wire()
        );
    }
    assert_eq!(
        producer.wire_blocks(1, 2, usize::MAX).expect("serve").len(),
        2
    );
    assert_eq!(
        producer.wire_blocks(1, 0, usize::MAX).expect("serve").len(),
        0
    );
    assert_eq!(
        producer
            .wire_blocks(4, 10, usize::MAX)
            .expect("serve")
            .len(),
        0
    );
    assert_eq!(
        producer.wire_blocks(u64::MAX, 10, 1).expect("serve").len(),
        0
    );
    let one = producer.wire_blocks(1, 10, 1).expect("serve");
    assert_eq!(
        one,
        vec![all[0].clone()],
        "at least one block, even over budget"
    );
    let budget = all[0].len() + all[1].len();
    assert_eq!(
        producer.wire_blocks(1, 10, budget).expect("serve"),
        all[..2].to_vec()
    );
}

/// Many blocks in one second share its timestamp instead of running the chain's clock ahead
/// (Clique with period 0); followers accept equal timestamps, refuse earlier ones and ones far
/// ahead of their clock.
#[test]
fn timestamps_never_run_ahead_and_never_go_back() {
    let (pdir, fdir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let sealer = key(KETTLE_KEY);
    let producer = open(pdir.path()).with_sealer(sealer.clone());
    let follower = open(fdir.path());
    let user = key(USER_KEY);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut blocks = Vec::new();
    for nonce in 0..20 {
        producer
            .add_transaction(&eip1559(&user, nonce, TxKind::Call(TO), 1, Vec::new()))
            .expect("accepted");
        // Twenty blocks sealed within the same second.
        blocks.push(produce(&producer, now));
    }
    assert!(
        blocks.iter().all(|b| b.header.timestamp == now),
        "timestamps {:?}",
        blocks
            .iter()
            .map(|b| b.header.timestamp)
            .collect::<Vec<_>>()
    );
    // A clock that goes back does not take the chain back.
    producer
        .add_transaction(&eip1559(&user, 20, TxKind::Call(TO), 1, Vec::new()))
        .expect("accepted");
    let later = produce(&producer, now - 100);
    assert_eq!(later.header.timestamp, now);

    let kettle = sealer.address();
    for block in &blocks {
        assert!(matches!(
            follower.import_block(via_wire(block), kettle),
            Ok(ImportOutcome::Imported(_))
        ));
    }
    let head = follower.head();
    let next = via_wire(&later);
    assert!(matches!(
        follower.import_block(resealed(&next, &sealer, |h| h.timestamp = now - 1), kettle),
        Err(ImportError::Timestamp { parent, got }) if parent == now && got == now - 1
    ));
    assert!(matches!(
        follower.import_block(
            resealed(&next, &sealer, |h| h.timestamp = now + 3_600),
            kettle
        ),
        Err(ImportError::FutureTimestamp { .. })
    ));
    assert_untouched(&follower, &head, 0);
    assert!(matches!(
        follower.import_block(next, kettle),
        Ok(ImportOutcome::Imported(_))
    ));
}
