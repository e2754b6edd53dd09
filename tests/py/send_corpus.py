#!/usr/bin/env python3
"""Sends each case of a corpus made by tests/data/messages/make_messages.py, byte for
byte, one SMTP connection per message (smtplib), and prints one JSON object: case →
{"ok": bool, "code": int|null, "message": str}.

    send_corpus.py DIR --port P --security none|starttls|tls [--cafile F]
                   [--user U --password P] --from ADDR --to ADDR [--class legit|hostile] [--mx]
"""
import argparse, json, os, smtplib, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailclient import smtp_connect  # noqa: E402  (one way to connect, shared)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--security", choices=["none", "starttls", "tls"], default="none")
    p.add_argument("--cafile")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--class", dest="cls")
    p.add_argument("--mx", action="store_true", help="port 25: skip the cases marked submission-only")
    args = p.parse_args()
    args.auth = "plain" if args.user else "none"
    with open(os.path.join(args.dir, "manifest.json")) as f:
        manifest = json.load(f)
    results = {}
    for entry in manifest:
        if args.cls and entry["class"] != args.cls or args.mx and entry.get("mx") is False:
            continue
        with open(os.path.join(args.dir, entry["case"] + ".eml"), "rb") as f:
            data = f.read()
        try:
            client = smtp_connect(args)
            client.sendmail(args.sender, [args.to], data)
            client.quit()
            results[entry["case"]] = {"ok": True, "code": 250, "message": ""}
        except smtplib.SMTPResponseException as e:
            results[entry["case"]] = {"ok": False, "code": e.smtp_code,
                                      "message": e.smtp_error.decode("utf-8", "replace")}
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            results[entry["case"]] = {"ok": False, "code": code, "message": text.decode("utf-8", "replace")}
        except (smtplib.SMTPException, OSError) as e:
            results[entry["case"]] = {"ok": False, "code": None, "message": str(e)}
    json.dump(results, sys.stdout, ensure_ascii=False)
    print()

if __name__ == "__main__":
    main()
