-- Common table expressions: inlined, materialized, referenced twice,
-- joined with distributed tables, and recursive.

-- cte: simple CTE over a distributed table
WITH big AS (SELECT o_orderkey, o_totalprice FROM orders WHERE o_totalprice > 250000)
SELECT count(*), sum(o_totalprice) FROM big;

-- cte: CTE grouped by the distribution column joined back co-located
WITH per AS (SELECT l_orderkey, sum(l_quantity) AS q FROM lineitem GROUP BY l_orderkey)
SELECT o.o_orderkey, per.q FROM orders o JOIN per ON per.l_orderkey = o.o_orderkey WHERE per.q > 220;

-- cte: CTE referenced twice
WITH c AS (SELECT o_custkey, count(*) AS n FROM orders GROUP BY o_custkey)
SELECT a.o_custkey, a.n FROM c a WHERE a.n = (SELECT max(n) FROM c);

-- cte: MATERIALIZED CTE
WITH m AS MATERIALIZED (SELECT c_custkey, c_nationkey FROM customer WHERE c_acctbal > 8000)
SELECT n.n_name, count(*) FROM m JOIN nation n ON n.n_nationkey = m.c_nationkey GROUP BY n.n_name;

-- cte: NOT MATERIALIZED CTE with a filter pushed in
WITH nm AS NOT MATERIALIZED (SELECT * FROM lineitem)
SELECT count(*) FROM nm WHERE l_orderkey = 33;

-- cte: chained CTEs
WITH a AS (SELECT o_custkey, sum(o_totalprice) AS s FROM orders GROUP BY o_custkey),
     b AS (SELECT c_custkey, c_mktsegment FROM customer),
     c AS (SELECT b.c_mktsegment, a.s FROM a JOIN b ON b.c_custkey = a.o_custkey)
SELECT c_mktsegment, count(*), max(s) FROM c GROUP BY c_mktsegment;

-- cte: CTE with ORDER BY LIMIT used in a join
WITH top AS (SELECT o_orderkey FROM orders ORDER BY o_totalprice DESC, o_orderkey LIMIT 20)
SELECT top.o_orderkey, count(*) FROM top JOIN lineitem l ON l.l_orderkey = top.o_orderkey GROUP BY top.o_orderkey;

-- cte: CTE joined with a non-co-located table
WITH d AS (SELECT owner, count(*) AS n FROM devices WHERE owner IS NOT NULL GROUP BY owner)
SELECT c.c_custkey, d.n FROM customer c JOIN d ON d.owner = c.c_custkey WHERE d.n > 2;

-- cte: recursive counting
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10)
SELECT n FROM r;

-- cte: recursive CTE joined with a distributed table
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 7)
SELECT r.n, count(l.l_orderkey) FROM r LEFT JOIN lineitem l ON l.l_linenumber = r.n GROUP BY r.n;

-- cte: recursive CTE over a distributed table (chains of order keys 32 apart)
WITH RECURSIVE chain(k, depth) AS (
    SELECT o_orderkey, 1 FROM orders WHERE o_orderkey IN (1, 2)
    UNION ALL
    SELECT o.o_orderkey, c.depth + 1 FROM chain c JOIN orders o ON o.o_orderkey = c.k + 32 WHERE c.depth < 20
)
SELECT k, depth FROM chain;

-- cte: recursive CTE over a reference table (nations of a region tree)
WITH RECURSIVE walk(nk, steps) AS (
    SELECT n_nationkey, 0 FROM nation WHERE n_nationkey = 0
    UNION
    SELECT n.n_nationkey, w.steps + 1 FROM walk w JOIN nation n ON n.n_nationkey = (w.nk * 7 + 3) % 25 WHERE w.steps < 30
)
SELECT nk, min(steps) FROM walk GROUP BY nk;

-- cte: recursive CTE with a distributed table in the recursive term (customers by custkey doubling)
WITH RECURSIVE d(k) AS (
    SELECT 1
    UNION ALL
    SELECT c.c_custkey FROM d JOIN customer c ON c.c_custkey = d.k * 2 + 1
)
SELECT k FROM d;

-- cte: CTE in a subquery
SELECT count(*) FROM (WITH x AS (SELECT l_orderkey FROM lineitem WHERE l_quantity = 1) SELECT DISTINCT l_orderkey FROM x) s;

-- cte: CTE used by a scalar subquery
WITH avgp AS (SELECT avg(p_retailprice) AS a FROM part)
SELECT p_partkey FROM part WHERE p_retailprice > (SELECT a * 1.15 FROM avgp);

-- cte: CTE with a window function
WITH ranked AS (SELECT o_custkey, o_orderkey, row_number() OVER (PARTITION BY o_custkey ORDER BY o_orderdate DESC, o_orderkey DESC) AS rn FROM orders)
SELECT o_custkey, o_orderkey FROM ranked WHERE rn = 1;

-- cte: CTE over the text-distributed table
WITH t AS (SELECT tag, count(*) AS n FROM tag_events GROUP BY tag)
SELECT tag, n FROM t WHERE n > 30;

-- cte: CTE with VALUES
WITH v(k, name) AS (VALUES (1, 'one'), (2, 'two'), (33, 'thirty-three'))
SELECT v.name, o.o_orderstatus FROM v JOIN orders o ON o.o_orderkey = v.k;
