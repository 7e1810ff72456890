-- Monthly rollups of the read model for the national and provincial pages: each row belongs
-- to the page it feeds (page_area '' = national, with child the province; page_area a province,
-- with child the district), so a page sums only its own rows instead of scanning every
-- complaint. Keys besides: month of receipt (Asia/Jakarta), category, program ('' for none),
-- channel (referrals: destination). duration_histogram counts days to outcome ('outcome',
-- child the place) and days to answer ('answer', child the destination) per bucket (a tenth of
-- a day up to 10 days, half a day up to 30, a day up to 365) for the percentiles.
-- The consumer keeps all three equal to a GROUP BY over the facts by adding, in the
-- transaction that stores a complaint's refolded facts, the difference between what the
-- complaint contributed before and after (services/dashboard/domain/rollup.py). What depends
-- on the day (late promises) is read from the facts through the partial indexes below.

CREATE TABLE complaint_rollup (
    page_area text NOT NULL,
    child text NOT NULL,
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
    PRIMARY KEY (page_area, month, child, category, program_code, channel)
);

CREATE TABLE referral_rollup (
    page_area text NOT NULL,
    month date NOT NULL,
    category text NOT NULL,
    program_code text NOT NULL,
    destination text NOT NULL,
    referrals integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0,
    accepted integer NOT NULL DEFAULT 0,
    rejected integer NOT NULL DEFAULT 0,
    no_response integer NOT NULL DEFAULT 0,
    PRIMARY KEY (page_area, month, category, program_code, destination)
);

CREATE TABLE duration_histogram (
    kind text NOT NULL CHECK (kind IN ('outcome', 'answer')),
    page_area text NOT NULL,
    child text NOT NULL,
    month date NOT NULL,
    bucket integer NOT NULL,
    n integer NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, page_area, month, child, bucket)
);

-- Backfill from the facts already stored (the statements of domain/rollup.py, verbatim).
INSERT INTO complaint_rollup (page_area, child, month, category, program_code, channel,
    complaints, open, closed, escalated,
    escalations, repeats, reopened, resolved, satisfied, responses, ack_done, ack_on_time,
resolve_done, resolve_on_time, with_outcome, reached_received, reached_registered,
reached_registry_check, reached_back_office, reached_manager_approval, reached_referred,
reached_feedback, reached_closed)
SELECT '' AS page_area, left(c.place_code, 2) AS child, date_trunc('month', c.received_at AT
TIME ZONE 'Asia/Jakarta')::date AS month, c.category, coalesce(c.program_code, '') AS
program_code, c.channel, sum(1)::int AS complaints, sum((c.open)::int)::int AS open, sum((NOT
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
5, 6 UNION ALL SELECT left(c.place_code, 2) AS page_area, left(c.place_code, 4) AS child,
date_trunc('month', c.received_at AT TIME ZONE 'Asia/Jakarta')::date AS month, c.category,
coalesce(c.program_code, '') AS program_code, c.channel, sum(1)::int AS complaints,
sum((c.open)::int)::int AS open, sum((NOT c.open)::int)::int AS closed, sum((c.escalation_count
> 0)::int)::int AS escalated, sum(c.escalation_count)::int AS escalations,
sum((c.repeat)::int)::int AS repeats, sum((c.reopened)::int)::int AS reopened,
sum((c.resolved_at IS NOT NULL)::int)::int AS resolved, sum((c.household_response IS NOT
DISTINCT FROM 'satisfied')::int)::int AS satisfied, sum((c.household_response IS NOT
NULL)::int)::int AS responses, sum((c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT
NULL)::int)::int AS ack_done, sum((c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT
NULL AND (c.acknowledged_at AT TIME ZONE 'Asia/Jakarta')::date <= c.acknowledge_due)::int)::int
AS ack_on_time, sum((c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL)::int)::int AS
resolve_done, sum((c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL AND (c.resolved_at
AT TIME ZONE 'Asia/Jakarta')::date <= c.resolve_due)::int)::int AS resolve_on_time,
sum((c.outcome IS NOT NULL)::int)::int AS with_outcome, sum(('received' =
ANY(c.steps_reached))::int)::int AS reached_received, sum(('registered' =
ANY(c.steps_reached))::int)::int AS reached_registered, sum(('registry_check' =
ANY(c.steps_reached))::int)::int AS reached_registry_check, sum(('back_office' =
ANY(c.steps_reached))::int)::int AS reached_back_office, sum(('manager_approval' =
ANY(c.steps_reached))::int)::int AS reached_manager_approval, sum(('referred' =
ANY(c.steps_reached))::int)::int AS reached_referred, sum(('feedback' =
ANY(c.steps_reached))::int)::int AS reached_feedback, sum(('closed' =
ANY(c.steps_reached))::int)::int AS reached_closed FROM complaint_facts c GROUP BY 1, 2, 3, 4,
5, 6;

INSERT INTO referral_rollup (page_area, month, category, program_code, destination,
    referrals, answered, accepted, rejected, no_response)
SELECT '' AS page_area, date_trunc('month', r.received_at AT TIME ZONE 'Asia/Jakarta')::date AS
month, r.category, coalesce(r.program_code, '') AS program_code, r.destination, sum(1)::int AS
referrals, sum((r.answered_at IS NOT NULL)::int)::int AS answered, sum((r.decision IS NOT
DISTINCT FROM 'accepted')::int)::int AS accepted, sum((r.decision IS NOT DISTINCT FROM
'rejected')::int)::int AS rejected, sum((r.expired)::int)::int AS no_response FROM
referral_facts r GROUP BY 1, 2, 3, 4, 5 UNION ALL SELECT left(r.place_code, 2) AS page_area,
date_trunc('month', r.received_at AT TIME ZONE 'Asia/Jakarta')::date AS month, r.category,
coalesce(r.program_code, '') AS program_code, r.destination, sum(1)::int AS referrals,
sum((r.answered_at IS NOT NULL)::int)::int AS answered, sum((r.decision IS NOT DISTINCT FROM
'accepted')::int)::int AS accepted, sum((r.decision IS NOT DISTINCT FROM 'rejected')::int)::int
AS rejected, sum((r.expired)::int)::int AS no_response FROM referral_facts r GROUP BY 1, 2, 3,
4, 5;

INSERT INTO duration_histogram (kind, page_area, child, month, bucket, n)
SELECT 'outcome' AS kind, '' AS page_area, left(c.place_code, 2) AS child, date_trunc('month',
c.received_at AT TIME ZONE 'Asia/Jakarta')::date AS month, (CASE WHEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) < 864000 THEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) * 10 / 86400 WHEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) < 2592000 THEN 100
+ (greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) - 864000) * 2 /
86400 WHEN greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) <
31536000 THEN 140 + (greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint,
0) - 2592000) / 86400 ELSE 475 END)::int AS bucket, count(*)::int AS n FROM complaint_facts c
WHERE c.outcome IS NOT NULL AND c.closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5 UNION ALL SELECT
'outcome' AS kind, left(c.place_code, 2) AS page_area, left(c.place_code, 4) AS child,
date_trunc('month', c.received_at AT TIME ZONE 'Asia/Jakarta')::date AS month, (CASE WHEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) < 864000 THEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) * 10 / 86400 WHEN
greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) < 2592000 THEN 100
+ (greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) - 864000) * 2 /
86400 WHEN greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint, 0) <
31536000 THEN 140 + (greatest(floor(extract(epoch FROM c.closed_at - c.received_at))::bigint,
0) - 2592000) / 86400 ELSE 475 END)::int AS bucket, count(*)::int AS n FROM complaint_facts c
WHERE c.outcome IS NOT NULL AND c.closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5 UNION ALL SELECT
'answer' AS kind, '' AS page_area, r.destination AS child, date_trunc('month', r.received_at AT
TIME ZONE 'Asia/Jakarta')::date AS month, (CASE WHEN greatest(floor(extract(epoch FROM
r.answered_at - r.sent_at))::bigint, 0) < 864000 THEN greatest(floor(extract(epoch FROM
r.answered_at - r.sent_at))::bigint, 0) * 10 / 86400 WHEN greatest(floor(extract(epoch FROM
r.answered_at - r.sent_at))::bigint, 0) < 2592000 THEN 100 + (greatest(floor(extract(epoch FROM
r.answered_at - r.sent_at))::bigint, 0) - 864000) * 2 / 86400 WHEN greatest(floor(extract(epoch
FROM r.answered_at - r.sent_at))::bigint, 0) < 31536000 THEN 140 +
(greatest(floor(extract(epoch FROM r.answered_at - r.sent_at))::bigint, 0) - 2592000) / 86400
ELSE 475 END)::int AS bucket, count(*)::int AS n FROM referral_facts r WHERE r.answered_at IS
NOT NULL GROUP BY 1, 2, 3, 4, 5 UNION ALL SELECT 'answer' AS kind, left(r.place_code, 2) AS
page_area, r.destination AS child, date_trunc('month', r.received_at AT TIME ZONE
'Asia/Jakarta')::date AS month, (CASE WHEN greatest(floor(extract(epoch FROM r.answered_at -
r.sent_at))::bigint, 0) < 864000 THEN greatest(floor(extract(epoch FROM r.answered_at -
r.sent_at))::bigint, 0) * 10 / 86400 WHEN greatest(floor(extract(epoch FROM r.answered_at -
r.sent_at))::bigint, 0) < 2592000 THEN 100 + (greatest(floor(extract(epoch FROM r.answered_at -
r.sent_at))::bigint, 0) - 864000) * 2 / 86400 WHEN greatest(floor(extract(epoch FROM
r.answered_at - r.sent_at))::bigint, 0) < 31536000 THEN 140 + (greatest(floor(extract(epoch
FROM r.answered_at - r.sent_at))::bigint, 0) - 2592000) / 86400 ELSE 475 END)::int AS bucket,
count(*)::int AS n FROM referral_facts r WHERE r.answered_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5;

-- Promises not yet kept: the only complaints whose SLA judgement changes with the day.
CREATE INDEX complaint_facts_ack_pending ON complaint_facts (acknowledge_due)
    INCLUDE (place_code, received_at, category, program_code)
    WHERE acknowledged_at IS NULL AND acknowledge_due IS NOT NULL;
CREATE INDEX complaint_facts_resolve_pending ON complaint_facts (resolve_due)
    INCLUDE (place_code, received_at, category, program_code)
    WHERE resolved_at IS NULL AND resolve_due IS NOT NULL;

-- A district's page and everything below it is computed from the facts: the place index now
-- carries every column those queries read, so they are index-only scans over the district's
-- adjacent index entries instead of a heap page per complaint (a district's complaints arrive
-- spread over the whole table).
DROP INDEX complaint_facts_place;
CREATE INDEX complaint_facts_place ON complaint_facts (place_code text_pattern_ops)
    INCLUDE (received_at, category, program_code, channel, open, outcome, acknowledged_at,
             acknowledge_due, resolved_at, resolve_due, closed_at, escalation_count, repeat,
             reopened, household_response, steps_reached);
DROP INDEX referral_facts_place;
CREATE INDEX referral_facts_place ON referral_facts (place_code text_pattern_ops)
    INCLUDE (received_at, category, program_code, destination, sent_at, answered_at, decision,
             expired);
