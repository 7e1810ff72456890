-- Corrections proposed from a complaint (issue 15, item 2): change proposals beyond one field
-- of one person. ``change_kind`` says which (``field`` for the six individual fields as before,
-- ``member_add``, ``member_remove``, ``member_move``, ``address``, ``kk_number``); a proposal
-- names the person (``individual_id``) or the household (``household_id``) it changes, the
-- household a member moves to (``target_household_id``) and the new member or the moved one's
-- relation (``member``). ``request_id`` + ``item_no``: one proposal per change of one
-- ``RegistryCorrectionRequested`` however often it is redelivered.
ALTER TABLE change_proposals
    ADD COLUMN change_kind text NOT NULL DEFAULT 'field',
    ADD COLUMN household_id uuid REFERENCES households (id),
    ADD COLUMN target_household_id uuid REFERENCES households (id),
    ADD COLUMN member jsonb,
    ADD COLUMN request_id uuid,
    ADD COLUMN item_no integer,
    ALTER COLUMN individual_id DROP NOT NULL;
CREATE UNIQUE INDEX change_proposals_request ON change_proposals (request_id, item_no)
    WHERE request_id IS NOT NULL;

-- A member removed from their household by an accepted correction (died, moved out, a
-- duplicate record) stays on record, marked.
ALTER TABLE individuals
    ADD COLUMN removed_at timestamptz,
    ADD COLUMN removed_reason text;
