#!/usr/bin/env python3
"""Validates a Thunderbird autoconfig document (config-v1.1.xml) read from stdin
against the format Thunderbird reads (wiki.mozilla.org Thunderbird:Autoconfiguration:
ConfigFileFormat, and comm-central's readFromXML.sys.mjs): the elements it requires,
the values it accepts.

usage: autoconfig_check.py DOMAIN USERNAME  (USERNAME: the expected <username>)
Prints the servers found, one per line; exits non-zero on any deviation.
"""

import sys
import xml.etree.ElementTree as ET

SOCKET_TYPES = {"plain", "SSL", "STARTTLS"}
AUTHENTICATIONS = {"password-cleartext", "password-encrypted", "NTLM", "GSSAPI", "client-IP-address",
                   "TLS-client-cert", "OAuth2", "none"}


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def server(element, kinds):
    if element.get("type") not in kinds:
        fail(f"{element.tag} type {element.get('type')!r} not in {kinds}")
    fields = {child.tag: (child.text or "").strip() for child in element}
    for required in ("hostname", "port", "socketType", "authentication", "username"):
        if not fields.get(required):
            fail(f"{element.tag} lacks <{required}>")
    if not fields["port"].isdigit() or not 0 < int(fields["port"]) < 65536:
        fail(f"bad port {fields['port']!r}")
    if fields["socketType"] not in SOCKET_TYPES:
        fail(f"bad socketType {fields['socketType']!r}")
    if fields["authentication"] not in AUTHENTICATIONS:
        fail(f"bad authentication {fields['authentication']!r}")
    return fields


def main():
    domain, username = sys.argv[1], sys.argv[2]
    root = ET.fromstring(sys.stdin.buffer.read())
    if root.tag != "clientConfig" or root.get("version") != "1.1":
        fail(f"root is {root.tag} version {root.get('version')}")
    providers = root.findall("emailProvider")
    if len(providers) != 1 or not providers[0].get("id"):
        fail("exactly one emailProvider with an id is required")
    provider = providers[0]
    if domain not in [d.text for d in provider.findall("domain")]:
        fail(f"<domain>{domain}</domain> missing")
    incoming = provider.findall("incomingServer")
    outgoing = provider.findall("outgoingServer")
    if not incoming or not outgoing:
        fail("needs an incomingServer and an outgoingServer")
    for element in incoming:
        fields = server(element, {"imap", "pop3"})
        print(f"incoming {element.get('type')} {fields['hostname']}:{fields['port']} {fields['socketType']}")
        if fields["username"] != username:
            fail(f"username {fields['username']!r} != {username!r}")
    for element in outgoing:
        fields = server(element, {"smtp"})
        print(f"outgoing smtp {fields['hostname']}:{fields['port']} {fields['socketType']}")
        if fields["username"] != username:
            fail(f"username {fields['username']!r} != {username!r}")


if __name__ == "__main__":
    main()
