// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

/// @title Forwarder
/// @notice Test helper: forwards calldata to a contract by CALL or DELEGATECALL (to exercise the
///         caller stack), or calls any address and reports the raw outcome (to see a
///         precompile's exact output or revert data without Suave.sol decoding).
contract Forwarder {
    /// @notice Calls (or delegatecalls) `target` with `data`; returns its return data and
    ///         re-raises its revert data unchanged.
    function forward(address target, bytes calldata data, bool delegate) external returns (bytes memory) {
        (bool ok, bytes memory ret) = delegate ? target.delegatecall(data) : target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice Calls `target` with `data` and returns whether it succeeded and its raw return
    ///         or revert data.
    function rawCall(address target, bytes calldata data) external returns (bool ok, bytes memory ret) {
        (ok, ret) = target.call(data);
    }
}
