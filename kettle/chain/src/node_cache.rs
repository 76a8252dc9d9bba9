//! Trie nodes of the head state kept in memory between blocks.
//!
//! A block's state root loads the nodes on the paths of its changed keys. The next block
//! changes mostly the same accounts (the same senders, contracts and coinbase), so it needs
//! mostly the nodes the last block loaded or wrote. Reading them from RocksDB searched its
//! memtable for each node, about 1 % of a confidential request's CPU at load.
//!
//! The cache holds nodes of exactly one state: the one whose root it is tagged with. Builders
//! use it only for a parent with that root ([`NodeCache::for_root`]), and a committed block
//! moves it to the block's root by applying the same writes the block made on disk
//! ([`NodeCache::committed`]). Every node the trie code loads is still checked against the
//! hash its parent expects, so a cache that went wrong fails a block loudly instead of
//! producing a wrong root; the chain then empties it ([`NodeCache::clear`]).

use std::{cell::RefCell, collections::HashMap};

use alloy_primitives::B256;

use crate::{trie::NodeSource, ChainError};

/// At most this many nodes are kept (about 4 MiB at the largest node size); past it the cache
/// starts again empty, which costs the next blocks their reads from the database, as without
/// a cache.
pub(crate) const NODE_CACHE_CAPACITY: usize = 8192;

/// Encoded trie nodes by node key ([`crate::trie::node_key`]), for the state with root `root`.
#[derive(Debug)]
pub(crate) struct NodeCache {
    root: B256,
    nodes: HashMap<Vec<u8>, Vec<u8>>,
    capacity: usize,
}

impl NodeCache {
    /// An empty cache holding at most `capacity` nodes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            root: B256::ZERO,
            nodes: HashMap::new(),
            capacity,
        }
    }

    /// Empties the cache (any root is valid for an empty cache).
    pub(crate) fn clear(&mut self) {
        self.nodes.clear();
    }

    /// Makes the cache hold nodes of the state with root `root`: kept if it already does,
    /// emptied otherwise.
    pub(crate) fn for_root(&mut self, root: B256) -> &mut Self {
        if self.root != root {
            self.nodes.clear();
            self.root = root;
        }
        self
    }

    /// A block moved the state from `parent_root` to `root` by deleting the tries of
    /// `dropped` owners, then the nodes under `deletes`, then writing `puts` (as
    /// [`crate::chain::TrieWrites`] writes them to the database). Applied only if the cache
    /// holds `parent_root`'s nodes; otherwise it starts empty at `root`.
    pub(crate) fn committed<'a>(
        &mut self,
        parent_root: B256,
        root: B256,
        dropped: &[B256],
        deletes: impl IntoIterator<Item = &'a Vec<u8>>,
        puts: impl IntoIterator<Item = &'a (Vec<u8>, Vec<u8>)>,
    ) {
        if self.root != parent_root {
            self.nodes.clear();
            self.root = root;
            return;
        }
        self.root = root;
        for owner in dropped {
            self.nodes
                .retain(|key, _| !key.starts_with(owner.as_slice()));
        }
        for key in deletes {
            self.nodes.remove(key);
        }
        for (key, node) in puts {
            self.insert(key.clone(), node.clone());
        }
    }

    fn insert(&mut self, key: Vec<u8>, node: Vec<u8>) {
        if self.nodes.len() >= self.capacity && !self.nodes.contains_key(&key) {
            self.nodes.clear();
        }
        self.nodes.insert(key, node);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.nodes.len()
    }
}

/// A [`NodeSource`] reading through a [`NodeCache`] (already set to the source's root with
/// [`NodeCache::for_root`]) and keeping what it reads from `source`.
pub(crate) struct CachedNodes<'a, S> {
    source: &'a S,
    cache: RefCell<&'a mut NodeCache>,
}

impl<'a, S: NodeSource> CachedNodes<'a, S> {
    /// Reads `source`'s nodes through `cache`; both must be of the same state.
    pub(crate) fn new(source: &'a S, cache: &'a mut NodeCache) -> Self {
        Self {
            source,
            cache: RefCell::new(cache),
        }
    }
}

impl<S: NodeSource> NodeSource for CachedNodes<'_, S> {
    fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        if let Some(node) = self.cache.borrow().nodes.get(key) {
            return Ok(Some(node.clone()));
        }
        let node = self.source.node(key)?;
        if let Some(node) = &node {
            self.cache.borrow_mut().insert(key.to_vec(), node.clone());
        }
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A map of nodes that counts its reads.
    #[derive(Default)]
    struct Store {
        nodes: HashMap<Vec<u8>, Vec<u8>>,
        reads: Cell<usize>,
    }

    impl NodeSource for Store {
        fn node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
            self.reads.set(self.reads.get() + 1);
            Ok(self.nodes.get(key).cloned())
        }
    }

    fn key(owner: u8, path: u8) -> Vec<u8> {
        let mut k = vec![owner; 32];
        k.push(path);
        k
    }

    #[test]
    fn reads_go_to_the_source_once_per_root() {
        let mut store = Store::default();
        store.nodes.insert(key(0, 1), vec![1]);
        let (root, other) = (B256::repeat_byte(1), B256::repeat_byte(2));
        let mut cache = NodeCache::new(16);

        let cached = CachedNodes::new(&store, cache.for_root(root));
        assert_eq!(cached.node(&key(0, 1)).unwrap(), Some(vec![1]));
        assert_eq!(cached.node(&key(0, 1)).unwrap(), Some(vec![1]));
        assert_eq!(cached.node(&key(0, 9)).unwrap(), None, "absent");
        assert_eq!(
            store.reads.get(),
            2,
            "the second read of a node is the cache's"
        );

        // Another state: nothing of the first is served.
        store.nodes.insert(key(0, 1), vec![7]);
        let cached = CachedNodes::new(&store, cache.for_root(other));
        assert_eq!(cached.node(&key(0, 1)).unwrap(), Some(vec![7]));
        assert_eq!(store.reads.get(), 3);
    }

    #[test]
    fn a_commit_applies_the_blocks_writes_or_empties_the_cache() {
        let store = Store::default();
        let (r0, r1, r2) = (
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        let mut cache = NodeCache::new(16);
        cache.for_root(r0);
        for (k, v) in [
            (key(0, 1), 1),
            (key(0, 2), 2),
            (key(5, 1), 3),
            (key(5, 2), 4),
        ] {
            cache.insert(k, vec![v]);
        }
        let owner5 = B256::repeat_byte(5);
        cache.committed(
            r0,
            r1,
            &[owner5],
            &[key(0, 2)],
            &[(key(0, 3), vec![9]), (key(5, 1), vec![8])],
        );
        let cached = CachedNodes::new(&store, cache.for_root(r1));
        assert_eq!(cached.node(&key(0, 1)).unwrap(), Some(vec![1]), "kept");
        assert_eq!(cached.node(&key(0, 3)).unwrap(), Some(vec![9]), "written");
        assert_eq!(cached.node(&key(5, 1)).unwrap(), Some(vec![8]), "rewritten");
        assert_eq!(store.reads.get(), 0);
        assert_eq!(cached.node(&key(0, 2)).unwrap(), None, "deleted: read");
        assert_eq!(cached.node(&key(5, 2)).unwrap(), None, "dropped: read");
        assert_eq!(store.reads.get(), 2);

        // A commit on top of another root than the cache's leaves it empty at the new root.
        cache.committed(r0, r2, &[], &[], &[(key(0, 4), vec![4])]);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.for_root(r2).len(), 0);
    }

    #[test]
    fn past_capacity_the_cache_starts_again() {
        let mut cache = NodeCache::new(2);
        cache.for_root(B256::repeat_byte(1));
        cache.insert(key(0, 1), vec![1]);
        cache.insert(key(0, 2), vec![2]);
        cache.insert(key(0, 2), vec![3]);
        assert_eq!(cache.len(), 2, "rewriting a held key does not count");
        cache.insert(key(0, 3), vec![3]);
        assert_eq!(cache.len(), 1);
    }
}
