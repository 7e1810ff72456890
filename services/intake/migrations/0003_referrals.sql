-- Referrals keep their own record (services/intake/referral_history.py): the status projection
-- follows the complaint, which moves on once a referral is answered; this row stays, so the
-- referral remains readable with its destination, the manager's approval note and the answer,
-- and a late answer is told what was recorded. Fed by the lifecycle events.
CREATE TABLE referrals (
    referral_id            uuid PRIMARY KEY,
    complaint_id           uuid NOT NULL,
    ticket_number          text NOT NULL,
    place_code             text NOT NULL,
    category               text NOT NULL,
    destination            text NOT NULL,
    channel                text,
    status                 text NOT NULL CHECK (status IN ('referred', 'under_review',
        'accepted', 'rejected', 'not_responsible', 'no_response', 'delivery_failed',
        'withdrawn', 'closed')),
    approved_by            text NOT NULL,
    approved_at            timestamptz NOT NULL,
    approval_note          text,
    separation_of_duties   boolean,
    delivered_at           timestamptz,
    answer_due             date,
    decision               text,
    answer_note            text,
    expected_date          date,
    suggested_destination  text,
    answered_at            timestamptz,
    closed_at              timestamptz,
    sequence               int NOT NULL
);
CREATE INDEX referrals_complaint ON referrals (complaint_id);
CREATE INDEX referrals_destination ON referrals (destination, approved_at DESC, referral_id DESC);

-- The referrals already known to the projection (no note, no answer text: those events were
-- not kept); an answered one reads 'closed' unless its complaint still waits on it.
INSERT INTO referrals (referral_id, complaint_id, ticket_number, place_code, category,
    destination, status, approved_by, approved_at, answer_due, sequence)
SELECT referral_id, complaint_id, ticket_number, place_code, category,
    COALESCE(referral_destination, program_code, 'unknown'),
    CASE WHEN step IN ('referred', 'under_review') THEN step ELSE 'closed' END,
    'unknown', updated_at,
    CASE WHEN step IN ('referred', 'under_review') THEN step_due END, sequence
FROM complaint_status WHERE referral_id IS NOT NULL
ON CONFLICT (referral_id) DO NOTHING;

-- What a program manager answered, beside the decision (returned to a late second answer).
ALTER TABLE referral_answers
    ADD COLUMN note text,
    ADD COLUMN expected_date date,
    ADD COLUMN suggested_destination text;
