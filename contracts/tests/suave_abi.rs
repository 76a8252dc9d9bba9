//! Our Suave.sol against the interface facts of upstream suave-std `src/suavelib/Suave.sol`
//! (flashbots/suave-std 796452e, generated from suave-geth 06b7e72) and SUAVE-COMPAT §4/§5:
//! function names, parameter and return types, mutability, struct names and fields, constant
//! names and addresses, which precompile each function calls, how it encodes and decodes, and
//! which functions require confidential execution. Also checks the artifacts themselves.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{keccak256, Address};
use alloy_sol_types::{SolCall, SolError, SolEvent};
use kettle_contracts::{
    hello::Hello, precompiles::SuavePrecompiles, suave::Suave, suave_abi_check::SuaveAbiCheck,
    PeekerReverted, ARTIFACTS, CONFIDENTIAL_ONLY, RAW_OUTPUT_PRECOMPILES,
};
use serde_json::Value;

const SUAVE_SOL: &str = include_str!("../src/Suave.sol");

/// How a precompile's answer reaches the Suave.sol caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    /// `abi.decode(answer, (outputs…))`.
    Abi,
    /// The answer is returned unchanged.
    Raw,
    /// Nothing is returned.
    None,
    /// isConfidential: the single byte 0x01.
    Flag,
}

/// One upstream Suave function: name, address constant, address, canonical parameter list,
/// canonical return list, output handling, `require(isConfidential())` first.
struct Fact {
    name: &'static str,
    constant: &'static str,
    address: &'static str,
    inputs: &'static str,
    outputs: &'static str,
    output: Output,
    confidential_only: bool,
}

const BUILD_BLOCK_ARGS: &str = "(uint64,bytes,bytes32,uint64,address,uint64,bytes32,(uint64,uint64,address,uint64)[],bytes,bytes32,bool)";
const HTTP_REQUEST: &str = "(string,string,string[],bytes,bool,uint64)";
const DATA_RECORD: &str = "(bytes16,bytes16,uint64,address[],address[],string)";

fn facts() -> Vec<Fact> {
    use Output::{Abi, Flag, None, Raw};
    let fact = |name, constant, address, inputs: String, outputs: String, output, conf| Fact {
        name,
        constant,
        address,
        inputs: Box::leak(inputs.into_boxed_str()),
        outputs: Box::leak(outputs.into_boxed_str()),
        output,
        confidential_only: conf,
    };
    let s = |x: &str| x.to_owned();
    vec![
        fact(
            "isConfidential",
            "IS_CONFIDENTIAL_ADDR",
            "42010000",
            s("()"),
            s("(bool)"),
            Flag,
            false,
        ),
        fact(
            "aesDecrypt",
            "AES_DECRYPT",
            "5670000d",
            s("(bytes,bytes)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "aesEncrypt",
            "AES_ENCRYPT",
            "5670000e",
            s("(bytes,bytes)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "buildEthBlock",
            "BUILD_ETH_BLOCK",
            "42100001",
            format!("({BUILD_BLOCK_ARGS},bytes16,string)"),
            s("(bytes,bytes)"),
            Abi,
            false,
        ),
        fact(
            "buildEthBlockTo",
            "BUILD_ETH_BLOCK_TO",
            "42100006",
            format!("(string,{BUILD_BLOCK_ARGS},bytes16,string)"),
            s("(bytes,bytes)"),
            Abi,
            false,
        ),
        fact(
            "confidentialInputs",
            "CONFIDENTIAL_INPUTS",
            "42010001",
            s("()"),
            s("(bytes)"),
            Raw,
            false,
        ),
        fact(
            "confidentialRetrieve",
            "CONFIDENTIAL_RETRIEVE",
            "42020001",
            s("(bytes16,string)"),
            s("(bytes)"),
            Raw,
            false,
        ),
        fact(
            "confidentialStore",
            "CONFIDENTIAL_STORE",
            "42020000",
            s("(bytes16,string,bytes)"),
            s("()"),
            None,
            false,
        ),
        fact(
            "contextGet",
            "CONTEXT_GET",
            "53300003",
            s("(string)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "doHTTPRequest",
            "DO_HTTPREQUEST",
            "43200002",
            format!("({HTTP_REQUEST})"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "doHTTPRequest2",
            "DO_HTTPREQUEST2",
            "43200003",
            format!("({HTTP_REQUEST})"),
            s("((uint64,bytes,bytes))"),
            Abi,
            false,
        ),
        fact(
            "ethcall",
            "ETHCALL",
            "42100003",
            s("(address,bytes)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "extractHint",
            "EXTRACT_HINT",
            "42100037",
            s("(bytes)"),
            s("(bytes)"),
            Raw,
            true,
        ),
        fact(
            "fetchDataRecords",
            "FETCH_DATA_RECORDS",
            "42030001",
            s("(uint64,string)"),
            format!("({DATA_RECORD}[])"),
            Abi,
            false,
        ),
        fact(
            "fillMevShareBundle",
            "FILL_MEV_SHARE_BUNDLE",
            "43200001",
            s("(bytes16)"),
            s("(bytes)"),
            Raw,
            true,
        ),
        fact(
            "getInsecureTime",
            "GET_INSECURE_TIME",
            "7770000c",
            s("()"),
            s("(uint256)"),
            Abi,
            false,
        ),
        fact(
            "newBuilder",
            "NEW_BUILDER",
            "53200001",
            s("()"),
            s("(string)"),
            Abi,
            false,
        ),
        fact(
            "newDataRecord",
            "NEW_DATA_RECORD",
            "42030000",
            s("(uint64,address[],address[],string)"),
            format!("({DATA_RECORD})"),
            Abi,
            false,
        ),
        fact(
            "privateKeyGen",
            "PRIVATE_KEY_GEN",
            "53200003",
            s("(uint8)"),
            s("(string)"),
            Abi,
            false,
        ),
        fact(
            "randomBytes",
            "RANDOM_BYTES",
            "7770000b",
            s("(uint8)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "signEthTransaction",
            "SIGN_ETH_TRANSACTION",
            "40100001",
            s("(bytes,string,string)"),
            s("(bytes)"),
            Abi,
            false,
        ),
        fact(
            "signMessage",
            "SIGN_MESSAGE",
            "40100003",
            s("(bytes,uint8,string)"),
            s("(bytes)"),
            Abi,
            true,
        ),
        fact(
            "simulateBundle",
            "SIMULATE_BUNDLE",
            "42100000",
            s("(bytes)"),
            s("(uint64)"),
            Abi,
            false,
        ),
        fact(
            "simulateTransaction",
            "SIMULATE_TRANSACTION",
            "53200002",
            s("(string,bytes)"),
            s("((uint64,(bytes,address,bytes32[])[],bool,string))"),
            Abi,
            false,
        ),
        fact(
            "submitBundleJsonRPC",
            "SUBMIT_BUNDLE_JSON_RPC",
            "43000001",
            s("(string,string,bytes)"),
            s("(bytes)"),
            Raw,
            true,
        ),
        fact(
            "submitEthBlockToRelay",
            "SUBMIT_ETH_BLOCK_TO_RELAY",
            "42100002",
            s("(string,bytes)"),
            s("(bytes)"),
            Raw,
            true,
        ),
    ]
}

/// Upstream struct declarations: name → (field name, canonical field type).
fn struct_facts() -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    BTreeMap::from([
        (
            "BuildBlockArgs",
            vec![
                ("slot", "uint64"),
                ("proposerPubkey", "bytes"),
                ("parent", "bytes32"),
                ("timestamp", "uint64"),
                ("feeRecipient", "address"),
                ("gasLimit", "uint64"),
                ("random", "bytes32"),
                ("withdrawals", "(uint64,uint64,address,uint64)[]"),
                ("extra", "bytes"),
                ("beaconRoot", "bytes32"),
                ("fillPending", "bool"),
            ],
        ),
        (
            "DataRecord",
            vec![
                ("id", "bytes16"),
                ("salt", "bytes16"),
                ("decryptionCondition", "uint64"),
                ("allowedPeekers", "address[]"),
                ("allowedStores", "address[]"),
                ("version", "string"),
            ],
        ),
        (
            "HttpRequest",
            vec![
                ("url", "string"),
                ("method", "string"),
                ("headers", "string[]"),
                ("body", "bytes"),
                ("withFlashbotsSignature", "bool"),
                ("timeout", "uint64"),
            ],
        ),
        (
            "HttpResponse",
            vec![("status", "uint64"), ("body", "bytes"), ("error", "bytes")],
        ),
        (
            "SimulateTransactionResult",
            vec![
                ("egp", "uint64"),
                ("logs", "(bytes,address,bytes32[])[]"),
                ("success", "bool"),
                ("error", "string"),
            ],
        ),
        (
            "SimulatedLog",
            vec![
                ("data", "bytes"),
                ("addr", "address"),
                ("topics", "bytes32[]"),
            ],
        ),
        (
            "Withdrawal",
            vec![
                ("index", "uint64"),
                ("validator", "uint64"),
                ("Address", "address"),
                ("amount", "uint64"),
            ],
        ),
    ])
}

fn artifact(name: &str) -> Value {
    let a = ARTIFACTS
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no artifact {name}"));
    serde_json::from_str(a.json).expect("artifact is JSON")
}

/// Canonical type of one ABI parameter (tuples expanded).
fn canonical(param: &Value) -> String {
    let ty = param["type"].as_str().expect("type");
    match ty.strip_prefix("tuple") {
        Some(suffix) => {
            let inner: Vec<String> = param["components"]
                .as_array()
                .expect("components")
                .iter()
                .map(canonical)
                .collect();
            format!("({}){suffix}", inner.join(","))
        }
        None => ty.to_owned(),
    }
}

fn canonical_list(params: &Value) -> String {
    let list: Vec<String> = params
        .as_array()
        .expect("params")
        .iter()
        .map(canonical)
        .collect();
    format!("({})", list.join(","))
}

fn functions(abi: &Value) -> BTreeMap<String, Value> {
    abi.as_array()
        .expect("abi array")
        .iter()
        .filter(|item| item["type"] == "function")
        .map(|item| (item["name"].as_str().unwrap().to_owned(), item.clone()))
        .collect()
}

/// `address public constant NAME = 0x…;` declarations of Suave.sol, in file order.
fn source_constants() -> Vec<(String, Address)> {
    SUAVE_SOL
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("address public constant ")?;
            let (name, value) = rest.split_once(" = ")?;
            let value = value.strip_suffix(';').expect("constant ends with ;");
            Some((
                name.to_owned(),
                value.parse().expect("constant is an address"),
            ))
        })
        .collect()
}

/// Body of `function <name>(` in Suave.sol with all whitespace runs collapsed to one space.
fn source_function(name: &str) -> String {
    let start = SUAVE_SOL
        .find(&format!("function {name}("))
        .unwrap_or_else(|| panic!("Suave.sol has no function {name}"));
    let rest = &SUAVE_SOL[start..];
    let open = rest.find('{').expect("body");
    let mut depth = 0usize;
    let mut end = open;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = open + i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

fn precompile(suffix: &str) -> Address {
    format!("0x{:0>40}", suffix).parse().unwrap()
}

#[test]
fn precompile_interface_matches_upstream_signatures() {
    let abi = artifact("SuavePrecompiles");
    let functions = functions(&abi["abi"]);
    let facts = facts();
    let names: BTreeSet<&str> = facts.iter().map(|f| f.name).collect();
    assert_eq!(
        functions
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        names
    );
    for fact in &facts {
        let f = &functions[fact.name];
        assert_eq!(
            canonical_list(&f["inputs"]),
            fact.inputs,
            "inputs of {}",
            fact.name
        );
        assert_eq!(
            canonical_list(&f["outputs"]),
            fact.outputs,
            "outputs of {}",
            fact.name
        );
        // Upstream declares every Suave function `internal` and non-view.
        assert_eq!(
            f["stateMutability"], "nonpayable",
            "mutability of {}",
            fact.name
        );
    }
    // The generated Rust bindings agree with the JSON (selectors over canonical types).
    let sigs: BTreeSet<String> = facts
        .iter()
        .map(|f| format!("{}{}", f.name, f.inputs))
        .collect();
    let generated: BTreeSet<String> = SuavePrecompiles::SuavePrecompilesCalls::SIGNATURES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(generated, sigs);
    assert_eq!(
        SuavePrecompiles::newDataRecordCall::SELECTOR,
        keccak256("newDataRecord(uint64,address[],address[],string)")[..4]
    );
}

#[test]
fn abi_check_harness_has_the_interface_abi() {
    let interface = functions(&artifact("SuavePrecompiles")["abi"]);
    let harness = functions(&artifact("SuaveAbiCheck")["abi"]);
    assert_eq!(interface, harness);
    assert_eq!(
        SuaveAbiCheck::SuaveAbiCheckCalls::SIGNATURES,
        SuavePrecompiles::SuavePrecompilesCalls::SIGNATURES
    );
}

#[test]
fn structs_enum_and_user_type_match_upstream() {
    let abi = artifact("SuavePrecompiles")["abi"].clone();
    // Walk every parameter and collect what solc reports for struct / enum / user types.
    let mut structs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut other_types = BTreeSet::new();
    fn walk(
        p: &Value,
        structs: &mut BTreeMap<String, Vec<(String, String)>>,
        other: &mut BTreeSet<(String, String)>,
    ) {
        let internal = p["internalType"].as_str().expect("internalType").to_owned();
        if let Some(name) = internal.strip_prefix("struct ") {
            let name = name.trim_end_matches("[]").to_owned();
            let fields = p["components"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["name"].as_str().unwrap().to_owned(), canonical(c)))
                .collect();
            structs.insert(name, fields);
            for c in p["components"].as_array().unwrap() {
                walk(c, structs, other);
            }
        } else if internal != p["type"].as_str().unwrap() {
            other.insert((internal, p["type"].as_str().unwrap().to_owned()));
        }
    }
    for item in abi.as_array().unwrap() {
        for key in ["inputs", "outputs"] {
            for p in item[key].as_array().unwrap() {
                walk(p, &mut structs, &mut other_types);
            }
        }
    }
    let want: BTreeMap<String, Vec<(String, String)>> = struct_facts()
        .into_iter()
        .map(|(name, fields)| {
            (
                format!("Suave.{name}"),
                fields
                    .into_iter()
                    .map(|(f, t)| (f.to_owned(), t.to_owned()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(structs, want);
    let want_other: BTreeSet<(String, String)> = [
        ("Suave.DataId", "bytes16"),
        ("enum Suave.CryptoSignature", "uint8"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(other_types, want_other);
    // The enum's members, in order (SECP256 = 0, BLS = 1).
    let normalized = SUAVE_SOL.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(normalized.contains("enum CryptoSignature { SECP256, BLS }"));
    assert!(normalized.contains("type DataId is bytes16;"));
}

#[test]
fn library_exports_upstream_error_and_constants() {
    let abi = artifact("Suave")["abi"].clone();
    let items = abi.as_array().unwrap();
    let errors: Vec<&Value> = items.iter().filter(|i| i["type"] == "error").collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["name"], "PeekerReverted");
    assert_eq!(canonical_list(&errors[0]["inputs"]), "(address,bytes)");
    assert_eq!(PeekerReverted::SIGNATURE, "PeekerReverted(address,bytes)");

    // Public constants: getters in the ABI, values in the source.
    let mut want: BTreeMap<String, Address> = facts()
        .iter()
        .map(|f| (f.constant.to_owned(), precompile(f.address)))
        .collect();
    want.insert(
        "ANYALLOWED".into(),
        "0xC8df3686b4Afb2BB53e60EAe97EF043FE03Fb829"
            .parse()
            .unwrap(),
    );
    let getters: BTreeMap<String, Value> = functions(&abi);
    assert_eq!(
        getters.keys().cloned().collect::<BTreeSet<_>>(),
        want.keys().cloned().collect()
    );
    for (name, f) in &getters {
        assert_eq!(canonical_list(&f["inputs"]), "()", "{name}");
        assert_eq!(canonical_list(&f["outputs"]), "(address)", "{name}");
        assert_eq!(f["stateMutability"], "view", "{name}");
    }
    let declared: BTreeMap<String, Address> = source_constants().into_iter().collect();
    assert_eq!(declared, want);
    assert_eq!(Suave::ANYALLOWEDCall::SIGNATURE, "ANYALLOWED()");
}

#[test]
fn every_function_calls_its_precompile_as_documented() {
    let interface = functions(&artifact("SuavePrecompiles")["abi"]);
    for fact in facts() {
        let body = source_function(fact.name);
        assert!(
            body.contains(" internal "),
            "{} must be internal: {body}",
            fact.name
        );
        assert!(
            !body.contains(" view ") && !body.contains(" pure "),
            "{} mutability",
            fact.name
        );
        // abi.encode(<parameters in declaration order>) goes to the documented address.
        let params: Vec<&str> = interface[fact.name]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let call = if fact.output == Output::Flag {
            format!("callPrecompile({}, \"\")", fact.constant)
        } else {
            format!(
                "callPrecompile({}, abi.encode({}))",
                fact.constant,
                params.join(", ")
            )
        };
        assert!(
            body.contains(&call),
            "{} must contain `{call}`: {body}",
            fact.name
        );
        assert_eq!(
            body.matches("callPrecompile(").count(),
            1,
            "{}: one precompile call",
            fact.name
        );
        // Output handling.
        match fact.output {
            Output::Abi => {
                let outputs = &interface[fact.name]["outputs"];
                let types: Vec<String> = outputs
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let internal = p["internalType"].as_str().unwrap();
                        let t = internal.strip_prefix("struct ").unwrap_or(internal);
                        t.strip_prefix("Suave.").unwrap_or(t).to_owned()
                    })
                    .collect();
                let decode = format!(", ({}));", types.join(", "));
                assert!(
                    body.contains("abi.decode("),
                    "{} must decode: {body}",
                    fact.name
                );
                assert!(
                    body.contains(&decode),
                    "{} must decode as `{decode}`: {body}",
                    fact.name
                );
            }
            Output::Raw => {
                assert!(
                    !body.contains("abi.decode"),
                    "{} returns raw bytes: {body}",
                    fact.name
                );
                assert!(
                    body.contains(&format!("return {call};")),
                    "{}: {body}",
                    fact.name
                );
            }
            Output::None => {
                assert!(
                    !body.contains("abi.decode") && !body.contains("return"),
                    "{body}"
                );
            }
            Output::Flag => {
                assert!(
                    body.contains("answer[i] != 0"),
                    "isConfidential reads the answer bytes"
                );
            }
        }
        assert_eq!(
            body.contains("requireConfidential();"),
            fact.confidential_only,
            "{}: require(isConfidential()) first iff confidential-only",
            fact.name
        );
        if fact.confidential_only {
            let guard = body.find("requireConfidential();").unwrap();
            assert!(
                guard < body.find("callPrecompile(").unwrap(),
                "{}: guard first",
                fact.name
            );
        }
    }
    // Failures surface as PeekerReverted(precompile, revert data); the guard is a plain require.
    let helper = source_function("callPrecompile");
    assert!(
        helper.contains("revert PeekerReverted(precompile, output);"),
        "{helper}"
    );
    assert!(
        helper.contains("(ok, output) = precompile.call(input);"),
        "{helper}"
    );
    assert!(source_function("requireConfidential").contains("require(isConfidential());"));
}

#[test]
fn exported_lists_match_the_facts() {
    let facts = facts();
    let raw: Vec<&str> = facts
        .iter()
        .filter(|f| f.output == Output::Raw)
        .map(|f| f.name)
        .collect();
    assert_eq!(raw, RAW_OUTPUT_PRECOMPILES);
    let conf: Vec<&str> = facts
        .iter()
        .filter(|f| f.confidential_only)
        .map(|f| f.name)
        .collect();
    assert_eq!(conf, CONFIDENTIAL_ONLY);
}

#[test]
fn artifacts_are_listed_and_well_formed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/out");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("contracts/out exists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = ARTIFACTS.iter().map(|a| a.name).collect();
    assert_eq!(
        on_disk, listed,
        "lib.rs ARTIFACTS (and its modules) must cover contracts/out"
    );

    for a in ARTIFACTS {
        let v: Value = serde_json::from_str(a.json).unwrap();
        assert_eq!(v["contractName"], a.name);
        assert!(v["compiler"]["version"]
            .as_str()
            .unwrap()
            .starts_with("solc-js 0.8.37+commit."));
        assert_eq!(v["compiler"]["evmVersion"], "shanghai");
        let source = v["sourcePath"].as_str().unwrap();
        assert!(
            source.starts_with("contracts/src/")
                || source.starts_with("contracts/test/")
                || source.starts_with("suapps/"),
            "{}: {source}",
            a.name
        );
        let path = format!("{}/../{source}", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&path).is_file(),
            "{}: {source} exists",
            a.name
        );
        let code = v["bytecode"].as_str().unwrap();
        let deployed = v["deployedBytecode"].as_str().unwrap();
        match v["kind"].as_str().unwrap() {
            "contract" | "library" => {
                assert!(
                    code.len() > 2 && deployed.len() > 2,
                    "{} must be deployable",
                    a.name
                );
                // Runtime code fits the EIP-170 size limit.
                assert!((deployed.len() - 2) / 2 <= 24_576, "{} too large", a.name);
            }
            "interface" | "abstract contract" => {
                assert_eq!((code, deployed), ("0x", "0x"), "{} has no code", a.name)
            }
            other => panic!("{}: unknown kind {other}", a.name),
        }
    }
}

#[test]
fn generated_bytecode_constants_are_the_artifacts() {
    let hex_of = |name: &str, key: &str| artifact(name)[key].as_str().unwrap().to_owned();
    assert_eq!(Hello::BYTECODE.to_string(), hex_of("Hello", "bytecode"));
    assert_eq!(
        Hello::DEPLOYED_BYTECODE.to_string(),
        hex_of("Hello", "deployedBytecode")
    );
    assert_eq!(Suave::BYTECODE.to_string(), hex_of("Suave", "bytecode"));
    assert_eq!(
        SuaveAbiCheck::BYTECODE.to_string(),
        hex_of("SuaveAbiCheck", "bytecode")
    );
    assert!(!Hello::BYTECODE.is_empty());
    assert!(!Suave::DEPLOYED_BYTECODE.is_empty());
    assert!(!SuaveAbiCheck::DEPLOYED_BYTECODE.is_empty());
}

#[test]
fn hello_suapp_abi() {
    assert_eq!(Hello::helloCall::SIGNATURE, "hello()");
    assert_eq!(Hello::callbackCall::SIGNATURE, "callback(string)");
    assert_eq!(Hello::Greeted::SIGNATURE, "Greeted(string)");
    // The confidential result the kettle turns into the 0x50 callback: abi.encode(bytes) whose
    // inner length is a selector plus whole words.
    let inner = Hello::callbackCall {
        greeting: "hello, kettle".into(),
    }
    .abi_encode();
    assert_eq!(inner.len() % 32, 4);
    let result = Hello::helloCall::abi_encode_returns(&inner.clone().into());
    assert_eq!(
        Hello::helloCall::abi_decode_returns(&result).unwrap(),
        inner
    );
    // Hello's ABI lists the library error it can raise.
    assert_eq!(Hello::PeekerReverted::SELECTOR, PeekerReverted::SELECTOR);
}
