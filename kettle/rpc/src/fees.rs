//! Fee suggestions (`eth_gasPrice`, `eth_maxPriorityFeePerGas`) and `eth_feeHistory`.
//!
//! The priority fee oracle follows geth's: the 60th percentile of the three lowest tips of
//! each of the last 20 blocks, ignoring tips below 2 wei, capped at 500 gwei, with a
//! configured default when recent blocks carry no transactions.

use std::sync::Mutex;

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::B256;
use alloy_rpc_types_eth::FeeHistory;
use kettle_chain::{Chain, SealedBlock};

use crate::{
    error::{EthApiError, EthResult},
    types::ChainTx,
};

/// Blocks the oracle samples.
const ORACLE_BLOCKS: u64 = 20;
/// Lowest tips taken from each sampled block.
const ORACLE_SAMPLES_PER_BLOCK: usize = 3;
/// Percentile of the sampled tips that is suggested.
const ORACLE_PERCENTILE: usize = 60;
/// Tips below this are ignored (geth's `IgnorePrice`).
const ORACLE_IGNORE_PRICE: u128 = 2;
/// Highest tip ever suggested (geth's `MaxPrice`).
const ORACLE_MAX_PRICE: u128 = 500_000_000_000;

/// Suggests priority fees from recent blocks, cached per head block.
#[derive(Debug)]
pub(crate) struct GasOracle {
    default_tip: u128,
    cache: Mutex<Option<(B256, u128)>>,
}

impl GasOracle {
    pub(crate) fn new(default_tip: u128) -> Self {
        Self {
            default_tip,
            cache: Mutex::new(None),
        }
    }

    /// The suggested priority fee per gas.
    pub(crate) fn suggested_tip(&self, chain: &Chain) -> EthResult<u128> {
        let (head_hash, head) = chain.head();
        if let Some((hash, tip)) = *self.cache.lock().unwrap_or_else(|p| p.into_inner()) {
            if hash == head_hash {
                return Ok(tip);
            }
        }
        let mut tips = Vec::new();
        let first = head.number.saturating_sub(ORACLE_BLOCKS - 1);
        for number in first..=head.number {
            let Some(block) = chain.block_by_number(number)? else {
                continue;
            };
            let base_fee = block.header.base_fee_per_gas.unwrap_or(0);
            let mut block_tips = Vec::new();
            for tx in &block.transactions {
                if tx.sender == block.header.beneficiary {
                    continue;
                }
                if let Some(tip) = ChainTx::decode(tx)?.effective_tip(base_fee) {
                    if tip >= ORACLE_IGNORE_PRICE {
                        block_tips.push(tip);
                    }
                }
            }
            block_tips.sort_unstable();
            tips.extend(block_tips.into_iter().take(ORACLE_SAMPLES_PER_BLOCK));
        }
        let tip = if tips.is_empty() {
            self.default_tip
        } else {
            tips.sort_unstable();
            tips[(tips.len() - 1) * ORACLE_PERCENTILE / 100]
        }
        .min(ORACLE_MAX_PRICE);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((head_hash, tip));
        Ok(tip)
    }
}

/// `eth_feeHistory`: base fees (one more than `block_count`: the next block's), gas used
/// ratios and, if asked, tips at the given gas-weighted percentiles.
pub(crate) fn fee_history(
    chain: &Chain,
    block_count: u64,
    newest: BlockNumberOrTag,
    percentiles: Option<&[f64]>,
    max_blocks: u64,
) -> EthResult<FeeHistory> {
    if let Some(p) = percentiles {
        validate_percentiles(p)?;
    }
    if block_count == 0 {
        return Ok(FeeHistory::default());
    }
    let (_, head) = chain.head();
    let newest = match newest {
        BlockNumberOrTag::Number(n) if n > head.number => {
            return Err(EthApiError::Server(format!(
                "request beyond head block: requested {n}, head {}",
                head.number
            )))
        }
        BlockNumberOrTag::Number(n) => n,
        BlockNumberOrTag::Earliest => 0,
        _ => head.number,
    };
    let count = block_count.min(max_blocks).min(newest + 1);
    let oldest = newest + 1 - count;
    let with_rewards = percentiles.is_some_and(|p| !p.is_empty());

    let mut history = FeeHistory {
        oldest_block: oldest,
        reward: with_rewards.then(Vec::new),
        ..Default::default()
    };
    for number in oldest..=newest {
        let header = chain
            .header_by_number(number)?
            .ok_or(EthApiError::HeaderNotFound)?;
        history
            .base_fee_per_gas
            .push(u128::from(header.base_fee_per_gas.unwrap_or(0)));
        history.gas_used_ratio.push(if header.gas_limit == 0 {
            0.0
        } else {
            header.gas_used as f64 / header.gas_limit as f64
        });
        if let (Some(rewards), Some(p)) = (history.reward.as_mut(), percentiles) {
            let block = chain
                .block_by_number(number)?
                .ok_or(EthApiError::HeaderNotFound)?;
            rewards.push(block_rewards(&block, p)?);
        }
    }
    let next_base_fee = if newest == head.number {
        chain.next_base_fee()
    } else {
        chain
            .header_by_number(newest + 1)?
            .and_then(|h| h.base_fee_per_gas)
            .unwrap_or(0)
    };
    history.base_fee_per_gas.push(u128::from(next_base_fee));
    Ok(history)
}

fn validate_percentiles(percentiles: &[f64]) -> EthResult<()> {
    for (i, p) in percentiles.iter().enumerate() {
        if !(0.0..=100.0).contains(p) {
            return Err(EthApiError::InvalidParams(format!(
                "invalid reward percentile: {p}"
            )));
        }
        if i > 0 && percentiles[i - 1] > *p {
            return Err(EthApiError::InvalidParams(format!(
                "invalid reward percentile: #{}:{} > #{i}:{p}",
                i - 1,
                percentiles[i - 1]
            )));
        }
    }
    Ok(())
}

/// Tips at the gas-weighted `percentiles` of one block (as geth computes them).
fn block_rewards(block: &SealedBlock, percentiles: &[f64]) -> EthResult<Vec<u128>> {
    if block.transactions.is_empty() {
        return Ok(vec![0; percentiles.len()]);
    }
    let base_fee = block.header.base_fee_per_gas.unwrap_or(0);
    let mut previous = 0u64;
    let mut sorted = Vec::with_capacity(block.transactions.len());
    for (tx, receipt) in block.transactions.iter().zip(&block.receipts) {
        let gas_used = receipt.cumulative_gas_used.saturating_sub(previous);
        previous = receipt.cumulative_gas_used;
        let tip = ChainTx::decode(tx)?.effective_tip(base_fee).unwrap_or(0);
        sorted.push((tip, gas_used));
    }
    if sorted.is_empty() {
        // receipts missing for the block's transactions: nothing to weigh
        return Ok(vec![0; percentiles.len()]);
    }
    sorted.sort_unstable_by_key(|(tip, _)| *tip);
    let mut rewards = Vec::with_capacity(percentiles.len());
    let mut index = 0;
    let mut sum = sorted[0].1;
    for p in percentiles {
        let threshold = (block.header.gas_used as f64 * p / 100.0) as u64;
        while sum < threshold && index < sorted.len() - 1 {
            index += 1;
            sum += sorted[index].1;
        }
        rewards.push(sorted[index].0);
    }
    Ok(rewards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_must_be_sorted_and_in_range() {
        assert!(validate_percentiles(&[]).is_ok());
        assert!(validate_percentiles(&[0.0, 50.0, 50.0, 100.0]).is_ok());
        assert!(validate_percentiles(&[101.0]).is_err());
        assert!(validate_percentiles(&[-1.0]).is_err());
        assert!(validate_percentiles(&[f64::NAN]).is_err());
        assert!(validate_percentiles(&[60.0, 10.0]).is_err());
    }
}
