//! Access-control matrix of the store precompiles (SUAVE-COMPAT §3.9, §8.1, §8.4).
//!
//! Every precompile that touches data records — `confidentialStore`, `confidentialRetrieve`,
//! `newDataRecord`, `fetchDataRecords`, `fillMevShareBundle`, `buildEthBlock`,
//! `buildEthBlockTo` — is called through real Solidity (`contracts/test/AccessCaller.sol`,
//! which calls the precompiles through `Suave.sol`) by every caller stack below, on records
//! with every allowed-peekers list below. Each run is a confidential request executed by the
//! MEVM with the network precompiles plugged in (the only place where all seven are wired as
//! in a kettle; the builder precompiles run against a scripted execution backend).
//!
//! The expectations are written out by hand from SUAVE-COMPAT §3.9, independently of
//! `check_access`:
//! - [`STACKS`] names, per caller stack, the effective caller a listed contract yields (the
//!   innermost stack entry that is an allowed peeker, the precompile itself skipped) and the one
//!   the wildcard yields (the innermost entry that is not the precompile, else the precompile);
//! - [`COLUMNS`] names, per precompile and peekers list, which rule applies: open (no check),
//!   "precompile not allowed" (the precompile, or for both block builders the address of
//!   `buildEthBlock`, is not listed and the wildcard is not either), the stack walk, or the
//!   wildcard.
//!
//! An allowed run must produce the exact documented output (the value, the record, the
//! MEV-Share bundle JSON, the built block; for `confidentialStore` the staged write with the
//! effective caller as its writer); a denied run must revert with the exact
//! `PeekerReverted(precompile, message)` (raw message when the request calls the precompile
//! directly) and leave nothing staged and nothing sent to the backend.
//!
//! Run with `--nocapture` (or `--show-output`) to see the matrix.

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use alloy_consensus::TxEnvelope;
use alloy_primitives::{address, hex, keccak256, Address, Bytes, FixedBytes, B256, U256};
use alloy_sol_types::{SolCall, SolError, SolValue};
use kettle_contracts::access_caller::{AccessCaller, Suave::BuildBlockArgs as AbiBuildBlockArgs};
use kettle_contracts::{BuildBlockArgs, PeekerReverted, SimulateTransactionResult};
use kettle_primitives::{
    ConfidentialComputeRequest, DataId, DataRecord, ANYALLOWED, DEV_KETTLE_ADDRESS,
    SUAVE_DEV_CHAIN_ID,
};
use revm::database::{CacheDB, EmptyDB};
use revm::state::{AccountInfo, Bytecode};
use suave_precompiles::addresses::{
    BUILD_ETH_BLOCK, BUILD_ETH_BLOCK_TO, CONFIDENTIAL_RETRIEVE, CONFIDENTIAL_STORE,
    FETCH_DATA_RECORDS, FILL_MEV_SHARE_BUNDLE, NEW_DATA_RECORD,
};
use suave_precompiles::store::memory::MemoryStore;
use suave_precompiles::{
    BlockContext, ConfidentialOutcome, ConfidentialStore, KettleContext, Mevm, MevmError,
    RequestKind, StoreWrite, StoreWriteSet,
};
use suave_precompiles_network::builder::SignedBid;
use suave_precompiles_network::{
    BackendError, BlockSimulation, BuiltBlock, ExecutionBackend, Network, NetworkConfig, SBundle,
};

// ---------------------------------------------------------------------------------------------
// The contracts on the stacks. All run `AccessCaller`; only `A` is ever listed as a peeker
// (with `Z`, which is listed in some records but never on a stack).
// ---------------------------------------------------------------------------------------------

/// The allowed contract.
const A: Address = address!("0x000000000000000000000000000000000000a11a");
/// Contracts that are never allowed peekers.
const N1: Address = address!("0x000000000000000000000000000000000000b001");
const N2: Address = address!("0x000000000000000000000000000000000000b002");
const N3: Address = address!("0x000000000000000000000000000000000000b003");
const N4: Address = address!("0x000000000000000000000000000000000000b004");
/// A contract listed as a peeker in some records but never on a caller stack ("another
/// contract is allowed").
const Z: Address = address!("0x000000000000000000000000000000000000c00c");

/// Stand-in for "the precompile under test itself" in [`Stack`] expectations.
const SELF: Address = address!("0x00000000000000000000000000000000005e1f00");

// ---------------------------------------------------------------------------------------------
// The matrix axes
// ---------------------------------------------------------------------------------------------

/// A caller stack: the contracts between the user and the precompile, outermost first. The
/// first is called by the user's request; each later one is entered from the previous one by
/// CALL (`false`) or DELEGATECALL (`true`); the last calls the precompile through Suave.sol.
/// Empty: the request itself calls the precompile (the stack holds only the precompile).
struct Stack {
    label: &'static str,
    links: &'static [(Address, bool)],
    /// Effective caller when `A` is listed: the innermost stack entry that is `A`; `None` when
    /// `A` is not on the stack. (With only `Z` or the precompile listed, the walk finds
    /// nothing: `Z` is never on a stack and the precompile is skipped.)
    walk_a: Option<Address>,
    /// Effective caller with the wildcard: the innermost entry that is not the precompile,
    /// or the precompile itself ([`SELF`]) when there is none.
    wildcard: Address,
}

/// §3.9: the code address of every frame is pushed (DELEGATECALL pushes the callee's code
/// address); the EOA never is.
const STACKS: &[Stack] = &[
    Stack {
        label: "user -> precompile",
        links: &[],
        walk_a: None,
        wildcard: SELF,
    },
    Stack {
        label: "A",
        links: &[(A, false)],
        walk_a: Some(A),
        wildcard: A,
    },
    Stack {
        label: "N1",
        links: &[(N1, false)],
        walk_a: None,
        wildcard: N1,
    },
    Stack {
        label: "A -> N1",
        links: &[(A, false), (N1, false)],
        walk_a: Some(A),
        wildcard: N1,
    },
    Stack {
        label: "N1 -> A",
        links: &[(N1, false), (A, false)],
        walk_a: Some(A),
        wildcard: A,
    },
    Stack {
        label: "N1 -> N2",
        links: &[(N1, false), (N2, false)],
        walk_a: None,
        wildcard: N2,
    },
    Stack {
        label: "N1 -> N2 -> N3 -> A",
        links: &[(N1, false), (N2, false), (N3, false), (A, false)],
        walk_a: Some(A),
        wildcard: A,
    },
    Stack {
        label: "A -> N1 -> N2 -> N3",
        links: &[(A, false), (N1, false), (N2, false), (N3, false)],
        walk_a: Some(A),
        wildcard: N3,
    },
    Stack {
        label: "N1 -> N2 -> N3 -> N4",
        links: &[(N1, false), (N2, false), (N3, false), (N4, false)],
        walk_a: None,
        wildcard: N4,
    },
    Stack {
        label: "N1 =delegate=> A",
        links: &[(N1, false), (A, true)],
        walk_a: Some(A),
        wildcard: A,
    },
    Stack {
        label: "A =delegate=> N1",
        links: &[(A, false), (N1, true)],
        walk_a: Some(A),
        wildcard: N1,
    },
    Stack {
        label: "N1 =delegate=> N2",
        links: &[(N1, false), (N2, true)],
        walk_a: None,
        wildcard: N2,
    },
];

/// A record's allowed peekers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Peekers {
    /// `[A]`.
    A,
    /// `[A, <the precompile under test>]`.
    ASelf,
    /// `[A, buildEthBlock (0x…42100001)]`.
    ABuild,
    /// `[Z]`: another contract only.
    Z,
    /// `[<the precompile under test>]` only.
    OnlySelf,
    /// `[ANYALLOWED]`.
    Any,
}

const PEEKERS: [Peekers; 6] = [
    Peekers::A,
    Peekers::ASelf,
    Peekers::ABuild,
    Peekers::Z,
    Peekers::OnlySelf,
    Peekers::Any,
];

impl Peekers {
    fn list(self, pc: Pc) -> Vec<Address> {
        match self {
            Self::A => vec![A],
            Self::ASelf => vec![A, pc.address()],
            Self::ABuild => vec![A, BUILD_ETH_BLOCK],
            Self::Z => vec![Z],
            Self::OnlySelf => vec![pc.address()],
            Self::Any => vec![ANYALLOWED],
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::A => "[A]",
            Self::ASelf => "[A,self]",
            Self::ABuild => "[A,bEB]",
            Self::Z => "[Z]",
            Self::OnlySelf => "[self]",
            Self::Any => "[ANY]",
        }
    }
}

/// The precompiles that take a data record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pc {
    Store,
    Retrieve,
    NewRecord,
    Fetch,
    FillMevShare,
    BuildBlock,
    BuildBlockTo,
}

const PRECOMPILES: [Pc; 7] = [
    Pc::Store,
    Pc::Retrieve,
    Pc::NewRecord,
    Pc::Fetch,
    Pc::FillMevShare,
    Pc::BuildBlock,
    Pc::BuildBlockTo,
];

impl Pc {
    fn address(self) -> Address {
        match self {
            Self::Store => CONFIDENTIAL_STORE,
            Self::Retrieve => CONFIDENTIAL_RETRIEVE,
            Self::NewRecord => NEW_DATA_RECORD,
            Self::Fetch => FETCH_DATA_RECORDS,
            Self::FillMevShare => FILL_MEV_SHARE_BUNDLE,
            Self::BuildBlock => BUILD_ETH_BLOCK,
            Self::BuildBlockTo => BUILD_ETH_BLOCK_TO,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Store => "confidentialStore",
            Self::Retrieve => "confidentialRetrieve",
            Self::NewRecord => "newDataRecord",
            Self::Fetch => "fetchDataRecords",
            Self::FillMevShare => "fillMevShareBundle",
            Self::BuildBlock => "buildEthBlock",
            Self::BuildBlockTo => "buildEthBlockTo",
        }
    }

    /// The (name, address) access errors name: the precompile itself, except the block
    /// builders, which both check as `buildEthBlock` (§8.1 step 2).
    fn checked_as(self) -> (&'static str, Address) {
        match self {
            Self::BuildBlock | Self::BuildBlockTo => ("buildEthBlock", BUILD_ETH_BLOCK),
            other => (other.name(), other.address()),
        }
    }
}

/// Which rule of §3.9 decides a (precompile, peekers) cell.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rule {
    /// Not checked (newDataRecord, fetchDataRecords): allowed for every stack.
    Open,
    /// The wildcard is listed: allowed; effective caller = [`Stack::wildcard`].
    Wild,
    /// The precompile passes step 2: the stack walk decides ([`Stack::walk_a`]).
    Walk,
    /// Step 2 fails: `precompile <name> (<addr>) not allowed on <id>` whatever the stack.
    NotAllowed,
}

use Rule::{NotAllowed as NA, Open, Walk, Wild};

/// Per precompile, the rule for each column of [`PEEKERS`]
/// (`[A]`, `[A,self]`, `[A,bEB]`, `[Z]`, `[self]`, `[ANY]`).
const COLUMNS: [(Pc, [Rule; 6]); 7] = [
    // Store and retrieve are implicitly allowed: the walk always decides.
    (Pc::Store, [Walk, Walk, Walk, Walk, Walk, Wild]),
    (Pc::Retrieve, [Walk, Walk, Walk, Walk, Walk, Wild]),
    // No access control on record creation and listing.
    (Pc::NewRecord, [Open, Open, Open, Open, Open, Open]),
    (Pc::Fetch, [Open, Open, Open, Open, Open, Open]),
    // 0x…43200001 must be listed.
    (Pc::FillMevShare, [NA, Walk, NA, NA, Walk, Wild]),
    // 0x…42100001 must be listed, for buildEthBlockTo (0x…42100006) too.
    (Pc::BuildBlock, [NA, Walk, Walk, NA, Walk, Wild]),
    (Pc::BuildBlockTo, [NA, NA, Walk, NA, NA, Wild]),
];

/// What a cell must do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Allowed; for the checked precompiles the effective caller.
    Allow(Option<Address>),
    /// `precompile … not allowed on …`.
    NotAllowed,
    /// `no caller of … is allowed on …`.
    NoCaller,
}

fn expect(pc: Pc, col: usize, peekers: Peekers, stack: &Stack) -> Expect {
    let (_, rules) = COLUMNS.iter().find(|(p, _)| *p == pc).unwrap();
    let wildcard = if stack.wildcard == SELF {
        pc.address()
    } else {
        stack.wildcard
    };
    match rules[col] {
        Open => Expect::Allow(None),
        Wild => Expect::Allow(Some(wildcard)),
        NA => Expect::NotAllowed,
        Walk => {
            let a_listed = matches!(peekers, Peekers::A | Peekers::ASelf | Peekers::ABuild);
            match stack.walk_a.filter(|_| a_listed) {
                Some(caller) => Expect::Allow(Some(caller)),
                None => Expect::NoCaller,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A kettle with a scripted execution backend
// ---------------------------------------------------------------------------------------------

/// Records the bundles it is asked to build from; answers with a fixed block and bid.
#[derive(Default)]
struct Backend {
    builds: Mutex<Vec<Vec<Bytes>>>,
}

const ENVELOPE: &[u8] = b"{\"executionPayload\":\"scripted\"}";
const BID: &[u8] = b"{\"bid\":\"scripted\"}";

impl ExecutionBackend for Backend {
    fn simulate_bundle(&self, _: &SBundle) -> Result<BlockSimulation, BackendError> {
        Err(BackendError("not scripted".into()))
    }

    fn build_block(
        &self,
        _: &BuildBlockArgs,
        bundles: &[SBundle],
        execution_node: Option<&url::Url>,
    ) -> Result<BuiltBlock, BackendError> {
        assert!(execution_node.is_none());
        self.builds.lock().unwrap().push(
            bundles
                .iter()
                .flat_map(|b| b.txs.iter().map(|t| t.raw.clone()))
                .collect(),
        );
        Ok(BuiltBlock {
            envelope_json: Bytes::from_static(ENVELOPE),
            parent_hash: B256::ZERO,
            block_hash: B256::repeat_byte(0xbb),
            gas_limit: 30_000_000,
            gas_used: 21_000,
            block_value: U256::from(1),
        })
    }

    fn new_session(&self) -> Result<String, BackendError> {
        Err(BackendError("not scripted".into()))
    }

    fn add_transaction(
        &self,
        _: &str,
        _: &TxEnvelope,
    ) -> Result<SimulateTransactionResult, BackendError> {
        Err(BackendError("not scripted".into()))
    }

    fn call(&self, _: Address, _: &[u8]) -> Result<Bytes, BackendError> {
        Err(BackendError("not scripted".into()))
    }

    fn bid(&self, _: &BuildBlockArgs, _: &BuiltBlock) -> Result<SignedBid, BackendError> {
        Ok(SignedBid {
            bid_json: Bytes::from_static(BID),
            submission_json: Bytes::from_static(b"{}"),
        })
    }
}

struct Kettle {
    db: CacheDB<EmptyDB>,
    kettle: KettleContext,
    block: BlockContext,
    backend: Arc<Backend>,
    net: Network,
}

impl Kettle {
    fn new() -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        let code = Bytes::copy_from_slice(&AccessCaller::DEPLOYED_BYTECODE);
        for at in [A, N1, N2, N3, N4, Z] {
            db.insert_account_info(
                at,
                AccountInfo {
                    code_hash: keccak256(&code),
                    code: Some(Bytecode::new_raw(code.clone())),
                    ..Default::default()
                },
            );
        }
        let backend = Arc::new(Backend::default());
        let net = Network::builder(NetworkConfig::default())
            .execution_backend(backend.clone())
            .build()
            .expect("network");
        Self {
            db,
            kettle: KettleContext::new(DEV_KETTLE_ADDRESS, SUAVE_DEV_CHAIN_ID),
            block: BlockContext {
                number: 100,
                timestamp: 1_700_000_000,
                basefee: 0,
                gas_limit: 30_000_000,
                ..Default::default()
            },
            backend,
            net,
        }
    }

    /// Confidential `eth_call` of `data` on `to`.
    fn call(
        &self,
        store: &MemoryStore,
        to: Address,
        data: Vec<u8>,
    ) -> Result<ConfidentialOutcome, MevmError> {
        let mut req = ConfidentialComputeRequest::default();
        req.record.to = Some(to);
        req.record.gas = 10_000_000;
        req.record.gas_price = U256::from(1_000_000_000u64);
        req.record.data = data.into();
        req.record.kettle_address = DEV_KETTLE_ADDRESS;
        req.record.chain_id = U256::from(SUAVE_DEV_CHAIN_ID);
        req.set_inputs_hash();
        Mevm::new(&self.kettle, store)
            .with_external(&self.net)
            .execute(self.db.clone(), &self.block, &req, RequestKind::Call)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: the records each precompile is called on
// ---------------------------------------------------------------------------------------------

const NS: &str = "kettle:test:matrix";
const KEY: &str = "k";
const COMMITTED: &[u8] = b"committed value";
const WRITTEN: &[u8] = b"written value";
/// Decryption condition of every record (the MEV-Share inclusion block).
const COND: u64 = 100;

fn record(salt: u8, peekers: Vec<Address>, version: &str) -> DataRecord {
    DataRecord::new(
        DataId::repeat_byte(salt),
        COND,
        peekers,
        vec![DEV_KETTLE_ADDRESS],
        version.into(),
    )
}

fn value(r: &DataRecord, key: &str, v: &[u8]) -> StoreWrite {
    StoreWrite {
        id: r.id,
        key: key.into(),
        value: Bytes::copy_from_slice(v),
        caller: Address::ZERO,
    }
}

fn bundle_json(tx: &Bytes) -> Bytes {
    format!("{{\"txs\":[\"0x{}\"]}}", hex::encode(tx))
        .into_bytes()
        .into()
}

/// [`support::block_args`] as `AccessCaller`'s binding of the same Solidity struct.
fn abi_block_args() -> AbiBuildBlockArgs {
    AbiBuildBlockArgs::abi_decode(&support::block_args().abi_encode()).expect("same struct")
}

/// One cell's setup: the committed store, the record the call names, and the leaf call.
struct Cell {
    store: MemoryStore,
    /// Record named in access errors.
    target: Option<DataRecord>,
    /// `AccessCaller` calldata of the leaf (its parameters are the precompile's input).
    leaf: Vec<u8>,
    user_tx: Bytes,
    match_tx: Bytes,
}

fn setup(pc: Pc, peekers: &[Address]) -> Cell {
    let store = MemoryStore::new();
    let user_tx = Bytes::from(support::transfer_tx(0));
    let match_tx = Bytes::from(support::transfer_tx(1));
    let id = |r: &DataRecord| FixedBytes(r.id.0);
    let (records, writes, target, leaf) = match pc {
        Pc::Store | Pc::Retrieve | Pc::Fetch => {
            let r = record(1, peekers.to_vec(), NS);
            let leaf = match pc {
                Pc::Store => AccessCaller::confidentialStoreCall {
                    dataId: id(&r),
                    key: KEY.into(),
                    value: Bytes::from_static(WRITTEN),
                }
                .abi_encode(),
                Pc::Retrieve => AccessCaller::confidentialRetrieveCall {
                    dataId: id(&r),
                    key: KEY.into(),
                }
                .abi_encode(),
                _ => AccessCaller::fetchDataRecordsCall {
                    cond: COND,
                    namespace: NS.into(),
                }
                .abi_encode(),
            };
            let w = value(&r, KEY, COMMITTED);
            (vec![r.clone()], vec![w], Some(r), leaf)
        }
        Pc::NewRecord => {
            let leaf = AccessCaller::newDataRecordCall {
                decryptionCondition: COND,
                allowedPeekers: peekers.to_vec(),
                allowedStores: vec![],
                dataType: NS.into(),
            }
            .abi_encode();
            (vec![], vec![], None, leaf)
        }
        Pc::FillMevShare => {
            let user = record(1, peekers.to_vec(), "mevshare:v0:unmatchedBundles");
            let matched = record(2, peekers.to_vec(), "mevshare:v0:unmatchedBundles");
            let merged = record(3, peekers.to_vec(), "mevshare:v0:matchDataRecords");
            let ids = vec![user.id, matched.id].abi_encode_params();
            let writes = vec![
                value(&user, "mevshare:v0:ethBundles", &bundle_json(&user_tx)),
                value(&matched, "mevshare:v0:ethBundles", &bundle_json(&match_tx)),
                value(&merged, "mevshare:v0:mergedDataRecords", &ids),
            ];
            let leaf = AccessCaller::fillMevShareBundleCall {
                dataId: id(&merged),
            }
            .abi_encode();
            (
                vec![user, matched, merged.clone()],
                writes,
                Some(merged),
                leaf,
            )
        }
        Pc::BuildBlock | Pc::BuildBlockTo => {
            let r = record(4, peekers.to_vec(), "default:v0:ethBundles");
            let w = value(&r, "default:v0:ethBundles", &bundle_json(&user_tx));
            let leaf = if pc == Pc::BuildBlock {
                AccessCaller::buildEthBlockCall {
                    blockArgs: abi_block_args(),
                    dataId: id(&r),
                    relayUrl: String::new(),
                }
                .abi_encode()
            } else {
                AccessCaller::buildEthBlockToCall {
                    executionNodeURL: String::new(),
                    blockArgs: abi_block_args(),
                    dataId: id(&r),
                    relayUrl: String::new(),
                }
                .abi_encode()
            };
            (vec![r.clone()], vec![w], Some(r), leaf)
        }
    };
    store
        .commit(&StoreWriteSet { records, writes })
        .expect("fixture commits");
    Cell {
        store,
        target,
        leaf,
        user_tx,
        match_tx,
    }
}

/// The request's target and calldata for `stack` ending in `leaf`.
fn request_for(pc: Pc, stack: &Stack, leaf: &[u8]) -> (Address, Vec<u8>) {
    let Some(((first, _), rest)) = stack.links.split_first() else {
        // The user calls the precompile: its input is the leaf's parameters.
        return (pc.address(), leaf[4..].to_vec());
    };
    // Wrap from the innermost link outwards: link i calls link i+1 with `hop`.
    let mut data = leaf.to_vec();
    for (next, delegate) in rest.iter().rev() {
        data = AccessCaller::hopCall {
            next: *next,
            data: data.into(),
            delegate: *delegate,
        }
        .abi_encode();
    }
    (*first, data)
}

// ---------------------------------------------------------------------------------------------
// Running and judging one cell
// ---------------------------------------------------------------------------------------------

/// Checks one cell; `Ok(observed label)` or `Err(why it differs from the expectation)`.
fn check_cell(
    kettle: &Kettle,
    pc: Pc,
    peekers: Peekers,
    stack: &Stack,
    want: Expect,
) -> Result<String, String> {
    let list = peekers.list(pc);
    let cell = setup(pc, &list);
    kettle.backend.builds.lock().unwrap().clear();
    let direct = stack.links.is_empty();
    let (to, data) = request_for(pc, stack, &cell.leaf);
    let result = kettle.call(&cell.store, to, data);
    let builds = std::mem::take(&mut *kettle.backend.builds.lock().unwrap());

    match want {
        Expect::NotAllowed | Expect::NoCaller => {
            let record = cell
                .target
                .as_ref()
                .expect("checked precompiles name a record");
            let (name, addr) = pc.checked_as();
            let message = if want == Expect::NotAllowed {
                format!(
                    "precompile {name} ({}) not allowed on {}",
                    hex::encode(addr),
                    hex::encode(record.id)
                )
            } else {
                format!(
                    "no caller of {name} ({}) is allowed on {}",
                    hex::encode(addr),
                    hex::encode(record.id)
                )
            };
            let Err(MevmError::Reverted { output, peeker, .. }) = &result else {
                return Err(format!("expected a revert, got {result:?}"));
            };
            if direct {
                // The precompile's raw message is the request's revert data.
                if output.as_ref() != message.as_bytes() || peeker.is_some() {
                    return Err(format!(
                        "revert data {:?}, want raw {message:?}",
                        String::from_utf8_lossy(output)
                    ));
                }
            } else {
                let want_data = PeekerReverted {
                    _0: pc.address(),
                    _1: Bytes::from(message.clone().into_bytes()),
                }
                .abi_encode();
                if output.as_ref() != want_data.as_slice() {
                    return Err(format!(
                        "revert data is not PeekerReverted({}, {message:?}): {:?}",
                        pc.address(),
                        PeekerReverted::abi_decode(output)
                            .map(|p| (p._0, String::from_utf8_lossy(&p._1).into_owned()))
                    ));
                }
            }
            if !builds.is_empty() {
                return Err("a denied build reached the execution backend".into());
            }
            Ok(if want == Expect::NotAllowed {
                "not-allowed".into()
            } else {
                "no-caller".into()
            })
        }
        Expect::Allow(caller) => {
            let label = match caller {
                None => "ok".to_string(),
                Some(c) => format!("ok({})", short(pc, c)),
            };
            if pc == Pc::Store && direct {
                // §3.6 item 3: the store succeeded, but the request's target (the precompile)
                // has no code and returned nothing.
                return match result {
                    Err(MevmError::TargetDoesNotExist) => Ok(format!("{label}†")),
                    other => Err(format!(
                        "expected target contract does not exist, got {other:?}"
                    )),
                };
            }
            let out = result.map_err(|e| format!("expected success, got {e} ({e:?})"))?;
            check_output(pc, &cell, caller, direct, &list, &out, &builds)?;
            Ok(label)
        }
    }
}

/// The exact documented output of an allowed call.
fn check_output(
    pc: Pc,
    cell: &Cell,
    caller: Option<Address>,
    direct: bool,
    peekers: &[Address],
    out: &ConfidentialOutcome,
    builds: &[Vec<Bytes>],
) -> Result<(), String> {
    let raw = &out.raw_return;
    let record = cell.target.as_ref();
    let staged_nothing = out.store_writes == StoreWriteSet::default();
    let ensure = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    match pc {
        Pc::Store => {
            let r = record.unwrap();
            let want = vec![StoreWrite {
                id: r.id,
                key: KEY.into(),
                value: Bytes::from_static(WRITTEN),
                caller: caller.unwrap(),
            }];
            ensure(
                out.store_writes.writes == want && out.store_writes.records.is_empty(),
                format!("staged {:?}, want {want:?}", out.store_writes),
            )?;
            ensure(raw.is_empty(), format!("store returned {raw}"))
        }
        Pc::Retrieve => {
            let got = if direct {
                raw.clone()
            } else {
                AccessCaller::confidentialRetrieveCall::abi_decode_returns(raw)
                    .map_err(|e| e.to_string())?
            };
            ensure(got.as_ref() == COMMITTED, format!("retrieved {got}"))?;
            ensure(staged_nothing, "retrieve staged something".into())
        }
        Pc::NewRecord => {
            let got = if direct {
                kettle_contracts::precompiles::SuavePrecompiles::newDataRecordCall::abi_decode_returns(
                    raw,
                )
                .map(|r| (r.id, r.salt, r.decryptionCondition, r.allowedPeekers, r.allowedStores, r.version))
            } else {
                AccessCaller::newDataRecordCall::abi_decode_returns(raw).map(|r| {
                    (r.id, r.salt, r.decryptionCondition, r.allowedPeekers, r.allowedStores, r.version)
                })
            }
            .map_err(|e| e.to_string())?;
            // §6.1: the kettle's account appended to the (empty) user stores; id over the rest.
            let want = DataRecord::new(
                DataId::from(got.1 .0),
                COND,
                peekers.to_vec(),
                vec![DEV_KETTLE_ADDRESS],
                NS.into(),
            );
            ensure(
                got.0 .0 == want.id.0
                    && got.2 == COND
                    && got.3 == peekers
                    && got.4 == vec![DEV_KETTLE_ADDRESS]
                    && got.5 == NS,
                format!("new record {got:?}, want {want:?}"),
            )?;
            ensure(
                out.store_writes.records == vec![want] && out.store_writes.writes.is_empty(),
                format!("staged {:?}", out.store_writes),
            )
        }
        Pc::Fetch => {
            let r = record.unwrap();
            let want = kettle_contracts::precompiles::SuavePrecompiles::fetchDataRecordsCall::abi_encode_returns(
                &vec![kettle_contracts::DataRecord {
                    id: FixedBytes(r.id.0),
                    salt: FixedBytes(r.salt.0),
                    decryptionCondition: r.decryption_condition,
                    allowedPeekers: r.allowed_peekers.clone(),
                    allowedStores: r.allowed_stores.clone(),
                    version: r.version.clone(),
                }],
            );
            // Through a contract the record list is decoded and re-encoded by Solidity, which
            // must give the same bytes back.
            ensure(raw.as_ref() == want.as_slice(), format!("fetched {raw}"))?;
            ensure(staged_nothing, "fetch staged something".into())
        }
        Pc::FillMevShare => {
            let got = if direct {
                raw.clone()
            } else {
                AccessCaller::fillMevShareBundleCall::abi_decode_returns(raw)
                    .map_err(|e| e.to_string())?
            };
            let want = format!(
                "{{\"version\":\"v0.1\",\"inclusion\":{{\"block\":\"0x64\",\"maxBlock\":\"0x7d\"}},\"body\":[{{\"tx\":\"0x{}\",\"canRevert\":false}},{{\"tx\":\"0x{}\",\"canRevert\":false}}],\"validity\":{{\"refund\":[{{\"bodyIdx\":0,\"percent\":10}}]}}}}",
                hex::encode(&cell.user_tx),
                hex::encode(&cell.match_tx)
            );
            ensure(
                got.as_ref() == want.as_bytes(),
                format!("filled {:?}", String::from_utf8_lossy(&got)),
            )
        }
        Pc::BuildBlock | Pc::BuildBlockTo => {
            let (bid, envelope): (Bytes, Bytes) =
                <(Bytes, Bytes)>::abi_decode_params(raw).map_err(|e| e.to_string())?;
            ensure(
                bid.as_ref() == BID && envelope.as_ref() == ENVELOPE,
                format!("built {bid} / {envelope}"),
            )?;
            ensure(
                builds == [vec![cell.user_tx.clone()]],
                format!("backend asked to build {builds:?}"),
            )
        }
    }
}

fn short(pc: Pc, a: Address) -> String {
    if a == pc.address() {
        return "self".into();
    }
    match a {
        A => "A",
        N1 => "N1",
        N2 => "N2",
        N3 => "N3",
        N4 => "N4",
        Z => "Z",
        _ => return a.to_string(),
    }
    .into()
}

#[test]
fn store_precompiles_access_matrix() {
    let kettle = Kettle::new();
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut cells = 0usize;
    let (mut allowed, mut denied) = (0usize, 0usize);
    let started = std::time::Instant::now();

    writeln!(
        report,
        "\nAccess-control matrix (SUAVE-COMPAT §3.9). Rows: caller stack, outermost first \
         (user -> precompile = the request calls the precompile itself; =delegate=> = \
         DELEGATECALL). Columns: the record's allowedPeekers (self = the precompile called, \
         bEB = buildEthBlock 0x…42100001, ANY = ANYALLOWED). ok(X) = allowed with effective \
         caller X; ✗ = differs from SUAVE-COMPAT."
    )
    .unwrap();
    for pc in PRECOMPILES {
        writeln!(report, "\n{} ({})", pc.name(), pc.address()).unwrap();
        write!(report, "  {:<22}", "stack \\ peekers").unwrap();
        for p in PEEKERS {
            write!(report, " {:<13}", p.label()).unwrap();
        }
        writeln!(report).unwrap();
        for stack in STACKS {
            write!(report, "  {:<22}", stack.label).unwrap();
            for (col, peekers) in PEEKERS.into_iter().enumerate() {
                let want = expect(pc, col, peekers, stack);
                cells += 1;
                match want {
                    Expect::Allow(_) => allowed += 1,
                    _ => denied += 1,
                }
                let shown = match check_cell(&kettle, pc, peekers, stack, want) {
                    Ok(label) => label,
                    Err(why) => {
                        failures.push(format!(
                            "{} | {} | {}: want {want:?}: {why}",
                            pc.name(),
                            stack.label,
                            peekers.label()
                        ));
                        "✗".into()
                    }
                };
                write!(report, " {shown:<13}").unwrap();
            }
            writeln!(report).unwrap();
        }
    }
    writeln!(
        report,
        "\n† confidentialStore allowed, but a request sent straight to a precompile that returns \
         nothing fails with `target contract does not exist` (§3.6 item 3).\n\
         {cells} cells ({allowed} allowed, {denied} denied) in {:.2?}.",
        started.elapsed()
    )
    .unwrap();
    println!("{report}");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ from SUAVE-COMPAT §3.9:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The matrix itself must be able to fail: a record that lists only `N1` lets the `N1` row
/// through, so the "no caller" expectation the matrix has for `[Z]` must not hold for it.
#[test]
fn matrix_detects_a_wrong_expectation() {
    let kettle = Kettle::new();
    let n1_only = Stack {
        label: "N1",
        links: &[(N1, false)],
        walk_a: Some(N1),
        wildcard: N1,
    };
    // A deliberately wrong expectation: `[A]` with A not on the stack is "no caller", not
    // allowed with N1 as the caller.
    let err = check_cell(
        &kettle,
        Pc::Retrieve,
        Peekers::A,
        &n1_only,
        Expect::Allow(Some(N1)),
    )
    .unwrap_err();
    assert!(err.starts_with("expected success"), "{err}");
    // And a wrong denial message is caught too.
    let err = check_cell(
        &kettle,
        Pc::FillMevShare,
        Peekers::A,
        &STACKS[1],
        Expect::NoCaller,
    )
    .unwrap_err();
    assert!(err.contains("not PeekerReverted"), "{err}");
}
