//! The backup's metadata dump (`congvu_store::dump`): any bytes in, never a panic
//! and never an allocation beyond the record bounds; and what the writer writes, the
//! reader gives back item for item (the input is cut into trees and records).
#![no_main]

use congvu_store::dump::{self, DumpWriter, Item};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
enum Owned {
    Tree(Vec<u8>),
    Record(Vec<u8>, Vec<u8>),
}

fuzz_target!(|data: &[u8]| {
    let _ = dump::read(data, |_| Ok(()));

    // Round trip: a 0 byte starts a tree named by the next chunk, other chunks
    // split at their middle make a record.
    let mut items = Vec::new();
    for chunk in data.split(|b| *b == b'\n') {
        match chunk.split_first() {
            Some((0, name)) => items.push(Owned::Tree(name.to_vec())),
            _ if items.is_empty() => items.push(Owned::Tree(Vec::new())),
            _ => {
                let (key, value) = chunk.split_at(chunk.len() / 2);
                items.push(Owned::Record(key.to_vec(), value.to_vec()));
            }
        }
    }
    let mut writer = DumpWriter::new(Vec::new()).unwrap();
    for item in &items {
        match item {
            Owned::Tree(name) => writer.tree(name).unwrap(),
            Owned::Record(key, value) => writer.record(key, value).unwrap(),
        }
    }
    let bytes = writer.finish().unwrap();
    let mut back = Vec::new();
    dump::read(bytes.as_slice(), |item| {
        back.push(match item {
            Item::Tree(name) => Owned::Tree(name.to_vec()),
            Item::Record { key, value } => Owned::Record(key.to_vec(), value.to_vec()),
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(back, items);
});
