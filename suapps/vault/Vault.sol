// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title Vault
/// @notice Keeps a secret in the kettle's confidential store across requests. One confidential
///         request stores its confidential inputs in a new data record and announces only the
///         record id on chain; later requests read the secret back from the store and publish a
///         digest of it, so anyone can check a claimed secret without the secret ever being on
///         chain.
/// @dev The record's only peeker is this contract, so only `Vault` code running in a kettle can
///      read it. The callbacks are ordinary public functions: their events are the kettle's
///      word only when emitted by a `0x50` transaction (receipt type `0x50`).
contract Vault {
    /// @notice Emitted on chain when a secret has been stored.
    /// @param id The data record holding the secret
    event SecretStored(bytes16 indexed id);

    /// @notice Emitted on chain for each record read by `reveal`.
    /// @param id The data record
    /// @param digest keccak256 of the stored secret
    /// @param length Length of the stored secret in bytes
    event SecretRevealed(bytes16 indexed id, bytes32 digest, uint256 length);

    /// @notice Store key of the secret inside its record.
    string public constant KEY = "secret";

    /// @notice Namespace (record version) of the records this SUAPP creates.
    string public constant NAMESPACE = "kettle:vault:v1";

    /// @notice Confidential: stores the confidential inputs (non-empty) in a new record.
    /// @return Calldata of `onStored(id)`
    function store() external returns (bytes memory) {
        bytes memory secret = Suave.confidentialInputs();
        require(secret.length > 0, "empty secret");
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        Suave.DataRecord memory record = Suave.newDataRecord(0, peekers, new address[](0), NAMESPACE);
        Suave.confidentialStore(record.id, KEY, secret);
        return abi.encodeWithSelector(this.onStored.selector, Suave.DataId.unwrap(record.id));
    }

    /// @notice Confidential: reads the secrets of `ids` (reverts if any is missing).
    /// @return Calldata of `onRevealed(ids, digests, lengths)`
    function reveal(bytes16[] calldata ids) external returns (bytes memory) {
        bytes32[] memory digests = new bytes32[](ids.length);
        uint256[] memory lengths = new uint256[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            bytes memory secret = Suave.confidentialRetrieve(Suave.DataId.wrap(ids[i]), KEY);
            digests[i] = keccak256(secret);
            lengths[i] = secret.length;
        }
        return abi.encodeWithSelector(this.onRevealed.selector, ids, digests, lengths);
    }

    /// @notice On-chain half of `store`.
    /// @param id The new record
    function onStored(bytes16 id) external {
        emit SecretStored(id);
    }

    /// @notice On-chain half of `reveal`.
    /// @param ids The records read
    /// @param digests keccak256 of each secret
    /// @param lengths Length of each secret
    function onRevealed(bytes16[] calldata ids, bytes32[] calldata digests, uint256[] calldata lengths) external {
        require(ids.length == digests.length && ids.length == lengths.length, "length mismatch");
        for (uint256 i = 0; i < ids.length; i++) {
            emit SecretRevealed(ids[i], digests[i], lengths[i]);
        }
    }
}
