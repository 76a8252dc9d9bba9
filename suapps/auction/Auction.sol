// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.13;

import {Suave} from "suave/Suave.sol";

/// @title Auction
/// @notice Sealed-bid, first-price auctions. Anyone opens an auction on chain with a closing
///         block; bidders send their amounts as confidential inputs to a kettle, which keeps
///         them in its confidential store and announces on chain only who bid. After the
///         closing block anyone can ask a kettle to close the auction: it reads every bid,
///         picks the highest (ties: the earliest) and settles the winner and amount on chain.
///         The losing amounts are never published.
/// @dev Where things live:
///      - Each bid is a data record in the namespace `auctionNamespace(auctionId)` with
///        decryption condition = the closing block, whose only peeker is this contract; it holds
///        `abi.encode(auctionId, bidder, amount)` under `BID`. `close` only counts records whose
///        peekers are exactly this contract (anyone can create records in any namespace, but only
///        this contract's code can write into such records, and it only does so in `bid`), and
///        skips records without a readable bid.
///      - "Closed" is judged by the block number the kettle executes at (its chain head): `bid`
///        needs `block.number < closesAtBlock`, `close` needs `block.number >= closesAtBlock`.
///      - Confidential functions refuse to run unless `address(this)` is the deployed contract:
///        under DELEGATECALL (or CALLCODE) the kettle's caller stack would hold this contract's
///        code address (so the bids would be readable) while storage, and so the closing block,
///        would be the caller's.
///      Refusals inside the kettle revert with `Suave.PeekerReverted(address(this), reason)`,
///      the only revert data a kettle (like suave-geth) turns into a readable
///      `eth_sendRawTransaction` error: `execution reverted: precompile '<this contract>'
///      reverted: '<reason>'`.
///
///      Limitation: the callbacks are ordinary public functions. Their events are the kettle's
///      word only when emitted by a `0x50` transaction (receipt type `0x50`); in particular
///      anyone can call `settle` directly once the closing block is reached, and the first
///      settlement wins. Production code would authenticate it, e.g. with a signature by a key
///      only this contract's kettle code can read.
contract Auction {
    /// @notice An auction's on-chain state.
    /// @param creator Who opened it
    /// @param closesAtBlock First block number at which bids are refused and closing is allowed
    /// @param settled Whether `settle` has run
    /// @param winner Highest bidder (zero if there was no bid)
    /// @param amount Winning amount (zero if there was no bid)
    struct Info {
        address creator;
        uint64 closesAtBlock;
        bool settled;
        address winner;
        uint256 amount;
    }

    /// @notice Emitted on chain when an auction opens.
    /// @param auctionId The new auction
    /// @param creator Who opened it
    /// @param closesAtBlock Its closing block
    event AuctionCreated(uint256 indexed auctionId, address indexed creator, uint64 closesAtBlock);

    /// @notice Emitted on chain for each accepted bid; the amount stays in the kettle.
    /// @param auctionId The auction
    /// @param bidder Who bid (sender of the `0x50`)
    event BidPlaced(uint256 indexed auctionId, address indexed bidder);

    /// @notice Emitted on chain when an auction is settled.
    /// @param auctionId The auction
    /// @param winner Highest bidder (zero if there was no bid)
    /// @param amount Winning amount (zero if there was no bid)
    event AuctionSettled(uint256 indexed auctionId, address indexed winner, uint256 amount);

    /// @notice Prefix of the per-auction namespace; the auction id follows in decimal.
    string public constant NAMESPACE_PREFIX = "kettle:auction:v1:";

    /// @notice Store key of a bid inside its record.
    string public constant BID = "bid";

    /// @dev The deployed address, to detect DELEGATECALL / CALLCODE.
    address private immutable self;

    /// @notice Number of auctions opened; ids are 1, 2, …
    uint256 public auctionCount;

    /// @notice Auctions by id.
    mapping(uint256 => Info) public auctions;

    constructor() {
        self = address(this);
    }

    /// @notice On chain: opens an auction.
    /// @param closesAtBlock Closing block, after the current one
    /// @return auctionId The new auction's id
    function createAuction(uint64 closesAtBlock) external returns (uint256 auctionId) {
        require(closesAtBlock > block.number, "Auction: closing block must be in the future");
        auctionId = ++auctionCount;
        auctions[auctionId] =
            Info({creator: msg.sender, closesAtBlock: closesAtBlock, settled: false, winner: address(0), amount: 0});
        emit AuctionCreated(auctionId, msg.sender, closesAtBlock);
    }

    /// @notice Confidential: places a sealed bid on an open auction. The confidential inputs
    ///         are `abi.encode(uint256 amount)` or `abi.encode(uint256 amount, bytes32 salt)`;
    ///         the salt is ignored, it only makes the request's public `confidentialInputsHash`
    ///         impossible to brute-force for guessable amounts. A bidder may bid several times;
    ///         each bid counts.
    /// @param auctionId The auction
    /// @return Calldata of `onBid(auctionId)`
    function bid(uint256 auctionId) external returns (bytes memory) {
        onlyDirect();
        Info storage auction = existing(auctionId);
        if (auction.settled || block.number >= auction.closesAtBlock) {
            refuse("Auction: bidding is closed");
        }
        bytes memory inputs = Suave.confidentialInputs();
        if (inputs.length != 32 && inputs.length != 64) {
            refuse("Auction: confidential inputs must be abi.encode(uint256 amount[, bytes32 salt])");
        }
        uint256 amount = abi.decode(inputs, (uint256));
        if (amount == 0) {
            refuse("Auction: bid amount must not be zero");
        }
        address[] memory peekers = new address[](1);
        peekers[0] = address(this);
        Suave.DataRecord memory record =
            Suave.newDataRecord(auction.closesAtBlock, peekers, new address[](0), auctionNamespace(auctionId));
        Suave.confidentialStore(record.id, BID, abi.encode(auctionId, msg.sender, amount));
        return abi.encodeWithSelector(this.onBid.selector, auctionId);
    }

    /// @notice Confidential, anyone, from the closing block on: reads all bids of the auction and
    ///         picks the highest; ties go to the earliest bid (the store lists records in
    ///         insertion order).
    /// @param auctionId The auction
    /// @return Calldata of `settle(auctionId, winner, amount)`
    function close(uint256 auctionId) external returns (bytes memory) {
        onlyDirect();
        Info storage auction = existing(auctionId);
        if (auction.settled) {
            refuse("Auction: already settled");
        }
        if (block.number < auction.closesAtBlock) {
            refuse("Auction: bidding is still open");
        }
        Suave.DataRecord[] memory records = Suave.fetchDataRecords(auction.closesAtBlock, auctionNamespace(auctionId));
        address winner;
        uint256 best;
        for (uint256 i = 0; i < records.length; i++) {
            if (records[i].allowedPeekers.length != 1 || records[i].allowedPeekers[0] != address(this)) {
                continue;
            }
            (bool ok, bytes memory value) = tryRetrieveBid(records[i].id);
            if (!ok || value.length != 96) {
                continue;
            }
            (uint256 forAuction, address bidder, uint256 amount) = abi.decode(value, (uint256, address, uint256));
            if (forAuction == auctionId && amount > best) {
                best = amount;
                winner = bidder;
            }
        }
        return abi.encodeWithSelector(this.settle.selector, auctionId, winner, best);
    }

    /// @notice On-chain half of `bid`: announces the bidder (the `0x50` sender).
    /// @param auctionId The auction
    function onBid(uint256 auctionId) external {
        existing(auctionId);
        emit BidPlaced(auctionId, msg.sender);
    }

    /// @notice On-chain half of `close`: records and announces the result (once).
    /// @param auctionId The auction
    /// @param winner Highest bidder (zero if there was no bid)
    /// @param amount Winning amount
    function settle(uint256 auctionId, address winner, uint256 amount) external {
        Info storage auction = existing(auctionId);
        require(!auction.settled, "Auction: already settled");
        require(block.number >= auction.closesAtBlock, "Auction: bidding is still open");
        auction.settled = true;
        auction.winner = winner;
        auction.amount = amount;
        emit AuctionSettled(auctionId, winner, amount);
    }

    /// @notice The namespace (record version) of the bids of `auctionId`.
    /// @param auctionId The auction
    /// @return `NAMESPACE_PREFIX` followed by the id in decimal
    function auctionNamespace(uint256 auctionId) public pure returns (string memory) {
        return string(abi.encodePacked(NAMESPACE_PREFIX, decimal(auctionId)));
    }

    /// @dev The auction `auctionId`; refuses unknown ids.
    function existing(uint256 auctionId) private view returns (Info storage auction) {
        auction = auctions[auctionId];
        if (auction.closesAtBlock == 0) {
            refuse("Auction: no such auction");
        }
    }

    /// @dev Reads the bid of record `id` without reverting when the precompile fails (a record
    ///      someone else created in our namespace may hold nothing).
    function tryRetrieveBid(Suave.DataId id) private returns (bool ok, bytes memory value) {
        (ok, value) = Suave.CONFIDENTIAL_RETRIEVE.call(abi.encode(id, BID));
    }

    /// @dev Refuses to run on another contract's storage (DELEGATECALL, CALLCODE).
    function onlyDirect() private view {
        if (address(this) != self) {
            refuse("Auction: delegated calls are not allowed");
        }
    }

    /// @dev Reverts with revert data the kettle reports as a readable error (see the contract doc).
    ///      On chain (no kettle) the same data is an ordinary custom-error revert.
    function refuse(string memory reason) private view {
        revert Suave.PeekerReverted(address(this), bytes(reason));
    }

    /// @dev `value` in decimal.
    function decimal(uint256 value) private pure returns (bytes memory out) {
        if (value == 0) {
            return "0";
        }
        uint256 digits = 0;
        for (uint256 v = value; v != 0; v /= 10) {
            digits++;
        }
        out = new bytes(digits);
        for (uint256 i = digits; i > 0; i--) {
            out[i - 1] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
    }
}
