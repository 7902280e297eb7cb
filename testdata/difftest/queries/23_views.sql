-- Views over distributed and reference tables (views_before.sql,
-- views.sql): pgfed expands them; simple ones are merged into the query
-- (pruning, co-located joins and pushdown see the tables), the others
-- stay subqueries.

-- views: created before distribution, full read
SELECT * FROM v_open_orders;

-- views: created before distribution, pruned by a list of keys
SELECT o_custkey, o_totalprice FROM v_open_orders WHERE o_orderkey IN (1, 2, 3, 4, 5, 6, 7, 32, 33, 34, 35, 36, 37, 38, 39);

-- views: aggregate over a merged view
SELECT count(*), sum(o_totalprice), min(o_orderdate) FROM v_open_orders;

-- views: GROUP BY and ORDER BY over a merged view
-- @ordered
SELECT o_custkey, count(*) FROM v_open_orders GROUP BY o_custkey ORDER BY count(*) DESC, o_custkey LIMIT 10;

-- views: column aliases of the view
-- @ordered
SELECT okey, line, qty FROM v_big_lines WHERE okey < 40 ORDER BY okey, line;

-- views: an alias with column aliases of its own
SELECT b.k, sum(b.q) FROM v_big_lines AS b(k, n, q) GROUP BY b.k HAVING sum(b.q) > 80;

-- views: nested view
SELECT * FROM v_big_open;

-- views: nested view with a pinned key
SELECT o_totalprice FROM v_big_open WHERE o_orderkey IN (1, 2, 3, 4, 5, 6, 7, 32, 33, 34, 35);

-- views: view over a co-located join
SELECT o_orderdate, sum(revenue) FROM v_order_lines WHERE o_orderdate < DATE '1993-01-01' GROUP BY o_orderdate;

-- views: view over a co-located join, one order
-- @ordered
SELECT l_linenumber, revenue FROM v_order_lines WHERE o_orderkey = 7 ORDER BY l_linenumber;

-- views: grouped view (a subquery), filtered and ordered
-- @ordered
SELECT o_custkey, orders, total FROM v_cust_totals WHERE orders > 15 ORDER BY total DESC, o_custkey LIMIT 5;

-- views: grouped view joined with a non-co-located table
SELECT c.c_mktsegment, sum(t.total) FROM v_cust_totals t JOIN customer c ON c.c_custkey = t.o_custkey GROUP BY c.c_mktsegment;

-- views: view over reference tables, alone
SELECT * FROM v_nation_region;

-- views: view over a distributed table and a view over reference tables
SELECT region, count(*) FROM v_supplier_nation GROUP BY region;

-- views: view joined with a distributed table it is co-located with
SELECT count(*) FROM v_big_lines b JOIN orders o ON o.o_orderkey = b.okey WHERE o.o_orderstatus = 'F';

-- views: two views joined
SELECT count(*), sum(b.qty) FROM v_big_lines b JOIN v_open_orders o ON o.o_orderkey = b.okey;

-- views: view in a subquery
SELECT count(*) FROM orders WHERE o_orderkey IN (SELECT okey FROM v_big_lines WHERE qty > 45);

-- views: view in a correlated EXISTS
SELECT count(*) FROM customer c WHERE EXISTS (SELECT 1 FROM v_open_orders v WHERE v.o_custkey = c.c_custkey);

-- views: view in a CTE
WITH big AS (SELECT okey, sum(price) AS p FROM v_big_lines GROUP BY okey) SELECT count(*), max(p) FROM big;

-- views: view with a sublink at its level (kept a subquery)
SELECT count(*) FROM v_open_orders WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_mktsegment = 'BUILDING');

-- views: whole-row reference to a view
SELECT count(v) FROM v_open_orders v WHERE v.o_totalprice > 200000;

-- views: NULL-heavy table through a view
SELECT count(*), count(txt), min(i4), max(i4) FROM v_sparse_nonnull;

-- views: view in UNION
SELECT o_orderkey FROM v_big_open UNION SELECT okey FROM v_big_lines WHERE qty > 49;

-- views: view with an outer join
SELECT count(*), count(b.okey) FROM orders o LEFT JOIN v_big_lines b ON b.okey = o.o_orderkey AND b.qty > 48;

-- views: empty answer through a view
-- @empty
SELECT * FROM v_open_orders WHERE o_orderkey = 9;
