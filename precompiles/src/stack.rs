//! The caller stack and the access check of confidential data records (SUAVE-COMPAT §3.9).
//!
//! Every frame of a confidential run (CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE,
//! CREATE2, precompile calls included) pushes the address of the code it executes: the callee
//! for CALL/STATICCALL, the library for DELEGATECALL/CALLCODE, the new contract for CREATE. The
//! EOA that sent the request is never on the stack. When a SUAVE precompile runs, its own address
//! is the last entry.
//!
//! The stack is kept by [`crate::evm::SuaveEvm`], which pushes in `frame_init` and pops when a
//! frame returns, without an inspector (so confidential runs use revm's plain interpreter loop).

use alloy_primitives::Address;
use kettle_primitives::{DataRecord, ANYALLOWED};

use crate::{
    addresses::{self, CONFIDENTIAL_RETRIEVE, CONFIDENTIAL_STORE},
    error::PrecompileError,
};

/// Code addresses of the frames of the current run, outermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerStack {
    frames: Vec<Address>,
}

impl CallerStack {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters a frame executing the code at `code_address`.
    pub fn push(&mut self, code_address: Address) {
        self.frames.push(code_address);
    }

    /// Leaves the innermost frame.
    pub fn pop(&mut self) -> Option<Address> {
        self.frames.pop()
    }

    /// The frames, outermost first.
    pub fn as_slice(&self) -> &[Address] {
        &self.frames
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is active.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Forgets every frame (start of a new transaction).
    pub fn clear(&mut self) {
        self.frames.clear();
    }
}

/// Checks whether `precompile`, called with caller stack `stack` (outermost first, `precompile`
/// itself normally last), may use record `record`, and returns the effective caller: the
/// contract on whose behalf the access happens, recorded with store writes.
///
/// The rules, exactly as suave-geth's `checkIsPrecompileCallAllowed`:
/// 1. If the record lists [`ANYALLOWED`], access is granted; the effective caller is the
///    innermost stack entry that is not `precompile` (or `precompile` itself if there is none).
/// 2. Otherwise `precompile` must itself be an allowed peeker, except `confidentialStore` and
///    `confidentialRetrieve`, which are implicitly allowed; else
///    `precompile <name> (<hex addr>) not allowed on <hex id>`.
/// 3. The innermost stack entry other than `precompile` that is an allowed peeker is the
///    effective caller; if there is none,
///    `no caller of <name> (<hex addr>) is allowed on <hex id>`.
///
/// Addresses in the messages are 40 lower-case hex digits and ids 32, both without `0x`.
/// Other crates' precompiles (buildEthBlock, fillMevShareBundle) call this too.
pub fn check_access(
    stack: &[Address],
    precompile: Address,
    record: &DataRecord,
) -> Result<Address, PrecompileError> {
    let peekers = &record.allowed_peekers;
    if peekers.contains(&ANYALLOWED) {
        return Ok(stack
            .iter()
            .rev()
            .find(|a| **a != precompile)
            .copied()
            .unwrap_or(precompile));
    }

    let name = addresses::name_of(precompile).unwrap_or_default();
    let implicitly_allowed =
        precompile == CONFIDENTIAL_STORE || precompile == CONFIDENTIAL_RETRIEVE;
    if !implicitly_allowed && !peekers.contains(&precompile) {
        return Err(PrecompileError::new(format!(
            "precompile {name} ({}) not allowed on {}",
            hex_lower(precompile.as_slice()),
            hex_lower(record.id.as_slice())
        )));
    }

    stack
        .iter()
        .rev()
        .filter(|a| **a != precompile)
        .find(|a| peekers.contains(a))
        .copied()
        .ok_or_else(|| {
            PrecompileError::new(format!(
                "no caller of {name} ({}) is allowed on {}",
                hex_lower(precompile.as_slice()),
                hex_lower(record.id.as_slice())
            ))
        })
}

/// Lower-case hex without prefix, as Go's `%x`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::{BUILD_ETH_BLOCK, FILL_MEV_SHARE_BUNDLE};
    use kettle_primitives::DataId;

    fn record(peekers: Vec<Address>) -> DataRecord {
        DataRecord::new(DataId::ZERO, 1, peekers, vec![], "ns".into())
    }

    const USER: Address = Address::repeat_byte(0xaa);
    const A: Address = Address::repeat_byte(0x0a);
    const B: Address = Address::repeat_byte(0x0b);

    #[test]
    fn wildcard_picks_innermost_non_precompile() {
        let r = record(vec![ANYALLOWED]);
        let stack = [B, A, CONFIDENTIAL_STORE];
        assert_eq!(check_access(&stack, CONFIDENTIAL_STORE, &r), Ok(A));
        // Only the precompile on the stack: it is its own effective caller.
        assert_eq!(
            check_access(&[CONFIDENTIAL_STORE], CONFIDENTIAL_STORE, &r),
            Ok(CONFIDENTIAL_STORE)
        );
        assert_eq!(check_access(&[], BUILD_ETH_BLOCK, &r), Ok(BUILD_ETH_BLOCK));
    }

    #[test]
    fn innermost_allowed_caller_wins() {
        let r = record(vec![B, A]);
        assert_eq!(
            check_access(
                &[B, A, USER, CONFIDENTIAL_RETRIEVE],
                CONFIDENTIAL_RETRIEVE,
                &r
            ),
            Ok(A)
        );
        let r = record(vec![B]);
        assert_eq!(
            check_access(&[B, A, CONFIDENTIAL_RETRIEVE], CONFIDENTIAL_RETRIEVE, &r),
            Ok(B)
        );
    }

    #[test]
    fn store_and_retrieve_are_implicitly_allowed_others_are_not() {
        let r = record(vec![A]);
        let err = check_access(&[A, FILL_MEV_SHARE_BUNDLE], FILL_MEV_SHARE_BUNDLE, &r).unwrap_err();
        assert_eq!(
            err.0,
            format!(
                "precompile fillMevShareBundle (0000000000000000000000000000000043200001) not allowed on {}",
                hex_lower(r.id.as_slice())
            )
        );
        let r = record(vec![A, FILL_MEV_SHARE_BUNDLE]);
        assert_eq!(
            check_access(&[A, FILL_MEV_SHARE_BUNDLE], FILL_MEV_SHARE_BUNDLE, &r),
            Ok(A)
        );
    }

    #[test]
    fn no_allowed_caller() {
        let r = record(vec![B]);
        let err = check_access(&[A, CONFIDENTIAL_STORE], CONFIDENTIAL_STORE, &r).unwrap_err();
        assert_eq!(
            err.0,
            format!(
                "no caller of confidentialStore (0000000000000000000000000000000042020000) is allowed on {}",
                hex_lower(r.id.as_slice())
            )
        );
        // A listed precompile does not count as its own caller.
        let r = record(vec![BUILD_ETH_BLOCK]);
        assert!(check_access(&[A, BUILD_ETH_BLOCK], BUILD_ETH_BLOCK, &r).is_err());
    }
}
