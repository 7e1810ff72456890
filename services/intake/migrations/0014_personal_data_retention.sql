-- Personal data retention (UU PDP 27/2022: personal data kept no longer than needed). Once a
-- complaint's personal data is erased (services/intake/retention.py: closed or withdrawn more
-- than SLRT_INTAKE_PERSONAL_DATA_RETENTION_DAYS ago, or a data subject's request), the row keeps
-- what the dashboards and tracking need (ticket, category, program, village, dates) and says
-- when its personal data went. An erased complaint keeps no complainant although it was not
-- anonymous, so the submission-time rule (anonymous = no complainant) holds only until then.
ALTER TABLE complaints ADD COLUMN personal_data_erased_at timestamptz;

ALTER TABLE complaints DROP CONSTRAINT IF EXISTS complaints_check;
ALTER TABLE complaints ADD CONSTRAINT complaints_complainant_unless_anonymous
    CHECK (anonymous = (complainant IS NULL) OR personal_data_erased_at IS NOT NULL);

-- The sweep's question: ended complaints (closed, withdrawn), oldest end first.
CREATE INDEX complaint_status_ended ON complaint_status (updated_at)
    WHERE step IN ('closed', 'withdrawn');

-- A redemption of an erased complaint's contact or identity releases nothing and says so.
ALTER TABLE contact_redemptions DROP CONSTRAINT IF EXISTS contact_redemptions_outcome_check;
ALTER TABLE contact_redemptions ADD CONSTRAINT contact_redemptions_outcome_check
    CHECK (outcome IN ('released', 'no_contact', 'anonymous', 'unknown', 'erased'));
