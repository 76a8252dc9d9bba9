//! Test harness: an in-memory chain state with the test contracts deployed, an in-memory
//! confidential store and a kettle.

#![allow(dead_code)]

use alloy_primitives::{address, Address, Bytes, U256};
use alloy_sol_types::SolCall;
use kettle_contracts::{
    emit_logs::EmitLogs,
    forwarder::Forwarder,
    hello::Hello,
    keccak_loop::KeccakLoop,
    probe::Probe,
    storage_writer::{Box as BoxContract, StorageBumper, StorageWriter},
    store_suapp::StoreSuapp,
    suave_abi_check::SuaveAbiCheck,
};
use kettle_primitives::{ConfidentialComputeRequest, DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID};
use revm::{
    context_interface::result::ExecutionResult,
    database::{CacheDB, EmptyDB},
    handler::ExecuteEvm,
    primitives::keccak256,
    state::{AccountInfo, Bytecode},
};
use suave_precompiles::{
    store::memory::MemoryStore, BlockContext, ConfidentialOutcome, ExternalPrecompiles,
    KettleContext, Mevm, MevmError, RequestKind, SuaveEvm,
};

/// `SuaveAbiCheck`: every Suave.sol function as an external call.
pub const ABI_CHECK: Address = address!("0x000000000000000000000000000000000000a0a0");
/// `StoreSuapp`.
pub const STORE_SUAPP: Address = address!("0x000000000000000000000000000000000000b0b0");
/// `Forwarder`.
pub const FORWARDER: Address = address!("0x000000000000000000000000000000000000c0c0");
/// `Probe`.
pub const PROBE: Address = address!("0x000000000000000000000000000000000000d0d0");
/// `StorageWriter`.
pub const WRITER: Address = address!("0x000000000000000000000000000000000000e0e0");
/// `StorageBumper`.
pub const BUMPER: Address = address!("0x000000000000000000000000000000000000e1e1");
/// `Box`.
pub const BOX: Address = address!("0x000000000000000000000000000000000000e2e2");
/// `EmitLogs`, where suave-geth's e2e test had its log emitter.
pub const EMIT_LOGS: Address = address!("0x0300000000000000000000000000000000000000");
/// `Hello` (suapps/hello).
pub const HELLO: Address = address!("0x000000000000000000000000000000000000f0f0");
/// `KeccakLoop`.
pub const KECCAK_LOOP: Address = address!("0x000000000000000000000000000000000000f1f1");

/// The dev user (funded in `Harness::new`).
pub const USER: Address = kettle_primitives::DEV_USER_ADDRESS;

/// State, store, kettle and block of a test.
pub struct Harness {
    pub db: CacheDB<EmptyDB>,
    pub kettle: KettleContext,
    pub store: MemoryStore,
    pub block: BlockContext,
}

impl Harness {
    /// Every test contract deployed (runtime code placed at its address), the user funded.
    pub fn new() -> Self {
        let mut h = Self {
            db: CacheDB::new(EmptyDB::default()),
            kettle: KettleContext::new(DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID),
            store: MemoryStore::new(),
            block: BlockContext {
                number: 100,
                timestamp: 1_700_000_000,
                basefee: 0,
                gas_limit: 30_000_000,
                ..Default::default()
            },
        };
        h.deploy(ABI_CHECK, &SuaveAbiCheck::DEPLOYED_BYTECODE);
        h.deploy(STORE_SUAPP, &StoreSuapp::DEPLOYED_BYTECODE);
        h.deploy(FORWARDER, &Forwarder::DEPLOYED_BYTECODE);
        h.deploy(PROBE, &Probe::DEPLOYED_BYTECODE);
        h.deploy(WRITER, &StorageWriter::DEPLOYED_BYTECODE);
        h.deploy(BUMPER, &StorageBumper::DEPLOYED_BYTECODE);
        h.deploy(BOX, &BoxContract::DEPLOYED_BYTECODE);
        h.deploy(EMIT_LOGS, &EmitLogs::DEPLOYED_BYTECODE);
        h.deploy(HELLO, &Hello::DEPLOYED_BYTECODE);
        h.deploy(KECCAK_LOOP, &KeccakLoop::DEPLOYED_BYTECODE);
        h.fund(USER, U256::from(10u128.pow(22)));
        h
    }

    /// Places runtime code at `at`.
    pub fn deploy(&mut self, at: Address, runtime: &[u8]) {
        let code = Bytes::copy_from_slice(runtime);
        self.db.insert_account_info(
            at,
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(code)),
                ..Default::default()
            },
        );
    }

    /// Sets the balance of `who`.
    pub fn fund(&mut self, who: Address, balance: U256) {
        let mut info = self
            .db
            .cache
            .accounts
            .get(&who)
            .map(|a| a.info.clone())
            .unwrap_or_default();
        info.balance = balance;
        self.db.insert_account_info(who, info);
    }

    /// A request to `to` with calldata `data` and confidential inputs `inputs`.
    pub fn request(
        &self,
        to: Address,
        data: impl Into<Bytes>,
        inputs: &[u8],
    ) -> ConfidentialComputeRequest {
        let mut req = ConfidentialComputeRequest::default();
        req.record.to = Some(to);
        req.record.gas = 10_000_000;
        req.record.gas_price = U256::from(1_000_000_000u64);
        req.record.data = data.into();
        req.record.kettle_address = DEV_KETTLE_ADDRESS;
        req.record.chain_id = U256::from(SUAVE_DEV_CHAIN_ID);
        req.confidential_inputs = Bytes::copy_from_slice(inputs);
        req.set_inputs_hash();
        req
    }

    /// The MEVM of this kettle.
    pub fn mevm(&self) -> Mevm<'_> {
        Mevm::new(&self.kettle, &self.store)
    }

    /// Confidential `eth_call` of `data` on `to`.
    pub fn call(
        &self,
        to: Address,
        data: impl Into<Bytes>,
        inputs: &[u8],
    ) -> Result<ConfidentialOutcome, MevmError> {
        self.run(&self.request(to, data, inputs), RequestKind::Call)
    }

    /// Confidential `eth_call` of a typed call on `to`.
    pub fn call_sol<C: SolCall>(
        &self,
        to: Address,
        call: &C,
    ) -> Result<ConfidentialOutcome, MevmError> {
        self.call(to, call.abi_encode(), &[])
    }

    /// Runs `request` as `kind`.
    pub fn run(
        &self,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        self.mevm()
            .execute(self.db.clone(), &self.block, request, kind)
    }

    /// Runs `request` as `kind` with external precompiles.
    pub fn run_with(
        &self,
        external: &dyn ExternalPrecompiles,
        request: &ConfidentialComputeRequest,
        kind: RequestKind,
    ) -> Result<ConfidentialOutcome, MevmError> {
        self.mevm()
            .with_external(external)
            .execute(self.db.clone(), &self.block, request, kind)
    }

    /// Commits a successful run's store writes.
    pub fn commit(&self, outcome: &ConfidentialOutcome) {
        use suave_precompiles::ConfidentialStore;
        self.store.commit(&outcome.store_writes).expect("commit");
    }

    /// Non-confidential (on-chain) call of `data` on `to` from the user; state discarded.
    pub fn on_chain(&self, to: Address, data: impl Into<Bytes>) -> ExecutionResult {
        let mut evm = SuaveEvm::on_chain(self.db.clone(), &self.block, self.kettle.chain_id);
        let tx = revm::context::TxEnv {
            caller: USER,
            kind: revm::primitives::TxKind::Call(to),
            data: data.into(),
            gas_limit: 5_000_000,
            nonce: 0,
            chain_id: Some(self.kettle.chain_id),
            ..Default::default()
        };
        evm.transact(tx).expect("valid transaction").result
    }
}

/// Decodes a successful run's raw return data as the returns of `C`.
pub fn returns<C: SolCall>(outcome: &ConfidentialOutcome) -> C::Return {
    C::abi_decode_returns(&outcome.raw_return).expect("return data decodes")
}

/// The revert message of a run that failed in a precompile, as suave-geth renders it.
pub fn peeker_error(result: Result<ConfidentialOutcome, MevmError>) -> String {
    match result {
        Err(err @ MevmError::Reverted { .. }) => err.to_string(),
        other => panic!("expected a revert, got {other:?}"),
    }
}

/// Lower-case hex without 0x.
pub fn hex_plain(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode(bytes)
}
