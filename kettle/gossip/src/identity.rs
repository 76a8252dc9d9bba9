//! Binding between a libp2p peer and a kettle.
//!
//! A node's libp2p key is an ephemeral ed25519 key (Noise authenticates it on every
//! connection); its kettle identity is a secp256k1 key. On connection each side sends a
//! [`PeerBinding`]: its kettle address, its PeerId and the genesis hash of its chain, signed
//! with the kettle key. The receiver accepts it only when the PeerId equals the
//! Noise-authenticated remote, the signature recovers the claimed address (so a binding
//! cannot be reused by another peer) and the genesis is its own (a kettle configured for
//! another chain is refused at the handshake rather than failing every block import).

use alloy_primitives::{keccak256, Address, Bytes, Signature, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use libp2p::PeerId;

/// Domain separator of binding signatures.
const BINDING_DOMAIN: &[u8] = b"kettle-gossip/peer-binding/v2";

/// A kettle's signed statement "my libp2p peer is `peer_id`".
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct PeerBinding {
    /// The kettle address (secp256k1 identity).
    pub kettle: Address,
    /// The libp2p PeerId bytes.
    pub peer_id: Bytes,
    /// Genesis hash of the chain the kettle follows.
    pub genesis: B256,
    /// 65-byte signature by `kettle` over [`PeerBinding::digest`].
    pub signature: Bytes,
}

/// Why a binding was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The binding names another PeerId than the authenticated remote.
    #[error("binding is for another peer")]
    WrongPeer,
    /// The signature is malformed or not by the claimed kettle.
    #[error("bad binding signature")]
    BadSignature,
    /// The kettle follows another chain.
    #[error("peer kettle {kettle} follows genesis {theirs}, this kettle follows {ours}")]
    OtherChain {
        /// The peer's kettle address (its signature checked).
        kettle: Address,
        /// This kettle's genesis hash.
        ours: B256,
        /// The peer's genesis hash.
        theirs: B256,
    },
    /// The signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

fn digest(kettle: &Address, peer_id: &[u8], genesis: &B256) -> B256 {
    let mut buf = Vec::with_capacity(BINDING_DOMAIN.len() + 20 + 32 + peer_id.len());
    buf.extend_from_slice(BINDING_DOMAIN);
    buf.extend_from_slice(kettle.as_slice());
    buf.extend_from_slice(genesis.as_slice());
    buf.extend_from_slice(peer_id);
    keccak256(&buf)
}

impl PeerBinding {
    /// Signs the binding of `peer` to the signer's kettle address on the chain of `genesis`.
    pub fn sign(
        signer: &PrivateKeySigner,
        peer: &PeerId,
        genesis: B256,
    ) -> Result<Self, BindingError> {
        let kettle = signer.address();
        let peer_id = peer.to_bytes();
        let sig = signer
            .sign_hash_sync(&digest(&kettle, &peer_id, &genesis))
            .map_err(|e| BindingError::Signing(e.to_string()))?;
        Ok(Self {
            kettle,
            peer_id: peer_id.into(),
            genesis,
            signature: Bytes::copy_from_slice(&sig.as_bytes()),
        })
    }

    /// The signed digest.
    pub fn digest(&self) -> B256 {
        digest(&self.kettle, &self.peer_id, &self.genesis)
    }

    /// Checks the binding against the authenticated remote and this kettle's `genesis`;
    /// returns the peer's kettle address.
    pub fn verify(&self, remote: &PeerId, genesis: &B256) -> Result<Address, BindingError> {
        if self.peer_id.as_ref() != remote.to_bytes().as_slice() {
            return Err(BindingError::WrongPeer);
        }
        let sig =
            Signature::try_from(self.signature.as_ref()).map_err(|_| BindingError::BadSignature)?;
        match sig.recover_address_from_prehash(&self.digest()) {
            Ok(a) if a == self.kettle => {}
            _ => return Err(BindingError::BadSignature),
        }
        if self.genesis != *genesis {
            return Err(BindingError::OtherChain {
                kettle: self.kettle,
                ours: *genesis,
                theirs: self.genesis,
            });
        }
        Ok(self.kettle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_verifies_only_for_its_peer_signer_and_chain() {
        let key = PrivateKeySigner::random();
        let peer = PeerId::random();
        let genesis = B256::repeat_byte(7);
        let b = PeerBinding::sign(&key, &peer, genesis).expect("sign");
        assert_eq!(b.verify(&peer, &genesis), Ok(key.address()));
        assert_eq!(
            b.verify(&PeerId::random(), &genesis),
            Err(BindingError::WrongPeer)
        );
        let mut claimed = b.clone();
        claimed.kettle = PrivateKeySigner::random().address();
        assert_eq!(
            claimed.verify(&peer, &genesis),
            Err(BindingError::BadSignature)
        );
        // Another chain: refused, naming both.
        let other = B256::repeat_byte(8);
        assert_eq!(
            b.verify(&peer, &other),
            Err(BindingError::OtherChain {
                kettle: key.address(),
                ours: other,
                theirs: genesis
            })
        );
        // The genesis is signed: rewriting it to ours breaks the signature.
        let mut rewritten = b.clone();
        rewritten.genesis = other;
        assert_eq!(
            rewritten.verify(&peer, &other),
            Err(BindingError::BadSignature)
        );
    }
}
