//! A sparse Merkle-Patricia trie over 32-byte keys: revealed from proof nodes, updated in
//! place, re-hashed with the alloy-trie node encoders.
//!
//! Nodes the proofs only reference by hash stay blinded. Every node revealed from a proof is
//! checked against the reference in its parent (the root against the trie's root hash), so the
//! revealed part is exactly the trie the root commits to. Revealed nodes keep their reference
//! (`rlp`) until an update changes them, so re-hashing only touches changed paths.

use std::iter::Peekable;

use alloy_primitives::{keccak256, Bytes, B256};
use alloy_rlp::EMPTY_STRING_CODE;
use alloy_trie::{
    nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode, TrieNode},
    Nibbles, TrieMask, EMPTY_ROOT_HASH,
};

use super::{BlindedNode, TrieError, TrieId};

/// Nibbles in a key (keys are 32 bytes).
const KEY_NIBBLES: usize = 64;

/// Why a proof could not be revealed into the trie.
#[derive(Debug, thiserror::Error)]
pub(super) enum ProofError {
    /// A node is not valid RLP of a trie node.
    #[error("malformed node: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// A node is valid RLP but not a node that can sit at its place in a 32-byte-key trie.
    #[error("invalid node at depth {depth}: {reason}")]
    Structure {
        /// Depth (in nibbles) of the node.
        depth: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A node does not hash to the reference its parent (or the root) holds.
    #[error("node does not hash to {0}")]
    HashMismatch(B256),
    /// The proof ends before it reaches the key's leaf or the point that excludes the key.
    #[error("proof is truncated")]
    Truncated,
    /// The proof goes on after the key's leaf or the point that excludes the key.
    #[error("proof has nodes past the end of the key's path")]
    Trailing,
}

/// A node an update needs that the proofs only reference by hash, and where it is.
#[derive(Debug)]
struct Blinded {
    /// The node's path (its nibbles from the root).
    path: Nibbles,
    /// The node's hash.
    hash: B256,
}

/// The path of the node reached with `rest` of the key `full` left.
fn path_at(full: &Nibbles, rest: &Nibbles) -> Nibbles {
    full.slice(..full.len() - rest.len())
}

/// A trie node: revealed, blinded (known by hash only) or empty.
#[derive(Debug, Default)]
struct Node {
    kind: Kind,
    /// The node's reference in its parent (`rlp(node)` if shorter than 32 bytes, else
    /// `rlp(keccak(rlp(node)))`) while it is known; cleared when the node changes. Always
    /// `None` for the root.
    rlp: Option<RlpNode>,
}

#[derive(Debug, Default)]
enum Kind {
    #[default]
    Empty,
    Blinded(B256),
    Leaf {
        key: Nibbles,
        value: Vec<u8>,
    },
    Extension {
        key: Nibbles,
        child: Box<Node>,
    },
    Branch(Box<[Node; 16]>),
}

impl Node {
    const fn new(kind: Kind) -> Self {
        Self { kind, rlp: None }
    }

    /// The hash this node is referenced by, if it is referenced by hash and unchanged.
    fn hash_ref(&self) -> Option<B256> {
        self.rlp.as_ref().and_then(RlpNode::as_hash)
    }

    /// The node's reference in its parent, computed (and cached) where needed.
    fn rlp_node(&mut self, buf: &mut Vec<u8>) -> RlpNode {
        if let Some(rlp) = &self.rlp {
            return rlp.clone();
        }
        let rlp = match &mut self.kind {
            Kind::Empty => RlpNode::from_rlp(&[EMPTY_STRING_CODE]),
            Kind::Blinded(hash) => RlpNode::word_rlp(hash),
            Kind::Leaf { key, value } => {
                buf.clear();
                LeafNodeRef::new(key, value).rlp(buf)
            }
            Kind::Extension { key, child } => {
                let child = child.rlp_node(buf);
                buf.clear();
                ExtensionNodeRef::new(key, &child).rlp(buf)
            }
            Kind::Branch(children) => {
                let mut stack = Vec::with_capacity(16);
                let mut mask = TrieMask::default();
                for (nibble, child) in (0u8..).zip(children.iter_mut()) {
                    if !matches!(child.kind, Kind::Empty) {
                        stack.push(child.rlp_node(buf));
                        mask.set_bit(nibble);
                    }
                }
                buf.clear();
                BranchNodeRef::new(&stack, mask).rlp(buf)
            }
        };
        self.rlp = Some(rlp.clone());
        rlp
    }
}

fn empty_children() -> Box<[Node; 16]> {
    Box::new(std::array::from_fn(|_| Node::default()))
}

fn structure(depth: usize, reason: &'static str) -> ProofError {
    ProofError::Structure { depth, reason }
}

/// Decodes a proof node at `depth` (nibbles), with its inline children.
fn decode_kind(bytes: &[u8], depth: usize) -> Result<Kind, ProofError> {
    kind_from(alloy_rlp::decode_exact::<TrieNode>(bytes)?, depth)
}

/// Converts a decoded node at `depth`, checking it fits there in a trie of 64-nibble keys
/// (which keeps every later path computation within 64 nibbles).
fn kind_from(node: TrieNode, depth: usize) -> Result<Kind, ProofError> {
    match node {
        TrieNode::EmptyRoot => Err(structure(depth, "empty node inside a trie")),
        TrieNode::Leaf(leaf) => {
            if depth + leaf.key.len() != KEY_NIBBLES {
                return Err(structure(depth, "leaf key does not end at the key length"));
            }
            Ok(Kind::Leaf {
                key: leaf.key,
                value: leaf.value,
            })
        }
        TrieNode::Extension(ext) => {
            if ext.key.is_empty() || depth + ext.key.len() >= KEY_NIBBLES {
                return Err(structure(depth, "extension key length out of range"));
            }
            let child = child_from(&ext.child, depth + ext.key.len())?;
            if !matches!(child.kind, Kind::Blinded(_) | Kind::Branch(_)) {
                return Err(structure(depth, "extension child is not a branch"));
            }
            Ok(Kind::Extension {
                key: ext.key,
                child: Box::new(child),
            })
        }
        TrieNode::Branch(branch) => {
            if depth >= KEY_NIBBLES {
                return Err(structure(depth, "branch below the key length"));
            }
            if branch.state_mask.count_bits() < 2 {
                return Err(structure(depth, "branch with fewer than two children"));
            }
            let mut children = empty_children();
            for (nibble, child) in branch.as_ref().children() {
                if let Some(child) = child {
                    children[usize::from(nibble)] = child_from(child, depth + 1)?;
                }
            }
            Ok(Kind::Branch(children))
        }
    }
}

/// A child reference: a hash (blinded) or an inline node (revealed).
fn child_from(rlp: &RlpNode, depth: usize) -> Result<Node, ProofError> {
    let kind = if rlp.len() < 32 {
        kind_from(alloy_rlp::decode_exact::<TrieNode>(&rlp[..])?, depth)?
    } else {
        match rlp.as_hash() {
            Some(hash) if rlp[0] == EMPTY_STRING_CODE + 32 => Kind::Blinded(hash),
            _ => {
                return Err(structure(
                    depth,
                    "child reference is neither a hash nor inline",
                ))
            }
        }
    };
    Ok(Node {
        kind,
        rlp: Some(rlp.clone()),
    })
}

/// Walks `path` from `node` (at `depth`), taking proof nodes wherever the walk crosses a hash
/// reference (`expected`), and returns the key's value (`None` if the proof excludes it).
fn reveal_node<'a>(
    node: &mut Node,
    expected: Option<B256>,
    depth: usize,
    path: &Nibbles,
    proof: &mut Peekable<impl Iterator<Item = &'a Bytes>>,
) -> Result<Option<Vec<u8>>, ProofError> {
    match expected {
        Some(hash) => {
            let bytes = proof.next().ok_or(ProofError::Truncated)?;
            if keccak256(bytes) != hash {
                return Err(ProofError::HashMismatch(hash));
            }
            // A node another proof already revealed is not decoded again.
            if matches!(node.kind, Kind::Blinded(_)) {
                node.kind = decode_kind(bytes, depth)?;
            }
        }
        None => {
            // An inline node is revealed inside its parent; some servers list it again.
            if let (Some(rlp), Some(next)) = (&node.rlp, proof.peek()) {
                if next[..] == rlp[..] {
                    proof.next();
                }
            }
        }
    }
    match &mut node.kind {
        Kind::Empty => Ok(None),
        // Unreachable: a blinded node always has a hash reference, revealed just above.
        Kind::Blinded(_) => Err(ProofError::Truncated),
        Kind::Leaf { key, value } => Ok((path.slice(depth..) == *key).then(|| value.clone())),
        Kind::Extension { key, child } => {
            if !path.slice(depth..).starts_with(key) {
                return Ok(None);
            }
            let depth = depth + key.len();
            let expected = child.hash_ref();
            reveal_node(child, expected, depth, path, proof)
        }
        Kind::Branch(children) => {
            let child = &mut children[usize::from(path.get_unchecked(depth))];
            if matches!(child.kind, Kind::Empty) {
                return Ok(None);
            }
            let expected = child.hash_ref();
            reveal_node(child, expected, depth + 1, path, proof)
        }
    }
}

/// Sets `key` (remaining path below `node` of the full key `full`) to `value`. Returns whether
/// anything changed.
fn insert(node: &mut Node, full: &Nibbles, key: Nibbles, value: Vec<u8>) -> Result<bool, Blinded> {
    let changed = match &mut node.kind {
        Kind::Empty => {
            node.kind = Kind::Leaf { key, value };
            true
        }
        Kind::Blinded(hash) => {
            return Err(Blinded {
                path: path_at(full, &key),
                hash: *hash,
            })
        }
        Kind::Leaf {
            key: leaf_key,
            value: leaf_value,
        } => {
            if *leaf_key == key {
                if *leaf_value == value {
                    return Ok(false);
                }
                *leaf_value = value;
            } else {
                // Same length, different: they diverge before the end.
                let common = leaf_key.common_prefix_length(&key);
                let mut children = empty_children();
                children[usize::from(leaf_key.get_unchecked(common))] = Node::new(Kind::Leaf {
                    key: leaf_key.slice(common + 1..),
                    value: std::mem::take(leaf_value),
                });
                children[usize::from(key.get_unchecked(common))] = Node::new(Kind::Leaf {
                    key: key.slice(common + 1..),
                    value,
                });
                node.kind = with_prefix(key.slice(..common), Kind::Branch(children));
            }
            true
        }
        Kind::Extension {
            key: ext_key,
            child,
        } => {
            if key.starts_with(ext_key) {
                if !insert(child, full, key.slice(ext_key.len()..), value)? {
                    return Ok(false);
                }
            } else {
                // The key leaves the extension before its end (and before the key's end).
                let common = ext_key.common_prefix_length(&key);
                let rest = ext_key.slice(common + 1..);
                let old_child = std::mem::take(child);
                let mut children = empty_children();
                children[usize::from(ext_key.get_unchecked(common))] = if rest.is_empty() {
                    *old_child
                } else {
                    Node::new(Kind::Extension {
                        key: rest,
                        child: old_child,
                    })
                };
                children[usize::from(key.get_unchecked(common))] = Node::new(Kind::Leaf {
                    key: key.slice(common + 1..),
                    value,
                });
                node.kind = with_prefix(key.slice(..common), Kind::Branch(children));
            }
            true
        }
        Kind::Branch(children) => {
            let child = &mut children[usize::from(key.get_unchecked(0))];
            if !insert(child, full, key.slice(1..), value)? {
                return Ok(false);
            }
            true
        }
    };
    node.rlp = None;
    Ok(changed)
}

/// `branch`, behind an extension of `prefix` unless the prefix is empty.
fn with_prefix(prefix: Nibbles, branch: Kind) -> Kind {
    if prefix.is_empty() {
        branch
    } else {
        Kind::Extension {
            key: prefix,
            child: Box::new(Node::new(branch)),
        }
    }
}

/// Removes `key` (remaining path below `node` of the full key `full`), collapsing branches left
/// with one child. Returns whether anything changed.
fn remove(node: &mut Node, full: &Nibbles, key: Nibbles) -> Result<bool, Blinded> {
    match &mut node.kind {
        Kind::Empty => return Ok(false),
        Kind::Blinded(hash) => {
            return Err(Blinded {
                path: path_at(full, &key),
                hash: *hash,
            })
        }
        Kind::Leaf { key: leaf_key, .. } => {
            if *leaf_key != key {
                return Ok(false);
            }
            node.kind = Kind::Empty;
        }
        Kind::Extension {
            key: ext_key,
            child,
        } => {
            if !key.starts_with(ext_key) || !remove(child, full, key.slice(ext_key.len()..))? {
                return Ok(false);
            }
            // The child branch may have collapsed into a leaf or an extension: merge it.
            let prefix = *ext_key;
            match std::mem::take(&mut child.kind) {
                Kind::Empty => node.kind = Kind::Empty,
                Kind::Leaf { key, value } => {
                    node.kind = Kind::Leaf {
                        key: prefix.join(&key),
                        value,
                    };
                }
                Kind::Extension { key, child } => {
                    node.kind = Kind::Extension {
                        key: prefix.join(&key),
                        child,
                    };
                }
                kind @ (Kind::Branch(_) | Kind::Blinded(_)) => child.kind = kind,
            }
        }
        Kind::Branch(children) => {
            let child = &mut children[usize::from(key.get_unchecked(0))];
            if !remove(child, full, key.slice(1..))? {
                return Ok(false);
            }
            let mut left = children
                .iter()
                .enumerate()
                .filter(|(_, c)| !matches!(c.kind, Kind::Empty));
            match (left.next(), left.next()) {
                (Some(_), Some(_)) => {}
                (Some((index, _)), None) => {
                    node.kind = collapse(path_at(full, &key), index, &mut children[index])?;
                }
                (None, _) => node.kind = Kind::Empty,
            }
        }
    }
    node.rlp = None;
    Ok(true)
}

/// The node replacing the branch at `branch_path` whose only child left is `child`, at
/// `index`.
fn collapse(branch_path: Nibbles, index: usize, child: &mut Node) -> Result<Kind, Blinded> {
    let mut prefix = Nibbles::new();
    // `index` is a branch slot, below 16.
    prefix.push_unchecked(index as u8);
    Ok(match &mut child.kind {
        // A hash-referenced child might be a leaf or an extension that has to be merged with
        // the prefix: without its node the new root cannot be computed.
        Kind::Blinded(hash) => {
            return Err(Blinded {
                path: branch_path.join(&prefix),
                hash: *hash,
            })
        }
        Kind::Leaf { key, value } => Kind::Leaf {
            key: prefix.join(key),
            value: std::mem::take(value),
        },
        Kind::Extension { key, child } => Kind::Extension {
            key: prefix.join(key),
            child: std::mem::take(child),
        },
        Kind::Branch(_) => Kind::Extension {
            key: prefix,
            child: Box::new(std::mem::take(child)),
        },
        Kind::Empty => Kind::Empty,
    })
}

/// A sparse trie over 32-byte keys. Reveal every proof first, then update.
#[derive(Debug)]
pub(super) struct SparseTrie {
    /// The root hash the trie started from, which proofs are checked against.
    parent_root: B256,
    root: Node,
    /// Which trie of the state this is (for errors).
    trie: TrieId,
}

impl SparseTrie {
    /// The trie `trie` known only by its root hash.
    pub(super) fn new(root: B256, trie: TrieId) -> Self {
        let kind = if root == EMPTY_ROOT_HASH {
            Kind::Empty
        } else {
            Kind::Blinded(root)
        };
        Self {
            parent_root: root,
            root: Node::new(kind),
            trie,
        }
    }

    /// Whether the trie started empty (every key is then known to be absent).
    pub(super) fn started_empty(&self) -> bool {
        self.parent_root == EMPTY_ROOT_HASH
    }

    /// Checks `proof` (root first, as `eth_getProof` returns it) for `key` against the root,
    /// reveals its nodes and returns the key's value, `None` if the proof excludes the key.
    /// Must be called before any update.
    pub(super) fn reveal(
        &mut self,
        key: &B256,
        proof: &[Bytes],
    ) -> Result<Option<Vec<u8>>, ProofError> {
        let path = Nibbles::unpack(key);
        let mut proof = proof.iter().peekable();
        let value = if self.started_empty() {
            // An empty trie: an empty proof or the empty node.
            if proof
                .peek()
                .is_some_and(|node| node[..] == [EMPTY_STRING_CODE])
            {
                proof.next();
            }
            None
        } else {
            reveal_node(&mut self.root, Some(self.parent_root), 0, &path, &mut proof)?
        };
        if proof.next().is_some() {
            return Err(ProofError::Trailing);
        }
        Ok(value)
    }

    /// Sets `key` to `value` (non-empty). Its path must have been revealed.
    pub(super) fn insert(&mut self, key: &B256, value: Vec<u8>) -> Result<(), TrieError> {
        let key = Nibbles::unpack(key);
        insert(&mut self.root, &key, key, value)
            .map(drop)
            .map_err(|blinded| self.blinded(blinded))
    }

    /// Removes `key` if present. Its path must have been revealed. Fails with
    /// [`TrieError::BlindedNode`] if the removal collapses a branch into a blinded child.
    pub(super) fn remove(&mut self, key: &B256) -> Result<(), TrieError> {
        let key = Nibbles::unpack(key);
        remove(&mut self.root, &key, key)
            .map(drop)
            .map_err(|blinded| self.blinded(blinded))
    }

    /// The error for a blinded node an update of this trie needs.
    fn blinded(&self, blinded: Blinded) -> TrieError {
        TrieError::BlindedNode(BlindedNode {
            trie: self.trie,
            path: blinded.path,
            hash: blinded.hash,
        })
    }

    /// The root hash of the trie as it is now.
    pub(super) fn root(&mut self) -> B256 {
        if matches!(self.root.kind, Kind::Empty) {
            return EMPTY_ROOT_HASH;
        }
        let rlp = self.root.rlp_node(&mut Vec::with_capacity(544));
        // The root is hashed even when its encoding is short enough to be inlined.
        let root = rlp.as_hash().unwrap_or_else(|| keccak256(&rlp));
        // `rlp` of the root is not a reference in any parent: don't keep it.
        self.root.rlp = None;
        root
    }
}
