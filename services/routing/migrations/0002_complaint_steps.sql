-- Where each open complaint stands: its step, since when, and the last transition seen. The
-- emit_transition activity reads it to observe how long a step lasted when the complaint
-- leaves it (slrt_complaint_step_duration_seconds); the sequence makes a retried activity a
-- no-op. A closed or withdrawn complaint's row is deleted (a reopened one starts a new row).
CREATE TABLE complaint_steps (
    complaint_id uuid PRIMARY KEY,
    step         text NOT NULL,
    entered_at   timestamptz NOT NULL,
    sequence     integer NOT NULL
);
