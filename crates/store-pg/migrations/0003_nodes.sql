-- congvu on PostgreSQL, version 3, for several nodes: bodies may live in a
-- directory every node mounts (`[store] blobs`) instead of in their row (`content`
-- is NULL for those), and the login throttle counts failures where every node
-- sees them.
--
-- Invariants:
--  * a row whose content is NULL and whose refs > 0 has its file, written while a
--    transaction that raised refs from zero held the row;
--  * such a row at refs <= 0 is dead: it and its file are removed together, file
--    first, under the row's lock (collect_dead_bodies), never while a reference
--    commits.

ALTER TABLE blobs ALTER COLUMN content DROP NOT NULL;
CREATE INDEX blobs_dead ON blobs (id) WHERE refs <= 0;

-- The login throttle's windows (crates/directory throttle.rs): a key is
-- "login GROUP LOGIN" or "address GROUP"; a window started more than its length
-- ago counts from zero again.
CREATE TABLE login_failures (
    key      TEXT PRIMARY KEY,
    started  BIGINT NOT NULL,
    failures INTEGER NOT NULL
);
CREATE INDEX login_failures_by_start ON login_failures (started);
