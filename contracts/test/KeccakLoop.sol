// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

/// @title KeccakLoop
/// @notice Compute-bound SUAPP for the MEVM benchmark: hashes a word `rounds` times, touching no
///         storage and no precompile.
contract KeccakLoop {
    /// @notice On-chain callback.
    function done(bytes32 digest) external {}

    /// @notice Runs the loop; returns the calldata of `done(digest)`.
    function run(uint256 rounds) external pure returns (bytes memory) {
        bytes32 h = bytes32(rounds);
        for (uint256 i = 0; i < rounds; ++i) {
            h = keccak256(abi.encodePacked(h, i));
        }
        return abi.encodeWithSelector(KeccakLoop.done.selector, h);
    }
}
