#!/bin/bash
# Bodies in PostgreSQL against bodies in a body directory ([store] blobs): the same
# SMTP run on one node each, each on a fresh database (congvu, congvu_files).
set -e
C=/work/main/target/release/congvu
BENCH=/work/main/target/release/congvu-bench
PW=benchpass-123
D=thanhhoa.gov.vn
. "$(dirname "$0")/conf.sh"
node() { # name base database extra
  rm -rf /tmp/scale/$1
  conf $1 $2 "$(pg_store postgres://postgres@127.0.0.1:35432/$3)
$4"
  $C --config /tmp/scale/$1/congvu.toml db migrate >/dev/null
  $C --config /tmp/scale/$1/congvu.toml serve > /tmp/scale/$1/serve.log 2>&1 & echo $! > /tmp/scale/$1/pid
  for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/${2}93) 2>/dev/null && break; sleep 0.2; done
  $C --config /tmp/scale/$1/congvu.toml agency add sttt --name "Sở Thông tin và Truyền thông" >/dev/null
  for name in "Nguyễn Anh Tuấn" "Lê Thị Hoa" "Trần Văn Nam" "Phạm Thị Mai"; do
    addr=$($C --config /tmp/scale/$1/congvu.toml account add --agency sttt --name "$name")
    echo $PW | $C --config /tmp/scale/$1/congvu.toml account passwd $addr --password-stdin >/dev/null
    $C --config /tmp/scale/$1/congvu.toml account quota $addr 8GB >/dev/null
  done
}
run() { # name base
  local cafile=/tmp/scale/$1/data/tls/self-signed-cert.pem
  echo "-- $1: 5,000 to one mailbox, 20 connections"
  $BENCH smtp --smtp 127.0.0.1:${2}25 --imaps 127.0.0.1:${2}93 --cafile $cafile --rcpt tuanna.sttt@$D --password $PW --messages 5000 --concurrency 20 --size 10240
  echo "-- $1: 4 x 1,250 to four mailboxes at once"
  local benches=()
  for u in hoalt namtv maipt tuanna; do
    $BENCH smtp --smtp 127.0.0.1:${2}25 --imaps 127.0.0.1:${2}93 --cafile $cafile --rcpt $u.sttt@$D --password $PW --messages 1250 --concurrency 5 --size 10240 > /tmp/scale/$1/four-$u.txt 2>&1 &
    benches+=($!)
  done
  wait "${benches[@]}"
  cat /tmp/scale/$1/four-*.txt | grep end-to-end
  kill $(cat /tmp/scale/$1/pid); wait $(cat /tmp/scale/$1/pid) 2>/dev/null || true
}
echo "== bodies in PostgreSQL"
node indb 45 congvu ""
run indb 45
runuser -u postgres -- psql -h 127.0.0.1 -p 35432 -U postgres -d congvu -Atc "SELECT pg_size_pretty(pg_database_size('congvu'))"
echo "== bodies in a body directory"
node files 46 congvu_files "blobs = \"/tmp/scale/files/blobs\""
run files 46
runuser -u postgres -- psql -h 127.0.0.1 -p 35432 -U postgres -d congvu_files -Atc "SELECT pg_size_pretty(pg_database_size('congvu_files'))"
du -sh /tmp/scale/files/blobs
