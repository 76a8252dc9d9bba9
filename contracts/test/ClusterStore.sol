// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title ClusterStore
/// @notice Test SUAPP of a kettle cluster: `storeFor` creates a record replicated to the given
///         kettles (its allowed stores) and keeps the digest of the confidential inputs in it
///         (never the inputs themselves); `retrieveFrom` reads that digest back on any kettle
///         the record was replicated to.
contract ClusterStore {
    /// @notice Emitted on chain by the callback of `storeFor`.
    event Stored(bytes16 indexed id);

    /// @notice Emitted on chain by the callback of `retrieveFrom`.
    event Retrieved(bytes16 indexed id, bytes value);

    /// @notice Key the digest is stored under.
    string public constant KEY = "v";

    /// @notice Namespace of the records this SUAPP creates.
    string public constant NAMESPACE = "kettle:test:cluster";

    /// @notice On-chain callback of `storeFor`.
    function onStored(bytes16 id) external {
        emit Stored(id);
    }

    /// @notice On-chain callback of `retrieveFrom`.
    function onRetrieved(bytes16 id, bytes memory value) external {
        emit Retrieved(id, value);
    }

    /// @notice Confidential: creates a record readable by this contract and replicated to
    ///         `stores`, stores `keccak256(confidential inputs)` under `KEY`; returns the
    ///         calldata of `onStored(id)`.
    function storeFor(address[] calldata stores) external returns (bytes memory) {
        bytes memory inputs = Suave.confidentialInputs();
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        Suave.DataRecord memory record = Suave.newDataRecord(0, peekers, stores, NAMESPACE);
        Suave.confidentialStore(record.id, KEY, abi.encodePacked(keccak256(inputs)));
        return abi.encodeWithSelector(this.onStored.selector, Suave.DataId.unwrap(record.id));
    }

    /// @notice Confidential: reads `KEY` of record `id`; returns the calldata of
    ///         `onRetrieved(id, value)`.
    function retrieveFrom(bytes16 id) external returns (bytes memory) {
        bytes memory value = Suave.confidentialRetrieve(Suave.DataId.wrap(id), KEY);
        return abi.encodeWithSelector(this.onRetrieved.selector, id, value);
    }
}
