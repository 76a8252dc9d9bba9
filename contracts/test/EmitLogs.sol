// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

/// @title EmitLogs
/// @notice Test SUAPP: emits the five logs of suave-std's `Logs.t.sol` vector (LOG0 to LOG4,
///         generated upstream by suave-geth's TestE2E_EmitLogs from a contract at
///         0x0300000000000000000000000000000000000000) and returns the calldata of an empty
///         callback. Deploy it at that address to reproduce the vector byte for byte.
contract EmitLogs {
    /// @notice Confidential: emits the five logs.
    function emitLogs() external returns (bytes memory) {
        assembly {
            log0(0, 0)
            log1(0, 0, 0xdc013ea64717e828d19b2a2ee201871627a4a65b8e96984868b9391a327be18a)
            mstore(0, 1)
            log2(0, 0x20, 0x3ab4eb7c630180e1144d0a956c71b3cb538ea0b9566b6136fe7a87cb222249d2, 1)
            mstore(0, 2)
            log3(0, 0x20, 0x9e4d9541d8ffa37d1346e0a2ee0dd6cb444641c8458993777d3d06e9da3bd666, 1, 2)
            mstore(0, 3)
            log4(0, 0x20, 0xb1b8bb6d3c04a82bd66f1d7dbecf2754edafb96d47af76845f87c5245afaec2d, 1, 2, 3)
        }
        return abi.encodeWithSelector(this.emitLogsCallback.selector);
    }

    /// @notice On-chain callback (suave-std re-emits the carried logs in a modifier).
    function emitLogsCallback() external {}
}
