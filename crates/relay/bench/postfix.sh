#!/usr/bin/env bash
# The same load as sink.sh, relayed by Debian's Postfix (docs/benchmarks.md,
# "Outbound relay"): a private instance (own config, queue and log in a temporary
# directory; smtpd on a loopback port) whose queue is filled while delivery is
# deferred, then released to Postfix's smtp-sink over up to 20 connections.
# rate = N / (time from the reload that lifts the deferral, followed by `postqueue -f`,
# until no queue file is left). Run as root.
#
# Usage: crates/relay/bench/postfix.sh   [N=1000]
set -euo pipefail
N=${N:-1000}
D=$(mktemp -d /tmp/postfix-relay-bench.XXXX)
chmod 755 "$D"; mkdir -p "$D/etc" "$D/spool"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SMTPD=$(free_port); SINK=$(free_port)
cat >"$D/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $D/spool
data_directory = $D/data
myhostname = relay.bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
relay_domains = sink.test
relayhost = [127.0.0.1]:$SINK
smtp_tls_security_level = none
default_destination_concurrency_limit = 20
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
defer_transports = smtp
maillog_file_prefixes = $D
maillog_file = $D/maillog
CF
cat >"$D/etc/master.cf" <<CF
127.0.0.1:$SMTPD inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
CF
pf() { postfix -c "$D/etc" "$@"; }
pf check
postfix -c "$D/etc" start-fg & MASTER=$!
trap 'pf stop >/dev/null 2>&1 || true; wait $MASTER 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$SMTPD") 2>/dev/null && break; sleep 0.1; done
smtp-source -s 20 -l 10240 -m "$N" -f a@x.test -t bench@sink.test 127.0.0.1:"$SMTPD"
queued() { find "$D/spool/incoming" "$D/spool/active" "$D/spool/deferred" "$D/spool/maildrop" -type f 2>/dev/null | wc -l; }
until [ "$(queued)" -ge "$N" ] && [ -z "$(find "$D/spool/incoming" -type f)" ]; do sleep 0.1; done
smtp-sink -u nobody 127.0.0.1:"$SINK" 256 & SINKPID=$!
T0=$(date +%s.%N)
postconf -c "$D/etc" -e 'defer_transports =' && pf reload >/dev/null 2>&1
postqueue -c "$D/etc" -f
until [ "$(queued)" = 0 ]; do sleep 0.05; done
T1=$(date +%s.%N)
kill $SINKPID; wait $SINKPID 2>/dev/null || true
echo "Postfix relay → smtp-sink: $N messages in $(echo "$T1 - $T0" | bc) s = $(echo "$N / ($T1 - $T0)" | bc) msg/s"
