//! Confidential data records: the unit of access control in the confidential store.
//!
//! A record is created by the `newDataRecord` precompile and names who may read and write its
//! values (allowed peekers) and which kettles may hold copies (allowed stores). Its id must be
//! computed exactly as suave-geth does, because SUAPPs and other kettles refer to records by id.

use alloy_primitives::{Address, FixedBytes};
use sha1::{Digest, Sha1};

/// A data record id (`Suave.DataId`, `bytes16` in Solidity): a UUIDv5.
pub type DataId = FixedBytes<16>;

/// The UUID namespace suave-geth derives record ids in: `0x42` followed by 15 zero bytes.
pub const DATA_RECORD_ID_NAMESPACE: [u8; 16] = {
    let mut ns = [0u8; 16];
    ns[0] = 0x42;
    ns
};

/// A confidential data record's metadata (`Suave.DataRecord` without the values it holds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataRecord {
    /// Identity of the record, derived from all other fields (see [`DataRecord::compute_id`]).
    pub id: DataId,
    /// 16 random bytes (UUIDv4 layout) that make otherwise equal records distinct.
    pub salt: DataId,
    /// A tag SUAPPs filter records by (often a target block number); nothing enforces it.
    pub decryption_condition: u64,
    /// Contracts allowed to read and write the record's values; may hold the wildcard
    /// [`crate::constants::ANYALLOWED`].
    pub allowed_peekers: Vec<Address>,
    /// Kettles allowed to hold and replicate the record's values.
    pub allowed_stores: Vec<Address>,
    /// Namespace string (`version` in Solidity), e.g. `default:v0:ethBundles`.
    pub version: String,
}

impl DataRecord {
    /// Builds a record and derives its id from the other fields.
    pub fn new(
        salt: DataId,
        decryption_condition: u64,
        allowed_peekers: Vec<Address>,
        allowed_stores: Vec<Address>,
        version: String,
    ) -> Self {
        let mut record = Self {
            id: DataId::ZERO,
            salt,
            decryption_condition,
            allowed_peekers,
            allowed_stores,
            version,
        };
        record.id = record.compute_id();
        record
    }

    /// The id suave-geth gives this record: UUIDv5 over the Go JSON encoding of the record
    /// with a zero id, in [`DATA_RECORD_ID_NAMESPACE`].
    pub fn compute_id(&self) -> DataId {
        let body = self.id_preimage_json();
        let mut hasher = Sha1::new();
        hasher.update(DATA_RECORD_ID_NAMESPACE);
        hasher.update(body.as_bytes());
        let digest = hasher.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        id[6] = (id[6] & 0x0f) | 0x50;
        id[8] = (id[8] & 0x3f) | 0x80;
        DataId::from(id)
    }

    /// Whether the stored id is the one derived from the other fields.
    pub fn id_is_consistent(&self) -> bool {
        self.id == self.compute_id()
    }

    /// Whether `addr` may read or write this record's values: listed, or the wildcard is.
    pub fn is_peeker(&self, addr: Address) -> bool {
        self.allowed_peekers
            .iter()
            .any(|p| *p == addr || *p == crate::constants::ANYALLOWED)
    }

    /// Whether kettle `addr` may hold this record's values.
    pub fn is_store(&self, addr: Address) -> bool {
        self.allowed_stores.contains(&addr)
    }

    /// The exact bytes Go's `encoding/json` produces for the record with a zero id:
    /// `{"Id":[0,…],"Salt":[…],"DecryptionCondition":N,"AllowedPeekers":[…],"AllowedStores":[…],"Version":"…"}`.
    fn id_preimage_json(&self) -> String {
        let mut out = String::with_capacity(
            160 + 44 * (self.allowed_peekers.len() + self.allowed_stores.len()),
        );
        out.push_str("{\"Id\":");
        push_byte_array(&mut out, &[0u8; 16]);
        out.push_str(",\"Salt\":");
        push_byte_array(&mut out, self.salt.as_slice());
        out.push_str(",\"DecryptionCondition\":");
        out.push_str(&self.decryption_condition.to_string());
        out.push_str(",\"AllowedPeekers\":");
        push_address_array(&mut out, &self.allowed_peekers);
        out.push_str(",\"AllowedStores\":");
        push_address_array(&mut out, &self.allowed_stores);
        out.push_str(",\"Version\":");
        push_go_json_string(&mut out, &self.version);
        out.push('}');
        out
    }
}

/// Go encodes a `[16]byte` as a JSON array of decimal numbers.
fn push_byte_array(out: &mut String, bytes: &[u8]) {
    out.push('[');
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&b.to_string());
    }
    out.push(']');
}

/// Go encodes `common.Address` as a lower-case `0x` hex string. ABI-decoded lists are never
/// nil, so an empty list is `[]`.
fn push_address_array(out: &mut String, addrs: &[Address]) {
    out.push('[');
    for (i, a) in addrs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str("0x");
        for b in a.as_slice() {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out.push('"');
    }
    out.push(']');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as Go's `encoding/json` (Go ≥ 1.22, HTML escaping on) writes it: `<`, `>`,
/// `&`, U+2028 and U+2029 escaped as `\u00XX`/`\u20XX`; `\b \f \n \r \t` short forms; other
/// control characters as `\u00XX`. Rust strings are valid UTF-8, so Go's U+FFFD replacement
/// of invalid bytes never applies here.
fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let v = c as u32;
                out.push_str("\\u00");
                out.push(char::from(HEX[(v >> 4) as usize]));
                out.push(char::from(HEX[(v & 0xf) as usize]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, fixed_bytes};

    #[test]
    fn preimage_matches_go_json_layout() {
        let r = DataRecord::new(
            fixed_bytes!("0x0102030405060708090a0b0c0d0e0f10"),
            16103213,
            vec![address!("0xC8df3686b4Afb2BB53e60EAe97EF043FE03Fb829")],
            vec![],
            "default:v0:ethBundles".into(),
        );
        assert_eq!(
            r.id_preimage_json(),
            "{\"Id\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"Salt\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],\
             \"DecryptionCondition\":16103213,\"AllowedPeekers\":[\"0xc8df3686b4afb2bb53e60eae97ef043fe03fb829\"],\
             \"AllowedStores\":[],\"Version\":\"default:v0:ethBundles\"}"
        );
    }

    #[test]
    fn id_is_uuid_v5_layout_and_depends_on_every_field() {
        let base = DataRecord::new(DataId::ZERO, 1, vec![], vec![], "ns".into());
        assert_eq!(base.id[6] >> 4, 5, "version nibble");
        assert_eq!(base.id[8] >> 6, 0b10, "RFC 4122 variant");
        assert!(base.id_is_consistent());
        let variants = [
            DataRecord::new(DataId::repeat_byte(1), 1, vec![], vec![], "ns".into()),
            DataRecord::new(DataId::ZERO, 2, vec![], vec![], "ns".into()),
            DataRecord::new(DataId::ZERO, 1, vec![Address::ZERO], vec![], "ns".into()),
            DataRecord::new(DataId::ZERO, 1, vec![], vec![Address::ZERO], "ns".into()),
            DataRecord::new(DataId::ZERO, 1, vec![], vec![], "ns2".into()),
        ];
        for v in variants {
            assert_ne!(v.id, base.id);
        }
    }

    #[test]
    fn go_string_escaping() {
        let mut s = String::new();
        push_go_json_string(&mut s, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(s, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\u2028é\"");
    }

    #[test]
    fn peeker_wildcard() {
        let r = DataRecord::new(
            DataId::ZERO,
            0,
            vec![crate::constants::ANYALLOWED],
            vec![],
            "x".into(),
        );
        assert!(r.is_peeker(Address::repeat_byte(7)));
        let r = DataRecord::new(
            DataId::ZERO,
            0,
            vec![Address::repeat_byte(1)],
            vec![],
            "x".into(),
        );
        assert!(r.is_peeker(Address::repeat_byte(1)));
        assert!(!r.is_peeker(Address::repeat_byte(7)));
    }
}
