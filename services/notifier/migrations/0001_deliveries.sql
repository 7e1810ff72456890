-- The notifier's copy of the program catalog (from the compacted topic slrt.catalog.programs).
-- endpoint_disabled_at: the destination answered 410 Gone; cleared when the catalog publishes a
-- newer version of the program (a new callback URL or secret).
CREATE TABLE programs (
    code                  text PRIMARY KEY,
    version               int         NOT NULL,
    entry                 jsonb       NOT NULL,
    endpoint_disabled_at  timestamptz,
    disabled_reason       text,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per notification request (request_id = the idempotency key). status is the delivery
-- state machine (docs/notifier.md): digest → pending/retrying → delivered | failed; failed →
-- pending by a manager's re-send. next_attempt_at doubles as a lease while an attempt runs.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    request_id       uuid        NOT NULL UNIQUE,
    complaint_id     uuid,
    referral_id      uuid,
    place_code       text,
    kind             text        NOT NULL,
    destination      text        NOT NULL,
    template         text        NOT NULL,
    request          jsonb       NOT NULL,
    digest           boolean     NOT NULL DEFAULT false,
    status           text        NOT NULL
        CHECK (status IN ('digest', 'pending', 'retrying', 'delivered', 'failed')),
    channel          text,
    attempts         int         NOT NULL DEFAULT 0,
    round            int         NOT NULL DEFAULT 1,
    next_attempt_at  timestamptz,
    last_error       text,
    external_ref     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    failed_at        timestamptz,
    resent_by        text
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
    WHERE status IN ('digest', 'pending', 'retrying');
CREATE INDEX deliveries_complaint ON deliveries (complaint_id);
CREATE INDEX deliveries_referral ON deliveries (referral_id);

-- Every attempt, kept for inspection (errors never hold personal data).
CREATE TABLE attempts (
    delivery_id   uuid        NOT NULL REFERENCES deliveries (id),
    round         int         NOT NULL,
    number        int         NOT NULL,
    channel       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('delivered', 'retry', 'final')),
    status_code   int,
    error         text,
    retry_after   double precision,
    PRIMARY KEY (delivery_id, round, number)
);

-- Referrals filed in LAPOR!: the tracking id and the last status seen, polled until final.
CREATE TABLE lapor_reports (
    tracking_id   text PRIMARY KEY,
    delivery_id   uuid        NOT NULL REFERENCES deliveries (id),
    complaint_id  uuid        NOT NULL,
    referral_id   uuid        NOT NULL,
    status        text        NOT NULL,
    final         boolean     NOT NULL DEFAULT false,
    polled_at     timestamptz,
    filed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lapor_reports_open ON lapor_reports (polled_at) WHERE NOT final;
