// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.8;

/// @title Suave
/// @notice kettle's Solidity binding of the SUAVE MEVM precompiles, for SUAPP authors.
/// @dev Source-compatible with the `Suave` library of flashbots/suave-std (`src/suavelib/Suave.sol`):
///      same library name, types, error, constants and function signatures, so a SUAPP written
///      against suave-std compiles unchanged when it imports this file instead.
///
///      Calling convention shared by every function below:
///      - the precompile receives `abi.encode(arguments...)`, without a function selector;
///      - a failing precompile (its revert data is the raw UTF-8 error text) makes the library
///        revert with `PeekerReverted(precompileAddress, thatRevertData)`;
///      - most precompiles answer with `abi.encode(outputs...)`, which is decoded here; the
///        "raw" ones (confidentialInputs, confidentialRetrieve, extractHint, fillMevShareBundle,
///        submitBundleJsonRPC, submitEthBlockToRelay) answer with bare bytes that are handed
///        back unchanged, and isConfidential answers with the single byte 0x01.
///      The precompiles only exist while a kettle executes a confidential compute request; on
///      chain their addresses are empty accounts, so calls "succeed" with empty return data.
library Suave {
    /// @notice Raised when the precompile at the first argument fails; the second argument is
    ///         the precompile's revert data (its error message as raw UTF-8 bytes).
    error PeekerReverted(address, bytes);

    /// @notice Signature scheme selector of signMessage and privateKeyGen.
    enum CryptoSignature {
        SECP256,
        BLS
    }

    /// @notice Identifier of a record in the confidential data store.
    type DataId is bytes16;

    /// @notice Parameters of a block built by buildEthBlock / buildEthBlockTo.
    /// @param slot Beacon slot the block is built for
    /// @param proposerPubkey BLS public key of the slot's proposer
    /// @param parent Hash of the parent execution block
    /// @param timestamp Block timestamp in seconds
    /// @param feeRecipient Coinbase of the block
    /// @param gasLimit Gas limit of the block
    /// @param random prevRandao value of the block
    /// @param withdrawals Beacon withdrawals the block must include
    /// @param extra Extra-data field of the block header
    /// @param beaconRoot Parent beacon block root
    /// @param fillPending When true the builder also fills the block from its mempool
    struct BuildBlockArgs {
        uint64 slot;
        bytes proposerPubkey;
        bytes32 parent;
        uint64 timestamp;
        address feeRecipient;
        uint64 gasLimit;
        bytes32 random;
        Withdrawal[] withdrawals;
        bytes extra;
        bytes32 beaconRoot;
        bool fillPending;
    }

    /// @notice Metadata of a confidential data store record (the data itself lives under keys).
    /// @param id Record identifier
    /// @param salt Random salt chosen by the kettle that created the record
    /// @param decryptionCondition Application-defined condition, usually a block number
    /// @param allowedPeekers Contracts allowed to read and write the record (ANYALLOWED = all)
    /// @param allowedStores Kettles allowed to replicate writes to the record
    /// @param version Namespace (data type) of the record
    struct DataRecord {
        DataId id;
        DataId salt;
        uint64 decryptionCondition;
        address[] allowedPeekers;
        address[] allowedStores;
        string version;
    }

    /// @notice An outgoing HTTP request made by doHTTPRequest / doHTTPRequest2.
    /// @param url Absolute URL, or the name of a service alias configured on the kettle
    /// @param method "GET" or "POST"
    /// @param headers Header lines in the form "Name:Value"
    /// @param body Request body
    /// @param withFlashbotsSignature When true the kettle adds an X-Flashbots-Signature header
    /// @param timeout Timeout in milliseconds (0 means the kettle default)
    struct HttpRequest {
        string url;
        string method;
        string[] headers;
        bytes body;
        bool withFlashbotsSignature;
        uint64 timeout;
    }

    /// @notice The answer to doHTTPRequest2.
    /// @param status HTTP status code
    /// @param body Response body
    /// @param error Error text (left empty by current kettles)
    struct HttpResponse {
        uint64 status;
        bytes body;
        bytes error;
    }

    /// @notice Outcome of simulateTransaction in a remote builder session.
    /// @param egp Effective gas price paid by the transaction
    /// @param logs Logs the transaction emitted
    /// @param success Whether the transaction succeeded
    /// @param error Failure reason when it did not
    struct SimulateTransactionResult {
        uint64 egp;
        SimulatedLog[] logs;
        bool success;
        string error;
    }

    /// @notice A log produced by a simulated transaction (note: data comes first).
    /// @param data Non-indexed log data
    /// @param addr Emitting contract
    /// @param topics Indexed topics
    struct SimulatedLog {
        bytes data;
        address addr;
        bytes32[] topics;
    }

    /// @notice A beacon-chain withdrawal included in a built block.
    /// @param index Withdrawal index
    /// @param validator Validator index
    /// @param Address Recipient of the withdrawn amount
    /// @param amount Amount in Gwei
    struct Withdrawal {
        uint64 index;
        uint64 validator;
        address Address;
        uint64 amount;
    }

    /// @notice Wildcard peeker: a record listing it may be used by any contract.
    address public constant ANYALLOWED = 0xC8df3686b4Afb2BB53e60EAe97EF043FE03Fb829;

    /// @notice Precompile telling whether execution is confidential.
    address public constant IS_CONFIDENTIAL_ADDR = 0x0000000000000000000000000000000042010000;

    /// @notice Precompile: AES-256-GCM decryption.
    address public constant AES_DECRYPT = 0x000000000000000000000000000000005670000D;

    /// @notice Precompile: AES-256-GCM encryption.
    address public constant AES_ENCRYPT = 0x000000000000000000000000000000005670000e;

    /// @notice Precompile: build a block on the kettle's own execution backend.
    address public constant BUILD_ETH_BLOCK = 0x0000000000000000000000000000000042100001;

    /// @notice Precompile: build a block on a named execution node.
    address public constant BUILD_ETH_BLOCK_TO = 0x0000000000000000000000000000000042100006;

    /// @notice Precompile: the confidential inputs of the current request.
    address public constant CONFIDENTIAL_INPUTS = 0x0000000000000000000000000000000042010001;

    /// @notice Precompile: read a value from the confidential data store.
    address public constant CONFIDENTIAL_RETRIEVE = 0x0000000000000000000000000000000042020001;

    /// @notice Precompile: write a value to the confidential data store.
    address public constant CONFIDENTIAL_STORE = 0x0000000000000000000000000000000042020000;

    /// @notice Precompile: read a value from the request context.
    address public constant CONTEXT_GET = 0x0000000000000000000000000000000053300003;

    /// @notice Precompile: HTTP request returning the body (non-2xx is an error).
    address public constant DO_HTTPREQUEST = 0x0000000000000000000000000000000043200002;

    /// @notice Precompile: HTTP request returning status, body and error.
    address public constant DO_HTTPREQUEST2 = 0x0000000000000000000000000000000043200003;

    /// @notice Precompile: eth_call against the kettle's execution backend.
    address public constant ETHCALL = 0x0000000000000000000000000000000042100003;

    /// @notice Precompile: extract the MEV-share hint of a bundle.
    address public constant EXTRACT_HINT = 0x0000000000000000000000000000000042100037;

    /// @notice Precompile: list data records by decryption condition and namespace.
    address public constant FETCH_DATA_RECORDS = 0x0000000000000000000000000000000042030001;

    /// @notice Precompile: assemble a matched MEV-share bundle.
    address public constant FILL_MEV_SHARE_BUNDLE = 0x0000000000000000000000000000000043200001;

    /// @notice Precompile: the kettle's wall clock.
    address public constant GET_INSECURE_TIME = 0x000000000000000000000000000000007770000c;

    /// @notice Precompile: open a remote builder session.
    address public constant NEW_BUILDER = 0x0000000000000000000000000000000053200001;

    /// @notice Precompile: create a data record.
    address public constant NEW_DATA_RECORD = 0x0000000000000000000000000000000042030000;

    /// @notice Precompile: generate a fresh private key.
    address public constant PRIVATE_KEY_GEN = 0x0000000000000000000000000000000053200003;

    /// @notice Precompile: cryptographically secure random bytes.
    address public constant RANDOM_BYTES = 0x000000000000000000000000000000007770000b;

    /// @notice Precompile: sign an Ethereum transaction.
    address public constant SIGN_ETH_TRANSACTION = 0x0000000000000000000000000000000040100001;

    /// @notice Precompile: sign a message (secp256k1 or BLS).
    address public constant SIGN_MESSAGE = 0x0000000000000000000000000000000040100003;

    /// @notice Precompile: simulate a bundle on the execution backend.
    address public constant SIMULATE_BUNDLE = 0x0000000000000000000000000000000042100000;

    /// @notice Precompile: simulate a transaction in a remote builder session.
    address public constant SIMULATE_TRANSACTION = 0x0000000000000000000000000000000053200002;

    /// @notice Precompile: send a signed JSON-RPC request (bundle submission).
    address public constant SUBMIT_BUNDLE_JSON_RPC = 0x0000000000000000000000000000000043000001;

    /// @notice Precompile: submit a builder bid to a mev-boost relay.
    address public constant SUBMIT_ETH_BLOCK_TO_RELAY = 0x0000000000000000000000000000000042100002;

    /// @dev Calls `precompile` with `input`; returns its output or reverts with PeekerReverted.
    function callPrecompile(address precompile, bytes memory input) private returns (bytes memory output) {
        bool ok;
        (ok, output) = precompile.call(input);
        if (!ok) {
            revert PeekerReverted(precompile, output);
        }
    }

    /// @dev Reverts unless execution is confidential (used before the precompiles that must
    ///      never be reached by on-chain execution).
    function requireConfidential() private {
        require(isConfidential());
    }

    /// @notice Whether the code runs inside a kettle's confidential execution.
    /// @dev The precompile answers 0x01 when confidential; on chain the call returns nothing.
    ///      Any non-zero byte within the first 32 bytes of the answer counts as true, so an
    ///      ABI-encoded `true` (as some test doubles return) is understood as well.
    /// @return b True when confidential
    function isConfidential() internal returns (bool b) {
        bytes memory answer = callPrecompile(IS_CONFIDENTIAL_ADDR, "");
        uint256 n = answer.length < 32 ? answer.length : 32;
        for (uint256 i = 0; i < n; ++i) {
            if (answer[i] != 0) {
                return true;
            }
        }
        return false;
    }

    /// @notice Decrypts `nonce || ciphertext || tag` produced by aesEncrypt.
    /// @param key Key, zero-padded or truncated to 32 bytes by the kettle
    /// @param ciphertext Output of aesEncrypt
    /// @return The plaintext
    function aesDecrypt(bytes memory key, bytes memory ciphertext) internal returns (bytes memory) {
        return abi.decode(callPrecompile(AES_DECRYPT, abi.encode(key, ciphertext)), (bytes));
    }

    /// @notice Encrypts `message` with AES-256-GCM and a random nonce.
    /// @param key Key, zero-padded or truncated to 32 bytes by the kettle
    /// @param message Plaintext
    /// @return `nonce || ciphertext || tag`
    function aesEncrypt(bytes memory key, bytes memory message) internal returns (bytes memory) {
        return abi.decode(callPrecompile(AES_ENCRYPT, abi.encode(key, message)), (bytes));
    }

    /// @notice Builds a block on the kettle's execution backend from the bundles of a record.
    /// @param blockArgs Block parameters
    /// @param dataId Record holding the bundles to include
    /// @param relayUrl When non-empty, the resulting bid is also submitted to this relay
    /// @return The builder bid (JSON) and the execution payload (JSON)
    function buildEthBlock(BuildBlockArgs memory blockArgs, DataId dataId, string memory relayUrl)
        internal
        returns (bytes memory, bytes memory)
    {
        bytes memory out = callPrecompile(BUILD_ETH_BLOCK, abi.encode(blockArgs, dataId, relayUrl));
        return abi.decode(out, (bytes, bytes));
    }

    /// @notice Like buildEthBlock, but on the execution node named by `executionNodeURL`.
    /// @param executionNodeURL URL or service alias of the execution node
    /// @param blockArgs Block parameters
    /// @param dataId Record holding the bundles to include
    /// @param relayUrl When non-empty, the resulting bid is also submitted to this relay
    /// @return The builder bid (JSON) and the execution payload (JSON)
    function buildEthBlockTo(
        string memory executionNodeURL,
        BuildBlockArgs memory blockArgs,
        DataId dataId,
        string memory relayUrl
    ) internal returns (bytes memory, bytes memory) {
        bytes memory out =
            callPrecompile(BUILD_ETH_BLOCK_TO, abi.encode(executionNodeURL, blockArgs, dataId, relayUrl));
        return abi.decode(out, (bytes, bytes));
    }

    /// @notice The confidential inputs attached to the current request (raw bytes, maybe empty).
    /// @return The inputs exactly as the user sent them
    function confidentialInputs() internal returns (bytes memory) {
        return callPrecompile(CONFIDENTIAL_INPUTS, abi.encode());
    }

    /// @notice Reads the value stored under `key` in record `dataId`.
    /// @param dataId Record to read
    /// @param key Key within the record
    /// @return The stored bytes, unmodified
    function confidentialRetrieve(DataId dataId, string memory key) internal returns (bytes memory) {
        return callPrecompile(CONFIDENTIAL_RETRIEVE, abi.encode(dataId, key));
    }

    /// @notice Stores `value` under `key` in record `dataId` (committed when the request succeeds).
    /// @param dataId Record to write
    /// @param key Key within the record
    /// @param value Bytes to store
    function confidentialStore(DataId dataId, string memory key, bytes memory value) internal {
        callPrecompile(CONFIDENTIAL_STORE, abi.encode(dataId, key, value));
    }

    /// @notice Reads a value of the request context, e.g. "kettleAddress" or "confidentialInputs".
    /// @param key Context key; a missing key makes the precompile fail
    /// @return The value
    function contextGet(string memory key) internal returns (bytes memory) {
        return abi.decode(callPrecompile(CONTEXT_GET, abi.encode(key)), (bytes));
    }

    /// @notice Performs an HTTP request; a status above 299 makes the precompile fail.
    /// @param request The request
    /// @return The response body
    function doHTTPRequest(HttpRequest memory request) internal returns (bytes memory) {
        return abi.decode(callPrecompile(DO_HTTPREQUEST, abi.encode(request)), (bytes));
    }

    /// @notice Performs an HTTP request and returns the response whatever its status.
    /// @param request The request
    /// @return Status, body and error of the response
    function doHTTPRequest2(HttpRequest memory request) internal returns (HttpResponse memory) {
        return abi.decode(callPrecompile(DO_HTTPREQUEST2, abi.encode(request)), (HttpResponse));
    }

    /// @notice Runs an eth_call on the kettle's execution backend.
    /// @param contractAddr Called contract
    /// @param input1 Calldata
    /// @return The call's return data
    function ethcall(address contractAddr, bytes memory input1) internal returns (bytes memory) {
        return abi.decode(callPrecompile(ETHCALL, abi.encode(contractAddr, input1)), (bytes));
    }

    /// @notice Extracts the MEV-share hint (target and calldata of the first transaction).
    /// @param bundleData Bundle as JSON
    /// @return The hint as JSON
    function extractHint(bytes memory bundleData) internal returns (bytes memory) {
        requireConfidential();
        return callPrecompile(EXTRACT_HINT, abi.encode(bundleData));
    }

    /// @notice Lists the records with decryption condition `cond` in namespace `namespace`.
    /// @param cond Decryption condition to match
    /// @param namespace Namespace (record version) to match
    /// @return The matching records
    function fetchDataRecords(uint64 cond, string memory namespace) internal returns (DataRecord[] memory) {
        return abi.decode(callPrecompile(FETCH_DATA_RECORDS, abi.encode(cond, namespace)), (DataRecord[]));
    }

    /// @notice Joins the user transaction and the backrun of record `dataId` into a MEV-share bundle.
    /// @param dataId Record holding the matched bundle
    /// @return The bundle as JSON, ready for submitBundleJsonRPC
    function fillMevShareBundle(DataId dataId) internal returns (bytes memory) {
        requireConfidential();
        return callPrecompile(FILL_MEV_SHARE_BUNDLE, abi.encode(dataId));
    }

    /// @notice The kettle's wall-clock time; not agreed on by anyone, hence "insecure".
    /// @return Unix time in milliseconds
    function getInsecureTime() internal returns (uint256) {
        return abi.decode(callPrecompile(GET_INSECURE_TIME, abi.encode()), (uint256));
    }

    /// @notice Opens a session on the remote builder.
    /// @return The session id
    function newBuilder() internal returns (string memory) {
        return abi.decode(callPrecompile(NEW_BUILDER, abi.encode()), (string));
    }

    /// @notice Creates a record in the confidential data store.
    /// @param decryptionCondition Application-defined condition, usually a block number
    /// @param allowedPeekers Contracts allowed to use the record (ANYALLOWED = all)
    /// @param allowedStores Kettles allowed to replicate writes
    /// @param dataType Namespace of the record
    /// @return The new record
    function newDataRecord(
        uint64 decryptionCondition,
        address[] memory allowedPeekers,
        address[] memory allowedStores,
        string memory dataType
    ) internal returns (DataRecord memory) {
        bytes memory out =
            callPrecompile(NEW_DATA_RECORD, abi.encode(decryptionCondition, allowedPeekers, allowedStores, dataType));
        return abi.decode(out, (DataRecord));
    }

    /// @notice Generates a fresh private key of the given scheme.
    /// @param crypto Key scheme
    /// @return The key as 64 lower-case hex digits without 0x, as signMessage expects it
    function privateKeyGen(CryptoSignature crypto) internal returns (string memory) {
        return abi.decode(callPrecompile(PRIVATE_KEY_GEN, abi.encode(crypto)), (string));
    }

    /// @notice Cryptographically secure random bytes.
    /// @param numBytes How many bytes to return
    /// @return The random bytes
    function randomBytes(uint8 numBytes) internal returns (bytes memory) {
        return abi.decode(callPrecompile(RANDOM_BYTES, abi.encode(numBytes)), (bytes));
    }

    /// @notice Signs a binary-encoded legacy, EIP-2930 or EIP-1559 transaction.
    /// @param txn The unsigned transaction
    /// @param chainId Chain id as a 0x-prefixed hex quantity
    /// @param signingKey Private key as 64 hex digits without 0x
    /// @return The signed transaction, binary-encoded
    function signEthTransaction(bytes memory txn, string memory chainId, string memory signingKey)
        internal
        returns (bytes memory)
    {
        return abi.decode(callPrecompile(SIGN_ETH_TRANSACTION, abi.encode(txn, chainId, signingKey)), (bytes));
    }

    /// @notice Signs `digest` with `signingKey`.
    /// @param digest For SECP256 a 32-byte hash; for BLS any message
    /// @param crypto Signature scheme
    /// @param signingKey Private key in hex
    /// @return 65 bytes r || s || v (v in {0,1}) for SECP256, a 96-byte G2 point for BLS
    function signMessage(bytes memory digest, CryptoSignature crypto, string memory signingKey)
        internal
        returns (bytes memory)
    {
        requireConfidential();
        return abi.decode(callPrecompile(SIGN_MESSAGE, abi.encode(digest, crypto, signingKey)), (bytes));
    }

    /// @notice Simulates a bundle by building a block containing it.
    /// @param bundleData Bundle as JSON
    /// @return The effective gas price of the simulated block
    function simulateBundle(bytes memory bundleData) internal returns (uint64) {
        return abi.decode(callPrecompile(SIMULATE_BUNDLE, abi.encode(bundleData)), (uint64));
    }

    /// @notice Applies a transaction in a remote builder session.
    /// @param sessionid Session from newBuilder
    /// @param txn Binary-encoded signed transaction
    /// @return What the simulation produced
    function simulateTransaction(string memory sessionid, bytes memory txn)
        internal
        returns (SimulateTransactionResult memory)
    {
        bytes memory out = callPrecompile(SIMULATE_TRANSACTION, abi.encode(sessionid, txn));
        return abi.decode(out, (SimulateTransactionResult));
    }

    /// @notice Sends a JSON-RPC request whose body is signed with the kettle's
    ///         X-Flashbots-Signature header, as bundle relays expect.
    /// @param url Endpoint URL or service alias
    /// @param method JSON-RPC method name
    /// @param params JSON-RPC params (JSON)
    /// @return The precompile's raw output (empty on success)
    function submitBundleJsonRPC(string memory url, string memory method, bytes memory params)
        internal
        returns (bytes memory)
    {
        requireConfidential();
        return callPrecompile(SUBMIT_BUNDLE_JSON_RPC, abi.encode(url, method, params));
    }

    /// @notice Posts a builder bid to a mev-boost relay.
    /// @param relayUrl Relay base URL
    /// @param builderBid The bid as JSON
    /// @return The relay's response body, raw
    function submitEthBlockToRelay(string memory relayUrl, bytes memory builderBid) internal returns (bytes memory) {
        requireConfidential();
        return callPrecompile(SUBMIT_ETH_BLOCK_TO_RELAY, abi.encode(relayUrl, builderBid));
    }
}
