-- Human actions by their Idempotency-Key: the key becomes the Temporal update id, which the
-- workflow answers once per id whatever comes with it. Intake keeps what each key was first
-- used for (the action, the caller and a hash of the body), so a key reused on another
-- action or with another body is refused (409 idempotency-key-reused) instead of answering
-- the first result for something that was never applied.
CREATE TABLE action_requests (
    complaint_id  uuid        NOT NULL,
    request_id    text        NOT NULL,
    action        text        NOT NULL,
    fingerprint   text        NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_id, request_id)
);
