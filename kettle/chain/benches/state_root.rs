//! Block production against the size of the state: the stored tries make a block's state
//! root cost its changes, not the state.
//!
//! For each size N the chain starts from a genesis with N funded accounts and one contract
//! holding N storage slots. Every block then carries 10 transactions: 5 transfers to new
//! accounts and 5 writes to slots of that contract. The bench reports the median time of
//! `produce_block` (execution, state root, synced block write), and as the baseline in the
//! same run the median time of what every block used to do on top of that before the tries
//! were stored: read every account and every slot of the changed contract, and hash them all
//! into a root (alloy-trie). The first should stay flat as N grows; the second grows with N.
//! It prints one `state-root` line per size and a summary table. `open_ms` is the start-up,
//! which builds the tries of the genesis state once.
//!
//! `cargo bench -p kettle-chain --bench state_root`; sizes from `STATE_ROOT_BENCH_SIZES`
//! (comma-separated, default `1000,10000,100000`), blocks per size from
//! `STATE_ROOT_BENCH_BLOCKS` (default 30).

use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_genesis::GenesisAccount;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kettle_chain::{db, Chain, ChainSpec, PoolLimits};
use kettle_primitives::SuaveTxEnvelope;
use rocksdb::IteratorMode;

/// Runtime of the slot writer: `SSTORE(calldata word 0, calldata word 1)`.
const SLOT_WRITER: &str = "6020356000355500";
/// Where the slot writer lives in the bench's genesis.
const WRITER: Address = Address::repeat_byte(0x5e);
const TRANSFERS_PER_BLOCK: u64 = 5;
const WRITES_PER_BLOCK: u64 = 5;

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn address(n: u64) -> Address {
    let mut a = [0u8; 20];
    a[..8].copy_from_slice(&mix(n).to_be_bytes());
    a[8..16].copy_from_slice(&mix(n ^ 0xabcd).to_be_bytes());
    Address::from(a)
}

fn sign(
    user: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: Address,
    input: Vec<u8>,
    value: U256,
) -> SuaveTxEnvelope {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value,
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = user.sign_hash_sync(&tx.signature_hash()).expect("sign");
    SuaveTxEnvelope::Ethereum(TxEnvelope::from(tx.into_signed(sig)))
}

/// The root the old way: every account, every slot of `WRITER`, hashed from scratch.
fn full_recompute(chain: &Chain) -> B256 {
    let db = chain.db();
    let cf_acc = db.cf_handle(db::CF_ACCOUNTS).expect("accounts cf");
    let cf_st = db.cf_handle(db::CF_STORAGE).expect("storage cf");
    let hashed_writer = keccak256(WRITER);
    let mut slots = Vec::new();
    for item in db.iterator_cf(
        cf_st,
        IteratorMode::From(hashed_writer.as_slice(), rocksdb::Direction::Forward),
    ) {
        let (k, v) = item.expect("storage");
        if &k[..32] != hashed_writer.as_slice() {
            break;
        }
        slots.push((B256::from_slice(&k[32..]), U256::from_be_slice(&v[32..])));
    }
    let storage_root = alloy_trie::root::storage_root(slots);
    let mut accounts = Vec::new();
    for item in db.iterator_cf(cf_acc, IteratorMode::Start) {
        let (k, v) = item.expect("accounts");
        let nonce = u64::from_be_bytes(v[20..28].try_into().expect("nonce"));
        let account = alloy_trie::TrieAccount {
            nonce,
            balance: U256::from_be_slice(&v[28..60]),
            storage_root: if k.as_ref() == hashed_writer.as_slice() {
                storage_root
            } else {
                B256::from_slice(&v[92..124])
            },
            code_hash: B256::from_slice(&v[60..92]),
        };
        accounts.push((B256::from_slice(&k), account));
    }
    alloy_trie::root::state_root(accounts)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Row {
    size: u64,
    open: Duration,
    block: Duration,
    full: Duration,
}

fn run(size: u64, blocks: u64) -> Row {
    let user: PrivateKeySigner = "91ab9a7e53c220e6210460b65a7a3bb2ca181412a8a7b43ff336b3df1737ce12"
        .parse()
        .expect("key");
    let mut spec = ChainSpec::dev(Address::repeat_byte(0x11));
    let chain_id = spec.chain_id();
    for n in 0..size {
        spec.genesis.alloc.insert(
            address(n),
            GenesisAccount {
                balance: U256::from(1_000_000u64 + n),
                ..Default::default()
            },
        );
    }
    let storage = (0..size)
        .map(|n| {
            (
                B256::from(U256::from(n)),
                B256::from(U256::from(mix(n) | 1)),
            )
        })
        .collect();
    spec.genesis.alloc.insert(
        WRITER,
        GenesisAccount {
            code: Some(Bytes::from(
                alloy_primitives::hex::decode(SLOT_WRITER).expect("hex"),
            )),
            storage: Some(storage),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let db = db::open_db(dir.path(), &[]).expect("open db");
    let chain = Chain::open(db, spec, PoolLimits::default()).expect("open chain");
    let open = started.elapsed();

    let mut nonce = chain.pending_nonce(&user.address()).expect("nonce");
    let mut block_times = Vec::new();
    let mut full_times = Vec::new();
    for b in 0..blocks {
        for i in 0..TRANSFERS_PER_BLOCK {
            let to = address(1 << 40 | b << 8 | i);
            let tx = sign(&user, chain_id, nonce, to, Vec::new(), U256::from(1));
            chain.add_transaction(&tx).expect("transfer accepted");
            nonce += 1;
        }
        for i in 0..WRITES_PER_BLOCK {
            let slot = U256::from(mix(b << 8 | i) % (2 * size));
            let mut input = slot.to_be_bytes::<32>().to_vec();
            input.extend_from_slice(&U256::from(mix(b ^ i) | 1).to_be_bytes::<32>());
            let tx = sign(&user, chain_id, nonce, WRITER, input, U256::ZERO);
            chain.add_transaction(&tx).expect("write accepted");
            nonce += 1;
        }
        let started = Instant::now();
        let block = chain
            .produce_block(1_000 + b, Address::ZERO)
            .expect("produce")
            .expect("a block");
        block_times.push(started.elapsed());
        assert_eq!(
            block.transactions.len() as u64,
            TRANSFERS_PER_BLOCK + WRITES_PER_BLOCK
        );
        let started = Instant::now();
        let root = full_recompute(&chain);
        full_times.push(started.elapsed());
        assert_eq!(root, block.header.state_root, "the two ways agree");
    }
    Row {
        size,
        open,
        block: median(block_times),
        full: median(full_times),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let sizes: Vec<u64> = std::env::var("STATE_ROOT_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("STATE_ROOT_BENCH_SIZES: numbers"))
        .collect();
    let blocks: u64 = std::env::var("STATE_ROOT_BENCH_BLOCKS")
        .ok()
        .map(|s| s.parse().expect("STATE_ROOT_BENCH_BLOCKS: a number"))
        .unwrap_or(30);
    let mut rows = Vec::new();
    for &size in &sizes {
        let row = run(size, blocks);
        println!(
            "state-root accounts={} slots={} blocks={blocks} open_ms={:.1} block_ms={:.3} old_root_ms={:.3} old_root_per_block={:.3}",
            row.size,
            row.size,
            row.open.as_secs_f64() * 1e3,
            row.block.as_secs_f64() * 1e3,
            row.full.as_secs_f64() * 1e3,
            row.full.as_secs_f64() / row.block.as_secs_f64()
        );
        rows.push(row);
    }
    println!();
    println!(
        "| accounts (and slots of the written contract) | a whole block of 10 txs today (execution, \
         state root from the stored tries, synced write), median | the old state root alone \
         (full recomputation), median | old root alone ÷ whole block today |"
    );
    println!("|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} |",
            r.size,
            r.block.as_secs_f64() * 1e3,
            r.full.as_secs_f64() * 1e3,
            r.full.as_secs_f64() / r.block.as_secs_f64()
        );
    }
}
