//! Store write sets on the wire, and their split by destination kettle.
//!
//! Only committed records and values travel: a [`StoreWriteSet`] has no field for a
//! request's confidential inputs or its `0x43`, unlike suave-geth's sync message.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{Address, Bytes};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use kettle_primitives::{DataId, DataRecord};
use suave_precompiles::{StoreWrite, StoreWriteSet};

/// One committed write set of the origin kettle, with its position in the origin's commit
/// log (for catch-up: a receiver knows which sequence numbers it has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSync {
    /// The origin's store commit sequence number of this write set.
    pub commit_seq: u64,
    /// The records and values (only those the destination may hold).
    pub write_set: StoreWriteSet,
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireRecord {
    id: DataId,
    salt: DataId,
    decryption_condition: u64,
    allowed_peekers: Vec<Address>,
    allowed_stores: Vec<Address>,
    version: String,
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireWrite {
    id: DataId,
    key: String,
    value: Bytes,
    caller: Address,
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireSync {
    commit_seq: u64,
    records: Vec<WireRecord>,
    writes: Vec<WireWrite>,
}

impl StoreSync {
    /// Encodes consecutive commits for one message (the envelope payload of
    /// [`crate::MessageKind::StoreWrites`]): an RLP list of [`StoreSync::encode`] items.
    pub fn encode_batch(batch: &[Self]) -> Vec<u8> {
        let wire: Vec<WireSync> = batch.iter().map(Self::to_wire).collect();
        alloy_rlp::encode(&wire)
    }

    /// Decodes [`StoreSync::encode_batch`] output; `None` on any malformed input.
    pub fn decode_batch(bytes: &[u8]) -> Option<Vec<Self>> {
        let wire: Vec<WireSync> = alloy_rlp::decode_exact(bytes).ok()?;
        Some(wire.into_iter().map(Self::from_wire).collect())
    }

    /// RLP encoding of one commit.
    pub fn encode(&self) -> Vec<u8> {
        alloy_rlp::encode(self.to_wire())
    }

    fn to_wire(&self) -> WireSync {
        WireSync {
            commit_seq: self.commit_seq,
            records: self
                .write_set
                .records
                .iter()
                .map(|r| WireRecord {
                    id: r.id,
                    salt: r.salt,
                    decryption_condition: r.decryption_condition,
                    allowed_peekers: r.allowed_peekers.clone(),
                    allowed_stores: r.allowed_stores.clone(),
                    version: r.version.clone(),
                })
                .collect(),
            writes: self
                .write_set
                .writes
                .iter()
                .map(|w| WireWrite {
                    id: w.id,
                    key: w.key.clone(),
                    value: w.value.clone(),
                    caller: w.caller,
                })
                .collect(),
        }
    }

    /// Decodes [`StoreSync::encode`] output; `None` on any malformed input (never panics).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let wire: WireSync = alloy_rlp::decode_exact(bytes).ok()?;
        Some(Self::from_wire(wire))
    }

    fn from_wire(wire: WireSync) -> Self {
        Self {
            commit_seq: wire.commit_seq,
            write_set: StoreWriteSet {
                records: wire
                    .records
                    .into_iter()
                    .map(|r| DataRecord {
                        id: r.id,
                        salt: r.salt,
                        decryption_condition: r.decryption_condition,
                        allowed_peekers: r.allowed_peekers,
                        allowed_stores: r.allowed_stores,
                        version: r.version,
                    })
                    .collect(),
                writes: wire
                    .writes
                    .into_iter()
                    .map(|w| StoreWrite {
                        id: w.id,
                        key: w.key,
                        value: w.value,
                        caller: w.caller,
                    })
                    .collect(),
            },
        }
    }
}

/// Splits a committed write set into one per destination kettle: each destination gets the
/// records whose allowed stores name it and the writes to those records. Writes to records
/// created by earlier requests are routed by `allowed_stores_of` (the store's metadata);
/// writes whose record is unknown there are not sent anywhere. `local` never appears as a
/// destination.
pub fn split_by_store(
    write_set: &StoreWriteSet,
    local: Address,
    allowed_stores_of: impl Fn(&DataId) -> Option<Vec<Address>>,
) -> BTreeMap<Address, StoreWriteSet> {
    let created: HashMap<DataId, &DataRecord> =
        write_set.records.iter().map(|r| (r.id, r)).collect();
    let mut out: BTreeMap<Address, StoreWriteSet> = BTreeMap::new();
    for record in &write_set.records {
        for store in record.allowed_stores.iter().filter(|s| **s != local) {
            out.entry(*store).or_default().records.push(record.clone());
        }
    }
    for write in &write_set.writes {
        let stores = match created.get(&write.id) {
            Some(r) => r.allowed_stores.clone(),
            None => allowed_stores_of(&write.id).unwrap_or_default(),
        };
        for store in stores.iter().filter(|s| **s != local) {
            out.entry(*store).or_default().writes.push(write.clone());
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloy_primitives::FixedBytes;

    pub(crate) fn record(id: u8, stores: &[Address]) -> DataRecord {
        DataRecord {
            id: FixedBytes::repeat_byte(id),
            salt: FixedBytes::repeat_byte(0xee),
            decryption_condition: 5,
            allowed_peekers: vec![Address::repeat_byte(0xaa)],
            allowed_stores: stores.to_vec(),
            version: "default:v0:test".into(),
        }
    }

    pub(crate) fn write(id: u8, value: &[u8]) -> StoreWrite {
        StoreWrite {
            id: FixedBytes::repeat_byte(id),
            key: "k".into(),
            value: Bytes::copy_from_slice(value),
            caller: Address::repeat_byte(0xaa),
        }
    }

    #[test]
    fn round_trip() {
        let s = StoreSync {
            commit_seq: 42,
            write_set: StoreWriteSet {
                records: vec![record(1, &[Address::repeat_byte(1)])],
                writes: vec![write(1, b"secret")],
            },
        };
        assert_eq!(StoreSync::decode(&s.encode()), Some(s.clone()));
        assert_eq!(StoreSync::decode(&[0xc1, 0x80]), None);
        let next = StoreSync {
            commit_seq: 43,
            write_set: StoreWriteSet::default(),
        };
        let batch = vec![s, next];
        assert_eq!(
            StoreSync::decode_batch(&StoreSync::encode_batch(&batch)),
            Some(batch)
        );
        assert_eq!(StoreSync::decode_batch(&[0xc1, 0x80]), None);
    }

    #[test]
    fn split_routes_by_allowed_stores() {
        let (a, b, c) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
        );
        let ws = StoreWriteSet {
            records: vec![record(1, &[a, b]), record(2, &[a, c])],
            writes: vec![
                write(1, b"for b"),
                write(2, b"for c"),
                write(9, b"old"),
                write(8, b"unknown"),
            ],
        };
        let old = FixedBytes::repeat_byte(9);
        let split = split_by_store(&ws, a, |id| (*id == old).then(|| vec![a, b, c]));
        assert_eq!(split.keys().copied().collect::<Vec<_>>(), vec![b, c]);
        let vals = |d: &Address| {
            split[d]
                .writes
                .iter()
                .map(|w| w.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            vals(&b),
            vec![Bytes::from_static(b"for b"), Bytes::from_static(b"old")]
        );
        assert_eq!(
            vals(&c),
            vec![Bytes::from_static(b"for c"), Bytes::from_static(b"old")]
        );
        assert_eq!(split[&b].records.len(), 1);
    }
}
