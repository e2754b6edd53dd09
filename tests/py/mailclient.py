#!/usr/bin/env python3
"""Real-client driver for congvu's end-to-end tests: Python's smtplib and imaplib.

Every sub-command prints one JSON document on stdout. Protocol refusals are data
(`{"ok": false, "code": 550, ...}`), so the Rust test asserts the exact reply; only a
broken script exits non-zero.
"""
import argparse
import email.policy
import imaplib
import json
import os
import smtplib
import ssl
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate

HOST = "127.0.0.1"


def tls_context(cafile):
    context = ssl.create_default_context(cafile=cafile)
    # The test certificate names mail.thanhhoa.gov.vn and localhost, and we dial an IP.
    context.check_hostname = False
    return context


def minimal_pdf(padding_kib):
    """A structurally valid one-page PDF, padded with a binary stream to the size."""
    stream = bytes((i * 7 + 13) % 256 for i in range(padding_kib * 1024))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def build_message(args):
    if getattr(args, "raw", None):
        # A prepared message, sent byte for byte (CRLF line ends as smtplib needs).
        with open(args.raw, "rb") as raw:
            return raw.read()
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = args.sender
    msg["To"] = ", ".join(args.to)
    msg["Subject"] = args.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = args.message_id or "<%s@test.thanhhoa.gov.vn>" % uuid.uuid4()
    msg.set_content(args.body)
    if args.pdf_kib is not None:
        msg.add_attachment(minimal_pdf(args.pdf_kib), maintype="application", subtype="pdf",
                           filename="cong-van-so-123.pdf")
    for path in getattr(args, "attach", None) or []:
        # Sent as application/octet-stream: the server must judge by content.
        with open(path, "rb") as attached:
            msg.add_attachment(attached.read(), maintype="application", subtype="octet-stream",
                               filename=os.path.basename(path))
    return msg.as_bytes()


def smtp_connect(args):
    # Optional: a loopback source address (another "agency" than 127.0.0.1) and a
    # longer timeout for very large messages.
    source = (args.source, 0) if getattr(args, "source", None) else None
    timeout = getattr(args, "timeout", 60)
    if args.security == "tls":
        client = smtplib.SMTP_SSL(HOST, args.port, context=tls_context(args.cafile), timeout=timeout,
                                  source_address=source)
    else:
        client = smtplib.SMTP(HOST, args.port, timeout=timeout, source_address=source)
    client.ehlo("client.test")
    if args.security == "starttls":
        client.starttls(context=tls_context(args.cafile))
        client.ehlo("client.test")
    if args.auth == "plain":
        client.user, client.password = args.user, args.password
        client.auth("PLAIN", client.auth_plain)
    elif args.auth == "login":
        # Outlook's form: AUTH LOGIN, then username and password on 334 prompts.
        client.user, client.password = args.user, args.password
        client.auth("LOGIN", client.auth_login, initial_response_ok=False)
    return client


def refusal(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return {"ok": False, "code": None, "message": str(error)}
    return {"ok": False, "code": code, "message": text.decode("utf-8", "replace")}


def cmd_send(args):
    data = build_message(args)
    if args.eml:
        with open(args.eml, "wb") as out:
            out.write(data)
    try:
        client = smtp_connect(args)
        refused = client.sendmail(args.sender, args.to, data,
                                  mail_options=args.mail_option or [], rcpt_options=args.rcpt_option or [])
        client.quit()
    except (smtplib.SMTPException, OSError) as error:
        return refusal(error)
    return {"ok": True, "refused": {k: [v[0], v[1].decode()] for k, v in refused.items()}}


def imap_connect(args):
    if args.security == "tls":
        client = imaplib.IMAP4_SSL(HOST, args.port, ssl_context=tls_context(args.cafile))
    else:
        client = imaplib.IMAP4(HOST, args.port)
        client.starttls(ssl_context=tls_context(args.cafile))
    client.login(args.user, args.password)
    return client


def mailbox_status(client, mailbox):
    typ, data = client.status(mailbox, "(MESSAGES UIDNEXT UIDVALIDITY)")
    assert typ == "OK", data
    words = data[0].decode().split("(", 1)[1].rstrip(")").split()
    return {words[i].lower(): int(words[i + 1]) for i in range(0, len(words), 2)}


def cmd_fetch(args):
    client = imap_connect(args)
    status = mailbox_status(client, args.mailbox)
    typ, _ = client.select(args.mailbox, readonly=True)
    assert typ == "OK"
    typ, data = client.uid("SEARCH", None, "ALL")
    uids = [int(u) for u in data[0].split()]
    messages = []
    for uid in uids:
        typ, parts = client.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[])")
        raw = parts[0][1]
        if args.out:
            with open("%s/%d.eml" % (args.out, uid), "wb") as out:
                out.write(raw)
        messages.append({"uid": uid, "size": len(raw)})
    client.logout()
    return {"status": status, "messages": messages}


def cmd_ids(args):
    """UIDs and Message-IDs of a mailbox, in UID order."""
    client = imap_connect(args)
    status = mailbox_status(client, args.mailbox)
    client.select(args.mailbox, readonly=True)
    typ, data = client.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    found = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode()
        uid = int(head.split("UID ", 1)[1].split()[0])
        header = item[1].decode().strip()
        found.append({"uid": uid, "message_id": header.split(":", 1)[1].strip() if ":" in header else ""})
    client.logout()
    return {"status": status, "messages": found}


def cmd_state(args):
    """What an IMAP client sees of every mailbox: STATUS, and each message's UID,
    flags, internal date, size, Message-ID and the SHA-256 of its bytes."""
    import hashlib
    import re
    client = imap_connect(args)
    typ, listing = client.list()
    state = {}
    for line in listing:
        found = re.match(r'\((?P<attrs>[^)]*)\) (?:NIL|"(?:[^"\\]|\\.)") (?P<name>.*)$', line.decode())
        if "\\Noselect" in found.group("attrs") or "\\NonExistent" in found.group("attrs"):
            continue
        wire = found.group("name").strip().strip('"')
        name = mutf7_decode(wire)
        status = mailbox_status(client, '"%s"' % wire)
        client.select('"%s"' % wire, readonly=True)
        messages = []
        if status["messages"]:
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head = item[0].decode()
                body = item[1]
                found = re.search(rb"^Message-ID:\s*(\S+)", body, re.I | re.M)
                messages.append({
                    "uid": int(re.search(r"UID (\d+)", head).group(1)),
                    "flags": sorted(re.search(r"FLAGS \(([^)]*)\)", head).group(1).split()),
                    "internaldate": re.search(r'INTERNALDATE "([^"]+)"', head).group(1),
                    "size": len(body),
                    "message_id": found.group(1).decode() if found else "",
                    "sha256": hashlib.sha256(body).hexdigest(),
                })
        state[name] = {"status": status, "messages": sorted(messages, key=lambda m: m["uid"])}
    client.logout()
    return state


def cmd_flag(args):
    """UID STORE +FLAGS on --uids of --mailbox."""
    client = imap_connect(args)
    client.select(args.mailbox)
    typ, data = client.uid("STORE", args.uids, "+FLAGS", "(%s)" % args.flags)
    client.logout()
    return {"ok": typ == "OK"}


def mutf7_encode(name):
    """RFC 3501 §5.1.3 modified UTF-7: what imaplib does not do for us."""
    import base64
    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(name):
    import base64
    import re

    def part(match):
        text = match.group(1)
        if not text:
            return "&"
        text = text.replace(",", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", part, name)


def cmd_append(args):
    """APPEND --file to --mailbox (created when missing) with --flags and --date."""
    client = imap_connect(args)
    mailbox = '"%s"' % mutf7_encode(args.mailbox)
    client.create(mailbox)
    with open(args.file, "rb") as message:
        data = message.read()
    flags = "(%s)" % args.flags if args.flags else None
    date = imaplib.Time2Internaldate(args.date) if args.date else None
    typ, response = client.append(mailbox, flags, date, data)
    client.logout()
    return {"ok": typ == "OK", "response": [r.decode() for r in response if isinstance(r, bytes)]}


def cmd_flood(args):
    """Concurrent submitters, each a new connection per message; every id that got
    250 is appended to --acked before the next message starts."""
    lock = threading.Lock()
    acked = open(args.acked, "a", buffering=1)
    deadline = time.time() + args.seconds
    counts = {"acked": 0, "errors": 0}

    def worker(n):
        for i in range(args.count):
            if time.time() > deadline:
                return
            message_id = "<flood-%d-%d-%s@test.thanhhoa.gov.vn>" % (n, i, uuid.uuid4().hex[:8])
            local = argparse.Namespace(**vars(args))
            local.message_id = message_id
            data = build_message(local)
            try:
                client = smtp_connect(args)
                client.sendmail(args.sender, args.to, data)
            except (smtplib.SMTPException, OSError) as error:
                with lock:
                    counts["errors"] += 1
                    counts.setdefault("first_error", repr(error))
                return  # the server is gone (or refused): stop this client
            with lock:
                acked.write(message_id + "\n")
                counts["acked"] += 1
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                pass

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("send", "fetch", "ids", "flood", "state", "flag", "append"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--security", choices=["none", "starttls", "tls"], default="starttls")
        p.add_argument("--cafile")
        p.add_argument("--user")
        p.add_argument("--password")
        if name in ("send", "flood"):
            p.add_argument("--auth", choices=["none", "plain", "login"], default="plain")
            p.add_argument("--from", dest="sender", required=True)
            p.add_argument("--to", action="append", required=True)
            p.add_argument("--subject", default="Thông báo lịch họp giao ban tháng 12")
            p.add_argument("--body", default="Kính gửi các đồng chí,\nĐề nghị dự họp đúng giờ.\n")
            p.add_argument("--pdf-kib", type=int)
            p.add_argument("--message-id")
            p.add_argument("--eml")
            p.add_argument("--attach", action="append", help="attach this file (repeatable)")
            p.add_argument("--raw", help="send this prepared message instead of building one")
            p.add_argument("--mail-option", action="append", help="MAIL FROM parameter, e.g. RET=HDRS (repeatable)")
            p.add_argument("--rcpt-option", action="append", help="RCPT TO parameter, e.g. NOTIFY=SUCCESS (repeatable)")
        if name in ("fetch", "ids", "flag", "append"):
            p.add_argument("--mailbox", default="INBOX")
            p.add_argument("--out")
        if name == "flag":
            p.add_argument("--uids", required=True)
            p.add_argument("--flags", required=True)
        if name == "append":
            p.add_argument("--file", required=True)
            p.add_argument("--flags", default="")
            p.add_argument("--date", type=float, help="internal date, Unix seconds")
        if name == "flood":
            p.add_argument("--clients", type=int, default=10)
            p.add_argument("--count", type=int, default=1000)
            p.add_argument("--seconds", type=float, default=30)
            p.add_argument("--acked", required=True)
    args = parser.parse_args()
    result = {"send": cmd_send, "fetch": cmd_fetch, "ids": cmd_ids, "flood": cmd_flood, "state": cmd_state, "flag": cmd_flag, "append": cmd_append}[args.command](args)
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
