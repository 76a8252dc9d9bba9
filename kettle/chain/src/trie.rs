//! An incremental, persistent Ethereum Merkle-Patricia trie stored by path.
//!
//! Recomputing a state root from every account each block is O(state). This module keeps the
//! trie's nodes in a key-value store and, for a block's changed leaves, loads only the nodes
//! on the paths of those leaves, rebuilds them and returns the writes that bring the store to
//! the new trie: O(changes × depth) per block.
//!
//! # Storage layout (path scheme)
//!
//! A trie is identified by an `owner`: [`B256::ZERO`] for the account trie, the hashed
//! address for an account's storage trie. A node is stored under
//! `owner (32) ‖ packed nibble path ‖ nibble count (1)` ([`node_key`]), where the path is the
//! position of the node in the trie (the nibbles leading to it from the root). The value is
//! the node's RLP encoding.
//!
//! - Only nodes referenced by hash from their parent (RLP of 32 bytes or more) are stored
//!   under their own path; shorter nodes are embedded in their parent's RLP, as the Ethereum
//!   spec requires, and are not stored separately.
//! - The root node is always stored at the empty path, whatever its length, so that a trie
//!   can be opened from its root hash. The empty trie stores nothing (its root is
//!   [`EMPTY_ROOT_HASH`]).
//!
//! Because a position holds at most one node, an update overwrites nodes in place and
//! deletes the positions that become empty or embedded: the store never accumulates stale
//! nodes, and a whole storage trie can be dropped with one range delete ([`owner_range`]).
//!
//! Every node read from the store is checked against the hash its parent (or the caller, for
//! the root) expects, so a store that does not hold the trie it is asked about yields an
//! error rather than a wrong root.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{keccak256, B256};
use alloy_rlp::EMPTY_STRING_CODE;
use alloy_trie::{
    nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode, TrieNode},
    Nibbles, TrieMask, EMPTY_ROOT_HASH,
};

use crate::ChainError;

/// Number of nibbles in a key (keys are 32-byte hashes).
const KEY_NIBBLES: usize = 64;

/// Where the nodes of tries are read from: a RocksDB snapshot in the chain, a map in tests.
pub(crate) trait NodeSource {
    /// The stored node at `key` (as made by [`node_key`]), if any.
    fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError>;
}

/// Changed leaves of one trie: hashed 32-byte key -> `Some(leaf value RLP)` to insert or
/// replace, `None` to delete (deleting an absent key is a no-op).
///
/// Values are opaque bytes stored in the leaves as they are: `alloy_rlp::encode(TrieAccount)`
/// for the account trie, `alloy_rlp::encode(U256)` of a non-zero value for storage tries
/// (what `alloy_trie::root::{state_root, storage_root}` hash). They should not be empty:
/// Ethereum tries have no empty values.
pub(crate) type LeafChanges = BTreeMap<B256, Option<Vec<u8>>>;

/// The outcome of [`update`] or [`build`]: the new root and the store writes that turn the
/// old trie's nodes into the new trie's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrieUpdate {
    /// Root hash of the new trie ([`EMPTY_ROOT_HASH`] if it is empty).
    pub(crate) root: B256,
    /// Nodes to write, as `(node_key, node RLP)`, sorted by key. Nodes whose stored bytes do
    /// not change are left out.
    pub(crate) puts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Keys of nodes to delete (removed, embedded into their parent or moved), sorted. No key
    /// is both put and deleted.
    pub(crate) deletes: Vec<Vec<u8>>,
}

/// The store key of the node of trie `owner` at position `path`: `owner ‖ packed path ‖
/// nibble count`.
///
/// The path's nibbles are packed two per byte (an odd last nibble in the high half of the
/// last byte), followed by one byte holding the number of nibbles (at most 64), so keys are
/// unique per path and all keys of one owner share the 32-byte owner prefix.
pub(crate) fn node_key(owner: &B256, path: &Nibbles) -> Vec<u8> {
    let packed = path.pack();
    let mut key = Vec::with_capacity(B256::len_bytes() + packed.len() + 1);
    key.extend_from_slice(owner.as_slice());
    key.extend_from_slice(&packed);
    key.push(path.len() as u8);
    key
}

/// The key range `[start, end)` holding every node of trie `owner` and nothing else, for
/// dropping a whole storage trie with one range delete.
pub(crate) fn owner_range(owner: &B256) -> (Vec<u8>, Vec<u8>) {
    let start = owner.to_vec();
    let mut end = owner.to_vec();
    match end.iter().rposition(|b| *b != 0xff) {
        // The next owner: every key of `owner` is below it, every key of the next above.
        Some(i) => {
            end[i] += 1;
            end[i + 1..].fill(0);
        }
        // No next owner: a key of `owner` continues with at most 32 packed bytes and a
        // nibble count of at most 64, so it sorts below `owner ‖ ff × 33`.
        None => end.extend_from_slice(&[0xff; 33]),
    }
    (start, end)
}

/// The key range `[start, end)` holding the nodes of every trie (every owner), for dropping
/// them all before a rebuild: keys are at most 32 + 32 + 1 bytes, so all sort below 66
/// `0xff` bytes.
pub(crate) fn all_range() -> (Vec<u8>, Vec<u8>) {
    (Vec::new(), vec![0xff; B256::len_bytes() * 2 + 2])
}

/// Applies `changes` to the trie of `owner` whose root is `root`, as held by `source`.
///
/// Returns the new root and the writes that make the store hold exactly the new trie's
/// nodes. Only nodes on the paths of the changed keys are read (plus, where a branch
/// collapses, its remaining child), so the cost is O(changes × depth), never a scan.
///
/// Unless `root` is [`EMPTY_ROOT_HASH`], the node at the empty path must hash to `root`
/// (checked even when `changes` is empty). A missing node, a node that does not hash to what
/// its parent references or bytes that are not a canonical trie node are
/// [`ChainError::Corrupt`]: the store does not hold this trie (for example a database from
/// before tries were stored). For [`EMPTY_ROOT_HASH`] the store is assumed to hold no node of
/// `owner` (range-delete a dropped trie with [`owner_range`] before applying the puts).
pub(crate) fn update(
    source: &impl NodeSource,
    owner: &B256,
    root: B256,
    changes: &LeafChanges,
) -> Result<TrieUpdate, ChainError> {
    let mut trie = Updater {
        source,
        owner,
        loaded: HashMap::new(),
    };
    let start = if root == EMPTY_ROOT_HASH {
        Node::Empty
    } else {
        trie.load(&Nibbles::new(), root)?
    };
    let changes: Vec<Change<'_>> = changes
        .iter()
        .map(|(key, value)| (*key, value.as_deref()))
        .collect();
    let new_root = trie.apply(start, Nibbles::new(), &changes)?;
    trie.finish(&new_root)
}

/// Builds the trie of `owner` holding `leaves` (hashed key, value RLP; a later duplicate key
/// wins) from scratch, for migrating a database that has no stored trie yet.
///
/// All leaves are inserted in one batch, so building is linear in the number of leaves. The
/// result's `puts` are every node of the trie; `deletes` is empty.
pub(crate) fn build(
    owner: &B256,
    leaves: impl IntoIterator<Item = (B256, Vec<u8>)>,
) -> Result<TrieUpdate, ChainError> {
    let changes: LeafChanges = leaves
        .into_iter()
        .map(|(key, value)| (key, Some(value)))
        .collect();
    update(&EmptySource, owner, EMPTY_ROOT_HASH, &changes)
}

/// A store without nodes, for [`build`].
struct EmptySource;

impl NodeSource for EmptySource {
    fn node(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(None)
    }
}

/// One change: hashed key and new value (`None` deletes).
type Change<'a> = (B256, Option<&'a [u8]>);

/// A trie node in memory. Paths of keys are 64 nibbles, so branches never hold values.
enum Node {
    /// No node (the empty trie, or an absent branch child).
    Empty,
    /// The rest of one key and its value.
    Leaf { key: Nibbles, value: Vec<u8> },
    /// A shared run of nibbles leading to a branch.
    Extension { key: Nibbles, child: Box<Node> },
    /// Sixteen children, one per next nibble (at least two present).
    Branch(Box<[Node; 16]>),
    /// A node stored under its own path, referenced by this hash and not loaded yet.
    Hash(B256),
}

/// Sixteen absent children.
fn empty_children() -> Box<[Node; 16]> {
    Box::new(std::array::from_fn(|_| Node::Empty))
}

/// The `i`-th nibble of `key`.
fn nibble(key: &B256, i: usize) -> u8 {
    let byte = key[i / 2];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// The nibbles of `key` from position `from` on.
fn key_suffix(key: &B256, from: usize) -> Nibbles {
    Nibbles::unpack_array(&key.0).slice(from..)
}

/// `path` followed by `n`.
fn child_path(path: &Nibbles, n: u8) -> Nibbles {
    let mut child = *path;
    child.push_unchecked(n);
    child
}

/// Error for a stored node that is not what the trie expects.
fn corrupt(owner: &B256, path: &Nibbles, detail: impl std::fmt::Display) -> ChainError {
    ChainError::corrupt(
        "trie node",
        format!("trie {owner}, path {path:?}: {detail}"),
    )
}

/// State of one [`update`]: where nodes come from and which were read.
struct Updater<'a, S> {
    /// The store.
    source: &'a S,
    /// The trie's owner (key prefix).
    owner: &'a B256,
    /// Every node read from the store: key -> stored bytes. These positions are the only
    /// ones whose contents can change; the rest of the trie is referenced by hash only.
    loaded: HashMap<Vec<u8>, Vec<u8>>,
}

impl<S: NodeSource> Updater<'_, S> {
    /// Reads the node at `path`, which its parent references by `hash`.
    fn load(&mut self, path: &Nibbles, hash: B256) -> Result<Node, ChainError> {
        let key = node_key(self.owner, path);
        let bytes = self
            .source
            .node(&key)?
            .ok_or_else(|| corrupt(self.owner, path, format!("missing node {hash}")))?;
        let actual = keccak256(&bytes);
        if actual != hash {
            return Err(corrupt(
                self.owner,
                path,
                format!("node hashes to {actual}, expected {hash}"),
            ));
        }
        let node =
            decode_node(&bytes, path.len()).map_err(|detail| corrupt(self.owner, path, detail))?;
        self.loaded.insert(key, bytes);
        Ok(node)
    }

    /// Applies `changes` (sorted, all below `path`) to `node`, the node at `path`; returns
    /// the new node in canonical form.
    fn apply(
        &mut self,
        node: Node,
        path: Nibbles,
        changes: &[Change<'_>],
    ) -> Result<Node, ChainError> {
        if changes.is_empty() {
            return Ok(node);
        }
        match node {
            Node::Hash(hash) => {
                let node = self.load(&path, hash)?;
                self.apply(node, path, changes)
            }
            Node::Empty => Ok(build_fresh(&path, changes)),
            Node::Leaf { key, value } => {
                // Rebuild from the leaf and the changes, unless a change replaces the leaf.
                let full = B256::from_slice(&path.join(&key).pack());
                let mut merged = changes.to_vec();
                if let Err(at) = changes.binary_search_by(|(k, _)| k.cmp(&full)) {
                    merged.insert(at, (full, Some(&value)));
                }
                Ok(build_fresh(&path, &merged))
            }
            Node::Extension { key, child } => {
                let depth = path.len();
                // The first nibble of `key` where an inserted key leaves the extension.
                let split = changes
                    .iter()
                    .filter(|(_, value)| value.is_some())
                    .map(|(k, _)| {
                        key_suffix(k, depth)
                            .slice(..key.len())
                            .common_prefix_length(&key)
                    })
                    .min()
                    .unwrap_or(key.len());
                if split < key.len() {
                    // Turn the extension into `key[..split]`, a branch and `key[split + 1..]`,
                    // then insert into that.
                    let mut children = empty_children();
                    let rest = key.slice(split + 1..);
                    children[usize::from(key.get_unchecked(split))] = if rest.is_empty() {
                        *child
                    } else {
                        Node::Extension { key: rest, child }
                    };
                    let branch = Node::Branch(children);
                    let node = if split == 0 {
                        branch
                    } else {
                        Node::Extension {
                            key: key.slice(..split),
                            child: Box::new(branch),
                        }
                    };
                    return self.apply(node, path, changes);
                }
                // Changes outside the extension are deletes of absent keys: skip them.
                let below = path.join(&key);
                let prefix_cmp = |k: &B256| key_suffix(k, 0).slice(..below.len()).cmp(&below);
                let from = changes.partition_point(|(k, _)| prefix_cmp(k).is_lt());
                let to = changes.partition_point(|(k, _)| prefix_cmp(k).is_le());
                if from == to {
                    return Ok(Node::Extension { key, child });
                }
                let child = self.apply(*child, below, &changes[from..to])?;
                self.prepend(key, child, &below)
            }
            Node::Branch(mut children) => {
                let depth = path.len();
                let mut start = 0;
                while start < changes.len() {
                    let n = nibble(&changes[start].0, depth);
                    let end =
                        start + changes[start..].partition_point(|(k, _)| nibble(k, depth) == n);
                    let slot = &mut children[usize::from(n)];
                    let child = std::mem::replace(slot, Node::Empty);
                    children[usize::from(n)] =
                        self.apply(child, child_path(&path, n), &changes[start..end])?;
                    start = end;
                }
                self.collapse(children, &path)
            }
        }
    }

    /// The canonical node for `prefix` followed by `node` (which sits at `node_path`): merges
    /// the nibbles into a leaf or extension, or makes an extension to a branch.
    fn prepend(
        &mut self,
        prefix: Nibbles,
        node: Node,
        node_path: &Nibbles,
    ) -> Result<Node, ChainError> {
        Ok(match node {
            Node::Empty => Node::Empty,
            Node::Leaf { key, value } => Node::Leaf {
                key: prefix.join(&key),
                value,
            },
            Node::Extension { key, child } => Node::Extension {
                key: prefix.join(&key),
                child,
            },
            branch @ Node::Branch(_) => Node::Extension {
                key: prefix,
                child: Box::new(branch),
            },
            Node::Hash(hash) => {
                let node = self.load(node_path, hash)?;
                if matches!(node, Node::Hash(_)) {
                    return Err(corrupt(self.owner, node_path, "node is a bare hash"));
                }
                self.prepend(prefix, node, node_path)?
            }
        })
    }

    /// The canonical node for a branch at `path` whose children changed: nothing if it has
    /// none left, the only child merged with its nibble if it has one, else the branch.
    fn collapse(
        &mut self,
        mut children: Box<[Node; 16]>,
        path: &Nibbles,
    ) -> Result<Node, ChainError> {
        let mut present = children
            .iter()
            .enumerate()
            .filter(|(_, child)| !matches!(child, Node::Empty))
            .map(|(n, _)| n);
        let Some(first) = present.next() else {
            return Ok(Node::Empty);
        };
        if present.next().is_some() {
            return Ok(Node::Branch(children));
        }
        let n = first as u8;
        let child = std::mem::replace(&mut children[first], Node::Empty);
        self.prepend(
            Nibbles::from_nibbles_unchecked([n]),
            child,
            &child_path(path, n),
        )
    }

    /// Encodes the new trie rooted at `root` and diffs its stored nodes against the ones
    /// read.
    fn finish(mut self, root: &Node) -> Result<TrieUpdate, ChainError> {
        let mut stored = Vec::new();
        let root_hash = if matches!(root, Node::Empty) {
            EMPTY_ROOT_HASH
        } else {
            let root_rlp = commit(self.owner, root, Nibbles::new(), &mut stored)?;
            match root_rlp.as_hash() {
                Some(hash) => hash,
                None => keccak256(&root_rlp),
            }
        };
        let mut puts = Vec::new();
        for (key, value) in stored {
            if self.loaded.remove(&key).as_ref() != Some(&value) {
                puts.push((key, value));
            }
        }
        let mut deletes: Vec<Vec<u8>> = self.loaded.into_keys().collect();
        puts.sort_unstable();
        deletes.sort_unstable();
        Ok(TrieUpdate {
            root: root_hash,
            puts,
            deletes,
        })
    }
}

/// The canonical subtree at `path` holding the inserts among `changes` (sorted, all below
/// `path`); deletes are ignored, there being nothing to delete from.
fn build_fresh(path: &Nibbles, changes: &[Change<'_>]) -> Node {
    let (Some(first), Some(last)) = (
        changes.iter().position(|(_, v)| v.is_some()),
        changes.iter().rposition(|(_, v)| v.is_some()),
    ) else {
        return Node::Empty;
    };
    let depth = path.len();
    let (first_key, first_value) = changes[first];
    if first == last {
        return Node::Leaf {
            key: key_suffix(&first_key, depth),
            value: first_value.unwrap_or_default().to_vec(),
        };
    }
    let changes = &changes[first..=last];
    // Sorted keys: every key in between shares the prefix of the first and last.
    let shared = key_suffix(&first_key, depth)
        .common_prefix_length(&key_suffix(&changes[changes.len() - 1].0, depth));
    if shared == 0 {
        return build_branch(path, changes);
    }
    let key = key_suffix(&first_key, depth).slice(..shared);
    Node::Extension {
        key,
        child: Box::new(build_branch(&path.join(&key), changes)),
    }
}

/// A branch at `path` holding `changes` (sorted, at least two inserts that differ at the
/// nibble after `path`).
fn build_branch(path: &Nibbles, changes: &[Change<'_>]) -> Node {
    let depth = path.len();
    let mut children = empty_children();
    let mut start = 0;
    while start < changes.len() {
        let n = nibble(&changes[start].0, depth);
        let end = start + changes[start..].partition_point(|(k, _)| nibble(k, depth) == n);
        children[usize::from(n)] = build_fresh(&child_path(path, n), &changes[start..end]);
        start = end;
    }
    Node::Branch(children)
}

/// Encodes `node` (at `path`) and its loaded descendants, appending the ones stored under
/// their own path (hash-referenced, or the root) to `stored`; returns the reference its
/// parent holds.
fn commit(
    owner: &B256,
    node: &Node,
    path: Nibbles,
    stored: &mut Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<RlpNode, ChainError> {
    let mut rlp = Vec::new();
    match node {
        Node::Hash(hash) => return Ok(RlpNode::word_rlp(hash)),
        Node::Empty => return Err(corrupt(owner, &path, "empty node in a trie")),
        Node::Leaf { key, value } => {
            LeafNodeRef::new(key, value).rlp(&mut rlp);
        }
        Node::Extension { key, child } => {
            let child = commit(owner, child, path.join(key), stored)?;
            ExtensionNodeRef::new(key, &child).rlp(&mut rlp);
        }
        Node::Branch(children) => {
            let mut stack = Vec::with_capacity(16);
            let mut mask = TrieMask::default();
            for (n, child) in children.iter().enumerate() {
                if matches!(child, Node::Empty) {
                    continue;
                }
                let n = n as u8;
                stack.push(commit(owner, child, child_path(&path, n), stored)?);
                mask.set_bit(n);
            }
            BranchNodeRef::new(&stack, mask).rlp(&mut rlp);
        }
    }
    let reference = RlpNode::from_rlp(&rlp);
    if reference.is_hash() || path.is_empty() {
        stored.push((node_key(owner, &path), rlp));
    }
    Ok(reference)
}

/// Decodes a node's RLP found at depth `depth`, checking it is canonical for 64-nibble keys
/// so that no later step can overflow a path.
fn decode_node(bytes: &[u8], depth: usize) -> Result<Node, String> {
    let mut buf = bytes;
    let node = <TrieNode as alloy_rlp::Decodable>::decode(&mut buf).map_err(|e| e.to_string())?;
    if !buf.is_empty() {
        return Err(format!("{} trailing bytes", buf.len()));
    }
    match node {
        TrieNode::EmptyRoot => Err("empty node".into()),
        TrieNode::Leaf(leaf) => {
            if depth + leaf.key.len() != KEY_NIBBLES {
                return Err(format!(
                    "leaf key of {} nibbles at depth {depth}",
                    leaf.key.len()
                ));
            }
            Ok(Node::Leaf {
                key: leaf.key,
                value: leaf.value,
            })
        }
        TrieNode::Extension(ext) => {
            let below = depth + ext.key.len();
            if ext.key.is_empty() || below >= KEY_NIBBLES {
                return Err(format!(
                    "extension key of {} nibbles at depth {depth}",
                    ext.key.len()
                ));
            }
            let child = decode_child(&ext.child, below)?;
            if !matches!(child, Node::Branch(_) | Node::Hash(_)) {
                return Err("extension to a leaf or extension".into());
            }
            Ok(Node::Extension {
                key: ext.key,
                child: Box::new(child),
            })
        }
        TrieNode::Branch(branch) => {
            if depth >= KEY_NIBBLES {
                return Err(format!("branch at depth {depth}"));
            }
            if branch.state_mask.count_bits() < 2 || branch.stack.len() != branch.state_mask.len() {
                return Err("branch with fewer than two children".into());
            }
            let mut children = empty_children();
            for (n, child) in branch.state_mask.iter().zip(&branch.stack) {
                children[usize::from(n)] = decode_child(child, depth + 1)?;
            }
            Ok(Node::Branch(children))
        }
    }
}

/// Decodes a child reference: a hash of a node stored under its own path, or an embedded
/// node.
fn decode_child(child: &RlpNode, depth: usize) -> Result<Node, String> {
    if child.len() == B256::len_bytes() + 1 && child[0] == EMPTY_STRING_CODE + 32 {
        Ok(Node::Hash(B256::from_slice(&child[1..])))
    } else if child.len() < 32 {
        decode_node(child, depth)
    } else {
        Err(format!("child reference of {} bytes", child.len()))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use alloy_primitives::U256;
    use alloy_trie::{HashBuilder, TrieAccount};

    use super::*;

    /// A node store in memory.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    struct MemStore(BTreeMap<Vec<u8>, Vec<u8>>);

    impl NodeSource for MemStore {
        fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
            Ok(self.0.get(key).cloned())
        }
    }

    impl MemStore {
        /// Applies an update, checking it is exact: deletes hit stored keys, puts change
        /// something, no key is both put and deleted.
        fn apply(&mut self, update: &TrieUpdate) {
            for key in &update.deletes {
                assert!(self.0.remove(key).is_some(), "delete of absent key {key:?}");
                assert!(
                    !update.puts.iter().any(|(k, _)| k == key),
                    "key both put and deleted"
                );
            }
            for (key, value) in &update.puts {
                let old = self.0.insert(key.clone(), value.clone());
                assert_ne!(old.as_ref(), Some(value), "put of unchanged node");
            }
        }

        /// The nodes of `owner`, found through [`owner_range`].
        fn owned_by(&self, owner: &B256) -> BTreeMap<Vec<u8>, Vec<u8>> {
            let (start, end) = owner_range(owner);
            self.0
                .range(start..end)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
    }

    /// A store that counts reads.
    struct Counting<'a> {
        inner: &'a MemStore,
        reads: Cell<usize>,
    }

    impl NodeSource for Counting<'_> {
        fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
            self.reads.set(self.reads.get() + 1);
            self.inner.node(key)
        }
    }

    /// splitmix64: a deterministic generator for randomized tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn b256(&mut self) -> B256 {
            let mut out = [0u8; 32];
            for chunk in out.chunks_mut(8) {
                chunk.copy_from_slice(&self.next().to_be_bytes());
            }
            B256::from(out)
        }

        /// A key: fully random, or one of `bases` with its last 1..=8 nibbles replaced, so
        /// keys share long prefixes and deep (embedded) nodes appear.
        fn key(&mut self, bases: &[B256]) -> B256 {
            if self.below(4) == 0 {
                return self.b256();
            }
            let mut key = bases[self.below(bases.len())];
            let tail = 1 + self.below(8);
            for i in KEY_NIBBLES - tail..KEY_NIBBLES {
                let n = self.below(16) as u8;
                set_nibble(&mut key, i, n);
            }
            key
        }

        /// A value: a small storage value (embeds), an account, or 1..=80 random bytes.
        fn value(&mut self) -> Vec<u8> {
            match self.below(3) {
                0 => storage_value(1 + self.below(1000) as u64),
                1 => account_value(self),
                _ => (0..1 + self.below(80)).map(|_| self.next() as u8).collect(),
            }
        }
    }

    fn set_nibble(key: &mut B256, i: usize, n: u8) {
        let byte = &mut key.0[i / 2];
        *byte = if i.is_multiple_of(2) {
            (*byte & 0x0f) | (n << 4)
        } else {
            (*byte & 0xf0) | n
        };
    }

    fn storage_value(v: u64) -> Vec<u8> {
        alloy_rlp::encode(U256::from(v))
    }

    fn account(rng: &mut Rng) -> TrieAccount {
        TrieAccount {
            nonce: rng.next() % 100,
            balance: U256::from(rng.next()),
            storage_root: if rng.below(2) == 0 {
                EMPTY_ROOT_HASH
            } else {
                rng.b256()
            },
            code_hash: rng.b256(),
        }
    }

    fn account_value(rng: &mut Rng) -> Vec<u8> {
        alloy_rlp::encode(account(rng))
    }

    /// `n` random account leaves under random keys.
    fn random_leaves(rng: &mut Rng, n: usize) -> BTreeMap<B256, Vec<u8>> {
        (0..n).map(|_| (rng.b256(), account_value(rng))).collect()
    }

    /// The root alloy-trie's hash builder computes for `leaves`.
    fn oracle_root(leaves: &BTreeMap<B256, Vec<u8>>) -> B256 {
        let mut hb = HashBuilder::default();
        for (key, value) in leaves {
            hb.add_leaf(Nibbles::unpack(key), value);
        }
        hb.root()
    }

    /// The store a fresh build of `leaves` gives.
    fn built(owner: &B256, leaves: &BTreeMap<B256, Vec<u8>>) -> (B256, MemStore) {
        let update = build(owner, leaves.clone()).expect("build");
        assert!(update.deletes.is_empty());
        let mut store = MemStore::default();
        store.apply(&update);
        (update.root, store)
    }

    fn inserts(leaves: &BTreeMap<B256, Vec<u8>>) -> LeafChanges {
        leaves.iter().map(|(k, v)| (*k, Some(v.clone()))).collect()
    }

    fn assert_corrupt(result: Result<TrieUpdate, ChainError>) {
        match result {
            Err(ChainError::Corrupt { what, .. }) => assert_eq!(what, "trie node"),
            other => panic!("expected a corrupt trie error, got {other:?}"),
        }
    }

    #[test]
    fn node_keys_are_unique_and_inside_the_owner_range() {
        let owner = B256::repeat_byte(0x42);
        let paths: Vec<Nibbles> = [
            &[][..],
            &[0],
            &[0, 0],
            &[0, 1],
            &[1],
            &[1, 0],
            &[0xf; 63],
            &[0xf; 64],
        ]
        .iter()
        .map(|p| Nibbles::from_nibbles(p))
        .collect();
        let keys: Vec<Vec<u8>> = paths.iter().map(|p| node_key(&owner, p)).collect();
        assert_eq!(keys[0], [owner.as_slice(), &[0]].concat());
        assert_eq!(keys[3], [owner.as_slice(), &[0x01, 2]].concat());
        assert_eq!(keys[4], [owner.as_slice(), &[0x10, 1]].concat());
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());

        for owner in [
            B256::ZERO,
            owner,
            B256::repeat_byte(0xff),
            B256::left_padding_from(&[0x12, 0xff, 0xff]),
        ] {
            let (start, end) = owner_range(&owner);
            let (all_start, all_end) = all_range();
            for path in &paths {
                let key = node_key(&owner, path);
                assert!(start <= key && key < end, "{owner} {path:?}");
                assert!(all_start <= key && key < all_end, "{owner} {path:?}");
            }
            // Keys of the neighbouring owners are outside.
            let mut next = owner;
            if let Some(i) = next.0.iter().rposition(|b| *b != 0xff) {
                next.0[i] += 1;
                next.0[i + 1..].fill(0);
                assert!(node_key(&next, &Nibbles::new()) >= end);
            }
            if let Some(i) = owner.0.iter().rposition(|b| *b != 0) {
                let mut prev = owner;
                prev.0[i] -= 1;
                prev.0[i + 1..].fill(0xff);
                assert!(node_key(&prev, &Nibbles::from_nibbles([0xf; 64])) < start);
            }
        }
    }

    #[test]
    fn empty_trie() {
        let owner = B256::ZERO;
        let update = build(&owner, []).expect("build");
        assert_eq!(
            update,
            TrieUpdate {
                root: EMPTY_ROOT_HASH,
                ..Default::default()
            }
        );
        assert_eq!(oracle_root(&BTreeMap::new()), EMPTY_ROOT_HASH);
        // Deleting from the empty trie is a no-op.
        let changes = LeafChanges::from([(B256::repeat_byte(1), None)]);
        let update =
            super::update(&MemStore::default(), &owner, EMPTY_ROOT_HASH, &changes).expect("update");
        assert_eq!(
            update,
            TrieUpdate {
                root: EMPTY_ROOT_HASH,
                ..Default::default()
            }
        );
    }

    #[test]
    fn one_leaf_is_stored_at_the_root() {
        let owner = B256::ZERO;
        let leaves = BTreeMap::from([(B256::repeat_byte(7), storage_value(1))]);
        let (root, store) = built(&owner, &leaves);
        assert_eq!(root, oracle_root(&leaves));
        assert_eq!(store.0.len(), 1);
        assert!(store.0.contains_key(&node_key(&owner, &Nibbles::new())));
    }

    #[test]
    fn leaves_sharing_long_prefixes() {
        let owner = B256::repeat_byte(9);
        let base = B256::repeat_byte(0xab);
        // Split at the last nibble, in the middle, at the first nibble; small and big values.
        for split in [63, 62, 40, 1, 0] {
            for value in [storage_value(1), vec![0x55; 40]] {
                let mut other = base;
                set_nibble(&mut other, split, 0);
                let leaves = BTreeMap::from([(base, value.clone()), (other, value.clone())]);
                let (root, store) = built(&owner, &leaves);
                assert_eq!(root, oracle_root(&leaves), "split {split}");

                // The same trie grown one leaf at a time, and shrunk back.
                let mut inc = MemStore::default();
                let first = update(
                    &inc,
                    &owner,
                    EMPTY_ROOT_HASH,
                    &LeafChanges::from([(base, Some(value.clone()))]),
                )
                .expect("insert first");
                inc.apply(&first);
                let second = update(
                    &inc,
                    &owner,
                    first.root,
                    &LeafChanges::from([(other, Some(value.clone()))]),
                )
                .expect("insert second");
                inc.apply(&second);
                assert_eq!(second.root, root);
                assert_eq!(inc, store, "split {split}");
                let back = update(&inc, &owner, root, &LeafChanges::from([(other, None)]))
                    .expect("delete second");
                inc.apply(&back);
                assert_eq!(back.root, first.root);
                assert_eq!(inc, built(&owner, &BTreeMap::from([(base, value)])).1);
            }
        }
    }

    #[test]
    fn embedded_nodes_are_not_stored() {
        let owner = B256::ZERO;
        let a = B256::repeat_byte(0x11);
        let mut b = a;
        set_nibble(&mut b, 63, 0x2);
        // Two keys that differ in the last nibble with one-byte values: the branch at depth
        // 63 and both leaves are embedded in the root extension.
        let small = BTreeMap::from([(a, storage_value(1)), (b, storage_value(2))]);
        let (root, store) = built(&owner, &small);
        assert_eq!(
            root,
            alloy_trie::root::storage_root([(a, U256::from(1)), (b, U256::from(2))])
        );
        assert_eq!(store.0.len(), 1, "only the root is stored");

        // A big value un-embeds its leaf and the branch above it.
        let mut big = small.clone();
        big.insert(b, vec![0x77; 40]);
        let mut changes = LeafChanges::from([(b, Some(vec![0x77; 40]))]);
        let grow = update(&store, &owner, root, &changes).expect("grow");
        let mut inc = store.clone();
        inc.apply(&grow);
        assert_eq!(grow.root, oracle_root(&big));
        assert_eq!(inc.0.len(), 3, "root, branch and leaf");
        assert_eq!(inc, built(&owner, &big).1);

        // And a small value embeds them again, deleting their nodes.
        changes.insert(b, Some(storage_value(2)));
        let shrink = update(&inc, &owner, grow.root, &changes).expect("shrink");
        assert_eq!(shrink.deletes.len(), 2);
        inc.apply(&shrink);
        assert_eq!(shrink.root, root);
        assert_eq!(inc, store);
    }

    #[test]
    fn random_tries_match_the_oracle() {
        let owner = B256::ZERO;
        let mut rng = Rng(0x5eed);
        let bases: Vec<B256> = (0..4).map(|_| rng.b256()).collect();
        for n in (1..=64).chain((70..=300).step_by(7)) {
            let leaves: BTreeMap<B256, Vec<u8>> =
                (0..n).map(|_| (rng.key(&bases), rng.value())).collect();
            let update = build(&owner, leaves.clone()).expect("build");
            assert_eq!(update.root, oracle_root(&leaves), "{n} leaves");
        }
    }

    #[test]
    fn storage_and_account_tries_match_alloy_roots() {
        let owner = B256::repeat_byte(3);
        let mut rng = Rng(77);
        let bases: Vec<B256> = (0..3).map(|_| rng.b256()).collect();
        for n in [1, 2, 3, 10, 100, 500] {
            let slots: BTreeMap<B256, U256> = (0..n)
                .map(|_| (rng.key(&bases), U256::from(1 + rng.below(5))))
                .collect();
            let leaves = slots.iter().map(|(k, v)| (*k, alloy_rlp::encode(v)));
            let update = build(&owner, leaves).expect("build storage");
            assert_eq!(update.root, alloy_trie::root::storage_root(slots.clone()));

            let accounts: BTreeMap<B256, TrieAccount> = (0..n)
                .map(|_| (rng.key(&bases), account(&mut rng)))
                .collect();
            let leaves = accounts.iter().map(|(k, a)| (*k, alloy_rlp::encode(a)));
            let update = build(&B256::ZERO, leaves).expect("build accounts");
            assert_eq!(update.root, alloy_trie::root::state_root(accounts.clone()));
        }
    }

    /// Random rounds of inserts, updates and deletes (of present and absent keys, and
    /// sometimes of most of the trie): after each, the root matches the oracle and the store
    /// holds exactly the nodes of a fresh build.
    #[test]
    fn random_rounds_keep_the_store_exact() {
        let mut total_ops = 0;
        for seed in [1, 2, 3, 4] {
            let mut rng = Rng(seed);
            let owner = rng.b256();
            let bases: Vec<B256> = (0..1 + rng.below(4)).map(|_| rng.b256()).collect();
            let mut reference: BTreeMap<B256, Vec<u8>> = BTreeMap::new();
            let mut store = MemStore::default();
            let mut root = EMPTY_ROOT_HASH;
            for round in 0..60 {
                let mut changes = LeafChanges::new();
                if round % 12 == 11 {
                    // Delete most (sometimes all) of the trie.
                    let keep = rng.below(3);
                    for key in reference.keys().skip(keep) {
                        changes.insert(*key, None);
                    }
                } else {
                    for _ in 0..1 + rng.below(40) {
                        let key = if !reference.is_empty() && rng.below(2) == 0 {
                            *reference
                                .keys()
                                .nth(rng.below(reference.len()))
                                .expect("key")
                        } else {
                            rng.key(&bases)
                        };
                        let value = if rng.below(3) == 0 {
                            None
                        } else {
                            Some(rng.value())
                        };
                        changes.insert(key, value);
                    }
                }
                total_ops += changes.len();
                for (key, value) in &changes {
                    match value {
                        Some(v) => reference.insert(*key, v.clone()),
                        None => reference.remove(key),
                    };
                }

                let update = update(&store, &owner, root, &changes).expect("update");
                store.apply(&update);
                root = update.root;
                assert_eq!(root, oracle_root(&reference), "seed {seed} round {round}");
                let (fresh_root, fresh) = built(&owner, &reference);
                assert_eq!(root, fresh_root);
                assert_eq!(store, fresh, "seed {seed} round {round}");
            }
        }
        assert!(total_ops > 3000, "{total_ops} operations");
    }

    #[test]
    fn updating_in_place_and_deleting_absent_keys() {
        let owner = B256::ZERO;
        let mut rng = Rng(11);
        let leaves = random_leaves(&mut rng, 200);
        let (root, store) = built(&owner, &leaves);

        let absent = LeafChanges::from([(rng.b256(), None), (rng.b256(), None)]);
        let noop = update(&store, &owner, root, &absent).expect("no-op");
        assert_eq!(
            noop,
            TrieUpdate {
                root,
                ..Default::default()
            }
        );
        let noop = update(&store, &owner, root, &LeafChanges::new()).expect("empty");
        assert_eq!(
            noop,
            TrieUpdate {
                root,
                ..Default::default()
            }
        );

        // Same value again: nothing to write.
        let (key, value) = leaves.iter().next().expect("leaf");
        let same = LeafChanges::from([(*key, Some(value.clone()))]);
        assert_eq!(
            update(&store, &owner, root, &same).expect("same"),
            TrieUpdate {
                root,
                ..Default::default()
            }
        );

        // A new value rewrites the nodes on its path only.
        let mut changed = leaves.clone();
        changed.insert(*key, account_value(&mut rng));
        let changes = LeafChanges::from([(*key, changed.get(key).cloned())]);
        let up = update(&store, &owner, root, &changes).expect("update");
        assert!(up.deletes.is_empty());
        assert!((1..=4).contains(&up.puts.len()), "{} puts", up.puts.len());
        assert_eq!(up.root, oracle_root(&changed));
    }

    #[test]
    fn deleting_everything_empties_only_that_owner() {
        let mut rng = Rng(21);
        let a = B256::ZERO;
        let b = rng.b256();
        let leaves_a: BTreeMap<B256, Vec<u8>> = (0..150)
            .map(|_| (rng.b256(), storage_value(rng.next() % 4 + 1)))
            .collect();
        let leaves_b: BTreeMap<B256, Vec<u8>> = (0..150)
            .map(|_| (rng.b256(), account_value(&mut rng)))
            .collect();
        let mut store = MemStore::default();
        let build_a = build(&a, leaves_a.clone()).expect("build a");
        let build_b = build(&b, leaves_b.clone()).expect("build b");
        store.apply(&build_a);
        store.apply(&build_b);
        let (_, only_b) = built(&b, &leaves_b);
        assert_eq!(store.owned_by(&b), only_b.0);
        assert_eq!(store.owned_by(&a).len(), build_a.puts.len());

        // Changing `a` leaves `b` alone, and the other way round.
        let del_all: LeafChanges = leaves_a.keys().map(|k| (*k, None)).collect();
        let gone = update(&store, &a, build_a.root, &del_all).expect("delete a");
        assert_eq!(gone.root, EMPTY_ROOT_HASH);
        assert!(gone.puts.is_empty());
        store.apply(&gone);
        assert!(store.owned_by(&a).is_empty());
        assert_eq!(store.0, only_b.0);

        let changes: LeafChanges = leaves_b.keys().take(10).map(|k| (*k, None)).collect();
        let up = update(&store, &b, build_b.root, &changes).expect("update b");
        store.apply(&up);
        let rest: BTreeMap<B256, Vec<u8>> = leaves_b
            .iter()
            .skip(10)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        assert_eq!(up.root, oracle_root(&rest));
        assert_eq!(store, built(&b, &rest).1);

        // `a` can be rebuilt from empty next to `b`.
        let again = update(&store, &a, EMPTY_ROOT_HASH, &inserts(&leaves_a)).expect("a again");
        assert_eq!(again.root, build_a.root);
    }

    #[test]
    fn bad_stores_are_errors() {
        let owner = B256::repeat_byte(5);
        let mut rng = Rng(31);
        let leaves = random_leaves(&mut rng, 64);
        let (root, store) = built(&owner, &leaves);
        let delete_all: LeafChanges = leaves.keys().map(|k| (*k, None)).collect();
        let none = LeafChanges::new();

        // Wrong root, missing root.
        assert_corrupt(update(&store, &owner, B256::repeat_byte(1), &none));
        assert_corrupt(update(&store, &owner, B256::repeat_byte(1), &delete_all));
        assert_corrupt(update(&MemStore::default(), &owner, root, &none));
        assert_corrupt(update(&store, &B256::ZERO, root, &none));

        // A missing inner node.
        let inner = store
            .0
            .keys()
            .max_by_key(|k| k.len())
            .expect("inner node")
            .clone();
        assert_ne!(inner, node_key(&owner, &Nibbles::new()));
        let mut missing = store.clone();
        missing.0.remove(&inner);
        assert_corrupt(update(&missing, &owner, root, &delete_all));

        // Corrupt bytes of an inner node (hash mismatch) and of the root.
        for bytes in [
            vec![],
            vec![0xc0],
            vec![0xff; 40],
            store.0[&inner][1..].to_vec(),
        ] {
            let mut corrupt = store.clone();
            corrupt.0.insert(inner.clone(), bytes.clone());
            assert_corrupt(update(&corrupt, &owner, root, &delete_all));

            // Root bytes that hash right but do not decode.
            let mut corrupt = store.clone();
            corrupt
                .0
                .insert(node_key(&owner, &Nibbles::new()), bytes.clone());
            assert_corrupt(update(&corrupt, &owner, keccak256(&bytes), &none));
        }

        // Well-formed RLP that is not a canonical trie node for 64-nibble keys.
        let mut short_leaf = Vec::new();
        LeafNodeRef::new(&Nibbles::from_nibbles([1, 2, 3]), &[1]).rlp(&mut short_leaf);
        let mut one_child = Vec::new();
        let child = RlpNode::word_rlp(&B256::repeat_byte(1));
        BranchNodeRef::new(std::slice::from_ref(&child), TrieMask::new(1)).rlp(&mut one_child);
        // An extension to an (embedded) leaf should have been one leaf.
        let mut leaf_rlp = Vec::new();
        let leaf_ref = LeafNodeRef::new(&Nibbles::from_nibbles([1; 2]), &[1]).rlp(&mut leaf_rlp);
        assert!(!leaf_ref.is_hash());
        let mut ext_to_leaf = Vec::new();
        ExtensionNodeRef::new(&Nibbles::from_nibbles([1; 62]), &leaf_ref).rlp(&mut ext_to_leaf);
        let mut trailing = short_leaf.clone();
        trailing.push(0);
        for bytes in [short_leaf, one_child, ext_to_leaf, trailing] {
            let mut bad = MemStore::default();
            bad.0
                .insert(node_key(&owner, &Nibbles::new()), bytes.clone());
            assert_corrupt(update(&bad, &owner, keccak256(&bytes), &none));
        }
    }

    /// Changing one key of a 10 000-leaf trie reads only the nodes on its path.
    #[test]
    fn updates_read_only_the_changed_paths() {
        let owner = B256::ZERO;
        let mut rng = Rng(41);
        let leaves = random_leaves(&mut rng, 10_000);
        let (root, store) = built(&owner, &leaves);
        assert!(store.0.len() > 10_000);

        let key = *leaves.keys().nth(1234).expect("key");
        for change in [
            LeafChanges::from([(key, Some(account_value(&mut rng)))]),
            LeafChanges::from([(key, None)]),
            LeafChanges::from([(rng.b256(), Some(account_value(&mut rng)))]),
            LeafChanges::from([(rng.b256(), None)]),
        ] {
            let counting = Counting {
                inner: &store,
                reads: Cell::new(0),
            };
            let up = update(&counting, &owner, root, &change).expect("update");
            let reads = counting.reads.get();
            assert!((1..=10).contains(&reads), "{reads} reads");

            // Undoing the change restores the root and the store exactly.
            let mut changed = store.clone();
            changed.apply(&up);
            let undo: LeafChanges = change
                .keys()
                .map(|k| (*k, leaves.get(k).cloned()))
                .collect();
            let back = update(&changed, &owner, up.root, &undo).expect("undo");
            changed.apply(&back);
            assert_eq!(back.root, root);
            assert!(changed == store);
        }
    }
}
