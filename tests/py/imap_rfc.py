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
import zlib

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
    # RFC 9051 §6.3.4: a server that keeps no \\Noselect level refuses DELETE of a
    # mailbox with inferiors, with HASCHILDREN; deleting the child first works.
    status, _ = raw(imap, "DELETE \"C&APQ-ng v&AQM-n\"")
    assert status.startswith("NO [HASCHILDREN]"), status
    status, _ = raw(imap, "DELETE \"C&APQ-ng v&AQM-n/2024\"")
    assert status.startswith("OK"), status
    status, _ = raw(imap, "DELETE \"C&APQ-ng v&AQM-n\"")
    assert status.startswith("OK"), status


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


def check_acl(imap):
    # RFC 4314 §3 on the official's own (personal) mailbox: the owner alone, with
    # every right; a personal mailbox is never delegated (Art. 16.1).
    data = ok(imap.myrights("INBOX"), "MYRIGHTS")
    assert data[0] == b'"INBOX" "lrswipkxteacd"', data
    data = ok(imap.getacl("INBOX"), "GETACL")
    assert data[0] == f'"INBOX" "{USER}" "lrswipkxteacd"'.encode(), data
    typ, data = imap.setacl("INBOX", "hoalt.sttt@thanhhoa.gov.vn", "lr")
    assert typ == "NO" and data[0].startswith(b"[CANNOT]"), (typ, data)
    # §3.1: an unknown right is a BAD, never silently ignored.
    status, _ = raw(imap, "SETACL INBOX someone lrQ")
    assert status.startswith("BAD"), status
    typ, data = imap.myrights("Shared/nowhere/INBOX")
    assert typ == "NO" and data[0].startswith(b"[NONEXISTENT]"), (typ, data)
    data = ok(imap.namespace(), "NAMESPACE")
    assert data[0] == b'(("" "/")) NIL (("Shared/" "/"))', data


def check_rights_texk(imap):
    # RFC 4314 §2.1: t, e, x and k are rights of their own, granted separately.
    # (imaplib has no LISTRIGHTS.)
    status, lines = raw(imap, "LISTRIGHTS INBOX hoalt.sttt@thanhhoa.gov.vn")
    assert status.startswith("OK"), status
    assert lines == ['* LISTRIGHTS "INBOX" "hoalt.sttt@thanhhoa.gov.vn" "" l r s w i p k x t e'], lines
    status, lines = raw(imap, f"LISTRIGHTS INBOX {USER}")
    assert status.startswith("OK") and lines == [f'* LISTRIGHTS "INBOX" "{USER}" "lrswipkxteacd"'], lines


def uid_of(appended):
    """The UID from an APPEND's `[APPENDUID v uid]`."""
    return re.search(r"APPENDUID \d+ (\d+)", appended).group(1)


def append_message(imap, headers):
    data = ok(imap.append("INBOX", "()", None, (headers + "\r\nNoi dung.\r\n").encode()), "APPEND")
    return uid_of(data[0].decode())


def check_sort(imap):
    uids = [append_message(imap, f"From: a@x.vn\r\nSubject: {s}\r\nDate: {d} Mar 2024 08:00:00 +0700\r\n")
            for s, d in [("sort-b", 3), ("Re: sort-a", 5), ("[list] sort-c (fwd)", 4)]]
    ok(imap.select("INBOX"), "SELECT")
    # RFC 5256 §2.1 base subjects: sort-a, sort-b, sort-c.
    data = ok(imap.uid("SORT", "(REVERSE SUBJECT)", "UTF-8", "SUBJECT", "sort-"), "UID SORT")
    assert data[0].decode().split() == [uids[2], uids[0], uids[1]], (data, uids)
    data = ok(imap.uid("SORT", "(DATE)", "US-ASCII", "SUBJECT", "sort-"), "UID SORT")
    assert data[0].decode().split() == [uids[0], uids[2], uids[1]], (data, uids)
    status, _ = raw(imap, "SORT (SUBJECT) KOI8-R ALL")
    assert status.startswith("NO [BADCHARSET"), status


def check_sort_display(imap):
    # FROM sorts on the mailbox (local part), DISPLAYFROM on the display name.
    uids = [append_message(imap, f"From: {f}\r\nSubject: display-sort\r\n")
            for f in ["Zung <an@x.vn>", "=?UTF-8?Q?=C3=81nh?= <zed@x.vn>", "ba@x.vn"]]
    ok(imap.select("INBOX"), "SELECT")
    data = ok(imap.uid("SORT", "(FROM)", "UTF-8", "SUBJECT", "display-sort"), "UID SORT")
    assert data[0].decode().split() == [uids[0], uids[2], uids[1]], (data, uids)
    # "Ánh", "ba@x.vn" (no name: its address), "Zung": i;unicode-casemap (RFC 5051)
    # compares "Ánh" as A + accent, so it sorts with the A's, as Dovecot does.
    data = ok(imap.uid("SORT", "(DISPLAYFROM)", "UTF-8", "SUBJECT", "display-sort"), "UID SORT")
    assert data[0].decode().split() == [uids[1], uids[2], uids[0]], (data, uids)


def check_i18nlevel(imap):
    # RFC 5255 §4 (I18NLEVEL=1): SEARCH and SORT compare under i;unicode-casemap,
    # so "KHẨN" matches "khẩn" (not ASCII letters: i;ascii-casemap would not), and
    # an accented initial sorts with its base letter.
    uids = [append_message(imap, f"From: a@x.vn\r\nSubject: {s}\r\n")
            for s in ["=?UTF-8?Q?C=C3=B4ng_v=C4=83n_KH=E1=BA=A8N?= i18n", "=?UTF-8?Q?=C3=81o_m=C6=B0a?= i18n", "Bao cao i18n"]]
    ok(imap.select("INBOX"), "SELECT")
    imap.literal = "khẩn".encode()
    data = ok(imap.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT"), "UID SEARCH")
    assert data[0].decode().split() == [uids[0]], (data, uids)
    data = ok(imap.uid("SORT", "(SUBJECT)", "UTF-8", "SUBJECT", "i18n"), "UID SORT")
    assert data[0].decode().split() == [uids[1], uids[2], uids[0]], (data, uids)


THREAD_UIDS = {}


def thread_fixture(imap):
    """Five messages: a plan with a reply (References) and an answer under another
    subject (In-Reply-To), and a report with a forward found by subject alone."""
    if not THREAD_UIDS:
        for name, subject, day, extra in [
            ("plan", "thr-plan", 4, ""),
            ("reply", "Re: thr-plan", 5, "References: <plan@thr.vn>\r\n"),
            ("report", "thr-report", 3, ""),
            ("moved", "thr-moved", 6, "In-Reply-To: <plan@thr.vn>\r\n"),
            ("fwd", "[Fwd: thr-report]", 7, ""),
        ]:
            THREAD_UIDS[name] = append_message(
                imap, f"From: a@x.vn\r\nSubject: {subject}\r\nDate: {day} Mar 2024 08:00:00 +0700\r\n"
                      f"Message-ID: <{name}@thr.vn>\r\n{extra}")
    ok(imap.select("INBOX"), "SELECT")
    return THREAD_UIDS


def check_thread_orderedsubject(imap):
    u = thread_fixture(imap)
    data = ok(imap.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "SUBJECT", "thr-"), "UID THREAD")
    want = f"({u['report']} {u['fwd']})({u['plan']} {u['reply']})({u['moved']})"
    assert data[0].decode() == want, (data, want)


def check_thread_references(imap):
    u = thread_fixture(imap)
    data = ok(imap.uid("THREAD", "REFERENCES", "UTF-8", "SUBJECT", "thr-"), "UID THREAD")
    want = f"({u['report']} {u['fwd']})({u['plan']} ({u['reply']})({u['moved']}))"
    assert data[0].decode() == want, (data, want)


class Inflating:
    """The read side of imaplib's connection under COMPRESS: raw inflate."""

    def __init__(self, sock):
        self.sock, self.inflater, self.buffer = sock, zlib.decompressobj(-15), b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += self.inflater.decompress(data)

    def readline(self, _limit=-1):
        while b"\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\n") + 1
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def close(self):
        pass


def check_compress_deflate(_imap):
    imap = login()
    status, _ = raw(imap, "COMPRESS DEFLATE")
    assert status.startswith("OK"), status
    # RFC 4978 §3: raw deflate both ways from here; flushed after each command as
    # clients do (a sync flush), and the server's responses must arrive whole.
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    sock = imap.sock
    imap.send = lambda data: sock.sendall(deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH))
    imap.file = Inflating(sock)
    ok(imap.select("INBOX"), "SELECT")
    data = ok(imap.fetch("1:*", "(FLAGS BODY.PEEK[])"), "FETCH")
    assert any(isinstance(d, tuple) and b"Kinh gui" in d[1] for d in data), data[:2]
    status, _ = raw(imap, "COMPRESS DEFLATE")
    assert status.startswith("NO [COMPRESSIONACTIVE]"), status
    # Two commands in one deflate block both run.
    first, second = imap._new_tag(), imap._new_tag()
    imap.send(first + b" NOOP\r\n" + second + b" UID SEARCH ALL\r\n")
    lines = []
    while not lines or not lines[-1].startswith(second):
        lines.append(imap._get_line())
    assert any(l.startswith(first + b" OK") for l in lines) and lines[-1].startswith(second + b" OK"), lines
    # IDLE under compression: new mail arrives as EXISTS; DONE and the next command
    # in one deflate block (pipelining after DONE) both run.
    idle, after = imap._new_tag(), imap._new_tag()
    imap.send(idle + b" IDLE\r\n")
    assert imap._get_line().startswith(b"+"), "no IDLE continuation"
    other = login()
    append(other, "compressed-idle")
    other.logout()
    line = imap._get_line()
    assert re.match(rb"\* \d+ EXISTS", line), line
    imap.send(b"DONE\r\n" + after + b" NOOP\r\n")
    lines = []
    while not lines or not lines[-1].startswith(after):
        lines.append(imap._get_line())
    assert any(l.startswith(idle + b" OK") for l in lines) and lines[-1].startswith(after + b" OK"), lines
    imap.logout()


def check_binary(imap):
    import base64
    payload = bytes(range(256))
    encoded = base64.encodebytes(payload).decode().replace("\n", "\r\n")
    message = ("From: a@x.vn\r\nSubject: binary-check\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
               "--z\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               + encoded + "--z--\r\n")
    uid = uid_of(ok(imap.append("INBOX", "()", None, message.encode()), "APPEND")[0].decode())
    ok(imap.select("INBOX"), "SELECT")
    # RFC 3516 §4.2: the attachment's own bytes, as a literal8 since they hold NUL.
    data = ok(imap.uid("FETCH", uid, "(BINARY.PEEK[1] BINARY.SIZE[1])"), "UID FETCH BINARY")
    assert data[0][0].endswith(b"~{256}") and data[0][1] == payload, data
    assert b"BINARY.SIZE[1] 256" in data[1], data
    # RFC 3516 §4.4: APPEND with a literal8.
    tag = imap._new_tag()
    appended = b"Subject: binary-append\r\n\r\nx\x00y\r\n"
    imap.send(tag + b" APPEND INBOX ~{" + str(len(appended)).encode() + b"+}\r\n" + appended + b"\r\n")
    line = imap._get_line()
    while not line.startswith(tag):
        line = imap._get_line()
    assert b" OK [APPENDUID" in line, line


def check_utf8_accept(_imap):
    # RFC 6855 §3: ENABLE is valid only before SELECT, so on a fresh session.
    fresh = login()
    ok(fresh.enable("UTF8=ACCEPT"), "ENABLE UTF8=ACCEPT")
    name = "Tờ trình & Công văn"
    ok(fresh.create(f'"{name}"'), "CREATE")
    data = ok(fresh.list('""', f'"{name}"'), "LIST")
    assert data == [f'(\\HasNoChildren) "/" "{name}"'.encode()], data
    # RFC 6855 §4 `UTF8 (~{n})`, by hand: imaplib puts the wrapper inside its literal.
    body = "From: Văn thư <vt@thanhhoa.gov.vn>\r\nSubject: Giấy mời họp\r\n\r\nKính gửi.\r\n".encode()
    tag = fresh._new_tag()
    fresh.send(tag + f' APPEND "{name}" UTF8 (~{{{len(body)}+}}\r\n'.encode() + body + b")\r\n")
    line = fresh._get_line()
    while not line.startswith(tag):
        line = fresh._get_line()
    assert b" OK [APPENDUID" in line, line
    status, lines = raw(fresh, f'STATUS "{name}" (MESSAGES)')
    assert status.startswith("OK") and lines == [f'* STATUS "{name}" (MESSAGES 1)'], (status, lines)
    ok(fresh.select(f'"{name}"'), "SELECT")
    data = ok(fresh.search(None, "SUBJECT", '"mời họp"'), "SEARCH")
    assert data == [b"1"], data
    # A session that did not enable it keeps modified UTF-7 names.
    other = login()
    data = ok(other.list('""', '"T&Ht0- tr&AOw-nh &- C&APQ-ng v&AQM-n"'), "LIST")
    assert data == [b'(\\HasNoChildren) "/" "T&Ht0- tr&AOw-nh &- C&APQ-ng v&AQM-n"'], data
    other.logout()
    fresh.logout()


def check_searchres(imap):
    ok(imap.select("INBOX"), "SELECT")
    uid = uid_of(append(imap, "searchres-check"))
    # RFC 5182: SAVE alone answers with the OK only; `$` is then the saved result.
    status, lines = raw(imap, 'SEARCH RETURN (SAVE) SUBJECT "searchres-check"')
    assert status.startswith("OK") and lines == [], (status, lines)
    data = ok(imap.uid("FETCH", "$", "(UID)"), "UID FETCH $")
    assert len(data) == 1 and data[0].endswith(f"(UID {uid})".encode()), data
    data = ok(imap.uid("SEARCH", "UID", "$"), "UID SEARCH UID $")
    assert data == [uid.encode()], data


def check_status_size(imap):
    body = MESSAGE.format(user=USER, subject="status-size").encode()
    ok(imap.create("status-size"), "CREATE")
    ok(imap.append("status-size", "()", None, body), "APPEND")
    data = ok(imap.status("status-size", "(MESSAGES SIZE)"), "STATUS")
    assert data == [f'"status-size" (MESSAGES 1 SIZE {len(body)})'.encode()], data


def check_imap4rev2(_imap):
    # RFC 9051 §6.3.1: ENABLE IMAP4rev2 before SELECT, so on a fresh session.
    fresh = login()
    status, lines = raw(fresh, "ENABLE IMAP4rev2")
    assert status.startswith("OK") and lines == ["* ENABLED IMAP4rev2"], (status, lines)
    status, lines = raw(fresh, "SELECT INBOX")
    assert status.startswith("OK [READ-WRITE]"), status
    assert '* LIST () "/" "INBOX"' in lines, lines
    assert not any("RECENT" in l or "UNSEEN" in l for l in lines), lines
    # RFC 9051 §6.4.4: SEARCH is answered with ESEARCH.
    status, lines = raw(fresh, 'SEARCH SUBJECT "rfc-1"')
    assert status.startswith("OK") and len(lines) == 1, (status, lines)
    assert re.fullmatch(r'\* ESEARCH \(TAG "[^"]+"\) ALL [0-9:,]+', lines[0]), lines
    status, lines = raw(fresh, "FETCH 1:* (FLAGS)")
    assert status.startswith("OK") and not any("\\Recent" in l for l in lines), lines
    fresh.logout()


CHECKS = {
    "IMAP4rev1": check_imap4rev1,
    "IMAP4rev2": check_imap4rev2,
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
    "ACL": check_acl,
    "RIGHTS=texk": check_rights_texk,
    "SORT": check_sort,
    "SORT=DISPLAY": check_sort_display,
    "I18NLEVEL=1": check_i18nlevel,
    "THREAD=ORDEREDSUBJECT": check_thread_orderedsubject,
    "THREAD=REFERENCES": check_thread_references,
    "COMPRESS=DEFLATE": check_compress_deflate,
    "BINARY": check_binary,
    "UTF8=ACCEPT": check_utf8_accept,
    "SEARCHRES": check_searchres,
    "STATUS=SIZE": check_status_size,
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
