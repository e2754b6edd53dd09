#!/bin/sh
# Makes this host the streaming-replication standby of the primary (docs/scale-out.md).
# Run as root on the standby, with PostgreSQL 15 installed and its cluster stopped.
set -eu
PRIMARY=10.0.0.5
DATA=/var/lib/postgresql/15/main
systemctl stop postgresql
rm -rf "$DATA"
# -R writes standby.signal and primary_conninfo: the copy follows the primary's WAL.
runuser -u postgres -- pg_basebackup -h "$PRIMARY" -U replicator -D "$DATA" -X stream -R -P
systemctl start postgresql
runuser -u postgres -- psql -c 'SELECT pg_is_in_recovery();'
