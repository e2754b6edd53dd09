#!/bin/sh
# Nightly base backup of congvu's database, bodies included (docs/scale-out.md);
# WAL archiving (archive_command) covers the time between two base backups.
# Run as root on the backup host; keeps 14 days.
set -eu
PRIMARY=10.0.0.5
DIR=/srv/congvu-backups/$(date +%Y-%m-%d)
mkdir -p "$DIR"
runuser -u postgres -- pg_basebackup -h "$PRIMARY" -U replicator -D "$DIR" -Ft -z -X stream -P
find /srv/congvu-backups -mindepth 1 -maxdepth 1 -type d -mtime +14 -exec rm -rf {} +
echo "base backup written to $DIR"
