#!/bin/bash
# The two-node part (A and B running, provisioned).
BENCH=/work/main/target/release/congvu-bench
PW=benchpass-123
pgrss() { ps -C postgres -o rss= | awk '{s+=$1} END {printf "%.0f", s/1024}'; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$(pgrep -f "scale/$1/congvu.toml")/status; }
smtp() { # smtp-base imaps-base imaps-node rcpt messages concurrency
  $BENCH smtp --smtp 127.0.0.1:${1}25 --imaps 127.0.0.1:${2}93 --cafile /tmp/scale/$3/data/tls/self-signed-cert.pem \
    --rcpt $4 --password $PW --messages $5 --concurrency $6 --size 10240
}
load() { $BENCH imap-load --imaps 127.0.0.1:${1}93 --cafile /tmp/scale/$2/data/tls/self-signed-cert.pem --user $3 --password $PW --clients $4 --seconds $5; }
D=thanhhoa.gov.vn
echo "-- SMTP: 2 x 2500 at once, 10 connections each, to two mailboxes, one node each; visible over IMAP on the other node"
smtp 42 43 b namtv.sttt@$D 2500 10 > /tmp/scale/smtp-a.txt 2>&1 &
smtp 43 42 a maipt.sttt@$D 2500 10 > /tmp/scale/smtp-b.txt 2>&1 &
wait
cat /tmp/scale/smtp-a.txt /tmp/scale/smtp-b.txt
echo "-- SMTP, one node, four mailboxes at once (PostgreSQL serialises per mailbox, not per server)"
for u in tuanna hoalt namtv maipt; do smtp 42 42 a $u.sttt@$D 1250 5 > /tmp/scale/smtp4-$u.txt 2>&1 & done
wait
cat /tmp/scale/smtp4-*.txt
echo "-- IMAP load: 5 clients on each node, one mailbox"
load 42 a hoalt.sttt@$D 5 60 > /tmp/scale/load-a.txt 2>&1 &
load 43 b hoalt.sttt@$D 5 60 > /tmp/scale/load-b.txt 2>&1 &
wait
cat /tmp/scale/load-a.txt /tmp/scale/load-b.txt
echo "node A RSS MiB: $(rss a); node B RSS MiB: $(rss b); postgres RSS MiB: $(pgrss)"
runuser -u postgres -- psql -h 127.0.0.1 -p 35432 -U postgres -d congvu -Atc "SELECT pg_size_pretty(pg_database_size('congvu')), (SELECT count(*) FROM messages), (SELECT count(*) FROM blobs), pg_size_pretty(pg_total_relation_size('blobs'))"
