-- Set-based import (issue 17 item 3): change detection per household and the name key in SQL.

-- Per household of an extract: how many rows and the XOR of their row hashes as last imported
-- without a rejected line. On the next import a household whose rows hash the same (and which
-- nothing else has touched since: writers that change a household drop its entry) is skipped.
CREATE TABLE import_households (
    household_ref  text PRIMARY KEY,
    row_count      int    NOT NULL,
    row_hash       bigint NOT NULL
);

-- The search key of a name, as ``services.registry.domain.names.name_key`` computes it (a test
-- holds the two equal): ASCII letters after NFKD, lower case, old spellings and doubled letters
-- folded, a final h after a vowel dropped, single spaces.
CREATE FUNCTION name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN btrim(regexp_replace(
    regexp_replace(
        regexp_replace(
            replace(replace(replace(replace(replace(replace(
                regexp_replace(
                    lower(regexp_replace(normalize(name, NFKD), '[^\x01-\x7f]+', '', 'g')),
                    '[^a-z ]+', ' ', 'g'),
                'dj', 'j'), 'tj', 'c'), 'sj', 'sy'), 'nj', 'ny'), 'oe', 'u'), 'ch', 'kh'),
            '([a-z])\1+', '\1', 'g'),
        '(?<=[aeiou])h(?= |$)', '', 'g'),
    ' +', ' ', 'g'));
