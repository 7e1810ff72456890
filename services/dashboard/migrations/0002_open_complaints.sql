-- The SLA gauges (slrt_complaints_open/at_risk/breached) count open complaints by step and
-- district every 30 seconds: a partial index holds just those rows and the columns the
-- count reads, so the recount is an index-only scan however many closed complaints pile up.
CREATE INDEX complaint_facts_open ON complaint_facts (step, place_code)
    INCLUDE (acknowledged_at, acknowledge_due, resolved_at, resolve_due)
    WHERE open;
