-- Staff read what they decide: the timeline keeps each transition's details (the back
-- office's answer, the question asked, the program manager's note...), a facilitator's
-- corrections are kept, and every read of a complainant's personal data leaves an audit row,
-- written in the read's own transaction.

-- What each transition carried (ComplaintTransitioned.details). Transitions projected before
-- this migration have none.
ALTER TABLE complaint_timeline ADD COLUMN details jsonb NOT NULL DEFAULT '{}';

-- Who read which complaint's personal data, as whom, when, what and why (the step the
-- complaint was at: the step they act on). Read by data managers through GET /v1/audit.
CREATE TABLE audit_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    actor_role    text NOT NULL,
    action        text NOT NULL,
    complaint_id  uuid,
    place_code    text NOT NULL,
    step          text,
    fields        text[] NOT NULL,
    detail        text
);
CREATE INDEX audit_log_complaint ON audit_log (complaint_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_place ON audit_log (place_code text_pattern_ops, id);

-- A facilitator's correction of a capture the supervisor returned, once the workflow accepted
-- it: the text the supervisor reviews next (complaints keeps the text as submitted).
CREATE TABLE complaint_corrections (
    complaint_id  uuid NOT NULL REFERENCES complaints (id),
    request_id    text NOT NULL,
    description   text NOT NULL,
    category      text NOT NULL,
    program_code  text,
    sub_type      text,
    corrected_by  text NOT NULL,
    corrected_at  timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, request_id)
);
