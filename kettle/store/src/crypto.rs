//! Keys, sealing and keyed hashes of the store.
//!
//! - **Key schedule.** HKDF-SHA256 with the store's random salt (`store_meta`/`kdf_salt`) as
//!   salt and the kettle secret as input keying material. Separate `info` strings give the
//!   key-check key, the index MAC key, the value-key MAC key and one AEAD key per *epoch*.
//! - **Epochs and nonces.** Every [`crate::open`] starts a new epoch: 32 fresh random bytes
//!   `E` are persisted (synced) in `store_meta` before anything is sealed, and the epoch's
//!   AEAD key is `HKDF(info = "kettle-store/v1/epoch-key" ‖ E)`. Within an epoch the 96-bit
//!   nonce is `epoch (u32 BE) ‖ counter (u64 BE)` with an in-memory counter that only grows,
//!   so a (key, nonce) pair is never used twice: the counter is unique within a process run
//!   and a new run gets a new, independent random key. Unlike a counter persisted across
//!   runs, this stays safe when the data directory is restored from an older copy (the
//!   restored run draws a fresh `E`), and unlike purely random 96-bit nonces it has no
//!   birthday bound on the number of seals.
//! - **AEAD.** AES-256-GCM from `ring` (measured ~4 GB/s per core for 1 KiB seals on this
//!   machine kind, 4× RustCrypto `aes-gcm`; see the crate docs).
//! - **Names.** Index keys and value keys are keyed hashes of what they name, so key
//!   strings, namespaces and decryption conditions never reach the disk. Index tags are
//!   HMAC-SHA256. Value keys, hashed on every get, are AES-256-CMAC since format 2 (about
//!   half the cost; [`cmac`]); a store created in format 1 keeps naming them with
//!   HMAC-SHA256 (a store keeps its format, see `layout::OLDEST_FORMAT_VERSION`).
//! - **Associated data.** A domain tag per kind of entry plus what names the entry (record id;
//!   record id and key string; origin and sequence number), so a sealed blob moved to another
//!   record, key or kind fails to open. Values of stores in format 2 on are sealed in seal
//!   format [`SEAL_VALUE_BY_NAME`]: they carry only their 16-byte on-disk name, the keyed hash
//!   of record id and key string, which binds them as tightly in a third of the bytes.

use std::sync::atomic::{AtomicU64, Ordering};

use alloy_primitives::Address;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use kettle_primitives::DataId;
use ring::aead::{self, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Sha256;
use suave_precompiles::StoreError;
use zeroize::Zeroizing;

use crate::error::StoreOpenError;
use crate::secret::KettleSecret;

mod cmac;

use cmac::Cmac;

/// Format byte in front of a sealed blob whose associated data is a domain tag and the names
/// of the entry (every kind of blob; values only until [`SEAL_VALUE_BY_NAME`]).
const SEAL_NAMED: u8 = 1;
/// Format byte of values sealed with their 16-byte on-disk name as the associated data: the
/// name is a keyed hash of (record id, key string), so it binds the blob to both as the
/// longer tagged form does, in one GHASH block instead of three for a short key (~30 ns
/// less per get). No other kind of blob has 16 bytes of associated data. Used for the values
/// of stores in format 2 on; format-1 stores keep [`SEAL_NAMED`] for theirs.
const SEAL_VALUE_BY_NAME: u8 = 2;
/// Bytes of the sealed-blob header: format, epoch, counter.
const HEADER_LEN: usize = 1 + 4 + 8;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Bytes a sealed blob adds to its plaintext.
pub(crate) const SEAL_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// Length of the random salt HKDF runs with (stored in `store_meta`).
pub(crate) const KDF_SALT_LEN: usize = 32;
/// Length of the random per-epoch value `E` (stored in `store_meta`).
pub(crate) const EPOCH_SEED_LEN: usize = 32;
/// Length of the keyed hash of (decryption condition, namespace) that prefixes index keys.
pub(crate) const INDEX_TAG_LEN: usize = 16;
/// Length of the keyed hash of a value's key string inside its record.
pub(crate) const VALUE_TAG_LEN: usize = cmac::CMAC_LEN;

const INFO_KEY_CHECK: &[u8] = b"kettle-store/v1/key-check";
const INFO_INDEX_MAC: &[u8] = b"kettle-store/v1/index-mac";
const INFO_VALUE_MAC: &[u8] = b"kettle-store/v1/value-key-mac";
const INFO_VALUE_CMAC: &[u8] = b"kettle-store/v2/value-key-cmac";
const INFO_EPOCH_KEY: &[u8] = b"kettle-store/v1/epoch-key";
/// Plaintext of the key-check value: opening it proves the secret (and salt) are right.
const KEY_CHECK_PLAINTEXT: &[u8] = b"kettle-store/v1 key check";

/// What a sealed blob belongs to; becomes the AEAD associated data.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Binding<'a> {
    /// Record metadata in `store_records`.
    Record(&'a DataId),
    /// A value in `store_values`: its record, key string and on-disk name (the keyed hash of
    /// both, [`Hashers::value_tag`]).
    Value {
        /// The record the value belongs to.
        id: &'a DataId,
        /// The value's key string.
        key: &'a str,
        /// The value's name on disk.
        name: &'a [u8; VALUE_TAG_LEN],
    },
    /// A commit-log manifest in `store_log`.
    Log(&'a Address, u64),
    /// The key-check value in `store_meta`.
    KeyCheck,
}

impl Binding<'_> {
    /// Calls `f` with the associated data of a blob of this binding in seal `format`, or
    /// returns `None` if no such blob exists (a value-by-name format on another kind).
    fn with_aad<R>(&self, format: u8, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match (format, self) {
            (SEAL_VALUE_BY_NAME, Binding::Value { name, .. }) => Some(f(&name[..])),
            (SEAL_NAMED, _) => Some(self.with_named_aad(f)),
            _ => None,
        }
    }

    /// Calls `f` with the associated data of [`SEAL_NAMED`]: domain tag ‖ the names of the
    /// entry. Built on the stack when it fits (always, but for very long key strings).
    fn with_named_aad<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let seq_bytes;
        let parts: [&[u8]; 3] = match self {
            Binding::Record(id) => [b"kettle-store/v1/record\0", id.as_slice(), &[]],
            Binding::Value { id, key, .. } => {
                [b"kettle-store/v1/value\0", id.as_slice(), key.as_bytes()]
            }
            Binding::Log(origin, seq) => {
                seq_bytes = seq.to_be_bytes();
                [b"kettle-store/v1/log\0", origin.as_slice(), &seq_bytes]
            }
            Binding::KeyCheck => [b"kettle-store/v1/key-check\0", &[], &[]],
        };
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut inline = [0u8; 160];
        if total <= inline.len() {
            let mut n = 0;
            for p in parts {
                inline[n..n + p.len()].copy_from_slice(p);
                n += p.len();
            }
            f(&inline[..n])
        } else {
            f(&parts.concat())
        }
    }
}

/// Draws `N` random bytes from the OS.
pub(crate) fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, StoreOpenError> {
    let mut out = Zeroizing::new([0u8; N]);
    SystemRandom::new()
        .fill(out.as_mut())
        .map_err(|_| StoreOpenError::Random)?;
    Ok(out)
}

/// HKDF over the kettle secret and the store's salt; lives only while the store opens.
pub(crate) struct Kdf(Hkdf<Sha256>);

impl Kdf {
    /// Extracts the pseudo-random key from `secret` with `salt`.
    pub(crate) fn new(salt: &[u8], secret: &KettleSecret) -> Self {
        Self(Hkdf::new(Some(salt), secret.expose()))
    }

    fn okm(&self, info: &[&[u8]]) -> Zeroizing<[u8; 32]> {
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expansion cannot fail.
        if self.0.expand_multi_info(info, okm.as_mut()).is_err() {
            unreachable!("HKDF-SHA256 expands 32 bytes");
        }
        okm
    }

    fn aead_key(&self, info: &[&[u8]]) -> LessSafeKey {
        let okm = self.okm(info);
        match UnboundKey::new(&AES_256_GCM, okm.as_ref()) {
            Ok(k) => LessSafeKey::new(k),
            Err(_) => unreachable!("AES-256-GCM takes 32-byte keys"),
        }
    }

    fn mac(&self, info: &[u8]) -> Hmac<Sha256> {
        let okm = self.okm(&[info]);
        match Hmac::<Sha256>::new_from_slice(okm.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// The key that seals the key-check value.
    pub(crate) fn key_check(&self) -> KeyCheck {
        KeyCheck(self.aead_key(&[INFO_KEY_CHECK]))
    }

    /// The AEAD key of the epoch whose random seed is `seed`.
    pub(crate) fn epoch_key(&self, seed: &[u8]) -> LessSafeKey {
        self.aead_key(&[INFO_EPOCH_KEY, seed])
    }

    /// The keyed hashes used to name index and value entries of a store in `names`.
    pub(crate) fn hashers(&self, names: ValueNames) -> Hashers {
        let value = match names {
            ValueNames::HmacSha256 => ValueNamer::HmacSha256(self.mac(INFO_VALUE_MAC)),
            ValueNames::AesCmac => {
                ValueNamer::AesCmac(Box::new(Cmac::new(&self.okm(&[INFO_VALUE_CMAC]))))
            }
        };
        Hashers {
            index: self.mac(INFO_INDEX_MAC),
            value,
        }
    }
}

/// Seals and checks the value that tells a right secret from a wrong one at open time.
pub(crate) struct KeyCheck(LessSafeKey);

impl KeyCheck {
    /// A fresh key-check value: random nonce ‖ ciphertext ‖ tag. Written once per store, so a
    /// random nonce under this dedicated key cannot repeat in practice.
    pub(crate) fn seal(&self) -> Result<Vec<u8>, StoreOpenError> {
        let nonce = random::<12>()?;
        let mut out = nonce.to_vec();
        let mut body = KEY_CHECK_PLAINTEXT.to_vec();
        let tag = Binding::KeyCheck
            .with_named_aad(|aad| {
                self.0.seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    aead::Aad::from(aad),
                    &mut body,
                )
            })
            .map_err(|_| StoreOpenError::Corrupt("sealing the key check failed".into()))?;
        out.extend_from_slice(&body);
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Whether `stored` opens under this key (i.e. the kettle secret is the one it was made with).
    pub(crate) fn verify(&self, stored: &[u8]) -> bool {
        if stored.len() < 12 + TAG_LEN {
            return false;
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&stored[..12]);
        let mut body = stored[12..].to_vec();
        Binding::KeyCheck.with_named_aad(|aad| {
            match self.0.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                &mut body,
            ) {
                Ok(pt) => pt == KEY_CHECK_PLAINTEXT,
                Err(_) => false,
            }
        })
    }
}

/// The sealed blob did not authenticate or is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFailed;

/// AEAD sealing with per-epoch keys and counter nonces (see the module docs).
pub(crate) struct Sealer {
    /// Keys of all epochs so far, indexed by epoch number; the last one is current.
    epochs: Vec<LessSafeKey>,
    /// Next counter value of the current epoch.
    counter: AtomicU64,
    /// Seal format of new values: [`SEAL_VALUE_BY_NAME`] in stores of format 2 on,
    /// [`SEAL_NAMED`] in format-1 stores, so that builds from before format 2 still read
    /// every value of a store they made.
    value_seal: u8,
}

impl Sealer {
    /// A sealer over the keys of epochs `0..keys.len()`, sealing under the last one, for a
    /// store whose values are named by `names` (which fixes how values are sealed too).
    pub(crate) fn new(epochs: Vec<LessSafeKey>, names: ValueNames) -> Self {
        debug_assert!(!epochs.is_empty());
        Self {
            epochs,
            counter: AtomicU64::new(0),
            value_seal: match names {
                ValueNames::HmacSha256 => SEAL_NAMED,
                ValueNames::AesCmac => SEAL_VALUE_BY_NAME,
            },
        }
    }

    fn current_epoch(&self) -> u32 {
        // `open` refuses to create more than u32::MAX epochs, so this cannot truncate.
        u32::try_from(self.epochs.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Seals `plaintext` bound to `binding`: `format ‖ epoch ‖ counter ‖ ciphertext ‖ tag`.
    pub(crate) fn seal(
        &self,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let format = match binding {
            Binding::Value { .. } => self.value_seal,
            _ => SEAL_NAMED,
        };
        self.seal_as(format, binding, plaintext)
    }

    /// A blob the way builds before [`SEAL_VALUE_BY_NAME`] sealed every kind (for tests of
    /// stores written by them).
    #[cfg(test)]
    pub(crate) fn seal_named(
        &self,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        self.seal_as(SEAL_NAMED, binding, plaintext)
    }

    /// [`Sealer::seal`] in seal format `format` (tests make older formats' blobs with it).
    fn seal_as(
        &self,
        format: u8,
        binding: Binding<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let counter = self
            .counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_add(1))
            .map_err(|_| StoreError::Backend("nonce counter exhausted; reopen the store".into()))?;
        let epoch = self.current_epoch();
        let key = self
            .epochs
            .last()
            .ok_or_else(|| StoreError::Backend("no sealing key".into()))?;
        let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
        out.push(format);
        out.extend_from_slice(&epoch.to_be_bytes());
        out.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(plaintext);
        let nonce = nonce_of(&out);
        let tag = binding
            .with_aad(format, |aad| {
                key.seal_in_place_separate_tag(nonce, aead::Aad::from(aad), &mut out[HEADER_LEN..])
            })
            .and_then(Result::ok)
            .ok_or_else(|| StoreError::Backend("sealing failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a blob made by [`Sealer::seal`] with the same binding.
    pub(crate) fn open(&self, binding: Binding<'_>, sealed: &[u8]) -> Result<Vec<u8>, OpenFailed> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(OpenFailed);
        }
        let mut epoch = [0u8; 4];
        epoch.copy_from_slice(&sealed[1..5]);
        let epoch = u32::from_be_bytes(epoch) as usize;
        let key = self.epochs.get(epoch).ok_or(OpenFailed)?;
        let nonce = nonce_of(sealed);
        let (ciphertext, tag) = sealed[HEADER_LEN..].split_at(sealed.len() - SEAL_OVERHEAD);
        let tag = aead::Tag::try_from(tag).map_err(|_| OpenFailed)?;
        // Exactly the plaintext's size, so the caller can turn it into `Bytes` without a
        // reallocation.
        let mut body = ciphertext.to_vec();
        match binding.with_aad(sealed[0], |aad| {
            key.open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag, &mut body, 0..)
                .map(|_| ())
        }) {
            Some(Ok(())) => Ok(body),
            _ => Err(OpenFailed),
        }
    }
}

fn nonce_of(header: &[u8]) -> Nonce {
    let mut n = [0u8; 12];
    n.copy_from_slice(&header[1..HEADER_LEN]);
    Nonce::assume_unique_for_key(n)
}

/// Which keyed hash names values: fixed by the store's on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueNames {
    /// `HMAC-SHA256(k, id ‖ key)[..16]` (format 1).
    HmacSha256,
    /// `AES-256-CMAC(k, id ‖ key)` (format 2 on).
    AesCmac,
}

/// The value-naming hash with its key.
#[derive(Clone)]
enum ValueNamer {
    HmacSha256(Hmac<Sha256>),
    /// Boxed: the expanded key is about 1 KiB (`aes` keeps a portable fallback's schedule).
    AesCmac(Box<Cmac>),
}

/// Keyed hashes that name entries without revealing what they name.
#[derive(Clone)]
pub(crate) struct Hashers {
    index: Hmac<Sha256>,
    value: ValueNamer,
}

impl Hashers {
    /// Prefix of every index key of records under (`decryption_condition`, `namespace`):
    /// `HMAC(k_index, cond (u64 BE) ‖ namespace)[..16]`.
    pub(crate) fn index_tag(
        &self,
        decryption_condition: u64,
        namespace: &str,
    ) -> [u8; INDEX_TAG_LEN] {
        let mut m = self.index.clone();
        m.update(&decryption_condition.to_be_bytes());
        m.update(namespace.as_bytes());
        let full = m.finalize().into_bytes();
        let mut out = [0u8; INDEX_TAG_LEN];
        out.copy_from_slice(&full[..INDEX_TAG_LEN]);
        out
    }

    /// Names `key` within record `id`: the keyed hash of `id ‖ key` ([`ValueNames`]). The id
    /// is hashed in so equal key strings in different records are not linkable on disk.
    pub(crate) fn value_tag(&self, id: &DataId, key: &str) -> [u8; VALUE_TAG_LEN] {
        match &self.value {
            ValueNamer::AesCmac(c) => c.tag(&[id.as_slice(), key.as_bytes()]),
            ValueNamer::HmacSha256(mac) => {
                let mut m = mac.clone();
                m.update(id.as_slice());
                m.update(key.as_bytes());
                let full = m.finalize().into_bytes();
                let mut out = [0u8; VALUE_TAG_LEN];
                out.copy_from_slice(&full[..VALUE_TAG_LEN]);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kdf(secret_byte: u8) -> Kdf {
        Kdf::new(&[9u8; 32], &KettleSecret::from_array([secret_byte; 32]))
    }

    fn sealer(k: &Kdf) -> Sealer {
        Sealer::new(
            vec![k.epoch_key(&[1u8; 32]), k.epoch_key(&[2u8; 32])],
            ValueNames::AesCmac,
        )
    }

    /// The on-disk name of (`id`, `key`) under `k`.
    fn name(k: &Kdf, id: &DataId, key: &str) -> [u8; VALUE_TAG_LEN] {
        k.hashers(ValueNames::AesCmac).value_tag(id, key)
    }

    fn value<'a>(id: &'a DataId, key: &'a str, name: &'a [u8; VALUE_TAG_LEN]) -> Binding<'a> {
        Binding::Value { id, key, name }
    }

    #[test]
    fn seal_open_roundtrip_and_layout() {
        let k = kdf(1);
        let s = sealer(&k);
        let id = DataId::repeat_byte(3);
        let n = name(&k, &id, "k");
        let sealed = s.seal(value(&id, "k", &n), b"hello").unwrap();
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(sealed[0], SEAL_VALUE_BY_NAME);
        assert_eq!(
            &sealed[1..5],
            &1u32.to_be_bytes(),
            "sealed under the last epoch"
        );
        assert_eq!(s.open(value(&id, "k", &n), &sealed).unwrap(), b"hello");
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        let record = s.seal(Binding::Record(&id), b"meta").unwrap();
        assert_eq!(record[0], SEAL_NAMED);
        assert_eq!(s.open(Binding::Record(&id), &record).unwrap(), b"meta");
        // A format-1 store's sealer keeps sealing values the way format 1 did.
        let old = Sealer::new(vec![k.epoch_key(&[1u8; 32])], ValueNames::HmacSha256);
        let sealed = old.seal(value(&id, "k", &n), b"hello").unwrap();
        assert_eq!(sealed[0], SEAL_NAMED);
        assert_eq!(old.open(value(&id, "k", &n), &sealed).unwrap(), b"hello");
    }

    #[test]
    fn nonces_never_repeat_within_an_epoch() {
        let k = kdf(1);
        let s = sealer(&k);
        let id = DataId::ZERO;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let sealed = s.seal(Binding::Record(&id), b"x").unwrap();
            assert!(seen.insert(sealed[..HEADER_LEN].to_vec()));
        }
    }

    #[test]
    fn binding_is_enforced() {
        let k = kdf(1);
        let s = sealer(&k);
        let a = DataId::repeat_byte(1);
        let b = DataId::repeat_byte(2);
        let (ak, bk, az) = (
            name(&k, &a, "key"),
            name(&k, &b, "key"),
            name(&k, &a, "kez"),
        );
        // Both seal formats of a value: by name (new) and named in full (stores before it).
        for format in [SEAL_VALUE_BY_NAME, SEAL_NAMED] {
            let sealed = s.seal_as(format, value(&a, "key", &ak), b"v").unwrap();
            assert_eq!(sealed[0], format);
            assert_eq!(s.open(value(&a, "key", &ak), &sealed).unwrap(), b"v");
            assert_eq!(s.open(value(&b, "key", &bk), &sealed), Err(OpenFailed));
            assert_eq!(s.open(value(&a, "kez", &az), &sealed), Err(OpenFailed));
            assert_eq!(s.open(Binding::Record(&a), &sealed), Err(OpenFailed));
            // A flipped bit anywhere fails, the format byte included.
            for i in 0..sealed.len() {
                let mut t = sealed.clone();
                t[i] ^= 1;
                assert_eq!(
                    s.open(value(&a, "key", &ak), &t),
                    Err(OpenFailed),
                    "format {format}, byte {i}"
                );
            }
            let mut other = sealed.clone();
            other[0] = SEAL_NAMED + SEAL_VALUE_BY_NAME - format;
            assert_eq!(s.open(value(&a, "key", &ak), &other), Err(OpenFailed));
            assert_eq!(
                s.open(value(&a, "key", &ak), &sealed[..10]),
                Err(OpenFailed)
            );
        }
        let origin = Address::repeat_byte(5);
        let log = s.seal(Binding::Log(&origin, 7), b"m").unwrap();
        assert_eq!(s.open(Binding::Log(&origin, 8), &log), Err(OpenFailed));
        // The by-name format exists only for values.
        let mut log_by_name = log.clone();
        log_by_name[0] = SEAL_VALUE_BY_NAME;
        assert_eq!(
            s.open(Binding::Log(&origin, 7), &log_by_name),
            Err(OpenFailed)
        );
        assert!(s
            .seal_as(SEAL_VALUE_BY_NAME, Binding::Record(&a), b"m")
            .is_err());
    }

    #[test]
    fn older_epochs_still_open_and_wrong_secret_does_not() {
        let k = kdf(1);
        let old = Sealer::new(vec![k.epoch_key(&[1u8; 32])], ValueNames::AesCmac);
        let id = DataId::ZERO;
        let sealed = old.seal(Binding::Record(&id), b"meta").unwrap();
        assert_eq!(
            sealer(&k).open(Binding::Record(&id), &sealed).unwrap(),
            b"meta"
        );
        assert_eq!(
            sealer(&kdf(2)).open(Binding::Record(&id), &sealed),
            Err(OpenFailed)
        );
    }

    #[test]
    fn key_check_tells_secrets_apart() {
        let stored = kdf(1).key_check().seal().unwrap();
        assert!(kdf(1).key_check().verify(&stored));
        assert!(!kdf(2).key_check().verify(&stored));
        assert!(!kdf(1).key_check().verify(&stored[..5]));
    }

    #[test]
    fn hashes_are_keyed_and_separate() {
        for names in [ValueNames::HmacSha256, ValueNames::AesCmac] {
            let h1 = kdf(1).hashers(names);
            let h2 = kdf(2).hashers(names);
            assert_eq!(h1.index_tag(1, "ns"), h1.index_tag(1, "ns"));
            assert_ne!(h1.index_tag(1, "ns"), h2.index_tag(1, "ns"));
            assert_ne!(h1.index_tag(1, "ns"), h1.index_tag(2, "ns"));
            let a = DataId::repeat_byte(1);
            let b = DataId::repeat_byte(2);
            assert_eq!(h1.value_tag(&a, "k"), h1.value_tag(&a, "k"));
            assert_ne!(h1.value_tag(&a, "k"), h1.value_tag(&b, "k"));
            assert_ne!(h1.value_tag(&a, "k"), h1.value_tag(&a, "kk"));
            assert_ne!(h1.value_tag(&a, "k"), h2.value_tag(&a, "k"));
        }
    }

    /// Value names are exactly what the format says, recomputed with the `hmac` and `cmac`
    /// crates from the HKDF output: format 1's names must stay stable for existing stores.
    #[test]
    fn value_names_of_each_format() {
        let salt = [9u8; 32];
        let secret = [1u8; 32];
        let okm = |info: &[u8]| {
            let mut k = [0u8; 32];
            Hkdf::<Sha256>::new(Some(&salt), &secret)
                .expand(info, &mut k)
                .expect("32 bytes");
            k
        };
        let id = DataId::repeat_byte(0xab);
        let key = "default:v0:ethBundles";
        let k = kdf(1);

        let mut hmac = <Hmac<Sha256> as Mac>::new_from_slice(&okm(INFO_VALUE_MAC)).expect("key");
        hmac.update(id.as_slice());
        hmac.update(key.as_bytes());
        let want = hmac.finalize().into_bytes();
        let got = k.hashers(ValueNames::HmacSha256).value_tag(&id, key);
        assert_eq!(got[..], want[..VALUE_TAG_LEN]);

        let mut cmac =
            <::cmac::Cmac<aes::Aes256> as Mac>::new_from_slice(&okm(INFO_VALUE_CMAC)).expect("key");
        cmac.update(id.as_slice());
        cmac.update(key.as_bytes());
        let want = cmac.finalize().into_bytes();
        assert_eq!(
            k.hashers(ValueNames::AesCmac).value_tag(&id, key)[..],
            want[..]
        );
        assert_ne!(got, k.hashers(ValueNames::AesCmac).value_tag(&id, key));
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use std::time::Instant;

    /// Per-operation cost of the crypto on the read path; run with
    /// `cargo test -p kettle-store --release --lib -- --ignored --nocapture crypto_costs`.
    #[test]
    #[ignore = "timing, not a check"]
    fn crypto_costs() {
        let k = Kdf::new(&[9u8; 32], &KettleSecret::from_array([1; 32]));
        let s = Sealer::new(vec![k.epoch_key(&[1u8; 32])], ValueNames::AesCmac);
        let id = DataId::repeat_byte(3);
        let v = vec![7u8; 1024];
        let n = 200_000u32;
        for names in [ValueNames::HmacSha256, ValueNames::AesCmac] {
            let h = k.hashers(names);
            let t = Instant::now();
            for i in 0..n {
                std::hint::black_box(
                    h.value_tag(&id, if i % 2 == 0 { "key-1234" } else { "key-4321" }),
                );
            }
            println!("value_tag ({names:?}): {:?}", t.elapsed() / n);
        }
        let rk = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[5u8; 32]);
        let t = Instant::now();
        for i in 0..n {
            let mut c = ring::hmac::Context::with_key(&rk);
            c.update(id.as_slice());
            c.update(if i % 2 == 0 { b"key-1234" } else { b"key-4321" });
            std::hint::black_box(c.sign());
        }
        println!("value_tag (ring hmac): {:?}", t.elapsed() / n);
        let nm = k.hashers(ValueNames::AesCmac).value_tag(&id, "key-1234");
        let sealed = s
            .seal(
                Binding::Value {
                    id: &id,
                    key: "key-1234",
                    name: &nm,
                },
                &v,
            )
            .unwrap();
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                s.seal(
                    Binding::Value {
                        id: &id,
                        key: "key-1234",
                        name: &nm,
                    },
                    &v,
                )
                .unwrap(),
            );
        }
        println!("seal 1 KiB: {:?}", t.elapsed() / n);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                s.open(
                    Binding::Value {
                        id: &id,
                        key: "key-1234",
                        name: &nm,
                    },
                    &sealed,
                )
                .unwrap(),
            );
        }
        println!("open 1 KiB: {:?}", t.elapsed() / n);
    }
}
