//! Byte encodings of what gets sealed: record metadata and commit-log manifests.
//!
//! Hand-written, length-prefixed, big-endian, with a version byte in front, so the on-disk
//! format does not move when a serialization crate changes. Decoding checks every length
//! against the remaining input and never allocates more than the input could describe.

use alloy_primitives::Address;
use kettle_primitives::{DataId, DataRecord};

/// Version byte of encoded record metadata.
const RECORD_CODEC: u8 = 1;
/// Version byte of encoded commit manifests.
const MANIFEST_CODEC: u8 = 1;

/// One write as the commit log remembers it: which value, under which key, by whom. The
/// value itself lives (sealed) in `store_values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedWrite {
    /// Record written to.
    pub id: DataId,
    /// Key within the record.
    pub key: String,
    /// Effective caller that wrote it.
    pub caller: Address,
}

/// What one commit changed, as kept in the sealed commit log for sync catch-up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitManifest {
    /// Records the commit created (those already present are not listed).
    pub records: Vec<DataId>,
    /// Writes in commit order, after last-write-wins collapsing of repeated (id, key).
    pub writes: Vec<LoggedWrite>,
}

/// Encodes a record without its id (the id is the storage key and is bound as AAD).
pub(crate) fn encode_record(r: &DataRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        1 + 16
            + 8
            + 8
            + 20 * (r.allowed_peekers.len() + r.allowed_stores.len())
            + 4
            + r.version.len(),
    );
    out.push(RECORD_CODEC);
    out.extend_from_slice(r.salt.as_slice());
    out.extend_from_slice(&r.decryption_condition.to_be_bytes());
    put_addresses(&mut out, &r.allowed_peekers);
    put_addresses(&mut out, &r.allowed_stores);
    put_bytes(&mut out, r.version.as_bytes());
    out
}

/// Decodes what [`encode_record`] wrote, giving it back its `id`.
pub(crate) fn decode_record(id: DataId, bytes: &[u8]) -> Option<DataRecord> {
    let mut r = Reader(bytes);
    if r.u8()? != RECORD_CODEC {
        return None;
    }
    let salt = DataId::from_slice(r.take(16)?);
    let decryption_condition = r.u64()?;
    let allowed_peekers = r.addresses()?;
    let allowed_stores = r.addresses()?;
    let version = String::from_utf8(r.bytes()?.to_vec()).ok()?;
    r.end()?;
    Some(DataRecord {
        id,
        salt,
        decryption_condition,
        allowed_peekers,
        allowed_stores,
        version,
    })
}

/// Encodes a commit manifest.
pub(crate) fn encode_manifest(m: &CommitManifest) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        1 + 4 + 16 * m.records.len() + 4 + m.writes.iter().map(|w| 40 + w.key.len()).sum::<usize>(),
    );
    out.push(MANIFEST_CODEC);
    put_len(&mut out, m.records.len());
    for id in &m.records {
        out.extend_from_slice(id.as_slice());
    }
    put_len(&mut out, m.writes.len());
    for w in &m.writes {
        out.extend_from_slice(w.id.as_slice());
        out.extend_from_slice(w.caller.as_slice());
        put_bytes(&mut out, w.key.as_bytes());
    }
    out
}

/// Decodes what [`encode_manifest`] wrote.
pub(crate) fn decode_manifest(bytes: &[u8]) -> Option<CommitManifest> {
    let mut r = Reader(bytes);
    if r.u8()? != MANIFEST_CODEC {
        return None;
    }
    let n = r.count(16)?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        records.push(DataId::from_slice(r.take(16)?));
    }
    let n = r.count(16 + 20 + 4)?;
    let mut writes = Vec::with_capacity(n);
    for _ in 0..n {
        let id = DataId::from_slice(r.take(16)?);
        let caller = Address::from_slice(r.take(20)?);
        let key = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        writes.push(LoggedWrite { id, key, caller });
    }
    r.end()?;
    Some(CommitManifest { records, writes })
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    // Callers bound every length by configured limits far below 4 GiB.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}

fn put_addresses(out: &mut Vec<u8>, addrs: &[Address]) {
    put_len(out, addrs.len());
    for a in addrs {
        out.extend_from_slice(a.as_slice());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Some(u32::from_be_bytes(b))
    }

    fn u64(&mut self) -> Option<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Some(u64::from_be_bytes(b))
    }

    /// A count of items at least `min_item` bytes each, refused if the rest of the input
    /// cannot hold that many (so a corrupt count cannot trigger a huge allocation).
    fn count(&mut self, min_item: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(min_item)? <= self.0.len()).then_some(n)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn addresses(&mut self) -> Option<Vec<Address>> {
        let n = self.count(20)?;
        (0..n)
            .map(|_| self.take(20).map(Address::from_slice))
            .collect()
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DataRecord {
        DataRecord::new(
            DataId::repeat_byte(7),
            16103213,
            vec![Address::repeat_byte(1), Address::repeat_byte(2)],
            vec![Address::repeat_byte(3)],
            "default:v0:ethBundles".into(),
        )
    }

    #[test]
    fn record_roundtrip() {
        let r = record();
        let enc = encode_record(&r);
        assert_eq!(decode_record(r.id, &enc), Some(r.clone()));
        for cut in 0..enc.len() {
            assert_eq!(decode_record(r.id, &enc[..cut]), None, "truncated at {cut}");
        }
        let mut long = enc.clone();
        long.push(0);
        assert_eq!(decode_record(r.id, &long), None, "trailing bytes");
    }

    #[test]
    fn manifest_roundtrip() {
        let m = CommitManifest {
            records: vec![DataId::repeat_byte(1), DataId::repeat_byte(2)],
            writes: vec![
                LoggedWrite {
                    id: DataId::repeat_byte(1),
                    key: "a".into(),
                    caller: Address::repeat_byte(9),
                },
                LoggedWrite {
                    id: DataId::repeat_byte(2),
                    key: String::new(),
                    caller: Address::ZERO,
                },
            ],
        };
        let enc = encode_manifest(&m);
        assert_eq!(decode_manifest(&enc), Some(m));
        for cut in 0..enc.len() {
            assert_eq!(decode_manifest(&enc[..cut]), None);
        }
    }

    #[test]
    fn huge_counts_are_refused_without_allocating() {
        let mut enc = vec![MANIFEST_CODEC];
        enc.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode_manifest(&enc), None);
    }
}
