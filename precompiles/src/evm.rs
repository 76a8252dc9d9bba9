//! [`SuaveEvm`]: revm's mainnet EVM with SUAVE execution rules.
//!
//! It wraps revm's [`Evm`] and changes three things:
//!
//! 1. **Caller stack.** [`EvmTr::frame_init`] pushes the code address of every new frame onto
//!    the provider's [`CallerStack`](crate::stack::CallerStack) (for a call before the callee
//!    runs, so a precompile sees itself last; for a create once the new address is known), and
//!    [`EvmTr::frame_return_result`] pops it when the frame finishes. Calls that complete
//!    without a frame (precompiles, code-less accounts) are popped right away. This needs no
//!    inspector, so runs use revm's plain interpreter loop.
//! 2. **State-storage guard.** In confidential runs the `SSTORE` instruction is replaced by one
//!    that records any write into the storage of the request's target contract (including
//!    through `DELEGATECALL`ed code), at the point go-ethereum's tracer would see it: after
//!    the instruction's gas is charged, or on a static-context attempt. The run then fails
//!    with `confidential request cannot modify state storage` unless it failed for another
//!    reason first (SUAVE-COMPAT §3.6.4). Other opcodes are untouched, so the check costs
//!    nothing outside `SSTORE`; writes into other contracts (e.g. created during the run) are
//!    allowed and discarded with the rest of the state.
//! 3. **Deadline.** A confidential run may carry a wall-clock deadline
//!    ([`SuaveEvm::with_deadline`]): `JUMP` and `JUMPI` are then replaced by versions that read
//!    the clock every [`DEADLINE_CHECK_INTERVAL`] jumps and stop the run with a fatal error once
//!    it has passed. Every loop jumps, so a loop that gas alone would let run for long (slow
//!    precompiles in a loop, a huge gas limit) ends soon after the deadline.
//! 4. **SUAVE fork rules.** Spec [`SPEC`] (Shanghai opcode table: `PUSH0`, EIP-3860 for
//!    `CREATE`/`CREATE2`, no Cancun opcodes), but the coinbase is not pre-warmed (EIP-3651 is
//!    off on SUAVE chains); the warm set holds the 25 SUAVE precompile addresses.
//!    `PREVRANDAO` (`0x44`) returns [`crate::context::PREVRANDAO`].
//!
//! Known differences from suave-geth on chain (matter to the chain crate, not to confidential
//! requests, which never create contracts): revm applies Shanghai's transaction-level
//! initcode rules (EIP-3860 size limit and intrinsic word gas) to creation transactions.

use std::time::Instant;

use revm::{
    bytecode::opcode::{JUMP, JUMPI, SSTORE},
    context::{BlockEnv, CfgEnv, Context, ContextSetters, ContextTr, Evm, Journal, TxEnv},
    context_interface::{
        context::ContextError,
        result::{EVMError, ExecResultAndState, ExecutionResult, HaltReason, InvalidTransaction},
        transaction::{AccessListItemTr, TransactionType},
        JournalTr, Transaction,
    },
    handler::{
        evm::{ContextDbError, FrameInitResult},
        instructions::EthInstructions,
        EthFrame, EvmTr, ExecuteCommitEvm, ExecuteEvm, FrameInitOrResult, FrameTr, Handler,
        ItemOrResult, PrecompileProvider,
    },
    interpreter::{
        instructions::{
            control,
            host::{sstore_default_gas_accounting, sstore_with_gas_accounting},
        },
        interpreter::EthInterpreter,
        interpreter_action::FrameInput,
        interpreter_types::RuntimeFlag,
        Instruction, InstructionContext, InstructionExecResult, InstructionResult,
    },
    primitives::{hardfork::SpecId, Address, AddressMap, HashSet, StorageKey, U256},
    state::EvmState,
    Database, DatabaseCommit,
};

use crate::{context::BlockContext, provider::SuavePrecompiles};

/// The revm spec of SUAVE chains: Shanghai's opcode table.
pub const SPEC: SpecId = SpecId::SHANGHAI;

/// Per-transaction SUAVE state kept in the revm context (`Context::chain`), where instructions
/// can reach it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageGuard {
    /// Contract whose storage must not be written (the confidential request's target); `None`
    /// on chain.
    pub protected: Option<Address>,
    /// Whether an `SSTORE` into `protected` was executed.
    pub written: bool,
    /// Wall-clock deadline of the run (confidential requests with a time limit): checked at
    /// every [`DEADLINE_CHECK_INTERVAL`]-th `JUMP`/`JUMPI`, so every loop is bounded.
    pub deadline: Option<Instant>,
    /// Whether the run was stopped because `deadline` passed.
    pub timed_out: bool,
    /// Jumps executed since the last clock read.
    jumps: u32,
}

/// Jumps between two reads of the clock when a deadline is set: a clock read costs about
/// as much as a few dozen cheap instructions, so this keeps the check's cost negligible while
/// loops, including ones around slow precompile calls, still stop soon after the deadline.
pub const DEADLINE_CHECK_INTERVAL: u32 = 256;

/// The `EVMError::Custom` message of a run stopped at its deadline.
pub(crate) const DEADLINE_MESSAGE: &str = "execution time limit reached";

/// The revm context type of the MEVM.
pub type SuaveContext<DB> = Context<BlockEnv, TxEnv, CfgEnv, DB, Journal<DB>, StorageGuard>;

type Inner<'r, DB> = Evm<
    SuaveContext<DB>,
    (),
    EthInstructions<EthInterpreter, SuaveContext<DB>>,
    SuavePrecompiles<'r>,
    EthFrame<EthInterpreter>,
>;

/// revm's EVM with SUAVE rules; see the module documentation. Use it through
/// [`ExecuteEvm`] / [`ExecuteCommitEvm`]; confidential requests go through
/// [`crate::Mevm`] instead.
pub struct SuaveEvm<'r, DB: Database> {
    inner: Inner<'r, DB>,
}

impl<DB: Database> std::fmt::Debug for SuaveEvm<'_, DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuaveEvm")
            .field("precompiles", &self.inner.precompiles)
            .field("guard", &self.inner.ctx.chain)
            .finish_non_exhaustive()
    }
}

/// Flags relaxing transaction validation, for the confidential entry points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Relaxations {
    /// Skip the nonce and EIP-3607 (sender has code) checks: suave-geth's
    /// `SkipAccountChecks` for every confidential run.
    pub(crate) skip_account_checks: bool,
    /// No base-fee check (confidential `eth_call`, suave-geth's `NoBaseFee`).
    pub(crate) no_base_fee: bool,
    /// No balance requirement for gas and value (confidential `eth_call` from the zero address).
    pub(crate) no_balance_check: bool,
}

impl<'r, DB: Database> SuaveEvm<'r, DB> {
    /// An EVM for on-chain execution on the SUAVE chain `chain_id`: Ethereum precompiles,
    /// `console.log`, SUAVE precompile addresses warm but empty.
    pub fn on_chain(db: DB, block: &BlockContext, chain_id: u64) -> Self {
        Self::build(
            db,
            block,
            chain_id,
            SuavePrecompiles::on_chain(SPEC),
            None,
            Relaxations::default(),
        )
    }

    /// Assembles an EVM. `protected` enables the state-storage guard for that contract.
    pub(crate) fn build(
        db: DB,
        block: &BlockContext,
        chain_id: u64,
        precompiles: SuavePrecompiles<'r>,
        protected: Option<Address>,
        relax: Relaxations,
    ) -> Self {
        let mut cfg = CfgEnv::new_with_spec(SPEC);
        cfg.chain_id = chain_id;
        cfg.disable_nonce_check = relax.skip_account_checks;
        cfg.disable_eip3607 = relax.skip_account_checks;
        cfg.disable_base_fee = relax.no_base_fee;
        cfg.disable_balance_check = relax.no_balance_check;
        let mut ctx = SuaveContext::<DB>::new(db, SPEC)
            .with_cfg(cfg)
            .with_block(block.to_block_env());
        ctx.chain = StorageGuard {
            protected,
            ..StorageGuard::default()
        };
        let mut instructions = EthInstructions::new_mainnet_with_spec(SPEC);
        if protected.is_some() {
            instructions.instruction_table_mut()[usize::from(SSTORE)] =
                Instruction::new(guarded_sstore::<DB>);
        }
        Self {
            inner: Evm::new(ctx, instructions, precompiles),
        }
    }

    /// Stops the run with a fatal error (`EVMError::Custom`) at the first loop iteration after
    /// `deadline`; [`StorageGuard::timed_out`] then tells why the run failed.
    pub(crate) fn with_deadline(mut self, deadline: Instant) -> Self {
        self.inner.ctx.chain.deadline = Some(deadline);
        let table = self.inner.instruction.instruction_table_mut();
        table[usize::from(JUMP)] = Instruction::new(timed_jump::<DB>);
        table[usize::from(JUMPI)] = Instruction::new(timed_jumpi::<DB>);
        self
    }

    /// The precompile provider (caller stack, confidential state).
    pub fn precompiles(&self) -> &SuavePrecompiles<'r> {
        &self.inner.precompiles
    }

    /// The storage guard of the last transaction.
    pub fn storage_guard(&self) -> StorageGuard {
        self.inner.ctx.chain
    }

    /// The database, for reads after a run (the journal has been finalized by then).
    pub fn db_mut(&mut self) -> &mut DB {
        &mut self.inner.ctx.journaled_state.database
    }

    /// Splits the EVM into its database and precompile provider.
    pub(crate) fn into_parts(self) -> (DB, SuavePrecompiles<'r>) {
        (
            self.inner.ctx.journaled_state.database,
            self.inner.precompiles,
        )
    }
}

/// `SSTORE` that records writes into the protected contract's storage; see the module docs.
fn guarded_sstore<DB: Database>(
    ctx: InstructionContext<'_, SuaveContext<DB>, EthInterpreter>,
) -> InstructionExecResult {
    if ctx.interpreter.runtime_flag.is_static()
        && ctx.host.chain.protected == Some(ctx.interpreter.input.target_address)
    {
        // go-ethereum's tracer sees the opcode before the write-protection error.
        ctx.host.chain.written = true;
    }
    sstore_with_gas_accounting(ctx, |c, target, load| {
        sstore_default_gas_accounting(c, target, load)?;
        if c.host.chain.protected == Some(target) {
            c.host.chain.written = true;
        }
        Ok(())
    })
}

/// Counts a jump; every [`DEADLINE_CHECK_INTERVAL`]-th one reads the clock. Past the
/// deadline it records the timeout in the context's error slot (which revm turns into
/// `EVMError::Custom` before looking at the halt) and returns `true`.
fn deadline_passed<DB: Database>(host: &mut SuaveContext<DB>) -> bool {
    let Some(deadline) = host.chain.deadline else {
        return false;
    };
    host.chain.jumps += 1;
    if host.chain.jumps < DEADLINE_CHECK_INTERVAL {
        return false;
    }
    host.chain.jumps = 0;
    if Instant::now() < deadline {
        return false;
    }
    host.chain.timed_out = true;
    *host.error() = Err(ContextError::Custom(DEADLINE_MESSAGE.to_owned()));
    true
}

/// `JUMP` with the deadline check.
fn timed_jump<DB: Database>(
    ctx: InstructionContext<'_, SuaveContext<DB>, EthInterpreter>,
) -> InstructionExecResult {
    if deadline_passed(ctx.host) {
        return Err(InstructionResult::FatalExternalError);
    }
    control::jump(ctx)
}

/// `JUMPI` with the deadline check.
fn timed_jumpi<DB: Database>(
    ctx: InstructionContext<'_, SuaveContext<DB>, EthInterpreter>,
) -> InstructionExecResult {
    if deadline_passed(ctx.host) {
        return Err(InstructionResult::FatalExternalError);
    }
    control::jumpi(ctx)
}

impl<'r, DB: Database> EvmTr for SuaveEvm<'r, DB> {
    type Context = SuaveContext<DB>;
    type Instructions = EthInstructions<EthInterpreter, SuaveContext<DB>>;
    type Precompiles = SuavePrecompiles<'r>;
    type Frame = EthFrame<EthInterpreter>;

    #[inline]
    fn all(
        &self,
    ) -> (
        &Self::Context,
        &Self::Instructions,
        &Self::Precompiles,
        &revm::context_interface::FrameStack<Self::Frame>,
    ) {
        self.inner.all()
    }

    #[inline]
    fn all_mut(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut revm::context_interface::FrameStack<Self::Frame>,
    ) {
        self.inner.all_mut()
    }

    fn frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<Self::Context>> {
        // A call's code address is known up front: push it before the precompile provider
        // runs, so a precompile finds itself on top of the stack.
        let pushed_call = match &frame_input.frame_input {
            FrameInput::Call(call) => {
                self.inner
                    .precompiles
                    .caller_stack_mut()
                    .push(call.bytecode_address);
                true
            }
            _ => false,
        };
        // Learn what happened without keeping the frame borrowed.
        let outcome = match self.inner.frame_init(frame_input) {
            Ok(ItemOrResult::Item(frame)) => Ok(ItemOrResult::Item(
                frame
                    .interpreter
                    .input
                    .bytecode_address
                    .unwrap_or(frame.interpreter.input.target_address),
            )),
            Ok(ItemOrResult::Result(result)) => Ok(ItemOrResult::Result(result)),
            Err(err) => Err(err),
        };
        let stack = self.inner.precompiles.caller_stack_mut();
        match outcome {
            Ok(ItemOrResult::Item(code_address)) => {
                if !pushed_call {
                    stack.push(code_address);
                }
                Ok(ItemOrResult::Item(self.inner.frame_stack.get()))
            }
            Ok(ItemOrResult::Result(result)) => {
                // Finished without a frame (precompile, empty account, failed create).
                if pushed_call {
                    stack.pop();
                }
                Ok(ItemOrResult::Result(result))
            }
            Err(err) => {
                if pushed_call {
                    stack.pop();
                }
                Err(err)
            }
        }
    }

    #[inline]
    fn frame_run(
        &mut self,
    ) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<Self::Context>> {
        self.inner.frame_run()
    }

    fn frame_return_result(
        &mut self,
        result: <Self::Frame as FrameTr>::FrameResult,
    ) -> Result<Option<<Self::Frame as FrameTr>::FrameResult>, ContextDbError<Self::Context>> {
        // The result is either the current frame's own (it finished: leave it) or that of a
        // child that never became a frame (already popped in `frame_init`).
        if self.inner.frame_stack.get().is_finished() {
            self.inner.precompiles.caller_stack_mut().pop();
        }
        self.inner.frame_return_result(result)
    }
}

/// The mainnet handler with SUAVE's pre-execution (no EIP-3651 coinbase warming).
struct SuaveHandler<'r, DB: Database> {
    _evm: core::marker::PhantomData<fn(SuaveEvm<'r, DB>)>,
}

impl<DB: Database> SuaveHandler<'_, DB> {
    fn new() -> Self {
        Self {
            _evm: core::marker::PhantomData,
        }
    }
}

impl<'r, DB: Database> Handler for SuaveHandler<'r, DB> {
    type Evm = SuaveEvm<'r, DB>;
    type Error = EVMError<DB::Error, InvalidTransaction>;
    type HaltReason = HaltReason;

    fn load_accounts(&self, evm: &mut Self::Evm) -> Result<(), Self::Error> {
        let (context, precompiles) = evm.ctx_precompiles();
        let spec = context.cfg.spec;
        context.journal_mut().set_spec_id(spec);
        let changed = <SuavePrecompiles<'r> as PrecompileProvider<SuaveContext<DB>>>::set_spec(
            precompiles,
            spec,
        );
        if changed || context.journal_mut().precompile_addresses().is_empty() {
            context
                .journal_mut()
                .warm_precompiles(<SuavePrecompiles<'r> as PrecompileProvider<
                    SuaveContext<DB>,
                >>::warm_addresses(precompiles));
        }
        // Unlike revm's mainnet handler, the coinbase is not warmed: SUAVE chains have the
        // Shanghai opcode table but not its transaction-level rules (EIP-3651 off).
        let (tx, journal) = context.tx_journal_mut();
        if tx.tx_type() != TransactionType::Legacy {
            if let Some(access_list) = tx.access_list() {
                let mut map: AddressMap<HashSet<StorageKey>> = AddressMap::default();
                for item in access_list {
                    map.entry(*item.address())
                        .or_default()
                        .extend(item.storage_slots().map(|key| U256::from_be_bytes(key.0)));
                }
                journal.warm_access_list(map);
            }
        }
        Ok(())
    }
}

impl<DB: Database> SuaveEvm<'_, DB> {
    fn reset_transaction_state(&mut self) {
        self.inner.precompiles.caller_stack_mut().clear();
        self.inner.ctx.chain.written = false;
    }
}

impl<DB: Database> ExecuteEvm for SuaveEvm<'_, DB> {
    type ExecutionResult = ExecutionResult<HaltReason>;
    type State = EvmState;
    type Error = EVMError<DB::Error, InvalidTransaction>;
    type Tx = TxEnv;
    type Block = BlockEnv;

    fn set_block(&mut self, block: Self::Block) {
        self.inner.ctx.set_block(block);
    }

    fn transact_one(&mut self, tx: Self::Tx) -> Result<Self::ExecutionResult, Self::Error> {
        self.inner.ctx.set_tx(tx);
        self.reset_transaction_state();
        let result = SuaveHandler::new().run(self);
        debug_assert!(
            result.is_err() || self.inner.precompiles.caller_stack().is_empty(),
            "caller stack unbalanced after a transaction: {:?}",
            self.inner.precompiles.caller_stack()
        );
        result
    }

    fn finalize(&mut self) -> Self::State {
        self.inner.ctx.journal_mut().finalize()
    }

    fn replay(
        &mut self,
    ) -> Result<ExecResultAndState<Self::ExecutionResult, Self::State>, Self::Error> {
        self.reset_transaction_state();
        let result = SuaveHandler::new().run(self);
        let state = self.finalize();
        result.map(|result| ExecResultAndState::new(result, state))
    }
}

impl<DB: Database + DatabaseCommit> ExecuteCommitEvm for SuaveEvm<'_, DB> {
    fn commit(&mut self, state: Self::State) {
        self.inner.ctx.journaled_state.database.commit(state);
    }
}
