// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title NetworkSuapp
/// @notice Test SUAPP of the network precompiles, run end to end through the MEVM (tests of
///         `suave-precompiles-network`): HTTP requests whose confidential inputs, when present,
///         add one secret header line; doHTTPRequest2 with a log carried off chain; the AWS
///         load-balancer cookie read back with contextGet; bundle submission; and a MEV-Share
///         flow modelled on suave-geth's MevShareBundleSenderContract (newTransaction stores the
///         user bundle, newMatch stores the backrun, fills the MEV-Share bundle and sends it).
///         Every confidential entry point returns the calldata of an on-chain callback.
contract NetworkSuapp {
    /// @notice On chain: the body of a successful request.
    event Fetched(bytes body);

    /// @notice On chain: status and body of a doHTTPRequest2 exchange.
    event Responded(uint64 status, bytes body);

    /// @notice During the confidential run of `fetch2` (carried off chain in the callback calldata).
    event Received(uint64 indexed status, bytes32 bodyHash);

    /// @notice On chain: the AWSALB cookie the kettle kept, and the body of the second request.
    event CookieSeen(bytes cookie, bytes body);

    /// @notice On chain: the hash of a bundle sent with `sendBundle`.
    event BundleSent(bytes32 bundleHash);

    /// @notice On chain: a user bundle was stored in record `id`; `hint` is its MEV-Share hint.
    event HintEvent(bytes16 id, bytes hint);

    /// @notice On chain: the MEV-Share bundle of match record `id` (hash `bundleHash`) was sent.
    event MatchSent(bytes16 id, bytes32 bundleHash);

    /// @notice Store key of a record's SBundle JSON (suave-geth's MEV-Share contracts).
    string public constant ETH_BUNDLES = "mevshare:v0:ethBundles";

    /// @notice Store key of a match record's `abi.encode(bytes16[])` of [user id, match id].
    string public constant MERGED_RECORDS = "mevshare:v0:mergedDataRecords";

    /// @notice Callback of `fetch`.
    function onFetched(bytes memory body) external {
        emit Fetched(body);
    }

    /// @notice Callback of `fetch2`.
    function onResponse(uint64 status, bytes memory body) external {
        emit Responded(status, body);
    }

    /// @notice Callback of `fetchWithCookie`.
    function onCookie(bytes memory cookie, bytes memory body) external {
        emit CookieSeen(cookie, body);
    }

    /// @notice Callback of `sendBundle`.
    function onBundleSent(bytes32 bundleHash) external {
        emit BundleSent(bundleHash);
    }

    /// @notice Callback of `newTransaction`.
    function onNewTransaction(bytes16 id, bytes memory hint) external {
        emit HintEvent(id, hint);
    }

    /// @notice Callback of `newMatch`.
    function onMatchSent(bytes16 id, bytes32 bundleHash) external {
        emit MatchSent(id, bundleHash);
    }

    /// @notice Confidential: doHTTPRequest; returns the calldata of `onFetched(body)`.
    function fetch(Suave.HttpRequest memory request) external returns (bytes memory) {
        bytes memory body = Suave.doHTTPRequest(withSecretHeader(request));
        return abi.encodeWithSelector(this.onFetched.selector, body);
    }

    /// @notice Confidential: doHTTPRequest2, emits `Received` during the run; returns the calldata
    ///         of `onResponse(status, body)` whatever the status.
    function fetch2(Suave.HttpRequest memory request) external returns (bytes memory) {
        Suave.HttpResponse memory response = Suave.doHTTPRequest2(withSecretHeader(request));
        emit Received(response.status, keccak256(response.body));
        return abi.encodeWithSelector(this.onResponse.selector, response.status, response.body);
    }

    /// @notice Confidential: sends `request` twice; between the two, reads the `AWSALB` cookie the
    ///         first response set with contextGet. Returns the calldata of `onCookie(cookie, body)`
    ///         with the second response's body.
    function fetchWithCookie(Suave.HttpRequest memory request) external returns (bytes memory) {
        Suave.doHTTPRequest(request);
        bytes memory cookie = Suave.contextGet("__cookie_AWSALB");
        bytes memory body = Suave.doHTTPRequest(request);
        return abi.encodeWithSelector(this.onCookie.selector, cookie, body);
    }

    /// @notice Calls the doHTTPRequest precompile without Suave.sol's error handling and reports
    ///         whether execution is confidential, whether the call succeeded and what it returned.
    function rawHttp(Suave.HttpRequest memory request)
        external
        returns (bool confidential, bool ok, bytes memory output)
    {
        confidential = Suave.isConfidential();
        (ok, output) = Suave.DO_HTTPREQUEST.call(abi.encode(request));
    }

    /// @notice Confidential: sends the confidential inputs (SBundle JSON) with
    ///         `eth_sendBundle` to `url`; returns the calldata of `onBundleSent(keccak256(inputs))`.
    function sendBundle(string memory url) external returns (bytes memory) {
        bytes memory bundle = Suave.confidentialInputs();
        Suave.submitBundleJsonRPC(url, "eth_sendBundle", bundle);
        return abi.encodeWithSelector(this.onBundleSent.selector, keccak256(bundle));
    }

    /// @notice Confidential: stores the user bundle (confidential inputs, SBundle JSON) in a new
    ///         `mevshare:v0:unmatchedBundles` record and extracts its hint; returns the calldata of
    ///         `onNewTransaction(id, hint)`.
    function newTransaction(uint64 decryptionCondition, address[] memory peekers, address[] memory stores)
        external
        returns (bytes memory)
    {
        bytes memory bundle = Suave.confidentialInputs();
        bytes memory hint = Suave.extractHint(bundle);
        Suave.DataRecord memory record =
            Suave.newDataRecord(decryptionCondition, peekers, stores, "mevshare:v0:unmatchedBundles");
        Suave.confidentialStore(record.id, ETH_BUNDLES, bundle);
        return abi.encodeWithSelector(this.onNewTransaction.selector, Suave.DataId.unwrap(record.id), hint);
    }

    /// @notice Confidential: stores the backrun (confidential inputs, SBundle JSON) in a new
    ///         `mevshare:v0:matchDataRecords` record together with the ids [shareId, new id],
    ///         builds the MEV-Share bundle with fillMevShareBundle and sends it to `url` with
    ///         `mev_sendBundle`. Returns the calldata of `onMatchSent(id, keccak256(bundle))`.
    function newMatch(
        uint64 decryptionCondition,
        address[] memory peekers,
        address[] memory stores,
        bytes16 shareId,
        string memory url
    ) external returns (bytes memory) {
        bytes memory backrun = Suave.confidentialInputs();
        Suave.DataRecord memory record =
            Suave.newDataRecord(decryptionCondition, peekers, stores, "mevshare:v0:matchDataRecords");
        Suave.confidentialStore(record.id, ETH_BUNDLES, backrun);
        Suave.DataId[] memory ids = new Suave.DataId[](2);
        ids[0] = Suave.DataId.wrap(shareId);
        ids[1] = record.id;
        Suave.confidentialStore(record.id, MERGED_RECORDS, abi.encode(ids));
        bytes memory bundle = Suave.fillMevShareBundle(record.id);
        Suave.submitBundleJsonRPC(url, "mev_sendBundle", bundle);
        return abi.encodeWithSelector(this.onMatchSent.selector, Suave.DataId.unwrap(record.id), keccak256(bundle));
    }

    /// @dev Adds the confidential inputs, when there are any, as one more header line.
    function withSecretHeader(Suave.HttpRequest memory request) internal returns (Suave.HttpRequest memory) {
        bytes memory secret = Suave.confidentialInputs();
        if (secret.length == 0) {
            return request;
        }
        string[] memory headers = new string[](request.headers.length + 1);
        for (uint256 i = 0; i < request.headers.length; ++i) {
            headers[i] = request.headers[i];
        }
        headers[request.headers.length] = string(secret);
        request.headers = headers;
        return request;
    }
}
