//! Well-known SUAVE constants: transaction type bytes, chain ids, dev identities and limits.
//!
//! Values are taken from suave-geth v0.2.6 (see `shared/SUAVE-COMPAT.md` §1–§2) so that a
//! kettle built on this crate interoperates byte for byte with suave-geth and suave-viem.

use alloy_primitives::{address, b256, Address, B256};

/// EIP-2718 type byte of a `ConfidentialComputeRecord`.
///
/// A record never travels on its own: the byte only appears as the prefix of the preimages of
/// the record hash and of the plain-mode signing digest. Decoding raw `0x42…` bytes fails with
/// "transaction type not supported", exactly like suave-geth.
pub const CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE: u8 = 0x42;

/// EIP-2718 type byte of a `ConfidentialComputeRequest` (CCR), the transaction a user sends to
/// a kettle with `eth_sendRawTransaction`.
pub const CONFIDENTIAL_COMPUTE_REQUEST_TX_TYPE: u8 = 0x43;

/// EIP-2718 type byte of a `SuaveTransaction`, the kettle-signed transaction that carries the
/// result of a confidential computation on chain.
pub const SUAVE_TX_TYPE: u8 = 0x50;

/// Chain id of the Rigil testnet, also used by suave-geth `--dev` / `--suave.dev` and the
/// built-in `--suave` network.
pub const SUAVE_RIGIL_CHAIN_ID: u64 = 16_813_125;

/// Chain id of suave-geth's developer chain (`--dev`, `--suave.dev`); same as Rigil.
pub const SUAVE_DEV_CHAIN_ID: u64 = SUAVE_RIGIL_CHAIN_ID;

/// Chain id of the Toliman testnet.
pub const SUAVE_TOLIMAN_CHAIN_ID: u64 = 33_626_250;

/// Address of the default kettle of suave-geth's dev environment (`--suave.dev`).
///
/// Its private key is published in the suave-geth repository, so it must never guard value.
pub const DEV_KETTLE_ADDRESS: Address = address!("B5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F");

/// Address of the pre-funded user account of suave-geth's dev genesis (key published upstream).
pub const DEV_USER_ADDRESS: Address = address!("BE69d72ca5f88aCba033a063dF5DBe43a4148De0");

/// Wildcard peeker address: a data record listing it may be read by any contract.
pub const ANYALLOWED: Address = address!("C8df3686b4Afb2BB53e60EAe97EF043FE03Fb829");

/// `keccak256` of empty confidential inputs, the `confidentialInputsHash` of a request that
/// carries no confidential data.
pub const EMPTY_CONFIDENTIAL_INPUTS_HASH: B256 =
    b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// Upper bound, in bytes, of an encoded transaction accepted by the decoders of this crate.
///
/// Decoding checks this before parsing, so a hostile peer or RPC client cannot make the node
/// allocate or hash arbitrarily large inputs. 4 MiB is chosen because:
/// - suave-geth's HTTP RPC caps a request body at 5 MB, and a raw transaction arrives there
///   hex-encoded (two characters per byte), so nothing larger than ~2.5 MB can reach a kettle
///   over HTTP today; 4 MiB leaves headroom for large confidential inputs (bundles, blocks)
///   without accepting unbounded data over WebSocket (suave-geth's limit there is 32 MB);
/// - geth's txpool rejects transactions above 128 KiB anyway, so the bound only matters for
///   0x43 requests, which are executed directly and never pooled.
///
/// Callers with stricter policies (txpool, gossip) must apply them on top of this limit.
pub const MAX_ENCODED_TX_BYTES: usize = 4 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn empty_inputs_hash_is_keccak_of_nothing() {
        assert_eq!(keccak256([]), EMPTY_CONFIDENTIAL_INPUTS_HASH);
    }

    #[test]
    fn chain_ids_match_hex_forms() {
        assert_eq!(SUAVE_RIGIL_CHAIN_ID, 0x0100_8c45);
        assert_eq!(SUAVE_TOLIMAN_CHAIN_ID, 0x0201_188a);
    }
}
