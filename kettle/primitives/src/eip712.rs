//! EIP-712 typed-data signing of confidential compute records (`isEIP712 = true`).
//!
//! suave-geth (`core/types/suave_eip712.go`) and suave-viem sign
//! `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(ConfidentialRecord))` with
//! - domain type `EIP712Domain(string name,address verifyingContract)`: **no** version,
//!   chainId or salt, so the signature does not bind the chain (see `SUAVE-COMPAT.md` §9.7);
//! - domain values `name = "ConfidentialRecord"`, `verifyingContract = kettleAddress`.
//!
//! alloy's [`Eip712Domain`] builds its type string from the fields that are `Some`, so a
//! domain with only `name` and `verifying_contract` hashes to exactly that type (checked by
//! the tests against `0xee552a4f…`).

use crate::record::ConfidentialComputeRecord;
use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use std::borrow::Cow;
use std::cell::Cell;

/// The EIP-712 domain `name` of SUAVE records.
pub const EIP712_DOMAIN_NAME: &str = "ConfidentialRecord";

alloy_sol_types::sol! {
    /// The EIP-712 message a user signs for a record, field for field as suave-geth's
    /// `CCREIP712Envelope` (type string
    /// `ConfidentialRecord(uint64 nonce,uint256 gasPrice,uint64 gas,address to,uint256 value,bytes data,address kettleAddress,bytes32 confidentialInputsHash)`).
    #[derive(Debug, PartialEq, Eq)]
    struct ConfidentialRecord {
        /// Sender nonce.
        uint64 nonce;
        /// Gas price (fee cap and tip) in wei.
        uint256 gasPrice;
        /// Gas limit.
        uint64 gas;
        /// Call target (a record without `to` has no EIP-712 form).
        address to;
        /// Value in wei.
        uint256 value;
        /// Calldata.
        bytes data;
        /// The kettle the request is addressed to.
        address kettleAddress;
        /// `keccak256(confidentialInputs)`.
        bytes32 confidentialInputsHash;
    }
}

/// The EIP-712 domain for records addressed to `kettle`: `{name: "ConfidentialRecord",
/// verifyingContract: kettle}`.
pub const fn domain(kettle: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(Cow::Borrowed(EIP712_DOMAIN_NAME)),
        None,
        None,
        Some(kettle),
        None,
    )
}

impl ConfidentialRecord {
    /// The typed message of `record`, or `None` when `record.to` is `None` (suave-geth cannot
    /// build one either and falls back to the zero digest).
    pub fn from_record(record: &ConfidentialComputeRecord) -> Option<Self> {
        Some(Self {
            nonce: record.nonce,
            gasPrice: record.gas_price,
            gas: record.gas,
            to: record.to?,
            value: record.value,
            data: record.data.clone(),
            kettleAddress: record.kettle_address,
            confidentialInputsHash: record.confidential_inputs_hash,
        })
    }
}

/// The EIP-712 signing digest of `record`.
///
/// A record without `to` (contract creation) yields [`B256::ZERO`], because suave-geth logs
/// `missing 'to' address` and signs/recovers over the zero hash. Verification must agree with
/// it to stay compatible; signing such a record is refused by this crate
/// ([`SignError::Eip712ContractCreation`](crate::SignError::Eip712ContractCreation)).
pub fn signing_hash(record: &ConfidentialComputeRecord) -> B256 {
    ConfidentialRecord::from_record(record).map_or(B256::ZERO, |msg| {
        let mut digest_input = [0u8; 66];
        digest_input[..2].copy_from_slice(&[0x19, 0x01]);
        digest_input[2..34].copy_from_slice(domain_separator(record.kettle_address).as_slice());
        digest_input[34..].copy_from_slice(msg.eip712_hash_struct().as_slice());
        keccak256(digest_input)
    })
}

/// The separator of [`domain`]`(kettle)`, remembered per thread for the last kettle asked
/// about: a kettle hashes its own domain for every request it checks and every `0x50` it
/// signs, and building it (type string, three hashes) is a fifth of the digest's cost.
fn domain_separator(kettle: Address) -> B256 {
    thread_local! {
        static LAST: Cell<Option<(Address, B256)>> = const { Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some((known, separator)) if known == kettle => separator,
        _ => {
            let separator = domain(kettle).separator();
            last.set(Some((kettle, separator)));
            separator
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::DEV_KETTLE_ADDRESS;
    use alloy_primitives::b256;

    #[test]
    fn domain_type_has_only_name_and_verifying_contract() {
        let d = domain(DEV_KETTLE_ADDRESS);
        assert_eq!(
            d.encode_type(),
            "EIP712Domain(string name,address verifyingContract)"
        );
        assert_eq!(
            d.type_hash(),
            b256!("ee552a4f357a6d8ecee15fed74927d873616e6da31fd672327acf0916acc174a")
        );
        assert_eq!(
            d.separator(),
            b256!("4100fd3693be8994c0256cfd7a4784de4922550bac5065cec0bd4bca6328ff5a")
        );
    }

    #[test]
    fn record_type_string_and_hash() {
        assert_eq!(
            ConfidentialRecord::eip712_encode_type(),
            "ConfidentialRecord(uint64 nonce,uint256 gasPrice,uint64 gas,address to,uint256 value,bytes data,address kettleAddress,bytes32 confidentialInputsHash)"
        );
        assert_eq!(
            keccak256(ConfidentialRecord::eip712_encode_type().as_bytes()),
            b256!("4bebe20854004c350bdca0994667900511d14ba33c0812f7eefa42f9e658a102")
        );
        assert_eq!(
            keccak256(EIP712_DOMAIN_NAME),
            b256!("b1b2c8042445ea23a19c6e71af1179c92c4a3f1bba4f7bf0703af8ddeb8b04ee")
        );
    }

    #[test]
    fn digest_is_alloys_eip712_signing_hash_whichever_kettle_came_before() {
        let kettles = [
            DEV_KETTLE_ADDRESS,
            Address::with_last_byte(1),
            Address::ZERO,
        ];
        for (i, kettle) in kettles.iter().cycle().take(9).enumerate() {
            let record = ConfidentialComputeRecord {
                nonce: i as u64,
                to: Some(Address::with_last_byte(7)),
                data: vec![i as u8; i].into(),
                kettle_address: *kettle,
                is_eip712: true,
                ..Default::default()
            };
            let msg = ConfidentialRecord::from_record(&record).expect("has to");
            assert_eq!(
                signing_hash(&record),
                msg.eip712_signing_hash(&domain(*kettle))
            );
        }
    }

    #[test]
    fn missing_to_gives_zero_digest() {
        let record = ConfidentialComputeRecord {
            to: None,
            is_eip712: true,
            ..Default::default()
        };
        assert_eq!(signing_hash(&record), B256::ZERO);
    }
}
