-- Needs from complaints, one pending pre-list entry per person, tablet batches and the audit of
-- every personal-data read (issue 15 items 3, 4 and 6).

-- A program-need complaint records its need once (idempotent on the complaint id); a need
-- closes when the household enters the program (participation import, or at once when it is
-- already in it).
ALTER TABLE program_needs
    ADD COLUMN from_complaint boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_at timestamptz;
CREATE UNIQUE INDEX program_needs_from_complaint ON program_needs (complaint_id)
    WHERE from_complaint;
CREATE INDEX program_needs_open ON program_needs (household_id, program_code)
    WHERE closed_at IS NULL;

-- A program-need complaint about a person not in DT-PPFM: the need waits for the household the
-- pre-list entry becomes (SIKS-NG accepts it), then is recorded like any other.
CREATE TABLE awaiting_needs (
    complaint_id  uuid PRIMARY KEY,
    program_code  text,
    at            timestamptz NOT NULL DEFAULT now()
);

-- Needs are few next to households: a plain view keeps the needs figures live (a need recorded
-- from a complaint shows at once, without waiting for the next refresh). Same columns as before,
-- plus ``closed``; "unmet" is an open need no current participation covers.
DROP MATERIALIZED VIEW agg_needs;
CREATE VIEW agg_needs AS
SELECT h.village_code,
       n.need,
       coalesce(n.program_code, '') AS program_code,
       count(*) AS needs,
       count(*) FILTER (WHERE n.closed_at IS NULL AND (n.program_code IS NULL OR NOT EXISTS (
           SELECT 1 FROM participation p
           WHERE p.household_id = n.household_id AND p.program_code = n.program_code
       ))) AS unmet,
       count(*) FILTER (WHERE n.closed_at IS NOT NULL) AS closed
FROM program_needs n
JOIN households h ON h.id = n.household_id
GROUP BY h.village_code, n.need, coalesce(n.program_code, '');

-- A second pre-list for a person already pending joins the first entry: who joined, when, for
-- which complaint (the entry says so; the verification result reaches every joined complaint).
CREATE TABLE prelist_joins (
    entry_id       uuid NOT NULL REFERENCES prelist_entries (id),
    request_id     uuid UNIQUE,
    complaint_id   uuid,
    ticket_number  text,
    matched_by     text NOT NULL CHECK (matched_by IN ('nik', 'name_birth_date_village')),
    joined_by      text NOT NULL,
    joined_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prelist_joins_entry ON prelist_joins (entry_id);
CREATE INDEX prelist_pending_nik ON prelist_entries (nik)
    WHERE status IN ('proposed', 'returned', 'approved', 'exported');

-- Tablet batches (offline capture): the result of each item by its client id, so that a
-- resent item gets the same answer and creates nothing new.
CREATE TABLE client_items (
    kind          text NOT NULL CHECK (kind IN ('prelist', 'change', 'need')),
    client_id     text NOT NULL,
    submitted_by  text NOT NULL,
    result        jsonb NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, client_id)
);

-- Reads of pre-list entries, change proposals and SIKS-NG exports are audited too: which
-- proposal or batch, and (for an export) how many people it held.
ALTER TABLE audit_log
    ADD COLUMN proposal_id uuid,
    ADD COLUMN batch_id uuid,
    ADD COLUMN people int;
CREATE INDEX audit_log_proposal ON audit_log (proposal_id, at) WHERE proposal_id IS NOT NULL;
