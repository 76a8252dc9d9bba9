// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "suave/Suave.sol";

/// @title Ofa
/// @notice An order-flow auction in the style of MEV-Share. A user sends a private L1 bundle
///         (SBundle JSON) confidentially: the kettle stores it and publishes only its hint (the
///         first transaction's recipient and calldata, never its signature or raw bytes).
///         Searchers answer a hint with a backrun bundle, also confidentially: the kettle stores
///         it as a match of the order, joins both into a MEV-Share bundle (user transactions
///         first, with refund entries for them) and sends it to the searcher's builder with
///         `mev_sendBundle`, signed with the kettle's bundle-signing key.
/// @dev The store layout is suave-geth's MEV-Share layout (SUAVE-COMPAT §8.3–8.4), which is what
///      `fillMevShareBundle` reads. The on-chain callbacks carry no attestation (any account can
///      call them), so their events are announcements, not proofs.
contract Ofa {
    /// @notice Namespace (record version) of stored user orders.
    string public constant UNMATCHED_BUNDLES = "mevshare:v0:unmatchedBundles";
    /// @notice Namespace (record version) of stored matches.
    string public constant MATCH_RECORDS = "mevshare:v0:matchDataRecords";
    /// @notice Key of a record's SBundle JSON.
    string public constant ETH_BUNDLES = "mevshare:v0:ethBundles";
    /// @notice Key of a match record's `abi.encode(bytes16[])` of [order id, match id].
    string public constant MERGED_RECORDS = "mevshare:v0:mergedDataRecords";

    /// @notice Emitted on chain when an order was stored.
    /// @param id The order's data record, for searchers to match against
    /// @param hint `extractHint` of the order: `{"To":"0x…","Data":"<base64 calldata>"}`
    event HintEvent(bytes16 id, bytes hint);

    /// @notice Emitted on chain when a match was stored and its MEV-Share bundle sent.
    /// @param matchId The match's data record
    /// @param bundleHash keccak256 of the MEV-Share bundle JSON sent with `mev_sendBundle`
    event MatchEvent(bytes16 matchId, bytes32 bundleHash);

    /// @notice Raised by the confidential entry points outside a kettle's confidential execution.
    error NotConfidential();

    /// @notice Confidential: the confidential inputs are the user's bundle (SBundle JSON). Stores
    ///         it in a new `mevshare:v0:unmatchedBundles` record and extracts its hint.
    /// @param decryptionCondition The L1 block the bundle targets (the record's tag)
    /// @return Calldata of `onOrder(id, hint)`
    function newOrder(uint64 decryptionCondition) external returns (bytes memory) {
        if (!Suave.isConfidential()) revert NotConfidential();
        bytes memory bundle = Suave.confidentialInputs();
        bytes memory hint = Suave.extractHint(bundle);
        Suave.DataRecord memory record =
            Suave.newDataRecord(decryptionCondition, peekers(), new address[](0), UNMATCHED_BUNDLES);
        Suave.confidentialStore(record.id, ETH_BUNDLES, bundle);
        return abi.encodeWithSelector(this.onOrder.selector, Suave.DataId.unwrap(record.id), hint);
    }

    /// @notice On-chain callback of `newOrder`: publishes the hint.
    /// @param id The order's data record
    /// @param hint The order's hint
    function onOrder(bytes16 id, bytes memory hint) external {
        emit HintEvent(id, hint);
    }

    /// @notice Confidential: the confidential inputs are the searcher's backrun (SBundle JSON).
    ///         Stores it in a new `mevshare:v0:matchDataRecords` record that merges
    ///         [orderId, match id], builds the MEV-Share bundle with `fillMevShareBundle` and
    ///         sends it to `builderUrl` with `mev_sendBundle`.
    /// @param orderId The order (from a `HintEvent`) the backrun follows
    /// @param decryptionCondition The L1 block the bundle targets (the MEV-Share inclusion block)
    /// @param builderUrl JSON-RPC endpoint of the builder; must pass the kettle's HTTP allow-list
    /// @return Calldata of `onMatch(matchId, keccak256(bundle))`
    function newMatch(bytes16 orderId, uint64 decryptionCondition, string memory builderUrl)
        external
        returns (bytes memory)
    {
        if (!Suave.isConfidential()) revert NotConfidential();
        bytes memory backrun = Suave.confidentialInputs();
        Suave.DataRecord memory record =
            Suave.newDataRecord(decryptionCondition, peekers(), new address[](0), MATCH_RECORDS);
        Suave.confidentialStore(record.id, ETH_BUNDLES, backrun);
        Suave.DataId[] memory ids = new Suave.DataId[](2);
        ids[0] = Suave.DataId.wrap(orderId);
        ids[1] = record.id;
        Suave.confidentialStore(record.id, MERGED_RECORDS, abi.encode(ids));
        bytes memory bundle = Suave.fillMevShareBundle(record.id);
        Suave.submitBundleJsonRPC(builderUrl, "mev_sendBundle", bundle);
        return abi.encodeWithSelector(this.onMatch.selector, Suave.DataId.unwrap(record.id), keccak256(bundle));
    }

    /// @notice On-chain callback of `newMatch`.
    /// @param matchId The match's data record
    /// @param bundleHash keccak256 of the MEV-Share bundle that was sent
    function onMatch(bytes16 matchId, bytes32 bundleHash) external {
        emit MatchEvent(matchId, bundleHash);
    }

    /// @dev Who may read this SUAPP's records: itself and the precompile that joins an order
    ///      with its match.
    function peekers() internal view returns (address[] memory list) {
        list = new address[](2);
        list[0] = address(this);
        list[1] = Suave.FILL_MEV_SHARE_BUNDLE;
    }
}
