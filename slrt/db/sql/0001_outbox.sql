-- Transactional outbox: a service writes its event here in the same transaction as the
-- state change; slrt.outbox.OutboxRelay publishes it to Kafka and marks it.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    event_id       text        NOT NULL UNIQUE,
    topic          text        NOT NULL,
    envelope       jsonb       NOT NULL,
    trace_headers  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
