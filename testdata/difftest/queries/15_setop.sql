-- Set operations: UNION, INTERSECT, EXCEPT and their ALL forms, across
-- distributed, reference and local tables.

-- setop: UNION of two distributed tables (duplicates removed)
SELECT c_nationkey FROM customer UNION SELECT s_nationkey FROM supplier;

-- setop: UNION ALL keeps duplicates
SELECT c_nationkey FROM customer WHERE c_custkey < 50 UNION ALL SELECT s_nationkey FROM supplier;

-- setop: INTERSECT
SELECT o_custkey FROM orders WHERE o_orderpriority = '1-URGENT' INTERSECT SELECT o_custkey FROM orders WHERE o_orderpriority = '5-LOW';

-- setop: INTERSECT ALL
SELECT l_suppkey FROM lineitem WHERE l_shipmode = 'AIR' INTERSECT ALL SELECT l_suppkey FROM lineitem WHERE l_shipmode = 'RAIL';

-- setop: EXCEPT
SELECT c_custkey FROM customer EXCEPT SELECT o_custkey FROM orders;

-- setop: EXCEPT ALL
SELECT l_shipmode FROM lineitem WHERE l_orderkey < 500 EXCEPT ALL SELECT l_shipmode FROM lineitem WHERE l_orderkey < 400;

-- setop: UNION of the same table's shards by distribution column ranges
SELECT o_orderkey FROM orders WHERE o_orderkey < 100 UNION SELECT l_orderkey FROM lineitem WHERE l_orderkey < 100;

-- setop: UNION with a reference table
SELECT n_name AS name FROM nation UNION SELECT r_name FROM region;

-- setop: UNION ALL with ORDER BY LIMIT over the whole set
-- @ordered
(SELECT o_orderkey AS k, 'o' AS src FROM orders WHERE o_orderkey < 40) UNION ALL (SELECT l_orderkey, 'l' FROM lineitem WHERE l_orderkey < 10 AND l_linenumber = 1) ORDER BY k, src LIMIT 12;

-- setop: UNION of aggregates
SELECT 'orders' AS t, count(*) FROM orders UNION ALL SELECT 'lineitem', count(*) FROM lineitem UNION ALL SELECT 'nation', count(*) FROM nation;

-- setop: set operation inside a subquery, then aggregated
SELECT count(*) FROM (SELECT l_partkey FROM lineitem UNION SELECT ps_partkey FROM partsupp) u;

-- setop: nested set operations with parentheses
SELECT c_nationkey FROM customer EXCEPT (SELECT s_nationkey FROM supplier INTERSECT SELECT n_nationkey FROM nation WHERE n_regionkey = 1);

-- setop: UNION with NULLs (NULLs are equal for set operations)
SELECT custkey FROM tag_events WHERE tag = 'beta' UNION SELECT owner FROM devices WHERE kind = 'camera' AND (owner IS NULL OR owner < 30);

-- setop: INTERSECT of text columns with unicode
SELECT tag FROM tag_events INTERSECT SELECT txt FROM sparse;

-- setop: EXCEPT of uuid columns
SELECT device_id FROM devices EXCEPT SELECT device_id FROM devices WHERE kind <> 'meter';

-- setop: UNION of distributed and local table
SELECT c_mktsegment::text FROM customer UNION SELECT segment::text FROM segment_info;

-- setop: UNION ALL of different types (implicit casts)
SELECT o_orderkey::bigint FROM orders WHERE o_orderkey < 10 UNION ALL SELECT id FROM sparse WHERE id BETWEEN -1 AND 1;

-- setop: UNION with a VALUES list
SELECT s_suppkey FROM supplier WHERE s_suppkey < 4 UNION SELECT * FROM (VALUES (100), (2)) v(x);

-- setop: EXCEPT leaving nothing
-- @empty
SELECT o_orderkey FROM orders EXCEPT SELECT l_orderkey FROM lineitem;
