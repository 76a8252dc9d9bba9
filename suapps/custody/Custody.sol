// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title Custody
/// @notice Private key custody: a confidential request makes the kettle generate a secp256k1
///         key that never leaves its confidential store; the key's Ethereum address is published
///         on chain, and only the wallet's owner (the user who created it) can have the kettle
///         sign Ethereum transactions with it.
/// @dev Where things live:
///      - The private key and the owner are in a data record whose only peeker is this contract,
///        so only `Custody` code running in a kettle can read them. The owner check of `sign`
///        reads the owner from that record, never from contract storage: storage can be written
///        by anyone who calls the public callbacks directly, the record only by `createWallet`.
///      - The wallet address is derived without secp256k1 point multiplication in Solidity:
///        `createWallet` signs `walletProofDigest(id)` with the new key and the callback
///        `onWalletCreated` recovers the address with `ecrecover`, so anyone can check on chain
///        that the published address holds the key of record `id`.
///      - Confidential functions refuse to run unless `address(this)` is the deployed contract:
///        under DELEGATECALL (or CALLCODE) the kettle's caller stack would hold this contract's
///        code address, which is what the record's access check looks at.
///      Refusals inside the kettle revert with `Suave.PeekerReverted(address(this), reason)`,
///      the only revert data a kettle (like suave-geth) turns into a readable
///      `eth_sendRawTransaction` error: `execution reverted: precompile '<this contract>'
///      reverted: '<reason>'`. The callbacks are ordinary public functions: their events are
///      the kettle's word only when emitted by a `0x50` transaction (receipt type `0x50`).
contract Custody {
    /// @notice A wallet as recorded on chain by `onWalletCreated`.
    /// @param owner The user whose request created the wallet (sender of the `0x50`)
    /// @param wallet The Ethereum address of the wallet's key
    struct Wallet {
        address owner;
        address wallet;
    }

    /// @notice Emitted on chain when a wallet has been created.
    /// @param id The data record holding the wallet's key
    /// @param owner The only user allowed to sign with it
    /// @param wallet The Ethereum address of the key
    event WalletCreated(bytes16 indexed id, address indexed owner, address wallet);

    /// @notice Emitted on chain with a transaction signed by a wallet.
    /// @param id The wallet's record
    /// @param signedTx The signed transaction, binary (EIP-2718), ready for `eth_sendRawTransaction`
    event Signed(bytes16 indexed id, bytes signedTx);

    /// @notice Namespace (record version) of the wallet records.
    string public constant NAMESPACE = "kettle:custody:v1";

    /// @notice Store key of the private key (64 lower-case hex digits, no `0x`).
    string public constant PRIVATE_KEY = "privateKey";

    /// @notice Store key of the owner (`abi.encode(address)`).
    string public constant OWNER = "owner";

    /// @notice Domain tag of the address proof signed by `createWallet`.
    bytes32 public constant PROOF_TAG = keccak256("kettle:custody:v1:wallet-address-proof");

    /// @dev The deployed address, to detect DELEGATECALL / CALLCODE.
    address private immutable self;

    /// @notice Wallets by record id (first registration wins).
    mapping(bytes16 => Wallet) public wallets;

    constructor() {
        self = address(this);
    }

    /// @notice Confidential: generates a secp256k1 key, stores it with the caller as owner in
    ///         a new record readable only by this contract, and signs the address proof.
    /// @return Calldata of `onWalletCreated(id, proof)`
    function createWallet() external returns (bytes memory) {
        onlyDirect();
        string memory key = Suave.privateKeyGen(Suave.CryptoSignature.SECP256);
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        Suave.DataRecord memory record = Suave.newDataRecord(0, peekers, new address[](0), NAMESPACE);
        bytes16 id = Suave.DataId.unwrap(record.id);
        Suave.confidentialStore(record.id, PRIVATE_KEY, bytes(key));
        Suave.confidentialStore(record.id, OWNER, abi.encode(msg.sender));
        bytes memory proof = Suave.signMessage(abi.encodePacked(walletProofDigest(id)), Suave.CryptoSignature.SECP256, key);
        return abi.encodeWithSelector(this.onWalletCreated.selector, id, proof);
    }

    /// @notice Confidential, owner only: signs `txn` with the key of wallet `id`.
    /// @param id The wallet's record
    /// @param txn The unsigned transaction, binary: legacy (signed with EIP-155), EIP-2930 or
    ///        EIP-1559, with zero signature fields (go-ethereum's `MarshalBinary` form)
    /// @param chainId Chain to sign for; a typed transaction's own chain id must be 0 or equal
    /// @return Calldata of `onSigned(id, signedTx)`
    function sign(bytes16 id, bytes calldata txn, uint256 chainId) external returns (bytes memory) {
        onlyDirect();
        Suave.DataId record = Suave.DataId.wrap(id);
        address owner = abi.decode(Suave.confidentialRetrieve(record, OWNER), (address));
        if (owner != msg.sender) {
            refuse("Custody: caller is not the wallet owner");
        }
        string memory key = string(Suave.confidentialRetrieve(record, PRIVATE_KEY));
        bytes memory signedTx = Suave.signEthTransaction(txn, hexQuantity(chainId), key);
        return abi.encodeWithSelector(this.onSigned.selector, id, signedTx);
    }

    /// @notice On-chain half of `createWallet`: recovers the wallet address from the proof and
    ///         records the sender as owner.
    /// @param id The wallet's record
    /// @param proof 65 bytes R‖S‖V (V 0 or 1): the wallet key's signature of `walletProofDigest(id)`
    function onWalletCreated(bytes16 id, bytes calldata proof) external {
        require(wallets[id].owner == address(0), "Custody: wallet id already registered");
        address wallet = recover(walletProofDigest(id), proof);
        wallets[id] = Wallet({owner: msg.sender, wallet: wallet});
        emit WalletCreated(id, msg.sender, wallet);
    }

    /// @notice On-chain half of `sign`: publishes the signed transaction.
    /// @param id The wallet's record
    /// @param signedTx The signed transaction
    function onSigned(bytes16 id, bytes calldata signedTx) external {
        require(wallets[id].owner == msg.sender, "Custody: sender is not the wallet owner");
        emit Signed(id, signedTx);
    }

    /// @notice The digest a wallet key signs to prove its address: binds the chain, this
    ///         contract and the record.
    /// @param id The wallet's record
    /// @return keccak256(abi.encode(PROOF_TAG, chain id, this contract, id))
    function walletProofDigest(bytes16 id) public view returns (bytes32) {
        return keccak256(abi.encode(PROOF_TAG, block.chainid, address(this), id));
    }

    /// @dev The signer of `digest` from a 65-byte R‖S‖V signature with V 0 or 1.
    function recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        require(signature.length == 65, "Custody: proof must be 65 bytes");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        require(v < 2, "Custody: proof V must be 0 or 1");
        signer = ecrecover(digest, v + 27, r, s);
        require(signer != address(0), "Custody: invalid proof");
    }

    /// @dev Refuses to run on another contract's storage (DELEGATECALL, CALLCODE).
    function onlyDirect() private view {
        if (address(this) != self) {
            refuse("Custody: delegated calls are not allowed");
        }
    }

    /// @dev Reverts with revert data the kettle reports as a readable error (see the contract doc).
    function refuse(string memory reason) private view {
        revert Suave.PeekerReverted(address(this), bytes(reason));
    }

    /// @dev `value` as a go-ethereum hex quantity: `0x`, lower-case, no leading zeros.
    function hexQuantity(uint256 value) private pure returns (string memory) {
        if (value == 0) {
            return "0x0";
        }
        uint256 digits = 0;
        for (uint256 v = value; v != 0; v >>= 4) {
            digits++;
        }
        bytes16 alphabet = "0123456789abcdef";
        bytes memory out = new bytes(2 + digits);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = digits + 1; i > 1; i--) {
            out[i] = alphabet[value & 0xf];
            value >>= 4;
        }
        return string(out);
    }
}
