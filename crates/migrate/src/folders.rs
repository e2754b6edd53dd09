//! Where a source folder goes in our store.
//!
//! 1. A folder with an RFC 6154 attribute (`\Sent`, `\Drafts`, `\Trash`, `\Junk`,
//!    `\Archive`) goes to the account's mailbox with that special use, whatever its
//!    name. `\All` and `\Flagged` are virtual views of other folders (RFC 6154 §2)
//!    and are skipped: importing them would copy every message twice.
//! 2. Without an attribute, the usual English and Vietnamese names of those folders
//!    (compared case-insensitively, in Unicode NFC, so a name typed on a Mac in NFD
//!    still matches) go to the same mailboxes; `INBOX` in any case is our INBOX.
//! 3. Other folders keep their name, the source's delimiter becoming our `/`; a `/`
//!    inside one level of a source that does not use it as delimiter becomes `-`,
//!    so it does not invent a level.

use congvu_store::{AccountId, DEFAULT_MAILBOXES, HIERARCHY_SEPARATOR, MailStore, MailboxInfo, SpecialUse};
use unicode_normalization::UnicodeNormalization;

use crate::Result;

/// The names recognised without an attribute, in lower case and NFC.
const USUAL_NAMES: [(&str, SpecialUse); 21] = [
    ("sent", SpecialUse::Sent),
    ("sent items", SpecialUse::Sent),
    ("sent messages", SpecialUse::Sent),
    ("sent mail", SpecialUse::Sent),
    ("thư đã gửi", SpecialUse::Sent),
    ("đã gửi", SpecialUse::Sent),
    ("drafts", SpecialUse::Drafts),
    ("thư nháp", SpecialUse::Drafts),
    ("nháp", SpecialUse::Drafts),
    ("trash", SpecialUse::Trash),
    ("deleted items", SpecialUse::Trash),
    ("deleted messages", SpecialUse::Trash),
    ("thùng rác", SpecialUse::Trash),
    ("thư đã xóa", SpecialUse::Trash),
    ("thư đã xoá", SpecialUse::Trash),
    ("junk", SpecialUse::Junk),
    ("spam", SpecialUse::Junk),
    ("junk e-mail", SpecialUse::Junk),
    ("thư rác", SpecialUse::Junk),
    ("archive", SpecialUse::Archive),
    ("lưu trữ", SpecialUse::Archive),
];

/// Where a source folder's messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Inbox,
    /// The account's mailbox with this special use, made with our default name when
    /// the account has none.
    Special(SpecialUse),
    /// A mailbox by its stored name (`/`-separated), made when missing.
    Named(String),
    /// A virtual folder (`\All`, `\Flagged`): not imported.
    Skip,
}

/// Maps a source folder (UTF-8 name, the source's delimiter, its attribute) to ours.
pub fn map_folder(name: &str, delimiter: Option<char>, special_use: Option<SpecialUse>) -> Target {
    match special_use {
        Some(SpecialUse::All | SpecialUse::Flagged) => return Target::Skip,
        Some(special) => return Target::Special(special),
        None => {}
    }
    if name.eq_ignore_ascii_case("INBOX") {
        return Target::Inbox;
    }
    let folded: String = name.trim().nfc().collect::<String>().to_lowercase();
    if let Some((_, special)) = USUAL_NAMES.iter().find(|(usual, _)| *usual == folded) {
        return Target::Special(*special);
    }
    let levels: Vec<String> = match delimiter {
        Some(delimiter) if delimiter != HIERARCHY_SEPARATOR => name
            .split(delimiter)
            .map(|level| level.replace(HIERARCHY_SEPARATOR, "-"))
            .collect(),
        _ => name.split(HIERARCHY_SEPARATOR).map(str::to_owned).collect(),
    };
    let separator = HIERARCHY_SEPARATOR.to_string();
    Target::Named(
        levels
            .into_iter()
            .filter(|level| !level.is_empty())
            .collect::<Vec<_>>()
            .join(&separator),
    )
}

/// Our default name for a special-use mailbox (`Sent`, …).
pub fn default_name(special: SpecialUse) -> &'static str {
    DEFAULT_MAILBOXES
        .iter()
        .find(|(_, use_)| *use_ == Some(special))
        .map(|(name, _)| *name)
        // `\All` and `\Flagged`, which the store does not create: the attribute's word.
        .unwrap_or_else(|| special.attribute().trim_start_matches('\\'))
}

/// The mailbox a target names in the account, made when missing; `None` for
/// [`Target::Skip`].
pub fn resolve(store: &dyn MailStore, account: AccountId, target: &Target) -> Result<Option<MailboxInfo>> {
    let name = match target {
        Target::Skip => return Ok(None),
        Target::Inbox => "INBOX",
        Target::Named(name) => name.as_str(),
        Target::Special(special) => {
            if let Some(found) = store
                .list_mailboxes(account)?
                .into_iter()
                .find(|mailbox| mailbox.special_use == Some(*special))
            {
                return Ok(Some(found));
            }
            default_name(*special)
        }
    };
    if let Some(found) = store.mailbox_by_name(account, name)? {
        return Ok(Some(found));
    }
    let special = match target {
        Target::Special(special) => Some(*special),
        _ => None,
    };
    let id = store.create_mailbox(account, name, special)?;
    store
        .mailbox(id)?
        .map(Some)
        .ok_or_else(|| congvu_store::StoreError::NotFound(format!("mailbox {name}")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_names_in_english_and_vietnamese() {
        let cases = [
            ("Sent Items", SpecialUse::Sent),
            ("SENT MAIL", SpecialUse::Sent),
            ("Thư đã gửi", SpecialUse::Sent),
            ("THƯ ĐÃ GỬI", SpecialUse::Sent),
            ("Đã gửi", SpecialUse::Sent),
            ("Thư nháp", SpecialUse::Drafts),
            ("Deleted Items", SpecialUse::Trash),
            ("Thư đã xóa", SpecialUse::Trash),
            ("Thư đã xoá", SpecialUse::Trash),
            ("Thùng rác", SpecialUse::Trash),
            ("Junk E-mail", SpecialUse::Junk),
            ("spam", SpecialUse::Junk),
            ("Thư rác", SpecialUse::Junk),
            ("Lưu trữ", SpecialUse::Archive),
        ];
        for (name, special) in cases {
            assert_eq!(
                map_folder(name, Some('.'), None),
                Target::Special(special),
                "{name}"
            );
        }
        // The same name in NFD (as a Mac writes it) is the same folder.
        let decomposed: String = "Thư đã gửi".nfd().collect();
        assert_ne!(decomposed, "Thư đã gửi");
        assert_eq!(
            map_folder(&decomposed, None, None),
            Target::Special(SpecialUse::Sent)
        );
    }

    #[test]
    fn attributes_win_and_virtual_folders_are_skipped() {
        assert_eq!(
            map_folder("Gesendet", Some('/'), Some(SpecialUse::Sent)),
            Target::Special(SpecialUse::Sent)
        );
        assert_eq!(
            map_folder("[Gmail]/All Mail", Some('/'), Some(SpecialUse::All)),
            Target::Skip
        );
        assert_eq!(
            map_folder("Starred", Some('/'), Some(SpecialUse::Flagged)),
            Target::Skip
        );
    }

    #[test]
    fn other_names_keep_their_levels() {
        assert_eq!(map_folder("inbox", Some('.'), None), Target::Inbox);
        // INBOX's children stay there (a Courier-style prefix is the IMAP source's to drop).
        assert_eq!(
            map_folder("INBOX.Sub", Some('.'), None),
            Target::Named("INBOX/Sub".into())
        );
        assert_eq!(
            map_folder("Work.Projects", Some('.'), None),
            Target::Named("Work/Projects".into())
        );
        assert_eq!(
            map_folder("Công văn/Đến", Some('/'), None),
            Target::Named("Công văn/Đến".into())
        );
        assert_eq!(
            map_folder("a/b.c", Some('.'), None),
            Target::Named("a-b/c".into())
        );
        assert_eq!(
            map_folder("Sent Items.2019", Some('.'), None),
            Target::Named("Sent Items/2019".into())
        );
    }

    #[test]
    fn default_names_are_the_stores() {
        assert_eq!(default_name(SpecialUse::Sent), "Sent");
        assert_eq!(default_name(SpecialUse::Junk), "Junk");
        assert_eq!(default_name(SpecialUse::Archive), "Archive");
    }
}
