-- Joins of co-located distributed tables on their distribution columns:
-- pushed down shard by shard.

-- colocated: orders join lineitem on the order key
SELECT o.o_orderkey, o.o_orderdate, l.l_linenumber, l.l_quantity FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE l.l_quantity > 48;

-- colocated: join in the WHERE clause (comma syntax)
SELECT count(*), sum(l_extendedprice) FROM orders, lineitem WHERE l_orderkey = o_orderkey AND o_orderstatus = 'F';

-- colocated: join with an aggregate grouped by the distribution column
SELECT o.o_orderkey, o.o_totalprice, sum(l.l_extendedprice) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey GROUP BY o.o_orderkey, o.o_totalprice;

-- colocated: join with an aggregate grouped by another column
SELECT o.o_orderpriority, count(DISTINCT o.o_orderkey), sum(l.l_quantity) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey GROUP BY o.o_orderpriority;

-- colocated: part join partsupp on the part key
SELECT p.p_partkey, p.p_name, ps.ps_suppkey, ps.ps_supplycost FROM part p JOIN partsupp ps ON ps.ps_partkey = p.p_partkey WHERE p.p_size = 15;

-- colocated: part join partsupp, min cost per part
SELECT p.p_partkey, min(ps.ps_supplycost) FROM part p JOIN partsupp ps ON ps.ps_partkey = p.p_partkey GROUP BY p.p_partkey;

-- colocated: USING clause
SELECT count(*) FROM part JOIN partsupp ON p_partkey = ps_partkey JOIN (SELECT ps_partkey AS pk FROM partsupp WHERE ps_availqty > 9000) hi ON hi.pk = p_partkey;

-- colocated: self join on the distribution column
SELECT a.l_orderkey, a.l_linenumber, b.l_linenumber FROM lineitem a JOIN lineitem b ON a.l_orderkey = b.l_orderkey AND a.l_linenumber < b.l_linenumber WHERE a.l_orderkey < 200;

-- colocated: self join of orders on the key with an extra condition
SELECT count(*) FROM orders a JOIN orders b ON a.o_orderkey = b.o_orderkey AND a.o_custkey = b.o_custkey;

-- colocated: three-way join orders, lineitem, lineitem
SELECT o.o_orderkey, count(*) FROM orders o JOIN lineitem l1 ON l1.l_orderkey = o.o_orderkey JOIN lineitem l2 ON l2.l_orderkey = o.o_orderkey AND l2.l_linenumber = l1.l_linenumber + 1 GROUP BY o.o_orderkey;

-- colocated: join with ORDER BY LIMIT
-- @ordered
SELECT o.o_orderkey, sum(l.l_extendedprice * (1 - l.l_discount)) AS rev FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey GROUP BY o.o_orderkey ORDER BY rev DESC, o.o_orderkey LIMIT 10;

-- colocated: join with a subquery grouped by the distribution column
SELECT o.o_orderkey, t.n FROM orders o JOIN (SELECT l_orderkey, count(*) AS n FROM lineitem GROUP BY l_orderkey) t ON t.l_orderkey = o.o_orderkey WHERE t.n = 7;

-- colocated: join with the dist col equality written reversed and a filter on both
SELECT count(*) FROM lineitem l JOIN orders o ON o.o_orderkey = l.l_orderkey WHERE l.l_shipdate > o.o_orderdate + 100;

-- colocated: lines shipped after commit, per order status
SELECT o_orderstatus, count(*) FROM orders JOIN lineitem ON o_orderkey = l_orderkey WHERE l_commitdate < l_receiptdate GROUP BY o_orderstatus;

-- colocated: NATURAL-like join with explicit columns and DISTINCT
SELECT DISTINCT o.o_orderstatus, l.l_linestatus FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey;

-- colocated: join on the text distribution column (self join)
SELECT a.tag, a.seq, b.seq FROM tag_events a JOIN tag_events b ON a.tag = b.tag AND a.seq + 1 = b.seq WHERE a.tag LIKE 'a%' OR a.tag = '';

-- colocated: join on the uuid distribution column (self join)
SELECT count(*) FROM devices a JOIN devices b ON a.device_id = b.device_id WHERE a.kind = b.kind;

-- colocated: join on the bigint distribution column (self join) keeps extremes
SELECT a.id, b.i4 FROM sparse a JOIN sparse b ON a.id = b.id WHERE a.id IN (-9223372036854775808, 9223372036854775807);
