// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title CrashStore
/// @notice Test SUAPP of the crash test (`tests/tests/crash.rs`). `write` creates several
///         records in one confidential request, each holding a metadata value and several
///         derived values, so a test can check that a request's store writes are all there or
///         none are; `audit` lists the records of a decryption condition through the store's
///         index and reads every value back; `bump` is plain on-chain state to check against
///         the transactions that changed it.
contract CrashStore {
    /// @notice Emitted on chain by the callback of `write`.
    /// @param tag The request's tag (its confidential inputs)
    /// @param cond Decryption condition of the records
    /// @param ids The records created, in creation order
    event Written(bytes32 indexed tag, uint64 cond, bytes16[] ids);

    /// @notice Emitted by `bump`.
    event Bumped(address indexed from, uint256 by);

    /// @notice One record found by `audit`, as its metadata describes it.
    struct Entry {
        bytes16 id;
        bytes32 tag;
        uint8 index;
        uint8 records;
        uint8 keys;
    }

    /// @notice Namespace of the records this SUAPP creates.
    string public constant NAMESPACE = "kettle:test:crash";

    /// @notice Key of a record's metadata: `abi.encode(tag, index, records, keys)`.
    string public constant META = "meta";

    /// @notice Sum of the `by` of every `bump`.
    uint256 public total;

    /// @notice Number of `bump` calls.
    uint256 public bumps;

    /// @notice On chain: adds `by` to `total`.
    function bump(uint256 by) external {
        total += by;
        bumps += 1;
        emit Bumped(msg.sender, by);
    }

    /// @notice The value `write` stores under key `k` of the `r`-th record of request `tag`:
    ///         `k + 1` copies of `keccak256(abi.encode(tag, r, k))`.
    function value(bytes32 tag, uint256 r, uint256 k) public pure returns (bytes memory v) {
        bytes32 h = keccak256(abi.encode(tag, r, k));
        v = abi.encodePacked(h);
        for (uint256 i = 0; i < k; i++) {
            v = abi.encodePacked(v, h);
        }
    }

    /// @notice The store key of value `k` (`v0` … `v9`).
    function keyName(uint256 k) public pure returns (string memory) {
        require(k < 10, "at most 10 keys");
        return string(abi.encodePacked("v", bytes1(uint8(48 + k))));
    }

    /// @notice Confidential: the inputs are a 32-byte tag; creates `records` records with
    ///         decryption condition `cond`, each holding its metadata and `keys` values.
    /// @return Calldata of `onWritten(tag, cond, ids)`
    function write(uint64 cond, uint8 records, uint8 keys) external returns (bytes memory) {
        bytes memory inputs = Suave.confidentialInputs();
        require(inputs.length == 32, "the inputs must be a 32-byte tag");
        bytes32 tag = bytes32(inputs);
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        bytes16[] memory ids = new bytes16[](records);
        for (uint8 r = 0; r < records; r++) {
            Suave.DataRecord memory record = Suave.newDataRecord(cond, peekers, new address[](0), NAMESPACE);
            Suave.confidentialStore(record.id, META, abi.encode(tag, r, records, keys));
            for (uint8 k = 0; k < keys; k++) {
                Suave.confidentialStore(record.id, keyName(k), value(tag, r, k));
            }
            ids[r] = Suave.DataId.unwrap(record.id);
        }
        return abi.encodeWithSelector(this.onWritten.selector, tag, cond, ids);
    }

    /// @notice On-chain callback of `write`.
    function onWritten(bytes32 tag, uint64 cond, bytes16[] calldata ids) external {
        emit Written(tag, cond, ids);
    }

    /// @notice Confidential: every record `fetchDataRecords(cond, NAMESPACE)` lists, in index
    ///         order, with its metadata; reverts if a record does not match its index entry or
    ///         a value is missing or differs from what `write` stored.
    function audit(uint64 cond) external returns (Entry[] memory entries) {
        Suave.DataRecord[] memory found = Suave.fetchDataRecords(cond, NAMESPACE);
        entries = new Entry[](found.length);
        for (uint256 i = 0; i < found.length; i++) {
            Suave.DataRecord memory record = found[i];
            require(record.decryptionCondition == cond, "record of another condition");
            require(keccak256(bytes(record.version)) == keccak256(bytes(NAMESPACE)), "record of another namespace");
            (bytes32 tag, uint8 r, uint8 records, uint8 keys) =
                abi.decode(Suave.confidentialRetrieve(record.id, META), (bytes32, uint8, uint8, uint8));
            for (uint8 k = 0; k < keys; k++) {
                require(
                    keccak256(Suave.confidentialRetrieve(record.id, keyName(k))) == keccak256(value(tag, r, k)),
                    "a value differs from what write stored"
                );
            }
            entries[i] = Entry(Suave.DataId.unwrap(record.id), tag, r, records, keys);
        }
    }
}
