//! Builder bids: the signed `BidTrace` a kettle attaches to a block it built, and the deneb
//! `SubmitBlockRequest` it posts to a relay (SUAVE-COMPAT §8.1 steps 5–9).
//!
//! - [`BidTrace`] with its SSZ [`hash_tree_root`](BidTrace::hash_tree_root) (hand-written for
//!   this fixed container), [`compute_signing_root`], [`builder_domain`] and
//!   [`fork_version_for_chain`] (the builder-specs signing rules);
//! - [`BuilderKey`]: a BLS12-381 key (blst, `min_pk`, proof-of-possession DST) that signs bids,
//!   and [`verify_bid`] for the other side;
//! - the JSON forms: [`ExecutionPayload`] (deneb, snake_case, numbers as decimal strings),
//!   [`submit_block_request`] (a `serde_json::Value`) and [`bid_json`] (the bytes
//!   `buildEthBlock` returns first, in go-builder-client's field order).
//!
//! Checked against mainnet / Holesky / Kiln builder domains and a real Goerli relay
//! submission signed by the Flashbots builder (see the tests).

use alloy_consensus::Header;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, Bloom, Bytes, FixedBytes, B256, U256};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The BLS signature domain separation tag of the Ethereum consensus layer (proof of
/// possession scheme), used for builder bids.
pub const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// `DOMAIN_APPLICATION_BUILDER` of the builder-specs.
pub const DOMAIN_APPLICATION_BUILDER: [u8; 4] = [0x00, 0x00, 0x00, 0x01];

/// A compressed BLS12-381 public key (G1, 48 bytes).
pub type BlsPublicKey = FixedBytes<48>;

/// A compressed BLS12-381 signature (G2, 96 bytes).
pub type BlsSignature = FixedBytes<96>;

/// Errors of bid construction and signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BidError {
    /// The eth backend's chain has no known builder fork version.
    #[error("unsupported chain id {0}")]
    UnsupportedChainId(u64),
    /// The 32 bytes are not a valid BLS secret scalar (zero, or not below the group order).
    #[error("invalid BLS secret key")]
    InvalidSecretKey,
}

/// The message of a builder bid (builder-specs `BidTrace`), signed by the builder.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BidTrace {
    /// Beacon slot the block is for.
    #[serde(with = "decimal_u64")]
    pub slot: u64,
    /// Hash of the parent execution block.
    pub parent_hash: B256,
    /// Hash of the built execution block.
    pub block_hash: B256,
    /// The builder's BLS public key.
    pub builder_pubkey: BlsPublicKey,
    /// The proposer's BLS public key.
    pub proposer_pubkey: BlsPublicKey,
    /// Where the proposer payment goes.
    pub proposer_fee_recipient: Address,
    /// Gas limit of the block.
    #[serde(with = "decimal_u64")]
    pub gas_limit: u64,
    /// Gas used by the block.
    #[serde(with = "decimal_u64")]
    pub gas_used: u64,
    /// Value of the bid to the proposer, in wei.
    #[serde(with = "decimal_u256")]
    pub value: U256,
}

impl BidTrace {
    /// SSZ `hash_tree_root` of the container (9 fields, merkleized over 16 leaves).
    pub fn hash_tree_root(&self) -> B256 {
        let leaves = [
            chunk_u64(self.slot),
            self.parent_hash.0,
            self.block_hash.0,
            pubkey_root(&self.builder_pubkey),
            pubkey_root(&self.proposer_pubkey),
            chunk_bytes(self.proposer_fee_recipient.as_slice()),
            chunk_u64(self.gas_limit),
            chunk_u64(self.gas_used),
            self.value.to_le_bytes::<32>(),
        ];
        B256::from(merkleize(&leaves))
    }

    /// The root the builder signs: [`compute_signing_root`] of this bid's root in `domain`.
    pub fn signing_root(&self, domain: B256) -> B256 {
        compute_signing_root(self.hash_tree_root(), domain)
    }
}

/// A proposer public key as the builder-specs carry it: `bytes` copied into 48 bytes,
/// zero-padded when shorter and truncated when longer (what suave-geth does with
/// `args.proposerPubkey`).
pub fn pubkey_from_slice(bytes: &[u8]) -> BlsPublicKey {
    let mut out = [0u8; 48];
    let n = bytes.len().min(48);
    out[..n].copy_from_slice(&bytes[..n]);
    BlsPublicKey::from(out)
}

/// SSZ `compute_signing_root`: the root of `SigningData { object_root, domain }`.
pub fn compute_signing_root(object_root: B256, domain: B256) -> B256 {
    B256::from(hash_pair(&object_root.0, &domain.0))
}

/// The builder signing domain: `DOMAIN_APPLICATION_BUILDER ‖ fork_data_root(fork_version,
/// zero genesis_validators_root)[..28]` (builder bids are signed outside any beacon chain, so
/// the genesis validators root is zero).
pub fn builder_domain(fork_version: [u8; 4]) -> B256 {
    let fork_data_root = hash_pair(&chunk_bytes(&fork_version), &[0u8; 32]);
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&DOMAIN_APPLICATION_BUILDER);
    domain[4..].copy_from_slice(&fork_data_root[..28]);
    B256::from(domain)
}

/// The genesis fork version whose builder domain bids for `chain_id` are signed in (what
/// suave-geth uses): mainnet (1) → `00000000`; Holesky (17000) and local dev chains (1337) →
/// `01017000`; anything else is an error.
pub fn fork_version_for_chain(chain_id: u64) -> Result<[u8; 4], BidError> {
    match chain_id {
        1 => Ok([0x00, 0x00, 0x00, 0x00]),
        17000 | 1337 => Ok([0x01, 0x01, 0x70, 0x00]),
        other => Err(BidError::UnsupportedChainId(other)),
    }
}

/// A builder's BLS12-381 secret key (`min_pk`: 48-byte public keys, 96-byte signatures).
#[derive(Clone)]
pub struct BuilderKey {
    secret: blst::min_pk::SecretKey,
    public: [u8; 48],
}

impl std::fmt::Debug for BuilderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the secret
        f.debug_struct("BuilderKey")
            .field("public_key", &BlsPublicKey::from(self.public))
            .finish_non_exhaustive()
    }
}

impl BuilderKey {
    /// The key whose secret scalar is `secret` (big-endian; no key derivation). Fails when
    /// the scalar is zero or not below the BLS12-381 group order.
    pub fn from_secret(secret: [u8; 32]) -> Result<Self, BidError> {
        let secret =
            blst::min_pk::SecretKey::from_bytes(&secret).map_err(|_| BidError::InvalidSecretKey)?;
        let public = secret.sk_to_pk().to_bytes();
        Ok(Self { secret, public })
    }

    /// A key derived from 32 bytes of secret key material with the EIP-2333 `KeyGen`
    /// (HKDF-SHA256 into the group order): any input gives a valid key. This is how the
    /// kettle turns the random bytes of its key file into its builder key.
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, BidError> {
        let secret =
            blst::min_pk::SecretKey::key_gen(&seed, &[]).map_err(|_| BidError::InvalidSecretKey)?;
        let public = secret.sk_to_pk().to_bytes();
        Ok(Self { secret, public })
    }

    /// The compressed public key.
    pub fn public_key(&self) -> [u8; 48] {
        self.public
    }

    /// The compressed signature of `root` (a signing root) with [`BLS_DST`].
    pub fn sign(&self, root: B256) -> [u8; 96] {
        self.secret.sign(root.as_slice(), BLS_DST, &[]).to_bytes()
    }

    /// Signs `bid` in `domain` (normally [`builder_domain`]).
    pub fn sign_bid(&self, bid: &BidTrace, domain: B256) -> [u8; 96] {
        self.sign(bid.signing_root(domain))
    }
}

/// Whether `signature` is a valid BLS signature of `root` by `pubkey` (both compressed;
/// points off the curve or outside the subgroup, and the infinity key, are rejected).
pub fn verify_bid(pubkey: &[u8; 48], root: B256, signature: &[u8; 96]) -> bool {
    let Ok(pk) = blst::min_pk::PublicKey::key_validate(pubkey) else {
        return false;
    };
    let Ok(sig) = blst::min_pk::Signature::sig_validate(signature, true) else {
        return false;
    };
    sig.verify(false, root.as_slice(), BLS_DST, &[], &pk, false) == blst::BLST_ERROR::BLST_SUCCESS
}

/// A deneb execution payload in the builder-API JSON form (snake_case, numbers as decimal
/// strings, fields in go-builder-client's order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionPayload {
    /// Parent block hash.
    pub parent_hash: B256,
    /// The block's coinbase.
    pub fee_recipient: Address,
    /// State root after the block.
    pub state_root: B256,
    /// Receipts root.
    pub receipts_root: B256,
    /// Logs bloom.
    pub logs_bloom: Bloom,
    /// `prevRandao` (the header's mix hash).
    pub prev_randao: B256,
    /// Block number.
    #[serde(with = "decimal_u64")]
    pub block_number: u64,
    /// Gas limit.
    #[serde(with = "decimal_u64")]
    pub gas_limit: u64,
    /// Gas used.
    #[serde(with = "decimal_u64")]
    pub gas_used: u64,
    /// Timestamp (seconds).
    #[serde(with = "decimal_u64")]
    pub timestamp: u64,
    /// Extra data.
    pub extra_data: Bytes,
    /// Base fee per gas.
    #[serde(with = "decimal_u256")]
    pub base_fee_per_gas: U256,
    /// Block hash.
    pub block_hash: B256,
    /// The transactions, EIP-2718 encoded.
    pub transactions: Vec<Bytes>,
    /// The withdrawals.
    pub withdrawals: Vec<PayloadWithdrawal>,
    /// Blob gas used.
    #[serde(with = "decimal_u64")]
    pub blob_gas_used: u64,
    /// Excess blob gas.
    #[serde(with = "decimal_u64")]
    pub excess_blob_gas: u64,
}

impl ExecutionPayload {
    /// The payload of the block with `header` (its hash computed here), `transactions`
    /// (EIP-2718 encoded) and `withdrawals`; absent optional header fields become zero.
    pub fn from_block(
        header: &Header,
        transactions: Vec<Bytes>,
        withdrawals: &[Withdrawal],
    ) -> Self {
        Self {
            parent_hash: header.parent_hash,
            fee_recipient: header.beneficiary,
            state_root: header.state_root,
            receipts_root: header.receipts_root,
            logs_bloom: header.logs_bloom,
            prev_randao: header.mix_hash,
            block_number: header.number,
            gas_limit: header.gas_limit,
            gas_used: header.gas_used,
            timestamp: header.timestamp,
            extra_data: header.extra_data.clone(),
            base_fee_per_gas: U256::from(header.base_fee_per_gas.unwrap_or_default()),
            block_hash: header.hash_slow(),
            transactions,
            withdrawals: withdrawals.iter().map(PayloadWithdrawal::from).collect(),
            blob_gas_used: header.blob_gas_used.unwrap_or_default(),
            excess_blob_gas: header.excess_blob_gas.unwrap_or_default(),
        }
    }
}

/// A withdrawal in the builder-API JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadWithdrawal {
    /// Withdrawal index.
    #[serde(with = "decimal_u64")]
    pub index: u64,
    /// Validator index.
    #[serde(with = "decimal_u64")]
    pub validator_index: u64,
    /// Recipient.
    pub address: Address,
    /// Amount in gwei.
    #[serde(with = "decimal_u64")]
    pub amount: u64,
}

impl From<&Withdrawal> for PayloadWithdrawal {
    fn from(w: &Withdrawal) -> Self {
        Self {
            index: w.index,
            validator_index: w.validator_index,
            address: w.address,
            amount: w.amount,
        }
    }
}

impl From<&PayloadWithdrawal> for Withdrawal {
    fn from(w: &PayloadWithdrawal) -> Self {
        Self {
            index: w.index,
            validator_index: w.validator_index,
            address: w.address,
            amount: w.amount,
        }
    }
}

/// The deneb blobs bundle of a submission (always empty: the builder includes no blobs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobsBundle {
    /// KZG commitments.
    pub commitments: Vec<Bytes>,
    /// KZG proofs.
    pub proofs: Vec<Bytes>,
    /// Blobs.
    pub blobs: Vec<Bytes>,
}

/// A deneb `SubmitBlockRequest` (builder-specs relay API), fields in go-builder-client's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitBlockRequest {
    /// The signed bid.
    pub message: BidTrace,
    /// The block.
    pub execution_payload: ExecutionPayload,
    /// The blobs (empty).
    pub blobs_bundle: BlobsBundle,
    /// BLS signature of the bid's signing root.
    pub signature: BlsSignature,
}

/// The `SubmitBlockRequest` JSON of a signed bid: `{"message":{…},"execution_payload":…,
/// "blobs_bundle":{"commitments":[],"proofs":[],"blobs":[]},"signature":"0x…"}`, the payload
/// embedded as given. (A `Value` orders keys alphabetically; [`bid_json`] keeps the Go order.)
pub fn submit_block_request(
    bid: &BidTrace,
    execution_payload_json: serde_json::Value,
    signature: [u8; 96],
) -> serde_json::Value {
    serde_json::json!({
        "message": bid_message_json(bid),
        "execution_payload": execution_payload_json,
        "blobs_bundle": { "commitments": [], "proofs": [], "blobs": [] },
        "signature": BlsSignature::from(signature),
    })
}

/// The JSON of a bid message alone (decimal-string numbers, `0x` hex bytes).
pub fn bid_message_json(bid: &BidTrace) -> serde_json::Value {
    serde_json::json!({
        "slot": bid.slot.to_string(),
        "parent_hash": bid.parent_hash,
        "block_hash": bid.block_hash,
        "builder_pubkey": bid.builder_pubkey,
        "proposer_pubkey": bid.proposer_pubkey,
        "proposer_fee_recipient": bid.proposer_fee_recipient,
        "gas_limit": bid.gas_limit.to_string(),
        "gas_used": bid.gas_used.to_string(),
        "value": bid.value.to_string(),
    })
}

/// What `buildEthBlock` returns as its first element, and the body it posts to a relay:
/// the complete deneb `SubmitBlockRequest` (message, payload, empty blobs bundle, signature)
/// as compact JSON in go-builder-client's field order, like suave-geth's
/// `SubmitBlockRequest.MarshalJSON()`.
pub fn bid_json(
    bid: &BidTrace,
    execution_payload: &ExecutionPayload,
    signature: [u8; 96],
) -> Vec<u8> {
    let request = SubmitBlockRequest {
        message: bid.clone(),
        execution_payload: execution_payload.clone(),
        blobs_bundle: BlobsBundle::default(),
        signature: BlsSignature::from(signature),
    };
    // Serializing plain structs of strings cannot fail.
    serde_json::to_vec(&request).unwrap_or_default()
}

// ---- SSZ merkleization -----------------------------------------------------------------------

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hash_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a);
    buf[32..].copy_from_slice(b);
    sha256(&buf)
}

/// A basic `uint64` as its chunk (little-endian, zero-padded).
fn chunk_u64(v: u64) -> [u8; 32] {
    let mut c = [0u8; 32];
    c[..8].copy_from_slice(&v.to_le_bytes());
    c
}

/// At most 32 bytes, right-padded with zeros into one chunk.
fn chunk_bytes(bytes: &[u8]) -> [u8; 32] {
    let mut c = [0u8; 32];
    c[..bytes.len()].copy_from_slice(bytes);
    c
}

/// `hash_tree_root` of a `ByteVector[48]`: two chunks (the second zero-padded) merkleized.
fn pubkey_root(pk: &BlsPublicKey) -> [u8; 32] {
    hash_pair(&chunk_bytes(&pk[..32]), &chunk_bytes(&pk[32..]))
}

/// SSZ `merkleize` of `chunks`, padded with zero chunks to the next power of two.
fn merkleize(chunks: &[[u8; 32]]) -> [u8; 32] {
    let width = chunks.len().max(1).next_power_of_two();
    let mut layer = chunks.to_vec();
    layer.resize(width, [0u8; 32]);
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
    }
    layer[0]
}

// ---- decimal-string serde --------------------------------------------------------------------

mod decimal_u64 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| D::Error::custom(format!("expected a decimal uint64 string, got {s:?}")))
    }
}

mod decimal_u256 {
    use alloy_primitives::U256;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(D::Error::custom(format!(
                "expected a decimal uint256 string, got {s:?}"
            )));
        }
        U256::from_str_radix(&s, 10)
            .map_err(|_| D::Error::custom(format!("uint256 out of range: {s:?}")))
    }
}

#[cfg(test)]
mod seed_tests {
    use super::*;

    #[test]
    fn any_seed_gives_a_valid_stable_key() {
        // Above the group order: invalid as a scalar, fine as a seed.
        let seed = [0xff; 32];
        assert!(BuilderKey::from_secret(seed).is_err());
        let a = BuilderKey::from_seed(seed).expect("valid");
        let b = BuilderKey::from_seed(seed).expect("valid");
        assert_eq!(a.public_key(), b.public_key());
        let root = B256::repeat_byte(3);
        assert!(verify_bid(&a.public_key(), root, &a.sign(root)));
        assert_ne!(
            BuilderKey::from_seed([0xfe; 32])
                .expect("valid")
                .public_key(),
            a.public_key()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256, hex};

    /// A real Goerli relay submission (flashbots/mev-boost-relay
    /// `testdata/submitBlockPayloadCapella_Goerli.json`), signed by the Flashbots builder.
    const GOERLI_BID: &str = r#"{
        "slot": "5552306",
        "parent_hash": "0xbd3291854dc822b7ec585925cda0e18f06af28fa2886e15f52d52dd4b6f94ed6",
        "block_hash": "0x1bafdc454116b605005364976b134d761dd736cb4788d25c835783b46daeb121",
        "builder_pubkey": "0xb67a5148a03229926e34b190af81a82a81c4df66831c98c03a139778418dd09a3b542ced0022620d19f35781ece6dc36",
        "proposer_pubkey": "0x8559727ee65c295279332198029c939557f4d2aba0751fc55f71d0733b8aa17cd0301232a7f21a895f81eacf55c97ec4",
        "proposer_fee_recipient": "0x5cc0dde14e7256340cc820415a6022a7d1c93a35",
        "gas_limit": "30000000",
        "gas_used": "25875661",
        "value": "71177763439091815"
    }"#;
    const GOERLI_SIG: &str = "a2def54237bfeb1d9269365e853b5469f68b7f4ad51ca7877e406ca94bc8a94bba54c14024b2f9ed37d8690bb9fac52600b7ff52b96b843cd8529e9ecc2497a0ecd5db8372e2049156e0fa9334d5c1b0ef642f192675b586ecbe6fc381178f88";
    const GOERLI_FORK: [u8; 4] = [0x00, 0x00, 0x10, 0x20];

    fn sig(hex_str: &str) -> [u8; 96] {
        hex::decode(hex_str).unwrap().try_into().unwrap()
    }

    fn sample_bid(key: &BuilderKey) -> BidTrace {
        BidTrace {
            slot: 42,
            parent_hash: B256::repeat_byte(0x11),
            block_hash: B256::repeat_byte(0x22),
            builder_pubkey: key.public_key().into(),
            proposer_pubkey: pubkey_from_slice(&[0xab; 10]),
            proposer_fee_recipient: address!("00000000000000000000000000000000000000fe"),
            gas_limit: 30_000_000,
            gas_used: 21_000,
            value: U256::from(123_456_789_u64),
        }
    }

    fn test_key() -> BuilderKey {
        let mut secret = [0u8; 32];
        secret[31] = 7;
        BuilderKey::from_secret(secret).unwrap()
    }

    #[test]
    fn bid_builder_domains_match_known_chains() {
        // mainnet, Holesky (mev-boost / commit-boost constants), Kiln (go-boost-utils test)
        assert_eq!(
            builder_domain(fork_version_for_chain(1).unwrap()),
            b256!("00000001f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a9")
        );
        assert_eq!(
            builder_domain(fork_version_for_chain(17000).unwrap()),
            b256!("000000015b83a23759c560b2d0c64576e1dcfc34ea94c4988f3e0d9f77f05387")
        );
        assert_eq!(
            builder_domain([0x70, 0x00, 0x00, 0x69]),
            b256!("000000017acd69a9ede79f3eb3eaa814c09159eeaa3d004be62f3372d9b31e9c")
        );
    }

    #[test]
    fn bid_fork_versions() {
        assert_eq!(fork_version_for_chain(1), Ok([0, 0, 0, 0]));
        assert_eq!(fork_version_for_chain(1337), Ok([1, 1, 0x70, 0]));
        assert_eq!(fork_version_for_chain(17000), Ok([1, 1, 0x70, 0]));
        let err = fork_version_for_chain(5).unwrap_err();
        assert_eq!(err.to_string(), "unsupported chain id 5");
    }

    #[test]
    fn bid_real_goerli_submission_verifies() {
        let bid: BidTrace = serde_json::from_str(GOERLI_BID).unwrap();
        assert_eq!(bid.value, U256::from(71_177_763_439_091_815_u64));
        let root = bid.signing_root(builder_domain(GOERLI_FORK));
        let pk: [u8; 48] = bid.builder_pubkey.0;
        assert!(verify_bid(&pk, root, &sig(GOERLI_SIG)));

        // any field changed, or another domain, breaks it
        let mut changed = bid.clone();
        changed.value += U256::from(1);
        assert!(!verify_bid(
            &pk,
            changed.signing_root(builder_domain(GOERLI_FORK)),
            &sig(GOERLI_SIG)
        ));
        let mut changed = bid.clone();
        changed.proposer_pubkey.0[47] ^= 1;
        assert!(!verify_bid(
            &pk,
            changed.signing_root(builder_domain(GOERLI_FORK)),
            &sig(GOERLI_SIG)
        ));
        assert!(!verify_bid(
            &pk,
            bid.signing_root(builder_domain([0; 4])),
            &sig(GOERLI_SIG)
        ));
    }

    #[test]
    fn bid_real_goerli_deneb_header_submission_verifies() {
        // flashbots/mev-boost-relay `testdata/submitHeaderPayloadDeneb_Goerli.json`
        let bid: BidTrace = serde_json::from_str(
            r#"{
            "slot": "7433483",
            "parent_hash": "0xb1bd772f909db1b6cbad8cf31745d3f2d692294998161369a5709c17a71f630f",
            "block_hash": "0x195e2aac0a52cf26428336142e74eafd55d9228f315c2f2fe9253406ef9ef544",
            "builder_pubkey": "0xb67a5148a03229926e34b190af81a82a81c4df66831c98c03a139778418dd09a3b542ced0022620d19f35781ece6dc36",
            "proposer_pubkey": "0xb4095e6bb559d86bc9ea100566d1312bae955a4c83f86b6ac95cfb855987ce40e5bc6f702b1de035dedbed878cbe1ae9",
            "proposer_fee_recipient": "0x455E5AA18469bC6ccEF49594645666C587A3a71B",
            "gas_limit": "30000000",
            "gas_used": "11203793",
            "value": "11365972990140730"
        }"#,
        )
        .unwrap();
        let signature = sig("8432b14420a052d669dfb9b9431b1be6286f25e30e201f5430966e51a4f6a33cab3985f56204416a37d40f41879f68d406e9f3be3f8914c0cd289bdcb37e95ff1716c710ac6bd5fd59315ff483bd3bff1a59368868c01b3432e7b3ca4002c3f5");
        let root = bid.signing_root(builder_domain(GOERLI_FORK));
        assert!(verify_bid(&bid.builder_pubkey.0, root, &signature));
    }

    #[test]
    fn bid_sign_verify_round_trip_and_tampering() {
        let key = test_key();
        let other = BuilderKey::from_secret([0x01; 32]).unwrap();
        let domain = builder_domain(fork_version_for_chain(1337).unwrap());
        let bid = sample_bid(&key);
        let signature = key.sign_bid(&bid, domain);
        let pk = key.public_key();
        assert!(verify_bid(&pk, bid.signing_root(domain), &signature));
        // deterministic
        assert_eq!(signature, key.sign(bid.signing_root(domain)));

        assert!(!verify_bid(
            &other.public_key(),
            bid.signing_root(domain),
            &signature
        ));
        let mut changed = bid.clone();
        changed.gas_used += 1;
        assert!(!verify_bid(&pk, changed.signing_root(domain), &signature));
        let mut bad = signature;
        bad[95] ^= 1;
        assert!(!verify_bid(&pk, bid.signing_root(domain), &bad));
        assert!(!verify_bid(
            &[0u8; 48],
            bid.signing_root(domain),
            &signature
        ));
        assert!(!verify_bid(&pk, bid.signing_root(domain), &[0u8; 96]));
    }

    #[test]
    fn bid_secret_keys_are_validated() {
        assert_eq!(
            BuilderKey::from_secret([0u8; 32]).unwrap_err(),
            BidError::InvalidSecretKey
        );
        assert_eq!(
            BuilderKey::from_secret([0xff; 32]).unwrap_err(),
            BidError::InvalidSecretKey
        );
        let key = BuilderKey::from_secret([0x01; 32]).unwrap();
        let debug = format!("{key:?}");
        assert!(!debug.contains(&hex::encode([0x01u8; 32])), "{debug}");
        assert!(debug.contains(&hex::encode(key.public_key())), "{debug}");
        // the public key is the compressed G1 point (top bits 0b100 / 0b101)
        assert_eq!(key.public_key()[0] & 0x80, 0x80);
    }

    #[test]
    fn bid_hash_tree_root_depends_on_every_field() {
        let key = test_key();
        let bid = sample_bid(&key);
        let base = bid.hash_tree_root();
        let mut variants = Vec::new();
        let mut b = bid.clone();
        b.slot += 1;
        variants.push(b);
        let mut b = bid.clone();
        b.parent_hash.0[0] ^= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.block_hash.0[31] ^= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.builder_pubkey.0[40] ^= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.proposer_pubkey.0[0] ^= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.proposer_fee_recipient.0[19] ^= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.gas_limit -= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.gas_used -= 1;
        variants.push(b);
        let mut b = bid.clone();
        b.value = U256::MAX;
        variants.push(b);
        for v in variants {
            assert_ne!(v.hash_tree_root(), base, "{v:?}");
        }
    }

    #[test]
    fn bid_pubkey_padding() {
        assert_eq!(pubkey_from_slice(&[]), BlsPublicKey::ZERO);
        let long = [7u8; 60];
        assert_eq!(pubkey_from_slice(&long), BlsPublicKey::from([7u8; 48]));
        let p = pubkey_from_slice(&[1, 2]);
        assert_eq!(&p[..3], &[1, 2, 0]);
    }

    fn sample_payload() -> ExecutionPayload {
        let header = Header {
            parent_hash: B256::repeat_byte(1),
            beneficiary: address!("00000000000000000000000000000000000000aa"),
            number: 7,
            gas_limit: 30_000_000,
            gas_used: 21_000,
            timestamp: 1_700_000_000,
            base_fee_per_gas: Some(875_000_000),
            withdrawals_root: Some(alloy_consensus::constants::EMPTY_WITHDRAWALS),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        };
        let w = Withdrawal {
            index: 3,
            validator_index: 4,
            address: Address::repeat_byte(5),
            amount: 6,
        };
        ExecutionPayload::from_block(&header, vec![Bytes::from_static(&[0x02, 0xc0])], &[w])
    }

    #[test]
    fn bid_json_forms() {
        let key = test_key();
        let bid = sample_bid(&key);
        let signature = key.sign_bid(&bid, builder_domain([1, 1, 0x70, 0]));
        let payload = sample_payload();
        let payload_json = serde_json::to_value(&payload).unwrap();
        assert_eq!(payload_json["block_number"], "7");
        assert_eq!(payload_json["base_fee_per_gas"], "875000000");
        assert_eq!(payload_json["withdrawals"][0]["validator_index"], "4");
        assert_eq!(payload_json["transactions"][0], "0x02c0");

        let request = submit_block_request(&bid, payload_json.clone(), signature);
        assert_eq!(request["message"]["slot"], "42");
        assert_eq!(request["message"]["value"], "123456789");
        assert_eq!(request["message"]["gas_limit"], "30000000");
        assert_eq!(
            request["message"]["proposer_fee_recipient"],
            "0x00000000000000000000000000000000000000fe"
        );
        assert_eq!(
            request["blobs_bundle"],
            serde_json::json!({"commitments": [], "proofs": [], "blobs": []})
        );
        assert_eq!(
            request["signature"],
            format!("0x{}", hex::encode(signature))
        );
        assert_eq!(request["execution_payload"], payload_json);
        // the message parses back into the same bid
        let parsed: BidTrace = serde_json::from_value(request["message"].clone()).unwrap();
        assert_eq!(parsed, bid);

        // bid_json: same content, go-builder-client key order
        let bytes = bid_json(&bid, &payload, signature);
        let text = std::str::from_utf8(&bytes).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(reparsed, request);
        let order = [
            "\"message\"",
            "\"execution_payload\"",
            "\"blobs_bundle\"",
            "\"signature\"",
        ]
        .map(|k| text.find(k).unwrap());
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        let typed: SubmitBlockRequest = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(typed.execution_payload, payload);
    }

    #[test]
    fn bid_decimal_fields_reject_garbage() {
        let mut v: serde_json::Value = serde_json::from_str(GOERLI_BID).unwrap();
        v["value"] = "0x10".into();
        assert!(serde_json::from_value::<BidTrace>(v.clone()).is_err());
        v["value"] = "-1".into();
        assert!(serde_json::from_value::<BidTrace>(v.clone()).is_err());
        v["value"] = "1".into();
        v["slot"] = serde_json::json!(5);
        assert!(serde_json::from_value::<BidTrace>(v).is_err());
    }

    #[test]
    fn bid_payload_block_hash_is_the_header_hash() {
        let payload = sample_payload();
        assert_ne!(payload.block_hash, B256::ZERO);
        assert_eq!(payload.withdrawals[0].amount, 6);
        let back: Withdrawal = (&payload.withdrawals[0]).into();
        assert_eq!(back.validator_index, 4);
    }
}
