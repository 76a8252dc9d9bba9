// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title StoreSuapp
/// @notice Test SUAPP: creates a record readable by itself, stores the confidential inputs in it,
///         reads them back and returns the calldata of its on-chain callback `onStored`, which
///         emits `Stored`. `storeRetrieveAndLog` also emits `Staged` during the confidential run,
///         so the kettle appends the log carrier to the callback calldata.
contract StoreSuapp {
    /// @notice Emitted on chain by the callback.
    event Stored(bytes16 indexed id, bytes32 digest);

    /// @notice Emitted during the confidential run (carried off chain in the callback calldata).
    event Staged(bytes16 id);

    /// @notice Key the inputs are stored under.
    string public constant KEY = "secret";

    /// @notice Namespace of the records this SUAPP creates.
    string public constant NAMESPACE = "kettle:test:store";

    /// @notice On-chain callback.
    function onStored(bytes16 id, bytes32 digest) external {
        emit Stored(id, digest);
    }

    /// @notice Confidential: store and read back the inputs; no logs.
    function storeAndRetrieve(uint64 cond) external returns (bytes memory) {
        (bytes16 id, bytes32 digest) = storeInputs(cond);
        return abi.encodeWithSelector(this.onStored.selector, id, digest);
    }

    /// @notice Confidential: as storeAndRetrieve, and emits `Staged(id)` during the run.
    function storeRetrieveAndLog(uint64 cond) external returns (bytes memory) {
        (bytes16 id, bytes32 digest) = storeInputs(cond);
        emit Staged(id);
        return abi.encodeWithSelector(this.onStored.selector, id, digest);
    }

    /// @notice Confidential: reads `key` of an existing record through Suave.sol.
    function retrieve(bytes16 id, string memory key) external returns (bytes memory) {
        return Suave.confidentialRetrieve(Suave.DataId.wrap(id), key);
    }

    function storeInputs(uint64 cond) internal returns (bytes16, bytes32) {
        bytes memory inputs = Suave.confidentialInputs();
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        Suave.DataRecord memory record = Suave.newDataRecord(cond, peekers, new address[](0), NAMESPACE);
        Suave.confidentialStore(record.id, KEY, inputs);
        bytes memory back = Suave.confidentialRetrieve(record.id, KEY);
        require(keccak256(back) == keccak256(inputs), "read back differs");
        return (Suave.DataId.unwrap(record.id), keccak256(back));
    }
}
