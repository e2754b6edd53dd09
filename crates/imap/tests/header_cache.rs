//! The header cache (issue 13): SEARCH on the cached header fields, SORT and THREAD
//! read a message's file once; later searches use the cached fields. Shown by
//! taking the message's file away: header searches still find it, a BODY search —
//! which needs the file — no longer does, as for a message expunged meanwhile.

mod support;

use support::{Server, append, has, sample_message};

#[tokio::test]
async fn header_searches_use_the_cache_and_body_searches_the_file() {
    let server = Server::start().await;
    let mut client = server.login(0).await;
    let appended = append(&mut client, "INBOX", "()", &sample_message("Lich hop khan")).await;
    assert!(appended.contains("OK"), "{appended}");
    client.command("s", "SELECT INBOX").await;
    // The first search reads the file and keeps the fields.
    for (tag, search) in [("a", "SEARCH SUBJECT khan"), ("b", "SEARCH BODY \"công văn\"")] {
        let lines = client
            .command(tag, &search.replacen("SEARCH ", "SEARCH CHARSET UTF-8 ", 1))
            .await;
        assert!(has(&lines, "* SEARCH 1"), "{search}: {lines:?}");
    }

    let blobs = server.data_dir().join("blobs");
    let file = std::fs::read_dir(&blobs)
        .unwrap()
        .flat_map(|fan| std::fs::read_dir(fan.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .next()
        .expect("the message's file");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();

    for search in [
        "SEARCH SUBJECT khan",
        "SEARCH FROM \"Nguyễn Văn A\"",
        "SEARCH SENTON 5-Mar-2024",
        "SEARCH HEADER Message-ID 1@thanhhoa",
    ] {
        let lines = client
            .command("c", &search.replacen("SEARCH ", "SEARCH CHARSET UTF-8 ", 1))
            .await;
        assert!(has(&lines, "* SEARCH 1"), "{search}: {lines:?}");
    }
    let sorted = client.command("d", "SORT (SUBJECT) UTF-8 ALL").await;
    assert!(has(&sorted, "* SORT 1"), "{sorted:?}");
    // BODY and other header fields need the file, which is gone.
    for search in ["SEARCH BODY \"công văn\"", "SEARCH HEADER Content-Type pdf"] {
        let lines = client
            .command("e", &search.replacen("SEARCH ", "SEARCH CHARSET UTF-8 ", 1))
            .await;
        assert!(!has(&lines, "* SEARCH 1"), "{search}: {lines:?}");
    }

    std::fs::write(&file, bytes).unwrap();
}
