-- Outer joins: LEFT, RIGHT and FULL, co-located and not; NULL-extended
-- rows must appear exactly as in PostgreSQL.

-- outer: customers without orders (left join, non-co-located)
SELECT c.c_custkey FROM customer c LEFT JOIN orders o ON o.o_custkey = c.c_custkey WHERE o.o_orderkey IS NULL;

-- outer: order count per customer including zero
SELECT c.c_custkey, count(o.o_orderkey) FROM customer c LEFT JOIN orders o ON o.o_custkey = c.c_custkey GROUP BY c.c_custkey;

-- outer: co-located left join with a condition in ON
SELECT o.o_orderkey, l.l_linenumber FROM orders o LEFT JOIN lineitem l ON l.l_orderkey = o.o_orderkey AND l.l_quantity > 49 WHERE o.o_orderkey < 300;

-- outer: co-located right join
SELECT o.o_orderkey, l.l_orderkey, l.l_linenumber FROM orders o RIGHT JOIN lineitem l ON l.l_orderkey = o.o_orderkey AND o.o_orderstatus = 'P' WHERE l.l_orderkey < 200;

-- outer: co-located full join with filters on both sides
SELECT o.o_orderkey, l.l_orderkey FROM (SELECT * FROM orders WHERE o_orderdate < DATE '1992-02-01') o FULL JOIN (SELECT * FROM lineitem WHERE l_quantity > 47) l ON l.l_orderkey = o.o_orderkey;

-- outer: full join of non-co-located tables
SELECT c.c_custkey, t.tag, t.seq FROM (SELECT * FROM customer WHERE c_custkey < 50) c FULL JOIN (SELECT * FROM tag_events WHERE custkey < 60 OR custkey > 600) t ON t.custkey = c.c_custkey;

-- outer: left join to a reference table with no match
SELECT t.tag, t.seq, n.n_name FROM tag_events t LEFT JOIN nation n ON n.n_nationkey = t.custkey WHERE t.tag = 'beta';

-- outer: reference table left join distributed table
SELECT r.r_name, n.n_name, count(s.s_suppkey) FROM region r LEFT JOIN nation n ON n.n_regionkey = r.r_regionkey LEFT JOIN supplier s ON s.s_nationkey = n.n_nationkey GROUP BY r.r_name, n.n_name;

-- outer: left join then aggregate of the nullable side
SELECT c.c_mktsegment, count(*), count(o.o_orderkey), sum(o.o_totalprice) FROM customer c LEFT JOIN orders o ON o.o_custkey = c.c_custkey GROUP BY c.c_mktsegment;

-- outer: left join with IS NULL on a column that is NULL in the data
SELECT s.id, o.o_orderkey FROM sparse s LEFT JOIN orders o ON o.o_orderkey = s.okey WHERE s.id < -500000000000;

-- outer: sparse left join orders, counting unmatched keys
SELECT count(*) FILTER (WHERE o.o_orderkey IS NULL), count(*) FILTER (WHERE s.okey IS NULL) FROM sparse s LEFT JOIN orders o ON o.o_orderkey = s.okey;

-- outer: right join of non-co-located tables
SELECT d.device_id, c.c_custkey FROM devices d RIGHT JOIN customer c ON c.c_custkey = d.owner WHERE c.c_custkey < 25;

-- outer: full join on the distribution column with NULL keys never matching
SELECT a.id, b.id FROM (SELECT id FROM sparse WHERE i4 IS NULL AND id > 0) a FULL JOIN (SELECT id FROM sparse WHERE i2 IS NULL AND id < 100000000000) b ON a.id = b.id;

-- outer: left join chain
SELECT c.c_custkey, o.o_orderkey, l.l_linenumber FROM customer c LEFT JOIN orders o ON o.o_custkey = c.c_custkey LEFT JOIN lineitem l ON l.l_orderkey = o.o_orderkey AND l.l_linenumber = 1 WHERE c.c_custkey < 20;

-- outer: left join with COALESCE of the nullable side
SELECT p.p_partkey, coalesce(sum(l.l_quantity), 0) FROM part p LEFT JOIN lineitem l ON l.l_partkey = p.p_partkey AND l.l_shipmode = 'FOB' GROUP BY p.p_partkey;

-- outer: left join with ORDER BY LIMIT on the nullable column
-- @ordered
SELECT c.c_custkey, o.o_orderkey FROM customer c LEFT JOIN orders o ON o.o_custkey = c.c_custkey ORDER BY o.o_orderkey NULLS FIRST, c.c_custkey LIMIT 15;

-- outer: full join of aggregates
SELECT coalesce(a.k, b.k) AS k, a.n, b.n FROM (SELECT o_custkey AS k, count(*) AS n FROM orders GROUP BY 1) a FULL JOIN (SELECT owner AS k, count(*) AS n FROM devices WHERE owner IS NOT NULL GROUP BY 1) b ON a.k = b.k;
