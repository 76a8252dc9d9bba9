// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "suave/Suave.sol";

/// @title Oracle
/// @notice An HTTP price oracle. A confidential request makes the kettle fetch a price from a
///         web endpoint (`doHTTPRequest`, so only hosts the kettle's HTTP allow-list admits are
///         reachable), parse it off chain and stamp it with the kettle's clock; the on-chain
///         callback stores it in `latestPrice` for any contract or client to read.
/// @dev The endpoint must answer 2xx with a body holding one unsigned decimal integer (e.g.
///      `123456`, surrounding whitespace allowed); scale decimals into the integer. The on-chain
///      callback carries no attestation (any account can call `onPrice`); a production oracle
///      would also have the kettle sign the price and check that signature on chain.
contract Oracle {
    /// @notice Time limit of the HTTP request, in milliseconds.
    uint64 public constant TIMEOUT_MS = 5000;

    /// @notice The last price stored by `onPrice`.
    uint256 public latestPrice;

    /// @notice When the last price was fetched (kettle wall clock, Unix milliseconds).
    uint64 public latestFetchedAtMs;

    /// @notice Emitted on chain when a price was stored.
    /// @param price The fetched price
    /// @param fetchedAtMs When it was fetched (kettle wall clock, Unix milliseconds)
    event PriceUpdated(uint256 price, uint64 fetchedAtMs);

    /// @notice Raised by `fetchPrice` outside a kettle's confidential execution.
    error NotConfidential();

    /// @notice Raised when the response body is not an unsigned decimal integer below 2^256.
    /// @param body The response body
    error NotANumber(bytes body);

    /// @notice Confidential: GETs `url` and parses the body as the price.
    /// @dev HTTP failures revert with the precompile's message (e.g. `http error: 500: …`, or
    ///      the allow-list refusal), which the kettle reports to the requester.
    /// @param url Absolute URL (or service alias) of the price endpoint
    /// @return Calldata of `onPrice(price, fetchedAtMs)`
    function fetchPrice(string memory url) external returns (bytes memory) {
        if (!Suave.isConfidential()) revert NotConfidential();
        Suave.HttpRequest memory request = Suave.HttpRequest({
            url: url,
            method: "GET",
            headers: new string[](0),
            body: "",
            withFlashbotsSignature: false,
            timeout: TIMEOUT_MS
        });
        bytes memory body = Suave.doHTTPRequest(request);
        uint256 price = parsePrice(body);
        uint64 fetchedAtMs = uint64(Suave.getInsecureTime());
        return abi.encodeWithSelector(this.onPrice.selector, price, fetchedAtMs);
    }

    /// @notice On-chain callback of `fetchPrice`: stores the price and emits `PriceUpdated`.
    /// @param price The fetched price
    /// @param fetchedAtMs When it was fetched (Unix milliseconds)
    function onPrice(uint256 price, uint64 fetchedAtMs) external {
        latestPrice = price;
        latestFetchedAtMs = fetchedAtMs;
        emit PriceUpdated(price, fetchedAtMs);
    }

    /// @notice Parses an unsigned decimal integer, ignoring surrounding ASCII whitespace.
    /// @param body The text to parse
    /// @return price Its value; reverts with `NotANumber` if it is empty, holds anything but
    ///         digits, or does not fit 256 bits
    function parsePrice(bytes memory body) public pure returns (uint256 price) {
        uint256 start = 0;
        uint256 end = body.length;
        while (start < end && isSpace(body[start])) start++;
        while (end > start && isSpace(body[end - 1])) end--;
        if (start == end) revert NotANumber(body);
        for (uint256 i = start; i < end; i++) {
            uint8 c = uint8(body[i]);
            if (c < 0x30 || c > 0x39) revert NotANumber(body);
            uint256 digit = c - 0x30;
            if (price > (type(uint256).max - digit) / 10) revert NotANumber(body);
            price = price * 10 + digit;
        }
    }

    /// @dev Whether `c` is a space, tab, carriage return or line feed.
    function isSpace(bytes1 c) private pure returns (bool) {
        return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a;
    }
}
