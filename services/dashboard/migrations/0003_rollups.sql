-- Monthly rollups of the read model, per district, month of receipt (Asia/Jakarta), category,
-- program ('' for none) and channel (referrals: destination): the national and provincial pages
-- sum a few thousand rows instead of scanning every complaint. The consumer keeps them equal to
-- a GROUP BY over the facts by adding, in the transaction that stores a complaint's refolded
-- facts, the difference between what the complaint contributed before and after
-- (services/dashboard/domain/rollup.py). What cannot be summed (SLA judgements as of today,
-- percentiles) is read from the facts, helped by the partial indexes below.

CREATE TABLE complaint_rollup (
    district text NOT NULL,
    month date NOT NULL,
    category text NOT NULL,
    program_code text NOT NULL,
    channel text NOT NULL,
    complaints integer NOT NULL DEFAULT 0,
    open integer NOT NULL DEFAULT 0,
    closed integer NOT NULL DEFAULT 0,
    escalated integer NOT NULL DEFAULT 0,
    escalations integer NOT NULL DEFAULT 0,
    repeats integer NOT NULL DEFAULT 0,
    reopened integer NOT NULL DEFAULT 0,
    resolved integer NOT NULL DEFAULT 0,
    satisfied integer NOT NULL DEFAULT 0,
    responses integer NOT NULL DEFAULT 0,
    ack_done integer NOT NULL DEFAULT 0,
    ack_on_time integer NOT NULL DEFAULT 0,
    resolve_done integer NOT NULL DEFAULT 0,
    resolve_on_time integer NOT NULL DEFAULT 0,
    with_outcome integer NOT NULL DEFAULT 0,
    reached_received integer NOT NULL DEFAULT 0,
    reached_registered integer NOT NULL DEFAULT 0,
    reached_registry_check integer NOT NULL DEFAULT 0,
    reached_back_office integer NOT NULL DEFAULT 0,
    reached_manager_approval integer NOT NULL DEFAULT 0,
    reached_referred integer NOT NULL DEFAULT 0,
    reached_feedback integer NOT NULL DEFAULT 0,
    reached_closed integer NOT NULL DEFAULT 0,
    PRIMARY KEY (district, month, category, program_code, channel)
);

CREATE TABLE referral_rollup (
    district text NOT NULL,
    month date NOT NULL,
    category text NOT NULL,
    program_code text NOT NULL,
    destination text NOT NULL,
    referrals integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0,
    accepted integer NOT NULL DEFAULT 0,
    rejected integer NOT NULL DEFAULT 0,
    no_response integer NOT NULL DEFAULT 0,
    PRIMARY KEY (district, month, category, program_code, destination)
);

-- Backfill from the facts already stored (the statements of domain/rollup.py, verbatim).
INSERT INTO complaint_rollup
SELECT left(c.place_code, 4) AS district, date_trunc('month', c.received_at AT TIME ZONE
'Asia/Jakarta')::date AS month, c.category, coalesce(c.program_code, '') AS program_code,
c.channel, sum(1)::int AS complaints, sum((c.open)::int)::int AS open, sum((NOT
c.open)::int)::int AS closed, sum((c.escalation_count > 0)::int)::int AS escalated,
sum(c.escalation_count)::int AS escalations, sum((c.repeat)::int)::int AS repeats,
sum((c.reopened)::int)::int AS reopened, sum((c.resolved_at IS NOT NULL)::int)::int AS
resolved, sum((c.household_response IS NOT DISTINCT FROM 'satisfied')::int)::int AS satisfied,
sum((c.household_response IS NOT NULL)::int)::int AS responses, sum((c.acknowledge_due IS NOT
NULL AND c.acknowledged_at IS NOT NULL)::int)::int AS ack_done, sum((c.acknowledge_due IS NOT
NULL AND c.acknowledged_at IS NOT NULL AND (c.acknowledged_at AT TIME ZONE
'Asia/Jakarta')::date <= c.acknowledge_due)::int)::int AS ack_on_time, sum((c.resolve_due IS
NOT NULL AND c.resolved_at IS NOT NULL)::int)::int AS resolve_done, sum((c.resolve_due IS NOT
NULL AND c.resolved_at IS NOT NULL AND (c.resolved_at AT TIME ZONE 'Asia/Jakarta')::date <=
c.resolve_due)::int)::int AS resolve_on_time, sum((c.outcome IS NOT NULL)::int)::int AS
with_outcome, sum(('received' = ANY(c.steps_reached))::int)::int AS reached_received,
sum(('registered' = ANY(c.steps_reached))::int)::int AS reached_registered,
sum(('registry_check' = ANY(c.steps_reached))::int)::int AS reached_registry_check,
sum(('back_office' = ANY(c.steps_reached))::int)::int AS reached_back_office,
sum(('manager_approval' = ANY(c.steps_reached))::int)::int AS reached_manager_approval,
sum(('referred' = ANY(c.steps_reached))::int)::int AS reached_referred, sum(('feedback' =
ANY(c.steps_reached))::int)::int AS reached_feedback, sum(('closed' =
ANY(c.steps_reached))::int)::int AS reached_closed FROM complaint_facts c GROUP BY 1, 2, 3, 4,
5;

INSERT INTO referral_rollup
SELECT left(r.place_code, 4) AS district, date_trunc('month', r.received_at AT TIME ZONE
'Asia/Jakarta')::date AS month, r.category, coalesce(r.program_code, '') AS program_code,
r.destination, sum(1)::int AS referrals, sum((r.answered_at IS NOT NULL)::int)::int AS
answered, sum((r.decision IS NOT DISTINCT FROM 'accepted')::int)::int AS accepted,
sum((r.decision IS NOT DISTINCT FROM 'rejected')::int)::int AS rejected,
sum((r.expired)::int)::int AS no_response FROM referral_facts r GROUP BY 1, 2, 3, 4, 5;

-- Promises not yet kept: the only complaints whose SLA judgement changes with the day.
CREATE INDEX complaint_facts_ack_pending ON complaint_facts (acknowledge_due)
    INCLUDE (place_code, received_at, category, program_code)
    WHERE acknowledged_at IS NULL AND acknowledge_due IS NOT NULL;
CREATE INDEX complaint_facts_resolve_pending ON complaint_facts (resolve_due)
    INCLUDE (place_code, received_at, category, program_code)
    WHERE resolved_at IS NULL AND resolve_due IS NOT NULL;
-- The percentiles (days to outcome, days to answer) of a national or provincial page read just
-- these columns: index-only scans of the complaints with an outcome and the answered referrals.
CREATE INDEX complaint_facts_outcomes ON complaint_facts (place_code text_pattern_ops)
    INCLUDE (received_at, closed_at, category, program_code)
    WHERE outcome IS NOT NULL AND closed_at IS NOT NULL;
CREATE INDEX referral_facts_answered ON referral_facts (place_code text_pattern_ops)
    INCLUDE (received_at, destination, sent_at, answered_at, category, program_code)
    WHERE answered_at IS NOT NULL;
