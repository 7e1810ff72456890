-- Program information at the front office: intake's copy of the registry's program-information
-- entries (``slrt.program.info``, the latest version of each: which entry, its district, topic
-- and title; the text stays in the registry) and, on an information request, the answer the
-- front office gave (entry id, version, topic and the full text; the masked text travels).

CREATE TABLE program_info (
    entry_id      uuid PRIMARY KEY,
    version       integer NOT NULL,
    kind          text NOT NULL,
    district      text NOT NULL,
    topic         text NOT NULL,
    program_code  text,
    title         text NOT NULL
);

ALTER TABLE complaints ADD COLUMN information_answer jsonb;
