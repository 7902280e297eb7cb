-- GROUPING SETS, ROLLUP and CUBE (Citus refuses them across shards).

-- grouping sets: ROLLUP of two non-distribution columns
SELECT l_returnflag, l_linestatus, count(*), sum(l_quantity) FROM lineitem GROUP BY ROLLUP (l_returnflag, l_linestatus);

-- grouping sets: CUBE of two columns
SELECT o_orderstatus, o_orderpriority, count(*) FROM orders GROUP BY CUBE (o_orderstatus, o_orderpriority);

-- grouping sets: explicit GROUPING SETS with the empty set
SELECT l_shipmode, l_returnflag, count(*) FROM lineitem GROUP BY GROUPING SETS ((l_shipmode), (l_returnflag), ());

-- grouping sets: GROUPING() function
SELECT c_mktsegment, c_nationkey, GROUPING(c_mktsegment, c_nationkey), count(*) FROM customer GROUP BY ROLLUP (c_mktsegment, c_nationkey);

-- grouping sets: ROLLUP including the distribution column
SELECT l_orderkey, l_linenumber, sum(l_quantity) FROM lineitem WHERE l_orderkey < 100 GROUP BY ROLLUP (l_orderkey, l_linenumber);

-- grouping sets: CUBE with HAVING
SELECT p_mfgr, p_size % 3 AS m, count(*) FROM part GROUP BY CUBE (p_mfgr, p_size % 3) HAVING count(*) > 20;

-- grouping sets: ROLLUP with ORDER BY over a total key
-- @ordered
SELECT o_orderstatus, extract(year FROM o_orderdate) AS y, count(*) FROM orders GROUP BY ROLLUP (o_orderstatus, extract(year FROM o_orderdate)) ORDER BY o_orderstatus NULLS LAST, y NULLS LAST;

-- grouping sets: on a nullable column (NULL group and rolled-up NULL)
SELECT flag, GROUPING(flag), count(*) FROM tag_events GROUP BY ROLLUP (flag);

-- grouping sets: ROLLUP over a join with a reference table
SELECT r.r_name, n.n_name, count(*) FROM supplier s JOIN nation n ON n.n_nationkey = s.s_nationkey JOIN region r ON r.r_regionkey = n.n_regionkey GROUP BY ROLLUP (r.r_name, n.n_name);

-- grouping sets: CUBE over a non-co-located join
SELECT c.c_mktsegment, o.o_orderstatus, sum(o.o_totalprice) FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey GROUP BY CUBE (c.c_mktsegment, o.o_orderstatus);

-- grouping sets: several aggregates with DISTINCT
SELECT l_shipmode, count(DISTINCT l_suppkey), avg(l_discount) FROM lineitem GROUP BY GROUPING SETS ((l_shipmode), ());

-- grouping sets: string_agg per grouping set with inner ORDER BY
SELECT n_regionkey, string_agg(n_name, ',' ORDER BY n_name) FROM nation GROUP BY ROLLUP (n_regionkey);

-- grouping sets: combined GROUP BY column and ROLLUP
SELECT o_orderstatus, o_orderpriority, o_shippriority, count(*) FROM orders GROUP BY o_orderstatus, ROLLUP (o_orderpriority, o_shippriority);
