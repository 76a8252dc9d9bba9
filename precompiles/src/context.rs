//! What the MEVM needs to know about the kettle and the block it executes on.

use alloy_primitives::{Address, B256, U256};
use revm::context::BlockEnv;

/// The kettle running a confidential request: its identities and the SUAVE chain it serves.
///
/// One value per kettle, shared by every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KettleContext {
    /// Every account of this kettle node (suave-geth: all local accounts), in order.
    /// `newDataRecord` appends all of them to a new record's `allowedStores`, as upstream does
    /// (SUAVE-COMPAT §6.1), so other kettles of the same operator may hold its values.
    pub kettle_addresses: Vec<Address>,
    /// Chain id of the SUAVE chain (`CHAINID` opcode, signing context).
    pub chain_id: u64,
}

impl KettleContext {
    /// A kettle with a single account.
    pub fn new(kettle_address: Address, chain_id: u64) -> Self {
        Self {
            kettle_addresses: vec![kettle_address],
            chain_id,
        }
    }
}

/// The block context of a run: suave-geth executes confidential requests on the latest block
/// header (SUAVE-COMPAT §3.1), on-chain transactions on their own block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockContext {
    /// Block number (`NUMBER`).
    pub number: u64,
    /// Unix timestamp in seconds (`TIMESTAMP`).
    pub timestamp: u64,
    /// Base fee per gas (`BASEFEE`); zero on chains without London (Rigil, Toliman genesis).
    pub basefee: u64,
    /// Block gas limit: the gas pool of the run; a request asking for more gas is rejected.
    pub gas_limit: u64,
    /// Coinbase (`COINBASE`). On Clique chains this is usually the zero address.
    pub coinbase: Address,
    /// Header difficulty. SUAVE chains are Clique chains (difficulty 1 or 2), but their opcode
    /// table is Shanghai's, where `0x44` is `PREVRANDAO`, not `DIFFICULTY`; see
    /// [`PREVRANDAO`].
    pub difficulty: U256,
}

/// The value opcode `0x44` (`PREVRANDAO`) returns in every kettle run: zero.
///
/// suave-geth executes `0x44` as `PREVRANDAO` but its Clique headers carry no random value, so
/// it dereferences a nil pointer and the whole RPC call crashes (SUAVE-COMPAT §2 and §9 item
/// 21). There is no result to be compatible with; zero is deterministic, obviously not random,
/// and matches what a post-merge block with an empty `mixHash` would give.
pub const PREVRANDAO: B256 = B256::ZERO;

impl Default for BlockContext {
    fn default() -> Self {
        Self {
            number: 0,
            timestamp: 0,
            basefee: 0,
            gas_limit: 30_000_000,
            coinbase: Address::ZERO,
            difficulty: U256::from(1),
        }
    }
}

impl BlockContext {
    /// The revm block environment for this context, with `prevrandao` = [`PREVRANDAO`].
    pub fn to_block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.coinbase,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.basefee,
            difficulty: self.difficulty,
            prevrandao: Some(PREVRANDAO),
            ..Default::default()
        }
    }
}
