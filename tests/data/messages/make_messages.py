#!/usr/bin/env python3
"""Issue 10's message corpus, made at test time with Python's `email` package and
`openssl smime` (nothing generated is committed):

    make_messages.py OUT_DIR --from ADDR --to ADDR [--other ADDR] [--eicar]

writes OUT_DIR/<case>.eml (CRLF line ends, as a mail client sends them), the test
PKI (OUT_DIR/pki/ca.pem signs the signer certificate naming --from), and
OUT_DIR/manifest.json: one entry per case with its class ("legit" or "hostile"), what
it shows, and for hostile ones the rule that must refuse it:

- a policy reason code (docs/policy.md), read from the server's log line for the
  case's Message-ID;
- "antivirus" (554 5.7.1), "from_rule" (submission's originator check),
  "sender_auth" (MX: a forged local domain).

Every message has Message-ID <CASE@corpus.test>. EICAR cases are written only with
--eicar (the string is assembled here so that this file is not the test file).
"""
import argparse, base64, io, json, os, struct, subprocess, sys, zipfile, zlib
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.message import MIMEMessage
from email import encoders, policy as email_policy
from email.header import Header

SMTP = email_policy.SMTP.clone(linesep="\r\n", max_line_length=998)
VI_SUBJECT = "Báo cáo tình hình thực hiện nhiệm vụ tháng 12"

# ---------------------------------------------------------------- sample files
def pdf(size=2000):
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    tail = b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return head + b"%" + b"x" * max(0, size - len(head) - len(tail) - 1) + tail

def ole2():
    return bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)

def zip_of(entries, stored_first=None, encrypt=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1], compress_type=zipfile.ZIP_STORED)
        for name, data in entries:
            z.writestr(name, data)
    data = bytearray(buf.getvalue())
    if encrypt:  # set the "encrypted" flag bit in the local and central headers
        for sig in (b"PK\x03\x04", b"PK\x01\x02"):
            i = data.find(sig)
            while i != -1:
                off = i + (6 if sig == b"PK\x03\x04" else 8)
                data[off] |= 1
                i = data.find(sig, i + 4)
    return bytes(data)

def ooxml(kind):
    main = {"docx": ("word/document.xml", "wordprocessingml.document.main"),
            "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main"),
            "pptx": ("ppt/presentation.xml", "presentationml.presentation.main")}[kind]
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Override PartName="/%s" ContentType="application/vnd.openxmlformats-officedocument.%s+xml"/></Types>'
             % main)
    return zip_of([("[Content_Types].xml", types), ("_rels/.rels", "<Relationships/>"), (main[0], "<x/>")])

def odf(kind, extra=()):
    mime = "application/vnd.oasis.opendocument." + kind
    return zip_of([("content.xml", "<office:document-content/>"), ("META-INF/manifest.xml", "<manifest/>")] + list(extra),
                  stored_first=("mimetype", mime))

def png(n=200):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(3 * n) for _ in range(n))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb0043") + bytes(64) + bytes.fromhex("ffd9")
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
TIFF = b"II*\x00\x08\x00\x00\x00" + bytes(32)
RTF = b"{\\rtf1\\ansi Bao cao thang 12\\par}"

def exe():
    mz = bytearray(512)
    mz[0:2] = b"MZ"
    mz[0x3c:0x40] = struct.pack("<I", 0x80)
    mz[0x80:0x84] = b"PE\x00\x00"
    mz[0x84:0x86] = struct.pack("<H", 0x14c)
    return bytes(mz)

ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(56)
RAR = b"Rar!\x1a\x07\x01\x00" + bytes(56)
ISO = bytes(0x8001) + b"CD001" + bytes(100)

def eicar():
    return (r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR" + "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()

def vcalendar():
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//congvu//corpus//VI\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
            "UID:hop-giao-ban@corpus.test\r\nDTSTART:20261207T013000Z\r\nDTEND:20261207T030000Z\r\n"
            "SUMMARY:Họp giao ban tuần\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

def vcard():
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nguyễn Anh Tuấn\r\nEMAIL:tuanna.sttt@thanhhoa.gov.vn\r\nEND:VCARD\r\n"

def tnef(files):
    """A minimal Outlook TNEF stream (MS-OXTNEF): attachment title and data per file."""
    def attr(level, ident, data):
        return bytes([level]) + struct.pack("<I", ident) + struct.pack("<I", len(data)) + data + \
            struct.pack("<H", sum(data) & 0xffff)
    out = struct.pack("<I", 0x223E9F78) + struct.pack("<H", 0x0001)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    for name, data in files:
        out += attr(2, 0x00069002, bytes(14))                  # attAttachRendData starts an attachment
        out += attr(2, 0x00018010, name.encode() + b"\x00")    # attAttachTitle
        out += attr(2, 0x0006800F, data)                       # attAttachData
    return out

def uuencode(name, data):
    import binascii
    lines = [b"begin 755 " + name.encode()]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n"))
    lines += [b"`", b"end"]
    return b"\r\n".join(lines) + b"\r\n"

def yenc(name, data):
    out = bytearray(b"=ybegin line=128 size=%d name=%s\r\n" % (len(data), name.encode()))
    col = 0
    for b in data:
        c = (b + 42) % 256
        if c in (0, 10, 13, 61):
            out += b"=" + bytes([(c + 64) % 256]); col += 2
        else:
            out.append(c); col += 1
        if col >= 128:
            out += b"\r\n"; col = 0
    out += b"\r\n=yend size=%d\r\n" % len(data)
    return bytes(out)

def binhex(name, data):
    """BinHex 4.0 (RFC 1741) without run-length compression; 0x90 escaped."""
    def crc(b):
        c = 0
        for byte in b:
            c ^= byte << 8
            for _ in range(8):
                c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
                c &= 0xffff
        return c
    def with_crc(b):
        return b + struct.pack(">H", crc(b + b"\x00\x00"))
    header = bytes([len(name)]) + name.encode() + b"\x00" + b"APPL????" + b"\x00\x00" + struct.pack(">II", len(data), 0)
    raw = with_crc(header) + with_crc(data) + with_crc(b"")
    raw = raw.replace(b"\x90", b"\x90\x00")
    alphabet = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    bits, nbits, chars = 0, 0, bytearray()
    for byte in raw:
        bits = (bits << 8) | byte; nbits += 8
        while nbits >= 6:
            nbits -= 6; chars.append(alphabet[(bits >> nbits) & 63])
    if nbits:
        chars.append(alphabet[(bits << (6 - nbits)) & 63])
    body = b":" + bytes(chars) + b":"
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b"(This file must be converted with BinHex 4.0)\r\n\r\n" + b"\r\n".join(lines) + b"\r\n"

def zip_bomb(size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("du-lieu.txt", b"\0" * size)
    return buf.getvalue()

# ---------------------------------------------------------------- messages
class Corpus:
    def __init__(self, out, sender, rcpt, other):
        self.out, self.sender, self.rcpt, self.other = out, sender, rcpt, other
        self.manifest = []

    def base(self, msg, case, subject=VI_SUBJECT):
        msg["From"] = self.sender
        msg["To"] = self.rcpt
        if subject is not None:
            # Legacy (compat32) message objects need the encoded word spelt out.
            msg["Subject"] = subject if isinstance(msg, EmailMessage) else Header(subject, "utf-8").encode(linesep="\r\n")
        msg["Date"] = "Fri, 04 Dec 2026 09:00:00 +0700"
        msg["Message-ID"] = "<%s@corpus.test>" % case
        return msg

    def simple(self, case, body="Kính gửi các đồng chí,\nĐề nghị các đơn vị báo cáo đúng hạn.\n", subject=VI_SUBJECT, files=()):
        msg = self.base(EmailMessage(policy=SMTP), case, subject)
        msg.set_content(body)
        for name, data, maintype, subtype in files:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg

    def write(self, case, cls, shows, msg, expect=None, mx=True):
        data = msg if isinstance(msg, bytes) else msg.as_bytes(policy=SMTP)
        with open(os.path.join(self.out, case + ".eml"), "wb") as f:
            f.write(data)
        self.manifest.append({"case": case, "class": cls, "shows": shows, "expect": expect, "mx": mx})

    def legit(self, case, shows, msg):
        self.write(case, "legit", shows, msg)

    def hostile(self, case, shows, msg, expect, mx=True):
        self.write(case, "hostile", shows, msg, expect, mx)

def attach(msg, data, maintype, subtype, name=None, disposition="attachment", cid=None, cte="base64"):
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    if cte == "base64":
        encoders.encode_base64(part)
    if name is not None:
        part.add_header("Content-Disposition", disposition, filename=name)
    elif disposition:
        part.add_header("Content-Disposition", disposition)
    if cid:
        part.add_header("Content-ID", "<%s>" % cid)
    msg.attach(part)
    return part

def mixed(c, case, subject=VI_SUBJECT, text="Kính gửi các đồng chí, xin gửi kèm tài liệu.\n"):
    msg = c.base(MIMEMultipart("mixed"), case, subject)
    msg.attach(MIMEText(text, "plain", "utf-8"))
    return msg

def forwarded(c, case, inner, depth=1):
    msg = inner
    for level in range(depth):
        outer = mixed(c, case if level == depth - 1 else "%s-%d" % (case, level), "TL: " + VI_SUBJECT,
                      "Chuyển tiếp thư để các đồng chí biết.\n")
        outer.attach(MIMEMessage(msg))
        msg = outer
    return msg

def related_html(c, case, images):
    msg = c.base(MIMEMultipart("related"), case)
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("Xem ảnh chụp màn hình.\n", "plain", "utf-8"))
    html = "<p>Xem ảnh chụp màn hình:</p>" + "".join('<img src="cid:%s">' % cid for cid, *_ in images)
    alt.attach(MIMEText(html, "html", "utf-8"))
    msg.attach(alt)
    for cid, data, subtype, name in images:
        attach(msg, data, "image", subtype, name, "inline", cid)
    return msg

def sign(c, case, content, opaque=False, pki=None):
    """openssl smime -sign over the MIME entity `content` (bytes)."""
    src = os.path.join(c.out, case + ".content")
    with open(src, "wb") as f:
        f.write(content)
    args = ["openssl", "smime", "-sign", "-in", src, "-signer", pki + "/signer.pem", "-inkey", pki + "/signer.key",
            "-from", c.sender, "-to", c.rcpt, "-subject", VI_SUBJECT]
    if opaque:
        args.append("-nodetach")
    signed = subprocess.run(args, check=True, capture_output=True).stdout
    os.remove(src)
    # CRLF as sent; the signed part is already canonical, keep its CRs single.
    signed = signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = b"Date: Fri, 04 Dec 2026 09:00:00 +0700\r\nMessage-ID: <%s@corpus.test>\r\n" % case.encode()
    return head + signed

def make_pki(out, sender):
    pki = os.path.join(out, "pki")
    os.makedirs(pki, exist_ok=True)
    def run(*args):
        subprocess.run(args, check=True, capture_output=True, cwd=pki)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
        "-subj", "/CN=Corpus CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "signer.key", "-out", "signer.csr", "-subj", "/CN=Signer")
    with open(os.path.join(pki, "signer.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=emailProtection\n"
                "subjectAltName=email:%s\n" % sender)
    run("openssl", "x509", "-req", "-in", "signer.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "30", "-extfile", "signer.ext", "-out", "signer.pem")
    return pki

def entity(maintype, subtype, data, name=None):
    part = MIMEBase(maintype, subtype) if maintype != "text" else MIMEText(data, subtype, "utf-8")
    if maintype != "text":
        part.set_payload(data)
        encoders.encode_base64(part)
    if name:
        part.add_header("Content-Disposition", "attachment", filename=name)
    return part.as_bytes(policy=SMTP)

def legit_cases(c, pki):
    c.legit("plain", "plain UTF-8 text", c.simple("plain"))
    m = c.simple("quoted-printable"); m.set_content("Kính gửi,\nBáo cáo quý IV.\n", cte="quoted-printable")
    c.legit("quoted-printable", "quoted-printable body", m)
    m = c.simple("base64-body"); m.set_content("Kính gửi,\nBáo cáo quý IV.\n", cte="base64")
    c.legit("base64-body", "base64 body", m)
    m = c.simple("alternative"); m.add_alternative("<p>Kính gửi <b>các đồng chí</b></p>", subtype="html")
    c.legit("alternative", "text and HTML alternatives", m)
    c.legit("html-inline-png", "HTML with a pasted screenshot (multipart/related, cid:)",
            related_html(c, "html-inline-png", [("anh1", png(), "png", "image001.png")]))
    c.legit("html-inline-jpeg-gif", "HTML with inline JPEG and GIF",
            related_html(c, "html-inline-jpeg-gif", [("a1", JPEG, "jpeg", "a.jpg"), ("a2", GIF, "gif", "b.gif")]))
    formats = [("txt", b"Noi dung ghi chu\r\n", "text", "plain"), ("doc", ole2(), "application", "msword"),
               ("odt", odf("text"), "application", "vnd.oasis.opendocument.text"),
               ("ods", odf("spreadsheet"), "application", "vnd.oasis.opendocument.spreadsheet"),
               ("odp", odf("presentation"), "application", "vnd.oasis.opendocument.presentation"),
               ("rtf", RTF, "application", "rtf"), ("pdf", pdf(), "application", "pdf"),
               ("docx", ooxml("docx"), "application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
               ("xlsx", ooxml("xlsx"), "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
               ("pptx", ooxml("pptx"), "application", "vnd.openxmlformats-officedocument.presentationml.presentation"),
               ("xls", ole2(), "application", "vnd.ms-excel"), ("ppt", ole2(), "application", "vnd.ms-powerpoint"),
               ("png", png(), "image", "png"), ("jpg", JPEG, "image", "jpeg"), ("gif", GIF, "image", "gif"),
               ("tiff", TIFF, "image", "tiff"),
               ("zip", zip_of([("cong-van.pdf", pdf()), ("ghi-chu.txt", "ghi chú")]), "application", "zip")]
    for ext, data, maintype, subtype in formats:
        case = "format-" + ext
        c.legit(case, "an allowed format: ." + ext, c.simple(case, files=[("bao-cao." + ext, data, maintype, subtype)]))
    m = c.simple("invitation"); m.add_alternative(vcalendar(), subtype="calendar", params={"method": "REQUEST"})
    c.legit("invitation", "a meeting invitation (text/calendar in the alternatives)", m)
    c.legit("invite-ics", "invite.ics attached",
            c.simple("invite-ics", files=[("invite.ics", vcalendar().encode(), "text", "calendar")]))
    c.legit("vcard", "a contact card", c.simple("vcard", files=[("tuan.vcf", vcard().encode(), "text", "vcard")]))
    plain_entity = entity("text", "plain", "Kính gửi các đồng chí,\nVăn bản đã ký số.\n")
    c.legit("smime-signed", "S/MIME signed (multipart/signed)", sign(c, "smime-signed", plain_entity, pki=pki))
    with_pdf = MIMEMultipart("mixed")
    with_pdf.attach(MIMEText("Văn bản ký số kèm tệp.\n", "plain", "utf-8"))
    attach(with_pdf, pdf(), "application", "pdf", "quyet-dinh.pdf")
    c.legit("smime-signed-pdf", "S/MIME signed with a PDF", sign(c, "smime-signed-pdf", with_pdf.as_bytes(policy=SMTP), pki=pki))
    c.legit("smime-opaque", "S/MIME opaque signed-data", sign(c, "smime-opaque", plain_entity, opaque=True, pki=pki))
    from email import message_from_bytes
    inner = message_from_bytes(sign(c, "smime-inner", plain_entity, pki=pki))
    c.legit("smime-forwarded", "a signed message forwarded", forwarded(c, "smime-forwarded", inner))
    inner = c.simple("fwd-inner", files=[("cong-van.pdf", pdf(), "application", "pdf")])
    c.legit("forwarded-attachment", "a forwarded message with an attachment", forwarded(c, "forwarded-attachment", inner))
    inner = c.simple("fwd2-inner", files=[("bao-cao.docx", ooxml("docx"), "application",
                                           "vnd.openxmlformats-officedocument.wordprocessingml.document")])
    c.legit("forwarded-twice", "forwarded twice", forwarded(c, "forwarded-twice", inner, depth=2))
    m = mixed(c, "rfc2231-name")
    part = attach(m, pdf(), "application", "pdf", None, None)
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "Báo cáo quý IV.pdf"))
    c.legit("rfc2231-name", "a Vietnamese RFC 2231 file name", m)
    m = mixed(c, "rfc2047-name")
    part = attach(m, pdf(), "application", "pdf", None, None)
    part["Content-Disposition"] = 'attachment; filename="%s"' % Header("Tờ trình.pdf", "utf-8").encode()
    c.legit("rfc2047-name", "an RFC 2047 file name", m)
    m = c.simple("reply", subject="Re: " + VI_SUBJECT); m["In-Reply-To"] = "<plain@corpus.test>"
    c.legit("reply", "a reply (Re:)", m)
    c.legit("tl-prefix", "a forward prefix TL:", c.simple("tl-prefix", subject="TL: " + VI_SUBJECT))
    def report(case, report_type, subject, text, machine_type, machine):
        return (("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@corpus.test>\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/report; report-type=%s; boundary=\"r1\"\r\n\r\n"
                 "--r1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
                 "--r1\r\nContent-Type: %s\r\n\r\n%s\r\n--r1--\r\n")
                % (c.sender, c.rcpt, Header(subject, "utf-8").encode(linesep="\r\n"), case, report_type, text, machine_type,
                   machine)).encode()
    c.legit("delivery-report", "a delivery status report", report(
        "delivery-report", "delivery-status", "Thư không gửi được", "Thư không chuyển được.", "message/delivery-status",
        "Reporting-MTA: dns; mail.corpus.test\r\n\r\nFinal-Recipient: rfc822; x@corpus.test\r\nAction: failed\r\n"
        "Status: 5.1.1\r\n"))
    c.legit("read-receipt", "a read receipt (MDN)", report(
        "read-receipt", "disposition-notification", "Đã đọc: " + VI_SUBJECT, "Thư đã được mở.",
        "message/disposition-notification",
        "Final-Recipient: rfc822; %s\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n" % c.rcpt))
    m = mixed(c, "tnef")
    attach(m, tnef([("quyet-dinh.pdf", pdf())]), "application", "ms-tnef", "winmail.dat")
    c.legit("tnef", "Outlook's winmail.dat holding a PDF", m)
    c.legit("near-cap", "9.9 MB of attachments",
            c.simple("near-cap", files=[("ho-so-%d.pdf" % i, pdf(3_300_000), "application", "pdf") for i in range(3)]))
    c.legit("several-files", "a PDF, a .docx and an .xlsx",
            c.simple("several-files", files=[("a.pdf", pdf(), "application", "pdf"),
                                              ("b.docx", ooxml("docx"), "application", "msword"),
                                              ("c.xlsx", ooxml("xlsx"), "application", "vnd.ms-excel")]))
    outlook = c.base(MIMEMultipart("mixed"), "outlook-html")
    rel = MIMEMultipart("related")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("Xem tài liệu.\n", "plain", "utf-8"))
    alt.attach(MIMEText('<p>Xem tài liệu <img src="cid:logo"></p>', "html", "utf-8"))
    rel.attach(alt)
    attach(rel, png(50), "image", "png", "image001.png", "inline", "logo")
    outlook.attach(rel)
    attach(outlook, pdf(), "application", "pdf", "tai-lieu.pdf")
    c.legit("outlook-html", "Outlook's mixed/related/alternative with a signature logo", outlook)
    c.legit("eight-bit-headers", "a raw UTF-8 subject (8BITMIME/SMTPUTF8 clients)",
            ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <eight-bit-headers@corpus.test>\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "Nội dung.\r\n" % (c.sender, c.rcpt, VI_SUBJECT)).encode())

def raw_message(c, case, headers, body=b"Noi dung.\r\n", subject=VI_SUBJECT):
    return (b"From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@corpus.test>\r\n" %
            (c.sender.encode(), c.rcpt.encode(), Header(subject, "utf-8").encode(linesep="\r\n").encode(), case.encode())) + headers + b"\r\n" + body

def hostile_cases(c, with_eicar):
    D = "dangerous_content"
    def file_case(case, shows, name, data, expect=D, maintype="application", subtype="octet-stream"):
        c.hostile(case, shows, c.simple(case, files=[(name, data, maintype, subtype)]), expect)
    file_case("exe", "a Windows executable", "setup.exe", exe())
    file_case("exe-as-pdf", "an executable named .pdf", "cong-van.pdf", exe())
    file_case("exe-as-docx", "an executable named .docx", "bao-cao.docx", exe())
    file_case("elf-as-xlsx", "an ELF binary named .xlsx", "so-lieu.xlsx", ELF)
    file_case("script-as-txt", "a shell script named .txt", "ghi-chu.txt", b"#!/bin/sh\nrm -rf /\n", maintype="text", subtype="plain")
    file_case("bat", "a .bat file", "chay.bat", b"@echo off\r\ndel /q *\r\n", maintype="text", subtype="plain")
    file_case("js", "a .js file", "bao-cao.js", b"WScript.Echo(1);\r\n", maintype="text", subtype="plain")
    file_case("lnk", "a .lnk shortcut", "tai-lieu.lnk", b"L\x00\x00\x00" + bytes(72))
    file_case("vbs-trailing-dot", "run.vbs. (trailing dot)", "run.vbs.", b"MsgBox 1\r\n", maintype="text", subtype="plain")
    file_case("vbs-ads", "run.vbs::$DATA (NTFS stream)", "run.vbs::$DATA", b"MsgBox 1\r\n", maintype="text", subtype="plain")
    file_case("exe-trailing-space", "RUN.EXE with a trailing space", "RUN.EXE ", exe())
    file_case("rtlo", "a right-to-left override hiding .exe", "bao-cao\u202efdp.exe", exe())
    m = mixed(c, "rfc2231-exe"); part = attach(m, exe(), "application", "octet-stream", None, None)
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "hồ sơ.exe"))
    c.hostile("rfc2231-exe", "an RFC 2231 encoded .exe name", m, D)
    m = mixed(c, "rfc2047-exe"); part = attach(m, exe(), "application", "octet-stream", None, None)
    part["Content-Disposition"] = 'attachment; filename="%s"' % Header("hồ sơ.exe", "utf-8").encode()
    c.hostile("rfc2047-exe", "an RFC 2047 encoded .exe name", m, D)
    m = mixed(c, "inline-text-exe")
    part = attach(m, exe(), "text", "plain", "run.exe", "inline")
    c.hostile("inline-text-exe", "an .exe as an inline text/plain part with filename=", m, D)
    c.hostile("cid-exe", "an executable inline with a cid: reference",
              related_html(c, "cid-exe", [("img1", exe(), "png", "image001.png")]), D)
    file_case("zipped-exe", "an executable in a zip", "tai-lieu.zip", zip_of([("setup.exe", exe())]))
    file_case("nested-zip-exe", "an executable in a zip in a zip", "tai-lieu.zip",
              zip_of([("inner.zip", zip_of([("readme.pdf", exe())]))]))
    file_case("odt-exe", "an executable inside an .odt", "bao-cao.odt", odf("text", [("Pictures/payload.exe", exe())]))
    file_case("docx-exe", "an executable inside a .docx", "bao-cao.docx",
              zip_of([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<x/>"), ("word/embeddings/run.exe", exe())]))
    file_case("zip-odt-exe", "an .odt holding an .exe, in a zip", "ho-so.zip",
              zip_of([("bao-cao.odt", odf("text", [("payload.exe", exe())]))]))
    c.hostile("forwarded-exe", "an executable in a forwarded message",
              forwarded(c, "forwarded-exe", c.simple("fwd-exe-inner", files=[("setup.exe", exe(), "application", "octet-stream")])), D)
    c.hostile("forwarded-twice-exe", "an executable two forwards deep",
              forwarded(c, "forwarded-twice-exe", c.simple("fwd2-exe-inner", files=[("a.pdf", exe(), "application", "pdf")]), 2), D)
    c.hostile("uuencoded-exe", "a uuencoded executable in a text body",
              raw_message(c, "uuencoded-exe", b"", b"Gui file:\r\n" + uuencode("setup.exe", exe())), D)
    c.hostile("binhex-exe", "a BinHex executable in a text body",
              raw_message(c, "binhex-exe", b"", b"Gui file:\r\n" + binhex("setup.exe", exe())), D)
    c.hostile("yenc-exe", "a yEnc executable in a text body",
              raw_message(c, "yenc-exe", b"", b"Gui file:\r\n" + yenc("setup.exe", exe())), D)
    m = mixed(c, "tnef-exe"); attach(m, tnef([("setup.exe", exe())]), "application", "ms-tnef", "winmail.dat")
    c.hostile("tnef-exe", "an executable in winmail.dat", m, D)
    file_case("seven-zip", "a 7z archive (cannot be opened)", "tai-lieu.7z", SEVEN_Z, "archive_too_complex")
    file_case("rar", "a RAR archive", "tai-lieu.rar", RAR, "archive_too_complex")
    file_case("iso", "an ISO 9660 image", "dia.iso", ISO, "archive_too_complex")
    file_case("seven-zip-as-pdf", "a 7z archive named .pdf", "cong-van.pdf", SEVEN_Z, "archive_too_complex")
    file_case("encrypted-zip", "a zip with an encrypted entry", "mat-khau.zip", zip_of([("a.pdf", pdf())], encrypt=True),
              "archive_too_complex")
    file_case("deep-zip", "zips nested 5 deep", "long.zip",
              zip_of([("4.zip", zip_of([("3.zip", zip_of([("2.zip", zip_of([("1.zip", zip_of([("a.txt", "x")]))]))]))]))]),
              "archive_too_complex")
    file_case("zip-many-entries", "a zip with 1,200 entries", "nhieu.zip", zip_of([("%d.txt" % i, "x") for i in range(1200)]),
              "archive_too_complex")
    bomb = zip_bomb(10 * 1024 * 1024)
    m = mixed(c, "zip-bombs")
    for i in range(200):
        attach(m, bomb, "application", "zip", "du-lieu-%d.zip" % i)
    c.hostile("zip-bombs", "200 zip bombs of 10 MiB each in one message", m, "archive_too_complex")
    file_case("zip-bomb", "one zip of 200 MiB of zeros", "bom.zip", zip_bomb(200 * 1024 * 1024), "archive_too_complex")
    inner = MIMEText("đáy", "plain", "utf-8")
    for _ in range(33):
        wrapper = MIMEMultipart("mixed"); wrapper.attach(inner); inner = wrapper
    deep = c.base(inner, "deep-multipart")
    c.hostile("deep-multipart", "33 nested multiparts", deep, "message_too_complex")
    c.hostile("deep-forward", "5 nested forwarded messages",
              forwarded(c, "deep-forward", c.simple("deep-fwd-inner"), 5), "message_too_complex")
    many = mixed(c, "many-parts")
    for i in range(1001):
        many.attach(MIMEText("phần %d" % i, "plain", "utf-8"))
    c.hostile("many-parts", "1,001 parts", many, "message_too_complex")
    m = mixed(c, "inline-text-cap")
    big = MIMEText("Dữ liệu. " * (13 * 1024 * 1024 // 11), "plain", "utf-8")
    big.add_header("Content-Disposition", "inline")
    m.attach(big)
    c.hostile("inline-text-cap", "a 13 MiB inline text part", m, "attachment_too_large")
    images = related_html(c, "inline-images-cap", [("i%d" % i, os.urandom(1024 * 1024), "png", "i%d.png" % i) for i in range(11)])
    c.hostile("inline-images-cap", "11 MiB of inline images", images, "attachment_too_large")
    c.hostile("two-pdfs-cap", "two 6 MB PDFs", c.simple("two-pdfs-cap", files=[("a.pdf", pdf(6_000_000), "application", "pdf"),
                                                                                 ("b.pdf", pdf(6_000_000), "application", "pdf")]),
              "attachment_too_large")
    file_case("unknown-binary", "an unknown binary format", "du-lieu.dat", os.urandom(600) + bytes(100), "format_not_allowed")
    file_case("pdf-as-docx", "a PDF named .docx", "bao-cao.docx", pdf(), "format_mismatch")
    C = "classified_document"
    c.hostile("stamp-zwsp", "MẬT in the subject with zero-width spaces", c.simple("stamp-zwsp", subject="M\u200bẬ\u200bT: " + VI_SUBJECT), C)
    c.hostile("stamp-fullwidth", "TỐI MẬT in fullwidth letters", c.simple("stamp-fullwidth", subject="ＴỐＩ ＭẬＴ - " + VI_SUBJECT), C)
    c.hostile("stamp-cyrillic", "TUYỆT MẬT with Cyrillic look-alikes", c.simple("stamp-cyrillic", subject="ТUYỆТ МẬТ " + VI_SUBJECT), C)
    c.hostile("stamp-body-zwj", "Độ mật: Tối mật in the body with zero-width joiners",
              c.simple("stamp-body-zwj", body="Kính gửi,\nĐộ mật: T\u200dối m\u200dật\n"), C)
    c.hostile("stamp-in-name", "a stamp in an attachment name", c.simple("stamp-in-name", files=[
        ("Tài liệu M\u2060ẬT.pdf", pdf(), "application", "pdf")]), C)
    c.hostile("english-subject", "an English subject", c.simple("english-subject", subject="Monthly report for December"),
              "subject_not_vietnamese")
    c.hostile("one-vietnamese-letter", "English words with one Vietnamese letter",
              c.simple("one-vietnamese-letter", subject="Meeting report ở Q3"), "subject_not_vietnamese")
    c.hostile("empty-subject", "no subject", c.simple("empty-subject", subject=""), "subject_empty")
    enveloped = c.base(MIMEBase("application", "pkcs7-mime", name="smime.p7m"), "encrypted")
    enveloped.set_param("smime-type", "enveloped-data")
    enveloped.set_payload(os.urandom(400)); encoders.encode_base64(enveloped)
    c.hostile("encrypted", "encrypted S/MIME (cannot be inspected)", enveloped, "encrypted_content")
    # Header smuggling: the checks must see what the relay will send.
    c.hostile("bare-cr-content-type", "a bare CR hiding a Content-Type that makes the body an .exe",
              raw_message(c, "bare-cr-content-type",
                          b"X-Mailer: a\rContent-Type: application/octet-stream; name=run.exe\r\n"
                          b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=run.exe\r\n",
                          base64.encodebytes(exe()).replace(b"\n", b"\r\n")), D)
    c.hostile("bare-lf-content-type", "a bare LF hiding a Content-Type that makes the body an .exe",
              raw_message(c, "bare-lf-content-type",
                          b"X-Mailer: a\nContent-Type: application/octet-stream; name=run.exe\r\n"
                          b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=run.exe\r\n",
                          base64.encodebytes(exe()).replace(b"\n", b"\r\n")), D)
    c.hostile("bare-cr-from", "a bare CR smuggling another official's From:",
              raw_message(c, "bare-cr-from", b"X-Mailer: a\rFrom: %s\r\n" % c.other.encode()), "smuggled_from")
    c.hostile("bare-lf-from", "a bare LF smuggling another official's From:",
              raw_message(c, "bare-lf-from", b"X-Mailer: a\nFrom: %s\r\n" % c.other.encode()), "smuggled_from")
    name_spoof = c.simple("display-name-spoof")
    name_spoof.replace_header("From", '"Chủ tịch (%s)" <%s>' % (c.other, c.sender))
    c.hostile("display-name-spoof", "another official's address as the From display name", name_spoof, "from_rule", mx=False)
    if with_eicar:
        A = "antivirus"
        file_case("eicar", "EICAR as a text file", "eicar.txt", eicar(), A, "text", "plain")
        file_case("eicar-zipped", "EICAR in a zip", "eicar.zip", zip_of([("eicar.txt", eicar())]), A)
        c.hostile("eicar-forwarded", "EICAR in a forwarded message",
                  forwarded(c, "eicar-forwarded", c.simple("eicar-fwd-inner", files=[("eicar.txt", eicar(), "text", "plain")])), A)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", dest="rcpt", required=True)
    p.add_argument("--other", default="chutich@thanhhoa.gov.vn", help="another official, for spoofing cases")
    p.add_argument("--eicar", action="store_true")
    p.add_argument("--hostile-only", action="store_true")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    c = Corpus(args.out, args.sender, args.rcpt, args.other)
    if not args.hostile_only:
        legit_cases(c, make_pki(args.out, args.sender))
    hostile_cases(c, args.eicar)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(c.manifest, f, ensure_ascii=False, indent=1)
    print(json.dumps({"legit": sum(m["class"] == "legit" for m in c.manifest),
                      "hostile": sum(m["class"] == "hostile" for m in c.manifest)}))

if __name__ == "__main__":
    main()
