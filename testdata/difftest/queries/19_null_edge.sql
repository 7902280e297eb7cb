-- NULL handling and edge values: three-valued logic, NULL ordering,
-- NaN and infinities, integer extremes, empty and unicode strings,
-- timestamps at their limits.

-- null: IS NULL on a NULL-heavy column
SELECT count(*) FROM sparse WHERE i4 IS NULL;

-- null: IS NOT NULL on several columns
SELECT id FROM sparse WHERE i4 IS NOT NULL AND i2 IS NOT NULL AND txt IS NOT NULL;

-- null: comparison with NULL yields nothing
-- @empty
SELECT id FROM sparse WHERE i4 = NULL;

-- null: NOT on a nullable boolean
SELECT count(*) FROM sparse WHERE NOT b;

-- null: IS NOT TRUE / IS UNKNOWN
SELECT count(*) FILTER (WHERE b IS NOT TRUE), count(*) FILTER (WHERE b IS UNKNOWN), count(*) FILTER (WHERE b IS FALSE) FROM sparse;

-- null: COALESCE and NULLIF
SELECT id, coalesce(i4, i2, -999), nullif(txt, '') FROM sparse WHERE id BETWEEN -100000000 AND 100000000000;

-- null: NULL in arithmetic and concatenation
SELECT id, i4 + i2, txt || 'x', concat(txt, 'x') FROM sparse WHERE id < -300000000000;

-- null: aggregates ignore NULLs, count(*) does not
SELECT count(*), count(i4), count(i2), count(i8), count(num), count(f8), count(txt), count(b), count(ts), count(d), count(okey) FROM sparse;

-- null: GROUP BY puts NULLs in one group
SELECT i2, count(*) FROM sparse GROUP BY i2;

-- null: DISTINCT treats NULLs as equal
SELECT count(DISTINCT i2), count(*) FROM (SELECT DISTINCT i2 FROM sparse) s;

-- null: NULLs in a join key never match
SELECT count(*) FROM sparse a JOIN sparse b ON a.i4 = b.i4 WHERE a.id < b.id AND a.i4 IS NULL;

-- null: IS NOT DISTINCT FROM matches NULLs
SELECT count(*) FROM sparse a JOIN sparse b ON a.i2 IS NOT DISTINCT FROM b.i2 AND a.id = b.id;

-- edge: int4 extremes
SELECT id, i4 FROM sparse WHERE i4 IN (-2147483648, 2147483647);

-- edge: int2 extremes
SELECT id, i2 FROM sparse WHERE i2 IN (-32768, 32767);

-- edge: int8 extremes
SELECT id, i8 FROM sparse WHERE i8 IN (-9223372036854775808, 9223372036854775807);

-- edge: sum of int4 extremes does not overflow (bigint result)
SELECT sum(i4), max(i4), min(i4) FROM sparse WHERE i4 IN (-2147483648, 2147483647);

-- edge: sum of int8 extremes does not overflow (numeric result)
SELECT sum(i8), avg(i8) FROM sparse WHERE i8 IN (9223372036854775807, 0);

-- edge: NaN in float comparisons (NaN equals NaN, sorts above Infinity)
SELECT id, f8 FROM sparse WHERE f8 = 'NaN' OR f8 > 1e299;

-- edge: -Infinity and Infinity in floats
SELECT count(*) FILTER (WHERE f8 = 'Infinity'), count(*) FILTER (WHERE f8 = '-Infinity') FROM sparse;

-- edge: numeric NaN and infinities
SELECT id, num FROM sparse WHERE num IN ('NaN', 'Infinity', '-Infinity');

-- edge: numeric with very large and very small values
SELECT id, num, num * 2, num / 3 FROM sparse WHERE abs(num) > 1e20 OR (num <> 0 AND abs(num) < 1e-10);

-- edge: reading with NaN, infinities and -0 in uuid table
SELECT device_id, reading FROM devices WHERE reading IN ('NaN', 'Infinity', '-Infinity') OR reading = 0;

-- edge: empty strings and whitespace-only strings are not NULL
SELECT count(*) FILTER (WHERE txt = ''), count(*) FILTER (WHERE txt = ' '), count(*) FILTER (WHERE trim(txt) = ''), count(*) FILTER (WHERE txt IS NULL) FROM sparse;

-- edge: the text 'NULL' and a backslash-N are not NULL
SELECT id, txt FROM sparse WHERE txt IN ('NULL', 'null', '\N');

-- edge: unicode strings, their lengths and bytes
SELECT DISTINCT txt, length(txt), octet_length(txt) FROM sparse WHERE txt IS NOT NULL;

-- edge: quotes, backslashes, tabs and newlines in text
SELECT tag, length(tag) FROM tag_events WHERE tag LIKE '%''%' OR tag LIKE '%\\%' OR tag LIKE E'%\t%' OR tag LIKE E'%\n%' GROUP BY tag;

-- edge: timestamp infinity and BC
SELECT id, ts, d FROM sparse WHERE ts IN ('infinity', '-infinity') OR ts < '0001-01-01' OR d IN ('infinity', '-infinity') OR d < '0001-01-01';

-- edge: microsecond timestamps
SELECT id, ts FROM sparse WHERE ts = '1999-12-31 23:59:59.999999';

-- edge: timestamptz compared with a literal in UTC
SELECT count(*) FROM devices WHERE registered >= '2021-01-01 00:00:00+00' AND registered < '2022-01-01 00:00:00+00';

-- edge: date_trunc on timestamptz grouped
SELECT date_trunc('year', registered) AS y, count(*) FROM devices GROUP BY 1;

-- edge: extreme uuids
SELECT device_id FROM devices WHERE device_id IN ('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff');

-- edge: booleans and NULL in ORDER BY with LIMIT
-- @ordered
SELECT tag, seq, flag FROM tag_events ORDER BY flag DESC NULLS FIRST, tag, seq LIMIT 10;

-- edge: overflow-safe arithmetic on bigint extremes via numeric
SELECT id, id::numeric + 1, -id::numeric FROM sparse WHERE id IN (-9223372036854775808, 9223372036854775807);

-- null: NULL-only aggregate result
SELECT max(i4), sum(i4), avg(i4), bool_and(b) FROM sparse WHERE i4 IS NULL;

-- null: array_agg keeps NULLs in order
SELECT array_agg(i2 ORDER BY id) FROM sparse WHERE id BETWEEN -20000000000 AND 20000000000;

-- null: string_agg skips NULLs
SELECT string_agg(txt, ';' ORDER BY id) FROM sparse WHERE id BETWEEN -50000000000 AND 50000000000;

-- null: jsonb NULL vs SQL NULL
SELECT count(*) FILTER (WHERE meta IS NULL), count(*) FILTER (WHERE meta->'missing' IS NULL), count(*) FILTER (WHERE meta ? 'fw') FROM devices;

-- null: CASE with NULL branches
SELECT CASE WHEN b THEN 'yes' WHEN NOT b THEN 'no' ELSE 'unknown' END AS v, count(*) FROM sparse GROUP BY 1;

-- null: NULL dates in date arithmetic
SELECT count(*) FROM sparse WHERE d + 30 > DATE '1995-01-01';

-- null: LEFT JOIN produces NULLs compared with IS DISTINCT FROM
SELECT count(*) FROM tag_events t LEFT JOIN customer c ON c.c_custkey = t.custkey WHERE c.c_nationkey IS DISTINCT FROM 5;
