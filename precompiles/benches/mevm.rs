//! MEVM overhead on EVM-only work: the same compute-bound SUAPP (`KeccakLoop`, a loop of
//! keccak256 over memory, no storage, no precompile) run
//!
//! - as a confidential request through [`Mevm::execute`] (SUAVE precompile provider, caller
//!   stack bookkeeping, SSTORE guard, store overlay, callback derivation), and
//! - by bare revm `transact` on the same state, spec (Shanghai) and transaction, with no SUAVE
//!   wiring.
//!
//! Both build a fresh EVM over a fresh copy of the state per run, as a kettle does per request.
//! After criterion's report the bench prints the ratio of mean times (MEVM / bare revm).
//!
//! Run: `cargo bench -p suave-precompiles --bench mevm` (release).

use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use criterion::{criterion_group, Criterion};
use kettle_contracts::keccak_loop::KeccakLoop;
use kettle_primitives::{ConfidentialComputeRequest, DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
use revm::{
    context::{BlockEnv, TxEnv},
    database::{CacheDB, EmptyDB},
    primitives::hardfork::SpecId,
    state::{AccountInfo, Bytecode},
    Context, ExecuteEvm, MainBuilder, MainContext,
};
use suave_precompiles::{
    store::memory::MemoryStore, BlockContext, KettleContext, Mevm, RequestKind,
};

/// Loop iterations per run: a compute-bound request (~1.3M gas), and a tiny one where the
/// fixed per-request cost (EVM and store overlay setup, callback derivation) dominates.
const ROUNDS: [u64; 2] = [2_000, 20];
const SUAPP: Address = Address::repeat_byte(0x5a);

fn state() -> CacheDB<EmptyDB> {
    let mut db = CacheDB::new(EmptyDB::default());
    let code = Bytes::from(KeccakLoop::DEPLOYED_BYTECODE.to_vec());
    db.insert_account_info(
        SUAPP,
        AccountInfo {
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..Default::default()
        },
    );
    db
}

fn calldata(rounds: u64) -> Bytes {
    KeccakLoop::runCall {
        rounds: U256::from(rounds),
    }
    .abi_encode()
    .into()
}

struct Setup {
    db: CacheDB<EmptyDB>,
    kettle: KettleContext,
    store: MemoryStore,
    block: BlockContext,
    request: ConfidentialComputeRequest,
    tx: TxEnv,
}

impl Setup {
    fn new(rounds: u64) -> Self {
        let mut request = ConfidentialComputeRequest::default();
        request.record.to = Some(SUAPP);
        request.record.gas = 10_000_000;
        request.record.data = calldata(rounds);
        request.record.kettle_address = DEV_KETTLE_ADDRESS;
        let tx = TxEnv {
            caller: Address::ZERO,
            kind: TxKind::Call(SUAPP),
            data: calldata(rounds),
            gas_limit: 10_000_000,
            gas_price: 0,
            chain_id: None,
            ..Default::default()
        };
        Self {
            db: state(),
            kettle: KettleContext::new(DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID),
            store: MemoryStore::new(),
            block: BlockContext::default(),
            request,
            tx,
        }
    }

    fn mevm(&self) -> Bytes {
        let outcome = Mevm::new(&self.kettle, &self.store)
            .execute(
                self.db.clone(),
                &self.block,
                &self.request,
                RequestKind::Call,
            )
            .expect("confidential run succeeds");
        outcome.raw_return
    }

    fn bare(&self) -> Bytes {
        let block = BlockEnv {
            gas_limit: self.block.gas_limit,
            prevrandao: Some(Default::default()),
            ..Default::default()
        };
        let mut evm = Context::mainnet()
            .with_db(self.db.clone())
            .with_block(block)
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(SpecId::SHANGHAI);
                cfg.chain_id = SUAVE_DEV_CHAIN_ID;
            })
            .build_mainnet();
        let result = evm.transact(self.tx.clone()).expect("bare run succeeds");
        result.result.into_output().expect("success")
    }
}

fn bench(c: &mut Criterion) {
    for rounds in ROUNDS {
        let setup = Setup::new(rounds);
        assert_eq!(setup.mevm(), setup.bare(), "same work, same result");
        let mut group = c.benchmark_group(format!("keccak_loop_{rounds}"));
        group.bench_function("mevm_confidential_request", |b| b.iter(|| setup.mevm()));
        group.bench_function("bare_revm_transact", |b| b.iter(|| setup.bare()));
        group.finish();
    }
}

criterion_group!(benches, bench);

/// Mean time of `f` over `runs` runs after a warm-up.
fn mean(runs: u32, mut f: impl FnMut() -> Bytes) -> Duration {
    for _ in 0..runs / 10 {
        std::hint::black_box(f());
    }
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    start.elapsed() / runs
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    // Interleaved repetitions so machine noise hits both sides alike.
    for rounds in ROUNDS {
        let setup = Setup::new(rounds);
        let runs = if rounds > 100 { 200 } else { 5_000 };
        let (mut mevm, mut bare) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..5 {
            mevm += mean(runs, || setup.mevm());
            bare += mean(runs, || setup.bare());
        }
        println!(
            "mevm/bare ratio, {rounds} keccak rounds: {:.3} (MEVM {:?} per request, bare revm {:?} per transaction)",
            mevm.as_secs_f64() / bare.as_secs_f64(),
            mevm / 5,
            bare / 5,
        );
    }
}
