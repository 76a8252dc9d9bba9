//! Addresses of the SUAVE precompiles, as suave-geth and `Suave.sol` place them.

use alloy_primitives::{address, Address};

/// `isConfidential` precompile.
pub const IS_CONFIDENTIAL: Address = address!("0x0000000000000000000000000000000042010000");
/// `confidentialInputs` precompile.
pub const CONFIDENTIAL_INPUTS: Address = address!("0x0000000000000000000000000000000042010001");
/// `confidentialStore` precompile.
pub const CONFIDENTIAL_STORE: Address = address!("0x0000000000000000000000000000000042020000");
/// `confidentialRetrieve` precompile.
pub const CONFIDENTIAL_RETRIEVE: Address = address!("0x0000000000000000000000000000000042020001");
/// `newDataRecord` precompile.
pub const NEW_DATA_RECORD: Address = address!("0x0000000000000000000000000000000042030000");
/// `fetchDataRecords` precompile.
pub const FETCH_DATA_RECORDS: Address = address!("0x0000000000000000000000000000000042030001");
/// `signEthTransaction` precompile.
pub const SIGN_ETH_TRANSACTION: Address = address!("0x0000000000000000000000000000000040100001");
/// `signMessage` precompile.
pub const SIGN_MESSAGE: Address = address!("0x0000000000000000000000000000000040100003");
/// `simulateBundle` precompile.
pub const SIMULATE_BUNDLE: Address = address!("0x0000000000000000000000000000000042100000");
/// `buildEthBlock` precompile.
pub const BUILD_ETH_BLOCK: Address = address!("0x0000000000000000000000000000000042100001");
/// `submitEthBlockToRelay` precompile.
pub const SUBMIT_ETH_BLOCK_TO_RELAY: Address =
    address!("0x0000000000000000000000000000000042100002");
/// `ethcall` precompile.
pub const ETHCALL: Address = address!("0x0000000000000000000000000000000042100003");
/// `buildEthBlockTo` precompile.
pub const BUILD_ETH_BLOCK_TO: Address = address!("0x0000000000000000000000000000000042100006");
/// `extractHint` precompile.
pub const EXTRACT_HINT: Address = address!("0x0000000000000000000000000000000042100037");
/// `submitBundleJsonRPC` precompile.
pub const SUBMIT_BUNDLE_JSON_RPC: Address = address!("0x0000000000000000000000000000000043000001");
/// `fillMevShareBundle` precompile.
pub const FILL_MEV_SHARE_BUNDLE: Address = address!("0x0000000000000000000000000000000043200001");
/// `doHTTPRequest` precompile.
pub const DO_HTTP_REQUEST: Address = address!("0x0000000000000000000000000000000043200002");
/// `doHTTPRequest2` precompile.
pub const DO_HTTP_REQUEST2: Address = address!("0x0000000000000000000000000000000043200003");
/// `newBuilder` precompile.
pub const NEW_BUILDER: Address = address!("0x0000000000000000000000000000000053200001");
/// `simulateTransaction` precompile.
pub const SIMULATE_TRANSACTION: Address = address!("0x0000000000000000000000000000000053200002");
/// `privateKeyGen` precompile.
pub const PRIVATE_KEY_GEN: Address = address!("0x0000000000000000000000000000000053200003");
/// `contextGet` precompile.
pub const CONTEXT_GET: Address = address!("0x0000000000000000000000000000000053300003");
/// `aesDecrypt` precompile.
pub const AES_DECRYPT: Address = address!("0x000000000000000000000000000000005670000d");
/// `aesEncrypt` precompile.
pub const AES_ENCRYPT: Address = address!("0x000000000000000000000000000000005670000e");
/// `randomBytes` precompile.
pub const RANDOM_BYTES: Address = address!("0x000000000000000000000000000000007770000b");
/// `getInsecureTime` precompile.
pub const GET_INSECURE_TIME: Address = address!("0x000000000000000000000000000000007770000c");
/// `console.log` (forge-std console2 ABI); active on-chain and in confidential mode.
pub const CONSOLE_LOG: Address = address!("0x000000000000000000636F6e736F6c652e6c6f67");

/// Every SUAVE precompile with its `Suave.sol` name, in address order of the table above.
pub const ALL: [(&str, Address); 26] = [
    ("isConfidential", IS_CONFIDENTIAL),
    ("confidentialInputs", CONFIDENTIAL_INPUTS),
    ("confidentialStore", CONFIDENTIAL_STORE),
    ("confidentialRetrieve", CONFIDENTIAL_RETRIEVE),
    ("newDataRecord", NEW_DATA_RECORD),
    ("fetchDataRecords", FETCH_DATA_RECORDS),
    ("signEthTransaction", SIGN_ETH_TRANSACTION),
    ("signMessage", SIGN_MESSAGE),
    ("simulateBundle", SIMULATE_BUNDLE),
    ("buildEthBlock", BUILD_ETH_BLOCK),
    ("submitEthBlockToRelay", SUBMIT_ETH_BLOCK_TO_RELAY),
    ("ethcall", ETHCALL),
    ("buildEthBlockTo", BUILD_ETH_BLOCK_TO),
    ("extractHint", EXTRACT_HINT),
    ("submitBundleJsonRPC", SUBMIT_BUNDLE_JSON_RPC),
    ("fillMevShareBundle", FILL_MEV_SHARE_BUNDLE),
    ("doHTTPRequest", DO_HTTP_REQUEST),
    ("doHTTPRequest2", DO_HTTP_REQUEST2),
    ("newBuilder", NEW_BUILDER),
    ("simulateTransaction", SIMULATE_TRANSACTION),
    ("privateKeyGen", PRIVATE_KEY_GEN),
    ("contextGet", CONTEXT_GET),
    ("aesDecrypt", AES_DECRYPT),
    ("aesEncrypt", AES_ENCRYPT),
    ("randomBytes", RANDOM_BYTES),
    ("getInsecureTime", GET_INSECURE_TIME),
];

/// The 25 SUAVE precompiles suave-geth puts into every transaction's access list (all of
/// [`ALL`] but `isConfidential`), on chain and in confidential runs alike (SUAVE-COMPAT §2).
/// `isConfidential` and `console.log` are not pre-warmed: the first call to either pays the
/// cold account access cost.
pub const PREWARMED: [Address; 25] = {
    let mut out = [Address::ZERO; 25];
    let mut i = 0;
    while i < 25 {
        out[i] = ALL[i + 1].1;
        i += 1;
    }
    out
};

/// Precompiles that need the Ethereum execution backend (block building, bundle simulation,
/// relay and bundle submission, `ethcall`). They are served by an external set
/// ([`crate::ExternalPrecompiles`]); without one they revert with
/// [`crate::error::NO_EXECUTION_BACKEND`].
pub const BUILDER: [Address; 10] = [
    SIMULATE_BUNDLE,
    BUILD_ETH_BLOCK,
    SUBMIT_ETH_BLOCK_TO_RELAY,
    ETHCALL,
    BUILD_ETH_BLOCK_TO,
    EXTRACT_HINT,
    SUBMIT_BUNDLE_JSON_RPC,
    FILL_MEV_SHARE_BUNDLE,
    NEW_BUILDER,
    SIMULATE_TRANSACTION,
];

/// Precompiles that make outgoing HTTP requests. They are served by an external set
/// ([`crate::ExternalPrecompiles`]); without one they revert with
/// [`crate::error::NO_NETWORK_BACKEND`].
pub const NETWORK: [Address; 2] = [DO_HTTP_REQUEST, DO_HTTP_REQUEST2];

/// The `Suave.sol` name of the precompile at `addr`, if it is one.
pub fn name_of(addr: Address) -> Option<&'static str> {
    ALL.iter().find(|(_, a)| *a == addr).map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_distinct_and_named() {
        for (i, (name, addr)) in ALL.iter().enumerate() {
            assert_eq!(name_of(*addr), Some(*name));
            assert!(
                ALL[i + 1..].iter().all(|(_, other)| other != addr),
                "{name} duplicated"
            );
        }
        assert_eq!(name_of(CONSOLE_LOG), None);
    }

    #[test]
    fn prewarmed_is_all_but_is_confidential() {
        assert!(!PREWARMED.contains(&IS_CONFIDENTIAL));
        assert!(!PREWARMED.contains(&CONSOLE_LOG));
        for (name, addr) in &ALL[1..] {
            assert!(PREWARMED.contains(addr), "{name} not prewarmed");
        }
    }

    #[test]
    fn external_groups_are_disjoint_suave_precompiles() {
        for addr in BUILDER.iter().chain(NETWORK.iter()) {
            assert!(name_of(*addr).is_some());
        }
        assert!(BUILDER.iter().all(|a| !NETWORK.contains(a)));
    }

    #[test]
    fn console_log_spells_its_name() {
        assert_eq!(&CONSOLE_LOG.as_slice()[9..], b"console.log");
    }
}
