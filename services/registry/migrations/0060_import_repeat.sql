-- An unchanged re-import as a cheap no-op (issue 17 item 3): every completed import records the
-- digest of its file, its scope (area), the importer's logic, the snapshot it started from and
-- whether its result would be repeated exactly by a full re-import of the same file
-- (``reusable``). A later import of a byte-identical file in the same scope, with the same logic
-- and nothing written since to what the import reads, repeats that result instead of copying
-- and hashing every row (``services/registry/importer.py``, docs/registry.md).
ALTER TABLE imports
    ADD COLUMN area           text,
    ADD COLUMN file_digest    bytea,
    ADD COLUMN logic          text,
    ADD COLUMN started_from   pg_snapshot,
    ADD COLUMN xact           xid8,
    ADD COLUMN reusable       boolean NOT NULL DEFAULT false,
    ADD COLUMN repeat_skipped int,
    ADD COLUMN repeat_of      uuid REFERENCES imports (id);
CREATE INDEX imports_scope ON imports (area, finished_at DESC);

-- The transactions that wrote to what an import reads, one row each (the writers' own
-- transaction ids: inserting them never waits on another writer). An import is repeated only
-- when every row here was visible to the repeated import's starting snapshot or is its own.
-- A full import deletes the rows its own starting snapshot saw (and leaves its own).
CREATE TABLE registry_writes (
    xact xid8 PRIMARY KEY
);

CREATE FUNCTION note_registry_write() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO registry_writes (xact) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- The tables the import writes in bulk: once per statement (a statement that changes no row
-- counts too: conservative).
CREATE TRIGGER households_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON households
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER families_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON families
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER individuals_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON individuals
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER participation_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON participation FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER pmks_flags_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pmks_flags
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER import_households_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON import_households FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();

-- Reference data, written by statements that often change nothing (the places loader and the
-- catalog seed at every start): once per changed row.
CREATE TRIGGER places_written AFTER INSERT OR UPDATE OR DELETE ON places
    FOR EACH ROW EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER places_truncated AFTER TRUNCATE ON places
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER programs_written AFTER INSERT OR UPDATE OR DELETE ON programs
    FOR EACH ROW EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER programs_truncated AFTER TRUNCATE ON programs
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER program_needs_written AFTER INSERT OR UPDATE OR DELETE ON program_needs
    FOR EACH ROW EXECUTE FUNCTION note_registry_write();
CREATE TRIGGER program_needs_truncated AFTER TRUNCATE ON program_needs
    FOR EACH STATEMENT EXECUTE FUNCTION note_registry_write();
