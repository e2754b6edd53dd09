#!/bin/bash
# The sled/PostgreSQL runs of docs/benchmarks.md ("sled and PostgreSQL, one node and two").
set -e
C=/work/main/target/release/congvu
BENCH=/work/main/target/release/congvu-bench
PW=benchpass-123
start() { $C --config /tmp/scale/$1/congvu.toml serve > /tmp/scale/$1/serve.log 2>&1 & echo $! > /tmp/scale/$1/pid; for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/${2}93) 2>/dev/null && break; sleep 0.2; done; }
stop() { kill $(cat /tmp/scale/$1/pid); wait $(cat /tmp/scale/$1/pid) 2>/dev/null || true; }
cli() { local n=$1; shift; $C --config /tmp/scale/$n/congvu.toml "$@"; }
provision() { # node
  cli $1 agency add sttt --name "Sở Thông tin và Truyền thông" >/dev/null
  for name in "Nguyễn Anh Tuấn" "Lê Thị Hoa" "Trần Văn Nam" "Phạm Thị Mai"; do
    addr=$(cli $1 account add --agency sttt --name "$name")
    echo $PW | cli $1 account passwd $addr --password-stdin >/dev/null
    cli $1 account quota $addr 8GB >/dev/null
    echo $addr
  done
}
pgrss() { ps -C postgres -o rss= | awk '{s+=$1} END {printf "%.0f", s/1024}'; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$(cat /tmp/scale/$1/pid)/status; }
smtp() { # node-smtp-base node-imaps-base rcpt messages concurrency
  $BENCH smtp --smtp 127.0.0.1:${1}25 --imaps 127.0.0.1:${2}93 --cafile /tmp/scale/$3/data/tls/self-signed-cert.pem \
    --rcpt $4 --password $PW --messages $5 --concurrency $6 --size 10240
}
load() { # base node user clients seconds
  $BENCH imap-load --imaps 127.0.0.1:${1}93 --cafile /tmp/scale/$2/data/tls/self-signed-cert.pem \
    --user $3 --password $PW --clients $4 --seconds $5
}

echo "== sled, one node"
start s 41; users=($(provision s))
smtp 41 41 s ${users[0]} 5000 20
load 41 s ${users[1]} 10 60
echo "sled node RSS MiB: $(rss s)"
stop s

echo "== PostgreSQL, one node"
start a 42; users=($(provision a))
echo "postgres RSS MiB before: $(pgrss)"
smtp 42 42 a ${users[0]} 5000 20
load 42 a ${users[1]} 10 60
echo "node A RSS MiB: $(rss a); postgres RSS MiB: $(pgrss)"

echo "== PostgreSQL, two nodes"
start b 43
$(dirname "$0")/run-two.sh
stop a; stop b
