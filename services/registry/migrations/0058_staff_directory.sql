-- The staff directory (direktori petugas SLRT, issue 19): persons with their roles, areas and
-- programs and an active period; facilitators' villages and supervisors' facilitators as spells
-- (each village's and facilitator's history); districts' settings kept with their staff; and
-- the audit of every change. Each record is published on the compacted slrt.staff.directory
-- (slrt.contracts.staff) through the outbox, with its own version.

CREATE TABLE staff_persons (
    id                 uuid PRIMARY KEY,
    subject            text UNIQUE,
    display_name       text NOT NULL,
    email              text,
    phone              text,
    preferred_channel  text NOT NULL CHECK (preferred_channel IN ('email', 'sms')),
    roles              text[] NOT NULL,
    areas              text[] NOT NULL,
    programs           text[] NOT NULL DEFAULT '{}',
    active_from        timestamptz NOT NULL,
    active_until       timestamptz,
    version            integer NOT NULL,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_persons_areas ON staff_persons USING gin (areas);

-- A spell: one person holding one assignment from ``since`` until ``until`` (exclusive).
-- kind 'village': the target is a village code, the person its facilitator; kind
-- 'supervision': the target is a facilitator's person id, the person their supervisor.
CREATE TABLE staff_spells (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('village', 'supervision')),
    target      text NOT NULL,
    district    text NOT NULL CHECK (district ~ '^\d{4}$'),
    person_id   uuid NOT NULL REFERENCES staff_persons (id),
    since       timestamptz NOT NULL,
    until       timestamptz,
    end_reason  text CHECK (end_reason IN ('reassigned', 'unassigned', 'person_ended')),
    CHECK (until IS NULL OR until >= since)
);
CREATE UNIQUE INDEX staff_spells_one_open ON staff_spells (kind, target) WHERE until IS NULL;
CREATE INDEX staff_spells_target ON staff_spells (kind, target, since);
CREATE INDEX staff_spells_person ON staff_spells (person_id) WHERE until IS NULL;

-- The published version of each village's and facilitator's assignment record.
CREATE TABLE staff_assignment_records (
    kind        text NOT NULL CHECK (kind IN ('village', 'supervision')),
    target      text NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (kind, target)
);

CREATE TABLE staff_district_settings (
    district              text PRIMARY KEY CHECK (district ~ '^\d{4}$'),
    separation_of_duties  boolean,
    version               integer NOT NULL,
    updated_by            text NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Every change of the directory: who, what, which record (its key: never a name), the fields
-- it changed and the record as published.
CREATE TABLE staff_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    record_key  text NOT NULL,
    areas       text[] NOT NULL,
    changed     text[] NOT NULL DEFAULT '{}',
    record      jsonb NOT NULL
);
CREATE INDEX staff_audit_key ON staff_audit (record_key, id);
CREATE INDEX staff_audit_areas ON staff_audit USING gin (areas);
