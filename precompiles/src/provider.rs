//! The precompile provider of the MEVM: Ethereum's precompiles, `console.log`, and in
//! confidential mode every SUAVE precompile.
//!
//! | address | on chain | confidential run |
//! |---|---|---|
//! | `0x01`–`0x09` (Berlin set) | revm's | revm's |
//! | `console.log` | 0 gas, logs, empty output | same |
//! | SUAVE precompiles | not precompiles: empty accounts (success, no data) | flat [`SUAVE_PRECOMPILE_GAS`], run |
//!
//! In both modes the 25 SUAVE addresses of [`addresses::PREWARMED`] are in the warm set, so
//! revm pre-warms them in every transaction, as suave-geth's access list does.
//!
//! The provider also owns the [`CallerStack`]: [`crate::evm::SuaveEvm`] pushes and pops it
//! around frames, and access checks read it when a precompile runs.

use alloy_primitives::{Address, Bytes};
use revm::{
    context::Cfg,
    context_interface::ContextTr,
    handler::{precompile_output_to_interpreter_result, EthPrecompiles, PrecompileProvider},
    interpreter::{CallInputs, InterpreterResult},
    precompile::PrecompileOutput,
    primitives::{hardfork::SpecId, AddressSet},
};

use crate::{
    addresses::{self, CONSOLE_LOG, IS_CONFIDENTIAL},
    builtin::{self, RequestEnv},
    console,
    stack::CallerStack,
};

/// Gas charged by every SUAVE precompile, whatever it does.
///
/// suave-geth charges a flat 1000 gas (`SuavePrecompiledContractWrapper.RequiredGas`), and
/// matching it keeps gas estimates and gas-exact SUAPPs compatible with the reference. Flat
/// pricing ignores the real cost (store I/O, HTTP, signing), which SUAVE-COMPAT §9 item 12
/// lists as a DoS weakness; issue 10 may revisit it. A call given less than this fails
/// out of gas before the precompile runs; a failing precompile still consumes it.
pub const SUAVE_PRECOMPILE_GAS: u64 = 1000;

/// The MEVM's [`PrecompileProvider`]; see the module documentation.
pub struct SuavePrecompiles<'r> {
    eth: EthPrecompiles,
    warm: AddressSet,
    stack: CallerStack,
    env: Option<RequestEnv<'r>>,
}

impl std::fmt::Debug for SuavePrecompiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuavePrecompiles")
            .field("confidential", &self.is_confidential())
            .field("caller_stack", &self.stack)
            .finish_non_exhaustive()
    }
}

impl<'r> SuavePrecompiles<'r> {
    fn with_env(spec: SpecId, env: Option<RequestEnv<'r>>) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = warm_set(&eth);
        Self {
            eth,
            warm,
            stack: CallerStack::new(),
            env,
        }
    }

    /// The provider for on-chain execution: Ethereum precompiles and `console.log` only.
    pub fn on_chain(spec: SpecId) -> Self {
        Self::with_env(spec, None)
    }

    /// The provider of a confidential run over the request state `env`.
    pub(crate) fn confidential(spec: SpecId, env: RequestEnv<'r>) -> Self {
        Self::with_env(spec, Some(env))
    }

    /// Whether SUAVE precompiles are active.
    pub fn is_confidential(&self) -> bool {
        self.env.is_some()
    }

    /// The caller stack of the running transaction.
    pub fn caller_stack(&self) -> &CallerStack {
        &self.stack
    }

    /// Mutable caller stack, for the EVM's frame bookkeeping.
    pub(crate) fn caller_stack_mut(&mut self) -> &mut CallerStack {
        &mut self.stack
    }

    /// The request state, once the run is over.
    pub(crate) fn into_env(self) -> Option<RequestEnv<'r>> {
        self.env
    }

    /// Runs the SUAVE precompile at `address`. Gas is checked first, so a call with too little
    /// gas has no side effect.
    fn run_suave(
        env: &mut RequestEnv<'r>,
        stack: &CallerStack,
        address: Address,
        input: &[u8],
        inputs: &CallInputs,
    ) -> InterpreterResult {
        if inputs.gas_limit < SUAVE_PRECOMPILE_GAS {
            // gas_used > gas_limit: converted into a precompile out-of-gas halt.
            let output =
                PrecompileOutput::new(SUAVE_PRECOMPILE_GAS, Bytes::new(), inputs.reservoir);
            return precompile_output_to_interpreter_result(output, inputs.gas_limit);
        }
        let name = addresses::name_of(address).unwrap_or_default();
        let output = match builtin::dispatch(address, input, stack.as_slice(), env) {
            Ok(bytes) => {
                tracing::debug!(precompile = name, %address, output_len = bytes.len(), "precompile succeeded");
                PrecompileOutput::new(SUAVE_PRECOMPILE_GAS, bytes, inputs.reservoir)
            }
            Err(err) => {
                // The message goes back to the SUAPP (and its user) only: it can carry
                // confidential data (an HTTP header or URL built from confidential inputs).
                tracing::debug!(precompile = name, %address, message_len = err.0.len(), "precompile reverted");
                PrecompileOutput::revert(SUAVE_PRECOMPILE_GAS, err.revert_data(), inputs.reservoir)
            }
        };
        precompile_output_to_interpreter_result(output, inputs.gas_limit)
    }
}

/// Ethereum's precompiles plus the pre-warmed SUAVE addresses.
fn warm_set(eth: &EthPrecompiles) -> AddressSet {
    let mut warm = eth.warm_addresses().clone();
    warm.extend(addresses::PREWARMED);
    warm
}

/// Whether `address` is a SUAVE precompile (isConfidential included, console.log not).
fn is_suave(address: Address) -> bool {
    address == IS_CONFIDENTIAL || addresses::name_of(address).is_some()
}

impl<CTX> PrecompileProvider<CTX> for SuavePrecompiles<'_>
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = warm_set(&self.eth);
        }
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<Self::Output>, String> {
        let address = inputs.bytecode_address;
        if address == CONSOLE_LOG {
            console::log(inputs.caller, &inputs.input.as_bytes(context));
            let output = PrecompileOutput::new(0, Bytes::new(), inputs.reservoir);
            return Ok(Some(precompile_output_to_interpreter_result(
                output,
                inputs.gas_limit,
            )));
        }
        if let Some(env) = self.env.as_mut() {
            if is_suave(address) {
                let input = inputs.input.as_bytes(context);
                return Ok(Some(Self::run_suave(
                    env,
                    &self.stack,
                    address,
                    &input,
                    inputs,
                )));
            }
        }
        // Outside confidential mode SUAVE addresses are plain accounts without code.
        <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, context, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.eth.contains(address)
            || *address == CONSOLE_LOG
            || (self.is_confidential() && is_suave(*address))
    }
}
