//! The kettle's keys: kept in a key file created on first start (mode 0600), never logged.
//!
//! One file holds the kettle's secp256k1 key (its address is the kettle address users send
//! requests to, and it signs the `0x50` transactions), the bundle-signing key
//! (`X-Flashbots-Signature`) and the BLS builder key. The confidential store's secret is
//! derived from the kettle key with HKDF, so the store cannot be opened without the key file.

use std::{fs, io::Write, path::Path};

use alloy_primitives::{hex, Address, B256};
use alloy_signer_local::PrivateKeySigner;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::NodeError;

/// The dev kettle's well-known key (suave-geth `--suave.dev`): address
/// 0xB5fEAfbDD752ad52Afb7e1bD2E40432A485bBB7F. Only for `kettle dev`.
pub const DEV_KETTLE_KEY: &str = "6c45335a22461ccdb978b78ab61b238bad2fae4544fb55c14eb096c875ccfc52";

/// The keys of one kettle.
pub struct KettleKeys {
    /// Signs `0x50` transactions; its address is the kettle address.
    pub kettle: PrivateKeySigner,
    /// Signs bundles and HTTP requests (`X-Flashbots-Signature`).
    pub bundle_signing: PrivateKeySigner,
    /// Secret material of the BLS builder key that signs relay bids (the key is derived from
    /// it with EIP-2333 `KeyGen`, so any 32 bytes give a valid key).
    pub bls: Secret32,
}

impl std::fmt::Debug for KettleKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KettleKeys")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

/// 32 secret bytes whose `Debug` never shows them; wiped on drop.
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Secret32(pub [u8; 32]);

impl std::fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    kettle_key: String,
    bundle_signing_key: String,
    bls_key: String,
}

impl KettleKeys {
    /// The kettle address.
    pub fn address(&self) -> Address {
        self.kettle.address()
    }

    /// Loads the key file at `path`, or creates it with fresh random keys (mode 0600).
    pub fn load_or_create(path: &Path) -> Result<Self, NodeError> {
        if path.exists() {
            return Self::load(path);
        }
        let keys = Self {
            kettle: PrivateKeySigner::random(),
            bundle_signing: PrivateKeySigner::random(),
            bls: Secret32(rand_bytes()),
        };
        keys.write(path)?;
        tracing::info!(path = %path.display(), address = %keys.address(), "created kettle key file");
        Ok(keys)
    }

    /// The dev kettle: the well-known dev key, other keys derived from it deterministically
    /// so dev runs are reproducible.
    pub fn dev() -> Self {
        let kettle: PrivateKeySigner = DEV_KETTLE_KEY.parse().expect("valid constant key");
        let seed = kettle.to_bytes();
        let bundle = derive(&seed.0, b"kettle/dev/bundle-signing-key");
        let bls = derive(&seed.0, b"kettle/dev/bls-key");
        Self {
            bundle_signing: PrivateKeySigner::from_bytes(&B256::from(bundle))
                .expect("derived key in range"),
            kettle,
            bls: Secret32(bls),
        }
    }

    fn load(path: &Path) -> Result<Self, NodeError> {
        check_private_file(path)?;
        let text = fs::read_to_string(path)
            .map_err(|e| NodeError::Keys(format!("{}: {e}", path.display())))?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| NodeError::Keys(format!("{}: {e}", path.display())))?;
        let parse = |name: &str, s: &str| -> Result<[u8; 32], NodeError> {
            let bytes =
                hex::decode(s.trim()).map_err(|_| NodeError::Keys(format!("{name} is not hex")))?;
            bytes
                .try_into()
                .map_err(|_| NodeError::Keys(format!("{name} must be 32 bytes")))
        };
        let signer = |name: &str, s: &str| -> Result<PrivateKeySigner, NodeError> {
            PrivateKeySigner::from_bytes(&B256::from(parse(name, s)?))
                .map_err(|_| NodeError::Keys(format!("{name} is not a valid secp256k1 key")))
        };
        Ok(Self {
            kettle: signer("kettle_key", &file.kettle_key)?,
            bundle_signing: signer("bundle_signing_key", &file.bundle_signing_key)?,
            bls: Secret32(parse("bls_key", &file.bls_key)?),
        })
    }

    fn write(&self, path: &Path) -> Result<(), NodeError> {
        let file = KeyFile {
            kettle_key: hex::encode(self.kettle.to_bytes()),
            bundle_signing_key: hex::encode(self.bundle_signing.to_bytes()),
            bls_key: hex::encode(self.bls.0),
        };
        let text =
            serde_json::to_string_pretty(&file).map_err(|e| NodeError::Keys(e.to_string()))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .map_err(|e| NodeError::Keys(format!("{}: {e}", dir.display())))?;
        }
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(path)
            .map_err(|e| NodeError::Keys(format!("{}: {e}", path.display())))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| NodeError::Keys(format!("{}: {e}", path.display())))
    }

    /// The confidential store's secret, derived from the kettle key.
    pub fn store_secret(&self) -> Secret32 {
        Secret32(derive(
            &self.kettle.to_bytes().0,
            b"kettle/confidential-store/v1",
        ))
    }
}

/// HKDF-SHA256 expansion of `ikm` for one purpose.
fn derive(ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let hk = Hkdf::<Sha256>::new(Some(b"kettle key derivation"), ikm);
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
    let _ = hk.expand(info, &mut out);
    out
}

fn rand_bytes() -> [u8; 32] {
    // 32 random bytes from the OS generator (a fresh secp256k1 key); the BLS key is derived
    // from them, not taken as a scalar.
    PrivateKeySigner::random().to_bytes().0
}

/// Refuses a file holding a secret (key file, configuration with a key) that its group or
/// other users may read or write: the error names the file and the fix (`chmod 600 <file>`).
#[cfg(unix)]
pub fn check_private_file(path: &Path) -> Result<(), NodeError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| NodeError::Keys(format!("{}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(NodeError::Keys(format!(
            "{} holds secret keys but is accessible to group or others (mode {:o}); \
             run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

/// Refuses a file holding a secret that others may read (no permission bits to check here).
#[cfg(not(unix))]
pub fn check_private_file(_path: &Path) -> Result<(), NodeError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("keys/kettle.json");
        let created = KettleKeys::load_or_create(&path).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = KettleKeys::load_or_create(&path).expect("load");
        assert_eq!(loaded.address(), created.address());
        assert_eq!(loaded.store_secret().0, created.store_secret().0);
        assert!(!format!("{loaded:?}").contains(&hex::encode(loaded.kettle.to_bytes())));
        assert_eq!(format!("{:?}", loaded.bls), "<redacted>");
    }

    #[test]
    fn world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("kettle.json");
        KettleKeys::load_or_create(&path).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for mode in [0o644, 0o640, 0o604, 0o620, 0o602] {
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
                let err = KettleKeys::load_or_create(&path).unwrap_err().to_string();
                assert!(
                    err.contains(&format!("chmod 600 {}", path.display())),
                    "mode {mode:o}: {err}"
                );
            }
            for mode in [0o600, 0o400] {
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
                KettleKeys::load_or_create(&path).expect("a private key file loads");
            }
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = KettleKeys::load_or_create(&dir.path().join("k.json")).expect("create");
        let secrets = [
            hex::encode(keys.kettle.to_bytes()),
            hex::encode(keys.bundle_signing.to_bytes()),
            hex::encode(keys.bls.0),
            hex::encode(keys.store_secret().0),
        ];
        let shown = [
            format!("{keys:?}"),
            format!("{keys:#?}"),
            format!("{:?}", keys.kettle),
            format!("{:?}", keys.bundle_signing),
            format!("{:?}", keys.bls),
            format!("{:?}", keys.store_secret()),
        ];
        for text in &shown {
            let lower = text.to_lowercase();
            for secret in &secrets {
                assert!(!lower.contains(secret), "key material in {text}");
            }
        }
        assert!(
            shown[0].contains(&format!("{:?}", keys.address())),
            "{}",
            shown[0]
        );
        assert_eq!(shown[4], "<redacted>");
        assert_eq!(shown[5], "<redacted>");
    }

    #[test]
    fn configured_keys_are_redacted_in_debug() {
        let coinbase = "11".repeat(32);
        let bundle = "22".repeat(32);
        let cfg = crate::NodeConfig::from_toml(&format!(
            "[builder]\ncoinbase_key = \"0x{coinbase}\"\n[http]\nbundle_signing_key = \"{bundle}\"\n"
        ))
        .expect("config");
        for shown in [format!("{cfg:?}"), format!("{cfg:#?}")] {
            assert!(
                !shown.contains(&coinbase) && !shown.contains(&bundle),
                "{shown}"
            );
            assert_eq!(shown.matches("<redacted>").count(), 2, "{shown}");
        }
    }

    #[test]
    fn dev_keys_are_the_dev_kettle() {
        assert_eq!(
            KettleKeys::dev().address(),
            kettle_primitives::DEV_KETTLE_ADDRESS
        );
    }
}
