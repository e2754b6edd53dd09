//! [`Rights`]: the RFC 4314 access rights, as IMAP's ACL commands spell them and
//! the directory stores a delegation's grant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of RFC 4314 §2.1 rights, `lrswipkxtea`, written (and stored) in that order.
/// The obsolete `c` and `d` (§2.1.1) are read as `k` and `xte` (the "latter group" of
/// §2.1.1, where DELETE needs `x`); [`Rights::for_clients`] adds them back for
/// RFC 2086 clients.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rights(u16);

impl Rights {
    /// The standard rights in their canonical order.
    const LETTERS: &'static str = "lrswipkxtea";
    pub const NONE: Rights = Rights(0);
    /// Every right: what an owner has on its own mailboxes.
    pub const ALL: Rights = Rights((1 << 11) - 1);
    /// Every right a clerk may be given: all but `a`.
    pub const DELEGABLE: Rights = Rights(Rights::ALL.0 & !Rights::ADMINISTER.0);
    pub const LOOKUP: Rights = Rights::bit(0);
    pub const READ: Rights = Rights::bit(1);
    pub const SEEN: Rights = Rights::bit(2);
    pub const WRITE: Rights = Rights::bit(3);
    pub const INSERT: Rights = Rights::bit(4);
    pub const POST: Rights = Rights::bit(5);
    pub const CREATE: Rights = Rights::bit(6);
    pub const DELETE_MAILBOX: Rights = Rights::bit(7);
    pub const DELETE_MESSAGES: Rights = Rights::bit(8);
    pub const EXPUNGE: Rights = Rights::bit(9);
    pub const ADMINISTER: Rights = Rights::bit(10);

    const fn bit(n: u16) -> Rights {
        Rights(1 << n)
    }

    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    pub fn difference(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rights of one letter; `c` and `d` stand for their members (§2.1.1).
    pub fn from_letter(letter: char) -> Option<Rights> {
        match letter {
            'c' => Some(Rights::CREATE),
            'd' => Some(
                Rights::DELETE_MAILBOX
                    .union(Rights::DELETE_MESSAGES)
                    .union(Rights::EXPUNGE),
            ),
            _ => Rights::LETTERS.find(letter).map(|i| Rights::bit(i as u16)),
        }
    }
}

/// A letter that is not an RFC 4314 right (the command is a BAD, §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRight(pub char);

impl fmt::Display for UnknownRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an RFC 4314 right", self.0)
    }
}

impl std::error::Error for UnknownRight {}

impl FromStr for Rights {
    type Err = UnknownRight;
    fn from_str(text: &str) -> std::result::Result<Rights, UnknownRight> {
        text.chars().try_fold(Rights::NONE, |rights, letter| {
            Rights::from_letter(letter)
                .map(|r| rights.union(r))
                .ok_or(UnknownRight(letter))
        })
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, letter) in Rights::LETTERS.chars().enumerate() {
            if self.contains(Rights::bit(i as u16)) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

impl Rights {
    /// The rights as IMAP responses give them: with `c` when `k` is held and `d`
    /// when any of `x t e` is (RFC 4314 §2.1.1), for clients that know only RFC 2086.
    pub fn for_clients(self) -> String {
        let mut text = self.to_string();
        if self.contains(Rights::CREATE) {
            text.push('c');
        }
        let delete = Rights::DELETE_MAILBOX
            .union(Rights::DELETE_MESSAGES)
            .union(Rights::EXPUNGE);
        if self.0 & delete.0 != 0 {
            text.push('d');
        }
        text
    }
}

impl fmt::Debug for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rights({self})")
    }
}

impl Serialize for Rights {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rights {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Rights, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_parse_and_print() {
        let all: Rights = "lrswipkxtea".parse().unwrap();
        assert_eq!(all, Rights::ALL);
        assert_eq!(all.to_string(), "lrswipkxtea");
        assert_eq!(all.for_clients(), "lrswipkxteacd");
        assert_eq!(Rights::DELEGABLE.to_string(), "lrswipkxte");
        assert_eq!("rl".parse::<Rights>().unwrap().to_string(), "lr");
        assert_eq!("rl".parse::<Rights>().unwrap().for_clients(), "lr");
        // RFC 4314 §2.1.1: c is k, d is x, t and e.
        assert_eq!("c".parse::<Rights>().unwrap(), Rights::CREATE);
        assert_eq!("d".parse::<Rights>().unwrap().to_string(), "xte");
        assert_eq!("t".parse::<Rights>().unwrap().for_clients(), "td");
        // What is written reads back as itself (no c or d to expand).
        for text in ["lrswited", "lrswipkxtecd", "kc"] {
            let rights: Rights = text.parse().unwrap();
            assert_eq!(rights.to_string().parse::<Rights>().unwrap(), rights);
        }
        assert_eq!("".parse::<Rights>().unwrap(), Rights::NONE);
        assert_eq!("lrz".parse::<Rights>(), Err(UnknownRight('z')));
        assert_eq!("L".parse::<Rights>(), Err(UnknownRight('L')));
        let lr = Rights::LOOKUP.union(Rights::READ);
        assert!(lr.contains(Rights::READ) && !lr.contains(Rights::INSERT));
        assert_eq!(Rights::ALL.difference(Rights::DELEGABLE), Rights::ADMINISTER);
    }
}
