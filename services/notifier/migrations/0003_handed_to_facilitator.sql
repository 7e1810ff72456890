-- A household message for a household with no phone and no email is handed to the village
-- facilitator's task: a final status of its own, not a failure (no dead letter, no re-send).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (
    status IN ('digest', 'pending', 'retrying', 'delivered', 'failed', 'handed_to_facilitator')
);
