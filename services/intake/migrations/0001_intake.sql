-- Intake's own schema: complaints as submitted (with the complainant's personal data), ticket
-- counters, the status projection fed by lifecycle events, the program catalog copy, program
-- managers' answers and the tracking page's rate-limit windows.

-- Ticket numbers: one counter per district (regency code) and year, e.g. 3204-26-000123.
CREATE TABLE ticket_counters (
    district  text NOT NULL CHECK (district ~ '^\d{4}$'),
    year      int  NOT NULL,
    last      int  NOT NULL,
    PRIMARY KEY (district, year)
);

-- A complaint as it was submitted. Personal data lives here only (never in events' keys or
-- logs); anonymous reports keep none.
CREATE TABLE complaints (
    id                uuid PRIMARY KEY,
    ticket_number     text NOT NULL UNIQUE,
    submitted_by      text NOT NULL,
    idempotency_key   text NOT NULL,
    request_hash      text NOT NULL,
    channel           text NOT NULL,
    category          text NOT NULL,
    village_code      text NOT NULL CHECK (village_code ~ '^\d{10}$'),
    program_code      text,
    sub_type          text,
    anonymous         boolean NOT NULL,
    complainant       jsonb,
    phone             text,
    phone_last4       text,
    tracking_code     text NOT NULL,
    description       text NOT NULL,
    occurred_on       date,
    warnings          text[] NOT NULL DEFAULT '{}',
    submitted_at      timestamptz NOT NULL,
    UNIQUE (submitted_by, idempotency_key),
    CHECK (anonymous = (complainant IS NULL))
);

-- Status projection: the latest snapshot per complaint (highest lifecycle sequence applied).
CREATE TABLE complaint_status (
    complaint_id          uuid PRIMARY KEY,
    ticket_number         text NOT NULL UNIQUE,
    sequence              int  NOT NULL,
    step                  text NOT NULL,
    holder_role           text,
    place_code            text NOT NULL,
    category              text NOT NULL,
    channel               text NOT NULL,
    program_code          text,
    referral_destination  text,
    referral_id           uuid,
    step_due              date,
    resolve_due           date,
    overdue               boolean NOT NULL DEFAULT false,
    escalated             boolean NOT NULL DEFAULT false,
    repeat                boolean NOT NULL DEFAULT false,
    outcome               text,
    snapshot              jsonb NOT NULL,
    submitted_at          timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX complaint_status_list ON complaint_status (submitted_at DESC, complaint_id DESC);
CREATE INDEX complaint_status_place ON complaint_status (place_code text_pattern_ops);
CREATE INDEX complaint_status_step ON complaint_status (step, place_code text_pattern_ops);
CREATE UNIQUE INDEX complaint_status_referral ON complaint_status (referral_id)
    WHERE referral_id IS NOT NULL;

-- Timeline: every transition, by its sequence (redeliveries are no-ops).
CREATE TABLE complaint_timeline (
    complaint_id   uuid NOT NULL,
    sequence       int  NOT NULL,
    from_step      text,
    to_step        text NOT NULL,
    actor          text NOT NULL,
    actor_role     text NOT NULL,
    at             timestamptz NOT NULL,
    reason         text,
    decision_code  text,
    PRIMARY KEY (complaint_id, sequence)
);

-- Copy of the program catalog (compacted topic slrt.catalog.programs), latest version each.
CREATE TABLE programs (
    code     text PRIMARY KEY,
    version  int   NOT NULL,
    entry    jsonb NOT NULL
);

-- Program managers' answers, by their idempotency key (webhook id or answer-link nonce).
CREATE TABLE referral_answers (
    answer_id     text PRIMARY KEY,
    referral_id   uuid NOT NULL,
    complaint_id  uuid NOT NULL,
    decision      text NOT NULL,
    via           text NOT NULL CHECK (via IN ('callback', 'answer_link', 'api')),
    answered_at   timestamptz NOT NULL
);
CREATE INDEX referral_answers_referral ON referral_answers (referral_id);

-- Fixed-window request counters (public tracking rate limit), shared by all replicas.
CREATE TABLE rate_windows (
    bucket        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          int         NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
