// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {SuaveAbiCheck} from "../src/test/SuaveAbiCheck.sol";

/// @title AccessCaller
/// @notice Test helper of the access-control matrix: one contract that can both be a link of a
///         caller chain and the contract that calls a store precompile. Deployed at several
///         addresses (one listed as an allowed peeker, others not), it builds any caller stack:
///         `hop` calls (or delegatecalls) the next link, and the last link calls the precompile
///         through Suave.sol with the functions inherited from `SuaveAbiCheck` (every Suave
///         function as an external call).
contract AccessCaller is SuaveAbiCheck {
    /// @notice Calls (or delegatecalls) `next` with `data`. The next link's return data is
    ///         returned unchanged (not re-encoded), so a chain of hops returns exactly what its
    ///         last link returns; its revert data is re-raised unchanged.
    function hop(address next, bytes calldata data, bool delegate) external {
        (bool ok, bytes memory ret) = delegate ? next.delegatecall(data) : next.call(data);
        assembly {
            switch ok
            case 0 { revert(add(ret, 32), mload(ret)) }
            default { return(add(ret, 32), mload(ret)) }
        }
    }
}
