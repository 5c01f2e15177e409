-- The event log in blocks: one row holds the accepted messages of one request
-- for one tenant (`stratum_server::log`), at positions `first_seq` to `last_seq`,
-- handed out in commit order. One row per request instead of one per message,
-- and no index over every `messageId`: each server process absorbs duplicates
-- in memory, within a look-back window, and reads under the write lock what
-- other processes appended.
CREATE TABLE event_blocks (
    last_seq     INTEGER PRIMARY KEY,
    first_seq    INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    received_at  TEXT NOT NULL,
    format       INTEGER NOT NULL,
    ids          TEXT NOT NULL,
    body         TEXT NOT NULL,
    CHECK (first_seq <= last_seq)
);
CREATE INDEX event_blocks_tenant ON event_blocks (tenant_id);

-- The rows of the one-message log, kept as they are (format 1: one message
-- sealed alone) at their positions.
INSERT INTO event_blocks (last_seq, first_seq, tenant_id, received_at, format, ids, body)
SELECT seq, seq, tenant_id, received_at, 1, json_array(message_id), body FROM events;

DROP TABLE events;
