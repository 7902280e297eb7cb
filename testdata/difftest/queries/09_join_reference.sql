-- Joins with reference tables (region, nation): pushed down to every
-- shard of the distributed side.

-- reference: customer join nation
SELECT c.c_custkey, n.n_name FROM customer c JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE c.c_acctbal > 9500;

-- reference: customer join nation join region, counts per region
SELECT r.r_name, count(*) FROM customer c JOIN nation n ON n.n_nationkey = c.c_nationkey JOIN region r ON r.r_regionkey = n.n_regionkey GROUP BY r.r_name;

-- reference: supplier join nation filtered on the reference side
SELECT s.s_suppkey, s.s_name FROM supplier s JOIN nation n ON s.s_nationkey = n.n_nationkey WHERE n.n_name IN ('FRANCE', 'GERMANY', 'CANADA');

-- reference: two reference tables only
SELECT n.n_name, r.r_name FROM nation n JOIN region r ON r.r_regionkey = n.n_regionkey;

-- reference: reference table aggregated
SELECT n_regionkey, count(*), string_agg(n_name, ',' ORDER BY n_name) FROM nation GROUP BY n_regionkey;

-- reference: co-located join plus a reference table
SELECT n.n_name, sum(l.l_extendedprice) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey JOIN nation n ON n.n_nationkey = o.o_custkey % 25 GROUP BY n.n_name;

-- reference: reference table on the left of a LEFT JOIN to a distributed table
SELECT n.n_name, count(s.s_suppkey) FROM nation n LEFT JOIN supplier s ON s.s_nationkey = n.n_nationkey GROUP BY n.n_name;

-- reference: distributed LEFT JOIN reference
SELECT c.c_custkey, r.r_name FROM customer c LEFT JOIN nation n ON n.n_nationkey = c.c_nationkey LEFT JOIN region r ON r.r_regionkey = n.n_regionkey AND r.r_name = 'ASIA' WHERE c.c_custkey < 40;

-- reference: join on a non-equality condition with a reference table
SELECT c.c_custkey, count(*) FROM customer c JOIN nation n ON n.n_nationkey < c.c_nationkey WHERE c.c_custkey < 30 GROUP BY c.c_custkey;

-- reference: cross join with a reference table
SELECT s.s_suppkey, r.r_regionkey FROM supplier s CROSS JOIN region r WHERE s.s_suppkey <= 4;

-- reference: router query joined with a reference table
SELECT o.o_orderkey, n.n_name FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE o.o_orderkey = 1;

-- reference: semi join into a reference table
SELECT count(*) FROM customer WHERE c_nationkey IN (SELECT n_nationkey FROM nation WHERE n_regionkey = 3);

-- reference: nation names of suppliers with ORDER BY LIMIT
-- @ordered
SELECT s.s_suppkey, n.n_name FROM supplier s JOIN nation n ON n.n_nationkey = s.s_nationkey ORDER BY n.n_name, s.s_suppkey LIMIT 10;
