#!/bin/bash
# Three servers for the sled/PostgreSQL comparison: S (sled), A and B (PostgreSQL).
# Starts a private PostgreSQL 15 cluster on 127.0.0.1:35432 first (durable defaults).
set -e
C=/work/main/target/release/congvu
B=/usr/lib/postgresql/15/bin
mkdir -p /tmp/scale && chown postgres /tmp/scale
runuser -u postgres -- $B/initdb -D /tmp/scale/pg -A trust -U postgres >/dev/null
runuser -u postgres -- $B/pg_ctl -D /tmp/scale/pg -l /tmp/scale/pg.log -w start \
  -o "-p 35432 -k /tmp/scale -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_connections=200"
runuser -u postgres -- psql -h 127.0.0.1 -p 35432 -U postgres -c "CREATE DATABASE congvu"
PGURL="postgres://postgres@127.0.0.1:35432/congvu"
conf() { # name base store-section
  local name=$1 base=$2 store=$3
  mkdir -p /tmp/scale/$name
  cat > /tmp/scale/$name/congvu.toml <<CONF
[server]
hostname = "$name.thanhhoa.gov.vn"
data_dir = "/tmp/scale/$name/data"
[domain]
primary = "thanhhoa.gov.vn"
[listeners]
smtp = "127.0.0.1:${base}25"
submission = "127.0.0.1:${base}87"
imaps = "127.0.0.1:${base}93"
admin = "127.0.0.1:${base}80"
[log]
level = "warn"
[queue]
enabled = false
[smtp]
max_connections_per_ip = 0
[imap]
max_connections_per_ip = 0
max_connections_per_user = 0
$store
CONF
}
conf s 41 ""
conf a 42 "[store]
backend = \"postgres\"
url = \"$PGURL\"
pool_size = 16"
conf b 43 "[store]
backend = \"postgres\"
url = \"$PGURL\"
pool_size = 16"
$C --config /tmp/scale/a/congvu.toml db migrate
