-- ORDER BY, LIMIT and OFFSET across shards: per-shard top-N and a merge.
-- Only total orders are compared in order.

-- order: by the primary key
-- @ordered
SELECT o_orderkey, o_custkey, o_orderdate FROM orders ORDER BY o_orderkey;

-- order: by the primary key descending, LIMIT
-- @ordered
SELECT o_orderkey, o_totalprice FROM orders ORDER BY o_orderkey DESC LIMIT 10;

-- order: by a non-key column with a tie breaker, LIMIT
-- @ordered
SELECT o_orderkey, o_totalprice FROM orders ORDER BY o_totalprice DESC, o_orderkey LIMIT 15;

-- order: LIMIT and OFFSET
-- @ordered
SELECT l_orderkey, l_linenumber, l_extendedprice FROM lineitem ORDER BY l_extendedprice, l_orderkey, l_linenumber LIMIT 10 OFFSET 25;

-- order: OFFSET without LIMIT
-- @ordered
SELECT c_custkey FROM customer ORDER BY c_custkey OFFSET 590;

-- order: OFFSET past the end
-- @empty
SELECT c_custkey FROM customer ORDER BY c_custkey OFFSET 10000;

-- order: LIMIT 0
-- @empty
SELECT * FROM orders ORDER BY o_orderkey LIMIT 0;

-- order: LIMIT ALL
-- @ordered
SELECT s_suppkey FROM supplier ORDER BY s_suppkey LIMIT ALL;

-- order: text column, collation order, ties broken
-- @ordered
SELECT c_name, c_custkey FROM customer ORDER BY c_name LIMIT 20;

-- order: text with unicode and empty strings
-- @ordered
SELECT tag, seq FROM tag_events ORDER BY tag, seq LIMIT 40;

-- order: NULLS FIRST
-- @ordered
SELECT tag, seq, amount FROM tag_events ORDER BY amount NULLS FIRST, tag, seq LIMIT 30;

-- order: DESC NULLS LAST
-- @ordered
SELECT tag, seq, amount FROM tag_events ORDER BY amount DESC NULLS LAST, tag, seq LIMIT 30;

-- order: default NULL placement for DESC (NULLs first)
-- @ordered
SELECT id, i4 FROM sparse ORDER BY i4 DESC, id LIMIT 25;

-- order: by an expression not in the select list
-- @ordered
SELECT l_orderkey, l_linenumber FROM lineitem ORDER BY l_extendedprice * (1 - l_discount) DESC, l_orderkey, l_linenumber LIMIT 12;

-- order: by a column alias
-- @ordered
SELECT o_orderkey AS k, o_totalprice / 2 AS half FROM orders ORDER BY half, k LIMIT 10;

-- order: by ordinal
-- @ordered
SELECT p_partkey, p_retailprice FROM part ORDER BY 2 DESC, 1 LIMIT 7;

-- order: aggregate result, grouped by a non-distribution column, LIMIT
-- @ordered
SELECT l_partkey, sum(l_quantity) AS q FROM lineitem GROUP BY l_partkey ORDER BY q DESC, l_partkey LIMIT 10;

-- order: grouped by the distribution column, ORDER BY aggregate, LIMIT
-- @ordered
SELECT l_orderkey, sum(l_extendedprice) AS rev FROM lineitem GROUP BY l_orderkey ORDER BY rev DESC, l_orderkey LIMIT 10;

-- order: grouped by the distribution column, ORDER BY key, LIMIT OFFSET
-- @ordered
SELECT l_orderkey, count(*) FROM lineitem GROUP BY l_orderkey ORDER BY l_orderkey LIMIT 5 OFFSET 100;

-- order: float column with NaN, Infinity, -Infinity
-- @ordered
SELECT id, f8 FROM sparse WHERE f8 IS NOT NULL ORDER BY f8, id LIMIT 20;

-- order: float column descending (NaN sorts highest)
-- @ordered
SELECT id, f8 FROM sparse WHERE f8 IS NOT NULL ORDER BY f8 DESC, id LIMIT 20;

-- order: numeric with NaN and infinities
-- @ordered
SELECT id, num FROM sparse WHERE num IS NOT NULL ORDER BY num DESC, id LIMIT 15;

-- order: timestamps with infinities and BC
-- @ordered
SELECT id, ts FROM sparse WHERE ts IS NOT NULL ORDER BY ts, id LIMIT 10;

-- order: the bigint distribution column with its extremes
-- @ordered
SELECT id FROM sparse ORDER BY id LIMIT 5;

-- order: uuid distribution column
-- @ordered
SELECT device_id, kind FROM devices ORDER BY device_id LIMIT 10;

-- order: uuid descending
-- @ordered
SELECT device_id FROM devices ORDER BY device_id DESC LIMIT 5;

-- order: boolean then key
-- @ordered
SELECT id, b FROM sparse ORDER BY b NULLS FIRST, id LIMIT 10;

-- order: date then key with a filter
-- @ordered
SELECT o_orderkey, o_orderdate FROM orders WHERE o_orderstatus = 'P' ORDER BY o_orderdate, o_orderkey;

-- order: join result with LIMIT
-- @ordered
SELECT o.o_orderkey, l.l_linenumber, l.l_quantity FROM orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey ORDER BY l.l_quantity DESC, o.o_orderkey, l.l_linenumber LIMIT 10;

-- order: FETCH FIRST n ROWS ONLY
-- @ordered
SELECT p_partkey FROM part ORDER BY p_partkey FETCH FIRST 3 ROWS ONLY;

-- order: FETCH FIRST WITH TIES (ties included, multiset)
SELECT p_partkey, p_size FROM part ORDER BY p_size FETCH FIRST 3 ROWS WITH TIES;

-- order: ORDER BY without LIMIT on a non-total key (compared as multiset)
SELECT o_orderpriority, o_orderkey FROM orders WHERE o_orderkey < 300 ORDER BY o_orderpriority;

-- order: text with COLLATE "C"
-- @ordered
SELECT tag, seq FROM tag_events ORDER BY tag COLLATE "C" DESC, seq LIMIT 20;

-- order: LIMIT with a big OFFSET in a large table
-- @ordered
SELECT l_orderkey, l_linenumber FROM lineitem ORDER BY l_orderkey, l_linenumber LIMIT 3 OFFSET 11000;
