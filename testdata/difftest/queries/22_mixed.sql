-- Harder mixtures: several of the features above in one statement, cross-
-- type joins, column naming, subqueries in unusual places.

-- mixed: cross-type join int4 = int8 (orders by int4, sparse by int8)
SELECT o.o_orderkey, s.id FROM orders o JOIN sparse s ON s.id = o.o_orderkey;

-- mixed: the text distribution column joined with a varchar column of the same table
SELECT a.tag, b.tag, count(*) FROM tag_events a JOIN tag_events b ON a.tag = b.label GROUP BY a.tag, b.tag;

-- mixed: uuid cast to text in a join condition
SELECT count(*) FROM devices a JOIN devices b ON a.device_id::text = b.device_id::text;

-- mixed: SELECT * over a join with duplicate column names
SELECT * FROM region r1 JOIN region r2 ON r1.r_regionkey = r2.r_regionkey;

-- mixed: unnamed columns (?column?) and duplicate output names
SELECT o_orderkey + 0, o_orderkey * 1, count(*) AS n, count(*) AS n FROM orders WHERE o_orderkey < 20 GROUP BY o_orderkey;

-- mixed: correlated subquery in HAVING
SELECT o_custkey, count(*) FROM orders o GROUP BY o_custkey HAVING count(*) > (SELECT count(*) / 200 FROM orders o2 WHERE o2.o_orderpriority = '1-URGENT');

-- mixed: subquery in ORDER BY
-- @ordered
SELECT s_suppkey FROM supplier ORDER BY (SELECT count(*) FROM partsupp WHERE ps_suppkey = s_suppkey) DESC, s_suppkey LIMIT 10;

-- mixed: EXISTS in the select list
SELECT c_custkey, EXISTS (SELECT 1 FROM orders WHERE o_custkey = c_custkey) AS has_orders FROM customer WHERE c_custkey < 50;

-- mixed: IN (subquery with ORDER BY LIMIT)
SELECT count(*) FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM orders ORDER BY o_totalprice DESC, o_orderkey LIMIT 25);

-- mixed: LIMIT given by a scalar subquery
-- @ordered
SELECT o_orderkey FROM orders ORDER BY o_orderkey LIMIT (SELECT count(*) FROM region);

-- mixed: OFFSET NULL and LIMIT NULL mean none
-- @ordered
SELECT r_regionkey FROM region ORDER BY r_regionkey LIMIT NULL OFFSET NULL;

-- mixed: count(DISTINCT) of a row value
SELECT count(DISTINCT (l_returnflag, l_linestatus)) FROM lineitem;

-- mixed: string_agg(DISTINCT) with ORDER BY
SELECT string_agg(DISTINCT l_shipmode, ',' ORDER BY l_shipmode) FROM lineitem;

-- mixed: two count(DISTINCT) of different columns without GROUP BY
SELECT count(DISTINCT o_custkey), count(DISTINCT o_orderdate), count(DISTINCT o_clerk) FROM orders;

-- mixed: count(DISTINCT) and a plain aggregate grouped by a non-distribution column
SELECT o_orderpriority, count(DISTINCT o_custkey), sum(o_totalprice) FROM orders GROUP BY o_orderpriority;

-- mixed: aggregate over a UNION ALL of two distributed tables
SELECT k % 10 AS d, count(*) FROM (SELECT o_orderkey AS k FROM orders UNION ALL SELECT c_custkey FROM customer) u GROUP BY 1;

-- mixed: window over a non-co-located join
SELECT c.c_custkey, o.o_orderkey, rank() OVER (PARTITION BY c.c_mktsegment ORDER BY o.o_totalprice DESC) FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey WHERE o.o_orderdate < DATE '1992-03-01';

-- mixed: window with a GROUPS frame
SELECT o_orderkey, sum(o_totalprice) OVER (ORDER BY o_orderdate GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM orders WHERE o_orderdate < DATE '1992-02-01';

-- mixed: window with EXCLUDE CURRENT ROW
SELECT l_orderkey, l_linenumber, count(*) OVER (PARTITION BY l_orderkey ORDER BY l_linenumber ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) FROM lineitem WHERE l_orderkey < 100;

-- mixed: DISTINCT ON an expression with LIMIT
-- @ordered
SELECT DISTINCT ON (extract(year FROM o_orderdate)) extract(year FROM o_orderdate) AS y, o_orderkey, o_totalprice FROM orders ORDER BY extract(year FROM o_orderdate), o_totalprice DESC, o_orderkey LIMIT 5;

-- mixed: LATERAL over a non-co-located table with aggregation
SELECT s.s_suppkey, x.n, x.q FROM supplier s, LATERAL (SELECT count(*) AS n, sum(l_quantity) AS q FROM lineitem l WHERE l.l_suppkey = s.s_suppkey) x;

-- mixed: recursive CTE whose recursive term joins two distributed tables
WITH RECURSIVE r(custkey, orderkey, depth) AS (
    SELECT c_custkey, 0, 0 FROM customer WHERE c_custkey = 1
    UNION ALL
    SELECT o.o_custkey + 1, o.o_orderkey, r.depth + 1 FROM r JOIN orders o ON o.o_custkey = r.custkey WHERE r.depth < 3
)
SELECT depth, count(*), count(DISTINCT orderkey) FROM r GROUP BY depth;

-- mixed: GROUPING SETS on the distribution column and another
SELECT o_orderkey % 4 AS m, o_orderstatus, count(*) FROM orders GROUP BY GROUPING SETS ((o_orderkey % 4), (o_orderstatus), (o_orderkey % 4, o_orderstatus));

-- mixed: CTE referenced from a correlated subquery
WITH seg AS (SELECT c_mktsegment, avg(c_acctbal) AS a FROM customer GROUP BY c_mktsegment)
SELECT c_custkey FROM customer c WHERE c_acctbal > (SELECT a FROM seg WHERE seg.c_mktsegment = c.c_mktsegment) + 4000;

-- mixed: full join with USING and COALESCE of the merged key
SELECT ps_partkey, count(*) FROM (SELECT ps_partkey FROM partsupp WHERE ps_availqty < 100) a FULL JOIN (SELECT p_partkey AS ps_partkey FROM part WHERE p_size = 1) b USING (ps_partkey) GROUP BY ps_partkey;

-- mixed: NATURAL JOIN of subqueries
SELECT count(*) FROM (SELECT o_orderkey AS k, o_custkey AS c FROM orders) a NATURAL JOIN (SELECT l_orderkey AS k, l_partkey AS p FROM lineitem) b;

-- mixed: aggregate with FILTER and ORDER BY inside, per group
SELECT o_orderstatus, array_agg(o_orderkey ORDER BY o_orderkey) FILTER (WHERE o_totalprice > 280000) FROM orders GROUP BY o_orderstatus;

-- mixed: jsonb_agg of whole rows with ORDER BY
SELECT jsonb_agg(r ORDER BY r.r_regionkey) FROM region r;

-- mixed: row_to_json of a distributed row
SELECT row_to_json(s) FROM supplier s WHERE s_suppkey IN (1, 2);

-- mixed: json_agg of a join, per group, with ORDER BY
SELECT n.n_regionkey, json_agg(json_build_object('s', s.s_suppkey, 'n', n.n_name) ORDER BY s.s_suppkey) FROM supplier s JOIN nation n ON n.n_nationkey = s.s_nationkey GROUP BY n.n_regionkey;

-- mixed: scalar subquery over a set operation
SELECT (SELECT count(*) FROM (SELECT c_nationkey FROM customer INTERSECT SELECT s_nationkey FROM supplier) x) AS common;

-- mixed: VALUES joined with the uuid table by cast
SELECT v.id, d.kind FROM (VALUES ('00000000-0000-0000-0000-000000000000'), ('ffffffff-ffff-ffff-ffff-ffffffffffff'), ('12345678-1234-1234-1234-123456789012')) v(id) LEFT JOIN devices d ON d.device_id = v.id::uuid;

-- mixed: ORDER BY on a text column with a non-default collation and LIMIT
-- @ordered
SELECT c_name FROM customer ORDER BY c_name COLLATE "C" DESC LIMIT 5;

-- mixed: an aggregate over a DISTINCT ON subquery
SELECT count(*), sum(o_totalprice) FROM (SELECT DISTINCT ON (o_custkey) o_custkey, o_totalprice FROM orders ORDER BY o_custkey, o_orderdate DESC, o_orderkey) s;

-- mixed: anti join through LEFT JOIN ... IS NULL across co-location groups
SELECT count(*) FROM part p LEFT JOIN partsupp ps ON ps.ps_partkey = p.p_partkey AND ps.ps_suppkey = 1 WHERE ps.ps_partkey IS NULL;

-- mixed: sum of integers grouped on the distribution column then combined across groups
SELECT sum(n), max(n) FROM (SELECT l_orderkey, count(*) AS n FROM lineitem GROUP BY l_orderkey) s;

-- mixed: integer sums per non-distribution group (bigint result type)
SELECT l_linestatus, sum(l_linenumber), sum(CASE WHEN l_returnflag = 'R' THEN 1 ELSE 0 END) FROM lineitem GROUP BY l_linestatus;

-- mixed: avg of bigint and smallint (numeric result)
SELECT avg(i8), avg(i2), sum(i2) FROM sparse WHERE i8 BETWEEN -1000000000000000 AND 1000000000000000;

-- mixed: a query on no table
SELECT 1 + 1 AS two, 'x' || 'y' AS xy;

-- mixed: generate_series and a distributed table in a scalar subquery
SELECT g, (SELECT count(*) FROM lineitem WHERE l_linenumber = g) FROM generate_series(1, 8) g;
