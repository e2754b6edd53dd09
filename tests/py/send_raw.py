#!/usr/bin/env python3
"""Sends prepared messages byte for byte with smtplib: `sendmail(from, [to], bytes)`,
one connection per file, and prints one JSON object, file name → reply:

    {"case.eml": {"code": 250 | 5xx | 4xx | null, "message": "...", "log": [...]}}

    send_raw.py FILE... --port P [--security none|starttls|tls] [--cafile F]
                [--user U --password P] --from ADDR --to ADDR
                [--source 127.0.0.2] [--log SERVER_LOG]

- `--source`: the client's own address (loopback has all of 127/8), so a test can
  come from an "agency relay" network and from the Internet on the same server;
- `--log`: the server's log file; the lines it gained while a file was sent (the
  server logs its verdict before it replies) are returned with the reply, so a test
  names the rule that refused each message without guessing which line is whose.

smtplib leaves bytes as they are (only dot-stuffing, which the server undoes), so a
bare CR or LF in a file reaches the server too. A refusal is data, not an error: only
a broken script exits non-zero.
"""
import argparse
import json
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailclient import smtp_connect  # noqa: E402  (one way to connect, shared)


def reply_of(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return {"code": None, "message": "%s: %s" % (type(error).__name__, error)}
    return {"code": code, "message": text.decode("utf-8", "replace")}


def log_size(path):
    return os.path.getsize(path) if path and os.path.exists(path) else 0


def new_log_lines(path, offset):
    if not path:
        return []
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", "replace").splitlines()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--security", choices=["none", "starttls", "tls"], default="none")
    parser.add_argument("--cafile")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--from", dest="sender", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--source")
    parser.add_argument("--log")
    args = parser.parse_args()
    args.auth = "plain" if args.user else "none"
    args.timeout = 120  # the corpus's largest messages are tens of MB
    results = {}
    for path in args.files:
        with open(path, "rb") as f:
            data = f.read()
        offset = log_size(args.log)
        client = None
        try:
            client = smtp_connect(args)
            client.sendmail(args.sender, [args.to], data)
            reply = {"code": 250, "message": ""}
        except (smtplib.SMTPException, OSError) as error:
            reply = reply_of(error)
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        reply["log"] = new_log_lines(args.log, offset)
        results[os.path.basename(path)] = reply
    json.dump(results, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
