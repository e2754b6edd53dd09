//! Session-layer conformance (issue 13): odd but legal atoms as mailbox names
//! (RFC 3501 §9), LIST-EXTENDED (RFC 5258) and subscriptions that outlive their
//! mailbox (RFC 3501 §6.3.6), each from its RFC's text.

mod support;

use support::{Client, Server, has, last};

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

/// One LIST/LSUB response: its attributes, the name (unquoted), and whether it
/// carries `("CHILDINFO" ("SUBSCRIBED"))`.
struct Listed {
    attributes: Vec<String>,
    name: String,
    child_info: bool,
}

fn listed(lines: &[String], verb: &str) -> Vec<Listed> {
    let prefix = format!("* {verb} (");
    lines
        .iter()
        .filter_map(|line| {
            let rest = line.strip_prefix(&prefix)?;
            let (attributes, rest) = rest.split_once(") \"/\" ")?;
            let (name, extended) = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
                None => rest.split_once(' ').unwrap_or((rest, "")),
            };
            Some(Listed {
                attributes: attributes.split_whitespace().map(str::to_string).collect(),
                name: name.to_string(),
                child_info: extended.contains("(\"CHILDINFO\" (\"SUBSCRIBED\"))"),
            })
        })
        .collect()
}

fn find<'a>(entries: &'a [Listed], name: &str) -> Option<&'a Listed> {
    entries.iter().find(|e| e.name == name)
}

/// `attributes` holds exactly `want`, in any order.
fn exactly(entry: Option<&Listed>, want: &[&str]) -> bool {
    entry.is_some_and(|e| {
        let mut have: Vec<&str> = e.attributes.iter().map(String::as_str).collect();
        let mut want = want.to_vec();
        have.sort_unstable();
        want.sort_unstable();
        have == want
    })
}

/// RFC 5258 §3.1: a subscribed name with no mailbox, as LIST (SUBSCRIBED) shows it.
fn gone_but_subscribed(entries: &[Listed], name: &str) -> bool {
    exactly(
        find(entries, name),
        &["\\NonExistent", "\\HasNoChildren", "\\Subscribed"],
    )
}

/// The mailboxes of RFC 5258 §5's examples: Fruit, Fruit/Apple, Fruit/Banana,
/// Fruit/Peach (subscribed, then deleted), Tofu, Vegetable, Vegetable/Broccoli,
/// Vegetable/Corn; subscribed: Fruit/Banana, Fruit/Peach, Vegetable,
/// Vegetable/Broccoli (new mailboxes start subscribed here, so the others are
/// unsubscribed).
async fn rfc5258_mailboxes(c: &mut Client) {
    for name in [
        "Fruit",
        "Fruit/Apple",
        "Fruit/Banana",
        "Fruit/Peach",
        "Tofu",
        "Vegetable",
        "Vegetable/Broccoli",
        "Vegetable/Corn",
    ] {
        let created = c.command("c", &format!("CREATE {name}")).await;
        assert!(last(&created).starts_with("c OK"), "{created:?}");
    }
    for name in ["Fruit", "Fruit/Apple", "Tofu", "Vegetable/Corn"] {
        let done = c.command("u", &format!("UNSUBSCRIBE {name}")).await;
        assert!(last(&done).starts_with("u OK"), "{done:?}");
    }
    let deleted = c.command("d", "DELETE Fruit/Peach").await;
    assert!(last(&deleted).starts_with("d OK"), "{deleted:?}");
}

/// A server whose user 0 has the RFC 5258 example mailboxes, logged in.
async fn rfc5258_server() -> (Server, Client) {
    let server = Server::start().await;
    let mut c = server.login(0).await;
    rfc5258_mailboxes(&mut c).await;
    (server, c)
}

/// Runs `LIST …` (or LSUB), checks that it completed, and returns the responses
/// parsed, with the raw lines for messages.
async fn run_list(c: &mut Client, command: &str) -> (Vec<Listed>, Vec<String>) {
    let lines = c.command("l", command).await;
    assert!(last(&lines).starts_with("l OK"), "{lines:?}");
    let verb = if command.starts_with("LSUB") {
        "LSUB"
    } else {
        "LIST"
    };
    (listed(&lines, verb), lines)
}

/// RFC 3501 §6.3.6: the server "MUST NOT unilaterally remove an existing mailbox
/// name from the subscription list even if a mailbox by that name no longer
/// exists". RFC 5258 §3.1 / §5 example 4: `LIST (SUBSCRIBED)` lists such a name
/// with `\NonExistent`; SUBSCRIBE of a name that never existed is kept the same way;
/// UNSUBSCRIBE removes either.
#[tokio::test]
async fn subscribed_names_outlive_their_mailbox() {
    let (server, mut c) = rfc5258_server().await;

    let (entries, list) = run_list(&mut c, "LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(gone_but_subscribed(&entries, "Fruit/Peach"), "{list:?}");
    assert!(
        exactly(
            find(&entries, "Fruit/Banana"),
            &["\\HasNoChildren", "\\Subscribed"]
        ),
        "{list:?}"
    );
    for unsubscribed in ["Fruit", "Fruit/Apple", "Tofu", "Vegetable/Corn"] {
        assert!(find(&entries, unsubscribed).is_none(), "{unsubscribed}: {list:?}");
    }
    let (entries, lsub) = run_list(&mut c, "LSUB \"\" \"Fruit/*\"").await;
    assert!(
        find(&entries, "Fruit/Peach").is_some_and(|e| e.attributes.iter().any(|a| a == "\\Noselect")),
        "{lsub:?}"
    );

    let never = c.command("n", "SUBSCRIBE Nowhere").await;
    assert!(last(&never).starts_with("n OK"), "{never:?}");
    let (entries, list) = run_list(&mut c, "LIST (SUBSCRIBED) \"\" Nowhere").await;
    assert!(gone_but_subscribed(&entries, "Nowhere"), "{list:?}");
    for name in ["Fruit/Peach", "Nowhere"] {
        let done = c.command("u", &format!("UNSUBSCRIBE {name}")).await;
        assert!(last(&done).starts_with("u OK"), "{done:?}");
    }
    let list = c.command("l", "LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(!has(&list, "Fruit/Peach") && !has(&list, "Nowhere"), "{list:?}");
    let again = c.command("u", "UNSUBSCRIBE Nowhere").await;
    assert!(last(&again).starts_with("u NO"), "{again:?}");
    server.shutdown().await;
}

/// RFC 5258 §5 example 5 (`RETURN (CHILDREN)`) with RETURN SUBSCRIBED (§3.2):
/// `\HasChildren` / `\HasNoChildren` exactly as the hierarchy is, `\Subscribed` on
/// the subscribed ones only.
#[tokio::test]
async fn list_return_children_and_subscribed() {
    let (server, mut c) = rfc5258_server().await;
    let (entries, list) = run_list(&mut c, "LIST \"\" \"%\" RETURN (CHILDREN SUBSCRIBED)").await;
    assert!(exactly(find(&entries, "Fruit"), &["\\HasChildren"]), "{list:?}");
    assert!(exactly(find(&entries, "Tofu"), &["\\HasNoChildren"]), "{list:?}");
    assert!(
        exactly(find(&entries, "Vegetable"), &["\\HasChildren", "\\Subscribed"]),
        "{list:?}"
    );
    assert!(
        exactly(find(&entries, "INBOX"), &["\\HasNoChildren", "\\Subscribed"]),
        "{list:?}"
    );
    assert!(find(&entries, "Fruit/Banana").is_none(), "{list:?}");
    server.shutdown().await;
}

/// RFC 5258 §3.5 and §5 example 8: with RECURSIVEMATCH, `CHILDINFO ("SUBSCRIBED")`
/// goes on a listed name that has a subscribed descendant; a name that is not
/// subscribed itself is listed only for a descendant the pattern does not match
/// (`%` does not reach Fruit/Banana, so Fruit is listed; `*` lists Fruit/Banana
/// itself, so Fruit is not).
#[tokio::test]
async fn recursivematch_childinfo() {
    let (server, mut c) = rfc5258_server().await;

    let (entries, list) = run_list(&mut c, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await;
    let fruit = find(&entries, "Fruit");
    assert!(exactly(fruit, &["\\HasChildren"]), "{list:?}");
    assert!(fruit.is_some_and(|e| e.child_info), "{list:?}");
    let vegetable = find(&entries, "Vegetable");
    assert!(exactly(vegetable, &["\\HasChildren", "\\Subscribed"]), "{list:?}");
    assert!(vegetable.is_some_and(|e| e.child_info), "{list:?}");
    assert!(find(&entries, "Tofu").is_none(), "{list:?}");
    assert!(find(&entries, "INBOX").is_some_and(|e| !e.child_info), "{list:?}");

    let (entries, list) = run_list(&mut c, "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\"").await;
    assert!(find(&entries, "Fruit").is_none(), "{list:?}");
    assert!(
        find(&entries, "Fruit/Banana").is_some_and(|e| !e.child_info),
        "{list:?}"
    );
    assert!(gone_but_subscribed(&entries, "Fruit/Peach"), "{list:?}");
    assert!(
        find(&entries, "Vegetable").is_some_and(|e| e.child_info),
        "{list:?}"
    );
    assert!(find(&entries, "Vegetable/Corn").is_none(), "{list:?}");
    server.shutdown().await;
}
