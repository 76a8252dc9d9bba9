//! `console.log` at `0x000000000000000000636F6e736F6c652e6c6f67`: the forge-std `console2`
//! ABI (selector + ABI-encoded arguments), forwarded to `tracing`.
//!
//! Active on chain and in confidential runs alike, free (0 gas), always succeeds with empty
//! output, like suave-geth, which prints the decoded arguments to stdout. Here each call
//! becomes one `info` event of target `suave_precompiles::console` with the calling contract
//! as field `contract`: operators silence SUAPP output with a log filter (for example
//! `RUST_LOG=info,suave_precompiles::console=off`). What a SUAPP prints is its own choice; the
//! kettle never adds confidential inputs or store values to it. Undecodable payloads are
//! reported at `debug` and otherwise ignored. Long output is truncated to
//! [`MAX_CONSOLE_LINE`] bytes.

use std::{collections::HashMap, sync::OnceLock};

use alloy_primitives::{keccak256, Address, I256, U256};

/// Longest rendered console line, in bytes; the rest is replaced by `…`.
pub const MAX_CONSOLE_LINE: usize = 4096;

/// An argument type of the console2 ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Uint,
    Int,
    Str,
    Bool,
    Address,
    Bytes,
    FixedBytes(usize),
}

impl Arg {
    fn sol_name(self) -> String {
        match self {
            Self::Uint => "uint256".into(),
            Self::Int => "int256".into(),
            Self::Str => "string".into(),
            Self::Bool => "bool".into(),
            Self::Address => "address".into(),
            Self::Bytes => "bytes".into(),
            Self::FixedBytes(n) => format!("bytes{n}"),
        }
    }
}

/// Every console2 signature, by selector.
fn signatures() -> &'static HashMap<[u8; 4], Vec<Arg>> {
    static TABLE: OnceLock<HashMap<[u8; 4], Vec<Arg>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut sigs: Vec<Vec<Arg>> = vec![
            vec![],
            vec![Arg::Int],
            vec![Arg::Bytes],
            vec![Arg::Str, Arg::Int],
        ];
        sigs.extend((1..=32).map(|n| vec![Arg::FixedBytes(n)]));
        // Every combination of one to four of the four basic types.
        let basic = [Arg::Uint, Arg::Str, Arg::Bool, Arg::Address];
        let mut layer: Vec<Vec<Arg>> = vec![vec![]];
        for _ in 0..4 {
            layer = layer
                .iter()
                .flat_map(|prefix| {
                    basic.iter().map(move |t| {
                        let mut v = prefix.clone();
                        v.push(*t);
                        v
                    })
                })
                .collect();
            sigs.extend(layer.iter().cloned());
        }
        sigs.into_iter()
            .map(|args| {
                let names: Vec<String> = args.iter().map(|a| a.sol_name()).collect();
                let sig = format!("log({})", names.join(","));
                let hash = keccak256(sig.as_bytes());
                ([hash[0], hash[1], hash[2], hash[3]], args)
            })
            .collect()
    })
}

/// Renders a console2 payload as one line (arguments separated by spaces), or `None` if the
/// selector is unknown or the arguments do not decode.
pub fn render(payload: &[u8]) -> Option<String> {
    let selector: [u8; 4] = payload.get(..4)?.try_into().ok()?;
    let args = signatures().get(&selector)?;
    let data = &payload[4..];
    let mut parts = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let word = word_at(data, i * 32)?;
        let part = match arg {
            Arg::Uint => U256::from_be_bytes(word).to_string(),
            Arg::Int => I256::from_be_bytes(word).to_string(),
            Arg::Bool => (U256::from_be_bytes(word) != U256::ZERO).to_string(),
            Arg::Address => Address::from_slice(&word[12..]).to_checksum(None),
            Arg::FixedBytes(n) => format!("0x{}", crate::stack::hex_lower(&word[..*n])),
            Arg::Str => String::from_utf8_lossy(dynamic(data, word)?).into_owned(),
            Arg::Bytes => format!("0x{}", crate::stack::hex_lower(dynamic(data, word)?)),
        };
        parts.push(part);
    }
    let mut line = parts.join(" ");
    if line.len() > MAX_CONSOLE_LINE {
        let mut cut = MAX_CONSOLE_LINE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    Some(line)
}

/// Logs a console2 call made by `contract`.
pub fn log(contract: Address, payload: &[u8]) {
    match render(payload) {
        Some(line) => tracing::info!(target: "suave_precompiles::console", %contract, "{line}"),
        None => tracing::debug!(
            target: "suave_precompiles::console",
            %contract,
            len = payload.len(),
            "undecodable console.log payload"
        ),
    }
}

fn word_at(data: &[u8], offset: usize) -> Option<[u8; 32]> {
    data.get(offset..offset.checked_add(32)?)?.try_into().ok()
}

/// The bytes of a dynamic argument whose head word (an offset into `data`) is `head`.
fn dynamic(data: &[u8], head: [u8; 32]) -> Option<&[u8]> {
    let offset = usize::try_from(U256::from_be_bytes(head)).ok()?;
    let len = usize::try_from(U256::from_be_bytes(word_at(data, offset)?)).ok()?;
    let start = offset.checked_add(32)?;
    data.get(start..start.checked_add(len)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;
    use alloy_sol_types::SolValue;

    fn selector(sig: &[u8; 4]) -> Option<&'static Vec<Arg>> {
        signatures().get(sig)
    }

    #[test]
    fn selectors_match_suave_geth_table() {
        // A sample of suave/consolelog/console2.json (suave-geth v0.2.6).
        for (id, args) in [
            ("51973ec9", 0),
            ("2c2ecbc2", 1),
            ("0be77f56", 1),
            ("6e18a128", 1),
            ("27b7cf85", 1),
            ("2d5b6cb9", 1),
            ("3ca6268e", 2),
            ("f82c50f1", 1),
            ("41304fac", 1),
            ("665bf134", 4),
        ] {
            let sel: [u8; 4] = hex::decode(id).unwrap().try_into().unwrap();
            assert_eq!(selector(&sel).map(Vec::len), Some(args), "selector {id}");
        }
        assert_eq!(signatures().len(), 376);
    }

    #[test]
    fn renders_arguments() {
        let mut payload = hex::decode("4b5c4277").unwrap(); // log(string,string)? computed below
        payload.clear();
        let sel = &keccak256("log(string,uint256,bool,address)")[..4];
        payload.extend_from_slice(sel);
        payload.extend_from_slice(
            &(
                "hi".to_string(),
                U256::from(7),
                true,
                Address::repeat_byte(0x11),
            )
                .abi_encode_params(),
        );
        assert_eq!(
            render(&payload).unwrap(),
            "hi 7 true 0x1111111111111111111111111111111111111111"
        );
        assert_eq!(render(&[1, 2]), None);
        assert_eq!(render(&payload[..40]), None);
    }

    #[test]
    fn long_lines_are_truncated() {
        let mut payload = keccak256("log(string)")[..4].to_vec();
        payload.extend_from_slice(&("é".repeat(5000),).abi_encode_params());
        let line = render(&payload).unwrap();
        assert!(line.len() <= MAX_CONSOLE_LINE + '…'.len_utf8());
    }
}
