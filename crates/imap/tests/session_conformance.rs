//! Session-layer conformance (issue 13): odd but legal atoms as mailbox names
//! (RFC 3501 §9), LIST-EXTENDED (RFC 5258) and subscriptions that outlive their
//! mailbox (RFC 3501 §6.3.6), each from its RFC's text.

mod support;

use support::{Server, has, last};

/// Every printable character that is not an atom-special (RFC 3501 §9: `atom` =
/// 1*ATOM-CHAR, ATOM-CHAR = any CHAR except atom-specials, which are `(` `)` `{`
/// SP CTL `%` `*` `"` `\` `]`), letters aside.
const ODD_ATOM: &str = "!#$&'+,-.0123456789:;<=>?@^_`|}";

/// RFC 3501 §9: the name is a legal `mailbox` (an astring made of ATOM-CHARs), so
/// SELECT of it is well-formed: a mailbox that does not exist is `NO`, not `BAD`
/// (§6.3.1: "NO - select failure, now in authenticated state: no such mailbox").
/// `LIST "" <name>%*` is a legal `list-mailbox` (§9: 1*list-char) and is answered,
/// never a reason to close the connection.
#[tokio::test]
async fn odd_but_legal_atoms_are_names_not_syntax_errors() {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    for (tag, verb) in [("s", "SELECT"), ("e", "EXAMINE"), ("t", "STATUS")] {
        let args = if verb == "STATUS" { " (MESSAGES)" } else { "" };
        let lines = c.command(tag, &format!("{verb} {ODD_ATOM}{args}")).await;
        assert!(
            last(&lines).starts_with(&format!("{tag} NO ")),
            "{verb}: {lines:?}"
        );
    }
    let list = c.command("l", &format!("LIST \"\" {ODD_ATOM}%*")).await;
    assert!(last(&list).starts_with("l OK"), "{list:?}");
    assert!(!has(&list, "* LIST"), "{list:?}");
    // The connection is still there and still useful.
    let noop = c.command("n", "NOOP").await;
    assert_eq!(last(&noop), "n OK NOOP completed", "{noop:?}");
    server.shutdown().await;
}
