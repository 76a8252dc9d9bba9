//! `eth_getLogs`: logs of a block range or one block, filtered by address and topics.
//!
//! The header bloom decides which blocks are read at all; the range and the number of
//! results are capped ([`RpcConfig::max_logs_block_range`](crate::RpcConfig) and
//! [`RpcConfig::max_logs`](crate::RpcConfig)).

use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log};
use kettle_chain::{Chain, SealedBlock};

use crate::{
    error::{EthApiError, EthResult},
    types::block_logs,
};

/// Limits of one log query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogLimits {
    pub(crate) max_block_range: u64,
    pub(crate) max_logs: usize,
}

/// Logs matching `filter`.
pub(crate) fn get_logs(chain: &Chain, filter: &Filter, limits: LogLimits) -> EthResult<Vec<Log>> {
    let mut out = Vec::new();
    match filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let number = chain
                .block_number(&hash)?
                .ok_or(EthApiError::UnknownBlock)?;
            let block = chain
                .block_by_number(number)?
                .ok_or(EthApiError::UnknownBlock)?;
            push_matching(&block, filter, &mut out, limits.max_logs)?;
        }
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let head = chain.head().1.number;
            let resolve = |b: Option<BlockNumberOrTag>| match b {
                Some(BlockNumberOrTag::Number(n)) => n,
                Some(BlockNumberOrTag::Earliest) => 0,
                _ => head,
            };
            let (from, to) = (resolve(from_block), resolve(to_block));
            if from > to {
                return Err(EthApiError::Server("invalid block range params".into()));
            }
            if from > head {
                return Ok(out);
            }
            let to = to.min(head);
            if to - from >= limits.max_block_range {
                return Err(EthApiError::LimitExceeded(format!(
                    "query exceeds max block range {}",
                    limits.max_block_range
                )));
            }
            for number in from..=to {
                let Some(header) = chain.header_by_number(number)? else {
                    continue;
                };
                if !filter.matches_bloom(header.logs_bloom) {
                    continue;
                }
                if let Some(block) = chain.block_by_number(number)? {
                    push_matching(&block, filter, &mut out, limits.max_logs)?;
                }
            }
        }
    }
    Ok(out)
}

/// Appends the logs of `block` that match `filter`, failing once `max` is exceeded.
fn push_matching(
    block: &SealedBlock,
    filter: &Filter,
    out: &mut Vec<Log>,
    max: usize,
) -> EthResult<()> {
    if !filter.matches_bloom(block.header.logs_bloom) {
        return Ok(());
    }
    for log in block_logs(block).into_iter().flatten() {
        if filter.matches(&log.inner) {
            if out.len() >= max {
                return Err(EthApiError::LimitExceeded(format!(
                    "query exceeds max results {max}"
                )));
            }
            out.push(log);
        }
    }
    Ok(())
}

/// The logs of a new block that match a subscription's filter (block range ignored).
pub(crate) fn matching_logs(block: &SealedBlock, filter: &Filter) -> Vec<Log> {
    if !filter.matches_bloom(block.header.logs_bloom) {
        return Vec::new();
    }
    block_logs(block)
        .into_iter()
        .flatten()
        .filter(|log| filter.matches(&log.inner))
        .collect()
}
