-- The monitoring cycle (Pedoman Umum SLRT, chapter VII): Setnas's questionnaire and the own
-- questions of provinces and districts (every version kept), the quarterly rounds each area's
-- organisers fill in, and the monthly reports travelling district -> province -> national with
-- every submitted, returned and accepted version kept (its PDF and XLSX as they were).
-- Aggregates and organisers' answers only: no personal data.

CREATE TABLE instruments (
    area text NOT NULL,                 -- '' Setnas's questionnaire; a province or district: its own questions
    version integer NOT NULL CHECK (version > 0),
    sections jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    PRIMARY KEY (area, version)
);

CREATE TABLE monitoring_rounds (
    round_id uuid PRIMARY KEY,
    area text NOT NULL,
    quarter_start date NOT NULL,
    quarter_end date NOT NULL,
    due_on date NOT NULL,
    form jsonb NOT NULL,                -- the assembled questionnaire at opening, with its versions
    prefill jsonb NOT NULL DEFAULT '{}',
    answers jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
    comment text NOT NULL DEFAULT '',
    version integer NOT NULL DEFAULT 0,
    submitted_at timestamptz,
    opened_at timestamptz NOT NULL DEFAULT now(),
    opened_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    UNIQUE (area, quarter_start)
);
CREATE INDEX monitoring_rounds_area ON monitoring_rounds (area text_pattern_ops, quarter_start);

CREATE TABLE monitoring_round_versions (
    round_id uuid NOT NULL REFERENCES monitoring_rounds,
    version integer NOT NULL,
    status text NOT NULL,
    answers jsonb NOT NULL,
    comment text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now(),
    by text NOT NULL,
    PRIMARY KEY (round_id, version)
);

-- The monthly and quarterly reports travel upward: their state, and every version.
ALTER TABLE reports
    ADD COLUMN status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
    ADD COLUMN return_comment text NOT NULL DEFAULT '',
    ADD COLUMN version integer NOT NULL DEFAULT 0,
    ADD COLUMN submitted_at timestamptz,
    ADD COLUMN due_on date;
UPDATE reports SET due_on = period_end + CASE WHEN length(area) >= 4 THEN 10
                                              WHEN length(area) = 2 THEN 20 ELSE 30 END;
ALTER TABLE reports ALTER COLUMN due_on SET NOT NULL;
CREATE INDEX reports_area ON reports (area text_pattern_ops, period_start);

CREATE TABLE report_versions (
    report_id uuid NOT NULL REFERENCES reports,
    version integer NOT NULL,
    status text NOT NULL,
    figures jsonb NOT NULL,
    narrative jsonb NOT NULL,
    comment text NOT NULL DEFAULT '',
    pdf bytea NOT NULL,
    xlsx bytea NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    by text NOT NULL,
    PRIMARY KEY (report_id, version)
);

-- Reminders already asked of the notifier: one per submission, stage and day it is about.
CREATE TABLE monitoring_reminders (
    subject text NOT NULL,              -- 'round:<id>' or 'report:<id>'
    stage text NOT NULL CHECK (stage IN ('due_soon', 'overdue')),
    destination text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, stage, destination)
);
