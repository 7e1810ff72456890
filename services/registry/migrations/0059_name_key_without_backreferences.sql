-- The name key in SQL, cheaper (issue 17 item 3): the same function as 0055 (the test that holds
-- it equal to ``services.registry.domain.names.name_key`` is unchanged), computed in about 60 %
-- of the time; it is called once per row of a first import.
--
-- * Doubled letters are folded without a back-reference: ``([a-z])\1+`` sends PostgreSQL's
--   regular expression engine down its slow backtracking path (7 µs a name). Three passes of
--   ``(a)a+|(b)b+|…`` (at most nine groups a replacement can name) fold every run of one letter
--   into that letter; folding a run never makes a new one, so the passes are independent.
CREATE OR REPLACE FUNCTION name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN btrim(regexp_replace(
    regexp_replace(
        regexp_replace(regexp_replace(regexp_replace(
            replace(replace(replace(replace(replace(replace(
                regexp_replace(
                    lower(regexp_replace(normalize(name, NFKD), '[^\x01-\x7f]+', '', 'g')),
                    '[^a-z ]+', ' ', 'g'),
                'dj', 'j'), 'tj', 'c'), 'sj', 'sy'), 'nj', 'ny'), 'oe', 'u'), 'ch', 'kh'),
            '(a)a+|(b)b+|(c)c+|(d)d+|(e)e+|(f)f+|(g)g+|(h)h+|(i)i+', '\1\2\3\4\5\6\7\8\9', 'g'),
            '(j)j+|(k)k+|(l)l+|(m)m+|(n)n+|(o)o+|(p)p+|(q)q+|(r)r+', '\1\2\3\4\5\6\7\8\9', 'g'),
            '(s)s+|(t)t+|(u)u+|(v)v+|(w)w+|(x)x+|(y)y+|(z)z+', '\1\2\3\4\5\6\7\8', 'g'),
        '(?<=[aeiou])h(?= |$)', '', 'g'),
    ' +', ' ', 'g'));
