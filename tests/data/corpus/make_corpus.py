#!/usr/bin/env python3
"""Issue 10's message corpora, generated at test time (nothing generated is committed).

    make_corpus.py OUT --ca-only
    make_corpus.py OUT --from ADDR --to ADDR --other ADDR [--class legit|hostile|all]

`--ca-only` writes the test CA (OUT/pki/ca.pem, ca.key) and stops: the server's
`[smime] ca_file` must exist before it starts, the officials' addresses only after it
is provisioned. The full run reuses that CA, issues a signer certificate whose SAN
rfc822Name is the sender's address (`--from`) and writes, into OUT:

- `<case>.eml`: one message per case, CRLF line ends, bytes exactly as an SMTP client
  sends them; From: is `--from` (the submission From rule), To: is `--to`, the subject
  Vietnamese with diacritics unless the case is about subjects; Message-ID is
  `<case@corpus.test>`;
- `manifest.json`: a list of entries, one per case:
  `file`, `case`, `class` (`legit` | `hostile`), `shows` (what the case shows) and
  - legit: `verify` (`null`, `"whole"`: the stored message verifies as S/MIME,
    `"inner"`: the signed message forwarded inside verifies; `inner_file` holds it);
  - hostile: `reason` (the policy's stable reason code of docs/policy.md, or
    `antivirus` for clamd's 554, or `from_header` for the submission From rule),
    `reply` (the SMTP reply code), `conduct` (a conduct rule: on port 25 it refuses
    agency-relayed mail and only tags Internet mail), `submission_only` (the From rule:
    port 25 has no authenticated official), `smuggling` (bare CR / bare LF header
    smuggling, also checked on what the relay emits), `needs_clamd` (EICAR cases).

Certificates and keys are made with `openssl`, signatures with `openssl smime` /
`openssl cms` (each signed message is verified here before it is written). Every
structure that matters is written by hand where the `email` package would hide it:
TNEF (MS-OXTNEF), OLE2 (MS-CFB), zips with bombs and encrypted entries, BinHex 4.0
(RFC 1741), yEnc, uuencode. The EICAR test string is assembled from two pieces so this
script is not itself the test file.
"""
import argparse
import base64
import binascii
import io
import json
import os
import re
import struct
import subprocess
import sys
import unicodedata
import urllib.parse
import zipfile
import zlib
from email import encoders
from email import policy as email_policy
from email.header import Header
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "py"))
from mailclient import minimal_pdf  # noqa: E402  (tests/py: one PDF writer for all the tests)

SMTP = email_policy.SMTP.clone(linesep="\r\n", max_line_length=998)
SUBJECT = "Báo cáo tình hình thực hiện nhiệm vụ tháng 12 năm 2026"
BODY = "Kính gửi các đồng chí,\nĐề nghị các đơn vị báo cáo đúng thời hạn.\nTrân trọng.\n"
DATE = "Fri, 04 Dec 2026 09:00:00 +0700"
MIB = 1024 * 1024
CAP = 10 * MIB  # [policy.attachment_cap] max_bytes

# ------------------------------------------------------------------ files of each format


def pdf(size=1500):
    """A structurally valid one-page PDF (mailclient.py's), within a KiB of `size`."""
    return minimal_pdf(max(0, (size - 600) // 1024))


def ole2():
    """An empty but valid OLE2 compound file (MS-CFB v3): header, one FAT sector, one
    directory sector holding the Root Entry. `.doc`, `.xls` and `.ppt` all are OLE2."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", header, 0x18, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)           # FAT sectors
    struct.pack_into("<I", header, 0x30, 1)           # first directory sector
    struct.pack_into("<I", header, 0x38, 4096)        # mini stream cutoff
    struct.pack_into("<I", header, 0x3C, 0xFFFFFFFE)  # first mini FAT sector: none
    struct.pack_into("<I", header, 0x44, 0xFFFFFFFE)  # first DIFAT sector: none
    header[0x4C:0x200] = b"\xff" * (0x200 - 0x4C)     # DIFAT: free …
    struct.pack_into("<I", header, 0x4C, 0)           # … but sector 0 is the FAT
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE) + b"\xff" * 504
    root = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    root[0:len(name)] = name
    struct.pack_into("<HBB", root, 0x40, len(name), 5, 1)  # name length, root storage, black
    struct.pack_into("<III", root, 0x44, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    struct.pack_into("<II", root, 0x74, 0xFFFFFFFE, 0)  # start sector: none, size 0
    directory = bytes(root) + bytes(384)
    return bytes(header) + fat + directory


def zip_of(entries, first_stored=None):
    """A zip (deflated entries); `first_stored` is an uncompressed first entry (ODF)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if first_stored:
            z.writestr(zipfile.ZipInfo(first_stored[0], (2026, 12, 4, 9, 0, 0)), first_stored[1],
                       compress_type=zipfile.ZIP_STORED)
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (2026, 12, 4, 9, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def raw_zip(entries):
    """A zip written field by field: entries are (name, data as stored, crc, declared
    size, method, flags). For bombs (deflate streams declaring 100 MiB) and encrypted
    entries, which zipfile cannot write."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size, method, flags in entries:
        name = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x5984, crc, len(data), size,
                           len(name), 0) + name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x5984, crc, len(data),
                               size, len(name), 0, 0, 0, 0, 0, offset) + name
    return bytes(out) + bytes(central) + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                                                     len(central), len(out), 0)


_BOMBS = {}


def bomb_entry(mib):
    """A deflate stream of `mib` MiB of zeros (about 1/1000 of that), with its CRC."""
    if mib not in _BOMBS:
        chunk = bytes(MIB)
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        data, crc = bytearray(), 0
        for _ in range(mib):
            data += deflate.compress(chunk)
            crc = zlib.crc32(chunk, crc)
        data += deflate.flush()
        _BOMBS[mib] = (bytes(data), crc)
    return _BOMBS[mib]


def zip_bomb(mib, name="du-lieu.txt"):
    data, crc = bomb_entry(mib)
    return raw_zip([(name, data, crc, mib * MIB, 8, 0)])


def encrypted_zip():
    """One entry with the traditional-encryption flag: a 12-byte encryption header
    then ciphertext (random here: nobody can read it, which is the point)."""
    body = os.urandom(12 + 800)
    return raw_zip([("quyet-dinh.pdf", body, zlib.crc32(body), 800, 0, 1)])


OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document.main",
             '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
             '<w:body><w:p><w:r><w:t>Báo cáo</w:t></w:r></w:p></w:body></w:document>'),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main",
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Số liệu" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main",
             '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'),
}


def ooxml(kind, extra=()):
    """A minimal Office Open XML package (ECMA-376 Part 2): content types, the package
    relationship to the main part, the main part (and a sheet for .xlsx)."""
    main, content_type, xml = OOXML[kind]
    overrides = '<Override PartName="/%s" ContentType="application/vnd.openxmlformats-officedocument.%s+xml"/>' % (
        main, content_type)
    parts = [(main, xml)]
    if kind == "xlsx":
        overrides += ('<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
                      'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
        parts += [("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
                  ("xl/worksheets/sheet1.xml",
                   '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                   '<sheetData/></worksheet>')]
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>%s</Types>' % overrides)
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>' % main)
    return zip_of([("[Content_Types].xml", types), ("_rels/.rels", rels)] + parts + list(extra))


def odf(kind, extra=()):
    """A minimal OpenDocument package (ISO/IEC 26300): `mimetype` first and stored,
    the manifest, content and styles."""
    mime = "application/vnd.oasis.opendocument." + kind
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="%s"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>' % mime)
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
               'opendocument:xmlns:office:1.0" office:version="1.2"><office:body/></office:document-content>')
    return zip_of([("META-INF/manifest.xml", manifest), ("content.xml", content),
                   ("styles.xml", '<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:'
                                  'xmlns:office:1.0"/>')] + list(extra), first_stored=("mimetype", mime))


def png(width=16, height=16, level=9):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(width * 3)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, level)) + chunk(b"IEND", b""))


def big_png(size):
    """A valid PNG of at least `size` bytes: stored (uncompressed) deflate blocks."""
    width = 512
    height = size // (width * 3 + 1) + 1
    rows = bytearray()
    for y in range(height):
        rows += b"\x00" + os.urandom(width * 3)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 0)) + chunk(b"IEND", b""))


def jpeg():
    """A 1×1 grey baseline JPEG: DQT, SOF0, one-code DC and AC Huffman tables, and a
    scan of one block (DC difference 0, then end of block)."""
    def segment(marker, data):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data
    one_code = bytes([1] + [0] * 15) + b"\x00"
    return (b"\xff\xd8" + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + segment(0xDB, b"\x00" + bytes([1] * 64))
            + segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
            + segment(0xC4, b"\x00" + one_code) + segment(0xC4, b"\x10" + one_code)
            + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x3f" + b"\xff\xd9")


GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def tiff():
    """A 1×1 bilevel baseline TIFF (little-endian), uncompressed."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 0),
               (278, 3, 1, 1), (279, 4, 1, 1)]
    ifd_size = 2 + 12 * len(entries) + 4
    pixel_at = 8 + ifd_size
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = pixel_at if tag == 273 else value
        ifd += struct.pack("<HHII", tag, kind, count, value) if kind == 4 else struct.pack("<HHIHH", tag, kind, count,
                                                                                            value, 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x80"


RTF = (b"{\\rtf1\\ansi\\ansicpg1258\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0\\fs26 "
       b"B\\u225?o c\\u225?o th\\u225?ng 12\\par}")


def exe():
    """A minimal Windows PE: MZ header, e_lfanew → `PE\\0\\0`, an i386 COFF header."""
    mz = bytearray(1024)
    mz[0:2] = b"MZ"
    struct.pack_into("<I", mz, 0x3C, 0x80)
    mz[0x80:0x84] = b"PE\x00\x00"
    struct.pack_into("<HH", mz, 0x84, 0x014C, 1)
    mz[0x4E:0x4E + 39] = b"This program cannot be run in DOS mode."
    return bytes(mz)


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(44)
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(120)
RAR = b"Rar!\x1a\x07\x01\x00" + os.urandom(120)
ISO = bytes(0x8000) + b"\x01CD001\x01" + bytes(2041)
CAB = b"MSCF\x00\x00\x00\x00" + os.urandom(120)
GZIP = zlib.compressobj(9, zlib.DEFLATED, 31).compress(b"x" * 1000)  # header; the stream is cut: still gzip


def eicar():
    return (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR" + "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


def vcalendar(method="REQUEST"):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//UBND tinh Thanh Hoa//congvu corpus//VI\r\n"
            "METHOD:%s\r\nBEGIN:VEVENT\r\nUID:hop-giao-ban-2026-12-07@thanhhoa.gov.vn\r\n"
            "DTSTAMP:20261204T020000Z\r\nDTSTART:20261207T013000Z\r\nDTEND:20261207T030000Z\r\n"
            "SUMMARY:Họp giao ban tuần\r\nLOCATION:Phòng họp tầng 3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % method)


def vcard(address):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nguyễn Anh Tuấn\r\nN:Nguyễn;Anh Tuấn;;;\r\n"
            "ORG:Sở Thông tin và Truyền thông\r\nEMAIL;TYPE=INTERNET:%s\r\nEND:VCARD\r\n" % address)


def tnef(files):
    """An Outlook TNEF stream (MS-OXTNEF §2.1.3): signature 0x223E9F78, legacy key,
    message attributes, then per file attAttachRendData (starts an attachment),
    attAttachTitle (8.3 name), attAttachData and attAttachment (MAPI properties:
    PR_ATTACH_METHOD = ATTACH_BY_VALUE, PR_ATTACH_LONG_FILENAME in UTF-16).
    Every attribute carries its checksum: the sum of its data bytes mod 65536."""
    def attribute(level, ident, data):
        return (bytes([level]) + struct.pack("<II", ident, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))

    def padded(data):
        return data + bytes(-len(data) % 4)

    out = struct.pack("<IH", 0x223E9F78, 0x5A3C)
    out += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))         # attTnefVersion
    out += attribute(1, 0x00069007, struct.pack("<II", 1258, 0))           # attOemCodepage
    out += attribute(1, 0x00078008, b"IPM.Microsoft Mail.Note\x00")        # attMessageClass
    for index, (name, data) in enumerate(files):
        render = struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0)   # AttachType file, flags
        out += attribute(2, 0x00069002, render)                             # attAttachRendData
        out += attribute(2, 0x00018010, b"ATTACH~%d.DAT\x00" % (index + 1))  # attAttachTitle
        out += attribute(2, 0x0006800F, data)                               # attAttachData
        long_name = name.encode("utf-16-le") + b"\x00\x00"
        props = struct.pack("<I", 2)
        props += struct.pack("<HHI", 0x0003, 0x3705, 1)                     # PR_ATTACH_METHOD: by value
        props += struct.pack("<HHII", 0x001F, 0x3707, 1, len(long_name)) + padded(long_name)
        out += attribute(2, 0x00069005, props)                              # attAttachment
    return out


def uuencode(name, data):
    lines = [b"begin 644 " + name.encode()]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45], backtick=True).rstrip(b"\n"))
    return b"\r\n".join(lines + [b"`", b"end"]) + b"\r\n"


def uuencode_base64(name, data):
    """The `begin-base64` form (POSIX uuencode -m)."""
    text = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return b"begin-base64 644 " + name.encode() + b"\r\n" + text + b"====\r\n"


def yenc(name, data):
    out = bytearray(b"=ybegin line=128 size=%d name=%s\r\n" % (len(data), name.encode()))
    column = 0
    for byte in data:
        c = (byte + 42) % 256
        if c in (0, 10, 13, 61) or (column == 0 and c in (9, 32, 46)):
            out += b"=" + bytes([(c + 64) % 256])
            column += 2
        else:
            out.append(c)
            column += 1
        if column >= 128:
            out += b"\r\n"
            column = 0
    out += b"\r\n=yend size=%d crc32=%08x\r\n" % (len(data), zlib.crc32(data))
    return bytes(out)


def binhex(name, data):
    """BinHex 4.0 (RFC 1741): header, data fork and resource fork with CRC-16/XMODEM,
    0x90 escaped as the run-length marker, 6-bit encoded between colons, 64 per line."""
    def crc16(block):
        crc = 0
        for byte in block + b"\x00\x00":
            for bit in range(8):
                carry = crc & 0x8000
                crc = ((crc << 1) | ((byte >> (7 - bit)) & 1)) & 0xFFFF
                if carry:
                    crc ^= 0x1021
        return crc

    def with_crc(block):
        return block + struct.pack(">H", crc16(block))

    header = bytes([len(name)]) + name.encode() + b"\x00" + b"APPLMSFT" + b"\x00\x00" + struct.pack(">II", len(data),
                                                                                                     0)
    raw = (with_crc(header) + with_crc(data) + with_crc(b"")).replace(b"\x90", b"\x90\x00")
    alphabet = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    bits, count, chars = 0, 0, bytearray()
    for byte in raw:
        bits, count = (bits << 8) | byte, count + 8
        while count >= 6:
            count -= 6
            chars.append(alphabet[(bits >> count) & 63])
    if count:
        chars.append(alphabet[(bits << (6 - count)) & 63])
    text = b":" + bytes(chars) + b":"
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return b"(This file must be converted with BinHex 4.0)\r\n" + b"\r\n".join(lines) + b"\r\n"


# ------------------------------------------------------------------ test PKI


def openssl(*args, cwd=None, data=None):
    done = subprocess.run(["openssl", *args], cwd=cwd, input=data, capture_output=True)
    if done.returncode != 0:
        sys.exit("openssl %s failed: %s" % (" ".join(args), done.stderr.decode(errors="replace")))
    return done.stdout


def make_ca(pki):
    os.makedirs(pki, exist_ok=True)
    if os.path.exists(os.path.join(pki, "ca.pem")):
        return
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
            "-subj", "/C=VN/O=Corpus Test CA/CN=Corpus Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=pki)


def make_signer(pki, address, stem):
    """A signer certificate issued by the CA whose SAN rfc822Name is `address`."""
    with open(os.path.join(pki, stem + ".ext"), "w") as ext:
        ext.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
                  "extendedKeyUsage=emailProtection\nsubjectAltName=email:%s\n" % address)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", stem + ".key", "-out", stem + ".csr",
            "-subj", "/C=VN/O=UBND tinh Thanh Hoa/CN=%s" % address, cwd=pki)
    openssl("x509", "-req", "-in", stem + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
            str(int.from_bytes(os.urandom(8), "big")), "-days", "30", "-extfile", stem + ".ext", "-out",
            stem + ".pem", cwd=pki)
    return os.path.join(pki, stem + ".pem"), os.path.join(pki, stem + ".key")


# ------------------------------------------------------------------ building messages


class Corpus:
    def __init__(self, out, sender, rcpt, other):
        self.out, self.sender, self.rcpt, self.other = out, sender, rcpt, other
        self.pki = os.path.join(out, "pki")
        self.manifest = []
        self.signer = None

    # --- headers and simple messages

    def headers(self, case, subject=SUBJECT, sender=None):
        """The top header block as bytes (From, To, Subject RFC 2047, Date, Message-ID)."""
        lines = [b"From: " + (sender or self.sender).encode(), b"To: " + self.rcpt.encode()]
        if subject is not None:
            lines.append(b"Subject: " + Header(subject, "utf-8").encode(linesep="\r\n").encode())
        lines += [b"Date: " + DATE.encode(), b"Message-ID: <%s@corpus.test>" % case.encode()]
        return b"\r\n".join(lines) + b"\r\n"

    def stamp(self, msg, case, subject=SUBJECT):
        msg["From"] = self.sender
        msg["To"] = self.rcpt
        if subject is not None:
            msg["Subject"] = subject if isinstance(msg, EmailMessage) else Header(subject, "utf-8").encode()
        msg["Date"] = DATE
        msg["Message-ID"] = "<%s@corpus.test>" % case
        return msg

    def simple(self, case, body=BODY, subject=SUBJECT, files=(), cte=None):
        msg = self.stamp(EmailMessage(policy=SMTP), case, subject)
        if cte:
            msg.set_content(body, cte=cte)
        else:
            msg.set_content(body)
        for name, data, maintype, subtype in files:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg

    def mixed(self, case, subject=SUBJECT, text=BODY):
        msg = self.stamp(MIMEMultipart("mixed"), case, subject)
        msg.attach(MIMEText(text, "plain", "utf-8"))
        return msg

    # --- writing

    def write(self, case, data, entry):
        if not isinstance(data, bytes):
            data = data.as_bytes(policy=SMTP)
        assert b"\r\n" in data and data.endswith(b"\r\n"), case
        if not entry.get("smuggling"):
            # CRLF everywhere, as an SMTP client sends: no bare CR, no bare LF.
            assert data.replace(b"\r\n", b"").count(b"\r") == 0 and data.replace(b"\r\n", b"").count(b"\n") == 0, case
        assert all(m["case"] != case for m in self.manifest), case
        name = case + ".eml"
        with open(os.path.join(self.out, name), "wb") as out:
            out.write(data)
        self.manifest.append(dict(file=name, case=case, **entry))
        return data

    def legit(self, case, shows, msg, verify=None, inner=None):
        entry = {"class": "legit", "shows": shows, "verify": verify}
        if inner is not None:
            entry["inner_file"] = case + ".inner.eml"
            with open(os.path.join(self.out, entry["inner_file"]), "wb") as out:
                out.write(inner)
        return self.write(case, msg, entry)

    def hostile(self, case, shows, msg, reason, reply=550, conduct=False, submission_only=False, smuggling=False,
                needs_clamd=False):
        return self.write(case, msg, {"class": "hostile", "shows": shows, "reason": reason, "reply": reply,
                                      "conduct": conduct, "submission_only": submission_only,
                                      "smuggling": smuggling, "needs_clamd": needs_clamd})

    # --- S/MIME

    def sign(self, case, entity, opaque=False, tool="smime"):
        """`entity` (a MIME entity, CRLF) signed by the sender's certificate; the
        whole message (our headers, then openssl's MIME-Version/Content-Type and
        body, CRLF) is verified before it is returned."""
        if self.signer is None:
            self.signer = make_signer(self.pki, self.sender, "signer")
        cert, key = self.signer
        src = os.path.join(self.pki, case + ".content")
        with open(src, "wb") as f:
            f.write(entity)
        args = [tool, "-sign", "-in", src, "-signer", cert, "-inkey", key, "-md", "sha256", "-crlfeol"]
        if opaque:
            args.append("-nodetach")
        # -crlfeol ends the MIME lines with CRLF but not the base64 lines of the CMS:
        # those are outside what is signed, so they are made CRLF here.
        signed = re.sub(rb"(?<!\r)\n", b"\r\n", openssl(*args))
        os.remove(src)
        message = self.headers(case) + signed
        self.verify(message)
        return message

    def verify(self, message):
        openssl("smime", "-verify", "-CAfile", os.path.join(self.pki, "ca.pem"), "-purpose", "any", "-out",
                os.devnull, data=message)

    def encrypt(self, case, entity):
        cert, _key = make_signer(self.pki, self.rcpt, "recipient")
        src = os.path.join(self.pki, case + ".content")
        with open(src, "wb") as f:
            f.write(entity)
        encrypted = re.sub(rb"(?<!\r)\n", b"\r\n", openssl("smime", "-encrypt", "-aes256", "-in", src, cert))
        os.remove(src)
        return self.headers(case) + encrypted


def part(data, maintype, subtype, name=None, disposition="attachment", cid=None, rfc2231=False, rfc2047=False):
    """A leaf MIME part, base64 (text parts too when given bytes)."""
    p = MIMEBase(maintype, subtype)
    p.set_payload(data)
    encoders.encode_base64(p)
    if name is not None and rfc2231:
        p.add_header("Content-Disposition", disposition, filename=("utf-8", "", name))
        p.set_param("name", ("utf-8", "", name))
    elif name is not None and rfc2047:
        encoded = Header(name, "utf-8").encode()
        p["Content-Disposition"] = '%s; filename="%s"' % (disposition, encoded)
        p.set_param("name", encoded)
    elif name is not None:
        p.add_header("Content-Disposition", disposition, filename=name)
        p.set_param("name", name)
    elif disposition:
        p.add_header("Content-Disposition", disposition)
    if cid:
        p["Content-ID"] = "<%s>" % cid
    return p


def entity_bytes(msg):
    return msg.as_bytes(policy=SMTP)


def forward(c, case, inner, depth=1, subject=None):
    """`inner` (bytes of a message) forwarded `depth` times, each time as a
    message/rfc822 part after a short text, written by hand so that the inner bytes
    (a signature's) stay exactly as they were."""
    message = inner
    for level in range(depth):
        boundary = b"fwd-%s-%d" % (case.encode(), level)
        name = case if level == depth - 1 else "%s-%d" % (case, level)
        head = c.headers(name, subject or "TL: " + SUBJECT)
        message = (head + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n"
                   + b"--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                   + "Chuyển tiếp thư để các đồng chí biết và thực hiện.\r\n".encode()
                   + b"--" + boundary + b"\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"
                   + message + (b"" if message.endswith(b"\r\n") else b"\r\n")
                   + b"--" + boundary + b"--\r\n")
    return message


def related(c, case, images, text="Xem ảnh chụp màn hình dưới đây.\n"):
    """HTML with inline images by cid: (multipart/related around an alternative)."""
    msg = c.stamp(MIMEMultipart("related"), case)
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(text, "plain", "utf-8"))
    html = "<p>%s</p>%s" % (text.strip(), "".join('<img src="cid:%s" alt="ảnh">' % cid for cid, *_ in images))
    alternative.attach(MIMEText(html, "html", "utf-8"))
    msg.attach(alternative)
    for cid, data, subtype, name in images:
        msg.attach(part(data, "image", subtype, name, "inline", cid))
    return msg


def raw_message(c, case, extra_headers, body, subject=SUBJECT):
    """A message written byte by byte: our headers, `extra_headers`, blank line, body."""
    return c.headers(case, subject) + extra_headers + b"\r\n" + body


# ------------------------------------------------------------------ the legitimate corpus


def legit_cases(c):
    L = c.legit
    L("plain", "plain UTF-8 text, 8bit", c.simple("plain"))
    L("quoted-printable", "a quoted-printable body", c.simple("quoted-printable", cte="quoted-printable"))
    L("base64-body", "a base64 body", c.simple("base64-body", cte="base64"))
    long_line = c.simple("flowed", body=("Nội dung dài " * 120).strip() + "\n", cte="quoted-printable")
    L("flowed", "a long paragraph in quoted-printable (soft line breaks)", long_line)
    m = c.simple("alternative")
    m.add_alternative("<html><body><p>Kính gửi <b>các đồng chí</b>,</p><p>Trân trọng.</p></body></html>",
                      subtype="html")
    L("alternative", "multipart/alternative text and HTML", m)
    L("html-inline-png", "HTML with a pasted screenshot (multipart/related, PNG by cid:)",
      related(c, "html-inline-png", [("image001.png@01DB4", png(64, 48), "png", "image001.png")]))
    L("html-inline-jpeg-gif", "HTML with an inline JPEG and GIF by cid:",
      related(c, "html-inline-jpeg-gif", [("anh1", jpeg(), "jpeg", "anh1.jpg"), ("anh2", GIF, "gif", "anh2.gif")]))
    # Outlook: mixed[ related[ alternative[text, html], logo ], attachment ]
    outlook = c.stamp(MIMEMultipart("mixed"), "outlook-html")
    rel = MIMEMultipart("related")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("Xem tài liệu đính kèm.\n", "plain", "utf-8"))
    alt.attach(MIMEText('<p>Xem tài liệu đính kèm.</p><p><img src="cid:logo.png@01DB4"></p>', "html", "utf-8"))
    rel.attach(alt)
    rel.attach(part(png(32, 32), "image", "png", "logo.png", "inline", "logo.png@01DB4"))
    outlook.attach(rel)
    outlook.attach(part(pdf(), "application", "pdf", "Tờ trình.pdf", rfc2231=True))
    L("outlook-html", "Outlook's mixed/related/alternative with a logo by cid: and a PDF", outlook)

    formats = [
        ("txt", "ghi-chu.txt", "Ghi chú cuộc họp.\r\n".encode(), "text", "plain"),
        ("doc", "cong-van.doc", ole2(), "application", "msword"),
        ("xls", "so-lieu.xls", ole2(), "application", "vnd.ms-excel"),
        ("ppt", "trinh-chieu.ppt", ole2(), "application", "vnd.ms-powerpoint"),
        ("odt", "bao-cao.odt", odf("text"), "application", "vnd.oasis.opendocument.text"),
        ("ods", "so-lieu.ods", odf("spreadsheet"), "application", "vnd.oasis.opendocument.spreadsheet"),
        ("odp", "trinh-chieu.odp", odf("presentation"), "application", "vnd.oasis.opendocument.presentation"),
        ("rtf", "to-trinh.rtf", RTF, "application", "rtf"),
        ("pdf", "quyet-dinh.pdf", pdf(), "application", "pdf"),
        ("docx", "bao-cao.docx", ooxml("docx"), "application",
         "vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "bao-cao.xlsx", ooxml("xlsx"), "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pptx", "trinh-chieu.pptx", ooxml("pptx"), "application",
         "vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("png", "so-do.png", png(), "image", "png"),
        ("jpeg", "anh-chup.jpg", jpeg(), "image", "jpeg"),
        ("gif", "bieu-do.gif", GIF, "image", "gif"),
        ("tiff", "ban-scan.tiff", tiff(), "image", "tiff"),
        ("zip", "ho-so.zip", zip_of([("cong-van.pdf", pdf()), ("phu-luc/so-lieu.xlsx", ooxml("xlsx")),
                                     ("ghi-chu.txt", "Ghi chú".encode())]), "application", "zip"),
    ]
    for fmt, name, data, maintype, subtype in formats:
        case = "format-" + fmt
        L(case, "an allowed format: %s (%s)" % (name, maintype + "/" + subtype),
          c.simple(case, files=[(name, data, maintype, subtype)]))
    L("octet-stream-pdf", "a PDF sent as application/octet-stream (judged by content)",
      c.simple("octet-stream-pdf", files=[("quyet-dinh.pdf", pdf(), "application", "octet-stream")]))
    L("uppercase-extension", "an upper-case extension: SCAN.PDF",
      c.simple("uppercase-extension", files=[("SCAN.PDF", pdf(), "application", "pdf")]))
    L("odt-with-picture", "an .odt holding a picture (ODF container opened)",
      c.simple("odt-with-picture", files=[("bao-cao.odt", odf("text", [("Pictures/anh.png", png())]),
                                            "application", "vnd.oasis.opendocument.text")]))
    L("several-files", "a PDF, a .docx and an .xlsx",
      c.simple("several-files", files=[("to-trinh.pdf", pdf(), "application", "pdf"),
                                       ("du-thao.docx", ooxml("docx"), "application",
                                        "vnd.openxmlformats-officedocument.wordprocessingml.document"),
                                       ("so-lieu.xlsx", ooxml("xlsx"), "application",
                                        "vnd.openxmlformats-officedocument.spreadsheetml.sheet")]))
    m = c.mixed("inline-named-pdf")
    m.attach(part(pdf(), "application", "pdf", "quyet-dinh.pdf", "inline"))
    L("inline-named-pdf", "a PDF as a named inline part (Apple Mail's way)", m)

    m = c.simple("invitation")
    m.add_alternative(vcalendar(), subtype="calendar", params={"method": "REQUEST"})
    L("invitation", "a meeting invitation: text/calendar; method=REQUEST in the alternatives", m)
    L("invite-ics", "invite.ics attached (text/calendar)",
      c.simple("invite-ics", files=[("invite.ics", vcalendar().encode(), "text", "calendar")]))
    L("vcard", "a contact card (text/vcard)",
      c.simple("vcard", files=[("nguyen-anh-tuan.vcf", vcard(c.sender).encode(), "text", "vcard")]))

    m = c.mixed("tnef")
    m.attach(part(tnef([("Quyết định 123.pdf", pdf())]), "application", "ms-tnef", "winmail.dat"))
    L("tnef", "Outlook's winmail.dat (TNEF) holding a PDF", m)
    m = c.mixed("tnef-two-files")
    m.attach(part(tnef([("Báo cáo.docx", ooxml("docx")), ("Số liệu.xlsx", ooxml("xlsx"))]), "application",
                  "vnd.ms-tnef", "winmail.dat"))
    L("tnef-two-files", "winmail.dat holding a .docx and an .xlsx (application/vnd.ms-tnef)", m)

    plain_entity = entity_bytes(MIMEText("Kính gửi các đồng chí,\nVăn bản này đã được ký số.\n", "plain", "utf-8"))
    L("smime-signed", "S/MIME signed, detached (multipart/signed)", c.sign("smime-signed", plain_entity),
      verify="whole")
    with_pdf = MIMEMultipart("mixed")
    with_pdf.attach(MIMEText("Văn bản ký số kèm quyết định.\n", "plain", "utf-8"))
    with_pdf.attach(part(pdf(), "application", "pdf", "quyet-dinh.pdf"))
    L("smime-signed-pdf", "S/MIME signed (detached) with a PDF attachment",
      c.sign("smime-signed-pdf", entity_bytes(with_pdf)), verify="whole")
    html_entity = MIMEMultipart("alternative")
    html_entity.attach(MIMEText("Kính gửi,\nĐã ký số.\n", "plain", "utf-8"))
    html_entity.attach(MIMEText("<p>Kính gửi,</p><p>Đã ký số.</p>", "html", "utf-8"))
    L("smime-signed-html", "S/MIME signed (detached) text and HTML, signed with openssl cms",
      c.sign("smime-signed-html", entity_bytes(html_entity), tool="cms"), verify="whole")
    L("smime-opaque", "S/MIME opaque signed-data (application/x-pkcs7-mime)",
      c.sign("smime-opaque", plain_entity, opaque=True), verify="whole")
    L("smime-opaque-cms", "S/MIME opaque signed-data with a PDF (openssl cms: application/pkcs7-mime)",
      c.sign("smime-opaque-cms", entity_bytes(with_pdf), opaque=True, tool="cms"), verify="whole")
    inner = c.sign("smime-inner", plain_entity)
    L("smime-forwarded", "a signed message forwarded as message/rfc822", forward(c, "smime-forwarded", inner),
      verify="inner", inner=inner)

    inner = entity_bytes(c.simple("fwd-inner", files=[("cong-van.pdf", pdf(), "application", "pdf")]))
    L("forwarded-attachment", "a forwarded message with a PDF attachment", forward(c, "forwarded-attachment", inner))
    inner = entity_bytes(c.simple("fwd2-inner", files=[("bao-cao.docx", ooxml("docx"), "application",
                                                         "vnd.openxmlformats-officedocument.wordprocessingml.document")]))
    L("forwarded-twice", "forwarded twice, the inner one with a .docx", forward(c, "forwarded-twice", inner, 2))
    m = c.mixed("forwarded-as-attachment")
    inner_msg = c.simple("fwd3-inner", files=[("so-lieu.xlsx", ooxml("xlsx"), "application",
                                               "vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
    attached = MIMEMessage(inner_msg)
    attached.add_header("Content-Disposition", "attachment", filename="Thư gốc.eml")
    m.attach(attached)
    L("forwarded-as-attachment", "a message attached as a named .eml (message/rfc822 attachment)", m)

    m = c.mixed("rfc2231-name")
    m.attach(part(pdf(), "application", "pdf", "Báo cáo.pdf", rfc2231=True))
    L("rfc2231-name", "a Vietnamese RFC 2231 file name: filename*=utf-8''B%C3%A1o%20c%C3%A1o.pdf", m)
    long_name = "Báo cáo kết quả thực hiện nhiệm vụ phát triển kinh tế xã hội quý IV năm 2026.docx"
    quoted = urllib.parse.quote(long_name.encode())
    # Cut only between %XX escapes (RFC 2231 §4.1: each piece percent-decodes alone).
    pieces = re.findall(r"(?:%[0-9A-F]{2}|[^%]){1,20}", quoted)
    params = ";\r\n".join(" filename*%d*=%s%s" % (i, "utf-8''" if i == 0 else "", piece)
                           for i, piece in enumerate(pieces))
    L("rfc2231-continuation", "a long Vietnamese RFC 2231 name in %d continuations (filename*0*=utf-8'', *1*, …)"
      % len(pieces),
      raw_message(c, "rfc2231-continuation", b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c2231\"\r\n",
                  b"--c2231\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                  + "Gửi kèm báo cáo.\r\n".encode() + b"--c2231\r\nContent-Type: application/"
                  b"vnd.openxmlformats-officedocument.wordprocessingml.document\r\nContent-Transfer-Encoding: base64\r\n"
                  b"Content-Disposition: attachment;\r\n" + params.encode() + b"\r\n\r\n"
                  + base64.encodebytes(ooxml("docx")).replace(b"\n", b"\r\n") + b"--c2231--\r\n"))
    m = c.mixed("rfc2047-name")
    m.attach(part(pdf(), "application", "pdf", "Tờ trình số 45.pdf", rfc2047=True))
    L("rfc2047-name", "an RFC 2047 encoded file name (=?utf-8?b?…?=)", m)

    L("reply-re", "a reply: Re: prefix", c.simple("reply-re", subject="Re: " + SUBJECT))
    L("reply-tl", "a reply: TL: prefix (Trả lời)", c.simple("reply-tl", subject="TL: Re: " + SUBJECT))
    L("not-a-stamp", "the word mật in ordinary Vietnamese (đổi mật khẩu, giữ bí mật) is not a stamp",
      c.simple("not-a-stamp", subject="Hướng dẫn đổi mật khẩu thư công vụ",
               body="Đề nghị các đồng chí giữ bí mật mật khẩu và đổi mật khẩu định kỳ.\n"))
    L("raw-utf8-subject", "an 8-bit UTF-8 subject (written raw, as SMTPUTF8 clients do)",
      c.headers("raw-utf8-subject", None) + b"Subject: " + SUBJECT.encode() + b"\r\nMIME-Version: 1.0\r\n"
      b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      + "Nội dung báo cáo.\r\n".encode())

    def report(case, report_type, subject, text, machine_type, machine):
        boundary = b"report-" + case.encode()
        return (c.headers(case, subject) + b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type="
                + report_type + b"; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary
                + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + text.encode() + b"\r\n--" + boundary + b"\r\nContent-Type: " + machine_type + b"\r\n\r\n"
                + machine + b"\r\n--" + boundary + b"\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                + c.headers(case + "-original") + b"\r\n--" + boundary + b"--\r\n")
    L("delivery-report", "a delivery status report (multipart/report, message/delivery-status)",
      report("delivery-report", b"delivery-status", "Thông báo: thư không chuyển được",
             "Thư của đồng chí không chuyển được tới người nhận.", b"message/delivery-status",
             b"Reporting-MTA: dns; mail.thanhhoa.gov.vn\r\n\r\nFinal-Recipient: rfc822; "
             + c.rcpt.encode() + b"\r\nAction: failed\r\nStatus: 5.2.2\r\n"))
    L("read-receipt", "a read receipt (multipart/report, message/disposition-notification)",
      report("read-receipt", b"disposition-notification", "Đã đọc: " + SUBJECT, "Thư đã được mở.",
             b"message/disposition-notification",
             b"Final-Recipient: rfc822; " + c.rcpt.encode()
             + b"\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"))

    size = int(9.9 * MIB)
    L("near-cap", "one %.1f MiB PDF, just under the 10 MiB cap" % (size / MIB),
      c.simple("near-cap", files=[("ho-so-du-an.pdf", pdf(size), "application", "pdf")]))


# ------------------------------------------------------------------ the hostile corpus


def hostile_cases(c):
    D, A, X = "dangerous_content", "archive_too_complex", "message_too_complex"
    H = c.hostile
    octet = ("application", "octet-stream")
    text_plain = ("text", "plain")

    def file_case(case, shows, name, data, reason=D, kind=octet, **flags):
        H(case, shows, c.simple(case, files=[(name, data, kind[0], kind[1])]), reason, **flags)

    file_case("exe", "a Windows executable setup.exe", "setup.exe", exe())
    file_case("exe-as-pdf", "a PE executable with an allowed name (cong-van.pdf)", "cong-van.pdf", exe(),
              kind=("application", "pdf"))
    file_case("exe-as-docx", "a PE executable named .docx", "bao-cao.docx", exe())
    file_case("exe-as-png", "a PE executable attached as image/png named .png", "so-do.png", exe(),
              kind=("image", "png"))
    file_case("elf-as-xlsx", "an ELF executable named .xlsx", "so-lieu.xlsx", ELF)
    file_case("script-as-txt", "a shell script (#!) named .txt", "ghi-chu.txt", b"#!/bin/sh\nrm -rf ~\n",
              kind=text_plain)
    file_case("bat", "a .bat file", "cai-dat.bat", b"@echo off\r\ndel /q *\r\n", kind=text_plain)
    file_case("js", "a .js script", "hoa-don.js", b"WScript.Echo('x');\r\n", kind=text_plain)
    file_case("hta", "an .hta application", "thong-bao.hta", b"<html><script>1</script></html>",
              kind=("text", "html"))
    file_case("ps1", "a PowerShell script", "cap-nhat.ps1", b"Write-Host 1\r\n", kind=text_plain)
    file_case("lnk", "a Windows shortcut .lnk", "tai-lieu.lnk", b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(68))
    file_case("docm", "a macro-enabled Word document .docm", "bao-cao.docm", ooxml("docx"))
    file_case("vbs-trailing-dot", "run.vbs. (a trailing dot Windows drops)", "run.vbs.", b"MsgBox 1\r\n",
              kind=text_plain)
    file_case("vbs-ads", "run.vbs::$DATA (an NTFS stream name)", "run.vbs::$DATA", b"MsgBox 1\r\n",
              kind=text_plain)
    file_case("exe-trailing-spaces", "RUN.EXE followed by spaces and dots", "RUN.EXE . .", exe())
    file_case("rtlo", "a right-to-left override: bao-cao\\u202Efdp.exe shows as bao-caoexe.pdf",
              "bao-cao\u202efdp.exe", exe())
    file_case("fullwidth-exe", "a fullwidth extension: setup.ｅｘｅ", "setup.ｅｘｅ", exe())
    file_case("cyrillic-exe", "Cyrillic look-alike letters: setup.ехе", "setup.\u0435\u0445\u0435", exe())
    file_case("zwsp-exe", "a zero-width space inside .exe", "setup.e\u200bxe", exe())
    m = c.mixed("rfc2231-exe")
    m.attach(part(exe(), *octet, "Hồ sơ dự thầu.exe", rfc2231=True))
    H("rfc2231-exe", "an RFC 2231 encoded .exe name", m, D)
    m = c.mixed("rfc2047-exe")
    m.attach(part(exe(), *octet, "Hồ sơ dự thầu.exe", rfc2047=True))
    H("rfc2047-exe", "an RFC 2047 encoded .exe name", m, D)
    boundary = b"b-2231"
    H("rfc2231-split-exe", "an RFC 2231 name split so that no piece ends in .exe (filename*0=…pd, *1=f.exe)",
      raw_message(c, "rfc2231-split-exe", b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\""
                  + boundary + b"\"\r\n", b"--" + boundary + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                  + "Gửi kèm.\r\n".encode() + b"--" + boundary
                  + b"\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                  b"Content-Disposition: attachment; filename*0=\"bao-cao.pd\"; filename*1=\"f.exe\"\r\n\r\n"
                  + base64.encodebytes(exe()).replace(b"\n", b"\r\n") + b"--" + boundary + b"--\r\n"), D)
    vbs = base64.encodebytes(b"MsgBox \"x\"\r\n").replace(b"\n", b"\r\n")

    def one_part(case, part_headers, body):
        """A text body, then one part written header by header."""
        return raw_message(c, case, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p1\"\r\n",
                           b"--p1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Gửi kèm.\r\n".encode()
                           + b"--p1\r\n" + part_headers + b"\r\n" + body + b"--p1--\r\n")
    H("duplicate-filename-vbs", "two filename parameters: ghi-chu.txt, then run.vbs (clients differ on which wins)",
      one_part("duplicate-filename-vbs", b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64"
               b"\r\nContent-Disposition: attachment; filename=\"ghi-chu.txt\"; filename=\"run.vbs\"\r\n", vbs), D)
    H("name-disagrees-vbs", "Content-Type name=run.vbs, Content-Disposition filename=ghi-chu.txt",
      one_part("name-disagrees-vbs", b"Content-Type: text/plain; name=\"run.vbs\"\r\nContent-Transfer-Encoding: base64"
               b"\r\nContent-Disposition: attachment; filename=\"ghi-chu.txt\"\r\n", vbs), D)
    H("duplicate-content-type-vbs", "two Content-Type fields in a part: text/plain, then a named run.vbs",
      one_part("duplicate-content-type-vbs", b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Type: application/octet-stream; name=\"run.vbs\"\r\nContent-Transfer-Encoding: base64\r\n",
               vbs), D)
    H("type-name-only-js", "a script named only by Content-Type name= (no Content-Disposition)",
      one_part("type-name-only-js", b"Content-Type: application/octet-stream; name=\"hoa-don.js\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n", base64.encodebytes(b"WScript.Echo(1);").replace(b"\n", b"\r\n")),
      D)
    H("boundary-padding-exe", "an .exe part after a boundary line with transport padding (RFC 2046 §5.1.1)",
      raw_message(c, "boundary-padding-exe", b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p2\"\r\n",
                  b"--p2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Gửi kèm.\r\n".encode()
                  + b"--p2   \t\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                  b"Content-Disposition: attachment; filename=\"setup.exe\"\r\n\r\n"
                  + base64.encodebytes(exe()).replace(b"\n", b"\r\n") + b"--p2--\r\n"), D)
    m = c.mixed("inline-text-exe")
    m.attach(part(exe(), "text", "plain", "run.exe", "inline"))
    H("inline-text-exe", "an .exe as an inline text/plain part with filename=", m, D)
    H("cid-exe", "an executable inline with a cid: reference, claiming image/png",
      related(c, "cid-exe", [("image001.png@01DB4", exe(), "png", "image001.png")]), D)
    H("cid-exe-unnamed", "an unnamed inline part referenced by cid: holding a PE",
      related(c, "cid-exe-unnamed", [("anh@01DB4", exe(), "gif", None)]), D)
    file_case("zipped-exe", "an executable in a zip", "tai-lieu.zip", zip_of([("setup.exe", exe())]))
    file_case("zipped-renamed-exe", "an executable named .pdf in a zip", "tai-lieu.zip",
              zip_of([("cong-van.pdf", exe())]))
    file_case("nested-zip-exe", "an executable in a zip in a zip", "tai-lieu.zip",
              zip_of([("phu-luc.zip", zip_of([("readme.pdf", exe())]))]))
    file_case("odt-exe", "an executable inside an .odt", "bao-cao.odt", odf("text", [("Pictures/payload.exe", exe())]),
              kind=("application", "vnd.oasis.opendocument.text"))
    file_case("docx-exe", "an executable inside a .docx", "bao-cao.docx",
              ooxml("docx", [("word/embeddings/oleObject1.bin", exe())]))
    file_case("zip-odt-exe", "an .odt holding an .exe, in a zip", "ho-so.zip",
              zip_of([("bao-cao.odt", odf("text", [("Object 1/run.exe", exe())]))]))
    inner = entity_bytes(c.simple("fwd-exe-inner", files=[("setup.exe", exe(), *octet)]))
    H("forwarded-exe", "an executable in a forwarded message", forward(c, "forwarded-exe", inner), D)
    inner = entity_bytes(c.simple("fwd4-exe-inner", files=[("cong-van.pdf", exe(), "application", "pdf")]))
    H("forwarded-4-exe", "an executable named .pdf under 4 forwarded messages", forward(c, "forwarded-4-exe", inner, 4),
      D)
    def wrapped_forward(case, content_type, cte, body):
        return raw_message(c, case, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"w1\"\r\n",
                           b"--w1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Chuyển tiếp.\r\n".encode()
                           + b"--w1\r\nContent-Type: " + content_type + b"\r\nContent-Transfer-Encoding: " + cte
                           + b"\r\n\r\n" + body + b"--w1--\r\n", subject="TL: " + SUBJECT)
    inner = entity_bytes(c.simple("fwd-b64-exe-inner", files=[("setup.exe", exe(), *octet)]))
    # RFC 2046 §5.2.1 forbids base64 for message/rfc822; some clients write it anyway.
    H("forwarded-base64-exe", "an executable in a forwarded message sent in base64 (message/rfc822)",
      wrapped_forward("forwarded-base64-exe", b"message/rfc822", b"base64",
                      base64.encodebytes(inner).replace(b"\n", b"\r\n")), D)
    inner = entity_bytes(c.simple("fwd-global-exe-inner", files=[("cai-dat.exe", exe(), *octet)]))
    H("forwarded-global-exe", "an executable in a forwarded message/global (RFC 6532)",
      wrapped_forward("forwarded-global-exe", b"message/global", b"8bit", inner), D)
    H("uuencoded-exe", "a uuencoded executable in a text body",
      raw_message(c, "uuencoded-exe", b"", "Gửi tệp:\r\n".encode() + uuencode("setup.exe", exe())), D)
    H("uuencoded-b64-exe", "a begin-base64 (uuencode -m) executable named .pdf in a text body",
      raw_message(c, "uuencoded-b64-exe", b"", "Gửi tệp:\r\n".encode() + uuencode_base64("cong-van.pdf", exe())), D)
    H("binhex-exe", "a BinHex 4.0 executable in a text body",
      raw_message(c, "binhex-exe", b"", "Gửi tệp:\r\n".encode() + binhex("setup.exe", exe())), D)
    H("yenc-exe", "a yEnc executable in a text body",
      raw_message(c, "yenc-exe", b"", "Gửi tệp:\r\n".encode() + yenc("setup.exe", exe())), D)
    m = c.mixed("tnef-exe")
    m.attach(part(tnef([("setup.exe", exe())]), "application", "ms-tnef", "winmail.dat"))
    H("tnef-exe", "an executable inside winmail.dat (TNEF)", m, D)
    m = c.mixed("tnef-renamed-exe")
    m.attach(part(tnef([("Quyết định.pdf", exe())]), "application", "ms-tnef", "winmail.dat"))
    H("tnef-renamed-exe", "a PE named .pdf inside winmail.dat", m, D)
    signed_exe = MIMEMultipart("mixed")
    signed_exe.attach(MIMEText("Văn bản ký số.\n", "plain", "utf-8"))
    signed_exe.attach(part(exe(), *octet, "cap-nhat.exe"))
    H("signed-exe", "an executable inside S/MIME signed content (multipart/signed)",
      c.sign("signed-exe", entity_bytes(signed_exe)), D)
    H("opaque-signed-exe", "an executable inside opaque signed-data (pkcs7-mime)",
      c.sign("opaque-signed-exe", entity_bytes(signed_exe), opaque=True), D)

    # Header smuggling with a bare CR / bare LF: what the checks read must be what leaves.
    exe_body = base64.encodebytes(exe()).replace(b"\n", b"\r\n")
    for kind, sep in (("cr", b"\r"), ("lf", b"\n")):
        hidden = (b"X-Mailer: a" + sep + b"Content-Type: application/octet-stream; name=run.exe\r\n"
                  b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=run.exe\r\n")
        H("bare-%s-content-type" % kind, "a bare %s in X-Mailer hiding a Content-Type that makes the body an .exe"
          % kind.upper(), raw_message(c, "bare-%s-content-type" % kind, b"MIME-Version: 1.0\r\n" + hidden, exe_body),
          D, smuggling=True)
        H("bare-%s-from" % kind, "a bare %s in X-Mailer smuggling another official's From:" % kind.upper(),
          raw_message(c, "bare-%s-from" % kind, b"X-Mailer: a" + sep + b"From: " + c.other.encode() + b"\r\n",
                      "Nội dung.\r\n".encode()),
          "from_header", submission_only=True, smuggling=True)

    file_case("seven-zip", "a 7z archive (cannot be opened)", "tai-lieu.7z", SEVEN_Z, A)
    file_case("rar", "a RAR archive", "tai-lieu.rar", RAR, A)
    file_case("iso", "an ISO 9660 image (magic CD001 at 0x8001)", "dia-cai-dat.iso", ISO, A)
    file_case("cab", "a Microsoft cabinet", "cap-nhat.cab", CAB, A)
    file_case("gzip", "a gzip stream", "so-lieu.gz", GZIP, A)
    file_case("seven-zip-as-pdf", "a 7z archive named .pdf", "cong-van.pdf", SEVEN_Z, A)
    file_case("rar-in-zip", "a RAR archive inside a zip", "ho-so.zip", zip_of([("tai-lieu.rar", RAR)]), A)
    file_case("encrypted-zip", "a zip with an encrypted entry", "mat-khau.zip", encrypted_zip(), A)
    deep = zip_of([("ghi-chu.txt", b"x")])
    for level in range(5):
        deep = zip_of([("muc-%d.zip" % level, deep)])
    file_case("deep-zip", "zips nested 6 deep (max_zip_depth 3)", "long-nhau.zip", deep, A)
    file_case("zip-many-entries", "a zip with 1,200 entries (max_zip_entries 1000)", "nhieu-tep.zip",
              zip_of([("tep-%04d.txt" % i, b"x") for i in range(1200)]), A)
    file_case("zip-bomb", "one zip declaring 200 MiB of zeros (the message's budget is 100 MiB)", "bom.zip",
              zip_bomb(200), A)
    m = c.mixed("zip-bombs")
    bomb = zip_bomb(100)
    for index in range(200):
        m.attach(part(bomb, "application", "zip", "du-lieu-%03d.zip" % index))
    H("zip-bombs", "200 zip bombs in one message, each 100 MiB of zeros in %d KiB" % (len(bomb) // 1024), m, A)

    nested = MIMEText("Đáy.\n", "plain", "utf-8")
    for _ in range(32):
        wrapper = MIMEMultipart("mixed")
        wrapper.attach(nested)
        nested = wrapper
    top = c.stamp(MIMEMultipart("mixed"), "deep-multipart")
    top.attach(nested)
    H("deep-multipart", "33 nested multiparts (max_multipart_depth 32)", top, X)
    H("deep-forward", "5 nested forwarded messages (max_forward_depth 4)",
      forward(c, "deep-forward", entity_bytes(c.simple("deep-fwd-inner")), 5), X)
    many = c.mixed("many-parts")
    for index in range(1000):
        many.attach(MIMEText("Phần %d.\n" % index, "plain", "utf-8"))
    H("many-parts", "1,001 leaf parts (max_parts 1000)", many, X)

    # The attachment cap (Art. 9.2) counts every file-like part, inline or not.
    line = b"Du lieu bao cao chi tiet cua cac don vi trong tinh Thanh Hoa nam 2026.\r\n"
    big_text = line * (13 * MIB // len(line) + 1)
    H("inline-text-cap", "a 13 MiB inline text/plain part after the body",
      raw_message(c, "inline-text-cap", b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"cap\"\r\n",
                  b"--cap\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                  + "Kính gửi,\r\nSố liệu chi tiết ở phần sau.\r\n".encode()
                  + b"--cap\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Disposition: inline\r\n\r\n"
                  + big_text + b"--cap--\r\n"), "attachment_too_large", 552, conduct=True)
    image = big_png(MIB)
    H("inline-images-cap", "11 inline PNG images of 1 MiB each referenced by cid:",
      related(c, "inline-images-cap", [("anh-%d" % i, image, "png", "anh-%d.png" % i) for i in range(11)]),
      "attachment_too_large", 552, conduct=True)
    H("two-pdfs-cap", "two 6 MB PDFs", c.simple("two-pdfs-cap", files=[
        ("to-trinh.pdf", pdf(6_000_000), "application", "pdf"), ("phu-luc.pdf", pdf(6_000_000), "application", "pdf")]),
      "attachment_too_large", 552, conduct=True)

    file_case("unknown-binary", "an unknown binary (.dat)", "du-lieu.dat", os.urandom(700), "format_not_allowed",
              conduct=True)
    file_case("html-file", "an HTML file as a document", "trang-tin.html",
              "<html><body>Tin tức</body></html>".encode(), "format_not_allowed", kind=("text", "html"), conduct=True)
    file_case("mp4", "a video (.mp4, not an allowed format)", "phong-su.mp4",
              b"\x00\x00\x00\x18ftypmp42" + os.urandom(500), "format_not_allowed", conduct=True)
    file_case("pdf-as-docx", "a PDF named .docx", "bao-cao.docx", pdf(), "format_mismatch", conduct=True)
    file_case("ole2-as-pdf", "an OLE2 file named .pdf", "cong-van.pdf", ole2(), "format_mismatch", conduct=True)

    C = "classified_document"
    H("stamp-plain", "TỐI MẬT in the subject", c.simple("stamp-plain", subject="TỐI MẬT - " + SUBJECT), C, conduct=True)
    H("stamp-zwsp", "MẬT in the subject written with zero-width spaces",
      c.simple("stamp-zwsp", subject="M\u200bẬ\u200bT - " + SUBJECT), C, conduct=True)
    H("stamp-fullwidth", "TỐI MẬT in fullwidth letters", c.simple("stamp-fullwidth", subject="ＴỐＩ ＭẬＴ - " + SUBJECT),
      C, conduct=True)
    H("stamp-cyrillic", "TUYỆT MẬT with Cyrillic look-alikes (Т, М)",
      c.simple("stamp-cyrillic", subject="\u0422UYỆ\u0422 \u041cẬ\u0422 - " + SUBJECT), C, conduct=True)
    H("stamp-body-zwj", "Độ mật: Tối mật in the body with zero-width joiners",
      c.simple("stamp-body-zwj", body="Kính gửi,\nĐộ mật: T\u200dối m\u200dật\nNội dung kèm theo.\n"), C, conduct=True)
    H("stamp-body-fullwidth", "TUYỆT MẬT alone on a body line, fullwidth and with a soft hyphen",
      c.simple("stamp-body-fullwidth", body="ＴＵＹỆＴ\u00ad ＭẬＴ\nKính gửi các đồng chí.\n"), C, conduct=True)
    H("stamp-in-name", "a stamp in an attachment name (word joiner inside)",
      c.simple("stamp-in-name", files=[("Kế hoạch M\u2060ẬT.pdf", pdf(), "application", "pdf")]), C, conduct=True)
    H("stamp-in-zip-entry", "a stamp in the name of a file inside a zip",
      c.simple("stamp-in-zip-entry", files=[("ho-so.zip", zip_of([("TỐI MẬT - Phương án.pdf", pdf())]), "application",
                                             "zip")]), C, conduct=True)
    inner = entity_bytes(c.simple("fwd-stamp-inner", subject="TỐI MẬT: phương án"))
    H("stamp-forwarded", "a stamp in the subject of a forwarded message", forward(c, "stamp-forwarded", inner), C,
      conduct=True)
    inner = entity_bytes(c.simple("fwd-stamp-body-inner", body="TỐI MẬT\nPhương án bảo vệ.\n"))
    H("stamp-forwarded-body", "a stamp alone on a line of a forwarded message's text",
      forward(c, "stamp-forwarded-body", inner), C, conduct=True)
    m = c.simple("stamp-html-entities", body="Kính gửi các đồng chí.\n")
    m.add_alternative("<p>&#84;&#7888;&#73; &#77;&#7852;&#84;</p><p>Kính gửi các đồng chí.</p>", subtype="html")
    H("stamp-html-entities", "TỐI MẬT written as HTML character references (only the HTML shows it)", m, C,
      conduct=True)
    m = c.simple("stamp-html-split", body="Kính gửi các đồng chí.\n")
    m.add_alternative("<p><b>TUYỆT M</b><span>ẬT</span></p><p>Kính gửi các đồng chí.</p>", subtype="html")
    H("stamp-html-split", "TUYỆT MẬT split by HTML tags inside the word (M</b><span>ẬT)", m, C, conduct=True)
    H("stamp-rfc2047-split", "MẬT split across two RFC 2047 encoded words of the subject",
      raw_message(c, "stamp-rfc2047-split", b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n",
                  "Nội dung.\r\n".encode(), subject=None).replace(
          b"Date:", b"Subject: =?utf-8?q?T=E1=BB=90I_M?= =?utf-8?q?=E1=BA=ACT_-_B=C3=A1o_c=C3=A1o?=\r\nDate:", 1),
      C, conduct=True)
    H("stamp-nfd", "TỐI MẬT in decomposed form (NFD: base letters and combining marks)",
      c.simple("stamp-nfd", subject=unicodedata.normalize("NFD", "TỐI MẬT - ") + SUBJECT), C, conduct=True)

    S = "subject_not_vietnamese"
    H("english-subject", "an English subject", c.simple("english-subject", subject="Monthly report for December"), S,
      conduct=True)
    H("one-vietnamese-letter", "English words with one Vietnamese letter",
      c.simple("one-vietnamese-letter", subject="Meeting report ở Q3"), S, conduct=True)
    H("empty-subject", "an empty subject", c.simple("empty-subject", subject=""), "subject_empty", conduct=True)
    H("no-subject", "no Subject: field", c.simple("no-subject", subject=None), "subject_empty", conduct=True)
    H("prefix-only-subject", "a subject of prefixes only (Re: TL:)",
      c.simple("prefix-only-subject", subject="Re: TL: "), "subject_empty", conduct=True)

    H("encrypted", "encrypted S/MIME (enveloped-data, cannot be inspected)",
      c.encrypt("encrypted", entity_bytes(MIMEText("Nội dung mã hóa.\n", "plain", "utf-8"))), "encrypted_content",
      conduct=True)

    spoof = c.simple("display-name-spoof")
    spoof.replace_header("From", '"%s" <%s>' % (c.other, c.sender))
    H("display-name-spoof", "another official's address as the From display name", spoof, "from_header",
      submission_only=True)
    spoof = c.simple("from-other")
    spoof.replace_header("From", c.other)
    H("from-other", "From: another official", spoof, "from_header", submission_only=True)

    AV = dict(reply=554, needs_clamd=True)
    file_case("eicar", "EICAR as a text attachment", "eicar.txt", eicar(), "antivirus", kind=text_plain, **AV)
    file_case("eicar-zipped", "EICAR in a zip", "tai-lieu.zip", zip_of([("eicar.txt", eicar())]), "antivirus", **AV)
    inner = entity_bytes(c.simple("fwd-eicar-inner", files=[("eicar.txt", eicar(), "text", "plain")]))
    H("eicar-forwarded", "EICAR in a forwarded message", forward(c, "eicar-forwarded", inner), "antivirus", **AV)
    H("eicar-uuencoded", "EICAR uuencoded in a text body (decoded by the policy walk)",
      raw_message(c, "eicar-uuencoded", b"", "Gửi tệp:\r\n".encode() + uuencode("ghi-chu.txt", eicar())),
      "antivirus", **AV)
    m = c.mixed("eicar-tnef")
    m.attach(part(tnef([("ghi-chu.txt", eicar())]), "application", "ms-tnef", "winmail.dat"))
    H("eicar-tnef", "EICAR inside winmail.dat (TNEF)", m, "antivirus", **AV)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--ca-only", action="store_true")
    parser.add_argument("--from", dest="sender")
    parser.add_argument("--to", dest="rcpt")
    parser.add_argument("--other", help="another official's address, for spoofing cases")
    parser.add_argument("--class", dest="cls", choices=["legit", "hostile", "all"], default="all")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    make_ca(os.path.join(args.out, "pki"))
    if args.ca_only:
        return
    if not (args.sender and args.rcpt and args.other):
        parser.error("--from, --to and --other are required")
    corpus = Corpus(args.out, args.sender, args.rcpt, args.other)
    if args.cls in ("legit", "all"):
        legit_cases(corpus)
    if args.cls in ("hostile", "all"):
        hostile_cases(corpus)
    with open(os.path.join(args.out, "manifest.json"), "w") as out:
        json.dump(corpus.manifest, out, ensure_ascii=False, indent=1)
    counts = {cls: sum(m["class"] == cls for m in corpus.manifest) for cls in ("legit", "hostile")}
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
