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
. "$(dirname "$0")/conf.sh"
conf s 41 ""
conf a 42 "$(pg_store $PGURL)"
conf b 43 "$(pg_store $PGURL)"
$C --config /tmp/scale/a/congvu.toml db migrate
