//! Importing blocks sealed by the cluster's producer (verified by re-execution), and serving
//! stored blocks in wire form for catch-up.

use std::sync::Arc;

use alloy_consensus::{constants::EMPTY_OMMER_ROOT_HASH, proofs};
use alloy_primitives::{Address, B256, U256};
use kettle_primitives::SuaveTxEnvelope;
use tracing::{debug, info, info_span, warn};

use super::{read_header, BlockCommit, Chain, StateRoot};
use crate::{
    execute::{self, BlockContext},
    pool::TxFacts,
    seal,
    types::{SealedBlock, StoredTx},
    wire::WireBlock,
    ChainError, ImportError,
};

/// What [`Chain::import_block`] did with a valid block.
#[derive(Debug, Clone)]
pub enum ImportOutcome {
    /// The block is already in the chain; nothing was written.
    Known,
    /// The block was verified and committed as the new head.
    Imported(Arc<SealedBlock>),
}

/// `Ok` when the block's `got` equals the locally computed `expected`.
fn check<T: PartialEq + std::fmt::Debug>(
    field: &'static str,
    expected: T,
    got: T,
) -> Result<(), ImportError> {
    if expected == got {
        Ok(())
    } else {
        Err(ImportError::mismatch(field, expected, got))
    }
}

impl Chain {
    /// Verifies a block sealed by `producer` and commits it as the new head.
    ///
    /// Checks, in order: the seal recovers to `producer`; a block at or below the head is
    /// [`ImportOutcome::Known`] if it is the stored one and a [`ImportError::Conflict`]
    /// otherwise; a block beyond head + 1 is a [`ImportError::Gap`]; the parent is the
    /// head; the timestamp is not before the parent's nor more than
    /// [`super::MAX_FUTURE_BLOCK_SECS`] ahead of the local clock; gas limit, base fee, difficulty and ommers
    /// hash are what [`Chain::produce_block`] sets; the transactions root matches the body.
    /// Then every transaction is re-executed on the head state with the header's timestamp
    /// and beneficiary (none may be invalid or left out), and gas used, receipts root, logs
    /// bloom, state root and finally the whole header must equal the local result.
    ///
    /// On success the block is committed exactly as a produced one (one durable write),
    /// announced to [`Chain::subscribe_blocks`], and its transactions, plus any pending ones
    /// whose nonce fell below their sender's, leave the mempool. A refused block changes
    /// nothing. Runs under the production lock, so it never interleaves with
    /// [`Chain::produce_block`] or mempool admission.
    pub fn import_block(
        &self,
        block: WireBlock,
        producer: Address,
    ) -> Result<ImportOutcome, ImportError> {
        let WireBlock {
            header,
            transactions,
        } = block;
        let hash = header.hash_slow();
        let number = header.number;
        let span = info_span!("import_block", number, %hash, txs = transactions.len());
        let _enter = span.enter();

        let signer = seal::seal_signer(&header)?;
        if signer != producer {
            return Err(ImportError::WrongProducer {
                expected: producer,
                got: signer,
            });
        }

        // Only block builders move the head: it stays put until this import commits.
        let _build = self.build.lock().unwrap_or_else(|p| p.into_inner());
        let (head_hash, head) = self.head();
        if number <= head.number {
            let ours = read_header(&self.db, number)?
                .ok_or_else(|| ChainError::corrupt("headers", format!("block {number} missing")))?
                .hash_slow();
            if ours == hash {
                debug!("block already known");
                return Ok(ImportOutcome::Known);
            }
            return Err(ImportError::Conflict {
                number,
                ours,
                theirs: hash,
            });
        }
        if number - head.number > 1 {
            return Err(ImportError::Gap {
                head: head.number,
                number,
            });
        }
        if header.parent_hash != head_hash {
            return Err(ImportError::WrongParent {
                expected: head_hash,
                got: header.parent_hash,
            });
        }
        if header.timestamp < head.timestamp {
            return Err(ImportError::Timestamp {
                parent: head.timestamp,
                got: header.timestamp,
            });
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if header.timestamp > now.saturating_add(super::MAX_FUTURE_BLOCK_SECS) {
            return Err(ImportError::FutureTimestamp {
                got: header.timestamp,
                now,
                allowed: super::MAX_FUTURE_BLOCK_SECS,
            });
        }
        let chain_id = self.chain_id();
        let ctx = BlockContext::child_of(
            &head,
            header.timestamp,
            header.beneficiary,
            chain_id,
            self.spec.is_london(),
        );
        check("gas_limit", ctx.gas_limit, header.gas_limit)?;
        check(
            "base_fee_per_gas",
            self.spec.is_london().then_some(ctx.base_fee),
            header.base_fee_per_gas,
        )?;
        check("difficulty", U256::from(1u64), header.difficulty)?;
        check("ommers_hash", EMPTY_OMMER_ROOT_HASH, header.ommers_hash)?;
        let transactions_root = proofs::ordered_trie_root_with_encoder(&transactions, |tx, buf| {
            buf.extend_from_slice(tx)
        });
        check(
            "transactions_root",
            transactions_root,
            header.transactions_root,
        )?;

        let mut txs = Vec::with_capacity(transactions.len());
        for (index, raw) in transactions.into_iter().enumerate() {
            let invalid = |reason: String| ImportError::InvalidTransaction { index, reason };
            let env = SuaveTxEnvelope::decode(&raw).map_err(|e| invalid(e.to_string()))?;
            TxFacts::of(&env, chain_id).map_err(|e| invalid(e.to_string()))?;
            let sender = env
                .recover_signer(chain_id)
                .map_err(|e| invalid(e.to_string()))?;
            txs.push(StoredTx::new(sender, raw));
        }
        let hashes: Vec<B256> = txs.iter().map(StoredTx::hash).collect();

        let view = self.state();
        let executed = execute::execute(&view, &ctx, txs)?;
        if executed.transactions.len() != hashes.len() {
            let index = hashes
                .iter()
                .enumerate()
                .find(|(i, h)| executed.transactions.get(*i).map(StoredTx::hash) != Some(**h))
                .map_or(hashes.len(), |(i, _)| i);
            let reason = executed
                .rejected
                .iter()
                .find(|(h, _)| Some(h) == hashes.get(index))
                .map_or_else(
                    || "does not fit in the block gas limit".to_string(),
                    |(_, r)| r.clone(),
                );
            return Err(ImportError::InvalidTransaction { index, reason });
        }
        let StateRoot {
            root: state_root,
            accounts,
            tries,
        } = self.state_root_after(&view, head.state_root, &executed.changes)?;
        drop(view);

        let mut expected = self.assemble_header(head_hash, &ctx, state_root, &executed);
        check("gas_used", expected.gas_used, header.gas_used)?;
        check(
            "receipts_root",
            expected.receipts_root,
            header.receipts_root,
        )?;
        check("logs_bloom", expected.logs_bloom, header.logs_bloom)?;
        check("state_root", expected.state_root, header.state_root)?;
        expected.extra_data = header.extra_data.clone();
        if expected != header {
            return Err(ImportError::mismatch("header", &expected, &header));
        }

        let guard = self.produce.lock().unwrap_or_else(|p| p.into_inner());
        let block = self.commit_block(
            guard,
            BlockCommit {
                hash,
                header,
                transactions: executed.transactions,
                receipts: executed.receipts,
                changes: executed.changes,
                accounts,
                tries,
                dropped: Vec::new(),
            },
        )?;
        info!(
            txs = block.transactions.len(),
            gas_used = block.header.gas_used,
            "imported block"
        );
        Ok(ImportOutcome::Imported(block))
    }

    /// Stored blocks `from..=head` in wire form ([`WireBlock::encode`]), for a kettle that
    /// is catching up: at most `max` blocks and at most `max_bytes` in total, but at least
    /// one block when `max > 0` and `from <= head` (even if it alone exceeds `max_bytes`).
    /// The genesis block is never sent (every kettle has it from its spec), so `from = 0`
    /// starts at block 1.
    pub fn wire_blocks(
        &self,
        from: u64,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        let head = self.head().1.number;
        let span = info_span!("wire_blocks", from, max, max_bytes, head);
        let _enter = span.enter();
        let mut out = Vec::new();
        let mut total = 0usize;
        let mut number = from.max(1);
        while number <= head && out.len() < max {
            let header = read_header(&self.db, number)?
                .ok_or_else(|| ChainError::corrupt("headers", format!("block {number} missing")))?;
            let transactions = self
                .body(number)?
                .into_iter()
                .map(StoredTx::into_raw)
                .collect();
            let encoded = WireBlock {
                header,
                transactions,
            }
            .encode();
            if !out.is_empty() && total.saturating_add(encoded.len()) > max_bytes {
                break;
            }
            total = total.saturating_add(encoded.len());
            out.push(encoded);
            match number.checked_add(1) {
                Some(next) => number = next,
                None => break,
            }
        }
        if out.len() == 1 && total > max_bytes {
            warn!(
                bytes = total,
                "serving one block larger than the requested byte budget"
            );
        }
        debug!(blocks = out.len(), bytes = total, "serving blocks");
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
