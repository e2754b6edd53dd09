-- congvu's mail store on PostgreSQL, version 1: accounts, mailboxes, messages,
-- content-addressed bodies, the expunge log behind VANISHED/changed_since, and the
-- subscriptions kept for names without a mailbox (RFC 3501 §6.3.6).
--
-- Invariants (as crates/store states them for sled):
--  * a UID is taken from mailboxes.uidnext under that row's lock, in the transaction
--    that stores the message: UIDs ascend in commit order and are never reused;
--  * every change bumps mailboxes.highestmodseq under the same lock (RFC 7162);
--  * blobs.refs counts the messages (and queue entries) naming a body; a body is
--    deleted in the transaction that drops its last reference;
--  * accounts.used_bytes is the sum of its messages' sizes, kept in the same
--    transactions.

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('agency', 'personal')),
    quota_bytes BIGINT NOT NULL CHECK (quota_bytes >= 0),
    used_bytes  BIGINT NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
);

-- UIDVALIDITY values: one sequence for the cluster, so a name deleted and created
-- again on another node still gets a new one (RFC 3501 §2.3.1.1).
-- Seeded by the clock, as the sled store's: a database built again (a migration
-- from sled, a restore) never gives a name a value it had before.
CREATE SEQUENCE uidvalidity START WITH 1 MAXVALUE 4294967295;
SELECT setval('uidvalidity', extract(epoch FROM now())::BIGINT);

CREATE TABLE mailboxes (
    id            BIGSERIAL PRIMARY KEY,
    account       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    uidvalidity   BIGINT NOT NULL,
    uidnext       BIGINT NOT NULL DEFAULT 1,
    highestmodseq BIGINT NOT NULL DEFAULT 1,
    special_use   TEXT,
    subscribed    BOOLEAN NOT NULL DEFAULT TRUE,
    messages      BIGINT NOT NULL DEFAULT 0,
    unseen        BIGINT NOT NULL DEFAULT 0,
    size          BIGINT NOT NULL DEFAULT 0,
    -- \Recent (RFC 3501 §2.3.2): UIDs below this one were claimed by a session.
    recent_claimed BIGINT NOT NULL DEFAULT 1,
    UNIQUE (account, name)
);

CREATE TABLE blobs (
    id      BYTEA PRIMARY KEY CHECK (length(id) = 32),
    refs    BIGINT NOT NULL CHECK (refs >= 0),
    size    BIGINT NOT NULL,
    content BYTEA NOT NULL
);

CREATE TABLE messages (
    mailbox              BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid                  BIGINT NOT NULL CHECK (uid > 0),
    blob                 BYTEA NOT NULL REFERENCES blobs (id),
    size                 BIGINT NOT NULL,
    internal_date        BIGINT NOT NULL,
    internal_date_offset INTEGER NOT NULL,
    flags                SMALLINT NOT NULL,
    keywords             TEXT[] NOT NULL DEFAULT '{}',
    modseq               BIGINT NOT NULL,
    PRIMARY KEY (mailbox, uid)
);
CREATE INDEX messages_by_modseq ON messages (mailbox, modseq);

CREATE TABLE expunged (
    mailbox BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid     BIGINT NOT NULL,
    modseq  BIGINT NOT NULL,
    PRIMARY KEY (mailbox, uid)
);
CREATE INDEX expunged_by_modseq ON expunged (mailbox, modseq);

CREATE TABLE kept_subscriptions (
    account BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    PRIMARY KEY (account, name)
);
