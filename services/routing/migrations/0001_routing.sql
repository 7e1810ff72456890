-- Routing's copy of the program catalog (fed by the compacted slrt.catalog.programs topic).
CREATE TABLE programs (
    code        text PRIMARY KEY,
    version     integer NOT NULL,
    entry       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Who complained about what, by registry ids only, to flag repeat complaints.
CREATE TABLE complaint_index (
    complaint_id   uuid PRIMARY KEY,
    ticket_number  text NOT NULL,
    household_id   uuid,
    individual_id  uuid,
    program_code   text,
    category       text NOT NULL,
    submitted_at   timestamptz NOT NULL
);
CREATE INDEX complaint_index_household ON complaint_index (household_id, category, submitted_at);
CREATE INDEX complaint_index_individual ON complaint_index (individual_id, category, submitted_at);
