-- Joins that are not co-located: on a non-distribution column, or between
-- tables of different co-location groups. Citus refuses many of these
-- ("complex joins are only supported when all distributed tables are
-- co-located and joined on their distribution columns"); pgfed must answer.

-- noncolocated: orders join customer on o_custkey (customer distributed by c_custkey, other group)
SELECT o.o_orderkey, c.c_name FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey WHERE o.o_totalprice > 250000;

-- noncolocated: orders per market segment
SELECT c.c_mktsegment, count(*), sum(o.o_totalprice) FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey GROUP BY c.c_mktsegment;

-- noncolocated: lineitem join part on the part key
SELECT p.p_brand, sum(l.l_quantity) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey GROUP BY p.p_brand;

-- noncolocated: lineitem join supplier
SELECT s.s_name, count(*) FROM lineitem l JOIN supplier s ON s.s_suppkey = l.l_suppkey GROUP BY s.s_name;

-- noncolocated: lineitem join partsupp on both keys
SELECT count(*), sum(ps.ps_supplycost * l.l_quantity) FROM lineitem l JOIN partsupp ps ON ps.ps_partkey = l.l_partkey AND ps.ps_suppkey = l.l_suppkey;

-- noncolocated: partsupp join supplier
SELECT ps.ps_partkey, ps.ps_suppkey, s.s_nationkey FROM partsupp ps JOIN supplier s ON s.s_suppkey = ps.ps_suppkey WHERE ps.ps_availqty < 50;

-- noncolocated: five tables (orders, lineitem, customer, supplier, nation)
SELECT n.n_name, count(*) FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey JOIN lineitem l ON l.l_orderkey = o.o_orderkey JOIN supplier s ON s.s_suppkey = l.l_suppkey JOIN nation n ON n.n_nationkey = s.s_nationkey WHERE c.c_nationkey = s.s_nationkey GROUP BY n.n_name;

-- noncolocated: join on non-distribution columns of co-located tables
SELECT count(*) FROM orders o JOIN lineitem l ON l.l_partkey = o.o_custkey;

-- noncolocated: co-located tables joined on a distribution column and a non-distribution one
SELECT count(*) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_custkey;

-- noncolocated: self join of orders on a non-distribution column
SELECT a.o_custkey, count(*) FROM orders a JOIN orders b ON a.o_custkey = b.o_custkey AND a.o_orderkey < b.o_orderkey GROUP BY a.o_custkey;

-- noncolocated: text-distributed table joined with customer
SELECT t.tag, t.seq, c.c_name FROM tag_events t JOIN customer c ON c.c_custkey = t.custkey WHERE t.amount > 450;

-- noncolocated: uuid-distributed table joined with customer
SELECT c.c_mktsegment, count(*) FROM devices d JOIN customer c ON c.c_custkey = d.owner GROUP BY c.c_mktsegment;

-- noncolocated: bigint-distributed table joined with orders on okey
SELECT s.id, o.o_orderkey, o.o_orderstatus FROM sparse s JOIN orders o ON o.o_orderkey = s.okey;

-- noncolocated: join of two distributed tables on an inequality
SELECT s.s_suppkey, count(*) FROM supplier s JOIN customer c ON c.c_acctbal > s.s_acctbal + 9000 GROUP BY s.s_suppkey;

-- noncolocated: customer join supplier on nation (many-to-many)
SELECT c.c_nationkey, count(*) FROM customer c JOIN supplier s ON s.s_nationkey = c.c_nationkey GROUP BY c.c_nationkey;

-- noncolocated: join with ORDER BY LIMIT
-- @ordered
SELECT c.c_custkey, c.c_name, sum(o.o_totalprice) AS t FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey GROUP BY c.c_custkey, c.c_name ORDER BY t DESC, c.c_custkey LIMIT 10;

-- noncolocated: cross join of two small distributed filters
SELECT s.s_suppkey, p.p_partkey FROM supplier s CROSS JOIN part p WHERE s.s_suppkey < 3 AND p.p_partkey < 4;

-- noncolocated: join of subqueries aggregated on different keys
SELECT a.k, a.n, b.m FROM (SELECT o_custkey AS k, count(*) AS n FROM orders GROUP BY o_custkey) a JOIN (SELECT c_custkey AS k, c_acctbal AS m FROM customer) b ON a.k = b.k WHERE a.n > 7;

-- noncolocated: part join lineitem join orders (mixed co-location)
SELECT extract(year FROM o.o_orderdate) AS y, sum(l.l_extendedprice) FROM part p JOIN lineitem l ON l.l_partkey = p.p_partkey JOIN orders o ON o.o_orderkey = l.l_orderkey WHERE p.p_type LIKE '%BRASS' GROUP BY 1;

-- noncolocated: devices and tag_events joined through customer keys
SELECT d.kind, count(*) FROM devices d JOIN tag_events t ON t.custkey = d.owner GROUP BY d.kind;
