//! Compiled Solidity artifacts of `contracts/` and `suapps/`, exposed to Rust.
//!
//! The Solidity sources are compiled by `scripts/contracts` (solc-js 0.8.37, optimizer 200 runs,
//! EVM version Shanghai) into checked-in JSON artifacts under `contracts/out/`. This crate reads
//! those artifacts with [`alloy_sol_types::sol!`] at compile time, so building it needs no Node.js
//! and no solc. One module per contract:
//!
//! | module | contract | source |
//! |---|---|---|
//! | [`suave`] | library `Suave` | `contracts/src/Suave.sol` |
//! | [`precompiles`] | interface `SuavePrecompiles` | `contracts/src/SuavePrecompiles.sol` |
//! | [`suave_abi_check`] | contract `SuaveAbiCheck` | `contracts/src/test/SuaveAbiCheck.sol` |
//! | [`hello`] | SUAPP `Hello` | `suapps/hello/Hello.sol` |
//! | [`vault`] | SUAPP `Vault` | `suapps/vault/Vault.sol` |
//! | [`builder`] | SUAPP `Builder` | `suapps/builder/Builder.sol` |
//! | [`custody`] | SUAPP `Custody` | `suapps/custody/Custody.sol` |
//! | [`auction`] | SUAPP `Auction` | `suapps/auction/Auction.sol` |
//! | [`ofa`] | SUAPP `Ofa` | `suapps/ofa/Ofa.sol` |
//! | [`oracle`] | SUAPP `Oracle` | `suapps/oracle/Oracle.sol` |
//!
//! Test contracts of the MEVM (`contracts/test/`, compiled and exposed like the others, used by
//! the tests of `suave-precompiles` and later crates):
//!
//! | module | contracts | source |
//! |---|---|---|
//! | [`store_suapp`] | `StoreSuapp` | `contracts/test/StoreSuapp.sol` |
//! | [`emit_logs`] | `EmitLogs` | `contracts/test/EmitLogs.sol` |
//! | [`storage_writer`] | `StorageWriter`, `StorageBumper`, `Box` | `contracts/test/StorageWriter.sol` |
//! | [`forwarder`] | `Forwarder` | `contracts/test/Forwarder.sol` |
//! | [`probe`] | `Probe`, `Retriever` | `contracts/test/Probe.sol` |
//! | [`keccak_loop`] | `KeccakLoop` | `contracts/test/KeccakLoop.sol` |
//! | [`network_suapp`] | `NetworkSuapp` | `contracts/test/NetworkSuapp.sol` |
//! | [`cluster_store`] | `ClusterStore` | `contracts/test/ClusterStore.sol` |
//! | [`access_caller`] | `AccessCaller` | `contracts/test/AccessCaller.sol` |
//! | [`crash_store`] | `CrashStore` | `contracts/test/CrashStore.sol` |
//!
//! Each module holds what `sol!` generates for the artifact: a module named after the contract
//! with its calls, events, errors, the structs it uses (grouped under a `Suave` sub-module when
//! they are declared in the Suave library) and the `BYTECODE` / `DEPLOYED_BYTECODE` constants.
//! The generated items mirror the Solidity declarations one to one; their documentation is the
//! NatSpec in the `.sol` files.
//!
//! The most used types are re-exported at the crate root: the Suave structs, [`DataId`],
//! [`CryptoSignature`] and the [`PeekerReverted`] error.
//!
//! # Encoding precompile traffic
//!
//! A SUAVE precompile receives `abi.encode(args…)` without a selector, which is the parameter
//! encoding of the matching [`precompiles::SuavePrecompiles`] call:
//!
//! ```
//! use alloy_sol_types::SolCall;
//! use kettle_contracts::precompiles::SuavePrecompiles::contextGetCall;
//!
//! let input = contextGetCall { key: "kettleAddress".into() }.abi_encode();
//! let wire = &input[4..]; // what the precompile at 0x…53300003 receives
//! let decoded = contextGetCall::abi_decode_raw(wire).unwrap();
//! assert_eq!(decoded.key, "kettleAddress");
//! ```
//!
//! Outputs are `abi_encode_returns` of that call, except for the precompiles listed in
//! [`RAW_OUTPUT_PRECOMPILES`] (and isConfidential, which answers the single byte `0x01`).

#![warn(missing_docs)]

/// Bindings of the library `Suave` (`contracts/src/Suave.sol`), the SUAPP-facing wrapper of the
/// SUAVE precompiles.
///
/// Its ABI only holds what a library exports: the `PeekerReverted(address,bytes)` error
/// (selector `0x75fff467`) and one getter per public constant (precompile addresses and
/// `ANYALLOWED`). The structs it declares appear in [`crate::precompiles`].
pub mod suave {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Suave,
        "out/Suave.json"
    );
}

/// Bindings of the interface `SuavePrecompiles` (`contracts/src/SuavePrecompiles.sol`): one call
/// per Suave library function, whose parameters are the precompile input and whose return
/// values are the precompile output.
///
/// The Suave structs (`DataRecord`, `BuildBlockArgs`, `HttpRequest`, …) and the user types
/// `DataId` (`bytes16`) and `CryptoSignature` (`uint8`) are generated here, under `Suave`.
pub mod precompiles {
    // The user-defined value types generated from the JSON ABI carry no documentation; they are
    // documented by the NatSpec of `contracts/src/Suave.sol` and by the crate-root re-exports.
    #![allow(missing_docs)]
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        SuavePrecompiles,
        "out/SuavePrecompiles.json"
    );
}

/// Bindings of the contract `SuaveAbiCheck` (`contracts/src/test/SuaveAbiCheck.sol`): a
/// deployable harness with the [`crate::precompiles`] ABI whose every function forwards to the
/// Suave library, for end-to-end tests of Suave.sol against a kettle. Compiling it also proves
/// that the library's signatures match the interface.
pub mod suave_abi_check {
    // See `precompiles`: generated user-defined value types carry no documentation.
    #![allow(missing_docs)]
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        SuaveAbiCheck,
        "out/SuaveAbiCheck.json"
    );
}

/// Bindings of the example SUAPP `Hello` (`suapps/hello/Hello.sol`): `hello()` runs
/// confidentially, reads the confidential inputs and returns the calldata of `callback(string)`,
/// which emits `Greeted(string)` on chain.
pub mod hello {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Hello,
        "out/Hello.json"
    );
}

/// Bindings of the example SUAPP `Vault` (`suapps/vault/Vault.sol`): `store()` keeps the
/// confidential inputs in a new data record and returns the calldata of `onStored(id)`, which
/// emits `SecretStored(id)`; `reveal(ids)` reads those secrets back in a later request and
/// returns the calldata of `onRevealed`, which emits `SecretRevealed(id, keccak256(secret),
/// length)` per record.
pub mod vault {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Vault,
        "out/Vault.json"
    );
}

/// Bindings of the example SUAPP `Builder` (`suapps/builder/Builder.sol`): `newBundle(height)`
/// simulates the bundle in the confidential inputs and stores it for a block height;
/// `buildBlock(args, height, relayUrl)` builds a block from the stored bundles with the
/// kettle's Ethereum backend and returns the calldata of `onBlock`, which emits `BlockBuilt`
/// with the signed bid.
pub mod builder {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Builder,
        "out/Builder.json"
    );
}

/// Bindings of the example SUAPP `Ofa` (`suapps/ofa/Ofa.sol`), an order-flow auction in the
/// style of MEV-Share: `newOrder(cond)` stores the user bundle in the confidential inputs and
/// returns the calldata of `onOrder`, which emits `HintEvent(id, hint)`; `newMatch(orderId,
/// cond, builderUrl)` stores a backrun, fills the MEV-Share bundle, sends it with
/// `mev_sendBundle` and returns the calldata of `onMatch`, which emits `MatchEvent`.
pub mod ofa {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Ofa,
        "out/Ofa.json"
    );
}

/// Bindings of the example SUAPP `Oracle` (`suapps/oracle/Oracle.sol`): `fetchPrice(url)` GETs
/// a price over HTTP and returns the calldata of `onPrice(price, fetchedAtMs)`, which stores it
/// in `latestPrice` and emits `PriceUpdated`.
pub mod oracle {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Oracle,
        "out/Oracle.json"
    );
}

/// Bindings of the example SUAPP `Custody` (`suapps/custody/Custody.sol`), private key
/// custody: `createWallet()` generates a secp256k1 key in the kettle, keeps it in a record
/// readable only by `Custody` and returns the calldata of `onWalletCreated(id, proof)`, which
/// recovers the wallet address with `ecrecover` and emits `WalletCreated`; `sign(id, txn,
/// chainId)` (owner only) returns the calldata of `onSigned`, which emits `Signed(id, signedTx)`.
pub mod custody {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Custody,
        "out/Custody.json"
    );
}

/// Bindings of the example SUAPP `Auction` (`suapps/auction/Auction.sol`), sealed-bid
/// auctions: `createAuction(closesAtBlock)` on chain; `bid(auctionId)` stores the amount in the
/// confidential inputs and returns the calldata of `onBid`, which emits `BidPlaced` without the
/// amount; `close(auctionId)` picks the highest bid and returns the calldata of `settle`, which
/// emits `AuctionSettled`.
pub mod auction {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Auction,
        "out/Auction.json"
    );
}

/// Bindings of the test SUAPP `StoreSuapp` (`contracts/test/StoreSuapp.sol`): creates a record,
/// stores the confidential inputs, reads them back and returns the calldata of its `onStored`
/// callback (optionally emitting a log during the confidential run).
pub mod store_suapp {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        StoreSuapp,
        "out/StoreSuapp.json"
    );
}

/// Bindings of the test SUAPP `EmitLogs` (`contracts/test/EmitLogs.sol`): emits the five logs of
/// suave-std's log-carrier vector.
pub mod emit_logs {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        EmitLogs,
        "out/EmitLogs.json"
    );
}

/// Bindings of the test contracts of `contracts/test/StorageWriter.sol`: `StorageWriter` (writes
/// its own storage in several ways, or other contracts'), `StorageBumper` (DELEGATECALL target)
/// and `Box` (one storage slot).
pub mod storage_writer {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        StorageWriter,
        "out/StorageWriter.json"
    );
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        StorageBumper,
        "out/StorageBumper.json"
    );
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Box,
        "out/Box.json"
    );
}

/// Bindings of the test helper `Forwarder` (`contracts/test/Forwarder.sol`): CALL/DELEGATECALL
/// forwarding and raw calls reporting `(ok, returnOrRevertData)`.
pub mod forwarder {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Forwarder,
        "out/Forwarder.json"
    );
}

/// Bindings of the test helpers of `contracts/test/Probe.sol`: `Probe` reports sender, origin,
/// `PREVRANDAO`, chain id and block number, prints through `console.log`, measures call gas and
/// creates a `Retriever`, which reads a confidential value in its constructor (caller stack
/// across CREATE).
pub mod probe {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Probe,
        "out/Probe.json"
    );
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        Retriever,
        "out/Retriever.json"
    );
}

/// Bindings of the benchmark SUAPP `KeccakLoop` (`contracts/test/KeccakLoop.sol`): a pure loop of
/// keccak hashes.
pub mod keccak_loop {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        KeccakLoop,
        "out/KeccakLoop.json"
    );
}

/// Bindings of the test SUAPP `NetworkSuapp` (`contracts/test/NetworkSuapp.sol`), used by the
/// end-to-end tests of `suave-precompiles-network`: HTTP requests (a confidential header from the
/// confidential inputs), `doHTTPRequest2` with an off-chain log, the `AWSALB` cookie through
/// `contextGet`, `eth_sendBundle` submission and a MEV-Share flow (`newTransaction`, then
/// `newMatch` fills the bundle and sends it with `mev_sendBundle`).
pub mod network_suapp {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        NetworkSuapp,
        "out/NetworkSuapp.json"
    );
}

/// Bindings of the test SUAPP `ClusterStore` (`contracts/test/ClusterStore.sol`), used by the
/// cluster tests of `kettle-tests`: `storeFor(stores)` creates a record replicated to the kettles
/// `stores` holding `keccak256(confidential inputs)` and returns the calldata of `onStored(id)`
/// (emits `Stored(id)`); `retrieveFrom(id)` reads it back and returns the calldata of
/// `onRetrieved(id, value)` (emits `Retrieved(id, value)`).
pub mod cluster_store {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        ClusterStore,
        "out/ClusterStore.json"
    );
}

/// Bindings of the test contract `AccessCaller` (`contracts/test/AccessCaller.sol`), the caller
/// chains of the access-control matrix tests: every `SuaveAbiCheck` function (each Suave
/// function as an external call) plus `hop(next, data, delegate)`, which calls or
/// delegatecalls the next link and returns its return data unchanged.
pub mod access_caller {
    // See `precompiles`: generated user-defined value types carry no documentation.
    #![allow(missing_docs)]
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        AccessCaller,
        "out/AccessCaller.json"
    );
}

/// Bindings of the test SUAPP `CrashStore` (`contracts/test/CrashStore.sol`), used by the
/// crash test of `kettle-tests`: `write(cond, records, keys)` creates `records` records of
/// `keys` values each in one request (tagged with the confidential inputs) and returns the
/// calldata of `onWritten(tag, cond, ids)` (emits `Written`); `audit(cond)` lists the records of
/// a condition through `fetchDataRecords` and checks every value; `bump(by)` is plain on-chain
/// state.
pub mod crash_store {
    alloy_sol_types::sol!(
        #[sol(all_derives)]
        CrashStore,
        "out/CrashStore.json"
    );
}

/// `error PeekerReverted(address, bytes)`: how Suave.sol reports a failed precompile call.
pub use suave::Suave::PeekerReverted;

/// Suave library types, as used in precompile inputs and outputs.
pub use precompiles::Suave::{
    BuildBlockArgs, CryptoSignature, DataId, DataRecord, HttpRequest, HttpResponse,
    SimulateTransactionResult, SimulatedLog, Withdrawal,
};

/// Names of the Suave functions whose precompile returns its output raw (not ABI-encoded); a
/// Suave.sol caller receives these bytes unchanged.
pub const RAW_OUTPUT_PRECOMPILES: &[&str] = &[
    "confidentialInputs",
    "confidentialRetrieve",
    "extractHint",
    "fillMevShareBundle",
    "submitBundleJsonRPC",
    "submitEthBlockToRelay",
];

/// Names of the Suave functions that first `require(isConfidential())`, so they revert without
/// reaching their precompile when executed on chain.
pub const CONFIDENTIAL_ONLY: &[&str] = &[
    "extractHint",
    "fillMevShareBundle",
    "signMessage",
    "submitBundleJsonRPC",
    "submitEthBlockToRelay",
];

/// A compiled artifact of `contracts/out/`, as checked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Contract name, also the file name without `.json`.
    pub name: &'static str,
    /// The artifact file's text: `abi`, `bytecode`, `deployedBytecode` (0x-hex), `compiler`,
    /// `contractName`, `kind` (`contract`, `library`, `interface`, `abstract contract`) and
    /// `sourcePath` (repository-relative).
    pub json: &'static str,
}

/// Every artifact of `contracts/out/`, sorted by name. A test keeps this list, the modules above
/// and the directory in sync.
pub const ARTIFACTS: &[Artifact] = &[
    Artifact {
        name: "AccessCaller",
        json: include_str!("out/AccessCaller.json"),
    },
    Artifact {
        name: "Auction",
        json: include_str!("out/Auction.json"),
    },
    Artifact {
        name: "Box",
        json: include_str!("out/Box.json"),
    },
    Artifact {
        name: "Builder",
        json: include_str!("out/Builder.json"),
    },
    Artifact {
        name: "ClusterStore",
        json: include_str!("out/ClusterStore.json"),
    },
    Artifact {
        name: "CrashStore",
        json: include_str!("out/CrashStore.json"),
    },
    Artifact {
        name: "Custody",
        json: include_str!("out/Custody.json"),
    },
    Artifact {
        name: "EmitLogs",
        json: include_str!("out/EmitLogs.json"),
    },
    Artifact {
        name: "Forwarder",
        json: include_str!("out/Forwarder.json"),
    },
    Artifact {
        name: "Hello",
        json: include_str!("out/Hello.json"),
    },
    Artifact {
        name: "KeccakLoop",
        json: include_str!("out/KeccakLoop.json"),
    },
    Artifact {
        name: "NetworkSuapp",
        json: include_str!("out/NetworkSuapp.json"),
    },
    Artifact {
        name: "Ofa",
        json: include_str!("out/Ofa.json"),
    },
    Artifact {
        name: "Oracle",
        json: include_str!("out/Oracle.json"),
    },
    Artifact {
        name: "Probe",
        json: include_str!("out/Probe.json"),
    },
    Artifact {
        name: "Retriever",
        json: include_str!("out/Retriever.json"),
    },
    Artifact {
        name: "StorageBumper",
        json: include_str!("out/StorageBumper.json"),
    },
    Artifact {
        name: "StorageWriter",
        json: include_str!("out/StorageWriter.json"),
    },
    Artifact {
        name: "StoreSuapp",
        json: include_str!("out/StoreSuapp.json"),
    },
    Artifact {
        name: "Suave",
        json: include_str!("out/Suave.json"),
    },
    Artifact {
        name: "SuaveAbiCheck",
        json: include_str!("out/SuaveAbiCheck.json"),
    },
    Artifact {
        name: "SuavePrecompiles",
        json: include_str!("out/SuavePrecompiles.json"),
    },
    Artifact {
        name: "Vault",
        json: include_str!("out/Vault.json"),
    },
];
