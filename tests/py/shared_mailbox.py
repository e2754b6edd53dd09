#!/usr/bin/env python3
"""A clerk's view of a delegated agency mailbox, through imaplib, as JSON.

usage: shared_mailbox.py PORT CAFILE USER PASSWORD [--mailbox M] [--setacl M ID RIGHTS]

Logs in over implicit TLS, optionally runs SETACL first (the agency's own login
granting a clerk), then reports NAMESPACE, the LIST of every mailbox, MYRIGHTS,
and EXAMINE of the mailbox with the subjects it holds. IMAP refusals are data
(`{"ok": false, "text": "[NONEXISTENT] ..."}`); only a broken script exits non-zero.
"""
import argparse
import email
import email.policy
import imaplib
import json
import ssl
import sys


def answer(typ, data):
    text = b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d is not None)
    return {"ok": typ == "OK", "text": text.decode("utf-8", "replace")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("cafile")
    parser.add_argument("user")
    parser.add_argument("password")
    parser.add_argument("--mailbox", default="Shared/sttt/INBOX")
    parser.add_argument("--setacl", nargs=3, metavar=("MAILBOX", "IDENTIFIER", "RIGHTS"))
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    context.check_hostname = False
    imap = imaplib.IMAP4_SSL("127.0.0.1", args.port, ssl_context=context)
    imap.login(args.user, args.password)
    result = {}
    if args.setacl:
        result["setacl"] = answer(*imap.setacl(*args.setacl))
    typ, data = imap.namespace()
    result["namespace"] = data[0].decode() if typ == "OK" else None
    typ, data = imap.list('""', "*")
    result["list"] = [line.decode("utf-8", "replace") for line in data if line is not None]
    result["myrights"] = answer(*imap.myrights(args.mailbox))
    typ, data = imap.select(args.mailbox, readonly=True)
    result["select"] = answer(typ, data)
    subjects = []
    if typ == "OK":
        typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER])")
        for item in data:
            if isinstance(item, tuple):
                header = email.message_from_bytes(item[1], policy=email.policy.default)
                subjects.append(str(header["Subject"]))
        imap.close()
    result["subjects"] = subjects
    imap.logout()
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
