-- Wake the outbox relay at commit: a statement that adds outbox rows sends NOTIFY on the
-- channel "slrt_outbox_<schema>", which PostgreSQL delivers only when (and if) the transaction
-- commits. The relay LISTENs there (slrt.outbox.OutboxRelay) and still polls slowly as a safety
-- net, so a notification missed while it was not listening only delays a row, never loses it.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('slrt_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
