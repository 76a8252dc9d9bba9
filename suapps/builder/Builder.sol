// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "suave/Suave.sol";

/// @title Builder
/// @notice A block-building SUAPP. Searchers send bundles confidentially: the kettle simulates
///         each against the Ethereum backend and keeps it in the confidential store, readable
///         only by this contract and the block-building precompile. A builder request then
///         gathers the bundles for a block height, builds a block from them with the kettle's
///         Ethereum backend, signs the bid with the kettle's BLS key and, given a relay URL,
///         submits it. Only the bid's public facts reach the chain.
contract Builder {
    /// @notice Namespace and key of stored bundles (the layout `buildEthBlock` reads).
    string public constant BUNDLES = "default:v0:ethBundles";
    /// @notice Key of a bundle's simulated effective gas price.
    string public constant SIM_RESULTS = "default:v0:ethBundleSimResults";
    /// @notice Key under which a block's record lists the bundle records it merges.
    string public constant MERGED = "default:v0:mergedDataRecords";

    /// @notice Emitted on chain when a bundle was simulated and stored.
    event BundleStored(bytes16 indexed id, uint64 indexed blockHeight, uint64 egp);

    /// @notice Emitted on chain when a block was built (and submitted, given a relay URL).
    event BlockBuilt(bytes16 indexed id, uint64 indexed blockHeight, uint256 bundles, bytes bid);

    /// @notice Emitted on chain with the outcome of each transaction simulated in one session.
    event Simulated(uint256 index, bool success, uint64 egp, uint256 logs, string reason);

    /// @notice Raised outside a kettle's confidential execution.
    error NotConfidential();

    /// @notice Raised when no bundle targets the height.
    error NoBundles(uint64 blockHeight);

    /// @notice On-chain callback of `newBundle`.
    function onBundle(bytes16 id, uint64 blockHeight, uint64 egp) external {
        emit BundleStored(id, blockHeight, egp);
    }

    /// @notice On-chain callback of `buildBlock`.
    function onBlock(bytes16 id, uint64 blockHeight, uint256 bundles, bytes memory bid) external {
        emit BlockBuilt(id, blockHeight, bundles, bid);
    }

    /// @notice On-chain callback of `simulateInSession`.
    function onSimulated(bool[] memory success, uint64[] memory egp, uint256[] memory logs, string[] memory errors)
        external
    {
        for (uint256 i = 0; i < success.length; i++) {
            emit Simulated(i, success[i], egp[i], logs[i], errors[i]);
        }
    }

    /// @notice Confidential: the inputs are `abi.encode(bytes[])` of signed L1 transactions;
    ///         they are applied one after the other in one builder session (each sees the
    ///         state the previous ones left), and the outcome of each goes on chain.
    function simulateInSession() external returns (bytes memory) {
        if (!Suave.isConfidential()) revert NotConfidential();
        bytes[] memory txs = abi.decode(Suave.confidentialInputs(), (bytes[]));
        string memory session = Suave.newBuilder();
        bool[] memory success = new bool[](txs.length);
        uint64[] memory egp = new uint64[](txs.length);
        uint256[] memory logs = new uint256[](txs.length);
        string[] memory errors = new string[](txs.length);
        for (uint256 i = 0; i < txs.length; i++) {
            Suave.SimulateTransactionResult memory r = Suave.simulateTransaction(session, txs[i]);
            (success[i], egp[i], logs[i], errors[i]) = (r.success, r.egp, r.logs.length, r.error);
        }
        return abi.encodeWithSelector(this.onSimulated.selector, success, egp, logs, errors);
    }

    /// @notice Confidential: the inputs are a bundle (SBundle JSON); it is simulated, then
    ///         stored for `blockHeight`.
    function newBundle(uint64 blockHeight) external returns (bytes memory) {
        if (!Suave.isConfidential()) revert NotConfidential();
        bytes memory bundle = Suave.confidentialInputs();
        uint64 egp = Suave.simulateBundle(bundle);
        Suave.DataRecord memory record = Suave.newDataRecord(blockHeight, readers(), new address[](0), BUNDLES);
        Suave.confidentialStore(record.id, BUNDLES, bundle);
        Suave.confidentialStore(record.id, SIM_RESULTS, abi.encode(egp));
        return abi.encodeWithSelector(this.onBundle.selector, Suave.DataId.unwrap(record.id), blockHeight, egp);
    }

    /// @notice Confidential: builds a block from every bundle stored for `blockHeight`, in
    ///         the order they were stored, and submits the bid to `relayUrl` unless it is empty.
    function buildBlock(Suave.BuildBlockArgs memory args, uint64 blockHeight, string memory relayUrl)
        external
        returns (bytes memory)
    {
        if (!Suave.isConfidential()) revert NotConfidential();
        Suave.DataRecord[] memory records = Suave.fetchDataRecords(blockHeight, BUNDLES);
        if (records.length == 0) revert NoBundles(blockHeight);
        Suave.DataId[] memory ids = new Suave.DataId[](records.length);
        for (uint256 i = 0; i < records.length; i++) {
            ids[i] = records[i].id;
        }
        Suave.DataRecord memory merged =
            Suave.newDataRecord(blockHeight, readers(), new address[](0), "default:v0:mergedDataRecords");
        Suave.confidentialStore(merged.id, MERGED, abi.encode(ids));
        (bytes memory bid,) = Suave.buildEthBlock(args, merged.id, relayUrl);
        return abi.encodeWithSelector(
            this.onBlock.selector, Suave.DataId.unwrap(merged.id), blockHeight, records.length, bid
        );
    }

    /// @dev Who may read this SUAPP's records: itself and the block-building precompile.
    function readers() internal view returns (address[] memory peekers) {
        peekers = new address[](2);
        peekers[0] = address(this);
        peekers[1] = Suave.BUILD_ETH_BLOCK;
    }
}
