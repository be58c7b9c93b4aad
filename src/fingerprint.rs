//! Fixed-size fingerprints of strings, for what the operator remembers of many objects only
//! to recognise them again: the shared role read, recent events, the owned objects it
//! wrote. Sixteen bytes and no allocation stand in for the strings themselves, which at a
//! thousand apps were most of the operator's live heap (heaptrack, bench/README.md).
//!
//! A fingerprint is the first 16 bytes of SHA-256 over the length-prefixed parts: two
//! different sequences of parts never share an encoding, and finding two with the same
//! fingerprint takes about 2^64 hashes, so wherever parts are compared their fingerprints
//! can be compared instead.

use sha2::{Digest, Sha256};

/// The fingerprint of a sequence of strings (see the module).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of `parts` (strings or bytes), in order.
    pub fn of<P: AsRef<[u8]>>(parts: impl IntoIterator<Item = P>) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            let part = part.as_ref();
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        Fingerprint(bytes)
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in &self.0[..6] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_parts_give_equal_fingerprints() {
        assert_eq!(
            Fingerprint::of(["role", "a"]),
            Fingerprint::of(["role", "a"])
        );
        assert_eq!(
            Fingerprint::of(["role", "a"]),
            Fingerprint::of([b"role".as_slice(), b"a"])
        );
    }

    #[test]
    fn where_the_parts_split_matters() {
        // Without the length prefix these two would hash the same bytes.
        assert_ne!(Fingerprint::of(["ab", "c"]), Fingerprint::of(["a", "bc"]));
        assert_ne!(Fingerprint::of(["a", ""]), Fingerprint::of(["a"]));
        assert_ne!(Fingerprint::of(["k", "v"]), Fingerprint::of(["v", "k"]));
    }

    #[test]
    fn it_prints_short() {
        let printed = format!("{:?}", Fingerprint::of(["x"]));
        assert_eq!(printed.chars().count(), 13, "{printed}");
    }
}
