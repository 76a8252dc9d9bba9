//! The L1 environment of the block built on top of a parent header.
//!
//! [`NextBlock::new`] derives everything revm and the header need from the parent header, the
//! chain id and the build parameters:
//!
//! - number = parent + 1; timestamp = the requested one (must exceed the parent's, as
//!   suave-geth's `prepareWork` demands) or parent + 12;
//! - gas limit = go-ethereum's `CalcGasLimit(parent, desired)`: one step of at most
//!   parent/1024 − 1 towards the requested limit (or stays at the parent's), so the block is
//!   valid whatever limit is asked;
//! - base fee = EIP-1559 from the parent (alloy-eips); a parent without base fee (pre-London)
//!   is refused;
//! - prevRandao = the requested value, or **the parent's mix hash** when zero (suave-geth's
//!   null-args default is the parent's state root; neither is the real next value, the mix
//!   hash is at least a randomness value of the right chain);
//! - the fork ([`SpecId`]) from the parent's header fields: `requests_hash` → Prague,
//!   `excess_blob_gas` → Cancun, `withdrawals_root` → Shanghai, zero difficulty → Merge,
//!   base fee → London. A fork that activates exactly at the new block, and forks without
//!   a new header field (Osaka, the blob-parameter-only forks), cannot be seen from the
//!   parent: set [`ForkConfig::spec`] / [`ForkConfig::blob_params`] for them;
//! - blob gas: excess from the parent (alloy-eips, the fork's blob parameters), blob base
//!   fee from the excess;
//! - system calls: EIP-4788 (beacon root, Cancun+; the header's root, zero when none was
//!   given, so that the state matches the header) and EIP-2935 (parent hash, Prague+) at
//!   block start; EIP-7002 and EIP-7251 request dequeues (Prague+) at block end (all
//!   skipped with [`ForkConfig::skip_system_calls`], for hardhat);
//! - withdrawals: balance increments (gwei → wei) after the transactions.

use alloy_consensus::Header;
use alloy_eips::eip1559::BaseFeeParams;
use alloy_eips::eip4895::Withdrawal;
use alloy_eips::eip7840::BlobParams;
use alloy_primitives::{address, Address, Bytes, B256, U256};
use revm::context::{BlockEnv, CfgEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::hardfork::SpecId;

/// Seconds between slots: the default timestamp step.
pub const SLOT_SECONDS: u64 = 12;
/// go-ethereum's `params.GasLimitBoundDivisor`.
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// go-ethereum's `params.MinGasLimit`.
pub const MIN_GAS_LIMIT: u64 = 5000;
/// Largest `extraData` of a valid header.
pub const MAX_EXTRA_DATA: usize = 32;
/// Wei per gwei (withdrawal amounts are in gwei).
pub const GWEI: u64 = 1_000_000_000;
/// Mainnet's deposit contract (EIP-6110 deposit requests are parsed from its logs).
pub const MAINNET_DEPOSIT_CONTRACT: Address =
    address!("0x00000000219ab540356cBB839Cbe05303d7705Fa");

/// Why the environment of the next block cannot be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// The requested timestamp is not after the parent's.
    #[error("invalid timestamp, parent {parent} given {given}")]
    Timestamp {
        /// Parent timestamp.
        parent: u64,
        /// Requested timestamp.
        given: u64,
    },
    /// The parent has no base fee.
    #[error("parent block {0} has no base fee: pre-London chains are not supported")]
    PreLondon(u64),
    /// The extra data is longer than a header allows.
    #[error("extra data too long: {0} bytes, at most 32")]
    ExtraData(usize),
    /// Withdrawals before Shanghai.
    #[error("withdrawals given but the block is before Shanghai")]
    WithdrawalsBeforeShanghai,
}

/// Fork settings that the parent header cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForkConfig {
    /// Rules of the new block; `None`: derived from the parent header (see the module doc).
    pub spec: Option<SpecId>,
    /// Blob parameters of the new block; `None`: those of the spec (Cancun, Prague, Osaka).
    pub blob_params: Option<BlobParams>,
    /// Deposit contract whose logs become EIP-6110 requests (Prague+); `None`: mainnet's on
    /// chain 1, none elsewhere.
    pub deposit_contract: Option<Address>,
    /// Skip the EIP-4788 / EIP-2935 / EIP-7002 / EIP-7251 system calls. Only for development
    /// nodes that do not run them: hardhat (2.29, Cancun) deploys the beacon-roots contract
    /// but never calls it, so its blocks' state roots only match with this set.
    pub skip_system_calls: bool,
}

/// The parent block: its header and hash (as the node reported it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentBlock {
    /// Block hash.
    pub hash: B256,
    /// Consensus header.
    pub header: Header,
}

impl ParentBlock {
    /// From an RPC header. A hash that does not match the header's RLP is logged (the node's
    /// hash is kept: it is what the chain references).
    pub fn from_rpc(header: alloy_rpc_types_eth::Header) -> Self {
        let computed = header.inner.hash_slow();
        if computed != header.hash {
            tracing::warn!(
                reported = %header.hash,
                %computed,
                number = header.inner.number,
                "parent header does not hash to the reported block hash"
            );
        }
        Self {
            hash: header.hash,
            header: header.inner,
        }
    }
}

/// Caller-chosen parameters of the next block (zero / `None` fields take the defaults of
/// the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockParams {
    /// Timestamp; 0 = parent + 12.
    pub timestamp: u64,
    /// Desired gas limit; 0 = the parent's.
    pub gas_limit: u64,
    /// prevRandao; zero = the parent's mix hash.
    pub prev_randao: B256,
    /// Coinbase.
    pub beneficiary: Address,
    /// Parent beacon block root (Cancun+); zero when unknown.
    pub beacon_root: B256,
    /// Header extra data.
    pub extra_data: Bytes,
    /// Withdrawals to credit at the end of the block.
    pub withdrawals: Vec<Withdrawal>,
}

/// A call by the system address at block start or end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemCall {
    /// System contract.
    pub contract: Address,
    /// Calldata.
    pub data: Bytes,
    /// EIP-7685 request type whose data the call returns (end-of-block dequeues).
    pub request_type: Option<u8>,
}

/// Everything about the block being built that does not depend on its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextBlock {
    /// The parent.
    pub parent: ParentBlock,
    /// Chain id.
    pub chain_id: u64,
    /// EVM rules.
    pub spec: SpecId,
    /// Block number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee per gas.
    pub base_fee: u64,
    /// prevRandao (header mix hash).
    pub prev_randao: B256,
    /// Coinbase.
    pub beneficiary: Address,
    /// Blob parameters (Cancun+).
    pub blob_params: Option<BlobParams>,
    /// Excess blob gas (Cancun+).
    pub excess_blob_gas: Option<u64>,
    /// Parent beacon block root (Cancun+).
    pub parent_beacon_block_root: Option<B256>,
    /// Extra data.
    pub extra_data: Bytes,
    /// Withdrawals (Shanghai+; `None` before).
    pub withdrawals: Option<Vec<Withdrawal>>,
    /// Deposit contract (Prague+).
    pub deposit_contract: Option<Address>,
    /// No system calls (see [`ForkConfig::skip_system_calls`]).
    pub skip_system_calls: bool,
}

/// go-ethereum's `core.CalcGasLimit`: the gas limit of a child of a `parent`-limit block
/// moving towards `desired`.
pub fn calc_gas_limit(parent: u64, desired: u64) -> u64 {
    let delta = (parent / GAS_LIMIT_BOUND_DIVISOR).saturating_sub(1);
    let desired = desired.max(MIN_GAS_LIMIT);
    if parent < desired {
        parent.saturating_add(delta).min(desired)
    } else if parent > desired {
        parent.saturating_sub(delta).max(desired)
    } else {
        parent
    }
}

/// The fork of a child of `parent`, as far as the parent's header fields tell.
pub fn spec_after(parent: &Header) -> SpecId {
    if parent.requests_hash.is_some() {
        SpecId::PRAGUE
    } else if parent.excess_blob_gas.is_some() {
        SpecId::CANCUN
    } else if parent.withdrawals_root.is_some() {
        SpecId::SHANGHAI
    } else if parent.difficulty.is_zero() && parent.base_fee_per_gas.is_some() {
        SpecId::MERGE
    } else if parent.base_fee_per_gas.is_some() {
        SpecId::LONDON
    } else {
        SpecId::BERLIN
    }
}

/// The blob parameters of `spec` (`None` before Cancun).
pub fn blob_params_of(spec: SpecId) -> Option<BlobParams> {
    if spec.is_enabled_in(SpecId::OSAKA) {
        Some(BlobParams::osaka())
    } else if spec.is_enabled_in(SpecId::PRAGUE) {
        Some(BlobParams::prague())
    } else if spec.is_enabled_in(SpecId::CANCUN) {
        Some(BlobParams::cancun())
    } else {
        None
    }
}

impl NextBlock {
    /// The environment of the child of `parent` on chain `chain_id`.
    pub fn new(
        parent: &ParentBlock,
        chain_id: u64,
        params: &BlockParams,
        forks: &ForkConfig,
    ) -> Result<Self, EnvError> {
        let p = &parent.header;
        let timestamp = if params.timestamp == 0 {
            p.timestamp.saturating_add(SLOT_SECONDS)
        } else if params.timestamp <= p.timestamp {
            return Err(EnvError::Timestamp {
                parent: p.timestamp,
                given: params.timestamp,
            });
        } else {
            params.timestamp
        };
        let desired = if params.gas_limit == 0 {
            p.gas_limit
        } else {
            params.gas_limit
        };
        let base_fee = p
            .next_block_base_fee(BaseFeeParams::ethereum())
            .ok_or(EnvError::PreLondon(p.number))?;
        if params.extra_data.len() > MAX_EXTRA_DATA {
            return Err(EnvError::ExtraData(params.extra_data.len()));
        }
        let spec = forks.spec.unwrap_or_else(|| spec_after(p));
        let blob_params = forks.blob_params.or_else(|| blob_params_of(spec));
        let cancun = spec.is_enabled_in(SpecId::CANCUN);
        let excess_blob_gas = match (cancun, blob_params) {
            (true, Some(bp)) => Some(match (p.excess_blob_gas, p.blob_gas_used) {
                (Some(excess), Some(used)) => {
                    bp.next_block_excess_blob_gas_osaka(excess, used, base_fee_of(p))
                }
                // First Cancun block: the parent had no blob fields.
                _ => 0,
            }),
            _ => None,
        };
        let shanghai = spec.is_enabled_in(SpecId::SHANGHAI);
        if !shanghai && !params.withdrawals.is_empty() {
            return Err(EnvError::WithdrawalsBeforeShanghai);
        }
        let deposit_contract = forks
            .deposit_contract
            .or((chain_id == 1).then_some(MAINNET_DEPOSIT_CONTRACT));
        Ok(Self {
            parent: parent.clone(),
            chain_id,
            spec,
            number: p.number.saturating_add(1),
            timestamp,
            gas_limit: calc_gas_limit(p.gas_limit, desired),
            base_fee,
            prev_randao: if params.prev_randao.is_zero() {
                p.mix_hash
            } else {
                params.prev_randao
            },
            beneficiary: params.beneficiary,
            blob_params: if cancun { blob_params } else { None },
            excess_blob_gas,
            parent_beacon_block_root: cancun.then_some(params.beacon_root),
            extra_data: params.extra_data.clone(),
            withdrawals: shanghai.then(|| params.withdrawals.clone()),
            deposit_contract: if spec.is_enabled_in(SpecId::PRAGUE) {
                deposit_contract
            } else {
                None
            },
            skip_system_calls: forks.skip_system_calls,
        })
    }

    /// Whether `fork` rules apply.
    pub fn is(&self, fork: SpecId) -> bool {
        self.spec.is_enabled_in(fork)
    }

    /// Blob base fee (Cancun+).
    pub fn blob_base_fee(&self) -> Option<u128> {
        Some(self.blob_params?.calc_blob_fee(self.excess_blob_gas?))
    }

    /// Largest blob gas of the block (0 before Cancun).
    pub fn max_blob_gas(&self) -> u64 {
        self.blob_params.map_or(0, |bp| bp.max_blob_gas_per_block())
    }

    /// revm's block environment.
    pub fn block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.beneficiary,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prev_randao),
            blob_excess_gas_and_price: match (self.excess_blob_gas, self.blob_params) {
                (Some(excess), Some(bp)) => Some(BlobExcessGasAndPrice {
                    excess_blob_gas: excess,
                    blob_gasprice: bp.calc_blob_fee(excess),
                }),
                _ => None,
            },
            ..BlockEnv::default()
        }
    }

    /// revm's configuration (chain id, rules, blob limits).
    pub fn cfg_env(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(self.spec);
        cfg.chain_id = self.chain_id;
        if let Some(bp) = self.blob_params {
            cfg.max_blobs_per_tx = Some(bp.max_blobs_per_tx);
            cfg.blob_base_fee_update_fraction = u64::try_from(bp.update_fraction).ok();
        }
        cfg
    }

    /// System calls at block start: EIP-4788 (Cancun+), EIP-2935 (Prague+).
    pub fn pre_block_calls(&self) -> Vec<SystemCall> {
        let mut calls = Vec::new();
        if self.skip_system_calls {
            return calls;
        }
        if let Some(root) = self.parent_beacon_block_root {
            calls.push(SystemCall {
                contract: alloy_eips::eip4788::BEACON_ROOTS_ADDRESS,
                data: Bytes::copy_from_slice(root.as_slice()),
                request_type: None,
            });
        }
        if self.is(SpecId::PRAGUE) {
            calls.push(SystemCall {
                contract: alloy_eips::eip2935::HISTORY_STORAGE_ADDRESS,
                data: Bytes::copy_from_slice(self.parent.hash.as_slice()),
                request_type: None,
            });
        }
        calls
    }

    /// System calls at block end: the EIP-7002 and EIP-7251 queues (Prague+).
    pub fn post_block_calls(&self) -> Vec<SystemCall> {
        if !self.is(SpecId::PRAGUE) || self.skip_system_calls {
            return Vec::new();
        }
        vec![
            SystemCall {
                contract: alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
                data: Bytes::new(),
                request_type: Some(alloy_eips::eip7002::WITHDRAWAL_REQUEST_TYPE),
            },
            SystemCall {
                contract: alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
                data: Bytes::new(),
                request_type: Some(alloy_eips::eip7251::CONSOLIDATION_REQUEST_TYPE),
            },
        ]
    }

    /// The balance credits of the withdrawals, in wei, in order.
    pub fn withdrawal_credits(&self) -> Vec<(Address, U256)> {
        self.withdrawals
            .iter()
            .flatten()
            .map(|w| (w.address, U256::from(w.amount) * U256::from(GWEI)))
            .collect()
    }
}

fn base_fee_of(header: &Header) -> u64 {
    header.base_fee_per_gas.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancun_parent() -> ParentBlock {
        ParentBlock {
            hash: B256::repeat_byte(1),
            header: Header {
                number: 100,
                timestamp: 1_000,
                gas_limit: 30_000_000,
                gas_used: 15_000_000,
                base_fee_per_gas: Some(1_000_000_000),
                withdrawals_root: Some(B256::ZERO),
                blob_gas_used: Some(0),
                excess_blob_gas: Some(0),
                parent_beacon_block_root: Some(B256::ZERO),
                mix_hash: B256::repeat_byte(7),
                ..Header::default()
            },
        }
    }

    #[test]
    fn gas_limit_moves_one_step() {
        assert_eq!(calc_gas_limit(30_000_000, 30_000_000), 30_000_000);
        assert_eq!(calc_gas_limit(30_000_000, 60_000_000), 30_029_295);
        assert_eq!(calc_gas_limit(30_000_000, 1), 29_970_705);
        assert_eq!(calc_gas_limit(30_000_000, 30_010_000), 30_010_000);
    }

    #[test]
    fn defaults_on_a_cancun_parent() {
        let next = NextBlock::new(
            &cancun_parent(),
            1337,
            &BlockParams::default(),
            &ForkConfig::default(),
        )
        .unwrap();
        assert_eq!(next.spec, SpecId::CANCUN);
        assert_eq!(next.number, 101);
        assert_eq!(next.timestamp, 1_012);
        assert_eq!(next.gas_limit, 30_000_000);
        // Parent exactly at target: base fee unchanged.
        assert_eq!(next.base_fee, 1_000_000_000);
        assert_eq!(next.prev_randao, B256::repeat_byte(7));
        assert_eq!(next.excess_blob_gas, Some(0));
        assert_eq!(next.blob_base_fee(), Some(1));
        assert_eq!(next.parent_beacon_block_root, Some(B256::ZERO));
        assert_eq!(next.withdrawals, Some(vec![]));
        assert_eq!(next.pre_block_calls().len(), 1);
        assert!(next.post_block_calls().is_empty());
        assert_eq!(next.deposit_contract, None);
    }

    #[test]
    fn prague_and_errors() {
        let mut parent = cancun_parent();
        parent.header.requests_hash = Some(B256::ZERO);
        parent.header.gas_used = 30_000_000;
        parent.header.excess_blob_gas = Some(10 * 131_072);
        parent.header.blob_gas_used = Some(0);
        let params = BlockParams {
            timestamp: 1_005,
            withdrawals: vec![Withdrawal {
                index: 0,
                validator_index: 1,
                address: Address::repeat_byte(9),
                amount: 3,
            }],
            ..BlockParams::default()
        };
        let next = NextBlock::new(&parent, 1, &params, &ForkConfig::default()).unwrap();
        assert_eq!(next.spec, SpecId::PRAGUE);
        assert_eq!(next.timestamp, 1_005);
        assert_eq!(next.base_fee, 1_125_000_000);
        // Prague target is 6 blobs: 10 − 6 remain.
        assert_eq!(next.excess_blob_gas, Some(4 * 131_072));
        assert_eq!(next.pre_block_calls().len(), 2);
        assert_eq!(next.post_block_calls().len(), 2);
        assert_eq!(next.deposit_contract, Some(MAINNET_DEPOSIT_CONTRACT));
        assert_eq!(
            next.withdrawal_credits(),
            vec![(Address::repeat_byte(9), U256::from(3_000_000_000u64))]
        );

        let err = NextBlock::new(
            &parent,
            1,
            &BlockParams {
                timestamp: 1_000,
                ..BlockParams::default()
            },
            &ForkConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "invalid timestamp, parent 1000 given 1000");
        parent.header.base_fee_per_gas = None;
        assert_eq!(
            NextBlock::new(&parent, 1, &BlockParams::default(), &ForkConfig::default())
                .unwrap_err(),
            EnvError::PreLondon(100)
        );
    }
}
