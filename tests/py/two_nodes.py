#!/usr/bin/env python3
"""Two congvu nodes on one PostgreSQL store, driven as clients see them (issue 17).

- IDLE on node B (raw IMAP over TLS: imaplib has no IDLE before Python 3.14);
- a message submitted with smtplib on node A;
- B's IDLE must report it (EXISTS) within --idle-limit seconds, and B must serve it;
- flags set on B must come back from a CONDSTORE resync on A (RFC 7162
  CHANGEDSINCE).

Prints one JSON document: the timings and what each node answered.
"""
import argparse
import json
import re
import smtplib
import socket
import ssl
import sys
import time
import uuid
from email.message import EmailMessage
import email.policy

HOST = "127.0.0.1"


def tls_context(cafile):
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    return context


class Imap:
    """A line-level IMAP client: enough for IDLE and CONDSTORE."""

    def __init__(self, port, cafile):
        raw = socket.create_connection((HOST, port), timeout=30)
        self.sock = tls_context(cafile).wrap_socket(raw)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.line()  # greeting

    def line(self):
        line = self.file.readline()
        if not line:
            raise RuntimeError("connection closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def command(self, text):
        self.tag += 1
        tag = "t%d" % self.tag
        self.send("%s %s" % (tag, text))
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise RuntimeError("%s -> %s" % (text, line))
                return untagged
            untagged.append(line)


def submit(port, cafile, user, password, sender, to, message_id):
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Giấy mời họp liên ngành qua hai máy chủ"
    msg["Message-ID"] = message_id
    msg.set_content("Kính gửi đồng chí,\nMời dự họp lúc 8 giờ.\n")
    client = smtplib.SMTP_SSL(HOST, port, context=tls_context(cafile), timeout=30)
    client.login(user, password)
    client.send_message(msg)
    client.quit()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--a-submissions", type=int, required=True)
    p.add_argument("--a-imaps", type=int, required=True)
    p.add_argument("--b-imaps", type=int, required=True)
    p.add_argument("--cafile-a", required=True)
    p.add_argument("--cafile-b", required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--sender-password", required=True)
    p.add_argument("--recipient", required=True)
    p.add_argument("--recipient-password", required=True)
    args = p.parse_args()
    result = {}

    # B: select the INBOX with CONDSTORE and idle.
    b = Imap(args.b_imaps, args.cafile_b)
    b.command('LOGIN "%s" "%s"' % (args.recipient, args.recipient_password))
    b.command("ENABLE CONDSTORE")
    b.command("SELECT INBOX")
    b.tag += 1
    idle_tag = "t%d" % b.tag
    b.send(idle_tag + " IDLE")
    assert b.line().startswith("+"), "IDLE continuation"

    # A: submission.
    message_id = "<hai-nut-%s@thanhhoa.gov.vn>" % uuid.uuid4().hex[:12]
    submitting = time.monotonic()
    submit(args.a_submissions, args.cafile_a, args.sender, args.sender_password,
           args.sender, args.recipient, message_id)
    accepted = time.monotonic()

    # B's IDLE is woken by A's delivery.
    b.sock.settimeout(10)
    exists = None
    while exists is None:
        line = b.line()
        match = re.match(r"\* (\d+) EXISTS", line)
        if match:
            exists = int(match.group(1))
    woken = time.monotonic()
    # From A's 250 (the EXISTS may come before smtplib returns) and from the start
    # of the submission.
    result["idle_wake_seconds"] = round(max(0.0, woken - accepted), 3)
    result["submission_to_exists_seconds"] = round(woken - submitting, 3)
    b.send("DONE")
    while not b.line().startswith(idle_tag + " "):
        pass

    # B serves the message A accepted.
    fetched = b.command("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    uid = None
    text = "\n".join(fetched)
    for line in fetched:
        m = re.match(r"\* \d+ FETCH \(UID (\d+)", line)
        if m:
            uid = int(m.group(1))
    result["read_on_b"] = message_id in text
    result["uid"] = uid

    # A: the CONDSTORE state before B changes anything.
    a = Imap(args.a_imaps, args.cafile_a)
    a.command('LOGIN "%s" "%s"' % (args.recipient, args.recipient_password))
    selected = a.command("SELECT INBOX (CONDSTORE)")
    modseq = next(int(m.group(1)) for line in selected
                  for m in [re.search(r"HIGHESTMODSEQ (\d+)", line)] if m)
    result["modseq_before"] = modseq

    # B flags the message; A resynchronises with CHANGEDSINCE.
    b.command("UID STORE %d +FLAGS (\\Flagged $Important)" % uid)
    changed = a.command("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % modseq)
    result["resync_on_a"] = changed

    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
