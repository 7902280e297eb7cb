-- Correlated and scalar subqueries, subqueries in FROM. Citus refuses
-- correlated subqueries that are not on the distribution column.

-- scalar: uncorrelated scalar subquery in WHERE
SELECT o_orderkey FROM orders WHERE o_totalprice > (SELECT avg(o_totalprice) * 2 FROM orders);

-- scalar: uncorrelated scalar subquery in the select list
SELECT s_suppkey, s_acctbal - (SELECT avg(s_acctbal) FROM supplier) FROM supplier;

-- scalar: scalar subquery returning NULL
SELECT count(*) FROM orders WHERE o_orderkey = (SELECT max(l_orderkey) FROM lineitem WHERE l_quantity > 1000) OR o_orderkey = 1;

-- scalar: scalar subquery on a reference table
SELECT c_custkey FROM customer WHERE c_nationkey = (SELECT n_nationkey FROM nation WHERE n_name = 'JAPAN');

-- correlated: scalar subquery on the distribution column (co-located)
SELECT o_orderkey, (SELECT count(*) FROM lineitem l WHERE l.l_orderkey = o.o_orderkey) FROM orders o WHERE o_orderdate < DATE '1992-03-01';

-- correlated: scalar subquery on a non-distribution column
SELECT c_custkey, (SELECT max(o_orderdate) FROM orders o WHERE o.o_custkey = c.c_custkey) FROM customer c;

-- correlated: in WHERE, on a non-distribution column
SELECT o_orderkey FROM orders o WHERE o_totalprice > (SELECT 1.8 * avg(o2.o_totalprice) FROM orders o2 WHERE o2.o_custkey = o.o_custkey);

-- correlated: TPC-H Q17 shape (lineitem vs part average)
SELECT sum(l_extendedprice) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey WHERE p.p_size < 5 AND l.l_quantity < (SELECT 0.5 * avg(l2.l_quantity) FROM lineitem l2 WHERE l2.l_partkey = p.p_partkey);

-- correlated: subquery in the select list using a reference table
SELECT s_suppkey, (SELECT n_name FROM nation WHERE n_nationkey = s_nationkey) FROM supplier;

-- correlated: two levels deep
SELECT c_custkey FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = c.c_custkey AND EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey AND l.l_suppkey = c.c_nationkey + 1));

-- correlated: subquery with ORDER BY LIMIT 1 inside (total order)
SELECT c_custkey, (SELECT o_orderkey FROM orders o WHERE o.o_custkey = c.c_custkey ORDER BY o_totalprice DESC, o_orderkey LIMIT 1) FROM customer c WHERE c_custkey < 100;

-- correlated: ARRAY subquery
SELECT p_partkey, ARRAY(SELECT ps_suppkey FROM partsupp WHERE ps_partkey = p_partkey ORDER BY ps_suppkey) FROM part WHERE p_partkey < 30;

-- from: subquery in FROM with aggregate
SELECT avg(n) FROM (SELECT l_orderkey, count(*) AS n FROM lineitem GROUP BY l_orderkey) s;

-- from: subquery in FROM grouped by a non-distribution column, re-aggregated
SELECT max(total), min(total) FROM (SELECT o_custkey, sum(o_totalprice) AS total FROM orders GROUP BY o_custkey) s;

-- from: subquery with LIMIT in FROM (total order)
SELECT sum(o_totalprice) FROM (SELECT o_totalprice FROM orders ORDER BY o_totalprice DESC, o_orderkey LIMIT 50) s;

-- from: nested subqueries
SELECT k, n FROM (SELECT k, count(*) AS n FROM (SELECT o_custkey % 7 AS k FROM orders) a GROUP BY k) b WHERE n > 400;

-- from: subquery joined with a distributed table
SELECT c.c_name, s.n FROM customer c JOIN (SELECT o_custkey, count(*) AS n FROM orders GROUP BY o_custkey HAVING count(*) > 9) s ON s.o_custkey = c.c_custkey;

-- scalar: subquery as an argument of a function
SELECT round((SELECT sum(l_extendedprice) FROM lineitem) / (SELECT count(*) FROM orders), 2);

-- scalar: comparison with a scalar subquery on the distribution column
SELECT l_linenumber FROM lineitem WHERE l_orderkey = (SELECT min(o_orderkey) FROM orders WHERE o_orderstatus = 'P');

-- correlated: with NULLs in the correlation column
SELECT tag, seq, (SELECT c_name FROM customer WHERE c_custkey = t.custkey) FROM tag_events t WHERE tag LIKE 't01%';

-- correlated: NOT EXISTS correlated on two columns
SELECT count(*) FROM partsupp ps WHERE NOT EXISTS (SELECT 1 FROM lineitem l WHERE l.l_partkey = ps.ps_partkey AND l.l_suppkey = ps.ps_suppkey);

-- scalar: CASE with a subquery
SELECT p_partkey, CASE WHEN p_retailprice > (SELECT avg(p_retailprice) FROM part) THEN 'above' ELSE 'below' END FROM part WHERE p_partkey < 50;
