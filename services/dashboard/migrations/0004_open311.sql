-- The Open311 GeoReport v2 read API (docs/api.md, "Open311"): what GET services lists of each
-- program (its level, the area it serves, the categories it takes, whether it is active, and
-- when the copy last changed: the discovery document's changeset), and
-- the rate-limit windows of the public routes (as intake's tracking has them).
-- Programs stored before this migration get the columns' defaults until their next catalog
-- entry or `slrt-dashboard rebuild` (which re-reads the compacted catalog topic).

ALTER TABLE programs
    ADD COLUMN level text,
    ADD COLUMN area text NOT NULL DEFAULT '',
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE rate_windows (
    bucket        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          int         NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- GET requests by ticket (service_request_id).
CREATE INDEX complaint_facts_ticket ON complaint_facts (ticket_number);
-- The small-cell rule counts a page's services by village across whole districts: an
-- index-only scan per (district, service) instead of a scan of every complaint.
CREATE INDEX complaint_facts_district_service
    ON complaint_facts ((left(place_code, 4)), (coalesce(program_code, category)), place_code);
