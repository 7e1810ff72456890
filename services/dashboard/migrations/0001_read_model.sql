-- The complaint-handling read model: every lifecycle transition as received, and the facts
-- folded from them per complaint and per referral. Everything here is rebuildable from the
-- lifecycle topic (``python -m services.dashboard rebuild``). No personal data is stored.

CREATE TABLE transitions (
    complaint_id uuid NOT NULL,
    sequence integer NOT NULL,
    from_step text,
    to_step text NOT NULL,
    actor_role text NOT NULL,
    at timestamptz NOT NULL,
    reason text,
    decision_code text,
    details jsonb NOT NULL DEFAULT '{}',
    snapshot jsonb NOT NULL,
    PRIMARY KEY (complaint_id, sequence)
);

CREATE TABLE complaint_facts (
    complaint_id uuid PRIMARY KEY,
    ticket_number text NOT NULL,
    place_code text NOT NULL,
    category text NOT NULL,
    channel text NOT NULL,
    program_code text,
    step text NOT NULL,
    open boolean NOT NULL,
    outcome text,
    received_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledge_due date,
    resolved_at timestamptz,
    resolve_due date,
    closed_at timestamptz,
    steps_reached text[] NOT NULL,
    escalation_count integer NOT NULL DEFAULT 0,
    repeat boolean NOT NULL DEFAULT false,
    reopened boolean NOT NULL DEFAULT false,
    household_response text,
    last_sequence integer NOT NULL
);
CREATE INDEX complaint_facts_place ON complaint_facts (place_code text_pattern_ops);
CREATE INDEX complaint_facts_received ON complaint_facts (received_at);

CREATE TABLE referral_facts (
    referral_id uuid PRIMARY KEY,
    complaint_id uuid NOT NULL,
    place_code text NOT NULL,
    category text NOT NULL,
    program_code text,
    destination text NOT NULL,
    received_at timestamptz NOT NULL,
    sent_at timestamptz NOT NULL,
    answered_at timestamptz,
    decision text,
    expired boolean NOT NULL DEFAULT false
);
CREATE INDEX referral_facts_place ON referral_facts (place_code text_pattern_ops);
CREATE INDEX referral_facts_complaint ON referral_facts (complaint_id);

-- The program catalog as the compacted catalog topic carries it: which agency owns a
-- referral destination.
CREATE TABLE programs (
    code text PRIMARY KEY,
    name text NOT NULL,
    owner_agency text NOT NULL,
    version integer NOT NULL
);

-- Generated M&E reports (laporan monitoring dan evaluasi): figures filled in automatically,
-- narrative fields filled in by the manager; the files are rendered on demand from both.
CREATE TABLE reports (
    report_id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('monthly', 'quarterly')),
    area text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    figures jsonb NOT NULL,
    achievements text NOT NULL DEFAULT '',
    problems text NOT NULL DEFAULT '',
    recommendations text NOT NULL DEFAULT '',
    pdf bytea NOT NULL,
    xlsx bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    UNIQUE (kind, area, period_start)
);
