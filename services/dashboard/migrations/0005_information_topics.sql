-- Information requests by topic: the topic of the program-information entry that answered an
-- information request (the closing transition's details, since proginfo). Null for every
-- other complaint and for information requests closed without a recorded answer. Old facts
-- get it from ``slrt-dashboard rebuild`` (the lifecycle topic).
ALTER TABLE complaint_facts ADD COLUMN information_topic text;
