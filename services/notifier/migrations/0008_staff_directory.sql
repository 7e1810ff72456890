-- Issue 19: messages to persons. The notifier's copy of the staff directory (compacted topic
-- slrt.staff.directory, slrt.contracts.staff; slrt/staff_copy.py), with the persons' work
-- contacts and preferred channel: reminders, escalations and facilitator tasks addressed to
-- "<role>:<area>" go to the person holding the complaint's step (services/notifier/persons.py).
CREATE TABLE staff_persons (
    person_id     uuid PRIMARY KEY,
    subject       text,
    roles         text[] NOT NULL,
    areas         text[] NOT NULL,
    version       int NOT NULL,
    record        jsonb NOT NULL
);

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
