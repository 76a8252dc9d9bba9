//! Strict RLP decoding helpers shared by the SUAVE transaction types.
//!
//! alloy-rlp already rejects non-canonical encodings item by item (leading zeros in integers
//! and in length-of-length, a single byte below `0x80` wrapped in a string header, long-form
//! lengths for payloads under 56 bytes, integers wider than their type, fixed-size byte
//! strings of the wrong length). This module adds what Go's `rlp.DecodeBytes` into a struct
//! also enforces: exact list item counts, strict booleans, nil-able addresses, signature
//! validity and no trailing bytes.

use crate::{
    constants::{CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE, MAX_ENCODED_TX_BYTES},
    error::DecodeError,
    signature::{validate_signature_values, Signature, SignatureValueError},
};
use alloy_primitives::{Address, U256};
use alloy_rlp::{Decodable, Encodable, Header, EMPTY_STRING_CODE};

/// Encoding of `true` in Go RLP.
const RLP_TRUE: u8 = 0x01;

/// Checks size, emptiness and type byte of a raw typed transaction and returns its RLP body.
pub(crate) fn strip_type_byte(raw: &[u8], expected: u8) -> Result<&[u8], DecodeError> {
    check_size(raw)?;
    let (&ty, body) = raw.split_first().ok_or(DecodeError::Empty)?;
    if ty == CONFIDENTIAL_COMPUTE_RECORD_TX_TYPE {
        return Err(DecodeError::UnsupportedTxType(ty));
    }
    if ty != expected {
        return Err(DecodeError::UnexpectedTxType {
            expected,
            found: ty,
        });
    }
    if body.is_empty() {
        return Err(DecodeError::TooShort);
    }
    Ok(body)
}

/// Rejects inputs above [`MAX_ENCODED_TX_BYTES`].
pub(crate) const fn check_size(raw: &[u8]) -> Result<(), DecodeError> {
    if raw.len() > MAX_ENCODED_TX_BYTES {
        return Err(DecodeError::TooLarge {
            len: raw.len(),
            max: MAX_ENCODED_TX_BYTES,
        });
    }
    Ok(())
}

/// Fails if anything is left after the top-level list.
pub(crate) const fn expect_end(rest: &[u8]) -> Result<(), DecodeError> {
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes {
            trailing: rest.len(),
        });
    }
    Ok(())
}

/// A cursor over the items of one RLP list whose item count has been checked.
pub(crate) struct ListDecoder<'a> {
    payload: &'a [u8],
}

impl<'a> ListDecoder<'a> {
    /// Reads a list header from `buf`, advances `buf` past the whole list and checks that the
    /// list holds exactly `expected` well-formed item headers.
    pub(crate) fn open(
        buf: &mut &'a [u8],
        list: &'static str,
        expected: usize,
    ) -> Result<Self, DecodeError> {
        let header = Header::decode(buf).map_err(|e| DecodeError::rlp(list, e))?;
        if !header.list {
            return Err(DecodeError::rlp(list, alloy_rlp::Error::UnexpectedString));
        }
        // `Header::decode` guarantees `buf` holds at least `payload_length` bytes; use the
        // checked form anyway so a future alloy change cannot turn into a panic.
        let input: &'a [u8] = buf;
        let payload = input
            .get(..header.payload_length)
            .ok_or(DecodeError::rlp(list, alloy_rlp::Error::InputTooShort))?;
        *buf = input.get(header.payload_length..).unwrap_or_default();

        let got = count_items(payload).map_err(|e| DecodeError::rlp(list, e))?;
        if got != expected {
            return Err(DecodeError::ListLength {
                list,
                expected,
                got,
            });
        }
        Ok(Self { payload })
    }

    /// Gives access to the remaining payload (to decode a nested list in place).
    pub(crate) const fn buf(&mut self) -> &mut &'a [u8] {
        &mut self.payload
    }

    /// Decodes the next item as `T` with alloy-rlp's canonical rules.
    pub(crate) fn field<T: Decodable>(&mut self, name: &'static str) -> Result<T, DecodeError> {
        T::decode(&mut self.payload).map_err(|e| DecodeError::rlp(name, e))
    }

    /// Decodes an optional address: the empty string (`0x80`) is `None`, otherwise exactly
    /// 20 bytes (Go's `*common.Address` with `rlp:"nil"`).
    pub(crate) fn optional_address(
        &mut self,
        name: &'static str,
    ) -> Result<Option<Address>, DecodeError> {
        if let Some(rest) = self.payload.strip_prefix(&[EMPTY_STRING_CODE]) {
            self.payload = rest;
            return Ok(None);
        }
        self.field::<Address>(name).map(Some)
    }

    /// Decodes a Go RLP boolean: exactly `0x80` (false) or `0x01` (true).
    pub(crate) fn bool(&mut self, name: &'static str) -> Result<bool, DecodeError> {
        let (&byte, rest) = self
            .payload
            .split_first()
            .ok_or(DecodeError::rlp(name, alloy_rlp::Error::InputTooShort))?;
        let value = match byte {
            EMPTY_STRING_CODE => false,
            RLP_TRUE => true,
            _ => return Err(DecodeError::InvalidBool { field: name }),
        };
        self.payload = rest;
        Ok(value)
    }

    /// Decodes `v, r, s` (three items) and enforces the SUAVE validity rules.
    pub(crate) fn signature(&mut self, name: &'static str) -> Result<Signature, DecodeError> {
        let v: U256 = self.field(name)?;
        let r: U256 = self.field(name)?;
        let s: U256 = self.field(name)?;
        let y_parity = if v.is_zero() {
            false
        } else if v == U256::from(1u8) {
            true
        } else {
            return Err(DecodeError::InvalidSignature {
                field: name,
                reason: SignatureValueError::InvalidV,
            });
        };
        let signature = Signature::new(r, s, y_parity);
        validate_signature_values(&signature).map_err(|reason| DecodeError::InvalidSignature {
            field: name,
            reason,
        })?;
        Ok(signature)
    }

    /// Asserts the cursor consumed the whole list. Item counts are checked on `open`, so this
    /// only catches a decoder that read fewer or more items than it declared.
    pub(crate) fn finish(self, list: &'static str) -> Result<(), DecodeError> {
        if self.payload.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::rlp(
                list,
                alloy_rlp::Error::Custom("list items left undecoded"),
            ))
        }
    }
}

/// Counts the items of a list payload, validating every item header on the way.
fn count_items(mut payload: &[u8]) -> Result<usize, alloy_rlp::Error> {
    let mut count = 0;
    while !payload.is_empty() {
        let header = Header::decode(&mut payload)?;
        payload = payload
            .get(header.payload_length..)
            .ok_or(alloy_rlp::Error::InputTooShort)?;
        count += 1;
    }
    Ok(count)
}

/// RLP length of an optional address (`None` is the empty string).
pub(crate) fn optional_address_len(to: &Option<Address>) -> usize {
    to.as_ref().map_or(1, Encodable::length)
}

/// Encodes an optional address (`None` as the empty string `0x80`).
pub(crate) fn encode_optional_address(to: &Option<Address>, out: &mut dyn alloy_rlp::BufMut) {
    match to {
        Some(address) => address.encode(out),
        None => out.put_u8(EMPTY_STRING_CODE),
    }
}

/// Writes a list header for a payload of `payload_length` bytes.
pub(crate) fn encode_list_header(payload_length: usize, out: &mut dyn alloy_rlp::BufMut) {
    Header {
        list: true,
        payload_length,
    }
    .encode(out);
}

/// Total encoded length of a list with the given payload length.
pub(crate) const fn list_len(payload_length: usize) -> usize {
    payload_length + alloy_rlp::length_of_length(payload_length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;
    use alloy_rlp::Encodable;

    fn open(bytes: &[u8], expected: usize) -> Result<ListDecoder<'_>, DecodeError> {
        let mut buf = bytes;
        ListDecoder::open(&mut buf, "test", expected)
    }

    #[test]
    fn counts_items_and_rejects_wrong_counts() {
        // [0x01, "ab", []]
        let list = hex!("c501826162c0");
        assert!(open(&list, 3).is_ok());
        assert!(matches!(
            open(&list, 2),
            Err(DecodeError::ListLength {
                expected: 2,
                got: 3,
                ..
            })
        ));
        assert!(matches!(
            open(&list, 4),
            Err(DecodeError::ListLength {
                expected: 4,
                got: 3,
                ..
            })
        ));
    }

    #[test]
    fn rejects_string_where_list_expected() {
        assert!(matches!(
            open(&hex!("820102"), 1),
            Err(DecodeError::Rlp {
                source: alloy_rlp::Error::UnexpectedString,
                ..
            })
        ));
    }

    #[test]
    fn rejects_truncated_item_inside_list() {
        // list claims 3 bytes payload holding a string header claiming 5 bytes
        assert!(open(&hex!("c3850102"), 1).is_err());
    }

    /// Wraps `items` (already RLP-encoded) in a list header.
    fn list_of(items: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_list_header(items.len(), &mut out);
        out.extend_from_slice(items);
        out
    }

    /// Opens a one-item list around `item` and runs `f` on it.
    fn with_item<R>(item: &[u8], f: impl FnOnce(&mut ListDecoder<'_>) -> R) -> R {
        let list = list_of(item);
        f(&mut open(&list, 1).unwrap())
    }

    #[test]
    fn bools_are_strict() {
        for (bytes, expected) in [(&[0x80u8][..], false), (&[0x01], true)] {
            let list = list_of(bytes);
            assert_eq!(open(&list, 1).unwrap().bool("b").unwrap(), expected);
        }
        for bad in [&[0x00u8][..], &[0x02], &[0x7f], &[0xc0], &[0x81, 0x80]] {
            let list = list_of(bad);
            let mut d = open(&list, 1).unwrap();
            assert!(
                matches!(d.bool("b"), Err(DecodeError::InvalidBool { .. })),
                "{bad:?}"
            );
        }
        // a single byte below 0x80 wrapped in a string header is caught by the item scan
        assert!(matches!(
            open(&list_of(&[0x81, 0x01]), 1),
            Err(DecodeError::Rlp {
                source: alloy_rlp::Error::NonCanonicalSingleByte,
                ..
            })
        ));
    }

    #[test]
    fn optional_address_forms() {
        assert_eq!(
            with_item(&[0x80], |d| d.optional_address("to")).unwrap(),
            None
        );
        let mut item = Vec::new();
        Address::with_last_byte(0xff).encode(&mut item);
        assert_eq!(
            with_item(&item, |d| d.optional_address("to")).unwrap(),
            Some(Address::with_last_byte(0xff))
        );
        // 19 and 21 bytes, and an empty list, are rejected
        for bad in [&[0xffu8; 19][..], &[0xff; 21][..]] {
            let mut item = Vec::new();
            bad.encode(&mut item);
            assert!(matches!(
                with_item(&item, |d| d.optional_address("to")),
                Err(DecodeError::Rlp {
                    source: alloy_rlp::Error::UnexpectedLength,
                    ..
                })
            ));
        }
        assert!(with_item(&[0xc0], |d| d.optional_address("to")).is_err());
    }

    #[test]
    fn signature_v_must_be_parity() {
        for (v, ok) in [(0x80u8, true), (0x01, true), (0x02, false), (0x1b, false)] {
            let list = [&[0xc3, v, 0x01, 0x01][..]].concat();
            let mut d = open(&list, 3).unwrap();
            let res = d.signature("sig");
            assert_eq!(res.is_ok(), ok, "v = {v:#x}");
            if !ok {
                assert!(matches!(
                    res,
                    Err(DecodeError::InvalidSignature {
                        reason: SignatureValueError::InvalidV,
                        ..
                    })
                ));
            }
        }
    }

    #[test]
    fn strip_type_byte_cases() {
        assert!(matches!(
            strip_type_byte(&[], 0x43),
            Err(DecodeError::Empty)
        ));
        assert!(matches!(
            strip_type_byte(&[0x43], 0x43),
            Err(DecodeError::TooShort)
        ));
        assert!(matches!(
            strip_type_byte(&[0x42, 0xc0], 0x43),
            Err(DecodeError::UnsupportedTxType(0x42))
        ));
        assert!(matches!(
            strip_type_byte(&[0x50, 0xc0], 0x43),
            Err(DecodeError::UnexpectedTxType {
                expected: 0x43,
                found: 0x50
            })
        ));
        let big = vec![0x43; MAX_ENCODED_TX_BYTES + 1];
        assert!(matches!(
            strip_type_byte(&big, 0x43),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
