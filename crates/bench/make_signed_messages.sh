#!/usr/bin/env bash
# Signed 10 KB and 10 MB messages for `congvu-bench checks` (docs/benchmarks.md):
#   mkdir -p /tmp/benchmsg && cd /tmp/benchmsg && bash /path/to/crates/bench/make_signed_messages.sh
set -euo pipefail
FROM=hunglv.yendinh@thanhhoa.gov.vn
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=Bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr -subj "/CN=Hung" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:%s\n' "$FROM" > signer.ext
openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile signer.ext -out signer.pem 2>/dev/null
python3 - <<'PY'
import base64, os
text = ("Kính gửi các đồng chí,\nĐề nghị các đơn vị gửi báo cáo tuần trước thứ Sáu.\n" * 140)[:10000]
open("small.txt","w").write("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + text)
pdf = b"%PDF-1.4\n" + os.urandom(2_000_000 - 20) + b"\n%%EOF\n"
b64 = base64.encodebytes(pdf).decode()
parts = ["Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\nGửi kèm 5 tài liệu.\n"]
for i in range(5):
    parts.append(f"--b1\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"bao-cao-{i}.pdf\"\n\n{b64}")
parts.append("--b1--\n")
open("large.txt","w").write("".join(parts))
PY
for size in small large; do
  openssl smime -sign -in $size.txt -signer signer.pem -inkey signer.key -from "$FROM" -to "vanthu.sttt@thanhhoa.gov.vn" \
    -subject "Báo cáo tuần" | sed "s/\r\?$/\r/" > $size.eml
done
ls -l *.eml
