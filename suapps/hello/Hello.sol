// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "suave/Suave.sol";

/// @title Hello
/// @notice The smallest useful SUAPP: a confidential request carries a name in its confidential
///         inputs; the kettle runs `hello` off chain and turns its result into an on-chain call of
///         `callback`, which emits the greeting.
contract Hello {
    /// @notice Emitted on chain by `callback`.
    /// @param greeting The greeting built off chain
    event Greeted(string greeting);

    /// @notice Raised by `hello` when it runs outside a kettle's confidential execution.
    error NotConfidential();

    /// @notice Confidential entry point: reads the caller's confidential inputs (a UTF-8 name) and
    ///         returns the calldata of the on-chain `callback`.
    /// @dev The return value is `abi.encode(bytes)` of a selector plus whole words, which is what
    ///      a kettle recognises as callback calldata for the 0x50 transaction it emits.
    /// @return Calldata of `callback("hello, <name>")`
    function hello() external returns (bytes memory) {
        if (!Suave.isConfidential()) {
            revert NotConfidential();
        }
        bytes memory name = Suave.confidentialInputs();
        string memory greeting = string(abi.encodePacked("hello, ", name));
        return abi.encodeWithSelector(this.callback.selector, greeting);
    }

    /// @notice On-chain half: emits the greeting computed by `hello`.
    /// @param greeting The greeting
    function callback(string calldata greeting) external {
        emit Greeted(greeting);
    }
}
