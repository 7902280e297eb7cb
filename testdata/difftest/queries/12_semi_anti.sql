-- Semi and anti joins: EXISTS, NOT EXISTS, IN, NOT IN (with NULLs, where
-- NOT IN returns nothing), ANY and ALL.

-- semi: EXISTS co-located on the order key
SELECT o_orderkey FROM orders o WHERE EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey AND l.l_quantity > 49);

-- anti: NOT EXISTS co-located on the order key
SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey AND l.l_returnflag = 'R');

-- semi: EXISTS on a non-distribution column (customers with orders)
SELECT c_custkey FROM customer c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = c.c_custkey AND o.o_orderpriority = '1-URGENT');

-- anti: NOT EXISTS on a non-distribution column (customers without orders)
SELECT c_custkey, c_name FROM customer c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = c.c_custkey);

-- semi: IN subquery on the distribution column
SELECT o_orderkey, o_totalprice FROM orders WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem WHERE l_discount = 0.10 AND l_tax = 0.08);

-- semi: IN subquery on a non-distribution column
SELECT p_partkey FROM part WHERE p_partkey IN (SELECT l_partkey FROM lineitem WHERE l_shipmode = 'MAIL' AND l_quantity = 1);

-- anti: NOT IN subquery without NULLs
SELECT count(*) FROM part WHERE p_partkey NOT IN (SELECT l_partkey FROM lineitem WHERE l_quantity > 40);

-- anti: NOT IN subquery with a NULL in it (no row qualifies)
-- @empty
SELECT o_orderkey FROM orders WHERE o_orderkey NOT IN (SELECT okey FROM sparse);

-- anti: NOT IN subquery with NULLs filtered out
SELECT count(*) FROM orders WHERE o_orderkey NOT IN (SELECT okey FROM sparse WHERE okey IS NOT NULL);

-- anti: NOT IN where the outer column is NULL for some rows
SELECT count(*) FROM tag_events WHERE custkey NOT IN (SELECT c_custkey FROM customer WHERE c_nationkey = 3);

-- semi: IN with a NULL in the list
SELECT count(*) FROM tag_events WHERE custkey IN (1, 2, 3, NULL);

-- anti: NOT IN with a NULL in the list
-- @empty
SELECT tag FROM tag_events WHERE custkey NOT IN (1, 2, NULL);

-- semi: = ANY (subquery)
SELECT s_suppkey FROM supplier WHERE s_nationkey = ANY (SELECT c_nationkey FROM customer WHERE c_acctbal > 9900);

-- semi: > ALL (subquery)
SELECT o_orderkey FROM orders WHERE o_totalprice > ALL (SELECT o_totalprice FROM orders WHERE o_orderpriority = '5-LOW' AND o_orderdate < DATE '1993-01-01');

-- semi: <> ALL with NULLs (unknown makes it false)
SELECT count(*) FROM customer WHERE c_custkey <> ALL (SELECT custkey FROM tag_events WHERE tag = 'beta');

-- semi: EXISTS with an uncorrelated subquery
SELECT count(*) FROM supplier WHERE EXISTS (SELECT 1 FROM orders WHERE o_orderkey = 1);

-- anti: NOT EXISTS uncorrelated and false
-- @empty
SELECT s_suppkey FROM supplier WHERE NOT EXISTS (SELECT 1 FROM lineitem);

-- semi: EXISTS against a reference table
SELECT count(*) FROM supplier s WHERE EXISTS (SELECT 1 FROM nation n WHERE n.n_nationkey = s.s_nationkey AND n.n_regionkey = 2);

-- semi: IN on the uuid distribution column
SELECT count(*) FROM devices WHERE device_id IN (SELECT device_id FROM devices WHERE kind = 'meter');

-- semi: IN on the text distribution column, from another table
SELECT count(*) FROM tag_events WHERE tag IN (SELECT txt FROM sparse);

-- anti: NOT EXISTS on a text column with unicode
SELECT tag, seq FROM tag_events t WHERE NOT EXISTS (SELECT 1 FROM tag_events u WHERE u.tag = t.tag AND u.seq = t.seq + 1);

-- semi: row-valued IN
SELECT count(*) FROM lineitem WHERE (l_partkey, l_suppkey) IN (SELECT ps_partkey, ps_suppkey FROM partsupp WHERE ps_availqty > 9500);

-- anti: row-valued NOT IN
SELECT count(*) FROM partsupp WHERE (ps_partkey, ps_suppkey) NOT IN (SELECT l_partkey, l_suppkey FROM lineitem);

-- semi: EXISTS combined with OR
SELECT count(*) FROM customer c WHERE c.c_acctbal < 0 OR EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = c.c_custkey AND o.o_totalprice > 300000);
