-- Household contacts: the complainant's email (optional, beside the phone already kept in
-- complaints.phone), and the audit of every redemption of a household contact reference
-- ("household:<complaint id>") by a service: who (the token's subject and roles), what (which
-- complaint, which contact fields were released), when, and why (the notification request and
-- its template). Specific to contact redemptions; other reads are audited elsewhere.
-- (Numbered 0003 so that it does not collide with a 0002 of intake's staff read audit.)
ALTER TABLE complaints ADD COLUMN email text;

CREATE TABLE contact_redemptions (
    id            bigserial   PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    caller        text        NOT NULL,
    caller_roles  text[]      NOT NULL,
    complaint_id  uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    purpose       text        NOT NULL,
    released      text[]      NOT NULL,
    outcome       text        NOT NULL
        CHECK (outcome IN ('released', 'no_contact', 'anonymous', 'unknown'))
);
CREATE INDEX contact_redemptions_complaint ON contact_redemptions (complaint_id, at);
