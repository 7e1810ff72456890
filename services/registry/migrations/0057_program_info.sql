-- Program information per district (informasi program): the FAQ (administrator) and each
-- program's information with its eligibility criteria (the program's manager). Every edit is
-- a new version; ``program_info_entries`` holds the current one and what it is searched by.
-- Search: PostgreSQL full-text search with the 'simple' configuration (PostgreSQL ships no
-- Indonesian one: 'simple' lowercases and splits words, no stemming), plus trigram word
-- similarity (pg_trgm, installed by 0001) so affixed and misspelt forms still match
-- ("sekolah" finds "bersekolah"; "bantuan" finds "batuan"). See docs/architecture.md.

CREATE TABLE program_info_entries (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('faq', 'program')),
    district      text NOT NULL CHECK (district ~ '^\d{4}$'),
    program_code  text,
    topic         text NOT NULL,
    title         text NOT NULL,
    body          jsonb NOT NULL,
    version       integer NOT NULL,
    search_text   text NOT NULL,
    search        tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED,
    updated_by    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'program') = (program_code IS NOT NULL))
);
CREATE UNIQUE INDEX program_info_one_per_program
    ON program_info_entries (district, program_code) WHERE kind = 'program';
CREATE INDEX program_info_search ON program_info_entries USING gin (search);
CREATE INDEX program_info_trgm
    ON program_info_entries USING gin (search_text public.gin_trgm_ops);
CREATE INDEX program_info_district ON program_info_entries (district);

CREATE TABLE program_info_versions (
    entry_id    uuid NOT NULL REFERENCES program_info_entries (id),
    version     integer NOT NULL,
    topic       text NOT NULL,
    title       text NOT NULL,
    body        jsonb NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, version)
);
