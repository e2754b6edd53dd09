//! Directory search (Danh bạ): accent-insensitive, every word of the query must occur
//! in the entry's name, address, position, department or agency ("tuan" finds Tuấn).

use congvu_policy::naming::fold_vietnamese;

use crate::Directory;
use crate::error::Result;
use crate::record::AccountRecord;
use crate::trees::T;

impl Directory {
    /// Live mailboxes matching `query`, ordered by address, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<AccountRecord>> {
        let words: Vec<String> = fold_vietnamese(query)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let mut found = Vec::new();
        for record in self.trees.all::<AccountRecord>(T::Accounts)? {
            if record.deleted.is_some() {
                continue;
            }
            let haystack = fold_vietnamese(&format!(
                "{} {} {} {} {}",
                record.display_name,
                record.address.split('@').next().unwrap_or(""),
                record.position.as_deref().unwrap_or(""),
                record.department.as_deref().unwrap_or(""),
                record.agency,
            ));
            if words.iter().all(|w| haystack.contains(w.as_str())) {
                found.push(record);
            }
        }
        found.sort_by(|a, b| a.address.cmp(&b.address));
        found.truncate(limit);
        Ok(found)
    }
}
