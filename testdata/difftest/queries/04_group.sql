-- GROUP BY and HAVING: grouped by the distribution column (pushed down
-- whole) and by other columns (partial aggregates combined on the
-- coordinator).

-- group: by the distribution column
SELECT l_orderkey, count(*), sum(l_quantity) FROM lineitem GROUP BY l_orderkey;

-- group: by the distribution column with HAVING (HAVING pushed down)
SELECT l_orderkey, sum(l_extendedprice) FROM lineitem GROUP BY l_orderkey HAVING sum(l_quantity) > 200;

-- group: by a non-distribution column
SELECT l_shipmode, count(*), avg(l_quantity), min(l_discount), max(l_tax) FROM lineitem GROUP BY l_shipmode;

-- group: by two non-distribution columns
SELECT l_returnflag, l_linestatus, count(*), sum(l_extendedprice) FROM lineitem GROUP BY l_returnflag, l_linestatus;

-- group: by a non-distribution column with HAVING on the coordinator
SELECT o_custkey, count(*) FROM orders GROUP BY o_custkey HAVING count(*) > 8;

-- group: HAVING on an aggregate not in the select list
SELECT o_orderpriority FROM orders GROUP BY o_orderpriority HAVING avg(o_totalprice) > 100000;

-- group: HAVING on a grouping column
SELECT c_nationkey, count(*) FROM customer GROUP BY c_nationkey HAVING c_nationkey < 5;

-- group: HAVING with OR of aggregates
SELECT p_brand, count(*), max(p_retailprice) FROM part GROUP BY p_brand HAVING count(*) > 20 OR max(p_retailprice) > 1290;

-- group: by an expression
SELECT extract(year FROM o_orderdate) AS y, count(*), sum(o_totalprice) FROM orders GROUP BY extract(year FROM o_orderdate);

-- group: by ordinal position
SELECT substr(c_phone, 1, 2), count(*) FROM customer GROUP BY 1;

-- group: by an alias
SELECT date_trunc('month', o_orderdate) AS m, count(*) AS n FROM orders WHERE o_orderdate < DATE '1993-01-01' GROUP BY m;

-- group: distribution column plus another column
SELECT l_orderkey, l_returnflag, count(*) FROM lineitem GROUP BY l_orderkey, l_returnflag;

-- group: expression of the distribution column (not the column itself)
SELECT l_orderkey % 10 AS bucket, count(*), sum(l_quantity) FROM lineitem GROUP BY l_orderkey % 10;

-- group: count(DISTINCT) per group on a non-distribution key
SELECT l_shipmode, count(DISTINCT l_orderkey), count(DISTINCT l_partkey) FROM lineitem GROUP BY l_shipmode;

-- group: count(DISTINCT) per distribution-column group
SELECT l_orderkey, count(DISTINCT l_shipmode) FROM lineitem GROUP BY l_orderkey HAVING count(DISTINCT l_shipmode) > 4;

-- group: string_agg per group with inner ORDER BY
SELECT o_orderpriority, string_agg(o_orderkey::text, ',' ORDER BY o_orderkey) FROM orders WHERE o_totalprice > 250000 GROUP BY o_orderpriority;

-- group: array_agg per group on the distribution column
SELECT l_orderkey, array_agg(l_linenumber ORDER BY l_linenumber) FROM lineitem WHERE l_orderkey < 200 GROUP BY l_orderkey;

-- group: json_agg per group with ORDER BY inside
SELECT s_nationkey, json_agg(s_suppkey ORDER BY s_suppkey) FROM supplier GROUP BY s_nationkey;

-- group: bool_or and bit_or per group
SELECT p_size % 5 AS m, bool_or(p_retailprice > 1250), bit_or(p_size) FROM part GROUP BY p_size % 5;

-- group: by a nullable column (NULL forms its own group)
SELECT flag, count(*), sum(amount) FROM tag_events GROUP BY flag;

-- group: by two nullable columns
SELECT label, flag, count(*) FROM tag_events GROUP BY label, flag;

-- group: by the text distribution column
SELECT tag, count(*), max(seq), sum(amount) FROM tag_events GROUP BY tag;

-- group: by the uuid distribution column
SELECT device_id, count(*) FROM devices GROUP BY device_id HAVING count(*) = 1 AND max(owner) < 50;

-- group: by the bigint distribution column with NULL-heavy values
SELECT id, count(i4), max(txt) FROM sparse WHERE id < 0 GROUP BY id;

-- group: by a numeric column with NaN
SELECT num, count(*) FROM sparse WHERE num IS NULL OR num = 'NaN' OR num > 900 GROUP BY num;

-- group: by a float column with NaN, Infinity and -0
SELECT f8, count(*) FROM sparse GROUP BY f8 HAVING count(*) > 1;

-- group: by a boolean
SELECT b, count(*), count(txt) FROM sparse GROUP BY b;

-- group: by a constant-only expression
SELECT 'all' AS g, count(*) FROM orders GROUP BY 1;

-- group: GROUP BY on the primary key with extra selected columns (functional dependency)
SELECT c_custkey, c_name, count(o_orderkey) FROM customer LEFT JOIN orders ON o_custkey = c_custkey WHERE c_custkey < 60 GROUP BY c_custkey;

-- group: avg of integers per group (numeric scale)
SELECT s_nationkey, avg(s_acctbal), avg(s_suppkey) FROM supplier GROUP BY s_nationkey;

-- group: jsonb key grouping
SELECT meta->>'fw' AS fw, count(*) FROM devices GROUP BY meta->>'fw';

-- group: unnest of an array then group
SELECT t, count(*) FROM devices, unnest(tags) AS t GROUP BY t;

-- group: HAVING count(*) = 0 never holds
-- @empty
SELECT l_shipmode FROM lineitem GROUP BY l_shipmode HAVING count(*) = 0;

-- group: GROUP BY with ORDER BY on an aggregate (total: ties broken by the key)
-- @ordered
SELECT o_custkey, sum(o_totalprice) AS s FROM orders GROUP BY o_custkey ORDER BY s DESC, o_custkey;

-- group: sum per group of numeric products
SELECT l_suppkey, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) FROM lineitem GROUP BY l_suppkey;

-- group: having with a subquery
SELECT l_suppkey, count(*) FROM lineitem GROUP BY l_suppkey HAVING count(*) > (SELECT count(*) / 40 FROM lineitem);

-- group: min/max per group of dates
SELECT o_orderstatus, min(o_orderdate), max(o_orderdate) FROM orders GROUP BY o_orderstatus;

-- group: per-group percentiles
SELECT l_returnflag, percentile_disc(0.9) WITHIN GROUP (ORDER BY l_extendedprice) FROM lineitem GROUP BY l_returnflag;
