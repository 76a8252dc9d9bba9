// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title Probe
/// @notice Test helper reporting the execution environment of a run.
contract Probe {
    /// @notice msg.sender, tx.origin, block.prevrandao (opcode 0x44), block.chainid, block.number.
    function env() external view returns (address sender, address origin, uint256 prevrandao, uint256 chainId, uint256 number) {
        return (msg.sender, tx.origin, block.prevrandao, block.chainid, block.number);
    }

    /// @notice Prints through the forge-std console2 ABI, as `console2.log("hello", 42)` does.
    function logToConsole() external view returns (bytes memory) {
        (bool ok,) = address(0x000000000000000000636F6e736F6c652e6c6f67).staticcall(
            abi.encodeWithSignature("log(string,uint256)", "hello", uint256(42))
        );
        require(ok, "console");
        return abi.encodeWithSelector(this.env.selector);
    }

    /// @notice Gas left after calling `target` with empty calldata, to measure warm/cold costs.
    function gasOfCall(address target) external returns (uint256 used) {
        uint256 before = gasleft();
        (bool ok,) = target.call("");
        ok;
        used = before - gasleft();
    }

    /// @notice Creates a `Retriever`, whose constructor reads `key` of record `childId` (so the
    ///         new contract's address must be on the caller stack), then checks that the child
    ///         is off the stack again: reading the same record directly must now fail.
    function createAndRetrieve(bytes16 childId, string calldata key) external returns (bytes memory) {
        Retriever child = new Retriever(childId, key);
        (bool ok,) = Suave.CONFIDENTIAL_RETRIEVE.call(abi.encode(childId, key));
        require(!ok, "child still on the caller stack");
        return child.value();
    }
}

/// @title Retriever
/// @notice Reads a confidential value in its constructor.
contract Retriever {
    /// @notice The value read.
    bytes public value;

    /// @notice Reads `key` of record `id`.
    constructor(bytes16 id, string memory key) {
        value = Suave.confidentialRetrieve(Suave.DataId.wrap(id), key);
    }
}
