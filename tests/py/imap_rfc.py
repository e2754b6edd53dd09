#!/usr/bin/env python3
"""RFC conformance checks driven by imaplib, one per advertised capability.

usage: imap_rfc.py HOST PORT CAFILE USER PASSWORD

Every capability the server advertises after login must have a check here: an
advertised capability without one fails the run, so the list cannot drift from
what is tested. Prints one line per check and exits non-zero on any failure.
"""

import imaplib
import re
import ssl
import sys

HOST, PORT, CAFILE, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

MESSAGE = (
    "From: Nguyen Van A <nva@thanhhoa.gov.vn>\r\n"
    "To: {user}\r\n"
    "Subject: {subject}\r\n"
    "Date: Tue, 5 Mar 2024 09:30:00 +0700\r\n"
    "Message-ID: <{subject}@thanhhoa.gov.vn>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Kinh gui cac don vi.\r\n"
)


def connect():
    context = ssl.create_default_context(cafile=CAFILE)
    context.check_hostname = False
    return imaplib.IMAP4_SSL(HOST, PORT, ssl_context=context)


def login():
    imap = connect()
    imap.login(USER, PASSWORD)
    return imap


def ok(result, what):
    typ, data = result
    assert typ == "OK", f"{what}: {typ} {data}"
    return data


def raw(imap, command):
    """Sends a command imaplib does not know; returns (tagged status, untagged lines)."""
    tag = imap._new_tag()
    imap.send(tag + b" " + command.encode() + b"\r\n")
    lines = []
    while True:
        line = imap._get_line()
        if line.startswith(tag + b" "):
            return line[len(tag) + 1:].decode(), lines
        lines.append(line.decode(errors="replace"))


def append(imap, subject, flags="()"):
    data = ok(imap.append("INBOX", flags, None, MESSAGE.format(user=USER, subject=subject).encode()), "APPEND")
    return data[0].decode()


def check_imap4rev1(imap):
    ok(imap.select("INBOX"), "SELECT")
    ok(imap.noop(), "NOOP")
    data = ok(imap.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)"), "FETCH")
    assert data and data[0] is not None, data
    data = ok(imap.search(None, "SUBJECT", "rfc-1"), "SEARCH")
    assert data[0].split(), data
    ok(imap.check(), "CHECK")


def check_sasl_ir(_imap):
    import base64
    imap = connect()
    ir = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    status, _ = raw(imap, f"AUTHENTICATE PLAIN {ir}")
    assert status.startswith("OK"), status
    imap.logout()


def check_literal_plus(imap):
    body = MESSAGE.format(user=USER, subject="literal-plus").encode()
    tag = imap._new_tag()
    # RFC 7888: no continuation is awaited for {n+}.
    imap.send(tag + b" APPEND INBOX {" + str(len(body)).encode() + b"+}\r\n" + body + b"\r\n")
    while True:
        line = imap._get_line()
        assert not line.startswith(b"+"), line
        if line.startswith(tag + b" "):
            assert b" OK " in line, line
            return


def check_enable(_imap):
    # RFC 5161 §3.1: only in the Authenticated state, so on a fresh session.
    fresh = login()
    status, lines = raw(fresh, "ENABLE CONDSTORE X-UNKNOWN")
    assert status.startswith("OK") and lines == ["* ENABLED CONDSTORE"], (status, lines)
    ok(fresh.select("INBOX"), "SELECT")
    status, _ = raw(fresh, "ENABLE QRESYNC")
    assert status.startswith("BAD"), status
    fresh.logout()


def check_idle(_imap):
    watcher = login()
    ok(watcher.select("INBOX"), "SELECT")
    tag = watcher._new_tag()
    watcher.send(tag + b" IDLE\r\n")
    assert watcher._get_line().startswith(b"+"), "no IDLE continuation"
    other = login()
    append(other, "idle-wakeup")
    line = watcher._get_line()
    assert re.match(rb"\* \d+ EXISTS", line), line
    watcher.send(b"DONE\r\n")
    while not watcher._get_line().startswith(tag + b" OK"):
        pass
    other.logout()
    watcher.logout()


def check_namespace(imap):
    data = ok(imap.namespace(), "NAMESPACE")
    assert data[0].startswith(b'(("" "/"))'), data


def check_id(imap):
    status, lines = raw(imap, 'ID ("name" "imap_rfc.py")')
    assert status.startswith("OK") and lines[0].startswith('* ID ("name" "congvu"'), lines


def check_uidplus(imap):
    data = append(imap, "uidplus")
    assert re.match(r"\[APPENDUID \d+ \d+\]", data), data
    ok(imap.select("INBOX"), "SELECT")
    status, _ = raw(imap, "UID COPY 1 Archive")
    assert status.startswith("OK [COPYUID "), status
    ok(imap.uid("STORE", "1", "+FLAGS", "(\\Seen)"), "UID STORE")
    status, _ = raw(imap, "UID EXPUNGE 999999")
    assert status.startswith("OK"), status


def check_unselect(imap):
    ok(imap.select("INBOX"), "SELECT")
    status, _ = raw(imap, "UNSELECT")
    assert status.startswith("OK"), status
    status, _ = raw(imap, "FETCH 1 FLAGS")
    assert status.startswith("BAD"), "still selected after UNSELECT"


def check_children(imap):
    status, _ = raw(imap, "CREATE \"C&APQ-ng v&AQM-n/2024\"")
    assert status.startswith("OK"), status
    data = ok(imap.list('""', "*"), "LIST")
    lines = [d.decode() for d in data]
    parent = [l for l in lines if l.endswith('"C&APQ-ng v&AQM-n"')]
    assert parent and "\\HasChildren" in parent[0], lines
    assert any("\\HasNoChildren" in l and l.endswith('"C&APQ-ng v&AQM-n/2024"') for l in lines), lines


def check_move(imap):
    append(imap, "to-move")
    ok(imap.select("INBOX"), "SELECT")
    uids = ok(imap.uid("SEARCH", None, "SUBJECT", "to-move"), "SEARCH")[0].split()
    status, lines = raw(imap, f"UID MOVE {uids[-1].decode()} Archive")
    assert status.startswith("OK") and any("EXPUNGE" in l or "VANISHED" in l for l in lines), (status, lines)


def check_special_use(imap):
    data = ok(imap.list('""', "*"), "LIST")
    joined = b"\n".join(data).decode()
    for use, name in [("\\Sent", "Sent"), ("\\Drafts", "Drafts"), ("\\Trash", "Trash"), ("\\Junk", "Junk")]:
        assert re.search(re.escape(use) + r".*\"" + name + '"', joined), (use, joined)


def check_quota(imap):
    status, lines = raw(imap, "GETQUOTAROOT INBOX")
    assert status.startswith("OK") and any(l.startswith("* QUOTA ") and "STORAGE" in l for l in lines), lines


def check_quota_res_storage(imap):
    status, lines = raw(imap, 'GETQUOTA ""')
    assert status.startswith("OK") and "STORAGE" in lines[0], lines


def check_condstore(imap):
    fresh = login()
    status, lines = raw(fresh, "SELECT INBOX (CONDSTORE)")
    highest = [l for l in lines if "[HIGHESTMODSEQ " in l]
    assert status.startswith("OK") and highest, lines
    modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", highest[0]).group(1))
    status, lines = raw(fresh, "STORE 1 +FLAGS (\\Flagged)")
    assert re.search(r"MODSEQ \((\d+)\)", lines[0]), lines
    status, lines = raw(fresh, f"FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq})")
    assert status.startswith("OK") and len(lines) == 1, lines
    status, lines = raw(fresh, f"STORE 1 (UNCHANGEDSINCE {modseq}) -FLAGS (\\Flagged)")
    assert "[MODIFIED 1]" in status, status
    status, lines = raw(fresh, "STATUS INBOX (HIGHESTMODSEQ)")
    assert "HIGHESTMODSEQ" in lines[0], lines
    fresh.logout()


def check_qresync(imap):
    fresh = login()
    other = login()
    uid = append(other, "doomed").split()[2].rstrip("]")
    status, lines = raw(fresh, "ENABLE QRESYNC")
    assert lines == ["* ENABLED QRESYNC"], lines
    status, lines = raw(fresh, "SELECT INBOX")
    uidvalidity = re.search(r"UIDVALIDITY (\d+)", "\n".join(lines)).group(1)
    modseq = re.search(r"HIGHESTMODSEQ (\d+)", "\n".join(lines)).group(1)
    ok(other.select("INBOX"), "SELECT")
    ok(other.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "STORE")
    ok(other.expunge(), "EXPUNGE")
    status, lines = raw(fresh, "NOOP")
    assert f"* VANISHED {uid}" in lines, lines
    again = login()
    raw(again, "ENABLE QRESYNC")
    status, lines = raw(again, f"SELECT INBOX (QRESYNC ({uidvalidity} {modseq}))")
    assert status.startswith("OK") and f"* VANISHED (EARLIER) {uid}" in lines, lines
    for client in (fresh, other, again):
        client.logout()


def check_esearch(imap):
    ok(imap.select("INBOX"), "SELECT")
    status, lines = raw(imap, "UID SEARCH RETURN (MIN MAX COUNT) ALL")
    # RFC 4731 §3.1, with the tag quoted as "New Outlook" expects.
    assert re.match(r'\* ESEARCH \(TAG "[A-Z0-9]+"\) UID MIN \d+ MAX \d+ COUNT \d+$', lines[0]), lines


def check_create_special_use(imap):
    # RFC 6154 §5.3 example, with one attribute: a mailbox has one use here.
    status, _ = raw(imap, "CREATE MySpecial (USE (\\Flagged))")
    assert status.startswith("OK"), status
    data = ok(imap.list('""', "MySpecial"), "LIST")
    assert b"\\Flagged" in data[0], data
    status, _ = raw(imap, "CREATE Other (USE (\\Drafts \\Sent))")
    assert status.startswith("NO [USEATTR]"), status
    status, _ = raw(imap, "CREATE Other2 (USE (\\Important))")
    assert status.startswith("NO [USEATTR]"), status


def check_list_extended(imap):
    status, _ = raw(imap, 'CREATE "Ext/Sub"')
    assert status.startswith("OK"), status
    raw(imap, 'UNSUBSCRIBE "Ext"')
    raw(imap, 'SUBSCRIBE "Ext/Sub"')
    # RFC 5258 §5 example 9: RECURSIVEMATCH reports the unsubscribed parent.
    status, lines = raw(imap, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)')
    assert status.startswith("OK"), status
    assert any(l.endswith('"Ext" ("CHILDINFO" ("SUBSCRIBED"))') for l in lines), lines
    status, lines = raw(imap, 'LIST (SUBSCRIBED) "" "*"')
    assert any("\\Subscribed" in l and l.endswith('"Ext/Sub"') for l in lines), lines
    assert not any(l.endswith('"Ext"') for l in lines), lines
    status, lines = raw(imap, 'LIST "" ("INBOX" "Ext/%")')
    assert [l.rsplit(" ", 1)[1] for l in lines] == ['"INBOX"', '"Ext/Sub"'], lines
    status, lines = raw(imap, 'LIST (SPECIAL-USE) "" "*"')
    assert lines and all("\\HasNoChildren" in l and ("\\Sent" in l or "\\Drafts" in l or "\\Trash" in l
                         or "\\Junk" in l or "\\Archive" in l or "\\Flagged" in l) for l in lines), lines


def check_list_status(imap):
    # RFC 5819 §2: a STATUS after each selectable mailbox listed.
    status, lines = raw(imap, 'LIST "" "INBOX" RETURN (STATUS (MESSAGES UIDNEXT))')
    assert status.startswith("OK") and lines[0].startswith("* LIST ") and \
        re.match(r'\* STATUS "INBOX" \(MESSAGES \d+ UIDNEXT \d+\)$', lines[1]), lines


CHECKS = {
    "IMAP4rev1": check_imap4rev1,
    "SASL-IR": check_sasl_ir,
    "LITERAL+": check_literal_plus,
    "ENABLE": check_enable,
    "IDLE": check_idle,
    "NAMESPACE": check_namespace,
    "ID": check_id,
    "UIDPLUS": check_uidplus,
    "UNSELECT": check_unselect,
    "CHILDREN": check_children,
    "MOVE": check_move,
    "SPECIAL-USE": check_special_use,
    "QUOTA": check_quota,
    "QUOTA=RES-STORAGE": check_quota_res_storage,
    "CONDSTORE": check_condstore,
    "QRESYNC": check_qresync,
    "ESEARCH": check_esearch,
    "CREATE-SPECIAL-USE": check_create_special_use,
    "LIST-EXTENDED": check_list_extended,
    "LIST-STATUS": check_list_status,
}


def main():
    imap = login()
    advertised = ok(imap.capability(), "CAPABILITY")[0].decode().split()
    unchecked = [c for c in advertised if c not in CHECKS and not c.startswith("AUTH=")]
    failures = []
    if unchecked:
        failures.append(f"advertised without a check: {unchecked}")
    append(imap, "rfc-1")
    for capability in advertised:
        check = CHECKS.get(capability)
        if check is None:
            continue
        try:
            check(imap)
            print(f"ok   {capability}")
        except Exception as error:  # report every failure, not just the first
            failures.append(f"{capability}: {error!r}")
            print(f"FAIL {capability}: {error!r}")
            imap = login()
    imap.logout()
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
