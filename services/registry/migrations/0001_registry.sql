-- The registry's own schema: places, DT-PPFM (households, families, individuals, participation,
-- needs, PMKS), the program catalog with its versions, pre-list entries, profile-change
-- proposals, SIKS-NG batches, imports and the audit log of person reads.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Kemendagri place hierarchy (kode wilayah), loaded from slrt/data/wilayah at start-up.
CREATE TABLE places (
    code         text PRIMARY KEY CHECK (code ~ '^(\d{2}|\d{4}|\d{6}|\d{10})$'),
    name         text NOT NULL,
    parent_code  text REFERENCES places (code),
    level        text NOT NULL CHECK (level IN ('province', 'regency', 'sub_district', 'village'))
);
CREATE INDEX places_parent ON places (parent_code);

-- Program catalog (katalog program): the current entry per program, plus every version.
CREATE TABLE programs (
    code                   text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,39}$'),
    name                   text NOT NULL,
    level                  text NOT NULL,
    owner_agency           text NOT NULL,
    area                   text NOT NULL DEFAULT '',
    channel                text NOT NULL,
    categories             text[] NOT NULL,
    sub_types              text[] NOT NULL DEFAULT '{}',
    sla_working_days       int  NOT NULL CHECK (sla_working_days >= 1),
    reminder_working_days  int,
    callback_url           text,
    webhook_secret_ref     text,
    contact_email          text,
    contact_phone          text,
    needs_nik              boolean NOT NULL DEFAULT false,
    eligibility_notes      text,
    active_from            date,
    active_until           date,
    active                 boolean NOT NULL DEFAULT true,
    version                int  NOT NULL CHECK (version >= 1),
    updated_by             text NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE program_versions (
    code        text NOT NULL REFERENCES programs (code),
    version     int  NOT NULL,
    entry       jsonb NOT NULL,
    changed     text[] NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, version)
);

-- DT-PPFM. ``registry_ref`` is the household id of the national extract (IDRT): the natural
-- key that makes re-importing the same extract a no-op.
CREATE TABLE households (
    id              uuid PRIMARY KEY,
    registry_ref    text NOT NULL UNIQUE,
    village_code    text NOT NULL REFERENCES places (code),
    address         text NOT NULL DEFAULT '',
    welfare_decile  smallint CHECK (welfare_decile BETWEEN 1 AND 10),
    source          text NOT NULL DEFAULT 'dtppfm',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_village ON households (village_code);

-- Families (keluarga), by KK number; a household holds one or more families.
CREATE TABLE families (
    kk_number     text PRIMARY KEY CHECK (kk_number ~ '^\d{16}$'),
    household_id  uuid NOT NULL REFERENCES households (id)
);
CREATE INDEX families_household ON families (household_id);

CREATE TABLE individuals (
    id             uuid PRIMARY KEY,
    nik            text NOT NULL UNIQUE CHECK (nik ~ '^\d{16}$'),
    household_id   uuid NOT NULL REFERENCES households (id),
    kk_number      text NOT NULL REFERENCES families (kk_number),
    name           text NOT NULL,
    name_key       text NOT NULL,
    sex            text NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date     date NOT NULL,
    relation       text NOT NULL,
    disability     text,
    school_status  text,
    village_code   text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX individuals_household ON individuals (household_id);
CREATE INDEX individuals_kk ON individuals (kk_number);
CREATE INDEX individuals_name_trgm ON individuals USING gin (name_key public.gin_trgm_ops);
CREATE INDEX individuals_village ON individuals (village_code);

-- Program participation: a household or one of its members × program × period.
CREATE TABLE participation (
    household_id   uuid NOT NULL REFERENCES households (id),
    individual_id  uuid REFERENCES individuals (id),
    program_code   text NOT NULL REFERENCES programs (code),
    period         text NOT NULL,
    subject        uuid GENERATED ALWAYS AS (coalesce(individual_id, household_id)) STORED,
    PRIMARY KEY (subject, program_code, period)
);
CREATE INDEX participation_household ON participation (household_id);

-- Recorded program needs (kebutuhan program).
CREATE TABLE program_needs (
    id             uuid PRIMARY KEY,
    household_id   uuid NOT NULL REFERENCES households (id),
    individual_id  uuid REFERENCES individuals (id),
    need           text NOT NULL,
    program_code   text REFERENCES programs (code),
    complaint_id   uuid,
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX program_needs_household ON program_needs (household_id);

-- PMKS: people with social-welfare problems (penyandang masalah kesejahteraan sosial).
CREATE TABLE pmks_flags (
    individual_id  uuid NOT NULL REFERENCES individuals (id),
    kind           text NOT NULL,
    PRIMARY KEY (individual_id, kind)
);

-- Pre-list (daftar awal): people found outside DT-PPFM, with the complaint that found them.
CREATE TABLE prelist_entries (
    id              uuid PRIMARY KEY,
    request_id      uuid UNIQUE,
    complaint_id    uuid,
    ticket_number   text,
    nik             text,
    kk_number       text,
    name            text NOT NULL,
    sex             text,
    birth_date      date,
    address         text,
    village_code    text NOT NULL REFERENCES places (code),
    status          text NOT NULL DEFAULT 'proposed',
    review_note     text,
    reviewed_by     text,
    reviewed_at     timestamptz,
    batch_id        uuid,
    result_reason   text,
    household_id    uuid REFERENCES households (id),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prelist_status ON prelist_entries (status, village_code);

-- Profile-change proposals (usulan perubahan data): field, old, new, evidence.
CREATE TABLE change_proposals (
    id              uuid PRIMARY KEY,
    individual_id   uuid NOT NULL REFERENCES individuals (id),
    village_code    text NOT NULL,
    field           text NOT NULL,
    old_value       text,
    new_value       text NOT NULL,
    evidence        text NOT NULL,
    complaint_id    uuid,
    status          text NOT NULL DEFAULT 'proposed',
    review_note     text,
    reviewed_by     text,
    reviewed_at     timestamptz,
    batch_id        uuid,
    result_reason   text,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_proposals_status ON change_proposals (status, village_code);

-- SIKS-NG export batches: one CSV per batch; re-export by id gives the same file.
CREATE TABLE siks_batches (
    id           uuid PRIMARY KEY,
    area         text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    item_count   int  NOT NULL,
    results_applied_at timestamptz
);

-- Bulk imports and their row-level error reports.
CREATE TABLE imports (
    id            uuid PRIMARY KEY,
    file_name     text NOT NULL,
    started_by    text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    rows_read     int NOT NULL DEFAULT 0,
    rows_rejected int NOT NULL DEFAULT 0,
    households_changed  int NOT NULL DEFAULT 0,
    individuals_changed int NOT NULL DEFAULT 0,
    participation_added int NOT NULL DEFAULT 0
);

CREATE TABLE import_errors (
    import_id  uuid NOT NULL REFERENCES imports (id),
    line       int  NOT NULL,
    field      text NOT NULL,
    rule       text NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id, line);

-- Every read of a person's record: who, when, which record, for which complaint.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    action        text NOT NULL,
    individual_id uuid,
    household_id  uuid,
    complaint_id  uuid,
    detail        text
);
CREATE INDEX audit_log_individual ON audit_log (individual_id, at);
CREATE INDEX audit_log_household ON audit_log (household_id, at);
