-- Membership referrals filed in SIKS-NG: the submission id and the last status seen, polled
-- until SIKS-NG gives its verdict (services/notifier/siks_ng_poller.py).
CREATE TABLE siks_ng_submissions (
    submission_id  text PRIMARY KEY,
    delivery_id    uuid        NOT NULL REFERENCES deliveries (id),
    complaint_id   uuid        NOT NULL,
    referral_id    uuid        NOT NULL,
    status         text        NOT NULL,
    final          boolean     NOT NULL DEFAULT false,
    polled_at      timestamptz,
    filed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX siks_ng_submissions_open ON siks_ng_submissions (polled_at) WHERE NOT final;

-- The audit of SIKS-NG's answers: every status change the poller saw, when, and the referral
-- answer it became (answer_id, NULL for a status that answers nothing yet). Append-only; the
-- verifier's note is not kept here (it travels in the answer to the complaint's timeline).
CREATE TABLE siks_ng_verdicts (
    submission_id  text        NOT NULL REFERENCES siks_ng_submissions (submission_id),
    status         text        NOT NULL,
    seen_at        timestamptz NOT NULL DEFAULT now(),
    answer_id      text,
    decision       text,
    PRIMARY KEY (submission_id, status)
);
