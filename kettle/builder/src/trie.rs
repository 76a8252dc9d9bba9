//! The state root after a block built on forked state, from `eth_getProof` proofs.
//!
//! The kettle cannot hold the full state, so after executing a block it fetches
//! `eth_getProof(address, changed_slots, parent_block)` for every changed account and computes
//! the new state root from those proofs alone: the proofs reveal a sparse Merkle-Patricia trie
//! (the account trie and each changed account's storage trie), which is checked against the
//! parent's root, updated and re-hashed.
//!
//! A deletion that collapses a branch into a sibling the proofs only reference by hash cannot be
//! completed (the sibling may be a leaf or an extension whose key changes): that is reported as
//! [`TrieError::BlindedNode`], with the trie and path of the sibling, never answered with a
//! wrong root. A sibling that is inlined in its parent, or that another proof reveals, is no
//! problem: the proof of any key whose hashed path starts with the sibling's path (even a key
//! that does not exist, whose exclusion proof still walks that path) reveals it, and
//! [`find_probe`] searches for such a key, whose proof the caller adds before trying again.

mod sparse;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::Instant;

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rpc_types_eth::EIP1186AccountProofResponse;
use alloy_trie::{Nibbles, TrieAccount, EMPTY_ROOT_HASH};

use sparse::SparseTrie;

/// What a block did to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountUpdate {
    /// The account no longer exists (EIP-161 empty account touched, or self-destructed in the
    /// transaction that created it).
    Deleted,
    /// The account's new fields and changed storage slots.
    Updated {
        /// Nonce after the block.
        nonce: u64,
        /// Balance after the block.
        balance: U256,
        /// Code hash after the block (`KECCAK_EMPTY` for no code).
        code_hash: B256,
        /// Changed slots (slot number as a 32-byte big-endian key, not hashed) and their new
        /// values; a zero value deletes the slot.
        storage: BTreeMap<B256, U256>,
        /// The account was (re)created in the block, so its storage before is empty whatever
        /// the proof says.
        created: bool,
    },
}

/// Why the post-state root could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    /// A proof does not verify against the parent's root or is malformed.
    #[error("invalid proof for {0}")]
    InvalidProof(String),
    /// An update touches an account or slot no proof covers.
    #[error("no proof covers {0}")]
    MissingProof(String),
    /// Updating the trie needs a node the proofs only reference by hash (a deletion collapses
    /// a branch into a sibling the proofs did not reveal). A proof of a key found by
    /// [`find_probe`] reveals it.
    #[error("the proofs do not reveal the {0}, which a deletion needs")]
    BlindedNode(BlindedNode),
}

/// Which trie of the state a node is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrieId {
    /// The account trie (keys: `keccak256(address)`).
    Accounts,
    /// The storage trie of this account (keys: `keccak256(slot)`).
    Storage(Address),
}

impl fmt::Display for TrieId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrieId::Accounts => f.write_str("account trie"),
            TrieId::Storage(address) => write!(f, "storage trie of {address}"),
        }
    }
}

/// A node the proofs only reference by hash, and where it is: what a proof must pass through
/// to reveal it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlindedNode {
    /// The trie the node is in.
    pub trie: TrieId,
    /// The node's path from the root of its trie, in nibbles of the hashed key.
    pub path: Nibbles,
    /// The node's hash.
    pub hash: B256,
}

impl fmt::Display for BlindedNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {} at path 0x", self.hash)?;
        for nibble in self.path.iter() {
            write!(f, "{nibble:x}")?;
        }
        write!(f, " ({} nibbles) of the {}", self.path.len(), self.trie)
    }
}

/// A key whose `eth_getProof` proof (at the parent block) reveals a blinded node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Prove this account (no slots).
    Account(Address),
    /// Prove this slot of this account.
    Storage {
        /// The account whose storage trie holds the node.
        address: Address,
        /// The slot (32-byte big-endian key, not hashed).
        slot: B256,
    },
}

/// A key [`find_probe`] found, and how many keys it hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeFound {
    /// The key to prove.
    pub probe: Probe,
    /// Keys hashed to find it.
    pub attempts: u64,
}

/// Why [`find_probe`] found no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No key had the path as prefix within the attempts allowed.
    #[error("no key found in {attempts} attempts")]
    Budget {
        /// Keys hashed.
        attempts: u64,
    },
    /// The deadline passed during the search.
    #[error("deadline passed after {attempts} attempts")]
    Deadline {
        /// Keys hashed.
        attempts: u64,
    },
}

/// How many keys [`find_probe`] hashes between deadline checks.
const PROBE_DEADLINE_EVERY: u64 = 4096;

/// Searches for a key whose proof passes through `node`: a storage slot (a counter as a
/// 32-byte big-endian key) or an address (a counter in the address's last 8 bytes) whose
/// keccak256 starts with the node's path. A key that does not exist works as well as one that
/// does: its exclusion proof still walks the path. The expected work is `16^path.len()`
/// hashes, so the search gives up after `max_attempts` keys or at `deadline`.
pub fn find_probe(
    node: &BlindedNode,
    max_attempts: u64,
    deadline: Option<Instant>,
) -> Result<ProbeFound, ProbeError> {
    let probe = |counter: u64| match node.trie {
        TrieId::Accounts => {
            let mut address = Address::ZERO;
            address.0[12..].copy_from_slice(&counter.to_be_bytes());
            (Probe::Account(address), keccak256(address))
        }
        TrieId::Storage(address) => {
            let slot = B256::from(U256::from(counter));
            (Probe::Storage { address, slot }, keccak256(slot))
        }
    };
    for counter in 0..max_attempts {
        if counter % PROBE_DEADLINE_EVERY == PROBE_DEADLINE_EVERY - 1
            && deadline.is_some_and(|at| Instant::now() >= at)
        {
            return Err(ProbeError::Deadline { attempts: counter });
        }
        let (probe, hash) = probe(counter);
        if Nibbles::unpack_array(&hash.0).starts_with(&node.path) {
            return Ok(ProbeFound {
                probe,
                attempts: counter + 1,
            });
        }
    }
    Err(ProbeError::Budget {
        attempts: max_attempts,
    })
}

/// The state root after applying `updates` to the state whose root is `parent_state_root`.
/// `proofs` (as `eth_getProof` at the parent block returns them) must cover every updated
/// account and, for each, every changed storage slot.
///
/// Every proof is checked against the parent's root (storage proofs against the storage root
/// the account proof proves), including the account fields and slot values it claims. Proofs
/// of accounts that are not updated, and of slots that are not changed, only reveal nodes (as
/// the proofs of [`find_probe`]'s keys do); an account may have several proofs. Inline
/// nodes may be listed in a proof or not. Updates are applied before deletions, so a deletion
/// only needs a blinded sibling when the final trie really collapses into it.
pub fn state_root_after(
    parent_state_root: B256,
    proofs: &[EIP1186AccountProofResponse],
    updates: &BTreeMap<Address, AccountUpdate>,
) -> Result<B256, TrieError> {
    let mut state = SparseTrie::new(parent_state_root, TrieId::Accounts);
    let mut accounts = HashMap::<Address, ProvenAccount>::with_capacity(proofs.len());
    for response in proofs {
        let proven = prove_account(&mut state, response)?;
        let account = accounts.entry(response.address).or_insert(proven);
        prove_storage(account, response)?;
    }

    let mut deleted = Vec::new();
    for (address, update) in updates {
        let key = keccak256(address);
        let account = match accounts.get_mut(address) {
            Some(account) => account,
            // Nothing to prove in an empty state.
            None if state.started_empty() => accounts
                .entry(*address)
                .or_insert_with(|| ProvenAccount::absent(*address)),
            None => return Err(TrieError::MissingProof(format!("account {address}"))),
        };
        match update {
            AccountUpdate::Deleted => deleted.push(key),
            AccountUpdate::Updated {
                nonce,
                balance,
                code_hash,
                storage,
                created,
            } => {
                let storage_root = account.storage_root_after(address, storage, *created)?;
                let new = TrieAccount::new(*nonce, *balance, storage_root, *code_hash);
                state.insert(&key, alloy_rlp::encode(new))?;
            }
        }
    }
    for key in &deleted {
        state.remove(key)?;
    }
    Ok(state.root())
}

/// An account whose proof checked out: its storage trie, revealed from its storage proofs.
#[derive(Debug)]
struct ProvenAccount {
    /// The storage trie at the parent block.
    storage: SparseTrie,
    /// Hashed slots the storage proofs cover.
    proven_slots: HashSet<B256>,
}

impl ProvenAccount {
    fn absent(address: Address) -> Self {
        Self {
            storage: SparseTrie::new(EMPTY_ROOT_HASH, TrieId::Storage(address)),
            proven_slots: HashSet::new(),
        }
    }

    /// The storage root after writing `changes` (on empty storage if the account was
    /// `created`).
    fn storage_root_after(
        &mut self,
        address: &Address,
        changes: &BTreeMap<B256, U256>,
        created: bool,
    ) -> Result<B256, TrieError> {
        let mut fresh;
        let storage = if created {
            fresh = SparseTrie::new(EMPTY_ROOT_HASH, TrieId::Storage(*address));
            &mut fresh
        } else {
            &mut self.storage
        };
        if changes.is_empty() {
            return Ok(storage.root());
        }
        let hashed: Vec<(B256, &U256)> = changes
            .iter()
            .map(|(slot, value)| (keccak256(slot), value))
            .collect();
        if !storage.started_empty() {
            if let Some((slot, _)) = changes
                .keys()
                .zip(&hashed)
                .find(|(_, (key, _))| !self.proven_slots.contains(key))
            {
                return Err(TrieError::MissingProof(format!(
                    "storage slot {slot} of {address}"
                )));
            }
        }
        for (key, value) in hashed.iter().filter(|(_, value)| !value.is_zero()) {
            storage.insert(key, alloy_rlp::encode(value))?;
        }
        for (key, _) in hashed.iter().filter(|(_, value)| value.is_zero()) {
            storage.remove(key)?;
        }
        Ok(storage.root())
    }
}

/// Checks `response`'s account proof (and the account fields it claims) against `state` and
/// reveals it.
fn prove_account(
    state: &mut SparseTrie,
    response: &EIP1186AccountProofResponse,
) -> Result<ProvenAccount, TrieError> {
    let address = response.address;
    let invalid = |reason: &dyn std::fmt::Display| {
        TrieError::InvalidProof(format!("account {address}: {reason}"))
    };
    let leaf = state
        .reveal(&keccak256(address), &response.account_proof)
        .map_err(|err| invalid(&err))?;
    let storage_root = match leaf {
        Some(leaf) => {
            let account: TrieAccount =
                alloy_rlp::decode_exact(&leaf).map_err(|err| invalid(&err))?;
            let claimed = TrieAccount::new(
                response.nonce,
                response.balance,
                response.storage_hash,
                response.code_hash,
            );
            if account != claimed {
                return Err(invalid(&"claimed fields differ from the proven account"));
            }
            account.storage_root
        }
        None => {
            // Servers differ on the code and storage hashes they give absent accounts.
            if response.nonce != 0
                || !response.balance.is_zero()
                || ![EMPTY_ROOT_HASH, B256::ZERO].contains(&response.storage_hash)
            {
                return Err(invalid(&"claimed fields for an account the proof excludes"));
            }
            EMPTY_ROOT_HASH
        }
    };
    Ok(ProvenAccount {
        storage: SparseTrie::new(storage_root, TrieId::Storage(address)),
        proven_slots: HashSet::new(),
    })
}

/// Checks `response`'s storage proofs (and the values they claim) against `account`'s storage
/// root and reveals them.
fn prove_storage(
    account: &mut ProvenAccount,
    response: &EIP1186AccountProofResponse,
) -> Result<(), TrieError> {
    for proof in &response.storage_proof {
        let slot = proof.key.as_b256();
        let invalid = |reason: &dyn std::fmt::Display| {
            TrieError::InvalidProof(format!(
                "storage slot {slot} of {}: {reason}",
                response.address
            ))
        };
        let key = keccak256(slot);
        let value = match account
            .storage
            .reveal(&key, &proof.proof)
            .map_err(|err| invalid(&err))?
        {
            Some(leaf) => alloy_rlp::decode_exact::<U256>(&leaf).map_err(|err| invalid(&err))?,
            None => U256::ZERO,
        };
        if value != proof.value {
            return Err(invalid(&"claimed value differs from the proven value"));
        }
        account.proven_slots.insert(key);
    }
    Ok(())
}
