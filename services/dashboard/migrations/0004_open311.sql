-- The Open311 GeoReport v2 read API (docs/api.md, "Open311"): what GET services lists of each
-- program (its level, the area it serves, the categories it takes, whether it is active), and
-- the rate-limit windows of the public routes (as intake's tracking has them).
-- Programs stored before this migration get the columns' defaults until their next catalog
-- entry or `slrt-dashboard rebuild` (which re-reads the compacted catalog topic).

ALTER TABLE programs
    ADD COLUMN level text,
    ADD COLUMN area text NOT NULL DEFAULT '',
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN active boolean NOT NULL DEFAULT true;

CREATE TABLE rate_windows (
    bucket        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          int         NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- GET requests lists newest first within a place prefix and a period.
CREATE INDEX complaint_facts_ticket ON complaint_facts (ticket_number);
