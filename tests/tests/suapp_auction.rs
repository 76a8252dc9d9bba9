//! End to end of the `Auction` SUAPP (`suapps/auction/Auction.sol`) on a real `kettle dev`:
//! sealed bids kept in the kettle, the closing block enforced at the kettle's head, and the
//! highest bid settled on chain while the losing amounts never appear anywhere.
//!
//! Build the binary first: `cargo build -p kettle` (scripts/test does).

use alloy_primitives::{Address, Bytes, FixedBytes, TxKind, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use kettle_contracts::{auction::Auction, suave_abi_check::SuaveAbiCheck};
use kettle_tests::{
    assert_not_leaked, decode_logs, dev_user, AnyTransactionReceipt, KettleClient, KettleOptions,
    KettleProcess, ReceiptResponse, RpcFailure, Signing, TestRng,
};
use serde_json::{json, Value};

/// A kettle logging at `debug`, so the leak checks also cover the precompile and request logs.
fn start_kettle() -> KettleProcess {
    KettleProcess::start_with(KettleOptions {
        log: Some("debug".into()),
        ..KettleOptions::default()
    })
}

/// Sends a plain (on-chain) transaction and waits for its receipt.
async fn transact(
    client: &KettleClient,
    from: &PrivateKeySigner,
    to: Address,
    input: Bytes,
) -> AnyTransactionReceipt {
    let hash = client
        .send_eip1559(from, TxKind::Call(to), input, U256::ZERO, 300_000)
        .await
        .expect("plain transaction accepted");
    client.wait_receipt(hash).await
}

/// Opens an auction closing at `closes_at`; its id.
async fn create_auction(client: &KettleClient, auction: Address, closes_at: u64) -> U256 {
    let call = Auction::createAuctionCall {
        closesAtBlock: closes_at,
    };
    let receipt = transact(client, &dev_user(), auction, call.abi_encode().into()).await;
    assert!(
        receipt.inner.status(),
        "createAuction reverted: {receipt:?}"
    );
    let created = decode_logs::<Auction::AuctionCreated>(&receipt);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].closesAtBlock, closes_at);
    created[0].auctionId
}

/// Mines empty transfers until the head is at least `number`.
async fn advance_to(client: &KettleClient, number: u64) {
    let user = dev_user();
    while client.block_number().await < number {
        let receipt = transact(client, &user, user.address(), Bytes::new()).await;
        assert!(receipt.inner.status());
    }
}

fn bid_call(auction_id: U256) -> Bytes {
    Auction::bidCall {
        auctionId: auction_id,
    }
    .abi_encode()
    .into()
}

fn close_call(auction_id: U256) -> Bytes {
    Auction::closeCall {
        auctionId: auction_id,
    }
    .abi_encode()
    .into()
}

/// Places a bid that must be accepted; checks the on-chain announcement (bidder, no amount).
async fn bid(
    client: &KettleClient,
    auction: Address,
    auction_id: U256,
    bidder: &PrivateKeySigner,
    inputs: &[u8],
) -> AnyTransactionReceipt {
    let receipt = client
        .request_and_wait(bidder, auction, bid_call(auction_id), inputs)
        .await;
    let placed = decode_logs::<Auction::BidPlaced>(&receipt);
    assert_eq!(placed.len(), 1, "one BidPlaced: {receipt:?}");
    assert_eq!(
        (placed[0].auctionId, placed[0].bidder),
        (auction_id, bidder.address())
    );
    let logs = receipt.inner.inner.logs();
    assert_eq!(logs.len(), 1, "nothing but BidPlaced");
    assert!(logs[0].data().data.is_empty(), "BidPlaced carries no data");
    receipt
}

/// Sends a request expecting the kettle to refuse it; the JSON-RPC error.
async fn refused(
    client: &KettleClient,
    from: &PrivateKeySigner,
    to: Address,
    calldata: Bytes,
    inputs: &[u8],
    what: &str,
) -> RpcFailure {
    let request = client
        .build_request(from, to, calldata, inputs, Signing::Eip712)
        .await;
    match client.send_request(&request).await {
        Ok(hash) => panic!("{what} was accepted as {hash}"),
        Err(e @ RpcFailure::Error { .. }) => e,
        Err(e) => panic!("{what}: expected a JSON-RPC error, got {e}"),
    }
}

/// The kettle's readable message for a refusal by `Auction` at `auction`.
fn refusal(auction: Address, reason: &str) -> String {
    format!(
        "transaction failed: execution reverted: precompile '{}' reverted: '{reason}'",
        auction.to_checksum(None)
    )
}

/// A random bid amount of about 80 bits (distinctive in hex and in decimal).
fn amount(rng: &mut TestRng) -> U256 {
    U256::from(rng.in_range(1 << 62..1 << 63)) << 16 | U256::from(rng.next_u64() & 0xffff)
}

/// Everything the node serves about blocks `from..=to`: the blocks with their transactions
/// (the `0x50`s' input, `confidentialComputeResult` and `requestRecord`), every receipt and
/// every log, as JSON text.
async fn chain_json(client: &KettleClient, from: u64, to: u64) -> String {
    let mut out = String::new();
    for number in from..=to {
        let block = client.block_json(number, true).await;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let hash: B256 = serde_json::from_value(tx["hash"].clone()).expect("tx hash");
            out.push_str(&client.receipt_json(hash).await.to_string());
            out.push('\n');
        }
        out.push_str(&block.to_string());
        out.push('\n');
    }
    let logs: Value = client
        .json(
            "eth_getLogs",
            json!([{ "fromBlock": format!("{from:#x}"), "toBlock": format!("{to:#x}") }]),
        )
        .await
        .expect("eth_getLogs");
    out.push_str(&logs.to_string());
    out.push('\n');
    out
}

/// Fails if `amount` appears in `haystack` as its ABI word, its minimal big-endian bytes (hex,
/// e.g. a JSON quantity) or its decimal text.
fn assert_amount_sealed(what: &str, haystack: &str, amount: U256) {
    assert_not_leaked(what, haystack, &amount.to_be_bytes::<32>());
    let minimal = amount.to_be_bytes_trimmed_vec();
    assert_not_leaked(what, haystack, &minimal);
    assert_not_leaked(what, haystack, amount.to_string().as_bytes());
}

/// Sealed-bid auction end to end with three bidders (the dev user and two fresh users funded
/// by it): every bid is announced on chain without its amount; closing before the closing
/// block is refused with a readable error; after it, a late bid is refused, anyone can close,
/// and the highest bidder and amount are settled on chain; a bid or a second close after the
/// settlement are refused. No amount appears (as ABI word, minimal hex or decimal) in any
/// block, transaction (the `0x50`s' input and request record included), receipt, log, RPC
/// error or kettle log line (`debug`) before the settlement, and the losing amounts not even
/// after it. The dev user's bid carries a salt (`abi.encode(amount, salt)`), the others are
/// `abi.encode(amount)`.
#[tokio::test]
async fn auction_bids_stay_sealed_until_settled() {
    let kettle = start_kettle();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let mut rng = TestRng::from_env_or_clock("KETTLE_AUCTION_SEED");
    let dev = dev_user();
    let alice = client.funded_user(&mut rng).await;
    let bob = client.funded_user(&mut rng).await;
    let auction = client.deploy(&dev, "Auction").await;
    let start = client.block_number().await;

    // Open: createAuction is mined in start + 1, the three bids in start + 2..=start + 4.
    let closes_at = start + 6;
    let auction_id = create_auction(&client, auction, closes_at).await;
    assert_eq!(auction_id, U256::from(1));

    let bidders = [&dev, &alice, &bob];
    let mut amounts = [amount(&mut rng), amount(&mut rng), amount(&mut rng)];
    while amounts[0] == amounts[1] || amounts[1] == amounts[2] || amounts[0] == amounts[2] {
        amounts[2] = amount(&mut rng);
    }
    let salt = B256::from_slice(&rng.bytes(32));
    for (i, (bidder, amount)) in bidders.iter().zip(amounts).enumerate() {
        let inputs = if i == 0 {
            (amount, salt).abi_encode_params()
        } else {
            amount.abi_encode()
        };
        bid(&client, auction, auction_id, bidder, &inputs).await;
    }
    let mut errors = Vec::new();

    // Closing before the closing block is refused, readably, and commits nothing.
    let head = client.block_number().await;
    assert!(head < closes_at, "head {head} already at the closing block");
    let err = refused(
        &client,
        &bob,
        auction,
        close_call(auction_id),
        b"",
        "early close",
    )
    .await;
    assert_eq!(
        err.message(),
        refusal(auction, "Auction: bidding is still open"),
        "{err}"
    );
    errors.push(err.to_string());
    assert_eq!(client.block_number().await, head, "no block for a refusal");

    // At the closing block bids are refused.
    advance_to(&client, closes_at).await;
    let late = amount(&mut rng);
    let err = refused(
        &client,
        &alice,
        auction,
        bid_call(auction_id),
        &late.abi_encode(),
        "a bid at the closing block",
    )
    .await;
    assert_eq!(
        err.message(),
        refusal(auction, "Auction: bidding is closed"),
        "{err}"
    );
    errors.push(err.to_string());

    // Sealed so far: no amount anywhere the node shows.
    let before = client.block_number().await;
    let mut shown = chain_json(&client, 0, before).await;
    shown.push_str(&errors.join("\n"));
    shown.push('\n');
    for (i, amount) in amounts.iter().chain([&late]).enumerate() {
        assert_amount_sealed(
            &format!("the chain before settlement (bid {i})"),
            &shown,
            *amount,
        );
        assert_amount_sealed(
            &format!("the kettle log (bid {i})"),
            &kettle.logs(),
            *amount,
        );
    }

    // Anyone closes: the highest bid wins.
    let winner = (0..3).max_by_key(|&i| amounts[i]).expect("three bids");
    let receipt = client
        .request_and_wait(&bob, auction, close_call(auction_id), b"")
        .await;
    let settled = decode_logs::<Auction::AuctionSettled>(&receipt);
    assert_eq!(settled.len(), 1, "one AuctionSettled: {receipt:?}");
    assert_eq!(
        (settled[0].auctionId, settled[0].winner, settled[0].amount),
        (auction_id, bidders[winner].address(), amounts[winner]),
        "the highest bid wins"
    );
    let state = client
        .view(auction, Auction::auctionsCall(auction_id))
        .await;
    assert!(state.settled);
    assert_eq!(
        (state.winner, state.amount, state.closesAtBlock),
        (bidders[winner].address(), amounts[winner], closes_at)
    );

    // After the settlement: no more bids, no second close.
    let err = refused(
        &client,
        &alice,
        auction,
        bid_call(auction_id),
        &late.abi_encode(),
        "a bid after the settlement",
    )
    .await;
    assert_eq!(
        err.message(),
        refusal(auction, "Auction: bidding is closed"),
        "{err}"
    );
    errors.push(err.to_string());
    let err = refused(
        &client,
        &dev,
        auction,
        close_call(auction_id),
        b"",
        "a second close",
    )
    .await;
    assert_eq!(
        err.message(),
        refusal(auction, "Auction: already settled"),
        "{err}"
    );
    errors.push(err.to_string());

    // The losing and refused amounts stay sealed for good.
    let mut shown = chain_json(&client, 0, client.block_number().await).await;
    shown.push_str(&errors.join("\n"));
    shown.push('\n');
    shown.push_str(&kettle.logs());
    for i in (0..3).filter(|&i| i != winner) {
        assert_amount_sealed(
            &format!("the node's output (losing bid {i})"),
            &shown,
            amounts[i],
        );
    }
    assert_amount_sealed("the node's output (late bid)", &shown, late);
}

/// Ties go to the earliest bid, and `close` only counts records `Auction` itself wrote: a
/// record someone else created in the auction's namespace with `Auction` among its peekers
/// (through the `SuaveAbiCheck` forwarder, which can then write a forged bid into it) is
/// ignored, and so is a record readable only by `Auction` that holds no bid.
#[tokio::test]
async fn auction_tie_goes_to_the_earliest_bid() {
    let kettle = start_kettle();
    let client = KettleClient::connect(&kettle.rpc_url()).await;
    let mut rng = TestRng::from_env_or_clock("KETTLE_AUCTION_SEED");
    let dev = dev_user();
    let alice = client.funded_user(&mut rng).await;
    let auction = client.deploy(&dev, "Auction").await;
    let forwarder = client.deploy(&dev, "SuaveAbiCheck").await;
    let closes_at = client.block_number().await + 8;
    let auction_id = create_auction(&client, auction, closes_at).await;
    let namespace = client
        .view(
            auction,
            Auction::auctionNamespaceCall {
                auctionId: auction_id,
            },
        )
        .await;
    assert_eq!(namespace, format!("kettle:auction:v1:{auction_id}"));

    // Equal bids: Alice's comes first.
    let tie = amount(&mut rng);
    bid(&client, auction, auction_id, &alice, &tie.abi_encode()).await;
    bid(&client, auction, auction_id, &dev, &tie.abi_encode()).await;

    // Forged records in the auction's namespace.
    let forged_value = (auction_id, dev.address(), tie + U256::from(1)).abi_encode_params();
    let shared = new_record(
        &client,
        forwarder,
        closes_at,
        &[auction, forwarder],
        &namespace,
    )
    .await;
    let store = SuaveAbiCheck::confidentialStoreCall {
        dataId: shared,
        key: "bid".into(),
        value: forged_value.into(),
    };
    run_forwarder(&client, forwarder, store.abi_encode().into()).await;
    new_record(&client, forwarder, closes_at, &[auction], &namespace).await;

    advance_to(&client, closes_at).await;
    let receipt = client
        .request_and_wait(&dev, auction, close_call(auction_id), b"")
        .await;
    let settled = decode_logs::<Auction::AuctionSettled>(&receipt);
    assert_eq!(settled.len(), 1, "one AuctionSettled: {receipt:?}");
    assert_eq!(
        (settled[0].winner, settled[0].amount),
        (alice.address(), tie),
        "the earliest of the equal bids wins; the forged bid is ignored"
    );
}

/// Runs `calldata` on the `SuaveAbiCheck` forwarder in a confidential request (its result is
/// not a callback, so the `0x50` may revert on chain; the store writes are committed anyway);
/// the `0x50`'s `confidentialComputeResult`.
async fn run_forwarder(client: &KettleClient, forwarder: Address, calldata: Bytes) -> Bytes {
    let request = client
        .build_request(&dev_user(), forwarder, calldata, b"", Signing::Eip712)
        .await;
    let hash = client
        .send_request(&request)
        .await
        .unwrap_or_else(|e| panic!("forwarder request refused: {e}"));
    client.wait_receipt(hash).await;
    let tx = client.transaction_json(hash).await;
    serde_json::from_value(tx["confidentialComputeResult"].clone()).expect("result bytes")
}

/// Creates a record through the forwarder; its id.
async fn new_record(
    client: &KettleClient,
    forwarder: Address,
    condition: u64,
    peekers: &[Address],
    namespace: &str,
) -> FixedBytes<16> {
    let call = SuaveAbiCheck::newDataRecordCall {
        decryptionCondition: condition,
        allowedPeekers: peekers.to_vec(),
        allowedStores: Vec::new(),
        dataType: namespace.into(),
    };
    let result = run_forwarder(client, forwarder, call.abi_encode().into()).await;
    let record = SuaveAbiCheck::newDataRecordCall::abi_decode_returns(&result)
        .expect("the result is the DataRecord");
    assert_eq!(record.allowedPeekers, peekers);
    record.id
}
