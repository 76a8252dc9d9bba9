//! Sparse-trie roots against from-scratch roots of random full states.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rpc_types_eth::{EIP1186AccountProofResponse, EIP1186StorageProof};
use alloy_trie::{
    proof::ProofRetainer, HashBuilder, Nibbles, TrieAccount, EMPTY_ROOT_HASH, KECCAK_EMPTY,
};
use proptest::prelude::*;

use super::sparse::SparseTrie;
use super::{
    find_probe, state_root_after, AccountUpdate, BlindedNode, Probe, ProbeError, ProbeFound,
    TrieError, TrieId,
};

/// A small deterministic generator (splitmix64) for seeded cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn b256(&mut self) -> B256 {
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        B256::from(bytes)
    }

    fn address(&mut self) -> Address {
        Address::from_slice(&self.b256()[..20])
    }

    /// A non-zero value, often small.
    fn value(&mut self) -> U256 {
        if self.chance(50) {
            U256::from(self.below(1000) + 1)
        } else {
            U256::from_be_bytes(self.b256().0) | U256::from(1)
        }
    }
}

/// The full trie over `entries` (keys already hashed): its root and the proofs of `targets`.
/// `inline_listed` keeps inline nodes as separate proof entries (as alloy-trie's retainer does);
/// otherwise they are left out (as geth does).
fn trie_with_proofs(
    entries: &BTreeMap<B256, Vec<u8>>,
    targets: &[B256],
    inline_listed: bool,
) -> (B256, HashMap<B256, Vec<Bytes>>) {
    let retainer = ProofRetainer::new(targets.iter().map(Nibbles::unpack).collect());
    let mut builder = HashBuilder::default().with_proof_retainer(retainer);
    for (key, value) in entries {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    let root = builder.root();
    let nodes = builder.take_proof_nodes();
    let proofs = targets
        .iter()
        .map(|target| {
            let proof = nodes
                .matching_nodes_sorted(&Nibbles::unpack(target))
                .into_iter()
                .filter(|(path, node)| inline_listed || path.is_empty() || node.len() >= 32)
                .map(|(_, node)| node)
                .collect();
            (*target, proof)
        })
        .collect();
    (root, proofs)
}

fn trie_root(entries: &BTreeMap<B256, Vec<u8>>) -> B256 {
    trie_with_proofs(entries, &[], false).0
}

#[derive(Debug, Clone)]
struct Account {
    nonce: u64,
    balance: U256,
    code_hash: B256,
    storage: BTreeMap<B256, U256>,
}

type State = BTreeMap<Address, Account>;

fn storage_entries(storage: &BTreeMap<B256, U256>) -> BTreeMap<B256, Vec<u8>> {
    storage
        .iter()
        .filter(|(_, value)| !value.is_zero())
        .map(|(slot, value)| (keccak256(slot), alloy_rlp::encode(value)))
        .collect()
}

fn trie_account(account: &Account) -> TrieAccount {
    let storage_root = trie_root(&storage_entries(&account.storage));
    TrieAccount::new(
        account.nonce,
        account.balance,
        storage_root,
        account.code_hash,
    )
}

fn account_entries(state: &State) -> BTreeMap<B256, Vec<u8>> {
    state
        .iter()
        .map(|(address, account)| (keccak256(address), alloy_rlp::encode(trie_account(account))))
        .collect()
}

fn state_root(state: &State) -> B256 {
    trie_root(&account_entries(state))
}

/// `eth_getProof` responses at `state` for each address and its slots.
fn get_proofs(
    state: &State,
    requests: &BTreeMap<Address, BTreeSet<B256>>,
    inline_listed: bool,
) -> Vec<EIP1186AccountProofResponse> {
    get_proofs_with(state, &account_entries(state), requests, inline_listed)
}

/// [`get_proofs`] with the state's account trie entries already computed.
fn get_proofs_with(
    state: &State,
    entries: &BTreeMap<B256, Vec<u8>>,
    requests: &BTreeMap<Address, BTreeSet<B256>>,
    inline_listed: bool,
) -> Vec<EIP1186AccountProofResponse> {
    let keys: Vec<B256> = requests.keys().map(keccak256).collect();
    let (_, account_proofs) = trie_with_proofs(entries, &keys, inline_listed);
    requests
        .iter()
        .map(|(address, slots)| {
            let account = state.get(address);
            let storage = account.map(|a| a.storage.clone()).unwrap_or_default();
            let slot_keys: Vec<B256> = slots.iter().map(keccak256).collect();
            let (storage_hash, storage_proofs) =
                trie_with_proofs(&storage_entries(&storage), &slot_keys, inline_listed);
            EIP1186AccountProofResponse {
                address: *address,
                balance: account.map_or(U256::ZERO, |a| a.balance),
                code_hash: account.map_or(B256::ZERO, |a| a.code_hash),
                nonce: account.map_or(0, |a| a.nonce),
                storage_hash,
                account_proof: account_proofs[&keccak256(address)].clone(),
                storage_proof: slots
                    .iter()
                    .map(|slot| EIP1186StorageProof {
                        key: (*slot).into(),
                        value: storage.get(slot).copied().unwrap_or_default(),
                        proof: storage_proofs[&keccak256(slot)].clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn random_state(rng: &mut Rng) -> State {
    let accounts = 50 + rng.below(451);
    (0..accounts)
        .map(|_| {
            let storage = if rng.chance(30) {
                (0..1 + rng.below(50))
                    .map(|_| (slot(rng), rng.value()))
                    .collect()
            } else {
                BTreeMap::new()
            };
            let code_hash = if storage.is_empty() {
                KECCAK_EMPTY
            } else {
                rng.b256()
            };
            let account = Account {
                nonce: rng.below(100),
                balance: rng.value(),
                code_hash,
                storage,
            };
            (rng.address(), account)
        })
        .collect()
}

/// A slot number, often small (as Solidity lays them out).
fn slot(rng: &mut Rng) -> B256 {
    if rng.chance(50) {
        B256::from(U256::from(rng.below(64)))
    } else {
        rng.b256()
    }
}

/// Random updates on `state`: modified, new, created and deleted accounts, and inserted,
/// modified and deleted slots. Returns the updates, the state after them, the proof requests
/// (with some unchanged accounts and slots) and whether anything was deleted.
fn random_updates(
    rng: &mut Rng,
    state: &State,
) -> (
    BTreeMap<Address, AccountUpdate>,
    State,
    BTreeMap<Address, BTreeSet<B256>>,
    bool,
) {
    let existing: Vec<Address> = state.keys().copied().collect();
    let pick = |rng: &mut Rng| existing[rng.below(existing.len() as u64) as usize];
    let mut updates = BTreeMap::new();
    let mut after = state.clone();
    let mut requests: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
    let mut deletes = false;
    for _ in 0..1 + rng.below(20) {
        let roll = rng.below(100);
        let address = if roll < 70 { pick(rng) } else { rng.address() };
        if updates.contains_key(&address) {
            continue;
        }
        let old = state.get(&address);
        let update = if roll < 15 || (roll >= 90 && rng.chance(30)) {
            deletes |= old.is_some();
            after.remove(&address);
            AccountUpdate::Deleted
        } else {
            let created = old.is_none() || rng.chance(10);
            let mut account = match (old, created) {
                (Some(old), false) => old.clone(),
                _ => Account {
                    nonce: 0,
                    balance: U256::ZERO,
                    code_hash: KECCAK_EMPTY,
                    storage: BTreeMap::new(),
                },
            };
            account.nonce += rng.below(3);
            account.balance = if rng.chance(80) {
                rng.value()
            } else {
                account.balance
            };
            if created && rng.chance(50) {
                account.code_hash = rng.b256();
            }
            let mut changes = BTreeMap::new();
            let old_slots: Vec<B256> = account.storage.keys().copied().collect();
            for _ in 0..rng.below(8) {
                let (key, value) = match rng.below(3) {
                    0 if !old_slots.is_empty() => {
                        deletes |= !created;
                        (
                            old_slots[rng.below(old_slots.len() as u64) as usize],
                            U256::ZERO,
                        )
                    }
                    1 if !old_slots.is_empty() => (
                        old_slots[rng.below(old_slots.len() as u64) as usize],
                        rng.value(),
                    ),
                    _ => (slot(rng), rng.value()),
                };
                changes.insert(key, value);
                if value.is_zero() {
                    account.storage.remove(&key);
                } else {
                    account.storage.insert(key, value);
                }
            }
            let request = requests.entry(address).or_default();
            if !created {
                request.extend(changes.keys().copied());
            }
            after.insert(address, account.clone());
            AccountUpdate::Updated {
                nonce: account.nonce,
                balance: account.balance,
                code_hash: account.code_hash,
                storage: changes,
                created,
            }
        };
        requests.entry(address).or_default();
        updates.insert(address, update);
    }
    // Proofs for untouched accounts and slots, which may reveal siblings.
    for _ in 0..rng.below(10) {
        let address = pick(rng);
        let slots: Vec<B256> = state[&address].storage.keys().copied().collect();
        let request = requests.entry(address).or_default();
        if !slots.is_empty() && rng.chance(50) {
            request.insert(slots[rng.below(slots.len() as u64) as usize]);
        }
    }
    (updates, after, requests, deletes)
}

/// The keys next to `key` in `keys` (sorted), which are often its siblings in the trie.
fn neighbours<T: Copy>(keys: &BTreeMap<B256, T>, key: B256) -> impl Iterator<Item = T> + '_ {
    let before = keys.range(..key).next_back();
    let after = keys.range(key..).find(|(k, _)| **k != key);
    before.into_iter().chain(after).map(|(_, value)| *value)
}

#[test]
fn random_state_updates_match_full_recompute() {
    let (mut exact, mut exact_with_deletes, mut blinded) = (0, 0, 0);
    for seed in 0..60 {
        let mut rng = Rng(seed);
        let state = random_state(&mut rng);
        let (updates, after, mut requests, deletes) = random_updates(&mut rng, &state);
        let entries = account_entries(&state);
        let mut after_entries = entries.clone();
        for address in updates.keys() {
            match after.get(address) {
                Some(account) => after_entries
                    .insert(keccak256(address), alloy_rlp::encode(trie_account(account))),
                None => after_entries.remove(&keccak256(address)),
            };
        }
        // Half the time, also prove the neighbours of deleted accounts and slots, which reveals
        // the siblings a deletion may collapse into.
        if rng.chance(50) {
            let hashed: BTreeMap<B256, Address> =
                state.keys().map(|a| (keccak256(a), *a)).collect();
            for (address, update) in &updates {
                let Some(old) = state.get(address) else {
                    continue;
                };
                let slots: BTreeMap<B256, B256> = old
                    .storage
                    .keys()
                    .map(|slot| (keccak256(slot), *slot))
                    .collect();
                match update {
                    AccountUpdate::Deleted => {
                        for neighbour in neighbours(&hashed, keccak256(address)) {
                            requests.entry(neighbour).or_default();
                        }
                    }
                    AccountUpdate::Updated { storage, .. } => {
                        let zeroed = storage.iter().filter(|(_, v)| v.is_zero());
                        for (slot, _) in zeroed {
                            let more: Vec<B256> = neighbours(&slots, keccak256(slot)).collect();
                            requests.entry(*address).or_default().extend(more);
                        }
                    }
                }
            }
        }
        let proofs = get_proofs_with(&state, &entries, &requests, rng.chance(50));
        match state_root_after(trie_root(&entries), &proofs, &updates) {
            Ok(root) => {
                assert_eq!(root, trie_root(&after_entries), "seed {seed}");
                exact += 1;
                exact_with_deletes += usize::from(deletes);
            }
            Err(TrieError::BlindedNode(_)) if deletes => blinded += 1,
            Err(err) => panic!("seed {seed}: {err}"),
        }
    }
    eprintln!("{exact} exact ({exact_with_deletes} with deletions), {blinded} blinded");
    assert!(
        exact >= 30 && exact_with_deletes >= 10 && blinded > 0,
        "{exact} exact ({exact_with_deletes} with deletions), {blinded} blinded"
    );
}

#[test]
fn empty_updates_give_parent_root() {
    let mut rng = Rng(7);
    let state = random_state(&mut rng);
    let root = state_root(&state);
    assert_eq!(state_root_after(root, &[], &BTreeMap::new()), Ok(root));
    let requests = state
        .keys()
        .take(3)
        .map(|a| (*a, BTreeSet::new()))
        .collect();
    let proofs = get_proofs(&state, &requests, false);
    assert_eq!(state_root_after(root, &proofs, &BTreeMap::new()), Ok(root));
}

fn updated(nonce: u64, storage: BTreeMap<B256, U256>, created: bool) -> AccountUpdate {
    AccountUpdate::Updated {
        nonce,
        balance: U256::from(1),
        code_hash: KECCAK_EMPTY,
        storage,
        created,
    }
}

/// A state with an account with storage, and an update of one of its slots.
fn storage_case() -> (State, Address, B256) {
    let mut rng = Rng(11);
    let mut state = random_state(&mut rng);
    let address = *state.keys().next().unwrap();
    state.get_mut(&address).unwrap().storage = (0..20)
        .map(|i| (B256::from(U256::from(i)), U256::from(i + 1)))
        .collect();
    (state, address, B256::from(U256::from(3)))
}

#[test]
fn update_without_proof_is_missing_proof() {
    let (state, address, slot) = storage_case();
    let root = state_root(&state);
    let other = *state.keys().nth(1).unwrap();
    let proofs = get_proofs(&state, &BTreeMap::from([(other, BTreeSet::new())]), false);
    let updates = BTreeMap::from([(address, updated(1, BTreeMap::new(), false))]);
    assert!(matches!(
        state_root_after(root, &proofs, &updates),
        Err(TrieError::MissingProof(_))
    ));

    // The account is proven, the changed slot is not.
    let proofs = get_proofs(&state, &BTreeMap::from([(address, BTreeSet::new())]), false);
    let updates = BTreeMap::from([(
        address,
        updated(1, BTreeMap::from([(slot, U256::from(9))]), false),
    )]);
    assert!(matches!(
        state_root_after(root, &proofs, &updates),
        Err(TrieError::MissingProof(_))
    ));

    // A created account needs no storage proofs.
    let updates = BTreeMap::from([(
        address,
        updated(1, BTreeMap::from([(slot, U256::from(9))]), true),
    )]);
    let mut after = state.clone();
    let account = after.get_mut(&address).unwrap();
    account.storage = BTreeMap::from([(slot, U256::from(9))]);
    (account.nonce, account.balance, account.code_hash) = (1, U256::from(1), KECCAK_EMPTY);
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Ok(state_root(&after))
    );
}

#[test]
fn tampered_or_mismatched_proofs_are_invalid() {
    let (state, address, slot) = storage_case();
    let root = state_root(&state);
    let requests = BTreeMap::from([(address, BTreeSet::from([slot]))]);
    let good = get_proofs(&state, &requests, false);
    let updates = BTreeMap::from([(
        address,
        updated(5, BTreeMap::from([(slot, U256::from(9))]), false),
    )]);
    assert!(state_root_after(root, &good, &updates).is_ok());

    let invalid = |proofs: &[EIP1186AccountProofResponse]| {
        matches!(
            state_root_after(root, proofs, &updates),
            Err(TrieError::InvalidProof(_))
        )
    };
    // Every byte of every node matters.
    for node in 0..good[0].account_proof.len() {
        let mut proofs = good.clone();
        let mut bytes = proofs[0].account_proof[node].to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        proofs[0].account_proof[node] = bytes.into();
        assert!(invalid(&proofs), "account node {node}");
    }
    for node in 0..good[0].storage_proof[0].proof.len() {
        let mut proofs = good.clone();
        let mut bytes = proofs[0].storage_proof[0].proof[node].to_vec();
        bytes[1] ^= 0x10;
        proofs[0].storage_proof[0].proof[node] = bytes.into();
        assert!(invalid(&proofs), "storage node {node}");
    }
    // Truncated, extended, or claiming other values.
    let mut proofs = good.clone();
    proofs[0].account_proof.pop();
    assert!(invalid(&proofs));
    let mut proofs = good.clone();
    proofs[0].storage_proof[0]
        .proof
        .push(Bytes::from_static(&[0xc0]));
    assert!(invalid(&proofs));
    let mut proofs = good.clone();
    proofs[0].balance += U256::from(1);
    assert!(invalid(&proofs));
    let mut proofs = good.clone();
    proofs[0].storage_proof[0].value += U256::from(1);
    assert!(invalid(&proofs));
    // Another account's proof.
    let other = *state.keys().nth(1).unwrap();
    let mut proofs = good.clone();
    proofs[0].account_proof =
        get_proofs(&state, &BTreeMap::from([(other, BTreeSet::new())]), false)[0]
            .account_proof
            .clone();
    assert!(invalid(&proofs));
}

#[test]
fn absent_accounts_are_inserted_and_deleted_ones_removed() {
    let mut rng = Rng(3);
    let state = random_state(&mut rng);
    let root = state_root(&state);
    let (new, gone) = (rng.address(), rng.address());
    let slot = B256::from(U256::from(1));
    let requests = BTreeMap::from([(new, BTreeSet::from([slot])), (gone, BTreeSet::new())]);
    let proofs = get_proofs(&state, &requests, false);
    let updates = BTreeMap::from([
        (
            new,
            updated(1, BTreeMap::from([(slot, U256::from(2))]), false),
        ),
        (gone, AccountUpdate::Deleted),
    ]);
    let mut after = state.clone();
    after.insert(
        new,
        Account {
            nonce: 1,
            balance: U256::from(1),
            code_hash: KECCAK_EMPTY,
            storage: BTreeMap::from([(slot, U256::from(2))]),
        },
    );
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Ok(state_root(&after))
    );

    // From and to an empty state.
    let empty = State::new();
    let proofs = get_proofs(&empty, &BTreeMap::from([(new, BTreeSet::new())]), false);
    let updates = BTreeMap::from([(
        new,
        updated(1, BTreeMap::from([(slot, U256::from(2))]), true),
    )]);
    let only_new = after
        .iter()
        .filter(|(a, _)| **a == new)
        .map(|(a, b)| (*a, b.clone()))
        .collect();
    assert_eq!(
        state_root_after(EMPTY_ROOT_HASH, &proofs, &updates),
        Ok(state_root(&only_new))
    );
    let proofs = get_proofs(&only_new, &BTreeMap::from([(new, BTreeSet::new())]), false);
    let updates = BTreeMap::from([(new, AccountUpdate::Deleted)]);
    assert_eq!(
        state_root_after(state_root(&only_new), &proofs, &updates),
        Ok(EMPTY_ROOT_HASH)
    );
}

/// Keys sharing a long prefix, so that short leaves, branches and extensions get inlined.
fn clustered_key(rng: &mut Rng, prefixes: &[B256]) -> B256 {
    if prefixes.is_empty() || rng.chance(10) {
        return rng.b256();
    }
    let mut key = prefixes[rng.below(prefixes.len() as u64) as usize];
    let from = 26 + rng.below(6) as usize;
    for byte in &mut key[from..] {
        *byte = (rng.below(4) as u8) << 4 | rng.below(2) as u8;
    }
    key
}

fn raw_value(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.chance(70) {
        1 + rng.below(3)
    } else {
        1 + rng.below(40)
    };
    (0..len).map(|_| rng.below(256) as u8).collect()
}

/// Reveals `proofs` into a sparse trie, checks the proven values, applies `writes` (inserts
/// first) and returns the root.
fn sparse_root(
    root: B256,
    entries: &BTreeMap<B256, Vec<u8>>,
    proofs: &HashMap<B256, Vec<Bytes>>,
    writes: &BTreeMap<B256, Option<Vec<u8>>>,
) -> Result<B256, TrieError> {
    let mut trie = SparseTrie::new(root, TrieId::Accounts);
    for (key, proof) in proofs {
        assert_eq!(trie.reveal(key, proof).unwrap().as_ref(), entries.get(key));
    }
    for (key, value) in writes {
        if let Some(value) = value {
            trie.insert(key, value.clone())?;
        }
    }
    for (key, value) in writes {
        if value.is_none() {
            trie.remove(key)?;
        }
    }
    Ok(trie.root())
}

#[test]
fn random_raw_tries_with_inline_nodes_match_full_recompute() {
    let (mut exact, mut blinded, mut inline_nodes) = (0, 0, 0);
    for seed in 0..300 {
        let mut rng = Rng(seed);
        let prefixes: Vec<B256> = (0..rng.below(4)).map(|_| rng.b256()).collect();
        let entries: BTreeMap<B256, Vec<u8>> = (0..rng.below(60))
            .map(|_| (clustered_key(&mut rng, &prefixes), raw_value(&mut rng)))
            .collect();
        let keys: Vec<B256> = entries.keys().copied().collect();
        let mut writes = BTreeMap::new();
        for _ in 0..1 + rng.below(10) {
            let key = if !keys.is_empty() && rng.chance(60) {
                keys[rng.below(keys.len() as u64) as usize]
            } else {
                clustered_key(&mut rng, &prefixes)
            };
            writes.insert(key, rng.chance(60).then(|| raw_value(&mut rng)));
        }
        let mut targets: Vec<B256> = writes.keys().copied().collect();
        for _ in 0..rng.below(4) {
            if !keys.is_empty() {
                targets.push(keys[rng.below(keys.len() as u64) as usize]);
            }
        }
        let mut after = entries.clone();
        for (key, value) in &writes {
            match value {
                Some(value) => after.insert(*key, value.clone()),
                None => after.remove(key),
            };
        }
        let inline_listed = rng.chance(50);
        let (root, proofs) = trie_with_proofs(&entries, &targets, inline_listed);
        if inline_listed {
            inline_nodes += proofs
                .values()
                .flat_map(|p| p.iter().skip(1))
                .filter(|n| n.len() < 32)
                .count();
        }
        match sparse_root(root, &entries, &proofs, &writes) {
            Ok(new_root) => {
                assert_eq!(new_root, trie_root(&after), "seed {seed}");
                exact += 1;
            }
            Err(TrieError::BlindedNode(_)) => {
                assert!(writes
                    .iter()
                    .any(|(k, v)| v.is_none() && entries.contains_key(k)));
                blinded += 1;
            }
            Err(err) => panic!("seed {seed}: {err}"),
        }
    }
    eprintln!("{exact} exact, {blinded} blinded, {inline_nodes} inline nodes listed");
    assert!(
        exact >= 200 && blinded > 0 && inline_nodes > 100,
        "{exact} exact, {blinded} blinded"
    );
}

/// Keys that differ only from nibble `at` on.
fn key_with(prefix: u8, at: usize, nibbles: &[u8]) -> B256 {
    let mut key = Nibbles::unpack(B256::repeat_byte(prefix));
    for (i, nibble) in nibbles.iter().enumerate() {
        key.set_at(at + i, *nibble);
    }
    B256::from_slice(&key.pack())
}

#[test]
fn deletion_next_to_blinded_sibling_is_blinded_unless_revealed() {
    // Root branch: 0x1 → branch {0x0: a, 0x1: b}, 0x2 → c, 0x3 → d; big values, hashed leaves.
    let (a, b) = (key_with(0x11, 0, &[1, 0]), key_with(0x11, 0, &[1, 1]));
    let (c, d) = (key_with(0x22, 0, &[2]), key_with(0x33, 0, &[3]));
    let entries: BTreeMap<B256, Vec<u8>> = [a, b, c, d]
        .into_iter()
        .map(|k| (k, vec![0xab; 40]))
        .collect();
    let remove_a = BTreeMap::from([(a, None)]);
    let after: BTreeMap<_, _> = entries
        .iter()
        .filter(|(k, _)| **k != a)
        .map(|(k, v)| (*k, v.clone()))
        .collect();

    let (root, proofs) = trie_with_proofs(&entries, &[a], false);
    let (_, b_proof) = trie_with_proofs(&entries, &[b], false);
    let b_leaf = keccak256(b_proof[&b].last().unwrap());
    assert_eq!(
        sparse_root(root, &entries, &proofs, &remove_a),
        Err(TrieError::BlindedNode(BlindedNode {
            trie: TrieId::Accounts,
            path: Nibbles::from_nibbles([1, 1]),
            hash: b_leaf,
        }))
    );

    // With b's proof, b is revealed.
    let (_, proofs) = trie_with_proofs(&entries, &[a, b], false);
    assert_eq!(
        sparse_root(root, &entries, &proofs, &remove_a),
        Ok(trie_root(&after))
    );

    // Removing c leaves a branch with three children: no collapse.
    let (_, proofs) = trie_with_proofs(&entries, &[c], false);
    let remove_c = BTreeMap::from([(c, None)]);
    let after: BTreeMap<_, _> = entries
        .iter()
        .filter(|(k, _)| **k != c)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    assert_eq!(
        sparse_root(root, &entries, &proofs, &remove_c),
        Ok(trie_root(&after))
    );
}

#[test]
fn deletion_next_to_inline_sibling_succeeds() {
    // a and b differ in the last nibble only, with short values: their leaves are inline in
    // their branch, which sits below a long extension.
    let (a, b) = (key_with(0x11, 63, &[1]), key_with(0x11, 63, &[2]));
    let c = key_with(0x22, 0, &[]);
    let entries: BTreeMap<B256, Vec<u8>> = [(a, vec![1]), (b, vec![2]), (c, vec![3; 40])]
        .into_iter()
        .collect();
    let after: BTreeMap<_, _> = entries
        .iter()
        .filter(|(k, _)| **k != a)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    for inline_listed in [false, true] {
        let (root, proofs) = trie_with_proofs(&entries, &[a], inline_listed);
        assert_eq!(
            sparse_root(root, &entries, &proofs, &BTreeMap::from([(a, None)])),
            Ok(trie_root(&after))
        );
    }
}

/// The hashed path of `key` (a slot or an address).
fn path_of(key: impl AsRef<[u8]>) -> Nibbles {
    Nibbles::unpack(keccak256(key))
}

/// Keys from `candidates` where exactly `pair` share the first nibble of their hashed paths,
/// plus `others` keys whose first nibbles differ from each other and from the pair's: deleting
/// `pair[0]` collapses the branch of the pair into `pair[1]`'s (hash-referenced) leaf.
fn collapsing_keys<K: AsRef<[u8]> + Copy>(
    mut candidates: impl Iterator<Item = K>,
    others: usize,
) -> ([K; 2], Vec<K>) {
    let first = candidates.next().unwrap();
    let nibble = path_of(first).get_unchecked(0);
    let mut second = None;
    let mut used = vec![nibble];
    let mut rest = Vec::new();
    for key in candidates {
        let n = path_of(key).get_unchecked(0);
        if n == nibble && second.is_none() {
            second = Some(key);
        } else if !used.contains(&n) && rest.len() < others {
            used.push(n);
            rest.push(key);
        }
        if second.is_some() && rest.len() == others {
            break;
        }
    }
    ([first, second.unwrap()], rest)
}

/// The path of `sibling`'s leaf once `deleted` (which shares its branch) is gone.
fn sibling_path(deleted: impl AsRef<[u8]>, sibling: impl AsRef<[u8]>) -> Nibbles {
    let (deleted, sibling) = (path_of(deleted), path_of(sibling));
    sibling.slice(..deleted.common_prefix_length(&sibling) + 1)
}

fn plain_account(balance: u64, storage: BTreeMap<B256, U256>) -> Account {
    Account {
        nonce: 1,
        balance: U256::from(balance),
        code_hash: if storage.is_empty() {
            KECCAK_EMPTY
        } else {
            B256::repeat_byte(0xc0)
        },
        storage,
    }
}

/// Zeroing a slot collapses a storage branch into a blinded leaf: the error names the storage
/// trie and the leaf's path, and the proof of a probe slot (not updated) reveals it.
#[test]
fn storage_collapse_is_located_and_revealed_by_a_probe_slot() {
    let ([zeroed, sibling], others) =
        collapsing_keys((0u64..).map(|i| B256::from(U256::from(i))), 3);
    let contract = Address::repeat_byte(0xc1);
    let storage: BTreeMap<B256, U256> = [zeroed, sibling]
        .iter()
        .chain(&others)
        .zip(1u64..)
        .map(|(slot, i)| (*slot, U256::from(i) << 200))
        .collect();
    let mut state: State = (1u8..6)
        .map(|i| {
            (
                Address::repeat_byte(i),
                plain_account(u64::from(i), BTreeMap::new()),
            )
        })
        .collect();
    state.insert(contract, plain_account(9, storage));
    let mut after = state.clone();
    after.get_mut(&contract).unwrap().storage.remove(&zeroed);
    let updates = BTreeMap::from([(
        contract,
        AccountUpdate::Updated {
            nonce: 1,
            balance: U256::from(9),
            code_hash: B256::repeat_byte(0xc0),
            storage: BTreeMap::from([(zeroed, U256::ZERO)]),
            created: false,
        },
    )]);
    let root = state_root(&state);
    let mut proofs = get_proofs(
        &state,
        &BTreeMap::from([(contract, BTreeSet::from([zeroed]))]),
        false,
    );

    let sibling_proof = get_proofs(
        &state,
        &BTreeMap::from([(contract, BTreeSet::from([sibling]))]),
        false,
    );
    let sibling_leaf = keccak256(sibling_proof[0].storage_proof[0].proof.last().unwrap());
    let expected = BlindedNode {
        trie: TrieId::Storage(contract),
        path: sibling_path(zeroed, sibling),
        hash: sibling_leaf,
    };
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Err(TrieError::BlindedNode(expected))
    );

    let ProbeFound { probe, attempts } = find_probe(&expected, 1 << 24, None).unwrap();
    let Probe::Storage { address, slot } = probe else {
        panic!("{probe:?} is not a storage probe");
    };
    assert_eq!(address, contract);
    assert!(path_of(slot).starts_with(&expected.path), "{slot}");
    assert!(attempts >= 1);
    let probe_proof = get_proofs(
        &state,
        &BTreeMap::from([(contract, BTreeSet::from([slot]))]),
        false,
    );

    // A probe proof that does not verify is still rejected.
    let mut tampered = probe_proof.clone();
    tampered[0].storage_proof[0].value += U256::from(1);
    let with_tampered: Vec<_> = proofs.iter().chain(&tampered).cloned().collect();
    assert!(matches!(
        state_root_after(root, &with_tampered, &updates),
        Err(TrieError::InvalidProof(_))
    ));

    proofs.extend(probe_proof);
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Ok(state_root(&after))
    );
}

/// Deleting an account collapses an account-trie branch into a blinded leaf: the error names
/// the account trie and the leaf's path, and the proof of a probe address (absent, not
/// updated) reveals it.
#[test]
fn account_collapse_is_located_and_revealed_by_a_probe_address() {
    let ([deleted, sibling], others) = collapsing_keys(
        (1u64..).map(|i| {
            let mut address = Address::repeat_byte(0xaa);
            address.0[12..].copy_from_slice(&i.to_be_bytes());
            address
        }),
        4,
    );
    let state: State = [deleted, sibling]
        .iter()
        .chain(&others)
        .zip(1u64..)
        .map(|(address, i)| (*address, plain_account(i, BTreeMap::new())))
        .collect();
    let mut after = state.clone();
    after.remove(&deleted);
    let updates = BTreeMap::from([(deleted, AccountUpdate::Deleted)]);
    let root = state_root(&state);
    let mut proofs = get_proofs(&state, &BTreeMap::from([(deleted, BTreeSet::new())]), false);

    let sibling_proof = get_proofs(&state, &BTreeMap::from([(sibling, BTreeSet::new())]), false);
    let expected = BlindedNode {
        trie: TrieId::Accounts,
        path: sibling_path(deleted, sibling),
        hash: keccak256(sibling_proof[0].account_proof.last().unwrap()),
    };
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Err(TrieError::BlindedNode(expected))
    );

    let ProbeFound { probe, .. } = find_probe(&expected, 1 << 24, None).unwrap();
    let Probe::Account(address) = probe else {
        panic!("{probe:?} is not an account probe");
    };
    assert!(path_of(address).starts_with(&expected.path), "{address}");
    proofs.extend(get_proofs(
        &state,
        &BTreeMap::from([(address, BTreeSet::new())]),
        true,
    ));
    assert_eq!(
        state_root_after(root, &proofs, &updates),
        Ok(state_root(&after))
    );
}

/// Random states and updates: every blinded node is revealed by probe proofs, and the root is
/// then the full recompute's.
#[test]
fn random_blinded_nodes_are_revealed_by_probes() {
    let (mut resolved, mut probes) = (0, 0);
    for seed in 0..12 {
        let mut rng = Rng(seed);
        let state = random_state(&mut rng);
        let (updates, after, requests, _) = random_updates(&mut rng, &state);
        let entries = account_entries(&state);
        let mut proofs = get_proofs_with(&state, &entries, &requests, rng.chance(50));
        let mut blinded = false;
        let root = loop {
            match state_root_after(trie_root(&entries), &proofs, &updates) {
                Err(TrieError::BlindedNode(node)) => {
                    assert!(probes < 10_000, "seed {seed}: too many probes");
                    blinded = true;
                    probes += 1;
                    let request = match find_probe(&node, 1 << 24, None).unwrap().probe {
                        Probe::Account(address) => (address, BTreeSet::new()),
                        Probe::Storage { address, slot } => {
                            assert_eq!(node.trie, TrieId::Storage(address));
                            (address, BTreeSet::from([slot]))
                        }
                    };
                    proofs.extend(get_proofs_with(
                        &state,
                        &entries,
                        &BTreeMap::from([request]),
                        false,
                    ));
                }
                other => break other,
            }
        };
        assert_eq!(root, Ok(state_root(&after)), "seed {seed}");
        resolved += usize::from(blinded);
    }
    eprintln!("{resolved} cases resolved with {probes} probes");
    assert!(resolved > 0);
}

#[test]
fn probe_search_finds_prefixed_keys_and_gives_up_at_the_budget() {
    let mut rng = Rng(5);
    for len in 0..5 {
        let path: Nibbles = (0..len).map(|_| rng.below(16) as u8).collect();
        for trie in [TrieId::Accounts, TrieId::Storage(Address::repeat_byte(7))] {
            let node = BlindedNode {
                trie,
                path,
                hash: B256::ZERO,
            };
            let found = find_probe(&node, 1 << 24, None).unwrap();
            let hashed = match found.probe {
                Probe::Account(address) => {
                    assert_eq!(trie, TrieId::Accounts);
                    path_of(address)
                }
                Probe::Storage { address, slot } => {
                    assert_eq!(trie, TrieId::Storage(address));
                    path_of(slot)
                }
            };
            assert!(hashed.starts_with(&path), "{path:?}: {found:?}");
            assert!(found.attempts >= 1 && found.attempts <= 1 << 24);
        }
    }
    // 16 nibbles: 2^64 expected attempts.
    let deep = BlindedNode {
        trie: TrieId::Storage(Address::ZERO),
        path: Nibbles::from_nibbles([0xf; 16]),
        hash: B256::ZERO,
    };
    assert_eq!(
        find_probe(&deep, 5000, None),
        Err(ProbeError::Budget { attempts: 5000 })
    );
    assert!(matches!(
        find_probe(&deep, 1 << 24, Some(std::time::Instant::now())),
        Err(ProbeError::Deadline { attempts }) if attempts < 1 << 24
    ));
    let message = TrieError::BlindedNode(BlindedNode {
        trie: TrieId::Accounts,
        path: Nibbles::from_nibbles([0xa, 3]),
        hash: B256::ZERO,
    })
    .to_string();
    assert!(
        message.contains("at path 0xa3 (2 nibbles) of the account trie"),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes as proofs never panic and never verify.
    #[test]
    fn garbage_proofs_are_rejected(
        nodes in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..5),
        root in any::<[u8; 32]>(),
        slot in any::<[u8; 32]>(),
    ) {
        let nodes: Vec<Bytes> = nodes.into_iter().map(Bytes::from).collect();
        let root = B256::from(root);
        let address = Address::repeat_byte(1);
        let proofs = vec![EIP1186AccountProofResponse {
            address,
            storage_hash: EMPTY_ROOT_HASH,
            account_proof: nodes.clone(),
            storage_proof: vec![EIP1186StorageProof {
                key: B256::from(slot).into(),
                value: U256::ZERO,
                proof: nodes,
            }],
            ..Default::default()
        }];
        let updates = BTreeMap::from([(address, AccountUpdate::Deleted)]);
        let result = state_root_after(root, &proofs, &updates);
        prop_assert!(matches!(result, Err(TrieError::InvalidProof(_))), "{result:?}");
    }

    /// Random single-byte corruptions of real proofs are rejected.
    #[test]
    fn corrupted_proofs_are_rejected(seed in 0u64..1000, node in 0usize..16, at in any::<usize>(), flip in 1u8..) {
        let mut rng = Rng(seed);
        let entries: BTreeMap<B256, Vec<u8>> =
            (0..1 + rng.below(100)).map(|_| (rng.b256(), raw_value(&mut rng))).collect();
        let key = if rng.chance(50) { *entries.keys().next().unwrap() } else { rng.b256() };
        let (root, proofs) = trie_with_proofs(&entries, &[key], rng.chance(50));
        let mut proof = proofs[&key].clone();
        let node = node % proof.len();
        let mut bytes = proof[node].to_vec();
        let at = at % bytes.len();
        bytes[at] ^= flip;
        proof[node] = bytes.into();
        let mut trie = SparseTrie::new(root, TrieId::Accounts);
        prop_assert!(trie.reveal(&key, &proof).is_err());
    }
}
