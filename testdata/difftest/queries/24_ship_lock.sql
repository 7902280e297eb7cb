-- Subquery results shipped to the shards as constant arrays (a
-- non-co-located IN whose subquery is small), and SELECT ... FOR UPDATE /
-- FOR SHARE pushed to every shard.

-- ship: IN over a non-co-located table
SELECT count(*), sum(o_totalprice) FROM orders WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_mktsegment = 'BUILDING' AND c_acctbal > 9000);

-- ship: NOT IN over a non-co-located table with no NULLs
SELECT count(*) FROM orders WHERE o_custkey NOT IN (SELECT c_custkey FROM customer WHERE c_acctbal > 0);

-- ship: = ANY (SELECT ...) on text values
SELECT count(*) FROM customer WHERE c_mktsegment = ANY (SELECT DISTINCT c_mktsegment FROM customer WHERE c_custkey < 20);

-- ship: IN with NULLs in the subquery result
SELECT count(*) FROM sparse WHERE i4 IN (SELECT i4 FROM sparse WHERE id < 40);

-- ship: NOT IN with NULLs in the subquery result (no row qualifies)
-- @empty
SELECT id FROM sparse WHERE i4 NOT IN (SELECT i4 FROM sparse);

-- ship: two shipped subqueries, grouped outer query
-- @ordered
SELECT o_orderstatus, count(*) FROM orders WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_nationkey = 3) AND o_orderkey IN (SELECT l_orderkey FROM lineitem WHERE l_quantity > 49) GROUP BY o_orderstatus ORDER BY o_orderstatus;

-- ship: subquery on a uuid-distributed table
SELECT count(*) FROM customer WHERE c_custkey IN (SELECT owner FROM devices WHERE kind = 'sensor');

-- lock: FOR UPDATE across shards
SELECT o_orderkey, o_totalprice FROM orders WHERE o_orderkey < 200 AND o_totalprice > 1000 FOR UPDATE;

-- lock: FOR SHARE over a co-located join, ordered
-- @ordered
SELECT o.o_orderkey, l.l_linenumber FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE l.l_quantity > 49 ORDER BY 1, 2 FOR SHARE OF o;

-- lock: FOR NO KEY UPDATE SKIP LOCKED on a text-distributed table
SELECT tag, seq FROM tag_events WHERE amount > 50 FOR NO KEY UPDATE SKIP LOCKED;

-- ship: > ALL over a non-co-located table
SELECT count(*) FROM orders WHERE o_totalprice > ALL (SELECT c_acctbal * 30 FROM customer WHERE c_nationkey = 1);

-- ship: <> ALL with NULLs in the subquery result
SELECT count(*) FROM sparse WHERE i2 <> ALL (SELECT i2 FROM sparse WHERE id < 30);

-- ship: < ANY on dates
SELECT count(*) FROM orders WHERE o_orderdate < ANY (SELECT l_shipdate - 2000 FROM lineitem WHERE l_orderkey < 10);

-- ship: scalar subquery in the select list, no WHERE
SELECT s_suppkey, s_acctbal - (SELECT avg(c_acctbal) FROM customer) FROM supplier;

-- ship: scalar subquery in HAVING over a non-co-located table
SELECT o_custkey, count(*) FROM orders GROUP BY o_custkey HAVING count(*) > (SELECT count(*) / 100 FROM customer);
