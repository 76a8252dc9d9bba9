//! From a confidential run's result to the calldata of the on-chain callback (SUAVE-COMPAT
//! §3.6–§3.8), and the upstream rendering of `PeekerReverted` failures.
//!
//! - **Callback rule** ([`callback_calldata`]): if the top-level return data ABI-decodes (Go's
//!   lenient decoder) as one `bytes` value whose length is 4 modulo 32 (a selector plus whole
//!   words), that value is the calldata; otherwise the return data is used verbatim.
//! - **Log carrier** ([`append_logs`]): if the run emitted logs (reverted frames excluded), the
//!   calldata becomes `calldata ‖ 0x543543 ‖ abi.encode(Log[])` with
//!   `Log = (address addr, bytes32[] topics, bytes data)`; suave-std's `emitOffchainLogs`
//!   re-emits them on chain.

use alloy_primitives::{Address, Bytes, Log, U256};
use alloy_sol_types::SolValue;

/// Separator between the callback calldata and the encoded logs.
pub const LOG_CARRIER_MAGIC: [u8; 3] = [0x54, 0x35, 0x43];

/// Selector of `error PeekerReverted(address, bytes)`, how `Suave.sol` reports a failed
/// precompile call.
pub const PEEKER_REVERTED_SELECTOR: [u8; 4] = [0x75, 0xff, 0xf4, 0x67];

alloy_sol_types::sol! {
    /// A log as carried in the callback calldata (field order is the ABI tuple order).
    #[derive(Debug, PartialEq, Eq)]
    struct CarriedLog {
        address addr;
        bytes32[] topics;
        bytes data;
    }
}

/// Go's lenient decoding of `return_data` as a single `bytes` argument: at least one word;
/// word 0 is an offset `o` with `o + 32 ≤ len`; the word at `o` is a length `l` with
/// `o + 32 + l ≤ len`. Padding and trailing bytes are ignored.
pub fn decode_bytes_lenient(return_data: &[u8]) -> Option<&[u8]> {
    const LIMIT: u128 = 1 << 63; // go-ethereum rejects offsets and sizes of 63 bits and more
    let word = |at: usize| -> Option<U256> {
        return_data
            .get(at..at.checked_add(32)?)
            .map(U256::from_be_slice)
    };
    let offset_end = word(0)?.checked_add(U256::from(32))?;
    if offset_end > U256::from(return_data.len()) || offset_end >= U256::from(LIMIT) {
        return None;
    }
    let start = usize::try_from(offset_end).ok()?;
    let len = word(start - 32)?;
    let end = offset_end.checked_add(len)?;
    if end >= U256::from(LIMIT) || end > U256::from(return_data.len()) {
        return None;
    }
    return_data.get(start..usize::try_from(end).ok()?)
}

/// The callback calldata for top-level return data `return_data` (§3.7), without logs.
pub fn callback_calldata(return_data: &[u8]) -> Bytes {
    match decode_bytes_lenient(return_data) {
        Some(inner) if inner.len() % 32 == 4 => Bytes::copy_from_slice(inner),
        _ => Bytes::copy_from_slice(return_data),
    }
}

/// `abi.encode(Log[])` of `logs` as suave-geth's `ExecResult.EncodeABI` writes it: the
/// parameter encoding of one dynamic array (first word `0x20`).
pub fn encode_logs(logs: &[Log]) -> Vec<u8> {
    let carried: Vec<CarriedLog> = logs
        .iter()
        .map(|log| CarriedLog {
            addr: log.address,
            topics: log.topics().to_vec(),
            data: log.data.data.clone(),
        })
        .collect();
    (carried,).abi_encode_params()
}

/// `calldata ‖ 0x543543 ‖ abi.encode(Log[])` if there are logs, else `calldata` unchanged
/// (§3.8).
pub fn append_logs(calldata: Bytes, logs: &[Log]) -> Bytes {
    if logs.is_empty() {
        return calldata;
    }
    let encoded = encode_logs(logs);
    let mut out = Vec::with_capacity(calldata.len() + LOG_CARRIER_MAGIC.len() + encoded.len());
    out.extend_from_slice(&calldata);
    out.extend_from_slice(&LOG_CARRIER_MAGIC);
    out.extend_from_slice(&encoded);
    Bytes::from(out)
}

/// Decodes logs carried after the first `0x543543` of `calldata`, as suave-std's
/// `emitOffchainLogs` does (for tests and tools).
pub fn decode_carried_logs(calldata: &[u8]) -> Option<Vec<Log>> {
    let at = calldata.windows(3).position(|w| w == LOG_CARRIER_MAGIC)?;
    let (logs,) = <(Vec<CarriedLog>,)>::abi_decode_params(&calldata[at + 3..]).ok()?;
    Some(
        logs.into_iter()
            .map(|l| Log::new_unchecked(l.addr, l.topics, l.data))
            .collect(),
    )
}

/// A `PeekerReverted(address, bytes)` revert, as suave-geth's `parseSuavePrecompileError`
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekerRevert {
    /// The precompile that failed.
    pub precompile: Address,
    /// Its error message (raw bytes, normally UTF-8).
    pub message: Bytes,
}

impl PeekerRevert {
    /// Parses revert data: selector `0x75fff467`, at least three words, the address from word
    /// 0, the length from word 2 (the offset word is ignored, as upstream), the message right
    /// after. `None` when the data is not such a revert.
    pub fn parse(revert_data: &[u8]) -> Option<Self> {
        let rest = revert_data.strip_prefix(&PEEKER_REVERTED_SELECTOR)?;
        if rest.len() < 96 {
            return None;
        }
        let precompile = Address::from_slice(&rest[12..32]);
        // Go takes the low 64 bits of the length word.
        let size = u64::from_be_bytes(rest[88..96].try_into().ok()?);
        let end = usize::try_from(size).ok()?.checked_add(96)?;
        let message = rest.get(96..end)?;
        Some(Self {
            precompile,
            message: Bytes::copy_from_slice(message),
        })
    }

    /// suave-geth's rendering: `precompile '<EIP-55 address>' reverted: '<message>'`.
    pub fn describe(&self) -> String {
        format!(
            "precompile '{}' reverted: '{}'",
            self.precompile.to_checksum(None),
            String::from_utf8_lossy(&self.message)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256, hex, LogData};
    use alloy_sol_types::SolError;

    #[test]
    fn callback_rule() {
        // abi.encode(bytes) of selector + one word: decoded.
        let inner = [[0xab, 0xcd, 0xef, 0x01].as_slice(), &[7u8; 32]].concat();
        let ret = (Bytes::from(inner.clone()),).abi_encode_params();
        assert_eq!(callback_calldata(&ret), Bytes::from(inner));
        // Length not 4 mod 32: verbatim.
        let ret = (Bytes::from(vec![1u8; 5]),).abi_encode_params();
        assert_eq!(callback_calldata(&ret), Bytes::from(ret.clone()));
        // Not decodable: verbatim.
        assert_eq!(callback_calldata(&[1]), Bytes::from_static(&[1]));
        assert_eq!(callback_calldata(&[]), Bytes::new());
        // Offset not 0x20 is fine; trailing data is ignored.
        let mut odd = vec![0u8; 32];
        odd[31] = 0x40;
        odd.extend_from_slice(&[0xee; 32]);
        let mut len = [0u8; 32];
        len[31] = 4;
        odd.extend_from_slice(&len);
        odd.extend_from_slice(&[1, 2, 3, 4, 0, 0, 9]);
        assert_eq!(callback_calldata(&odd), Bytes::from_static(&[1, 2, 3, 4]));
        // Hostile offsets and lengths never panic.
        assert_eq!(decode_bytes_lenient(&[0xff; 64]), None);
        let mut huge_len = vec![0u8; 64];
        huge_len[31] = 0x20;
        huge_len[32..].fill(0xff);
        assert_eq!(decode_bytes_lenient(&huge_len), None);
    }

    #[test]
    fn peeker_reverted_rendering() {
        let data = kettle_contracts::PeekerReverted {
            _0: address!("0x0000000000000000000000000000000043200002"),
            _1: Bytes::from_static(b"domain example.com is not allowed"),
        }
        .abi_encode();
        let parsed = PeekerRevert::parse(&data).unwrap();
        assert_eq!(
            parsed.describe(),
            "precompile '0x0000000000000000000000000000000043200002' reverted: 'domain example.com is not allowed'"
        );
        assert_eq!(PeekerRevert::parse(&data[..99]), None);
        assert_eq!(PeekerRevert::parse(b"\x08\xc3\x79\xa0"), None);
        let mut bad = data.clone();
        bad[4 + 64..4 + 96].fill(0xff);
        assert_eq!(PeekerRevert::parse(&bad), None);
    }

    #[test]
    fn log_carrier_round_trip() {
        let logs = vec![
            Log {
                address: Address::repeat_byte(3),
                data: LogData::new_unchecked(vec![], Bytes::new()),
            },
            Log {
                address: Address::repeat_byte(3),
                data: LogData::new_unchecked(
                    vec![b256!(
                        "0xdc013ea64717e828d19b2a2ee201871627a4a65b8e96984868b9391a327be18a"
                    )],
                    Bytes::from_static(&[1]),
                ),
            },
        ];
        let out = append_logs(Bytes::from_static(&[0xaa]), &logs);
        assert_eq!(&out[..4], &hex!("aa543543"));
        assert_eq!(&out[4..36], &U256::from(0x20).to_be_bytes::<32>());
        assert_eq!(decode_carried_logs(&out).unwrap(), logs);
        assert_eq!(
            append_logs(Bytes::from_static(&[0xaa]), &[]),
            Bytes::from_static(&[0xaa])
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz_support;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(fuzz_support::proptest_config!("precompiles/callback-proptest", 4))]

        #[test]
        fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = callback_calldata(&data);
            let _ = PeekerRevert::parse(&data);
            let _ = decode_carried_logs(&data);
            let _ = crate::console::render(&data);
            let mut peeker = PEEKER_REVERTED_SELECTOR.to_vec();
            peeker.extend_from_slice(&data);
            let _ = PeekerRevert::parse(&peeker);
        }
    }
}
