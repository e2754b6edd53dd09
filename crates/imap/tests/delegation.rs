//! Delegated agency mailboxes (Art. 16.1): the shared namespace, RFC 4314 ACLs set by
//! the agency's login and its head, the rights enforced on every command, IDLE on a
//! shared mailbox, and the access events naming the clerk (Art. 10).

mod support;

use congvu_directory::{Role, Secret};
use congvu_store::{AccessKind, Delivery, DeliveryFolder, MailStore};
use support::{Client, PASSWORD, Server, append, ok, sample_message};

const AGENCY: &str = "sttt@thanhhoa.gov.vn";

fn last(lines: &[String]) -> &str {
    lines.last().map(String::as_str).unwrap_or_default()
}

fn deliver(server: &Server, subject: &str) {
    let agency = server.directory.lookup(AGENCY).unwrap().unwrap();
    server
        .store
        .deliver(&Delivery {
            bytes: &[&sample_message(subject)],
            internal_date: 1_709_605_800,
            internal_date_offset: 25_200,
            targets: &[agency.account],
            folder: DeliveryFolder::Inbox,
        })
        .unwrap();
}

async fn refused(client: &mut Client, command: &str, code: &str) {
    let lines = client.command("t", command).await;
    assert!(
        last(&lines).starts_with(&format!("t NO [{code}]")),
        "{command}: {lines:?}"
    );
}

#[tokio::test]
async fn clerk_uses_the_agency_mailbox_within_the_rights_granted() {
    let server = Server::start().await;
    server
        .directory
        .set_password(AGENCY, &Secret::new(PASSWORD.to_string()))
        .unwrap();
    let (clerk_address, other_address) = (server.users[0].clone(), server.users[1].clone());
    deliver(&server, "Công văn đến 1");

    // Before any grant the clerk sees no shared mailbox, only the namespace.
    let mut clerk = server.login(0).await;
    let namespace = ok(&mut clerk, "NAMESPACE").await;
    assert_eq!(
        namespace[0],
        "* NAMESPACE ((\"\" \"/\")) NIL ((\"Shared/\" \"/\"))"
    );
    let list = ok(&mut clerk, "LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("Shared")), "{list:?}");
    refused(&mut clerk, "SELECT Shared/sttt/INBOX", "NONEXISTENT").await;
    refused(&mut clerk, "CREATE Shared/sttt/Mine", "CANNOT").await;
    refused(&mut clerk, "CREATE Shared", "CANNOT").await;
    refused(&mut clerk, "CREATE shared/x", "CANNOT").await;

    // The agency's own login (the head's): the owner holds every right, and grants
    // the clerk read access.
    let mut agency = server.login_as(AGENCY).await;
    let rights = ok(&mut agency, "MYRIGHTS INBOX").await;
    assert_eq!(rights[0], "* MYRIGHTS \"INBOX\" \"lrswipkxteacd\"");
    ok(&mut agency, &format!("SETACL INBOX {clerk_address} lr")).await;
    let acl = ok(&mut agency, "GETACL Sent").await;
    assert_eq!(
        acl[0],
        format!("* ACL \"Sent\" \"{AGENCY}\" \"lrswipkxteacd\" \"{clerk_address}\" \"lr\"")
    );
    let listrights = ok(&mut agency, &format!("LISTRIGHTS INBOX {clerk_address}")).await;
    assert_eq!(
        listrights[0],
        format!("* LISTRIGHTS \"INBOX\" \"{clerk_address}\" \"\" l r s w i p k x t e")
    );
    refused(&mut agency, &format!("SETACL INBOX {clerk_address} +a"), "CANNOT").await;
    refused(&mut agency, &format!("SETACL INBOX {AGENCY} lr"), "CANNOT").await;
    refused(&mut agency, "SETACL INBOX anyone lr", "CANNOT").await;
    refused(
        &mut agency,
        "SETACL INBOX hanhht.yendinh@thanhhoa.gov.vn lr",
        "CANNOT",
    )
    .await;
    // An official's own mailbox is never delegated.
    refused(&mut clerk, &format!("SETACL INBOX {other_address} lr"), "CANNOT").await;

    // Read-only: listed, readable, opened READ-ONLY, nothing written.
    let list = ok(&mut clerk, "LIST \"\" \"*\"").await;
    for want in [
        "* LIST (\\Noselect \\HasChildren) \"/\" \"Shared\"",
        "* LIST (\\Noselect \\HasChildren) \"/\" \"Shared/sttt\"",
        "* LIST (\\HasNoChildren) \"/\" \"Shared/sttt/INBOX\"",
        "* LIST (\\HasNoChildren) \"/\" \"Shared/sttt/Sent\"",
    ] {
        assert!(list.iter().any(|l| l == want), "{want} in {list:?}");
    }
    // The agency's Sent is not the clerk's: no special use is passed on.
    let special = ok(&mut clerk, "LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert!(!special.iter().any(|l| l.contains("Shared")), "{special:?}");
    let walk = ok(&mut clerk, "LIST \"Shared/\" \"%\"").await;
    assert_eq!(walk[0], "* LIST (\\Noselect \\HasChildren) \"/\" \"Shared/sttt\"");
    // RFC 5258 §3, RFC 9051 §6.3.9: a level listed only for its CHILDINFO is
    // \NonExistent.
    let recursive = ok(&mut clerk, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await;
    assert!(
        recursive
            .iter()
            .any(|l| l.starts_with("* LIST (\\NonExistent \\HasChildren) \"/\" \"Shared\" (\"CHILDINFO\"")),
        "{recursive:?}"
    );
    let status = ok(
        &mut clerk,
        "LIST \"\" \"Shared/sttt/INBOX\" RETURN (STATUS (MESSAGES UNSEEN))",
    )
    .await;
    assert_eq!(status[1], "* STATUS \"Shared/sttt/INBOX\" (MESSAGES 1 UNSEEN 1)");
    let rights = ok(&mut clerk, "MYRIGHTS Shared/sttt/INBOX").await;
    assert_eq!(rights[0], "* MYRIGHTS \"Shared/sttt/INBOX\" \"lr\"");
    refused(&mut clerk, "GETACL Shared/sttt/INBOX", "NOPERM").await;
    let selected = ok(&mut clerk, "SELECT Shared/sttt/INBOX").await;
    assert!(last(&selected).starts_with("t OK [READ-ONLY]"), "{selected:?}");
    assert!(
        selected.iter().any(|l| l.starts_with("* OK [PERMANENTFLAGS ()]")),
        "{selected:?}"
    );
    let fetched = ok(&mut clerk, "FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])").await;
    assert!(
        fetched.join("\n").contains("Subject: Công văn đến 1"),
        "{fetched:?}"
    );
    // A read-only selection shows no \Recent, and leaves the message recent for
    // the next read-write session (RFC 3501 §2.3.2, §6.3.2).
    let flags = ok(&mut clerk, "FETCH 1 (FLAGS)").await;
    assert_eq!(flags[0], "* 1 FETCH (FLAGS ())");
    let status = ok(&mut clerk, "STATUS Shared/sttt/INBOX (RECENT)").await;
    assert_eq!(status[0], "* STATUS \"Shared/sttt/INBOX\" (RECENT 1)");
    let appended = append(&mut clerk, "Shared/sttt/INBOX", "()", &sample_message("x")).await;
    assert!(appended.starts_with("ap NO [NOPERM]"), "{appended}");
    refused(&mut clerk, "COPY 1 Shared/sttt/Archive", "NOPERM").await;
    refused(&mut clerk, "DELETE Shared/sttt/Archive", "NOPERM").await;
    refused(&mut clerk, "UNSUBSCRIBE Shared/sttt/INBOX", "CANNOT").await;
    ok(&mut clerk, "SUBSCRIBE Shared/sttt/INBOX").await;

    // The other official holds nothing: the mailbox does not exist for them.
    let mut other = server.login(1).await;
    refused(&mut other, "SELECT Shared/sttt/INBOX", "NONEXISTENT").await;
    refused(&mut other, "STATUS Shared/sttt/INBOX (MESSAGES)", "NONEXISTENT").await;
    let list = ok(&mut other, "LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("Shared")), "{list:?}");

    // The head (own login) administers the agency's ACL without reading its mail.
    server
        .directory
        .set_role(&other_address, Role::Head, "admin")
        .unwrap();
    let rights = ok(&mut other, "MYRIGHTS Shared/sttt/INBOX").await;
    assert_eq!(rights[0], "* MYRIGHTS \"Shared/sttt/INBOX\" \"a\"");
    refused(&mut other, "SELECT Shared/sttt/INBOX", "NONEXISTENT").await;
    ok(
        &mut other,
        &format!("SETACL Shared/sttt/INBOX {clerk_address} +siwte"),
    )
    .await;
    let acl = ok(&mut other, "GETACL Shared/sttt/Drafts").await;
    assert!(
        acl[0].ends_with(&format!("\"{clerk_address}\" \"lrswited\"")),
        "{acl:?}"
    );

    // Read-write now: flags, APPEND, COPY into the agency's folders, EXPUNGE.
    let selected = ok(&mut clerk, "SELECT Shared/sttt/INBOX").await;
    assert!(last(&selected).starts_with("t OK [READ-WRITE]"), "{selected:?}");
    ok(&mut clerk, "STORE 1 +FLAGS (\\Seen $Forwarded)").await;
    let appended = append(
        &mut clerk,
        "Shared/sttt/INBOX",
        "(\\Seen)",
        &sample_message("Trả lời"),
    )
    .await;
    assert!(appended.starts_with("ap OK [APPENDUID "), "{appended}");
    let copied = ok(&mut clerk, "COPY 1 Shared/sttt/Archive").await;
    assert!(last(&copied).starts_with("t OK [COPYUID "), "{copied:?}");
    // Without `p`, `k` or `x`: no folders created or deleted.
    refused(&mut clerk, "CREATE Shared/sttt/Moi", "NOPERM").await;
    refused(&mut clerk, "DELETE Shared/sttt/Archive", "NOPERM").await;
    let status = ok(&mut clerk, "STATUS Shared/sttt/Archive (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"Shared/sttt/Archive\" (MESSAGES 1)");
    // MOVE needs `t` and `e` on the source.
    let moved = ok(&mut clerk, "MOVE 2 Shared/sttt/Trash").await;
    assert!(moved.iter().any(|l| l == "* 2 EXPUNGE"), "{moved:?}");

    // IDLE on the shared INBOX sees mail delivered to the agency.
    clerk.send(b"i IDLE\r\n").await;
    assert_eq!(clerk.line().await, "+ idling");
    deliver(&server, "Công văn đến 2");
    assert_eq!(clerk.line().await, "* 2 EXISTS");
    let recent = clerk.line().await;
    assert!(
        recent.starts_with("* ") && recent.ends_with(" RECENT"),
        "{recent}"
    );
    clerk.send(b"DONE\r\n").await;
    let done = clerk.until_tagged("i").await;
    assert!(last(&done).starts_with("i OK"), "{done:?}");
    // EXPUNGE needs `e`.
    ok(&mut clerk, "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let expunged = ok(&mut clerk, "EXPUNGE").await;
    assert_eq!(expunged, ["* 2 EXPUNGE", "t OK EXPUNGE completed"]);

    // Art. 10: each selection of the agency INBOX is in the agency's log, naming the
    // clerk who made it; the clerk's login is in the clerk's own log.
    let agency_account = server.directory.lookup(AGENCY).unwrap().unwrap().account;
    let events = server.store.access_events(agency_account, 0, i64::MAX).unwrap();
    let selections: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == AccessKind::AgencyInboxSelected)
        .map(|e| e.login.as_str())
        .collect();
    assert_eq!(selections, [clerk_address.as_str(), clerk_address.as_str()]);
    assert!(
        events
            .iter()
            .all(|e| e.client == "127.0.0.1" && e.protocol == "imaps")
    );

    // DELETEACL: the session with the agency INBOX selected ends at its next
    // command; a new one finds no such mailbox.
    ok(&mut agency, &format!("DELETEACL INBOX {clerk_address}")).await;
    clerk.send(b"n NOOP\r\n").await;
    assert_eq!(
        clerk.line().await,
        "* BYE Access to the agency mailbox was withdrawn"
    );
    assert!(clerk.closed().await);
    let mut clerk = server.login(0).await;
    refused(&mut clerk, "SELECT Shared/sttt/INBOX", "NONEXISTENT").await;
    let list = ok(&mut clerk, "LIST \"\" \"*\"").await;
    assert!(!list.iter().any(|l| l.contains("Shared/sttt")), "{list:?}");
    let audit: Vec<String> = server
        .directory
        .audit_log(None, Some(AGENCY), 10)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.ends_with("_delegation"))
        .map(|e| format!("{} {} {}", e.actor, e.action, e.detail))
        .collect();
    assert_eq!(
        audit,
        [
            // SETACL never gives sending as the agency (only the admin API does).
            format!("{AGENCY} grant_delegation to {clerk_address} rights lr send_as false"),
            format!("{other_address} grant_delegation to {clerk_address} rights lrswite send_as false"),
            format!("{AGENCY} revoke_delegation from {clerk_address}"),
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn store_follows_the_flag_rights() {
    let server = Server::start().await;
    let clerk = server.directory.lookup(&server.users[0]).unwrap().unwrap();
    deliver(&server, "Công văn");
    server
        .directory
        .set_delegation_rights("sttt", &clerk.address, |_| "lrs".parse().unwrap(), "admin")
        .unwrap();
    let mut client = server.login(0).await;
    let selected = ok(&mut client, "SELECT Shared/sttt/INBOX").await;
    assert!(last(&selected).starts_with("t OK [READ-WRITE]"), "{selected:?}");
    assert!(
        selected
            .iter()
            .any(|l| l.starts_with("* OK [PERMANENTFLAGS (\\Seen)]")),
        "{selected:?}"
    );
    // \Seen is allowed, the rest dropped (RFC 4314 §4); nothing allowed is NOPERM.
    // The message is \Recent here: this SELECT was the first (RFC 3501 §2.3.2).
    let stored = ok(&mut client, "STORE 1 +FLAGS (\\Seen \\Flagged)").await;
    assert_eq!(stored[0], "* 1 FETCH (FLAGS (\\Seen \\Recent) UID 1)");
    refused(&mut client, "STORE 1 +FLAGS (\\Deleted)", "NOPERM").await;
    refused(&mut client, "STORE 1 FLAGS (\\Seen)", "NOPERM").await;
    refused(&mut client, "EXPUNGE", "NOPERM").await;
    refused(&mut client, "MOVE 1 INBOX", "NOPERM").await;
    // The agency's quota is the agency's: no quota root for the clerk.
    let quota = ok(&mut client, "GETQUOTAROOT Shared/sttt/INBOX").await;
    assert_eq!(
        quota,
        ["* QUOTAROOT \"Shared/sttt/INBOX\"", "t OK GETQUOTAROOT completed"]
    );
    // COPY out into the clerk's own mailbox needs only `r` here.
    ok(&mut client, "COPY 1 INBOX").await;
    // CLOSE without `e` expunges nothing and still succeeds.
    ok(&mut client, "CLOSE").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_withdrawal_reaches_a_clerk_idling_in_the_agency_inbox() {
    let server = Server::start().await;
    let clerk = server.users[0].clone();
    server
        .directory
        .grant_delegation("sttt", &clerk, None, "admin")
        .unwrap();
    let mut client = server.login(0).await;
    ok(&mut client, "SELECT Shared/sttt/INBOX").await;
    client.send(b"i IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    deliver(&server, "Công văn 1");
    assert_eq!(client.line().await, "* 1 EXISTS");
    assert_eq!(client.line().await, "* 1 RECENT");
    // Reduced (no s w i t e): the selection keeps going with the rights left.
    server
        .directory
        .set_delegation_rights(
            "sttt",
            &clerk,
            |r| r.difference("swite".parse().unwrap()),
            "admin",
        )
        .unwrap();
    deliver(&server, "Công văn 2");
    assert_eq!(client.line().await, "* 2 EXISTS");
    assert_eq!(client.line().await, "* 2 RECENT");
    client.send(b"DONE\r\n").await;
    assert!(client.line().await.starts_with("i OK"));
    refused(&mut client, "STORE 1 +FLAGS (\\Seen)", "NOPERM").await;
    client.send(b"j IDLE\r\n").await;
    assert_eq!(client.line().await, "+ idling");
    // Withdrawn: the next change to the mailbox ends the session, unannounced mail
    // and all.
    server
        .directory
        .revoke_delegation("sttt", &clerk, "admin")
        .unwrap();
    deliver(&server, "Công văn 3");
    assert_eq!(
        client.line().await,
        "* BYE Access to the agency mailbox was withdrawn"
    );
    assert!(client.closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn a_copy_into_the_agency_mailbox_keeps_only_the_flags_the_rights_allow() {
    let server = Server::start().await;
    let clerk = server.directory.lookup(&server.users[0]).unwrap().unwrap();
    server
        .directory
        .set_delegation_rights("sttt", &clerk.address, |_| "lris".parse().unwrap(), "admin")
        .unwrap();
    let mut client = server.login(0).await;
    append(&mut client, "INBOX", "()", &sample_message("Bản sao")).await;
    ok(&mut client, "SELECT INBOX").await;
    ok(
        &mut client,
        "STORE 1 FLAGS (\\Seen \\Flagged \\Deleted $Important)",
    )
    .await;
    ok(&mut client, "COPY 1 Shared/sttt/INBOX").await;
    ok(&mut client, "EXAMINE Shared/sttt/INBOX").await;
    // `s` keeps \Seen; without `w` and `t`, \Flagged, the keyword and \Deleted go.
    // EXAMINE shows no \Recent (RFC 3501 §2.3.2, see session::selected).
    let fetched = ok(&mut client, "FETCH 1 FLAGS").await;
    assert_eq!(fetched[0], "* 1 FETCH (FLAGS (\\Seen))", "{fetched:?}");
    server.shutdown().await;
}
