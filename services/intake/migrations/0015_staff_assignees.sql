-- Issue 19: tasks follow the staff directory's assignments. Intake keeps a copy of the
-- directory (compacted topic slrt.staff.directory, slrt.contracts.staff), each record's latest
-- version, persons without their name or contact (intake needs who holds what, not how to
-- reach them), and records on each complaint's status who holds its current step
-- (services/intake/assignees.py).
CREATE TABLE staff_persons (
    person_id     uuid PRIMARY KEY,
    subject       text,
    roles         text[] NOT NULL,
    areas         text[] NOT NULL,
    version       int NOT NULL,
    record        jsonb NOT NULL
);
CREATE INDEX staff_persons_subject ON staff_persons (subject) WHERE subject IS NOT NULL;

CREATE TABLE staff_village_assignments (
    village_code  text PRIMARY KEY,
    version       int NOT NULL,
    record        jsonb NOT NULL
);

CREATE TABLE staff_supervisions (
    facilitator_id  uuid PRIMARY KEY,
    version         int NOT NULL,
    record          jsonb NOT NULL
);

-- Who holds the current step (a person of the directory; NULL: the area's role holders share
-- it, or no person's step) and on what basis (slrt.task_holders.Basis).
ALTER TABLE complaint_status ADD COLUMN assignee uuid;
ALTER TABLE complaint_status ADD COLUMN assignee_basis text;
CREATE INDEX complaint_status_assignee ON complaint_status (assignee, submitted_at DESC)
    WHERE assignee IS NOT NULL;
