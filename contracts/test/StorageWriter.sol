// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

/// @title StorageWriter
/// @notice Test SUAPP for the rule that a confidential request must not write the storage of
///         its target contract (directly, through DELEGATECALL, or in a reverted sub-call),
///         while writes into other contracts, such as ones created during the run, are fine.
contract StorageWriter {
    /// @notice A storage slot of the target.
    uint256 public counter;

    /// @notice Writes the target's storage.
    function writeSelf() external returns (bytes memory) {
        counter += 1;
        return abi.encodeWithSelector(this.noop.selector);
    }

    /// @notice Writes the target's storage through code DELEGATECALLed from `bumper`.
    function writeViaDelegate(address bumper) external returns (bytes memory) {
        (bool ok,) = bumper.delegatecall(abi.encodeWithSelector(StorageBumper.bump.selector));
        require(ok, "delegatecall failed");
        return abi.encodeWithSelector(this.noop.selector);
    }

    /// @notice Writes the target's storage in a sub-call that reverts and is caught.
    function writeInCaughtRevert() external returns (bytes memory) {
        try this.writeThenRevert() {} catch {}
        return abi.encodeWithSelector(this.noop.selector);
    }

    /// @notice Helper of writeInCaughtRevert.
    function writeThenRevert() external {
        counter += 1;
        revert("undone");
    }

    /// @notice Creates a contract and writes its storage: allowed.
    function createAndWrite() external returns (bytes memory) {
        Box box = new Box();
        box.set(42);
        require(box.value() == 42, "box");
        return abi.encodeWithSelector(this.noop.selector);
    }

    /// @notice Writes another, existing contract's storage: allowed (and discarded).
    function writeOther(address box) external returns (bytes memory) {
        Box(box).set(7);
        return abi.encodeWithSelector(this.noop.selector);
    }

    /// @notice Reads only.
    function readOnly() external view returns (bytes memory) {
        return abi.encodeWithSelector(this.noop.selector, counter);
    }

    /// @notice On-chain callback.
    function noop() external {}
}

/// @title StorageBumper
/// @notice Library-like contract whose code StorageWriter DELEGATECALLs.
contract StorageBumper {
    /// @notice Slot 0, aliasing StorageWriter.counter.
    uint256 public counter;

    /// @notice Increments slot 0 of the executing storage context.
    function bump() external {
        counter += 1;
    }
}

/// @title Box
/// @notice A contract with one storage slot.
contract Box {
    /// @notice The stored value.
    uint256 public value;

    /// @notice Sets the value.
    function set(uint256 v) external {
        value = v;
    }
}
