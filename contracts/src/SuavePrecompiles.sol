// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

import {Suave} from "./Suave.sol";

/// @title SuavePrecompiles
/// @notice The ABI of the SUAVE precompiles, one function per function of the Suave library, with
///         the same name, parameters and return values.
/// @dev This interface is never called through selectors: a precompile receives the encoded
///      parameters WITHOUT the 4-byte selector (`abi.encode(args...)`). It exists so that the
///      parameter and return types have one machine-readable description, from which Rust
///      bindings (crate kettle-contracts) encode and decode precompile input and output.
///      Output exceptions, where the wire format is NOT the ABI encoding of the return value:
///      - isConfidential answers the single byte 0x01 (confidential) or nothing (on chain);
///      - confidentialStore answers nothing;
///      - confidentialInputs, confidentialRetrieve, extractHint, fillMevShareBundle,
///        submitBundleJsonRPC and submitEthBlockToRelay answer the returned bytes raw.
interface SuavePrecompiles {
    /// @notice Precompile 0x42010000 (wire output: single byte 0x01, not an ABI bool).
    function isConfidential() external returns (bool b);

    /// @notice Precompile 0x5670000d.
    function aesDecrypt(bytes memory key, bytes memory ciphertext) external returns (bytes memory);

    /// @notice Precompile 0x5670000e.
    function aesEncrypt(bytes memory key, bytes memory message) external returns (bytes memory);

    /// @notice Precompile 0x42100001.
    function buildEthBlock(Suave.BuildBlockArgs memory blockArgs, Suave.DataId dataId, string memory relayUrl)
        external
        returns (bytes memory, bytes memory);

    /// @notice Precompile 0x42100006.
    function buildEthBlockTo(
        string memory executionNodeURL,
        Suave.BuildBlockArgs memory blockArgs,
        Suave.DataId dataId,
        string memory relayUrl
    ) external returns (bytes memory, bytes memory);

    /// @notice Precompile 0x42010001 (wire output: raw bytes).
    function confidentialInputs() external returns (bytes memory);

    /// @notice Precompile 0x42020001 (wire output: raw bytes).
    function confidentialRetrieve(Suave.DataId dataId, string memory key) external returns (bytes memory);

    /// @notice Precompile 0x42020000 (wire output: empty).
    function confidentialStore(Suave.DataId dataId, string memory key, bytes memory value) external;

    /// @notice Precompile 0x53300003.
    function contextGet(string memory key) external returns (bytes memory);

    /// @notice Precompile 0x43200002.
    function doHTTPRequest(Suave.HttpRequest memory request) external returns (bytes memory);

    /// @notice Precompile 0x43200003.
    function doHTTPRequest2(Suave.HttpRequest memory request) external returns (Suave.HttpResponse memory);

    /// @notice Precompile 0x42100003.
    function ethcall(address contractAddr, bytes memory input1) external returns (bytes memory);

    /// @notice Precompile 0x42100037 (wire output: raw bytes).
    function extractHint(bytes memory bundleData) external returns (bytes memory);

    /// @notice Precompile 0x42030001.
    function fetchDataRecords(uint64 cond, string memory namespace) external returns (Suave.DataRecord[] memory);

    /// @notice Precompile 0x43200001 (wire output: raw bytes).
    function fillMevShareBundle(Suave.DataId dataId) external returns (bytes memory);

    /// @notice Precompile 0x7770000c.
    function getInsecureTime() external returns (uint256);

    /// @notice Precompile 0x53200001.
    function newBuilder() external returns (string memory);

    /// @notice Precompile 0x42030000.
    function newDataRecord(
        uint64 decryptionCondition,
        address[] memory allowedPeekers,
        address[] memory allowedStores,
        string memory dataType
    ) external returns (Suave.DataRecord memory);

    /// @notice Precompile 0x53200003.
    function privateKeyGen(Suave.CryptoSignature crypto) external returns (string memory);

    /// @notice Precompile 0x7770000b.
    function randomBytes(uint8 numBytes) external returns (bytes memory);

    /// @notice Precompile 0x40100001.
    function signEthTransaction(bytes memory txn, string memory chainId, string memory signingKey)
        external
        returns (bytes memory);

    /// @notice Precompile 0x40100003.
    function signMessage(bytes memory digest, Suave.CryptoSignature crypto, string memory signingKey)
        external
        returns (bytes memory);

    /// @notice Precompile 0x42100000.
    function simulateBundle(bytes memory bundleData) external returns (uint64);

    /// @notice Precompile 0x53200002.
    function simulateTransaction(string memory sessionid, bytes memory txn)
        external
        returns (Suave.SimulateTransactionResult memory);

    /// @notice Precompile 0x43000001 (wire output: raw bytes, empty on success).
    function submitBundleJsonRPC(string memory url, string memory method, bytes memory params)
        external
        returns (bytes memory);

    /// @notice Precompile 0x42100002 (wire output: raw bytes).
    function submitEthBlockToRelay(string memory relayUrl, bytes memory builderBid) external returns (bytes memory);
}
