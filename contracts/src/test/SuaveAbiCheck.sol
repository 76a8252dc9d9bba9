// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "../Suave.sol";
import {SuavePrecompiles} from "../SuavePrecompiles.sol";

/// @title SuaveAbiCheck
/// @notice Compile-time proof that the Suave library matches the SuavePrecompiles interface, and a
///         deployable harness exposing every Suave function as an external call.
/// @dev Each function binds `Suave.<name>` to a local variable whose internal function type is
///      spelled out in full; the compiler rejects the file if a parameter or return type differs
///      by a single bit (a view/pure library function would still be accepted, which is fine:
///      every Suave function performs a call). Implementing SuavePrecompiles forces the same
///      names and types onto the external ABI, which the Rust tests compare with upstream.
///      Deployed on a kettle and called in a confidential request, each function forwards its
///      arguments to the precompile through Suave.sol and returns the decoded result, which lets
///      end-to-end tests exercise the library itself.
contract SuaveAbiCheck is SuavePrecompiles {
    /// @inheritdoc SuavePrecompiles
    function isConfidential() external returns (bool b) {
        function() internal returns (bool) f = Suave.isConfidential;
        return f();
    }

    /// @inheritdoc SuavePrecompiles
    function aesDecrypt(bytes memory key, bytes memory ciphertext) external returns (bytes memory) {
        function(bytes memory, bytes memory) internal returns (bytes memory) f = Suave.aesDecrypt;
        return f(key, ciphertext);
    }

    /// @inheritdoc SuavePrecompiles
    function aesEncrypt(bytes memory key, bytes memory message) external returns (bytes memory) {
        function(bytes memory, bytes memory) internal returns (bytes memory) f = Suave.aesEncrypt;
        return f(key, message);
    }

    /// @inheritdoc SuavePrecompiles
    function buildEthBlock(Suave.BuildBlockArgs memory blockArgs, Suave.DataId dataId, string memory relayUrl)
        external
        returns (bytes memory, bytes memory)
    {
        function(Suave.BuildBlockArgs memory, Suave.DataId, string memory) internal returns (bytes memory, bytes memory)
            f = Suave.buildEthBlock;
        return f(blockArgs, dataId, relayUrl);
    }

    /// @inheritdoc SuavePrecompiles
    function buildEthBlockTo(
        string memory executionNodeURL,
        Suave.BuildBlockArgs memory blockArgs,
        Suave.DataId dataId,
        string memory relayUrl
    ) external returns (bytes memory, bytes memory) {
        function(string memory, Suave.BuildBlockArgs memory, Suave.DataId, string memory) internal returns (bytes memory, bytes memory)
            f = Suave.buildEthBlockTo;
        return f(executionNodeURL, blockArgs, dataId, relayUrl);
    }

    /// @inheritdoc SuavePrecompiles
    function confidentialInputs() external returns (bytes memory) {
        function() internal returns (bytes memory) f = Suave.confidentialInputs;
        return f();
    }

    /// @inheritdoc SuavePrecompiles
    function confidentialRetrieve(Suave.DataId dataId, string memory key) external returns (bytes memory) {
        function(Suave.DataId, string memory) internal returns (bytes memory) f = Suave.confidentialRetrieve;
        return f(dataId, key);
    }

    /// @inheritdoc SuavePrecompiles
    function confidentialStore(Suave.DataId dataId, string memory key, bytes memory value) external {
        function(Suave.DataId, string memory, bytes memory) internal f = Suave.confidentialStore;
        f(dataId, key, value);
    }

    /// @inheritdoc SuavePrecompiles
    function contextGet(string memory key) external returns (bytes memory) {
        function(string memory) internal returns (bytes memory) f = Suave.contextGet;
        return f(key);
    }

    /// @inheritdoc SuavePrecompiles
    function doHTTPRequest(Suave.HttpRequest memory request) external returns (bytes memory) {
        function(Suave.HttpRequest memory) internal returns (bytes memory) f = Suave.doHTTPRequest;
        return f(request);
    }

    /// @inheritdoc SuavePrecompiles
    function doHTTPRequest2(Suave.HttpRequest memory request) external returns (Suave.HttpResponse memory) {
        function(Suave.HttpRequest memory) internal returns (Suave.HttpResponse memory) f = Suave.doHTTPRequest2;
        return f(request);
    }

    /// @inheritdoc SuavePrecompiles
    function ethcall(address contractAddr, bytes memory input1) external returns (bytes memory) {
        function(address, bytes memory) internal returns (bytes memory) f = Suave.ethcall;
        return f(contractAddr, input1);
    }

    /// @inheritdoc SuavePrecompiles
    function extractHint(bytes memory bundleData) external returns (bytes memory) {
        function(bytes memory) internal returns (bytes memory) f = Suave.extractHint;
        return f(bundleData);
    }

    /// @inheritdoc SuavePrecompiles
    function fetchDataRecords(uint64 cond, string memory namespace) external returns (Suave.DataRecord[] memory) {
        function(uint64, string memory) internal returns (Suave.DataRecord[] memory) f = Suave.fetchDataRecords;
        return f(cond, namespace);
    }

    /// @inheritdoc SuavePrecompiles
    function fillMevShareBundle(Suave.DataId dataId) external returns (bytes memory) {
        function(Suave.DataId) internal returns (bytes memory) f = Suave.fillMevShareBundle;
        return f(dataId);
    }

    /// @inheritdoc SuavePrecompiles
    function getInsecureTime() external returns (uint256) {
        function() internal returns (uint256) f = Suave.getInsecureTime;
        return f();
    }

    /// @inheritdoc SuavePrecompiles
    function newBuilder() external returns (string memory) {
        function() internal returns (string memory) f = Suave.newBuilder;
        return f();
    }

    /// @inheritdoc SuavePrecompiles
    function newDataRecord(
        uint64 decryptionCondition,
        address[] memory allowedPeekers,
        address[] memory allowedStores,
        string memory dataType
    ) external returns (Suave.DataRecord memory) {
        function(uint64, address[] memory, address[] memory, string memory) internal returns (Suave.DataRecord memory)
            f = Suave.newDataRecord;
        return f(decryptionCondition, allowedPeekers, allowedStores, dataType);
    }

    /// @inheritdoc SuavePrecompiles
    function privateKeyGen(Suave.CryptoSignature crypto) external returns (string memory) {
        function(Suave.CryptoSignature) internal returns (string memory) f = Suave.privateKeyGen;
        return f(crypto);
    }

    /// @inheritdoc SuavePrecompiles
    function randomBytes(uint8 numBytes) external returns (bytes memory) {
        function(uint8) internal returns (bytes memory) f = Suave.randomBytes;
        return f(numBytes);
    }

    /// @inheritdoc SuavePrecompiles
    function signEthTransaction(bytes memory txn, string memory chainId, string memory signingKey)
        external
        returns (bytes memory)
    {
        function(bytes memory, string memory, string memory) internal returns (bytes memory) f =
            Suave.signEthTransaction;
        return f(txn, chainId, signingKey);
    }

    /// @inheritdoc SuavePrecompiles
    function signMessage(bytes memory digest, Suave.CryptoSignature crypto, string memory signingKey)
        external
        returns (bytes memory)
    {
        function(bytes memory, Suave.CryptoSignature, string memory) internal returns (bytes memory) f =
            Suave.signMessage;
        return f(digest, crypto, signingKey);
    }

    /// @inheritdoc SuavePrecompiles
    function simulateBundle(bytes memory bundleData) external returns (uint64) {
        function(bytes memory) internal returns (uint64) f = Suave.simulateBundle;
        return f(bundleData);
    }

    /// @inheritdoc SuavePrecompiles
    function simulateTransaction(string memory sessionid, bytes memory txn)
        external
        returns (Suave.SimulateTransactionResult memory)
    {
        function(string memory, bytes memory) internal returns (Suave.SimulateTransactionResult memory) f =
            Suave.simulateTransaction;
        return f(sessionid, txn);
    }

    /// @inheritdoc SuavePrecompiles
    function submitBundleJsonRPC(string memory url, string memory method, bytes memory params)
        external
        returns (bytes memory)
    {
        function(string memory, string memory, bytes memory) internal returns (bytes memory) f =
            Suave.submitBundleJsonRPC;
        return f(url, method, params);
    }

    /// @inheritdoc SuavePrecompiles
    function submitEthBlockToRelay(string memory relayUrl, bytes memory builderBid) external returns (bytes memory) {
        function(string memory, bytes memory) internal returns (bytes memory) f = Suave.submitEthBlockToRelay;
        return f(relayUrl, builderBid);
    }
}
