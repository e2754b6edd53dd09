#!/usr/bin/env bash
# Outbound relay throughput: congvu's queue → Postfix's smtp-sink on loopback,
# 20 connections, 10 KB messages (docs/benchmarks.md, "Outbound relay").
#
# 1. congvu runs with [queue] enabled = false; N messages are submitted (so the queue
#    is full and nothing is sent yet);
# 2. congvu stops, smtp-sink starts, congvu starts again with the queue enabled;
# 3. rate = N / (time from that start until `congvu queue list` shows an empty queue).
#
# Usage (from the repository root): crates/relay/bench/sink.sh   [N=1000 BIN=target/debug/congvu]
set -euo pipefail
N=${N:-1000}
CLIENTS=${CLIENTS:-10}
BIN=${BIN:-target/debug/congvu}
DIR=$(mktemp -d /tmp/congvu-relay-bench.XXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SUB=$(free_port); ADMIN=$(free_port); SINK=$(free_port)

config() {
  cat >"$DIR/congvu.toml" <<EOF
[server]
hostname = "mail.thanhhoa.gov.vn"
data_dir = "$DIR/data"
[domain]
primary = "thanhhoa.gov.vn"
[listeners]
submission = "127.0.0.1:$SUB"
admin = "127.0.0.1:$ADMIN"
[log]
level = "warn"
[queue]
enabled = $1
scan_interval_secs = 1
connections_per_host = 20
max_connections = 20
[[routes]]
domains = ["sink.test"]
next_hop = "127.0.0.1:$SINK"
tls = "none"
EOF
}
cv() { "$BIN" --config "$DIR/congvu.toml" "$@"; }
wait_port() { for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.05; done; echo "port $1 not open" >&2; exit 1; }

config false
"$BIN" --config "$DIR/congvu.toml" serve 2>>"$DIR/log" & PID=$!
wait_port "$SUB"; wait_port "$ADMIN"
cv agency add sttt --name "Sở Thông tin và Truyền thông" >/dev/null
USER=$(cv account add --agency sttt --name "Nguyễn Anh Tuấn")
echo benchpass-123 | cv account passwd "$USER" --password-stdin >/dev/null
BODY=$(python3 -c 'print(("Kính gửi các đồng chí, đề nghị dự họp đúng giờ. " * 200)[:10000])')
python3 tests/py/mailclient.py flood --port "$SUB" --security starttls \
  --cafile "$DIR/data/tls/self-signed-cert.pem" --user "$USER" --password benchpass-123 \
  --from "$USER" --to bench@sink.test --body "$BODY" --clients "$CLIENTS" \
  --count $((N / CLIENTS)) --seconds 600 --acked "$DIR/acked" >/dev/null
echo "queued $(wc -l <"$DIR/acked") messages" >&2
QUEUED=$(cv queue list | tail -1 | cut -d' ' -f1)
kill -TERM $PID; wait $PID || true

smtp-sink -u nobody 127.0.0.1:"$SINK" 256 & SINKPID=$!
config true
T0=$(date +%s.%N)
"$BIN" --config "$DIR/congvu.toml" serve 2>>"$DIR/log" & PID=$!
wait_port "$ADMIN"
until [ "$(cv queue list | tail -1 | cut -d' ' -f1)" = 0 ]; do
  kill -0 $PID 2>/dev/null || { echo "congvu stopped; see $DIR/log" >&2; exit 1; }
  sleep 0.1
done
T1=$(date +%s.%N)
kill -TERM $PID; wait $PID || true
kill $SINKPID; wait $SINKPID 2>/dev/null || true
echo "congvu relay → smtp-sink: $QUEUED messages in $(echo "$T1 - $T0" | bc) s = $(echo "$QUEUED / ($T1 - $T0)" | bc) msg/s"
rm -rf "$DIR"
