//! The kettle secret the store's keys are derived from.
//!
//! The secret never leaves this type except as HKDF input: it is not `Clone`, its `Debug`
//! and `Display` print `<redacted>`, and its bytes are zeroed when it is dropped.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::StoreOpenError;

/// The kettle's long-term secret, input keying material for every store key.
///
/// Why a wrapper: a `Vec<u8>` would print its bytes in a `Debug` log line and leave them in
/// freed memory; this type does neither.
pub struct KettleSecret(Zeroizing<Vec<u8>>);

impl KettleSecret {
    /// Shortest secret accepted, in bytes: full 256-bit entropy is expected.
    pub const MIN_LEN: usize = 32;

    /// Wraps `bytes` (at least [`KettleSecret::MIN_LEN`] long). The vector is moved in, so no
    /// unzeroed copy stays with the caller; on error it is zeroed before returning.
    pub fn new(bytes: Vec<u8>) -> Result<Self, StoreOpenError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < Self::MIN_LEN {
            return Err(StoreOpenError::SecretTooShort {
                len: bytes.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(Self(bytes))
    }

    /// Wraps a 32-byte secret; infallible because the length is right by construction. The
    /// local copy made here is zeroed; the caller's array is the caller's to zero.
    pub fn from_array(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret bytes, for key derivation inside this crate only.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for KettleSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for KettleSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = KettleSecret::from_array([0x41; 32]);
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
    }

    #[test]
    fn short_secret_is_refused() {
        let err = KettleSecret::new(vec![1; 31]).unwrap_err();
        assert!(matches!(
            err,
            StoreOpenError::SecretTooShort { len: 31, min: 32 }
        ));
        assert_eq!(KettleSecret::new(vec![1; 40]).unwrap().expose().len(), 40);
    }
}
