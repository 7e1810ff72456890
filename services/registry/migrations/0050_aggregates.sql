-- Registry aggregates for the dashboards (items 1-5 of the seed's dashboard, and service gaps):
-- one row per village and breakdown, so any area (village, sub-district, district, province,
-- national) is a sum over a few hundred to a few thousand rows, whatever the registry's size.
-- Refreshed (CONCURRENTLY: readers are never blocked) after every import and on demand; see
-- services/registry/aggregates.py. Household counts sum correctly across villages because a
-- household lives in exactly one village.

CREATE MATERIALIZED VIEW agg_households AS
SELECT h.village_code,
       count(*) AS households,
       count(*) FILTER (WHERE h.welfare_decile BETWEEN 1 AND 4) AS bottom40,
       count(*) FILTER (WHERE p.household_id IS NOT NULL) AS with_program,
       count(*) FILTER (WHERE h.welfare_decile BETWEEN 1 AND 4 AND p.household_id IS NULL)
           AS bottom40_no_program
FROM households h
LEFT JOIN (SELECT DISTINCT household_id FROM participation) p ON p.household_id = h.id
GROUP BY h.village_code;
CREATE INDEX agg_households_area ON agg_households (village_code text_pattern_ops);
CREATE UNIQUE INDEX agg_households_key ON agg_households (village_code);

-- Participation per program (kepesertaan): households, and members for individual programs.
CREATE MATERIALIZED VIEW agg_programs AS
SELECT h.village_code,
       p.program_code,
       count(DISTINCT p.household_id) AS households,
       count(DISTINCT p.individual_id) AS individuals
FROM participation p
JOIN households h ON h.id = p.household_id
GROUP BY h.village_code, p.program_code;
CREATE INDEX agg_programs_area ON agg_programs (village_code text_pattern_ops);
CREATE UNIQUE INDEX agg_programs_key ON agg_programs (village_code, program_code);

-- Recorded needs (kebutuhan program): "unmet" when no program covers the need (program_code
-- empty) or the household does not receive the program that would.
CREATE MATERIALIZED VIEW agg_needs AS
SELECT h.village_code,
       n.need,
       coalesce(n.program_code, '') AS program_code,
       count(*) AS needs,
       count(*) FILTER (WHERE n.program_code IS NULL OR NOT EXISTS (
           SELECT 1 FROM participation p
           WHERE p.household_id = n.household_id AND p.program_code = n.program_code
       )) AS unmet
FROM program_needs n
JOIN households h ON h.id = n.household_id
GROUP BY h.village_code, n.need, coalesce(n.program_code, '');
CREATE INDEX agg_needs_area ON agg_needs (village_code text_pattern_ops);
CREATE UNIQUE INDEX agg_needs_key ON agg_needs (village_code, need, program_code);

-- Complementarity and overlap: the exact combination of programs each household receives
-- (an UpSet-style table; '{}' = no program).
CREATE MATERIALIZED VIEW agg_combinations AS
SELECT h.village_code,
       coalesce(c.programs, '{}'::text[]) AS programs,
       count(*) AS households
FROM households h
LEFT JOIN (
    SELECT household_id, array_agg(DISTINCT program_code ORDER BY program_code) AS programs
    FROM participation GROUP BY household_id
) c ON c.household_id = h.id
GROUP BY h.village_code, coalesce(c.programs, '{}'::text[]);
CREATE INDEX agg_combinations_area ON agg_combinations (village_code text_pattern_ops);
CREATE UNIQUE INDEX agg_combinations_key ON agg_combinations (village_code, programs);

-- Profiles by sex and disability (gender-equal reporting, III.A).
CREATE MATERIALIZED VIEW agg_profiles AS
SELECT h.village_code,
       i.sex,
       i.disability IS NOT NULL AS disability,
       count(*) AS individuals,
       count(*) FILTER (WHERE h.welfare_decile BETWEEN 1 AND 4) AS bottom40
FROM individuals i
JOIN households h ON h.id = i.household_id
GROUP BY h.village_code, i.sex, i.disability IS NOT NULL;
CREATE INDEX agg_profiles_area ON agg_profiles (village_code text_pattern_ops);
CREATE UNIQUE INDEX agg_profiles_key ON agg_profiles (village_code, sex, disability);

CREATE INDEX prelist_entries_village ON prelist_entries (village_code text_pattern_ops);
CREATE INDEX change_proposals_village ON change_proposals (village_code text_pattern_ops);
