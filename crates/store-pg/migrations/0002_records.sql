-- congvu on PostgreSQL, version 2: the outbound queue, the Art. 10 access log, the
-- mail events (Art. 12.6, 15.4), the acknowledgements of receipt (Art. 16.2.a), and
-- the directory's records.
--
-- Invariants:
--  * a queue entry holds one reference to its body (blobs.refs), dropped in the
--    transaction that removes the entry;
--  * a queue entry is delivered by the node whose lease (leased_until, Unix
--    seconds) covers now: a node claims due entries whose lease ran out with
--    FOR UPDATE SKIP LOCKED, and an attempt's record (queue_update) ends the lease;
--  * access and mail events are appended, never changed; seq keeps the recording
--    order within a second;
--  * the first acknowledgement of a message wins (acknowledged_at is set once).

CREATE TABLE queue (
    id           BIGSERIAL PRIMARY KEY,
    blob         BYTEA NOT NULL REFERENCES blobs (id),
    next_attempt BIGINT NOT NULL,
    leased_until BIGINT NOT NULL DEFAULT 0,
    entry        JSONB NOT NULL
);
CREATE INDEX queue_by_next_attempt ON queue (next_attempt);

CREATE TABLE access_events (
    seq     BIGSERIAL PRIMARY KEY,
    account BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    event   JSONB NOT NULL
);
CREATE INDEX access_events_by_account ON access_events (account, at, seq);
CREATE INDEX access_events_by_time ON access_events (at);

CREATE TABLE mail_events (
    seq   BIGSERIAL PRIMARY KEY,
    at    BIGINT NOT NULL,
    event JSONB NOT NULL
);
CREATE INDEX mail_events_by_time ON mail_events (at, seq);

CREATE TABLE acks (
    account    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mailbox    BIGINT NOT NULL,
    uid        BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    record     JSONB NOT NULL,
    PRIMARY KEY (account, mailbox, uid)
);
CREATE INDEX acks_by_message_id ON acks (account, message_id);

-- The directory (crates/directory): its trees as (tree, key) → value, written in
-- one transaction per plan.
CREATE TABLE directory (
    tree  TEXT NOT NULL,
    key   BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (tree, key)
);
-- The directory's audit-log keys (DirectoryStorage::next_id).
CREATE SEQUENCE directory_ids START WITH 1;
