-- Multi-shard scans: filters and projections pushed to every shard, rows
-- gathered unchanged.

-- scan: whole table, every column
SELECT * FROM region;

-- scan: whole distributed table
SELECT * FROM supplier;

-- scan: projection of a few columns from a large table
SELECT l_orderkey, l_linenumber, l_shipdate FROM lineitem;

-- scan: filter on a non-distribution column
SELECT o_orderkey, o_totalprice FROM orders WHERE o_totalprice > 300000;

-- scan: range filter on a date
SELECT o_orderkey FROM orders WHERE o_orderdate BETWEEN DATE '1995-01-01' AND DATE '1995-01-31';

-- scan: range filter on the distribution column (no pruning by hash)
SELECT o_orderkey, o_custkey FROM orders WHERE o_orderkey BETWEEN 100 AND 200;

-- scan: inequality on the distribution column
SELECT count(*) FROM lineitem WHERE l_orderkey <> 1;

-- scan: LIKE filter
SELECT p_partkey, p_name FROM part WHERE p_name LIKE '%green%';

-- scan: ILIKE and NOT LIKE
SELECT c_custkey FROM customer WHERE c_comment ILIKE '%CUSTOMER%' AND c_name NOT LIKE '%1';

-- scan: computed columns with arithmetic
SELECT l_orderkey, l_linenumber, l_extendedprice * (1 - l_discount) AS net, l_extendedprice * (1 - l_discount) * (1 + l_tax) AS gross FROM lineitem WHERE l_quantity < 3;

-- scan: CASE expression
SELECT o_orderkey, CASE WHEN o_totalprice > 200000 THEN 'big' WHEN o_totalprice > 100000 THEN 'mid' ELSE 'small' END AS size FROM orders WHERE o_orderdate < DATE '1992-03-01';

-- scan: string functions in the projection
SELECT s_suppkey, lower(s_name), length(s_comment), substr(s_phone, 1, 2) FROM supplier;

-- scan: OR of non-distribution predicates
SELECT l_orderkey, l_linenumber FROM lineitem WHERE l_shipmode = 'AIR' OR l_quantity = 50;

-- scan: NOT and parentheses
SELECT c_custkey FROM customer WHERE NOT (c_mktsegment = 'BUILDING' OR c_acctbal < 0);

-- scan: IN list on a non-distribution column
SELECT o_orderkey FROM orders WHERE o_orderpriority IN ('1-URGENT', '2-HIGH') AND o_orderdate >= DATE '1998-01-01';

-- scan: filter matching nothing
-- @empty
SELECT * FROM lineitem WHERE l_quantity > 1000;

-- scan: WHERE false
-- @empty
SELECT * FROM orders WHERE false;

-- scan: constant projection with a filter
SELECT 1 AS one, 'x' AS x FROM part WHERE p_size = 1;

-- scan: column aliases and quoted identifiers
SELECT p_partkey AS "Part Key", p_brand AS "brand" FROM part WHERE p_size > 48;

-- scan: date arithmetic and extract
SELECT l_orderkey, l_linenumber, l_receiptdate - l_shipdate AS days, extract(year FROM l_shipdate) AS y FROM lineitem WHERE l_receiptdate - l_shipdate > 28;

-- scan: type casts in projection
SELECT o_orderkey::text || '-' || o_custkey::text AS k, o_totalprice::int AS rounded, o_orderdate::timestamp AS ts FROM orders WHERE o_custkey < 5;

-- scan: table with a text distribution column
SELECT tag, seq, amount FROM tag_events WHERE amount > 400;

-- scan: table with a uuid distribution column
SELECT device_id, kind FROM devices WHERE kind = 'gateway';

-- scan: NULL-heavy bigint table, all rows
SELECT * FROM sparse;

-- scan: jsonb operators
SELECT device_id, meta->>'fw' AS fw, (meta->>'zone')::int AS zone FROM devices WHERE meta @> '{"ok": true}';

-- scan: array column operators
SELECT device_id, tags, cardinality(tags) FROM devices WHERE 'beta' = ANY (tags);

-- scan: TABLE shorthand
TABLE nation;

-- scan: numeric filter with rounding
SELECT ps_partkey, ps_suppkey, round(ps_supplycost / 3, 3) FROM partsupp WHERE ps_supplycost < 20;

-- scan: regular expression
SELECT c_custkey, c_phone FROM customer WHERE c_phone ~ '^1[0-4]-9';

-- scan: IS DISTINCT FROM on a nullable column
SELECT tag, seq FROM tag_events WHERE flag IS DISTINCT FROM true;
