-- The full text of a human action whose free text was masked before it went to the workflow
-- (slrt.masking: NIK-like numbers, phones, emails). The workflow, its lifecycle events, the
-- timeline and the dashboard hold the masked text; this keeps what the person typed, in
-- intake's schema only. One row per action (its Idempotency-Key) and field.
CREATE TABLE action_texts (
    complaint_id  uuid        NOT NULL,
    request_id    text        NOT NULL,
    action        text        NOT NULL,
    field         text        NOT NULL,
    text          text        NOT NULL,
    actor         text        NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_id, request_id, field)
);
